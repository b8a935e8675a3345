/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer tokens (random, stored only as SHA-256) and the RBAC decision with segregation
 * of duties. */
#include "hub/auth.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/encode.h"
#include "common/sha2.h"

#define TOKEN_RAW_LEN 32
#define TOKEN_B64_LEN 43 /* 32 bytes of base64 without the one '=' of padding */

fedns_err
hub_token_new(char out[HUB_TOKEN_LEN + 1], char hash_hex[65])
{
	uint8_t raw[TOKEN_RAW_LEN];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fedns_secure_zero(raw, sizeof(raw));
			return FEDNS_EIO;
		}
		got += (size_t)n;
	}
	char b64[FEDNS_BASE64_LEN(TOKEN_RAW_LEN) + 1];
	fedns_base64_encode(raw, sizeof(raw), b64);
	fedns_secure_zero(raw, sizeof(raw));
	/* base64url (RFC 4648 §5): the token travels in headers and shell variables */
	for (size_t i = 0; i < TOKEN_B64_LEN; i++) {
		if (b64[i] == '+')
			b64[i] = '-';
		else if (b64[i] == '/')
			b64[i] = '_';
	}
	memcpy(out, HUB_TOKEN_PREFIX, sizeof(HUB_TOKEN_PREFIX) - 1);
	memcpy(out + sizeof(HUB_TOKEN_PREFIX) - 1, b64, TOKEN_B64_LEN);
	out[HUB_TOKEN_LEN] = '\0';
	fedns_secure_zero(b64, sizeof(b64));
	hub_token_hash(out, hash_hex);
	return FEDNS_OK;
}

void
hub_token_hash(const char *token, char hash_hex[65])
{
	uint8_t h[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, token, strlen(token), h);
	fedns_hex_encode(h, sizeof(h), hash_hex, 0);
}

static bool
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* "Bearer" (any case), one or more spaces, one token of our exact shape, nothing else.
 * Surrounding spaces are tolerated: HTTP strips them from field values anyway. The token
 * shape is checked before hashing so junk never reaches the store. */
static bool
parse_bearer(const char *h, char token[HUB_TOKEN_LEN + 1])
{
	static const char scheme[] = "bearer";
	const size_t slen = sizeof(scheme) - 1;
	while (is_ows(*h))
		h++;
	if (strncasecmp(h, scheme, slen) != 0 || !is_ows(h[slen]))
		return false;
	h += slen;
	while (is_ows(*h))
		h++;
	const char *t = h;
	while (*h != '\0' && !is_ows(*h))
		h++;
	size_t tlen = (size_t)(h - t);
	while (is_ows(*h))
		h++;
	if (*h != '\0' || tlen != HUB_TOKEN_LEN)
		return false;
	if (strncmp(t, HUB_TOKEN_PREFIX, sizeof(HUB_TOKEN_PREFIX) - 1) != 0)
		return false;
	for (size_t i = sizeof(HUB_TOKEN_PREFIX) - 1; i < tlen; i++)
		if (!is_b64url(t[i]))
			return false;
	memcpy(token, t, tlen);
	token[tlen] = '\0';
	return true;
}

fedns_err
hub_auth_bearer(hub_store *s, const char *authorization, hub_principal *who)
{
	char token[HUB_TOKEN_LEN + 1];
	char hash[65];
	if (authorization == NULL || who == NULL || !parse_bearer(authorization, token))
		return FEDNS_EAUTH;
	hub_token_hash(token, hash);
	fedns_secure_zero(token, sizeof(token));
	hub_principal p;
	memset(&p, 0, sizeof(p));
	fedns_err err = hub_token_lookup(s, hash, &p);
	if (err == FEDNS_ENOENT)
		return FEDNS_EAUTH;
	if (err != FEDNS_OK)
		return err; /* the store failed: a server error, not a bad credential */
	if (p.disabled)
		return FEDNS_EAUTH;
	*who = p;
	return FEDNS_OK;
}

fedns_err
hub_auth_request(hub_store *s, hub_httpsig *sigs, const hub_req *req, hub_principal *who,
		 fedns_diag *d)
{
	if (s == NULL || req == NULL || who == NULL)
		return FEDNS_EINVAL;
	/* a request carrying a token is judged by the token alone: one credential, one
	 * answer, whatever else the request holds */
	if (req->authorization != NULL) {
		fedns_err err = hub_auth_bearer(s, req->authorization, who);
		if (err == FEDNS_EAUTH)
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "missing, unknown, expired or disabled bearer token");
		return err;
	}
	if (req->signature_input != NULL || req->signature != NULL) {
		if (sigs == NULL)
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "request signatures are not enabled on this hub");
		return hub_httpsig_verify(sigs, s, req, who, d);
	}
	return fedns_diag_set(d, FEDNS_EAUTH,
			      "no credentials: send a bearer token or an RFC 9421 signature");
}

bool
hub_auth_allowed(hub_store *s, const hub_principal *who, int64_t tenant_id, hub_action action,
		 int64_t author_id)
{
	if (who == NULL || who->disabled || who->id <= 0 || tenant_id < 0)
		return false;
	/* An estate-wide grant counts in every tenant; take the stronger of the two so the
	 * decision does not depend on how the store folds them. */
	hub_role estate = hub_role_of(s, who->id, HUB_TENANT_ALL);
	hub_role role = estate;
	if (tenant_id != HUB_TENANT_ALL) {
		hub_role r = hub_role_of(s, who->id, tenant_id);
		if (r > role)
			role = r;
	}
	switch (action) {
	case HUB_ACT_READ:
		return role >= HUB_ROLE_VIEWER;
	case HUB_ACT_PROPOSE:
		return role >= HUB_ROLE_EDITOR;
	case HUB_ACT_APPROVE:
		/* Segregation of duties: no role lets an author approve their own change. */
		return role >= HUB_ROLE_APPROVER && who->id != author_id;
	case HUB_ACT_ADMIN:
		return role == HUB_ROLE_ADMIN;
	case HUB_ACT_ESTATE_ADMIN:
		return estate == HUB_ROLE_ADMIN;
	}
	return false;
}
