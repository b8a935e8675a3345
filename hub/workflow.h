/* SPDX-License-Identifier: Apache-2.0 */
/* The change workflow: a proposal (RRset edits or a whole zone file) is validated with
 * dns/ and becomes a planned change set; approvals by others commit it atomically with a
 * new serial, the ZONEMD of the result, the version and the audit record. The caller
 * (api.c) has authenticated and authorised; this module enforces the zone-level rules
 * (stale base, segregation of duties, approval count, warnings that need a flag). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/zone.h"
#include "hub/store.h"

typedef enum hub_edit_op {
	HUB_EDIT_ADD = 1,     /* add these RRs to the RRset */
	HUB_EDIT_DELETE = 2,  /* delete these RRs, or the whole RRset when nrdata == 0 */
	HUB_EDIT_REPLACE = 3, /* the RRset becomes exactly these RRs */
} hub_edit_op;

typedef struct hub_edit {
	hub_edit_op op;
	const char *name; /* relative to the zone or absolute */
	const char *type; /* mnemonic or TYPEnnn */
	uint32_t ttl;	  /* 0: the RRset's current TTL, else the zone's default (SOA minimum) */
	bool has_ttl;
	const char *const *rdata; /* presentation form, one string per RR */
	size_t nrdata;
} hub_edit;

typedef struct hub_proposal {
	uint32_t base_serial;
	const char *reason;    /* required, non-empty */
	const char *ticket;    /* optional */
	const hub_edit *edits; /* either edits ... */
	size_t nedits;
	const char *zone_file; /* ... or a whole zone file */
	size_t zone_file_len;
	bool allow_apex_ns;	/* apex NS changes need it */
	bool allow_mass_delete; /* deleting more than warn_delete_fraction needs it */
	bool rollback;		/* set by hub_workflow_rollback */
} hub_proposal;

/* The plan answered to a proposal. */
typedef struct hub_plan {
	hub_change change;    /* as stored (id, state PROPOSED, diff text) */
	uint32_t next_serial; /* serial it gets if committed now */
	size_t ndel, nadd;
	char warnings[4][200];
	size_t nwarnings;
} hub_plan;

void hub_plan_fini(hub_plan *p);

/* Where a validation error points, for the API's error details. */
typedef struct hub_where {
	char field[64]; /* "edits[2].rdata[0]", "zone_file", "base_serial" */
	unsigned line;	/* zone_file line, 0 if none */
} hub_where;

typedef struct hub_workflow_opts {
	double warn_delete_fraction; /* default 0.10 */
	size_t snapshot_every;	     /* versions between snapshots, default 64 */
	size_t keep_versions;	     /* retention, default 0 = keep all */
} hub_workflow_opts;

typedef struct hub_workflow hub_workflow;

/* The workflow caches each zone's current finished fedns_zone in memory (loaded from the
 * store on first use) so a proposal costs O(change) plus validation. Thread-safe. */
fedns_err hub_workflow_new(const hub_workflow_opts *o, hub_workflow **out);
void hub_workflow_free(hub_workflow *w);

/* Creates a zone from master-file text (or, when text is NULL, an empty zone with SOA
 * primary_ns/hostmaster and NS primary_ns at serial 1). Validated like any proposal.
 * Inside the caller's write transaction. */
fedns_err hub_workflow_create_zone(hub_workflow *w, hub_store *s, int64_t tenant_id,
				   const char *name, uint32_t approvals_required, const char *text,
				   const char *primary_ns, const char *hostmaster, hub_zone *out,
				   fedns_diag *d, hub_where *where);

/* Validates and stores a proposal (state PROPOSED) and computes its plan. Errors:
 * FEDNS_ESTALE (base_serial is not current), FEDNS_ESYNTAX/FEDNS_EZONE (validation; d and
 * where say what and where), FEDNS_EACCES (a warning needs its allow_ flag). Inside the
 * caller's write transaction. */
fedns_err hub_workflow_propose(hub_workflow *w, hub_store *s, const hub_zone *zone,
			       const hub_principal *author, const hub_proposal *p,
			       const char *idempotency_key, hub_plan *out, fedns_diag *d,
			       hub_where *where);

/* Records an approval (or rejection) by 'who' — never the author (FEDNS_EACCES) and never
 * twice by one principal (FEDNS_EEXIST) — and, when the zone's policy is met, commits:
 * serial, ZONEMD, version, change state, stale-marking of other proposals. *committed
 * says whether it did. FEDNS_ESTALE if the change's base is no longer current. Inside the
 * caller's write transaction; the audit record for the decision is appended by the caller
 * in the same transaction. */
