/* SPDX-License-Identifier: Apache-2.0 */
/* Load generator for bench/hub_commit: N threads, each with one keep-alive HTTPS connection,
 * loop propose -> approve against fedns-hub and time each pair until it is committed. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define RESP_MAX (1u << 20)
#define LAT_MAX (1u << 20)

typedef struct opts {
	int port;
	const char *ca;
	const char *editor;
	const char *approver;
	char **zones;
	int nzones;
	int clients;
	double seconds;
	double warmup;
	const char *tag;
	bool quickack;
} opts;

typedef struct conn {
	int fd;
	SSL *ssl;
	char *buf; /* response bytes read and not yet consumed */
	size_t len;
} conn;

typedef struct worker {
	pthread_t th;
	int id;
	const char *zone;
	uint64_t committed;
	uint64_t stale_propose;
	uint64_t stale_approve;
	uint64_t errors;
	uint64_t reconnects;
	double *lat; /* ms of each measured pair */
	size_t nlat;
	char lasterr[256];
} worker;

static opts g_opt;
static SSL_CTX *g_ctx;
static double g_start; /* measurement window: [g_start, g_end) */
static double g_end;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
conn_close(conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->len = 0;
}

static int
conn_open(conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_opt.port)};
	int one = 1;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		conn_close(c);
		return -1;
	}
	/* what curl does too: requests go out at once */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(g_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set1_host(c->ssl, "127.0.0.1") != 1 || SSL_connect(c->ssl) != 1) {
		conn_close(c);
		return -1;
	}
	c->len = 0;
	return 0;
}

/* Reads more bytes into c->buf; -1 on EOF or error. */
static int
fill(conn *c)
{
	if (c->len >= RESP_MAX) {
		return -1;
	}
	if (g_opt.quickack) {
		/* Linux drops quick-ACK mode again after a while; re-arm before each read so the
		 * hub's second TLS record (the body) is not held by Nagle for our delayed ACK */
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	int n = SSL_read(c->ssl, c->buf + c->len, (int)(RESP_MAX - c->len));
	if (n <= 0) {
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

/* One request on the keep-alive connection (reopened when needed). On success *status is
 * the HTTP status and the body is at c->buf, NUL-terminated, *blen bytes. */
static int
request(conn *c, const char *method, const char *path, const char *token, const char *body,
	int *status, size_t *blen)
{
	char head[1024];
	char *req = NULL;
	size_t bl = body != NULL ? strlen(body) : 0;
	int hl;

	if (c->ssl == NULL && conn_open(c) != 0) {
		return -1;
	}
	hl = snprintf(head, sizeof(head),
		      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
		      "%sContent-Length: %zu\r\n\r\n",
		      method, path, token, body != NULL ? "Content-Type: application/json\r\n" : "",
		      bl);
	if (hl < 0 || (size_t)hl >= sizeof(head) || (req = malloc((size_t)hl + bl)) == NULL) {
		free(req);
		return -1;
	}
	memcpy(req, head, (size_t)hl);
	if (bl > 0) {
		memcpy(req + hl, body, bl);
	}
	/* one write, so one TLS record and one segment */
	int w = SSL_write(c->ssl, req, (int)((size_t)hl + bl));
	free(req);
	if (w <= 0) {
		conn_close(c);
		return -1;
	}
	c->len = 0;
	char *end = NULL;
	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
		if (fill(c) != 0) {
			conn_close(c);
			return -1;
		}
	}
	size_t hdr = (size_t)(end - c->buf) + 4;
	long clen = -1;
	bool close_after = false;
	if (sscanf(c->buf, "HTTP/1.1 %d", status) != 1) {
		conn_close(c);
		return -1;
	}
	for (char *l = strstr(c->buf, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
		if (strncasecmp(l, "Content-Length:", 15) == 0) {
			clen = strtol(l + 15, NULL, 10);
		} else if (strncasecmp(l, "Connection:", 11) == 0 && strstr(l, "close") != NULL &&
			   strstr(l, "close") < strstr(l, "\r\n")) {
			close_after = true;
		}
	}
	if (clen < 0 || (size_t)clen > RESP_MAX - hdr - 1) {
		conn_close(c);
		return -1;
	}
	while (c->len < hdr + (size_t)clen) {
		if (fill(c) != 0) {
			conn_close(c);
			return -1;
		}
	}
	memmove(c->buf, c->buf + hdr, (size_t)clen);
	c->buf[clen] = '\0';
	*blen = (size_t)clen;
	c->len = 0;
	if (close_after) {
		conn_close(c);
		c->len = 0;
	}
	return 0;
}

static bool
json_int(const char *body, const char *key, int64_t *out)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(body, pat)) == NULL) {
		return false;
	}
	p += strlen(pat);
	while (*p == ' ') {
		p++;
	}
	char *e;
	errno = 0;
	long long v = strtoll(p, &e, 10);
	if (e == p || errno != 0) {
		return false;
	}
	*out = v;
	return true;
}

