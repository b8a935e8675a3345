/* SPDX-License-Identifier: Apache-2.0 */
/* Master-file parser and printer: every directive and syntax feature, errors with lines. */
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

#include "common/buf.h"
#include "common/diag.h"
#include "common/file.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#define SOA_LINE "@ IN SOA ns hostmaster 2024010101 3600 600 86400 300\n"
#define HEAD "$TTL 3600\n" SOA_LINE "@ IN NS ns\nns IN A 192.0.2.1\n"

static uint8_t *
name(const char *s)
{
	static uint8_t buf[4][FEDNS_NAME_MAXLEN];
	static int next;
	uint8_t *out = buf[next++ % 4];
	size_t len;
	assert_int_equal(fedns_name_from_text(s, strlen(s), NULL, out, &len, NULL), FEDNS_OK);
	return out;
}

/* Warnings collected from the parser and the zone check. */
static char warnings[4096];

static int
collect(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	char line[1024];
	size_t n = strlen(warnings);
	snprintf(warnings + n, sizeof(warnings) - n, "%s\n",
		 fedns_diag_format(d, line, sizeof(line)));
	return 0;
}

static fedns_err
parse_opts(const char *text, size_t len, fedns_zonefile_opts *opts, fedns_zone **zp, fedns_diag *d)
{
	fedns_zone *z = NULL;
	warnings[0] = '\0';
	fedns_diag_clear(d);
	assert_int_equal(fedns_zone_new(opts->origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	if (opts->warn == NULL)
		opts->warn = collect;
	fedns_err err = fedns_zonefile_parse("t.zone", text, len, opts, z, d);
	if (err == FEDNS_OK)
		err = fedns_zone_finish(z, collect, NULL);
	if (err != FEDNS_OK || zp == NULL) {
		fedns_zone_free(z);
		z = NULL;
	}
	if (zp != NULL)
		*zp = z;
	return err;
}

/* Parses text as zone "example." without includes; on success the zone is finished. */
static fedns_err
parse(const char *text, fedns_zone **zp, fedns_diag *d)
{
	fedns_zonefile_opts opts = {.origin = name("example.")};
	return parse_opts(text, strlen(text), &opts, zp, d);
}

static fedns_zone *
must_parse(const char *text)
{
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_err err = parse(text, &z, &d);
	if (err != FEDNS_OK) {
		char line[1024];
		print_error("unexpected failure: %s\n", fedns_diag_format(&d, line, sizeof(line)));
	}
	assert_int_equal(err, FEDNS_OK);
	return z;
}

/* Asserts that the parse fails at 'line' with a message containing 'msg'. */
static void
must_fail(const char *text, size_t len, unsigned line, const char *msg)
{
	fedns_diag d;
	fedns_zonefile_opts opts = {.origin = name("example.")};
	fedns_err err = parse_opts(text, len, &opts, NULL, &d);
	assert_int_not_equal(err, FEDNS_OK);
	if (strstr(d.msg, msg) == NULL || d.line != line)
		print_error("got \"%s\" at line %u, want \"%s\" at line %u\n", d.msg, d.line, msg,
			    line);
	assert_non_null(strstr(d.msg, msg));
	assert_int_equal(d.line, line);
	assert_string_equal(d.file, "t.zone");
}

#define FAIL(text, line, msg) must_fail((text), sizeof(text) - 1, (line), (msg))

/* The one RR at owner/type: checks TTL and rdata bytes. */
static void
expect_rr(const fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl, const void *rd,
	  size_t rdlen)
{
	const fedns_rrset *set = fedns_zone_find(z, name(owner), type);
	if (set == NULL)
		print_error("missing %s type %u\n", owner, type);
	assert_non_null(set);
	assert_int_equal(set->ttl, ttl);
	assert_int_equal(set->count, 1);
	const uint8_t *pos = set->rdata;
	uint16_t len;
	const uint8_t *r = fedns_rrset_next_rdata(&pos, &len);
	assert_int_equal(len, rdlen);
	assert_memory_equal(r, rd, rdlen);
}

static void
expect_ttl(const fedns_zone *z, const char *owner, uint16_t type, uint32_t ttl)
{
	const fedns_rrset *set = fedns_zone_find(z, name(owner), type);
	assert_non_null(set);
	assert_int_equal(set->ttl, ttl);
}

static void
test_basic(void **state)
{
	(void)state;
	fedns_zone *z = must_parse(HEAD "www IN A 192.0.2.2\n");
	assert_int_equal(fedns_zone_rr_count(z), 4);
	assert_int_equal(fedns_zone_serial(z), 2024010101);
	expect_rr(z, "www.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x02", 4);
	expect_rr(z, "example.", FEDNS_T_NS, 3600,
		  "\x02ns\x07"
		  "example\x00",
		  12);
	assert_string_equal(warnings, "");
	fedns_zone_free(z);
}

static void
test_origin_directive(void **state)
{
	(void)state;
	/* $ORIGIN is relative to the current origin; @ and relative rdata names follow it. */
	fedns_zone *z = must_parse(HEAD "$ORIGIN sub\n"
					"www A 192.0.2.3\n"
					"@ A 192.0.2.4\n"
					"c CNAME www\n"
					"$ORIGIN example.\n"
					"top A 192.0.2.5\n");
	expect_rr(z, "www.sub.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x03", 4);
	expect_rr(z, "sub.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x04", 4);
	expect_rr(z, "c.sub.example.", FEDNS_T_CNAME, 3600,
		  "\x03www\x03sub\x07"
		  "example\x00",
		  17);
	expect_rr(z, "top.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x05", 4);
	fedns_zone_free(z);
}

static void
test_ttl_units_and_order(void **state)
{
	(void)state;
	fedns_zone *z = must_parse("$TTL 1h30m\n" SOA_LINE "@ NS ns\n"
				   "ns A 192.0.2.1\n"
				   "a 1d IN A 192.0.2.1\n"
				   "b IN 2w A 192.0.2.1\n"
				   "c in a 192.0.2.1\n"
				   "d 60 A 192.0.2.1\n"
				   "e 1H2m3S TXT x\n");
	expect_ttl(z, "example.", FEDNS_T_SOA, 5400);
	expect_ttl(z, "a.example.", FEDNS_T_A, 86400);
	expect_ttl(z, "b.example.", FEDNS_T_A, 14 * 86400);
	expect_ttl(z, "c.example.", FEDNS_T_A, 5400);
	expect_ttl(z, "d.example.", FEDNS_T_A, 60);
	expect_ttl(z, "e.example.", FEDNS_T_TXT, 3723);
	fedns_zone_free(z);
}

static void
test_blank_owner_and_at(void **state)
{
	(void)state;
	fedns_zone *z = must_parse("$TTL 300\n"
				   "@ SOA ns hostmaster 1 2 3 4 5\n"
				   "\tNS ns\n"
				   "  NS ns2\n"
				   "ns A 192.0.2.1\n"
				   " AAAA 2001:db8::1\n"
				   "ns2 A 192.0.2.2\n"
				   "   \n"
				   "\t; a comment on a blank-owner line\n"
				   " TXT \"still ns2\"\n");
	const fedns_rrset *ns = fedns_zone_find(z, name("example."), FEDNS_T_NS);
	assert_non_null(ns);
	assert_int_equal(ns->count, 2);
	assert_non_null(fedns_zone_find(z, name("ns.example."), FEDNS_T_AAAA));
	expect_rr(z, "ns2.example.", FEDNS_T_TXT, 300, "\x09still ns2", 10);
	fedns_zone_free(z);
}

static void
test_parens_comments(void **state)
{
	(void)state;
	fedns_zone *z = must_parse("$TTL 300\n"
				   "@ IN SOA ns hostmaster ( ; serial follows (\n"
				   "        7      ; serial )\n"
				   "        3600   ; refresh \"quote\n"
				   "        600 86400\n"
				   "        (300) ) ; nested parens are fine\n"
				   "@ NS ns\n"
				   "ns A ( 192.0.2.1 )\n"
				   "t TXT ( \"one\" ; c\n"
				   "  \"two\" )\n");
	assert_int_equal(fedns_zone_serial(z), 7);
	const fedns_rrset *soa = fedns_zone_find(z, name("example."), FEDNS_T_SOA);
	assert_non_null(soa);
	const uint8_t *pos = soa->rdata;
	uint16_t len;
	const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
	assert_int_equal(fedns_soa_minimum(rd, len), 300);
	expect_rr(z, "t.example.", FEDNS_T_TXT, 300, "\x03one\x03two", 8);
	fedns_zone_free(z);
}

static void
test_quoted_and_escaped(void **state)
{
	(void)state;
	fedns_zone *z = must_parse(HEAD "q TXT \"a;b (c) d\"\n"
					"e TXT a\\ b\\;c\n"
					"f TXT abc\"def\"\n"
					"g TXT \"x\\\"y\"\n"
					"a\\.b A 192.0.2.9\n"
					"h TXT \"\"\n");
	expect_rr(z, "q.example.", FEDNS_T_TXT, 3600,
		  "\x09"
		  "a;b (c) d",
		  10);
	expect_rr(z, "e.example.", FEDNS_T_TXT, 3600,
		  "\x05"
		  "a b;c",
		  6);
	/* A quote ends an unquoted token, as in BIND. */
	expect_rr(z, "f.example.", FEDNS_T_TXT, 3600,
		  "\x03"
		  "abc\x03"
		  "def",
		  8);
	expect_rr(z, "g.example.", FEDNS_T_TXT, 3600, "\x03x\"y", 4);
	expect_rr(z, "h.example.", FEDNS_T_TXT, 3600, "\x00", 1);
	const uint8_t escaped[] = "\x03"
				  "a.b\x07"
				  "example";
	assert_non_null(fedns_zone_find(z, escaped, FEDNS_T_A));
	fedns_zone_free(z);
}

/* Tokens and quoted strings longer than the lexer's 16-byte blocks, with the delimiter at
 * every position: the block scan and the byte loop must agree. */
static void
test_long_tokens(void **state)
{
	(void)state;
	const char delims[] = {' ', '\t', '\r', ';', '(', '\\', '"'};
	for (size_t di = 0; di < sizeof(delims); di++) {
		for (size_t j = 1; j < 40; j++) {
			char text[512], tok[64];
			memset(tok, 'a', j);
			tok[j] = '\0';
			const char *rest = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
			char c = delims[di];
			if (c == '\\')
				snprintf(text, sizeof(text), HEAD "t TXT %s\\.%s\n", tok, rest + j);
			else if (c == '(')
				snprintf(text, sizeof(text), HEAD "t TXT %s(%s)\n", tok, rest + j);
			else if (c == '"')
				snprintf(text, sizeof(text), HEAD "t TXT %s\"%s\"\n", tok,
					 rest + j);
			else
				snprintf(text, sizeof(text), HEAD "t TXT %s%c%s\n", tok, c,
					 rest + j);
			fedns_zone *z = must_parse(text);
			uint8_t want[128];
			size_t n = 0;
			size_t blen = 40 - j;
			if (c == '\\') {
				want[n++] = (uint8_t)(j + 1 + blen);
				memset(want + n, 'a', j);
				n += j;
				want[n++] = '.';
				memset(want + n, 'b', blen);
				n += blen;
			} else {
				want[n++] = (uint8_t)j;
				memset(want + n, 'a', j);
				n += j;
				if (c != ';') {
					want[n++] = (uint8_t)blen;
					memset(want + n, 'b', blen);
					n += blen;
				}
			}
			expect_rr(z, "t.example.", FEDNS_T_TXT, 3600, want, n);
			fedns_zone_free(z);
		}
	}
	/* Inside quotes: an escaped quote and a closing quote at every position. */
	for (size_t j = 0; j < 40; j++) {
		char text[512], tok[64];
		memset(tok, 'q', j);
		tok[j] = '\0';
		snprintf(text, sizeof(text), HEAD "t TXT \"%s\\\"%s\"\n", tok, tok);
		fedns_zone *z = must_parse(text);
		uint8_t want[128];
		want[0] = (uint8_t)(2 * j + 1);
		memset(want + 1, 'q', j);
		want[1 + j] = '"';
		memset(want + 2 + j, 'q', j);
		expect_rr(z, "t.example.", FEDNS_T_TXT, 3600, want, 2 * j + 2);
		fedns_zone_free(z);
	}
}

static void
test_crlf(void **state)
{
	(void)state;
	fedns_zone *z = must_parse("$TTL 300\r\n"
				   "@ SOA ns hostmaster ( 1 2\r\n 3 4 5 )\r\n"
				   "@ NS ns\r\n"
				   "ns A 192.0.2.1 ; c\r\n"
				   "\r\n"
				   "t TXT \"x\"\r\n");
	expect_rr(z, "t.example.", FEDNS_T_TXT, 300, "\x01x", 2);
	expect_rr(z, "ns.example.", FEDNS_T_A, 300, "\xc0\x00\x02\x01", 4);
	fedns_zone_free(z);
}

static void
test_ttl_defaults(void **state)
{
	(void)state;
	/* BIND: an SOA without TTL and no $TTL takes MINIMUM, which then is the default. */
	fedns_zone *z = must_parse("@ IN SOA ns hostmaster 1 3600 600 86400 300\n"
				   "  IN NS ns\n"
				   "ns 7200 IN A 192.0.2.1\n"
				   "www IN A 192.0.2.2\n");
	expect_ttl(z, "example.", FEDNS_T_SOA, 300);
	expect_ttl(z, "ns.example.", FEDNS_T_A, 7200);
	expect_ttl(z, "www.example.", FEDNS_T_A, 300);
	assert_non_null(strstr(warnings, "t.zone:1: no TTL specified; using SOA MINTTL instead"));
	fedns_zone_free(z);

	/* RFC 1035: without $TTL the last explicit TTL carries, with one warning. */
	z = must_parse("@ 100 IN SOA ns hostmaster 1 3600 600 86400 300\n"
		       "  IN NS ns\n"
		       "ns 200 IN A 192.0.2.1\n"
		       "www IN A 192.0.2.2\n");
	expect_ttl(z, "example.", FEDNS_T_NS, 100);
	expect_ttl(z, "www.example.", FEDNS_T_A, 200);
	assert_string_equal(warnings, "t.zone:2: using RFC1035 TTL semantics\n");
	fedns_zone_free(z);

	FAIL("@ IN NS ns\n" SOA_LINE, 1, "no TTL specified");
}

static void
test_errors(void **state)
{
	(void)state;
	FAIL(HEAD "www IN AX 192.0.2.1\n", 5, "unknown RR type \"AX\"");
	FAIL(HEAD "www 9x IN A 192.0.2.1\n", 5, "TTL \"9x\" is not a number");
	FAIL(HEAD "$TTL 1y\n", 5, "TTL \"1y\" is not a number");
	/* TTL and type errors name the line the token is on, inside parentheses too. */
	FAIL(HEAD "www (\n 9x A 192.0.2.1 )\n", 6, "TTL \"9x\" is not a number");
	FAIL(HEAD "www ( ; \"\n\n IN AX 1 )\n", 7, "unknown RR type \"AX\"");
	FAIL(HEAD "www 99999999999 A 192.0.2.1\n", 5, "TTL \"99999999999\" is out of range");
	FAIL(HEAD "\n\n\n\n\n\n\nt TXT ( a\nb\n", 12, "unbalanced parenthesis opened at line 12");
	FAIL(HEAD "t TXT a )\n", 5, "unbalanced parenthesis");
	FAIL(HEAD "t TXT \"abc\n\"\n", 5, "unbalanced quotes");
	FAIL(HEAD "t TXT \"abc", 5, "quoted string opened at line 5 is not closed");
	FAIL(HEAD "$FOO bar\n", 5, "unknown directive \"$FOO\"");
	FAIL(HEAD "$ORIGIN\n", 5, "$ORIGIN takes one name");
	FAIL(HEAD "$INCLUDE x.zone\n", 5, "$INCLUDE \"x.zone\" is not allowed here");
	FAIL(" A 192.0.2.1\n", 1, "no previous owner");
	FAIL(HEAD "www CH TXT x\n", 5, "class \"CH\" does not match the zone class \"IN\"");
	FAIL(HEAD "www IN\n", 5, "record has no type");
	FAIL(HEAD "www AXFR x\n", 5, "cannot appear in a zone");
	FAIL(HEAD "www ANY A 192.0.2.1\n", 5, "class \"ANY\" does not match");
	FAIL(HEAD "a..b A 192.0.2.1\n", 5, "owner name \"a..b\"");
	FAIL(HEAD "t TXT a\\", 5, "backslash at end of input");
	FAIL(HEAD "t TXT a\\\nb\n", 5, "backslash at end of line");
	/* rdata errors carry the record's line. */
	FAIL(HEAD "www A 192.0.2\n", 5, "");
	FAIL(HEAD "m MX x mail\n", 5, "");
	/* NUL is an error wherever it is, even in a comment, with its line. */
	FAIL(HEAD "; x\0y\nwww A 192.0.2.1\n", 5, "NUL byte in input");
	FAIL("$TTL 300\n\0", 2, "NUL byte in input");
	/* Stops at the first error. */
	FAIL(HEAD "a AX 1\nb 9x A 192.0.2.1\n", 5, "unknown RR type");
}

static void
test_generate(void **state)
{
	(void)state;
	fedns_zone *z = must_parse(HEAD "$GENERATE 1-3 h$ A 192.0.2.$\n"
					"$GENERATE 10-14/4 g${5,3,x} 60 IN CNAME t${0,2,X}\n"
					"$GENERATE 0-1 txt$ TXT \"v $\"\n");
	expect_rr(z, "h1.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x01", 4);
	expect_rr(z, "h3.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x03", 4);
	assert_null(fedns_zone_find(z, name("h4.example."), FEDNS_T_A));
	expect_rr(z, "g00f.example.", FEDNS_T_CNAME, 60,
		  "\x03t0A\x07"
		  "example",
		  13);
	expect_rr(z, "g013.example.", FEDNS_T_CNAME, 60,
		  "\x03t0E\x07"
		  "example",
		  13);
	assert_null(fedns_zone_find(z, name("g017.example."), FEDNS_T_CNAME));
	/* As in BIND, the right side is re-read unquoted. */
	expect_rr(z, "txt1.example.", FEDNS_T_TXT, 3600,
		  "\x01v\x01"
		  "1",
		  4);
	assert_int_equal(fedns_zone_rr_count(z), 3 + 3 + 2 + 2);
	fedns_zone_free(z);

	FAIL(HEAD "$GENERATE 3-1 h$ A 192.0.2.1\n", 5, "$GENERATE range \"3-1\" is invalid");
	FAIL(HEAD "$GENERATE 1-2/0 h$ A 192.0.2.1\n", 5, "is invalid");
	FAIL(HEAD "$GENERATE x h$ A 192.0.2.1\n", 5, "is invalid");
	FAIL(HEAD "$GENERATE 0-70000 h$ A 192.0.2.1\n", 5, "makes more than 65536 records");
	FAIL(HEAD "$GENERATE 1-2 h$ A\n", 5, "$GENERATE takes a range");
	FAIL(HEAD "$GENERATE 1-2 h${1,2,q} A 192.0.2.1\n", 5, "template is invalid");
	FAIL(HEAD "$GENERATE 1-2 h${-5} A 192.0.2.1\n", 5, "template is invalid");
	/* Errors in a generated record point at the directive's line. */
	FAIL(HEAD "\n$GENERATE 1-300 h$ A 192.0.2.$\n", 6, "");
}

static void
test_empty(void **state)
{
	(void)state;
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_zonefile_opts opts = {.origin = name("example.")};
	assert_int_equal(fedns_zone_new(opts.origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_parse("t.zone", "", 0, &opts, z, &d), FEDNS_OK);
	assert_int_equal(fedns_zonefile_parse("t.zone", "; only\n\n  \n", 11, &opts, z, &d),
			 FEDNS_OK);
	/* A zone without SOA is rejected by the zone check, not the parser. */
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_EZONE);
	fedns_zone_free(z);
}

static int
add_to(void *ctx, const fedns_rr *rr)
{
	fedns_zone *other = ctx;
	return fedns_zone_contains(other, rr) ? 0 : 1;
}

static void
round_trip(const char *text)
{
	fedns_zone *z = must_parse(text);
	fedns_buf b;
	fedns_buf_init(&b, 0);
	assert_int_equal(fedns_zone_print(z, &b), FEDNS_OK);
	/* The SOA comes first, every line is owner TAB ttl TAB class TAB type TAB rdata. */
	assert_memory_equal(b.data, "example.\t", 9);
	assert_non_null(strstr((char *)b.data, "\tIN\tSOA\t"));
	assert_true(strstr((char *)b.data, "\tIN\tSOA\t") < strchr((char *)b.data, '\n'));
	fedns_zone *z2 = must_parse((char *)b.data);
	assert_int_equal(fedns_zone_rr_count(z2), fedns_zone_rr_count(z));
	assert_int_equal(fedns_zone_walk(z, add_to, z2), 0);
	assert_int_equal(fedns_zone_walk(z2, add_to, z), 0);
	/* Printing is deterministic: the re-parsed zone prints the same bytes. */
	fedns_buf b2;
	fedns_buf_init(&b2, 0);
	assert_int_equal(fedns_zone_print(z2, &b2), FEDNS_OK);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	fedns_buf_fini(&b2);
	fedns_buf_fini(&b);
	fedns_zone_free(z2);
	fedns_zone_free(z);
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip(HEAD "www 60 A 192.0.2.2\n"
			"www AAAA 2001:db8::2\n"
			"Mixed.Case A 192.0.2.3\n"
			"t TXT \"a;b\" \"c\\\"d\" e\\ f \"\\255\"\n"
			"m MX 10 mail\n"
			"mail A 192.0.2.4\n"
			"s SRV 0 5 5060 sip\n"
			"a\\.b\\$c A 192.0.2.5\n"
			"@ CAA 0 issue \"ca.example\"\n"
			"u TYPE65280 \\# 3 010203\n"
			"c CNAME www\n"
			"dname DNAME other.test.\n");
}

static void
test_rr_print(void **state)
{
	(void)state;
	fedns_rr rr = {.owner = name("www.example."),
		       .type = FEDNS_T_A,
		       .rclass = FEDNS_C_IN,
		       .ttl = 300,
		       .rdlen = 4,
		       .rdata = (const uint8_t *)"\xc0\x00\x02\x01"};
	fedns_buf b;
	fedns_buf_init(&b, 0);
	assert_int_equal(fedns_rr_print(&rr, &b), FEDNS_OK);
	assert_string_equal((char *)b.data, "www.example.\t300\tIN\tA\t192.0.2.1\n");
	fedns_buf_fini(&b);
}

static void
test_zonefile_origin(void **state)
{
	(void)state;
	uint8_t o[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag d;
	const char *good = "; c\n$TTL 300\nExample.COM. 300 IN SOA ns h 1 2 3 4 5\n";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin(good, strlen(good), o, &olen, &d), FEDNS_OK);
	assert_int_equal(olen, 13);
	assert_memory_equal(o,
			    "\x07"
			    "Example\x03"
			    "COM",
			    13);
	const char *rel = "example SOA ns h 1 2 3 4 5\n";
	const char *withorigin = "$ORIGIN example.net.\n$TTL 1\n@ SOA ns h 1 2 3 4 5\n";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin(withorigin, strlen(withorigin), o, &olen, &d),
			 FEDNS_OK);
	assert_memory_equal(o,
			    "\x07"
			    "example\x03"
			    "net",
			    13);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin(rel, strlen(rel), o, &olen, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "not an absolute name"));
	/* Fuzz crash: a relative $ORIGIN after an absolute one (input and output aliased). */
	const char *chained = "$TTL 1h0m\n$ORIGIN ampne.\n$ORIGIN amp\n@ SOA ns h 1 2 3 4 5\n";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin(chained, strlen(chained), o, &olen, &d), FEDNS_OK);
	assert_int_equal(olen, 11);
	assert_memory_equal(o,
			    "\x03"
			    "amp\x05"
			    "ampne",
			    11);
	const char *ns = "example. NS ns\n";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin(ns, strlen(ns), o, &olen, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "not an SOA"));
	fedns_diag_clear(&d);
	assert_int_equal(fedns_zonefile_origin("", 0, o, &olen, &d), FEDNS_ESYNTAX);
}

