/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's side of federation: signed blobs checked and applied against the zone set,
 * placement, cached digests, and the thread that keeps the session with the hub. */
#include "spoke/hubsession.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/arena.h"
#include "common/encode.h"
#include "common/file.h"
#include "common/log.h"
#include "common/sha2.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/serial.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonemd.h"
#include "tls/conn.h"
#include "tls/nngtls.h"
#include "tls/spokeauth.h"

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
mono_ms(void)
{
	return mono_us() / 1000u;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t
clamp_us(uint64_t us)
{
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* ---- a set of zone names with optional digests ---- */

typedef struct nnode {
	struct nnode *next;
	uint64_t hash;
	/* the ZONEMD SIMPLE digest (alg 1 or 2) of one version: what a change set from an
	 * older hub is checked and acknowledged with */
	bool has_digest;
	uint8_t alg, len;
	uint32_t serial;
	uint8_t digest[FEDNS_ZONEMD_MAXLEN];
	/* the tree digest (alg 240): the root of version root_serial, and the tree itself at
	 * zd_serial (NULL while the applying thread has it out; readers use the root) */
	bool has_root;
	uint32_t root_serial;
	uint8_t root[FEDNS_ZDIGEST_LEN];
	fedns_zdigest *zd;
	uint32_t zd_serial;
	uint8_t name[FEDNS_NAME_MAXLEN];
} nnode;

/* Chained hash table keyed by the case-folded wire name: placement and digest lookups
 * happen for every blob, and a spoke may carry many thousands of zones. */
typedef struct ntab {
	nnode **b;
	size_t nb, n;
} ntab;

static nnode *
ntab_find(const ntab *t, const uint8_t *name)
{
	if (t->nb == 0)
		return NULL;
	uint64_t h = fedns_name_hash(name);
	for (nnode *e = t->b[h % t->nb]; e != NULL; e = e->next)
		if (e->hash == h && fedns_name_equal(e->name, name))
			return e;
	return NULL;
}

static fedns_err
ntab_grow(ntab *t)
{
	size_t nb = t->nb ? t->nb * 2 : 64;
	nnode **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return FEDNS_ENOMEM;
	for (size_t i = 0; i < t->nb; i++) {
		nnode *e = t->b[i];
		while (e != NULL) {
			nnode *next = e->next;
			e->next = b[e->hash % nb];
			b[e->hash % nb] = e;
			e = next;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return FEDNS_OK;
}

/* The entry for name, added when missing; NULL when out of memory. */
static nnode *
ntab_add(ntab *t, const uint8_t *name)
{
	nnode *e = ntab_find(t, name);
	if (e != NULL)
		return e;
	if (t->n >= t->nb && ntab_grow(t) != FEDNS_OK)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->hash = fedns_name_hash(name);
	fedns_name_copy(e->name, name);
	e->next = t->b[e->hash % t->nb];
	t->b[e->hash % t->nb] = e;
	t->n++;
	return e;
}

static void
ntab_del(ntab *t, const uint8_t *name)
{
	if (t->nb == 0)
		return;
	uint64_t h = fedns_name_hash(name);
	for (nnode **p = &t->b[h % t->nb]; *p != NULL; p = &(*p)->next) {
		nnode *e = *p;
		if (e->hash == h && fedns_name_equal(e->name, name)) {
			*p = e->next;
			fedns_zdigest_free(e->zd);
			free(e);
			t->n--;
			return;
		}
	}
}

static void
ntab_clear(ntab *t)
{
	for (size_t i = 0; i < t->nb; i++) {
		nnode *e = t->b[i];
		while (e != NULL) {
			nnode *next = e->next;
			fedns_zdigest_free(e->zd);
			free(e);
			e = next;
		}
		t->b[i] = NULL;
	}
	t->n = 0;
}

static void
ntab_fini(ntab *t)
{
	ntab_clear(t);
	free(t->b);
	t->b = NULL;
	t->nb = 0;
}

/* ---- the state ---- */

typedef struct pinned {
	char id[FEDNS_SIGN_KEYID_LEN + 1];
	fedns_sign_key *k;
} pinned;

struct spoke_hubstate {
	spoke_zoneset *zs;
	spoke_zoneset_store inner; /* the hooks installed before ours (the journal's) */
	bool has_inner;
	pthread_mutex_t mu; /* placement, digests, stats */
	ntab placed;
	ntab digests;
	/* bumped when a zone goes or is replaced whole: a digest computed from a version read
	 * before is not kept (it may describe other content at the same serial) */
	uint64_t epoch;
	bool have_generation;
	uint64_t generation;
	spoke_hubstate_stats st;
	pthread_mutex_t kmu; /* the keys: an mbedTLS key serves one thread at a time */
	pinned keys[SPOKE_HUB_KEYS_MAX];
	size_t nkeys;
};

/* ---- digests of held versions ---- */

static uint64_t
epoch_now(spoke_hubstate *s)
{
	pthread_mutex_lock(&s->mu);
	uint64_t e = s->epoch;
	pthread_mutex_unlock(&s->mu);
	return e;
}

/* Forgets every digest of origin (its tree too): the zone went or was replaced whole. */
static void
forget_locked(spoke_hubstate *s, const uint8_t *origin)
{
	s->epoch++;
	ntab_del(&s->digests, origin);
}

static void
cache_put(spoke_hubstate *s, const uint8_t *origin, uint32_t serial, uint8_t alg,
	  const uint8_t *digest, size_t len, uint64_t epoch)
{
	if (alg == FEDNS_ZDIGEST_ALG || len > FEDNS_ZONEMD_MAXLEN)
		return; /* the tree's root is kept with the tree (tree_put) */
	pthread_mutex_lock(&s->mu);
	nnode *e = epoch == s->epoch ? ntab_add(&s->digests, origin) : NULL;
	if (e != NULL) { /* else only a cache: computed again when needed */
		e->has_digest = true;
		e->alg = alg;
		e->len = (uint8_t)len;
		e->serial = serial;
		memcpy(e->digest, digest, len);
	}
	pthread_mutex_unlock(&s->mu);
}

bool
spoke_hubstate_cached_digest(spoke_hubstate *s, const uint8_t *origin, uint32_t serial, uint8_t alg,
			     uint8_t digest[FEDNS_ZONEMD_MAXLEN], size_t *len)
{
	pthread_mutex_lock(&s->mu);
	nnode *e = ntab_find(&s->digests, origin);
	bool ok = false;
	if (e != NULL && alg == FEDNS_ZDIGEST_ALG && e->has_root && e->root_serial == serial) {
		memcpy(digest, e->root, FEDNS_ZDIGEST_LEN);
		*len = FEDNS_ZDIGEST_LEN;
		ok = true;
	} else if (e != NULL && alg != FEDNS_ZDIGEST_ALG && e->has_digest && e->alg == alg &&
		   e->serial == serial) {
		memcpy(digest, e->digest, e->len);
		*len = e->len;
		ok = true;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

/* Takes origin's tree out of the table when it is at 'serial', for the applying thread to
 * update alone (readers use the cached root meanwhile); NULL otherwise. A tree at another
 * serial describes no version held and is freed. */
static fedns_zdigest *
tree_take(spoke_hubstate *s, const uint8_t *origin, uint32_t serial)
{
	fedns_zdigest *zd = NULL, *stale = NULL;
	pthread_mutex_lock(&s->mu);
	nnode *e = ntab_find(&s->digests, origin);
	if (e != NULL && e->zd != NULL) {
		if (e->zd_serial == serial)
			zd = e->zd;
		else
			stale = e->zd;
		e->zd = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	fedns_zdigest_free(stale);
	return zd;
}

/* Keeps zd (taken; NULL accepted) as origin's tree at 'serial' and caches its root.
 * 'epoch' is s->epoch from before the version zd describes was read: when the zone went or
 * was replaced since, zd is dropped. A tree already kept is replaced when 'replace' (the
 * applying thread's is the newest), else zd is dropped. */
static void
tree_put(spoke_hubstate *s, const uint8_t *origin, fedns_zdigest *zd, uint32_t serial,
	 uint64_t epoch, bool replace)
{
	if (zd == NULL)
		return;
	uint8_t root[FEDNS_ZDIGEST_LEN];
	fedns_zdigest_root(zd, root);
	fedns_zdigest *drop = zd;
	pthread_mutex_lock(&s->mu);
	nnode *e = epoch == s->epoch ? ntab_add(&s->digests, origin) : NULL;
	if (e != NULL && (e->zd == NULL || replace)) {
		drop = e->zd;
		e->zd = zd;
		e->zd_serial = serial;
		e->has_root = true;
		e->root_serial = serial;
		memcpy(e->root, root, sizeof(root));
	}
	pthread_mutex_unlock(&s->mu);
	fedns_zdigest_free(drop);
}

/* A tree of z from scratch: O(zone), counted (after a start, a snapshot or a failure). */
static fedns_err
tree_build(spoke_hubstate *s, const fedns_zone *z, fedns_zdigest **out)
{
	fedns_err err = fedns_zdigest_new(z, out);
	if (err == FEDNS_OK) {
		pthread_mutex_lock(&s->mu);
		s->st.tree_builds++;
		pthread_mutex_unlock(&s->mu);
	}
	return err;
}

/* Brings *zd from 'from' (the zone 'diff' applies to) to 'to' (the zone it made), building
 * the tree of 'from' first when *zd is NULL (*fresh then true). Without 'from' or 'diff'
 * the tree of 'to' is built. On failure *zd is NULL. */
static fedns_err
tree_advance(spoke_hubstate *s, fedns_zdigest **zd, bool *fresh, const fedns_zone *from,
	     const fedns_zone *to, const fedns_diff *diff)
{
	if (*zd == NULL) {
		*fresh = true;
		if (from == NULL || diff == NULL)
			return tree_build(s, to, zd);
		fedns_err err = tree_build(s, from, zd);
		if (err != FEDNS_OK)
			return err;
	}
	fedns_err err = fedns_zdigest_update(*zd, to, diff);
	if (err != FEDNS_OK) {
		fedns_zdigest_free(*zd);
		*zd = NULL;
	}
	return err;
}

/* Brings *zd back from the zone 'diff' made to 'from'; frees it when it cannot. */
static void
tree_back(fedns_zdigest **zd, const fedns_zone *from, const fedns_diff *diff)
{
	if (*zd == NULL)
		return;
	if (from == NULL || diff == NULL || fedns_zdigest_update(*zd, from, diff) != FEDNS_OK) {
		fedns_zdigest_free(*zd);
		*zd = NULL;
	}
}

static bool
digest_eq(const uint8_t *got, size_t len, const fedns_proto_digest *want)
{
	return len == want->len && memcmp(got, want->value, len) == 0;
}

/* Checks the tree digest of 'to' against 'want', the tree following the diff (tree_advance).
 * A kept tree that disagrees is rebuilt from scratch and asked again: a tree that went
 * wrong must never refuse a correct change (this costs O(zone) only on a mismatch). On a
 * final mismatch (*match false) the tree is brought back to 'from'. got[] holds the root
 * of 'to'. Errors: the tree is then NULL. */
static fedns_err
tree_check(spoke_hubstate *s, fedns_zdigest **zd, const fedns_zone *from, const fedns_zone *to,
	   const fedns_diff *diff, const fedns_proto_digest *want, uint8_t got[FEDNS_ZDIGEST_LEN],
	   bool *match)
{
	bool fresh = false;
	*match = false;
	fedns_err err = tree_advance(s, zd, &fresh, from, to, diff);
	if (err != FEDNS_OK)
		return err;
	fedns_zdigest_root(*zd, got);
	*match = digest_eq(got, FEDNS_ZDIGEST_LEN, want);
	if (!*match && !fresh) {
		fedns_zdigest_free(*zd);
		*zd = NULL;
		err = tree_advance(s, zd, &fresh, from, to, diff);
		if (err != FEDNS_OK)
			return err;
		fedns_zdigest_root(*zd, got);
		*match = digest_eq(got, FEDNS_ZDIGEST_LEN, want);
		if (*match) {
			char zt[FEDNS_NAME_MAXTEXT];
			fedns_name_to_text(fedns_zone_origin(to), zt, sizeof(zt));
			fedns_log(FEDNS_LOG_ERROR, "spoke.zdigest.stale", FEDNS_LF_STR("zone", zt),
				  FEDNS_LF_UINT("serial", fedns_zone_serial(to)),
				  FEDNS_LF_STR("detail", "the kept tree digest disagreed with one "
							 "rebuilt from the zone; rebuilt"));
		}
	}
	if (!*match)
		tree_back(zd, from, diff);
	return FEDNS_OK;
}

/* The digest of version v of origin with 'alg': cached (the tree's root when the tree is at
 * v), else computed from scratch and kept (a tree for alg 240). */
static fedns_err
version_digest(spoke_hubstate *s, const uint8_t *origin, const spoke_version *v, uint8_t alg,
	       uint8_t out[FEDNS_ZONEMD_MAXLEN], size_t *len)
{
	if (spoke_hubstate_cached_digest(s, origin, v->serial, alg, out, len))
		return FEDNS_OK;
	/* kept only when v is still the served version after the epoch was read */
	uint64_t epoch = epoch_now(s);
	spoke_version *cur = spoke_zoneset_get(s->zs, origin);
	bool current = cur == v;
	spoke_version_rele(cur);
	if (alg == FEDNS_ZDIGEST_ALG) {
		fedns_zdigest *zd = NULL;
		fedns_err err = tree_build(s, v->zone, &zd);
		if (err != FEDNS_OK)
			return err;
		fedns_zdigest_root(zd, out);
		*len = FEDNS_ZDIGEST_LEN;
		if (current)
			tree_put(s, origin, zd, v->serial, epoch, false);
		else
			fedns_zdigest_free(zd);
		return FEDNS_OK;
	}
	fedns_err err = fedns_zonemd_compute(v->zone, alg, out, len);
	if (err == FEDNS_OK && current)
		cache_put(s, origin, v->serial, alg, out, *len, epoch);
	return err;
}

/* What the thread applying a change set expects the new version to hash to. The zone
 * set runs its store hooks in the calling thread, before the version is visible and
 * before the journal's hook writes it, so checking there leaves nothing behind on a
 * mismatch. The tree digest follows the diff from 'base' (O(change)); it is at zd_at. */
typedef struct expect {
	spoke_hubstate *s;
	const uint8_t *origin;
	const fedns_proto_digest *want;
	const spoke_version *base; /* the version the diff applies to */
	fedns_zdigest *zd;	   /* the tree, at zd_at; NULL when none */
	uint32_t zd_at;
	bool mismatch;	   /* computed and different */
	bool computed;	   /* got[] holds the digest of the new version */
	bool store_failed; /* the hook after ours (the journal) refused */
	uint32_t serial;
	uint8_t got[FEDNS_ZONEMD_MAXLEN];
	size_t gotlen;
} expect;

static _Thread_local expect *tl_expect;

/* The diff v follows base by, or NULL (then the tree cannot follow it). */
static const fedns_diff *
expect_diff(const expect *e, const spoke_version *v)
{
	return v->journal != NULL && v->journal->from == e->base->serial &&
			       v->journal->to == v->serial
		       ? &v->journal->diff
		       : NULL;
}

static fedns_err
check_expect(spoke_hubstate *s, const spoke_version *v, fedns_diag *d)
{
	expect *e = tl_expect;
	if (e == NULL || e->s != s || !fedns_name_equal(fedns_zone_origin(v->zone), e->origin))
		return FEDNS_OK;
	const fedns_diff *diff = expect_diff(e, v);
	const fedns_zone *from = diff != NULL ? e->base->zone : NULL;
	if (diff == NULL) {
		fedns_zdigest_free(e->zd);
		e->zd = NULL;
	}
	size_t len = 0;
	bool match = false;
	fedns_err err;
	if (e->want->alg == FEDNS_ZDIGEST_ALG) {
		err = tree_check(s, &e->zd, from, v->zone, diff, e->want, e->got, &match);
		if (err != FEDNS_OK)
			return fedns_diag_set(d, err, "tree digest of serial %u: %s", v->serial,
					      fedns_strerror(err));
		len = FEDNS_ZDIGEST_LEN;
	} else {
		err = fedns_zonemd_compute(v->zone, e->want->alg, e->got, &len);
		if (err != FEDNS_OK)
			return fedns_diag_set(d, err, "ZONEMD of serial %u: %s", v->serial,
					      fedns_strerror(err));
		match = digest_eq(e->got, len, e->want);
		/* a kept tree follows, so held versions are reported without whole-zone work */
		if (e->zd != NULL && match &&
		    fedns_zdigest_update(e->zd, v->zone, diff) != FEDNS_OK) {
			fedns_zdigest_free(e->zd);
			e->zd = NULL;
		}
	}
	e->computed = true;
	e->gotlen = len;
	e->serial = v->serial;
	if (!match) {
		/* the tree is at base again (tree_check), or was not moved */
		char got[17], want[17];
		fedns_hex_encode(e->got, 8, got, 0);
		fedns_hex_encode(e->want->value, e->want->len < 8 ? e->want->len : 8, want, 0);
		e->mismatch = true;
		return fedns_diag_set(d, FEDNS_EAUTH,
				      "serial %u hashes to %s..., the hub signed %s...: the "
				      "previous version stays served",
				      v->serial, got, want);
	}
	e->zd_at = v->serial;
	return FEDNS_OK;
}

/* The hook after ours refused v: the tree goes back to the version still served. */
static void
expect_undo(spoke_hubstate *s, const spoke_version *v)
{
	expect *e = tl_expect;
	if (e == NULL || e->s != s || !fedns_name_equal(fedns_zone_origin(v->zone), e->origin))
		return;
	e->store_failed = true;
	if (e->zd != NULL && e->zd_at == v->serial) {
		tree_back(&e->zd, e->base->zone, expect_diff(e, v));
		e->zd_at = e->base->serial;
	}
}

static fedns_err
hook_added(void *ctx, const spoke_version *v, fedns_diag *d)
{
	spoke_hubstate *s = ctx;
	fedns_err err = check_expect(s, v, d);
	if (err == FEDNS_OK && s->has_inner && s->inner.added != NULL) {
		err = s->inner.added(s->inner.ctx, v, d);
		if (err != FEDNS_OK)
			expect_undo(s, v);
	}
	return err;
}

static fedns_err
hook_changed(void *ctx, const spoke_version *v, fedns_diag *d)
{
	spoke_hubstate *s = ctx;
	fedns_err err = check_expect(s, v, d);
	if (err == FEDNS_OK && s->has_inner && s->inner.changed != NULL) {
		err = s->inner.changed(s->inner.ctx, v, d);
		if (err != FEDNS_OK)
			expect_undo(s, v);
	}
	return err;
}

static fedns_err
hook_removed(void *ctx, const uint8_t *origin, fedns_diag *d)
{
	spoke_hubstate *s = ctx;
	fedns_err err = FEDNS_OK;
	if (s->has_inner && s->inner.removed != NULL)
		err = s->inner.removed(s->inner.ctx, origin, d);
	if (err == FEDNS_OK) {
		pthread_mutex_lock(&s->mu);
		forget_locked(s, origin);
		pthread_mutex_unlock(&s->mu);
	}
	return err;
}

static fedns_err
hook_catalog(void *ctx, uint32_t serial, fedns_diag *d)
{
	spoke_hubstate *s = ctx;
	if (s->has_inner && s->inner.catalog != NULL)
		return s->inner.catalog(s->inner.ctx, serial, d);
	return FEDNS_OK;
}

fedns_err
spoke_hubstate_new(spoke_zoneset *zs, spoke_hubstate **out)
{
	spoke_hubstate *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return FEDNS_ENOMEM;
	s->zs = zs;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->kmu, NULL);
	s->has_inner = spoke_zoneset_get_store(zs, &s->inner);
	spoke_zoneset_store st = {
		.ctx = s,
		.added = hook_added,
		.changed = hook_changed,
		.removed = hook_removed,
		.catalog = hook_catalog,
	};
	spoke_zoneset_set_store(zs, &st);
	*out = s;
	return FEDNS_OK;
}

void
spoke_hubstate_free(spoke_hubstate *s)
{
	if (s == NULL)
		return;
	spoke_zoneset_set_store(s->zs, s->has_inner ? &s->inner : NULL);
	for (size_t i = 0; i < s->nkeys; i++)
		fedns_sign_key_free(s->keys[i].k);
	ntab_fini(&s->placed);
	ntab_fini(&s->digests);
	pthread_mutex_destroy(&s->kmu);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

fedns_err
spoke_hubstate_add_key(spoke_hubstate *s, fedns_sign_key *k, fedns_diag *d)
{
	char id[FEDNS_SIGN_KEYID_LEN + 1];
	fedns_err err = fedns_sign_key_id(k, id);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "hub key: no key id: %s", fedns_strerror(err));
	pthread_mutex_lock(&s->kmu);
	for (size_t i = 0; i < s->nkeys; i++) {
		if (strcmp(s->keys[i].id, id) == 0) {
			pthread_mutex_unlock(&s->kmu);
			return fedns_diag_set(d, FEDNS_EEXIST, "hub key %s is pinned twice", id);
		}
	}
	if (s->nkeys == SPOKE_HUB_KEYS_MAX) {
		pthread_mutex_unlock(&s->kmu);
		return fedns_diag_set(d, FEDNS_ETOOBIG, "more than %d hub keys",
				      SPOKE_HUB_KEYS_MAX);
	}
	memcpy(s->keys[s->nkeys].id, id, sizeof(id));
	s->keys[s->nkeys++].k = k;
	pthread_mutex_unlock(&s->kmu);
	return FEDNS_OK;
}

fedns_err
spoke_hubstate_add_key_file(spoke_hubstate *s, const char *path,
			    char id_out[FEDNS_SIGN_KEYID_LEN + 1], fedns_diag *d)
{
	char *pem = NULL;
	size_t len = 0;
	fedns_err err = fedns_file_read(path, 64 * 1024, &pem, &len, d);
	if (err != FEDNS_OK)
		return err;
	fedns_sign_key *k = NULL;
	err = fedns_sign_load_public_pem(pem, len, &k);
	free(pem);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "%s: not a P-256 public key in PEM (%s)", path,
				      fedns_strerror(err));
	char id[FEDNS_SIGN_KEYID_LEN + 1];
	if (fedns_sign_key_id(k, id) != FEDNS_OK)
		id[0] = '\0';
	err = spoke_hubstate_add_key(s, k, d);
	if (err != FEDNS_OK) {
		fedns_sign_key_free(k);
		fedns_diag_locate(d, path, 0);
		return err;
	}
	if (id_out != NULL)
		memcpy(id_out, id, sizeof(id));
	return FEDNS_OK;
}

/* ---- placement ---- */

static fedns_err
zone_wire(const char *text, uint8_t out[FEDNS_NAME_MAXLEN], fedns_diag *d)
{
	static const uint8_t root[1] = {0};
	size_t len;
	if (text == NULL || text[0] == '\0')
		return fedns_diag_set(d, FEDNS_EMALFORMED, "empty zone name");
	fedns_diag sub;
	fedns_diag_clear(&sub);
	if (fedns_name_from_text(text, strlen(text), root, out, &len, &sub) != FEDNS_OK)
		return fedns_diag_set(d, FEDNS_EMALFORMED, "zone \"%.80s\": %s", text, sub.msg);
	return FEDNS_OK;
}

bool
spoke_hubstate_is_placed(spoke_hubstate *s, const uint8_t *origin)
{
	pthread_mutex_lock(&s->mu);
	bool placed = ntab_find(&s->placed, origin) != NULL;
	pthread_mutex_unlock(&s->mu);
	return placed;
}

/* Stops serving every held zone that is not placed; returns how many went. */
static size_t
drop_unplaced(spoke_hubstate *s)
{
	uint8_t **list = NULL;
	size_t n = spoke_zoneset_list(s->zs, &list), removed = 0;
	for (size_t i = 0; i < n; i++) {
		if (spoke_hubstate_is_placed(s, list[i]))
			continue;
		char zt[FEDNS_NAME_MAXTEXT];
		fedns_name_to_text(list[i], zt, sizeof(zt));
		fedns_err err = spoke_zoneset_remove(s->zs, list[i]);
		if (err == FEDNS_OK) {
			removed++;
			fedns_log(FEDNS_LOG_INFO, "spoke.zone.removed", FEDNS_LF_STR("zone", zt),
				  FEDNS_LF_STR("reason", "not placed on this cluster"));
		} else if (err != FEDNS_ENOENT) {
			fedns_log(FEDNS_LOG_ERROR, "spoke.zone.remove_failed",
				  FEDNS_LF_STR("zone", zt),
				  FEDNS_LF_STR("error", fedns_strerror(err)));
		}
	}
	spoke_zoneset_list_free(list, n);
	return removed;
}

fedns_err
spoke_hubstate_placement(spoke_hubstate *s, const fedns_proto_placement *p, bool first,
			 bool *applied, size_t *removed, fedns_diag *d)
{
	if (applied != NULL)
		*applied = false;
	if (removed != NULL)
		*removed = 0;
	if (first && !p->full)
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "placement: the first update of a session must be full");
	size_t n = p->nadd + p->nremove;
	uint8_t(*names)[FEDNS_NAME_MAXLEN] = calloc(n ? n : 1, FEDNS_NAME_MAXLEN);
	if (names == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "placement: out of memory");
	fedns_err err = FEDNS_OK;
	for (size_t i = 0; i < n && err == FEDNS_OK; i++)
		err = zone_wire(i < p->nadd ? p->add[i] : p->remove[i - p->nadd], names[i], d);
	if (err != FEDNS_OK) {
		free(names);
		return err;
	}
	pthread_mutex_lock(&s->mu);
	if (!first && s->have_generation && p->generation <= s->generation) {
		pthread_mutex_unlock(&s->mu);
		free(names);
		fedns_log(FEDNS_LOG_INFO, "spoke.placement.ignored",
			  FEDNS_LF_UINT("generation", p->generation),
			  FEDNS_LF_UINT("applied_generation", s->generation));
		return FEDNS_OK;
	}
	if (p->full)
		ntab_clear(&s->placed);
	for (size_t i = 0; i < n && err == FEDNS_OK; i++) {
		if (i < p->nadd) {
			if (ntab_add(&s->placed, names[i]) == NULL)
				err = fedns_diag_set(d, FEDNS_ENOMEM, "placement: out of memory");
		} else {
			ntab_del(&s->placed, names[i]);
		}
	}
	s->generation = p->generation;
	s->have_generation = true;
	s->st.placed = s->placed.n;
	size_t placed = s->placed.n;
	pthread_mutex_unlock(&s->mu);
	free(names);
	/* a zone no longer placed stops being served even if the update was cut short */
	size_t r = drop_unplaced(s);
	pthread_mutex_lock(&s->mu);
	s->st.placement_removed += r;
	pthread_mutex_unlock(&s->mu);
	if (removed != NULL)
		*removed = r;
	if (applied != NULL)
		*applied = err == FEDNS_OK;
	fedns_log(FEDNS_LOG_INFO, "spoke.placement.applied",
		  FEDNS_LF_UINT("generation", p->generation), FEDNS_LF_BOOL("full", p->full),
		  FEDNS_LF_UINT("placed", placed), FEDNS_LF_UINT("removed", r));
	return err;
}

/* ---- held zones ---- */

size_t
spoke_hubstate_held(spoke_hubstate *s, fedns_proto_zone_state **out)
{
	*out = NULL;
	uint8_t **list = NULL;
	size_t n = spoke_zoneset_list(s->zs, &list), got = 0;
	fedns_proto_zone_state *zones = calloc(n ? n : 1, sizeof(*zones));
	for (size_t i = 0; zones != NULL && i < n; i++) {
		spoke_version *v = spoke_zoneset_get(s->zs, list[i]);
		if (v == NULL)
			continue;
		fedns_proto_zone_state *z = &zones[got];
		size_t dl = 0;
		char zt[FEDNS_NAME_MAXTEXT];
		fedns_name_to_text(list[i], zt, sizeof(zt));
		if (version_digest(s, list[i], v, FEDNS_ZDIGEST_ALG, z->digest.value, &dl) ==
		    FEDNS_OK) {
			z->digest.alg = FEDNS_ZDIGEST_ALG;
			z->digest.len = (uint8_t)dl;
		}
		z->serial = v->serial;
		z->zone = strdup(zt);
		spoke_version_rele(v);
		if (z->zone == NULL)
			break;
		got++;
	}
	spoke_zoneset_list_free(list, n);
	*out = zones;
	return got;
}

void
spoke_hubstate_held_free(fedns_proto_zone_state *zones, size_t n)
{
	for (size_t i = 0; zones != NULL && i < n; i++)
		free((void *)zones[i].zone);
	free(zones);
}

void
spoke_hubstate_get_stats(spoke_hubstate *s, spoke_hubstate_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

/* ---- signed blobs ---- */

static const char *
kind_name(fedns_proto_body_kind k)
{
	switch (k) {
	case FEDNS_PROTO_BODY_CHANGESET:
		return "change_set";
	case FEDNS_PROTO_BODY_SNAPSHOT:
		return "snapshot";
	case FEDNS_PROTO_BODY_BATCH:
		return "change_set_batch";
	}
	return "undecoded";
}

static void
outcome_init(spoke_blob_outcome *o, uint64_t received_ms)
{
	memset(o, 0, sizeof(*o));
	/* before the payload is decoded the zone is unknown: "." keeps the ack well-formed,
	 * and acks go out in the order the blobs came, so the hub can still match it */
	snprintf(o->zone, sizeof(o->zone), ".");
	o->ack.zone = o->zone;
	o->ack.detail = o->detail;
	o->ack.received_time = received_ms;
}

/* Fills the ack's serial and digest with what the spoke holds of the zone now. */
static void
held_now(spoke_hubstate *s, const uint8_t *origin, spoke_blob_outcome *o)
{
	spoke_version *v = spoke_zoneset_get(s->zs, origin);
	if (v == NULL)
		return;
	o->ack.serial = v->serial;
	size_t dl = 0;
	if (version_digest(s, origin, v, FEDNS_ZDIGEST_ALG, o->ack.digest.value, &dl) == FEDNS_OK) {
		o->ack.digest.alg = FEDNS_ZDIGEST_ALG;
		o->ack.digest.len = (uint8_t)dl;
	}
	spoke_version_rele(v);
}

__attribute__((format(printf, 5, 6))) static void
refuse(spoke_hubstate *s, const uint8_t *origin, spoke_blob_outcome *o, fedns_proto_reason r,
       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
	va_end(ap);
	o->ack.status = FEDNS_PROTO_ACK_REFUSED;
	o->ack.reason = r;
	if (origin != NULL)
		held_now(s, origin, o);
	o->ack.applied_time = wall_ms();
	pthread_mutex_lock(&s->mu);
	if ((size_t)r < sizeof(s->st.refused) / sizeof(s->st.refused[0]))
		s->st.refused[r]++;
	pthread_mutex_unlock(&s->mu);
	/* a security event: someone or something tried to change served content outside
	 * the hub's order; the fields say what, never any key material */
	fedns_log(FEDNS_LOG_WARN, "spoke.changeset.refused", FEDNS_LF_BOOL("security", true),
		  FEDNS_LF_STR("zone", o->zone), FEDNS_LF_STR("kind", kind_name(o->kind)),
		  FEDNS_LF_STR("reason", fedns_proto_reason_name(r)),
		  FEDNS_LF_UINT("from_serial", o->from_serial),
		  FEDNS_LF_UINT("to_serial", o->to_serial),
		  FEDNS_LF_INT("held_serial", o->held ? (int64_t)o->held_serial : -1),
		  FEDNS_LF_UINT("change_id", o->ack.change_id), FEDNS_LF_STR("detail", o->detail));
}

/* Whether the held version v hashes to g. */
static bool
held_matches(spoke_hubstate *s, const uint8_t *origin, const spoke_version *v,
	     const fedns_proto_digest *g)
{
	uint8_t dg[FEDNS_ZONEMD_MAXLEN];
	size_t dl = 0;
	return version_digest(s, origin, v, g->alg, dg, &dl) == FEDNS_OK && dl == g->len &&
	       memcmp(dg, g->value, dl) == 0;
}

static void
applied_ok(spoke_hubstate *s, spoke_blob_outcome *o, uint32_t serial, const uint8_t *digest,
	   size_t dl, uint8_t alg)
{
	o->ack.status = FEDNS_PROTO_ACK_APPLIED;
	o->ack.serial = serial;
	o->ack.digest.alg = alg;
	o->ack.digest.len = (uint8_t)dl;
	memcpy(o->ack.digest.value, digest, dl);
	o->ack.applied_time = wall_ms();
	pthread_mutex_lock(&s->mu);
	if (o->kind == FEDNS_PROTO_BODY_SNAPSHOT)
		s->st.applied_snapshots++;
	else
		s->st.applied_changesets++;
	s->st.apply_us_sum += o->ack.apply_us;
	pthread_mutex_unlock(&s->mu);
}

static void
already(spoke_hubstate *s, const uint8_t *origin, spoke_blob_outcome *o)
{
	o->ack.status = FEDNS_PROTO_ACK_ALREADY_APPLIED;
	held_now(s, origin, o);
	o->ack.applied_time = wall_ms();
	pthread_mutex_lock(&s->mu);
	s->st.already_applied++;
	pthread_mutex_unlock(&s->mu);
	fedns_log(FEDNS_LOG_INFO, "spoke.changeset.already_applied", FEDNS_LF_STR("zone", o->zone),
		  FEDNS_LF_STR("kind", kind_name(o->kind)), FEDNS_LF_UINT("serial", o->to_serial),
		  FEDNS_LF_UINT("change_id", o->ack.change_id));
}

/* Checks a change set's IXFR shape (old apex SOA deleted first, new one added first,
 * their serials the change set's) and copies it into *diff; refuses and returns false
 * otherwise (diff then holds nothing). */
static bool
changeset_diff(spoke_hubstate *s, const uint8_t *origin, const fedns_proto_changeset *cs,
	       spoke_blob_outcome *o, fedns_diff *diff)
{
	fedns_diff_init(diff);
	if (cs->ndeleted == 0 || cs->nadded == 0 || cs->deleted[0].type != FEDNS_T_SOA ||
	    cs->added[0].type != FEDNS_T_SOA || !fedns_name_equal(cs->deleted[0].owner, origin) ||
	    !fedns_name_equal(cs->added[0].owner, origin)) {
		refuse(s, origin, o, FEDNS_PROTO_REASON_MALFORMED,
		       "a change set must delete the old apex SOA first and add the new one "
		       "first");
		return false;
	}
	uint32_t del_serial = fedns_soa_serial(cs->deleted[0].rdata, cs->deleted[0].rdlen);
	uint32_t add_serial = fedns_soa_serial(cs->added[0].rdata, cs->added[0].rdlen);
	if (del_serial != cs->from_serial || add_serial != cs->to_serial) {
		refuse(s, origin, o, FEDNS_PROTO_REASON_MALFORMED,
		       "SOA serials %u -> %u do not match the change set's %u -> %u", del_serial,
		       add_serial, cs->from_serial, cs->to_serial);
		return false;
	}
	fedns_err err = FEDNS_OK;
	for (size_t i = 0; i < cs->ndeleted && err == FEDNS_OK; i++)
		err = fedns_diff_del(diff, &cs->deleted[i]);
	for (size_t i = 0; i < cs->nadded && err == FEDNS_OK; i++)
		err = fedns_diff_add(diff, &cs->added[i]);
	if (err != FEDNS_OK) {
		fedns_diff_fini(diff);
		refuse(s, origin, o, FEDNS_PROTO_REASON_INTERNAL, "building the diff: %s",
		       fedns_strerror(err));
		return false;
	}
	return true;
}

static void
log_applied(const fedns_proto_changeset *cs, const spoke_blob_outcome *o)
{
	if (!fedns_log_enabled(FEDNS_LOG_INFO))
		return;
	char approvers[512];
	size_t off = 0;
	approvers[0] = '\0';
	for (size_t i = 0; i < cs->napprovers && off < sizeof(approvers); i++)
		off += (size_t)snprintf(approvers + off, sizeof(approvers) - off, "%s%s",
					i ? "," : "", cs->approvers[i]);
	fedns_log(FEDNS_LOG_INFO, "spoke.changeset.applied", FEDNS_LF_STR("zone", o->zone),
		  FEDNS_LF_UINT("from_serial", cs->from_serial),
		  FEDNS_LF_UINT("to_serial", cs->to_serial),
		  FEDNS_LF_UINT("change_id", cs->change_id),
		  FEDNS_LF_STR("author", cs->author ? cs->author : ""),
		  FEDNS_LF_STR("approvers", approvers), FEDNS_LF_UINT("deleted", cs->ndeleted),
		  FEDNS_LF_UINT("added", cs->nadded), FEDNS_LF_UINT("apply_us", o->ack.apply_us));
}

static void
apply_changeset(spoke_hubstate *s, const uint8_t *origin, const fedns_proto_changeset *cs,
		spoke_blob_outcome *o)
{
	uint64_t epoch = epoch_now(s);
	spoke_version *v = spoke_zoneset_get(s->zs, origin);
	if (v == NULL) {
		refuse(s, origin, o, FEDNS_PROTO_REASON_GAP,
		       "zone is not held here yet: it needs a snapshot, not a change from %u",
		       cs->from_serial);
		return;
	}
	o->held = true;
	o->held_serial = v->serial;
	uint32_t held = v->serial;
	if (cs->from_serial != held) {
		bool same = cs->to_serial == held && held_matches(s, origin, v, &cs->digest);
		spoke_version_rele(v);
		if (same)
			already(s, origin, o);
		else if (fedns_serial_gt(cs->from_serial, held))
			refuse(s, origin, o, FEDNS_PROTO_REASON_GAP,
			       "change from serial %u, but the spoke holds %u", cs->from_serial,
			       held);
		else
			refuse(s, origin, o, FEDNS_PROTO_REASON_REPLAY,
			       "change %u -> %u is older than the held serial %u", cs->from_serial,
			       cs->to_serial, held);
		return;
	}
	uint64_t t0 = mono_us();
	fedns_diff diff;
	if (!changeset_diff(s, origin, cs, o, &diff)) {
		spoke_version_rele(v);
		return;
	}
	/* v stays held while the diff is applied: the tree is rebuilt from it if need be,
	 * and goes back to it on a refusal */
	expect e = {.s = s,
		    .origin = origin,
		    .want = &cs->digest,
		    .base = v,
		    .zd = tree_take(s, origin, held),
		    .zd_at = held};
	fedns_diag d;
	fedns_diag_clear(&d);
	uint32_t new_serial = 0;
	tl_expect = &e;
	fedns_err err = spoke_zoneset_apply(s->zs, origin, &diff, &new_serial, &d);
	tl_expect = NULL;
	fedns_diff_fini(&diff);
	/* the tree never claims a version that is not served */
	if (err == FEDNS_OK && e.computed && e.zd_at == new_serial)
		tree_put(s, origin, e.zd, new_serial, epoch, true);
	else if (err != FEDNS_OK && e.zd_at == held)
		tree_put(s, origin, e.zd, held, epoch, true);
	else
		fedns_zdigest_free(e.zd);
	spoke_version_rele(v);
	o->ack.apply_us = clamp_us(mono_us() - t0);
	if (err == FEDNS_OK && !e.computed) {
		/* cannot happen while our hooks are installed; never ack an unchecked digest */
		err = FEDNS_EIO;
		fedns_diag_set(&d, err, "the digest of the new version was not checked");
	}
	if (err != FEDNS_OK) {
		char msg[FEDNS_DIAG_MSG_MAX + 300];
		fedns_diag_format(&d, msg, sizeof(msg));
		if (e.mismatch)
			refuse(s, origin, o, FEDNS_PROTO_REASON_DIGEST_MISMATCH, "%.240s", msg);
		else if (e.store_failed || err == FEDNS_ENOMEM || err == FEDNS_EIO)
			refuse(s, origin, o, FEDNS_PROTO_REASON_INTERNAL, "%.240s", msg);
		else
			refuse(s, origin, o, FEDNS_PROTO_REASON_APPLY_FAILED, "%.240s", msg);
		return;
	}
	cache_put(s, origin, new_serial, cs->digest.alg, e.got, e.gotlen, epoch);
	applied_ok(s, o, new_serial, e.got, e.gotlen, cs->digest.alg);
	log_applied(cs, o);
}

static void
apply_snapshot(spoke_hubstate *s, const uint8_t *origin, const fedns_proto_snapshot *sn,
	       spoke_blob_outcome *o)
{
	spoke_version *v = spoke_zoneset_get(s->zs, origin);
	bool same_serial = false;
	if (v != NULL) {
		o->held = true;
		o->held_serial = v->serial;
		if (v->serial == sn->serial && held_matches(s, origin, v, &sn->digest)) {
			spoke_version_rele(v);
			already(s, origin, o);
			return;
		}
		if (fedns_serial_gt(v->serial, sn->serial)) {
			uint32_t held = v->serial;
			spoke_version_rele(v);
			refuse(s, origin, o, FEDNS_PROTO_REASON_REPLAY,
			       "snapshot at serial %u is older than the held serial %u", sn->serial,
			       held);
			return;
		}
		same_serial = v->serial == sn->serial;
		spoke_version_rele(v);
	}
	uint64_t t0 = mono_us();
	fedns_zone *z = NULL;
	fedns_err err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	for (size_t i = 0; i < sn->nrrs && err == FEDNS_OK; i++)
		err = fedns_zone_add(z, &sn->rrs[i], 0, 0);
	if (err == FEDNS_OK)
		err = fedns_zone_finish(z, NULL, NULL);
	if (err != FEDNS_OK) {
		fedns_zone_free(z);
		refuse(s, origin, o,
		       err == FEDNS_ENOMEM ? FEDNS_PROTO_REASON_INTERNAL
					   : FEDNS_PROTO_REASON_APPLY_FAILED,
		       "snapshot does not make a valid zone: %s", fedns_strerror(err));
		return;
	}
	if (fedns_zone_serial(z) != sn->serial) {
		uint32_t zs = fedns_zone_serial(z);
		fedns_zone_free(z);
		refuse(s, origin, o, FEDNS_PROTO_REASON_MALFORMED,
		       "snapshot says serial %u but its SOA has %u", sn->serial, zs);
		return;
	}
	uint8_t dg[FEDNS_ZONEMD_MAXLEN];
	size_t dl = 0;
	fedns_zdigest *zd = NULL; /* kept as the zone's tree once the zone set holds z */
	if (sn->digest.alg == FEDNS_ZDIGEST_ALG) {
		err = tree_build(s, z, &zd);
		if (err == FEDNS_OK) {
			fedns_zdigest_root(zd, dg);
			dl = FEDNS_ZDIGEST_LEN;
		}
	} else {
		err = fedns_zonemd_compute(z, sn->digest.alg, dg, &dl);
	}
	if (err != FEDNS_OK || !digest_eq(dg, dl, &sn->digest)) {
		fedns_zone_free(z);
		fedns_zdigest_free(zd);
		if (err != FEDNS_OK) {
			refuse(s, origin, o, FEDNS_PROTO_REASON_INTERNAL, "digest: %s",
			       fedns_strerror(err));
		} else {
			char got[17], want[17];
			fedns_hex_encode(dg, 8, got, 0);
			fedns_hex_encode(sn->digest.value, 8, want, 0);
			refuse(s, origin, o, FEDNS_PROTO_REASON_DIGEST_MISMATCH,
			       "snapshot at serial %u hashes to %s..., the hub signed %s...: the "
			       "previous version stays served",
			       sn->serial, got, want);
		}
		return;
	}
	fedns_diag d;
	fedns_diag_clear(&d);
	if (same_serial) {
		/* the same serial with other bytes: the zone set only moves forward, so the
		 * old copy goes and the hub's takes its place (secondaries holding the old
		 * bytes show up diverged and are repaired) */
		err = spoke_zoneset_remove(s->zs, origin);
		if (err != FEDNS_OK && err != FEDNS_ENOENT) {
			fedns_zone_free(z);
			fedns_zdigest_free(zd);
			refuse(s, origin, o, FEDNS_PROTO_REASON_INTERNAL,
			       "removing the diverged copy: %s", fedns_strerror(err));
			return;
		}
	}
	err = spoke_zoneset_put(s->zs, z, &d);
	o->ack.apply_us = clamp_us(mono_us() - t0);
	if (err != FEDNS_OK) {
		fedns_zone_free(z);
		fedns_zdigest_free(zd);
		char msg[FEDNS_DIAG_MSG_MAX + 300];
		fedns_diag_format(&d, msg, sizeof(msg));
		refuse(s, origin, o,
		       err == FEDNS_ENOMEM || err == FEDNS_EIO ? FEDNS_PROTO_REASON_INTERNAL
							       : FEDNS_PROTO_REASON_APPLY_FAILED,
		       "%.240s", msg);
		return;
	}
	/* the zone was replaced whole: what was kept of the old one goes, this one's digest
	 * (its tree for alg 240) is kept */
	pthread_mutex_lock(&s->mu);
	forget_locked(s, origin);
	uint64_t epoch = s->epoch;
	pthread_mutex_unlock(&s->mu);
	tree_put(s, origin, zd, sn->serial, epoch, true);
	cache_put(s, origin, sn->serial, sn->digest.alg, dg, dl, epoch);
	applied_ok(s, o, sn->serial, dg, dl, sn->digest.alg);
	fedns_log(FEDNS_LOG_INFO, "spoke.snapshot.applied", FEDNS_LF_STR("zone", o->zone),
		  FEDNS_LF_UINT("serial", sn->serial), FEDNS_LF_UINT("change_id", sn->change_id),
		  FEDNS_LF_UINT("rrs", sn->nrrs),
		  FEDNS_LF_INT("replaced_serial", o->held ? (int64_t)o->held_serial : -1),
		  FEDNS_LF_UINT("apply_us", o->ack.apply_us));
}

/* The checks every element shares: a zone name, placed here, a digest to check against.
 * Fills o's identity; refuses and returns false otherwise. */
static bool
precheck(spoke_hubstate *s, fedns_proto_body_kind kind, const fedns_proto_changeset *cs,
	 const fedns_proto_snapshot *sn, spoke_blob_outcome *o, uint8_t origin[FEDNS_NAME_MAXLEN])
{
	o->kind = kind;
	const char *zone;
	const fedns_proto_digest *dg;
	if (cs != NULL) {
		zone = cs->zone;
		o->from_serial = cs->from_serial;
		o->to_serial = cs->to_serial;
		o->ack.change_id = cs->change_id;
		dg = &cs->digest;
	} else {
		zone = sn->zone;
		o->from_serial = o->to_serial = sn->serial;
		/* a snapshot is acknowledged with change id 0 (docs/protocol.md) */
		dg = &sn->digest;
	}
	fedns_diag d;
	fedns_diag_clear(&d);
	if (zone_wire(zone, origin, &d) != FEDNS_OK) {
		refuse(s, NULL, o, FEDNS_PROTO_REASON_MALFORMED, "%s", d.msg);
		return false;
	}
	fedns_name_to_text(origin, o->zone, sizeof(o->zone));
	if (!spoke_hubstate_is_placed(s, origin)) {
		refuse(s, NULL, o, FEDNS_PROTO_REASON_NOT_PLACED,
		       "zone %s is not placed on this cluster", o->zone);
		return false;
	}
	if (!fedns_proto_digest_known(dg)) {
		refuse(s, origin, o, FEDNS_PROTO_REASON_MALFORMED,
		       "the signed body carries no digest of the result (alg %u, %u octets)",
		       dg->alg, dg->len);
		return false;
	}
	return true;
}

/* One change set or snapshot. */
static void
apply_one(spoke_hubstate *s, fedns_proto_body_kind kind, const fedns_proto_changeset *cs,
	  const fedns_proto_snapshot *sn, spoke_blob_outcome *o)
{
	uint8_t origin[FEDNS_NAME_MAXLEN];
	if (!precheck(s, kind, cs, sn, o, origin))
		return;
	if (cs != NULL)
		apply_changeset(s, origin, cs, o);
	else
		apply_snapshot(s, origin, sn, o);
}

/* The elements of a batch that continue the held version, applied as one durable step:
 * each element's version is built off to the side and its digest checked, then the last
 * good one replaces the zone with one journal write (an fdatasync costs milliseconds, a
 * catching-up spoke would otherwise pay one per change). Secondaries get one IXFR diff
 * across them. Outcomes go to out[0..n) in order; returns how many were filled (a refused
 * element is the last). The zone set changes only here, in this thread: the hub session
 * is the one writer in hub mode. The tree digest follows cur through the elements. */
static size_t
apply_run(spoke_hubstate *s, const uint8_t *origin, const fedns_proto_changeset *cs, size_t n,
	  uint64_t received_ms, spoke_blob_outcome *out)
{
	uint64_t epoch = epoch_now(s);
	spoke_version *base = spoke_zoneset_get(s->zs, origin);
	if (base == NULL)
		return 0;
	const fedns_zone *cur = base->zone;
	fedns_zone *built = NULL;				/* cur when it is ours */
	fedns_zdigest *zd = tree_take(s, origin, base->serial); /* at cur, or NULL */
	size_t good = 0, filled = 0;
	uint8_t dg[FEDNS_ZONEMD_MAXLEN];
	for (size_t i = 0; i < n; i++) {
		spoke_blob_outcome *o = &out[filled++];
		outcome_init(o, received_ms);
		uint8_t org[FEDNS_NAME_MAXLEN];
		if (!precheck(s, FEDNS_PROTO_BODY_CHANGESET, &cs[i], NULL, o, org))
			break;
		o->held = true;
		o->held_serial = base->serial;
		uint64_t t0 = mono_us();
		fedns_diff diff;
		if (!changeset_diff(s, origin, &cs[i], o, &diff))
			break;
		fedns_zone *next = NULL;
		fedns_diag d;
		fedns_diag_clear(&d);
		fedns_err err = fedns_serial_gt(cs[i].to_serial, fedns_zone_serial(cur))
					? spoke_zoneset_build(cur, &diff, &next, &d)
					: fedns_diag_set(&d, FEDNS_ESTALE,
							 "new serial %u is not greater than %u",
							 cs[i].to_serial, fedns_zone_serial(cur));
		if (err != FEDNS_OK) {
			fedns_diff_fini(&diff);
			char msg[FEDNS_DIAG_MSG_MAX + 300];
			fedns_diag_format(&d, msg, sizeof(msg));
			refuse(s, origin, o,
			       err == FEDNS_ENOMEM ? FEDNS_PROTO_REASON_INTERNAL
						   : FEDNS_PROTO_REASON_APPLY_FAILED,
			       "%.240s", msg);
			break;
		}
		size_t dl = 0;
		bool match = false;
		if (cs[i].digest.alg == FEDNS_ZDIGEST_ALG) {
			err = tree_check(s, &zd, cur, next, &diff, &cs[i].digest, dg, &match);
			dl = FEDNS_ZDIGEST_LEN;
		} else {
			err = fedns_zonemd_compute(next, cs[i].digest.alg, dg, &dl);
			match = err == FEDNS_OK && digest_eq(dg, dl, &cs[i].digest);
			/* a kept tree follows, so the version is reported without whole-zone
			 * work */
			if (match && zd != NULL &&
			    fedns_zdigest_update(zd, next, &diff) != FEDNS_OK) {
				fedns_zdigest_free(zd);
				zd = NULL;
			}
		}
		fedns_diff_fini(&diff);
		if (err != FEDNS_OK || !match) {
			fedns_zone_free(next);
			if (err != FEDNS_OK) {
				refuse(s, origin, o, FEDNS_PROTO_REASON_INTERNAL, "digest: %s",
				       fedns_strerror(err));
			} else {
				char got[17], want[17];
				fedns_hex_encode(dg, 8, got, 0);
				fedns_hex_encode(cs[i].digest.value, 8, want, 0);
				refuse(s, origin, o, FEDNS_PROTO_REASON_DIGEST_MISMATCH,
				       "serial %u hashes to %s..., the hub signed %s...: the "
				       "previous "
				       "version stays served",
				       cs[i].to_serial, got, want);
			}
			break;
		}
		fedns_zone_free(built);
		built = next;
		cur = next;
		o->ack.status = FEDNS_PROTO_ACK_APPLIED;
		o->ack.serial = cs[i].to_serial;
		o->ack.digest.alg = cs[i].digest.alg;
		o->ack.digest.len = (uint8_t)dl;
		memcpy(o->ack.digest.value, dg, dl);
		o->ack.apply_us = clamp_us(mono_us() - t0);
		good++;
	}
	if (good > 0) {
		uint64_t t0 = mono_us();
		fedns_diag d;
		fedns_diag_clear(&d);
		fedns_err err = spoke_zoneset_put(s->zs, built, &d);
		if (err != FEDNS_OK) {
			/* nothing was served: the first good element takes the refusal (the
			 * tree is at a version not held: rebuilt when next needed) */
			fedns_zone_free(built);
			fedns_zdigest_free(zd);
			zd = NULL;
			char msg[FEDNS_DIAG_MSG_MAX + 300];
			fedns_diag_format(&d, msg, sizeof(msg));
			filled = 1;
			spoke_blob_outcome *o = &out[0];
			o->ack.status = 0;
			o->ack.serial = 0;
			memset(&o->ack.digest, 0, sizeof(o->ack.digest));
			refuse(s, origin, o,
			       err == FEDNS_ENOMEM || err == FEDNS_EIO
				       ? FEDNS_PROTO_REASON_INTERNAL
				       : FEDNS_PROTO_REASON_APPLY_FAILED,
			       "%.240s", msg);
			good = 0;
		} else {
			out[good - 1].ack.apply_us =
				clamp_us(out[good - 1].ack.apply_us + (mono_us() - t0));
			const spoke_blob_outcome *last = &out[good - 1];
			tree_put(s, origin, zd, last->ack.serial, epoch, true);
			zd = NULL;
			cache_put(s, origin, last->ack.serial, last->ack.digest.alg,
				  last->ack.digest.value, last->ack.digest.len, epoch);
			if (filled > good) {
				/* the refused element's ack says what is held after the batch */
				out[good].ack.serial = last->ack.serial;
				out[good].ack.digest = last->ack.digest;
				size_t rl = 0;
				uint8_t root[FEDNS_ZONEMD_MAXLEN];
				if (spoke_hubstate_cached_digest(s, origin, last->ack.serial,
								 FEDNS_ZDIGEST_ALG, root, &rl)) {
					out[good].ack.digest.alg = FEDNS_ZDIGEST_ALG;
					out[good].ack.digest.len = (uint8_t)rl;
					memcpy(out[good].ack.digest.value, root, rl);
				}
			}
		}
	} else {
		fedns_zone_free(built);
		tree_put(s, origin, zd, base->serial, epoch, true);
		zd = NULL;
	}
	for (size_t i = 0; i < good; i++) {
		out[i].ack.applied_time = wall_ms();
		pthread_mutex_lock(&s->mu);
		s->st.applied_changesets++;
		s->st.apply_us_sum += out[i].ack.apply_us;
		pthread_mutex_unlock(&s->mu);
		log_applied(&cs[i], &out[i]);
	}
	spoke_version_rele(base);
	return filled;
}

/* How many leading elements of a batch the held version already contains: a batch resent
 * after lost acks starts before the held serial, and its elements up to the one that
 * continues the held serial (or ends at it with the held digest) are retransmissions,
 * acknowledged as already applied, not replays. 0 when no element meets the held
 * serial: then every element is judged alone. */
static size_t
batch_prefix(spoke_hubstate *s, const fedns_proto_batch *bt)
{
	uint8_t org[FEDNS_NAME_MAXLEN];
	if (bt->n == 0 || zone_wire(bt->changesets[0].zone, org, NULL) != FEDNS_OK ||
	    !spoke_hubstate_is_placed(s, org))
		return 0;
	spoke_version *v = spoke_zoneset_get(s->zs, org);
	if (v == NULL)
		return 0;
	size_t skip = 0;
	for (size_t i = 0; i < bt->n; i++) {
		const fedns_proto_changeset *cs = &bt->changesets[i];
		if (cs->from_serial == v->serial) {
			skip = i;
			break;
		}
		if (cs->to_serial == v->serial) {
			skip = fedns_proto_digest_known(&cs->digest) &&
					       held_matches(s, org, v, &cs->digest)
				       ? i + 1
				       : 0;
			break;
		}
	}
	spoke_version_rele(v);
	return skip;
}

/* A batch: each element acknowledged as if it came alone; a refusal ends it (the hub
 * resends from the acknowledged serial). */
static size_t
apply_batch(spoke_hubstate *s, const fedns_proto_batch *bt, uint64_t received_ms,
	    uint32_t verify_us, spoke_blob_emit_fn emit, void *ctx)
{
	spoke_blob_outcome o;
	if (bt->n == 0) {
		outcome_init(&o, received_ms);
		o.ack.verify_us = verify_us;
		refuse(s, NULL, &o, FEDNS_PROTO_REASON_MALFORMED, "empty change set batch");
		emit(ctx, &o);
		return 1;
	}
	size_t n = 0, skip = batch_prefix(s, bt);
	for (; n < skip; n++) {
		const fedns_proto_changeset *cs = &bt->changesets[n];
		outcome_init(&o, received_ms);
		o.ack.verify_us = n == 0 ? verify_us : 0; /* one signature covered them all */
		uint8_t org[FEDNS_NAME_MAXLEN];
		(void)zone_wire(cs->zone, org, NULL);
		fedns_name_to_text(org, o.zone, sizeof(o.zone));
		o.kind = FEDNS_PROTO_BODY_CHANGESET;
		o.from_serial = cs->from_serial;
		o.to_serial = cs->to_serial;
		o.ack.change_id = cs->change_id;
		already(s, org, &o);
		emit(ctx, &o);
	}
	if (n == bt->n)
		return n;
	/* the rest continue the held serial: one durable step for all of them */
	uint8_t org[FEDNS_NAME_MAXLEN];
	spoke_version *v = NULL;
	if (zone_wire(bt->changesets[n].zone, org, NULL) == FEDNS_OK &&
	    spoke_hubstate_is_placed(s, org))
		v = spoke_zoneset_get(s->zs, org);
	bool run = v != NULL && v->serial == bt->changesets[n].from_serial;
	spoke_version_rele(v);
	if (run) {
		size_t left = bt->n - n;
		spoke_blob_outcome *out = malloc(left * sizeof(*out));
		if (out != NULL) {
			size_t got = apply_run(s, org, &bt->changesets[n], left, received_ms, out);
			for (size_t i = 0; i < got; i++) {
				out[i].ack.verify_us = n + i == 0 ? verify_us : 0;
				/* the strings point into the outcome: re-point them at this copy */
				out[i].ack.zone = out[i].zone;
				out[i].ack.detail = out[i].detail;
				emit(ctx, &out[i]);
			}
			free(out);
			if (got > 0)
				return n + got;
		}
	}
	/* not continuing the held serial (gap, replay...), or no memory: one by one */
	for (; n < bt->n; n++) {
		outcome_init(&o, received_ms);
		o.ack.verify_us = n == 0 ? verify_us : 0;
		apply_one(s, FEDNS_PROTO_BODY_CHANGESET, &bt->changesets[n], NULL, &o);
		emit(ctx, &o);
		if (o.ack.status == FEDNS_PROTO_ACK_REFUSED)
			return n + 1;
	}
	return n;
}

size_t
spoke_hubstate_apply_body(spoke_hubstate *s, const fedns_proto_body *b, uint64_t received_ms,
			  uint32_t verify_us, spoke_blob_emit_fn emit, void *ctx)
{
	spoke_blob_outcome o;
	outcome_init(&o, received_ms);
	o.ack.verify_us = verify_us;
	switch (b->kind) {
	case FEDNS_PROTO_BODY_CHANGESET:
		apply_one(s, b->kind, &b->u.changeset, NULL, &o);
		break;
	case FEDNS_PROTO_BODY_SNAPSHOT:
		apply_one(s, b->kind, NULL, &b->u.snapshot, &o);
		break;
	case FEDNS_PROTO_BODY_BATCH:
		return apply_batch(s, &b->u.batch, received_ms, verify_us, emit, ctx);
	default:
		refuse(s, NULL, &o, FEDNS_PROTO_REASON_MALFORMED,
		       "payload is neither a change set nor a snapshot");
		break;
	}
	emit(ctx, &o);
	return 1;
}

size_t
spoke_hubstate_handle_signed(spoke_hubstate *s, const fedns_proto_signed *sb, uint64_t received_ms,
			     spoke_blob_emit_fn emit, void *ctx)
{
	spoke_blob_outcome out;
	outcome_init(&out, received_ms);
	uint64_t t0 = mono_us();
	const char *id = sb->key_id != NULL ? sb->key_id : "";
	pthread_mutex_lock(&s->kmu);
	pinned *k = NULL;
	for (size_t i = 0; i < s->nkeys && k == NULL; i++)
		if (strcmp(s->keys[i].id, id) == 0)
			k = &s->keys[i];
	if (k == NULL) {
		pthread_mutex_unlock(&s->kmu);
		refuse(s, NULL, &out, FEDNS_PROTO_REASON_UNKNOWN_KEY,
		       "signed with key id \"%.60s\", which is not a pinned hub key", id);
		emit(ctx, &out);
		return 1;
	}
	fedns_err err = FEDNS_EAUTH;
	if (sb->alg == FEDNS_PROTO_SIG_ECDSA_P256_SHA256)
		err = fedns_sign_verify_raw(k->k, sb->payload.data, sb->payload.len,
					    sb->signature.data, sb->signature.len);
	pthread_mutex_unlock(&s->kmu);
	uint32_t verify_us = clamp_us(mono_us() - t0);
	out.ack.verify_us = verify_us;
	pthread_mutex_lock(&s->mu);
	s->st.verify_us_sum += verify_us;
	pthread_mutex_unlock(&s->mu);
	if (err != FEDNS_OK) {
		refuse(s, NULL, &out, FEDNS_PROTO_REASON_BAD_SIGNATURE,
		       sb->alg == FEDNS_PROTO_SIG_ECDSA_P256_SHA256
			       ? "signature does not verify with hub key %.60s"
			       : "signature algorithm is not ECDSA P-256 (key %.60s)",
		       id);
		emit(ctx, &out);
		return 1;
	}
	/* only verified bytes reach the parser */
	fedns_proto_body *b = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	err = fedns_proto_body_decode(sb->payload.data, sb->payload.len, NULL, &b, &d);
	if (err != FEDNS_OK) {
		refuse(s, NULL, &out,
		       err == FEDNS_ENOMEM ? FEDNS_PROTO_REASON_INTERNAL
					   : FEDNS_PROTO_REASON_MALFORMED,
		       "signed payload: %.200s", d.msg[0] ? d.msg : fedns_strerror(err));
		emit(ctx, &out);
		return 1;
	}
	size_t n = spoke_hubstate_apply_body(s, b, received_ms, verify_us, emit, ctx);
	fedns_proto_body_free(b);
	return n;
}

/* ---- status rows ---- */

bool
spoke_hubsession_row_changed(const spoke_verify_row *a, const spoke_verify_row *b)
{
	return !fedns_name_equal(a->zone, b->zone) || strcmp(a->secondary, b->secondary) != 0 ||
	       a->state != b->state || a->serial != b->serial || a->have_seen != b->have_seen ||
	       (a->have_seen && a->serial_seen != b->serial_seen) ||
	       a->have_digest != b->have_digest ||
	       (a->have_digest && memcmp(a->digest_seen, b->digest_seen, SPOKE_DIGEST_LEN) != 0) ||
	       a->last_ok != b->last_ok || a->lag_ms != b->lag_ms || a->repairs != b->repairs ||
	       strcmp(a->last_error, b->last_error) != 0;
}

static fedns_proto_secondary_state
proto_state(spoke_verify_state s)
{
	switch (s) {
	case SPOKE_VERIFY_IN_SYNC:
		return FEDNS_PROTO_SECONDARY_IN_SYNC;
	case SPOKE_VERIFY_LAGGING:
		return FEDNS_PROTO_SECONDARY_LAGGING;
	case SPOKE_VERIFY_DIVERGED:
		return FEDNS_PROTO_SECONDARY_DIVERGED;
	case SPOKE_VERIFY_UNREACHABLE:
		return FEDNS_PROTO_SECONDARY_UNREACHABLE;
	case SPOKE_VERIFY_UNKNOWN:
		break;
	}
	return 0;
}

/* Report entries for rows[0..n) (never-verified rows left out); strings live in arena. */
static size_t
report_entries(const spoke_hubsession_opts *o, const spoke_verify_row *rows, size_t n,
	       fedns_arena *arena, fedns_proto_secondary_status *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const spoke_verify_row *r = &rows[i];
		fedns_proto_secondary_state st = proto_state(r->state);
		if (st == 0)
			continue;
		char zt[FEDNS_NAME_MAXTEXT], addr[128] = "";
		size_t zl = fedns_name_to_text(r->zone, zt, sizeof(zt));
		if (o->address != NULL)
			o->address(o->ctx, r->secondary, addr, sizeof(addr));
		fedns_proto_secondary_status *e = &out[k];
		memset(e, 0, sizeof(*e));
		e->zone = fedns_arena_strndup(arena, zt, zl);
		e->secondary = fedns_arena_strndup(arena, r->secondary, strlen(r->secondary));
		e->address = fedns_arena_strndup(arena, addr, strlen(addr));
		e->last_error = fedns_arena_strndup(arena, r->last_error, strlen(r->last_error));
		if (e->zone == NULL || e->secondary == NULL || e->address == NULL ||
		    e->last_error == NULL)
			break;
		e->state = st;
		e->has_serial = r->have_seen;
		e->serial = r->have_seen ? r->serial_seen : 0;
		if (r->have_digest) {
			e->digest.alg = FEDNS_ZONEMD_SHA384;
			e->digest.len = SPOKE_DIGEST_LEN;
			memcpy(e->digest.value, r->digest_seen, SPOKE_DIGEST_LEN);
		}
		e->last_proven = r->last_ok > 0 ? (uint64_t)r->last_ok * 1000u : 0;
		e->lag_ms = r->lag_ms > 0 ? (uint64_t)r->lag_ms : 0;
		e->repairs = r->repairs;
		k++;
	}
	return k;
}

/* ---- the session ---- */

#define BACKOFF_FIRST_MS 200u
#define HANDSHAKE_TIMEOUT_MS 15000u
#define SEND_TIMEOUT_MS 30000u
#define REPORT_CHUNK 10000u /* entries per StatusReport (the hub caps lists at 100,000) */

struct spoke_hubsession {
	spoke_hubsession_opts o;
	spoke_hubstate *st;
	fedns_nngtls *tls;
	fedns_sign_key *key;
	fedns_proto_blob *certs;
	size_t ncerts;
	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;
	bool stop, running, rx_dead;
	bool rx_busy;	  /* the receive loop is applying something (the silence is ours) */
	bool status_kick; /* spoke_hubsession_status_changed since the table was last read */
	pthread_t th;
	fedns_conn *conn; /* the current session's, for stop */
	spoke_hubsession_stats stats;
	uint64_t last_rx_ms, last_tx_ms; /* monotonic */
	uint64_t hb_seq;
};

/* Every certificate of a PEM file as DER, the spoke's own first. */
static fedns_err
load_chain(spoke_hubsession *hs, const char *path, fedns_diag *d)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	char *pem = NULL;
	size_t len = 0;
	fedns_err err = fedns_file_read(path, 1 << 20, &pem, &len, d);
	if (err != FEDNS_OK)
		return err;
	const char *p = pem;
	while ((p = strstr(p, begin)) != NULL) {
		p += sizeof(begin) - 1;
		const char *e = strstr(p, end);
		if (e == NULL) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "%s: a certificate has no END line", path);
			break;
		}
		size_t cap = (size_t)(e - p);
		uint8_t *der = malloc(cap ? cap : 1);
		fedns_proto_blob *nc = realloc(hs->certs, (hs->ncerts + 1) * sizeof(*nc));
		if (der == NULL || nc == NULL) {
			free(der);
			if (nc != NULL)
				hs->certs = nc;
			err = fedns_diag_set(d, FEDNS_ENOMEM, "%s: out of memory", path);
			break;
		}
		hs->certs = nc;
		size_t dl = 0;
		if (fedns_base64_decode(p, cap, der, cap, &dl) != FEDNS_OK || dl == 0) {
			free(der);
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "%s: certificate %zu is not valid base64", path,
					     hs->ncerts + 1);
			break;
		}
		hs->certs[hs->ncerts].data = der;
		hs->certs[hs->ncerts++].len = dl;
		p = e + sizeof(end) - 1;
	}
	free(pem);
	if (err == FEDNS_OK && hs->ncerts == 0)
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "%s: no PEM certificate in it", path);
	return err;
}

