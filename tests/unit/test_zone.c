/* SPDX-License-Identifier: Apache-2.0 */
/* Zone model: canonical order, duplicate folding, TTL unification, every zone rule with its
 * message and line, lookups, walks and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diag.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#define HEAD                                                                                       \
	"$TTL 300\n"                                                                               \
	"@ IN SOA ns1 host 7 2 3 4 5\n"                                                            \
	"@ IN NS ns1\n"                                                                            \
	"ns1 IN A 192.0.2.1\n"
/* Lines of HEAD, so tests can name the lines of what they append. */
#define HEAD_LINES 4

static uint8_t *
name(const char *s)
{
	static uint8_t buf[4][FEDNS_NAME_MAXLEN];
	static int next;
	uint8_t *out = buf[next++ % 4];
	size_t len;
	assert_int_equal(fedns_name_from_text(s, strlen(s), NULL, out, &len, NULL), FEDNS_OK);
	return out;
}

/* Every diagnostic of the last load, "E file:line: msg" for errors, "W ..." for warnings. */
static char diags[8192];
static int ndiags;

static int
collect(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	char line[1024];
	size_t n = strlen(diags);
	snprintf(diags + n, sizeof(diags) - n, "%c %s\n", d->code == FEDNS_OK ? 'W' : 'E',
		 fedns_diag_format(d, line, sizeof(line)));
	ndiags++;
	return 0;
}

