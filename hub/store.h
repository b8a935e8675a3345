/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's system of record: tenants, principals and their credentials and roles, zones
 * with policy and placement, change sets and approvals, zone versions, and the audit
 * chain. One interface; the embedded backend is SQLite (WAL, synchronous commits), an
 * etcd backend comes later. Every write that must be atomic (a commit: version + change
 * set + audit record) happens inside one transaction. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"

typedef struct hub_store hub_store;

/* Roles are per tenant; a role includes the ones before it except that approving is its
 * own right (an admin may approve; an editor may not). */
typedef enum hub_role {
	HUB_ROLE_NONE = 0,
	HUB_ROLE_VIEWER = 1,
	HUB_ROLE_EDITOR = 2,
	HUB_ROLE_APPROVER = 3,
	HUB_ROLE_ADMIN = 4,
} hub_role;

const char *hub_role_name(hub_role r);
hub_role hub_role_from_name(const char *s);

/* The tenant id used for estate-wide grants (a role bound to it applies to every tenant:
 * the bootstrap admin). */
#define HUB_TENANT_ALL 0

typedef struct hub_principal {
	int64_t id;
	char name[128];
	char kind[16]; /* "person" or "automation" */
	bool disabled;
	int64_t created_at; /* unix seconds */
} hub_principal;

typedef struct hub_tenant {
	int64_t id;
	char name[64];
	int64_t created_at;
} hub_tenant;

typedef struct hub_zone {
	int64_t id;
	int64_t tenant_id;
	char name[256];		     /* presentation form, absolute, lowercase */
	uint32_t approvals_required; /* default 1 */
	uint32_t serial;	     /* current (last committed) serial */
	char digest[97];	     /* hex ZONEMD SHA-384 of the current version */
	bool deleted;
	int64_t created_at;
} hub_zone;

typedef enum hub_change_state {
	HUB_CHANGE_PROPOSED = 1,
	HUB_CHANGE_REJECTED = 2,
	HUB_CHANGE_COMMITTED = 3,
	HUB_CHANGE_STALE = 4,	  /* another change committed first: based on an old serial */
	HUB_CHANGE_WITHDRAWN = 5, /* the author withdrew it */
} hub_change_state;

const char *hub_change_state_name(hub_change_state s);

/* A change set. 'diff' is the exact change in presentation form, one RR per line, each
 * line "-" (delete) or "+" (add) then the RR as fedns_rr_print writes it; deletions first.
 * The SOA lines are not part of a proposal: the serial is assigned at commit, and the
 * committed diff then starts with "-old SOA" and "+new SOA" lines (IXFR shape). */
typedef struct hub_change {
	int64_t id;
	int64_t zone_id;
	hub_change_state state;
	int64_t author_id;
	char reason[512];
	char ticket[128];
	uint32_t base_serial; /* the version the diff was computed against */
	uint32_t serial;      /* assigned at commit, 0 before */
	char *diff;	      /* malloc'd, NUL-terminated; hub_change_fini frees */
	char digest[97];      /* ZONEMD of the resulting zone (at commit) */
	char *signature;      /* base64 hub signature over the committed change (federation) */
	int64_t created_at, decided_at;
	uint32_t approvals; /* count of approvals so far */
	/* proposes the zone's deletion: 'diff' lists what goes; committing marks the zone
	 * deleted instead of adding a version */
	bool delete_zone;
} hub_change;

void hub_change_fini(hub_change *c);

typedef struct hub_approval {
	int64_t change_id;
	int64_t principal_id;
	bool approve; /* false: reject */
	char comment[512];
	int64_t at;
	char *signature; /* optional RFC 9421 proof over the change digest, malloc'd */
	/* with a signature: the signer's key id and the hex SHA-256 of the change's diff
	 * text the signed text names ("" without one); set by hub_approval_set_signature */
	char key_id[64];
	char signed_digest[65];
} hub_approval;

/* One audit record. 'hash' = SHA-256 over prev_hash and the canonical encoding of the
 * other fields (common/auditchain.h), so the chain can be checked offline. */
