/* SPDX-License-Identifier: Apache-2.0 */
/* One request in, one answer (or a transfer to stream) out: the spoke's query policy as a
 * pure step shared by the UDP path, the TCP path and the fuzzer. */
#include "spoke/dnssrv.h"

#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "dns/message.h"
#include "dns/rdata.h"
#include "dns/serial.h"
#include "dns/xfr.h"

#define EDNS_UDP_SIZE 1232

/* Writes a header-only answer (with the question when we have one). */
static size_t
answer_rcode(const fedns_msg_header *h, const fedns_question *q, uint8_t rcode, uint8_t *ans,
	     size_t cap, bool edns)
{
	fedns_msgw mw;
	fedns_msgw_init(&mw, ans, cap, false);
	uint16_t flags =
		(uint16_t)(FEDNS_F_QR | (h->flags & 0x7800u) | (h->flags & FEDNS_F_RD) | rcode);
	fedns_msgw_header(&mw, h->id, flags);
	if (q != NULL)
		fedns_msgw_question(&mw, q->name, q->qtype, q->qclass);
	if (edns)
		fedns_msgw_opt(&mw, EDNS_UDP_SIZE, 0, 0, NULL, 0);
	return fedns_msgw_finish(&mw);
}

/* Single answer carrying the zone's SOA (SOA query, or IXFR for a current client). */
static size_t
answer_soa(const fedns_msg_header *h, const fedns_question *q, const fedns_zone *z, uint8_t *ans,
	   size_t cap, bool edns)
{
	fedns_msgw mw;
	fedns_msgw_init(&mw, ans, cap, true);
	fedns_msgw_header(&mw, h->id,
			  (uint16_t)(FEDNS_F_QR | FEDNS_F_AA | (h->flags & FEDNS_F_RD)));
	fedns_msgw_question(&mw, q->name, q->qtype, q->qclass);
	fedns_rr rr;
	if (fedns_zone_soa(z, &rr))
		fedns_msgw_rr(&mw, FEDNS_SEC_ANSWER, &rr);
	if (edns)
		fedns_msgw_opt(&mw, EDNS_UDP_SIZE, 0, 0, NULL, 0);
	return fedns_msgw_finish(&mw);
}

void
spoke_query_xfr_fini(spoke_query_xfr *xfr)
{
	if (xfr == NULL)
		return;
	for (size_t i = 0; i < xfr->ndiffs; i++)
		spoke_jentry_rele(xfr->jentries[i]);
	xfr->ndiffs = 0;
	free(xfr->out);
	xfr->out = NULL;
	spoke_version_rele(xfr->v);
	xfr->v = NULL;
	fedns_secure_zero(&xfr->tsig, sizeof(xfr->tsig));
}

/* Signs a single answer if the request was signed (or carries the TSIG error answer). */
static size_t
finish_answer(size_t len, bool sign, fedns_tsig_ctx *ctx, uint16_t tsig_error, uint64_t now,
	      uint8_t *ans, size_t cap)
{
	if (len == 0 || !sign)
		return len;
	size_t newlen = 0;
	if (fedns_tsig_sign(ctx, ans, len, cap, now, tsig_error, &newlen) != FEDNS_OK)
		return 0;
	return newlen;
}

