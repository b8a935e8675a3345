/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/hubsession's pure part: signed change sets and snapshots checked
 * and applied against a real zone set (and journal): continuity, replay, gap, digest
 * mismatch (nothing served, nothing journaled), not placed, unknown key, bad signature
 * before decoding, batches, placement generations, held digests, status row changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/diff.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "proto/msg.h"
#include "spoke/hubsession.h"
#include "spoke/journal.h"
#include "spoke/zoneset.h"
#include "tls/conn.h"
#include "tls/nngtls.h"
#include "tls/pki.h"
#include "tls/sign.h"
#include "tls/spokeauth.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";
static const uint8_t other[] = "\x07"
			       "example\x03"
			       "org";

/* A fresh directory under $TMPDIR (default /tmp). */
static void
tmpdir(char *out, size_t outsz, const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, outsz, "%s/%s-XXXXXX", t != NULL && t[0] != '\0' ? t : "/tmp", name);
	assert_non_null(mkdtemp(out));
}

static fedns_zone *
zone_at(const uint8_t *o, uint32_t serial, const char *www)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "$TTL 60\n@ SOA ns hm %u 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A %s\n", serial,
		 www);
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(o, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = o};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &opts, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

/* The digest of z with protocol algorithm alg (240: the tree, 1: ZONEMD SHA-384). */
static void
digest_alg(const fedns_zone *z, uint8_t alg, fedns_proto_digest *g)
{
	size_t len = 0;
	memset(g, 0, sizeof(*g));
	assert_int_equal(fedns_zone_digest(z, alg, g->value, &len), FEDNS_OK);
	g->alg = alg;
	g->len = (uint8_t)len;
}

/* What a hub signs: the tree digest (docs/protocol.md). */
static void
digest_of(const fedns_zone *z, fedns_proto_digest *g)
{
	digest_alg(z, FEDNS_ZDIGEST_ALG, g);
	assert_int_equal(g->len, FEDNS_ZDIGEST_LEN);
}

/* The hub's side: bodies encoded and signed with a key. */
typedef struct signer {
	fedns_sign_key *k;
	char id[FEDNS_SIGN_KEYID_LEN + 1];
	uint8_t *payload;
	size_t len;
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	fedns_proto_signed sb;
} signer;

static void
signer_init(signer *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(fedns_sign_generate(&s->k), FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(s->k, s->id), FEDNS_OK);
}

static void
signer_fini(signer *s)
{
	free(s->payload);
	fedns_sign_key_free(s->k);
}

/* Signs payload[0..len) (taken) into s->sb. */
static const fedns_proto_signed *
sign_bytes(signer *s, uint8_t *payload, size_t len)
{
	free(s->payload);
	s->payload = payload;
	s->len = len;
	assert_int_equal(fedns_sign_sign(s->k, payload, len, s->sig, NULL, 0, NULL), FEDNS_OK);
	s->sb = (fedns_proto_signed){.payload = {payload, len},
				     .signature = {s->sig, sizeof(s->sig)},
				     .key_id = s->id,
				     .alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256};
	return &s->sb;
}

static const fedns_proto_signed *
sign_body(signer *s, const fedns_proto_body *b)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(fedns_proto_body_encode(b, &buf, &len), FEDNS_OK);
	return sign_bytes(s, buf, len);
}

/* A change set from -> to with the digest of 'to' (or 'dg' when not NULL). The diff is
 * kept in *diff (the body points into it). */
static void
changeset(const fedns_zone *from, const fedns_zone *to, const char *zone,
	  const fedns_proto_digest *dg, fedns_diff *diff, fedns_proto_body *b)
{
	fedns_diff_init(diff);
	assert_int_equal(fedns_diff_compute(from, to, diff), FEDNS_OK);
	memset(b, 0, sizeof(*b));
	b->kind = FEDNS_PROTO_BODY_CHANGESET;
	fedns_proto_changeset *cs = &b->u.changeset;
	cs->zone = zone;
	cs->from_serial = fedns_zone_serial(from);
	cs->to_serial = fedns_zone_serial(to);
	cs->deleted = diff->del;
	cs->ndeleted = diff->ndel;
	cs->added = diff->add;
	cs->nadded = diff->nadd;
	if (dg != NULL)
		cs->digest = *dg;
	else
		digest_of(to, &cs->digest);
	cs->change_id = cs->to_serial * 10u;
	cs->author = "alice";
}

typedef struct rrlist {
	fedns_rr rr[64];
	size_t n;
} rrlist;

static int
collect(void *ctx, const fedns_rr *rr)
{
	rrlist *l = ctx;
	assert_true(l->n < 64);
	l->rr[l->n++] = *rr;
	return 0;
}

static void
snapshot(const fedns_zone *z, const char *zone, rrlist *l, fedns_proto_body *b)
{
	l->n = 0;
	fedns_zone_walk(z, collect, l);
	memset(b, 0, sizeof(*b));
	b->kind = FEDNS_PROTO_BODY_SNAPSHOT;
	b->u.snapshot.zone = zone;
	b->u.snapshot.serial = fedns_zone_serial(z);
	b->u.snapshot.rrs = l->rr;
	b->u.snapshot.nrrs = l->n;
	digest_of(z, &b->u.snapshot.digest);
}

/* Outcomes as the session would send them. */
typedef struct acks {
	spoke_blob_outcome o[8];
	size_t n;
} acks;

static void
emit(void *ctx, const spoke_blob_outcome *o)
{
	acks *a = ctx;
	assert_true(a->n < 8);
	a->o[a->n] = *o;
	/* the strings point into the outcome: re-point them at the copy */
	a->o[a->n].ack.zone = a->o[a->n].zone;
	a->o[a->n].ack.detail = a->o[a->n].detail;
	a->n++;
}

static const spoke_blob_outcome *
handle(spoke_hubstate *st, const fedns_proto_signed *sb, acks *a)
{
	a->n = 0;
	size_t n = spoke_hubstate_handle_signed(st, sb, 1234, emit, a);
	assert_int_equal(n, a->n);
	assert_true(n >= 1);
	/* every ack must be one the protocol accepts */
	for (size_t i = 0; i < n; i++) {
		fedns_proto_msg m = {.type = FEDNS_PROTO_ACK, .u.ack = a->o[i].ack};
		fedns_diag d;
		fedns_diag_clear(&d);
		assert_int_equal(fedns_proto_check(&m, NULL, &d), FEDNS_OK);
		assert_int_equal(a->o[i].ack.received_time, 1234);
	}
	return &a->o[0];
}

static uint32_t
served(spoke_zoneset *zs, const uint8_t *o)
{
	spoke_version *v = spoke_zoneset_get(zs, o);
	if (v == NULL)
		return 0;
	uint32_t s = v->serial;
	spoke_version_rele(v);
	return s;
}

static void
place(spoke_hubstate *st, bool first, uint64_t gen, const char *const *zones, size_t n)
{
	fedns_proto_placement p = {.generation = gen, .full = true, .add = zones, .nadd = n};
	bool applied = false;
	assert_int_equal(spoke_hubstate_placement(st, &p, first, &applied, NULL, NULL), FEDNS_OK);
	assert_true(applied);
}

typedef struct env {
	spoke_zoneset *zs;
	spoke_hubstate *st;
	signer hub;
	fedns_zone *v[6]; /* the hub's versions 1..5 (index = serial) */
} env;

static void
env_init(env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(spoke_zoneset_new(NULL, &e->zs), FEDNS_OK);
	assert_int_equal(spoke_hubstate_new(e->zs, &e->st), FEDNS_OK);
	signer_init(&e->hub);
	fedns_sign_key *pub = NULL;
	uint8_t spki[FEDNS_SIGN_SPKI_MAX];
	size_t sl = 0;
	assert_int_equal(fedns_sign_public_der(e->hub.k, spki, sizeof(spki), &sl), FEDNS_OK);
	assert_int_equal(fedns_sign_load_public_der(spki, sl, &pub), FEDNS_OK);
	assert_int_equal(spoke_hubstate_add_key(e->st, pub, NULL), FEDNS_OK);
	for (uint32_t s = 1; s <= 5; s++) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%u", 100 + s);
		e->v[s] = zone_at(origin, s, a);
	}
	static const char *const zones[] = {"example.com."};
	place(e->st, true, 1, zones, 1);
}

static void
env_fini(env *e)
{
	spoke_hubstate_free(e->st);
	spoke_zoneset_free(e->zs);
	signer_fini(&e->hub);
	for (int s = 1; s <= 5; s++)
		fedns_zone_free(e->v[s]);
}

static uint64_t
tree_builds(spoke_hubstate *st)
{
	spoke_hubstate_stats s;
	spoke_hubstate_get_stats(st, &s);
	return s.tree_builds;
}

