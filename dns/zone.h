/* SPDX-License-Identifier: Apache-2.0 */
/* Zone model: an immutable set of RRsets in canonical order, built from staged RRs and
 * validated with errors that name the file, line and rule. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/rdata.h"

typedef struct fedns_zone fedns_zone;

/* One RRset as stored: 'rdata' points at 'count' packed entries, each a 2-byte
 * big-endian length followed by that many bytes of uncompressed wire rdata, sorted in
 * canonical rdata order without duplicates. Borrowed from the zone. */
typedef struct fedns_rrset {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint32_t count;
	const uint8_t *rdata;
} fedns_rrset;

/* Walks the rdatas of a set: 'pos' starts at set->rdata. */
static inline const uint8_t *
fedns_rrset_next_rdata(const uint8_t **pos, uint16_t *len)
{
	const uint8_t *p = *pos;
	*len = (uint16_t)((p[0] << 8) | p[1]);
	*pos = p + 2 + *len;
	return p + 2;
}

/* Limits applied while staging; 0 means the default. */
typedef struct fedns_zone_limits {
	size_t max_records; /* default 10,000,000 */
	size_t max_bytes;   /* total memory for names and rdata, default 4 GiB */
} fedns_zone_limits;

/* Creates an empty zone in building state for 'origin' (copied) and class. */
fedns_err fedns_zone_new(const uint8_t *origin, uint16_t rclass, const fedns_zone_limits *lim,
			 fedns_zone **out);
/* Frees the zone; accepts NULL. */
void fedns_zone_free(fedns_zone *z);

/* Registers a source file name for diagnostics; returns its id (0 is "no file"). */
uint16_t fedns_zone_add_source(fedns_zone *z, const char *file);

/* Stages one RR (owner and rdata are copied). 'file'/'line' locate it for diagnostics.
 * Only cheap checks happen here (class, meta types, caps: FEDNS_ETOOBIG); the zone rules
 * are checked by fedns_zone_finish. Building state only. */
fedns_err fedns_zone_add(fedns_zone *z, const fedns_rr *rr, uint16_t file, uint32_t line);

/* Sorts into canonical order, folds duplicate RRs, unifies TTLs within an RRset as BIND's
 * loader does (within a run of lines with one owner the first TTL wins, with a warning; a
 * later run that adds to the set brings its own TTL; RRSIGs are one set per covered type,
 * each with its own TTL), and checks the rules: SOA (exactly
 * one) and NS at the apex, no data outside the origin, CNAME alone at its name (RFC 1034
 * §3.6.2, RRSIG/NSEC allowed), one CNAME/DNAME per name, no DNAME at the apex's... (see
 * zone.c), TTL within RFC 2181 §8 (0..2^31-1), NS targets inside the zone must have an
 * address (as named-checkzone's integrity check). Every problem is passed to 'report'
 * (may be NULL) as a fedns_diag with code FEDNS_EZONE for errors and FEDNS_OK for warnings;
 * returns FEDNS_EZONE if any error was found. On success the zone is frozen (read-only,
 * safe to share between threads). On failure the zone stays unusable: free it. */
fedns_err fedns_zone_finish(fedns_zone *z, fedns_diag_fn report, void *ctx);

const uint8_t *fedns_zone_origin(const fedns_zone *z);
uint16_t fedns_zone_class(const fedns_zone *z);
/* SOA serial of a finished zone. */
uint32_t fedns_zone_serial(const fedns_zone *z);
/* The apex SOA of a finished zone as an RR (pointers borrowed from the zone). False for a
 * zone that is not finished. */
bool fedns_zone_soa(const fedns_zone *z, fedns_rr *out);
size_t fedns_zone_rrset_count(const fedns_zone *z);
size_t fedns_zone_rr_count(const fedns_zone *z);
/* Bytes of memory the zone holds (for benchmarks and caps). */
size_t fedns_zone_memory(const fedns_zone *z);

