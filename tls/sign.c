/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-256 keys over mbedTLS, key ids, and signatures in DER and raw r||s form, made
 * and checked with OpenSSL's libcrypto when the build found it (about 40x faster here). */
#include "tls/sign.h"
#include "tls/sign_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#ifdef FEDNS_HAVE_LIBCRYPTO
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

#include "common/encode.h"
#include "common/sha2.h"
#include "tls/entropy.h"

#define COORD_LEN 32
#define PRIVATE_FILE_MAX (64 * 1024) /* a P-256 PEM is ~230 bytes; anything huge is wrong */

struct fedns_sign_key {
	mbedtls_pk_context pk;
	bool has_private;
	bool drbg_ready;
	mbedtls_ctr_drbg_context drbg;
#ifdef FEDNS_HAVE_LIBCRYPTO
	/* the same key for libcrypto's signing and verification; NULL means the mbedTLS path */
	EVP_PKEY *evp;
#endif
};

/* Test-only: false sends every signature through mbedTLS even when libcrypto is built in. */
static bool use_libcrypto = true;

static fedns_err
map_err(int ret)
{
	switch (ret) {
	case 0:
		return FEDNS_OK;
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
	case MBEDTLS_ERR_ECP_ALLOC_FAILED:
	case MBEDTLS_ERR_MPI_ALLOC_FAILED:
	case MBEDTLS_ERR_ASN1_ALLOC_FAILED:
		return FEDNS_ENOMEM;
	case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
	case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
	case MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE:
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
	case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
		return FEDNS_ENOTSUP;
	case MBEDTLS_ERR_ENTROPY_SOURCE_FAILED:
	case MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED:
		return FEDNS_EIO;
	default:
		return FEDNS_EMALFORMED;
	}
}

static fedns_sign_key *
key_alloc(void)
{
	fedns_sign_key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	mbedtls_pk_init(&k->pk);
	mbedtls_ctr_drbg_init(&k->drbg);
	return k;
}

void
fedns_sign_key_free(fedns_sign_key *k)
{
	if (k == NULL)
		return;
#ifdef FEDNS_HAVE_LIBCRYPTO
	/* for an EC key this clears the private scalar (BN_clear_free) before freeing */
	EVP_PKEY_free(k->evp);
#endif
	/* both zeroize what they held (the scalar, the DRBG state) before freeing */
	mbedtls_pk_free(&k->pk);
	mbedtls_ctr_drbg_free(&k->drbg);
	mbedtls_platform_zeroize(k, sizeof(*k));
	free(k);
}

static fedns_err
seed_drbg(fedns_sign_key *k)
{
	static const unsigned char pers[] = "fedns-sign";
	int ret = mbedtls_ctr_drbg_seed(&k->drbg, fedns_tls_entropy, NULL, pers, sizeof(pers) - 1);
	if (ret != 0)
		return map_err(ret);
	k->drbg_ready = true;
	return FEDNS_OK;
}

/* Only P-256 keys get through: a key of another type or curve is refused where it enters. */
static fedns_err
check_p256(fedns_sign_key *k)
{
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY)
		return FEDNS_ENOTSUP;
	if (mbedtls_pk_ec(k->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
		return FEDNS_ENOTSUP;
	return FEDNS_OK;
}

/* Gives the key its libcrypto twin, built from the DER mbedTLS writes for it (the private
 * form when there is one; the buffer is wiped). When libcrypto cannot take the key, it
 * stays NULL and the key signs and verifies with mbedTLS as before. */
static void
attach_evp(fedns_sign_key *k)
{
#ifdef FEDNS_HAVE_LIBCRYPTO
	unsigned char buf[FEDNS_SIGN_PEM_MAX];
	int n = k->has_private ? mbedtls_pk_write_key_der(&k->pk, buf, sizeof(buf))
			       : mbedtls_pk_write_pubkey_der(&k->pk, buf, sizeof(buf));
	if (n > 0) {
		/* mbedTLS writes at the end of the buffer */
		const unsigned char *p = buf + sizeof(buf) - (size_t)n;
		k->evp = k->has_private ? d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)n)
					: d2i_PUBKEY(NULL, &p, (long)n);
	}
	mbedtls_platform_zeroize(buf, sizeof(buf));
