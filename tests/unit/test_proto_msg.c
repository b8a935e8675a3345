/* SPDX-License-Identifier: Apache-2.0 */
/* proto/msg: every hub <-> spoke message survives encode/decode unchanged, and bad bytes
 * (truncated, garbage, another version, over a cap, broken rules) get the right error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg.h"

/* owners and rdata in wire form */
static const uint8_t apex[] = "\7example\3com"; /* 13 bytes with the root */
static const uint8_t www[] = "\3www\7example\3com";
static const uint8_t soa_old[] = "\2ns\7example\3com\0\4host\7example\3com\0"
				 "\0\0\0\1\0\0\x0e\x10\0\0\x07\x08\0\x09\x3a\x80\0\0\x0e\x10";
static const uint8_t soa_new[] = "\2ns\7example\3com\0\4host\7example\3com\0"
				 "\0\0\0\2\0\0\x0e\x10\0\0\x07\x08\0\x09\x3a\x80\0\0\x0e\x10";
static const uint8_t a_rd[] = {192, 0, 2, 1};

static fedns_proto_digest
digest384(uint8_t fill)
{
	fedns_proto_digest g = {.alg = 1, .len = 48};
	memset(g.value, fill, 48);
	return g;
}

static fedns_proto_msg *
roundtrip(const fedns_proto_msg *m)
{
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_encode(m, &buf, &len), FEDNS_OK);
	fedns_proto_msg *out = NULL;
	fedns_err err = fedns_proto_decode(buf, len, NULL, &out, &d);
	if (err != FEDNS_OK)
		fail_msg("decode: %s", d.msg);
	assert_int_equal(out->version, FEDNS_PROTO_VERSION);
	assert_true(fedns_proto_msg_equal(m, out));
	/* encoding is deterministic: the decoded copy encodes to the same bytes */
	assert_int_equal(fedns_proto_encode(out, &buf2, &len2), FEDNS_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	return out;
}

static fedns_err
decode_bytes(const void *p, size_t len, const fedns_proto_limits *lim, fedns_diag *d)
{
	fedns_proto_msg *m = (fedns_proto_msg *)0x1;
	fedns_diag_clear(d);
	fedns_err err = fedns_proto_decode(p, len, lim, &m, d);
	if (err != FEDNS_OK)
		assert_null(m);
	fedns_proto_msg_free(m);
	return err;
}

static fedns_err
decode_body_bytes(const void *p, size_t len, const fedns_proto_limits *lim, fedns_diag *d)
{
	fedns_proto_body *b = (fedns_proto_body *)0x1;
	fedns_diag_clear(d);
	fedns_err err = fedns_proto_body_decode(p, len, lim, &b, d);
	if (err != FEDNS_OK)
		assert_null(b);
	fedns_proto_body_free(b);
	return err;
}

#define assert_diag(d, needle)                                                                     \
	do {                                                                                       \
		if (strstr((d).msg, (needle)) == NULL)                                             \
			fail_msg("diag \"%s\" lacks \"%s\"", (d).msg, needle);                     \
	} while (0)

static void
test_hello_roundtrip(void **state)
{
	(void)state;
	static const uint8_t cert1[] = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad};
	uint8_t big[4096];
	memset(big, 0xa5, sizeof(big));
	fedns_proto_blob certs[] = {{cert1, sizeof(cert1)}, {big, sizeof(big)}};
	fedns_proto_zone_state zones[] = {
		{"example.com.", 2026112601u, digest384(0x11)},
		{"empty.example.", 0, {0}},
		{"z.", 0xffffffffu, {.alg = 2, .len = 64}},
	};
	fedns_proto_msg m = {.type = FEDNS_PROTO_HELLO};
	m.u.hello = (fedns_proto_hello){"east", "fedns 0.1.0 (ü)", certs, 2, zones, 3};
	fedns_proto_msg *out = roundtrip(&m);
	assert_string_equal(out->u.hello.cluster, "east");
	assert_int_equal(out->u.hello.ncerts, 2);
	assert_int_equal(out->u.hello.certs[1].len, 4096);
	assert_int_equal(out->u.hello.zones[2].serial, 0xffffffffu);
	assert_int_equal(out->u.hello.zones[0].digest.len, 48);
	assert_int_equal(out->u.hello.zones[1].digest.alg, 0);
	fedns_proto_msg_free(out);

	/* no zones and no version string is a valid hello (a new spoke) */
	m.u.hello = (fedns_proto_hello){"west", NULL, certs, 1, NULL, 0};
	out = roundtrip(&m);
	assert_string_equal(out->u.hello.software_version, "");
	fedns_proto_msg_free(out);
}

