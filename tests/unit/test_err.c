/* SPDX-License-Identifier: Apache-2.0 */
/* Error texts: every project code, errno-mapped codes and unknown values. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"

static void
test_project_codes(void **state)
{
	(void)state;
	static const struct {
		fedns_err code;
		const char *text;
	} want[] = {
		{FEDNS_OK, "success"},
		{FEDNS_ENOMEM, "out of memory"},
		{FEDNS_EINVAL, "invalid argument"},
		{FEDNS_EIO, "input/output error"},
		{FEDNS_ENOENT, "not found"},
		{FEDNS_EEXIST, "already exists"},
		{FEDNS_EACCES, "permission denied"},
		{FEDNS_ERANGE, "value out of range"},
		{FEDNS_EMALFORMED, "malformed input"},
		{FEDNS_ETRUNC, "input truncated"},
		{FEDNS_ETOOBIG, "size limit exceeded"},
		{FEDNS_EAUTH, "authentication failed"},
		{FEDNS_ESTALE, "stale version"},
		{FEDNS_ESYNTAX, "syntax error"},
		{FEDNS_EZONE, "zone content rule violated"},
		{FEDNS_ENOTSUP, "not supported"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(fedns_strerror(want[i].code), want[i].text);
	/* each project code has its own text */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (size_t j = i + 1; j < sizeof(want) / sizeof(want[0]); j++)
			assert_string_not_equal(fedns_strerror(want[i].code),
						fedns_strerror(want[j].code));
}

static void
test_errno_codes(void **state)
{
	(void)state;
	/* errno values without a project name still read as the C library says */
	assert_string_equal(fedns_strerror(-EPERM), strerror(EPERM));
	assert_string_equal(fedns_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
	assert_string_equal(fedns_strerror(-ENOSPC), strerror(ENOSPC));
	assert_string_not_equal(fedns_strerror(-EPERM), "unknown error");
}

static void
test_unknown_codes(void **state)
{
	(void)state;
	assert_string_equal(fedns_strerror(-1008), "unknown error");
	assert_string_equal(fedns_strerror(-1000000), "unknown error");
	assert_string_equal(fedns_strerror(INT_MIN), "unknown error");
	assert_string_equal(fedns_strerror(1), "unknown error");
	assert_string_equal(fedns_strerror(INT_MAX), "unknown error");
	/* never NULL anywhere in the range callers might pass */
	for (int e = -1200; e <= 10; e++)
		assert_non_null(fedns_strerror(e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_codes),
		cmocka_unit_test(test_errno_codes),
		cmocka_unit_test(test_unknown_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
