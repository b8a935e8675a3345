/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's DNS server thread: UDP and TCP sockets under epoll, transfer streaming,
 * idle and size limits, and coalesced NOTIFYs with retries. */
#define _GNU_SOURCE /* accept4 */
#include "spoke/dnssrv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "dns/message.h"
#include "dns/xfr.h"

#define TCP_BUF (2 + FEDNS_MSG_MAXLEN + FEDNS_TSIG_MAXLEN)
#define UDP_BUF 65536
#define MAX_NOTIFY_ZONES 4096

enum {
	TAG_UDP = 1,
	TAG_LISTEN = 2,
	TAG_EVENT = 3,
	TAG_NOTIFY4 = 4,
	TAG_NOTIFY6 = 5,
	TAG_CONN = 6
};

typedef struct conn {
	int tag; /* TAG_CONN; first member so epoll data can be cast */
	int fd;
	struct conn *next, *prev;
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, woff;
	bool streaming;
	bool want_out;
	spoke_query_xfr xfr;
	uint64_t last_ms;
} conn;

/* One (target, zone) NOTIFY state. */
typedef struct notify_ent {
	uint8_t zone[FEDNS_NAME_MAXLEN];
	size_t target;
	uint32_t serial;      /* serial to announce */
	uint32_t sent_serial; /* serial in the outstanding NOTIFY */
	bool pending;	      /* needs (re)sending */
	bool outstanding;     /* sent, no answer yet */
	uint16_t id;
	unsigned tries;
	uint64_t last_sent_ms;
	uint64_t next_ms;
	unsigned interval_ms;
} notify_ent;

struct spoke_dnssrv {
	spoke_dnssrv_opts o;
	spoke_zoneset *zs;
	int ep;
	int udp_fd, listen_fd, event_fd, notify_fd4, notify_fd6;
	int tag_udp, tag_listen, tag_event, tag_notify4, tag_notify6;
	uint16_t port;
	pthread_t thread;
	bool running;
	conn *conns;
	size_t nconns;
	pthread_mutex_t mu; /* guards queued notifications and stats */
	struct {
		uint8_t zone[FEDNS_NAME_MAXLEN];
		uint32_t serial;
	} * queued;
	size_t nqueued, capqueued;
	notify_ent *nent;
	size_t nnent, capnent;
	/* a new NOTIFY target list from spoke_dnssrv_set_notify, taken by the server thread */
	bool notify_changed;
	struct sockaddr_storage notify_next[64];
	socklen_t notify_next_len[64];
	size_t nnotify_next;
	spoke_dnssrv_stats stats;
	uint8_t *udp_in, *udp_out;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
wall_s(void)
{
	return (uint64_t)time(NULL);
}

void
spoke_dnssrv_opts_default(spoke_dnssrv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->require_tsig = true;
	o->max_tcp_conns = 256;
	o->tcp_idle_ms = 10000;
	o->max_xfr_msg = FEDNS_XFR_MSG_TARGET;
	o->notify_min_gap_ms = 500;
	o->notify_retry_ms = 1000;
	o->notify_retries = 5;
}

static fedns_err
ep_add(spoke_dnssrv *s, int fd, void *ptr, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? FEDNS_OK : -errno;
}

static void
conn_close(spoke_dnssrv *s, conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->streaming)
		spoke_query_xfr_fini(&c->xfr);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void
conn_want_out(spoke_dnssrv *s, conn *c, bool on)
{
	if (c->want_out == on)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = on;
}

/* Fills c->wbuf with the next transfer message (framed, signed). Returns false when the
 * transfer is over (or failed: then the connection is closed by the caller). */
static bool
conn_next_xfr_msg(spoke_dnssrv *s, conn *c, bool *failed)
{
	fedns_xfr_out *xo = c->xfr.out;
	*failed = false;
	if (xo->done)
		return false;
	size_t len = 0;
	bool last = false;
	size_t cap = s->o.max_xfr_msg + (c->xfr.signed_ ? FEDNS_TSIG_MAXLEN : 0);
	if (cap > TCP_BUF - 2)
		cap = TCP_BUF - 2;
	fedns_err err = fedns_xfr_out_next(xo, c->wbuf + 2, cap, &len, &last);
	if (err == FEDNS_OK && c->xfr.signed_) {
		size_t nl = 0;
		err = fedns_tsig_sign(&c->xfr.tsig, c->wbuf + 2, len, TCP_BUF - 2, wall_s(), 0,
				      &nl);
		len = nl;
	}
	if (err != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "xfr.out.failed",
			  FEDNS_LF_STR("error", fedns_strerror(err)));
		*failed = true;
		return false;
	}
	fedns_tcp_frame_put(c->wbuf, len);
	c->wlen = len + 2;
	c->woff = 0;
	return true;
}

