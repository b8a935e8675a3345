/* SPDX-License-Identifier: Apache-2.0 */
/* The hub <-> spoke messages as plain C structs, with capped decoding that says what was
 * wrong and where; protobuf-c (proto/fedns.proto) stays inside msg.c. See docs/protocol.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/rdata.h"

#define FEDNS_PROTO_VERSION 1
#define FEDNS_PROTO_NONCE_LEN 32
#define FEDNS_PROTO_DIGEST_MAX 64 /* ZONEMD SHA-512 */
#define FEDNS_PROTO_SIG_LEN 64	  /* ECDSA P-256 r || s */
#define FEDNS_PROTO_KEYID_MAX 128
/* Prefix of what a spoke signs in answer to a challenge (domain separation). */
#define FEDNS_PROTO_CHALLENGE_CONTEXT "fedns-spoke-auth-v1"

/* Message kinds; the values are the Envelope body field numbers. */
typedef enum fedns_proto_type {
	FEDNS_PROTO_HELLO = 2,
	FEDNS_PROTO_CHALLENGE = 3,
	FEDNS_PROTO_CHALLENGE_RESPONSE = 4,
	FEDNS_PROTO_SIGNED = 5,
	FEDNS_PROTO_ACK = 6,
	FEDNS_PROTO_STATUS_REPORT = 7,
	FEDNS_PROTO_PLACEMENT_UPDATE = 8,
	FEDNS_PROTO_HEARTBEAT = 9,
} fedns_proto_type;

typedef enum fedns_proto_sig_alg {
	FEDNS_PROTO_SIG_NONE = 0,
	FEDNS_PROTO_SIG_ECDSA_P256_SHA256 = 1, /* signature is r || s, 64 bytes */
} fedns_proto_sig_alg;

typedef enum fedns_proto_ack_status {
	FEDNS_PROTO_ACK_APPLIED = 1,
	FEDNS_PROTO_ACK_ALREADY_APPLIED = 2,
	FEDNS_PROTO_ACK_REFUSED = 3,
} fedns_proto_ack_status;

/* Why a spoke refused a signed change set or snapshot (0 only when not refused). */
typedef enum fedns_proto_reason {
	FEDNS_PROTO_REASON_NONE = 0,
	FEDNS_PROTO_REASON_GAP = 1,
	FEDNS_PROTO_REASON_REPLAY = 2,
	FEDNS_PROTO_REASON_BAD_SIGNATURE = 3,
	FEDNS_PROTO_REASON_DIGEST_MISMATCH = 4,
	FEDNS_PROTO_REASON_NOT_PLACED = 5,
	FEDNS_PROTO_REASON_MALFORMED = 6,
	FEDNS_PROTO_REASON_UNKNOWN_KEY = 7,
	FEDNS_PROTO_REASON_APPLY_FAILED = 8,
	FEDNS_PROTO_REASON_INTERNAL = 9,
} fedns_proto_reason;

typedef enum fedns_proto_secondary_state {
	FEDNS_PROTO_SECONDARY_IN_SYNC = 1,
	FEDNS_PROTO_SECONDARY_LAGGING = 2,
	FEDNS_PROTO_SECONDARY_DIVERGED = 3,
	FEDNS_PROTO_SECONDARY_UNREACHABLE = 4,
} fedns_proto_secondary_state;

/* Static names for logs ("change_set", "digest_mismatch", "in_sync"); "?" if unknown. */
const char *fedns_proto_type_name(fedns_proto_type t);
const char *fedns_proto_ack_status_name(fedns_proto_ack_status s);
const char *fedns_proto_reason_name(fedns_proto_reason r);
const char *fedns_proto_secondary_state_name(fedns_proto_secondary_state s);

/* A whole-zone content digest (docs/protocol.md): alg 240 the tree digest of dns/zdigest.h
 * (len 32), ZONEMD SIMPLE alg 1 (SHA-384, len 48) or 2 (SHA-512, len 64), or 0 (none, len
 * 0); any other combination is refused by encode and decode. */
#define FEDNS_PROTO_DIGEST_TREE 240 /* = FEDNS_ZDIGEST_ALG */
typedef struct fedns_proto_digest {
	uint8_t alg;
	uint8_t len;
	uint8_t value[FEDNS_PROTO_DIGEST_MAX];
} fedns_proto_digest;
/* True for a digest with one of the algorithms above and its length (not "none"). */
bool fedns_proto_digest_known(const fedns_proto_digest *g);

typedef struct fedns_proto_blob {
	const uint8_t *data;
	size_t len;
} fedns_proto_blob;

/* Conventions for every struct below:
 * - Strings are NUL-terminated UTF-8 without embedded NULs. Zone names are absolute
 *   presentation names ("example.com."). A NULL string encodes as "" and decodes as "".
 * - Times are Unix milliseconds (UTC).
 * - To encode, point the fields at your own memory (read during the call only).
 * - A decoded message owns everything its pointers reach (one arena inside it); free it
 *   whole with fedns_proto_msg_free / fedns_proto_body_free. */

