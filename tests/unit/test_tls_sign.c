/* SPDX-License-Identifier: Apache-2.0 */
/* tls/sign: ECDSA P-256 round trips in both signature forms, tampering and wrong keys,
 * import/export and key ids, refused inputs, and RFC 9421's own P-256 test vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/encode.h"
#include "tls/sign.h"
#include "tls/sign_internal.h"

/* RFC 9421 Appendix B.1.3, test-key-ecc-p256 */
static const char rfc_pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
	"w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
	"-----END PUBLIC KEY-----\n";
static const char rfc_priv_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIFKbhfNZfpDsW43+0+JjUr9K+bTeuxopu653+hBaXGA7oAoGCCqGSM49\n"
	"AwEHoUQDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM\n"
	"4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
	"-----END EC PRIVATE KEY-----\n";
static const char rfc_spki_b64[] =
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf"
	"w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==";
/* base64url(SHA-256(SPKI DER)) computed independently (Python hashlib) */
static const char rfc_key_id[] = "VfljYbeMu4Tx_GBLBxjoK9kau0bY_CWuhxs1-7-LeXQ";

/* RFC 9421 Appendix B.2.4: the signature base of test-response and its signature */
static const char b24_base[] =
	"\"@status\": 200\n"
	"\"content-type\": application/json\n"
	"\"content-digest\": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX"
	"69wWdXymyU0rjJuahq4l5aGgfLQ==:\n"
	"\"content-length\": 23\n"
	"\"@signature-params\": (\"@status\" \"content-type\" \"content-digest\" "
	"\"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\"";
static const char b24_sig_b64[] =
	"wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==";

/* RFC 9421 Appendix B.1.2 test-key-rsa-pss public key: a valid key of the wrong type */
static const char rsa_pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2\n"
	"+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+\n"
	"oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq\n"
	"gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W\n"
	"Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4\n"
	"aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI\n"
	"2wIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static size_t
b64(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	assert_int_equal(fedns_base64_decode(s, strlen(s), out, cap, &n), FEDNS_OK);
	return n;
}

static void
test_rfc9421_vector(void **state)
{
	(void)state;
	fedns_sign_key *pub = NULL;
	assert_int_equal(fedns_sign_load_public_pem(rfc_pub_pem, strlen(rfc_pub_pem), &pub),
			 FEDNS_OK);
	assert_false(fedns_sign_key_has_private(pub));
	uint8_t sig[96];
	size_t n = b64(b24_sig_b64, sig, sizeof(sig));
	assert_int_equal(n, FEDNS_SIGN_RAW_LEN);
	const size_t blen = strlen(b24_base);
	assert_int_equal(fedns_sign_verify_raw(pub, b24_base, blen, sig, n), FEDNS_OK);
	/* one character of the base changed, one bit of r, one bit of s: each fails */
	char *base = strdup(b24_base);
	assert_non_null(base);
	base[12] = '1'; /* "@status": 200 -> 201 */
	assert_int_equal(fedns_sign_verify_raw(pub, base, blen, sig, n), FEDNS_EAUTH);
	free(base);
	sig[0] ^= 0x01;
	assert_int_equal(fedns_sign_verify_raw(pub, b24_base, blen, sig, n), FEDNS_EAUTH);
	sig[0] ^= 0x01;
	sig[63] ^= 0x80;
	assert_int_equal(fedns_sign_verify_raw(pub, b24_base, blen, sig, n), FEDNS_EAUTH);
	sig[63] ^= 0x80;
	/* r||s is never read as DER, and a short raw signature never verifies */
	assert_int_equal(fedns_sign_verify_der(pub, b24_base, blen, sig, n), FEDNS_EAUTH);
	assert_int_equal(fedns_sign_verify_raw(pub, b24_base, blen, sig, n - 1), FEDNS_EAUTH);
	assert_int_equal(fedns_sign_verify_raw(pub, b24_base, blen, NULL, 0), FEDNS_EAUTH);

	/* the same key from SPKI DER has the same id, and the id is the documented hash */
	uint8_t der[FEDNS_SIGN_SPKI_MAX];
	size_t dlen = b64(rfc_spki_b64, der, sizeof(der));
	assert_int_equal(dlen, 91);
	fedns_sign_key *pub2 = NULL;
	assert_int_equal(fedns_sign_load_public_der(der, dlen, &pub2), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub2, b24_base, blen, sig, n), FEDNS_OK);
	char id1[FEDNS_SIGN_KEYID_LEN + 1], id2[FEDNS_SIGN_KEYID_LEN + 1],
		id3[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(fedns_sign_key_id(pub, id1), FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(pub2, id2), FEDNS_OK);
	fedns_sign_key_id_of_spki(der, dlen, id3);
	assert_string_equal(id1, rfc_key_id);
	assert_string_equal(id2, rfc_key_id);
	assert_string_equal(id3, rfc_key_id);
	uint8_t out[FEDNS_SIGN_SPKI_MAX];
	size_t olen = 0;
	assert_int_equal(fedns_sign_public_der(pub, out, sizeof(out), &olen), FEDNS_OK);
	assert_memory_equal(out, der, dlen);
	assert_int_equal(olen, dlen);
	assert_int_equal(fedns_sign_public_der(pub, out, 90, &olen), FEDNS_ETOOBIG);

	/* the RFC's private key signs what its public key verifies */
	fedns_sign_key *priv = NULL;
	assert_int_equal(fedns_sign_load_private_pem(rfc_priv_pem, strlen(rfc_priv_pem), &priv),
			 FEDNS_OK);
	assert_true(fedns_sign_key_has_private(priv));
	assert_int_equal(fedns_sign_key_id(priv, id1), FEDNS_OK);
	assert_string_equal(id1, rfc_key_id);
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_sign(priv, "hello", 5, raw, NULL, 0, NULL), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub, "hello", 5, raw, sizeof(raw)), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub, "hellp", 5, raw, sizeof(raw)), FEDNS_EAUTH);
	/* a public-only key cannot sign */
	assert_int_equal(fedns_sign_sign(pub, "hello", 5, raw, NULL, 0, NULL), FEDNS_EINVAL);
	fedns_sign_key_free(priv);
	fedns_sign_key_free(pub2);
	fedns_sign_key_free(pub);
}