#else
	(void)k;
#endif
}

fedns_err
fedns_sign_generate(fedns_sign_key **out)
{
	if (out == NULL)
		return FEDNS_EINVAL;
	fedns_sign_key *k = key_alloc();
	if (k == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = seed_drbg(k);
	if (err != FEDNS_OK)
		goto out;
	int ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk),
					  mbedtls_ctr_drbg_random, &k->drbg);
	if ((err = map_err(ret)) != FEDNS_OK)
		goto out;
	k->has_private = true;
	attach_evp(k);
out:
	if (err != FEDNS_OK)
		fedns_sign_key_free(k);
	else
		*out = k;
	return err;
}

/* mbedTLS wants PEM NUL-terminated with the NUL counted; the copy is wiped. */
static unsigned char *
nul_copy(const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	unsigned char *c = malloc(len + 1);
	if (c == NULL)
		return NULL;
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

fedns_err
fedns_sign_load_private_pem(const char *pem, size_t len, fedns_sign_key **out)
{
	if (pem == NULL || out == NULL)
		return FEDNS_EINVAL;
	if (len == 0 || memchr(pem, '\0', len) != NULL)
		return FEDNS_EMALFORMED;
	unsigned char *c = nul_copy(pem, len);
	if (c == NULL)
		return FEDNS_ENOMEM;
	fedns_sign_key *k = key_alloc();
	fedns_err err = FEDNS_ENOMEM;
	if (k == NULL)
		goto out;
	if ((err = map_err(mbedtls_pk_parse_key(&k->pk, c, len + 1, NULL, 0))) != FEDNS_OK)
		goto out;
	if ((err = check_p256(k)) != FEDNS_OK)
		goto out;
	mbedtls_ecp_keypair *kp = mbedtls_pk_ec(k->pk);
	if (mbedtls_ecp_check_privkey(&kp->grp, &kp->d) != 0 ||
	    mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) != 0) {
		err = FEDNS_EMALFORMED;
		goto out;
	}
	if ((err = seed_drbg(k)) != FEDNS_OK)
		goto out;
	k->has_private = true;
	attach_evp(k);
out:
	mbedtls_platform_zeroize(c, len + 1);
	free(c);
	if (err != FEDNS_OK)
		fedns_sign_key_free(k);
	else
		*out = k;
	return err;
}

fedns_err
fedns_sign_load_private_file(const char *path, fedns_sign_key **out)
{
	if (path == NULL || out == NULL)
		return FEDNS_EINVAL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return FEDNS_EIO;
	char *buf = malloc(PRIVATE_FILE_MAX);
	if (buf == NULL) {
		fclose(f);
		return FEDNS_ENOMEM;
	}
	size_t n = fread(buf, 1, PRIVATE_FILE_MAX, f);
	fedns_err err = FEDNS_OK;
	if (ferror(f))
		err = FEDNS_EIO;
	else if (n == PRIVATE_FILE_MAX)
		err = FEDNS_ETOOBIG;
	fclose(f);
	if (err == FEDNS_OK)
		err = fedns_sign_load_private_pem(buf, n, out);
	mbedtls_platform_zeroize(buf, PRIVATE_FILE_MAX);
	free(buf);
	return err;
}

