/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/zoneset: versions, IXFR journal chains and trimming, versions held
 * by transfers outliving replacement, catalog membership, all-or-nothing updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/buf.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zonefile.h"
#include "spoke/zoneset.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";
static const uint8_t other[] = "\x07"
			       "example\x03"
			       "org";
static const uint8_t cat[] = "\x03"
			     "cat\x05"
			     "fedns";

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

typedef struct seen {
	unsigned calls;
	uint8_t last[FEDNS_NAME_MAXLEN];
	uint32_t serial;
} seen;

static void
on_change(void *ctx, const uint8_t *o, uint32_t serial)
{
	seen *s = ctx;
	s->calls++;
	fedns_name_copy(s->last, o);
	s->serial = serial;
}

static void
test_versions_and_journal(void **state)
{
	(void)state;
	spoke_zoneset_opts o = {.journal_max = 3};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(&o, &zs), FEDNS_OK);
	seen s = {0};
	spoke_zoneset_on_change(zs, on_change, &s);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 1, "192.0.2.10"), NULL), FEDNS_OK);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.serial, 1);

	/* a transfer holds version 1 while versions 2..5 arrive */
	spoke_version *held = spoke_zoneset_get(zs, origin);
	assert_non_null(held);
	for (uint32_t ser = 2; ser <= 5; ser++) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%u", 10 + ser);
		assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, ser, a), NULL), FEDNS_OK);
	}
	assert_int_equal(s.calls, 5);
	assert_int_equal(held->serial, 1);
	assert_int_equal(fedns_zone_serial(held->zone), 1);
	assert_non_null(fedns_zone_find(held->zone, origin, FEDNS_T_SOA));

	spoke_version *cur = spoke_zoneset_get(zs, origin);
	assert_int_equal(cur->serial, 5);
	spoke_jentry *j[8];
	/* journal_max 3: diffs 2->3, 3->4, 4->5 are kept; 1->2 is gone */
	long n = spoke_zoneset_journal(zs, cur, 2, j, 8);
	assert_int_equal(n, 3);
	assert_int_equal(j[0]->from, 2);
	assert_int_equal(j[2]->to, 5);
	/* each diff deletes the old www and adds the new one, SOAs first */
	assert_int_equal(j[0]->diff.ndel, 2);
	assert_int_equal(j[0]->diff.add[0].type, FEDNS_T_SOA);
	for (long i = 0; i < n; i++)
		spoke_jentry_rele(j[i]);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 1, j, 8), -1);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 5, j, 8), 0);
	assert_int_equal(spoke_zoneset_journal(zs, cur, 4, j, 8), 1);
	spoke_jentry_rele(j[0]);
	/* a max too small to hold the chain means AXFR */
	assert_int_equal(spoke_zoneset_journal(zs, cur, 2, j, 2), -1);

	/* stale and equal serials are refused and change nothing */
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_zone *stale = zone_at(origin, 5, "192.0.2.99");
	assert_int_equal(spoke_zoneset_put(zs, stale, &d), FEDNS_ESTALE);
	assert_non_null(strstr(d.msg, "not greater"));
	fedns_zone_free(stale);
	spoke_version *again = spoke_zoneset_get(zs, origin);
	assert_ptr_equal(again, cur);
	spoke_version_rele(again);

	spoke_version_rele(cur);
	spoke_version_rele(held); /* the old version goes now, not before */
	spoke_zoneset_free(zs);
}

static void
test_apply(void **state)
{
	(void)state;
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	fedns_zone *v1 = zone_at(origin, 1, "192.0.2.1");
	fedns_zone *v2 = zone_at(origin, 2, "192.0.2.2");
	assert_int_equal(spoke_zoneset_put(zs, v1, NULL), FEDNS_OK);
	fedns_diff diff;
	fedns_diff_init(&diff);
	spoke_version *cur = spoke_zoneset_get(zs, origin);
	assert_int_equal(fedns_diff_compute(cur->zone, v2, &diff), FEDNS_OK);
	spoke_version_rele(cur);

	uint32_t ns = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_zoneset_apply(zs, other, &diff, &ns, &d), FEDNS_ENOENT);
	assert_int_equal(spoke_zoneset_apply(zs, origin, &diff, &ns, &d), FEDNS_OK);
	assert_int_equal(ns, 2);
	/* the same diff again no longer starts at the current SOA: refused, state kept */
	fedns_diff again;
	fedns_diff_init(&again);
	cur = spoke_zoneset_get(zs, origin);
	fedns_zone *v1copy = zone_at(origin, 1, "192.0.2.1"); /* v1 itself belongs to zs */
	assert_int_equal(fedns_diff_compute(v1copy, v2, &again), FEDNS_OK);
	fedns_zone_free(v1copy);
	fedns_diag_clear(&d);
	assert_int_not_equal(spoke_zoneset_apply(zs, origin, &again, &ns, &d), FEDNS_OK);
	spoke_version *after = spoke_zoneset_get(zs, origin);
	assert_ptr_equal(after, cur);
	assert_int_equal(after->serial, 2);
	spoke_version_rele(after);
	spoke_version_rele(cur);
	fedns_diff_fini(&again);
	fedns_diff_fini(&diff);
	fedns_zone_free(v2);
	spoke_zoneset_free(zs);
}

