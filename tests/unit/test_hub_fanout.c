/* SPDX-License-Identifier: Apache-2.0 */
/* hub/fanout's pure pieces: a committed diff becomes a signed change-set payload the spoke
 * verifies and decodes to the same records (SOA first), a zone becomes a snapshot payload,
 * malformed diffs are refused with the line, and the resume decision picks changes,
 * snapshot or nothing from what a spoke says it holds. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/encode.h"
#include "common/file.h"
#include "dns/name.h"
#include "dns/zdigest.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "hub/fanout.h"
#include "proto/msg.h"
#include "tls/conn.h"
#include "tls/pki.h"
#include "tls/sign.h"
#include "tls/spokeauth.h"

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

	/* what this hub commits: a 64-digit tree digest goes out as alg 240, 32 bytes (the
	 * 96-digit one above is a version committed before the tree digest: ZONEMD, alg 1) */
	snprintf(c.digest, sizeof(c.digest), "%.64s", D1);
	fedns_proto_body *b2 = NULL;
	assert_int_equal(hub_fanout_changeset_payload(&c, "example.com.", 1700000000123ull, "alice",
						      approvers, 2, &p2, &plen2, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_proto_body_decode(p2, plen2, NULL, &b2, &d), FEDNS_OK);
	assert_int_equal(b2->u.changeset.digest.alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(b2->u.changeset.digest.len, 32);
	assert_int_equal(b2->u.changeset.digest.value[0], 0x01);
	assert_int_equal(b2->u.changeset.digest.value[31], 0xef);
	fedns_proto_body_free(b2);
	free(p2);
	/* any other length is refused, naming the change */
	snprintf(c.digest, sizeof(c.digest), "%.50s", D1);
	p2 = NULL;
	assert_int_not_equal(hub_fanout_changeset_payload(&c, "example.com.", 1, "alice", approvers,
							  2, &p2, &plen2, &d),
			     FEDNS_OK);
	assert_null(p2);
	assert_non_null(strstr(d.msg, "change 42: digest is neither"));

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
	expect_refused(ok, 2, 1, 2, "abc", "digest is neither a tree digest nor a ZONEMD SHA-384");
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
	fedns_proto_digest dig = {.alg = FEDNS_ZDIGEST_ALG, .len = FEDNS_ZDIGEST_LEN};
	assert_int_equal(fedns_zdigest_compute(z, dig.value), FEDNS_OK);
	uint8_t *p = NULL;
	size_t plen = 0;
	fedns_diag d = {0};
	assert_int_equal(hub_fanout_snapshot_payload(z, "example.com.", &dig, 9, 1700000000000ull,
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
	assert_int_equal(sn->digest.alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(sn->digest.len, 32);
	assert_memory_equal(sn->digest.value, dig.value, 32);

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
	uint8_t dig2[FEDNS_ZDIGEST_LEN];
	assert_int_equal(fedns_zdigest_compute(z2, dig2), FEDNS_OK);
	assert_memory_equal(dig2, sn->digest.value, 32);

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

/* ---- a whole session over loopback mutual TLS, the spoke played by the test ---- */

typedef struct fx {
	char dir[64], db[128];
	hub_store *s;
	hub_workflow *w;
	int64_t tenant;
	hub_principal alice, bob;
	hub_zone zone, other;
	hub_fanout *f;
	fedns_sign_key *hubpub;
	char url[64];
} fx;

static const char *
fpath(fx *x, const char *name)
{
	static char p[8][160];
	static int slot;
	slot = (slot + 1) % 8;
	snprintf(p[slot], sizeof(p[slot]), "%s/%s", x->dir, name);
	return p[slot];
}

static int64_t
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fx_zone(fx *x, const char *name, const char *cluster, hub_zone *out)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n@ IN NS ns1\n"
		 "ns1 IN A 192.0.2.1\n");
	hub_where where;
	fedns_diag d = {0};
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	if (hub_workflow_create_zone(x->w, x->s, x->tenant, name, 1, text, NULL, NULL, out, &d,
				     &where) != FEDNS_OK)
		fail_msg("create %s: %s", name, d.msg);
	assert_int_equal(hub_zone_set_placement(x->s, out->id, &cluster, 1), FEDNS_OK);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	hub_workflow_publish(x->w, out->id);
}

static int
session_setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/fedns-fanout-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	static const char *const clusters[] = {"east", "west"};
	char err[256];
	fedns_pki_init_opts po = {.dir = x->dir,
				  .hub_name = "hub.fedns.test",
				  .clusters = clusters,
				  .nclusters = 2,
				  .days = 30};
	assert_int_equal(fedns_pki_init(&po, err, sizeof(err)), FEDNS_OK);
	snprintf(x->db, sizeof(x->db), "%s/hub.db", x->dir);
	hub_store_opts so = {.path = x->db, .create = true};
	fedns_diag d = {0};
	assert_int_equal(hub_store_open(&so, &x->s, &d), FEDNS_OK);
	assert_int_equal(hub_workflow_new(NULL, &x->w), FEDNS_OK);
	int64_t id;
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	assert_int_equal(hub_tenant_create(x->s, "bank", &x->tenant), FEDNS_OK);
	assert_int_equal(hub_principal_create(x->s, "alice", "person", &id), FEDNS_OK);
	assert_int_equal(hub_principal_get(x->s, "alice", &x->alice), FEDNS_OK);
	assert_int_equal(hub_principal_create(x->s, "bob", "person", &id), FEDNS_OK);
	assert_int_equal(hub_principal_get(x->s, "bob", &x->bob), FEDNS_OK);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	fx_zone(x, "example.com.", "east", &x->zone);
	fx_zone(x, "other.test.", "west", &x->other);

	hub_fanout_opts o = {.store_path = x->db,
			     .listen_url = "tls+tcp://127.0.0.1:0",
			     .tls = {.cert_file = fpath(x, "hub.pem"),
				     .key_file = fpath(x, "hub.key"),
				     .ca_file = fpath(x, "ca.pem")},
			     .spoke_ca = fpath(x, "ca.pem"),
			     .sign_key = fpath(x, "hub-signing.key"),
			     .workflow = x->w,
			     .heartbeat_ms = 2000};
	if (hub_fanout_new(&o, &x->f, &d) != FEDNS_OK || hub_fanout_start(x->f, &d) != FEDNS_OK)
		fail_msg("fan-out: %s", d.msg);
	assert_true(hub_fanout_listening(x->f));
	assert_true(hub_fanout_port(x->f) > 0);
	snprintf(x->url, sizeof(x->url), "tls+tcp://127.0.0.1:%u", (unsigned)hub_fanout_port(x->f));
	char *pem = NULL;
	size_t plen = 0;
	assert_int_equal(fedns_file_read(fpath(x, "hub-signing.pub"), 4096, &pem, &plen, &d),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_load_public_pem(pem, plen, &x->hubpub), FEDNS_OK);
	free(pem);
	*state = x;
	return 0;
}

static int
session_teardown(void **state)
{
	fx *x = *state;
	hub_fanout_free(x->f);
	fedns_sign_key_free(x->hubpub);
	hub_workflow_free(x->w);
	hub_store_close(x->s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

/* DER of the first certificate of a PEM file, as a Hello carries it. */
static uint8_t *
cert_der(const char *path, size_t *len)
{
	char *pem = NULL;
	size_t plen = 0;
	assert_int_equal(fedns_file_read(path, 65536, &pem, &plen, NULL), FEDNS_OK);
	char *b = strstr(pem, "-----BEGIN CERTIFICATE-----");
	assert_non_null(b);
	b = strchr(b, '\n') + 1;
	char *e = strstr(b, "-----END CERTIFICATE-----");
	assert_non_null(e);
	uint8_t *der = malloc(plen);
	assert_non_null(der);
	assert_int_equal(fedns_base64_decode(b, (size_t)(e - b), der, plen, len), FEDNS_OK);
	free(pem);
	return der;
}

static fedns_conn *
dial(fx *x, const char *cluster)
{
	char cert[32], key[32];
	snprintf(cert, sizeof(cert), "spoke-%s.pem", cluster);
	snprintf(key, sizeof(key), "spoke-%s.key", cluster);
	fedns_nngtls_files tf = {.cert_file = fpath(x, cert),
				 .key_file = fpath(x, key),
				 .ca_file = fpath(x, "ca.pem"),
				 .server_name = "hub.fedns.test"};
	fedns_nngtls *t = NULL;
	fedns_conn *c = NULL;
	char err[256];
	assert_int_equal(fedns_nngtls_client_new(&tf, &t, err, sizeof(err)), FEDNS_OK);
	if (fedns_conn_dial(t, x->url, 5000, &c, err, sizeof(err)) != FEDNS_OK)
		fail_msg("dial: %s", err);
	fedns_nngtls_free(t);
	return c;
}

static void
csend(fedns_conn *c, const fedns_proto_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(fedns_proto_encode(m, &buf, &len), FEDNS_OK);
	assert_int_equal(fedns_conn_send(c, buf, len, 5000), FEDNS_OK);
	free(buf);
}

static bool g_closed;	      /* the last crecv found the connection closed */
static unsigned g_heartbeats; /* heartbeats crecv skipped */

/* The next message that is not a heartbeat; NULL when nothing came within timeout_ms or
 * the hub closed the connection (g_closed). */
static fedns_proto_msg *
crecv(fedns_conn *c, unsigned timeout_ms)
{
	int64_t end = mono() + timeout_ms;
	g_closed = false;
	for (;;) {
		int64_t left = end - mono();
		if (left <= 0)
			return NULL;
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		fedns_err e = fedns_conn_recv(c, &buf, &len, (unsigned)left, &partial);
		if (e == FEDNS_ETIMEDOUT)
			return NULL;
		if (e != FEDNS_OK) {
			g_closed = true;
			return NULL;
		}
		fedns_proto_msg *m = NULL;
		assert_int_equal(fedns_proto_decode(buf, len, NULL, &m, NULL), FEDNS_OK);
		free(buf);
		if (m->type != FEDNS_PROTO_HEARTBEAT)
			return m;
		g_heartbeats++;
		fedns_proto_msg_free(m);
	}
}

/* A digest as the hub stores it in hex: 64 digits the tree digest, 96 a ZONEMD SHA-384. */
static void
hex_digest(const char *hex, fedns_proto_digest *out)
{
	size_t n = 0, hl = strlen(hex);
	memset(out, 0, sizeof(*out));
	assert_true(hl == 64 || hl == 96);
	assert_int_equal(fedns_hex_decode(hex, hl, out->value, sizeof(out->value), &n), FEDNS_OK);
	out->alg = hl == 64 ? FEDNS_ZDIGEST_ALG : 1;
	out->len = (uint8_t)n;
}

/* Hello (holding zone at serial/digest when zone is not NULL) and the challenge answered
 * with 'keyname''s key, claiming 'cluster'. */
static void
authenticate(fx *x, fedns_conn *c, const char *cluster, const char *keyname, const char *zone,
	     uint32_t serial, const char *digest_hex)
{
	char cert[32], key[32];
	snprintf(cert, sizeof(cert), "spoke-%s.pem", keyname);
	snprintf(key, sizeof(key), "spoke-%s.key", keyname);
	size_t dlen = 0;
	uint8_t *der = cert_der(fpath(x, cert), &dlen);
	fedns_proto_blob certs[1] = {{der, dlen}};
	fedns_proto_zone_state zs = {.zone = zone, .serial = serial};
	if (digest_hex != NULL)
		hex_digest(digest_hex, &zs.digest);
	fedns_proto_msg h;
	memset(&h, 0, sizeof(h));
	h.type = FEDNS_PROTO_HELLO;
	h.u.hello.cluster = cluster;
	h.u.hello.software_version = "test";
	h.u.hello.certs = certs;
	h.u.hello.ncerts = 1;
	h.u.hello.zones = &zs;
	h.u.hello.nzones = zone != NULL;
	csend(c, &h);
	free(der);
	fedns_proto_msg *ch = crecv(c, 5000);
	assert_non_null(ch);
	assert_int_equal(ch->type, FEDNS_PROTO_CHALLENGE);
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_load_private_file(fpath(x, key), &k), FEDNS_OK);
	uint8_t sig[FEDNS_PROTO_SIG_LEN];
	fedns_proto_msg r;
	memset(&r, 0, sizeof(r));
	r.type = FEDNS_PROTO_CHALLENGE_RESPONSE;
	assert_int_equal(
		fedns_spokeauth_respond(k, &ch->u.challenge, cluster, sig, &r.u.challenge_response),
		FEDNS_OK);
	csend(c, &r);
	fedns_sign_key_free(k);
	fedns_proto_msg_free(ch);
}

/* The next signed blob: its signature checked with the hub's public key, then decoded. */
static fedns_proto_body *
expect_body(fx *x, fedns_conn *c)
{
	fedns_proto_msg *m = crecv(c, 5000);
	assert_non_null(m);
	if (m->type != FEDNS_PROTO_SIGNED)
		fail_msg("expected a signed blob, got %s", fedns_proto_type_name(m->type));
	const fedns_proto_signed *sb = &m->u.signed_blob;
	char kid[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(fedns_sign_key_id(x->hubpub, kid), FEDNS_OK);
	assert_string_equal(sb->key_id, kid);
	assert_int_equal(fedns_sign_verify_raw(x->hubpub, sb->payload.data, sb->payload.len,
					       sb->signature.data, sb->signature.len),
			 FEDNS_OK);
	fedns_proto_body *b = NULL;
	assert_int_equal(fedns_proto_body_decode(sb->payload.data, sb->payload.len, NULL, &b, NULL),
			 FEDNS_OK);
	fedns_proto_msg_free(m);
	return b;
}

static void
ack(fedns_conn *c, const char *zone, uint32_t serial, const char *digest_hex,
    fedns_proto_ack_status st, fedns_proto_reason reason, uint64_t change_id)
{
	fedns_proto_msg m;
	memset(&m, 0, sizeof(m));
	m.type = FEDNS_PROTO_ACK;
	m.u.ack.zone = zone;
	m.u.ack.serial = serial;
	hex_digest(digest_hex, &m.u.ack.digest);
	m.u.ack.status = st;
	m.u.ack.reason = reason;
	m.u.ack.change_id = change_id;
	m.u.ack.received_time = m.u.ack.applied_time = (uint64_t)time(NULL) * 1000;
	csend(c, &m);
}

/* Commits one more A record at the zone (alice proposes, bob approves) and tells the
 * fan-out, as api.c's hook does. Returns the new current zone. */
static hub_zone
commit_change(fx *x, const char *ip)
{
	const char *rd[] = {ip};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "www", .type = "A", .rdata = rd, .nrdata = 1};
	hub_zone cur;
	assert_int_equal(hub_zone_get_id(x->s, x->zone.id, &cur), FEDNS_OK);
	hub_proposal p = {.base_serial = cur.serial, .reason = "test", .edits = &e, .nedits = 1};
	hub_plan plan;
	hub_where where;
	fedns_diag d = {0};
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	if (hub_workflow_propose(x->w, x->s, &cur, &x->alice, &p, NULL, &plan, &d, &where) !=
	    FEDNS_OK)
		fail_msg("propose: %s", d.msg);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	hub_change c;
	bool committed = false;
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	if (hub_workflow_decide(x->w, x->s, plan.change.id, &x->bob, true, NULL, &committed, &c,
				&d) != FEDNS_OK)
		fail_msg("approve: %s", d.msg);
	assert_true(committed);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	hub_workflow_publish(x->w, x->zone.id);
	hub_change_fini(&c);
	hub_plan_fini(&plan);
	hub_fanout_zone_changed(x->f, x->zone.id);
	assert_int_equal(hub_zone_get_id(x->s, x->zone.id, &cur), FEDNS_OK);
	return cur;
}

static void
digest_hex_of(const fedns_proto_digest *d, char out[97])
{
	/* what the hub commits: the tree digest */
	assert_int_equal(d->alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(d->len, FEDNS_ZDIGEST_LEN);
	fedns_hex_encode(d->value, d->len, out, 0);
}

static bool
audit_has(fx *x, const char *action, const char *target_part, const char *outcome)
{
	bool found = false;
	/* the fan-out records from its own threads: wait a little for the record */
	for (int64_t end = mono() + 5000; !found && mono() < end;) {
		hub_audit *a = NULL;
		size_t n = 0;
		assert_int_equal(hub_audit_list(x->s, 0, 0, &a, &n), FEDNS_OK);
		for (size_t i = 0; i < n; i++)
			found = found || (strcmp(a[i].action, action) == 0 &&
					  strstr(a[i].target, target_part) != NULL &&
					  strcmp(a[i].outcome, outcome) == 0);
		free(a);
		if (!found)
			usleep(20000);
	}
	return found;
}

/* Polls the store (the session writes from its own thread). */
static hub_spoke_zone
wait_spoke_zone(fx *x, uint32_t serial, const char *status)
{
	hub_spoke_zone z;
	memset(&z, 0, sizeof(z));
	for (int64_t end = mono() + 5000; mono() < end; usleep(20000)) {
		hub_spoke_zone *rows = NULL;
		size_t n = 0;
		assert_int_equal(hub_spoke_zone_list(x->s, "east", x->zone.id, &rows, &n),
				 FEDNS_OK);
		bool ok = n == 1 && rows[0].serial == serial &&
			  strcmp(rows[0].last_status, status) == 0;
		if (n == 1)
			z = rows[0];
		free(rows);
		if (ok)
			return z;
	}
	fail_msg("spoke zone row never reached serial %u %s (has %u %s)", serial, status, z.serial,
		 z.last_status);
	return z;
}

/* notAfter of a PEM certificate as openssl and date(1) see it. */
static int64_t
openssl_not_after(const char *pem)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "date -u -d \"$(openssl x509 -noout -enddate -in %s | cut -d= -f2)\" +%%s", pem);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	long long v = 0;
	assert_int_equal(fscanf(p, "%lld", &v), 1);
	pclose(p);
	return (int64_t)v;
}

/* The removed zone's rows go (through the recorder). */
static void
wait_forgotten(fx *x)
{
	size_t n = 1;
	for (int64_t end = mono() + 5000; n > 0 && mono() < end; usleep(20000)) {
		hub_spoke_zone *rows = NULL;
		assert_int_equal(hub_spoke_zone_list(x->s, "east", x->zone.id, &rows, &n),
				 FEDNS_OK);
		free(rows);
	}
	assert_int_equal(n, 0);
	hub_secondary *sec = NULL;
	assert_int_equal(hub_secondary_list(x->s, "east", x->zone.id, NULL, &sec, &n), FEDNS_OK);
	free(sec);
	assert_int_equal(n, 0);
}

static void
test_session(void **state)
{
	fx *x = *state;
	char hex[97];

	/* a spoke with another cluster's certificate claiming east: refused, audited */
	fedns_conn *bad = dial(x, "west");
	authenticate(x, bad, "east", "west", NULL, 0, NULL);
	assert_null(crecv(bad, 3000)); /* closed without a word about zones */
	assert_true(g_closed);
	fedns_conn_close(bad);
	fedns_conn_free(bad);
	assert_int_equal(hub_fanout_auth_failures(x->f), 1);
	assert_true(audit_has(x, "spoke.auth", "reason:cn_mismatch", "denied"));

	/* east holds nothing: full placement (its zone only), then a snapshot */
	fedns_conn *c = dial(x, "east");
	authenticate(x, c, "east", "east", NULL, 0, NULL);
	fedns_proto_msg *m = crecv(c, 5000);
	assert_non_null(m);
	assert_int_equal(m->type, FEDNS_PROTO_PLACEMENT_UPDATE);
	assert_true(m->u.placement.full);
	assert_int_equal(m->u.placement.nadd, 1);
	assert_string_equal(m->u.placement.add[0], "example.com.");
	uint64_t gen = m->u.placement.generation;
	fedns_proto_msg_free(m);
	assert_int_equal(hub_fanout_sessions(x->f), 1);
	assert_true(audit_has(x, "spoke.connect", "cluster:east", "ok"));
	hub_cluster ce;
	assert_int_equal(hub_cluster_get(x->s, "east", &ce), FEDNS_OK);
	assert_true(ce.connected);
	assert_int_equal(ce.cert_not_after, openssl_not_after(fpath(x, "spoke-east.pem")));
	assert_string_equal(ce.software_version, "test");

	fedns_proto_body *b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_SNAPSHOT);
	assert_string_equal(b->u.snapshot.zone, "example.com.");
	assert_int_equal(b->u.snapshot.serial, 1);
	digest_hex_of(&b->u.snapshot.digest, hex);
	assert_string_equal(hex, x->zone.digest);
	fedns_proto_body_free(b);
	ack(c, "example.com.", 1, x->zone.digest, FEDNS_PROTO_ACK_APPLIED, 0, 0);
	wait_spoke_zone(x, 1, "applied");

	/* a commit: the change set 1 -> 2, digest as the hub's */
	hub_zone z2 = commit_change(x, "192.0.2.80");
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_CHANGESET);
	assert_int_equal(b->u.changeset.from_serial, 1);
	assert_int_equal(b->u.changeset.to_serial, 2);
	assert_string_equal(b->u.changeset.author, "alice");
	assert_int_equal(b->u.changeset.napprovers, 1);
	assert_string_equal(b->u.changeset.approvers[0], "bob");
	assert_int_equal(b->u.changeset.deleted[0].type, FEDNS_T_SOA);
	assert_int_equal(b->u.changeset.added[0].type, FEDNS_T_SOA);
	assert_int_equal(b->u.changeset.nadded, 2);
	assert_int_equal(b->u.changeset.added[1].type, FEDNS_T_A);
	digest_hex_of(&b->u.changeset.digest, hex);
	assert_string_equal(hex, z2.digest);
	uint64_t cid2 = b->u.changeset.change_id;
	fedns_proto_body_free(b);
	ack(c, "example.com.", 2, z2.digest, FEDNS_PROTO_ACK_APPLIED, 0, cid2);
	hub_spoke_zone row = wait_spoke_zone(x, 2, "applied");
	assert_int_equal(row.change_id, (int64_t)cid2);
	assert_true(row.committed_at > 0);

	/* the signed form is stored once: the store hands the same bytes to everyone */
	hub_signed_change *sc = NULL;
	size_t nsc = 0;
	assert_int_equal(hub_changes_after(x->s, x->zone.id, 1, 0, &sc, &nsc), FEDNS_OK);
	assert_int_equal(nsc, 1);
	assert_non_null(sc[0].payload);
	assert_int_equal(sc[0].signature_len, FEDNS_SIGN_RAW_LEN);
	assert_int_equal(fedns_sign_verify_raw(x->hubpub, sc[0].payload, sc[0].payload_len,
					       sc[0].signature, sc[0].signature_len),
			 FEDNS_OK);
	hub_signed_change_fini(&sc[0]);
	free(sc);

	/* a status report: the secondary's row, the audit of its new state, the latency */
	fedns_proto_secondary_status ss = {.zone = "example.com.",
					   .secondary = "ns-a",
					   .address = "127.0.0.1:5301",
					   .state = FEDNS_PROTO_SECONDARY_IN_SYNC,
					   .has_serial = true,
					   .serial = 2,
					   .last_proven = (uint64_t)time(NULL) * 1000};
	hex_digest(z2.digest, &ss.digest);
	fedns_proto_msg sr;
	memset(&sr, 0, sizeof(sr));
	sr.type = FEDNS_PROTO_STATUS_REPORT;
	sr.u.status_report.time = ss.last_proven;
	sr.u.status_report.entries = &ss;
	sr.u.status_report.nentries = 1;
	csend(c, &sr);
	hub_secondary *sec = NULL;
	size_t nsec = 0;
	for (int64_t end = mono() + 5000; mono() < end && nsec == 0; usleep(20000)) {
		free(sec);
		sec = NULL;
		assert_int_equal(hub_secondary_list(x->s, "east", x->zone.id, NULL, &sec, &nsec),
				 FEDNS_OK);
	}
	assert_int_equal(nsec, 1);
	assert_string_equal(sec[0].state, "in_sync");
	assert_string_equal(sec[0].secondary, "ns-a");
	assert_int_equal(sec[0].serial, 2);
	assert_true(sec[0].confirmed_ms >= 0);
	free(sec);
	assert_true(audit_has(x, "secondary.state", "zone:example.com./cluster:east/secondary:ns-a",
			      "in_sync"));
	hub_fanout_cluster_stats *st = NULL;
	size_t nst = hub_fanout_stats(x->f, &st);
	assert_int_equal(nst, 1);
	assert_string_equal(st[0].cluster, "east");
	assert_true(st[0].connected);
	assert_int_equal(st[0].sent_snapshots, 1);
	assert_int_equal(st[0].sent_changesets, 1);
	assert_int_equal(st[0].applied, 2);
	assert_int_equal(st[0].lat_count, 1);
	free(st);

	/* a refused change set: audited, answered by a snapshot; a refused snapshot is not
	 * answered again until the next version */
	hub_zone z3 = commit_change(x, "192.0.2.81");
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_CHANGESET);
	assert_int_equal(b->u.changeset.to_serial, 3);
	uint64_t cid3 = b->u.changeset.change_id;
	fedns_proto_body_free(b);
	ack(c, "example.com.", 2, z2.digest, FEDNS_PROTO_ACK_REFUSED,
	    FEDNS_PROTO_REASON_DIGEST_MISMATCH, cid3);
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_SNAPSHOT);
	assert_int_equal(b->u.snapshot.serial, 3);
	digest_hex_of(&b->u.snapshot.digest, hex);
	assert_string_equal(hex, z3.digest);
	fedns_proto_body_free(b);
	char tgt[128];
	snprintf(tgt, sizeof(tgt), "zone:example.com./cluster:east/change:%" PRIu64, cid3);
	assert_true(audit_has(x, "changeset.refused", tgt, "digest_mismatch"));
	ack(c, "example.com.", 2, z2.digest, FEDNS_PROTO_ACK_REFUSED,
	    FEDNS_PROTO_REASON_APPLY_FAILED, 0);
	assert_null(crecv(c, 1200)); /* no loop */
	assert_false(g_closed);
	wait_spoke_zone(x, 2, "refused");

	/* the next version: resumes from what the spoke holds (2); the two change sets waiting
	 * go as one batch under one signature */
	hub_zone z4 = commit_change(x, "192.0.2.82");
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_BATCH);
	assert_int_equal(b->u.batch.n, 2);
	assert_int_equal(b->u.batch.changesets[0].from_serial, 2);
	assert_int_equal(b->u.batch.changesets[0].to_serial, 3);
	assert_int_equal(b->u.batch.changesets[0].change_id, cid3);
	assert_int_equal(b->u.batch.changesets[1].from_serial, 3);
	assert_int_equal(b->u.batch.changesets[1].to_serial, 4);
	assert_string_equal(b->u.batch.changesets[1].author, "alice");
	digest_hex_of(&b->u.batch.changesets[1].digest, hex);
	assert_string_equal(hex, z4.digest);
	uint64_t cid4 = b->u.batch.changesets[1].change_id;
	fedns_proto_body_free(b);
	ack(c, "example.com.", 3, z3.digest, FEDNS_PROTO_ACK_APPLIED, 0, cid3);
	ack(c, "example.com.", 4, z4.digest, FEDNS_PROTO_ACK_APPLIED, 0, cid4);
	hub_spoke_zone r4 = wait_spoke_zone(x, 4, "applied");
	assert_int_equal(r4.change_id, (int64_t)cid4);
	fedns_conn_close(c);
	fedns_conn_free(c);

	/* a reconnect at serial 2 with the right digest: the same batch from the journal; its
	 * first element refused ends it (the second is never acknowledged) and a snapshot
	 * answers */
	c = dial(x, "east");
	authenticate(x, c, "east", "east", "example.com.", 2, z2.digest);
	m = crecv(c, 5000);
	assert_non_null(m);
	assert_int_equal(m->type, FEDNS_PROTO_PLACEMENT_UPDATE);
	assert_true(m->u.placement.generation > gen);
	gen = m->u.placement.generation;
	fedns_proto_msg_free(m);
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_BATCH);
	assert_int_equal(b->u.batch.n, 2);
	assert_int_equal(b->u.batch.changesets[0].from_serial, 2);
	fedns_proto_body_free(b);
	ack(c, "example.com.", 2, z2.digest, FEDNS_PROTO_ACK_REFUSED, FEDNS_PROTO_REASON_REPLAY,
	    cid3);
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_SNAPSHOT);
	assert_int_equal(b->u.snapshot.serial, 4);
	fedns_proto_body_free(b);
	ack(c, "example.com.", 4, z4.digest, FEDNS_PROTO_ACK_APPLIED, 0, 0);
	wait_spoke_zone(x, 4, "applied");

	/* the zone moves to west: a delta removing it, nothing else */
	const char *west = "west";
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	assert_int_equal(hub_zone_set_placement(x->s, x->zone.id, &west, 1), FEDNS_OK);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	hub_fanout_zone_changed(x->f, x->zone.id);
	m = crecv(c, 5000);
	assert_non_null(m);
	assert_int_equal(m->type, FEDNS_PROTO_PLACEMENT_UPDATE);
	assert_false(m->u.placement.full);
	assert_true(m->u.placement.generation > gen);
	assert_int_equal(m->u.placement.nadd, 0);
	assert_int_equal(m->u.placement.nremove, 1);
	assert_string_equal(m->u.placement.remove[0], "example.com.");
	fedns_proto_msg_free(m);
	assert_null(crecv(c, 800));
	assert_false(g_closed);
	wait_forgotten(x);

	/* other.test is placed on east too: a delta adding it, then its snapshot */
	const char *both[] = {"east", "west"};
	assert_int_equal(hub_store_begin(x->s, true), FEDNS_OK);
	assert_int_equal(hub_zone_set_placement(x->s, x->other.id, both, 2), FEDNS_OK);
	assert_int_equal(hub_store_commit(x->s), FEDNS_OK);
	hub_fanout_zone_changed(x->f, x->other.id);
	m = crecv(c, 5000);
	assert_non_null(m);
	assert_int_equal(m->type, FEDNS_PROTO_PLACEMENT_UPDATE);
	assert_false(m->u.placement.full);
	assert_int_equal(m->u.placement.nadd, 1);
	assert_int_equal(m->u.placement.nremove, 0);
	assert_string_equal(m->u.placement.add[0], "other.test.");
	fedns_proto_msg_free(m);
	b = expect_body(x, c);
	assert_int_equal(b->kind, FEDNS_PROTO_BODY_SNAPSHOT);
	assert_string_equal(b->u.snapshot.zone, "other.test.");
	fedns_proto_body_free(b);

	/* a second connection of east while this one is open replaces it */
	fedns_conn *c2 = dial(x, "east");
	authenticate(x, c2, "east", "east", "other.test.", 1, x->other.digest);
	m = crecv(c2, 5000);
	assert_non_null(m);
	assert_int_equal(m->type, FEDNS_PROTO_PLACEMENT_UPDATE);
	assert_int_equal(m->u.placement.nadd, 1);
	fedns_proto_msg_free(m);
	assert_null(crecv(c, 3000));
	assert_true(g_closed);
	fedns_conn_close(c);
	fedns_conn_free(c);
	c = c2;
	/* it holds other.test at the hub's version: nothing to send; then it goes silent, gets
	 * heartbeats, and is dropped after three intervals (2 s each) */
	g_heartbeats = 0;
	int64_t t0 = mono();
	assert_null(crecv(c, 12000));
	assert_true(g_closed);
	int64_t silent = mono() - t0;
	if (silent < 5500 || silent > 9000)
		fail_msg("dropped after %lld ms of silence, not about 6000", (long long)silent);
	assert_true(g_heartbeats >= 2);
	hub_cluster cl;
	memset(&cl, 0, sizeof(cl));
	for (int64_t end = mono() + 5000; mono() < end; usleep(20000)) {
		assert_int_equal(hub_cluster_get(x->s, "east", &cl), FEDNS_OK);
		if (!cl.connected)
			break;
	}
	assert_false(cl.connected);
	assert_string_equal(cl.last_error, "no message for three heartbeat intervals");
	fedns_conn_close(c);
	fedns_conn_free(c);

	assert_string_equal(cl.software_version, "test");
	assert_int_equal(hub_fanout_sessions(x->f), 0);
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
		cmocka_unit_test_setup_teardown(test_session, session_setup, session_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
