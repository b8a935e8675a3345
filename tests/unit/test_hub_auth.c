/* SPDX-License-Identifier: Apache-2.0 */
/* hub/auth: token shape and hashing, bearer header parsing against a real store, and
 * every cell of the role table including segregation of duties and cross-tenant denial. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/auth.h"
#include "hub/store.h"

typedef struct fixture {
	char dir[64];
	char path[128];
	hub_store *s;
	int64_t t1, t2;
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fedns-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/hub.db", f->dir);
	hub_store_opts o = {.path = f->path, .create = true};
	fedns_diag d = {0};
	assert_int_equal(hub_store_open(&o, &f->s, &d), FEDNS_OK);
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_tenant_create(f->s, "bank", &f->t1), FEDNS_OK);
	assert_int_equal(hub_tenant_create(f->s, "shop", &f->t2), FEDNS_OK);
	assert_int_equal(hub_store_commit(f->s), FEDNS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
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

static void
test_token_shape(void **state)
{
	(void)state;
	char a[HUB_TOKEN_LEN + 1], b[HUB_TOKEN_LEN + 1];
	char ha[65], hb[65], again[65];
	assert_int_equal(hub_token_new(a, ha), FEDNS_OK);
	assert_int_equal(hub_token_new(b, hb), FEDNS_OK);
	assert_int_equal(strlen(a), 49);
	assert_memory_equal(a, "fedns_", 6);
	for (size_t i = 6; i < HUB_TOKEN_LEN; i++) {
		char c = a[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_';
		assert_true(ok);
	}
	assert_string_not_equal(a, b);
	assert_string_not_equal(ha, hb);
	/* the hash handed out is the hash of the token */
	hub_token_hash(a, again);
	assert_string_equal(again, ha);
	assert_int_equal(strlen(ha), 64);
}

static void
test_token_hash_vector(void **state)
{
	(void)state;
	char h[65];
	hub_token_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_bearer(void **state)
{
	fixture *f = *state;
	char tok[HUB_TOKEN_LEN + 1], hash[65], hdr[128];
	int64_t alice;
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "alice", "person", &alice), FEDNS_OK);
	assert_int_equal(hub_token_new(tok, hash), FEDNS_OK);
	assert_int_equal(hub_token_add(f->s, alice, hash, "test", 0), FEDNS_OK);

	hub_principal who;
	/* header = pre + token + post */
	static const char *const good[][2] = {
		{"Bearer ", ""},   {"bearer ", ""},  {"BEARER   ", ""},
		{" Bearer ", " "}, {"Bearer\t", ""},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&who, 0, sizeof(who));
		snprintf(hdr, sizeof(hdr), "%s%s%s", good[i][0], tok, good[i][1]);
		assert_int_equal(hub_auth_bearer(f->s, hdr, &who), FEDNS_OK);
		assert_int_equal(who.id, alice);
		assert_string_equal(who.name, "alice");
	}
	static const char *const bad[][2] = {
		{"Basic ", ""},	  {"Bearer", ""}, {"Bearer ", " extra"},
		{"Bearer ", "x"}, {"Token ", ""}, {"Bearer \"", "\""},
		{"Bearer ", ","}, {"", ""},	  {"Bearer  ", " Bearer"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(hdr, sizeof(hdr), "%s%s%s", bad[i][0], tok, bad[i][1]);
		assert_int_equal(hub_auth_bearer(f->s, hdr, &who), FEDNS_EAUTH);
	}
	char two[160];
	snprintf(two, sizeof(two), "Bearer %s %s", tok, tok);
	assert_int_equal(hub_auth_bearer(f->s, two, &who), FEDNS_EAUTH);
	assert_int_equal(hub_auth_bearer(f->s, "Bearer", &who), FEDNS_EAUTH);
	assert_int_equal(hub_auth_bearer(f->s, "Bearer ", &who), FEDNS_EAUTH);
	/* right shape, unknown token; the token minus its last char plus another */
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	hdr[strlen(hdr) - 1] = hdr[strlen(hdr) - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(hub_auth_bearer(f->s, hdr, &who), FEDNS_EAUTH);
	/* a character outside base64url */
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	hdr[strlen(hdr) - 1] = '+';
	assert_int_equal(hub_auth_bearer(f->s, hdr, &who), FEDNS_EAUTH);
	/* the wrong prefix */
	snprintf(hdr, sizeof(hdr), "Bearer fedn5_%s", tok + 6);
	assert_int_equal(hub_auth_bearer(f->s, hdr, &who), FEDNS_EAUTH);
	assert_int_equal(hub_auth_bearer(f->s, NULL, &who), FEDNS_EAUTH);
	assert_int_equal(hub_auth_bearer(f->s, "", &who), FEDNS_EAUTH);
	hub_store_rollback(f->s);
}

enum {
	NACT = 5
};
static const hub_action acts[NACT] = {HUB_ACT_READ, HUB_ACT_PROPOSE, HUB_ACT_APPROVE, HUB_ACT_ADMIN,
				      HUB_ACT_ESTATE_ADMIN};

static void
check_row(fixture *f, const hub_principal *p, int64_t tenant, int64_t author, const bool want[NACT],
	  const char *what)
{
	for (size_t a = 0; a < NACT; a++) {
		bool got = hub_auth_allowed(f->s, p, tenant, acts[a],
					    acts[a] == HUB_ACT_APPROVE ? author : 0);
		if (got != want[a])
			fail_msg("%s: action %d: got %d, want %d", what, (int)acts[a], got,
				 want[a]);
	}
}

static void
test_role_table(void **state)
{
	fixture *f = *state;
	static const bool table[5][NACT] = {
		/* READ  PROPOSE APPROVE ADMIN ESTATE */
		{false, false, false, false, false}, /* none */
		{true, false, false, false, false},  /* viewer */
		{true, true, false, false, false},   /* editor */
		{true, true, true, false, false},    /* approver */
		{true, true, true, true, false},     /* admin of the tenant */
	};
	static const bool nothing[NACT] = {false, false, false, false, false};
	int64_t author;
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "author", "person", &author), FEDNS_OK);
	for (int r = HUB_ROLE_NONE; r <= HUB_ROLE_ADMIN; r++) {
		char name[32];
		int64_t id;
		snprintf(name, sizeof(name), "p%d", r);
		assert_int_equal(hub_principal_create(f->s, name, "person", &id), FEDNS_OK);
		if (r != HUB_ROLE_NONE)
			assert_int_equal(hub_role_grant(f->s, id, f->t1, (hub_role)r), FEDNS_OK);
		hub_principal p;
		assert_int_equal(hub_principal_get(f->s, name, &p), FEDNS_OK);
		char what[64];
		snprintf(what, sizeof(what), "role %s in its tenant", hub_role_name((hub_role)r));
		check_row(f, &p, f->t1, author, table[r], what);
		/* a grant in one tenant gives nothing in another */
		snprintf(what, sizeof(what), "role %s, other tenant", hub_role_name((hub_role)r));
		check_row(f, &p, f->t2, author, nothing, what);
		/* segregation of duties: never the author, whatever the role */
		assert_false(hub_auth_allowed(f->s, &p, f->t1, HUB_ACT_APPROVE, p.id));
		/* a disabled principal may do nothing */
		p.disabled = true;
		snprintf(what, sizeof(what), "role %s, disabled", hub_role_name((hub_role)r));
		check_row(f, &p, f->t1, author, nothing, what);
	}
	hub_store_rollback(f->s);
}

