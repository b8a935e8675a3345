/* SPDX-License-Identifier: Apache-2.0 */
/* A hub impostor for end-to-end refusal tests (never installed): it holds the hub's TLS
 * certificate and, for the legitimate steps, the hub's signing key, accepts one real
 * fedns-spoke, and sends it a scripted sequence of signed blobs — a good snapshot, forged
 * and unknown-key change sets, a replay, a gap, a zone not placed, a wrong digest, then a
 * good change — printing each acknowledgement as "STEP STATUS REASON SERIAL". The shell
 * test asserts those lines, the spoke's security log events and what the spoke serves. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/diag.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "proto/msg.h"
#include "tls/conn.h"
#include "tls/nngtls.h"
#include "tls/sign.h"
#include "tls/spokeauth.h"

static const char *zone_name = "fake.test.";

static void
die(const char *what)
{
	fprintf(stderr, "fed_fakehub: %s\n", what);
	exit(1);
}

/* Version k of fake.test. (or of another origin): serial k, www A 192.0.2.k. */
static fedns_zone *
version(const char *origin, unsigned k)
{
	char text[512];
	uint8_t o[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_zone *z = NULL;
	fedns_diag d = {0};
	int n = snprintf(text, sizeof(text),
			 "$TTL 300\n@ IN SOA ns1 hostmaster %u 3600 900 604800 300\n@ IN NS ns1\n"
			 "ns1 IN A 192.0.2.53\nwww IN A 192.0.2.%u\n",
			 k, k);
	if (fedns_name_from_text(origin, strlen(origin), NULL, o, &olen, NULL) != FEDNS_OK ||
	    fedns_zone_new(o, 1, NULL, &z) != FEDNS_OK)
		die("zone");
	fedns_zonefile_opts zo = {.origin = o};
	if (fedns_zonefile_parse("fake", text, (size_t)n, &zo, z, &d) != FEDNS_OK ||
	    fedns_zone_finish(z, NULL, NULL) != FEDNS_OK)
		die(d.msg);
	return z;
}

/* What a real hub signs: the tree digest (alg 240, docs/protocol.md). */
static void
digest_of(const fedns_zone *z, fedns_proto_digest *out)
{
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	if (fedns_zone_digest(z, FEDNS_ZDIGEST_ALG, out->value, &len) != FEDNS_OK)
		die("tree digest");
	out->alg = FEDNS_ZDIGEST_ALG;
	out->len = (uint8_t)len;
}

typedef struct rrvec {
	fedns_rr *rr;
	size_t n, cap;
} rrvec;

static int
collect(void *ctx, const fedns_rr *rr)
{
	rrvec *v = ctx;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->rr = realloc(v->rr, v->cap * sizeof(*v->rr));
		if (v->rr == NULL)
			die("memory");
	}
	v->rr[v->n++] = *rr;
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct hub {
	fedns_conn *c;
	fedns_sign_key *key, *forge;
	char key_id[FEDNS_SIGN_KEYID_LEN + 1], forge_id[FEDNS_SIGN_KEYID_LEN + 1];
} hub;

static void
send_msg(hub *h, const fedns_proto_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (fedns_proto_encode(m, &buf, &len) != FEDNS_OK)
		die("encode");
	if (fedns_conn_send(h->c, buf, len, 10000) != FEDNS_OK)
		die("send");
	free(buf);
}

static fedns_proto_msg *
recv_msg(hub *h, fedns_proto_type want)
{
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		fedns_proto_msg *m = NULL;
		if (fedns_conn_recv(h->c, &buf, &len, 20000, &partial) != FEDNS_OK)
			die("receive (spoke gone or silent)");
		fedns_err e = fedns_proto_decode(buf, len, NULL, &m, NULL);
		free(buf);
		if (e != FEDNS_OK)
			die("decode");
		if (m->type == want)
			return m;
		fedns_proto_msg_free(m); /* heartbeats, status reports */
	}
}

/* Signs body with 'key' under key id 'kid' and sends it; prints the ack. */
static void
send_body(hub *h, const char *step, const fedns_proto_body *b, fedns_sign_key *key, const char *kid)
{
	uint8_t *payload = NULL, sig[FEDNS_SIGN_RAW_LEN];
	size_t plen = 0;
	if (fedns_proto_body_encode(b, &payload, &plen) != FEDNS_OK)
		die("body encode");
	if (fedns_sign_sign(key, payload, plen, sig, NULL, 0, NULL) != FEDNS_OK)
		die("sign");
	fedns_proto_msg m = {.type = FEDNS_PROTO_SIGNED};
	m.u.signed_blob.payload = (fedns_proto_blob){payload, plen};
	m.u.signed_blob.signature = (fedns_proto_blob){sig, sizeof(sig)};
	m.u.signed_blob.key_id = kid;
	m.u.signed_blob.alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256;
	send_msg(h, &m);
	free(payload);
	fedns_proto_msg *a = recv_msg(h, FEDNS_PROTO_ACK);
	printf("%s %s %s %" PRIu32 "\n", step, fedns_proto_ack_status_name(a->u.ack.status),
	       a->u.ack.reason != 0 ? fedns_proto_reason_name(a->u.ack.reason) : "-",
	       a->u.ack.serial);
	fflush(stdout);
	fedns_proto_msg_free(a);
}