static void
test_small_messages_roundtrip(void **state)
{
	(void)state;
	fedns_proto_msg m = {.type = FEDNS_PROTO_CHALLENGE};
	for (int i = 0; i < FEDNS_PROTO_NONCE_LEN; i++)
		m.u.challenge.nonce[i] = (uint8_t)i;
	m.u.challenge.hub_time = UINT64_MAX;
	fedns_proto_msg_free(roundtrip(&m));
	memset(m.u.challenge.nonce, 0, FEDNS_PROTO_NONCE_LEN); /* all-zero nonce still 32 bytes */
	m.u.challenge.hub_time = 0;
	fedns_proto_msg_free(roundtrip(&m));

	uint8_t sig[FEDNS_PROTO_SIG_LEN];
	memset(sig, 0x5a, sizeof(sig));
	m = (fedns_proto_msg){.type = FEDNS_PROTO_CHALLENGE_RESPONSE};
	m.u.challenge_response = (fedns_proto_challenge_response){FEDNS_PROTO_SIG_ECDSA_P256_SHA256,
								  {sig, sizeof(sig)}};
	fedns_proto_msg_free(roundtrip(&m));

	m = (fedns_proto_msg){.type = FEDNS_PROTO_HEARTBEAT};
	fedns_proto_msg_free(roundtrip(&m)); /* all zero */
	m.u.heartbeat = (fedns_proto_heartbeat){1764127800123u, UINT64_MAX};
	fedns_proto_msg_free(roundtrip(&m));

	const char *add[] = {"a.example.", "b.example."};
	const char *rem[] = {"old.example."};
	m = (fedns_proto_msg){.type = FEDNS_PROTO_PLACEMENT_UPDATE};
	m.u.placement = (fedns_proto_placement){7, true, add, 2, rem, 1};
	fedns_proto_msg *out = roundtrip(&m);
	assert_true(out->u.placement.full);
	assert_string_equal(out->u.placement.remove[0], "old.example.");
	fedns_proto_msg_free(out);
	m.u.placement = (fedns_proto_placement){0, true, NULL, 0, NULL, 0}; /* carry nothing */
	fedns_proto_msg_free(roundtrip(&m));
}

static void
test_ack_and_status_roundtrip(void **state)
{
	(void)state;
	fedns_proto_msg m = {.type = FEDNS_PROTO_ACK};
	m.u.ack = (fedns_proto_ack){.zone = "example.com.",
				    .serial = 2,
				    .digest = digest384(0x22),
				    .status = FEDNS_PROTO_ACK_APPLIED,
				    .change_id = 42,
				    .received_time = 1000,
				    .applied_time = 1003,
				    .verify_us = 1100,
				    .apply_us = UINT32_MAX};
	fedns_proto_msg_free(roundtrip(&m));
	m.u.ack.status = FEDNS_PROTO_ACK_REFUSED;
	m.u.ack.reason = FEDNS_PROTO_REASON_GAP;
	m.u.ack.detail = "from_serial 5 but holding 3";
	m.u.ack.digest = (fedns_proto_digest){0};
	fedns_proto_msg *out = roundtrip(&m);
	assert_int_equal(out->u.ack.reason, FEDNS_PROTO_REASON_GAP);
	assert_string_equal(out->u.ack.detail, "from_serial 5 but holding 3");
	fedns_proto_msg_free(out);

	fedns_proto_secondary_status e[] = {
		{"example.com.", "ns1", "127.0.0.1:5301", FEDNS_PROTO_SECONDARY_IN_SYNC, true, 0,
		 digest384(3), 99, 0, NULL, 0},
		{"example.com.",
		 "ns2",
		 "[::1]:5302",
		 FEDNS_PROTO_SECONDARY_UNREACHABLE,
		 false,
		 0,
		 {0},
		 0,
		 0,
		 "connect: connection refused",
		 7},
		{"example.com.",
		 "ns3",
		 "",
		 FEDNS_PROTO_SECONDARY_DIVERGED,
		 true,
		 5,
		 {.alg = 2, .len = 64},
		 0,
		 UINT64_MAX,
		 "",
		 1},
	};
	m = (fedns_proto_msg){.type = FEDNS_PROTO_STATUS_REPORT};
	m.u.status_report = (fedns_proto_status_report){123456789, e, 3};
	out = roundtrip(&m);
	/* serial 0 that was seen stays distinct from no serial */
	assert_true(out->u.status_report.entries[0].has_serial);
	assert_int_equal(out->u.status_report.entries[0].serial, 0);
	assert_false(out->u.status_report.entries[1].has_serial);
	assert_int_equal(out->u.status_report.entries[1].state, FEDNS_PROTO_SECONDARY_UNREACHABLE);
	assert_string_equal(out->u.status_report.entries[1].last_error,
			    "connect: connection refused");
	fedns_proto_msg_free(out);
	m.u.status_report = (fedns_proto_status_report){0, NULL, 0};
	fedns_proto_msg_free(roundtrip(&m));
}

