/* SPDX-License-Identifier: Apache-2.0 */
/* The change workflow: proposals validated by dns/ into planned change sets, approvals
 * with segregation of duties, and commits that assign the serial and ZONEMD. */
#include "hub/workflow.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include "common/arena.h"
#include "common/encode.h"
#include "common/sha2.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/serial.h"
#include "dns/zdigest.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

#define NBUCKETS 1024
#define PLANS_PER_ZONE 4
#define PLAN_CACHE_MAX_BYTES ((size_t)64 << 20)
#define MSG_RR_MAX 200 /* bytes of a record's text quoted in a message */

/* A finished zone shared between the cache and the threads using it. 'refs' is guarded
 * by the workflow's mutex; the zone itself is read-only once finished. */
typedef struct wzone {
	fedns_zone *z;
	uint32_t serial;
	char digest[97]; /* hex content digest as stored: the tree root, or a legacy ZONEMD */
	int refs;
	/* A version this hub committed: the diff that made it from the version whose digest
	 * is base_digest, so the zone's digest tree can follow it in O(change). */
	fedns_diff *fwd;
	char base_digest[97];
} wzone;

/* The zone a proposal would commit, kept so the approval that commits it need not apply
 * the diff again. Only reused when the change's base and diff text are exactly what it
 * was built from. */
typedef struct planned {
	int64_t change_id;
	uint32_t base_serial;
	char base_digest[97];
	uint8_t diff_sha[FEDNS_SHA256_LEN];
	wzone *result;
} planned;

typedef struct zentry {
	int64_t zone_id;
	wzone *cur;	/* the last version known committed */
	wzone *prev;	/* the one before: borrowed pointers live one commit longer */
	wzone *pending; /* built by a transaction not yet known committed */
	planned plans[PLANS_PER_ZONE];
	size_t plan_next;
	/* The zone's digest tree (dns/zdigest.h) at the version whose digest is zd_at ("" when
	 * unusable): every commit moves it in O(change) instead of hashing the whole zone.
	 * Guarded by zmu, never by mu, so a rebuild (O(zone), after a load or a lost race)
	 * holds up only this zone. Entries live as long as the workflow. */
	pthread_mutex_t zmu;
	fedns_zdigest *zd;
	char zd_at[97];
	struct zentry *next;
} zentry;

enum prep_kind {
	PREP_PROPOSE = 1,
	PREP_COMMIT = 2,
};

/* Work done outside the write transaction, pinned to the version it was computed from
 * (serial and ZONEMD digest) so the transaction can tell whether it still holds. */
struct hub_prepared {
	enum prep_kind kind;
	int64_t zone_id;
	uint32_t base_serial;
	char base_digest[97];
	fedns_zone *nz; /* the result */
	/* PREP_PROPOSE: the plan as it would be stored */
	hub_plan plan;
	/* PREP_COMMIT */
	int64_t change_id;
	uint8_t diff_sha[FEDNS_SHA256_LEN];
	uint32_t serial;
	char digest[97];
	fedns_diff *fwd;   /* what makes the result from the base, for the digest tree */
	char *commit_diff; /* the SOA lines, then the change's diff */
	char *snapshot;	   /* the new version printed, when a snapshot is due */
};

struct hub_workflow {
	hub_workflow_opts o;
	pthread_mutex_t mu;
	zentry *buckets[NBUCKETS];
};

/* ---- small helpers ---- */

/* A ZONEMD RR in the zone would be wrong after the next commit (its digest covers the
 * serial): the hub computes the digest and keeps it beside the version instead. */
static const char zonemd_owned[] = "an apex ZONEMD record is not kept in the zone: the hub "
				   "computes the digest of every version itself (export adds a "
				   "ZONEMD with zonemd=1)";

static void
where_set(hub_where *where, const char *field, unsigned line)
{
	if (where == NULL)
		return;
	snprintf(where->field, sizeof(where->field), "%s", field);
	where->line = line;
}

/* Sets d (first failure wins) and where together. */
__attribute__((format(printf, 6, 7))) static fedns_err
fail(fedns_diag *d, hub_where *where, fedns_err code, const char *field, unsigned line,
     const char *fmt, ...)
{
	if (d == NULL || (d->code == FEDNS_OK && d->msg[0] == '\0'))
		where_set(where, field, line);
	va_list ap;
	va_start(ap, fmt);
	fedns_diag_vset(d, code, fmt, ap);
	va_end(ap);
	return code;
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* The content digest of a zone only the caller holds yet (it is about to enter the
 * cache), from scratch: the root of its digest tree (dns/zdigest.h), in hex, and the tree
 * itself for the zone's entry. The zone becomes a shared zone first (if memory allows) so
 * the versions derived from it share its segments. */
static fedns_err
tree_build(fedns_zone *z, fedns_zdigest **zd_out, char out[97])
{
	uint8_t root[FEDNS_ZDIGEST_LEN];
	out[0] = '\0';
	*zd_out = NULL;
	(void)fedns_zone_share(z);
	fedns_err err = fedns_zdigest_new(z, zd_out);
	if (err != FEDNS_OK)
		return err;
	fedns_zdigest_root(*zd_out, root);
	fedns_hex_encode(root, sizeof(root), out, 0);
	return FEDNS_OK;
}

/* A digest stored by hubs before the tree digest: ZONEMD SIMPLE SHA-384, 96 hex digits. */
static bool
legacy_zonemd(const char *hex)
{
	return strlen(hex) == 2 * 48;
}

/* base - del + add: derived from the cached version when that is cheap to decide (O(change),
 * sharing the rest), else rebuilt and checked by fedns_diff_apply, which also words every
 * refusal. */
static fedns_err
apply_diff(const fedns_zone *base, const fedns_diff *diff, fedns_zone **out, fedns_diag *d)
{
	fedns_err err = fedns_zone_derive(base, diff->del, diff->ndel, diff->add, diff->nadd, out);
	if (err != FEDNS_ENOTSUP) {
		if (err != FEDNS_OK)
			fedns_diag_set(d, err, "diff apply: %s", fedns_strerror(err));
		return err;
	}
	err = fedns_diff_apply(base, diff, out, d);
	if (err == FEDNS_OK)
		(void)fedns_zone_share(*out);
	return err;
}

/* "owner TYPE rdata" for messages, cut to fit. */
static const char *
rr_brief(const uint8_t *owner, uint16_t type, const uint8_t *rd, size_t rdlen, bool with_rdata,
	 char *out, size_t outsz)
{
	char name[FEDNS_NAME_MAXTEXT + 1];
	char tb[16];
	if (fedns_name_to_text(owner, name, sizeof(name)) == 0)
		snprintf(name, sizeof(name), "?");
	fedns_buf b;
	fedns_buf_init(&b, 4096);
	if (with_rdata && fedns_rdata_to_text(type, rd, rdlen, &b) == FEDNS_OK && b.len > 0) {
		bool cut = b.len > MSG_RR_MAX;
		snprintf(out, outsz, "%.250s %s %.*s%s", name, fedns_rrtype_to_text(type, tb),
			 (int)(cut ? MSG_RR_MAX : b.len), (const char *)b.data, cut ? "..." : "");
	} else {
		snprintf(out, outsz, "%.250s %s", name, fedns_rrtype_to_text(type, tb));
	}
	fedns_buf_fini(&b);
	return out;
}

/* ---- rdata tokens ---- */

typedef struct tokvec {
	fedns_token *v;
	size_t n, cap;
} tokvec;

static fedns_err
tok_push(tokvec *t, const char *s, size_t len, bool quoted)
{
	if (len > UINT32_MAX)
		return FEDNS_ETOOBIG;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		fedns_token *v = realloc(t->v, nc * sizeof(*v));
		if (v == NULL)
			return FEDNS_ENOMEM;
		t->v = v;
		t->cap = nc;
	}
	t->v[t->n++] = (fedns_token){.s = s, .len = (uint32_t)len, .quoted = quoted};
	return FEDNS_OK;
}

static bool
is_plain_end(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' ||
	       c == ')' || c == '"';
}

/* Splits one record's rdata text into the tokens the master-file lexer would produce
 * (whitespace separates; "quoted strings" and backslash escapes are kept raw for
 * fedns_rdata_from_text to decode). A hand tokenizer rather than formatting a one-line
 * master file for fedns_zonefile_parse: a scratch zone cannot hand its staged records
 * back before fedns_zone_finish, and finishing it would apply whole-zone rules (SOA,
 * apex NS) to a single record; this way each rdata string is checked alone and its
 * error names it. Grouping parentheses, comments and line breaks have no meaning inside
 * one record and are refused rather than silently reinterpreted. */
static fedns_err
tokenize(const char *s, size_t len, tokvec *t, fedns_diag *d)
{
	size_t i = 0;
	fedns_err err;
	t->n = 0;
	while (i < len) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
			continue;
		}
		if (c == '\n')
			return fedns_diag_set(d, FEDNS_ESYNTAX,
					      "a line break is not allowed in one record's rdata");
		if (c == ';')
			return fedns_diag_set(d, FEDNS_ESYNTAX,
					      "unquoted ';' starts a comment in a master file: "
					      "quote or escape it");
		if (c == '(' || c == ')')
			return fedns_diag_set(d, FEDNS_ESYNTAX,
					      "unquoted '%c' is not allowed in one record's rdata: "
					      "quote or escape it",
					      c);
		if (c == '"') {
			size_t st = ++i;
			for (;;) {
				if (i >= len)
					return fedns_diag_set(d, FEDNS_ESYNTAX,
							      "quoted string is not closed");
				if (s[i] == '"')
					break;
				if (s[i] == '\n')
					return fedns_diag_set(d, FEDNS_ESYNTAX,
							      "a line break is not allowed in one "
							      "record's rdata");
				if (s[i] == '\\') {
					if (i + 1 >= len)
						return fedns_diag_set(d, FEDNS_ESYNTAX,
								      "backslash at end of rdata");
					i += 2;
					continue;
				}
				i++;
			}
			if ((err = tok_push(t, s + st, i - st, true)) != FEDNS_OK)
				return fedns_diag_set(d, err, "rdata: %s", fedns_strerror(err));
			i++;
			continue;
		}
		size_t st = i;
		while (i < len && !is_plain_end(s[i])) {
			if (s[i] == '\\') {
				if (i + 1 >= len)
					return fedns_diag_set(d, FEDNS_ESYNTAX,
							      "backslash at end of rdata");
				if (s[i + 1] == '\n')
					return fedns_diag_set(d, FEDNS_ESYNTAX,
							      "a line break is not allowed in one "
							      "record's rdata");
				i += 2;
				continue;
			}
			i++;
		}
		if ((err = tok_push(t, s + st, i - st, false)) != FEDNS_OK)
			return fedns_diag_set(d, err, "rdata: %s", fedns_strerror(err));
	}
	return FEDNS_OK;
}

/* ---- the cache ---- */

static void
wz_unref_locked(wzone *wz, wzone **to_free)
{
	if (wz == NULL)
		return;
	/* freed by the caller after unlocking: freeing a big zone takes a while */
	if (--wz->refs == 0)
		*to_free = wz;
}

static void
diff_free(fedns_diff *d)
{
	if (d != NULL) {
		fedns_diff_fini(d);
		free(d);
	}
}

static void
wz_destroy(wzone *wz)
{
	if (wz == NULL)
		return;
	fedns_zone_free(wz->z);
	diff_free(wz->fwd);
	free(wz);
}

/* Drops one reference (any thread). */
static void
wz_release(hub_workflow *w, wzone *wz)
{
	if (wz == NULL)
		return;
	wzone *dead = NULL;
	pthread_mutex_lock(&w->mu);
	wz_unref_locked(wz, &dead);
	pthread_mutex_unlock(&w->mu);
	wz_destroy(dead);
}

