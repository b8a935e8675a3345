/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 1982 serial arithmetic: ordering across the 2^32 wrap and the undefined 2^31 gap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dns/serial.h"

static void
test_equal(void **state)
{
	(void)state;
	assert_int_equal(fedns_serial_cmp(0, 0), FEDNS_SERIAL_EQ);
	assert_int_equal(fedns_serial_cmp(0xffffffffu, 0xffffffffu), FEDNS_SERIAL_EQ);
	assert_int_equal(fedns_serial_cmp(2026112601u, 2026112601u), FEDNS_SERIAL_EQ);
	assert_false(fedns_serial_gt(5, 5));
}

static void
test_plain_order(void **state)
{
	(void)state;
	assert_int_equal(fedns_serial_cmp(1, 2), FEDNS_SERIAL_LT);
	assert_int_equal(fedns_serial_cmp(2, 1), FEDNS_SERIAL_GT);
	assert_int_equal(fedns_serial_cmp(2026112600u, 2026112601u), FEDNS_SERIAL_LT);
	assert_true(fedns_serial_gt(2, 1));
	assert_false(fedns_serial_gt(1, 2));
	/* the largest forward step that is still "greater" is 2^31 - 1 */
	assert_int_equal(fedns_serial_cmp(0, 0x7fffffffu), FEDNS_SERIAL_LT);
	assert_int_equal(fedns_serial_cmp(0x7fffffffu, 0), FEDNS_SERIAL_GT);
	assert_true(fedns_serial_gt(0x7fffffffu, 0));
	/* one step further wraps the relation around */
	assert_int_equal(fedns_serial_cmp(0, 0x80000001u), FEDNS_SERIAL_GT);
	assert_int_equal(fedns_serial_cmp(0x80000001u, 0), FEDNS_SERIAL_LT);
}

/* RFC 1982 §3.2: across 2^32, 0xffffffff < 0 and 0xffffffff < 1. */
static void
test_wraparound(void **state)
{
	(void)state;
	assert_int_equal(fedns_serial_cmp(0xffffffffu, 0), FEDNS_SERIAL_LT);
	assert_int_equal(fedns_serial_cmp(0, 0xffffffffu), FEDNS_SERIAL_GT);
	assert_true(fedns_serial_gt(0, 0xffffffffu));
	assert_true(fedns_serial_gt(1, 0xffffffffu));
	assert_true(fedns_serial_gt(100, 0xffffff00u));
	assert_false(fedns_serial_gt(0xffffff00u, 100));
	/* the RFC's example with SERIAL_BITS = 2 scaled: 255 < 0 in 8 bits is 2^32-1 < 0 */
	assert_int_equal(fedns_serial_cmp(0xfffffff0u, 0x0000000fu), FEDNS_SERIAL_LT);
}

/* Exactly 2^31 apart: neither greater nor less (RFC 1982 §3.2 leaves it undefined). */
static void
test_undefined_distance(void **state)
{
	(void)state;
	static const uint32_t bases[] = {0,	      1,	   0x7fffffffu, 0x80000000u,
					 0xfffffffeu, 0xffffffffu, 2026112601u};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t a = bases[i], b = a + 0x80000000u;
		assert_int_equal(fedns_serial_cmp(a, b), FEDNS_SERIAL_UNDEF);
		assert_int_equal(fedns_serial_cmp(b, a), FEDNS_SERIAL_UNDEF);
		assert_false(fedns_serial_gt(a, b));
		assert_false(fedns_serial_gt(b, a));
		/* one either side of the gap is defined again */
		assert_int_not_equal(fedns_serial_cmp(a, b + 1), FEDNS_SERIAL_UNDEF);
		assert_int_not_equal(fedns_serial_cmp(a, b - 1), FEDNS_SERIAL_UNDEF);
	}
}

/* Antisymmetry across a sweep of distances, including both sides of the 2^31 gap. */
static void
test_antisymmetry(void **state)
{
	(void)state;
	static const uint32_t ds[] = {1,	   2,		1000,	     0x7ffffffeu,
				      0x7fffffffu, 0x80000001u, 0xfffffffeu, 0xffffffffu};
	static const uint32_t bases[] = {0, 5, 0x7fffffffu, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		for (size_t j = 0; j < sizeof(ds) / sizeof(ds[0]); j++) {
			uint32_t a = bases[i], b = a + ds[j];
			fedns_serial_order ab = fedns_serial_cmp(a, b);
			fedns_serial_order ba = fedns_serial_cmp(b, a);
			assert_int_equal(ab,
					 ds[j] < 0x80000000u ? FEDNS_SERIAL_LT : FEDNS_SERIAL_GT);
			assert_int_equal((int)ab, -(int)ba);
			assert_true(fedns_serial_gt(b, a) == (ab == FEDNS_SERIAL_LT));
		}
	}
}

static void
test_add(void **state)
{
	(void)state;
	assert_int_equal(fedns_serial_add(1, 1), 2);
	assert_int_equal(fedns_serial_add(0xffffffffu, 1), 0);
	assert_int_equal(fedns_serial_add(0xfffffff0u, 0x20), 0x10);
	assert_int_equal(fedns_serial_add(5, 0), 5);
	assert_int_equal(fedns_serial_add(0, 0x7fffffffu), 0x7fffffffu);
	assert_true(fedns_serial_gt(fedns_serial_add(0x90000000u, 0x7fffffffu), 0x90000000u));
	/* RFC 1982 §3.1: adding 2^31 or more is undefined; we refuse and return s */
	assert_int_equal(fedns_serial_add(7, 0x80000000u), 7);
	assert_int_equal(fedns_serial_add(7, 0xffffffffu), 7);
}

static void
test_next(void **state)
{
	(void)state;
	/* plain increment */
	assert_int_equal(fedns_serial_next(41, 0), 42);
	assert_int_equal(fedns_serial_next(41, 41), 42);
	assert_int_equal(fedns_serial_next(41, 42), 42);
	/* a date-based serial ahead of us wins */
	assert_int_equal(fedns_serial_next(2026112600u, 2026112700u), 2026112700u);
	assert_int_equal(fedns_serial_next(5, 2026112601u), 2026112601u);
	/* a wanted serial behind us is ignored */
	assert_int_equal(fedns_serial_next(2026112700u, 2026112600u), 2026112701u);
	/* wrap */
	assert_int_equal(fedns_serial_next(0xffffffffu, 0), 0);
	assert_int_equal(fedns_serial_next(0xfffffff0u, 3), 3);
	/* wanted exactly 2^31 ahead is not "greater": plain increment */
	assert_int_equal(fedns_serial_next(10, 10 + 0x80000000u), 11);
	/* the largest jump allowed */
	assert_int_equal(fedns_serial_next(10, 10 + 0x7fffffffu), 10 + 0x7fffffffu);
	/* every result is greater than cur */
	static const uint32_t curs[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu};
	static const uint32_t wants[] = {0, 1, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xffffffffu};
	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < 6; j++)
			assert_true(fedns_serial_gt(fedns_serial_next(curs[i], wants[j]), curs[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),	     cmocka_unit_test(test_plain_order),
		cmocka_unit_test(test_wraparound),   cmocka_unit_test(test_undefined_distance),
		cmocka_unit_test(test_antisymmetry), cmocka_unit_test(test_add),
		cmocka_unit_test(test_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
