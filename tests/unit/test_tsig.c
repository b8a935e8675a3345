/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/tsig: key files, request/answer signing and every refusal path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "dns/message.h"
#include "dns/tsig.h"

static const char keyfile[] = "# a comment\n"
			      "key \"xfr-key\" {\n"
			      "\talgorithm hmac-sha256;\n"
			      "\tsecret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM=\";\n"
			      "};\n"
			      "key other { algorithm HMAC-SHA512; secret \"b3RoZXI=\"; };\n";

static fedns_tsig_keyring ring;

static int
setup(void **state)
{
	(void)state;
	memset(&ring, 0, sizeof(ring));
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(
		fedns_tsig_keyring_parse_bind(&ring, "k.conf", keyfile, strlen(keyfile), &d),
		FEDNS_OK);
	return 0;
}

static const uint8_t zone[] = "\x07"
			      "example\x03"
			      "com";

/* A signed query for zone/type into buf; returns its length. */
static size_t
signed_query(const fedns_tsig_key *key, fedns_tsig_ctx *ctx, uint16_t qtype, uint64_t now,
	     uint8_t *buf, size_t cap)
{
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, cap, true);
	fedns_msgw_header(&mw, 0x1234, 0);
	assert_int_equal(fedns_msgw_question(&mw, zone, qtype, FEDNS_C_IN), FEDNS_OK);
	size_t len = fedns_msgw_finish(&mw);
	assert_true(len > 0);
	fedns_tsig_ctx_init(ctx, key);
	size_t nl = 0;
	assert_int_equal(fedns_tsig_sign(ctx, buf, len, cap, now, 0, &nl), FEDNS_OK);
	assert_true(nl > len);
	return nl;
}

static fedns_err
verify(const uint8_t *buf, size_t len, uint64_t now, fedns_tsig_ctx *ctx, fedns_tsig_result *res)
{
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	fedns_msg m;
	assert_int_equal(fedns_msg_parse(buf, len, &a, &m), FEDNS_OK);
	fedns_err err = fedns_tsig_verify_request(buf, len, &m, &ring, now, ctx, res);
	fedns_arena_fini(&a);
	return err;
}

static void
test_keyfile(void **state)
{
	(void)state;
	assert_int_equal(ring.n, 2);
	assert_int_equal(ring.keys[0].alg, FEDNS_HASH_SHA256);
	assert_int_equal(ring.keys[0].secret_len, 32);
	assert_memory_equal(ring.keys[0].secret, "secret-secret-secret-secret-0123", 32);
	assert_int_equal(ring.keys[1].alg, FEDNS_HASH_SHA512);
	assert_non_null(fedns_tsig_keyring_find(&ring, (const uint8_t *)"\x05OTHER"));

	fedns_tsig_keyring r2;
	memset(&r2, 0, sizeof(r2));
	fedns_diag d;
	const char *bad_secret = "key k { algorithm hmac-sha256; secret \"!!notbase64!!\"; };";
	fedns_diag_clear(&d);
	assert_int_equal(
		fedns_tsig_keyring_parse_bind(&r2, "b.conf", bad_secret, strlen(bad_secret), &d),
		FEDNS_ESYNTAX);
	/* the message names the key, never the secret text */
	assert_non_null(strstr(d.msg, "\"k\""));
	assert_null(strstr(d.msg, "notbase64"));
	assert_int_equal(d.line, 1);

	const char *bad_alg = "key k {\n algorithm hmac-md5;\n secret \"b3RoZXI=\"; };";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_tsig_keyring_parse_bind(&r2, "b.conf", bad_alg, strlen(bad_alg), &d),
			 FEDNS_ENOTSUP);
	assert_non_null(strstr(d.msg, "hmac-md5"));

	const char *syntax = "key k { algorithm hmac-sha256 secret \"b3RoZXI=\"; };";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_tsig_keyring_parse_bind(&r2, "b.conf", syntax, strlen(syntax), &d),
			 FEDNS_ESYNTAX);
	const char *dup = "key k { algorithm hmac-sha256; secret \"b3RoZXI=\"; };\n"
			  "key K. { algorithm hmac-sha256; secret \"b3RoZXI=\"; };";
	fedns_diag_clear(&d);
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(fedns_tsig_keyring_parse_bind(&r2, "b.conf", dup, strlen(dup), &d),
			 FEDNS_EEXIST);
	assert_int_equal(d.line, 2);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_tsig_keyring_parse_bind(&r2, "e.conf", "", 0, &d), FEDNS_ESYNTAX);
}