static wzone *
wz_new(fedns_zone *z, uint32_t serial, const char *digest)
{
	wzone *wz = calloc(1, sizeof(*wz));
	if (wz == NULL)
		return NULL;
	wz->z = z;
	wz->serial = serial;
	snprintf(wz->digest, sizeof(wz->digest), "%s", digest != NULL ? digest : "");
	wz->refs = 1;
	return wz;
}

static size_t
bucket_of(int64_t zone_id)
{
	uint64_t h = (uint64_t)zone_id * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 54) % NBUCKETS;
}

static zentry *
entry_locked(hub_workflow *w, int64_t zone_id, bool create)
{
	size_t b = bucket_of(zone_id);
	for (zentry *e = w->buckets[b]; e != NULL; e = e->next)
		if (e->zone_id == zone_id)
			return e;
	if (!create)
		return NULL;
	zentry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	if (pthread_mutex_init(&e->zmu, NULL) != 0) {
		free(e);
		return NULL;
	}
	e->zone_id = zone_id;
	e->next = w->buckets[b];
	w->buckets[b] = e;
	return e;
}

/* Releases everything an entry holds into a small list freed after unlocking. */
typedef struct deadlist {
	wzone *v[3 + PLANS_PER_ZONE];
	size_t n;
} deadlist;

static void
dead_add(deadlist *dl, wzone *wz)
{
	wzone *dead = NULL;
	wz_unref_locked(wz, &dead);
	if (dead != NULL && dl->n < sizeof(dl->v) / sizeof(dl->v[0]))
		dl->v[dl->n++] = dead;
}

static void
dead_free(deadlist *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		wz_destroy(dl->v[i]);
	dl->n = 0;
}

static void
plans_drop_locked(zentry *e, deadlist *dl)
{
	for (size_t i = 0; i < PLANS_PER_ZONE; i++) {
		dead_add(dl, e->plans[i].result);
		memset(&e->plans[i], 0, sizeof(e->plans[i]));
	}
}

/* Makes zd (built from the version whose digest is 'at') the zone's digest tree unless it
 * has a usable one (a request reading an older version must not push the tree back);
 * takes zd in every case. */
static void
tree_keep(hub_workflow *w, int64_t zone_id, fedns_zdigest *zd, const char *at)
{
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, zone_id, true);
	pthread_mutex_unlock(&w->mu);
	if (e == NULL) {
		fedns_zdigest_free(zd);
		return;
	}
	pthread_mutex_lock(&e->zmu);
	if (e->zd == NULL || e->zd_at[0] == '\0') {
		fedns_zdigest_free(e->zd);
		e->zd = zd;
		zd = NULL;
		snprintf(e->zd_at, sizeof(e->zd_at), "%s", at);
	}
	pthread_mutex_unlock(&e->zmu);
	fedns_zdigest_free(zd);
}

static void
tree_root_hex(const fedns_zdigest *zd, char out[97])
{
	uint8_t root[FEDNS_ZDIGEST_LEN];
	fedns_zdigest_root(zd, root);
	fedns_hex_encode(root, sizeof(root), out, 0);
}

/* The digest of nz = cur's zone + diff, in O(change): the zone's tree is brought to cur
 * (following the commit that made cur when it is one step behind, else rebuilt from cur's
 * zone, O(zone)), moved to nz for the root, and moved back: nz is only a candidate until
 * its transaction commits, and the next commit catches up over it (cur->fwd). */
static fedns_err
tree_next(hub_workflow *w, int64_t zone_id, const wzone *cur, const fedns_zone *nz,
	  const fedns_diff *diff, char out[97], fedns_diag *d)
{
	char at[97];
	fedns_err err = FEDNS_OK;

	out[0] = '\0';
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, zone_id, true);
	pthread_mutex_unlock(&w->mu);
	if (e == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	pthread_mutex_lock(&e->zmu);
	if (e->zd != NULL && cur->digest[0] != '\0' && strcmp(e->zd_at, cur->digest) != 0 &&
	    cur->fwd != NULL && strcmp(e->zd_at, cur->base_digest) == 0) {
		e->zd_at[0] = '\0';
		if (fedns_zdigest_update(e->zd, cur->z, cur->fwd) == FEDNS_OK) {
			tree_root_hex(e->zd, at);
			/* a tree that does not land on cur's recorded digest is rebuilt below */
			if (strcmp(at, cur->digest) == 0)
				snprintf(e->zd_at, sizeof(e->zd_at), "%s", at);
		}
	}
	if (e->zd == NULL || cur->digest[0] == '\0' || strcmp(e->zd_at, cur->digest) != 0) {
		fedns_zdigest_free(e->zd);
		e->zd = NULL;
		e->zd_at[0] = '\0';
		if ((err = fedns_zdigest_new(cur->z, &e->zd)) != FEDNS_OK)
			goto out;
		snprintf(e->zd_at, sizeof(e->zd_at), "%s", cur->digest);
	}
	if ((err = fedns_zdigest_update(e->zd, nz, diff)) != FEDNS_OK)
		goto out; /* unchanged on failure */
	tree_root_hex(e->zd, out);
	if (fedns_zdigest_update(e->zd, cur->z, diff) != FEDNS_OK)
		e->zd_at[0] = '\0';
out:
	pthread_mutex_unlock(&e->zmu);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "cannot compute the digest of the new version: %s",
				      fedns_strerror(err));
	return FEDNS_OK;
}

static bool
wz_matches(const wzone *wz, const hub_zone *zone)
{
	if (wz == NULL || wz->serial != zone->serial)
		return false;
	/* the digest pins the content: a serial alone could belong to a rolled-back build */
	return zone->digest[0] == '\0' || strcmp(wz->digest, zone->digest) == 0;
}

typedef struct first_error {
	fedns_diag d;
	bool have;
} first_error;

static int
keep_first_error(void *ctx, const fedns_diag *rep)
{
	first_error *f = ctx;
	if (rep->code != FEDNS_OK && !f->have) {
		f->d = *rep;
		f->have = true;
	}
	return 0;
}

/* Parses master-file text into a finished zone. On failure d carries the first error
 * with its line (d->line), whether it is syntax or a zone rule. */
static fedns_err
parse_zone_text(const uint8_t *origin, const char *name, const char *text, size_t len,
		fedns_zone **out, fedns_diag *d)
{
	fedns_zone *z = NULL;
	fedns_err err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "%s: cannot create a zone: %s", name,
				      fedns_strerror(err));
	fedns_zonefile_opts zo = {.origin = origin};
	err = fedns_zonefile_parse(name, text, len, &zo, z, d);
	if (err != FEDNS_OK) {
		if (d != NULL && d->code == FEDNS_OK)
			fedns_diag_set(d, err, "%s: %s", name, fedns_strerror(err));
		fedns_zone_free(z);
		return err;
	}
	first_error fe = {0};
	err = fedns_zone_finish(z, keep_first_error, &fe);
	if (err != FEDNS_OK) {
		if (fe.have && d != NULL && d->code == FEDNS_OK && d->msg[0] == '\0') {
			*d = fe.d;
			d->code = err;
			if (d->file[0] == '\0')
				snprintf(d->file, sizeof(d->file), "%s", name);
		} else {
			fedns_diag_set(d, err, "%s: the zone breaks a rule", name);
		}
		fedns_zone_free(z);
		return err;
	}
	*out = z;
	return FEDNS_OK;
}

/* The zone's current content with a reference the caller releases: from the cache when
 * it matches the store's head (serial and digest), else rebuilt from the store. */
static fedns_err
get_current(hub_workflow *w, hub_store *s, const hub_zone *zone, wzone **out, fedns_diag *d)
{
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, zone->id, false);
	if (e != NULL) {
		/* a request that read the zone just before a commit asks for the previous
		 * version, which the cache still holds */
		wzone *hit = wz_matches(e->cur, zone)	    ? e->cur
			     : wz_matches(e->pending, zone) ? e->pending
			     : wz_matches(e->prev, zone)    ? e->prev
							    : NULL;
		if (hit != NULL) {
			hit->refs++;
			pthread_mutex_unlock(&w->mu);
			*out = hit;
			return FEDNS_OK;
		}
	}
	pthread_mutex_unlock(&w->mu);

	char *text = NULL;
	fedns_err err = hub_version_text(s, zone->id, zone->serial, &text);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "zone %s: cannot read version %u from the store: %s",
				      zone->name, (unsigned)zone->serial, fedns_strerror(err));
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag pd = {0};
	err = fedns_name_from_text(zone->name, strlen(zone->name), (const uint8_t *)"", origin,
				   &olen, &pd);
	fedns_zone *z = NULL;
	if (err == FEDNS_OK)
		err = parse_zone_text(origin, zone->name, text, strlen(text), &z, &pd);
	free(text);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, FEDNS_EIO,
				      "zone %s version %u in the store is unusable: %s", zone->name,
				      (unsigned)zone->serial, pd.msg);
	char dig[97];
	fedns_zdigest *zd = NULL;
	if ((err = tree_build(z, &zd, dig)) != FEDNS_OK) {
		fedns_zone_free(z);
		return fedns_diag_set(d, err, "zone %s version %u: cannot compute its digest: %s",
				      zone->name, (unsigned)zone->serial, fedns_strerror(err));
	}
	if (legacy_zonemd(zone->digest)) {
		/* committed before the tree digest: checked against its ZONEMD, and known by
		 * that digest (what the store and every cached plan pin it by) */
		uint8_t md[FEDNS_ZONEMD_MAXLEN];
		size_t n = 0;
		dig[0] = '\0';
		if (fedns_zone_zonemd(z, FEDNS_ZONEMD_SHA384, md, &n) == FEDNS_OK && n == 48)
			fedns_hex_encode(md, n, dig, 0);
	}
	if (zone->digest[0] != '\0' && strcmp(dig, zone->digest) != 0) {
		fedns_zdigest_free(zd);
		fedns_zone_free(z);
		return fedns_diag_set(d, FEDNS_EIO,
				      "zone %s version %u in the store does not match its recorded "
				      "digest",
				      zone->name, (unsigned)zone->serial);
	}
	wzone *wz = wz_new(z, zone->serial, dig);
	if (wz == NULL) {
		fedns_zdigest_free(zd);
		fedns_zone_free(z);
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	}
	tree_keep(w, zone->id, zd, dig);
	deadlist dl = {0};
	pthread_mutex_lock(&w->mu);
	e = entry_locked(w, zone->id, true);
	/* an older version than the cached one (a request that read the store before a
	 * commit) is not cached: making it current would push the newer one out and make
	 * every request after the commit rebuild again */
	if (e != NULL && (e->cur == NULL || fedns_serial_gt(wz->serial, e->cur->serial))) {
		dead_add(&dl, e->prev);
		e->prev = e->cur;
		e->cur = wz;
		wz->refs++;
	}
	pthread_mutex_unlock(&w->mu);
	dead_free(&dl);
	/* without an entry (no memory), or an old version, the caller still gets its zone,
	 * just uncached */
	*out = wz;
	return FEDNS_OK;
}

/* ---- diff text ---- */

static fedns_err
print_line(fedns_buf *b, char sign, const fedns_rr *rr)
{
	fedns_buf_putc(b, sign);
	fedns_err err = fedns_rr_print(rr, b);
	return err != FEDNS_OK ? err : b->err;
}

/* Prints rr as the zone holding it prints it (fedns_zone_print): with the set's owner
 * spelling and TTL. The store rebuilds versions by matching these lines against the
 * canonical text, byte for byte. RRSIG sets are one per covered type, each with its own
 * TTL, so an RRSIG keeps its own. */
static fedns_err
print_zone_line(fedns_buf *b, char sign, const fedns_zone *z, const fedns_rr *rr)
{
	fedns_rr r = *rr;
	const fedns_rrset *set = fedns_zone_find(z, rr->owner, rr->type);
	if (set != NULL) {
		r.owner = set->owner;
		if (rr->type != FEDNS_T_RRSIG)
			r.ttl = set->ttl;
	}
	return print_line(b, sign, &r);
}

