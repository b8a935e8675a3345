/* SPDX-License-Identifier: Apache-2.0 */
/* Times dns/zdigest on an N-record zone: the build, a one-record update (and its undo)
 * and, for comparison, the whole-zone ZONEMD the update replaces per commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonemd.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, fedns_err err)
{
	fprintf(stderr, "bench_zdigest: %s: %s\n", what, fedns_strerror(err));
	exit(1);
}

static void
mkname(const char *text, uint8_t out[FEDNS_NAME_MAXLEN])
{
	size_t len;
	fedns_err err = fedns_name_from_text(text, strlen(text), NULL, out, &len, NULL);
	if (err != FEDNS_OK)
		die(text, err);
}

static size_t
soa_rdata(uint8_t *rd, uint32_t serial)
{
	uint8_t n[FEDNS_NAME_MAXLEN];
	size_t off = 0;
	mkname("ns1.other.net.", n);
	off += fedns_name_copy(rd + off, n);
	mkname("hostmaster.bench.example.", n);
	off += fedns_name_copy(rd + off, n);
	uint32_t v[5] = {serial, 3600, 900, 604800, 300};
	for (int i = 0; i < 5; i++, off += 4) {
		rd[off] = (uint8_t)(v[i] >> 24);
		rd[off + 1] = (uint8_t)(v[i] >> 16);
		rd[off + 2] = (uint8_t)(v[i] >> 8);
		rd[off + 3] = (uint8_t)v[i];
	}
	return off;
}

/* N records: per name an A, every third name also a TXT and every fifth an AAAA. */
static fedns_zone *
make_zone(size_t records, const uint8_t *origin)
{
	fedns_zone *z = NULL;
	uint8_t owner[FEDNS_NAME_MAXLEN], rd[512];
	char text[64];
	fedns_err err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	if (err != FEDNS_OK)
		die("zone", err);
	fedns_rr rr = {.owner = origin, .type = FEDNS_T_SOA, .rclass = FEDNS_C_IN, .ttl = 3600};
	rr.rdata = rd;
	rr.rdlen = (uint16_t)soa_rdata(rd, 1);
	size_t n = 0;
	err = fedns_zone_add(z, &rr, 0, 0);
	mkname("ns1.other.net.", rd);
	rr.type = FEDNS_T_NS;
	rr.rdlen = (uint16_t)fedns_name_len(rd);
	err = err ? err : fedns_zone_add(z, &rr, 0, 0);
	n = 2;
	for (size_t i = 0; n < records && err == FEDNS_OK; i++) {
		snprintf(text, sizeof(text), "h%zu.bench.example.", i);
		mkname(text, owner);
		rr = (fedns_rr){.owner = owner, .rclass = FEDNS_C_IN, .ttl = 300, .rdata = rd};
		rr.type = FEDNS_T_A;
		rr.rdlen = 4;
		rd[0] = 10;
		rd[1] = (uint8_t)(i >> 16);
		rd[2] = (uint8_t)(i >> 8);
		rd[3] = (uint8_t)i;
		err = fedns_zone_add(z, &rr, 0, 0);
		n++;
		if (i % 3 == 0 && n < records && err == FEDNS_OK) {
			rr.type = FEDNS_T_TXT;
			rd[0] = (uint8_t)snprintf((char *)rd + 1, 64, "v=spf1 record %zu", i);
			rr.rdlen = (uint16_t)(rd[0] + 1);
			err = fedns_zone_add(z, &rr, 0, 0);
			n++;
		}
		if (i % 5 == 0 && n < records && err == FEDNS_OK) {
			rr.type = FEDNS_T_AAAA;
			memset(rd, 0, 16);
			rd[0] = 0x20;
			rd[1] = 0x01;
			rd[12] = (uint8_t)(i >> 24);
			rd[13] = (uint8_t)(i >> 16);
			rd[14] = (uint8_t)(i >> 8);
			rd[15] = (uint8_t)i;
			rr.rdlen = 16;
			err = fedns_zone_add(z, &rr, 0, 0);
			n++;
		}
	}
	if (err != FEDNS_OK)
		die("staging", err);
	err = fedns_zone_finish(z, NULL, NULL);
	if (err != FEDNS_OK)
		die("finish", err);
	return z;
}