static void
test_request_roundtrip(void **state)
{
	(void)state;
	uint8_t buf[1024];
	fedns_tsig_ctx cctx, sctx;
	fedns_tsig_result res;
	size_t len = signed_query(&ring.keys[0], &cctx, FEDNS_T_AXFR, 1000000, buf, sizeof(buf));
	assert_int_equal(verify(buf, len, 1000000, &sctx, &res), FEDNS_OK);
	assert_int_equal(res.rcode, FEDNS_RCODE_NOERROR);
	assert_true(res.sign_answer);
	assert_ptr_equal(sctx.key, &ring.keys[0]);
	assert_int_equal(sctx.mac_len, 32);
	assert_memory_equal(sctx.mac, cctx.mac, 32);
	/* within the fudge either way */
	assert_int_equal(verify(buf, len, 1000000 + 300, &sctx, &res), FEDNS_OK);
	assert_int_equal(verify(buf, len, 1000000 - 300, &sctx, &res), FEDNS_OK);
}

static void
test_request_refusals(void **state)
{
	(void)state;
	uint8_t buf[1024];
	fedns_tsig_ctx cctx, sctx;
	fedns_tsig_result res;
	size_t len = signed_query(&ring.keys[0], &cctx, FEDNS_T_AXFR, 1000000, buf, sizeof(buf));

	/* any flipped bit of the signed part: BADSIG */
	for (size_t i = 2; i < 29; i++) {
		uint8_t copy[1024];
		memcpy(copy, buf, len);
		copy[i] ^= 0x01;
		fedns_arena a;
		fedns_arena_init(&a, 4096, 0);
		fedns_msg m;
		if (fedns_msg_parse(copy, len, &a, &m) == FEDNS_OK) {
			assert_int_equal(fedns_tsig_verify_request(copy, len, &m, &ring, 1000000,
								   &sctx, &res),
					 FEDNS_EAUTH);
			assert_true(res.error == FEDNS_RCODE_BADSIG ||
				    res.error == FEDNS_RCODE_BADKEY ||
				    res.rcode == FEDNS_RCODE_FORMERR);
		}
		fedns_arena_fini(&a);
	}
	/* the ID is not covered as-is: the original ID in the TSIG is (a forwarder may
	 * change the header ID) */
	uint8_t copy[1024];
	memcpy(copy, buf, len);
	copy[0] ^= 0xff;
	assert_int_equal(verify(copy, len, 1000000, &sctx, &res), FEDNS_OK);

	/* time outside the fudge: BADTIME, and the answer is still signed */
	assert_int_equal(verify(buf, len, 1000000 + 301, &sctx, &res), FEDNS_EAUTH);
	assert_int_equal(res.error, FEDNS_RCODE_BADTIME);
	assert_int_equal(res.rcode, FEDNS_RCODE_NOTAUTH);
	assert_true(res.sign_answer);

	/* a key the server does not know: BADKEY */
	fedns_tsig_key stranger = ring.keys[0];
	memcpy(stranger.name, "\x08stranger", 10);
	len = signed_query(&stranger, &cctx, FEDNS_T_AXFR, 1000000, buf, sizeof(buf));
	assert_int_equal(verify(buf, len, 1000000, &sctx, &res), FEDNS_EAUTH);
	assert_int_equal(res.error, FEDNS_RCODE_BADKEY);
	assert_false(res.sign_answer);

	/* a known name with the wrong secret: BADSIG */
	fedns_tsig_key wrong = ring.keys[0];
	wrong.secret[0] ^= 1;
	len = signed_query(&wrong, &cctx, FEDNS_T_AXFR, 1000000, buf, sizeof(buf));
	assert_int_equal(verify(buf, len, 1000000, &sctx, &res), FEDNS_EAUTH);
	assert_int_equal(res.error, FEDNS_RCODE_BADSIG);

	/* a known name with another algorithm: BADKEY */
	fedns_tsig_key otheralg = ring.keys[0];
	otheralg.alg = FEDNS_HASH_SHA384;
	len = signed_query(&otheralg, &cctx, FEDNS_T_AXFR, 1000000, buf, sizeof(buf));
	assert_int_equal(verify(buf, len, 1000000, &sctx, &res), FEDNS_EAUTH);
	assert_int_equal(res.error, FEDNS_RCODE_BADKEY);

	/* unsigned: ENOENT, the caller decides */
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, 0);
	fedns_msgw_question(&mw, zone, FEDNS_T_SOA, FEDNS_C_IN);
	len = fedns_msgw_finish(&mw);
	assert_int_equal(verify(buf, len, 1000000, &sctx, &res), FEDNS_ENOENT);
}

/* The server signs a three-message answer; the client verifies each in order, and a
 * reordered or dropped message breaks the chain. */
