/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's HTTPS transport driven by libcurl over real TLS (and raw sockets over plain
 * HTTP for the parser): request fields reach the handler, percent-decoding, the body cap,
 * concurrency, overload, mTLS and clean stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hub/http.h"
#include "hub/http_internal.h"

static char pki[256]; /* temp dir with the test CA, server and client certificates */

static char *
pki_path(char *out, size_t n, const char *file)
{
	snprintf(out, n, "%s/%s", pki, file);
	return out;
}

/* --- the handler under test --------------------------------------------------------- */

typedef struct echo_ctx {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool gate_open; /* "/block" waits until this is set */
	unsigned blocked;
	unsigned calls;
	uint64_t slots_busy;   /* handler slots held right now, by bit */
	unsigned slot_clashes; /* a slot handed to two running handlers, or out of range */
	unsigned max_slot;
} echo_ctx;

static void
put_json_str(fedns_buf *b, const char *s, size_t n)
{
	if (s == NULL) {
		fedns_buf_puts(b, "null");
		return;
	}
	fedns_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fedns_buf_printf(b, "\\%c", c);
		} else if (c < 0x20 || c >= 0x7f) {
			fedns_buf_printf(b, "\\u%04x", c);
		} else {
			fedns_buf_putc(b, (char)c);
		}
	}
	fedns_buf_putc(b, '"');
}

static void
echo_body(echo_ctx *e, const hub_req *req, hub_res *res)
{
	pthread_mutex_lock(&e->mtx);
	e->calls++;
	if (strcmp(req->path, "/block") == 0) {
		e->blocked++;
		pthread_cond_broadcast(&e->cv);
		while (!e->gate_open) {
			pthread_cond_wait(&e->cv, &e->mtx);
		}
	}
	pthread_mutex_unlock(&e->mtx);
	if (strcmp(req->path, "/nostatus") == 0) {
		return; /* a handler bug: the transport must still answer */
	}
	if (strcmp(req->path, "/badheader") == 0) {
		res->status = 200;
		fedns_buf_puts(&res->headers, "X-Ok: 1\r\nX-Bad: a\nSet-Cookie: x=1\r\n");
		return;
	}
	if (strcmp(req->path, "/remote") == 0) {
		res->status = 200;
		res->content_type = "text/plain";
		fedns_buf_puts(&res->body, req->remote != NULL ? req->remote : "(null)");
		return;
	}
	if (strcmp(req->path, "/text") == 0) {
		res->status = 201;
		res->content_type = "text/dns";
		fedns_buf_puts(&res->body, "example.com. 300 IN A 192.0.2.1\n");
		return;
	}
	res->status = 200;
	fedns_buf_puts(&res->headers, "X-Echo: yes\r\nLocation: /somewhere\r\n");
	fedns_buf_puts(&res->body, "{\"method\":");
	put_json_str(&res->body, req->method, strlen(req->method));
	fedns_buf_puts(&res->body, ",\"path\":");
	put_json_str(&res->body, req->path, strlen(req->path));
	fedns_buf_puts(&res->body, ",\"query\":");
	put_json_str(&res->body, req->query, strlen(req->query));
	fedns_buf_puts(&res->body, ",\"ctype\":");
	put_json_str(&res->body, req->content_type,
		     req->content_type ? strlen(req->content_type) : 0);
	fedns_buf_puts(&res->body, ",\"idem\":");
	put_json_str(&res->body, req->idempotency_key,
		     req->idempotency_key ? strlen(req->idempotency_key) : 0);
	fedns_buf_puts(&res->body, ",\"auth\":");
	put_json_str(&res->body, req->authorization,
		     req->authorization ? strlen(req->authorization) : 0);
	fedns_buf_printf(&res->body, ",\"body_len\":%zu,\"body\":", req->body_len);
	put_json_str(&res->body, (const char *)req->body, req->body_len < 64 ? req->body_len : 64);
	fedns_buf_puts(&res->body, "}");
}

/* echo_body, checking that no two running handlers hold the same slot */
static void
echo_handler(void *arg, const hub_req *req, hub_res *res)
{
	echo_ctx *e = arg;
	uint64_t bit = req->slot < 64 ? (uint64_t)1 << req->slot : 0;

	pthread_mutex_lock(&e->mtx);
	if (bit == 0 || (e->slots_busy & bit) != 0) {
		e->slot_clashes++;
	}
	e->slots_busy |= bit;
	e->max_slot = req->slot > e->max_slot ? req->slot : e->max_slot;
	pthread_mutex_unlock(&e->mtx);
	usleep(500); /* let handlers overlap */
	echo_body(e, req, res);
	pthread_mutex_lock(&e->mtx);
	e->slots_busy &= ~bit;
	pthread_mutex_unlock(&e->mtx);
}

static echo_ctx *
echo_new(void)
{
	echo_ctx *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	pthread_mutex_init(&e->mtx, NULL);
	pthread_cond_init(&e->cv, NULL);
	return e;
}

static void
echo_free(echo_ctx *e)
{
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mtx);
	free(e);
}

/* --- a small libcurl client ---------------------------------------------------------- */

typedef struct resp {
	CURLcode rc;
	long status;
	fedns_buf body;
	fedns_buf headers;
} resp;

