/* SPDX-License-Identifier: Apache-2.0 */
/* Capped buffer: appends and formatting, NUL termination, the sticky cap error, steal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

/* Huge requests must come back as ENOMEM, not abort the ASan build. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void
assert_buf(const fedns_buf *b, const char *want, size_t n)
{
	assert_int_equal(b->len, n);
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, n);
	assert_int_equal(b->data[n], '\0');
	assert_true(b->alloc > n);
}

static void
test_append_forms(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_buf_init(&b, 0);
	assert_int_equal(b.max, FEDNS_BUF_DEFAULT_MAX);
	assert_int_equal(b.len, 0);
	assert_int_equal(fedns_buf_append(&b, "ab", 2), FEDNS_OK);
	assert_buf(&b, "ab", 2);
	assert_int_equal(fedns_buf_putc(&b, 'c'), FEDNS_OK);
	assert_buf(&b, "abc", 3);
	assert_int_equal(fedns_buf_puts(&b, "-def"), FEDNS_OK);
	assert_buf(&b, "abc-def", 7);
	assert_int_equal(fedns_buf_printf(&b, "|%d|%s|%02x", -5, "x", 0xa), FEDNS_OK);
	assert_buf(&b, "abc-def|-5|x|0a", 15);
	/* binary bytes, including a NUL, are kept as they are */
	assert_int_equal(fedns_buf_append(&b, "\0\xff", 2), FEDNS_OK);
	assert_buf(&b, "abc-def|-5|x|0a\0\xff", 17);
	/* zero-length appends change nothing */
	assert_int_equal(fedns_buf_append(&b, NULL, 0), FEDNS_OK);
	assert_int_equal(fedns_buf_puts(&b, ""), FEDNS_OK);
	assert_int_equal(fedns_buf_printf(&b, "%s", ""), FEDNS_OK);
	assert_buf(&b, "abc-def|-5|x|0a\0\xff", 17);
	assert_int_equal(b.err, FEDNS_OK);
	fedns_buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	fedns_buf_fini(NULL);
}

static void
test_growth(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_buf_init(&b, 0);
	/* printf output longer than the first allocation */
	assert_int_equal(fedns_buf_printf(&b, "%0700d", 42), FEDNS_OK);
	assert_int_equal(b.len, 700);
	assert_int_equal(strlen((char *)b.data), 700);
	assert_memory_equal(b.data + 698, "42", 3);
	fedns_buf_clear(&b);
	for (unsigned i = 0; i < 100000; i++)
		assert_int_equal(fedns_buf_putc(&b, (char)('a' + i % 26)), FEDNS_OK);
	assert_int_equal(b.len, 100000);
	for (unsigned i = 0; i < 100000; i++)
		if (b.data[i] != 'a' + i % 26)
			fail_msg("byte %u is %c", i, b.data[i]);
	assert_int_equal(b.data[100000], '\0');
	fedns_buf_fini(&b);
}

static void
test_cap_sticky(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_buf_init(&b, 10);
	assert_int_equal(fedns_buf_puts(&b, "12345678"), FEDNS_OK);
	assert_int_equal(fedns_buf_puts(&b, "abc"), FEDNS_ETOOBIG);
	assert_int_equal(b.err, FEDNS_ETOOBIG);
	assert_buf(&b, "12345678", 8);
	/* sticky: even appends that would fit now do nothing */
	assert_int_equal(fedns_buf_putc(&b, 'x'), FEDNS_ETOOBIG);
	assert_int_equal(fedns_buf_append(&b, "y", 1), FEDNS_ETOOBIG);
	assert_int_equal(fedns_buf_printf(&b, "%d", 1), FEDNS_ETOOBIG);
	assert_int_equal(fedns_buf_reserve(&b, 0), FEDNS_ETOOBIG);
	assert_buf(&b, "12345678", 8);
	/* clear empties and forgets the error */
	fedns_buf_clear(&b);
	assert_int_equal(b.err, FEDNS_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.data[0], '\0');
	/* exactly the cap fits, one more does not */
	assert_int_equal(fedns_buf_puts(&b, "0123456789"), FEDNS_OK);
	assert_buf(&b, "0123456789", 10);
	assert_int_equal(fedns_buf_putc(&b, 'z'), FEDNS_ETOOBIG);
	assert_buf(&b, "0123456789", 10);
	fedns_buf_clear(&b);
	/* printf past the cap leaves nothing behind */
	assert_int_equal(fedns_buf_printf(&b, "%s", "01234567890"), FEDNS_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.data[0], '\0');
	fedns_buf_clear(&b);
	assert_int_equal(fedns_buf_printf(&b, "%05d%05d", 1, 2), FEDNS_OK);
	assert_buf(&b, "0000100002", 10);
	fedns_buf_fini(&b);

	/* clear on a buffer that never allocated */
	fedns_buf_init(&b, 4);
	fedns_buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(fedns_buf_puts(&b, "abcde"), FEDNS_ETOOBIG);
	fedns_buf_fini(&b);
}

