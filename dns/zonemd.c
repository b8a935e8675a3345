/* SPDX-License-Identifier: Apache-2.0 */
/* ZONEMD SIMPLE scheme (RFC 8976 §3.3): one hash over every RR of the zone in canonical form. */
#include "dns/zonemd.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha2.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* Owner, type/class/TTL/RDLENGTH and rdata of one RR, laid out as hashed. */
#define RR_FIXED FEDNS_ZONEMD_RR_FIXED

static bool
hash_alg_of(uint8_t alg, fedns_hash_alg *out)
{
	switch (alg) {
	case FEDNS_ZONEMD_SHA384:
		*out = FEDNS_HASH_SHA384;
		return true;
	case FEDNS_ZONEMD_SHA512:
		*out = FEDNS_HASH_SHA512;
		return true;
	default:
		return false;
	}
}

/* Emits one RRset's records in ZONEMD form to 'sink'. Two scratch records alternate so
 * each RR's canonical rdata can be compared with the previous one: RRs that differ only in
 * the case of embedded names are one RR in canonical form and must be emitted once (RFC
 * 8976 §3.3.1.1). */
typedef void (*rr_sink)(void *ctx, const uint8_t *rec, size_t len);

static void
emit_rrset(const fedns_rrset *set, bool apex, uint8_t *scratch, size_t stride, rr_sink sink,
	   void *ctx)
{
	uint8_t *cur = scratch, *prev = scratch + stride;
	size_t olen = fedns_name_len(set->owner);
	size_t prevlen = 0;
	bool have_prev = false;
	const uint8_t *pos = set->rdata;

	for (int k = 0; k < 2; k++) {
		uint8_t *rec = k ? prev : cur;
		memcpy(rec, set->owner, olen);
		fedns_name_tolower(rec);
		fedns_put_u16(rec + olen, set->type);
		fedns_put_u16(rec + olen + 2, set->rclass);
		fedns_put_u32(rec + olen + 4, set->ttl);
	}

	for (uint32_t i = 0; i < set->count; i++) {
		uint16_t rdlen;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &rdlen);

		/* RFC 8976 §3.3.1.1: the apex RRSIG covering ZONEMD is left out with the ZONEMD
		 * RRset it signs; RRSIGs over other types at the apex stay in. */
		if (apex && set->type == FEDNS_T_RRSIG && rdlen >= 2 &&
		    fedns_get_u16(rd) == FEDNS_T_ZONEMD)
			continue;

		fedns_put_u16(cur + olen + 8, rdlen);
		fedns_rdata_canonical(set->type, rd, rdlen, cur + olen + RR_FIXED);
		if (have_prev && prevlen == rdlen &&
		    memcmp(prev + olen + RR_FIXED, cur + olen + RR_FIXED, rdlen) == 0)
			continue;
		sink(ctx, cur, olen + RR_FIXED + rdlen);

		uint8_t *t = cur;
		cur = prev;
		prev = t;
		prevlen = rdlen;
		have_prev = true;
	}
}

static void
hash_sink(void *ctx, const uint8_t *rec, size_t len)
{
	fedns_hash_update(ctx, rec, len);
}

void
fedns_zonemd_hash_rrset(fedns_hash *h, const fedns_rrset *set, bool apex, uint8_t *scratch)
{
	emit_rrset(set, apex, scratch, FEDNS_ZONEMD_RR_MAX, hash_sink, h);
}

void
fedns_zonemd_hash_rrset_stride(fedns_hash *h, const fedns_rrset *set, bool apex, uint8_t *scratch,
			       size_t stride)
{
	emit_rrset(set, apex, scratch, stride, hash_sink, h);
}

typedef struct wire_sink {
	uint8_t *out;
	size_t cap, len;
} wire_sink;

static void
copy_sink(void *ctx, const uint8_t *rec, size_t len)
{
	wire_sink *w = ctx;
	if (w->len <= w->cap && w->cap - w->len >= len)
		memcpy(w->out + w->len, rec, len);
	w->len += len;
}