typedef struct hub_audit {
	int64_t seq; /* 1, 2, 3, ... without gaps */
	int64_t at;  /* unix milliseconds */
	char principal[128];
	char action[64];	 /* "zone.create", "change.approve", "auth.denied", ... */
	char target[300];	 /* "zone:example.com.", "change:42", "tenant:bank" */
	char outcome[32];	 /* "ok", "denied", "invalid", "conflict", "error" */
	char payload_digest[65]; /* hex SHA-256 of the request or change payload, or "" */
	char prev_hash[65];
	char hash[65];
} hub_audit;

typedef struct hub_store_opts {
	const char *path; /* SQLite file */
	bool create;	  /* create the file if missing */
	unsigned busy_ms; /* default 5000 */
	/* Group commit: synchronous=NORMAL, so hub_store_commit writes the transaction to
	 * the WAL (DBNAME-wal) without syncing it, and the transaction is durable only once a
	 * hub_wal_sync_run that started after the commit returned has succeeded. Checkpoints
	 * still sync (SQLite syncs the WAL before one and the database after it with NORMAL). */
	bool defer_sync;
} hub_store_opts;

/* Opens (and migrates to the current schema) the store. */
fedns_err hub_store_open(const hub_store_opts *o, hub_store **out, fedns_diag *d);
void hub_store_close(hub_store *s);
/* What the last failed call on this handle was about ("store PATH: create zone: UNIQUE
 * constraint failed: zones.name"); borrowed until the next call. For functions that
 * take no fedns_diag. */
const char *hub_store_errmsg(hub_store *s);
int hub_store_schema_version(hub_store *s);
/* Online backup to 'dest' (SQLite backup API; the hub keeps serving). */
fedns_err hub_store_backup(hub_store *s, const char *dest, fedns_diag *d);
/* Checks integrity (SQLite integrity_check and the audit chain). */
fedns_err hub_store_check(hub_store *s, fedns_diag *d);

/* Transactions: every function below runs inside the transaction the caller opened with
 * hub_store_begin (write=true takes the write lock at once: BEGIN IMMEDIATE), which ends
 * with hub_store_commit (durable when it returns OK; with defer_sync, see below) or hub_store_rollback. A store
 * handle is used by one thread at a time; open one per worker thread. */
fedns_err hub_store_begin(hub_store *s, bool write);
fedns_err hub_store_commit(hub_store *s);
void hub_store_rollback(hub_store *s);

/* The group-sync step of stores opened with defer_sync: hub_wal_sync_run fdatasyncs the
 * store's WAL file, which makes durable every transaction whose commit returned before the
 * call began (SQLite writes WAL frames with write(); a sync of the file covers every
 * descriptor's writes). It opens the WAL itself (again whenever the file was replaced) and
 * then syncs the directory too, so a WAL created since is found after a power loss. After
 * a failed sync it keeps failing: the kernel may have dropped the pages it could not
 * write, so no later sync can prove them durable. One thread at a time per object. */
typedef struct hub_wal_sync hub_wal_sync;
fedns_err hub_wal_sync_new(const char *store_path, hub_wal_sync **out, fedns_diag *d);
fedns_err hub_wal_sync_run(hub_wal_sync *w, fedns_diag *d);
void hub_wal_sync_free(hub_wal_sync *w);

/* Tenants and principals. Names are unique: FEDNS_EEXIST on a duplicate. */
fedns_err hub_tenant_create(hub_store *s, const char *name, int64_t *id);
fedns_err hub_tenant_get(hub_store *s, const char *name, hub_tenant *out);
fedns_err hub_tenant_list(hub_store *s, hub_tenant **out, size_t *n);

fedns_err hub_principal_create(hub_store *s, const char *name, const char *kind, int64_t *id);
fedns_err hub_principal_get(hub_store *s, const char *name, hub_principal *out);
fedns_err hub_principal_get_id(hub_store *s, int64_t id, hub_principal *out);
fedns_err hub_principal_list(hub_store *s, hub_principal **out, size_t *n);
/* Principals by name after 'after' ("" or NULL: from the start), limit 0: all. */
fedns_err hub_principal_list_page(hub_store *s, const char *after, size_t limit,
				  hub_principal **out, size_t *n);
/* A disabled principal's tokens, keys and roles stop counting at once (every lookup
 * checks the flag). FEDNS_ENOENT for an unknown id. */
fedns_err hub_principal_set_disabled(hub_store *s, int64_t principal_id, bool disabled);
/* Stores a token's SHA-256 (hex), never the token. */
fedns_err hub_token_add(hub_store *s, int64_t principal_id, const char *token_sha256_hex,
			const char *label, int64_t expires_at);
