/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a deterministic master file with exactly N records, mixed like a real zone, for the
 * zone_parse benchmark: the same N and origin always give the same bytes. */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this the apex SOA, NS and glue alone do not fit. */
#define HEADER_RECORDS 6u
#define MAX_RECORDS 100000000ul

/* Our own generator so the output does not depend on the C library's rand(). */
static uint64_t rng_state = 0x5eed0f2026fed5ull;

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ull;
	return mix64(rng_state);
}

static unsigned
below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Percent chance. */
static int
chance(unsigned pct)
{
	return below(100) < pct;
}

static const char *origin;

/* Host i's name depends only on i, so any record can point at an earlier host without
 * remembering it; the suffixes give owner names of depth 1 to 4 below the origin. */
static const char *const host_suffix[] = {
	"",	 "",	 "",	       "web",  "eu",	"us-east.k8s", "svc.cluster",
	"db.eu", "mail", "pod.k8s.eu", "corp", "a.b.c",
};
#define N_SUFFIX (sizeof(host_suffix) / sizeof(host_suffix[0]))

static void
host_name(char *buf, size_t size, uint64_t i, int absolute)
{
	const char *suf = host_suffix[mix64(i) % N_SUFFIX];
	snprintf(buf, size, "h%" PRIu64 "%s%s%s%s", i, *suf ? "." : "", suf, absolute ? "." : "",
		 absolute ? origin : "");
}

/* Writes the owner field: the name (relative or absolute at random) or, when 'same' says
 * the previous line had this owner, blank so the parser must carry the owner over. */
static void
put_owner(const char *rel, int same)
{
	if (same) {
		fputs(chance(50) ? "\t" : "    ", stdout);
		return;
	}
	if (chance(25))
		printf("%s.%s", rel, origin);
	else
		fputs(rel, stdout);
}

/* Explicit TTLs, plain and with units; an RRset picks one so all its RRs agree. */
static const char *const ttl_text[] = {"60", "300", "600",   "3600", "86400",
				       "1h", "30m", "2h30m", "1d",   "45s"};
#define N_TTL (sizeof(ttl_text) / sizeof(ttl_text[0]))

/* TTL for one RRset: mostly the default (0), else 1 + an index into ttl_text. A set with
 * mixed TTLs draws warnings that differ between tools, so the set shares one. */
static unsigned
pick_ttl(void)
{
	return chance(20) ? 1 + below(N_TTL) : 0;
}

/* TTL and class, in either order as BIND and Knot both accept. */
static void
put_ttl_class(unsigned ttl)
{
	int in = chance(40);

	if (ttl == 0)
		fputs(in ? "\tIN\t" : "\t", stdout);
	else if (in && chance(30))
		printf("\tIN\t%s\t", ttl_text[ttl - 1]);
	else
		printf("\t%s%s\t", ttl_text[ttl - 1], in ? "\tIN" : "");
}

static void
put_txt_string(unsigned len, uint64_t tag)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	/* Escapes the parsers must decode; the ';' tests that comments stop at quotes. */
	static const char *const special[] = {"\\\"", "\\\\", "\\059", "\\032", "\\255",
					      ";",    "=",    " ",     "\\(",	"()"};
	unsigned n = 0;
	int escapes = chance(20);

	putchar('"');
	n += (unsigned)printf("t%" PRIx64 " ", tag);
	while (n < len) {
		if (escapes && chance(8))
			n += (unsigned)printf("%s", special[below(10)]);
		else if (chance(12)) {
			putchar(' ');
			n++;
		} else {
			putchar(alnum[below(sizeof(alnum) - 1)]);
			n++;
		}
	}
	putchar('"');
}

/* rdata of one TXT record; 'tag' keeps RRs of one set distinct so none is folded away. */
static void
put_txt(uint64_t tag)
{
	unsigned r = below(100);

	if (r < 8) {
		/* Unquoted words are separate character-strings. */
		printf("v=spf1 ip4:10.%u.0.0/16 -all", below(256));
		printf(" t%" PRIx64, tag);
	} else if (r < 20) {
		/* Several strings, some across lines inside parentheses. */
		unsigned parts = 2 + below(3);
		int paren = chance(50);
		if (paren)
			fputs("( ", stdout);
		for (unsigned p = 0; p < parts; p++) {
			if (p)
				fputs(paren ? "\n\t\t\t" : " ", stdout);
			put_txt_string(p == 0 ? 250 : 1 + below(120), tag + p);
		}
		if (paren)
			fputs(" )", stdout);
	} else if (r < 25) {
		put_txt_string(200 + below(50), tag);
	} else {
		put_txt_string(8 + below(60), tag);
	}
}

static uint64_t emitted, total;

/* Records and hosts so far; hosts are the only MX/SRV targets, and each has an address. */
static uint64_t nhosts;

/* 1 + the host that last got an SRV set; a second set there could repeat its owner. */
static uint64_t srv_host;

static void
end_line(void)
{
	if (chance(3))
		fputs("\t; generated", stdout);
	putchar('\n');
	emitted++;
}

/* A target name for MX, SRV or CNAME: an earlier host, relative or absolute. */
static void
put_target(uint64_t avoid)
{
	char name[128];
	uint64_t j;

	if (nhosts < 2) {
		fputs(chance(50) ? "ns1" : "ns2", stdout);
		return;
	}
	j = rnd() % nhosts;
	if (j == avoid)
		j = (j + 1) % nhosts;
	host_name(name, sizeof(name), j, chance(30));
	fputs(name, stdout);
}

