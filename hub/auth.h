/* SPDX-License-Identifier: Apache-2.0 */
/* Who is calling and what they may do: bearer tokens (only their SHA-256 is stored) and
 * the RBAC decision, including segregation of duties on approvals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "hub/http.h"
#include "hub/httpsig.h"
#include "hub/store.h"

#define HUB_TOKEN_PREFIX "fedns_"
#define HUB_TOKEN_LEN (6 + 43) /* prefix + base64url of 32 random bytes, no padding */

/* A fresh random token (getrandom) into out (HUB_TOKEN_LEN + 1 bytes) and its SHA-256 hex
 * into hash_hex. The token is shown once to its owner and never stored or logged. */
fedns_err hub_token_new(char out[HUB_TOKEN_LEN + 1], char hash_hex[65]);
/* SHA-256 hex of a presented token. */
void hub_token_hash(const char *token, char hash_hex[65]);

/* Resolves an "Authorization: Bearer ..." header to a principal. FEDNS_EAUTH for a
 * missing, malformed, unknown, expired or disabled credential. Runs inside a store
 * transaction the caller opened. */
fedns_err hub_auth_bearer(hub_store *s, const char *authorization, hub_principal *who);

/* Who sent this request: its Authorization bearer token when it has one, else its RFC 9421
 * signature (hub_httpsig_verify; 'sigs' NULL refuses signatures). FEDNS_EAUTH with d saying
 * which check failed (never the credential itself); a store failure is returned as is.
 * Runs inside a store transaction the caller opened. */
fedns_err hub_auth_request(hub_store *s, hub_httpsig *sigs, const hub_req *req, hub_principal *who,
			   fedns_diag *d);

typedef enum hub_action {
	HUB_ACT_READ = 1,	  /* viewer */
	HUB_ACT_PROPOSE = 2,	  /* editor */
	HUB_ACT_APPROVE = 3,	  /* approver or admin, never the author */
	HUB_ACT_ADMIN = 4,	  /* admin of the tenant */
	HUB_ACT_ESTATE_ADMIN = 5, /* admin on every tenant (tenants, principals) */
} hub_action;

/* May 'who' do 'action' in 'tenant_id'? For HUB_ACT_APPROVE, author_id is the change's
 * author (0 otherwise): an author never approves their own change. */
bool hub_auth_allowed(hub_store *s, const hub_principal *who, int64_t tenant_id, hub_action action,
		      int64_t author_id);
