/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/rdata: text -> wire -> text per type, wire edges, errors, canonical form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "dns/name.h"
#include "dns/rdata.h"

#define MAXTOK 512
#define FEDNS_T_NAPTR_FOR_TEST 35

static uint8_t origin[FEDNS_NAME_MAXLEN];

static int
setup(void **state)
{
	size_t n;
	(void)state;
	return fedns_name_from_text("example.com.", 12, NULL, origin, &n, NULL);
}

/* Splits like the master-file lexer: whitespace separates, "..." is one quoted token
 * (quotes excluded, escapes kept raw). */
static size_t
split(const char *s, fedns_token *t)
{
	size_t n = 0;
	while (*s != '\0') {
		if (*s == ' ' || *s == '\t') {
			s++;
			continue;
		}
		assert_true(n < MAXTOK);
		if (*s == '"') {
			const char *b = ++s;
			while (*s != '\0' && *s != '"') {
				if (*s == '\\' && s[1] != '\0')
					s++;
				s++;
			}
			t[n].s = b;
			t[n].len = (uint32_t)(s - b);
			t[n].quoted = true;
			if (*s == '"')
				s++;
		} else {
			const char *b = s;
			while (*s != '\0' && *s != ' ' && *s != '\t') {
				if (*s == '\\' && s[1] != '\0')
					s++;
				s++;
			}
			t[n].s = b;
			t[n].len = (uint32_t)(s - b);
			t[n].quoted = false;
		}
		n++;
	}
	return n;
}

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	while (*h != '\0') {
		if (*h == ' ') {
			h++;
			continue;
		}
		unsigned v;
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static fedns_err
parse_text(uint16_t type, const char *text, uint8_t *out, size_t cap, size_t *len, fedns_diag *d)
{
	fedns_token t[MAXTOK];
	size_t n = split(text, t);
	fedns_diag_clear(d);
	return fedns_rdata_from_text(type, t, n, origin, out, cap, len, d);
}

/* text -> wire (exact bytes) -> text (exact string) -> wire again. */
static void
rt(uint16_t type, const char *text, const char *hexwire, const char *printed)
{
	uint8_t wire[FEDNS_RDATA_MAXLEN], want[FEDNS_RDATA_MAXLEN], again[FEDNS_RDATA_MAXLEN];
	size_t len = 0, wlen = unhex(hexwire, want), alen = 0;
	fedns_diag d;
	fedns_err err = parse_text(type, text, wire, sizeof(wire), &len, &d);
	if (err != FEDNS_OK)
		fail_msg("parse %u \"%s\": %s", type, text, d.msg);
	if (len != wlen || memcmp(wire, want, len) != 0) {
		char got[512] = "";
		for (size_t i = 0; i < len && i < 200; i++)
			snprintf(got + 2 * i, 3, "%02x", wire[i]);
		fail_msg("wire of \"%s\": got %s want %s", text, got, hexwire);
	}
	assert_int_equal(fedns_rdata_check(type, wire, len), FEDNS_OK);

	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	assert_int_equal(fedns_rdata_to_text(type, wire, len, &b), FEDNS_OK);
	const char *exp = printed != NULL ? printed : text;
	if (strcmp((const char *)b.data, exp) != 0)
		fail_msg("text of \"%s\": got \"%s\" want \"%s\"", text, b.data, exp);

	err = parse_text(type, (const char *)b.data, again, sizeof(again), &alen, &d);
	if (err != FEDNS_OK)
		fail_msg("reparse \"%s\": %s", b.data, d.msg);
	assert_int_equal(alen, len);
	assert_memory_equal(again, wire, len);
	fedns_buf_fini(&b);
}

static void
bad(uint16_t type, const char *text, fedns_err code, const char *msg)
{
	uint8_t wire[FEDNS_RDATA_MAXLEN];
	size_t len = 0;
	fedns_diag d;
	fedns_err err = parse_text(type, text, wire, sizeof(wire), &len, &d);
	if (err != code)
		fail_msg("\"%s\": got %d (%s) want %d", text, err, d.msg, code);
	assert_int_equal(d.code, code);
	if (strcmp(d.msg, msg) != 0)
		fail_msg("\"%s\": message \"%s\" want \"%s\"", text, d.msg, msg);
	assert_int_equal(len, 0);
}

static void
test_a_aaaa(void **state)
{
	(void)state;
	rt(FEDNS_T_A, "192.0.2.1", "c0000201", NULL);
	rt(FEDNS_T_A, "0.0.0.0", "00000000", NULL);
	rt(FEDNS_T_A, "255.255.255.255", "ffffffff", NULL);
	rt(FEDNS_T_AAAA, "2001:db8::1", "20010db8000000000000000000000001", NULL);
	rt(FEDNS_T_AAAA, "2001:db8:0:0:0:0:0:1", "20010db8000000000000000000000001", "2001:db8::1");
	rt(FEDNS_T_AAAA, "::", "00000000000000000000000000000000", NULL);
	rt(FEDNS_T_AAAA, "::ffff:192.0.2.1", "00000000000000000000ffffc0000201", NULL);
	rt(FEDNS_T_AAAA, "::192.0.2.1", "000000000000000000000000c0000201", NULL);
	rt(FEDNS_T_AAAA, "2001:db8:0:1:1:1:1:1", "20010db8000000010001000100010001", NULL);
	rt(FEDNS_T_AAAA, "1:2:3:4:5:6:7::", "00010002000300040005000600070000", "1:2:3:4:5:6:7:0");
	rt(FEDNS_T_AAAA, "1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304",
	   "1:2:3:4:5:6:102:304");
	rt(FEDNS_T_AAAA, "FE80::0001", "fe800000000000000000000000000001", "fe80::1");

	bad(FEDNS_T_A, "1.2.3", FEDNS_ESYNTAX, "A address \"1.2.3\" is not a valid IPv4 address");
	bad(FEDNS_T_A, "01.2.3.4", FEDNS_ESYNTAX,
	    "A address \"01.2.3.4\" is not a valid IPv4 address");
	bad(FEDNS_T_A, "1.2.3.256", FEDNS_ESYNTAX,
	    "A address \"1.2.3.256\" is not a valid IPv4 address");
	bad(FEDNS_T_A, "1.2.3.4.", FEDNS_ESYNTAX,
	    "A address \"1.2.3.4.\" is not a valid IPv4 address");
	bad(FEDNS_T_A, "\"1.2.3.4\"", FEDNS_ESYNTAX,
	    "A address \"1.2.3.4\" is not a valid IPv4 address");
	bad(FEDNS_T_A, "1.2.3.4 5", FEDNS_ESYNTAX, "A has 2 fields, 1 expected");
	bad(FEDNS_T_A, "", FEDNS_ESYNTAX, "A has 0 fields, 1 expected");
	bad(FEDNS_T_AAAA, "1::2::3", FEDNS_ESYNTAX,
	    "AAAA address \"1::2::3\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "00001::", FEDNS_ESYNTAX,
	    "AAAA address \"00001::\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "1:2:3:4:5:6:7:8:9", FEDNS_ESYNTAX,
	    "AAAA address \"1:2:3:4:5:6:7:8:9\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "::1.2.3.4.5", FEDNS_ESYNTAX,
	    "AAAA address \"::1.2.3.4.5\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "1:2:3:4:5:6:7:8::", FEDNS_ESYNTAX,
	    "AAAA address \"1:2:3:4:5:6:7:8::\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "1:", FEDNS_ESYNTAX, "AAAA address \"1:\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, ":1::", FEDNS_ESYNTAX,
	    "AAAA address \":1::\" is not a valid IPv6 address");
	bad(FEDNS_T_AAAA, "192.0.2.1", FEDNS_ESYNTAX,
	    "AAAA address \"192.0.2.1\" is not a valid IPv6 address");
}

/* Our IPv4/IPv6 parsers accept exactly what libc's inet_pton accepts, with the same
 * bytes, over many random strings from the address alphabet. */
static void
test_addr_vs_inet_pton(void **state)
{
	(void)state;
	static const char alpha[] = "0123456789abcdefABCDEF::..";
	uint32_t seed = 12345;
	size_t agree6 = 0;
	for (int iter = 0; iter < 300000; iter++) {
		char s[48];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % 24;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		s[n] = '\0';
		if (iter % 3 == 0 && n > 4) {
			/* Bias towards plausible addresses. */
			memcpy(s, "2001:db8::", 10 < n ? 10 : n);
		}
		fedns_token t = {s, (uint32_t)n, false};
		uint8_t ours[16], libc[16];
		size_t len = 0;
		int ok6 = inet_pton(AF_INET6, s, libc) == 1;
		fedns_err err = fedns_rdata_from_text(FEDNS_T_AAAA, &t, 1, origin, ours,
						      sizeof(ours), &len, NULL);
		if ((err == FEDNS_OK) != ok6)
			fail_msg("AAAA \"%s\": ours %d libc %d", s, err, ok6);
		if (ok6) {
			assert_memory_equal(ours, libc, 16);
			agree6++;
		}
		int ok4 = inet_pton(AF_INET, s, libc) == 1;
		err = fedns_rdata_from_text(FEDNS_T_A, &t, 1, origin, ours, sizeof(ours), &len,
					    NULL);
		if ((err == FEDNS_OK) != ok4)
			fail_msg("A \"%s\": ours %d libc %d", s, err, ok4);
		if (ok4)
			assert_memory_equal(ours, libc, 4);
	}
	assert_true(agree6 > 1000);
}

static void
test_names(void **state)
{
	(void)state;
	rt(FEDNS_T_NS, "ns1", "036e7331076578616d706c6503636f6d00", "ns1.example.com.");
	rt(FEDNS_T_NS, "Ns1.Example.NET.", "034e7331074578616d706c65034e455400", NULL);
	rt(FEDNS_T_CNAME, "@", "076578616d706c6503636f6d00", "example.com.");
	rt(FEDNS_T_CNAME, ".", "00", NULL);
	rt(FEDNS_T_DNAME, "example.net.", "076578616d706c65036e657400", NULL);
	rt(FEDNS_T_PTR, "host.example.com.", "04686f7374076578616d706c6503636f6d00", NULL);
	rt(FEDNS_T_CNAME, "a\\.b.example.com.", "03612e62076578616d706c6503636f6d00", NULL);

	bad(FEDNS_T_CNAME, "a..b.", FEDNS_ESYNTAX,
	    "CNAME target \"a..b.\" is not a valid name (name \"a..b.\" has an empty label)");
	bad(FEDNS_T_NS, "\"ns1\"", FEDNS_ESYNTAX, "NS nameserver \"ns1\" must not be quoted");
	bad(FEDNS_T_CNAME, "a b", FEDNS_ESYNTAX, "CNAME has 2 fields, 1 expected");
}

static void
test_mx_srv(void **state)
{
	(void)state;
	rt(FEDNS_T_MX, "10 mail.example.com.", "000a046d61696c076578616d706c6503636f6d00", NULL);
	rt(FEDNS_T_MX, "010 mail", "000a046d61696c076578616d706c6503636f6d00",
	   "10 mail.example.com.");
	rt(FEDNS_T_MX, "0 .", "000000", NULL);
	rt(FEDNS_T_MX, "65535 .", "ffff00", NULL);
	rt(FEDNS_T_SRV, "0 5 5060 sip.example.com.",
	   "0000000513c403736970076578616d706c6503636f6d00", NULL);
	rt(FEDNS_T_SRV, "1 2 3 .", "00010002000300", NULL);

	bad(FEDNS_T_MX, "x mail.", FEDNS_ESYNTAX, "MX preference \"x\" is not a number");
	bad(FEDNS_T_MX, "0x10 mail.", FEDNS_ESYNTAX, "MX preference \"0x10\" is not a number");
	bad(FEDNS_T_MX, "-1 mail.", FEDNS_ESYNTAX, "MX preference \"-1\" is not a number");
	bad(FEDNS_T_MX, "65536 mail.", FEDNS_ESYNTAX,
	    "MX preference \"65536\" is out of range (0-65535)");
	bad(FEDNS_T_MX, "99999999999999999999999 mail.", FEDNS_ESYNTAX,
	    "MX preference \"99999999999999999999999\" is out of range (0-65535)");
	bad(FEDNS_T_MX, "10", FEDNS_ESYNTAX, "MX has 1 field, 2 expected");
	bad(FEDNS_T_MX, "\"10\" mail.", FEDNS_ESYNTAX, "MX preference \"10\" must not be quoted");
	bad(FEDNS_T_SRV, "1 2 70000 .", FEDNS_ESYNTAX,
	    "SRV port \"70000\" is out of range (0-65535)");
	bad(FEDNS_T_SRV, "1 2 3", FEDNS_ESYNTAX, "SRV has 3 fields, 4 expected");
}

static void
test_soa(void **state)
{
	(void)state;
	const char *w = "036e7331076578616d706c6503636f6d00"
			"0a686f73746d6173746572076578616d706c6503636f6d00"
			"78a3f175"
			"00000e10"
			"00000384"
			"00093a80"
			"0000012c";
	rt(FEDNS_T_SOA, "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300",
	   w, NULL);
	rt(FEDNS_T_SOA, "ns1 hostmaster 2024010101 1h 15M 1w 5m", w,
	   "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300");
	bad(FEDNS_T_SOA, "ns1 hostmaster 1 2 3 4", FEDNS_ESYNTAX, "SOA has 6 fields, 7 expected");
	bad(FEDNS_T_SOA, "ns1 hostmaster 1 2 3 4 5 6", FEDNS_ESYNTAX,
	    "SOA has 8 fields, 7 expected");
	bad(FEDNS_T_SOA, "ns1 hostmaster 1h 2 3 4 5", FEDNS_ESYNTAX,
	    "SOA serial \"1h\" is not a number");
	bad(FEDNS_T_SOA, "ns1 hostmaster 4294967296 2 3 4 5", FEDNS_ESYNTAX,
	    "SOA serial \"4294967296\" is out of range (0-4294967295)");
	bad(FEDNS_T_SOA, "ns1 hostmaster 1 2x 3 4 5", FEDNS_ESYNTAX,
	    "SOA refresh \"2x\" is not a number");
	bad(FEDNS_T_SOA, "ns1 hostmaster 1 2 3 4 4294967296", FEDNS_ESYNTAX,
	    "SOA minimum \"4294967296\" is out of range (0-4294967295)");

	uint8_t rd[FEDNS_RDATA_MAXLEN];
	size_t len = unhex(w, rd);
	assert_int_equal(fedns_soa_serial(rd, len), 2024010101u);
	assert_int_equal(fedns_soa_minimum(rd, len), 300);
	fedns_soa_set_serial(rd, len, 7);
	assert_int_equal(fedns_soa_serial(rd, len), 7);
	assert_int_equal(fedns_soa_minimum(rd, len), 300);
}

static void
test_txt_hinfo(void **state)
{
	(void)state;
	rt(FEDNS_T_TXT, "\"hello world\"", "0b68656c6c6f20776f726c64", NULL);
	rt(FEDNS_T_TXT, "\"a\" \"b\"", "01610162", NULL);
	rt(FEDNS_T_TXT, "plain", "05706c61696e", "\"plain\"");
	rt(FEDNS_T_TXT, "\"\"", "00", NULL);
	rt(FEDNS_T_TXT, "\"semi;colon\" \"a@b$c(d)\"", "0a73656d693b636f6c6f6e086140622463286429",
	   NULL);
	rt(FEDNS_T_TXT, "\"quote\\\"back\\\\\"", "0b71756f7465226261636b5c", NULL);
	rt(FEDNS_T_TXT, "\"\\200\\001 x\"", "04c8012078", NULL);
	rt(FEDNS_T_TXT, "\"\\065\\\"\" \"x\\y\"", "024122027879", "\"A\\\"\" \"xy\"");
	rt(FEDNS_T_HINFO, "\"PC\" \"Linux OS\"", "025043084c696e7578204f53", NULL);
	rt(FEDNS_T_HINFO, "PC Linux", "025043054c696e7578", "\"PC\" \"Linux\"");

	/* 255 is the limit of one string. */
	char text[600];
	char hex[1200];
	memset(text, 'a', 255);
	text[255] = '\0';
	strcpy(hex, "ff");
	for (int i = 0; i < 255; i++)
		strcat(hex, "61");
	char quoted[620];
	snprintf(quoted, sizeof(quoted), "\"%s\"", text);
	rt(FEDNS_T_TXT, text, hex, quoted);
	memset(text, 'a', 256);
	text[256] = '\0';
	bad(FEDNS_T_TXT, text, FEDNS_ESYNTAX, "TXT string is longer than 255 bytes");
	bad(FEDNS_T_TXT, "", FEDNS_ESYNTAX, "TXT has 0 fields, at least 1 expected");
	bad(FEDNS_T_TXT, "\"ab\\1x\"", FEDNS_ESYNTAX, "TXT string \"ab\\1x\" has a bad escape");
	bad(FEDNS_T_TXT, "\"\\256\"", FEDNS_ESYNTAX, "TXT string \"\\256\" has a bad escape");
	bad(FEDNS_T_TXT, "ab\\", FEDNS_ESYNTAX, "TXT string \"ab\\\" has a bad escape");
	bad(FEDNS_T_HINFO, "a", FEDNS_ESYNTAX, "HINFO has 1 field, 2 expected");
	bad(FEDNS_T_HINFO, "a b c", FEDNS_ESYNTAX, "HINFO has 3 fields, 2 expected");
}

static void
test_txt_escaped_limit(void **state)
{
	(void)state;
	char text[2000] = "";
	for (int i = 0; i < 255; i++)
		strcat(text, "\\255");
	uint8_t wire[FEDNS_RDATA_MAXLEN];
	size_t len;
	fedns_diag d;
	assert_int_equal(parse_text(FEDNS_T_TXT, text, wire, sizeof(wire), &len, &d), FEDNS_OK);
	assert_int_equal(len, 256);
	assert_int_equal(wire[0], 255);
	assert_int_equal(wire[255], 255);
	strcat(text, "a");
	bad(FEDNS_T_TXT, text, FEDNS_ESYNTAX, "TXT string is longer than 255 bytes");
	/* Output capacity runs out: ETOOBIG, not a syntax error. */
	assert_int_equal(parse_text(FEDNS_T_TXT, "\"abc\" \"def\"", wire, 5, &len, &d),
			 FEDNS_ETOOBIG);
}

static void
test_caa(void **state)
{
	(void)state;
	rt(FEDNS_T_CAA, "0 issue \"letsencrypt.org; x=1\"",
	   "000569737375656c657473656e63727970742e6f72673b20783d31", NULL);
	rt(FEDNS_T_CAA, "128 tbs \"Unknown\"", "8003746273556e6b6e6f776e", NULL);
	rt(FEDNS_T_CAA, "0 ISSUE \"x\\\"y\"", "000549535355457822 79", NULL);
	rt(FEDNS_T_CAA, "0 issue \"\"", "00056973737565", NULL);
	rt(FEDNS_T_CAA, "0 iodef mailto:a@b", "0005696f6465666d61696c746f3a614062",
	   "0 iodef \"mailto:a@b\"");
	bad(FEDNS_T_CAA, "256 issue \"x\"", FEDNS_ESYNTAX,
	    "CAA flags \"256\" is out of range (0-255)");
	bad(FEDNS_T_CAA, "0 is-sue \"x\"", FEDNS_ESYNTAX,
	    "CAA tag \"is-sue\" must be 1-255 letters and digits");
	bad(FEDNS_T_CAA, "0 \"\" \"x\"", FEDNS_ESYNTAX,
	    "CAA tag \"\" must be 1-255 letters and digits");
	bad(FEDNS_T_CAA, "0 issue", FEDNS_ESYNTAX, "CAA has 2 fields, 3 expected");
	bad(FEDNS_T_CAA, "0 issue x y", FEDNS_ESYNTAX, "CAA has 4 fields, 3 expected");
}

static void
test_ds_tlsa_zonemd_dnskey(void **state)
{
	(void)state;
	rt(FEDNS_T_DS, "12345 8 1 49fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de",
	   "3039080149fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de",
	   "12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE");
	rt(FEDNS_T_DS,
	   "12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE 49FD46E6C4B45C55D4AC69CB",
	   "3039080249fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de49fd46e6c4b45c55d4ac69cb",
	   "12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE49FD46E6C4B45C55 D4AC69CB");
	rt(FEDNS_T_DS, "1 8 9 AB", "00010809ab", NULL);
	rt(FEDNS_T_DS, "1 8 3 AB", "00010803ab", NULL);
	bad(FEDNS_T_DS, "1 8 2 AB", FEDNS_ESYNTAX,
	    "DS rdata is not valid: digest length does not match the digest type");
	bad(FEDNS_T_DS, "1 8 9", FEDNS_ESYNTAX, "DS has 3 fields, at least 4 expected");
	bad(FEDNS_T_DS, "1 8 9 abc", FEDNS_ESYNTAX, "DS digest has an odd number of hex digits");
	bad(FEDNS_T_DS, "1 8 9 zz", FEDNS_ESYNTAX, "DS digest \"zz\" is not valid hex");

	rt(FEDNS_T_TLSA, "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	   "0301010123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	   "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF");
	rt(FEDNS_T_TLSA, "1 1 1 a b", "010101ab", "1 1 1 AB");
	bad(FEDNS_T_TLSA, "256 1 1 ab", FEDNS_ESYNTAX,
	    "TLSA usage \"256\" is out of range (0-255)");
	bad(FEDNS_T_TLSA, "1 1 1", FEDNS_ESYNTAX, "TLSA has 3 fields, at least 4 expected");

	rt(FEDNS_T_ZONEMD, "2024010101 1 9 abababababababababababab",
	   "78a3f1750109abababababababababababab", "2024010101 1 9 ABABABABABABABABABABABAB");
	char zm[200] = "1 1 1 ";
	for (int i = 0; i < 48; i++)
		strcat(zm, "0f");
	char zw[200] = "000000010101";
	for (int i = 0; i < 48; i++)
		strcat(zw, "0f");
	rt(FEDNS_T_ZONEMD, zm, zw,
	   "1 1 1 0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F "
	   "0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F");
	bad(FEDNS_T_ZONEMD, "1 1 1 abababababababababababab", FEDNS_ESYNTAX,
	    "ZONEMD rdata is not valid: SHA-384 digest must be 48 bytes");
	bad(FEDNS_T_ZONEMD, "1 1 9 ababababababababababab", FEDNS_ESYNTAX,
	    "ZONEMD rdata is not valid: digest is shorter than 12 bytes");

	rt(FEDNS_T_DNSKEY, "257 3 8 AwEAAQ==",
	   "01010308030100"
	   "01",
	   NULL);
	rt(FEDNS_T_DNSKEY, "256 3 13 AwEA AQ==", "0100030d03010001", "256 3 13 AwEAAQ==");
	bad(FEDNS_T_DNSKEY, "256 3 13 AwEAAQ=", FEDNS_ESYNTAX,
	    "DNSKEY public key is not valid base64 (bad length or padding)");
	bad(FEDNS_T_DNSKEY, "256 3 13 AwEAAR==", FEDNS_ESYNTAX,
	    "DNSKEY public key is not valid base64 (bad length or padding)");
	bad(FEDNS_T_DNSKEY, "256 3 13 AwE*", FEDNS_ESYNTAX,
	    "DNSKEY public key \"AwE*\" is not valid base64");
}

/* Algorithm and digest mnemonics read as numbers (RFC 4034 A.1; BIND's names), printed
 * as numbers. */
static void
test_dnssec_mnemonics(void **state)
{
	(void)state;
	rt(FEDNS_T_DNSKEY, "257 3 ECDSAP256SHA256 q80=", "0101030dabcd", "257 3 13 q80=");
	rt(FEDNS_T_DNSKEY, "256 3 rsasha256 AwEAAQ==", "0100030803010001", "256 3 8 AwEAAQ==");
	rt(FEDNS_T_DS,
	   "1 RSASHA256 SHA-256 "
	   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	   "00010802 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	   "1 8 2 00112233445566778899AABBCCDDEEFF00112233445566778899AABB CCDDEEFF");
	rt(FEDNS_T_RRSIG, "SOA ED25519 1 600 20300101000000 20200101000000 1 . q80=",
	   "0006 0f 01 00000258 70dbd880 5e0be100 0001 00 abcd",
	   "SOA 15 1 600 20300101000000 20200101000000 1 . q80=");
	bad(FEDNS_T_DS, "1 FOO 2 00", FEDNS_ESYNTAX, "DS algorithm \"FOO\" is not a number");
	bad(FEDNS_T_DS, "1 8 SHA-999 00", FEDNS_ESYNTAX,
	    "DS digest type \"SHA-999\" is not a number");
}

static void
test_dnskey_groups(void **state)
{
	(void)state;
	uint8_t rd[4 + 60];
	rd[0] = 1;
	rd[1] = 1;
	rd[2] = 3;
	rd[3] = 8;
	for (int i = 0; i < 60; i++)
		rd[4 + i] = (uint8_t)(i * 7);
	fedns_buf b;
	fedns_buf_init(&b, 1 << 20);
	assert_int_equal(fedns_rdata_to_text(FEDNS_T_DNSKEY, rd, sizeof(rd), &b), FEDNS_OK);
	/* 60 bytes: 42 bytes (56 chars), a space, 18 bytes (24 chars). */
	assert_int_equal(b.len, 8 + 56 + 1 + 24);
	assert_int_equal(b.data[8 + 56], ' ');
	fedns_buf_fini(&b);
}

static void
test_svcb(void **state)
{
	(void)state;
	/* Keys are sorted on the wire whatever the text order; printed in key order. */
	rt(FEDNS_T_SVCB,
	   "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA/ "
	   "ipv6hint=2001:db8::1 mandatory=port,alpn key65333=hello no-default-alpn",
	   "0001"
	   "00"
	   "0000000400010003"
	   "000100060268320268 33"
	   "00020000"
	   "0003000220fb"
	   "00040008c0000201c0000202"
	   "00050006 0043fe0d003f"
	   "00060010 20010db8000000000000000000000001"
	   "ff3500 0568656c6c6f",
	   "1 . mandatory=alpn,port alpn=\"h2,h3\" no-default-alpn port=8443 "
	   "ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA/ ipv6hint=2001:db8::1 key65333=\"hello\"");
	rt(FEDNS_T_HTTPS, "0 foo.example.com.", "000003666f6f076578616d706c6503636f6d00", NULL);
	rt(FEDNS_T_HTTPS, "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\" key667=\"hello\\210qoo\"",
	   "000100 0001000c 08665c6f6f2c626172 026832 029b0009 68656c6c6fd2716f6f", NULL);
	rt(FEDNS_T_HTTPS, "2 . alpn=h2 dohpath=/q{?dns}",
	   "000200 00010003026832 00070008 2f717b3f646e737d", "2 . alpn=\"h2\" key7=\"/q{?dns}\"");
	rt(FEDNS_T_SVCB, "1 Foo.Example.COM. port=080",
	   "0001 03466f6f074578616d706c6503434f4d00 000300020050", "1 Foo.Example.COM. port=80");
	rt(FEDNS_T_SVCB, "1 foo. ech=\"\"", "0001 03666f6f00 00050000", "1 foo. ech");
	rt(FEDNS_T_SVCB, "1 foo. key65534", "0001 03666f6f00 fffe0000", NULL);
	/* An empty value is no value (RFC 9460 §2.1). */
	rt(FEDNS_T_SVCB, "1 . alpn=h2 no-default-alpn=\"\"", "0001 00 00010003026832 00020000",
	   "1 . alpn=\"h2\" no-default-alpn");
	rt(FEDNS_T_SVCB, "1 foo. key3=\\000\\080", "0001 03666f6f00 000300020050",
	   "1 foo. port=80");
	rt(FEDNS_T_SVCB, "1 foo. ipv6hint=::1,::ffff:1.2.3.4",
	   "0001 03666f6f00 00060020 00000000000000000000000000000001 "
	   "00000000000000000000ffff01020304",
	   NULL);
	/* key="value" reaches us as "key=" and the quoted token right after it. */
	fedns_token kq[4] = {{"1", 1, false}, {"foo.", 4, false}};
	const char *src = "alpn=\"h2,h3 x\"";
	kq[2] = (fedns_token){src, 5, false};
	kq[3] = (fedns_token){src + 6, 7, true};
	uint8_t kw[64];
	size_t kl;
	assert_int_equal(
		fedns_rdata_from_text(FEDNS_T_SVCB, kq, 4, origin, kw, sizeof(kw), &kl, NULL),
		FEDNS_OK);
	assert_int_equal(kl, 7 + 4 + 8);
	assert_memory_equal(kw + 7, "\0\1\0\x08\2h2\4h3 x", 12);
	fedns_buf kb;
	fedns_buf_init(&kb, 1 << 20);
	assert_int_equal(fedns_rdata_to_text(FEDNS_T_SVCB, kw, kl, &kb), FEDNS_OK);
	assert_string_equal((const char *)kb.data, "1 foo. alpn=\"h2,h3\\032x\"");
	fedns_buf_fini(&kb);
	/* With a space between (alpn= "h2"), BIND refuses, and so do we. */
	bad(FEDNS_T_SVCB, "1 foo. alpn= \"h2,h3\"", FEDNS_ESYNTAX,
	    "SVCB parameter \"alpn=\" needs a value");

	bad(FEDNS_T_SVCB, "1 foo. alpn=h2 alpn=h3", FEDNS_ESYNTAX,
	    "SVCB parameter \"alpn\" appears more than once");
	bad(FEDNS_T_SVCB, "1 foo. port=1 key3=\\000\\001", FEDNS_ESYNTAX,
	    "SVCB parameter \"key3\" appears more than once");
	bad(FEDNS_T_SVCB, "1 foo. mandatory=port alpn=h2", FEDNS_ESYNTAX,
	    "SVCB rdata is not valid: a key listed in mandatory is missing");
	bad(FEDNS_T_SVCB, "1 foo. no-default-alpn", FEDNS_ESYNTAX,
	    "SVCB rdata is not valid: no-default-alpn requires alpn");
	/* AliasMode with parameters loads (RFC 9460 §2.4.2: ignored by recipients; BIND). */
	rt(FEDNS_T_HTTPS, "0 www.example.net. alpn=h2",
	   "0000 03777777076578616d706c65036e657400 00010003026832",
	   "0 www.example.net. alpn=\"h2\"");
	bad(FEDNS_T_SVCB, "1 foo. port=65536", FEDNS_ESYNTAX,
	    "SVCB parameter \"port=65536\" is out of range (0-65535)");
	bad(FEDNS_T_SVCB, "1 foo. key1=h2", FEDNS_ESYNTAX,
	    "SVCB parameter \"key1=h2\" alpn protocol id is truncated");
	bad(FEDNS_T_SVCB, "1 foo. alpn", FEDNS_ESYNTAX, "SVCB parameter \"alpn\" needs a value");
	bad(FEDNS_T_SVCB, "1 foo. alpn=", FEDNS_ESYNTAX, "SVCB parameter \"alpn=\" needs a value");
	bad(FEDNS_T_SVCB, "1 foo. alpn=h2,,h3", FEDNS_ESYNTAX,
	    "SVCB parameter \"alpn=h2,,h3\" has an empty protocol id");
	bad(FEDNS_T_SVCB, "1 foo. mandatory=mandatory", FEDNS_ESYNTAX,
	    "SVCB rdata is not valid: mandatory lists itself");
	bad(FEDNS_T_SVCB, "1 foo. mandatory=alpn,alpn alpn=h2", FEDNS_ESYNTAX,
	    "SVCB parameter \"mandatory=alpn,alpn\" lists a key twice");
	bad(FEDNS_T_SVCB, "1 foo. ipv4hint=1.2.3.4,", FEDNS_ESYNTAX,
	    "SVCB parameter \"ipv4hint=1.2.3.4,\" has an invalid IPv4 address");
	bad(FEDNS_T_SVCB, "1 foo. ipv6hint=1.2.3.4", FEDNS_ESYNTAX,
	    "SVCB parameter \"ipv6hint=1.2.3.4\" has an invalid IPv6 address");
	bad(FEDNS_T_SVCB, "1 foo. foo=bar", FEDNS_ESYNTAX,
	    "SVCB parameter \"foo=bar\" has an unknown key");
	bad(FEDNS_T_SVCB, "1 foo. key01=x", FEDNS_ESYNTAX,
	    "SVCB parameter \"key01=x\" has an unknown key");
	bad(FEDNS_T_SVCB, "1 foo. key65536=x", FEDNS_ESYNTAX,
	    "SVCB parameter \"key65536=x\" has an unknown key");
	bad(FEDNS_T_SVCB, "1 foo. no-default-alpn=x alpn=h2", FEDNS_ESYNTAX,
	    "SVCB parameter \"no-default-alpn=x\" takes no value");
	bad(FEDNS_T_SVCB, "1 foo. ech=abc", FEDNS_ESYNTAX,
	    "SVCB parameter \"ech=abc\" is not valid base64");
	bad(FEDNS_T_SVCB, "1", FEDNS_ESYNTAX, "SVCB has 1 field, at least 2 expected");
	/* dohpath (RFC 9461) as BIND checks it. */
	rt(FEDNS_T_SVCB, "1 . key7=/{?x,dns}", "0001 00 00070009 2f7b3f782c646e737d",
	   "1 . key7=\"/{?x,dns}\"");
	rt(FEDNS_T_SVCB, "1 . dohpath=/\\195\\169{dns:3}", "0001 00 0007000a 2fc3a97b646e733a337d",
	   "1 . key7=\"/\\195\\169{dns:3}\"");
	const char *doh_bad[] = {"key7",	  "key7=x",
				 "dohpath=/q",	  "dohpath=q{?dns}",
				 "key7=/{?dn}",	  "key7=/\\200{?dns}",
				 "key7=/q{?dns",  "key7=/q{?DNS}",
				 "key7=/q}{?dns}"};
	for (size_t i = 0; i < sizeof(doh_bad) / sizeof(doh_bad[0]); i++) {
		char text[64];
		uint8_t wire[64];
		size_t len;
		fedns_diag d;
		snprintf(text, sizeof(text), "1 . %s", doh_bad[i]);
		if (parse_text(FEDNS_T_SVCB, text, wire, sizeof(wire), &len, &d) != FEDNS_ESYNTAX)
			fail_msg("%s accepted", text);
		assert_non_null(strstr(d.msg, "dohpath must be a relative URI template"));
	}
}

/* Keys are inserted in order whatever order they come in, and the wire stays strictly
 * increasing; descending input of many unknown keys sorts the same as ascending. */
static void
test_svcb_order(void **state)
{
	(void)state;
	char up[4000] = "1 . ", down[4000] = "1 . ";
	for (int k = 100; k < 300; k++) {
		char p[32];
		snprintf(p, sizeof(p), "key%d=%c ", k, 'a' + k % 26);
		strcat(up, p);
		snprintf(p, sizeof(p), "key%d=%c ", 399 - k, 'a' + (399 - k) % 26);
		strcat(down, p);
	}
	uint8_t w1[FEDNS_RDATA_MAXLEN], w2[FEDNS_RDATA_MAXLEN];
	size_t l1, l2;
	fedns_diag d;
	assert_int_equal(parse_text(FEDNS_T_SVCB, up, w1, sizeof(w1), &l1, &d), FEDNS_OK);
	assert_int_equal(parse_text(FEDNS_T_SVCB, down, w2, sizeof(w2), &l2, &d), FEDNS_OK);
	assert_int_equal(l1, 3 + 200 * 5);
	assert_int_equal(l1, l2);
	assert_memory_equal(w1, w2, l1);
	for (size_t off = 3, prev = 0; off < l1; off += 5) {
		size_t k = fedns_get_u16(w1 + off);
		assert_true(k > prev);
		prev = k;
	}
	/* Out of order on the wire is malformed. */
	uint8_t bad_order[] = {0, 1, 0, 0, 3, 0, 2, 0, 80, 0, 1, 0, 3, 2, 'h', '2'};
	assert_int_equal(fedns_rdata_check(FEDNS_T_SVCB, bad_order, sizeof(bad_order)),
			 FEDNS_EMALFORMED);
	uint8_t good_order[] = {0, 1, 0, 0, 1, 0, 3, 2, 'h', '2', 0, 3, 0, 2, 0, 80};
	assert_int_equal(fedns_rdata_check(FEDNS_T_SVCB, good_order, sizeof(good_order)), FEDNS_OK);
	uint8_t dup[] = {0, 1, 0, 0, 3, 0, 2, 0, 80, 0, 3, 0, 2, 0, 81};
	assert_int_equal(fedns_rdata_check(FEDNS_T_SVCB, dup, sizeof(dup)), FEDNS_EMALFORMED);
	/* On the wire AliasMode parameters are tolerated (RFC 9460 §2.4.2: ignored). */
	uint8_t alias[] = {0, 0, 0, 0, 3, 0, 2, 0, 80};
	assert_int_equal(fedns_rdata_check(FEDNS_T_SVCB, alias, sizeof(alias)), FEDNS_OK);
}

/* RRSIG, NSEC, NSEC3, NSEC3PARAM as BIND prints them (checked with named-compilezone). */
static void
test_dnssec(void **state)
{
	(void)state;
	rt(FEDNS_T_RRSIG, "A 8 3 3600 20240101000000 20231201000000 12345 Example.COM. AAAA",
	   "0001 08 03 00000e10 65920080 65692200 3039 074578616d706c6503434f4d00 000000", NULL);
	/* Seconds are accepted and printed as a date; leap day; the 2038 boundary. */
	rt(FEDNS_T_RRSIG, "TYPE65280 13 2 300 1700000000 20200229235959 1 example.com. AAAA",
	   "ff00 0d 02 0000012c 6553f100 5e5afaff 0001 076578616d706c6503636f6d00 000000",
	   "TYPE65280 13 2 300 20231114221320 20200229235959 1 example.com. AAAA");
	rt(FEDNS_T_RRSIG, "NSEC3PARAM 13 2 3600 20380119031408 21060207062815 1 . AAAA",
	   "0033 0d 02 00000e10 80000000 ffffffff 0001 00 000000", NULL);
	bad(FEDNS_T_RRSIG, "A 8 3 1h 20240101000000 20231201000000 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG original TTL \"1h\" is not a number");
	bad(FEDNS_T_RRSIG, "A 8 3 1 20230229000000 20231201000000 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG expiration \"20230229000000\" is not a time (YYYYMMDDHHmmSS or seconds)");
	bad(FEDNS_T_RRSIG, "A 8 3 1 20241231236000 20231201000000 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG expiration \"20241231236000\" is not a time (YYYYMMDDHHmmSS or seconds)");
	bad(FEDNS_T_RRSIG, "A 8 3 1 20241231240000 20231201000000 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG expiration \"20241231240000\" is not a time (YYYYMMDDHHmmSS or seconds)");
	/* As BIND: a leap second, and years before 1970 wrap modulo 2^32. */
	rt(FEDNS_T_RRSIG, "A 8 3 1 20241231235960 00001231235959 1 . AAAA",
	   "0001 08 03 00000001 67748580 886e08ff 0001 00 000000",
	   "A 8 3 1 20250101000000 20420714010359 1 . AAAA");
	bad(FEDNS_T_RRSIG, "A 8 3 1 2023120100000 20231201000000 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG expiration \"2023120100000\" is not a time (YYYYMMDDHHmmSS or seconds)");
	bad(FEDNS_T_RRSIG, "BOGUS 8 3 1 1 1 1 . AAAA", FEDNS_ESYNTAX,
	    "RRSIG type covered \"BOGUS\" is not a known type");
	bad(FEDNS_T_RRSIG, "A 8 3 1 1 1 1 .", FEDNS_ESYNTAX,
	    "RRSIG has 8 fields, at least 9 expected");

	rt(FEDNS_T_NSEC, "host.example.com. A MX RRSIG NSEC TYPE1234 CAA",
	   "04686f7374076578616d706c6503636f6d00 0006 400100000003 0101 40 041b"
	   "000000000000000000000000000000000000000000000000000020",
	   "host.example.com. A MX RRSIG NSEC CAA TYPE1234");
	rt(FEDNS_T_NSEC, "Host.Example.COM. NS SOA TXT AAAA RRSIG NSEC DNSKEY",
	   "04486f7374074578616d706c6503434f4d00 0007 22008008000380", NULL);
	bad(FEDNS_T_NSEC, "host.", FEDNS_ESYNTAX, "NSEC type list is empty");
	bad(FEDNS_T_NSEC, "host. A FOO", FEDNS_ESYNTAX,
	    "NSEC type list: \"FOO\" is not a known type");
	rt(FEDNS_T_NSEC3, "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
	   "01 01 000c 04aabbccdd 14 17f3df17b2b2adaef615257de4d2020b80ac6c7c 0006 400000000002",
	   "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG");
	rt(FEDNS_T_NSEC3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
	   "01 00 0000 00 14 17f3df17b2b2adaef615257de4d2020b80ac6c7c", NULL);
	bad(FEDNS_T_NSEC3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3", FEDNS_ESYNTAX,
	    "NSEC3 next hashed owner \"2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3\" is not valid base32hex");
	bad(FEDNS_T_NSEC3, "1 0 0 - 2VPTU5TI", FEDNS_ESYNTAX,
	    "NSEC3 rdata is not valid: SHA-1 next hashed owner must be 20 bytes");
	rt(FEDNS_T_NSEC3, "2 0 0 - 00", "02 00 0000 00 01 00", NULL);
	bad(FEDNS_T_NSEC3, "1 0 0 abc 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S", FEDNS_ESYNTAX,
	    "NSEC3 salt \"abc\" is not valid hex (or \"-\")");
	rt(FEDNS_T_NSEC3PARAM, "1 0 10 AABBCCDD", "0100000a04aabbccdd", NULL);
	rt(FEDNS_T_NSEC3PARAM, "1 0 0 -", "0100000000", NULL);

	/* Bit maps on the wire: order, window length, trailing zero octet. */
	uint8_t nsec[] = {0, 0, 6, 0x40, 0x01, 0, 0, 0, 3};
	assert_int_equal(fedns_rdata_check(FEDNS_T_NSEC, nsec, sizeof(nsec)), FEDNS_OK);
	nsec[8] = 0;
	assert_int_equal(fedns_rdata_check(FEDNS_T_NSEC, nsec, sizeof(nsec)), FEDNS_EMALFORMED);
	uint8_t nsec2[] = {0, 1, 1, 0x40, 0, 1, 0x40};
	assert_int_equal(fedns_rdata_check(FEDNS_T_NSEC, nsec2, sizeof(nsec2)), FEDNS_EMALFORMED);
	uint8_t nsec3[] = {0, 0, 33, 0x40};
	assert_int_equal(fedns_rdata_check(FEDNS_T_NSEC, nsec3, sizeof(nsec3)), FEDNS_EMALFORMED);
	assert_int_equal(fedns_rdata_check(FEDNS_T_NSEC, nsec3, 1), FEDNS_EMALFORMED);

	/* RFC 6840 §5.1: RRSIG signer lowercased, NSEC next name not. */
	uint8_t a[300], c[300];
	size_t al;
	fedns_diag d;
	assert_int_equal(
		parse_text(FEDNS_T_RRSIG, "A 8 3 1 1 1 1 EXAMPLE. AAAA", a, sizeof(a), &al, &d),
		FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_RRSIG, a, al, c);
	assert_memory_equal(c + 18, "\7example\0\0\0\0", 12);
	assert_int_equal(parse_text(FEDNS_T_NSEC, "HOST. A", a, sizeof(a), &al, &d), FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_NSEC, a, al, c);
	assert_memory_equal(c, a, al);
}

static void
test_rfc3597(void **state)
{
	(void)state;
	rt(65280, "\\# 4 0a000001", "0a000001", "\\# 4 0A000001");
	rt(65280, "\\# 0", "", NULL);
	rt(999, "\\# 3 0a 00 01", "0a0001", "\\# 3 0A0001");
	char t40[200] = "\\# 40 ", w40[200] = "";
	for (int i = 0; i < 10; i++) {
		strcat(t40, "0a000001");
		strcat(w40, "0a000001");
	}
	rt(65280, t40, w40,
	   "\\# 40 0A0000010A0000010A0000010A0000010A0000010A0000010A000001 "
	   "0A0000010A0000010A000001");
	/* Known types are converted and validated. */
	uint8_t wire[64];
	size_t len;
	fedns_diag d;
	assert_int_equal(parse_text(FEDNS_T_A, "\\# 4 0a000002", wire, sizeof(wire), &len, &d),
			 FEDNS_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(wire, "\x0a\x00\x00\x02", 4);
	assert_int_equal(parse_text(FEDNS_T_MX, "\\# 3 000a00", wire, sizeof(wire), &len, &d),
			 FEDNS_OK);
	bad(FEDNS_T_A, "\\# 3 010203", FEDNS_ESYNTAX,
	    "A rdata in \\# form is not valid: truncated");
	bad(FEDNS_T_A, "\\# 5 0102030405", FEDNS_ESYNTAX,
	    "A rdata in \\# form is not valid: trailing data");
	bad(FEDNS_T_MX, "\\# 4 000ac000", FEDNS_ESYNTAX,
	    "MX rdata in \\# form is not valid: bad or compressed name");
	bad(FEDNS_T_TXT, "\\# 0", FEDNS_ESYNTAX, "TXT rdata in \\# form is not valid: no strings");
	bad(999, "\\# 1 0", FEDNS_ESYNTAX, "TYPE999 \\# data has an odd number of hex digits");
	bad(999, "\\# 2 0a", FEDNS_ESYNTAX,
	    "TYPE999 \\# data is shorter than the declared length 2");
	bad(999, "\\# 1 0a 00", FEDNS_ESYNTAX,
	    "TYPE999 \\# data is longer than the declared length 1");
	bad(999, "\\# x", FEDNS_ESYNTAX,
	    "TYPE999 \\# length \"x\" is not a number from 0 to 65535");
	bad(999, "\\# 65536", FEDNS_ESYNTAX,
	    "TYPE999 \\# length \"65536\" is not a number from 0 to 65535");
	bad(999, "\\#", FEDNS_ESYNTAX, "TYPE999 \\# needs a length");
	bad(999, "\\# 1 zz", FEDNS_ESYNTAX, "TYPE999 \\# data \"zz\" is not valid hex");
	bad(999, "0a000001", FEDNS_ESYNTAX,
	    "TYPE999 has no known presentation format; write it as \\# <length> <hex> (RFC 3597)");
	bad(FEDNS_T_NAPTR_FOR_TEST, "1 1 \"\" \"\" \"\" .", FEDNS_ESYNTAX,
	    "NAPTR has no known presentation format; write it as \\# <length> <hex> (RFC 3597)");
	/* A quoted "\#" is a TXT string, not the generic form. */
	rt(FEDNS_T_TXT, "\"\\#\"", "0123", "\"#\"");
}

/* Wire edges per type: empty, one byte short, exact, one trailing byte. */
typedef struct edge {
	uint16_t type;
	const char *hex;
	bool empty_ok, short_ok, over_ok;
} edge;

static void
test_wire_edges(void **state)
{
	(void)state;
	static const edge edges[] = {
		{FEDNS_T_A, "c0000201", false, false, false},
		{FEDNS_T_AAAA, "20010db8000000000000000000000001", false, false, false},
		{FEDNS_T_NS, "036e733100", false, false, false},
		{FEDNS_T_CNAME, "00", false, false, false},
		{FEDNS_T_MX, "000a00", false, false, false},
		{FEDNS_T_SRV, "00010002000300", false, false, false},
		{FEDNS_T_SOA,
		 "0000"
		 "00000001"
		 "00000002"
		 "00000003"
		 "00000004"
		 "00000005",
		 false, false, false},
		/* A trailing byte is one more (empty) string for TXT; a short one is a cut
		 * string. */
		{FEDNS_T_TXT, "026869", false, false, true},
		{FEDNS_T_HINFO,
		 "0161"
		 "0162",
		 false, false, false},
		{FEDNS_T_CAA, "00056973737565", false, false, true},
		{FEDNS_T_DS, "00010809ab", false, false, true},
		{FEDNS_T_TLSA, "010101ab", false, false, true},
		{FEDNS_T_ZONEMD, "000000010109abababababababababababab", false, false, true},
		{FEDNS_T_DNAME, "00", false, false, false},
		{FEDNS_T_SVCB, "000103666f6f00000300020050", false, false, false},
		{FEDNS_T_HTTPS, "000003666f6f00", false, false, false},
		{FEDNS_T_DNSKEY, "0101030801", false, false, true},
		{FEDNS_T_PTR, "016100", false, false, false},
		{FEDNS_T_RRSIG, "0001080300000e10658d29c06567bdc0303900abcd", false, true, true},
		/* NSEC: a trailing byte is a half window, one short leaves a zero last octet. */
		{FEDNS_T_NSEC, "00000140", false, false, false},
		{FEDNS_T_NSEC3, "02000000000102000140", false, false, false},
		{FEDNS_T_NSEC3PARAM, "0100000001ab", false, false, false},
		{FEDNS_T_TXT, "00", false, false, true},
		{65280, "0a000001", true, true, true},
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const edge *e = &edges[i];
		uint8_t rd[128], out[300];
		size_t n = unhex(e->hex, rd), ol;
		fedns_wire w;
		rd[n] = 0;
		char what[32];
		snprintf(what, sizeof(what), "type %u", e->type);
		if ((fedns_rdata_check(e->type, rd, n) == FEDNS_OK) != true)
			fail_msg("%s exact", what);
		if ((fedns_rdata_check(e->type, rd, 0) == FEDNS_OK) != e->empty_ok)
			fail_msg("%s empty", what);
		if ((fedns_rdata_check(e->type, rd, n - 1) == FEDNS_OK) != e->short_ok)
			fail_msg("%s short", what);
		if ((fedns_rdata_check(e->type, rd, n + 1) == FEDNS_OK) != e->over_ok)
			fail_msg("%s over", what);
		/* unpack agrees with check, and copies exact rdata. */
		fedns_wire_init(&w, rd, n + 1);
		assert_int_equal(fedns_rdata_unpack(e->type, &w, n, out, sizeof(out), &ol),
				 FEDNS_OK);
		assert_int_equal(ol, n);
		assert_memory_equal(out, rd, n);
		assert_int_equal(w.off, n);
		fedns_wire_init(&w, rd, n + 1);
		fedns_err err = fedns_rdata_unpack(e->type, &w, n - 1, out, sizeof(out), &ol);
		if ((err == FEDNS_OK) != e->short_ok)
			fail_msg("%s unpack short", what);
		if (err != FEDNS_OK)
			assert_int_equal(w.err, err);
		/* rdlen beyond the message is truncation. */
		fedns_wire_init(&w, rd, n);
		assert_int_equal(fedns_rdata_unpack(e->type, &w, n + 1, out, sizeof(out), &ol),
				 FEDNS_ETRUNC);
		/* Output capacity one short. */
		fedns_wire_init(&w, rd, n);
		if (n > 0)
			assert_int_equal(fedns_rdata_unpack(e->type, &w, n, out, n - 1, &ol),
					 FEDNS_ETOOBIG);
		/* Printing refuses malformed rdata. */
		fedns_buf b;
		fedns_buf_init(&b, 1 << 20);
		assert_int_equal(fedns_rdata_to_text(e->type, rd, n, &b), FEDNS_OK);
		if (!e->empty_ok)
			assert_int_equal(fedns_rdata_to_text(e->type, rd, 0, &b), FEDNS_EMALFORMED);
		fedns_buf_fini(&b);
	}
}

static void
test_unpack_compression(void **state)
{
	(void)state;
	/* Message: at 0 "example.com."; at 13 an MX rdata: pref 10, "mail" + ptr to 0. */
	uint8_t msg[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,   'c',  'o',
			 'm', 0,   0,	10,  4,	  'm', 'a', 'i', 'l', 0xc0, 0};
	uint8_t out[300];
	size_t ol;
	fedns_wire w;
	fedns_wire_init(&w, msg, sizeof(msg));
	w.off = 13;
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_MX, &w, 9, out, sizeof(out), &ol), FEDNS_OK);
	assert_int_equal(ol, 2 + 18);
	assert_memory_equal(out, "\0\x0a\4mail\7example\3com", 20);
	assert_int_equal(w.off, sizeof(msg));

	/* The same bytes in an SRV-like position: types outside RFC 3597 §4 refuse pointers. */
	uint8_t msg2[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,   'c', 'o',	'm', 0,
			  0, 1,	  0,   2,   0,	 3,   3,   's', 'i', 'p', 0xc0, 0};
	fedns_wire_init(&w, msg2, sizeof(msg2));
	w.off = 13;
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_SRV, &w, 11, out, sizeof(out), &ol),
			 FEDNS_EMALFORMED);
	assert_int_equal(w.err, FEDNS_EMALFORMED);
	/* DNAME and SVCB too. */
	uint8_t msg3[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0xc0, 0};
	fedns_wire_init(&w, msg3, sizeof(msg3));
	w.off = 13;
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_DNAME, &w, 2, out, sizeof(out), &ol),
			 FEDNS_EMALFORMED);
	fedns_wire_init(&w, msg3, sizeof(msg3));
	w.off = 13;
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_CNAME, &w, 2, out, sizeof(out), &ol), FEDNS_OK);
	assert_int_equal(ol, 13);

	/* A name that runs past rdlen is malformed even if the message continues. */
	uint8_t msg4[] = {0, 10, 4, 'm', 'a', 'i', 'l', 0};
	fedns_wire_init(&w, msg4, sizeof(msg4));
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_MX, &w, 7, out, sizeof(out), &ol),
			 FEDNS_EMALFORMED);
	/* Trailing byte after the name inside rdlen. */
	uint8_t msg5[] = {0, 10, 0, 0};
	fedns_wire_init(&w, msg5, sizeof(msg5));
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_MX, &w, 4, out, sizeof(out), &ol),
			 FEDNS_EMALFORMED);
	/* SOA: both names compressed, then the five numbers. */
	uint8_t msg6[] = {
		3,    'c', 'o', 'm',  0,	  /* "com." at 0 */
		2,    'n', 's', 0xc0, 0,	  /* mname: ns + pointer */
		0xc0, 0,			  /* rname: pointer */
		0,    0,   0,	1,    0, 0, 0, 2, /* serial, refresh */
		0,    0,   0,	3,    0, 0, 0, 4, /* retry, expire */
		0,    0,   0,	5,		  /* minimum */
	};
	fedns_wire_init(&w, msg6, sizeof(msg6));
	w.off = 5;
	assert_int_equal(
		fedns_rdata_unpack(FEDNS_T_SOA, &w, sizeof(msg6) - 5, out, sizeof(out), &ol),
		FEDNS_OK);
	assert_int_equal(ol, 8 + 5 + 20);
	assert_int_equal(fedns_soa_serial(out, ol), 1);
	assert_int_equal(fedns_soa_minimum(out, ol), 5);
	/* Forward pointer refused. */
	uint8_t msg7[] = {0, 10, 0xc0, 4, 0};
	fedns_wire_init(&w, msg7, sizeof(msg7));
	assert_int_not_equal(fedns_rdata_unpack(FEDNS_T_MX, &w, 4, out, sizeof(out), &ol),
			     FEDNS_OK);
	/* Sticky: a failed cursor does nothing. */
	fedns_wire_init(&w, msg, sizeof(msg));
	fedns_wire_fail(&w, FEDNS_ETRUNC);
	assert_int_equal(fedns_rdata_unpack(FEDNS_T_A, &w, 4, out, sizeof(out), &ol), FEDNS_ETRUNC);
}