static fedns_proto_body *
body_roundtrip(const fedns_proto_body *b, uint8_t **payload, size_t *plen)
{
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_encode(b, &buf, &len), FEDNS_OK);
	fedns_proto_body *out = NULL;
	if (fedns_proto_body_decode(buf, len, NULL, &out, &d) != FEDNS_OK)
		fail_msg("decode: %s", d.msg);
	assert_true(fedns_proto_body_equal(b, out));
	assert_int_equal(fedns_proto_body_encode(out, &buf2, &len2), FEDNS_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);
	if (payload != NULL) {
		*payload = buf;
		*plen = len;
	} else {
		free(buf);
	}
	return out;
}

static void
test_changeset_signed_roundtrip(void **state)
{
	(void)state;
	fedns_rr del[] = {{apex, 6, 1, 3600, sizeof(soa_old) - 1, soa_old}};
	fedns_rr add[] = {{apex, 6, 1, 3600, sizeof(soa_new) - 1, soa_new},
			  {www, 1, 1, 0x7fffffff, sizeof(a_rd), a_rd},
			  {www, 65280, 1, 0, 0, NULL}}; /* unknown type, empty rdata */
	const char *approvers[] = {"bob", "carol"};
	fedns_proto_body b = {.kind = FEDNS_PROTO_BODY_CHANGESET};
	b.u.changeset = (fedns_proto_changeset){
		"example.com.", 1,	 2,	    del, 1, add, 3, digest384(0x33), 17,
		1764127800000u, "alice", approvers, 2};
	uint8_t *payload;
	size_t plen;
	fedns_proto_body *out = body_roundtrip(&b, &payload, &plen);
	const fedns_proto_changeset *c = &out->u.changeset;
	assert_int_equal(c->nadded, 3);
	assert_memory_equal(c->added[1].owner, www, sizeof(www));
	assert_int_equal(c->added[1].ttl, 0x7fffffff);
	assert_int_equal(c->added[2].rdlen, 0);
	assert_string_equal(c->approvers[1], "carol");
	fedns_proto_body_free(out);

	/* the payload travels in a SignedBlob byte for byte */
	uint8_t sig[FEDNS_PROTO_SIG_LEN];
	memset(sig, 7, sizeof(sig));
	fedns_proto_msg m = {.type = FEDNS_PROTO_SIGNED};
	m.u.signed_blob = (fedns_proto_signed){{payload, plen},
					       {sig, sizeof(sig)},
					       "q0F1iS2zJ8kWc9HnL7Rb3xY5tPvE4uA6dMgKoNfUwZs",
					       FEDNS_PROTO_SIG_ECDSA_P256_SHA256};
	fedns_proto_msg *env = roundtrip(&m);
	assert_int_equal(env->u.signed_blob.payload.len, plen);
	assert_memory_equal(env->u.signed_blob.payload.data, payload, plen);
	fedns_diag d;
	fedns_proto_body *inner = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_decode(env->u.signed_blob.payload.data,
						 env->u.signed_blob.payload.len, NULL, &inner, &d),
			 FEDNS_OK);
	assert_true(fedns_proto_body_equal(&b, inner));
	fedns_proto_body_free(inner);
	fedns_proto_msg_free(env);
	free(payload);

	/* an empty diff (a serial-only bump is still IXFR-shaped, but the codec allows none) */
	b.u.changeset = (fedns_proto_changeset){.zone = ".", .digest = digest384(0)};
	fedns_proto_body_free(body_roundtrip(&b, NULL, NULL));
}

/* Consecutive change sets under one signature: round trip, and the batch rules (one zone,
 * each from_serial the previous to_serial, not empty) checked by encode and decode. */
