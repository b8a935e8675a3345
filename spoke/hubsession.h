/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's side of federation (docs/protocol.md): a thread that keeps a mutual-TLS
 * session to the hub, proves the cluster's identity, applies the signed change sets and
 * snapshots of the zones placed on this cluster, and reports the secondaries' state back.
 *
 * Two layers. spoke_hubstate is the pure part: the pinned hub keys, the placement, the
 * digest of every held version and the handling of one SignedBlob against the zone set
 * (signature, continuity, apply, digest), no sockets or threads, so every refusal can be
 * unit tested. spoke_hubsession is the network part: dial with backoff, Hello, Challenge,
 * the receive loop, acks, heartbeats and status reports. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "dns/zonemd.h"
#include "proto/msg.h"
#include "spoke/verifier.h"
#include "spoke/zoneset.h"
#include "tls/sign.h"

#define SPOKE_HUB_KEYS_MAX 16 /* pinned hub signing keys (rotation keeps two or three) */
#define SPOKE_HUB_DETAIL_MAX 256

/* ---- the pure part ---- */

typedef struct spoke_hubstate spoke_hubstate;

/* Creates the state over zs (borrowed; outlives the state) and wraps zs's store hooks so
 * that a change set's resulting digest is checked before the version becomes visible or
 * durable (the hooks installed before, normally the journal's, run after the check): call
 * it after spoke_journal_attach. spoke_hubstate_free puts the previous hooks back. */
fedns_err spoke_hubstate_new(spoke_zoneset *zs, spoke_hubstate **out);
/* Accepts NULL. */
void spoke_hubstate_free(spoke_hubstate *s);

/* Pins a hub signing public key; takes k on success. FEDNS_EEXIST when a key with the same
 * id is pinned, FEDNS_ETOOBIG past SPOKE_HUB_KEYS_MAX. */
fedns_err spoke_hubstate_add_key(spoke_hubstate *s, fedns_sign_key *k, fedns_diag *d);
/* Reads a PEM public key file (--hub-key) and pins it; the key id goes to *id_out when
 * not NULL. Errors name the file. */
fedns_err spoke_hubstate_add_key_file(spoke_hubstate *s, const char *path,
				      char id_out[FEDNS_SIGN_KEYID_LEN + 1], fedns_diag *d);

/* Applies a PlacementUpdate. 'first' marks the first one of a session: it must be full
 * and is accepted whatever its generation; later ones are applied only when their
 * generation is higher than the last applied (else ignored, *applied false). A full set
 * replaces the placement and removes every held zone not in it; a delta adds and removes
 * (removed zones stop being served). *removed (may be NULL) counts zones removed from the
 * zone set. FEDNS_EMALFORMED for a name that is not a domain name (nothing changed) or a
 * first update that is not full. */
fedns_err spoke_hubstate_placement(spoke_hubstate *s, const fedns_proto_placement *p, bool first,
				   bool *applied, size_t *removed, fedns_diag *d);
/* Whether 'origin' (wire) is placed on this cluster by the last placement. */
bool spoke_hubstate_is_placed(spoke_hubstate *s, const uint8_t *origin);

/* What happened to one SignedBlob: the Ack to send (its strings point into this struct)
 * and what the logs and metrics need. */
typedef struct spoke_blob_outcome {
	fedns_proto_ack ack;
	fedns_proto_body_kind kind; /* 0 when the payload was not decoded */
	uint32_t from_serial;	    /* change set: its from; snapshot: its serial */
	uint32_t to_serial;	    /* change set: its to; snapshot: its serial */
	bool held;		    /* the zone was held before (held_serial valid) */
	uint32_t held_serial;
	char zone[FEDNS_NAME_MAXTEXT];
	char detail[SPOKE_HUB_DETAIL_MAX];
} spoke_blob_outcome;

/* Receives each outcome the moment it is known (the ack can go out at once). */
typedef void (*spoke_blob_emit_fn)(void *ctx, const spoke_blob_outcome *o);

/* Handles one SignedBlob exactly as docs/protocol.md says, in this order: the key id must
 * be pinned (unknown_key) and the signature over the payload must verify with it
 * (bad_signature), before a byte of the payload is decoded; the payload must decode
 * (malformed) and name a zone placed here (not_placed). A change set then continues the
 * held serial (from == held: applied through spoke_zoneset_apply, durable when the zone
 * set has a journal; to and digest == held: already_applied; from newer: gap; else replay)
 * and its result must hash to the signed digest (digest_mismatch: the previous version
 * stays served and nothing reaches the journal). The digest is the tree digest (alg 240,
 * dns/zdigest.h): a tree kept per zone follows each change in O(change), and is rebuilt
 * (O(zone)) only after a start, a snapshot or a failure; ZONEMD SIMPLE (alg 1, 2), what
 * older hubs signed, is still checked (O(zone)). A snapshot is built,
 * its digest checked, and it replaces the zone whole (equal serial and digest:
 * already_applied; an older serial: replay). A batch is applied element by element, each
 * acknowledged as if alone; a refused element ends it. A diff that does not fit is
 * apply_failed; a journal or memory failure internal. Every refusal is logged as a
 * security event (spoke.changeset.refused: zone, kind, reason, serials; never key
 * material). Each outcome's ack holds the serial and digest held afterwards (a refusal
 * before decoding names the zone "."), received_ms as received_time, the wall clock at the
 * end as applied_time, verify_us and apply_us. Never fails: anything that goes wrong is
 * a refusal. Returns the number of outcomes emitted (at least 1). One caller at a time
 * (the receive loop); thread-safe against the other functions. */
