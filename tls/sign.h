/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-256 keys and signatures (mbedTLS stays behind this module): generate, load,
 * export, key ids, sign and verify in both DER and the raw r||s form RFC 9421 uses. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define FEDNS_SIGN_RAW_LEN 64	/* r || s, 32 bytes each, big-endian (RFC 9421 §3.3.4) */
#define FEDNS_SIGN_DER_MAX 72	/* SEQUENCE { INTEGER r, INTEGER s } at its longest */
#define FEDNS_SIGN_SPKI_MAX 128 /* a P-256 SubjectPublicKeyInfo is 91 bytes */
#define FEDNS_SIGN_PEM_MAX 512	/* either PEM of a P-256 key, with headers */
#define FEDNS_SIGN_KEYID_LEN 43 /* base64url of 32 bytes without padding */
#define FEDNS_SIGN_ALG "ecdsa-p256-sha256"

/* A P-256 key: a public key, or a key pair when loaded from a private key or generated.
 * One thread at a time per key (mbedTLS caches curve tables inside it); the private
 * scalar is wiped when the key is freed. */
typedef struct fedns_sign_key fedns_sign_key;

/* A fresh key pair from a CTR-DRBG seeded by getrandom(2). Free with fedns_sign_key_free. */
fedns_err fedns_sign_generate(fedns_sign_key **out);
/* A key pair from PEM ("EC PRIVATE KEY" of RFC 5915 or unencrypted PKCS#8 "PRIVATE KEY")
 * in pem[0..len). The caller's text is not changed; every copy made here is wiped.
 * FEDNS_EMALFORMED when it is not a key, FEDNS_ENOTSUP for another algorithm or curve. */
fedns_err fedns_sign_load_private_pem(const char *pem, size_t len, fedns_sign_key **out);
/* Reads a private key PEM file; the bytes read are wiped. FEDNS_EIO when unreadable. */
fedns_err fedns_sign_load_private_file(const char *path, fedns_sign_key **out);
/* A public key from PEM ("PUBLIC KEY") or from SubjectPublicKeyInfo DER; the point must
 * be on the curve and nothing may follow the structure. Errors as for the private key. */
fedns_err fedns_sign_load_public_pem(const char *pem, size_t len, fedns_sign_key **out);
fedns_err fedns_sign_load_public_der(const uint8_t *der, size_t len, fedns_sign_key **out);
/* Accepts NULL. */
void fedns_sign_key_free(fedns_sign_key *k);

bool fedns_sign_key_has_private(const fedns_sign_key *k);

/* The SubjectPublicKeyInfo DER of the key (the form the hub stores, base64). */
fedns_err fedns_sign_public_der(const fedns_sign_key *k, uint8_t *out, size_t cap, size_t *outlen);
/* PEM text of the public key / of the private key (RFC 5915), NUL-terminated. The
 * private PEM is key material: the caller wipes it (fedns_secure_zero) after use.
 * FEDNS_ETOOBIG when cap is short, FEDNS_EINVAL for a public-only key. */
fedns_err fedns_sign_public_pem(const fedns_sign_key *k, char *out, size_t cap);
fedns_err fedns_sign_private_pem(const fedns_sign_key *k, char *out, size_t cap);

/* Key id: base64url without padding of SHA-256 over the SubjectPublicKeyInfo DER (the
 * full hash: 43 characters, so two keys never share an id and anyone holding the public
 * key can recompute it). */
fedns_err fedns_sign_key_id(const fedns_sign_key *k, char out[FEDNS_SIGN_KEYID_LEN + 1]);
/* The same id computed from SPKI DER bytes as given (no parsing). */
void fedns_sign_key_id_of_spki(const uint8_t *der, size_t len, char out[FEDNS_SIGN_KEYID_LEN + 1]);

/* Signs SHA-256(msg) (ecdsa-p256-sha256). raw gets r || s; der, when not NULL, gets the
 * DER form in der[0..*derlen) (cap FEDNS_SIGN_DER_MAX). FEDNS_EINVAL for a public-only key. */
fedns_err fedns_sign_sign(fedns_sign_key *k, const void *msg, size_t len,
			  uint8_t raw[FEDNS_SIGN_RAW_LEN], uint8_t *der, size_t dercap,
			  size_t *derlen);
/* Verifies a signature over SHA-256(msg): FEDNS_OK, FEDNS_EAUTH when it does not verify
 * (any malformation of the signature counts as not verifying, including a raw signature
 * that is not exactly 64 bytes or DER with trailing bytes). */
fedns_err fedns_sign_verify_raw(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
				size_t siglen);
fedns_err fedns_sign_verify_der(fedns_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
				size_t siglen);
