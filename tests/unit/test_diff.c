/* SPDX-License-Identifier: Apache-2.0 */
/* Zone diffs: compute/apply round trips and all-or-nothing failures that name the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

/* One RR described in code; rdata is built from 'target' (a name) or 'hex'. */
typedef struct spec {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *target; /* NS/CNAME/MX-less name rdata */
	const char *hex;
} spec;

typedef struct rrbuf {
	uint8_t owner[FEDNS_NAME_MAXLEN];
	uint8_t rd[512];
	fedns_rr rr;
} rrbuf;

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static size_t
name(const char *text, uint8_t *out)
{
	size_t len;
	assert_int_equal(fedns_name_from_text(text, strlen(text), NULL, out, &len, NULL), 0);
	return len;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static const fedns_rr *
mkrr(rrbuf *b, const spec *s)
{
	size_t rdlen = 0;
	name(s->owner, b->owner);
	if (s->target)
		rdlen = name(s->target, b->rd);
	else if (s->hex)
		rdlen = unhex(s->hex, b->rd);
	b->rr = (fedns_rr){.owner = b->owner,
			   .type = s->type,
			   .rclass = FEDNS_C_IN,
			   .ttl = s->ttl,
			   .rdlen = (uint16_t)rdlen,
			   .rdata = b->rd};
	return &b->rr;
}

static const fedns_rr *
mksoa(rrbuf *b, uint32_t serial)
{
	name("example.", b->owner);
	size_t off = name("ns1.example.", b->rd);
	off += name("admin.example.", b->rd + off);
	put32(b->rd + off, serial);
	put32(b->rd + off + 4, 3600);
	put32(b->rd + off + 8, 900);
	put32(b->rd + off + 12, 604800);
	put32(b->rd + off + 16, 300);
	b->rr = (fedns_rr){.owner = b->owner,
			   .type = FEDNS_T_SOA,
			   .rclass = FEDNS_C_IN,
			   .ttl = 3600,
			   .rdlen = (uint16_t)(off + 20),
			   .rdata = b->rd};
	return &b->rr;
}

static int
print_errors(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	if (d->code != FEDNS_OK)
		print_error("zone error: %s\n", d->msg);
	return 0;
}

static fedns_zone *
build(uint32_t serial, const spec *specs, size_t n)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	rrbuf b;
	name("example.", origin);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	assert_int_equal(fedns_zone_add(z, mksoa(&b, serial), 0, 1), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fedns_zone_add(z, mkrr(&b, &specs[i]), 0, (uint32_t)i + 2), 0);
	assert_int_equal(fedns_zone_finish(z, print_errors, NULL), 0);
	return z;
}

#define BUILD(serial, arr) build(serial, arr, sizeof(arr) / sizeof(arr[0]))

/* Equal as RR sets with TTLs and exact rdata bytes (the ZONEMD digest covers both). */
static void
assert_same_zone(const fedns_zone *a, const fedns_zone *b)
{
	uint8_t da[48], db[48];
	size_t la, lb;
	assert_int_equal(fedns_zone_rr_count(a), fedns_zone_rr_count(b));
	assert_int_equal(fedns_zone_rrset_count(a), fedns_zone_rrset_count(b));
	assert_int_equal(fedns_zone_serial(a), fedns_zone_serial(b));
	assert_int_equal(fedns_zonemd_compute(a, FEDNS_ZONEMD_SHA384, da, &la), 0);
	assert_int_equal(fedns_zonemd_compute(b, FEDNS_ZONEMD_SHA384, db, &lb), 0);
	assert_memory_equal(da, db, 48);
}

static const spec BASE[] = {
	{"example.", FEDNS_T_NS, 3600, "ns1.example.", NULL},
	{"example.", FEDNS_T_NS, 3600, "ns2.example.", NULL},
	{"ns1.example.", FEDNS_T_A, 3600, NULL, "c0000201"},
	{"ns2.example.", FEDNS_T_A, 3600, NULL, "c0000202"},
	{"www.example.", FEDNS_T_A, 300, NULL, "c0000250"},
	{"www.example.", FEDNS_T_A, 300, NULL, "c0000251"},
	{"mail.example.", FEDNS_T_A, 300, NULL, "c0000219"},
	{"old.example.", FEDNS_T_TXT, 300, NULL, "03616263"},
};