typedef struct call {
	const char *method;
	const char *target; /* path and query; sent raw as the request target */
	const char *body;
	size_t body_len;
	const char *const *headers; /* NULL-terminated */
	bool client_cert;
	bool plain_http;
	long timeout_ms;
} call;

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	fedns_buf_append(arg, p, sz * n);
	return sz * n;
}

static void
resp_fini(resp *r)
{
	fedns_buf_fini(&r->body);
	fedns_buf_fini(&r->headers);
}

/* One request on 'easy' (reused across calls so connections are kept alive). */
static void
perform(CURL *easy, uint16_t port, const call *c, resp *r)
{
	char url[128], ca[300], cert[300], key[300];
	struct curl_slist *hl = NULL;

	fedns_buf_init(&r->body, 0);
	fedns_buf_init(&r->headers, 0);
	r->status = 0;
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u/", c->plain_http ? "http" : "https",
		 (unsigned)port);
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_REQUEST_TARGET, c->target);
	curl_easy_setopt(easy, CURLOPT_CAINFO, pki_path(ca, sizeof(ca), "ca.pem"));
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms ? c->timeout_ms : 20000L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &r->headers);
	if (c->client_cert) {
		curl_easy_setopt(easy, CURLOPT_SSLCERT, pki_path(cert, sizeof(cert), "client.pem"));
		curl_easy_setopt(easy, CURLOPT_SSLKEY, pki_path(key, sizeof(key), "client.key"));
	}
	if (c->body != NULL) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	}
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, c->method);
	for (const char *const *h = c->headers; h != NULL && *h != NULL; h++) {
		hl = curl_slist_append(hl, *h);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
	r->rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
}

static void
request(uint16_t port, const call *c, resp *r)
{
	CURL *easy = curl_easy_init();
	assert_non_null(easy);
	perform(easy, port, c, r);
	curl_easy_cleanup(easy);
}

static void
assert_body(const resp *r, const char *want)
{
	if (r->body.len != strlen(want) || memcmp(r->body.data, want, r->body.len) != 0) {
		fail_msg("body\n  got:  %.*s\n  want: %s", (int)r->body.len,
			 r->body.data ? (const char *)r->body.data : "", want);
	}
}

static bool
has_header(const resp *r, const char *line)
{
	size_t n = strlen(line);

	for (size_t i = 0; r->headers.len >= n && i <= r->headers.len - n; i++) {
		if (strncasecmp((const char *)r->headers.data + i, line, n) == 0) {
			return true;
		}
	}
	return false;
}

static hub_http *
start(const char *url, bool mtls, size_t max_body, unsigned workers, echo_ctx *e)
{
	char cert[300], key[300], ca[300];
	hub_http_opts o = {
		.listen_url = url,
		.cert_file = pki_path(cert, sizeof(cert), "server.pem"),
		.key_file = pki_path(key, sizeof(key), "server.key"),
		.client_ca_file = mtls ? pki_path(ca, sizeof(ca), "ca.pem") : NULL,
		.tls = true,
		.max_body = max_body,
		.workers = workers,
	};
	fedns_diag d = {0};
	hub_http *h = NULL;
	fedns_err err = hub_http_start(&o, echo_handler, e, &h, &d);
	if (err != 0) {
		fail_msg("hub_http_start: %s", d.msg);
	}
	assert_non_null(h);
	assert_int_not_equal(hub_http_port(h), 0);
	return h;
}

/* A plain-HTTP server (tls=false, two workers) for tests of the parser with raw bytes. */
static hub_http *
start_plain(size_t max_body, echo_ctx *e)
{
	hub_http_opts o = {.listen_url = "http://127.0.0.1:0",
			   .tls = false,
			   .workers = 2,
			   .max_body = max_body};
	fedns_diag d = {0};
	hub_http *h = NULL;
	if (hub_http_start(&o, echo_handler, e, &h, &d) != FEDNS_OK) {
		fail_msg("hub_http_start: %s", d.msg);
	}
	return h;
}

/* --- tests ----------------------------------------------------------------------------- */

