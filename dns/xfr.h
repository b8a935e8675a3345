/* SPDX-License-Identifier: Apache-2.0 */
/* Zone transfers as message streams: the server side produces AXFR (RFC 5936) and IXFR
 * (RFC 1995) answers message by message; the client side consumes them into a zone.
 * Pure: no sockets; the caller moves the bytes and signs/verifies TSIG per message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "dns/diff.h"
#include "dns/message.h"
#include "dns/zone.h"

/* Soft size of one transfer message: big messages mean fewer syscalls and TSIG MACs.
 * Room for a TSIG RR is kept free at the end. */
#define FEDNS_XFR_MSG_TARGET 65000

typedef enum fedns_xfr_kind {
	FEDNS_XFR_AXFR = 1,
	FEDNS_XFR_IXFR = 2,	/* diffs from the client's serial to the current one */
	FEDNS_XFR_SOA_ONLY = 3, /* IXFR for a current client: one SOA */
} fedns_xfr_kind;

/* Producer state for one outgoing transfer. The zone and diffs are borrowed: the caller
 * holds them (a version reference) until the transfer ends. */
typedef struct fedns_xfr_out {
	fedns_xfr_kind kind;
	const fedns_zone *zone;
	const fedns_diff *const *diffs; /* IXFR: consecutive diffs, oldest first */
	size_t ndiffs;
	/* question echoed in the first message */
	uint8_t qname[FEDNS_NAME_MAXLEN];
	uint16_t qtype, qclass, id;
	size_t reserve; /* bytes kept free per message (TSIG) */
	/* position */
	int phase;
	fedns_zone_iter it;
	fedns_zone_iter ahead; /* a few sets past 'it': their data is prefetched */
	const fedns_rrset *set;
	const uint8_t *rdpos;
	uint32_t rdleft;
	size_t diff_i, rr_i;
	bool done;
	/* statistics */
	uint64_t msgs, rrs;
} fedns_xfr_out;

/* Prepares an AXFR of 'zone' answering query (id, qname, qtype, qclass). */
void fedns_xfr_out_axfr(fedns_xfr_out *x, const fedns_zone *zone, uint16_t id, const uint8_t *qname,
			uint16_t qtype, uint16_t qclass, size_t reserve);
/* Prepares an IXFR answer from diffs[0..n) (diffs[0] starts at the client's serial and
 * the last ends at zone's serial); n == 0 gives the single-SOA answer. */
void fedns_xfr_out_ixfr(fedns_xfr_out *x, const fedns_zone *zone, const fedns_diff *const *diffs,
			size_t n, uint16_t id, const uint8_t *qname, uint16_t qclass,
			size_t reserve);
/* Writes the next answer message into buf (cap bytes; at least 512). Returns FEDNS_OK and
 * the length; *last is true for the final message. FEDNS_ETOOBIG if one RR cannot fit
 * even in an empty message of this size. */
fedns_err fedns_xfr_out_next(fedns_xfr_out *x, uint8_t *buf, size_t cap, size_t *len, bool *last);

/* Consumer of an AXFR or IXFR answer stream (client side). Feed each message (already
 * TSIG-verified by the caller); at the end take the zone (AXFR, or IXFR applied to
 * 'base') and, for IXFR, the diffs it contained. */
typedef struct fedns_xfr_in {
	const uint8_t *origin_name;
	uint16_t rclass;
	const fedns_zone *base; /* for IXFR: the zone the client holds */
	fedns_zone *zone;	/* AXFR being built */
	fedns_diff *diffs;	/* IXFR diffs received */
	size_t ndiffs, cap_diffs;
	uint32_t first_serial;
	int state;
	uint64_t msgs, rrs;
	bool is_ixfr, done, uptodate;
} fedns_xfr_in;

fedns_err fedns_xfr_in_init(fedns_xfr_in *x, const uint8_t *origin, uint16_t rclass,
			    const fedns_zone *base);
void fedns_xfr_in_fini(fedns_xfr_in *x);
/* Consumes one parsed answer message. Returns FEDNS_EMALFORMED with d saying why when the
 * stream breaks the protocol (wrong first RR, rcode, out-of-zone data...). */
fedns_err fedns_xfr_in_feed(fedns_xfr_in *x, const fedns_msg *msg, fedns_diag *d);
/* After done: returns the resulting finished zone (caller frees with fedns_zone_free).
 * For IXFR the diffs are applied to base; for a single-SOA answer (client current) the
 * result is NULL with FEDNS_OK and *uptodate set. */
fedns_err fedns_xfr_in_finish(fedns_xfr_in *x, fedns_zone **out, bool *uptodate, fedns_diag *d);
