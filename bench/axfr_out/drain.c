/* SPDX-License-Identifier: Apache-2.0 */
/* AXFR drain client for the axfr_out benchmark: sends one (optionally TSIG-signed) AXFR
 * query over TCP and counts messages, records and bytes, decoding as little as it can so
 * the server, not the client, is what gets measured. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/file.h"
#include "dns/message.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/tsig.h"

#define RECV_BUF ((size_t)4 << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_axfr_drain [--tsig-keyfile FILE] ADDR PORT ZONE\n"
		   "  sends one AXFR for ZONE to ADDR#PORT over TCP and prints\n"
		   "  'seconds S messages M records R bytes B' once the closing SOA arrives\n");
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Skips a (possibly compressed) name at p; returns the position after it or NULL. Only
 * label lengths are read: a pointer ends the name, so no loop can happen here. */
static const uint8_t *
skip_name(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint8_t l = *p;
		if (l == 0)
			return p + 1;
		if ((l & 0xc0) == 0xc0)
			return p + 2 <= end ? p + 2 : NULL;
		if (l & 0xc0)
			return NULL;
		p += 1 + l;
	}
	return NULL;
}

/* Type of the last answer RR of a message, or -1 when it has none or is malformed. The
 * walk reads only names' label lengths and each RR's type and rdlength. */
static int
last_answer_type(const uint8_t *msg, size_t len, unsigned qd, unsigned an)
{
	const uint8_t *p = msg + FEDNS_MSG_HDRLEN, *end = msg + len;
	int type = -1;
	for (unsigned i = 0; i < qd; i++) {
		p = skip_name(p, end);
		if (p == NULL || end - p < 4)
			return -1;
		p += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		p = skip_name(p, end);
		if (p == NULL || end - p < 10)
			return -1;
		type = p[0] << 8 | p[1];
		size_t rdlen = (size_t)(p[8] << 8 | p[9]);
		p += 10;
		if ((size_t)(end - p) < rdlen)
			return -1;
		p += rdlen;
	}
	return type;
}

static int
connect_tcp(const char *addr, const char *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char *e;
	unsigned long pn = strtoul(port, &e, 10);
	if (*e != '\0' || pn == 0 || pn > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bench_axfr_drain: bad address %s#%s (IPv4 and a port)\n", addr,
			port);
		return -1;
	}
	sin.sin_port = htons((uint16_t)pn);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("bench_axfr_drain: socket");
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "bench_axfr_drain: connect %s#%s: %s\n", addr, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
load_key(const char *file, fedns_tsig_keyring *ring)
{
	char *text = NULL;
	size_t len = 0;
	fedns_diag d;
	char msg[FEDNS_DIAG_MSG_MAX + 300];
	fedns_diag_clear(&d);
	if (fedns_file_read(file, 1 << 20, &text, &len, &d) != FEDNS_OK ||
	    fedns_tsig_keyring_parse_bind(ring, file, text, len, &d) != FEDNS_OK) {
		fprintf(stderr, "bench_axfr_drain: %s\n", fedns_diag_format(&d, msg, sizeof(msg)));
		free(text);
		return -1;
	}
	free(text);
	if (ring->n == 0) {
		fprintf(stderr, "bench_axfr_drain: %s: no key in the file\n", file);
		return -1;
	}
	return 0;
}