static void
test_round_trip(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL, *other = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	assert_int_equal(fedns_sign_generate(&other), FEDNS_OK);
	assert_true(fedns_sign_key_has_private(k));
	static const char msg[] = "change set digest 4f2a";
	uint8_t raw[FEDNS_SIGN_RAW_LEN], der[FEDNS_SIGN_DER_MAX + 1]; /* +1: a trailing byte test */
	size_t dlen = 0;
	assert_int_equal(fedns_sign_sign(k, msg, sizeof(msg), raw, der, sizeof(der), &dlen),
			 FEDNS_OK);
	assert_true(dlen >= 8 && dlen <= FEDNS_SIGN_DER_MAX);
	assert_int_equal(der[0], 0x30);
	assert_int_equal(fedns_sign_verify_raw(k, msg, sizeof(msg), raw, sizeof(raw)), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_der(k, msg, sizeof(msg), der, dlen), FEDNS_OK);
	/* every single-bit flip of the message, of r||s and of the DER fails */
	uint8_t m[sizeof(msg)];
	memcpy(m, msg, sizeof(msg));
	for (size_t bit = 0; bit < sizeof(m) * 8; bit += 7) {
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(fedns_sign_verify_raw(k, m, sizeof(m), raw, sizeof(raw)),
				 FEDNS_EAUTH);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < sizeof(raw) * 8; bit += 5) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(fedns_sign_verify_raw(k, msg, sizeof(msg), raw, sizeof(raw)),
				 FEDNS_EAUTH);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < dlen * 8; bit += 3) {
		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(fedns_sign_verify_der(k, msg, sizeof(msg), der, dlen),
				 FEDNS_EAUTH);
		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* DER with a byte after it, or cut short, does not verify */
	der[dlen] = 0;
	assert_int_equal(fedns_sign_verify_der(k, msg, sizeof(msg), der, dlen + 1), FEDNS_EAUTH);
	assert_int_equal(fedns_sign_verify_der(k, msg, sizeof(msg), der, dlen - 1), FEDNS_EAUTH);
	/* a different key rejects both forms */
	assert_int_equal(fedns_sign_verify_raw(other, msg, sizeof(msg), raw, sizeof(raw)),
			 FEDNS_EAUTH);
	assert_int_equal(fedns_sign_verify_der(other, msg, sizeof(msg), der, dlen), FEDNS_EAUTH);
	/* two signatures of the same message differ (fresh randomness) but both verify */
	uint8_t raw2[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_sign(k, msg, sizeof(msg), raw2, NULL, 0, NULL), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(k, msg, sizeof(msg), raw2, sizeof(raw2)), FEDNS_OK);
	/* the empty message is a message too */
	assert_int_equal(fedns_sign_sign(k, NULL, 0, raw, NULL, 0, NULL), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(k, "", 0, raw, sizeof(raw)), FEDNS_OK);
	/* distinct keys, distinct ids */
	char a[FEDNS_SIGN_KEYID_LEN + 1], b[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(fedns_sign_key_id(k, a), FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(other, b), FEDNS_OK);
	assert_int_equal(strlen(a), FEDNS_SIGN_KEYID_LEN);
	assert_string_not_equal(a, b);
	assert_null(strpbrk(a, "+/="));
	fedns_sign_key_free(other);
	fedns_sign_key_free(k);
}

/* r and s are written at fixed width: a signature whose r starts with a zero byte still
 * is 64 bytes with that zero in front, and its DER form is shorter. */
static void
test_fixed_width(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	uint8_t raw[FEDNS_SIGN_RAW_LEN], der[FEDNS_SIGN_DER_MAX];
	size_t dlen = 0;
	bool seen = false;
	for (unsigned i = 0; i < 4000 && !seen; i++) {
		assert_int_equal(fedns_sign_sign(k, &i, sizeof(i), raw, der, sizeof(der), &dlen),
				 FEDNS_OK);
		if (raw[0] != 0)
			continue;
		seen = true;
		/* DER: 30 len 02 rlen r, r without leading zeros, a zero in front only when
		 * the high bit would make it negative */
		size_t z = 0;
		while (z < 32 && raw[z] == 0)
			z++;
		size_t pad = (raw[z] & 0x80) ? 1 : 0;
		assert_int_equal(der[2], 0x02);
		assert_int_equal(der[3], 32 - z + pad);
		assert_true(der[3] < 32 + pad);
		if (pad)
			assert_int_equal(der[4], 0);
		assert_memory_equal(der + 4 + pad, raw + z, 32 - z);
		assert_int_equal(fedns_sign_verify_raw(k, &i, sizeof(i), raw, sizeof(raw)),
				 FEDNS_OK);
		assert_int_equal(fedns_sign_verify_der(k, &i, sizeof(i), der, dlen), FEDNS_OK);
	}
	assert_true(seen); /* chance of missing in 4000 tries: (255/256)^4000 < 2e-7 */
	fedns_sign_key_free(k);
}

static void
test_export_import(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL, *pub = NULL, *pub2 = NULL, *back = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	char pem[FEDNS_SIGN_PEM_MAX], id[FEDNS_SIGN_KEYID_LEN + 1], id2[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(fedns_sign_key_id(k, id), FEDNS_OK);

	assert_int_equal(fedns_sign_public_pem(k, pem, sizeof(pem)), FEDNS_OK);
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(fedns_sign_load_public_pem(pem, strlen(pem), &pub), FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(pub, id2), FEDNS_OK);
	assert_string_equal(id, id2);
	assert_int_equal(fedns_sign_public_pem(k, pem, 20), FEDNS_ETOOBIG);

	uint8_t der[FEDNS_SIGN_SPKI_MAX];
	size_t dlen = 0;
	assert_int_equal(fedns_sign_public_der(k, der, sizeof(der), &dlen), FEDNS_OK);
	assert_int_equal(dlen, 91);
	assert_int_equal(fedns_sign_load_public_der(der, dlen, &pub2), FEDNS_OK);

	assert_int_equal(fedns_sign_private_pem(pub, pem, sizeof(pem)), FEDNS_EINVAL);
	assert_int_equal(fedns_sign_private_pem(k, pem, 16), FEDNS_ETOOBIG);
	assert_int_equal(fedns_sign_private_pem(k, pem, sizeof(pem)), FEDNS_OK);
	assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
	/* through a file, as the dev PKI will store it */
	char path[] = "/tmp/fedns-sign-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	close(fd);
	memset(pem, 0, sizeof(pem));
	assert_int_equal(fedns_sign_load_private_file(path, &back), FEDNS_OK);
	unlink(path);
	assert_int_equal(fedns_sign_key_id(back, id2), FEDNS_OK);
	assert_string_equal(id, id2);
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_sign(back, "x", 1, raw, NULL, 0, NULL), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub, "x", 1, raw, sizeof(raw)), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub2, "x", 1, raw, sizeof(raw)), FEDNS_OK);
	fedns_sign_key *none = NULL;
	assert_int_equal(fedns_sign_load_private_file("/nonexistent/fedns.key", &none), FEDNS_EIO);
	assert_null(none);
	fedns_sign_key_free(back);
	fedns_sign_key_free(pub2);
	fedns_sign_key_free(pub);
	fedns_sign_key_free(k);
	fedns_sign_key_free(NULL);
}