/* Parses "-RR"/"+RR" lines (fedns_rr_print form) into diff; SOA lines are skipped (a
 * committed diff carries them, the caller supplies its own). */
static fedns_err
parse_diff_text(const char *text, const uint8_t *origin, fedns_diff *diff, fedns_diag *d)
{
	tokvec t = {0};
	uint8_t *rd = malloc(FEDNS_RDATA_MAXLEN);
	fedns_err err = rd == NULL ? FEDNS_ENOMEM : FEDNS_OK;
	unsigned lineno = 0;
	const char *p = text;
	while (err == FEDNS_OK && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *line = p;
		p = nl != NULL ? nl + 1 : p + len;
		lineno++;
		if (len == 0)
			continue;
		char sign = line[0];
		if (sign != '-' && sign != '+') {
			err = fedns_diag_set(d, FEDNS_EMALFORMED, "diff line %u: no +/- sign",
					     lineno);
			break;
		}
		fedns_diag td = {0};
		if ((err = tokenize(line + 1, len - 1, &t, &td)) != FEDNS_OK || t.n < 4) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED, "diff line %u: %s", lineno,
					     td.msg[0] ? td.msg : "too few fields");
			break;
		}
		uint8_t owner[FEDNS_NAME_MAXLEN];
		size_t olen, rdlen;
		uint32_t ttl;
		uint16_t rclass, type;
		if (fedns_name_from_text(t.v[0].s, t.v[0].len, origin, owner, &olen, &td) !=
			    FEDNS_OK ||
		    fedns_ttl_from_text(t.v[1].s, t.v[1].len, &ttl, &td) != FEDNS_OK ||
		    fedns_class_from_text(t.v[2].s, t.v[2].len, &rclass) != FEDNS_OK ||
		    fedns_rrtype_from_text(t.v[3].s, t.v[3].len, &type) != FEDNS_OK ||
		    fedns_rdata_from_text(type, t.v + 4, t.n - 4, origin, rd, FEDNS_RDATA_MAXLEN,
					  &rdlen, &td) != FEDNS_OK) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED, "diff line %u: %s", lineno,
					     td.msg[0] ? td.msg : "bad owner, TTL, class or type");
			break;
		}
		if (type == FEDNS_T_SOA)
			continue;
		fedns_rr rr = {.owner = owner,
			       .type = type,
			       .rclass = rclass,
			       .ttl = ttl,
			       .rdlen = (uint16_t)rdlen,
			       .rdata = rd};
		err = sign == '-' ? fedns_diff_del(diff, &rr) : fedns_diff_add(diff, &rr);
		if (err != FEDNS_OK)
			fedns_diag_set(d, err, "diff line %u: %s", lineno, fedns_strerror(err));
	}
	if (err == FEDNS_ENOMEM)
		fedns_diag_set(d, err, "out of memory");
	free(rd);
	free(t.v);
	return err;
}

/* The zone's SOA and a copy of it carrying 'serial'. */
typedef struct soa_pair {
	fedns_rr old;
	fedns_rr nu;
	uint8_t rd[FEDNS_NAME_MAXLEN * 2 + 20];
} soa_pair;

static fedns_err
soa_pair_init(const fedns_zone *z, uint32_t serial, soa_pair *sp)
{
	const uint8_t *origin = fedns_zone_origin(z);
	const fedns_rrset *set = fedns_zone_find(z, origin, FEDNS_T_SOA);
	if (set == NULL || set->count != 1)
		return FEDNS_EINVAL;
	const uint8_t *pos = set->rdata;
	uint16_t len;
	const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
	if (len > sizeof(sp->rd))
		return FEDNS_EINVAL;
	sp->old = (fedns_rr){.owner = set->owner,
			     .type = FEDNS_T_SOA,
			     .rclass = set->rclass,
			     .ttl = set->ttl,
			     .rdlen = len,
			     .rdata = rd};
	memcpy(sp->rd, rd, len);
	fedns_soa_set_serial(sp->rd, len, serial);
	sp->nu = sp->old;
	sp->nu.rdata = sp->rd;
	return FEDNS_OK;
}

/* ---- proposals ---- */

void
hub_plan_fini(hub_plan *p)
{
	if (p == NULL)
		return;
	hub_change_fini(&p->change);
}

static void plan_warn(hub_plan *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
plan_warn(hub_plan *plan, const char *fmt, ...)
{
	if (plan->nwarnings >= sizeof(plan->warnings) / sizeof(plan->warnings[0]))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(plan->warnings[plan->nwarnings++], sizeof(plan->warnings[0]), fmt, ap);
	va_end(ap);
}

/* Maps a zone-rule message to the edit that touched the name it mentions (the last such
 * edit: the one most likely to have introduced the conflict). */
typedef struct edit_names {
	char (*text)[FEDNS_NAME_MAXTEXT + 1];
	size_t n;
} edit_names;

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '\\' || c == '*';
}

/* Whether msg names 'name' (absolute, with its trailing dot) as a whole name, with or
 * without the trailing dot and in any case: zone messages print names their own way. */
static bool
msg_mentions(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	if (nl > 1 && name[nl - 1] == '.')
		nl--;
	if (nl == 0)
		return false;
	for (const char *p = msg; *p != '\0'; p++) {
		if (strncasecmp(p, name, nl) != 0)
			continue;
		if (p > msg && name_char(p[-1]))
			continue;
		char after = p[nl];
		if (after == '\0' || !name_char(after) || (after == '.' && !name_char(p[nl + 1])))
			return true;
	}
	return false;
}

static fedns_err
store_err(fedns_diag *d, fedns_err err, const char *what)
{
	return fedns_diag_set(d, err, "store: %s: %s", what, fedns_strerror(err));
}

/* Stores out->change (filled but for id and time). On failure the plan is emptied and,
 * when the idempotency key was used before, out->change.id says which change it made. */
static fedns_err
record_change(hub_store *s, const char *idem, hub_plan *out, fedns_diag *d)
{
	hub_change *c = &out->change;
	c->created_at = now_s();
	fedns_err err = hub_change_create(s, c, idem);
	if (err == FEDNS_OK)
		return FEDNS_OK;
	int64_t existing = c->id;
	if (err == FEDNS_EEXIST && idem != NULL)
		fedns_diag_set(d, err, "idempotency key already used for change %lld",
			       (long long)existing);
	else
		store_err(d, err, "recording the change");
	hub_plan_fini(out);
	memset(out, 0, sizeof(*out));
	/* a retry learns which change its key made */
	out->change.id = err == FEDNS_EEXIST ? existing : 0;
	return err;
}

/* Stores a planned change (out->change filled but for id and time) and keeps its result
 * *nz (taken) for the approval that commits it. */
static fedns_err
store_planned(hub_workflow *w, hub_store *s, const hub_zone *zone, const char *base_digest,
	      const char *idem, hub_plan *out, fedns_zone **nz, fedns_diag *d)
{
	const hub_change *c = &out->change;
	fedns_err err = record_change(s, idem, out, d);
	if (err != FEDNS_OK)
		return err;

	/* keep the result for the approval that commits it (not for huge zones: memory) */
	wzone *wz = fedns_zone_memory(*nz) <= PLAN_CACHE_MAX_BYTES
			    ? wz_new(*nz, out->next_serial, NULL)
			    : NULL;
	if (wz != NULL) {
		*nz = NULL;
		deadlist dl = {0};
		pthread_mutex_lock(&w->mu);
		zentry *e = entry_locked(w, zone->id, true);
		if (e != NULL) {
			planned *pl = &e->plans[e->plan_next++ % PLANS_PER_ZONE];
			dead_add(&dl, pl->result);
			pl->change_id = c->id;
			pl->base_serial = zone->serial;
			snprintf(pl->base_digest, sizeof(pl->base_digest), "%s", base_digest);
			fedns_hash_once(FEDNS_HASH_SHA256, c->diff, strlen(c->diff), pl->diff_sha);
			pl->result = wz;
		} else {
			dead_add(&dl, wz);
		}
		pthread_mutex_unlock(&w->mu);
		dead_free(&dl);
	}
	return FEDNS_OK;
}

/* Shared tail of every proposal: 'diff' holds the current SOA, the new SOA, then the
 * record changes. Validates the result, applies the flag rules, stores the change and
 * fills the plan. 'names' (may be NULL) maps rule errors to an edit. */
static fedns_err
finish_proposal(hub_workflow *w, hub_store *s, const hub_zone *zone, wzone *cur,
		const hub_principal *author, const hub_proposal *p, fedns_diff *diff,
		const char *field, const edit_names *names, const char *idem, hub_plan *out,
		hub_prepared **prep_out, fedns_diag *d, hub_where *where)
{
	const uint8_t *origin = fedns_zone_origin(cur->z);
	fedns_zone *nz = NULL;
	fedns_buf text;
	fedns_err err;
	uint32_t next_serial = fedns_soa_serial(diff->add[0].rdata, diff->add[0].rdlen);

	fedns_buf_init(&text, FEDNS_BUF_DEFAULT_MAX);
	if (diff->ndel <= 1 && diff->nadd <= 1)
		return fail(d, where, FEDNS_EINVAL, field, 0,
			    "%s: nothing to change: the proposal leaves zone %s as it is", field,
			    zone->name);

	fedns_diag ad = {0};
	err = apply_diff(cur->z, diff, &nz, &ad);
	if (err != FEDNS_OK) {
		char f[64];
		snprintf(f, sizeof(f), "%s", field);
		if (names != NULL) {
			for (size_t i = names->n; i-- > 0;) {
				if (msg_mentions(ad.msg, names->text[i])) {
					snprintf(f, sizeof(f), "edits[%zu]", i);
					break;
				}
			}
		}
		if (err != FEDNS_ENOMEM)
			err = FEDNS_EZONE;
		return fail(d, where, err, f, 0, "%s: %s", f,
			    ad.msg[0] ? ad.msg : fedns_strerror(err));
	}

	memset(out, 0, sizeof(*out));
	/* apex NS: moving the delegation can take the zone off the air */
	bool apex_ns = false;
	for (size_t i = 1; i < diff->ndel + diff->nadd && !apex_ns; i++) {
		const fedns_rr *rr = i < diff->ndel ? &diff->del[i] : &diff->add[i - diff->ndel];
		if (i == diff->ndel)
			continue; /* the new SOA */
		apex_ns = rr->type == FEDNS_T_NS && fedns_name_equal(rr->owner, origin);
	}
	if (apex_ns) {
		if (!p->allow_apex_ns) {
			err = fail(d, where, FEDNS_EACCES, "allow_apex_ns", 0,
				   "the change modifies the apex NS RRset of %s (the zone's "
				   "delegation); set allow_apex_ns to confirm",
				   zone->name);
			goto out;
		}
		plan_warn(out, "changes the apex NS RRset of %s", zone->name);
	}
	/* net deletions: records removed and not put back (a TTL change is no deletion) */
	size_t netdel = 0;
	for (size_t i = 1; i < diff->ndel; i++)
		if (!fedns_zone_contains(nz, &diff->del[i]))
			netdel++;
	size_t total = fedns_zone_rr_count(cur->z);
	total = total > 0 ? total - 1 : 0; /* the SOA is never deleted */
	double frac = w->o.warn_delete_fraction;
	if (total > 0 && (double)netdel > frac * (double)total) {
		if (!p->allow_mass_delete) {
			err = fail(d, where, FEDNS_EACCES, "allow_mass_delete", 0,
				   "the change deletes %zu of the %zu records of %s (more than "
				   "%.0f%%); set allow_mass_delete to confirm",
				   netdel, total, zone->name, frac * 100.0);
			goto out;
		}
		plan_warn(out, "deletes %zu of the %zu records of %s", netdel, total, zone->name);
	}

	for (size_t i = 1; i < diff->ndel; i++)
		print_zone_line(&text, '-', cur->z, &diff->del[i]);
	for (size_t i = 1; i < diff->nadd; i++)
		print_zone_line(&text, '+', nz, &diff->add[i]);
	if (text.err != FEDNS_OK) {
		err = fail(d, where, text.err, field, 0, "%s: cannot print the diff: %s", field,
			   fedns_strerror(text.err));
		goto out;
	}

	hub_change *c = &out->change;
	c->zone_id = zone->id;
	c->state = HUB_CHANGE_PROPOSED;
	c->author_id = author->id;
	snprintf(c->reason, sizeof(c->reason), "%s", p->reason);
	snprintf(c->ticket, sizeof(c->ticket), "%s", p->ticket != NULL ? p->ticket : "");
	c->base_serial = zone->serial;
	size_t tlen;
	c->diff = (char *)fedns_buf_steal(&text, &tlen);
	if (c->diff == NULL) {
		c->diff = strdup("");
		if (c->diff == NULL) {
			err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
			goto out;
		}
	}
	out->next_serial = next_serial;
	out->ndel = diff->ndel - 1;
	out->nadd = diff->nadd - 1;
	if (prep_out != NULL) {
		hub_prepared *pp = calloc(1, sizeof(*pp));
		if (pp == NULL) {
			hub_plan_fini(out);
			memset(out, 0, sizeof(*out));
			err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
			goto out;
		}
		pp->kind = PREP_PROPOSE;
		pp->zone_id = zone->id;
		pp->base_serial = zone->serial;
		snprintf(pp->base_digest, sizeof(pp->base_digest), "%s", cur->digest);
		pp->plan = *out;
		memset(out, 0, sizeof(*out));
		pp->nz = nz;
		nz = NULL;
		*prep_out = pp;
		err = FEDNS_OK;
		goto out;
	}
	if ((err = store_planned(w, s, zone, cur->digest, idem, out, &nz, d)) != FEDNS_OK)
		goto out;
	err = FEDNS_OK;
out:
	fedns_zone_free(nz);
	fedns_buf_fini(&text);
	return err;
}

