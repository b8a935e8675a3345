/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus text writers: exact bytes of headers, samples, escaping, numbers and
 * histograms, and the sticky EINVAL for names the format does not allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/prom.h"

static void
assert_text(fedns_buf *b, const char *want)
{
	assert_int_equal(b->err, FEDNS_OK);
	assert_non_null(b->data);
	assert_string_equal((const char *)b->data, want);
	assert_int_equal(b->len, strlen(want));
}

static void
test_family(void **state)
{
	(void)state;
	fedns_buf b;

	fedns_buf_init(&b, 4096);
	fedns_prom_family(&b, "fedns_hub_zones", FEDNS_PROM_GAUGE, "Zones by state.");
	fedns_prom_family(&b, "a:b_c", FEDNS_PROM_COUNTER, "back\\slash and\nnewline \"kept\"");
	fedns_prom_family(&b, "h", FEDNS_PROM_HISTOGRAM, NULL);
	fedns_prom_family(&b, "u", FEDNS_PROM_UNTYPED, "");
	assert_text(&b, "# HELP fedns_hub_zones Zones by state.\n"
			"# TYPE fedns_hub_zones gauge\n"
			"# HELP a:b_c back\\\\slash and\\nnewline \"kept\"\n"
			"# TYPE a:b_c counter\n"
			"# HELP h \n# TYPE h histogram\n"
			"# HELP u \n# TYPE u untyped\n");
	fedns_buf_fini(&b);
}