static void
test_bad_keys(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL;
	uint8_t der[FEDNS_SIGN_SPKI_MAX + 1];
	size_t dlen = b64(rfc_spki_b64, der, sizeof(der));

	assert_int_equal(fedns_sign_load_public_der(der, 0, &k), FEDNS_EMALFORMED);
	assert_int_equal(fedns_sign_load_public_der(der, dlen - 1, &k), FEDNS_EMALFORMED);
	der[dlen] = 0;
	assert_int_equal(fedns_sign_load_public_der(der, dlen + 1, &k), FEDNS_EMALFORMED);
	/* the point's last byte changed: no longer on the curve */
	der[dlen - 1] ^= 0x01;
	assert_int_not_equal(fedns_sign_load_public_der(der, dlen, &k), FEDNS_OK);
	der[dlen - 1] ^= 0x01;
	/* the curve OID's last byte changed (P-256 -> unknown) */
	assert_int_equal(der[22], 0x07);
	der[22] = 0x06;
	assert_int_not_equal(fedns_sign_load_public_der(der, dlen, &k), FEDNS_OK);
	der[22] = 0x07;
	assert_int_equal(fedns_sign_load_public_der(der, dlen, &k), FEDNS_OK);
	fedns_sign_key_free(k);
	k = NULL;
	assert_null(k);

	assert_int_equal(fedns_sign_load_public_pem("", 0, &k), FEDNS_EMALFORMED);
	assert_int_equal(fedns_sign_load_public_pem("garbage", 7, &k), FEDNS_EMALFORMED);
	assert_int_equal(fedns_sign_load_public_pem(rsa_pub_pem, strlen(rsa_pub_pem), &k),
			 FEDNS_ENOTSUP);
	/* a PEM cut in the middle of its base64 */
	assert_int_equal(fedns_sign_load_public_pem(rfc_pub_pem, 60, &k), FEDNS_EMALFORMED);
	/* a public key where a private one is wanted, and the other way round */
	assert_int_equal(fedns_sign_load_private_pem(rfc_pub_pem, strlen(rfc_pub_pem), &k),
			 FEDNS_EMALFORMED);
	assert_int_equal(fedns_sign_load_private_pem("", 0, &k), FEDNS_EMALFORMED);
	char withnul[] = "-----BEGIN EC PRIVATE KEY-----\0junk";
	assert_int_equal(fedns_sign_load_private_pem(withnul, sizeof(withnul) - 1, &k),
			 FEDNS_EMALFORMED);
	assert_int_not_equal(fedns_sign_load_public_pem(rfc_priv_pem, strlen(rfc_priv_pem), &k),
			     FEDNS_OK);
	assert_null(k);
}

