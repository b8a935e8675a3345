/* SPDX-License-Identifier: Apache-2.0 */
/* hub/fanout's pure pieces: a committed diff becomes a signed change-set payload the spoke
 * verifies and decodes to the same records (SOA first), a zone becomes a snapshot payload,
 * malformed diffs are refused with the line, and the resume decision picks changes,
 * snapshot or nothing from what a spoke says it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encode.h"
#include "dns/name.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "hub/fanout.h"
#include "proto/msg.h"
#include "tls/sign.h"

#define D1                                                                                         \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567" \
	"89abcdef"

static const char *const SOA1 = "example.com.\t3600\tIN\tSOA\tns1.example.com. "
				"hostmaster.example.com. 1 7200 3600 1209600 300";
static const char *const SOA2 = "example.com.\t3600\tIN\tSOA\tns1.example.com. "
				"hostmaster.example.com. 2 7200 3600 1209600 300";

static char *
diff_text(const char *const *lines, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	char *s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		strcat(s, lines[i]);
		strcat(s, "\n");
	}
	return s;
}

static void
change_init(hub_signed_change *c, char *diff, uint32_t from, uint32_t to)
{
	memset(c, 0, sizeof(*c));
	c->change_id = 42;
	c->zone_id = 7;
	c->from_serial = from;
	c->to_serial = to;
	snprintf(c->digest, sizeof(c->digest), "%s", D1);
	c->diff = diff;
}

static void
name_text(const uint8_t *n, char *out, size_t cap)
{
	assert_true(fedns_name_to_text(n, out, cap) > 0);
}

static void
test_changeset_payload_signed_and_decoded(void **state)
{
	(void)state;
	char m1[300], m2[300];
	snprintf(m1, sizeof(m1), "-%s", SOA1);
	snprintf(m2, sizeof(m2), "+%s", SOA2);
	/* the new SOA line comes after an addition: the payload still leads with it */
	const char *lines[] = {m1, "-www.example.com.\t300\tIN\tA\t192.0.2.1",
			       "+txt.example.com.\t300\tIN\tTXT\t\"hello world\" \"a\\\"b\"", m2,
			       "+www.example.com.\t300\tIN\tA\t192.0.2.2"};
	char *diff = diff_text(lines, 5);
	hub_signed_change c;
	change_init(&c, diff, 1, 2);
	const char *approvers[] = {"bob", "carol"};
	uint8_t *p = NULL;
	size_t plen = 0;
	fedns_diag d = {0};
	assert_int_equal(hub_fanout_changeset_payload(&c, "example.com.", 1700000000123ull, "alice",
						      approvers, 2, &p, &plen, &d),
			 FEDNS_OK);

	fedns_sign_key *k = NULL;
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	assert_int_equal(fedns_sign_sign(k, p, plen, sig, NULL, 0, NULL), FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(k, p, plen, sig, sizeof(sig)), FEDNS_OK);
	p[plen / 2] ^= 1;
	assert_int_equal(fedns_sign_verify_raw(k, p, plen, sig, sizeof(sig)), FEDNS_EAUTH);
	p[plen / 2] ^= 1;

	fedns_proto_body *b = NULL;
	assert_int_equal(fedns_proto_body_decode(p, plen, NULL, &b, &d), FEDNS_OK);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_CHANGESET);
	const fedns_proto_changeset *cs = &b->u.changeset;
	assert_string_equal(cs->zone, "example.com.");
	assert_int_equal(cs->from_serial, 1);
	assert_int_equal(cs->to_serial, 2);
	assert_int_equal(cs->change_id, 42);
	assert_int_equal(cs->commit_time, 1700000000123ull);
	assert_string_equal(cs->author, "alice");
	assert_int_equal(cs->napprovers, 2);
	assert_string_equal(cs->approvers[0], "bob");
	assert_string_equal(cs->approvers[1], "carol");
	assert_int_equal(cs->digest.alg, 1);
	assert_int_equal(cs->digest.len, 48);
	assert_int_equal(cs->digest.value[0], 0x01);
	assert_int_equal(cs->digest.value[47], 0xef);

	assert_int_equal(cs->ndeleted, 2);
	assert_int_equal(cs->nadded, 3);
	assert_int_equal(cs->deleted[0].type, FEDNS_T_SOA);
	assert_int_equal(fedns_soa_serial(cs->deleted[0].rdata, cs->deleted[0].rdlen), 1);
	assert_int_equal(cs->added[0].type, FEDNS_T_SOA);
	assert_int_equal(fedns_soa_serial(cs->added[0].rdata, cs->added[0].rdlen), 2);
	assert_int_equal(cs->added[0].ttl, 3600);

	char n[FEDNS_NAME_MAXTEXT];
	assert_int_equal(cs->deleted[1].type, FEDNS_T_A);
	name_text(cs->deleted[1].owner, n, sizeof(n));
	assert_string_equal(n, "www.example.com.");
	const uint8_t a1[] = {192, 0, 2, 1}, a2[] = {192, 0, 2, 2};
	assert_int_equal(cs->deleted[1].rdlen, 4);
	assert_memory_equal(cs->deleted[1].rdata, a1, 4);
	/* additions keep their order after the SOA */
	assert_int_equal(cs->added[1].type, FEDNS_T_TXT);
	const uint8_t txt[] = {11,  'h', 'e', 'l', 'l', 'o', ' ', 'w',
			       'o', 'r', 'l', 'd', 3,	'a', '"', 'b'};
	assert_int_equal(cs->added[1].rdlen, sizeof(txt));
	assert_memory_equal(cs->added[1].rdata, txt, sizeof(txt));
	assert_int_equal(cs->added[2].type, FEDNS_T_A);
	assert_int_equal(cs->added[2].ttl, 300);
	assert_memory_equal(cs->added[2].rdata, a2, 4);

	/* the same change encodes to the same bytes (signing once is enough, and a retransmission
	 * is identical) */
	uint8_t *p2 = NULL;
	size_t plen2 = 0;
	assert_int_equal(hub_fanout_changeset_payload(&c, "example.com.", 1700000000123ull, "alice",
						      approvers, 2, &p2, &plen2, &d),
			 FEDNS_OK);
	assert_int_equal(plen, plen2);
	assert_memory_equal(p, p2, plen);

	free(p2);
	fedns_proto_body_free(b);
	fedns_sign_key_free(k);
	free(p);
	free(diff);
}

