/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental zone digest: updates by diff equal a fresh build, the root follows the
 * header's construction (checked against a straight re-implementation here), and it sees
 * every rdata bit but not name case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sha2.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

#define RDMAX 320
#define MAXW 24
#define MAXSETS 400

/* A zone as the tests think of it: RRsets with one TTL each. */
typedef struct mrr {
	uint8_t rd[RDMAX];
	uint16_t len;
} mrr;

typedef struct mset {
	char owner[64];
	uint16_t type;
	uint32_t ttl;
	size_t n;
	mrr rr[MAXW];
} mset;

typedef struct model {
	mset sets[MAXSETS];
	size_t n;
	uint32_t serial;
	unsigned next_owner;
} model;

static uint64_t rng_state;

static uint32_t
rnd(void)
{
	/* xorshift64*: deterministic per seed so a failure can be replayed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static void
name(const char *text, uint8_t out[FEDNS_NAME_MAXLEN])
{
	size_t len;
	assert_int_equal(fedns_name_from_text(text, strlen(text), NULL, out, &len, NULL), 0);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
soa_rdata(mrr *r, uint32_t serial)
{
	uint8_t n[FEDNS_NAME_MAXLEN];
	size_t off = 0;
	name("ns1.other.net.", n);
	memcpy(r->rd, n, fedns_name_len(n));
	off += fedns_name_len(n);
	name("hostmaster.example.", n);
	memcpy(r->rd + off, n, fedns_name_len(n));
	off += fedns_name_len(n);
	put32(r->rd + off, serial);
	put32(r->rd + off + 4, 3600);
	put32(r->rd + off + 8, 900);
	put32(r->rd + off + 12, 604800);
	put32(r->rd + off + 16, 300);
	r->len = (uint16_t)(off + 20);
}

/* Random valid rdata of a type; RRSIG covers 'covered'. */
static void
random_rdata(uint16_t type, uint16_t covered, mrr *r)
{
	uint8_t n[FEDNS_NAME_MAXLEN];
	char text[64];
	switch (type) {
	case FEDNS_T_A:
		put32(r->rd, rnd());
		r->len = 4;
		break;
	case FEDNS_T_AAAA:
		for (int i = 0; i < 16; i++)
			r->rd[i] = (uint8_t)rnd();
		r->len = 16;
		break;
	case FEDNS_T_TXT: {
		uint8_t l = (uint8_t)(1 + rnd() % 40);
		r->rd[0] = l;
		for (int i = 0; i < l; i++)
			r->rd[1 + i] = (uint8_t)(' ' + rnd() % 90);
		r->len = (uint16_t)(1 + l);
		break;
	}
	case FEDNS_T_MX:
		put16(r->rd, (uint16_t)(rnd() % 50));
		/* mixed case: canonical form must fold it */
		snprintf(text, sizeof(text), "%s%u.Other.NET.", rnd() % 2 ? "MX" : "mx", rnd() % 8);
		name(text, n);
		memcpy(r->rd + 2, n, fedns_name_len(n));
		r->len = (uint16_t)(2 + fedns_name_len(n));
		break;
	case FEDNS_T_RRSIG: {
		put16(r->rd, covered);
		r->rd[2] = 13;
		r->rd[3] = 2;
		put32(r->rd + 4, 3600);
		put32(r->rd + 8, 1800000000u + rnd() % 1000);
		put32(r->rd + 12, 1700000000u);
		put16(r->rd + 16, (uint16_t)rnd());
		name("example.", n);
		size_t off = 18;
		memcpy(r->rd + off, n, fedns_name_len(n));
		off += fedns_name_len(n);
		for (int i = 0; i < 64; i++)
			r->rd[off + i] = (uint8_t)rnd();
		r->len = (uint16_t)(off + 64);
		break;
	}
	default:
		fail();
	}
}

static mset *
find_set(model *m, const char *owner, uint16_t type, uint16_t covered)
{
	for (size_t i = 0; i < m->n; i++) {
		mset *s = &m->sets[i];
		if (strcmp(s->owner, owner) == 0 && s->type == type &&
		    (type != FEDNS_T_RRSIG || (s->rr[0].rd[0] << 8 | s->rr[0].rd[1]) == covered))
			return s;
	}
	return NULL;
}

static bool
has_rdata(const mset *s, const mrr *r)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rr[i].len == r->len && memcmp(s->rr[i].rd, r->rd, r->len) == 0)
			return true;
	return false;
}

/* Adds an RR to its set (new set if absent); false when the set is full or holds it. */
static bool
add_rr(model *m, const char *owner, uint16_t type, uint16_t covered, uint32_t ttl)
{
	mset *s = find_set(m, owner, type, covered);
	mrr r;
	if (s == NULL) {
		if (m->n == MAXSETS)
			return false;
		s = &m->sets[m->n++];
		snprintf(s->owner, sizeof(s->owner), "%s", owner);
		s->type = type;
		s->ttl = ttl;
		s->n = 0;
	}
	if (s->n == MAXW)
		return false;
	random_rdata(type, covered, &r);
	/* MX targets are few, and case variants fold: retry a few times for a new one */
	for (int tries = 0; tries < 8; tries++) {
		bool dup = has_rdata(s, &r);
		if (type == FEDNS_T_MX)
			for (size_t i = 0; i < s->n && !dup; i++)
				dup = fedns_rdata_cmp(type, s->rr[i].rd, s->rr[i].len, r.rd,
						      r.len) == 0;
		if (!dup)
			break;
		random_rdata(type, covered, &r);
		if (tries == 7)
			return s->n > 0 || (m->n--, false);
	}
	s->rr[s->n++] = r;
	return true;
}

