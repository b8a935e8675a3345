/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's operator HTTP endpoint (plain HTTP, meant for the pod network and kubelet
 * probes; it serves no zone data and takes no input beyond the path): /healthz (the
 * process answers), /readyz (session with the hub and DNS listener up) and /metrics
 * (Prometheus text format). What it reports comes from callbacks into the daemon. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"

typedef struct spoke_httpd_source {
	void *ctx;
	/* Appends the whole Prometheus exposition (# HELP/# TYPE and samples) to out. Called
	 * from the HTTP thread; must not block on DNS or hub work. */
	void (*metrics)(void *ctx, fedns_buf *out);
	/* Appends a JSON object's members (no braces), e.g. "\"hub\":\"connected\",\"dns\":
	 * \"listening\"", and returns whether the spoke is ready. */
	bool (*ready)(void *ctx, fedns_buf *json_members);
} spoke_httpd_source;

typedef struct spoke_httpd spoke_httpd;

/* Serves http://ADDR:PORT (listen like "127.0.0.1:9153", "[::1]:0", "0.0.0.0:9153"; port
 * 0 picks one, returned in *port). src is copied. Errors described in d. */
fedns_err spoke_httpd_start(const char *listen, const spoke_httpd_source *src, spoke_httpd **out,
			    uint16_t *port, fedns_diag *d);
/* Stops serving and frees; accepts NULL. */
void spoke_httpd_stop(spoke_httpd *h);
