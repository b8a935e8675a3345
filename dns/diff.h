/* SPDX-License-Identifier: Apache-2.0 */
/* Diffs between two versions of a zone, IXFR-shaped (RFC 1995): deletions starting with
 * the old SOA, additions starting with the new SOA. Applying one is all or nothing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/zone.h"

/* A diff owns its RR storage (in 'arena'). del[0] is the old SOA and add[0] the new SOA
 * when built by fedns_diff_compute; a hand-built diff must follow the same shape. */
typedef struct fedns_diff {
	fedns_arena arena;
	fedns_rr *del;
	size_t ndel;
	fedns_rr *add;
	size_t nadd;
	size_t cap_del, cap_add;
} fedns_diff;

void fedns_diff_init(fedns_diff *d);
void fedns_diff_fini(fedns_diff *d);
/* Appends a copy of rr to the deletions or additions. */
fedns_err fedns_diff_del(fedns_diff *d, const fedns_rr *rr);
fedns_err fedns_diff_add(fedns_diff *d, const fedns_rr *rr);

/* Computes from -> to (both finished zones of the same origin). Records whose TTL
 * changed appear as delete + add. O(n) over both zones. */
fedns_err fedns_diff_compute(const fedns_zone *from, const fedns_zone *to, fedns_diff *out);

/* Builds a new finished zone = base - del + add. Every deleted RR must exist in base
 * (exact owner, type, rdata; TTL ignored), no added RR may already exist (unless it is
 * deleted by the same diff), the old SOA must be base's SOA, and the result must pass the
 * zone rules. On any failure nothing is built, base is untouched, and d says which
 * record and why. Does not check the serial relation (callers decide). */
fedns_err fedns_diff_apply(const fedns_zone *base, const fedns_diff *diff, fedns_zone **out,
			   fedns_diag *d);
