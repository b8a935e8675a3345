/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's durable journal: snapshots and append-only diff files per zone (see
 * journal.h for the layout and the crash argument). */
#include "spoke/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/sha2.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/serial.h"
#include "dns/wire.h"
#include "dns/zone.h"

#define SNAP_MAGIC "FEDNSSNP"
#define JNL_MAGIC "FEDNSJNL"
#define FORMAT_VERSION 1
#define JNL_HDR 12
#define REC_HASH FEDNS_SHA256_LEN
/* a record's payload cap: a diff larger than this is refused rather than written */
#define REC_MAX ((uint32_t)1 << 30)
/* snapshot files up to 64 GiB (a 10M-record zone is a few GiB) */
#define SNAP_MAX ((size_t)1 << 36)
#define JNL_MAX ((size_t)1 << 36)
#define WRITE_CHUNK ((size_t)1 << 20)
/* catalog serials reserved per write of catalog-serial */
#define CATALOG_RESERVE 1000u
#define DIRNAME_MAX 200

typedef struct rec {
	uint64_t off; /* of the length field */
	uint64_t len; /* whole record: 4 + payload + hash */
	uint32_t from, to;
} rec;

typedef struct zjournal {
	uint8_t origin[FEDNS_NAME_MAXLEN];
	char name[DIRNAME_MAX + 8];
	int dfd; /* the zone's directory */
	int fd;	 /* its journal, read-write */
	uint64_t end;
	uint32_t snap_serial;
	rec *recs;
	size_t nrec, cap;
	size_t snap_idx;	/* recs[0..snap_idx) lead up to the snapshot */
	spoke_version *pending; /* held: compact to this version */
	bool queued;
	struct zjournal *qnext;
} zjournal;

/* 'mu' guards the table, every zjournal and the queue. Hooks run under it (the zone set
 * already serialises them); the worker drops it while it writes a snapshot and copies
 * history, marking the zone 'busy' so removal waits for it. */
struct spoke_journal {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int dirfd, zfd;
	size_t journal_max, compact_records;
	uint64_t compact_bytes;
	zjournal **z;
	size_t n, cap;
	zjournal *qhead, *qtail;
	zjournal *busy;
	uint32_t cat_reserved;
	bool stop;
	pthread_t worker;
	bool worker_running;
};

/* ---- names ---- */

size_t
spoke_journal_dirname(const uint8_t *origin, char *out, size_t outsz)
{
	uint8_t lc[FEDNS_NAME_MAXLEN];
	size_t wl = fedns_name_copy(lc, origin);
	fedns_name_tolower(lc);
	char tmp[FEDNS_NAME_MAXLEN * 3 + 2];
	size_t n = 0;
	if (fedns_name_is_root(lc)) {
		tmp[n++] = '@';
	} else {
		static const char hex[] = "0123456789abcdef";
		for (const uint8_t *p = lc; *p != 0; p += 1 + *p) {
			if (n > 0)
				tmp[n++] = '.';
			for (uint8_t i = 1; i <= *p; i++) {
				uint8_t c = p[i];
				if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
				    c == '_') {
					tmp[n++] = (char)c;
				} else {
					tmp[n++] = '%';
					tmp[n++] = hex[c >> 4];
					tmp[n++] = hex[c & 15];
				}
			}
		}
	}
	if (n > DIRNAME_MAX) {
		uint8_t h[FEDNS_SHA256_LEN];
		fedns_hash_once(FEDNS_HASH_SHA256, lc, wl, h);
		static const char hex[] = "0123456789abcdef";
		n = 0;
		tmp[n++] = '#';
		for (size_t i = 0; i < sizeof(h); i++) {
			tmp[n++] = hex[h[i] >> 4];
			tmp[n++] = hex[h[i] & 15];
		}
	}
	if (outsz <= n) {
		if (outsz > 0)
			out[0] = '\0';
		return 0;
	}
	memcpy(out, tmp, n);
	out[n] = '\0';
	return n;
}

static void
origin_text(const uint8_t *origin, char *out, size_t outsz)
{
	if (fedns_name_to_text(origin, out, outsz) == 0)
		snprintf(out, outsz, "?");
}

/* ---- encoding ---- */

static void
put_u16(fedns_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	fedns_buf_append(b, x, 2);
}

static void
put_u32(fedns_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	fedns_buf_append(b, x, 4);
}

static void
put_rr(fedns_buf *b, const fedns_rr *rr)
{
	fedns_buf_append(b, rr->owner, fedns_name_len(rr->owner));
	put_u16(b, rr->type);
	put_u16(b, rr->rclass);
	put_u32(b, rr->ttl);
	put_u16(b, rr->rdlen);
	fedns_buf_append(b, rr->rdata, rr->rdlen);
}

/* Reads one RR at the cursor; owner and rdata borrow the buffer. */
static bool
get_rr(fedns_wire *w, fedns_rr *rr)
{
	size_t left = fedns_wire_left(w);
	size_t nl = left ? fedns_name_check(w->buf + w->off, left) : 0;
	if (nl == 0) {
		fedns_wire_fail(w, FEDNS_EMALFORMED);
		return false;
	}
	rr->owner = fedns_wire_take(w, nl);
	rr->type = fedns_wire_u16(w);
	rr->rclass = fedns_wire_u16(w);
	rr->ttl = fedns_wire_u32(w);
	rr->rdlen = fedns_wire_u16(w);
	rr->rdata = fedns_wire_take(w, rr->rdlen);
	return w->err == FEDNS_OK;
}

