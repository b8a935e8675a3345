/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's operator HTTP endpoint on nng 1.5.2's plain HTTP server: three GET paths,
 * answered from nng's callback (the daemon's callbacks do not block) with one write each. */
#include "spoke/httpd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

/* The metrics text of one spoke is a few KiB; this only stops a runaway callback. */
#define BODY_MAX ((size_t)8 << 20)
#define WRITE_TIMEOUT_MS 10000
#define LISTEN_MAX 300

struct spoke_httpd {
	nng_http_server *server;
	nng_url *url;
	spoke_httpd_source src;
	bool started;
};

/* One answer being written: the whole message goes out in one write (nng's own response
 * writer sends head and body separately, and with Nagle the body then waits for the
 * client's delayed ACK). */
typedef struct reply {
	nng_aio *cbaio; /* nng's handler aio, finished once the write ends */
	nng_aio *wraio;
	fedns_buf msg;
} reply;

static void
on_written(void *arg)
{
	reply *r = arg;
	nng_aio *cbaio = r->cbaio;
	int rv = nng_aio_result(r->wraio);

	/* the aio whose callback this is cannot be freed here; reap frees it later */
	nng_aio_reap(r->wraio);
	fedns_buf_fini(&r->msg);
	free(r);
	/* no response object: the answer is written and nng reads the next request; a
	 * failed write makes nng close the connection */
	nng_aio_set_output(cbaio, 0, NULL);
	nng_aio_finish(cbaio, rv);
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Builds the answer and starts writing it; on any failure nng closes the connection. */
static void
respond(nng_aio *cbaio, nng_http_conn *conn, int status, const char *ctype, const char *extra,
	const fedns_buf *body, bool head)
{
	reply *r = calloc(1, sizeof(*r));
	nng_iov iov;
	int rv;

	if (r == NULL) {
		nng_aio_finish(cbaio, NNG_ENOMEM);
		return;
	}
	r->cbaio = cbaio;
	fedns_buf_init(&r->msg, BODY_MAX + 4096);
	fedns_buf_printf(&r->msg,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n%s\r\n",
			 status, reason_phrase(status), ctype, body->len, extra);
	if (!head && body->len > 0) {
		fedns_buf_append(&r->msg, body->data, body->len);
	}
	if (r->msg.err != FEDNS_OK || (rv = nng_aio_alloc(&r->wraio, on_written, r)) != 0) {
		fedns_buf_fini(&r->msg);
		free(r);
		nng_aio_finish(cbaio, NNG_ENOMEM);
		return;
	}
	iov.iov_buf = r->msg.data;
	iov.iov_len = r->msg.len;
	nng_aio_set_timeout(r->wraio, WRITE_TIMEOUT_MS);
	if (nng_aio_set_iov(r->wraio, 1, &iov) != 0) {
		nng_aio_free(r->wraio);
		fedns_buf_fini(&r->msg);
		free(r);
		nng_aio_finish(cbaio, NNG_ENOMEM);
		return;
	}
	nng_http_conn_write_all(conn, r->wraio);
}

/* The path of a request target: everything before '?' (probes add no query, but a
 * scraper may). */
static bool
path_is(const char *uri, const char *path)
{
	size_t n = strlen(path);

	return strncmp(uri, path, n) == 0 && (uri[n] == '\0' || uri[n] == '?');
}

static void
on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *hh = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	spoke_httpd *h = nng_http_handler_get_data(hh);
	const char *method = nng_http_req_get_method(req);
	const char *uri = nng_http_req_get_uri(req);
	bool head = strcmp(method, "HEAD") == 0;
	const char *json = "application/json";
	fedns_buf body;
	int status = 200;

	fedns_buf_init(&body, BODY_MAX);
	if (!head && strcmp(method, "GET") != 0) {
		fedns_buf_puts(&body, "{\"error\":\"method not allowed; use GET\"}\n");
		respond(aio, conn, 405, json, "Allow: GET, HEAD\r\n", &body, false);
	} else if (path_is(uri, "/healthz")) {
		fedns_buf_puts(&body, "{\"status\":\"ok\"}\n");
		respond(aio, conn, 200, json, "", &body, head);
	} else if (path_is(uri, "/readyz")) {
		fedns_buf members;
		bool ready = false;

		fedns_buf_init(&members, BODY_MAX - 64);
		if (h->src.ready != NULL) {
			ready = h->src.ready(h->src.ctx, &members);
		}
		if (members.err != FEDNS_OK) {
			/* a truncated member list would be invalid JSON; say so instead */
			ready = false;
			fedns_buf_clear(&members);
			fedns_buf_puts(&members, "\"error\":\"readiness report too large\"");
		}
		fedns_buf_printf(&body, "{\"status\":\"%s\"%s%s}\n", ready ? "ready" : "not_ready",
				 members.len > 0 ? "," : "",
				 members.len > 0 ? (const char *)members.data : "");
		fedns_buf_fini(&members);
		status = ready ? 200 : 503;
		respond(aio, conn, status, json, "", &body, head);
	} else if (path_is(uri, "/metrics")) {
		if (h->src.metrics != NULL) {
			h->src.metrics(h->src.ctx, &body);
		}
		if (body.err != FEDNS_OK) {
			fedns_buf_clear(&body);
			fedns_buf_puts(&body, "# metrics exposition over the size cap\n");
			status = 500;
		}
		respond(aio, conn, status, "text/plain; version=0.0.4; charset=utf-8", "", &body,
			head);
	} else {
		fedns_buf_puts(&body,
			       "{\"error\":\"not found; paths: /healthz /readyz /metrics\"}\n");
		respond(aio, conn, 404, json, "", &body, head);
	}
	fedns_buf_fini(&body);
}