/* Writes as much as the socket takes; refills from the transfer. Returns false when the
 * connection must close. */
static bool
conn_flush(spoke_dnssrv *s, conn *c)
{
	for (;;) {
		while (c->woff < c->wlen) {
			ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				conn_want_out(s, c, true);
				return true;
			}
			if (n <= 0)
				return false;
			c->woff += (size_t)n;
			c->last_ms = now_ms();
		}
		c->wlen = c->woff = 0;
		if (!c->streaming)
			break;
		bool failed;
		if (!conn_next_xfr_msg(s, c, &failed)) {
			fedns_xfr_out *xo = c->xfr.out;
			if (!failed) {
				char zone[FEDNS_NAME_MAXTEXT];
				fedns_name_to_text(xo->qname, zone, sizeof(zone));
				fedns_log(FEDNS_LOG_INFO,
					  xo->kind == FEDNS_XFR_AXFR ? "xfr.axfr.sent"
								     : "xfr.ixfr.sent",
					  FEDNS_LF_STR("zone", zone),
					  FEDNS_LF_UINT("serial", c->xfr.v->serial),
					  FEDNS_LF_UINT("messages", xo->msgs),
					  FEDNS_LF_UINT("records", xo->rrs),
					  FEDNS_LF_UINT("diffs", c->xfr.ndiffs));
			}
			spoke_query_xfr_fini(&c->xfr);
			c->streaming = false;
			if (failed)
				return false;
			break;
		}
	}
	conn_want_out(s, c, false);
	return true;
}

/* Handles every complete framed query in the read buffer (pipelining), one at a time:
 * a transfer in progress holds further queries until it ends. */
static bool
conn_process(spoke_dnssrv *s, conn *c)
{
	while (!c->streaming && c->wlen == 0) {
		size_t mlen;
		fedns_err err = fedns_tcp_frame_len(c->rbuf, c->rlen, &mlen);
		if (err == FEDNS_ETRUNC)
			return true;
		if (err != FEDNS_OK)
			return false;
		if (c->rlen < 2 + mlen)
			return true;
		size_t alen = 0;
		/* stats are shared with readers on other threads */
		pthread_mutex_lock(&s->mu);
		int r = spoke_query_handle(s->zs, s->o.keys, s->o.require_tsig, c->rbuf + 2, mlen,
					   false, wall_s(), c->wbuf + 2, TCP_BUF - 2, &alen,
					   &c->xfr, &s->stats);
		pthread_mutex_unlock(&s->mu);
		memmove(c->rbuf, c->rbuf + 2 + mlen, c->rlen - 2 - mlen);
		c->rlen -= 2 + mlen;
		if (r == 0)
			return false; /* undecodable garbage on a stream: drop the connection */
		if (r == 1) {
			fedns_tcp_frame_put(c->wbuf, alen);
			c->wlen = alen + 2;
			c->woff = 0;
		} else {
			c->streaming = true;
		}
		if (!conn_flush(s, c))
			return false;
	}
	return true;
}

