/* SPDX-License-Identifier: Apache-2.0 */
/* The audit chain's hash and offline verification (the definition is in auditchain.h). */
#include "common/auditchain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/sha2.h"

const char fedns_audit_genesis[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void
hash_decimal(fedns_hash *h, int64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%" PRId64, v);
	fedns_hash_update(h, buf, (size_t)n);
}

/* Length-prefixed so no choice of bytes inside one field can imitate a field boundary. */
static void
hash_string(fedns_hash *h, const char *s)
{
	char buf[32];
	size_t len = s ? strlen(s) : 0;
	int n = snprintf(buf, sizeof buf, "%zu:", len);
	fedns_hash_update(h, buf, (size_t)n);
	if (len)
		fedns_hash_update(h, s, len);
}

void
fedns_audit_hash(const char *prev_hash_hex, const fedns_audit_fields *f, char out[65])
{
	static const char hexd[] = "0123456789abcdef";
	fedns_hash h;
	uint8_t md[FEDNS_SHA256_LEN];

	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, "fedns-audit-v1\n", 15);
	if (prev_hash_hex)
		fedns_hash_update(&h, prev_hash_hex, strlen(prev_hash_hex));
	fedns_hash_update(&h, "\n", 1);
	hash_decimal(&h, f->seq);
	fedns_hash_update(&h, "\n", 1);
	hash_decimal(&h, f->at_ms);
	const char *strs[5] = {f->principal, f->action, f->target, f->outcome, f->payload_digest};
	for (size_t i = 0; i < 5; i++) {
		fedns_hash_update(&h, "\n", 1);
		hash_string(&h, strs[i]);
	}
	fedns_hash_final(&h, md);
	for (size_t i = 0; i < FEDNS_SHA256_LEN; i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 15];
	}
	out[64] = '\0';
}

static int
hash_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

fedns_err
fedns_audit_verify(const fedns_audit_fields *records, const char *const *prev_hashes,
		   const char *const *hashes, size_t n, const char *prev, size_t *bad,
		   const char **why)
{
	const char *expect_prev = prev ? prev : fedns_audit_genesis;
	char h[65];

	for (size_t i = 0; i < n; i++) {
		const char *w = NULL;
		if (i > 0 &&
		    (records[i - 1].seq == INT64_MAX || records[i].seq != records[i - 1].seq + 1))
			w = records[i].seq > records[i - 1].seq
				    ? "seq gap: a record before it is missing"
				    : "seq out of order: records were reordered or repeated";
		else if (!hash_eq(prev_hashes[i], expect_prev))
			w = "prev_hash does not match the hash of the record before it";
		else {
			fedns_audit_hash(prev_hashes[i], &records[i], h);
			if (!hash_eq(hashes[i], h))
				w = "hash does not match the record's content (edited record)";
		}
		if (w) {
			if (bad)
				*bad = i;
			if (why)
				*why = w;
			return FEDNS_EAUTH;
		}
		expect_prev = hashes[i];
	}
	return FEDNS_OK;
}