/* $INCLUDE with real files in a temp dir, resolved by fedns_file_include. */
static char tmpdir[256];

static void
write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fedns-zf-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/zones", tmpdir);
	return mkdir(sub, 0700);
}

static int
teardown_dir(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static fedns_err
parse_in_dir(const char *text, fedns_zone **zp, fedns_diag *d)
{
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/zones", tmpdir);
	fedns_zonefile_opts opts = {
		.origin = name("example."),
		.include = fedns_file_include,
		.include_ctx = dir,
		.max_include_depth = 4,
	};
	return parse_opts(text, strlen(text), &opts, zp, d);
}

static void
test_include(void **state)
{
	(void)state;
	write_file("zones/hosts.inc", "www A 192.0.2.7\n"
				      "$ORIGIN inner\n"
				      "x A 192.0.2.8\n");
	write_file("zones/sub.inc", "@ A 192.0.2.9\nb TXT \"in sub\"\n");
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_err err = parse_in_dir(HEAD "$INCLUDE hosts.inc\n"
					  "after A 192.0.2.10\n"
					  "$INCLUDE \"sub.inc\" sub ; with origin\n"
					  "after2 A 192.0.2.11\n",
				     &z, &d);
	if (err != FEDNS_OK)
		print_error("%s:%u: %s\n", d.file, d.line, d.msg);
	assert_int_equal(err, FEDNS_OK);
	expect_rr(z, "www.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x07", 4);
	expect_rr(z, "x.inner.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x08", 4);
	/* The include's $ORIGIN does not leak back into the including file. */
	expect_rr(z, "after.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x0a", 4);
	expect_rr(z, "sub.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x09", 4);
	expect_rr(z, "b.sub.example.", FEDNS_T_TXT, 3600, "\x06in sub", 7);
	expect_rr(z, "after2.example.", FEDNS_T_A, 3600, "\xc0\x00\x02\x0b", 4);
	fedns_zone_free(z);

	/* Errors inside an included file name that file and its line. */
	write_file("zones/bad.inc", "ok A 192.0.2.1\nbad AX 1\n");
	assert_int_not_equal(parse_in_dir(HEAD "$INCLUDE bad.inc\n", NULL, &d), FEDNS_OK);
	assert_non_null(strstr(d.file, "bad.inc"));
	assert_int_equal(d.line, 2);
	assert_non_null(strstr(d.msg, "unknown RR type \"AX\""));

	/* A file that includes itself is stopped by the depth cap. */
	write_file("zones/loop.inc", "$INCLUDE loop.inc\n");
	assert_int_equal(parse_in_dir(HEAD "$INCLUDE loop.inc\n", NULL, &d), FEDNS_ETOOBIG);
	assert_non_null(strstr(d.msg, "nests deeper than 4 files"));
	assert_int_equal(d.line, 1);

	/* Outside the zone's directory, even when the file exists. */
	write_file("outside.inc", "x A 192.0.2.1\n");
	assert_int_equal(parse_in_dir(HEAD "\n$INCLUDE ../outside.inc\n", NULL, &d), FEDNS_EACCES);
	assert_string_equal(d.msg, "$INCLUDE \"../outside.inc\" is outside the zone directory");
	assert_string_equal(d.file, "t.zone");
	assert_int_equal(d.line, 6);

	assert_int_equal(parse_in_dir(HEAD "$INCLUDE sub\\256.inc\n", NULL, &d), FEDNS_ESYNTAX);
	assert_non_null(strstr(d.msg, "$INCLUDE file name \"sub\\256.inc\" is invalid"));
	/* Escapes in the file name are decoded before the lookup. */
	assert_int_equal(parse_in_dir(HEAD "$INCLUDE s\\ub.inc\n", NULL, &d), FEDNS_OK);
	assert_int_equal(parse_in_dir(HEAD "$INCLUDE \\115ub.inc\n", NULL, &d), FEDNS_OK);
	assert_int_not_equal(parse_in_dir(HEAD "$INCLUDE missing.inc\n", NULL, &d), FEDNS_OK);
	assert_non_null(strstr(d.msg, "$INCLUDE \"missing.inc\""));
	assert_int_equal(d.line, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_origin_directive),
		cmocka_unit_test(test_ttl_units_and_order),
		cmocka_unit_test(test_blank_owner_and_at),
		cmocka_unit_test(test_parens_comments),
		cmocka_unit_test(test_quoted_and_escaped),
		cmocka_unit_test(test_long_tokens),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_ttl_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rr_print),
		cmocka_unit_test(test_zonefile_origin),
		cmocka_unit_test_setup_teardown(test_include, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
