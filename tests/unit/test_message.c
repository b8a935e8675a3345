/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/message: decode rules, compression, ETOOBIG rollback, TCP framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "dns/message.h"

static const uint8_t *
N(const char *text)
{
	/* A small ring of parsed names so tests can write N("a.") inline. */
	static uint8_t ring[16][FEDNS_NAME_MAXLEN];
	static unsigned next;
	uint8_t *out = ring[next++ % 16];
	size_t len = 0;
	if (fedns_name_from_text(text, strlen(text), NULL, out, &len, NULL) != FEDNS_OK)
		fail_msg("bad test name %s", text);
	return out;
}

static fedns_rr
rr_a(const char *owner, const uint8_t addr[4])
{
	fedns_rr rr = {N(owner), FEDNS_T_A, FEDNS_C_IN, 300, 4, addr};
	return rr;
}

/* Two arenas used in turn, so the previous parse result stays valid for comparisons. */
static fedns_arena arenas[2];
static unsigned next_arena;

static fedns_err
parse(const uint8_t *buf, size_t len, fedns_msg *m)
{
	fedns_arena *arena = &arenas[next_arena++ % 2];
	fedns_arena_fini(arena);
	fedns_arena_init(arena, 4096, 1 << 20);
	return fedns_msg_parse(buf, len, arena, m);
}

static void
test_header(void **state)
{
	(void)state;
	static const uint8_t h[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 3, 0, 4};
	fedns_msg_header hdr;
	assert_int_equal(fedns_msg_header_parse(h, 11, &hdr), FEDNS_ETRUNC);
	assert_int_equal(fedns_msg_header_parse(h, 0, &hdr), FEDNS_ETRUNC);
	assert_int_equal(fedns_msg_header_parse(h, 12, &hdr), FEDNS_OK);
	assert_int_equal(hdr.id, 0x1234);
	assert_int_equal(hdr.flags, 0x8180);
	assert_int_equal(hdr.qdcount, 1);
	assert_int_equal(hdr.ancount, 2);
	assert_int_equal(hdr.nscount, 3);
	assert_int_equal(hdr.arcount, 4);
	assert_int_equal(fedns_msg_opcode(0x2800), FEDNS_OP_UPDATE);
	assert_int_equal(fedns_msg_rcode(0x8183), FEDNS_RCODE_NXDOMAIN);

	/* A bare header is a valid (empty) message; one byte more is trailing garbage. */
	static const uint8_t empty[13] = {0xab, 0xcd, 0, 0};
	fedns_msg m;
	assert_int_equal(parse(empty, 12, &m), FEDNS_OK);
	assert_int_equal(m.hdr.id, 0xabcd);
	assert_null(m.qd);
	assert_int_equal(parse(empty, 13, &m), FEDNS_EMALFORMED);
	assert_int_equal(parse(empty, 11, &m), FEDNS_ETRUNC);
}

static void
test_query_bytes(void **state)
{
	(void)state;
	uint8_t buf[512];
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 0xbeef, FEDNS_F_RD);
	assert_int_equal(fedns_msgw_question(&mw, N("Example.com."), FEDNS_T_SOA, FEDNS_C_IN),
			 FEDNS_OK);
	assert_int_equal(fedns_msgw_opt(&mw, 1232, 0, 0x8000, NULL, 0), FEDNS_OK);
	size_t len = fedns_msgw_finish(&mw);
	static const uint8_t want[] = {
		0xbe, 0xef, 0x01, 0x00, 0,    1,   0,	0,    0, 0,   0,   1,	   /* header */
		7,    'E',  'x',  'a',	'm',  'p', 'l', 'e',  3, 'c', 'o', 'm', 0, /* qname */
		0,    6,    0,	  1,						   /* SOA IN */
		0,    0,    41,	  0x04, 0xd0, 0,   0,	0x80, 0, 0,   0,	   /* OPT */
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	fedns_msg m;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	assert_int_equal(m.hdr.id, 0xbeef);
	assert_int_equal(m.hdr.qdcount, 1);
	assert_true(fedns_name_equal(m.qd[0].name, N("example.com.")));
	assert_memory_equal(m.qd[0].name, "\7Example\3com", 13);
	assert_int_equal(m.qd[0].qtype, FEDNS_T_SOA);
	assert_int_equal(m.qd[0].qclass, FEDNS_C_IN);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.udp_size, 1232);
	assert_int_equal(m.edns.flags, 0x8000);
	assert_int_equal(m.edns.version, 0);
	assert_int_equal(m.edns.options_len, 0);
	/* The OPT is lifted out of the additional section. */
	assert_int_equal(m.count[FEDNS_SEC_ADDITIONAL], 0);
	assert_false(m.has_tsig);
}

