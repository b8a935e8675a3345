/* SPDX-License-Identifier: Apache-2.0 */
/* Spoke identity at the application layer: nng 1.5.2 cannot show the hub the peer's TLS
 * certificate, so the hub sends a fresh nonce and the spoke signs it with the key of the
 * certificate it presents in its Hello; the hub checks chain, CRL, name and signature. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/msg.h"
#include "tls/pki.h"
#include "tls/sign.h"

/* How long a challenge may be answered after the hub issued it. */
#define FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT 30000u

/* Hub side: one challenge per connection, answered at most once. */
typedef struct fedns_spokeauth_pending {
	fedns_proto_challenge challenge; /* send this to the spoke */
	bool used;			 /* set by fedns_spokeauth_verify, whatever the outcome */
} fedns_spokeauth_pending;

typedef enum fedns_spokeauth_reason {
	FEDNS_SPOKEAUTH_OK = 0,
	FEDNS_SPOKEAUTH_MALFORMED,     /* no certificate, no cluster, wrong algorithm or length */
	FEDNS_SPOKEAUTH_REPLAYED,      /* this challenge was already answered */
	FEDNS_SPOKEAUTH_STALE,	       /* answered outside the time window */
	FEDNS_SPOKEAUTH_CERT,	       /* chain, expiry, revocation or usage failed (see pki) */
	FEDNS_SPOKEAUTH_CN_MISMATCH,   /* the certificate's CN is not the claimed cluster */
	FEDNS_SPOKEAUTH_BAD_SIGNATURE, /* not this challenge's bytes signed by the cert's key */
	FEDNS_SPOKEAUTH_INTERNAL,      /* the hub's CA/CRL file or memory failed */
} fedns_spokeauth_reason;

typedef struct fedns_spokeauth_result {
	fedns_spokeauth_reason reason;
	fedns_pki_status pki; /* the chain verdict when it was reached, else TRUSTED */
	char cluster[FEDNS_PKI_CN_MAX + 1];	/* on success: the certificate's CN */
	char detail[FEDNS_PKI_REASON_MAX + 64]; /* one line for logs; no key material */
} fedns_spokeauth_result;

typedef struct fedns_spokeauth_policy {
	const char *ca_file;  /* PEM bundle of the CAs (and intermediates) spokes chain to */
	const char *crl_file; /* PEM CRLs, or NULL */
	uint64_t window_ms;   /* 0: FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT */
} fedns_spokeauth_policy;

/* A fresh 32-byte nonce from getrandom(2), stamped with now_ms (Unix ms). FEDNS_EIO when
 * the kernel gives no randomness. */
fedns_err fedns_spokeauth_challenge(fedns_spokeauth_pending *p, uint64_t now_ms);

/* Spoke side: signs fedns_proto_challenge_tbs(c, cluster) with key (the private key of the
 * certificate the Hello carries). sig receives r || s; out->signature points into sig, so
 * sig must outlive out. */
fedns_err fedns_spokeauth_respond(fedns_sign_key *key, const fedns_proto_challenge *c,
				  const char *cluster, uint8_t sig[FEDNS_PROTO_SIG_LEN],
				  fedns_proto_challenge_response *out);

/* Hub side: checks, in this order, the shape of hello/resp, that p was not answered before
 * and now_ms is within [hub_time, hub_time + window], the chain of hello->certs[0] (DER)
 * against policy's CA and CRL for clientAuth, that its CN equals hello->cluster, and that
 * resp's signature verifies with the certificate's key over this challenge's bytes. Marks p
 * used. FEDNS_OK and r->cluster on success; else r->reason and r->detail say why:
 * FEDNS_EMALFORMED, FEDNS_ESTALE (replayed or stale), FEDNS_EAUTH (certificate, name or
 * signature), FEDNS_EIO / FEDNS_ENOMEM (INTERNAL: the hub's own files or memory). */
fedns_err fedns_spokeauth_verify(const fedns_spokeauth_policy *policy, fedns_spokeauth_pending *p,
				 uint64_t now_ms, const fedns_proto_hello *hello,
				 const fedns_proto_challenge_response *resp,
				 fedns_spokeauth_result *r);

/* Static names for logs ("cn_mismatch"); "?" if unknown. */
const char *fedns_spokeauth_reason_name(fedns_spokeauth_reason reason);
