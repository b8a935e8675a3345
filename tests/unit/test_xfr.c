/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/xfr and dns/catalog: AXFR/IXFR streams produced and consumed back,
 * message splitting, protocol violations, catalog zone contents and stable labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "dns/catalog.h"
#include "dns/message.h"
#include "dns/xfr.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";

static fedns_zone *
zone_from(const char *text)
{
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts o = {.origin = origin};
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = fedns_zonefile_parse("t.zone", text, strlen(text), &o, z, &d);
	if (err != FEDNS_OK)
		fail_msg("parse: %s", d.msg);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

/* A zone with n A records under the apex at serial s (host i gets 10.x.y.z of i+delta). */
static fedns_zone *
big_zone(unsigned n, uint32_t serial, unsigned delta)
{
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_printf(&b, "$TTL 300\n@ SOA ns hm %u 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n", serial);
	for (unsigned i = 0; i < n; i++)
		fedns_buf_printf(&b, "h%u A 10.%u.%u.%u\n", i, ((i + delta) >> 16) & 255,
				 ((i + delta) >> 8) & 255, (i + delta) & 255);
	fedns_zone *z = zone_from((const char *)b.data);
	fedns_buf_fini(&b);
	return z;
}

static void
digest(const fedns_zone *z, uint8_t out[48])
{
	size_t len;
	assert_int_equal(fedns_zonemd_compute(z, FEDNS_ZONEMD_SHA384, out, &len), FEDNS_OK);
	assert_int_equal(len, 48);
}

/* Runs a producer to the end, feeding each message to a consumer; returns messages. */
static unsigned
pump(fedns_xfr_out *xo, fedns_xfr_in *xi, size_t cap)
{
	uint8_t *buf = malloc(FEDNS_MSG_MAXLEN);
	assert_non_null(buf);
	unsigned msgs = 0;
	bool last = false;
	while (!last) {
		size_t len = 0;
		assert_int_equal(fedns_xfr_out_next(xo, buf, cap, &len, &last), FEDNS_OK);
		assert_true(len <= cap);
		fedns_arena a;
		fedns_arena_init(&a, 65536, 0);
		fedns_msg m;
		assert_int_equal(fedns_msg_parse(buf, len, &a, &m), FEDNS_OK);
		assert_int_equal(m.hdr.id, 77);
		assert_true(m.hdr.flags & FEDNS_F_AA);
		/* the question only in the first message */
		assert_int_equal(m.hdr.qdcount, msgs == 0 ? 1 : 0);
		fedns_diag d;
		fedns_diag_clear(&d);
		fedns_err err = fedns_xfr_in_feed(xi, &m, &d);
		if (err != FEDNS_OK)
			fail_msg("feed: %s", d.msg);
		fedns_arena_fini(&a);
		msgs++;
	}
	free(buf);
	return msgs;
}

static void
test_axfr_roundtrip_multi_message(void **state)
{
	(void)state;
	fedns_zone *z = big_zone(3000, 7, 0);
	fedns_xfr_out xo;
	fedns_xfr_out_axfr(&xo, z, 77, origin, FEDNS_T_AXFR, FEDNS_C_IN, 0);
	fedns_xfr_in xi;
	assert_int_equal(fedns_xfr_in_init(&xi, origin, FEDNS_C_IN, NULL), FEDNS_OK);
	unsigned msgs = pump(&xo, &xi, 4096);
	assert_true(msgs > 10);				      /* small messages force many */
	assert_int_equal(xo.rrs, fedns_zone_rr_count(z) + 1); /* SOA twice */
	fedns_zone *got = NULL;
	bool uptodate = true;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_xfr_in_finish(&xi, &got, &uptodate, &d), FEDNS_OK);
	assert_false(uptodate);
	uint8_t a[48], b[48];
	digest(z, a);
	digest(got, b);
	assert_memory_equal(a, b, 48);
	fedns_zone_free(got);
	fedns_xfr_in_fini(&xi);
	fedns_zone_free(z);
}