int
main(int argc, char **argv)
{
	size_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 1000;
	uint8_t origin[FEDNS_NAME_MAXLEN], owner[FEDNS_NAME_MAXLEN], rd[2][512], a[4];
	fedns_zdigest *zd = NULL, *check = NULL;
	fedns_zone *z2 = NULL;
	fedns_diff diff;
	fedns_diag d = {0};
	uint8_t root1[32], root2[32], r[32], md[FEDNS_ZONEMD_MAXLEN];
	size_t mdlen;
	fedns_err err;

	if (records < 3 || rounds < 1) {
		fprintf(stderr, "usage: bench_zdigest [RECORDS >= 3] [ROUNDS >= 1]\n");
		return 2;
	}
	mkname("bench.example.", origin);
	fedns_zone *z1 = make_zone(records, origin);

	double t0 = now();
	if ((err = fedns_zdigest_new(z1, &zd)) != FEDNS_OK)
		die("zdigest_new", err);
	double t_build = now() - t0;
	fedns_zdigest_root(zd, root1);

	t0 = now();
	if ((err = fedns_zonemd_compute(z1, FEDNS_ZONEMD_SHA384, md, &mdlen)) != FEDNS_OK)
		die("zonemd", err);
	double t_zonemd = now() - t0;

	/* one-record change: serial + 1 and one new A record (an IXFR-shaped diff) */
	fedns_diff_init(&diff);
	fedns_rr soa;
	fedns_zone_soa(z1, &soa);
	fedns_rr del = soa, add = soa;
	memcpy(rd[0], soa.rdata, soa.rdlen);
	add.rdlen = (uint16_t)soa_rdata(rd[1], fedns_zone_serial(z1) + 1);
	add.rdata = rd[1];
	del.rdata = rd[0];
	mkname("new-host.bench.example.", owner);
	a[0] = 192, a[1] = 0, a[2] = 2, a[3] = 77;
	fedns_rr arr = {.owner = owner,
			.type = FEDNS_T_A,
			.rclass = FEDNS_C_IN,
			.ttl = 300,
			.rdlen = 4,
			.rdata = a};
	if ((err = fedns_diff_del(&diff, &del)) || (err = fedns_diff_add(&diff, &add)) ||
	    (err = fedns_diff_add(&diff, &arr)))
		die("diff", err);
	t0 = now();
	if ((err = fedns_diff_apply(z1, &diff, &z2, &d)) != FEDNS_OK)
		die(d.msg, err);
	double t_apply = now() - t0;

	/* alternate forward and undo so every round is the same one-record change */
	double t_fwd = 0, t_back = 0, best = 1e9;
	for (int i = 0; i < rounds; i++) {
		t0 = now();
		err = fedns_zdigest_update(zd, z2, &diff);
		double t = now() - t0;
		t_fwd += t;
		if (t < best)
			best = t;
		if (err != FEDNS_OK)
			die("update", err);
		if (i == 0)
			fedns_zdigest_root(zd, root2);
		t0 = now();
		err = fedns_zdigest_update(zd, z1, &diff);
		t_back += now() - t0;
		if (err != FEDNS_OK)
			die("undo", err);
	}
	fedns_zdigest_root(zd, r);
	if (memcmp(r, root1, 32) != 0) {
		fprintf(stderr, "bench_zdigest: root after undo differs from the build\n");
		return 1;
	}
	if ((err = fedns_zdigest_new(z2, &check)) != FEDNS_OK)
		die("zdigest_new v2", err);
	fedns_zdigest_root(check, r);
	if (memcmp(r, root2, 32) != 0) {
		fprintf(stderr, "bench_zdigest: updated root differs from a build of v2\n");
		return 1;
	}

	size_t sets = fedns_zdigest_count(zd), mem = fedns_zdigest_memory(zd);
	double upd_us = t_fwd / rounds * 1e6;
	printf("zdigest: %zu records, %zu RRsets, %d update rounds (forward and undo)\n",
	       fedns_zone_rr_count(z1), sets, rounds);
	printf("build %.3f s, zonemd sha384 %.3f s, diff_apply %.3f s\n", t_build, t_zonemd,
	       t_apply);
	printf("update mean %.2f us (best %.2f us), undo mean %.2f us\n", upd_us, best * 1e6,
	       t_back / rounds * 1e6);
	printf("memory %.1f MiB (%.1f bytes per RRset), zone %.1f MiB\n", mem / 1048576.0,
	       (double)mem / (double)sets, fedns_zone_memory(z1) / 1048576.0);
	printf("figure: zdigest_build_seconds %.3f s\n", t_build);
	printf("figure: zdigest_update_one_record_us %.2f us\n", upd_us);
	printf("figure: zdigest_memory %.1f MiB\n", mem / 1048576.0);
	printf("figure: zdigest_bytes_per_rrset %.1f B\n", (double)mem / (double)sets);
	printf("figure: zonemd_sha384_seconds %.3f s\n", t_zonemd);
	printf("ratio: zdigest_update_vs_zonemd %.0f\n", t_zonemd / (t_fwd / rounds));

	fedns_zdigest_free(check);
	fedns_zdigest_free(zd);
	fedns_diff_fini(&diff);
	fedns_zone_free(z2);
	fedns_zone_free(z1);
	return 0;
}