/* One journal record (length, payload, hash) for the diff from -> to into b. */
static fedns_err
encode_record(fedns_buf *b, uint32_t from, uint32_t to, const fedns_diff *diff)
{
	put_u32(b, 0); /* patched below */
	put_u32(b, from);
	put_u32(b, to);
	put_u32(b, (uint32_t)diff->ndel);
	put_u32(b, (uint32_t)diff->nadd);
	for (size_t i = 0; i < diff->ndel; i++)
		put_rr(b, &diff->del[i]);
	for (size_t i = 0; i < diff->nadd; i++)
		put_rr(b, &diff->add[i]);
	if (b->err != FEDNS_OK)
		return b->err;
	if (b->len - 4 > REC_MAX)
		return FEDNS_ETOOBIG;
	uint32_t plen = (uint32_t)(b->len - 4);
	b->data[0] = (uint8_t)(plen >> 24);
	b->data[1] = (uint8_t)(plen >> 16);
	b->data[2] = (uint8_t)(plen >> 8);
	b->data[3] = (uint8_t)plen;
	uint8_t h[REC_HASH];
	fedns_hash_once(FEDNS_HASH_SHA256, b->data, b->len, h);
	fedns_buf_append(b, h, sizeof(h));
	return b->err;
}

/* Decodes a payload (hash already checked) into from/to and a diff of IXFR shape. */
static fedns_err
decode_payload(const uint8_t *p, size_t len, uint32_t *from, uint32_t *to, fedns_diff *out)
{
	fedns_wire w;
	fedns_wire_init(&w, p, len);
	*from = fedns_wire_u32(&w);
	*to = fedns_wire_u32(&w);
	uint32_t ndel = fedns_wire_u32(&w), nadd = fedns_wire_u32(&w);
	if (w.err != FEDNS_OK)
		return FEDNS_ETRUNC;
	/* an RR takes at least 11 bytes */
	if ((uint64_t)ndel + nadd > fedns_wire_left(&w) / 11 || ndel == 0 || nadd == 0)
		return FEDNS_EMALFORMED;
	fedns_err err = FEDNS_OK;
	for (uint64_t i = 0; i < (uint64_t)ndel + nadd && err == FEDNS_OK; i++) {
		fedns_rr rr;
		if (!get_rr(&w, &rr))
			return FEDNS_EMALFORMED;
		err = i < ndel ? fedns_diff_del(out, &rr) : fedns_diff_add(out, &rr);
	}
	if (err != FEDNS_OK)
		return err;
	if (fedns_wire_left(&w) != 0)
		return FEDNS_EMALFORMED;
	const fedns_rr *od = &out->del[0], *na = &out->add[0];
	if (od->type != FEDNS_T_SOA || na->type != FEDNS_T_SOA ||
	    fedns_soa_serial(od->rdata, od->rdlen) != *from ||
	    fedns_soa_serial(na->rdata, na->rdlen) != *to)
		return FEDNS_EMALFORMED;
	return FEDNS_OK;
}

/* ---- file helpers ---- */

static fedns_err
errno_err(int e)
{
	return e == ENOENT   ? FEDNS_ENOENT
	       : e == EACCES ? FEDNS_EACCES
	       : e == ENOMEM ? FEDNS_ENOMEM
			     : FEDNS_EIO;
}

static fedns_err
write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno_err(errno) : FEDNS_EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return FEDNS_OK;
}

static fedns_err
read_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? errno_err(errno) : FEDNS_ETRUNC;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return FEDNS_OK;
}

/* Reads a whole file relative to dfd into a malloc'd buffer. */
static fedns_err
read_file_at(int dfd, const char *name, size_t max, uint8_t **out, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno_err(errno);
	struct stat st;
	fedns_err err = FEDNS_OK;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = FEDNS_EIO;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = FEDNS_ETOOBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		err = FEDNS_ENOMEM;
		goto out;
	}
	err = read_all(fd, buf, (size_t)st.st_size, 0);
	if (err == FEDNS_OK) {
		*out = buf;
		*len = (size_t)st.st_size;
		buf = NULL;
	}
out:
	free(buf);
	close(fd);
	return err;
}

static fedns_err
sync_fd(int fd)
{
	return fsync(fd) == 0 ? FEDNS_OK : errno_err(errno);
}

/* Writes 'data' as 'name' in dfd atomically: name.tmp, fsync, rename, fsync dfd. */
static fedns_err
write_atomic(int dfd, const char *name, const void *data, size_t len)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno_err(errno);
	fedns_err err = write_all(fd, data, len, 0);
	if (err == FEDNS_OK)
		err = sync_fd(fd);
	close(fd);
	if (err == FEDNS_OK && renameat(dfd, tmp, dfd, name) != 0)
		err = errno_err(errno);
	if (err == FEDNS_OK)
		err = sync_fd(dfd);
	if (err != FEDNS_OK)
		unlinkat(dfd, tmp, 0);
	return err;
}

/* Streams a snapshot of z into a new file 'name' in dfd (not renamed: the caller does,
 * so it can order renames). The file is fsync'd. */
static fedns_err
write_snapshot(int dfd, const char *name, const fedns_zone *z)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno_err(errno);
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_hash h;
	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	uint64_t off = 0;
	fedns_err err = FEDNS_OK;
	fedns_buf_append(&b, SNAP_MAGIC, 8);
	put_u32(&b, FORMAT_VERSION);
	put_u32(&b, fedns_zone_serial(z));
	put_u16(&b, fedns_zone_class(z));
	fedns_buf_append(&b, fedns_zone_origin(z), fedns_name_len(fedns_zone_origin(z)));
	uint64_t count = fedns_zone_rr_count(z);
	put_u32(&b, (uint32_t)(count >> 32));
	put_u32(&b, (uint32_t)count);
	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	const fedns_rrset *set;
	while (err == FEDNS_OK && (set = fedns_zone_iter_next(&it)) != NULL) {
		const uint8_t *pos = set->rdata;
		for (uint32_t i = 0; i < set->count; i++) {
			uint16_t rdlen;
			const uint8_t *rd = fedns_rrset_next_rdata(&pos, &rdlen);
			fedns_rr rr = {.owner = set->owner,
				       .type = set->type,
				       .rclass = set->rclass,
				       .ttl = set->ttl,
				       .rdlen = rdlen,
				       .rdata = rd};
			put_rr(&b, &rr);
		}
		if (b.err != FEDNS_OK) {
			err = b.err;
		} else if (b.len >= WRITE_CHUNK) {
			fedns_hash_update(&h, b.data, b.len);
			err = write_all(fd, b.data, b.len, off);
			off += b.len;
			fedns_buf_clear(&b);
		}
	}
	if (err == FEDNS_OK && b.err == FEDNS_OK) {
		fedns_hash_update(&h, b.data, b.len);
		uint8_t d[FEDNS_SHA256_LEN];
		fedns_hash_final(&h, d);
		fedns_buf_append(&b, d, sizeof(d));
		err = b.err != FEDNS_OK ? b.err : write_all(fd, b.data, b.len, off);
	} else if (err == FEDNS_OK) {
		err = b.err;
	}
	if (err == FEDNS_OK)
		err = sync_fd(fd);
	fedns_buf_fini(&b);
	close(fd);
	if (err != FEDNS_OK)
		unlinkat(dfd, name, 0);
	return err;
}