/* www loses .80 and gains .82, mail's TTL changes, old goes, new arrives. */
static const spec NEXT[] = {
	{"example.", FEDNS_T_NS, 3600, "ns1.example.", NULL},
	{"example.", FEDNS_T_NS, 3600, "ns2.example.", NULL},
	{"ns1.example.", FEDNS_T_A, 3600, NULL, "c0000201"},
	{"ns2.example.", FEDNS_T_A, 3600, NULL, "c0000202"},
	{"www.example.", FEDNS_T_A, 300, NULL, "c0000251"},
	{"www.example.", FEDNS_T_A, 300, NULL, "c0000252"},
	{"mail.example.", FEDNS_T_A, 600, NULL, "c0000219"},
	{"new.example.", FEDNS_T_AAAA, 300, NULL, "20010db8000000000000000000000001"},
};

static bool
has(const fedns_rr *rrs, size_t n, const fedns_rr *want)
{
	for (size_t i = 0; i < n; i++)
		if (rrs[i].type == want->type && rrs[i].ttl == want->ttl &&
		    fedns_name_equal(rrs[i].owner, want->owner) && rrs[i].rdlen == want->rdlen &&
		    memcmp(rrs[i].rdata, want->rdata, want->rdlen) == 0)
			return true;
	return false;
}

static void
test_compute_shape(void **state)
{
	(void)state;
	fedns_zone *a = BUILD(10, BASE), *b = BUILD(11, NEXT);
	fedns_diff d;
	rrbuf r;
	assert_int_equal(fedns_diff_compute(a, b, &d), 0);
	assert_int_equal(d.ndel, 4); /* SOA, www .80, mail at TTL 300, old TXT */
	assert_int_equal(d.nadd, 4); /* SOA, www .82, mail 600, new AAAA */
	assert_int_equal(d.del[0].type, FEDNS_T_SOA);
	assert_int_equal(fedns_soa_serial(d.del[0].rdata, d.del[0].rdlen), 10);
	assert_int_equal(d.add[0].type, FEDNS_T_SOA);
	assert_int_equal(fedns_soa_serial(d.add[0].rdata, d.add[0].rdlen), 11);
	assert_true(has(d.del, d.ndel, mkrr(&r, &BASE[4])));
	assert_true(has(d.del, d.ndel, mkrr(&r, &BASE[6])));
	assert_true(has(d.del, d.ndel, mkrr(&r, &BASE[7])));
	assert_true(has(d.add, d.nadd, mkrr(&r, &NEXT[5])));
	assert_true(has(d.add, d.nadd, mkrr(&r, &NEXT[6])));
	assert_true(has(d.add, d.nadd, mkrr(&r, &NEXT[7])));
	/* unchanged records are in neither list */
	assert_false(has(d.del, d.ndel, mkrr(&r, &BASE[5])));
	assert_false(has(d.add, d.nadd, mkrr(&r, &BASE[5])));
	fedns_diff_fini(&d);

	/* identical zones: just the SOA pair */
	assert_int_equal(fedns_diff_compute(a, a, &d), 0);
	assert_int_equal(d.ndel, 1);
	assert_int_equal(d.nadd, 1);
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(b);
}

static void
test_round_trip(void **state)
{
	(void)state;
	fedns_zone *a = BUILD(10, BASE), *b = BUILD(11, NEXT), *c = NULL, *back = NULL;
	fedns_diff d, rev;
	fedns_diag diag;
	assert_int_equal(fedns_diff_compute(a, b, &d), 0);
	assert_int_equal(fedns_diff_apply(a, &d, &c, &diag), 0);
	assert_non_null(c);
	assert_same_zone(c, b);
	/* and back again */
	assert_int_equal(fedns_diff_compute(c, a, &rev), 0);
	assert_int_equal(fedns_diff_apply(c, &rev, &back, &diag), 0);
	assert_same_zone(back, a);
	fedns_diff_fini(&d);
	fedns_diff_fini(&rev);
	fedns_zone_free(a);
	fedns_zone_free(b);
	fedns_zone_free(c);
	fedns_zone_free(back);
}

/* RRSIGs at one owner are one set per covered type (zone.h): a diff pairs them by covered
 * type, so changing the signature over TXT touches nothing else. */
static fedns_zone *
parse_zone(const char *text)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	name("example.", origin);
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	fedns_zonefile_opts o = {.origin = origin};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &o, z, NULL), 0);
	assert_int_equal(fedns_zone_finish(z, print_errors, NULL), 0);
	return z;
}