static void
test_estate_grants(void **state)
{
	fixture *f = *state;
	static const bool all[NACT] = {true, true, true, true, true};
	static const bool read_only[NACT] = {true, false, false, false, false};
	int64_t root, auditor, author;
	hub_principal p;
	assert_int_equal(hub_store_begin(f->s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "author", "person", &author), FEDNS_OK);
	assert_int_equal(hub_principal_create(f->s, "root", "person", &root), FEDNS_OK);
	assert_int_equal(hub_role_grant(f->s, root, HUB_TENANT_ALL, HUB_ROLE_ADMIN), FEDNS_OK);
	assert_int_equal(hub_principal_get(f->s, "root", &p), FEDNS_OK);
	check_row(f, &p, f->t1, author, all, "estate admin in bank");
	check_row(f, &p, f->t2, author, all, "estate admin in shop");
	check_row(f, &p, HUB_TENANT_ALL, author, all, "estate admin on *");
	/* even the estate admin never approves their own change */
	assert_false(hub_auth_allowed(f->s, &p, f->t1, HUB_ACT_APPROVE, root));

	assert_int_equal(hub_principal_create(f->s, "auditor", "person", &auditor), FEDNS_OK);
	assert_int_equal(hub_role_grant(f->s, auditor, HUB_TENANT_ALL, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_principal_get(f->s, "auditor", &p), FEDNS_OK);
	check_row(f, &p, f->t1, author, read_only, "estate viewer in bank");
	check_row(f, &p, f->t2, author, read_only, "estate viewer in shop");
	/* an estate viewer who is editor in one tenant: the stronger role there */
	assert_int_equal(hub_role_grant(f->s, auditor, f->t1, HUB_ROLE_EDITOR), FEDNS_OK);
	assert_true(hub_auth_allowed(f->s, &p, f->t1, HUB_ACT_PROPOSE, 0));
	assert_false(hub_auth_allowed(f->s, &p, f->t2, HUB_ACT_PROPOSE, 0));
	/* revoking takes the right away */
	assert_int_equal(hub_role_revoke(f->s, auditor, f->t1), FEDNS_OK);
	assert_false(hub_auth_allowed(f->s, &p, f->t1, HUB_ACT_PROPOSE, 0));
	assert_false(hub_auth_allowed(f->s, NULL, f->t1, HUB_ACT_READ, 0));
	hub_store_rollback(f->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_token_hash_vector),
		cmocka_unit_test_setup_teardown(test_bearer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_estate_grants, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
