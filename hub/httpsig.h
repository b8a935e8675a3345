/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9421 HTTP Message Signatures on requests to the hub: parse Signature-Input and
 * Signature (the RFC 8941 subset they need), build the signature base (§2.5), and verify
 * a request's one ecdsa-p256-sha256 signature with its Content-Digest, time window and
 * nonce against the signer's public key in the store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "hub/http.h"
#include "hub/store.h"

#define HUB_HTTPSIG_MAX_COMPONENTS 8
#define HUB_HTTPSIG_SKEW 300	      /* seconds either side of now for created and Date */
#define HUB_HTTPSIG_NONCES_MAX 200000 /* remembered nonces; beyond it signatures are refused */
#define HUB_HTTPSIG_NONCE_MIN 8	      /* shortest nonce accepted on a request */
#define HUB_HTTPSIG_VALUE_MAX 128     /* longest keyid, nonce, alg, tag, label, component */
#define HUB_HTTPSIG_SIG_MAX 128	      /* longest signature byte sequence kept */

/* One signature as its two header fields describe it. Strings are unescaped. */
typedef struct hub_httpsig_sig {
	char label[HUB_HTTPSIG_VALUE_MAX];
	size_t ncomp;
	char comp[HUB_HTTPSIG_MAX_COMPONENTS][HUB_HTTPSIG_VALUE_MAX]; /* in signed order */
	bool has_created, has_expires;
	int64_t created, expires;
	char keyid[HUB_HTTPSIG_VALUE_MAX]; /* "" when absent, as alg, nonce, tag */
	char alg[HUB_HTTPSIG_VALUE_MAX];
	char nonce[HUB_HTTPSIG_VALUE_MAX];
	char tag[HUB_HTTPSIG_VALUE_MAX];
	char params[2048]; /* the "@signature-params" value: the inner list re-serialized */
	uint8_t sig[HUB_HTTPSIG_SIG_MAX];
	size_t siglen;
} hub_httpsig_sig;

/* Parses the two fields (each a dictionary with exactly one member, the same label in
 * both). Components must be strings without parameters; parameters must be created,
 * expires (integers), keyid, alg, nonce, tag (strings), each at most once. FEDNS_EAUTH
 * with d saying what was wrong for anything else. Pure; thread-safe. */
fedns_err hub_httpsig_parse(const char *signature_input, const char *signature,
			    hub_httpsig_sig *out, fedns_diag *d);

/* Looks up a component's value (already trimmed of surrounding whitespace); NULL when the
 * message has none. */
typedef const char *(*hub_httpsig_component_fn)(void *ctx, const char *name);

/* The signature base of RFC 9421 §2.5 into out (appended): one line per covered component
 * then "@signature-params". FEDNS_EAUTH with d naming a component the message lacks. */
fedns_err hub_httpsig_base(const hub_httpsig_sig *sig, hub_httpsig_component_fn fn, void *ctx,
			   fedns_buf *out, fedns_diag *d);

/* The same for a request to the hub: "@method", "@path" (the decoded path the router
 * sees, percent-encoded again where RFC 3986 requires it: signers sign that minimal
 * form), "@query" ("?" and the raw query), "content-digest" and "date". */
fedns_err hub_httpsig_request_base(const hub_httpsig_sig *sig, const hub_req *req, fedns_buf *out,
				   fedns_diag *d);

/* The verifier's state: a clock and the nonces seen within the time window. */
typedef struct hub_httpsig hub_httpsig;
typedef int64_t (*hub_httpsig_clock_fn)(void *ctx); /* seconds since the epoch */

/* clock NULL means the system clock. Free with hub_httpsig_free (accepts NULL). */
fedns_err hub_httpsig_new(hub_httpsig_clock_fn clock, void *clock_ctx, hub_httpsig **out);
void hub_httpsig_free(hub_httpsig *v);

/* Verifies the request's signature and names its signer in *who. Required: covered
 * components "@method", "@path", "content-digest" (and "@query" when the request has a
 * query), optionally "date", nothing else; created within HUB_HTTPSIG_SKEW of now, expires
 * (if any) not past; when "date" is covered, Date within the same window; alg absent or "ecdsa-p256-sha256"; a nonce not
 * seen before from that key; Content-Digest with a sha-256 member equal to the body's;
 * keyid known to the store (hub_pubkey_lookup) and its principal enabled. The nonce is
 * remembered only once the signature verified. FEDNS_EAUTH with d saying which check
 * failed (never a secret; the keyid is public); a store failure is returned as is.
 * Runs inside a store transaction the caller opened. Thread-safe. */
fedns_err hub_httpsig_verify(hub_httpsig *v, hub_store *s, const hub_req *req, hub_principal *who,
			     fedns_diag *d);