size_t spoke_hubstate_handle_signed(spoke_hubstate *s, const fedns_proto_signed *sb,
				    uint64_t received_ms, spoke_blob_emit_fn emit, void *ctx);
/* The part after verification: applies one decoded, verified body (placement, continuity,
 * apply, digest) as above; verify_us goes into the (first) ack. */
size_t spoke_hubstate_apply_body(spoke_hubstate *s, const fedns_proto_body *b, uint64_t received_ms,
				 uint32_t verify_us, spoke_blob_emit_fn emit, void *ctx);

/* The zones held now with serial and tree digest (alg 240), for a Hello; acks carry the
 * same for the version held, except an applied change set or snapshot signed with ZONEMD,
 * acknowledged with that. The tree of a version applied by this state is kept, so its
 * root costs nothing; otherwise it is built once and kept. malloc'd; free with
 * spoke_hubstate_held_free. */
size_t spoke_hubstate_held(spoke_hubstate *s, fedns_proto_zone_state **out);
void spoke_hubstate_held_free(fedns_proto_zone_state *zones, size_t n);
/* The cached digest of origin at serial with 'alg' (FEDNS_ZDIGEST_ALG: the kept tree's
 * root; ZONEMD SHA-384 or SHA-512: the last one computed) into digest[0..*len); false when
 * not cached. */
bool spoke_hubstate_cached_digest(spoke_hubstate *s, const uint8_t *origin, uint32_t serial,
				  uint8_t alg, uint8_t digest[FEDNS_ZONEMD_MAXLEN], size_t *len);

/* Counters since start (metrics). */
typedef struct spoke_hubstate_stats {
	uint64_t applied_changesets, applied_snapshots, already_applied;
	uint64_t refused[10]; /* by fedns_proto_reason */
	uint64_t apply_us_sum, verify_us_sum;
	uint64_t placed; /* zones placed now */
	uint64_t placement_removed;
	uint64_t tree_builds; /* tree digests built from a whole zone (O(zone) each) */
} spoke_hubstate_stats;
void spoke_hubstate_get_stats(spoke_hubstate *s, spoke_hubstate_stats *out);

/* ---- the session ---- */

typedef struct spoke_hubsession spoke_hubsession;

typedef struct spoke_hubsession_opts {
	const char *url;	 /* tls+tcp://HOST:PORT */
	const char *server_name; /* the hub's DNS name in its certificate (--hub-name) */
	const char *cluster;
	const char *cert_file; /* spoke certificate PEM (intermediates may follow) */
	const char *key_file;  /* its private key */
	const char *ca_file;   /* CA bundle the hub's certificate chains to */
	const char *crl_file;  /* or NULL */
	const char *software_version;
	unsigned heartbeat_ms;	     /* idle heartbeat; hub silent 3x this: reconnect (5000) */
	unsigned status_interval_ms; /* full status report cadence (1000) */
	unsigned backoff_max_ms;     /* reconnect backoff cap (5000) */
	unsigned dial_timeout_ms;    /* TCP + TLS handshake (5000) */
	/* The verifier's table (spoke_verifier_status semantics: malloc'd rows, free()); NULL
	 * or returning 0 rows: nothing to report. Called from the session thread. */
	size_t (*status)(void *ctx, spoke_verify_row **rows);
	/* The status source calls spoke_hubsession_status_changed on every change of the
	 * table: it is then read on each such call (and every STATUS_FALLBACK_MS) instead of
	 * every 5 ms. false: polled. */
	bool status_kicks;
	/* The address ("IP:PORT") of a secondary by name, for reports; may be NULL. */
	void (*address)(void *ctx, const char *secondary, char *out, size_t outsz);
	void *ctx;
} spoke_hubsession_opts;

/* Loads what the session needs before anything runs: the TLS client config (certificate,
 * key, CA, CRL, server name), the certificate chain as DER for the Hello and the private
 * key for the challenge. Errors name the file; key bytes never appear. st is borrowed. */
fedns_err spoke_hubsession_new(const spoke_hubsession_opts *o, spoke_hubstate *st,
			       spoke_hubsession **out, fedns_diag *d);
/* Starts the session thread (dial, handshake, serve, reconnect until freed). */
fedns_err spoke_hubsession_start(spoke_hubsession *hs);
/* The status table may have changed: look at it now (see status_kicks). Thread-safe,
 * never blocks on the session's work; accepts NULL. */
void spoke_hubsession_status_changed(spoke_hubsession *hs);
/* Stops the thread (closing the connection) and frees. Accepts NULL. */
void spoke_hubsession_free(spoke_hubsession *hs);

typedef struct spoke_hubsession_stats {
	bool connected;				 /* a TLS connection to the hub is up */
	bool authenticated;			 /* and the hub sent this session's placement */
	uint64_t dials, dial_failures, sessions; /* sessions: authenticated ones */
	uint64_t acks_sent, status_reports_sent, heartbeats_sent, heartbeats_received;
	uint64_t silent_disconnects; /* hub silent for three heartbeat intervals */
	uint64_t connected_since_ms; /* Unix ms of the current session, 0 when none */
} spoke_hubsession_stats;
void spoke_hubsession_get_stats(spoke_hubsession *hs, spoke_hubsession_stats *out);
bool spoke_hubsession_authenticated(spoke_hubsession *hs);

/* Whether two status rows differ in anything the hub shows (state, serials, digest, last
 * proof, lag, error, repairs). Exposed for tests. */
bool spoke_hubsession_row_changed(const spoke_verify_row *a, const spoke_verify_row *b);
