/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-lines logger: escaping, one valid JSON object per call, levels and field types. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"

/* A tiny strict JSON checker for what the logger emits: one flat object whose values
 * are strings, numbers, true, false or null. Returns the end of the value or NULL. */
static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20 || c == 0x7f)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 5;
				continue;
			}
			if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL)
				return NULL;
		}
		p++;
	}
}

static const char *
json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

static const char *
json_value(const char *p)
{
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return json_number(p);
}

/* True when line is exactly one flat JSON object followed by "\n". */
static bool
json_line_ok(const char *line)
{
	const char *p = line;
	if (*p++ != '{')
		return false;
	if (*p != '}') {
		for (;;) {
			p = json_string(p);
			if (p == NULL || *p++ != ':')
				return false;
			p = json_value(p);
			if (p == NULL)
				return false;
			if (*p == ',') {
				p++;
				continue;
			}
			break;
		}
	}
	return p[0] == '}' && p[1] == '\n' && p[2] == '\0';
}

static void
test_json_checker(void **state)
{
	(void)state;
	/* the checker itself must reject what the logger must never write */
	assert_true(json_line_ok("{\"a\":1,\"b\":\"x\\u0001\",\"c\":true,\"d\":-1.5e+3}\n"));
	assert_true(json_line_ok("{}\n"));
	assert_false(json_line_ok("{\"a\":nan}\n"));
	assert_false(json_line_ok("{\"a\":inf}\n"));
	assert_false(json_line_ok("{\"a\":\"\x01\"}\n"));
	assert_false(json_line_ok("{\"a\":\"\\x\"}\n"));
	assert_false(json_line_ok("{\"a\":1}"));
	assert_false(json_line_ok("{\"a\":1}\n\n"));
	assert_false(json_line_ok("{\"a\":1,}\n"));
	assert_false(json_line_ok("{\"a\":01}\n"));
}