static const uint16_t data_types[] = {FEDNS_T_A, FEDNS_T_AAAA, FEDNS_T_TXT, FEDNS_T_MX};

static void
add_owner(model *m)
{
	char owner[64];
	snprintf(owner, sizeof(owner), "h%u.%sexample.", m->next_owner++, rnd() % 3 ? "" : "sub.");
	unsigned ntypes = 1 + rnd() % 3;
	for (unsigned t = 0; t < ntypes; t++) {
		uint16_t type = data_types[rnd() % 4];
		uint32_t ttl = 60 + rnd() % 4000;
		/* sometimes wide */
		unsigned width = rnd() % 5 == 0 ? 5 + rnd() % 15 : 1 + rnd() % 3;
		mset *s = find_set(m, owner, type, 0);
		if (s != NULL)
			ttl = s->ttl;
		for (unsigned k = 0; k < width; k++)
			add_rr(m, owner, type, 0, ttl);
		if (rnd() % 2)
			add_rr(m, owner, FEDNS_T_RRSIG, type, 60 + rnd() % 4000);
	}
}

static void
model_init(model *m, unsigned owners)
{
	memset(m, 0, sizeof(*m));
	m->serial = 1000 + rnd() % 1000;
	mset *soa = &m->sets[m->n++];
	snprintf(soa->owner, sizeof(soa->owner), "example.");
	soa->type = FEDNS_T_SOA;
	soa->ttl = 3600;
	soa->n = 1;
	soa_rdata(&soa->rr[0], m->serial);
	mset *ns = &m->sets[m->n++];
	snprintf(ns->owner, sizeof(ns->owner), "example.");
	ns->type = FEDNS_T_NS;
	ns->ttl = 3600;
	ns->n = 1;
	uint8_t nsname[FEDNS_NAME_MAXLEN];
	name("ns1.other.net.", nsname);
	ns->rr[0].len = (uint16_t)fedns_name_len(nsname);
	memcpy(ns->rr[0].rd, nsname, ns->rr[0].len);
	add_rr(m, "example.", FEDNS_T_RRSIG, FEDNS_T_SOA, 3600);
	for (unsigned i = 0; i < owners; i++)
		add_owner(m);
}

static void
remove_set(model *m, size_t i)
{
	m->sets[i] = m->sets[--m->n];
}

/* One random edit of any kind the brief names; the apex SOA and NS stay. */
static void
mutate(model *m)
{
	size_t i = 2 + rnd() % (m->n > 2 ? m->n - 2 : 1);
	mset *s = i < m->n ? &m->sets[i] : NULL;
	switch (rnd() % 6) {
	case 0: /* whole RRset goes */
		if (s != NULL)
			remove_set(m, i);
		break;
	case 1: /* new owner */
		add_owner(m);
		break;
	case 2: /* one more RR */
		if (s != NULL)
			add_rr(m, s->owner, s->type,
			       (uint16_t)(s->rr[0].rd[0] << 8 | s->rr[0].rd[1]), s->ttl);
		break;
	case 3: /* one RR goes */
		if (s != NULL) {
			size_t k = rnd() % s->n;
			s->rr[k] = s->rr[--s->n];
			if (s->n == 0)
				remove_set(m, i);
		}
		break;
	case 4: /* TTL */
		if (s != NULL)
			s->ttl = s->ttl + 1 + rnd() % 100;
		break;
	default: /* one bit of one rdata (A/AAAA only: any bit stays valid) */
		if (s != NULL && (s->type == FEDNS_T_A || s->type == FEDNS_T_AAAA)) {
			size_t k = rnd() % s->n;
			mrr r = s->rr[k];
			r.rd[rnd() % r.len] ^= (uint8_t)(1u << (rnd() % 8));
			if (!has_rdata(s, &r))
				s->rr[k] = r;
		}
		break;
	}
}

static int
quiet(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	if (d->code != FEDNS_OK)
		print_error("zone error: %s\n", d->msg);
	return 0;
}

/* Builds the zone, staging RRs in an order that depends on 'shuffle' (0: model order). */
static fedns_zone *
build_zone(const model *m, uint32_t shuffle)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	uint8_t owner[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	size_t total = 0;
	name("example.", origin);
	for (size_t i = 0; i < m->n; i++)
		total += m->sets[i].n;
	size_t(*order)[2] = malloc(total * sizeof(*order));
	assert_non_null(order);
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->sets[i].n; j++) {
			order[k][0] = i;
			order[k][1] = j;
			k++;
		}
	if (shuffle != 0) {
		uint64_t saved = rng_state;
		rng_state = shuffle;
		for (size_t a = total; a > 1; a--) {
			size_t b = rnd() % a;
			size_t t0 = order[a - 1][0], t1 = order[a - 1][1];
			order[a - 1][0] = order[b][0];
			order[a - 1][1] = order[b][1];
			order[b][0] = t0;
			order[b][1] = t1;
		}
		rng_state = saved;
	}
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	for (k = 0; k < total; k++) {
		const mset *s = &m->sets[order[k][0]];
		const mrr *r = &s->rr[order[k][1]];
		name(s->owner, owner);
		fedns_rr rr = {.owner = owner,
			       .type = s->type,
			       .rclass = FEDNS_C_IN,
			       .ttl = s->ttl,
			       .rdlen = r->len,
			       .rdata = r->rd};
		assert_int_equal(fedns_zone_add(z, &rr, 0, (uint32_t)k + 1), 0);
	}
	free(order);
	assert_int_equal(fedns_zone_finish(z, quiet, NULL), 0);
	return z;
}