/* Parses 'text' as zone example.com. and finishes it. *zp gets the zone (free it). */
static fedns_err
load(const char *text, fedns_zone **zp)
{
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_zonefile_opts opts = {.origin = name("example.com.")};
	diags[0] = '\0';
	ndiags = 0;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zone_new(opts.origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_err err = fedns_zonefile_parse("t.zone", text, strlen(text), &opts, z, &d);
	if (err != FEDNS_OK) {
		char buf[1024];
		fail_msg("parse failed: %s", fedns_diag_format(&d, buf, sizeof(buf)));
	}
	err = fedns_zone_finish(z, collect, NULL);
	*zp = z;
	return err;
}

static void
expect_ok(const char *text)
{
	fedns_zone *z;
	fedns_err err = load(text, &z);
	if (err != FEDNS_OK)
		fail_msg("expected the zone to load, got %d:\n%s", err, diags);
	fedns_zone_free(z);
}

/* The zone is refused and the diagnostics hold 'want' (a whole "E file:line: msg" line). */
static void
expect_refused(const char *text, const char *want)
{
	fedns_zone *z;
	assert_int_equal(load(text, &z), FEDNS_EZONE);
	if (strstr(diags, want) == NULL)
		fail_msg("missing \"%s\" in:\n%s", want, diags);
	/* a refused zone is unusable */
	assert_null(fedns_zone_find(z, name("example.com."), FEDNS_T_SOA));
	assert_int_equal(fedns_zone_rrset_count(z), 0);
	fedns_zone_free(z);
}

static void
expect_warned(const char *text, const char *want)
{
	fedns_zone *z;
	fedns_err err = load(text, &z);
	if (err != FEDNS_OK)
		fail_msg("expected the zone to load, got %d:\n%s", err, diags);
	if (strstr(diags, want) == NULL)
		fail_msg("missing \"%s\" in:\n%s", want, diags);
	fedns_zone_free(z);
}

static void
add(fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl, const void *rd, uint16_t len,
    uint32_t line)
{
	fedns_rr rr = {.owner = name(owner),
		       .type = type,
		       .rclass = FEDNS_C_IN,
		       .ttl = ttl,
		       .rdlen = len,
		       .rdata = rd};
	assert_int_equal(fedns_zone_add(z, &rr, 1, line), FEDNS_OK);
}

/* SOA, NS and the NS's address, staged directly. */
static void
add_head(fedns_zone *z)
{
	uint8_t soa[FEDNS_NAME_MAXLEN * 2 + 20];
	size_t l1, l2;
	assert_int_equal(fedns_name_from_text("ns1.example.com.", 16, NULL, soa, &l1, NULL), 0);
	assert_int_equal(fedns_name_from_text("h.example.com.", 14, NULL, soa + l1, &l2, NULL), 0);
	memset(soa + l1 + l2, 0, 20);
	soa[l1 + l2 + 3] = 42; /* serial */
	add(z, "example.com.", FEDNS_T_SOA, 300, soa, (uint16_t)(l1 + l2 + 20), 1);
	add(z, "example.com.", FEDNS_T_NS, 300, soa, (uint16_t)l1, 2);
	add(z, "ns1.example.com.", FEDNS_T_A, 300, "\xc0\x00\x02\x01", 4, 3);
}

/* Owner text and type of every RR, in walk order. */
typedef struct walked {
	char text[8192];
	int n;
	int stop_at;
} walked;

static int
walk_fn(void *ctx, const fedns_rr *rr)
{
	walked *w = ctx;
	char owner[FEDNS_NAME_MAXTEXT], type[16];
	size_t n = strlen(w->text);
	fedns_name_to_text(rr->owner, owner, sizeof(owner));
	snprintf(w->text + n, sizeof(w->text) - n, "%s %s\n", owner,
		 fedns_rrtype_to_text(rr->type, type));
	w->n++;
	return w->n == w->stop_at ? 77 : 0;
}

static void
test_canonical_order(void **state)
{
	(void)state;
	/* RFC 4034 §6.1's example, staged in a shuffled order with mixed case */
	static const char *const order[] = {
		"example.com.",		"a.example.com.",      "yljkjljk.a.example.com.",
		"Z.a.example.com.",	"zABC.a.EXAMPLE.com.", "z.example.com.",
		"\\001.z.example.com.", "*.z.example.com.",    "\\200.z.example.com.",
	};
	static const int shuffled[] = {5, 2, 8, 0, 7, 3, 1, 6, 4};
	fedns_zone *z;
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	assert_int_equal(fedns_zone_add_source(z, "t.zone"), 1);
	for (size_t i = 0; i < 9; i++) {
		add(z, order[shuffled[i]], FEDNS_T_TXT, 300, "\x01x", 2, (uint32_t)i + 10);
		add(z, order[shuffled[i]], FEDNS_T_A, 300, "\x0a\x00\x00\x01", 4, (uint32_t)i + 30);
	}
	add_head(z);
	assert_int_equal(fedns_zone_finish(z, collect, NULL), FEDNS_OK);

	walked w = {.stop_at = -1};
	assert_int_equal(fedns_zone_walk(z, walk_fn, &w), 0);
	assert_string_equal(w.text, "example.com. A\n"
				    "example.com. NS\n"
				    "example.com. SOA\n"
				    "example.com. TXT\n"
				    "a.example.com. A\n"
				    "a.example.com. TXT\n"
				    "yljkjljk.a.example.com. A\n"
				    "yljkjljk.a.example.com. TXT\n"
				    "Z.a.example.com. A\n"
				    "Z.a.example.com. TXT\n"
				    "zABC.a.EXAMPLE.com. A\n"
				    "zABC.a.EXAMPLE.com. TXT\n"
				    "ns1.example.com. A\n"
				    "z.example.com. A\n"
				    "z.example.com. TXT\n"
				    "\\001.z.example.com. A\n"
				    "\\001.z.example.com. TXT\n"
				    "*.z.example.com. A\n"
				    "*.z.example.com. TXT\n"
				    "\\200.z.example.com. A\n"
				    "\\200.z.example.com. TXT\n");
	assert_int_equal(fedns_zone_rr_count(z), 21);
	assert_int_equal(fedns_zone_rrset_count(z), 21);
	assert_int_equal(fedns_zone_serial(z), 42);
	assert_true(fedns_zone_memory(z) > 21 * sizeof(fedns_rrset));

	/* the walk stops at the first nonzero return and passes it on */
	walked w2 = {.stop_at = 3};
	assert_int_equal(fedns_zone_walk(z, walk_fn, &w2), 77);
	assert_int_equal(w2.n, 3);

	/* the iterator gives the same sets */
	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	size_t n = 0;
	const fedns_rrset *s, *prev = NULL;
	while ((s = fedns_zone_iter_next(&it)) != NULL) {
		if (prev != NULL) {
			int c = fedns_name_cmp_canonical(prev->owner, s->owner);
			assert_true(c < 0 || (c == 0 && prev->type < s->type));
		}
		prev = s;
		n++;
	}
	assert_int_equal(n, 21);
	assert_null(fedns_zone_iter_next(&it));
	fedns_zone_free(z);
}

/* Many owners (the radix path), a large RRset (the merge path), all shuffled. */
static void
test_order_large(void **state)
{
	(void)state;
	fedns_zone *z;
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	add_head(z);
	uint32_t x = 12345;
	for (int i = 0; i < 3000; i++) {
		char o[64];
		x = x * 1103515245u + 12345u;
		snprintf(o, sizeof(o), "%s%u.%s.example.com.", (x >> 20) & 1 ? "H" : "h",
			 (x >> 8) % 5000, (x >> 4) % 3 ? "x" : "sub.x");
		uint8_t rd[4] = {10, 0, (uint8_t)(x >> 24), (uint8_t)(x >> 16)};
		add(z, o, FEDNS_T_A, 300, rd, 4, (uint32_t)i + 10);
	}
	for (int i = 0; i < 200; i++) {
		uint8_t rd[4] = {10, 1, (uint8_t)((i * 7919) % 256), (uint8_t)((i * 31) % 7)};
		add(z, "big.example.com.", FEDNS_T_A, 300, rd, 4, (uint32_t)i + 5000);
	}
	assert_int_equal(fedns_zone_finish(z, collect, NULL), FEDNS_OK);

	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	const fedns_rrset *s, *prev = NULL;
	size_t rrs = 0;
	while ((s = fedns_zone_iter_next(&it)) != NULL) {
		if (prev != NULL) {
			int c = fedns_name_cmp_canonical(prev->owner, s->owner);
			assert_true(c < 0 || (c == 0 && prev->type < s->type));
			/* one owner, one name pointer: names are interned */
			if (c == 0)
				assert_ptr_equal(prev->owner, s->owner);
		}
		const uint8_t *pos = s->rdata, *last = NULL;
		uint16_t lastlen = 0;
		for (uint32_t i = 0; i < s->count; i++) {
			uint16_t len;
			const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
			if (last != NULL)
				assert_true(fedns_rdata_cmp(s->type, last, lastlen, rd, len) < 0);
			last = rd;
			lastlen = len;
		}
		rrs += s->count;
		prev = s;
	}
	assert_int_equal(rrs, fedns_zone_rr_count(z));
	const fedns_rrset *big = fedns_zone_find(z, name("BIG.example.com."), FEDNS_T_A);
	assert_non_null(big);
	/* 7919 is odd, so (i * 7919) % 256 differs for every i below 256: no duplicates */
	assert_int_equal(big->count, 200);
	fedns_zone_free(z);
}

static void
test_duplicates_fold(void **state)
{
	(void)state;
	fedns_zone *z;
	assert_int_equal(load(HEAD "www A 10.0.0.1\n"
				   "www A 10.0.0.1\n"
				   "www NS a.example.net.\n"
				   "www NS A.EXAMPLE.NET.\n"
				   "a.www A 10.0.0.3\n"
				   "www A 10.0.0.2\n",
			      &z),
			 FEDNS_OK);
	assert_int_equal(ndiags, 0);
	const fedns_rrset *a = fedns_zone_find(z, name("www.example.com."), FEDNS_T_A);
	assert_non_null(a);
	assert_int_equal(a->count, 2);
	/* names in NS rdata compare case-insensitively: one RR, the first spelling kept */
	const fedns_rrset *ns = fedns_zone_find(z, name("www.example.com."), FEDNS_T_NS);
	assert_non_null(ns);
	assert_int_equal(ns->count, 1);
	const uint8_t *pos = ns->rdata;
	uint16_t len;
	const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
	assert_int_equal(len, 15);
	assert_memory_equal(rd,
			    "\x01"
			    "a\x07"
			    "example\x03net\x00",
			    15);
	assert_int_equal(fedns_zone_rr_count(z), 3 + 2 + 1 + 1);
	fedns_zone_free(z);
}

static void
test_ttl_unification(void **state)
{
	(void)state;
	fedns_zone *z;
	/* within a run of lines with one owner the first TTL wins, even when its RR sorts last */
	assert_int_equal(load(HEAD "www 300 A 10.0.0.9\n"
				   "www 600 A 10.0.0.1\n",
			      &z),
			 FEDNS_OK);
	assert_string_equal(diags, "W t.zone:6: www.example.com. A: TTL 600 differs from the TTL "
				   "300 of the RRset before it; using 300\n");
	const fedns_rrset *a = fedns_zone_find(z, name("www.example.com."), FEDNS_T_A);
	assert_non_null(a);
	assert_int_equal(a->ttl, 300);
	assert_int_equal(a->count, 2);
	fedns_zone_free(z);

	/* a later run that adds to the set brings its own TTL, silently (named-compilezone
	 * prints this set with TTL 50); the case of the owner does not break a run */
	assert_int_equal(load(HEAD "a 300 A 192.0.2.1\n"
				   "b A 192.0.2.2\n"
				   "a 900 A 192.0.2.3\n"
				   "A 100 A 192.0.2.4\n"
				   "b A 192.0.2.5\n"
				   "a 50 A 192.0.2.6\n"
				   "a 70 TXT x\n",
			      &z),
			 FEDNS_OK);
	assert_string_equal(diags, "W t.zone:8: a.example.com. A: TTL 100 differs from the TTL "
				   "900 of the RRset before it; using 900\n");
	a = fedns_zone_find(z, name("a.example.com."), FEDNS_T_A);
	assert_non_null(a);
	assert_int_equal(a->ttl, 50);
	assert_int_equal(a->count, 4);
	fedns_zone_free(z);
}

static void
test_ttl_above_max(void **state)
{
	(void)state;
	fedns_zone *z;
	/* named-checkzone warns and uses 0 (RFC 2181 §8); so do we */
	assert_int_equal(load(HEAD "www 2147483648 A 10.0.0.1\n"
				   "ok 2147483647 A 10.0.0.1\n",
			      &z),
			 FEDNS_OK);
	assert_string_equal(diags, "W t.zone:5: www.example.com. A: TTL 2147483648 is above "
				   "2147483647 (RFC 2181 section 8); using 0\n");
	assert_int_equal(fedns_zone_find(z, name("www.example.com."), FEDNS_T_A)->ttl, 0);
	assert_int_equal(fedns_zone_find(z, name("ok.example.com."), FEDNS_T_A)->ttl, 2147483647u);
	fedns_zone_free(z);
}

static void
test_rrsig_ttl_per_covered_type(void **state)
{
	(void)state;
	fedns_zone *z;
#define SIG " 13 3 300 20260101000000 20250101000000 4711 example.com. AwEAAcMnWBKL\n"
	assert_int_equal(load(HEAD "www 300 A 192.0.2.80\n"
				   "www 900 TXT \"signed\"\n"
				   "www 900 RRSIG TXT" SIG "www 300 RRSIG A" SIG,
			      &z),
			 FEDNS_OK);
	/* different TTLs for different covered types are not a conflict */
	assert_int_equal(ndiags, 0);
	const fedns_rrset *s = fedns_zone_find(z, name("www.example.com."), FEDNS_T_RRSIG);
	assert_non_null(s);
	assert_int_equal(s->count, 1);
	assert_int_equal(s->ttl, 300); /* covers A, which sorts first */
	assert_int_equal(s[1].type, FEDNS_T_RRSIG);
	assert_int_equal(s[1].ttl, 900);
	assert_int_equal(fedns_zone_rr_count(z), 3 + 4);
	/* contains looks at every RRSIG set of the name */
	const uint8_t *pos = s[1].rdata;
	fedns_rr rr = {
		.owner = name("WWW.example.com."), .type = FEDNS_T_RRSIG, .rclass = FEDNS_C_IN};
	rr.rdata = fedns_rrset_next_rdata(&pos, &rr.rdlen);
	assert_true(fedns_zone_contains(z, &rr));
	fedns_zone_free(z);
#undef SIG
}

static void
test_cname_rules(void **state)
{
	(void)state;
	/* named-checkzone: "CNAME and other data" at the line where the conflict appears */
	expect_refused(HEAD "www CNAME ns1\n"
			    "www A 10.0.0.1\n",
		       "E t.zone:6: CNAME and other data at www.example.com.\n");
	expect_refused(HEAD "www A 10.0.0.1\n"
			    "www CNAME ns1\n",
		       "E t.zone:6: CNAME and other data at www.example.com.\n");
	expect_refused(HEAD "www CNAME ns1\n"
			    "www DNAME ns1\n",
		       "E t.zone:6: CNAME and other data at www.example.com.\n");
	/* "multiple RRs of singleton type" */
	expect_refused(HEAD "www CNAME ns1\n"
			    "www CNAME ns2\n",
		       "E t.zone:6: www.example.com.: more than one CNAME record (a singleton "
		       "type)\n");
	expect_refused(HEAD "www DNAME a.example.net.\n"
			    "www DNAME b.example.net.\n",
		       "E t.zone:6: www.example.com.: more than one DNAME record (a singleton "
		       "type)\n");
	expect_refused(HEAD "@ CNAME ns1\n",
		       "E t.zone:5: CNAME at the zone apex example.com. (the apex holds SOA and "
		       "NS)\n");
	/* RRSIG, NSEC and KEY may stand beside a CNAME; an identical CNAME twice is one */
	expect_ok(HEAD "www CNAME ns1\n"
		       "www CNAME NS1\n"
		       "www NSEC ns1 A\n"
		       "www TYPE25 \\# 4 01000308\n"
		       "www RRSIG A 8 3 300 20300101000000 20200101000000 1 example.com. AAAA\n");
}

static void
test_soa_ns_rules(void **state)
{
	(void)state;
	expect_refused(HEAD "@ SOA ns2 host 8 2 3 4 5\n",
		       "E t.zone:5: example.com.: more than one SOA record (a singleton type)\n");
	expect_refused(HEAD "sub SOA ns2 host 8 2 3 4 5\n",
		       "E t.zone:5: SOA record not at the top of the zone (sub.example.com.)\n");
	expect_refused("$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n",
		       "E t.zone: example.com.: no SOA record at the zone apex\n");
	expect_refused("$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nns1 A 192.0.2.1\nsub NS ns1\n",
		       "E t.zone: example.com.: no NS records at the zone apex\n");
}

static void
test_out_of_zone(void **state)
{
	(void)state;
	/* BIND ignores it with a warning; fedns refuses data it would silently drop */
	expect_refused(HEAD "www.other.org. A 10.0.0.1\n"
			    "www A 10.0.0.1\n"
			    "example.com.example.org. A 10.0.0.2\n",
		       "E t.zone:5: www.other.org.: out of zone (origin example.com.)\n");
	fedns_zone *z;
	assert_int_equal(load(HEAD "www.other.org. A 10.0.0.1\n"
				   "com. A 10.0.0.1\n",
			      &z),
			 FEDNS_EZONE);
	assert_string_equal(diags, "E t.zone:5: www.other.org.: out of zone (origin example.com.)\n"
				   "E t.zone:6: com.: out of zone (origin example.com.)\n");
	fedns_zone_free(z);
}

static void
test_ns_targets(void **state)
{
	(void)state;
	/* apex NS: an in-zone target without an address is an error */
	expect_refused(HEAD "@ NS ns3\n",
		       "E t.zone:3: NS 'ns3.example.com.' has no address records (A or AAAA)\n");
	expect_refused(HEAD "@ NS alias\nalias CNAME ns1\n",
		       "E t.zone:3: NS 'alias.example.com.' is a CNAME (illegal)\n");
	expect_refused(HEAD "sub DNAME other.org.\n@ NS ns.sub\nns.sub A 10.0.0.1\n",
		       "E t.zone:3: NS 'ns.sub.example.com.' is below a DNAME 'sub.example.com.' "
		       "(illegal)\n");
	/* an AAAA is enough; a target outside the zone is not checked */
	expect_ok(HEAD "@ NS ns6\nns6 AAAA ::1\n@ NS ns.example.net.\n");
	/* an apex NS below a delegation is not checked, as in BIND */
	expect_ok(HEAD "@ NS ns.sub\nsub NS ns1\n");
	/* delegations: glue and occluded data accepted, missing addresses only warned */
	expect_ok(HEAD "sub NS ns.sub\nns.sub A 10.0.0.1\nx.sub TXT \"occluded\"\n");
	expect_warned(HEAD "sub NS ns.sub\n",
		      "W t.zone:5: sub.example.com./NS 'ns.sub.example.com.' has no REQUIRED "
		      "GLUE address records (A or AAAA)\n");
	expect_warned(HEAD "sub NS ns.sub2\nsub2 NS ns1\n",
		      "W t.zone:5: sub.example.com./NS 'ns.sub2.example.com.' has no SIBLING GLUE "
		      "address records (A or AAAA)\n");
	expect_warned(HEAD "sub NS ns3\n", "W t.zone:5: sub.example.com./NS 'ns3.example.com.' "
					   "has no address records (A or AAAA)\n");
}

static void
test_wildcard_targets(void **state)
{
	(void)state;
	/* a target that only a wildcard answers is looked up as a query would (RFC 4592) */
	expect_ok(HEAD "@ NS a.b.sub\n*.sub A 10.0.0.1\n");
	expect_refused(HEAD "@ NS a.w\n*.w CNAME ns1\n",
		       "E t.zone:3: NS 'a.w.example.com.' is a CNAME (illegal)\n");
	/* the closest encloser b.sub exists, so *.sub does not apply */
	expect_refused(HEAD "@ NS a.b.sub\nb.sub TXT x\n*.sub A 10.0.0.1\n",
		       "E t.zone:3: NS 'a.b.sub.example.com.' has no address records (A or "
		       "AAAA)\n");
	/* nor to an empty non-terminal */
	expect_refused(HEAD "@ NS foo.sub\nx.foo.sub A 10.0.0.1\n*.sub A 10.0.0.1\n",
		       "E t.zone:3: NS 'foo.sub.example.com.' has no address records (A or "
		       "AAAA)\n");
}

static void
test_ds_apex_and_type0(void **state)
{
	(void)state;
	expect_refused(HEAD "@ DS 12345 13 2 "
			    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
		       "E t.zone:5: DS record at the top of the zone (example.com.)\n");
	expect_ok(HEAD "sub NS ns1\nsub DS 12345 13 2 "
		       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	fedns_zone *z;
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_rr rr = {.owner = name("x.example.com."), .type = 0, .rclass = FEDNS_C_IN};
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_EZONE);
	fedns_zone_free(z);
}

static void
test_mx_srv_targets(void **state)
{
	(void)state;
	expect_warned(HEAD "www MX 10 mail\n", "W t.zone:5: www.example.com./MX "
					       "'mail.example.com.' has no address records (A or "
					       "AAAA)\n");
	expect_warned(HEAD "_x._tcp SRV 1 1 1 svc\n",
		      "W t.zone:5: _x._tcp.example.com./SRV 'svc.example.com.' has no address "
		      "records (A or AAAA)\n");
	expect_warned(
		HEAD "www MX 10 alias\nalias CNAME ns1\n",
		"W t.zone:5: www.example.com./MX 'alias.example.com.' is a CNAME (illegal)\n");
	/* null MX (RFC 7505), out-of-zone and addressed targets draw nothing */
	fedns_zone *z;
	assert_int_equal(load(HEAD "www MX 0 .\nwww MX 10 mx.example.net.\nwww MX 20 ns1\n", &z),
			 FEDNS_OK);
	assert_int_equal(ndiags, 0);
	fedns_zone_free(z);
}

static void
test_dname_apex(void **state)
{
	(void)state;
	/* DNAME at the apex is legal, but then the in-zone NS target sits below it */
	expect_refused(HEAD "@ DNAME other.org.\n", "E t.zone:3: NS 'ns1.example.com.' is below "
						    "a DNAME 'example.com.' (illegal)\n");
	expect_ok(HEAD "d DNAME other.org.\nx.d A 10.0.0.1\n");
}

static void
test_add_refusals(void **state)
{
	(void)state;
	fedns_zone *z;
	fedns_zone_limits lim = {.max_records = 3};
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, &lim, &z), FEDNS_OK);
	fedns_rr rr = {.owner = name("www.example.com."),
		       .type = FEDNS_T_A,
		       .rclass = FEDNS_C_CH,
		       .ttl = 1,
		       .rdlen = 4,
		       .rdata = (const uint8_t *)"\x01\x02\x03\x04"};
	/* class mismatch and meta types are refused at once, nothing staged */
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_EZONE);
	rr.rclass = FEDNS_C_IN;
	rr.type = FEDNS_T_AXFR;
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_EZONE);
	rr.type = FEDNS_T_A;
	rr.rdlen = 3;
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_EMALFORMED);
	rr.rdlen = 4;
	assert_int_equal(fedns_zone_rr_count(z), 0);
	/* max_records: the fourth RR is one too many */
	for (int i = 0; i < 3; i++)
		assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_OK);
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_ETOOBIG);
	assert_int_equal(fedns_zone_rr_count(z), 3);
	fedns_zone_free(z);

	/* max_bytes: names and rdata count */
	fedns_zone_limits small = {.max_bytes = 64};
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, &small, &z), FEDNS_OK);
	fedns_err err = FEDNS_OK;
	int n = 0;
	for (; n < 100 && err == FEDNS_OK; n++) {
		char o[32];
		snprintf(o, sizeof(o), "h%d.example.com.", n);
		rr.owner = name(o);
		err = fedns_zone_add(z, &rr, 0, 1);
	}
	assert_int_equal(err, FEDNS_ETOOBIG);
	assert_in_range(n, 2, 4);
	fedns_zone_free(z);
}