static void
emit_header(void)
{
	printf("; fedns bench zone, %" PRIu64 " records\n", total);
	printf("$ORIGIN %s\n", origin);
	printf("$TTL 3600\n");
	printf("@\tIN\tSOA\tns1 hostmaster (\n"
	       "\t\t\t2026112601 ; serial\n"
	       "\t\t\t7200       ; refresh\n"
	       "\t\t\t3600       ; retry\n"
	       "\t\t\t1209600    ; expire\n"
	       "\t\t\t300 )      ; minimum\n");
	printf("\tIN\tNS\tns1\n");
	printf("\tIN\tNS\tns2.%s\n", origin);
	printf("ns1\tIN\tA\t192.0.2.1\n");
	printf("\tIN\tAAAA\t2001:db8::1\n");
	printf("ns2.%s\t86400\tIN\tA\t192.0.2.2\n", origin);
	emitted = HEADER_RECORDS;
}

static int
room(void)
{
	return emitted < total;
}

/* One host: an address first (so it may serve as a target), then maybe more data. */
static void
emit_host(void)
{
	char rel[128];
	uint64_t i = nhosts;
	unsigned ttl, n;
	int same = 0;

	host_name(rel, sizeof(rel), i, 0);

	/* A or AAAA set of 1..3 distinct addresses. */
	int v6 = chance(30);
	ttl = pick_ttl();
	n = chance(80) ? 1 : 2 + below(2);
	uint32_t base = (uint32_t)rnd();
	for (unsigned k = 0; k < n && room(); k++) {
		put_owner(rel, same);
		same = 1;
		put_ttl_class(ttl);
		if (v6)
			printf("AAAA\t2001:db8:%x:%x::%x", (unsigned)(base >> 16) & 0xffff,
			       (unsigned)base & 0xffff, k + 1);
		else
			printf("A\t10.%u.%u.%u", (base >> 16) & 0xff, (base >> 8) & 0xff,
			       ((base & 0x7f) + k) & 0xff);
		end_line();
	}
	nhosts++;

	if (room() && chance(45)) {
		/* The other address family. */
		put_owner(rel, same);
		put_ttl_class(pick_ttl());
		if (v6)
			printf("A\t10.%u.%u.%u", below(256), below(256), below(256));
		else
			printf("AAAA\t2001:db8:%x::%x", below(65536), 1 + below(65535));
		end_line();
	}
	if (room() && chance(35)) {
		ttl = pick_ttl();
		n = chance(75) ? 1 : 2;
		for (unsigned k = 0; k < n && room(); k++) {
			put_owner(rel, same);
			put_ttl_class(ttl);
			fputs("TXT\t", stdout);
			put_txt(rnd());
			end_line();
		}
	}
	if (room() && chance(22)) {
		ttl = pick_ttl();
		n = 1 + below(2);
		for (unsigned k = 0; k < n && room(); k++) {
			put_owner(rel, same);
			put_ttl_class(ttl);
			printf("MX\t%u ", 10 * (k + 1));
			put_target(i);
			end_line();
		}
	}
}

/* A CNAME alone at a name of its own. */
static void
emit_cname(void)
{
	char rel[128];
	uint64_t c = rnd();

	snprintf(rel, sizeof(rel), "alias-%" PRIx64 "%s%s", emitted, (c & 3) == 0 ? ".cdn" : "",
		 (c & 12) == 0 ? ".eu" : "");
	put_owner(rel, 0);
	put_ttl_class(pick_ttl());
	fputs("CNAME\t", stdout);
	if (chance(10))
		printf("edge%u.cdn.example.net.", below(1000));
	else
		put_target(UINT64_MAX);
	end_line();
}

/* An SRV set under _tcp below the latest host. */
static void
emit_srv(void)
{
	static const char *const svc[] = {"_http", "_https", "_sip",	    "_xmpp-client",
					  "_ldap", "_imaps", "_submission", "_etcd-server"};
	char host[128], rel[192];
	unsigned ttl = pick_ttl(), n = 1 + below(3);
	unsigned port = 1024 + below(60000);

	srv_host = nhosts;
	host_name(host, sizeof(host), nhosts - 1, 0);
	snprintf(rel, sizeof(rel), "%s._tcp.%s", svc[below(8)], host);
	for (unsigned k = 0; k < n && room(); k++) {
		put_owner(rel, k > 0);
		put_ttl_class(ttl);
		printf("SRV\t%u %u %u ", below(3), 1 + below(100), port + k);
		put_target(UINT64_MAX);
		end_line();
	}
}

int
main(int argc, char **argv)
{
	char *end;
	size_t olen;

	if (argc != 3) {
		fprintf(stderr, "usage: %s N ORIGIN > zonefile\n", argv[0]);
		return 2;
	}
	errno = 0;
	unsigned long long n = strtoull(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || n < HEADER_RECORDS || n > MAX_RECORDS) {
		fprintf(stderr, "gen: N \"%s\" must be a number from %u to %lu\n", argv[1],
			HEADER_RECORDS, MAX_RECORDS);
		return 2;
	}
	olen = strlen(argv[2]);
	if (olen < 2 || argv[2][olen - 1] != '.' || olen > 200) {
		fprintf(stderr, "gen: ORIGIN \"%s\" must be an absolute name like example.com.\n",
			argv[2]);
		return 2;
	}
	origin = argv[2];
	total = n;

	emit_header();
	while (room()) {
		unsigned r = below(100);
		if (r < 70 || nhosts == 0)
			emit_host();
		else if (r < 85)
			emit_cname();
		else if (srv_host == nhosts)
			emit_host();
		else
			emit_srv();
		/* An occasional $TTL change; RRsets never straddle one. */
		if (chance(1))
			printf("$TTL %u\n", chance(50) ? 3600u : 300u + 60u * below(10));
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen: write");
		return 1;
	}
	return 0;
}