/* ---- proposals from edits ---- */

typedef struct rdv {
	const uint8_t *rd;
	uint16_t len;
} rdv;

/* One RRset the edits touch: what the zone has and what it will have. */
typedef struct wset {
	const uint8_t *owner;
	uint64_t hash;
	uint16_t type;
	bool existed;
	uint32_t ttl0, ttl;
	rdv *orig;
	size_t norig;
	rdv *cur;
	size_t ncur, capcur;
} wset;

typedef struct edit_ctx {
	fedns_arena arena;
	wset *sets;
	size_t nsets, capsets;
	fedns_rr *dels, *adds;
	size_t ndels, nadds, capdels, capadds;
} edit_ctx;

static void
edit_ctx_fini(edit_ctx *x)
{
	for (size_t i = 0; i < x->nsets; i++) {
		free(x->sets[i].orig);
		free(x->sets[i].cur);
	}
	free(x->sets);
	free(x->dels);
	free(x->adds);
	fedns_arena_fini(&x->arena);
}

static fedns_err
grow(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return FEDNS_OK;
	size_t nc = *cap ? *cap * 2 : 8;
	void *p = realloc(*v, nc * elem);
	if (p == NULL)
		return FEDNS_ENOMEM;
	*v = p;
	*cap = nc;
	return FEDNS_OK;
}

static wset *
find_set(edit_ctx *x, const fedns_zone *z, const uint8_t *owner, uint16_t type,
	 uint32_t default_ttl)
{
	uint64_t h = fedns_name_hash(owner);
	for (size_t i = 0; i < x->nsets; i++) {
		wset *ws = &x->sets[i];
		if (ws->hash == h && ws->type == type && fedns_name_equal(ws->owner, owner))
			return ws;
	}
	if (grow((void **)&x->sets, &x->capsets, x->nsets, sizeof(wset)) != FEDNS_OK)
		return NULL;
	wset *ws = &x->sets[x->nsets];
	memset(ws, 0, sizeof(*ws));
	ws->owner = fedns_arena_memdup(&x->arena, owner, fedns_name_len(owner));
	if (ws->owner == NULL)
		return NULL;
	ws->hash = h;
	ws->type = type;
	ws->ttl0 = ws->ttl = default_ttl;
	const fedns_rrset *set = fedns_zone_find(z, owner, type);
	if (set != NULL && set->count > 0) {
		ws->existed = true;
		ws->ttl0 = ws->ttl = set->ttl;
		ws->orig = malloc(set->count * sizeof(rdv));
		ws->cur = malloc(set->count * sizeof(rdv));
		if (ws->orig == NULL || ws->cur == NULL) {
			free(ws->orig);
			free(ws->cur);
			return NULL;
		}
		const uint8_t *pos = set->rdata;
		for (uint32_t i = 0; i < set->count; i++) {
			uint16_t len;
			const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
			ws->orig[i] = ws->cur[i] = (rdv){rd, len};
		}
		ws->norig = ws->ncur = ws->capcur = set->count;
	}
	x->nsets++;
	return ws;
}

static ssize_t
rdv_find(const rdv *v, size_t n, uint16_t type, const uint8_t *rd, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (fedns_rdata_cmp(type, v[i].rd, v[i].len, rd, len) == 0)
			return (ssize_t)i;
	return -1;
}

static fedns_err
push_rr(fedns_rr **v, size_t *n, size_t *cap, const wset *ws, uint32_t ttl, const rdv *r)
{
	if (grow((void **)v, cap, *n, sizeof(fedns_rr)) != FEDNS_OK)
		return FEDNS_ENOMEM;
	(*v)[(*n)++] = (fedns_rr){.owner = ws->owner,
				  .type = ws->type,
				  .rclass = FEDNS_C_IN,
				  .ttl = ttl,
				  .rdlen = r->len,
				  .rdata = r->rd};
	return FEDNS_OK;
}

static int
rr_order(const void *va, const void *vb)
{
	const fedns_rr *a = va, *b = vb;
	int c = fedns_name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return fedns_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static fedns_err
propose_edits(hub_workflow *w, hub_store *s, const hub_zone *zone, wzone *cur,
	      const hub_principal *author, const hub_proposal *p, const char *idem, hub_plan *out,
	      hub_prepared **prep_out, fedns_diag *d, hub_where *where)
{
	const fedns_zone *z = cur->z;
	const uint8_t *origin = fedns_zone_origin(z);
	char otext[FEDNS_NAME_MAXTEXT + 1];
	edit_ctx x = {0};
	tokvec t = {0};
	fedns_diff diff;
	soa_pair sp;
	edit_names names = {0};
	uint8_t *rdbuf = malloc(FEDNS_RDATA_MAXLEN);
	rdv *erd = NULL;
	size_t caperd = 0;
	fedns_err err;
	char f[64];
	char msg[FEDNS_DIAG_MSG_MAX];

	fedns_arena_init(&x.arena, 64 * 1024, 0);
	fedns_diff_init(&diff);
	if (fedns_name_to_text(origin, otext, sizeof(otext)) == 0)
		snprintf(otext, sizeof(otext), "%s", zone->name);
	names.text = calloc(p->nedits ? p->nedits : 1, sizeof(*names.text));
	if (rdbuf == NULL || names.text == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = soa_pair_init(z, fedns_serial_next(zone->serial, 0), &sp)) != FEDNS_OK) {
		err = fedns_diag_set(d, FEDNS_EIO, "zone %s has no usable SOA", zone->name);
		goto out;
	}
	uint32_t default_ttl = fedns_soa_minimum(sp.old.rdata, sp.old.rdlen);

	for (size_t i = 0; i < p->nedits; i++) {
		const hub_edit *e = &p->edits[i];
		uint8_t owner[FEDNS_NAME_MAXLEN];
		size_t olen;
		uint16_t type;
		fedns_diag ed = {0};

		if (e->op != HUB_EDIT_ADD && e->op != HUB_EDIT_DELETE &&
		    e->op != HUB_EDIT_REPLACE) {
			snprintf(f, sizeof(f), "edits[%zu].op", i);
			err = fail(d, where, FEDNS_ESYNTAX, f, 0,
				   "%s: op must be add, delete or replace", f);
			goto out;
		}
		snprintf(f, sizeof(f), "edits[%zu].name", i);
		if (e->name == NULL || e->name[0] == '\0') {
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: a name is required", f);
			goto out;
		}
		if (fedns_name_from_text(e->name, strlen(e->name), origin, owner, &olen, &ed) !=
		    FEDNS_OK) {
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: %s", f, ed.msg);
			goto out;
		}
		if (fedns_name_to_text(owner, names.text[i], sizeof(names.text[i])) == 0)
			names.text[i][0] = '\0';
		names.n = i + 1;
		if (!fedns_name_is_subdomain(owner, origin)) {
			err = fail(d, where, FEDNS_EZONE, f, 0, "%s: %s is outside the zone %s", f,
				   names.text[i], otext);
			goto out;
		}
		snprintf(f, sizeof(f), "edits[%zu].type", i);
		if (e->type == NULL || e->type[0] == '\0') {
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: a type is required", f);
			goto out;
		}
		if (fedns_rrtype_from_text(e->type, strlen(e->type), &type) != FEDNS_OK) {
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: unknown type \"%.40s\"", f,
				   e->type);
			goto out;
		}
		if (type == FEDNS_T_SOA) {
			err = fail(d, where, FEDNS_EZONE, f, 0,
				   "%s: the SOA is maintained by the hub (it assigns the serial at "
				   "commit) and cannot be edited",
				   f);
			goto out;
		}
		if (fedns_rrtype_is_meta(type)) {
			err = fail(d, where, FEDNS_EZONE, f, 0,
				   "%s: %.40s is a meta type and cannot be in a zone", f, e->type);
			goto out;
		}
		if (type == FEDNS_T_RRSIG) {
			err = fail(d, where, FEDNS_EZONE, f, 0,
				   "%s: RRSIG records come from signing and are not edited", f);
			goto out;
		}
		if (type == FEDNS_T_ZONEMD && fedns_name_equal(owner, origin)) {
			err = fail(d, where, FEDNS_EZONE, f, 0, "%s: %s", f, zonemd_owned);
			goto out;
		}
		if (e->has_ttl && e->ttl > 0x7fffffffU) {
			snprintf(f, sizeof(f), "edits[%zu].ttl", i);
			err = fail(d, where, FEDNS_ESYNTAX, f, 0,
				   "%s: TTL %u is above 2147483647 (RFC 2181 section 8)", f,
				   (unsigned)e->ttl);
			goto out;
		}
		if (e->op != HUB_EDIT_DELETE && e->nrdata == 0) {
			snprintf(f, sizeof(f), "edits[%zu].rdata", i);
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: %s needs at least one rdata",
				   f, e->op == HUB_EDIT_ADD ? "add" : "replace");
			goto out;
		}
		if (e->nrdata > 0 && e->rdata == NULL) {
			snprintf(f, sizeof(f), "edits[%zu].rdata", i);
			err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: missing", f);
			goto out;
		}

		/* parse this edit's rdata */
		if (e->nrdata > caperd) {
			rdv *nv = realloc(erd, e->nrdata * sizeof(rdv));
			if (nv == NULL) {
				err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
				goto out;
			}
			erd = nv;
			caperd = e->nrdata;
		}
		for (size_t j = 0; j < e->nrdata; j++) {
			const char *rs = e->rdata[j];
			size_t rdlen = 0;
			snprintf(f, sizeof(f), "edits[%zu].rdata[%zu]", i, j);
			fedns_diag_clear(&ed);
			if (rs == NULL) {
				err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: missing", f);
				goto out;
			}
			if ((err = tokenize(rs, strlen(rs), &t, &ed)) != FEDNS_OK) {
				err = fail(d, where, err == FEDNS_ENOMEM ? err : FEDNS_ESYNTAX, f,
					   0, "%s: %s", f, ed.msg);
				goto out;
			}
			if (t.n == 0) {
				err = fail(d, where, FEDNS_ESYNTAX, f, 0, "%s: empty rdata", f);
				goto out;
			}
			err = fedns_rdata_from_text(type, t.v, t.n, origin, rdbuf,
						    FEDNS_RDATA_MAXLEN, &rdlen, &ed);
			if (err != FEDNS_OK) {
				err = fail(d, where, err == FEDNS_ENOMEM ? err : FEDNS_ESYNTAX, f,
					   0, "%s: %s", f,
					   ed.msg[0] ? ed.msg : fedns_strerror(err));
				goto out;
			}
			ssize_t k = rdv_find(erd, j, type, rdbuf, rdlen);
			if (k >= 0) {
				err = fail(d, where, FEDNS_ESYNTAX, f, 0,
					   "%s: the same record as rdata[%zd]", f, k);
				goto out;
			}
			uint8_t *copy = fedns_arena_memdup(&x.arena, rdbuf, rdlen ? rdlen : 1);
			if (copy == NULL) {
				err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
				goto out;
			}
			erd[j] = (rdv){copy, (uint16_t)rdlen};
		}

		wset *ws = find_set(&x, z, owner, type, default_ttl);
		if (ws == NULL) {
			err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(f, sizeof(f), "edits[%zu]", i);
		if (e->op == HUB_EDIT_DELETE) {
			if (e->nrdata == 0) {
				if (ws->ncur == 0) {
					err = fail(d, where, FEDNS_EZONE, f, 0,
						   "%s: %s is not in the zone", f,
						   rr_brief(owner, type, NULL, 0, false, msg,
							    sizeof(msg)));
					goto out;
				}
				ws->ncur = 0;
				continue;
			}
			for (size_t j = 0; j < e->nrdata; j++) {
				ssize_t k =
					rdv_find(ws->cur, ws->ncur, type, erd[j].rd, erd[j].len);
				if (k < 0) {
					err = fail(d, where, FEDNS_EZONE, f, 0,
						   "%s: %s is not in the zone", f,
						   rr_brief(owner, type, erd[j].rd, erd[j].len,
							    true, msg, sizeof(msg)));
					goto out;
				}
				ws->cur[k] = ws->cur[--ws->ncur];
			}
			continue;
		}
		/* without a TTL: the set's (even if an earlier edit emptied it), else the
		 * zone's default */
		uint32_t ttl = e->has_ttl ? e->ttl : ws->ttl;
		if (e->op == HUB_EDIT_REPLACE)
			ws->ncur = 0;
		for (size_t j = 0; j < e->nrdata; j++) {
			if (rdv_find(ws->cur, ws->ncur, type, erd[j].rd, erd[j].len) >= 0) {
				err = fail(d, where, FEDNS_EZONE, f, 0,
					   "%s: %s is already in the zone", f,
					   rr_brief(owner, type, erd[j].rd, erd[j].len, true, msg,
						    sizeof(msg)));
				goto out;
			}
			if (grow((void **)&ws->cur, &ws->capcur, ws->ncur, sizeof(rdv)) !=
			    FEDNS_OK) {
				err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
				goto out;
			}
			ws->cur[ws->ncur++] = erd[j];
		}
		/* an RRset has one TTL: the one given applies to the whole set */
		ws->ttl = ttl;
	}

	/* what each touched set loses and gains; a TTL change re-adds the whole set */
	for (size_t i = 0; i < x.nsets; i++) {
		wset *ws = &x.sets[i];
		bool ttl_changed = ws->norig > 0 && ws->ncur > 0 && ws->ttl != ws->ttl0;
		for (size_t j = 0; j < ws->norig; j++) {
			if (ttl_changed || rdv_find(ws->cur, ws->ncur, ws->type, ws->orig[j].rd,
						    ws->orig[j].len) < 0) {
				if (push_rr(&x.dels, &x.ndels, &x.capdels, ws, ws->ttl0,
					    &ws->orig[j]) != FEDNS_OK)
					goto oom;
			}
		}
		for (size_t j = 0; j < ws->ncur; j++) {
			if (ttl_changed || rdv_find(ws->orig, ws->norig, ws->type, ws->cur[j].rd,
						    ws->cur[j].len) < 0) {
				if (push_rr(&x.adds, &x.nadds, &x.capadds, ws, ws->ttl,
					    &ws->cur[j]) != FEDNS_OK)
					goto oom;
			}
		}
	}
	if (x.ndels > 1)
		qsort(x.dels, x.ndels, sizeof(fedns_rr), rr_order);
	if (x.nadds > 1)
		qsort(x.adds, x.nadds, sizeof(fedns_rr), rr_order);
	if (fedns_diff_del(&diff, &sp.old) != FEDNS_OK || fedns_diff_add(&diff, &sp.nu) != FEDNS_OK)
		goto oom;
	for (size_t i = 0; i < x.ndels; i++)
		if (fedns_diff_del(&diff, &x.dels[i]) != FEDNS_OK)
			goto oom;
	for (size_t i = 0; i < x.nadds; i++)
		if (fedns_diff_add(&diff, &x.adds[i]) != FEDNS_OK)
			goto oom;

	err = finish_proposal(w, s, zone, cur, author, p, &diff, "edits", &names, idem, out,
			      prep_out, d, where);
	goto out;