static void
expect_refused(const char *const *lines, size_t n, uint32_t from, uint32_t to, const char *digest,
	       const char *needle)
{
	char *diff = diff_text(lines, n);
	hub_signed_change c;
	change_init(&c, diff, from, to);
	if (digest != NULL)
		snprintf(c.digest, sizeof(c.digest), "%s", digest);
	uint8_t *p = NULL;
	size_t plen = 0;
	fedns_diag d = {0};
	assert_int_equal(
		hub_fanout_changeset_payload(&c, "example.com.", 1, "a", NULL, 0, &p, &plen, &d),
		FEDNS_EMALFORMED);
	assert_null(p);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", d.msg, needle);
	free(diff);
}

static void
test_changeset_payload_refusals(void **state)
{
	(void)state;
	char m1[300], m2[300];
	snprintf(m1, sizeof(m1), "-%s", SOA1);
	snprintf(m2, sizeof(m2), "+%s", SOA2);
	const char *nosign[] = {m1, m2, "www.example.com. 300 IN A 192.0.2.1"};
	expect_refused(nosign, 3, 1, 2, NULL, "diff line 3 starts with neither");
	const char *badrdata[] = {m1, m2, "+www.example.com. 300 IN A 192.0.2"};
	expect_refused(badrdata, 3, 1, 2, NULL, "diff line 3:");
	const char *short_line[] = {m1, m2, "+www.example.com. 300 IN"};
	expect_refused(short_line, 3, 1, 2, NULL, "diff line 3 is not one record");
	const char *nonew[] = {m1, "+www.example.com. 300 IN A 192.0.2.1"};
	expect_refused(nonew, 2, 1, 2, NULL, "no new (+) SOA");
	const char *noold[] = {m2};
	expect_refused(noold, 1, 1, 2, NULL, "no old (-) SOA");
	const char *two[] = {m1, m2, m2};
	expect_refused(two, 3, 1, 2, NULL, "a second SOA");
	const char *ok[] = {m1, m2};
	expect_refused(ok, 2, 1, 3, NULL, "go from 1 to 2, not 1 to 3");
	expect_refused(ok, 2, 1, 2, "abc", "not a hex SHA-384");
	const char *paren[] = {m1, m2, "+www.example.com. 300 IN TXT ( x )"};
	expect_refused(paren, 3, 1, 2, NULL, "diff line 3 is not one record");
}

