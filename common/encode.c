/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 and hex codecs. */
#include "common/encode.h"

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

fedns_err
fedns_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned nbits = 0, nchars = 0, pad = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_space(c))
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad != 0)
			return FEDNS_ESYNTAX;
		nchars++;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (n == cap)
				return FEDNS_ETOOBIG;
			out[n++] = (uint8_t)(acc >> nbits);
		}
	}
	if (nchars % 4 != 0 || pad > 2)
		return FEDNS_ESYNTAX;
	/* leftover bits must be zero padding bits for canonical input */
	if (nbits > 0 && (acc & ((1u << nbits) - 1)) != 0)
		return FEDNS_ESYNTAX;
	if ((pad == 1 && nbits != 2) || (pad == 2 && nbits != 4) || (pad == 0 && nbits != 0))
		return FEDNS_ESYNTAX;
	*outlen = n;
	return FEDNS_OK;
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

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

fedns_err
fedns_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	int hi = -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_space(c))
			continue;
		int v = hexval(c);
		if (v < 0)
			return FEDNS_ESYNTAX;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return FEDNS_ETOOBIG;
		out[n++] = (uint8_t)((hi << 4) | v);
		hi = -1;
	}
	if (hi >= 0)
		return FEDNS_ESYNTAX;
	*outlen = n;
	return FEDNS_OK;
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
