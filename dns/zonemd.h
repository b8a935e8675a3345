/* SPDX-License-Identifier: Apache-2.0 */
/* ZONEMD (RFC 8976): the SIMPLE scheme digest of a zone, SHA-384 or SHA-512. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
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