/* Parses a snapshot file; on success *out is a finished zone. */
static fedns_err
read_snapshot(int dfd, fedns_zone **out, fedns_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	fedns_zone *z = NULL;
	fedns_err err = read_file_at(dfd, "snapshot", SNAP_MAX, &buf, &len);
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "snapshot cannot be read: %s", fedns_strerror(err));
		goto out;
	}
	uint8_t h[FEDNS_SHA256_LEN];
	if (len < 8 + 4 + 4 + 2 + 1 + 8 + sizeof(h) || memcmp(buf, SNAP_MAGIC, 8) != 0) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "snapshot is not a fedns snapshot");
		goto out;
	}
	fedns_hash_once(FEDNS_HASH_SHA256, buf, len - sizeof(h), h);
	if (memcmp(h, buf + len - sizeof(h), sizeof(h)) != 0) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "snapshot checksum does not match");
		goto out;
	}
	fedns_wire w;
	fedns_wire_init(&w, buf, len - sizeof(h));
	w.off = 8;
	uint32_t version = fedns_wire_u32(&w);
	uint32_t serial = fedns_wire_u32(&w);
	uint16_t rclass = fedns_wire_u16(&w);
	size_t nl = fedns_name_check(buf + w.off, fedns_wire_left(&w));
	const uint8_t *origin = nl ? fedns_wire_take(&w, nl) : NULL;
	uint64_t count = (uint64_t)fedns_wire_u32(&w) << 32;
	count |= fedns_wire_u32(&w);
	if (version != FORMAT_VERSION) {
		err = fedns_diag_set(d, FEDNS_ENOTSUP, "snapshot format %u is not supported",
				     version);
		goto out;
	}
	if (origin == NULL || w.err != FEDNS_OK || count > fedns_wire_left(&w) / 11) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "snapshot header is malformed");
		goto out;
	}
	err = fedns_zone_new(origin, rclass, NULL, &z);
	for (uint64_t i = 0; i < count && err == FEDNS_OK; i++) {
		fedns_rr rr;
		if (!get_rr(&w, &rr)) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "snapshot record %" PRIu64 " is malformed", i + 1);
			goto out;
		}
		err = fedns_zone_add(z, &rr, 0, (uint32_t)(i + 1));
		if (err != FEDNS_OK)
			fedns_diag_set(d, err, "snapshot record %" PRIu64 ": %s", i + 1,
				       fedns_strerror(err));
	}
	if (err == FEDNS_OK && fedns_wire_left(&w) != 0)
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "snapshot has trailing bytes");
	if (err == FEDNS_OK && fedns_zone_finish(z, NULL, NULL) != FEDNS_OK)
		err = fedns_diag_set(d, FEDNS_EZONE, "snapshot breaks the zone rules");
	if (err == FEDNS_OK && fedns_zone_serial(z) != serial)
		err = fedns_diag_set(d, FEDNS_EMALFORMED,
				     "snapshot says serial %u but its SOA has %u", serial,
				     fedns_zone_serial(z));
	if (err == FEDNS_OK) {
		*out = z;
		z = NULL;
	}
out:
	fedns_zone_free(z);
	free(buf);
	return err;
}

/* ---- zone table ---- */

static zjournal *
find_locked(spoke_journal *j, const uint8_t *origin, size_t *idx)
{
	for (size_t i = 0; i < j->n; i++) {
		if (fedns_name_equal(j->z[i]->origin, origin)) {
			if (idx != NULL)
				*idx = i;
			return j->z[i];
		}
	}
	return NULL;
}

static fedns_err
table_add_locked(spoke_journal *j, zjournal *zj)
{
	if (j->n == j->cap) {
		size_t ncap = j->cap ? j->cap * 2 : 16;
		zjournal **p = realloc(j->z, ncap * sizeof(*p));
		if (p == NULL)
			return FEDNS_ENOMEM;
		j->z = p;
		j->cap = ncap;
	}
	j->z[j->n++] = zj;
	return FEDNS_OK;
}

static void
zj_free(zjournal *zj)
{
	if (zj == NULL)
		return;
	if (zj->fd >= 0)
		close(zj->fd);
	if (zj->dfd >= 0)
		close(zj->dfd);
	spoke_version_rele(zj->pending);
	free(zj->recs);
	free(zj);
}

static fedns_err
recs_push(zjournal *zj, const rec *r)
{
	if (zj->nrec == zj->cap) {
		size_t ncap = zj->cap ? zj->cap * 2 : 64;
		rec *p = realloc(zj->recs, ncap * sizeof(*p));
		if (p == NULL)
			return FEDNS_ENOMEM;
		zj->recs = p;
		zj->cap = ncap;
	}
	zj->recs[zj->nrec++] = *r;
	return FEDNS_OK;
}

/* Bytes of journal after the snapshot. */
static uint64_t
tail_bytes(const zjournal *zj)
{
	uint64_t start = zj->snap_idx > 0
				 ? zj->recs[zj->snap_idx - 1].off + zj->recs[zj->snap_idx - 1].len
				 : JNL_HDR;
	return zj->end - start;
}

