/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's HTTPS transport on nng 1.5.2: requests are copied out of nng's callback into
 * jobs that a fixed pool of worker threads runs, so handlers may block. */
#include "hub/http.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include "common/encode.h"
#include "common/file.h"
#include "common/sha2.h"

#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_WORKERS 8u
#define MAX_WORKERS 256u
/* Jobs waiting for a worker; beyond this the hub is overloaded and says 503 at once
 * rather than letting latency grow without bound. */
#define QUEUE_PER_WORKER 32u
/* A client that announces a body and then trickles it is cut off after this. */
#define BODY_TIMEOUT_MS 30000
#define PEM_MAX ((size_t)1 << 20)
#define RES_HEADERS_MAX ((size_t)16 << 10)
/* The body of a refused request (over the cap, bad target) is read and discarded before
 * the answer so the connection stays in step: closing with unread bytes makes the kernel
 * send RST, which can destroy the answer before the client reads it. Bodies larger than
 * this are not worth reading; they get the answer and a close at once. */
#define DRAIN_MAX ((uint64_t)64 << 20)
#define DRAIN_CHUNK ((size_t)16 << 10)

typedef enum job_state {
	JOB_CONTINUE, /* writing "100 Continue" */
	JOB_BODY,     /* reading the announced body */
	JOB_DRAIN,    /* discarding a refused request's body before answering */
} job_state;

typedef struct job {
	struct job *next;
	hub_http *srv;
	nng_aio *cbaio; /* nng's handler aio: finished exactly once, by whoever ends the job */
	nng_aio *rdaio; /* our own I/O on the connection (body, 100 Continue) */
	nng_http_conn *conn;
	job_state state;
	char *method;
	char *path;
	char *query;
	char *content_type;
	char *authorization;
	char *idempotency_key;
	char *signature;
	char *signature_input;
	char *content_digest;
	char *date;
	uint8_t *body;
	size_t body_len;
	uint64_t drain_left; /* JOB_DRAIN: bytes still to discard, then this answer: */
	uint16_t refuse_status;
	const char *refuse_code;
	const char *refuse_msg;
} job;

struct hub_http {
	nng_http_server *server;
	nng_url *url;
	nng_tls_config *tls;
	hub_handler_fn fn;
	void *ctx;
	size_t max_body;
	uint16_t port;
	bool started; /* nng server started: stop it before joining workers */

	pthread_mutex_t mtx;
	pthread_cond_t cv;
	job *head;
	job *tail;
	size_t queued;
	size_t queue_max;
	bool stopping;
	unsigned nworkers; /* threads actually started */
	pthread_t *workers;
};

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void
job_free(job *j)
{
	if (j == NULL) {
		return;
	}
	/* rdaio may be the aio whose callback is running now; reap frees it later. */
	if (j->rdaio != NULL) {
		nng_aio_reap(j->rdaio);
	}
	free(j->method);
	free(j->path);
	free(j->query);
	free(j->content_type);
	if (j->authorization != NULL) {
		fedns_secure_zero(j->authorization, strlen(j->authorization));
		free(j->authorization);
	}
	free(j->idempotency_key);
	free(j->signature);
	free(j->signature_input);
	free(j->content_digest);
	free(j->date);
	free(j->body);
	free(j);
}