static void
test_names(void **state)
{
	(void)state;
	const char *good[] = {"a", "_", "a1", "fedns_hub_up", "a:b", ":x", "A_Z09"};
	const char *bad[] = {"", "1a", "a-b", "a b", "a.b", "é", "a\n", NULL};
	const char *lgood[] = {"a", "_a", "cluster", "le", "A9_"};
	const char *lbad[] = {"", "__name__", "__x", "9", "a:b", "a-b", NULL};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(fedns_prom_name_is_valid(good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(fedns_prom_name_is_valid(bad[i]));
	}
	for (size_t i = 0; i < sizeof(lgood) / sizeof(lgood[0]); i++) {
		assert_true(fedns_prom_label_name_is_valid(lgood[i]));
	}
	for (size_t i = 0; i < sizeof(lbad) / sizeof(lbad[0]); i++) {
		assert_false(fedns_prom_label_name_is_valid(lbad[i]));
	}
}

static void
test_invalid_is_sticky(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_prom_label l = {.name = "__bad", .value = "x"};

	fedns_buf_init(&b, 4096);
	fedns_prom_sample(&b, "ok", NULL, 0, 1);
	fedns_prom_sample(&b, "bad-name", NULL, 0, 1);
	assert_int_equal(b.err, FEDNS_EINVAL);
	/* nothing after the first failure is written */
	size_t len = b.len;
	fedns_prom_sample(&b, "ok", NULL, 0, 2);
	assert_int_equal(b.len, len);
	fedns_buf_fini(&b);

	fedns_buf_init(&b, 4096);
	fedns_prom_sample(&b, "ok", &l, 1, 1);
	assert_int_equal(b.err, FEDNS_EINVAL);
	fedns_buf_fini(&b);

	fedns_buf_init(&b, 4096);
	fedns_prom_family(&b, "ok", (fedns_prom_type)42, "x");
	assert_int_equal(b.err, FEDNS_EINVAL);
	assert_int_equal(b.len, 0);
	fedns_buf_fini(&b);

	fedns_buf_init(&b, 4096);
	fedns_prom_sample(&b, "ok", NULL, 2, 1); /* labels NULL with a count */
	assert_int_equal(b.err, FEDNS_EINVAL);
	fedns_buf_fini(&b);
}

static void
test_samples_and_escaping(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_prom_label two[] = {{"cluster", "east"}, {"state", "in_sync"}};
	fedns_prom_label nasty[] = {{"v", "a\\b\"c\nd"}, {"e", ""}, {"n", NULL}};
	fedns_prom_label utf[] = {{"v", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}};
	/* stray continuation, overlong '/', a surrogate, a truncated 3-byte sequence */
	fedns_prom_label badutf[] = {{"v", "a\x80z\xc0\xaf\xed\xa0\x80\xe2\x82"}};

	fedns_buf_init(&b, 4096);
	fedns_prom_sample(&b, "m", NULL, 0, 3);
	fedns_prom_sample(&b, "m", two, 2, 0);
	fedns_prom_sample(&b, "m", nasty, 3, -1);
	fedns_prom_sample(&b, "m", utf, 1, 1);
	fedns_prom_sample(&b, "m", badutf, 1, 1);
	fedns_prom_sample_u64(&b, "big", two, 1, UINT64_MAX);
	assert_text(&b, "m 3\n"
			"m{cluster=\"east\",state=\"in_sync\"} 0\n"
			"m{v=\"a\\\\b\\\"c\\nd\",e=\"\",n=\"\"} -1\n"
			"m{v=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n"
			"m{v=\"a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef"
			"\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"
			"big{cluster=\"east\"} 18446744073709551615\n");
	fedns_buf_fini(&b);
}

static void
test_numbers(void **state)
{
	(void)state;
	struct {
		double v;
		const char *want;
	} cases[] = {
		{0, "0"},
		{-0.0, "0"},
		{1, "1"},
		{-42, "-42"},
		{1.5, "1.5"},
		{0.001, "0.001"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1e15, "1e+15"},
		{123456789012345.0, "123456789012345"},
		{1.0 / 3.0, "0.3333333333333333"},
		{1e-9, "1e-09"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{__builtin_inf(), "+Inf"},
		{-__builtin_inf(), "-Inf"},
		{__builtin_nan(""), "NaN"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fedns_buf b;
		fedns_buf_init(&b, 64);
		fedns_prom_number(&b, cases[i].v);
		assert_text(&b, cases[i].want);
		/* what is written reads back as the same value */
		if (cases[i].v == cases[i].v && cases[i].v < 1e308 && cases[i].v > -1e308) {
			assert_true(strtod((const char *)b.data, NULL) == cases[i].v);
		}
		fedns_buf_fini(&b);
	}
}

static void
test_histogram(void **state)
{
	(void)state;
	fedns_buf b;
	const double le[] = {0.001, 0.01, 0.5, 5};
	const uint64_t counts[] = {1, 0, 3, 2, 4}; /* last: above 5 s */
	fedns_prom_label l[] = {{"cluster", "west"}};

	fedns_buf_init(&b, 4096);
	fedns_prom_family(&b, "lat_seconds", FEDNS_PROM_HISTOGRAM, "Latency.");
	fedns_prom_histogram(&b, "lat_seconds", l, 1, le, 4, counts, 12.25);
	fedns_prom_histogram(&b, "lat_seconds", NULL, 0, le, 1, counts, 0.0005);
	assert_text(&b, "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
			"lat_seconds_bucket{cluster=\"west\",le=\"0.001\"} 1\n"
			"lat_seconds_bucket{cluster=\"west\",le=\"0.01\"} 1\n"
			"lat_seconds_bucket{cluster=\"west\",le=\"0.5\"} 4\n"
			"lat_seconds_bucket{cluster=\"west\",le=\"5\"} 6\n"
			"lat_seconds_bucket{cluster=\"west\",le=\"+Inf\"} 10\n"
			"lat_seconds_sum{cluster=\"west\"} 12.25\n"
			"lat_seconds_count{cluster=\"west\"} 10\n"
			"lat_seconds_bucket{le=\"0.001\"} 1\n"
			"lat_seconds_bucket{le=\"+Inf\"} 1\n"
			"lat_seconds_sum 0.0005\n"
			"lat_seconds_count 1\n");
	fedns_buf_fini(&b);

	/* no finite bound: only +Inf */
	fedns_buf_init(&b, 4096);
	fedns_prom_histogram(&b, "h", NULL, 0, NULL, 0, counts, 0);
	assert_text(&b, "h_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n");
	fedns_buf_fini(&b);

	const double unordered[] = {1, 1};
	const double inf[] = {1, __builtin_inf()};
	const double nan[] = {__builtin_nan("")};
	fedns_buf_init(&b, 4096);
	fedns_prom_histogram(&b, "h", NULL, 0, unordered, 2, counts, 0);
	assert_int_equal(b.err, FEDNS_EINVAL);
	assert_int_equal(b.len, 0);
	fedns_buf_fini(&b);
	fedns_buf_init(&b, 4096);
	fedns_prom_histogram(&b, "h", NULL, 0, inf, 2, counts, 0);
	assert_int_equal(b.err, FEDNS_EINVAL);
	fedns_buf_fini(&b);
	fedns_buf_init(&b, 4096);
	fedns_prom_histogram(&b, "h", NULL, 0, nan, 1, counts, 0);
	assert_int_equal(b.err, FEDNS_EINVAL);
	fedns_buf_fini(&b);
	fedns_buf_init(&b, 4096);
	fedns_prom_histogram(&b, "h", NULL, 0, le, 4, NULL, 0);
	assert_int_equal(b.err, FEDNS_EINVAL);
	fedns_buf_fini(&b);
}

static void
test_cap(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_prom_label l[] = {{"v", "0123456789"}};

	fedns_buf_init(&b, 40);
	for (int i = 0; i < 10; i++) {
		fedns_prom_sample(&b, "metric_name", l, 1, i);
	}
	assert_int_equal(b.err, FEDNS_ETOOBIG);
	assert_true(b.len <= 40);
	fedns_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_invalid_is_sticky),
		cmocka_unit_test(test_samples_and_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
