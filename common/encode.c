/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 and hex codecs. */
#include "common/encode.h"

#include <stdbool.h>

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
fedns_b64dec_init(fedns_b64dec *b)
{
	b->acc = 0;
	b->nbits = b->nchars = b->pad = 0;
}

fedns_err
fedns_b64dec_feed(fedns_b64dec *b, const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	/* a full output still decodes the rest, so a syntax error anywhere is reported */
	bool full = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			if (++b->pad > 2)
				return FEDNS_ESYNTAX;
			b->nchars++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || b->pad != 0)
			return FEDNS_ESYNTAX;
		b->nchars++;
		b->acc = (b->acc << 6) | (uint32_t)v;
		b->nbits += 6;
		if (b->nbits >= 8) {
			b->nbits -= 8;
			if (*n == cap)
				full = true;
			else
				out[(*n)++] = (uint8_t)(b->acc >> b->nbits);
		}
	}
	return full ? FEDNS_ETOOBIG : FEDNS_OK;
}

fedns_err
fedns_b64dec_done(const fedns_b64dec *b)
{
	if (b->nchars % 4 != 0)
		return FEDNS_ESYNTAX;
	/* leftover bits must be zero padding bits for canonical input */
	if (b->nbits > 0 && (b->acc & ((1u << b->nbits) - 1)) != 0)
		return FEDNS_ESYNTAX;
	unsigned want = b->pad == 0 ? 0 : b->pad == 1 ? 2 : 4;
	return b->nbits == want ? FEDNS_OK : FEDNS_ESYNTAX;
}

/* The one-shot decoders take text with whitespace in it (key files, PEM-like blocks):
 * they feed the runs between whitespace to the streaming decoder. */
typedef fedns_err (*run_fn)(void *st, const char *s, size_t len, uint8_t *out, size_t cap,
			    size_t *n);

static fedns_err
feed_runs(run_fn fn, void *st, const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	fedns_err first = FEDNS_OK;
	size_t i = 0;
	while (i < len) {
		while (i < len && is_space((unsigned char)s[i]))
			i++;
		size_t start = i;
		while (i < len && !is_space((unsigned char)s[i]))
			i++;
		if (i == start)
			break;
		fedns_err err = fn(st, s + start, i - start, out, cap, n);
		if (err == FEDNS_ESYNTAX)
			return err;
		if (first == FEDNS_OK)
			first = err;
	}
	return first;
}

static fedns_err
b64_run(void *st, const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	return fedns_b64dec_feed(st, s, len, out, cap, n);
}

static fedns_err
hex_run(void *st, const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	return fedns_hexdec_feed(st, s, len, out, cap, n);
}

fedns_err
fedns_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	fedns_b64dec b;
	size_t n = 0;
	fedns_b64dec_init(&b);
	fedns_err err = feed_runs(b64_run, &b, s, len, out, cap, &n);
	if (err == FEDNS_OK)
		err = fedns_b64dec_done(&b);
	if (err == FEDNS_OK)
		*outlen = n;
	return err;
}

size_t
fedns_base64_encode(const uint8_t *p, size_t len, char *out)
{
	size_t o = 0, i = 0;
	for (; len - i >= 3; i += 3) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int
fedns_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
fedns_hexdec_init(fedns_hexdec *h)
{
	h->hi = -1;
}

fedns_err
fedns_hexdec_feed(fedns_hexdec *h, const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	bool full = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = fedns_hex_digit(c);
		if (v < 0)
			return FEDNS_ESYNTAX;
		if (h->hi < 0) {
			h->hi = v;
			continue;
		}
		if (*n == cap)
			full = true;
		else
			out[(*n)++] = (uint8_t)((h->hi << 4) | v);
		h->hi = -1;
	}
	return full ? FEDNS_ETOOBIG : FEDNS_OK;
}

fedns_err
fedns_hexdec_done(const fedns_hexdec *h)
{
	return h->hi < 0 ? FEDNS_OK : FEDNS_ESYNTAX;
}

fedns_err
fedns_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	fedns_hexdec h;
	size_t n = 0;
	fedns_hexdec_init(&h);
	fedns_err err = feed_runs(hex_run, &h, s, len, out, cap, &n);
	if (err == FEDNS_OK)
		err = fedns_hexdec_done(&h);
	if (err == FEDNS_OK)
		*outlen = n;
	return err;
}

size_t
fedns_hex_encode(const uint8_t *p, size_t len, char *out, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
	return 2 * len;
}