static fedns_err
load_public(const unsigned char *buf, size_t len, fedns_sign_key **out)
{
	fedns_sign_key *k = key_alloc();
	if (k == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = map_err(mbedtls_pk_parse_public_key(&k->pk, buf, len));
	if (err == FEDNS_OK)
		err = check_p256(k);
	if (err == FEDNS_OK)
		attach_evp(k);
	if (err != FEDNS_OK)
		fedns_sign_key_free(k);
	else
		*out = k;
	return err;
}

fedns_err
fedns_sign_load_public_pem(const char *pem, size_t len, fedns_sign_key **out)
{
	if (pem == NULL || out == NULL)
		return FEDNS_EINVAL;
	if (len == 0 || memchr(pem, '\0', len) != NULL || strstr(pem, "-----BEGIN") == NULL)
		return FEDNS_EMALFORMED;
	unsigned char *c = nul_copy(pem, len);
	if (c == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = load_public(c, len + 1, out);
	free(c);
	return err;
}

fedns_err
fedns_sign_load_public_der(const uint8_t *der, size_t len, fedns_sign_key **out)
{
	if (der == NULL || out == NULL)
		return FEDNS_EINVAL;
	/* mbedTLS checks the inside of the SEQUENCE but not bytes after it, nor would it
	 * stop at a PEM-looking buffer; the outer length must cover the input exactly. */
	unsigned char *p = (unsigned char *)der;
	size_t inner = 0;
	if (len == 0 ||
	    mbedtls_asn1_get_tag(&p, p + len, &inner,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
	    (size_t)(p - der) + inner != len)
		return FEDNS_EMALFORMED;
	return load_public(der, len, out);
}

bool
fedns_sign_key_has_private(const fedns_sign_key *k)
{
	return k != NULL && k->has_private;
}

fedns_err
fedns_sign_public_der(const fedns_sign_key *k, uint8_t *out, size_t cap, size_t *outlen)
{
	if (k == NULL || out == NULL || outlen == NULL)
		return FEDNS_EINVAL;
	unsigned char tmp[FEDNS_SIGN_SPKI_MAX];
	/* written at the end of the buffer */
	int n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&k->pk, tmp, sizeof(tmp));
	if (n < 0)
		return map_err(n);
	if ((size_t)n > cap)
		return FEDNS_ETOOBIG;
	memcpy(out, tmp + sizeof(tmp) - (size_t)n, (size_t)n);
	*outlen = (size_t)n;
	return FEDNS_OK;
}

fedns_err
fedns_sign_public_pem(const fedns_sign_key *k, char *out, size_t cap)
{
	if (k == NULL || out == NULL)
		return FEDNS_EINVAL;
	int ret = mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&k->pk, (unsigned char *)out,
					      cap);
	if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
		return FEDNS_ETOOBIG;
	return ret == 0 ? FEDNS_OK : map_err(ret);
}

fedns_err
fedns_sign_private_pem(const fedns_sign_key *k, char *out, size_t cap)
{
	if (k == NULL || out == NULL)
		return FEDNS_EINVAL;
	if (!k->has_private)
		return FEDNS_EINVAL;
	int ret = mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, (unsigned char *)out, cap);
	if (ret != 0) {
		mbedtls_platform_zeroize(out, cap);
		if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL ||
		    ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
			return FEDNS_ETOOBIG;
		return map_err(ret);
	}
	return FEDNS_OK;
}

