/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648 §4) and hex codecs shared by rdata, TSIG keys and signatures. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Streaming decoders, for text spread over several tokens (rdata in a master file):
 * feed the pieces in order, then check the end. Bytes go to out[*n..cap) and *n moves;
 * FEDNS_ESYNTAX for a bad character (or data after padding), FEDNS_ETOOBIG when out was
 * too small (the rest is still decoded and checked, just not stored). Whitespace is a
 * bad character here (tokens have none); the one-shot decoders below skip it. */
typedef struct fedns_b64dec {
	uint32_t acc;
	unsigned nbits, nchars, pad;
} fedns_b64dec;

void fedns_b64dec_init(fedns_b64dec *b);
fedns_err fedns_b64dec_feed(fedns_b64dec *b, const char *s, size_t len, uint8_t *out, size_t cap,
			    size_t *n);
/* Whole quanta, padding matching the bit count, zero pad bits: FEDNS_OK or ESYNTAX. */
fedns_err fedns_b64dec_done(const fedns_b64dec *b);

typedef struct fedns_hexdec {
	int hi; /* pending high nibble, or -1 */
} fedns_hexdec;

void fedns_hexdec_init(fedns_hexdec *h);
fedns_err fedns_hexdec_feed(fedns_hexdec *h, const char *s, size_t len, uint8_t *out, size_t cap,
			    size_t *n);
/* An even number of digits: FEDNS_OK or ESYNTAX. */
fedns_err fedns_hexdec_done(const fedns_hexdec *h);

/* Decodes base64 text s[0..len); whitespace is skipped, padding is required where the
 * length needs it and nothing may follow it. Writes at most cap bytes. Returns FEDNS_OK,
 * FEDNS_ESYNTAX (bad character, bad padding) or FEDNS_ETOOBIG. */
fedns_err fedns_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* Encodes with padding; out needs 4 * ceil(len / 3) + 1 bytes (NUL-terminated). Returns
 * the text length. */
size_t fedns_base64_encode(const uint8_t *p, size_t len, char *out);
#define FEDNS_BASE64_LEN(n) (4 * (((n) + 2) / 3))

/* The value of one hex digit (either case), or -1. */
int fedns_hex_digit(int c);

/* Decodes hex (either case, whitespace skipped, even digit count). */
fedns_err fedns_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* Encodes as hex in the given case; out needs 2 * len + 1 bytes. Returns 2 * len. */
size_t fedns_hex_encode(const uint8_t *p, size_t len, char *out, int upper);
