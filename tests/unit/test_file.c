/* SPDX-License-Identifier: Apache-2.0 */
/* Capped file reads, path confinement ($INCLUDE cannot escape the zone's directory), dirname. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/file.h"

/* Layout under a fresh mkdtemp root:
 *   secret             outside the zone directory
 *   zone2/x            a sibling whose name starts like "zone"
 *   zone/a.txt         "hello\n"
 *   zone/empty
 *   zone/sub/b.txt     "inner\n"
 *   zone/fifo
 *   zone/in-link  ->   sub/b.txt
 *   zone/out-link ->   ../secret
 *   zone/abs-link ->   <root>/secret */
typedef struct fixture {
	char root[64];
	char zone[PATH_MAX];
	char realzone[PATH_MAX];
} fixture;

static void
path(const fixture *fx, const char *rel, char *out)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", fx->root, rel);
	assert_true(n > 0 && n < PATH_MAX);
}

static void
write_file(const fixture *fx, const char *rel, const char *text)
{
	char p[PATH_MAX];
	path(fx, rel, p);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "/tmp/fedns-test-file-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	char p[PATH_MAX], q[PATH_MAX];
	path(fx, "zone", fx->zone);
	path(fx, "zone2", p);
	if (mkdir(fx->zone, 0700) != 0 || mkdir(p, 0700) != 0)
		return -1;
	path(fx, "zone/sub", p);
	if (mkdir(p, 0700) != 0)
		return -1;
	write_file(fx, "secret", "top secret\n");
	write_file(fx, "zone2/x", "sibling\n");
	write_file(fx, "zone/a.txt", "hello\n");
	write_file(fx, "zone/empty", "");
	write_file(fx, "zone/sub/b.txt", "inner\n");
	path(fx, "zone/fifo", p);
	if (mkfifo(p, 0600) != 0)
		return -1;
	path(fx, "zone/in-link", p);
	if (symlink("sub/b.txt", p) != 0)
		return -1;
	path(fx, "zone/out-link", p);
	if (symlink("../secret", p) != 0)
		return -1;
	path(fx, "zone/abs-link", p);
	path(fx, "secret", q);
	if (symlink(q, p) != 0)
		return -1;
	if (realpath(fx->zone, fx->realzone) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;
	static const char *files[] = {"zone/abs-link", "zone/out-link",	 "zone/in-link",
				      "zone/fifo",     "zone/sub/b.txt", "zone/empty",
				      "zone/a.txt",    "zone2/x",	 "secret"};
	static const char *dirs[] = {"zone/sub", "zone", "zone2"};
	char p[PATH_MAX];
	int rc = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path(fx, files[i], p);
		rc |= unlink(p);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		path(fx, dirs[i], p);
		rc |= rmdir(p);
	}
	rc |= rmdir(fx->root);
	free(fx);
	return rc == 0 ? 0 : -1;
}

