/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's REST API (docs/hub.md): routes over (method, path), JSON bodies checked
 * strictly, authentication and authorisation of every call, idempotency keys, pagination,
 * and an audit record for every privileged action, including the refused ones. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"
#include "common/err.h"
#include "hub/http.h"
#include "hub/workflow.h"

/* Body caps: JSON bodies in general, and the routes that may carry a whole zone file
 * (zone create, propose). The transport's own cap must be at least the larger one. */
#define HUB_API_MAX_BODY ((size_t)1 << 20)
#define HUB_API_MAX_ZONE_BODY ((size_t)64 << 20)

typedef struct hub_api_opts {
	const char *store_path;	    /* every worker thread opens its own handle on it */
	hub_workflow_opts workflow; /* retention, snapshots, mass-delete threshold */
	size_t max_body;	    /* 0: HUB_API_MAX_BODY */
	size_t max_zone_body;	    /* 0: HUB_API_MAX_ZONE_BODY */
	/* Called after a write transaction that touched a zone committed (a change committed,
	 * placement or policy changed, the zone created or deleted), from the worker thread,
	 * so the fan-out can look at the zone again. Must not block. May be NULL. */
	void (*on_zone_write)(void *ctx, int64_t zone_id);
	void *hook_ctx;
} hub_api_opts;

typedef struct hub_api hub_api;

/* Opens the store once (creating nothing: bootstrap does that) to check it, and creates
 * the workflow. Errors are described in d. */
fedns_err hub_api_new(const hub_api_opts *o, hub_api **out, fedns_diag *d);
/* Closes every store handle the workers opened. Call after the transport stopped (no
 * handler may be running). Accepts NULL. */
void hub_api_free(hub_api *a);
/* /readyz answers 200 only after this was called with true (the listener is bound). */
void hub_api_set_ready(hub_api *a, bool ready);
/* The workflow the API commits through (its cache of current zones is shared with the
 * fan-out, which builds snapshots from it). Borrowed for the hub_api's life. */
hub_workflow *hub_api_workflow(hub_api *a);
/* The hub_handler_fn for hub_http_start; 'ctx' is the hub_api. Thread-safe. */
void hub_api_handle(void *ctx, const hub_req *req, hub_res *res);
