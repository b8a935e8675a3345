/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's durable journal: per zone a snapshot and an append-only file of the diffs
 * after it, so a restarted spoke serves the same serials and still answers IXFR from the
 * serials it served before, without a full resynchronisation.
 *
 * Layout under the state directory (created 0700, files 0600):
 *   catalog-serial            highest catalog serial reserved (decimal text)
 *   zones/<name>/snapshot     the zone at one serial
 *   zones/<name>/journal      diffs, oldest first (IXFR history, then changes after the
 *                             snapshot)
 * <name> is the lowercased origin with every byte outside [a-z0-9_-] written as %XX,
 * labels joined by '.', "@" for the root, and "#" + SHA-256 hex of the lowercased wire
 * name when that is longer than 200 characters: it never contains '/', is never "." or
 * "..", and two origins that compare equal get the same name.
 *
 * snapshot: "FEDNSSNP" u32 format(1) u32 serial u16 class origin(wire) u64 count, then
 * count RRs, then SHA-256 of every byte before it. Written to snapshot.tmp, fsync'd,
 * renamed, directory fsync'd: a reader sees the old or the new one, whole.
 * journal: "FEDNSJNL" u32 format(1), then records: u32 len, len bytes of payload,
 * SHA-256 of (len, payload). Payload: u32 from u32 to u32 ndel u32 nadd, ndel + nadd RRs.
 * An RR: owner (uncompressed wire name) u16 type u16 class u32 ttl u16 rdlen rdata. All
 * integers big-endian. A change is one append and one fdatasync: O(change).
 *
 * Loading reads the snapshot (serial S) and the records while each is whole, its hash
 * matches and it continues the one before (from == previous to). The records up to the one
 * ending at S are IXFR history; the ones after it are replayed with fedns_diff_apply. The
 * first torn, corrupt or inapplicable record ends the journal: it is logged
 * (spoke.journal.truncated, with zone and offset) and cut off, so later appends follow
 * the last good record. A snapshot that is missing (a zone whose creation or removal was
 * interrupted) removes the directory; one that is damaged is logged
 * (spoke.journal.zone_failed) and that zone is not served; neither stops the others.
 *
 * Compaction: once 'compact_records' records or 'compact_bytes' bytes follow the
 * snapshot, a worker thread writes a new snapshot at the newest serial and a new journal
 * holding the last 'journal_max' diffs up to it plus whatever was appended meanwhile,
 * and renames the snapshot first, then the journal. Both the old and the new journal
 * contain the record ending at the new snapshot's serial, so a crash between the renames
 * loads consistently.
 *
 * The catalog zone is rebuilt from the members; only its serial must never go back, so
 * the journal reserves serials ahead (catalog-serial) and a restarted spoke continues
 * above the reservation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"
#include "spoke/zoneset.h"

typedef struct spoke_journal spoke_journal;

typedef struct spoke_journal_opts {
	const char *dir;	/* state directory (created 0700 when missing) */
	size_t journal_max;	/* IXFR diffs kept per zone (default 1000) */
	size_t compact_records; /* records after the snapshot that start a compaction (64) */
	uint64_t compact_bytes; /* or bytes after the snapshot (64 MiB) */
} spoke_journal_opts;

/* Creates or opens the state directory (an existing one is narrowed to 0700; one owned by
 * another user or not a directory is refused) and starts the compaction worker. */
fedns_err spoke_journal_open(const spoke_journal_opts *o, spoke_journal **out, fedns_diag *d);
/* Stops the worker (a compaction under way finishes, queued ones are dropped: they are
 * only an optimisation) and closes everything. Accepts NULL. */
void spoke_journal_close(spoke_journal *j);

/* Restores every zone of the directory into zs (spoke_zoneset_restore) and sets the
 * catalog's next serial. Zones that fail are logged and skipped; *loaded and *failed
 * count them (either may be NULL). Fails only when the directory cannot be read or the
 * catalog reservation cannot be written. Call once, before spoke_journal_attach. */
fedns_err spoke_journal_load(spoke_journal *j, spoke_zoneset *zs, size_t *loaded, size_t *failed,
			     fedns_diag *d);
/* Installs the journal as zs's store: every later put, apply and remove is durable
 * before it is served. j must outlive zs's use of it. */
void spoke_journal_attach(spoke_journal *j, spoke_zoneset *zs);
/* Waits until no compaction is queued or running (tests, orderly shutdown). */
void spoke_journal_sync(spoke_journal *j);

/* The directory name of 'origin' (see above) into out; returns its length, 0 if outsz is
 * too small. Pure. */
size_t spoke_journal_dirname(const uint8_t *origin, char *out, size_t outsz);
