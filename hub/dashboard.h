/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's operator surface in front of the REST API: the embedded status dashboard
 * (static assets compiled into the binary) and the Prometheus /metrics endpoint. */
#pragma once

#include <stdbool.h>

#include "common/diag.h"
#include "common/err.h"
#include "hub/http.h"

struct hub_fanout;

typedef struct hub_ops hub_ops;

typedef struct hub_ops_opts {
	const char *store_path;	   /* ops opens its own read-only store handle(s) */
	struct hub_fanout *fanout; /* may be NULL (no spoke listener): no fan-out metrics */
	const char *cert_file;	   /* the hub's HTTPS certificate (PEM), read once for the
				    * fedns_hub_cert_expiry_timestamp_seconds metric; may be NULL */
} hub_ops_opts;

/* Opens what the handler needs (o is copied; fanout is borrowed and must outlive the
 * hub_ops). Free with hub_ops_free. Errors described in d. */
fedns_err hub_ops_new(const hub_ops_opts *o, hub_ops **out, fedns_diag *d);
/* Answers GET / (redirect), /dashboard/... (embedded static assets) and /metrics;
 * returns false for any other path (the caller then runs hub_api_handle). Thread-safe. */
bool hub_ops_handle(hub_ops *ops, const hub_req *req, hub_res *res);
/* Accepts NULL. */
void hub_ops_free(hub_ops *ops);