/* Asserts that ack digest g is the tree root of what the spoke serves of origin. */
static void
assert_root_of_served(spoke_zoneset *zs, const fedns_proto_digest *g)
{
	spoke_version *v = spoke_zoneset_get(zs, origin);
	assert_non_null(v);
	uint8_t root[FEDNS_ZDIGEST_LEN];
	assert_int_equal(fedns_zdigest_compute(v->zone, root), FEDNS_OK);
	spoke_version_rele(v);
	assert_int_equal(g->alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(g->len, FEDNS_ZDIGEST_LEN);
	assert_memory_equal(g->value, root, FEDNS_ZDIGEST_LEN);
}

/* Snapshot of v[1], then changes in order; retransmission, replay and gap refused. */
static void
test_continuity(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	fedns_diff diff;

	snapshot(e.v[1], "example.com.", &l, &b);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(o->ack.serial, 1);
	assert_int_equal(o->ack.change_id, 0);
	assert_memory_equal(o->ack.digest.value, b.u.snapshot.digest.value, FEDNS_ZDIGEST_LEN);
	assert_int_equal(served(e.zs, origin), 1);

	/* 1 -> 2 applies and acks the digest of the result */
	changeset(e.v[1], e.v[2], "example.com.", NULL, &diff, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_NONE);
	assert_int_equal(o->ack.serial, 2);
	assert_int_equal(o->ack.change_id, 20);
	assert_int_equal(o->ack.digest.alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(o->ack.digest.len, FEDNS_ZDIGEST_LEN);
	assert_memory_equal(o->ack.digest.value, b.u.changeset.digest.value, FEDNS_ZDIGEST_LEN);
	assert_string_equal(o->ack.zone, "example.com.");
	assert_int_equal(served(e.zs, origin), 2);

	/* the same change again (a lost ack): already applied, never twice */
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_NONE);
	assert_int_equal(o->ack.serial, 2);
	assert_int_equal(served(e.zs, origin), 2);
	fedns_diff_fini(&diff);

	changeset(e.v[2], e.v[3], "example.com.", NULL, &diff, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	fedns_diff_fini(&diff);
	assert_int_equal(served(e.zs, origin), 3);

	/* 1 -> 2 now is a replay */
	changeset(e.v[1], e.v[2], "example.com.", NULL, &diff, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_REFUSED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_REPLAY);
	assert_int_equal(o->ack.serial, 3); /* what the spoke holds */
	assert_true(o->held);
	assert_int_equal(o->held_serial, 3);
	assert_non_null(strstr(o->ack.detail, "older than the held serial 3"));
	fedns_diff_fini(&diff);

	/* 4 -> 5 skips 3 -> 4: a gap */
	changeset(e.v[4], e.v[5], "example.com.", NULL, &diff, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_GAP);
	assert_int_equal(o->ack.serial, 3);
	assert_non_null(strstr(o->ack.detail, "from serial 4, but the spoke holds 3"));
	fedns_diff_fini(&diff);
	assert_int_equal(served(e.zs, origin), 3);

	spoke_hubstate_stats st;
	spoke_hubstate_get_stats(e.st, &st);
	assert_int_equal(st.applied_changesets, 2);
	assert_int_equal(st.applied_snapshots, 1);
	assert_int_equal(st.already_applied, 1);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_REPLAY], 1);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_GAP], 1);
	env_fini(&e);
}

/* A change whose result does not hash to the signed digest: refused, the previous version
 * stays served, and nothing reaches the durable journal. */
static void
test_digest_mismatch(void **state)
{
	(void)state;
	char dir[256];
	tmpdir(dir, sizeof(dir), "fedns-hubsession");
	spoke_journal_opts jo = {.dir = dir};
	spoke_journal *j = NULL;
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	assert_int_equal(spoke_journal_open(&jo, &j, NULL), FEDNS_OK);
	assert_int_equal(spoke_journal_load(j, zs, NULL, NULL, NULL), FEDNS_OK);
	spoke_journal_attach(j, zs);
	spoke_hubstate *st = NULL;
	assert_int_equal(spoke_hubstate_new(zs, &st), FEDNS_OK);
	signer hub;
	signer_init(&hub);
	uint8_t pem[FEDNS_SIGN_PEM_MAX];
	assert_int_equal(fedns_sign_public_pem(hub.k, (char *)pem, sizeof(pem)), FEDNS_OK);
	char kf[300];
	snprintf(kf, sizeof(kf), "%s/hub.pub", dir);
	FILE *f = fopen(kf, "w");
	assert_non_null(f);
	fputs((char *)pem, f);
	fclose(f);
	char id[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(spoke_hubstate_add_key_file(st, kf, id, NULL), FEDNS_OK);
	assert_string_equal(id, hub.id);
	/* the same key twice is refused */
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_hubstate_add_key_file(st, kf, NULL, &d), FEDNS_EEXIST);
	assert_non_null(strstr(d.msg, "pinned twice"));
	static const char *const zones[] = {"example.com."};
	place(st, true, 1, zones, 1);

	fedns_zone *v1 = zone_at(origin, 1, "192.0.2.1"), *v2 = zone_at(origin, 2, "192.0.2.2");
	fedns_zone *bogus = zone_at(origin, 2, "192.0.2.66");
	acks a;
	rrlist l;
	fedns_proto_body b;
	fedns_diff diff;
	snapshot(v1, "example.com.", &l, &b);
	assert_int_equal(handle(st, sign_body(&hub, &b), &a)->ack.status, FEDNS_PROTO_ACK_APPLIED);

	fedns_proto_digest wrong;
	digest_of(bogus, &wrong);
	changeset(v1, v2, "example.com.", &wrong, &diff, &b);
	const spoke_blob_outcome *o = handle(st, sign_body(&hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_REFUSED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(o->ack.serial, 1);
	assert_non_null(strstr(o->ack.detail, "previous version stays served"));
	assert_int_equal(served(zs, origin), 1);

	/* the right digest for the same change applies afterwards */
	fedns_diff_fini(&diff);
	changeset(v1, v2, "example.com.", NULL, &diff, &b);
	assert_int_equal(handle(st, sign_body(&hub, &b), &a)->ack.status, FEDNS_PROTO_ACK_APPLIED);
	fedns_diff_fini(&diff);
	assert_int_equal(served(zs, origin), 2);

	/* a snapshot with a wrong digest is refused too, the old copy kept */
	fedns_zone *v3 = zone_at(origin, 3, "192.0.2.3");
	snapshot(v3, "example.com.", &l, &b);
	b.u.snapshot.digest = wrong;
	o = handle(st, sign_body(&hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(zs, origin), 2);

	/* a batch 2 -> 3 (good), 3 -> 4 (wrong digest): 3 is served and journaled once */
	fedns_zone *v4 = zone_at(origin, 4, "192.0.2.4");
	fedns_diff da, db;
	fedns_proto_body ba, bb;
	changeset(v2, v3, "example.com.", NULL, &da, &ba);
	changeset(v3, v4, "example.com.", &wrong, &db, &bb);
	fedns_proto_changeset two[2] = {ba.u.changeset, bb.u.changeset};
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_BATCH;
	b.u.batch.changesets = two;
	b.u.batch.n = 2;
	handle(st, sign_body(&hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[1].ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(zs, origin), 3);
	fedns_diff_fini(&da);
	fedns_diff_fini(&db);
	fedns_zone_free(v4);

	/* what the journal holds: serial 3, and the digest the spoke acked */
	spoke_hubstate_free(st);
	spoke_zoneset_free(zs);
	spoke_journal_close(j);
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	assert_int_equal(spoke_journal_open(&jo, &j, NULL), FEDNS_OK);
	size_t loaded = 0;
	assert_int_equal(spoke_journal_load(j, zs, &loaded, NULL, NULL), FEDNS_OK);
	assert_int_equal(loaded, 1);
	assert_int_equal(served(zs, origin), 3);
	assert_int_equal(spoke_hubstate_new(zs, &st), FEDNS_OK);
	fedns_proto_zone_state *held = NULL;
	size_t n = spoke_hubstate_held(st, &held);
	assert_int_equal(n, 1);
	assert_string_equal(held[0].zone, "example.com.");
	assert_int_equal(held[0].serial, 3);
	fedns_proto_digest d3;
	digest_of(v3, &d3);
	assert_int_equal(held[0].digest.alg, FEDNS_ZDIGEST_ALG);
	assert_int_equal(held[0].digest.len, FEDNS_ZDIGEST_LEN);
	assert_memory_equal(held[0].digest.value, d3.value, FEDNS_ZDIGEST_LEN);
	spoke_hubstate_held_free(held, n);
	/* computed once (the tree of the restored version), then kept */
	uint8_t cached[FEDNS_ZONEMD_MAXLEN];
	size_t cl = 0;
	assert_true(spoke_hubstate_cached_digest(st, origin, 3, FEDNS_ZDIGEST_ALG, cached, &cl));
	assert_int_equal(cl, FEDNS_ZDIGEST_LEN);
	assert_memory_equal(cached, d3.value, FEDNS_ZDIGEST_LEN);
	assert_false(spoke_hubstate_cached_digest(st, origin, 2, FEDNS_ZDIGEST_ALG, cached, &cl));
	assert_false(spoke_hubstate_cached_digest(st, origin, 3, FEDNS_ZONEMD_SHA384, cached, &cl));
	spoke_hubstate_stats hst;
	spoke_hubstate_get_stats(st, &hst);
	assert_int_equal(hst.tree_builds, 1);
	n = spoke_hubstate_held(st, &held);
	assert_int_equal(n, 1);
	spoke_hubstate_held_free(held, n);
	spoke_hubstate_get_stats(st, &hst);
	assert_int_equal(hst.tree_builds, 1);

	spoke_hubstate_free(st);
	spoke_zoneset_free(zs);
	spoke_journal_close(j);
	fedns_zone_free(v1);
	fedns_zone_free(v2);
	fedns_zone_free(v3);
	fedns_zone_free(bogus);
	signer_fini(&hub);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Signature first: an unknown key id and a bad signature are refused before a byte of
 * the payload is decoded (garbage payload still reads bad_signature, not malformed). */
static void
test_signature_first(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	snapshot(e.v[1], "example.com.", &l, &b);

	signer stranger;
	signer_init(&stranger);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&stranger, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_REFUSED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_UNKNOWN_KEY);
	assert_string_equal(o->ack.zone, ".");
	assert_int_equal(o->kind, 0);
	assert_non_null(strstr(o->ack.detail, stranger.id));

	/* the stranger's signature under the pinned key's id */
	fedns_proto_signed forged = stranger.sb;
	forged.key_id = e.hub.id;
	o = handle(e.st, &forged, &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_BAD_SIGNATURE);
	assert_int_equal(o->kind, 0);

	/* a good signature, then one payload byte changed */
	sign_body(&e.hub, &b);
	e.hub.payload[e.hub.len / 2] ^= 1;
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_BAD_SIGNATURE);

	/* garbage under a bad signature: still bad_signature (never parsed) */
	uint8_t *junk = malloc(16);
	memset(junk, 0xff, 16);
	sign_bytes(&e.hub, junk, 16);
	e.hub.sig[3] ^= 0x80;
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_BAD_SIGNATURE);
	/* the same garbage correctly signed is malformed */
	junk = malloc(16);
	memset(junk, 0xff, 16);
	o = handle(e.st, sign_bytes(&e.hub, junk, 16), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_MALFORMED);
	assert_non_null(strstr(o->ack.detail, "signed payload"));

	/* another algorithm */
	sign_body(&e.hub, &b);
	e.hub.sb.alg = FEDNS_PROTO_SIG_NONE;
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_BAD_SIGNATURE);
	assert_int_equal(served(e.zs, origin), 0);

	spoke_hubstate_stats st;
	spoke_hubstate_get_stats(e.st, &st);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_UNKNOWN_KEY], 1);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_BAD_SIGNATURE], 4);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_MALFORMED], 1);
	signer_fini(&stranger);
	env_fini(&e);
}

