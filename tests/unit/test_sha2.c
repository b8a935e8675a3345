/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-2 and HMAC against FIPS 180-4 / NIST example vectors and RFC 4231, on the portable
 * SHA-256 code and on the x86 SHA-extension code (when the CPU has it), and on the portable
 * and AVX2 SHA-384/512 code. */
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
#include "common/sha2_internal.h"

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

static void
assert_digest(const uint8_t *got, const char *hex)
{
	uint8_t want[FEDNS_SHA_MAX_LEN];
	size_t n = unhex(hex, want);
	if (memcmp(got, want, n) != 0) {
		char buf[2 * FEDNS_SHA_MAX_LEN + 1];
		for (size_t i = 0; i < n; i++)
			snprintf(buf + 2 * i, 3, "%02x", got[i]);
		fail_msg("digest %s, want %s", buf, hex);
	}
}

static const char M448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char M896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmno"
			   "pjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

struct hash_vec {
	const char *msg;
	const char *d256, *d384, *d512;
};

static const struct hash_vec VECS[] = {
	{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	 "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14"
	 "898b95b",
	 "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d28"
	 "77eec2f63b931bd47417a81a538327af927da3e"},
	{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	 "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca13"
	 "4c825a7",
	 "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a"
	 "3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	{M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	 "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe"
	 "3c8452b",
	 "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea5"
	 "7789ca031ad85c7a71dd70354ec631238ca3445"},
	{M896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
	 "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa9"
	 "1746039",
	 "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec"
	 "4b5433ac7d329eeb6dd26545e96e55b874be909"},
};

static void
test_fips_vectors(void **state)
{
	(void)state;
	uint8_t out[FEDNS_SHA_MAX_LEN];
	for (size_t i = 0; i < sizeof(VECS) / sizeof(VECS[0]); i++) {
		const struct hash_vec *v = &VECS[i];
		fedns_hash_once(FEDNS_HASH_SHA256, v->msg, strlen(v->msg), out);
		assert_digest(out, v->d256);
		fedns_hash_once(FEDNS_HASH_SHA384, v->msg, strlen(v->msg), out);
		assert_digest(out, v->d384);
		fedns_hash_once(FEDNS_HASH_SHA512, v->msg, strlen(v->msg), out);
		assert_digest(out, v->d512);
	}
}

static void
test_hash_len(void **state)
{
	(void)state;
	assert_int_equal(fedns_hash_len(FEDNS_HASH_SHA256), 32);
	assert_int_equal(fedns_hash_len(FEDNS_HASH_SHA384), 48);
	assert_int_equal(fedns_hash_len(FEDNS_HASH_SHA512), 64);
	assert_int_equal(fedns_hash_len((fedns_hash_alg)0), 0);
}

/* One million 'a', fed in 1000-byte pieces (not a multiple of either block size). */
static void
test_million_a(void **state)
{
	(void)state;
	static const struct {
		fedns_hash_alg alg;
		const char *hex;
	} want[] = {
		{FEDNS_HASH_SHA256,
		 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
		{FEDNS_HASH_SHA384, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a"
				    "5b07b8b3dc38ecc4ebae97ddd87f3d8985"},
		{FEDNS_HASH_SHA512,
		 "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4"
		 "cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
	};
	uint8_t chunk[1000];
	uint8_t out[FEDNS_SHA_MAX_LEN];
	memset(chunk, 'a', sizeof(chunk));
	for (size_t i = 0; i < 3; i++) {
		fedns_hash h;
		fedns_hash_init(&h, want[i].alg);
		for (int j = 0; j < 1000; j++)
			fedns_hash_update(&h, chunk, sizeof(chunk));
		fedns_hash_final(&h, out);
		assert_digest(out, want[i].hex);
	}
}

/* Padding edges: every length around one and two blocks, and every split point into odd
 * chunks, must equal the one-shot digest. */
static void
test_incremental_equals_oneshot(void **state)
{
	(void)state;
	uint8_t msg[300];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + 7);
	static const fedns_hash_alg algs[] = {FEDNS_HASH_SHA256, FEDNS_HASH_SHA384,
					      FEDNS_HASH_SHA512};
	static const size_t steps[] = {1, 3, 7, 13, 63, 65, 111, 127, 129};
	for (size_t a = 0; a < 3; a++) {
		size_t dl = fedns_hash_len(algs[a]);
		for (size_t len = 0; len <= sizeof(msg); len++) {
			uint8_t one[FEDNS_SHA_MAX_LEN], inc[FEDNS_SHA_MAX_LEN];
			fedns_hash_once(algs[a], msg, len, one);
			for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
				fedns_hash h;
				fedns_hash_init(&h, algs[a]);
				size_t off = 0, step = steps[s];
				while (off < len) {
					size_t n = len - off < step ? len - off : step;
					fedns_hash_update(&h, msg + off, n);
					off += n;
					step = step * 5 % 17 + 1; /* vary chunk sizes */
				}
				fedns_hash_update(&h, msg, 0);
				fedns_hash_final(&h, inc);
				assert_memory_equal(one, inc, dl);
			}
		}
	}
}

