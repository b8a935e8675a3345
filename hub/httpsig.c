/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9421 request signatures for the hub: the RFC 8941 subset of Signature-Input and
 * Signature, the signature base, and the checks around one ecdsa-p256-sha256 signature. */
#include "hub/httpsig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/encode.h"
#include "common/sha2.h"
#include "tls/httpsig.h"
#include "tls/sign.h"

#define NONCE_BUCKETS 4096
#define NONCE_HASH_LEN 16
#define SPKI_B64_MAX 512

/* --- RFC 8941 subset ---------------------------------------------------------------- */

static bool
is_lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
skip_sp(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static void
skip_ows(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static bool
parse_key(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	if (!is_lcalpha(*s) && *s != '*')
		return false;
	size_t n = 0;
	while (is_lcalpha(s[n]) || is_digit(s[n]) || s[n] == '_' || s[n] == '-' || s[n] == '.' ||
	       s[n] == '*')
		n++;
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return true;
}

/* sf-string: printable ASCII between quotes, \" and \\ the only escapes. */
static bool
parse_string(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	if (*s++ != '"')
		return false;
	size_t n = 0;
	for (;;) {
		char c = *s++;
		if (c == '"')
			break;
		if (c == '\\') {
			c = *s++;
			if (c != '"' && c != '\\')
				return false;
		} else if (c < 0x20 || c > 0x7e) {
			return false; /* also the end of the text */
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s;
	return true;
}

/* sf-integer: at most 15 digits, optional minus; a decimal is refused. */
static bool
parse_integer(const char **p, int64_t *v)
{
	const char *s = *p;
	bool neg = false;
	if (*s == '-') {
		neg = true;
		s++;
	}
	int64_t x = 0;
	size_t n = 0;
	while (is_digit(*s)) {
		if (++n > 15)
			return false;
		x = x * 10 + (*s++ - '0');
	}
	if (n == 0 || *s == '.')
		return false;
	*v = neg ? -x : x;
	*p = s;
	return true;
}

/* sf-binary: ":" base64 ":" */
static bool
parse_bytes(const char **p, uint8_t *out, size_t cap, size_t *outlen)
{
	const char *s = *p;
	if (*s++ != ':')
		return false;
	const char *e = strchr(s, ':');
	if (e == NULL)
		return false;
	for (const char *q = s; q < e; q++)
		if (!((*q >= 'A' && *q <= 'Z') || is_lcalpha(*q) || is_digit(*q) || *q == '+' ||
		      *q == '/' || *q == '='))
			return false;
	if (fedns_base64_decode(s, (size_t)(e - s), out, cap, outlen) != FEDNS_OK)
		return false;
	*p = e + 1;
	return true;
}

/* A component name: a lowercase field name or a derived "@" name (RFC 9421 §2). */
static bool
component_name_ok(const char *c)
{
	if (*c == '\0')
		return false;
	for (const char *q = (*c == '@') ? c + 1 : c; *q != '\0'; q++)
		if (!(is_lcalpha(*q) || is_digit(*q) || strchr("!#$%&'*+-.^_`|~", *q) != NULL))
			return false;
	return true;
}

/* Signature parameters of the inner list, serialized into b as they come. */
static fedns_err
parse_params(const char **pp, hub_httpsig_sig *out, fedns_buf *b, fedns_diag *d)
{
	const char *p = *pp;
	bool seen_keyid = false, seen_alg = false, seen_nonce = false, seen_tag = false;
	while (*p == ';') {
		p++;
		skip_sp(&p);
		char key[32];
		if (!parse_key(&p, key, sizeof(key)))
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Signature-Input: malformed parameter name");
		if (*p != '=')
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Signature-Input: parameter \"%s\" has no value",
					      key);
		p++;
		char *str = NULL;
		bool *seen = NULL;
		if (strcmp(key, "created") == 0 || strcmp(key, "expires") == 0) {
			bool created = key[0] == 'c';
			bool *has = created ? &out->has_created : &out->has_expires;
			int64_t *v = created ? &out->created : &out->expires;
			if (*has)
				return fedns_diag_set(d, FEDNS_EAUTH,
						      "Signature-Input: \"%s\" given twice", key);
			if (!parse_integer(&p, v) || *v < 0)
				return fedns_diag_set(
					d, FEDNS_EAUTH,
					"Signature-Input: \"%s\" is not a non-negative integer",
					key);
			*has = true;
			fedns_buf_printf(b, ";%s=%lld", key, (long long)*v);
			continue;
		}
		if (strcmp(key, "keyid") == 0) {
			str = out->keyid;
			seen = &seen_keyid;
		} else if (strcmp(key, "alg") == 0) {
			str = out->alg;
			seen = &seen_alg;
		} else if (strcmp(key, "nonce") == 0) {
			str = out->nonce;
			seen = &seen_nonce;
		} else if (strcmp(key, "tag") == 0) {
			str = out->tag;
			seen = &seen_tag;
		} else {
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Signature-Input: unknown parameter \"%s\"", key);
		}
		if (*seen)
			return fedns_diag_set(d, FEDNS_EAUTH, "Signature-Input: \"%s\" given twice",
					      key);
		if (!parse_string(&p, str, HUB_HTTPSIG_VALUE_MAX))
			return fedns_diag_set(
				d, FEDNS_EAUTH,
				"Signature-Input: \"%s\" is not a string of at most %d characters",
				key, HUB_HTTPSIG_VALUE_MAX - 1);
		*seen = true;
		fedns_buf_printf(b, ";%s=", key);
		fedns_httpsig_put_string(b, str);
	}
	*pp = p;
	return FEDNS_OK;
}

/* After a dictionary's only member: whitespace and the end. A comma means a second
 * member, which this verifier does not take. */
static fedns_err
expect_end(const char *p, const char *field, fedns_diag *d)
{
	skip_ows(&p);
	if (*p == ',')
		return fedns_diag_set(d, FEDNS_EAUTH, "%s: more than one signature", field);
	if (*p != '\0')
		return fedns_diag_set(d, FEDNS_EAUTH, "%s: unexpected text after the signature",
				      field);
	return FEDNS_OK;
}

fedns_err
hub_httpsig_parse(const char *signature_input, const char *signature, hub_httpsig_sig *out,
		  fedns_diag *d)
{
	if (out == NULL)
		return FEDNS_EINVAL;
	memset(out, 0, sizeof(*out));
	if (signature_input == NULL)
		return fedns_diag_set(d, FEDNS_EAUTH, "no Signature-Input header");
	if (signature == NULL)
		return fedns_diag_set(d, FEDNS_EAUTH, "no Signature header");
	fedns_buf b;
	fedns_buf_init(&b, sizeof(out->params) - 1);
	fedns_err err = FEDNS_OK;

	const char *p = signature_input;
	skip_ows(&p);
	if (!parse_key(&p, out->label, sizeof(out->label)) || *p != '=' || p[1] != '(') {
		err = fedns_diag_set(d, FEDNS_EAUTH,
				     "Signature-Input: expected label=(components...)");
		goto out;
	}
	p += 2;
	fedns_buf_putc(&b, '(');
	for (;;) {
		skip_sp(&p);
		if (*p == ')')
			break;
		if (out->ncomp == HUB_HTTPSIG_MAX_COMPONENTS) {
			err = fedns_diag_set(d, FEDNS_EAUTH,
					     "Signature-Input: more than %d covered components",
					     HUB_HTTPSIG_MAX_COMPONENTS);
			goto out;
		}
		char *c = out->comp[out->ncomp];
		if (!parse_string(&p, c, HUB_HTTPSIG_VALUE_MAX) || !component_name_ok(c)) {
			err = fedns_diag_set(d, FEDNS_EAUTH,
					     "Signature-Input: component %zu is not a quoted "
					     "lowercase component name",
					     out->ncomp + 1);
			goto out;
		}
		if (*p == ';') {
			err = fedns_diag_set(d, FEDNS_EAUTH,
					     "Signature-Input: component \"%s\" has parameters "
					     "(not supported)",
					     c);
			goto out;
		}
		if (*p != ' ' && *p != ')') {
			err = fedns_diag_set(
				d, FEDNS_EAUTH,
				"Signature-Input: components must be separated by spaces");
			goto out;
		}
		for (size_t i = 0; i < out->ncomp; i++)
			if (strcmp(out->comp[i], c) == 0) {
				err = fedns_diag_set(
					d, FEDNS_EAUTH,
					"Signature-Input: component \"%s\" listed twice", c);
				goto out;
			}
		if (out->ncomp > 0)
			fedns_buf_putc(&b, ' ');
		fedns_httpsig_put_string(&b, c);
		out->ncomp++;
	}
	p++;
	fedns_buf_putc(&b, ')');
	if ((err = parse_params(&p, out, &b, d)) != FEDNS_OK)
		goto out;
	if ((err = expect_end(p, "Signature-Input", d)) != FEDNS_OK)
		goto out;
	if (b.err != FEDNS_OK) {
		err = fedns_diag_set(d, FEDNS_EAUTH, "Signature-Input: too long");
		goto out;
	}
	memcpy(out->params, b.data, b.len + 1);

	p = signature;
	skip_ows(&p);
	char label[HUB_HTTPSIG_VALUE_MAX];
	if (!parse_key(&p, label, sizeof(label)) || *p != '=') {
		err = fedns_diag_set(d, FEDNS_EAUTH, "Signature: expected label=:base64:");
		goto out;
	}
	if (strcmp(label, out->label) != 0) {
		err = fedns_diag_set(d, FEDNS_EAUTH,
				     "Signature: label \"%s\" does not match Signature-Input's",
				     label);
		goto out;
	}
	p++;
	if (!parse_bytes(&p, out->sig, sizeof(out->sig), &out->siglen)) {
		err = fedns_diag_set(
			d, FEDNS_EAUTH,
			"Signature: value is not a byte sequence (:base64:) of at most "
			"%d bytes",
			HUB_HTTPSIG_SIG_MAX);
		goto out;
	}
	if (*p == ';') {
		err = fedns_diag_set(d, FEDNS_EAUTH, "Signature: parameters are not supported");
		goto out;
	}
	err = expect_end(p, "Signature", d);
out:
	fedns_buf_fini(&b);
	if (err != FEDNS_OK) {
		memset(out, 0, sizeof(*out));
		return FEDNS_EAUTH;
	}
	return FEDNS_OK;
}

/* --- signature base ------------------------------------------------------------------ */

fedns_err
hub_httpsig_base(const hub_httpsig_sig *sig, hub_httpsig_component_fn fn, void *ctx, fedns_buf *out,
		 fedns_diag *d)
{
	if (sig == NULL || fn == NULL || out == NULL)
		return FEDNS_EINVAL;
	const char *comps[HUB_HTTPSIG_MAX_COMPONENTS];
	for (size_t i = 0; i < sig->ncomp; i++)
		comps[i] = sig->comp[i];
	return fedns_httpsig_base(comps, sig->ncomp, sig->params, fn, ctx, out, d);
}

typedef struct req_ctx {
	const hub_req *req;
	fedns_buf path;
	fedns_buf query;
	fedns_buf field;
} req_ctx;

/* A field value with surrounding whitespace removed (RFC 9421 §2.1). */
static const char *
trimmed(fedns_buf *b, const char *v)
{
	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	fedns_buf_clear(b);
	fedns_buf_append(b, v, n);
	fedns_buf_putc(b, '\0');
	return b->err == FEDNS_OK ? (const char *)b->data : NULL;
}

static const char *
req_component(void *ctx, const char *name)
{
	req_ctx *c = ctx;
	const hub_req *r = c->req;
	if (strcmp(name, "@method") == 0)
		return r->method;
	if (strcmp(name, "@path") == 0) {
		if (r->path == NULL)
			return NULL;
		fedns_buf_clear(&c->path);
		fedns_httpsig_path_encode(r->path, &c->path);
		return c->path.err == FEDNS_OK ? (const char *)c->path.data : NULL;
	}
	if (strcmp(name, "@query") == 0) {
		fedns_buf_clear(&c->query);
		fedns_buf_putc(&c->query, '?');
		fedns_buf_puts(&c->query, r->query != NULL ? r->query : "");
		fedns_buf_putc(&c->query, '\0');
		return c->query.err == FEDNS_OK ? (const char *)c->query.data : NULL;
	}
	if (strcmp(name, "content-digest") == 0)
		return trimmed(&c->field, r->content_digest);
	if (strcmp(name, "date") == 0)
		return trimmed(&c->field, r->date);
	return NULL;
}

fedns_err
hub_httpsig_request_base(const hub_httpsig_sig *sig, const hub_req *req, fedns_buf *out,
			 fedns_diag *d)
{
	if (req == NULL)
		return FEDNS_EINVAL;
	req_ctx c = {.req = req};
	fedns_buf_init(&c.path, 16 * 1024);
	fedns_buf_init(&c.query, 16 * 1024);
	fedns_buf_init(&c.field, 16 * 1024);
	fedns_err err = hub_httpsig_base(sig, req_component, &c, out, d);
	fedns_buf_fini(&c.path);
	fedns_buf_fini(&c.query);
	fedns_buf_fini(&c.field);
	return err;
}

/* --- verifier ------------------------------------------------------------------------ */

typedef struct nonce_ent {
	struct nonce_ent *next;
	int64_t expires;
	uint8_t h[NONCE_HASH_LEN];
} nonce_ent;

struct hub_httpsig {
	hub_httpsig_clock_fn clock;
	void *clock_ctx;
	pthread_mutex_t mu;
	nonce_ent *buckets[NONCE_BUCKETS];
	size_t count;
};

static int64_t
system_clock(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

fedns_err
hub_httpsig_new(hub_httpsig_clock_fn clock, void *clock_ctx, hub_httpsig **out)
{
	if (out == NULL)
		return FEDNS_EINVAL;
	hub_httpsig *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return FEDNS_ENOMEM;
	if (pthread_mutex_init(&v->mu, NULL) != 0) {
		free(v);
		return FEDNS_ENOMEM;
	}
	v->clock = clock != NULL ? clock : system_clock;
	v->clock_ctx = clock_ctx;
	*out = v;
	return FEDNS_OK;
}

void
hub_httpsig_free(hub_httpsig *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < NONCE_BUCKETS; i++) {
		nonce_ent *e = v->buckets[i];
		while (e != NULL) {
			nonce_ent *next = e->next;
			free(e);
			e = next;
		}
	}
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/* Drops expired entries of one chain; returns how many went. */
static size_t
purge_chain(nonce_ent **head, int64_t now)
{
	size_t n = 0;
	for (nonce_ent **pe = head; *pe != NULL;) {
		if ((*pe)->expires < now) {
			nonce_ent *dead = *pe;
			*pe = dead->next;
			free(dead);
			n++;
		} else {
			pe = &(*pe)->next;
		}
	}
	return n;
}

/* Remembers (keyid, nonce) until 'expires' unless it is already remembered. */
static fedns_err
nonce_claim(hub_httpsig *v, const char *keyid, const char *nonce, int64_t now, int64_t expires,
	    fedns_diag *d)
{
	fedns_hash h;
	uint8_t dig[FEDNS_SHA256_LEN];
	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, keyid, strlen(keyid) + 1); /* the NUL keeps the two apart */
	fedns_hash_update(&h, nonce, strlen(nonce));
	fedns_hash_final(&h, dig);
	size_t bucket = ((size_t)dig[0] << 8 | dig[1]) % NONCE_BUCKETS;
	fedns_err err = FEDNS_OK;
	pthread_mutex_lock(&v->mu);
	v->count -= purge_chain(&v->buckets[bucket], now);
	for (nonce_ent *e = v->buckets[bucket]; e != NULL; e = e->next)
		if (memcmp(e->h, dig, NONCE_HASH_LEN) == 0) {
			err = fedns_diag_set(d, FEDNS_EAUTH,
					     "nonce already used (replayed request)");
			goto out;
		}
	if (v->count >= HUB_HTTPSIG_NONCES_MAX)
		for (size_t i = 0; i < NONCE_BUCKETS; i++)
			v->count -= purge_chain(&v->buckets[i], now);
	if (v->count >= HUB_HTTPSIG_NONCES_MAX) {
		/* failing closed: without the record a replay could not be recognised */
		err = fedns_diag_set(d, FEDNS_EAUTH,
				     "too many recent signed requests; retry later");
		goto out;
	}
	nonce_ent *e = malloc(sizeof(*e));
	if (e == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	memcpy(e->h, dig, NONCE_HASH_LEN);
	e->expires = expires;
	e->next = v->buckets[bucket];
	v->buckets[bucket] = e;
	v->count++;
out:
	pthread_mutex_unlock(&v->mu);
	return err;
}

static bool
digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* IMF-fixdate (RFC 9110 §5.6.7), e.g. "Tue, 20 Apr 2021 02:07:55 GMT"; parsed by hand so
 * the locale never matters. The weekday is checked for shape, not against the date. */
static bool
parse_http_date(const char *s, int64_t *out)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' ||
	    strcmp(s + 26, "GMT") != 0)
		return false;
	bool day_ok = false;
	for (size_t i = 0; i < 7; i++)
		day_ok = day_ok || memcmp(s, days + 3 * i, 3) == 0;
	int mon = -1;
	for (int i = 0; i < 12; i++)
		if (memcmp(s + 8, months + 3 * i, 3) == 0)
			mon = i;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int mday, year, hour, min, sec;
	if (!day_ok || mon < 0 || !digits(s + 5, 2, &mday) || !digits(s + 12, 4, &year) ||
	    !digits(s + 17, 2, &hour) || !digits(s + 20, 2, &min) || !digits(s + 23, 2, &sec))
		return false;
	if (mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970)
		return false;
	tm.tm_mday = mday;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* Content-Digest (RFC 9530): a dictionary of algorithm = :digest:; sha-256 is required. */
static fedns_err
check_digest(const char *field, const uint8_t *body, size_t len, fedns_diag *d)
{
	if (field == NULL)
		return fedns_diag_set(d, FEDNS_EAUTH, "no Content-Digest header");
	const char *p = field;
	bool found = false;
	uint8_t want[FEDNS_SHA256_LEN];
	for (;;) {
		skip_ows(&p);
		char key[32];
		uint8_t val[FEDNS_SHA_MAX_LEN];
		size_t n = 0;
		if (!parse_key(&p, key, sizeof(key)) || *p++ != '=' ||
		    !parse_bytes(&p, val, sizeof(val), &n))
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Content-Digest is not a list of alg=:base64:");
		if (strcmp(key, "sha-256") == 0) {
			if (found || n != FEDNS_SHA256_LEN)
				return fedns_diag_set(d, FEDNS_EAUTH,
						      "Content-Digest: malformed sha-256 member");
			memcpy(want, val, n);
			found = true;
		}
		skip_ows(&p);
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Content-Digest is not a list of alg=:base64:");
	}
	if (!found)
		return fedns_diag_set(d, FEDNS_EAUTH, "Content-Digest has no sha-256 member");
	uint8_t have[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, body, len, have);
	if (memcmp(have, want, sizeof(have)) != 0)
		return fedns_diag_set(d, FEDNS_EAUTH, "Content-Digest does not match the body");
	return FEDNS_OK;
}

static bool
covers(const hub_httpsig_sig *sig, const char *name)
{
	for (size_t i = 0; i < sig->ncomp; i++)
		if (strcmp(sig->comp[i], name) == 0)
			return true;
	return false;
}

/* The checks that need neither the key nor the clock's replay memory. */
static fedns_err
check_policy(const hub_httpsig_sig *sig, const hub_req *req, int64_t now, fedns_diag *d)
{
	static const char *const allowed[] = {"@method", "@path", "@query", "content-digest",
					      "date"};
	/* "date" is optional: browsers may not set Date (a forbidden header in fetch), and
	 * the signed created parameter already bounds the request's time */
	static const char *const required[] = {"@method", "@path", "content-digest"};
	for (size_t i = 0; i < sig->ncomp; i++) {
		bool ok = false;
		for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++)
			ok = ok || strcmp(sig->comp[i], allowed[j]) == 0;
		if (!ok)
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "covered component \"%s\" is not supported",
					      sig->comp[i]);
	}
	for (size_t j = 0; j < sizeof(required) / sizeof(required[0]); j++)
		if (!covers(sig, required[j]))
			return fedns_diag_set(d, FEDNS_EAUTH, "the signature does not cover \"%s\"",
					      required[j]);
	if (req->query != NULL && req->query[0] != '\0' && !covers(sig, "@query"))
		return fedns_diag_set(d, FEDNS_EAUTH,
				      "the request has a query the signature does not cover");
	if (sig->alg[0] != '\0' && strcmp(sig->alg, FEDNS_SIGN_ALG) != 0)
		return fedns_diag_set(d, FEDNS_EAUTH, "alg \"%s\" is not %s", sig->alg,
				      FEDNS_SIGN_ALG);
	if (sig->keyid[0] == '\0')
		return fedns_diag_set(d, FEDNS_EAUTH, "the signature has no keyid");
	if (strlen(sig->nonce) < HUB_HTTPSIG_NONCE_MIN)
		return fedns_diag_set(d, FEDNS_EAUTH,
				      "the signature needs a nonce of at least %d characters",
				      HUB_HTTPSIG_NONCE_MIN);
	if (!sig->has_created)
		return fedns_diag_set(d, FEDNS_EAUTH, "the signature has no created time");
	if (sig->created > now + HUB_HTTPSIG_SKEW || sig->created < now - HUB_HTTPSIG_SKEW)
		return fedns_diag_set(d, FEDNS_EAUTH,
				      "created %lld is more than %d s from the hub's time %lld",
				      (long long)sig->created, HUB_HTTPSIG_SKEW, (long long)now);
	if (sig->has_expires && sig->expires < now)
		return fedns_diag_set(d, FEDNS_EAUTH, "the signature expired at %lld",
				      (long long)sig->expires);
	if (covers(sig, "date")) {
		int64_t date = 0;
		if (req->date == NULL)
			return fedns_diag_set(d, FEDNS_EAUTH, "no Date header");
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "%s", req->date);
		if (!parse_http_date(tmp, &date))
			return fedns_diag_set(d, FEDNS_EAUTH, "Date is not an IMF-fixdate");
		if (date > now + HUB_HTTPSIG_SKEW || date < now - HUB_HTTPSIG_SKEW)
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "Date is more than %d s from the hub's time",
					      HUB_HTTPSIG_SKEW);
	}
	return check_digest(req->content_digest, req->body, req->body_len, d);
}

