/* SPDX-License-Identifier: Apache-2.0 */
/* AXFR/IXFR answer streams (server side) and their consumption (client side). */
#include "dns/xfr.h"

#include <stdlib.h>
#include <string.h>

#include "dns/serial.h"

enum {
	PH_FIRST_SOA = 0,
	PH_BODY = 1,
	PH_LAST_SOA = 2,
	PH_DONE = 3
};

/* How many RRsets ahead of the writer their owner and rdata are prefetched. A zone's sets
 * are in canonical order but its names and rdata sit in the order they were loaded, so
 * without this nearly every set costs two cache misses (measured: a third of an AXFR). */
#define PREFETCH_SETS 8

static inline void
prefetch_set(const fedns_rrset *s)
{
	if (s != NULL) {
		__builtin_prefetch(s->owner);
		__builtin_prefetch(s->rdata);
	}
}

static void
out_common(fedns_xfr_out *x, fedns_xfr_kind kind, const fedns_zone *zone, uint16_t id,
	   const uint8_t *qname, uint16_t qtype, uint16_t qclass, size_t reserve)
{
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->zone = zone;
	x->id = id;
	fedns_name_copy(x->qname, qname);
	x->qtype = qtype;
	x->qclass = qclass;
	x->reserve = reserve;
	x->phase = PH_FIRST_SOA;
	fedns_zone_iter_init(&x->it, zone);
	fedns_zone_iter_init(&x->ahead, zone);
	for (int i = 0; i < PREFETCH_SETS; i++)
		prefetch_set(fedns_zone_iter_next(&x->ahead));
}

void
fedns_xfr_out_axfr(fedns_xfr_out *x, const fedns_zone *zone, uint16_t id, const uint8_t *qname,
		   uint16_t qtype, uint16_t qclass, size_t reserve)
{
	out_common(x, FEDNS_XFR_AXFR, zone, id, qname, qtype, qclass, reserve);
}

void
fedns_xfr_out_ixfr(fedns_xfr_out *x, const fedns_zone *zone, const fedns_diff *const *diffs,
		   size_t n, uint16_t id, const uint8_t *qname, uint16_t qclass, size_t reserve)
{
	out_common(x, n == 0 ? FEDNS_XFR_SOA_ONLY : FEDNS_XFR_IXFR, zone, id, qname, FEDNS_T_IXFR,
		   qclass, reserve);
	x->diffs = diffs;
	x->ndiffs = n;
}

/* Moves the AXFR body cursor to the next rdata, skipping the SOA set. Returns false at
 * the end of the zone. */
static bool
body_peek(fedns_xfr_out *x, fedns_rr *rr)
{
	while (x->set == NULL || x->rdleft == 0) {
		x->set = fedns_zone_iter_next(&x->it);
		if (x->set == NULL)
			return false;
		prefetch_set(fedns_zone_iter_next(&x->ahead));
		if (x->set->type == FEDNS_T_SOA &&
		    fedns_name_equal(x->set->owner, fedns_zone_origin(x->zone))) {
			x->rdleft = 0;
			continue;
		}
		x->rdpos = x->set->rdata;
		x->rdleft = x->set->count;
	}
	const uint8_t *pos = x->rdpos;
	uint16_t len;
	const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
	rr->owner = x->set->owner;
	rr->type = x->set->type;
	rr->rclass = x->set->rclass;
	rr->ttl = x->set->ttl;
	rr->rdata = rd;
	rr->rdlen = len;
	return true;
}

static void
body_advance(fedns_xfr_out *x)
{
	uint16_t len;
	fedns_rrset_next_rdata(&x->rdpos, &len);
	x->rdleft--;
}

/* IXFR diff cursor: within diff_i, rr_i counts over del then add. */
static bool
diff_peek(fedns_xfr_out *x, fedns_rr *rr)
{
	while (x->diff_i < x->ndiffs) {
		const fedns_diff *d = x->diffs[x->diff_i];
		if (x->rr_i < d->ndel) {
			*rr = d->del[x->rr_i];
			return true;
		}
		if (x->rr_i - d->ndel < d->nadd) {
			*rr = d->add[x->rr_i - d->ndel];
			return true;
		}
		x->diff_i++;
		x->rr_i = 0;
	}
	return false;
}