static void
test_edns_options(void **state)
{
	(void)state;
	uint8_t buf[512];
	fedns_msgw mw;
	/* NSID (empty) and a cookie. */
	static const uint8_t opts[] = {0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, FEDNS_F_QR);
	assert_int_equal(fedns_msgw_opt(&mw, 4096, 1, 0x8000, opts, sizeof(opts)), FEDNS_OK);
	size_t len = fedns_msgw_finish(&mw);
	fedns_msg m;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.ext_rcode, 1);
	assert_int_equal(m.edns.udp_size, 4096);
	assert_int_equal(m.edns.options_len, sizeof(opts));
	assert_memory_equal(m.edns.options, opts, sizeof(opts));

	/* Option length running past the rdata. */
	assert_int_equal(buf[len - 9], 8);
	buf[len - 9] = 9;
	assert_int_equal(parse(buf, len, &m), FEDNS_EMALFORMED);
	buf[len - 9] = 8;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	/* A dangling option header (3 bytes). */
	static const uint8_t bad[] = {0, 3, 0};
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, 0);
	assert_int_equal(fedns_msgw_opt(&mw, 512, 0, 0, bad, sizeof(bad)), FEDNS_OK);
	len = fedns_msgw_finish(&mw);
	assert_int_equal(parse(buf, len, &m), FEDNS_EMALFORMED);
}

/* A response with names in rdata: owner, NS and MX targets, SOA in authority. */
static size_t
build_response(uint8_t *buf, size_t cap, bool compress)
{
	static const uint8_t a1[4] = {192, 0, 2, 1};
	static const uint8_t a2[4] = {192, 0, 2, 2};
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, cap, compress);
	fedns_msgw_header(&mw, 7, FEDNS_F_QR | FEDNS_F_AA);
	assert_int_equal(fedns_msgw_question(&mw, N("www.example.com."), FEDNS_T_A, FEDNS_C_IN),
			 FEDNS_OK);
	fedns_rr rr = rr_a("www.example.com.", a1);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	rr = rr_a("WWW.EXAMPLE.COM.", a2);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);

	uint8_t ns[FEDNS_NAME_MAXLEN];
	size_t nslen = fedns_name_copy(ns, N("ns1.example.com."));
	fedns_rr nsrr = {N("example.com."), FEDNS_T_NS, FEDNS_C_IN, 3600, (uint16_t)nslen, ns};
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_AUTHORITY, &nsrr), FEDNS_OK);

	uint8_t mx[2 + FEDNS_NAME_MAXLEN] = {0, 10};
	size_t mxlen = 2 + fedns_name_copy(mx + 2, N("mail.example.com."));
	fedns_rr mxrr = {N("example.com."), FEDNS_T_MX, FEDNS_C_IN, 3600, (uint16_t)mxlen, mx};
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_AUTHORITY, &mxrr), FEDNS_OK);

	rr = rr_a("ns1.example.com.", a1);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ADDITIONAL, &rr), FEDNS_OK);
	return fedns_msgw_finish(&mw);
}

