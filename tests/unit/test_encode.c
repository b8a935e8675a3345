/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648 §10 vectors, strict padding) and hex codecs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encode.h"

static const struct {
	const char *plain;
	const char *b64;
} rfc4648[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

static fedns_err
b64dec(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	return fedns_base64_decode(s, strlen(s), out, cap, outlen);
}

static void
test_base64_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *plain = rfc4648[i].plain, *b64 = rfc4648[i].b64;
		size_t n = strlen(plain);
		char text[16];
		memset(text, 'X', sizeof(text));
		assert_int_equal(fedns_base64_encode((const uint8_t *)plain, n, text), strlen(b64));
		assert_string_equal(text, b64);
		assert_int_equal(FEDNS_BASE64_LEN(n), strlen(b64));

		uint8_t out[16];
		size_t outlen = 99;
		assert_int_equal(b64dec(b64, out, sizeof(out), &outlen), FEDNS_OK);
		assert_int_equal(outlen, n);
		assert_memory_equal(out, plain, n);
	}
}

static void
test_base64_binary_roundtrip(void **state)
{
	(void)state;
	uint8_t in[256], back[256];
	char text[FEDNS_BASE64_LEN(256) + 1];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= sizeof(in); n += 1 + n / 8) {
		size_t tl = fedns_base64_encode(in, n, text);
		assert_int_equal(tl, FEDNS_BASE64_LEN(n));
		assert_int_equal(text[tl], '\0');
		size_t outlen = 0;
		assert_int_equal(fedns_base64_decode(text, tl, back, sizeof(back), &outlen),
				 FEDNS_OK);
		assert_int_equal(outlen, n);
		assert_memory_equal(back, in, n);
	}
	/* every alphabet character decodes to its value */
	static const uint8_t all[] = {0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30,
				      0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96,
				      0x9b, 0x71, 0xd7, 0x9f, 0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7,
				      0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf, 0xc3, 0x1c, 0xb3, 0xd3,
				      0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf};
	size_t outlen = 0;
	assert_int_equal(b64dec("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
				back, sizeof(back), &outlen),
			 FEDNS_OK);
	assert_int_equal(outlen, sizeof(all));
	assert_memory_equal(back, all, sizeof(all));
}