static void
session_free_parts(spoke_hubsession *hs)
{
	for (size_t i = 0; i < hs->ncerts; i++)
		free((void *)hs->certs[i].data);
	free(hs->certs);
	fedns_sign_key_free(hs->key);
	fedns_nngtls_free(hs->tls);
	pthread_cond_destroy(&hs->cv);
	pthread_mutex_destroy(&hs->mu);
	free(hs);
}

fedns_err
spoke_hubsession_new(const spoke_hubsession_opts *o, spoke_hubstate *st, spoke_hubsession **out,
		     fedns_diag *d)
{
	if (o->url == NULL || o->server_name == NULL || o->server_name[0] == '\0' ||
	    o->cluster == NULL || o->cluster[0] == '\0' || o->cert_file == NULL ||
	    o->key_file == NULL || o->ca_file == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "the hub session needs --hub, --hub-name, --cluster, --cert, "
				      "--key and --ca");
	if (strncmp(o->url, "tls+tcp://", 10) != 0)
		return fedns_diag_set(d, FEDNS_EINVAL, "--hub %s: only tls+tcp:// is supported",
				      o->url);
	spoke_hubsession *hs = calloc(1, sizeof(*hs));
	if (hs == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	hs->o = *o;
	if (hs->o.heartbeat_ms == 0)
		hs->o.heartbeat_ms = 5000;
	if (hs->o.status_interval_ms == 0)
		hs->o.status_interval_ms = 1000;
	if (hs->o.backoff_max_ms == 0)
		hs->o.backoff_max_ms = 5000;
	if (hs->o.dial_timeout_ms == 0)
		hs->o.dial_timeout_ms = 5000;
	if (hs->o.software_version == NULL)
		hs->o.software_version = "fedns-spoke";
	hs->st = st;
	pthread_mutex_init(&hs->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hs->cv, &ca);
	pthread_condattr_destroy(&ca);
	fedns_nngtls_files f = {.cert_file = o->cert_file,
				.key_file = o->key_file,
				.ca_file = o->ca_file,
				.crl_file = o->crl_file,
				.server_name = o->server_name};
	char err[512] = "";
	fedns_err e = fedns_nngtls_client_new(&f, &hs->tls, err, sizeof(err));
	if (e != FEDNS_OK) {
		session_free_parts(hs);
		return fedns_diag_set(d, e, "hub TLS: %s", err[0] ? err : fedns_strerror(e));
	}
	e = load_chain(hs, o->cert_file, d);
	if (e == FEDNS_OK) {
		e = fedns_sign_load_private_file(o->key_file, &hs->key);
		if (e != FEDNS_OK)
			fedns_diag_set(d, e, "%s: not a P-256 private key (%s)", o->key_file,
				       fedns_strerror(e));
	}
	if (e != FEDNS_OK) {
		session_free_parts(hs);
		return e;
	}
	*out = hs;
	return FEDNS_OK;
}

void
spoke_hubsession_get_stats(spoke_hubsession *hs, spoke_hubsession_stats *out)
{
	pthread_mutex_lock(&hs->mu);
	*out = hs->stats;
	pthread_mutex_unlock(&hs->mu);
}

bool
spoke_hubsession_authenticated(spoke_hubsession *hs)
{
	if (hs == NULL)
		return false;
	pthread_mutex_lock(&hs->mu);
	bool a = hs->stats.authenticated;
	pthread_mutex_unlock(&hs->mu);
	return a;
}

static bool
stopping(spoke_hubsession *hs)
{
	pthread_mutex_lock(&hs->mu);
	bool s = hs->stop;
	pthread_mutex_unlock(&hs->mu);
	return s;
}

/* Waits up to ms or until stop, a kick, or (with 'rx') the receive loop ending. Called
 * without the lock. */
static void
wait_ms(spoke_hubsession *hs, unsigned ms, bool rx)
{
	/* with 'rx' (a session's loop) a pending status kick ends the wait too */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000u;
	ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hs->mu);
	if (!hs->stop && !(rx && (hs->rx_dead || hs->status_kick)))
		pthread_cond_timedwait(&hs->cv, &hs->mu, &ts);
	pthread_mutex_unlock(&hs->mu);
}