/* A different message must give a different digest (guards against a hash that ignores
 * its input, e.g. after the tail buffer). */
static void
test_one_bit_changes_digest(void **state)
{
	(void)state;
	uint8_t msg[200] = {0};
	uint8_t a[FEDNS_SHA384_LEN], b[FEDNS_SHA384_LEN];
	fedns_hash_once(FEDNS_HASH_SHA384, msg, sizeof(msg), a);
	msg[199] ^= 1;
	fedns_hash_once(FEDNS_HASH_SHA384, msg, sizeof(msg), b);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_final_wipes_context(void **state)
{
	(void)state;
	fedns_hash h, zero;
	uint8_t out[FEDNS_SHA_MAX_LEN];
	fedns_hash_init(&h, FEDNS_HASH_SHA512);
	fedns_hash_update(&h, "secret", 6);
	fedns_hash_final(&h, out);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&h, &zero, sizeof(h));
}

struct hmac_vec {
	const char *key; /* hex */
	const char *data;
	size_t datalen;
	const char *m256, *m384, *m512;
	size_t cmp; /* bytes compared (test 5 truncates to 128 bits) */
};

/* RFC 4231 §4.2-4.8. */
static const struct hmac_vec HVECS[] = {
	{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	 "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b"
	 "2fa9cb6",
	 "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274ea"
	 "ea3f4e4be9d914eeb61f1702e696c203a126854",
	 0},
	{"4a656665", "what do ya want for nothing?", 28,
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	 "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecf"
	 "ab21649",
	 "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f"
	 "8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	 0},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 50,
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	 "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e10"
	 "1a34f27",
	 "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47"
	 "e67c807b946a337bee8942674278859e13292fb",
	 0},
	{"0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, 50,
	 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	 "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c"
	 "674cffb",
	 "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc"
	 "5788063a5f19741120c4f2de2adebeb10a298dd",
	 0},
	{"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", 20,
	 "a3b6167473100ee06e0c796c2955552b", "3abf34c3503b2a23a46efc619baef897",
	 "415fad6271580a531d4179bc891d87a6", 16},
	{NULL, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	 "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df16"
	 "3f44952",
	 "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215"
	 "d6a1e5295e64f73f63f0aec8b915a985d786598",
	 0},
	{NULL,
	 "This is a test using a larger than block-size key and a larger than block-size data. "
	 "The key needs to be hashed before being used by the HMAC algorithm.",
	 152, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	 "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110"
	 "c46523e",
	 "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c"
	 "3e4de15134676fb6de0446065c97440fa8c6a58",
	 0},
};