static void
note_error(worker *w, const char *what, int status, const char *body)
{
	w->errors++;
	snprintf(w->lasterr, sizeof(w->lasterr), "%s: %d %.160s", what, status,
		 body != NULL ? body : "(no answer)");
}

static void *
worker_main(void *arg)
{
	worker *w = arg;
	conn c = {.fd = -1};
	char path[512], body[1024];
	int64_t serial = -1;
	uint64_t n = 0;
	int status;
	size_t blen;

	c.buf = malloc(RESP_MAX);
	if (c.buf == NULL) {
		note_error(w, "malloc", 0, NULL);
		return NULL;
	}
	while (now() < g_end) {
		if (serial < 0) {
			snprintf(path, sizeof(path), "/api/v1/zones/%s", w->zone);
			if (request(&c, "GET", path, g_opt.editor, NULL, &status, &blen) != 0 ||
			    status != 200 || !json_int(c.buf, "serial", &serial)) {
				note_error(w, "zone read", status, c.buf);
				w->reconnects++;
				usleep(1000);
				serial = -1;
				continue;
			}
		}
		n++;
		double t0 = now();
		snprintf(path, sizeof(path), "/api/v1/zones/%s/changes", w->zone);
		snprintf(body, sizeof(body),
			 "{\"base_serial\":%" PRId64 ",\"reason\":\"bench\",\"edits\":[{\"op\":"
			 "\"add\",\"name\":\"%s-c%d-%" PRIu64 "\",\"type\":\"A\",\"ttl\":300,"
			 "\"rdata\":[\"192.0.2.%" PRIu64 "\"]}]}",
			 serial, g_opt.tag, w->id, n, n % 250 + 1);
		if (request(&c, "POST", path, g_opt.editor, body, &status, &blen) != 0) {
			note_error(w, "propose", 0, NULL);
			serial = -1;
			continue;
		}
		if (status == 409) {
			if (t0 >= g_start) {
				w->stale_propose++;
			}
			serial = -1;
			continue;
		}
		int64_t id;
		if (status != 201 || !json_int(c.buf, "id", &id)) {
			note_error(w, "propose", status, c.buf);
			serial = -1;
			continue;
		}
		snprintf(path, sizeof(path), "/api/v1/changes/%" PRId64 "/approve", id);
		if (request(&c, "POST", path, g_opt.approver, "{}", &status, &blen) != 0) {
			note_error(w, "approve", 0, NULL);
			serial = -1;
			continue;
		}
		if (status == 409) {
			if (t0 >= g_start) {
				w->stale_approve++;
			}
			serial = -1;
			continue;
		}
		if (status != 200 || strstr(c.buf, "\"committed\":true") == NULL ||
		    !json_int(c.buf, "serial", &serial)) {
			note_error(w, "approve", status, c.buf);
			serial = -1;
			continue;
		}
		double t1 = now();
		if (t0 >= g_start && t1 < g_end) {
			w->committed++;
			if (w->nlat < LAT_MAX) {
				w->lat[w->nlat++] = (t1 - t0) * 1000.0;
			}
		}
	}
	conn_close(&c);
	free(c.buf);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_hub_commit_load --port P --ca FILE --editor TOKEN --approver TOKEN\n"
		"           --zones Z1[,Z2...] --clients N [--seconds S] [--warmup S] [--tag T]\n"
		"           [--quickack]\n"
		"client i commits into zone i %% (number of zones); prints one 'result' line\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char *zones = NULL;

	g_opt.seconds = 10;
	g_opt.warmup = 1;
	g_opt.tag = "b";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--quickack") == 0) {
			g_opt.quickack = true;
			continue;
		}
		if (v == NULL) {
			usage();
		}
		i++;
		if (strcmp(a, "--port") == 0) {
			g_opt.port = atoi(v);
		} else if (strcmp(a, "--ca") == 0) {
			g_opt.ca = v;
		} else if (strcmp(a, "--editor") == 0) {
			g_opt.editor = v;
		} else if (strcmp(a, "--approver") == 0) {
			g_opt.approver = v;
		} else if (strcmp(a, "--zones") == 0) {
			zones = strdup(v);
		} else if (strcmp(a, "--clients") == 0) {
			g_opt.clients = atoi(v);
		} else if (strcmp(a, "--seconds") == 0) {
			g_opt.seconds = atof(v);
		} else if (strcmp(a, "--warmup") == 0) {
			g_opt.warmup = atof(v);
		} else if (strcmp(a, "--tag") == 0) {
			g_opt.tag = v;
		} else {
			usage();
		}
	}
	if (g_opt.port <= 0 || g_opt.ca == NULL || g_opt.editor == NULL || g_opt.approver == NULL ||
	    zones == NULL || g_opt.clients <= 0 || g_opt.clients > 1024 || g_opt.seconds <= 0) {
		usage();
	}
	g_opt.zones = calloc(strlen(zones) + 1, sizeof(char *));
	for (char *save = NULL, *z = strtok_r(zones, ",", &save); z != NULL;
	     z = strtok_r(NULL, ",", &save)) {
		g_opt.zones[g_opt.nzones++] = z;
	}
	g_ctx = SSL_CTX_new(TLS_client_method());
	if (g_ctx == NULL || SSL_CTX_load_verify_locations(g_ctx, g_opt.ca, NULL) != 1) {
		fprintf(stderr, "bench_hub_commit_load: cannot load CA %s\n", g_opt.ca);
		return 1;
	}
	SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, NULL);

	worker *ws = calloc((size_t)g_opt.clients, sizeof(*ws));
	double t = now();
	g_start = t + g_opt.warmup;
	g_end = g_start + g_opt.seconds;
	for (int i = 0; i < g_opt.clients; i++) {
		ws[i].id = i;
		ws[i].zone = g_opt.zones[i % g_opt.nzones];
		ws[i].lat = malloc(LAT_MAX * sizeof(double));
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	}
	while (now() < g_start) {
		usleep(1000);
	}
	double cpu0 = cpu_seconds();
	for (int i = 0; i < g_opt.clients; i++) {
		pthread_join(ws[i].th, NULL);
	}
	double cpu1 = cpu_seconds();

	uint64_t committed = 0, sp = 0, sa = 0, errs = 0;
	size_t nlat = 0;
	for (int i = 0; i < g_opt.clients; i++) {
		committed += ws[i].committed;
		sp += ws[i].stale_propose;
		sa += ws[i].stale_approve;
		errs += ws[i].errors;
		nlat += ws[i].nlat;
	}
	double *all = malloc((nlat + 1) * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < g_opt.clients; i++) {
		memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof(double));
		k += ws[i].nlat;
		if (ws[i].errors > 0) {
			fprintf(stderr, "client %d: %" PRIu64 " errors, last: %s\n", i,
				ws[i].errors, ws[i].lasterr);
		}
	}
	qsort(all, nlat, sizeof(double), cmp_double);
	double p50 = nlat > 0 ? all[(nlat - 1) / 2] : 0;
	double p99 = nlat > 0 ? all[(size_t)((double)(nlat - 1) * 0.99)] : 0;
	double mx = nlat > 0 ? all[nlat - 1] : 0;
	printf("result clients=%d zones=%d quickack=%d seconds=%.2f committed=%" PRIu64
	       " per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f stale_propose=%" PRIu64
	       " stale_approve=%" PRIu64 " errors=%" PRIu64 " client_cpu_s=%.2f\n",
	       g_opt.clients, g_opt.nzones, g_opt.quickack, g_opt.seconds, committed,
	       (double)committed / g_opt.seconds, p50, p99, mx, sp, sa, errs, cpu1 - cpu0);
	for (int i = 0; i < g_opt.clients; i++) {
		free(ws[i].lat);
	}
	free(all);
	free(ws);
	free(g_opt.zones);
	free(zones);
	SSL_CTX_free(g_ctx);
	return errs > committed / 10 + 10 ? 1 : 0;
}
