/* SPDX-License-Identifier: Apache-2.0 */
/* DNS message decode (with EDNS0 and TSIG placement rules) and encode with name compression. */
#include "dns/message.h"

#include <stdlib.h>
#include <string.h>

/* Smallest question: root name + type + class. Smallest RR: root + type, class, TTL,
 * RDLENGTH. Used to refuse counts the remaining bytes cannot hold before allocating. */
#define MIN_QUESTION 5
#define MIN_RR 11

fedns_err
fedns_msg_header_parse(const uint8_t *buf, size_t len, fedns_msg_header *out)
{
	if (len < FEDNS_MSG_HDRLEN)
		return FEDNS_ETRUNC;
	out->id = fedns_get_u16(buf);
	out->flags = fedns_get_u16(buf + 2);
	out->qdcount = fedns_get_u16(buf + 4);
	out->ancount = fedns_get_u16(buf + 6);
	out->nscount = fedns_get_u16(buf + 8);
	out->arcount = fedns_get_u16(buf + 10);
	return FEDNS_OK;
}

/* Reads a name and copies it into the arena. */
static fedns_err
read_name(fedns_wire *w, fedns_arena *arena, const uint8_t **out)
{
	uint8_t name[FEDNS_NAME_MAXLEN];
	size_t len = 0;
	fedns_err err = fedns_name_unpack(w, name, &len);
	if (err != FEDNS_OK)
		return err;
	*out = fedns_arena_memdup(arena, name, len);
	return *out != NULL ? FEDNS_OK : FEDNS_ENOMEM;
}

/* EDNS options are TLVs (RFC 6891 §6.1.2); they must fill the rdata exactly. */
static bool
edns_options_valid(const uint8_t *p, size_t len)
{
	size_t o = 0;
	while (o < len) {
		if (len - o < 4)
			return false;
		size_t olen = fedns_get_u16(p + o + 2);
		o += 4;
		if (len - o < olen)
			return false;
		o += olen;
	}
	return true;
}

/* Parses one RR (other than OPT/TSIG handling, which the caller decides from the type). */
static fedns_err
parse_rr(fedns_wire *w, fedns_arena *arena, uint8_t **scratch, fedns_rr *rr, size_t *rdoff)
{
	fedns_err err = read_name(w, arena, &rr->owner);
	if (err != FEDNS_OK)
		return err;
	rr->type = fedns_wire_u16(w);
	rr->rclass = fedns_wire_u16(w);
	rr->ttl = fedns_wire_u32(w);
	rr->rdlen = fedns_wire_u16(w);
	if (w->err != FEDNS_OK)
		return w->err;
	if (fedns_wire_left(w) < rr->rdlen) {
		fedns_wire_fail(w, FEDNS_ETRUNC);
		return FEDNS_ETRUNC;
	}
	*rdoff = w->off;
	if (rr->type == FEDNS_T_OPT || rr->type == FEDNS_T_TSIG) {
		/* Kept as raw bytes: OPT is lifted by the caller, and a TSIG verifier needs
		 * the exact bytes (its algorithm name is never compressed). */
		rr->rdata = w->buf + w->off;
		w->off += rr->rdlen;
		if (rr->type == FEDNS_T_TSIG && rr->rdlen > 0) {
			rr->rdata = fedns_arena_memdup(arena, rr->rdata, rr->rdlen);
			if (rr->rdata == NULL)
				return FEDNS_ENOMEM;
		}
		return FEDNS_OK;
	}
	if (*scratch == NULL) {
		*scratch = malloc(FEDNS_RDATA_MAXLEN);
		if (*scratch == NULL)
			return FEDNS_ENOMEM;
	}
	size_t start = w->off;
	size_t outlen = 0;
	err = fedns_rdata_unpack(rr->type, w, rr->rdlen, *scratch, FEDNS_RDATA_MAXLEN, &outlen);
	if (err == FEDNS_OK && w->err != FEDNS_OK)
		err = w->err;
	if (err != FEDNS_OK) {
		fedns_wire_fail(w, err);
		return err;
	}
	if (w->off - start != rr->rdlen || outlen > FEDNS_RDATA_MAXLEN) {
		fedns_wire_fail(w, FEDNS_EMALFORMED);
		return FEDNS_EMALFORMED;
	}
	rr->rdlen = (uint16_t)outlen;
	rr->rdata = outlen == 0 ? (const uint8_t *)"" : fedns_arena_memdup(arena, *scratch, outlen);
	return rr->rdata != NULL ? FEDNS_OK : FEDNS_ENOMEM;
}