static void
test_batch_roundtrip_and_rules(void **state)
{
	(void)state;
	fedns_rr del[] = {{apex, 6, 1, 3600, sizeof(soa_old) - 1, soa_old}};
	fedns_rr add[] = {{apex, 6, 1, 3600, sizeof(soa_new) - 1, soa_new},
			  {www, 1, 1, 300, sizeof(a_rd), a_rd}};
	fedns_proto_changeset cs[3];
	for (unsigned i = 0; i < 3; i++) {
		cs[i] = (fedns_proto_changeset){.zone = "example.com.",
						.from_serial = 1 + i,
						.to_serial = 2 + i,
						.deleted = del,
						.ndeleted = 1,
						.added = add,
						.nadded = 2,
						.digest = digest384((uint8_t)i),
						.change_id = 10 + i,
						.author = "alice"};
	}
	fedns_proto_body b = {.kind = FEDNS_PROTO_BODY_BATCH};
	b.u.batch = (fedns_proto_batch){cs, 3};
	uint8_t *payload;
	size_t plen;
	fedns_proto_body *out = body_roundtrip(&b, &payload, &plen);
	assert_int_equal(out->kind, FEDNS_PROTO_BODY_BATCH);
	assert_int_equal(out->u.batch.n, 3);
	assert_int_equal(out->u.batch.changesets[2].from_serial, 3);
	assert_int_equal(out->u.batch.changesets[2].change_id, 12);
	assert_int_equal(out->u.batch.changesets[1].nadded, 2);
	assert_true(fedns_proto_body_equal(&b, out));
	fedns_proto_body_free(out);
	free(payload);

	fedns_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;
	cs[2].from_serial = 5; /* does not follow 3 */
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_check(&b, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "batch.change_sets[2].from_serial: 5 does not follow 3");
	assert_int_equal(fedns_proto_body_encode(&b, &buf, &len), FEDNS_EINVAL);
	cs[2].from_serial = 3;
	cs[1].zone = "example.net.";
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_check(&b, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg,
			    "batch.change_sets[1].zone: example.net. is not the batch's zone "
			    "example.com.");
	cs[1].zone = "example.com.";
	b.u.batch.n = 0;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_check(&b, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "batch.change_sets: empty");

	/* the decoder counts a batch's elements against max_items */
	b.u.batch.n = 3;
	fedns_proto_limits lim = {.max_items = 2};
	assert_int_equal(fedns_proto_body_encode(&b, &buf, &len), FEDNS_OK);
	fedns_proto_body *o2 = NULL;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_decode(buf, len, &lim, &o2, &d), FEDNS_ETOOBIG);
	assert_string_equal(d.msg, "payload.batch.change_sets: more than 2 entries");
	assert_null(o2);
	free(buf);
}

static void
test_snapshot_roundtrip_and_rr_cap(void **state)
{
	(void)state;
	enum {
		N = 1000
	};
	fedns_rr *rrs = calloc(N, sizeof(*rrs));
	assert_non_null(rrs);
	rrs[0] = (fedns_rr){apex, 6, 1, 3600, sizeof(soa_new) - 1, soa_new};
	for (size_t i = 1; i < N; i++)
		rrs[i] = (fedns_rr){www, 1, 1, (uint32_t)i, sizeof(a_rd), a_rd};
	fedns_proto_body b = {.kind = FEDNS_PROTO_BODY_SNAPSHOT};
	b.u.snapshot =
		(fedns_proto_snapshot){"example.com.", 2, rrs, N, {.alg = 2, .len = 64}, 17, 5};
	uint8_t *payload;
	size_t plen;
	fedns_proto_body_free(body_roundtrip(&b, &payload, &plen));

	fedns_diag d;
	fedns_proto_limits lim = {.max_rrs = N};
	assert_int_equal(decode_body_bytes(payload, plen, &lim, &d), FEDNS_OK);
	lim.max_rrs = N - 1;
	assert_int_equal(decode_body_bytes(payload, plen, &lim, &d), FEDNS_ETOOBIG);
	assert_diag(d, "payload.snapshot.rrs: more than 999 entries");
	/* a message exactly at the size cap passes, one byte under the cap it does not */
	lim = (fedns_proto_limits){.max_msg = plen};
	assert_int_equal(decode_body_bytes(payload, plen, &lim, &d), FEDNS_OK);
	lim.max_msg = plen - 1;
	assert_int_equal(decode_body_bytes(payload, plen, &lim, &d), FEDNS_ETOOBIG);
	assert_diag(d, "the cap is");
	/* memory budget */
	lim = (fedns_proto_limits){.max_mem = 4096};
	assert_int_equal(decode_body_bytes(payload, plen, &lim, &d), FEDNS_ETOOBIG);
	assert_diag(d, "memory");
	free(payload);

	/* a snapshot needs at least one RR and a digest */
	b.u.snapshot.nrrs = 0;
	assert_int_equal(fedns_proto_body_encode(&b, &payload, &plen), FEDNS_EINVAL);
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_check(&b, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "snapshot.rrs: empty");
	b.u.snapshot.nrrs = 1;
	b.u.snapshot.digest = (fedns_proto_digest){0};
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_body_check(&b, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "snapshot.digest: missing");
	free(rrs);
}