/* Only placed zones: a snapshot or change for another zone is refused, and a placement
 * that drops a zone stops serving it; generations order deltas. */
static void
test_placement(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	fedns_zone *o1 = zone_at(other, 1, "192.0.2.9");
	snapshot(o1, "example.org.", &l, &b);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_NOT_PLACED);
	assert_string_equal(o->ack.zone, "example.org.");
	assert_int_equal(served(e.zs, other), 0);

	/* a change set for a placed zone not held yet needs a snapshot: gap */
	fedns_diff diff;
	changeset(e.v[1], e.v[2], "example.com.", NULL, &diff, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_GAP);
	assert_int_equal(o->ack.serial, 0);
	assert_int_equal(o->ack.digest.alg, 0);

	/* place both, hold both */
	static const char *const both[] = {"example.com.", "EXAMPLE.org."};
	place(e.st, false, 2, both, 2);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.reason,
			 FEDNS_PROTO_REASON_GAP);
	fedns_diff_fini(&diff);
	snapshot(o1, "example.org.", &l, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	snapshot(e.v[1], "example.com.", &l, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	assert_true(spoke_hubstate_is_placed(e.st, other));

	/* an older generation is ignored */
	static const char *const gone[] = {"example.org."};
	fedns_proto_placement p = {.generation = 2, .remove = gone, .nremove = 1};
	bool applied = true;
	size_t removed = 9;
	assert_int_equal(spoke_hubstate_placement(e.st, &p, false, &applied, &removed, NULL),
			 FEDNS_OK);
	assert_false(applied);
	assert_int_equal(removed, 0);
	assert_int_equal(served(e.zs, other), 1);
	/* a newer one removes the zone and stops serving it */
	p.generation = 3;
	assert_int_equal(spoke_hubstate_placement(e.st, &p, false, &applied, &removed, NULL),
			 FEDNS_OK);
	assert_true(applied);
	assert_int_equal(removed, 1);
	assert_int_equal(served(e.zs, other), 0);
	assert_int_equal(served(e.zs, origin), 1);
	assert_false(spoke_hubstate_is_placed(e.st, other));

	/* the first update of a session must be full; any generation is accepted then */
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_hubstate_placement(e.st, &p, true, &applied, NULL, &d),
			 FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "must be full"));
	static const char *const none[] = {"bad..name."};
	fedns_proto_placement bad = {.generation = 9, .full = true, .add = none, .nadd = 1};
	fedns_diag_clear(&d);
	assert_int_equal(spoke_hubstate_placement(e.st, &bad, false, &applied, NULL, &d),
			 FEDNS_EMALFORMED);
	assert_int_equal(served(e.zs, origin), 1); /* nothing changed */
	fedns_proto_placement empty = {.generation = 1, .full = true};
	assert_int_equal(spoke_hubstate_placement(e.st, &empty, true, &applied, &removed, NULL),
			 FEDNS_OK);
	assert_true(applied);
	assert_int_equal(removed, 1);
	assert_int_equal(served(e.zs, origin), 0);
	fedns_zone_free(o1);
	env_fini(&e);
}

/* Snapshots: an older one is a replay, the same one already applied, one at the same
 * serial with other bytes replaces the copy, a newer one replaces it forward. */
static void
test_snapshot_rules(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	snapshot(e.v[3], "example.com.", &l, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(handle(e.st, &e.hub.sb, &a)->ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	snapshot(e.v[2], "example.com.", &l, &b);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_REPLAY);
	assert_int_equal(o->ack.serial, 3);

	/* the hub's serial 3 differs from ours: its snapshot wins */
	fedns_zone *alt3 = zone_at(origin, 3, "198.51.100.3");
	snapshot(alt3, "example.com.", &l, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_memory_equal(o->ack.digest.value, b.u.snapshot.digest.value, FEDNS_ZDIGEST_LEN);
	spoke_version *v = spoke_zoneset_get(e.zs, origin);
	assert_non_null(v);
	fedns_proto_digest dg;
	digest_of(v->zone, &dg);
	assert_memory_equal(dg.value, b.u.snapshot.digest.value, FEDNS_ZDIGEST_LEN);
	spoke_version_rele(v);

	/* a snapshot whose SOA disagrees with its serial field */
	snapshot(e.v[5], "example.com.", &l, &b);
	b.u.snapshot.serial = 4;
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_MALFORMED);
	snapshot(e.v[5], "example.com.", &l, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 5);
	fedns_zone_free(alt3);
	env_fini(&e);
}

/* A change set that does not fit the held zone, or has the wrong shape. */
static void
test_apply_failed(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	fedns_diff diff;
	snapshot(e.v[1], "example.com.", &l, &b);
	handle(e.st, sign_body(&e.hub, &b), &a);

	/* deletes a record the zone does not have: 2 -> 3 presented as from 1 */
	changeset(e.v[2], e.v[3], "example.com.", NULL, &diff, &b);
	b.u.changeset.from_serial = 1;
	fedns_rr soa = diff.del[0];
	uint8_t rd[512];
	memcpy(rd, soa.rdata, soa.rdlen);
	fedns_soa_set_serial(rd, soa.rdlen, 1);
	soa.rdata = rd;
	fedns_rr dels[8];
	assert_true(diff.ndel <= 8);
	memcpy(dels, diff.del, diff.ndel * sizeof(*dels));
	dels[0] = soa;
	b.u.changeset.deleted = dels;
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_APPLY_FAILED);
	assert_int_equal(o->ack.serial, 1);
	assert_int_equal(served(e.zs, origin), 1);

	/* the change set says 1 -> 4 but its new SOA has serial 3 */
	b.u.changeset.to_serial = 4;
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_MALFORMED);
	assert_non_null(strstr(o->ack.detail, "do not match"));
	fedns_diff_fini(&diff);
	assert_int_equal(served(e.zs, origin), 1);
	env_fini(&e);
}

