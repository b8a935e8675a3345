/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/name: text <-> wire, limits, order, sort keys, decompression edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/name.h"

/* Parses an absolute or origin-relative name; fails the test on error. */
static size_t
parse(const char *s, const uint8_t *origin, uint8_t out[FEDNS_NAME_MAXLEN])
{
	size_t len = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = fedns_name_from_text(s, strlen(s), origin, out, &len, &d);
	if (err != FEDNS_OK)
		fail_msg("parse \"%s\": %s", s, d.msg);
	assert_int_equal(fedns_name_check(out, len), len);
	return len;
}

static fedns_err
parse_err(const char *s, const uint8_t *origin, fedns_diag *d)
{
	uint8_t out[FEDNS_NAME_MAXLEN];
	size_t len = 0;
	fedns_diag_clear(d);
	return fedns_name_from_text(s, strlen(s), origin, out, &len, d);
}

static void
test_from_text_basic(void **state)
{
	(void)state;
	uint8_t n[FEDNS_NAME_MAXLEN];
	static const uint8_t www[] = "\3www\7example\3com";
	assert_int_equal(parse("www.example.com.", NULL, n), sizeof(www));
	assert_memory_equal(n, www, sizeof(www));

	assert_int_equal(parse(".", NULL, n), 1);
	assert_int_equal(n[0], 0);
	assert_true(fedns_name_is_root(n));

	/* Case is preserved. */
	assert_int_equal(parse("WwW.Example.COM.", NULL, n), sizeof(www));
	assert_memory_equal(n, "\3WwW\7Example\3COM", sizeof(www));
}

static void
test_from_text_relative(void **state)
{
	(void)state;
	uint8_t origin[FEDNS_NAME_MAXLEN], n[FEDNS_NAME_MAXLEN];
	fedns_diag d;
	parse("example.com.", NULL, origin);

	static const uint8_t want[] = "\3www\7example\3com";
	assert_int_equal(parse("www", origin, n), sizeof(want));
	assert_memory_equal(n, want, sizeof(want));

	static const uint8_t want2[] = "\1a\1b\7example\3com";
	assert_int_equal(parse("a.b", origin, n), sizeof(want2));
	assert_memory_equal(n, want2, sizeof(want2));

	assert_int_equal(parse("@", origin, n), 13);
	assert_memory_equal(n, "\7example\3com", 13);

	/* An absolute name ignores the origin. */
	assert_int_equal(parse("x.", origin, n), 3);
	assert_memory_equal(n, "\1x", 3);

	assert_int_equal(parse_err("@", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "origin"));
	assert_int_equal(parse_err("www", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "relative"));
	/* '@' inside a longer name is an ordinary character. */
	assert_int_equal(parse("a@b.", NULL, n), 5);
	assert_memory_equal(n, "\3a@b", 5);
}

