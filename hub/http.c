/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's HTTPS transport on POSIX sockets and mbedTLS: one thread per connection reads a
 * request, runs the handler itself (at most 'workers' at once) and writes the answer, so a
 * request costs a few context switches instead of a trip through an event loop and a pool. */
#include "hub/http.h"
#include "hub/http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "common/encode.h"
#include "common/file.h"
#include "common/sha2.h"

#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_WORKERS 8u
#define MAX_WORKERS 256u
/* Requests waiting for a handler slot; beyond this the hub is overloaded and says 503 at
 * once rather than letting latency grow without bound. */
#define QUEUE_PER_WORKER 32u
/* A client that starts a request (head or announced body) and then trickles it is cut off
 * this long after the request's first byte. */
#define BODY_TIMEOUT_MS 30000
/* Writing an answer to a client that does not read. */
#define WRITE_TIMEOUT_MS 30000
/* TLS 1.2 with forward secrecy and AEAD only (mbedTLS's defaults also offer CBC with SHA-1,
 * CCM-8 and Camellia); ECDSA and RSA server keys. Every client fedns supports has these. */
static const int ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};
/* Request body bytes all connections may hold at once (at least four of the largest). */
#define BODY_BUDGET ((size_t)64 << 20)
/* A kept-alive connection with no request in flight is closed after this. */
#define IDLE_TIMEOUT_MS 60000
#define HANDSHAKE_TIMEOUT_MS 10000
/* After stop, a write blocked on a client that does not read gets this much longer. */
#define STOP_WRITE_GRACE_MS 1000
/* After an answer that closes the connection, unread request bytes are read and dropped for
 * this long, so the close does not turn into a reset that destroys the answer. */
#define LINGER_MS 2000
#define LINGER_MAX ((size_t)1 << 20)
/* Connections served; up to CONN_OVERFLOW more are accepted only to be answered 503, and
 * beyond that a connection is closed at once. */
#define MAX_CONNS 1024u
#define CONN_OVERFLOW 64u
#define HEAD_MAX ((size_t)16 << 10)
#define RAW_MAX ((size_t)17 << 10)
#define PEM_MAX ((size_t)1 << 20)
#define RES_HEADERS_MAX ((size_t)16 << 10)
/* The body of a refused request (over the cap, bad target) is read and discarded before
 * the answer so the connection stays in step. Bodies larger than this are not worth
 * reading; they get the answer and a close at once. */
#define DRAIN_MAX ((uint64_t)64 << 20)
#define DRAIN_CHUNK ((size_t)16 << 10)

typedef struct conn conn;

struct hub_http {
	hub_handler_fn fn;
	void *ctx;
	size_t max_body;
	uint16_t port;
	bool tls;
	int lfd;
	int stop_rd; /* readable once stopping: every poll in the server watches it */
	int stop_wr;
	atomic_bool stopping;
	pthread_t acceptor;
	bool acceptor_started;

	/* TLS: configuration shared by every connection (read-only once built) */
	bool tls_ready;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt chain;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	pthread_mutex_t drbg_mtx;

	pthread_mutex_t mtx;
	pthread_cond_t conn_cv; /* a connection thread ended */
	pthread_cond_t slot_cv; /* a handler slot was released */
	conn *live;		/* connection threads running */
	conn *dead;		/* ended, not yet joined */
	unsigned nlive;
	unsigned workers; /* handlers that may run at once */
	unsigned running;
	unsigned *free_slots; /* stack of slot numbers not held, 'workers - running' of them */
	size_t waiting;
	size_t queue_max;
	/* request bodies held in memory by all connections together, and the cap on them:
	 * each connection may hold one of up to max_body, so without it 1,024 stalled
	 * uploads would hold 1 GiB (guarded by mtx) */
	size_t body_bytes, body_budget;
};

struct conn {
	conn *next;
	conn *prev;
	hub_http *srv;
	pthread_t thread;
	int fd;
	bool refuse;	   /* over the connection cap: answer 503 and close */
	bool ssl_ready;	   /* handshake done */
	bool linger;	   /* closing after an answer while request bytes may be unread */
	bool head_req;	   /* the request being answered is HEAD: no body in any answer */
	bool wfailed;	   /* a write failed or timed out: no close_notify either */
	int64_t wdeadline; /* monotonic ms: the answer being written must be out by then */
	int64_t deadline;  /* monotonic ms: reads fail after this */
	mbedtls_ssl_context ssl;
	char remote[64];
	/* socket bytes not yet consumed by mbedTLS (or by the parser without TLS) */
	size_t raw_off;
	size_t raw_len;
	uint8_t raw[RAW_MAX];
	/* plaintext: [0, in_off) belongs to the request in progress, [in_off, in_len) is
	 * read ahead (body bytes, a pipelined request) */
	size_t in_off;
	size_t in_len;
	char in[HEAD_MAX];
};

/* A parsed request head; the strings point into conn.in. */
typedef struct head {
	const char *method;
	const char *target;
	const char *content_type;
	const char *authorization;
	const char *idempotency_key;
	const char *signature;
	const char *signature_input;
	const char *content_digest;
	const char *date;
	const char *content_length;
	const char *expect;
	const char *transfer_encoding;
	bool close; /* Connection: close, or HTTP/1.0 */
	size_t len; /* bytes of the head, blank line included */
} head;

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
is_stopping(const hub_http *s)
{
	return atomic_load_explicit(&s->stopping, memory_order_acquire);
}

/* --- socket I/O -------------------------------------------------------------------------- */

/* Refills conn.raw from the socket, waiting until the read deadline or stop. Returns bytes
 * read, 0 at end of stream, or an mbedTLS error code. */