/* A batch: elements applied and acked one by one; a refused element ends it. */
static void
test_batch(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b, b12, b23, b34;
	fedns_diff d12, d23, d34;
	snapshot(e.v[1], "example.com.", &l, &b);
	handle(e.st, sign_body(&e.hub, &b), &a);
	changeset(e.v[1], e.v[2], "example.com.", NULL, &d12, &b12);
	changeset(e.v[2], e.v[3], "example.com.", NULL, &d23, &b23);
	fedns_proto_changeset cs[3] = {b12.u.changeset, b23.u.changeset};
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_BATCH;
	b.u.batch.changesets = cs;
	b.u.batch.n = 2;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[0].ack.serial, 2);
	assert_true(a.o[0].ack.verify_us > 0);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[1].ack.serial, 3);
	assert_int_equal(a.o[1].ack.verify_us, 0);
	/* each element acked with its own version's digest */
	assert_int_equal(a.o[0].ack.digest.alg, FEDNS_ZDIGEST_ALG);
	assert_memory_equal(a.o[0].ack.digest.value, b12.u.changeset.digest.value,
			    FEDNS_ZDIGEST_LEN);
	assert_memory_equal(a.o[1].ack.digest.value, b23.u.changeset.digest.value,
			    FEDNS_ZDIGEST_LEN);
	assert_int_equal(a.o[1].ack.change_id, 30);
	assert_int_equal(served(e.zs, origin), 3);
	uint8_t cached[FEDNS_ZONEMD_MAXLEN];
	size_t cl = 0;
	assert_true(spoke_hubstate_cached_digest(e.st, origin, 3, FEDNS_ZDIGEST_ALG, cached, &cl));
	assert_memory_equal(cached, b23.u.changeset.digest.value, FEDNS_ZDIGEST_LEN);

	/* resent after lost acks with a third element whose digest is wrong: the two held
	 * ones are already applied (a retransmission, not a replay), the third refused */
	changeset(e.v[3], e.v[4], "example.com.", NULL, &d34, &b34);
	cs[2] = b34.u.changeset;
	cs[2].digest = b12.u.changeset.digest;
	b.u.batch.n = 3;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	assert_int_equal(a.o[1].ack.serial, 3);
	assert_int_equal(a.o[2].ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(e.zs, origin), 3);
	/* the whole batch again, all held: all already applied */
	b.u.batch.n = 2;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	/* only the first element alone (1 -> 2) is a replay */
	b.u.batch.n = 1;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.o[0].ack.reason, FEDNS_PROTO_REASON_REPLAY);

	/* a refusal in the middle ends the batch: 3->4 (bad) then 4->5 never looked at */
	fedns_diff d45;
	fedns_proto_body b45;
	changeset(e.v[4], e.v[5], "example.com.", NULL, &d45, &b45);
	fedns_proto_changeset cs2[2] = {cs[2], b45.u.changeset};
	b.u.batch.changesets = cs2;
	b.u.batch.n = 2;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.o[0].ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(e.zs, origin), 3);
	/* a good element then a bad one: the good one is served and acked, the bad one
	 * refused */
	fedns_proto_changeset cs3[2] = {b34.u.changeset, b45.u.changeset};
	cs3[1].digest = b12.u.changeset.digest;
	b.u.batch.changesets = cs3;
	b.u.batch.n = 2;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[0].ack.serial, 4);
	assert_int_equal(a.o[1].ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(a.o[1].ack.serial, 4); /* what is held after the batch */
	assert_root_of_served(e.zs, &a.o[1].ack.digest);
	assert_int_equal(served(e.zs, origin), 4);
	/* a one-element batch whose digest is wrong changes nothing */
	b.u.batch.changesets = cs2;
	b.u.batch.n = 1;
	cs2[0] = b45.u.changeset;
	cs2[0].digest = b12.u.changeset.digest;
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.o[0].ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(e.zs, origin), 4);
	spoke_hubstate_stats st;
	spoke_hubstate_get_stats(e.st, &st);
	assert_int_equal(st.applied_changesets, 3);
	fedns_diff_fini(&d12);
	fedns_diff_fini(&d23);
	fedns_diff_fini(&d34);
	fedns_diff_fini(&d45);
	env_fini(&e);
}

/* ---- the tree digest (alg 240) ---- */

static void
batch_of(fedns_proto_changeset *cs, size_t n, fedns_proto_body *b)
{
	memset(b, 0, sizeof(*b));
	b->kind = FEDNS_PROTO_BODY_BATCH;
	b->u.batch.changesets = cs;
	b->u.batch.n = n;
}

/* A chain of change sets, alone and in a batch, checked against the tree digest: after the
 * snapshot's tree no whole-zone digest is computed again, a wrong digest is refused with
 * the tree put back (the next correct change needs no rebuild), and hello and acks carry
 * the root of the held version. */
static void
test_tree_chain(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b, b12, b23, b34, b45;
	fedns_diff d12, d23, d34, d45;

	snapshot(e.v[1], "example.com.", &l, &b);
	assert_int_equal(b.u.snapshot.digest.alg, FEDNS_ZDIGEST_ALG);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), 1);

	changeset(e.v[1], e.v[2], "example.com.", NULL, &d12, &b12);
	o = handle(e.st, sign_body(&e.hub, &b12), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 2);
	assert_root_of_served(e.zs, &o->ack.digest);

	/* 2 -> 3 announcing the digest of another version 3: refused, 2 still served */
	fedns_zone *bogus = zone_at(origin, 3, "192.0.2.66");
	fedns_proto_digest wrong;
	digest_of(bogus, &wrong);
	changeset(e.v[2], e.v[3], "example.com.", &wrong, &d23, &b23);
	o = handle(e.st, sign_body(&e.hub, &b23), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_REFUSED);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_non_null(strstr(o->ack.detail, "previous version stays served"));
	assert_int_equal(o->ack.serial, 2);
	assert_int_equal(served(e.zs, origin), 2);
	assert_root_of_served(e.zs, &o->ack.digest);
	/* the kept tree was asked again from scratch before refusing: one build */
	assert_int_equal(tree_builds(e.st), 2);
	fedns_diff_fini(&d23);

	/* the right 2 -> 3 then applies from the restored tree, without a rebuild */
	changeset(e.v[2], e.v[3], "example.com.", NULL, &d23, &b23);
	o = handle(e.st, sign_body(&e.hub, &b23), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 3);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), 2);

	/* a batch 3 -> 4 -> 5: the tree follows through both elements */
	changeset(e.v[3], e.v[4], "example.com.", NULL, &d34, &b34);
	changeset(e.v[4], e.v[5], "example.com.", NULL, &d45, &b45);
	fedns_proto_changeset two[2] = {b34.u.changeset, b45.u.changeset};
	batch_of(two, 2, &b);
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_memory_equal(a.o[0].ack.digest.value, two[0].digest.value, FEDNS_ZDIGEST_LEN);
	assert_int_equal(served(e.zs, origin), 5);
	assert_root_of_served(e.zs, &a.o[1].ack.digest);
	assert_int_equal(tree_builds(e.st), 2);

	/* the same batch again: already applied, judged by the kept root */
	handle(e.st, &e.hub.sb, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	assert_root_of_served(e.zs, &a.o[1].ack.digest);

	/* hello: the root of the held version, from the kept tree */
	fedns_proto_zone_state *held = NULL;
	size_t n = spoke_hubstate_held(e.st, &held);
	assert_int_equal(n, 1);
	assert_int_equal(held[0].serial, 5);
	assert_root_of_served(e.zs, &held[0].digest);
	spoke_hubstate_held_free(held, n);
	assert_int_equal(tree_builds(e.st), 2);

	spoke_hubstate_stats st;
	spoke_hubstate_get_stats(e.st, &st);
	assert_int_equal(st.applied_changesets, 4);
	assert_int_equal(st.refused[FEDNS_PROTO_REASON_DIGEST_MISMATCH], 1);
	fedns_diff_fini(&d12);
	fedns_diff_fini(&d23);
	fedns_diff_fini(&d34);
	fedns_diff_fini(&d45);
	fedns_zone_free(bogus);
	env_fini(&e);
}

/* Versions an older hub committed carry ZONEMD SIMPLE SHA-384: still checked and
 * acknowledged with it, while hello reports the tree root; the tree follows those changes
 * too, so a later tree-signed change needs no rebuild. */
