/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental zone digest: a crit-bit tree over hashed RRset positions (construction in the header). */
#include "dns/zdigest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha2.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonemd.h"

#define HLEN FEDNS_ZDIGEST_LEN
#define NIL UINT32_MAX
/* Nodes live in chunks so growing never moves (or copies) the tree: an update that needs
 * one more node must not pay for the other million. The first chunk holds FIRST_NODES and
 * each next one as many as all before it, up to CHUNK_NODES per chunk: a small zone's tree
 * stays a few KiB (a spoke or hub keeps one per zone, and may have thousands of small
 * zones), a large zone's is in 1.1 MB chunks as before. Node i is in chunk 0 below
 * FIRST_NODES, in chunk b - FIRST_BITS + 1 for 2^b <= i < 2^(b+1) below CHUNK_NODES, and
 * in fixed chunks of CHUNK_NODES from there. */
#define FIRST_BITS 5
#define FIRST_NODES (1u << FIRST_BITS)
#define CHUNK_BITS 14
#define CHUNK_NODES (1u << CHUNK_BITS)
#define GROWING_CHUNKS (CHUNK_BITS - FIRST_BITS + 1) /* the chunks below CHUNK_NODES */
#define MAX_NODES (UINT32_MAX - 1)
/* Leaf hashing lays two records side by side; the scratch holds what the widest RRset
 * hashed so far needs, from this much. */
#define SCRATCH_MIN 1024
/* Owner, type/class/TTL/RDLENGTH and rdata of one RR, laid out as hashed. */
#define KEY_MAX (FEDNS_NAME_MAXLEN + 4)

typedef struct node {
	uint8_t hash[HLEN]; /* T() of the subtree */
	union {
		uint32_t child[2]; /* inner node */
		uint8_t key[HLEN]; /* leaf: K */
	} u;
	uint16_t bit; /* inner node: the crit bit */
	uint8_t leaf;
	uint8_t dirty; /* inner node whose hash is stale */
} node;

struct fedns_zdigest {
	node **chunks;
	size_t nchunks, capchunks;
	size_t capnodes;   /* nodes in the chunks */
	uint32_t used;	   /* nodes handed out from the chunks so far */
	uint32_t freelist; /* freed nodes, linked through u.child[0] */
	uint32_t nfree;
	uint32_t root;
	size_t leaves;
	uint8_t *scratch; /* two records for leaf hashing */
	size_t capscratch;
};

/* One leaf while building. */
typedef struct kv {
	uint8_t key[HLEN];
	uint8_t val[HLEN];
} kv;

/* One RRset a diff touches, by position, with its value when it exists. */
typedef struct entry {
	uint8_t key[HLEN];
	uint8_t val[HLEN];
	const uint8_t *owner;
	uint16_t type, covered;
	bool present;
} entry;

static inline node *
N(const fedns_zdigest *zd, uint32_t i)
{
	if (i >= CHUNK_NODES)
		return &zd->chunks[GROWING_CHUNKS - 1 + (i >> CHUNK_BITS)][i & (CHUNK_NODES - 1)];
	if (i < FIRST_NODES)
		return &zd->chunks[0][i];
	unsigned b = 31u - (unsigned)__builtin_clz(i);
	return &zd->chunks[b - FIRST_BITS + 1][i - (1u << b)];
}

/* Nodes in chunk k (see N). */
static size_t
chunk_nodes(size_t k)
{
	if (k == 0)
		return FIRST_NODES;
	return k < GROWING_CHUNKS ? (size_t)1 << (k + FIRST_BITS - 1) : CHUNK_NODES;
}

static int
keybit(const uint8_t *k, unsigned b)
{
	return (k[b >> 3] >> (7 - (b & 7))) & 1;
}

/* First bit at which a and b differ; 256 when equal. */
static unsigned
critbit(const uint8_t *a, const uint8_t *b)
{
	for (unsigned i = 0; i < HLEN; i++) {
		uint8_t x = a[i] ^ b[i];
		if (x != 0) {
			unsigned b0 = 0;
			while (!(x & 0x80)) {
				x = (uint8_t)(x << 1);
				b0++;
			}
			return i * 8 + b0;
		}
	}
	return HLEN * 8;
}

static uint16_t
covered_of(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	if (type != FEDNS_T_RRSIG || rdlen < 2)
		return 0;
	return (uint16_t)((rd[0] << 8) | rd[1]);
}

