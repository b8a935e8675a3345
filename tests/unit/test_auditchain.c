/* SPDX-License-Identifier: Apache-2.0 */
/* Audit chain hash against its definition, and verification of edited, deleted, swapped
 * and relinked chains at the right record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/auditchain.h"
#include "common/err.h"
#include "common/sha2.h"

static void
to_hex(const uint8_t *md, char out[65])
{
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The definition, written out a second way: one formatted string hashed at once. */
static void
test_vector(void **state)
{
	(void)state;
	fedns_audit_fields f = {
		.seq = 1,
		.at_ms = 1700000000123,
		.principal = "alice",
		.action = "zone.create",
		.target = "zone:example.com.",
		.outcome = "ok",
		.payload_digest = "",
	};
	char got[65], want[65], buf[512];
	fedns_audit_hash(fedns_audit_genesis, &f, got);

	int n = snprintf(buf, sizeof buf,
			 "fedns-audit-v1\n%s\n%d\n%lld\n%d:%s\n%d:%s\n%d:%s\n%d:%s\n%d:",
			 fedns_audit_genesis, 1, 1700000000123LL, 5, "alice", 11, "zone.create", 17,
			 "zone:example.com.", 2, "ok", 0);
	uint8_t md[32];
	fedns_hash_once(FEDNS_HASH_SHA256, buf, (size_t)n, md);
	to_hex(md, want);
	assert_string_equal(got, want);
	/* pinned (computed once with Python's hashlib over the same bytes), so a change to
	 * the definition that the formatted string above followed would still be caught */
	assert_string_equal(got,
			    "28f7f9e17137b347a4133c0ccd004c0af17618e4f8f573735f5cbe93ef194396");
	assert_int_equal(strlen(fedns_audit_genesis), 64);

	/* non-ASCII UTF-8: the length is in bytes, and a digest that is set is covered */
	f.principal = "j\xc3\xbcrgen";
	f.payload_digest = "ab";
	fedns_audit_hash("ff", &f, got);
	n = snprintf(buf, sizeof buf,
		     "fedns-audit-v1\nff\n1\n1700000000123\n7:j\xc3\xbcrgen\n11:zone.create\n"
		     "17:zone:example.com.\n2:ok\n2:ab");
	fedns_hash_once(FEDNS_HASH_SHA256, buf, (size_t)n, md);
	to_hex(md, want);
	assert_string_equal(got, want);

	/* negative numbers print as decimal with a sign */
	f.seq = -5;
	f.at_ms = -1;
	fedns_audit_hash("ff", &f, got);
	n = snprintf(buf, sizeof buf,
		     "fedns-audit-v1\nff\n-5\n-1\n7:j\xc3\xbcrgen\n11:zone.create\n"
		     "17:zone:example.com.\n2:ok\n2:ab");
	fedns_hash_once(FEDNS_HASH_SHA256, buf, (size_t)n, md);
	to_hex(md, want);
	assert_string_equal(got, want);
}

/* A field boundary cannot be moved: "ab","c" and "a","bc" hash differently. */
static void
test_boundaries(void **state)
{
	(void)state;
	fedns_audit_fields a = {1, 2, "ab", "c", "t", "ok", ""};
	fedns_audit_fields b = {1, 2, "a", "bc", "t", "ok", ""};
	char ha[65], hb[65];
	fedns_audit_hash(fedns_audit_genesis, &a, ha);
	fedns_audit_hash(fedns_audit_genesis, &b, hb);
	assert_string_not_equal(ha, hb);
	/* each field is covered */
	fedns_audit_fields c = a;
	const char *v[] = {"x"};
	for (int i = 0; i < 7; i++) {
		c = a;
		switch (i) {
		case 0:
			c.seq++;
			break;
		case 1:
			c.at_ms++;
			break;
		case 2:
			c.principal = v[0];
			break;
		case 3:
			c.action = v[0];
			break;
		case 4:
			c.target = v[0];
			break;
		case 5:
			c.outcome = v[0];
			break;
		default:
			c.payload_digest = v[0];
			break;
		}
		fedns_audit_hash(fedns_audit_genesis, &c, hb);
		assert_string_not_equal(ha, hb);
	}
	/* and the previous hash */
	fedns_audit_hash("1111111111111111111111111111111111111111111111111111111111111111", &a,
			 hb);
	assert_string_not_equal(ha, hb);
}