static void
queue_remove_locked(spoke_journal *j, zjournal *zj)
{
	zjournal **pp = &j->qhead, *prev = NULL;
	while (*pp != NULL && *pp != zj) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp == zj) {
		*pp = zj->qnext;
		if (j->qtail == zj)
			j->qtail = prev;
	}
	zj->qnext = NULL;
	zj->queued = false;
	spoke_version_rele(zj->pending);
	zj->pending = NULL;
}

/* Deletes a zone directory: the snapshot first (a directory without one is garbage to
 * the loader), then the rest. */
static fedns_err
remove_zone_dir(spoke_journal *j, const char *name)
{
	int dfd = openat(j->zfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return errno == ENOENT ? FEDNS_OK : errno_err(errno);
	fedns_err err = FEDNS_OK;
	if (unlinkat(dfd, "snapshot", 0) != 0 && errno != ENOENT)
		err = errno_err(errno);
	if (err == FEDNS_OK)
		err = sync_fd(dfd);
	static const char *rest[] = {"journal", "snapshot.tmp", "journal.tmp"};
	for (size_t i = 0; err == FEDNS_OK && i < 3; i++)
		if (unlinkat(dfd, rest[i], 0) != 0 && errno != ENOENT)
			err = errno_err(errno);
	close(dfd);
	if (err == FEDNS_OK && unlinkat(j->zfd, name, AT_REMOVEDIR) != 0)
		err = errno_err(errno);
	if (err == FEDNS_OK)
		err = sync_fd(j->zfd);
	return err;
}

/* A fresh zone directory holding an empty journal and a snapshot of z. */
static fedns_err
create_zone_locked(spoke_journal *j, const fedns_zone *z, zjournal **out, fedns_diag *d)
{
	char name[DIRNAME_MAX + 8];
	char ot[FEDNS_NAME_MAXTEXT];
	origin_text(fedns_zone_origin(z), ot, sizeof(ot));
	if (spoke_journal_dirname(fedns_zone_origin(z), name, sizeof(name)) == 0)
		return fedns_diag_set(d, FEDNS_EINVAL, "zone %s: no directory name", ot);
	fedns_err err = remove_zone_dir(j, name); /* leftovers of an interrupted run */
	if (err == FEDNS_OK && mkdirat(j->zfd, name, 0700) != 0)
		err = errno_err(errno);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "zone %s: cannot create its journal directory: %s",
				      ot, fedns_strerror(err));
	zjournal *zj = calloc(1, sizeof(*zj));
	if (zj == NULL)
		return FEDNS_ENOMEM;
	zj->fd = -1;
	zj->dfd = openat(j->zfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	fedns_name_copy(zj->origin, fedns_zone_origin(z));
	snprintf(zj->name, sizeof(zj->name), "%s", name);
	if (zj->dfd < 0) {
		err = errno_err(errno);
		goto out;
	}
	uint8_t hdr[JNL_HDR] = JNL_MAGIC;
	hdr[11] = FORMAT_VERSION;
	err = write_atomic(zj->dfd, "journal", hdr, sizeof(hdr));
	if (err == FEDNS_OK)
		err = write_snapshot(zj->dfd, "snapshot.tmp", z);
	if (err == FEDNS_OK && renameat(zj->dfd, "snapshot.tmp", zj->dfd, "snapshot") != 0)
		err = errno_err(errno);
	if (err == FEDNS_OK)
		err = sync_fd(zj->dfd);
	if (err == FEDNS_OK)
		err = sync_fd(j->zfd);
	if (err == FEDNS_OK) {
		zj->fd = openat(zj->dfd, "journal", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (zj->fd < 0)
			err = errno_err(errno);
	}
	zj->end = JNL_HDR;
	zj->snap_serial = fedns_zone_serial(z);
out:
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "zone %s: cannot write its snapshot: %s", ot,
			       fedns_strerror(err));
		zj_free(zj);
		remove_zone_dir(j, name);
		return err;
	}
	*out = zj;
	return FEDNS_OK;
}

/* ---- catalog serial ---- */

static fedns_err
write_catalog_reserve(spoke_journal *j, uint32_t upto)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%u\n", upto);
	fedns_err err = write_atomic(j->dirfd, "catalog-serial", text, (size_t)n);
	if (err == FEDNS_OK)
		j->cat_reserved = upto;
	return err;
}

/* ---- hooks ---- */

static fedns_err
hook_added(void *ctx, const spoke_version *v, fedns_diag *d)
{
	spoke_journal *j = ctx;
	pthread_mutex_lock(&j->mu);
	fedns_err err = FEDNS_OK;
	size_t idx;
	zjournal *old = find_locked(j, fedns_zone_origin(v->zone), &idx);
	if (old != NULL) {
		/* not expected (the set says the zone is new): start it over */
		while (j->busy == old)
			pthread_cond_wait(&j->cv, &j->mu);
		queue_remove_locked(j, old);
		j->z[idx] = j->z[--j->n];
		zj_free(old);
	}
	zjournal *zj = NULL;
	err = create_zone_locked(j, v->zone, &zj, d);
	if (err == FEDNS_OK) {
		err = table_add_locked(j, zj);
		if (err != FEDNS_OK) {
			remove_zone_dir(j, zj->name);
			zj_free(zj);
		}
	}
	pthread_mutex_unlock(&j->mu);
	return err;
}