/* FEDNS_ENOENT when no live token matches. */
fedns_err hub_token_lookup(hub_store *s, const char *token_sha256_hex, hub_principal *out);
/* Public keys (SPKI DER, base64) of certificate-holding principals, by key id. */
fedns_err hub_pubkey_add(hub_store *s, int64_t principal_id, const char *key_id,
			 const char *spki_b64);
fedns_err hub_pubkey_lookup(hub_store *s, const char *key_id, hub_principal *who, char **spki_b64);

fedns_err hub_role_grant(hub_store *s, int64_t principal_id, int64_t tenant_id, hub_role role);
fedns_err hub_role_revoke(hub_store *s, int64_t principal_id, int64_t tenant_id);
/* One role binding of a principal (tenant "*" for estate-wide grants). */
typedef struct hub_role_binding {
	int64_t tenant_id;
	char tenant[64];
	hub_role role;
} hub_role_binding;

/* The principal's bindings, estate-wide first then by tenant name; malloc'd array. */
fedns_err hub_role_list(hub_store *s, int64_t principal_id, hub_role_binding **out, size_t *n);
/* The principal's role in the tenant (an estate-wide grant counts). */
hub_role hub_role_of(hub_store *s, int64_t principal_id, int64_t tenant_id);

/* Zones. The zone's content lives in versions; create takes the first version's text
 * (parsed with dns/: FEDNS_ESYNTAX/FEDNS_EZONE if it is not a valid zone, FEDNS_EINVAL if
 * its SOA serial is not 'serial'; stored in canonical form). Names are normalised
 * (absolute, lowercase) on create and get. Lists: limit 0 means no limit. */
fedns_err hub_zone_create(hub_store *s, int64_t tenant_id, const char *name,
			  uint32_t approvals_required, uint32_t serial, const char *digest_hex,
			  const char *content, int64_t *id);
fedns_err hub_zone_get(hub_store *s, const char *name, hub_zone *out);
fedns_err hub_zone_get_id(hub_store *s, int64_t id, hub_zone *out);
/* Zones of one tenant (tenant_id = HUB_TENANT_ALL: all), by name, paged after 'after'. */
fedns_err hub_zone_list(hub_store *s, int64_t tenant_id, const char *after, size_t limit,
			hub_zone **out, size_t *n);
fedns_err hub_zone_set_policy(hub_store *s, int64_t zone_id, uint32_t approvals_required);
fedns_err hub_zone_set_placement(hub_store *s, int64_t zone_id, const char *const *clusters,
				 size_t n);
fedns_err hub_zone_placement(hub_store *s, int64_t zone_id, char ***clusters, size_t *n);
fedns_err hub_zone_mark_deleted(hub_store *s, int64_t zone_id);

/* Versions: the master-file text of (zone, serial). Stored as periodic snapshots plus the
 * committed diffs between them; hub_version_text rebuilds any kept version (canonical
 * text, fedns_zone_print's form). hub_version_add also makes (serial, digest) the zone's
 * current version; it needs change_id > 0 (the diff is that change's) or a snapshot
 * (master-file text, stored as given and canonicalised when read; a mismatch with the
 * diffs or the serial is found then: FEDNS_EIO). Pruned versions are no longer listed or
 * returned (FEDNS_ENOENT); pruning parses nothing, so it may run on every commit. */
fedns_err hub_version_add(hub_store *s, int64_t zone_id, uint32_t serial, int64_t change_id,
			  const char *digest_hex, const char *snapshot_or_null);
fedns_err hub_version_text(hub_store *s, int64_t zone_id, uint32_t serial, char **text);
fedns_err hub_version_list(hub_store *s, int64_t zone_id, uint32_t **serials, size_t *n);
/* Drops versions (and snapshots no longer needed) older than 'keep' versions. */
fedns_err hub_version_prune(hub_store *s, int64_t zone_id, size_t keep);

/* Changes and approvals. create: a reused (author, idempotency_key) is FEDNS_EEXIST with
 * c->id set to the change it made. Lists are malloc'd arrays (free each change with
 * hub_change_fini, each approval's 'signature' with free(), then the array). */