static fedns_err
send_msg(spoke_hubsession *hs, fedns_conn *c, const fedns_proto_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	fedns_err err = fedns_proto_encode(m, &buf, &len);
	if (err != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "spoke.hub.encode_failed",
			  FEDNS_LF_STR("type", fedns_proto_type_name(m->type)),
			  FEDNS_LF_STR("error", fedns_strerror(err)));
		return err;
	}
	err = fedns_conn_send(c, buf, len, SEND_TIMEOUT_MS);
	free(buf);
	if (err == FEDNS_OK) {
		pthread_mutex_lock(&hs->mu);
		hs->last_tx_ms = mono_ms();
		pthread_mutex_unlock(&hs->mu);
	}
	return err;
}

typedef struct ack_ctx {
	spoke_hubsession *hs;
	fedns_conn *c;
	bool failed;
} ack_ctx;

/* Acks go out the moment each change is applied, before the verifier has looked at it. */
static void
send_ack(void *ctx, const spoke_blob_outcome *o)
{
	ack_ctx *ac = ctx;
	if (ac->failed)
		return;
	fedns_proto_msg am = {.type = FEDNS_PROTO_ACK, .u.ack = o->ack};
	if (send_msg(ac->hs, ac->c, &am) != FEDNS_OK) {
		ac->failed = true;
		return;
	}
	pthread_mutex_lock(&ac->hs->mu);
	ac->hs->stats.acks_sent++;
	pthread_mutex_unlock(&ac->hs->mu);
}

