/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's operator HTTP endpoint driven over raw TCP sockets: the three paths and
 * their JSON/text bodies, ready and not-ready, 404/405, keep-alive, HEAD, listen syntax. */
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
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spoke/httpd.h"

typedef struct fake_spoke {
	bool ready;
	unsigned metrics_calls;
	unsigned ready_calls;
	bool flood; /* metrics callback overruns the cap */
} fake_spoke;

static void
fake_metrics(void *ctx, fedns_buf *out)
{
	fake_spoke *f = ctx;

	f->metrics_calls++;
	if (f->flood) {
		static char chunk[1 << 16];
		memset(chunk, 'x', sizeof(chunk));
		for (int i = 0; i < 1024 && out->err == FEDNS_OK; i++) {
			fedns_buf_append(out, chunk, sizeof(chunk));
		}
		return;
	}
	fedns_buf_printf(out, "# HELP fedns_spoke_up Always 1.\n# TYPE fedns_spoke_up gauge\n"
			      "fedns_spoke_up 1\n");
}

static bool
fake_ready(void *ctx, fedns_buf *json)
{
	fake_spoke *f = ctx;

	f->ready_calls++;
	fedns_buf_printf(json, "\"hub\":\"%s\",\"dns\":\"listening\"",
			 f->ready ? "connected" : "disconnected");
	return f->ready;
}

typedef struct answer {
	int status;
	char head[2048];
	char *body;
	size_t body_len;
} answer;

static int
dial(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
send_all(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = write(fd, s + off, n - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
}

/* Reads one response: head up to the blank line, then Content-Length bytes of body
 * (none for HEAD). Fails the test on a timeout of 5 s. */
static void
read_answer(int fd, bool head_only, answer *a)
{
	static char buf[1 << 16];
	size_t have = 0;
	char *end = NULL;
	const char *cl;
	size_t want = 0, hlen;

	memset(a, 0, sizeof(*a));
	while (end == NULL) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		assert_true(r > 0);
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	hlen = (size_t)(end - buf) + 4;
	assert_true(hlen < sizeof(a->head));
	memcpy(a->head, buf, hlen);
	a->head[hlen] = '\0';
	assert_int_equal(sscanf(a->head, "HTTP/1.1 %d ", &a->status), 1);
	cl = strstr(a->head, "\r\nContent-Length:");
	assert_non_null(cl);
	want = strtoul(cl + 17, NULL, 10);
	if (head_only) {
		assert_int_equal(have, hlen); /* no body bytes follow a HEAD answer */
		a->body_len = want;
		a->body = calloc(1, 1);
		return;
	}
	a->body = calloc(1, want + 1);
	assert_non_null(a->body);
	memcpy(a->body, buf + hlen, have - hlen < want ? have - hlen : want);
	a->body_len = have - hlen;
	while (a->body_len < want) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t r = read(fd, a->body + a->body_len, want - a->body_len);
		assert_true(r > 0);
		a->body_len += (size_t)r;
	}
	a->body[want] = '\0';
}

static void
get(uint16_t port, const char *method, const char *target, answer *a)
{
	char req[512];
	int fd = dial(port);

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		 method, target);
	send_all(fd, req);
	read_answer(fd, strcmp(method, "HEAD") == 0, a);
	close(fd);
}

static bool
has_header(const answer *a, const char *line)
{
	return strstr(a->head, line) != NULL;
}

static spoke_httpd *
start(fake_spoke *f, uint16_t *port)
{
	spoke_httpd_source src = {.ctx = f, .metrics = fake_metrics, .ready = fake_ready};
	spoke_httpd *h = NULL;
	fedns_diag d = {0};

	*port = 0;
	assert_int_equal(spoke_httpd_start("127.0.0.1:0", &src, &h, port, &d), FEDNS_OK);
	assert_non_null(h);
	assert_true(*port != 0);
	return h;
}

static void
test_healthz(void **state)
{
	(void)state;
	fake_spoke f = {.ready = false};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	answer a;

	/* alive even when not ready: the kubelet must not restart a spoke waiting for the hub */
	get(port, "GET", "/healthz", &a);
	assert_int_equal(a.status, 200);
	assert_true(has_header(&a, "\r\nContent-Type: application/json\r\n"));
	assert_string_equal(a.body, "{\"status\":\"ok\"}\n");
	assert_int_equal(f.ready_calls, 0);
	free(a.body);
	spoke_httpd_stop(h);
}

static void
test_readyz_states(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	answer a;

	get(port, "GET", "/readyz", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
			    "{\"status\":\"ready\",\"hub\":\"connected\",\"dns\":\"listening\"}\n");
	free(a.body);

	f.ready = false;
	get(port, "GET", "/readyz", &a);
	assert_int_equal(a.status, 503);
	assert_true(has_header(&a, "\r\nContent-Type: application/json\r\n"));
	assert_string_equal(
		a.body,
		"{\"status\":\"not_ready\",\"hub\":\"disconnected\",\"dns\":\"listening\"}\n");
	free(a.body);
	assert_int_equal(f.ready_calls, 2);
	spoke_httpd_stop(h);
}

