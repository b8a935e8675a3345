/* SPDX-License-Identifier: Apache-2.0 */
/* The audit chain's hashing, shared by the hub (which appends) and fednsctl (which
 * verifies an export offline): each record's hash covers the previous record's hash and
 * a canonical encoding of the record, so any edit, insertion, deletion or reordering is
 * found at the first record it touches. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The fields a record's hash covers. Strings are NUL-terminated UTF-8. */
typedef struct fedns_audit_fields {
	int64_t seq;
	int64_t at_ms;
	const char *principal;
	const char *action;
	const char *target;
	const char *outcome;
	const char *payload_digest; /* hex or "" */
} fedns_audit_fields;

/* The hash before the first record: 64 hex zeros. */
extern const char fedns_audit_genesis[65];

/* hash = hex(SHA-256("fedns-audit-v1\n" || prev_hash_hex || "\n" || canonical(fields)))
 * where canonical() is seq, at_ms, then each string as <decimal byte length>:<bytes>,
 * fields joined by "\n". Writes 64 hex digits and a NUL. */
void fedns_audit_hash(const char *prev_hash_hex, const fedns_audit_fields *f, char out[65]);

/* Verifies records[0..n) as a chain starting after 'prev' (genesis for a full export):
 * seq consecutive from records[0].seq, each prev_hash equal to the hash before it, each
 * hash recomputed. Returns FEDNS_OK, or FEDNS_EAUTH with *bad set to the index of the
 * first broken record and 'why' (static text) saying what broke. */
fedns_err fedns_audit_verify(const fedns_audit_fields *records, const char *const *prev_hashes,
			     const char *const *hashes, size_t n, const char *prev, size_t *bad,
			     const char **why);