static void
test_rrsig_sets_by_covered_type(void **state)
{
	(void)state;
#define RRSIG_ZONE(serial, txtsig)                                                                 \
	"$TTL 300\n@ SOA ns hm " serial " 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"                      \
	"www 300 A 192.0.2.2\nwww 900 TXT \"t\"\n"                                                 \
	"www 300 RRSIG A 8 2 300 20300101000000 20200101000000 1 example. AAAA\n"                  \
	"www 900 RRSIG TXT 8 2 900 20300101000000 20200101000000 1 example. " txtsig "\n"
	const char *ta = RRSIG_ZONE("1", "BBBB"), *tb = RRSIG_ZONE("2", "CCCC");
	fedns_zone *a = parse_zone(ta), *b = parse_zone(tb), *c = NULL;
	fedns_diff d;
	fedns_diag diag;
	assert_int_equal(fedns_diff_compute(a, b, &d), 0);
	/* old SOA + the TXT signature out, new SOA + the new one in; the A signature stays */
	assert_int_equal(d.ndel, 2);
	assert_int_equal(d.nadd, 2);
	assert_int_equal(d.del[1].type, FEDNS_T_RRSIG);
	assert_int_equal(d.del[1].ttl, 900);
	assert_int_equal(fedns_get_u16(d.del[1].rdata), FEDNS_T_TXT);
	assert_int_equal(fedns_diff_apply(a, &d, &c, &diag), 0);
	assert_same_zone(c, b);
	fedns_diff_fini(&d);
	fedns_zone_free(b);
	fedns_zone_free(c);

	/* the signature over A goes away: only it is deleted, the TXT one is not re-sent
	 * (pairing by type alone would match the A set with the TXT set) */
	const char *tnoa =
		"$TTL 300\n@ SOA ns hm 3 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"
		"www 300 A 192.0.2.2\nwww 900 TXT \"t\"\n"
		"www 900 RRSIG TXT 8 2 900 20300101000000 20200101000000 1 example. BBBB\n";
	b = parse_zone(tnoa);
	c = NULL;
	assert_int_equal(fedns_diff_compute(a, b, &d), 0);
	assert_int_equal(d.ndel, 2);
	assert_int_equal(d.nadd, 1);
	assert_int_equal(fedns_get_u16(d.del[1].rdata), FEDNS_T_A);
	assert_int_equal(fedns_diff_apply(a, &d, &c, &diag), 0);
	assert_same_zone(c, b);
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(b);
	fedns_zone_free(c);
}

/* A deterministic generator of zone pairs: many names, wide RRsets, churn of every kind. */
static uint32_t rng_state;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static fedns_zone *
gen_zone(uint32_t serial, uint32_t seed, unsigned names, unsigned churn)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	rrbuf b;
	char owner[64];
	name("example.", origin);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	assert_int_equal(fedns_zone_add(z, mksoa(&b, serial), 0, 1), 0);
	spec ns = {"example.", FEDNS_T_NS, 3600, "ns.example.", NULL};
	spec nsa = {"ns.example.", FEDNS_T_A, 3600, NULL, "c0000201"};
	assert_int_equal(fedns_zone_add(z, mkrr(&b, &ns), 0, 1), 0);
	assert_int_equal(fedns_zone_add(z, mkrr(&b, &nsa), 0, 1), 0);
	rng_state = seed;
	for (unsigned i = 0; i < names; i++) {
		unsigned width = 1 + rng() % 6;
		uint32_t ttl = 300;
		for (unsigned k = 0; k < width; k++) {
			uint32_t r = rng();
			/* the churn changes a fraction of the records between zones */
			if (churn && r % 100 < churn) {
				if (r % 3 == 0)
					continue; /* dropped */
				if (r % 3 == 1)
					ttl = 600; /* TTL change of the set */
			}
			char hex[9];
			snprintf(owner, sizeof(owner), "h%u.%s.example.", i, i % 7 ? "a" : "B");
			snprintf(hex, sizeof(hex), "0a%02x%02x%02x", (i >> 8) & 255, i & 255,
				 (r % 3 == 2 && churn && r % 100 < churn) ? 200 + k : k);
			spec s = {owner, FEDNS_T_A, ttl, NULL, hex};
			assert_int_equal(fedns_zone_add(z, mkrr(&b, &s), 0, 1), 0);
		}
	}
	assert_int_equal(fedns_zone_finish(z, print_errors, NULL), 0);
	return z;
}