static void
test_ixfr_roundtrip(void **state)
{
	(void)state;
	fedns_zone *v1 = big_zone(500, 1, 0), *v2 = big_zone(500, 2, 3), *v3 = big_zone(520, 3, 3);
	fedns_diff d12, d23;
	fedns_diff_init(&d12);
	fedns_diff_init(&d23);
	assert_int_equal(fedns_diff_compute(v1, v2, &d12), FEDNS_OK);
	assert_int_equal(fedns_diff_compute(v2, v3, &d23), FEDNS_OK);
	const fedns_diff *chain[2] = {&d12, &d23};
	fedns_xfr_out xo;
	fedns_xfr_out_ixfr(&xo, v3, chain, 2, 77, origin, FEDNS_C_IN, 0);
	fedns_xfr_in xi;
	assert_int_equal(fedns_xfr_in_init(&xi, origin, FEDNS_C_IN, v1), FEDNS_OK);
	pump(&xo, &xi, 1024);
	assert_true(xi.is_ixfr);
	assert_int_equal(xi.ndiffs, 2);
	fedns_zone *got = NULL;
	bool uptodate;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_xfr_in_finish(&xi, &got, &uptodate, &d), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(got), 3);
	uint8_t a[48], b[48];
	digest(v3, a);
	digest(got, b);
	assert_memory_equal(a, b, 48);
	fedns_zone_free(got);
	fedns_xfr_in_fini(&xi);

	/* single-SOA answer for a current client */
	fedns_xfr_out_ixfr(&xo, v3, NULL, 0, 77, origin, FEDNS_C_IN, 0);
	assert_int_equal(fedns_xfr_in_init(&xi, origin, FEDNS_C_IN, v3), FEDNS_OK);
	assert_int_equal(pump(&xo, &xi, 1024), 1);
	assert_int_equal(xo.rrs, 1);
	got = NULL;
	assert_int_equal(fedns_xfr_in_finish(&xi, &got, &uptodate, &d), FEDNS_OK);
	assert_true(uptodate);
	assert_null(got);
	fedns_xfr_in_fini(&xi);

	fedns_diff_fini(&d12);
	fedns_diff_fini(&d23);
	fedns_zone_free(v1);
	fedns_zone_free(v2);
	fedns_zone_free(v3);
}

/* Feeds one hand-made answer message with the given RRs to a fresh consumer. */
static fedns_err
feed_rrs(const fedns_rr *rrs, size_t n, fedns_diag *d, bool *done)
{
	uint8_t buf[2048];
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, FEDNS_F_QR | FEDNS_F_AA);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rrs[i]), FEDNS_OK);
	size_t len = fedns_msgw_finish(&mw);
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	fedns_msg m;
	assert_int_equal(fedns_msg_parse(buf, len, &a, &m), FEDNS_OK);
	fedns_xfr_in xi;
	assert_int_equal(fedns_xfr_in_init(&xi, origin, FEDNS_C_IN, NULL), FEDNS_OK);
	fedns_diag_clear(d);
	fedns_err err = fedns_xfr_in_feed(&xi, &m, d);
	*done = xi.done;
	fedns_xfr_in_fini(&xi);
	fedns_arena_fini(&a);
	return err;
}

static void
test_xfr_in_violations(void **state)
{
	(void)state;
	static const uint8_t soa[] =
		"\x02ns\x07"
		"example\x03"
		"com\x00\x02hm\x07"
		"example\x03"
		"com\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00"
		"\x00\x01\x00\x00\x00\x01";
	static const uint8_t a[4] = {192, 0, 2, 1};
	static const uint8_t other[] = "\x03www\x07"
				       "example\x03"
				       "org";
	fedns_rr r_soa = {.owner = origin,
			  .type = FEDNS_T_SOA,
			  .rclass = FEDNS_C_IN,
			  .ttl = 1,
			  .rdlen = sizeof(soa) - 1,
			  .rdata = soa};
	fedns_rr r_a = {.owner = origin,
			.type = FEDNS_T_A,
			.rclass = FEDNS_C_IN,
			.ttl = 1,
			.rdlen = 4,
			.rdata = a};
	fedns_rr r_out = r_a;
	r_out.owner = other;
	fedns_diag d;
	bool done;

	fedns_rr seq1[] = {r_a, r_soa};
	assert_int_equal(feed_rrs(seq1, 2, &d, &done), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "does not start with the SOA"));

	fedns_rr seq2[] = {r_soa, r_out};
	assert_int_equal(feed_rrs(seq2, 2, &d, &done), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "outside the zone"));

	fedns_rr seq3[] = {r_soa, r_a, r_soa, r_a};
	assert_int_equal(feed_rrs(seq3, 4, &d, &done), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "after the closing SOA"));

	fedns_rr seq4[] = {r_soa, r_a};
	assert_int_equal(feed_rrs(seq4, 2, &d, &done), FEDNS_OK);
	assert_false(done);
}