static int
fill_raw(conn *c)
{
	c->raw_off = 0;
	c->raw_len = 0;
	for (;;) {
		ssize_t r = recv(c->fd, c->raw, sizeof(c->raw), MSG_DONTWAIT);
		if (r >= 0) {
			c->raw_len = (size_t)r;
			return (int)r;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
		int64_t left = c->deadline - now_ms();
		if (left <= 0) {
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
				      {.fd = c->srv->stop_rd, .events = POLLIN}};
		int n = poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
		if (n > 0 && p[1].revents != 0) {
			/* stopping: a read in progress is abandoned */
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
	}
}

/* mbedTLS's receive callback (and the plain-text reader): blocking with the deadline. */
static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	conn *c = ctx;
	size_t n;

	if (c->raw_off == c->raw_len) {
		int r = fill_raw(c);
		if (r <= 0) {
			return r;
		}
	}
	n = c->raw_len - c->raw_off;
	if (n > len) {
		n = len;
	}
	memcpy(buf, c->raw + c->raw_off, n);
	c->raw_off += n;
	return (int)n;
}

/* mbedTLS's send callback: blocking, with a timeout for a client that does not read. */
static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	conn *c = ctx;
	int64_t deadline = 0;
	bool grace = false;

	if (len > INT_MAX) {
		len = INT_MAX;
	}
	for (;;) {
		ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r >= 0) {
			return (int)r;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return MBEDTLS_ERR_NET_SEND_FAILED;
		}
		int64_t now = now_ms();
		if (deadline == 0) {
			/* one deadline for the whole answer (conn_write), not per send: a client
			 * reading a little every few seconds cannot hold the thread for long */
			deadline = c->wdeadline != 0 ? c->wdeadline : now + WRITE_TIMEOUT_MS;
		}
		if (deadline - now <= 0) {
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLOUT},
				      {.fd = c->srv->stop_rd, .events = POLLIN}};
		int64_t left = deadline - now;
		int n = poll(p, grace ? 1 : 2, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			return MBEDTLS_ERR_NET_SEND_FAILED;
		}
		if (!grace && n > 0 && p[1].revents != 0 && p[0].revents == 0) {
			/* stopping: a client that does not read gets a short grace, not 30 s */
			grace = true;
			if (deadline - now > STOP_WRITE_GRACE_MS) {
				deadline = now + STOP_WRITE_GRACE_MS;
			}
		}
	}
}

/* Reads up to n plaintext bytes: >0 bytes, 0 end of stream, <0 error or timeout. */
static int
conn_read(conn *c, void *buf, size_t n)
{
	if (n > INT_MAX) {
		n = INT_MAX;
	}
	if (!c->srv->tls) {
		int r = bio_recv(c, buf, n);
		return r > 0 ? r : r == 0 ? 0 : -1;
	}
	for (int tries = 0; tries < 16; tries++) {
		int r = mbedtls_ssl_read(&c->ssl, buf, n);
		if (r > 0) {
			return r;
		}
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    r == MBEDTLS_ERR_SSL_CONN_EOF) {
			return 0;
		}
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
			return -1;
		}
	}
	return -1;
}

/* Writes all of buf within WRITE_TIMEOUT_MS; false when the connection failed. */
static bool
conn_write(conn *c, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	c->wdeadline = now_ms() + WRITE_TIMEOUT_MS;
	while (n > 0) {
		int r = c->srv->tls ? mbedtls_ssl_write(&c->ssl, p, n) : bio_send(c, p, n);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			continue;
		}
		if (r <= 0) {
			c->wfailed = true;
			c->wdeadline = 0;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	c->wdeadline = 0;
	return true;
}

/* --- answers ----------------------------------------------------------------------------- */

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
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
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Status";
	}
}

/* The head every answer starts with. */
static void
put_status_head(fedns_buf *msg, int status, const char *content_type, size_t body_len, bool close)
{
	fedns_buf_printf(msg,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n%s",
			 status, reason_phrase(status), content_type, body_len,
			 close ? "Connection: close\r\n" : "");
}

/* Answers from the transport itself (the handler never ran), in the API's error shape, as
 * one write. 'close' marks the connection to close after it. False when the write failed. */
static bool
answer_error(conn *c, int status, const char *code, const char *msg, bool close)
{
	char body[256], out[768];
	int n, m;

	n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", code,
		     msg);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		return false;
	}
	/* an answer to HEAD carries the length but never the body: bytes after the head
	 * would be read as the start of the next answer on the connection */
	m = snprintf(
		out, sizeof(out),
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\nContent-Length: %d\r\n%s\r\n%s",
		status, reason_phrase(status), n, close ? "Connection: close\r\n" : "",
		c->head_req ? "" : body);
	if (m < 0 || (size_t)m >= sizeof(out)) {
		return false;
	}
	if (close) {
		c->linger = true;
	}
	return conn_write(c, out, (size_t)m);
}

/* Appends the handler's "Name: value\r\n" lines to the response head; false when one is
 * malformed or memory runs out. */
static bool
append_extra_headers(fedns_buf *out, const fedns_buf *h)
{
	const char *p = h->len > 0 ? (const char *)h->data : "";
	const char *end = p + h->len;

	while (p < end && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', n);

		if (n == 0 || n >= 1024 || colon == NULL || colon == p) {
			return false;
		}
		/* a bare LF or other control byte would let a value smuggle in a header */
		for (size_t i = 0; i < n; i++) {
			if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
				return false;
			}
		}
		fedns_buf_append(out, p, n);
		fedns_buf_puts(out, "\r\n");
		p += n;
		if (eol != NULL) {
			p += 2;
		}
	}
	return out->err == FEDNS_OK;
}

/* --- request parsing --------------------------------------------------------------------- */

static bool
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool
is_token(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (!is_tchar((unsigned char)*s)) {
			return false;
		}
	}
	return true;
}

/* Index just past the blank line ending the head in buf[0, len), or 0 when not there yet.
 * Lines end in CRLF or a bare LF (RFC 9112 §2.2 lets a server accept LF). */
static size_t
find_head_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\n') {
			return (size_t)(p + 1 - buf);
		}
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			return (size_t)(p + 2 - buf);
		}
	}
	return 0;
}

/* Cuts the next line out of [*p, lim) in place (NUL-terminated, CRLF or LF removed); NULL
 * at the end or, with *bad set, for a bare CR inside the line. */