int
spoke_query_handle(spoke_zoneset *zs, const fedns_tsig_keyring *keys, bool require_tsig,
		   const uint8_t *q, size_t qlen, bool udp, uint64_t now, uint8_t *ans,
		   size_t anscap, size_t *ans_len, spoke_query_xfr *xfr, spoke_dnssrv_stats *st)
{
	fedns_msg_header h;
	if (anscap < FEDNS_UDP_MINLEN + FEDNS_TSIG_MAXLEN ||
	    fedns_msg_header_parse(q, qlen, &h) != FEDNS_OK)
		return 0; /* not even a header: nothing to answer */
	if (h.flags & FEDNS_F_QR)
		return 0; /* answers are never answered (reflection loops) */
	st->queries++;
	/* the answer must fit the client's buffer: 512 for plain UDP, the EDNS size otherwise,
	 * minus room for the TSIG we may add */
	size_t cap = anscap - FEDNS_TSIG_MAXLEN;

	int ret = 1;
	fedns_arena arena;
	fedns_arena_init(&arena, 4096, 256 * 1024);
	fedns_msg m;
	fedns_tsig_ctx tctx;
	fedns_tsig_result tres = {0};
	bool sign = false;
	fedns_err err = fedns_msg_parse(q, qlen, &arena, &m);
	if (err != FEDNS_OK) {
		st->formerr++;
		*ans_len = answer_rcode(&h, NULL, FEDNS_RCODE_FORMERR, ans, udp ? 512 : cap, false);
		goto out;
	}
	bool edns = m.edns.present;
	if (udp) {
		size_t lim = edns ? (m.edns.udp_size > 512 ? m.edns.udp_size : 512) : 512;
		if (lim < cap)
			cap = lim;
	}
	if (edns && m.edns.version != 0) {
		/* BADVERS: extended rcode 16 = ext 1, low 0 */
		fedns_msgw mw;
		fedns_msgw_init(&mw, ans, cap, false);
		fedns_msgw_header(&mw, h.id, (uint16_t)(FEDNS_F_QR | (h.flags & 0x7800u)));
		fedns_msgw_opt(&mw, EDNS_UDP_SIZE, 1, 0, NULL, 0);
		*ans_len = fedns_msgw_finish(&mw);
		goto out;
	}
	uint8_t opcode = fedns_msg_opcode(h.flags);
	const fedns_question *qq = m.hdr.qdcount == 1 ? &m.qd[0] : NULL;
	if (opcode != FEDNS_OP_QUERY) {
		/* a hidden primary takes no NOTIFY or UPDATE */
		st->refused++;
		*ans_len = answer_rcode(&h, qq,
					opcode == FEDNS_OP_NOTIFY || opcode == FEDNS_OP_UPDATE
						? FEDNS_RCODE_REFUSED
						: FEDNS_RCODE_NOTIMP,
					ans, cap, edns);
		goto out;
	}
	if (qq == NULL) {
		st->formerr++;
		*ans_len = answer_rcode(&h, NULL, FEDNS_RCODE_FORMERR, ans, cap, edns);
		goto out;
	}
	if (m.has_tsig) {
		err = fedns_tsig_verify_request(q, qlen, &m, keys, now, &tctx, &tres);
		if (err != FEDNS_OK) {
			st->tsig_fail++;
			size_t len = answer_rcode(&h, qq, tres.rcode, ans, cap, edns);
			if (tres.rcode == FEDNS_RCODE_FORMERR) {
				*ans_len = len;
				goto out;
			}
			/* BADKEY/BADSIG go back with an unsigned TSIG carrying the error,
			 * BADTIME signed (RFC 8945 §5.2) */
			if (tctx.key == NULL) {
				/* unknown key: echo the client's key name with an empty MAC */
				size_t nl = 0;
				*ans_len = fedns_tsig_append_unsigned(&m, ans, len, anscap,
								      tres.error, &nl) == FEDNS_OK
						   ? nl
						   : len;
				goto out;
			}
			*ans_len = finish_answer(len, true, &tctx, tres.error, now, ans, anscap);
			goto out;
		}
		sign = true;
	}
	spoke_version *v = qq->qclass == FEDNS_C_IN ? spoke_zoneset_get(zs, qq->name) : NULL;
	if (v == NULL) {
		st->refused++;
		*ans_len = finish_answer(answer_rcode(&h, qq, FEDNS_RCODE_REFUSED, ans, cap, edns),
					 sign, &tctx, 0, now, ans, anscap);
		goto out;
	}
	bool xfr_type = qq->qtype == FEDNS_T_AXFR || qq->qtype == FEDNS_T_IXFR;
	if (xfr_type && require_tsig && !sign) {
		st->refused++;
		st->tsig_fail++;
		spoke_version_rele(v);
		*ans_len = answer_rcode(&h, qq, FEDNS_RCODE_REFUSED, ans, cap, edns);
		goto out;
	}
	if (qq->qtype == FEDNS_T_SOA) {
		st->soa++;
		*ans_len = finish_answer(answer_soa(&h, qq, v->zone, ans, cap, edns), sign, &tctx,
					 0, now, ans, anscap);
		spoke_version_rele(v);
		goto out;
	}
	if (qq->qtype == FEDNS_T_AXFR && udp) {
		st->formerr++;
		spoke_version_rele(v);
		*ans_len = finish_answer(answer_rcode(&h, qq, FEDNS_RCODE_FORMERR, ans, cap, edns),
					 sign, &tctx, 0, now, ans, anscap);
		goto out;
	}
	if (!xfr_type) {
		st->refused++;
		spoke_version_rele(v);
		*ans_len = finish_answer(answer_rcode(&h, qq, FEDNS_RCODE_REFUSED, ans, cap, edns),
					 sign, &tctx, 0, now, ans, anscap);
		goto out;
	}

	memset(xfr, 0, sizeof(*xfr));
	fedns_xfr_out *xo = calloc(1, sizeof(*xo));
	if (xo == NULL) {
		spoke_version_rele(v);
		*ans_len = answer_rcode(&h, qq, FEDNS_RCODE_SERVFAIL, ans, cap, edns);
		goto out;
	}
	xfr->v = v;
	xfr->out = xo;
	xfr->signed_ = sign;
	if (sign)
		xfr->tsig = tctx;
	size_t reserve = sign ? FEDNS_TSIG_MAXLEN : 0;
	if (qq->qtype == FEDNS_T_IXFR) {
		/* RFC 1995: the client's SOA is in the authority section */
		const fedns_rr *csoa = NULL;
		for (uint16_t i = 0; i < m.count[FEDNS_SEC_AUTHORITY]; i++)
			if (m.sec[FEDNS_SEC_AUTHORITY][i].type == FEDNS_T_SOA)
				csoa = &m.sec[FEDNS_SEC_AUTHORITY][i];
		if (csoa == NULL || fedns_rdata_check(FEDNS_T_SOA, csoa->rdata, csoa->rdlen)) {
			st->formerr++;
			spoke_query_xfr_fini(xfr);
			*ans_len = finish_answer(
				answer_rcode(&h, qq, FEDNS_RCODE_FORMERR, ans, cap, edns), sign,
				&tctx, 0, now, ans, anscap);
			goto out;
		}
		uint32_t cserial = fedns_soa_serial(csoa->rdata, csoa->rdlen);
		st->ixfr++;
		if (!fedns_serial_gt(v->serial, cserial) || udp) {
			/* current (or newer) client, or UDP: one SOA; a UDP client retries
			 * over TCP (RFC 1995 §2) */
			*ans_len = finish_answer(answer_soa(&h, qq, v->zone, ans, cap, edns), sign,
						 &tctx, 0, now, ans, anscap);
			spoke_query_xfr_fini(xfr);
			goto out;
		}
		long n = spoke_zoneset_journal(zs, v, cserial, xfr->jentries, SPOKE_IXFR_MAX_DIFFS);
		if (n > 0) {
			xfr->ndiffs = (size_t)n;
			for (size_t i = 0; i < xfr->ndiffs; i++)
				xfr->diffs[i] = &xfr->jentries[i]->diff;
			fedns_xfr_out_ixfr(xo, v->zone, xfr->diffs, xfr->ndiffs, h.id, qq->name,
					   qq->qclass, reserve);
		} else {
			/* unknown or too old: the whole zone in AXFR form (RFC 1995 §4) */
			st->ixfr_fallback++;
			fedns_xfr_out_axfr(xo, v->zone, h.id, qq->name, FEDNS_T_IXFR, qq->qclass,
					   reserve);
		}
	} else {
		st->axfr++;
		fedns_xfr_out_axfr(xo, v->zone, h.id, qq->name, FEDNS_T_AXFR, qq->qclass, reserve);
	}
	ret = 2;
out:
	fedns_arena_fini(&arena);
	if (ret == 1 && *ans_len == 0)
		ret = 0;
	return ret;
}