static void
test_rfc4231(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(HVECS) / sizeof(HVECS[0]); i++) {
		const struct hmac_vec *v = &HVECS[i];
		uint8_t key[131], data[200];
		size_t keylen;
		if (v->key) {
			keylen = unhex(v->key, key);
		} else {
			keylen = 131;
			memset(key, 0xaa, keylen);
		}
		if (v->data) {
			assert_int_equal(strlen(v->data), v->datalen);
			memcpy(data, v->data, v->datalen);
		} else {
			memset(data, i == 2 ? 0xdd : 0xcd, v->datalen);
		}
		static const fedns_hash_alg algs[] = {FEDNS_HASH_SHA256, FEDNS_HASH_SHA384,
						      FEDNS_HASH_SHA512};
		const char *want[] = {v->m256, v->m384, v->m512};
		for (size_t a = 0; a < 3; a++) {
			fedns_hmac m;
			uint8_t out[FEDNS_SHA_MAX_LEN], exp[FEDNS_SHA_MAX_LEN];
			size_t n = unhex(want[a], exp);
			assert_int_equal(n, v->cmp ? v->cmp : fedns_hash_len(algs[a]));
			fedns_hmac_init(&m, algs[a], key, keylen);
			/* split the data to exercise incremental HMAC too */
			fedns_hmac_update(&m, data, v->datalen / 3);
			fedns_hmac_update(&m, data + v->datalen / 3, v->datalen - v->datalen / 3);
			fedns_hmac_final(&m, out);
			if (memcmp(out, exp, n) != 0)
				fail_msg("RFC 4231 case %zu alg %zu mismatch", i + 1, a);
		}
	}
}

/* A key exactly one block long is used as is; one byte longer is hashed first. */
static void
test_hmac_key_block_edges(void **state)
{
	(void)state;
	uint8_t key[129], hashed[FEDNS_SHA512_LEN];
	uint8_t a[FEDNS_SHA512_LEN], b[FEDNS_SHA512_LEN];
	fedns_hmac m;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	/* 129-byte key == HMAC with its SHA-512 digest as key (RFC 2104 §2). */
	fedns_hmac_init(&m, FEDNS_HASH_SHA512, key, 129);
	fedns_hmac_update(&m, "x", 1);
	fedns_hmac_final(&m, a);
	fedns_hash_once(FEDNS_HASH_SHA512, key, 129, hashed);
	fedns_hmac_init(&m, FEDNS_HASH_SHA512, hashed, sizeof(hashed));
	fedns_hmac_update(&m, "x", 1);
	fedns_hmac_final(&m, b);
	assert_memory_equal(a, b, sizeof(a));
	/* 128-byte key is not hashed, so it differs from HMAC keyed with its digest. */
	fedns_hmac_init(&m, FEDNS_HASH_SHA512, key, 128);
	fedns_hmac_update(&m, "x", 1);
	fedns_hmac_final(&m, a);
	fedns_hash_once(FEDNS_HASH_SHA512, key, 128, hashed);
	fedns_hmac_init(&m, FEDNS_HASH_SHA512, hashed, sizeof(hashed));
	fedns_hmac_update(&m, "x", 1);
	fedns_hmac_final(&m, b);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Empty key is the all-zero block. */
	uint8_t zero[64] = {0};
	fedns_hmac_init(&m, FEDNS_HASH_SHA256, NULL, 0);
	fedns_hmac_final(&m, a);
	fedns_hmac_init(&m, FEDNS_HASH_SHA256, zero, sizeof(zero));
	fedns_hmac_final(&m, b);
	assert_memory_equal(a, b, FEDNS_SHA256_LEN);
}

static void
test_secure_zero_and_ct_memcmp(void **state)
{
	(void)state;
	uint8_t buf[33];
	memset(buf, 0x5a, sizeof(buf));
	fedns_secure_zero(buf, sizeof(buf) - 1);
	for (size_t i = 0; i < sizeof(buf) - 1; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[32], 0x5a);
	fedns_secure_zero(NULL, 0);

	uint8_t x[48], y[48];
	memset(x, 7, sizeof(x));
	memset(y, 7, sizeof(y));
	assert_int_equal(fedns_ct_memcmp(x, y, sizeof(x)), 0);
	assert_int_equal(fedns_ct_memcmp(x, y, 0), 0);
	for (size_t i = 0; i < sizeof(y); i++) {
		y[i] ^= 0x80;
		assert_int_not_equal(fedns_ct_memcmp(x, y, sizeof(x)), 0);
		assert_int_equal(fedns_ct_memcmp(x, y, i), 0);
		y[i] ^= 0x80;
	}
}

