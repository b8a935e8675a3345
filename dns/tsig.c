/* SPDX-License-Identifier: Apache-2.0 */
/* TSIG (RFC 8945) signing and verification; secrets never reach a diagnostic. */
#include "dns/tsig.h"

#include <string.h>
#include <strings.h>

#include "common/encode.h"
#include "dns/wire.h"

static const uint8_t alg_sha256[] = "\x0bhmac-sha256";
static const uint8_t alg_sha384[] = "\x0bhmac-sha384";
static const uint8_t alg_sha512[] = "\x0bhmac-sha512";

const uint8_t *
fedns_tsig_alg_name(fedns_hash_alg alg)
{
	switch (alg) {
	case FEDNS_HASH_SHA256:
		return alg_sha256;
	case FEDNS_HASH_SHA384:
		return alg_sha384;
	case FEDNS_HASH_SHA512:
		return alg_sha512;
	}
	return NULL;
}

fedns_err
fedns_tsig_alg_from_text(const char *s, size_t len, fedns_hash_alg *out)
{
	static const struct {
		const char *name;
		fedns_hash_alg alg;
	} algs[] = {{"hmac-sha256", FEDNS_HASH_SHA256},
		    {"hmac-sha384", FEDNS_HASH_SHA384},
		    {"hmac-sha512", FEDNS_HASH_SHA512}};
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strlen(algs[i].name) == len && strncasecmp(algs[i].name, s, len) == 0) {
			*out = algs[i].alg;
			return FEDNS_OK;
		}
	}
	return FEDNS_ENOTSUP;
}

static fedns_err
alg_from_wire(const uint8_t *name, fedns_hash_alg *out)
{
	char text[FEDNS_NAME_MAXTEXT];
	if (fedns_name_to_text(name, text, sizeof(text)) == 0)
		return FEDNS_ENOTSUP;
	return fedns_tsig_alg_from_text(text, strlen(text), out);
}

fedns_err
fedns_tsig_keyring_add(fedns_tsig_keyring *ring, const char *name, const char *alg,
		       const char *secret_b64, size_t secret_len, fedns_diag *d)
{
	if (ring->n == FEDNS_TSIG_KEYRING_MAX)
		return fedns_diag_set(d, FEDNS_ETOOBIG, "more than %d TSIG keys",
				      FEDNS_TSIG_KEYRING_MAX);
	fedns_tsig_key *k = &ring->keys[ring->n];
	size_t nlen;
	fedns_diag nd;
	fedns_diag_clear(&nd);
	if (fedns_name_from_text(name, strlen(name), (const uint8_t *)"", k->name, &nlen, &nd) !=
	    FEDNS_OK)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "TSIG key name \"%s\": %s", name, nd.msg);
	fedns_name_tolower(k->name);
	if (fedns_tsig_alg_from_text(alg, strlen(alg), &k->alg) != FEDNS_OK)
		return fedns_diag_set(d, FEDNS_ENOTSUP,
				      "TSIG key \"%s\": algorithm \"%s\" is not supported "
				      "(hmac-sha256, hmac-sha384, hmac-sha512)",
				      name, alg);
	fedns_err err = fedns_base64_decode(secret_b64, secret_len, k->secret, sizeof(k->secret),
					    &k->secret_len);
	if (err != FEDNS_OK || k->secret_len == 0) {
		fedns_secure_zero(k, sizeof(*k));
		/* never echo the secret text */
		return fedns_diag_set(d, FEDNS_ESYNTAX,
				      "TSIG key \"%s\": secret is not valid base64 (or is empty)",
				      name);
	}
	if (fedns_tsig_keyring_find(ring, k->name) != NULL) {
		fedns_secure_zero(k, sizeof(*k));
		return fedns_diag_set(d, FEDNS_EEXIST, "TSIG key \"%s\" is defined twice", name);
	}
	ring->n++;
	return FEDNS_OK;
}

const fedns_tsig_key *
fedns_tsig_keyring_find(const fedns_tsig_keyring *ring, const uint8_t *name)
{
	for (size_t i = 0; i < ring->n; i++)
		if (fedns_name_equal(ring->keys[i].name, name))
			return &ring->keys[i];
	return NULL;
}

