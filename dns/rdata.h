/* SPDX-License-Identifier: Apache-2.0 */
/* RR types, classes and typed rdata: presentation <-> wire, message in/out, canonical form. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/wire.h"

enum {
	FEDNS_T_A = 1,
	FEDNS_T_NS = 2,
	FEDNS_T_CNAME = 5,
	FEDNS_T_SOA = 6,
	FEDNS_T_PTR = 12,
	FEDNS_T_HINFO = 13,
	FEDNS_T_MX = 15,
	FEDNS_T_TXT = 16,
	FEDNS_T_AAAA = 28,
	FEDNS_T_SRV = 33,
	FEDNS_T_DNAME = 39,
	FEDNS_T_OPT = 41,
	FEDNS_T_DS = 43,
	FEDNS_T_RRSIG = 46,
	FEDNS_T_NSEC = 47,
	FEDNS_T_DNSKEY = 48,
	FEDNS_T_NSEC3 = 50,
	FEDNS_T_NSEC3PARAM = 51,
	FEDNS_T_TLSA = 52,
	FEDNS_T_ZONEMD = 63,
	FEDNS_T_SVCB = 64,
	FEDNS_T_HTTPS = 65,
	FEDNS_T_TSIG = 250,
	FEDNS_T_IXFR = 251,
	FEDNS_T_AXFR = 252,
	FEDNS_T_ANY = 255,
	FEDNS_T_CAA = 257,
};

enum {
	FEDNS_C_IN = 1,
	FEDNS_C_CH = 3,
	FEDNS_C_HS = 4,
	FEDNS_C_NONE = 254,
	FEDNS_C_ANY = 255,
};

/* Largest rdata (RFC 1035: RDLENGTH is 16 bits). */
#define FEDNS_RDATA_MAXLEN 65535

/* One resource record. All pointers are borrowed from whoever holds the storage (a
 * zone version, a message arena). 'rdata' is the uncompressed wire form, names inside
 * it case-preserved. */
typedef struct fedns_rr {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
} fedns_rr;

/* Mnemonic ("A", "TYPE65280") into buf (at least 16 bytes); returns buf. */
const char *fedns_rrtype_to_text(uint16_t type, char buf[16]);
/* Accepts mnemonics case-insensitively and TYPEnnn. FEDNS_ESYNTAX if unknown. */
fedns_err fedns_rrtype_from_text(const char *s, size_t len, uint16_t *out);
const char *fedns_class_to_text(uint16_t rclass, char buf[16]);
/* IN, CH, HS, NONE, ANY and CLASSnnn. */
fedns_err fedns_class_from_text(const char *s, size_t len, uint16_t *out);
/* Meta and question-only types (OPT, TSIG, IXFR, AXFR, ANY, ...) cannot appear in zones. */
bool fedns_rrtype_is_meta(uint16_t type);

/* One presentation token of rdata as split by the master-file lexer: the raw text
 * (escapes not yet decoded); 'quoted' when it came from a "..." string (s excludes
 * the quotes). */
typedef struct fedns_token {
	const char *s;
	uint32_t len;
	bool quoted;
} fedns_token;

/* Parses rdata presentation tokens for 'type' (RFC 3597 "\# len hex" accepted for any
 * type, and required for types without a known format). Names inside are made absolute
 * with 'origin'. Writes the wire rdata to out (cap bytes). On failure returns
 * FEDNS_ESYNTAX/FEDNS_ETOOBIG with a message in d naming the field and the bad text
 * (e.g. 'MX preference "x" is not a number'). Thread-safe. */
fedns_err fedns_rdata_from_text(uint16_t type, const fedns_token *tok, size_t ntok,
				const uint8_t *origin, uint8_t *out, size_t cap, size_t *outlen,
				fedns_diag *d);

/* Appends the presentation form of wire rdata (as BIND prints it in a master file;
 * RFC 3597 form for unknown types). FEDNS_EMALFORMED if rdata is not valid for type. */
fedns_err fedns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen, fedns_buf *out);

/* Checks that rd[0..rdlen) is well-formed for 'type' (names valid and uncompressed,
 * fixed sizes right, strings in bounds, nothing trailing). FEDNS_EMALFORMED if not. */
fedns_err fedns_rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen);

/* Reads 'rdlen' bytes of rdata at the message cursor, decompressing embedded names for
 * types that may be compressed (RFC 3597 §4: NS, CNAME, SOA, PTR, MX, ...; others must
 * not be), validating the structure. Writes the uncompressed rdata to out. On failure
 * w->err is set. */
fedns_err fedns_rdata_unpack(uint16_t type, fedns_wire *w, size_t rdlen, uint8_t *out, size_t cap,
			     size_t *outlen);

/* Canonical form (RFC 4034 §6.2): copy with names in the listed types lowercased.
 * out must hold rdlen bytes. */
void fedns_rdata_canonical(uint16_t type, const uint8_t *rd, size_t rdlen, uint8_t *out);
/* Canonical order of two rdatas of the same type (RFC 4034 §6.3). */
int fedns_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Names inside rdata, for compression on write and for zone checks: calls fn for each
 * embedded name with its offset in rd, and whether it may be compressed. Returns the
 * number of names. */
typedef void (*fedns_rdata_name_fn)(void *ctx, size_t off, bool compressible);
size_t fedns_rdata_names(uint16_t type, const uint8_t *rd, size_t rdlen, fedns_rdata_name_fn fn,
			 void *ctx);

/* SOA field access on valid SOA rdata. */
uint32_t fedns_soa_serial(const uint8_t *rd, size_t rdlen);
void fedns_soa_set_serial(uint8_t *rd, size_t rdlen, uint32_t serial);
uint32_t fedns_soa_minimum(const uint8_t *rd, size_t rdlen);

/* TTL presentation: a number or units (1w2d3h4m5s, case-insensitive), per BIND.
 * FEDNS_ESYNTAX / FEDNS_ERANGE (above 2^32-1) with a message in d. */
fedns_err fedns_ttl_from_text(const char *s, size_t len, uint32_t *out, fedns_diag *d);