/* Sets the headers every answer carries; nonzero on allocation failure. */
static int
set_common_headers(nng_http_res *res, const char *content_type)
{
	int rv;

	if ((rv = nng_http_res_set_header(res, "Content-Type", content_type)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Cache-Control", "no-store")) != 0 ||
	    (rv = nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff")) != 0) {
		return rv;
	}
	return 0;
}

/* Answers from the transport itself (the handler never ran), in the API's error shape.
 * 'close' when unread request bytes remain on the connection. */
static void
finish_refusal(nng_aio *aio, uint16_t status, const char *code, const char *msg, bool close)
{
	nng_http_res *res = NULL;
	char body[256];
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", code,
		     msg);
	if (n < 0 || (size_t)n >= sizeof(body) || nng_http_res_alloc(&res) != 0 ||
	    nng_http_res_set_status(res, status) != 0 ||
	    set_common_headers(res, "application/json") != 0 ||
	    (close && nng_http_res_set_header(res, "Connection", "close") != 0) ||
	    nng_http_res_copy_data(res, body, (size_t)n) != 0) {
		if (res != NULL) {
			nng_http_res_free(res);
		}
		/* nng closes the connection: the best answer left without memory */
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* Splits the request target into a percent-decoded path and the raw query. Returns NULL
 * with *why set for a target that is not an origin-form path, an invalid escape or %00
 * (a NUL would silently truncate the path the router sees). */
static const char *
split_target(const char *uri, char **path, char **query)
{
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	char *p;
	size_t i, o = 0;

	*path = NULL;
	*query = NULL;
	if (plen == 0 || uri[0] != '/') {
		return "request target must be a path starting with '/'";
	}
	if ((p = malloc(plen + 1)) == NULL) {
		return "out of memory";
	}
	for (i = 0; i < plen; i++) {
		if (uri[i] != '%') {
			p[o++] = uri[i];
			continue;
		}
		int hi = plen - i > 2 ? fedns_hex_digit(uri[i + 1]) : -1;
		int lo = plen - i > 2 ? fedns_hex_digit(uri[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free(p);
			return "invalid percent-escape in path";
		}
		if (hi == 0 && lo == 0) {
			free(p);
			return "%00 in path";
		}
		p[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	p[o] = '\0';
	if ((*query = strdup(q != NULL ? q + 1 : "")) == NULL) {
		free(p);
		return "out of memory";
	}
	*path = p;
	return NULL;
}

/* strdup of an optional header; false only when allocation failed. */
static bool
copy_header(nng_http_req *req, const char *name, char **out)
{
	const char *v = nng_http_req_get_header(req, name);

	*out = NULL;
	if (v == NULL) {
		return true;
	}
	return (*out = strdup(v)) != NULL;
}

/* Hands a ready job to the workers; false when the queue is full or the server stops. */
static bool
enqueue(hub_http *s, job *j)
{
	bool ok = false;

	pthread_mutex_lock(&s->mtx);
	if (!s->stopping && s->queued < s->queue_max) {
		j->next = NULL;
		if (s->tail != NULL) {
			s->tail->next = j;
		} else {
			s->head = j;
		}
		s->tail = j;
		s->queued++;
		pthread_cond_signal(&s->cv);
		ok = true;
	}
	pthread_mutex_unlock(&s->mtx);
	return ok;
}

static void
dispatch(job *j)
{
	nng_aio *aio = j->cbaio;

	if (!enqueue(j->srv, j)) {
		job_free(j);
		finish_refusal(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "overloaded",
			       "the hub is busy; retry later", false);
	}
}

/* Completion of our own I/O on the connection: 100 Continue written, or body read. */
static void
on_io(void *arg)
{
	job *j = arg;
	nng_aio *aio = j->cbaio;
	int rv = nng_aio_result(j->rdaio);

	if (rv != 0) {
		/* the peer went away, timed out or the server is stopping: nng closes it */
		job_free(j);
		nng_aio_finish(aio, rv);
		return;
	}
	if (j->state == JOB_DRAIN) {
		size_t n = nng_aio_count(j->rdaio);
		j->drain_left -= n < j->drain_left ? n : j->drain_left;
		if (j->drain_left > 0 && n > 0) {
			nng_iov iov = {.iov_buf = j->body,
				       .iov_len = j->drain_left < DRAIN_CHUNK
							  ? (size_t)j->drain_left
							  : DRAIN_CHUNK};
			(void)nng_aio_set_iov(j->rdaio, 1, &iov);
			nng_http_conn_read(j->conn, j->rdaio);
			return;
		}
		/* all of it discarded: the connection is in step and may be kept */
		bool in_step = j->drain_left == 0;
		uint16_t status = j->refuse_status;
		const char *code = j->refuse_code, *msg = j->refuse_msg;
		job_free(j);
		finish_refusal(aio, status, code, msg, !in_step);
		return;
	}
	if (j->state == JOB_CONTINUE) {
		nng_iov iov = {.iov_buf = j->body, .iov_len = j->body_len};
		j->state = JOB_BODY;
		if ((rv = nng_aio_set_iov(j->rdaio, 1, &iov)) != 0) {
			job_free(j);
			nng_aio_finish(aio, rv);
			return;
		}
		nng_http_conn_read_all(j->conn, j->rdaio);
		return;
	}
	dispatch(j);
}

/* Refuses a request whose body of 'len' bytes has not been read: at once (closing when
 * len > 0) if the client waits for 100 Continue (it has sent nothing) or the body is
 * huge, else after discarding the body, keeping the connection. 'code' and 'msg' are
 * static strings. */
static void
refuse_draining(hub_http *s, nng_aio *aio, nng_http_req *req, nng_http_conn *conn, uint64_t len,
		uint16_t status, const char *code, const char *msg)
{
	const char *expect = nng_http_req_get_header(req, "Expect");
	job *j = NULL;
	nng_iov iov;

	if (len == 0) {
		finish_refusal(aio, status, code, msg, false);
		return;
	}
	if ((expect != NULL && strcasecmp(expect, "100-continue") == 0) || len > DRAIN_MAX ||
	    (j = calloc(1, sizeof(*j))) == NULL || (j->body = malloc(DRAIN_CHUNK)) == NULL ||
	    nng_aio_alloc(&j->rdaio, on_io, j) != 0) {
		job_free(j);
		finish_refusal(aio, status, code, msg, true);
		return;
	}
	j->srv = s;
	j->cbaio = aio;
	j->conn = conn;
	j->state = JOB_DRAIN;
	j->drain_left = len;
	j->refuse_status = status;
	j->refuse_code = code;
	j->refuse_msg = msg;
	iov.iov_buf = j->body;
	iov.iov_len = len < DRAIN_CHUNK ? (size_t)len : DRAIN_CHUNK;
	nng_aio_set_timeout(j->rdaio, BODY_TIMEOUT_MS);
	(void)nng_aio_set_iov(j->rdaio, 1, &iov);
	nng_http_conn_read(conn, j->rdaio);
}

/* nng's handler callback: never blocks. Copies what the handler needs and either starts
 * reading the body or queues the job. */
static void
on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *hh = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	hub_http *s = nng_http_handler_get_data(hh);
	const char *cl, *why;
	unsigned long long len = 0;
	job *j;

	if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL) {
		/* nng 1.5.2 does not decode chunked request bodies, so the body cannot be
		 * skipped either: the connection closes and a client still sending may see a
		 * reset instead of this answer */
		finish_refusal(aio, NNG_HTTP_STATUS_NOT_IMPLEMENTED, "not_implemented",
			       "Transfer-Encoding is not supported; send Content-Length", true);
		return;
	}
	if ((cl = nng_http_req_get_header(req, "Content-Length")) != NULL) {
		char *end = NULL;
		if (cl[0] < '0' || cl[0] > '9' ||
		    ((void)(len = strtoull(cl, &end, 10)), *end != '\0')) {
			finish_refusal(aio, NNG_HTTP_STATUS_BAD_REQUEST, "bad_request",
				       "Content-Length is not a number", true);
			return;
		}
		if (len > s->max_body) {
			refuse_draining(s, aio, req, conn, len, NNG_HTTP_STATUS_PAYLOAD_TOO_LARGE,
					"body_too_large", "request body is over the size cap");
			return;
		}
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "out of memory", true);
		return;
	}
	j->srv = s;
	j->cbaio = aio;
	j->conn = conn;
	if ((why = split_target(nng_http_req_get_uri(req), &j->path, &j->query)) != NULL) {
		job_free(j);
		refuse_draining(s, aio, req, conn, len, NNG_HTTP_STATUS_BAD_REQUEST, "bad_request",
				why);
		return;
	}
	if ((j->method = strdup(nng_http_req_get_method(req))) == NULL ||
	    !copy_header(req, "Content-Type", &j->content_type) ||
	    !copy_header(req, "Authorization", &j->authorization) ||
	    !copy_header(req, "Idempotency-Key", &j->idempotency_key) ||
	    !copy_header(req, "Signature", &j->signature) ||
	    !copy_header(req, "Signature-Input", &j->signature_input) ||
	    !copy_header(req, "Content-Digest", &j->content_digest) ||
	    !copy_header(req, "Date", &j->date) ||
	    (j->body = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
		job_free(j);
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "out of memory", true);
		return;
	}
	j->body_len = (size_t)len;
	if (len == 0) {
		dispatch(j);
		return;
	}
	if (nng_aio_alloc(&j->rdaio, on_io, j) != 0) {
		job_free(j);
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "out of memory", true);
		return;
	}
	nng_aio_set_timeout(j->rdaio, BODY_TIMEOUT_MS);
	const char *expect = nng_http_req_get_header(req, "Expect");
	nng_iov iov;
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
		/* nng does not answer Expect itself; without this, curl waits a second */
		j->state = JOB_CONTINUE;
		iov.iov_buf = (void *)continue_line;
		iov.iov_len = sizeof(continue_line) - 1;
	} else {
		j->state = JOB_BODY;
		iov.iov_buf = j->body;
		iov.iov_len = j->body_len;
	}
	if (nng_aio_set_iov(j->rdaio, 1, &iov) != 0) {
		job_free(j);
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "cannot read the body", true);
		return;
	}
	if (j->state == JOB_CONTINUE) {
		nng_http_conn_write_all(conn, j->rdaio);
	} else {
		nng_http_conn_read_all(conn, j->rdaio);
	}
}