void
fedns_tsig_keyring_wipe(fedns_tsig_keyring *ring)
{
	fedns_secure_zero(ring, sizeof(*ring));
}

/* A tiny tokenizer for BIND's key files: words, quoted strings, { } ; and comments
 * (#, //, and C-style). */
typedef struct keylex {
	const char *s;
	size_t len, off;
	unsigned line;
} keylex;

typedef struct keytok {
	const char *s;
	size_t len;
	char kind; /* 'w' word, 'q' quoted, or the punctuation char; 0 at the end */
	unsigned line;
} keytok;

static bool
keylex_next(keylex *lx, keytok *t)
{
	for (;;) {
		while (lx->off < lx->len && strchr(" \t\r\n", lx->s[lx->off]) != NULL) {
			if (lx->s[lx->off] == '\n')
				lx->line++;
			lx->off++;
		}
		if (lx->off >= lx->len) {
			t->kind = 0;
			t->line = lx->line;
			return true;
		}
		const char *p = lx->s + lx->off;
		size_t left = lx->len - lx->off;
		if (*p == '#' || (left >= 2 && p[0] == '/' && p[1] == '/')) {
			while (lx->off < lx->len && lx->s[lx->off] != '\n')
				lx->off++;
			continue;
		}
		if (left >= 2 && p[0] == '/' && p[1] == '*') {
			lx->off += 2;
			while (lx->off + 1 < lx->len &&
			       !(lx->s[lx->off] == '*' && lx->s[lx->off + 1] == '/')) {
				if (lx->s[lx->off] == '\n')
					lx->line++;
				lx->off++;
			}
			if (lx->off + 1 >= lx->len)
				return false;
			lx->off += 2;
			continue;
		}
		break;
	}
	const char *p = lx->s + lx->off;
	t->line = lx->line;
	if (*p == '{' || *p == '}' || *p == ';') {
		t->kind = *p;
		t->s = p;
		t->len = 1;
		lx->off++;
		return true;
	}
	if (*p == '"') {
		size_t start = ++lx->off;
		while (lx->off < lx->len && lx->s[lx->off] != '"' && lx->s[lx->off] != '\n')
			lx->off++;
		if (lx->off >= lx->len || lx->s[lx->off] != '"')
			return false;
		t->kind = 'q';
		t->s = lx->s + start;
		t->len = lx->off - start;
		lx->off++;
		return true;
	}
	size_t start = lx->off;
	while (lx->off < lx->len && strchr(" \t\r\n{};\"", lx->s[lx->off]) == NULL)
		lx->off++;
	t->kind = 'w';
	t->s = lx->s + start;
	t->len = lx->off - start;
	return true;
}

static bool
tok_is(const keytok *t, const char *word)
{
	return t->kind == 'w' && t->len == strlen(word) && strncasecmp(t->s, word, t->len) == 0;
}

