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
#include "hub/workflow.h"
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
