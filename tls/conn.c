/* SPDX-License-Identifier: Apache-2.0 */
/* Length-framed messages over one nng TLS stream (tls+tcp://), with a listener that only
 * hands out connections whose mutual-TLS handshake succeeded.
 *
 * What nng 1.5.2 does underneath, and why this file is shaped the way it is (read in
 * src/supplemental/tls/tls_common.c and mbedtls/tls.c of v1.5.2):
 *
 * - nng_stream_listener_accept and nng_stream_dialer_dial complete as soon as TCP is
 *   connected and mbedTLS is set up (tls_conn_cb / tls_start). The handshake has not even
 *   started: it runs inside the first mbedtls_ssl_read / mbedtls_ssl_write, i.e. on the
 *   first stream receive or send. A failed handshake fails every queued receive and send.
 *   Measured here: a client of another CA, a revoked client and a wrong server name all
 *   fail both sides with NNG_ECRYPTO (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED and a received
 *   fatal alert are not in nng's table; NNG_EPEERAUTH is for a missing certificate).
 * - NNG_OPT_TLS_VERIFIED cannot tell that a handshake finished: it is
 *   mbedtls_ssl_get_verify_result() == 0, and the verify result starts at 0 (the session
 *   is zeroed). Measured: true on an accepted stream before any I/O, even for a client of
 *   another CA. Nothing else in nng reports completion;
 *   the only proof is application data: a received byte, or a completed send (mbedTLS
 *   only writes application data after the handshake, and in TLS 1.2, the only version
 *   nng 1.5.2 enables, the server's Finished comes after it checked the client
 *   certificate, so a completed client send also means the hub accepted the spoke).
 *   Hence: every connection runs a read-ahead receive from the moment it exists (it
 *   drives the handshake), and the listener hands out a connection once its first bytes
 *   arrived. The spoke speaks first in the fedns protocol (Hello), so an honest peer is
 *   handed out promptly; a peer that fails the handshake, closes, or says nothing within
 *   FEDNS_CONN_HANDSHAKE_MS is dropped and counted as rejected. The dialer cannot learn
 *   more than "TCP connected" before the first send, so fedns_conn_dial returns then and
 *   a refused handshake is FEDNS_EAUTH from the first fedns_conn_send / fedns_conn_recv
 *   (fedns_conn_dial_send does both in one call and reports it as the dial's error).
 * - A timeout on a TLS stream aio is fatal to the connection: tls_cancel aborts the TCP
 *   receive (or send) underneath, whose error callback closes the TCP stream. Worse, when
 *   no TCP operation is in flight the abort does nothing and the aio never completes. So
 *   no stream aio here has a timeout: the read-ahead receive waits forever and callers
 *   wait on a condition variable with their own deadline; a send that times out closes
 *   the stream (a half-sent frame cannot be taken back) so its aio completes.
 * - A TLS stream send takes only the first non-empty iov and may take fewer bytes than
 *   offered (one TLS record, at most 16 KiB): sends loop on nng_aio_count.
 * - nng_stream_close fails queued aios (tls_tcp_error) but does not mark the TLS
 *   connection closed, and aios posted after that may never complete, so nothing is
 *   posted on a stream after it was closed or failed.
 * - The same happens by itself when a TCP error (the peer's close) arrives while no TLS
 *   receive is queued, which is likely when a peer sends and closes at once: see
 *   wait_io_locked for how that is noticed. */
#include "tls/conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#define RING_SIZE ((size_t)64 << 10)  /* read-ahead per connection */
#define SMALL_SEND 16384	      /* frames up to this go out as one TLS record */
#define FIRST_FBUF ((size_t)64 << 10) /* a frame buffer grows as bytes arrive */
#define PROBE_NS (200u * 1000000u)    /* see wait_io_locked */

/* Where an accepted connection sits inside its listener. */
enum where {
	W_NONE = 0,
	W_PENDING,
	W_READY,
	W_DEAD
};

struct fedns_conn {
	nng_stream *s;
	nng_stream_dialer *dialer; /* dialed connections keep theirs until freed */
	nng_aio *raio, *saio;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool closed;	   /* fedns_conn_close was called */
	bool established;  /* a byte arrived or a send completed: the handshake succeeded */
	fedns_err rbroken; /* the receive side cannot go on (ETOOBIG, ENOMEM) */
	fedns_err sbroken; /* the send side cannot go on (a send timed out mid-frame) */
	size_t max_frame;
	char peer[64];

