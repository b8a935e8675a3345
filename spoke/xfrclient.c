/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking DNS client for SOA checks, AXFR pulls and NOTIFY, with TSIG. */
#include "spoke/xfrclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "dns/message.h"
#include "dns/rdata.h"
#include "dns/xfr.h"
#include "dns/zonemd.h"

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

fedns_err
spoke_parse_addr(const char *s, uint16_t default_port, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 8];
	unsigned long port = default_port;
	const char *ps = NULL;
	size_t hl;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return FEDNS_ESYNTAX;
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof(host))
			return FEDNS_ESYNTAX;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (close[1] == ':' || close[1] == '#')
			ps = close + 2;
		else if (close[1] != '\0')
			return FEDNS_ESYNTAX;
	} else {
		const char *sep = strchr(s, '#');
		const char *colon = strchr(s, ':');
		if (sep == NULL && colon != NULL && strchr(colon + 1, ':') == NULL)
			sep = colon; /* v4:port */
		hl = sep ? (size_t)(sep - s) : strlen(s);
		if (hl >= sizeof(host))
			return FEDNS_ESYNTAX;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (sep)
			ps = sep + 1;
	}
	if (ps != NULL) {
		char *end;
		errno = 0;
		port = strtoul(ps, &end, 10);
		if (*ps == '\0' || *end != '\0' || errno != 0 || port > 65535)
			return FEDNS_ESYNTAX;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return FEDNS_OK;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return FEDNS_OK;
	}
	return FEDNS_ESYNTAX;
}

static unsigned
timeout_of(const spoke_xfrclient_opts *o)
{
	return o->timeout_ms ? o->timeout_ms : 5000;
}

/* Waits for fd to become ready for 'events' before the deadline. */
static fedns_err
wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			return FEDNS_EIO;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return FEDNS_OK;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static fedns_err
read_full(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;
	while (got < n) {
		fedns_err err = wait_fd(fd, POLLIN, deadline);
		if (err != FEDNS_OK)
			return err;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return FEDNS_EIO;
		got += (size_t)r;
	}
	return FEDNS_OK;
}

