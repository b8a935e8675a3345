/* SPDX-License-Identifier: Apache-2.0 */
/* Encoding and capped decoding of the hub <-> spoke messages; the only file that sees
 * protobuf-c. Decoding is: size cap, a schema-guided scan of the wire bytes (so a bad
 * input gets an error naming the field and offset, and list caps hold before anything is
 * allocated), protobuf-c unpack under a memory budget, copy into the message's arena,
 * then the same rule check encode applies. */
#include "proto/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "dns/name.h"
#include "fedns.pb-c.h"

#define DEF_MAX_MSG ((size_t)256 << 20)
#define DEF_MAX_RRS ((size_t)10000000)
#define DEF_MAX_STR ((size_t)1024)
#define DEF_MAX_ITEMS ((size_t)100000)
#define DEF_MAX_BLOB ((size_t)64 << 10)
#define DEF_MAX_MEM ((size_t)2 << 30)
#define SCAN_MAX_DEPTH 8
#define PATH_MAX_LEN 160

/* ---- limits and names ---- */

static fedns_proto_limits
limits_of(const fedns_proto_limits *in)
{
	fedns_proto_limits l = {DEF_MAX_MSG,   DEF_MAX_RRS,  DEF_MAX_STR,
				DEF_MAX_ITEMS, DEF_MAX_BLOB, DEF_MAX_MEM};
	if (in != NULL) {
		if (in->max_msg)
			l.max_msg = in->max_msg;
		if (in->max_rrs)
			l.max_rrs = in->max_rrs;
		if (in->max_str)
			l.max_str = in->max_str;
		if (in->max_items)
			l.max_items = in->max_items;
		if (in->max_blob)
			l.max_blob = in->max_blob;
		if (in->max_mem)
			l.max_mem = in->max_mem;
	}
	return l;
}

static const fedns_proto_limits no_caps = {SIZE_MAX, SIZE_MAX, SIZE_MAX,
					   SIZE_MAX, SIZE_MAX, SIZE_MAX};

const char *
fedns_proto_type_name(fedns_proto_type t)
{
	switch (t) {
	case FEDNS_PROTO_HELLO:
		return "hello";
	case FEDNS_PROTO_CHALLENGE:
		return "challenge";
	case FEDNS_PROTO_CHALLENGE_RESPONSE:
		return "challenge_response";
	case FEDNS_PROTO_SIGNED:
		return "signed";
	case FEDNS_PROTO_ACK:
		return "ack";
	case FEDNS_PROTO_STATUS_REPORT:
		return "status_report";
	case FEDNS_PROTO_PLACEMENT_UPDATE:
		return "placement_update";
	case FEDNS_PROTO_HEARTBEAT:
		return "heartbeat";
	}
	return "?";
}

const char *
fedns_proto_ack_status_name(fedns_proto_ack_status s)
{
	switch (s) {
	case FEDNS_PROTO_ACK_APPLIED:
		return "applied";
	case FEDNS_PROTO_ACK_ALREADY_APPLIED:
		return "already_applied";
	case FEDNS_PROTO_ACK_REFUSED:
		return "refused";
	}
	return "?";
}

const char *
fedns_proto_reason_name(fedns_proto_reason r)
{
	static const char *const names[] = {
		"none",	      "gap",	   "replay",	  "bad_signature", "digest_mismatch",
		"not_placed", "malformed", "unknown_key", "apply_failed",  "internal",
	};
	if ((unsigned)r < sizeof(names) / sizeof(names[0]))
		return names[r];
	return "?";
}

const char *
fedns_proto_secondary_state_name(fedns_proto_secondary_state s)
{
	switch (s) {
	case FEDNS_PROTO_SECONDARY_IN_SYNC:
		return "in_sync";
	case FEDNS_PROTO_SECONDARY_LAGGING:
		return "lagging";
	case FEDNS_PROTO_SECONDARY_DIVERGED:
		return "diverged";
	case FEDNS_PROTO_SECONDARY_UNREACHABLE:
		return "unreachable";
	}
	return "?";
}

/* ---- memory budget for protobuf-c ---- */

/* Each block carries its size in a 16-byte header so frees give the budget back. */
typedef struct budget {
	size_t used, cap;
	bool over;
} budget;

static void *
budget_alloc(void *ctx, size_t n)
{
	budget *b = ctx;
	if (n > b->cap - b->used || n > SIZE_MAX - 16) {
		b->over = true;
		return NULL;
	}
	unsigned char *p = malloc(n + 16);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	b->used += n;
	return p + 16;
}

static void
budget_free(void *ctx, void *ptr)
{
	budget *b = ctx;
	if (ptr == NULL)
		return;
	unsigned char *p = (unsigned char *)ptr - 16;
	size_t n;
	memcpy(&n, p, sizeof(n));
	b->used -= n;
	free(p);
}

/* ---- wire scan ---- */

/* 0 ok, -1 truncated, -2 longer than 10 bytes or over 64 bits. */
static int
read_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (len - *off < 1)
			return -1;
		uint8_t c = p[(*off)++];
		if (i == 9 && c > 1)
			return -2;
		r |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -2;
}

static int
expected_wire_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	default:
		return 0;
	}
}

/* Walks p[0..len) as an instance of desc: every field's framing must fit, known fields
 * must have their wire type, groups are refused, and repeated fields stay under their
 * cap. 'base' is p's offset in the whole input, for messages. */
static fedns_err
scan_msg(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len, size_t base,
	 const char *path, unsigned depth, const fedns_proto_limits *lim, fedns_diag *d)
{
	size_t counts[16] = {0};
	size_t off = 0;
	if (depth > SCAN_MAX_DEPTH)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "%s: nested too deeply", path);
	while (off < len) {
		size_t start = off;
		uint64_t tag, v;
		int rc = read_varint(p, len, &off, &tag);
		if (rc != 0)
			return fedns_diag_set(d, rc == -1 ? FEDNS_ETRUNC : FEDNS_EMALFORMED,
					      "%s: byte %zu: field tag %s", path, base + start,
					      rc == -1 ? "runs past the end" : "is not a varint");
		uint64_t num = tag >> 3;
		int wt = (int)(tag & 7);
		if (num == 0 || num > 536870911u)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s: byte %zu: field number %llu is not valid", path,
					      base + start, (unsigned long long)num);
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field(desc, (unsigned)num);
		const char *fname = f != NULL ? f->name : "unknown field";
		if (f != NULL && expected_wire_type(f->type) != wt)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s.%s: byte %zu: wire type %d, expected %d", path,
					      fname, base + start, wt, expected_wire_type(f->type));
		switch (wt) {
		case 0:
			rc = read_varint(p, len, &off, &v);
			if (rc != 0)
				return fedns_diag_set(
					d, rc == -1 ? FEDNS_ETRUNC : FEDNS_EMALFORMED,
					"%s.%s: byte %zu: value %s", path, fname, base + start,
					rc == -1 ? "runs past the end" : "is not a varint");
			break;
		case 1:
		case 5: {
			size_t n = wt == 1 ? 8 : 4;
			if (len - off < n)
				return fedns_diag_set(d, FEDNS_ETRUNC,
						      "%s.%s: byte %zu: %zu-byte value runs past "
						      "the end",
						      path, fname, base + start, n);
			off += n;
			break;
		}
		case 2: {
			rc = read_varint(p, len, &off, &v);
			if (rc != 0)
				return fedns_diag_set(
					d, rc == -1 ? FEDNS_ETRUNC : FEDNS_EMALFORMED,
					"%s.%s: byte %zu: length %s", path, fname, base + start,
					rc == -1 ? "runs past the end" : "is not a varint");
			if (v > len - off)
				return fedns_diag_set(d, FEDNS_ETRUNC,
						      "%s.%s: byte %zu: length %llu but only %zu "
						      "bytes left",
						      path, fname, base + start,
						      (unsigned long long)v, len - off);
			if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				char sub[PATH_MAX_LEN];
				snprintf(sub, sizeof(sub), "%s.%s", path, f->name);
				fedns_err err = scan_msg(f->descriptor, p + off, (size_t)v,
							 base + off, sub, depth + 1, lim, d);
				if (err != FEDNS_OK)
					return err;
			}
			off += (size_t)v;
			break;
		}
		default:
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s: byte %zu: wire type %d is not used by fedns",
					      path, base + start, wt);
		}
		if (f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t idx = (size_t)(f - desc->fields);
			size_t cap = f->type == PROTOBUF_C_TYPE_MESSAGE &&
						     f->descriptor == &fedns__rr__descriptor
					     ? lim->max_rrs
					     : lim->max_items;
			if (idx < 16 && ++counts[idx] > cap)
				return fedns_diag_set(d, FEDNS_ETOOBIG,
						      "%s.%s: more than %zu entries", path, f->name,
						      cap);
		}
	}
	return FEDNS_OK;
}

