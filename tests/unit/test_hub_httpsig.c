/* SPDX-License-Identifier: Apache-2.0 */
/* hub/httpsig: RFC 9421 signature bases against the RFC's own examples (and its P-256
 * signature), then whole signed requests against a real store: accepted, and refused for
 * each changed part, replay, unknown key, missing component, time and digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/encode.h"
#include "common/sha2.h"
#include "hub/auth.h"
#include "hub/httpsig.h"
#include "hub/store.h"
#include "tls/sign.h"

/* --- RFC 9421 examples ---------------------------------------------------------------- */

/* Appendix B.1.3 test-key-ecc-p256 */
static const char rfc_pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
	"w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
	"-----END PUBLIC KEY-----\n";

typedef struct kv {
	const char *name, *value;
} kv;

/* Component values of the RFC's test-request and test-response (Appendix B.2). */
static const kv rfc_components[] = {
	{"@method", "POST"},
	{"@path", "/foo"},
	{"@query", "?param=Value&Pet=dog"},
	{"@authority", "example.com"},
	{"date", "Tue, 20 Apr 2021 02:07:55 GMT"},
	{"content-type", "application/json"},
	{"content-length", "18"},
	{"content-digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrI"
			   "iYllu7BNNyealdVLvRwEmTHWXvJwew==:"},
};
static const kv rfc_response[] = {
	{"@status", "200"},
	{"content-type", "application/json"},
	{"content-length", "23"},
	{"content-digest", "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5"
			   "oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:"},
};

typedef struct kv_set {
	const kv *v;
	size_t n;
} kv_set;

static const char *
kv_component(void *ctx, const char *name)
{
	const kv_set *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].value;
	return NULL;
}

static void
check_base(const char *sig_input, const char *signature, const kv_set *set, const char *want)
{
	hub_httpsig_sig sig;
	fedns_diag d = {0};
	assert_int_equal(hub_httpsig_parse(sig_input, signature, &sig, &d), FEDNS_OK);
	fedns_buf b;
	fedns_buf_init(&b, 1 << 16);
	assert_int_equal(hub_httpsig_base(&sig, kv_component, (void *)set, &b, &d), FEDNS_OK);
	assert_string_equal((const char *)b.data, want);
	fedns_buf_fini(&b);
}

static void
test_rfc_bases(void **state)
{
	(void)state;
	kv_set req = {rfc_components, sizeof(rfc_components) / sizeof(rfc_components[0])};
	/* B.2.1: no components, a nonce */
	check_base("sig-b21=();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-"
		   "50gnwp.yemd\"",
		   "sig-b21=:AAAA:", &req,
		   "\"@signature-params\": ();created=1618884473;keyid=\"test-key-rsa-pss\";"
		   "nonce=\"b3k2pp5k7z-50gnwp.yemd\"");
	/* B.2.3: full coverage of test-request */
	check_base(
		"sig-b23=(\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" "
		"\"content-type\" "
		"\"content-digest\" "
		"\"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\"",
		"sig-b23=:AAAA:", &req,
		"\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
		"\"@method\": POST\n"
		"\"@path\": /foo\n"
		"\"@query\": ?param=Value&Pet=dog\n"
		"\"@authority\": example.com\n"
		"\"content-type\": application/json\n"
		"\"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAg"
		"BWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n"
		"\"content-length\": 18\n"
		"\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" "
		"\"content-type\" \"content-digest\" "
		"\"content-length\");created=1618884473;keyid=\""
		"test-key-rsa-pss\"");
}

/* B.2.4: the RFC's ecdsa-p256-sha256 signature (on a response) verifies through our
 * parser and base with test-key-ecc-p256. */
