/* SPDX-License-Identifier: Apache-2.0 */
/* The hub store on a real SQLite file in a temp dir: migrations, every CRUD path and its
 * uniqueness errors, roles, tokens, changes, versions rebuilt across snapshots, pruning,
 * the audit chain and tampering found by check, transactions, online backup. */
#include <dirent.h>
#include <pthread.h>
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
#include <sqlite3.h>

#include "common/auditchain.h"
#include "common/buf.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "hub/store.h"

static char dir[256];
static char dbpath[300];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_hub_store.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[600];
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(dir);
	return 0;
}

static hub_store *
open_store(const char *path)
{
	hub_store_opts o = {.path = path, .create = true};
	hub_store *s = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err e = hub_store_open(&o, &s, &d);
	if (e)
		fail_msg("open %s: %s", path, d.msg);
	return s;
}

/* Runs SQL on the file behind the store's back (as an attacker or an old binary would). */
static void
raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("raw sql %s: %s", sql, err);
	sqlite3_close(db);
}

/* What schema 4 added, dropped again: the file is then what a schema 3 hub wrote. */
#define DROP_V4                                                                                    \
	"DROP TABLE signed_changes; DROP TABLE clusters; DROP TABLE spoke_zones;"                  \
	"DROP TABLE secondaries; DROP INDEX zone_placement_cluster;"

static void
test_migrations(void **state)
{
	(void)state;
	hub_store_opts o = {.path = dbpath, .create = false};
	hub_store *s = NULL;
	fedns_diag d;

	/* missing file without create */
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_ENOENT);
	assert_null(s);
	assert_non_null(strstr(d.msg, "does not exist"));

	s = open_store(dbpath);
	assert_int_equal(hub_store_schema_version(s), 4);
	hub_store_close(s);

	/* reopen: nothing to migrate, data kept */
	s = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_OK);
	assert_int_equal(hub_store_schema_version(s), 4);
	int64_t tid;
	assert_int_equal(hub_tenant_create(s, "bank", &tid), FEDNS_OK);
	hub_store_close(s);
	s = open_store(dbpath);
	hub_tenant t;
	assert_int_equal(hub_tenant_get(s, "bank", &t), FEDNS_OK);
	assert_int_equal(t.id, tid);
	hub_store_close(s);

	/* the file is in WAL mode with the expected tables */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	const char *tables[] = {"tenants",	 "principals",	   "tokens",	     "pubkeys",
				"role_bindings", "zones",	   "zone_placement", "changes",
				"approvals",	 "versions",	   "snapshots",	     "audit",
				"idempotency",	 "signed_changes", "clusters",	     "spoke_zones",
				"secondaries"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		assert_int_equal(sqlite3_prepare_v2(db,
						    "SELECT count(*) FROM sqlite_schema WHERE "
						    "type = 'table' AND name = ?1",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		if (sqlite3_column_int(st, 0) != 1)
			fail_msg("table %s missing", tables[i]);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);

	/* a schema 1 store (before changes.delete_zone) is migrated on open */
	raw_sql(dbpath,
		DROP_V4 "ALTER TABLE approvals DROP COLUMN key_id;"
			"ALTER TABLE approvals DROP COLUMN signed_digest;"
			"ALTER TABLE changes DROP COLUMN delete_zone; PRAGMA user_version = 1");
	s = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_OK);
	assert_int_equal(hub_store_schema_version(s), 4);
	hub_store_close(s);

	/* a schema newer than this code knows is refused, naming both versions */
	raw_sql(dbpath, "PRAGMA user_version = 99");
	s = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_ENOTSUP);
	assert_null(s);
	assert_non_null(strstr(d.msg, "schema version 99"));
	assert_non_null(strstr(d.msg, "up to 4"));

	/* another application's database is not taken for a store */
	char other[320];
	snprintf(other, sizeof other, "%s/other.db", dir);
	raw_sql(other, "CREATE TABLE x(y); PRAGMA user_version = 1");
	o.path = other;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "not a fedns-hub store"));

	/* not a database at all */
	char junk[320];
	snprintf(junk, sizeof junk, "%s/junk.db", dir);
	FILE *f = fopen(junk, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite file\n", f);
	fclose(f);
	o.path = junk;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &s, &d), FEDNS_EIO);
	assert_true(d.msg[0] != '\0');
}