void
fedns_sign_key_id_of_spki(const uint8_t *der, size_t len, char out[FEDNS_SIGN_KEYID_LEN + 1])
{
	uint8_t h[FEDNS_SHA256_LEN];
	char b64[FEDNS_BASE64_LEN(FEDNS_SHA256_LEN) + 1];
	fedns_hash_once(FEDNS_HASH_SHA256, der, len, h);
	fedns_base64_encode(h, sizeof(h), b64);
	for (size_t i = 0; i < FEDNS_SIGN_KEYID_LEN; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[FEDNS_SIGN_KEYID_LEN] = '\0';
}

fedns_err
fedns_sign_key_id(const fedns_sign_key *k, char out[FEDNS_SIGN_KEYID_LEN + 1])
{
	uint8_t der[FEDNS_SIGN_SPKI_MAX];
	size_t n = 0;
	fedns_err err = fedns_sign_public_der(k, der, sizeof(der), &n);
	if (err != FEDNS_OK)
		return err;
	fedns_sign_key_id_of_spki(der, n, out);
	return FEDNS_OK;
}

/* SEQUENCE { INTEGER r, INTEGER s }, built backwards as mbedTLS's writer does. */
static fedns_err
write_der(const mbedtls_mpi *r, const mbedtls_mpi *s, uint8_t *der, size_t cap, size_t *derlen)
{
	unsigned char buf[FEDNS_SIGN_DER_MAX];
	unsigned char *p = buf + sizeof(buf);
	size_t len = 0;
	int ret;
	if ((ret = mbedtls_asn1_write_mpi(&p, buf, s)) < 0)
		return map_err(ret);
	len += (size_t)ret;
	if ((ret = mbedtls_asn1_write_mpi(&p, buf, r)) < 0)
		return map_err(ret);
	len += (size_t)ret;
	if ((ret = mbedtls_asn1_write_len(&p, buf, len)) < 0)
		return map_err(ret);
	len += (size_t)ret;
	if ((ret = mbedtls_asn1_write_tag(&p, buf,
					  MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		return map_err(ret);
	len += (size_t)ret;
	if (len > cap)
		return FEDNS_ETOOBIG;
	memcpy(der, p, len);
	*derlen = len;
	return FEDNS_OK;
}

static fedns_err
mbed_sign(fedns_sign_key *k, const void *msg, size_t len, uint8_t raw[FEDNS_SIGN_RAW_LEN],
	  uint8_t *der, size_t dercap, size_t *derlen)
{
	uint8_t hash[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, msg, len, hash);
	mbedtls_ecp_keypair *kp = mbedtls_pk_ec(k->pk);
	mbedtls_mpi r, s;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	fedns_err err = map_err(mbedtls_ecdsa_sign(&kp->grp, &r, &s, &kp->d, hash, sizeof(hash),
						   mbedtls_ctr_drbg_random, &k->drbg));
	if (err != FEDNS_OK)
		goto out;
	/* fixed width: leading zero bytes are kept (RFC 9421 §3.3.4) */
	if (mbedtls_mpi_write_binary(&r, raw, COORD_LEN) != 0 ||
	    mbedtls_mpi_write_binary(&s, raw + COORD_LEN, COORD_LEN) != 0) {
		err = FEDNS_EIO;
		goto out;
	}
	if (der != NULL)
		err = write_der(&r, &s, der, dercap, derlen);
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return err;
}

static fedns_err
mbed_verify_raw(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig)
{
	uint8_t hash[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, msg, len, hash);
	mbedtls_ecp_keypair *kp = mbedtls_pk_ec(k->pk);
	mbedtls_mpi r, s;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	fedns_err err = FEDNS_EAUTH;
	int ret = mbedtls_mpi_read_binary(&r, sig, COORD_LEN);
	if (ret == 0)
		ret = mbedtls_mpi_read_binary(&s, sig + COORD_LEN, COORD_LEN);
	if (ret == MBEDTLS_ERR_MPI_ALLOC_FAILED) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	/* range checks of r and s (1..n-1) are inside mbedtls_ecdsa_verify */
	if (ret == 0) {
		ret = mbedtls_ecdsa_verify(&kp->grp, hash, sizeof(hash), &kp->Q, &r, &s);
		if (ret == 0)
			err = FEDNS_OK;
		else if (ret == MBEDTLS_ERR_ECP_ALLOC_FAILED || ret == MBEDTLS_ERR_MPI_ALLOC_FAILED)
			err = FEDNS_ENOMEM;
	}
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return err;
}

static fedns_err
mbed_verify_der(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	uint8_t hash[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, msg, len, hash);
	/* a valid signature followed by junk (SIG_LEN_MISMATCH) does not verify either */
	int ret =
		mbedtls_ecdsa_read_signature(mbedtls_pk_ec(k->pk), hash, sizeof(hash), sig, siglen);
	if (ret == 0)
		return FEDNS_OK;
	if (ret == MBEDTLS_ERR_ECP_ALLOC_FAILED || ret == MBEDTLS_ERR_MPI_ALLOC_FAILED)
		return FEDNS_ENOMEM;
	return FEDNS_EAUTH;
}

#ifdef FEDNS_HAVE_LIBCRYPTO
/* EVP wants a pointer even for an empty message */
static const unsigned char empty_msg[1];

static fedns_err
evp_sign(fedns_sign_key *k, const void *msg, size_t len, uint8_t raw[FEDNS_SIGN_RAW_LEN],
	 uint8_t *der, size_t dercap, size_t *derlen)
{
	unsigned char sig[FEDNS_SIGN_DER_MAX];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = FEDNS_EIO;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->evp) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, len > 0 ? msg : empty_msg, len) == 1)
		err = FEDNS_OK;
	EVP_MD_CTX_free(md);
	if (err != FEDNS_OK)
		return err;
	/* libcrypto gives DER; the raw form is r and s at fixed width (RFC 9421 §3.3.4) */
	const unsigned char *p = sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	if (es == NULL)
		return FEDNS_EIO;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, COORD_LEN) != COORD_LEN ||
	    BN_bn2binpad(s, raw + COORD_LEN, COORD_LEN) != COORD_LEN)
		err = FEDNS_EIO;
	ECDSA_SIG_free(es);
	if (err == FEDNS_OK && der != NULL) {
		if (siglen > dercap) {
			err = FEDNS_ETOOBIG;
		} else {
			memcpy(der, sig, siglen);
			*derlen = siglen;
		}
	}
	return err;
}