static void
test_rfc_b24_verifies(void **state)
{
	(void)state;
	static const char input[] =
		"sig-b24=(\"@status\" \"content-type\" \"content-digest\" "
		"\"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\"";
	static const char signature[] = "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKo"
					"cgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:";
	kv_set res = {rfc_response, sizeof(rfc_response) / sizeof(rfc_response[0])};
	hub_httpsig_sig sig;
	fedns_diag d = {0};
	assert_int_equal(hub_httpsig_parse(input, signature, &sig, &d), FEDNS_OK);
	assert_string_equal(sig.label, "sig-b24");
	assert_int_equal(sig.ncomp, 4);
	assert_true(sig.has_created);
	assert_int_equal(sig.created, 1618884473);
	assert_false(sig.has_expires);
	assert_string_equal(sig.keyid, "test-key-ecc-p256");
	assert_int_equal(sig.siglen, 64);
	fedns_buf b;
	fedns_buf_init(&b, 1 << 16);
	assert_int_equal(hub_httpsig_base(&sig, kv_component, &res, &b, &d), FEDNS_OK);
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_load_public_pem(rfc_pub_pem, strlen(rfc_pub_pem), &k),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(k, b.data, b.len, sig.sig, sig.siglen), FEDNS_OK);
	/* the status changed: the base changes and the signature fails */
	kv changed[4];
	memcpy(changed, rfc_response, sizeof(changed));
	changed[0].value = "201";
	kv_set res2 = {changed, 4};
	fedns_buf_clear(&b);
	assert_int_equal(hub_httpsig_base(&sig, kv_component, &res2, &b, &d), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(k, b.data, b.len, sig.sig, sig.siglen), FEDNS_EAUTH);
	/* a component the message lacks is named */
	kv_set few = {rfc_response, 2};
	fedns_buf_clear(&b);
	assert_int_equal(hub_httpsig_base(&sig, kv_component, &few, &b, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "\"content-digest\""));
	fedns_sign_key_free(k);
	fedns_buf_fini(&b);
}

static void
expect_parse_error(const char *in, const char *sig, const char *fragment)
{
	hub_httpsig_sig s;
	fedns_diag d = {0};
	assert_int_equal(hub_httpsig_parse(in, sig, &s, &d), FEDNS_EAUTH);
	if (strstr(d.msg, fragment) == NULL)
		fail_msg("parse of [%s] [%s]: message \"%s\" lacks \"%s\"", in ? in : "(null)",
			 sig ? sig : "(null)", d.msg, fragment);
	assert_int_equal(s.ncomp, 0);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	const char *ok_sig = "a=:AAAA:";
	expect_parse_error(NULL, ok_sig, "no Signature-Input");
	expect_parse_error("a=();created=1", NULL, "no Signature header");
	expect_parse_error("", ok_sig, "expected label=(");
	expect_parse_error("A=();created=1", ok_sig, "expected label=(");
	expect_parse_error("a=(\"@method\";req);created=1", ok_sig, "has parameters");
	expect_parse_error("a=(\"@Method\");created=1", ok_sig, "lowercase");
	expect_parse_error("a=(\"@method\"\"@path\");created=1", ok_sig, "separated");
	expect_parse_error("a=(\"@method\" \"@method\");created=1", ok_sig, "listed twice");
	expect_parse_error("a=(\"@method\");created=1;created=2", ok_sig, "given twice");
	expect_parse_error("a=(\"@method\");created=x", ok_sig, "integer");
	expect_parse_error("a=(\"@method\");created=1.5", ok_sig, "integer");
	expect_parse_error("a=(\"@method\");keyid=k", ok_sig, "not a string");
	expect_parse_error("a=(\"@method\");keyid=\"unterminated", ok_sig, "not a string");
	expect_parse_error("a=(\"@method\");foo=1", ok_sig, "unknown parameter \"foo\"");
	expect_parse_error("a=(\"@method\");created", ok_sig, "has no value");
	expect_parse_error("a=(\"@method\");created=1, b=();created=1", ok_sig,
			   "more than one signature");
	expect_parse_error("a=(\"@method\");created=1 junk", ok_sig, "unexpected text");
	expect_parse_error("a=(\"1\" \"2\" \"3\" \"4\" \"5\" \"6\" \"7\" \"8\" \"9\")", ok_sig,
			   "more than 8");
	expect_parse_error("a=();created=1", "b=:AAAA:", "does not match");
	expect_parse_error("a=();created=1", "a=AAAA", "byte sequence");
	expect_parse_error("a=();created=1", "a=:AA*A:", "byte sequence");
	expect_parse_error("a=();created=1", "a=:AAAA:;x=1", "parameters are not supported");
	expect_parse_error("a=();created=1", "a=:AAAA:, b=:AAAA:", "more than one signature");
	/* escapes round-trip into the serialized parameters */
	hub_httpsig_sig s;
	assert_int_equal(hub_httpsig_parse("a=(\"@method\");keyid=\"x\\\"y\\\\z\";created=7",
					   " a=:AAAA: ", &s, NULL),
			 FEDNS_OK);
	assert_string_equal(s.keyid, "x\"y\\z");
	assert_string_equal(s.params, "(\"@method\");keyid=\"x\\\"y\\\\z\";created=7");
}