static char *
next_line(char **p, char *lim, bool *bad)
{
	char *s = *p, *e;

	if (s >= lim || (e = memchr(s, '\n', (size_t)(lim - s))) == NULL) {
		return NULL;
	}
	*p = e + 1;
	if (e > s && e[-1] == '\r') {
		e--;
	}
	*e = '\0';
	if (memchr(s, '\r', (size_t)(e - s)) != NULL) {
		*bad = true;
		return NULL;
	}
	return s;
}

/* Does the comma-separated list 'v' hold the token 'tok' (case-insensitive)? */
static bool
has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',') {
			v++;
		}
		const char *e = v;
		while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t') {
			e++;
		}
		if ((size_t)(e - v) == n && strncasecmp(v, tok, n) == 0) {
			return true;
		}
		v = e;
	}
	return false;
}

typedef struct header_slot {
	const char *name;
	size_t off; /* of the const char * in head */
	const char *dup_msg;
} header_slot;

/* The headers the transport or the handler reads; each may appear once (a second
 * Content-Length or Authorization is how requests get smuggled or confused). */
static const header_slot header_slots[] = {
	{"Content-Type", offsetof(head, content_type), "duplicate Content-Type header"},
	{"Authorization", offsetof(head, authorization), "duplicate Authorization header"},
	{"Idempotency-Key", offsetof(head, idempotency_key), "duplicate Idempotency-Key header"},
	{"Signature", offsetof(head, signature), "duplicate Signature header"},
	{"Signature-Input", offsetof(head, signature_input), "duplicate Signature-Input header"},
	{"Content-Digest", offsetof(head, content_digest), "duplicate Content-Digest header"},
	{"Date", offsetof(head, date), "duplicate Date header"},
	{"Content-Length", offsetof(head, content_length), "duplicate Content-Length header"},
	{"Expect", offsetof(head, expect), "duplicate Expect header"},
	{"Transfer-Encoding", offsetof(head, transfer_encoding),
	 "duplicate Transfer-Encoding header"},
};

/* Parses the head in c->in[0, len) in place. 0, or the status to refuse with and *why. */
static int
parse_head(conn *c, size_t len, head *h, const char **why)
{
	char *p = c->in, *lim = c->in + len, *line, *sp, *version;
	bool bad = false;

	memset(h, 0, sizeof(*h));
	h->len = len;
	if (memchr(c->in, '\0', len) != NULL) {
		/* a NUL would cut a header value short here but not in a proxy in front */
		*why = "NUL byte in the request head";
		return 400;
	}
	if ((line = next_line(&p, lim, &bad)) == NULL) {
		*why = "malformed request line";
		return 400;
	}
	if ((sp = strchr(line, ' ')) == NULL) {
		*why = "malformed request line";
		return 400;
	}
	*sp = '\0';
	h->method = line;
	h->target = sp + 1;
	if ((sp = strchr(sp + 1, ' ')) == NULL) {
		*why = "malformed request line";
		return 400;
	}
	*sp = '\0';
	version = sp + 1;
	if (!is_token(h->method) || h->target[0] == '\0' || strchr(version, ' ') != NULL) {
		*why = "malformed request line";
		return 400;
	}
	for (const char *t = h->target; *t != '\0'; t++) {
		if ((unsigned char)*t <= 0x20 || *t == 0x7f) {
			*why = "malformed request target";
			return 400;
		}
	}
	if (strcmp(version, "HTTP/1.0") == 0) {
		h->close = true;
	} else if (strcmp(version, "HTTP/1.1") != 0) {
		*why = strncmp(version, "HTTP/", 5) == 0 ? "only HTTP/1.1 and HTTP/1.0 are served"
							 : "malformed request line";
		return strncmp(version, "HTTP/", 5) == 0 ? 505 : 400;
	}
	while ((line = next_line(&p, lim, &bad)) != NULL && line[0] != '\0') {
		char *colon, *v, *e;

		if (line[0] == ' ' || line[0] == '\t') {
			*why = "obsolete header line folding";
			return 400;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			*why = "malformed header line";
			return 400;
		}
		*colon = '\0';
		if (!is_token(line)) {
			*why = "malformed header name";
			return 400;
		}
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
		}
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--) {
		}
		*e = '\0';
		for (const char *t = v; *t != '\0'; t++) {
			if (((unsigned char)*t < 0x20 && *t != '\t') || *t == 0x7f) {
				*why = "control character in a header value";
				return 400;
			}
		}
		if (strcasecmp(line, "Connection") == 0) {
			h->close = h->close || has_token(v, "close");
			continue;
		}
		for (size_t i = 0; i < sizeof(header_slots) / sizeof(header_slots[0]); i++) {
			if (strcasecmp(line, header_slots[i].name) == 0) {
				const char **slot =
					(const char **)(void *)((char *)h + header_slots[i].off);
				if (*slot != NULL) {
					*why = header_slots[i].dup_msg;
					return 400;
				}
				*slot = v;
				break;
			}
		}
	}
	if (bad) {
		*why = "bare CR in the request head";
		return 400;
	}
	return 0;
}

/* Splits the request target into a percent-decoded path and the raw query, in place (the
 * decoded path is never longer). Returns NULL, or why the target is refused: an invalid
 * escape or %00 (a NUL would silently truncate the path the router sees). */
