/* SPDX-License-Identifier: Apache-2.0 */
/* Served zones: current versions, IXFR journal chains and the catalog zone. */
#include "spoke/zoneset.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/catalog.h"
#include "dns/rdata.h"
#include "dns/serial.h"

/* Catalog membership changes are rare; a short journal is enough there. */
#define CATALOG_JOURNAL_MAX 64

typedef struct zentry {
	uint8_t origin[FEDNS_NAME_MAXLEN];
	spoke_version *cur;
} zentry;

/* The lock guards the zone table, each entry's current version and the journal links
 * (entries are cut from a chain only under it). Versions and journal entries are
 * immutable otherwise and live as long as someone holds them. 'wmu' serialises the
 * changes (taken before 'mu'), so a store hook can write and fsync without holding up
 * lookups while nothing else changes the set. */
struct spoke_zoneset {
	pthread_mutex_t mu;
	pthread_mutex_t wmu;
	spoke_zoneset_store store;
	bool has_store;
	zentry *z;
	size_t n, cap;
	size_t journal_max;
	uint8_t catalog_origin[FEDNS_NAME_MAXLEN];
	bool has_catalog;
	spoke_version *catalog;
	uint32_t catalog_serial;
	spoke_zoneset_changed_fn changed;
	void *changed_ctx;
};

typedef struct change {
	uint8_t origin[FEDNS_NAME_MAXLEN];
	uint32_t serial;
} change;

spoke_version *
spoke_version_hold(spoke_version *v)
{
	if (v != NULL)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

void
spoke_jentry_rele(spoke_jentry *j)
{
	/* iterative so a long journal chain cannot overflow the stack */
	while (j != NULL && __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		spoke_jentry *prev = j->prev;
		fedns_diff_fini(&j->diff);
		free(j);
		j = prev;
	}
}

void
spoke_version_rele(spoke_version *v)
{
	if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	fedns_zone_free(v->zone);
	spoke_jentry_rele(v->journal);
	free(v);
}

/* Cuts v's journal after 'jmax' entries. Called with the lock held. */
static void
trim_locked(spoke_version *v, size_t jmax)
{
	spoke_jentry *w = v->journal;
	if (w == NULL)
		return;
	for (size_t i = 1; i < jmax && w->prev != NULL; i++)
		w = w->prev;
	spoke_jentry *cut = w->prev;
	w->prev = NULL;
	spoke_jentry_rele(cut);
}

/* A new version of 'z' (taken on success). 'diff' (its storage moved in on success, may
 * be NULL) leads from 'prev' (may be NULL) to z. The journal is cut after 'jmax'
 * entries. Called with the lock held. */
static spoke_version *
version_new_locked(fedns_zone *z, fedns_diff *diff, const spoke_version *prev, size_t jmax)
{
	spoke_version *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->refs = 1;
	v->zone = z;
	v->serial = fedns_zone_serial(z);
	if (diff == NULL || prev == NULL)
		return v;
	spoke_jentry *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		free(v);
		return NULL;
	}
	j->refs = 1;
	j->from = prev->serial;
	j->to = v->serial;
	j->diff = *diff;
	fedns_diff_init(diff);
	if (prev->journal != NULL) {
		__atomic_add_fetch(&prev->journal->refs, 1, __ATOMIC_RELAXED);
		j->prev = prev->journal;
	}
	v->journal = j;
	trim_locked(v, jmax);
	return v;
}

/* A zone is held in 1 MiB pool blocks and big arrays. glibc's dynamic mmap threshold
 * rises to the size of the first such block freed, after which new versions are carved
 * from the heap and the superseded ones stay in it: RSS grew from 84 to 222 MiB after a
 * few loads of a 1M-record zone. A fixed threshold keeps them mmapped, so freeing a version
 * gives its memory back to the system at once, and no malloc_trim (which would walk the
 * whole heap, possibly under a caller's lock) is needed. */
#define SPOKE_MMAP_THRESHOLD (128 * 1024)

static void
malloc_setup(void)
{
	mallopt(M_MMAP_THRESHOLD, SPOKE_MMAP_THRESHOLD);
}

