/* SPDX-License-Identifier: Apache-2.0 */
/* Zone diffs: computed by a merge walk over two canonical zones, applied all or nothing. */
#include "dns/diff.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

#define DIFF_ARENA_CHUNK (64u * 1024u)

void
fedns_diff_init(fedns_diff *d)
{
	memset(d, 0, sizeof(*d));
	fedns_arena_init(&d->arena, DIFF_ARENA_CHUNK, 0);
}

void
fedns_diff_fini(fedns_diff *d)
{
	if (d == NULL)
		return;
	fedns_arena_fini(&d->arena);
	free(d->del);
	free(d->add);
	memset(d, 0, sizeof(*d));
}

/* Copies rr's owner and rdata into the diff's arena and appends it to *arr. */
static fedns_err
push(fedns_diff *d, fedns_rr **arr, size_t *n, size_t *cap, const fedns_rr *rr)
{
	if (rr == NULL || rr->owner == NULL || (rr->rdlen && rr->rdata == NULL))
		return FEDNS_EINVAL;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(fedns_rr))
			return FEDNS_ENOMEM;
		fedns_rr *na = realloc(*arr, ncap * sizeof(fedns_rr));
		if (na == NULL)
			return FEDNS_ENOMEM;
		*arr = na;
		*cap = ncap;
	}
	fedns_rr c = *rr;
	c.owner = fedns_arena_memdup(&d->arena, rr->owner, fedns_name_len(rr->owner));
	if (c.owner == NULL)
		return FEDNS_ENOMEM;
	if (rr->rdlen) {
		c.rdata = fedns_arena_memdup(&d->arena, rr->rdata, rr->rdlen);
		if (c.rdata == NULL)
			return FEDNS_ENOMEM;
	} else {
		c.rdata = (const uint8_t *)"";
	}
	(*arr)[(*n)++] = c;
	return FEDNS_OK;
}

fedns_err
fedns_diff_del(fedns_diff *d, const fedns_rr *rr)
{
	return push(d, &d->del, &d->ndel, &d->cap_del, rr);
}

fedns_err
fedns_diff_add(fedns_diff *d, const fedns_rr *rr)
{
	return push(d, &d->add, &d->nadd, &d->cap_add, rr);
}

/* Canonical RR order (RFC 4034 §6): owner, type, rdata. Class and TTL do not take part:
 * a diff names records by owner, type and rdata. */
