/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's store on SQLite: schema migrations, cached statements, SQLite errors turned
 * into fedns_err where they happen, versions rebuilt from snapshots and diffs, the audit
 * chain appended and checked, online backup. */
#include "hub/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/auditchain.h"
#include "common/buf.h"
#include "dns/name.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

/* 'fdns': marks a file as a fedns store so another application's database is refused. */
#define STORE_APP_ID 0x66646e73

/* Ordered migrations: entry i takes the schema from version i to i + 1, each in its own
 * transaction. Never edit a shipped entry; append a new one. */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"PRAGMA application_id = 1717857907;"
	"CREATE TABLE tenants(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"
	/* tenant 0 exists so estate-wide grants satisfy the foreign key */
	"INSERT INTO tenants(id, name, created_at) VALUES(0, '*', 0);"
	"CREATE TABLE principals(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL CHECK(kind IN ('person', 'automation')),"
	" disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
	"CREATE TABLE tokens(id INTEGER PRIMARY KEY,"
	" principal_id INTEGER NOT NULL REFERENCES principals(id),"
	" hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,"
	" disabled INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_principal ON tokens(principal_id);"
	"CREATE TABLE pubkeys(key_id TEXT PRIMARY KEY,"
	" principal_id INTEGER NOT NULL REFERENCES principals(id),"
	" spki TEXT NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE role_bindings(principal_id INTEGER NOT NULL REFERENCES principals(id),"
	" tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	" role INTEGER NOT NULL CHECK(role BETWEEN 1 AND 4),"
	" PRIMARY KEY(principal_id, tenant_id));"
	"CREATE TABLE zones(id INTEGER PRIMARY KEY,"
	" tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	" name TEXT NOT NULL UNIQUE, approvals_required INTEGER NOT NULL DEFAULT 1,"
	" serial INTEGER NOT NULL, digest TEXT NOT NULL DEFAULT '',"
	" deleted INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
	"CREATE INDEX zones_tenant ON zones(tenant_id, name);"
	"CREATE TABLE zone_placement(zone_id INTEGER NOT NULL REFERENCES zones(id),"
	" cluster TEXT NOT NULL, PRIMARY KEY(zone_id, cluster));"
	"CREATE TABLE changes(id INTEGER PRIMARY KEY,"
	" zone_id INTEGER NOT NULL REFERENCES zones(id),"
	" state INTEGER NOT NULL CHECK(state BETWEEN 1 AND 5),"
	" author_id INTEGER NOT NULL REFERENCES principals(id),"
	" reason TEXT NOT NULL, ticket TEXT NOT NULL DEFAULT '',"
	" base_serial INTEGER NOT NULL, serial INTEGER NOT NULL DEFAULT 0,"
	" diff TEXT NOT NULL, digest TEXT NOT NULL DEFAULT '', signature TEXT,"
	" created_at INTEGER NOT NULL, decided_at INTEGER NOT NULL DEFAULT 0,"
	" idem_key TEXT, UNIQUE(author_id, idem_key));"
	"CREATE INDEX changes_zone ON changes(zone_id, state);"
	"CREATE TABLE approvals(change_id INTEGER NOT NULL REFERENCES changes(id),"
	" principal_id INTEGER NOT NULL REFERENCES principals(id),"
	" approve INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '',"
	" at INTEGER NOT NULL, signature TEXT, PRIMARY KEY(change_id, principal_id));"
	"CREATE TABLE versions(id INTEGER PRIMARY KEY,"
	" zone_id INTEGER NOT NULL REFERENCES zones(id), serial INTEGER NOT NULL,"
	" change_id INTEGER REFERENCES changes(id), digest TEXT NOT NULL,"
	" at INTEGER NOT NULL, pruned INTEGER NOT NULL DEFAULT 0, UNIQUE(zone_id, serial));"
	"CREATE INDEX versions_zone ON versions(zone_id, id);"
	"CREATE TABLE snapshots(version_id INTEGER PRIMARY KEY"
	" REFERENCES versions(id) ON DELETE CASCADE,"
	" zone_id INTEGER NOT NULL, serial INTEGER NOT NULL, text TEXT NOT NULL,"
	" canonical INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX snapshots_zone ON snapshots(zone_id, version_id);"
	"CREATE TABLE audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	" principal TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
	" outcome TEXT NOT NULL, payload_digest TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TABLE idempotency(principal_id INTEGER NOT NULL, key TEXT NOT NULL,"
	" status INTEGER NOT NULL, body TEXT NOT NULL, request_digest TEXT NOT NULL,"
	" at INTEGER NOT NULL, PRIMARY KEY(principal_id, key));",
	/* 2: a change may propose the zone's deletion instead of an edit */
	"ALTER TABLE changes ADD COLUMN delete_zone INTEGER NOT NULL DEFAULT 0;",
	/* 3: a signed approval names its key and the digest of the text it signed */
	"ALTER TABLE approvals ADD COLUMN key_id TEXT;"
	"ALTER TABLE approvals ADD COLUMN signed_digest TEXT;",
	/* 4: federation: the signed form of committed changes, clusters, what each spoke
	 * holds and what each secondary serves */
	"CREATE TABLE signed_changes(change_id INTEGER PRIMARY KEY REFERENCES changes(id),"
	" payload BLOB NOT NULL, signature BLOB NOT NULL, key_id TEXT NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE TABLE clusters(name TEXT PRIMARY KEY,"
	" connected INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0, connected_since INTEGER NOT NULL DEFAULT 0,"
	" software_version TEXT NOT NULL DEFAULT '', peer TEXT NOT NULL DEFAULT '',"
	" cert_not_after INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
	" sent INTEGER NOT NULL DEFAULT 0, applied INTEGER NOT NULL DEFAULT 0,"
	" refused INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX zone_placement_cluster ON zone_placement(cluster, zone_id);"
	"CREATE TABLE spoke_zones(cluster TEXT NOT NULL,"
	" zone_id INTEGER NOT NULL REFERENCES zones(id), serial INTEGER NOT NULL,"
	" digest TEXT NOT NULL DEFAULT '', acked_at INTEGER NOT NULL DEFAULT 0,"
	" change_id INTEGER NOT NULL DEFAULT 0, committed_at INTEGER NOT NULL DEFAULT 0,"
	" applied_ms INTEGER NOT NULL DEFAULT -1, last_status TEXT NOT NULL DEFAULT '',"
	" last_reason TEXT NOT NULL DEFAULT '', PRIMARY KEY(cluster, zone_id));"
	"CREATE INDEX spoke_zones_zone ON spoke_zones(zone_id);"
	"CREATE TABLE secondaries(cluster TEXT NOT NULL,"
	" zone_id INTEGER NOT NULL REFERENCES zones(id), name TEXT NOT NULL,"
	" address TEXT NOT NULL DEFAULT '', state TEXT NOT NULL CHECK(state IN ('unknown',"
	" 'in_sync', 'lagging', 'diverged', 'unreachable')),"
	" has_serial INTEGER NOT NULL DEFAULT 0, serial INTEGER NOT NULL DEFAULT 0,"
	" digest TEXT NOT NULL DEFAULT '', last_proven INTEGER NOT NULL DEFAULT 0,"
	" lag_ms INTEGER NOT NULL DEFAULT -1, last_error TEXT NOT NULL DEFAULT '',"
	" repairs INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,"
	" state_since INTEGER NOT NULL, confirmed_ms INTEGER NOT NULL DEFAULT -1,"
	" PRIMARY KEY(cluster, zone_id, name));"
	"CREATE INDEX secondaries_zone ON secondaries(zone_id, cluster);",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Every statement the store runs, prepared once per handle on first use. */
enum stmt_id {
	ST_TENANT_INS,
	ST_TENANT_GET,
	ST_TENANT_LIST,
	ST_PRIN_INS,
	ST_PRIN_GET,
	ST_PRIN_GET_ID,
	ST_PRIN_LIST,
	ST_PRIN_PAGE,
	ST_PRIN_DISABLE,
	ST_ROLE_LIST,
	ST_APPROVAL_SIGN,
	ST_TOKEN_INS,
	ST_TOKEN_LOOKUP,
	ST_PUBKEY_INS,
	ST_PUBKEY_LOOKUP,
	ST_ROLE_GRANT,
	ST_ROLE_REVOKE,
	ST_ROLE_OF,
	ST_ZONE_INS,
	ST_ZONE_GET,
	ST_ZONE_GET_ID,
	ST_ZONE_LIST,
	ST_ZONE_POLICY,
	ST_ZONE_DELETED,
	ST_ZONE_SET_CURRENT,
	ST_PLACE_DEL,
	ST_PLACE_INS,
	ST_PLACE_LIST,
	ST_VERSION_INS,
	ST_VERSION_FIND,
	ST_VERSION_LIST,
	ST_VERSION_NTH,
	ST_VERSION_HIDE,
	ST_VERSION_PRUNE,
	ST_SNAP_INS,
	ST_SNAP_FIND,
	ST_SNAP_PRUNE,
	ST_DIFFS_BETWEEN,
	ST_CHANGE_INS,
	ST_CHANGE_BY_IDEM,
	ST_CHANGE_GET,
	ST_CHANGE_LIST,
	ST_CHANGE_UPDATE,
	ST_CHANGE_STALE,
	ST_APPROVAL_INS,
	ST_APPROVAL_LIST,
	ST_AUDIT_HEAD,
	ST_AUDIT_INS,
	ST_AUDIT_LIST,
	ST_IDEM_GET,
	ST_IDEM_PUT,
	ST_CHANGES_AFTER,
	ST_CHANGE_DELETE_OF,
	ST_CHANGE_STATE,
	ST_SIGNED_INS,
	ST_CLUSTER_CONNECT,
	ST_CLUSTER_DISCONNECT,
	ST_CLUSTER_ALL_DISCONNECT,
	ST_CLUSTER_GET,
	ST_CLUSTER_LIST,
	ST_CLUSTER_COUNT,
	ST_CLUSTER_ZONES,
	ST_SPOKE_ZONE_PUT,
	ST_SPOKE_ZONE_LIST,
	ST_SPOKE_ZONE_DEL,
	ST_SECONDARY_OLD,
	ST_SECONDARY_PUT,
	ST_SECONDARY_LIST,
	ST_SECONDARY_DEL,
	ST__COUNT
};

#define CHANGE_COLS                                                                                \
	"c.id, c.zone_id, c.state, c.author_id, c.reason, c.ticket, c.base_serial, c.serial,"      \
	" c.diff, c.digest, c.signature, c.created_at, c.decided_at,"                              \
	" (SELECT count(*) FROM approvals a WHERE a.change_id = c.id AND a.approve = 1),"          \
	" c.delete_zone"
#define ZONE_COLS "id, tenant_id, name, approvals_required, serial, digest, deleted, created_at"
#define PRIN_COLS "id, name, kind, disabled, created_at"
#define AUDIT_COLS "seq, at, principal, action, target, outcome, payload_digest, prev_hash, hash"
#define SIGNED_COLS                                                                                \
	"c.id, c.zone_id, c.serial, c.digest, c.diff, c.delete_zone, sc.payload, sc.signature,"    \
	" sc.key_id"
#define CLUSTER_COLS                                                                               \
	"name, connected, first_seen, last_seen, connected_since, software_version, peer,"         \
	" cert_not_after, last_error, sent, applied, refused"
/* clusters with a row, then those only named by the placement of a live zone (never seen) */
#define CLUSTER_SELECT                                                                             \
	"SELECT " CLUSTER_COLS " FROM clusters WHERE (?1 IS NULL OR name = ?1)"                    \
	" UNION ALL SELECT DISTINCT p.cluster, 0, 0, 0, 0, '', '', 0, '', 0, 0, 0"                 \
	" FROM zone_placement p JOIN zones z ON z.id = p.zone_id AND z.deleted = 0"                \
	" WHERE (?1 IS NULL OR p.cluster = ?1)"                                                    \
	" AND p.cluster NOT IN (SELECT name FROM clusters) ORDER BY 1"
#define SPOKE_ZONE_COLS                                                                            \
	"sz.cluster, sz.zone_id, z.name, sz.serial, sz.digest, sz.acked_at, sz.change_id,"         \
	" sz.committed_at, sz.applied_ms, sz.last_status, sz.last_reason"
