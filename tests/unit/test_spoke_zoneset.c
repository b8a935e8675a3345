/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/zoneset: versions, IXFR journal chains and trimming, versions held
 * by transfers outliving replacement, catalog membership, all-or-nothing updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"
#include "spoke/zoneset.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";
static const uint8_t other[] = "\x07"
			       "example\x03"
			       "org";
static const uint8_t cat[] = "\x03"
			     "cat\x05"
			     "fedns";

static fedns_zone *
zone_at(const uint8_t *o, uint32_t serial, const char *www)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "$TTL 60\n@ SOA ns hm %u 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A %s\n", serial,
		 www);
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(o, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = o};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &opts, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

typedef struct seen {
	unsigned calls;
	uint8_t last[FEDNS_NAME_MAXLEN];
	uint32_t serial;
} seen;

static void
on_change(void *ctx, const uint8_t *o, uint32_t serial)
{
	seen *s = ctx;
	s->calls++;
	fedns_name_copy(s->last, o);
	s->serial = serial;
}

static void
test_versions_and_journal(void **state)
{
	(void)state;
	spoke_zoneset_opts o = {.journal_max = 3};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(&o, &zs), FEDNS_OK);
	seen s = {0};
	spoke_zoneset_on_change(zs, on_change, &s);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 1, "192.0.2.10"), NULL), FEDNS_OK);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.serial, 1);

	/* a transfer holds version 1 while versions 2..5 arrive */
	spoke_version *held = spoke_zoneset_get(zs, origin);
	assert_non_null(held);
	for (uint32_t ser = 2; ser <= 5; ser++) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%u", 10 + ser);
		assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, ser, a), NULL), FEDNS_OK);
	}
	assert_int_equal(s.calls, 5);
	assert_int_equal(held->serial, 1);
	assert_int_equal(fedns_zone_serial(held->zone), 1);
	assert_non_null(fedns_zone_find(held->zone, origin, FEDNS_T_SOA));

	spoke_version *cur = spoke_zoneset_get(zs, origin);
	assert_int_equal(cur->serial, 5);
	spoke_jentry *j[8];
	/* journal_max 3: diffs 2->3, 3->4, 4->5 are kept; 1->2 is gone */
	long n = spoke_zoneset_journal(zs, cur, 2, j, 8);
	assert_int_equal(n, 3);
	assert_int_equal(j[0]->from, 2);
	assert_int_equal(j[2]->to, 5);
	/* each diff deletes the old www and adds the new one, SOAs first */
	assert_int_equal(j[0]->diff.ndel, 2);
	assert_int_equal(j[0]->diff.add[0].type, FEDNS_T_SOA);
	for (long i = 0; i < n; i++)
		spoke_jentry_rele(j[i]);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 1, j, 8), -1);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 5, j, 8), 0);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 4, j, 8), 1);
	spoke_jentry_rele(j[0]);
	/* a max too small to hold the chain means AXFR */
	assert_int_equal(spoke_zoneset_journal(zs, cur, 2, j, 2), -1);

	/* stale and equal serials are refused and change nothing */
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_zone *stale = zone_at(origin, 5, "192.0.2.99");
	assert_int_equal(spoke_zoneset_put(zs, stale, &d), FEDNS_ESTALE);
	assert_non_null(strstr(d.msg, "not greater"));
	fedns_zone_free(stale);
	spoke_version *again = spoke_zoneset_get(zs, origin);
	assert_ptr_equal(again, cur);
	spoke_version_rele(again);

	spoke_version_rele(cur);
	spoke_version_rele(held); /* the old version goes now, not before */
	spoke_zoneset_free(zs);
}

