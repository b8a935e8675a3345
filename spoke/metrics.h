/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's Prometheus exposition: hub session, change sets applied and refused, zones
 * served, secondaries by state, transfers and TSIG failures. Pure: the daemon gathers the
 * numbers (each module's own counters) and this module only writes them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "spoke/dnssrv.h"
#include "spoke/hubsession.h"
#include "spoke/verifier.h"

typedef struct spoke_metrics_input {
	const spoke_hubsession_stats *session; /* NULL without --hub */
	const spoke_hubstate_stats *hub;       /* NULL without --hub */
	const spoke_dnssrv_stats *dns;	       /* NULL before the DNS server runs */
	bool dns_listening;
	size_t zones_served;	      /* member zones (not the catalog) */
	size_t secondaries;	      /* verified secondaries now (configured + discovered) */
	const spoke_verify_row *rows; /* the verifier's table, may be NULL */
	size_t nrows;
} spoke_metrics_input;

/* Appends the whole exposition (every family with its HELP and TYPE; counters of a
 * labelled family appear for every label value, zeros included, so rates work from the
 * first scrape). Errors follow out's sticky error. */
void spoke_metrics_write(const spoke_metrics_input *in, fedns_buf *out);