/* --- whole requests -------------------------------------------------------------------- */

typedef struct fixture {
	char dir[64];
	char path[128];
	hub_store *s;
	hub_httpsig *v;
	int64_t now;
	int64_t alice;
	fedns_sign_key *key;   /* alice's, registered */
	fedns_sign_key *other; /* never registered */
	char keyid[FEDNS_SIGN_KEYID_LEN + 1];
} fixture;

static int64_t
fixed_clock(void *ctx)
{
	return ((fixture *)ctx)->now;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fedns-httpsig-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/hub.db", f->dir);
	hub_store_opts o = {.path = f->path, .create = true};
	fedns_diag d = {0};
	assert_int_equal(hub_store_open(&o, &f->s, &d), FEDNS_OK);
	f->now = 1764126000; /* 2025-11-26 03:00:00 UTC */
	assert_int_equal(hub_httpsig_new(fixed_clock, f, &f->v), FEDNS_OK);
	assert_int_equal(fedns_sign_generate(&f->key), FEDNS_OK);
	assert_int_equal(fedns_sign_generate(&f->other), FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(f->key, f->keyid), FEDNS_OK);
	uint8_t der[FEDNS_SIGN_SPKI_MAX];
	size_t n = 0;
	assert_int_equal(fedns_sign_public_der(f->key, der, sizeof(der), &n), FEDNS_OK);
	char b64[FEDNS_BASE64_LEN(FEDNS_SIGN_SPKI_MAX) + 1];
	fedns_base64_encode(der, n, b64);
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "alice", "person", &f->alice), FEDNS_OK);
	assert_int_equal(hub_pubkey_add(f->s, f->alice, f->keyid, b64), FEDNS_OK);
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	hub_httpsig_free(f->v);
	fedns_sign_key_free(f->key);
	fedns_sign_key_free(f->other);
	hub_store_close(f->s);
	char p[160];
	static const char *const files[] = {"hub.db", "hub.db-wal", "hub.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A request as a client would send it, with storage for the headers. */
typedef struct signed_req {
	hub_req req;
	char date[64];
	char digest[128];
	char input[1024];
	char signature[256];
} signed_req;

static void
http_date(int64_t t, char out[64])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
set_digest(signed_req *r, const char *body)
{
	uint8_t h[FEDNS_SHA256_LEN];
	char b64[FEDNS_BASE64_LEN(FEDNS_SHA256_LEN) + 1];
	fedns_hash_once(FEDNS_HASH_SHA256, body, strlen(body), h);
	fedns_base64_encode(h, sizeof(h), b64);
	snprintf(r->digest, sizeof(r->digest), "sha-256=:%s:", b64);
}

/* The signer's side: the caller's Signature-Input, our base, the key's raw signature. */
static void
sign_with(signed_req *r, fedns_sign_key *key, const char *input)
{
	char copy[sizeof(r->input)];
	snprintf(copy, sizeof(copy), "%s", input); /* input may be r->input itself */
	memcpy(r->input, copy, sizeof(copy));
	hub_httpsig_sig sig;
	fedns_diag d = {0};
	if (hub_httpsig_parse(r->input, "sig1=:AAAA:", &sig, &d) != FEDNS_OK)
		fail_msg("signer: %s: %s", r->input, d.msg);
	fedns_buf b;
	fedns_buf_init(&b, 1 << 16);
	assert_int_equal(hub_httpsig_request_base(&sig, &r->req, &b, &d), FEDNS_OK);
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_sign(key, b.data, b.len, raw, NULL, 0, NULL), FEDNS_OK);
	char b64[FEDNS_BASE64_LEN(FEDNS_SIGN_RAW_LEN) + 1];
	fedns_base64_encode(raw, sizeof(raw), b64);
	snprintf(r->signature, sizeof(r->signature), "sig1=:%s:", b64);
	r->req.signature_input = r->input;
	r->req.signature = r->signature;
	fedns_buf_fini(&b);
}

