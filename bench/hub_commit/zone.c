/* SPDX-License-Identifier: Apache-2.0 */
/* The zone work of one hub commit, in-process and in CPU time: applying a one-record diff
 * and computing the new version's ZONEMD, the whole-zone way (fedns_diff_apply +
 * fedns_zonemd_compute) against the copy-on-write way (fedns_zone_derive + the cached
 * fedns_zone_zonemd), and the incremental digest (dns/zdigest) as an alternative to
 * ZONEMD. The added names are the load generator's ("bench-c1-<n>"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/sha2.h"
#include "common/sha2_internal.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		fclose(f);
		return NULL;
	}
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The diff of commit 'i': the SOA serial + 1 and one added A record "<prefix>-<i>". */
static void
make_diff(const fedns_zone *z, const char *prefix, unsigned i, fedns_diff *d, uint8_t *soa_rd,
	  uint8_t *owner)
{
	fedns_rr soa;
	fedns_zone_soa(z, &soa);
	fedns_diff_init(d);
	fedns_diff_del(d, &soa);
	memcpy(soa_rd, soa.rdata, soa.rdlen);
	fedns_soa_set_serial(soa_rd, soa.rdlen, fedns_zone_serial(z) + 1);
	fedns_rr ns = soa;
	ns.rdata = soa_rd;
	fedns_diff_add(d, &ns);
	char text[128];
	snprintf(text, sizeof(text), "%s-%u", prefix, i);
	size_t len;
	fedns_name_from_text(text, strlen(text), fedns_zone_origin(z), owner, &len, NULL);
	static const uint8_t ip[4] = {192, 0, 2, 7};
	fedns_rr a = {.owner = owner,
		      .type = FEDNS_T_A,
		      .rclass = FEDNS_C_IN,
		      .ttl = 300,
		      .rdlen = 4,
		      .rdata = ip};
	fedns_diff_add(d, &a);
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_hub_commit_zone ZONEFILE ORIGIN [COMMITS]\n");
		return 2;
	}
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 200;
	size_t len;
	char *text = slurp(argv[1], &len);
	uint8_t origin[FEDNS_NAME_MAXLEN], soa_rd[FEDNS_RDATA_MAXLEN], owner[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag d = {0};
	if (text == NULL ||
	    fedns_name_from_text(argv[2], strlen(argv[2]), NULL, origin, &olen, &d) != FEDNS_OK) {
		fprintf(stderr, "bench_hub_commit_zone: cannot read %s or origin %s\n", argv[1],
			argv[2]);
		return 1;
	}
	fedns_zone *z = NULL;
	fedns_zonefile_opts zo = {.origin = origin};
	if (fedns_zone_new(origin, FEDNS_C_IN, NULL, &z) != FEDNS_OK ||
	    fedns_zonefile_parse(argv[1], text, len, &zo, z, &d) != FEDNS_OK ||
	    fedns_zone_finish(z, NULL, NULL) != FEDNS_OK || fedns_zone_share(z) != FEDNS_OK) {
		fprintf(stderr, "bench_hub_commit_zone: %s: %s\n", argv[1], d.msg);
		return 1;
	}
	free(text);
	uint8_t md[FEDNS_ZONEMD_MAXLEN];
	size_t mdlen;
	fedns_zone_zonemd(z, FEDNS_ZONEMD_SHA384, md, &mdlen);

	/* the bytes ZONEMD hashes */
	uint8_t *scratch = malloc(FEDNS_ZONEMD_SCRATCH);
	size_t canon = 0;
	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	const fedns_rrset *s;
	while ((s = fedns_zone_iter_next(&it)) != NULL)
		canon += fedns_zonemd_rrset_wire(s, fedns_name_equal(s->owner, origin), scratch,
						 NULL, 0);
	free(scratch);
	printf("zone: %zu records, %zu RRsets, %zu bytes in ZONEMD's canonical form\n",
	       fedns_zone_rr_count(z), fedns_zone_rrset_count(z), canon);

	/* whole-zone: what every commit cost before (the chain stays on the base zone) */
	double apply = 0, digest = 0;
	for (unsigned i = 0; i < n; i++) {
		fedns_diff df;
		make_diff(z, "bench-c1", i, &df, soa_rd, owner);
		fedns_zone *nz = NULL;
		double a0 = cpu_now();
		if (fedns_diff_apply(z, &df, &nz, &d) != FEDNS_OK) {
			fprintf(stderr, "apply: %s\n", d.msg);
			return 1;
		}
		double a1 = cpu_now();
		fedns_zonemd_compute(nz, FEDNS_ZONEMD_SHA384, md, &mdlen);
		digest += cpu_now() - a1;
		apply += a1 - a0;
		fedns_zone_free(nz);
		fedns_diff_fini(&df);
	}
	printf("whole zone: apply %.3f ms, ZONEMD %.3f ms per commit\n", apply * 1e3 / n,
	       digest * 1e3 / n);
	printf("figure: hub_commit_zone_apply_whole_ms %.3f ms\n", apply * 1e3 / n);
	printf("figure: hub_commit_zone_zonemd_whole_ms %.3f ms\n", digest * 1e3 / n);

	/* copy-on-write: each commit derives from the previous version */
	fedns_zone *cur = z;
	fedns_zdigest *zd = NULL;
	if (fedns_zdigest_new(z, &zd) != FEDNS_OK) {
		fprintf(stderr, "bench_hub_commit_zone: zdigest failed\n");
		return 1;
	}
	double der = 0, dig = 0, zdu = 0;
	for (unsigned i = 0; i < n; i++) {
		fedns_diff df;
		make_diff(cur, "bench-c1", i, &df, soa_rd, owner);
		fedns_zone *nz = NULL;
		double a0 = cpu_now();
		fedns_err err = fedns_zone_derive(cur, df.del, df.ndel, df.add, df.nadd, &nz);
		double a1 = cpu_now();
		if (err != FEDNS_OK) {
			fprintf(stderr, "derive: %s\n", fedns_strerror(err));
			return 1;
		}
		fedns_zone_zonemd(nz, FEDNS_ZONEMD_SHA384, md, &mdlen);
		double a2 = cpu_now();
		fedns_zdigest_update(zd, nz, &df);
		zdu += cpu_now() - a2;
		der += a1 - a0;
		dig += a2 - a1;
		if (cur != z)
			fedns_zone_free(cur);
		cur = nz;
		fedns_diff_fini(&df);
	}
	printf("copy-on-write: derive %.3f ms, cached ZONEMD %.3f ms per commit; the incremental "
	       "digest's update would be %.3f ms\n",
	       der * 1e3 / n, dig * 1e3 / n, zdu * 1e3 / n);
	printf("figure: hub_commit_zone_derive_ms %.3f ms\n", der * 1e3 / n);
	printf("figure: hub_commit_zone_zonemd_cached_ms %.3f ms\n", dig * 1e3 / n);
	printf("figure: hub_commit_zone_zdigest_update_ms %.3f ms\n", zdu * 1e3 / n);
	/* SHA-384 alone over as many bytes as the canonical form (a ZONEMD once cached is not
	 * recomputed), on the portable SHA-512 code and on the one this CPU gets */
	double sha[2] = {0, 0};
	uint8_t *bytes = malloc(canon > 0 ? canon : 1);
	if (bytes == NULL) {
		fprintf(stderr, "bench_hub_commit_zone: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < canon; i++)
		bytes[i] = (uint8_t)(i * 131 + (i >> 9));
	for (int portable = 1; portable >= 0; portable--) {
		fedns_sha512_use_portable(portable == 1);
		double a0 = cpu_now();
		for (unsigned i = 0; i < n; i++)
			fedns_hash_once(FEDNS_HASH_SHA384, bytes, canon, md);
		sha[portable] = (cpu_now() - a0) / n;
	}
	free(bytes);
	printf("SHA-384 of %zu bytes: %.3f ms portable, %.3f ms %s (%.0f / %.0f MB/s)\n", canon,
	       sha[1] * 1e3, sha[0] * 1e3, fedns_sha512_accelerated() ? "AVX2" : "portable",
	       (double)canon / sha[1] / 1e6, (double)canon / sha[0] / 1e6);
	printf("figure: hub_commit_zone_sha384_portable_ms %.3f ms\n", sha[1] * 1e3);
	printf("figure: hub_commit_zone_sha384_ms %.3f ms\n", sha[0] * 1e3);
	fedns_zdigest_free(zd);
	if (cur != z)
		fedns_zone_free(cur);
	fedns_zone_free(z);
	return 0;
}
