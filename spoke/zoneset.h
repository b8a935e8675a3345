/* SPDX-License-Identifier: Apache-2.0 */
/* The zones a spoke serves: per zone the current immutable version and a journal of
 * diffs for IXFR, plus the catalog zone listing the members. Versions are refcounted so a
 * transfer keeps the version (and journal entries) it started with while newer ones
 * arrive. All functions are thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/zone.h"

/* One entry of a zone's IXFR journal: the diff from serial 'from' to 'to', and a held
 * reference to the entry before it. Immutable once linked; refcounted so a transfer can
 * keep the chain it is sending while the journal is trimmed. */
typedef struct spoke_jentry {
	int refs; /* atomic */
	uint32_t from, to;
	fedns_diff diff;
	struct spoke_jentry *prev;
} spoke_jentry;

/* One immutable version of a zone: the zone itself and the journal leading to it.
 * Superseded versions are freed when their last transfer releases them; only the
 * current version keeps a whole zone, older ones live on as journal entries. */
typedef struct spoke_version {
	int refs; /* atomic */
	fedns_zone *zone;
	uint32_t serial;
	spoke_jentry *journal; /* held; its 'to' is this serial, or NULL */
} spoke_version;

/* Takes a reference. */
spoke_version *spoke_version_hold(spoke_version *v);
/* Drops a reference; frees the version (and releases its journal) at zero. Accepts NULL. */
void spoke_version_rele(spoke_version *v);

typedef struct spoke_zoneset spoke_zoneset;

typedef struct spoke_zoneset_opts {
	const uint8_t *catalog_origin; /* NULL: no catalog zone */
	size_t journal_max;	       /* diffs kept per zone for IXFR (default 1000) */
} spoke_zoneset_opts;

/* Called (from the thread that changed the set) after a zone got a new serial, so the
 * NOTIFY sender can act. The catalog zone is reported like any zone. */
typedef void (*spoke_zoneset_changed_fn)(void *ctx, const uint8_t *origin, uint32_t serial);

fedns_err spoke_zoneset_new(const spoke_zoneset_opts *opts, spoke_zoneset **out);
void spoke_zoneset_free(spoke_zoneset *zs);
void spoke_zoneset_on_change(spoke_zoneset *zs, spoke_zoneset_changed_fn fn, void *ctx);

/* Adds or replaces a zone with a full version (takes ownership of z on success). A
 * replacement of an existing zone journals the diff from the old version, so
 * secondaries still get IXFR; the new serial must be greater (RFC 1982), else
 * FEDNS_ESTALE. A new member bumps the catalog serial. */
fedns_err spoke_zoneset_put(spoke_zoneset *zs, fedns_zone *z, fedns_diag *d);
/* Applies a diff to a zone (the diff's old SOA must be the current SOA, its new serial
 * greater). All or nothing; takes ownership of diff on success. */
fedns_err spoke_zoneset_apply(spoke_zoneset *zs, const uint8_t *origin, fedns_diff *diff,
			      uint32_t *new_serial, fedns_diag *d);
/* Builds base + diff as a new finished zone, the way every version of a member zone is
 * built: copy-on-write from a shared base (fedns_zone_derive, O(change + zone / 64)), else
 * fedns_diff_apply (O(zone)), whose refusals and their wording are kept exactly; the result
 * is shared (fedns_zone_share) so the next version derives from it cheaply. base is not
 * changed and may be freed before or after *out. Zones the set takes (put, restore) are
 * shared by the set. FEDNS_ENOMEM and fedns_diff_apply's errors, with d set. */
fedns_err spoke_zoneset_build(const fedns_zone *base, const fedns_diff *diff, fedns_zone **out,
			      fedns_diag *d);
/* Removes a member zone (and from the catalog). FEDNS_ENOENT if absent. */
fedns_err spoke_zoneset_remove(spoke_zoneset *zs, const uint8_t *origin);

/* Durable storage behind the set (spoke/journal.c). Each hook runs before the change it
 * describes becomes visible, outside the lookup lock but serialised with every other
 * change of the set; a failure refuses the change and leaves the set as it was. A version
 * passed in is complete but not yet served; a hook may take a reference. */
typedef struct spoke_zoneset_store {
	void *ctx;
	/* a new member zone (no earlier version) */
	fedns_err (*added)(void *ctx, const spoke_version *v, fedns_diag *d);
	/* v follows the current version of its zone by v->journal (from, to, diff) */
	fedns_err (*changed)(void *ctx, const spoke_version *v, fedns_diag *d);
	/* the member zone 'origin' is about to go */
	fedns_err (*removed)(void *ctx, const uint8_t *origin, fedns_diag *d);
	/* the catalog zone is about to be built at 'serial' */
	fedns_err (*catalog)(void *ctx, uint32_t serial, fedns_diag *d);
} spoke_zoneset_store;

/* Installs (copies) the hooks; NULL removes them. Call before the set is shared. */
void spoke_zoneset_set_store(spoke_zoneset *zs, const spoke_zoneset_store *st);
/* Copies the installed hooks into *st and returns true; false when none are installed.
 * Lets a wrapper (the hub session's digest check) chain to the journal's hooks. */
bool spoke_zoneset_get_store(spoke_zoneset *zs, spoke_zoneset_store *st);

/* One restored IXFR journal entry for spoke_zoneset_restore. */
typedef struct spoke_zoneset_jdiff {
	uint32_t from, to;
	fedns_diff diff;
} spoke_zoneset_jdiff;

/* Adds a member zone rebuilt from durable storage: z (taken on success) with its IXFR
 * journal 'j' (oldest first, the last leading to z's serial; each diff's storage is
 * moved out on success, only the newest journal_max are kept). Calls no store hook and
 * reports no change (the caller NOTIFYs once serving). FEDNS_EEXIST if already served. */
fedns_err spoke_zoneset_restore(spoke_zoneset *zs, fedns_zone *z, spoke_zoneset_jdiff *j, size_t n,
				fedns_diag *d);
/* The catalog zone, when first built, gets 'serial' (a restarted spoke continues above
 * what it served before). No effect once the catalog exists. */
void spoke_zoneset_catalog_resume(spoke_zoneset *zs, uint32_t serial);

/* Finds the zone whose origin equals 'name' exactly (member or catalog); returns a held
 * version or NULL. Release with spoke_version_rele. */
spoke_version *spoke_zoneset_get(spoke_zoneset *zs, const uint8_t *name);
/* Collects the journal entries leading from serial 'from' to version v, oldest first,
 * each held (release with spoke_jentry_rele). Returns the count, 0 when 'from' is v's
 * serial, or -1 when 'from' is not in the journal (the caller falls back to AXFR). */
long spoke_zoneset_journal(spoke_zoneset *zs, const spoke_version *v, uint32_t from,
			   spoke_jentry **out, size_t max);
void spoke_jentry_rele(spoke_jentry *j);
/* Lists member origins (malloc'd array of malloc'd names; free with
 * spoke_zoneset_list_free). */
size_t spoke_zoneset_list(spoke_zoneset *zs, uint8_t ***out);
void spoke_zoneset_list_free(uint8_t **list, size_t n);
