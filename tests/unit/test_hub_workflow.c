/* SPDX-License-Identifier: Apache-2.0 */
/* hub/workflow against a real store: propose -> plan -> approve -> commit with the serial,
 * content digest and version text checked against an independently built zone; segregation of
 * duties, approval counts, stale proposals, validation errors that name the edit or the
 * line, rollback, and the flags for apex NS changes and mass deletions. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/encode.h"
#include "dns/name.h"
#include "dns/zdigest.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "hub/store.h"
#include "hub/workflow.h"

#define ZONE_HEAD                                                                                  \
	"$TTL 300\n"                                                                               \
	"@ IN SOA ns1.example.com. hostmaster.example.com. %u 3600 900 1209600 300\n"              \
	"@ IN NS ns1\n"                                                                            \
	"@ IN NS ns2\n"                                                                            \
	"ns1 IN A 192.0.2.1\n"                                                                     \
	"ns2 IN A 192.0.2.2\n"

/* 25 records besides the SOA: deleting 2 stays under 10%, 3 does not */
static const char base_body[] = "www IN A 192.0.2.10\n"
				"www IN A 192.0.2.11\n"
				"txt IN TXT \"hello world\"\n"
				"a1 IN A 192.0.2.101\n"
				"a2 IN A 192.0.2.102\n"
				"a3 IN A 192.0.2.103\n"
				"a4 IN A 192.0.2.104\n"
				"a5 IN A 192.0.2.105\n"
				"a6 IN A 192.0.2.106\n"
				"a7 IN A 192.0.2.107\n"
				"a8 IN A 192.0.2.108\n"
				"a9 IN A 192.0.2.109\n"
				"b1 IN A 192.0.2.111\n"
				"b2 IN A 192.0.2.112\n"
				"b3 IN A 192.0.2.113\n"
				"b4 IN A 192.0.2.114\n"
				"b5 IN A 192.0.2.115\n"
				"b6 IN A 192.0.2.116\n"
				"b7 IN A 192.0.2.117\n"
				"b8 IN A 192.0.2.118\n"
				"b9 IN A 192.0.2.119\n";

#define DIGEST96                                                                                   \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"                         \
	"202122232425262728292a2b2c2d2e2f"

typedef struct fixture {
	char dir[64];
	char path[128];
	hub_store *s;
	hub_workflow *w;
	int64_t tenant;
	hub_principal alice, bob, carol;
	hub_zone zone;
} fixture;

static char *
zone_text(uint32_t serial, const char *body)
{
	size_t n = strlen(ZONE_HEAD) + strlen(body) + 32;
	char *t = malloc(n);
	assert_non_null(t);
	int k = snprintf(t, n, ZONE_HEAD, (unsigned)serial);
	snprintf(t + k, n - (size_t)k, "%s", body);
	return t;
}

static void
principal(fixture *f, const char *name, hub_role role, hub_principal *out)
{
	int64_t id;
	assert_int_equal(hub_principal_create(f->s, name, "person", &id), FEDNS_OK);
	assert_int_equal(hub_role_grant(f->s, id, f->tenant, role), FEDNS_OK);
	assert_int_equal(hub_principal_get(f->s, name, out), FEDNS_OK);
}

static void
begin(fixture *f)
{
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
}

static void
commit(fixture *f)
{
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	hub_workflow_publish(f->w, f->zone.id);
}

static void
abort_tx(fixture *f)
{
	hub_store_rollback(f->s);
	hub_workflow_forget(f->w, f->zone.id);
}

static void
reload_zone(fixture *f)
{
	assert_int_equal(hub_zone_get_id(f->s, f->zone.id, &f->zone), FEDNS_OK);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fedns-wf-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/hub.db", f->dir);
	hub_store_opts o = {.path = f->path, .create = true};
	fedns_diag d = {0};
	assert_int_equal(hub_store_open(&o, &f->s, &d), FEDNS_OK);
	assert_int_equal(hub_workflow_new(NULL, &f->w), FEDNS_OK);
	begin(f);
	assert_int_equal(hub_tenant_create(f->s, "bank", &f->tenant), FEDNS_OK);
	/* alice may approve too: segregation of duties must stop her anyway */
	principal(f, "alice", HUB_ROLE_APPROVER, &f->alice);
	principal(f, "bob", HUB_ROLE_APPROVER, &f->bob);
	principal(f, "carol", HUB_ROLE_ADMIN, &f->carol);
	char *text = zone_text(10, base_body);
	hub_where where;
	fedns_err err = hub_workflow_create_zone(f->w, f->s, f->tenant, "Example.COM", 0, text,
						 NULL, NULL, &f->zone, &d, &where);
	free(text);
	if (err != FEDNS_OK)
		fail_msg("create: %s", d.msg);
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	hub_workflow_publish(f->w, f->zone.id);
	assert_string_equal(f->zone.name, "example.com.");
	assert_int_equal(f->zone.serial, 10);
	assert_int_equal(f->zone.approvals_required, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	hub_workflow_free(f->w);
	hub_store_close(f->s);
	char p[160];
	static const char *const files[] = {"hub.db", "hub.db-wal", "hub.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Content digest (the digest tree's root, dns/zdigest.h, built from scratch) of master-file
 * text parsed independently of the workflow, which moves its tree per commit. */
static void
digest_of(const char *text, char out[97], char **printed)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag d = {0};
	assert_int_equal(fedns_name_from_text("example.com.", 12, NULL, origin, &olen, &d),
			 FEDNS_OK);
	fedns_zone *z;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts o = {.origin = origin};
	if (fedns_zonefile_parse("expected", text, strlen(text), &o, z, &d) != FEDNS_OK)
		fail_msg("expected zone: %s", d.msg);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	uint8_t md[FEDNS_ZDIGEST_LEN];
	assert_int_equal(fedns_zdigest_compute(z, md), FEDNS_OK);
	fedns_hex_encode(md, sizeof(md), out, 0);
	if (printed != NULL) {
		fedns_buf b;
		fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
		assert_int_equal(fedns_zone_print(z, &b), FEDNS_OK);
		size_t len;
		*printed = (char *)fedns_buf_steal(&b, &len);
	}
	fedns_zone_free(z);
}

static fedns_err
propose(fixture *f, const hub_principal *who, const hub_edit *edits, size_t n, hub_plan *plan,
	fedns_diag *d, hub_where *where)
{
	hub_proposal p = {.base_serial = f->zone.serial,
			  .reason = "test",
			  .ticket = "CHG-1",
			  .edits = edits,
			  .nedits = n};
	return hub_workflow_propose(f->w, f->s, &f->zone, who, &p, NULL, plan, d, where);
}

static fedns_err
decide(fixture *f, int64_t id, const hub_principal *who, bool approve, bool *committed,
       hub_change *out, fedns_diag *d)
{
	return hub_workflow_decide(f->w, f->s, id, who, approve, "ok", committed, out, d);
}

static size_t
count_changes(fixture *f)
{
	hub_change *list = NULL;
	size_t n = 0;
	assert_int_equal(hub_change_list(f->s, f->zone.id, 0, 0, 1000, &list, &n), FEDNS_OK);
	for (size_t i = 0; i < n; i++)
		hub_change_fini(&list[i]);
	free(list);
	return n;
}

static void
test_propose_approve_commit(void **state)
{
	fixture *f = *state;
	const char *add_www[] = {"192.0.2.12"};
	const char *txt[] = {"\"bye; now\" \"two\""};
	const char *a1[] = {"192.0.2.101"};
	hub_edit edits[] = {
		{.op = HUB_EDIT_ADD, .name = "www", .type = "A", .rdata = add_www, .nrdata = 1},
		{.op = HUB_EDIT_REPLACE,
		 .name = "txt.example.com.",
		 .type = "txt",
		 .rdata = txt,
		 .nrdata = 1},
		{.op = HUB_EDIT_DELETE, .name = "A1", .type = "A", .rdata = a1, .nrdata = 1},
	};
	hub_plan plan;
	hub_where where;
	fedns_diag d;
	begin(f);
	fedns_err err = propose(f, &f->alice, edits, 3, &plan, &d, &where);
	if (err != FEDNS_OK)
		fail_msg("propose: %s", d.msg);
	commit(f);
	assert_int_equal(plan.next_serial, 11);
	assert_int_equal(plan.ndel, 2);
	assert_int_equal(plan.nadd, 2);
	assert_int_equal(plan.nwarnings, 0);
	assert_int_equal(plan.change.state, HUB_CHANGE_PROPOSED);
	assert_int_equal(plan.change.base_serial, 10);
	assert_true(plan.change.id > 0);
	assert_string_equal(plan.change.diff,
			    "-a1.example.com.\t300\tIN\tA\t192.0.2.101\n"
			    "-txt.example.com.\t300\tIN\tTXT\t\"hello world\"\n"
			    "+txt.example.com.\t300\tIN\tTXT\t\"bye; now\" \"two\"\n"
			    "+www.example.com.\t300\tIN\tA\t192.0.2.12\n");
	int64_t id = plan.change.id;

	/* the stored change is the plan's */
	hub_change c;
	assert_int_equal(hub_change_get(f->s, id, &c), FEDNS_OK);
	assert_string_equal(c.diff, plan.change.diff);
	assert_string_equal(c.reason, "test");
	assert_string_equal(c.ticket, "CHG-1");
	hub_change_fini(&c);
	hub_plan_fini(&plan);

	bool committed = false;
	begin(f);
	err = decide(f, id, &f->bob, true, &committed, &c, &d);
	if (err != FEDNS_OK)
		fail_msg("approve: %s", d.msg);
	commit(f);
	assert_true(committed);
	assert_int_equal(c.state, HUB_CHANGE_COMMITTED);
	assert_int_equal(c.serial, 11);
	assert_non_null(strstr(c.diff, "-example.com.\t300\tIN\tSOA\tns1.example.com. "
				       "hostmaster.example.com. 10 "));
	assert_non_null(strstr(c.diff, "\n+example.com.\t300\tIN\tSOA\tns1.example.com. "
				       "hostmaster.example.com. 11 "));
	/* SOA lines first, then the proposal's diff */
	assert_int_equal(c.diff[0], '-');
	assert_non_null(strstr(c.diff, " 1209600 300\n-a1.example.com."));

	/* the expected zone, built independently */
	char *body = strdup(base_body);
	char *exp = NULL;
	{
		/* remove a1, change txt, add www 192.0.2.12 */
		const char *repl = "www IN A 192.0.2.10\n"
				   "www IN A 192.0.2.11\n"
				   "www IN A 192.0.2.12\n"
				   "txt IN TXT \"bye; now\" \"two\"\n";
		const char *rest = strstr(base_body, "a2 IN");
		size_t n = strlen(repl) + strlen(rest) + 1;
		exp = malloc(n);
		snprintf(exp, n, "%s%s", repl, rest);
	}
	free(body);
	char *text = zone_text(11, exp);
	free(exp);
	char want[97], *printed = NULL;
	digest_of(text, want, &printed);
	free(text);
	assert_string_equal(c.digest, want);
	hub_change_fini(&c);

	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 11);
	assert_string_equal(f->zone.digest, want);
	char *vt = NULL;
	assert_int_equal(hub_version_text(f->s, f->zone.id, 11, &vt), FEDNS_OK);
	assert_string_equal(vt, printed);
	free(vt);
	/* the cached current zone is the committed one */
	const fedns_zone *cz = NULL;
	assert_int_equal(hub_workflow_zone(f->w, f->s, &f->zone, &cz), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(cz), 11);
	abort_tx(f);
	free(printed);

	/* a fresh workflow (empty cache) loads the same zone from the store */
	hub_workflow *w2;
	assert_int_equal(hub_workflow_new(NULL, &w2), FEDNS_OK);
	begin(f);
	assert_int_equal(hub_workflow_zone(w2, f->s, &f->zone, &cz), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(cz), 11);
	hub_store_rollback(f->s);
	hub_workflow_free(w2);
}

static void
test_commit_without_cache(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"10 mail.example.net."};
	hub_edit e = {.op = HUB_EDIT_ADD,
		      .name = "@",
		      .type = "MX",
		      .ttl = 600,
		      .has_ttl = true,
		      .rdata = rd,
		      .nrdata = 1};
	hub_plan plan;
	fedns_diag d;
	begin(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, NULL), FEDNS_OK);
	commit(f);
	assert_string_equal(plan.change.diff, "+example.com.\t600\tIN\tMX\t10 mail.example.net.\n");
	/* another hub process: it rebuilds the result from the stored diff text */
	hub_workflow *w2;
	assert_int_equal(hub_workflow_new(NULL, &w2), FEDNS_OK);
	hub_change c;
	bool committed;
	begin(f);
	fedns_err err = hub_workflow_decide(w2, f->s, plan.change.id, &f->bob, true, NULL,
					    &committed, &c, &d);
	if (err != FEDNS_OK)
		fail_msg("approve: %s", d.msg);
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	hub_workflow_publish(w2, f->zone.id);
	assert_true(committed);
	char *text = zone_text(11, base_body);
	size_t n = strlen(text) + 64;
	text = realloc(text, n);
	strcat(text, "@ 600 IN MX 10 mail.example.net.\n");
	char want[97];
	digest_of(text, want, NULL);
	free(text);
	assert_string_equal(c.digest, want);
	hub_change_fini(&c);
	hub_plan_fini(&plan);
	hub_workflow_free(w2);
}