static void
test_zonemd_compat(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b, b12, b23, b34, b45;
	fedns_diff d12, d23, d34, d45;

	snapshot(e.v[1], "example.com.", &l, &b);
	digest_alg(e.v[1], FEDNS_ZONEMD_SHA384, &b.u.snapshot.digest);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(o->ack.digest.alg, FEDNS_ZONEMD_SHA384);
	assert_int_equal(o->ack.digest.len, 48);
	assert_memory_equal(o->ack.digest.value, b.u.snapshot.digest.value, 48);
	assert_int_equal(tree_builds(e.st), 0);

	changeset(e.v[1], e.v[2], "example.com.", NULL, &d12, &b12);
	digest_alg(e.v[2], FEDNS_ZONEMD_SHA384, &b12.u.changeset.digest);
	o = handle(e.st, sign_body(&e.hub, &b12), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(o->ack.digest.alg, FEDNS_ZONEMD_SHA384);
	assert_memory_equal(o->ack.digest.value, b12.u.changeset.digest.value, 48);
	uint8_t cached[FEDNS_ZONEMD_MAXLEN];
	size_t cl = 0;
	assert_true(
		spoke_hubstate_cached_digest(e.st, origin, 2, FEDNS_ZONEMD_SHA384, cached, &cl));
	assert_int_equal(cl, 48);
	assert_memory_equal(cached, b12.u.changeset.digest.value, 48);
	/* the same again: already applied, checked with SHA-384; the ack says what is held
	 * with the tree root */
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_ALREADY_APPLIED);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), 1);

	/* a wrong SHA-384 digest is refused */
	changeset(e.v[2], e.v[3], "example.com.", NULL, &d23, &b23);
	digest_alg(e.v[2], FEDNS_ZONEMD_SHA384, &b23.u.changeset.digest);
	o = handle(e.st, sign_body(&e.hub, &b23), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(e.zs, origin), 2);
	assert_root_of_served(e.zs, &o->ack.digest);
	/* the right one applies; the kept tree followed it */
	digest_alg(e.v[3], FEDNS_ZONEMD_SHA384, &b23.u.changeset.digest);
	o = handle(e.st, sign_body(&e.hub, &b23), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(o->ack.digest.alg, FEDNS_ZONEMD_SHA384);
	fedns_proto_zone_state *held = NULL;
	size_t n = spoke_hubstate_held(e.st, &held);
	assert_int_equal(n, 1);
	assert_int_equal(held[0].serial, 3);
	assert_root_of_served(e.zs, &held[0].digest);
	spoke_hubstate_held_free(held, n);
	assert_int_equal(tree_builds(e.st), 1);

	/* a batch mixing both: 3 -> 4 with SHA-384, 4 -> 5 with the tree */
	changeset(e.v[3], e.v[4], "example.com.", NULL, &d34, &b34);
	digest_alg(e.v[4], FEDNS_ZONEMD_SHA384, &b34.u.changeset.digest);
	changeset(e.v[4], e.v[5], "example.com.", NULL, &d45, &b45);
	fedns_proto_changeset two[2] = {b34.u.changeset, b45.u.changeset};
	batch_of(two, 2, &b);
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[0].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(a.o[0].ack.digest.alg, FEDNS_ZONEMD_SHA384);
	assert_memory_equal(a.o[0].ack.digest.value, two[0].digest.value, 48);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_root_of_served(e.zs, &a.o[1].ack.digest);
	assert_int_equal(served(e.zs, origin), 5);
	assert_int_equal(tree_builds(e.st), 1);

	fedns_diff_fini(&d12);
	fedns_diff_fini(&d23);
	fedns_diff_fini(&d34);
	fedns_diff_fini(&d45);
	env_fini(&e);
}

/* Snapshots with the tree digest: a wrong one refused, a right one kept as the zone's
 * tree; the same serial with other content replaces the zone and its tree, so the next
 * change is checked against the new content. */
static void
test_tree_snapshot(void **state)
{
	(void)state;
	env e;
	env_init(&e);
	acks a;
	rrlist l;
	fedns_proto_body b;
	fedns_diff diff;

	snapshot(e.v[2], "example.com.", &l, &b);
	fedns_proto_digest right = b.u.snapshot.digest;
	digest_of(e.v[1], &b.u.snapshot.digest);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_DIGEST_MISMATCH);
	assert_int_equal(served(e.zs, origin), 0);
	b.u.snapshot.digest = right;
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_root_of_served(e.zs, &o->ack.digest);
	uint64_t builds = tree_builds(e.st);

	/* the hub's serial 2 has other content: its snapshot replaces the spoke's copy */
	fedns_zone *other2 = zone_at(origin, 2, "192.0.2.222");
	snapshot(other2, "example.com.", &l, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), builds + 1);
	/* and the next change continues that content from its kept tree */
	changeset(other2, e.v[3], "example.com.", NULL, &diff, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 3);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), builds + 1);
	fedns_diff_fini(&diff);
	/* a newer snapshot over a held zone */
	snapshot(e.v[5], "example.com.", &l, &b);
	o = handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 5);
	assert_root_of_served(e.zs, &o->ack.digest);
	/* the zone dropped by placement forgets its digests */
	static const char *const none[] = {"example.org."};
	place(e.st, false, 2, none, 1);
	assert_int_equal(served(e.zs, origin), 0);
	uint8_t cached[FEDNS_ZONEMD_MAXLEN];
	size_t cl = 0;
	assert_false(spoke_hubstate_cached_digest(e.st, origin, 5, FEDNS_ZDIGEST_ALG, cached, &cl));
	fedns_zone_free(other2);
	env_fini(&e);
}

/* A store hook after ours (the journal's place) that fails on demand. */
static bool fail_store;

static fedns_err
failing_changed(void *ctx, const spoke_version *v, fedns_diag *d)
{
	(void)ctx;
	(void)v;
	return fail_store ? fedns_diag_set(d, FEDNS_EIO, "disk on fire") : FEDNS_OK;
}

/* A change whose digest is right but which the journal refuses: internal, the previous
 * version served, and the tree does not claim the version that was not taken. */
static void
test_tree_store_failure(void **state)
{
	(void)state;
	env e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(spoke_zoneset_new(NULL, &e.zs), FEDNS_OK);
	spoke_zoneset_store fs = {.changed = failing_changed};
	spoke_zoneset_set_store(e.zs, &fs);
	assert_int_equal(spoke_hubstate_new(e.zs, &e.st), FEDNS_OK);
	signer_init(&e.hub);
	fedns_sign_key *pub = NULL;
	uint8_t spki[FEDNS_SIGN_SPKI_MAX];
	size_t sl = 0;
	assert_int_equal(fedns_sign_public_der(e.hub.k, spki, sizeof(spki), &sl), FEDNS_OK);
	assert_int_equal(fedns_sign_load_public_der(spki, sl, &pub), FEDNS_OK);
	assert_int_equal(spoke_hubstate_add_key(e.st, pub, NULL), FEDNS_OK);
	for (uint32_t s = 1; s <= 5; s++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "192.0.2.%u", 100 + s);
		e.v[s] = zone_at(origin, s, ip);
	}
	static const char *const zones[] = {"example.com."};
	place(e.st, true, 1, zones, 1);
	acks a;
	rrlist l;
	fedns_proto_body b, b12, b23, b34;
	fedns_diff d12, d23, d34;
	snapshot(e.v[1], "example.com.", &l, &b);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(tree_builds(e.st), 1);

	fail_store = true;
	changeset(e.v[1], e.v[2], "example.com.", NULL, &d12, &b12);
	const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b12), &a);
	assert_int_equal(o->ack.reason, FEDNS_PROTO_REASON_INTERNAL);
	assert_non_null(strstr(o->ack.detail, "disk on fire"));
	assert_int_equal(served(e.zs, origin), 1);
	assert_root_of_served(e.zs, &o->ack.digest);
	uint8_t cached[FEDNS_ZONEMD_MAXLEN];
	size_t cl = 0;
	assert_false(spoke_hubstate_cached_digest(e.st, origin, 2, FEDNS_ZDIGEST_ALG, cached, &cl));
	/* the tree went back to 1: the retry applies without a rebuild */
	fail_store = false;
	o = handle(e.st, &e.hub.sb, &a);
	assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_root_of_served(e.zs, &o->ack.digest);
	assert_int_equal(tree_builds(e.st), 1);

	/* a batch the journal refuses: nothing served, the tree dropped and rebuilt next */
	fail_store = true;
	changeset(e.v[2], e.v[3], "example.com.", NULL, &d23, &b23);
	changeset(e.v[3], e.v[4], "example.com.", NULL, &d34, &b34);
	fedns_proto_changeset two[2] = {b23.u.changeset, b34.u.changeset};
	batch_of(two, 2, &b);
	handle(e.st, sign_body(&e.hub, &b), &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.o[0].ack.reason, FEDNS_PROTO_REASON_INTERNAL);
	assert_int_equal(a.o[0].ack.serial, 2);
	assert_int_equal(served(e.zs, origin), 2);
	assert_false(spoke_hubstate_cached_digest(e.st, origin, 4, FEDNS_ZDIGEST_ALG, cached, &cl));
	fail_store = false;
	handle(e.st, &e.hub.sb, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.o[1].ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(served(e.zs, origin), 4);
	assert_root_of_served(e.zs, &a.o[1].ack.digest);
	fedns_diff_fini(&d12);
	fedns_diff_fini(&d23);
	fedns_diff_fini(&d34);
	env_fini(&e);
}

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* RRs of a big zone (they live as long as the zone). */
typedef struct rrvec {
	fedns_rr *rr;
	size_t n, cap;
} rrvec;