fedns_err
spoke_zoneset_new(const spoke_zoneset_opts *opts, spoke_zoneset **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, malloc_setup);
	spoke_zoneset *zs = calloc(1, sizeof(*zs));
	if (zs == NULL)
		return FEDNS_ENOMEM;
	pthread_mutex_init(&zs->mu, NULL);
	pthread_mutex_init(&zs->wmu, NULL);
	zs->journal_max = opts != NULL && opts->journal_max ? opts->journal_max : 1000;
	if (opts != NULL && opts->catalog_origin != NULL) {
		fedns_name_copy(zs->catalog_origin, opts->catalog_origin);
		zs->has_catalog = true;
		zs->catalog_serial = 1;
	}
	*out = zs;
	return FEDNS_OK;
}

void
spoke_zoneset_free(spoke_zoneset *zs)
{
	if (zs == NULL)
		return;
	for (size_t i = 0; i < zs->n; i++)
		spoke_version_rele(zs->z[i].cur);
	free(zs->z);
	spoke_version_rele(zs->catalog);
	pthread_mutex_destroy(&zs->wmu);
	pthread_mutex_destroy(&zs->mu);
	free(zs);
}

void
spoke_zoneset_on_change(spoke_zoneset *zs, spoke_zoneset_changed_fn fn, void *ctx)
{
	pthread_mutex_lock(&zs->mu);
	zs->changed = fn;
	zs->changed_ctx = ctx;
	pthread_mutex_unlock(&zs->mu);
}

void
spoke_zoneset_set_store(spoke_zoneset *zs, const spoke_zoneset_store *st)
{
	pthread_mutex_lock(&zs->wmu);
	zs->has_store = st != NULL;
	if (st != NULL)
		zs->store = *st;
	pthread_mutex_unlock(&zs->wmu);
}

bool
spoke_zoneset_get_store(spoke_zoneset *zs, spoke_zoneset_store *st)
{
	pthread_mutex_lock(&zs->wmu);
	bool has = zs->has_store;
	if (has)
		*st = zs->store;
	pthread_mutex_unlock(&zs->wmu);
	return has;
}

void
spoke_zoneset_catalog_resume(spoke_zoneset *zs, uint32_t serial)
{
	pthread_mutex_lock(&zs->mu);
	if (zs->catalog == NULL)
		zs->catalog_serial = serial;
	pthread_mutex_unlock(&zs->mu);
}

/* The serial the catalog gets at its next rebuild. Called with the lock held. */
static uint32_t
next_catalog_serial_locked(const spoke_zoneset *zs)
{
	return zs->catalog != NULL ? fedns_serial_add(zs->catalog_serial, 1) : zs->catalog_serial;
}

/* Reserves the next catalog serial in the store before a membership change. Called with
 * 'wmu' held and 'mu' not held. */
static fedns_err
store_catalog(spoke_zoneset *zs, fedns_diag *d)
{
	if (!zs->has_store || !zs->has_catalog || zs->store.catalog == NULL)
		return FEDNS_OK;
	pthread_mutex_lock(&zs->mu);
	uint32_t serial = next_catalog_serial_locked(zs);
	pthread_mutex_unlock(&zs->mu);
	return zs->store.catalog(zs->store.ctx, serial, d);
}

/* Room for one more zone entry. */
static fedns_err
room_locked(spoke_zoneset *zs)
{
	if (zs->n < zs->cap)
		return FEDNS_OK;
	size_t ncap = zs->cap ? zs->cap * 2 : 16;
	zentry *p = realloc(zs->z, ncap * sizeof(*p));
	if (p == NULL)
		return FEDNS_ENOMEM;
	zs->z = p;
	zs->cap = ncap;
	return FEDNS_OK;
}

static zentry *
find_locked(spoke_zoneset *zs, const uint8_t *origin)
{
	for (size_t i = 0; i < zs->n; i++)
		if (fedns_name_equal(zs->z[i].origin, origin))
			return &zs->z[i];
	return NULL;
}