static void
test_tenants_principals(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t a, b;
	assert_int_equal(hub_tenant_create(s, "bank", &a), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "acme", &b), FEDNS_OK);
	assert_int_not_equal(a, b);
	assert_true(a > 0 && b > 0);
	assert_int_equal(hub_tenant_create(s, "bank", NULL), FEDNS_EEXIST);
	assert_non_null(strstr(hub_store_errmsg(s), "UNIQUE"));
	assert_int_equal(hub_tenant_create(s, "*", NULL), FEDNS_EEXIST);
	assert_int_equal(hub_tenant_create(s, "", NULL), FEDNS_EINVAL);
	char tlong[65];
	memset(tlong, 't', 64);
	tlong[64] = '\0';
	assert_int_equal(hub_tenant_create(s, tlong, NULL), FEDNS_ETOOBIG);
	tlong[63] = '\0';
	assert_int_equal(hub_tenant_create(s, tlong, NULL), FEDNS_OK);

	hub_tenant t;
	assert_int_equal(hub_tenant_get(s, "acme", &t), FEDNS_OK);
	assert_int_equal(t.id, b);
	assert_string_equal(t.name, "acme");
	assert_true(t.created_at > 1600000000);
	assert_int_equal(hub_tenant_get(s, "nope", &t), FEDNS_ENOENT);
	assert_int_equal(hub_tenant_get(s, "*", &t), FEDNS_OK);
	assert_int_equal(t.id, HUB_TENANT_ALL);

	hub_tenant *tl = NULL;
	size_t n = 0;
	assert_int_equal(hub_tenant_list(s, &tl, &n), FEDNS_OK);
	assert_int_equal(n, 3); /* '*' is not listed */
	assert_string_equal(tl[0].name, "acme");
	assert_string_equal(tl[1].name, "bank");
	assert_string_equal(tl[2].name, tlong);
	free(tl);

	int64_t p1, p2;
	assert_int_equal(hub_principal_create(s, "alice", "person", &p1), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "ci-bot", "automation", &p2), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", NULL), FEDNS_EEXIST);
	assert_int_equal(hub_principal_create(s, "bob", "robot", NULL), FEDNS_EINVAL);
	assert_non_null(strstr(hub_store_errmsg(s), "robot"));
	assert_int_equal(hub_principal_create(s, "", "person", NULL), FEDNS_EINVAL);
	char longname[200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(hub_principal_create(s, longname, "person", NULL), FEDNS_ETOOBIG);

	hub_principal p;
	assert_int_equal(hub_principal_get(s, "ci-bot", &p), FEDNS_OK);
	assert_int_equal(p.id, p2);
	assert_string_equal(p.kind, "automation");
	assert_false(p.disabled);
	assert_int_equal(hub_principal_get_id(s, p1, &p), FEDNS_OK);
	assert_string_equal(p.name, "alice");
	assert_int_equal(hub_principal_get_id(s, 9999, &p), FEDNS_ENOENT);
	assert_int_equal(hub_principal_get(s, "mallory", &p), FEDNS_ENOENT);

	hub_principal *pl = NULL;
	assert_int_equal(hub_principal_list(s, &pl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(pl[0].name, "alice");
	assert_string_equal(pl[1].name, "ci-bot");
	free(pl);
	hub_store_close(s);
}

static const char H1[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char H2[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char H3[] = "2222222222222222222222222222222222222222222222222222222222222222";
static const char H4[] = "3333333333333333333333333333333333333333333333333333333333333333";

/* Pages of principals by name, their role bindings, and disabling: a disabled principal's
 * token, key and roles stop counting at once. */
static void
test_principal_pages_disable(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t bank, acme, ids[4];
	static const char *const names[] = {"dora", "alice", "carl", "bob"};
	assert_int_equal(hub_tenant_create(s, "bank", &bank), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "acme", &acme), FEDNS_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(hub_principal_create(s, names[i], "person", &ids[i]), FEDNS_OK);

	hub_principal *pl = NULL;
	size_t n = 9;
	assert_int_equal(hub_principal_list_page(s, "", 2, &pl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(pl[0].name, "alice");
	assert_string_equal(pl[1].name, "bob");
	free(pl);
	assert_int_equal(hub_principal_list_page(s, "bob", 0, &pl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(pl[0].name, "carl");
	assert_string_equal(pl[1].name, "dora");
	free(pl);
	assert_int_equal(hub_principal_list_page(s, "dora", 10, &pl, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(pl);

	/* bindings: estate-wide first, then by tenant name */
	hub_role_binding *b = NULL;
	assert_int_equal(hub_role_grant(s, ids[0], bank, HUB_ROLE_EDITOR), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, ids[0], acme, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, ids[0], HUB_TENANT_ALL, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_role_list(s, ids[0], &b, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(b[0].tenant, "*");
	assert_int_equal(b[0].tenant_id, HUB_TENANT_ALL);
	assert_int_equal(b[0].role, HUB_ROLE_VIEWER);
	assert_string_equal(b[1].tenant, "acme");
	assert_int_equal(b[1].role, HUB_ROLE_VIEWER);
	assert_string_equal(b[2].tenant, "bank");
	assert_int_equal(b[2].tenant_id, bank);
	assert_int_equal(b[2].role, HUB_ROLE_EDITOR);
	free(b);
	assert_int_equal(hub_role_list(s, ids[1], &b, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(b);

	/* disabling */
	hub_principal p;
	char *spki = NULL;
	assert_int_equal(hub_token_add(s, ids[0], H1, "laptop", 0), FEDNS_OK);
	assert_int_equal(hub_pubkey_add(s, ids[0], "kid-dora", "AAAA"), FEDNS_OK);
	assert_int_equal(hub_token_lookup(s, H1, &p), FEDNS_OK);
	assert_int_equal(hub_principal_set_disabled(s, ids[0], true), FEDNS_OK);
	assert_int_equal(hub_token_lookup(s, H1, &p), FEDNS_ENOENT);
	assert_int_equal(hub_role_of(s, ids[0], bank), HUB_ROLE_NONE);
	assert_int_equal(hub_pubkey_lookup(s, "kid-dora", &p, &spki), FEDNS_OK);
	assert_true(p.disabled); /* the signature verifier refuses a disabled signer */
	free(spki);
	assert_int_equal(hub_principal_get(s, "dora", &p), FEDNS_OK);
	assert_true(p.disabled);
	assert_int_equal(hub_principal_set_disabled(s, 9999, true), FEDNS_ENOENT);
	assert_non_null(strstr(hub_store_errmsg(s), "9999"));
	/* and back */
	assert_int_equal(hub_principal_set_disabled(s, ids[0], false), FEDNS_OK);
	assert_int_equal(hub_token_lookup(s, H1, &p), FEDNS_OK);
	assert_string_equal(p.name, "dora");
	assert_int_equal(hub_role_of(s, ids[0], bank), HUB_ROLE_EDITOR);
	hub_store_close(s);
}

static void
test_tokens_keys(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t p1, p2;
	assert_int_equal(hub_principal_create(s, "alice", "person", &p1), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "bob", "person", &p2), FEDNS_OK);
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(hub_token_add(s, p1, H1, "laptop", 0), FEDNS_OK);
	assert_int_equal(hub_token_add(s, p1, H2, "old", now - 10), FEDNS_OK);
	assert_int_equal(hub_token_add(s, p1, H3, "ci", now + 3600), FEDNS_OK);
	assert_int_equal(hub_token_add(s, p2, H1, "dup", 0), FEDNS_EEXIST);
	assert_int_equal(hub_token_add(s, 4242, H4, "nobody", 0), FEDNS_ENOENT);
	assert_int_equal(hub_token_add(s, p1, "abc", "short", 0), FEDNS_EINVAL);

	hub_principal who;
	assert_int_equal(hub_token_lookup(s, H1, &who), FEDNS_OK);
	assert_int_equal(who.id, p1);
	assert_string_equal(who.name, "alice");
	/* hex case does not matter */
	char upper[65];
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(H1[i] >= 'a' && H1[i] <= 'f' ? H1[i] - 32 : H1[i]);
	assert_int_equal(hub_token_lookup(s, upper, &who), FEDNS_OK);
	assert_int_equal(hub_token_lookup(s, H2, &who), FEDNS_ENOENT); /* expired */
	assert_int_equal(hub_token_lookup(s, H3, &who), FEDNS_OK);
	assert_int_equal(hub_token_lookup(s, H4, &who), FEDNS_ENOENT); /* unknown */
	assert_int_equal(hub_token_lookup(s, "", &who), FEDNS_ENOENT);

	/* a disabled token, then a disabled principal, authenticate no one */
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE tokens SET disabled = 1 WHERE hash = '%s'", H3);
	raw_sql(dbpath, sql);
	assert_int_equal(hub_token_lookup(s, H3, &who), FEDNS_ENOENT);
	snprintf(sql, sizeof sql, "UPDATE principals SET disabled = 1 WHERE id = %lld",
		 (long long)p1);
	raw_sql(dbpath, sql);
	assert_int_equal(hub_token_lookup(s, H1, &who), FEDNS_ENOENT);
	assert_int_equal(hub_principal_get_id(s, p1, &who), FEDNS_OK);
	assert_true(who.disabled);

	/* the store never holds the token itself: only what it was given */
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db, "SELECT hash FROM tokens ORDER BY id", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), H1);
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* public keys */
	assert_int_equal(hub_pubkey_add(s, p2, "bob-2026", "MFkwEwYHKoZIzj0CAQ=="), FEDNS_OK);
	assert_int_equal(hub_pubkey_add(s, p1, "bob-2026", "AAAA"), FEDNS_EEXIST);
	assert_int_equal(hub_pubkey_add(s, 777, "k", "AAAA"), FEDNS_ENOENT);
	assert_int_equal(hub_pubkey_add(s, p2, "", "AAAA"), FEDNS_EINVAL);
	char *spki = NULL;
	assert_int_equal(hub_pubkey_lookup(s, "bob-2026", &who, &spki), FEDNS_OK);
	assert_int_equal(who.id, p2);
	assert_string_equal(spki, "MFkwEwYHKoZIzj0CAQ==");
	free(spki);
	spki = NULL;
	assert_int_equal(hub_pubkey_lookup(s, "nope", &who, &spki), FEDNS_ENOENT);
	assert_null(spki);
	hub_store_close(s);
}

static void
test_roles(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t1, t2, p, q;
	assert_int_equal(hub_tenant_create(s, "bank", &t1), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "acme", &t2), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &p), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "root", "person", &q), FEDNS_OK);

	assert_int_equal(hub_role_of(s, p, t1), HUB_ROLE_NONE);
	assert_int_equal(hub_role_grant(s, p, t1, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_role_of(s, p, t1), HUB_ROLE_VIEWER);
	assert_int_equal(hub_role_of(s, p, t2), HUB_ROLE_NONE);
	/* a second grant replaces the first */
	assert_int_equal(hub_role_grant(s, p, t1, HUB_ROLE_APPROVER), FEDNS_OK);
	assert_int_equal(hub_role_of(s, p, t1), HUB_ROLE_APPROVER);
	assert_int_equal(hub_role_grant(s, p, t1, HUB_ROLE_EDITOR), FEDNS_OK);
	assert_int_equal(hub_role_of(s, p, t1), HUB_ROLE_EDITOR);

	/* estate-wide: applies to every tenant, and the higher of two grants counts */
	assert_int_equal(hub_role_grant(s, q, HUB_TENANT_ALL, HUB_ROLE_ADMIN), FEDNS_OK);
	assert_int_equal(hub_role_of(s, q, t1), HUB_ROLE_ADMIN);
	assert_int_equal(hub_role_of(s, q, t2), HUB_ROLE_ADMIN);
	assert_int_equal(hub_role_grant(s, p, HUB_TENANT_ALL, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_role_of(s, p, t1), HUB_ROLE_EDITOR);
	assert_int_equal(hub_role_of(s, p, t2), HUB_ROLE_VIEWER);
	assert_int_equal(hub_role_revoke(s, p, HUB_TENANT_ALL), FEDNS_OK);
	assert_int_equal(hub_role_of(s, p, t2), HUB_ROLE_NONE);
	assert_int_equal(hub_role_revoke(s, p, HUB_TENANT_ALL), FEDNS_ENOENT);

	assert_int_equal(hub_role_grant(s, p, t1, HUB_ROLE_NONE), FEDNS_EINVAL);
	assert_int_equal(hub_role_grant(s, p, t1, (hub_role)9), FEDNS_EINVAL);
	assert_int_equal(hub_role_grant(s, p, 999, HUB_ROLE_VIEWER), FEDNS_ENOENT);
	assert_int_equal(hub_role_grant(s, 999, t1, HUB_ROLE_VIEWER), FEDNS_ENOENT);

	/* a disabled principal has no role anywhere */
	char sql[100];
	snprintf(sql, sizeof sql, "UPDATE principals SET disabled = 1 WHERE id = %lld",
		 (long long)q);
	raw_sql(dbpath, sql);
	assert_int_equal(hub_role_of(s, q, t1), HUB_ROLE_NONE);

	/* names */
	assert_string_equal(hub_role_name(HUB_ROLE_APPROVER), "approver");
	assert_int_equal(hub_role_from_name("admin"), HUB_ROLE_ADMIN);
	assert_int_equal(hub_role_from_name("viewer"), HUB_ROLE_VIEWER);
	assert_int_equal(hub_role_from_name("root"), HUB_ROLE_NONE);
	assert_int_equal(hub_role_from_name(NULL), HUB_ROLE_NONE);
	assert_string_equal(hub_change_state_name(HUB_CHANGE_STALE), "stale");
	assert_string_equal(hub_change_state_name((hub_change_state)77), "unknown");
	hub_store_close(s);
}

/* --- zone content helpers: what the workflow would do with dns/ --- */

static fedns_zone *
zparse(const char *origin_text, const char *text)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t ol;
	assert_int_equal(
		fedns_name_from_text(origin_text, strlen(origin_text), NULL, origin, &ol, NULL), 0);
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(origin, 1, NULL, &z), 0);
	fedns_zonefile_opts o = {.origin = origin};
	fedns_diag d;
	fedns_diag_clear(&d);
	if (fedns_zonefile_parse("t", text, strlen(text), &o, z, &d))
		fail_msg("parse: %s", d.msg);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), 0);
	return z;
}

static char *
canon(const char *text)
{
	fedns_zone *z = zparse("example.com.", text);
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	assert_int_equal(fedns_zone_print(z, &b), 0);
	fedns_zone_free(z);
	size_t n;
	char *t = (char *)fedns_buf_steal(&b, &n);
	fedns_buf_fini(&b);
	return t;
}

/* The committed diff text: "-RR"/"+RR" lines, deletions first, SOA lines included. */
static char *
diff_text(const char *from, const char *to)
{
	fedns_zone *a = zparse("example.com.", from), *b = zparse("example.com.", to);
	fedns_diff d;
	fedns_diff_init(&d);
	assert_int_equal(fedns_diff_compute(a, b, &d), 0);
	fedns_buf out;
	fedns_buf_init(&out, FEDNS_BUF_DEFAULT_MAX);
	for (size_t i = 0; i < d.ndel; i++) {
		fedns_buf_putc(&out, '-');
		assert_int_equal(fedns_rr_print(&d.del[i], &out), 0);
	}
	for (size_t i = 0; i < d.nadd; i++) {
		fedns_buf_putc(&out, '+');
		assert_int_equal(fedns_rr_print(&d.add[i], &out), 0);
	}
	assert_int_equal(out.err, 0);
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(b);
	size_t n;
	char *t = (char *)fedns_buf_steal(&out, &n);
	fedns_buf_fini(&out);
	return t;
}

/* Version k of a test zone: records come and go with k so diffs add, delete and change. */
static char *
zone_text(uint32_t serial)
{
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_printf(&b,
			 "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster %u 3600 600 "
			 "86400 300\n@ NS ns1\nns1 A 192.0.2.53\n",
			 serial);
	for (uint32_t i = 0; i < 20; i++)
		if ((i + serial) % 3 != 0)
			fedns_buf_printf(&b, "h%u A 198.51.100.%u\n", i, (i * 7 + serial) % 250);
	if (serial % 2)
		fedns_buf_printf(&b, "txt TXT \"odd %u\"\n", serial);
	fedns_buf_printf(&b, "mx MX 10 mail%u\n", serial % 4);
	assert_int_equal(b.err, 0);
	size_t n;
	char *t = (char *)fedns_buf_steal(&b, &n);
	fedns_buf_fini(&b);
	return t;
}

static int64_t
add_zone(hub_store *s, int64_t tenant, const char *name, uint32_t serial)
{
	char *t = zone_text(serial);
	int64_t id = 0;
	fedns_err e = hub_zone_create(s, tenant, name, 2, serial, "digest1", t, &id);
	if (e)
		fail_msg("zone create: %s", hub_store_errmsg(s));
	free(t);
	return id;
}

static void
test_zones(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t1, t2;
	assert_int_equal(hub_tenant_create(s, "bank", &t1), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "acme", &t2), FEDNS_OK);
	int64_t z1 = add_zone(s, t1, "Example.COM", 1);
	char *t = zone_text(1);
	assert_int_equal(hub_zone_create(s, t2, "example.com.", 1, 1, "", t, NULL), FEDNS_EEXIST);
	assert_non_null(strstr(hub_store_errmsg(s), "already exists"));
	/* bad content: nothing is left behind */
	assert_int_equal(hub_zone_create(s, t1, "bad.example.", 1, 1, "", "@ SOA broken", NULL),
			 FEDNS_ESYNTAX);
	assert_non_null(strstr(hub_store_errmsg(s), "bad.example."));
	/* content that parses but breaks a zone rule (no NS) */
	assert_int_equal(hub_zone_create(s, t1, "bad.example.", 1, 1, "",
					 "@ 300 SOA ns hm 1 1 1 1 1\n", NULL),
			 FEDNS_EZONE);
	hub_zone z;
	assert_int_equal(hub_zone_get(s, "bad.example.", &z), FEDNS_ENOENT);
	/* the version's serial must be the SOA's */
	const char *rel = strchr(t, '\n') + 1; /* without $ORIGIN: fits any zone name */
	assert_int_equal(hub_zone_create(s, t1, "other.example.", 1, 7, "", rel, NULL),
			 FEDNS_EINVAL);
	assert_non_null(strstr(hub_store_errmsg(s), "serial 1"));
	assert_int_equal(hub_zone_get(s, "other.example.", &z), FEDNS_ENOENT);
	/* unknown tenant */
	assert_int_equal(hub_zone_create(s, 4242, "example.org.", 1, 1, "", rel, NULL),
			 FEDNS_ENOENT);
	assert_non_null(strstr(hub_store_errmsg(s), "tenant 4242"));
	assert_int_equal(hub_zone_get(s, "example.org.", &z), FEDNS_ENOENT);
	free(t);

	assert_int_equal(hub_zone_get(s, "example.com", &z), FEDNS_OK); /* without the dot */
	assert_int_equal(z.id, z1);
	assert_string_equal(z.name, "example.com.");
	assert_int_equal(z.tenant_id, t1);
	assert_int_equal(z.approvals_required, 2);
	assert_int_equal(z.serial, 1);
	assert_string_equal(z.digest, "digest1");
	assert_false(z.deleted);
	assert_int_equal(hub_zone_get(s, "EXAMPLE.com.", &z), FEDNS_OK);
	assert_int_equal(hub_zone_get_id(s, z1, &z), FEDNS_OK);
	assert_string_equal(z.name, "example.com.");
	assert_int_equal(hub_zone_get_id(s, 999, &z), FEDNS_ENOENT);
	assert_int_equal(hub_zone_get(s, "..bad", &z), FEDNS_ENOENT);

	/* list: per tenant, by name, paged */
	char name[64];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "z%d.example.net.", i);
		char *zt = zone_text(3);
		/* the content names example.com.: use a zone whose records are relative */
		char *body = strstr(zt, "\n");
		int64_t id;
		assert_int_equal(hub_zone_create(s, i % 2 ? t2 : t1, name, 1, 3, "", body + 1, &id),
				 FEDNS_OK);
		free(zt);
	}
	hub_zone *zl = NULL;
	size_t n = 0;
	assert_int_equal(hub_zone_list(s, t1, NULL, 0, &zl, &n), FEDNS_OK);
	assert_int_equal(n, 4); /* example.com. z0 z2 z4 */
	assert_string_equal(zl[0].name, "example.com.");
	assert_string_equal(zl[3].name, "z4.example.net.");
	free(zl);
	assert_int_equal(hub_zone_list(s, HUB_TENANT_ALL, NULL, 2, &zl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	char after[256];
	snprintf(after, sizeof after, "%s", zl[1].name);
	assert_string_equal(after, "z0.example.net.");
	free(zl);
	assert_int_equal(hub_zone_list(s, HUB_TENANT_ALL, after, 2, &zl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(zl[0].name, "z1.example.net.");
	assert_string_equal(zl[1].name, "z2.example.net.");
	free(zl);

	/* policy */
	assert_int_equal(hub_zone_set_policy(s, z1, 3), FEDNS_OK);
	assert_int_equal(hub_zone_get_id(s, z1, &z), FEDNS_OK);
	assert_int_equal(z.approvals_required, 3);
	assert_int_equal(hub_zone_set_policy(s, z1, 0), FEDNS_EINVAL);
	assert_int_equal(hub_zone_set_policy(s, 999, 2), FEDNS_ENOENT);

	/* placement: replaced whole; a bad list leaves the old one */
	const char *c1[] = {"eu-west", "us-east"};
	assert_int_equal(hub_zone_set_placement(s, z1, c1, 2), FEDNS_OK);
	char **cl = NULL;
	assert_int_equal(hub_zone_placement(s, z1, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cl[0], "eu-west");
	assert_string_equal(cl[1], "us-east");
	for (size_t i = 0; i < n; i++)
		free(cl[i]);
	free(cl);
	const char *c2[] = {"ap-south", "ap-south"};
	assert_int_equal(hub_zone_set_placement(s, z1, c2, 2), FEDNS_EEXIST);
	assert_non_null(strstr(hub_store_errmsg(s), "twice"));
	assert_int_equal(hub_zone_placement(s, z1, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cl[0], "eu-west");
	for (size_t i = 0; i < n; i++)
		free(cl[i]);
	free(cl);
	assert_int_equal(hub_zone_set_placement(s, z1, NULL, 0), FEDNS_OK);
	assert_int_equal(hub_zone_placement(s, z1, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(cl);
	assert_int_equal(hub_zone_set_placement(s, 999, c1, 2), FEDNS_ENOENT);

	/* deleted zones stay readable but leave the list */
	assert_int_equal(hub_zone_mark_deleted(s, z1), FEDNS_OK);
	assert_int_equal(hub_zone_get_id(s, z1, &z), FEDNS_OK);
	assert_true(z.deleted);
	assert_int_equal(hub_zone_list(s, t1, NULL, 0, &zl, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(zl[0].name, "z0.example.net.");
	free(zl);
	assert_int_equal(hub_zone_mark_deleted(s, 999), FEDNS_ENOENT);
	hub_store_close(s);
}

static void
test_changes_approvals(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t, alice, bob, carol;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &alice), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "bob", "person", &bob), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "carol", "person", &carol), FEDNS_OK);
	int64_t z = add_zone(s, t, "example.com.", 1);

	hub_change c = {.zone_id = z, .author_id = alice, .base_serial = 1};
	snprintf(c.reason, sizeof c.reason, "add www");
	snprintf(c.ticket, sizeof c.ticket, "CHG-1");
	c.diff = "+www.example.com.\t300\tIN\tA\t192.0.2.80\n";
	assert_int_equal(hub_change_create(s, &c, "key-1"), FEDNS_OK);
	int64_t id1 = c.id;
	assert_true(id1 > 0);
	assert_int_equal(c.state, HUB_CHANGE_PROPOSED);

	/* the same author's key again: EEXIST and the change it made */
	hub_change c2 = c;
	c2.id = 0;
	assert_int_equal(hub_change_create(s, &c2, "key-1"), FEDNS_EEXIST);
	assert_int_equal(c2.id, id1);
	/* another author may use the same key */
	c2 = c;
	c2.author_id = bob;
	assert_int_equal(hub_change_create(s, &c2, "key-1"), FEDNS_OK);
	int64_t id2 = c2.id;
	/* without a key, any number of changes */
	c2 = c;
	c2.base_serial = 0;
	assert_int_equal(hub_change_create(s, &c2, NULL), FEDNS_OK);
	int64_t id3 = c2.id;
	/* no reason, unknown zone */
	c2 = c;
	c2.reason[0] = '\0';
	assert_int_equal(hub_change_create(s, &c2, NULL), FEDNS_EINVAL);
	c2 = c;
	c2.zone_id = 999;
	assert_int_equal(hub_change_create(s, &c2, NULL), FEDNS_ENOENT);

	hub_change g;
	assert_int_equal(hub_change_get(s, id1, &g), FEDNS_OK);
	assert_int_equal(g.zone_id, z);
	assert_int_equal(g.author_id, alice);
	assert_int_equal(g.state, HUB_CHANGE_PROPOSED);
	assert_string_equal(g.reason, "add www");
	assert_string_equal(g.ticket, "CHG-1");
	assert_string_equal(g.diff, c.diff);
	assert_null(g.signature);
	assert_int_equal(g.base_serial, 1);
	assert_int_equal(g.serial, 0);
	assert_int_equal(g.approvals, 0);
	assert_true(g.created_at > 0);
	hub_change_fini(&g);
	assert_int_equal(hub_change_get(s, 999, &g), FEDNS_ENOENT);

	/* approvals: one per principal per change, counted on the change */
	hub_approval a = {.change_id = id1, .principal_id = bob, .approve = true};
	snprintf(a.comment, sizeof a.comment, "lgtm");
	assert_int_equal(hub_approval_add(s, &a), FEDNS_OK);
	assert_int_equal(hub_approval_add(s, &a), FEDNS_EEXIST);
	assert_non_null(strstr(hub_store_errmsg(s), "already decided"));
	a.principal_id = carol;
	a.approve = false;
	a.signature = "c2lnbmF0dXJl";
	assert_int_equal(hub_approval_add(s, &a), FEDNS_OK);
	a.change_id = 999;
	assert_int_equal(hub_approval_add(s, &a), FEDNS_ENOENT);
	hub_approval *al = NULL;
	size_t n = 0;
	assert_int_equal(hub_approval_list(s, id1, &al, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(al[0].principal_id, bob);
	assert_true(al[0].approve);
	assert_string_equal(al[0].comment, "lgtm");
	assert_null(al[0].signature);
	assert_int_equal(al[1].principal_id, carol);
	assert_false(al[1].approve);
	assert_string_equal(al[1].signature, "c2lnbmF0dXJl");
	assert_string_equal(al[0].key_id, "");
	assert_string_equal(al[0].signed_digest, "");
	for (size_t i = 0; i < n; i++)
		free(al[i].signature);
	free(al);

	/* a verified signature attached to bob's approval, with its key id and digest */
	assert_int_equal(hub_approval_set_signature(s, id1, bob, "AAEC", "kid-bob", H2), FEDNS_OK);
	assert_int_equal(hub_approval_set_signature(s, id1, alice, "AAEC", "kid-bob", H2),
			 FEDNS_ENOENT);
	assert_int_equal(hub_approval_set_signature(s, id1, bob, "AAEC", "kid-bob", "abc"),
			 FEDNS_EINVAL);
	assert_int_equal(hub_approval_set_signature(s, id1, bob, "", "kid-bob", H2), FEDNS_EINVAL);
	assert_int_equal(hub_approval_list(s, id1, &al, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(al[0].signature, "AAEC");
	assert_string_equal(al[0].key_id, "kid-bob");
	assert_string_equal(al[0].signed_digest, H2);
	assert_string_equal(al[1].key_id, "");
	for (size_t i = 0; i < n; i++)
		free(al[i].signature);
	free(al);
	assert_int_equal(hub_change_get(s, id1, &g), FEDNS_OK);
	assert_int_equal(g.approvals, 1); /* rejections are not approvals */

	/* update round trip */
	g.state = HUB_CHANGE_COMMITTED;
	g.serial = 2;
	snprintf(g.digest, sizeof g.digest, "abcd");
	free(g.signature);
	g.signature = strdup("aHVi");
	g.decided_at = 12345;
	assert_int_equal(hub_change_update(s, &g), FEDNS_OK);
	hub_change_fini(&g);
	assert_int_equal(hub_change_get(s, id1, &g), FEDNS_OK);
	assert_int_equal(g.state, HUB_CHANGE_COMMITTED);
	assert_int_equal(g.serial, 2);
	assert_string_equal(g.digest, "abcd");
	assert_string_equal(g.signature, "aHVi");
	assert_int_equal(g.decided_at, 12345);
	g.id = 999;
	assert_int_equal(hub_change_update(s, &g), FEDNS_ENOENT);
	hub_change_fini(&g);

	/* stale: proposals on another base than the current serial */
	assert_int_equal(hub_change_mark_stale(s, z, 1), FEDNS_OK);
	assert_int_equal(hub_change_get(s, id2, &g), FEDNS_OK);
	assert_int_equal(g.state, HUB_CHANGE_PROPOSED); /* base 1 */
	hub_change_fini(&g);
	assert_int_equal(hub_change_get(s, id3, &g), FEDNS_OK);
	assert_int_equal(g.state, HUB_CHANGE_STALE); /* base 0 */
	hub_change_fini(&g);
	assert_int_equal(hub_change_get(s, id1, &g), FEDNS_OK);
	assert_int_equal(g.state, HUB_CHANGE_COMMITTED); /* committed stays */
	hub_change_fini(&g);

	/* list: newest first, filtered, paged by id */
	hub_change *cl = NULL;
	assert_int_equal(hub_change_list(s, 0, 0, 0, 0, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_int_equal(cl[0].id, id3);
	assert_int_equal(cl[2].id, id1);
	assert_string_equal(cl[2].diff, c.diff);
	for (size_t i = 0; i < n; i++)
		hub_change_fini(&cl[i]);
	free(cl);
	assert_int_equal(hub_change_list(s, z, HUB_CHANGE_PROPOSED, 0, 0, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cl[0].id, id2);
	hub_change_fini(&cl[0]);
	free(cl);
	assert_int_equal(hub_change_list(s, 0, 0, id3, 1, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cl[0].id, id2);
	hub_change_fini(&cl[0]);
	free(cl);
	assert_int_equal(hub_change_list(s, 999, 0, 0, 0, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(cl);

	/* idempotency records */
	int status = 0;
	char *body = NULL;
	char rd[65];
	assert_int_equal(hub_idem_get(s, alice, "k1", &status, &body, rd), FEDNS_ENOENT);
	assert_int_equal(hub_idem_put(s, alice, "k1", 201, "{\"id\":1}", H1), FEDNS_OK);
	assert_int_equal(hub_idem_put(s, alice, "k1", 201, "{}", H2), FEDNS_EEXIST);
	assert_int_equal(hub_idem_put(s, bob, "k1", 409, "{}", H2), FEDNS_OK);
	assert_int_equal(hub_idem_put(s, bob, "", 409, "{}", H2), FEDNS_EINVAL);
	assert_int_equal(hub_idem_get(s, alice, "k1", &status, &body, rd), FEDNS_OK);
	assert_int_equal(status, 201);
	assert_string_equal(body, "{\"id\":1}");
	assert_string_equal(rd, H1);
	free(body);
	hub_store_close(s);
}

/* Versions 1..150 committed as diffs with a snapshot every 64: every one rebuilds to the
 * exact canonical text; pruning keeps the newest and they still rebuild. */
static void
test_versions(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t, alice;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &alice), FEDNS_OK);
	int64_t z = add_zone(s, t, "example.com.", 1);
	enum {
		LAST = 150
	};

	for (uint32_t k = 2; k <= LAST; k++) {
		char *prev = zone_text(k - 1), *cur = zone_text(k);
		hub_change c = {.zone_id = z,
				.author_id = alice,
				.base_serial = k - 1,
				.state = HUB_CHANGE_COMMITTED,
				.serial = k};
		snprintf(c.reason, sizeof c.reason, "v%u", k);
		c.diff = diff_text(prev, cur);
		assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
		assert_int_equal(hub_change_create(s, &c, NULL), FEDNS_OK);
		char digest[16];
		snprintf(digest, sizeof digest, "d%u", k);
		fedns_err e = hub_version_add(s, z, k, c.id, digest, k % 64 == 0 ? cur : NULL);
		if (e)
			fail_msg("version %u: %s", k, hub_store_errmsg(s));
		assert_int_equal(hub_store_commit(s), FEDNS_OK);
		free(c.diff);
		free(prev);
		free(cur);
	}
	hub_zone zz;
	assert_int_equal(hub_zone_get_id(s, z, &zz), FEDNS_OK);
	assert_int_equal(zz.serial, LAST);
	assert_string_equal(zz.digest, "d150");

	for (uint32_t k = 1; k <= LAST; k++) {
		char *want_src = zone_text(k), *want = canon(want_src), *got = NULL;
		fedns_err e = hub_version_text(s, z, k, &got);
		if (e)
			fail_msg("rebuild %u: %s", k, hub_store_errmsg(s));
		if (strcmp(got, want) != 0)
			fail_msg("version %u differs:\n%s\n---\n%s", k, got, want);
		free(want_src);
		free(want);
		free(got);
	}
	char *txt = NULL;
	assert_int_equal(hub_version_text(s, z, 999, &txt), FEDNS_ENOENT);
	assert_null(txt);

	/* a duplicate serial, a version without content, a snapshot whose SOA disagrees */
	assert_int_equal(hub_version_add(s, z, 5, 2, "x", NULL), FEDNS_EEXIST);
	assert_int_equal(hub_version_add(s, z, 151, 0, "x", NULL), FEDNS_EINVAL);
	assert_int_equal(hub_version_add(s, z, 151, 0, "x", ""), FEDNS_EINVAL);
	/* snapshots are stored as given; one whose SOA disagrees is found when read */
	char *v3 = zone_text(3);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_version_add(s, z, 151, 0, "x", v3), FEDNS_OK);
	assert_int_equal(hub_version_text(s, z, 151, &txt), FEDNS_EIO);
	assert_non_null(strstr(hub_store_errmsg(s), "SOA serial 3"));
	hub_store_rollback(s);
	free(v3);
	assert_int_equal(hub_version_add(s, 999, 151, 2, "x", NULL), FEDNS_ENOENT);
	assert_int_equal(hub_zone_get_id(s, z, &zz), FEDNS_OK);
	assert_int_equal(zz.serial, LAST); /* failures change nothing */

	uint32_t *sv = NULL;
	size_t n = 0;
	assert_int_equal(hub_version_list(s, z, &sv, &n), FEDNS_OK);
	assert_int_equal(n, LAST);
	assert_int_equal(sv[0], 1);
	assert_int_equal(sv[LAST - 1], LAST);
	free(sv);

	/* prune to 40: 111..150 stay listed; rows back to 111's snapshot (64) stay stored */
	assert_int_equal(hub_version_prune(s, z, 0), FEDNS_OK); /* 0 keeps all */
	assert_int_equal(hub_version_prune(s, z, 40), FEDNS_OK);
	assert_int_equal(hub_version_list(s, z, &sv, &n), FEDNS_OK);
	assert_int_equal(n, 40);
	assert_int_equal(sv[0], LAST - 39);
	free(sv);
	assert_int_equal(hub_version_text(s, z, 100, &txt), FEDNS_ENOENT);
	for (uint32_t k = LAST - 39; k <= LAST; k++) {
		char *want_src = zone_text(k), *want = canon(want_src), *got = NULL;
		assert_int_equal(hub_version_text(s, z, k, &got), FEDNS_OK);
		assert_string_equal(got, want);
		free(want_src);
		free(want);
		free(got);
	}
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT serial FROM snapshots ORDER BY version_id",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 64);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 128);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(
		sqlite3_prepare_v2(db, "SELECT min(serial), count(*) FROM versions", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 64);
	assert_int_equal(sqlite3_column_int(st, 1), LAST - 63);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* pruning more than there is does nothing */
	assert_int_equal(hub_version_prune(s, z, 1000), FEDNS_OK);
	assert_int_equal(hub_version_list(s, z, &sv, &n), FEDNS_OK);
	assert_int_equal(n, 40);
	free(sv);
	/* down to 10 (141..150): everything before snapshot 128 goes */
	assert_int_equal(hub_version_prune(s, z, 10), FEDNS_OK);
	assert_int_equal(hub_version_list(s, z, &sv, &n), FEDNS_OK);
	assert_int_equal(n, 10);
	assert_int_equal(sv[0], LAST - 9);
	free(sv);
	for (uint32_t k = LAST - 9; k <= LAST; k++) {
		char *want_src = zone_text(k), *want = canon(want_src), *got = NULL;
		assert_int_equal(hub_version_text(s, z, k, &got), FEDNS_OK);
		assert_string_equal(got, want);
		free(want_src);
		free(want);
		free(got);
	}
	assert_int_equal(hub_version_text(s, z, 130, &txt), FEDNS_ENOENT);

	/* a corrupt history is reported, not papered over */
	raw_sql(dbpath,
		"UPDATE changes SET diff = '-nothere.example.com.\t300\tIN\tA\t192.0.2.9\n' "
		"WHERE serial = 140");
	assert_int_equal(hub_version_text(s, z, 141, &txt), FEDNS_EIO);
	assert_non_null(strstr(hub_store_errmsg(s), "version 140"));
	assert_non_null(strstr(hub_store_errmsg(s), "nothere.example.com."));
	hub_store_close(s);
}

static void
append(hub_store *s, const char *who, const char *action, const char *outcome, hub_audit *out)
{
	hub_audit a;
	memset(&a, 0, sizeof a);
	snprintf(a.principal, sizeof a.principal, "%s", who);
	snprintf(a.action, sizeof a.action, "%s", action);
	snprintf(a.target, sizeof a.target, "zone:example.com.");
	snprintf(a.outcome, sizeof a.outcome, "%s", outcome);
	fedns_err e = hub_audit_append(s, &a);
	if (e)
		fail_msg("audit append: %s", hub_store_errmsg(s));
	if (out)
		*out = a;
}

static void
test_audit(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	hub_audit h, a;
	fedns_diag d;
	assert_int_equal(hub_audit_head(s, &h), FEDNS_OK);
	assert_int_equal(h.seq, 0);
	assert_string_equal(h.hash, fedns_audit_genesis);

	append(s, "alice", "zone.create", "ok", &a);
	assert_int_equal(a.seq, 1);
	assert_string_equal(a.prev_hash, fedns_audit_genesis);
	assert_true(a.at > 1600000000000LL);
	fedns_audit_fields f = {a.seq, a.at, a.principal, a.action, a.target, a.outcome, ""};
	char want[65];
	fedns_audit_hash(fedns_audit_genesis, &f, want);
	assert_string_equal(a.hash, want);

	for (int i = 2; i <= 60; i++)
		append(s, i % 2 ? "bob" : "alice", "change.approve", i % 7 ? "ok" : "denied", NULL);
	assert_int_equal(hub_audit_head(s, &h), FEDNS_OK);
	assert_int_equal(h.seq, 60);

	/* a rolled back append leaves no trace and no gap */
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	append(s, "eve", "auth.denied", "denied", NULL);
	hub_store_rollback(s);
	assert_int_equal(hub_audit_head(s, &a), FEDNS_OK);
	assert_int_equal(a.seq, 60);
	assert_string_equal(a.hash, h.hash);

	hub_audit *l = NULL;
	size_t n = 0;
	assert_int_equal(hub_audit_list(s, 10, 5, &l, &n), FEDNS_OK);
	assert_int_equal(n, 5);
	assert_int_equal(l[0].seq, 11);
	assert_string_equal(l[1].prev_hash, l[0].hash);
	free(l);
	assert_int_equal(hub_audit_list(s, 0, 0, &l, &n), FEDNS_OK);
	assert_int_equal(n, 60);
	free(l);
	/* empty fields are refused */
	memset(&a, 0, sizeof a);
	assert_int_equal(hub_audit_append(s, &a), FEDNS_EINVAL);

	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_OK);
	hub_store_close(s);

	/* tampering through SQLite itself is found at the record */
	raw_sql(dbpath, "UPDATE audit SET outcome = 'ok' WHERE seq = 14");
	s = open_store(dbpath);
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "seq 14 "));
	assert_non_null(strstr(d.msg, "content"));
	hub_store_close(s);
	raw_sql(dbpath, "UPDATE audit SET outcome = 'denied' WHERE seq = 14");
	s = open_store(dbpath);
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_OK);
	hub_store_close(s);

	raw_sql(dbpath, "DELETE FROM audit WHERE seq = 30");
	s = open_store(dbpath);
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_EAUTH);
	assert_non_null(strstr(d.msg, "seq 31 (expected seq 30)"));
	assert_non_null(strstr(d.msg, "gap"));
	hub_store_close(s);
}

static void
test_transactions(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t;
	hub_tenant tt;

	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "gone", &t), FEDNS_OK);
	int64_t z = add_zone(s, t, "example.com.", 1);
	assert_true(z > 0);
	assert_int_equal(hub_store_begin(s, true), FEDNS_EINVAL); /* no nesting */
	hub_store_rollback(s);
	assert_int_equal(hub_tenant_get(s, "gone", &tt), FEDNS_ENOENT);
	hub_zone zz;
	assert_int_equal(hub_zone_get(s, "example.com.", &zz), FEDNS_ENOENT);
	uint32_t *sv = NULL;
	size_t n = 9;
	assert_int_equal(hub_version_list(s, z, &sv, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(sv);
	assert_int_equal(hub_store_commit(s), FEDNS_EINVAL);

	/* a failed call inside a transaction undoes only itself */
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "kept", &t), FEDNS_OK);
	const char *dup[] = {"a", "a"};
	assert_int_equal(hub_zone_set_placement(s, 999, dup, 2), FEDNS_ENOENT);
	assert_int_equal(hub_tenant_create(s, "kept", NULL), FEDNS_EEXIST);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	hub_store_close(s);
	s = open_store(dbpath);
	assert_int_equal(hub_tenant_get(s, "kept", &tt), FEDNS_OK);

	/* a second writer waits for the lock, then fails with EIO and says why */
	hub_store_opts o = {.path = dbpath, .busy_ms = 50};
	hub_store *s2 = NULL;
	assert_int_equal(hub_store_open(&o, &s2, NULL), FEDNS_OK);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_store_begin(s2, true), FEDNS_EIO);
	assert_non_null(strstr(hub_store_errmsg(s2), "locked"));
	/* a reader is not blocked by the writer (WAL) */
	assert_int_equal(hub_store_begin(s2, false), FEDNS_OK);
	assert_int_equal(hub_tenant_get(s2, "kept", &tt), FEDNS_OK);
	hub_store_rollback(s2);
	hub_store_rollback(s);
	assert_int_equal(hub_store_begin(s2, true), FEDNS_OK);
	assert_int_equal(hub_store_commit(s2), FEDNS_OK);
	hub_store_close(s2);
	hub_store_close(s);
}

/* The SQLite half of the check: a dangling reference and a damaged page are reported. */
static void
test_check_integrity(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	for (int i = 0; i < 200; i++)
		append(s, "alice", "zone.create", "ok", NULL);
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_OK);
	hub_store_close(s);

	/* written by something that bypassed the foreign keys */
	raw_sql(dbpath, "PRAGMA foreign_keys = OFF; INSERT INTO role_bindings VALUES(77, 0, 1)");
	s = open_store(dbpath);
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_EIO);
	assert_non_null(strstr(d.msg, "role_bindings"));
	assert_non_null(strstr(d.msg, "missing principals row"));
	hub_store_close(s);
	raw_sql(dbpath, "DELETE FROM role_bindings WHERE principal_id = 77");

	/* a damaged page in the audit table's b-tree (the file's last page) */
	raw_sql(dbpath, "PRAGMA wal_checkpoint(TRUNCATE)");
	FILE *f = fopen(dbpath, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 8192);
	assert_int_equal(fseek(f, size - 4096, SEEK_SET), 0);
	for (int i = 0; i < 64; i++)
		fputc(0xff, f);
	fclose(f);
	s = open_store(dbpath);
	fedns_diag_clear(&d);
	fedns_err e = hub_store_check(s, &d);
	assert_int_equal(e, FEDNS_EIO);
	if (!strstr(d.msg, "integrity_check: Page "))
		fail_msg("check said: %s", d.msg);
	hub_store_close(s);
}

typedef struct writer_arg {
	const char *path;
	volatile int stop;
	int written;
	fedns_err err;
} writer_arg;

static void *
writer(void *p)
{
	writer_arg *w = p;
	hub_store_opts o = {.path = w->path};
	hub_store *s = NULL;
	if ((w->err = hub_store_open(&o, &s, NULL)))
		return NULL;
	while (!w->stop || w->written < 20) {
		hub_audit a;
		memset(&a, 0, sizeof a);
		snprintf(a.principal, sizeof a.principal, "writer");
		snprintf(a.action, sizeof a.action, "test.write");
		snprintf(a.outcome, sizeof a.outcome, "ok");
		snprintf(a.target, sizeof a.target, "n:%d", w->written);
		if ((w->err = hub_store_begin(s, true)))
			break;
		if ((w->err = hub_audit_append(s, &a))) {
			hub_store_rollback(s);
			break;
		}
		if ((w->err = hub_store_commit(s)))
			break;
		w->written++;
	}
	hub_store_close(s);
	return NULL;
}

static void
test_backup(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	int64_t z = add_zone(s, t, "example.com.", 1);
	for (int i = 0; i < 10; i++)
		append(s, "alice", "zone.create", "ok", NULL);

	writer_arg w = {.path = dbpath};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, writer, &w), 0);
	char dest[320];
	snprintf(dest, sizeof dest, "%s/backup.db", dir);
	fedns_diag d;
	for (int i = 0; i < 5; i++) {
		fedns_diag_clear(&d);
		if (hub_store_backup(s, dest, &d))
			fail_msg("backup: %s", d.msg);
	}
	w.stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(w.err, FEDNS_OK);
	assert_true(w.written >= 20);

	/* the copy opens without create, checks clean and holds the zone */
	hub_store_opts o = {.path = dest};
	hub_store *b = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_open(&o, &b, &d), FEDNS_OK);
	fedns_diag_clear(&d);
	if (hub_store_check(b, &d))
		fail_msg("check backup: %s", d.msg);
	hub_zone zz;
	assert_int_equal(hub_zone_get(b, "example.com.", &zz), FEDNS_OK);
	assert_int_equal(zz.id, z);
	char *txt = NULL, *want_src = zone_text(1), *want = canon(want_src);
	assert_int_equal(hub_version_text(b, z, 1, &txt), FEDNS_OK);
	assert_string_equal(txt, want);
	free(txt);
	free(want);
	free(want_src);
	hub_audit h;
	assert_int_equal(hub_audit_head(b, &h), FEDNS_OK);
	assert_true(h.seq >= 10);
	hub_store_close(b);

	/* the source is still whole too */
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_check(s, &d), FEDNS_OK);
	assert_int_equal(hub_audit_head(s, &h), FEDNS_OK);
	assert_int_equal(h.seq, 10 + w.written);

	/* one file, nothing left beside it; never over the store itself */
	DIR *dd = opendir(dir);
	assert_non_null(dd);
	for (struct dirent *de; (de = readdir(dd));)
		if (strstr(de->d_name, "backup") && strcmp(de->d_name, "backup.db") != 0)
			fail_msg("left behind: %s", de->d_name);
	closedir(dd);
	fedns_diag_clear(&d);
	assert_int_equal(hub_store_backup(s, dbpath, &d), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "the store itself"));
	/* an unwritable destination is an error with the path in it */
	fedns_diag_clear(&d);
	assert_int_not_equal(hub_store_backup(s, "/nonexistent-dir/x.db", &d), FEDNS_OK);
	assert_non_null(strstr(d.msg, "/nonexistent-dir/x.db"));
	hub_store_close(s);
}

/* A committed change from 'from' to 'to' (zone_text contents) and its version. */
static int64_t
commit_version(hub_store *s, int64_t zone, int64_t author, uint32_t from, uint32_t to)
{
	char *prev = zone_text(from), *cur = zone_text(to);
	hub_change c = {.zone_id = zone,
			.author_id = author,
			.base_serial = from,
			.state = HUB_CHANGE_COMMITTED,
			.serial = to};
	snprintf(c.reason, sizeof c.reason, "to %u", to);
	snprintf(c.digest, sizeof c.digest, "dg%u", to);
	c.diff = diff_text(prev, cur);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_change_create(s, &c, NULL), FEDNS_OK);
	if (hub_version_add(s, zone, to, c.id, c.digest, NULL))
		fail_msg("version %u: %s", to, hub_store_errmsg(s));
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	free(c.diff);
	free(prev);
	free(cur);
	return c.id;
}