static void
conn_readable(spoke_dnssrv *s, conn *c)
{
	for (;;) {
		if (c->rlen == TCP_BUF) {
			/* a transfer is running and the client keeps sending: stop reading */
			break;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, TCP_BUF - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->rlen += (size_t)n;
		c->last_ms = now_ms();
	}
	if (!conn_process(s, c))
		conn_close(s, c);
}

static void
conn_writable(spoke_dnssrv *s, conn *c)
{
	if (!conn_flush(s, c) || !conn_process(s, c))
		conn_close(s, c);
}

static void
accept_all(spoke_dnssrv *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->nconns >= s->o.max_tcp_conns) {
			close(fd); /* over the limit: refuse at once rather than queue */
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn *c = calloc(1, sizeof(*c));
		if (c != NULL) {
			c->rbuf = malloc(TCP_BUF);
			c->wbuf = malloc(TCP_BUF);
		}
		if (c == NULL || c->rbuf == NULL || c->wbuf == NULL) {
			if (c) {
				free(c->rbuf);
				free(c->wbuf);
			}
			free(c);
			close(fd);
			continue;
		}
		c->tag = TAG_CONN;
		c->fd = fd;
		c->last_ms = now_ms();
		if (ep_add(s, fd, c, EPOLLIN) != FEDNS_OK) {
			free(c->rbuf);
			free(c->wbuf);
			free(c);
			close(fd);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

static void
udp_readable(spoke_dnssrv *s)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n =
			recvfrom(s->udp_fd, s->udp_in, UDP_BUF, 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		size_t alen = 0;
		spoke_query_xfr xfr;
		memset(&xfr, 0, sizeof(xfr));
		pthread_mutex_lock(&s->mu);
		int r = spoke_query_handle(s->zs, s->o.keys, s->o.require_tsig, s->udp_in,
					   (size_t)n, true, wall_s(), s->udp_out, UDP_BUF, &alen,
					   &xfr, &s->stats);
		pthread_mutex_unlock(&s->mu);
		if (r == 2)
			spoke_query_xfr_fini(&xfr); /* cannot happen over UDP, but never leak */
		if (r == 1)
			sendto(s->udp_fd, s->udp_out, alen, 0, (struct sockaddr *)&from, flen);
	}
}

/* ---- NOTIFY ---- */

static notify_ent *
nent_get(spoke_dnssrv *s, const uint8_t *zone, size_t target)
{
	for (size_t i = 0; i < s->nnent; i++)
		if (s->nent[i].target == target && fedns_name_equal(s->nent[i].zone, zone))
			return &s->nent[i];
	if (s->nnent == s->capnent) {
		size_t n = s->capnent ? s->capnent * 2 : 32;
		if (n > MAX_NOTIFY_ZONES * 64)
			return NULL;
		notify_ent *p = realloc(s->nent, n * sizeof(*p));
		if (p == NULL)
			return NULL;
		s->nent = p;
		s->capnent = n;
	}
	notify_ent *e = &s->nent[s->nnent++];
	memset(e, 0, sizeof(*e));
	fedns_name_copy(e->zone, zone);
	e->target = target;
	return e;
}

/* Installs a target list set by spoke_dnssrv_set_notify (server thread, lock held):
 * entries of targets still listed follow their target's new index, the others go. */
static void
notify_retarget_locked(spoke_dnssrv *s)
{
	size_t map[64];
	for (size_t t = 0; t < s->o.nnotify; t++) {
		map[t] = SIZE_MAX;
		for (size_t k = 0; k < s->nnotify_next; k++) {
			if (s->o.notify_len[t] == s->notify_next_len[k] &&
			    memcmp(&s->o.notify[t], &s->notify_next[k], s->o.notify_len[t]) == 0) {
				map[t] = k;
				break;
			}
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < s->nnent; i++) {
		notify_ent e = s->nent[i];
		if (e.target >= s->o.nnotify || map[e.target] == SIZE_MAX)
			continue;
		e.target = map[e.target];
		s->nent[w++] = e;
	}
	s->nnent = w;
	memcpy(s->o.notify, s->notify_next, s->nnotify_next * sizeof(s->notify_next[0]));
	memcpy(s->o.notify_len, s->notify_next_len,
	       s->nnotify_next * sizeof(s->notify_next_len[0]));
	s->o.nnotify = s->nnotify_next;
	s->notify_changed = false;
}

static void
notify_take_queue(spoke_dnssrv *s, uint64_t now)
{
	pthread_mutex_lock(&s->mu);
	if (s->notify_changed)
		notify_retarget_locked(s);
	for (size_t q = 0; q < s->nqueued; q++) {
		for (size_t t = 0; t < s->o.nnotify; t++) {
			notify_ent *e = nent_get(s, s->queued[q].zone, t);
			if (e == NULL)
				continue;
			e->serial = s->queued[q].serial;
			e->pending = true;
			e->tries = 0;
			e->interval_ms = s->o.notify_retry_ms;
			/* coalesce: never closer than min_gap to the previous NOTIFY */
			uint64_t earliest =
				e->last_sent_ms ? e->last_sent_ms + s->o.notify_min_gap_ms : now;
			e->next_ms = earliest > now ? earliest : now;
		}
	}
	s->nqueued = 0;
	pthread_mutex_unlock(&s->mu);
}

static void
notify_send(spoke_dnssrv *s, notify_ent *e, uint64_t now)
{
	uint8_t buf[FEDNS_UDP_MINLEN];
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, sizeof(buf), true);
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)now;
	fedns_msgw_header(&mw, id, (uint16_t)((FEDNS_OP_NOTIFY << 11) | FEDNS_F_AA));
	fedns_msgw_question(&mw, e->zone, FEDNS_T_SOA, FEDNS_C_IN);
	spoke_version *v = spoke_zoneset_get(s->zs, e->zone);
	if (v != NULL) {
		fedns_rr rr;
		if (fedns_zone_soa(v->zone, &rr))
			fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr);
		e->serial = v->serial;
		spoke_version_rele(v);
	} else {
		/* the zone is gone: nothing to announce (the catalog change says so) */
		e->pending = false;
		return;
	}
	size_t len = fedns_msgw_finish(&mw);
	const struct sockaddr_storage *to = &s->o.notify[e->target];
	int fd = to->ss_family == AF_INET6 ? s->notify_fd6 : s->notify_fd4;
	if (len == 0 || fd < 0)
		return;
	sendto(fd, buf, len, 0, (const struct sockaddr *)to, s->o.notify_len[e->target]);
	e->id = id;
	e->sent_serial = e->serial;
	e->outstanding = true;
	e->pending = false;
	e->last_sent_ms = now;
	e->tries++;
	e->next_ms = now + e->interval_ms;
	e->interval_ms *= 2;
	pthread_mutex_lock(&s->mu);
	s->stats.notify_sent++;
	pthread_mutex_unlock(&s->mu);
	char zone[FEDNS_NAME_MAXTEXT];
	fedns_name_to_text(e->zone, zone, sizeof(zone));
	fedns_log(FEDNS_LOG_DEBUG, "notify.sent", FEDNS_LF_STR("zone", zone),
		  FEDNS_LF_UINT("serial", e->serial), FEDNS_LF_UINT("target", e->target),
		  FEDNS_LF_UINT("try", e->tries));
}

