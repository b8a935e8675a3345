/* SPDX-License-Identifier: Apache-2.0 */
/* ZONEMD SIMPLE digests against RFC 8976 Appendix A and dnspython-computed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonemd.h"

/* RFC 8976 Appendix A.1 */
static const char A1_SHA384[] = "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9"
				"a9713b3c9ae5cc27777f98b8e730044c";
/* The same zone with SHA-512, as computed by dnspython 2.3 (an independent implementation). */
static const char A1_SHA512[] = "500d47a50c572d7f9501a01a5fa1fc2b64b1e9a58198784a6d9b0ab95fbba8a1"
				"dc9c7836c9ac4960a5625a7a67e3abe963a4d870cb97e3e67fb0a130463b33f1";
/* RFC 8976 Appendix A.3 (multiple digests, mixed-case owner). */
static const char A3_SHA384[] = "62e6cf51b02e54b9b5f967d547ce43136792901f9f88e637493daaf401c92c27"
				"9dd10f0edb1c56f8080211f8480ee306";
static const char A3_SHA512[] = "08cfa1115c7b948c4163a901270395ea226a930cd2cbcf2fa9a5e6eb85f37c8a"
				"4e114d884e66f176eab121cb02db7d652e0cc4827e7a3204f166b47e5613fd27";
/* A.1 plus apex RRSIGs covering SOA and ZONEMD and a ZONEMD below the apex, TTL 86400
 * (dnspython 2.3). */
static const char EXTRA_SHA384[] = "153f2f170c7706774441ea9b34fdff412ccc69ca4bc054d30c19ca13"
				   "31bca8760645a273c1d2b74928e1d72413d1d525";

typedef struct rdbuf {
	uint8_t b[1024];
	size_t n;
} rdbuf;

static void
put8(rdbuf *r, uint8_t v)
{
	assert_true(r->n < sizeof(r->b));
	r->b[r->n++] = v;
}

static void
put16(rdbuf *r, uint16_t v)
{
	put8(r, (uint8_t)(v >> 8));
	put8(r, (uint8_t)v);
}

static void
put32(rdbuf *r, uint32_t v)
{
	put16(r, (uint16_t)(v >> 16));
	put16(r, (uint16_t)v);
}

static void
putname(rdbuf *r, const char *text)
{
	uint8_t name[FEDNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(fedns_name_from_text(text, strlen(text), NULL, name, &len, NULL), 0);
	memcpy(r->b + r->n, name, len);
	r->n += len;
}

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
puthex(rdbuf *r, const char *hex)
{
	r->n += unhex(hex, r->b + r->n);
}

static void
add_rr(fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl, const rdbuf *rd)
{
	uint8_t name[FEDNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(fedns_name_from_text(owner, strlen(owner), NULL, name, &len, NULL), 0);
	fedns_rr rr = {.owner = name,
		       .type = type,
		       .rclass = FEDNS_C_IN,
		       .ttl = ttl,
		       .rdlen = (uint16_t)rd->n,
		       .rdata = rd->b};
	assert_int_equal(fedns_zone_add(z, &rr, 0, 1), 0);
}

static void
add_soa(fedns_zone *z, uint32_t serial)
{
	rdbuf r = {.n = 0};
	putname(&r, "ns1.example.");
	putname(&r, "admin.example.");
	put32(&r, serial);
	put32(&r, 1800);
	put32(&r, 900);
	put32(&r, 604800);
	put32(&r, 86400);
	add_rr(z, "example.", FEDNS_T_SOA, 86400, &r);
}

static void
add_name_rr(fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl, const char *target)
{
	rdbuf r = {.n = 0};
	putname(&r, target);
	add_rr(z, owner, type, ttl, &r);
}

static void
add_hex_rr(fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl, const char *hex)
{
	rdbuf r = {.n = 0};
	puthex(&r, hex);
	add_rr(z, owner, type, ttl, &r);
}

static void
add_zonemd(fedns_zone *z, const char *owner, uint32_t serial, uint8_t scheme, uint8_t alg,
	   const char *hex)
{
	rdbuf r = {.n = 0};
	put32(&r, serial);
	put8(&r, scheme);
	put8(&r, alg);
	puthex(&r, hex);
	add_rr(z, owner, FEDNS_T_ZONEMD, 86400, &r);
}

/* RRSIG with fixed fields; only the covered type and the signature vary. */
static void
add_rrsig(fedns_zone *z, const char *owner, uint16_t covered, const char *sighex)
{
	rdbuf r = {.n = 0};
	put16(&r, covered);
	put8(&r, 13);
	put8(&r, 1);
	put32(&r, 86400);
	put32(&r, 1735689600u); /* 20250101000000 */
	put32(&r, 1704067200u); /* 20240101000000 */
	put16(&r, 12345);
	putname(&r, "example.");
	puthex(&r, sighex);
	add_rr(z, owner, FEDNS_T_RRSIG, 86400, &r);
}

static fedns_zone *
new_zone(void)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t len;
	fedns_zone *z = NULL;
	assert_int_equal(fedns_name_from_text("example.", 8, NULL, origin, &len, NULL), 0);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), 0);
	assert_non_null(z);
	return z;
}