static int
stop_sink(void *ctx, const fedns_diag *d)
{
	(void)d;
	(*(int *)ctx)++;
	return 1;
}

static void
test_empty_and_states(void **state)
{
	(void)state;
	fedns_zone *z;
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	diags[0] = '\0';
	ndiags = 0;
	assert_int_equal(fedns_zone_finish(z, collect, NULL), FEDNS_EZONE);
	assert_string_equal(diags, "E example.com.: no SOA record at the zone apex\n"
				   "E example.com.: no NS records at the zone apex\n");
	/* finish once; no staging afterwards */
	assert_int_equal(fedns_zone_finish(z, collect, NULL), FEDNS_EINVAL);
	fedns_zone_free(z);

	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	add_head(z);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	fedns_rr rr = {.owner = name("www.example.com."),
		       .type = FEDNS_T_A,
		       .rclass = FEDNS_C_IN,
		       .rdlen = 4,
		       .rdata = (const uint8_t *)"\x01\x02\x03\x04"};
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), FEDNS_EINVAL);
	assert_int_equal(fedns_zone_class(z), FEDNS_C_IN);
	assert_true(fedns_name_equal(fedns_zone_origin(z), name("EXAMPLE.COM.")));
	fedns_zone_free(z);
	fedns_zone_free(NULL);

	/* a sink that says stop hears no more, but the verdict stays right */
	assert_int_equal(fedns_zone_new(name("example.com."), FEDNS_C_IN, NULL, &z), FEDNS_OK);
	int heard = 0;
	assert_int_equal(fedns_zone_finish(z, stop_sink, &heard), FEDNS_EZONE);
	assert_int_equal(heard, 1);
	fedns_zone_free(z);
}