/* The accelerated and the portable SHA-256 give the same digest for every length from 0 to
 * four blocks, at every alignment of the input, in one call and split into many: guards the
 * schedule, the state layout and the multi-block loop of the fast path. */
static void
test_sha256_paths_agree(void **state)
{
	(void)state;
	if (!fedns_sha256_accelerated())
		skip();
	static uint8_t buf[4 * 64 + 1 + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 167 + 13 + (i >> 3));
	for (size_t align = 0; align < 16; align += 3) {
		for (size_t len = 0; len <= 4 * 64 + 1; len++) {
			uint8_t fast[FEDNS_SHA256_LEN], slow[FEDNS_SHA256_LEN];
			uint8_t fast_split[FEDNS_SHA256_LEN];
			fedns_sha256_use_portable(false);
			fedns_hash_once(FEDNS_HASH_SHA256, buf + align, len, fast);
			fedns_hash h;
			fedns_hash_init(&h, FEDNS_HASH_SHA256);
			for (size_t off = 0; off < len; off += 37)
				fedns_hash_update(&h, buf + align + off,
						  len - off < 37 ? len - off : 37);
			fedns_hash_final(&h, fast_split);
			fedns_sha256_use_portable(true);
			fedns_hash_once(FEDNS_HASH_SHA256, buf + align, len, slow);
			if (memcmp(fast, slow, sizeof(fast)) != 0 ||
			    memcmp(fast_split, slow, sizeof(fast)) != 0)
				fail_msg("SHA-256 paths differ at length %zu, alignment %zu", len,
					 align);
		}
	}
	fedns_sha256_use_portable(false);
}

/* The same for SHA-384 and SHA-512 and their AVX2 schedule (two blocks at a time, an odd
 * last block after a pair, a lone block on the portable code): every length from 0 to 600
 * bytes (up to five blocks) at several alignments, whole and in 37-byte pieces, then a
 * 1 MiB message in one call and in pieces of every size class. */
static void
test_sha512_paths_agree(void **state)
{
	(void)state;
	if (!fedns_sha512_accelerated())
		skip();
	static const fedns_hash_alg algs[] = {FEDNS_HASH_SHA384, FEDNS_HASH_SHA512};
	static uint8_t buf[600 + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 151 + 7 + (i >> 2));
	for (size_t ai = 0; ai < 2; ai++) {
		fedns_hash_alg alg = algs[ai];
		size_t n = fedns_hash_len(alg);
		for (size_t align = 0; align < 16; align += 5) {
			for (size_t len = 0; len <= 600; len++) {
				uint8_t fast[FEDNS_SHA512_LEN], slow[FEDNS_SHA512_LEN];
				uint8_t fast_split[FEDNS_SHA512_LEN];
				fedns_sha512_use_portable(false);
				fedns_hash_once(alg, buf + align, len, fast);
				fedns_hash h;
				fedns_hash_init(&h, alg);
				for (size_t off = 0; off < len; off += 37)
					fedns_hash_update(&h, buf + align + off,
							  len - off < 37 ? len - off : 37);
				fedns_hash_final(&h, fast_split);
				fedns_sha512_use_portable(true);
				fedns_hash_once(alg, buf + align, len, slow);
				if (memcmp(fast, slow, n) != 0 || memcmp(fast_split, slow, n) != 0)
					fail_msg(
						"SHA-%zu paths differ at length %zu, alignment %zu",
						n * 8, len, align);
			}
		}
	}
	size_t big = 1u << 20;
	uint8_t *m = malloc(big + 1);
	assert_non_null(m);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i <= big; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m[i] = (uint8_t)x;
	}
	static const size_t pieces[] = {0, 1, 127, 128, 129, 255, 256, 257, 383, 4096, 65537};
	for (size_t ai = 0; ai < 2; ai++) {
		fedns_hash_alg alg = algs[ai];
		size_t n = fedns_hash_len(alg);
		uint8_t slow[FEDNS_SHA512_LEN];
		fedns_sha512_use_portable(true);
		fedns_hash_once(alg, m + 1, big, slow);
		fedns_sha512_use_portable(false);
		for (size_t pi = 0; pi < sizeof(pieces) / sizeof(pieces[0]); pi++) {
			uint8_t fast[FEDNS_SHA512_LEN];
			fedns_hash h;
			fedns_hash_init(&h, alg);
			if (pieces[pi] == 0) {
				fedns_hash_update(&h, m + 1, big);
			} else {
				for (size_t off = 0; off < big; off += pieces[pi])
					fedns_hash_update(&h, m + 1 + off,
							  big - off < pieces[pi] ? big - off
										 : pieces[pi]);
			}
			fedns_hash_final(&h, fast);
			if (memcmp(fast, slow, n) != 0)
				fail_msg("SHA-%zu paths differ on 1 MiB in pieces of %zu", n * 8,
					 pieces[pi]);
		}
	}
	free(m);
	fedns_sha512_use_portable(false);
}