static void
test_string_caps(void **state)
{
	(void)state;
	char cluster[65];
	memset(cluster, 'c', 64);
	cluster[64] = '\0';
	static const uint8_t cert[] = {0x30};
	fedns_proto_blob certs[] = {{cert, 1}};
	fedns_proto_msg m = {.type = FEDNS_PROTO_HELLO};
	m.u.hello = (fedns_proto_hello){cluster, NULL, certs, 1, NULL, 0};
	uint8_t *buf;
	size_t len;
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_OK);
	fedns_diag d;
	fedns_proto_limits lim = {.max_str = 64};
	assert_int_equal(decode_bytes(buf, len, &lim, &d), FEDNS_OK);
	lim.max_str = 63;
	assert_int_equal(decode_bytes(buf, len, &lim, &d), FEDNS_ETOOBIG);
	assert_string_equal(d.msg, "hello.cluster: 64 bytes, the cap is 63");
	lim = (fedns_proto_limits){.max_blob = 1};
	assert_int_equal(decode_bytes(buf, len, &lim, &d), FEDNS_OK);
	free(buf);
	static const uint8_t cert2[] = {0x30, 0x00};
	certs[0] = (fedns_proto_blob){cert2, 2};
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_OK);
	assert_int_equal(decode_bytes(buf, len, &lim, &d), FEDNS_ETOOBIG);
	assert_string_equal(d.msg, "hello.cert_chain[0]: 2 bytes, the cap is 1");
	free(buf);
}