static void
test_methods_reach_handler(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 0, e);
	uint16_t port = hub_http_port(h);
	resp r;

	request(port, &(call){.method = "GET", .target = "/api/v1/zones/example.com.?limit=5"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_body(&r, "{\"method\":\"GET\",\"path\":\"/api/v1/zones/example.com.\","
			"\"query\":\"limit=5\",\"ctype\":null,\"idem\":null,\"auth\":null,"
			"\"body_len\":0,\"body\":\"\"}");
	assert_true(has_header(&r, "Content-Type: application/json\r\n"));
	assert_true(has_header(&r, "Cache-Control: no-store\r\n"));
	assert_true(has_header(&r, "X-Content-Type-Options: nosniff\r\n"));
	assert_true(has_header(&r, "X-Echo: yes\r\n"));
	assert_true(has_header(&r, "Location: /somewhere\r\n"));
	resp_fini(&r);

	static const char *const post_h[] = {"Content-Type: application/json",
					     "Idempotency-Key: k-123",
					     "Authorization: Bearer fedns_secret", NULL};
	request(port,
		&(call){.method = "POST",
			.target = "/api/v1/zones/example.com./changes",
			.body = "{\"a\":1}",
			.body_len = 7,
			.headers = post_h},
		&r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_body(&r,
		    "{\"method\":\"POST\",\"path\":\"/api/v1/zones/example.com./changes\","
		    "\"query\":\"\",\"ctype\":\"application/json\",\"idem\":\"k-123\","
		    "\"auth\":\"Bearer fedns_secret\",\"body_len\":7,\"body\":\"{\\\"a\\\":1}\"}");
	resp_fini(&r);

	request(port, &(call){.method = "DELETE", .target = "/api/v1/zones/x."}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_body(&r, "{\"method\":\"DELETE\",\"path\":\"/api/v1/zones/x.\",\"query\":\"\","
			"\"ctype\":null,\"idem\":null,\"auth\":null,\"body_len\":0,\"body\":\"\"}");
	resp_fini(&r);

	request(port, &(call){.method = "PUT", .target = "/text", .body = "", .body_len = 0}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 201);
	assert_true(has_header(&r, "Content-Type: text/dns\r\n"));
	assert_body(&r, "example.com. 300 IN A 192.0.2.1\n");
	resp_fini(&r);

	/* a handler that forgets the status still gets an answer, not a hung client */
	request(port, &(call){.method = "GET", .target = "/nostatus"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 500);
	assert_true(strstr((const char *)r.body.data, "\"internal\"") != NULL);
	resp_fini(&r);

	/* a header value with a bare LF is refused, not sent as two headers */
	request(port, &(call){.method = "GET", .target = "/badheader"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 500);
	assert_false(has_header(&r, "Set-Cookie"));
	resp_fini(&r);

	hub_http_stop(h);
	assert_int_equal(e->calls, 6);
	echo_free(e);
}

static void
test_percent_decoding(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 2, e);
	uint16_t port = hub_http_port(h);
	resp r;

	request(port, &(call){.method = "GET", .target = "/a%2Fb%20c%7e?x=%41&y=1"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_body(&r, "{\"method\":\"GET\",\"path\":\"/a/b c~\",\"query\":\"x=%41&y=1\","
			"\"ctype\":null,\"idem\":null,\"auth\":null,\"body_len\":0,\"body\":\"\"}");
	resp_fini(&r);

	static const char *const bad[] = {"/a%00b", "/a%zz", "/a%4", "/a%", "/a%0?x", "/%g0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		request(port, &(call){.method = "GET", .target = bad[i]}, &r);
		assert_int_equal(r.rc, CURLE_OK);
		if (r.status != 400) {
			fail_msg("%s: status %ld, want 400", bad[i], r.status);
		}
		assert_true(strstr((const char *)r.body.data, "\"bad_request\"") != NULL);
		resp_fini(&r);
	}
	/* a refused request's body is skipped, so the connection serves the next one */
	CURL *easy = curl_easy_init();
	long conns = -1;
	assert_non_null(easy);
	perform(easy, port,
		&(call){.method = "POST", .target = "/x%zz", .body = "hello", .body_len = 5}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 400);
	assert_true(strstr((const char *)r.body.data, "invalid percent-escape") != NULL);
	resp_fini(&r);
	perform(easy, port, &(call){.method = "GET", .target = "/ok"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0);
	resp_fini(&r);
	curl_easy_cleanup(easy);

	/* not origin-form: no resource here, 404 before the handler runs */
	request(port, &(call){.method = "GET", .target = "*"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 404);
	resp_fini(&r);
	/* refusals happen in the transport: the handler saw only the good requests */
	hub_http_stop(h);
	assert_int_equal(e->calls, 2);
	echo_free(e);
}

static void
test_body_cap(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 4096, 2, e);
	uint16_t port = hub_http_port(h);
	char *big = malloc(8192);
	resp r;

	assert_non_null(big);
	memset(big, 'x', 8192);
	/* exactly the cap: accepted, every byte delivered */
	request(port, &(call){.method = "POST", .target = "/b", .body = big, .body_len = 4096}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(strstr((const char *)r.body.data, "\"body_len\":4096,") != NULL);
	resp_fini(&r);

	/* one over: 413 from the transport after the body is read and discarded, so the
	 * kept-alive connection stays in step and serves the next request */
	CURL *easy = curl_easy_init();
	assert_non_null(easy);
	perform(easy, port,
		&(call){.method = "POST", .target = "/b", .body = big, .body_len = 4097}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_true(strstr((const char *)r.body.data, "\"body_too_large\"") != NULL);
	assert_false(has_header(&r, "Connection: close\r\n"));
	resp_fini(&r);
	long conns = -1;
	perform(easy, port, &(call){.method = "POST", .target = "/b", .body = big, .body_len = 5},
		&r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(strstr((const char *)r.body.data, "\"body\":\"xxxxx\"") != NULL);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0); /* reused, not reconnected */
	resp_fini(&r);
	curl_easy_cleanup(easy);

	/* over the cap while the client waits for 100 Continue: 413 and close at once,
	 * without reading anything */
	static const char *const expect_big_h[] = {"Expect: 100-continue", NULL};
	request(port,
		&(call){.method = "POST",
			.target = "/b",
			.body = big,
			.body_len = 8192,
			.headers = expect_big_h,
			.timeout_ms = 900},
		&r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_true(has_header(&r, "Connection: close\r\n"));
	resp_fini(&r);

	/* Expect: 100-continue is answered, so the body follows without curl's 1 s wait */
	static const char *const expect_h[] = {"Expect: 100-continue", NULL};
	request(port,
		&(call){.method = "POST",
			.target = "/b",
			.body = big,
			.body_len = 3000,
			.headers = expect_h,
			.timeout_ms = 900},
		&r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(strstr((const char *)r.body.data, "\"body_len\":3000,") != NULL);
	resp_fini(&r);

	/* chunked request bodies are not decoded: refused rather than misparsed */
	static const char *const chunked_h[] = {"Transfer-Encoding: chunked", NULL};
	request(port,
		&(call){.method = "POST",
			.target = "/b",
			.body = big,
			.body_len = 10,
			.headers = chunked_h},
		&r);
	/* the body cannot be skipped, so the connection closes; a reset may beat the 501 */
	if (r.rc == CURLE_OK) {
		assert_int_equal(r.status, 501);
	} else {
		assert_true(r.rc == CURLE_PARTIAL_FILE || r.rc == CURLE_RECV_ERROR ||
			    r.rc == CURLE_SEND_ERROR || r.rc == CURLE_GOT_NOTHING);
	}
	resp_fini(&r);

	free(big);
	hub_http_stop(h);
	assert_int_equal(e->calls, 3);
	echo_free(e);
}

typedef struct client_arg {
	uint16_t port;
	unsigned id;
	unsigned ok;
	const char *target; /* NULL: a distinct path per request */
	long status;	    /* for single-shot clients */
} client_arg;

static void *
client_main(void *p)
{
	client_arg *a = p;
	CURL *easy = curl_easy_init();
	char target[64], want[64];

	for (unsigned i = 0; easy != NULL && i < 25; i++) {
		resp r;
		snprintf(target, sizeof(target), "/c/%u/%u", a->id, i);
		snprintf(want, sizeof(want), "\"path\":\"/c/%u/%u\"", a->id, i);
		perform(easy, a->port, &(call){.method = "GET", .target = target}, &r);
		if (r.rc == CURLE_OK && r.status == 200 &&
		    strstr((const char *)r.body.data, want) != NULL) {
			a->ok++;
		}
		resp_fini(&r);
	}
	curl_easy_cleanup(easy);
	return NULL;
}

static void
test_concurrent_clients(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 4, e);
	pthread_t t[16];
	client_arg a[16];

	for (unsigned i = 0; i < 16; i++) {
		a[i] = (client_arg){.port = hub_http_port(h), .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, client_main, &a[i]), 0);
	}
	for (unsigned i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].ok, 25);
	}
	hub_http_stop(h);
	assert_int_equal(e->calls, 16 * 25);
	/* four slots, each held by one handler at a time, and all of them used */
	assert_int_equal(e->slot_clashes, 0);
	assert_int_equal(e->max_slot, 3);
	echo_free(e);
}

static void *
blocked_client(void *p)
{
	client_arg *a = p;
	resp r;

	request(a->port, &(call){.method = "GET", .target = "/block"}, &r);
	__atomic_store_n(&a->status, r.rc == CURLE_OK ? r.status : -1, __ATOMIC_RELEASE);
	resp_fini(&r);
	return NULL;
}

/* One worker held by a blocked handler and a queue of 32: the 34th request on gets 503
 * at once, and the others complete when the handler is released. */
static void
test_overload_503(void **state)
{
	(void)state;
	enum {
		N = 40,
		QUEUE = 32
	};
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 1, e);
	pthread_t t[N];
	client_arg a[N];
	unsigned n200 = 0, n503 = 0;

	a[0] = (client_arg){.port = hub_http_port(h)};
	assert_int_equal(pthread_create(&t[0], NULL, blocked_client, &a[0]), 0);
	pthread_mutex_lock(&e->mtx);
	while (e->blocked == 0) {
		pthread_cond_wait(&e->cv, &e->mtx);
	}
	pthread_mutex_unlock(&e->mtx);
	for (unsigned i = 1; i < N; i++) {
		a[i] = (client_arg){.port = hub_http_port(h)};
		assert_int_equal(pthread_create(&t[i], NULL, blocked_client, &a[i]), 0);
	}
	/* wait until every overflow request has been answered 503 */
	for (int spin = 0; spin < 2000; spin++) {
		unsigned done = 0;
		for (unsigned i = 1; i < N; i++) {
			done += __atomic_load_n(&a[i].status, __ATOMIC_ACQUIRE) == 503;
		}
		if (done == N - 1 - QUEUE) {
			break;
		}
		usleep(10000);
	}
	pthread_mutex_lock(&e->mtx);
	e->gate_open = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mtx);
	for (unsigned i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		n200 += a[i].status == 200;
		n503 += a[i].status == 503;
	}
	assert_int_equal(n200, 1 + QUEUE);
	assert_int_equal(n503, N - 1 - QUEUE);
	hub_http_stop(h);
	assert_int_equal(e->calls, 1 + QUEUE);
	assert_int_equal(e->slot_clashes, 0);
	assert_int_equal(e->max_slot, 0);
	echo_free(e);
}

static void
test_mtls(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", true, 0, 2, e);
	uint16_t port = hub_http_port(h);
	resp r;

	request(port, &(call){.method = "GET", .target = "/m", .timeout_ms = 5000}, &r);
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_not_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(r.status, 0);
	resp_fini(&r);

	request(port, &(call){.method = "GET", .target = "/m", .client_cert = true}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(strstr((const char *)r.body.data, "\"path\":\"/m\"") != NULL);
	resp_fini(&r);

	hub_http_stop(h);
	assert_int_equal(e->calls, 1);
	echo_free(e);
}

static void
test_plain_http_refused(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 2, e);
	uint16_t port = hub_http_port(h);
	resp r;

	request(port,
		&(call){.method = "GET", .target = "/p", .plain_http = true, .timeout_ms = 5000},
		&r);
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_not_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(r.status, 0);
	resp_fini(&r);

	/* the listener survives the garbage */
	request(port, &(call){.method = "GET", .target = "/p"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	resp_fini(&r);

	hub_http_stop(h);
	assert_int_equal(e->calls, 1);
	echo_free(e);
}

static void
test_stop_idle_and_after_traffic(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 3, e);
	hub_http_stop(h);

	h = start("https://127.0.0.1:0", false, 0, 3, e);
	uint16_t port = hub_http_port(h);
	/* a kept-alive connection is open when the server stops */
	CURL *easy = curl_easy_init();
	resp r;
	perform(easy, port, &(call){.method = "GET", .target = "/s"}, &r);
	assert_int_equal(r.status, 200);
	resp_fini(&r);
	hub_http_stop(h);
	perform(easy, port, &(call){.method = "GET", .target = "/s", .timeout_ms = 5000}, &r);
	assert_int_not_equal(r.rc, CURLE_OK);
	resp_fini(&r);
	curl_easy_cleanup(easy);

	hub_http_stop(NULL);
	assert_int_equal(e->calls, 1);
	echo_free(e);
}

typedef struct slow_upload {
	uint16_t port;
	int sent;    /* bytes handed to curl so far */
	int release; /* set by the test: the client may give up */
	CURLcode rc;
} slow_upload;

/* Sends 10 of the 100 announced bytes, then stalls until released. */
static size_t
slow_read(char *p, size_t sz, size_t n, void *arg)
{
	slow_upload *u = arg;

	(void)sz;
	(void)n;
	if (__atomic_load_n(&u->sent, __ATOMIC_ACQUIRE) == 0) {
		memset(p, 'y', 10);
		__atomic_store_n(&u->sent, 10, __ATOMIC_RELEASE);
		return 10;
	}
	while (!__atomic_load_n(&u->release, __ATOMIC_ACQUIRE)) {
		usleep(10000);
	}
	return CURL_READFUNC_ABORT;
}

static void *
slow_client(void *arg)
{
	slow_upload *u = arg;
	CURL *easy = curl_easy_init();
	char url[128], ca[300];

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/slow", (unsigned)u->port);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CAINFO, pki_path(ca, sizeof(ca), "ca.pem"));
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)100);
	curl_easy_setopt(easy, CURLOPT_READFUNCTION, slow_read);
	curl_easy_setopt(easy, CURLOPT_READDATA, u);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
	fedns_buf sink;
	fedns_buf_init(&sink, 0);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
	u->rc = curl_easy_perform(easy);
	fedns_buf_fini(&sink);
	curl_easy_cleanup(easy);
	return NULL;
}

/* Stopping while a body is half received aborts that read and returns promptly. */
static void
test_stop_during_body(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 2, e);
	slow_upload u = {.port = hub_http_port(h)};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, slow_client, &u), 0);
	while (__atomic_load_n(&u.sent, __ATOMIC_ACQUIRE) == 0) {
		usleep(10000);
	}
	usleep(200000); /* let the 10 bytes reach the server's body read */
	hub_http_stop(h);
	__atomic_store_n(&u.release, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_not_equal(u.rc, CURLE_OK);
	assert_int_equal(e->calls, 0);
	echo_free(e);
}

static void
test_bad_options(void **state)
{
	(void)state;
	char cert[300], key[300], ckey[300];
	fedns_diag d = {0};
	hub_http *h = (hub_http *)1;
	hub_http_opts o = {
		.listen_url = "http://127.0.0.1:0",
		.cert_file = pki_path(cert, sizeof(cert), "server.pem"),
		.key_file = pki_path(key, sizeof(key), "server.key"),
		.tls = true,
	};

	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
	assert_non_null(strstr(d.msg, "scheme must be https"));

	fedns_diag_clear(&d);
	o.listen_url = "https://127.0.0.1:0";
	o.key_file = "/nonexistent/server.key";
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_ENOENT);
	assert_non_null(strstr(d.msg, "/nonexistent/server.key"));

	/* a key file that is not a key; the message names files, not key text */
	fedns_diag_clear(&d);
	o.key_file = pki_path(ckey, sizeof(ckey), "ca.pem");
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
	assert_non_null(strstr(d.msg, "not a usable pair"));
	assert_non_null(strstr(d.msg, "ca.pem"));
	assert_null(strstr(d.msg, "BEGIN"));

	/* a valid key that is not the certificate's: every handshake would fail, so the
	 * start does */
	fedns_diag_clear(&d);
	o.key_file = pki_path(ckey, sizeof(ckey), "client.key");
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
	assert_non_null(strstr(d.msg, "not a usable pair"));
	assert_non_null(strstr(d.msg, "client.key"));
	assert_null(strstr(d.msg, "BEGIN"));

	/* plain http:// when TLS is on, and the other way round */
	fedns_diag_clear(&d);
	o.key_file = key;
	o.listen_url = "http://127.0.0.1:0";
	o.tls = false;
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_OK);
	assert_non_null(h);
	hub_http_stop(h);
	h = (hub_http *)1;
	o.listen_url = "https://127.0.0.1:0";
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
	assert_non_null(strstr(d.msg, "scheme must be http"));
	o.tls = true;

	fedns_diag_clear(&d);
	o.listen_url = "https://127.0.0.1:99999";
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
	assert_non_null(strstr(d.msg, "127.0.0.1:99999"));

	fedns_diag_clear(&d);
	o.key_file = key;
	o.listen_url = "https://127.0.0.1:0";
	o.workers = 100000;
	assert_int_equal(hub_http_start(&o, echo_handler, NULL, &h, &d), FEDNS_EINVAL);
	assert_null(h);
}