static void
test_axfr_record_too_big(void **state)
{
	(void)state;
	/* a TXT of ~1000 bytes cannot fit a 600-byte message: ETOOBIG, not a loop */
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_puts(&b, "$TTL 1\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nt TXT");
	for (int i = 0; i < 5; i++) {
		fedns_buf_puts(&b, " \"");
		for (int j = 0; j < 200; j++)
			fedns_buf_putc(&b, 'x');
		fedns_buf_puts(&b, "\"");
	}
	fedns_buf_puts(&b, "\n");
	fedns_zone *z = zone_from((const char *)b.data);
	fedns_buf_fini(&b);
	fedns_xfr_out xo;
	fedns_xfr_out_axfr(&xo, z, 77, origin, FEDNS_T_AXFR, FEDNS_C_IN, 0);
	uint8_t buf[600];
	size_t len;
	bool last = false;
	fedns_err err = FEDNS_OK;
	for (int i = 0; i < 10 && err == FEDNS_OK && !last; i++)
		err = fedns_xfr_out_next(&xo, buf, sizeof(buf), &len, &last);
	assert_int_equal(err, FEDNS_ETOOBIG);
	fedns_zone_free(z);
}

static void
test_catalog(void **state)
{
	(void)state;
	static const uint8_t cat[] = "\x07"
				     "catalog\x05"
				     "fedns";
	static const uint8_t m1[] = "\x07"
				    "example\x03"
				    "com";
	static const uint8_t m1_upper[] = "\x07"
					  "EXAMPLE\x03"
					  "COM";
	static const uint8_t m2[] = "\x04"
				    "corp\x07"
				    "example\x03"
				    "net";
	uint8_t l1[32], l1u[32], l2[32];
	size_t n1 = fedns_catalog_member_label(m1, l1);
	assert_int_equal(n1, 22);
	assert_int_equal(fedns_catalog_member_label(m1_upper, l1u), 22);
	assert_memory_equal(l1, l1u, 22); /* stable across case */
	fedns_catalog_member_label(m2, l2);
	assert_memory_not_equal(l1, l2, 22);
	assert_int_equal(l1[1], 'm');

	const uint8_t *members[] = {m1, m2, m1_upper};
	fedns_zone *z = NULL;
	assert_int_equal(fedns_catalog_build(cat, 42, members, 3, &z), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(z), 42);
	/* SOA, NS, version TXT, two PTRs (the duplicate folded) */
	assert_int_equal(fedns_zone_rr_count(z), 5);
	fedns_buf out;
	fedns_buf_init(&out, 0);
	assert_int_equal(fedns_zone_print(z, &out), FEDNS_OK);
	const char *text = (const char *)out.data;
	assert_non_null(strstr(text, "version.catalog.fedns.\t0\tIN\tTXT\t\"2\""));
	assert_non_null(strstr(text, "catalog.fedns.\t0\tIN\tNS\tinvalid."));
	char want[128];
	snprintf(want, sizeof(want), "%.*s.zones.catalog.fedns.\t0\tIN\tPTR\texample.com.",
		 (int)l1[0], (const char *)l1 + 1);
	assert_non_null(strstr(text, want));
	fedns_buf_fini(&out);
	fedns_zone_free(z);

	/* an empty catalog is still a valid zone */
	assert_int_equal(fedns_catalog_build(cat, 1, NULL, 0, &z), FEDNS_OK);
	assert_int_equal(fedns_zone_rr_count(z), 3);
	fedns_zone_free(z);
}

/* A zone shaped like a real one: several types and rdatas per owner, names with rdata
 * names (MX, SRV, CNAME) in and out of the zone, deeper owners, mixed-case labels. */
static fedns_zone *
varied_zone(unsigned n)
{
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_printf(&b, "$TTL 300\n@ SOA ns hm 9 1 1 1 1\n@ NS ns\n@ NS ns.other.net.\n"
			     "ns A 192.0.2.1\n@ MX 10 mx.Other.NET.\n");
	for (unsigned i = 0; i < n; i++) {
		fedns_buf_printf(&b, "h%u A 10.0.%u.%u\nh%u AAAA 2001:db8::%x\n", i, (i >> 8) & 255,
				 i & 255, i, i);
		if (i % 3 == 0)
			fedns_buf_printf(&b, "h%u MX 10 h%u\nh%u MX 20 mx%u.other.net.\n", i, i + 1,
					 i, i % 7);
		if (i % 4 == 1)
			fedns_buf_printf(&b, "h%u TXT \"a%u\" \"b\"\nh%u TXT \"c%u\"\n", i, i, i,
					 i);
		if (i % 5 == 2)
			fedns_buf_printf(&b, "_sip._tcp.h%u SRV 0 1 5060 h%u\n", i, i);
		if (i % 7 == 3)
			fedns_buf_printf(&b, "w%u.Corp CNAME h%u.corp\nh%u.corp A 10.1.0.%u\n", i,
					 i, i, i & 255);
	}
	fedns_zone *z = zone_from((const char *)b.data);
	fedns_buf_fini(&b);
	return z;
}

