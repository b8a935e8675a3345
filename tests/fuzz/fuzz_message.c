/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: message decode; whatever decodes must re-encode and decode to the same records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "dns/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_rr(const fedns_rr *a, const fedns_rr *b)
{
	if (!fedns_name_equal(a->owner, b->owner) || a->type != b->type || a->rclass != b->rclass ||
	    a->ttl != b->ttl || a->rdlen != b->rdlen)
		return false;
	if (a->rdlen == 0 || memcmp(a->rdata, b->rdata, a->rdlen) == 0)
		return true;
	/* Compression may change the case of names inside rdata (a pointer carries the case
	 * of its target), so fall back to canonical comparison. */
	return fedns_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen) == 0;
}

/* Writes m back out; returns the length, or 0 when it does not fit (a peer may compress
 * better than we do, so a 64 KiB message can grow). Aborts on any other failure. */
static size_t
encode(const fedns_msg *m, uint8_t *buf, size_t cap, bool compress)
{
	fedns_msgw mw;
	fedns_err err;
	fedns_msgw_init(&mw, buf, cap, compress);
	fedns_msgw_header(&mw, m->hdr.id, m->hdr.flags);
	for (size_t i = 0; i < m->hdr.qdcount; i++) {
		err = fedns_msgw_question(&mw, m->qd[i].name, m->qd[i].qtype, m->qd[i].qclass);
		if (err == FEDNS_ETOOBIG)
			return 0;
		if (err != FEDNS_OK)
			abort();
	}
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < m->count[s]; i++) {
			err = fedns_msgw_rr(&mw, (fedns_section)s, &m->sec[s][i]);
			if (err == FEDNS_ETOOBIG)
				return 0;
			if (err != FEDNS_OK)
				abort();
		}
	}
	if (m->edns.present) {
		if (m->edns.version != 0)
			return 0; /* the writer only speaks version 0 */
		err = fedns_msgw_opt(&mw, m->edns.udp_size, m->edns.ext_rcode, m->edns.flags,
				     m->edns.options, m->edns.options_len);
		if (err == FEDNS_ETOOBIG)
			return 0;
		if (err != FEDNS_OK)
			abort();
	}
	if (m->has_tsig) {
		err = fedns_msgw_rr(&mw, FEDNS_SEC_ADDITIONAL, &m->tsig);
		if (err == FEDNS_ETOOBIG)
			return 0;
		if (err != FEDNS_OK)
			abort();
	}
	size_t len = fedns_msgw_finish(&mw);
	if (len < FEDNS_MSG_HDRLEN)
		abort();
	return len;
}

static void
check_same(const fedns_msg *a, const fedns_msg *b)
{
	if (a->hdr.id != b->hdr.id || a->hdr.flags != b->hdr.flags ||
	    a->hdr.qdcount != b->hdr.qdcount || a->hdr.ancount != b->hdr.ancount ||
	    a->hdr.nscount != b->hdr.nscount || a->hdr.arcount != b->hdr.arcount)
		abort();
	for (size_t i = 0; i < a->hdr.qdcount; i++)
		if (!fedns_name_equal(a->qd[i].name, b->qd[i].name) ||
		    a->qd[i].qtype != b->qd[i].qtype || a->qd[i].qclass != b->qd[i].qclass)
			abort();
	for (int s = 0; s < 3; s++) {
		if (a->count[s] != b->count[s])
			abort();
		for (size_t i = 0; i < a->count[s]; i++)
			if (!same_rr(&a->sec[s][i], &b->sec[s][i]))
				abort();
	}
	if (a->edns.present != b->edns.present || a->has_tsig != b->has_tsig)
		abort();
	if (a->edns.present &&
	    (a->edns.udp_size != b->edns.udp_size || a->edns.flags != b->edns.flags ||
	     a->edns.ext_rcode != b->edns.ext_rcode || a->edns.options_len != b->edns.options_len ||
	     (a->edns.options_len > 0 &&
	      memcmp(a->edns.options, b->edns.options, a->edns.options_len) != 0)))
		abort();
	if (a->has_tsig && !same_rr(&a->tsig, &b->tsig))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FEDNS_MSG_MAXLEN];
	fedns_arena arena;
	fedns_msg m, m2;

	size_t flen = 0;
	fedns_err err = fedns_tcp_frame_len(data, size, &flen);
	if ((size < 2 && err != FEDNS_ETRUNC) || (err == FEDNS_OK && (flen == 0 || flen > 65535)))
		abort();

	fedns_arena_init(&arena, 4096, 64u << 20);
	err = fedns_msg_parse(data, size, &arena, &m);
	if (err != FEDNS_OK) {
		if (err != FEDNS_EMALFORMED && err != FEDNS_ETRUNC && err != FEDNS_ETOOBIG &&
		    err != FEDNS_ENOMEM)
			abort();
		goto out;
	}
	for (int c = 0; c < 2; c++) {
		size_t len = encode(&m, out, sizeof(out), c == 1);
		if (len == 0)
			continue;
		err = fedns_msg_parse(out, len, &arena, &m2);
		if (err != FEDNS_OK)
			abort();
		check_same(&m, &m2);
		/* A TSIG stays last, so its offset is where the re-encoded record starts. */
		if (m2.has_tsig && (m2.tsig_off < FEDNS_MSG_HDRLEN || m2.tsig_off >= len))
			abort();
	}
out:
	fedns_arena_fini(&arena);
	return 0;
}