static int
rr_cmp(const fedns_rr *a, const fedns_rr *b)
{
	int c = fedns_name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return fedns_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static int
rrset_cmp(const fedns_rrset *a, const fedns_rrset *b)
{
	int c = fedns_name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->type == FEDNS_T_RRSIG && a->count > 0 && b->count > 0) {
		/* one set per covered type (zone.h): the type covered is rdata's first field */
		uint16_t ca = fedns_get_u16(a->rdata + 2), cb = fedns_get_u16(b->rdata + 2);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

static fedns_rr
rr_of(const fedns_rrset *set, const uint8_t *rd, uint16_t rdlen)
{
	fedns_rr rr = {
		.owner = set->owner,
		.type = set->type,
		.rclass = set->rclass,
		.ttl = set->ttl,
		.rdlen = rdlen,
		.rdata = rd,
	};
	return rr;
}

static fedns_err
push_rrset(fedns_diff *d, const fedns_rrset *set, bool del)
{
	const uint8_t *pos = set->rdata;
	for (uint32_t i = 0; i < set->count; i++) {
		uint16_t len;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
		fedns_rr rr = rr_of(set, rd, len);
		fedns_err err = del ? fedns_diff_del(d, &rr) : fedns_diff_add(d, &rr);
		if (err != FEDNS_OK)
			return err;
	}
	return FEDNS_OK;
}

/* Both RRsets have the same owner and type: a TTL change replaces the whole set (an RRset
 * has one TTL), otherwise a merge over the canonically sorted rdatas. */
static fedns_err
diff_rrsets(fedns_diff *d, const fedns_rrset *a, const fedns_rrset *b)
{
	fedns_err err;
	if (a->ttl != b->ttl) {
		if ((err = push_rrset(d, a, true)) != FEDNS_OK)
			return err;
		return push_rrset(d, b, false);
	}
	const uint8_t *pa = a->rdata, *pb = b->rdata;
	uint32_t ia = 0, ib = 0;
	uint16_t la = 0, lb = 0;
	const uint8_t *ra = NULL, *rb = NULL;
	if (ia < a->count)
		ra = fedns_rrset_next_rdata(&pa, &la);
	if (ib < b->count)
		rb = fedns_rrset_next_rdata(&pb, &lb);
	while (ia < a->count || ib < b->count) {
		int c;
		if (ia == a->count)
			c = 1;
		else if (ib == b->count)
			c = -1;
		else
			c = fedns_rdata_cmp(a->type, ra, la, rb, lb);
		if (c < 0) {
			fedns_rr rr = rr_of(a, ra, la);
			if ((err = fedns_diff_del(d, &rr)) != FEDNS_OK)
				return err;
		} else if (c > 0) {
			fedns_rr rr = rr_of(b, rb, lb);
			if ((err = fedns_diff_add(d, &rr)) != FEDNS_OK)
				return err;
		}
		if (c <= 0 && ++ia < a->count)
			ra = fedns_rrset_next_rdata(&pa, &la);
		if (c >= 0 && ++ib < b->count)
			rb = fedns_rrset_next_rdata(&pb, &lb);
	}
	return FEDNS_OK;
}

static fedns_err
diff_walk(const fedns_zone *from, const fedns_zone *to, fedns_diff *out)
{
	const fedns_rrset *soa_from, *soa_to, *a, *b;
	fedns_zone_iter ia, ib;
	fedns_err err;

	soa_from = fedns_zone_find(from, fedns_zone_origin(from), FEDNS_T_SOA);
	soa_to = fedns_zone_find(to, fedns_zone_origin(to), FEDNS_T_SOA);
	if (soa_from == NULL || soa_to == NULL || soa_from->count != 1 || soa_to->count != 1)
		return FEDNS_EINVAL;
	/* IXFR shape (RFC 1995 §4): the old SOA opens the deletions, the new one the
	 * additions, even when the two are equal. */
	if ((err = push_rrset(out, soa_from, true)) != FEDNS_OK)
		return err;
	if ((err = push_rrset(out, soa_to, false)) != FEDNS_OK)
		return err;

	fedns_zone_iter_init(&ia, from);
	fedns_zone_iter_init(&ib, to);
	a = fedns_zone_iter_next(&ia);
	b = fedns_zone_iter_next(&ib);
	while (a != NULL || b != NULL) {
		/* one SOA per zone, at the apex: already emitted above */
		if (a != NULL && a->type == FEDNS_T_SOA) {
			a = fedns_zone_iter_next(&ia);
			continue;
		}
		if (b != NULL && b->type == FEDNS_T_SOA) {
			b = fedns_zone_iter_next(&ib);
			continue;
		}
		int c = a == NULL ? 1 : b == NULL ? -1 : rrset_cmp(a, b);
		if (c < 0)
			err = push_rrset(out, a, true);
		else if (c > 0)
			err = push_rrset(out, b, false);
		else
			err = diff_rrsets(out, a, b);
		if (err != FEDNS_OK)
			return err;
		if (c <= 0)
			a = fedns_zone_iter_next(&ia);
		if (c >= 0)
			b = fedns_zone_iter_next(&ib);
	}
	return FEDNS_OK;
}

fedns_err
fedns_diff_compute(const fedns_zone *from, const fedns_zone *to, fedns_diff *out)
{
	if (out == NULL)
		return FEDNS_EINVAL;
	/* 'out' is output storage: whatever it held is not ours to free. */
	fedns_diff_init(out);
	if (from == NULL || to == NULL)
		return FEDNS_EINVAL;
	if (!fedns_name_equal(fedns_zone_origin(from), fedns_zone_origin(to)) ||
	    fedns_zone_class(from) != fedns_zone_class(to))
		return FEDNS_EINVAL;
	fedns_err err = diff_walk(from, to, out);
	if (err != FEDNS_OK) {
		fedns_diff_fini(out);
		fedns_diff_init(out);
	}
	return err;
}

/* ---- apply ---- */

/* Presentation form of rr for messages ("www.example. 300 IN A 192.0.2.1"). */
static const char *
rr_text(const fedns_rr *rr, char *out, size_t outsz)
{
	fedns_buf b;
	fedns_buf_init(&b, 4096);
	if (fedns_rr_print(rr, &b) == FEDNS_OK && b.len > 0) {
		size_t n = b.len;
		while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == ' '))
			n--;
		if (n >= outsz)
			n = outsz - 1;
		/* one line for a message: the printer's tab separators become spaces */
		for (size_t i = 0; i < n; i++)
			out[i] = b.data[i] == '\t' ? ' ' : (char)b.data[i];
		out[n] = '\0';
	} else {
		char tbuf[16];
		char name[FEDNS_NAME_MAXTEXT];
		if (fedns_name_to_text(rr->owner, name, sizeof(name)) == 0)
			strcpy(name, "?");
		snprintf(out, outsz, "%s %s (%u bytes of rdata)", name,
			 fedns_rrtype_to_text(rr->type, tbuf), (unsigned)rr->rdlen);
	}
	fedns_buf_fini(&b);
	return out;
}