fedns_err
fedns_xfr_out_next(fedns_xfr_out *x, uint8_t *buf, size_t cap, size_t *len, bool *last)
{
	if (x->phase == PH_DONE || cap < FEDNS_UDP_MINLEN || cap <= x->reserve)
		return FEDNS_EINVAL;
	size_t room = cap - x->reserve;
	if (room > FEDNS_MSG_MAXLEN)
		room = FEDNS_MSG_MAXLEN;
	fedns_msgw mw;
	fedns_msgw_init(&mw, buf, room, true);
	fedns_msgw_header(&mw, x->id, FEDNS_F_QR | FEDNS_F_AA);
	if (x->msgs == 0 && fedns_msgw_question(&mw, x->qname, x->qtype, x->qclass) != FEDNS_OK)
		return FEDNS_ETOOBIG;
	unsigned written = 0;
	for (;;) {
		fedns_rr rr;
		bool have = false;
		switch (x->phase) {
		case PH_FIRST_SOA:
		case PH_LAST_SOA:
			have = fedns_zone_soa(x->zone, &rr);
			break;
		case PH_BODY:
			have = x->kind == FEDNS_XFR_AXFR ? body_peek(x, &rr) : diff_peek(x, &rr);
			if (!have) {
				x->phase = PH_LAST_SOA;
				continue;
			}
			break;
		default:
			break;
		}
		if (!have)
			break;
		fedns_err err = fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr);
		if (err == FEDNS_ETOOBIG) {
			if (written == 0)
				return FEDNS_ETOOBIG;
			break;
		}
		if (err != FEDNS_OK)
			return err;
		written++;
		x->rrs++;
		switch (x->phase) {
		case PH_FIRST_SOA:
			x->phase = x->kind == FEDNS_XFR_SOA_ONLY ? PH_DONE : PH_BODY;
			break;
		case PH_BODY:
			if (x->kind == FEDNS_XFR_AXFR)
				body_advance(x);
			else
				x->rr_i++;
			break;
		case PH_LAST_SOA:
			x->phase = PH_DONE;
			break;
		default:
			break;
		}
		if (x->phase == PH_DONE)
			break;
	}
	*len = fedns_msgw_finish(&mw);
	if (*len == 0)
		return FEDNS_ETOOBIG;
	x->msgs++;
	*last = x->phase == PH_DONE;
	x->done = *last;
	return FEDNS_OK;
}

/* ---- client side ---- */

enum {
	IN_START = 0,	 /* expecting the first SOA */
	IN_SECOND = 1,	 /* after the first SOA: AXFR body, IXFR old SOA, or end */
	IN_AXFR = 2,	 /* AXFR body until the closing SOA */
	IN_IXFR_DEL = 3, /* IXFR deletions of the current diff */
	IN_IXFR_ADD = 4, /* IXFR additions of the current diff */
	IN_DONE = 5,
};

fedns_err
fedns_xfr_in_init(fedns_xfr_in *x, const uint8_t *origin, uint16_t rclass, const fedns_zone *base)
{
	memset(x, 0, sizeof(*x));
	x->origin_name = origin;
	x->rclass = rclass;
	x->base = base;
	x->state = IN_START;
	return fedns_zone_new(origin, rclass, NULL, &x->zone);
}

void
fedns_xfr_in_fini(fedns_xfr_in *x)
{
	fedns_zone_free(x->zone);
	x->zone = NULL;
	for (size_t i = 0; i < x->ndiffs; i++)
		fedns_diff_fini(&x->diffs[i]);
	free(x->diffs);
	x->diffs = NULL;
	x->ndiffs = 0;
}

static fedns_err
new_diff(fedns_xfr_in *x)
{
	if (x->ndiffs == x->cap_diffs) {
		size_t n = x->cap_diffs ? x->cap_diffs * 2 : 8;
		fedns_diff *p = realloc(x->diffs, n * sizeof(*p));
		if (p == NULL)
			return FEDNS_ENOMEM;
		x->diffs = p;
		x->cap_diffs = n;
	}
	fedns_diff_init(&x->diffs[x->ndiffs++]);
	return FEDNS_OK;
}

static bool
is_apex_soa(const fedns_xfr_in *x, const fedns_rr *rr)
{
	return rr->type == FEDNS_T_SOA && fedns_name_equal(rr->owner, x->origin_name);
}