static void
position(const uint8_t *owner, uint16_t type, uint16_t covered, uint8_t out[HLEN])
{
	uint8_t buf[KEY_MAX];
	size_t n = fedns_name_copy(buf, owner);
	fedns_name_tolower(buf);
	fedns_put_u16(buf + n, type);
	n += 2;
	if (type == FEDNS_T_RRSIG) {
		fedns_put_u16(buf + n, covered);
		n += 2;
	}
	fedns_hash_once(FEDNS_HASH_SHA256, buf, n, out);
}

/* V of one set: the ZONEMD form of its RRs, behind a leaf tag. The RRs are laid out as
 * fedns_zonemd_hash_rrset (dns/zonemd.h) lays them out, which needs a scratch of two
 * largest-possible records (128 KiB); here the scratch is grown to two of this set's
 * records, so a tree of small RRsets holds about 1 KiB of it. fedns_zdigest_leaf keeps
 * the zonemd.h path and the tests compare the two. */
static fedns_err
leaf_value(fedns_zdigest *zd, const fedns_rrset *set, uint8_t out[HLEN])
{
	static const uint8_t tag = 0x00;
	size_t olen = fedns_name_len(set->owner), maxrd = 0;
	const uint8_t *pos = set->rdata;
	for (uint32_t i = 0; i < set->count; i++) {
		uint16_t rdlen;
		(void)fedns_rrset_next_rdata(&pos, &rdlen);
		if (rdlen > maxrd)
			maxrd = rdlen;
	}
	size_t reclen = olen + FEDNS_ZONEMD_RR_FIXED + maxrd;
	if (2 * reclen > zd->capscratch) {
		size_t cap = zd->capscratch ? zd->capscratch : SCRATCH_MIN;
		while (cap < 2 * reclen)
			cap *= 2;
		uint8_t *ns = malloc(cap); /* nothing in it is kept between calls */
		if (ns == NULL)
			return FEDNS_ENOMEM;
		free(zd->scratch);
		zd->scratch = ns;
		zd->capscratch = cap;
	}
	fedns_hash h;
	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, &tag, 1);
	/* every set counts here, so not the apex rule that leaves RRSIGs over ZONEMD out */
	fedns_zonemd_hash_rrset_stride(&h, set, false, zd->scratch, reclen);
	fedns_hash_final(&h, out);
	return FEDNS_OK;
}

static void
inner_hash(const uint8_t *l, const uint8_t *r, uint8_t out[HLEN])
{
	uint8_t buf[1 + 2 * HLEN];
	buf[0] = 0x01;
	memcpy(buf + 1, l, HLEN);
	memcpy(buf + 1 + HLEN, r, HLEN);
	fedns_hash_once(FEDNS_HASH_SHA256, buf, sizeof(buf), out);
}

/* Makes sure 'n' nodes can be taken without failing, so a mutation never stops halfway. */
static fedns_err
reserve(fedns_zdigest *zd, size_t n)
{
	size_t avail = zd->nfree + (zd->capnodes - zd->used);
	while (avail < n) {
		size_t add = chunk_nodes(zd->nchunks);
		if (zd->capnodes + add > MAX_NODES)
			return FEDNS_ETOOBIG;
		if (zd->nchunks == zd->capchunks) {
			size_t cap = zd->capchunks ? zd->capchunks * 2 : 16;
			node **nc = realloc(zd->chunks, cap * sizeof(*nc));
			if (nc == NULL)
				return FEDNS_ENOMEM;
			zd->chunks = nc;
			zd->capchunks = cap;
		}
		node *c = malloc(add * sizeof(node));
		if (c == NULL)
			return FEDNS_ENOMEM;
		zd->chunks[zd->nchunks++] = c;
		zd->capnodes += add;
		avail += add;
	}
	return FEDNS_OK;
}

/* Takes a reserved node. */
static uint32_t
take(fedns_zdigest *zd)
{
	uint32_t i;
	if (zd->freelist != NIL) {
		i = zd->freelist;
		zd->freelist = N(zd, i)->u.child[0];
		zd->nfree--;
	} else {
		i = zd->used++;
	}
	return i;
}

static void
give(fedns_zdigest *zd, uint32_t i)
{
	N(zd, i)->u.child[0] = zd->freelist;
	zd->freelist = i;
	zd->nfree++;
}

static uint32_t
new_leaf(fedns_zdigest *zd, const uint8_t *key, const uint8_t *val)
{
	uint32_t i = take(zd);
	node *n = N(zd, i);
	memcpy(n->u.key, key, HLEN);
	memcpy(n->hash, val, HLEN);
	n->bit = 0;
	n->leaf = 1;
	n->dirty = 0;
	return i;
}