static void
test_self_approval_refused(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.50"};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "new", .type = "A", .rdata = rd, .nrdata = 1};
	hub_plan plan;
	fedns_diag d;
	begin(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, NULL), FEDNS_OK);
	commit(f);
	bool committed = true;
	hub_change c;
	begin(f);
	assert_int_equal(decide(f, plan.change.id, &f->alice, true, &committed, &c, &d),
			 FEDNS_EACCES);
	assert_false(committed);
	assert_non_null(strstr(d.msg, "author"));
	hub_change_fini(&c);
	/* an early refusal still leaves 'out' safe to release */
	char longc[600];
	memset(longc, 'x', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(hub_workflow_decide(f->w, f->s, plan.change.id, &f->bob, true, longc,
					     &committed, &c, &d),
			 FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "comment"));
	hub_change_fini(&c);
	/* rejecting one's own change is refused the same way */
	assert_int_equal(decide(f, plan.change.id, &f->alice, false, &committed, &c, &d),
			 FEDNS_EACCES);
	hub_change_fini(&c);
	abort_tx(f);
	begin(f);
	assert_int_equal(hub_change_get(f->s, plan.change.id, &c), FEDNS_OK);
	assert_int_equal(c.state, HUB_CHANGE_PROPOSED);
	assert_int_equal(c.approvals, 0);
	hub_change_fini(&c);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 10);
	abort_tx(f);
	hub_plan_fini(&plan);
}

static void
test_two_approvals(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.50"};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "new", .type = "A", .rdata = rd, .nrdata = 1};
	hub_plan plan;
	fedns_diag d;
	hub_change c;
	bool committed = true;
	begin(f);
	assert_int_equal(hub_zone_set_policy(f->s, f->zone.id, 2), FEDNS_OK);
	reload_zone(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, NULL), FEDNS_OK);
	commit(f);
	begin(f);
	assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	commit(f);
	assert_false(committed);
	assert_int_equal(c.state, HUB_CHANGE_PROPOSED);
	assert_int_equal(c.approvals, 1);
	hub_change_fini(&c);
	begin(f);
	assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d),
			 FEDNS_EEXIST);
	hub_change_fini(&c);
	abort_tx(f);
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 10);
	assert_int_equal(decide(f, plan.change.id, &f->carol, true, &committed, &c, &d), FEDNS_OK);
	commit(f);
	assert_true(committed);
	assert_int_equal(c.serial, 11);
	assert_int_equal(c.approvals, 2);
	hub_change_fini(&c);
	hub_plan_fini(&plan);
}

static void
test_reject(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.50"};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "new", .type = "A", .rdata = rd, .nrdata = 1};
	hub_plan plan;
	fedns_diag d;
	hub_change c;
	bool committed = true;
	begin(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, NULL), FEDNS_OK);
	assert_int_equal(decide(f, plan.change.id, &f->bob, false, &committed, &c, &d), FEDNS_OK);
	assert_false(committed);
	assert_int_equal(c.state, HUB_CHANGE_REJECTED);
	hub_change_fini(&c);
	assert_int_equal(decide(f, plan.change.id, &f->carol, true, &committed, &c, &d),
			 FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "rejected"));
	hub_change_fini(&c);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 10);
	commit(f);
	hub_plan_fini(&plan);
}

