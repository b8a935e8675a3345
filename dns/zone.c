/* SPDX-License-Identifier: Apache-2.0 */
/* Zone model: stages RRs cheaply, then sorts, folds, checks and freezes them in one pass. */
#include "dns/zone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/sha2.h"
#include "dns/name.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

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
	size_t ndnames; /* DNAME RRsets, for fedns_zone_derive's checks */

	/* copy-on-write form (fedns_zone_share, fedns_zone_derive): the RRsets live in
	 * segments shared between versions; 'sets' is then NULL */
	struct zseg **segs;
	size_t nseg;
	struct zmem *mem; /* the flat build's memory, once shared */
	/* ZONEMD cache (fedns_zone_zonemd) */
	uint8_t md[FEDNS_SHA384_LEN];
	bool md_done;
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

static void cow_fini(fedns_zone *z);

void
fedns_zone_free(fedns_zone *z)
{
	if (z == NULL)
		return;
	cow_fini(z);
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
	z->ndnames = f.ndnames;
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

/* ---- copy-on-write versions ------------------------------------------------------------ *
 *
 * A shared zone keeps its RRsets in segments: runs of about SEG_TARGET RRsets in canonical
 * order that never split an owner's RRsets (so fedns_zone_find's "the owner's RRSIG sets
 * are adjacent" holds). Segments are immutable and refcounted; a derived version points at
 * its base's segments and builds new ones only where the diff lands. A segment's RRsets
 * point into memory blocks (zmem) it holds references on: the flat build's pools, or the
 * small block a derive wrote new names and rdata into. A segment rebuilt many times would
 * collect blocks, so past SEG_MAX_DEPS it copies what it uses into the new block. */

#define SEG_TARGET 64
#define SEG_MAX (4 * SEG_TARGET)
#define SEG_MAX_DEPS 8

typedef struct zmem {
	unsigned refs;
	bpool pool[3];	   /* a flat build's names, rdata and extra pools */
	fedns_arena small; /* a derive's new names and rdata */
	fedns_rrset *sets; /* a flat build's RRset array */
} zmem;

/* A cache made from a segment's RRsets: computed by whichever thread needs it first and
 * published with one compare-and-swap, immutable afterwards. */
typedef struct zblob {
	size_t len;
	uint8_t data[];
} zblob;

typedef struct zseg {
	unsigned refs;
	uint32_t n;
	const fedns_rrset *sets;
	fedns_rrset *own; /* the array 'sets' is, when the segment owns it */
	zmem *deps[SEG_MAX_DEPS];
	uint32_t ndeps;
	zblob *canon; /* the RRsets in ZONEMD form (fedns_zone_zonemd) */
	zblob *text; /* the RRsets as master-file lines, apex SOA left out (fedns_zone_print_shared) */
} zseg;

static void
zmem_hold(zmem *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
}

static void
zmem_rele(zmem *m)
{
	if (m == NULL || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (int k = 0; k < 3; k++)
		fedns_arena_fini(&m->pool[k].a);
	fedns_arena_fini(&m->small);
	free(m->sets);
	free(m);
}

static void
seg_hold(zseg *g)
{
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
}

static void
seg_rele(zseg *g)
{
	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (uint32_t i = 0; i < g->ndeps; i++)
		zmem_rele(g->deps[i]);
	free(g->own);
	free(g->canon);
	free(g->text);
	free(g);
}

static void
cow_fini(fedns_zone *z)
{
	for (size_t i = 0; i < z->nseg; i++)
		seg_rele(z->segs[i]);
	free(z->segs);
	z->segs = NULL;
	z->nseg = 0;
	zmem_rele(z->mem);
	z->mem = NULL;
}

/* (owner, type) order of RRsets; RRSIG sets of one owner compare equal. */
static int
set_key_cmp(const fedns_rrset *s, const uint8_t *owner, uint16_t type)
{
	int c = fedns_name_cmp_canonical(s->owner, owner);
	if (c == 0)
		c = (s->type > type) - (s->type < type);
	return c;
}

/* Lower bound of (owner, type) in a segmented zone: segment *si and offset *off of the
 * first RRset not before it; *si == z->nseg when every RRset is before it. */
static void
seg_lower(const fedns_zone *z, const uint8_t *owner, uint16_t type, size_t *si, size_t *off)
{
	size_t lo = 0, hi = z->nseg;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const zseg *g = z->segs[mid];
		if (set_key_cmp(&g->sets[g->n - 1], owner, type) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*si = lo;
	*off = 0;
	if (lo == z->nseg)
		return;
	const zseg *g = z->segs[lo];
	size_t a = 0, b = g->n;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (set_key_cmp(&g->sets[mid], owner, type) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*off = a;
}

/* ---- reading a finished zone (flat or segmented) ---------------------------------------- */

size_t
fedns_zone_memory(const fedns_zone *z)
{
	if (z == NULL)
		return 0;
	size_t m = sizeof(*z) + z->names.a.used + z->rdata.a.used + z->extra.a.used;
	m += z->sets != NULL ? z->nsets * sizeof(*z->sets) : 0;
	m += z->caprec * sizeof(*z->recs) + z->capowners * sizeof(*z->owners);
	m += z->nslots * sizeof(*z->slots);
	for (size_t i = 1; i < z->nsources; i++)
		m += strlen(z->sources[i]) + 1 + sizeof(char *);
	/* a segmented zone: what it holds itself (segments are shared with other versions) */
	if (z->mem != NULL) {
		for (int k = 0; k < 3; k++)
			m += z->mem->pool[k].a.used;
		m += z->nsets * sizeof(fedns_rrset);
	}
	m += z->nseg * sizeof(zseg *);
	for (size_t i = 0; i < z->nseg; i++) {
		const zseg *g = z->segs[i];
		const zblob *c = __atomic_load_n(&g->canon, __ATOMIC_ACQUIRE);
		const zblob *t = __atomic_load_n(&g->text, __ATOMIC_ACQUIRE);
		m += (c != NULL ? c->len : 0) + (t != NULL ? t->len : 0);
		m += g->own != NULL ? g->n * sizeof(fedns_rrset) : 0;
	}
	return m;
}

const fedns_rrset *
fedns_zone_find(const fedns_zone *z, const uint8_t *owner, uint16_t type)
{
	if (z == NULL || owner == NULL || z->state != ZONE_FINISHED)
		return NULL;
	if (z->segs != NULL) {
		size_t si, off;
		seg_lower(z, owner, type, &si, &off);
		if (si == z->nseg)
			return NULL;
		const fedns_rrset *s = &z->segs[si]->sets[off];
		if (s->type != type || !fedns_name_equal(s->owner, owner))
			return NULL;
		return s;
	}
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

/* The end of the array the set 's' (from fedns_zone_find) lies in. */
static const fedns_rrset *
array_end(const fedns_zone *z, const fedns_rrset *s)
{
	if (z->segs == NULL)
		return z->sets + z->nsets;
	size_t si, off;
	seg_lower(z, s->owner, s->type, &si, &off);
	return z->segs[si]->sets + z->segs[si]->n;
}

const fedns_rrset *
fedns_zone_find_rrsig(const fedns_zone *z, const uint8_t *owner, uint16_t covered)
{
	const fedns_rrset *s = fedns_zone_find(z, owner, FEDNS_T_RRSIG);
	if (s == NULL)
		return NULL;
	const fedns_rrset *end = array_end(z, s);
	const uint8_t *own = s->owner;
	for (; s < end && s->type == FEDNS_T_RRSIG && s->owner == own; s++) {
		if (s->count == 0)
			continue;
		uint16_t len;
		const uint8_t *pos = s->rdata;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
		if (len >= 2 && (uint16_t)((rd[0] << 8) | rd[1]) == covered)
			return s;
	}
	return NULL;
}

bool
fedns_zone_contains(const fedns_zone *z, const fedns_rr *rr)
{
	if (rr == NULL || (rr->rdlen != 0 && rr->rdata == NULL))
		return false;
	const fedns_rrset *s = fedns_zone_find(z, rr->owner, rr->type);
	if (s == NULL || rr->rclass != s->rclass)
		return false;
	const fedns_rrset *end = array_end(z, s);
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
	if (z == NULL || z->state != ZONE_FINISHED)
		return NULL;
	if (z->segs != NULL) {
		/* pos: segment in the high 32 bits, offset in the low */
		size_t si = it->pos >> 32, off = it->pos & 0xffffffffu;
		while (si < z->nseg && off >= z->segs[si]->n) {
			si++;
			off = 0;
		}
		if (si >= z->nseg) {
			it->pos = (size_t)z->nseg << 32;
			return NULL;
		}
		it->pos = si << 32 | (off + 1);
		return &z->segs[si]->sets[off];
	}
	if (it->pos >= z->nsets)
		return NULL;
	return &z->sets[it->pos++];
}

static int
walk_sets(const fedns_rrset *sets, size_t n, fedns_zone_rr_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const fedns_rrset *s = &sets[i];
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

int
fedns_zone_walk(const fedns_zone *z, fedns_zone_rr_fn fn, void *ctx)
{
	if (z == NULL || fn == NULL || z->state != ZONE_FINISHED)
		return 0;
	if (z->segs == NULL)
		return walk_sets(z->sets, z->nsets, fn, ctx);
	for (size_t i = 0; i < z->nseg; i++) {
		int rc = walk_sets(z->segs[i]->sets, z->segs[i]->n, fn, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- sharing and deriving ---- */

fedns_err
fedns_zone_share(fedns_zone *z)
{
	if (z == NULL || z->state != ZONE_FINISHED)
		return FEDNS_EINVAL;
	if (z->segs != NULL)
		return FEDNS_OK;
	size_t cap = z->nsets / SEG_TARGET + 2, n = 0;
	zseg **segs = calloc(cap, sizeof(*segs));
	zmem *m = calloc(1, sizeof(*m));
	if (segs == NULL || m == NULL)
		goto nomem;
	m->refs = 1;
	for (size_t i = 0; i < z->nsets;) {
		size_t j = i + 1;
		/* cut after SEG_TARGET sets, at the next owner boundary */
		while (j < z->nsets &&
		       (j - i < SEG_TARGET || z->sets[j].owner == z->sets[j - 1].owner))
			j++;
		if (n == cap) {
			zseg **ns = realloc(segs, 2 * cap * sizeof(*segs));
			if (ns == NULL)
				goto nomem;
			segs = ns;
			cap *= 2;
		}
		zseg *g = calloc(1, sizeof(*g));
		if (g == NULL)
			goto nomem;
		g->refs = 1;
		g->sets = &z->sets[i];
		g->n = (uint32_t)(j - i);
		g->deps[0] = m;
		g->ndeps = 1;
		zmem_hold(m);
		segs[n++] = g;
		i = j;
	}
	/* the zone's memory moves into the shared block */
	m->pool[0] = z->names;
	m->pool[1] = z->rdata;
	m->pool[2] = z->extra;
	m->sets = z->sets;
	bpool_init(&z->names);
	bpool_init(&z->rdata);
	bpool_init(&z->extra);
	z->sets = NULL;
	z->segs = segs;
	z->nseg = n;
	z->mem = m;
	return FEDNS_OK;
nomem:
	for (size_t i = 0; i < n; i++) {
		segs[i]->ndeps = 0; /* m is freed below */
		seg_rele(segs[i]);
	}
	free(segs);
	free(m);
	return FEDNS_ENOMEM;
}

/* One deletion or addition of a diff (the SOAs aside), sorted by owner, type, rdata. */
typedef struct chg {
	const fedns_rr *rr;
	uint32_t idx; /* position in its list */
	uint32_t run; /* additions: owner run in diff order, as fedns_zone_add counts them */
	bool add;
} chg;

static int
chg_cmp(const void *va, const void *vb)
{
	const chg *a = va, *b = vb;
	int c = fedns_name_cmp_canonical(a->rr->owner, b->rr->owner);
	if (c != 0)
		return c;
	if (a->rr->type != b->rr->type)
		return a->rr->type < b->rr->type ? -1 : 1;
	c = fedns_rdata_cmp(a->rr->type, a->rr->rdata, a->rr->rdlen, b->rr->rdata, b->rr->rdlen);
	if (c != 0)
		return c;
	if (a->add != b->add)
		return a->add ? 1 : -1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Growable arrays of a derive. */
typedef struct drv {
	const fedns_zone *base;
	zmem *m;
	fedns_rrset *sets; /* new RRsets of touched owners */
	size_t nsets, capsets;
	struct touched {
		size_t seg;	   /* base segment it lands in */
		size_t off, nbase; /* base RRsets it replaces there */
		size_t first, n;   /* its new RRsets in sets[] */
	} * t;
	size_t nt, capt;
	const uint8_t **rds; /* merge scratch: rdata pointers (with their 2-byte length) */
	size_t caprds;
	long dsets, drr;
} drv;

static fedns_err
grow_to(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return FEDNS_OK;
	size_t nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	void *p = realloc(*v, nc * elem);
	if (p == NULL)
		return FEDNS_ENOMEM;
	*v = p;
	*cap = nc;
	return FEDNS_OK;
}

static uint32_t
clamp_add_ttl(uint32_t ttl)
{
	return ttl > ZONE_MAX_TTL ? 0 : ttl;
}

/* The new RRset of (owner, type) from base set b (may be NULL) and the sorted changes
 * c[0..n) of that type. FEDNS_ENOTSUP when a deletion is missing or an addition exists
 * already (fedns_diff_apply then reports it). *out->count == 0 means the set goes. */
static fedns_err
merge_set(drv *x, const fedns_rrset *b, const chg *c, size_t n, const uint8_t *owner,
	  fedns_rrset *out)
{
	uint16_t type = c[0].rr->type;
	size_t bcount = b != NULL ? b->count : 0;
	if (grow_to((void **)&x->rds, &x->caprds, bcount + n, sizeof(*x->rds)) != FEDNS_OK)
		return FEDNS_ENOMEM;
	/* survivors of b: both lists are in canonical rdata order */
	const uint8_t **r = x->rds;
	size_t nr = 0, k = 0;
	const uint8_t *pos = b != NULL ? b->rdata : NULL;
	for (size_t i = 0; i < bcount; i++) {
		const uint8_t *p = pos;
		uint16_t len;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
		bool deleted = false;
		/* a deletion sorts before an addition of equal rdata */
		while (k < n) {
			int cmp = fedns_rdata_cmp(type, c[k].rr->rdata, c[k].rr->rdlen, rd, len);
			if (cmp > 0)
				break;
			if (cmp < 0) {
				if (!c[k].add)
					return FEDNS_ENOTSUP; /* deletes a record the set lacks */
			} else if (!c[k].add) {
				deleted = true;
			} else if (!deleted) {
				return FEDNS_ENOTSUP; /* the record is already in the zone */
			}
			k++;
		}
		if (!deleted)
			r[nr++] = p;
	}
	for (; k < n; k++)
		if (!c[k].add)
			return FEDNS_ENOTSUP;
	/* merge survivors and additions in canonical rdata order */
	size_t nadd = 0, last_run = 0, ttl_idx = 0;
	uint32_t ttl = b != NULL ? b->ttl : 0;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].add)
			continue;
		/* BIND's loader rule as finish applies it: the set takes the TTL of its first
		 * RR (in diff order) in the last owner run that adds to it */
		if (nadd == 0 || c[i].run > last_run ||
		    (c[i].run == last_run && c[i].idx < ttl_idx)) {
			last_run = c[i].run;
			ttl_idx = c[i].idx;
			ttl = clamp_add_ttl(c[i].rr->ttl);
		}
		nadd++;
	}
	size_t total = nr + nadd;
	out->owner = owner;
	out->type = type;
	out->rclass = x->base->rclass;
	out->ttl = ttl;
	out->count = (uint32_t)total;
	out->rdata = NULL;
	if (total == 0)
		return FEDNS_OK;
	size_t bytes = 0;
	for (size_t i = 0; i < nr; i++)
		bytes += 2u + rd_len(r[i]);
	for (size_t i = 0; i < n; i++)
		if (c[i].add)
			bytes += 2u + c[i].rr->rdlen;
	uint8_t *w = fedns_arena_alloc(&x->m->small, bytes);
	if (w == NULL)
		return FEDNS_ENOMEM;
	out->rdata = w;
	size_t a = 0, j = 0;
	while (a < nr || j < n) {
		while (j < n && !c[j].add)
			j++;
		bool take_add;
		if (j >= n && a >= nr)
			break;
		if (j >= n)
			take_add = false;
		else if (a >= nr)
			take_add = true;
		else
			take_add = fedns_rdata_cmp(type, c[j].rr->rdata, c[j].rr->rdlen, r[a] + 2,
						   rd_len(r[a])) < 0;
		if (take_add) {
			const fedns_rr *rr = c[j++].rr;
			w[0] = (uint8_t)(rr->rdlen >> 8);
			w[1] = (uint8_t)rr->rdlen;
			if (rr->rdlen != 0)
				memcpy(w + 2, rr->rdata, rr->rdlen);
			w += 2u + rr->rdlen;
		} else {
			size_t l = 2u + rd_len(r[a]);
			memcpy(w, r[a++], l);
			w += l;
		}
	}
	return FEDNS_OK;
}

static bool
cname_ok_beside(uint16_t type)
{
	return cname_compatible(type) && type != FEDNS_T_CNAME;
}

/* Builds the RRsets of one touched owner: base's (in segment 'si' from 'off', 'nbase' of
 * them) with the changes c[0..n) applied, plus the new SOA at the apex. */
static fedns_err
touch_owner(drv *x, const chg *c, size_t n, size_t si, size_t off, size_t nbase, bool apex,
	    const fedns_rr *nsoa)
{
	const fedns_zone *base = x->base;
	const fedns_rrset *bs = nbase ? &base->segs[si]->sets[off] : NULL;
	const uint8_t *owner = nbase ? bs[0].owner : NULL;
	size_t first = x->nsets;
	size_t cap_need = x->nsets + nbase + n + 1;
	if (grow_to((void **)&x->sets, &x->capsets, cap_need, sizeof(*x->sets)) != FEDNS_OK)
		return FEDNS_ENOMEM;

	/* the owner's spelling: base's while any of its records stays, else the first
	 * addition's in diff order (finish keeps the first run's spelling) */
	bool base_stays = apex;
	size_t rr_before = 0;
	for (size_t i = 0; i < nbase; i++)
		rr_before += bs[i].count;

	size_t bi = 0, ci = 0;
	while (bi < nbase || ci < n) {
		uint16_t t;
		if (bi < nbase && (ci >= n || bs[bi].type <= c[ci].rr->type))
			t = bs[bi].type;
		else
			t = c[ci].rr->type;
		size_t cj = ci;
		while (cj < n && c[cj].rr->type == t)
			cj++;
		if (cj == ci) {
			/* untouched base set (RRSIG sets included: the diff has none) */
			if (!(apex && t == FEDNS_T_SOA)) {
				x->sets[x->nsets++] = bs[bi];
				base_stays = true;
			}
			bi++;
			continue;
		}
		const fedns_rrset *b = NULL;
		if (bi < nbase && bs[bi].type == t)
			b = &bs[bi++];
		fedns_rrset ns;
		fedns_err err = merge_set(x, b, c + ci, cj - ci, owner, &ns);
		if (err != FEDNS_OK)
			return err;
		if (ns.count != 0) {
			x->sets[x->nsets++] = ns;
			if (b != NULL && ns.count > 0) {
				/* does any record of b survive? */
				size_t dels = 0;
				for (size_t k = ci; k < cj; k++)
					dels += !c[k].add;
				if (b->count > dels)
					base_stays = true;
			}
		}
		ci = cj;
	}
	if (apex) {
		/* the SOA set: the diff's new SOA, in type order */
		fedns_rrset soa = {.owner = owner,
				   .type = FEDNS_T_SOA,
				   .rclass = base->rclass,
				   .ttl = clamp_add_ttl(nsoa->ttl),
				   .count = 1};
		uint8_t *w = fedns_arena_alloc(&x->m->small, 2u + nsoa->rdlen);
		if (w == NULL)
			return FEDNS_ENOMEM;
		w[0] = (uint8_t)(nsoa->rdlen >> 8);
		w[1] = (uint8_t)nsoa->rdlen;
		memcpy(w + 2, nsoa->rdata, nsoa->rdlen);
		soa.rdata = w;
		size_t at = first;
		while (at < x->nsets && x->sets[at].type < FEDNS_T_SOA)
			at++;
		memmove(&x->sets[at + 1], &x->sets[at], (x->nsets - at) * sizeof(*x->sets));
		x->sets[at] = soa;
		x->nsets++;
	}
	size_t nnew = x->nsets - first;
	if (!base_stays && nnew > 0) {
		/* a new spelling: the first addition in diff order */
		const fedns_rr *fa = NULL;
		uint32_t best = UINT32_MAX;
		for (size_t k = 0; k < n; k++)
			if (c[k].add && c[k].idx < best) {
				best = c[k].idx;
				fa = c[k].rr;
			}
		size_t len = fedns_name_len(fa->owner);
		uint8_t *name = fedns_arena_alloc(&x->m->small, len);
		if (name == NULL)
			return FEDNS_ENOMEM;
		memcpy(name, fa->owner, len);
		owner = name;
	}
	size_t rr_after = 0;
	bool cname = false, other = false;
	size_t ncname = 0;
	for (size_t i = first; i < x->nsets; i++) {
		x->sets[i].owner = owner;
		rr_after += x->sets[i].count;
		if (x->sets[i].type == FEDNS_T_CNAME) {
			cname = true;
			ncname += x->sets[i].count;
		} else if (!cname_ok_beside(x->sets[i].type)) {
			other = true;
		}
	}
	/* CNAME alone at its name and never at the apex: the full check words the refusal */
	if (cname && (apex || other || ncname > 1))
		return FEDNS_ENOTSUP;
	x->dsets += (long)nnew - (long)nbase;
	x->drr += (long)rr_after - (long)rr_before;

	if (grow_to((void **)&x->t, &x->capt, x->nt + 1, sizeof(*x->t)) != FEDNS_OK)
		return FEDNS_ENOMEM;
	struct touched *tt = &x->t[x->nt++];
	tt->seg = si;
	tt->off = off;
	tt->nbase = nbase;
	tt->first = first;
	tt->n = nnew;
	return FEDNS_OK;
}

/* Checks the diff's shape as fedns_diff_apply does; anything it would refuse, or that the
 * derive does not handle, is FEDNS_ENOTSUP. */
static fedns_err
derive_shape(const fedns_zone *base, const fedns_rr *del, size_t ndel, const fedns_rr *add,
	     size_t nadd)
{
	const uint8_t *origin = base->origin;
	if (ndel == 0 || nadd == 0 || del[0].type != FEDNS_T_SOA || add[0].type != FEDNS_T_SOA)
		return FEDNS_ENOTSUP;
	const fedns_rrset *soa = fedns_zone_find(base, origin, FEDNS_T_SOA);
	if (soa == NULL || soa->count != 1 || !fedns_name_equal(del[0].owner, origin))
		return FEDNS_ENOTSUP;
	/* the new SOA names the apex as the zone spells it (finish keeps the first spelling) */
	size_t olen = fedns_name_len(soa->owner);
	if (fedns_name_len(add[0].owner) != olen || memcmp(add[0].owner, soa->owner, olen) != 0)
		return FEDNS_ENOTSUP;
	if (fedns_rdata_cmp(FEDNS_T_SOA, soa->rdata + 2, rd_len(soa->rdata), del[0].rdata,
			    del[0].rdlen) != 0)
		return FEDNS_ENOTSUP;
	if (fedns_rdata_check(FEDNS_T_SOA, add[0].rdata, add[0].rdlen) != FEDNS_OK)
		return FEDNS_ENOTSUP;
	for (size_t i = 0; i < ndel + nadd; i++) {
		bool isdel = i < ndel;
		const fedns_rr *rr = isdel ? &del[i] : &add[i - ndel];
		if (rr->rclass != base->rclass || rr->owner == NULL ||
		    (rr->rdlen != 0 && rr->rdata == NULL) ||
		    !fedns_name_is_subdomain(rr->owner, origin))
			return FEDNS_ENOTSUP;
		if (i == 0 || i == ndel)
			continue;
		uint16_t t = rr->type;
		/* delegations, DNAMEs and signatures change what other names mean, or how
		 * sets split: the full check handles those */
		if (t == FEDNS_T_SOA || t == FEDNS_T_NS || t == FEDNS_T_DNAME || t == FEDNS_T_RRSIG)
			return FEDNS_ENOTSUP;
		if (!isdel && (t == 0 || fedns_rrtype_is_meta(t) ||
			       fedns_rdata_check(t, rr->rdata, rr->rdlen) != FEDNS_OK))
			return FEDNS_ENOTSUP;
		if (!isdel && t == FEDNS_T_DS && fedns_name_equal(rr->owner, origin))
			return FEDNS_ENOTSUP;
	}
	return FEDNS_OK;
}

/* The apex NS targets inside the zone still have an address and are no CNAME (the one
 * target rule that is an error). Conservative: anything unusual goes to the full check. */
static bool
apex_targets_ok(const fedns_zone *z)
{
	const fedns_rrset *ns = fedns_zone_find(z, z->origin, FEDNS_T_NS);
	if (ns == NULL)
		return false;
	const uint8_t *pos = ns->rdata;
	for (uint32_t i = 0; i < ns->count; i++) {
		uint16_t len;
		const uint8_t *t = fedns_rrset_next_rdata(&pos, &len);
		if (fedns_name_check(t, len) == 0 || fedns_name_is_root(t) ||
		    !fedns_name_is_subdomain(t, z->origin))
			continue;
		if (z->ndnames != 0 || fedns_zone_find(z, t, FEDNS_T_CNAME) != NULL)
			return false;
		if (fedns_zone_find(z, t, FEDNS_T_A) == NULL &&
		    fedns_zone_find(z, t, FEDNS_T_AAAA) == NULL)
			return false;
	}
	return true;
}

/* The owner of the last base record fedns_diff_apply would stage before the additions:
 * the last RRset (canonical order) that keeps a record, or the apex (its new SOA). */
static const uint8_t *
last_staged_owner(const fedns_zone *base, const chg *c, size_t nc)
{
	for (size_t si = base->nseg; si-- > 0;) {
		const zseg *g = base->segs[si];
		for (size_t k = g->n; k-- > 0;) {
			const fedns_rrset *s = &g->sets[k];
			if (s->type == FEDNS_T_SOA)
				continue;
			size_t dels = 0;
			for (size_t i = 0; i < nc; i++)
				if (!c[i].add && c[i].rr->type == s->type &&
				    fedns_name_equal(c[i].rr->owner, s->owner))
					dels++;
			if (dels < s->count)
				return s->owner;
		}
	}
	return base->origin;
}

static void
drv_fini(drv *x)
{
	zmem_rele(x->m);
	free(x->sets);
	free(x->t);
	free(x->rds);
}

/* Makes the new segment(s) for base segment 'si' with the touched owners t[a..b). */
static fedns_err
rebuild_seg(drv *x, size_t si, size_t a, size_t b, zseg ***out, size_t *nout, size_t *capout)
{
	const zseg *g = x->base->segs[si];
	size_t n = g->n;
	for (size_t k = a; k < b; k++)
		n = n - x->t[k].nbase + x->t[k].n;
	if (n == 0)
		return FEDNS_OK; /* every RRset of it went */
	fedns_rrset *all = malloc(n * sizeof(*all));
	if (all == NULL)
		return FEDNS_ENOMEM;
	size_t w = 0, at = 0;
	for (size_t k = a; k < b; k++) {
		const struct touched *t = &x->t[k];
		memcpy(all + w, g->sets + at, (t->off - at) * sizeof(*all));
		w += t->off - at;
		memcpy(all + w, x->sets + t->first, t->n * sizeof(*all));
		w += t->n;
		at = t->off + t->nbase;
	}
	memcpy(all + w, g->sets + at, (g->n - at) * sizeof(*all));
	w += g->n - at;

	/* the blocks it needs: the old segment's and this derive's, unless that makes too
	 * many: then it copies names and rdata into this derive's block */
	zmem *deps[SEG_MAX_DEPS];
	uint32_t ndeps = 0;
	bool have_m = false;
	for (uint32_t i = 0; i < g->ndeps; i++) {
		deps[ndeps++] = g->deps[i];
		have_m |= g->deps[i] == x->m;
	}
	if (!have_m && ndeps == SEG_MAX_DEPS) {
		const uint8_t *prev = NULL, *copy = NULL;
		for (size_t i = 0; i < n; i++) {
			fedns_rrset *s = &all[i];
			if (s->owner != prev) {
				prev = s->owner;
				copy = fedns_arena_memdup(&x->m->small, s->owner,
							  fedns_name_len(s->owner));
				if (copy == NULL) {
					free(all);
					return FEDNS_ENOMEM;
				}
			}
			s->owner = copy;
			const uint8_t *pos = s->rdata;
			for (uint32_t k = 0; k < s->count; k++) {
				uint16_t len;
				fedns_rrset_next_rdata(&pos, &len);
			}
			uint8_t *rd = fedns_arena_memdup(&x->m->small, s->rdata,
							 (size_t)(pos - s->rdata));
			if (rd == NULL && pos != s->rdata) {
				free(all);
				return FEDNS_ENOMEM;
			}
			s->rdata = rd;
		}
		ndeps = 0;
	}
	if (!have_m)
		deps[ndeps++] = x->m;

	/* cut into pieces of about SEG_TARGET RRsets at owner boundaries */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		if (n > SEG_MAX)
			while (j < n && (j - i < SEG_TARGET || all[j].owner == all[j - 1].owner))
				j++;
		else
			j = n;
		if (grow_to((void **)out, capout, *nout + 1, sizeof(**out)) != FEDNS_OK) {
			free(all);
			return FEDNS_ENOMEM;
		}
		zseg *ng = calloc(1, sizeof(*ng));
		fedns_rrset *own = i == 0 && j == n ? all : malloc((j - i) * sizeof(*own));
		if (ng == NULL || own == NULL) {
			free(ng);
			if (own != all)
				free(own);
			free(all);
			return FEDNS_ENOMEM;
		}
		if (own != all)
			memcpy(own, all + i, (j - i) * sizeof(*own));
		ng->refs = 1;
		ng->own = own;
		ng->sets = own;
		ng->n = (uint32_t)(j - i);
		for (uint32_t d = 0; d < ndeps; d++) {
			ng->deps[d] = deps[d];
			zmem_hold(deps[d]);
		}
		ng->ndeps = ndeps;
		(*out)[(*nout)++] = ng;
		i = j;
	}
	if ((*nout == 0 || (*out)[*nout - 1]->own != all))
		free(all);
	return FEDNS_OK;
}

fedns_err
fedns_zone_derive(const fedns_zone *base, const fedns_rr *del, size_t ndel, const fedns_rr *add,
		  size_t nadd, fedns_zone **out)
{
	if (base == NULL || out == NULL || (ndel != 0 && del == NULL) || (nadd != 0 && add == NULL))
		return FEDNS_EINVAL;
	if (base->state != ZONE_FINISHED || base->segs == NULL)
		return FEDNS_ENOTSUP;
	fedns_err err = derive_shape(base, del, ndel, add, nadd);
	if (err != FEDNS_OK)
		return err;

	drv x;
	memset(&x, 0, sizeof(x));
	x.base = base;
	chg *c = NULL;
	zseg **segs = NULL;
	size_t nsegs = 0, capsegs = 0;
	fedns_zone *nz = NULL;
	size_t nc = (ndel - 1) + (nadd - 1);

	x.m = calloc(1, sizeof(*x.m));
	c = malloc((nc + 1) * sizeof(*c));
	if (x.m == NULL || c == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	x.m->refs = 1;
	fedns_arena_init(&x.m->small, 1024, 0);
	size_t k = 0;
	for (size_t i = 1; i < ndel; i++)
		c[k++] = (chg){.rr = &del[i], .idx = (uint32_t)i, .run = 0, .add = false};
	uint32_t run = 0;
	for (size_t i = 1; i < nadd; i++) {
		if (i == 1 || !fedns_name_equal(add[i].owner, add[i - 1].owner))
			run++;
		c[k++] = (chg){.rr = &add[i], .idx = (uint32_t)i, .run = run, .add = true};
	}
	qsort(c, nc, sizeof(*c), chg_cmp);
	for (size_t i = 1; i < nc; i++)
		if (c[i].add == c[i - 1].add &&
		    fedns_name_cmp_canonical(c[i].rr->owner, c[i - 1].rr->owner) == 0 &&
		    c[i].rr->type == c[i - 1].rr->type &&
		    fedns_rdata_cmp(c[i].rr->type, c[i].rr->rdata, c[i].rr->rdlen,
				    c[i - 1].rr->rdata, c[i - 1].rr->rdlen) == 0) {
			err = FEDNS_ENOTSUP; /* the diff deletes or adds one record twice */
			goto out;
		}
	/* an addition continuing the owner run of the last copied base record shares its
	 * TTL rule with it: rare, left to the full build */
	if (nadd > 1 && fedns_name_equal(add[1].owner, last_staged_owner(base, c, nc))) {
		err = FEDNS_ENOTSUP;
		goto out;
	}

	/* owner by owner, the apex first (it always changes: the SOA) */
	bool apex_done = false;
	size_t i = 0;
	while (i < nc || !apex_done) {
		const uint8_t *owner = i < nc ? c[i].rr->owner : base->origin;
		if (!apex_done && fedns_name_cmp_canonical(base->origin, owner) <= 0)
			owner = base->origin;
		size_t j = i;
		while (j < nc && fedns_name_cmp_canonical(c[j].rr->owner, owner) == 0)
			j++;
		bool apex = !apex_done && fedns_name_equal(owner, base->origin);
		apex_done |= apex;
		size_t si, off, nbase = 0;
		seg_lower(base, owner, 0, &si, &off);
		if (si < base->nseg) {
			const zseg *g = base->segs[si];
			while (off + nbase < g->n &&
			       fedns_name_equal(g->sets[off + nbase].owner, owner))
				nbase++;
		} else {
			si = base->nseg - 1;
			off = base->segs[si]->n;
		}
		if (apex && nbase == 0) {
			err = FEDNS_ENOTSUP;
			goto out;
		}
		err = touch_owner(&x, c + i, j - i, si, off, nbase, apex, &add[0]);
		if (err != FEDNS_OK)
			goto out;
		i = j;
	}
	if (base->nrr + (size_t)x.drr > ZONE_DEFAULT_MAX_RECORDS) {
		err = FEDNS_ENOTSUP;
		goto out;
	}

	/* the new segment table: base's, with the touched segments rebuilt */
	for (size_t a = 0, si = 0; si < base->nseg; si++) {
		size_t b = a;
		while (b < x.nt && x.t[b].seg == si)
			b++;
		if (b == a) {
			if ((err = grow_to((void **)&segs, &capsegs, nsegs + 1, sizeof(*segs))) !=
			    FEDNS_OK)
				goto out;
			seg_hold(base->segs[si]);
			segs[nsegs++] = base->segs[si];
			continue;
		}
		if ((err = rebuild_seg(&x, si, a, b, &segs, &nsegs, &capsegs)) != FEDNS_OK)
			goto out;
		a = b;
	}

	nz = calloc(1, sizeof(*nz));
	if (nz == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	memcpy(nz->origin, base->origin, base->origin_len);
	nz->origin_len = base->origin_len;
	nz->rclass = base->rclass;
	nz->state = ZONE_FINISHED;
	nz->max_records = base->max_records;
	nz->max_bytes = base->max_bytes;
	bpool_init(&nz->names);
	bpool_init(&nz->rdata);
	bpool_init(&nz->extra);
	nz->last_owner = UINT32_MAX;
	nz->nsets = (size_t)((long)base->nsets + x.dsets);
	nz->nrr = (size_t)((long)base->nrr + x.drr);
	nz->serial = fedns_soa_serial(add[0].rdata, add[0].rdlen);
	nz->ndnames = base->ndnames;
	nz->segs = segs;
	nz->nseg = nsegs;
	segs = NULL;
	if (!apex_targets_ok(nz)) {
		err = FEDNS_ENOTSUP;
		goto out;
	}
	*out = nz;
	nz = NULL;
	err = FEDNS_OK;
out:
	if (segs != NULL) {
		for (size_t s = 0; s < nsegs; s++)
			seg_rele(segs[s]);
		free(segs);
	}
	fedns_zone_free(nz);
	free(c);
	drv_fini(&x);
	return err;
}

/* ---- ZONEMD over shared segments ---- */

/* Publishes 'b' as *slot unless another thread was first; returns the published blob. */
static const zblob *
publish(zblob **slot, zblob *b)
{
	zblob *expected = NULL;
	if (__atomic_compare_exchange_n(slot, &expected, b, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return b;
	free(b);
	return expected;
}

/* A segment's RRsets in ZONEMD form, made now if no one made them yet. NULL: no memory. */
static const zblob *
seg_canon(const fedns_zone *z, zseg *g, uint8_t *scratch)
{
	const zblob *have = __atomic_load_n(&g->canon, __ATOMIC_ACQUIRE);
	if (have != NULL)
		return have;
	size_t cap = 0;
	for (uint32_t i = 0; i < g->n; i++) {
		const fedns_rrset *s = &g->sets[i];
		const uint8_t *pos = s->rdata;
		for (uint32_t k = 0; k < s->count; k++) {
			uint16_t len;
			fedns_rrset_next_rdata(&pos, &len);
		}
		cap += (size_t)s->count * (fedns_name_len(s->owner) + FEDNS_ZONEMD_RR_FIXED) +
		       (size_t)(pos - s->rdata) - 2u * s->count;
	}
	zblob *b = malloc(sizeof(*b) + (cap ? cap : 1));
	if (b == NULL)
		return NULL;
	b->len = 0;
	for (uint32_t i = 0; i < g->n; i++) {
		const fedns_rrset *s = &g->sets[i];
		bool apex = fedns_name_equal(s->owner, z->origin);
		/* the apex ZONEMD RRset is the digest's own container (RFC 8976 §3.3.1.1) */
		if (apex && s->type == FEDNS_T_ZONEMD)
			continue;
		b->len += fedns_zonemd_rrset_wire(s, apex, scratch, b->data + b->len, cap - b->len);
	}
	return publish(&g->canon, b);
}

fedns_err
fedns_zone_zonemd(fedns_zone *z, uint8_t alg, uint8_t *out, size_t *outlen)
{
	if (z == NULL || out == NULL || outlen == NULL || z->state != ZONE_FINISHED)
		return FEDNS_EINVAL;
	if (z->segs == NULL || alg != FEDNS_ZONEMD_SHA384)
		return fedns_zonemd_compute(z, alg, out, outlen);
	if (z->md_done) {
		memcpy(out, z->md, FEDNS_SHA384_LEN);
		*outlen = FEDNS_SHA384_LEN;
		return FEDNS_OK;
	}
	uint8_t *scratch = malloc(FEDNS_ZONEMD_SCRATCH);
	if (scratch == NULL)
		return FEDNS_ENOMEM;
	/* The apex SOA is hashed first and changes with every version, so the whole stream is
	 * hashed every time (SHA-384 cannot resume past a change); what is saved is encoding:
	 * a segment is encoded once, by the first version that needs it. */
	fedns_hash h;
	fedns_hash_init(&h, FEDNS_HASH_SHA384);
	for (size_t i = 0; i < z->nseg; i++) {
		const zblob *c = seg_canon(z, z->segs[i], scratch);
		if (c == NULL) {
			free(scratch);
			return fedns_zonemd_compute(z, alg, out, outlen);
		}
		fedns_hash_update(&h, c->data, c->len);
	}
	free(scratch);
	fedns_hash_final(&h, z->md);
	z->md_done = true;
	memcpy(out, z->md, FEDNS_SHA384_LEN);
	*outlen = FEDNS_SHA384_LEN;
	return FEDNS_OK;
}

/* ---- master-file text over shared segments ---- */

/* A segment's RRsets as fedns_zone_print writes them (the apex SOA left out: it is printed
 * first), made now if no one made them yet. */
static fedns_err
seg_text(const fedns_zone *z, zseg *g, const zblob **out)
{
	const zblob *have = __atomic_load_n(&g->text, __ATOMIC_ACQUIRE);
	if (have != NULL) {
		*out = have;
		return FEDNS_OK;
	}
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_err err = FEDNS_OK;
	for (uint32_t i = 0; i < g->n && err == FEDNS_OK; i++) {
		const fedns_rrset *s = &g->sets[i];
		if (s->type == FEDNS_T_SOA && fedns_name_equal(s->owner, z->origin))
			continue;
		const uint8_t *pos = s->rdata;
		for (uint32_t k = 0; k < s->count && err == FEDNS_OK; k++) {
			fedns_rr rr = {.owner = s->owner,
				       .type = s->type,
				       .rclass = s->rclass,
				       .ttl = s->ttl};
			rr.rdata = fedns_rrset_next_rdata(&pos, &rr.rdlen);
			err = fedns_rr_print(&rr, &b);
		}
	}
	if (err == FEDNS_OK)
		err = b.err;
	zblob *blob = err == FEDNS_OK ? malloc(sizeof(*blob) + b.len + 1) : NULL;
	if (err == FEDNS_OK && blob == NULL)
		err = FEDNS_ENOMEM;
	if (err != FEDNS_OK) {
		fedns_buf_fini(&b);
		return err;
	}
	blob->len = b.len;
	if (b.len != 0)
		memcpy(blob->data, b.data, b.len);
	fedns_buf_fini(&b);
	*out = publish(&g->text, blob);
	return FEDNS_OK;
}

fedns_err
fedns_zone_print_shared(const fedns_zone *z, fedns_buf *out)
{
	if (z == NULL || out == NULL || z->state != ZONE_FINISHED)
		return FEDNS_EINVAL;
	if (z->segs == NULL)
		return fedns_zone_print(z, out);
	/* the apex SOA first, as fedns_zone_print writes it */
	const fedns_rrset *soa = fedns_zone_find(z, z->origin, FEDNS_T_SOA);
	if (soa != NULL) {
		const uint8_t *pos = soa->rdata;
		for (uint32_t k = 0; k < soa->count; k++) {
			fedns_rr rr = {.owner = soa->owner,
				       .type = soa->type,
				       .rclass = soa->rclass,
				       .ttl = soa->ttl};
			rr.rdata = fedns_rrset_next_rdata(&pos, &rr.rdlen);
			fedns_err err = fedns_rr_print(&rr, out);
			if (err != FEDNS_OK)
				return err;
		}
	}
	for (size_t i = 0; i < z->nseg; i++) {
		const zblob *t;
		fedns_err err = seg_text(z, z->segs[i], &t);
		if (err == FEDNS_OK)
			err = fedns_buf_append(out, t->data, t->len);
		if (err != FEDNS_OK)
			return err;
	}
	return out->err;
}
