/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's HTTPS transport: HTTP/1.1 on POSIX sockets with mbedTLS, a thread per
 * connection that runs the API handler itself (so it may block on SQLite, fsync), at most
 * 'workers' handlers at once, and a request body cap. Knows nothing of routes or JSON. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"

/* One request as the handler sees it. Strings are NUL-terminated and borrowed for the
 * duration of the handler call; absent headers are NULL. */
typedef struct hub_req {
	const char *method;
	const char *path;  /* decoded path without the query, e.g. /api/v1/zones/example.com. */
	const char *query; /* raw query string after '?', or "" */
	const char *content_type;
	const char *authorization;
	const char *idempotency_key;
	const char *signature;	     /* RFC 9421 Signature header */
	const char *signature_input; /* RFC 9421 Signature-Input header */
	const char *content_digest;  /* RFC 9530 Content-Digest header */
	const char *date;
	const char *remote; /* peer address, "ip:port" ("[ip]:port" for IPv6), for logs */
	const uint8_t *body;
	size_t body_len;
	/* Which of the 'workers' handler slots this call holds, 0..workers-1: no two
	 * handlers running at once share one, so per-slot resources (a store handle) need no
	 * lock. Handlers run on connection threads, so thread-specific data lives as long as
	 * a connection, not a slot. */
	unsigned slot;
} hub_req;

/* The handler fills status, content type and body (and optional extra headers as
 * "Name: value\r\n" lines). */
typedef struct hub_res {
	int status;
	const char *content_type; /* static string; default "application/json" */
	fedns_buf body;
	fedns_buf headers;
} hub_res;

/* Runs on the connection's thread; may block. Must always set res->status. */
typedef void (*hub_handler_fn)(void *ctx, const hub_req *req, hub_res *res);

typedef struct hub_http_opts {
	const char *listen_url;	    /* "https://127.0.0.1:8443" (http:// only when tls is off) */
	const char *cert_file;	    /* server certificate chain (PEM) */
	const char *key_file;	    /* its private key (PEM); never logged */
	const char *client_ca_file; /* when set, clients must present a certificate from this
				     * CA (mTLS); identity still comes from the request */
	bool tls;		    /* false only for tests of the transport itself */
	size_t max_body;	    /* default 1 MiB */
	unsigned workers;	    /* handlers at once, default 8 */
} hub_http_opts;

typedef struct hub_http hub_http;

/* Binds, starts the workers and serves every path with 'fn'. */
fedns_err hub_http_start(const hub_http_opts *o, hub_handler_fn fn, void *ctx, hub_http **out,
			 fedns_diag *d);
/* The port actually bound (for port 0 in tests). */
uint16_t hub_http_port(const hub_http *h);
/* Stops accepting, waits for running handlers, frees. Accepts NULL. */
void hub_http_stop(hub_http *h);