static fedns_err
hook_changed(void *ctx, const spoke_version *v, fedns_diag *d)
{
	spoke_journal *j = ctx;
	const spoke_jentry *je = v->journal;
	char ot[FEDNS_NAME_MAXTEXT];
	origin_text(fedns_zone_origin(v->zone), ot, sizeof(ot));
	if (je == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "zone %s: change without a diff", ot);
	pthread_mutex_lock(&j->mu);
	fedns_err err = FEDNS_OK;
	zjournal *zj = find_locked(j, fedns_zone_origin(v->zone), NULL);
	if (zj == NULL) {
		/* a zone served before the journal was attached: start it at this version */
		err = create_zone_locked(j, v->zone, &zj, d);
		if (err == FEDNS_OK && (err = table_add_locked(j, zj)) != FEDNS_OK) {
			remove_zone_dir(j, zj->name);
			zj_free(zj);
		}
		pthread_mutex_unlock(&j->mu);
		return err;
	}
	fedns_buf b;
	fedns_buf_init(&b, (size_t)REC_MAX + 64);
	err = encode_record(&b, je->from, je->to, &je->diff);
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "zone %s: the change cannot be journaled: %s", ot,
			       fedns_strerror(err));
		goto out;
	}
	err = write_all(zj->fd, b.data, b.len, zj->end);
	if (err == FEDNS_OK && fdatasync(zj->fd) != 0)
		err = errno_err(errno);
	rec r = {.off = zj->end, .len = b.len, .from = je->from, .to = je->to};
	if (err == FEDNS_OK)
		err = recs_push(zj, &r);
	if (err != FEDNS_OK) {
		/* nothing after the last good record, so the next append starts clean */
		if (ftruncate(zj->fd, (off_t)zj->end) != 0)
			fedns_log(FEDNS_LOG_ERROR, "spoke.journal.truncate_failed",
				  FEDNS_LF_STR("zone", ot), FEDNS_LF_STR("error", strerror(errno)));
		fedns_diag_set(d, err, "zone %s: the journal cannot be written: %s", ot,
			       fedns_strerror(err));
		goto out;
	}
	zj->end += b.len;
	if (zj->nrec - zj->snap_idx >= j->compact_records || tail_bytes(zj) >= j->compact_bytes) {
		spoke_version_rele(zj->pending);
		zj->pending = spoke_version_hold((spoke_version *)v);
		if (!zj->queued) {
			zj->queued = true;
			zj->qnext = NULL;
			if (j->qtail != NULL)
				j->qtail->qnext = zj;
			else
				j->qhead = zj;
			j->qtail = zj;
			pthread_cond_broadcast(&j->cv);
		}
	}
out:
	fedns_buf_fini(&b);
	pthread_mutex_unlock(&j->mu);
	return err;
}

static fedns_err
hook_removed(void *ctx, const uint8_t *origin, fedns_diag *d)
{
	spoke_journal *j = ctx;
	char name[DIRNAME_MAX + 8];
	char ot[FEDNS_NAME_MAXTEXT];
	origin_text(origin, ot, sizeof(ot));
	if (spoke_journal_dirname(origin, name, sizeof(name)) == 0)
		return fedns_diag_set(d, FEDNS_EINVAL, "zone %s: no directory name", ot);
	pthread_mutex_lock(&j->mu);
	size_t idx;
	zjournal *zj = find_locked(j, origin, &idx);
	if (zj != NULL) {
		while (j->busy == zj)
			pthread_cond_wait(&j->cv, &j->mu);
		queue_remove_locked(j, zj);
		j->z[idx] = j->z[--j->n];
		zj_free(zj);
	}
	fedns_err err = remove_zone_dir(j, name);
	pthread_mutex_unlock(&j->mu);
	if (err != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "spoke.journal.remove_failed", FEDNS_LF_STR("zone", ot),
			  FEDNS_LF_STR("error", fedns_strerror(err)));
		return fedns_diag_set(d, err, "zone %s: its journal cannot be removed: %s", ot,
				      fedns_strerror(err));
	}
	return FEDNS_OK;
}

static fedns_err
hook_catalog(void *ctx, uint32_t serial, fedns_diag *d)
{
	spoke_journal *j = ctx;
	fedns_err err = FEDNS_OK;
	pthread_mutex_lock(&j->mu);
	if (fedns_serial_gt(serial, j->cat_reserved))
		err = write_catalog_reserve(j, fedns_serial_add(serial, CATALOG_RESERVE));
	pthread_mutex_unlock(&j->mu);
	if (err != FEDNS_OK)
		return fedns_diag_set(d, err, "the catalog serial cannot be reserved: %s",
				      fedns_strerror(err));
	return FEDNS_OK;
}

void
spoke_journal_attach(spoke_journal *j, spoke_zoneset *zs)
{
	spoke_zoneset_store st = {.ctx = j,
				  .added = hook_added,
				  .changed = hook_changed,
				  .removed = hook_removed,
				  .catalog = hook_catalog};
	spoke_zoneset_set_store(zs, &st);
}

/* ---- compaction ---- */

/* Copies [from, to) of the journal fd 'src' to 'dst' at offset 'at'. */
static fedns_err
copy_range(int src, uint64_t from, uint64_t to, int dst, uint64_t at)
{
	uint8_t *buf = malloc(WRITE_CHUNK);
	if (buf == NULL)
		return FEDNS_ENOMEM;
	fedns_err err = FEDNS_OK;
	while (from < to && err == FEDNS_OK) {
		size_t n = to - from < WRITE_CHUNK ? (size_t)(to - from) : WRITE_CHUNK;
		err = read_all(src, buf, n, from);
		if (err == FEDNS_OK)
			err = write_all(dst, buf, n, at);
		from += n;
		at += n;
	}
	free(buf);
	return err;
}