static void
root_of(const fedns_zone *z, uint8_t out[FEDNS_ZDIGEST_LEN])
{
	fedns_zdigest *zd = NULL;
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	fedns_zdigest_root(zd, out);
	assert_int_equal(fedns_zdigest_count(zd), fedns_zone_rrset_count(z));
	fedns_zdigest_free(zd);
}

/* The header's construction, written again from its text: canonical RRs concatenated,
 * positions hashed, T() by recursion over the sorted positions. */
typedef struct kv {
	uint8_t k[32], v[32];
} kv;

static int
kv_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static void
spec_leaf(const fedns_rrset *s, uint8_t out[32])
{
	static uint8_t prev[RDMAX * 4], cur[RDMAX * 4];
	size_t prevlen = SIZE_MAX;
	uint8_t owner[FEDNS_NAME_MAXLEN];
	size_t olen = fedns_name_copy(owner, s->owner);
	fedns_hash h;
	uint8_t fixed[10];
	const uint8_t *pos = s->rdata;

	fedns_name_tolower(owner);
	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, "\0", 1);
	for (uint32_t i = 0; i < s->count; i++) {
		uint16_t len;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
		assert_true(len <= sizeof(cur));
		fedns_rdata_canonical(s->type, rd, len, cur);
		if (prevlen == len && memcmp(prev, cur, len) == 0)
			continue;
		put16(fixed, s->type);
		put16(fixed + 2, s->rclass);
		put32(fixed + 4, s->ttl);
		put16(fixed + 8, len);
		fedns_hash_update(&h, owner, olen);
		fedns_hash_update(&h, fixed, 10);
		fedns_hash_update(&h, cur, len);
		memcpy(prev, cur, len);
		prevlen = len;
	}
	fedns_hash_final(&h, out);
}

static void
spec_tree(const kv *e, size_t n, uint8_t out[32])
{
	if (n == 1) {
		memcpy(out, e[0].v, 32);
		return;
	}
	/* first bit where they are not all equal: sorted, so first vs last */
	unsigned b = 0;
	while (((e[0].k[b / 8] ^ e[n - 1].k[b / 8]) >> (7 - b % 8) & 1) == 0)
		b++;
	size_t split = 0;
	while ((e[split].k[b / 8] >> (7 - b % 8) & 1) == 0)
		split++;
	uint8_t buf[65];
	buf[0] = 1;
	spec_tree(e, split, buf + 1);
	spec_tree(e + split, n - split, buf + 33);
	fedns_hash_once(FEDNS_HASH_SHA256, buf, sizeof(buf), out);
}

static void
spec_root(const fedns_zone *z, uint8_t out[32])
{
	size_t n = 0;
	kv *e = calloc(fedns_zone_rrset_count(z) + 1, sizeof(*e));
	fedns_zone_iter it;
	const fedns_rrset *s;
	assert_non_null(e);
	fedns_zone_iter_init(&it, z);
	while ((s = fedns_zone_iter_next(&it)) != NULL) {
		uint8_t key[FEDNS_NAME_MAXLEN + 4];
		size_t kl = fedns_name_copy(key, s->owner);
		fedns_name_tolower(key);
		put16(key + kl, s->type);
		kl += 2;
		if (s->type == FEDNS_T_RRSIG) {
			memcpy(key + kl, s->rdata + 2, 2); /* past the packed length */
			kl += 2;
		}
		fedns_hash_once(FEDNS_HASH_SHA256, key, kl, e[n].k);
		spec_leaf(s, e[n].v);
		n++;
	}
	qsort(e, n, sizeof(*e), kv_cmp);
	if (n == 0)
		memset(out, 0, 32);
	else
		spec_tree(e, n, out);
	free(e);
}

/* Known answer from bench/zdigest/ref.py (dnspython and hashlib, written from the header
 * alone): mixed case owners and targets, apex RRSIGs per covered type with their own
 * TTLs, a multi-string TXT, a CNAME. */
static const char KAT_ZONE[] =
	"$TTL 3600\n"
	"Example. IN SOA ns1.Other.NET. HostMaster.example. 2026112601 3600 900 604800 300\n"
	"example. IN NS ns1.other.net.\n"
	"example. IN NS NS2.Other.Net.\n"
	"example. 300 IN RRSIG SOA 13 1 3600 20270101000000 20261101000000 12345 example. "
	"dGVzdHNpZ25hdHVyZQ==\n"
	"example. 600 IN RRSIG NS 13 1 3600 20270101000000 20261101000000 12345 example. "
	"c2lnbmF0dXJlbnM=\n"
	"WWW.example. 300 IN A 192.0.2.1\n"
	"www.example. 300 IN A 192.0.2.2\n"
	"www.example. 300 IN AAAA 2001:db8::1\n"
	"www.example. 300 IN TXT \"hello\" \"world\"\n"
	"Mail.example. 3600 IN MX 10 MX1.Other.NET.\n"
	"mail.example. 3600 IN MX 20 mx2.other.net.\n"
	"sub.example. 86400 IN CNAME www.Example.\n";
static const char KAT_ROOT[] = "70b608829b63bd57ffbd665a087c724b63ece037f316e99fc132049b70fc87c4";

static void
test_known_answer(void **state)
{
	(void)state;
	uint8_t origin[FEDNS_NAME_MAXLEN], r[32];
	char hex[65];
	fedns_zone *z = NULL;
	fedns_diag d = {0};
	name("example.", origin);
	fedns_zonefile_opts o = {.origin = origin};
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	assert_int_equal(fedns_zonefile_parse("kat", KAT_ZONE, strlen(KAT_ZONE), &o, z, &d), 0);
	assert_int_equal(fedns_zone_finish(z, quiet, NULL), 0);
	root_of(z, r);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	assert_string_equal(hex, KAT_ROOT);
	fedns_zone_free(z);
}