static void
test_multi_message_answer(void **state)
{
	(void)state;
	uint8_t q[1024];
	fedns_tsig_ctx cctx, sctx;
	fedns_tsig_result res;
	size_t qlen = signed_query(&ring.keys[0], &cctx, FEDNS_T_AXFR, 5000, q, sizeof(q));
	assert_int_equal(verify(q, qlen, 5000, &sctx, &res), FEDNS_OK);

	uint8_t ans[3][512];
	size_t alen[3];
	for (int i = 0; i < 3; i++) {
		fedns_msgw mw;
		fedns_msgw_init(&mw, ans[i], sizeof(ans[i]), true);
		fedns_msgw_header(&mw, 0x1234, FEDNS_F_QR | FEDNS_F_AA);
		if (i == 0)
			fedns_msgw_question(&mw, zone, FEDNS_T_AXFR, FEDNS_C_IN);
		uint8_t rd[4] = {192, 0, 2, (uint8_t)i};
		fedns_rr rr = {.owner = zone,
			       .type = FEDNS_T_A,
			       .rclass = FEDNS_C_IN,
			       .ttl = 60,
			       .rdlen = 4,
			       .rdata = rd};
		fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr);
		size_t len = fedns_msgw_finish(&mw);
		assert_int_equal(
			fedns_tsig_sign(&sctx, ans[i], len, sizeof(ans[i]), 5001, 0, &alen[i]),
			FEDNS_OK);
	}
	fedns_tsig_ctx keep = cctx;
	for (int i = 0; i < 3; i++) {
		fedns_arena a;
		fedns_arena_init(&a, 4096, 0);
		fedns_msg m;
		assert_int_equal(fedns_msg_parse(ans[i], alen[i], &a, &m), FEDNS_OK);
		assert_int_equal(fedns_tsig_verify_answer(&cctx, ans[i], alen[i], &m, 5001),
				 FEDNS_OK);
		fedns_arena_fini(&a);
	}
	/* skipping message 1: message 2's MAC chains to message 1's, so it fails */
	cctx = keep;
	for (int i = 0; i < 3; i += 2) {
		fedns_arena a;
		fedns_arena_init(&a, 4096, 0);
		fedns_msg m;
		assert_int_equal(fedns_msg_parse(ans[i], alen[i], &a, &m), FEDNS_OK);
		assert_int_equal(fedns_tsig_verify_answer(&cctx, ans[i], alen[i], &m, 5001),
				 i == 0 ? FEDNS_OK : FEDNS_EAUTH);
		fedns_arena_fini(&a);
	}
}

static void
test_unsigned_error_answer(void **state)
{
	(void)state;
	fedns_tsig_key stranger = ring.keys[0];
	memcpy(stranger.name, "\x08stranger", 10);
	uint8_t q[1024];
	fedns_tsig_ctx cctx;
	size_t qlen = signed_query(&stranger, &cctx, FEDNS_T_AXFR, 7, q, sizeof(q));
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	fedns_msg m;
	assert_int_equal(fedns_msg_parse(q, qlen, &a, &m), FEDNS_OK);
	uint8_t ans[512];
	fedns_msgw mw;
	fedns_msgw_init(&mw, ans, sizeof(ans), true);
	fedns_msgw_header(&mw, 0x1234, FEDNS_F_QR | FEDNS_RCODE_NOTAUTH);
	size_t len = fedns_msgw_finish(&mw), nl = 0;
	assert_int_equal(
		fedns_tsig_append_unsigned(&m, ans, len, sizeof(ans), FEDNS_RCODE_BADKEY, &nl),
		FEDNS_OK);
	fedns_msg am;
	assert_int_equal(fedns_msg_parse(ans, nl, &a, &am), FEDNS_OK);
	assert_true(am.has_tsig);
	assert_true(fedns_name_equal(am.tsig.owner, stranger.name));
	/* the client sees it as a failed answer, never as valid */
	assert_int_equal(fedns_tsig_verify_answer(&cctx, ans, nl, &am, 7), FEDNS_EAUTH);
	fedns_arena_fini(&a);
}

static void
test_sign_no_room(void **state)
{
	(void)state;
	uint8_t buf[64];
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	fedns_msgw_header(&mw, 1, 0);
	fedns_msgw_question(&mw, zone, FEDNS_T_SOA, FEDNS_C_IN);
	size_t len = fedns_msgw_finish(&mw), nl = 0;
	fedns_tsig_ctx ctx;
	fedns_tsig_ctx_init(&ctx, &ring.keys[0]);
	uint8_t before[64];
	memcpy(before, buf, sizeof(buf));
	assert_int_equal(fedns_tsig_sign(&ctx, buf, len, sizeof(buf), 1, 0, &nl), FEDNS_ETOOBIG);
	/* the message itself (and its ARCOUNT) is untouched */
	assert_memory_equal(buf, before, len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyfile),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_multi_message_answer),
		cmocka_unit_test(test_unsigned_error_answer),
		cmocka_unit_test(test_sign_no_room),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