static void
test_stale(void **state)
{
	fixture *f = *state;
	const char *r1[] = {"192.0.2.51"}, *r2[] = {"192.0.2.52"};
	hub_edit e1 = {.op = HUB_EDIT_ADD, .name = "n1", .type = "A", .rdata = r1, .nrdata = 1};
	hub_edit e2 = {.op = HUB_EDIT_ADD, .name = "n2", .type = "A", .rdata = r2, .nrdata = 1};
	hub_plan p1, p2;
	fedns_diag d;
	hub_where where;
	hub_change c;
	bool committed;
	begin(f);
	assert_int_equal(propose(f, &f->alice, &e1, 1, &p1, &d, NULL), FEDNS_OK);
	assert_int_equal(propose(f, &f->alice, &e2, 1, &p2, &d, NULL), FEDNS_OK);
	commit(f);
	begin(f);
	assert_int_equal(decide(f, p1.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	assert_true(committed);
	hub_change_fini(&c);
	commit(f);
	/* the other proposal was based on serial 10: never merged blindly */
	begin(f);
	assert_int_equal(decide(f, p2.change.id, &f->bob, true, &committed, &c, &d), FEDNS_ESTALE);
	assert_false(committed);
	assert_non_null(strstr(d.msg, "stale"));
	hub_change_fini(&c);
	assert_int_equal(hub_change_get(f->s, p2.change.id, &c), FEDNS_OK);
	assert_int_equal(c.state, HUB_CHANGE_STALE);
	hub_change_fini(&c);
	/* a proposal against the old serial is refused at once */
	hub_plan p3;
	reload_zone(f);
	assert_int_equal(f->zone.serial, 11);
	hub_proposal old = {.base_serial = 10, .reason = "late", .edits = &e2, .nedits = 1};
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &old, NULL, &p3, &d, &where),
		FEDNS_ESTALE);
	assert_string_equal(where.field, "base_serial");
	assert_non_null(strstr(d.msg, "serial 10"));
	assert_int_equal(propose(f, &f->alice, &e2, 1, &p3, &d, &where), FEDNS_OK);
	assert_int_equal(p3.next_serial, 12);
	commit(f);
	hub_plan_fini(&p1);
	hub_plan_fini(&p2);
	hub_plan_fini(&p3);
}

static void
expect_edit_error(fixture *f, const hub_edit *edits, size_t n, fedns_err code, const char *field,
		  const char *msg_part)
{
	hub_plan plan;
	fedns_diag d;
	hub_where where;
	begin(f);
	fedns_err err = propose(f, &f->alice, edits, n, &plan, &d, &where);
	if (err != code)
		fail_msg("want %d, got %d: %s", code, err, d.msg);
	assert_string_equal(where.field, field);
	if (strstr(d.msg, msg_part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, msg_part);
	size_t flen = strlen(field);
	if (field[0] == 'e')
		assert_memory_equal(d.msg, field, flen); /* the message starts with the field */
	assert_int_equal(count_changes(f), 0);
	abort_tx(f);
}

static void
test_invalid_edits(void **state)
{
	fixture *f = *state;
	const char *ok[] = {"192.0.2.60"}, *bad[] = {"1.2.3"}, *gone[] = {"192.0.2.9"};
	const char *mx[] = {"x mail.example.com."};
	const char *two[] = {"192.0.2.61", "192.0.2.61"};
	const char *paren[] = {"( 192.0.2.62 )"};
	hub_edit e[2];
	e[0] = (hub_edit){.op = HUB_EDIT_ADD, .name = "ok", .type = "A", .rdata = ok, .nrdata = 1};

	e[1] = (hub_edit){.op = HUB_EDIT_ADD, .name = "x", .type = "A", .rdata = bad, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].rdata[0]",
			  "edits[1].rdata[0]: A address \"1.2.3\" is not a valid IPv4 address");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD, .name = "x", .type = "MX", .rdata = mx, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].rdata[0]", "\"x\"");
	e[1] = (hub_edit){
		.op = HUB_EDIT_DELETE, .name = "www", .type = "A", .rdata = gone, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1]",
			  "edits[1]: www.example.com. A 192.0.2.9 is not in the zone");
	e[1] = (hub_edit){.op = HUB_EDIT_DELETE, .name = "nothere", .type = "AAAA"};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1]",
			  "edits[1]: nothere.example.com. AAAA is not in the zone");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD, .name = "ok", .type = "A", .rdata = ok, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1]", "is already in the zone");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD, .name = "x", .type = "A", .rdata = two, .nrdata = 2};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].rdata[1]", "rdata[0]");
	e[1] = (hub_edit){
		.op = HUB_EDIT_ADD, .name = "x", .type = "A", .rdata = paren, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].rdata[0]", "'('");
	e[1] = (hub_edit){
		.op = HUB_EDIT_ADD, .name = "x", .type = "BOGUS", .rdata = ok, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].type", "BOGUS");
	e[1] = (hub_edit){
		.op = HUB_EDIT_REPLACE, .name = "@", .type = "SOA", .rdata = ok, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1].type", "serial");
	const char *zmd[] = {"10 1 1 " DIGEST96};
	e[1] = (hub_edit){
		.op = HUB_EDIT_ADD, .name = "@", .type = "ZONEMD", .rdata = zmd, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1].type", "hub computes the digest");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD,
			  .name = "www.example.org.",
			  .type = "A",
			  .rdata = ok,
			  .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1].name", "outside the zone");
	e[1] = (hub_edit){
		.op = HUB_EDIT_ADD, .name = "a..b", .type = "A", .rdata = ok, .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].name", "edits[1].name: ");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD, .name = "x", .type = "A"};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].rdata", "at least one");
	e[1] = (hub_edit){.op = HUB_EDIT_ADD,
			  .name = "x",
			  .type = "A",
			  .ttl = 0x80000000U,
			  .has_ttl = true,
			  .rdata = ok,
			  .nrdata = 1};
	expect_edit_error(f, e, 2, FEDNS_ESYNTAX, "edits[1].ttl", "2147483648");
	/* add then delete in one proposal: nothing left to change */
	e[1] = (hub_edit){.op = HUB_EDIT_DELETE, .name = "ok", .type = "A"};
	expect_edit_error(f, e, 2, FEDNS_EINVAL, "edits", "nothing to change");
}

static void
test_cname_conflict(void **state)
{
	fixture *f = *state;
	const char *cn[] = {"elsewhere.example.net."};
	const char *ok[] = {"192.0.2.60"};
	hub_edit e[2] = {
		{.op = HUB_EDIT_ADD, .name = "ok", .type = "A", .rdata = ok, .nrdata = 1},
		{.op = HUB_EDIT_ADD, .name = "www", .type = "CNAME", .rdata = cn, .nrdata = 1},
	};
	expect_edit_error(f, e, 2, FEDNS_EZONE, "edits[1]",
			  "edits[1]: the result breaks a zone rule: CNAME and other data at "
			  "www.example.com");
	/* a CNAME where nothing else lives is fine */
	e[1].name = "alias";
	hub_plan plan;
	fedns_diag d;
	begin(f);
	assert_int_equal(propose(f, &f->alice, e, 2, &plan, &d, NULL), FEDNS_OK);
	abort_tx(f);
	hub_plan_fini(&plan);
}

static fedns_err
propose_file(fixture *f, const char *text, bool allow_ns, hub_plan *plan, fedns_diag *d,
	     hub_where *where)
{
	hub_proposal p = {.base_serial = f->zone.serial,
			  .reason = "file",
			  .zone_file = text,
			  .zone_file_len = strlen(text),
			  .allow_apex_ns = allow_ns};
	return hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, NULL, plan, d, where);
}

static void
test_zone_file_proposal(void **state)
{
	fixture *f = *state;
	hub_plan plan;
	fedns_diag d;
	hub_where where;
	char buf[128];

	/* a syntax error on line 7 (the head is 6 lines) */
	char *text = zone_text(10, "www IN A 192.0.2.10\nwww IN A 192.0.2.256\n");
	begin(f);
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_ESYNTAX);
	assert_string_equal(where.field, "zone_file");
	assert_int_equal(where.line, 8);
	assert_int_equal(d.line, 8);
	fedns_diag_format(&d, buf, sizeof(buf));
	assert_memory_equal(buf, "zone_file:8: ", 13);
	free(text);
	/* a rule error: CNAME beside other data, reported at a line of the file */
	text = zone_text(10, "www IN A 192.0.2.10\nwww IN CNAME x.example.net.\n");
	fedns_diag_clear(&d);
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_EZONE);
	assert_string_equal(where.field, "zone_file");
	assert_true(where.line == 7 || where.line == 8);
	assert_non_null(strstr(d.msg, "CNAME"));
	free(text);
	/* the same content: nothing to change (the serial in the file is ignored) */
	text = zone_text(99, base_body);
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "nothing to change"));
	free(text);
	/* so does the ZONEMD */
	text = zone_text(10, "www IN A 192.0.2.10\n@ IN ZONEMD 10 1 1 " DIGEST96 "\n");
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_EZONE);
	assert_non_null(strstr(d.msg, "ZONEMD"));
	free(text);
	/* the SOA belongs to the hub */
	text = zone_text(10, base_body);
	char *p = strstr(text, " 3600 900");
	memcpy(p, " 7200 900", 9);
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_EZONE);
	assert_non_null(strstr(d.msg, "SOA"));
	free(text);
	assert_int_equal(count_changes(f), 0);

	/* a good one: one record changed */
	char *body = strdup(base_body);
	p = strstr(body, "192.0.2.119");
	memcpy(p, "192.0.2.120", 11);
	text = zone_text(10, body);
	free(body);
	assert_int_equal(propose_file(f, text, false, &plan, &d, &where), FEDNS_OK);
	assert_string_equal(plan.change.diff, "-b9.example.com.\t300\tIN\tA\t192.0.2.119\n"
					      "+b9.example.com.\t300\tIN\tA\t192.0.2.120\n");
	assert_int_equal(plan.ndel, 1);
	assert_int_equal(plan.nadd, 1);
	commit(f);
	free(text);
	hub_change c;
	bool committed;
	begin(f);
	assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	assert_true(committed);
	commit(f);
	hub_change_fini(&c);
	hub_plan_fini(&plan);
}