/* The handler sees the peer as "ip:port", for the API's logs. */
static void
test_remote_address(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 2, e);
	CURL *easy = curl_easy_init();
	long lport = 0;
	char want[64];
	resp r;

	assert_non_null(easy);
	perform(easy, hub_http_port(h), &(call){.method = "GET", .target = "/remote"}, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &lport);
	snprintf(want, sizeof(want), "127.0.0.1:%ld", lport);
	assert_body(&r, want);
	resp_fini(&r);
	curl_easy_cleanup(easy);
	hub_http_stop(h);
	echo_free(e);
}

/* Sends 'req' on a new plain-TCP connection and reads until the server closes (or 5 s
 * pass: then the result is NULL). With 'half_close' the client ends its side after
 * sending, so a kept-alive connection ends once everything is answered. Returns a
 * malloc'd NUL-terminated string. */
static char *
raw_exchange(uint16_t port, const char *req, size_t len, bool half_close)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	fedns_buf out;
	char buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			break; /* the server may refuse before reading everything */
		}
		off += (size_t)n;
	}
	if (half_close) {
		shutdown(fd, SHUT_WR);
	}
	fedns_buf_init(&out, 0);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0) {
			break;
		}
		if (n < 0) {
			close(fd);
			fedns_buf_fini(&out);
			return NULL; /* timed out: the server kept the connection */
		}
		fedns_buf_append(&out, buf, (size_t)n);
	}
	close(fd);
	fedns_buf_putc(&out, '\0');
	return (char *)fedns_buf_steal(&out, NULL);
}