static int
collect_vec(void *ctx, const fedns_rr *rr)
{
	rrvec *v = ctx;
	assert_true(v->n < v->cap);
	v->rr[v->n++] = *rr;
	return 0;
}

/* The SOA of the measurement zone at serial s, in wire form. */
static void
big_soa(uint32_t serial, uint8_t rd[64], fedns_rr *rr)
{
	static const uint8_t names[] = "\x02ns\x07"
				       "example\x03"
				       "com\x00\x02hm\x07"
				       "example\x03"
				       "com";
	size_t nl = sizeof(names); /* both names with their root labels */
	memcpy(rd, names, nl);
	uint32_t v[5] = {serial, 1, 1, 1, 1};
	for (int i = 0; i < 5; i++) {
		rd[nl + 4 * i] = (uint8_t)(v[i] >> 24);
		rd[nl + 4 * i + 1] = (uint8_t)(v[i] >> 16);
		rd[nl + 4 * i + 2] = (uint8_t)(v[i] >> 8);
		rd[nl + 4 * i + 3] = (uint8_t)v[i];
	}
	*rr = (fedns_rr){.owner = origin,
			 .type = FEDNS_T_SOA,
			 .rclass = FEDNS_C_IN,
			 .ttl = 60,
			 .rdlen = (uint16_t)(nl + 20),
			 .rdata = rd};
}

/* Not an assertion, a figure for the log: what checking one small change costs on a
 * zone of 20,000 RRsets, with the tree digest and with ZONEMD SHA-384. */
static void
test_tree_measure(void **state)
{
	(void)state;
	enum {
		HOSTS = 20000,
		STEPS = 40
	};
	size_t cap = 128 + (size_t)HOSTS * 32, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	off += (size_t)snprintf(text, cap,
				"$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A "
				"192.0.2.1\n");
	for (unsigned i = 0; i < HOSTS; i++)
		off += (size_t)snprintf(text + off, cap - off, "h%u A 10.%u.%u.%u\n", i, i >> 16,
					(i >> 8) & 255, i & 255);
	fedns_zone *cur = NULL;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &cur), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = origin};
	assert_int_equal(fedns_zonefile_parse("big", text, off, &opts, cur, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(cur, NULL, NULL), FEDNS_OK);
	free(text);

	env e;
	env_init(&e);
	acks a;
	fedns_proto_body b;
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_SNAPSHOT;
	b.u.snapshot.zone = "example.com.";
	b.u.snapshot.serial = 1;
	rrvec all = {.cap = HOSTS + 16};
	all.rr = malloc(all.cap * sizeof(*all.rr));
	assert_non_null(all.rr);
	assert_int_equal(fedns_zone_walk(cur, collect_vec, &all), 0);
	b.u.snapshot.rrs = all.rr;
	b.u.snapshot.nrrs = all.n;
	digest_of(cur, &b.u.snapshot.digest);
	assert_int_equal(handle(e.st, sign_body(&e.hub, &b), &a)->ack.status,
			 FEDNS_PROTO_ACK_APPLIED);
	free(all.rr);

	/* the hub's side keeps its own tree and updates it per change, as the hub does */
	fedns_zdigest *hub = NULL;
	assert_int_equal(fedns_zdigest_new(cur, &hub), FEDNS_OK);
	uint64_t sum_us[2] = {0, 0}, part_us[3] = {0, 0, 0}; /* diff apply, tree, ZONEMD */
	uint32_t serial = 1;
	for (int step = 0; step < 2 * STEPS; step++) {
		uint8_t alg = step < STEPS ? FEDNS_ZDIGEST_ALG : FEDNS_ZONEMD_SHA384;
		fedns_diff diff;
		fedns_diff_init(&diff);
		uint8_t sa[64], sb2[64], oldip[4] = {192, 0, 2, (uint8_t)serial},
					 newip[4] = {192, 0, 2, (uint8_t)(serial + 1)};
		fedns_rr rr;
		big_soa(serial, sa, &rr);
		assert_int_equal(fedns_diff_del(&diff, &rr), FEDNS_OK);
		static const uint8_t www[] = "\x03www\x07"
					     "example\x03"
					     "com";
		rr = (fedns_rr){.owner = www,
				.type = FEDNS_T_A,
				.rclass = FEDNS_C_IN,
				.ttl = 60,
				.rdlen = 4,
				.rdata = oldip};
		assert_int_equal(fedns_diff_del(&diff, &rr), FEDNS_OK);
		big_soa(serial + 1, sb2, &rr);
		assert_int_equal(fedns_diff_add(&diff, &rr), FEDNS_OK);
		rr = (fedns_rr){.owner = www,
				.type = FEDNS_T_A,
				.rclass = FEDNS_C_IN,
				.ttl = 60,
				.rdlen = 4,
				.rdata = newip};
		assert_int_equal(fedns_diff_add(&diff, &rr), FEDNS_OK);
		fedns_zone *next = NULL;
		uint64_t t0 = now_us();
		assert_int_equal(fedns_diff_apply(cur, &diff, &next, NULL), FEDNS_OK);
		uint64_t t1 = now_us();
		assert_int_equal(fedns_zdigest_update(hub, next, &diff), FEDNS_OK);
		uint64_t t2 = now_us();
		part_us[0] += t1 - t0;
		part_us[1] += t2 - t1;
		if (alg != FEDNS_ZDIGEST_ALG) {
			uint8_t md[FEDNS_ZONEMD_MAXLEN];
			size_t ml = 0;
			assert_int_equal(fedns_zonemd_compute(next, alg, md, &ml), FEDNS_OK);
			part_us[2] += now_us() - t2;
		}
		memset(&b, 0, sizeof(b));
		b.kind = FEDNS_PROTO_BODY_CHANGESET;
		fedns_proto_changeset *cs = &b.u.changeset;
		cs->zone = "example.com.";
		cs->from_serial = serial;
		cs->to_serial = serial + 1;
		cs->deleted = diff.del;
		cs->ndeleted = diff.ndel;
		cs->added = diff.add;
		cs->nadded = diff.nadd;
		if (alg == FEDNS_ZDIGEST_ALG) {
			cs->digest.alg = alg;
			cs->digest.len = FEDNS_ZDIGEST_LEN;
			fedns_zdigest_root(hub, cs->digest.value);
		} else {
			digest_alg(next, alg, &cs->digest);
		}
		const spoke_blob_outcome *o = handle(e.st, sign_body(&e.hub, &b), &a);
		assert_int_equal(o->ack.status, FEDNS_PROTO_ACK_APPLIED);
		assert_int_equal(o->ack.serial, serial + 1);
		sum_us[alg == FEDNS_ZDIGEST_ALG ? 0 : 1] += o->ack.apply_us;
		fedns_diff_fini(&diff);
		fedns_zone_free(cur);
		cur = next;
		serial++;
	}
	/* one tree built (the snapshot's); the ZONEMD-signed changes kept it current */
	assert_int_equal(tree_builds(e.st), 1);
	fedns_proto_zone_state *held = NULL;
	size_t n = spoke_hubstate_held(e.st, &held);
	assert_int_equal(n, 1);
	uint8_t root[FEDNS_ZDIGEST_LEN];
	assert_int_equal(fedns_zdigest_compute(cur, root), FEDNS_OK);
	assert_memory_equal(held[0].digest.value, root, FEDNS_ZDIGEST_LEN);
	spoke_hubstate_held_free(held, n);
	assert_int_equal(tree_builds(e.st), 1);
	printf("# measure: %u RRsets, one-record change sets applied at the spoke: tree digest "
	       "(alg 240) %.1f us mean, ZONEMD SHA-384 (alg 1) %.1f us mean (apply_us: diff "
	       "apply + digest check; tree memory %zu bytes)\n",
	       (unsigned)fedns_zdigest_count(hub), (double)sum_us[0] / STEPS,
	       (double)sum_us[1] / STEPS, fedns_zdigest_memory(hub));
	printf("# measure: of which fedns_diff_apply (the zone set's new version) %.1f us, tree "
	       "update %.1f us, ZONEMD SHA-384 of the zone %.1f us\n",
	       (double)part_us[0] / (2 * STEPS), (double)part_us[1] / (2 * STEPS),
	       (double)part_us[2] / STEPS);
	fedns_zdigest_free(hub);
	fedns_zone_free(cur);
	env_fini(&e);
}