/* Compacts zj to version v. Called with the lock held; drops it for the long part. */
static void
compact_locked(spoke_journal *j, zjournal *zj, spoke_version *v)
{
	char ot[FEDNS_NAME_MAXTEXT];
	origin_text(zj->origin, ot, sizeof(ot));
	size_t k = zj->nrec;
	while (k > 0 && zj->recs[k - 1].to != v->serial)
		k--;
	if (k == 0 || k <= zj->snap_idx)
		return; /* nothing after the snapshot up to v (already compacted) */
	k--;
	size_t h0 = k + 1 > j->journal_max ? k + 1 - j->journal_max : 0;
	uint64_t off_a = zj->recs[h0].off, off_s = zj->recs[k].off + zj->recs[k].len;
	j->busy = zj;
	pthread_mutex_unlock(&j->mu);

	fedns_err err = write_snapshot(zj->dfd, "snapshot.tmp", v->zone);
	int nfd = -1;
	if (err == FEDNS_OK) {
		nfd = openat(zj->dfd, "journal.tmp",
			     O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (nfd < 0)
			err = errno_err(errno);
	}
	uint8_t hdr[JNL_HDR] = JNL_MAGIC;
	hdr[11] = FORMAT_VERSION;
	if (err == FEDNS_OK)
		err = write_all(nfd, hdr, sizeof(hdr), 0);
	if (err == FEDNS_OK)
		err = copy_range(zj->fd, off_a, off_s, nfd, JNL_HDR);

	pthread_mutex_lock(&j->mu);
	uint64_t delta = off_a - JNL_HDR;
	/* what was appended while the snapshot was written */
	if (err == FEDNS_OK)
		err = copy_range(zj->fd, off_s, zj->end, nfd, off_s - delta);
	if (err == FEDNS_OK)
		err = sync_fd(nfd);
	if (err == FEDNS_OK && renameat(zj->dfd, "snapshot.tmp", zj->dfd, "snapshot") != 0)
		err = errno_err(errno);
	if (err == FEDNS_OK) {
		/* from here the new snapshot is live and both journals fit it */
		if (renameat(zj->dfd, "journal.tmp", zj->dfd, "journal") != 0)
			err = errno_err(errno);
		sync_fd(zj->dfd);
	}
	if (err == FEDNS_OK) {
		close(zj->fd);
		zj->fd = nfd;
		nfd = -1;
		memmove(zj->recs, zj->recs + h0, (zj->nrec - h0) * sizeof(*zj->recs));
		zj->nrec -= h0;
		for (size_t i = 0; i < zj->nrec; i++)
			zj->recs[i].off -= delta;
		zj->end -= delta;
		zj->snap_idx = k + 1 - h0;
		zj->snap_serial = v->serial;
		fedns_log(FEDNS_LOG_DEBUG, "spoke.journal.compacted", FEDNS_LF_STR("zone", ot),
			  FEDNS_LF_UINT("serial", v->serial), FEDNS_LF_UINT("kept", zj->nrec));
	} else {
		unlinkat(zj->dfd, "snapshot.tmp", 0);
		unlinkat(zj->dfd, "journal.tmp", 0);
		fedns_log(FEDNS_LOG_ERROR, "spoke.journal.compact_failed", FEDNS_LF_STR("zone", ot),
			  FEDNS_LF_STR("error", fedns_strerror(err)));
	}
	if (nfd >= 0)
		close(nfd);
	j->busy = NULL;
	pthread_cond_broadcast(&j->cv);
}

static void *
worker_main(void *arg)
{
	spoke_journal *j = arg;
	pthread_mutex_lock(&j->mu);
	while (!j->stop) {
		zjournal *zj = j->qhead;
		if (zj == NULL) {
			pthread_cond_wait(&j->cv, &j->mu);
			continue;
		}
		j->qhead = zj->qnext;
		if (j->qhead == NULL)
			j->qtail = NULL;
		zj->qnext = NULL;
		zj->queued = false;
		spoke_version *v = zj->pending;
		zj->pending = NULL;
		if (v != NULL)
			compact_locked(j, zj, v);
		/* released under the lock: v may be the last holder of a big zone, but its
		 * zone is freed in mmapped blocks and quickly */
		spoke_version_rele(v);
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

void
spoke_journal_sync(spoke_journal *j)
{
	pthread_mutex_lock(&j->mu);
	while (j->worker_running && (j->qhead != NULL || j->busy != NULL))
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

/* ---- open, load, close ---- */

fedns_err
spoke_journal_open(const spoke_journal_opts *o, spoke_journal **out, fedns_diag *d)
{
	const char *dir = o->dir;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return fedns_diag_set(d, errno_err(errno),
				      "state directory %s cannot be created: %s", dir,
				      strerror(errno));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fedns_diag_set(d, errno_err(errno),
				      "state directory %s cannot be opened: %s", dir,
				      strerror(errno));
	struct stat st;
	if (fstat(dfd, &st) != 0 || st.st_uid != geteuid()) {
		close(dfd);
		return fedns_diag_set(d, FEDNS_EACCES,
				      "state directory %s is not owned by this user", dir);
	}
	if ((st.st_mode & 077) != 0 && fchmod(dfd, 0700) != 0) {
		close(dfd);
		return fedns_diag_set(d, FEDNS_EACCES, "state directory %s cannot be made 0700: %s",
				      dir, strerror(errno));
	}
	if (mkdirat(dfd, "zones", 0700) != 0 && errno != EEXIST) {
		int e = errno;
		close(dfd);
		return fedns_diag_set(d, errno_err(e), "%s/zones cannot be created: %s", dir,
				      strerror(e));
	}
	int zfd = openat(dfd, "zones", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (zfd < 0) {
		int e = errno;
		close(dfd);
		return fedns_diag_set(d, errno_err(e), "%s/zones cannot be opened: %s", dir,
				      strerror(e));
	}
	spoke_journal *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		close(zfd);
		close(dfd);
		return FEDNS_ENOMEM;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->dirfd = dfd;
	j->zfd = zfd;
	j->journal_max = o->journal_max ? o->journal_max : 1000;
	j->compact_records = o->compact_records ? o->compact_records : 64;
	j->compact_bytes = o->compact_bytes ? o->compact_bytes : (uint64_t)64 << 20;
	if (pthread_create(&j->worker, NULL, worker_main, j) != 0) {
		spoke_journal_close(j);
		return fedns_diag_set(d, FEDNS_ENOMEM, "journal worker cannot start");
	}
	j->worker_running = true;
	*out = j;
	return FEDNS_OK;
}

void
spoke_journal_close(spoke_journal *j)
{
	if (j == NULL)
		return;
	if (j->worker_running) {
		pthread_mutex_lock(&j->mu);
		j->stop = true;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->worker, NULL);
	}
	for (size_t i = 0; i < j->n; i++)
		zj_free(j->z[i]);
	free(j->z);
	close(j->zfd);
	close(j->dirfd);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void
warn_truncated(const char *zone, uint64_t off, const char *why)
{
	fedns_log(FEDNS_LOG_WARN, "spoke.journal.truncated", FEDNS_LF_STR("zone", zone),
		  FEDNS_LF_UINT("offset", off), FEDNS_LF_STR("reason", why));
}

/* Loads one zone directory into zs; *zj_out is its journal state. */
static fedns_err
load_zone(spoke_journal *j, spoke_zoneset *zs, const char *name, zjournal **zj_out, fedns_diag *d)
{
	fedns_zone *z = NULL, *nz = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	spoke_zoneset_jdiff *jd = NULL;
	size_t njd = 0;
	zjournal *zj = calloc(1, sizeof(*zj));
	if (zj == NULL)
		return FEDNS_ENOMEM;
	zj->fd = -1;
	snprintf(zj->name, sizeof(zj->name), "%s", name);
	zj->dfd = openat(j->zfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	fedns_err err = FEDNS_OK;
	if (zj->dfd < 0) {
		err = fedns_diag_set(d, errno_err(errno), "zones/%s cannot be opened: %s", name,
				     strerror(errno));
		goto out;
	}
	err = read_snapshot(zj->dfd, &z, d);
	if (err != FEDNS_OK)
		goto out;
	char ot[FEDNS_NAME_MAXTEXT], expect[DIRNAME_MAX + 8];
	origin_text(fedns_zone_origin(z), ot, sizeof(ot));
	spoke_journal_dirname(fedns_zone_origin(z), expect, sizeof(expect));
	if (strcmp(expect, name) != 0) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED,
				     "zones/%s holds zone %s, whose directory is zones/%s", name,
				     ot, expect);
		goto out;
	}
	fedns_name_copy(zj->origin, fedns_zone_origin(z));
	zj->snap_serial = fedns_zone_serial(z);
	zj->fd = openat(zj->dfd, "journal", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (zj->fd < 0 && errno != ENOENT) {
		err = fedns_diag_set(d, errno_err(errno), "zone %s: journal cannot be opened: %s",
				     ot, strerror(errno));
		goto out;
	}
	if (zj->fd >= 0) {
		err = read_file_at(zj->dfd, "journal", JNL_MAX, &buf, &len);
		if (err != FEDNS_OK) {
			fedns_diag_set(d, err, "zone %s: journal cannot be read: %s", ot,
				       fedns_strerror(err));
			goto out;
		}
	}
	bool rewrite = false;
	uint64_t good = JNL_HDR;
	if (zj->fd < 0 || len < JNL_HDR || memcmp(buf, JNL_MAGIC, 8) != 0 || buf[8] != 0 ||
	    buf[9] != 0 || buf[10] != 0 || buf[11] != FORMAT_VERSION) {
		/* only a crash while the zone was created leaves this: no change was lost */
		if (zj->fd >= 0)
			warn_truncated(ot, 0, "journal header is missing or damaged");
		rewrite = true;
	} else {
		/* scan records while they are whole, hash-clean and chained */
		uint64_t off = JNL_HDR;
		for (;;) {
			if (len - off == 0)
				break;
			const char *why = NULL;
			uint32_t plen = 0;
			if (len - off < 4) {
				why = "torn record";
			} else {
				plen = ((uint32_t)buf[off] << 24) | ((uint32_t)buf[off + 1] << 16) |
				       ((uint32_t)buf[off + 2] << 8) | buf[off + 3];
				if (plen > REC_MAX || plen < 16)
					why = "bad record length";
				else if (len - off - 4 < (uint64_t)plen + REC_HASH)
					why = "torn record";
			}
			uint8_t h[REC_HASH];
			if (why == NULL) {
				fedns_hash_once(FEDNS_HASH_SHA256, buf + off, 4 + (size_t)plen, h);
				if (memcmp(h, buf + off + 4 + plen, REC_HASH) != 0)
					why = "record checksum does not match";
			}
			spoke_zoneset_jdiff one = {0};
			fedns_diff_init(&one.diff);
			if (why == NULL && decode_payload(buf + off + 4, plen, &one.from, &one.to,
							  &one.diff) != FEDNS_OK)
				why = "record is malformed";
			if (why == NULL && njd > 0 && one.from != jd[njd - 1].to)
				why = "record does not continue the one before";
			if (why == NULL) {
				spoke_zoneset_jdiff *p = realloc(jd, (njd + 1) * sizeof(*p));
				rec r = {.off = off,
					 .len = 4 + (uint64_t)plen + REC_HASH,
					 .from = one.from,
					 .to = one.to};
				if (p == NULL || recs_push(zj, &r) != FEDNS_OK) {
					if (p != NULL)
						jd = p;
					fedns_diff_fini(&one.diff);
					err = FEDNS_ENOMEM;
					goto out;
				}
				jd = p;
				jd[njd++] = one;
				off += r.len;
				continue;
			}
			fedns_diff_fini(&one.diff);
			warn_truncated(ot, off, why);
			break;
		}
		good = off;
	}
	/* where the snapshot sits in the chain */
	size_t k = njd;
	while (k > 0 && jd[k - 1].to != zj->snap_serial)
		k--;
	if (k == 0 && njd > 0 && jd[0].from != zj->snap_serial) {
		fedns_log(FEDNS_LOG_ERROR, "spoke.journal.unlinked", FEDNS_LF_STR("zone", ot),
			  FEDNS_LF_UINT("serial", zj->snap_serial),
			  FEDNS_LF_STR("error", "journal does not reach the snapshot; history "
						"dropped"));
		rewrite = true;
	}
	zj->snap_idx = k;
	/* replay what follows the snapshot */
	for (size_t i = k; !rewrite && i < njd; i++) {
		fedns_diag ad;
		fedns_diag_clear(&ad);
		err = fedns_diff_apply(z, &jd[i].diff, &nz, &ad);
		if (err != FEDNS_OK) {
			warn_truncated(ot, zj->recs[i].off, ad.msg);
			good = zj->recs[i].off;
			for (size_t m = i; m < njd; m++)
				fedns_diff_fini(&jd[m].diff);
			njd = zj->nrec = i;
			err = FEDNS_OK;
			break;
		}
		fedns_zone_free(z);
		z = nz;
		nz = NULL;
	}
	if (rewrite) {
		for (size_t m = 0; m < njd; m++)
			fedns_diff_fini(&jd[m].diff);
		njd = zj->nrec = zj->snap_idx = 0;
		uint8_t hdr[JNL_HDR] = JNL_MAGIC;
		hdr[11] = FORMAT_VERSION;
		if (zj->fd >= 0)
			close(zj->fd);
		zj->fd = -1;
		err = write_atomic(zj->dfd, "journal", hdr, sizeof(hdr));
		if (err == FEDNS_OK) {
			zj->fd = openat(zj->dfd, "journal", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
			if (zj->fd < 0)
				err = errno_err(errno);
		}
		if (err != FEDNS_OK) {
			fedns_diag_set(d, err, "zone %s: journal cannot be rewritten: %s", ot,
				       fedns_strerror(err));
			goto out;
		}
		good = JNL_HDR;
	} else if (good < len) {
		/* cut the bad tail so appends follow the last good record */
		if (ftruncate(zj->fd, (off_t)good) != 0 || fsync(zj->fd) != 0) {
			err = fedns_diag_set(d, errno_err(errno),
					     "zone %s: journal cannot be truncated: %s", ot,
					     strerror(errno));
			goto out;
		}
	}
	zj->end = good;
	err = spoke_zoneset_restore(zs, z, jd, njd, d);
	if (err != FEDNS_OK)
		goto out;
	z = NULL;
out:
	for (size_t m = 0; m < njd; m++)
		fedns_diff_fini(&jd[m].diff);
	free(jd);
	free(buf);
	fedns_zone_free(z);
	fedns_zone_free(nz);
	if (err != FEDNS_OK) {
		zj_free(zj);
		return err;
	}
	*zj_out = zj;
	return FEDNS_OK;
}

fedns_err
spoke_journal_load(spoke_journal *j, spoke_zoneset *zs, size_t *loaded, size_t *failed,
		   fedns_diag *d)
{
	size_t nok = 0, nbad = 0;
	/* the catalog continues above anything reserved before */
	uint8_t *text = NULL;
	size_t tl = 0;
	uint32_t reserved = 0;
	fedns_err err = read_file_at(j->dirfd, "catalog-serial", 64, &text, &tl);
	if (err == FEDNS_OK) {
		text[tl] = '\0';
		char *end;
		unsigned long v = strtoul((char *)text, &end, 10);
		if (end == (char *)text || v > UINT32_MAX) {
			free(text);
			return fedns_diag_set(d, FEDNS_EMALFORMED,
					      "catalog-serial does not hold a serial");
		}
		reserved = (uint32_t)v;
	} else if (err != FEDNS_ENOENT) {
		return fedns_diag_set(d, err, "catalog-serial cannot be read: %s",
				      fedns_strerror(err));
	}
	free(text);

	int zfd2 = dup(j->zfd);
	DIR *dp = zfd2 >= 0 ? fdopendir(zfd2) : NULL;
	if (dp == NULL) {
		if (zfd2 >= 0)
			close(zfd2);
		return fedns_diag_set(d, FEDNS_EIO, "zones directory cannot be listed: %s",
				      strerror(errno));
	}
	rewinddir(dp);
	char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	err = FEDNS_OK;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char **p = realloc(names, (nn + 1) * sizeof(*p));
		if (p == NULL || (p[nn] = strdup(de->d_name)) == NULL) {
			if (p != NULL)
				names = p;
			err = FEDNS_ENOMEM;
			break;
		}
		names = p;
		nn++;
	}
	closedir(dp);
	/* catalog serials from here on: reserved + 1 ..; reserve past what the restore uses */
	uint32_t start = fedns_serial_add(reserved, 1);
	pthread_mutex_lock(&j->mu);
	if (err == FEDNS_OK)
		err = write_catalog_reserve(
			j, fedns_serial_add(start, (uint32_t)nn + CATALOG_RESERVE));
	pthread_mutex_unlock(&j->mu);
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "catalog-serial cannot be written: %s", fedns_strerror(err));
		goto out;
	}
	spoke_zoneset_catalog_resume(zs, start);
	for (size_t i = 0; i < nn; i++) {
		struct stat st;
		if (fstatat(j->zfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		char sp[NAME_MAX + 16];
		snprintf(sp, sizeof(sp), "%s/snapshot", names[i]);
		if (fstatat(j->zfd, sp, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
			/* an interrupted creation or removal: nothing was served from it */
			fedns_log(FEDNS_LOG_INFO, "spoke.journal.leftover_removed",
				  FEDNS_LF_STR("dir", names[i]));
			remove_zone_dir(j, names[i]);
			continue;
		}
		fedns_diag zd;
		fedns_diag_clear(&zd);
		zjournal *zj = NULL;
		fedns_err zerr = load_zone(j, zs, names[i], &zj, &zd);
		if (zerr == FEDNS_OK) {
			pthread_mutex_lock(&j->mu);
			zerr = table_add_locked(j, zj);
			pthread_mutex_unlock(&j->mu);
			if (zerr != FEDNS_OK) {
				zj_free(zj);
				fedns_diag_set(&zd, zerr, "out of memory");
			}
		}
		if (zerr != FEDNS_OK) {
			char msg[FEDNS_DIAG_MSG_MAX + 300];
			fedns_log(FEDNS_LOG_ERROR, "spoke.journal.zone_failed",
				  FEDNS_LF_STR("dir", names[i]),
				  FEDNS_LF_STR("error", fedns_diag_format(&zd, msg, sizeof(msg))));
			nbad++;
			continue;
		}
		nok++;
	}
out:
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	if (loaded != NULL)
		*loaded = nok;
	if (failed != NULL)
		*failed = nbad;
	return err;
}