static void
test_update_equals_build(void **state)
{
	(void)state;
	static model m1, m2;
	for (unsigned iter = 0; iter < 150; iter++) {
		rng_state = 0x9e3779b97f4a7c15ULL * (iter + 1);
		model_init(&m1, 5 + rnd() % 60);
		m2 = m1;
		unsigned edits = 1 + rnd() % (iter % 10 == 0 ? 60 : 8);
		for (unsigned e = 0; e < edits; e++)
			mutate(&m2);
		m2.serial = m1.serial + 1;
		soa_rdata(&m2.sets[0].rr[0], m2.serial);

		fedns_zone *z1 = build_zone(&m1, 0), *z2 = build_zone(&m2, 0);
		fedns_diff diff;
		fedns_diag d = {0};
		fedns_zone *z2a = NULL;
		uint8_t r1[32], r2[32], spec[32], got[32];

		fedns_diff_init(&diff);
		assert_int_equal(fedns_diff_compute(z1, z2, &diff), 0);
		assert_int_equal(fedns_diff_apply(z1, &diff, &z2a, &d), 0);
		root_of(z1, r1);
		root_of(z2, r2);
		spec_root(z1, spec);
		assert_memory_equal(r1, spec, 32);
		spec_root(z2, spec);
		assert_memory_equal(r2, spec, 32);
		assert_memory_not_equal(r1, r2, 32); /* the serial at least changed */

		fedns_zdigest *zd = NULL;
		assert_int_equal(fedns_zdigest_new(z1, &zd), 0);
		assert_int_equal(fedns_zdigest_update(zd, z2a, &diff), 0);
		fedns_zdigest_root(zd, got);
		assert_memory_equal(got, r2, 32);
		assert_int_equal(fedns_zdigest_count(zd), fedns_zone_rrset_count(z2));
		/* the same diff against the old zone puts it back */
		assert_int_equal(fedns_zdigest_update(zd, z1, &diff), 0);
		fedns_zdigest_root(zd, got);
		assert_memory_equal(got, r1, 32);
		assert_int_equal(fedns_zdigest_count(zd), fedns_zone_rrset_count(z1));
		fedns_zdigest_free(zd);

		fedns_diff_fini(&diff);
		fedns_zone_free(z1);
		fedns_zone_free(z2);
		fedns_zone_free(z2a);
	}
}

/* A chain of updates from one build stays equal to building each version. */
static void
test_update_chain(void **state)
{
	(void)state;
	static model m, next;
	rng_state = 42;
	model_init(&m, 40);
	fedns_zone *z = build_zone(&m, 0);
	fedns_zdigest *zd = NULL;
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	for (unsigned step = 0; step < 60; step++) {
		next = m;
		for (unsigned e = 0; e < 1 + rnd() % 4; e++)
			mutate(&next);
		next.serial = m.serial + 1;
		soa_rdata(&next.sets[0].rr[0], next.serial);
		fedns_zone *nz = build_zone(&next, 0);
		fedns_diff diff;
		uint8_t want[32], got[32];
		fedns_diff_init(&diff);
		assert_int_equal(fedns_diff_compute(z, nz, &diff), 0);
		assert_int_equal(fedns_zdigest_update(zd, nz, &diff), 0);
		root_of(nz, want);
		fedns_zdigest_root(zd, got);
		assert_memory_equal(got, want, 32);
		fedns_diff_fini(&diff);
		fedns_zone_free(z);
		z = nz;
		m = next;
	}
	fedns_zdigest_free(zd);
	fedns_zone_free(z);
}

static void
test_order_independent(void **state)
{
	(void)state;
	static model m;
	uint8_t r0[32], r[32];
	rng_state = 7;
	model_init(&m, 50);
	fedns_zone *z = build_zone(&m, 0);
	root_of(z, r0);
	fedns_zone_free(z);
	for (uint32_t shuffle = 1; shuffle <= 5; shuffle++) {
		z = build_zone(&m, shuffle * 7919);
		root_of(z, r);
		assert_memory_equal(r, r0, 32);
		fedns_zone_free(z);
	}
}

/* Names ground until their positions share the first 16 bits: one crowded counting-sort
 * bucket and a deep path, as a zone editor choosing names could make. Still the header's
 * root, and updates inside the crowd still match a build. */
static void
test_crowded_positions(void **state)
{
	(void)state;
	static model m, m2;
	uint8_t owner[FEDNS_NAME_MAXLEN], key[FEDNS_NAME_MAXLEN + 2], k[32], target[2] = {0, 0};
	uint8_t r[32], spec[32];
	unsigned found = 0;
	rng_state = 11;
	model_init(&m, 0);
	for (unsigned i = 0; found < 24; i++) {
		char text[64];
		snprintf(text, sizeof(text), "g%u.example.", i);
		name(text, owner);
		size_t kl = fedns_name_copy(key, owner);
		put16(key + kl, FEDNS_T_A);
		fedns_hash_once(FEDNS_HASH_SHA256, key, kl + 2, k);
		if (found == 0) {
			memcpy(target, k, 2);
		} else if (memcmp(k, target, 2) != 0) {
			continue;
		}
		found++;
		assert_true(add_rr(&m, text, FEDNS_T_A, 0, 300));
	}
	fedns_zone *z = build_zone(&m, 0);
	root_of(z, r);
	spec_root(z, spec);
	assert_memory_equal(r, spec, 32);

	/* drop one of the crowd, widen another */
	m2 = m;
	remove_set(&m2, 5);
	assert_true(add_rr(&m2, m2.sets[7].owner, FEDNS_T_A, 0, 300));
	m2.serial = m.serial + 1;
	soa_rdata(&m2.sets[0].rr[0], m2.serial);
	fedns_zone *z2 = build_zone(&m2, 0);
	fedns_diff diff;
	fedns_zdigest *zd = NULL;
	fedns_diff_init(&diff);
	assert_int_equal(fedns_diff_compute(z, z2, &diff), 0);
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	assert_int_equal(fedns_zdigest_update(zd, z2, &diff), 0);
	fedns_zdigest_root(zd, r);
	spec_root(z2, spec);
	assert_memory_equal(r, spec, 32);
	fedns_zdigest_free(zd);
	fedns_diff_fini(&diff);
	fedns_zone_free(z);
	fedns_zone_free(z2);
}