/* libcrypto refuses DER with trailing bytes or non-minimal lengths and integers (it
 * re-encodes the parsed signature and compares), and r or s outside 1..n-1. */
static fedns_err
evp_verify_der(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = FEDNS_EAUTH;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->evp) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, len > 0 ? msg : empty_msg, len) == 1)
		err = FEDNS_OK;
	EVP_MD_CTX_free(md);
	return err;
}

static fedns_err
evp_verify_raw(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, COORD_LEN, NULL);
	BIGNUM *s = BN_bin2bn(sig + COORD_LEN, COORD_LEN, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return FEDNS_ENOMEM;
	}
	/* es owns r and s now */
	unsigned char der[FEDNS_SIGN_DER_MAX];
	unsigned char *p = der;
	fedns_err err = FEDNS_EAUTH;
	int n = i2d_ECDSA_SIG(es, NULL);
	if (n > 0 && (size_t)n <= sizeof(der) && i2d_ECDSA_SIG(es, &p) == n)
		err = evp_verify_der(k, msg, len, der, (size_t)n);
	ECDSA_SIG_free(es);
	return err;
}
#endif

static bool
want_evp(const fedns_sign_key *k)
{
#ifdef FEDNS_HAVE_LIBCRYPTO
	return use_libcrypto && k->evp != NULL;
#else
	(void)k;
	return false;
#endif
}

fedns_err
fedns_sign_sign(fedns_sign_key *k, const void *msg, size_t len, uint8_t raw[FEDNS_SIGN_RAW_LEN],
		uint8_t *der, size_t dercap, size_t *derlen)
{
	if (k == NULL || (msg == NULL && len > 0) || raw == NULL || (der != NULL && derlen == NULL))
		return FEDNS_EINVAL;
	if (!k->has_private || !k->drbg_ready)
		return FEDNS_EINVAL;
#ifdef FEDNS_HAVE_LIBCRYPTO
	if (want_evp(k))
		return evp_sign(k, msg, len, raw, der, dercap, derlen);
#endif
	return mbed_sign(k, msg, len, raw, der, dercap, derlen);
}

fedns_err
fedns_sign_verify_raw(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
		      size_t siglen)
{
	if (k == NULL || (msg == NULL && len > 0))
		return FEDNS_EINVAL;
	if (sig == NULL || siglen != FEDNS_SIGN_RAW_LEN)
		return FEDNS_EAUTH;
#ifdef FEDNS_HAVE_LIBCRYPTO
	if (want_evp(k))
		return evp_verify_raw(k, msg, len, sig);
#endif
	return mbed_verify_raw(k, msg, len, sig);
}

fedns_err
fedns_sign_verify_der(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
		      size_t siglen)
{
	if (k == NULL || (msg == NULL && len > 0))
		return FEDNS_EINVAL;
	if (sig == NULL || siglen == 0 || siglen > FEDNS_SIGN_DER_MAX)
		return FEDNS_EAUTH;
#ifdef FEDNS_HAVE_LIBCRYPTO
	if (want_evp(k))
		return evp_verify_der(k, msg, len, sig, siglen);
#endif
	return mbed_verify_der(k, msg, len, sig, siglen);
}

bool
fedns_sign_test_use_libcrypto(bool on)
{
	use_libcrypto = on;
#ifdef FEDNS_HAVE_LIBCRYPTO
	return true;
#else
	return false;
#endif
}

bool
fedns_sign_test_key_on_libcrypto(const fedns_sign_key *k)
{
	return k != NULL && want_evp(k);
}