static void
test_from_text_escapes(void **state)
{
	(void)state;
	uint8_t n[FEDNS_NAME_MAXLEN];
	fedns_diag d;

	assert_int_equal(parse("a\\.b.c.", NULL, n), 7);
	assert_memory_equal(n, "\3a.b\1c", 7);
	assert_int_equal(parse("\\\\.", NULL, n), 3);
	assert_memory_equal(n, "\1\\", 3);
	assert_int_equal(parse("\\065\\000\\255x.", NULL, n), 6);
	assert_memory_equal(n, "\4A\0\377x", 6);
	assert_int_equal(parse("\\a.", NULL, n), 3);
	assert_memory_equal(n, "\1a", 3);
	/* A trailing escaped dot is part of the label, so the name is relative. */
	assert_int_equal(parse_err("a\\.", NULL, &d), FEDNS_ESYNTAX);

	assert_int_equal(parse_err("\\256.", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "above 255"));
	assert_int_equal(parse_err("\\999.", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("\\25.", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "three digits"));
	assert_int_equal(parse_err("\\2", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("\\2a5.", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("a\\", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "backslash"));
	assert_int_equal(parse_err("\\", NULL, &d), FEDNS_ESYNTAX);
}

static void
test_from_text_empty_labels(void **state)
{
	(void)state;
	fedns_diag d;
	uint8_t origin[FEDNS_NAME_MAXLEN];
	parse("example.", NULL, origin);

	assert_int_equal(parse_err("", origin, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("a..b", origin, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "empty label"));
	assert_int_equal(parse_err("a..b.", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("..", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err(".a.", NULL, &d), FEDNS_ESYNTAX);
	assert_int_equal(parse_err("a..", NULL, &d), FEDNS_ESYNTAX);
}

/* Builds presentation text of labels with the given lengths, each filled with 'x'. */
static void
build_text(char *out, const size_t *lens, size_t n, bool absolute)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		memset(out + o, 'x', lens[i]);
		o += lens[i];
		if (i + 1 < n || absolute)
			out[o++] = '.';
	}
	out[o] = '\0';
}

static void
test_from_text_limits(void **state)
{
	(void)state;
	char text[1200];
	uint8_t n[FEDNS_NAME_MAXLEN];
	fedns_diag d;

	size_t l63[] = {63};
	build_text(text, l63, 1, true);
	assert_int_equal(parse(text, NULL, n), 65);
	size_t l64[] = {64};
	build_text(text, l64, 1, true);
	assert_int_equal(parse_err(text, NULL, &d), FEDNS_ETOOBIG);
	assert_non_null(strstr(d.msg, "63"));

	/* 64+64+64+62 = 254 label bytes + root = 255. */
	size_t l255[] = {63, 63, 63, 61};
	build_text(text, l255, 4, true);
	assert_int_equal(parse(text, NULL, n), 255);
	size_t l256[] = {63, 63, 63, 62};
	build_text(text, l256, 4, true);
	assert_int_equal(parse_err(text, NULL, &d), FEDNS_ETOOBIG);
	assert_non_null(strstr(d.msg, "255"));

	/* Many one-octet labels: 127 * 2 + 1 = 255, 128 labels = 257. */
	size_t ones[128];
	for (size_t i = 0; i < 128; i++)
		ones[i] = 1;
	build_text(text, ones, 127, true);
	assert_int_equal(parse(text, NULL, n), 255);
	assert_int_equal(fedns_name_labels(n), 127);
	build_text(text, ones, 128, true);
	assert_int_equal(parse_err(text, NULL, &d), FEDNS_ETOOBIG);

	/* Escaped octets count once: 63 \DDD escapes are a 63-octet label. */
	char *t = text;
	for (int i = 0; i < 63; i++)
		t += sprintf(t, "\\%03d", i);
	strcpy(t, ".");
	assert_int_equal(parse(text, NULL, n), 65);
	strcpy(t, "\\065.");
	assert_int_equal(parse_err(text, NULL, &d), FEDNS_ETOOBIG);

	/* The limit holds after the origin is appended: relative 243 + origin 12 = 255. */
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen = parse("0123456789.", NULL, origin);
	assert_int_equal(olen, 12);
	size_t rel_ok[] = {63, 63, 63, 50}; /* 64*3 + 51 = 243 */
	build_text(text, rel_ok, 4, false);
	assert_int_equal(parse(text, origin, n), 255);
	size_t rel_bad[] = {63, 63, 63, 51};
	build_text(text, rel_bad, 4, false);
	assert_int_equal(parse_err(text, origin, &d), FEDNS_ETOOBIG);
}

static void
check_to_text(const char *in, const char *want)
{
	uint8_t n[FEDNS_NAME_MAXLEN];
	char out[FEDNS_NAME_MAXTEXT];
	parse(in, NULL, n);
	size_t len = fedns_name_to_text(n, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	/* And back again. */
	uint8_t n2[FEDNS_NAME_MAXLEN];
	size_t l2 = parse(out, NULL, n2);
	assert_int_equal(l2, fedns_name_len(n));
	assert_memory_equal(n, n2, l2);
}

static void
test_to_text(void **state)
{
	(void)state;
	check_to_text(".", ".");
	check_to_text("Www.Example.com.", "Www.Example.com.");
	check_to_text("a\\.b.c.", "a\\.b.c.");
	check_to_text("\\000\\032\\127\\255.", "\\000\\032\\127\\255.");
	check_to_text("\\\\\\\"\\(\\)\\;\\@\\$.", "\\\\\\\"\\(\\)\\;\\@\\$.");
	check_to_text("\\a\\-_*.", "a-_*.");
	check_to_text("a\\ b.", "a\\032b.");

	/* Exact fit and one short. */
	uint8_t n[FEDNS_NAME_MAXLEN];
	char out[32];
	parse("ab.c.", NULL, n);
	assert_int_equal(fedns_name_to_text(n, out, 6), 5);
	assert_string_equal(out, "ab.c.");
	memset(out, 'z', sizeof(out));
	assert_int_equal(fedns_name_to_text(n, out, 5), 0);
	assert_string_equal(out, "");
	parse(".", NULL, n);
	assert_int_equal(fedns_name_to_text(n, out, 2), 1);
	assert_int_equal(fedns_name_to_text(n, out, 1), 0);
	assert_string_equal(out, "");
	parse("\\001.", NULL, n);
	assert_int_equal(fedns_name_to_text(n, out, 6), 5);
	assert_int_equal(fedns_name_to_text(n, out, 5), 0);

	/* Longest possible text fits in FEDNS_NAME_MAXTEXT. */
	uint8_t big[FEDNS_NAME_MAXLEN];
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;
		big[o++] = (uint8_t)ll;
		memset(big + o, 0xff, ll);
		o += ll;
	}
	big[o++] = 0;
	assert_int_equal(o, 255);
	char bigtext[FEDNS_NAME_MAXTEXT];
	assert_int_equal(fedns_name_to_text(big, bigtext, sizeof(bigtext)), 250 * 4 + 4);
}

static void
test_check(void **state)
{
	(void)state;
	static const uint8_t ok[] = "\1a\2bc";
	assert_int_equal(fedns_name_check(ok, sizeof(ok)), sizeof(ok));
	/* Trailing bytes are allowed: it checks a prefix. */
	assert_int_equal(fedns_name_check((const uint8_t *)"\1a\0zz", 5), 3);
	assert_int_equal(fedns_name_check(ok, sizeof(ok) - 1), 0);
	assert_int_equal(fedns_name_check(ok, 0), 0);
	assert_int_equal(fedns_name_check(ok, 2), 0);
	assert_int_equal(fedns_name_check((const uint8_t *)"\xc0\x00", 2), 0);
	assert_int_equal(fedns_name_check((const uint8_t *)"\x40", 1), 0);
	uint8_t buf[300];
	memset(buf, 0, sizeof(buf));
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 62;
		buf[o] = (uint8_t)ll;
		o += 1 + ll;
	}
	buf[o++] = 0;
	assert_int_equal(o, 256);
	assert_int_equal(fedns_name_check(buf, sizeof(buf)), 0);
	buf[o - 64] = 61; /* the last label: 62 -> 61, shifting the root earlier */
	buf[o - 2] = 0;
	assert_int_equal(fedns_name_check(buf, sizeof(buf)), 255);
}

static void
test_compare(void **state)
{
	(void)state;
	uint8_t a[FEDNS_NAME_MAXLEN], b[FEDNS_NAME_MAXLEN], c[FEDNS_NAME_MAXLEN];
	parse("WWW.example.COM.", NULL, a);
	parse("www.EXAMPLE.com.", NULL, b);
	parse("www.example.org.", NULL, c);
	assert_true(fedns_name_equal(a, b));
	assert_false(fedns_name_equal(a, c));
	assert_int_equal(fedns_name_cmp_canonical(a, b), 0);
	assert_int_equal(fedns_name_hash(a), fedns_name_hash(b));
	assert_int_not_equal(fedns_name_hash(a), fedns_name_hash(c));

	/* Only ASCII letters fold: 0xc1 and 0xe1 differ. */
	parse("\\193.", NULL, a);
	parse("\\225.", NULL, b);
	assert_false(fedns_name_equal(a, b));
	/* '[' (0x5b) is not a folded '{' (0x7b). */
	parse("[.", NULL, a);
	parse("{.", NULL, b);
	assert_false(fedns_name_equal(a, b));

	/* Different structure, same octets. */
	parse("ab.", NULL, a);
	parse("a.b.", NULL, b);
	assert_false(fedns_name_equal(a, b));

	uint8_t p[FEDNS_NAME_MAXLEN];
	parse("Example.com.", NULL, p);
	parse("a.b.example.COM.", NULL, a);
	assert_true(fedns_name_is_subdomain(a, p));
	assert_true(fedns_name_is_subdomain(p, p));
	parse("com.", NULL, b);
	assert_false(fedns_name_is_subdomain(b, p));
	parse("xexample.com.", NULL, b);
	assert_false(fedns_name_is_subdomain(b, p));
	parse(".", NULL, b);
	assert_true(fedns_name_is_subdomain(a, b));

	assert_int_equal(fedns_name_labels(a), 4);
	assert_int_equal(fedns_name_labels(b), 0);
	assert_memory_equal(fedns_name_skip_labels(a, 2), "\7example\3COM", 13);
	assert_int_equal(*fedns_name_skip_labels(a, 4), 0);

	fedns_name_tolower(a);
	assert_memory_equal(a, "\1a\1b\7example\3com", 17);
	uint8_t cp[FEDNS_NAME_MAXLEN];
	assert_int_equal(fedns_name_copy(cp, a), 17);
	assert_memory_equal(cp, a, 17);
}

static void
test_concat(void **state)
{
	(void)state;
	uint8_t out[FEDNS_NAME_MAXLEN], suf[FEDNS_NAME_MAXLEN];
	size_t len = 0;
	parse("example.", NULL, suf);
	assert_int_equal(fedns_name_concat((const uint8_t *)"\3www", 4, suf, out, &len), FEDNS_OK);
	assert_int_equal(len, 13);
	assert_memory_equal(out, "\3www\7example", 13);

	uint8_t pre[254];
	memset(pre, 0, sizeof(pre));
	/* 246 bytes of prefix + 9 bytes of "example." = 255. */
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 53;
		pre[o] = (uint8_t)ll;
		memset(pre + o + 1, 'x', ll);
		o += 1 + ll;
	}
	assert_int_equal(o, 246);
	assert_int_equal(fedns_name_concat(pre, o, suf, out, &len), FEDNS_OK);
	assert_int_equal(len, 255);
	assert_int_equal(fedns_name_check(out, len), 255);
	pre[o - 54] = 54;
	assert_int_equal(fedns_name_concat(pre, o + 1, suf, out, &len), FEDNS_ETOOBIG);
}

/* RFC 4034 §6.1: "The following names are sorted in canonical DNS name order." */
static void
test_canonical_order_rfc4034(void **state)
{
	(void)state;
	static const char *const order[] = {
		"example.",	    "a.example.",      "yljkjljk.a.example.",
		"Z.a.example.",	    "zABC.a.EXAMPLE.", "z.example.",
		"\\001.z.example.", "*.z.example.",    "\\200.z.example.",
	};
	const size_t n = sizeof(order) / sizeof(order[0]);
	uint8_t names[9][FEDNS_NAME_MAXLEN];
	uint8_t keys[9][FEDNS_NAME_KEYMAX];
	size_t klen[9];
	for (size_t i = 0; i < n; i++) {
		parse(order[i], NULL, names[i]);
		klen[i] = fedns_name_sortkey(names[i], keys[i]);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int c = fedns_name_cmp_canonical(names[i], names[j]);
			if (i < j && c >= 0)
				fail_msg("%s should sort before %s", order[i], order[j]);
			if (i > j && c <= 0)
				fail_msg("%s should sort after %s", order[i], order[j]);
			if (i == j)
				assert_int_equal(c, 0);
			size_t m = klen[i] < klen[j] ? klen[i] : klen[j];
			int k = memcmp(keys[i], keys[j], m);
			if (k == 0)
				k = (klen[i] > klen[j]) - (klen[i] < klen[j]);
			assert_true((k < 0) == (i < j) && (k == 0) == (i == j));
		}
	}
	/* The sort key's documented form. */
	uint8_t key[FEDNS_NAME_KEYMAX];
	size_t kl = fedns_name_sortkey(names[6], key);
	assert_int_equal(kl, 13);
	assert_memory_equal(key, "example\0z\0\1\2\0", 13);
	parse(".", NULL, names[0]);
	assert_int_equal(fedns_name_sortkey(names[0], key), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* A random name from a small alphabet, so ties, prefixes and case variants are common. */
static void
random_name(uint8_t out[FEDNS_NAME_MAXLEN])
{
	static const uint8_t alpha[] = {0x00, 0x01, 0x02, 0xff, 'A', 'a', 'Z', 'z', '-', '0'};
	size_t nl = rng() % 5;
	size_t o = 0;
	for (size_t l = 0; l < nl; l++) {
		size_t ll = 1 + rng() % 4;
		if (rng() % 16 == 0)
			ll = 1 + rng() % 63;
		if (o + 1 + ll > FEDNS_NAME_MAXLEN - 1)
			break;
		out[o++] = (uint8_t)ll;
		for (size_t i = 0; i < ll; i++)
			out[o++] = alpha[rng() % sizeof(alpha)];
	}
	out[o] = 0;
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
test_sortkey_matches_cmp(void **state)
{
	(void)state;
	enum {
		N = 3000
	};
	uint8_t(*names)[FEDNS_NAME_MAXLEN] = malloc(N * FEDNS_NAME_MAXLEN);
	uint8_t(*keys)[FEDNS_NAME_KEYMAX] = malloc(N * FEDNS_NAME_KEYMAX);
	size_t *klen = malloc(N * sizeof(size_t));
	assert_non_null(names);
	assert_non_null(keys);
	assert_non_null(klen);
	for (size_t i = 0; i < N; i++) {
		random_name(names[i]);
		klen[i] = fedns_name_sortkey(names[i], keys[i]);
		assert_true(klen[i] <= FEDNS_NAME_KEYMAX);
	}
	size_t ties = 0;
	for (size_t t = 0; t < 400000; t++) {
		size_t i = rng() % N, j = rng() % N;
		int c = sign(fedns_name_cmp_canonical(names[i], names[j]));
		int r = sign(fedns_name_cmp_canonical(names[j], names[i]));
		size_t m = klen[i] < klen[j] ? klen[i] : klen[j];
		int k = sign(memcmp(keys[i], keys[j], m));
		if (k == 0)
			k = (klen[i] > klen[j]) - (klen[i] < klen[j]);
		if (c != k) {
			char ta[FEDNS_NAME_MAXTEXT], tb[FEDNS_NAME_MAXTEXT];
			fedns_name_to_text(names[i], ta, sizeof(ta));
			fedns_name_to_text(names[j], tb, sizeof(tb));
			fail_msg("cmp(%s, %s) = %d but key order %d", ta, tb, c, k);
		}
		assert_int_equal(c, -r);
		assert_int_equal(c == 0, fedns_name_equal(names[i], names[j]));
		if (c == 0) {
			ties++;
			assert_int_equal(fedns_name_hash(names[i]), fedns_name_hash(names[j]));
		}
	}
	/* The alphabet is small enough that distinct-but-equal names do occur. */
	assert_true(ties > N);

	/* The largest key: a 255-octet name of 0x00 octets. */
	uint8_t big[FEDNS_NAME_MAXLEN], key[FEDNS_NAME_KEYMAX];
	memset(big, 0, sizeof(big));
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;
		big[o] = (uint8_t)ll;
		o += 1 + ll;
	}
	assert_int_equal(fedns_name_check(big, sizeof(big)), 255);
	assert_int_equal(fedns_name_sortkey(big, key), 254 * 2 - 4);
	free(names);
	free(keys);
	free(klen);
}

/* Unpacks a name at 'at' in buf; returns the error and fills out/outlen/end. */
static fedns_err
unpack(const uint8_t *buf, size_t len, size_t at, uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen,
       size_t *end)
{
	fedns_wire w;
	fedns_wire_init(&w, buf, len);
	w.off = at;
	*outlen = 0;
	fedns_err err = fedns_name_unpack(&w, out, outlen);
	assert_int_equal(err, w.err);
	*end = w.off;
	return err;
}

static void
test_unpack_edges(void **state)
{
	(void)state;
	uint8_t out[FEDNS_NAME_MAXLEN];
	size_t olen, end;
	static const uint8_t name[] = "\3www\7example\3com"; /* 17 bytes with the root */

	/* Empty buffer. */
	assert_int_equal(unpack(name, 0, 0, out, &olen, &end), FEDNS_ETRUNC);
	/* Every strict prefix is short. */
	for (size_t l = 1; l < sizeof(name); l++)
		assert_int_equal(unpack(name, l, 0, out, &olen, &end), FEDNS_ETRUNC);
	/* Exact. */
	assert_int_equal(unpack(name, sizeof(name), 0, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, sizeof(name));
	assert_int_equal(end, sizeof(name));
	assert_memory_equal(out, name, sizeof(name));
	/* One over: the name ends where it ends, the extra byte is left for the caller. */
	uint8_t over[sizeof(name) + 1];
	memcpy(over, name, sizeof(name));
	over[sizeof(name)] = 0xaa;
	assert_int_equal(unpack(over, sizeof(over), 0, out, &olen, &end), FEDNS_OK);
	assert_int_equal(end, sizeof(name));

	/* Root alone. */
	assert_int_equal(unpack((const uint8_t *)"", 1, 0, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, 1);

	/* A sticky error is kept. */
	fedns_wire w;
	fedns_wire_init(&w, name, sizeof(name));
	w.err = FEDNS_ETRUNC;
	assert_int_equal(fedns_name_unpack(&w, out, &olen), FEDNS_ETRUNC);
}

static void
test_unpack_pointers(void **state)
{
	(void)state;
	uint8_t out[FEDNS_NAME_MAXLEN];
	size_t olen, end;

	/* example.com at 0, www -> 0 at 13, mail -> www at 19. */
	uint8_t msg[64];
	size_t o = 0;
	memcpy(msg, "\7example\3com", 13);
	o = 13;
	memcpy(msg + o, "\3www\xc0\x00", 6);
	o += 6;
	memcpy(msg + o, "\4mail\xc0\x0d", 7);
	o += 7;
	msg[o++] = 0xc0;
	msg[o++] = 0x13; /* bare pointer to "mail..." */
	assert_int_equal(unpack(msg, o, 13, out, &olen, &end), FEDNS_OK);
	assert_int_equal(end, 19);
	assert_int_equal(olen, 17);
	assert_memory_equal(out, "\3www\7example\3com", 17);
	assert_int_equal(unpack(msg, o, 19, out, &olen, &end), FEDNS_OK);
	assert_int_equal(end, 26);
	assert_memory_equal(out, "\4mail\3www\7example\3com", 22);
	assert_int_equal(unpack(msg, o, 26, out, &olen, &end), FEDNS_OK);
	assert_int_equal(end, 28);
	assert_int_equal(olen, 22);
	/* Pointer cut short. */
	assert_int_equal(unpack(msg, 27, 26, out, &olen, &end), FEDNS_ETRUNC);

	/* Self pointer. */
	static const uint8_t self[] = {0xc0, 0x00};
	assert_int_equal(unpack(self, 2, 0, out, &olen, &end), FEDNS_EMALFORMED);
	/* Pointer to itself from a later offset. */
	static const uint8_t self2[] = {0, 0xc0, 0x01};
	assert_int_equal(unpack(self2, 3, 1, out, &olen, &end), FEDNS_EMALFORMED);
	/* Forward pointer. */
	static const uint8_t fwd[] = {0xc0, 0x02, 0x01, 'a', 0x00};
	assert_int_equal(unpack(fwd, sizeof(fwd), 0, out, &olen, &end), FEDNS_EMALFORMED);
	/* Pointer into the name's own labels (after its start): label then pointer back
	 * to the label. */
	static const uint8_t into[] = {0, 0x01, 'a', 0xc0, 0x01};
	assert_int_equal(unpack(into, sizeof(into), 1, out, &olen, &end), FEDNS_EMALFORMED);
	/* Loop of two pointers, entered from a later name: 0 -> 2 -> 0. */
	static const uint8_t loop[] = {0xc0, 0x02, 0xc0, 0x00, 0xc0, 0x02};
	assert_int_equal(unpack(loop, sizeof(loop), 4, out, &olen, &end), FEDNS_EMALFORMED);
	/* Loop through labels: 0:"a" 2:ptr->4 4:"b" 6:ptr->0; entered at 8. */
	static const uint8_t loop2[] = {1, 'a', 0xc0, 4, 1, 'b', 0xc0, 0, 0xc0, 0};
	assert_int_equal(unpack(loop2, sizeof(loop2), 8, out, &olen, &end), FEDNS_EMALFORMED);
	/* Pointer past the end of the buffer. */
	static const uint8_t past[] = {0, 0xc0, 0x40};
	assert_int_equal(unpack(past, sizeof(past), 1, out, &olen, &end), FEDNS_EMALFORMED);
	/* Reserved label types. */
	static const uint8_t ext[] = {0x41, 0};
	assert_int_equal(unpack(ext, sizeof(ext), 0, out, &olen, &end), FEDNS_EMALFORMED);
	static const uint8_t res[] = {0x80, 0};
	assert_int_equal(unpack(res, sizeof(res), 0, out, &olen, &end), FEDNS_EMALFORMED);
	/* Pointer target holding a truncated name. */
	static const uint8_t cut[] = {0x05, 'a', 0xc0, 0x00};
	assert_int_equal(unpack(cut, sizeof(cut), 2, out, &olen, &end), FEDNS_ETRUNC);
}

static void
test_unpack_limits(void **state)
{
	(void)state;
	uint8_t buf[600];
	uint8_t out[FEDNS_NAME_MAXLEN];
	size_t olen, end;

	/* 63-octet label is fine, a 64 length byte is the 0x40 label type. */
	memset(buf, 'x', sizeof(buf));
	buf[0] = 63;
	buf[64] = 0;
	assert_int_equal(unpack(buf, 65, 0, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, 65);
	buf[0] = 64;
	buf[65] = 0;
	assert_int_equal(unpack(buf, 66, 0, out, &olen, &end), FEDNS_EMALFORMED);

	/* 255 octets uncompressed is fine, 256 is too big. */
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;
		buf[o] = (uint8_t)ll;
		memset(buf + o + 1, 'y', ll);
		o += 1 + ll;
	}
	buf[o++] = 0;
	assert_int_equal(o, 255);
	assert_int_equal(unpack(buf, o, 0, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, 255);
	assert_memory_equal(out, buf, 255);
	buf[o - 63] = 62; /* the last label grows into the root byte */
	buf[o - 1] = 'y';
	buf[o++] = 0;
	assert_int_equal(unpack(buf, o, 0, out, &olen, &end), FEDNS_ETOOBIG);

	/* 256 octets through compression: 192+1 bytes at 0, then a 62-octet label and a
	 * pointer to it. */
	o = 0;
	for (int l = 0; l < 3; l++) {
		buf[o] = 63;
		memset(buf + o + 1, 'z', 63);
		o += 64;
	}
	buf[o++] = 0;
	size_t at = o;
	buf[o++] = 62;
	memset(buf + o, 'w', 62);
	o += 62;
	buf[o++] = 0xc0;
	buf[o++] = 0x00;
	assert_int_equal(unpack(buf, o, at, out, &olen, &end), FEDNS_ETOOBIG);
	buf[at] = 61;
	buf[at + 62] = 0xc0;
	buf[at + 63] = 0x00;
	assert_int_equal(unpack(buf, at + 64, at, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, 255);
	assert_int_equal(end, at + 64);

	/* A long chain of backward pointers (each to the previous) is fine while short. */
	o = 0;
	buf[o++] = 1;
	buf[o++] = 'q';
	buf[o++] = 0;
	size_t prev = 0;
	for (int i = 0; i < 100; i++) {
		size_t here = o;
		buf[o++] = 1;
		buf[o++] = 'r';
		buf[o++] = (uint8_t)(0xc0 | (prev >> 8));
		buf[o++] = (uint8_t)prev;
		prev = here;
	}
	assert_int_equal(unpack(buf, o, prev, out, &olen, &end), FEDNS_OK);
	assert_int_equal(olen, 100 * 2 + 3);
	assert_int_equal(end, o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_text_basic),
		cmocka_unit_test(test_from_text_relative),
		cmocka_unit_test(test_from_text_escapes),
		cmocka_unit_test(test_from_text_empty_labels),
		cmocka_unit_test(test_from_text_limits),
		cmocka_unit_test(test_to_text),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_canonical_order_rfc4034),
		cmocka_unit_test(test_sortkey_matches_cmp),
		cmocka_unit_test(test_unpack_edges),
		cmocka_unit_test(test_unpack_pointers),
		cmocka_unit_test(test_unpack_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