static void
test_row_changed(void **state)
{
	(void)state;
	spoke_verify_row a, b;
	memset(&a, 0, sizeof(a));
	fedns_name_copy(a.zone, origin);
	snprintf(a.secondary, sizeof(a.secondary), "ns1");
	a.state = SPOKE_VERIFY_IN_SYNC;
	a.lag_ms = -1;
	b = a;
	assert_false(spoke_hubsession_row_changed(&a, &b));
	b.last_check = 99; /* a check that found nothing new is not a change */
	assert_false(spoke_hubsession_row_changed(&a, &b));
	b.state = SPOKE_VERIFY_DIVERGED;
	assert_true(spoke_hubsession_row_changed(&a, &b));
	b = a;
	b.have_seen = true;
	b.serial_seen = 7;
	assert_true(spoke_hubsession_row_changed(&a, &b));
	b = a;
	b.have_digest = true;
	assert_true(spoke_hubsession_row_changed(&a, &b));
	b = a;
	snprintf(b.last_error, sizeof(b.last_error), "SOA: timeout");
	assert_true(spoke_hubsession_row_changed(&a, &b));
	b = a;
	b.repairs = 1;
	assert_true(spoke_hubsession_row_changed(&a, &b));
}

/* ---- the session against an in-process hub over real mutual TLS ---- */

typedef struct fakehub {
	char dir[256];
	fedns_conn_listener *l;
	fedns_conn *c;
	uint16_t port;
	fedns_sign_key *signer;
	char signer_id[FEDNS_SIGN_KEYID_LEN + 1];
	spoke_verify_row row; /* what the spoke's status callback reports */
	bool have_row;
} fakehub;

static const char *
hub_path(fakehub *h, const char *name)
{
	static char p[4][320];
	static int slot;
	slot = (slot + 1) % 4;
	snprintf(p[slot], sizeof(p[slot]), "%s/%s", h->dir, name);
	return p[slot];
}

static void
hub_send(fakehub *h, const fedns_proto_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(fedns_proto_encode(m, &buf, &len), FEDNS_OK);
	assert_int_equal(fedns_conn_send(h->c, buf, len, 5000), FEDNS_OK);
	free(buf);
}

/* The next message of type 'want', skipping heartbeats and status reports (counted). */
static fedns_proto_msg *
hub_recv(fakehub *h, fedns_proto_type want, unsigned *heartbeats, unsigned *reports)
{
	for (int i = 0; i < 1000; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		fedns_err err = fedns_conn_recv(h->c, &buf, &len, 5000, &partial);
		if (err != FEDNS_OK)
			return NULL;
		fedns_proto_msg *m = NULL;
		assert_int_equal(fedns_proto_decode(buf, len, NULL, &m, NULL), FEDNS_OK);
		free(buf);
		if (m->type == want)
			return m;
		if (m->type == FEDNS_PROTO_HEARTBEAT && heartbeats != NULL)
			(*heartbeats)++;
		else if (m->type == FEDNS_PROTO_STATUS_REPORT && reports != NULL)
			(*reports)++;
		fedns_proto_msg_free(m);
	}
	return NULL;
}

/* For ms milliseconds: a hub heartbeat every 100 ms, counting the spoke's. */
static void
hub_chatter(fakehub *h, unsigned ms, unsigned *heartbeats)
{
	for (unsigned t = 0; t < ms; t += 100) {
		fedns_proto_msg hb = {.type = FEDNS_PROTO_HEARTBEAT,
				      .u.heartbeat = {.time = 1, .sequence = t + 1}};
		hub_send(h, &hb);
		for (;;) {
			uint8_t *buf = NULL;
			size_t len = 0;
			bool partial = false;
			fedns_err err = fedns_conn_recv(h->c, &buf, &len, 100, &partial);
			if (err == FEDNS_ETIMEDOUT && !partial)
				break;
			assert_int_equal(err, FEDNS_OK);
			fedns_proto_msg *m = NULL;
			assert_int_equal(fedns_proto_decode(buf, len, NULL, &m, NULL), FEDNS_OK);
			free(buf);
			if (m->type == FEDNS_PROTO_HEARTBEAT)
				(*heartbeats)++;
			fedns_proto_msg_free(m);
		}
	}
}

static size_t
fake_status(void *ctx, spoke_verify_row **rows)
{
	fakehub *h = ctx;
	*rows = NULL;
	if (!__atomic_load_n(&h->have_row, __ATOMIC_ACQUIRE))
		return 0;
	*rows = malloc(sizeof(**rows));
	**rows = h->row;
	return 1;
}

static void
fake_address(void *ctx, const char *secondary, char *out, size_t outsz)
{
	(void)ctx;
	snprintf(out, outsz, "192.0.2.53:53 (%s)", secondary);
}

/* Accepts the spoke, checks its hello, challenges it and verifies the answer as the hub
 * does. Returns the hello (free with fedns_proto_msg_free). */
static fedns_proto_msg *
hub_handshake(fakehub *h)
{
	assert_int_equal(fedns_conn_accept(h->l, &h->c), FEDNS_OK);
	fedns_proto_msg *hello = hub_recv(h, FEDNS_PROTO_HELLO, NULL, NULL);
	assert_non_null(hello);
	assert_string_equal(hello->u.hello.cluster, "east");
	assert_true(hello->u.hello.ncerts >= 1);
	fedns_spokeauth_pending p;
	memset(&p, 0, sizeof(p));
	uint64_t now = (uint64_t)time(NULL) * 1000u;
	assert_int_equal(fedns_spokeauth_challenge(&p, now), FEDNS_OK);
	fedns_proto_msg ch = {.type = FEDNS_PROTO_CHALLENGE, .u.challenge = p.challenge};
	hub_send(h, &ch);
	fedns_proto_msg *resp = hub_recv(h, FEDNS_PROTO_CHALLENGE_RESPONSE, NULL, NULL);
	assert_non_null(resp);
	fedns_spokeauth_policy pol = {.ca_file = hub_path(h, "ca.pem")};
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, now + 10, &hello->u.hello,
						&resp->u.challenge_response, &r),
			 FEDNS_OK);
	assert_string_equal(r.cluster, "east");
	fedns_proto_msg_free(resp);
	return hello;
}

static bool
wait_for(bool (*cond)(spoke_hubsession *), spoke_hubsession *hs, unsigned ms)
{
	for (unsigned i = 0; i < ms / 10; i++) {
		if (cond(hs))
			return true;
		usleep(10000);
	}
	return cond(hs);
}

static bool
is_auth(spoke_hubsession *hs)
{
	return spoke_hubsession_authenticated(hs);
}

static bool
is_down(spoke_hubsession *hs)
{
	spoke_hubsession_stats st;
	spoke_hubsession_get_stats(hs, &st);
	return !st.connected;
}

static bool
was_silent(spoke_hubsession *hs)
{
	spoke_hubsession_stats st;
	spoke_hubsession_get_stats(hs, &st);
	return st.silent_disconnects > 0;
}