static void
test_roundtrip_and_compression(void **state)
{
	(void)state;
	uint8_t cbuf[1024], ubuf[1024];
	size_t clen = build_response(cbuf, sizeof(cbuf), true);
	size_t ulen = build_response(ubuf, sizeof(ubuf), false);
	assert_true(clen > 0 && ulen > 0);
	/* Uncompressed: header + q(17+4) + 2*(17+10+4) + (13+10+17) + (13+10+2+18) + (17+10+4). */
	assert_int_equal(ulen, 12 + 21 + 62 + 40 + 43 + 31);
	assert_true(clen < ulen);
	/* Answer owners point at the question name (offset 12), whatever their case. */
	assert_memory_equal(cbuf + 12 + 21, "\xc0\x0c", 2);
	assert_memory_equal(cbuf + 12 + 21 + 16, "\xc0\x0c", 2);
	/* example.com. in authority points into the question name (offset 16). */
	assert_memory_equal(cbuf + 12 + 21 + 32, "\xc0\x10", 2);
	/* NS rdata: "ns1" then a pointer to example.com; rdlength 6. */
	assert_memory_equal(cbuf + 12 + 21 + 32 + 10, "\x00\x06\x03ns1\xc0\x10", 8);
	assert_int_equal(clen, 12 + 21 + 32 + (12 + 6) + (12 + 9) + (12 + 4));

	fedns_msg mc, mu;
	assert_int_equal(parse(ubuf, ulen, &mu), FEDNS_OK);
	assert_int_equal(parse(cbuf, clen, &mc), FEDNS_OK);
	assert_int_equal(mc.hdr.ancount, 2);
	assert_int_equal(mc.count[FEDNS_SEC_ANSWER], 2);
	assert_int_equal(mc.count[FEDNS_SEC_AUTHORITY], 2);
	assert_int_equal(mc.count[FEDNS_SEC_ADDITIONAL], 1);
	/* A pointer carries the case of what it points at. */
	assert_memory_equal(mc.sec[0][1].owner, "\3www\7example\3com", 17);
	assert_memory_equal(mu.sec[0][1].owner, "\3WWW\7EXAMPLE\3COM", 17);
	/* Decompressed rdata equals what was written. */
	const fedns_rr *ns = &mc.sec[FEDNS_SEC_AUTHORITY][0];
	assert_int_equal(ns->type, FEDNS_T_NS);
	assert_int_equal(ns->rdlen, 17);
	assert_memory_equal(ns->rdata, "\3ns1\7example\3com", 17);
	const fedns_rr *mx = &mc.sec[FEDNS_SEC_AUTHORITY][1];
	assert_int_equal(mx->rdlen, 20);
	assert_memory_equal(mx->rdata, "\0\12\4mail\7example\3com", 20);
	assert_int_equal(mx->ttl, 3600);
	/* Compressed and uncompressed parse to the same records. */
	for (int s = 0; s < 3; s++) {
		assert_int_equal(mc.count[s], mu.count[s]);
		for (size_t i = 0; i < mc.count[s]; i++) {
			const fedns_rr *x = &mc.sec[s][i], *y = &mu.sec[s][i];
			assert_true(fedns_name_equal(x->owner, y->owner));
			assert_int_equal(x->type, y->type);
			assert_int_equal(x->rdlen, y->rdlen);
			assert_memory_equal(x->rdata, y->rdata, y->rdlen);
		}
	}
}