static const char body[] = "{\"edits\":[{\"op\":\"add\",\"name\":\"www\",\"type\":\"A\"}]}";

static void
make_req(fixture *f, signed_req *r, const char *nonce)
{
	memset(r, 0, sizeof(*r));
	r->req.method = "POST";
	r->req.path = "/api/v1/zones/example.com./changes";
	r->req.query = "";
	r->req.body = (const uint8_t *)body;
	r->req.body_len = strlen(body);
	http_date(f->now, r->date);
	set_digest(r, body);
	r->req.date = r->date;
	r->req.content_digest = r->digest;
	char input[512];
	snprintf(
		input, sizeof(input),
		"sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;keyid=\"%s\""
		";alg=\"ecdsa-p256-sha256\";nonce=\"%s\"",
		(long long)f->now, f->keyid, nonce);
	sign_with(r, f->key, input);
}

static fedns_err
verify(fixture *f, const hub_req *req, hub_principal *who, fedns_diag *d)
{
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	fedns_diag_clear(d);
	fedns_err e = hub_httpsig_verify(f->v, f->s, req, who, d);
	hub_store_rollback(f->s);
	return e;
}

static void
expect_refused(fixture *f, const hub_req *req, const char *fragment)
{
	hub_principal who;
	memset(&who, 0, sizeof(who));
	fedns_diag d;
	assert_int_equal(verify(f, req, &who, &d), FEDNS_EAUTH);
	if (strstr(d.msg, fragment) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, fragment);
	assert_int_equal(who.id, 0);
}

static void
test_request_ok_and_replay(void **state)
{
	fixture *f = *state;
	signed_req r;
	make_req(f, &r, "n-0000000001");
	hub_principal who;
	fedns_diag d;
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
	assert_int_equal(who.id, f->alice);
	assert_string_equal(who.name, "alice");
	/* the very same request again */
	expect_refused(f, &r.req, "nonce already used");
	/* a fresh nonce is fine; the same nonce from another key would be too, but that key
	 * is unknown here */
	make_req(f, &r, "n-0000000002");
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
	/* within the window the clock may move either way */
	f->now += 299;
	make_req(f, &r, "n-0000000003");
	f->now -= 299;
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
	make_req(f, &r, "n-0000000004");
	f->now += 299;
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
	/* one second more and the same kind of request is stale */
	make_req(f, &r, "n-0000000005");
	f->now += 301;
	expect_refused(f, &r.req, "more than 300 s");
}

static void
test_request_tampered(void **state)
{
	fixture *f = *state;
	signed_req r;
	make_req(f, &r, "n-tamper-method");
	r.req.method = "PUT";
	expect_refused(f, &r.req, "does not verify");

	make_req(f, &r, "n-tamper-path");
	r.req.path = "/api/v1/zones/example.org./changes";
	expect_refused(f, &r.req, "does not verify");

	/* the body changed but the digest not: the digest check names it */
	make_req(f, &r, "n-tamper-body");
	r.req.body = (const uint8_t *)"{}";
	r.req.body_len = 2;
	expect_refused(f, &r.req, "Content-Digest does not match the body");
	/* body and digest both changed: the signature covered the old digest */
	set_digest(&r, "{}");
	expect_refused(f, &r.req, "does not verify");

	make_req(f, &r, "n-tamper-date");
	http_date(f->now + 1, r.date);
	expect_refused(f, &r.req, "does not verify");

	/* an added query the signature does not cover */
	make_req(f, &r, "n-tamper-query");
	r.req.query = "force=1";
	expect_refused(f, &r.req, "query the signature does not cover");

	/* signed by a key that is not the one registered under that keyid */
	make_req(f, &r, "n-other-key");
	sign_with(&r, f->other, r.input);
	expect_refused(f, &r.req, "does not verify");

	/* a bit flipped in the signature */
	make_req(f, &r, "n-flip-sig-bit");
	r.signature[10] = r.signature[10] == 'A' ? 'B' : 'A';
	expect_refused(f, &r.req, "does not verify");

	/* none of the refused nonces was remembered: a good request may use one */
	make_req(f, &r, "n-tamper-method");
	hub_principal who;
	fedns_diag d;
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
}