#define SECONDARY_COLS                                                                             \
	"r.cluster, r.zone_id, z.name, r.name, r.address, r.state, r.has_serial, r.serial,"        \
	" r.digest, r.last_proven, r.lag_ms, r.last_error, r.repairs, r.updated_at,"               \
	" r.state_since, r.confirmed_ms"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_TENANT_INS] = "INSERT INTO tenants(name, created_at) VALUES(?1, ?2)",
	[ST_TENANT_GET] = "SELECT id, name, created_at FROM tenants WHERE name = ?1",
	[ST_TENANT_LIST] = "SELECT id, name, created_at FROM tenants WHERE id <> 0 ORDER BY name",
	[ST_PRIN_INS] = "INSERT INTO principals(name, kind, created_at) VALUES(?1, ?2, ?3)",
	[ST_PRIN_GET] = "SELECT " PRIN_COLS " FROM principals WHERE name = ?1",
	[ST_PRIN_GET_ID] = "SELECT " PRIN_COLS " FROM principals WHERE id = ?1",
	[ST_PRIN_LIST] = "SELECT " PRIN_COLS " FROM principals ORDER BY name",
	[ST_PRIN_PAGE] = "SELECT " PRIN_COLS " FROM principals WHERE name > ?1 ORDER BY name"
			 " LIMIT ?2",
	[ST_PRIN_DISABLE] = "UPDATE principals SET disabled = ?2 WHERE id = ?1",
	[ST_ROLE_LIST] = "SELECT r.tenant_id, t.name, r.role FROM role_bindings r"
			 " JOIN tenants t ON t.id = r.tenant_id WHERE r.principal_id = ?1"
			 " ORDER BY r.tenant_id <> 0, t.name",
	[ST_TOKEN_INS] = "INSERT INTO tokens(principal_id, hash, label, created_at, expires_at)"
			 " VALUES(?1, lower(?2), ?3, ?4, ?5)",
	[ST_TOKEN_LOOKUP] = "SELECT p.id, p.name, p.kind, p.disabled, p.created_at"
			    " FROM tokens t JOIN principals p ON p.id = t.principal_id"
			    " WHERE t.hash = lower(?1) AND t.disabled = 0 AND p.disabled = 0"
			    " AND (t.expires_at = 0 OR t.expires_at > ?2)",
	[ST_PUBKEY_INS] = "INSERT INTO pubkeys(key_id, principal_id, spki, created_at)"
			  " VALUES(?1, ?2, ?3, ?4)",
	[ST_PUBKEY_LOOKUP] = "SELECT p.id, p.name, p.kind, p.disabled, p.created_at, k.spki"
			     " FROM pubkeys k JOIN principals p ON p.id = k.principal_id"
			     " WHERE k.key_id = ?1",
	[ST_ROLE_GRANT] = "INSERT INTO role_bindings(principal_id, tenant_id, role)"
			  " VALUES(?1, ?2, ?3) ON CONFLICT(principal_id, tenant_id)"
			  " DO UPDATE SET role = excluded.role",
	[ST_ROLE_REVOKE] = "DELETE FROM role_bindings WHERE principal_id = ?1 AND tenant_id = ?2",
	[ST_ROLE_OF] = "SELECT max(r.role) FROM role_bindings r"
		       " JOIN principals p ON p.id = r.principal_id"
		       " WHERE r.principal_id = ?1 AND r.tenant_id IN (?2, 0) AND p.disabled = 0",
	[ST_ZONE_INS] = "INSERT INTO zones(tenant_id, name, approvals_required, serial, digest,"
			" created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ZONE_GET] = "SELECT " ZONE_COLS " FROM zones WHERE name = ?1",
	[ST_ZONE_GET_ID] = "SELECT " ZONE_COLS " FROM zones WHERE id = ?1",
	[ST_ZONE_LIST] = "SELECT " ZONE_COLS " FROM zones WHERE deleted = 0"
			 " AND (?1 = 0 OR tenant_id = ?1) AND name > ?2 ORDER BY name LIMIT ?3",
	[ST_ZONE_POLICY] = "UPDATE zones SET approvals_required = ?2 WHERE id = ?1",
	[ST_ZONE_DELETED] = "UPDATE zones SET deleted = 1 WHERE id = ?1",
	[ST_ZONE_SET_CURRENT] = "UPDATE zones SET serial = ?2, digest = ?3 WHERE id = ?1",
	[ST_PLACE_DEL] = "DELETE FROM zone_placement WHERE zone_id = ?1",
	[ST_PLACE_INS] = "INSERT INTO zone_placement(zone_id, cluster) VALUES(?1, ?2)",
	[ST_PLACE_LIST] = "SELECT cluster FROM zone_placement WHERE zone_id = ?1 ORDER BY cluster",
	[ST_VERSION_INS] = "INSERT INTO versions(zone_id, serial, change_id, digest, at)"
			   " VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_VERSION_FIND] = "SELECT id FROM versions WHERE zone_id = ?1 AND serial = ?2"
			    " AND pruned = 0",
	[ST_VERSION_LIST] = "SELECT serial FROM versions WHERE zone_id = ?1 AND pruned = 0"
			    " ORDER BY id",
	[ST_VERSION_NTH] = "SELECT id FROM versions WHERE zone_id = ?1 AND pruned = 0"
			   " ORDER BY id DESC LIMIT 1 OFFSET ?2",
	[ST_VERSION_HIDE] = "UPDATE versions SET pruned = 1 WHERE zone_id = ?1 AND id < ?2"
			    " AND pruned = 0",
	[ST_VERSION_PRUNE] = "DELETE FROM versions WHERE zone_id = ?1 AND id < ?2",
	[ST_SNAP_INS] = "INSERT INTO snapshots(version_id, zone_id, serial, text, canonical)"
			" VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_SNAP_FIND] = "SELECT version_id, text, canonical FROM snapshots WHERE zone_id = ?1"
			 " AND version_id <= ?2 ORDER BY version_id DESC LIMIT 1",
	[ST_SNAP_PRUNE] = "DELETE FROM snapshots WHERE zone_id = ?1 AND version_id < ?2",
	[ST_DIFFS_BETWEEN] = "SELECT v.serial, c.diff FROM versions v LEFT JOIN changes c"
			     " ON c.id = v.change_id WHERE v.zone_id = ?1 AND v.id > ?2"
			     " AND v.id <= ?3 ORDER BY v.id",
	[ST_CHANGE_INS] = "INSERT INTO changes(zone_id, state, author_id, reason, ticket,"
			  " base_serial, serial, diff, digest, signature, created_at,"
			  " decided_at, idem_key, delete_zone)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[ST_CHANGE_BY_IDEM] = "SELECT id FROM changes WHERE author_id = ?1 AND idem_key = ?2",
	[ST_CHANGE_GET] = "SELECT " CHANGE_COLS " FROM changes c WHERE c.id = ?1",
	[ST_CHANGE_LIST] = "SELECT " CHANGE_COLS " FROM changes c"
			   " WHERE (?1 = 0 OR c.zone_id = ?1) AND (?2 = 0 OR c.state = ?2)"
			   " AND (?3 <= 0 OR c.id < ?3) ORDER BY c.id DESC LIMIT ?4",
	[ST_CHANGE_UPDATE] = "UPDATE changes SET state = ?2, reason = ?3, ticket = ?4,"
			     " base_serial = ?5, serial = ?6, diff = ?7, digest = ?8,"
			     " signature = ?9, decided_at = ?10 WHERE id = ?1",
	[ST_CHANGE_STALE] = "UPDATE changes SET state = 4, decided_at = ?3"
			    " WHERE zone_id = ?1 AND state = 1 AND base_serial <> ?2",
	[ST_APPROVAL_INS] = "INSERT INTO approvals(change_id, principal_id, approve, comment, at,"
			    " signature) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_APPROVAL_LIST] = "SELECT change_id, principal_id, approve, comment, at, signature,"
			     " key_id, signed_digest"
			     " FROM approvals WHERE change_id = ?1 ORDER BY at, rowid",
	[ST_APPROVAL_SIGN] = "UPDATE approvals SET signature = ?3, key_id = ?4, signed_digest = ?5"
			     " WHERE change_id = ?1 AND principal_id = ?2",
	[ST_AUDIT_HEAD] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq DESC LIMIT 1",
	[ST_AUDIT_INS] = "INSERT INTO audit(" AUDIT_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			 " ?8, ?9)",
	[ST_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[ST_IDEM_GET] = "SELECT status, body, request_digest FROM idempotency"
			" WHERE principal_id = ?1 AND key = ?2",
	[ST_IDEM_PUT] = "INSERT INTO idempotency(principal_id, key, status, body, request_digest,"
			" at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	/* the versions after ?2 in commit order; a version without a change (a snapshot taken
	 * as given) has NULL change columns */
	[ST_CHANGES_AFTER] = "SELECT v.serial, v.digest, v.change_id IS NULL, " SIGNED_COLS
			     " FROM versions v LEFT JOIN changes c ON c.id = v.change_id"
			     " LEFT JOIN signed_changes sc ON sc.change_id = c.id"
			     " WHERE v.zone_id = ?1 AND v.id > ?2 ORDER BY v.id LIMIT ?3",
	[ST_CHANGE_DELETE_OF] = "SELECT c.serial, c.digest, 0, " SIGNED_COLS
				" FROM changes c LEFT JOIN signed_changes sc ON sc.change_id = c.id"
				" WHERE c.zone_id = ?1 AND c.delete_zone = 1 AND c.state = 3"
				" ORDER BY c.id DESC LIMIT 1",
	[ST_CHANGE_STATE] = "SELECT state FROM changes WHERE id = ?1",
	[ST_SIGNED_INS] = "INSERT INTO signed_changes(change_id, payload, signature, key_id, at)"
			  " VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_CLUSTER_CONNECT] =
		"INSERT INTO clusters(name, connected, first_seen, last_seen, connected_since,"
		" software_version, peer, cert_not_after) VALUES(?1, 1, ?5, ?5, ?5, ?2, ?3, ?4)"
		" ON CONFLICT(name) DO UPDATE SET connected = 1,"
		" first_seen = CASE WHEN first_seen = 0 THEN excluded.first_seen ELSE first_seen "
		"END,"
		" last_seen = excluded.last_seen, connected_since = excluded.connected_since,"
		" software_version = excluded.software_version, peer = excluded.peer,"
		" cert_not_after = excluded.cert_not_after",
	/* a cluster known only by placement gets its row here (an auth failure is worth
	 * showing), one never heard of does not: its name came from an unauthenticated hello */
	[ST_CLUSTER_DISCONNECT] =
		"INSERT INTO clusters(name, last_seen, last_error) SELECT ?1, ?3, coalesce(?2, '')"
		" WHERE EXISTS(SELECT 1 FROM zone_placement p JOIN zones z ON z.id = p.zone_id"
		" AND z.deleted = 0 WHERE p.cluster = ?1)"
		" OR EXISTS(SELECT 1 FROM clusters WHERE name = ?1)"
		" ON CONFLICT(name) DO UPDATE SET connected = 0, connected_since = 0,"
		" last_seen = excluded.last_seen, last_error = coalesce(?2, last_error)",
	[ST_CLUSTER_ALL_DISCONNECT] = "UPDATE clusters SET connected = 0, connected_since = 0,"
				      " last_seen = ?1 WHERE connected = 1",
	[ST_CLUSTER_GET] = CLUSTER_SELECT,
	[ST_CLUSTER_LIST] = CLUSTER_SELECT,
	[ST_CLUSTER_COUNT] = "UPDATE clusters SET sent = sent + ?2, applied = applied + ?3,"
			     " refused = refused + ?4, last_error = coalesce(?5, last_error)"
			     " WHERE name = ?1",
	[ST_CLUSTER_ZONES] = "SELECT z.id, z.tenant_id, z.name, z.approvals_required, z.serial,"
			     " z.digest, z.deleted, z.created_at FROM zones z"
			     " JOIN zone_placement p ON p.zone_id = z.id"
			     " WHERE p.cluster = ?1 AND z.deleted = 0 ORDER BY z.name",
	[ST_SPOKE_ZONE_PUT] =
		"INSERT INTO spoke_zones(cluster, zone_id, serial, digest, acked_at, change_id,"
		" committed_at, applied_ms, last_status, last_reason)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT(cluster, zone_id) DO UPDATE SET serial = excluded.serial,"
		" digest = excluded.digest, acked_at = excluded.acked_at,"
		" change_id = excluded.change_id, committed_at = excluded.committed_at,"
		" applied_ms = excluded.applied_ms, last_status = excluded.last_status,"
		" last_reason = excluded.last_reason",
	[ST_SPOKE_ZONE_LIST] =
		"SELECT " SPOKE_ZONE_COLS " FROM spoke_zones sz"
		" JOIN zones z ON z.id = sz.zone_id"
		" WHERE (?1 IS NULL OR sz.cluster = ?1) AND (?2 = 0 OR sz.zone_id = ?2)"
		" ORDER BY sz.cluster, z.name",
	[ST_SPOKE_ZONE_DEL] = "DELETE FROM spoke_zones WHERE cluster = ?1 AND zone_id = ?2",
	[ST_SECONDARY_OLD] = "SELECT state, state_since FROM secondaries WHERE cluster = ?1"
			     " AND zone_id = ?2 AND name = ?3",
	[ST_SECONDARY_PUT] =
		"INSERT INTO secondaries(cluster, zone_id, name, address, state, has_serial, "
		"serial,"
		" digest, last_proven, lag_ms, last_error, repairs, updated_at, state_since,"
		" confirmed_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		" ?15) ON CONFLICT(cluster, zone_id, name) DO UPDATE SET address = "
		"excluded.address,"
		" state = excluded.state, has_serial = excluded.has_serial,"
		" serial = excluded.serial, digest = excluded.digest,"
		" last_proven = excluded.last_proven, lag_ms = excluded.lag_ms,"
		" last_error = excluded.last_error, repairs = excluded.repairs,"
		" updated_at = excluded.updated_at, state_since = excluded.state_since,"
		" confirmed_ms = excluded.confirmed_ms",
	[ST_SECONDARY_LIST] =
		"SELECT " SECONDARY_COLS " FROM secondaries r"
		" JOIN zones z ON z.id = r.zone_id"
		" WHERE (?1 IS NULL OR r.cluster = ?1) AND (?2 = 0 OR r.zone_id = ?2)"
		" AND (?3 IS NULL OR r.state = ?3) ORDER BY z.name, r.cluster, r.name",
	[ST_SECONDARY_DEL] = "DELETE FROM secondaries WHERE cluster = ?1 AND zone_id = ?2",
};

struct hub_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST__COUNT];
	bool in_txn;
	unsigned savepoints; /* nesting depth of internal savepoints */
	char errmsg[FEDNS_DIAG_MSG_MAX];
};

/* --- errors --- */

/* SQLite's result code as a fedns_err; the text is kept in s->errmsg for hub_store_errmsg. */
static fedns_err
sql_err(hub_store *s, int rc, const char *what)
{
	int ext = s && s->db ? sqlite3_extended_errcode(s->db) : rc;
	fedns_err e;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return FEDNS_OK;
	case SQLITE_CONSTRAINT:
		if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			e = FEDNS_EEXIST;
		else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			e = FEDNS_ENOENT; /* what it refers to does not exist */
		else
			e = FEDNS_EINVAL; /* CHECK, NOT NULL */
		break;
	case SQLITE_NOMEM:
		e = FEDNS_ENOMEM;
		break;
	case SQLITE_TOOBIG:
		e = FEDNS_ETOOBIG;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		e = FEDNS_EACCES;
		break;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		e = FEDNS_EINVAL;
		break;
	default: /* BUSY, LOCKED, IOERR, FULL, CORRUPT, NOTADB, CANTOPEN, ... */
		e = FEDNS_EIO;
		break;
	}
	if (s)
		snprintf(s->errmsg, sizeof s->errmsg, "store %s: %s: %s", s->path ? s->path : "?",
			 what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return e;
}

__attribute__((format(printf, 3, 4))) static fedns_err
store_fail(hub_store *s, fedns_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	return e;
}

const char *
hub_store_errmsg(hub_store *s)
{
	return s ? s->errmsg : "no store";
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
copy_text(char *dst, size_t dstsz, const unsigned char *src)
{
	snprintf(dst, dstsz, "%s", src ? (const char *)src : "");
}

static char *
dup_text(const unsigned char *src)
{
	return strdup(src ? (const char *)src : "");
}

/* --- statements --- */

static fedns_err
stmt(hub_store *s, enum stmt_id id, sqlite3_stmt **out)
{
	*out = NULL;
	if (!s->st[id]) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->st[id], NULL);
		if (rc != SQLITE_OK)
			return sql_err(s, rc, "prepare");
	}
	*out = s->st[id];
	return FEDNS_OK;
}

/* Ends a use of a cached statement so it holds no read lock and no bound text. */
static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows. */
static fedns_err
run(hub_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	fedns_err e = rc == SQLITE_DONE ? FEDNS_OK
					: sql_err(s, rc == SQLITE_ROW ? SQLITE_MISUSE : rc, what);
	done(st);
	return e;
}