static void
test_steal(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_buf_init(&b, 0);
	assert_int_equal(fedns_buf_puts(&b, "owned text"), FEDNS_OK);
	size_t len = 0;
	uint8_t *p = fedns_buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 10);
	assert_string_equal((char *)p, "owned text");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	/* the emptied buffer is usable and independent of the stolen storage */
	assert_int_equal(fedns_buf_puts(&b, "new"), FEDNS_OK);
	assert_buf(&b, "new", 3);
	assert_string_equal((char *)p, "owned text");
	free(p);
	p = fedns_buf_steal(&b, NULL);
	assert_string_equal((char *)p, "new");
	free(p);
	fedns_buf_fini(&b);
}

static void
test_reserve_overflow(void **state)
{
	(void)state;
	fedns_buf b;
	fedns_buf_init(&b, SIZE_MAX);
	/* len + extra + 1 would wrap to 0: must fail, never report success */
	assert_int_equal(fedns_buf_reserve(&b, SIZE_MAX), FEDNS_ENOMEM);
	assert_int_equal(b.err, FEDNS_ENOMEM);
	fedns_buf_clear(&b);
	assert_int_equal(fedns_buf_puts(&b, "ab"), FEDNS_OK);
	assert_int_equal(fedns_buf_reserve(&b, SIZE_MAX - 2), FEDNS_ENOMEM);
	assert_buf(&b, "ab", 2);
	fedns_buf_clear(&b);
	assert_int_equal(fedns_buf_puts(&b, "ab"), FEDNS_OK);
	/* over the cap by arithmetic: ETOOBIG without wrapping */
	assert_int_equal(fedns_buf_reserve(&b, SIZE_MAX), FEDNS_ETOOBIG);
	assert_buf(&b, "ab", 2);
	fedns_buf_clear(&b);
	/* representable but impossible: the allocation fails cleanly (kept below 2^63, which
	 * valgrind would report as a "fishy" argument) */
	assert_int_equal(fedns_buf_reserve(&b, (size_t)1 << 50), FEDNS_ENOMEM);
	assert_int_equal(fedns_buf_putc(&b, 'x'), FEDNS_ENOMEM);
	fedns_buf_clear(&b);
	/* a normal reserve keeps appends from reallocating */
	assert_int_equal(fedns_buf_reserve(&b, 1000), FEDNS_OK);
	assert_true(b.alloc >= 1001);
	uint8_t *before = b.data;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fedns_buf_putc(&b, 'q'), FEDNS_OK);
	assert_ptr_equal(b.data, before);
	assert_int_equal(b.len, 1000);
	fedns_buf_fini(&b);

	/* one below SIZE_MAX: the cap arithmetic refuses without wrapping */
	fedns_buf_init(&b, SIZE_MAX - 1);
	assert_int_equal(fedns_buf_putc(&b, 'a'), FEDNS_OK);
	assert_int_equal(fedns_buf_reserve(&b, SIZE_MAX - 1), FEDNS_ETOOBIG);
	assert_buf(&b, "a", 1);
	fedns_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_forms),	 cmocka_unit_test(test_growth),
		cmocka_unit_test(test_cap_sticky),	 cmocka_unit_test(test_steal),
		cmocka_unit_test(test_reserve_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