/* ---- rule checks on the C structs (shared by encode and decode) ---- */

static bool
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static fedns_err
check_text(const char *s, const char *path, const char *field, const fedns_proto_limits *lim,
	   bool required, fedns_diag *d)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 && required)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "%s.%s: missing", path, field);
	if (n > lim->max_str)
		return fedns_diag_set(d, FEDNS_ETOOBIG, "%s.%s: %zu bytes, the cap is %zu", path,
				      field, n, lim->max_str);
	if (n > 0 && !utf8_valid((const uint8_t *)s, n))
		return fedns_diag_set(d, FEDNS_EMALFORMED, "%s.%s: not valid UTF-8", path, field);
	return FEDNS_OK;
}

static fedns_err
check_zone(const char *s, const char *path, const char *field, const fedns_proto_limits *lim,
	   fedns_diag *d)
{
	fedns_err err = check_text(s, path, field, lim, true, d);
	if (err != FEDNS_OK)
		return err;
	uint8_t wire[FEDNS_NAME_MAXLEN];
	size_t wlen;
	fedns_diag sub;
	fedns_diag_clear(&sub);
	if (fedns_name_from_text(s, strlen(s), NULL, wire, &wlen, &sub) != FEDNS_OK)
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "%s.%s: \"%.80s\" is not an absolute domain name: %s", path,
				      field, s, sub.msg);
	return FEDNS_OK;
}

bool
fedns_proto_digest_known(const fedns_proto_digest *g)
{
	return (g->alg == FEDNS_PROTO_DIGEST_TREE && g->len == 32) ||
	       (g->alg == 1 && g->len == 48) || (g->alg == 2 && g->len == 64);
}

static fedns_err
check_digest(const fedns_proto_digest *g, const char *path, const char *field, bool required,
	     fedns_diag *d)
{
	if (!(g->alg == 0 && g->len == 0) && !fedns_proto_digest_known(g))
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "%s.%s: algorithm %u with %u bytes (expected 240 with 32, 1 "
				      "with 48, 2 with 64, or 0 with none)",
				      path, field, g->alg, g->len);
	if (required && g->alg == 0)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "%s.%s: missing", path, field);
	return FEDNS_OK;
}

static fedns_err
check_count(size_t n, size_t cap, const char *path, const char *field, fedns_diag *d)
{
	if (n > cap)
		return fedns_diag_set(d, FEDNS_ETOOBIG, "%s.%s: %zu entries, the cap is %zu", path,
				      field, n, cap);
	return FEDNS_OK;
}

static fedns_err
check_sig(fedns_proto_sig_alg alg, const fedns_proto_blob *sig, const char *path, fedns_diag *d)
{
	if (alg != FEDNS_PROTO_SIG_ECDSA_P256_SHA256)
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "%s.alg: signature algorithm %d is not supported", path,
				      (int)alg);
	if (sig->len != FEDNS_PROTO_SIG_LEN || sig->data == NULL)
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "%s.signature: %zu bytes, ecdsa-p256-sha256 needs %d", path,
				      sig->len, FEDNS_PROTO_SIG_LEN);
	return FEDNS_OK;
}

static fedns_err
check_rrs(const fedns_rr *rrs, size_t n, const char *path, const char *field, fedns_diag *d)
{
	for (size_t i = 0; i < n; i++) {
		const fedns_rr *rr = &rrs[i];
		if (rr->owner == NULL || fedns_name_check(rr->owner, FEDNS_NAME_MAXLEN) == 0)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s.%s[%zu].owner: not a valid wire name", path,
					      field, i);
		if ((rr->rdlen > 0 && rr->rdata == NULL) ||
		    fedns_rdata_check(rr->type, rr->rdata, rr->rdlen) != FEDNS_OK)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s.%s[%zu].rdata: %u bytes not valid for type %u",
					      path, field, i, rr->rdlen, rr->type);
	}
	return FEDNS_OK;
}

static fedns_err
check_names(const char *const *names, size_t n, const char *path, const char *field,
	    const fedns_proto_limits *lim, bool zones, fedns_diag *d)
{
	fedns_err err = check_count(n, lim->max_items, path, field, d);
	for (size_t i = 0; err == FEDNS_OK && i < n; i++) {
		char f[48];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		err = zones ? check_zone(names[i], path, f, lim, d)
			    : check_text(names[i], path, f, lim, false, d);
	}
	return err;
}

static fedns_err
check_hello(const fedns_proto_hello *h, const fedns_proto_limits *lim, fedns_diag *d)
{
	const char *p = "hello";
	fedns_err err;
	if ((err = check_text(h->cluster, p, "cluster", lim, true, d)) != FEDNS_OK ||
	    (err = check_text(h->software_version, p, "software_version", lim, false, d)) !=
		    FEDNS_OK ||
	    (err = check_count(h->ncerts, lim->max_items, p, "cert_chain", d)) != FEDNS_OK ||
	    (err = check_count(h->nzones, lim->max_items, p, "zones", d)) != FEDNS_OK)
		return err;
	if (h->ncerts == 0)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "hello.cert_chain: empty");
	for (size_t i = 0; i < h->ncerts; i++) {
		if (h->certs[i].len == 0 || h->certs[i].data == NULL)
			return fedns_diag_set(d, FEDNS_EMALFORMED, "hello.cert_chain[%zu]: empty",
					      i);
		if (h->certs[i].len > lim->max_blob)
			return fedns_diag_set(d, FEDNS_ETOOBIG,
					      "hello.cert_chain[%zu]: %zu bytes, the cap is %zu", i,
					      h->certs[i].len, lim->max_blob);
	}
	for (size_t i = 0; i < h->nzones; i++) {
		char q[48];
		snprintf(q, sizeof(q), "hello.zones[%zu]", i);
		if ((err = check_zone(h->zones[i].zone, q, "zone", lim, d)) != FEDNS_OK ||
		    (err = check_digest(&h->zones[i].digest, q, "digest", false, d)) != FEDNS_OK)
			return err;
	}
	return FEDNS_OK;
}

static fedns_err
check_signed(const fedns_proto_signed *s, const fedns_proto_limits *lim, fedns_diag *d)
{
	if (s->payload.len == 0 || s->payload.data == NULL)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "signed.payload: empty");
	if (s->payload.len > lim->max_msg)
		return fedns_diag_set(d, FEDNS_ETOOBIG, "signed.payload: %zu bytes, the cap is %zu",
				      s->payload.len, lim->max_msg);
	fedns_err err = check_sig(s->alg, &s->signature, "signed", d);
	if (err != FEDNS_OK)
		return err;
	size_t n = s->key_id != NULL ? strlen(s->key_id) : 0;
	if (n == 0 || n > FEDNS_PROTO_KEYID_MAX)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "signed.key_id: %zu bytes (1 to %d)", n,
				      FEDNS_PROTO_KEYID_MAX);
	for (size_t i = 0; i < n; i++)
		if (s->key_id[i] < 0x21 || s->key_id[i] > 0x7e)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "signed.key_id: byte %zu is not printable ASCII", i);
	return FEDNS_OK;
}

static fedns_err
check_ack(const fedns_proto_ack *a, const fedns_proto_limits *lim, fedns_diag *d)
{
	fedns_err err;
	if ((err = check_zone(a->zone, "ack", "zone", lim, d)) != FEDNS_OK ||
	    (err = check_digest(&a->digest, "ack", "digest", false, d)) != FEDNS_OK ||
	    (err = check_text(a->detail, "ack", "detail", lim, false, d)) != FEDNS_OK)
		return err;
	if (a->status < FEDNS_PROTO_ACK_APPLIED || a->status > FEDNS_PROTO_ACK_REFUSED)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "ack.status: %d is not a status",
				      (int)a->status);
	if ((unsigned)a->reason > FEDNS_PROTO_REASON_INTERNAL)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "ack.reason: %d is not a reason",
				      (int)a->reason);
	if ((a->status == FEDNS_PROTO_ACK_REFUSED) != (a->reason != FEDNS_PROTO_REASON_NONE))
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "ack.reason: %s with status %s (a reason goes with refused "
				      "and only with it)",
				      fedns_proto_reason_name(a->reason),
				      fedns_proto_ack_status_name(a->status));
	return FEDNS_OK;
}