static int
send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL;
	int ai = 1;
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--tsig-keyfile")) {
		keyfile = argv[2];
		ai = 3;
	}
	if (argc - ai != 3) {
		usage(stderr);
		return 2;
	}
	const char *addr = argv[ai], *port = argv[ai + 1], *zone_txt = argv[ai + 2];

	static fedns_tsig_keyring ring;
	if (keyfile != NULL && load_key(keyfile, &ring) != 0)
		return 1;

	uint8_t zone[FEDNS_NAME_MAXLEN];
	size_t zlen;
	fedns_diag d;
	fedns_diag_clear(&d);
	if (fedns_name_from_text(zone_txt, strlen(zone_txt), (const uint8_t *)"", zone, &zlen,
				 &d) != FEDNS_OK) {
		fprintf(stderr, "bench_axfr_drain: bad zone name %s: %s\n", zone_txt, d.msg);
		return 2;
	}

	/* Query: 2-byte TCP length, then the message (signed with the first key if any). */
	uint8_t q[2 + 512 + FEDNS_TSIG_MAXLEN];
	fedns_msgw mw;
	fedns_msgw_init(&mw, q + 2, 512, true);
	fedns_msgw_header(&mw, 0x4242, 0);
	if (fedns_msgw_question(&mw, zone, FEDNS_T_AXFR, FEDNS_C_IN) != FEDNS_OK) {
		fprintf(stderr, "bench_axfr_drain: cannot build the query\n");
		return 1;
	}
	size_t qlen = fedns_msgw_finish(&mw);
	fedns_tsig_ctx tctx;
	if (keyfile != NULL) {
		fedns_tsig_ctx_init(&tctx, &ring.keys[0]);
		size_t nl = 0;
		if (fedns_tsig_sign(&tctx, q + 2, qlen, sizeof(q) - 2, (uint64_t)time(NULL), 0,
				    &nl) != FEDNS_OK) {
			fprintf(stderr, "bench_axfr_drain: cannot sign the query\n");
			return 1;
		}
		qlen = nl;
	}
	fedns_tcp_frame_put(q, qlen);
	fedns_tsig_keyring_wipe(&ring);

	uint8_t *buf = malloc(RECV_BUF);
	if (buf == NULL) {
		fprintf(stderr, "bench_axfr_drain: out of memory\n");
		return 1;
	}

	double t0 = now_s();
	int fd = connect_tcp(addr, port);
	if (fd < 0 || send_all(fd, q, qlen + 2) != 0) {
		if (fd >= 0)
			fprintf(stderr, "bench_axfr_drain: send: %s\n", strerror(errno));
		free(buf);
		return 1;
	}

	uint64_t messages = 0, records = 0, bytes = 0;
	size_t have = 0, pos = 0;
	int done = 0, rc = 1;
	while (!done) {
		/* Complete messages in buf[pos..have) first; then read more. */
		while (have - pos >= 2) {
			size_t mlen = (size_t)(buf[pos] << 8 | buf[pos + 1]);
			if (have - pos - 2 < mlen)
				break;
			const uint8_t *m = buf + pos + 2;
			pos += 2 + mlen;
			messages++;
			bytes += mlen + 2;
			if (mlen < FEDNS_MSG_HDRLEN) {
				fprintf(stderr, "bench_axfr_drain: message %llu is %zu bytes\n",
					(unsigned long long)messages, mlen);
				goto out;
			}
			unsigned rcode = m[3] & 0x0f;
			unsigned qd = (unsigned)(m[4] << 8 | m[5]);
			unsigned an = (unsigned)(m[6] << 8 | m[7]);
			if (rcode != 0) {
				fprintf(stderr, "bench_axfr_drain: message %llu has rcode %u\n",
					(unsigned long long)messages, rcode);
				goto out;
			}
			records += an;
			/* The closing SOA: the last answer RR is a SOA and it is not the
			 * opening one (more than one record so far). */
			if (an > 0 && records > 1 &&
			    last_answer_type(m, mlen, qd, an) == FEDNS_T_SOA) {
				done = 1;
				break;
			}
		}
		if (done)
			break;
		if (pos > 0) {
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
		}
		ssize_t n = recv(fd, buf + have, RECV_BUF - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "bench_axfr_drain: recv: %s\n", strerror(errno));
			goto out;
		}
		if (n == 0) {
			fprintf(stderr,
				"bench_axfr_drain: server closed after %llu messages, %llu records "
				"without the closing SOA\n",
				(unsigned long long)messages, (unsigned long long)records);
			goto out;
		}
		have += (size_t)n;
	}
	double t1 = now_s();
	printf("seconds %.6f messages %llu records %llu bytes %llu\n", t1 - t0,
	       (unsigned long long)messages, (unsigned long long)records,
	       (unsigned long long)bytes);
	rc = 0;
out:
	close(fd);
	free(buf);
	return rc;
}
