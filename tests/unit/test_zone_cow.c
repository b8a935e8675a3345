/* SPDX-License-Identifier: Apache-2.0 */
/* Copy-on-write zone versions: fedns_zone_derive against fedns_diff_apply (the reference)
 * on random zones and diff chains, and the cached ZONEMD against fedns_zonemd_compute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)((rng_state >> 33) % n);
}

static const uint8_t *
origin(void)
{
	static uint8_t o[FEDNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(fedns_name_from_text("example.com.", 12, NULL, o, &len, NULL), FEDNS_OK);
	return o;
}

/* Owner names the tests draw from: a few labels so owners collide, names nest, and case
 * varies. */
static const char *const owners[] = {
	"a", "b", "c", "d.a", "e.b", "x.y", "mail", "www", "*.w", "q.w", "n1", "n2", "t",
};

static void
owner_text(char *buf, size_t n, uint32_t pick, bool random_case)
{
	const char *o = owners[pick % (sizeof(owners) / sizeof(owners[0]))];
	unsigned num = pick / (unsigned)(sizeof(owners) / sizeof(owners[0]));
	snprintf(buf, n, "%s%u.example.com.", o, num);
	if (random_case)
		for (char *p = buf; *p; p++)
			if (*p >= 'a' && *p <= 'z' && rnd(3) == 0)
				*p = (char)(*p - 'a' + 'A');
}