static void
notify_readable(spoke_dnssrv *s, int fd)
{
	uint8_t buf[FEDNS_UDP_MINLEN * 8];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		fedns_msg_header h;
		if (fedns_msg_header_parse(buf, (size_t)n, &h) != FEDNS_OK ||
		    !(h.flags & FEDNS_F_QR) || fedns_msg_opcode(h.flags) != FEDNS_OP_NOTIFY)
			continue;
		for (size_t i = 0; i < s->nnent; i++) {
			notify_ent *e = &s->nent[i];
			if (!e->outstanding || e->id != h.id)
				continue;
			/* answered (even with an error rcode: the target heard us) */
			e->outstanding = false;
			if (e->serial != e->sent_serial)
				e->pending = true;
			pthread_mutex_lock(&s->mu);
			s->stats.notify_acked++;
			pthread_mutex_unlock(&s->mu);
			break;
		}
	}
}

/* Sends what is due; returns ms until the next NOTIFY deadline (or -1). */
static int
notify_run(spoke_dnssrv *s, uint64_t now)
{
	int64_t wait = -1;
	for (size_t i = 0; i < s->nnent; i++) {
		notify_ent *e = &s->nent[i];
		bool retry = e->outstanding && now >= e->next_ms;
		if (retry && e->tries >= s->o.notify_retries) {
			char zone[FEDNS_NAME_MAXTEXT];
			fedns_name_to_text(e->zone, zone, sizeof(zone));
			fedns_log(FEDNS_LOG_WARN, "notify.failed", FEDNS_LF_STR("zone", zone),
				  FEDNS_LF_UINT("serial", e->sent_serial),
				  FEDNS_LF_UINT("target", e->target));
			e->outstanding = false;
			continue;
		}
		if ((e->pending && now >= e->next_ms) || retry)
			notify_send(s, e, now);
		if (e->pending || e->outstanding) {
			int64_t d = (int64_t)e->next_ms - (int64_t)now;
			if (d < 0)
				d = 0;
			if (wait < 0 || d < wait)
				wait = d;
		}
	}
	return (int)wait;
}