/* Any single bit of data rdata changes the root; the case of names does not. */
static void
test_bits_and_case(void **state)
{
	(void)state;
	static model m, f;
	uint8_t r0[32], r[32];
	rng_state = 99;
	model_init(&m, 0);
	add_rr(&m, "www.example.", FEDNS_T_A, 0, 300);
	add_rr(&m, "www.example.", FEDNS_T_A, 0, 300);
	add_rr(&m, "www.example.", FEDNS_T_AAAA, 0, 300);
	add_rr(&m, "www.example.", FEDNS_T_TXT, 0, 300);
	add_rr(&m, "www.example.", FEDNS_T_MX, 0, 300);
	add_rr(&m, "www.example.", FEDNS_T_RRSIG, FEDNS_T_A, 300);
	fedns_zone *z = build_zone(&m, 0);
	root_of(z, r0);
	fedns_zone_free(z);

	unsigned flips = 0;
	for (size_t i = 1; i < m.n; i++) {
		for (size_t k = 0; k < m.sets[i].n; k++) {
			const mrr *rr = &m.sets[i].rr[k];
			uint16_t t = m.sets[i].type;
			/* bytes that are data, not structure (lengths, names) */
			size_t from = t == FEDNS_T_TXT ? 1 : 0;
			size_t to = t == FEDNS_T_MX ? 2 : t == FEDNS_T_NS ? 0 : rr->len;
			for (size_t byte = from; byte < to; byte++) {
				if (t == FEDNS_T_RRSIG && byte >= 18 && byte < (size_t)rr->len - 64)
					continue; /* signer name */
				for (int bit = 0; bit < 8; bit++) {
					f = m;
					f.sets[i].rr[k].rd[byte] ^= (uint8_t)(1u << bit);
					if (f.sets[i].type == FEDNS_T_TXT &&
					    f.sets[i].rr[k].rd[byte] == 0)
						continue;
					z = build_zone(&f, 0);
					root_of(z, r);
					assert_memory_not_equal(r, r0, 32);
					fedns_zone_free(z);
					flips++;
				}
			}
		}
	}
	assert_true(flips > 8 * (4 + 4 + 16 + 2 + 18 + 64));

	/* owners and embedded names in another case: same content */
	f = m;
	for (size_t i = 0; i < f.n; i++) {
		if (strcmp(f.sets[i].owner, "www.example.") == 0)
			snprintf(f.sets[i].owner, sizeof(f.sets[i].owner), "WwW.ExAmple.");
		if (f.sets[i].type == FEDNS_T_MX)
			for (size_t k = 0; k < f.sets[i].n; k++)
				for (size_t b = 3; b < f.sets[i].rr[k].len; b++)
					if (f.sets[i].rr[k].rd[b] >= 'a' &&
					    f.sets[i].rr[k].rd[b] <= 'z')
						f.sets[i].rr[k].rd[b] ^= 0x20;
	}
	z = build_zone(&f, 0);
	root_of(z, r);
	assert_memory_equal(r, r0, 32);
	fedns_zone_free(z);

	/* a TTL is content */
	f = m;
	f.sets[3].ttl++;
	z = build_zone(&f, 0);
	root_of(z, r);
	assert_memory_not_equal(r, r0, 32);
	fedns_zone_free(z);
}

/* Two RRs equal in canonical form count once in a leaf, as in ZONEMD. */
static void
test_leaf(void **state)
{
	(void)state;
	uint8_t owner[FEDNS_NAME_MAXLEN], a[FEDNS_NAME_MAXLEN], b[FEDNS_NAME_MAXLEN];
	uint8_t v1[32], v2[32], v3[32];
	uint8_t packed[2 * (2 + 64)];
	name("Mail.Example.", owner);
	name("MX.Other.net.", a);
	name("mx.other.NET.", b);
	size_t la = fedns_name_len(a);
	packed[0] = 0;
	packed[1] = (uint8_t)la;
	memcpy(packed + 2, a, la);
	packed[2 + la] = 0;
	packed[3 + la] = (uint8_t)la;
	memcpy(packed + 4 + la, b, la);
	fedns_rrset one = {owner, FEDNS_T_NS, FEDNS_C_IN, 300, 1, packed};
	fedns_rrset two = {owner, FEDNS_T_NS, FEDNS_C_IN, 300, 2, packed};
	assert_int_equal(fedns_zdigest_leaf(&one, v1), 0);
	assert_int_equal(fedns_zdigest_leaf(&two, v2), 0);
	assert_memory_equal(v1, v2, 32);
	/* and V is exactly H(0x00 || canonical RR) */
	uint8_t rec[1 + 64 + 10 + 64];
	size_t ol = fedns_name_copy(rec + 1, owner), off;
	rec[0] = 0;
	fedns_name_tolower(rec + 1);
	off = 1 + ol;
	put16(rec + off, FEDNS_T_NS);
	put16(rec + off + 2, FEDNS_C_IN);
	put32(rec + off + 4, 300);
	put16(rec + off + 8, (uint16_t)la);
	memcpy(rec + off + 10, b, la);
	fedns_name_tolower(rec + off + 10);
	fedns_hash_once(FEDNS_HASH_SHA256, rec, off + 10 + la, v3);
	assert_memory_equal(v1, v3, 32);
	assert_int_equal(fedns_zdigest_leaf(NULL, v1), FEDNS_EINVAL);
}