/* Exact lookup in a finished zone (owner compared case-insensitively). NULL if absent.
 * For RRSIG this is the first of the owner's RRSIG sets (one per covered type, adjacent). */
const fedns_rrset *fedns_zone_find(const fedns_zone *z, const uint8_t *owner, uint16_t type);
/* The owner's RRSIG set covering 'covered' in a finished zone, or NULL. (The owner's RRSIG
 * sets are adjacent, but in a shared zone only within one segment: walking them from
 * fedns_zone_find's result must not use the zone's RRset count as a bound.) */
const fedns_rrset *fedns_zone_find_rrsig(const fedns_zone *z, const uint8_t *owner,
					 uint16_t covered);
/* True when a finished zone holds this exact RR (owner, type, rdata). */
bool fedns_zone_contains(const fedns_zone *z, const fedns_rr *rr);

/* Iteration over a finished zone in canonical order (RRsets of one owner by type). */
typedef struct fedns_zone_iter {
	const fedns_zone *z;
	size_t pos;
} fedns_zone_iter;
void fedns_zone_iter_init(fedns_zone_iter *it, const fedns_zone *z);
/* Returns the next RRset or NULL at the end. */
const fedns_rrset *fedns_zone_iter_next(fedns_zone_iter *it);

/* Visits every RR of a finished zone in canonical order; stops when fn returns nonzero
 * and returns that value. */
typedef int (*fedns_zone_rr_fn)(void *ctx, const fedns_rr *rr);
int fedns_zone_walk(const fedns_zone *z, fedns_zone_rr_fn fn, void *ctx);

/* ---- copy-on-write versions (the hub's commit path) ----
 * A shared zone keeps its RRsets in immutable, refcounted segments (runs of RRsets in
 * canonical order, never splitting an owner), so a version derived from it by a diff
 * shares everything the diff does not touch and costs O(change + zone / 64). Reading a
 * shared zone is the same as reading any finished zone. */

/* Makes a finished zone shareable (a no-op when it is already). Call it before other
 * threads use z. FEDNS_EINVAL for an unfinished zone, FEDNS_ENOMEM (z unchanged). */
fedns_err fedns_zone_share(fedns_zone *z);

/* Builds base - del + add (the IXFR-shaped diff of dns/diff.h: del[0] the old SOA, add[0]
 * the new one) as a new shared zone that shares what the diff leaves alone with 'base'
 * (which must be shared; it is not changed and may be freed before or after *out).
 * FEDNS_ENOTSUP when it cannot decide cheaply that the result is valid: anything
 * fedns_diff_apply would refuse, and diffs that touch NS, DNAME, RRSIG, a DS or CNAME at
 * the apex, CNAME beside other data, or an apex NS target; then fedns_diff_apply decides
 * and words any refusal. When it succeeds, the result holds exactly the RRsets
 * fedns_diff_apply would build (owner spelling, TTLs, rdata order). FEDNS_ENOMEM.
 * Thread-safe for a base no one is modifying. */
fedns_err fedns_zone_derive(const fedns_zone *base, const fedns_rr *del, size_t ndel,
			    const fedns_rr *add, size_t nadd, fedns_zone **out);

/* fedns_zone_print (dns/zonefile.h), the same bytes, for a shared zone from per-segment
 * text made once (by the first version that prints the segment) and shared by the versions
 * that share the segment: printing a version costs what its own segments cost to print.
 * Thread-safe. */
fedns_err fedns_zone_print_shared(const fedns_zone *z, fedns_buf *out);

/* fedns_zonemd_compute (dns/zonemd.h) with caching for a shared zone and SHA-384: each
 * segment keeps its canonical form, so a zone derived from one whose digest was computed
 * encodes only the segments its diff rebuilt. It still hashes the whole stream (the apex
 * SOA comes first and changes with every version). Same value as fedns_zonemd_compute.
 * Remembers the digest in z: call it while no other thread uses z (before sharing it). */
fedns_err fedns_zone_zonemd(fedns_zone *z, uint8_t alg, uint8_t *out, size_t *outlen);