typedef struct rr_list {
	fedns_rr *rr;
	size_t n, cap;
} rr_list;

static int
collect_rr(void *ctx, const fedns_rr *rr)
{
	rr_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->rr = realloc(l->rr, l->cap * sizeof(*l->rr));
		assert_non_null(l->rr);
	}
	l->rr[l->n++] = *rr;
	return 0;
}

/* The AXFR messages as written before the repeated-owner shortcut: the same packing as
 * fedns_xfr_out_next, but every owner comes from a fresh copy so the writer never sees
 * the previous owner's pointer again and takes its general path. Returns the stream, each
 * message preceded by its 2-byte length. */
static uint8_t *
reference_axfr(const fedns_zone *z, size_t room, size_t *total)
{
	rr_list l = {0};
	const fedns_rrset *soa = fedns_zone_find(z, origin, FEDNS_T_SOA);
	assert_non_null(soa);
	fedns_zone_walk(z, collect_rr, &l);
	/* SOA first, the rest in canonical order without the SOA, SOA last */
	size_t nsoa = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.rr[i].type == FEDNS_T_SOA && fedns_name_equal(l.rr[i].owner, origin)) {
			fedns_rr t = l.rr[i];
			memmove(l.rr + 1, l.rr, i * sizeof(*l.rr));
			l.rr[0] = t;
			nsoa++;
		}
	}
	assert_int_equal(nsoa, 1);
	fedns_rr closing = l.rr[0];
	collect_rr(&l, &closing);
	uint8_t *out = malloc(l.n * 600 + 65536);
	assert_non_null(out);
	uint8_t owner[2][FEDNS_NAME_MAXLEN];
	size_t o = 0, i = 0;
	bool first = true;
	while (i < l.n) {
		fedns_msgw mw;
		fedns_msgw_init(&mw, out + o + 2, room, true);
		fedns_msgw_header(&mw, 77, FEDNS_F_QR | FEDNS_F_AA);
		if (first)
			assert_int_equal(fedns_msgw_question(&mw, origin, FEDNS_T_AXFR, FEDNS_C_IN),
					 FEDNS_OK);
		first = false;
		size_t written = 0;
		for (; i < l.n; i++) {
			fedns_rr rr = l.rr[i];
			fedns_name_copy(owner[i & 1], rr.owner);
			rr.owner = owner[i & 1];
			fedns_err err = fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr);
			if (err == FEDNS_ETOOBIG && written > 0)
				break;
			assert_int_equal(err, FEDNS_OK);
			written++;
		}
		size_t len = fedns_msgw_finish(&mw);
		assert_true(len > 0);
		fedns_tcp_frame_put(out + o, len);
		o += 2 + len;
	}
	free(l.rr);
	*total = o;
	return out;
}

/* The AXFR as fedns_xfr_out writes it, framed the same way. */
static uint8_t *
produced_axfr(const fedns_zone *z, size_t cap, size_t reserve, size_t *total)
{
	fedns_xfr_out xo;
	fedns_xfr_out_axfr(&xo, z, 77, origin, FEDNS_T_AXFR, FEDNS_C_IN, reserve);
	size_t maxlen = fedns_zone_rr_count(z) * 600 + 65536;
	uint8_t *out = malloc(maxlen);
	assert_non_null(out);
	size_t o = 0;
	bool last = false;
	while (!last) {
		size_t len = 0;
		assert_true(o + 2 + cap <= maxlen);
		assert_int_equal(fedns_xfr_out_next(&xo, out + o + 2, cap, &len, &last), FEDNS_OK);
		fedns_tcp_frame_put(out + o, len);
		o += 2 + len;
	}
	*total = o;
	return out;
}

/* Parses a framed stream back into a zone and returns its ZONEMD digest. */
static void
stream_digest(const uint8_t *s, size_t total, uint8_t out[48], unsigned *msgs)
{
	fedns_xfr_in xi;
	assert_int_equal(fedns_xfr_in_init(&xi, origin, FEDNS_C_IN, NULL), FEDNS_OK);
	*msgs = 0;
	for (size_t o = 0; o < total;) {
		size_t len = 0;
		assert_int_equal(fedns_tcp_frame_len(s + o, total - o, &len), FEDNS_OK);
		fedns_arena a;
		fedns_arena_init(&a, 65536, 0);
		fedns_msg m;
		assert_int_equal(fedns_msg_parse(s + o + 2, len, &a, &m), FEDNS_OK);
		fedns_diag d;
		fedns_diag_clear(&d);
		if (fedns_xfr_in_feed(&xi, &m, &d) != FEDNS_OK)
			fail_msg("feed: %s", d.msg);
		fedns_arena_fini(&a);
		o += 2 + len;
		(*msgs)++;
	}
	fedns_zone *got = NULL;
	bool uptodate = true;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_xfr_in_finish(&xi, &got, &uptodate, &d), FEDNS_OK);
	digest(got, out);
	fedns_zone_free(got);
	fedns_xfr_in_fini(&xi);
}