static void
test_readyz_without_callback(void **state)
{
	(void)state;
	spoke_httpd_source src = {0};
	spoke_httpd *h = NULL;
	uint16_t port = 0;
	answer a;

	assert_int_equal(spoke_httpd_start("127.0.0.1:0", &src, &h, &port, NULL), FEDNS_OK);
	get(port, "GET", "/readyz", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.body, "{\"status\":\"not_ready\"}\n");
	free(a.body);
	get(port, "GET", "/metrics", &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.body_len, 0);
	free(a.body);
	spoke_httpd_stop(h);
}

static void
test_metrics(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	answer a;

	get(port, "GET", "/metrics", &a);
	assert_int_equal(a.status, 200);
	assert_true(
		has_header(&a, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_string_equal(a.body, "# HELP fedns_spoke_up Always 1.\n# TYPE fedns_spoke_up gauge\n"
				    "fedns_spoke_up 1\n");
	free(a.body);
	/* scrapers may add a query; the path still matches */
	get(port, "GET", "/metrics?name[]=x", &a);
	assert_int_equal(a.status, 200);
	free(a.body);
	assert_int_equal(f.metrics_calls, 2);

	f.flood = true;
	get(port, "GET", "/metrics", &a);
	assert_int_equal(a.status, 500);
	assert_string_equal(a.body, "# metrics exposition over the size cap\n");
	free(a.body);
	spoke_httpd_stop(h);
}

static void
test_not_found_and_method(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	answer a;

	const char *nope[] = {"/",	  "/healthzz",	   "/metrics/x",
			      "/readyz/", "/api/v1/zones", "/HEALTHZ"};
	for (size_t i = 0; i < sizeof(nope) / sizeof(nope[0]); i++) {
		get(port, "GET", nope[i], &a);
		assert_int_equal(a.status, 404);
		assert_string_equal(
			a.body, "{\"error\":\"not found; paths: /healthz /readyz /metrics\"}\n");
		free(a.body);
	}
	get(port, "POST", "/healthz", &a);
	assert_int_equal(a.status, 405);
	assert_true(has_header(&a, "\r\nAllow: GET, HEAD\r\n"));
	free(a.body);
	get(port, "DELETE", "/metrics", &a);
	assert_int_equal(a.status, 405);
	free(a.body);
	assert_int_equal(f.metrics_calls, 0);

	get(port, "HEAD", "/healthz", &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.body_len, strlen("{\"status\":\"ok\"}\n"));
	free(a.body);
	spoke_httpd_stop(h);
}

static void
test_keepalive(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	int fd = dial(port);
	answer a;

	/* three requests on one connection, the last two pipelined */
	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	read_answer(fd, false, &a);
	assert_int_equal(a.status, 200);
	free(a.body);
	send_all(fd,
		 "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	read_answer(fd, false, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "fedns_spoke_up 1\n"));
	free(a.body);
	read_answer(fd, false, &a);
	assert_int_equal(a.status, 404);
	free(a.body);
	close(fd);
	spoke_httpd_stop(h);
}

static void
test_stop_with_open_connection(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	spoke_httpd *h = start(&f, &port);
	int fd = dial(port);
	char c;

	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTT");
	spoke_httpd_stop(h);
	/* the server closed its side: the client reads the first answer or EOF, never hangs */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	while (read(fd, &c, 1) > 0) {
	}
	close(fd);
	/* the port is free again */
	uint16_t port2;
	h = start(&f, &port2);
	spoke_httpd_stop(h);
}

static void
test_listen_syntax(void **state)
{
	(void)state;
	spoke_httpd_source src = {0};
	const char *bad[] = {"",
			     "127.0.0.1",
			     "127.0.0.1:",
			     ":9153",
			     "127.0.0.1:99999",
			     "127.0.0.1:9x",
			     "http://127.0.0.1:9153",
			     "::1:9153",
			     "[::1:9153",
			     "127.0.0.1:9153/metrics",
			     "127.0.0.1:123456"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spoke_httpd *h = (spoke_httpd *)&src;
		fedns_diag d = {0};
		assert_int_equal(spoke_httpd_start(bad[i], &src, &h, NULL, &d), FEDNS_EINVAL);
		assert_null(h);
		assert_non_null(strstr(d.msg, "expected ADDR:PORT"));
	}
	fedns_diag d = {0};
	spoke_httpd *h = NULL;
	assert_int_equal(spoke_httpd_start(NULL, &src, &h, NULL, &d), FEDNS_EINVAL);
	spoke_httpd_stop(NULL);
}

static void
test_port_in_use(void **state)
{
	(void)state;
	fake_spoke f = {.ready = true};
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	char listen_on[64];
	spoke_httpd_source src = {.ctx = &f, .metrics = fake_metrics, .ready = fake_ready};
	spoke_httpd *h = NULL;
	fedns_diag d = {0};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	snprintf(listen_on, sizeof(listen_on), "127.0.0.1:%u", port);
	assert_true(spoke_httpd_start(listen_on, &src, &h, NULL, &d) < 0);
	assert_null(h);
	assert_non_null(strstr(d.msg, listen_on));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_readyz_states),
		cmocka_unit_test(test_readyz_without_callback),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_stop_with_open_connection),
		cmocka_unit_test(test_listen_syntax),
		cmocka_unit_test(test_port_in_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