static void
test_rollback(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.70"};
	hub_edit e[] = {
		{.op = HUB_EDIT_ADD, .name = "roll", .type = "A", .rdata = rd, .nrdata = 1},
		{.op = HUB_EDIT_DELETE, .name = "txt", .type = "TXT"},
	};
	hub_plan plan;
	fedns_diag d;
	hub_change c;
	bool committed;
	begin(f);
	assert_int_equal(propose(f, &f->alice, e, 2, &plan, &d, NULL), FEDNS_OK);
	assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	commit(f);
	hub_change_fini(&c);
	hub_plan_fini(&plan);

	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 11);
	assert_int_equal(
		hub_workflow_rollback(f->w, f->s, &f->zone, &f->alice, 10, "undo", &plan, &d),
		FEDNS_OK);
	assert_int_equal(plan.next_serial, 12);
	assert_string_equal(plan.change.diff, "-roll.example.com.\t300\tIN\tA\t192.0.2.70\n"
					      "+txt.example.com.\t300\tIN\tTXT\t\"hello world\"\n");
	commit(f);
	begin(f);
	fedns_err err = decide(f, plan.change.id, &f->carol, true, &committed, &c, &d);
	if (err != FEDNS_OK)
		fail_msg("approve rollback: %s", d.msg);
	commit(f);
	assert_true(committed);
	assert_int_equal(c.serial, 12);
	/* version 12 is version 10 with the serial moved on: same records, same digest as
	 * version 10's content carrying serial 12 */
	char *v10 = NULL, *v12 = NULL;
	begin(f);
	assert_int_equal(hub_version_text(f->s, f->zone.id, 10, &v10), FEDNS_OK);
	assert_int_equal(hub_version_text(f->s, f->zone.id, 12, &v12), FEDNS_OK);
	abort_tx(f);
	char *p = strstr(v10, ". 10 3600 900");
	assert_non_null(p);
	size_t n = strlen(v10) + 2;
	char *v10at12 = malloc(n);
	snprintf(v10at12, n, "%.*s. 12 3600 900%s", (int)(p - v10), v10, p + 13);
	assert_string_equal(v12, v10at12);
	char want[97];
	digest_of(v10at12, want, NULL);
	assert_string_equal(c.digest, want);
	free(v10);
	free(v12);
	free(v10at12);
	hub_change_fini(&c);
	hub_plan_fini(&plan);

	/* a version never kept */
	begin(f);
	reload_zone(f);
	assert_int_equal(
		hub_workflow_rollback(f->w, f->s, &f->zone, &f->alice, 5, "undo", &plan, &d),
		FEDNS_ENOENT);
	abort_tx(f);
}

static void
test_apex_ns_flag(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"ns.other.example.net."};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "@", .type = "NS", .rdata = rd, .nrdata = 1};
	hub_plan plan;
	fedns_diag d;
	hub_where where;
	begin(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, &where), FEDNS_EACCES);
	assert_string_equal(where.field, "allow_apex_ns");
	assert_non_null(strstr(d.msg, "apex NS"));
	assert_int_equal(count_changes(f), 0);
	hub_proposal p = {.base_serial = 10,
			  .reason = "new provider",
			  .edits = &e,
			  .nedits = 1,
			  .allow_apex_ns = true};
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, NULL, &plan, &d, &where),
		FEDNS_OK);
	assert_int_equal(plan.nwarnings, 1);
	assert_non_null(strstr(plan.warnings[0], "apex NS"));
	abort_tx(f);
	hub_plan_fini(&plan);
}

static void
test_mass_delete_flag(void **state)
{
	fixture *f = *state;
	hub_edit e[] = {
		{.op = HUB_EDIT_DELETE, .name = "a1", .type = "A"},
		{.op = HUB_EDIT_DELETE, .name = "a2", .type = "A"},
		{.op = HUB_EDIT_DELETE, .name = "a3", .type = "A"},
	};
	hub_plan plan;
	fedns_diag d;
	hub_where where;
	begin(f);
	/* 2 of 25 is under 10% */
	assert_int_equal(propose(f, &f->alice, e, 2, &plan, &d, &where), FEDNS_OK);
	assert_int_equal(plan.nwarnings, 0);
	hub_plan_fini(&plan);
	abort_tx(f);
	begin(f);
	assert_int_equal(propose(f, &f->alice, e, 3, &plan, &d, &where), FEDNS_EACCES);
	assert_string_equal(where.field, "allow_mass_delete");
	if (strstr(d.msg, "3 of the 25") == NULL)
		fail_msg("%s", d.msg);
	hub_proposal p = {.base_serial = 10,
			  .reason = "cleanup",
			  .edits = e,
			  .nedits = 3,
			  .allow_mass_delete = true};
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, NULL, &plan, &d, &where),
		FEDNS_OK);
	assert_int_equal(plan.nwarnings, 1);
	assert_non_null(strstr(plan.warnings[0], "3 of the 25"));
	hub_plan_fini(&plan);
	/* a TTL change re-adds the records: not a deletion */
	const char *rd[] = {"192.0.2.10", "192.0.2.11"};
	hub_edit ttl = {.op = HUB_EDIT_REPLACE,
			.name = "www",
			.type = "A",
			.ttl = 60,
			.has_ttl = true,
			.rdata = rd,
			.nrdata = 2};
	assert_int_equal(propose(f, &f->alice, &ttl, 1, &plan, &d, &where), FEDNS_OK);
	assert_int_equal(plan.nwarnings, 0);
	assert_int_equal(plan.ndel, 2);
	assert_int_equal(plan.nadd, 2);
	assert_string_equal(plan.change.diff, "-www.example.com.\t300\tIN\tA\t192.0.2.10\n"
					      "-www.example.com.\t300\tIN\tA\t192.0.2.11\n"
					      "+www.example.com.\t60\tIN\tA\t192.0.2.10\n"
					      "+www.example.com.\t60\tIN\tA\t192.0.2.11\n");
	hub_plan_fini(&plan);
	abort_tx(f);
}

static void
test_create_zone(void **state)
{
	fixture *f = *state;
	hub_zone z;
	fedns_diag d;
	hub_where where;
	begin(f);
	fedns_err err = hub_workflow_create_zone(f->w, f->s, f->tenant, "empty.test", 2, NULL,
						 "ns1.example.net", "hostmaster@example.net", &z,
						 &d, &where);
	if (err != FEDNS_OK)
		fail_msg("create: %s", d.msg);
	assert_string_equal(z.name, "empty.test.");
	assert_int_equal(z.serial, 1);
	assert_int_equal(z.approvals_required, 2);
	char *text = NULL;
	assert_int_equal(hub_version_text(f->s, z.id, 1, &text), FEDNS_OK);
	assert_string_equal(text, "empty.test.\t3600\tIN\tSOA\tns1.example.net. "
				  "hostmaster.example.net. 1 3600 900 1209600 300\n"
				  "empty.test.\t3600\tIN\tNS\tns1.example.net.\n");
	free(text);
	/* names that are not zone names, whatever an URL makes of them */
	static const char *const bad[] = {"../etc",   "a/../b", "",	"a..b",
					  "x y.test", "%2e%2e", "a\\.b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hub_workflow_create_zone(f->w, f->s, f->tenant, bad[i], 1, NULL,
							  "ns1.example.net", "h.example.net", &z,
							  &d, &where),
				 FEDNS_ESYNTAX);
		assert_string_equal(where.field, "name");
	}
	/* injection through the generated SOA is impossible: names are checked */
	assert_int_equal(hub_workflow_create_zone(f->w, f->s, f->tenant, "inj.test", 1, NULL,
						  "ns1.example.net.\nevil IN A 1.2.3.4",
						  "h.example.net", &z, &d, &where),
			 FEDNS_ESYNTAX);
	assert_string_equal(where.field, "primary_ns");
	/* an in-zone name server needs an address */
	assert_int_equal(hub_workflow_create_zone(f->w, f->s, f->tenant, "glue.test", 1, NULL,
						  "ns1.glue.test", "h.example.net", &z, &d, &where),
			 FEDNS_EZONE);
	/* a zone file with an error line */
	assert_int_equal(hub_workflow_create_zone(f->w, f->s, f->tenant, "file.test", 1,
						  "$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns.x.\n"
						  "www A 1.2.3\n",
						  NULL, NULL, &z, &d, &where),
			 FEDNS_ESYNTAX);
	assert_string_equal(where.field, "zone_file");
	assert_int_equal(where.line, 4);
	/* a duplicate */
	assert_int_equal(hub_workflow_create_zone(f->w, f->s, f->tenant, "EXAMPLE.com.", 1, NULL,
						  "ns1.example.net", "h.example.net", &z, &d,
						  &where),
			 FEDNS_EEXIST);
	hub_store_rollback(f->s);
	hub_workflow_forget(f->w, z.id);
}

