/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's ops handler in front of the API: / redirects to the dashboard, /dashboard/...
 * serves the embedded static files with a strict content security policy, /metrics the
 * Prometheus text. The page itself talks to the REST API with the user's token. */
#include "hub/dashboard.h"

#include <stdlib.h>
#include <string.h>

#include "hub/metrics.h"
#include "hub/www/assets.h"

#define DASHBOARD "/dashboard/"

struct hub_ops {
	hub_metrics *metrics;
};

/* The page loads only its own files and talks only to this origin: no inline script or
 * style, no frames, no forms posted elsewhere, nothing fetched from a CDN. */
static const char security_headers[] =
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
	"frame-ancestors 'none'\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: no-referrer\r\n"
	"Cross-Origin-Opener-Policy: same-origin\r\n"
	"Cross-Origin-Resource-Policy: same-origin\r\n"
	"Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n";

fedns_err
hub_ops_new(const hub_ops_opts *o, hub_ops **out, fedns_diag *d)
{
	hub_ops *ops;
	fedns_err err;

	if (out != NULL) {
		*out = NULL;
	}
	if (o == NULL || out == NULL || o->store_path == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL, "ops handler: missing options");
	}
	if ((ops = calloc(1, sizeof(*ops))) == NULL) {
		return fedns_diag_set(d, FEDNS_ENOMEM, "ops handler: out of memory");
	}
	if ((err = hub_metrics_new(o->store_path, o->fanout, o->cert_file, &ops->metrics, d)) !=
	    FEDNS_OK) {
		free(ops);
		return err;
	}
	*out = ops;
	return FEDNS_OK;
}

void
hub_ops_free(hub_ops *ops)
{
	if (ops == NULL) {
		return;
	}
	hub_metrics_free(ops->metrics);
	free(ops);
}

static void
error_json(hub_res *res, int status, const char *code, const char *msg)
{
	res->status = status;
	res->content_type = "application/json";
	fedns_buf_printf(&res->body,
			 "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"details\":{}}}\n", code,
			 msg);
}

static void
redirect(hub_res *res, const char *to)
{
	res->status = 302;
	res->content_type = "text/plain; charset=utf-8";
	fedns_buf_printf(&res->headers, "Location: %s\r\n", to);
	fedns_buf_printf(&res->body, "see %s\n", to);
}

static int
cmp_asset(const void *key, const void *elem)
{
	return strcmp(key, ((const hub_www_asset *)elem)->name);
}

static const hub_www_asset *
find_asset(const char *name)
{
	return bsearch(name, hub_www_assets, hub_www_nassets, sizeof(hub_www_assets[0]), cmp_asset);
}

static void
serve_asset(const char *name, hub_res *res)
{
	const hub_www_asset *a;

	fedns_buf_puts(&res->headers, security_headers);
	/* one level of plain file names: "../", "a/b" and dot files never match */
	if (name[0] == '\0') {
		name = "index.html";
	}
	if (name[0] == '.' || strchr(name, '/') != NULL || (a = find_asset(name)) == NULL) {
		error_json(res, 404, "not_found", "no such dashboard file");
		return;
	}
	res->status = 200;
	res->content_type = a->content_type;
	fedns_buf_append(&res->body, a->data, a->len);
}

static void
serve_metrics(hub_ops *ops, hub_res *res)
{
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	if (hub_metrics_write(ops->metrics, &res->body) != FEDNS_OK) {
		/* over the body cap or out of memory: a cut exposition would mislead */
		fedns_buf_clear(&res->body);
		error_json(res, 500, "internal", "cannot build the metrics text");
		return;
	}
	res->status = 200;
}

bool
hub_ops_handle(hub_ops *ops, const hub_req *req, hub_res *res)
{
	const char *p = req->path;
	bool get;

	if (ops == NULL || p == NULL || req->method == NULL) {
		return false;
	}
	if (strcmp(p, "/") != 0 && strcmp(p, "/metrics") != 0 && strcmp(p, "/dashboard") != 0 &&
	    strncmp(p, DASHBOARD, sizeof(DASHBOARD) - 1) != 0) {
		return false;
	}
	get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (!get) {
		fedns_buf_puts(&res->headers, "Allow: GET, HEAD\r\n");
		error_json(res, 405, "method_not_allowed", "only GET is allowed here");
		return true;
	}
	if (strcmp(p, "/") == 0 || strcmp(p, "/dashboard") == 0) {
		redirect(res, DASHBOARD);
	} else if (strcmp(p, "/metrics") == 0) {
		serve_metrics(ops, res);
	} else {
		serve_asset(p + sizeof(DASHBOARD) - 1, res);
	}
	return true;
}