#define N 100

typedef struct chain {
	fedns_audit_fields rec[N];
	char principal[N][16], target[N][32];
	char prevbuf[N][65], hashbuf[N][65];
	const char *prev[N], *hash[N];
} chain;

static chain *
make_chain(void)
{
	chain *c = calloc(1, sizeof *c);
	assert_non_null(c);
	const char *prev = fedns_audit_genesis;
	for (int i = 0; i < N; i++) {
		snprintf(c->principal[i], sizeof c->principal[i], "p%d", i % 7);
		snprintf(c->target[i], sizeof c->target[i], "change:%d", i);
		c->rec[i] = (fedns_audit_fields){
			.seq = i + 1,
			.at_ms = 1700000000000LL + i * 17,
			.principal = c->principal[i],
			.action = i % 2 ? "change.approve" : "change.propose",
			.target = c->target[i],
			.outcome = i % 5 ? "ok" : "denied",
			.payload_digest = "",
		};
		memcpy(c->prevbuf[i], prev, 65);
		fedns_audit_hash(prev, &c->rec[i], c->hashbuf[i]);
		c->prev[i] = c->prevbuf[i];
		c->hash[i] = c->hashbuf[i];
		prev = c->hashbuf[i];
	}
	return c;
}

static void
expect_bad(chain *c, size_t n, size_t want_index, const char *why_part)
{
	size_t bad = 9999;
	const char *why = NULL;
	assert_int_equal(fedns_audit_verify(c->rec, c->prev, c->hash, n, NULL, &bad, &why),
			 FEDNS_EAUTH);
	assert_int_equal(bad, want_index);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("why \"%s\" does not mention \"%s\"", why, why_part);
}

static void
test_chain_ok(void **state)
{
	(void)state;
	chain *c = make_chain();
	size_t bad = 7;
	const char *why = "untouched";
	assert_int_equal(fedns_audit_verify(c->rec, c->prev, c->hash, N, NULL, &bad, &why),
			 FEDNS_OK);
	assert_int_equal(bad, 7);
	assert_string_equal(why, "untouched");
	assert_int_equal(
		fedns_audit_verify(c->rec, c->prev, c->hash, N, fedns_audit_genesis, NULL, NULL),
		FEDNS_OK);
	/* an empty chain verifies */
	assert_int_equal(fedns_audit_verify(c->rec, c->prev, c->hash, 0, NULL, NULL, NULL),
			 FEDNS_OK);
	/* a tail verifies from the hash before it, not from genesis */
	assert_int_equal(fedns_audit_verify(c->rec + 40, c->prev + 40, c->hash + 40, N - 40,
					    c->hash[39], NULL, NULL),
			 FEDNS_OK);
	assert_int_equal(fedns_audit_verify(c->rec + 40, c->prev + 40, c->hash + 40, N - 40, NULL,
					    &bad, &why),
			 FEDNS_EAUTH);
	assert_int_equal(bad, 0);
	free(c);
}