static void
test_errors(void **state)
{
	(void)state;
	static model m;
	uint8_t origin[FEDNS_NAME_MAXLEN], r0[32], r[32];
	fedns_zone *building = NULL;
	fedns_zdigest *zd = NULL;
	fedns_diff diff;

	name("example.", origin);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &building), 0);
	assert_int_equal(fedns_zdigest_new(NULL, &zd), FEDNS_EINVAL);
	assert_int_equal(fedns_zdigest_new(building, &zd), FEDNS_EINVAL);
	assert_null(zd);

	rng_state = 5;
	model_init(&m, 3);
	fedns_zone *z = build_zone(&m, 0);
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	fedns_zdigest_root(zd, r0);
	fedns_diff_init(&diff);
	assert_int_equal(fedns_zdigest_update(zd, building, &diff), FEDNS_EINVAL);
	assert_int_equal(fedns_zdigest_update(zd, z, NULL), FEDNS_EINVAL);
	assert_int_equal(fedns_zdigest_update(NULL, z, &diff), FEDNS_EINVAL);
	assert_int_equal(fedns_zdigest_update(zd, z, &diff), 0); /* empty diff */
	fedns_zdigest_root(zd, r);
	assert_memory_equal(r, r0, 32);
	assert_true(fedns_zdigest_memory(zd) > fedns_zdigest_count(zd) * 68);
	assert_int_equal(fedns_zdigest_count(NULL), 0);
	fedns_zdigest_root(NULL, r);
	assert_memory_equal(r, (uint8_t[32]){0}, 32);
	fedns_diff_fini(&diff);
	fedns_zdigest_free(zd);
	fedns_zdigest_free(NULL);
	fedns_zone_free(z);
	fedns_zone_free(building);
}

/* fedns_zdigest_compute is the built root; fedns_zone_digest picks by protocol algorithm. */
static void
test_zone_digest(void **state)
{
	(void)state;
	static model m;
	uint8_t r[32], out[FEDNS_ZONEMD_MAXLEN], md[FEDNS_ZONEMD_MAXLEN];
	size_t len = 99, mdlen = 0;
	fedns_zdigest *zd = NULL;

	rng_state = 11;
	model_init(&m, 40);
	fedns_zone *z = build_zone(&m, 0);
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	fedns_zdigest_root(zd, r);
	fedns_zdigest_free(zd);
	memset(out, 0, sizeof(out));
	assert_int_equal(fedns_zdigest_compute(z, out), 0);
	assert_memory_equal(out, r, 32);
	assert_int_equal(fedns_zone_digest(z, FEDNS_ZDIGEST_ALG, out, &len), 0);
	assert_int_equal(len, FEDNS_ZDIGEST_LEN);
	assert_memory_equal(out, r, 32);
	assert_int_equal(fedns_zone_digest(z, FEDNS_ZONEMD_SHA384, out, &len), 0);
	assert_int_equal(fedns_zonemd_compute(z, FEDNS_ZONEMD_SHA384, md, &mdlen), 0);
	assert_int_equal(len, 48);
	assert_int_equal(mdlen, 48);
	assert_memory_equal(out, md, 48);
	assert_int_equal(fedns_zone_digest(z, 3, out, &len), FEDNS_ENOTSUP);
	assert_int_equal(len, 0);
	assert_int_equal(fedns_zone_digest(z, 0, out, &len), FEDNS_ENOTSUP);
	assert_int_equal(fedns_zone_digest(NULL, FEDNS_ZDIGEST_ALG, out, &len), FEDNS_EINVAL);
	assert_int_equal(fedns_zdigest_compute(NULL, out), FEDNS_EINVAL);
	fedns_zone_free(z);
}

/* ---- memory: chunks that grow with the tree, scratch sized to the widest RRset ---- */

static fedns_zone *
text_zone(const char *text, size_t len)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	name("example.", origin);
	fedns_zonefile_opts o = {.origin = origin};
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	assert_int_equal(fedns_zonefile_parse("mem", text, len, &o, z, NULL), 0);
	assert_int_equal(fedns_zone_finish(z, quiet, NULL), 0);
	return z;
}

static const char SMALL_ZONE[] = "$TTL 300\n"
				 "@ SOA ns1.other.net. hostmaster 1 3600 900 604800 300\n"
				 "@ NS ns1.other.net.\n"
				 "www A 192.0.2.1\n"
				 "mail A 192.0.2.2\n"
				 "@ MX 10 mail\n";

/* A zone of five RRsets: its tree is a few KiB, not the megabyte of a large zone's chunk;
 * it still updates (and grows past its first chunk) like any other. */
static void
test_small_zone_memory(void **state)
{
	(void)state;
	fedns_zone *z = text_zone(SMALL_ZONE, strlen(SMALL_ZONE));
	assert_int_equal(fedns_zone_rrset_count(z), 5);
	fedns_zdigest *zd = NULL;
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	size_t mem = fedns_zdigest_memory(zd);
	print_message("# zdigest memory, 5 RRsets: %zu bytes\n", mem);
	assert_true(mem < 16 * 1024);
	assert_true(mem >= 9 * 68); /* 9 nodes at least: the count is not made up */
	uint8_t r[32], want[32];
	fedns_zdigest_root(zd, r);
	spec_root(z, want);
	assert_memory_equal(r, want, 32);
	fedns_zdigest_free(zd);
	fedns_zone_free(z);
}