fedns_err
fedns_tsig_keyring_parse_bind(fedns_tsig_keyring *ring, const char *file, const char *text,
			      size_t len, fedns_diag *d)
{
	keylex lx = {.s = text, .len = len, .off = 0, .line = 1};
	keytok t;
	size_t added = 0;
	for (;;) {
		if (!keylex_next(&lx, &t))
			goto syntax;
		if (t.kind == 0)
			break;
		if (!tok_is(&t, "key"))
			goto syntax;
		keytok name;
		if (!keylex_next(&lx, &name) || (name.kind != 'q' && name.kind != 'w'))
			goto syntax;
		if (!keylex_next(&lx, &t) || t.kind != '{')
			goto syntax;
		char namebuf[FEDNS_NAME_MAXTEXT], algbuf[64] = "";
		const char *secret = NULL;
		size_t secret_len = 0;
		unsigned key_line = name.line;
		if (name.len >= sizeof(namebuf))
			goto syntax;
		memcpy(namebuf, name.s, name.len);
		namebuf[name.len] = '\0';
		for (;;) {
			if (!keylex_next(&lx, &t))
				goto syntax;
			if (t.kind == '}')
				break;
			keytok val, semi;
			if (!keylex_next(&lx, &val) || (val.kind != 'w' && val.kind != 'q') ||
			    !keylex_next(&lx, &semi) || semi.kind != ';')
				goto syntax;
			if (tok_is(&t, "algorithm")) {
				if (val.len >= sizeof(algbuf))
					goto syntax;
				memcpy(algbuf, val.s, val.len);
				algbuf[val.len] = '\0';
			} else if (tok_is(&t, "secret")) {
				secret = val.s;
				secret_len = val.len;
			} else {
				goto syntax;
			}
		}
		if (!keylex_next(&lx, &t) || t.kind != ';')
			goto syntax;
		if (secret == NULL || algbuf[0] == '\0') {
			fedns_diag_set(d, FEDNS_ESYNTAX, "key \"%s\" needs algorithm and secret",
				       namebuf);
			fedns_diag_locate(d, file, key_line);
			return FEDNS_ESYNTAX;
		}
		fedns_err err =
			fedns_tsig_keyring_add(ring, namebuf, algbuf, secret, secret_len, d);
		if (err != FEDNS_OK) {
			fedns_diag_locate(d, file, key_line);
			return err;
		}
		added++;
	}
	if (added == 0) {
		fedns_diag_set(d, FEDNS_ESYNTAX, "no key clause found");
		fedns_diag_locate(d, file, 0);
		return FEDNS_ESYNTAX;
	}
	return FEDNS_OK;
syntax:
	fedns_diag_set(
		d, FEDNS_ESYNTAX,
		"key file syntax error (expected: key \"name\" { algorithm A; secret \"B\"; };)");
	fedns_diag_locate(d, file, t.line ? t.line : lx.line);
	return FEDNS_ESYNTAX;
}

/* The parsed fields of a TSIG RR. */
typedef struct tsig_rr {
	const uint8_t *key_name;
	const uint8_t *alg;
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
} tsig_rr;

static fedns_err
tsig_rr_parse(const fedns_rr *rr, tsig_rr *out)
{
	if (rr->rclass != FEDNS_C_ANY || rr->ttl != 0)
		return FEDNS_EMALFORMED;
	fedns_wire w;
	fedns_wire_init(&w, rr->rdata, rr->rdlen);
	size_t alen = fedns_name_check(rr->rdata, rr->rdlen);
	if (alen == 0)
		return FEDNS_EMALFORMED;
	out->key_name = rr->owner;
	out->alg = rr->rdata;
	w.off = alen;
	uint64_t hi = fedns_wire_u16(&w);
	out->time_signed = (hi << 32) | fedns_wire_u32(&w);
	out->fudge = fedns_wire_u16(&w);
	out->mac_len = fedns_wire_u16(&w);
	out->mac = fedns_wire_take(&w, out->mac_len);
	out->orig_id = fedns_wire_u16(&w);
	out->error = fedns_wire_u16(&w);
	out->other_len = fedns_wire_u16(&w);
	out->other = fedns_wire_take(&w, out->other_len);
	if (w.err != FEDNS_OK || fedns_wire_left(&w) != 0)
		return FEDNS_EMALFORMED;
	return FEDNS_OK;
}

static void
hmac_u16(fedns_hmac *m, uint16_t v)
{
	uint8_t b[2];
	fedns_put_u16(b, v);
	fedns_hmac_update(m, b, 2);
}

static void
hmac_time(fedns_hmac *m, uint64_t t, uint16_t fudge)
{
	uint8_t b[8];
	fedns_put_u16(b, (uint16_t)(t >> 32));
	fedns_put_u32(b + 2, (uint32_t)t);
	fedns_put_u16(b + 6, fudge);
	fedns_hmac_update(m, b, 8);
}

static void
hmac_name_lower(fedns_hmac *m, const uint8_t *name)
{
	uint8_t tmp[FEDNS_NAME_MAXLEN];
	size_t n = fedns_name_copy(tmp, name);
	fedns_name_tolower(tmp);
	fedns_hmac_update(m, tmp, n);
}

/* Hashes the message bytes before the TSIG RR with the ID replaced by orig_id and
 * ARCOUNT decremented (the message as it was before signing). */