static void
test_version_and_body(void **state)
{
	(void)state;
	fedns_diag d;
	/* version 1 + empty heartbeat is the smallest valid message */
	static const uint8_t ok[] = {0x08, 0x01, 0x4a, 0x00};
	assert_int_equal(decode_bytes(ok, sizeof(ok), NULL, &d), FEDNS_OK);
	static const uint8_t v2[] = {0x08, 0x02, 0x4a, 0x00};
	assert_int_equal(decode_bytes(v2, sizeof(v2), NULL, &d), FEDNS_ENOTSUP);
	assert_string_equal(d.msg, "envelope: protocol version 2 is not supported (this side "
				   "speaks 1)");
	static const uint8_t v0[] = {0x08, 0x00, 0x4a, 0x00};
	assert_int_equal(decode_bytes(v0, sizeof(v0), NULL, &d), FEDNS_ENOTSUP);
	static const uint8_t nov[] = {0x4a, 0x00};
	assert_int_equal(decode_bytes(nov, sizeof(nov), NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope: version missing");
	static const uint8_t nobody[] = {0x08, 0x01};
	assert_int_equal(decode_bytes(nobody, sizeof(nobody), NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope: no message body");
	assert_int_equal(decode_bytes(NULL, 0, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope: version missing");
	/* an unknown field (a later minor addition) is skipped */
	static const uint8_t extra[] = {0x08, 0x01, 0x4a, 0x00, 0xa0, 0x06, 0x05};
	assert_int_equal(decode_bytes(extra, sizeof(extra), NULL, &d), FEDNS_OK);
}

static void
test_truncated_and_garbage(void **state)
{
	(void)state;
	fedns_diag d;
	/* every strict prefix of a hello fails cleanly */
	static const uint8_t cert[] = {0x30, 0x03, 1, 2, 3};
	fedns_proto_blob certs[] = {{cert, sizeof(cert)}};
	fedns_proto_zone_state zs[] = {{"example.com.", 9, digest384(9)}};
	fedns_proto_msg m = {.type = FEDNS_PROTO_HELLO};
	m.u.hello = (fedns_proto_hello){"east", "v", certs, 1, zs, 1};
	uint8_t *buf;
	size_t len;
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_OK);
	size_t truncs = 0;
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, buf, n);
		fedns_err err = decode_bytes(cut, n, NULL, &d);
		assert_int_not_equal(err, FEDNS_OK);
		assert_true(d.msg[0] != '\0');
		if (err == FEDNS_ETRUNC)
			truncs++;
		free(cut);
	}
	assert_true(truncs > len / 2);
	/* cut inside the hello: the error names the field and the shortfall */
	assert_int_equal(decode_bytes(buf, len - 1, NULL, &d), FEDNS_ETRUNC);
	assert_diag(d, "envelope.hello: byte 2: length");
	assert_diag(d, "bytes left");
	free(buf);

	static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(decode_bytes(ff, sizeof(ff), NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope: byte 0: field tag is not a varint");
	static const uint8_t group[] = {0x08, 0x01, 0x7b}; /* field 15, a group */
	assert_int_equal(decode_bytes(group, sizeof(group), NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope: byte 2: wire type 3 is not used by fedns");
	static const uint8_t wt[] = {0x0a, 0x01, 0x01}; /* version as bytes */
	assert_int_equal(decode_bytes(wt, sizeof(wt), NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "envelope.version: byte 0: wire type 2, expected 0");
	static const uint8_t field0[] = {0x00, 0x01};
	assert_int_equal(decode_bytes(field0, sizeof(field0), NULL, &d), FEDNS_EMALFORMED);
	static const uint8_t fixed[] = {0x08, 0x01, 0x4a, 0x00,
					0x79, 1,    2,	  3}; /* field 15 64-bit */
	assert_int_equal(decode_bytes(fixed, sizeof(fixed), NULL, &d), FEDNS_ETRUNC);
	assert_diag(d, "8-byte value runs past the end");
	/* a nested heartbeat whose time field is cut */
	static const uint8_t hb[] = {0x08, 0x01, 0x4a, 0x02, 0x08, 0x80};
	assert_int_equal(decode_bytes(hb, sizeof(hb), NULL, &d), FEDNS_ETRUNC);
	assert_string_equal(d.msg, "envelope.heartbeat.time: byte 4: value runs past the end");
}

/* Encodes an envelope by hand around one body field: tag, length, then the bytes. */
static size_t
wrap(uint8_t *out, uint8_t tag, const uint8_t *body, size_t n)
{
	out[0] = 0x08;
	out[1] = 0x01;
	out[2] = tag;
	out[3] = (uint8_t)n; /* n < 128 in these tests */
	memcpy(out + 4, body, n);
	return n + 4;
}

static void
test_rule_violations(void **state)
{
	(void)state;
	fedns_diag d;
	uint8_t buf[256];
	size_t n;

	/* nonce of 31 bytes */
	uint8_t ch[2 + 31] = {0x0a, 31};
	n = wrap(buf, 0x1a, ch, sizeof(ch));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "challenge.nonce: 31 bytes, expected 32");

	/* ack with a NUL in the zone name */
	static const uint8_t nul[] = {0x0a, 3, 'a', 0, '.', 0x20, 1};
	n = wrap(buf, 0x32, nul, sizeof(nul));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "ack.zone: contains a NUL byte");
	/* invalid UTF-8 in the detail */
	static const uint8_t bad8[] = {0x0a, 2, 'a', '.', 0x20, 1, 0x3a, 2, 0xc0, 0xaf};
	n = wrap(buf, 0x32, bad8, sizeof(bad8));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "ack.detail: not valid UTF-8");
	/* a relative zone name */
	static const uint8_t rel[] = {0x0a, 1, 'a', 0x20, 1};
	n = wrap(buf, 0x32, rel, sizeof(rel));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "ack.zone: \"a\" is not an absolute domain name");
	/* a status out of range, and a reason without refused */
	static const uint8_t st[] = {0x0a, 2, 'a', '.', 0x20, 9};
	n = wrap(buf, 0x32, st, sizeof(st));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "ack.status: 9 is not a status");
	static const uint8_t rs[] = {0x0a, 2, 'a', '.', 0x20, 1, 0x28, 2};
	n = wrap(buf, 0x32, rs, sizeof(rs));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "replay with status applied");
	/* a digest of SHA-384 with 47 bytes */
	uint8_t dg[12 + 47] = {0x0a, 2, 'a', '.', 0x20, 1, 0x1a, 4 + 47, 0x08, 1, 0x12, 47};
	n = wrap(buf, 0x32, dg, sizeof(dg));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "ack.digest: algorithm 1 with 47 bytes (expected 240 with 32, "
				   "1 with 48, 2 with 64, or 0 with none)");
	/* the tree digest's algorithm with a ZONEMD's length */
	uint8_t dt[13 + 48] = {0x0a,   2,    'a',  '.',	 0x20, 1, 0x1a,
			       5 + 48, 0x08, 0xf0, 0x01, 0x12, 48};
	n = wrap(buf, 0x32, dt, sizeof(dt));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "ack.digest: algorithm 240 with 48 bytes (expected 240 with "
				   "32, 1 with 48, 2 with 64, or 0 with none)");

	/* signed blob: short signature, unsupported algorithm, empty key id */
	uint8_t sb[2 + 1 + 2 + 63 + 2 + 1 + 2];
	size_t k = 0;
	sb[k++] = 0x0a, sb[k++] = 1, sb[k++] = 0x42;
	sb[k++] = 0x12, sb[k++] = 63;
	memset(sb + k, 1, 63), k += 63;
	sb[k++] = 0x1a, sb[k++] = 1, sb[k++] = 'k';
	sb[k++] = 0x20, sb[k++] = 1;
	n = wrap(buf, 0x2a, sb, k);
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "signed.signature: 63 bytes, ecdsa-p256-sha256 needs 64");
	sb[k - 1] = 2;
	n = wrap(buf, 0x2a, sb, k);
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "signed.alg: signature algorithm 2 is not supported");

	/* hello without a certificate */
	static const uint8_t h[] = {0x0a, 1, 'e'};
	n = wrap(buf, 0x12, h, sizeof(h));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "hello.cert_chain: empty");

	/* status entry with an unknown state */
	static const uint8_t se[] = {0x12, 9, 0x0a, 2, 'a', '.', 0x12, 1, 's', 0x20, 5};
	n = wrap(buf, 0x3a, se, sizeof(se));
	assert_int_equal(decode_bytes(buf, n, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "status_report.entries[0].state: 5 is not a state");
}