typedef struct rx_arg {
	spoke_hubsession *hs;
	fedns_conn *c;
} rx_arg;

/* The receive loop: placement, signed blobs (verified, applied and acknowledged here, in
 * arrival order), heartbeats. Never waits on the verifier: applying a version only
 * queues NOTIFYs and a verification. */
static void *
rx_main(void *arg)
{
	rx_arg *ra = arg;
	spoke_hubsession *hs = ra->hs;
	fedns_conn *c = ra->c;
	const char *why = "closed";
	char whybuf[FEDNS_DIAG_MSG_MAX + 64];
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		fedns_err err = fedns_conn_recv(c, &buf, &len, 0, &partial);
		if (err != FEDNS_OK) {
			why = err == FEDNS_ECANCELED ? "closed" : fedns_strerror(err);
			break;
		}
		uint64_t received = wall_ms();
		pthread_mutex_lock(&hs->mu);
		hs->last_rx_ms = mono_ms();
		bool authed = hs->stats.authenticated;
		pthread_mutex_unlock(&hs->mu);
		fedns_proto_msg *m = NULL;
		fedns_diag d;
		fedns_diag_clear(&d);
		err = fedns_proto_decode(buf, len, NULL, &m, &d);
		free(buf);
		if (err != FEDNS_OK) {
			snprintf(whybuf, sizeof(whybuf), "undecodable message: %s", d.msg);
			why = whybuf;
			break;
		}
		bool fail = false;
		pthread_mutex_lock(&hs->mu);
		hs->rx_busy = true;
		pthread_mutex_unlock(&hs->mu);
		switch (m->type) {
		case FEDNS_PROTO_PLACEMENT_UPDATE: {
			bool applied = false;
			size_t removed = 0;
			err = spoke_hubstate_placement(hs->st, &m->u.placement, !authed, &applied,
						       &removed, &d);
			if (err != FEDNS_OK) {
				snprintf(whybuf, sizeof(whybuf), "placement refused: %s", d.msg);
				why = whybuf;
				fail = true;
				break;
			}
			if (!authed) {
				pthread_mutex_lock(&hs->mu);
				hs->stats.authenticated = true;
				hs->stats.sessions++;
				hs->stats.connected_since_ms = wall_ms();
				pthread_cond_broadcast(&hs->cv);
				pthread_mutex_unlock(&hs->mu);
				fedns_log(FEDNS_LOG_INFO, "spoke.hub.authenticated",
					  FEDNS_LF_STR("hub", hs->o.url),
					  FEDNS_LF_STR("peer", fedns_conn_peer(c)),
					  FEDNS_LF_STR("cluster", hs->o.cluster),
					  FEDNS_LF_UINT("placed", m->u.placement.nadd));
			}
			break;
		}
		case FEDNS_PROTO_SIGNED: {
			ack_ctx ac = {.hs = hs, .c = c};
			spoke_hubstate_handle_signed(hs->st, &m->u.signed_blob, received, send_ack,
						     &ac);
			if (ac.failed) {
				why = "ack could not be sent";
				fail = true;
			}
			break;
		}
		case FEDNS_PROTO_HEARTBEAT:
			pthread_mutex_lock(&hs->mu);
			hs->stats.heartbeats_received++;
			pthread_mutex_unlock(&hs->mu);
			break;
		default:
			fedns_log(FEDNS_LOG_WARN, "spoke.hub.unexpected",
				  FEDNS_LF_STR("type", fedns_proto_type_name(m->type)));
			break;
		}
		fedns_proto_msg_free(m);
		pthread_mutex_lock(&hs->mu);
		hs->rx_busy = false;
		/* whatever arrived while a long apply ran is read next: count from now */
		hs->last_rx_ms = mono_ms();
		pthread_mutex_unlock(&hs->mu);
		if (fail)
			break;
	}
	fedns_log(FEDNS_LOG_INFO, "spoke.hub.disconnected", FEDNS_LF_STR("hub", hs->o.url),
		  FEDNS_LF_STR("reason", why));
	pthread_mutex_lock(&hs->mu);
	hs->rx_dead = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
	return NULL;
}