oom:
	err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
out:
	fedns_diff_fini(&diff);
	edit_ctx_fini(&x);
	free(t.v);
	free(erd);
	free(rdbuf);
	free(names.text);
	return err;
}

/* ---- proposals from a zone file ---- */

static fedns_err
propose_file(hub_workflow *w, hub_store *s, const hub_zone *zone, wzone *cur,
	     const hub_principal *author, const hub_proposal *p, const char *idem, hub_plan *out,
	     hub_prepared **prep_out, fedns_diag *d, hub_where *where)
{
	const fedns_zone *z = cur->z;
	const uint8_t *origin = fedns_zone_origin(z);
	fedns_zone *fz = NULL;
	fedns_diff dc, diff;
	soa_pair sp, fsp;
	fedns_err err;

	fedns_diff_init(&dc);
	fedns_diff_init(&diff);
	if (p->zone_file_len == 0)
		return fail(d, where, FEDNS_ESYNTAX, "zone_file", 0, "zone_file: empty");
	fedns_diag pd = {0};
	err = parse_zone_text(origin, "zone_file", p->zone_file, p->zone_file_len, &fz, &pd);
	if (err != FEDNS_OK) {
		if (err != FEDNS_ENOMEM && err != FEDNS_ETOOBIG && err != FEDNS_EZONE)
			err = FEDNS_ESYNTAX;
		where_set(where, "zone_file", pd.line);
		if (d != NULL && d->code == FEDNS_OK && d->msg[0] == '\0') {
			*d = pd;
			d->code = err;
		}
		return err;
	}
	if (fedns_zone_find(fz, origin, FEDNS_T_ZONEMD) != NULL) {
		err = fail(d, where, FEDNS_EZONE, "zone_file", 0, "zone_file: %s", zonemd_owned);
		goto out;
	}
	if ((err = soa_pair_init(z, fedns_serial_next(zone->serial, 0), &sp)) != FEDNS_OK ||
	    (err = soa_pair_init(fz, 0, &fsp)) != FEDNS_OK) {
		err = fail(d, where, FEDNS_EZONE, "zone_file", 0, "zone_file: no usable SOA");
		goto out;
	}
	/* The hub owns the SOA: only its serial may differ from the zone's (and is ignored). */
	uint8_t a[sizeof(sp.rd)];
	memcpy(a, sp.old.rdata, sp.old.rdlen);
	fedns_soa_set_serial(a, sp.old.rdlen, 0);
	if (fsp.old.ttl != sp.old.ttl ||
	    fedns_rdata_cmp(FEDNS_T_SOA, a, sp.old.rdlen, fsp.nu.rdata, fsp.nu.rdlen) != 0) {
		err = fail(d, where, FEDNS_EZONE, "zone_file", 0,
			   "zone_file: the SOA differs from the zone's; the hub maintains the SOA "
			   "(only its serial may differ, and the hub assigns it)");
		goto out;
	}
	if ((err = fedns_diff_compute(z, fz, &dc)) != FEDNS_OK) {
		err = fedns_diag_set(d, err, "zone_file: cannot compute the diff: %s",
				     fedns_strerror(err));
		goto out;
	}
	if (fedns_diff_del(&diff, &sp.old) != FEDNS_OK || fedns_diff_add(&diff, &sp.nu) != FEDNS_OK)
		goto oom;
	for (size_t i = 0; i < dc.ndel; i++)
		if (dc.del[i].type != FEDNS_T_SOA && fedns_diff_del(&diff, &dc.del[i]) != FEDNS_OK)
			goto oom;
	for (size_t i = 0; i < dc.nadd; i++)
		if (dc.add[i].type != FEDNS_T_SOA && fedns_diff_add(&diff, &dc.add[i]) != FEDNS_OK)
			goto oom;
	/* the file's zone is no longer needed: free it before the result is built */
	fedns_diff_fini(&dc);
	fedns_diff_init(&dc);
	fedns_zone_free(fz);
	fz = NULL;
	err = finish_proposal(w, s, zone, cur, author, p, &diff, "zone_file", NULL, idem, out,
			      prep_out, d, where);
	goto out;
oom:
	err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
out:
	fedns_diff_fini(&dc);
	fedns_diff_fini(&diff);
	fedns_zone_free(fz);
	return err;
}

/* A prepared result still holds when the zone is at the serial and digest it was built
 * from: the digest pins the content (a serial alone could belong to a rolled-back build). */
static bool
prep_matches(const hub_prepared *pp, enum prep_kind kind, const hub_zone *zone)
{
	return pp != NULL && pp->kind == kind && pp->nz != NULL && pp->zone_id == zone->id &&
	       pp->base_serial == zone->serial && zone->digest[0] != '\0' &&
	       strcmp(pp->base_digest, zone->digest) == 0;
}

/* Validates and then either stores (prep_in matching the zone: its plan; else computed
 * here) or, with prep_out, only prepares. */
static fedns_err
propose_common(hub_workflow *w, hub_store *s, const hub_zone *zone, const hub_principal *author,
	       const hub_proposal *p, const char *idempotency_key, hub_plan *out,
	       hub_prepared *prep_in, hub_prepared **prep_out, fedns_diag *d, hub_where *where)
{
	hub_where local_where;
	if (where == NULL)
		where = &local_where;
	memset(where, 0, sizeof(*where));
	fedns_diag_clear(d);
	if (w == NULL || s == NULL || zone == NULL || author == NULL || p == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "propose: missing argument");
	memset(out, 0, sizeof(*out));
	if (zone->deleted)
		return fail(d, where, FEDNS_EINVAL, "zone", 0, "zone %s is deleted", zone->name);
	if (p->reason == NULL || p->reason[0] == '\0')
		return fail(d, where, FEDNS_ESYNTAX, "reason", 0,
			    "reason: a change needs a reason");
	if (strlen(p->reason) >= sizeof(out->change.reason))
		return fail(d, where, FEDNS_ESYNTAX, "reason", 0, "reason: longer than %zu bytes",
			    sizeof(out->change.reason) - 1);
	if (p->ticket != NULL && strlen(p->ticket) >= sizeof(out->change.ticket))
		return fail(d, where, FEDNS_ESYNTAX, "ticket", 0, "ticket: longer than %zu bytes",
			    sizeof(out->change.ticket) - 1);
	bool has_file = p->zone_file != NULL;
	if (has_file == (p->nedits > 0))
		return fail(d, where, FEDNS_ESYNTAX, has_file ? "zone_file" : "edits", 0, "%s",
			    has_file ? "give either edits or a zone_file, not both"
				     : "edits: nothing to change (no edits and no zone_file)");
	if (p->nedits > 0 && p->edits == NULL)
		return fail(d, where, FEDNS_ESYNTAX, "edits", 0, "edits: missing");
	if (p->base_serial != zone->serial)
		return fail(d, where, FEDNS_ESTALE, "base_serial", 0,
			    "base_serial: the proposal is based on serial %u but zone %s is at %u; "
			    "fetch the zone and propose again",
			    (unsigned)p->base_serial, zone->name, (unsigned)zone->serial);

	if (prep_out == NULL && prep_matches(prep_in, PREP_PROPOSE, zone) &&
	    prep_in->plan.change.author_id == author->id) {
		/* the plan moves to the caller; the result to the plan cache */
		*out = prep_in->plan;
		memset(&prep_in->plan, 0, sizeof(prep_in->plan));
		return store_planned(w, s, zone, prep_in->base_digest, idempotency_key, out,
				     &prep_in->nz, d);
	}

	wzone *cur = NULL;
	fedns_err err = get_current(w, s, zone, &cur, d);
	if (err != FEDNS_OK)
		return err;
	if (has_file)
		err = propose_file(w, s, zone, cur, author, p, idempotency_key, out, prep_out, d,
				   where);
	else
		err = propose_edits(w, s, zone, cur, author, p, idempotency_key, out, prep_out, d,
				    where);
	wz_release(w, cur);
	return err;
}