static void
test_session(void **state)
{
	(void)state;
	alarm(120); /* a hang here is a failure, not a stuck test run */
	fakehub h;
	memset(&h, 0, sizeof(h));
	tmpdir(h.dir, sizeof(h.dir), "fedns-hubsession-tls");
	static const char *const clusters[] = {"east"};
	char err[512];
	fedns_pki_init_opts po = {.dir = h.dir,
				  .hub_name = "hub.fedns.test",
				  .clusters = clusters,
				  .nclusters = 1,
				  .days = 30};
	assert_int_equal(fedns_pki_init(&po, err, sizeof(err)), FEDNS_OK);
	fedns_nngtls_files sf = {.cert_file = hub_path(&h, "hub.pem"),
				 .key_file = hub_path(&h, "hub.key"),
				 .ca_file = hub_path(&h, "ca.pem")};
	fedns_nngtls *st = NULL;
	assert_int_equal(fedns_nngtls_server_new(&sf, &st, err, sizeof(err)), FEDNS_OK);
	assert_int_equal(fedns_conn_listen(st, "tls+tcp://127.0.0.1:0", &h.l, err, sizeof(err)),
			 FEDNS_OK);
	fedns_nngtls_free(st);
	h.port = fedns_conn_listener_port(h.l);
	assert_int_equal(fedns_sign_load_private_file(hub_path(&h, "hub-signing.key"), &h.signer),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_key_id(h.signer, h.signer_id), FEDNS_OK);

	spoke_zoneset *zs = NULL;
	spoke_hubstate *hst = NULL;
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	assert_int_equal(spoke_hubstate_new(zs, &hst), FEDNS_OK);
	assert_int_equal(
		spoke_hubstate_add_key_file(hst, hub_path(&h, "hub-signing.pub"), NULL, NULL),
		FEDNS_OK);
	char url[64];
	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%u", h.port);
	spoke_hubsession_opts o = {.url = url,
				   .server_name = "hub.fedns.test",
				   .cluster = "east",
				   .cert_file = hub_path(&h, "spoke-east.pem"),
				   .key_file = hub_path(&h, "spoke-east.key"),
				   .ca_file = hub_path(&h, "ca.pem"),
				   .heartbeat_ms = 200,
				   .status_interval_ms = 100,
				   .status = fake_status,
				   .address = fake_address,
				   .ctx = &h};
	spoke_hubsession *hs = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	/* a wrong server name or a missing flag are refused up front */
	spoke_hubsession_opts bad = o;
	bad.server_name = NULL;
	assert_int_equal(spoke_hubsession_new(&bad, hst, &hs, &d), FEDNS_EINVAL);
	bad = o;
	bad.url = "tcp://127.0.0.1:1";
	assert_int_equal(spoke_hubsession_new(&bad, hst, &hs, NULL), FEDNS_EINVAL);
	assert_int_equal(spoke_hubsession_new(&o, hst, &hs, &d), FEDNS_OK);
	assert_false(spoke_hubsession_authenticated(hs));
	assert_int_equal(spoke_hubsession_start(hs), FEDNS_OK);

	/* first session: nothing held yet */
	fedns_proto_msg *hello = hub_handshake(&h);
	assert_int_equal(hello->u.hello.nzones, 0);
	fedns_proto_msg_free(hello);
	static const char *const zones[] = {"example.com."};
	fedns_proto_msg pl = {
		.type = FEDNS_PROTO_PLACEMENT_UPDATE,
		.u.placement = {.generation = 1, .full = true, .add = zones, .nadd = 1}};
	hub_send(&h, &pl);
	assert_true(wait_for(is_auth, hs, 5000));

	/* a signed snapshot: applied and acked */
	fedns_zone *v1 = zone_at(origin, 1, "192.0.2.1");
	rrlist l;
	fedns_proto_body b;
	snapshot(v1, "example.com.", &l, &b);
	uint8_t *payload = NULL;
	size_t plen = 0;
	assert_int_equal(fedns_proto_body_encode(&b, &payload, &plen), FEDNS_OK);
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	assert_int_equal(fedns_sign_sign(h.signer, payload, plen, sig, NULL, 0, NULL), FEDNS_OK);
	fedns_proto_msg sm = {.type = FEDNS_PROTO_SIGNED,
			      .u.signed_blob = {.payload = {payload, plen},
						.signature = {sig, sizeof(sig)},
						.key_id = h.signer_id,
						.alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256}};
	hub_send(&h, &sm);
	fedns_proto_msg *ack = hub_recv(&h, FEDNS_PROTO_ACK, NULL, NULL);
	assert_non_null(ack);
	assert_int_equal(ack->u.ack.status, FEDNS_PROTO_ACK_APPLIED);
	assert_int_equal(ack->u.ack.serial, 1);
	assert_string_equal(ack->u.ack.zone, "example.com.");
	assert_memory_equal(ack->u.ack.digest.value, b.u.snapshot.digest.value, FEDNS_ZDIGEST_LEN);
	assert_true(ack->u.ack.received_time > 0);
	assert_true(ack->u.ack.applied_time >= ack->u.ack.received_time);
	assert_true(ack->u.ack.verify_us > 0);
	fedns_proto_msg_free(ack);
	assert_int_equal(served(zs, origin), 1);

	/* a status row appears: reported at once, with the address from the callback */
	memset(&h.row, 0, sizeof(h.row));
	fedns_name_copy(h.row.zone, origin);
	snprintf(h.row.secondary, sizeof(h.row.secondary), "ns1");
	h.row.state = SPOKE_VERIFY_IN_SYNC;
	h.row.serial = 1;
	h.row.have_seen = true;
	h.row.serial_seen = 1;
	h.row.last_ok = 1700000000;
	h.row.lag_ms = 12;
	__atomic_store_n(&h.have_row, true, __ATOMIC_RELEASE);
	fedns_proto_msg *rep = hub_recv(&h, FEDNS_PROTO_STATUS_REPORT, NULL, NULL);
	assert_non_null(rep);
	assert_int_equal(rep->u.status_report.nentries, 1);
	const fedns_proto_secondary_status *e = &rep->u.status_report.entries[0];
	assert_string_equal(e->zone, "example.com.");
	assert_string_equal(e->secondary, "ns1");
	assert_string_equal(e->address, "192.0.2.53:53 (ns1)");
	assert_int_equal(e->state, FEDNS_PROTO_SECONDARY_IN_SYNC);
	assert_true(e->has_serial);
	assert_int_equal(e->serial, 1);
	assert_int_equal(e->last_proven, 1700000000000ull);
	assert_int_equal(e->lag_ms, 12);
	fedns_proto_msg_free(rep);

	/* reports repeat every interval (which also keeps the connection busy) */
	unsigned hb = 0, reports = 0;
	for (int i = 0; i < 3; i++) {
		rep = hub_recv(&h, FEDNS_PROTO_STATUS_REPORT, &hb, &reports);
		assert_non_null(rep);
		fedns_proto_msg_free(rep);
	}
	assert_int_equal(hb, 0);
	/* nothing to report: the idle connection carries heartbeats both ways, and the
	 * spoke stays connected while the hub's keep coming */
	__atomic_store_n(&h.have_row, false, __ATOMIC_RELEASE);
	hub_chatter(&h, 1200, &hb);
	assert_true(hb >= 3);
	assert_false(is_down(hs));
	/* the hub goes quiet: after three intervals of silence the spoke hangs up */
	assert_null(hub_recv(&h, FEDNS_PROTO_ACK, NULL, NULL));
	assert_true(wait_for(was_silent, hs, 5000));
	fedns_conn_free(h.c);
	h.c = NULL;

	/* it comes back and resumes: its hello carries the serial and digest it holds */
	hello = hub_handshake(&h);
	assert_int_equal(hello->u.hello.nzones, 1);
	assert_string_equal(hello->u.hello.zones[0].zone, "example.com.");
	assert_int_equal(hello->u.hello.zones[0].serial, 1);
	assert_int_equal(hello->u.hello.zones[0].digest.alg, FEDNS_ZDIGEST_ALG);
	assert_memory_equal(hello->u.hello.zones[0].digest.value, b.u.snapshot.digest.value,
			    FEDNS_ZDIGEST_LEN);
	fedns_proto_msg_free(hello);
	/* a first placement that is not full is a protocol error: the spoke hangs up */
	fedns_proto_msg delta = {.type = FEDNS_PROTO_PLACEMENT_UPDATE,
				 .u.placement = {.generation = 2, .remove = zones, .nremove = 1}};
	hub_send(&h, &delta);
	assert_null(hub_recv(&h, FEDNS_PROTO_ACK, NULL, NULL));
	assert_int_equal(served(zs, origin), 1);

	spoke_hubsession_stats ss;
	spoke_hubsession_get_stats(hs, &ss);
	assert_int_equal(ss.sessions, 1);
	assert_int_equal(ss.silent_disconnects, 1);
	assert_true(ss.acks_sent >= 1);
	assert_true(ss.heartbeats_sent >= 2);
	assert_true(ss.status_reports_sent >= 3);
	assert_true(ss.dials >= 2);

	/* stopping while the spoke waits for the next challenge returns promptly */
	fedns_conn_free(h.c);
	h.c = NULL;
	fedns_conn *c2 = NULL;
	assert_int_equal(fedns_conn_accept(h.l, &c2), FEDNS_OK);
	spoke_hubsession_free(hs);
	fedns_conn_free(c2);

	free(payload);
	fedns_zone_free(v1);
	spoke_hubstate_free(hst);
	spoke_zoneset_free(zs);
	fedns_conn_listener_close(h.l);
	fedns_conn_listener_free(h.l);
	fedns_sign_key_free(h.signer);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h.dir);
	assert_int_equal(system(cmd), 0);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_continuity),
		cmocka_unit_test(test_digest_mismatch),
		cmocka_unit_test(test_signature_first),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_snapshot_rules),
		cmocka_unit_test(test_apply_failed),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_row_changed),
		cmocka_unit_test(test_tree_chain),
		cmocka_unit_test(test_zonemd_compat),
		cmocka_unit_test(test_tree_snapshot),
		cmocka_unit_test(test_tree_store_failure),
		cmocka_unit_test(test_tree_measure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
