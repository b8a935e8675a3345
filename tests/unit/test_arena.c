/* SPDX-License-Identifier: Apache-2.0 */
/* Arena: 16-byte alignment, growth, large blocks, the cap, reset and duplication helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"

/* Huge requests must come back as NULL, not abort the ASan build. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* Every allocation is filled with its own byte so an overlap shows up as a wrong byte
 * when all of them are checked at the end (ASan catches writes past a chunk). */
typedef struct block {
	uint8_t *p;
	size_t n;
	uint8_t fill;
} block;

static void
fill_block(block *b, void *p, size_t n, unsigned i)
{
	b->p = p;
	b->n = n;
	b->fill = (uint8_t)(i * 37u + 11u);
	memset(p, b->fill, n);
}

static void
check_blocks(const block *bs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < bs[i].n; j++)
			if (bs[i].p[j] != bs[i].fill)
				fail_msg("block %zu (size %zu) byte %zu is %02x, want %02x", i,
					 bs[i].n, j, bs[i].p[j], bs[i].fill);
}

static size_t
round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static void
test_alignment(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 256, 0);
	block bs[200];
	size_t want_used = 0;
	for (unsigned i = 0; i < 200; i++) {
		size_t n = 1 + i % 41;
		void *p = fedns_arena_alloc(&a, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		fill_block(&bs[i], p, n, i);
		want_used += round16(n);
	}
	assert_int_equal(a.used, want_used);
	check_blocks(bs, 200);
	fedns_arena_fini(&a);
	assert_null(a.head);
	assert_int_equal(a.used, 0);
}

static void
test_growth_many_chunks(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 64, 0);
	enum {
		N = 5000
	};
	block *bs = calloc(N, sizeof(*bs));
	assert_non_null(bs);
	for (unsigned i = 0; i < N; i++) {
		size_t n = 24 + i % 3;
		void *p = fedns_arena_alloc(&a, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		fill_block(&bs[i], p, n, i);
	}
	assert_int_equal(a.used, (size_t)N * 32);
	check_blocks(bs, N);
	free(bs);
	fedns_arena_fini(&a);
}

static void
test_large_blocks(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 1024, 0);
	block bs[64];
	unsigned k = 0;
	/* small, large, small, ...: large ones must not waste or overlap the current chunk */
	for (unsigned i = 0; i < 16; i++) {
		size_t sizes[4] = {40, 5000 + i * 100, 7, 1024 * (i + 1)};
		for (unsigned j = 0; j < 4; j++, k++) {
			void *p = fedns_arena_alloc(&a, sizes[j]);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			fill_block(&bs[k], p, sizes[j], k);
		}
	}
	check_blocks(bs, k);
	fedns_arena_fini(&a);
}

static void
test_cap(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 1024, 256);
	assert_non_null(fedns_arena_alloc(&a, 100)); /* 112 */
	assert_non_null(fedns_arena_alloc(&a, 100)); /* 224 */
	assert_int_equal(a.used, 224);
	/* 48 more would pass 256: refused, and the refusal costs nothing */
	assert_null(fedns_arena_alloc(&a, 33));
	assert_int_equal(a.used, 224);
	assert_null(fedns_arena_alloc(&a, 1000));
	assert_null(fedns_arena_alloc(&a, SIZE_MAX));
	assert_null(fedns_arena_alloc(&a, SIZE_MAX - 8));
	assert_int_equal(a.used, 224);
	/* exactly up to the cap is allowed; after that not even one byte */
	uint8_t *p = fedns_arena_alloc(&a, 32);
	assert_non_null(p);
	memset(p, 0xab, 32);
	assert_int_equal(a.used, 256);
	assert_null(fedns_arena_alloc(&a, 1));
	assert_null(fedns_arena_alloc(&a, 16));
	assert_null(fedns_arena_memdup(&a, "x", 1));
	assert_null(fedns_arena_strndup(&a, "", 0));
	assert_int_equal(a.used, 256);
	/* reset gives the whole cap back */
	fedns_arena_reset(&a);
	assert_int_equal(a.used, 0);
	p = fedns_arena_alloc(&a, 256);
	assert_non_null(p);
	memset(p, 0xcd, 256);
	assert_null(fedns_arena_alloc(&a, 1));
	fedns_arena_fini(&a);

	/* a cap smaller than one chunk still bounds a single large request */
	fedns_arena_init(&a, 0, 100);
	assert_null(fedns_arena_alloc(&a, 101));
	assert_non_null(fedns_arena_alloc(&a, 90));
	fedns_arena_fini(&a);
}