static void
test_request_policy(void **state)
{
	fixture *f = *state;
	signed_req r;
	char in[512];
	make_req(f, &r, "n-policy-0001");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\");created=%lld;keyid=\"%s\";"
		 "nonce=\"n-policy-0002\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	/* "date" is optional (a browser cannot send Date): created alone bounds the time, and
	 * an uncovered Date header, even a stale one, is not looked at */
	hub_principal who;
	fedns_diag dd;
	http_date(f->now - 4000, r.date);
	assert_int_equal(verify(f, &r.req, &who, &dd), FEDNS_OK);
	make_req(f, &r, "n-policy-0002b");
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\");created=%lld;keyid=\"%s\";"
		 "nonce=\"n-policy-0002c\"",
		 (long long)f->now - 400, f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "more than 300 s");
	/* covered, Date must be there */
	make_req(f, &r, "n-policy-0002d");
	r.req.date = NULL;
	expect_refused(f, &r.req, "no Date header");
	make_req(f, &r, "n-policy-0002e");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"date\");created=%lld;keyid=\"%s\";"
		 "nonce=\"n-policy-0003\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "does not cover \"content-digest\"");

	/* a covered component the hub does not sign with is refused, not ignored */
	r.req.content_type = "application/json";
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\" \"content-type\");"
		 "created=%lld;keyid=\"%s\";nonce=\"n-policy-0004\"",
		 (long long)f->now, f->keyid);
	snprintf(r.input, sizeof(r.input), "%s", in);
	expect_refused(f, &r.req, "\"content-type\" is not supported");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "keyid=\"nobody\";nonce=\"n-policy-0005\"",
		 (long long)f->now);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "unknown keyid \"nobody\"");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "keyid=\"%s\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "nonce");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "keyid=\"%s\";nonce=\"n-policy-0006\";alg=\"rsa-pss-sha512\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "alg \"rsa-pss-sha512\"");

	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");keyid=\"%s\";"
		 "nonce=\"n-policy-0007\"",
		 f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "no created");

	/* created too old and too new, expires past */
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "keyid=\"%s\";nonce=\"n-policy-0008\"",
		 (long long)(f->now - 301), f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "more than 300 s");
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "keyid=\"%s\";nonce=\"n-policy-0009\"",
		 (long long)(f->now + 301), f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "more than 300 s");
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=%lld;"
		 "expires=%lld;keyid=\"%s\";nonce=\"n-policy-0010\"",
		 (long long)f->now - 10, (long long)f->now - 1, f->keyid);
	sign_with(&r, f->key, in);
	expect_refused(f, &r.req, "expired");

	/* Date outside the window, or not a date */
	make_req(f, &r, "n-policy-0011");
	http_date(f->now - 400, r.date);
	sign_with(&r, f->key, r.input);
	expect_refused(f, &r.req, "Date is more than");
	make_req(f, &r, "n-policy-0012");
	snprintf(r.date, sizeof(r.date), "2025-11-26T03:00:00Z");
	sign_with(&r, f->key, r.input);
	expect_refused(f, &r.req, "IMF-fixdate");

	/* Content-Digest without sha-256, or malformed */
	make_req(f, &r, "n-policy-0013");
	snprintf(r.digest, sizeof(r.digest), "sha-512=:AAAA:");
	sign_with(&r, f->key, r.input);
	expect_refused(f, &r.req, "no sha-256 member");
	snprintf(r.digest, sizeof(r.digest), "sha-256=AAAA");
	expect_refused(f, &r.req, "Content-Digest is not a list");
	r.req.content_digest = NULL;
	expect_refused(f, &r.req, "no Content-Digest");

	/* no signature at all */
	make_req(f, &r, "n-policy-0014");
	r.req.signature = NULL;
	expect_refused(f, &r.req, "no Signature header");
}