/* The two implementations behind tls/sign: libcrypto (when built in) and mbedTLS. */
enum {
	PATH_MBEDTLS,
	PATH_LIBCRYPTO,
	PATH_COUNT
};
static const char *const path_name[PATH_COUNT] = {"mbedTLS", "libcrypto"};

/* Selects a path; false when that path is not built in (libcrypto missing at configure). */
static bool
use_path(int path)
{
	bool have = fedns_sign_test_use_libcrypto(path == PATH_LIBCRYPTO);
	return path == PATH_MBEDTLS || have;
}

static int
restore_default(void **state)
{
	(void)state;
	fedns_sign_test_use_libcrypto(true);
	return 0;
}

/* the order n of P-256's base point, big-endian */
static const uint8_t p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
	0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* out = a - b over 32 big-endian bytes (a >= b) */
static void
sub32(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = a[i] - b[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

/* DER INTEGER of a 32-byte big-endian value: minimal, plus `extra` superfluous zero bytes */
static size_t
der_int(const uint8_t *v, size_t extra, uint8_t *out)
{
	size_t z = 0;
	while (z < 31 && v[z] == 0)
		z++;
	size_t pad = (v[z] & 0x80) ? 1 : 0;
	size_t n = 32 - z + pad + extra;
	out[0] = 0x02;
	out[1] = (uint8_t)n;
	memset(out + 2, 0, pad + extra);
	memcpy(out + 2 + pad + extra, v + z, 32 - z);
	return 2 + n;
}

/* SEQUENCE { r, s } from r||s; extra_r zero bytes in front of r (non-minimal when > 0) */
static size_t
der_of_raw(const uint8_t raw[FEDNS_SIGN_RAW_LEN], size_t extra_r, uint8_t *out)
{
	uint8_t body[80];
	size_t n = der_int(raw, extra_r, body);
	n += der_int(raw + 32, 0, body + n);
	out[0] = 0x30;
	out[1] = (uint8_t)n;
	memcpy(out + 2, body, n);
	return 2 + n;
}

/* Signatures made by either path verify with the other, in both forms and with the key
 * pair as well as with the public key loaded from its SPKI DER, for a generated key and
 * for a key loaded from PEM; the DER each path writes is the canonical form of its r||s. */
static void
test_cross_paths(void **state)
{
	(void)state;
	if (!fedns_sign_test_use_libcrypto(true)) {
		print_message("libcrypto not built in: nothing to cross-check\n");
		skip();
	}
	fedns_sign_key *keys[2] = {NULL, NULL};
	assert_int_equal(fedns_sign_generate(&keys[0]), FEDNS_OK);
	assert_int_equal(fedns_sign_load_private_pem(rfc_priv_pem, strlen(rfc_priv_pem), &keys[1]),
			 FEDNS_OK);
	for (int ki = 0; ki < 2; ki++) {
		fedns_sign_key *k = keys[ki], *pub = NULL;
		uint8_t spki[FEDNS_SIGN_SPKI_MAX];
		size_t slen = 0;
		assert_int_equal(fedns_sign_public_der(k, spki, sizeof(spki), &slen), FEDNS_OK);
		assert_int_equal(fedns_sign_load_public_der(spki, slen, &pub), FEDNS_OK);
		assert_true(fedns_sign_test_key_on_libcrypto(k));
		assert_true(fedns_sign_test_key_on_libcrypto(pub));
		for (int signer = 0; signer < PATH_COUNT; signer++) {
			for (unsigned i = 0; i < 16; i++) {
				uint8_t msg[40];
				memset(msg, (int)(i * 37), sizeof(msg));
				const size_t mlen = i; /* 0..15 bytes, the empty message first */
				uint8_t raw[FEDNS_SIGN_RAW_LEN], der[FEDNS_SIGN_DER_MAX];
				uint8_t again[FEDNS_SIGN_DER_MAX];
				size_t dlen = 0;
				assert_true(use_path(signer));
				assert_int_equal(fedns_sign_test_key_on_libcrypto(k),
						 signer == PATH_LIBCRYPTO);
				assert_int_equal(fedns_sign_sign(k, mlen ? msg : NULL, mlen, raw,
								 der, sizeof(der), &dlen),
						 FEDNS_OK);
				assert_int_equal(der_of_raw(raw, 0, again), dlen);
				assert_memory_equal(again, der, dlen);
				for (int verifier = 0; verifier < PATH_COUNT; verifier++) {
					assert_true(use_path(verifier));
					fedns_sign_key *vk[2] = {k, pub};
					for (int v = 0; v < 2; v++) {
						assert_int_equal(fedns_sign_verify_raw(vk[v], msg,
										       mlen, raw,
										       sizeof(raw)),
								 FEDNS_OK);
						assert_int_equal(fedns_sign_verify_der(vk[v], msg,
										       mlen, der,
										       dlen),
								 FEDNS_OK);
						/* and not for another message */
						assert_int_equal(
							fedns_sign_verify_raw(vk[v], msg, mlen + 1,
									      raw, sizeof(raw)),
							FEDNS_EAUTH);
					}
				}
			}
		}
		restore_default(NULL);
		fedns_sign_key_free(pub);
	}
	/* the RFC 9421 signature verifies on both paths too */
	uint8_t sig[96];
	size_t n = b64(b24_sig_b64, sig, sizeof(sig));
	for (int path = 0; path < PATH_COUNT; path++) {
		assert_true(use_path(path));
		assert_int_equal(fedns_sign_verify_raw(keys[1], b24_base, strlen(b24_base), sig, n),
				 FEDNS_OK);
	}
	restore_default(NULL);
	fedns_sign_key_free(keys[1]);
	fedns_sign_key_free(keys[0]);
}

/* Every malformed signature is FEDNS_EAUTH on both paths, never another error or a crash;
 * the valid signature and its high-s twin (r, n - s) verify on both. */
static void
test_malformed_both_paths(void **state)
{
	(void)state;
	static const char msg[] = "change set 7 for example.org";
	const size_t mlen = sizeof(msg) - 1;
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	for (int path = 0; path < PATH_COUNT; path++) {
		if (!use_path(path))
			continue;
		print_message("malformed signatures on the %s path\n", path_name[path]);
		uint8_t raw[FEDNS_SIGN_RAW_LEN], der[FEDNS_SIGN_DER_MAX + 8], bad[96];
		size_t dlen = 0;
		assert_int_equal(fedns_sign_sign(k, msg, mlen, raw, der, sizeof(der), &dlen),
				 FEDNS_OK);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, raw, sizeof(raw)), FEDNS_OK);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, der, dlen), FEDNS_OK);

		/* raw: wrong lengths */
		memcpy(bad, raw, sizeof(raw));
		bad[64] = 0;
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, NULL, 64), FEDNS_EAUTH);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 0), FEDNS_EAUTH);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 63), FEDNS_EAUTH);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 65), FEDNS_EAUTH);
		/* raw: r or s zero, equal to n, all ones; all zero */
		const uint8_t *fill[3] = {NULL, p256_n, NULL};
		for (int half = 0; half < 2; half++) {
			for (int f = 0; f < 3; f++) {
				memcpy(bad, raw, sizeof(raw));
				if (f == 0)
					memset(bad + 32 * half, 0, 32);
				else if (f == 1)
					memcpy(bad + 32 * half, fill[f], 32);
				else
					memset(bad + 32 * half, 0xff, 32);
				assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 64),
						 FEDNS_EAUTH);
			}
		}
		memset(bad, 0, 64);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 64), FEDNS_EAUTH);
		/* r and s swapped */
		memcpy(bad, raw + 32, 32);
		memcpy(bad + 32, raw, 32);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 64), FEDNS_EAUTH);
		/* r||s given as DER, DER given as raw (padded to 64 when shorter) */
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, raw, 64), FEDNS_EAUTH);
		memset(bad, 0, 64);
		memcpy(bad, der, dlen < 64 ? dlen : 64);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 64), FEDNS_EAUTH);

		/* high-s twin: valid ECDSA, accepted by both (neither normalises s) */
		memcpy(bad, raw, 32);
		sub32(p256_n, raw + 32, bad + 32);
		assert_int_equal(fedns_sign_verify_raw(k, msg, mlen, bad, 64), FEDNS_OK);

		/* DER: empty, NULL, every truncation, trailing bytes, over the maximum length */
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, NULL, dlen), FEDNS_EAUTH);
		for (size_t cut = 0; cut < dlen; cut++)
			assert_int_equal(fedns_sign_verify_der(k, msg, mlen, der, cut),
					 FEDNS_EAUTH);
		memset(der + dlen, 0, 8);
		for (size_t extra = 1; extra <= 8; extra++)
			assert_int_equal(fedns_sign_verify_der(k, msg, mlen, der, dlen + extra),
					 FEDNS_EAUTH);
		memset(bad, 0, sizeof(bad));
		memcpy(bad, der, dlen);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, bad, FEDNS_SIGN_DER_MAX + 1),
				 FEDNS_EAUTH);
		/* DER: wrong outer tag, wrong INTEGER tag, outer length off by one either way */
		const size_t at[4] = {0, 2, 1, 1};
		const int delta[4] = {1, 1, 1, -1};
		for (int c = 0; c < 4; c++) {
			memcpy(bad, der, dlen);
			bad[at[c]] = (uint8_t)(bad[at[c]] + delta[c]);
			assert_int_equal(fedns_sign_verify_der(k, msg, mlen, bad, dlen),
					 FEDNS_EAUTH);
		}
		/* DER: r negative (its padding byte removed or its high bit set) */
		size_t blen = der_of_raw(raw, 0, bad);
		assert_int_equal(blen, dlen);
		bad[4] ^= 0x80;
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, bad, blen), FEDNS_EAUTH);
		/* DER: s = 0 and s = n */
		memcpy(bad, raw, 64);
		memset(bad + 32, 0, 32);
		uint8_t d2[FEDNS_SIGN_DER_MAX + 8];
		blen = der_of_raw(bad, 0, d2);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, d2, blen), FEDNS_EAUTH);
		memcpy(bad + 32, p256_n, 32);
		blen = der_of_raw(bad, 0, d2);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, d2, blen), FEDNS_EAUTH);
		/* DER: the valid signature inside a SET, and two signatures in one SEQUENCE */
		memcpy(bad, der, dlen);
		bad[0] = 0x31;
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, bad, dlen), FEDNS_EAUTH);
	}
	/* non-minimal INTEGER encoding (a superfluous zero byte in front of r): DER forbids
	 * it and libcrypto refuses it; mbedTLS 2.28's reader tolerates it, so it is asserted
	 * for the libcrypto path only */
	if (use_path(PATH_LIBCRYPTO)) {
		uint8_t raw[FEDNS_SIGN_RAW_LEN], d2[FEDNS_SIGN_DER_MAX + 8];
		assert_int_equal(fedns_sign_sign(k, msg, mlen, raw, NULL, 0, NULL), FEDNS_OK);
		size_t blen = der_of_raw(raw, 1, d2);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, d2, blen), FEDNS_EAUTH);
		blen = der_of_raw(raw, 0, d2);
		assert_int_equal(fedns_sign_verify_der(k, msg, mlen, d2, blen), FEDNS_OK);
	}
	restore_default(NULL);
	fedns_sign_key_free(k);
}

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Not an assertion: microseconds per signature and per verification on each path, so a
 * test log shows what the change-set path pays. */
