/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's nonce challenge and the check of a spoke's signed answer. */
#include "tls/spokeauth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/sha2.h"

const char *
fedns_spokeauth_reason_name(fedns_spokeauth_reason reason)
{
	switch (reason) {
	case FEDNS_SPOKEAUTH_OK:
		return "ok";
	case FEDNS_SPOKEAUTH_MALFORMED:
		return "malformed";
	case FEDNS_SPOKEAUTH_REPLAYED:
		return "replayed";
	case FEDNS_SPOKEAUTH_STALE:
		return "stale";
	case FEDNS_SPOKEAUTH_CERT:
		return "certificate";
	case FEDNS_SPOKEAUTH_CN_MISMATCH:
		return "cn_mismatch";
	case FEDNS_SPOKEAUTH_BAD_SIGNATURE:
		return "bad_signature";
	case FEDNS_SPOKEAUTH_INTERNAL:
		return "internal";
	}
	return "?";
}

fedns_err
fedns_spokeauth_challenge(fedns_spokeauth_pending *p, uint64_t now_ms)
{
	if (p == NULL)
		return FEDNS_EINVAL;
	memset(p, 0, sizeof(*p));
	size_t got = 0;
	while (got < sizeof(p->challenge.nonce)) {
		ssize_t n =
			getrandom(p->challenge.nonce + got, sizeof(p->challenge.nonce) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FEDNS_EIO;
		}
		got += (size_t)n;
	}
	p->challenge.hub_time = now_ms;
	return FEDNS_OK;
}

fedns_err
fedns_spokeauth_respond(fedns_sign_key *key, const fedns_proto_challenge *c, const char *cluster,
			uint8_t sig[FEDNS_PROTO_SIG_LEN], fedns_proto_challenge_response *out)
{
	if (key == NULL || c == NULL || sig == NULL || out == NULL)
		return FEDNS_EINVAL;
	uint8_t *tbs = NULL;
	size_t len = 0;
	fedns_err rc = fedns_proto_challenge_tbs(c->nonce, c->hub_time, cluster, &tbs, &len);
	if (rc != FEDNS_OK)
		return rc;
	rc = fedns_sign_sign(key, tbs, len, sig, NULL, 0, NULL);
	free(tbs);
	if (rc != FEDNS_OK)
		return rc;
	out->alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256;
	out->signature.data = sig;
	out->signature.len = FEDNS_PROTO_SIG_LEN;
	return FEDNS_OK;
}

__attribute__((format(printf, 4, 5))) static fedns_err
refuse(fedns_spokeauth_result *r, fedns_spokeauth_reason reason, fedns_err code, const char *fmt,
       ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	r->reason = reason;
	r->cluster[0] = '\0';
	return code;
}