/* The repeated-owner shortcut in the writer changes nothing while the compression table
 * has room (small messages: byte-identical), and once the table is full or the message is
 * past the 16 KiB that pointers reach it is never larger (it can point at an owner the
 * table had no slot for); both parse back to the same zone. */
static void
test_axfr_compression_shortcut(void **state)
{
	(void)state;
	fedns_zone *z = varied_zone(4000);
	uint8_t want[48];
	digest(z, want);
	static const struct {
		size_t cap, reserve;
		bool identical;
	} cases[] = {{1024, 0, true},
		     {2048, 100, true},
		     {4096, 0, false},
		     {65535, 0, false},
		     {65535, 535, false}};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t nref = 0, nnew = 0;
		uint8_t *ref = reference_axfr(z, cases[c].cap - cases[c].reserve, &nref);
		uint8_t *got = produced_axfr(z, cases[c].cap, cases[c].reserve, &nnew);
		if (cases[c].identical) {
			assert_int_equal(nnew, nref);
			assert_memory_equal(got, ref, nref);
		} else {
			assert_true(nnew <= nref);
		}
		uint8_t d1[48], d2[48];
		unsigned m1 = 0, m2 = 0;
		stream_digest(ref, nref, d1, &m1);
		stream_digest(got, nnew, d2, &m2);
		assert_memory_equal(d1, want, 48);
		assert_memory_equal(d2, want, 48);
		assert_true(m2 <= m1);
		if (c == 3)
			assert_true(m2 > 3); /* several full messages: the large-message regime */
		free(ref);
		free(got);
	}
	fedns_zone_free(z);
}

/* The shortcut trusts no pointer: a caller reusing one buffer for different owners, and a
 * record rolled back after its owner was written, still give the right names. */
static void
test_msgw_owner_buffer_reuse(void **state)
{
	(void)state;
	uint8_t buf[512];
	uint8_t owner[FEDNS_NAME_MAXLEN];
	static const uint8_t rd[4] = {192, 0, 2, 1};
	static uint8_t big[300];
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, FEDNS_F_QR);
	fedns_rr rr = {.owner = owner,
		       .type = FEDNS_T_A,
		       .rclass = FEDNS_C_IN,
		       .ttl = 60,
		       .rdata = rd,
		       .rdlen = 4};
	fedns_name_copy(owner, (const uint8_t *)"\x01"
						"a\x07"
						"example\x03"
						"com");
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	owner[1] = 'b'; /* same buffer, another name */
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	/* an owner that fits but whose rdata does not: rolled back, cache must forget it */
	fedns_rr huge = rr;
	huge.type = FEDNS_T_TXT;
	huge.rdata = big;
	huge.rdlen = sizeof(big);
	owner[1] = 'c';
	size_t before = mw.b.len;
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	owner[1] = 'd';
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &huge), FEDNS_OK);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &huge), FEDNS_ETOOBIG);
	assert_true(mw.b.len > before);
	owner[1] = 'e';
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	size_t len = fedns_msgw_finish(&mw);
	assert_true(len > 0);
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	fedns_msg m;
	assert_int_equal(fedns_msg_parse(buf, len, &a, &m), FEDNS_OK);
	assert_int_equal(m.count[FEDNS_SEC_ANSWER], 6);
	static const char want[] = "aabcde";
	for (int i = 0; i < 6; i++) {
		assert_int_equal(m.sec[FEDNS_SEC_ANSWER][i].owner[0], 1);
		assert_int_equal(m.sec[FEDNS_SEC_ANSWER][i].owner[1], want[i]);
		assert_true(fedns_name_equal(m.sec[FEDNS_SEC_ANSWER][i].owner + 2,
					     (const uint8_t *)"\x07"
							      "example\x03"
							      "com"));
	}
	fedns_arena_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axfr_roundtrip_multi_message),
		cmocka_unit_test(test_ixfr_roundtrip),
		cmocka_unit_test(test_xfr_in_violations),
		cmocka_unit_test(test_axfr_record_too_big),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_axfr_compression_shortcut),
		cmocka_unit_test(test_msgw_owner_buffer_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