static void
test_idempotency_key(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.50"};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "new", .type = "A", .rdata = rd, .nrdata = 1};
	hub_proposal p = {.base_serial = 10, .reason = "once", .edits = &e, .nedits = 1};
	hub_plan p1, p2;
	fedns_diag d;
	begin(f);
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, "key-1", &p1, &d, NULL),
		FEDNS_OK);
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, "key-1", &p2, &d, NULL),
		FEDNS_EEXIST);
	assert_int_equal(p2.change.id, p1.change.id);
	assert_non_null(strstr(d.msg, "idempotency"));
	assert_int_equal(count_changes(f), 1);
	abort_tx(f);
	hub_plan_fini(&p1);
	hub_plan_fini(&p2);
}

/* The O(zone) work done before the write transaction (hub_workflow_prepare_*) stores
 * nothing, fails like the direct call, and is used only while the zone is at the version
 * it was computed from: a commit in between makes the proposal and the approval stale. */
static void
test_prepared(void **state)
{
	fixture *f = *state;
	const char *r1[] = {"192.0.2.61"}, *r2[] = {"192.0.2.62"}, *bad[] = {"192.0.2"};
	hub_edit e1 = {.op = HUB_EDIT_ADD, .name = "p1", .type = "A", .rdata = r1, .nrdata = 1};
	hub_edit e2 = {.op = HUB_EDIT_ADD, .name = "p2", .type = "A", .rdata = r2, .nrdata = 1};
	hub_edit eb = {.op = HUB_EDIT_ADD, .name = "pb", .type = "A", .rdata = bad, .nrdata = 1};
	hub_proposal p = {.base_serial = 10, .reason = "prep", .edits = &e1, .nedits = 1};
	hub_prepared *pp = NULL, *pp2 = NULL, *pc = NULL;
	hub_plan plan, plan2;
	hub_change c;
	hub_where where;
	fedns_diag d;
	bool committed = true;

	/* invalid: the same code, field and message as a direct proposal, nothing prepared */
	hub_proposal pb = {.base_serial = 10, .reason = "prep", .edits = &eb, .nedits = 1};
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	assert_int_equal(
		hub_workflow_prepare_propose(f->w, f->s, &f->zone, &f->alice, &pb, &pp, &d, &where),
		FEDNS_ESYNTAX);
	assert_null(pp);
	assert_string_equal(where.field, "edits[0].rdata[0]");
	char msg[sizeof(d.msg)];
	snprintf(msg, sizeof(msg), "%s", d.msg);
	hub_store_rollback(f->s);
	begin(f);
	assert_int_equal(
		hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &pb, NULL, &plan, &d, &where),
		FEDNS_ESYNTAX);
	assert_string_equal(d.msg, msg);
	abort_tx(f);

	/* prepared in a read transaction: nothing stored */
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	assert_int_equal(
		hub_workflow_prepare_propose(f->w, f->s, &f->zone, &f->alice, &p, &pp, &d, &where),
		FEDNS_OK);
	assert_non_null(pp);
	p.edits = &e2;
	assert_int_equal(
		hub_workflow_prepare_propose(f->w, f->s, &f->zone, &f->alice, &p, &pp2, &d, &where),
		FEDNS_OK);
	assert_int_equal(count_changes(f), 0);
	hub_store_rollback(f->s);

	/* stored in the write transaction: the plan a direct proposal answers */
	begin(f);
	p.edits = &e1;
	assert_int_equal(hub_workflow_propose_prepared(f->w, f->s, &f->zone, &f->alice, &p, pp,
						       "prep-key", &plan, &d, &where),
			 FEDNS_OK);
	p.edits = &e2;
	assert_int_equal(hub_workflow_propose_prepared(f->w, f->s, &f->zone, &f->alice, &p, pp2,
						       NULL, &plan2, &d, &where),
			 FEDNS_OK);
	commit(f);
	hub_prepared_free(pp);
	hub_prepared_free(pp2);
	pp = pp2 = NULL;
	assert_true(plan.change.id > 0);
	assert_int_equal(plan.change.state, HUB_CHANGE_PROPOSED);
	assert_int_equal(plan.change.author_id, f->alice.id);
	assert_int_equal(plan.next_serial, 11);
	assert_int_equal(plan.nadd, 1);
	assert_int_equal(plan.ndel, 0);
	assert_string_equal(plan.change.diff, "+p1.example.com.\t300\tIN\tA\t192.0.2.61\n");
	assert_int_equal(hub_change_get(f->s, plan.change.id, &c), FEDNS_OK);
	assert_string_equal(c.diff, plan.change.diff);
	assert_string_equal(c.reason, "prep");
	assert_true(c.created_at > 0);
	hub_change_fini(&c);
	assert_int_equal(count_changes(f), 2);

	/* the author gets nothing prepared, and the decision still refuses */
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	hub_workflow_prepare_commit(f->w, f->s, plan.change.id, &f->alice, &pc);
	assert_null(pc);
	hub_workflow_prepare_commit(f->w, f->s, plan.change.id, &f->bob, &pc);
	assert_non_null(pc);
	hub_store_rollback(f->s);
	begin(f);
	assert_int_equal(hub_workflow_decide_prepared(f->w, f->s, plan.change.id, &f->alice, true,
						      NULL, pc, &committed, &c, &d),
			 FEDNS_EACCES);
	assert_false(committed);
	hub_change_fini(&c);
	abort_tx(f);

	/* the prepared commit: the version, digest and text of an independent build */
	begin(f);
	assert_int_equal(hub_workflow_decide_prepared(f->w, f->s, plan.change.id, &f->bob, true,
						      "ok", pc, &committed, &c, &d),
			 FEDNS_OK);
	commit(f);
	hub_prepared_free(pc);
	pc = NULL;
	assert_true(committed);
	assert_int_equal(c.serial, 11);
	assert_int_equal(c.diff[0], '-');
	assert_non_null(strstr(c.diff, " 1209600 300\n+p1.example.com.\t300\tIN\tA\t192.0.2.61\n"));
	char *text = zone_text(11, base_body);
	text = realloc(text, strlen(text) + 64);
	strcat(text, "p1 IN A 192.0.2.61\n");
	char want[97];
	digest_of(text, want, NULL);
	free(text);
	assert_string_equal(c.digest, want);
	hub_change_fini(&c);
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 11);
	assert_string_equal(f->zone.digest, want);
	abort_tx(f);

	/* prepared against serial 10, the zone is at 11 now: stale, nothing stored */
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	hub_workflow_prepare_commit(f->w, f->s, plan2.change.id, &f->bob, &pc);
	assert_null(pc); /* its base is gone: nothing to prepare */
	hub_store_rollback(f->s);
	begin(f);
	assert_int_equal(hub_workflow_decide_prepared(f->w, f->s, plan2.change.id, &f->bob, true,
						      NULL, NULL, &committed, &c, &d),
			 FEDNS_ESTALE);
	assert_false(committed);
	hub_change_fini(&c);
	abort_tx(f);
	hub_plan_fini(&plan);
	hub_plan_fini(&plan2);
}

/* A preparation is used only for its own change on its own base: another change's is
 * ignored, one overtaken by a commit makes the approval stale, and a proposal prepared
 * before the commit is refused as stale or, on the new base, built again. */