fedns_err hub_change_create(hub_store *s, hub_change *c, const char *idempotency_key);
fedns_err hub_change_get(hub_store *s, int64_t id, hub_change *out);
/* By zone (0: all zones the caller filters later), state (0: any), paged by id < before. */
fedns_err hub_change_list(hub_store *s, int64_t zone_id, hub_change_state state, int64_t before,
			  size_t limit, hub_change **out, size_t *n);
fedns_err hub_change_update(hub_store *s, const hub_change *c);
/* Marks every PROPOSED change of the zone based on another serial as STALE. */
fedns_err hub_change_mark_stale(hub_store *s, int64_t zone_id, uint32_t current_serial);
fedns_err hub_approval_add(hub_store *s, const hub_approval *a);
fedns_err hub_approval_list(hub_store *s, int64_t change_id, hub_approval **out, size_t *n);
/* Attaches a verified signature (base64), its key id and the hex SHA-256 of the diff the
 * signed text names to the decision 'principal_id' made on 'change_id' (FEDNS_ENOENT without one).
 * The caller verified it; the store keeps it for the audit export. */
fedns_err hub_approval_set_signature(hub_store *s, int64_t change_id, int64_t principal_id,
				     const char *signature_b64, const char *key_id,
				     const char *signed_digest);

/* Audit: appends with seq = last + 1 and the chain hash computed here (rec->at 0: now).
 * The head of an empty chain is seq 0 with hash fedns_audit_genesis. */
fedns_err hub_audit_append(hub_store *s, hub_audit *rec);
fedns_err hub_audit_list(hub_store *s, int64_t after_seq, size_t limit, hub_audit **out, size_t *n);
fedns_err hub_audit_head(hub_store *s, hub_audit *out);

/* Idempotency keys: a POST's key and the response it got, replayed on a retry. */
fedns_err hub_idem_get(hub_store *s, int64_t principal_id, const char *key, int *status,
		       char **body, char *request_digest_hex);
fedns_err hub_idem_put(hub_store *s, int64_t principal_id, const char *key, int status,
		       const char *body, const char *request_digest_hex);

/* ---- federation (schema v4): signed change sets, clusters, what each spoke holds, and
 * what each secondary serves. Written by hub/fanout.c, read by the API and dashboard. ---- */

/* A committed change as it travels to spokes: the exact bytes of the serialized
 * SignedBody (proto/msg.h), the hub's signature over them and the signing key's id. Made
 * once, the first time the change is sent, and kept: a retransmission sends the same bytes,
 * and the audit export can show what the spokes were given. */
typedef struct hub_signed_change {
	int64_t change_id;
	int64_t zone_id;
	uint32_t from_serial, to_serial;
	char digest[97];  /* hex ZONEMD of the result (as hub_change.digest) */
	char *diff;	  /* the committed diff text (hub_change.diff), malloc'd */
	bool delete_zone; /* the change deleted the zone: never sent, ends the stream */
	uint8_t *payload; /* malloc'd, NULL when not signed yet */
	size_t payload_len;
	uint8_t *signature; /* malloc'd, r || s */
	size_t signature_len;
	char key_id[64];
} hub_signed_change;

void hub_signed_change_fini(hub_signed_change *c);

/* The committed changes of a zone that follow its version 'from_serial', in commit order,
 * at most 'limit' (0: all). FEDNS_ENOENT when 'from_serial' is not a kept version of the
 * zone (never was, or pruned): the caller sends a snapshot instead. *n 0 when from_serial is
 * current. Array malloc'd; fini each element, then free the array. */
fedns_err hub_changes_after(hub_store *s, int64_t zone_id, uint32_t from_serial, size_t limit,
			    hub_signed_change **out, size_t *n);
/* Stores the signed form of a committed change (once: FEDNS_EEXIST if it has one; the
 * caller then reads it back with hub_changes_after and uses that). */
fedns_err hub_change_set_signed(hub_store *s, int64_t change_id, const uint8_t *payload,
				size_t payload_len, const uint8_t *signature, size_t signature_len,
				const char *key_id);

/* A cluster: created the first time its spoke authenticates (or when a zone is placed on
 * it), updated on every connect and disconnect. */
typedef struct hub_cluster {
	char name[64];
	bool connected;
	int64_t first_seen, last_seen; /* unix ms; 0 never */
	int64_t connected_since;       /* unix ms; 0 when not connected */
	char software_version[64];
	char peer[64];			 /* "IP:PORT" of the current or last connection */
	int64_t cert_not_after;		 /* unix seconds of the spoke certificate's expiry */
	char last_error[256];		 /* last refusal or auth failure, "" none */
	uint64_t sent, applied, refused; /* change sets and snapshots, since first seen */
} hub_cluster;