static fedns_err
exec(hub_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? FEDNS_OK : sql_err(s, rc, what);
}

/* Internal savepoints make multi-statement writes atomic whether or not the caller opened
 * a transaction. */
static fedns_err
sp_begin(hub_store *s)
{
	fedns_err e = exec(s, "SAVEPOINT hub_sp", "savepoint");
	if (e == FEDNS_OK)
		s->savepoints++;
	return e;
}

static fedns_err
sp_end(hub_store *s, fedns_err e)
{
	s->savepoints--;
	if (e == FEDNS_OK) {
		e = exec(s, "RELEASE hub_sp", "release savepoint");
		if (e == FEDNS_OK)
			return e;
	}
	sqlite3_exec(s->db, "ROLLBACK TO hub_sp; RELEASE hub_sp", NULL, NULL, NULL);
	return e;
}

/* --- open, migrate, close --- */

static fedns_err
pragma_int(hub_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	fedns_err e = rc == SQLITE_ROW ? FEDNS_OK : sql_err(s, rc, sql);
	sqlite3_finalize(st);
	return e;
}

static fedns_err
migrate(hub_store *s, fedns_diag *d)
{
	int v = 0;
	fedns_err e = pragma_int(s, "PRAGMA user_version", &v);
	if (e)
		return fedns_diag_set(d, e, "%s", s->errmsg);
	if (v > SCHEMA_VERSION)
		return fedns_diag_set(
			d, FEDNS_ENOTSUP,
			"store %s has schema version %d; this fedns-hub knows up to %d "
			"(use a newer fedns-hub)",
			s->path, v, SCHEMA_VERSION);
	if (v > 0) {
		int app = 0;
		e = pragma_int(s, "PRAGMA application_id", &app);
		if (e)
			return fedns_diag_set(d, e, "%s", s->errmsg);
		if (app != STORE_APP_ID)
			return fedns_diag_set(d, FEDNS_EINVAL,
					      "%s is an SQLite database but not a fedns-hub store "
					      "(application_id %d)",
					      s->path, app);
	}
	while (v < SCHEMA_VERSION) {
		char sql[64];
		e = exec(s, "BEGIN IMMEDIATE", "begin migration");
		if (e)
			return fedns_diag_set(d, e, "%s", s->errmsg);
		/* another process may have migrated while we waited for the lock */
		e = pragma_int(s, "PRAGMA user_version", &v);
		if (e == FEDNS_OK && v < SCHEMA_VERSION) {
			e = exec(s, migrations[v], "migration");
			snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
			if (e == FEDNS_OK)
				e = exec(s, sql, "set user_version");
		}
		if (e == FEDNS_OK)
			e = exec(s, "COMMIT", "commit migration");
		if (e) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return fedns_diag_set(d, e, "migrating %s to schema %d: %s", s->path, v + 1,
					      s->errmsg);
		}
		e = pragma_int(s, "PRAGMA user_version", &v);
		if (e)
			return fedns_diag_set(d, e, "%s", s->errmsg);
	}
	return FEDNS_OK;
}

fedns_err
hub_store_open(const hub_store_opts *o, hub_store **out, fedns_diag *d)
{
	if (!o || !o->path || !*o->path || !out)
		return fedns_diag_set(d, FEDNS_EINVAL, "store: no path given");
	struct stat sb;
	if (!o->create && stat(o->path, &sb) != 0)
		return fedns_diag_set(d, FEDNS_ENOENT, "store %s does not exist", o->path);

	hub_store *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(o->path))) {
		free(s);
		return fedns_diag_set(d, FEDNS_ENOMEM, "store: out of memory");
	}
	int flags =
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (o->create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(o->path, &s->db, flags, NULL);
	fedns_err e;
	if (rc != SQLITE_OK) {
		e = sql_err(s, rc, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, o->busy_ms ? (int)o->busy_ms : 5000);

	/* WAL: readers never block the writer; FULL: a commit is on disk when it returns */
	char mode[16] = "";
	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			copy_text(mode, sizeof mode, sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_ROW) {
		e = sql_err(s, rc, "set WAL mode");
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		e = store_fail(s, FEDNS_EIO, "store %s: cannot use WAL mode (journal_mode %s)",
			       s->path, mode);
		goto fail;
	}
	e = exec(s,
		 o->defer_sync ? "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON"
			       : "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
		 "pragmas");
	if (e)
		goto fail;
	e = migrate(s, d);
	if (e) {
		hub_store_close(s);
		return e;
	}
	*out = s;
	return FEDNS_OK;
fail:
	fedns_diag_set(d, e, "%s", s->errmsg);
	hub_store_close(s);
	return e;
}

void
hub_store_close(hub_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db) {
		if (s->in_txn)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
	}
	free(s->path);
	free(s);
}

int
hub_store_schema_version(hub_store *s)
{
	int v = -1;
	if (pragma_int(s, "PRAGMA user_version", &v) != FEDNS_OK)
		return -1;
	return v;
}

/* --- transactions --- */

fedns_err
hub_store_begin(hub_store *s, bool write)
{
	if (s->in_txn)
		return store_fail(s, FEDNS_EINVAL, "store: a transaction is already open");
	fedns_err e = exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN", "begin");
	if (e == FEDNS_OK)
		s->in_txn = true;
	return e;
}

fedns_err
hub_store_commit(hub_store *s)
{
	if (!s->in_txn)
		return store_fail(s, FEDNS_EINVAL, "store: commit without a transaction");
	fedns_err e = exec(s, "COMMIT", "commit");
	if (e) {
		/* a failed COMMIT may leave the transaction open; end it so nothing half-written
		 * can be committed later */
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	s->in_txn = false;
	return e;
}

void
hub_store_rollback(hub_store *s)
{
	if (!s)
		return;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = false;
}

/* --- group sync --- */

struct hub_wal_sync {
	char *wal; /* DBNAME-wal */
	char *dir; /* the directory holding it */
	int fd;	   /* -1: not open */
	dev_t dev;
	ino_t ino;
	bool failed;
	char why[160];
};

fedns_err
hub_wal_sync_new(const char *store_path, hub_wal_sync **out, fedns_diag *d)
{
	hub_wal_sync *w = calloc(1, sizeof(*w));
	size_t n = store_path != NULL ? strlen(store_path) : 0;

	*out = NULL;
	if (n == 0)
		return fedns_diag_set(d, FEDNS_EINVAL, "store: no path given");
	if (w == NULL || (w->wal = malloc(n + 5)) == NULL ||
	    (w->dir = strdup(store_path)) == NULL) {
		if (w != NULL)
			free(w->wal);
		free(w);
		return fedns_diag_set(d, FEDNS_ENOMEM, "store: out of memory");
	}
	memcpy(w->wal, store_path, n);
	memcpy(w->wal + n, "-wal", 5);
	char *slash = strrchr(w->dir, '/');
	if (slash == NULL) {
		free(w->dir);
		w->dir = strdup(".");
	} else if (slash == w->dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (w->dir == NULL) {
		free(w->wal);
		free(w);
		return fedns_diag_set(d, FEDNS_ENOMEM, "store: out of memory");
	}
	w->fd = -1;
	*out = w;
	return FEDNS_OK;
}

static fedns_err
wal_sync_fail(hub_wal_sync *w, fedns_diag *d, const char *what, int err)
{
	w->failed = true;
	snprintf(w->why, sizeof(w->why), "%s %s: %s", what, w->wal, strerror(err));
	return fedns_diag_set(d, FEDNS_EIO, "store: %s", w->why);
}

fedns_err
hub_wal_sync_run(hub_wal_sync *w, fedns_diag *d)
{
	struct stat sb;

	if (w->failed)
		return fedns_diag_set(d, FEDNS_EIO, "store: an earlier sync failed (%s)", w->why);
	if (stat(w->wal, &sb) != 0) {
		/* SQLite removes the WAL only when its last connection closes, after a complete
		 * checkpoint that synced the database file; the caller's own open connection
		 * keeps it while it waits, so there is nothing left to sync */
		if (errno == ENOENT)
			return FEDNS_OK;
		return wal_sync_fail(w, d, "stat", errno);
	}
	if (w->fd < 0 || sb.st_dev != w->dev || sb.st_ino != w->ino) {
		if (w->fd >= 0)
			close(w->fd);
		w->fd = open(w->wal, O_RDONLY | O_CLOEXEC);
		if (w->fd < 0)
			return wal_sync_fail(w, d, "open", errno);
		if (fstat(w->fd, &sb) != 0)
			return wal_sync_fail(w, d, "fstat", errno);
		w->dev = sb.st_dev;
		w->ino = sb.st_ino;
		/* the WAL's directory entry may be new (SQLite syncs it only at its first own
		 * sync of the file, which NORMAL defers to the first checkpoint) */
		int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return wal_sync_fail(w, d, "open the directory of", errno);
		int rc = fsync(dfd);
		int err = errno;
		close(dfd);
		if (rc != 0)
			return wal_sync_fail(w, d, "sync the directory of", err);
	}
	if (fdatasync(w->fd) != 0)
		return wal_sync_fail(w, d, "fdatasync", errno);
	return FEDNS_OK;
}

void
hub_wal_sync_free(hub_wal_sync *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->wal);
	free(w->dir);
	free(w);
}

/* --- names --- */

const char *
hub_role_name(hub_role r)
{
	switch (r) {
	case HUB_ROLE_VIEWER:
		return "viewer";
	case HUB_ROLE_EDITOR:
		return "editor";
	case HUB_ROLE_APPROVER:
		return "approver";
	case HUB_ROLE_ADMIN:
		return "admin";
	case HUB_ROLE_NONE:
		break;
	}
	return "none";
}

hub_role
hub_role_from_name(const char *s)
{
	if (!s)
		return HUB_ROLE_NONE;
	for (hub_role r = HUB_ROLE_VIEWER; r <= HUB_ROLE_ADMIN; r++)
		if (strcmp(s, hub_role_name(r)) == 0)
			return r;
	return HUB_ROLE_NONE;
}

const char *
hub_change_state_name(hub_change_state st)
{
	switch (st) {
	case HUB_CHANGE_PROPOSED:
		return "proposed";
	case HUB_CHANGE_REJECTED:
		return "rejected";
	case HUB_CHANGE_COMMITTED:
		return "committed";
	case HUB_CHANGE_STALE:
		return "stale";
	case HUB_CHANGE_WITHDRAWN:
		return "withdrawn";
	}
	return "unknown";
}

void
hub_change_fini(hub_change *c)
{
	if (!c)
		return;
	free(c->diff);
	free(c->signature);
	c->diff = NULL;
	c->signature = NULL;
}

/* --- tenants and principals --- */

fedns_err
hub_tenant_create(hub_store *s, const char *name, int64_t *id)
{
	sqlite3_stmt *st;
	if (!name || !*name)
		return store_fail(s, FEDNS_EINVAL, "tenant name is empty");
	if (strlen(name) >= sizeof((hub_tenant *)0)->name)
		return store_fail(s, FEDNS_ETOOBIG, "tenant name is longer than %zu bytes",
				  sizeof((hub_tenant *)0)->name - 1);
	fedns_err e = stmt(s, ST_TENANT_INS, &st);
	if (e)
		return e;
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, now_s());
	e = run(s, st, "create tenant");
	if (e == FEDNS_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

static void
row_tenant(sqlite3_stmt *st, hub_tenant *t)
{
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(st, 0);
	copy_text(t->name, sizeof t->name, sqlite3_column_text(st, 1));
	t->created_at = sqlite3_column_int64(st, 2);
}

/* Steps a single-row lookup: OK with the row current, ENOENT, or an error (then reset). */
static fedns_err
step_one(hub_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return FEDNS_OK;
	fedns_err e = rc == SQLITE_DONE ? FEDNS_ENOENT : sql_err(s, rc, what);
	if (e == FEDNS_ENOENT)
		store_fail(s, e, "%s: not found", what);
	done(st);
	return e;
}

fedns_err
hub_tenant_get(hub_store *s, const char *name, hub_tenant *out)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_TENANT_GET, &st);
	if (e)
		return e;
	bind_text(st, 1, name);
	if ((e = step_one(s, st, "tenant")))
		return e;
	row_tenant(st, out);
	done(st);
	return FEDNS_OK;
}

/* Collects rows into a malloc'd array of 'size'-byte elements filled by 'fill'. */
typedef fedns_err (*row_fn)(sqlite3_stmt *st, void *elem);

static fedns_err
collect(hub_store *s, sqlite3_stmt *st, size_t size, row_fn fill, void (*fini)(void *), void **out,
	size_t *n, const char *what)
{
	char *arr = NULL;
	size_t cnt = 0, cap = 0;
	fedns_err e = FEDNS_OK;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *na = realloc(arr, ncap * size);
			if (!na) {
				e = store_fail(s, FEDNS_ENOMEM, "%s: out of memory", what);
				break;
			}
			arr = na;
			cap = ncap;
		}
		memset(arr + cnt * size, 0, size);
		e = fill(st, arr + cnt * size);
		if (e) {
			store_fail(s, e, "%s: out of memory", what);
			break;
		}
		cnt++;
	}
	if (e == FEDNS_OK && rc != SQLITE_DONE)
		e = sql_err(s, rc, what);
	done(st);
	if (e) {
		if (fini)
			for (size_t i = 0; i < cnt; i++)
				fini(arr + i * size);
		free(arr);
		return e;
	}
	*out = arr;
	*n = cnt;
	return FEDNS_OK;
}

static fedns_err
fill_tenant(sqlite3_stmt *st, void *elem)
{
	row_tenant(st, elem);
	return FEDNS_OK;
}

fedns_err
hub_tenant_list(hub_store *s, hub_tenant **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_TENANT_LIST, &st);
	if (e)
		return e;
	return collect(s, st, sizeof(hub_tenant), fill_tenant, NULL, (void **)out, n,
		       "list tenants");
}