fedns_err hub_workflow_decide(hub_workflow *w, hub_store *s, int64_t change_id,
			      const hub_principal *who, bool approve, const char *comment,
			      bool *committed, hub_change *out, fedns_diag *d);

/* Proposes the zone's deletion: a change (delete_zone set) whose diff deletes every
 * record and whose plan says so (next_serial 0, a warning). It needs approvals like any
 * change; when they are met, the approval marks the zone deleted (hub_zone_mark_deleted)
 * instead of adding a version, and other open proposals on the zone become stale. Inside
 * the caller's write transaction. */
fedns_err hub_workflow_propose_delete(hub_workflow *w, hub_store *s, const hub_zone *zone,
				      const hub_principal *author, const char *reason,
				      const char *idempotency_key, hub_plan *out, fedns_diag *d);

/* Proposes a change whose result is the content of version 'to_serial'. */
fedns_err hub_workflow_rollback(hub_workflow *w, hub_store *s, const hub_zone *zone,
				const hub_principal *author, uint32_t to_serial, const char *reason,
				hub_plan *out, fedns_diag *d);

/* After the caller's transaction committed (hub_store_commit returned OK): makes the zone
 * a decide/create in that transaction built the current one in the cache. */
void hub_workflow_publish(hub_workflow *w, int64_t zone_id);

/* The current finished zone (borrowed until the next commit on that zone: copy what you
 * need while holding no other lock), loading it if needed. */
fedns_err hub_workflow_zone(hub_workflow *w, hub_store *s, const hub_zone *zone,
			    const fedns_zone **out);
/* The current finished zone, held: it stays valid until hub_workflow_zone_release(w,
 * *ref), whatever commits happen meanwhile (use this when reading the zone may take long,
 * e.g. encoding a snapshot). Thread-safe. */
fedns_err hub_workflow_zone_hold(hub_workflow *w, hub_store *s, const hub_zone *zone,
				 const fedns_zone **out, void **ref);
void hub_workflow_zone_release(hub_workflow *w, void *ref);
/* After a rolled-back transaction: drops what it built (a pending version, plans) so the
 * store stays the truth; cached committed versions stay (checked on every use). */
void hub_workflow_forget(hub_workflow *w, int64_t zone_id);

/* ---- work done before the write transaction ----
 * The O(zone) part of a proposal (parse, validate, diff, apply) and of a commit (the new
 * version, its ZONEMD, its snapshot text) needs no write lock: it is computed against the
 * current version read in a read transaction, then handed to the calls below, which in the
 * short write transaction only re-check that the zone still has the serial and digest it
 * was computed from (else they do the work again, or refuse a stale base as usual) and
 * store. */
typedef struct hub_prepared hub_prepared;

/* Validates a proposal and builds its plan and result without storing anything. Fails
 * exactly as hub_workflow_propose would (same codes, messages and where). */
fedns_err hub_workflow_prepare_propose(hub_workflow *w, hub_store *s, const hub_zone *zone,
				       const hub_principal *author, const hub_proposal *p,
				       hub_prepared **out, fedns_diag *d, hub_where *where);

/* hub_workflow_propose using 'prep' from hub_workflow_prepare_propose of the same proposal
 * by the same author (may be NULL); its result is used only while the zone is still at the
 * serial and digest it was built on, and is taken from it. */
fedns_err hub_workflow_propose_prepared(hub_workflow *w, hub_store *s, const hub_zone *zone,
					const hub_principal *author, const hub_proposal *p,
					hub_prepared *prep, const char *idempotency_key,
					hub_plan *out, fedns_diag *d, hub_where *where);

/* When an approval by 'who' would commit change_id, builds the version it would commit
 * (zone, ZONEMD, diff text, snapshot); *out is NULL otherwise or on any failure (the
 * decision then does the work itself and reports what is wrong). Stores nothing. */
void hub_workflow_prepare_commit(hub_workflow *w, hub_store *s, int64_t change_id,
				 const hub_principal *who, hub_prepared **out);

/* hub_workflow_decide using 'prep' (may be NULL): used only for the change it was built
 * for, with the same diff, while the zone is at the serial and digest it was built on. */
fedns_err hub_workflow_decide_prepared(hub_workflow *w, hub_store *s, int64_t change_id,
				       const hub_principal *who, bool approve, const char *comment,
				       hub_prepared *prep, bool *committed, hub_change *out,
				       fedns_diag *d);

void hub_prepared_free(hub_prepared *p);