static void
assert_escape(const char *in, const char *want)
{
	char out[256];
	memset(out, 'X', sizeof(out));
	size_t n = fedns_json_escape(in, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void
test_json_escape(void **state)
{
	(void)state;
	assert_escape("", "");
	assert_escape("plain text.", "plain text.");
	assert_escape("say \"hi\"", "say \\\"hi\\\"");
	assert_escape("C:\\dir\\", "C:\\\\dir\\\\");
	assert_escape("a\nb\rc\td", "a\\nb\\rc\\td");
	assert_escape("\x01\x02\x08\x0b\x0c\x1b\x1f",
		      "\\u0001\\u0002\\u0008\\u000b\\u000c\\u001b\\u001f");
	assert_escape("del\x7f!", "del\\u007f!");
	assert_escape(" ~/", " ~/");
	/* UTF-8 passes through byte for byte */
	assert_escape("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
	assert_escape(NULL, "");

	/* a short output is cut and still terminated */
	char small[5];
	memset(small, 'X', sizeof(small));
	assert_int_equal(fedns_json_escape("abcdefgh", small, sizeof(small)), 4);
	assert_string_equal(small, "abcd");
	assert_int_equal(fedns_json_escape("abc", small, 0), 0);
	assert_int_equal(small[0], 'a');
	assert_int_equal(fedns_json_escape("abc", small, 1), 0);
	assert_string_equal(small, "");
}

/* Runs fn with the logger writing to a temporary file and returns what it wrote. */
static char *
capture(fedns_log_level min, void (*fn)(void))
{
	FILE *f = tmpfile();
	assert_non_null(f);
	fedns_log_setup(f, min);
	fn();
	fedns_log_setup(stderr, FEDNS_LOG_INFO);
	long size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	char *text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return text;
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* Checks the "ts" prefix shape (2026-11-26T03:04:05.678Z) and returns what follows it. */
static const char *
skip_ts(const char *line)
{
	static const char head[] = "{\"ts\":\"";
	assert_memory_equal(line, head, sizeof(head) - 1);
	const char *t = line + sizeof(head) - 1;
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ\"";
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != shape[i])
			fail_msg("timestamp shape wrong at %zu in %s", i, line);
	}
	return t + sizeof(shape) - 1;
}

static void
log_typed_fields(void)
{
	const fedns_log_field f[] = {
		FEDNS_LF_STR("s", "q\"b\\n\nc\x01"
				  "d\x7f"),
		FEDNS_LF_INT("i", -42),
		FEDNS_LF_INT("imin", INT64_MIN),
		FEDNS_LF_UINT("u", UINT64_MAX),
		FEDNS_LF_BOOL("t", true),
		FEDNS_LF_BOOL("f", false),
		FEDNS_LF_DBL("d", 1.5),
		FEDNS_LF_DBL("dz", 0.0),
		FEDNS_LF_STR("k\"ey", NULL),
		FEDNS_LF_END,
	};
	fedns_log_fields(FEDNS_LOG_INFO, "test.fields", f);
}

static void
test_field_types(void **state)
{
	(void)state;
	char *text = capture(FEDNS_LOG_DEBUG, log_typed_fields);
	assert_int_equal(count_lines(text), 1);
	assert_true(json_line_ok(text));
	assert_string_equal(skip_ts(text),
			    ",\"level\":\"info\",\"event\":\"test.fields\","
			    "\"s\":\"q\\\"b\\\\n\\nc\\u0001d\\u007f\","
			    "\"i\":-42,\"imin\":-9223372036854775808,\"u\":18446744073709551615,"
			    "\"t\":true,\"f\":false,\"d\":1.5,\"dz\":0,\"k\\\"ey\":\"\"}\n");
	free(text);
}

static void
log_no_fields(void)
{
	fedns_log_fields(FEDNS_LOG_ERROR, "ev\"il\nevent", NULL);
	const fedns_log_field none[] = {FEDNS_LF_END};
	fedns_log_fields(FEDNS_LOG_WARN, "x.empty", none);
	fedns_log(FEDNS_LOG_DEBUG, "x.macro", FEDNS_LF_UINT("n", 7), FEDNS_LF_STR("who", "me"));
}

static void
test_one_line_per_call(void **state)
{
	(void)state;
	char *text = capture(FEDNS_LOG_DEBUG, log_no_fields);
	assert_int_equal(count_lines(text), 3);
	char *l1 = text, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	char line[512];
	char *lines[] = {l1, l2, l3};
	static const char *rest[] = {
		",\"level\":\"error\",\"event\":\"ev\\\"il\\nevent\"}\n",
		",\"level\":\"warn\",\"event\":\"x.empty\"}\n",
		",\"level\":\"debug\",\"event\":\"x.macro\",\"n\":7,\"who\":\"me\"}\n",
	};
	for (int i = 0; i < 3; i++) {
		size_t n = (size_t)(strchr(lines[i], '\n') - lines[i]) + 1;
		assert_true(n < sizeof(line));
		memcpy(line, lines[i], n);
		line[n] = '\0';
		if (!json_line_ok(line))
			fail_msg("not one JSON object: %s", line);
		assert_string_equal(skip_ts(line), rest[i]);
	}
	free(text);
}

static void
log_every_level(void)
{
	fedns_log(FEDNS_LOG_DEBUG, "lvl.debug", FEDNS_LF_INT("x", 0));
	fedns_log(FEDNS_LOG_INFO, "lvl.info", FEDNS_LF_INT("x", 1));
	fedns_log(FEDNS_LOG_WARN, "lvl.warn", FEDNS_LF_INT("x", 2));
	fedns_log_fields(FEDNS_LOG_INFO, "lvl.info.direct", NULL);
	fedns_log(FEDNS_LOG_ERROR, "lvl.error", FEDNS_LF_INT("x", 3));
}

static void
test_level_filtering(void **state)
{
	(void)state;
	char *text = capture(FEDNS_LOG_WARN, log_every_level);
	assert_int_equal(count_lines(text), 2);
	assert_null(strstr(text, "lvl.debug"));
	assert_null(strstr(text, "lvl.info"));
	assert_non_null(strstr(text, "\"level\":\"warn\",\"event\":\"lvl.warn\",\"x\":2}\n"));
	assert_non_null(strstr(text, "\"level\":\"error\",\"event\":\"lvl.error\",\"x\":3}\n"));
	free(text);

	text = capture(FEDNS_LOG_DEBUG, log_every_level);
	assert_int_equal(count_lines(text), 5);
	free(text);

	FILE *f = tmpfile();
	assert_non_null(f);
	fedns_log_setup(f, FEDNS_LOG_ERROR);
	assert_false(fedns_log_enabled(FEDNS_LOG_DEBUG));
	assert_false(fedns_log_enabled(FEDNS_LOG_WARN));
	assert_true(fedns_log_enabled(FEDNS_LOG_ERROR));
	fedns_log_setup(f, FEDNS_LOG_DEBUG);
	assert_true(fedns_log_enabled(FEDNS_LOG_DEBUG));
	fedns_log_setup(stderr, FEDNS_LOG_INFO);
	assert_false(fedns_log_enabled(FEDNS_LOG_DEBUG));
	assert_true(fedns_log_enabled(FEDNS_LOG_INFO));
	fclose(f);
}

static void
log_odd_doubles(void)
{
	fedns_log(FEDNS_LOG_INFO, "dbl", FEDNS_LF_DBL("nan", NAN), FEDNS_LF_DBL("inf", INFINITY),
		  FEDNS_LF_DBL("ninf", -INFINITY), FEDNS_LF_DBL("big", 1e300),
		  FEDNS_LF_DBL("tiny", -2.5e-300));
}

static void
test_doubles_stay_json(void **state)
{
	(void)state;
	/* JSON has no NaN or infinity: they must not make the line unparsable */
	char *text = capture(FEDNS_LOG_DEBUG, log_odd_doubles);
	assert_int_equal(count_lines(text), 1);
	if (!json_line_ok(text))
		fail_msg("not valid JSON: %s", text);
	assert_non_null(strstr(text, "\"nan\":null,\"inf\":null,\"ninf\":null,"
				     "\"big\":1e+300,\"tiny\":-2.5e-300}\n"));
	free(text);
}

static char *huge;

static void
log_huge_field(void)
{
	fedns_log(FEDNS_LOG_ERROR, "big.field", FEDNS_LF_STR("blob", huge), FEDNS_LF_INT("n", 1));
}

static void
test_huge_field_still_logs(void **state)
{
	(void)state;
	/* a field past the line cap must not swallow the event: an operator still sees it */
	huge = malloc(200000);
	assert_non_null(huge);
	memset(huge, '"', 199999);
	huge[199999] = '\0';
	char *text = capture(FEDNS_LOG_DEBUG, log_huge_field);
	free(huge);
	huge = NULL;
	assert_int_equal(count_lines(text), 1);
	if (!json_line_ok(text))
		fail_msg("not valid JSON (%zu bytes)", strlen(text));
	assert_non_null(
		strstr(text, "\"level\":\"error\",\"event\":\"big.field\",\"truncated\":true}\n"));
	assert_true(strlen(text) <= 64 * 1024);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_field_types),
		cmocka_unit_test(test_one_line_per_call),
		cmocka_unit_test(test_level_filtering),
		cmocka_unit_test(test_doubles_stay_json),
		cmocka_unit_test(test_huge_field_still_logs),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fedns_log_setup(stderr, FEDNS_LOG_INFO);
	return rc;
}