static fedns_err
check_status(const fedns_proto_status_report *r, const fedns_proto_limits *lim, fedns_diag *d)
{
	fedns_err err = check_count(r->nentries, lim->max_items, "status_report", "entries", d);
	for (size_t i = 0; err == FEDNS_OK && i < r->nentries; i++) {
		const fedns_proto_secondary_status *e = &r->entries[i];
		char q[48];
		snprintf(q, sizeof(q), "status_report.entries[%zu]", i);
		if ((err = check_zone(e->zone, q, "zone", lim, d)) != FEDNS_OK ||
		    (err = check_text(e->secondary, q, "secondary", lim, true, d)) != FEDNS_OK ||
		    (err = check_text(e->address, q, "address", lim, false, d)) != FEDNS_OK ||
		    (err = check_text(e->last_error, q, "last_error", lim, false, d)) != FEDNS_OK ||
		    (err = check_digest(&e->digest, q, "digest", false, d)) != FEDNS_OK)
			return err;
		if (e->state < FEDNS_PROTO_SECONDARY_IN_SYNC ||
		    e->state > FEDNS_PROTO_SECONDARY_UNREACHABLE)
			return fedns_diag_set(d, FEDNS_EMALFORMED, "%s.state: %d is not a state", q,
					      (int)e->state);
		if (!e->has_serial && e->serial != 0)
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "%s.serial: set without has_serial", q);
	}
	return err;
}

fedns_err
fedns_proto_check(const fedns_proto_msg *m, const fedns_proto_limits *lim, fedns_diag *d)
{
	if (m == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "no message");
	fedns_proto_limits l = lim != NULL ? limits_of(lim) : no_caps;
	fedns_err err;
	switch (m->type) {
	case FEDNS_PROTO_HELLO:
		return check_hello(&m->u.hello, &l, d);
	case FEDNS_PROTO_CHALLENGE:
	case FEDNS_PROTO_HEARTBEAT:
		return FEDNS_OK;
	case FEDNS_PROTO_CHALLENGE_RESPONSE:
		return check_sig(m->u.challenge_response.alg, &m->u.challenge_response.signature,
				 "challenge_response", d);
	case FEDNS_PROTO_SIGNED:
		return check_signed(&m->u.signed_blob, &l, d);
	case FEDNS_PROTO_ACK:
		return check_ack(&m->u.ack, &l, d);
	case FEDNS_PROTO_STATUS_REPORT:
		return check_status(&m->u.status_report, &l, d);
	case FEDNS_PROTO_PLACEMENT_UPDATE:
		if ((err = check_names(m->u.placement.add, m->u.placement.nadd, "placement_update",
				       "add", &l, true, d)) != FEDNS_OK)
			return err;
		return check_names(m->u.placement.remove, m->u.placement.nremove,
				   "placement_update", "remove", &l, true, d);
	}
	return fedns_diag_set(d, FEDNS_EMALFORMED, "envelope: message kind %d is not known",
			      (int)m->type);
}

static bool eq_str(const char *a, const char *b);

static fedns_err
check_changeset(const fedns_proto_changeset *c, const char *p, const fedns_proto_limits *lim,
		fedns_diag *d)
{
	fedns_proto_limits l = *lim;
	fedns_err err;
	if ((err = check_zone(c->zone, p, "zone", &l, d)) != FEDNS_OK ||
	    (err = check_digest(&c->digest, p, "digest", true, d)) != FEDNS_OK ||
	    (err = check_text(c->author, p, "author", &l, false, d)) != FEDNS_OK ||
	    (err = check_names(c->approvers, c->napprovers, p, "approvers", &l, false, d)) !=
		    FEDNS_OK)
		return err;
	if (c->ndeleted > l.max_rrs || c->nadded > l.max_rrs - c->ndeleted)
		return fedns_diag_set(d, FEDNS_ETOOBIG,
				      "%s: %zu deleted and %zu added RRs, the cap is %zu", p,
				      c->ndeleted, c->nadded, l.max_rrs);
	if ((err = check_rrs(c->deleted, c->ndeleted, p, "deleted", d)) != FEDNS_OK)
		return err;
	return check_rrs(c->added, c->nadded, p, "added", d);
}

fedns_err
fedns_proto_body_check(const fedns_proto_body *b, const fedns_proto_limits *lim, fedns_diag *d)
{
	if (b == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "no payload");
	fedns_proto_limits l = lim != NULL ? limits_of(lim) : no_caps;
	fedns_err err;
	if (b->kind == FEDNS_PROTO_BODY_CHANGESET)
		return check_changeset(&b->u.changeset, "change_set", &l, d);
	if (b->kind == FEDNS_PROTO_BODY_BATCH) {
		const fedns_proto_batch *bt = &b->u.batch;
		if ((err = check_count(bt->n, l.max_items, "batch", "change_sets", d)) != FEDNS_OK)
			return err;
		if (bt->n == 0)
			return fedns_diag_set(d, FEDNS_EMALFORMED, "batch.change_sets: empty");
		size_t rrs = 0;
		for (size_t i = 0; i < bt->n; i++) {
			const fedns_proto_changeset *c = &bt->changesets[i];
			char p[48];
			snprintf(p, sizeof(p), "batch.change_sets[%zu]", i);
			if ((err = check_changeset(c, p, &l, d)) != FEDNS_OK)
				return err;
			if (c->ndeleted + c->nadded > l.max_rrs - rrs)
				return fedns_diag_set(d, FEDNS_ETOOBIG,
						      "batch: more than %zu RRs in all", l.max_rrs);
			rrs += c->ndeleted + c->nadded;
			if (i > 0 && !eq_str(c->zone, bt->changesets[0].zone))
				return fedns_diag_set(d, FEDNS_EMALFORMED,
						      "%s.zone: %s is not the batch's zone %s", p,
						      c->zone, bt->changesets[0].zone);
			if (i > 0 && c->from_serial != bt->changesets[i - 1].to_serial)
				return fedns_diag_set(d, FEDNS_EMALFORMED,
						      "%s.from_serial: %u does not follow %u", p,
						      c->from_serial,
						      bt->changesets[i - 1].to_serial);
		}
		return FEDNS_OK;
	}
	if (b->kind == FEDNS_PROTO_BODY_SNAPSHOT) {
		const fedns_proto_snapshot *s = &b->u.snapshot;
		const char *p = "snapshot";
		if ((err = check_zone(s->zone, p, "zone", &l, d)) != FEDNS_OK ||
		    (err = check_digest(&s->digest, p, "digest", true, d)) != FEDNS_OK ||
		    (err = check_count(s->nrrs, l.max_rrs, p, "rrs", d)) != FEDNS_OK)
			return err;
		if (s->nrrs == 0)
			return fedns_diag_set(d, FEDNS_EMALFORMED, "snapshot.rrs: empty");
		return check_rrs(s->rrs, s->nrrs, p, "rrs", d);
	}
	return fedns_diag_set(d, FEDNS_EMALFORMED, "payload: kind %d is not known", (int)b->kind);
}

/* ---- encode: C structs -> protobuf-c structs (borrowing the caller's memory) ---- */

static ProtobufCBinaryData
bin_of(const void *p, size_t n)
{
	ProtobufCBinaryData b = {n, (uint8_t *)(uintptr_t)p};
	return b;
}

static void
put_text(const char *s, protobuf_c_boolean *has, ProtobufCBinaryData *v)
{
	size_t n = s != NULL ? strlen(s) : 0;
	*has = n > 0;
	*v = bin_of(s, n);
}