static fedns_zone *
zone_from(const char *text)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_zone *z = NULL;
	fedns_diag d = {0};
	assert_int_equal(fedns_name_from_text("example.com.", 12, NULL, origin, &olen, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts o = {.origin = origin};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &o, z, &d), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

static void
test_snapshot_payload(void **state)
{
	(void)state;
	/* NS sorts before SOA at the apex; the snapshot still starts with the SOA */
	fedns_zone *z = zone_from("$TTL 300\n"
				  "@ IN SOA ns1 hostmaster 7 7200 3600 1209600 300\n"
				  "@ IN NS ns1\n"
				  "ns1 IN A 192.0.2.53\n"
				  "www IN A 192.0.2.1\n"
				  "www IN A 192.0.2.2\n");
	uint8_t dig[FEDNS_ZONEMD_MAXLEN];
	size_t dlen = 0;
	assert_int_equal(fedns_zonemd_compute(z, FEDNS_ZONEMD_SHA384, dig, &dlen), FEDNS_OK);
	assert_int_equal(dlen, 48);
	uint8_t *p = NULL;
	size_t plen = 0;
	fedns_diag d = {0};
	assert_int_equal(hub_fanout_snapshot_payload(z, "example.com.", dig, 9, 1700000000000ull,
						     &p, &plen, &d),
			 FEDNS_OK);
	fedns_proto_body *b = NULL;
	assert_int_equal(fedns_proto_body_decode(p, plen, NULL, &b, &d), FEDNS_OK);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_SNAPSHOT);
	const fedns_proto_snapshot *sn = &b->u.snapshot;
	assert_string_equal(sn->zone, "example.com.");
	assert_int_equal(sn->serial, 7);
	assert_int_equal(sn->change_id, 9);
	assert_int_equal(sn->created_time, 1700000000000ull);
	assert_int_equal(sn->nrrs, fedns_zone_rr_count(z));
	assert_int_equal(sn->nrrs, 5);
	assert_int_equal(sn->rrs[0].type, FEDNS_T_SOA);
	size_t nsoa = 0;
	for (size_t i = 0; i < sn->nrrs; i++) {
		nsoa += sn->rrs[i].type == FEDNS_T_SOA;
		assert_true(fedns_zone_contains(z, &sn->rrs[i]));
	}
	assert_int_equal(nsoa, 1);
	assert_int_equal(sn->digest.alg, 1);
	assert_int_equal(sn->digest.len, 48);
	assert_memory_equal(sn->digest.value, dig, 48);

	/* rebuilt from the snapshot, the zone hashes to the digest it carries */
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_zone *z2 = NULL;
	assert_int_equal(fedns_name_from_text("example.com.", 12, NULL, origin, &olen, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z2), FEDNS_OK);
	for (size_t i = 0; i < sn->nrrs; i++)
		assert_int_equal(fedns_zone_add(z2, &sn->rrs[i], 0, 0), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z2, NULL, NULL), FEDNS_OK);
	uint8_t dig2[FEDNS_ZONEMD_MAXLEN];
	assert_int_equal(fedns_zonemd_compute(z2, FEDNS_ZONEMD_SHA384, dig2, &dlen), FEDNS_OK);
	assert_memory_equal(dig2, sn->digest.value, 48);

	fedns_zone_free(z2);
	fedns_proto_body_free(b);
	free(p);
	fedns_zone_free(z);
}