fedns_err
hub_httpsig_verify(hub_httpsig *v, hub_store *s, const hub_req *req, hub_principal *who,
		   fedns_diag *d)
{
	if (v == NULL || s == NULL || req == NULL || who == NULL)
		return FEDNS_EINVAL;
	hub_httpsig_sig *sig = malloc(sizeof(*sig));
	if (sig == NULL)
		return FEDNS_ENOMEM;
	fedns_buf base;
	fedns_buf_init(&base, 64 * 1024);
	char *spki_b64 = NULL;
	fedns_sign_key *key = NULL;
	hub_principal p;
	memset(&p, 0, sizeof(p));
	const int64_t now = v->clock(v->clock_ctx);
	fedns_err err = hub_httpsig_parse(req->signature_input, req->signature, sig, d);
	if (err != FEDNS_OK)
		goto out;
	if ((err = check_policy(sig, req, now, d)) != FEDNS_OK)
		goto out;
	if ((err = hub_httpsig_request_base(sig, req, &base, d)) != FEDNS_OK)
		goto out;
	err = hub_pubkey_lookup(s, sig->keyid, &p, &spki_b64);
	if (err == FEDNS_ENOENT) {
		err = fedns_diag_set(d, FEDNS_EAUTH, "unknown keyid \"%s\"", sig->keyid);
		goto out;
	}
	if (err != FEDNS_OK)
		goto out; /* the store failed: a server error, not a bad signature */
	uint8_t der[SPKI_B64_MAX];
	size_t dlen = 0;
	if (fedns_base64_decode(spki_b64, strlen(spki_b64), der, sizeof(der), &dlen) != FEDNS_OK ||
	    fedns_sign_load_public_der(der, dlen, &key) != FEDNS_OK) {
		/* the stored key is unusable: refuse, and say so without printing it */
		err = fedns_diag_set(d, FEDNS_EAUTH,
				     "the key stored for keyid \"%s\" is not a "
				     "P-256 public key",
				     sig->keyid);
		goto out;
	}
	if (fedns_sign_verify_raw(key, base.data, base.len, sig->sig, sig->siglen) != FEDNS_OK) {
		err = fedns_diag_set(d, FEDNS_EAUTH, "the signature does not verify");
		goto out;
	}
	if (p.disabled) {
		err = fedns_diag_set(d, FEDNS_EAUTH, "principal of keyid \"%s\" is disabled",
				     sig->keyid);
		goto out;
	}
	/* after created + skew the time check refuses the signature by itself */
	err = nonce_claim(v, sig->keyid, sig->nonce, now, sig->created + HUB_HTTPSIG_SKEW, d);
	if (err != FEDNS_OK)
		goto out;
	*who = p;
out:
	fedns_sign_key_free(key);
	free(spki_b64);
	fedns_buf_fini(&base);
	free(sig);
	return err;
}