static void
test_compression_limits(void **state)
{
	(void)state;
	/* Opaque rdata pushes later names past 0x4000, where they may not be pointed at. */
	enum {
		CAP = 40000
	};
	uint8_t *buf = calloc(1, CAP);
	uint8_t *blob = calloc(1, 20000);
	assert_non_null(buf);
	assert_non_null(blob);
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, CAP, true);
	fedns_msgw_header(&mw, 1, FEDNS_F_QR);
	fedns_rr big = {N("a.example."), 65280, FEDNS_C_IN, 1, 20000, blob};
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &big), FEDNS_OK);
	size_t at = mw.b.len;
	assert_true(at > 0x4000);
	fedns_rr far = {N("far.away."), 65280, FEDNS_C_IN, 1, 0, NULL};
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &far), FEDNS_OK);
	assert_memory_equal(buf + at, "\3far\4away", 10);
	size_t at2 = mw.b.len;
	/* Same name again: must be written out in full (no pointer above 0x3fff). */
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &far), FEDNS_OK);
	assert_memory_equal(buf + at2, "\3far\4away", 10);
	size_t at3 = mw.b.len;
	/* A name written early still compresses. */
	fedns_rr near = {N("b.A.example."), 65280, FEDNS_C_IN, 1, 0, NULL};
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &near), FEDNS_OK);
	assert_memory_equal(buf + at3, "\1b\xc0\x0c", 4);
	for (uint16_t i = 0; i < mw.comp.n; i++)
		assert_true(mw.comp.off[i] < 0x4000);
	size_t len = fedns_msgw_finish(&mw);
	fedns_msg m;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	assert_int_equal(m.count[0], 4);
	assert_memory_equal(m.sec[0][3].owner, "\1b\1a\7example", 13);
	free(buf);
	free(blob);
}

static void
test_compress_table_full(void **state)
{
	(void)state;
	/* More distinct names than slots: the writer stays correct, later names just are
	 * not remembered. */
	enum {
		CAP = 16384
	};
	uint8_t *buf = calloc(1, CAP);
	assert_non_null(buf);
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, CAP, true);
	fedns_msgw_header(&mw, 1, FEDNS_F_QR);
	static const uint8_t addr[4] = {10, 0, 0, 1};
	char owner[32];
	for (int i = 0; i < 400; i++) {
		snprintf(owner, sizeof(owner), "h%d.z%d.test.", i, i);
		fedns_rr rr = rr_a(owner, addr);
		assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_OK);
	}
	assert_int_equal(mw.comp.n, FEDNS_COMPRESS_SLOTS);
	size_t len = fedns_msgw_finish(&mw);
	fedns_msg m;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	assert_int_equal(m.count[0], 400);
	assert_memory_equal(m.sec[0][399].owner, "\4h399\4z399\4test", 16);
	free(buf);
}

static void
test_toobig_rollback(void **state)
{
	(void)state;
	uint8_t buf[100];
	uint8_t copy[100];
	static const uint8_t addr[4] = {10, 0, 0, 1};
	fedns_msgw mw;
	memset(buf, 0xee, sizeof(buf));
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 9, FEDNS_F_QR);
	assert_int_equal(fedns_msgw_question(&mw, N("q.example."), FEDNS_T_A, FEDNS_C_IN),
			 FEDNS_OK);
	/* 12 + 15 = 27; the first "x.q.example" A record is \1x + ptr + 14 = 18 bytes, the
	 * next ones a bare pointer + 14 = 16: 27 + 18 + 3 * 16 = 93, a fifth would be 109. */
	fedns_rr rr = rr_a("x.q.example.", addr);
	int ok = 0;
	fedns_err err;
	while ((err = fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr)) == FEDNS_OK)
		ok++;
	assert_int_equal(err, FEDNS_ETOOBIG);
	assert_int_equal(ok, 4);
	assert_int_equal(mw.b.len, 27 + 18 + 3 * 16);
	assert_int_equal(mw.b.err, FEDNS_OK);
	assert_int_equal(mw.count[0], 4);

	/* A record whose owner adds new labels to the table, then does not fit: len, table
	 * and counts all come back, and the bytes written so far are untouched. */
	uint16_t ncomp = mw.comp.n;
	size_t len = mw.b.len;
	memcpy(copy, buf, len);
	fedns_rr longer = rr_a("new.", addr); /* the name (5 bytes) fits, the rest not */
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_AUTHORITY, &longer), FEDNS_ETOOBIG);
	assert_int_equal(mw.comp.n, ncomp);
	assert_int_equal(mw.b.len, len);
	assert_int_equal(mw.count[FEDNS_SEC_AUTHORITY], 0);
	assert_memory_equal(buf, copy, len);
	/* The failed record did not move the section cursor either. */
	assert_int_equal(mw.cur, FEDNS_SEC_ANSWER);
	/* Names and OPT too. */
	assert_int_equal(fedns_msgw_opt(&mw, 1232, 0, 0, NULL, 0), FEDNS_ETOOBIG);
	assert_int_equal(mw.b.len, len);
	assert_int_equal(mw.count[FEDNS_SEC_ADDITIONAL], 0);
	assert_int_equal(fedns_msgw_name(&mw, N("brand.new.")), FEDNS_ETOOBIG);
	assert_int_equal(mw.b.len, len);
	assert_int_equal(mw.comp.n, ncomp);
	/* The rolled-back "new." left its bytes past len; it must not be pointed at. */
	assert_int_equal(fedns_msgw_name(&mw, N("NEW.")), FEDNS_OK);
	assert_int_equal(mw.b.len, len + 5);
	assert_memory_equal(buf + len, "\3NEW", 5);
	mw.b.len = len;
	mw.comp.n = ncomp;
	mw.comp.index[mw.comp.slot[ncomp]] = 0;
	/* A pointer-only name (2 bytes) still fits: the writer is usable after ETOOBIG. */
	assert_int_equal(fedns_msgw_name(&mw, N("x.q.example.")), FEDNS_OK);
	assert_int_equal(mw.b.len, len + 2);
	mw.b.len = len;

	size_t mlen = fedns_msgw_finish(&mw);
	assert_int_equal(mlen, len);
	fedns_msg m;
	assert_int_equal(parse(buf, mlen, &m), FEDNS_OK);
	assert_int_equal(m.hdr.ancount, 4);
	assert_int_equal(m.count[0], 4);

	/* A buffer too small for the header finishes as 0. */
	fedns_msgw_init(&mw, buf, 11, true);
	fedns_msgw_header(&mw, 1, 0);
	assert_int_equal(fedns_msgw_finish(&mw), 0);
}