size_t
fedns_zonemd_rrset_wire(const fedns_rrset *set, bool apex, uint8_t *scratch, uint8_t *out,
			size_t cap)
{
	wire_sink w = {.out = out, .cap = cap, .len = 0};
	emit_rrset(set, apex, scratch, FEDNS_ZONEMD_RR_MAX, copy_sink, &w);
	return w.len;
}

fedns_err
fedns_zonemd_compute(const fedns_zone *z, uint8_t alg, uint8_t *out, size_t *outlen)
{
	fedns_hash_alg halg;
	fedns_hash h;
	fedns_zone_iter it;
	const fedns_rrset *set;
	const uint8_t *origin;

	if (z == NULL || out == NULL || outlen == NULL)
		return FEDNS_EINVAL;
	if (!hash_alg_of(alg, &halg))
		return FEDNS_ENOTSUP;

	uint8_t *scratch = malloc(FEDNS_ZONEMD_SCRATCH);
	if (scratch == NULL)
		return FEDNS_ENOMEM;

	origin = fedns_zone_origin(z);
	fedns_hash_init(&h, halg);
	fedns_zone_iter_init(&it, z);
	while ((set = fedns_zone_iter_next(&it)) != NULL) {
		bool apex = fedns_name_equal(set->owner, origin);
		/* The apex ZONEMD RRset is the digest's own container (RFC 8976 §3.3.1.1);
		 * ZONEMD below the apex is ordinary data. */
		if (apex && set->type == FEDNS_T_ZONEMD)
			continue;
		fedns_zonemd_hash_rrset(&h, set, apex, scratch);
	}
	fedns_hash_final(&h, out);
	*outlen = fedns_hash_len(halg);
	free(scratch);
	return FEDNS_OK;
}

size_t
fedns_zonemd_rdata(uint32_t serial, uint8_t alg, const uint8_t *digest, size_t dlen, uint8_t *out)
{
	fedns_put_u32(out, serial);
	out[4] = FEDNS_ZONEMD_SCHEME_SIMPLE;
	out[5] = alg;
	if (dlen)
		memcpy(out + 6, digest, dlen);
	return 6 + dlen;
}

fedns_err
fedns_zonemd_verify(const fedns_zone *z)
{
	const fedns_rrset *set;
	const uint8_t *pos;
	uint8_t digest[2][FEDNS_ZONEMD_MAXLEN];
	size_t dlen[2] = {0, 0};
	bool computed[2] = {false, false};
	unsigned seen[2] = {0, 0};
	bool usable = false, matched[2] = {false, false};
	uint32_t serial;

	if (z == NULL)
		return FEDNS_EINVAL;
	set = fedns_zone_find(z, fedns_zone_origin(z), FEDNS_T_ZONEMD);
	if (set == NULL || set->count == 0)
		return FEDNS_ENOENT;
	serial = fedns_zone_serial(z);

	pos = set->rdata;
	for (uint32_t i = 0; i < set->count; i++) {
		uint16_t rdlen;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &rdlen);
		fedns_hash_alg halg;

		/* RFC 8976 §4: records with an unknown scheme or algorithm are skipped;
		 * a supported one must have the digest length of its algorithm. */
		if (rdlen < 6 || rd[4] != FEDNS_ZONEMD_SCHEME_SIMPLE || !hash_alg_of(rd[5], &halg))
			continue;
		usable = true;
		int slot = rd[5] == FEDNS_ZONEMD_SHA384 ? 0 : 1;
		seen[slot]++;
		if (fedns_get_u32(rd) != serial || (size_t)rdlen - 6 != fedns_hash_len(halg))
			continue;
		if (!computed[slot]) {
			fedns_err err = fedns_zonemd_compute(z, rd[5], digest[slot], &dlen[slot]);
			if (err != FEDNS_OK)
				return err;
			computed[slot] = true;
		}
		if (fedns_ct_memcmp(digest[slot], rd + 6, dlen[slot]) == 0)
			matched[slot] = true;
	}
	if (!usable)
		return FEDNS_ENOTSUP;
	/* RFC 8976 §4 step 4: two records with the same scheme and algorithm make the
	 * pair unusable; a digest that verifies must come from an unambiguous record. */
	for (int s = 0; s < 2; s++)
		if (matched[s] && seen[s] == 1)
			return FEDNS_OK;
	return FEDNS_EAUTH;
}