/* A diff from 'from' to 'to' in a malloc'd struct, or NULL on failure (err set). */
static fedns_err
diff_between(const fedns_zone *from, const fedns_zone *to, fedns_diff *out)
{
	fedns_diff_init(out);
	fedns_err err = fedns_diff_compute(from, to, out);
	if (err != FEDNS_OK)
		fedns_diff_fini(out);
	return err;
}

/* Rebuilds the catalog zone at the next serial and records the change in ch. */
static fedns_err
rebuild_catalog_locked(spoke_zoneset *zs, change *ch, size_t *nch)
{
	if (!zs->has_catalog)
		return FEDNS_OK;
	const uint8_t **members = calloc(zs->n ? zs->n : 1, sizeof(*members));
	if (members == NULL)
		return FEDNS_ENOMEM;
	for (size_t i = 0; i < zs->n; i++)
		members[i] = zs->z[i].origin;
	uint32_t serial = next_catalog_serial_locked(zs);
	fedns_zone *cz = NULL;
	fedns_err err = fedns_catalog_build(zs->catalog_origin, serial,
					    (const uint8_t *const *)members, zs->n, &cz);
	free(members);
	if (err != FEDNS_OK)
		return err;
	fedns_diff diff;
	bool have_diff = false;
	if (zs->catalog != NULL) {
		err = diff_between(zs->catalog->zone, cz, &diff);
		if (err != FEDNS_OK) {
			fedns_zone_free(cz);
			return err;
		}
		have_diff = true;
	}
	spoke_version *v =
		version_new_locked(cz, have_diff ? &diff : NULL, zs->catalog, CATALOG_JOURNAL_MAX);
	if (have_diff)
		fedns_diff_fini(&diff);
	if (v == NULL) {
		fedns_zone_free(cz);
		return FEDNS_ENOMEM;
	}
	spoke_version_rele(zs->catalog);
	zs->catalog = v;
	zs->catalog_serial = serial;
	fedns_name_copy(ch[*nch].origin, zs->catalog_origin);
	ch[(*nch)++].serial = serial;
	return FEDNS_OK;
}

static void
report(spoke_zoneset *zs, const change *c, size_t n)
{
	pthread_mutex_lock(&zs->mu);
	spoke_zoneset_changed_fn fn = zs->changed;
	void *ctx = zs->changed_ctx;
	pthread_mutex_unlock(&zs->mu);
	for (size_t i = 0; fn != NULL && i < n; i++)
		fn(ctx, c[i].origin, c[i].serial);
}

/* Makes v the current version of e (dropping the old current) and records the change. */
static void
install_locked(zentry *e, spoke_version *v, change *ch, size_t *nch)
{
	spoke_version_rele(e->cur);
	e->cur = v;
	fedns_name_copy(ch[*nch].origin, e->origin);
	ch[(*nch)++].serial = v->serial;
}

fedns_err
spoke_zoneset_build(const fedns_zone *base, const fedns_diff *diff, fedns_zone **out, fedns_diag *d)
{
	/* derive either builds exactly what fedns_diff_apply would or declines; on any failure
	 * fedns_diff_apply decides, so a refusal reads the same whichever path ran */
	if (fedns_zone_derive(base, diff->del, diff->ndel, diff->add, diff->nadd, out) == FEDNS_OK)
		return FEDNS_OK;
	*out = NULL;
	fedns_err err = fedns_diff_apply(base, diff, out, d);
	/* unshared (out of memory) it still serves; the next version is then built flat */
	if (err == FEDNS_OK)
		(void)fedns_zone_share(*out);
	return err;
}