static ProtobufCBinaryData *
put_texts(fedns_arena *a, const char *const *s, size_t n)
{
	ProtobufCBinaryData *v = fedns_arena_alloc(a, (n ? n : 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = bin_of(s[i], s[i] != NULL ? strlen(s[i]) : 0);
	return v;
}

static Fedns__Digest *
put_digest(fedns_arena *a, const fedns_proto_digest *g)
{
	if (g->alg == 0)
		return NULL;
	Fedns__Digest *o = fedns_arena_alloc(a, sizeof(*o));
	if (o == NULL)
		return NULL;
	fedns__digest__init(o);
	o->has_alg = 1;
	o->alg = g->alg;
	o->has_value = 1;
	o->value = bin_of(g->value, g->len);
	return o;
}

#define SET(o, field, val)                                                                         \
	do {                                                                                       \
		(o)->field = (val);                                                                \
		(o)->has_##field = (val) != 0;                                                     \
	} while (0)

static Fedns__RR **
put_rrs(fedns_arena *a, const fedns_rr *rrs, size_t n)
{
	Fedns__RR **v = fedns_arena_alloc(a, (n ? n : 1) * sizeof(*v));
	Fedns__RR *o = fedns_arena_alloc(a, (n ? n : 1) * sizeof(*o));
	if (v == NULL || o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		fedns__rr__init(&o[i]);
		o[i].has_owner = 1;
		o[i].owner = bin_of(rrs[i].owner, fedns_name_len(rrs[i].owner));
		SET(&o[i], type, rrs[i].type);
		SET(&o[i], rclass, rrs[i].rclass);
		SET(&o[i], ttl, rrs[i].ttl);
		o[i].has_rdata = rrs[i].rdlen > 0;
		o[i].rdata = bin_of(rrs[i].rdata, rrs[i].rdlen);
		v[i] = &o[i];
	}
	return v;
}

static fedns_err
pack(const ProtobufCMessage *pm, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(pm);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL)
		return FEDNS_ENOMEM;
	size_t w = protobuf_c_message_pack(pm, buf);
	if (w != n) {
		free(buf);
		return FEDNS_EIO;
	}
	*out = buf;
	*len = n;
	return FEDNS_OK;
}

static fedns_err
encode_hello(fedns_arena *a, const fedns_proto_hello *h, Fedns__Envelope *env)
{
	Fedns__Hello *o = fedns_arena_alloc(a, sizeof(*o));
	Fedns__ZoneState **zp = fedns_arena_alloc(a, (h->nzones ? h->nzones : 1) * sizeof(*zp));
	Fedns__ZoneState *zs = fedns_arena_alloc(a, (h->nzones ? h->nzones : 1) * sizeof(*zs));
	ProtobufCBinaryData *certs =
		fedns_arena_alloc(a, (h->ncerts ? h->ncerts : 1) * sizeof(*certs));
	if (o == NULL || zp == NULL || zs == NULL || certs == NULL)
		return FEDNS_ENOMEM;
	fedns__hello__init(o);
	put_text(h->cluster, &o->has_cluster, &o->cluster);
	put_text(h->software_version, &o->has_software_version, &o->software_version);
	for (size_t i = 0; i < h->ncerts; i++)
		certs[i] = bin_of(h->certs[i].data, h->certs[i].len);
	o->n_cert_chain = h->ncerts;
	o->cert_chain = certs;
	for (size_t i = 0; i < h->nzones; i++) {
		fedns__zone_state__init(&zs[i]);
		put_text(h->zones[i].zone, &zs[i].has_zone, &zs[i].zone);
		SET(&zs[i], serial, h->zones[i].serial);
		zs[i].digest = put_digest(a, &h->zones[i].digest);
		if (h->zones[i].digest.alg != 0 && zs[i].digest == NULL)
			return FEDNS_ENOMEM;
		zp[i] = &zs[i];
	}
	o->n_zones = h->nzones;
	o->zones = zp;
	env->body_case = FEDNS__ENVELOPE__BODY_HELLO;
	env->hello = o;
	return FEDNS_OK;
}

static fedns_err
encode_status(fedns_arena *a, const fedns_proto_status_report *r, Fedns__Envelope *env)
{
	size_t n = r->nentries ? r->nentries : 1;
	Fedns__StatusReport *o = fedns_arena_alloc(a, sizeof(*o));
	Fedns__SecondaryStatus **ep = fedns_arena_alloc(a, n * sizeof(*ep));
	Fedns__SecondaryStatus *es = fedns_arena_alloc(a, n * sizeof(*es));
	if (o == NULL || ep == NULL || es == NULL)
		return FEDNS_ENOMEM;
	fedns__status_report__init(o);
	SET(o, time, r->time);
	for (size_t i = 0; i < r->nentries; i++) {
		const fedns_proto_secondary_status *e = &r->entries[i];
		Fedns__SecondaryStatus *x = &es[i];
		fedns__secondary_status__init(x);
		put_text(e->zone, &x->has_zone, &x->zone);
		put_text(e->secondary, &x->has_secondary, &x->secondary);
		put_text(e->address, &x->has_address, &x->address);
		SET(x, state, (Fedns__SecondaryState)e->state);
		x->has_serial = e->has_serial;
		x->serial = e->serial;
		x->digest = put_digest(a, &e->digest);
		if (e->digest.alg != 0 && x->digest == NULL)
			return FEDNS_ENOMEM;
		SET(x, last_proven, e->last_proven);
		SET(x, lag_ms, e->lag_ms);
		put_text(e->last_error, &x->has_last_error, &x->last_error);
		SET(x, repairs, e->repairs);
		ep[i] = x;
	}
	o->n_entries = r->nentries;
	o->entries = ep;
	env->body_case = FEDNS__ENVELOPE__BODY_STATUS_REPORT;
	env->status_report = o;
	return FEDNS_OK;
}

static fedns_err
encode_msg(fedns_arena *a, const fedns_proto_msg *m, Fedns__Envelope *env)
{
	switch (m->type) {
	case FEDNS_PROTO_HELLO:
		return encode_hello(a, &m->u.hello, env);
	case FEDNS_PROTO_CHALLENGE: {
		Fedns__Challenge *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__challenge__init(o);
		o->has_nonce = 1;
		o->nonce = bin_of(m->u.challenge.nonce, FEDNS_PROTO_NONCE_LEN);
		SET(o, hub_time, m->u.challenge.hub_time);
		env->body_case = FEDNS__ENVELOPE__BODY_CHALLENGE;
		env->challenge = o;
		return FEDNS_OK;
	}
	case FEDNS_PROTO_CHALLENGE_RESPONSE: {
		const fedns_proto_challenge_response *r = &m->u.challenge_response;
		Fedns__ChallengeResponse *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__challenge_response__init(o);
		SET(o, alg, (Fedns__SigAlg)r->alg);
		o->has_signature = r->signature.len > 0;
		o->signature = bin_of(r->signature.data, r->signature.len);
		env->body_case = FEDNS__ENVELOPE__BODY_CHALLENGE_RESPONSE;
		env->challenge_response = o;
		return FEDNS_OK;
	}
	case FEDNS_PROTO_SIGNED: {
		const fedns_proto_signed *s = &m->u.signed_blob;
		Fedns__SignedBlob *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__signed_blob__init(o);
		o->has_payload = s->payload.len > 0;
		o->payload = bin_of(s->payload.data, s->payload.len);
		o->has_signature = s->signature.len > 0;
		o->signature = bin_of(s->signature.data, s->signature.len);
		put_text(s->key_id, &o->has_key_id, &o->key_id);
		SET(o, alg, (Fedns__SigAlg)s->alg);
		env->body_case = FEDNS__ENVELOPE__BODY_SIGNED;
		env->signed_ = o;
		return FEDNS_OK;
	}
	case FEDNS_PROTO_ACK: {
		const fedns_proto_ack *k = &m->u.ack;
		Fedns__Ack *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__ack__init(o);
		put_text(k->zone, &o->has_zone, &o->zone);
		SET(o, serial, k->serial);
		o->digest = put_digest(a, &k->digest);
		if (k->digest.alg != 0 && o->digest == NULL)
			return FEDNS_ENOMEM;
		SET(o, status, (Fedns__AckStatus)k->status);
		SET(o, reason, (Fedns__RefuseReason)k->reason);
		SET(o, change_id, k->change_id);
		put_text(k->detail, &o->has_detail, &o->detail);
		SET(o, received_time, k->received_time);
		SET(o, applied_time, k->applied_time);
		SET(o, verify_us, k->verify_us);
		SET(o, apply_us, k->apply_us);
		env->body_case = FEDNS__ENVELOPE__BODY_ACK;
		env->ack = o;
		return FEDNS_OK;
	}
	case FEDNS_PROTO_STATUS_REPORT:
		return encode_status(a, &m->u.status_report, env);
	case FEDNS_PROTO_PLACEMENT_UPDATE: {
		const fedns_proto_placement *p = &m->u.placement;
		Fedns__PlacementUpdate *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__placement_update__init(o);
		SET(o, generation, p->generation);
		SET(o, full, p->full);
		o->add = put_texts(a, p->add, p->nadd);
		o->remove = put_texts(a, p->remove, p->nremove);
		if (o->add == NULL || o->remove == NULL)
			return FEDNS_ENOMEM;
		o->n_add = p->nadd;
		o->n_remove = p->nremove;
		env->body_case = FEDNS__ENVELOPE__BODY_PLACEMENT_UPDATE;
		env->placement_update = o;
		return FEDNS_OK;
	}
	case FEDNS_PROTO_HEARTBEAT: {
		Fedns__Heartbeat *o = fedns_arena_alloc(a, sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		fedns__heartbeat__init(o);
		SET(o, time, m->u.heartbeat.time);
		SET(o, sequence, m->u.heartbeat.sequence);
		env->body_case = FEDNS__ENVELOPE__BODY_HEARTBEAT;
		env->heartbeat = o;
		return FEDNS_OK;
	}
	}
	return FEDNS_EINVAL;
}

fedns_err
fedns_proto_encode(const fedns_proto_msg *m, uint8_t **out, size_t *len)
{
	if (m == NULL || out == NULL || len == NULL)
		return FEDNS_EINVAL;
	if (fedns_proto_check(m, NULL, NULL) != FEDNS_OK)
		return FEDNS_EINVAL;
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	Fedns__Envelope env = FEDNS__ENVELOPE__INIT;
	env.has_version = 1;
	env.version = FEDNS_PROTO_VERSION;
	fedns_err err = encode_msg(&a, m, &env);
	if (err == FEDNS_OK)
		err = pack(&env.base, out, len);
	fedns_arena_fini(&a);
	return err;
}

static fedns_err
put_changeset(fedns_arena *a, const fedns_proto_changeset *c, Fedns__ChangeSet *cs)
{
	put_text(c->zone, &cs->has_zone, &cs->zone);
	SET(cs, from_serial, c->from_serial);
	SET(cs, to_serial, c->to_serial);
	cs->deleted = put_rrs(a, c->deleted, c->ndeleted);
	cs->added = put_rrs(a, c->added, c->nadded);
	cs->digest = put_digest(a, &c->digest);
	cs->approvers = put_texts(a, c->approvers, c->napprovers);
	if (cs->deleted == NULL || cs->added == NULL || cs->digest == NULL || cs->approvers == NULL)
		return FEDNS_ENOMEM;
	cs->n_deleted = c->ndeleted;
	cs->n_added = c->nadded;
	cs->n_approvers = c->napprovers;
	SET(cs, change_id, c->change_id);
	SET(cs, commit_time, c->commit_time);
	put_text(c->author, &cs->has_author, &cs->author);
	return FEDNS_OK;
}

fedns_err
fedns_proto_body_encode(const fedns_proto_body *b, uint8_t **out, size_t *len)
{
	if (b == NULL || out == NULL || len == NULL)
		return FEDNS_EINVAL;
	if (fedns_proto_body_check(b, NULL, NULL) != FEDNS_OK)
		return FEDNS_EINVAL;
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	Fedns__SignedBody sb = FEDNS__SIGNED_BODY__INIT;
	Fedns__ChangeSet cs = FEDNS__CHANGE_SET__INIT;
	Fedns__Snapshot ss = FEDNS__SNAPSHOT__INIT;
	Fedns__ChangeSetBatch batch = FEDNS__CHANGE_SET_BATCH__INIT;
	fedns_err err = FEDNS_ENOMEM;
	if (b->kind == FEDNS_PROTO_BODY_CHANGESET) {
		if (put_changeset(&a, &b->u.changeset, &cs) != FEDNS_OK)
			goto out;
		sb.body_case = FEDNS__SIGNED_BODY__BODY_CHANGE_SET;
		sb.change_set = &cs;
	} else if (b->kind == FEDNS_PROTO_BODY_BATCH) {
		const fedns_proto_batch *bt = &b->u.batch;
		Fedns__ChangeSet **v = fedns_arena_alloc(&a, bt->n * sizeof(*v));
		if (v == NULL)
			goto out;
		for (size_t i = 0; i < bt->n; i++) {
			if ((v[i] = fedns_arena_alloc(&a, sizeof(**v))) == NULL)
				goto out;
			fedns__change_set__init(v[i]);
			if (put_changeset(&a, &bt->changesets[i], v[i]) != FEDNS_OK)
				goto out;
		}
		batch.change_sets = v;
		batch.n_change_sets = bt->n;
		sb.body_case = FEDNS__SIGNED_BODY__BODY_BATCH;
		sb.batch = &batch;
	} else {
		const fedns_proto_snapshot *s = &b->u.snapshot;
		put_text(s->zone, &ss.has_zone, &ss.zone);
		SET(&ss, serial, s->serial);
		ss.rrs = put_rrs(&a, s->rrs, s->nrrs);
		ss.digest = put_digest(&a, &s->digest);
		if (ss.rrs == NULL || ss.digest == NULL)
			goto out;
		ss.n_rrs = s->nrrs;
		SET(&ss, change_id, s->change_id);
		SET(&ss, created_time, s->created_time);
		sb.body_case = FEDNS__SIGNED_BODY__BODY_SNAPSHOT;
		sb.snapshot = &ss;
	}
	err = pack(&sb.base, out, len);
out:
	fedns_arena_fini(&a);
	return err;
}

/* ---- decode: protobuf-c structs -> C structs in the message's arena ---- */

typedef struct dec {
	fedns_arena *a;
	fedns_diag *d;
} dec;

#define NOMEM(x) fedns_diag_set((x)->d, FEDNS_ENOMEM, "out of memory (or over the memory cap)")

static fedns_err
take_text(dec *x, protobuf_c_boolean has, ProtobufCBinaryData v, const char **out, const char *path,
	  const char *field)
{
	size_t n = has ? v.len : 0;
	if (n > 0 && memchr(v.data, 0, n) != NULL)
		return fedns_diag_set(x->d, FEDNS_EMALFORMED, "%s.%s: contains a NUL byte", path,
				      field);
	char *s = fedns_arena_alloc(x->a, n + 1);
	if (s == NULL)
		return NOMEM(x);
	if (n > 0)
		memcpy(s, v.data, n);
	s[n] = '\0';
	*out = s;
	return FEDNS_OK;
}

static fedns_err
take_texts(dec *x, size_t n, const ProtobufCBinaryData *v, const char *const **out, size_t *nout,
	   const char *path, const char *field)
{
	const char **s = fedns_arena_alloc(x->a, (n ? n : 1) * sizeof(*s));
	if (s == NULL)
		return NOMEM(x);
	for (size_t i = 0; i < n; i++) {
		char f[48];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		fedns_err err = take_text(x, 1, v[i], &s[i], path, f);
		if (err != FEDNS_OK)
			return err;
	}
	*out = s;
	*nout = n;
	return FEDNS_OK;
}

static fedns_err
take_blob(dec *x, protobuf_c_boolean has, ProtobufCBinaryData v, fedns_proto_blob *out)
{
	out->len = has ? v.len : 0;
	out->data = NULL;
	if (out->len == 0)
		return FEDNS_OK;
	out->data = fedns_arena_memdup(x->a, v.data, v.len);
	return out->data != NULL ? FEDNS_OK : NOMEM(x);
}

static fedns_err
take_digest(dec *x, const Fedns__Digest *g, fedns_proto_digest *out, const char *path,
	    const char *field)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return FEDNS_OK;
	uint32_t alg = g->has_alg ? g->alg : 0;
	size_t n = g->has_value ? g->value.len : 0;
	if (alg > 255 || n > FEDNS_PROTO_DIGEST_MAX)
		return fedns_diag_set(x->d, FEDNS_EMALFORMED,
				      "%s.%s: algorithm %u with %zu bytes is not a zone digest",
				      path, field, alg, n);
	out->alg = (uint8_t)alg;
	out->len = (uint8_t)n;
	if (n > 0)
		memcpy(out->value, g->value.data, n);
	return FEDNS_OK;
}

static fedns_err
take_rrs(dec *x, size_t n, Fedns__RR *const *v, const fedns_rr **out, size_t *nout,
	 const char *path, const char *field)
{
	fedns_rr *rrs = fedns_arena_alloc(x->a, (n ? n : 1) * sizeof(*rrs));
	if (rrs == NULL)
		return NOMEM(x);
	for (size_t i = 0; i < n; i++) {
		const Fedns__RR *r = v[i];
		size_t olen = r->has_owner ? r->owner.len : 0;
		size_t rdlen = r->has_rdata ? r->rdata.len : 0;
		if (olen == 0 || fedns_name_check(r->owner.data, olen) != olen)
			return fedns_diag_set(
				x->d, FEDNS_EMALFORMED,
				"%s.%s[%zu].owner: %zu bytes are not one uncompressed "
				"wire name",
				path, field, i, olen);
		if ((r->has_type ? r->type : 0) > 65535 || (r->has_rclass ? r->rclass : 0) > 65535)
			return fedns_diag_set(x->d, FEDNS_EMALFORMED,
					      "%s.%s[%zu]: type %u or class %u is over 65535", path,
					      field, i, r->type, r->rclass);
		if (rdlen > FEDNS_RDATA_MAXLEN)
			return fedns_diag_set(x->d, FEDNS_EMALFORMED,
					      "%s.%s[%zu].rdata: %zu bytes, over 65535", path,
					      field, i, rdlen);
		rrs[i].owner = fedns_arena_memdup(x->a, r->owner.data, olen);
		rrs[i].type = r->has_type ? (uint16_t)r->type : 0;
		rrs[i].rclass = r->has_rclass ? (uint16_t)r->rclass : 0;
		rrs[i].ttl = r->has_ttl ? r->ttl : 0;
		rrs[i].rdlen = (uint16_t)rdlen;
		rrs[i].rdata = rdlen > 0 ? fedns_arena_memdup(x->a, r->rdata.data, rdlen)
					 : (const uint8_t *)"";
		if (rrs[i].owner == NULL || rrs[i].rdata == NULL)
			return NOMEM(x);
	}
	*out = rrs;
	*nout = n;
	return FEDNS_OK;
}

static fedns_err
take_hello(dec *x, const Fedns__Hello *h, fedns_proto_hello *o)
{
	const char *p = "hello";
	fedns_err err;
	if ((err = take_text(x, h->has_cluster, h->cluster, &o->cluster, p, "cluster")) != 0 ||
	    (err = take_text(x, h->has_software_version, h->software_version, &o->software_version,
			     p, "software_version")) != 0)
		return err;
	fedns_proto_blob *certs =
		fedns_arena_alloc(x->a, (h->n_cert_chain ? h->n_cert_chain : 1) * sizeof(*certs));
	fedns_proto_zone_state *zs =
		fedns_arena_alloc(x->a, (h->n_zones ? h->n_zones : 1) * sizeof(*zs));
	if (certs == NULL || zs == NULL)
		return NOMEM(x);
	for (size_t i = 0; i < h->n_cert_chain; i++)
		if ((err = take_blob(x, 1, h->cert_chain[i], &certs[i])) != 0)
			return err;
	for (size_t i = 0; i < h->n_zones; i++) {
		const Fedns__ZoneState *z = h->zones[i];
		char q[48];
		snprintf(q, sizeof(q), "hello.zones[%zu]", i);
		if ((err = take_text(x, z->has_zone, z->zone, &zs[i].zone, q, "zone")) != 0 ||
		    (err = take_digest(x, z->digest, &zs[i].digest, q, "digest")) != 0)
			return err;
		zs[i].serial = z->has_serial ? z->serial : 0;
	}
	o->certs = certs;
	o->ncerts = h->n_cert_chain;
	o->zones = zs;
	o->nzones = h->n_zones;
	return FEDNS_OK;
}

static fedns_err
take_status(dec *x, const Fedns__StatusReport *r, fedns_proto_status_report *o)
{
	fedns_proto_secondary_status *es =
		fedns_arena_alloc(x->a, (r->n_entries ? r->n_entries : 1) * sizeof(*es));
	if (es == NULL)
		return NOMEM(x);
	o->time = r->has_time ? r->time : 0;
	for (size_t i = 0; i < r->n_entries; i++) {
		const Fedns__SecondaryStatus *s = r->entries[i];
		fedns_proto_secondary_status *e = &es[i];
		char q[48];
		fedns_err err;
		snprintf(q, sizeof(q), "status_report.entries[%zu]", i);
		if ((err = take_text(x, s->has_zone, s->zone, &e->zone, q, "zone")) != 0 ||
		    (err = take_text(x, s->has_secondary, s->secondary, &e->secondary, q,
				     "secondary")) != 0 ||
		    (err = take_text(x, s->has_address, s->address, &e->address, q, "address")) !=
			    0 ||
		    (err = take_text(x, s->has_last_error, s->last_error, &e->last_error, q,
				     "last_error")) != 0 ||
		    (err = take_digest(x, s->digest, &e->digest, q, "digest")) != 0)
			return err;
		e->state = s->has_state ? (fedns_proto_secondary_state)s->state : 0;
		e->has_serial = s->has_serial;
		e->serial = s->has_serial ? s->serial : 0;
		e->last_proven = s->has_last_proven ? s->last_proven : 0;
		e->lag_ms = s->has_lag_ms ? s->lag_ms : 0;
		e->repairs = s->has_repairs ? s->repairs : 0;
	}
	o->entries = es;
	o->nentries = r->n_entries;
	return FEDNS_OK;
}

static fedns_err
take_msg(dec *x, const Fedns__Envelope *env, fedns_proto_msg *m)
{
	fedns_err err;
	switch (env->body_case) {
	case FEDNS__ENVELOPE__BODY_HELLO:
		m->type = FEDNS_PROTO_HELLO;
		return take_hello(x, env->hello, &m->u.hello);
	case FEDNS__ENVELOPE__BODY_CHALLENGE: {
		const Fedns__Challenge *c = env->challenge;
		size_t n = c->has_nonce ? c->nonce.len : 0;
		m->type = FEDNS_PROTO_CHALLENGE;
		if (n != FEDNS_PROTO_NONCE_LEN)
			return fedns_diag_set(x->d, FEDNS_EMALFORMED,
					      "challenge.nonce: %zu bytes, expected %d", n,
					      FEDNS_PROTO_NONCE_LEN);
		memcpy(m->u.challenge.nonce, c->nonce.data, n);
		m->u.challenge.hub_time = c->has_hub_time ? c->hub_time : 0;
		return FEDNS_OK;
	}
	case FEDNS__ENVELOPE__BODY_CHALLENGE_RESPONSE: {
		const Fedns__ChallengeResponse *r = env->challenge_response;
		m->type = FEDNS_PROTO_CHALLENGE_RESPONSE;
		m->u.challenge_response.alg = r->has_alg ? (fedns_proto_sig_alg)r->alg : 0;
		return take_blob(x, r->has_signature, r->signature,
				 &m->u.challenge_response.signature);
	}
	case FEDNS__ENVELOPE__BODY_SIGNED: {
		const Fedns__SignedBlob *s = env->signed_;
		fedns_proto_signed *o = &m->u.signed_blob;
		m->type = FEDNS_PROTO_SIGNED;
		o->alg = s->has_alg ? (fedns_proto_sig_alg)s->alg : 0;
		if ((err = take_blob(x, s->has_payload, s->payload, &o->payload)) != 0 ||
		    (err = take_blob(x, s->has_signature, s->signature, &o->signature)) != 0)
			return err;
		return take_text(x, s->has_key_id, s->key_id, &o->key_id, "signed", "key_id");
	}
	case FEDNS__ENVELOPE__BODY_ACK: {
		const Fedns__Ack *k = env->ack;
		fedns_proto_ack *o = &m->u.ack;
		m->type = FEDNS_PROTO_ACK;
		if ((err = take_text(x, k->has_zone, k->zone, &o->zone, "ack", "zone")) != 0 ||
		    (err = take_text(x, k->has_detail, k->detail, &o->detail, "ack", "detail")) !=
			    0 ||
		    (err = take_digest(x, k->digest, &o->digest, "ack", "digest")) != 0)
			return err;
		o->serial = k->has_serial ? k->serial : 0;
		o->status = k->has_status ? (fedns_proto_ack_status)k->status : 0;
		o->reason = k->has_reason ? (fedns_proto_reason)k->reason : 0;
		o->change_id = k->has_change_id ? k->change_id : 0;
		o->received_time = k->has_received_time ? k->received_time : 0;
		o->applied_time = k->has_applied_time ? k->applied_time : 0;
		o->verify_us = k->has_verify_us ? k->verify_us : 0;
		o->apply_us = k->has_apply_us ? k->apply_us : 0;
		return FEDNS_OK;
	}
	case FEDNS__ENVELOPE__BODY_STATUS_REPORT:
		m->type = FEDNS_PROTO_STATUS_REPORT;
		return take_status(x, env->status_report, &m->u.status_report);
	case FEDNS__ENVELOPE__BODY_PLACEMENT_UPDATE: {
		const Fedns__PlacementUpdate *p = env->placement_update;
		fedns_proto_placement *o = &m->u.placement;
		m->type = FEDNS_PROTO_PLACEMENT_UPDATE;
		o->generation = p->has_generation ? p->generation : 0;
		o->full = p->has_full && p->full;
		if ((err = take_texts(x, p->n_add, p->add, &o->add, &o->nadd, "placement_update",
				      "add")) != 0)
			return err;
		return take_texts(x, p->n_remove, p->remove, &o->remove, &o->nremove,
				  "placement_update", "remove");
	}
	case FEDNS__ENVELOPE__BODY_HEARTBEAT:
		m->type = FEDNS_PROTO_HEARTBEAT;
		m->u.heartbeat.time = env->heartbeat->has_time ? env->heartbeat->time : 0;
		m->u.heartbeat.sequence =
			env->heartbeat->has_sequence ? env->heartbeat->sequence : 0;
		return FEDNS_OK;
	default:
		break;
	}
	return fedns_diag_set(x->d, FEDNS_EMALFORMED, "envelope: no message body");
}

static fedns_err
take_changeset(dec *x, const Fedns__ChangeSet *c, fedns_proto_changeset *o, const char *p)
{
	fedns_err err;
	if ((err = take_text(x, c->has_zone, c->zone, &o->zone, p, "zone")) != 0 ||
	    (err = take_text(x, c->has_author, c->author, &o->author, p, "author")) != 0 ||
	    (err = take_texts(x, c->n_approvers, c->approvers, &o->approvers, &o->napprovers, p,
			      "approvers")) != 0 ||
	    (err = take_digest(x, c->digest, &o->digest, p, "digest")) != 0 ||
	    (err = take_rrs(x, c->n_deleted, c->deleted, &o->deleted, &o->ndeleted, p,
			    "deleted")) != 0 ||
	    (err = take_rrs(x, c->n_added, c->added, &o->added, &o->nadded, p, "added")) != 0)
		return err;
	o->from_serial = c->has_from_serial ? c->from_serial : 0;
	o->to_serial = c->has_to_serial ? c->to_serial : 0;
	o->change_id = c->has_change_id ? c->change_id : 0;
	o->commit_time = c->has_commit_time ? c->commit_time : 0;
	return FEDNS_OK;
}

static fedns_err
take_body(dec *x, const Fedns__SignedBody *sb, fedns_proto_body *b)
{
	fedns_err err;
	if (sb->body_case == FEDNS__SIGNED_BODY__BODY_CHANGE_SET) {
		b->kind = FEDNS_PROTO_BODY_CHANGESET;
		return take_changeset(x, sb->change_set, &b->u.changeset, "change_set");
	}
	if (sb->body_case == FEDNS__SIGNED_BODY__BODY_BATCH) {
		const Fedns__ChangeSetBatch *bt = sb->batch;
		fedns_proto_batch *o = &b->u.batch;
		b->kind = FEDNS_PROTO_BODY_BATCH;
		if (bt->n_change_sets == 0)
			return fedns_diag_set(x->d, FEDNS_EMALFORMED, "batch.change_sets: empty");
		fedns_proto_changeset *v = fedns_arena_alloc(x->a, bt->n_change_sets * sizeof(*v));
		if (v == NULL)
			return NOMEM(x);
		memset(v, 0, bt->n_change_sets * sizeof(*v));
		for (size_t i = 0; i < bt->n_change_sets; i++) {
			char p[48];
			snprintf(p, sizeof(p), "batch.change_sets[%zu]", i);
			if ((err = take_changeset(x, bt->change_sets[i], &v[i], p)) != 0)
				return err;
		}
		o->changesets = v;
		o->n = bt->n_change_sets;
		return FEDNS_OK;
	}
	if (sb->body_case == FEDNS__SIGNED_BODY__BODY_SNAPSHOT) {
		const Fedns__Snapshot *s = sb->snapshot;
		fedns_proto_snapshot *o = &b->u.snapshot;
		b->kind = FEDNS_PROTO_BODY_SNAPSHOT;
		if ((err = take_text(x, s->has_zone, s->zone, &o->zone, "snapshot", "zone")) != 0 ||
		    (err = take_digest(x, s->digest, &o->digest, "snapshot", "digest")) != 0 ||
		    (err = take_rrs(x, s->n_rrs, s->rrs, &o->rrs, &o->nrrs, "snapshot", "rrs")) !=
			    0)
			return err;
		o->serial = s->has_serial ? s->serial : 0;
		o->change_id = s->has_change_id ? s->change_id : 0;
		o->created_time = s->has_created_time ? s->created_time : 0;
		return FEDNS_OK;
	}
	return fedns_diag_set(x->d, FEDNS_EMALFORMED,
			      "payload: neither a change set, a batch nor a snapshot");
}

/* The shared frame of both decoders: caps, scan, budgeted unpack, then 'take' into a
 * zeroed object of 'size' bytes whose arena sits at 'arena_off'. */
typedef fedns_err (*take_fn)(dec *x, const ProtobufCMessage *pm, void *obj);

static fedns_err
take_env(dec *x, const ProtobufCMessage *pm, void *obj)
{
	const Fedns__Envelope *env = (const Fedns__Envelope *)pm;
	fedns_proto_msg *m = obj;
	if (!env->has_version)
		return fedns_diag_set(x->d, FEDNS_EMALFORMED, "envelope: version missing");
	if (env->version != FEDNS_PROTO_VERSION)
		return fedns_diag_set(x->d, FEDNS_ENOTSUP,
				      "envelope: protocol version %u is not supported (this side "
				      "speaks %d)",
				      env->version, FEDNS_PROTO_VERSION);
	m->version = env->version;
	return take_msg(x, env, m);
}

static fedns_err
take_sb(dec *x, const ProtobufCMessage *pm, void *obj)
{
	return take_body(x, (const Fedns__SignedBody *)pm, obj);
}

static fedns_err
decode_common(const ProtobufCMessageDescriptor *desc, const char *what, const uint8_t *buf,
	      size_t len, const fedns_proto_limits *lim, take_fn take, size_t size,
	      size_t arena_off, void **out, fedns_diag *d)
{
	if (out == NULL || (buf == NULL && len > 0))
		return fedns_diag_set(d, FEDNS_EINVAL, "%s: no input", what);
	*out = NULL;
	fedns_proto_limits l = limits_of(lim);
	if (len > l.max_msg)
		return fedns_diag_set(d, FEDNS_ETOOBIG, "%s: %zu bytes, the cap is %zu", what, len,
				      l.max_msg);
	static const uint8_t empty[1];
	if (buf == NULL)
		buf = empty;
	fedns_err err = scan_msg(desc, buf, len, 0, what, 0, &l, d);
	if (err != FEDNS_OK)
		return err;
	budget b = {0, l.max_mem, false};
	ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
	ProtobufCMessage *pm = protobuf_c_message_unpack(desc, &alloc, len, buf);
	if (pm == NULL) {
		if (b.over)
			return fedns_diag_set(d, FEDNS_ETOOBIG,
					      "%s: decoding needs more than %zu bytes of memory",
					      what, l.max_mem);
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "%s: %zu bytes are not a valid message (protobuf-c refused "
				      "them)",
				      what, len);
	}
	unsigned char *obj = calloc(1, size);
	if (obj == NULL) {
		protobuf_c_message_free_unpacked(pm, &alloc);
		return fedns_diag_set(d, FEDNS_ENOMEM, "%s: out of memory", what);
	}
	fedns_arena *arena = (fedns_arena *)(obj + arena_off);
	fedns_arena_init(arena, len < 4096 ? 4096 : (len < (1u << 20) ? len * 2 : 1u << 20),
			 b.used < l.max_mem ? l.max_mem - b.used : 1); /* 0 would mean no cap */
	dec x = {arena, d};
	err = take(&x, pm, obj);
	protobuf_c_message_free_unpacked(pm, &alloc);
	if (err == FEDNS_OK) {
		if (desc == &fedns__envelope__descriptor)
			err = fedns_proto_check((fedns_proto_msg *)obj, &l, d);
		else
			err = fedns_proto_body_check((fedns_proto_body *)obj, &l, d);
	}
	if (err != FEDNS_OK) {
		fedns_arena_fini(arena);
		free(obj);
		return err;
	}
	*out = obj;
	return FEDNS_OK;
}