static void
test_prepared_overtaken(void **state)
{
	fixture *f = *state;
	const char *r1[] = {"192.0.2.71"}, *r2[] = {"192.0.2.72"}, *r3[] = {"192.0.2.73"};
	hub_edit e1 = {.op = HUB_EDIT_ADD, .name = "o1", .type = "A", .rdata = r1, .nrdata = 1};
	hub_edit e2 = {.op = HUB_EDIT_ADD, .name = "o2", .type = "A", .rdata = r2, .nrdata = 1};
	hub_edit e3 = {.op = HUB_EDIT_ADD, .name = "o3", .type = "A", .rdata = r3, .nrdata = 1};
	hub_plan p1, p2, p3;
	hub_prepared *c1 = NULL, *c2 = NULL, *pp3 = NULL;
	hub_change c;
	hub_where where;
	fedns_diag d;
	bool committed;

	begin(f);
	assert_int_equal(propose(f, &f->alice, &e1, 1, &p1, &d, NULL), FEDNS_OK);
	assert_int_equal(propose(f, &f->alice, &e2, 1, &p2, &d, NULL), FEDNS_OK);
	commit(f);
	/* both approvals prepared on serial 10, and a proposal */
	hub_proposal p = {.base_serial = 10, .reason = "late", .edits = &e3, .nedits = 1};
	assert_int_equal(hub_store_begin(f->s, false), FEDNS_OK);
	hub_workflow_prepare_commit(f->w, f->s, p1.change.id, &f->bob, &c1);
	hub_workflow_prepare_commit(f->w, f->s, p2.change.id, &f->bob, &c2);
	assert_int_equal(
		hub_workflow_prepare_propose(f->w, f->s, &f->zone, &f->alice, &p, &pp3, &d, &where),
		FEDNS_OK);
	hub_store_rollback(f->s);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_non_null(pp3);
	/* approving change 2 with change 1's preparation: not used, change 2 is what commits */
	begin(f);
	assert_int_equal(hub_workflow_decide_prepared(f->w, f->s, p2.change.id, &f->bob, true, NULL,
						      c1, &committed, &c, &d),
			 FEDNS_OK);
	assert_true(committed);
	char *text = zone_text(11, base_body);
	text = realloc(text, strlen(text) + 64);
	strcat(text, "o2 IN A 192.0.2.72\n");
	char want[97];
	digest_of(text, want, NULL);
	free(text);
	assert_string_equal(c.digest, want);
	hub_change_fini(&c);
	commit(f);
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 11);
	assert_string_equal(f->zone.digest, want);
	/* c1 was built on 10: the approval must not commit it */
	assert_int_equal(hub_workflow_decide_prepared(f->w, f->s, p1.change.id, &f->bob, true, NULL,
						      c1, &committed, &c, &d),
			 FEDNS_ESTALE);
	assert_false(committed);
	hub_change_fini(&c);
	/* the proposal prepared on 10 (its base_serial 10) is stale too */
	assert_int_equal(hub_workflow_propose_prepared(f->w, f->s, &f->zone, &f->alice, &p, pp3,
						       NULL, &p3, &d, &where),
			 FEDNS_ESTALE);
	assert_string_equal(where.field, "base_serial");
	/* a prepared proposal is not used for another zone version even with a fresh base:
	 * the result is built again on serial 11 */
	p.base_serial = 11;
	assert_int_equal(hub_workflow_propose_prepared(f->w, f->s, &f->zone, &f->alice, &p, pp3,
						       NULL, &p3, &d, &where),
			 FEDNS_OK);
	assert_int_equal(p3.next_serial, 12);
	assert_string_equal(p3.change.diff, "+o3.example.com.\t300\tIN\tA\t192.0.2.73\n");
	commit(f);
	assert_int_equal(hub_change_get(f->s, p3.change.id, &c), FEDNS_OK);
	assert_int_equal(c.base_serial, 11);
	hub_change_fini(&c);
	/* committing it moves the zone's digest tree from 11 (where two preparations on 10
	 * left it behind) to 12: the digest is still that of the version built from scratch */
	begin(f);
	reload_zone(f);
	assert_int_equal(decide(f, p3.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	assert_true(committed);
	text = zone_text(12, base_body);
	text = realloc(text, strlen(text) + 64);
	strcat(text, "o2 IN A 192.0.2.72\no3 IN A 192.0.2.73\n");
	digest_of(text, want, NULL);
	free(text);
	assert_int_equal(c.serial, 12);
	assert_string_equal(c.digest, want);
	hub_change_fini(&c);
	commit(f);
	hub_prepared_free(c1);
	hub_prepared_free(c2);
	hub_prepared_free(pp3);
	hub_plan_fini(&p1);
	hub_plan_fini(&p2);
	hub_plan_fini(&p3);
}

enum {
	ROUNDS = 10
};

typedef struct worker {
	fixture *f;
	int k;
	int committed, stale;
	char error[FEDNS_DIAG_MSG_MAX + 64];
} worker;

/* One proposal per transaction, then one approval per transaction: other workers' commits
 * land in between. Each round proposes two changes and approves both, so the second is
 * always stale (the first, or another worker's, committed before it). A failed transaction
 * is rolled back and the workflow told to forget what it built. */
static fedns_err
work_propose(worker *wk, hub_store *s, int i, int j, int64_t *id)
{
	fixture *f = wk->f;
	char name[32], addr[32];
	fedns_diag d = {0};
	snprintf(name, sizeof(name), "t%d-%d-%d", wk->k, i, j);
	snprintf(addr, sizeof(addr), "198.51.%d.%d", wk->k, i * 2 + j);
	const char *rd[] = {addr};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = name, .type = "A", .rdata = rd, .nrdata = 1};
	hub_zone z;
	hub_plan plan;
	if (hub_store_begin(s, true) != FEDNS_OK)
		return FEDNS_EIO;
	fedns_err err = hub_zone_get_id(s, f->zone.id, &z);
	hub_proposal p = {.base_serial = z.serial, .reason = "load", .edits = &e, .nedits = 1};
	if (err == FEDNS_OK)
		err = hub_workflow_propose(f->w, s, &z, &f->alice, &p, NULL, &plan, &d, NULL);
	if (err != FEDNS_OK) {
		snprintf(wk->error, sizeof(wk->error), "propose: %s", d.msg);
		hub_store_rollback(s);
		hub_workflow_forget(f->w, f->zone.id);
		return err;
	}
	*id = plan.change.id;
	hub_plan_fini(&plan);
	return hub_store_commit(s);
}

static fedns_err
work_approve(worker *wk, hub_store *s, int64_t id)
{
	fixture *f = wk->f;
	fedns_diag d = {0};
	hub_change c;
	bool committed = false;
	if (hub_store_begin(s, true) != FEDNS_OK)
		return FEDNS_EIO;
	fedns_err err = hub_workflow_decide(f->w, s, id, &f->bob, true, NULL, &committed, &c, &d);
	hub_change_fini(&c);
	if (err == FEDNS_OK && committed) {
		if ((err = hub_store_commit(s)) != FEDNS_OK)
			return err;
		hub_workflow_publish(f->w, f->zone.id);
		wk->committed++;
		return FEDNS_OK;
	}
	hub_store_rollback(s);
	hub_workflow_forget(f->w, f->zone.id);
	if (err == FEDNS_ESTALE) {
		wk->stale++;
		return FEDNS_OK;
	}
	snprintf(wk->error, sizeof(wk->error), "decide %d: %s", err, d.msg);
	return err != FEDNS_OK ? err : FEDNS_EINVAL;
}

static void *
work(void *arg)
{
	worker *wk = arg;
	hub_store *s = NULL;
	hub_store_opts o = {.path = wk->f->path, .busy_ms = 30000};
	fedns_diag d = {0};
	if (hub_store_open(&o, &s, &d) != FEDNS_OK) {
		snprintf(wk->error, sizeof(wk->error), "open: %s", d.msg);
		return NULL;
	}
	for (int i = 0; i < ROUNDS; i++) {
		int64_t a, b;
		if (work_propose(wk, s, i, 0, &a) != FEDNS_OK ||
		    work_propose(wk, s, i, 1, &b) != FEDNS_OK ||
		    work_approve(wk, s, a) != FEDNS_OK || work_approve(wk, s, b) != FEDNS_OK) {
			if (wk->error[0] == '\0')
				snprintf(wk->error, sizeof(wk->error), "round %d failed", i);
			break;
		}
	}
	hub_store_close(s);
	return NULL;
}