static void
test_find_contains(void **state)
{
	(void)state;
	fedns_zone *z;
	assert_int_equal(load(HEAD "www A 10.0.0.1\n"
				   "www A 10.0.0.2\n"
				   "www MX 10 Mail.Example.COM.\n"
				   "mail A 10.0.0.3\n",
			      &z),
			 FEDNS_OK);
	assert_int_equal(fedns_zone_serial(z), 7);
	const fedns_rrset *s = fedns_zone_find(z, name("WWW.EXAMPLE.COM."), FEDNS_T_A);
	assert_non_null(s);
	assert_int_equal(s->count, 2);
	assert_int_equal(s->ttl, 300);
	assert_int_equal(s->rclass, FEDNS_C_IN);
	const uint8_t *pos = s->rdata;
	uint16_t len;
	assert_memory_equal(fedns_rrset_next_rdata(&pos, &len), "\x0a\x00\x00\x01", 4);
	assert_int_equal(len, 4);
	assert_memory_equal(fedns_rrset_next_rdata(&pos, &len), "\x0a\x00\x00\x02", 4);
	assert_null(fedns_zone_find(z, name("www.example.com."), FEDNS_T_AAAA));
	assert_null(fedns_zone_find(z, name("nope.example.com."), FEDNS_T_A));
	assert_null(fedns_zone_find(z, name("zzz.example.com."), FEDNS_T_A));
	assert_null(fedns_zone_find(z, name("example.org."), FEDNS_T_A));
	assert_non_null(fedns_zone_find(z, name("example.com."), FEDNS_T_SOA));

	fedns_rr rr = {.owner = name("www.Example.com."),
		       .type = FEDNS_T_A,
		       .rclass = FEDNS_C_IN,
		       .rdlen = 4,
		       .rdata = (const uint8_t *)"\x0a\x00\x00\x02"};
	assert_true(fedns_zone_contains(z, &rr));
	rr.rdata = (const uint8_t *)"\x0a\x00\x00\x03";
	assert_false(fedns_zone_contains(z, &rr));
	rr.rdata = (const uint8_t *)"\x0a\x00\x00\x00";
	assert_false(fedns_zone_contains(z, &rr));
	rr.rclass = FEDNS_C_CH;
	rr.rdata = (const uint8_t *)"\x0a\x00\x00\x02";
	assert_false(fedns_zone_contains(z, &rr));
	/* rdata names compare in canonical form */
	uint8_t mx[2 + FEDNS_NAME_MAXLEN] = {0, 10};
	size_t ml;
	assert_int_equal(fedns_name_from_text("mail.example.com.", 17, NULL, mx + 2, &ml, NULL), 0);
	fedns_rr m = {.owner = name("www.example.com."),
		      .type = FEDNS_T_MX,
		      .rclass = FEDNS_C_IN,
		      .rdlen = (uint16_t)(ml + 2),
		      .rdata = mx};
	assert_true(fedns_zone_contains(z, &m));
	fedns_zone_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_order_large),
		cmocka_unit_test(test_duplicates_fold),
		cmocka_unit_test(test_ttl_unification),
		cmocka_unit_test(test_ttl_above_max),
		cmocka_unit_test(test_rrsig_ttl_per_covered_type),
		cmocka_unit_test(test_cname_rules),
		cmocka_unit_test(test_soa_ns_rules),
		cmocka_unit_test(test_out_of_zone),
		cmocka_unit_test(test_ns_targets),
		cmocka_unit_test(test_wildcard_targets),
		cmocka_unit_test(test_ds_apex_and_type0),
		cmocka_unit_test(test_mx_srv_targets),
		cmocka_unit_test(test_dname_apex),
		cmocka_unit_test(test_add_refusals),
		cmocka_unit_test(test_empty_and_states),
		cmocka_unit_test(test_find_contains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