static void
hmac_message(fedns_hmac *m, const uint8_t *buf, size_t tsig_off, uint16_t orig_id)
{
	uint8_t hdr[FEDNS_MSG_HDRLEN];
	memcpy(hdr, buf, sizeof(hdr));
	fedns_put_u16(hdr, orig_id);
	fedns_put_u16(hdr + 10, (uint16_t)(fedns_get_u16(hdr + 10) - 1));
	fedns_hmac_update(m, hdr, sizeof(hdr));
	fedns_hmac_update(m, buf + FEDNS_MSG_HDRLEN, tsig_off - FEDNS_MSG_HDRLEN);
}

/* Computes the MAC for a message. 'first' selects full variables vs timers only;
 * 'prior' is the previous MAC (request MAC for an answer), NULL for a request. */
static void
compute_mac(const fedns_tsig_key *key, const uint8_t *prior, size_t prior_len, bool first,
	    const uint8_t *msg, size_t msg_len, uint16_t orig_id, bool hdr_has_tsig,
	    uint64_t time_signed, uint16_t fudge, uint16_t error, const uint8_t *other,
	    uint16_t other_len, uint8_t *mac_out)
{
	fedns_hmac m;
	fedns_hmac_init(&m, key->alg, key->secret, key->secret_len);
	if (prior != NULL) {
		hmac_u16(&m, (uint16_t)prior_len);
		fedns_hmac_update(&m, prior, prior_len);
	}
	if (hdr_has_tsig) {
		hmac_message(&m, msg, msg_len, orig_id);
	} else {
		uint8_t hdr[FEDNS_MSG_HDRLEN];
		memcpy(hdr, msg, sizeof(hdr));
		fedns_put_u16(hdr, orig_id);
		fedns_hmac_update(&m, hdr, sizeof(hdr));
		fedns_hmac_update(&m, msg + FEDNS_MSG_HDRLEN, msg_len - FEDNS_MSG_HDRLEN);
	}
	if (first) {
		hmac_name_lower(&m, key->name);
		hmac_u16(&m, FEDNS_C_ANY);
		uint8_t ttl[4] = {0, 0, 0, 0};
		fedns_hmac_update(&m, ttl, 4);
		hmac_name_lower(&m, fedns_tsig_alg_name(key->alg));
		hmac_time(&m, time_signed, fudge);
		hmac_u16(&m, error);
		hmac_u16(&m, other_len);
		if (other_len)
			fedns_hmac_update(&m, other, other_len);
	} else {
		hmac_time(&m, time_signed, fudge);
	}
	fedns_hmac_final(&m, mac_out);
}

static bool
mac_len_acceptable(fedns_hash_alg alg, uint16_t mac_len)
{
	size_t full = fedns_hash_len(alg);
	size_t min = full / 2 > 10 ? full / 2 : 10;
	return mac_len <= full && mac_len >= min;
}

void
fedns_tsig_ctx_init(fedns_tsig_ctx *ctx, const fedns_tsig_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	ctx->fudge = FEDNS_TSIG_FUDGE;
}

fedns_err
fedns_tsig_verify_request(const uint8_t *buf, size_t len, const fedns_msg *msg,
			  const fedns_tsig_keyring *ring, uint64_t now, fedns_tsig_ctx *ctx,
			  fedns_tsig_result *res)
{
	res->rcode = FEDNS_RCODE_NOERROR;
	res->error = 0;
	res->sign_answer = false;
	if (!msg->has_tsig)
		return FEDNS_ENOENT;
	tsig_rr t;
	if (tsig_rr_parse(&msg->tsig, &t) != FEDNS_OK || msg->tsig_off > len ||
	    msg->tsig_off < FEDNS_MSG_HDRLEN) {
		res->rcode = FEDNS_RCODE_FORMERR;
		return FEDNS_EAUTH;
	}
	fedns_tsig_ctx_init(ctx, NULL);
	const fedns_tsig_key *key = fedns_tsig_keyring_find(ring, t.key_name);
	fedns_hash_alg alg;
	if (key == NULL || alg_from_wire(t.alg, &alg) != FEDNS_OK || alg != key->alg) {
		res->rcode = FEDNS_RCODE_NOTAUTH;
		res->error = FEDNS_RCODE_BADKEY;
		return FEDNS_EAUTH;
	}
	ctx->key = key;
	ctx->time_signed = t.time_signed;
	ctx->fudge = t.fudge;
	if (!mac_len_acceptable(key->alg, t.mac_len)) {
		res->rcode = FEDNS_RCODE_FORMERR;
		return FEDNS_EAUTH;
	}
	uint8_t mac[FEDNS_SHA_MAX_LEN];
	compute_mac(key, NULL, 0, true, buf, msg->tsig_off, t.orig_id, true, t.time_signed, t.fudge,
		    t.error, t.other, t.other_len, mac);
	int bad = fedns_ct_memcmp(mac, t.mac, t.mac_len);
	fedns_secure_zero(mac, sizeof(mac));
	if (bad) {
		res->rcode = FEDNS_RCODE_NOTAUTH;
		res->error = FEDNS_RCODE_BADSIG;
		return FEDNS_EAUTH;
	}
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	uint64_t diff = now > t.time_signed ? now - t.time_signed : t.time_signed - now;
	if (diff > t.fudge) {
		res->rcode = FEDNS_RCODE_NOTAUTH;
		res->error = FEDNS_RCODE_BADTIME;
		res->sign_answer = true;
		return FEDNS_EAUTH;
	}
	res->sign_answer = true;
	return FEDNS_OK;
}