static fedns_err
record_error(fedns_diag *d, fedns_err code, const char *what, const fedns_rr *rr, const char *why)
{
	char text[FEDNS_DIAG_MSG_MAX];
	return fedns_diag_set(d, code, "%s '%s': %s", what, rr_text(rr, text, sizeof(text)), why);
}

/* qsort has no context argument; indices are sorted through this thread-local. */
static _Thread_local const fedns_rr *sort_base;

static int
idx_cmp(const void *x, const void *y)
{
	const fedns_rr *a = &sort_base[*(const size_t *)x];
	const fedns_rr *b = &sort_base[*(const size_t *)y];
	int c = rr_cmp(a, b);
	if (c != 0)
		return c;
	/* keep the order stable so a duplicate is reported at its second occurrence */
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* Sorted indices of rrs[first..n). NULL on allocation failure (n > first). */
static size_t *
sorted_index(const fedns_rr *rrs, size_t first, size_t n)
{
	size_t k = n - first;
	size_t *idx = malloc((k ? k : 1) * sizeof(size_t));
	if (idx == NULL)
		return NULL;
	for (size_t i = 0; i < k; i++)
		idx[i] = first + i;
	sort_base = rrs;
	qsort(idx, k, sizeof(size_t), idx_cmp);
	sort_base = NULL;
	return idx;
}

static bool
in_sorted(const fedns_rr *rrs, const size_t *idx, size_t k, const fedns_rr *rr)
{
	size_t lo = 0, hi = k;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rr_cmp(&rrs[idx[mid]], rr);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

typedef struct build_ctx {
	fedns_zone *nz;
	const fedns_rr *del;
	const size_t *didx;
	size_t ndel; /* entries in didx */
	size_t j;    /* merge cursor into didx */
	size_t skipped;
	fedns_err err;
} build_ctx;

/* Copies every base RR except the deleted ones. Base is walked in canonical order and the
 * deletions are sorted the same way, so one cursor suffices (O(n + k)). */
static int
copy_rr(void *vctx, const fedns_rr *rr)
{
	build_ctx *b = vctx;
	/* A zone has one SOA, at the apex: the diff's old SOA, already replaced. */
	if (rr->type == FEDNS_T_SOA)
		return 0;
	while (b->j < b->ndel) {
		int c = rr_cmp(&b->del[b->didx[b->j]], rr);
		if (c > 0)
			break;
		b->j++;
		if (c == 0) {
			b->skipped++;
			/* duplicates were refused, but be safe */
			while (b->j < b->ndel && rr_cmp(&b->del[b->didx[b->j]], rr) == 0)
				b->j++;
			return 0;
		}
	}
	b->err = fedns_zone_add(b->nz, rr, 0, 0);
	return b->err != FEDNS_OK;
}

typedef struct finish_ctx {
	fedns_diag *d;
} finish_ctx;

static int
finish_report(void *vctx, const fedns_diag *rep)
{
	finish_ctx *f = vctx;
	if (rep->code != FEDNS_OK && f->d != NULL && f->d->code == FEDNS_OK) {
		char msg[FEDNS_DIAG_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", rep->msg);
		fedns_diag_set(f->d, FEDNS_EZONE, "the result breaks a zone rule: %s", msg);
	}
	return 0;
}

static fedns_err
check_shape(const fedns_zone *base, const fedns_diff *diff, fedns_diag *d)
{
	const uint8_t *origin = fedns_zone_origin(base);
	const fedns_rr *old = &diff->del[0], *nsoa = &diff->add[0];

	if (diff->ndel == 0 || diff->nadd == 0)
		return fedns_diag_set(
			d, FEDNS_EINVAL,
			"diff must start with the old SOA in its deletions and the new "
			"SOA in its additions");
	if (old->type != FEDNS_T_SOA || !fedns_name_equal(old->owner, origin))
		return record_error(d, FEDNS_EINVAL, "first deletion", old,
				    "must be the zone's old SOA");
	if (nsoa->type != FEDNS_T_SOA || !fedns_name_equal(nsoa->owner, origin))
		return record_error(d, FEDNS_EINVAL, "first addition", nsoa,
				    "must be the zone's new SOA");
	const fedns_rrset *soa = fedns_zone_find(base, origin, FEDNS_T_SOA);
	if (soa == NULL || soa->count != 1)
		return fedns_diag_set(d, FEDNS_EINVAL, "base zone has no SOA");
	const uint8_t *pos = soa->rdata;
	uint16_t len;
	const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
	if (fedns_rdata_cmp(FEDNS_T_SOA, rd, len, old->rdata, old->rdlen) != 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "the zone's SOA has serial %u",
			 (unsigned)fedns_soa_serial(rd, len));
		return record_error(d, FEDNS_ESTALE, "old SOA", old, msg);
	}
	uint16_t rclass = fedns_zone_class(base);
	for (size_t i = 0; i < diff->ndel + diff->nadd; i++) {
		bool del = i < diff->ndel;
		const fedns_rr *rr = del ? &diff->del[i] : &diff->add[i - diff->ndel];
		if (rr->rclass != rclass)
			return record_error(d, FEDNS_EINVAL, del ? "delete of" : "add of", rr,
					    "class differs from the zone's");
		if (!fedns_name_is_subdomain(rr->owner, origin))
			return record_error(d, FEDNS_EZONE, del ? "delete of" : "add of", rr,
					    "owner is outside the zone");
		if (i > 0 && i != diff->ndel && rr->type == FEDNS_T_SOA)
			return record_error(d, FEDNS_EINVAL, del ? "delete of" : "add of", rr,
					    "an SOA may appear only first");
	}
	return FEDNS_OK;
}

fedns_err
fedns_diff_apply(const fedns_zone *base, const fedns_diff *diff, fedns_zone **out, fedns_diag *d)
{
	size_t *didx = NULL, *aidx = NULL;
	size_t nd, na;
	fedns_zone *nz = NULL;
	fedns_err err;

	fedns_diag_clear(d);
	if (base == NULL || diff == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "diff apply: missing argument");
	if ((err = check_shape(base, diff, d)) != FEDNS_OK)
		return err;

	/* The SOAs are handled by check_shape and replaced wholesale; the rest are checked
	 * against base and against each other through sorted indices (O(k log k)). */
	nd = diff->ndel - 1;
	na = diff->nadd - 1;
	didx = sorted_index(diff->del, 1, diff->ndel);
	aidx = sorted_index(diff->add, 1, diff->nadd);
	if (didx == NULL || aidx == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "diff apply: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nd; i++) {
		const fedns_rr *rr = &diff->del[didx[i]];
		if (i > 0 && rr_cmp(&diff->del[didx[i - 1]], rr) == 0) {
			err = record_error(d, FEDNS_EINVAL, "delete of", rr,
					   "the diff deletes it twice");
			goto out;
		}
		if (!fedns_zone_contains(base, rr)) {
			err = record_error(d, FEDNS_ENOENT, "delete of", rr,
					   "no such record in the zone");
			goto out;
		}
	}
	for (size_t i = 0; i < na; i++) {
		const fedns_rr *rr = &diff->add[aidx[i]];
		if (i > 0 && rr_cmp(&diff->add[aidx[i - 1]], rr) == 0) {
			err = record_error(d, FEDNS_EINVAL, "add of", rr, "the diff adds it twice");
			goto out;
		}
		if (fedns_zone_contains(base, rr) && !in_sorted(diff->del, didx, nd, rr)) {
			err = record_error(d, FEDNS_EEXIST, "add of", rr,
					   "the record is already in the zone");
			goto out;
		}
	}

	err = fedns_zone_new(fedns_zone_origin(base), fedns_zone_class(base), NULL, &nz);
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "diff apply: cannot create the new zone");
		goto out;
	}
	/* New SOA first, then base minus deletions (old SOA among them), then additions. */
	if ((err = fedns_zone_add(nz, &diff->add[0], 0, 0)) != FEDNS_OK) {
		record_error(d, err, "add of", &diff->add[0], fedns_strerror(err));
		goto out;
	}
	build_ctx b = {
		.nz = nz,
		.del = diff->del,
		.didx = didx,
		.ndel = nd,
	};
	if (fedns_zone_walk(base, copy_rr, &b) != 0) {
		err = b.err;
		fedns_diag_set(d, err, "diff apply: copying the zone failed: %s",
			       fedns_strerror(err));
		goto out;
	}
	if (b.skipped != nd) {
		/* every deletion was found by fedns_zone_contains, so the merge must meet
		 * them all; if not, the zone's order and ours disagree */
		err = fedns_diag_set(d, FEDNS_EINVAL,
				     "diff apply: internal error: %zu of %zu deletions matched",
				     b.skipped, nd);
		goto out;
	}
	for (size_t i = 1; i < diff->nadd; i++) {
		if ((err = fedns_zone_add(nz, &diff->add[i], 0, 0)) != FEDNS_OK) {
			record_error(d, err, "add of", &diff->add[i], fedns_strerror(err));
			goto out;
		}
	}
	finish_ctx f = {.d = d};
	if ((err = fedns_zone_finish(nz, finish_report, &f)) != FEDNS_OK) {
		fedns_diag_set(d, err, "the result breaks a zone rule");
		goto out;
	}
	*out = nz;
	nz = NULL;
	err = FEDNS_OK;
out:
	fedns_zone_free(nz);
	free(didx);
	free(aidx);
	return err;
}