static void
test_concurrent_workers(void **state)
{
	fixture *f = *state;
	enum {
		NW = 4
	};
	pthread_t th[NW];
	worker wk[NW];
	for (int i = 0; i < NW; i++) {
		wk[i] = (worker){.f = f, .k = i};
		assert_int_equal(pthread_create(&th[i], NULL, work, &wk[i]), 0);
	}
	int committed = 0;
	for (int i = 0; i < NW; i++) {
		pthread_join(th[i], NULL);
		if (wk[i].error[0] != '\0')
			fail_msg("worker %d: %s", i, wk[i].error);
		assert_int_equal(wk[i].committed + wk[i].stale, 2 * ROUNDS);
		assert_true(wk[i].stale >= ROUNDS);
		committed += wk[i].committed;
	}
	assert_true(committed > 0);
	int stale = 0;
	for (int i = 0; i < NW; i++)
		stale += wk[i].stale;
	print_message("%d committed, %d found stale\n", committed, stale);
	/* no gaps, nothing lost: the serial counts the commits and the store's version
	 * rebuilds to the recorded digest (a fresh workflow checks it on load) */
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 10 + (uint32_t)committed);
	hub_workflow *w2;
	assert_int_equal(hub_workflow_new(NULL, &w2), FEDNS_OK);
	const fedns_zone *z = NULL;
	assert_int_equal(hub_workflow_zone(w2, f->s, &f->zone, &z), FEDNS_OK);
	assert_int_equal(fedns_zone_rr_count(z), 26 + (size_t)committed);
	uint32_t *serials = NULL;
	size_t n = 0;
	assert_int_equal(hub_version_list(f->s, f->zone.id, &serials, &n), FEDNS_OK);
	assert_int_equal(n, 1 + (size_t)committed);
	free(serials);
	hub_workflow_free(w2);
	abort_tx(f);
}

/* Alice proposes one A record, Bob's approval commits it, in a transaction of its own;
 * 'publish' also tells the workflow the commit is known (as the API does after COMMIT). */
static void
commit_one_a(fixture *f, const char *name, const char *addr, bool publish)
{
	const char *rd[] = {addr};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = name, .type = "A", .rdata = rd, .nrdata = 1};
	hub_plan plan;
	hub_change c;
	bool committed = false;
	fedns_diag d;
	begin(f);
	reload_zone(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &plan, &d, NULL), FEDNS_OK);
	assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	assert_true(committed);
	commit(f);
	if (publish)
		hub_workflow_publish(f->w, f->zone.id);
	hub_change_fini(&c);
	hub_plan_fini(&plan);
}

/* A held zone stays readable (and whole) across commits that replace it in the cache,
 * until it is released: what the fan-out relies on while it encodes a snapshot. */
static void
test_zone_hold(void **state)
{
	fixture *f = *state;
	const fedns_zone *held = NULL;
	void *ref = NULL;
	begin(f);
	reload_zone(f);
	assert_int_equal(hub_workflow_zone_hold(f->w, f->s, &f->zone, &held, &ref), FEDNS_OK);
	abort_tx(f);
	assert_int_equal(fedns_zone_serial(held), 10);
	size_t rrs = fedns_zone_rr_count(held);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "h%d", i);
		commit_one_a(f, name, "192.0.2.250", true);
	}
	/* the held version is still version 10, every record readable (ASan checks) */
	assert_int_equal(fedns_zone_serial(held), 10);
	assert_int_equal(fedns_zone_rr_count(held), rrs);
	uint8_t dig[64];
	size_t dlen = 0;
	assert_int_equal(fedns_zonemd_compute(held, FEDNS_ZONEMD_SHA384, dig, &dlen), FEDNS_OK);
	hub_workflow_zone_release(f->w, ref);
	/* and the current one is the last commit's */
	const fedns_zone *cur = NULL;
	begin(f);
	reload_zone(f);
	assert_int_equal(hub_workflow_zone_hold(f->w, f->s, &f->zone, &cur, &ref), FEDNS_OK);
	assert_int_equal(fedns_zone_serial(cur), 13);
	assert_int_equal(fedns_zone_rr_count(cur), rrs + 3);
	hub_workflow_zone_release(f->w, ref);
	abort_tx(f);
}