static int
entry_cmp(const void *a, const void *b)
{
	return memcmp(((const entry *)a)->key, ((const entry *)b)->key, HLEN);
}

static int
kv_cmp(const void *a, const void *b)
{
	return memcmp(((const kv *)a)->key, ((const kv *)b)->key, HLEN);
}

/* Sorts by K into 'out'. Keys are hashes, so a counting sort on their first 16 bits leaves
 * buckets of a few entries each: linear time where qsort over a million 64-byte entries
 * spent most of the build moving them. A bucket that someone filled on purpose (by grinding
 * names) still sorts in n log n. */
static fedns_err
sort_kv(const kv *in, size_t n, kv *out)
{
	size_t *end = calloc(65536, sizeof(*end));
	if (end == NULL)
		return FEDNS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		end[(in[i].key[0] << 8) | in[i].key[1]]++;
	for (size_t b = 1; b < 65536; b++)
		end[b] += end[b - 1];
	for (size_t i = n; i-- > 0;)
		out[--end[(in[i].key[0] << 8) | in[i].key[1]]] = in[i];
	/* end[b] is now where bucket b starts */
	for (size_t b = 0; b < 65536; b++) {
		size_t lo = end[b], hi = b + 1 < 65536 ? end[b + 1] : n;
		if (hi - lo > 16) {
			qsort(out + lo, hi - lo, sizeof(*out), kv_cmp);
			continue;
		}
		for (size_t i = lo + 1; i < hi; i++) {
			kv t = out[i];
			size_t j = i;
			for (; j > lo && memcmp(out[j - 1].key, t.key, HLEN) > 0; j--)
				out[j] = out[j - 1];
			out[j] = t;
		}
	}
	free(end);
	return FEDNS_OK;
}

/* Builds T() over sorted, distinct entries [lo, hi), all sharing their first 'depth' bits. */
static uint32_t
build(fedns_zdigest *zd, const kv *e, size_t lo, size_t hi)
{
	if (hi - lo == 1)
		return new_leaf(zd, e[lo].key, e[lo].val);
	unsigned b = critbit(e[lo].key, e[hi - 1].key);
	/* sorted with a common prefix before b: the ones with bit b set are a suffix */
	size_t l = lo + 1, r = hi - 1;
	while (l < r) {
		size_t m = l + (r - l) / 2;
		if (keybit(e[m].key, b))
			r = m;
		else
			l = m + 1;
	}
	uint32_t c0 = build(zd, e, lo, l);
	uint32_t c1 = build(zd, e, l, hi);
	uint32_t i = take(zd);
	node *n = N(zd, i);
	n->u.child[0] = c0;
	n->u.child[1] = c1;
	n->bit = (uint16_t)b;
	n->leaf = 0;
	n->dirty = 0;
	inner_hash(N(zd, c0)->hash, N(zd, c1)->hash, n->hash);
	return i;
}

static fedns_zdigest *
alloc_digest(void)
{
	fedns_zdigest *zd = calloc(1, sizeof(*zd));
	if (zd == NULL)
		return NULL;
	zd->freelist = NIL;
	zd->root = NIL;
	return zd;
}