static fedns_err
write_full(int fd, const uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t off = 0;
	while (off < n) {
		fedns_err err = wait_fd(fd, POLLOUT, deadline);
		if (err != FEDNS_OK)
			return err;
		ssize_t r = send(fd, buf + off, n - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return FEDNS_EIO;
		off += (size_t)r;
	}
	return FEDNS_OK;
}

static int
connect_tcp(const spoke_xfrclient_opts *o, uint64_t deadline, fedns_diag *d)
{
	int fd = socket(o->server.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fedns_diag_set(d, -errno, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&o->server, o->server_len) != 0 &&
	    errno != EINPROGRESS) {
		fedns_diag_set(d, FEDNS_EIO, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (wait_fd(fd, POLLOUT, deadline) != FEDNS_OK) {
		fedns_diag_set(d, FEDNS_EIO, "connect: timed out");
		close(fd);
		return -1;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0) {
		fedns_diag_set(d, FEDNS_EIO, "connect: %s", strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

/* Builds a query (signed when a key is set) into buf; returns its length or 0. */
static size_t
build_query(const spoke_xfrclient_opts *o, fedns_tsig_ctx *tctx, uint16_t id, uint16_t flags,
	    const uint8_t *zone, uint16_t qtype, const fedns_rr *answer, uint8_t *buf, size_t cap)
{
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, cap - FEDNS_TSIG_MAXLEN, true);
	fedns_msgw_header(&mw, id, flags);
	fedns_msgw_question(&mw, zone, qtype, FEDNS_C_IN);
	if (answer != NULL)
		fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, answer);
	size_t len = fedns_msgw_finish(&mw);
	if (len == 0 || o->key == NULL)
		return len;
	fedns_tsig_ctx_init(tctx, o->key);
	size_t nl = 0;
	if (fedns_tsig_sign(tctx, buf, len, cap, (uint64_t)time(NULL), 0, &nl) != FEDNS_OK)
		return 0;
	return nl;
}

static uint16_t
random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)mono_ms();
	return id;
}

/* Checks an answer's id/question and TSIG; parses into m. */
static fedns_err
check_answer(const spoke_xfrclient_opts *o, fedns_tsig_ctx *tctx, uint16_t id, const uint8_t *buf,
	     size_t len, fedns_arena *arena, fedns_msg *m, fedns_diag *d)
{
	fedns_err err = fedns_msg_parse(buf, len, arena, m);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "malformed answer: %s", fedns_strerror(err));
	if (m->hdr.id != id || !(m->hdr.flags & FEDNS_F_QR))
		return fedns_diag_set(d, FEDNS_EMALFORMED, "answer does not match the query");
	if (o->key != NULL) {
		err = fedns_tsig_verify_answer(tctx, buf, len, m, (uint64_t)time(NULL));
		if (err != FEDNS_OK)
			return fedns_diag_set(d, FEDNS_EAUTH,
					      "answer failed TSIG verification (%s)",
					      err == FEDNS_ENOENT ? "unsigned" : "bad signature");
	}
	return FEDNS_OK;
}

/* One query over TCP, first answer message returned in buf/m. */
static fedns_err
tcp_exchange_first(int fd, const uint8_t *q, size_t qlen, uint8_t *buf, size_t *len,
		   uint64_t deadline)
{
	uint8_t pfx[2];
	fedns_tcp_frame_put(pfx, qlen);
	fedns_err err = write_full(fd, pfx, 2, deadline);
	if (err == FEDNS_OK)
		err = write_full(fd, q, qlen, deadline);
	if (err != FEDNS_OK)
		return err;
	err = read_full(fd, pfx, 2, deadline);
	if (err != FEDNS_OK)
		return err;
	size_t n = fedns_get_u16(pfx);
	if (n < FEDNS_MSG_HDRLEN)
		return FEDNS_EMALFORMED;
	err = read_full(fd, buf, n, deadline);
	*len = n;
	return err;
}

fedns_err
spoke_xfrclient_soa(const spoke_xfrclient_opts *o, const uint8_t *zone, uint32_t *serial,
		    fedns_diag *d)
{
	uint64_t deadline = mono_ms() + timeout_of(o);
	uint8_t q[FEDNS_UDP_MINLEN + FEDNS_TSIG_MAXLEN];
	uint8_t *ans = malloc(FEDNS_MSG_MAXLEN);
	if (ans == NULL)
		return FEDNS_ENOMEM;
	fedns_tsig_ctx tctx;
	uint16_t id = random_id();
	size_t qlen = build_query(o, &tctx, id, 0, zone, FEDNS_T_SOA, NULL, q, sizeof(q));
	fedns_err err = FEDNS_OK;
	fedns_arena arena;
	fedns_arena_init(&arena, 4096, 1 << 20);
	int fd = -1;
	if (qlen == 0) {
		err = fedns_diag_set(d, FEDNS_ETOOBIG, "cannot build the SOA query");
		goto out;
	}
	/* UDP first, with one retry inside the time budget */
	fd = socket(o->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->server, o->server_len) != 0) {
		err = fedns_diag_set(d, FEDNS_EIO, "cannot reach server: %s", strerror(errno));
		goto out;
	}
	ssize_t n = -1;
	for (int attempt = 0; attempt < 3 && n < 0; attempt++) {
		send(fd, q, qlen, 0);
		uint64_t until = mono_ms() + timeout_of(o) / 3;
		if (until > deadline)
			until = deadline;
		while (wait_fd(fd, POLLIN, until) == FEDNS_OK) {
			n = recv(fd, ans, FEDNS_MSG_MAXLEN, 0);
			if (n >= FEDNS_MSG_HDRLEN && fedns_get_u16(ans) == id)
				break;
			n = -1; /* stray or refused-port datagram: keep waiting */
		}
	}
	if (n < 0) {
		err = fedns_diag_set(d, FEDNS_EIO, "no answer to the SOA query (timed out)");
		goto out;
	}
	size_t alen = (size_t)n;
	if (fedns_get_u16(ans + 2) & FEDNS_F_TC) {
		close(fd);
		fd = connect_tcp(o, deadline, d);
		if (fd < 0) {
			err = FEDNS_EIO;
			goto out;
		}
		qlen = build_query(o, &tctx, id, 0, zone, FEDNS_T_SOA, NULL, q, sizeof(q));
		err = tcp_exchange_first(fd, q, qlen, ans, &alen, deadline);
		if (err != FEDNS_OK) {
			fedns_diag_set(d, err, "SOA query over TCP failed");
			goto out;
		}
	}
	fedns_msg m;
	err = check_answer(o, &tctx, id, ans, alen, &arena, &m, d);
	if (err != FEDNS_OK)
		goto out;
	uint8_t rc = fedns_msg_rcode(m.hdr.flags);
	if (rc != FEDNS_RCODE_NOERROR) {
		err = fedns_diag_set(d, FEDNS_ENOENT, "server answered rcode %u for the SOA", rc);
		goto out;
	}
	err = fedns_diag_set(d, FEDNS_ENOENT, "answer has no SOA for the zone");
	for (uint16_t i = 0; i < m.count[FEDNS_SEC_ANSWER]; i++) {
		const fedns_rr *rr = &m.sec[FEDNS_SEC_ANSWER][i];
		if (rr->type == FEDNS_T_SOA && fedns_name_equal(rr->owner, zone) &&
		    fedns_rdata_check(FEDNS_T_SOA, rr->rdata, rr->rdlen) == FEDNS_OK) {
			*serial = fedns_soa_serial(rr->rdata, rr->rdlen);
			fedns_diag_clear(d);
			err = FEDNS_OK;
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	fedns_arena_fini(&arena);
	free(ans);
	fedns_secure_zero(&tctx, sizeof(tctx));
	return err;
}

fedns_err
spoke_xfrclient_axfr(const spoke_xfrclient_opts *o, const uint8_t *zone, fedns_zone **out,
		     fedns_diag *d)
{
	/* a whole transfer gets ten times the per-operation budget */
	uint64_t deadline = mono_ms() + 10u * timeout_of(o);
	uint8_t q[FEDNS_UDP_MINLEN + FEDNS_TSIG_MAXLEN];
	uint8_t *buf = malloc(FEDNS_MSG_MAXLEN);
	if (buf == NULL)
		return FEDNS_ENOMEM;
	fedns_tsig_ctx tctx;
	fedns_xfr_in xin;
	fedns_err err = fedns_xfr_in_init(&xin, zone, FEDNS_C_IN, NULL);
	fedns_arena arena;
	fedns_arena_init(&arena, 64 * 1024, 0);
	int fd = -1;
	uint16_t id = random_id();
	size_t qlen = 0;
	if (err != FEDNS_OK)
		goto out;
	qlen = build_query(o, &tctx, id, 0, zone, FEDNS_T_AXFR, NULL, q, sizeof(q));
	fd = connect_tcp(o, deadline, d);
	if (fd < 0) {
		err = FEDNS_EIO;
		goto out;
	}
	uint8_t pfx[2];
	fedns_tcp_frame_put(pfx, qlen);
	if ((err = write_full(fd, pfx, 2, deadline)) != FEDNS_OK ||
	    (err = write_full(fd, q, qlen, deadline)) != FEDNS_OK) {
		fedns_diag_set(d, err, "sending the AXFR query failed");
		goto out;
	}
	while (!xin.done) {
		if ((err = read_full(fd, pfx, 2, deadline)) != FEDNS_OK) {
			fedns_diag_set(d, err, "transfer broke off after %llu messages",
				       (unsigned long long)xin.msgs);
			goto out;
		}
		size_t n = fedns_get_u16(pfx);
		if (n < FEDNS_MSG_HDRLEN || (err = read_full(fd, buf, n, deadline)) != FEDNS_OK) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED, "bad transfer message framing");
			goto out;
		}
		fedns_arena_reset(&arena);
		fedns_msg m;
		if ((err = check_answer(o, &tctx, id, buf, n, &arena, &m, d)) != FEDNS_OK)
			goto out;
		if ((err = fedns_xfr_in_feed(&xin, &m, d)) != FEDNS_OK)
			goto out;
	}
	bool uptodate;
	err = fedns_xfr_in_finish(&xin, out, &uptodate, d);
out:
	if (fd >= 0)
		close(fd);
	fedns_xfr_in_fini(&xin);
	fedns_arena_fini(&arena);
	free(buf);
	fedns_secure_zero(&tctx, sizeof(tctx));
	return err;
}

