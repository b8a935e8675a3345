/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256/384/512 and HMAC over them (FIPS 180-4, RFC 2104), so dns/ (ZONEMD, TSIG)
 * stays free of third-party libraries and can be fuzzed alone. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FEDNS_SHA256_LEN 32
#define FEDNS_SHA384_LEN 48
#define FEDNS_SHA512_LEN 64
#define FEDNS_SHA_MAX_LEN 64

typedef enum fedns_hash_alg {
	FEDNS_HASH_SHA256 = 1,
	FEDNS_HASH_SHA384 = 2,
	FEDNS_HASH_SHA512 = 3,
} fedns_hash_alg;

/* Incremental hash context; plain data (copyable, no allocation). */
typedef struct fedns_hash {
	fedns_hash_alg alg;
	uint64_t len;	    /* bytes hashed so far (fits: we never hash 2^61 bytes) */
	size_t fill;	    /* bytes buffered in 'block' */
	uint64_t h[8];	    /* state; SHA-256 uses the low 32 bits of h[0..7] */
	uint8_t block[128]; /* 64 used by SHA-256, 128 by SHA-384/512 */
} fedns_hash;

size_t fedns_hash_len(fedns_hash_alg alg);
void fedns_hash_init(fedns_hash *h, fedns_hash_alg alg);
void fedns_hash_update(fedns_hash *h, const void *data, size_t len);
/* Writes fedns_hash_len(alg) bytes to out; the context is wiped afterwards. */
void fedns_hash_final(fedns_hash *h, uint8_t *out);
void fedns_hash_once(fedns_hash_alg alg, const void *data, size_t len, uint8_t *out);

typedef struct fedns_hmac {
	fedns_hash inner;
	fedns_hash outer;
} fedns_hmac;

/* Key of any length (longer than the block is hashed first, per RFC 2104). */
void fedns_hmac_init(fedns_hmac *m, fedns_hash_alg alg, const uint8_t *key, size_t keylen);
void fedns_hmac_update(fedns_hmac *m, const void *data, size_t len);
/* Writes fedns_hash_len(alg) bytes; the context is wiped afterwards. */
void fedns_hmac_final(fedns_hmac *m, uint8_t *out);

/* Zeroes memory in a way the compiler cannot elide (for key material). */
void fedns_secure_zero(void *p, size_t n);
/* Constant-time compare of n bytes; 0 when equal. */
int fedns_ct_memcmp(const void *a, const void *b, size_t n);
