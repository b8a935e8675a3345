/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics: the first error wins, locations fill only what is missing, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diag.h"

static void
test_first_error_wins(void **state)
{
	(void)state;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(d.code, FEDNS_OK);
	assert_string_equal(d.msg, "");
	assert_int_equal(fedns_diag_set(&d, FEDNS_ESYNTAX, "TTL \"%s\" is not a number", "9x"),
			 FEDNS_ESYNTAX);
	/* a later failure returns its own code but does not overwrite the root cause */
	assert_int_equal(fedns_diag_set(&d, FEDNS_EIO, "second"), FEDNS_EIO);
	assert_int_equal(d.code, FEDNS_ESYNTAX);
	assert_string_equal(d.msg, "TTL \"9x\" is not a number");
	fedns_diag_clear(&d);
	assert_int_equal(d.code, FEDNS_OK);
	assert_string_equal(d.msg, "");
	assert_int_equal(fedns_diag_set(&d, FEDNS_EIO, "third %u", 3u), FEDNS_EIO);
	assert_int_equal(d.code, FEDNS_EIO);
	assert_string_equal(d.msg, "third 3");
	/* no diag: the code still comes back */
	assert_int_equal(fedns_diag_set(NULL, FEDNS_EZONE, "x"), FEDNS_EZONE);
	fedns_diag_clear(NULL);
}

static void
test_locate(void **state)
{
	(void)state;
	fedns_diag d;
	fedns_diag_clear(&d);
	/* nothing to locate yet */
	fedns_diag_locate(&d, "early.zone", 4);
	assert_string_equal(d.file, "");
	assert_int_equal(d.line, 0);
	fedns_diag_set(&d, FEDNS_ESYNTAX, "bad");
	fedns_diag_locate(&d, "a.zone", 17);
	assert_string_equal(d.file, "a.zone");
	assert_int_equal(d.line, 17);
	/* the innermost location sticks */
	fedns_diag_locate(&d, "b.zone", 99);
	assert_string_equal(d.file, "a.zone");
	assert_int_equal(d.line, 17);

	/* only missing parts are filled: a line first, the file later */
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_ESYNTAX, "bad");
	fedns_diag_locate(&d, NULL, 5);
	assert_string_equal(d.file, "");
	assert_int_equal(d.line, 5);
	fedns_diag_locate(&d, "c.zone", 9);
	assert_string_equal(d.file, "c.zone");
	assert_int_equal(d.line, 5);

	/* a file first, the line later */
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_EIO, "bad");
	fedns_diag_locate(&d, "f.zone", 0);
	assert_string_equal(d.file, "f.zone");
	assert_int_equal(d.line, 0);
	fedns_diag_locate(&d, "g.zone", 12);
	assert_string_equal(d.file, "f.zone");
	assert_int_equal(d.line, 12);
	fedns_diag_locate(NULL, "h.zone", 1);
}

static void
test_format(void **state)
{
	(void)state;
	fedns_diag d;
	char out[600];
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_ESYNTAX, "TTL \"9x\" is not a number");
	assert_ptr_equal(fedns_diag_format(&d, out, sizeof(out)), out);
	assert_string_equal(out, "TTL \"9x\" is not a number");
	fedns_diag_locate(&d, "f.zone", 0);
	assert_string_equal(fedns_diag_format(&d, out, sizeof(out)),
			    "f.zone: TTL \"9x\" is not a number");
	fedns_diag_locate(&d, NULL, 17);
	assert_string_equal(fedns_diag_format(&d, out, sizeof(out)),
			    "f.zone:17: TTL \"9x\" is not a number");

	/* an empty message falls back to the code's text */
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_ETOOBIG, "%s", "");
	assert_string_equal(fedns_diag_format(&d, out, sizeof(out)), "size limit exceeded");
	fedns_diag_locate(&d, "big.zone", 3);
	assert_string_equal(fedns_diag_format(&d, out, sizeof(out)),
			    "big.zone:3: size limit exceeded");
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_ENOENT, "%s", "");
	fedns_diag_locate(&d, "gone.zone", 0);
	assert_string_equal(fedns_diag_format(&d, out, sizeof(out)), "gone.zone: not found");

	/* a small output buffer truncates and stays terminated */
	fedns_diag_clear(&d);
	fedns_diag_set(&d, FEDNS_ESYNTAX, "0123456789abcdef");
	fedns_diag_locate(&d, "z", 1);
	char small[8];
	memset(small, 'X', sizeof(small));
	assert_string_equal(fedns_diag_format(&d, small, sizeof(small)), "z:1: 01");
}

static void
test_truncation(void **state)
{
	(void)state;
	fedns_diag d;
	char longmsg[2000], longfile[400];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	memset(longfile, 'f', sizeof(longfile) - 1);
	longfile[sizeof(longfile) - 1] = '\0';
	fedns_diag_clear(&d);
	assert_int_equal(fedns_diag_set(&d, FEDNS_ESYNTAX, "%s", longmsg), FEDNS_ESYNTAX);
	assert_int_equal(strlen(d.msg), FEDNS_DIAG_MSG_MAX - 1);
	assert_memory_equal(d.msg, longmsg, FEDNS_DIAG_MSG_MAX - 1);
	fedns_diag_locate(&d, longfile, 7);
	assert_int_equal(strlen(d.file), sizeof(d.file) - 1);
	assert_memory_equal(d.file, longfile, sizeof(d.file) - 1);
	char out[1024];
	fedns_diag_format(&d, out, sizeof(out));
	assert_int_equal(strlen(out), 255 + strlen(":7: ") + FEDNS_DIAG_MSG_MAX - 1);
	assert_memory_equal(out + 255, ":7: mmm", 7);
	/* format into a buffer shorter than either part */
	fedns_diag_format(&d, out, 100);
	assert_int_equal(strlen(out), 99);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
