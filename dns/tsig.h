/* SPDX-License-Identifier: Apache-2.0 */
/* TSIG (RFC 8945): keys, signing and verification of single and multi-message exchanges
 * with HMAC-SHA256/384/512. Pure: the caller passes the current time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "common/sha2.h"
#include "dns/message.h"
#include "dns/name.h"

#define FEDNS_TSIG_SECRET_MAX 256
#define FEDNS_TSIG_FUDGE 300
/* Room a TSIG RR needs at the end of a message (names up to 255 + fields + MAC). */
#define FEDNS_TSIG_MAXLEN (FEDNS_NAME_MAXLEN * 2 + 10 + 16 + FEDNS_SHA_MAX_LEN + 6)

/* A shared secret. The secret never leaves this struct through any printing function;
 * fedns_tsig_key_wipe clears it. */
typedef struct fedns_tsig_key {
	uint8_t name[FEDNS_NAME_MAXLEN]; /* lowercased wire form */
	fedns_hash_alg alg;
	uint8_t secret[FEDNS_TSIG_SECRET_MAX];
	size_t secret_len;
} fedns_tsig_key;

/* A small set of keys looked up by name (and algorithm). Not thread-safe to modify;
 * safe to read from many threads once built. */
#define FEDNS_TSIG_KEYRING_MAX 64
typedef struct fedns_tsig_keyring {
	fedns_tsig_key keys[FEDNS_TSIG_KEYRING_MAX];
	size_t n;
} fedns_tsig_keyring;

/* Algorithm names as on the wire: "hmac-sha256." etc. */
const uint8_t *fedns_tsig_alg_name(fedns_hash_alg alg);
/* Text names ("hmac-sha256", case-insensitive) to algorithm; FEDNS_ENOTSUP otherwise. */
fedns_err fedns_tsig_alg_from_text(const char *s, size_t len, fedns_hash_alg *out);

/* Parses every `key "name" { algorithm hmac-sha256; secret "base64"; };` clause in BIND
 * key-file text and adds them to the ring. Errors name the line but never echo a secret. */
fedns_err fedns_tsig_keyring_parse_bind(fedns_tsig_keyring *ring, const char *file,
					const char *text, size_t len, fedns_diag *d);
/* Adds one key from its parts (name in presentation form, base64 secret). */
fedns_err fedns_tsig_keyring_add(fedns_tsig_keyring *ring, const char *name, const char *alg,
				 const char *secret_b64, size_t secret_len, fedns_diag *d);
const fedns_tsig_key *fedns_tsig_keyring_find(const fedns_tsig_keyring *ring, const uint8_t *name);
/* Zeroes every secret. */
void fedns_tsig_keyring_wipe(fedns_tsig_keyring *ring);

/* State of one signed exchange: a request and its (possibly multi-message) response. */
typedef struct fedns_tsig_ctx {
	const fedns_tsig_key *key;
	uint8_t mac[FEDNS_SHA_MAX_LEN]; /* the previous MAC in the exchange */
	size_t mac_len;
	uint64_t time_signed;
	uint16_t fudge;
	unsigned nmsg; /* messages signed or verified after the request */
} fedns_tsig_ctx;

/* Outcome of verifying a request, for building the answer (RFC 8945 §5.2). */
typedef struct fedns_tsig_result {
	uint8_t rcode;	  /* NOERROR or NOTAUTH (or FORMERR for a malformed TSIG) */
	uint16_t error;	  /* 0, BADSIG, BADKEY, BADTIME */
	bool sign_answer; /* answer must carry a TSIG (false for BADKEY/BADSIG: unsigned) */
} fedns_tsig_result;

/* Verifies the TSIG of a request message (buf/len as received, msg its parse).
 * No TSIG: returns FEDNS_ENOENT. Otherwise fills *res and, on success or BADTIME, ctx
 * (ready to sign the answer). Returns FEDNS_OK only when the request is authentic and in
 * time; FEDNS_EAUTH otherwise (res says why). 'now' is seconds since the epoch. */
fedns_err fedns_tsig_verify_request(const uint8_t *buf, size_t len, const fedns_msg *msg,
				    const fedns_tsig_keyring *ring, uint64_t now,
				    fedns_tsig_ctx *ctx, fedns_tsig_result *res);

/* Starts a context for signing a request as a client. */
void fedns_tsig_ctx_init(fedns_tsig_ctx *ctx, const fedns_tsig_key *key);

/* Appends a TSIG RR to the message in buf (len bytes, cap room) and increments ARCOUNT.
 * The first message of an exchange (request, or first answer) gets the full variables;
 * later answers only the timers (RFC 8945 §5.3.1). 'error' is the TSIG error to send
 * (BADTIME adds the server time as other data). Updates ctx->mac. Returns the new length
 * in *newlen; FEDNS_ETOOBIG when it does not fit. */
fedns_err fedns_tsig_sign(fedns_tsig_ctx *ctx, uint8_t *buf, size_t len, size_t cap, uint64_t now,
			  uint16_t error, size_t *newlen);

/* Appends an unsigned TSIG RR (MAC size 0) carrying 'error' to an answer, echoing the
 * request's key and algorithm names: the BADKEY answer for a key we do not know. */
fedns_err fedns_tsig_append_unsigned(const fedns_msg *req, uint8_t *buf, size_t len, size_t cap,
				     uint16_t error, size_t *newlen);

/* Verifies one message of an answer to a request we signed with ctx (client side).
 * Every message must be signed. FEDNS_EAUTH on any failure, FEDNS_ENOENT if unsigned. */
fedns_err fedns_tsig_verify_answer(fedns_tsig_ctx *ctx, const uint8_t *buf, size_t len,
				   const fedns_msg *msg, uint64_t now);