fedns_err
fedns_spokeauth_verify(const fedns_spokeauth_policy *policy, fedns_spokeauth_pending *p,
		       uint64_t now_ms, const fedns_proto_hello *hello,
		       const fedns_proto_challenge_response *resp, fedns_spokeauth_result *r)
{
	if (r == NULL)
		return FEDNS_EINVAL;
	memset(r, 0, sizeof(*r));
	r->pki = FEDNS_PKI_TRUSTED;
	if (policy == NULL || policy->ca_file == NULL || p == NULL)
		return refuse(r, FEDNS_SPOKEAUTH_INTERNAL, FEDNS_EINVAL,
			      "no CA file or challenge to check against");
	/* one answer per challenge, good or bad, so a captured answer is worth nothing */
	bool was_used = p->used;
	p->used = true;
	if (hello == NULL || resp == NULL)
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "no hello or no challenge response");
	if (hello->cluster == NULL || hello->cluster[0] == '\0')
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "hello names no cluster");
	if (strlen(hello->cluster) > FEDNS_PKI_NAME_MAX)
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "hello's cluster name is longer than %d bytes", FEDNS_PKI_NAME_MAX);
	if (hello->ncerts < 1 || hello->certs == NULL || hello->certs[0].data == NULL ||
	    hello->certs[0].len == 0)
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "hello carries no certificate");
	if (resp->alg != FEDNS_PROTO_SIG_ECDSA_P256_SHA256 ||
	    resp->signature.len != FEDNS_PROTO_SIG_LEN || resp->signature.data == NULL)
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "challenge response is not an ecdsa-p256-sha256 r||s signature "
			      "(alg %d, %zu bytes)",
			      (int)resp->alg, resp->signature.len);
	if (was_used)
		return refuse(r, FEDNS_SPOKEAUTH_REPLAYED, FEDNS_ESTALE,
			      "challenge was already answered");
	uint64_t window =
		policy->window_ms != 0 ? policy->window_ms : FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT;
	uint64_t issued = p->challenge.hub_time;
	if (now_ms < issued || now_ms - issued > window)
		return refuse(r, FEDNS_SPOKEAUTH_STALE, FEDNS_ESTALE,
			      "challenge issued at %llu answered at %llu, outside the %llu ms "
			      "window",
			      (unsigned long long)issued, (unsigned long long)now_ms,
			      (unsigned long long)window);

	fedns_pki_verdict v;
	fedns_err rc =
		fedns_pki_verify_pem((const char *)hello->certs[0].data, hello->certs[0].len,
				     policy->ca_file, policy->crl_file, FEDNS_PKI_USAGE_CLIENT, &v);
	r->pki = v.status;
	if (rc == FEDNS_EAUTH)
		return refuse(r, FEDNS_SPOKEAUTH_CERT, FEDNS_EAUTH, "certificate of \"%s\": %s",
			      v.cn, v.reason);
	if (rc == FEDNS_EMALFORMED && strstr(v.reason, policy->ca_file) == NULL &&
	    (policy->crl_file == NULL || strstr(v.reason, policy->crl_file) == NULL))
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED, FEDNS_EMALFORMED,
			      "hello's certificate: %s", v.reason);
	if (rc != FEDNS_OK)
		return refuse(r, FEDNS_SPOKEAUTH_INTERNAL,
			      rc == FEDNS_ENOMEM ? FEDNS_ENOMEM : FEDNS_EIO, "%s", v.reason);
	if (strcmp(v.cn, hello->cluster) != 0)
		return refuse(r, FEDNS_SPOKEAUTH_CN_MISMATCH, FEDNS_EAUTH,
			      "hello claims cluster \"%s\" but the certificate's CN is \"%s\"",
			      hello->cluster, v.cn);

	fedns_sign_key *key = NULL;
	rc = fedns_pki_cert_public_key((const char *)hello->certs[0].data, hello->certs[0].len,
				       &key);
	if (rc != FEDNS_OK)
		return refuse(r, FEDNS_SPOKEAUTH_MALFORMED,
			      rc == FEDNS_ENOMEM ? FEDNS_ENOMEM : FEDNS_EMALFORMED,
			      "certificate of \"%s\" has no P-256 key: %s", v.cn,
			      fedns_strerror(rc));
	uint8_t *tbs = NULL;
	size_t len = 0;
	rc = fedns_proto_challenge_tbs(p->challenge.nonce, p->challenge.hub_time, hello->cluster,
				       &tbs, &len);
	if (rc != FEDNS_OK) {
		fedns_sign_key_free(key);
		return refuse(r, FEDNS_SPOKEAUTH_INTERNAL, rc, "challenge bytes: %s",
			      fedns_strerror(rc));
	}
	rc = fedns_sign_verify_raw(key, tbs, len, resp->signature.data, resp->signature.len);
	free(tbs);
	fedns_sign_key_free(key);
	if (rc != FEDNS_OK)
		return refuse(r, FEDNS_SPOKEAUTH_BAD_SIGNATURE, FEDNS_EAUTH,
			      "signature of \"%s\" does not verify over this challenge with the "
			      "certificate's key (another nonce, time or key)",
			      v.cn);
	snprintf(r->cluster, sizeof(r->cluster), "%s", v.cn);
	snprintf(r->detail, sizeof(r->detail), "cluster \"%s\" authenticated", v.cn);
	r->reason = FEDNS_SPOKEAUTH_OK;
	return FEDNS_OK;
}
