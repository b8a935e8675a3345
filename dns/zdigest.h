/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental zone content digest: a Merkle tree of per-RRset hashes that a diff updates in
 * O(change * log n), so the hub and spokes agree on a zone's content without whole-zone work
 * per change (DESIGN.md §3). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "dns/diff.h"
#include "dns/zone.h"

/*
 * Construction, version 1 (part of the hub<->spoke protocol: an independent verifier must
 * reproduce it bit for bit). H is SHA-256; || is concatenation; integers are big-endian.
 *
 * RRset. The zone's RRsets as dns/zone.h defines them: one per (owner, type), except RRSIG,
 * which is one set per (owner, type covered) with its own TTL. A set with no RRs is absent.
 *
 * Canonical RR (RFC 4034 §6.2, as ZONEMD SIMPLE hashes it, RFC 8976 §3.3.1):
 *   lower(owner) || type(2) || class(2) || ttl(4) || rdlength(2) || canonical rdata
 * where lower() lowercases ASCII letters of the uncompressed wire name and canonical rdata
 * lowercases the embedded names of the types RFC 4034 §6.2 lists (fedns_rdata_canonical).
 * The TTL is the set's TTL.
 *
 * Leaf value of an RRset:
 *   V = H(0x00 || RR_1 || RR_2 || ... || RR_m)
 * with the set's canonical RRs ordered by canonical rdata as unsigned octet strings (a
 * string that is a prefix of another sorts first; RFC 4034 §6.3) and RRs whose canonical
 * forms are equal taken once. Every RRset of the zone is included, ZONEMD and RRSIG too.
 *
 * Position of an RRset:
 *   K = H(lower(owner) || type(2))                    for every type but RRSIG
 *   K = H(lower(owner) || 46(2) || type covered(2))   for RRSIG (covered = rdata's first 2
 *                                                      octets)
 * Bit i of K (0 <= i < 256) is bit (7 - i % 8) of octet i / 8: most significant first.
 *
 * Tree. For a set S of (K, V) pairs (all K distinct):
 *   T(S) = V                                  when S has one element
 *   T(S) = H(0x01 || T(S0) || T(S1))          when S has two or more, where b is the first
 *                                             bit index at which the K of S are not all
 *                                             equal, S0 the pairs with bit b of K clear and
 *                                             S1 those with it set
 * The root digest is T(all RRsets), or 32 zero octets for a zone without RRsets. This is a
 * crit-bit (PATRICIA) tree over K: its shape and so its root depend only on the SET of
 * RRsets, never on the order they were added or updated in. Depth is about log2(n) because
 * K is a hash: making a path deep takes partial SHA-256 collisions, so a zone editor cannot
 * degrade updates by choosing names. The 0x00/0x01 prefixes keep leaves and inner nodes
 * apart.
 *
 * Memory: one 68-byte node per RRset and one per inner node (n - 1), so 136 bytes per
 * RRset. Nodes come in chunks that start at 32 nodes and double up to 16,384 (1.1 MB), so
 * a tree holds at most twice the nodes it uses (at least 32) below 16,384 nodes and at
 * most one chunk more above; a tree that shrinks keeps its chunks (freed nodes are
 * reused). Leaf hashing keeps a scratch of two records of the widest RRset hashed so far
 * (1 KiB for ordinary zones, up to 128 KiB for 64 KiB records). A 5-RRset zone's digest
 * holds about 3.4 KB (it was 1.2 MB with fixed chunks).
 */

#define FEDNS_ZDIGEST_LEN 32

/* What the hub<->spoke protocol's Digest.alg says for this root (docs/protocol.md): a
 * number from RFC 8976's private-use range of ZONEMD hash algorithms (240-254), so it is
 * never taken for a SIMPLE SHA-384 (1) or SHA-512 (2) digest. */
#define FEDNS_ZDIGEST_ALG 240

typedef struct fedns_zdigest fedns_zdigest;

/* Builds the digest of a finished zone: O(n) for n RRsets (hash every set, bucket-sort the
 * positions; 128 more bytes per RRset while it runs), no reference to the zone is kept. FEDNS_EINVAL for a NULL or unfinished zone
 * (or one holding two sets at one position), FEDNS_ENOMEM. Free with fedns_zdigest_free. */
fedns_err fedns_zdigest_new(const fedns_zone *z, fedns_zdigest **out);
/* Frees the digest; accepts NULL. */
void fedns_zdigest_free(fedns_zdigest *zd);

/* Brings the digest from the zone 'diff' applies to, to 'z' = that zone after the diff
 * (the zone fedns_diff_apply built): every RRset an RR of the diff belongs to is rehashed
 * from z, or removed when z no longer has it. Cost is O(RRsets touched * (their size +
 * log n)), independent of the zone's size. Calling it again with the old zone and the same
 * diff undoes it. On failure (FEDNS_EINVAL for a NULL or unfinished zone, FEDNS_ENOMEM)
 * the digest is unchanged. Not thread-safe for one digest: callers serialise updates. */
fedns_err fedns_zdigest_update(fedns_zdigest *zd, const fedns_zone *z, const fedns_diff *diff);

/* Writes the root digest (FEDNS_ZDIGEST_LEN octets). Safe alongside other readers. */
void fedns_zdigest_root(const fedns_zdigest *zd, uint8_t out[FEDNS_ZDIGEST_LEN]);
/* Number of RRsets (leaves) in the digest. */
size_t fedns_zdigest_count(const fedns_zdigest *zd);
/* Bytes of memory the digest holds. */
size_t fedns_zdigest_memory(const fedns_zdigest *zd);

/* The root digest of a finished zone from scratch (fedns_zdigest_new, root, free: O(n)).
 * FEDNS_EINVAL, FEDNS_ENOMEM. */
fedns_err fedns_zdigest_compute(const fedns_zone *z, uint8_t out[FEDNS_ZDIGEST_LEN]);

/* A finished zone's digest by protocol algorithm: FEDNS_ZDIGEST_ALG (this file's root,
 * 32 octets, O(n) from scratch) or a ZONEMD SIMPLE hash algorithm (dns/zonemd.h: SHA-384
 * 48 octets, SHA-512 64). 'out' holds FEDNS_ZONEMD_MAXLEN octets. FEDNS_ENOTSUP for any
 * other algorithm, FEDNS_EINVAL, FEDNS_ENOMEM. */
fedns_err fedns_zone_digest(const fedns_zone *z, uint8_t alg, uint8_t *out, size_t *len);

/* The leaf value V of one RRset (see above), for verifiers and tests. FEDNS_ENOMEM. */
fedns_err fedns_zdigest_leaf(const fedns_rrset *set, uint8_t out[FEDNS_ZDIGEST_LEN]);
