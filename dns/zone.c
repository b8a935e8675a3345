/* SPDX-License-Identifier: Apache-2.0 */
/* Zone model: stages RRs cheaply, then sorts, folds, checks and freezes them in one pass. */
#include "dns/zone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "dns/name.h"

#define ZONE_DEFAULT_MAX_RECORDS 10000000u
#define ZONE_DEFAULT_MAX_BYTES ((size_t)4 << 30)
#define ZONE_MAX_TTL 2147483647u /* RFC 2181 §8 */
#define ZONE_MAX_SOURCES 65535u

/* Byte pools hand out unaligned runs from 1 MiB blocks: rdata of an A record costs 6 bytes
 * rather than the arena's 16-byte aligned slot, which matters at a million records. */
#define BPOOL_BLOCK (1024u * 1024u)

typedef struct bpool {
	fedns_arena a;
	uint8_t *cur;
	size_t left;
} bpool;

/* One staged RR. 'rd' is already packed (2-byte length, bytes) so a set of one RR, the
 * common case, is stored in its final form and never copied again. */
typedef struct srec {
	const uint8_t *rd;
	uint32_t owner;
	uint32_t ttl;
	uint32_t line;
	uint16_t type;
	uint16_t file;
} srec;

/* An owner run: consecutive staged RRs with one owner. finish merges the runs of one name
 * (case-insensitively; the first spelling is kept) into the first. 'n' counts its RRs; in finish 'flags' say which types it holds, for the checks
 * of NS/MX/SRV targets (one lookup per target, no scan of RRsets). */
typedef struct sowner {
	const uint8_t *name;
	uint32_t n;
	uint16_t flags;
	uint16_t len;
} sowner;

enum {
	OWN_ADDR = 1,
	OWN_CNAME = 2,
	OWN_NS = 4,
	OWN_DNAME = 8
};

/* Where an RRset's first RR (in file order) came from, for diagnostics after the build. */
typedef struct sloc {
	uint32_t line;
	uint16_t file;
} sloc;

enum {
	ZONE_BUILDING,
	ZONE_FINISHED,
	ZONE_FAILED
};

struct fedns_zone {
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t origin_len;
	uint16_t rclass;
	int state;
	size_t max_records;
	size_t max_bytes;
	size_t bytes;

	char **sources; /* sources[0] is unused: id 0 means "no file" */
	size_t nsources;

	bpool names; /* owner names; kept: the RRsets point into it */
	bpool rdata; /* packed staged rdata; kept: most RRsets point into it */
	bpool extra; /* packed rdata of sets whose RRs were not adjacent in sorted order */

	srec *recs;
	size_t nrec, caprec;
	sowner *owners;
	size_t nowners, capowners;
	/* distinct owners, made in finish: hash << 32 | (owner id + 1), 0 = empty; power-of-two
	 * size. The hash in the slot spares a cache miss on the owner for every probe that
	 * fails. */
	uint64_t *slots;
	size_t nslots;
	uint32_t last_owner; /* the current run: blank-owner lines repeat the previous owner */
	size_t last_len;

	fedns_rrset *sets;
	size_t nsets;
	size_t nrr;
	uint32_t serial;
};

static void
bpool_init(bpool *p)
{
	fedns_arena_init(&p->a, 64u * 1024u, 0);
	p->cur = NULL;
	p->left = 0;
}

static uint8_t *
bpool_alloc(bpool *p, size_t n)
{
	if (n > p->left) {
		/* large runs get their own block so the current one keeps its space */
		if (n > BPOOL_BLOCK / 8)
			return fedns_arena_alloc(&p->a, n);
		uint8_t *b = fedns_arena_alloc(&p->a, BPOOL_BLOCK);
		if (b == NULL)
			return NULL;
		p->cur = b;
		p->left = BPOOL_BLOCK;
	}
	uint8_t *r = p->cur;
	p->cur += n;
	p->left -= n;
	return r;
}

static uint16_t
rd_len(const uint8_t *rd)
{
	return (uint16_t)((rd[0] << 8) | rd[1]);
}

static void
free_staging(fedns_zone *z)
{
	free(z->recs);
	z->recs = NULL;
	z->nrec = z->caprec = 0;
	free(z->owners);
	z->owners = NULL;
	z->nowners = z->capowners = 0;
	free(z->slots);
	z->slots = NULL;
	z->nslots = 0;
}

fedns_err
fedns_zone_new(const uint8_t *origin, uint16_t rclass, const fedns_zone_limits *lim,
	       fedns_zone **out)
{
	if (origin == NULL || out == NULL)
		return FEDNS_EINVAL;
	size_t olen = fedns_name_check(origin, FEDNS_NAME_MAXLEN);
	if (olen == 0)
		return FEDNS_EINVAL;
	fedns_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return FEDNS_ENOMEM;
	memcpy(z->origin, origin, olen);
	z->origin_len = olen;
	z->rclass = rclass;
	z->state = ZONE_BUILDING;
	z->max_records = ZONE_DEFAULT_MAX_RECORDS;
	z->max_bytes = ZONE_DEFAULT_MAX_BYTES;
	if (lim != NULL && lim->max_records != 0)
		z->max_records = lim->max_records;
	if (lim != NULL && lim->max_bytes != 0)
		z->max_bytes = lim->max_bytes;
	/* staged records are indexed with 32 bits */
	if (z->max_records > UINT32_MAX - 1)
		z->max_records = UINT32_MAX - 1;
	bpool_init(&z->names);
	bpool_init(&z->rdata);
	bpool_init(&z->extra);
	z->last_owner = UINT32_MAX;
	*out = z;
	return FEDNS_OK;
}

void
fedns_zone_free(fedns_zone *z)
{
	if (z == NULL)
		return;
	free_staging(z);
	for (size_t i = 1; i < z->nsources; i++)
		free(z->sources[i]);
	free(z->sources);
	fedns_arena_fini(&z->names.a);
	fedns_arena_fini(&z->rdata.a);
	fedns_arena_fini(&z->extra.a);
	free(z->sets);
	free(z);
}

uint16_t
fedns_zone_add_source(fedns_zone *z, const char *file)
{
	if (z == NULL || file == NULL)
		return 0;
	if (z->nsources == 0)
		z->nsources = 1;
	if (z->nsources > ZONE_MAX_SOURCES)
		return 0;
	char **s = realloc(z->sources, (z->nsources + 1) * sizeof(*s));
	if (s == NULL)
		return 0;
	z->sources = s;
	s[0] = NULL;
	s[z->nsources] = strdup(file);
	if (s[z->nsources] == NULL)
		return 0;
	return (uint16_t)z->nsources++;
}