static void
test_request_query_and_path(void **state)
{
	fixture *f = *state;
	signed_req r;
	make_req(f, &r, "n-query-0001");
	r.req.method = "GET";
	r.req.path = "/api/v1/zones/ex ample";
	r.req.query = "limit=10&cursor=abc";
	r.req.body = (const uint8_t *)"";
	r.req.body_len = 0;
	set_digest(&r, "");
	char in[512];
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\" \"date\");"
		 "created=%lld;keyid=\"%s\";nonce=\"n-query-0001\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	/* the base the signer signs shows the minimal percent-encoding of the path */
	hub_httpsig_sig sig;
	assert_int_equal(hub_httpsig_parse(r.input, r.signature, &sig, NULL), FEDNS_OK);
	fedns_buf b;
	fedns_buf_init(&b, 1 << 16);
	assert_int_equal(hub_httpsig_request_base(&sig, &r.req, &b, NULL), FEDNS_OK);
	char want[4096];
	snprintf(want, sizeof(want),
		 "\"@method\": GET\n\"@path\": /api/v1/zones/ex%%20ample\n"
		 "\"@query\": ?limit=10&cursor=abc\n"
		 "\"content-digest\": %s\n\"date\": %s\n\"@signature-params\": %s",
		 r.digest, r.date, r.input + 5);
	assert_string_equal((const char *)b.data, want);
	fedns_buf_fini(&b);
	hub_principal who;
	fedns_diag d;
	assert_int_equal(verify(f, &r.req, &who, &d), FEDNS_OK);
	/* the query changed after signing */
	make_req(f, &r, "n-query-0002");
	r.req.query = "limit=10";
	snprintf(in, sizeof(in),
		 "sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\" \"date\");"
		 "created=%lld;keyid=\"%s\";nonce=\"n-query-0002\"",
		 (long long)f->now, f->keyid);
	sign_with(&r, f->key, in);
	r.req.query = "limit=1000";
	expect_refused(f, &r.req, "does not verify");
}

/* hub_auth_request: a bearer token or a signature, and nothing else. */
static void
test_auth_request(void **state)
{
	fixture *f = *state;
	char token[HUB_TOKEN_LEN + 1], hash[65], authz[HUB_TOKEN_LEN + 16];
	assert_int_equal(hub_token_new(token, hash), FEDNS_OK);
	int64_t bob = 0;
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "bob", "automation", &bob), FEDNS_OK);
	assert_int_equal(hub_token_add(f->s, bob, hash, "ci", 0), FEDNS_OK);
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	snprintf(authz, sizeof(authz), "Bearer %s", token);

	hub_principal who;
	fedns_diag d = {0};
	hub_req plain = {.method = "GET", .path = "/api/v1/zones", .query = ""};
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	/* neither credential */
	assert_int_equal(hub_auth_request(f->s, f->v, &plain, &who, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "no credentials"));
	/* a token */
	plain.authorization = authz;
	fedns_diag_clear(&d);
	assert_int_equal(hub_auth_request(f->s, f->v, &plain, &who, &d), FEDNS_OK);
	assert_int_equal(who.id, bob);
	plain.authorization = "Bearer fedns_nope";
	fedns_diag_clear(&d);
	assert_int_equal(hub_auth_request(f->s, f->v, &plain, &who, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "bearer token"));
	hub_store_rollback(f->s);

	/* a signature */
	signed_req r;
	make_req(f, &r, "n-auth-00001");
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	fedns_diag_clear(&d);
	assert_int_equal(hub_auth_request(f->s, f->v, &r.req, &who, &d), FEDNS_OK);
	assert_int_equal(who.id, f->alice);
	/* replayed: refused with the reason */
	fedns_diag_clear(&d);
	assert_int_equal(hub_auth_request(f->s, f->v, &r.req, &who, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "nonce already used"));
	/* without a verifier, signatures are not accepted */
	make_req(f, &r, "n-auth-00002");
	fedns_diag_clear(&d);
	assert_int_equal(hub_auth_request(f->s, NULL, &r.req, &who, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "not enabled"));
	hub_store_rollback(f->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_bases),
		cmocka_unit_test(test_rfc_b24_verifies),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test_setup_teardown(test_request_ok_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_query_and_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_request, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