static int
fail_on_error(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	if (d->code != FEDNS_OK)
		print_error("zone error: %s\n", d->msg);
	return 0;
}

static void
finish(fedns_zone *z)
{
	assert_int_equal(fedns_zone_finish(z, fail_on_error, NULL), 0);
}

/* The RFC 8976 A.1 zone without its ZONEMD record; 'upper' spells names in other cases,
 * which must not change the digest. */
static void
add_a1_data(fedns_zone *z, int upper)
{
	add_soa(z, 2018031900);
	add_name_rr(z, upper ? "EXAMPLE." : "example.", FEDNS_T_NS, 86400,
		    upper ? "NS1.Example." : "ns1.example.");
	add_name_rr(z, "example.", FEDNS_T_NS, 86400, "ns2.example.");
	add_hex_rr(z, upper ? "Ns1.example." : "ns1.example.", FEDNS_T_A, 3600, "cb00713f");
	add_hex_rr(z, "ns2.example.", FEDNS_T_AAAA, 3600, "20010db8000000000000000000000063");
}

static void
assert_digest(const fedns_zone *z, uint8_t alg, const char *hex)
{
	uint8_t got[FEDNS_ZONEMD_MAXLEN], want[FEDNS_ZONEMD_MAXLEN];
	size_t glen = 0, wlen = unhex(hex, want);
	assert_int_equal(fedns_zonemd_compute(z, alg, got, &glen), 0);
	assert_int_equal(glen, wlen);
	if (memcmp(got, want, wlen) != 0) {
		char buf[2 * FEDNS_ZONEMD_MAXLEN + 1];
		for (size_t i = 0; i < glen; i++)
			snprintf(buf + 2 * i, 3, "%02x", got[i]);
		fail_msg("digest %s, want %s", buf, hex);
	}
}

static void
test_rfc8976_a1(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031900, 1, 1, A1_SHA384);
	finish(z);
	assert_digest(z, FEDNS_ZONEMD_SHA384, A1_SHA384);
	assert_digest(z, FEDNS_ZONEMD_SHA512, A1_SHA512);
	assert_int_equal(fedns_zonemd_verify(z), 0);
	fedns_zone_free(z);
}

/* Owner and NS target case must not matter (RFC 4034 §6.2 canonical form). */
static void
test_case_insensitive(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_a1_data(z, 1);
	finish(z);
	assert_digest(z, FEDNS_ZONEMD_SHA384, A1_SHA384);
	fedns_zone_free(z);
}

/* A.3: several ZONEMD RRs (incl. unknown scheme/algorithm), all excluded from the digest. */
static void
test_rfc8976_a3(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_soa(z, 2018031900);
	add_name_rr(z, "example.", FEDNS_T_NS, 86400, "ns1.example.");
	add_name_rr(z, "example.", FEDNS_T_NS, 86400, "ns2.example.");
	add_zonemd(z, "example.", 2018031900, 1, 1, A3_SHA384);
	add_zonemd(z, "example.", 2018031900, 1, 2, A3_SHA512);
	add_zonemd(z, "example.", 2018031900, 1, 240, "e2d523f654b9422a96c5a8f44607bbee");
	/* rdata checks hold alg 1 to 48 octets whatever the scheme */
	add_zonemd(z, "example.", 2018031900, 241, 1, A1_SHA384);
	add_hex_rr(z, "ns1.example.", FEDNS_T_A, 3600, "cb00713f");
	/* TXT "This example has multiple digests" */
	add_hex_rr(z, "ns2.example.", FEDNS_T_TXT, 86400,
		   "2154686973206578616d706c6520686173206d756c7469706c652064696765737473");
	add_hex_rr(z, "NS2.EXAMPLE.", FEDNS_T_AAAA, 3600, "20010db8000000000000000000000063");
	finish(z);
	assert_digest(z, FEDNS_ZONEMD_SHA384, A3_SHA384);
	assert_digest(z, FEDNS_ZONEMD_SHA512, A3_SHA512);
	assert_int_equal(fedns_zonemd_verify(z), 0);
	fedns_zone_free(z);
}

/* Apex ZONEMD and the apex RRSIG covering it are excluded; an apex RRSIG over SOA and a
 * ZONEMD below the apex are data and included. */
static void
test_exclusions(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031900, 1, 1, A1_SHA384);
	add_rrsig(z, "example.", FEDNS_T_ZONEMD, "00010203");
	finish(z);
	assert_digest(z, FEDNS_ZONEMD_SHA384, A1_SHA384);
	assert_int_equal(fedns_zonemd_verify(z), 0);
	fedns_zone_free(z);

	z = new_zone();
	add_a1_data(z, 0);
	add_rrsig(z, "example.", FEDNS_T_SOA, "00010203");
	add_rrsig(z, "example.", FEDNS_T_ZONEMD, "0405060708");
	add_zonemd(z, "sub.example.", 1, 1, 1,
		   "000000000000000000000000000000000000000000000000"
		   "000000000000000000000000000000000000000000000000");
	finish(z);
	assert_digest(z, FEDNS_ZONEMD_SHA384, EXTRA_SHA384);
	fedns_zone_free(z);
}