/* Appends the handler's "Name: value\r\n" lines to the response head; nonzero when one
 * is malformed or memory runs out. */
static int
append_extra_headers(fedns_buf *out, const fedns_buf *h)
{
	const char *p = h->len > 0 ? (const char *)h->data : "";

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', n);

		if (n == 0 || n >= 1024 || colon == NULL || colon == p) {
			return NNG_EINVAL;
		}
		/* a bare LF or other control byte would let a value smuggle in a header */
		for (size_t i = 0; i < n; i++) {
			if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
				return NNG_EINVAL;
			}
		}
		fedns_buf_append(out, p, n);
		fedns_buf_puts(out, "\r\n");
		p += n;
		if (eol != NULL) {
			p += 2;
		}
	}
	return out->err != FEDNS_OK ? NNG_ENOMEM : 0;
}

/* Writes a whole answer (head and body) with one write on the connection. nng's own
 * response writer sends the head and the body as two TLS records; with Nagle on the
 * accepted socket (nng 1.5.2 clears TCP_NODELAY) the second waits for the client's
 * delayed ACK, about 40 ms per answer. One record avoids that. */
static int
write_whole(nng_http_conn *conn, const fedns_buf *msg)
{
	nng_aio *wa = NULL;
	nng_iov iov = {.iov_buf = msg->data, .iov_len = msg->len};
	int rv;

	if ((rv = nng_aio_alloc(&wa, NULL, NULL)) != 0) {
		return rv;
	}
	nng_aio_set_timeout(wa, BODY_TIMEOUT_MS);
	if ((rv = nng_aio_set_iov(wa, 1, &iov)) == 0) {
		nng_http_conn_write_all(conn, wa);
		nng_aio_wait(wa);
		rv = nng_aio_result(wa);
	}
	nng_aio_free(wa);
	return rv;
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void
run_job(hub_http *s, job *j)
{
	nng_aio *aio = j->cbaio;
	hub_req rq = {
		.method = j->method,
		.path = j->path,
		.query = j->query,
		.content_type = j->content_type,
		.authorization = j->authorization,
		.idempotency_key = j->idempotency_key,
		.signature = j->signature,
		.signature_input = j->signature_input,
		.content_digest = j->content_digest,
		.date = j->date,
		/* nng 1.5.2 exposes no peer address on an HTTP connection */
		.remote = "-",
		.body = j->body,
		.body_len = j->body_len,
	};
	hub_res rs = {.status = 0, .content_type = NULL};
	nng_http_conn *conn = j->conn;
	bool head = strcmp(j->method, "HEAD") == 0;
	fedns_buf msg;
	int rv;

	fedns_buf_init(&rs.body, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_init(&rs.headers, RES_HEADERS_MAX);
	s->fn(s->ctx, &rq, &rs);
	job_free(j);

	fedns_buf_init(&msg, FEDNS_BUF_DEFAULT_MAX);
	if (rs.status < 100 || rs.status > 599 || rs.body.err != 0 || rs.headers.err != 0) {
		fedns_buf_fini(&rs.body);
		fedns_buf_fini(&rs.headers);
		fedns_buf_fini(&msg);
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "the handler produced no valid response", false);
		return;
	}
	fedns_buf_printf(&msg,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n",
			 rs.status, reason_phrase(rs.status),
			 rs.content_type != NULL ? rs.content_type : "application/json",
			 rs.body.len);
	rv = append_extra_headers(&msg, &rs.headers);
	fedns_buf_puts(&msg, "\r\n");
	if (!head && rs.body.len > 0) {
		fedns_buf_append(&msg, rs.body.data, rs.body.len);
	}
	fedns_buf_fini(&rs.body);
	fedns_buf_fini(&rs.headers);
	if (rv != 0 || msg.err != FEDNS_OK) {
		fedns_buf_fini(&msg);
		finish_refusal(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
			       "cannot build the response", false);
		return;
	}
	rv = write_whole(conn, &msg);
	fedns_buf_fini(&msg);
	/* no response object: nng takes it that we answered and reads the next request;
	 * a failed write ends the connection */
	nng_aio_set_output(aio, 0, NULL);
	nng_aio_finish(aio, rv);
}

static void *
worker_main(void *arg)
{
	hub_http *s = arg;

	for (;;) {
		job *j;

		pthread_mutex_lock(&s->mtx);
		while (s->head == NULL && !s->stopping) {
			pthread_cond_wait(&s->cv, &s->mtx);
		}
		if ((j = s->head) == NULL) {
			/* stopping and drained */
			pthread_mutex_unlock(&s->mtx);
			return NULL;
		}
		s->head = j->next;
		if (s->head == NULL) {
			s->tail = NULL;
		}
		s->queued--;
		pthread_mutex_unlock(&s->mtx);
		run_job(s, j);
	}
}

static fedns_err
nng_error(fedns_diag *d, int rv, const char *what, const char *url)
{
	fedns_err e = rv == NNG_ENOMEM ? FEDNS_ENOMEM
		      : rv == NNG_EADDRINUSE || rv == NNG_EADDRINVAL || rv == NNG_EINVAL
			      ? FEDNS_EINVAL
		      : rv == NNG_EPERM	  ? FEDNS_EACCES
		      : rv == NNG_ECRYPTO ? FEDNS_EAUTH
					  : FEDNS_EIO;
	return fedns_diag_set(d, e, "%s %s: %s", url, what, nng_strerror(rv));
}

static fedns_err
setup_tls(hub_http *s, const hub_http_opts *o, fedns_diag *d)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	size_t cert_len = 0, key_len = 0, ca_len = 0;
	fedns_err err;
	int rv;

	if (o->cert_file == NULL || o->key_file == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "%s: TLS needs a certificate file and a key file",
				      o->listen_url);
	}
	if ((err = fedns_file_read(o->cert_file, PEM_MAX, &cert, &cert_len, d)) != 0 ||
	    (err = fedns_file_read(o->key_file, PEM_MAX, &key, &key_len, d)) != 0 ||
	    (o->client_ca_file != NULL &&
	     (err = fedns_file_read(o->client_ca_file, PEM_MAX, &ca, &ca_len, d)) != 0)) {
		goto out;
	}
	if ((rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER)) != 0) {
		err = nng_error(d, rv, "TLS configuration", o->listen_url);
		goto out;
	}
	/* the key text is never part of a message: only the file name is */
	if ((rv = nng_tls_config_own_cert(s->tls, cert, key, NULL)) != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL,
				     "certificate %s with key %s: not a usable pair (%s)",
				     o->cert_file, o->key_file, nng_strerror(rv));
		goto out;
	}
	if (ca != NULL) {
		if ((rv = nng_tls_config_ca_chain(s->tls, ca, NULL)) != 0) {
			err = fedns_diag_set(d, FEDNS_EINVAL, "client CA %s: %s", o->client_ca_file,
					     nng_strerror(rv));
			goto out;
		}
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_REQUIRED);
	} else {
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	if (rv == 0) {
		rv = nng_http_server_set_tls(s->server, s->tls);
	}
	if (rv != 0) {
		err = nng_error(d, rv, "TLS setup", o->listen_url);
		goto out;
	}
	err = FEDNS_OK;
out:
	if (key != NULL) {
		fedns_secure_zero(key, key_len);
	}
	free(key);
	free(cert);
	free(ca);
	return err;
}