typedef struct fedns_proto_zone_state {
	const char *zone;
	uint32_t serial;
	fedns_proto_digest digest;
} fedns_proto_zone_state;

/* spoke -> hub, first message. cert_chain[0] is the spoke's own certificate (DER); at
 * least one certificate and a non-empty cluster are required. */
typedef struct fedns_proto_hello {
	const char *cluster;
	const char *software_version;
	const fedns_proto_blob *certs;
	size_t ncerts;
	const fedns_proto_zone_state *zones;
	size_t nzones;
} fedns_proto_hello;

typedef struct fedns_proto_challenge {
	uint8_t nonce[FEDNS_PROTO_NONCE_LEN];
	uint64_t hub_time;
} fedns_proto_challenge;

/* Signature over fedns_proto_challenge_tbs() with the key of the Hello's cert_chain[0]. */
typedef struct fedns_proto_challenge_response {
	fedns_proto_sig_alg alg;
	fedns_proto_blob signature;
} fedns_proto_challenge_response;

/* A change set or snapshot as the hub signed it: payload is the exact output of
 * fedns_proto_body_encode, and the signature covers those bytes. The receiver verifies
 * the signature over payload before calling fedns_proto_body_decode on it. */
typedef struct fedns_proto_signed {
	fedns_proto_blob payload; /* non-empty */
	fedns_proto_blob signature;
	const char *key_id; /* printable ASCII, 1..FEDNS_PROTO_KEYID_MAX */
	fedns_proto_sig_alg alg;
} fedns_proto_signed;

typedef struct fedns_proto_ack {
	const char *zone;
	uint32_t serial;	   /* what the spoke holds after this */
	fedns_proto_digest digest; /* of what the spoke holds after this */
	fedns_proto_ack_status status;
	fedns_proto_reason reason; /* non-zero exactly when status is REFUSED */
	uint64_t change_id;	   /* 0 for a snapshot */
	const char *detail;
	uint64_t received_time, applied_time;
	uint32_t verify_us, apply_us;
} fedns_proto_ack;

typedef struct fedns_proto_secondary_status {
	const char *zone;
	const char *secondary; /* configured name */
	const char *address;
	fedns_proto_secondary_state state;
	bool has_serial; /* false until the secondary answered an SOA query */
	uint32_t serial;
	fedns_proto_digest digest; /* of its last AXFR, alg 0 when none */
	uint64_t last_proven;	   /* 0 never */
	uint64_t lag_ms;
	const char *last_error;
	uint32_t repairs;
} fedns_proto_secondary_status;

typedef struct fedns_proto_status_report {
	uint64_t time;
	const fedns_proto_secondary_status *entries;
	size_t nentries;
} fedns_proto_status_report;

/* full: 'add' is the whole set of zones the spoke carries; otherwise a delta. */
typedef struct fedns_proto_placement {
	uint64_t generation;
	bool full;
	const char *const *add;
	size_t nadd;
	const char *const *remove;
	size_t nremove;
} fedns_proto_placement;

typedef struct fedns_proto_heartbeat {
	uint64_t time;
	uint64_t sequence;
} fedns_proto_heartbeat;

/* One envelope. 'version' is filled by decode; encode always writes FEDNS_PROTO_VERSION. */
typedef struct fedns_proto_msg {
	uint32_t version;
	fedns_proto_type type;
	union {
		fedns_proto_hello hello;
		fedns_proto_challenge challenge;
		fedns_proto_challenge_response challenge_response;
		fedns_proto_signed signed_blob;
		fedns_proto_ack ack;
		fedns_proto_status_report status_report;
		fedns_proto_placement placement;
		fedns_proto_heartbeat heartbeat;
	} u;
	fedns_arena arena; /* private: what a decoded message owns */
} fedns_proto_msg;

/* RRs are dns/ RRs in wire form (owner and rdata uncompressed); decode checks each owner
 * (fedns_name_check) and rdata (fedns_rdata_check). deleted[0]/added[0] are the old/new
 * SOA when the diff is not empty (IXFR shape; checked by the applier, not here). */
typedef struct fedns_proto_changeset {
	const char *zone;
	uint32_t from_serial, to_serial;
	const fedns_rr *deleted;
	size_t ndeleted;
	const fedns_rr *added;
	size_t nadded;
	fedns_proto_digest digest; /* of the zone after the change */
	uint64_t change_id;
	uint64_t commit_time;
	const char *author;
	const char *const *approvers;
	size_t napprovers;
} fedns_proto_changeset;