/* The SOA pair taking z's serial one further. */
static void
next_soa(const fedns_zone *z, fedns_diff *d, uint8_t rd[512])
{
	fedns_rr soa;
	assert_true(fedns_zone_soa(z, &soa));
	assert_int_equal(fedns_diff_del(d, &soa), 0);
	assert_true(soa.rdlen >= 20 && soa.rdlen <= 512);
	memcpy(rd, soa.rdata, soa.rdlen);
	put32(rd + soa.rdlen - 20, fedns_zone_serial(z) + 1);
	soa.rdata = rd;
	assert_int_equal(fedns_diff_add(d, &soa), 0);
}

/* A tree that starts at five RRsets and is grown by diffs to past 24,000 (so updates
 * allocate every growing chunk and two fixed ones, and nodes freed and taken again cross
 * chunk boundaries), then shrunk: after every diff the root equals a fresh build's. */
static void
test_growth_across_chunks(void **state)
{
	(void)state;
	enum {
		STEP = 1500,
		STEPS = 16
	};
	fedns_zone *z = text_zone(SMALL_ZONE, strlen(SMALL_ZONE));
	fedns_zdigest *zd = NULL;
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	size_t mem_small = fedns_zdigest_memory(zd);
	uint8_t r[32], want[32];
	for (unsigned step = 0; step < 2 * STEPS; step++) {
		bool grow = step < STEPS;
		unsigned base = (grow ? step : 2 * STEPS - 1 - step) * STEP;
		fedns_diff d;
		fedns_diff_init(&d);
		uint8_t soa[512];
		next_soa(z, &d, soa);
		for (unsigned i = 0; i < STEP; i++) {
			char text[32];
			uint8_t owner[FEDNS_NAME_MAXLEN], a[4];
			/* interleaved owners, so a shrink frees nodes all over the chunks */
			unsigned k = base + i;
			snprintf(text, sizeof(text), "h%u.example.", k);
			name(text, owner);
			put32(a, 0x0a000000u + k);
			fedns_rr rr = {.owner = owner,
				       .type = FEDNS_T_A,
				       .rclass = FEDNS_C_IN,
				       .ttl = 60,
				       .rdlen = 4,
				       .rdata = a};
			assert_int_equal(grow ? fedns_diff_add(&d, &rr) : fedns_diff_del(&d, &rr),
					 0);
		}
		fedns_zone *nz = NULL;
		assert_int_equal(fedns_diff_apply(z, &d, &nz, NULL), 0);
		assert_int_equal(fedns_zdigest_update(zd, nz, &d), 0);
		fedns_diff_fini(&d);
		fedns_zone_free(z);
		z = nz;
		assert_int_equal(fedns_zdigest_count(zd), fedns_zone_rrset_count(z));
		fedns_zdigest_root(zd, r);
		assert_int_equal(fedns_zdigest_compute(z, want), 0);
		assert_memory_equal(r, want, 32);
		if (step == STEPS - 1) {
			/* 2n - 1 nodes of 68 bytes at least; chunks of 16,384 nodes past that */
			size_t n = fedns_zone_rrset_count(z), mem = fedns_zdigest_memory(zd);
			print_message("# zdigest memory, %zu RRsets: %zu bytes\n", n, mem);
			assert_true(n > 24000);
			assert_true(mem >= (2 * n - 1) * 68);
			assert_true(mem < (2 * n - 1) * 68 + 3 * 16384 * 68);
		}
	}
	assert_int_equal(fedns_zone_rrset_count(z), 5);
	assert_true(fedns_zdigest_memory(zd) > mem_small); /* chunks are kept for reuse */
	spec_root(z, want);
	fedns_zdigest_root(zd, r);
	assert_memory_equal(r, want, 32);
	fedns_zdigest_free(zd);
	fedns_zone_free(z);
}

/* The tree hashes RRsets with a scratch grown to the set at hand; its leaves must equal
 * fedns_zdigest_leaf's (the zonemd.h path with its full-size scratch) for wide records and
 * for RRs that are one in canonical form. */
static void
test_wide_sets(void **state)
{
	(void)state;
	size_t cap = 400000, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	off += (size_t)snprintf(text, cap, "%s", SMALL_ZONE);
	/* TXT records of about 4, 16 and 60 KB: the scratch grows three times */
	static const unsigned strings[] = {16, 64, 235};
	for (unsigned k = 0; k < 3; k++) {
		off += (size_t)snprintf(text + off, cap - off, "big TXT");
		for (unsigned i = 0; i < strings[k]; i++) {
			text[off++] = ' ';
			memset(text + off, 'a' + (char)k, 254);
			off += 254;
		}
		text[off++] = '\n';
	}
	off += (size_t)snprintf(text + off, cap - off,
				"@ NS NS2.Other.Net.\n@ NS ns2.other.net.\nsmall TXT x\n");
	fedns_zone *z = text_zone(text, off);
	free(text);
	fedns_zdigest *zd = NULL;
	assert_int_equal(fedns_zdigest_new(z, &zd), 0);
	size_t mem = fedns_zdigest_memory(zd);
	print_message("# zdigest memory with a 60 KB TXT record: %zu bytes\n", mem);
	assert_true(mem > 2 * 60000); /* two records of the widest set */
	/* the reference root, leaves by fedns_zdigest_leaf */
	size_t n = 0;
	kv e[16];
	fedns_zone_iter it;
	const fedns_rrset *s;
	fedns_zone_iter_init(&it, z);
	while ((s = fedns_zone_iter_next(&it)) != NULL) {
		assert_true(n < 16);
		uint8_t key[FEDNS_NAME_MAXLEN + 2];
		size_t kl = fedns_name_copy(key, s->owner);
		fedns_name_tolower(key);
		put16(key + kl, s->type);
		fedns_hash_once(FEDNS_HASH_SHA256, key, kl + 2, e[n].k);
		assert_int_equal(fedns_zdigest_leaf(s, e[n].v), 0);
		n++;
	}
	qsort(e, n, sizeof(*e), kv_cmp);
	uint8_t r[32], want[32];
	spec_tree(e, n, want);
	fedns_zdigest_root(zd, r);
	assert_memory_equal(r, want, 32);
	fedns_zdigest_free(zd);
	fedns_zone_free(z);
}