/* Stops nng (which waits for every handler aio to be finished), then the workers. */
static void
teardown(hub_http *s)
{
	if (s->server != NULL) {
		if (s->started) {
			nng_http_server_stop(s->server);
		}
		nng_http_server_release(s->server);
	}
	pthread_mutex_lock(&s->mtx);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	for (unsigned i = 0; i < s->nworkers; i++) {
		pthread_join(s->workers[i], NULL);
	}
	/* nothing can be queued now: enqueue refuses once stopping is set, and nng finished
	 * every connection before server_stop returned */
	if (s->tls != NULL) {
		nng_tls_config_free(s->tls);
	}
	if (s->url != NULL) {
		nng_url_free(s->url);
	}
	free(s->workers);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

fedns_err
hub_http_start(const hub_http_opts *o, hub_handler_fn fn, void *ctx, hub_http **out, fedns_diag *d)
{
	hub_http *s;
	nng_http_handler *h = NULL;
	nng_sockaddr sa;
	unsigned nw;
	fedns_err err;
	int rv;

	if (out != NULL) {
		*out = NULL;
	}
	if (o == NULL || fn == NULL || out == NULL || o->listen_url == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL, "HTTP server: missing options");
	}
	nw = o->workers != 0 ? o->workers : DEFAULT_WORKERS;
	if (nw > MAX_WORKERS) {
		return fedns_diag_set(d, FEDNS_EINVAL, "HTTP server: %u workers is over the cap %u",
				      nw, MAX_WORKERS);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return fedns_diag_set(d, FEDNS_ENOMEM, "HTTP server: out of memory");
	}
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->fn = fn;
	s->ctx = ctx;
	s->max_body = o->max_body != 0 ? o->max_body : DEFAULT_MAX_BODY;
	s->queue_max = (size_t)nw * QUEUE_PER_WORKER;

	if ((rv = nng_url_parse(&s->url, o->listen_url)) != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "listen URL \"%s\": %s", o->listen_url,
				     nng_strerror(rv));
		goto fail;
	}
	if (strcmp(s->url->u_scheme, o->tls ? "https" : "http") != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "listen URL \"%s\": scheme must be %s",
				     o->listen_url, o->tls ? "https" : "http");
		goto fail;
	}
	if ((rv = nng_http_server_hold(&s->server, s->url)) != 0) {
		err = nng_error(d, rv, "HTTP server", o->listen_url);
		goto fail;
	}
	if (o->tls && (err = setup_tls(s, o, d)) != 0) {
		goto fail;
	}
	if ((rv = nng_http_handler_alloc(&h, "/", on_request)) != 0 ||
	    (rv = nng_http_handler_set_method(h, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(h)) != 0 ||
	    /* we read the body ourselves: nng would answer 400 (not 413) over its cap and
	     * leave the unread body on the connection to be parsed as the next request */
	    (rv = nng_http_handler_collect_body(h, false, 0)) != 0 ||
	    (rv = nng_http_handler_set_data(h, s, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(s->server, h)) != 0) {
		if (h != NULL) {
			nng_http_handler_free(h);
		}
		err = nng_error(d, rv, "HTTP handler", o->listen_url);
		goto fail;
	}
	/* the server owns the handler from here */

	if ((s->workers = calloc(nw, sizeof(*s->workers))) == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "HTTP server: out of memory");
		goto fail;
	}
	for (; s->nworkers < nw; s->nworkers++) {
		if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) != 0) {
			err = fedns_diag_set(d, FEDNS_ENOMEM,
					     "HTTP server: cannot start worker thread %u",
					     s->nworkers);
			goto fail;
		}
	}
	if ((rv = nng_http_server_start(s->server)) != 0) {
		err = nng_error(d, rv, "cannot listen on", o->listen_url);
		goto fail;
	}
	s->started = true;
	if ((rv = nng_http_server_get_addr(s->server, &sa)) != 0) {
		err = nng_error(d, rv, "bound address", o->listen_url);
		goto fail;
	}
	if (sa.s_family == NNG_AF_INET) {
		s->port = ntohs(sa.s_in.sa_port);
	} else if (sa.s_family == NNG_AF_INET6) {
		s->port = ntohs(sa.s_in6.sa_port);
	}
	*out = s;
	return FEDNS_OK;
fail:
	teardown(s);
	return err;
}

uint16_t
hub_http_port(const hub_http *h)
{
	return h != NULL ? h->port : 0;
}

void
hub_http_stop(hub_http *h)
{
	if (h != NULL) {
		teardown(h);
	}
}
