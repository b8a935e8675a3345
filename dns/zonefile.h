/* SPDX-License-Identifier: Apache-2.0 */
/* Master files (RFC 1035 §5 and what BIND accepts): parser into a fedns_zone, printer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/name.h"
#include "dns/zone.h"

/* Supplies the text of an $INCLUDE'd file. 'ref' is the file name as written, 'from' the
 * including file's name. On success *text is malloc'd (free with free()), *resolved is
 * a malloc'd display name for diagnostics. dns/ does no I/O itself: callers pass
 * fedns_file_include (common/file.h), which confines includes to the zone's directory. */
typedef fedns_err (*fedns_include_fn)(void *ctx, const char *ref, const char *from, char **text,
				      size_t *len, char **resolved, fedns_diag *d);

typedef struct fedns_zonefile_opts {
	const uint8_t *origin;	  /* initial $ORIGIN, required */
	fedns_include_fn include; /* NULL: $INCLUDE is refused */
	void *include_ctx;
	unsigned max_include_depth; /* default 8 */
	fedns_diag_fn warn;	    /* warnings (may be NULL) */
	void *warn_ctx;
} fedns_zonefile_opts;

/* Parses master-file text 'text[0..len)' named 'name' (for diagnostics) and stages every
 * RR into z (which must be in building state). $ORIGIN, $TTL, $INCLUDE, @, relative
 * names, blank owner = previous owner, ( ) across lines, ; comments, "quoted strings",
 * TTL units, optional class and TTL in either order. Without $TTL the first RR needs an
 * explicit TTL, except that an SOA without one takes its MINIMUM (BIND's behaviour).
 * Stops at the first error: returns FEDNS_ESYNTAX/FEDNS_ETOOBIG/... with d saying
 * "file:line: what" (d->file and d->line set). Thread-safe for distinct zones. */
fedns_err fedns_zonefile_parse(const char *name, const char *text, size_t len,
			       const fedns_zonefile_opts *opts, fedns_zone *z, fedns_diag *d);

/* Appends the presentation form of one RR as a master-file line (absolute owner, TTL,
 * class, type, rdata, '\n'). */
fedns_err fedns_rr_print(const fedns_rr *rr, fedns_buf *out);

/* Prints a finished zone in canonical order, one RR per line, absolute names, SOA first.
 * The output parses back (fedns_zonefile_parse) to the same zone. */
fedns_err fedns_zone_print(const fedns_zone *z, fedns_buf *out);

/* The origin a master file declares for itself: the owner of its first record when that
 * record is an SOA written with an absolute owner name ($TTL lines before it are allowed).
 * Lets offline tools (fednsctl zone check without --origin) run on a bare file. Writes the
 * name to out; FEDNS_ESYNTAX with a message in d when the file does not start that way. */
fedns_err fedns_zonefile_origin(const char *text, size_t len, uint8_t out[FEDNS_NAME_MAXLEN],
				size_t *outlen, fedns_diag *d);