fedns_err
hub_principal_create(hub_store *s, const char *name, const char *kind, int64_t *id)
{
	sqlite3_stmt *st;
	if (!name || !*name)
		return store_fail(s, FEDNS_EINVAL, "principal name is empty");
	if (strlen(name) >= sizeof((hub_principal *)0)->name)
		return store_fail(s, FEDNS_ETOOBIG, "principal name is longer than %zu bytes",
				  sizeof((hub_principal *)0)->name - 1);
	if (!kind || (strcmp(kind, "person") != 0 && strcmp(kind, "automation") != 0))
		return store_fail(s, FEDNS_EINVAL,
				  "principal kind \"%s\" is not \"person\" or \"automation\"",
				  kind ? kind : "");
	fedns_err e = stmt(s, ST_PRIN_INS, &st);
	if (e)
		return e;
	bind_text(st, 1, name);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, now_s());
	e = run(s, st, "create principal");
	if (e == FEDNS_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

static void
row_principal(sqlite3_stmt *st, hub_principal *p)
{
	memset(p, 0, sizeof *p);
	p->id = sqlite3_column_int64(st, 0);
	copy_text(p->name, sizeof p->name, sqlite3_column_text(st, 1));
	copy_text(p->kind, sizeof p->kind, sqlite3_column_text(st, 2));
	p->disabled = sqlite3_column_int(st, 3) != 0;
	p->created_at = sqlite3_column_int64(st, 4);
}

static fedns_err
fill_principal(sqlite3_stmt *st, void *elem)
{
	row_principal(st, elem);
	return FEDNS_OK;
}

static fedns_err
principal_by(hub_store *s, enum stmt_id id, const char *name, int64_t pid, hub_principal *out)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, id, &st);
	if (e)
		return e;
	if (name)
		bind_text(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, pid);
	if ((e = step_one(s, st, "principal")))
		return e;
	row_principal(st, out);
	done(st);
	return FEDNS_OK;
}

fedns_err
hub_principal_get(hub_store *s, const char *name, hub_principal *out)
{
	if (!name)
		return FEDNS_EINVAL;
	return principal_by(s, ST_PRIN_GET, name, 0, out);
}

fedns_err
hub_principal_get_id(hub_store *s, int64_t id, hub_principal *out)
{
	return principal_by(s, ST_PRIN_GET_ID, NULL, id, out);
}

fedns_err
hub_principal_list(hub_store *s, hub_principal **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_PRIN_LIST, &st);
	if (e)
		return e;
	return collect(s, st, sizeof(hub_principal), fill_principal, NULL, (void **)out, n,
		       "list principals");
}

static bool
is_hex64(const char *h)
{
	if (!h || strlen(h) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)h[i]))
			return false;
	return true;
}

fedns_err
hub_token_add(hub_store *s, int64_t principal_id, const char *token_sha256_hex, const char *label,
	      int64_t expires_at)
{
	sqlite3_stmt *st;
	if (!is_hex64(token_sha256_hex))
		return store_fail(s, FEDNS_EINVAL, "token hash is not 64 hex digits");
	fedns_err e = stmt(s, ST_TOKEN_INS, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	bind_text(st, 2, token_sha256_hex);
	bind_text(st, 3, label ? label : "");
	sqlite3_bind_int64(st, 4, now_s());
	sqlite3_bind_int64(st, 5, expires_at);
	return run(s, st, "add token");
}

fedns_err
hub_token_lookup(hub_store *s, const char *token_sha256_hex, hub_principal *out)
{
	sqlite3_stmt *st;
	if (!is_hex64(token_sha256_hex))
		return FEDNS_ENOENT;
	fedns_err e = stmt(s, ST_TOKEN_LOOKUP, &st);
	if (e)
		return e;
	bind_text(st, 1, token_sha256_hex);
	sqlite3_bind_int64(st, 2, now_s());
	if ((e = step_one(s, st, "token")))
		return e;
	row_principal(st, out);
	done(st);
	return FEDNS_OK;
}

fedns_err
hub_pubkey_add(hub_store *s, int64_t principal_id, const char *key_id, const char *spki_b64)
{
	sqlite3_stmt *st;
	if (!key_id || !*key_id || !spki_b64 || !*spki_b64)
		return store_fail(s, FEDNS_EINVAL, "public key: empty key id or key");
	fedns_err e = stmt(s, ST_PUBKEY_INS, &st);
	if (e)
		return e;
	bind_text(st, 1, key_id);
	sqlite3_bind_int64(st, 2, principal_id);
	bind_text(st, 3, spki_b64);
	sqlite3_bind_int64(st, 4, now_s());
	return run(s, st, "add public key");
}

fedns_err
hub_pubkey_lookup(hub_store *s, const char *key_id, hub_principal *who, char **spki_b64)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_PUBKEY_LOOKUP, &st);
	if (e)
		return e;
	bind_text(st, 1, key_id);
	if ((e = step_one(s, st, "public key")))
		return e;
	char *k = dup_text(sqlite3_column_text(st, 5));
	if (!k) {
		done(st);
		return FEDNS_ENOMEM;
	}
	if (who)
		row_principal(st, who);
	done(st);
	if (spki_b64)
		*spki_b64 = k;
	else
		free(k);
	return FEDNS_OK;
}

/* --- roles --- */

fedns_err
hub_role_grant(hub_store *s, int64_t principal_id, int64_t tenant_id, hub_role role)
{
	sqlite3_stmt *st;
	if (role < HUB_ROLE_VIEWER || role > HUB_ROLE_ADMIN)
		return store_fail(s, FEDNS_EINVAL, "role %d is not a role", (int)role);
	fedns_err e = stmt(s, ST_ROLE_GRANT, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	sqlite3_bind_int64(st, 2, tenant_id);
	sqlite3_bind_int(st, 3, (int)role);
	return run(s, st, "grant role");
}

fedns_err
hub_role_revoke(hub_store *s, int64_t principal_id, int64_t tenant_id)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_ROLE_REVOKE, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	sqlite3_bind_int64(st, 2, tenant_id);
	e = run(s, st, "revoke role");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT,
			       "principal %" PRId64 " has no role in tenant %" PRId64, principal_id,
			       tenant_id);
	return e;
}

hub_role
hub_role_of(hub_store *s, int64_t principal_id, int64_t tenant_id)
{
	sqlite3_stmt *st;
	if (stmt(s, ST_ROLE_OF, &st))
		return HUB_ROLE_NONE; /* fail closed */
	sqlite3_bind_int64(st, 1, principal_id);
	sqlite3_bind_int64(st, 2, tenant_id);
	hub_role r = HUB_ROLE_NONE;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		int v = sqlite3_column_int(st, 0);
		if (v >= HUB_ROLE_VIEWER && v <= HUB_ROLE_ADMIN)
			r = (hub_role)v;
	} else if (rc != SQLITE_ROW) {
		sql_err(s, rc, "role lookup");
	}
	done(st);
	return r;
}

/* --- zone content --- */

/* The zone's origin in wire form from its presentation name. */
static fedns_err
origin_of(hub_store *s, const char *zone_name, uint8_t origin[FEDNS_NAME_MAXLEN])
{
	size_t len;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err e = fedns_name_from_text(zone_name, strlen(zone_name), (const uint8_t *)"",
					   origin, &len, &d);
	if (e)
		return store_fail(s, e, "zone name \"%s\": %s", zone_name, d.msg);
	return FEDNS_OK;
}

static int
first_zone_error(void *ctx, const fedns_diag *d)
{
	fedns_diag *keep = ctx;
	if (d->code != FEDNS_OK && keep->code == FEDNS_OK)
		*keep = *d;
	return 0;
}

/* Parses master-file text into a finished zone. */
static fedns_err
parse_zone(hub_store *s, const char *zone_name, const char *text, size_t len, fedns_zone **out)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err e = origin_of(s, zone_name, origin);
	if (e)
		return e;
	e = fedns_zone_new(origin, 1 /* IN */, NULL, &z);
	if (e)
		return store_fail(s, e, "zone %s: %s", zone_name, fedns_strerror(e));
	fedns_zonefile_opts zo = {.origin = origin};
	e = fedns_zonefile_parse(zone_name, text, len, &zo, z, &d);
	if (e == FEDNS_OK) {
		e = fedns_zone_finish(z, first_zone_error, &d);
	}
	if (e) {
		char msg[FEDNS_DIAG_MSG_MAX + 300];
		store_fail(s, e, "zone %s content: %s", zone_name,
			   fedns_diag_format(&d, msg, sizeof msg));
		fedns_zone_free(z);
		return e;
	}
	*out = z;
	return FEDNS_OK;
}

/* The canonical text of a zone (fedns_zone_print: one RR per line, SOA first), which is
 * what snapshots hold so committed "-RR" lines match snapshot lines exactly. */
static fedns_err
canonical_text(hub_store *s, const char *zone_name, const char *text, size_t len, char **out,
	       uint32_t *serial)
{
	fedns_zone *z = NULL;
	fedns_err e = parse_zone(s, zone_name, text, len, &z);
	if (e)
		return e;
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	e = fedns_zone_print(z, &b);
	if (serial)
		*serial = fedns_zone_serial(z);
	fedns_zone_free(z);
	if (e) {
		fedns_buf_fini(&b);
		return store_fail(s, e, "zone %s: printing: %s", zone_name, fedns_strerror(e));
	}
	size_t n;
	char *t = (char *)fedns_buf_steal(&b, &n);
	if (!t)
		t = strdup("");
	fedns_buf_fini(&b);
	if (!t)
		return FEDNS_ENOMEM;
	*out = t;
	return FEDNS_OK;
}

/* --- zones --- */

/* Absolute, lowercase presentation form, so lookups do not depend on how a name was typed. */
static fedns_err
norm_zone_name(hub_store *s, const char *name, char out[256])
{
	uint8_t wire[FEDNS_NAME_MAXLEN];
	char text[FEDNS_NAME_MAXTEXT];
	if (!name || !*name)
		return store_fail(s, FEDNS_EINVAL, "zone name is empty");
	fedns_err e = origin_of(s, name, wire);
	if (e)
		return e;
	size_t n = fedns_name_to_text(wire, text, sizeof text);
	if (n == 0 || n >= 256)
		return store_fail(s, FEDNS_ETOOBIG, "zone name \"%s\" is too long", name);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)text[i]);
	out[n] = '\0';
	return FEDNS_OK;
}

static fedns_err
snapshot_insert(hub_store *s, int64_t version_id, int64_t zone_id, uint32_t serial,
		const char *text, bool canonical)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_SNAP_INS, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, version_id);
	sqlite3_bind_int64(st, 2, zone_id);
	sqlite3_bind_int64(st, 3, serial);
	bind_text(st, 4, text);
	sqlite3_bind_int(st, 5, canonical ? 1 : 0);
	return run(s, st, "store snapshot");
}

static fedns_err
version_insert(hub_store *s, int64_t zone_id, uint32_t serial, int64_t change_id,
	       const char *digest, int64_t *vid)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_VERSION_INS, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, serial);
	if (change_id > 0)
		sqlite3_bind_int64(st, 3, change_id);
	else
		sqlite3_bind_null(st, 3);
	bind_text(st, 4, digest ? digest : "");
	sqlite3_bind_int64(st, 5, now_ms());
	e = run(s, st, "add version");
	if (e == FEDNS_EEXIST)
		store_fail(s, e, "zone %" PRId64 " already has a version with serial %" PRIu32,
			   zone_id, serial);
	if (e == FEDNS_OK)
		*vid = sqlite3_last_insert_rowid(s->db);
	return e;
}

static fedns_err
zone_set_current(hub_store *s, int64_t zone_id, uint32_t serial, const char *digest)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_ZONE_SET_CURRENT, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, serial);
	bind_text(st, 3, digest ? digest : "");
	e = run(s, st, "set current version");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT, "zone %" PRId64 " does not exist", zone_id);
	return e;
}

fedns_err
hub_zone_create(hub_store *s, int64_t tenant_id, const char *name, uint32_t approvals_required,
		uint32_t serial, const char *digest_hex, const char *content, int64_t *id)
{
	char zname[256];
	char *canon = NULL;
	sqlite3_stmt *st;
	int64_t zid = 0, vid = 0;
	uint32_t soa_serial = 0;
	fedns_err e = norm_zone_name(s, name, zname);
	if (e)
		return e;
	if (!content)
		return store_fail(s, FEDNS_EINVAL, "zone %s: no content", zname);
	e = canonical_text(s, zname, content, strlen(content), &canon, &soa_serial);
	if (e)
		return e;
	if (soa_serial != serial) {
		free(canon);
		return store_fail(s, FEDNS_EINVAL,
				  "zone %s: SOA serial %" PRIu32
				  " is not the version's serial %" PRIu32,
				  zname, soa_serial, serial);
	}
	if ((e = sp_begin(s))) {
		free(canon);
		return e;
	}
	if ((e = stmt(s, ST_ZONE_INS, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, tenant_id);
	bind_text(st, 2, zname);
	sqlite3_bind_int64(st, 3, approvals_required ? approvals_required : 1);
	sqlite3_bind_int64(st, 4, serial);
	bind_text(st, 5, digest_hex ? digest_hex : "");
	sqlite3_bind_int64(st, 6, now_s());
	e = run(s, st, "create zone");
	if (e == FEDNS_EEXIST)
		store_fail(s, e, "zone %s already exists", zname);
	else if (e == FEDNS_ENOENT)
		store_fail(s, e, "tenant %" PRId64 " does not exist", tenant_id);
	if (e)
		goto out;
	zid = sqlite3_last_insert_rowid(s->db);
	if ((e = version_insert(s, zid, serial, 0, digest_hex, &vid)))
		goto out;
	e = snapshot_insert(s, vid, zid, serial, canon, true);
out:
	free(canon);
	e = sp_end(s, e);
	if (e == FEDNS_OK && id)
		*id = zid;
	return e;
}

static void
row_zone(sqlite3_stmt *st, hub_zone *z)
{
	memset(z, 0, sizeof *z);
	z->id = sqlite3_column_int64(st, 0);
	z->tenant_id = sqlite3_column_int64(st, 1);
	copy_text(z->name, sizeof z->name, sqlite3_column_text(st, 2));
	z->approvals_required = (uint32_t)sqlite3_column_int64(st, 3);
	z->serial = (uint32_t)sqlite3_column_int64(st, 4);
	copy_text(z->digest, sizeof z->digest, sqlite3_column_text(st, 5));
	z->deleted = sqlite3_column_int(st, 6) != 0;
	z->created_at = sqlite3_column_int64(st, 7);
}

static fedns_err
fill_zone(sqlite3_stmt *st, void *elem)
{
	row_zone(st, elem);
	return FEDNS_OK;
}

fedns_err
hub_zone_get(hub_store *s, const char *name, hub_zone *out)
{
	char zname[256];
	sqlite3_stmt *st;
	fedns_err e = norm_zone_name(s, name, zname);
	if (e)
		return e == FEDNS_ENOMEM ? e : FEDNS_ENOENT; /* a name that cannot exist */
	if ((e = stmt(s, ST_ZONE_GET, &st)))
		return e;
	bind_text(st, 1, zname);
	if ((e = step_one(s, st, "zone")))
		return e;
	row_zone(st, out);
	done(st);
	return FEDNS_OK;
}

fedns_err
hub_zone_get_id(hub_store *s, int64_t id, hub_zone *out)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_ZONE_GET_ID, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, id);
	if ((e = step_one(s, st, "zone")))
		return e;
	row_zone(st, out);
	done(st);
	return FEDNS_OK;
}