static void
test_base64_whitespace(void **state)
{
	(void)state;
	uint8_t out[16];
	size_t outlen = 0;
	assert_int_equal(b64dec(" Zm9v\n\tYmFy\r\n", out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64dec("Z m 9 v Y g = =", out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(b64dec(" \n\t\r ", out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 0);
	/* the length argument bounds the input: an embedded NUL is not an end marker */
	assert_int_equal(fedns_base64_decode("Zg==Zg==", 4, out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 1);
	assert_int_equal(fedns_base64_decode("Zg==\0", 5, out, sizeof(out), &outlen),
			 FEDNS_ESYNTAX);
}

static void
test_base64_bad_input(void **state)
{
	(void)state;
	/* lengths are explicit so an embedded NUL is part of the input */
#define V(lit)                                                                                     \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		V("Zg="),      /* padding short */
		V("Zg==="),    /* padding long */
		V("Z==="),     /* three pad characters */
		V("===="),     /* nothing but padding */
		V("Z"),	       /* one character */
		V("Zm9"),      /* unpadded tail */
		V("Zm9vY"),    /* group of one */
		V("Zg==Zg=="), /* data after padding */
		V("Zg==Z"),    /* data after padding */
		V("Zm=v"),     /* padding in the middle */
		V("Z=g="),     /* padding in the middle */
		V("Zh=="),     /* non-zero trailing bits (one byte) */
		V("Zm9="),     /* non-zero trailing bits (two bytes) */
		V("Zm8-"),     /* URL-safe alphabet is not base64 */
		V("Zm8_"),     V("Zm8."), V("Zm\x80v"), V("Zm\0v"), V("Zm9v\v"),
	};
#undef V
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[16];
		size_t outlen = 12345;
		fedns_err err =
			fedns_base64_decode(bad[i].s, bad[i].len, out, sizeof(out), &outlen);
		if (err != FEDNS_ESYNTAX)
			fail_msg("case %zu \"%s\": got %d, want FEDNS_ESYNTAX", i, bad[i].s, err);
		assert_int_equal(outlen, 12345);
	}
	/* the canonical forms of the same lengths are fine */
	uint8_t out[4];
	size_t outlen;
	assert_int_equal(b64dec("Zg==", out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(b64dec("Zm8=", out, sizeof(out), &outlen), FEDNS_OK);
}

static void
test_base64_cap(void **state)
{
	(void)state;
	uint8_t out[8];
	memset(out, 0xee, sizeof(out));
	size_t outlen = 77;
	/* six bytes: cap 5 is one short, cap 6 is exact */
	assert_int_equal(b64dec("Zm9vYmFy", out, 5, &outlen), FEDNS_ETOOBIG);
	assert_int_equal(outlen, 77);
	assert_int_equal(out[5], 0xee);
	assert_int_equal(b64dec("Zm9vYmFy", out, 6, &outlen), FEDNS_OK);
	assert_int_equal(outlen, 6);
	assert_int_equal(out[6], 0xee);
	/* padded tails count too */
	assert_int_equal(b64dec("Zm9vYmE=", out, 4, &outlen), FEDNS_ETOOBIG);
	assert_int_equal(b64dec("Zm9vYmE=", out, 5, &outlen), FEDNS_OK);
	assert_int_equal(outlen, 5);
	assert_int_equal(b64dec("Zg==", out, 0, &outlen), FEDNS_ETOOBIG);
	assert_int_equal(b64dec("", NULL, 0, &outlen), FEDNS_OK);
	assert_int_equal(outlen, 0);
}

static void
test_hex(void **state)
{
	(void)state;
	static const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0x7f, 0x80, 0xff};
	char text[2 * sizeof(bytes) + 1];
	assert_int_equal(fedns_hex_encode(bytes, sizeof(bytes), text, 0), 16);
	assert_string_equal(text, "0001abcdef7f80ff");
	assert_int_equal(fedns_hex_encode(bytes, sizeof(bytes), text, 1), 16);
	assert_string_equal(text, "0001ABCDEF7F80FF");
	assert_int_equal(fedns_hex_encode(bytes, 0, text, 1), 0);
	assert_string_equal(text, "");

	uint8_t out[16];
	size_t outlen = 0;
	assert_int_equal(fedns_hex_decode("0001abcdef7f80ff", 16, out, sizeof(out), &outlen),
			 FEDNS_OK);
	assert_int_equal(outlen, sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(fedns_hex_decode("0001ABCDEF7F80FF", 16, out, sizeof(out), &outlen),
			 FEDNS_OK);
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(
		fedns_hex_decode(" 00 01Ab\ncD\tEf 7f80fF\r\n", 23, out, sizeof(out), &outlen),
		FEDNS_OK);
	assert_int_equal(outlen, sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	/* digit pairs may straddle whitespace */
	assert_int_equal(fedns_hex_decode("a b", 3, out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 1);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(fedns_hex_decode("", 0, out, sizeof(out), &outlen), FEDNS_OK);
	assert_int_equal(outlen, 0);

	/* odd digit counts and non-hex characters */
	outlen = 55;
	assert_int_equal(fedns_hex_decode("abc", 3, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(fedns_hex_decode("a", 1, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(fedns_hex_decode("ab c", 4, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(fedns_hex_decode("0g", 2, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(fedns_hex_decode("0x00", 4, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(fedns_hex_decode("00\0", 3, out, sizeof(out), &outlen), FEDNS_ESYNTAX);
	assert_int_equal(outlen, 55);

	/* cap: exact fits, one short fails */
	assert_int_equal(fedns_hex_decode("a1b2c3", 6, out, 3, &outlen), FEDNS_OK);
	assert_int_equal(outlen, 3);
	assert_int_equal(fedns_hex_decode("a1b2c3", 6, out, 2, &outlen), FEDNS_ETOOBIG);
}

/* The streaming decoders get tokens, which hold no whitespace: a token made of a
 * control character is an error, not an empty field (found by fuzz_rdata: a TLSA whose
 * data token was "\r" parsed to no data). Output that does not fit is still checked. */
static void
test_streaming(void **state)
{
	(void)state;
	uint8_t out[4];
	size_t n = 0;
	fedns_hexdec h;
	fedns_hexdec_init(&h);
	assert_int_equal(fedns_hexdec_feed(&h, "\r", 1, out, sizeof(out), &n), FEDNS_ESYNTAX);
	fedns_hexdec_init(&h);
	assert_int_equal(fedns_hexdec_feed(&h, "0a", 2, out, sizeof(out), &n), FEDNS_OK);
	assert_int_equal(fedns_hexdec_feed(&h, "0b0c", 4, out, sizeof(out), &n), FEDNS_OK);
	assert_int_equal(fedns_hexdec_done(&h), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "\x0a\x0b\x0c", 3);
	/* over the cap: ETOOBIG, but a bad digit later is still found */
	assert_int_equal(fedns_hexdec_feed(&h, "0d0e", 4, out, sizeof(out), &n), FEDNS_ETOOBIG);
	assert_int_equal(n, 4);
	assert_int_equal(fedns_hexdec_feed(&h, "0x", 2, out, sizeof(out), &n), FEDNS_ESYNTAX);

	fedns_b64dec b;
	fedns_b64dec_init(&b);
	n = 0;
	assert_int_equal(fedns_b64dec_feed(&b, " ", 1, out, sizeof(out), &n), FEDNS_ESYNTAX);
	fedns_b64dec_init(&b);
	assert_int_equal(fedns_b64dec_feed(&b, "q8", 2, out, sizeof(out), &n), FEDNS_OK);
	assert_int_equal(fedns_b64dec_feed(&b, "0=", 2, out, sizeof(out), &n), FEDNS_OK);
	assert_int_equal(fedns_b64dec_done(&b), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xab\xcd", 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc_vectors),
		cmocka_unit_test(test_base64_binary_roundtrip),
		cmocka_unit_test(test_base64_whitespace),
		cmocka_unit_test(test_base64_bad_input),
		cmocka_unit_test(test_base64_cap),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
