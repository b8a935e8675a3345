/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's Prometheus exposition: zone and secondary states, pending changes and the
 * audit chain from the store (its own handle, read transactions only), and the fan-out's
 * counters and propagation latency histograms when a spoke listener runs. Label values are
 * bounded: cluster names, states and refusal reasons, never zone names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "hub/fanout.h"
#include "hub/store.h"

typedef struct hub_metrics hub_metrics;

/* Checks the store at store_path opens (each scrape opens its own handle). fanout may be
 * NULL (no fan-out families) and is borrowed for the hub_metrics' life. cert_file (may be
 * NULL) is the hub's certificate: its expiry is read here, once, for
 * fedns_hub_cert_expiry_timestamp_seconds; one that cannot be read is logged and the metric
 * left out. Errors in d. */
fedns_err hub_metrics_new(const char *store_path, hub_fanout *fanout, const char *cert_file,
			  hub_metrics **out, fedns_diag *d);
/* Appends the whole exposition to out. A store that cannot be read gives
 * fedns_hub_store_up 0 and no store families (the fan-out's are still written), so a
 * scrape shows the failure instead of failing. Returns out->err. Thread-safe (one scrape
 * at a time uses the store handle). */
fedns_err hub_metrics_write(hub_metrics *m, fedns_buf *out);
/* Accepts NULL. */
void hub_metrics_free(hub_metrics *m);

/* ---- pure pieces, exposed for tests ---- */

/* The state of one (zone, cluster) cell (fed-brief.md: the worst of its secondaries in the
 * order unreachable > diverged > lagging > pending > unknown > in_sync, "pending" when the
 * spoke has not acknowledged hub_serial (sz NULL: never) or a secondary is not at it yet).
 * A cell whose spoke holds hub_serial but reports no secondary is "unknown" (nothing proved
 * it served), as GET /api/v1/status says. Static. */
const char *hub_metrics_cell_state(uint32_t hub_serial, const hub_spoke_zone *sz,
				   const hub_secondary *secs, size_t nsecs);
/* The rank of a state in that order (in_sync 0 ... unreachable 5; anything else counts as
 * unknown), for taking the worst of several. */
int hub_metrics_state_rank(const char *state);

/* The fan-out families from already collected statistics (what hub_metrics_write does
 * with hub_fanout_stats and friends). */
void hub_metrics_write_fanout(fedns_buf *out, const hub_fanout_cluster_stats *st, size_t n,
			      size_t sessions, uint64_t auth_failures, bool listening);