fedns_err
spoke_xfrclient_digest(const spoke_xfrclient_opts *o, const uint8_t *zone, uint8_t digest[48],
		       uint32_t *serial, fedns_diag *d)
{
	fedns_zone *z = NULL;
	fedns_err err = spoke_xfrclient_axfr(o, zone, &z, d);
	if (err != FEDNS_OK)
		return err;
	size_t dl = 0;
	err = fedns_zonemd_compute(z, FEDNS_ZONEMD_SHA384, digest, &dl);
	*serial = fedns_zone_serial(z);
	fedns_zone_free(z);
	return err;
}

fedns_err
spoke_xfrclient_notify(const spoke_xfrclient_opts *o, const uint8_t *zone, uint32_t serial,
		       fedns_diag *d)
{
	(void)serial;
	uint64_t deadline = mono_ms() + timeout_of(o);
	uint8_t q[FEDNS_UDP_MINLEN + FEDNS_TSIG_MAXLEN], ans[FEDNS_UDP_MINLEN * 8];
	fedns_tsig_ctx tctx;
	uint16_t id = random_id();
	size_t qlen = build_query(o, &tctx, id, (uint16_t)((FEDNS_OP_NOTIFY << 11) | FEDNS_F_AA),
				  zone, FEDNS_T_SOA, NULL, q, sizeof(q));
	int fd = socket(o->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fedns_err err = FEDNS_EIO;
	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->server, o->server_len) != 0) {
		fedns_diag_set(d, FEDNS_EIO, "cannot reach server");
		goto out;
	}
	send(fd, q, qlen, 0);
	while (wait_fd(fd, POLLIN, deadline) == FEDNS_OK) {
		ssize_t n = recv(fd, ans, sizeof(ans), 0);
		if (n >= FEDNS_MSG_HDRLEN && fedns_get_u16(ans) == id) {
			err = fedns_msg_rcode(fedns_get_u16(ans + 2)) == 0 ? FEDNS_OK : FEDNS_EAUTH;
			if (err != FEDNS_OK)
				fedns_diag_set(d, err, "NOTIFY answered rcode %u",
					       fedns_msg_rcode(fedns_get_u16(ans + 2)));
			goto out;
		}
	}
	fedns_diag_set(d, FEDNS_EIO, "no answer to NOTIFY");
out:
	if (fd >= 0)
		close(fd);
	fedns_secure_zero(&tctx, sizeof(tctx));
	return err;
}