/* Sends the status table as one or more reports. */
static fedns_err
send_status(spoke_hubsession *hs, fedns_conn *c, const spoke_verify_row *rows, size_t n)
{
	fedns_err err = FEDNS_OK;
	for (size_t off = 0; off < n && err == FEDNS_OK; off += REPORT_CHUNK) {
		size_t cnt = n - off < REPORT_CHUNK ? n - off : REPORT_CHUNK;
		fedns_proto_secondary_status *e = calloc(cnt, sizeof(*e));
		if (e == NULL)
			return FEDNS_ENOMEM;
		fedns_arena arena;
		fedns_arena_init(&arena, 64 * 1024, 0);
		size_t k = report_entries(&hs->o, rows + off, cnt, &arena, e);
		if (k > 0) {
			fedns_proto_msg m = {.type = FEDNS_PROTO_STATUS_REPORT,
					     .u.status_report = {.time = wall_ms(),
								 .entries = e,
								 .nentries = k}};
			err = send_msg(hs, c, &m);
			if (err == FEDNS_OK) {
				pthread_mutex_lock(&hs->mu);
				hs->stats.status_reports_sent++;
				pthread_mutex_unlock(&hs->mu);
			}
		}
		fedns_arena_fini(&arena);
		free(e);
	}
	return err;
}