/* The change set from version k to k+1 of origin (digest of k+1, or a wrong one). */
static void
send_change(hub *h, const char *step, const char *origin, unsigned k, bool bad_digest,
	    fedns_sign_key *key, const char *kid)
{
	fedns_zone *a = version(origin, k), *b = version(origin, k + 1);
	fedns_diff d;
	fedns_diff_init(&d);
	if (fedns_diff_compute(a, b, &d) != FEDNS_OK)
		die("diff");
	fedns_proto_body body = {.kind = FEDNS_PROTO_BODY_CHANGESET};
	fedns_proto_changeset *cs = &body.u.changeset;
	cs->zone = origin;
	cs->from_serial = k;
	cs->to_serial = k + 1;
	cs->deleted = d.del;
	cs->ndeleted = d.ndel;
	cs->added = d.add;
	cs->nadded = d.nadd;
	digest_of(b, &cs->digest);
	if (bad_digest)
		cs->digest.value[0] ^= 0xff;
	cs->change_id = 1000 + k;
	cs->commit_time = now_ms();
	cs->author = "mallory";
	send_body(h, step, &body, key, kid);
	fedns_diff_fini(&d);
	fedns_zone_free(a);
	fedns_zone_free(b);
}

int
main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: fed_fakehub URL PORTFILE HUBCERT HUBKEY CA SIGNKEY "
				"FORGEKEY BASESERIAL\n");
		return 2;
	}
	const char *url = argv[1], *port_file = argv[2];
	unsigned base = (unsigned)strtoul(argv[8], NULL, 10);
	char err[512];
	fedns_nngtls *t = NULL;
	fedns_nngtls_files f = {.cert_file = argv[3], .key_file = argv[4], .ca_file = argv[5]};
	fedns_conn_listener *l = NULL;
	hub h = {0};

	if (fedns_nngtls_server_new(&f, &t, err, sizeof(err)) != FEDNS_OK ||
	    fedns_conn_listen(t, url, &l, err, sizeof(err)) != FEDNS_OK)
		die(err);
	fedns_nngtls_free(t);
	if (fedns_sign_load_private_file(argv[6], &h.key) != FEDNS_OK ||
	    fedns_sign_load_private_file(argv[7], &h.forge) != FEDNS_OK ||
	    fedns_sign_key_id(h.key, h.key_id) != FEDNS_OK ||
	    fedns_sign_key_id(h.forge, h.forge_id) != FEDNS_OK)
		die("signing keys");
	FILE *pf = fopen(port_file, "w");
	if (pf == NULL)
		die("port file");
	fprintf(pf, "%u\n", fedns_conn_listener_port(l));
	fclose(pf);
	if (fedns_conn_accept(l, &h.c) != FEDNS_OK)
		die("accept");

	/* the handshake, without checking the spoke: this hub only tests the spoke */
	fedns_proto_msg *hello = recv_msg(&h, FEDNS_PROTO_HELLO);
	printf("hello %s zones=%zu\n", hello->u.hello.cluster, hello->u.hello.nzones);
	fedns_proto_msg_free(hello);
	fedns_spokeauth_pending p;
	if (fedns_spokeauth_challenge(&p, now_ms()) != FEDNS_OK)
		die("nonce");
	fedns_proto_msg m = {.type = FEDNS_PROTO_CHALLENGE};
	m.u.challenge = p.challenge;
	send_msg(&h, &m);
	fedns_proto_msg_free(recv_msg(&h, FEDNS_PROTO_CHALLENGE_RESPONSE));
	const char *placed[] = {zone_name};
	m = (fedns_proto_msg){.type = FEDNS_PROTO_PLACEMENT_UPDATE};
	m.u.placement.generation = 1;
	m.u.placement.full = true;
	m.u.placement.add = placed;
	m.u.placement.nadd = 1;
	send_msg(&h, &m);

	/* 1: a good snapshot at base */
	fedns_zone *z = version(zone_name, base);
	rrvec v = {0};
	fedns_zone_walk(z, collect, &v);
	fedns_proto_body body = {.kind = FEDNS_PROTO_BODY_SNAPSHOT};
	body.u.snapshot.zone = zone_name;
	body.u.snapshot.serial = base;
	body.u.snapshot.rrs = v.rr;
	body.u.snapshot.nrrs = v.n;
	digest_of(z, &body.u.snapshot.digest);
	body.u.snapshot.created_time = now_ms();
	send_body(&h, "snapshot", &body, h.key, h.key_id);

	/* 2: the next change signed by another key under the hub's key id (forged) */
	send_change(&h, "forged", zone_name, base, false, h.forge, h.key_id);
	/* 3: the same under the other key's own id (a key the spoke does not trust) */
	send_change(&h, "unknown_key", zone_name, base, false, h.forge, h.forge_id);
	/* 4: a gap: base+1 -> base+2 while the spoke holds base */
	send_change(&h, "gap", zone_name, base + 1, false, h.key, h.key_id);
	/* 5: a zone not placed on this spoke */
	send_change(&h, "not_placed", "other.test.", base, false, h.key, h.key_id);
	/* 6: the right change announcing the wrong digest */
	send_change(&h, "bad_digest", zone_name, base, true, h.key, h.key_id);
	/* 7: the right change */
	send_change(&h, "good", zone_name, base, false, h.key, h.key_id);
	/* 8: the same again (a retransmission after a lost ack) */
	send_change(&h, "again", zone_name, base, false, h.key, h.key_id);
	/* 9: an older change, validly signed, replayed */
	send_change(&h, "replay", zone_name, base - 1, false, h.key, h.key_id);
	printf("done\n");
	fflush(stdout);

	/* keep the session up until the test stops us, answering nothing more */
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		if (fedns_conn_recv(h.c, &buf, &len, 0, &partial) != FEDNS_OK)
			break;
		free(buf);
	}
	free(v.rr);
	fedns_zone_free(z);
	fedns_conn_close(h.c);
	fedns_conn_free(h.c);
	fedns_conn_listener_close(l);
	fedns_conn_listener_free(l);
	fedns_sign_key_free(h.key);
	fedns_sign_key_free(h.forge);
	return 0;
}
