/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's DNS surface (DESIGN.md §5): a hidden primary on UDP and TCP that answers
 * SOA queries, AXFR and IXFR (TSIG required by default) for served zones and the catalog
 * zone, refuses everything else, and sends NOTIFYs. One thread with epoll owns all
 * sockets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"
#include "dns/tsig.h"
#include "spoke/zoneset.h"

typedef struct spoke_dnssrv spoke_dnssrv;

typedef struct spoke_dnssrv_opts {
	struct sockaddr_storage listen; /* UDP and TCP */
	socklen_t listen_len;
	const fedns_tsig_keyring *keys; /* borrowed, lives longer than the server */
	bool require_tsig;		/* transfers need a valid key (default true) */
	size_t max_tcp_conns;		/* default 256 */
	unsigned tcp_idle_ms;		/* default 10000 */
	size_t max_xfr_msg;		/* bytes per transfer message, default 65000 */
	/* secondaries to NOTIFY on every new serial */
	struct sockaddr_storage notify[64];
	socklen_t notify_len[64];
	size_t nnotify;
	unsigned notify_min_gap_ms; /* coalescing: min time between NOTIFYs to one target
				       for one zone (default 500) */
	unsigned notify_retry_ms;   /* first retry interval (default 1000, doubles) */
	unsigned notify_retries;    /* default 5 */
} spoke_dnssrv_opts;

void spoke_dnssrv_opts_default(spoke_dnssrv_opts *o);

/* Binds the sockets (so the caller knows the port is taken when this returns OK) and
 * starts the server thread. */
fedns_err spoke_dnssrv_start(const spoke_dnssrv_opts *opts, spoke_zoneset *zs, spoke_dnssrv **out,
			     fedns_diag *d);
/* Stops the thread, closes every socket, waits for transfers to end; accepts NULL. */
void spoke_dnssrv_stop(spoke_dnssrv *srv);
/* Port actually bound (useful with port 0). */
uint16_t spoke_dnssrv_port(const spoke_dnssrv *srv);
/* Tells the server a zone has a new serial: NOTIFYs are scheduled (coalesced). Safe from
 * any thread. */
void spoke_dnssrv_notify(spoke_dnssrv *srv, const uint8_t *origin, uint32_t serial);

/* Replaces the NOTIFY targets (at most 64; FEDNS_ETOOBIG otherwise), e.g. as discovery
 * finds secondaries come and go. Targets still listed keep their pending NOTIFYs. Takes
 * effect in the server thread; safe from any thread. */
fedns_err spoke_dnssrv_set_notify(spoke_dnssrv *srv, const struct sockaddr_storage *addrs,
				  const socklen_t *lens, size_t n);

/* Counters for metrics and tests. */
typedef struct spoke_dnssrv_stats {
	uint64_t queries, refused, formerr, soa, axfr, ixfr, ixfr_fallback, tsig_fail, notify_sent,
		notify_acked;
} spoke_dnssrv_stats;
void spoke_dnssrv_get_stats(spoke_dnssrv *srv, spoke_dnssrv_stats *out);

/* The request path as a pure step, for the server and the fuzzer: handles one request
 * 'q' (received over UDP when udp is true) and writes a complete answer to 'ans' when
 * it is a single message (SOA, REFUSED, FORMERR, single-SOA IXFR, NOTIFY reply).
 * Returns: 0 no answer (drop), 1 single answer in ans (length in ans_len), 2 a transfer must be
 * streamed: *xfr is filled (holding a version reference; release with
 * spoke_query_xfr_fini). 'now' is seconds since the epoch (TSIG). */
#define SPOKE_IXFR_MAX_DIFFS 1000
typedef struct spoke_query_xfr {
	spoke_version *v;			      /* held */
	spoke_jentry *jentries[SPOKE_IXFR_MAX_DIFFS]; /* held */
	const fedns_diff *diffs[SPOKE_IXFR_MAX_DIFFS];
	size_t ndiffs;
	void *out; /* fedns_xfr_out, allocated */
	fedns_tsig_ctx tsig;
	bool signed_;
} spoke_query_xfr;

int spoke_query_handle(spoke_zoneset *zs, const fedns_tsig_keyring *keys, bool require_tsig,
		       const uint8_t *q, size_t qlen, bool udp, uint64_t now, uint8_t *ans,
		       size_t anscap, size_t *ans_len, spoke_query_xfr *xfr,
		       spoke_dnssrv_stats *stats);
void spoke_query_xfr_fini(spoke_query_xfr *xfr);