/* When /proc/cpuinfo lists avx2 and bmi2 (and the OS enables AVX state, which a Linux that
 * lists avx2 does), the AVX2 SHA-512 path must be the one chosen. */
static void
test_sha512_accelerated_when_cpu_has_it(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		skip();
	char line[4096];
	bool avx2 = false, found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) == 0) {
			found = true;
			avx2 = strstr(line, " avx2") != NULL && strstr(line, " bmi2") != NULL;
		}
	}
	fclose(f);
#if defined(__x86_64__) || defined(__i386__)
	assert_int_equal(fedns_sha512_accelerated(), avx2);
#else
	assert_false(fedns_sha512_accelerated());
#endif
}

/* When /proc/cpuinfo lists sha_ni, the fast path must be the one chosen: otherwise the
 * second run of every vector below would silently test the portable code twice. */
static void
test_accelerated_when_cpu_has_it(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		skip();
	char line[4096];
	bool sha_ni = false;
	while (!sha_ni && fgets(line, sizeof(line), f) != NULL)
		sha_ni = strncmp(line, "flags", 5) == 0 && strstr(line, " sha_ni") != NULL;
	fclose(f);
#if defined(__x86_64__) || defined(__i386__)
	assert_int_equal(fedns_sha256_accelerated(), sha_ni);
#else
	assert_false(fedns_sha256_accelerated());
#endif
}

static int
use_portable(void **state)
{
	(void)state;
	fedns_sha256_use_portable(true);
	fedns_sha512_use_portable(true);
	return 0;
}

static int
use_best(void **state)
{
	(void)state;
	fedns_sha256_use_portable(false);
	fedns_sha512_use_portable(false);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_hash_len),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_one_bit_changes_digest),
		cmocka_unit_test(test_final_wipes_context),
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_hmac_key_block_edges),
		cmocka_unit_test(test_secure_zero_and_ct_memcmp),
	};
	const struct CMUnitTest cross[] = {
		cmocka_unit_test(test_accelerated_when_cpu_has_it),
		cmocka_unit_test(test_sha256_paths_agree),
		cmocka_unit_test(test_sha512_accelerated_when_cpu_has_it),
		cmocka_unit_test(test_sha512_paths_agree),
	};
	int failed = cmocka_run_group_tests_name("sha2 portable", tests, use_portable, use_best);
	failed += cmocka_run_group_tests_name("sha2 best for this CPU", tests, use_best, NULL);
	failed += cmocka_run_group_tests_name("sha2 paths", cross, NULL, NULL);
	return failed;
}