static int64_t
sql_limit(size_t limit)
{
	return limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
}

fedns_err
hub_zone_list(hub_store *s, int64_t tenant_id, const char *after, size_t limit, hub_zone **out,
	      size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_ZONE_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, tenant_id);
	bind_text(st, 2, after ? after : "");
	sqlite3_bind_int64(st, 3, sql_limit(limit));
	return collect(s, st, sizeof(hub_zone), fill_zone, NULL, (void **)out, n, "list zones");
}

static fedns_err
zone_update(hub_store *s, enum stmt_id id, int64_t zone_id, int64_t v, bool has_v)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, id, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	if (has_v)
		sqlite3_bind_int64(st, 2, v);
	e = run(s, st, "update zone");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT, "zone %" PRId64 " does not exist", zone_id);
	return e;
}

fedns_err
hub_zone_set_policy(hub_store *s, int64_t zone_id, uint32_t approvals_required)
{
	if (approvals_required == 0)
		return store_fail(s, FEDNS_EINVAL, "approvals_required must be at least 1");
	return zone_update(s, ST_ZONE_POLICY, zone_id, approvals_required, true);
}

fedns_err
hub_zone_mark_deleted(hub_store *s, int64_t zone_id)
{
	return zone_update(s, ST_ZONE_DELETED, zone_id, 0, false);
}

/* --- principals: pages, disabling, role bindings --- */

fedns_err
hub_principal_list_page(hub_store *s, const char *after, size_t limit, hub_principal **out,
			size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_PRIN_PAGE, &st);
	if (e)
		return e;
	bind_text(st, 1, after ? after : "");
	sqlite3_bind_int64(st, 2, sql_limit(limit));
	return collect(s, st, sizeof(hub_principal), fill_principal, NULL, (void **)out, n,
		       "list principals");
}

fedns_err
hub_principal_set_disabled(hub_store *s, int64_t principal_id, bool disabled)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_PRIN_DISABLE, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	sqlite3_bind_int(st, 2, disabled ? 1 : 0);
	e = run(s, st, "disable principal");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT, "principal %" PRId64 " does not exist",
			       principal_id);
	return e;
}

static fedns_err
fill_binding(sqlite3_stmt *st, void *elem)
{
	hub_role_binding *b = elem;
	memset(b, 0, sizeof *b);
	b->tenant_id = sqlite3_column_int64(st, 0);
	copy_text(b->tenant, sizeof b->tenant, sqlite3_column_text(st, 1));
	b->role = (hub_role)sqlite3_column_int(st, 2);
	return FEDNS_OK;
}

fedns_err
hub_role_list(hub_store *s, int64_t principal_id, hub_role_binding **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_ROLE_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	return collect(s, st, sizeof(hub_role_binding), fill_binding, NULL, (void **)out, n,
		       "list roles");
}

fedns_err
hub_zone_set_placement(hub_store *s, int64_t zone_id, const char *const *clusters, size_t n)
{
	sqlite3_stmt *st;
	hub_zone z;
	fedns_err e = hub_zone_get_id(s, zone_id, &z);
	if (e)
		return e;
	if ((e = sp_begin(s)))
		return e;
	if ((e = stmt(s, ST_PLACE_DEL, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	if ((e = run(s, st, "clear placement")))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!clusters[i] || !*clusters[i]) {
			e = store_fail(s, FEDNS_EINVAL, "placement: cluster %zu has no name", i);
			goto out;
		}
		if ((e = stmt(s, ST_PLACE_INS, &st)))
			goto out;
		sqlite3_bind_int64(st, 1, zone_id);
		bind_text(st, 2, clusters[i]);
		e = run(s, st, "set placement");
		if (e == FEDNS_EEXIST)
			store_fail(s, e, "placement: cluster \"%s\" is listed twice", clusters[i]);
		if (e)
			goto out;
	}
out:
	return sp_end(s, e);
}

fedns_err
hub_zone_placement(hub_store *s, int64_t zone_id, char ***clusters, size_t *n)
{
	sqlite3_stmt *st;
	char **arr = NULL;
	size_t cnt = 0, cap = 0;
	int rc;
	fedns_err e = stmt(s, ST_PLACE_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **na = realloc(arr, ncap * sizeof *na);
			if (!na) {
				e = FEDNS_ENOMEM;
				break;
			}
			arr = na;
			cap = ncap;
		}
		if (!(arr[cnt] = dup_text(sqlite3_column_text(st, 0)))) {
			e = FEDNS_ENOMEM;
			break;
		}
		cnt++;
	}
	if (e == FEDNS_OK && rc != SQLITE_DONE)
		e = sql_err(s, rc, "placement");
	done(st);
	if (e) {
		for (size_t i = 0; i < cnt; i++)
			free(arr[i]);
		free(arr);
		return e;
	}
	*clusters = arr;
	*n = cnt;
	return FEDNS_OK;
}

/* --- versions --- */

fedns_err
hub_version_add(hub_store *s, int64_t zone_id, uint32_t serial, int64_t change_id,
		const char *digest_hex, const char *snapshot_or_null)
{
	int64_t vid;
	fedns_err e;

	if (change_id <= 0 && !snapshot_or_null)
		return store_fail(s, FEDNS_EINVAL,
				  "a version needs a committed change or a snapshot");
	if (snapshot_or_null && !*snapshot_or_null)
		return store_fail(s, FEDNS_EINVAL, "zone %" PRId64 ": empty snapshot", zone_id);
	/* The snapshot is stored as given, not parsed: a commit costs O(change) plus the
	 * snapshot's bytes, and the rebuild canonicalises it when it is read. */
	if ((e = sp_begin(s)))
		return e;
	e = version_insert(s, zone_id, serial, change_id, digest_hex, &vid);
	if (e == FEDNS_ENOENT)
		store_fail(s, e, "zone %" PRId64 " or change %" PRId64 " does not exist", zone_id,
			   change_id);
	if (e == FEDNS_OK && snapshot_or_null)
		e = snapshot_insert(s, vid, zone_id, serial, snapshot_or_null, false);
	if (e == FEDNS_OK)
		e = zone_set_current(s, zone_id, serial, digest_hex);
	return sp_end(s, e);
}

/* A set of text lines (pointers into buffers the caller keeps), for applying "-"/"+"
 * diff lines to a canonical snapshot. Open addressing; a NULL slot is empty, a
 * TOMBSTONE slot was deleted. */
typedef struct line_ref {
	const char *p;
	size_t len;
	size_t order; /* insertion order, so the text keeps the snapshot's order */
} line_ref;

typedef struct line_set {
	line_ref *slot;
	size_t cap, used, live, next_order;
} line_set;

static const char TOMBSTONE[] = "";

static uint64_t
line_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static line_ref *
line_find(line_set *ls, const char *p, size_t len, bool for_insert)
{
	size_t mask = ls->cap - 1;
	size_t i = (size_t)line_hash(p, len) & mask;
	line_ref *grave = NULL;
	for (;;) {
		line_ref *r = &ls->slot[i];
		if (!r->p)
			return for_insert && grave ? grave : r;
		if (r->p == TOMBSTONE) {
			if (!grave)
				grave = r;
		} else if (r->len == len && memcmp(r->p, p, len) == 0) {
			return r;
		}
		i = (i + 1) & mask;
	}
}

static fedns_err
line_grow(line_set *ls)
{
	size_t ncap = ls->cap ? ls->cap * 2 : 1024;
	line_ref *old = ls->slot;
	size_t ocap = ls->cap;
	ls->slot = calloc(ncap, sizeof *ls->slot);
	if (!ls->slot) {
		ls->slot = old;
		return FEDNS_ENOMEM;
	}
	ls->cap = ncap;
	ls->used = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].p && old[i].p != TOMBSTONE) {
			line_ref *r = line_find(ls, old[i].p, old[i].len, true);
			*r = old[i];
			ls->used++;
		}
	}
	free(old);
	return FEDNS_OK;
}

/* 1 added, 0 already present, <0 error. */
static int
line_add(line_set *ls, const char *p, size_t len)
{
	if ((ls->used + 1) * 4 >= ls->cap * 3 && line_grow(ls))
		return FEDNS_ENOMEM;
	line_ref *r = line_find(ls, p, len, false);
	if (r->p)
		return 0;
	r = line_find(ls, p, len, true);
	if (!r->p)
		ls->used++;
	*r = (line_ref){p, len, ls->next_order++};
	ls->live++;
	return 1;
}

static bool
line_del(line_set *ls, const char *p, size_t len)
{
	if (!ls->cap)
		return false;
	line_ref *r = line_find(ls, p, len, false);
	if (!r->p)
		return false;
	r->p = TOMBSTONE;
	r->len = 0;
	ls->live--;
	return true;
}