static void
test_canonical_cmp(void **state)
{
	(void)state;
	uint8_t a[300], b[300], c[300];
	size_t al, bl;
	fedns_diag d;
	assert_int_equal(parse_text(FEDNS_T_MX, "10 MAIL.Example.COM.", a, sizeof(a), &al, &d),
			 FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_MX, a, al, c);
	assert_memory_equal(c, "\0\x0a\4mail\7example\3com", al);
	assert_int_equal(parse_text(FEDNS_T_MX, "10 mail.example.com.", b, sizeof(b), &bl, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_rdata_cmp(FEDNS_T_MX, a, al, b, bl), 0);
	assert_int_equal(fedns_rdata_cmp(FEDNS_T_MX, b, bl, a, al), 0);

	/* SVCB target keeps its case (RFC 9460 §2.2): canonical copy unchanged. */
	assert_int_equal(parse_text(FEDNS_T_SVCB, "1 Foo.COM. port=1", a, sizeof(a), &al, &d),
			 FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_SVCB, a, al, c);
	assert_memory_equal(c, a, al);
	assert_int_equal(parse_text(FEDNS_T_SVCB, "1 foo.com. port=1", b, sizeof(b), &bl, &d),
			 FEDNS_OK);
	assert_true(fedns_rdata_cmp(FEDNS_T_SVCB, a, al, b, bl) < 0); /* 'F' < 'f' */

	/* SOA lowercases both names, not the numbers. */
	assert_int_equal(parse_text(FEDNS_T_SOA, "NS. HM. 65 66 67 68 90", a, sizeof(a), &al, &d),
			 FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_SOA, a, al, c);
	assert_memory_equal(c, "\2ns\0\2hm\0\0\0\0\x41\0\0\0\x42\0\0\0\x43\0\0\0\x44\0\0\0\x5a",
			    al);
	/* TXT is not lowercased. */
	assert_int_equal(parse_text(FEDNS_T_TXT, "ABC", a, sizeof(a), &al, &d), FEDNS_OK);
	fedns_rdata_canonical(FEDNS_T_TXT, a, al, c);
	assert_memory_equal(c, "\3ABC", 4);

	/* Order: octet strings, shorter first when a prefix (RFC 4034 §6.3). */
	static const uint8_t x1[] = {1, 2, 3}, x2[] = {1, 2, 3, 0}, x3[] = {1, 2, 4};
	assert_true(fedns_rdata_cmp(999, x1, 3, x2, 4) < 0);
	assert_true(fedns_rdata_cmp(999, x2, 4, x1, 3) > 0);
	assert_true(fedns_rdata_cmp(999, x2, 4, x3, 3) < 0);
	assert_int_equal(fedns_rdata_cmp(999, x1, 3, x1, 3), 0);
	assert_int_equal(fedns_rdata_cmp(999, x1, 0, x1, 0), 0);
	/* MX: "10 B." > "10 a." canonically (b > a) though 'B' < 'a' in ASCII. */
	assert_int_equal(parse_text(FEDNS_T_MX, "10 B.", a, sizeof(a), &al, &d), FEDNS_OK);
	assert_int_equal(parse_text(FEDNS_T_MX, "10 a.", b, sizeof(b), &bl, &d), FEDNS_OK);
	assert_true(fedns_rdata_cmp(FEDNS_T_MX, a, al, b, bl) > 0);
	assert_true(fedns_rdata_cmp(FEDNS_T_MX, b, bl, a, al) < 0);
	/* The preference compares first as a big-endian number. */
	assert_int_equal(parse_text(FEDNS_T_MX, "9 z.", a, sizeof(a), &al, &d), FEDNS_OK);
	assert_true(fedns_rdata_cmp(FEDNS_T_MX, a, al, b, bl) < 0);
	/* A records order as numbers. */
	assert_int_equal(parse_text(FEDNS_T_A, "10.0.0.2", a, sizeof(a), &al, &d), FEDNS_OK);
	assert_int_equal(parse_text(FEDNS_T_A, "9.0.0.3", b, sizeof(b), &bl, &d), FEDNS_OK);
	assert_true(fedns_rdata_cmp(FEDNS_T_A, a, al, b, bl) > 0);
}

/* fedns_rdata_cmp agrees with comparing canonical copies octet by octet (RFC 4034 §6.3). */
static int
ref_cmp(uint16_t type, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	uint8_t ca[512], cb[512];
	fedns_rdata_canonical(type, a, al, ca);
	fedns_rdata_canonical(type, b, bl, cb);
	size_t n = al < bl ? al : bl;
	int c = memcmp(ca, cb, n);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

static void
test_cmp_reference(void **state)
{
	(void)state;
	static const struct {
		uint16_t type;
		const char *text;
	} v[] = {
		{FEDNS_T_SOA, "A. b. 1 2 3 4 5"},
		{FEDNS_T_SOA, "a. B. 1 2 3 4 5"},
		{FEDNS_T_SOA, "AB. b. 1 2 3 4 5"},
		{FEDNS_T_SOA, "a. BB. 66 2 3 4 5"},
		{FEDNS_T_SOA, "a. b. 65 2 3 4 5"},
		{FEDNS_T_MX, "10 Z."},
		{FEDNS_T_MX, "10 a."},
		{FEDNS_T_MX, "10 A.b."},
		{FEDNS_T_MX, "90 a."},
		{FEDNS_T_MX, "10 [."},
		{FEDNS_T_SRV, "1 2 3 X."},
		{FEDNS_T_SRV, "1 2 3 x."},
		{FEDNS_T_SRV, "1 2 88 x."},
		{FEDNS_T_TXT, "A"},
		{FEDNS_T_TXT, "a"},
		{FEDNS_T_TXT, "a b"},
		{FEDNS_T_SVCB, "1 A. port=1"},
		{FEDNS_T_SVCB, "1 a. port=1"},
		{FEDNS_T_RRSIG, "A 8 1 1 1 1 1 X. AA=="},
		{FEDNS_T_RRSIG, "A 8 1 1 1 1 1 x. AA=="},
		{FEDNS_T_NSEC, "X. A"},
		{FEDNS_T_NSEC, "x. A"},
	};
	size_t nv = sizeof(v) / sizeof(v[0]);
	for (size_t i = 0; i < nv; i++) {
		for (size_t j = 0; j < nv; j++) {
			if (v[i].type != v[j].type)
				continue;
			uint8_t a[512], b[512];
			size_t al, bl;
			fedns_diag d;
			assert_int_equal(parse_text(v[i].type, v[i].text, a, sizeof(a), &al, &d),
					 0);
			assert_int_equal(parse_text(v[j].type, v[j].text, b, sizeof(b), &bl, &d),
					 0);
			int got = fedns_rdata_cmp(v[i].type, a, al, b, bl);
			int want = ref_cmp(v[i].type, a, al, b, bl);
			if (got != want)
				fail_msg("cmp \"%s\" \"%s\": %d want %d", v[i].text, v[j].text, got,
					 want);
		}
	}
	/* Spot checks of the reference itself. */
	uint8_t a[64], b[64];
	size_t al, bl;
	fedns_diag d;
	parse_text(FEDNS_T_SOA, "A. b. 1 2 3 4 5", a, sizeof(a), &al, &d);
	parse_text(FEDNS_T_SOA, "a. B. 1 2 3 4 5", b, sizeof(b), &bl, &d);
	assert_int_equal(fedns_rdata_cmp(FEDNS_T_SOA, a, al, b, bl), 0);
	parse_text(FEDNS_T_NSEC, "X. A", a, sizeof(a), &al, &d);
	parse_text(FEDNS_T_NSEC, "x. A", b, sizeof(b), &bl, &d);
	assert_true(fedns_rdata_cmp(FEDNS_T_NSEC, a, al, b, bl) < 0);
}

typedef struct seen {
	size_t n;
	size_t off[4];
	bool comp[4];
} seen;

static void
on_name(void *ctx, size_t off, bool compressible)
{
	seen *s = ctx;
	s->off[s->n] = off;
	s->comp[s->n] = compressible;
	s->n++;
}

static void
test_names_callback(void **state)
{
	(void)state;
	uint8_t a[300];
	size_t al;
	fedns_diag d;
	seen s = {0, {0}, {0}};
	assert_int_equal(parse_text(FEDNS_T_SOA, "ns. hm. 1 2 3 4 5", a, sizeof(a), &al, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_rdata_names(FEDNS_T_SOA, a, al, on_name, &s), 2);
	assert_int_equal(s.off[0], 0);
	assert_int_equal(s.off[1], 4);
	assert_true(s.comp[0] && s.comp[1]);

	memset(&s, 0, sizeof(s));
	assert_int_equal(parse_text(FEDNS_T_SRV, "1 2 3 sip.", a, sizeof(a), &al, &d), FEDNS_OK);
	assert_int_equal(fedns_rdata_names(FEDNS_T_SRV, a, al, on_name, &s), 1);
	assert_int_equal(s.off[0], 6);
	assert_false(s.comp[0]);

	memset(&s, 0, sizeof(s));
	assert_int_equal(parse_text(FEDNS_T_MX, "1 mx.", a, sizeof(a), &al, &d), FEDNS_OK);
	assert_int_equal(fedns_rdata_names(FEDNS_T_MX, a, al, on_name, &s), 1);
	assert_int_equal(s.off[0], 2);
	assert_true(s.comp[0]);

	memset(&s, 0, sizeof(s));
	assert_int_equal(parse_text(FEDNS_T_HTTPS, "1 svc. alpn=h2", a, sizeof(a), &al, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_rdata_names(FEDNS_T_HTTPS, a, al, on_name, &s), 1);
	assert_int_equal(s.off[0], 2);
	assert_false(s.comp[0]);

	assert_int_equal(fedns_rdata_names(FEDNS_T_A, a, 4, on_name, &s), 0);
	assert_int_equal(fedns_rdata_names(FEDNS_T_TXT, a, 1, NULL, NULL), 0);
	assert_int_equal(fedns_rdata_names(65280, a, 4, NULL, NULL), 0);
}

static void
test_ttl(void **state)
{
	(void)state;
	uint32_t v;
	fedns_diag d;
	struct {
		const char *s;
		uint32_t v;
	} ok[] = {
		{"0", 0},
		{"3600", 3600},
		{"1h30m", 5400},
		{"1H30M", 5400},
		{"1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5},
		{"30m1h", 5400},
		{"4294967295", 4294967295u},
		{"49710d", 49710u * 86400u},
		{"007", 7},
		{"0w", 0},
		{"1h1h", 7200},
		{"1s2m", 121},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fedns_diag_clear(&d);
		if (fedns_ttl_from_text(ok[i].s, strlen(ok[i].s), &v, &d) != FEDNS_OK)
			fail_msg("TTL %s: %s", ok[i].s, d.msg);
		assert_int_equal(v, ok[i].v);
	}
	const char *syn[] = {"", "9x", "1h30", "h", "-1", "1.5h", " 1", "1h ", "1d2"};
	for (size_t i = 0; i < sizeof(syn) / sizeof(syn[0]); i++) {
		fedns_diag_clear(&d);
		v = 77;
		if (fedns_ttl_from_text(syn[i], strlen(syn[i]), &v, &d) != FEDNS_ESYNTAX)
			fail_msg("TTL \"%s\" accepted", syn[i]);
		assert_int_equal(v, 77);
	}
	fedns_diag_clear(&d);
	assert_int_equal(fedns_ttl_from_text("9x", 2, &v, &d), FEDNS_ESYNTAX);
	assert_string_equal(d.msg, "TTL \"9x\" is not a number");
	const char *rng[] = {"4294967296", "49711d", "99999999999999999999", "7102w",
			     "4294967295s1m"};
	for (size_t i = 0; i < sizeof(rng) / sizeof(rng[0]); i++) {
		fedns_diag_clear(&d);
		if (fedns_ttl_from_text(rng[i], strlen(rng[i]), &v, &d) != FEDNS_ERANGE)
			fail_msg("TTL \"%s\" not out of range", rng[i]);
		assert_int_equal(d.code, FEDNS_ERANGE);
	}
	fedns_diag_clear(&d);
	fedns_ttl_from_text("4294967296", 10, &v, &d);
	assert_string_equal(d.msg, "TTL \"4294967296\" is out of range (0-4294967295)");
}

static void
test_types_classes(void **state)
{
	(void)state;
	char buf[16];
	uint16_t t;
	assert_string_equal(fedns_rrtype_to_text(1, buf), "A");
	assert_string_equal(fedns_rrtype_to_text(65, buf), "HTTPS");
	assert_string_equal(fedns_rrtype_to_text(257, buf), "CAA");
	assert_string_equal(fedns_rrtype_to_text(65280, buf), "TYPE65280");
	assert_string_equal(fedns_rrtype_to_text(0, buf), "TYPE0");
	assert_int_equal(fedns_rrtype_from_text("aaaa", 4, &t), FEDNS_OK);
	assert_int_equal(t, 28);
	assert_int_equal(fedns_rrtype_from_text("ZONEMD", 6, &t), FEDNS_OK);
	assert_int_equal(t, 63);
	assert_int_equal(fedns_rrtype_from_text("TYPE65280", 9, &t), FEDNS_OK);
	assert_int_equal(t, 65280);
	assert_int_equal(fedns_rrtype_from_text("type1", 5, &t), FEDNS_OK);
	assert_int_equal(t, 1);
	assert_int_equal(fedns_rrtype_from_text("TYPE65536", 9, &t), FEDNS_ESYNTAX);
	assert_int_equal(fedns_rrtype_from_text("TYPE", 4, &t), FEDNS_ESYNTAX);
	assert_int_equal(fedns_rrtype_from_text("TYPEx", 5, &t), FEDNS_ESYNTAX);
	assert_int_equal(fedns_rrtype_from_text("AA", 2, &t), FEDNS_ESYNTAX);
	assert_int_equal(fedns_rrtype_from_text("AAAAA", 5, &t), FEDNS_ESYNTAX);
	assert_int_equal(fedns_rrtype_from_text("", 0, &t), FEDNS_ESYNTAX);
	/* Length-delimited: "Axyz" with len 1 is A. */
	assert_int_equal(fedns_rrtype_from_text("Axyz", 1, &t), FEDNS_OK);
	assert_int_equal(t, 1);

	assert_string_equal(fedns_class_to_text(1, buf), "IN");
	assert_string_equal(fedns_class_to_text(3, buf), "CH");
	assert_string_equal(fedns_class_to_text(42, buf), "CLASS42");
	assert_int_equal(fedns_class_from_text("in", 2, &t), FEDNS_OK);
	assert_int_equal(t, 1);
	assert_int_equal(fedns_class_from_text("CLASS255", 8, &t), FEDNS_OK);
	assert_int_equal(t, 255);
	assert_int_equal(fedns_class_from_text("INX", 3, &t), FEDNS_ESYNTAX);

	assert_true(fedns_rrtype_is_meta(FEDNS_T_OPT));
	assert_true(fedns_rrtype_is_meta(0));
	assert_true(fedns_rrtype_is_meta(128));
	assert_false(fedns_rrtype_is_meta(127));
	assert_false(fedns_rrtype_is_meta(256));
	assert_true(fedns_rrtype_is_meta(FEDNS_T_AXFR));
	assert_true(fedns_rrtype_is_meta(FEDNS_T_IXFR));
	assert_true(fedns_rrtype_is_meta(FEDNS_T_ANY));
	assert_true(fedns_rrtype_is_meta(FEDNS_T_TSIG));
	assert_false(fedns_rrtype_is_meta(FEDNS_T_A));
	assert_false(fedns_rrtype_is_meta(FEDNS_T_CAA));
	assert_false(fedns_rrtype_is_meta(65280));
}

/* Random bytes never crash check/print/unpack, and whatever check accepts prints and
 * parses back to the same bytes. */
static void
test_random_wire(void **state)
{
	(void)state;
	static const uint16_t types[] = {1,  2,	 5,  6,	 13, 15, 16, 28, 33, 39,  43,
					 46, 47, 48, 50, 51, 52, 63, 64, 65, 257, 999};
	uint32_t seed = 99;
	size_t accepted = 0;
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t rd[64];
		seed = seed * 1103515245u + 12345u;
		uint16_t type = types[(seed >> 16) % (sizeof(types) / sizeof(types[0]))];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof(rd);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t r = seed >> 16;
			/* Small values make valid lengths likely. */
			rd[i] = (uint8_t)(r % 4 == 0 ? r >> 8 : r % 6);
		}
		if (fedns_rdata_check(type, rd, n) != FEDNS_OK)
			continue;
		accepted++;
		fedns_buf b;
		fedns_buf_init(&b, 1 << 20);
		assert_int_equal(fedns_rdata_to_text(type, rd, n, &b), FEDNS_OK);
		fedns_token t[300];
		uint8_t again[FEDNS_RDATA_MAXLEN];
		size_t alen = 0;
		fedns_diag d;
		fedns_diag_clear(&d);
		/* Split the printed text (names may contain escaped spaces). */
		size_t nt = 0;
		const char *s = (const char *)b.data;
		while (*s != '\0' && nt < 300) {
			if (*s == ' ') {
				s++;
				continue;
			}
			bool q = *s == '"';
			const char *st = q ? ++s : s;
			while (*s != '\0' && (q ? *s != '"' : *s != ' ')) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				s++;
			}
			t[nt].s = st;
			t[nt].len = (uint32_t)(s - st);
			t[nt].quoted = q;
			nt++;
			if (q && *s == '"')
				s++;
		}
		fedns_err err =
			fedns_rdata_from_text(type, t, nt, NULL, again, sizeof(again), &alen, &d);
		if (err == FEDNS_ESYNTAX && (type == 64 || type == 65) &&
		    strstr(d.msg, "rdata is not valid") != NULL) {
			/* Presentation-only SVCB rules (mandatory, no-default-alpn). */
			fedns_buf_fini(&b);
			continue;
		}
		if (err != FEDNS_OK)
			fail_msg("type %u \"%s\": %s", type, b.data, d.msg);
		assert_int_equal(alen, n);
		assert_memory_equal(again, rd, n);
		fedns_buf_fini(&b);
	}
	assert_true(accepted > 1000);
}

/* Random presentation tokens never crash the parser, errors always carry a message,
 * and whatever parses prints and parses back to the same bytes. */
static void
test_random_text(void **state)
{
	(void)state;
	static const uint16_t types[] = {1,  2,	 5,  6,	 13, 15, 16, 28, 33, 39,  43,
					 46, 47, 48, 50, 51, 52, 63, 64, 65, 257, 999};
	static const char *const pieces[] = {
		"0",
		"1",
		"10",
		"255",
		"65535",
		"65536",
		"4294967296",
		"1h",
		"a",
		"A",
		"ex.",
		"@",
		".",
		"\\#",
		"\\",
		"\\0",
		"\\255",
		"\\256",
		"\\.",
		"\\ ",
		"ab",
		"AB",
		"=",
		",",
		"alpn",
		"h2",
		"port",
		"key7",
		"ech",
		"ipv4hint",
		"1.2.3.4",
		"::1",
		"::",
		"1.2.3",
		"mandatory",
		"no-default-alpn",
		"\"",
		"-",
		"issue",
		"2vptu5",
		"20240101000000",
		"q80=",
		"AwEAAQ==",
		"TXT",
		"NSEC",
		"TYPE65280",
		":",
		"ff",
	};
	uint32_t seed = 4242;
	size_t parsed = 0;
	for (int iter = 0; iter < 100000; iter++) {
		char text[256];
		fedns_token t[12];
		size_t nt, o = 0;
		seed = seed * 1103515245u + 12345u;
		uint16_t type = types[(seed >> 16) % (sizeof(types) / sizeof(types[0]))];
		seed = seed * 1103515245u + 12345u;
		nt = (seed >> 16) % 10;
		for (size_t i = 0; i < nt; i++) {
			size_t start = o;
			seed = seed * 1103515245u + 12345u;
			size_t np = 1 + (seed >> 16) % 3;
			for (size_t k = 0; k < np; k++) {
				seed = seed * 1103515245u + 12345u;
				const char *pc =
					pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t pl = strlen(pc);
				if (o + pl >= sizeof(text))
					break;
				memcpy(text + o, pc, pl);
				o += pl;
			}
			seed = seed * 1103515245u + 12345u;
			t[i].s = text + start;
			t[i].len = (uint32_t)(o - start);
			t[i].quoted = (seed >> 16) % 5 == 0;
			if (o < sizeof(text) - 1)
				text[o++] = ' ';
		}
		uint8_t wire[FEDNS_RDATA_MAXLEN];
		size_t len = 0;
		fedns_diag d;
		fedns_diag_clear(&d);
		fedns_err err =
			fedns_rdata_from_text(type, t, nt, origin, wire, sizeof(wire), &len, &d);
		if (err != FEDNS_OK) {
			assert_int_equal(d.code, err);
			assert_true(d.msg[0] != '\0');
			continue;
		}
		parsed++;
		assert_int_equal(fedns_rdata_check(type, wire, len), FEDNS_OK);
		fedns_buf b;
		fedns_buf_init(&b, 1 << 20);
		assert_int_equal(fedns_rdata_to_text(type, wire, len, &b), FEDNS_OK);
		uint8_t again[FEDNS_RDATA_MAXLEN];
		size_t alen = 0;
		fedns_err e2 =
			parse_text(type, (const char *)b.data, again, sizeof(again), &alen, &d);
		if (e2 != FEDNS_OK)
			fail_msg("type %u printed \"%s\" does not parse: %s", type, b.data, d.msg);
		assert_int_equal(alen, len);
		assert_memory_equal(again, wire, len);
		fedns_buf_fini(&b);
	}
	assert_true(parsed > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_aaaa),
		cmocka_unit_test(test_addr_vs_inet_pton),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mx_srv),
		cmocka_unit_test(test_soa),
		cmocka_unit_test(test_txt_hinfo),
		cmocka_unit_test(test_txt_escaped_limit),
		cmocka_unit_test(test_caa),
		cmocka_unit_test(test_ds_tlsa_zonemd_dnskey),
		cmocka_unit_test(test_dnssec_mnemonics),
		cmocka_unit_test(test_dnskey_groups),
		cmocka_unit_test(test_svcb),
		cmocka_unit_test(test_svcb_order),
		cmocka_unit_test(test_dnssec),
		cmocka_unit_test(test_rfc3597),
		cmocka_unit_test(test_wire_edges),
		cmocka_unit_test(test_unpack_compression),
		cmocka_unit_test(test_canonical_cmp),
		cmocka_unit_test(test_cmp_reference),
		cmocka_unit_test(test_names_callback),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_types_classes),
		cmocka_unit_test(test_random_wire),
		cmocka_unit_test(test_random_text),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
