/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9421 HTTP Message Signatures, the part signer and verifier must agree on byte for
 * byte: the signature base, the canonical "@path", the signature parameters, and signing a
 * request to the hub (fednsctl); the hub's verifier (hub/httpsig) builds on the same code. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "tls/sign.h"

/* A component's value in the message being signed or verified (trimmed of surrounding
 * whitespace); NULL when the message has none. */
typedef const char *(*fedns_httpsig_component_fn)(void *ctx, const char *name);

/* Appends s as an RFC 8941 sf-string ("..." with \" and \\ escaped). */
void fedns_httpsig_put_string(fedns_buf *b, const char *s);

/* The signature base of RFC 9421 §2.5 into out (appended): one line per covered component
 * in comps[0..ncomp), then "@signature-params" with 'params' (the serialized inner list).
 * FEDNS_EAUTH with d naming a component the message lacks or whose value holds a control
 * character; out->err when the buffer hits its cap. */
fedns_err fedns_httpsig_base(const char *const *comps, size_t ncomp, const char *params,
			     fedns_httpsig_component_fn fn, void *ctx, fedns_buf *out,
			     fedns_diag *d);

/* "@path" of a request: the percent-decoded path (what the hub's router sees) encoded
 * again where RFC 3986 requires it, uppercase hex, "/" for an empty path. Appends to out
 * and NUL-terminates; returns out->err. */
fedns_err fedns_httpsig_path_encode(const char *decoded, fedns_buf *out);
/* The same from the path as sent on the wire (percent-escaped, no query): decoded the way
 * the hub decodes it, then encoded as above. FEDNS_EMALFORMED for a broken escape or %00. */
fedns_err fedns_httpsig_path_from_wire(const char *wire, size_t len, fedns_buf *out);

/* The headers fedns_httpsig_sign_request produces, each a NUL-terminated field value. */
typedef struct fedns_httpsig_headers {
	char content_digest[64];   /* "sha-256=:<base64>:" */
	char date[32];		   /* IMF-fixdate */
	char signature_input[512]; /* "sig1=(...);created=...;keyid=...;alg=...;nonce=..." */
	char signature[128];	   /* "sig1=:<base64 of r||s>:" */
} fedns_httpsig_headers;

#define FEDNS_HTTPSIG_LABEL "sig1"
#define FEDNS_HTTPSIG_NONCE_MAX 64

/* Signs a request the way the hub verifies it: covers "@method", "@path", "@query" (when
 * the target has a query), "content-digest" and "date"; parameters created=now,
 * keyid (fedns_sign_key_id), alg ecdsa-p256-sha256 and 'nonce' (8 to 64 characters of
 * base64url, fresh for every request). 'target' is the request target as sent (path and
 * optional "?query", already percent-escaped). FEDNS_EINVAL for a public-only key or a bad
 * nonce, FEDNS_EMALFORMED for a target the hub would refuse. Not thread-safe per key. */
fedns_err fedns_httpsig_sign_request(fedns_sign_key *k, const char *method, const char *target,
				     const void *body, size_t body_len, int64_t now,
				     const char *nonce, fedns_httpsig_headers *out);

/* now as an IMF-fixdate (RFC 9110 §5.6.7), independent of the locale. */
void fedns_httpsig_http_date(int64_t now, char out[32]);