static int
cmp_order(const void *a, const void *b)
{
	const line_ref *x = a, *y = b;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Applies one committed diff to the line set; 'diff' must outlive the set. */
static fedns_err
apply_diff_lines(hub_store *s, line_set *ls, const char *zone, uint32_t serial, const char *diff)
{
	const char *p = diff;
	unsigned lineno = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (len > 0) {
			/* after the sign, the RR as fedns_rr_print writes it: the same text as
			 * the canonical snapshot's line for that RR (newlines not kept) */
			const char *rr = p + 1;
			size_t rlen = len - 1;
			if (p[0] == '-') {
				if (!line_del(ls, rr, rlen))
					return store_fail(s, FEDNS_EIO,
							  "zone %s version %" PRIu32
							  ": diff line %u deletes a record the "
							  "version before does not have: %.*s",
							  zone, serial, lineno, (int)(len - 1),
							  p + 1);
			} else if (p[0] == '+') {
				int r = line_add(ls, rr, rlen);
				if (r < 0)
					return r;
				if (r == 0)
					return store_fail(s, FEDNS_EIO,
							  "zone %s version %" PRIu32
							  ": diff line %u adds a record already "
							  "present: %.*s",
							  zone, serial, lineno, (int)(len - 1),
							  p + 1);
			} else {
				return store_fail(s, FEDNS_EIO,
						  "zone %s version %" PRIu32
						  ": diff line %u starts with neither '-' nor '+'",
						  zone, serial, lineno);
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return FEDNS_OK;
}

/* Loads a canonical text's lines into the set (without their newlines). */
static fedns_err
load_lines(line_set *ls, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0) {
			int r = line_add(ls, p, len);
			if (r < 0)
				return r;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return FEDNS_OK;
}

typedef struct text_list {
	char **v;
	size_t n, cap;
} text_list;

static void
text_list_fini(text_list *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

static fedns_err
text_list_push(text_list *t, char *p)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **nv = realloc(t->v, ncap * sizeof *nv);
		if (!nv)
			return FEDNS_ENOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = p;
	return FEDNS_OK;
}

static fedns_err
version_find(hub_store *s, int64_t zone_id, uint32_t serial, int64_t *vid)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_VERSION_FIND, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, serial);
	if ((e = step_one(s, st, "version"))) {
		if (e == FEDNS_ENOENT)
			store_fail(s, e, "zone %" PRId64 " has no version with serial %" PRIu32,
				   zone_id, serial);
		return e;
	}
	*vid = sqlite3_column_int64(st, 0);
	done(st);
	return FEDNS_OK;
}

/* Rebuilds the text of version 'vid': the nearest snapshot at or before it, then each
 * later committed diff in order, then parsed and printed again for canonical order. */
static fedns_err
version_rebuild(hub_store *s, const hub_zone *z, int64_t vid, uint32_t serial, char **text)
{
	sqlite3_stmt *st;
	text_list texts = {0};
	line_set ls = {0};
	int64_t snap_vid;
	fedns_err e = stmt(s, ST_SNAP_FIND, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, z->id);
	sqlite3_bind_int64(st, 2, vid);
	if ((e = step_one(s, st, "snapshot"))) {
		if (e == FEDNS_ENOENT)
			e = store_fail(s, FEDNS_EIO,
				       "zone %s: no snapshot at or before version %" PRIu32,
				       z->name, serial);
		return e;
	}
	snap_vid = sqlite3_column_int64(st, 0);
	bool snap_canonical = sqlite3_column_int(st, 2) != 0;
	char *snap = dup_text(sqlite3_column_text(st, 1));
	done(st);
	if (!snap)
		return FEDNS_ENOMEM;
	if (!snap_canonical) {
		/* a snapshot taken as given: its lines must be fedns_zone_print's so that the
		 * diffs' "-RR" lines match them exactly */
		char *c = NULL;
		uint32_t got = 0;
		e = canonical_text(s, z->name, snap, strlen(snap), &c, &got);
		free(snap);
		if (e)
			return e == FEDNS_ENOMEM ? e : FEDNS_EIO;
		snap = c;
		if (snap_vid == vid && got != serial) {
			free(snap);
			return store_fail(s, FEDNS_EIO,
					  "zone %s: the snapshot of version %" PRIu32
					  " has SOA serial %" PRIu32,
					  z->name, serial, got);
		}
	}
	if (snap_vid == vid) {
		*text = snap;
		return FEDNS_OK;
	}
	if ((e = text_list_push(&texts, snap))) {
		free(snap);
		return e;
	}
	if ((e = load_lines(&ls, snap)))
		goto out;

	/* the diffs are copied out first: applying keeps pointers into them */
	if ((e = stmt(s, ST_DIFFS_BETWEEN, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, z->id);
	sqlite3_bind_int64(st, 2, snap_vid);
	sqlite3_bind_int64(st, 3, vid);
	int rc;
	size_t first_diff = texts.n;
	uint32_t *serials = NULL;
	size_t nser = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t vs = (uint32_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
			e = store_fail(s, FEDNS_EIO,
				       "zone %s: version %" PRIu32 " has neither a snapshot nor a "
				       "committed change",
				       z->name, vs);
			break;
		}
		char *d = dup_text(sqlite3_column_text(st, 1));
		uint32_t *ns = realloc(serials, (nser + 1) * sizeof *ns);
		if (ns)
			serials = ns;
		if (!d || !ns || text_list_push(&texts, d)) {
			free(d);
			e = FEDNS_ENOMEM;
			break;
		}
		serials[nser++] = vs;
	}
	if (e == FEDNS_OK && rc != SQLITE_DONE)
		e = sql_err(s, rc, "read diffs");
	done(st);
	for (size_t i = first_diff; e == FEDNS_OK && i < texts.n; i++)
		e = apply_diff_lines(s, &ls, z->name, serials[i - first_diff], texts.v[i]);
	free(serials);
	if (e)
		goto out;

	/* the surviving lines in snapshot-then-added order, parsed and printed again */
	line_ref *live = malloc((ls.live ? ls.live : 1) * sizeof *live);
	if (!live) {
		e = FEDNS_ENOMEM;
		goto out;
	}
	size_t nl = 0, total = 0;
	for (size_t i = 0; i < ls.cap; i++)
		if (ls.slot[i].p && ls.slot[i].p != TOMBSTONE) {
			live[nl++] = ls.slot[i];
			total += ls.slot[i].len + 1;
		}
	qsort(live, nl, sizeof *live, cmp_order);
	char *joined = malloc(total + 1), *w = joined;
	if (!joined) {
		free(live);
		e = FEDNS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nl; i++) {
		memcpy(w, live[i].p, live[i].len);
		w += live[i].len;
		*w++ = '\n';
	}
	*w = '\0';
	free(live);
	uint32_t got = 0;
	e = canonical_text(s, z->name, joined, total, text, &got);
	free(joined);
	if (e == FEDNS_OK && got != serial) {
		free(*text);
		*text = NULL;
		e = store_fail(s, FEDNS_EIO,
			       "zone %s: rebuilt version %" PRIu32 " has SOA serial %" PRIu32,
			       z->name, serial, got);
	} else if (e && e != FEDNS_ENOMEM) {
		char why[FEDNS_DIAG_MSG_MAX];
		snprintf(why, sizeof why, "%s", s->errmsg);
		e = store_fail(s, FEDNS_EIO, "rebuilding version %" PRIu32 ": %s", serial, why);
	}
out:
	free(ls.slot);
	text_list_fini(&texts);
	return e;
}

fedns_err
hub_version_text(hub_store *s, int64_t zone_id, uint32_t serial, char **text)
{
	hub_zone z;
	int64_t vid;
	fedns_err e = hub_zone_get_id(s, zone_id, &z);
	if (e)
		return e;
	if ((e = version_find(s, zone_id, serial, &vid)))
		return e;
	return version_rebuild(s, &z, vid, serial, text);
}

fedns_err
hub_version_list(hub_store *s, int64_t zone_id, uint32_t **serials, size_t *n)
{
	sqlite3_stmt *st;
	uint32_t *arr = NULL;
	size_t cnt = 0, cap = 0;
	int rc;
	fedns_err e = stmt(s, ST_VERSION_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint32_t *na = realloc(arr, ncap * sizeof *na);
			if (!na) {
				e = FEDNS_ENOMEM;
				break;
			}
			arr = na;
			cap = ncap;
		}
		arr[cnt++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	if (e == FEDNS_OK && rc != SQLITE_DONE)
		e = sql_err(s, rc, "list versions");
	done(st);
	if (e) {
		free(arr);
		return e;
	}
	*serials = arr;
	*n = cnt;
	return FEDNS_OK;
}

/* Versions older than the 'keep' newest are hidden (no longer listed or rebuilt), and
 * deleted with their snapshots once no kept version needs them: a kept version is rebuilt
 * from the nearest snapshot at or before it, so rows back to that snapshot stay. Cheap:
 * no zone is parsed, so pruning can run on every commit. */
fedns_err
hub_version_prune(hub_store *s, int64_t zone_id, size_t keep)
{
	sqlite3_stmt *st;
	int64_t kvid, svid;
	fedns_err e;

	if (keep == 0 || keep > INT64_MAX)
		return FEDNS_OK; /* keep everything */
	if ((e = sp_begin(s)))
		return e;
	/* the oldest version kept */
	if ((e = stmt(s, ST_VERSION_NTH, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, (int64_t)keep - 1);
	e = step_one(s, st, "versions");
	if (e == FEDNS_ENOENT) {
		e = FEDNS_OK; /* fewer than 'keep' versions */
		goto out;
	}
	if (e)
		goto out;
	kvid = sqlite3_column_int64(st, 0);
	done(st);
	/* the snapshot it is rebuilt from */
	if ((e = stmt(s, ST_SNAP_FIND, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, kvid);
	if ((e = step_one(s, st, "snapshot"))) {
		if (e == FEDNS_ENOENT)
			e = store_fail(s, FEDNS_EIO,
				       "zone %" PRId64
				       ": no snapshot before its oldest kept version",
				       zone_id);
		goto out;
	}
	svid = sqlite3_column_int64(st, 0);
	done(st);
	if ((e = stmt(s, ST_VERSION_HIDE, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, kvid);
	if ((e = run(s, st, "prune versions")))
		goto out;
	if ((e = stmt(s, ST_SNAP_PRUNE, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, svid);
	if ((e = run(s, st, "prune snapshots")))
		goto out;
	if ((e = stmt(s, ST_VERSION_PRUNE, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, svid);
	e = run(s, st, "prune versions");
out:
	return sp_end(s, e);
}

/* --- changes and approvals --- */

fedns_err
hub_change_create(hub_store *s, hub_change *c, const char *idempotency_key)
{
	sqlite3_stmt *st;
	if (!c->reason[0])
		return store_fail(s, FEDNS_EINVAL, "a change needs a reason");
	if (c->state == 0)
		c->state = HUB_CHANGE_PROPOSED;
	if (c->created_at == 0)
		c->created_at = now_s();
	fedns_err e = stmt(s, ST_CHANGE_INS, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, c->zone_id);
	sqlite3_bind_int(st, 2, (int)c->state);
	sqlite3_bind_int64(st, 3, c->author_id);
	bind_text(st, 4, c->reason);
	bind_text(st, 5, c->ticket);
	sqlite3_bind_int64(st, 6, c->base_serial);
	sqlite3_bind_int64(st, 7, c->serial);
	bind_text(st, 8, c->diff ? c->diff : "");
	bind_text(st, 9, c->digest);
	bind_text(st, 10, c->signature);
	sqlite3_bind_int64(st, 11, c->created_at);
	sqlite3_bind_int64(st, 12, c->decided_at);
	bind_text(st, 13, idempotency_key && *idempotency_key ? idempotency_key : NULL);
	sqlite3_bind_int(st, 14, c->delete_zone ? 1 : 0);
	e = run(s, st, "create change");
	if (e == FEDNS_OK) {
		c->id = sqlite3_last_insert_rowid(s->db);
		return FEDNS_OK;
	}
	if (e == FEDNS_EEXIST && idempotency_key) {
		/* the same author's retry: say which change it already made */
		if (stmt(s, ST_CHANGE_BY_IDEM, &st) == FEDNS_OK) {
			sqlite3_bind_int64(st, 1, c->author_id);
			bind_text(st, 2, idempotency_key);
			if (sqlite3_step(st) == SQLITE_ROW)
				c->id = sqlite3_column_int64(st, 0);
			done(st);
		}
		store_fail(s, e, "idempotency key already used for change %" PRId64, c->id);
	} else if (e == FEDNS_ENOENT) {
		store_fail(s, e, "change: zone %" PRId64 " or author %" PRId64 " does not exist",
			   c->zone_id, c->author_id);
	}
	return e;
}

static fedns_err
row_change(sqlite3_stmt *st, hub_change *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	c->zone_id = sqlite3_column_int64(st, 1);
	c->state = (hub_change_state)sqlite3_column_int(st, 2);
	c->author_id = sqlite3_column_int64(st, 3);
	copy_text(c->reason, sizeof c->reason, sqlite3_column_text(st, 4));
	copy_text(c->ticket, sizeof c->ticket, sqlite3_column_text(st, 5));
	c->base_serial = (uint32_t)sqlite3_column_int64(st, 6);
	c->serial = (uint32_t)sqlite3_column_int64(st, 7);
	c->diff = dup_text(sqlite3_column_text(st, 8));
	copy_text(c->digest, sizeof c->digest, sqlite3_column_text(st, 9));
	if (sqlite3_column_type(st, 10) != SQLITE_NULL)
		c->signature = dup_text(sqlite3_column_text(st, 10));
	c->created_at = sqlite3_column_int64(st, 11);
	c->decided_at = sqlite3_column_int64(st, 12);
	c->approvals = (uint32_t)sqlite3_column_int64(st, 13);
	c->delete_zone = sqlite3_column_int(st, 14) != 0;
	if (!c->diff || (sqlite3_column_type(st, 10) != SQLITE_NULL && !c->signature)) {
		hub_change_fini(c);
		return FEDNS_ENOMEM;
	}
	return FEDNS_OK;
}

static fedns_err
fill_change(sqlite3_stmt *st, void *elem)
{
	return row_change(st, elem);
}

static void
fini_change(void *elem)
{
	hub_change_fini(elem);
}

fedns_err
hub_change_get(hub_store *s, int64_t id, hub_change *out)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CHANGE_GET, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, id);
	if ((e = step_one(s, st, "change")))
		return e;
	e = row_change(st, out);
	done(st);
	return e;
}

fedns_err
hub_change_list(hub_store *s, int64_t zone_id, hub_change_state state, int64_t before, size_t limit,
		hub_change **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CHANGE_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, before);
	sqlite3_bind_int64(st, 4, sql_limit(limit));
	return collect(s, st, sizeof(hub_change), fill_change, fini_change, (void **)out, n,
		       "list changes");
}

fedns_err
hub_change_update(hub_store *s, const hub_change *c)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CHANGE_UPDATE, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int(st, 2, (int)c->state);
	bind_text(st, 3, c->reason);
	bind_text(st, 4, c->ticket);
	sqlite3_bind_int64(st, 5, c->base_serial);
	sqlite3_bind_int64(st, 6, c->serial);
	bind_text(st, 7, c->diff ? c->diff : "");
	bind_text(st, 8, c->digest);
	bind_text(st, 9, c->signature);
	sqlite3_bind_int64(st, 10, c->decided_at);
	e = run(s, st, "update change");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT, "change %" PRId64 " does not exist", c->id);
	return e;
}

fedns_err
hub_change_mark_stale(hub_store *s, int64_t zone_id, uint32_t current_serial)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CHANGE_STALE, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, current_serial);
	sqlite3_bind_int64(st, 3, now_s());
	return run(s, st, "mark stale");
}

fedns_err
hub_approval_add(hub_store *s, const hub_approval *a)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_APPROVAL_INS, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, a->change_id);
	sqlite3_bind_int64(st, 2, a->principal_id);
	sqlite3_bind_int(st, 3, a->approve ? 1 : 0);
	bind_text(st, 4, a->comment);
	sqlite3_bind_int64(st, 5, a->at ? a->at : now_s());
	bind_text(st, 6, a->signature);
	e = run(s, st, "add approval");
	if (e == FEDNS_EEXIST)
		store_fail(s, e, "principal %" PRId64 " already decided change %" PRId64,
			   a->principal_id, a->change_id);
	else if (e == FEDNS_ENOENT)
		store_fail(s, e,
			   "approval: change %" PRId64 " or principal %" PRId64 " does not exist",
			   a->change_id, a->principal_id);
	return e;
}

static fedns_err
fill_approval(sqlite3_stmt *st, void *elem)
{
	hub_approval *a = elem;
	a->change_id = sqlite3_column_int64(st, 0);
	a->principal_id = sqlite3_column_int64(st, 1);
	a->approve = sqlite3_column_int(st, 2) != 0;
	copy_text(a->comment, sizeof a->comment, sqlite3_column_text(st, 3));
	a->at = sqlite3_column_int64(st, 4);
	copy_text(a->key_id, sizeof a->key_id, sqlite3_column_text(st, 6));
	copy_text(a->signed_digest, sizeof a->signed_digest, sqlite3_column_text(st, 7));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
	    !(a->signature = dup_text(sqlite3_column_text(st, 5))))
		return FEDNS_ENOMEM;
	return FEDNS_OK;
}

fedns_err
hub_approval_set_signature(hub_store *s, int64_t change_id, int64_t principal_id,
			   const char *signature_b64, const char *key_id, const char *signed_digest)
{
	sqlite3_stmt *st;
	if (!signature_b64 || !*signature_b64 || !key_id || !*key_id ||
	    strlen(key_id) >= sizeof(((hub_approval *)0)->key_id) || !is_hex64(signed_digest))
		return store_fail(s, FEDNS_EINVAL,
				  "approval signature: empty signature or key id, or a digest that "
				  "is not 64 hex digits");
	fedns_err e = stmt(s, ST_APPROVAL_SIGN, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, change_id);
	sqlite3_bind_int64(st, 2, principal_id);
	bind_text(st, 3, signature_b64);
	bind_text(st, 4, key_id);
	bind_text(st, 5, signed_digest);
	e = run(s, st, "sign approval");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT,
			       "principal %" PRId64 " has no decision on change %" PRId64,
			       principal_id, change_id);
	return e;
}

static void
fini_approval(void *elem)
{
	hub_approval *a = elem;
	free(a->signature);
}

fedns_err
hub_approval_list(hub_store *s, int64_t change_id, hub_approval **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_APPROVAL_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, change_id);
	return collect(s, st, sizeof(hub_approval), fill_approval, fini_approval, (void **)out, n,
		       "list approvals");
}

/* --- audit --- */

static void
row_audit(sqlite3_stmt *st, hub_audit *a)
{
	memset(a, 0, sizeof *a);
	a->seq = sqlite3_column_int64(st, 0);
	a->at = sqlite3_column_int64(st, 1);
	copy_text(a->principal, sizeof a->principal, sqlite3_column_text(st, 2));
	copy_text(a->action, sizeof a->action, sqlite3_column_text(st, 3));
	copy_text(a->target, sizeof a->target, sqlite3_column_text(st, 4));
	copy_text(a->outcome, sizeof a->outcome, sqlite3_column_text(st, 5));
	copy_text(a->payload_digest, sizeof a->payload_digest, sqlite3_column_text(st, 6));
	copy_text(a->prev_hash, sizeof a->prev_hash, sqlite3_column_text(st, 7));
	copy_text(a->hash, sizeof a->hash, sqlite3_column_text(st, 8));
}

static fedns_err
fill_audit(sqlite3_stmt *st, void *elem)
{
	row_audit(st, elem);
	return FEDNS_OK;
}

fedns_err
hub_audit_head(hub_store *s, hub_audit *out)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_AUDIT_HEAD, &st);
	if (e)
		return e;
	e = step_one(s, st, "audit head");
	if (e == FEDNS_ENOENT) {
		/* an empty chain: seq 0 whose hash is the genesis value */
		memset(out, 0, sizeof *out);
		memcpy(out->hash, fedns_audit_genesis, sizeof out->hash);
		memcpy(out->prev_hash, fedns_audit_genesis, sizeof out->prev_hash);
		return FEDNS_OK;
	}
	if (e)
		return e;
	row_audit(st, out);
	done(st);
	return FEDNS_OK;
}

static fedns_audit_fields
audit_fields(const hub_audit *a)
{
	return (fedns_audit_fields){
		.seq = a->seq,
		.at_ms = a->at,
		.principal = a->principal,
		.action = a->action,
		.target = a->target,
		.outcome = a->outcome,
		.payload_digest = a->payload_digest,
	};
}