fedns_err
fedns_proto_decode(const uint8_t *buf, size_t len, const fedns_proto_limits *lim,
		   fedns_proto_msg **out, fedns_diag *d)
{
	return decode_common(&fedns__envelope__descriptor, "envelope", buf, len, lim, take_env,
			     sizeof(fedns_proto_msg), offsetof(fedns_proto_msg, arena),
			     (void **)out, d);
}

void
fedns_proto_msg_free(fedns_proto_msg *m)
{
	if (m == NULL)
		return;
	fedns_arena_fini(&m->arena);
	free(m);
}

fedns_err
fedns_proto_body_decode(const uint8_t *buf, size_t len, const fedns_proto_limits *lim,
			fedns_proto_body **out, fedns_diag *d)
{
	return decode_common(&fedns__signed_body__descriptor, "payload", buf, len, lim, take_sb,
			     sizeof(fedns_proto_body), offsetof(fedns_proto_body, arena),
			     (void **)out, d);
}

void
fedns_proto_body_free(fedns_proto_body *b)
{
	if (b == NULL)
		return;
	fedns_arena_fini(&b->arena);
	free(b);
}

/* ---- equality ---- */

static bool
eq_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool
eq_blob(const fedns_proto_blob *a, const fedns_proto_blob *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool
eq_digest(const fedns_proto_digest *a, const fedns_proto_digest *b)
{
	return a->alg == b->alg && a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

static bool
eq_strs(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!eq_str(a[i], b[i]))
			return false;
	return true;
}

static bool
eq_rrs(const fedns_rr *a, size_t na, const fedns_rr *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t la = fedns_name_len(a[i].owner), lb = fedns_name_len(b[i].owner);
		if (la != lb || memcmp(a[i].owner, b[i].owner, la) != 0 || a[i].type != b[i].type ||
		    a[i].rclass != b[i].rclass || a[i].ttl != b[i].ttl ||
		    a[i].rdlen != b[i].rdlen ||
		    (a[i].rdlen > 0 && memcmp(a[i].rdata, b[i].rdata, a[i].rdlen) != 0))
			return false;
	}
	return true;
}