/* Creates the cluster row if missing, then sets the connection fields given. */
fedns_err hub_cluster_connected(hub_store *s, const char *name, const char *software_version,
				const char *peer, int64_t cert_not_after, int64_t now_ms);
fedns_err hub_cluster_disconnected(hub_store *s, const char *name, const char *last_error,
				   int64_t now_ms);
/* Marks every cluster disconnected (last_seen = now_ms for those that were connected): a
 * hub starting has no session, whatever the store says from before a crash. */
fedns_err hub_cluster_all_disconnected(hub_store *s, int64_t now_ms);
fedns_err hub_cluster_get(hub_store *s, const char *name, hub_cluster *out);
/* Every cluster that ever connected or has a zone placed on it, by name. */
fedns_err hub_cluster_list(hub_store *s, hub_cluster **out, size_t *n);
/* Adds to the counters (sent/applied/refused) and sets last_error when not NULL. */
fedns_err hub_cluster_count(hub_store *s, const char *name, uint32_t sent, uint32_t applied,
			    uint32_t refused, const char *last_error);

/* The zones (not deleted) placed on a cluster, by name (hub_zone_list's element type). */
fedns_err hub_cluster_zones(hub_store *s, const char *cluster, hub_zone **out, size_t *n);

/* What one spoke holds of one zone, from its last acknowledgement. */
typedef struct hub_spoke_zone {
	char cluster[64];
	int64_t zone_id;
	char zone[256];
	uint32_t serial;
	char digest[97];      /* hex; "" unknown */
	int64_t acked_at;     /* unix ms of the last ack, 0 never */
	int64_t change_id;    /* last change acknowledged applied, 0 snapshot/none */
	int64_t committed_at; /* unix ms the hub committed that serial, 0 unknown */
	int64_t applied_ms;   /* commit -> spoke applied (ms), -1 unknown */
	char last_status[32]; /* "applied", "already_applied", "refused" */
	char last_reason[32]; /* refusal reason, "" */
} hub_spoke_zone;

fedns_err hub_spoke_zone_put(hub_store *s, const hub_spoke_zone *z);
/* For one cluster (NULL: all), one zone (0: all), by cluster then zone name. */
fedns_err hub_spoke_zone_list(hub_store *s, const char *cluster, int64_t zone_id,
			      hub_spoke_zone **out, size_t *n);
/* Drops the row (placement removed the zone from the cluster, or the zone was deleted). */
fedns_err hub_spoke_zone_delete(hub_store *s, const char *cluster, int64_t zone_id);

/* One secondary's state for one zone, as its spoke last reported it. */
typedef struct hub_secondary {
	char cluster[64];
	int64_t zone_id;
	char zone[256];
	char secondary[64];
	char address[64];
	char state[16]; /* "unknown", "in_sync", "lagging", "diverged", "unreachable" */
	bool has_serial;
	uint32_t serial;
	char digest[129];    /* hex of the AXFR digest it served, "" none */
	int64_t last_proven; /* unix ms its bytes last matched, 0 never */
	int64_t lag_ms;	     /* -1 unknown */
	char last_error[256];
	uint32_t repairs;
	int64_t updated_at;   /* unix ms of the report */
	int64_t state_since;  /* unix ms the state was entered */
	int64_t confirmed_ms; /* commit at the hub -> in_sync reported (ms), -1 unknown */
} hub_secondary;

/* Upserts the row. *old_state (cap 16, may be NULL) receives the previous state ("" when
 * new) so the caller audits changes of state; state_since is kept when the state did not
 * change. */
fedns_err hub_secondary_put(hub_store *s, const hub_secondary *r, char *old_state);
/* Filters: cluster NULL all, zone_id 0 all, state NULL all. By zone, cluster, secondary. */
fedns_err hub_secondary_list(hub_store *s, const char *cluster, int64_t zone_id, const char *state,
			     hub_secondary **out, size_t *n);
/* Drops every row of (cluster, zone) (zone no longer placed there). */
fedns_err hub_secondary_delete(hub_store *s, const char *cluster, int64_t zone_id);