/* Hello, Challenge, answer. */
static fedns_err
handshake(spoke_hubsession *hs, fedns_conn *c, char *why, size_t whysz)
{
	fedns_proto_zone_state *zones = NULL;
	size_t nz = spoke_hubstate_held(hs->st, &zones);
	fedns_proto_msg hello = {.type = FEDNS_PROTO_HELLO,
				 .u.hello = {.cluster = hs->o.cluster,
					     .software_version = hs->o.software_version,
					     .certs = hs->certs,
					     .ncerts = hs->ncerts,
					     .zones = zones,
					     .nzones = nz}};
	fedns_err err = send_msg(hs, c, &hello);
	spoke_hubstate_held_free(zones, nz);
	if (err != FEDNS_OK) {
		snprintf(why, whysz, "sending hello: %s", fedns_strerror(err));
		return err;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	bool partial = false;
	err = fedns_conn_recv(c, &buf, &len, HANDSHAKE_TIMEOUT_MS, &partial);
	if (err != FEDNS_OK) {
		snprintf(why, whysz,
			 "waiting for the challenge: %.100s (the hub closes the connection "
			 "when it refuses the spoke's identity; see its "
			 "auth.spoke.rejected log)",
			 fedns_strerror(err));
		return err;
	}
	fedns_proto_msg *m = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	err = fedns_proto_decode(buf, len, NULL, &m, &d);
	free(buf);
	if (err == FEDNS_OK && m->type != FEDNS_PROTO_CHALLENGE) {
		snprintf(why, whysz, "expected a challenge, got %s",
			 fedns_proto_type_name(m->type));
		fedns_proto_msg_free(m);
		return FEDNS_EMALFORMED;
	}
	if (err != FEDNS_OK) {
		snprintf(why, whysz, "challenge: %.300s", d.msg);
		return err;
	}
	pthread_mutex_lock(&hs->mu);
	hs->last_rx_ms = mono_ms();
	pthread_mutex_unlock(&hs->mu);
	uint8_t sig[FEDNS_PROTO_SIG_LEN];
	fedns_proto_msg resp = {.type = FEDNS_PROTO_CHALLENGE_RESPONSE};
	err = fedns_spokeauth_respond(hs->key, &m->u.challenge, hs->o.cluster, sig,
				      &resp.u.challenge_response);
	fedns_proto_msg_free(m);
	if (err == FEDNS_OK)
		err = send_msg(hs, c, &resp);
	if (err != FEDNS_OK)
		snprintf(why, whysz, "answering the challenge: %s", fedns_strerror(err));
	return err;
}

/* How often the status table is looked at: often enough that a state change reaches the
 * hub within milliseconds, rarer for big tables (each look copies it). */
void
spoke_hubsession_status_changed(spoke_hubsession *hs)
{
	if (hs == NULL)
		return;
	pthread_mutex_lock(&hs->mu);
	hs->status_kick = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
}

/* With status kicks the table is still read this often, in case a change came without
 * one (a report is sent only when a row differs, or at the full-report cadence). */
#define STATUS_FALLBACK_MS 250

static unsigned
poll_ms(size_t rows)
{
	size_t ms = 5 + rows / 50;
	return ms > 500 ? 500u : (unsigned)ms;
}

/* One connection from dial to close. Returns whether it got authenticated. */
static bool
run_connection(spoke_hubsession *hs)
{
	char err[512] = "";
	fedns_conn *c = NULL;
	pthread_mutex_lock(&hs->mu);
	hs->stats.dials++;
	pthread_mutex_unlock(&hs->mu);
	fedns_err e =
		fedns_conn_dial(hs->tls, hs->o.url, hs->o.dial_timeout_ms, &c, err, sizeof(err));
	if (e != FEDNS_OK) {
		pthread_mutex_lock(&hs->mu);
		hs->stats.dial_failures++;
		pthread_mutex_unlock(&hs->mu);
		fedns_log(FEDNS_LOG_WARN, "spoke.hub.connect_failed",
			  FEDNS_LF_STR("hub", hs->o.url),
			  FEDNS_LF_STR("error", err[0] ? err : fedns_strerror(e)));
		return false;
	}
	pthread_mutex_lock(&hs->mu);
	bool stop = hs->stop;
	if (!stop) {
		hs->conn = c;
		hs->rx_dead = false;
		hs->stats.connected = true;
		hs->last_rx_ms = hs->last_tx_ms = mono_ms();
	}
	pthread_mutex_unlock(&hs->mu);
	if (stop) {
		fedns_conn_close(c);
		fedns_conn_free(c);
		return false;
	}
	fedns_log(FEDNS_LOG_INFO, "spoke.hub.connected", FEDNS_LF_STR("hub", hs->o.url),
		  FEDNS_LF_STR("peer", fedns_conn_peer(c)));
	bool authed = false;
	pthread_t rx;
	bool rx_started = false;
	rx_arg ra = {.hs = hs, .c = c};
	e = handshake(hs, c, err, sizeof(err));
	if (e != FEDNS_OK) {
		fedns_log(FEDNS_LOG_WARN, "spoke.hub.handshake_failed",
			  FEDNS_LF_STR("hub", hs->o.url), FEDNS_LF_STR("error", err));
		goto out;
	}
	if (pthread_create(&rx, NULL, rx_main, &ra) != 0) {
		fedns_log(FEDNS_LOG_ERROR, "spoke.hub.thread_failed",
			  FEDNS_LF_STR("hub", hs->o.url));
		goto out;
	}
	rx_started = true;
	spoke_verify_row *last = NULL;
	size_t nlast = 0;
	uint64_t next_full = 0, next_poll = 0;
	unsigned hb = hs->o.heartbeat_ms;
	for (;;) {
		uint64_t now = mono_ms();
		pthread_mutex_lock(&hs->mu);
		bool done = hs->stop || hs->rx_dead;
		bool a = hs->stats.authenticated;
		uint64_t last_rx = hs->last_rx_ms, last_tx = hs->last_tx_ms;
		bool busy = hs->rx_busy;
		bool kicked = hs->status_kick;
		hs->status_kick = false;
		pthread_mutex_unlock(&hs->mu);
		authed |= a;
		if (done)
			break;
		if (!busy && now - last_rx > 3u * (uint64_t)hb) {
			fedns_log(FEDNS_LOG_WARN, "spoke.hub.silent",
				  FEDNS_LF_STR("hub", hs->o.url),
				  FEDNS_LF_UINT("silent_ms", now - last_rx));
			pthread_mutex_lock(&hs->mu);
			hs->stats.silent_disconnects++;
			pthread_mutex_unlock(&hs->mu);
			break;
		}
		unsigned wait = hb / 4 ? hb / 4 : 1;
		if (a && hs->o.status != NULL) {
			if (now >= next_poll || kicked) {
				spoke_verify_row *rows = NULL;
				size_t n = hs->o.status(hs->o.ctx, &rows);
				bool changed = n != nlast;
				for (size_t i = 0; i < n && !changed; i++)
					changed = spoke_hubsession_row_changed(&rows[i], &last[i]);
				if (changed || now >= next_full) {
					if (send_status(hs, c, rows, n) != FEDNS_OK)
						break;
					next_full = now + hs->o.status_interval_ms;
					free(last);
					last = rows;
					nlast = n;
					rows = NULL;
				}
				free(rows);
				/* polling every 5 ms woke each spoke 200 times a second (~3 ms of
				 * CPU a second each, 8 spokes on 2 CPUs) for a table that changes
				 * a few times per zone change */
				next_poll = now + (hs->o.status_kicks ? STATUS_FALLBACK_MS
								      : poll_ms(nlast));
			}
			uint64_t w = next_poll - now;
			if (w < wait)
				wait = (unsigned)w;
		}
		if (now - last_tx >= hb) {
			fedns_proto_msg m = {
				.type = FEDNS_PROTO_HEARTBEAT,
				.u.heartbeat = {.time = wall_ms(), .sequence = ++hs->hb_seq}};
			if (send_msg(hs, c, &m) != FEDNS_OK)
				break;
			pthread_mutex_lock(&hs->mu);
			hs->stats.heartbeats_sent++;
			pthread_mutex_unlock(&hs->mu);
		}
		wait_ms(hs, wait ? wait : 1, true);
	}
	free(last);
out:
	fedns_conn_close(c);
	if (rx_started)
		pthread_join(rx, NULL);
	pthread_mutex_lock(&hs->mu);
	hs->conn = NULL;
	hs->stats.connected = false;
	hs->stats.authenticated = false;
	hs->stats.connected_since_ms = 0;
	pthread_mutex_unlock(&hs->mu);
	fedns_conn_free(c);
	return authed;
}

static void *
session_main(void *arg)
{
	spoke_hubsession *hs = arg;
	unsigned backoff = 0;
	while (!stopping(hs)) {
		bool authed = run_connection(hs);
		if (stopping(hs))
			break;
		/* a session that worked reconnects at once (jittered); failures back off,
		 * doubling to the cap, so a hub restart is not met by every spoke at once */
		backoff = authed    ? BACKOFF_FIRST_MS
			  : backoff ? (backoff * 2 > hs->o.backoff_max_ms ? hs->o.backoff_max_ms
									  : backoff * 2)
				    : BACKOFF_FIRST_MS;
		uint32_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)mono_us();
		unsigned wait = backoff / 2 + r % (backoff / 2 + 1);
		wait_ms(hs, wait, false);
	}
	return NULL;
}

fedns_err
spoke_hubsession_start(spoke_hubsession *hs)
{
	pthread_mutex_lock(&hs->mu);
	if (hs->running) {
		pthread_mutex_unlock(&hs->mu);
		return FEDNS_EEXIST;
	}
	int r = pthread_create(&hs->th, NULL, session_main, hs);
	hs->running = r == 0;
	pthread_mutex_unlock(&hs->mu);
	return r == 0 ? FEDNS_OK : -r;
}

void
spoke_hubsession_free(spoke_hubsession *hs)
{
	if (hs == NULL)
		return;
	pthread_mutex_lock(&hs->mu);
	hs->stop = true;
	bool running = hs->running;
	if (hs->conn != NULL)
		fedns_conn_close(hs->conn);
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
	if (running)
		pthread_join(hs->th, NULL);
	session_free_parts(hs);
}