static void
test_timing(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	uint8_t msg[256];
	memset(msg, 0x5a, sizeof(msg));
	for (int path = 0; path < PATH_COUNT; path++) {
		if (!use_path(path)) {
			print_message("timing: %s not built in\n", path_name[path]);
			continue;
		}
		const int rounds = path == PATH_LIBCRYPTO ? 2000 : 200;
		uint8_t raw[FEDNS_SIGN_RAW_LEN];
		double t0 = now_us();
		for (int i = 0; i < rounds; i++)
			assert_int_equal(fedns_sign_sign(k, msg, sizeof(msg), raw, NULL, 0, NULL),
					 FEDNS_OK);
		double t1 = now_us();
		for (int i = 0; i < rounds; i++)
			assert_int_equal(
				fedns_sign_verify_raw(k, msg, sizeof(msg), raw, sizeof(raw)),
				FEDNS_OK);
		double t2 = now_us();
		print_message("timing: %-9s sign %7.1f us  verify %7.1f us  (%d rounds, 256-byte "
			      "message)\n",
			      path_name[path], (t1 - t0) / rounds, (t2 - t1) / rounds, rounds);
	}
	restore_default(NULL);
	fedns_sign_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc9421_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fixed_width),
		cmocka_unit_test(test_export_import),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test_teardown(test_cross_paths, restore_default),
		cmocka_unit_test_teardown(test_malformed_both_paths, restore_default),
		cmocka_unit_test_teardown(test_timing, restore_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