static void
test_huge_without_cap(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 128, 0);
	void *p = fedns_arena_alloc(&a, 10);
	assert_non_null(p);
	memset(p, 1, 10);
	/* rounding would wrap, or the chunk header would not fit: refused, not wrapped */
	assert_null(fedns_arena_alloc(&a, SIZE_MAX));
	assert_null(fedns_arena_alloc(&a, SIZE_MAX - 14));
	assert_null(fedns_arena_alloc(&a, SIZE_MAX - 40));
	/* far beyond any machine but below 2^63, which valgrind would flag as "fishy" */
	assert_null(fedns_arena_alloc(&a, (size_t)1 << 50));
	assert_int_equal(a.used, 16);
	/* still usable afterwards */
	p = fedns_arena_alloc(&a, 300);
	assert_non_null(p);
	memset(p, 2, 300);
	assert_int_equal(a.used, 16 + 304);
	fedns_arena_fini(&a);
}

static void
test_reset_reuse(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 128, 0);
	block bs[300];
	for (unsigned round = 0; round < 4; round++) {
		unsigned k = 0;
		for (unsigned i = 0; i < 300; i++, k++) {
			/* every 50th is larger than a chunk so reset has large blocks to drop */
			size_t n = i % 50 == 49 ? 4096 + round : 1 + (i + round) % 60;
			void *p = fedns_arena_alloc(&a, n);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			fill_block(&bs[k], p, n, i + round);
		}
		check_blocks(bs, k);
		fedns_arena_reset(&a);
		assert_int_equal(a.used, 0);
		assert_non_null(a.head);
	}
	fedns_arena_fini(&a);

	/* a reset arena whose first allocation was a large block keeps working too */
	fedns_arena_init(&a, 64, 0);
	uint8_t *big = fedns_arena_alloc(&a, 1000);
	assert_non_null(big);
	memset(big, 3, 1000);
	fedns_arena_reset(&a);
	unsigned k = 0;
	for (unsigned i = 0; i < 100; i++, k++) {
		void *p = fedns_arena_alloc(&a, 48);
		assert_non_null(p);
		fill_block(&bs[k], p, 48, i);
	}
	check_blocks(bs, k);
	fedns_arena_fini(&a);
}

static void
test_memdup_strndup(void **state)
{
	(void)state;
	fedns_arena a;
	fedns_arena_init(&a, 0, 0);
	static const uint8_t bytes[] = {0, 1, 2, 0xff, 0, 7};
	uint8_t *m = fedns_arena_memdup(&a, bytes, sizeof(bytes));
	assert_non_null(m);
	assert_ptr_not_equal(m, bytes);
	assert_memory_equal(m, bytes, sizeof(bytes));
	/* zero bytes still gives a distinct, usable pointer */
	void *z1 = fedns_arena_memdup(&a, NULL, 0);
	void *z2 = fedns_arena_memdup(&a, NULL, 0);
	assert_non_null(z1);
	assert_non_null(z2);
	assert_ptr_not_equal(z1, z2);

	char *s = fedns_arena_strndup(&a, "hello world", 5);
	assert_non_null(s);
	assert_string_equal(s, "hello");
	char *e = fedns_arena_strndup(&a, "abc", 0);
	assert_non_null(e);
	assert_string_equal(e, "");
	/* strndup copies exactly n bytes, even past an embedded NUL */
	char *nul = fedns_arena_strndup(&a, "ab\0cd", 5);
	assert_non_null(nul);
	assert_memory_equal(nul, "ab\0cd", 6);
	assert_memory_equal(m, bytes, sizeof(bytes));
	assert_string_equal(s, "hello");
	fedns_arena_fini(&a);
}

static void
test_fini_zeroed(void **state)
{
	(void)state;
	fedns_arena a;
	memset(&a, 0, sizeof(a));
	fedns_arena_fini(&a);
	fedns_arena_fini(NULL);
	fedns_arena_reset(&a);
	assert_null(a.head);
	assert_int_equal(a.used, 0);

	/* fini twice, and an initialised arena that never allocated */
	fedns_arena_init(&a, 512, 0);
	fedns_arena_fini(&a);
	fedns_arena_fini(&a);
	assert_null(a.head);
	/* and the arena works again after fini */
	char *s = fedns_arena_strndup(&a, "again", 5);
	assert_non_null(s);
	assert_string_equal(s, "again");
	fedns_arena_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),	 cmocka_unit_test(test_growth_many_chunks),
		cmocka_unit_test(test_large_blocks),	 cmocka_unit_test(test_cap),
		cmocka_unit_test(test_huge_without_cap), cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_memdup_strndup),	 cmocka_unit_test(test_fini_zeroed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