static const char *
split_target(char *target, const char **path, const char **query)
{
	char *q = strchr(target, '?');
	size_t i, o = 0, plen;

	if (q != NULL) {
		*q = '\0';
		*query = q + 1;
	} else {
		*query = "";
	}
	plen = strlen(target);
	for (i = 0; i < plen; i++) {
		if (target[i] != '%') {
			target[o++] = target[i];
			continue;
		}
		int hi = plen - i > 2 ? fedns_hex_digit(target[i + 1]) : -1;
		int lo = plen - i > 2 ? fedns_hex_digit(target[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			return "invalid percent-escape in path";
		}
		if (hi == 0 && lo == 0) {
			return "%00 in path";
		}
		target[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	target[o] = '\0';
	*path = target;
	return NULL;
}

/* RFC 9112 §2.2: empty lines before a request line are ignored. */
static void
drop_blank_lines(conn *c)
{
	size_t lead = 0;

	while (lead < c->in_len && (c->in[lead] == '\r' || c->in[lead] == '\n')) {
		lead++;
	}
	if (lead > 0) {
		memmove(c->in, c->in + lead, c->in_len - lead);
		c->in_len -= lead;
		fedns_secure_zero(c->in + c->in_len, lead);
	}
}

/* Reads the next request head into c->in. 0 with *h filled; -1 when the connection ended
 * quietly (end of stream, idle timeout, stop, error); else a status to refuse with. */
static int
read_head(conn *c, head *h, const char **why)
{
	bool started;

	/* drop the previous request; keep what was read ahead, and wipe what the move left
	 * behind (an earlier request's Authorization header is a secret) */
	if (c->in_off > 0) {
		size_t old = c->in_len;
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
		fedns_secure_zero(c->in + c->in_len, old - c->in_len);
	}
	started = c->in_len > 0;
	c->deadline = now_ms() + (started ? BODY_TIMEOUT_MS : IDLE_TIMEOUT_MS);
	for (;;) {
		size_t end;
		int n;

		drop_blank_lines(c);
		if ((end = find_head_end(c->in, c->in_len)) > 0) {
			c->in_off = end;
			return parse_head(c, end, h, why);
		}
		if (c->in_len >= sizeof(c->in)) {
			*why = "request head is over 16 KiB";
			return 431;
		}
		if ((n = conn_read(c, c->in + c->in_len, sizeof(c->in) - c->in_len)) <= 0) {
			return -1;
		}
		if (!started) {
			started = true;
			c->deadline = now_ms() + BODY_TIMEOUT_MS;
		}
		c->in_len += (size_t)n;
	}
}

/* Takes 'len' body bytes: first those read ahead, then from the connection. */
static bool
read_body(conn *c, uint8_t *out, size_t len)
{
	size_t have = c->in_len - c->in_off, got;

	got = have < len ? have : len;
	if (out != NULL) {
		memcpy(out, c->in + c->in_off, got);
	}
	c->in_off += got;
	if (got == len) {
		return true;
	}
	c->deadline = now_ms() + BODY_TIMEOUT_MS;
	if (out != NULL) {
		while (got < len) {
			int n = conn_read(c, out + got, len - got);
			if (n <= 0) {
				return false;
			}
			got += (size_t)n;
		}
		return true;
	}
	uint8_t *scratch = malloc(DRAIN_CHUNK);
	bool ok = scratch != NULL;
	while (ok && got < len) {
		size_t want = len - got < DRAIN_CHUNK ? len - got : DRAIN_CHUNK;
		int n = conn_read(c, scratch, want);
		ok = n > 0;
		got += n > 0 ? (size_t)n : 0;
	}
	free(scratch);
	return ok;
}

static bool
expects_continue(const head *h)
{
	return h->expect != NULL && strcasecmp(h->expect, "100-continue") == 0;
}

/* Refuses a request whose body of 'len' bytes has not been read: at once (closing when
 * len > 0) if the client waits for 100 Continue (it has sent nothing) or the body is huge,
 * else after discarding the body, keeping the connection. Returns whether to keep it. */
static bool
refuse_draining(conn *c, const head *h, uint64_t len, int status, const char *code, const char *msg)
{
	bool keep = !h->close;

	if (len > 0 && (expects_continue(h) || len > DRAIN_MAX)) {
		answer_error(c, status, code, msg, true);
		return false;
	}
	if (len > 0 && !read_body(c, NULL, (size_t)len)) {
		return false;
	}
	return answer_error(c, status, code, msg, !keep) && keep;
}

/* Takes len bytes of the server's body budget; false when it would be exceeded. */
static bool
body_reserve(hub_http *s, size_t len)
{
	bool ok;
	pthread_mutex_lock(&s->mtx);
	ok = len <= s->body_budget - s->body_bytes;
	if (ok) {
		s->body_bytes += len;
	}
	pthread_mutex_unlock(&s->mtx);
	return ok;
}

static void
body_release(hub_http *s, size_t len)
{
	pthread_mutex_lock(&s->mtx);
	s->body_bytes -= len;
	pthread_mutex_unlock(&s->mtx);
}

/* A handler slot: at most 'workers' handlers run at once and queue_max requests wait;
 * false when the queue is full. *slot is the slot's number. */
static bool
slot_take(hub_http *s, unsigned *slot)
{
	pthread_mutex_lock(&s->mtx);
	if (s->running >= s->workers || s->waiting > 0) {
		if (s->waiting >= s->queue_max) {
			pthread_mutex_unlock(&s->mtx);
			return false;
		}
		s->waiting++;
		while (s->running >= s->workers && !is_stopping(s)) {
			pthread_cond_wait(&s->slot_cv, &s->mtx);
		}
		s->waiting--;
		if (s->running >= s->workers) {
			/* stopping: a queued request is not started any more (503) */
			pthread_mutex_unlock(&s->mtx);
			return false;
		}
	}
	*slot = s->free_slots[s->workers - s->running - 1];
	s->running++;
	pthread_mutex_unlock(&s->mtx);
	return true;
}

static void
slot_release(hub_http *s, unsigned slot)
{
	pthread_mutex_lock(&s->mtx);
	s->running--;
	s->free_slots[s->workers - s->running - 1] = slot;
	if (s->waiting > 0) {
		pthread_cond_signal(&s->slot_cv);
	}
	pthread_mutex_unlock(&s->mtx);
}

/* Runs the handler on a whole request and writes its answer as one write (head and body
 * in one TLS record where it fits: a second small write would wait for the client's
 * delayed ACK). Returns whether the connection is still good. */
static bool
run_handler(conn *c, const head *h, const char *path, const char *query, const uint8_t *body,
	    size_t body_len, bool keep, unsigned slot)
{
	hub_http *s = c->srv;
	hub_req rq = {
		.method = h->method,
		.path = path,
		.query = query,
		.content_type = h->content_type,
		.authorization = h->authorization,
		.idempotency_key = h->idempotency_key,
		.signature = h->signature,
		.signature_input = h->signature_input,
		.content_digest = h->content_digest,
		.date = h->date,
		.remote = c->remote,
		.body = body,
		.body_len = body_len,
		.slot = slot,
	};
	hub_res rs = {.status = 0, .content_type = NULL};
	bool head_only = strcmp(h->method, "HEAD") == 0, ok;
	fedns_buf msg;

	fedns_buf_init(&rs.body, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_init(&rs.headers, RES_HEADERS_MAX);
	s->fn(s->ctx, &rq, &rs);
	slot_release(s, slot);

	/* 1xx, 204 and 304 would need other framing than Content-Length and a body */
	if (rs.status < 200 || rs.status > 599 || rs.status == 204 || rs.status == 304 ||
	    rs.body.err != 0 || rs.headers.err != 0) {
		fedns_buf_fini(&rs.body);
		fedns_buf_fini(&rs.headers);
		return answer_error(c, 500, "internal", "the handler produced no valid response",
				    !keep) &&
		       keep;
	}
	fedns_buf_init(&msg, FEDNS_BUF_DEFAULT_MAX);
	put_status_head(&msg, rs.status,
			rs.content_type != NULL ? rs.content_type : "application/json", rs.body.len,
			!keep);
	ok = append_extra_headers(&msg, &rs.headers);
	fedns_buf_puts(&msg, "\r\n");
	if (!head_only && rs.body.len > 0) {
		fedns_buf_append(&msg, rs.body.data, rs.body.len);
	}
	fedns_buf_fini(&rs.body);
	fedns_buf_fini(&rs.headers);
	if (!ok || msg.err != FEDNS_OK) {
		fedns_buf_fini(&msg);
		return answer_error(c, 500, "internal", "cannot build the response", !keep) && keep;
	}
	if (!keep) {
		c->linger = true; /* pipelined bytes may follow: no reset over the answer */
	}
	ok = conn_write(c, msg.data, msg.len);
	fedns_secure_zero(msg.data, msg.len); /* an answer may carry a new token */
	fedns_buf_fini(&msg);
	return ok && keep;
}

/* A Content-Length value: decimal digits only, no sign, no overflow. */
static bool
parse_length(const char *v, uint64_t *out)
{
	uint64_t len = 0;

	if (*v == '\0') {
		return false;
	}
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || len > (UINT64_MAX - 9) / 10) {
			return false;
		}
		len = len * 10 + (uint64_t)(*v - '0');
	}
	*out = len;
	return true;
}

/* What the server does with a parsed head before reading its body: serve it (status 0,
 * with the body's length, path and query), or refuse it with status, code and message,
 * after discarding the body ('drain') or closing the connection. */
typedef struct verdict {
	int status;
	const char *code, *msg;
	bool drain;
	uint64_t len;
	const char *path, *query;
} verdict;

static void
check_request(head *h, size_t max_body, verdict *v)
{
	const char *why;

	memset(v, 0, sizeof(*v));
	if (h->transfer_encoding != NULL) {
		/* chunked bodies are not decoded, so the body cannot be skipped either */
		v->status = 501;
		v->code = "not_implemented";
		v->msg = "Transfer-Encoding is not supported; send Content-Length";
	} else if (h->content_length != NULL && !parse_length(h->content_length, &v->len)) {
		v->status = 400;
		v->code = "bad_request";
		v->msg = "Content-Length is not a number";
	} else if (v->len > max_body) {
		v->status = 413;
		v->code = "body_too_large";
		v->msg = "request body is over the size cap";
		v->drain = true;
	} else if (h->target[0] != '/') {
		/* asterisk- and absolute-form name no resource here */
		v->status = 404;
		v->code = "not_found";
		v->msg = "request target must be a path starting with '/'";
		v->drain = true;
	} else if ((why = split_target((char *)h->target, &v->path, &v->query)) != NULL) {
		v->status = 400;
		v->code = "bad_request";
		v->msg = why;
		v->drain = true;
	}
}

int
hub_http_parse_request(const uint8_t *data, size_t len, size_t max_body)
{
	conn *c = calloc(1, sizeof(*c));
	head h;
	verdict v;
	const char *why = NULL;
	size_t end;
	int st;

	if (c == NULL) {
		return 500;
	}
	/* what read_head holds: at most 16 KiB, blank lines before the request dropped */
	c->in_len = len < sizeof(c->in) ? len : sizeof(c->in);
	memcpy(c->in, data, c->in_len);
	drop_blank_lines(c);
	if ((end = find_head_end(c->in, c->in_len)) == 0) {
		st = c->in_len >= sizeof(c->in) ? 431 : -1;
	} else if ((st = parse_head(c, end, &h, &why)) == 0) {
		check_request(&h, max_body, &v);
		st = v.status;
	}
	free(c);
	return st;
}

/* One request whose head is in *h. Returns whether to read another on this connection. */
static bool
serve_request(conn *c, head *h)
{
	hub_http *s = c->srv;
	uint8_t *body;
	unsigned slot;
	bool keep = !h->close, ok;
	verdict v;

	if (c->refuse) {
		answer_error(c, 503, "overloaded", "too many connections; retry later", true);
		return false;
	}
	check_request(h, s->max_body, &v);
	if (v.status != 0 && v.drain) {
		return refuse_draining(c, h, v.len, v.status, v.code, v.msg);
	}
	if (v.status != 0) {
		/* a body that cannot be framed cannot be skipped: the connection closes */
		answer_error(c, v.status, v.code, v.msg, true);
		return false;
	}
	uint64_t len = v.len;
	const char *path = v.path, *query = v.query;
	if (!body_reserve(s, (size_t)len)) {
		/* the body stays unread: the connection closes after the answer */
		answer_error(c, 503, "overloaded", "the hub is busy; retry later", true);
		return false;
	}
	if ((body = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
		body_release(s, (size_t)len);
		answer_error(c, 500, "internal", "out of memory", true);
		return false;
	}
	if (len > c->in_len - c->in_off && expects_continue(h) &&
	    !conn_write(c, continue_line, sizeof(continue_line) - 1)) {
		ok = false;
	} else if (!read_body(c, body, (size_t)len)) {
		ok = false; /* the peer went away, timed out or the server is stopping */
	} else if (!slot_take(s, &slot)) {
		ok = answer_error(c, 503, "overloaded", "the hub is busy; retry later", !keep) &&
		     keep;
	} else {
		ok = run_handler(c, h, path, query, body, (size_t)len, keep, slot);
	}
	fedns_secure_zero(body, (size_t)len); /* bodies carry secrets (a new key, a token) */
	free(body);
	body_release(s, (size_t)len);
	return ok;
}

/* Closes the connection politely: close_notify, then, when request bytes may be unread,
 * a half-close and a short drain so the kernel does not answer them with a reset. */
static void
conn_close(conn *c)
{
	if (c->ssl_ready && !c->wfailed) {
		/* bounded like any answer; skipped when writing already failed */
		c->wdeadline = now_ms() + STOP_WRITE_GRACE_MS;
		(void)mbedtls_ssl_close_notify(&c->ssl);
	}
	if (c->linger && shutdown(c->fd, SHUT_WR) == 0) {
		size_t dropped = 0;
		c->deadline = now_ms() + LINGER_MS;
		c->raw_off = c->raw_len;
		while (dropped < LINGER_MAX) {
			int n = fill_raw(c);
			if (n <= 0) {
				break;
			}
			dropped += (size_t)n;
		}
	}
	close(c->fd);
	c->fd = -1;
}

static void
serve_conn(conn *c)
{
	hub_http *s = c->srv;

	if (s->tls) {
		int r;
		c->deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
		while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
			if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
				return;
			}
		}
		c->ssl_ready = true;
	}
	while (!is_stopping(s)) {
		const char *why = NULL;
		head h;
		int st = read_head(c, &h, &why);
		bool more;

		if (st < 0) {
			return;
		}
		if (st > 0) {
			answer_error(c, st, st == 431 ? "headers_too_large" : "bad_request", why,
				     true);
			return;
		}
		c->head_req = strcmp(h.method, "HEAD") == 0;
		more = serve_request(c, &h);
		c->head_req = false;
		if (h.authorization != NULL) {
			/* the bearer token is a secret: not left in memory longer than needed */
			fedns_secure_zero(c->in, h.len);
		}
		if (!more) {
			return;
		}
	}
}

static void *
conn_main(void *arg)
{
	conn *c = arg;
	hub_http *s = c->srv;

	serve_conn(c);
	conn_close(c);
	if (s->tls) {
		mbedtls_ssl_free(&c->ssl);
	}
	fedns_secure_zero(c->in, sizeof(c->in));
	fedns_secure_zero(c->raw, sizeof(c->raw)); /* plaintext without TLS */
	pthread_mutex_lock(&s->mtx);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		s->live = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	c->prev = NULL;
	c->next = s->dead;
	s->dead = c;
	s->nlive--;
	pthread_cond_broadcast(&s->conn_cv);
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* Joins the connection threads that have ended. */
static void
reap(hub_http *s)
{
	conn *d;

	pthread_mutex_lock(&s->mtx);
	d = s->dead;
	s->dead = NULL;
	pthread_mutex_unlock(&s->mtx);
	while (d != NULL) {
		conn *next = d->next;
		pthread_join(d->thread, NULL);
		free(d);
		d = next;
	}
}

static void
format_remote(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
	} else {
		snprintf(out, n, "-");
	}
}

/* Starts a thread for an accepted socket (or closes it when far over the cap). */
static void
start_conn(hub_http *s, int fd, const struct sockaddr_storage *ss)
{
	int one = 1;
	conn *c;

	/* answers are single writes: nothing to coalesce, and Nagle would hold a second
	 * small write for the client's delayed ACK */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	format_remote(ss, c->remote, sizeof(c->remote));
	if (s->tls) {
		mbedtls_ssl_init(&c->ssl);
		if (mbedtls_ssl_setup(&c->ssl, &s->conf) != 0) {
			mbedtls_ssl_free(&c->ssl);
			free(c);
			close(fd);
			return;
		}
		mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	}
	pthread_mutex_lock(&s->mtx);
	if (s->nlive >= MAX_CONNS + CONN_OVERFLOW) {
		pthread_mutex_unlock(&s->mtx);
		goto drop;
	}
	c->refuse = s->nlive >= MAX_CONNS;
	c->next = s->live;
	if (s->live != NULL) {
		s->live->prev = c;
	}
	s->live = c;
	s->nlive++;
	if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
		s->live = c->next;
		if (s->live != NULL) {
			s->live->prev = NULL;
		}
		s->nlive--;
		pthread_mutex_unlock(&s->mtx);
		goto drop;
	}
	pthread_mutex_unlock(&s->mtx);
	return;
drop:
	if (s->tls) {
		mbedtls_ssl_free(&c->ssl);
	}
	free(c);
	close(fd);
}