/* A random zone of about 'n' owners. */
static fedns_zone *
random_zone(size_t n)
{
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_puts(&b, "$TTL 300\n@ IN SOA ns1 host 7 2 3 4 5\n@ IN NS ns1\n"
			   "@ IN NS ns2.other.net.\nns1 IN A 192.0.2.1\n@ IN TXT apex\n");
	for (size_t i = 0; i < n; i++) {
		char o[128], line[512];
		owner_text(o, sizeof(o), rnd((uint32_t)n * 2), rnd(8) == 0);
		unsigned ttl = rnd(4) == 0 ? 600 : 300;
		switch (rnd(6)) {
		case 0:
			snprintf(line, sizeof(line), "%s %u IN A 10.0.%u.%u\n", o, ttl, rnd(3),
				 rnd(250));
			break;
		case 1:
			snprintf(line, sizeof(line), "%s %u IN AAAA 2001:db8::%x\n", o, ttl,
				 rnd(65535));
			break;
		case 2:
			snprintf(line, sizeof(line), "%s %u IN TXT \"v%u\"\n", o, ttl, rnd(20));
			break;
		case 3:
			snprintf(line, sizeof(line), "%s %u IN MX %u ns1\n", o, ttl, rnd(50));
			break;
		default:
			snprintf(line, sizeof(line), "%s %u IN A 10.1.%u.%u\n", o, ttl, rnd(3),
				 rnd(250));
			break;
		}
		fedns_buf_puts(&b, line);
	}
	assert_int_equal(b.err, FEDNS_OK);
	fedns_zone *z = NULL;
	fedns_zonefile_opts zo = {.origin = origin()};
	fedns_diag d = {0};
	assert_int_equal(fedns_zone_new(origin(), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	assert_int_equal(fedns_zonefile_parse("r.zone", (const char *)b.data, b.len, &zo, z, &d),
			 FEDNS_OK);
	fedns_buf_fini(&b);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

/* Every RRset of a and b is the same: owner bytes, type, class, TTL, rdata bytes. */
static void
assert_same_zone(const fedns_zone *a, const fedns_zone *b)
{
	assert_int_equal(fedns_zone_rrset_count(a), fedns_zone_rrset_count(b));
	assert_int_equal(fedns_zone_rr_count(a), fedns_zone_rr_count(b));
	assert_int_equal(fedns_zone_serial(a), fedns_zone_serial(b));
	fedns_zone_iter ia, ib;
	fedns_zone_iter_init(&ia, a);
	fedns_zone_iter_init(&ib, b);
	const fedns_rrset *x, *y;
	size_t n = 0;
	while ((x = fedns_zone_iter_next(&ia)) != NULL) {
		y = fedns_zone_iter_next(&ib);
		assert_non_null(y);
		size_t lx = fedns_name_len(x->owner), ly = fedns_name_len(y->owner);
		assert_int_equal(lx, ly);
		assert_memory_equal(x->owner, y->owner, lx);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->rclass, y->rclass);
		assert_int_equal(x->ttl, y->ttl);
		assert_int_equal(x->count, y->count);
		const uint8_t *px = x->rdata, *py = y->rdata;
		for (uint32_t i = 0; i < x->count; i++) {
			uint16_t lenx, leny;
			const uint8_t *rx = fedns_rrset_next_rdata(&px, &lenx);
			const uint8_t *ry = fedns_rrset_next_rdata(&py, &leny);
			assert_int_equal(lenx, leny);
			assert_memory_equal(rx, ry, lenx);
		}
		/* lookups find the same set */
		const fedns_rrset *fx = fedns_zone_find(a, x->owner, x->type);
		assert_non_null(fx);
		assert_int_equal(fx->type, x->type);
		n++;
	}
	assert_null(fedns_zone_iter_next(&ib));
	assert_int_equal(n, fedns_zone_rrset_count(a));
}

/* Wire rdata of a random record of 'type' into buf; returns its length. */
static uint16_t
random_rdata(uint16_t type, uint8_t *buf)
{
	size_t len;
	switch (type) {
	case FEDNS_T_A:
		buf[0] = 10;
		buf[1] = (uint8_t)rnd(2);
		buf[2] = (uint8_t)rnd(3);
		buf[3] = (uint8_t)rnd(250);
		return 4;
	case FEDNS_T_TXT: {
		int l = snprintf((char *)buf + 1, 32, "v%u", rnd(20));
		buf[0] = (uint8_t)l;
		return (uint16_t)(l + 1);
	}
	case FEDNS_T_MX:
		buf[0] = 0;
		buf[1] = (uint8_t)rnd(50);
		{
			const char *t = rnd(2) ? "ns1.example.com." : "NS1.example.com.";
			assert_int_equal(
				fedns_name_from_text(t, strlen(t), NULL, buf + 2, &len, NULL),
				FEDNS_OK);
		}
		return (uint16_t)(2 + len);
	case FEDNS_T_CNAME: {
		char t[128];
		owner_text(t, sizeof(t), rnd(40), false);
		assert_int_equal(fedns_name_from_text(t, strlen(t), NULL, buf, &len, NULL),
				 FEDNS_OK);
		return (uint16_t)len;
	}
	default:
		fail();
	}
	return 0;
}

typedef struct store {
	uint8_t mem[256][FEDNS_NAME_MAXLEN + 300];
	size_t n;
} store;

static uint8_t *
slot(store *s)
{
	assert_true(s->n < 256);
	return s->mem[s->n++];
}

/* A random record of zone z (for deletions), copied into st. */
static bool
pick_existing(const fedns_zone *z, store *st, fedns_rr *out)
{
	size_t n = fedns_zone_rrset_count(z), want = rnd((uint32_t)n);
	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	const fedns_rrset *s = NULL;
	for (size_t i = 0; i <= want; i++)
		s = fedns_zone_iter_next(&it);
	if (s == NULL || s->type == FEDNS_T_SOA)
		return false;
	const uint8_t *pos = s->rdata, *rd = NULL;
	uint16_t len = 0;
	uint32_t k = rnd(s->count);
	for (uint32_t i = 0; i <= k; i++)
		rd = fedns_rrset_next_rdata(&pos, &len);
	uint8_t *o = slot(st), *r = slot(st);
	memcpy(o, s->owner, fedns_name_len(s->owner));
	memcpy(r, rd, len);
	*out = (fedns_rr){.owner = o,
			  .type = s->type,
			  .rclass = s->rclass,
			  .ttl = s->ttl,
			  .rdlen = len,
			  .rdata = r};
	return true;
}

/* One random diff against z: SOA pair, then deletions and additions. */
static void
random_diff(const fedns_zone *z, store *st, fedns_diff *d)
{
	fedns_rr soa;
	assert_true(fedns_zone_soa(z, &soa));
	assert_int_equal(fedns_diff_del(d, &soa), FEDNS_OK);
	uint8_t *nsoa = slot(st);
	memcpy(nsoa, soa.rdata, soa.rdlen);
	fedns_soa_set_serial(nsoa, soa.rdlen, fedns_zone_serial(z) + 1);
	fedns_rr ns = soa;
	ns.rdata = nsoa;
	if (rnd(10) == 0)
		ns.ttl = 900;
	if (rnd(20) == 0) {
		uint8_t *o = slot(st);
		size_t len;
		fedns_name_from_text("EXAMPLE.com.", 12, NULL, o, &len, NULL);
		ns.owner = o;
	}
	assert_int_equal(fedns_diff_add(d, &ns), FEDNS_OK);

	unsigned ndel = rnd(4), nadd = rnd(5);
	for (unsigned i = 0; i < ndel; i++) {
		fedns_rr rr;
		if (pick_existing(z, st, &rr)) {
			if (rnd(15) == 0)
				((uint8_t *)rr.rdata)[0] ^= 1; /* sometimes one that is not there */
			assert_int_equal(fedns_diff_del(d, &rr), FEDNS_OK);
			if (rnd(8) == 0) /* and sometimes put it back with another TTL */
				rr.ttl += 60, fedns_diff_add(d, &rr);
		}
	}
	static const uint16_t types[] = {FEDNS_T_A,   FEDNS_T_A,  FEDNS_T_A,
					 FEDNS_T_TXT, FEDNS_T_MX, FEDNS_T_CNAME};
	for (unsigned i = 0; i < nadd; i++) {
		fedns_rr rr;
		if (rnd(10) == 0 && pick_existing(z, st, &rr)) {
			/* an existing record (refused), or its owner in another case */
			assert_int_equal(fedns_diff_add(d, &rr), FEDNS_OK);
			continue;
		}
		char o[128];
		owner_text(o, sizeof(o), rnd(60), rnd(6) == 0);
		uint8_t *ow = slot(st), *rd = slot(st);
		size_t len;
		assert_int_equal(fedns_name_from_text(o, strlen(o), NULL, ow, &len, NULL),
				 FEDNS_OK);
		uint16_t type = types[rnd(sizeof(types) / sizeof(types[0]))];
		uint32_t ttl = rnd(10) == 0 ? 0x90000000u : rnd(3) == 0 ? 600 : 300;
		rr = (fedns_rr){.owner = ow,
				.type = type,
				.rclass = FEDNS_C_IN,
				.ttl = ttl,
				.rdlen = random_rdata(type, rd),
				.rdata = rd};
		assert_int_equal(fedns_diff_add(d, &rr), FEDNS_OK);
		if (rnd(12) == 0) /* a duplicate addition */
			assert_int_equal(fedns_diff_add(d, &rr), FEDNS_OK);
	}
}

static void
assert_zonemd(fedns_zone *z)
{
	uint8_t a[FEDNS_ZONEMD_MAXLEN], b[FEDNS_ZONEMD_MAXLEN];
	size_t la, lb;
	assert_int_equal(fedns_zonemd_compute(z, FEDNS_ZONEMD_SHA384, a, &la), FEDNS_OK);
	assert_int_equal(fedns_zone_zonemd(z, FEDNS_ZONEMD_SHA384, b, &lb), FEDNS_OK);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	/* the second call answers from the cache */
	assert_int_equal(fedns_zone_zonemd(z, FEDNS_ZONEMD_SHA384, b, &lb), FEDNS_OK);
	assert_memory_equal(a, b, la);
}

/* The shared print of z is byte for byte the reference print of ref. */
static void
assert_same_print(const fedns_zone *z, const fedns_zone *ref)
{
	fedns_buf a, b;
	fedns_buf_init(&a, 0);
	fedns_buf_init(&b, 0);
	assert_int_equal(fedns_zone_print_shared(z, &a), FEDNS_OK);
	assert_int_equal(fedns_zone_print(ref, &b), FEDNS_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* again, from the segments' cached text */
	fedns_buf_clear(&a);
	assert_int_equal(fedns_zone_print_shared(z, &a), FEDNS_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	fedns_buf_fini(&a);
	fedns_buf_fini(&b);
}

/* Chains of random diffs: wherever derive builds a version, diff_apply builds the same;
 * wherever diff_apply refuses, derive does not build. */
static void
run_chains(size_t owners_n, unsigned chains, unsigned steps, unsigned *fast, unsigned *total)
{
	for (unsigned ch = 0; ch < chains; ch++) {
		fedns_zone *cur = random_zone(owners_n);
		assert_int_equal(fedns_zone_share(cur), FEDNS_OK);
		assert_zonemd(cur);
		for (unsigned step = 0; step < steps; step++) {
			store *st = calloc(1, sizeof(*st));
			assert_non_null(st);
			fedns_diff d;
			fedns_diff_init(&d);
			random_diff(cur, st, &d);
			fedns_zone *fz = NULL, *rz = NULL;
			fedns_diag dg = {0};
			fedns_err fe = fedns_zone_derive(cur, d.del, d.ndel, d.add, d.nadd, &fz);
			fedns_err re = fedns_diff_apply(cur, &d, &rz, &dg);
			(*total)++;
			if (fe == FEDNS_OK) {
				(*fast)++;
				if (re != FEDNS_OK)
					fail_msg("derive built what diff_apply refuses: %s",
						 dg.msg);
				assert_same_zone(fz, rz);
				assert_zonemd(fz);
				if (step % 4 == 0)
					assert_same_print(fz, rz);
			} else {
				assert_int_equal(fe, FEDNS_ENOTSUP);
				assert_null(fz);
			}
			fedns_diff_fini(&d);
			free(st);
			/* go on from the new version, derived when derive built it */
			if (fe == FEDNS_OK) {
				fedns_zone_free(rz);
				fedns_zone_free(cur);
				cur = fz;
			} else if (re == FEDNS_OK) {
				assert_int_equal(fedns_zone_share(rz), FEDNS_OK);
				assert_zonemd(rz);
				fedns_zone_free(cur);
				cur = rz;
			}
		}
		fedns_zone_free(cur);
	}
}

static void
test_derive_matches_apply_small(void **state)
{
	(void)state;
	rng_state = 1;
	unsigned fast = 0, total = 0;
	run_chains(20, 40, 30, &fast, &total);
	print_message("derived %u of %u versions\n", fast, total);
	/* the fast path must actually be taken, or this test proves nothing */
	assert_true(fast * 4 > total);
}

static void
test_derive_matches_apply_segments(void **state)
{
	(void)state;
	rng_state = 7;
	unsigned fast = 0, total = 0;
	/* hundreds of owners: several segments, which splits, drops and rebuilds */
	run_chains(600, 6, 200, &fast, &total);
	print_message("derived %u of %u versions\n", fast, total);
	assert_true(fast * 4 > total);
}

/* A base freed before the versions derived from it: they keep what they share. */
static void
test_base_freed_first(void **state)
{
	(void)state;
	rng_state = 99;
	fedns_zone *base = random_zone(400);
	assert_int_equal(fedns_zone_share(base), FEDNS_OK);
	assert_zonemd(base);
	fedns_zone *kids[8] = {0};
	fedns_zone *cur = base;
	size_t made = 0;
	for (int i = 0; i < 200 && made < 8; i++) {
		store *st = calloc(1, sizeof(*st));
		fedns_diff d;
		fedns_diff_init(&d);
		random_diff(cur, st, &d);
		fedns_zone *fz = NULL;
		if (fedns_zone_derive(cur, d.del, d.ndel, d.add, d.nadd, &fz) == FEDNS_OK) {
			kids[made++] = fz;
			cur = fz;
		}
		fedns_diff_fini(&d);
		free(st);
	}
	assert_true(made > 0);
	uint8_t before[FEDNS_ZONEMD_MAXLEN], after[FEDNS_ZONEMD_MAXLEN];
	size_t l;
	assert_int_equal(fedns_zonemd_compute(kids[made - 1], FEDNS_ZONEMD_SHA384, before, &l),
			 FEDNS_OK);
	fedns_zone_free(base);
	for (size_t i = 0; i + 1 < made; i++)
		fedns_zone_free(kids[i]);
	assert_int_equal(fedns_zonemd_compute(kids[made - 1], FEDNS_ZONEMD_SHA384, after, &l),
			 FEDNS_OK);
	assert_memory_equal(before, after, l);
	assert_zonemd(kids[made - 1]);
	assert_same_print(kids[made - 1], kids[made - 1]);
	fedns_zone_free(kids[made - 1]);
}

/* Refusals: what derive leaves to diff_apply, and arguments. */
static void
test_derive_refusals(void **state)
{
	(void)state;
	rng_state = 5;
	fedns_zone *z = random_zone(10), *out = (fedns_zone *)1;
	fedns_rr soa;
	assert_true(fedns_zone_soa(z, &soa));
	/* not shared yet */
	assert_int_equal(fedns_zone_derive(z, &soa, 1, &soa, 1, &out), FEDNS_ENOTSUP);
	assert_int_equal(fedns_zone_share(z), FEDNS_OK);
	assert_int_equal(fedns_zone_share(z), FEDNS_OK); /* twice is fine */
	assert_int_equal(fedns_zone_derive(NULL, &soa, 1, &soa, 1, &out), FEDNS_EINVAL);
	assert_int_equal(fedns_zone_derive(z, NULL, 1, &soa, 1, &out), FEDNS_EINVAL);
	/* no SOA pair */
	assert_int_equal(fedns_zone_derive(z, &soa, 0, &soa, 1, &out), FEDNS_ENOTSUP);
	/* the old SOA is not the zone's */
	uint8_t rd[512];
	memcpy(rd, soa.rdata, soa.rdlen);
	fedns_soa_set_serial(rd, soa.rdlen, 1234);
	fedns_rr old = soa;
	old.rdata = rd;
	assert_int_equal(fedns_zone_derive(z, &old, 1, &soa, 1, &out), FEDNS_ENOTSUP);
	/* an NS change goes to the full check */
	uint8_t nsrd[FEDNS_NAME_MAXLEN];
	size_t len;
	fedns_name_from_text("ns3.other.net.", 14, NULL, nsrd, &len, NULL);
	fedns_rr add[2] = {soa,
			   {.owner = soa.owner,
			    .type = FEDNS_T_NS,
			    .rclass = FEDNS_C_IN,
			    .ttl = 300,
			    .rdlen = (uint16_t)len,
			    .rdata = nsrd}};
	add[0].rdata = rd;
	assert_int_equal(fedns_zone_derive(z, &soa, 1, add, 2, &out), FEDNS_ENOTSUP);
	/* deleting ns1's address takes the apex NS target's address away */
	fedns_rr a = {.owner = NULL, .type = FEDNS_T_A, .rclass = FEDNS_C_IN, .ttl = 300};
	uint8_t owner[FEDNS_NAME_MAXLEN];
	fedns_name_from_text("ns1.example.com.", 16, NULL, owner, &len, NULL);
	uint8_t ip[4] = {192, 0, 2, 1};
	a.owner = owner;
	a.rdata = ip;
	a.rdlen = 4;
	fedns_rr del[2] = {soa, a};
	assert_int_equal(fedns_zone_derive(z, del, 2, add, 1, &out), FEDNS_ENOTSUP);
	fedns_diff d;
	fedns_diff_init(&d);
	fedns_diff_del(&d, &del[0]);
	fedns_diff_del(&d, &del[1]);
	fedns_diff_add(&d, &add[0]);
	fedns_zone *rz = NULL;
	fedns_diag dg = {0};
	assert_int_equal(fedns_diff_apply(z, &d, &rz, &dg), FEDNS_EZONE);
	assert_non_null(strstr(dg.msg, "has no address records"));
	fedns_diff_fini(&d);
	/* only the SOA changes: derived, and the same as apply */
	assert_int_equal(fedns_zone_derive(z, &soa, 1, add, 1, &out), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(out), 1234);
	fedns_zone_free(out);
	fedns_zone_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_matches_apply_small),
		cmocka_unit_test(test_derive_matches_apply_segments),
		cmocka_unit_test(test_base_freed_first),
		cmocka_unit_test(test_derive_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