static void
test_catalog_membership(void **state)
{
	(void)state;
	spoke_zoneset_opts o = {.catalog_origin = cat};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(&o, &zs), FEDNS_OK);
	seen s = {0};
	spoke_zoneset_on_change(zs, on_change, &s);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 1, "192.0.2.1"), NULL), FEDNS_OK);
	/* member change and catalog change are both reported */
	assert_int_equal(s.calls, 2);
	assert_true(fedns_name_equal(s.last, cat));
	spoke_version *c1 = spoke_zoneset_get(zs, cat);
	assert_non_null(c1);
	assert_int_equal(fedns_zone_rr_count(c1->zone), 4);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(other, 7, "192.0.2.1"), NULL), FEDNS_OK);
	spoke_version *c2 = spoke_zoneset_get(zs, cat);
	assert_int_equal(c2->serial, c1->serial + 1);
	assert_int_equal(fedns_zone_rr_count(c2->zone), 5);
	/* the catalog has a journal too, so secondaries get membership changes by IXFR */
	spoke_jentry *j[4];
	assert_int_equal(spoke_zoneset_journal(zs, c2, c1->serial, j, 4), 1);
	assert_int_equal(j[0]->diff.nadd, 2); /* new SOA, new PTR */
	spoke_jentry_rele(j[0]);

	/* a new version of a member does not touch the catalog */
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 2, "192.0.2.2"), NULL), FEDNS_OK);
	spoke_version *c3 = spoke_zoneset_get(zs, cat);
	assert_ptr_equal(c3, c2);
	spoke_version_rele(c3);

	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_OK);
	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_ENOENT);
	assert_null(spoke_zoneset_get(zs, origin));
	spoke_version *c4 = spoke_zoneset_get(zs, cat);
	assert_int_equal(c4->serial, c2->serial + 1);
	assert_int_equal(fedns_zone_rr_count(c4->zone), 4);
	uint8_t **list;
	size_t n = spoke_zoneset_list(zs, &list);
	assert_int_equal(n, 1);
	assert_true(fedns_name_equal(list[0], other));
	spoke_zoneset_list_free(list, n);

	/* a zone may not take the catalog's name */
	fedns_zone *clash = zone_at(cat, 1, "192.0.2.1");
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_zoneset_put(zs, clash, &d), FEDNS_EEXIST);
	fedns_zone_free(clash);

	spoke_version_rele(c1);
	spoke_version_rele(c2);
	spoke_version_rele(c4);
	spoke_zoneset_free(zs);
}

/* ---- versions built copy-on-write (spoke_zoneset_build) against fedns_diff_apply ---- */

