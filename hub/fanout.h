/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's side of federation (docs/protocol.md): a mutual-TLS listener for spokes, the
 * challenge that proves each spoke's cluster, and per spoke and zone the ordered delivery
 * of signed change sets (or a snapshot) with acknowledgements and status reports stored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "dns/zone.h"
#include "hub/store.h"
#include "hub/workflow.h"
#include "proto/msg.h"
#include "tls/nngtls.h"

#define HUB_FANOUT_LAT_BUCKETS 12 /* le: 1 2 5 10 20 50 100 200 500 1000 5000 ms, +Inf */
#define HUB_FANOUT_HEARTBEAT_MS_DEFAULT 5000u
#define HUB_FANOUT_SNAPSHOT_AFTER_DEFAULT 10000u

typedef struct hub_fanout hub_fanout;

typedef struct hub_fanout_cluster_stats {
	char cluster[64];
	bool connected;
	uint64_t sent_changesets, sent_snapshots, applied, already_applied;
	uint64_t refused[10]; /* by fedns_proto_reason value */
	/* commit at the hub -> every secondary of the cluster in_sync at that serial */
	uint64_t lat_count, lat_bucket[HUB_FANOUT_LAT_BUCKETS]; /* not cumulative */
	double lat_sum_s;
} hub_fanout_cluster_stats;

typedef struct hub_fanout_opts {
	const char *store_path; /* every session opens its own handle on it */
	const char *listen_url; /* tls+tcp://HOST:PORT (port 0: any free port) */
	fedns_nngtls_files tls; /* the listener's certificate and key, spoke CA (+ CRL) */
	const char
		*spoke_ca; /* CA bundle spokes chain to (spoke authentication); NULL: tls.ca_file */
	const char *spoke_crl;	 /* CRL, or NULL (NULL with spoke_ca NULL: tls.crl_file) */
	const char *sign_key;	 /* the hub's change-set signing key (PEM file) */
	hub_workflow *workflow;	 /* hub_api_workflow(): current zones for snapshots; borrowed */
	unsigned heartbeat_ms;	 /* 0: HUB_FANOUT_HEARTBEAT_MS_DEFAULT */
	unsigned snapshot_after; /* 0: HUB_FANOUT_SNAPSHOT_AFTER_DEFAULT */
} hub_fanout_opts;

/* Loads the signing key and TLS files and checks the store; nothing listens yet. Errors
 * (which file, what) in d; key bytes never appear in them. */
fedns_err hub_fanout_new(const hub_fanout_opts *o, hub_fanout **out, fedns_diag *d);
/* Binds the listener and starts the accept thread. */
fedns_err hub_fanout_start(hub_fanout *f, fedns_diag *d);
/* The bound spoke port once started (0 before). */
uint16_t hub_fanout_port(hub_fanout *f);
/* The hub_api_opts.on_zone_write hook (ctx is the hub_fanout): the zone's serial,
 * placement or existence may have changed. Queues the zone id and wakes the fan-out;
 * never blocks on the network or the store. */
void hub_fanout_zone_changed(void *ctx, int64_t zone_id);
/* Stops accepting, closes every session and joins every thread. Idempotent. */
void hub_fanout_stop(hub_fanout *f);
/* After hub_fanout_stop (calls it if needed). Accepts NULL. */
void hub_fanout_free(hub_fanout *f);

/* malloc'd array (free()), one per cluster seen since start */
size_t hub_fanout_stats(hub_fanout *f, hub_fanout_cluster_stats **out);
uint64_t hub_fanout_auth_failures(hub_fanout *f);
size_t hub_fanout_sessions(hub_fanout *f); /* authenticated sessions now */
bool hub_fanout_listening(hub_fanout *f);

/* ---- the fan-out's pure pieces, exposed for tests ---- */

/* The SignedBody payload of a committed change: its diff text ("-RR"/"+RR" lines as
 * fedns_rr_print writes them) becomes the deleted/added RRs in wire form with the SOA lines
 * first (IXFR shape); the old and new SOA must carry c->from_serial and c->to_serial, and
 * c->digest must be a hex SHA-384. *out is malloc'd (free()). FEDNS_EMALFORMED with the line
 * in d when the diff does not fit. */
fedns_err hub_fanout_changeset_payload(const hub_signed_change *c, const char *zone,
				       uint64_t commit_ms, const char *author,
				       const char *const *approvers, size_t napprovers,
				       uint8_t **out, size_t *len, fedns_diag *d);
/* The SignedBody payload of a snapshot: every RR of z (SOA first) with its digest (the
 * tree digest, alg 240, for every version this hub commits). */
fedns_err hub_fanout_snapshot_payload(const fedns_zone *z, const char *zone,
				      const fedns_proto_digest *digest, uint64_t change_id,
				      uint64_t created_ms, uint8_t **out, size_t *len,
				      fedns_diag *d);

/* What to send a spoke for one placed zone, from what it says it holds. */
typedef enum hub_fanout_plan {
	HUB_FANOUT_CURRENT = 0,	 /* it holds the hub's current version: nothing yet */
	HUB_FANOUT_CHANGES = 1,	 /* the change sets after its serial */
	HUB_FANOUT_SNAPSHOT = 2, /* the whole zone */
} hub_fanout_plan;

typedef struct hub_fanout_resume {
	bool held;		  /* the spoke holds the zone at all */
	uint32_t spoke_serial;	  /* ... at this serial */
	const char *spoke_digest; /* ... with this hex SHA-384 ("" or NULL: unknown) */
	uint32_t hub_serial;	  /* the hub's current version */
	const char *hub_digest;	  /* and its hex digest */
	/* the hub's hex digest of its version spoke_serial (NULL: the hub does not know it) */
	const char *digest_at_spoke_serial;
	fedns_err changes_err;	 /* hub_changes_after(spoke_serial): OK or ENOENT */
	size_t nchanges;	 /* how many change sets follow spoke_serial */
	unsigned snapshot_after; /* more than this many: snapshot */
} hub_fanout_resume;

/* Decides; *why (may be NULL) gets a static phrase for logs. */
hub_fanout_plan hub_fanout_resume_plan(const hub_fanout_resume *r, const char **why);