static bool
eq_hello(const fedns_proto_hello *a, const fedns_proto_hello *b)
{
	if (!eq_str(a->cluster, b->cluster) || !eq_str(a->software_version, b->software_version) ||
	    a->ncerts != b->ncerts || a->nzones != b->nzones)
		return false;
	for (size_t i = 0; i < a->ncerts; i++)
		if (!eq_blob(&a->certs[i], &b->certs[i]))
			return false;
	for (size_t i = 0; i < a->nzones; i++)
		if (!eq_str(a->zones[i].zone, b->zones[i].zone) ||
		    a->zones[i].serial != b->zones[i].serial ||
		    !eq_digest(&a->zones[i].digest, &b->zones[i].digest))
			return false;
	return true;
}

static bool
eq_status(const fedns_proto_status_report *a, const fedns_proto_status_report *b)
{
	if (a->time != b->time || a->nentries != b->nentries)
		return false;
	for (size_t i = 0; i < a->nentries; i++) {
		const fedns_proto_secondary_status *x = &a->entries[i], *y = &b->entries[i];
		if (!eq_str(x->zone, y->zone) || !eq_str(x->secondary, y->secondary) ||
		    !eq_str(x->address, y->address) || x->state != y->state ||
		    x->has_serial != y->has_serial || x->serial != y->serial ||
		    !eq_digest(&x->digest, &y->digest) || x->last_proven != y->last_proven ||
		    x->lag_ms != y->lag_ms || !eq_str(x->last_error, y->last_error) ||
		    x->repairs != y->repairs)
			return false;
	}
	return true;
}

