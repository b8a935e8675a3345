/* SPDX-License-Identifier: Apache-2.0 */
/* ZONEMD (RFC 8976): the SIMPLE scheme digest of a zone, SHA-384 or SHA-512. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "common/err.h"
#include "common/sha2.h"
#include "dns/zone.h"

#define FEDNS_ZONEMD_SCHEME_SIMPLE 1
#define FEDNS_ZONEMD_SHA384 1
#define FEDNS_ZONEMD_SHA512 2
#define FEDNS_ZONEMD_MAXLEN 64

/* Computes the SIMPLE digest of a finished zone: every RR in canonical order with
 * owner names lowercased and canonical rdata (RFC 4034 §6.2), excluding the apex ZONEMD
 * RRset and apex RRSIGs covering ZONEMD (RFC 8976 §3.3.1). Writes 48 or 64 bytes to out
 * and the length to *outlen. FEDNS_ENOTSUP for an unknown algorithm. Thread-safe. */
fedns_err fedns_zonemd_compute(const fedns_zone *z, uint8_t alg, uint8_t *out, size_t *outlen);

/* Builds ZONEMD rdata (serial, scheme SIMPLE, alg, digest) into out (6 + digest bytes). */
size_t fedns_zonemd_rdata(uint32_t serial, uint8_t alg, const uint8_t *digest, size_t dlen,
			  uint8_t *out);

/* Verifies the zone's own apex ZONEMD RRs (any one with SIMPLE and a supported algorithm
 * and the SOA serial must match). FEDNS_ENOENT when it has none, FEDNS_EAUTH on mismatch. */
fedns_err fedns_zonemd_verify(const fedns_zone *z);

/* Scratch memory fedns_zonemd_hash_rrset needs: two whole records. */
#define FEDNS_ZONEMD_RR_FIXED 10 /* type, class, TTL, rdlength after the owner */
#define FEDNS_ZONEMD_RR_MAX (FEDNS_NAME_MAXLEN + FEDNS_ZONEMD_RR_FIXED + FEDNS_RDATA_MAXLEN)
#define FEDNS_ZONEMD_SCRATCH (2 * (size_t)FEDNS_ZONEMD_RR_MAX)

/* Feeds one RRset to h in the form ZONEMD hashes RRs (RFC 8976 §3.3.1.1): lowercased
 * owner, type, class, TTL, rdlength and canonical rdata (RFC 4034 §6.2) per RR, in the
 * set's canonical order, RRs equal in canonical form once. With 'apex', RRSIGs covering
 * ZONEMD are left out. The incremental digest (dns/zdigest.h) hashes RRsets the same way.
 * 'scratch' holds FEDNS_ZONEMD_SCRATCH bytes. */
void fedns_zonemd_hash_rrset(fedns_hash *h, const fedns_rrset *set, bool apex, uint8_t *scratch);
/* The same with a scratch sized to the set: two records of 'stride' bytes, stride at least
 * the owner's length + FEDNS_ZONEMD_RR_FIXED + the set's longest rdata. */
void fedns_zonemd_hash_rrset_stride(fedns_hash *h, const fedns_rrset *set, bool apex,
				    uint8_t *scratch, size_t stride);
/* The bytes fedns_zonemd_hash_rrset would hash for 'set', written to out (cap bytes, NULL
 * with cap 0 to measure). Returns their length; when it exceeds cap, out holds only the
 * records that fit whole. For callers that cache a zone's canonical form (dns/zone.h's
 * fedns_zone_zonemd). 'scratch' as above. */
size_t fedns_zonemd_rrset_wire(const fedns_rrset *set, bool apex, uint8_t *scratch, uint8_t *out,
			       size_t cap);