static void
test_writer_order(void **state)
{
	(void)state;
	uint8_t buf[512];
	static const uint8_t addr[4] = {1, 2, 3, 4};
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_rr rr = rr_a("a.", addr);
	/* Nothing before the header. */
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_EINVAL);
	fedns_msgw_header(&mw, 1, 0);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_AUTHORITY, &rr), FEDNS_OK);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr), FEDNS_EINVAL);
	assert_int_equal(fedns_msgw_question(&mw, N("a."), 1, 1), FEDNS_EINVAL);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_ADDITIONAL, &rr), FEDNS_OK);
	assert_int_equal(fedns_msgw_rr(&mw, FEDNS_SEC_AUTHORITY, &rr), FEDNS_EINVAL);
	/* The header can be rewritten at the end (id, flags). */
	fedns_msgw_header(&mw, 0x4242, FEDNS_F_QR);
	size_t len = fedns_msgw_finish(&mw);
	fedns_msg m;
	assert_int_equal(parse(buf, len, &m), FEDNS_OK);
	assert_int_equal(m.hdr.id, 0x4242);
	assert_int_equal(m.hdr.flags, FEDNS_F_QR);
	assert_int_equal(m.count[1], 1);
	assert_int_equal(m.count[2], 1);
}

/* Hand-built message bytes. */
typedef struct hb {
	uint8_t b[512];
	size_t n;
} hb;