static uint32_t rng_state = 0x5eed1234u;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state % n;
}

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A zone of 'hosts' names hN with one A each (and a TXT on every 7th). */
static fedns_zone *
hosts_zone(unsigned hosts)
{
	size_t cap = 256 + (size_t)hosts * 64, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	off += (size_t)snprintf(text, cap,
				"$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A "
				"192.0.2.1\n");
	for (unsigned i = 0; i < hosts; i++) {
		off += (size_t)snprintf(text + off, cap - off, "h%u A 10.%u.%u.%u\n", i, i >> 16,
					(i >> 8) & 255, i & 255);
		if (i % 7 == 0)
			off += (size_t)snprintf(text + off, cap - off, "h%u TXT \"t%u\"\n", i, i);
	}
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = origin};
	assert_int_equal(fedns_zonefile_parse("hosts", text, off, &opts, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	free(text);
	return z;
}

static void
wire_name(const char *text, uint8_t out[FEDNS_NAME_MAXLEN])
{
	size_t len = 0;
	assert_int_equal(fedns_name_from_text(text, strlen(text), origin, out, &len, NULL),
			 FEDNS_OK);
}

/* The SOA pair that moves z's serial by one. */
static void
soa_pair(const fedns_zone *z, fedns_diff *d)
{
	fedns_rr soa;
	assert_true(fedns_zone_soa(z, &soa));
	assert_int_equal(fedns_diff_del(d, &soa), FEDNS_OK);
	uint8_t rd[512];
	assert_true(soa.rdlen >= 20 && soa.rdlen <= sizeof(rd));
	memcpy(rd, soa.rdata, soa.rdlen);
	uint32_t s = fedns_soa_serial(soa.rdata, soa.rdlen) + 1;
	uint8_t *p = rd + soa.rdlen - 20;
	p[0] = (uint8_t)(s >> 24);
	p[1] = (uint8_t)(s >> 16);
	p[2] = (uint8_t)(s >> 8);
	p[3] = (uint8_t)s;
	soa.rdata = rd;
	assert_int_equal(fedns_diff_add(d, &soa), FEDNS_OK);
}

static void
rr_add(fedns_diff *d, bool add, const uint8_t *owner, uint16_t type, uint32_t ttl,
       const uint8_t *rd, size_t rdlen)
{
	fedns_rr rr = {.owner = owner,
		       .type = type,
		       .rclass = FEDNS_C_IN,
		       .ttl = ttl,
		       .rdlen = (uint16_t)rdlen,
		       .rdata = rd};
	assert_int_equal(add ? fedns_diff_add(d, &rr) : fedns_diff_del(d, &rr), FEDNS_OK);
}

/* One random edit of z into d: address and TTL changes, new and removed names (all of
 * which derive takes), with 'all' also NS delegations and CNAMEs (some of which it leaves
 * to fedns_diff_apply), and with 'bad' one edit fedns_diff_apply refuses. */
static void
random_edit(const fedns_zone *z, unsigned hosts, bool all, bool bad, fedns_diff *d)
{
	char text[64];
	uint8_t name[FEDNS_NAME_MAXLEN], target[FEDNS_NAME_MAXLEN];
	uint8_t a[4] = {198, 51, (uint8_t)rnd(256), (uint8_t)rnd(256)};
	unsigned k = rnd(hosts + hosts / 4); /* some names beyond the zone's hosts */
	snprintf(text, sizeof(text), "h%u", k);
	wire_name(text, name);
	const fedns_rrset *s = fedns_zone_find(z, name, FEDNS_T_A);
	uint16_t len = 0;
	const uint8_t *rd = NULL;
	if (s != NULL) {
		const uint8_t *pos = s->rdata;
		rd = fedns_rrset_next_rdata(&pos, &len);
	}
	if (bad) {
		switch (rnd(3)) {
		case 0: /* delete what is not there */
			rr_add(d, false, name, FEDNS_T_AAAA, 60,
			       (const uint8_t *)"0123456789abcdef", 16);
			break;
		case 1: /* add what is there */
			if (s != NULL)
				rr_add(d, true, name, FEDNS_T_A, s->ttl, rd, len);
			else
				rr_add(d, false, name, FEDNS_T_A, 60, a, 4);
			break;
		default: /* CNAME beside other data */
			wire_name("www", target);
			if (s == NULL)
				rr_add(d, true, name, FEDNS_T_A, 60, a, 4);
			rr_add(d, true, name, FEDNS_T_CNAME, 60, target, fedns_name_len(target));
			break;
		}
		return;
	}
	switch (rnd(all ? 6 : 4)) {
	case 0: /* a new address */
	case 1:
		if (s != NULL)
			rr_add(d, false, name, FEDNS_T_A, s->ttl, rd, len);
		rr_add(d, true, name, FEDNS_T_A, 60, a, 4);
		break;
	case 2: /* the name goes (its TXT stays when it has one) */
		if (s != NULL)
			rr_add(d, false, name, FEDNS_T_A, s->ttl, rd, len);
		else
			rr_add(d, true, name, FEDNS_T_A, 300, a, 4);
		break;
	case 3: /* a TTL change */
		if (s != NULL) {
			rr_add(d, false, name, FEDNS_T_A, s->ttl, rd, len);
			rr_add(d, true, name, FEDNS_T_A, s->ttl == 60 ? 3600 : 60, rd, len);
		} else {
			rr_add(d, true, name, FEDNS_T_A, 120, a, 4);
		}
		break;
	case 4: /* a delegation, or its removal */
		snprintf(text, sizeof(text), "d%u", k);
		wire_name(text, name);
		wire_name("ns.example.net.", target);
		rr_add(d, fedns_zone_find(z, name, FEDNS_T_NS) == NULL, name, FEDNS_T_NS, 60,
		       target, fedns_name_len(target));
		break;
	default: /* a CNAME at a name of its own, or its removal */
		snprintf(text, sizeof(text), "c%u", k);
		wire_name(text, name);
		wire_name("www", target);
		rr_add(d, fedns_zone_find(z, name, FEDNS_T_CNAME) == NULL, name, FEDNS_T_CNAME, 60,
		       target, fedns_name_len(target));
		break;
	}
}

static void
assert_same_zone(const fedns_zone *a, const fedns_zone *b)
{
	fedns_buf pa, pb;
	fedns_buf_init(&pa, 1 << 20);
	fedns_buf_init(&pb, 1 << 20);
	assert_int_equal(fedns_zone_print(a, &pa), FEDNS_OK);
	assert_int_equal(fedns_zone_print(b, &pb), FEDNS_OK);
	assert_int_equal(pa.len, pb.len);
	assert_memory_equal(pa.data, pb.data, pa.len);
	fedns_buf_fini(&pa);
	fedns_buf_fini(&pb);
	uint8_t da[FEDNS_ZDIGEST_LEN], db[FEDNS_ZDIGEST_LEN];
	assert_int_equal(fedns_zdigest_compute(a, da), FEDNS_OK);
	assert_int_equal(fedns_zdigest_compute(b, db), FEDNS_OK);
	assert_memory_equal(da, db, sizeof(da));
	assert_int_equal(fedns_zone_rr_count(a), fedns_zone_rr_count(b));
	assert_int_equal(fedns_zone_serial(a), fedns_zone_serial(b));
}

/* Chains of random diffs applied both ways give the same versions (same text, same tree
 * digest), and a diff fedns_diff_apply refuses is refused with its exact words. */
static void
test_build_matches_apply(void **state)
{
	(void)state;
	enum {
		HOSTS = 600,
		STEPS = 300
	};
	fedns_zone *flat = hosts_zone(HOSTS), *cow = hosts_zone(HOSTS);
	assert_int_equal(fedns_zone_share(cow), FEDNS_OK);
	unsigned derived = 0, fallback = 0, refused = 0;
	for (unsigned step = 0; step < STEPS; step++) {
		bool bad = rnd(8) == 0;
		fedns_diff d;
		fedns_diff_init(&d);
		soa_pair(flat, &d);
		unsigned edits = 1 + rnd(4);
		for (unsigned i = 0; i < edits; i++)
			random_edit(flat, HOSTS, true, bad && i == edits - 1, &d);
		/* which way the copy-on-write build goes, for the counts below */
		fedns_zone *probe = NULL;
		bool derives =
			fedns_zone_derive(cow, d.del, d.ndel, d.add, d.nadd, &probe) == FEDNS_OK;
		fedns_zone_free(probe);

		fedns_zone *nf = NULL, *nc = NULL;
		fedns_diag df, dc;
		fedns_diag_clear(&df);
		fedns_diag_clear(&dc);
		fedns_err ef = fedns_diff_apply(flat, &d, &nf, &df);
		fedns_err ec = spoke_zoneset_build(cow, &d, &nc, &dc);
		assert_int_equal(ec, ef);
		if (ef != FEDNS_OK) {
			/* two edits of one random diff can also clash by chance */
			assert_null(nc);
			assert_false(derives);
			assert_string_equal(dc.msg, df.msg);
			assert_int_equal(dc.line, df.line);
			refused++;
			fedns_diff_fini(&d);
			continue;
		}
		assert_true(bad == false || edits > 0);
		derived += derives;
		fallback += !derives;
		assert_same_zone(nc, nf);
		fedns_diff_fini(&d);
		/* the base goes first half the time: versions must not lean on it */
		if (step & 1) {
			fedns_zone_free(cow);
			fedns_zone_free(flat);
		} else {
			fedns_zone *oc = cow, *of = flat;
			cow = nc;
			flat = nf;
			assert_same_zone(cow, flat);
			fedns_zone_free(oc);
			fedns_zone_free(of);
			continue;
		}
		cow = nc;
		flat = nf;
	}
	printf("# build: %u versions derived, %u built by fedns_diff_apply, %u refused alike\n",
	       derived, fallback, refused);
	assert_true(derived > STEPS / 2);
	assert_true(fallback > 0);
	assert_true(refused > 0);
	fedns_zone_free(flat);
	fedns_zone_free(cow);
}

/* The set's own versions: a put zone is shared, applies derive from it, the journal holds
 * each diff, and every version equals the one fedns_diff_apply builds. Timing per change on
 * a 20,000-host zone is logged (no assertion on it). */
static void
test_apply_chain_and_measure(void **state)
{
	(void)state;
	enum {
		HOSTS = 20000,
		STEPS = 200
	};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(NULL, &zs), FEDNS_OK);
	fedns_zone *ref = hosts_zone(HOSTS);
	assert_int_equal(spoke_zoneset_put(zs, hosts_zone(HOSTS), NULL), FEDNS_OK);
	uint64_t us_apply = 0, us_set = 0, us_flat = 0, us_put = 0;
	for (unsigned step = 0; step < STEPS; step++) {
		fedns_diff d, copy;
		fedns_diff_init(&d);
		fedns_diff_init(&copy);
		soa_pair(ref, &d);
		random_edit(ref, HOSTS, false, false, &d);
		for (size_t i = 0; i < d.ndel; i++)
			assert_int_equal(fedns_diff_del(&copy, &d.del[i]), FEDNS_OK);
		for (size_t i = 0; i < d.nadd; i++)
			assert_int_equal(fedns_diff_add(&copy, &d.add[i]), FEDNS_OK);
		spoke_version *cur = spoke_zoneset_get(zs, origin);
		fedns_zone *built = NULL, *next = NULL;
		uint64_t t0 = now_us();
		assert_int_equal(spoke_zoneset_build(cur->zone, &d, &built, NULL), FEDNS_OK);
		uint64_t t1 = now_us();
		assert_int_equal(fedns_diff_apply(ref, &d, &next, NULL), FEDNS_OK);
		uint64_t t2 = now_us();
		spoke_version_rele(cur);
		uint32_t serial = 0;
		uint64_t t3 = now_us();
		if (step & 1) {
			/* the hub session's batch path: built off to the side, then put (the
			 * set computes the journal's diff itself) */
			assert_int_equal(spoke_zoneset_put(zs, built, NULL), FEDNS_OK);
			serial = fedns_zone_serial(built);
			us_put += now_us() - t3 + (t1 - t0);
		} else {
			fedns_zone_free(built);
			assert_int_equal(spoke_zoneset_apply(zs, origin, &d, &serial, NULL),
					 FEDNS_OK);
			us_set += now_us() - t3;
		}
		us_apply += t1 - t0;
		us_flat += t2 - t1;
		assert_int_equal(serial, fedns_zone_serial(next));
		fedns_zone_free(ref);
		ref = next;
		spoke_version *v = spoke_zoneset_get(zs, origin);
		assert_int_equal(v->journal->from, serial - 1);
		assert_int_equal(v->journal->diff.ndel, copy.ndel);
		assert_int_equal(v->journal->diff.nadd, copy.nadd);
		if (step % 50 == 49)
			assert_same_zone(v->zone, ref);
		spoke_version_rele(v);
		fedns_diff_fini(&copy);
		fedns_diff_fini(&d);
	}
	spoke_version *v = spoke_zoneset_get(zs, origin);
	assert_same_zone(v->zone, ref);
	/* the journal reaches back over the chain for IXFR */
	spoke_jentry *j[STEPS];
	assert_int_equal(spoke_zoneset_journal(zs, v, 1, j, STEPS), STEPS);
	for (unsigned i = 0; i < STEPS; i++) {
		assert_int_equal(j[i]->from, 1 + i);
		spoke_jentry_rele(j[i]);
	}
	spoke_version_rele(v);
	printf("# measure: %u RRsets, one-record edits (address, TTL, name added or removed): "
	       "spoke_zoneset_build %.1f us mean, fedns_diff_apply %.1f us mean; "
	       "spoke_zoneset_apply (build + swap) %.1f us mean; build + spoke_zoneset_put "
	       "(the batch path: put computes the journal's diff over both zones) %.1f us mean\n",
	       (unsigned)fedns_zone_rrset_count(ref), (double)us_apply / STEPS,
	       (double)us_flat / STEPS, (double)us_set / (STEPS / 2), (double)us_put / (STEPS / 2));
	fedns_zone_free(ref);
	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_OK);
	spoke_zoneset_free(zs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_and_journal),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_catalog_membership),
		cmocka_unit_test(test_build_matches_apply),
		cmocka_unit_test(test_apply_chain_and_measure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