fedns_err
fedns_tsig_sign(fedns_tsig_ctx *ctx, uint8_t *buf, size_t len, size_t cap, uint64_t now,
		uint16_t error, size_t *newlen)
{
	const fedns_tsig_key *key = ctx->key;
	if (key == NULL || len < FEDNS_MSG_HDRLEN)
		return FEDNS_EINVAL;
	bool answer = (fedns_get_u16(buf + 2) & FEDNS_F_QR) != 0;
	bool first = !answer || ctx->nmsg == 0;
	uint8_t other[6];
	uint16_t other_len = 0;
	/* BADKEY/BADSIG answers go unsigned; BADTIME carries our clock (RFC 8945 §5.2.3) */
	bool unsigned_answer =
		answer && (error == FEDNS_RCODE_BADKEY || error == FEDNS_RCODE_BADSIG);
	uint64_t time_signed = now;
	if (answer && error == FEDNS_RCODE_BADTIME) {
		time_signed = ctx->time_signed;
		fedns_put_u16(other, (uint16_t)(now >> 32));
		fedns_put_u32(other + 2, (uint32_t)now);
		other_len = 6;
	}
	if (!answer)
		ctx->mac_len = 0;
	uint8_t mac[FEDNS_SHA_MAX_LEN];
	size_t mac_len = unsigned_answer ? 0 : fedns_hash_len(key->alg);
	uint16_t orig_id = fedns_get_u16(buf);
	if (!unsigned_answer)
		compute_mac(key, answer ? ctx->mac : NULL, ctx->mac_len, first, buf, len, orig_id,
			    false, time_signed, ctx->fudge ? ctx->fudge : FEDNS_TSIG_FUDGE, error,
			    other, other_len, mac);

	fedns_wbuf b;
	fedns_wbuf_init(&b, buf, cap);
	b.len = len;
	fedns_wbuf_bytes(&b, key->name, fedns_name_len(key->name));
	fedns_wbuf_u16(&b, FEDNS_T_TSIG);
	fedns_wbuf_u16(&b, FEDNS_C_ANY);
	fedns_wbuf_u32(&b, 0);
	size_t rdlen_at = b.len;
	fedns_wbuf_u16(&b, 0);
	const uint8_t *alg = fedns_tsig_alg_name(key->alg);
	fedns_wbuf_bytes(&b, alg, fedns_name_len(alg));
	fedns_wbuf_u16(&b, (uint16_t)(time_signed >> 32));
	fedns_wbuf_u32(&b, (uint32_t)time_signed);
	fedns_wbuf_u16(&b, ctx->fudge ? ctx->fudge : FEDNS_TSIG_FUDGE);
	fedns_wbuf_u16(&b, (uint16_t)mac_len);
	fedns_wbuf_bytes(&b, mac, mac_len);
	fedns_wbuf_u16(&b, orig_id);
	fedns_wbuf_u16(&b, error);
	fedns_wbuf_u16(&b, other_len);
	fedns_wbuf_bytes(&b, other, other_len);
	if (b.err != FEDNS_OK) {
		fedns_secure_zero(mac, sizeof(mac));
		return FEDNS_ETOOBIG;
	}
	fedns_wbuf_put_u16_at(&b, rdlen_at, (uint16_t)(b.len - rdlen_at - 2));
	fedns_put_u16(buf + 10, (uint16_t)(fedns_get_u16(buf + 10) + 1));
	if (!unsigned_answer) {
		memcpy(ctx->mac, mac, mac_len);
		ctx->mac_len = mac_len;
	}
	if (!answer) {
		ctx->time_signed = time_signed;
		ctx->nmsg = 0;
	} else {
		ctx->nmsg++;
	}
	fedns_secure_zero(mac, sizeof(mac));
	*newlen = b.len;
	return FEDNS_OK;
}