/* Sets the 0x20 bit of the bytes of w that are ASCII 'A'..'Z' (RFC 4343 folding), eight at
 * a time. Label lengths (at most 63) are never in that range, so a whole wire name folds. */
static uint64_t
fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + (0x80u - 'A') * ones;
	uint64_t gt_z = low7 + (0x7fu - 'Z') * ones;
	uint64_t upper = (ge_a ^ gt_z) & ~w & high;
	return w | (upper >> 2);
}

/* Case-insensitive hash of a name of 'len' bytes for the owner table. The zone's own hash
 * rather than fedns_name_hash: a million owners and targets go through it, and a word at
 * a time is several times faster than FNV's byte at a time. Equal under folding gives
 * equal hashes, which is all the table needs. */
static uint32_t
owner_hash_len(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;
	size_t i = 0;
	for (; len - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, name + i, 8);
		h = (h ^ fold8(w)) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (i < len) {
		uint64_t w = 0;
		memcpy(&w, name + i, len - i);
		h = (h ^ fold8(w)) * 0xff51afd7ed558ccdu;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 29;
	return (uint32_t)h;
}

static uint32_t
owner_hash(const uint8_t *name)
{
	return owner_hash_len(name, fedns_name_len(name));
}

/* Owner id for 'name' or UINT32_MAX when it was never staged. */
static uint32_t
owner_lookup(const fedns_zone *z, const uint8_t *name, uint32_t h)
{
	if (z->nslots == 0)
		return UINT32_MAX;
	size_t mask = z->nslots - 1, len = 0;
	for (size_t j = h & mask; z->slots[j] != 0; j = (j + 1) & mask) {
		uint64_t e = z->slots[j];
		if ((uint32_t)(e >> 32) != h)
			continue;
		uint32_t id = (uint32_t)e - 1;
		const uint8_t *o = z->owners[id].name;
		/* names usually repeat in the same case: try the cheap compare first */
		if (len == 0)
			len = fedns_name_len(name);
		if (z->owners[id].len != len)
			continue;
		if (memcmp(o, name, len) == 0 || fedns_name_equal(o, name))
			return id;
	}
	return UINT32_MAX;
}

/* Starts a new owner run. Staging never hashes: an owner that comes back later gets a
 * run of its own, and finish merges the runs of one name in a single prefetched pass. */
static fedns_err
run_new(fedns_zone *z, const uint8_t *name, size_t len, uint32_t *id)
{
	if (z->max_bytes - z->bytes < len)
		return FEDNS_ETOOBIG;
	if (z->nowners == z->capowners) {
		size_t cap = z->capowners ? z->capowners * 2 : 1024;
		sowner *o = realloc(z->owners, cap * sizeof(*o));
		if (o == NULL)
			return FEDNS_ENOMEM;
		z->owners = o;
		z->capowners = cap;
	}
	uint8_t *copy = bpool_alloc(&z->names, len);
	if (copy == NULL)
		return FEDNS_ENOMEM;
	memcpy(copy, name, len);
	z->bytes += len;
	sowner *o = &z->owners[z->nowners];
	o->name = copy;
	o->n = 0;
	o->flags = 0;
	o->len = (uint16_t)len;
	*id = (uint32_t)z->nowners++;
	return FEDNS_OK;
}

fedns_err
fedns_zone_add(fedns_zone *z, const fedns_rr *rr, uint16_t file, uint32_t line)
{
	if (z == NULL || rr == NULL || rr->owner == NULL || (rr->rdlen != 0 && rr->rdata == NULL))
		return FEDNS_EINVAL;
	if (z->state != ZONE_BUILDING)
		return FEDNS_EINVAL;
	/* type 0 is reserved (RFC 6895 §3.1); BIND calls it a meta type too */
	if (rr->rclass != z->rclass || rr->type == 0 || fedns_rrtype_is_meta(rr->type))
		return FEDNS_EZONE;
	if (z->nrec >= z->max_records)
		return FEDNS_ETOOBIG;
	if (fedns_rdata_check(rr->type, rr->rdata, rr->rdlen) != FEDNS_OK)
		return FEDNS_EMALFORMED;

	size_t olen = fedns_name_len(rr->owner);
	uint32_t id;
	/* a run continues while the owner stays the same name, in any case (as BIND batches) */
	if (z->last_owner != UINT32_MAX && olen == z->last_len &&
	    (memcmp(z->owners[z->last_owner].name, rr->owner, olen) == 0 ||
	     fedns_name_equal(z->owners[z->last_owner].name, rr->owner))) {
		id = z->last_owner;
	} else {
		fedns_err err = run_new(z, rr->owner, olen, &id);
		if (err != FEDNS_OK)
			return err;
		z->last_owner = id;
		z->last_len = olen;
	}

	size_t need = 2u + rr->rdlen;
	if (z->max_bytes - z->bytes < need)
		return FEDNS_ETOOBIG;
	if (z->nrec == z->caprec) {
		size_t cap = z->caprec ? z->caprec * 2 : 1024;
		if (cap > z->max_records)
			cap = z->max_records;
		srec *r = realloc(z->recs, cap * sizeof(*r));
		if (r == NULL)
			return FEDNS_ENOMEM;
		z->recs = r;
		z->caprec = cap;
	}
	uint8_t *rd = bpool_alloc(&z->rdata, need);
	if (rd == NULL)
		return FEDNS_ENOMEM;
	rd[0] = (uint8_t)(rr->rdlen >> 8);
	rd[1] = (uint8_t)rr->rdlen;
	if (rr->rdlen != 0)
		memcpy(rd + 2, rr->rdata, rr->rdlen);
	z->bytes += need;

	srec *s = &z->recs[z->nrec++];
	s->rd = rd;
	s->owner = id;
	s->ttl = rr->ttl;
	s->line = line;
	s->type = rr->type;
	s->file = file < z->nsources ? file : 0;
	z->owners[id].n++;
	return FEDNS_OK;
}

/* ---- finish ------------------------------------------------------------------------- *
 *
 * The rules, each decided as named-checkzone decides it (E: error, the zone is refused;
 * W: warning), except out-of-zone data, which BIND drops with a warning and we refuse:
 *   E  owner outside the origin                        "x.: out of zone (origin o.)"
 *   E  no SOA at the apex; SOA elsewhere; two SOAs      (BIND: "has 0 SOA records", ...)
 *   E  no NS at the apex; DS at the apex
 *   E  CNAME beside anything but RRSIG/NSEC/KEY/SIG/NXT; CNAME at the apex
 *   E  two CNAMEs or two DNAMEs at one name             ("multiple RRs of singleton type")
 *   E  an apex NS target in the zone (not below a cut) with no A/AAAA, that is a CNAME,
 *      or below a DNAME; wildcards answer for absent targets as a query would
 *   W  the same for delegation NS targets (glue "REQUIRED"/"SIBLING"), MX and SRV
 *   W  TTL above 2^31-1 (used as 0, RFC 2181 §8); TTLs that differ within an RRset
 * Data below a delegation (glue, occluded names) and below a DNAME is accepted. */

typedef struct fin {
	fedns_zone *z;
	fedns_diag_fn fn;
	void *ctx;
	bool stopped;
	size_t errors;
	sloc *locs;
	struct srt *scratch; /* merge-sort buffer for large owner groups */
	size_t nscratch;
	struct srt *setfirst; /* per RRset of the current owner: its first RR in file order */
	size_t nsetfirst;
	struct srt *ttlsort; /* a set whose TTLs disagree, in file order */
	size_t nttl;
	uint32_t *runstart; /* staged index where each owner run starts */
	size_t nruns;
	size_t ncuts, ndnames, nwild;
	bool apex_soa, apex_ns;
} fin;

__attribute__((format(printf, 5, 6))) static void
report(fin *f, fedns_err code, uint16_t file, uint32_t line, const char *fmt, ...)
{
	if (code != FEDNS_OK)
		f->errors++;
	if (f->fn == NULL || f->stopped)
		return;
	fedns_diag d;
	fedns_diag_clear(&d);
	va_list ap;
	va_start(ap, fmt);
	fedns_diag_vset(&d, code, fmt, ap);
	va_end(ap);
	d.code = code;
	d.line = line;
	if (file != 0 && file < f->z->nsources)
		snprintf(d.file, sizeof(d.file), "%s", f->z->sources[file]);
	if (f->fn(f->ctx, &d) != 0)
		f->stopped = true; /* stop telling, keep checking: the verdict must stay right */
}

static const char *
ntext(const uint8_t *name, char buf[FEDNS_NAME_MAXTEXT])
{
	if (fedns_name_to_text(name, buf, FEDNS_NAME_MAXTEXT) == 0)
		snprintf(buf, FEDNS_NAME_MAXTEXT, "?");
	return buf;
}

/* Owner sort element: the owner's canonical key relative to the origin. */
typedef struct okey {
	const uint8_t *k;
	uint32_t len;
	uint32_t id;
	uint64_t head; /* the first 8 key bytes, big-endian: the top levels need no pointer */
} okey;

static unsigned
okey_byte(const okey *a, size_t d)
{
	if (a->len <= d)
		return 0;
	if (d < 8)
		return (unsigned)((a->head >> (56 - 8 * d)) & 0xffu) + 1u;
	return a->k[d] + 1u;
}

static int
okey_cmp(const okey *a, const okey *b, size_t d)
{
	if (d < 8) {
		/* padding zeros past a short key still order it first: it is then a prefix */
		uint64_t ha = a->head << (8 * d), hb = b->head << (8 * d);
		if (ha != hb)
			return ha < hb ? -1 : 1;
	}
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n > d ? memcmp(a->k + d, b->k + d, n - d) : 0;
	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static void
okey_insertion(okey *a, size_t n, size_t d)
{
	for (size_t i = 1; i < n; i++) {
		okey v = a[i];
		size_t j = i;
		while (j > 0 && okey_cmp(&a[j - 1], &v, d) > 0) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* MSD radix sort on key bytes from depth d; keys are distinct (owners are interned).
 * Recursion depth is bounded by the key length (at most FEDNS_NAME_KEYMAX). */
static void
okey_radix(okey *a, okey *tmp, size_t n, size_t d)
{
	uint32_t cnt[257];
	for (;;) {
		if (n < 32) {
			okey_insertion(a, n, d);
			return;
		}
		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[okey_byte(&a[i], d)]++;
		/* a level where every key has the same byte needs no moves */
		size_t b = 0;
		while (cnt[b] == 0)
			b++;
		if (cnt[b] == n && b != 0) {
			d++;
			continue;
		}
		break;
	}
	/* cnt becomes each bucket's start, then (after the scatter) its end */
	uint32_t sum = 0;
	for (size_t b = 0; b < 257; b++) {
		uint32_t c = cnt[b];
		cnt[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		tmp[cnt[okey_byte(&a[i], d)]++] = a[i];
	memcpy(a, tmp, n * sizeof(*a));
	/* bucket 0 holds the key that ends here: at most one, already in place */
	for (size_t b = 1; b < 257; b++) {
		uint32_t begin = cnt[b - 1];
		if (cnt[b] - begin > 1)
			okey_radix(a + begin, tmp, cnt[b] - begin, d + 1);
	}
}

/* A staged RR copied into its owner's group in canonical order; 'idx' is its position in
 * the file order (first wins, ties broken by it). Copies rather than indices let the build
 * read the groups sequentially instead of chasing each RR across the staging array. */
typedef struct srt {
	const uint8_t *rd;
	uint32_t idx;
	uint32_t ttl;
	uint32_t line;
	uint16_t type;
	uint16_t file;
} srt;

static int
rec_cmp(const srt *x, const srt *y)
{
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	int c = fedns_rdata_cmp(x->type, x->rd + 2, rd_len(x->rd), y->rd + 2, rd_len(y->rd));
	if (c != 0)
		return c;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static void
rec_insertion(srt *g, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		srt v = g[i];
		size_t j = i;
		while (j > 0 && rec_cmp(&g[j - 1], &v) > 0) {
			g[j] = g[j - 1];
			j--;
		}
		g[j] = v;
	}
}

static void
rec_mergesort(srt *g, srt *tmp, size_t n)
{
	if (n <= 16) {
		rec_insertion(g, n);
		return;
	}
	size_t h = n / 2;
	rec_mergesort(g, tmp, h);
	rec_mergesort(g + h, tmp, n - h);
	if (rec_cmp(&g[h - 1], &g[h]) <= 0)
		return;
	memcpy(tmp, g, h * sizeof(*g));
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		g[k++] = rec_cmp(&tmp[i], &g[j]) <= 0 ? tmp[i++] : g[j++];
	while (i < h)
		g[k++] = tmp[i++];
}

static fedns_err
sort_group(fin *f, srt *g, size_t n)
{
	if (n <= 16) {
		rec_insertion(g, n);
		return FEDNS_OK;
	}
	if (f->nscratch < n) {
		srt *s = realloc(f->scratch, n * sizeof(*s));
		if (s == NULL)
			return FEDNS_ENOMEM;
		f->scratch = s;
		f->nscratch = n;
	}
	rec_mergesort(g, f->scratch, n);
	return FEDNS_OK;
}

static bool
is_singleton(uint16_t type)
{
	return type == FEDNS_T_SOA || type == FEDNS_T_CNAME || type == FEDNS_T_DNAME;
}

/* Types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5): SIG, KEY,
 * NXT and their DNSSEC successors RRSIG and NSEC. */
static bool
cname_compatible(uint16_t type)
{
	return type == 24 || type == 25 || type == 30 || type == FEDNS_T_RRSIG ||
	       type == FEDNS_T_NSEC || type == FEDNS_T_CNAME;
}

/* The type an RRSIG covers, from its packed rdata (0 when too short to say). */
static uint16_t
covered(const uint8_t *rd)
{
	return rd_len(rd) >= 2 ? (uint16_t)((rd[2] << 8) | rd[3]) : 0;
}

/* An owner's presentation form, made on first use: only diagnostics need it. */
typedef struct lazyname {
	const uint8_t *name;
	bool done;
	char buf[FEDNS_NAME_MAXTEXT];
} lazyname;

static const char *
lz(lazyname *l)
{
	if (!l->done) {
		ntext(l->name, l->buf);
		l->done = true;
	}
	return l->buf;
}

static uint32_t
clamp_ttl(fin *f, const srt *r, lazyname *owner, char tb[16])
{
	if (r->ttl <= ZONE_MAX_TTL)
		return r->ttl;
	report(f, FEDNS_OK, r->file, r->line,
	       "%s %s: TTL %u is above 2147483647 (RFC 2181 section 8); using 0", lz(owner),
	       fedns_rrtype_to_text(r->type, tb), r->ttl);
	return 0;
}

static int
idx_cmp(const void *a, const void *b)
{
	const srt *x = a, *y = b;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The owner run (consecutive staged RRs with one owner) that staged RR 'idx' is in. */
static size_t
run_of(const fin *f, uint32_t idx)
{
	size_t lo = 0, hi = f->nruns;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->runstart[mid] <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* TTL of a set whose RRs disagree, as BIND's loader decides it: within one run of lines
 * with the same owner the first RR's TTL wins (the others are warned about: "TTL set to
 * prior TTL"), and a later run that adds to the set replaces the TTL with its own. */
static fedns_err
unify_ttl(fin *f, const srt *g, size_t n, lazyname *nb, uint32_t *ttl)
{
	if (f->nttl < n) {
		srt *t = realloc(f->ttlsort, n * sizeof(*t));
		if (t == NULL)
			return FEDNS_ENOMEM;
		f->ttlsort = t;
		f->nttl = n;
	}
	srt *m = f->ttlsort;
	memcpy(m, g, n * sizeof(*m));
	qsort(m, n, sizeof(*m), idx_cmp);
	char tb[16];
	size_t run = run_of(f, m[0].idx);
	uint32_t cur = m[0].ttl > ZONE_MAX_TTL ? 0 : m[0].ttl;
	for (size_t k = 1; k < n; k++) {
		uint32_t t = m[k].ttl > ZONE_MAX_TTL ? 0 : m[k].ttl;
		size_t r = run_of(f, m[k].idx);
		if (r != run) {
			run = r;
			cur = t;
		} else if (t != cur) {
			report(f, FEDNS_OK, m[k].file, m[k].line,
			       "%s %s: TTL %u differs from the TTL %u of the RRset before it; "
			       "using %u",
			       lz(nb), fedns_rrtype_to_text(m[k].type, tb), t, cur, cur);
		}
	}
	*ttl = cur;
	return FEDNS_OK;
}

/* Builds the RRsets of one owner from its sorted RRs g[0..n) and checks the rules that
 * concern one name. */
static fedns_err
build_owner(fin *f, srt *g, size_t n, const uint8_t *owner, uint32_t id, bool apex)
{
	fedns_zone *z = f->z;
	uint16_t fl = 0;
	char tb[16];
	size_t nsets_here = 0;
	lazyname nb;

	nb.name = owner;
	nb.done = false;
	for (size_t i = 0; i < n;) {
		uint16_t type = g[i].type;
		size_t j = i + 1;
		if (type == FEDNS_T_RRSIG) {
			/* one set per covered type, each with the TTL of the set it covers (RFC
			 * 4034 §3); canonical rdata order already groups them by that field */
			uint16_t cov = covered(g[i].rd);
			while (j < n && g[j].type == type && covered(g[j].rd) == cov)
				j++;
		} else {
			while (j < n && g[j].type == type)
				j++;
		}

		size_t mk = i;
		for (size_t k = i + 1; k < j; k++)
			if (g[k].idx < g[mk].idx)
				mk = k;
		const srt first = g[mk];
		uint32_t ttl = clamp_ttl(f, &first, &nb, tb);
		bool same = true;
		for (size_t k = i; k < j; k++) {
			if (k == mk)
				continue;
			same &= clamp_ttl(f, &g[k], &nb, tb) == ttl;
		}
		if (!same) {
			fedns_err err = unify_ttl(f, g + i, j - i, &nb, &ttl);
			if (err != FEDNS_OK)
				return err;
		}

		/* fold duplicates (equal rdata sort next to each other, lowest index first) */
		size_t w = i + 1;
		for (size_t k = i + 1; k < j; k++) {
			const srt *r = &g[k];
			const srt *prev = &g[w - 1];
			if (fedns_rdata_cmp(type, prev->rd + 2, rd_len(prev->rd), r->rd + 2,
					    rd_len(r->rd)) == 0)
				continue;
			g[w++] = *r;
		}
		size_t cnt = w - i;

		if (is_singleton(type) && cnt > 1 && !(type == FEDNS_T_SOA && !apex)) {
			size_t second = SIZE_MAX;
			for (size_t k = i; k < w; k++)
				if (g[k].idx != first.idx &&
				    (second == SIZE_MAX || g[k].idx < g[second].idx))
					second = k;
			report(f, FEDNS_EZONE, g[second].file, g[second].line,
			       "%s: more than one %s record (a singleton type)", lz(&nb),
			       fedns_rrtype_to_text(type, tb));
		}

		/* RRs staged one after another in this order are already packed as a set */
		const uint8_t *rd = g[i].rd;
		for (size_t k = i + 1; k < w && rd != NULL; k++)
			if (g[k].rd != g[k - 1].rd + 2 + rd_len(g[k - 1].rd))
				rd = NULL;
		if (rd == NULL) {
			size_t total = 0;
			for (size_t k = i; k < w; k++)
				total += 2u + rd_len(g[k].rd);
			uint8_t *p = bpool_alloc(&z->extra, total);
			if (p == NULL)
				return FEDNS_ENOMEM;
			rd = p;
			for (size_t k = i; k < w; k++) {
				size_t l = 2u + rd_len(g[k].rd);
				memcpy(p, g[k].rd, l);
				p += l;
			}
		}

		fedns_rrset *s = &z->sets[z->nsets];
		s->owner = owner;
		s->type = type;
		s->rclass = z->rclass;
		s->ttl = ttl;
		s->count = (uint32_t)cnt;
		s->rdata = rd;
		f->locs[z->nsets].line = first.line;
		f->locs[z->nsets].file = first.file;
		if (nsets_here == f->nsetfirst) {
			size_t cap = f->nsetfirst ? f->nsetfirst * 2 : 16;
			srt *sf = realloc(f->setfirst, cap * sizeof(*sf));
			if (sf == NULL)
				return FEDNS_ENOMEM;
			f->setfirst = sf;
			f->nsetfirst = cap;
		}
		f->setfirst[nsets_here++] = first;
		z->nsets++;
		z->nrr += cnt;

		if (type == FEDNS_T_DS && apex) /* the parent holds it (RFC 4034 §5) */
			report(f, FEDNS_EZONE, first.file, first.line,
			       "DS record at the top of the zone (%s)", lz(&nb));
		if (type == FEDNS_T_SOA && !apex) {
			report(f, FEDNS_EZONE, first.file, first.line,
			       "SOA record not at the top of the zone (%s)", lz(&nb));
		}
		if (type == FEDNS_T_NS && !apex)
			f->ncuts++;
		if (type == FEDNS_T_DNAME)
			f->ndnames++;
		if (type == FEDNS_T_A || type == FEDNS_T_AAAA)
			fl |= OWN_ADDR;
		else if (type == FEDNS_T_CNAME)
			fl |= OWN_CNAME;
		else if (type == FEDNS_T_NS)
			fl |= OWN_NS;
		else if (type == FEDNS_T_DNAME)
			fl |= OWN_DNAME;
		if (apex && type == FEDNS_T_SOA)
			f->apex_soa = true;
		if (apex && type == FEDNS_T_NS)
			f->apex_ns = true;
		i = j;
	}

	/* the owner is far away in memory: one write, no read */
	z->owners[id].flags = fl;
	if (owner[0] == 1 && owner[1] == '*')
		f->nwild++;

	/* CNAME: alone at its name (RFC 1034 §3.6.2), never at the apex */
	if (!(fl & OWN_CNAME))
		return FEDNS_OK;
	size_t cn = 0;
	while (f->setfirst[cn].type != FEDNS_T_CNAME)
		cn++;
	const srt *c = &f->setfirst[cn];
	if (apex) {
		report(f, FEDNS_EZONE, c->file, c->line,
		       "CNAME at the zone apex %s (the apex holds SOA and NS)", lz(&nb));
		return FEDNS_OK;
	}
	const srt *other = NULL;
	for (size_t k = 0; k < nsets_here; k++)
		if (!cname_compatible(f->setfirst[k].type) &&
		    (other == NULL || f->setfirst[k].idx < other->idx))
			other = &f->setfirst[k];
	if (other != NULL) {
		/* blame the later of the two, where a reader meets the conflict */
		const srt *r = other->idx > c->idx ? other : c;
		report(f, FEDNS_EZONE, r->file, r->line, "CNAME and other data at %s", lz(&nb));
	}
	return FEDNS_OK;
}

/* Which types a name holds in a zone being finished (OWN_*); 0 if it has no data. */
static uint32_t
owner_flags(const fedns_zone *z, const uint8_t *name)
{
	uint32_t id = owner_lookup(z, name, owner_hash(name));
	return id == UINT32_MAX ? 0 : z->owners[id].flags;
}

/* Closest delegation point (non-apex NS owner) at or above in-zone 'name', or NULL. */
static const uint8_t *
find_cut(const fin *f, const uint8_t *name, size_t below)
{
	const uint8_t *cut = NULL;
	if (f->ncuts == 0)
		return NULL;
	for (size_t k = below; k > 0; k--) {
		/* from the top down so the highest cut wins: everything under it is occluded */
		const uint8_t *anc = fedns_name_skip_labels(name, k - 1);
		if (owner_flags(f->z, anc) & OWN_NS) {
			cut = anc;
			break;
		}
	}
	return cut;
}

/* Closest DNAME owner strictly above in-zone 'name' (the apex included), or NULL. */
static const uint8_t *
find_dname(const fin *f, const uint8_t *name, size_t below)
{
	if (f->ndnames == 0)
		return NULL;
	for (size_t k = 1; k <= below; k++) {
		const uint8_t *anc = fedns_name_skip_labels(name, k);
		if (owner_flags(f->z, anc) & OWN_DNAME)
			return anc;
	}
	return NULL;
}

/* One in-zone name that an NS, MX or SRV RR points at. */
typedef struct tgt {
	const uint8_t *t;
	uint32_t set;
	uint32_t h;
} tgt;

/* Integrity of a name that an NS, MX or SRV RR points at, as named-checkzone checks it:
 * for the apex NS set a problem is an error (the zone cannot be served), elsewhere a
 * warning. 'tf' holds the target's OWN_* flags. */
static void
check_target(fin *f, const tgt *tg, uint32_t tf)
{
	const fedns_zone *z = f->z;
	const fedns_rrset *s = &z->sets[tg->set];
	const sloc *loc = &f->locs[tg->set];
	const uint8_t *t = tg->t;
	bool apex = s->type == FEDNS_T_NS && s->owner == z->sets[0].owner &&
		    fedns_name_equal(s->owner, z->origin);
	fedns_err code = apex ? FEDNS_EZONE : FEDNS_OK;
	char ob[FEDNS_NAME_MAXTEXT], tb[FEDNS_NAME_MAXTEXT], xb[FEDNS_NAME_MAXTEXT], yb[16];

	size_t below = 0;
	if (f->ncuts != 0 || f->ndnames != 0)
		below = fedns_name_labels(t) - fedns_name_labels(z->origin);
	const uint8_t *cut = find_cut(f, t, below);
	const uint8_t *dn = s->type == FEDNS_T_NS ? find_dname(f, t, below) : NULL;
	bool has_addr = tf & OWN_ADDR, is_cname = tf & OWN_CNAME;
	const char *problem;
	fedns_err c = code;
	if (dn != NULL) {
		problem = "is below a DNAME";
	} else if (cut != NULL) {
		/* under a delegation only the delegation's own glue is required */
		if (s->type != FEDNS_T_NS || apex || has_addr)
			return;
		c = FEDNS_OK;
		problem = fedns_name_is_subdomain(t, s->owner)
				  ? "has no REQUIRED GLUE address records (A or AAAA)"
				  : "has no SIBLING GLUE address records (A or AAAA)";
	} else if (is_cname) {
		problem = "is a CNAME (illegal)";
	} else if (!has_addr) {
		problem = "has no address records (A or AAAA)";
	} else {
		return;
	}
	char prefix[FEDNS_NAME_MAXTEXT + 24];
	if (apex)
		snprintf(prefix, sizeof(prefix), "NS");
	else
		snprintf(prefix, sizeof(prefix), "%s/%s", ntext(s->owner, ob),
			 fedns_rrtype_to_text(s->type, yb));
	if (dn != NULL)
		report(f, c, loc->file, loc->line, "%s '%s' %s '%s' (illegal)", prefix,
		       ntext(t, tb), problem, ntext(dn, xb));
	else
		report(f, c, loc->file, loc->line, "%s '%s' %s", prefix, ntext(t, tb), problem);
}

/* True when 'name' owns data or is an empty non-terminal (some owner lies below it). */
static bool
name_exists(const fedns_zone *z, const uint8_t *name)
{
	if (owner_lookup(z, name, owner_hash(name)) != UINT32_MAX)
		return true;
	size_t lo = 0, hi = z->nsets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fedns_name_cmp_canonical(z->sets[mid].owner, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < z->nsets && fedns_name_is_subdomain(z->sets[lo].owner, name);
}

/* OWN_* flags a query for absent in-zone 'name' would find through a wildcard (RFC 4592
 * §3.3.1: the source of synthesis is '*' below the closest encloser), as BIND's integrity
 * check finds them. */
static uint32_t
wildcard_flags(const fin *f, const uint8_t *name)
{
	const fedns_zone *z = f->z;
	if (name_exists(z, name))
		return 0; /* an empty non-terminal: no synthesis */
	size_t below = fedns_name_labels(name) - fedns_name_labels(z->origin);
	for (size_t k = 1; k <= below; k++) {
		const uint8_t *anc = fedns_name_skip_labels(name, k);
		if (k < below && !name_exists(z, anc))
			continue;
		uint8_t wild[FEDNS_NAME_MAXLEN];
		size_t len = fedns_name_len(anc);
		if (len + 2 > FEDNS_NAME_MAXLEN)
			return 0;
		wild[0] = 1;
		wild[1] = '*';
		memcpy(wild + 2, anc, len);
		uint32_t id = owner_lookup(z, wild, owner_hash(wild));
		return id == UINT32_MAX ? 0 : z->owners[id].flags;
	}
	return 0;
}

/* Checks every NS/MX/SRV target. A million-record zone has hundreds of thousands of
 * targets, each a hash probe that misses the cache three times (slot, owner, name), so
 * the lookups are pipelined with prefetches some targets ahead. */
static fedns_err
check_targets(fin *f)
{
	const fedns_zone *z = f->z;
	tgt *tg = NULL;
	size_t nt = 0, cap = 0;

	for (size_t si = 0; si < z->nsets; si++) {
		const fedns_rrset *s = &z->sets[si];
		size_t off;
		/* rdata lies in file order, the sets in canonical order */
		if (si + 16 < z->nsets)
			__builtin_prefetch(z->sets[si + 16].rdata);
		if (s->type == FEDNS_T_NS)
			off = 0;
		else if (s->type == FEDNS_T_MX)
			off = 2;
		else if (s->type == FEDNS_T_SRV)
			off = 6;
		else
			continue;
		const uint8_t *pos = s->rdata;
		for (uint32_t i = 0; i < s->count; i++) {
			uint16_t len;
			const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
			if (len <= off || fedns_name_check(rd + off, len - off) == 0)
				continue;
			const uint8_t *t = rd + off;
			if (fedns_name_is_root(t) || !fedns_name_is_subdomain(t, z->origin))
				continue;
			if (nt == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				tgt *n = realloc(tg, ncap * sizeof(*n));
				if (n == NULL) {
					free(tg);
					return FEDNS_ENOMEM;
				}
				tg = n;
				cap = ncap;
			}
			tg[nt].t = t;
			tg[nt].set = (uint32_t)si;
			tg[nt].h = owner_hash(t);
			nt++;
		}
	}

	enum {
		AHEAD = 8
	};
	size_t mask = z->nslots - 1;
	for (size_t i = 0; i < nt + 2 * AHEAD; i++) {
		if (i < nt)
			__builtin_prefetch(&z->slots[tg[i].h & mask]);
		if (i >= AHEAD && i - AHEAD < nt) {
			/* the slot is near: prefetch the owner and its name for the first match */
			const tgt *x = &tg[i - AHEAD];
			for (size_t j = x->h & mask; z->slots[j] != 0; j = (j + 1) & mask) {
				if ((uint32_t)(z->slots[j] >> 32) == x->h) {
					const sowner *o = &z->owners[(uint32_t)z->slots[j] - 1];
					__builtin_prefetch(o);
					break;
				}
			}
		}
		if (i >= 2 * AHEAD) {
			const tgt *x = &tg[i - 2 * AHEAD];
			uint32_t id = owner_lookup(z, x->t, x->h);
			uint32_t tf = id != UINT32_MAX ? z->owners[id].flags : 0;
			if (id == UINT32_MAX && f->nwild != 0)
				tf = wildcard_flags(f, x->t);
			check_target(f, x, tf);
		}
	}
	free(tg);
	return FEDNS_OK;
}

/* Merges the runs of each name into its first run (alias[i] = that run) and leaves the
 * table of distinct owners in z->slots for the target checks. The probes are prefetched
 * some runs ahead: one at a time, each would wait for a cache miss. */
static fedns_err
merge_runs(fedns_zone *z, uint32_t *alias)
{
	size_t nrun = z->nowners, n = 1024;
	while (n < nrun * 2)
		n *= 2;
	uint32_t *hs = malloc((nrun ? nrun : 1) * sizeof(*hs));
	z->slots = calloc(n, sizeof(*z->slots));
	if (hs == NULL || z->slots == NULL) {
		free(hs);
		return FEDNS_ENOMEM;
	}
	z->nslots = n;
	for (size_t i = 0; i < nrun; i++)
		hs[i] = owner_hash_len(z->owners[i].name, z->owners[i].len);

	enum {
		AHEAD = 8
	};
	size_t mask = n - 1;
	for (size_t i = 0; i < nrun + AHEAD; i++) {
		if (i < nrun)
			__builtin_prefetch(&z->slots[hs[i] & mask]);
		if (i < AHEAD)
			continue;
		size_t k = i - AHEAD;
		sowner *o = &z->owners[k];
		uint32_t id = owner_lookup(z, o->name, hs[k]);
		if (id == UINT32_MAX) {
			size_t j = hs[k] & mask;
			while (z->slots[j] != 0)
				j = (j + 1) & mask;
			z->slots[j] = (uint64_t)hs[k] << 32 | ((uint64_t)k + 1);
			alias[k] = (uint32_t)k;
		} else {
			alias[k] = id;
			z->owners[id].n += o->n;
			o->n = 0;
		}
	}
	free(hs);
	return FEDNS_OK;
}

static fedns_err
finish_build(fin *f)
{
	fedns_zone *z = f->z;
	fedns_err err = FEDNS_OK;
	okey *keys = NULL, *tmp = NULL;
	uint32_t *rank = NULL, *start = NULL, *alias = NULL;
	struct byrank {
		const uint8_t *name;
		uint32_t id;
	} *byrank = NULL;
	srt *order = NULL;
	bpool kp;
	char nb[FEDNS_NAME_MAXTEXT], ob[FEDNS_NAME_MAXTEXT];
	uint8_t okeybuf[FEDNS_NAME_KEYMAX], kb[FEDNS_NAME_KEYMAX];

	bpool_init(&kp);
	size_t oklen = fedns_name_sortkey(z->origin, okeybuf);
	size_t nown = z->nowners;

	/* 0. one owner per name */
	alias = malloc((nown ? nown : 1) * sizeof(*alias));
	f->runstart = malloc((nown ? nown : 1) * sizeof(*f->runstart));
	if (alias == NULL || f->runstart == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	f->nruns = nown;
	uint32_t at = 0;
	for (size_t i = 0; i < nown; i++) {
		f->runstart[i] = at;
		at += z->owners[i].n;
	}
	err = merge_runs(z, alias);
	if (err != FEDNS_OK)
		goto out;

	/* 1. owners in canonical order: keys relative to the origin, radix-sorted */
	keys = malloc((nown ? nown : 1) * sizeof(*keys));
	rank = malloc((nown ? nown : 1) * sizeof(*rank));
	if (keys == NULL || rank == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	size_t nin = 0, nrec_in = 0;
	for (size_t i = 0; i < nown; i++) {
		const sowner *o = &z->owners[i];
		rank[i] = UINT32_MAX;
		if (o->n == 0)
			continue;
		size_t kl = fedns_name_sortkey(o->name, kb);
		/* a key extends the origin's key exactly when the name is at or below it */
		if (kl < oklen || memcmp(kb, okeybuf, oklen) != 0)
			continue;
		uint8_t *k = bpool_alloc(&kp, kl - oklen ? kl - oklen : 1);
		if (k == NULL) {
			err = FEDNS_ENOMEM;
			goto out;
		}
		memcpy(k, kb + oklen, kl - oklen);
		keys[nin].k = k;
		keys[nin].len = (uint32_t)(kl - oklen);
		keys[nin].id = (uint32_t)i;
		uint64_t head = 0;
		for (size_t b = 0; b < 8; b++)
			head = head << 8 | (b < kl - oklen ? kb[oklen + b] : 0);
		keys[nin].head = head;
		nin++;
		nrec_in += o->n;
	}
	/* the radix buffer is reused for byrank (smaller), already paged in */
	_Static_assert(sizeof(*byrank) <= sizeof(*tmp), "byrank fits in the radix buffer");
	tmp = malloc((nin + 1) * sizeof(*tmp));
	if (tmp == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	okey_radix(keys, tmp, nin, 0);
	byrank = (void *)tmp;
	tmp = NULL;
	bool has_apex = nin > 0 && keys[0].len == 0;
	start = malloc((nin + 1) * sizeof(*start));
	if (start == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	uint32_t sum = 0;
	for (size_t r = 0; r < nin; r++) {
		rank[keys[r].id] = (uint32_t)r;
		byrank[r].name = z->owners[keys[r].id].name;
		byrank[r].id = keys[r].id;
		start[r] = sum;
		sum += z->owners[keys[r].id].n;
	}
	start[nin] = sum;
	for (size_t i = 0; i < nown; i++)
		rank[i] = rank[alias[i]];
	free(alias);
	alias = NULL;
	fedns_arena_fini(&kp.a);

	/* 2. records grouped by owner rank (a counting sort); out-of-zone ones reported. The
	 * arrays grow out of freed ones: pages already touched cost no new page faults. */
	order = realloc(keys, (nrec_in ? nrec_in : 1) * sizeof(*order));
	if (order == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	keys = NULL;
	for (size_t i = 0; i < z->nrec; i++) {
		const srec *r = &z->recs[i];
		uint32_t rk = rank[r->owner];
		if (rk == UINT32_MAX) {
			report(f, FEDNS_EZONE, r->file, r->line, "%s: out of zone (origin %s)",
			       ntext(z->owners[r->owner].name, nb), ntext(z->origin, ob));
			continue;
		}
		srt *o = &order[start[rk]++];
		o->rd = r->rd;
		o->idx = (uint32_t)i;
		o->ttl = r->ttl;
		o->line = r->line;
		o->type = r->type;
		o->file = r->file;
	}
	/* start[r] now ends group r; the copies replace the staged records */
	free(rank);
	rank = NULL;
	z->sets = realloc(z->recs, (nrec_in ? nrec_in : 1) * sizeof(*z->sets));
	if (z->sets == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	z->recs = NULL;
	z->nrec = z->caprec = 0;

	/* 3. the immutable RRsets, built owner by owner */
	f->locs = malloc((nrec_in ? nrec_in : 1) * sizeof(*f->locs));
	if (f->locs == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	uint32_t from = 0, ahead = 0;
	for (size_t r = 0; r < nin; r++) {
		srt *g = order + from;
		size_t n = start[r] - from;
		from = start[r];
		/* rdata lies in file order: fetch it a few groups before it is compared */
		for (; ahead < nrec_in && ahead < from + 16; ahead++)
			__builtin_prefetch(order[ahead].rd);
		err = sort_group(f, g, n);
		if (err == FEDNS_OK)
			err = build_owner(f, g, n, byrank[r].name, byrank[r].id,
					  has_apex && r == 0);
		if (err != FEDNS_OK)
			goto out;
	}
	free(order);
	order = NULL;
	free(start);
	start = NULL;
	free(byrank);
	byrank = NULL;

	/* 4. rules that span names */
	err = check_targets(f);
	if (err != FEDNS_OK)
		goto out;
	uint16_t file0 = z->nsources > 1 ? 1 : 0;
	if (!f->apex_soa)
		report(f, FEDNS_EZONE, file0, 0, "%s: no SOA record at the zone apex",
		       ntext(z->origin, nb));
	if (!f->apex_ns)
		report(f, FEDNS_EZONE, file0, 0, "%s: no NS records at the zone apex",
		       ntext(z->origin, nb));
	if (f->apex_soa) {
		const fedns_rrset *soa = &z->sets[0];
		if (soa->type != FEDNS_T_SOA) {
			for (size_t i = 0; i < z->nsets && z->sets[i].owner == z->sets[0].owner;
			     i++)
				if (z->sets[i].type == FEDNS_T_SOA)
					soa = &z->sets[i];
		}
		z->serial = fedns_soa_serial(soa->rdata + 2, rd_len(soa->rdata));
	}

	/* a finished zone keeps only what lookups need */
	if (z->nsets > 0 && z->nsets < nrec_in) {
		fedns_rrset *s = realloc(z->sets, z->nsets * sizeof(*s));
		if (s != NULL)
			z->sets = s;
	}
out:
	free(alias);
	free(order);
	free(byrank);
	free(start);
	free(rank);
	free(tmp);
	free(keys);
	fedns_arena_fini(&kp.a);
	return err;
}

fedns_err
fedns_zone_finish(fedns_zone *z, fedns_diag_fn report_fn, void *ctx)
{
	if (z == NULL || z->state != ZONE_BUILDING)
		return FEDNS_EINVAL;
	fin f;
	memset(&f, 0, sizeof(f));
	f.z = z;
	f.fn = report_fn;
	f.ctx = ctx;
	fedns_err err = finish_build(&f);
	free(f.locs);
	free(f.scratch);
	free(f.setfirst);
	free(f.ttlsort);
	free(f.runstart);
	free_staging(z);
	if (err == FEDNS_OK && f.errors > 0)
		err = FEDNS_EZONE;
	if (err != FEDNS_OK) {
		z->state = ZONE_FAILED;
		free(z->sets);
		z->sets = NULL;
		z->nsets = z->nrr = 0;
		return err;
	}
	z->state = ZONE_FINISHED;
	return FEDNS_OK;
}

/* ---- reading a finished zone ---------------------------------------------------------- */

const uint8_t *
fedns_zone_origin(const fedns_zone *z)
{
	return z->origin;
}

uint16_t
fedns_zone_class(const fedns_zone *z)
{
	return z->rclass;
}

uint32_t
fedns_zone_serial(const fedns_zone *z)
{
	return z->state == ZONE_FINISHED ? z->serial : 0;
}

bool
fedns_zone_soa(const fedns_zone *z, fedns_rr *out)
{
	if (z->state != ZONE_FINISHED)
		return false;
	const fedns_rrset *set = fedns_zone_find(z, z->origin, FEDNS_T_SOA);
	if (set == NULL || set->count == 0)
		return false;
	const uint8_t *pos = set->rdata;
	uint16_t len;
	out->rdata = fedns_rrset_next_rdata(&pos, &len);
	out->rdlen = len;
	out->owner = set->owner;
	out->type = FEDNS_T_SOA;
	out->rclass = set->rclass;
	out->ttl = set->ttl;
	return true;
}

size_t
fedns_zone_rrset_count(const fedns_zone *z)
{
	return z->state == ZONE_FINISHED ? z->nsets : 0;
}

size_t
fedns_zone_rr_count(const fedns_zone *z)
{
	return z->state == ZONE_FINISHED ? z->nrr : z->nrec;
}

size_t
fedns_zone_memory(const fedns_zone *z)
{
	if (z == NULL)
		return 0;
	size_t m = sizeof(*z) + z->names.a.used + z->rdata.a.used + z->extra.a.used;
	m += z->nsets * sizeof(*z->sets);
	m += z->caprec * sizeof(*z->recs) + z->capowners * sizeof(*z->owners);
	m += z->nslots * sizeof(*z->slots);
	for (size_t i = 1; i < z->nsources; i++)
		m += strlen(z->sources[i]) + 1 + sizeof(char *);
	return m;
}

const fedns_rrset *
fedns_zone_find(const fedns_zone *z, const uint8_t *owner, uint16_t type)
{
	if (z == NULL || owner == NULL || z->state != ZONE_FINISHED)
		return NULL;
	/* lower bound: RRSIG may have several sets (one per covered type); give the first */
	size_t lo = 0, hi = z->nsets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const fedns_rrset *s = &z->sets[mid];
		int c = fedns_name_cmp_canonical(s->owner, owner);
		if (c == 0)
			c = (s->type > type) - (s->type < type);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == z->nsets || z->sets[lo].type != type ||
	    !fedns_name_equal(z->sets[lo].owner, owner))
		return NULL;
	return &z->sets[lo];
}

bool
fedns_zone_contains(const fedns_zone *z, const fedns_rr *rr)
{
	if (rr == NULL || (rr->rdlen != 0 && rr->rdata == NULL))
		return false;
	const fedns_rrset *s = fedns_zone_find(z, rr->owner, rr->type);
	if (s == NULL || rr->rclass != s->rclass)
		return false;
	const fedns_rrset *end = z->sets + z->nsets;
	const uint8_t *owner = s->owner;
	for (; s < end && s->type == rr->type && s->owner == owner; s++) {
		const uint8_t *pos = s->rdata;
		for (uint32_t i = 0; i < s->count; i++) {
			uint16_t len;
			const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
			int c = fedns_rdata_cmp(s->type, rd, len, rr->rdata, rr->rdlen);
			if (c == 0)
				return true;
			if (c > 0)
				return false; /* rdatas are sorted, across the sets too */
		}
	}
	return false;
}

void
fedns_zone_iter_init(fedns_zone_iter *it, const fedns_zone *z)
{
	it->z = z;
	it->pos = 0;
}

const fedns_rrset *
fedns_zone_iter_next(fedns_zone_iter *it)
{
	const fedns_zone *z = it->z;
	if (z == NULL || z->state != ZONE_FINISHED || it->pos >= z->nsets)
		return NULL;
	return &z->sets[it->pos++];
}

int
fedns_zone_walk(const fedns_zone *z, fedns_zone_rr_fn fn, void *ctx)
{
	if (z == NULL || fn == NULL || z->state != ZONE_FINISHED)
		return 0;
	for (size_t i = 0; i < z->nsets; i++) {
		const fedns_rrset *s = &z->sets[i];
		const uint8_t *pos = s->rdata;
		fedns_rr rr = {
			.owner = s->owner, .type = s->type, .rclass = s->rclass, .ttl = s->ttl};
		for (uint32_t k = 0; k < s->count; k++) {
			rr.rdata = fedns_rrset_next_rdata(&pos, &rr.rdlen);
			int rc = fn(ctx, &rr);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}