fedns_err
hub_audit_append(hub_store *s, hub_audit *rec)
{
	sqlite3_stmt *st;
	hub_audit head;
	fedns_err e;

	if (!rec->action[0] || !rec->outcome[0])
		return store_fail(s, FEDNS_EINVAL, "audit record without action or outcome");
	/* the head is read and the record written in one savepoint, so two appenders cannot
	 * both extend the same head (the seq primary key would refuse the second anyway) */
	if ((e = sp_begin(s)))
		return e;
	if ((e = hub_audit_head(s, &head)))
		goto out;
	if (rec->at == 0)
		rec->at = now_ms();
	rec->seq = head.seq + 1;
	memcpy(rec->prev_hash, head.hash, sizeof rec->prev_hash);
	fedns_audit_fields f = audit_fields(rec);
	fedns_audit_hash(rec->prev_hash, &f, rec->hash);
	if ((e = stmt(s, ST_AUDIT_INS, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, rec->seq);
	sqlite3_bind_int64(st, 2, rec->at);
	bind_text(st, 3, rec->principal);
	bind_text(st, 4, rec->action);
	bind_text(st, 5, rec->target);
	bind_text(st, 6, rec->outcome);
	bind_text(st, 7, rec->payload_digest);
	bind_text(st, 8, rec->prev_hash);
	bind_text(st, 9, rec->hash);
	e = run(s, st, "append audit record");
out:
	return sp_end(s, e);
}

fedns_err
hub_audit_list(hub_store *s, int64_t after_seq, size_t limit, hub_audit **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_AUDIT_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, after_seq);
	sqlite3_bind_int64(st, 2, sql_limit(limit));
	return collect(s, st, sizeof(hub_audit), fill_audit, NULL, (void **)out, n, "list audit");
}

/* --- idempotency --- */

fedns_err
hub_idem_get(hub_store *s, int64_t principal_id, const char *key, int *status, char **body,
	     char *request_digest_hex)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_IDEM_GET, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	bind_text(st, 2, key);
	if ((e = step_one(s, st, "idempotency key")))
		return e;
	char *b = dup_text(sqlite3_column_text(st, 1));
	if (!b) {
		done(st);
		return FEDNS_ENOMEM;
	}
	if (status)
		*status = sqlite3_column_int(st, 0);
	if (request_digest_hex)
		copy_text(request_digest_hex, 65, sqlite3_column_text(st, 2));
	done(st);
	if (body)
		*body = b;
	else
		free(b);
	return FEDNS_OK;
}

fedns_err
hub_idem_put(hub_store *s, int64_t principal_id, const char *key, int status, const char *body,
	     const char *request_digest_hex)
{
	sqlite3_stmt *st;
	if (!key || !*key || strlen(key) > 128)
		return store_fail(s, FEDNS_EINVAL, "idempotency key must be 1-128 characters");
	fedns_err e = stmt(s, ST_IDEM_PUT, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, principal_id);
	bind_text(st, 2, key);
	sqlite3_bind_int(st, 3, status);
	bind_text(st, 4, body ? body : "");
	bind_text(st, 5, request_digest_hex ? request_digest_hex : "");
	sqlite3_bind_int64(st, 6, now_ms());
	return run(s, st, "store idempotency key");
}

/* --- backup and check --- */

static void
sync_parent_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return;
	char *slash = strrchr(copy, '/');
	const char *dir = ".";
	if (slash == copy)
		dir = "/";
	else if (slash) {
		*slash = '\0';
		dir = copy;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

fedns_err
hub_store_backup(hub_store *s, const char *dest, fedns_diag *d)
{
	sqlite3 *dst = NULL;
	char *tmp = NULL;
	fedns_err e = FEDNS_OK;
	int rc;

	if (!dest || !*dest)
		return fedns_diag_set(d, FEDNS_EINVAL, "backup: no destination");
	struct stat sa, sb;
	if (stat(dest, &sb) == 0 && stat(s->path, &sa) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino)
		return fedns_diag_set(d, FEDNS_EINVAL, "backup: %s is the store itself", dest);
	size_t tl = strlen(dest) + 16;
	if (!(tmp = malloc(tl)))
		return fedns_diag_set(d, FEDNS_ENOMEM, "backup: out of memory");
	/* written aside and renamed, so 'dest' is never a half-copied store */
	snprintf(tmp, tl, "%s.tmp-%ld", dest, (long)getpid());
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		e = fedns_diag_set(d, FEDNS_EIO, "backup: cannot create %s: %s", tmp,
				   dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
	if (!b) {
		e = fedns_diag_set(d, FEDNS_EIO, "backup to %s: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	for (;;) {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			sqlite3_sleep(10);
			continue;
		}
		if (rc != SQLITE_OK)
			break;
	}
	rc = sqlite3_backup_finish(b);
	if (rc != SQLITE_OK) {
		e = fedns_diag_set(d, rc == SQLITE_NOMEM ? FEDNS_ENOMEM : FEDNS_EIO,
				   "backup to %s: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	/* the copy is a whole database; make it one file (no -wal beside it) */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE; PRAGMA journal_mode = WAL", NULL,
			  NULL, NULL);
	if (rc != SQLITE_OK) {
		e = fedns_diag_set(d, FEDNS_EIO, "backup to %s: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	rc = sqlite3_close(dst);
	dst = NULL;
	if (rc != SQLITE_OK) {
		e = fedns_diag_set(d, FEDNS_EIO, "backup to %s: closing failed", dest);
		goto out;
	}
	if (rename(tmp, dest) != 0) {
		e = fedns_diag_set(d, FEDNS_EIO, "backup: cannot rename %s to %s", tmp, dest);
		goto out;
	}
	sync_parent_dir(dest); /* the rename itself survives a crash */
out:
	if (dst)
		sqlite3_close(dst);
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}

static fedns_err
check_integrity(hub_store *s, fedns_diag *d)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fedns_diag_set(d, sql_err(s, rc, "integrity_check"), "%s", s->errmsg);
	rc = sqlite3_step(st);
	fedns_err e = FEDNS_OK;
	if (rc != SQLITE_ROW) {
		e = fedns_diag_set(d, sql_err(s, rc, "integrity_check"), "%s", s->errmsg);
	} else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		/* the first few problems, without SQLite's "*** in database main ***" header */
		char msg[400] = "";
		size_t len = 0;
		for (int i = 0; rc == SQLITE_ROW && i < 4; i++, rc = sqlite3_step(st)) {
			const char *row = (const char *)sqlite3_column_text(st, 0);
			if (row && strncmp(row, "***", 3) == 0)
				row = strchr(row, '\n') ? strchr(row, '\n') + 1 : NULL;
			if (!row || !*row)
				continue;
			int w = snprintf(msg + len, sizeof msg - len, "%s%s", len ? "; " : "", row);
			if (w < 0 || (size_t)w >= sizeof msg - len)
				break;
			len += (size_t)w;
		}
		for (char *c = msg; (c = strchr(c, '\n'));)
			*c = ' '; /* one line, for logs */
		e = fedns_diag_set(d, FEDNS_EIO, "store %s: integrity_check: %s", s->path,
				   msg[0] ? msg : "damaged");
	}
	sqlite3_finalize(st);
	if (e)
		return e;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fedns_diag_set(d, sql_err(s, rc, "foreign_key_check"), "%s", s->errmsg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		e = fedns_diag_set(d, FEDNS_EIO,
				   "store %s: table %s row %lld refers to a missing %s row",
				   s->path, (const char *)sqlite3_column_text(st, 0),
				   (long long)sqlite3_column_int64(st, 1),
				   (const char *)sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		e = fedns_diag_set(d, sql_err(s, rc, "foreign_key_check"), "%s", s->errmsg);
	sqlite3_finalize(st);
	return e;
}

/* Verifies the stored chain from genesis in pages, so memory stays bounded. */
static fedns_err
check_audit(hub_store *s, fedns_diag *d)
{
	char prev[65];
	int64_t after = 0;
	memcpy(prev, fedns_audit_genesis, sizeof prev);
	for (;;) {
		hub_audit *recs = NULL;
		size_t n = 0;
		fedns_err e = hub_audit_list(s, after, 1024, &recs, &n);
		if (e)
			return fedns_diag_set(d, e, "%s", s->errmsg);
		if (n == 0) {
			free(recs);
			return FEDNS_OK;
		}
		for (size_t i = 0; i < n; i++) {
			fedns_audit_fields f = audit_fields(&recs[i]);
			const char *ph = recs[i].prev_hash, *h = recs[i].hash, *why = NULL;
			size_t bad = 0;
			if (recs[i].seq != after + 1)
				why = recs[i].seq > after + 1
					      ? "seq gap: a record before it is missing"
					      : "seq out of order";
			else if (fedns_audit_verify(&f, &ph, &h, 1, prev, &bad, &why) == FEDNS_OK)
				why = NULL;
			if (why) {
				e = fedns_diag_set(d, FEDNS_EAUTH,
						   "store %s: audit chain broken at seq %" PRId64
						   " (expected seq %" PRId64 "): %s",
						   s->path, recs[i].seq, after + 1, why);
				free(recs);
				return e;
			}
			memcpy(prev, recs[i].hash, sizeof prev);
			after = recs[i].seq;
		}
		free(recs);
	}
}

fedns_err
hub_store_check(hub_store *s, fedns_diag *d)
{
	fedns_err e = check_integrity(s, d);
	if (e == FEDNS_OK)
		e = check_audit(s, d);
	return e;
}

/* --- federation: signed change sets --- */

void
hub_signed_change_fini(hub_signed_change *c)
{
	if (!c)
		return;
	free(c->diff);
	free(c->payload);
	free(c->signature);
	c->diff = NULL;
	c->payload = NULL;
	c->signature = NULL;
}

static uint8_t *
dup_blob(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	uint8_t *b = malloc(n ? n : 1);
	if (b && n)
		memcpy(b, p, n);
	*len = n;
	return b;
}

/* One row of ST_CHANGES_AFTER / ST_CHANGE_DELETE_OF: to_serial, digest, no_change, then
 * SIGNED_COLS. The caller sets from_serial. */
static fedns_err
row_signed(sqlite3_stmt *st, hub_signed_change *c)
{
	memset(c, 0, sizeof *c);
	c->to_serial = (uint32_t)sqlite3_column_int64(st, 0);
	copy_text(c->digest, sizeof c->digest, sqlite3_column_text(st, 1));
	c->change_id = sqlite3_column_int64(st, 3);
	c->zone_id = sqlite3_column_int64(st, 4);
	c->delete_zone = sqlite3_column_int(st, 8) != 0;
	if (!(c->diff = dup_text(sqlite3_column_text(st, 7))))
		return FEDNS_ENOMEM;
	if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
		c->payload = dup_blob(st, 9, &c->payload_len);
		c->signature = dup_blob(st, 10, &c->signature_len);
		copy_text(c->key_id, sizeof c->key_id, sqlite3_column_text(st, 11));
		if (!c->payload || !c->signature) {
			hub_signed_change_fini(c);
			return FEDNS_ENOMEM;
		}
	}
	return FEDNS_OK;
}

static fedns_err
push_signed(hub_signed_change **arr, size_t *cnt, size_t *cap, const hub_signed_change *c)
{
	if (*cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		hub_signed_change *na = realloc(*arr, ncap * sizeof *na);
		if (!na)
			return FEDNS_ENOMEM;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*cnt)++] = *c;
	return FEDNS_OK;
}

fedns_err
hub_changes_after(hub_store *s, int64_t zone_id, uint32_t from_serial, size_t limit,
		  hub_signed_change **out, size_t *n)
{
	sqlite3_stmt *st;
	hub_signed_change *arr = NULL, c;
	size_t cnt = 0, cap = 0;
	int64_t vid;
	hub_zone z;
	uint32_t prev = from_serial;
	int rc;

	*out = NULL;
	*n = 0;
	fedns_err e = hub_zone_get_id(s, zone_id, &z);
	if (e)
		return e;
	if ((e = version_find(s, zone_id, from_serial, &vid)))
		return e;
	if ((e = stmt(s, ST_CHANGES_AFTER, &st)))
		return e;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, vid);
	sqlite3_bind_int64(st, 3, sql_limit(limit));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 2)) {
			/* a version without a committed change cannot be sent as one: the
			 * spoke needs a snapshot to get past it */
			e = store_fail(s, FEDNS_ENOENT,
				       "zone %s: version %" PRIu32 " after %" PRIu32
				       " has no committed change",
				       z.name, (uint32_t)sqlite3_column_int64(st, 0), from_serial);
			break;
		}
		if ((e = row_signed(st, &c)))
			break;
		c.from_serial = prev;
		prev = c.to_serial;
		if ((e = push_signed(&arr, &cnt, &cap, &c))) {
			hub_signed_change_fini(&c);
			break;
		}
	}
	if (e == FEDNS_OK && rc != SQLITE_DONE)
		e = sql_err(s, rc, "changes after");
	done(st);
	/* a deleted zone's stream ends with its deletion (never sent, but it tells the caller
	 * to drop the zone); it keeps the serial of the last version */
	if (e == FEDNS_OK && z.deleted && (limit == 0 || cnt < limit)) {
		if ((e = stmt(s, ST_CHANGE_DELETE_OF, &st)) == FEDNS_OK) {
			sqlite3_bind_int64(st, 1, zone_id);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				if ((e = row_signed(st, &c)) == FEDNS_OK) {
					c.from_serial = prev;
					if ((e = push_signed(&arr, &cnt, &cap, &c)))
						hub_signed_change_fini(&c);
				}
			} else if (rc != SQLITE_DONE) {
				e = sql_err(s, rc, "deletion of zone");
			}
			done(st);
		}
	}
	if (e) {
		for (size_t i = 0; i < cnt; i++)
			hub_signed_change_fini(&arr[i]);
		free(arr);
		return e;
	}
	*out = arr;
	*n = cnt;
	return FEDNS_OK;
}