typedef struct fedns_proto_snapshot {
	const char *zone;
	uint32_t serial;
	const fedns_rr *rrs; /* every RR of the zone */
	size_t nrrs;
	fedns_proto_digest digest;
	uint64_t change_id; /* last change included, 0 if none */
	uint64_t created_time;
} fedns_proto_snapshot;

/* Consecutive change sets of one zone under one signature: every element names the same
 * zone and each one's from_serial is the previous one's to_serial (checked by decode and
 * encode); at least one, at most max_items, and max_rrs RRs in all. */
typedef struct fedns_proto_batch {
	const fedns_proto_changeset *changesets;
	size_t n;
} fedns_proto_batch;

typedef enum fedns_proto_body_kind {
	FEDNS_PROTO_BODY_CHANGESET = 1,
	FEDNS_PROTO_BODY_SNAPSHOT = 2,
	FEDNS_PROTO_BODY_BATCH = 3,
} fedns_proto_body_kind;

/* What a signed payload holds; the kind is inside the signed bytes. */
typedef struct fedns_proto_body {
	fedns_proto_body_kind kind;
	union {
		fedns_proto_changeset changeset;
		fedns_proto_snapshot snapshot;
		fedns_proto_batch batch;
	} u;
	fedns_arena arena; /* private */
} fedns_proto_body;

/* Caps applied by decode; a 0 field means its default. Exceeding one is FEDNS_ETOOBIG. */
typedef struct fedns_proto_limits {
	size_t max_msg;	  /* bytes of one encoded message or payload, default 256 MiB */
	size_t max_rrs;	  /* RRs in one change set or snapshot, default 10,000,000 */
	size_t max_str;	  /* bytes of one string, default 1024 */
	size_t max_items; /* entries of any other list, default 100,000 */
	size_t max_blob;  /* bytes of one certificate or signature, default 64 KiB */
	size_t max_mem;	  /* memory one decode may use, default 2 GiB */
} fedns_proto_limits;

/* Serializes m (checked first as fedns_proto_check does, without caps) into a malloc'd
 * buffer: free *out with free(). FEDNS_EINVAL when m breaks a rule, FEDNS_ENOMEM. */
fedns_err fedns_proto_encode(const fedns_proto_msg *m, uint8_t **out, size_t *len);

/* Parses buf[0..len) into a new message (free with fedns_proto_msg_free). lim may be NULL
 * (defaults). Errors: FEDNS_ETOOBIG (a cap), FEDNS_ETRUNC (a field runs past its end),
 * FEDNS_EMALFORMED (not the format, or a rule broken), FEDNS_ENOTSUP (another protocol
 * version), FEDNS_ENOMEM; d (may be NULL) says which field and why. Never reads outside
 * buf; on failure *out is NULL and nothing is left allocated. Thread-safe. */
fedns_err fedns_proto_decode(const uint8_t *buf, size_t len, const fedns_proto_limits *lim,
			     fedns_proto_msg **out, fedns_diag *d);
/* Accepts NULL. Only for messages made by fedns_proto_decode. */
void fedns_proto_msg_free(fedns_proto_msg *m);

/* The same pair for a signed payload (a change set or snapshot). */
fedns_err fedns_proto_body_encode(const fedns_proto_body *b, uint8_t **out, size_t *len);
fedns_err fedns_proto_body_decode(const uint8_t *buf, size_t len, const fedns_proto_limits *lim,
				  fedns_proto_body **out, fedns_diag *d);
void fedns_proto_body_free(fedns_proto_body *b);

/* The rules decode applies after parsing (lim NULL: no caps, only the structural rules):
 * FEDNS_OK or FEDNS_EMALFORMED / FEDNS_ETOOBIG with the reason in d. */
fedns_err fedns_proto_check(const fedns_proto_msg *m, const fedns_proto_limits *lim, fedns_diag *d);
fedns_err fedns_proto_body_check(const fedns_proto_body *b, const fedns_proto_limits *lim,
				 fedns_diag *d);

/* Deep equality of content (arenas ignored; NULL and "" strings are equal). For tests,
 * fuzzers and callers checking that a retransmission is identical. */
bool fedns_proto_msg_equal(const fedns_proto_msg *a, const fedns_proto_msg *b);
bool fedns_proto_body_equal(const fedns_proto_body *a, const fedns_proto_body *b);

/* The exact bytes a spoke signs for a challenge: FEDNS_PROTO_CHALLENGE_CONTEXT, one 0x00,
 * the nonce, hub_time as 8 bytes big-endian, then the cluster name's bytes. malloc'd into
 * *out (free with free()). FEDNS_EINVAL for a NULL or empty cluster, FEDNS_ENOMEM. */
fedns_err fedns_proto_challenge_tbs(const uint8_t nonce[FEDNS_PROTO_NONCE_LEN], uint64_t hub_time,
				    const char *cluster, uint8_t **out, size_t *len);