static void
test_verify_failures(void **state)
{
	(void)state;
	/* no ZONEMD at all */
	fedns_zone *z = new_zone();
	add_a1_data(z, 0);
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), FEDNS_ENOENT);
	fedns_zone_free(z);

	/* data changed after digesting */
	z = new_zone();
	add_a1_data(z, 0);
	add_hex_rr(z, "ns3.example.", FEDNS_T_A, 3600, "cb00713f");
	add_zonemd(z, "example.", 2018031900, 1, 1, A1_SHA384);
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), FEDNS_EAUTH);
	fedns_zone_free(z);

	/* right digest, wrong serial (RFC 8976 §4 step 5b) */
	z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031901, 1, 1, A1_SHA384);
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), FEDNS_EAUTH);
	fedns_zone_free(z);

	/* only unsupported scheme/algorithm: cannot be verified */
	z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031900, 1, 240, "e2d523f654b9422a96c5a8f44607bbee");
	add_zonemd(z, "example.", 2018031900, 241, 1, A1_SHA384);
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), FEDNS_ENOTSUP);
	fedns_zone_free(z);

	/* two SHA-384 records, one right: ambiguous, refused (RFC 8976 §4 step 4) */
	z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031900, 1, 1, A1_SHA384);
	add_zonemd(z, "example.", 2018031900, 1, 1,
		   "000000000000000000000000000000000000000000000000"
		   "000000000000000000000000000000000000000000000000");
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), FEDNS_EAUTH);
	fedns_zone_free(z);

	/* a wrong SHA-384 next to a right SHA-512 verifies through the SHA-512 */
	z = new_zone();
	add_a1_data(z, 0);
	add_zonemd(z, "example.", 2018031900, 1, 1,
		   "000000000000000000000000000000000000000000000000"
		   "000000000000000000000000000000000000000000000000");
	add_zonemd(z, "example.", 2018031900, 1, 2, A1_SHA512);
	finish(z);
	assert_int_equal(fedns_zonemd_verify(z), 0);
	fedns_zone_free(z);
}

static void
test_compute_args(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_a1_data(z, 0);
	finish(z);
	uint8_t out[FEDNS_ZONEMD_MAXLEN];
	size_t len = 99;
	assert_int_equal(fedns_zonemd_compute(z, 0, out, &len), FEDNS_ENOTSUP);
	assert_int_equal(fedns_zonemd_compute(z, 3, out, &len), FEDNS_ENOTSUP);
	assert_int_equal(fedns_zonemd_compute(z, 240, out, &len), FEDNS_ENOTSUP);
	assert_int_equal(len, 99);
	assert_int_equal(fedns_zonemd_compute(NULL, 1, out, &len), FEDNS_EINVAL);
	assert_int_equal(fedns_zonemd_compute(z, 1, out, &len), 0);
	assert_int_equal(len, 48);
	assert_int_equal(fedns_zonemd_compute(z, 2, out, &len), 0);
	assert_int_equal(len, 64);
	fedns_zone_free(z);
}

/* Wire form of the A.1 ZONEMD rdata: serial 2018031900 = 0x7848b91c, scheme 1, alg 1. */
static void
test_rdata(void **state)
{
	(void)state;
	uint8_t digest[48], out[6 + 64], want[6 + 48];
	unhex(A1_SHA384, digest);
	unhex("7848b91c0101", want);
	memcpy(want + 6, digest, 48);
	assert_int_equal(fedns_zonemd_rdata(2018031900u, FEDNS_ZONEMD_SHA384, digest, 48, out), 54);
	assert_memory_equal(out, want, 54);
	assert_int_equal(fedns_zonemd_rdata(0xffffffffu, 2, digest, 0, out), 6);
	assert_memory_equal(out, "\xff\xff\xff\xff\x01\x02", 6);
}

/* The digest is reproducible and sensitive to each field: TTL, rdata, owner. */
static void
test_sensitivity(void **state)
{
	(void)state;
	fedns_zone *z = new_zone();
	add_soa(z, 2018031900);
	add_name_rr(z, "example.", FEDNS_T_NS, 86400, "ns1.example.");
	add_name_rr(z, "example.", FEDNS_T_NS, 86400, "ns2.example.");
	add_hex_rr(z, "ns1.example.", FEDNS_T_A, 3601, "cb00713f"); /* TTL 3601 */
	add_hex_rr(z, "ns2.example.", FEDNS_T_AAAA, 3600, "20010db8000000000000000000000063");
	finish(z);
	uint8_t a[48], b[48];
	size_t len;
	assert_int_equal(fedns_zonemd_compute(z, 1, a, &len), 0);
	assert_int_equal(fedns_zonemd_compute(z, 1, b, &len), 0);
	assert_memory_equal(a, b, 48);
	unhex(A1_SHA384, b);
	assert_memory_not_equal(a, b, 48);
	fedns_zone_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8976_a1),	cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_rfc8976_a3),	cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_verify_failures), cmocka_unit_test(test_compute_args),
		cmocka_unit_test(test_rdata),		cmocka_unit_test(test_sensitivity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