fedns_err
hub_workflow_propose(hub_workflow *w, hub_store *s, const hub_zone *zone,
		     const hub_principal *author, const hub_proposal *p,
		     const char *idempotency_key, hub_plan *out, fedns_diag *d, hub_where *where)
{
	return propose_common(w, s, zone, author, p, idempotency_key, out, NULL, NULL, d, where);
}

fedns_err
hub_workflow_propose_prepared(hub_workflow *w, hub_store *s, const hub_zone *zone,
			      const hub_principal *author, const hub_proposal *p,
			      hub_prepared *prep, const char *idempotency_key, hub_plan *out,
			      fedns_diag *d, hub_where *where)
{
	return propose_common(w, s, zone, author, p, idempotency_key, out, prep, NULL, d, where);
}

fedns_err
hub_workflow_prepare_propose(hub_workflow *w, hub_store *s, const hub_zone *zone,
			     const hub_principal *author, const hub_proposal *p, hub_prepared **out,
			     fedns_diag *d, hub_where *where)
{
	hub_plan scratch;
	memset(&scratch, 0, sizeof(scratch));
	if (out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "prepare: missing argument");
	*out = NULL;
	fedns_err err = propose_common(w, s, zone, author, p, NULL, &scratch, NULL, out, d, where);
	hub_plan_fini(&scratch);
	return err;
}

/* ---- decisions and commits ---- */

/* The zone the change commits: the one its proposal built when still valid, else the
 * stored diff applied again. */
static fedns_err
build_result(hub_workflow *w, const hub_zone *z, wzone *cur, const hub_change *c, uint32_t serial,
	     const fedns_diff *diff, fedns_zone **out, fedns_diag *d)
{
	uint8_t sha[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, c->diff, strlen(c->diff), sha);
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, z->id, false);
	wzone *hit = NULL;
	if (e != NULL) {
		for (size_t i = 0; i < PLANS_PER_ZONE; i++) {
			planned *pl = &e->plans[i];
			if (pl->result != NULL && pl->change_id == c->id &&
			    pl->base_serial == z->serial &&
			    strcmp(pl->base_digest, cur->digest) == 0 &&
			    memcmp(pl->diff_sha, sha, sizeof(sha)) == 0 &&
			    pl->result->serial == serial) {
				/* take it out: the commit owns it now */
				hit = pl->result;
				memset(pl, 0, sizeof(*pl));
				break;
			}
		}
	}
	pthread_mutex_unlock(&w->mu);
	if (hit != NULL) {
		/* plan results are never lent out: taken from the cache, it is ours alone */
		*out = hit->z;
		hit->z = NULL;
		wz_destroy(hit);
		return FEDNS_OK;
	}

	fedns_diag pd = {0};
	fedns_err err = apply_diff(cur->z, diff, out, &pd);
	if (err != FEDNS_OK)
		err = fedns_diag_set(d, FEDNS_EZONE, "change %lld no longer applies: %s",
				     (long long)c->id, pd.msg);
	return err;
}

/* Everything O(zone) a commit needs, computed from the zone's current version: the new
 * version, its ZONEMD, the committed diff text (SOA lines first) and, when one is due, the
 * snapshot text. Reads the store (a version when the cache misses); writes nothing. */