static void *
acceptor_main(void *arg)
{
	hub_http *s = arg;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN},
				      {.fd = s->stop_rd, .events = POLLIN}};
		int n = poll(p, 2, 1000);

		reap(s);
		if (n < 0 && errno != EINTR) {
			usleep(10000);
			continue;
		}
		if (n <= 0) {
			continue;
		}
		if (p[1].revents != 0) {
			return NULL;
		}
		if (p[0].revents != 0) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			int fd = accept(s->lfd, (struct sockaddr *)&ss, &sl);
			if (fd >= 0) {
				(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
				start_conn(s, fd, &ss);
			} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				   errno == ENOMEM) {
				/* out of descriptors: let connections end before trying again */
				usleep(10000);
			}
		}
	}
}

/* --- setup --------------------------------------------------------------------------------- */

/* mbedTLS's random source: the server's CTR_DRBG, serialised here so it is safe whether or
 * not mbedTLS was built with MBEDTLS_THREADING_C (it is called at handshakes, rarely). */
static int
rng_locked(void *ctx, unsigned char *out, size_t n)
{
	hub_http *s = ctx;
	int r;

	pthread_mutex_lock(&s->drbg_mtx);
	r = mbedtls_ctr_drbg_random(&s->drbg, out, n);
	pthread_mutex_unlock(&s->drbg_mtx);
	return r;
}

