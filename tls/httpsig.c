/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9421 signature bases and request signing shared by fednsctl and the hub, so the two
 * sides can never disagree about the bytes that were signed. */
#include "tls/httpsig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/encode.h"
#include "common/sha2.h"

void
fedns_httpsig_put_string(fedns_buf *b, const char *s)
{
	fedns_buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fedns_buf_putc(b, '\\');
		fedns_buf_putc(b, *s);
	}
	fedns_buf_putc(b, '"');
}

fedns_err
fedns_httpsig_base(const char *const *comps, size_t ncomp, const char *params,
		   fedns_httpsig_component_fn fn, void *ctx, fedns_buf *out, fedns_diag *d)
{
	if ((comps == NULL && ncomp > 0) || params == NULL || fn == NULL || out == NULL)
		return FEDNS_EINVAL;
	for (size_t i = 0; i < ncomp; i++) {
		const char *v = fn(ctx, comps[i]);
		if (v == NULL)
			return fedns_diag_set(
				d, FEDNS_EAUTH,
				"covered component \"%s\" is missing from the request", comps[i]);
		for (const char *q = v; *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return fedns_diag_set(d, FEDNS_EAUTH,
						      "component \"%s\" holds a control character",
						      comps[i]);
		fedns_httpsig_put_string(out, comps[i]);
		fedns_buf_puts(out, ": ");
		fedns_buf_puts(out, v);
		fedns_buf_putc(out, '\n');
	}
	fedns_buf_puts(out, "\"@signature-params\": ");
	fedns_buf_puts(out, params);
	return out->err;
}

/* RFC 3986 pchar plus "/": everything else is percent-encoded, uppercase hex. */
static bool
path_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

fedns_err
fedns_httpsig_path_encode(const char *decoded, fedns_buf *out)
{
	if (decoded == NULL || out == NULL)
		return FEDNS_EINVAL;
	if (decoded[0] == '\0')
		fedns_buf_putc(out, '/');
	for (const unsigned char *q = (const unsigned char *)decoded; *q != '\0'; q++) {
		if (path_char_ok(*q))
			fedns_buf_putc(out, (char)*q);
		else
			fedns_buf_printf(out, "%%%02X", *q);
	}
	fedns_buf_putc(out, '\0');
	return out->err;
}

fedns_err
fedns_httpsig_path_from_wire(const char *wire, size_t len, fedns_buf *out)
{
	if (wire == NULL || out == NULL)
		return FEDNS_EINVAL;
	fedns_buf dec;
	fedns_buf_init(&dec, len + 1);
	fedns_err err = FEDNS_OK;
	for (size_t i = 0; i < len; i++) {
		if (wire[i] != '%') {
			fedns_buf_putc(&dec, wire[i]);
			continue;
		}
		/* the hub's transport refuses these targets; signing them would be pointless */
		int hi = len - i > 2 ? fedns_hex_digit(wire[i + 1]) : -1;
		int lo = len - i > 2 ? fedns_hex_digit(wire[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			err = FEDNS_EMALFORMED;
			goto out;
		}
		fedns_buf_putc(&dec, (char)(hi * 16 + lo));
		i += 2;
	}
	fedns_buf_putc(&dec, '\0');
	if ((err = dec.err) == FEDNS_OK)
		err = fedns_httpsig_path_encode((const char *)dec.data, out);
out:
	fedns_buf_fini(&dec);
	return err;
}

void
fedns_httpsig_http_date(int64_t now, char out[32])
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t t = (time_t)now;
	struct tm tm;
	char tmp[96];
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		memset(&tm, 0, sizeof(tm)); /* beyond IMF-fixdate's four digits: never current */
	snprintf(tmp, sizeof(tmp), "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", days + 3 * tm.tm_wday,
		 tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	size_t n = strnlen(tmp, 31);
	memcpy(out, tmp, n);
	out[n] = '\0';
}

typedef struct sign_ctx {
	const char *method;
	const char *path;  /* canonical @path */
	const char *query; /* "?..." or NULL */
	const fedns_httpsig_headers *h;
} sign_ctx;

static const char *
sign_component(void *ctx, const char *name)
{
	const sign_ctx *c = ctx;
	if (strcmp(name, "@method") == 0)
		return c->method;
	if (strcmp(name, "@path") == 0)
		return c->path;
	if (strcmp(name, "@query") == 0)
		return c->query;
	if (strcmp(name, "content-digest") == 0)
		return c->h->content_digest;
	if (strcmp(name, "date") == 0)
		return c->h->date;
	return NULL;
}

static bool
nonce_ok(const char *n)
{
	size_t len = strlen(n);
	if (len < 8 || len > FEDNS_HTTPSIG_NONCE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

fedns_err
fedns_httpsig_sign_request(fedns_sign_key *k, const char *method, const char *target,
			   const void *body, size_t body_len, int64_t now, const char *nonce,
			   fedns_httpsig_headers *out)
{
	if (k == NULL || method == NULL || target == NULL || nonce == NULL || out == NULL ||
	    (body == NULL && body_len > 0) || !fedns_sign_key_has_private(k) || !nonce_ok(nonce))
		return FEDNS_EINVAL;
	memset(out, 0, sizeof(*out));
	if (target[0] != '/')
		return FEDNS_EMALFORMED;
	const char *q = strchr(target, '?');
	size_t plen = q != NULL ? (size_t)(q - target) : strlen(target);

	fedns_buf path, query, params, base;
	fedns_buf_init(&path, 16 * 1024);
	fedns_buf_init(&query, 16 * 1024);
	fedns_buf_init(&params, sizeof(out->signature_input) - sizeof(FEDNS_HTTPSIG_LABEL) - 1);
	fedns_buf_init(&base, 64 * 1024);
	char keyid[FEDNS_SIGN_KEYID_LEN + 1];
	fedns_err err = fedns_httpsig_path_from_wire(target, plen, &path);
	if (err != FEDNS_OK)
		goto out;
	/* the hub insists on @query only when the query is non-empty, as here */
	bool has_query = q != NULL && q[1] != '\0';
	if (has_query) {
		fedns_buf_puts(&query, q);
		fedns_buf_putc(&query, '\0');
		if ((err = query.err) != FEDNS_OK)
			goto out;
	}
	if ((err = fedns_sign_key_id(k, keyid)) != FEDNS_OK)
		goto out;

	uint8_t dig[FEDNS_SHA256_LEN];
	char dig64[FEDNS_BASE64_LEN(FEDNS_SHA256_LEN) + 1];
	char b64[FEDNS_BASE64_LEN(FEDNS_SIGN_RAW_LEN) + 1];
	fedns_hash_once(FEDNS_HASH_SHA256, body != NULL ? body : "", body_len, dig);
	fedns_base64_encode(dig, sizeof(dig), dig64);
	snprintf(out->content_digest, sizeof(out->content_digest), "sha-256=:%s:", dig64);
	fedns_httpsig_http_date(now, out->date);

	const char *comps[5];
	size_t ncomp = 0;
	comps[ncomp++] = "@method";
	comps[ncomp++] = "@path";
	if (has_query)
		comps[ncomp++] = "@query";
	comps[ncomp++] = "content-digest";
	comps[ncomp++] = "date";
	fedns_buf_putc(&params, '(');
	for (size_t i = 0; i < ncomp; i++) {
		if (i > 0)
			fedns_buf_putc(&params, ' ');
		fedns_httpsig_put_string(&params, comps[i]);
	}
	fedns_buf_printf(&params, ");created=%lld;keyid=", (long long)now);
	fedns_httpsig_put_string(&params, keyid);
	fedns_buf_puts(&params, ";alg=");
	fedns_httpsig_put_string(&params, FEDNS_SIGN_ALG);
	fedns_buf_puts(&params, ";nonce=");
	fedns_httpsig_put_string(&params, nonce);
	fedns_buf_putc(&params, '\0');
	if ((err = params.err) != FEDNS_OK)
		goto out;

	sign_ctx c = {.method = method,
		      .path = (const char *)path.data,
		      .query = has_query ? (const char *)query.data : NULL,
		      .h = out};
	if ((err = fedns_httpsig_base(comps, ncomp, (const char *)params.data, sign_component, &c,
				      &base, NULL)) != FEDNS_OK)
		goto out;
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	if ((err = fedns_sign_sign(k, base.data, base.len, raw, NULL, 0, NULL)) != FEDNS_OK)
		goto out;
	fedns_base64_encode(raw, sizeof(raw), b64);
	snprintf(out->signature_input, sizeof(out->signature_input), "%s=%s", FEDNS_HTTPSIG_LABEL,
		 (const char *)params.data);
	snprintf(out->signature, sizeof(out->signature), "%s=:%s:", FEDNS_HTTPSIG_LABEL, b64);
out:
	fedns_buf_fini(&path);
	fedns_buf_fini(&query);
	fedns_buf_fini(&params);
	fedns_buf_fini(&base);
	if (err != FEDNS_OK)
		memset(out, 0, sizeof(*out));
	return err;
}