static void
test_round_trip_generated(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 4; seed++) {
		fedns_zone *a = gen_zone(100, seed, 500, 0);
		fedns_zone *b = gen_zone(101, seed, 500, 20 * seed);
		fedns_zone *c = NULL;
		fedns_diff d;
		fedns_diag diag;
		assert_int_equal(fedns_diff_compute(a, b, &d), 0);
		assert_true(d.ndel > 1 && d.nadd > 1);
		assert_int_equal(fedns_diff_apply(a, &d, &c, &diag), 0);
		assert_same_zone(c, b);
		fedns_diff_fini(&d);
		fedns_zone_free(a);
		fedns_zone_free(b);
		fedns_zone_free(c);
	}
}

/* Hand-built diff helper: old SOA, new SOA, then the given deletions and additions. */
static void
start_diff(fedns_diff *d, uint32_t old_serial, uint32_t new_serial)
{
	rrbuf b;
	fedns_diff_init(d);
	assert_int_equal(fedns_diff_del(d, mksoa(&b, old_serial)), 0);
	assert_int_equal(fedns_diff_add(d, mksoa(&b, new_serial)), 0);
}

/* Every failure leaves base as it was and *out untouched; the diag names the record. */
static void
expect_fail(const fedns_zone *base, const fedns_diff *d, fedns_err code, const char *needle)
{
	uint8_t before[48], after[48];
	size_t len;
	size_t count = fedns_zone_rr_count(base);
	fedns_zone *out = (fedns_zone *)(uintptr_t)0x1;
	fedns_diag diag;
	assert_int_equal(fedns_zonemd_compute(base, 1, before, &len), 0);
	assert_int_equal(fedns_diff_apply(base, d, &out, &diag), code);
	assert_int_equal(diag.code, code);
	assert_ptr_equal(out, (fedns_zone *)(uintptr_t)0x1);
	if (getenv("SHOW_DIAG"))
		print_message("%s\n", diag.msg);
	if (strstr(diag.msg, needle) == NULL)
		fail_msg("diag \"%s\" does not contain \"%s\"", diag.msg, needle);
	assert_int_equal(fedns_zone_rr_count(base), count);
	assert_int_equal(fedns_zonemd_compute(base, 1, after, &len), 0);
	assert_memory_equal(before, after, 48);
}

static void
test_apply_failures(void **state)
{
	(void)state;
	fedns_zone *a = BUILD(10, BASE);
	fedns_diff d;
	rrbuf b;

	/* deleting a record that is not there, after one that is */
	start_diff(&d, 10, 11);
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &BASE[4])), 0);
	spec missing = {"www.example.", FEDNS_T_A, 300, NULL, "c0000263"};
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &missing)), 0);
	expect_fail(a, &d, FEDNS_ENOENT, "www.example.");
	expect_fail(a, &d, FEDNS_ENOENT, "192.0.2.99");
	expect_fail(a, &d, FEDNS_ENOENT, "no such record");
	fedns_diff_fini(&d);

	/* the same owner/type with other rdata is not a match either */
	start_diff(&d, 10, 11);
	spec other = {"ns1.example.", FEDNS_T_AAAA, 3600, NULL, "20010db8000000000000000000000001"};
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &other)), 0);
	expect_fail(a, &d, FEDNS_ENOENT, "ns1.example.");
	fedns_diff_fini(&d);

	/* adding a record that exists (TTL differs, still the same record) */
	start_diff(&d, 10, 11);
	spec dup = {"mail.example.", FEDNS_T_A, 999, NULL, "c0000219"};
	spec fresh = {"fresh.example.", FEDNS_T_A, 300, NULL, "c0000209"};
	assert_int_equal(fedns_diff_add(&d, mkrr(&b, &fresh)), 0);
	assert_int_equal(fedns_diff_add(&d, mkrr(&b, &dup)), 0);
	expect_fail(a, &d, FEDNS_EEXIST, "mail.example.");
	expect_fail(a, &d, FEDNS_EEXIST, "already in the zone");
	fedns_diff_fini(&d);

	/* stale base: the diff was made against serial 9 */
	start_diff(&d, 9, 11);
	expect_fail(a, &d, FEDNS_ESTALE, "serial 10");
	fedns_diff_fini(&d);

	/* a diff not shaped like IXFR */
	fedns_diff_init(&d);
	expect_fail(a, &d, FEDNS_EINVAL, "SOA");
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &BASE[4])), 0);
	assert_int_equal(fedns_diff_add(&d, mksoa(&b, 11)), 0);
	expect_fail(a, &d, FEDNS_EINVAL, "old SOA");
	fedns_diff_fini(&d);

	/* the same deletion twice */
	start_diff(&d, 10, 11);
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &BASE[4])), 0);
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &BASE[4])), 0);
	expect_fail(a, &d, FEDNS_EINVAL, "twice");
	fedns_diff_fini(&d);

	/* a result that breaks a zone rule: CNAME next to other data */
	start_diff(&d, 10, 11);
	spec cname = {"www.example.", FEDNS_T_CNAME, 300, "mail.example.", NULL};
	assert_int_equal(fedns_diff_add(&d, mkrr(&b, &cname)), 0);
	expect_fail(a, &d, FEDNS_EZONE, "www.example");
	fedns_diff_fini(&d);

	/* data outside the zone */
	start_diff(&d, 10, 11);
	spec outside = {"www.example.org.", FEDNS_T_A, 300, NULL, "c0000201"};
	assert_int_equal(fedns_diff_add(&d, mkrr(&b, &outside)), 0);
	expect_fail(a, &d, FEDNS_EZONE, "www.example.org.");
	fedns_diff_fini(&d);

	fedns_zone_free(a);
}