static const char *
tls_strerror(int rv, char *buf, size_t n)
{
	mbedtls_strerror(rv, buf, n);
	return buf;
}

static fedns_err
setup_tls(hub_http *s, const hub_http_opts *o, fedns_diag *d)
{
	static const char pers[] = "fedns-hub-http";
	char *cert = NULL, *key = NULL, *ca = NULL, eb[160];
	size_t cert_len = 0, key_len = 0, ca_len = 0;
	fedns_err err;
	int rv;

	if (o->cert_file == NULL || o->key_file == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "%s: TLS needs a certificate file and a key file",
				      o->listen_url);
	}
	mbedtls_ssl_config_init(&s->conf);
	mbedtls_x509_crt_init(&s->chain);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_pk_init(&s->key);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	pthread_mutex_init(&s->drbg_mtx, NULL);
	s->tls_ready = true; /* initialised: teardown frees */

	if ((err = fedns_file_read(o->cert_file, PEM_MAX, &cert, &cert_len, d)) != 0 ||
	    (err = fedns_file_read(o->key_file, PEM_MAX, &key, &key_len, d)) != 0 ||
	    (o->client_ca_file != NULL &&
	     (err = fedns_file_read(o->client_ca_file, PEM_MAX, &ca, &ca_len, d)) != 0)) {
		goto out;
	}
	/* PEM parsing wants the terminating NUL counted */
	if ((rv = mbedtls_x509_crt_parse(&s->chain, (const unsigned char *)cert, cert_len + 1)) !=
	    0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "certificate %s: %s", o->cert_file,
				     rv > 0 ? "some certificates could not be parsed"
					    : tls_strerror(rv, eb, sizeof(eb)));
		goto out;
	}
	/* the key text is never part of a message: only the file name is */