bool
fedns_proto_msg_equal(const fedns_proto_msg *a, const fedns_proto_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case FEDNS_PROTO_HELLO:
		return eq_hello(&a->u.hello, &b->u.hello);
	case FEDNS_PROTO_CHALLENGE:
		return memcmp(a->u.challenge.nonce, b->u.challenge.nonce, FEDNS_PROTO_NONCE_LEN) ==
			       0 &&
		       a->u.challenge.hub_time == b->u.challenge.hub_time;
	case FEDNS_PROTO_CHALLENGE_RESPONSE:
		return a->u.challenge_response.alg == b->u.challenge_response.alg &&
		       eq_blob(&a->u.challenge_response.signature,
			       &b->u.challenge_response.signature);
	case FEDNS_PROTO_SIGNED: {
		const fedns_proto_signed *x = &a->u.signed_blob, *y = &b->u.signed_blob;
		return eq_blob(&x->payload, &y->payload) && eq_blob(&x->signature, &y->signature) &&
		       eq_str(x->key_id, y->key_id) && x->alg == y->alg;
	}
	case FEDNS_PROTO_ACK: {
		const fedns_proto_ack *x = &a->u.ack, *y = &b->u.ack;
		return eq_str(x->zone, y->zone) && x->serial == y->serial &&
		       eq_digest(&x->digest, &y->digest) && x->status == y->status &&
		       x->reason == y->reason && x->change_id == y->change_id &&
		       eq_str(x->detail, y->detail) && x->received_time == y->received_time &&
		       x->applied_time == y->applied_time && x->verify_us == y->verify_us &&
		       x->apply_us == y->apply_us;
	}
	case FEDNS_PROTO_STATUS_REPORT:
		return eq_status(&a->u.status_report, &b->u.status_report);
	case FEDNS_PROTO_PLACEMENT_UPDATE: {
		const fedns_proto_placement *x = &a->u.placement, *y = &b->u.placement;
		return x->generation == y->generation && x->full == y->full &&
		       eq_strs(x->add, x->nadd, y->add, y->nadd) &&
		       eq_strs(x->remove, x->nremove, y->remove, y->nremove);
	}
	case FEDNS_PROTO_HEARTBEAT:
		return a->u.heartbeat.time == b->u.heartbeat.time &&
		       a->u.heartbeat.sequence == b->u.heartbeat.sequence;
	}
	return false;
}