void
spoke_dnssrv_notify(spoke_dnssrv *srv, const uint8_t *origin, uint32_t serial)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	bool merged = false;
	for (size_t i = 0; i < srv->nqueued; i++) {
		if (fedns_name_equal(srv->queued[i].zone, origin)) {
			srv->queued[i].serial = serial;
			merged = true;
		}
	}
	if (!merged && srv->nqueued < MAX_NOTIFY_ZONES) {
		if (srv->nqueued == srv->capqueued) {
			size_t n = srv->capqueued ? srv->capqueued * 2 : 16;
			void *p = realloc(srv->queued, n * sizeof(*srv->queued));
			if (p != NULL) {
				srv->queued = p;
				srv->capqueued = n;
			}
		}
		if (srv->nqueued < srv->capqueued) {
			fedns_name_copy(srv->queued[srv->nqueued].zone, origin);
			srv->queued[srv->nqueued++].serial = serial;
		}
	}
	pthread_mutex_unlock(&srv->mu);
	uint64_t one = 1;
	ssize_t w = write(srv->event_fd, &one, sizeof(one));
	(void)w;
}

fedns_err
spoke_dnssrv_set_notify(spoke_dnssrv *srv, const struct sockaddr_storage *addrs,
			const socklen_t *lens, size_t n)
{
	if (n > sizeof(srv->notify_next) / sizeof(srv->notify_next[0]))
		return FEDNS_ETOOBIG;
	pthread_mutex_lock(&srv->mu);
	for (size_t i = 0; i < n; i++) {
		srv->notify_next[i] = addrs[i];
		srv->notify_next_len[i] = lens[i];
	}
	srv->nnotify_next = n;
	srv->notify_changed = true;
	pthread_mutex_unlock(&srv->mu);
	uint64_t one = 1;
	ssize_t w = write(srv->event_fd, &one, sizeof(one));
	(void)w;
	return FEDNS_OK;
}

static void
idle_sweep(spoke_dnssrv *s, uint64_t now)
{
	conn *c = s->conns;
	while (c != NULL) {
		conn *next = c->next;
		/* last_ms may be later than 'now' (it moves while events are handled):
		 * unsigned wrap-around here once closed live transfers */
		if (now > c->last_ms && now - c->last_ms > s->o.tcp_idle_ms)
			conn_close(s, c);
		c = next;
	}
}

static void *
server_main(void *arg)
{
	spoke_dnssrv *s = arg;
	struct epoll_event evs[64];
	uint64_t last_sweep = now_ms();
	while (__atomic_load_n(&s->running, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_ms();
		int wait = notify_run(s, now);
		if (wait < 0 || wait > 1000)
			wait = 1000;
		int n = epoll_wait(s->ep, evs, 64, wait);
		now = now_ms();
		for (int i = 0; i < n; i++) {
			int *tag = evs[i].data.ptr;
			if (tag == &s->tag_udp) {
				udp_readable(s);
			} else if (tag == &s->tag_listen) {
				accept_all(s);
			} else if (tag == &s->tag_event) {
				uint64_t v;
				ssize_t r = read(s->event_fd, &v, sizeof(v));
				(void)r;
				notify_take_queue(s, now);
			} else if (tag == &s->tag_notify4) {
				notify_readable(s, s->notify_fd4);
			} else if (tag == &s->tag_notify6) {
				notify_readable(s, s->notify_fd6);
			} else {
				conn *c = (conn *)tag;
				if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
					conn_close(s, c);
					continue;
				}
				if (evs[i].events & EPOLLOUT) {
					conn_writable(s, c);
					continue; /* c may be gone */
				}
				if (evs[i].events & EPOLLIN)
					conn_readable(s, c);
			}
		}
		if (now - last_sweep >= 250) {
			now = now_ms();
			idle_sweep(s, now);
			last_sweep = now;
		}
	}
	return NULL;
}