/* Deleting and re-adding the same record (a TTL change) is allowed. */
static void
test_apply_readd(void **state)
{
	(void)state;
	fedns_zone *a = BUILD(10, BASE), *c = NULL;
	fedns_diff d;
	fedns_diag diag;
	rrbuf b;
	start_diff(&d, 10, 11);
	assert_int_equal(fedns_diff_del(&d, mkrr(&b, &BASE[6])), 0);
	spec longer = BASE[6];
	longer.ttl = 7200;
	assert_int_equal(fedns_diff_add(&d, mkrr(&b, &longer)), 0);
	assert_int_equal(fedns_diff_apply(a, &d, &c, &diag), 0);
	const fedns_rrset *s = fedns_zone_find(c, b.owner, FEDNS_T_A);
	assert_non_null(s);
	assert_int_equal(s->ttl, 7200);
	assert_int_equal(fedns_zone_serial(c), 11);
	assert_int_equal(fedns_zone_serial(a), 10);
	assert_int_equal(fedns_zone_rr_count(c), fedns_zone_rr_count(a));
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(c);
}

static void
test_diff_copies(void **state)
{
	(void)state;
	fedns_diff d;
	rrbuf b;
	spec s = {"www.example.", FEDNS_T_A, 300, NULL, "c0000250"};
	fedns_diff_init(&d);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fedns_diff_add(&d, mkrr(&b, &s)), 0);
	memset(&b, 0xee, sizeof(b)); /* the diff must hold its own copies */
	assert_int_equal(d.nadd, 100);
	assert_int_equal(d.add[99].rdlen, 4);
	assert_memory_equal(d.add[99].rdata, "\xc0\x00\x02\x50", 4);
	assert_int_equal(fedns_name_len(d.add[99].owner), 13);
	fedns_diff_fini(&d);
	fedns_diff_fini(NULL);
	fedns_rr bad = {.owner = NULL};
	fedns_diff_init(&d);
	assert_int_equal(fedns_diff_del(&d, &bad), FEDNS_EINVAL);
	assert_int_equal(d.ndel, 0);
	fedns_diff_fini(&d);
}

static void
test_compute_mismatched_origin(void **state)
{
	(void)state;
	fedns_zone *a = BUILD(10, BASE), *other = NULL;
	uint8_t origin[FEDNS_NAME_MAXLEN];
	rrbuf b;
	name("example.org.", origin);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &other), 0);
	b.rr = *mksoa(&b, 1);
	name("example.org.", b.owner);
	assert_int_equal(fedns_zone_add(other, &b.rr, 0, 1), 0);
	spec ns = {"example.org.", FEDNS_T_NS, 3600, "ns.example.", NULL};
	assert_int_equal(fedns_zone_add(other, mkrr(&b, &ns), 0, 1), 0);
	assert_int_equal(fedns_zone_finish(other, print_errors, NULL), 0);
	fedns_diff d;
	assert_int_equal(fedns_diff_compute(a, other, &d), FEDNS_EINVAL);
	assert_int_equal(d.ndel, 0);
	assert_int_equal(d.nadd, 0);
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compute_shape),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rrsig_sets_by_covered_type),
		cmocka_unit_test(test_round_trip_generated),
		cmocka_unit_test(test_apply_failures),
		cmocka_unit_test(test_apply_readd),
		cmocka_unit_test(test_diff_copies),
		cmocka_unit_test(test_compute_mismatched_origin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