/* A minimal zone of its own name (zone_text's names are under example.com.). */
static int64_t
add_small_zone(hub_store *s, int64_t tenant, const char *name)
{
	char text[300];
	snprintf(text, sizeof text,
		 "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n"
		 "ns1 A 192.0.2.53\n",
		 name);
	int64_t id = 0;
	if (hub_zone_create(s, tenant, name, 1, 1, "d1", text, &id))
		fail_msg("zone create: %s", hub_store_errmsg(s));
	return id;
}

static void
free_signed(hub_signed_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hub_signed_change_fini(&v[i]);
	free(v);
}

/* A schema 3 store (a placement, a committed change) opened by this code becomes schema 4
 * with its data, and the new calls work on it at once. */
static void
test_federation_migrate_v3(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t, alice;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &alice), FEDNS_OK);
	int64_t z = add_zone(s, t, "example.com.", 10);
	const char *cl[] = {"east"};
	assert_int_equal(hub_zone_set_placement(s, z, cl, 1), FEDNS_OK);
	int64_t c11 = commit_version(s, z, alice, 10, 11);
	hub_store_close(s);
	raw_sql(dbpath, DROP_V4 "PRAGMA user_version = 3");

	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM sqlite_schema WHERE name IN "
					    "('clusters', 'secondaries')",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	s = open_store(dbpath);
	assert_int_equal(hub_store_schema_version(s), 4);
	hub_zone zz;
	assert_int_equal(hub_zone_get(s, "example.com.", &zz), FEDNS_OK);
	assert_int_equal(zz.serial, 11);
	hub_cluster *cls = NULL;
	size_t n = 0;
	assert_int_equal(hub_cluster_list(s, &cls, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(cls[0].name, "east");
	assert_false(cls[0].connected);
	free(cls);
	hub_signed_change *v = NULL;
	assert_int_equal(hub_changes_after(s, z, 10, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].change_id, c11);
	assert_null(v[0].payload);
	free_signed(v, n);
	const uint8_t pl[] = {1, 2, 3}, sig[] = {9, 8};
	assert_int_equal(hub_change_set_signed(s, c11, pl, 3, sig, 2, "k1"), FEDNS_OK);
	assert_int_equal(hub_store_check(s, NULL), FEDNS_OK);
	hub_store_close(s);
}

static void
test_changes_after(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t, alice;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &alice), FEDNS_OK);
	/* serials wrap (RFC 1982): commit order is not numeric order */
	int64_t z = add_zone(s, t, "example.com.", 4294967294u);
	const uint32_t ser[] = {4294967294u, 4294967295u, 1, 2, 3, 4};
	int64_t cid[6] = {0};
	for (size_t i = 1; i < 6; i++)
		cid[i] = commit_version(s, z, alice, ser[i - 1], ser[i]);

	hub_signed_change *v = NULL;
	size_t n = 99;
	assert_int_equal(hub_changes_after(s, z, 4294967294u, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(v[i].change_id, cid[i + 1]);
		assert_int_equal(v[i].zone_id, z);
		assert_int_equal(v[i].from_serial, ser[i]);
		assert_int_equal(v[i].to_serial, ser[i + 1]);
		char want[16];
		snprintf(want, sizeof want, "dg%u", ser[i + 1]);
		assert_string_equal(v[i].digest, want);
		assert_false(v[i].delete_zone);
		assert_null(v[i].payload);
		assert_int_equal(v[i].payload_len, 0);
		/* the committed diff text, SOA lines included */
		char *a = zone_text(ser[i]), *b = zone_text(ser[i + 1]), *d = diff_text(a, b);
		assert_string_equal(v[i].diff, d);
		free(a);
		free(b);
		free(d);
	}
	free_signed(v, n);
	/* from the middle, with a limit */
	assert_int_equal(hub_changes_after(s, z, 1, 2, &v, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].from_serial, 1);
	assert_int_equal(v[0].to_serial, 2);
	assert_int_equal(v[1].from_serial, 2);
	assert_int_equal(v[1].to_serial, 3);
	free_signed(v, n);
	/* current: nothing to send */
	assert_int_equal(hub_changes_after(s, z, 4, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(v);
	/* never a version, an unknown zone */
	assert_int_equal(hub_changes_after(s, z, 5, 0, &v, &n), FEDNS_ENOENT);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(hub_changes_after(s, 999, 4, 0, &v, &n), FEDNS_ENOENT);

	/* signed once; the bytes come back with the change */
	const uint8_t pl[] = {0x0a, 0x00, 0x03, 0xff}, sig[64] = {1, 2, 3};
	assert_int_equal(
		hub_change_set_signed(s, cid[4], pl, sizeof pl, sig, sizeof sig, "hubkey-1"),
		FEDNS_OK);
	const uint8_t other[] = {7};
	assert_int_equal(hub_change_set_signed(s, cid[4], other, 1, sig, sizeof sig, "hubkey-2"),
			 FEDNS_EEXIST);
	assert_non_null(strstr(hub_store_errmsg(s), "already signed"));
	assert_int_equal(hub_changes_after(s, z, 1, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_null(v[0].payload);
	assert_int_equal(v[1].change_id, cid[4]);
	assert_int_equal(v[1].payload_len, sizeof pl);
	assert_memory_equal(v[1].payload, pl, sizeof pl); /* the first signing's bytes */
	assert_int_equal(v[1].signature_len, sizeof sig);
	assert_memory_equal(v[1].signature, sig, sizeof sig);
	assert_string_equal(v[1].key_id, "hubkey-1");
	assert_null(v[2].payload);
	free_signed(v, n);
	/* bad input: nothing stored */
	assert_int_equal(hub_change_set_signed(s, cid[5], NULL, 0, sig, sizeof sig, "k"),
			 FEDNS_EINVAL);
	assert_int_equal(hub_change_set_signed(s, cid[5], pl, sizeof pl, sig, 0, "k"),
			 FEDNS_EINVAL);
	assert_int_equal(hub_change_set_signed(s, cid[5], pl, sizeof pl, sig, sizeof sig, ""),
			 FEDNS_EINVAL);
	assert_int_equal(hub_change_set_signed(s, 999, pl, sizeof pl, sig, sizeof sig, "k"),
			 FEDNS_ENOENT);
	hub_change prop = {.zone_id = z, .author_id = alice, .base_serial = 4};
	snprintf(prop.reason, sizeof prop.reason, "open");
	prop.diff = "+x.example.com.\t300\tIN\tA\t192.0.2.1\n";
	assert_int_equal(hub_change_create(s, &prop, NULL), FEDNS_OK);
	assert_int_equal(hub_change_set_signed(s, prop.id, pl, sizeof pl, sig, sizeof sig, "k"),
			 FEDNS_EINVAL);
	assert_non_null(strstr(hub_store_errmsg(s), "not committed"));
	assert_int_equal(hub_changes_after(s, z, 3, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_null(v[0].payload);
	free_signed(v, n);

	/* pruned versions are not a starting point any more */
	assert_int_equal(hub_version_prune(s, z, 2), FEDNS_OK);
	assert_int_equal(hub_changes_after(s, z, 1, 0, &v, &n), FEDNS_ENOENT);
	assert_int_equal(hub_changes_after(s, z, 3, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].to_serial, 4);
	free_signed(v, n);

	/* a deletion ends the stream: it keeps the last serial and is marked */
	hub_change del = {.zone_id = z,
			  .author_id = alice,
			  .base_serial = 4,
			  .serial = 4,
			  .state = HUB_CHANGE_COMMITTED,
			  .delete_zone = true};
	snprintf(del.reason, sizeof del.reason, "gone");
	snprintf(del.digest, sizeof del.digest, "dg4");
	del.diff = "-h1.example.com.\t300\tIN\tA\t198.51.100.11\n";
	assert_int_equal(hub_change_create(s, &del, NULL), FEDNS_OK);
	assert_int_equal(hub_zone_mark_deleted(s, z), FEDNS_OK);
	assert_int_equal(hub_changes_after(s, z, 4, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_true(v[0].delete_zone);
	assert_int_equal(v[0].change_id, del.id);
	assert_int_equal(v[0].from_serial, 4);
	assert_int_equal(v[0].to_serial, 4);
	free_signed(v, n);
	assert_int_equal(hub_changes_after(s, z, 3, 0, &v, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_false(v[0].delete_zone);
	assert_true(v[1].delete_zone);
	free_signed(v, n);
	assert_int_equal(hub_changes_after(s, z, 3, 1, &v, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_false(v[0].delete_zone);
	free_signed(v, n);
	hub_store_close(s);
}

static void
test_clusters(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	int64_t za = add_small_zone(s, t, "a.example.");
	int64_t zb = add_small_zone(s, t, "b.example.");
	int64_t zc = add_small_zone(s, t, "c.example.");
	const char *p1[] = {"west", "east"}, *p2[] = {"east"}, *p3[] = {"gone"};
	assert_int_equal(hub_zone_set_placement(s, zb, p1, 2), FEDNS_OK);
	assert_int_equal(hub_zone_set_placement(s, za, p2, 1), FEDNS_OK);
	assert_int_equal(hub_zone_set_placement(s, zc, p3, 1), FEDNS_OK);
	assert_int_equal(hub_zone_mark_deleted(s, zc), FEDNS_OK); /* "gone" is not listed */

	hub_cluster *cl = NULL;
	size_t n = 0;
	assert_int_equal(hub_cluster_list(s, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cl[0].name, "east");
	assert_string_equal(cl[1].name, "west");
	assert_false(cl[0].connected);
	assert_int_equal(cl[0].first_seen, 0);
	assert_int_equal(cl[0].last_seen, 0);
	free(cl);
	hub_cluster c;
	assert_int_equal(hub_cluster_get(s, "west", &c), FEDNS_OK);
	assert_false(c.connected);
	assert_int_equal(hub_cluster_get(s, "gone", &c), FEDNS_ENOENT);
	assert_int_equal(hub_cluster_get(s, "north", &c), FEDNS_ENOENT);
	assert_non_null(strstr(hub_store_errmsg(s), "north"));

	/* a spoke connects: its row is made, the placement-only listing is not doubled */
	assert_int_equal(hub_cluster_connected(s, "east", "fedns-spoke 0.4", "192.0.2.7:4100",
					       1900000000, 1000),
			 FEDNS_OK);
	assert_int_equal(hub_cluster_connected(s, "north", "v", "192.0.2.8:1", 5, 1500), FEDNS_OK);
	assert_int_equal(hub_cluster_list(s, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(cl[0].name, "east");
	assert_string_equal(cl[1].name, "north");
	assert_string_equal(cl[2].name, "west");
	assert_true(cl[0].connected);
	assert_int_equal(cl[0].first_seen, 1000);
	assert_int_equal(cl[0].connected_since, 1000);
	assert_string_equal(cl[0].software_version, "fedns-spoke 0.4");
	assert_string_equal(cl[0].peer, "192.0.2.7:4100");
	assert_int_equal(cl[0].cert_not_after, 1900000000);
	free(cl);

	assert_int_equal(hub_cluster_count(s, "east", 5, 4, 1, "digest_mismatch"), FEDNS_OK);
	assert_int_equal(hub_cluster_count(s, "east", 2, 2, 0, NULL), FEDNS_OK);
	assert_int_equal(hub_cluster_count(s, "west", 1, 0, 0, NULL), FEDNS_ENOENT);
	assert_int_equal(hub_cluster_disconnected(s, "east", NULL, 2000), FEDNS_OK);
	assert_int_equal(hub_cluster_get(s, "east", &c), FEDNS_OK);
	assert_false(c.connected);
	assert_int_equal(c.connected_since, 0);
	assert_int_equal(c.last_seen, 2000);
	assert_int_equal(c.sent, 7);
	assert_int_equal(c.applied, 6);
	assert_int_equal(c.refused, 1);
	assert_string_equal(c.last_error, "digest_mismatch"); /* kept: NULL sets nothing */
	/* reconnect: first_seen stays, a new connected_since */
	assert_int_equal(hub_cluster_connected(s, "east", "fedns-spoke 0.5", "192.0.2.7:4101",
					       1900000001, 3000),
			 FEDNS_OK);
	assert_int_equal(hub_cluster_get(s, "east", &c), FEDNS_OK);
	assert_true(c.connected);
	assert_int_equal(c.first_seen, 1000);
	assert_int_equal(c.connected_since, 3000);
	assert_string_equal(c.software_version, "fedns-spoke 0.5");
	assert_int_equal(c.sent, 7);

	/* a refused cluster known only by placement gets a row showing why */
	assert_int_equal(hub_cluster_disconnected(s, "west", "certificate revoked", 4000),
			 FEDNS_OK);
	assert_int_equal(hub_cluster_get(s, "west", &c), FEDNS_OK);
	assert_false(c.connected);
	assert_int_equal(c.first_seen, 0);
	assert_int_equal(c.last_seen, 4000);
	assert_string_equal(c.last_error, "certificate revoked");
	/* a hub starting has no session: every cluster is disconnected, last seen then */
	assert_int_equal(hub_cluster_all_disconnected(s, 5000), FEDNS_OK);
	assert_int_equal(hub_cluster_list(s, &cl, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_false(cl[i].connected);
		assert_int_equal(cl[i].connected_since, 0);
	}
	assert_int_equal(cl[0].last_seen, 5000); /* east was connected */
	assert_int_equal(cl[1].last_seen, 5000); /* north too */
	assert_int_equal(cl[2].last_seen, 4000); /* west was not: kept */
	assert_int_equal(cl[0].first_seen, 1000);
	free(cl);
	/* a name nobody placed or saw is not recorded from an unauthenticated hello */
	assert_int_equal(hub_cluster_disconnected(s, "mallory", "bad", 4000), FEDNS_ENOENT);
	assert_int_equal(hub_cluster_get(s, "mallory", &c), FEDNS_ENOENT);
	assert_int_equal(hub_cluster_connected(s, "", "v", "p", 0, 1), FEDNS_EINVAL);
	char longname[80];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(hub_cluster_connected(s, longname, "v", "p", 0, 1), FEDNS_ETOOBIG);

	/* the zones placed on a cluster, live ones, by name */
	hub_zone *zl = NULL;
	assert_int_equal(hub_cluster_zones(s, "east", &zl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(zl[0].name, "a.example.");
	assert_string_equal(zl[1].name, "b.example.");
	free(zl);
	assert_int_equal(hub_cluster_zones(s, "gone", &zl, &n), FEDNS_OK);
	assert_int_equal(n, 0);
	free(zl);
	hub_store_close(s);
}

static void
test_spoke_zones_secondaries(void **state)
{
	(void)state;
	hub_store *s = open_store(dbpath);
	int64_t t;
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	int64_t za = add_small_zone(s, t, "a.example.");
	int64_t zb = add_small_zone(s, t, "b.example.");

	hub_spoke_zone sz = {.zone_id = zb,
			     .serial = 7,
			     .acked_at = 100,
			     .change_id = 0,
			     .committed_at = 90,
			     .applied_ms = 10};
	snprintf(sz.cluster, sizeof sz.cluster, "west");
	snprintf(sz.digest, sizeof sz.digest, "abcd");
	snprintf(sz.last_status, sizeof sz.last_status, "applied");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	snprintf(sz.cluster, sizeof sz.cluster, "east");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	sz.zone_id = za;
	sz.serial = 3;
	sz.applied_ms = -1;
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	/* an update replaces the row */
	sz.serial = 4;
	snprintf(sz.last_status, sizeof sz.last_status, "refused");
	snprintf(sz.last_reason, sizeof sz.last_reason, "gap");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	sz.zone_id = 999;
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_ENOENT);

	hub_spoke_zone *l = NULL;
	size_t n = 0;
	assert_int_equal(hub_spoke_zone_list(s, NULL, 0, &l, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].cluster, "east");
	assert_string_equal(l[0].zone, "a.example.");
	assert_int_equal(l[0].serial, 4);
	assert_string_equal(l[0].last_status, "refused");
	assert_string_equal(l[0].last_reason, "gap");
	assert_int_equal(l[0].applied_ms, -1);
	assert_string_equal(l[1].zone, "b.example.");
	assert_string_equal(l[2].cluster, "west");
	assert_int_equal(l[2].serial, 7);
	assert_string_equal(l[2].digest, "abcd");
	assert_int_equal(l[2].acked_at, 100);
	assert_int_equal(l[2].committed_at, 90);
	assert_int_equal(l[2].applied_ms, 10);
	free(l);
	assert_int_equal(hub_spoke_zone_list(s, "east", zb, &l, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].serial, 7);
	free(l);
	assert_int_equal(hub_spoke_zone_delete(s, "east", zb), FEDNS_OK);
	assert_int_equal(hub_spoke_zone_delete(s, "east", zb), FEDNS_OK); /* idempotent */
	assert_int_equal(hub_spoke_zone_list(s, NULL, zb, &l, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].cluster, "west");
	free(l);

	/* secondaries: a new row says "" was before; the same state keeps state_since */
	hub_secondary r = {.zone_id = za,
			   .has_serial = true,
			   .serial = 4,
			   .last_proven = 0,
			   .lag_ms = -1,
			   .updated_at = 1000,
			   .confirmed_ms = -1};
	snprintf(r.cluster, sizeof r.cluster, "east");
	snprintf(r.secondary, sizeof r.secondary, "ns1");
	snprintf(r.address, sizeof r.address, "127.0.0.1:5301");
	snprintf(r.state, sizeof r.state, "lagging");
	char old[16] = "x";
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_OK);
	assert_string_equal(old, "");
	r.updated_at = 2000;
	r.lag_ms = 900;
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_OK);
	assert_string_equal(old, "lagging");
	hub_secondary *sl = NULL;
	assert_int_equal(hub_secondary_list(s, NULL, 0, NULL, &sl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sl[0].state_since, 1000);
	assert_int_equal(sl[0].updated_at, 2000);
	assert_int_equal(sl[0].lag_ms, 900);
	assert_string_equal(sl[0].zone, "a.example.");
	free(sl);
	/* a new state starts its own since (updated_at when not given) */
	snprintf(r.state, sizeof r.state, "in_sync");
	snprintf(r.digest, sizeof r.digest, "beef");
	r.updated_at = 3000;
	r.last_proven = 3000;
	r.confirmed_ms = 42;
	r.repairs = 1;
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_OK);
	assert_string_equal(old, "lagging");
	assert_int_equal(hub_secondary_list(s, "east", za, "in_sync", &sl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sl[0].state_since, 3000);
	assert_int_equal(sl[0].confirmed_ms, 42);
	assert_int_equal(sl[0].repairs, 1);
	assert_int_equal(sl[0].last_proven, 3000);
	assert_string_equal(sl[0].digest, "beef");
	assert_string_equal(sl[0].address, "127.0.0.1:5301");
	assert_true(sl[0].has_serial);
	assert_int_equal(sl[0].serial, 4);
	free(sl);
	/* more rows for the filters and the order (zone, cluster, secondary) */
	snprintf(r.secondary, sizeof r.secondary, "ns0");
	snprintf(r.state, sizeof r.state, "unreachable");
	r.has_serial = false;
	r.state_since = 2500;
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	r.zone_id = zb;
	snprintf(r.cluster, sizeof r.cluster, "west");
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	assert_int_equal(hub_secondary_list(s, NULL, 0, NULL, &sl, &n), FEDNS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(sl[0].secondary, "ns0");
	assert_int_equal(sl[0].state_since, 2500);
	assert_false(sl[0].has_serial);
	assert_string_equal(sl[1].secondary, "ns1");
	assert_string_equal(sl[2].zone, "b.example.");
	free(sl);
	assert_int_equal(hub_secondary_list(s, NULL, 0, "unreachable", &sl, &n), FEDNS_OK);
	assert_int_equal(n, 2);
	free(sl);
	assert_int_equal(hub_secondary_list(s, "west", 0, NULL, &sl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	free(sl);
	/* bad rows change nothing */
	snprintf(r.state, sizeof r.state, "pending");
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_EINVAL);
	assert_non_null(strstr(hub_store_errmsg(s), "pending"));
	snprintf(r.state, sizeof r.state, "in_sync");
	r.secondary[0] = '\0';
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_EINVAL);
	snprintf(r.secondary, sizeof r.secondary, "ns9");
	r.zone_id = 999;
	assert_int_equal(hub_secondary_put(s, &r, old), FEDNS_ENOENT);
	assert_int_equal(hub_secondary_delete(s, "east", za), FEDNS_OK);
	assert_int_equal(hub_secondary_list(s, NULL, 0, NULL, &sl, &n), FEDNS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sl[0].cluster, "west");
	free(sl);
	hub_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenants_principals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_principal_pages_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_integrity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_federation_migrate_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clusters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spoke_zones_secondaries, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