fedns_err
fedns_xfr_in_feed(fedns_xfr_in *x, const fedns_msg *msg, fedns_diag *d)
{
	if (fedns_msg_rcode(msg->hdr.flags) != FEDNS_RCODE_NOERROR)
		return fedns_diag_set(d, FEDNS_EAUTH, "server answered rcode %u",
				      fedns_msg_rcode(msg->hdr.flags));
	if (!(msg->hdr.flags & FEDNS_F_QR))
		return fedns_diag_set(d, FEDNS_EMALFORMED, "message is not an answer");
	x->msgs++;
	for (uint16_t i = 0; i < msg->count[FEDNS_SEC_ANSWER]; i++) {
		const fedns_rr *rr = &msg->sec[FEDNS_SEC_ANSWER][i];
		fedns_err err = FEDNS_OK;
		if (x->state == IN_DONE)
			return fedns_diag_set(d, FEDNS_EMALFORMED, "records after the closing SOA");
		if (!fedns_name_is_subdomain(rr->owner, x->origin_name))
			return fedns_diag_set(d, FEDNS_EMALFORMED, "record outside the zone");
		x->rrs++;
		switch (x->state) {
		case IN_START:
			if (!is_apex_soa(x, rr))
				return fedns_diag_set(d, FEDNS_EMALFORMED,
						      "transfer does not start with the SOA");
			x->first_serial = fedns_soa_serial(rr->rdata, rr->rdlen);
			err = fedns_zone_add(x->zone, rr, 0, 0);
			x->state = IN_SECOND;
			break;
		case IN_SECOND:
			if (is_apex_soa(x, rr) &&
			    fedns_soa_serial(rr->rdata, rr->rdlen) != x->first_serial) {
				/* IXFR: the old SOA opens the first diff */
				x->is_ixfr = true;
				err = new_diff(x);
				if (err == FEDNS_OK)
					err = fedns_diff_del(&x->diffs[x->ndiffs - 1], rr);
				x->state = IN_IXFR_DEL;
			} else if (is_apex_soa(x, rr)) {
				/* SOA SOA: an empty AXFR body cannot happen (NS is required), so
				 * this is the one-SOA-twice form; treat as end */
				x->state = IN_DONE;
			} else {
				err = fedns_zone_add(x->zone, rr, 0, 0);
				x->state = IN_AXFR;
			}
			break;
		case IN_AXFR:
			if (is_apex_soa(x, rr)) {
				x->state = IN_DONE;
				break;
			}
			err = fedns_zone_add(x->zone, rr, 0, 0);
			break;
		case IN_IXFR_DEL:
			if (is_apex_soa(x, rr)) {
				err = fedns_diff_add(&x->diffs[x->ndiffs - 1], rr);
				x->state = IN_IXFR_ADD;
				break;
			}
			err = fedns_diff_del(&x->diffs[x->ndiffs - 1], rr);
			break;
		case IN_IXFR_ADD:
			if (is_apex_soa(x, rr)) {
				uint32_t s = fedns_soa_serial(rr->rdata, rr->rdlen);
				if (s == x->first_serial) {
					x->state = IN_DONE;
					break;
				}
				err = new_diff(x);
				if (err == FEDNS_OK)
					err = fedns_diff_del(&x->diffs[x->ndiffs - 1], rr);
				x->state = IN_IXFR_DEL;
				break;
			}
			err = fedns_diff_add(&x->diffs[x->ndiffs - 1], rr);
			break;
		default:
			break;
		}
		if (err != FEDNS_OK)
			return fedns_diag_set(d, err, "cannot store transferred record: %s",
					      fedns_strerror(err));
	}
	if (msg->count[FEDNS_SEC_ANSWER] == 0 && x->state != IN_DONE)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "empty transfer message");
	if (x->state == IN_SECOND && x->msgs == 1 && msg->count[FEDNS_SEC_ANSWER] == 1 &&
	    x->base != NULL && !fedns_serial_gt(x->first_serial, fedns_zone_serial(x->base))) {
		/* a lone SOA not newer than ours answers an IXFR: we are current (RFC 1995 §2) */
		x->uptodate = true;
		x->done = true;
	}
	if (x->state == IN_DONE)
		x->done = true;
	return FEDNS_OK;
}

fedns_err
fedns_xfr_in_finish(fedns_xfr_in *x, fedns_zone **out, bool *uptodate, fedns_diag *d)
{
	*out = NULL;
	*uptodate = false;
	if (x->uptodate) {
		*uptodate = true;
		return FEDNS_OK;
	}
	if (!x->done)
		return fedns_diag_set(d, FEDNS_ETRUNC, "transfer ended before the closing SOA");
	if (!x->is_ixfr) {
		fedns_err err = fedns_zone_finish(x->zone, NULL, NULL);
		if (err != FEDNS_OK)
			return fedns_diag_set(d, err, "transferred zone breaks zone rules");
		*out = x->zone;
		x->zone = NULL;
		return FEDNS_OK;
	}
	if (x->base == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "IXFR answer without a base zone");
	const fedns_zone *cur = x->base;
	fedns_zone *owned = NULL;
	for (size_t i = 0; i < x->ndiffs; i++) {
		fedns_zone *next = NULL;
		fedns_err err = fedns_diff_apply(cur, &x->diffs[i], &next, d);
		fedns_zone_free(owned);
		if (err != FEDNS_OK)
			return err;
		owned = next;
		cur = next;
	}
	*out = owned;
	return FEDNS_OK;
}