static fedns_err
nng_error(fedns_diag *d, int rv, const char *what, const char *listen)
{
	fedns_err e = rv == NNG_ENOMEM ? FEDNS_ENOMEM
		      : rv == NNG_EADDRINUSE || rv == NNG_EADDRINVAL || rv == NNG_EINVAL
			      ? FEDNS_EINVAL
		      : rv == NNG_EPERM ? FEDNS_EACCES
					: FEDNS_EIO;
	return fedns_diag_set(d, e, "HTTP endpoint %s: %s: %s", listen, what, nng_strerror(rv));
}

/* ADDR:PORT with a numeric port 0..65535 and nothing that would make it a URL. */
static bool
listen_ok(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	size_t n = strlen(listen);
	unsigned long port = 0;

	if (n == 0 || n > LISTEN_MAX || colon == NULL || colon == listen || colon[1] == '\0' ||
	    strpbrk(listen, "/?#@ \t") != NULL) {
		return false;
	}
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5) {
			return false;
		}
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535) {
		return false;
	}
	/* an IPv6 address must be bracketed, else its colons are ambiguous with the port */
	if (listen[0] == '[') {
		return colon[-1] == ']';
	}
	return memchr(listen, ':', (size_t)(colon - listen)) == NULL;
}

static void
teardown(spoke_httpd *h)
{
	if (h->server != NULL) {
		if (h->started) {
			nng_http_server_stop(h->server);
		}
		nng_http_server_release(h->server);
	}
	if (h->url != NULL) {
		nng_url_free(h->url);
	}
	free(h);
}

fedns_err
spoke_httpd_start(const char *listen, const spoke_httpd_source *src, spoke_httpd **out,
		  uint16_t *port, fedns_diag *d)
{
	char url[LISTEN_MAX + 16];
	nng_http_handler *hh = NULL;
	nng_sockaddr sa;
	spoke_httpd *h;
	fedns_err err;
	int rv;

	if (out != NULL) {
		*out = NULL;
	}
	if (listen == NULL || src == NULL || out == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL, "HTTP endpoint: missing arguments");
	}
	if (!listen_ok(listen)) {
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "HTTP endpoint \"%s\": expected ADDR:PORT such as "
				      "127.0.0.1:9153 or [::1]:9153",
				      listen);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		return fedns_diag_set(d, FEDNS_ENOMEM, "HTTP endpoint: out of memory");
	}
	h->src = *src;
	(void)snprintf(url, sizeof(url), "http://%s/", listen);
	if ((rv = nng_url_parse(&h->url, url)) != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "HTTP endpoint \"%s\": %s", listen,
				     nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_hold(&h->server, h->url)) != 0) {
		err = nng_error(d, rv, "server", listen);
		goto fail;
	}
	if ((rv = nng_http_handler_alloc(&hh, "/", on_request)) != 0 ||
	    (rv = nng_http_handler_set_method(hh, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(hh)) != 0 ||
	    /* no path takes a body; nng discards one if a client sends it */
	    (rv = nng_http_handler_collect_body(hh, true, 4096)) != 0 ||
	    (rv = nng_http_handler_set_data(hh, h, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(h->server, hh)) != 0) {
		if (hh != NULL) {
			nng_http_handler_free(hh);
		}
		err = nng_error(d, rv, "handler", listen);
		goto fail;
	}
	if ((rv = nng_http_server_start(h->server)) != 0) {
		err = nng_error(d, rv, "cannot listen", listen);
		goto fail;
	}
	h->started = true;
	if ((rv = nng_http_server_get_addr(h->server, &sa)) != 0) {
		err = nng_error(d, rv, "bound address", listen);
		goto fail;
	}
	if (port != NULL) {
		*port = sa.s_family == NNG_AF_INET    ? ntohs(sa.s_in.sa_port)
			: sa.s_family == NNG_AF_INET6 ? ntohs(sa.s_in6.sa_port)
						      : 0;
	}
	*out = h;
	return FEDNS_OK;
fail:
	teardown(h);
	return err;
}

void
spoke_httpd_stop(spoke_httpd *h)
{
	if (h != NULL) {
		teardown(h);
	}
}