#if MBEDTLS_VERSION_MAJOR >= 3
	rv = mbedtls_pk_parse_key(&s->key, (const unsigned char *)key, key_len + 1, NULL, 0,
				  rng_locked, s);
#else
	rv = mbedtls_pk_parse_key(&s->key, (const unsigned char *)key, key_len + 1, NULL, 0);
#endif
	if (rv != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL,
				     "certificate %s with key %s: not a usable pair (%s)",
				     o->cert_file, o->key_file, tls_strerror(rv, eb, sizeof(eb)));
		goto out;
	}
	if ((rv = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
					(const unsigned char *)pers, sizeof(pers) - 1)) != 0) {
		err = fedns_diag_set(d, FEDNS_EIO, "%s: cannot seed the random generator: %s",
				     o->listen_url, tls_strerror(rv, eb, sizeof(eb)));
		goto out;
	}
#if MBEDTLS_VERSION_MAJOR >= 3
	rv = mbedtls_pk_check_pair(&s->chain.pk, &s->key, rng_locked, s);
#else
	rv = mbedtls_pk_check_pair(&s->chain.pk, &s->key);
#endif
	if (rv != 0) {
		err = fedns_diag_set(
			d, FEDNS_EINVAL,
			"certificate %s with key %s: not a usable pair (the key is not the "
			"certificate's)",
			o->cert_file, o->key_file);
		goto out;
	}
	if (ca != NULL) {
		if ((rv = mbedtls_x509_crt_parse(&s->ca, (const unsigned char *)ca, ca_len + 1)) !=
		    0) {
			err = fedns_diag_set(d, FEDNS_EINVAL, "client CA %s: %s", o->client_ca_file,
					     rv > 0 ? "some certificates could not be parsed"
						    : tls_strerror(rv, eb, sizeof(eb)));
			goto out;
		}
	}
	if ((rv = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		err = fedns_diag_set(d, FEDNS_EIO, "%s: TLS configuration: %s", o->listen_url,
				     tls_strerror(rv, eb, sizeof(eb)));
		goto out;
	}
	mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&s->conf, ciphersuites);
	mbedtls_ssl_conf_rng(&s->conf, rng_locked, s);
	if ((rv = mbedtls_ssl_conf_own_cert(&s->conf, &s->chain, &s->key)) != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "certificate %s: %s", o->cert_file,
				     tls_strerror(rv, eb, sizeof(eb)));
		goto out;
	}
	if (ca != NULL) {
		mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
		mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	} else {
		mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_NONE);
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