static bool
eq_changeset(const fedns_proto_changeset *x, const fedns_proto_changeset *y)
{
	return eq_str(x->zone, y->zone) && x->from_serial == y->from_serial &&
	       x->to_serial == y->to_serial &&
	       eq_rrs(x->deleted, x->ndeleted, y->deleted, y->ndeleted) &&
	       eq_rrs(x->added, x->nadded, y->added, y->nadded) &&
	       eq_digest(&x->digest, &y->digest) && x->change_id == y->change_id &&
	       x->commit_time == y->commit_time && eq_str(x->author, y->author) &&
	       eq_strs(x->approvers, x->napprovers, y->approvers, y->napprovers);
}

bool
fedns_proto_body_equal(const fedns_proto_body *a, const fedns_proto_body *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == FEDNS_PROTO_BODY_CHANGESET)
		return eq_changeset(&a->u.changeset, &b->u.changeset);
	if (a->kind == FEDNS_PROTO_BODY_BATCH) {
		if (a->u.batch.n != b->u.batch.n)
			return false;
		for (size_t i = 0; i < a->u.batch.n; i++)
			if (!eq_changeset(&a->u.batch.changesets[i], &b->u.batch.changesets[i]))
				return false;
		return true;
	}
	if (a->kind == FEDNS_PROTO_BODY_SNAPSHOT) {
		const fedns_proto_snapshot *x = &a->u.snapshot, *y = &b->u.snapshot;
		return eq_str(x->zone, y->zone) && x->serial == y->serial &&
		       eq_rrs(x->rrs, x->nrrs, y->rrs, y->nrrs) &&
		       eq_digest(&x->digest, &y->digest) && x->change_id == y->change_id &&
		       x->created_time == y->created_time;
	}
	return false;
}

/* ---- challenge ---- */

fedns_err
fedns_proto_challenge_tbs(const uint8_t nonce[FEDNS_PROTO_NONCE_LEN], uint64_t hub_time,
			  const char *cluster, uint8_t **out, size_t *len)
{
	if (nonce == NULL || cluster == NULL || cluster[0] == '\0' || out == NULL || len == NULL)
		return FEDNS_EINVAL;
	size_t clen = strlen(cluster);
	size_t ctx = sizeof(FEDNS_PROTO_CHALLENGE_CONTEXT); /* with its NUL as the separator */
	size_t n = ctx + FEDNS_PROTO_NONCE_LEN + 8 + clen;
	uint8_t *b = malloc(n);
	if (b == NULL)
		return FEDNS_ENOMEM;
	memcpy(b, FEDNS_PROTO_CHALLENGE_CONTEXT, ctx);
	memcpy(b + ctx, nonce, FEDNS_PROTO_NONCE_LEN);
	for (int i = 0; i < 8; i++)
		b[ctx + FEDNS_PROTO_NONCE_LEN + i] = (uint8_t)(hub_time >> (56 - 8 * i));
	memcpy(b + ctx + FEDNS_PROTO_NONCE_LEN + 8, cluster, clen);
	*out = b;
	*len = n;
	return FEDNS_OK;
}