fedns_err
spoke_zoneset_put(spoke_zoneset *zs, fedns_zone *z, fedns_diag *d)
{
	const uint8_t *origin = fedns_zone_origin(z);
	change ch[2];
	size_t nch = 0;
	fedns_err err = FEDNS_OK;
	/* z is not seen by other threads yet; shared, the next version derives from it */
	(void)fedns_zone_share(z);
	pthread_mutex_lock(&zs->wmu);
	pthread_mutex_lock(&zs->mu);
	if (zs->has_catalog && fedns_name_equal(origin, zs->catalog_origin)) {
		err = fedns_diag_set(d, FEDNS_EEXIST, "zone has the catalog zone's name");
		goto out;
	}
	zentry *e = find_locked(zs, origin);
	if (e != NULL) {
		if (!fedns_serial_gt(fedns_zone_serial(z), e->cur->serial)) {
			err = fedns_diag_set(d, FEDNS_ESTALE,
					     "new serial %u is not greater than the current %u",
					     fedns_zone_serial(z), e->cur->serial);
			goto out;
		}
		fedns_diff diff;
		err = diff_between(e->cur->zone, z, &diff);
		if (err != FEDNS_OK)
			goto out;
		/* with a store the journal is cut only once the change is durable */
		spoke_version *v = version_new_locked(z, &diff, e->cur,
						      zs->has_store ? SIZE_MAX : zs->journal_max);
		fedns_diff_fini(&diff);
		if (v == NULL) {
			err = FEDNS_ENOMEM;
			goto out;
		}
		if (zs->has_store && zs->store.changed != NULL) {
			pthread_mutex_unlock(&zs->mu);
			err = zs->store.changed(zs->store.ctx, v, d);
			pthread_mutex_lock(&zs->mu);
			if (err != FEDNS_OK) {
				v->zone = NULL; /* stays the caller's */
				spoke_version_rele(v);
				goto out;
			}
			trim_locked(v, zs->journal_max);
		}
		install_locked(e, v, ch, &nch);
		goto out;
	}
	if ((err = room_locked(zs)) != FEDNS_OK)
		goto out;
	spoke_version *v = version_new_locked(z, NULL, NULL, zs->journal_max);
	if (v == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	if (zs->has_store) {
		pthread_mutex_unlock(&zs->mu);
		err = store_catalog(zs, d);
		if (err == FEDNS_OK && zs->store.added != NULL)
			err = zs->store.added(zs->store.ctx, v, d);
		pthread_mutex_lock(&zs->mu);
		if (err != FEDNS_OK) {
			v->zone = NULL;
			spoke_version_rele(v);
			goto out;
		}
	}
	e = &zs->z[zs->n++];
	fedns_name_copy(e->origin, origin);
	e->cur = NULL;
	install_locked(e, v, ch, &nch);
	err = rebuild_catalog_locked(zs, ch, &nch);
	if (err != FEDNS_OK) {
		/* undo the insertion: the zone stays the caller's */
		zs->n--;
		v->zone = NULL;
		spoke_version_rele(v);
		if (zs->has_store && zs->store.removed != NULL) {
			pthread_mutex_unlock(&zs->mu);
			zs->store.removed(zs->store.ctx, origin, NULL);
			pthread_mutex_lock(&zs->mu);
		}
	}
out:
	pthread_mutex_unlock(&zs->mu);
	pthread_mutex_unlock(&zs->wmu);
	if (err == FEDNS_OK)
		report(zs, ch, nch);
	return err;
}

fedns_err
spoke_zoneset_apply(spoke_zoneset *zs, const uint8_t *origin, fedns_diff *diff,
		    uint32_t *new_serial, fedns_diag *d)
{
	if (diff->nadd == 0 || diff->add[0].type != FEDNS_T_SOA || diff->ndel == 0 ||
	    diff->del[0].type != FEDNS_T_SOA)
		return fedns_diag_set(d, FEDNS_EMALFORMED,
				      "a diff must delete the old SOA and add the new one");
	pthread_mutex_lock(&zs->wmu);
	spoke_version *cur = spoke_zoneset_get(zs, origin);
	if (cur == NULL) {
		pthread_mutex_unlock(&zs->wmu);
		return fedns_diag_set(d, FEDNS_ENOENT, "zone is not served here");
	}
	uint32_t to = fedns_soa_serial(diff->add[0].rdata, diff->add[0].rdlen);
	if (!fedns_serial_gt(to, cur->serial)) {
		pthread_mutex_unlock(&zs->wmu);
		spoke_version_rele(cur);
		return fedns_diag_set(d, FEDNS_ESTALE,
				      "new serial %u is not greater than the current %u", to,
				      cur->serial);
	}
	/* the zone is rebuilt outside the lock; the swap then checks nothing moved */
	fedns_zone *nz = NULL;
	fedns_err err = spoke_zoneset_build(cur->zone, diff, &nz, d);
	if (err != FEDNS_OK) {
		pthread_mutex_unlock(&zs->wmu);
		spoke_version_rele(cur);
		return err;
	}
	change ch;
	size_t nch = 0;
	pthread_mutex_lock(&zs->mu);
	zentry *e = find_locked(zs, origin);
	if (e == NULL || e->cur != cur) {
		err = fedns_diag_set(d, FEDNS_ESTALE, "zone changed while the diff was applied");
	} else {
		spoke_version *v = version_new_locked(nz, diff, cur,
						      zs->has_store ? SIZE_MAX : zs->journal_max);
		if (v == NULL) {
			err = FEDNS_ENOMEM;
		} else if (zs->has_store && zs->store.changed != NULL) {
			pthread_mutex_unlock(&zs->mu);
			err = zs->store.changed(zs->store.ctx, v, d);
			pthread_mutex_lock(&zs->mu);
			if (err != FEDNS_OK) {
				/* the diff goes back to the caller untouched */
				*diff = v->journal->diff;
				fedns_diff_init(&v->journal->diff);
				v->zone = NULL; /* nz is freed below */
				spoke_version_rele(v);
			} else {
				trim_locked(v, zs->journal_max);
			}
		}
		if (v != NULL && err == FEDNS_OK) {
			install_locked(e, v, &ch, &nch);
			nz = NULL;
		}
	}
	pthread_mutex_unlock(&zs->mu);
	pthread_mutex_unlock(&zs->wmu);
	spoke_version_rele(cur);
	fedns_zone_free(nz);
	if (err != FEDNS_OK)
		return err;
	*new_serial = ch.serial;
	report(zs, &ch, nch);
	return FEDNS_OK;
}

fedns_err
spoke_zoneset_remove(spoke_zoneset *zs, const uint8_t *origin)
{
	change ch[1];
	size_t nch = 0;
	pthread_mutex_lock(&zs->wmu);
	pthread_mutex_lock(&zs->mu);
	zentry *e = find_locked(zs, origin);
	if (e == NULL) {
		pthread_mutex_unlock(&zs->mu);
		pthread_mutex_unlock(&zs->wmu);
		return FEDNS_ENOENT;
	}
	if (zs->has_store) {
		pthread_mutex_unlock(&zs->mu);
		fedns_err serr = store_catalog(zs, NULL);
		if (serr == FEDNS_OK && zs->store.removed != NULL)
			serr = zs->store.removed(zs->store.ctx, origin, NULL);
		pthread_mutex_lock(&zs->mu);
		if (serr != FEDNS_OK) {
			pthread_mutex_unlock(&zs->mu);
			pthread_mutex_unlock(&zs->wmu);
			return serr;
		}
		e = find_locked(zs, origin); /* the table cannot move under wmu */
	}
	spoke_version *old = e->cur;
	size_t i = (size_t)(e - zs->z);
	memmove(&zs->z[i], &zs->z[i + 1], (zs->n - i - 1) * sizeof(*zs->z));
	zs->n--;
	fedns_err err = rebuild_catalog_locked(zs, ch, &nch);
	pthread_mutex_unlock(&zs->mu);
	pthread_mutex_unlock(&zs->wmu);
	spoke_version_rele(old);
	report(zs, ch, nch);
	return err;
}

fedns_err
spoke_zoneset_restore(spoke_zoneset *zs, fedns_zone *z, spoke_zoneset_jdiff *j, size_t n,
		      fedns_diag *d)
{
	const uint8_t *origin = fedns_zone_origin(z);
	change ch[2];
	size_t nch = 0;
	fedns_err err = FEDNS_OK;
	spoke_version *v = calloc(1, sizeof(*v));
	spoke_jentry **je = calloc(n ? n : 1, sizeof(*je));
	if (v == NULL || je == NULL) {
		free(v);
		free(je);
		return FEDNS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		je[i] = calloc(1, sizeof(**je));
		if (je[i] == NULL) {
			while (i > 0)
				free(je[--i]);
			free(je);
			free(v);
			return FEDNS_ENOMEM;
		}
	}
	v->refs = 1;
	v->zone = z;
	v->serial = fedns_zone_serial(z);
	(void)fedns_zone_share(z); /* see spoke_zoneset_put */
	pthread_mutex_lock(&zs->wmu);
	pthread_mutex_lock(&zs->mu);
	if ((zs->has_catalog && fedns_name_equal(origin, zs->catalog_origin)) ||
	    find_locked(zs, origin) != NULL) {
		err = fedns_diag_set(d, FEDNS_EEXIST, "zone is already served");
		goto out;
	}
	if ((err = room_locked(zs)) != FEDNS_OK)
		goto out;
	/* link oldest first; each entry holds the one before it */
	for (size_t i = 0; i < n; i++) {
		je[i]->refs = 1;
		je[i]->from = j[i].from;
		je[i]->to = j[i].to;
		je[i]->diff = j[i].diff;
		fedns_diff_init(&j[i].diff);
		je[i]->prev = i > 0 ? je[i - 1] : NULL;
	}
	v->journal = n > 0 ? je[n - 1] : NULL;
	trim_locked(v, zs->journal_max);
	zentry *e = &zs->z[zs->n++];
	fedns_name_copy(e->origin, origin);
	e->cur = v;
	v = NULL;
	/* the zone is served from here on; a catalog that could not be rebuilt (out of
	 * memory) catches up at the next membership change */
	(void)rebuild_catalog_locked(zs, ch, &nch);
	n = 0; /* the entries are linked now */
out:
	pthread_mutex_unlock(&zs->mu);
	pthread_mutex_unlock(&zs->wmu);
	for (size_t i = 0; i < n; i++)
		free(je[i]);
	free(je);
	if (v != NULL) {
		v->zone = NULL;
		spoke_version_rele(v);
	}
	return err;
}

spoke_version *
spoke_zoneset_get(spoke_zoneset *zs, const uint8_t *name)
{
	spoke_version *v = NULL;
	pthread_mutex_lock(&zs->mu);
	if (zs->has_catalog && fedns_name_equal(name, zs->catalog_origin)) {
		v = spoke_version_hold(zs->catalog);
	} else {
		zentry *e = find_locked(zs, name);
		if (e != NULL)
			v = spoke_version_hold(e->cur);
	}
	pthread_mutex_unlock(&zs->mu);
	return v;
}

long
spoke_zoneset_journal(spoke_zoneset *zs, const spoke_version *v, uint32_t from, spoke_jentry **out,
		      size_t max)
{
	if (v->serial == from)
		return 0;
	long n = 0;
	pthread_mutex_lock(&zs->mu);
	const spoke_jentry *j = v->journal;
	while (j != NULL && j->from != from && (size_t)n < max) {
		n++;
		j = j->prev;
	}
	if (j == NULL || (size_t)n == max) {
		pthread_mutex_unlock(&zs->mu);
		return -1;
	}
	n++; /* the entry starting at 'from' */
	spoke_jentry *w = v->journal;
	for (long i = n; i > 0; i--) {
		__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
		out[i - 1] = w;
		w = w->prev;
	}
	pthread_mutex_unlock(&zs->mu);
	return n;
}

size_t
spoke_zoneset_list(spoke_zoneset *zs, uint8_t ***out)
{
	pthread_mutex_lock(&zs->mu);
	size_t n = zs->n, got = 0;
	uint8_t **list = calloc(n ? n : 1, sizeof(*list));
	for (size_t i = 0; list != NULL && i < n; i++) {
		list[i] = malloc(FEDNS_NAME_MAXLEN);
		if (list[i] == NULL)
			break;
		fedns_name_copy(list[i], zs->z[i].origin);
		got++;
	}
	pthread_mutex_unlock(&zs->mu);
	*out = list;
	return got;
}

void
spoke_zoneset_list_free(uint8_t **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i]);
	free(list);
}