fedns_err
hub_change_set_signed(hub_store *s, int64_t change_id, const uint8_t *payload, size_t payload_len,
		      const uint8_t *signature, size_t signature_len, const char *key_id)
{
	sqlite3_stmt *st;
	if (!payload || payload_len == 0 || payload_len > INT32_MAX || !signature ||
	    signature_len == 0 || signature_len > INT32_MAX)
		return store_fail(s, FEDNS_EINVAL,
				  "signed change %" PRId64 ": empty payload or signature",
				  change_id);
	if (!key_id || !*key_id || strlen(key_id) >= sizeof(((hub_signed_change *)0)->key_id))
		return store_fail(s, FEDNS_EINVAL,
				  "signed change %" PRId64 ": key id empty or too long", change_id);
	fedns_err e = stmt(s, ST_CHANGE_STATE, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, change_id);
	if ((e = step_one(s, st, "change"))) {
		if (e == FEDNS_ENOENT)
			store_fail(s, e, "change %" PRId64 " does not exist", change_id);
		return e;
	}
	int state = sqlite3_column_int(st, 0);
	done(st);
	if (state != HUB_CHANGE_COMMITTED)
		return store_fail(s, FEDNS_EINVAL,
				  "change %" PRId64 " is %s, not committed: it cannot be signed",
				  change_id, hub_change_state_name((hub_change_state)state));
	if ((e = stmt(s, ST_SIGNED_INS, &st)))
		return e;
	sqlite3_bind_int64(st, 1, change_id);
	sqlite3_bind_blob(st, 2, payload, (int)payload_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, signature, (int)signature_len, SQLITE_TRANSIENT);
	bind_text(st, 4, key_id);
	sqlite3_bind_int64(st, 5, now_ms());
	e = run(s, st, "store signed change");
	if (e == FEDNS_EEXIST)
		store_fail(s, e, "change %" PRId64 " is already signed", change_id);
	return e;
}

/* --- federation: clusters --- */

static fedns_err
check_cluster_name(hub_store *s, const char *name)
{
	if (!name || !*name)
		return store_fail(s, FEDNS_EINVAL, "cluster name is empty");
	if (strlen(name) >= sizeof(((hub_cluster *)0)->name))
		return store_fail(s, FEDNS_ETOOBIG, "cluster name is longer than %zu bytes",
				  sizeof(((hub_cluster *)0)->name) - 1);
	return FEDNS_OK;
}

static fedns_err
fill_cluster(sqlite3_stmt *st, void *elem)
{
	hub_cluster *c = elem;
	memset(c, 0, sizeof *c);
	copy_text(c->name, sizeof c->name, sqlite3_column_text(st, 0));
	c->connected = sqlite3_column_int(st, 1) != 0;
	c->first_seen = sqlite3_column_int64(st, 2);
	c->last_seen = sqlite3_column_int64(st, 3);
	c->connected_since = sqlite3_column_int64(st, 4);
	copy_text(c->software_version, sizeof c->software_version, sqlite3_column_text(st, 5));
	copy_text(c->peer, sizeof c->peer, sqlite3_column_text(st, 6));
	c->cert_not_after = sqlite3_column_int64(st, 7);
	copy_text(c->last_error, sizeof c->last_error, sqlite3_column_text(st, 8));
	c->sent = (uint64_t)sqlite3_column_int64(st, 9);
	c->applied = (uint64_t)sqlite3_column_int64(st, 10);
	c->refused = (uint64_t)sqlite3_column_int64(st, 11);
	return FEDNS_OK;
}

fedns_err
hub_cluster_connected(hub_store *s, const char *name, const char *software_version,
		      const char *peer, int64_t cert_not_after, int64_t now)
{
	sqlite3_stmt *st;
	fedns_err e = check_cluster_name(s, name);
	if (e)
		return e;
	if ((e = stmt(s, ST_CLUSTER_CONNECT, &st)))
		return e;
	bind_text(st, 1, name);
	bind_text(st, 2, software_version ? software_version : "");
	bind_text(st, 3, peer ? peer : "");
	sqlite3_bind_int64(st, 4, cert_not_after);
	sqlite3_bind_int64(st, 5, now ? now : now_ms());
	return run(s, st, "cluster connected");
}

fedns_err
hub_cluster_disconnected(hub_store *s, const char *name, const char *last_error, int64_t now)
{
	sqlite3_stmt *st;
	fedns_err e = check_cluster_name(s, name);
	if (e)
		return e;
	if ((e = stmt(s, ST_CLUSTER_DISCONNECT, &st)))
		return e;
	bind_text(st, 1, name);
	bind_text(st, 2, last_error);
	sqlite3_bind_int64(st, 3, now ? now : now_ms());
	e = run(s, st, "cluster disconnected");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT,
			       "cluster \"%s\" never connected and has no zone placed on it", name);
	return e;
}

fedns_err
hub_cluster_all_disconnected(hub_store *s, int64_t now)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CLUSTER_ALL_DISCONNECT, &st);
	if (e)
		return e;
	sqlite3_bind_int64(st, 1, now ? now : now_ms());
	return run(s, st, "clusters disconnected");
}

fedns_err
hub_cluster_get(hub_store *s, const char *name, hub_cluster *out)
{
	sqlite3_stmt *st;
	if (!name || !*name)
		return store_fail(s, FEDNS_ENOENT, "cluster: not found");
	fedns_err e = stmt(s, ST_CLUSTER_GET, &st);
	if (e)
		return e;
	bind_text(st, 1, name);
	if ((e = step_one(s, st, "cluster"))) {
		if (e == FEDNS_ENOENT)
			store_fail(s, e, "cluster \"%s\" is not known", name);
		return e;
	}
	fill_cluster(st, out);
	done(st);
	return FEDNS_OK;
}

fedns_err
hub_cluster_list(hub_store *s, hub_cluster **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CLUSTER_LIST, &st);
	if (e)
		return e;
	sqlite3_bind_null(st, 1);
	return collect(s, st, sizeof(hub_cluster), fill_cluster, NULL, (void **)out, n,
		       "list clusters");
}

fedns_err
hub_cluster_count(hub_store *s, const char *name, uint32_t sent, uint32_t applied, uint32_t refused,
		  const char *last_error)
{
	sqlite3_stmt *st;
	fedns_err e = check_cluster_name(s, name);
	if (e)
		return e;
	if ((e = stmt(s, ST_CLUSTER_COUNT, &st)))
		return e;
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, sent);
	sqlite3_bind_int64(st, 3, applied);
	sqlite3_bind_int64(st, 4, refused);
	bind_text(st, 5, last_error);
	e = run(s, st, "count cluster");
	if (e == FEDNS_OK && sqlite3_changes(s->db) == 0)
		e = store_fail(s, FEDNS_ENOENT, "cluster \"%s\" never connected", name);
	return e;
}

fedns_err
hub_cluster_zones(hub_store *s, const char *cluster, hub_zone **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_CLUSTER_ZONES, &st);
	if (e)
		return e;
	bind_text(st, 1, cluster ? cluster : "");
	return collect(s, st, sizeof(hub_zone), fill_zone, NULL, (void **)out, n,
		       "zones of cluster");
}

/* --- federation: what spokes hold --- */

fedns_err
hub_spoke_zone_put(hub_store *s, const hub_spoke_zone *z)
{
	sqlite3_stmt *st;
	fedns_err e = check_cluster_name(s, z->cluster);
	if (e)
		return e;
	if ((e = stmt(s, ST_SPOKE_ZONE_PUT, &st)))
		return e;
	bind_text(st, 1, z->cluster);
	sqlite3_bind_int64(st, 2, z->zone_id);
	sqlite3_bind_int64(st, 3, z->serial);
	bind_text(st, 4, z->digest);
	sqlite3_bind_int64(st, 5, z->acked_at);
	sqlite3_bind_int64(st, 6, z->change_id);
	sqlite3_bind_int64(st, 7, z->committed_at);
	sqlite3_bind_int64(st, 8, z->applied_ms);
	bind_text(st, 9, z->last_status);
	bind_text(st, 10, z->last_reason);
	e = run(s, st, "store spoke zone");
	if (e == FEDNS_ENOENT)
		store_fail(s, e, "spoke zone: zone %" PRId64 " does not exist", z->zone_id);
	return e;
}

static fedns_err
fill_spoke_zone(sqlite3_stmt *st, void *elem)
{
	hub_spoke_zone *z = elem;
	memset(z, 0, sizeof *z);
	copy_text(z->cluster, sizeof z->cluster, sqlite3_column_text(st, 0));
	z->zone_id = sqlite3_column_int64(st, 1);
	copy_text(z->zone, sizeof z->zone, sqlite3_column_text(st, 2));
	z->serial = (uint32_t)sqlite3_column_int64(st, 3);
	copy_text(z->digest, sizeof z->digest, sqlite3_column_text(st, 4));
	z->acked_at = sqlite3_column_int64(st, 5);
	z->change_id = sqlite3_column_int64(st, 6);
	z->committed_at = sqlite3_column_int64(st, 7);
	z->applied_ms = sqlite3_column_int64(st, 8);
	copy_text(z->last_status, sizeof z->last_status, sqlite3_column_text(st, 9));
	copy_text(z->last_reason, sizeof z->last_reason, sqlite3_column_text(st, 10));
	return FEDNS_OK;
}

fedns_err
hub_spoke_zone_list(hub_store *s, const char *cluster, int64_t zone_id, hub_spoke_zone **out,
		    size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_SPOKE_ZONE_LIST, &st);
	if (e)
		return e;
	bind_text(st, 1, cluster);
	sqlite3_bind_int64(st, 2, zone_id);
	return collect(s, st, sizeof(hub_spoke_zone), fill_spoke_zone, NULL, (void **)out, n,
		       "list spoke zones");
}

/* Deleting what is not there is not an error: placement removal may race a disconnect. */
static fedns_err
delete_pair(hub_store *s, enum stmt_id id, const char *cluster, int64_t zone_id, const char *what)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, id, &st);
	if (e)
		return e;
	bind_text(st, 1, cluster ? cluster : "");
	sqlite3_bind_int64(st, 2, zone_id);
	return run(s, st, what);
}

fedns_err
hub_spoke_zone_delete(hub_store *s, const char *cluster, int64_t zone_id)
{
	return delete_pair(s, ST_SPOKE_ZONE_DEL, cluster, zone_id, "delete spoke zone");
}

/* --- federation: what secondaries serve --- */

static bool
secondary_state_ok(const char *st)
{
	static const char *const states[] = {"unknown", "in_sync", "lagging", "diverged",
					     "unreachable"};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (strcmp(st, states[i]) == 0)
			return true;
	return false;
}

fedns_err
hub_secondary_put(hub_store *s, const hub_secondary *r, char *old_state)
{
	sqlite3_stmt *st;
	char old[16] = "";
	int64_t since = 0;
	fedns_err e = check_cluster_name(s, r->cluster);
	if (e)
		return e;
	if (!r->secondary[0])
		return store_fail(s, FEDNS_EINVAL, "secondary of cluster %s has no name",
				  r->cluster);
	if (!secondary_state_ok(r->state))
		return store_fail(s, FEDNS_EINVAL, "secondary %s: \"%.16s\" is not a state",
				  r->secondary, r->state);
	if ((e = sp_begin(s)))
		return e;
	if ((e = stmt(s, ST_SECONDARY_OLD, &st)))
		goto out;
	bind_text(st, 1, r->cluster);
	sqlite3_bind_int64(st, 2, r->zone_id);
	bind_text(st, 3, r->secondary);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(old, sizeof old, sqlite3_column_text(st, 0));
		since = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		e = sql_err(s, rc, "secondary state");
	}
	done(st);
	if (e)
		goto out;
	int64_t updated = r->updated_at ? r->updated_at : now_ms();
	if (strcmp(old, r->state) != 0)
		since = r->state_since ? r->state_since : updated;
	if ((e = stmt(s, ST_SECONDARY_PUT, &st)))
		goto out;
	bind_text(st, 1, r->cluster);
	sqlite3_bind_int64(st, 2, r->zone_id);
	bind_text(st, 3, r->secondary);
	bind_text(st, 4, r->address);
	bind_text(st, 5, r->state);
	sqlite3_bind_int(st, 6, r->has_serial ? 1 : 0);
	sqlite3_bind_int64(st, 7, r->has_serial ? r->serial : 0);
	bind_text(st, 8, r->digest);
	sqlite3_bind_int64(st, 9, r->last_proven);
	sqlite3_bind_int64(st, 10, r->lag_ms);
	bind_text(st, 11, r->last_error);
	sqlite3_bind_int64(st, 12, r->repairs);
	sqlite3_bind_int64(st, 13, updated);
	sqlite3_bind_int64(st, 14, since);
	sqlite3_bind_int64(st, 15, r->confirmed_ms);
	e = run(s, st, "store secondary");
	if (e == FEDNS_ENOENT)
		store_fail(s, e, "secondary %s: zone %" PRId64 " does not exist", r->secondary,
			   r->zone_id);
out:
	e = sp_end(s, e);
	if (e == FEDNS_OK && old_state)
		memcpy(old_state, old, sizeof old);
	return e;
}

static fedns_err
fill_secondary(sqlite3_stmt *st, void *elem)
{
	hub_secondary *r = elem;
	memset(r, 0, sizeof *r);
	copy_text(r->cluster, sizeof r->cluster, sqlite3_column_text(st, 0));
	r->zone_id = sqlite3_column_int64(st, 1);
	copy_text(r->zone, sizeof r->zone, sqlite3_column_text(st, 2));
	copy_text(r->secondary, sizeof r->secondary, sqlite3_column_text(st, 3));
	copy_text(r->address, sizeof r->address, sqlite3_column_text(st, 4));
	copy_text(r->state, sizeof r->state, sqlite3_column_text(st, 5));
	r->has_serial = sqlite3_column_int(st, 6) != 0;
	r->serial = (uint32_t)sqlite3_column_int64(st, 7);
	copy_text(r->digest, sizeof r->digest, sqlite3_column_text(st, 8));
	r->last_proven = sqlite3_column_int64(st, 9);
	r->lag_ms = sqlite3_column_int64(st, 10);
	copy_text(r->last_error, sizeof r->last_error, sqlite3_column_text(st, 11));
	r->repairs = (uint32_t)sqlite3_column_int64(st, 12);
	r->updated_at = sqlite3_column_int64(st, 13);
	r->state_since = sqlite3_column_int64(st, 14);
	r->confirmed_ms = sqlite3_column_int64(st, 15);
	return FEDNS_OK;
}

fedns_err
hub_secondary_list(hub_store *s, const char *cluster, int64_t zone_id, const char *state,
		   hub_secondary **out, size_t *n)
{
	sqlite3_stmt *st;
	fedns_err e = stmt(s, ST_SECONDARY_LIST, &st);
	if (e)
		return e;
	bind_text(st, 1, cluster);
	sqlite3_bind_int64(st, 2, zone_id);
	bind_text(st, 3, state);
	return collect(s, st, sizeof(hub_secondary), fill_secondary, NULL, (void **)out, n,
		       "list secondaries");
}

fedns_err
hub_secondary_delete(hub_store *s, const char *cluster, int64_t zone_id)
{
	return delete_pair(s, ST_SECONDARY_DEL, cluster, zone_id, "delete secondaries");
}