/* Parses "scheme://host:port[/]" into host (empty for any address) and port text. */
static fedns_err
parse_listen_url(const hub_http_opts *o, char *host, size_t hn, char *port, size_t pn,
		 fedns_diag *d)
{
	const char *want = o->tls ? "https://" : "http://";
	const char *p = o->listen_url, *h, *he, *pt;
	size_t n;

	if (strncmp(p, want, strlen(want)) != 0) {
		return fedns_diag_set(d, FEDNS_EINVAL, "listen URL \"%s\": scheme must be %s",
				      o->listen_url, o->tls ? "https" : "http");
	}
	p += strlen(want);
	if (*p == '[') {
		h = p + 1;
		if ((he = strchr(h, ']')) == NULL) {
			goto bad;
		}
		pt = he + 1;
	} else {
		h = p;
		for (he = h; *he != '\0' && *he != ':' && *he != '/'; he++) {
		}
		pt = he;
	}
	n = (size_t)(he - h);
	if (n >= hn) {
		goto bad;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (*pt == ':') {
		const char *ps = ++pt;
		while (*pt >= '0' && *pt <= '9') {
			pt++;
		}
		n = (size_t)(pt - ps);
		if (n == 0 || n > 5 || n >= pn || strtoul(ps, NULL, 10) > 65535) {
			goto bad;
		}
		memcpy(port, ps, n);
		port[n] = '\0';
	} else {
		snprintf(port, pn, "%s", o->tls ? "443" : "80");
	}
	if (*pt == '/') {
		pt++;
	}
	if (*pt != '\0') {
		goto bad;
	}
	return FEDNS_OK;
bad:
	return fedns_diag_set(d, FEDNS_EINVAL,
			      "listen URL \"%s\": want %shost:port (an IPv6 host in brackets)",
			      o->listen_url, want);
}

static fedns_err
bind_listener(hub_http *s, const hub_http_opts *o, fedns_diag *d)
{
	char host[256], port[8];
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	fedns_err err;
	int rv, one = 1, e;

	if ((err = parse_listen_url(o, host, sizeof(host), port, sizeof(port), d)) != 0) {
		return err;
	}
	if ((rv = getaddrinfo(host[0] != '\0' && strcmp(host, "*") != 0 ? host : NULL, port, &hints,
			      &res)) != 0) {
		return fedns_diag_set(d, FEDNS_EINVAL, "listen URL \"%s\": %s", o->listen_url,
				      gai_strerror(rv));
	}
	s->lfd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (s->lfd < 0) {
		e = errno;
		freeaddrinfo(res);
		return fedns_diag_set(d, FEDNS_EIO, "%s: socket: %s", o->listen_url, strerror(e));
	}
	(void)setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(s->lfd, SOMAXCONN) != 0) {
		e = errno;
		freeaddrinfo(res);
		return fedns_diag_set(d, e == EACCES ? FEDNS_EACCES : FEDNS_EINVAL,
				      "cannot listen on %s: %s", o->listen_url, strerror(e));
	}
	freeaddrinfo(res);
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) != 0) {
		return fedns_diag_set(d, FEDNS_EIO, "%s: bound address: %s", o->listen_url,
				      strerror(errno));
	}
	if (ss.ss_family == AF_INET) {
		s->port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		s->port = ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	}
	return FEDNS_OK;
}

/* Stops accepting, lets every connection end (running handlers finish and answer, idle
 * and half-read connections are closed), joins every thread and frees. */
static void
teardown(hub_http *s)
{
	atomic_store_explicit(&s->stopping, true, memory_order_release);
	/* requests queued for a handler slot give up (slot_take) */
	pthread_mutex_lock(&s->mtx);
	pthread_cond_broadcast(&s->slot_cv);
	pthread_mutex_unlock(&s->mtx);
	if (s->stop_wr >= 0) {
		ssize_t w;
		do {
			w = write(s->stop_wr, "x", 1);
		} while (w < 0 && errno == EINTR);
	}
	if (s->acceptor_started) {
		pthread_join(s->acceptor, NULL);
	}
	if (s->lfd >= 0) {
		close(s->lfd);
	}
	pthread_mutex_lock(&s->mtx);
	while (s->nlive > 0) {
		pthread_cond_wait(&s->conn_cv, &s->mtx);
	}
	pthread_mutex_unlock(&s->mtx);
	reap(s);
	if (s->tls_ready) {
		mbedtls_ssl_config_free(&s->conf);
		mbedtls_x509_crt_free(&s->chain);
		mbedtls_x509_crt_free(&s->ca);
		mbedtls_pk_free(&s->key);
		mbedtls_ctr_drbg_free(&s->drbg);
		mbedtls_entropy_free(&s->entropy);
		pthread_mutex_destroy(&s->drbg_mtx);
	}
	if (s->stop_rd >= 0) {
		close(s->stop_rd);
	}
	if (s->stop_wr >= 0) {
		close(s->stop_wr);
	}
	free(s->free_slots);
	pthread_cond_destroy(&s->slot_cv);
	pthread_cond_destroy(&s->conn_cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

fedns_err
hub_http_start(const hub_http_opts *o, hub_handler_fn fn, void *ctx, hub_http **out, fedns_diag *d)
{
	hub_http *s;
	unsigned nw;
	int pfd[2];
	fedns_err err;

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
	pthread_cond_init(&s->conn_cv, NULL);
	pthread_cond_init(&s->slot_cv, NULL);
	atomic_init(&s->stopping, false);
	s->lfd = -1;
	s->stop_rd = -1;
	s->stop_wr = -1;
	s->fn = fn;
	s->ctx = ctx;
	s->tls = o->tls;
	s->max_body = o->max_body != 0 ? o->max_body : DEFAULT_MAX_BODY;
	s->workers = nw;
	s->queue_max = (size_t)nw * QUEUE_PER_WORKER;
	s->body_budget = BODY_BUDGET > 4 * s->max_body ? BODY_BUDGET : 4 * s->max_body;
	if ((s->free_slots = calloc(nw, sizeof(*s->free_slots))) == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "HTTP server: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < nw; i++) {
		s->free_slots[i] = nw - 1 - i; /* slot 0 is taken first */
	}

	if (strncmp(o->listen_url, o->tls ? "https://" : "http://", o->tls ? 8 : 7) != 0) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "listen URL \"%s\": scheme must be %s",
				     o->listen_url, o->tls ? "https" : "http");
		goto fail;
	}
	if (o->tls && (err = setup_tls(s, o, d)) != 0) {
		goto fail;
	}
	if (pipe(pfd) != 0) {
		err = fedns_diag_set(d, FEDNS_EIO, "HTTP server: pipe: %s", strerror(errno));
		goto fail;
	}
	s->stop_rd = pfd[0];
	s->stop_wr = pfd[1];
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	if ((err = bind_listener(s, o, d)) != 0) {
		goto fail;
	}
	if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "HTTP server: cannot start the acceptor");
		goto fail;
	}
	s->acceptor_started = true;
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