	/* read-ahead ring, filled by rd_cb */
	uint8_t *ring;
	size_t rhead, rcnt;
	bool rpending;
	int rerr; /* nng error that ended the read-ahead */

	/* the frame being received (kept across a timeout) */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *fbuf;
	size_t fcap, flen, fgot;

	/* the one send in flight */
	bool sending, sdone;
	int srv;
	size_t scount;
	uint8_t sbuf[SMALL_SEND];

	/* accepted, not yet handed out: guarded by the listener's mutex */
	struct fedns_conn_listener *lst; /* set under mu; NULL once handed out */
	struct fedns_conn *next;
	enum where where;
	uint64_t hs_deadline;
};

struct fedns_conn_listener {
	nng_stream_listener *sl;
	nng_aio *aio;
	uint16_t port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool closed, sleeping;
	unsigned hs_ms;
	uint64_t rejected;
	fedns_conn *pending, *ready, *dead; /* singly linked; ready is FIFO via tail */
	fedns_conn *ready_tail;
};

__attribute__((format(printf, 4, 5))) static fedns_err
fail(char *err, size_t errlen, fedns_err code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
deadline_after(unsigned ms)
{
	return ms == 0 ? 0 : now_ns() + (uint64_t)ms * 1000000u;
}

/* Waits on cv until signalled or the deadline (0: none). False, without waiting, once the
 * deadline has passed: callers check their condition before calling. */
static bool
wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline)
{
	if (deadline == 0) {
		pthread_cond_wait(cv, mu);
		return true;
	}
	if (now_ns() >= deadline)
		return false;
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
			      .tv_nsec = (long)(deadline % 1000000000u)};
	(void)pthread_cond_timedwait(cv, mu, &ts);
	return true;
}

static int
cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;
	if ((rc = pthread_condattr_init(&a)) != 0)
		return rc;
	rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

static bool
is_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+tcp://", 10) == 0;
}

/* An nng failure of this connection's I/O as the fedns code the contract promises. */
static fedns_err
io_err_locked(const fedns_conn *c, int rv)
{
	if (c->closed)
		return FEDNS_ECANCELED;
	switch (rv) {
	case NNG_ETIMEDOUT:
		return FEDNS_ETIMEDOUT;
	case NNG_ENOMEM:
		return FEDNS_ENOMEM;
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH:
		return FEDNS_EAUTH;
	case NNG_ECLOSED:      /* mbedTLS: end of stream */
	case NNG_ECONNREFUSED: /* close_notify */
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
		/* A refused handshake: the refusing side's fatal alert often does not get out,
		 * as nng 1.5.2 shuts the TCP connection down right after queueing it
		 * (tls_tcp_error), so the refused side sees a bare end of stream (measured:
		 * NNG_ECRYPTO unloaded, this under load). Before any byte went through, that
		 * is taken as a refusal; a hub closing during the handshake looks the same. */
		return c->established ? FEDNS_EIO : FEDNS_EAUTH;
	default:
		return FEDNS_EIO;
	}
}

/* Posts the read-ahead receive into the ring's free space, unless one is in flight, the
 * ring is full or the stream is done. */
static void
pump_locked(fedns_conn *c)
{
	if (c->rpending || c->closed || c->rerr != 0 || c->rcnt == RING_SIZE)
		return;
	if (c->rcnt == 0)
		c->rhead = 0;
	size_t w = (c->rhead + c->rcnt) % RING_SIZE;
	size_t n = w >= c->rhead ? RING_SIZE - w : c->rhead - w;
	nng_iov iov = {.iov_buf = c->ring + w, .iov_len = n};
	if (nng_aio_set_iov(c->raio, 1, &iov) != 0) {
		c->rerr = NNG_ENOMEM;
		return;
	}
	c->rpending = true;
	nng_stream_recv(c->s, c->raio);
}

static void listener_settle(struct fedns_conn_listener *l, fedns_conn *c);

/* Like wait_until, for a thread waiting on this connection's I/O. Every PROBE_NS of
 * waiting it checks that the TCP connection under the stream still has a peer: nng 1.5.2
 * loses a TCP error that arrives while no TLS receive is queued (tls_tcp_error fails only
 * queued aios, then stops the TCP aios without marking the TLS connection closed, so the
 * next receive or a send that fills the buffer waits forever). That happens whenever a
 * peer closes right after sending: the read-ahead's completion is being delivered while
 * the TCP end-of-file arrives. The TCP layer has shut the socket down by then, and once
 * the peer acknowledged, getpeername (NNG_OPT_REMADDR) fails; that is taken as the end of
 * the stream, and closing the stream gets the stuck aios back. */