fedns_err
fedns_tsig_append_unsigned(const fedns_msg *req, uint8_t *buf, size_t len, size_t cap,
			   uint16_t error, size_t *newlen)
{
	tsig_rr t;
	if (!req->has_tsig || tsig_rr_parse(&req->tsig, &t) != FEDNS_OK || len < FEDNS_MSG_HDRLEN)
		return FEDNS_EINVAL;
	fedns_wbuf b;
	fedns_wbuf_init(&b, buf, cap);
	b.len = len;
	fedns_wbuf_bytes(&b, t.key_name, fedns_name_len(t.key_name));
	fedns_wbuf_u16(&b, FEDNS_T_TSIG);
	fedns_wbuf_u16(&b, FEDNS_C_ANY);
	fedns_wbuf_u32(&b, 0);
	size_t rdlen_at = b.len;
	fedns_wbuf_u16(&b, 0);
	fedns_wbuf_bytes(&b, t.alg, fedns_name_len(t.alg));
	fedns_wbuf_u16(&b, (uint16_t)(t.time_signed >> 32));
	fedns_wbuf_u32(&b, (uint32_t)t.time_signed);
	fedns_wbuf_u16(&b, t.fudge);
	fedns_wbuf_u16(&b, 0); /* MAC size */
	fedns_wbuf_u16(&b, fedns_get_u16(buf));
	fedns_wbuf_u16(&b, error);
	fedns_wbuf_u16(&b, 0);
	if (b.err != FEDNS_OK)
		return FEDNS_ETOOBIG;
	fedns_wbuf_put_u16_at(&b, rdlen_at, (uint16_t)(b.len - rdlen_at - 2));
	fedns_put_u16(buf + 10, (uint16_t)(fedns_get_u16(buf + 10) + 1));
	*newlen = b.len;
	return FEDNS_OK;
}

fedns_err
fedns_tsig_verify_answer(fedns_tsig_ctx *ctx, const uint8_t *buf, size_t len, const fedns_msg *msg,
			 uint64_t now)
{
	if (!msg->has_tsig)
		return FEDNS_ENOENT;
	tsig_rr t;
	if (tsig_rr_parse(&msg->tsig, &t) != FEDNS_OK || msg->tsig_off > len)
		return FEDNS_EAUTH;
	const fedns_tsig_key *key = ctx->key;
	fedns_hash_alg alg;
	if (key == NULL || !fedns_name_equal(t.key_name, key->name) ||
	    alg_from_wire(t.alg, &alg) != FEDNS_OK || alg != key->alg || t.error != 0 ||
	    !mac_len_acceptable(key->alg, t.mac_len))
		return FEDNS_EAUTH;
	bool first = ctx->nmsg == 0;
	uint8_t mac[FEDNS_SHA_MAX_LEN];
	compute_mac(key, ctx->mac, ctx->mac_len, first, buf, msg->tsig_off, t.orig_id, true,
		    t.time_signed, t.fudge, t.error, t.other, t.other_len, mac);
	int bad = fedns_ct_memcmp(mac, t.mac, t.mac_len);
	fedns_secure_zero(mac, sizeof(mac));
	if (bad)
		return FEDNS_EAUTH;
	uint64_t diff = now > t.time_signed ? now - t.time_signed : t.time_signed - now;
	if (diff > t.fudge)
		return FEDNS_EAUTH;
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	ctx->nmsg++;
	return FEDNS_OK;
}