static fedns_err
build_commit(hub_workflow *w, hub_store *s, const hub_zone *z, const hub_change *c, uint32_t serial,
	     fedns_zone **nz_out, char digest[97], fedns_diff **fwd_out, char **diff_out,
	     char **snap_out, fedns_diag *d)
{
	wzone *cur = NULL;
	fedns_zone *nz = NULL;
	fedns_diff *fwd = NULL;
	fedns_buf text, snap;
	fedns_err err;

	*nz_out = NULL;
	*fwd_out = NULL;
	*diff_out = NULL;
	*snap_out = NULL;
	fedns_buf_init(&text, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_init(&snap, FEDNS_BUF_DEFAULT_MAX);
	if ((err = get_current(w, s, z, &cur, d)) != FEDNS_OK)
		goto out;
	soa_pair sp;
	if (soa_pair_init(cur->z, serial, &sp) != FEDNS_OK) {
		err = fedns_diag_set(d, FEDNS_EIO, "zone %s has no usable SOA", z->name);
		goto out;
	}
	/* the change as records (SOA pair first): the new version when the proposal's is not
	 * reusable, and the RRsets the digest tree rehashes */
	fedns_diag pd = {0};
	if ((fwd = malloc(sizeof(*fwd))) == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	fedns_diff_init(fwd);
	if ((err = fedns_diff_del(fwd, &sp.old)) != FEDNS_OK ||
	    (err = fedns_diff_add(fwd, &sp.nu)) != FEDNS_OK) {
		err = fedns_diag_set(d, err, "out of memory");
		goto out;
	}
	if ((err = parse_diff_text(c->diff, fedns_zone_origin(cur->z), fwd, &pd)) != FEDNS_OK) {
		err = fedns_diag_set(d, FEDNS_EIO, "change %lld: stored diff is unusable: %s",
				     (long long)c->id, pd.msg);
		goto out;
	}
	if ((err = build_result(w, z, cur, c, serial, fwd, &nz, d)) != FEDNS_OK)
		goto out;
	(void)fedns_zone_share(nz);
	if ((err = tree_next(w, z->id, cur, nz, fwd, digest, d)) != FEDNS_OK)
		goto out;
	print_line(&text, '-', &sp.old);
	print_line(&text, '+', &sp.nu);
	fedns_buf_puts(&text, c->diff);
	if (text.err != FEDNS_OK) {
		err = fedns_diag_set(d, text.err, "cannot print the committed diff");
		goto out;
	}
	size_t every = w->o.snapshot_every;
	bool snapshot = every <= 1 || serial % every == 0;
	if (snapshot &&
	    ((err = fedns_zone_print_shared(nz, &snap)) != FEDNS_OK || snap.err != FEDNS_OK)) {
		err = fedns_diag_set(d, err ? err : snap.err, "cannot print the new version");
		goto out;
	}
	size_t len;
	if ((*diff_out = (char *)fedns_buf_steal(&text, &len)) == NULL ||
	    (snapshot && (*snap_out = (char *)fedns_buf_steal(&snap, &len)) == NULL)) {
		free(*diff_out);
		*diff_out = NULL;
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	*nz_out = nz;
	nz = NULL;
	*fwd_out = fwd;
	fwd = NULL;
	err = FEDNS_OK;
out:
	wz_release(w, cur);
	diff_free(fwd);
	fedns_zone_free(nz);
	fedns_buf_fini(&text);
	fedns_buf_fini(&snap);
	return err;
}

static fedns_err
commit_change(hub_workflow *w, hub_store *s, const hub_zone *z, hub_change *c, hub_prepared *prep,
	      fedns_diag *d)
{
	fedns_zone *nz = NULL;
	fedns_diff *fwd = NULL;
	char *ctext = NULL, *snap = NULL;
	fedns_err err;
	uint32_t serial = fedns_serial_next(z->serial, 0);
	char digest[97];
	uint8_t sha[FEDNS_SHA256_LEN];

	fedns_hash_once(FEDNS_HASH_SHA256, c->diff, strlen(c->diff), sha);
	if (prep_matches(prep, PREP_COMMIT, z) && prep->change_id == c->id &&
	    prep->serial == serial && memcmp(prep->diff_sha, sha, sizeof(sha)) == 0) {
		nz = prep->nz;
		prep->nz = NULL;
		fwd = prep->fwd;
		prep->fwd = NULL;
		ctext = prep->commit_diff;
		prep->commit_diff = NULL;
		snap = prep->snapshot;
		prep->snapshot = NULL;
		snprintf(digest, sizeof(digest), "%s", prep->digest);
	} else if ((err = build_commit(w, s, z, c, serial, &nz, digest, &fwd, &ctext, &snap, d)) !=
		   FEDNS_OK) {
		goto out;
	}
	free(c->diff);
	c->diff = ctext;
	ctext = NULL;
	c->serial = serial;
	snprintf(c->digest, sizeof(c->digest), "%s", digest);
	c->state = HUB_CHANGE_COMMITTED;
	c->decided_at = now_s();
	if ((err = hub_change_update(s, c)) != FEDNS_OK) {
		err = store_err(d, err, "updating the change");
		goto out;
	}
	/* the store moves the zone's serial and digest with the version */
	err = hub_version_add(s, z->id, serial, c->id, digest, snap);
	if (err != FEDNS_OK) {
		err = store_err(d, err, "adding the version");
		goto out;
	}
	if ((err = hub_change_mark_stale(s, z->id, serial)) != FEDNS_OK) {
		err = store_err(d, err, "marking stale proposals");
		goto out;
	}
	if (w->o.keep_versions > 0 &&
	    (err = hub_version_prune(s, z->id, w->o.keep_versions)) != FEDNS_OK) {
		err = store_err(d, err, "pruning versions");
		goto out;
	}

	/* pending until the caller's transaction is known committed (publish) */
	wzone *wz = wz_new(nz, serial, digest);
	if (wz == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	nz = NULL;
	wz->fwd = fwd;
	fwd = NULL;
	snprintf(wz->base_digest, sizeof(wz->base_digest), "%s", z->digest);
	deadlist dl = {0};
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, z->id, true);
	if (e != NULL) {
		dead_add(&dl, e->pending);
		e->pending = wz;
		plans_drop_locked(e, &dl); /* every other proposal is stale now */
	} else {
		dead_add(&dl, wz);
	}
	pthread_mutex_unlock(&w->mu);
	dead_free(&dl);
	err = FEDNS_OK;
out:
	fedns_zone_free(nz);
	diff_free(fwd);
	free(ctext);
	free(snap);
	return err;
}

/* A deletion commits without a version: the zone is marked deleted (its versions, changes
 * and audit records stay), every other open proposal on it becomes stale, and the cache
 * drops it. The change keeps the serial and digest the zone had when it went. */
static fedns_err
commit_delete(hub_workflow *w, hub_store *s, const hub_zone *z, hub_change *c, fedns_diag *d)
{
	fedns_err err;

	c->serial = z->serial;
	snprintf(c->digest, sizeof(c->digest), "%s", z->digest);
	c->state = HUB_CHANGE_COMMITTED;
	c->decided_at = now_s();
	if ((err = hub_change_update(s, c)) != FEDNS_OK)
		return store_err(d, err, "updating the change");
	if ((err = hub_zone_mark_deleted(s, z->id)) != FEDNS_OK)
		return store_err(d, err, "marking the zone deleted");
	/* open proposals are all based on the current serial; the next serial is one none
	 * of them can have (it was never committed) */
	if ((err = hub_change_mark_stale(s, z->id, fedns_serial_next(z->serial, 0))) != FEDNS_OK)
		return store_err(d, err, "marking open proposals stale");
	hub_workflow_forget(w, z->id);
	return FEDNS_OK;
}

struct del_lines {
	fedns_buf *b;
	const fedns_zone *z;
	size_t n;
};

static int
del_line(void *ctx, const fedns_rr *rr)
{
	struct del_lines *x = ctx;
	if (print_zone_line(x->b, '-', x->z, rr) != FEDNS_OK)
		return 1;
	x->n++;
	return fedns_buf_putc(x->b, '\n') != FEDNS_OK;
}

fedns_err
hub_workflow_propose_delete(hub_workflow *w, hub_store *s, const hub_zone *zone,
			    const hub_principal *author, const char *reason,
			    const char *idempotency_key, hub_plan *out, fedns_diag *d)
{
	wzone *cur = NULL;
	fedns_buf text;
	fedns_err err;

	fedns_diag_clear(d);
	if (w == NULL || s == NULL || zone == NULL || author == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "propose deletion: missing argument");
	memset(out, 0, sizeof(*out));
	if (zone->deleted)
		return fedns_diag_set(d, FEDNS_EINVAL, "zone %s is deleted", zone->name);
	if (reason == NULL || reason[0] == '\0')
		return fedns_diag_set(d, FEDNS_EINVAL, "reason: a change needs a reason");
	if (strlen(reason) >= sizeof(out->change.reason))
		return fedns_diag_set(d, FEDNS_EINVAL, "reason: longer than %zu bytes",
				      sizeof(out->change.reason) - 1);
	if ((err = get_current(w, s, zone, &cur, d)) != FEDNS_OK)
		return err;
	fedns_buf_init(&text, FEDNS_BUF_DEFAULT_MAX);
	struct del_lines x = {.b = &text, .z = cur->z, .n = 0};
	if (fedns_zone_walk(cur->z, del_line, &x) != 0) {
		err = fedns_diag_set(d, text.err != FEDNS_OK ? text.err : FEDNS_ENOMEM,
				     "zone %s: cannot print its records", zone->name);
		goto out;
	}
	fedns_buf_putc(&text, '\0');
	if (text.err != FEDNS_OK) {
		err = fedns_diag_set(d, text.err, "zone %s: cannot print its records", zone->name);
		goto out;
	}
	hub_change *c = &out->change;
	c->zone_id = zone->id;
	c->state = HUB_CHANGE_PROPOSED;
	c->author_id = author->id;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	c->base_serial = zone->serial;
	c->delete_zone = true;
	size_t tlen;
	c->diff = (char *)fedns_buf_steal(&text, &tlen);
	if (c->diff == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = record_change(s, idempotency_key, out, d)) != FEDNS_OK)
		goto out;
	out->next_serial = 0;
	out->ndel = x.n;
	out->nadd = 0;
	plan_warn(out, "zone %s will be deleted: its %zu records stop being served", zone->name,
		  x.n);
out:
	fedns_buf_fini(&text);
	wz_release(w, cur);
	return err;
}

fedns_err
hub_workflow_decide(hub_workflow *w, hub_store *s, int64_t change_id, const hub_principal *who,
		    bool approve, const char *comment, bool *committed, hub_change *out,
		    fedns_diag *d)
{
	return hub_workflow_decide_prepared(w, s, change_id, who, approve, comment, NULL, committed,
					    out, d);
}

void
hub_workflow_prepare_commit(hub_workflow *w, hub_store *s, int64_t change_id,
			    const hub_principal *who, hub_prepared **out)
{
	hub_change c;
	hub_zone z;
	hub_approval *list = NULL;
	size_t nlist = 0;
	hub_prepared *pp = NULL;

	if (out == NULL)
		return;
	*out = NULL;
	memset(&c, 0, sizeof(c));
	memset(&z, 0, sizeof(z));
	if (w == NULL || s == NULL || who == NULL || hub_change_get(s, change_id, &c) != FEDNS_OK)
		goto out;
	/* only when this approval would commit: the decision re-checks all of it */
	if (c.state != HUB_CHANGE_PROPOSED || c.author_id == who->id || c.diff == NULL ||
	    c.delete_zone || hub_approval_list(s, c.id, &list, &nlist) != FEDNS_OK)
		goto out;
	uint32_t approvals = 1;
	for (size_t i = 0; i < nlist; i++) {
		if (list[i].principal_id == who->id)
			goto out;
		approvals += list[i].approve;
	}
	if (hub_zone_get_id(s, c.zone_id, &z) != FEDNS_OK || z.deleted ||
	    approvals < (z.approvals_required > 0 ? z.approvals_required : 1) ||
	    c.base_serial != z.serial || z.digest[0] == '\0')
		goto out;
	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		goto out;
	pp->kind = PREP_COMMIT;
	pp->zone_id = z.id;
	pp->base_serial = z.serial;
	snprintf(pp->base_digest, sizeof(pp->base_digest), "%s", z.digest);
	pp->change_id = c.id;
	pp->serial = fedns_serial_next(z.serial, 0);
	fedns_hash_once(FEDNS_HASH_SHA256, c.diff, strlen(c.diff), pp->diff_sha);
	if (build_commit(w, s, &z, &c, pp->serial, &pp->nz, pp->digest, &pp->fwd, &pp->commit_diff,
			 &pp->snapshot, NULL) != FEDNS_OK) {
		hub_prepared_free(pp);
		pp = NULL;
	}
out:
	for (size_t i = 0; i < nlist; i++)
		free(list[i].signature);
	free(list);
	hub_change_fini(&c);
	*out = pp;
}

void
hub_prepared_free(hub_prepared *p)
{
	if (p == NULL)
		return;
	hub_plan_fini(&p->plan);
	fedns_zone_free(p->nz);
	diff_free(p->fwd);
	free(p->commit_diff);
	free(p->snapshot);
	free(p);
}

fedns_err
hub_workflow_decide_prepared(hub_workflow *w, hub_store *s, int64_t change_id,
			     const hub_principal *who, bool approve, const char *comment,
			     hub_prepared *prep, bool *committed, hub_change *out, fedns_diag *d)
{
	hub_change c;
	hub_approval *list = NULL;
	size_t nlist = 0;
	fedns_err err;

	memset(&c, 0, sizeof(c));
	fedns_diag_clear(d);
	if (committed != NULL)
		*committed = false;
	if (out != NULL)
		memset(out, 0, sizeof(*out)); /* safe to fini whatever happens */
	if (w == NULL || s == NULL || who == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "decide: missing argument");
	if (comment != NULL && strlen(comment) >= sizeof(((hub_approval *)0)->comment))
		return fedns_diag_set(d, FEDNS_EINVAL, "comment: longer than %zu bytes",
				      sizeof(((hub_approval *)0)->comment) - 1);
	err = hub_change_get(s, change_id, &c);
	if (err == FEDNS_ENOENT)
		return fedns_diag_set(d, err, "change %lld does not exist", (long long)change_id);
	if (err != FEDNS_OK)
		return store_err(d, err, "reading the change");
	if (c.state != HUB_CHANGE_PROPOSED) {
		err = c.state == HUB_CHANGE_STALE
			      ? fedns_diag_set(
					d, FEDNS_ESTALE,
					"change %lld is stale: it was planned against serial "
					"%u and another change committed first; propose again",
					(long long)c.id, (unsigned)c.base_serial)
			      : fedns_diag_set(d, FEDNS_EINVAL,
					       "change %lld is %s: only a proposed change can be "
					       "decided",
					       (long long)c.id, hub_change_state_name(c.state));
		goto out;
	}
	if (who->id == c.author_id) {
		err = fedns_diag_set(d, FEDNS_EACCES,
				     "%s is the author of change %lld and cannot %s it "
				     "(segregation of duties)",
				     who->name, (long long)c.id, approve ? "approve" : "reject");
		goto out;
	}
	if ((err = hub_approval_list(s, c.id, &list, &nlist)) != FEDNS_OK) {
		err = store_err(d, err, "reading approvals");
		goto out;
	}
	uint32_t approvals = 0;
	for (size_t i = 0; i < nlist; i++) {
		if (list[i].principal_id == who->id) {
			err = fedns_diag_set(d, FEDNS_EEXIST, "%s has already %s change %lld",
					     who->name, list[i].approve ? "approved" : "rejected",
					     (long long)c.id);
			goto out;
		}
		if (list[i].approve)
			approvals++;
	}
	hub_approval a;
	memset(&a, 0, sizeof(a));
	a.change_id = c.id;
	a.principal_id = who->id;
	a.approve = approve;
	snprintf(a.comment, sizeof(a.comment), "%s", comment != NULL ? comment : "");
	a.at = now_s();
	if ((err = hub_approval_add(s, &a)) != FEDNS_OK) {
		if (err == FEDNS_EEXIST)
			fedns_diag_set(d, err, "%s has already decided change %lld", who->name,
				       (long long)c.id);
		else
			store_err(d, err, "recording the decision");
		goto out;
	}
	if (!approve) {
		c.state = HUB_CHANGE_REJECTED;
		c.decided_at = now_s();
		c.approvals = approvals;
		if ((err = hub_change_update(s, &c)) != FEDNS_OK)
			store_err(d, err, "updating the change");
		goto out;
	}
	c.approvals = approvals + 1;

	hub_zone z;
	memset(&z, 0, sizeof(z));
	if ((err = hub_zone_get_id(s, c.zone_id, &z)) != FEDNS_OK) {
		store_err(d, err, "reading the zone");
		goto out;
	}
	uint32_t need = z.approvals_required > 0 ? z.approvals_required : 1;
	if (c.approvals < need) {
		if ((err = hub_change_update(s, &c)) != FEDNS_OK)
			store_err(d, err, "updating the change");
		goto out;
	}
	if (z.deleted) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "zone %s is deleted", z.name);
		goto out;
	}
	if (c.base_serial != z.serial) {
		c.state = HUB_CHANGE_STALE;
		c.decided_at = now_s();
		if ((err = hub_change_update(s, &c)) != FEDNS_OK) {
			store_err(d, err, "updating the change");
			goto out;
		}
		err = fedns_diag_set(d, FEDNS_ESTALE,
				     "change %lld was planned against serial %u but zone %s is at "
				     "%u; it is stale, propose again",
				     (long long)c.id, (unsigned)c.base_serial, z.name,
				     (unsigned)z.serial);
		goto out;
	}
	if (c.delete_zone)
		err = commit_delete(w, s, &z, &c, d);
	else
		err = commit_change(w, s, &z, &c, prep, d);
	if (err != FEDNS_OK)
		goto out;
	if (committed != NULL)
		*committed = true;
out:
	for (size_t i = 0; i < nlist; i++)
		free(list[i].signature);
	free(list);
	if (out != NULL) {
		*out = c; /* the caller owns the diff now */
		memset(&c, 0, sizeof(c));
	}
	hub_change_fini(&c);
	return err;
}

fedns_err
hub_workflow_rollback(hub_workflow *w, hub_store *s, const hub_zone *zone,
		      const hub_principal *author, uint32_t to_serial, const char *reason,
		      hub_plan *out, fedns_diag *d)
{
	fedns_diag_clear(d);
	if (w == NULL || s == NULL || zone == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "rollback: missing argument");
	memset(out, 0, sizeof(*out));
	char *text = NULL;
	fedns_err err = hub_version_text(s, zone->id, to_serial, &text);
	if (err == FEDNS_ENOENT)
		return fedns_diag_set(d, err, "zone %s has no kept version with serial %u",
				      zone->name, (unsigned)to_serial);
	if (err != FEDNS_OK)
		return store_err(d, err, "reading the version");
	/* The apex NS and mass-delete flags are implied: going back to a known version is
	 * the point; the plan still warns so the approvers see it. */
	hub_proposal p = {
		.base_serial = zone->serial,
		.reason = reason,
		.zone_file = text,
		.zone_file_len = strlen(text),
		.allow_apex_ns = true,
		.allow_mass_delete = true,
		.rollback = true,
	};
	hub_where where;
	err = hub_workflow_propose(w, s, zone, author, &p, NULL, out, d, &where);
	free(text);
	return err;
}