static void
test_apply(void **state)
{
	(void)state;
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	fedns_zone *v1 = zone_at(origin, 1, "192.0.2.1");
	fedns_zone *v2 = zone_at(origin, 2, "192.0.2.2");
	assert_int_equal(spoke_zoneset_put(zs, v1, NULL), FEDNS_OK);
	fedns_diff diff;
	fedns_diff_init(&diff);
	spoke_version *cur = spoke_zoneset_get(zs, origin);
	assert_int_equal(fedns_diff_compute(cur->zone, v2, &diff), FEDNS_OK);
	spoke_version_rele(cur);

	uint32_t ns = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_zoneset_apply(zs, other, &diff, &ns, &d), FEDNS_ENOENT);
	assert_int_equal(spoke_zoneset_apply(zs, origin, &diff, &ns, &d), FEDNS_OK);
	assert_int_equal(ns, 2);
	/* the same diff again no longer starts at the current SOA: refused, state kept */
	fedns_diff again;
	fedns_diff_init(&again);
	cur = spoke_zoneset_get(zs, origin);
	fedns_zone *v1copy = zone_at(origin, 1, "192.0.2.1"); /* v1 itself belongs to zs */
	assert_int_equal(fedns_diff_compute(v1copy, v2, &again), FEDNS_OK);
	fedns_zone_free(v1copy);
	fedns_diag_clear(&d);
	assert_int_not_equal(spoke_zoneset_apply(zs, origin, &again, &ns, &d), FEDNS_OK);
	spoke_version *after = spoke_zoneset_get(zs, origin);
	assert_ptr_equal(after, cur);
	assert_int_equal(after->serial, 2);
	spoke_version_rele(after);
	spoke_version_rele(cur);
	fedns_diff_fini(&again);
	fedns_diff_fini(&diff);
	fedns_zone_free(v2);
	spoke_zoneset_free(zs);
}

static void
test_catalog_membership(void **state)
{
	(void)state;
	spoke_zoneset_opts o = {.catalog_origin = cat};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(&o, &zs), FEDNS_OK);
	seen s = {0};
	spoke_zoneset_on_change(zs, on_change, &s);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 1, "192.0.2.1"), NULL), FEDNS_OK);
	/* member change and catalog change are both reported */
	assert_int_equal(s.calls, 2);
	assert_true(fedns_name_equal(s.last, cat));
	spoke_version *c1 = spoke_zoneset_get(zs, cat);
	assert_non_null(c1);
	assert_int_equal(fedns_zone_rr_count(c1->zone), 4);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(other, 7, "192.0.2.1"), NULL), FEDNS_OK);
	spoke_version *c2 = spoke_zoneset_get(zs, cat);
	assert_int_equal(c2->serial, c1->serial + 1);
	assert_int_equal(fedns_zone_rr_count(c2->zone), 5);
	/* the catalog has a journal too, so secondaries get membership changes by IXFR */
	spoke_jentry *j[4];
	assert_int_equal(spoke_zoneset_journal(zs, c2, c1->serial, j, 4), 1);
	assert_int_equal(j[0]->diff.nadd, 2); /* new SOA, new PTR */
	spoke_jentry_rele(j[0]);

	/* a new version of a member does not touch the catalog */
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 2, "192.0.2.2"), NULL), FEDNS_OK);
	spoke_version *c3 = spoke_zoneset_get(zs, cat);
	assert_ptr_equal(c3, c2);
	spoke_version_rele(c3);

	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_OK);
	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_ENOENT);
	assert_null(spoke_zoneset_get(zs, origin));
	spoke_version *c4 = spoke_zoneset_get(zs, cat);
	assert_int_equal(c4->serial, c2->serial + 1);
	assert_int_equal(fedns_zone_rr_count(c4->zone), 4);
	uint8_t **list;
	size_t n = spoke_zoneset_list(zs, &list);
	assert_int_equal(n, 1);
	assert_true(fedns_name_equal(list[0], other));
	spoke_zoneset_list_free(list, n);

	/* a zone may not take the catalog's name */
	fedns_zone *clash = zone_at(cat, 1, "192.0.2.1");
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_zoneset_put(zs, clash, &d), FEDNS_EEXIST);
	fedns_zone_free(clash);

	spoke_version_rele(c1);
	spoke_version_rele(c2);
	spoke_version_rele(c4);
	spoke_zoneset_free(zs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_and_journal),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_catalog_membership),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