static bool
wait_io_locked(fedns_conn *c, uint64_t deadline)
{
	uint64_t now = now_ns();
	if (deadline != 0 && now >= deadline)
		return false;
	uint64_t until = now + PROBE_NS;
	if (deadline != 0 && deadline < until)
		until = deadline;
	struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
			      .tv_nsec = (long)(until % 1000000000u)};
	if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT || c->closed || c->rerr != 0)
		return true;
	nng_sockaddr sa;
	if (nng_stream_get_addr(c->s, NNG_OPT_REMADDR, &sa) == 0)
		return true;
	c->rerr = NNG_ECONNSHUT;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	nng_stream_close(c->s);
	pthread_mutex_lock(&c->mu);
	return true;
}

static void
rd_cb(void *arg)
{
	fedns_conn *c = arg;
	int rv = nng_aio_result(c->raio);
	size_t n = nng_aio_count(c->raio);
	pthread_mutex_lock(&c->mu);
	c->rpending = false;
	if (rv == 0 && n > 0) {
		c->rcnt += n;
		c->established = true;
	} else if (c->rerr == 0) {
		/* a TLS stream completes empty only at EOF */
		c->rerr = rv != 0 ? rv : NNG_ECONNSHUT;
	}
	pump_locked(c);
	pthread_cond_broadcast(&c->cv);
	struct fedns_conn_listener *l = c->lst;
	bool shut = rv != 0 && !c->closed;
	pthread_mutex_unlock(&c->mu);
	/* The stream is dead. Closing it fails a send queued on it: nng 1.5.2 would otherwise
	 * keep that send forever once its buffer is full, as its TCP aio is stopped. Nothing
	 * is posted after this (rerr is set). */
	if (shut)
		nng_stream_close(c->s);
	if (l != NULL)
		listener_settle(l, c);
}