static void
test_retention_and_snapshots(void **state)
{
	fixture *f = *state;
	hub_workflow_free(f->w);
	hub_workflow_opts o = {.snapshot_every = 2, .keep_versions = 3};
	assert_int_equal(hub_workflow_new(&o, &f->w), FEDNS_OK);
	for (int i = 0; i < 5; i++) {
		char name[16], addr[32];
		snprintf(name, sizeof(name), "r%d", i);
		snprintf(addr, sizeof(addr), "192.0.2.%d", 200 + i);
		commit_one_a(f, name, addr, false);
	}
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 15);
	uint32_t *serials = NULL;
	size_t n = 0;
	assert_int_equal(hub_version_list(f->s, f->zone.id, &serials, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_true(serials[i] >= 13 && serials[i] <= 15);
	free(serials);
	/* every kept version rebuilds, and the head matches its digest on a fresh load */
	for (uint32_t v = 13; v <= 15; v++) {
		char *text = NULL;
		assert_int_equal(hub_version_text(f->s, f->zone.id, v, &text), FEDNS_OK);
		free(text);
	}
	hub_workflow *w2;
	assert_int_equal(hub_workflow_new(NULL, &w2), FEDNS_OK);
	const fedns_zone *z;
	assert_int_equal(hub_workflow_zone(w2, f->s, &f->zone, &z), FEDNS_OK);
	assert_int_equal(fedns_zone_rr_count(z), 26 + 5);
	hub_workflow_free(w2);
	hub_plan plan;
	fedns_diag d;
	assert_int_equal(
		hub_workflow_rollback(f->w, f->s, &f->zone, &f->alice, 10, "too old", &plan, &d),
		FEDNS_ENOENT);
	assert_int_equal(
		hub_workflow_rollback(f->w, f->s, &f->zone, &f->alice, 13, "back", &plan, &d),
		FEDNS_OK);
	assert_int_equal(plan.ndel, 2);
	assert_int_equal(plan.nadd, 0);
	hub_plan_fini(&plan);
	abort_tx(f);
}

/* A chain of commits mixing versions the workflow derives copy-on-write (A, TXT, MX,
 * CNAME edits) and ones it rebuilds whole (a delegation with NS and glue, its removal):
 * every committed digest is the tree digest of the stored version rebuilt independently, and
 * the snapshots (every third version) print the same text as an independent build. */
static void
test_mixed_commit_chain(void **state)
{
	fixture *f = *state;
	hub_workflow_free(f->w);
	hub_workflow_opts o = {.snapshot_every = 3};
	assert_int_equal(hub_workflow_new(&o, &f->w), FEDNS_OK);
	for (int i = 0; i < 24; i++) {
		char name[32], rd0[64];
		const char *rd[] = {rd0};
		hub_edit e[2];
		size_t ne = 1;
		memset(e, 0, sizeof(e));
		e[0].name = name;
		e[0].rdata = rd;
		e[0].nrdata = 1;
		e[0].op = HUB_EDIT_ADD;
		switch (i % 6) {
		case 0:
			snprintf(name, sizeof(name), "h%d", i);
			snprintf(rd0, sizeof(rd0), "192.0.2.%d", 150 + i);
			e[0].type = "A";
			break;
		case 1:
			snprintf(name, sizeof(name), "txt");
			snprintf(rd0, sizeof(rd0), "\"v%d\"", i);
			e[0].op = HUB_EDIT_REPLACE;
			e[0].type = "TXT";
			break;
		case 2:
			snprintf(name, sizeof(name), "al%d", i);
			snprintf(rd0, sizeof(rd0), "www");
			e[0].type = "CNAME";
			break;
		case 3:
			/* a delegation with glue: NS is left to the whole-zone build */
			snprintf(name, sizeof(name), "sub%d", i);
			snprintf(rd0, sizeof(rd0), "ns.sub%d", i);
			e[0].type = "NS";
			break;
		case 4:
			snprintf(name, sizeof(name), "h%d", i - 4);
			e[0].op = HUB_EDIT_DELETE;
			e[0].type = "A";
			e[0].nrdata = 0;
			break;
		default:
			snprintf(name, sizeof(name), "mx%d", i);
			snprintf(rd0, sizeof(rd0), "10 www");
			e[0].type = "MX";
			break;
		}
		char gname[32], gaddr[32];
		const char *grd[] = {gaddr};
		if (i % 6 == 3) {
			snprintf(gname, sizeof(gname), "ns.sub%d", i);
			snprintf(gaddr, sizeof(gaddr), "198.51.100.%d", i);
			e[1] = (hub_edit){.op = HUB_EDIT_ADD,
					  .name = gname,
					  .type = "A",
					  .rdata = grd,
					  .nrdata = 1};
			ne = 2;
		}
		hub_plan plan;
		hub_change c;
		bool committed;
		fedns_diag d = {0};
		begin(f);
		reload_zone(f);
		if (propose(f, &f->alice, e, ne, &plan, &d, NULL) != FEDNS_OK)
			fail_msg("commit %d: %s", i, d.msg);
		assert_int_equal(decide(f, plan.change.id, &f->bob, true, &committed, &c, &d),
				 FEDNS_OK);
		assert_true(committed);
		commit(f);
		/* the stored version, rebuilt independently, has the committed digest */
		begin(f);
		char *text = NULL, want[97], *printed = NULL;
		assert_int_equal(hub_version_text(f->s, f->zone.id, c.serial, &text), FEDNS_OK);
		digest_of(text, want, &printed);
		assert_string_equal(c.digest, want);
		assert_string_equal(text, printed);
		free(text);
		free(printed);
		abort_tx(f);
		hub_change_fini(&c);
		hub_plan_fini(&plan);
	}
	/* a fresh workflow loads the head and finds its recorded digest */
	begin(f);
	reload_zone(f);
	assert_int_equal(f->zone.serial, 34);
	hub_workflow *w2;
	assert_int_equal(hub_workflow_new(NULL, &w2), FEDNS_OK);
	const fedns_zone *z = NULL;
	assert_int_equal(hub_workflow_zone(w2, f->s, &f->zone, &z), FEDNS_OK);
	hub_workflow_free(w2);
	abort_tx(f);
}

/* Random edits never crash or leak; every refusal says what and where. */
static void
test_random_edits(void **state)
{
	fixture *f = *state;
	static const char *const types[] = {"A",   "AAAA", "MX",      "TXT",   "CNAME", "SRV",
					    "CAA", "NS",   "TYPE999", "HTTPS", "PTR",	"DNAME"};
	static const char *const names[] = {"www",  "@",   "a1",  "x\\ y",   "*.w",
					    "txt",  "new", "ns1", "sub.sub", "b9.example.com.",
					    "UPPER"};
	static const char alphabet[] = "0123456789abcdefxyz .:;()\"\\\n\t-_#=,";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char buf[3][48];
	int accepted = 0, refused = 0;
	for (int iter = 0; iter < 400; iter++) {
		hub_edit e[3];
		const char *rd[3][1];
		size_t n = 1 + (size_t)(iter % 3);
		for (size_t k = 0; k < n; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t r = seed >> 11;
			size_t len = (size_t)(r % 24);
			for (size_t i = 0; i < len; i++) {
				r = r * 2862933555777941757ULL + 3037000493ULL;
				buf[k][i] = alphabet[(r >> 33) % (sizeof(alphabet) - 1)];
			}
			buf[k][len] = '\0';
			if (r % 4 == 0) /* sometimes something plausible */
				snprintf(buf[k], sizeof(buf[k]), "10 mx%u.example.net.",
					 (unsigned)(r % 7));
			rd[k][0] = buf[k];
			e[k] = (hub_edit){
				.op = (hub_edit_op)(1 + (r >> 7) % 3),
				.name = names[(r >> 13) % (sizeof(names) / sizeof(names[0]))],
				.type = types[(r >> 19) % (sizeof(types) / sizeof(types[0]))],
				.rdata = rd[k],
				.nrdata = (r >> 29) % 5 == 0 ? 0 : 1};
		}
		hub_plan plan;
		fedns_diag d;
		hub_where where;
		hub_proposal p = {.base_serial = 10,
				  .reason = "fuzz",
				  .edits = e,
				  .nedits = n,
				  .allow_apex_ns = true,
				  .allow_mass_delete = true};
		begin(f);
		fedns_err err = hub_workflow_propose(f->w, f->s, &f->zone, &f->alice, &p, NULL,
						     &plan, &d, &where);
		if (err == FEDNS_OK) {
			assert_true(plan.change.diff[0] == '-' || plan.change.diff[0] == '+');
			hub_plan_fini(&plan);
			accepted++;
		} else {
			refused++;
			assert_true(d.msg[0] != '\0');
			assert_true(where.field[0] != '\0');
			assert_int_equal(count_changes(f), 0);
		}
		abort_tx(f);
	}
	print_message("%d accepted, %d refused\n", accepted, refused);
	assert_true(accepted > 0 && refused > 0);
}

/* Deleting a zone is a change: the plan lists every record, the author cannot approve
 * it, an approval marks the zone deleted (gone from listings) while its versions and
 * changes stay, and the other open proposal becomes stale. */
static void
test_delete_zone(void **state)
{
	fixture *f = *state;
	const char *rd[] = {"192.0.2.60"};
	hub_edit e = {.op = HUB_EDIT_ADD, .name = "late", .type = "A", .rdata = rd, .nrdata = 1};
	hub_plan other, del;
	fedns_diag d;
	hub_change c;
	bool committed = true;

	begin(f);
	assert_int_equal(propose(f, &f->alice, &e, 1, &other, &d, NULL), FEDNS_OK);
	assert_int_equal(
		hub_workflow_propose_delete(f->w, f->s, &f->zone, &f->alice, "", NULL, &del, &d),
		FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "reason"));
	assert_int_equal(hub_workflow_propose_delete(f->w, f->s, &f->zone, &f->alice,
						     "decommission", NULL, &del, &d),
			 FEDNS_OK);
	commit(f);
	assert_true(del.change.delete_zone);
	assert_int_equal(del.change.state, HUB_CHANGE_PROPOSED);
	assert_int_equal(del.change.base_serial, 10);
	assert_int_equal(del.next_serial, 0);
	/* SOA, 2 NS, 2 glue A and the 21 records of the body */
	assert_int_equal(del.ndel, 26);
	assert_int_equal(del.nadd, 0);
	assert_int_equal(del.nwarnings, 1);
	assert_non_null(strstr(del.warnings[0], "zone example.com. will be deleted"));
	assert_non_null(strstr(del.change.diff, "-www.example.com.\t300\tIN\tA\t192.0.2.10\n"));
	assert_null(strstr(del.change.diff, "\n+"));
	assert_int_equal(del.change.diff[0], '-');

	/* stored as a deletion */
	assert_int_equal(hub_change_get(f->s, del.change.id, &c), FEDNS_OK);
	assert_true(c.delete_zone);
	assert_string_equal(c.diff, del.change.diff);
	hub_change_fini(&c);

	/* the author cannot approve it */
	begin(f);
	assert_int_equal(decide(f, del.change.id, &f->alice, true, &committed, &c, &d),
			 FEDNS_EACCES);
	assert_false(committed);
	hub_change_fini(&c);
	abort_tx(f);

	begin(f);
	assert_int_equal(decide(f, del.change.id, &f->bob, true, &committed, &c, &d), FEDNS_OK);
	assert_true(committed);
	assert_int_equal(c.state, HUB_CHANGE_COMMITTED);
	assert_true(c.delete_zone);
	assert_int_equal(c.serial, 10);
	assert_string_equal(c.digest, f->zone.digest);
	hub_change_fini(&c);
	commit(f);

	reload_zone(f);
	assert_true(f->zone.deleted);
	hub_zone *zl = NULL;
	size_t nz = 9;
	assert_int_equal(hub_zone_list(f->s, HUB_TENANT_ALL, "", 0, &zl, &nz), FEDNS_OK);
	assert_int_equal(nz, 0);
	free(zl);
	/* history stays */
	char *text = NULL;
	assert_int_equal(hub_version_text(f->s, f->zone.id, 10, &text), FEDNS_OK);
	assert_non_null(strstr(text, "192.0.2.10"));
	free(text);
	assert_int_equal(hub_change_get(f->s, other.change.id, &c), FEDNS_OK);
	assert_int_equal(c.state, HUB_CHANGE_STALE);
	hub_change_fini(&c);
	assert_int_equal(count_changes(f), 2);

	/* nothing more can happen to it */
	hub_plan_fini(&del);
	begin(f);
	assert_int_equal(hub_workflow_propose_delete(f->w, f->s, &f->zone, &f->alice, "again", NULL,
						     &del, &d),
			 FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "is deleted"));
	assert_int_equal(decide(f, other.change.id, &f->bob, true, &committed, &c, &d),
			 FEDNS_ESTALE);
	hub_change_fini(&c);
	abort_tx(f);
	hub_plan_fini(&other);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_propose_approve_commit),
		T(test_commit_without_cache),
		T(test_self_approval_refused),
		T(test_two_approvals),
		T(test_reject),
		T(test_stale),
		T(test_invalid_edits),
		T(test_cname_conflict),
		T(test_zone_file_proposal),
		T(test_rollback),
		T(test_apex_ns_flag),
		T(test_mass_delete_flag),
		T(test_create_zone),
		T(test_idempotency_key),
		T(test_prepared),
		T(test_prepared_overtaken),
		T(test_concurrent_workers),
		T(test_zone_hold),
		T(test_retention_and_snapshots),
		T(test_mixed_commit_chain),
		T(test_random_edits),
		T(test_delete_zone),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