/* ---- zones ---- */

/* Zone names the hub accepts: letters, digits, '-', '_' and '/' (RFC 2317 reverse zones)
 * in non-empty labels, so a name is safe in URLs, file names and logs. */
static bool
zone_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 253 + 1)
		return false;
	if (strcmp(name, ".") == 0)
		return true;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '/'))
			return false;
		if (++label > FEDNS_LABEL_MAXLEN)
			return false;
	}
	return true;
}

/* A name given for the generated SOA/NS, checked and printed absolute so nothing but a
 * name reaches the generated master file. */
static fedns_err
name_field(const char *s, const uint8_t *origin, const char *field, bool mailbox, char *out,
	   size_t outsz, fedns_diag *d, hub_where *where)
{
	if (s == NULL || s[0] == '\0')
		return fail(d, where, FEDNS_ESYNTAX, field, 0, "%s: required for an empty zone",
			    field);
	char tmp[FEDNS_NAME_MAXTEXT + 1];
	snprintf(tmp, sizeof(tmp), "%s", s);
	char *at = mailbox ? strchr(tmp, '@') : NULL;
	if (at != NULL)
		*at = '.'; /* hostmaster@example.com -> hostmaster.example.com */
	if (!zone_name_ok(tmp))
		return fail(d, where, FEDNS_ESYNTAX, field, 0,
			    "%s: \"%.80s\" is not a host name (letters, digits, '-' and '_' in "
			    "dot-separated labels)",
			    field, s);
	size_t len = strlen(tmp);
	if (len > 0 && tmp[len - 1] != '.' && len + 1 < sizeof(tmp)) {
		tmp[len++] = '.'; /* given as a host name: absolute */
		tmp[len] = '\0';
	}
	uint8_t name[FEDNS_NAME_MAXLEN];
	size_t nlen;
	fedns_diag nd = {0};
	if (fedns_name_from_text(tmp, len, origin, name, &nlen, &nd) != FEDNS_OK)
		return fail(d, where, FEDNS_ESYNTAX, field, 0, "%s: %s", field, nd.msg);
	if (fedns_name_to_text(name, out, outsz) == 0)
		return fail(d, where, FEDNS_ESYNTAX, field, 0, "%s: name too long", field);
	return FEDNS_OK;
}

fedns_err
hub_workflow_create_zone(hub_workflow *w, hub_store *s, int64_t tenant_id, const char *name,
			 uint32_t approvals_required, const char *text, const char *primary_ns,
			 const char *hostmaster, hub_zone *out, fedns_diag *d, hub_where *where)
{
	hub_where local_where;
	if (where == NULL)
		where = &local_where;
	memset(where, 0, sizeof(*where));
	fedns_diag_clear(d);
	if (w == NULL || s == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "create zone: missing argument");
	if (name == NULL || !zone_name_ok(name))
		return fail(d, where, FEDNS_ESYNTAX, "name", 0,
			    "name: \"%.80s\" is not a zone name (letters, digits, '-', '_' and "
			    "'/' in dot-separated labels)",
			    name != NULL ? name : "");
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag nd = {0};
	if (fedns_name_from_text(name, strlen(name), (const uint8_t *)"", origin, &olen, &nd) !=
	    FEDNS_OK)
		return fail(d, where, FEDNS_ESYNTAX, "name", 0, "name: %s", nd.msg);
	fedns_name_tolower(origin);
	char lname[FEDNS_NAME_MAXTEXT + 1];
	if (fedns_name_to_text(origin, lname, sizeof(lname)) == 0 || strlen(lname) >= 256)
		return fail(d, where, FEDNS_ESYNTAX, "name", 0, "name: too long");

	char *gen = NULL;
	const char *field = "zone_file";
	if (text == NULL) {
		char ns[FEDNS_NAME_MAXTEXT + 1], hm[FEDNS_NAME_MAXTEXT + 1];
		fedns_err err;
		if ((err = name_field(primary_ns, origin, "primary_ns", false, ns, sizeof(ns), d,
				      where)) != FEDNS_OK ||
		    (err = name_field(hostmaster, origin, "hostmaster", true, hm, sizeof(hm), d,
				      where)) != FEDNS_OK)
			return err;
		fedns_buf b;
		fedns_buf_init(&b, 1 << 16);
		fedns_buf_printf(&b,
				 "@ 3600 IN SOA %s %s 1 3600 900 1209600 300\n@ 3600 IN NS %s\n",
				 ns, hm, ns);
		if (b.err != FEDNS_OK) {
			fedns_buf_fini(&b);
			return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		}
		size_t glen;
		gen = (char *)fedns_buf_steal(&b, &glen);
		text = gen;
		field = "primary_ns";
	}

	fedns_zone *z = NULL;
	fedns_diag pd = {0};
	fedns_err err = parse_zone_text(origin, "zone_file", text, strlen(text), &z, &pd);
	free(gen);
	if (err != FEDNS_OK) {
		if (err != FEDNS_ENOMEM && err != FEDNS_ETOOBIG && err != FEDNS_EZONE)
			err = FEDNS_ESYNTAX;
		where_set(where, field, pd.line);
		if (d != NULL && d->code == FEDNS_OK && d->msg[0] == '\0') {
			*d = pd;
			d->code = err;
		}
		return err;
	}
	char digest[97];
	fedns_buf canon;
	if (fedns_zone_find(z, origin, FEDNS_T_ZONEMD) != NULL) {
		fedns_zone_free(z);
		return fail(d, where, FEDNS_EZONE, field, 0, "%s: %s", field, zonemd_owned);
	}
	fedns_zdigest *zd = NULL;
	if ((err = tree_build(z, &zd, digest)) != FEDNS_OK) {
		fedns_zone_free(z);
		return fedns_diag_set(d, err, "cannot compute the zone's digest: %s",
				      fedns_strerror(err));
	}
	fedns_buf_init(&canon, FEDNS_BUF_DEFAULT_MAX);
	uint32_t serial = fedns_zone_serial(z);
	if ((err = fedns_zone_print(z, &canon)) != FEDNS_OK || canon.err != FEDNS_OK) {
		err = fedns_diag_set(d, err ? err : canon.err, "cannot print the zone");
		goto fail;
	}
	int64_t id = 0;
	err = hub_zone_create(s, tenant_id, lname, approvals_required ? approvals_required : 1,
			      serial, digest, (const char *)canon.data, &id);
	if (err == FEDNS_EEXIST) {
		fail(d, where, err, "name", 0, "zone %s already exists", lname);
		goto fail;
	}
	if (err != FEDNS_OK) {
		store_err(d, err, "creating the zone");
		goto fail;
	}
	if ((err = hub_zone_get_id(s, id, out)) != FEDNS_OK) {
		store_err(d, err, "reading the zone back");
		goto fail;
	}
	fedns_buf_fini(&canon);
	tree_keep(w, id, zd, digest);
	zd = NULL;
	wzone *wz = wz_new(z, serial, digest);
	if (wz == NULL)
		fedns_zone_free(z);
	else {
		deadlist dl = {0};
		pthread_mutex_lock(&w->mu);
		zentry *e = entry_locked(w, id, true);
		if (e != NULL) {
			dead_add(&dl, e->pending);
			e->pending = wz;
		} else {
			dead_add(&dl, wz);
		}
		pthread_mutex_unlock(&w->mu);
		dead_free(&dl);
	}
	return FEDNS_OK;
fail:
	fedns_buf_fini(&canon);
	fedns_zdigest_free(zd);
	fedns_zone_free(z);
	return err;
}

/* ---- lifecycle ---- */

fedns_err
hub_workflow_new(const hub_workflow_opts *o, hub_workflow **out)
{
	hub_workflow *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return FEDNS_ENOMEM;
	if (o != NULL)
		w->o = *o;
	if (!(w->o.warn_delete_fraction > 0.0 && w->o.warn_delete_fraction <= 1.0))
		w->o.warn_delete_fraction = 0.10;
	if (w->o.snapshot_every == 0)
		w->o.snapshot_every = 64;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return FEDNS_ENOMEM;
	}
	*out = w;
	return FEDNS_OK;
}

static void
entry_free(zentry *e)
{
	deadlist dl = {0};
	dead_add(&dl, e->cur);
	dead_add(&dl, e->prev);
	dead_add(&dl, e->pending);
	plans_drop_locked(e, &dl);
	dead_free(&dl);
	fedns_zdigest_free(e->zd);
	pthread_mutex_destroy(&e->zmu);
	free(e);
}

void
hub_workflow_free(hub_workflow *w)
{
	if (w == NULL)
		return;
	for (size_t b = 0; b < NBUCKETS; b++) {
		zentry *e = w->buckets[b];
		while (e != NULL) {
			zentry *next = e->next;
			entry_free(e);
			e = next;
		}
	}
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void
hub_workflow_publish(hub_workflow *w, int64_t zone_id)
{
	if (w == NULL)
		return;
	deadlist dl = {0};
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, zone_id, false);
	if (e != NULL && e->pending != NULL) {
		dead_add(&dl, e->prev);
		e->prev = e->cur;
		e->cur = e->pending;
		e->pending = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	dead_free(&dl);
}

void
hub_workflow_forget(hub_workflow *w, int64_t zone_id)
{
	if (w == NULL)
		return;
	/* Only what the rolled-back transaction may have built goes: the versions known
	 * committed stay, since every use checks them against the store's serial and digest
	 * (dropping them made every refused request cost the next one a reload of the zone). */
	deadlist dl = {0};
	pthread_mutex_lock(&w->mu);
	zentry *e = entry_locked(w, zone_id, false);
	if (e != NULL) {
		dead_add(&dl, e->pending);
		e->pending = NULL;
		plans_drop_locked(e, &dl);
	}
	pthread_mutex_unlock(&w->mu);
	dead_free(&dl);
}

fedns_err
hub_workflow_zone_hold(hub_workflow *w, hub_store *s, const hub_zone *zone, const fedns_zone **out,
		       void **ref)
{
	if (w == NULL || s == NULL || zone == NULL || out == NULL || ref == NULL)
		return FEDNS_EINVAL;
	wzone *wz = NULL;
	fedns_err err = get_current(w, s, zone, &wz, NULL);
	if (err != FEDNS_OK)
		return err;
	*out = wz->z;
	*ref = wz; /* get_current's reference, dropped by hub_workflow_zone_release */
	return FEDNS_OK;
}

void
hub_workflow_zone_release(hub_workflow *w, void *ref)
{
	if (w != NULL)
		wz_release(w, ref);
}

fedns_err
hub_workflow_zone(hub_workflow *w, hub_store *s, const hub_zone *zone, const fedns_zone **out)
{
	if (w == NULL || s == NULL || zone == NULL || out == NULL)
		return FEDNS_EINVAL;
	wzone *wz = NULL;
	fedns_err err = get_current(w, s, zone, &wz, NULL);
	if (err != FEDNS_OK)
		return err;
	pthread_mutex_lock(&w->mu);
	bool cached = wz->refs > 1;
	pthread_mutex_unlock(&w->mu);
	*out = cached ? wz->z : NULL;
	/* the cache keeps it (and the one before it) alive: borrowed, as documented */
	wz_release(w, wz);
	return cached ? FEDNS_OK : FEDNS_ENOMEM;
}