static int
bound_socket(int family, int type, const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (addr != NULL && bind(fd, addr, len) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

fedns_err
spoke_dnssrv_start(const spoke_dnssrv_opts *opts, spoke_zoneset *zs, spoke_dnssrv **out,
		   fedns_diag *d)
{
	spoke_dnssrv *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return FEDNS_ENOMEM;
	s->o = *opts;
	s->zs = zs;
	s->ep = s->udp_fd = s->listen_fd = s->event_fd = s->notify_fd4 = s->notify_fd6 = -1;
	pthread_mutex_init(&s->mu, NULL);
	fedns_err err = FEDNS_OK;
	s->udp_in = malloc(UDP_BUF);
	s->udp_out = malloc(UDP_BUF);
	if (s->udp_in == NULL || s->udp_out == NULL) {
		err = FEDNS_ENOMEM;
		goto fail;
	}
	const struct sockaddr *la = (const struct sockaddr *)&s->o.listen;
	int fam = s->o.listen.ss_family;
	/* With port 0 the TCP listener takes the port the kernel gave UDP; that port may be
	 * taken for TCP, so an ephemeral pick is retried with another. */
	uint16_t want = ntohs(fam == AF_INET6 ? ((const struct sockaddr_in6 *)la)->sin6_port
					      : ((const struct sockaddr_in *)la)->sin_port);
	for (int attempt = 0;; attempt++) {
		s->udp_fd = bound_socket(fam, SOCK_DGRAM, la, s->o.listen_len);
		if (s->udp_fd < 0) {
			err = fedns_diag_set(d, -errno, "cannot bind UDP listener: %s",
					     strerror(errno));
			goto fail;
		}
		struct sockaddr_storage bound;
		socklen_t blen = sizeof(bound);
		getsockname(s->udp_fd, (struct sockaddr *)&bound, &blen);
		s->port = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						: ((struct sockaddr_in *)&bound)->sin_port);
		s->listen_fd = bound_socket(fam, SOCK_STREAM, (struct sockaddr *)&bound, blen);
		if (s->listen_fd >= 0 && listen(s->listen_fd, 128) == 0)
			break;
		int e = errno;
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		close(s->udp_fd);
		s->listen_fd = s->udp_fd = -1;
		if (want != 0 || e != EADDRINUSE || attempt == 20) {
			err = fedns_diag_set(d, -e, "cannot bind TCP listener on port %u: %s",
					     s->port, strerror(e));
			goto fail;
		}
	}
	s->notify_fd4 = bound_socket(AF_INET, SOCK_DGRAM, NULL, 0);
	s->notify_fd6 = bound_socket(AF_INET6, SOCK_DGRAM, NULL, 0);
	s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->event_fd < 0 || s->ep < 0) {
		err = fedns_diag_set(d, -errno, "cannot create event descriptors: %s",
				     strerror(errno));
		goto fail;
	}
	s->tag_udp = TAG_UDP;
	s->tag_listen = TAG_LISTEN;
	s->tag_event = TAG_EVENT;
	s->tag_notify4 = TAG_NOTIFY4;
	s->tag_notify6 = TAG_NOTIFY6;
	if ((err = ep_add(s, s->udp_fd, &s->tag_udp, EPOLLIN)) != FEDNS_OK ||
	    (err = ep_add(s, s->listen_fd, &s->tag_listen, EPOLLIN)) != FEDNS_OK ||
	    (err = ep_add(s, s->event_fd, &s->tag_event, EPOLLIN)) != FEDNS_OK ||
	    (s->notify_fd4 >= 0 &&
	     (err = ep_add(s, s->notify_fd4, &s->tag_notify4, EPOLLIN)) != FEDNS_OK) ||
	    (s->notify_fd6 >= 0 &&
	     (err = ep_add(s, s->notify_fd6, &s->tag_notify6, EPOLLIN)) != FEDNS_OK)) {
		fedns_diag_set(d, err, "epoll setup failed");
		goto fail;
	}
	s->running = true;
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		s->running = false;
		err = fedns_diag_set(d, FEDNS_ENOMEM, "cannot start the DNS server thread");
		goto fail;
	}
	*out = s;
	return FEDNS_OK;
fail:
	spoke_dnssrv_stop(s);
	return err;
}

void
spoke_dnssrv_stop(spoke_dnssrv *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		__atomic_store_n(&s->running, false, __ATOMIC_RELEASE);
		uint64_t one = 1;
		ssize_t w = write(s->event_fd, &one, sizeof(one));
		(void)w;
		pthread_join(s->thread, NULL);
	}
	while (s->conns != NULL)
		conn_close(s, s->conns);
	int fds[] = {s->udp_fd, s->listen_fd, s->event_fd, s->notify_fd4, s->notify_fd6, s->ep};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s->queued);
	free(s->nent);
	free(s->udp_in);
	free(s->udp_out);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

uint16_t
spoke_dnssrv_port(const spoke_dnssrv *srv)
{
	return srv->port;
}

void
spoke_dnssrv_get_stats(spoke_dnssrv *srv, spoke_dnssrv_stats *out)
{
	pthread_mutex_lock(&srv->mu);
	*out = srv->stats;
	pthread_mutex_unlock(&srv->mu);
}