#define D2                                                                                         \
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" \
	"ffffffff"

static void
test_resume_plan(void **state)
{
	(void)state;
	const char *why = NULL;
	hub_fanout_resume r = {.held = true,
			       .spoke_serial = 5,
			       .spoke_digest = D1,
			       .hub_serial = 9,
			       .hub_digest = D2,
			       .digest_at_spoke_serial = D1,
			       .changes_err = FEDNS_OK,
			       .nchanges = 4,
			       .snapshot_after = 10};
	assert_int_equal(hub_fanout_resume_plan(&r, &why), HUB_FANOUT_CHANGES);
	assert_string_equal(why, "catching up from the journal");

	/* the digest comparison ignores hex case */
	hub_fanout_resume u = r;
	char upper[97];
	for (size_t i = 0; i < 96; i++)
		upper[i] = (char)(D1[i] >= 'a' ? D1[i] - 32 : D1[i]);
	upper[96] = '\0';
	u.spoke_digest = upper;
	assert_int_equal(hub_fanout_resume_plan(&u, NULL), HUB_FANOUT_CHANGES);

	u = r;
	u.held = false;
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the spoke does not hold the zone");

	u = r;
	u.spoke_serial = 9;
	u.spoke_digest = D2;
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_CURRENT);
	u.spoke_digest = D1; /* current serial, other bytes */
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the spoke's digest differs from the hub's for that serial");
	u.spoke_digest = ""; /* unknown digest is never "the same" */
	assert_int_equal(hub_fanout_resume_plan(&u, NULL), HUB_FANOUT_SNAPSHOT);

	u = r;
	u.changes_err = FEDNS_ENOENT; /* pruned or never issued */
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the spoke's serial is not a version the hub keeps");

	u = r;
	u.spoke_digest = D2; /* right serial, other bytes */
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the spoke's digest differs from the hub's for that serial");

	u = r;
	u.digest_at_spoke_serial = NULL;
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the hub cannot tell the digest of the spoke's version");

	u = r;
	u.nchanges = 10; /* exactly the threshold: still change sets */
	assert_int_equal(hub_fanout_resume_plan(&u, NULL), HUB_FANOUT_CHANGES);
	u.nchanges = 11;
	assert_int_equal(hub_fanout_resume_plan(&u, &why), HUB_FANOUT_SNAPSHOT);
	assert_string_equal(why, "the spoke is too far behind");

	u = r;
	u.nchanges = 0;
	assert_int_equal(hub_fanout_resume_plan(&u, NULL), HUB_FANOUT_SNAPSHOT);
}

static void
test_new_refuses_bad_material(void **state)
{
	(void)state;
	hub_fanout *f = NULL;
	fedns_diag d = {0};
	hub_fanout_opts o = {0};
	assert_int_equal(hub_fanout_new(&o, &f, &d), FEDNS_EINVAL);
	assert_null(f);

	hub_workflow *wf = NULL;
	hub_workflow_opts wo = {0};
	assert_int_equal(hub_workflow_new(&wo, &wf), FEDNS_OK);
	o.store_path = "/nonexistent/store.db";
	o.listen_url = "tls+tcp://127.0.0.1:0";
	o.sign_key = "/nonexistent/hub-signing.key";
	o.spoke_ca = "/nonexistent/ca.pem";
	o.workflow = wf;
	fedns_diag_clear(&d);
	assert_int_equal(hub_fanout_new(&o, &f, &d), FEDNS_EIO);
	assert_null(f);
	assert_non_null(strstr(d.msg, "signing key /nonexistent/hub-signing.key"));
	/* unstarted: the statistics answer empty */
	assert_int_equal(hub_fanout_sessions(NULL), 0);
	assert_false(hub_fanout_listening(NULL));
	hub_fanout_free(NULL);
	hub_workflow_free(wf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changeset_payload_signed_and_decoded),
		cmocka_unit_test(test_changeset_payload_refusals),
		cmocka_unit_test(test_snapshot_payload),
		cmocka_unit_test(test_resume_plan),
		cmocka_unit_test(test_new_refuses_bad_material),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