fedns_err
fedns_msg_parse(const uint8_t *buf, size_t len, fedns_arena *arena, fedns_msg *out)
{
	fedns_wire w;
	uint8_t *scratch = NULL;
	fedns_err err;

	memset(out, 0, sizeof(*out));
	err = fedns_msg_header_parse(buf, len, &out->hdr);
	if (err != FEDNS_OK)
		return err;
	if (len > FEDNS_MSG_MAXLEN)
		return FEDNS_ETOOBIG;
	fedns_wire_init(&w, buf, len);
	w.off = FEDNS_MSG_HDRLEN;

	const fedns_msg_header *h = &out->hdr;
	size_t nrr = (size_t)h->ancount + h->nscount + h->arcount;
	if ((size_t)h->qdcount * MIN_QUESTION + nrr * MIN_RR > fedns_wire_left(&w)) {
		err = FEDNS_ETRUNC;
		goto out;
	}

	if (h->qdcount > 0) {
		out->qd = fedns_arena_alloc(arena, (size_t)h->qdcount * sizeof(*out->qd));
		if (out->qd == NULL) {
			err = FEDNS_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < h->qdcount; i++) {
		err = read_name(&w, arena, &out->qd[i].name);
		if (err != FEDNS_OK)
			goto out;
		out->qd[i].qtype = fedns_wire_u16(&w);
		out->qd[i].qclass = fedns_wire_u16(&w);
		if (w.err != FEDNS_OK) {
			err = w.err;
			goto out;
		}
	}

	const uint16_t counts[3] = {h->ancount, h->nscount, h->arcount};
	for (int s = 0; s < 3; s++) {
		if (counts[s] == 0)
			continue;
		out->sec[s] = fedns_arena_alloc(arena, (size_t)counts[s] * sizeof(fedns_rr));
		if (out->sec[s] == NULL) {
			err = FEDNS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < counts[s]; i++) {
			fedns_rr rr;
			size_t rdoff = 0;
			size_t rrstart = w.off;
			memset(&rr, 0, sizeof(rr));
			err = parse_rr(&w, arena, &scratch, &rr, &rdoff);
			if (err != FEDNS_OK)
				goto out;
			if (out->has_tsig) {
				/* RFC 8945 §5.1: TSIG is the last record. */
				err = FEDNS_EMALFORMED;
				goto out;
			}
			if (rr.type == FEDNS_T_OPT) {
				if (s != FEDNS_SEC_ADDITIONAL || out->edns.present ||
				    !fedns_name_is_root(rr.owner) ||
				    !edns_options_valid(rr.rdata, rr.rdlen)) {
					err = FEDNS_EMALFORMED;
					goto out;
				}
				out->edns.present = true;
				out->edns.udp_size = rr.rclass;
				out->edns.ext_rcode = (uint8_t)(rr.ttl >> 24);
				out->edns.version = (uint8_t)(rr.ttl >> 16);
				out->edns.flags = (uint16_t)rr.ttl;
				out->edns.options = rr.rdlen > 0 ? rr.rdata : NULL;
				out->edns.options_len = rr.rdlen;
				continue;
			}
			if (rr.type == FEDNS_T_TSIG) {
				if (s != FEDNS_SEC_ADDITIONAL) {
					err = FEDNS_EMALFORMED;
					goto out;
				}
				out->has_tsig = true;
				out->tsig = rr;
				out->tsig_off = rrstart;
				continue;
			}
			out->sec[s][out->count[s]++] = rr;
		}
	}
	if (w.err != FEDNS_OK) {
		err = w.err;
		goto out;
	}
	if (w.off != len) {
		err = FEDNS_EMALFORMED;
		goto out;
	}
	err = FEDNS_OK;
out:
	free(scratch);
	return err;
}

void
fedns_msgw_init(fedns_msgw *mw, uint8_t *buf, size_t cap, bool compress)
{
	if (cap > FEDNS_MSG_MAXLEN)
		cap = FEDNS_MSG_MAXLEN;
	fedns_wbuf_init(&mw->b, buf, cap);
	mw->comp.n = 0;
	mw->comp.last_owner = NULL;
	if (compress)
		memset(mw->comp.index, 0, sizeof(mw->comp.index));
	mw->compress = compress;
	mw->qdcount = 0;
	mw->count[0] = mw->count[1] = mw->count[2] = 0;
	mw->cur = FEDNS_SEC_ANSWER;
}

void
fedns_msgw_header(fedns_msgw *mw, uint16_t id, uint16_t flags)
{
	if (mw->b.len == 0) {
		fedns_wbuf_u16(&mw->b, id);
		fedns_wbuf_u16(&mw->b, flags);
		for (int i = 0; i < 4; i++)
			fedns_wbuf_u16(&mw->b, 0);
		if (mw->b.err != FEDNS_OK) {
			/* Too small for even a header: leave it empty so finish reports 0. */
			mw->b.len = 0;
		}
	} else if (mw->b.len >= FEDNS_MSG_HDRLEN) {
		fedns_put_u16(mw->b.buf, id);
		fedns_put_u16(mw->b.buf + 2, flags);
	}
}

static void comp_truncate(fedns_compress *c, uint16_t n);

/* Saved writer state, so a failed write can be undone completely. */
typedef struct mark {
	size_t len;
	uint16_t ncomp;
} mark;

static mark
save(const fedns_msgw *mw)
{
	mark m = {mw->b.len, mw->comp.n};
	return m;
}

static fedns_err
rollback(fedns_msgw *mw, mark m)
{
	fedns_err err = mw->b.err != FEDNS_OK ? mw->b.err : FEDNS_ETOOBIG;
	mw->b.len = m.len;
	comp_truncate(&mw->comp, m.ncomp);
	if (mw->comp.last_owner != NULL && mw->comp.last_start >= m.len)
		mw->comp.last_owner = NULL;
	mw->b.err = FEDNS_OK;
	return err;
}

/* Does the name written at 'off' (following our own pointers) equal 'suffix'? */
static bool
match_at(const uint8_t *msg, size_t msglen, size_t off, const uint8_t *suffix)
{
	/* Bounded walk: the writer only stores offsets of names it wrote, but a caller may
	 * hand us a buffer it filled by hand, so never trust it to terminate. */
	for (int hops = 0; hops < FEDNS_NAME_MAXLEN; hops++) {
		if (off >= msglen)
			return false;
		uint8_t c = msg[off];
		if (c >= 0xc0) {
			if (msglen - off < 2)
				return false;
			size_t t = ((size_t)(c & 0x3f) << 8) | msg[off + 1];
			if (t >= off)
				return false;
			off = t;
			continue;
		}
		if (c != *suffix)
			return false;
		if (c == 0)
			return true;
		if (msglen - off - 1 < c)
			return false;
		for (size_t i = 1; i <= c; i++) {
			uint8_t a = msg[off + i], b = suffix[i];
			if (a != b &&
			    !((a | 0x20) == (b | 0x20) && (a | 0x20) >= 'a' && (a | 0x20) <= 'z'))
				return false;
		}
		off += 1 + (size_t)c;
		suffix += 1 + (size_t)c;
	}
	return false;
}

#define INDEX_SIZE (FEDNS_COMPRESS_SLOTS * 2)

/* Hashes of every suffix of 'name', built from the root up so that a suffix hashes the
 * same wherever it appears; h[i] is the hash of the suffix starting at label i. Returns
 * the number of labels. */
static size_t
suffix_hashes(const uint8_t *name, uint32_t h[FEDNS_NAME_MAXLABELS],
	      size_t pos[FEDNS_NAME_MAXLABELS])
{
	size_t n = 0;
	for (size_t o = 0; name[o] != 0; o += 1 + (size_t)name[o])
		pos[n++] = o;
	uint32_t x = 0x811c9dc5u;
	for (size_t k = n; k-- > 0;) {
		const uint8_t *l = name + pos[k];
		x = (x ^ l[0]) * 0x01000193u;
		for (size_t i = 1; i <= l[0]; i++) {
			uint8_t c = l[i];
			c = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			x = (x ^ c) * 0x01000193u;
		}
		h[k] = x;
	}
	return n;
}

static void
comp_add(fedns_compress *c, size_t off, uint32_t h)
{
	if (off >= 0x4000 || c->n >= FEDNS_COMPRESS_SLOTS)
		return;
	size_t s = h % INDEX_SIZE;
	while (c->index[s] != 0)
		s = (s + 1) % INDEX_SIZE;
	c->index[s] = (uint16_t)(c->n + 1);
	c->slot[c->n] = (uint16_t)s;
	c->hash[c->n] = h;
	c->off[c->n++] = (uint16_t)off;
}

/* Forgets entries back to n. Entries go in the reverse order they came in, which keeps
 * linear probing exact (no later entry can depend on a removed slot). */
static void
comp_truncate(fedns_compress *c, uint16_t n)
{
	while (c->n > n) {
		c->n--;
		c->index[c->slot[c->n]] = 0;
	}
}

static long
comp_find(const fedns_compress *c, const uint8_t *msg, size_t msglen, uint32_t h,
	  const uint8_t *suffix)
{
	for (size_t s = h % INDEX_SIZE; c->index[s] != 0; s = (s + 1) % INDEX_SIZE) {
		size_t e = c->index[s] - 1u;
		if (c->hash[e] == h && match_at(msg, msglen, c->off[e], suffix))
			return c->off[e];
	}
	return -1;
}

#define NO_OFF 0xffffu

/* Writes 'name' compressed; on running out of room b.err is set (caller rolls back).
 * When 'how' is given it receives the encoding used (see fedns_compress.last_*). */
static void
put_name_how(fedns_msgw *mw, const uint8_t *name, fedns_compress *how)
{
	fedns_wbuf *b = &mw->b;

	if (!mw->compress) {
		fedns_wbuf_bytes(b, name, fedns_name_len(name));
		return;
	}
	uint32_t h[FEDNS_NAME_MAXLABELS];
	size_t pos[FEDNS_NAME_MAXLABELS];
	size_t n = suffix_hashes(name, h, pos);
	/* The longest suffix already in the message: try from the whole name down. */
	size_t k = 0;
	long target = -1;
	for (; k < n; k++) {
		target = comp_find(&mw->comp, b->buf, b->len, h[k], name + pos[k]);
		if (target >= 0)
			break;
	}
	size_t pre = k < n ? pos[k] : fedns_name_len(name) - 1;
	/* Room check first, so the table never remembers labels that were not written. */
	if (!fedns_wbuf_room(b, pre + (target >= 0 ? 2 : 1)))
		return;
	size_t start = b->len;
	for (size_t i = 0; i < k; i++)
		comp_add(&mw->comp, b->len + pos[i], h[i]);
	fedns_wbuf_bytes(b, name, pre);
	if (target >= 0)
		fedns_wbuf_u16(b, (uint16_t)(0xc000 | (uint16_t)target));
	else
		fedns_wbuf_u8(b, 0);
	if (how != NULL) {
		how->last_start = (uint16_t)start;
		how->last_pre = (uint16_t)pre;
		how->last_tail = target >= 0 ? (uint16_t)target : NO_OFF;
		/* A pointer to the whole name: where it was found, or where it now starts
		 * when that is reachable by a pointer (even if the table had no slot left). */
		if (pre == 0)
			how->last_full = (uint16_t)target;
		else
			how->last_full = start < 0x4000 ? (uint16_t)start : NO_OFF;
	}
}

static void
put_name(fedns_msgw *mw, const uint8_t *name)
{
	put_name_how(mw, name, NULL);
}

/* An owner: the same name as the previous owner (checked against the bytes written, as a
 * caller may reuse its buffer) gets the same encoding without any hashing. The result
 * equals what put_name would write: once the message is past 0x4000 the table takes no
 * entries, so the same lookups would find the same targets. */
static void
put_owner(fedns_msgw *mw, const uint8_t *name)
{
	fedns_compress *c = &mw->comp;
	fedns_wbuf *b = &mw->b;

	if (mw->compress && c->last_owner == name &&
	    match_at(b->buf, b->len, c->last_start, name)) {
		if (c->last_full != NO_OFF) {
			fedns_wbuf_u16(b, (uint16_t)(0xc000 | c->last_full));
			return;
		}
		if (!fedns_wbuf_room(b, (size_t)c->last_pre + (c->last_tail != NO_OFF ? 2 : 1)))
			return;
		fedns_wbuf_bytes(b, name, c->last_pre);
		if (c->last_tail != NO_OFF)
			fedns_wbuf_u16(b, (uint16_t)(0xc000 | c->last_tail));
		else
			fedns_wbuf_u8(b, 0);
		return;
	}
	c->last_owner = NULL;
	put_name_how(mw, name, mw->compress ? c : NULL);
	if (mw->compress && b->err == FEDNS_OK)
		c->last_owner = name;
}

fedns_err
fedns_msgw_name(fedns_msgw *mw, const uint8_t *name)
{
	if (mw->b.err != FEDNS_OK)
		return mw->b.err;
	mark m = save(mw);
	put_name(mw, name);
	if (mw->b.err != FEDNS_OK)
		return rollback(mw, m);
	return FEDNS_OK;
}

fedns_err
fedns_msgw_question(fedns_msgw *mw, const uint8_t *name, uint16_t qtype, uint16_t qclass)
{
	if (mw->b.len < FEDNS_MSG_HDRLEN || mw->count[0] || mw->count[1] || mw->count[2])
		return FEDNS_EINVAL;
	if (mw->qdcount == UINT16_MAX)
		return FEDNS_ETOOBIG;
	mark m = save(mw);
	put_name(mw, name);
	fedns_wbuf_u16(&mw->b, qtype);
	fedns_wbuf_u16(&mw->b, qclass);
	if (mw->b.err != FEDNS_OK)
		return rollback(mw, m);
	mw->qdcount++;
	return FEDNS_OK;
}

/* Compressible names found in rdata, in order. */
#define RDATA_NAMES_MAX 16
typedef struct rd_names {
	size_t off[RDATA_NAMES_MAX];
	size_t n;
} rd_names;

static void
collect_name(void *ctx, size_t off, bool compressible)
{
	rd_names *rn = ctx;
	if (compressible && rn->n < RDATA_NAMES_MAX && (rn->n == 0 || off > rn->off[rn->n - 1]))
		rn->off[rn->n++] = off;
}

static fedns_err
start_section(fedns_msgw *mw, fedns_section sec)
{
	if (mw->b.len < FEDNS_MSG_HDRLEN || sec < mw->cur || sec > FEDNS_SEC_ADDITIONAL)
		return FEDNS_EINVAL;
	if (mw->count[sec] == UINT16_MAX)
		return FEDNS_ETOOBIG;
	return FEDNS_OK;
}

fedns_err
fedns_msgw_rr(fedns_msgw *mw, fedns_section sec, const fedns_rr *rr)
{
	fedns_err err = start_section(mw, sec);
	if (err != FEDNS_OK)
		return err;
	if (mw->b.err != FEDNS_OK)
		return mw->b.err;
	mark m = save(mw);
	fedns_wbuf *b = &mw->b;

	put_owner(mw, rr->owner);
	fedns_wbuf_u16(b, rr->type);
	fedns_wbuf_u16(b, rr->rclass);
	fedns_wbuf_u32(b, rr->ttl);
	size_t rdlen_at = b->len;
	fedns_wbuf_u16(b, 0);
	size_t rdstart = b->len;

	rd_names rn = {.n = 0};
	if (mw->compress && rr->rdlen > 0)
		fedns_rdata_names(rr->type, rr->rdata, rr->rdlen, collect_name, &rn);
	size_t pos = 0;
	for (size_t i = 0; i < rn.n && b->err == FEDNS_OK; i++) {
		size_t off = rn.off[i];
		if (off < pos || off >= rr->rdlen)
			continue;
		size_t nl = fedns_name_check(rr->rdata + off, rr->rdlen - off);
		if (nl == 0)
			continue;
		fedns_wbuf_bytes(b, rr->rdata + pos, off - pos);
		put_name(mw, rr->rdata + off);
		pos = off + nl;
	}
	if (rr->rdlen > pos)
		fedns_wbuf_bytes(b, rr->rdata + pos, rr->rdlen - pos);
	if (b->err == FEDNS_OK && b->len - rdstart > UINT16_MAX)
		b->err = FEDNS_ETOOBIG;
	if (b->err != FEDNS_OK)
		return rollback(mw, m);
	fedns_wbuf_put_u16_at(b, rdlen_at, (uint16_t)(b->len - rdstart));
	mw->cur = sec;
	mw->count[sec]++;
	return FEDNS_OK;
}

fedns_err
fedns_msgw_opt(fedns_msgw *mw, uint16_t udp_size, uint8_t ext_rcode, uint16_t flags,
	       const uint8_t *options, uint16_t options_len)
{
	fedns_err err = start_section(mw, FEDNS_SEC_ADDITIONAL);
	if (err != FEDNS_OK)
		return err;
	if (mw->b.err != FEDNS_OK)
		return mw->b.err;
	mark m = save(mw);
	fedns_wbuf *b = &mw->b;
	fedns_wbuf_u8(b, 0);
	fedns_wbuf_u16(b, FEDNS_T_OPT);
	fedns_wbuf_u16(b, udp_size);
	/* Version 0 (RFC 6891): the only one there is. */
	fedns_wbuf_u32(b, ((uint32_t)ext_rcode << 24) | flags);
	fedns_wbuf_u16(b, options_len);
	if (options_len > 0)
		fedns_wbuf_bytes(b, options, options_len);
	if (b->err != FEDNS_OK)
		return rollback(mw, m);
	mw->cur = FEDNS_SEC_ADDITIONAL;
	mw->count[FEDNS_SEC_ADDITIONAL]++;
	return FEDNS_OK;
}

size_t
fedns_msgw_finish(fedns_msgw *mw)
{
	if (mw->b.err != FEDNS_OK || mw->b.len < FEDNS_MSG_HDRLEN)
		return 0;
	fedns_put_u16(mw->b.buf + 4, mw->qdcount);
	fedns_put_u16(mw->b.buf + 6, mw->count[0]);
	fedns_put_u16(mw->b.buf + 8, mw->count[1]);
	fedns_put_u16(mw->b.buf + 10, mw->count[2]);
	return mw->b.len;
}

fedns_err
fedns_tcp_frame_len(const uint8_t *buf, size_t have, size_t *msglen)
{
	if (have < 2)
		return FEDNS_ETRUNC;
	size_t n = fedns_get_u16(buf);
	if (n == 0)
		return FEDNS_EMALFORMED;
	*msglen = n;
	return FEDNS_OK;
}