static void
put(hb *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void
put16(hb *h, uint16_t v)
{
	fedns_put_u16(h->b + h->n, v);
	h->n += 2;
}

static void
hdr(hb *h, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	h->n = 0;
	put16(h, 0x1111);
	put16(h, FEDNS_F_QR);
	put16(h, qd);
	put16(h, an);
	put16(h, ns);
	put16(h, ar);
}

/* RR with raw owner bytes. */
static void
rr_raw(hb *h, const void *owner, size_t olen, uint16_t type, uint16_t rdlen, const void *rd)
{
	put(h, owner, olen);
	put16(h, type);
	put16(h, FEDNS_C_IN);
	put16(h, 0);
	put16(h, 60);
	put16(h, rdlen);
	if (rdlen > 0)
		put(h, rd, rdlen);
}

static void
test_decode_bad(void **state)
{
	(void)state;
	hb h;
	fedns_msg m;
	static const uint8_t a[4] = {1, 2, 3, 4};

	/* A valid baseline: question + pointer-owner answer. */
	hdr(&h, 1, 1, 0, 0);
	put(&h, "\7example\0", 9);
	put16(&h, 1);
	put16(&h, 1);
	rr_raw(&h, "\xc0\x0c", 2, FEDNS_T_A, 4, a);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_OK);
	assert_memory_equal(m.sec[0][0].owner, "\7example", 9);
	assert_int_equal(m.sec[0][0].ttl, 60);
	/* Every prefix is refused as truncated; one byte more is trailing garbage. */
	for (size_t l = 0; l < h.n; l++)
		assert_int_equal(parse(h.b, l, &m), FEDNS_ETRUNC);
	h.b[h.n] = 0;
	assert_int_equal(parse(h.b, h.n + 1, &m), FEDNS_EMALFORMED);

	/* Forward pointer, self pointer. */
	assert_int_equal(h.b[12 + 14], 12);
	h.b[12 + 14] = 0x20;
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	h.b[12 + 14] = 12 + 13;
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	/* Pointer into the header is backwards, so allowed, but the header bytes there are
	 * not a name that ends in time. */
	h.b[12 + 14] = 2;
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	h.b[12 + 14] = 12;
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_OK);

	/* Counts larger than the bytes can hold are refused before allocating. */
	fedns_arena arena;
	fedns_arena_init(&arena, 4096, 1 << 20);
	hdr(&h, 0, 0xffff, 0, 0);
	assert_int_equal(fedns_msg_parse(h.b, h.n, &arena, &m), FEDNS_ETRUNC);
	assert_int_equal(arena.used, 0);
	hdr(&h, 0xffff, 0, 0, 0);
	assert_int_equal(fedns_msg_parse(h.b, h.n, &arena, &m), FEDNS_ETRUNC);
	assert_int_equal(arena.used, 0);
	/* Exactly enough bytes for the claimed counts (root-owned empty RRs). */
	hdr(&h, 0, 2, 0, 0);
	rr_raw(&h, "", 1, 65280, 0, NULL);
	rr_raw(&h, "", 1, 65280, 0, NULL);
	assert_int_equal(fedns_msg_parse(h.b, h.n, &arena, &m), FEDNS_OK);
	assert_int_equal(m.count[0], 2);
	hdr(&h, 0, 3, 0, 0);
	rr_raw(&h, "", 1, 65280, 0, NULL);
	rr_raw(&h, "", 1, 65280, 0, NULL);
	assert_int_equal(fedns_msg_parse(h.b, h.n, &arena, &m), FEDNS_ETRUNC);
	fedns_arena_fini(&arena);

	/* RDLENGTH past the end. */
	hdr(&h, 0, 1, 0, 0);
	rr_raw(&h, "", 1, FEDNS_T_A, 4, a);
	h.b[h.n - 5] = 5;
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_ETRUNC);

	/* Bad label type in the owner. */
	hdr(&h, 0, 1, 0, 0);
	rr_raw(&h, "\x80", 1, 65280, 0, NULL);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
}