static void
test_edited(void **state)
{
	(void)state;
	chain *c = make_chain();
	c->rec[40].outcome = "ok"; /* was "denied" */
	expect_bad(c, N, 40, "content");
	free(c);

	c = make_chain();
	c->target[73][0] = 'C';
	expect_bad(c, N, 73, "content");
	free(c);

	c = make_chain();
	c->rec[99].at_ms++;
	expect_bad(c, N, 99, "content");
	free(c);

	/* a stored hash edited: that record fails on its hash */
	c = make_chain();
	c->hashbuf[10][0] = c->hashbuf[10][0] == 'a' ? 'b' : 'a';
	expect_bad(c, N, 10, "content");
	free(c);

	/* an attacker who edits and rehashes one record breaks the link of the next */
	c = make_chain();
	c->rec[20].principal = "mallory";
	fedns_audit_hash(c->prev[20], &c->rec[20], c->hashbuf[20]);
	expect_bad(c, N, 21, "prev_hash");
	free(c);
}

static void
test_deleted(void **state)
{
	(void)state;
	chain *c = make_chain();
	/* delete record 50 (index 50): shift the rest down */
	chain *d = calloc(1, sizeof *d);
	assert_non_null(d);
	for (int i = 0, j = 0; i < N; i++) {
		if (i == 50)
			continue;
		d->rec[j] = c->rec[i];
		d->prev[j] = c->prev[i];
		d->hash[j] = c->hash[i];
		j++;
	}
	expect_bad(d, N - 1, 50, "seq gap");

	/* deleted and renumbered: the seq is consecutive, the link is broken */
	for (int j = 50; j < N - 1; j++)
		d->rec[j].seq--;
	expect_bad(d, N - 1, 50, "prev_hash");

	/* the first record deleted: the chain no longer starts at genesis */
	{
		size_t bad = 99;
		const char *why = NULL;
		assert_int_equal(fedns_audit_verify(c->rec + 1, c->prev + 1, c->hash + 1, N - 1,
						    NULL, &bad, &why),
				 FEDNS_EAUTH);
		assert_int_equal(bad, 0);
		assert_non_null(strstr(why, "prev_hash"));
	}
	/* the last record deleted is not detectable without the head: verify says OK */
	assert_int_equal(fedns_audit_verify(c->rec, c->prev, c->hash, N - 1, NULL, NULL, NULL),
			 FEDNS_OK);
	free(d);
	free(c);
}

static void
test_swapped(void **state)
{
	(void)state;
	chain *c = make_chain();
	fedns_audit_fields t = c->rec[30];
	c->rec[30] = c->rec[31];
	c->rec[31] = t;
	const char *p = c->prev[30], *h = c->hash[30];
	c->prev[30] = c->prev[31];
	c->hash[30] = c->hash[31];
	c->prev[31] = p;
	c->hash[31] = h;
	expect_bad(c, N, 30, "seq");
	free(c);

	/* swapped and renumbered: the links betray it */
	c = make_chain();
	t = c->rec[30];
	c->rec[30] = c->rec[31];
	c->rec[31] = t;
	p = c->prev[30];
	h = c->hash[30];
	c->prev[30] = c->prev[31];
	c->hash[30] = c->hash[31];
	c->prev[31] = p;
	c->hash[31] = h;
	c->rec[30].seq = 31;
	c->rec[31].seq = 32;
	expect_bad(c, N, 30, "prev_hash");
	free(c);
}

static void
test_wrong_prev_and_gap(void **state)
{
	(void)state;
	chain *c = make_chain();
	c->prevbuf[60][5] = c->prevbuf[60][5] == '0' ? '1' : '0';
	expect_bad(c, N, 60, "prev_hash");
	free(c);

	c = make_chain();
	c->rec[80].seq = 85;
	expect_bad(c, N, 80, "seq gap");
	free(c);

	c = make_chain();
	c->rec[80].seq = 80; /* repeated */
	expect_bad(c, N, 80, "order");
	free(c);

	/* a NULL stored hash is a broken record, not a crash */
	c = make_chain();
	c->prev[3] = NULL;
	expect_bad(c, N, 3, "prev_hash");
	free(c);
	c = make_chain();
	c->hash[4] = NULL;
	expect_bad(c, N, 4, "content");
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_chain_ok),
		cmocka_unit_test(test_edited),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_swapped),
		cmocka_unit_test(test_wrong_prev_and_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