fedns_err
fedns_zdigest_new(const fedns_zone *z, fedns_zdigest **out)
{
	fedns_err err = FEDNS_OK;
	fedns_zdigest *zd = NULL;
	kv *e = NULL, *sorted = NULL;
	size_t n = 0, cap;
	fedns_zone_iter it;
	const fedns_rrset *set;
	fedns_rr soa;

	/* the SOA lookup doubles as the "finished" check */
	if (z == NULL || out == NULL || !fedns_zone_soa(z, &soa))
		return FEDNS_EINVAL;
	zd = alloc_digest();
	if (zd == NULL)
		return FEDNS_ENOMEM;
	cap = fedns_zone_rrset_count(z);
	e = malloc((cap ? cap : 1) * sizeof(*e));
	sorted = malloc((cap ? cap : 1) * sizeof(*sorted));
	if (e == NULL || sorted == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	fedns_zone_iter_init(&it, z);
	while ((set = fedns_zone_iter_next(&it)) != NULL && n < cap) {
		if (set->count == 0)
			continue;
		uint16_t len;
		const uint8_t *pos = set->rdata;
		const uint8_t *rd = fedns_rrset_next_rdata(&pos, &len);
		position(set->owner, set->type, covered_of(set->type, rd, len), e[n].key);
		err = leaf_value(zd, set, e[n].val);
		if (err != FEDNS_OK)
			goto out;
		n++;
	}
	err = sort_kv(e, n, sorted);
	free(e); /* before the tree takes its memory: lower peak */
	e = NULL;
	if (err != FEDNS_OK)
		goto out;
	for (size_t i = 1; i < n; i++) {
		if (memcmp(sorted[i - 1].key, sorted[i].key, HLEN) == 0) {
			err = FEDNS_EINVAL; /* two sets at one position: not a zone.h zone */
			goto out;
		}
	}
	if (n > 0) {
		err = reserve(zd, 2 * n - 1);
		if (err != FEDNS_OK)
			goto out;
		zd->root = build(zd, sorted, 0, n);
	}
	zd->leaves = n;
	*out = zd;
	zd = NULL;
out:
	free(sorted);
	free(e);
	fedns_zdigest_free(zd);
	return err;
}

void
fedns_zdigest_free(fedns_zdigest *zd)
{
	if (zd == NULL)
		return;
	for (size_t i = 0; i < zd->nchunks; i++)
		free(zd->chunks[i]);
	free(zd->chunks);
	free(zd->scratch);
	free(zd);
}

/* The leaf at K's place, or NIL (the tree is not changed). */
static uint32_t
find_leaf(const fedns_zdigest *zd, const uint8_t *key)
{
	uint32_t i = zd->root;
	while (i != NIL && !N(zd, i)->leaf)
		i = N(zd, i)->u.child[keybit(key, N(zd, i)->bit)];
	return i;
}

/* Sets K's value, adding the leaf if absent; marks the inner nodes above it stale.
 * Needs two reserved nodes. */
static void
upsert(fedns_zdigest *zd, const uint8_t *key, const uint8_t *val)
{
	uint32_t near = find_leaf(zd, key);
	if (near == NIL) {
		zd->root = new_leaf(zd, key, val);
		zd->leaves++;
		return;
	}
	unsigned cb = critbit(key, N(zd, near)->u.key);
	uint32_t *link = &zd->root;
	for (;;) {
		node *p = N(zd, *link);
		if (p->leaf || p->bit > cb)
			break;
		p->dirty = 1;
		link = &p->u.child[keybit(key, p->bit)];
	}
	if (cb == HLEN * 8) {
		memcpy(N(zd, *link)->hash, val, HLEN);
		return;
	}
	uint32_t lf = new_leaf(zd, key, val);
	uint32_t in = take(zd);
	node *n = N(zd, in);
	int side = keybit(key, cb);
	n->u.child[side] = lf;
	n->u.child[!side] = *link;
	n->bit = (uint16_t)cb;
	n->leaf = 0;
	n->dirty = 1;
	*link = in;
	zd->leaves++;
}

/* Removes K's leaf if present; marks the inner nodes above it stale. */
static void
erase(fedns_zdigest *zd, const uint8_t *key)
{
	uint32_t lf = find_leaf(zd, key);
	if (lf == NIL || memcmp(N(zd, lf)->u.key, key, HLEN) != 0)
		return;
	uint32_t *link = &zd->root, *plink = NULL;
	while (!N(zd, *link)->leaf) {
		node *p = N(zd, *link);
		p->dirty = 1;
		plink = link;
		link = &p->u.child[keybit(key, p->bit)];
	}
	if (plink == NULL) {
		zd->root = NIL;
	} else {
		uint32_t parent = *plink;
		node *p = N(zd, parent);
		*plink = p->u.child[p->u.child[0] == lf ? 1 : 0];
		give(zd, parent);
	}
	give(zd, lf);
	zd->leaves--;
}

static void
rehash(fedns_zdigest *zd, uint32_t i)
{
	node *n = N(zd, i);
	if (n->leaf || !n->dirty)
		return;
	rehash(zd, n->u.child[0]);
	rehash(zd, n->u.child[1]);
	inner_hash(N(zd, n->u.child[0])->hash, N(zd, n->u.child[1])->hash, n->hash);
	n->dirty = 0;
}

/* The set at this position in z, or NULL. */
static const fedns_rrset *
lookup(const fedns_zone *z, const entry *e)
{
	const fedns_rrset *s = e->type == FEDNS_T_RRSIG
				       ? fedns_zone_find_rrsig(z, e->owner, e->covered)
				       : fedns_zone_find(z, e->owner, e->type);
	return s != NULL && s->count > 0 ? s : NULL;
}

static void
touch(entry *e, const fedns_rr *rr)
{
	e->owner = rr->owner;
	e->type = rr->type;
	e->covered = covered_of(rr->type, rr->rdata, rr->rdlen);
	position(rr->owner, rr->type, e->covered, e->key);
}

fedns_err
fedns_zdigest_update(fedns_zdigest *zd, const fedns_zone *z, const fedns_diff *diff)
{
	fedns_err err = FEDNS_OK;
	entry *e = NULL;
	size_t n = 0, m = 0;
	fedns_rr soa;

	if (zd == NULL || z == NULL || diff == NULL || !fedns_zone_soa(z, &soa))
		return FEDNS_EINVAL;
	if (diff->ndel + diff->nadd == 0)
		return FEDNS_OK;
	if (diff->nadd > SIZE_MAX / 2 / sizeof(*e) ||
	    diff->ndel > SIZE_MAX / 2 / sizeof(*e) - diff->nadd)
		return FEDNS_ETOOBIG;
	e = malloc((diff->ndel + diff->nadd) * sizeof(*e));
	if (e == NULL)
		return FEDNS_ENOMEM;
	for (size_t i = 0; i < diff->ndel; i++)
		touch(&e[n++], &diff->del[i]);
	for (size_t i = 0; i < diff->nadd; i++)
		touch(&e[n++], &diff->add[i]);
	/* a wide RRset touched by many RRs is hashed once */
	qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || memcmp(e[m - 1].key, e[i].key, HLEN) != 0)
			e[m++] = e[i];

	for (size_t i = 0; i < m; i++) {
		const fedns_rrset *s = lookup(z, &e[i]);
		e[i].present = s != NULL;
		if (s != NULL && (err = leaf_value(zd, s, e[i].val)) != FEDNS_OK)
			goto out;
	}
	err = reserve(zd, 2 * m);
	if (err != FEDNS_OK)
		goto out;
	/* nothing below can fail: the digest changes whole or not at all */
	for (size_t i = 0; i < m; i++) {
		if (e[i].present)
			upsert(zd, e[i].key, e[i].val);
		else
			erase(zd, e[i].key);
	}
	if (zd->root != NIL)
		rehash(zd, zd->root);
out:
	free(e);
	return err;
}