static unsigned
count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
		n++;
	}
	return n;
}

static void
expect_answer(uint16_t port, const char *req, bool half_close, const char *const *want)
{
	char *got = raw_exchange(port, req, strlen(req), half_close);

	if (got == NULL) {
		fail_msg("%s: the server did not close the connection", req);
	}
	for (; *want != NULL; want++) {
		if (strstr(got, *want) == NULL) {
			fail_msg("request:\n%s\nanswer:\n%s\nmissing: %s", req, got, *want);
		}
	}
	free(got);
}

/* The request parser, over plain HTTP (tls=false) with raw bytes: pipelining, HTTP/1.0,
 * Connection: close, bare LF, and each refusal with its status and close. */
static void
test_plain_parser(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start_plain(0, e);
	uint16_t port = hub_http_port(h);
	char *got;

	/* two pipelined requests, the first with a body, on one connection */
	static const char two[] = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
				  "GET /g?q=1 HTTP/1.1\r\nHost: x\r\n\r\n";
	got = raw_exchange(port, two, sizeof(two) - 1, true);
	assert_non_null(got);
	assert_int_equal(count_of(got, "HTTP/1.1 200 OK\r\n"), 2);
	assert_non_null(strstr(got, "\"path\":\"/p\""));
	assert_non_null(strstr(got, "\"body_len\":5,\"body\":\"hello\""));
	assert_non_null(strstr(got, "\"path\":\"/g\",\"query\":\"q=1\""));
	assert_true(strstr(got, "\"path\":\"/p\"") < strstr(got, "\"path\":\"/g\""));
	assert_null(strstr(got, "Connection: close"));
	free(got);

	/* the server closes after HTTP/1.0 and after Connection: close, saying so */
	expect_answer(port, "GET /h HTTP/1.0\r\n\r\n", false,
		      (const char *const[]){"HTTP/1.1 200 OK\r\n", "Connection: close\r\n",
					    "\"path\":\"/h\"", NULL});
	expect_answer(port, "GET /c HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", false,
		      (const char *const[]){"HTTP/1.1 200 OK\r\n", "Connection: close\r\n", NULL});
	/* lines may end in a bare LF; empty lines before the request line are skipped */
	expect_answer(port, "\r\nGET /lf HTTP/1.1\nHost: x\n\n", true,
		      (const char *const[]){"HTTP/1.1 200 OK\r\n", "\"path\":\"/lf\"", NULL});

	/* refusals: each closes the connection */
	static const struct {
		const char *req;
		const char *status;
		const char *msg;
	} bad[] = {
		{"GARBAGE\r\n\r\n", "HTTP/1.1 400 ", "malformed request line"},
		{"GET /x HTTP/2.0\r\n\r\n", "HTTP/1.1 505 ", "only HTTP/1.1"},
		{"GET /x HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", "HTTP/1.1 400 ", "folding"},
		{"GET /x HTTP/1.1\r\nNo colon here\r\n\r\n", "HTTP/1.1 400 ", "malformed header"},
		{"GET /x HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "HTTP/1.1 400 ", "bare CR"},
		{"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		 "HTTP/1.1 400 ", "duplicate Content-Length header"},
		{"GET /x HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
		 "HTTP/1.1 400 ", "duplicate Authorization header"},
		{"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400 ",
		 "Content-Length is not a number"},
		{"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		 "HTTP/1.1 400 ", "Content-Length is not a number"},
		{"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		 "HTTP/1.1 501 ", "Transfer-Encoding is not supported"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_answer(port, bad[i].req, false,
			      (const char *const[]){bad[i].status, bad[i].msg,
						    "Connection: close\r\n", NULL});
	}

	/* a head over 16 KiB: 431, and the answer arrives although the client is still
	 * sending (the server drains before closing instead of resetting) */
	size_t big_len = 40000;
	char *big = malloc(big_len + 1);
	assert_non_null(big);
	memset(big, 'a', big_len);
	memcpy(big, "GET /x HTTP/1.1\r\nX-Big: ", 24);
	memcpy(big + big_len - 4, "\r\n\r\n", 4);
	big[big_len] = '\0';
	expect_answer(port, big, false,
		      (const char *const[]){"HTTP/1.1 431 ", "\"headers_too_large\"",
					    "Connection: close\r\n", NULL});
	free(big);

	hub_http_stop(h);
	/* /p, /g, /h, /c and /lf */
	assert_int_equal(e->calls, 5);
	echo_free(e);
}

/* Garbage heads (a fixed pseudo-random mix of request-like pieces and raw bytes): each
 * gets an HTTP answer or a close, never a crash (run under ASan), and the server still
 * serves a good request afterwards. */
static void
test_plain_garbage(void **state)
{
	(void)state;
	static const char *const piece[] = {
		"GET ",
		"POST ",
		"/",
		"/a%",
		"%41",
		"?",
		" HTTP/1.1",
		" HTTP/1.0",
		"\r\n",
		"\n",
		"\r",
		":",
		" ",
		"\t",
		"Content-Length: ",
		"9",
		"-",
		"Transfer-Encoding: x",
		"Expect: 100-continue",
		"Connection: close",
		"Host: h",
		"\x01",
		"\xff",
		"\0",
	};
	echo_ctx *e = echo_new();
	hub_http *h = start_plain(64, e);
	uint16_t port = hub_http_port(h);
	uint32_t rnd = 12345;
	char req[512];
	for (int i = 0; i < 300; i++) {
		/* a third start with a good request line, so header parsing is reached */
		size_t n =
			i % 3 == 0 ? (size_t)snprintf(req, sizeof(req), "POST /g HTTP/1.1\r\n") : 0;
		unsigned parts = 1 + (rnd >> 8) % 24;
		for (unsigned k = 0; k < parts; k++) {
			rnd = rnd * 1103515245u + 12345u;
			const char *pc = piece[(rnd >> 16) % (sizeof(piece) / sizeof(piece[0]))];
			size_t pl = pc[0] == '\0' ? 1 : strlen(pc);
			if (n + pl > sizeof(req) - 8) {
				break;
			}
			memcpy(req + n, pc, pl);
			n += pl;
		}
		if (i % 2 == 0) {
			memcpy(req + n, "\r\n\r\n", 4);
			n += 4;
		}
		char *got = raw_exchange(port, req, n, true);
		if (got != NULL && got[0] != '\0' && strncmp(got, "HTTP/1.1 ", 9) != 0) {
			fail_msg("garbage %d: answer does not start with a status line: %.60s", i,
				 got);
		}
		free(got);
	}
	expect_answer(port, "GET /after HTTP/1.1\r\n\r\n", true,
		      (const char *const[]){"HTTP/1.1 200 OK\r\n", "\"path\":\"/after\"", NULL});
	hub_http_stop(h);
	echo_free(e);
}

typedef struct stopper {
	hub_http *h;
	int done;
} stopper;

static void *
stop_main(void *arg)
{
	stopper *st = arg;

	hub_http_stop(st->h);
	__atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Stop waits for a running handler, whose answer still reaches the client. */
static void
test_stop_waits_for_handler(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start("https://127.0.0.1:0", false, 0, 2, e);
	client_arg a = {.port = hub_http_port(h)};
	stopper st = {.h = h};
	pthread_t tc, ts;

	assert_int_equal(pthread_create(&tc, NULL, blocked_client, &a), 0);
	pthread_mutex_lock(&e->mtx);
	while (e->blocked == 0) {
		pthread_cond_wait(&e->cv, &e->mtx);
	}
	pthread_mutex_unlock(&e->mtx);
	assert_int_equal(pthread_create(&ts, NULL, stop_main, &st), 0);
	usleep(300000);
	assert_int_equal(__atomic_load_n(&st.done, __ATOMIC_ACQUIRE), 0);
	pthread_mutex_lock(&e->mtx);
	e->gate_open = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mtx);
	pthread_join(ts, NULL);
	pthread_join(tc, NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(e->calls, 1);
	echo_free(e);
}

static int
setup(void **state)
{
	(void)state;
	char cmd[600];

	snprintf(pki, sizeof(pki), "%s/fedns-hub-http.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(pki) == NULL) {
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "bash '%s/integration/certs.sh' '%s' >/dev/null",
		 FEDNS_TEST_DATA, pki);
	if (system(cmd) != 0) {
		return -1;
	}
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];

	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
	return system(cmd) == 0 ? 0 : -1;
}

/* The head parser the fuzz target drives (hub_http_parse_request) gives each refusal the
 * status a connection answers with. */
static void
test_parse_request_statuses(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		int status;
	} cases[] = {
		{"GET /api/v1/zones?limit=5 HTTP/1.1\r\nHost: h\r\n\r\n", 0},
		{"\r\n\r\nGET / HTTP/1.0\nConnection: close\n\n", 0},
		{"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0},
		{"GET /x HTTP/1.1\r\nHost: h\r\n", -1},
		{"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		{"POST /x HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
		{"POST /x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413},
		{"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400},
		{"GET * HTTP/1.1\r\n\r\n", 404},
		{"GET /a%00b HTTP/1.1\r\n\r\n", 400},
		{"GET /a%zz HTTP/1.1\r\n\r\n", 400},
		{"GET / HTTP/2.0\r\n\r\n", 505},
		{"GET / FTP/1.0\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", 400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = hub_http_parse_request((const uint8_t *)cases[i].head,
						strlen(cases[i].head), 1 << 20);
		if (st != cases[i].status)
			fail_msg("case %zu: %d, want %d", i, st, cases[i].status);
	}
	static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	assert_int_equal(hub_http_parse_request((const uint8_t *)nul, sizeof(nul) - 1, 1 << 20),
			 400);
	/* a head that never ends within 16 KiB */
	size_t n = 20000;
	char *big = malloc(n);
	assert_non_null(big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', n - 19);
	assert_int_equal(hub_http_parse_request((const uint8_t *)big, n, 1 << 20), 431);
	free(big);
}

/* Fixes from the review of the new server: an error answer to HEAD has no body (a kept
 * connection would otherwise read it as the next answer), a NUL in the head is refused
 * (it cut a header value short), and an answer that closes the connection while pipelined
 * requests are unread still arrives whole. */
static void
test_review_fixes(void **state)
{
	(void)state;
	echo_ctx *e = echo_new();
	hub_http *h = start_plain(0, e);
	uint16_t port = hub_http_port(h);
	char *got;

	/* HEAD refused (bad escape) then GET on the same connection: exactly two answers,
	 * the first with its length and no body, the second the echo */
	static const char hd[] = "HEAD /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"
				 "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
	got = raw_exchange(port, hd, sizeof(hd) - 1, true);
	assert_non_null(got);
	assert_true(strncmp(got, "HTTP/1.1 400 ", 13) == 0);
	const char *second = strstr(got, "\r\n\r\n");
	assert_non_null(second);
	assert_true(strncmp(second + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(second, "\"path\":\"/next\""));
	assert_int_equal(count_of(got, "\"error\""), 0);
	free(got);

	/* a NUL inside a header value: 400 and close, the handler never called */
	unsigned calls = e->calls;
	static const char nul[] = "GET /n HTTP/1.1\r\nAuthorization: Bearer good\0evil\r\n\r\n";
	got = raw_exchange(port, nul, sizeof(nul) - 1, false);
	assert_non_null(got);
	assert_true(strncmp(got, "HTTP/1.1 400 ", 13) == 0);
	assert_non_null(strstr(got, "NUL byte in the request head"));
	free(got);
	assert_int_equal(e->calls, calls);

	/* Connection: close followed by 200 KB of pipelined requests: the answer arrives
	 * whole (no reset over it) and only the first request ran */
	size_t n = 200 * 1024, off;
	char *big = malloc(n + 64);
	assert_non_null(big);
	off = (size_t)snprintf(big, 64, "GET /close HTTP/1.1\r\nConnection: close\r\n\r\n");
	while (off + 32 < n)
		off += (size_t)snprintf(big + off, 64, "GET /more HTTP/1.1\r\nHost: y\r\n\r\n");
	calls = e->calls;
	got = raw_exchange(port, big, off, false);
	assert_non_null(got);
	assert_true(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(got, "\"path\":\"/close\""));
	assert_int_equal(count_of(got, "HTTP/1.1 "), 1);
	free(got);
	free(big);
	assert_int_equal(e->calls, calls + 1);

	hub_http_stop(h);
	echo_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods_reach_handler),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_concurrent_clients),
		cmocka_unit_test(test_overload_503),
		cmocka_unit_test(test_mtls),
		cmocka_unit_test(test_plain_http_refused),
		cmocka_unit_test(test_stop_idle_and_after_traffic),
		cmocka_unit_test(test_stop_during_body),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_parse_request_statuses),
		cmocka_unit_test(test_review_fixes),
		cmocka_unit_test(test_remote_address),
		cmocka_unit_test(test_plain_parser),
		cmocka_unit_test(test_plain_garbage),
		cmocka_unit_test(test_stop_waits_for_handler),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