static void
test_decode_opt_tsig_rules(void **state)
{
	(void)state;
	hb h;
	fedns_msg m;
	static const uint8_t a[4] = {1, 2, 3, 4};
	/* TSIG rdata (contents are the verifier's business; kept as raw bytes). */
	static const uint8_t tsig[] = "\13hmac-sha256\0\0\0\0\0\0\0\1\54\0\0\0\0\0\0";

	/* Two OPTs. */
	hdr(&h, 0, 0, 0, 2);
	rr_raw(&h, "", 1, FEDNS_T_OPT, 0, NULL);
	rr_raw(&h, "", 1, FEDNS_T_OPT, 0, NULL);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	/* OPT in the answer section. */
	hdr(&h, 0, 1, 0, 0);
	rr_raw(&h, "", 1, FEDNS_T_OPT, 0, NULL);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	/* OPT with a non-root owner. */
	hdr(&h, 0, 0, 0, 1);
	rr_raw(&h, "\1a", 3, FEDNS_T_OPT, 0, NULL);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);

	/* OPT, A, TSIG last: fine, TSIG kept aside with its offset. */
	hdr(&h, 0, 0, 0, 3);
	rr_raw(&h, "", 1, FEDNS_T_OPT, 0, NULL);
	rr_raw(&h, "\1a", 3, FEDNS_T_A, 4, a);
	size_t tsig_off = h.n;
	rr_raw(&h, "\3key", 5, FEDNS_T_TSIG, sizeof(tsig) - 1, tsig);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_OK);
	assert_true(m.edns.present);
	assert_true(m.has_tsig);
	assert_int_equal(m.tsig_off, tsig_off);
	assert_int_equal(m.count[FEDNS_SEC_ADDITIONAL], 1);
	assert_int_equal(m.sec[FEDNS_SEC_ADDITIONAL][0].type, FEDNS_T_A);
	assert_memory_equal(m.tsig.owner, "\3key", 5);
	assert_int_equal(m.tsig.rdlen, sizeof(tsig) - 1);
	assert_memory_equal(m.tsig.rdata, tsig, sizeof(tsig) - 1);

	/* TSIG not last. */
	hdr(&h, 0, 0, 0, 2);
	rr_raw(&h, "\3key", 5, FEDNS_T_TSIG, sizeof(tsig) - 1, tsig);
	rr_raw(&h, "\1a", 3, FEDNS_T_A, 4, a);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	/* TSIG in the answer section. */
	hdr(&h, 0, 1, 0, 0);
	rr_raw(&h, "\3key", 5, FEDNS_T_TSIG, sizeof(tsig) - 1, tsig);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
	/* Two TSIGs. */
	hdr(&h, 0, 0, 0, 2);
	rr_raw(&h, "\3key", 5, FEDNS_T_TSIG, sizeof(tsig) - 1, tsig);
	rr_raw(&h, "\3key", 5, FEDNS_T_TSIG, sizeof(tsig) - 1, tsig);
	assert_int_equal(parse(h.b, h.n, &m), FEDNS_EMALFORMED);
}

static void
test_tcp_frame(void **state)
{
	(void)state;
	uint8_t p[2];
	size_t len = 0;
	fedns_tcp_frame_put(p, 0x1234);
	assert_memory_equal(p, "\x12\x34", 2);
	assert_int_equal(fedns_tcp_frame_len(p, 0, &len), FEDNS_ETRUNC);
	assert_int_equal(fedns_tcp_frame_len(p, 1, &len), FEDNS_ETRUNC);
	assert_int_equal(fedns_tcp_frame_len(p, 2, &len), FEDNS_OK);
	assert_int_equal(len, 0x1234);
	fedns_tcp_frame_put(p, 65535);
	assert_int_equal(fedns_tcp_frame_len(p, 3, &len), FEDNS_OK);
	assert_int_equal(len, 65535);
	fedns_tcp_frame_put(p, 0);
	len = 77;
	assert_int_equal(fedns_tcp_frame_len(p, 2, &len), FEDNS_EMALFORMED);
	assert_int_equal(len, 77);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_query_bytes),
		cmocka_unit_test(test_edns_options),
		cmocka_unit_test(test_roundtrip_and_compression),
		cmocka_unit_test(test_compression_limits),
		cmocka_unit_test(test_compress_table_full),
		cmocka_unit_test(test_toobig_rollback),
		cmocka_unit_test(test_writer_order),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_decode_opt_tsig_rules),
		cmocka_unit_test(test_tcp_frame),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fedns_arena_fini(&arenas[0]);
	fedns_arena_fini(&arenas[1]);
	return rc;
}