/* Parses master-file text into a finished, shared zone. */
static fedns_zone *
shared_zone_from(const char *text)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	name("example.", origin);
	fedns_zonefile_opts o = {.origin = origin};
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &o, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_share(z), FEDNS_OK);
	return z;
}

/* RRSIG sets are found per covered type within their owner's segment of a derived
 * (copy-on-write) zone: the lookup once walked on past the segment's array (ASan: heap
 * overflow) when an owner had no RRSIG for the covered type the diff named. */
static void
test_rrsig_in_derived_zone(void **state)
{
	(void)state;
	static const char sig[] = " 8 2 300 20300101000000 20200101000000 12345 example. "
				  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	size_t cap = 1 << 20, off;
	char *t = malloc(cap);
	assert_non_null(t);
	off = (size_t)snprintf(t, cap, "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n");
	for (int i = 0; i < 300; i++)
		off += (size_t)snprintf(t + off, cap - off, "a%03d A 10.0.%d.%d\na%03d RRSIG A%s\n",
					i, i / 250, i % 250, i, sig);
	fedns_zone *z = shared_zone_from(t);

	/* version 2 rebuilds the first segment only: a000's address changes */
	fedns_rr soa1, soa2;
	uint8_t rd[512], owner[FEDNS_NAME_MAXLEN];
	assert_true(fedns_zone_soa(z, &soa1));
	soa2 = soa1;
	memcpy(rd, soa1.rdata, soa1.rdlen);
	rd[soa1.rdlen - 17] = 2; /* serial 1 -> 2 (the last of its four octets) */
	soa2.rdata = rd;
	name("a000.example.", owner);
	uint8_t oldip[4] = {10, 0, 0, 0}, newip[4] = {10, 9, 9, 9};
	fedns_rr a_old = {.owner = owner,
			  .type = FEDNS_T_A,
			  .rclass = FEDNS_C_IN,
			  .ttl = 60,
			  .rdlen = 4,
			  .rdata = oldip};
	fedns_rr a_new = a_old;
	a_new.rdata = newip;
	fedns_rr del[] = {soa1, a_old}, add[] = {soa2, a_new};
	fedns_zone *v2 = NULL;
	assert_int_equal(fedns_zone_derive(z, del, 2, add, 2, &v2), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(v2), 2);

	/* the lookup itself: present per covered type, absent for a type not signed */
	assert_non_null(fedns_zone_find_rrsig(v2, owner, FEDNS_T_A));
	assert_null(fedns_zone_find_rrsig(v2, owner, FEDNS_T_TXT));
	assert_null(fedns_zone_find_rrsig(v2, owner, FEDNS_T_AAAA));

	/* a diff naming an RRSIG of every owner, for a covered type none has (the lookup must
	 * stop at each owner's last set), and one for the type they have */
	fedns_diff d;
	fedns_diff_init(&d);
	fedns_zone_iter it;
	const fedns_rrset *s;
	fedns_zone_iter_init(&it, v2);
	while ((s = fedns_zone_iter_next(&it)) != NULL) {
		if (s->type != FEDNS_T_RRSIG)
			continue;
		uint16_t len;
		const uint8_t *p = s->rdata;
		const uint8_t *r = fedns_rrset_next_rdata(&p, &len);
		uint8_t txt[512];
		memcpy(txt, r, len);
		txt[0] = 0;
		txt[1] = FEDNS_T_TXT;
		fedns_rr rr = {.owner = s->owner,
			       .type = FEDNS_T_RRSIG,
			       .rclass = FEDNS_C_IN,
			       .ttl = s->ttl,
			       .rdlen = len,
			       .rdata = txt};
		assert_int_equal(fedns_diff_add(&d, &rr), FEDNS_OK);
		rr.rdata = r;
		assert_int_equal(fedns_diff_del(&d, &rr), FEDNS_OK);
	}
	fedns_zdigest *zd = NULL;
	uint8_t r1[32], r2[32];
	assert_int_equal(fedns_zdigest_new(v2, &zd), FEDNS_OK);
	/* v2 holds none of those TXT signatures and all of the A ones: nothing changes */
	assert_int_equal(fedns_zdigest_update(zd, v2, &d), FEDNS_OK);
	fedns_zdigest_root(zd, r1);
	assert_int_equal(fedns_zdigest_compute(v2, r2), FEDNS_OK);
	assert_memory_equal(r1, r2, 32);
	assert_int_equal(fedns_zdigest_count(zd), 2 + 1 + 600 + 0);

	fedns_diff_fini(&d);
	fedns_zdigest_free(zd);
	fedns_zone_free(v2);
	fedns_zone_free(z);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_update_equals_build),
		cmocka_unit_test(test_update_chain),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_crowded_positions),
		cmocka_unit_test(test_bits_and_case),
		cmocka_unit_test(test_leaf),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_zone_digest),
		cmocka_unit_test(test_rrsig_in_derived_zone),
		cmocka_unit_test(test_small_zone_memory),
		cmocka_unit_test(test_growth_across_chunks),
		cmocka_unit_test(test_wide_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