static void
test_read_regular_and_empty(void **state)
{
	fixture *fx = *state;
	char p[PATH_MAX];
	char *text = NULL;
	size_t len = 99;
	fedns_diag d;
	fedns_diag_clear(&d);
	path(fx, "zone/a.txt", p);
	assert_int_equal(fedns_file_read(p, 1024, &text, &len, &d), FEDNS_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(text, "hello\n", 7);
	assert_int_equal(d.code, FEDNS_OK);
	free(text);
	/* exactly the cap is allowed */
	assert_int_equal(fedns_file_read(p, 6, &text, &len, NULL), FEDNS_OK);
	assert_int_equal(len, 6);
	free(text);

	text = NULL;
	path(fx, "zone/empty", p);
	assert_int_equal(fedns_file_read(p, 0, &text, &len, &d), FEDNS_OK);
	assert_non_null(text);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
}

static void
test_read_errors(void **state)
{
	fixture *fx = *state;
	char p[PATH_MAX], want[PATH_MAX + 64];
	char *text = NULL;
	size_t len = 99;
	fedns_diag d;

	/* one byte over the cap */
	fedns_diag_clear(&d);
	path(fx, "zone/a.txt", p);
	assert_int_equal(fedns_file_read(p, 5, &text, &len, &d), FEDNS_ETOOBIG);
	assert_int_equal(d.code, FEDNS_ETOOBIG);
	snprintf(want, sizeof(want), "%s: file is larger than the 5-byte limit", p);
	assert_string_equal(d.msg, want);
	assert_null(text);
	assert_int_equal(len, 99);

	fedns_diag_clear(&d);
	assert_int_equal(fedns_file_read(fx->zone, 1024, &text, &len, &d), FEDNS_EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", fx->zone);
	assert_string_equal(d.msg, want);
	assert_null(text);

	fedns_diag_clear(&d);
	path(fx, "zone/missing", p);
	assert_int_equal(fedns_file_read(p, 1024, &text, &len, &d), FEDNS_ENOENT);
	assert_int_equal(d.code, FEDNS_ENOENT);
	assert_non_null(strstr(d.msg, p));
	assert_non_null(strstr(d.msg, "cannot open"));
	assert_null(text);

	/* a FIFO with no writer must be refused, not block the reader forever */
	fedns_diag_clear(&d);
	path(fx, "zone/fifo", p);
	alarm(10);
	assert_int_equal(fedns_file_read(p, 1024, &text, &len, &d), FEDNS_EINVAL);
	alarm(0);
	snprintf(want, sizeof(want), "%s: not a regular file", p);
	assert_string_equal(d.msg, want);
	assert_null(text);

	/* a character device is not a file either */
	assert_int_equal(fedns_file_read("/dev/null", 1024, &text, &len, NULL), FEDNS_EINVAL);
	assert_null(text);
	assert_int_equal(len, 99);
}

static void
assert_confined(const fixture *fx, const char *ref, const char *want_rel)
{
	char *out = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = fedns_path_confine(fx->zone, ref, &out, &d);
	if (err != FEDNS_OK)
		fail_msg("%s: %d %s", ref, err, d.msg);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/%s", fx->realzone, want_rel);
	assert_string_equal(out, want);
	free(out);
}

static void
assert_refused(const fixture *fx, const char *ref, fedns_err code)
{
	char *out = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_path_confine(fx->zone, ref, &out, &d), code);
	assert_null(out);
	assert_int_equal(d.code, code);
	/* the message names the reference the user wrote */
	assert_non_null(strstr(d.msg, ref));
	if (code == FEDNS_EACCES)
		assert_non_null(strstr(d.msg, "outside the zone's directory"));
}

static void
test_confine(void **state)
{
	fixture *fx = *state;
	char p[PATH_MAX];
	assert_confined(fx, "a.txt", "a.txt");
	assert_confined(fx, "sub/b.txt", "sub/b.txt");
	assert_confined(fx, "./sub/../a.txt", "a.txt");
	assert_confined(fx, "in-link", "sub/b.txt");
	path(fx, "zone/sub/b.txt", p);
	assert_confined(fx, p, "sub/b.txt");

	assert_refused(fx, "../secret", FEDNS_EACCES);
	assert_refused(fx, "sub/../../secret", FEDNS_EACCES);
	assert_refused(fx, "out-link", FEDNS_EACCES);
	assert_refused(fx, "abs-link", FEDNS_EACCES);
	/* a sibling sharing the directory's name as a prefix is still outside */
	assert_refused(fx, "../zone2/x", FEDNS_EACCES);
	path(fx, "secret", p);
	assert_refused(fx, p, FEDNS_EACCES);
	assert_refused(fx, "/etc/passwd", FEDNS_EACCES);
	assert_refused(fx, "missing.txt", FEDNS_ENOENT);

	/* a directory that does not exist */
	char *out = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	path(fx, "nodir", p);
	assert_int_equal(fedns_path_confine(p, "a.txt", &out, &d), FEDNS_ENOENT);
	assert_non_null(strstr(d.msg, p));
	assert_null(out);

	/* with the root as the directory everything is inside */
	assert_int_equal(fedns_path_confine("/", "dev/null", &out, NULL), FEDNS_OK);
	assert_string_equal(out, "/dev/null");
	free(out);
}

static void
assert_dirname(const char *in, const char *want)
{
	char *s = fedns_path_dirname(in);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_dirname(void **state)
{
	(void)state;
	assert_dirname("a/b/c.zone", "a/b");
	assert_dirname("c.zone", ".");
	assert_dirname("", ".");
	assert_dirname("/c.zone", "/");
	assert_dirname("/etc/zones/c.zone", "/etc/zones");
	assert_dirname("./c.zone", ".");
}

static void
test_include(void **state)
{
	fixture *fx = *state;
	char *text = NULL, *resolved = NULL;
	size_t len = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(
		fedns_file_include(fx->zone, "sub/b.txt", "a.txt", &text, &len, &resolved, &d),
		FEDNS_OK);
	assert_int_equal(len, 6);
	assert_string_equal(text, "inner\n");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/sub/b.txt", fx->realzone);
	assert_string_equal(resolved, want);
	free(text);
	free(resolved);

	/* escapes and failures leave the outputs alone */
	text = resolved = NULL;
	len = 42;
	assert_int_equal(
		fedns_file_include(fx->zone, "../secret", "a.txt", &text, &len, &resolved, &d),
		FEDNS_EACCES);
	assert_int_equal(d.code, FEDNS_EACCES);
	assert_null(text);
	assert_null(resolved);
	assert_int_equal(len, 42);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_file_include(fx->zone, "sub", "a.txt", &text, &len, &resolved, &d),
			 FEDNS_EINVAL);
	assert_null(text);
	assert_null(resolved);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_file_include(fx->zone, "nope", "a.txt", &text, &len, &resolved, &d),
			 FEDNS_ENOENT);
	assert_null(text);
	assert_null(resolved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_regular_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confine, setup, teardown),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test_setup_teardown(test_include, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