void
fedns_zdigest_root(const fedns_zdigest *zd, uint8_t out[FEDNS_ZDIGEST_LEN])
{
	if (zd == NULL || zd->root == NIL)
		memset(out, 0, HLEN);
	else
		memcpy(out, N(zd, zd->root)->hash, HLEN);
}

size_t
fedns_zdigest_count(const fedns_zdigest *zd)
{
	return zd != NULL ? zd->leaves : 0;
}

size_t
fedns_zdigest_memory(const fedns_zdigest *zd)
{
	if (zd == NULL)
		return 0;
	return sizeof(*zd) + zd->capscratch + zd->capchunks * sizeof(node *) +
	       zd->capnodes * sizeof(node);
}

fedns_err
fedns_zdigest_leaf(const fedns_rrset *set, uint8_t out[FEDNS_ZDIGEST_LEN])
{
	if (set == NULL || out == NULL)
		return FEDNS_EINVAL;
	/* the zonemd.h path, so the tests can hold the tree's own hashing against it */
	static const uint8_t tag = 0x00;
	uint8_t *scratch = malloc(FEDNS_ZONEMD_SCRATCH);
	if (scratch == NULL)
		return FEDNS_ENOMEM;
	fedns_hash h;
	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, &tag, 1);
	fedns_zonemd_hash_rrset(&h, set, false, scratch);
	fedns_hash_final(&h, out);
	free(scratch);
	return FEDNS_OK;
}

fedns_err
fedns_zdigest_compute(const fedns_zone *z, uint8_t out[FEDNS_ZDIGEST_LEN])
{
	fedns_zdigest *zd = NULL;
	fedns_err err = fedns_zdigest_new(z, &zd);
	if (err != FEDNS_OK)
		return err;
	fedns_zdigest_root(zd, out);
	fedns_zdigest_free(zd);
	return FEDNS_OK;
}

fedns_err
fedns_zone_digest(const fedns_zone *z, uint8_t alg, uint8_t *out, size_t *len)
{
	if (z == NULL || out == NULL || len == NULL)
		return FEDNS_EINVAL;
	*len = 0;
	if (alg == FEDNS_ZDIGEST_ALG) {
		fedns_err err = fedns_zdigest_compute(z, out);
		if (err == FEDNS_OK)
			*len = FEDNS_ZDIGEST_LEN;
		return err;
	}
	if (alg != FEDNS_ZONEMD_SHA384 && alg != FEDNS_ZONEMD_SHA512)
		return FEDNS_ENOTSUP;
	return fedns_zonemd_compute(z, alg, out, len);
}