static void
sd_cb(void *arg)
{
	fedns_conn *c = arg;
	pthread_mutex_lock(&c->mu);
	c->srv = nng_aio_result(c->saio);
	c->scount = nng_aio_count(c->saio);
	c->sdone = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
set_peer(fedns_conn *c)
{
	nng_sockaddr sa;
	char ip[INET6_ADDRSTRLEN];
	snprintf(c->peer, sizeof(c->peer), "?");
	if (nng_stream_get_addr(c->s, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		struct in_addr a = {.s_addr = sa.s_in.sa_addr};
		if (inet_ntop(AF_INET, &a, ip, sizeof(ip)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "%s:%u", ip,
				 (unsigned)ntohs(sa.s_in.sa_port));
	} else if (sa.s_family == NNG_AF_INET6) {
		if (inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "[%s]:%u", ip,
				 (unsigned)ntohs(sa.s_in6.sa_port));
	}
}

/* Wraps a fresh stream; the read-ahead is not started yet. On failure s is freed. */
static fedns_err
conn_new(nng_stream *s, fedns_conn **out)
{
	fedns_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		nng_stream_free(s);
		return FEDNS_ENOMEM;
	}
	c->s = s;
	c->max_frame = FEDNS_CONN_MAX_FRAME_DEFAULT;
	bool mu = false, cv = false;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		goto fail;
	mu = true;
	if (cond_init_mono(&c->cv) != 0)
		goto fail;
	cv = true;
	if ((c->ring = malloc(RING_SIZE)) == NULL || nng_aio_alloc(&c->raio, rd_cb, c) != 0 ||
	    nng_aio_alloc(&c->saio, sd_cb, c) != 0)
		goto fail;
	nng_aio_set_timeout(c->raio, NNG_DURATION_INFINITE);
	nng_aio_set_timeout(c->saio, NNG_DURATION_INFINITE);
	set_peer(c);
	*out = c;
	return FEDNS_OK;
fail:
	nng_aio_free(c->raio);
	nng_aio_free(c->saio);
	free(c->ring);
	if (cv)
		pthread_cond_destroy(&c->cv);
	if (mu)
		pthread_mutex_destroy(&c->mu);
	nng_stream_free(s);
	free(c);
	return FEDNS_ENOMEM;
}

static void
conn_start(fedns_conn *c)
{
	pthread_mutex_lock(&c->mu);
	pump_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void
fedns_conn_close(fedns_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	bool was = c->closed;
	c->closed = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	/* fails the queued read-ahead and send (tls_tcp_error); nothing is posted after */
	if (!was)
		nng_stream_close(c->s);
}

void
fedns_conn_free(fedns_conn *c)
{
	if (c == NULL)
		return;
	fedns_conn_close(c);
	nng_aio_stop(c->raio);
	nng_aio_stop(c->saio);
	nng_stream_free(c->s);
	nng_aio_free(c->raio);
	nng_aio_free(c->saio);
	nng_stream_dialer_free(c->dialer);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->ring);
	free(c->fbuf);
	free(c);
}

const char *
fedns_conn_peer(const fedns_conn *c)
{
	return c != NULL ? c->peer : "?";
}

void
fedns_conn_set_max_frame(fedns_conn *c, size_t max_frame)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->max_frame = max_frame > UINT32_MAX ? UINT32_MAX : max_frame;
	pthread_mutex_unlock(&c->mu);
}

/* Copies up to n bytes out of the ring. */
static size_t
ring_take(fedns_conn *c, uint8_t *dst, size_t n)
{
	size_t done = 0;
	while (done < n && c->rcnt > 0) {
		size_t run = RING_SIZE - c->rhead;
		if (run > c->rcnt)
			run = c->rcnt;
		if (run > n - done)
			run = n - done;
		memcpy(dst + done, c->ring + c->rhead, run);
		done += run;
		c->rhead = (c->rhead + run) % RING_SIZE;
		c->rcnt -= run;
	}
	return done;
}

/* Moves buffered bytes into the frame being received, never past its end. */
static void
take_locked(fedns_conn *c)
{
	for (;;) {
		if (c->hdr_got < 4) {
			if (c->rcnt == 0)
				return;
			c->hdr_got += ring_take(c, c->hdr + c->hdr_got, 4 - c->hdr_got);
			continue;
		}
		if (c->fbuf == NULL) {
			size_t n = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 |
				   (size_t)c->hdr[2] << 8 | c->hdr[3];
			if (n == 0 || n > c->max_frame) {
				c->rbroken = FEDNS_ETOOBIG;
				return;
			}
			c->fcap = n < FIRST_FBUF ? n : FIRST_FBUF;
			if ((c->fbuf = malloc(c->fcap)) == NULL) {
				c->rbroken = FEDNS_ENOMEM;
				return;
			}
			c->flen = n;
			c->fgot = 0;
		}
		if (c->fgot == c->flen || c->rcnt == 0)
			return;
		size_t want = c->flen - c->fgot;
		if (want > c->rcnt)
			want = c->rcnt;
		if (c->fgot + want > c->fcap) {
			/* grow with the bytes actually received, not with the announced length */
			size_t cap = c->fcap * 2;
			if (cap < c->fgot + want)
				cap = c->fgot + want;
			if (cap > c->flen)
				cap = c->flen;
			uint8_t *nb = realloc(c->fbuf, cap);
			if (nb == NULL) {
				c->rbroken = FEDNS_ENOMEM;
				return;
			}
			c->fbuf = nb;
			c->fcap = cap;
		}
		c->fgot += ring_take(c, c->fbuf + c->fgot, want);
	}
}

fedns_err
fedns_conn_recv(fedns_conn *c, uint8_t **out, size_t *len, unsigned timeout_ms, bool *partial)
{
	if (partial != NULL)
		*partial = false;
	if (c == NULL || out == NULL || len == NULL)
		return FEDNS_EINVAL;
	*out = NULL;
	*len = 0;
	uint64_t deadline = deadline_after(timeout_ms);
	fedns_err rc;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (c->closed) {
			rc = FEDNS_ECANCELED;
			break;
		}
		if (c->rbroken == FEDNS_OK)
			take_locked(c);
		if (c->rbroken != FEDNS_OK) {
			rc = c->rbroken;
			break;
		}
		pump_locked(c); /* taking may have made room */
		if (c->fbuf != NULL && c->fgot == c->flen) {
			*out = c->fbuf;
			*len = c->flen;
			c->fbuf = NULL;
			c->fcap = c->flen = c->fgot = c->hdr_got = 0;
			rc = FEDNS_OK;
			break;
		}
		if (c->rerr != 0) {
			rc = io_err_locked(c, c->rerr);
			break;
		}
		if (!wait_io_locked(c, deadline)) {
			/* the partial frame stays buffered: a later call continues it */
			if (partial != NULL)
				*partial = c->hdr_got > 0;
			rc = FEDNS_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Why the send side cannot be used, or FEDNS_OK. */
static fedns_err
send_state_locked(const fedns_conn *c)
{
	if (c->closed)
		return FEDNS_ECANCELED;
	if (c->sbroken != FEDNS_OK)
		return c->sbroken;
	if (c->rerr != 0)
		return io_err_locked(c, c->rerr);
	return FEDNS_OK;
}

fedns_err
fedns_conn_send(fedns_conn *c, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	if (c == NULL || msg == NULL || len == 0)
		return FEDNS_EINVAL;
	if (len > UINT32_MAX)
		return FEDNS_ETOOBIG;
	uint64_t deadline = deadline_after(timeout_ms);
	fedns_err rc;
	pthread_mutex_lock(&c->mu);
	/* one frame at a time: the slot is held until every byte of it was taken */
	while (c->sending && send_state_locked(c) == FEDNS_OK) {
		if (!wait_until(&c->cv, &c->mu, deadline)) {
			pthread_mutex_unlock(&c->mu);
			return FEDNS_ETIMEDOUT; /* nothing of this frame was sent */
		}
	}
	if ((rc = send_state_locked(c)) != FEDNS_OK) {
		pthread_mutex_unlock(&c->mu);
		return rc;
	}
	c->sending = true;
	pthread_mutex_unlock(&c->mu);

	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	const uint8_t *segs[2];
	size_t seglen[2], nseg;
	if (len <= SMALL_SEND - 4) {
		/* a small frame as one TLS record rather than a 4-byte record and another */
		memcpy(c->sbuf, hdr, 4);
		memcpy(c->sbuf + 4, msg, len);
		segs[0] = c->sbuf;
		seglen[0] = len + 4;
		nseg = 1;
	} else {
		segs[0] = hdr;
		seglen[0] = 4;
		segs[1] = msg;
		seglen[1] = len;
		nseg = 2;
	}
	size_t seg = 0, off = 0;
	rc = FEDNS_OK;
	pthread_mutex_lock(&c->mu);
	while (seg < nseg) {
		if ((rc = send_state_locked(c)) != FEDNS_OK)
			break;
		/* nng's TLS send only looks at the first non-empty iov */
		nng_iov iov = {.iov_buf = (void *)(uintptr_t)(segs[seg] + off),
			       .iov_len = seglen[seg] - off};
		if (nng_aio_set_iov(c->saio, 1, &iov) != 0) {
			rc = FEDNS_ENOMEM;
			break;
		}
		c->sdone = false;
		nng_stream_send(c->s, c->saio);
		bool timed_out = false;
		while (!c->sdone) {
			if (!timed_out && !wait_io_locked(c, deadline)) {
				/* a frame may be half out: the stream is unusable, and closing
				 * it is the one way to get the aio back (see the top) */
				timed_out = true;
				c->sbroken = FEDNS_EIO;
				pthread_mutex_unlock(&c->mu);
				nng_stream_close(c->s);
				pthread_mutex_lock(&c->mu);
			} else if (timed_out) {
				pthread_cond_wait(&c->cv, &c->mu);
			}
		}
		if (timed_out) {
			rc = c->closed ? FEDNS_ECANCELED : FEDNS_ETIMEDOUT;
			break;
		}
		if (c->srv != 0 || c->scount == 0) {
			rc = io_err_locked(c, c->srv != 0 ? c->srv : NNG_ECONNSHUT);
			if (c->sbroken == FEDNS_OK)
				c->sbroken = rc == FEDNS_ECANCELED ? FEDNS_EIO : rc;
			break;
		}
		c->established = true;
		off += c->scount;
		if (off >= seglen[seg]) {
			seg++;
			off = 0;
		}
	}
	c->sending = false;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

fedns_err
fedns_conn_dial(const fedns_nngtls *t, const char *url, unsigned timeout_ms, fedns_conn **out,
		char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return fail(err, errlen, FEDNS_EINVAL, "conn: dial: no output");
	*out = NULL;
	if (t == NULL || fedns_nngtls_is_server(t))
		return fail(err, errlen, FEDNS_EINVAL, "conn: dialing needs a client TLS config");
	if (!is_tls_url(url))
		return fail(err, errlen, FEDNS_EINVAL, "conn: hub address %s is not tls+tcp://",
			    url != NULL ? url : "(none)");
	nng_stream_dialer *d = NULL;
	nng_aio *aio = NULL;
	int rv;
	if ((rv = nng_stream_dialer_alloc(&d, url)) != 0)
		return fail(err, errlen, rv == NNG_ENOMEM ? FEDNS_ENOMEM : FEDNS_EINVAL,
			    "conn: dial %s: %s", url, nng_strerror(rv));
	/* nng's stream dialers and listeners leave Nagle on: every handshake flight and small
	 * frame would wait for a delayed ACK (a handshake took ~100 ms on loopback) */
	if ((rv = nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, fedns_nngtls_config(t))) != 0 ||
	    (rv = nng_stream_dialer_set_bool(d, NNG_OPT_TCP_NODELAY, true)) != 0 ||
	    (rv = nng_stream_dialer_set_bool(d, NNG_OPT_TCP_KEEPALIVE, true)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_stream_dialer_free(d);
		return fail(err, errlen, fedns_nngtls_err(rv), "conn: dial %s: %s", url,
			    nng_strerror(rv));
	}
	/* only TCP is in flight here (the handshake starts on the first I/O), so a timeout
	 * of the dial aio is harmless */
	nng_aio_set_timeout(aio,
			    timeout_ms == 0 ? NNG_DURATION_INFINITE : (nng_duration)timeout_ms);
	nng_stream_dialer_dial(d, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	nng_stream *s = rv == 0 ? nng_aio_get_output(aio, 0) : NULL;
	nng_aio_free(aio);
	if (rv != 0) {
		nng_stream_dialer_free(d);
		if (rv == NNG_ETIMEDOUT)
			return fail(err, errlen, FEDNS_ETIMEDOUT,
				    "conn: dial %s: no connection within %u ms", url, timeout_ms);
		fedns_err code = fedns_nngtls_err(rv);
		if (code == FEDNS_EINVAL && rv != NNG_EADDRINVAL && rv != NNG_EINVAL)
			code = FEDNS_EIO;
		return fail(err, errlen, code, "conn: dial %s: %s", url, nng_strerror(rv));
	}
	fedns_conn *c = NULL;
	if (conn_new(s, &c) != FEDNS_OK) {
		nng_stream_dialer_free(d);
		return fail(err, errlen, FEDNS_ENOMEM, "conn: dial %s: out of memory", url);
	}
	c->dialer = d;
	conn_start(c); /* the read-ahead starts the handshake now */
	*out = c;
	return FEDNS_OK;
}

fedns_err
fedns_conn_dial_send(const fedns_nngtls *t, const char *url, unsigned timeout_ms,
		     const uint8_t *first, size_t first_len, fedns_conn **out, char *err,
		     size_t errlen)
{
	if (first == NULL || first_len == 0) {
		if (out != NULL)
			*out = NULL;
		return fail(err, errlen, FEDNS_EINVAL, "conn: dial: no first frame");
	}
	uint64_t start = now_ns();
	fedns_err rc = fedns_conn_dial(t, url, timeout_ms, out, err, errlen);
	if (rc != FEDNS_OK)
		return rc;
	unsigned left = 0;
	if (timeout_ms != 0) {
		uint64_t spent = (now_ns() - start) / 1000000u;
		left = spent >= timeout_ms ? 1 : timeout_ms - (unsigned)spent;
	}
	rc = fedns_conn_send(*out, first, first_len, left);
	if (rc == FEDNS_OK)
		return FEDNS_OK;
	if (rc == FEDNS_EAUTH)
		fail(err, errlen, rc,
		     "conn: dial %s: TLS handshake failed (the hub's certificate is not trusted or "
		     "not for the server name, or the hub refused ours)",
		     url);
	else if (rc == FEDNS_ETIMEDOUT)
		fail(err, errlen, rc, "conn: dial %s: TLS handshake not done within %u ms", url,
		     timeout_ms);
	else
		fail(err, errlen, rc, "conn: dial %s: first frame: %s", url, fedns_strerror(rc));
	fedns_conn_free(*out);
	*out = NULL;
	return rc;
}

/* ---- listener ---- */

static void
list_remove(fedns_conn **head, fedns_conn *c)
{
	for (fedns_conn **p = head; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			c->next = NULL;
			return;
		}
	}
}

/* A pending connection's read-ahead completed: first bytes (the handshake succeeded and
 * the peer spoke) or a failure. Called from rd_cb without the connection's mutex. */
static void
listener_settle(struct fedns_conn_listener *l, fedns_conn *c)
{
	pthread_mutex_lock(&l->mu);
	if (c->where != W_PENDING) {
		pthread_mutex_unlock(&l->mu);
		return;
	}
	pthread_mutex_lock(&c->mu);
	/* first bytes make it a good connection even when an error followed them: the
	 * frames before the error are still delivered, then the error */
	bool ok = c->established;
	bool failed = !c->established && c->rerr != 0;
	if (ok || failed)
		c->lst = NULL; /* its later completions are not the listener's business */
	pthread_mutex_unlock(&c->mu);
	if (ok || failed) {
		list_remove(&l->pending, c);
		if (ok && !l->closed) {
			c->where = W_READY;
			if (l->ready_tail != NULL)
				l->ready_tail->next = c;
			else
				l->ready = c;
			l->ready_tail = c;
		} else {
			if (!l->closed)
				l->rejected++;
			c->where = W_DEAD;
			c->next = l->dead;
			l->dead = c;
		}
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
}

static void
acc_cb(void *arg)
{
	fedns_conn_listener *l = arg;
	int rv = nng_aio_result(l->aio);
	pthread_mutex_lock(&l->mu);
	bool slept = l->sleeping;
	l->sleeping = false;
	bool closed = l->closed;
	pthread_mutex_unlock(&l->mu);

	if (!slept && rv == 0) {
		nng_stream *s = nng_aio_get_output(l->aio, 0);
		fedns_conn *c = NULL;
		if (closed) {
			nng_stream_free(s);
		} else if (conn_new(s, &c) == FEDNS_OK) {
			c->lst = l;
			pthread_mutex_lock(&l->mu);
			c->where = W_PENDING;
			c->hs_deadline = now_ns() + (uint64_t)l->hs_ms * 1000000u;
			c->next = l->pending;
			l->pending = c;
			pthread_cond_broadcast(
				&l->cv); /* the accepter now has a deadline to watch */
			pthread_mutex_unlock(&l->mu);
			conn_start(c);
		}
	}
	pthread_mutex_lock(&l->mu);
	if (!l->closed) {
		if (!slept && rv != 0 && rv != NNG_ECONNABORTED && rv != NNG_ECONNRESET) {
			/* out of descriptors or memory: do not spin on it */
			l->sleeping = true;
			nng_sleep_aio(100, l->aio);
		} else {
			nng_stream_listener_accept(l->sl, l->aio);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

fedns_err
fedns_conn_listen(const fedns_nngtls *t, const char *url, fedns_conn_listener **out, char *err,
		  size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return fail(err, errlen, FEDNS_EINVAL, "conn: listen: no output");
	*out = NULL;
	if (t == NULL || !fedns_nngtls_is_server(t))
		return fail(err, errlen, FEDNS_EINVAL, "conn: listening needs a server TLS config");
	if (!is_tls_url(url))
		return fail(err, errlen, FEDNS_EINVAL, "conn: listen address %s is not tls+tcp://",
			    url != NULL ? url : "(none)");
	fedns_conn_listener *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return fail(err, errlen, FEDNS_ENOMEM, "conn: listen %s: out of memory", url);
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return fail(err, errlen, FEDNS_ENOMEM, "conn: listen %s: out of memory", url);
	}
	if (cond_init_mono(&l->cv) != 0) {
		pthread_mutex_destroy(&l->mu);
		free(l);
		return fail(err, errlen, FEDNS_ENOMEM, "conn: listen %s: out of memory", url);
	}
	fedns_err rc;
	int rv, port = 0;
	if ((rv = nng_stream_listener_alloc(&l->sl, url)) != 0) {
		rc = fail(err, errlen, rv == NNG_ENOMEM ? FEDNS_ENOMEM : FEDNS_EINVAL,
			  "conn: listen %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_stream_listener_set_ptr(l->sl, NNG_OPT_TLS_CONFIG, fedns_nngtls_config(t))) !=
		    0 ||
	    (rv = nng_stream_listener_set_bool(l->sl, NNG_OPT_TCP_NODELAY, true)) != 0 ||
	    (rv = nng_stream_listener_set_bool(l->sl, NNG_OPT_TCP_KEEPALIVE, true)) != 0) {
		rc = fail(err, errlen, fedns_nngtls_err(rv), "conn: listen %s: options: %s", url,
			  nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_stream_listener_listen(l->sl)) != 0) {
		rc = fedns_nngtls_err(rv);
		if (rc == FEDNS_EINVAL && rv != NNG_EADDRINVAL && rv != NNG_EINVAL)
			rc = FEDNS_EIO;
		rc = fail(err, errlen, rc, "conn: listen %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_stream_listener_get_int(l->sl, NNG_OPT_TCP_BOUND_PORT, &port)) != 0 ||
	    port <= 0 || port > 65535) {
		rc = fail(err, errlen, FEDNS_EIO, "conn: listen %s: bound port: %s", url,
			  rv != 0 ? nng_strerror(rv) : "out of range");
		goto fail;
	}
	l->port = (uint16_t)port;
	l->hs_ms = FEDNS_CONN_HANDSHAKE_MS;
	if ((rv = nng_aio_alloc(&l->aio, acc_cb, l)) != 0) {
		rc = fail(err, errlen, FEDNS_ENOMEM, "conn: listen %s: out of memory", url);
		goto fail;
	}
	nng_aio_set_timeout(l->aio, NNG_DURATION_INFINITE);
	nng_stream_listener_accept(l->sl, l->aio);
	*out = l;
	return FEDNS_OK;
fail:
	nng_stream_listener_free(l->sl);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
	return rc;
}

uint16_t
fedns_conn_listener_port(const fedns_conn_listener *l)
{
	return l != NULL ? l->port : 0;
}

void
fedns_conn_listener_set_handshake_ms(fedns_conn_listener *l, unsigned ms)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->hs_ms = ms == 0 ? FEDNS_CONN_HANDSHAKE_MS : ms;
	pthread_mutex_unlock(&l->mu);
}

uint64_t
fedns_conn_listener_rejected(const fedns_conn_listener *l)
{
	if (l == NULL)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	uint64_t n = l->rejected;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return n;
}

/* Frees connections that failed their handshake; without the listener's mutex (freeing
 * waits for their callbacks, which take it). */
static void
reap(fedns_conn *dead)
{
	while (dead != NULL) {
		fedns_conn *next = dead->next;
		fedns_conn_free(dead);
		dead = next;
	}
}

fedns_err
fedns_conn_accept(fedns_conn_listener *l, fedns_conn **out)
{
	if (l == NULL || out == NULL)
		return FEDNS_EINVAL;
	*out = NULL;
	fedns_err rc;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		if (l->closed) {
			rc = FEDNS_ECANCELED;
			break;
		}
		if (l->dead != NULL) {
			fedns_conn *dead = l->dead;
			l->dead = NULL;
			for (fedns_conn *c = dead; c != NULL; c = c->next)
				c->where = W_NONE;
			pthread_mutex_unlock(&l->mu);
			reap(dead);
			pthread_mutex_lock(&l->mu);
			continue;
		}
		if (l->ready != NULL) {
			fedns_conn *c = l->ready;
			l->ready = c->next;
			if (l->ready == NULL)
				l->ready_tail = NULL;
			c->next = NULL;
			c->where = W_NONE;
			*out = c;
			rc = FEDNS_OK;
			break;
		}
		/* a peer silent past the deadline is given up here, as a failed handshake;
		 * one whose first bytes just arrived is being settled by its callback */
		uint64_t now = now_ns(), next = now + 1000000000u;
		for (fedns_conn **p = &l->pending; *p != NULL;) {
			fedns_conn *c = *p;
			if (c->hs_deadline > now) {
				if (c->hs_deadline < next)
					next = c->hs_deadline;
				p = &c->next;
				continue;
			}
			pthread_mutex_lock(&c->mu);
			bool est = c->established;
			if (!est && c->rerr == 0)
				c->rerr = NNG_ETIMEDOUT; /* the read-ahead posts nothing more */
			pthread_mutex_unlock(&c->mu);
			if (est) {
				p = &c->next;
				continue;
			}
			*p = c->next;
			c->where = W_DEAD;
			c->next = l->dead;
			l->dead = c;
			l->rejected++;
			nng_stream_close(c->s);
		}
		if (l->dead != NULL)
			continue;
		(void)wait_until(&l->cv, &l->mu, next);
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void
fedns_conn_listener_close(fedns_conn_listener *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	bool was = l->closed;
	l->closed = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (!was)
		nng_stream_listener_close(l->sl); /* fails the accept in flight */
}

void
fedns_conn_listener_free(fedns_conn_listener *l)
{
	if (l == NULL)
		return;
	fedns_conn_listener_close(l);
	nng_aio_stop(l->aio); /* acc_cb has returned and posts nothing more */
	for (;;) {
		pthread_mutex_lock(&l->mu);
		fedns_conn *c = l->pending;
		fedns_conn **head = &l->pending;
		if (c == NULL) {
			c = l->ready;
			head = &l->ready;
		}
		if (c == NULL) {
			c = l->dead;
			head = &l->dead;
		}
		if (c != NULL) {
			*head = c->next;
			if (head == &l->ready && l->ready == NULL)
				l->ready_tail = NULL;
			c->next = NULL;
			c->where = W_NONE;
		}
		pthread_mutex_unlock(&l->mu);
		if (c == NULL)
			break;
		fedns_conn_free(c); /* waits for rd_cb, which may be in listener_settle */
	}
	nng_aio_free(l->aio);
	nng_stream_listener_free(l->sl);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