static void
test_bad_rrs(void **state)
{
	(void)state;
	fedns_diag d;
	/* change set for "a." with a digest and one added RR */
	uint8_t dig[2 + 2 + 48] = {0x08, 1, 0x12, 48};
	uint8_t cs[128];
	size_t k = 0;
	cs[k++] = 0x0a, cs[k++] = 2, cs[k++] = 'a', cs[k++] = '.';
	cs[k++] = 0x32, cs[k++] = sizeof(dig);
	memcpy(cs + k, dig, sizeof(dig)), k += sizeof(dig);
	size_t rr_at = k;
	/* RR: owner "\1a\0", type A, class IN, rdata of 3 bytes */
	static const uint8_t rr_bad_rdata[] = {0x0a, 3, 1,    'a', 0, 0x10, 1,
					       0x18, 1, 0x2a, 3,   1, 2,    3};
	cs[k++] = 0x2a, cs[k++] = sizeof(rr_bad_rdata);
	memcpy(cs + k, rr_bad_rdata, sizeof(rr_bad_rdata)), k += sizeof(rr_bad_rdata);
	uint8_t body[160];
	body[0] = 0x0a;
	body[1] = (uint8_t)k;
	memcpy(body + 2, cs, k);
	assert_int_equal(decode_body_bytes(body, k + 2, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "change_set.added[0].rdata: 3 bytes not valid for type 1");

	/* owner with a compression pointer */
	static const uint8_t rr_ptr[] = {0x0a, 2,    0xc0, 0x0c, 0x10, 1, 0x18,
					 1,    0x2a, 4,	   1,	 2,    3, 4};
	k = rr_at;
	cs[k++] = 0x2a, cs[k++] = sizeof(rr_ptr);
	memcpy(cs + k, rr_ptr, sizeof(rr_ptr)), k += sizeof(rr_ptr);
	body[1] = (uint8_t)k;
	memcpy(body + 2, cs, k);
	assert_int_equal(decode_body_bytes(body, k + 2, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "change_set.added[0].owner: 2 bytes are not one uncompressed "
				   "wire name");
	/* a type over 65535 */
	static const uint8_t rr_type[] = {0x0a, 1, 0, 0x10, 0x80, 0x80, 0x04};
	k = rr_at;
	cs[k++] = 0x2a, cs[k++] = sizeof(rr_type);
	memcpy(cs + k, rr_type, sizeof(rr_type)), k += sizeof(rr_type);
	body[1] = (uint8_t)k;
	memcpy(body + 2, cs, k);
	assert_int_equal(decode_body_bytes(body, k + 2, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "type 65536 or class 0 is over 65535");
	/* no body kind */
	assert_int_equal(decode_body_bytes("", 0, NULL, &d), FEDNS_EMALFORMED);
	assert_string_equal(d.msg, "payload: neither a change set, a batch nor a snapshot");
}

static void
test_many_empty_rrs_hit_memory_cap(void **state)
{
	(void)state;
	/* 2-byte empty submessages cost far more memory than bytes: the budget stops them */
	enum {
		N = 20000
	};
	size_t len = 6 + 2 * N;
	uint8_t *b = malloc(len);
	b[0] = 0x12;
	size_t inner = 2 * N;
	b[1] = (uint8_t)(0x80 | (inner & 0x7f));
	b[2] = (uint8_t)(0x80 | ((inner >> 7) & 0x7f));
	b[3] = (uint8_t)(inner >> 14);
	for (size_t i = 0; i < N; i++) {
		b[4 + 2 * i] = 0x1a;
		b[5 + 2 * i] = 0;
	}
	len = 4 + inner;
	fedns_diag d;
	fedns_proto_limits lim = {.max_mem = 256 << 10};
	assert_int_equal(decode_body_bytes(b, len, &lim, &d), FEDNS_ETOOBIG);
	assert_string_equal(d.msg, "payload: decoding needs more than 262144 bytes of memory");
	/* with the default budget the same input decodes and fails on its content */
	assert_int_equal(decode_body_bytes(b, len, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "snapshot.rrs[0].owner");
	free(b);
}

static void
test_encode_refuses_invalid(void **state)
{
	(void)state;
	uint8_t *buf = (uint8_t *)0x1;
	size_t len = 0;
	fedns_proto_msg m = {.type = FEDNS_PROTO_ACK};
	m.u.ack = (fedns_proto_ack){.zone = "example.com.", .status = FEDNS_PROTO_ACK_REFUSED};
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_EINVAL);
	assert_ptr_equal(buf, (uint8_t *)0x1);
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(fedns_proto_check(&m, NULL, &d), FEDNS_EMALFORMED);
	assert_diag(d, "ack.reason: none with status refused");
	m.type = (fedns_proto_type)42;
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_EINVAL);
	assert_int_equal(fedns_proto_encode(NULL, &buf, &len), FEDNS_EINVAL);
	m = (fedns_proto_msg){.type = FEDNS_PROTO_SIGNED};
	m.u.signed_blob.alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256;
	assert_int_equal(fedns_proto_encode(&m, &buf, &len), FEDNS_EINVAL);
	fedns_proto_msg_free(NULL);
	fedns_proto_body_free(NULL);
}

static void
test_challenge_tbs(void **state)
{
	(void)state;
	uint8_t nonce[FEDNS_PROTO_NONCE_LEN];
	for (int i = 0; i < FEDNS_PROTO_NONCE_LEN; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	uint8_t *tbs;
	size_t len;
	assert_int_equal(fedns_proto_challenge_tbs(nonce, 0x0102030405060708u, "east", &tbs, &len),
			 FEDNS_OK);
	assert_int_equal(len, 20 + 32 + 8 + 4);
	assert_memory_equal(tbs, "fedns-spoke-auth-v1\0", 20);
	assert_memory_equal(tbs + 20, nonce, 32);
	static const uint8_t t[] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_memory_equal(tbs + 52, t, 8);
	assert_memory_equal(tbs + 60, "east", 4);
	free(tbs);
	assert_int_equal(fedns_proto_challenge_tbs(nonce, 1, "", &tbs, &len), FEDNS_EINVAL);
	assert_int_equal(fedns_proto_challenge_tbs(nonce, 1, NULL, &tbs, &len), FEDNS_EINVAL);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(fedns_proto_type_name(FEDNS_PROTO_PLACEMENT_UPDATE),
			    "placement_update");
	assert_string_equal(fedns_proto_type_name((fedns_proto_type)0), "?");
	assert_string_equal(fedns_proto_reason_name(FEDNS_PROTO_REASON_DIGEST_MISMATCH),
			    "digest_mismatch");
	assert_string_equal(fedns_proto_reason_name((fedns_proto_reason)10), "?");
	assert_string_equal(fedns_proto_ack_status_name(FEDNS_PROTO_ACK_ALREADY_APPLIED),
			    "already_applied");
	assert_string_equal(fedns_proto_secondary_state_name(FEDNS_PROTO_SECONDARY_DIVERGED),
			    "diverged");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_small_messages_roundtrip),
		cmocka_unit_test(test_ack_and_status_roundtrip),
		cmocka_unit_test(test_changeset_signed_roundtrip),
		cmocka_unit_test(test_batch_roundtrip_and_rules),
		cmocka_unit_test(test_snapshot_roundtrip_and_rr_cap),
		cmocka_unit_test(test_string_caps),
		cmocka_unit_test(test_version_and_body),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_rule_violations),
		cmocka_unit_test(test_bad_rrs),
		cmocka_unit_test(test_many_empty_rrs_hit_memory_cap),
		cmocka_unit_test(test_encode_refuses_invalid),
		cmocka_unit_test(test_challenge_tbs),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
