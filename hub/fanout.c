/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's side of federation: accepts spokes over mutual TLS, authenticates each by its
 * signed nonce, and streams every placed zone's signed change sets (or a snapshot) in
 * order with a window of unacknowledged blobs, storing acknowledgements and status. */
#include "hub/fanout.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/arena.h"
#include "common/encode.h"
#include "common/log.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zonemd.h"
#include "proto/msg.h"
#include "tls/conn.h"
#include "tls/pki.h"
#include "tls/sign.h"
#include "tls/spokeauth.h"

#define WINDOW 256		    /* unacknowledged blobs per session */
#define BATCH 64		    /* change sets read (and signed) per store round */
#define INQ_MAX 4096		    /* decoded messages queued from reader to worker */
#define SPOKE_MAX_FRAME (64u << 20) /* a spoke sends hellos, acks and reports only */
#define CT_SLOTS 65536		    /* commit times remembered (zone, serial) -> ms */
#define EVQ_MAX 100000		    /* zone-changed events queued before "everything" */

static const double lat_le_ms[HUB_FANOUT_LAT_BUCKETS - 1] = {1,	  2,   5,   10,	  20,  50,
							     100, 200, 500, 1000, 5000};

/* ---------------------------------------------------------------- time */

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
abs_after(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void
cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/* ---------------------------------------------------------------- digests */

/* The store keeps a version's digest as hex, its length telling the algorithm: 64 digits
 * the tree digest (dns/zdigest.h, alg 240), 96 a ZONEMD SHA-384 (alg 1) written by hubs
 * before the tree digest. */
static bool
digest_from_hex(const char *hex, fedns_proto_digest *out)
{
	size_t n = 0, hl = hex != NULL ? strlen(hex) : 0;
	memset(out, 0, sizeof(*out));
	if (hl != 2 * FEDNS_ZDIGEST_LEN && hl != 96)
		return false;
	if (fedns_hex_decode(hex, hl, out->value, sizeof(out->value), &n) != FEDNS_OK ||
	    n * 2 != hl)
		return false;
	out->alg = n == FEDNS_ZDIGEST_LEN ? FEDNS_ZDIGEST_ALG : FEDNS_ZONEMD_SHA384;
	out->len = (uint8_t)n;
	return true;
}

/* The digests the hub stores and compares, as digest_from_hex reads them ("" otherwise). */
static void
digest_to_hex(const fedns_proto_digest *d, char out[97])
{
	out[0] = '\0';
	if ((d->alg == FEDNS_ZDIGEST_ALG && d->len == FEDNS_ZDIGEST_LEN) ||
	    (d->alg == FEDNS_ZONEMD_SHA384 && d->len == 48))
		fedns_hex_encode(d->value, d->len, out, 0);
}

static void
any_digest_to_hex(const fedns_proto_digest *d, char out[129])
{
	out[0] = '\0';
	if (d->len > 0 && d->len <= 64)
		fedns_hex_encode(d->value, d->len, out, 0);
}

static bool
hex_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && a[0] != '\0' && strcasecmp(a, b) == 0;
}

/* ---------------------------------------------------------------- diff text -> RRs */

typedef struct rrvec {
	fedns_rr *v;
	size_t n, cap;
} rrvec;

static fedns_err
rrvec_push(rrvec *r, const fedns_rr *rr)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		fedns_rr *v = realloc(r->v, nc * sizeof(*v));
		if (v == NULL)
			return FEDNS_ENOMEM;
		r->v = v;
		r->cap = nc;
	}
	r->v[r->n++] = *rr;
	return FEDNS_OK;
}

#define MAX_TOKENS 4096

/* Splits one fedns_rr_print line into tokens: whitespace separates, "quoted strings" and
 * backslash escapes stay raw for fedns_rdata_from_text. The lines are the hub's own
 * output, so anything else (parentheses, comments) is refused, not interpreted. */
static fedns_err
split_line(const char *s, size_t len, fedns_token *tok, size_t *ntok)
{
	size_t i = 0, n = 0;
	while (i < len) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
			continue;
		}
		if (n == MAX_TOKENS || c == ';' || c == '(' || c == ')')
			return FEDNS_EMALFORMED;
		if (c == '"') {
			size_t st = ++i;
			while (i < len && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			if (i >= len)
				return FEDNS_EMALFORMED;
			tok[n++] = (fedns_token){
				.s = s + st, .len = (uint32_t)(i - st), .quoted = true};
			i++;
			continue;
		}
		size_t st = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '"')
			i += s[i] == '\\' ? 2 : 1;
		if (i > len)
			return FEDNS_EMALFORMED;
		tok[n++] = (fedns_token){.s = s + st, .len = (uint32_t)(i - st), .quoted = false};
	}
	*ntok = n;
	return FEDNS_OK;
}

/* Parses the diff into del/add (RR storage in a), SOA lines first on each side. */
static fedns_err
parse_diff(const char *text, fedns_arena *a, rrvec *del, rrvec *add, fedns_diag *d)
{
	static const uint8_t root[1] = {0};
	fedns_token *tok = malloc(MAX_TOKENS * sizeof(*tok));
	uint8_t *rd = malloc(FEDNS_RDATA_MAXLEN);
	fedns_err err = FEDNS_OK;
	unsigned lineno = 0;
	bool soa_del = false, soa_add = false;

	if (tok == NULL || rd == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *line = p;
		p = nl != NULL ? nl + 1 : p + len;
		lineno++;
		if (len == 0)
			continue;
		if (line[0] != '-' && line[0] != '+') {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "diff line %u starts with neither '-' nor '+'",
					     lineno);
			goto out;
		}
		size_t ntok = 0, olen = 0, rdlen = 0;
		uint8_t owner[FEDNS_NAME_MAXLEN];
		uint32_t ttl = 0;
		uint16_t rclass = 0, type = 0;
		fedns_diag td = {0};
		if (split_line(line + 1, len - 1, tok, &ntok) != FEDNS_OK || ntok < 4) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "diff line %u is not one record (owner TTL class type "
					     "rdata)",
					     lineno);
			goto out;
		}
		if (fedns_name_from_text(tok[0].s, tok[0].len, root, owner, &olen, &td) !=
			    FEDNS_OK ||
		    fedns_ttl_from_text(tok[1].s, tok[1].len, &ttl, &td) != FEDNS_OK ||
		    fedns_class_from_text(tok[2].s, tok[2].len, &rclass) != FEDNS_OK ||
		    fedns_rrtype_from_text(tok[3].s, tok[3].len, &type) != FEDNS_OK ||
		    fedns_rdata_from_text(type, tok + 4, ntok - 4, root, rd, FEDNS_RDATA_MAXLEN,
					  &rdlen, &td) != FEDNS_OK) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED, "diff line %u: %s", lineno,
					     td.msg[0] ? td.msg : "bad owner, TTL, class or type");
			goto out;
		}
		fedns_rr rr = {.owner = fedns_arena_memdup(a, owner, olen),
			       .type = type,
			       .rclass = rclass,
			       .ttl = ttl,
			       .rdlen = (uint16_t)rdlen,
			       .rdata = rdlen ? fedns_arena_memdup(a, rd, rdlen) : rd};
		if (rr.owner == NULL || (rdlen && rr.rdata == NULL)) {
			err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
			goto out;
		}
		if (rdlen == 0)
			rr.rdata = NULL;
		rrvec *v = line[0] == '-' ? del : add;
		bool *seen = line[0] == '-' ? &soa_del : &soa_add;
		if (type == FEDNS_T_SOA) {
			if (*seen) {
				err = fedns_diag_set(d, FEDNS_EMALFORMED,
						     "diff line %u: a second SOA on the '%c' side",
						     lineno, line[0]);
				goto out;
			}
			*seen = true;
		}
		if ((err = rrvec_push(v, &rr)) != FEDNS_OK) {
			fedns_diag_set(d, err, "out of memory");
			goto out;
		}
		if (type == FEDNS_T_SOA && v->n > 1) {
			/* IXFR shape: the SOA leads its side */
			fedns_rr t = v->v[v->n - 1];
			memmove(v->v + 1, v->v, (v->n - 1) * sizeof(*v->v));
			v->v[0] = t;
		}
	}
	if (!soa_del || !soa_add)
		err = fedns_diag_set(d, FEDNS_EMALFORMED,
				     "diff has no %s SOA line: not a committed change",
				     soa_del ? "new (+)" : "old (-)");
out:
	free(tok);
	free(rd);
	return err;
}

/* Fills *cs from c's diff; the RRs live in a (which must outlive cs), the strings are
 * borrowed from the caller. */
static fedns_err
changeset_build(const hub_signed_change *c, const char *zone, uint64_t commit_ms,
		const char *author, const char *const *approvers, size_t napprovers, fedns_arena *a,
		fedns_proto_changeset *cs, fedns_diag *d)
{
	rrvec del = {0}, add = {0};
	fedns_err err;

	memset(cs, 0, sizeof(*cs));
	if (!digest_from_hex(c->digest, &cs->digest)) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED,
				     "change %" PRId64 ": digest is neither a tree digest nor a "
				     "ZONEMD SHA-384 in hex",
				     c->change_id);
		goto out;
	}
	if ((err = parse_diff(c->diff, a, &del, &add, d)) != FEDNS_OK)
		goto out;
	uint32_t from = fedns_soa_serial(del.v[0].rdata, del.v[0].rdlen);
	uint32_t to = fedns_soa_serial(add.v[0].rdata, add.v[0].rdlen);
	if (from != c->from_serial || to != c->to_serial) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED,
				     "change %" PRId64 ": its SOA lines go from %" PRIu32
				     " to %" PRIu32 ", not %" PRIu32 " to %" PRIu32,
				     c->change_id, from, to, c->from_serial, c->to_serial);
		goto out;
	}
	cs->deleted = fedns_arena_memdup(a, del.v, del.n * sizeof(*del.v));
	cs->added = fedns_arena_memdup(a, add.v, add.n * sizeof(*add.v));
	if (cs->deleted == NULL || cs->added == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	cs->zone = zone;
	cs->from_serial = c->from_serial;
	cs->to_serial = c->to_serial;
	cs->ndeleted = del.n;
	cs->nadded = add.n;
	cs->change_id = (uint64_t)c->change_id;
	cs->commit_time = commit_ms;
	cs->author = author;
	cs->approvers = approvers;
	cs->napprovers = napprovers;
out:
	free(del.v);
	free(add.v);
	return err;
}

fedns_err
hub_fanout_changeset_payload(const hub_signed_change *c, const char *zone, uint64_t commit_ms,
			     const char *author, const char *const *approvers, size_t napprovers,
			     uint8_t **out, size_t *len, fedns_diag *d)
{
	if (c == NULL || zone == NULL || out == NULL || len == NULL || c->diff == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "change set: missing argument");
	fedns_arena a;
	fedns_proto_body b;
	fedns_err err;

	*out = NULL;
	fedns_arena_init(&a, 64 * 1024, 0);
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_CHANGESET;
	err = changeset_build(c, zone, commit_ms, author, approvers, napprovers, &a, &b.u.changeset,
			      d);
	if (err == FEDNS_OK && (err = fedns_proto_body_encode(&b, out, len)) != FEDNS_OK)
		fedns_diag_set(d, err, "change %" PRId64 ": encoding the change set: %s",
			       c->change_id, fedns_strerror(err));
	fedns_arena_fini(&a);
	return err;
}

typedef struct snapwalk {
	rrvec rrs;
	fedns_err err;
} snapwalk;

static int
snap_rr(void *ctx, const fedns_rr *rr)
{
	snapwalk *w = ctx;
	if (rr->type == FEDNS_T_SOA)
		return 0;
	w->err = rrvec_push(&w->rrs, rr);
	return w->err != FEDNS_OK;
}

fedns_err
hub_fanout_snapshot_payload(const fedns_zone *z, const char *zone, const fedns_proto_digest *digest,
			    uint64_t change_id, uint64_t created_ms, uint8_t **out, size_t *len,
			    fedns_diag *d)
{
	if (z == NULL || zone == NULL || digest == NULL || out == NULL || len == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "snapshot: missing argument");
	snapwalk w = {0};
	fedns_rr soa;
	fedns_proto_body b;
	fedns_err err;

	if (!fedns_zone_soa(z, &soa))
		return fedns_diag_set(d, FEDNS_EINVAL, "snapshot of %s: zone has no SOA", zone);
	if ((err = rrvec_push(&w.rrs, &soa)) != FEDNS_OK)
		return fedns_diag_set(d, err, "out of memory");
	fedns_zone_walk(z, snap_rr, &w);
	if (w.err != FEDNS_OK) {
		free(w.rrs.v);
		return fedns_diag_set(d, w.err, "out of memory");
	}
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_SNAPSHOT;
	fedns_proto_snapshot *sn = &b.u.snapshot;
	sn->zone = zone;
	sn->serial = fedns_zone_serial(z);
	sn->rrs = w.rrs.v;
	sn->nrrs = w.rrs.n;
	sn->digest = *digest;
	sn->change_id = change_id;
	sn->created_time = created_ms;
	if ((err = fedns_proto_body_encode(&b, out, len)) != FEDNS_OK)
		fedns_diag_set(d, err, "snapshot of %s: encoding: %s", zone, fedns_strerror(err));
	free(w.rrs.v);
	return err;
}

hub_fanout_plan
hub_fanout_resume_plan(const hub_fanout_resume *r, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	if (!r->held) {
		*why = "the spoke does not hold the zone";
		return HUB_FANOUT_SNAPSHOT;
	}
	if (r->spoke_serial == r->hub_serial) {
		if (hex_eq(r->spoke_digest, r->hub_digest)) {
			*why = "the spoke holds the current version";
			return HUB_FANOUT_CURRENT;
		}
		*why = "the spoke's digest differs from the hub's for that serial";
		return HUB_FANOUT_SNAPSHOT;
	}
	if (r->changes_err != FEDNS_OK) {
		*why = "the spoke's serial is not a version the hub keeps";
		return HUB_FANOUT_SNAPSHOT;
	}
	if (r->digest_at_spoke_serial == NULL ||
	    !hex_eq(r->spoke_digest, r->digest_at_spoke_serial)) {
		*why = r->digest_at_spoke_serial == NULL
			       ? "the hub cannot tell the digest of the spoke's version"
			       : "the spoke's digest differs from the hub's for that serial";
		return HUB_FANOUT_SNAPSHOT;
	}
	if (r->nchanges > r->snapshot_after) {
		*why = "the spoke is too far behind";
		return HUB_FANOUT_SNAPSHOT;
	}
	if (r->nchanges == 0) {
		/* a kept version with nothing after it that is not current: the journal and
		 * the zone disagree; the whole zone settles it */
		*why = "no change sets lead from the spoke's version to the current one";
		return HUB_FANOUT_SNAPSHOT;
	}
	*why = "catching up from the journal";
	return HUB_FANOUT_CHANGES;
}

/* ---------------------------------------------------------------- runtime state */

/* One blob sent and not yet acknowledged. */
typedef struct inflight {
	int64_t zone_id;
	uint32_t to_serial;
	int64_t change_id; /* 0: snapshot */
	int64_t commit_ms; /* hub commit of to_serial, 0 unknown */
	uint32_t epoch;	   /* of its zone when sent */
	char digest[97];   /* what the spoke must hold after it */
} inflight;

/* What the recorder remembers of a secondary (confirmation time across reports) and of a
 * (cluster, zone) (the last serial whose latency was counted). Recorder thread only. */
typedef struct secmem {
	struct secmem *next;
	char cluster[64];
	int64_t zone_id;
	char name[64]; /* "" for the (cluster, zone) entry */
	char state[16];
	uint32_t serial;
	int64_t confirmed_ms;
	bool lat_done;
} secmem;

/* Store writes the fan-out does not wait for, done by one recorder thread in one write
 * transaction per flush: with synchronous commits each transaction costs an fsync, so
 * per-session (let alone per-ack) transactions would cost an fsync per spoke per change. */
typedef enum rec_kind {
	REC_SIGNED = 1, /* a change set's signed form */
	REC_ACK,	/* spoke_zones row, counters, the refusal's audit */
	REC_STATUS,	/* secondaries rows, audits of state changes, latency */
	REC_SENT,	/* counter */
	REC_FORGET,	/* (cluster, zone) no longer placed: its rows go */
} rec_kind;

typedef struct rec {
	struct rec *next;
	rec_kind kind;
	char cluster[64];
	int64_t zone_id;
	/* REC_SIGNED */
	int64_t change_id;
	uint8_t *payload;
	size_t plen;
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	char key_id[64];
	/* REC_ACK */
	hub_spoke_zone row;
	bool refused;
	char *err;   /* last_error for a refusal, malloc'd */
	char *audit; /* audit target when this refusal is audited, malloc'd */
	/* REC_STATUS */
	hub_secondary *rows;
	size_t nrows;
	/* REC_SENT */
	uint32_t sent;
} rec;

#define SC_SLOTS 4096 /* signed change sets kept in memory, by change id */
#define RH_BUCKETS 4096
#define FLUSH_MS 50

typedef struct sigent {
	int64_t change_id;
	uint8_t *payload;
	size_t plen;
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	char key_id[64];
} sigent;

/* One zone carried by one spoke. */
typedef struct zst {
	int64_t id;
	char name[256];
	bool dirty;    /* something to look at: the zone changed, or more may be sent */
	bool resume;   /* choose changes or snapshot from what the spoke says it holds */
	bool snapshot; /* send a snapshot next */
	bool known;    /* pos is what the spoke holds once everything sent is applied */
	uint32_t pos;
	bool held; /* the spoke's own word (hello or last ack) */
	uint32_t spoke_serial;
	char spoke_digest[97];
	bool stalled; /* a snapshot was refused: wait for the hub's next version */
	uint32_t stalled_at;
	bool ended;	/* the zone was deleted: nothing more to send */
	uint32_t epoch; /* bumped when a refusal is being resolved */
	size_t inflight;
} zst;

typedef struct msgq {
	fedns_proto_msg *m;
	int64_t at; /* hub clock when received */
	struct msgq *next;
} msgq;

typedef struct session session;

/* A snapshot, signed, shared by every session that sends it. */
typedef struct snap {
	int64_t zone_id;
	uint32_t serial;
	char digest[97];
	int64_t change_id;
	uint8_t *env; /* the whole encoded Envelope, ready to send */
	size_t envlen;
	int refs;
	struct snap *next;
} snap;

/* A signed batch of consecutive change sets, shared by the sessions that send the same run. */
typedef struct bblob {
	int64_t zone_id;
	uint32_t from_serial, to_serial;
	size_t count;
	uint8_t *env;
	size_t envlen;
	int refs;
	struct bblob *next;
} bblob;

#define BATCH_CACHE 32

typedef struct ctslot {
	int64_t zone_id;
	uint32_t serial;
	int64_t ms;
} ctslot;

typedef struct cstats {
	hub_fanout_cluster_stats s;
	struct cstats *next;
} cstats;

struct hub_fanout {
	char *store_path, *listen_url, *spoke_ca, *spoke_crl;
	hub_workflow *wf;
	unsigned hb_ms, snapshot_after;
	fedns_sign_key *key;
	char key_id[FEDNS_SIGN_KEYID_LEN + 1];
	pthread_mutex_t keymu; /* the key: one signer at a time */
	fedns_nngtls *tls;
	fedns_conn_listener *lst;
	atomic_ushort port;
	atomic_bool listening;
	atomic_bool stopping;
	bool started, stopped;
	pthread_t accept_thr, disp_thr;

	pthread_mutex_t mu; /* sessions, stats, thread count */
	pthread_cond_t done_cv;
	session *sessions;
	size_t nthreads; /* session threads alive */
	size_t nauth;
	uint64_t auth_failures;
	cstats *stats;
	atomic_uint_least64_t generation;

	pthread_mutex_t evmu; /* zone-changed events */
	pthread_cond_t evcv;
	int64_t *ev;
	size_t nev, capev;
	bool ev_all;

	pthread_mutex_t snapmu; /* snaps and batches */
	snap *snaps;
	bblob *batches;

	pthread_mutex_t ctmu;
	ctslot *ct;

	/* signing: one change signed once, whichever session needs it first */
	pthread_mutex_t signmu;
	sigent *sc;

	/* the recorder */
	pthread_mutex_t recmu;
	pthread_cond_t reccv;
	rec *rqhead, *rqtail;
	bool rec_stop, rec_started;
	pthread_t rec_thr;
	secmem **rh; /* recorder thread only */
};

struct session {
	hub_fanout *f;
	fedns_conn *conn;
	char peer[64];
	char cluster[64];
	bool authed, replaced;
	session *next;

	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;
	msgq *qhead, *qtail;
	size_t qlen;
	int64_t *dirty;
	size_t ndirty, capdirty;
	bool dirty_all;
	bool stop;
	const char *why_closed;

	/* worker-thread only */
	hub_store *st;
	pthread_t reader;
	bool reader_started;
	atomic_llong last_recv; /* mono ms */
	int64_t last_send;
	uint64_t hb_seq;
	zst *zones;
	size_t nzones, capzones;
	inflight *fl; /* ring of WINDOW */
	size_t flhead, fln;
	uint32_t sent; /* blobs sent since the last REC_SENT */
	bool recheck;  /* a placement check failed: every zone again at retry_at */
	size_t rr;     /* round-robin start */
	int64_t retry_at;
};

/* ---------------------------------------------------------------- stats */

static cstats *
stats_locked(hub_fanout *f, const char *cluster)
{
	for (cstats *c = f->stats; c != NULL; c = c->next)
		if (strcmp(c->s.cluster, cluster) == 0)
			return c;
	cstats *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	snprintf(c->s.cluster, sizeof(c->s.cluster), "%s", cluster);
	c->next = f->stats;
	f->stats = c;
	return c;
}

typedef enum stat_kind {
	ST_CHANGESET,
	ST_SNAPSHOT,
	ST_APPLIED,
	ST_ALREADY,
	ST_REFUSED,
} stat_kind;

static void
stat_add(hub_fanout *f, const char *cluster, stat_kind k, unsigned reason)
{
	pthread_mutex_lock(&f->mu);
	cstats *c = stats_locked(f, cluster);
	if (c != NULL) {
		switch (k) {
		case ST_CHANGESET:
			c->s.sent_changesets++;
			break;
		case ST_SNAPSHOT:
			c->s.sent_snapshots++;
			break;
		case ST_APPLIED:
			c->s.applied++;
			break;
		case ST_ALREADY:
			c->s.already_applied++;
			break;
		case ST_REFUSED:
			c->s.refused[reason < 10 ? reason : 9]++;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
}

static void
stat_latency(hub_fanout *f, const char *cluster, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	size_t b = 0;
	while (b < HUB_FANOUT_LAT_BUCKETS - 1 && (double)ms > lat_le_ms[b])
		b++;
	pthread_mutex_lock(&f->mu);
	cstats *c = stats_locked(f, cluster);
	if (c != NULL) {
		c->s.lat_count++;
		c->s.lat_bucket[b]++;
		c->s.lat_sum_s += (double)ms / 1000.0;
	}
	pthread_mutex_unlock(&f->mu);
}

size_t
hub_fanout_stats(hub_fanout *f, hub_fanout_cluster_stats **out)
{
	*out = NULL;
	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->mu);
	size_t n = 0;
	for (cstats *c = f->stats; c != NULL; c = c->next)
		n++;
	hub_fanout_cluster_stats *a = n ? calloc(n, sizeof(*a)) : NULL;
	size_t i = 0;
	if (a != NULL) {
		for (cstats *c = f->stats; c != NULL; c = c->next) {
			a[i] = c->s;
			a[i].connected = false;
			for (session *s = f->sessions; s != NULL; s = s->next)
				if (s->authed && !s->replaced &&
				    strcmp(s->cluster, c->s.cluster) == 0)
					a[i].connected = true;
			i++;
		}
	}
	pthread_mutex_unlock(&f->mu);
	*out = a;
	return a != NULL ? n : 0;
}

uint64_t
hub_fanout_auth_failures(hub_fanout *f)
{
	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->mu);
	uint64_t n = f->auth_failures;
	pthread_mutex_unlock(&f->mu);
	/* a spoke refused in the TLS handshake (another CA, revoked) never reaches the
	 * challenge; it failed authentication all the same */
	if (f->lst != NULL)
		n += fedns_conn_listener_rejected(f->lst);
	return n;
}

size_t
hub_fanout_sessions(hub_fanout *f)
{
	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->mu);
	size_t n = f->nauth;
	pthread_mutex_unlock(&f->mu);
	return n;
}

bool
hub_fanout_listening(hub_fanout *f)
{
	return f != NULL && atomic_load(&f->listening);
}

uint16_t
hub_fanout_port(hub_fanout *f)
{
	return f != NULL ? atomic_load(&f->port) : 0;
}

/* ---------------------------------------------------------------- commit times */

static size_t
ct_index(int64_t zone_id, uint32_t serial)
{
	uint64_t h = (uint64_t)zone_id * 0x9E3779B97F4A7C15ull ^
		     (uint64_t)serial * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h >> 32) & (CT_SLOTS - 1);
}

static void
ct_put(hub_fanout *f, int64_t zone_id, uint32_t serial, int64_t ms, bool overwrite)
{
	pthread_mutex_lock(&f->ctmu);
	ctslot *c = &f->ct[ct_index(zone_id, serial)];
	if (overwrite || c->zone_id != zone_id || c->serial != serial)
		*c = (ctslot){.zone_id = zone_id, .serial = serial, .ms = ms};
	pthread_mutex_unlock(&f->ctmu);
}

static int64_t
ct_get(hub_fanout *f, int64_t zone_id, uint32_t serial)
{
	int64_t ms = 0;
	pthread_mutex_lock(&f->ctmu);
	ctslot *c = &f->ct[ct_index(zone_id, serial)];
	if (c->zone_id == zone_id && c->serial == serial)
		ms = c->ms;
	pthread_mutex_unlock(&f->ctmu);
	return ms;
}

/* ---------------------------------------------------------------- the hook */

void
hub_fanout_zone_changed(void *ctx, int64_t zone_id)
{
	hub_fanout *f = ctx;
	if (f == NULL)
		return;
	int64_t at = now_ms();
	pthread_mutex_lock(&f->evmu);
	if (f->nev == f->capev && !f->ev_all) {
		size_t nc = f->capev ? f->capev * 2 : 256;
		int64_t *v = nc <= EVQ_MAX ? realloc(f->ev, nc * 2 * sizeof(*v)) : NULL;
		if (v == NULL) {
			f->ev_all = true; /* every session then looks at every zone */
		} else {
			f->ev = v;
			f->capev = nc;
		}
	}
	if (!f->ev_all) {
		f->ev[2 * f->nev] = zone_id;
		f->ev[2 * f->nev + 1] = at;
		f->nev++;
	}
	pthread_cond_signal(&f->evcv);
	pthread_mutex_unlock(&f->evmu);
}

static void
session_mark(session *s, const int64_t *ids, size_t n, bool all)
{
	pthread_mutex_lock(&s->mu);
	if (all) {
		s->dirty_all = true;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (s->ndirty == s->capdirty) {
				size_t nc = s->capdirty ? s->capdirty * 2 : 64;
				int64_t *v = realloc(s->dirty, nc * sizeof(*v));
				if (v == NULL) {
					s->dirty_all = true;
					break;
				}
				s->dirty = v;
				s->capdirty = nc;
			}
			s->dirty[s->ndirty++] = ids[i];
		}
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* The dispatcher: remembers when each new serial was committed (the hook runs right after
 * the commit, so its clock is the commit time to the millisecond, unlike the store's
 * seconds) and hands the zone ids to every session. */
static void *
dispatch_main(void *arg)
{
	hub_fanout *f = arg;
	hub_store *st = NULL;
	hub_store_opts so = {.path = f->store_path, .busy_ms = 5000};
	fedns_diag d = {0};

	if (hub_store_open(&so, &st, &d) != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.store.open_failed",
			  FEDNS_LF_STR("error", d.msg));
	for (;;) {
		pthread_mutex_lock(&f->evmu);
		while (f->nev == 0 && !f->ev_all && !atomic_load(&f->stopping))
			pthread_cond_wait(&f->evcv, &f->evmu);
		if (atomic_load(&f->stopping)) {
			pthread_mutex_unlock(&f->evmu);
			break;
		}
		int64_t *ev = f->ev;
		size_t nev = f->nev;
		bool all = f->ev_all;
		f->ev = NULL;
		f->nev = f->capev = 0;
		f->ev_all = false;
		pthread_mutex_unlock(&f->evmu);

		int64_t *ids = nev ? malloc(nev * sizeof(*ids)) : NULL;
		size_t nids = 0;
		if (nev && ids == NULL)
			all = true;
		if (st != NULL && hub_store_begin(st, false) == FEDNS_OK) {
			for (size_t i = 0; i < nev; i++) {
				hub_zone z;
				if (hub_zone_get_id(st, ev[2 * i], &z) == FEDNS_OK && z.serial != 0)
					ct_put(f, z.id, z.serial, ev[2 * i + 1], false);
			}
			hub_store_commit(st);
		}
		for (size_t i = 0; ids != NULL && i < nev; i++) {
			bool dup = false;
			for (size_t k = 0; k < nids && !dup; k++)
				dup = ids[k] == ev[2 * i];
			if (!dup)
				ids[nids++] = ev[2 * i];
		}
		pthread_mutex_lock(&f->mu);
		for (session *s = f->sessions; s != NULL; s = s->next)
			if (s->authed)
				session_mark(s, ids, nids, all);
		pthread_mutex_unlock(&f->mu);
		free(ids);
		free(ev);
	}
	hub_store_close(st);
	return NULL;
}

/* ---------------------------------------------------------------- the recorder */

static void
audit(hub_store *st, const char *principal, const char *action, const char *target,
      const char *outcome)
{
	hub_audit ar;
	memset(&ar, 0, sizeof(ar));
	ar.at = now_ms();
	snprintf(ar.principal, sizeof(ar.principal), "%s", principal);
	snprintf(ar.action, sizeof(ar.action), "%s", action);
	snprintf(ar.target, sizeof(ar.target), "%s", target);
	snprintf(ar.outcome, sizeof(ar.outcome), "%s", outcome);
	fedns_err e = hub_audit_append(st, &ar);
	if (e != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.audit_failed", FEDNS_LF_STR("action", action),
			  FEDNS_LF_STR("target", target),
			  FEDNS_LF_STR("error", hub_store_errmsg(st)));
}

static void
rec_free(rec *r)
{
	if (r == NULL)
		return;
	free(r->payload);
	free(r->err);
	free(r->audit);
	free(r->rows);
	free(r);
}

/* Queues r (taken over) for the next flush. */
static void
rec_push(hub_fanout *f, rec *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&f->recmu);
	if (f->rqtail != NULL)
		f->rqtail->next = r;
	else
		f->rqhead = r;
	f->rqtail = r;
	pthread_cond_signal(&f->reccv);
	pthread_mutex_unlock(&f->recmu);
}

static rec *
rec_new(rec_kind kind, const char *cluster, int64_t zone_id)
{
	rec *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fedns_log(FEDNS_LOG_ERROR, "fanout.record_lost", FEDNS_LF_STR("cluster", cluster),
			  FEDNS_LF_STR("error", "out of memory"));
		return NULL;
	}
	r->kind = kind;
	snprintf(r->cluster, sizeof(r->cluster), "%s", cluster);
	r->zone_id = zone_id;
	return r;
}

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static secmem *
secmem_get(hub_fanout *f, const char *cluster, int64_t zone_id, const char *name)
{
	uint64_t h = fnv(fnv(0xcbf29ce484222325ull, cluster), name) ^
		     (uint64_t)zone_id * 0x9E3779B97F4A7C15ull;
	secmem **b = &f->rh[h % RH_BUCKETS];
	for (secmem *m = *b; m != NULL; m = m->next)
		if (m->zone_id == zone_id && strcmp(m->cluster, cluster) == 0 &&
		    strcmp(m->name, name) == 0)
			return m;
	secmem *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	snprintf(m->cluster, sizeof(m->cluster), "%s", cluster);
	m->zone_id = zone_id;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->confirmed_ms = -1;
	m->next = *b;
	*b = m;
	return m;
}

/* Every secondary of (cluster, zone) in_sync at one serial: the change reached the whole
 * cluster; count its commit-to-confirmation time once. */
static void
check_latency(hub_fanout *f, hub_store *st, const char *cluster, int64_t zone_id, int64_t at)
{
	hub_secondary *rows = NULL;
	size_t n = 0;
	if (hub_secondary_list(st, cluster, zone_id, NULL, &rows, &n) != FEDNS_OK || n == 0) {
		free(rows);
		return;
	}
	bool all = true;
	uint32_t serial = rows[0].serial;
	for (size_t i = 0; i < n && all; i++)
		all = strcmp(rows[i].state, "in_sync") == 0 && rows[i].has_serial &&
		      rows[i].serial == serial;
	free(rows);
	secmem *m = secmem_get(f, cluster, zone_id, "");
	if (!all || m == NULL || (m->lat_done && m->serial == serial))
		return;
	m->lat_done = true;
	m->serial = serial;
	int64_t c = ct_get(f, zone_id, serial);
	if (c > 0 && at >= c)
		stat_latency(f, cluster, at - c);
}

static void
record_status(hub_fanout *f, hub_store *st, rec *r)
{
	char principal[128], target[480];
	snprintf(principal, sizeof(principal), "spoke:%s", r->cluster);
	int64_t *touched = calloc(r->nrows + 1, sizeof(*touched));
	size_t ntouched = 0;

	for (size_t i = 0; i < r->nrows; i++) {
		hub_secondary *row = &r->rows[i];
		char old[16] = "";
		secmem *m = secmem_get(f, r->cluster, row->zone_id, row->secondary);
		if (m != NULL) {
			bool in_sync = strcmp(row->state, "in_sync") == 0 && row->has_serial;
			if (in_sync &&
			    (strcmp(m->state, "in_sync") != 0 || m->serial != row->serial)) {
				int64_t c = ct_get(f, row->zone_id, row->serial);
				m->confirmed_ms =
					c > 0 && row->updated_at >= c ? row->updated_at - c : -1;
			}
			snprintf(m->state, sizeof(m->state), "%s", row->state);
			m->serial = row->serial;
			row->confirmed_ms = m->confirmed_ms;
		}
		if (hub_secondary_put(st, row, old) != FEDNS_OK) {
			fedns_log(FEDNS_LOG_ERROR, "fanout.store.status_failed",
				  FEDNS_LF_STR("cluster", r->cluster),
				  FEDNS_LF_STR("zone", row->zone),
				  FEDNS_LF_STR("error", hub_store_errmsg(st)));
			continue;
		}
		if (strcmp(old, row->state) != 0) {
			snprintf(target, sizeof(target), "zone:%s/cluster:%s/secondary:%s",
				 row->zone, r->cluster, row->secondary);
			audit(st, principal, "secondary.state", target, row->state);
			fedns_log(FEDNS_LOG_INFO, "fanout.secondary.state",
				  FEDNS_LF_STR("cluster", r->cluster),
				  FEDNS_LF_STR("zone", row->zone),
				  FEDNS_LF_STR("secondary", row->secondary),
				  FEDNS_LF_STR("from", old), FEDNS_LF_STR("to", row->state),
				  FEDNS_LF_UINT("serial", row->serial));
		}
		bool seen = false;
		for (size_t k = 0; k < ntouched && !seen; k++)
			seen = touched[k] == row->zone_id;
		if (!seen && touched != NULL)
			touched[ntouched++] = row->zone_id;
	}
	for (size_t k = 0; k < ntouched; k++)
		check_latency(f, st, r->cluster, touched[k], r->rows[0].updated_at);
	free(touched);
}

static void
record(hub_fanout *f, hub_store *st, rec *r)
{
	char principal[128];
	fedns_err e = FEDNS_OK;
	switch (r->kind) {
	case REC_SIGNED:
		e = hub_change_set_signed(st, r->change_id, r->payload, r->plen, r->sig,
					  sizeof(r->sig), r->key_id);
		if (e == FEDNS_EEXIST) /* signed before (an earlier run): that form stays */
			e = FEDNS_OK;
		break;
	case REC_ACK:
		e = hub_spoke_zone_put(st, &r->row);
		if (r->refused)
			hub_cluster_count(st, r->cluster, 0, 0, 1, r->err);
		else
			hub_cluster_count(st, r->cluster, 0, 1, 0, NULL);
		if (r->audit != NULL) {
			snprintf(principal, sizeof(principal), "spoke:%s", r->cluster);
			audit(st, principal, "changeset.refused", r->audit, r->row.last_reason);
		}
		break;
	case REC_STATUS:
		record_status(f, st, r);
		break;
	case REC_SENT:
		e = hub_cluster_count(st, r->cluster, r->sent, 0, 0, NULL);
		break;
	case REC_FORGET:
		if ((e = hub_spoke_zone_delete(st, r->cluster, r->zone_id)) == FEDNS_OK)
			e = hub_secondary_delete(st, r->cluster, r->zone_id);
		break;
	}
	if (e != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.store.record_failed",
			  FEDNS_LF_STR("cluster", r->cluster), FEDNS_LF_UINT("kind", r->kind),
			  FEDNS_LF_STR("error", hub_store_errmsg(st)));
}

static void *
recorder_main(void *arg)
{
	hub_fanout *f = arg;
	hub_store *st = NULL;
	hub_store_opts so = {.path = f->store_path, .busy_ms = 5000};
	fedns_diag d = {0};

	if (hub_store_open(&so, &st, &d) != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.store.open_failed",
			  FEDNS_LF_STR("error", d.msg));
	for (;;) {
		pthread_mutex_lock(&f->recmu);
		while (f->rqhead == NULL && !f->rec_stop)
			pthread_cond_wait(&f->reccv, &f->recmu);
		rec *q = f->rqhead;
		bool stop = f->rec_stop;
		f->rqhead = f->rqtail = NULL;
		pthread_mutex_unlock(&f->recmu);
		if (q == NULL && stop)
			break;
		int64_t t0 = mono_ms();
		fedns_err e = st != NULL ? hub_store_begin(st, true) : FEDNS_EIO;
		for (int tries = 0; e != FEDNS_OK && st != NULL && tries < 5 && !stop; tries++)
			e = hub_store_begin(st, true); /* busy past busy_ms: keep trying a while */
		size_t n = 0;
		for (rec *r = q, *nx; r != NULL; r = nx) {
			nx = r->next;
			if (e == FEDNS_OK)
				record(f, st, r);
			rec_free(r);
			n++;
		}
		if (e == FEDNS_OK)
			e = hub_store_commit(st);
		if (e != FEDNS_OK)
			fedns_log(FEDNS_LOG_ERROR, "fanout.store.flush_failed",
				  FEDNS_LF_UINT("records", n),
				  FEDNS_LF_STR("error", st ? hub_store_errmsg(st) : "no store"));
		/* at most one transaction per FLUSH_MS: API commits share the write lock */
		int64_t left = FLUSH_MS - (mono_ms() - t0);
		if (left > 0 && !stop) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = left * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	hub_store_close(st);
	return NULL;
}

/* ---------------------------------------------------------------- sending */

static void session_stop(session *s, const char *why);

static fedns_err
send_raw(session *s, const uint8_t *buf, size_t len)
{
	fedns_err e = fedns_conn_send(s->conn, buf, len, 3 * s->f->hb_ms);
	if (e == FEDNS_OK) {
		s->last_send = mono_ms();
	} else if (e != FEDNS_ECANCELED) {
		/* a frame may be half written: the stream cannot be used any more */
		fedns_log(FEDNS_LOG_WARN, "fanout.send_failed", FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("peer", s->peer), FEDNS_LF_STR("error", fedns_strerror(e)));
		session_stop(s, e == FEDNS_ETIMEDOUT ? "the spoke stopped reading"
						     : "connection lost while sending");
	}
	return e;
}

static fedns_err
send_msg(session *s, const fedns_proto_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	fedns_err e = fedns_proto_encode(m, &buf, &len);
	if (e != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "fanout.encode_failed",
			  FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("type", fedns_proto_type_name(m->type)),
			  FEDNS_LF_STR("error", fedns_strerror(e)));
		return e;
	}
	e = send_raw(s, buf, len);
	free(buf);
	return e;
}

static fedns_err
encode_signed(const uint8_t *payload, size_t plen, const uint8_t *sig, size_t slen,
	      const char *key_id, uint8_t **out, size_t *len)
{
	fedns_proto_msg m;
	memset(&m, 0, sizeof(m));
	m.type = FEDNS_PROTO_SIGNED;
	m.u.signed_blob.payload = (fedns_proto_blob){payload, plen};
	m.u.signed_blob.signature = (fedns_proto_blob){sig, slen};
	m.u.signed_blob.key_id = key_id;
	m.u.signed_blob.alg = FEDNS_PROTO_SIG_ECDSA_P256_SHA256;
	return fedns_proto_encode(&m, out, len);
}

static fedns_err
sign_payload(hub_fanout *f, const uint8_t *p, size_t len, uint8_t sig[FEDNS_SIGN_RAW_LEN])
{
	pthread_mutex_lock(&f->keymu);
	fedns_err e = fedns_sign_sign(f->key, p, len, sig, NULL, 0, NULL);
	pthread_mutex_unlock(&f->keymu);
	return e;
}

/* ---------------------------------------------------------------- audit */

/* One short write transaction around fn (audits, counters). */
static fedns_err
write_txn_begin(session *s)
{
	fedns_err e = hub_store_begin(s->st, true);
	if (e != FEDNS_OK)
		fedns_log(FEDNS_LOG_WARN, "fanout.store.busy", FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("error", hub_store_errmsg(s->st)));
	return e;
}

static void
write_txn_end(session *s)
{
	if (hub_store_commit(s->st) != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.store.commit_failed",
			  FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("error", hub_store_errmsg(s->st)));
}

/* ---------------------------------------------------------------- zones of a session */

static zst *
zone_find(session *s, int64_t id)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (s->zones[i].id == id)
			return &s->zones[i];
	return NULL;
}

static zst *
zone_find_name(session *s, const char *name)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (strcasecmp(s->zones[i].name, name) == 0)
			return &s->zones[i];
	return NULL;
}

static zst *
zone_add(session *s, const hub_zone *z)
{
	if (s->nzones == s->capzones) {
		size_t nc = s->capzones ? s->capzones * 2 : 16;
		zst *v = realloc(s->zones, nc * sizeof(*v));
		if (v == NULL)
			return NULL;
		s->zones = v;
		s->capzones = nc;
	}
	zst *zs = &s->zones[s->nzones++];
	memset(zs, 0, sizeof(*zs));
	zs->id = z->id;
	snprintf(zs->name, sizeof(zs->name), "%s", z->name);
	zs->dirty = true;
	zs->resume = true;
	return zs;
}

static void
zone_remove(session *s, zst *zs)
{
	/* its blobs in flight stay counted in the window until acknowledged or the session
	 * ends; their acks then find no zone and are dropped */
	size_t i = (size_t)(zs - s->zones);
	s->zones[i] = s->zones[--s->nzones];
}

static int64_t
zone_commit_lookup(hub_fanout *f, zst *zs, uint32_t serial)
{
	return ct_get(f, zs->id, serial);
}

/* ---------------------------------------------------------------- the window */

/* No room for a useful send. While blobs are in flight the window refills only once a
 * whole batch fits: refilling slot by slot as single acks free them made a catching-up
 * spoke receive runs of 1-3 change sets, each with its own signature to verify and its own
 * journal fdatasync (~3 ms each here), which capped catch-up at a few hundred per second.
 * An idle session (nothing in flight) still sends a single new change at once. */
static bool
window_full(session *s)
{
	return s->fln >= WINDOW || (s->fln > 0 && WINDOW - s->fln < BATCH);
}

static void
window_push(session *s, const inflight *e)
{
	s->fl[(s->flhead + s->fln) % WINDOW] = *e;
	s->fln++;
}

/* Takes the oldest blob in flight for the zone with that change id (0: a snapshot), or with
 * any set the oldest of all: a spoke acknowledges in the order it received. */
static bool
window_take(session *s, int64_t zone_id, bool any, int64_t change_id, inflight *out)
{
	for (size_t i = 0; i < s->fln; i++) {
		size_t k = (s->flhead + i) % WINDOW;
		if (!any && (s->fl[k].zone_id != zone_id || s->fl[k].change_id != change_id))
			continue;
		*out = s->fl[k];
		/* close the gap: shift the entries before it one place up */
		for (size_t j = i; j > 0; j--)
			s->fl[(s->flhead + j) % WINDOW] = s->fl[(s->flhead + j - 1) % WINDOW];
		s->flhead = (s->flhead + 1) % WINDOW;
		s->fln--;
		return true;
	}
	return false;
}

/* Drops every blob of the zone from the window: after a refusal they are superseded (a
 * batch's elements after a refused one are never acknowledged at all). */
static void
window_purge(session *s, int64_t zone_id)
{
	size_t w = 0;
	for (size_t i = 0; i < s->fln; i++) {
		inflight e = s->fl[(s->flhead + i) % WINDOW];
		if (e.zone_id != zone_id)
			s->fl[(s->flhead + w++) % WINDOW] = e;
	}
	s->fln = w;
}

/* ---------------------------------------------------------------- snapshots */

static void
snap_release(hub_fanout *f, snap *sn)
{
	if (sn == NULL)
		return;
	pthread_mutex_lock(&f->snapmu);
	bool last = --sn->refs == 0;
	pthread_mutex_unlock(&f->snapmu);
	if (last) {
		free(sn->env);
		free(sn);
	}
}

/* The signed snapshot of the zone's current version, from the cache or built now (inside
 * no transaction of the caller's). */
static fedns_err
snap_get(session *s, int64_t zone_id, snap **out)
{
	hub_fanout *f = s->f;
	hub_zone hz;
	const fedns_zone *z = NULL;
	uint8_t *payload = NULL, sig[FEDNS_SIGN_RAW_LEN];
	fedns_proto_digest dig;
	size_t plen = 0;
	fedns_diag d = {0};
	fedns_err e;
	snap *sn = NULL;
	hub_change *ch = NULL;
	size_t nch = 0;
	void *zref = NULL; /* the workflow's hold on z while it is encoded */

	*out = NULL;
	if ((e = hub_store_begin(s->st, false)) != FEDNS_OK)
		return e;
	if ((e = hub_zone_get_id(s->st, zone_id, &hz)) != FEDNS_OK)
		goto out;
	if (hz.deleted) {
		e = FEDNS_ENOENT;
		goto out;
	}
	pthread_mutex_lock(&f->snapmu);
	for (snap *c = f->snaps; c != NULL; c = c->next) {
		if (c->zone_id == zone_id && c->serial == hz.serial) {
			c->refs++;
			*out = c;
			break;
		}
	}
	pthread_mutex_unlock(&f->snapmu);
	if (*out != NULL)
		goto out;
	/* held, not borrowed: commits may replace the current version while it is encoded */
	if ((e = hub_workflow_zone_hold(f->wf, s->st, &hz, &z, &zref)) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "fanout.snapshot.zone_failed",
			  FEDNS_LF_STR("zone", hz.name), FEDNS_LF_STR("error", fedns_strerror(e)));
		goto out;
	}
	uint32_t serial = fedns_zone_serial(z);
	char hex[97];
	if (serial == hz.serial && digest_from_hex(hz.digest, &dig)) {
		snprintf(hex, sizeof(hex), "%s", hz.digest);
	} else {
		/* a version newer than the row read: its tree digest from scratch (O(zone), as
		 * the snapshot's encoding is) */
		memset(&dig, 0, sizeof(dig));
		if ((e = fedns_zdigest_compute(z, dig.value)) != FEDNS_OK)
			goto out;
		dig.alg = FEDNS_ZDIGEST_ALG;
		dig.len = FEDNS_ZDIGEST_LEN;
		fedns_hex_encode(dig.value, dig.len, hex, 0);
	}
	int64_t change_id = 0;
	if (hub_change_list(s->st, zone_id, HUB_CHANGE_COMMITTED, 0, 1, &ch, &nch) == FEDNS_OK &&
	    nch == 1 && ch[0].serial == serial)
		change_id = ch[0].id;
	if ((e = hub_fanout_snapshot_payload(z, hz.name, &dig, (uint64_t)change_id,
					     (uint64_t)now_ms(), &payload, &plen, &d)) !=
	    FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "fanout.snapshot.build_failed",
			  FEDNS_LF_STR("zone", hz.name), FEDNS_LF_STR("error", d.msg));
		goto out;
	}
	if ((e = sign_payload(f, payload, plen, sig)) != FEDNS_OK)
		goto out;
	if ((sn = calloc(1, sizeof(*sn))) == NULL) {
		e = FEDNS_ENOMEM;
		goto out;
	}
	sn->zone_id = zone_id;
	sn->serial = serial;
	sn->change_id = change_id;
	snprintf(sn->digest, sizeof(sn->digest), "%s", hex);
	if ((e = encode_signed(payload, plen, sig, sizeof(sig), f->key_id, &sn->env,
			       &sn->envlen)) != FEDNS_OK) {
		free(sn);
		goto out;
	}
	sn->refs = 2; /* the cache's and the caller's */
	snap *old = NULL;
	pthread_mutex_lock(&f->snapmu);
	for (snap **pp = &f->snaps; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->zone_id == zone_id) {
			old = *pp;
			*pp = old->next;
			break;
		}
	}
	sn->next = f->snaps;
	f->snaps = sn;
	pthread_mutex_unlock(&f->snapmu);
	snap_release(f, old);
	*out = sn;
	fedns_log(FEDNS_LOG_INFO, "fanout.snapshot.built", FEDNS_LF_STR("zone", hz.name),
		  FEDNS_LF_UINT("serial", serial), FEDNS_LF_UINT("bytes", plen));
out:
	if (zref != NULL)
		hub_workflow_zone_release(f->wf, zref);
	hub_store_commit(s->st);
	for (size_t i = 0; i < nch; i++)
		hub_change_fini(&ch[i]);
	free(ch);
	free(payload);
	return e;
}

static fedns_err
send_snapshot(session *s, zst *zs)
{
	snap *sn = NULL;
	fedns_err e = snap_get(s, zs->id, &sn);
	if (e != FEDNS_OK)
		return e;
	e = send_raw(s, sn->env, sn->envlen);
	if (e == FEDNS_OK) {
		inflight fe = {.zone_id = zs->id,
			       .to_serial = sn->serial,
			       .change_id = 0,
			       .commit_ms = zone_commit_lookup(s->f, zs, sn->serial),
			       .epoch = zs->epoch};
		snprintf(fe.digest, sizeof(fe.digest), "%s", sn->digest);
		window_push(s, &fe);
		zs->inflight++;
		zs->known = true;
		zs->pos = sn->serial;
		zs->snapshot = false;
		s->sent++;
		stat_add(s->f, s->cluster, ST_SNAPSHOT, 0);
		fedns_log(FEDNS_LOG_INFO, "fanout.snapshot.sent",
			  FEDNS_LF_STR("cluster", s->cluster), FEDNS_LF_STR("zone", zs->name),
			  FEDNS_LF_UINT("serial", sn->serial));
	}
	snap_release(s->f, sn);
	return e;
}

/* ---------------------------------------------------------------- change sets */

/* Who wrote and approved a change (names copied into a) and when it was decided (ms), from
 * the store inside the caller's read transaction. */
static fedns_err
change_meta(session *s, int64_t change_id, fedns_arena *a, const char **author,
	    const char ***approvers, size_t *napprovers, int64_t *decided_ms)
{
	hub_change ch;
	hub_principal who;
	hub_approval *ap = NULL;
	size_t nap = 0, n = 0;
	fedns_err e;

	*author = "";
	*approvers = NULL;
	*napprovers = 0;
	memset(&ch, 0, sizeof(ch));
	if ((e = hub_change_get(s->st, change_id, &ch)) != FEDNS_OK)
		return e;
	*decided_ms = ch.decided_at * 1000;
	if (hub_principal_get_id(s->st, ch.author_id, &who) == FEDNS_OK)
		*author = fedns_arena_strndup(a, who.name, strlen(who.name));
	if (*author == NULL)
		e = FEDNS_ENOMEM;
	if (e == FEDNS_OK && hub_approval_list(s->st, change_id, &ap, &nap) == FEDNS_OK &&
	    nap > 0) {
		const char **v = fedns_arena_alloc(a, nap * sizeof(*v));
		for (size_t k = 0; v != NULL && k < nap; k++) {
			if (ap[k].approve &&
			    hub_principal_get_id(s->st, ap[k].principal_id, &who) == FEDNS_OK &&
			    (v[n] = fedns_arena_strndup(a, who.name, strlen(who.name))) != NULL)
				n++;
		}
		*approvers = v;
		*napprovers = n;
		if (v == NULL)
			e = FEDNS_ENOMEM;
	}
	for (size_t k = 0; k < nap; k++)
		free(ap[k].signature);
	free(ap);
	hub_change_fini(&ch);
	return e;
}

/* Builds and signs c's payload into the memory slot se (under signmu, inside a read
 * transaction), and queues it for the store. */
static fedns_err
build_signed(session *s, const char *zone, const hub_signed_change *c, sigent *se)
{
	hub_fanout *f = s->f;
	fedns_arena a;
	const char *author = "";
	const char **names = NULL;
	size_t nnames = 0;
	int64_t decided_ms = 0;
	uint8_t *payload = NULL;
	size_t plen = 0;
	fedns_diag d = {0};
	fedns_err e;

	fedns_arena_init(&a, 4096, 0);
	if ((e = change_meta(s, c->change_id, &a, &author, &names, &nnames, &decided_ms)) !=
	    FEDNS_OK) {
		fedns_diag_set(&d, e, "reading the change: %s", hub_store_errmsg(s->st));
		goto out;
	}
	int64_t commit_ms = ct_get(f, c->zone_id, c->to_serial);
	if (commit_ms <= 0)
		commit_ms = decided_ms;
	uint8_t sig[FEDNS_SIGN_RAW_LEN];
	if ((e = hub_fanout_changeset_payload(c, zone, (uint64_t)commit_ms, author, names, nnames,
					      &payload, &plen, &d)) != FEDNS_OK ||
	    (e = sign_payload(f, payload, plen, sig)) != FEDNS_OK)
		goto out;
	ct_put(f, c->zone_id, c->to_serial, commit_ms, false);
	rec *r = rec_new(REC_SIGNED, "", c->zone_id);
	if (r != NULL) {
		r->change_id = c->change_id;
		r->payload = malloc(plen);
		if (r->payload == NULL) {
			rec_free(r);
			r = NULL;
		} else {
			memcpy(r->payload, payload, plen);
			r->plen = plen;
			memcpy(r->sig, sig, sizeof(sig));
			snprintf(r->key_id, sizeof(r->key_id), "%s", f->key_id);
		}
	}
	rec_push(f, r);
	free(se->payload);
	se->change_id = c->change_id;
	se->payload = payload;
	se->plen = plen;
	payload = NULL;
	memcpy(se->sig, sig, sizeof(sig));
	snprintf(se->key_id, sizeof(se->key_id), "%s", f->key_id);
out:
	if (e != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.changeset.build_failed",
			  FEDNS_LF_STR("zone", zone), FEDNS_LF_INT("change", c->change_id),
			  FEDNS_LF_STR("error", d.msg[0] ? d.msg : fedns_strerror(e)));
	free(payload);
	fedns_arena_fini(&a);
	return e;
}

/* Gives every unsigned change in a[0..n) its signed form: from memory when another session
 * signed it already, else built from its diff, signed, kept in memory and queued for the
 * store (the spokes need not wait for the fsync). Stops at the first change that cannot be
 * prepared: *n becomes the count that can be sent. */
static fedns_err
sign_changes(session *s, const char *zone, hub_signed_change *a, size_t *n)
{
	hub_fanout *f = s->f;
	size_t ok = *n;
	bool txn = false;
	fedns_err e = FEDNS_OK;

	for (size_t i = 0; i < *n; i++) {
		hub_signed_change *c = &a[i];
		if (c->payload != NULL || c->delete_zone)
			continue;
		pthread_mutex_lock(&f->signmu);
		sigent *se = &f->sc[(uint64_t)c->change_id % SC_SLOTS];
		if (se->change_id != c->change_id || se->payload == NULL) {
			e = txn ? FEDNS_OK : hub_store_begin(s->st, false);
			txn = txn || e == FEDNS_OK;
			if (e == FEDNS_OK)
				e = build_signed(s, zone, c, se);
		}
		if (e == FEDNS_OK) {
			c->payload = malloc(se->plen);
			c->signature = malloc(sizeof(se->sig));
			if (c->payload == NULL || c->signature == NULL) {
				e = FEDNS_ENOMEM;
			} else {
				memcpy(c->payload, se->payload, se->plen);
				c->payload_len = se->plen;
				memcpy(c->signature, se->sig, sizeof(se->sig));
				c->signature_len = sizeof(se->sig);
				snprintf(c->key_id, sizeof(c->key_id), "%s", se->key_id);
			}
		}
		pthread_mutex_unlock(&f->signmu);
		if (e != FEDNS_OK) {
			ok = i;
			break;
		}
	}
	if (txn)
		hub_store_commit(s->st);
	*n = ok;
	return ok > 0 ? FEDNS_OK : e;
}

/* The commit time a signed change carries (for changes signed by an earlier run). */
static int64_t
payload_commit_ms(const hub_signed_change *c)
{
	fedns_proto_body *b = NULL;
	int64_t ms = 0;
	if (fedns_proto_body_decode(c->payload, c->payload_len, NULL, &b, NULL) == FEDNS_OK &&
	    b->kind == FEDNS_PROTO_BODY_CHANGESET)
		ms = (int64_t)b->u.changeset.commit_time;
	fedns_proto_body_free(b);
	return ms;
}

static void
free_changes(hub_signed_change *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hub_signed_change_fini(&a[i]);
	free(a);
}

/* The hub's digest of version 'serial' of the zone: that of the change that made it.
 * NULL-equivalent ("" in out) when unknown (the first version, or pruned). */
static void
digest_at(session *s, int64_t zone_id, uint32_t serial, char out[97])
{
	uint32_t *v = NULL;
	size_t nv = 0;
	out[0] = '\0';
	if (hub_version_list(s->st, zone_id, &v, &nv) != FEDNS_OK)
		return;
	for (size_t i = 1; i < nv; i++) {
		if (v[i] != serial)
			continue;
		hub_signed_change *c = NULL;
		size_t nc = 0;
		if (hub_changes_after(s->st, zone_id, v[i - 1], 1, &c, &nc) == FEDNS_OK &&
		    nc == 1 && c[0].to_serial == serial)
			snprintf(out, 97, "%s", c[0].digest);
		free_changes(c, nc);
		break;
	}
	free(v);
}

static void
bblob_release(hub_fanout *f, bblob *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&f->snapmu);
	bool last = --b->refs == 0;
	pthread_mutex_unlock(&f->snapmu);
	if (last) {
		free(b->env);
		free(b);
	}
}

/* The signed ChangeSetBatch of a[0..k) (consecutive, k >= 2): one signature for the run,
 * so a spoke catching up verifies one signature instead of k. Elements already signed
 * alone are decoded from their stored bytes; the others are built from their diffs (and
 * not signed alone). Cached, since sessions behind at the same serial send the same run. */
static fedns_err
batch_get(session *s, zst *zs, const hub_signed_change *a, size_t k, bblob **out)
{
	hub_fanout *f = s->f;
	fedns_arena ar;
	fedns_proto_body **dec = NULL, b;
	fedns_proto_changeset *css = NULL;
	uint8_t *payload = NULL, sig[FEDNS_SIGN_RAW_LEN];
	size_t plen = 0;
	bool txn = false;
	fedns_diag d = {0};
	fedns_err e = FEDNS_OK;
	bblob *bb = NULL;

	*out = NULL;
	pthread_mutex_lock(&f->snapmu);
	for (bblob *c = f->batches; c != NULL; c = c->next) {
		if (c->zone_id == zs->id && c->from_serial == a[0].from_serial &&
		    c->to_serial == a[k - 1].to_serial && c->count == k) {
			c->refs++;
			*out = c;
			break;
		}
	}
	pthread_mutex_unlock(&f->snapmu);
	if (*out != NULL)
		return FEDNS_OK;

	fedns_arena_init(&ar, 64 * 1024, 0);
	dec = calloc(k, sizeof(*dec));
	css = calloc(k, sizeof(*css));
	if (dec == NULL || css == NULL) {
		e = fedns_diag_set(&d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < k && e == FEDNS_OK; i++) {
		const hub_signed_change *c = &a[i];
		if (c->payload != NULL) {
			e = fedns_proto_body_decode(c->payload, c->payload_len, NULL, &dec[i], &d);
			if (e == FEDNS_OK && dec[i]->kind != FEDNS_PROTO_BODY_CHANGESET)
				e = fedns_diag_set(&d, FEDNS_EMALFORMED,
						   "change %" PRId64
						   ": its signed form is no change set",
						   c->change_id);
			if (e == FEDNS_OK) {
				css[i] = dec[i]->u.changeset;
				ct_put(f, c->zone_id, c->to_serial, (int64_t)css[i].commit_time,
				       false);
			}
			continue;
		}
		const char *author = "";
		const char **names = NULL;
		size_t nnames = 0;
		int64_t decided_ms = 0;
		if (!txn) {
			if ((e = hub_store_begin(s->st, false)) != FEDNS_OK)
				break;
			txn = true;
		}
		if ((e = change_meta(s, c->change_id, &ar, &author, &names, &nnames,
				     &decided_ms)) != FEDNS_OK) {
			fedns_diag_set(&d, e, "reading change %" PRId64 ": %s", c->change_id,
				       hub_store_errmsg(s->st));
			break;
		}
		int64_t commit_ms = ct_get(f, c->zone_id, c->to_serial);
		if (commit_ms <= 0)
			commit_ms = decided_ms;
		ct_put(f, c->zone_id, c->to_serial, commit_ms, false);
		e = changeset_build(c, zs->name, (uint64_t)commit_ms, author, names, nnames, &ar,
				    &css[i], &d);
	}
	if (txn)
		hub_store_commit(s->st);
	if (e != FEDNS_OK)
		goto out;
	memset(&b, 0, sizeof(b));
	b.kind = FEDNS_PROTO_BODY_BATCH;
	b.u.batch.changesets = css;
	b.u.batch.n = k;
	if ((e = fedns_proto_body_encode(&b, &payload, &plen)) != FEDNS_OK) {
		fedns_diag_set(&d, e, "encoding a batch of %zu change sets: %s", k,
			       fedns_strerror(e));
		goto out;
	}
	if ((e = sign_payload(f, payload, plen, sig)) != FEDNS_OK)
		goto out;
	if ((bb = calloc(1, sizeof(*bb))) == NULL) {
		e = FEDNS_ENOMEM;
		goto out;
	}
	bb->zone_id = zs->id;
	bb->from_serial = a[0].from_serial;
	bb->to_serial = a[k - 1].to_serial;
	bb->count = k;
	if ((e = encode_signed(payload, plen, sig, sizeof(sig), f->key_id, &bb->env,
			       &bb->envlen)) != FEDNS_OK) {
		free(bb);
		bb = NULL;
		goto out;
	}
	bb->refs = 2; /* the cache's and the caller's */
	bblob *evict = NULL;
	pthread_mutex_lock(&f->snapmu);
	bb->next = f->batches;
	f->batches = bb;
	size_t n = 0;
	for (bblob **pp = &f->batches; *pp != NULL; pp = &(*pp)->next) {
		if (++n > BATCH_CACHE) {
			evict = *pp;
			*pp = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&f->snapmu);
	while (evict != NULL) {
		bblob *nx = evict->next;
		bblob_release(f, evict);
		evict = nx;
	}
	*out = bb;
out:
	if (e != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "fanout.batch.build_failed",
			  FEDNS_LF_STR("zone", zs->name),
			  FEDNS_LF_UINT("from_serial", a[0].from_serial), FEDNS_LF_UINT("count", k),
			  FEDNS_LF_STR("error", d.msg[0] ? d.msg : fedns_strerror(e)));
	for (size_t i = 0; dec != NULL && i < k; i++)
		fedns_proto_body_free(dec[i]);
	free(dec);
	free(css);
	free(payload);
	fedns_arena_fini(&ar);
	return e;
}

/* Sends what the zone needs while the window has room. Clears zs->dirty when nothing
 * more is to be sent now. */
static fedns_err
pump_zone(session *s, zst *zs)
{
	hub_fanout *f = s->f;
	hub_zone hz;
	hub_signed_change *a = NULL;
	size_t n = 0, limit = 0;
	fedns_err e;

	if (zs->ended) {
		zs->dirty = false;
		return FEDNS_OK;
	}
	if ((e = hub_store_begin(s->st, false)) != FEDNS_OK)
		return e;
	e = hub_zone_get_id(s->st, zs->id, &hz);
	if (e != FEDNS_OK || hz.deleted) {
		hub_store_commit(s->st);
		zs->dirty = false;
		return e == FEDNS_ENOENT ? FEDNS_OK : e;
	}
	if (zs->stalled) {
		if (hz.serial == zs->stalled_at) {
			hub_store_commit(s->st);
			zs->dirty = false;
			return FEDNS_OK;
		}
		zs->stalled = false;
		zs->resume = true;
	}
	if (zs->resume) {
		char at[97] = "";
		hub_fanout_resume r = {.held = zs->held,
				       .spoke_serial = zs->spoke_serial,
				       .spoke_digest = zs->spoke_digest,
				       .hub_serial = hz.serial,
				       .hub_digest = hz.digest,
				       .snapshot_after = f->snapshot_after};
		if (zs->held && zs->spoke_serial != hz.serial) {
			r.changes_err = hub_changes_after(s->st, zs->id, zs->spoke_serial,
							  (size_t)f->snapshot_after + 1, &a, &n);
			r.nchanges = n;
			free_changes(a, n);
			a = NULL;
			n = 0;
			if (r.changes_err == FEDNS_OK) {
				digest_at(s, zs->id, zs->spoke_serial, at);
				r.digest_at_spoke_serial = at[0] ? at : NULL;
			}
		}
		const char *why = "";
		hub_fanout_plan p = hub_fanout_resume_plan(&r, &why);
		fedns_log(FEDNS_LOG_INFO, "fanout.resume", FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("zone", zs->name),
			  FEDNS_LF_STR("plan", p == HUB_FANOUT_SNAPSHOT	 ? "snapshot"
					       : p == HUB_FANOUT_CHANGES ? "changes"
									 : "current"),
			  FEDNS_LF_STR("why", why), FEDNS_LF_UINT("spoke_serial", zs->spoke_serial),
			  FEDNS_LF_UINT("hub_serial", hz.serial));
		zs->resume = false;
		if (p == HUB_FANOUT_SNAPSHOT) {
			zs->snapshot = true;
			zs->known = false;
		} else {
			zs->known = true;
			zs->pos = zs->spoke_serial;
		}
	}
	if (!zs->snapshot && zs->known) {
		limit = WINDOW - s->fln;
		if (limit > BATCH)
			limit = BATCH;
		e = hub_changes_after(s->st, zs->id, zs->pos, limit, &a, &n);
		if (e == FEDNS_ENOENT) {
			fedns_log(FEDNS_LOG_WARN, "fanout.journal.gone",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("zone", zs->name), FEDNS_LF_UINT("serial", zs->pos));
			zs->snapshot = true;
			e = FEDNS_OK;
		}
	}
	hub_store_commit(s->st);
	if (e != FEDNS_OK)
		return e;
	if (zs->snapshot) {
		free_changes(a, n);
		e = send_snapshot(s, zs);
		/* more may follow the snapshot's serial: look again */
		return e;
	}
	if (!zs->known) {
		zs->dirty = false;
		return FEDNS_OK;
	}
	size_t fetched = n, sent = 0, run = 0;
	/* the run that leads on from what was sent, up to a deletion or a break in the chain */
	for (; run < n; run++) {
		if (a[run].delete_zone)
			break;
		if (a[run].from_serial != (run > 0 ? a[run - 1].to_serial : zs->pos)) {
			fedns_log(
				FEDNS_LOG_WARN, "fanout.journal.gap",
				FEDNS_LF_STR("cluster", s->cluster), FEDNS_LF_STR("zone", zs->name),
				FEDNS_LF_UINT("expected", run > 0 ? a[run - 1].to_serial : zs->pos),
				FEDNS_LF_UINT("from_serial", a[run].from_serial));
			break;
		}
	}
	bool gap = run < n && !a[run].delete_zone;
	if (run >= 2) {
		bblob *bb = NULL;
		if ((e = batch_get(s, zs, a, run, &bb)) == FEDNS_OK &&
		    (e = send_raw(s, bb->env, bb->envlen)) == FEDNS_OK) {
			for (size_t i = 0; i < run; i++) {
				inflight fe = {.zone_id = zs->id,
					       .to_serial = a[i].to_serial,
					       .change_id = a[i].change_id,
					       .commit_ms = ct_get(f, zs->id, a[i].to_serial),
					       .epoch = zs->epoch};
				snprintf(fe.digest, sizeof(fe.digest), "%s", a[i].digest);
				window_push(s, &fe);
				zs->inflight++;
				stat_add(f, s->cluster, ST_CHANGESET, 0);
			}
			zs->pos = a[run - 1].to_serial;
			sent = run;
			fedns_log(FEDNS_LOG_DEBUG, "fanout.batch.sent",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("zone", zs->name),
				  FEDNS_LF_UINT("from_serial", a[0].from_serial),
				  FEDNS_LF_UINT("to_serial", zs->pos), FEDNS_LF_UINT("count", run));
			s->sent += (uint32_t)run;
		}
		bblob_release(f, bb);
	} else if (run == 1) {
		size_t one = 1;
		e = sign_changes(s, zs->name, a, &one);
		hub_signed_change *c = &a[0];
		uint8_t *env = NULL;
		size_t envlen = 0;
		if (e == FEDNS_OK && one == 1 &&
		    (e = encode_signed(c->payload, c->payload_len, c->signature, c->signature_len,
				       c->key_id, &env, &envlen)) == FEDNS_OK &&
		    (e = send_raw(s, env, envlen)) == FEDNS_OK) {
			int64_t cm = ct_get(f, zs->id, c->to_serial);
			if (cm <= 0) {
				cm = payload_commit_ms(c);
				ct_put(f, zs->id, c->to_serial, cm, false);
			}
			inflight fe = {.zone_id = zs->id,
				       .to_serial = c->to_serial,
				       .change_id = c->change_id,
				       .commit_ms = cm,
				       .epoch = zs->epoch};
			snprintf(fe.digest, sizeof(fe.digest), "%s", c->digest);
			window_push(s, &fe);
			zs->inflight++;
			zs->pos = c->to_serial;
			sent = 1;
			fedns_log(FEDNS_LOG_DEBUG, "fanout.changeset.sent",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("zone", zs->name),
				  FEDNS_LF_UINT("from_serial", c->from_serial),
				  FEDNS_LF_UINT("to_serial", c->to_serial),
				  FEDNS_LF_INT("change", c->change_id));
			s->sent++;
			stat_add(f, s->cluster, ST_CHANGESET, 0);
		}
		free(env);
	}
	if (e == FEDNS_OK && sent == run && run < n) {
		if (a[run].delete_zone)
			zs->ended = true;
		else if (gap)
			zs->snapshot =
				true; /* the journal does not chain: the whole zone settles it */
	}
	if (zs->ended)
		zs->dirty = false;
	else if (zs->snapshot)
		zs->dirty = true;
	else if (e != FEDNS_OK || sent < fetched) {
		zs->dirty = true;
		s->retry_at = mono_ms() + 1000; /* not at once: the same change would fail */
	} else
		zs->dirty = fetched == limit; /* a full batch: more may follow */
	free_changes(a, fetched);
	return e;
}

/* ---------------------------------------------------------------- placement */

static fedns_err
send_placement(session *s, bool full, const char *const *add, size_t nadd, const char *const *rem,
	       size_t nrem)
{
	fedns_proto_msg m;
	memset(&m, 0, sizeof(m));
	m.type = FEDNS_PROTO_PLACEMENT_UPDATE;
	m.u.placement.generation = atomic_fetch_add(&s->f->generation, 1) + 1;
	m.u.placement.full = full;
	m.u.placement.add = add;
	m.u.placement.nadd = nadd;
	m.u.placement.remove = rem;
	m.u.placement.nremove = nrem;
	return send_msg(s, &m);
}

static void
forget_rows(session *s, int64_t zone_id)
{
	rec_push(s->f, rec_new(REC_FORGET, s->cluster, zone_id));
}

static fedns_err
placed_on(session *s, int64_t zone_id, hub_zone *hz, bool *placed)
{
	char **cl = NULL;
	size_t ncl = 0;
	*placed = false;
	fedns_err e = hub_zone_get_id(s->st, zone_id, hz);
	if (e == FEDNS_ENOENT)
		return FEDNS_OK; /* gone: not placed anywhere */
	if (e != FEDNS_OK || hz->deleted)
		return e;
	if ((e = hub_zone_placement(s->st, zone_id, &cl, &ncl)) != FEDNS_OK)
		return e;
	for (size_t i = 0; i < ncl; i++) {
		if (strcmp(cl[i], s->cluster) == 0)
			*placed = true;
		free(cl[i]);
	}
	free(cl);
	return FEDNS_OK;
}

/* Looks at zones again after writes: new serials, added and removed placements. With
 * all set (or ids NULL), at every zone of the cluster. */
static fedns_err
placement_changed(session *s, const int64_t *ids, size_t nids, bool all)
{
	hub_zone *placed = NULL, *adds = NULL;
	size_t nplaced = 0, nadds = 0;
	int64_t *rems = NULL;
	size_t nrems = 0;
	fedns_err e;

	if ((e = hub_store_begin(s->st, false)) != FEDNS_OK)
		return e;
	if (all) {
		if ((e = hub_cluster_zones(s->st, s->cluster, &placed, &nplaced)) != FEDNS_OK)
			goto out;
		adds = calloc(nplaced + 1, sizeof(*adds));
		rems = calloc(s->nzones + 1, sizeof(*rems));
		if (adds == NULL || rems == NULL) {
			e = FEDNS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nplaced; i++) {
			zst *zs = zone_find(s, placed[i].id);
			if (zs == NULL)
				adds[nadds++] = placed[i];
			else
				zs->dirty = true;
		}
		for (size_t i = 0; i < s->nzones; i++) {
			bool still = false;
			for (size_t k = 0; k < nplaced && !still; k++)
				still = placed[k].id == s->zones[i].id;
			if (!still)
				rems[nrems++] = s->zones[i].id;
		}
	} else {
		adds = calloc(nids + 1, sizeof(*adds));
		rems = calloc(nids + 1, sizeof(*rems));
		if (adds == NULL || rems == NULL) {
			e = FEDNS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nids; i++) {
			hub_zone hz;
			bool dup = false;
			for (size_t k = 0; k < i && !dup; k++)
				dup = ids[k] == ids[i];
			if (dup)
				continue;
			bool p = false;
			/* a read that fails must not look like a removal: leave the decision
			 * to the retry */
			if ((e = placed_on(s, ids[i], &hz, &p)) != FEDNS_OK)
				goto out;
			zst *zs = zone_find(s, ids[i]);
			if (p && zs == NULL)
				adds[nadds++] = hz;
			else if (!p && zs != NULL)
				rems[nrems++] = ids[i];
			else if (zs != NULL)
				zs->dirty = true;
		}
	}
out:
	hub_store_commit(s->st);
	if (e == FEDNS_OK && (nadds > 0 || nrems > 0)) {
		const char **an = calloc(nadds + 1, sizeof(*an));
		const char **rn = calloc(nrems + 1, sizeof(*rn));
		if (an == NULL || rn == NULL) {
			e = FEDNS_ENOMEM;
		} else {
			for (size_t i = 0; i < nadds; i++)
				an[i] = adds[i].name;
			for (size_t i = 0; i < nrems; i++)
				rn[i] = zone_find(s, rems[i])->name;
			e = send_placement(s, false, an, nadds, rn, nrems);
		}
		if (e == FEDNS_OK) {
			fedns_log(FEDNS_LOG_INFO, "fanout.placement.sent",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_UINT("added", nadds), FEDNS_LF_UINT("removed", nrems));
			for (size_t i = 0; i < nadds; i++)
				if (zone_add(s, &adds[i]) == NULL)
					e = FEDNS_ENOMEM;
			for (size_t i = 0; i < nrems; i++)
				forget_rows(s, rems[i]);
			for (size_t i = 0; i < nrems; i++)
				zone_remove(s, zone_find(s, rems[i]));
		}
		free(an);
		free(rn);
	}
	free(placed);
	free(adds);
	free(rems);
	return e;
}

/* After authentication: the full placement, and where each zone resumes from. */
static fedns_err
placement_initial(session *s, const fedns_proto_hello *h)
{
	hub_zone *placed = NULL;
	size_t nplaced = 0;
	hub_spoke_zone *rows = NULL;
	size_t nrows = 0;
	fedns_err e;

	if ((e = hub_store_begin(s->st, false)) != FEDNS_OK)
		return e;
	e = hub_cluster_zones(s->st, s->cluster, &placed, &nplaced);
	if (e == FEDNS_OK)
		hub_spoke_zone_list(s->st, s->cluster, 0, &rows, &nrows);
	hub_store_commit(s->st);
	if (e != FEDNS_OK)
		return e;
	const char **names = calloc(nplaced + 1, sizeof(*names));
	if (names == NULL) {
		e = FEDNS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nplaced; i++) {
		names[i] = placed[i].name;
		zst *zs = zone_add(s, &placed[i]);
		if (zs == NULL) {
			e = FEDNS_ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < h->nzones; k++) {
			if (strcasecmp(h->zones[k].zone, placed[i].name) == 0) {
				zs->held = true;
				zs->spoke_serial = h->zones[k].serial;
				digest_to_hex(&h->zones[k].digest, zs->spoke_digest);
			}
		}
	}
	/* rows of zones no longer placed here (placement changed while it was away) */
	for (size_t i = 0; i < nrows; i++)
		if (zone_find(s, rows[i].zone_id) == NULL)
			forget_rows(s, rows[i].zone_id);
	e = send_placement(s, true, names, nplaced, NULL, 0);
	fedns_log(FEDNS_LOG_INFO, "fanout.placement.sent", FEDNS_LF_STR("cluster", s->cluster),
		  FEDNS_LF_BOOL("full", true), FEDNS_LF_UINT("zones", nplaced));
out:
	free(names);
	free(placed);
	free(rows);
	return e;
}

/* ---------------------------------------------------------------- acks and reports */

/* A refusal or a digest that is not the hub's: resolve by snapshot, but after a snapshot
 * itself was refused or mismatched, wait for the hub's next version (or a reconnect)
 * rather than loop. Only the first refusal of an epoch acts: the blobs sent after the
 * refused one are refused too (gap), and one snapshot answers them all. */
static void
resolve(session *s, zst *zs, const inflight *fe)
{
	window_purge(s, zs->id);
	zs->inflight = 0;
	zs->epoch++;
	zs->known = false;
	zs->dirty = true;
	if (fe->change_id == 0) {
		zs->stalled = true;
		zs->stalled_at = fe->to_serial;
		zs->snapshot = false;
	} else {
		zs->snapshot = true;
	}
}

static void
handle_ack(session *s, const fedns_proto_ack *a, int64_t at)
{
	hub_fanout *f = s->f;
	zst *zs = zone_find_name(s, a->zone);
	inflight fe;
	char hex[97];

	bool had = false;
	/* a blob refused before the spoke could read its zone (signature, key, shape) is
	 * acknowledged with no zone, or with "." since an ack must name one */
	bool unread = zs == NULL && a->status == FEDNS_PROTO_ACK_REFUSED &&
		      (a->zone == NULL || a->zone[0] == '\0' || strcmp(a->zone, ".") == 0) &&
		      (a->reason == FEDNS_PROTO_REASON_BAD_SIGNATURE ||
		       a->reason == FEDNS_PROTO_REASON_UNKNOWN_KEY ||
		       a->reason == FEDNS_PROTO_REASON_MALFORMED);
	if (zs != NULL) {
		had = window_take(s, zs->id, false, (int64_t)a->change_id, &fe);
	} else if (unread && window_take(s, 0, true, 0, &fe)) {
		/* refused before the spoke could read a zone (signature, key, shape): it is
		 * the oldest blob in flight */
		had = true;
		zs = zone_find(s, fe.zone_id);
	}
	if (zs == NULL) {
		fedns_log(FEDNS_LOG_DEBUG, "fanout.ack.unplaced",
			  FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("zone", a->zone ? a->zone : ""));
		return;
	}
	if (had) {
		/* zones the full window held back kept their dirty flag */
		zs->inflight--;
	} else {
		memset(&fe, 0, sizeof(fe));
		fe.epoch = zs->epoch - 1; /* acts on nothing */
	}
	digest_to_hex(&a->digest, hex);
	if (!unread) {
		zs->held = true;
		zs->spoke_serial = a->serial;
		snprintf(zs->spoke_digest, sizeof(zs->spoke_digest), "%s", hex);
	}

	rec *r = rec_new(REC_ACK, s->cluster, zs->id);
	if (r != NULL) {
		hub_spoke_zone *row = &r->row;
		snprintf(row->cluster, sizeof(row->cluster), "%s", s->cluster);
		row->zone_id = zs->id;
		snprintf(row->zone, sizeof(row->zone), "%s", zs->name);
		row->serial = a->serial;
		snprintf(row->digest, sizeof(row->digest), "%s", hex);
		row->acked_at = at;
		row->change_id = a->status != FEDNS_PROTO_ACK_REFUSED ? (int64_t)a->change_id : 0;
		row->committed_at = fe.commit_ms;
		row->applied_ms = -1;
		if (fe.commit_ms > 0 && a->applied_time > 0 &&
		    a->status == FEDNS_PROTO_ACK_APPLIED && a->serial == fe.to_serial)
			row->applied_ms = (int64_t)a->applied_time - fe.commit_ms;
		snprintf(row->last_status, sizeof(row->last_status), "%s",
			 fedns_proto_ack_status_name(a->status));
		if (a->status == FEDNS_PROTO_ACK_REFUSED)
			snprintf(row->last_reason, sizeof(row->last_reason), "%s",
				 fedns_proto_reason_name(a->reason));
		r->refused = a->status == FEDNS_PROTO_ACK_REFUSED;
	}

	if (a->status == FEDNS_PROTO_ACK_REFUSED) {
		const char *reason = fedns_proto_reason_name(a->reason);
		stat_add(f, s->cluster, ST_REFUSED, (unsigned)a->reason);
		fedns_log(FEDNS_LOG_WARN, "fanout.ack.refused", FEDNS_LF_STR("cluster", s->cluster),
			  FEDNS_LF_STR("zone", zs->name),
			  FEDNS_LF_INT("change", (int64_t)a->change_id),
			  FEDNS_LF_UINT("serial", fe.to_serial), FEDNS_LF_STR("reason", reason),
			  FEDNS_LF_STR("detail", a->detail ? a->detail : ""));
		if (r != NULL) {
			size_t len = strlen(zs->name) + strlen(reason) +
				     (a->detail ? strlen(a->detail) : 0) + 48;
			if ((r->err = malloc(len)) != NULL)
				snprintf(r->err, len, "%s serial %" PRIu32 ": %s%s%s", zs->name,
					 fe.to_serial, reason,
					 a->detail && a->detail[0] ? ": " : "",
					 a->detail ? a->detail : "");
		}
		if (had && fe.epoch == zs->epoch) {
			/* the first refusal of this epoch: audited, and resolved */
			if (r != NULL) {
				size_t len = strlen(zs->name) + strlen(s->cluster) + 64;
				if ((r->audit = malloc(len)) != NULL)
					snprintf(r->audit, len,
						 "zone:%s/cluster:%s/change:%" PRId64, zs->name,
						 s->cluster, fe.change_id);
			}
			resolve(s, zs, &fe);
		}
		rec_push(f, r);
		return;
	}
	rec_push(f, r);
	stat_add(f, s->cluster,
		 a->status == FEDNS_PROTO_ACK_ALREADY_APPLIED ? ST_ALREADY : ST_APPLIED, 0);
	if (had && fe.epoch == zs->epoch &&
	    (a->serial != fe.to_serial || !hex_eq(hex, fe.digest))) {
		fedns_log(FEDNS_LOG_WARN, "fanout.ack.digest_mismatch",
			  FEDNS_LF_STR("cluster", s->cluster), FEDNS_LF_STR("zone", zs->name),
			  FEDNS_LF_UINT("serial", a->serial),
			  FEDNS_LF_UINT("expected", fe.to_serial), FEDNS_LF_STR("digest", hex),
			  FEDNS_LF_STR("hub_digest", fe.digest));
		resolve(s, zs, &fe);
	}
}

static void
handle_status(session *s, const fedns_proto_status_report *r, int64_t at)
{
	rec *rc = rec_new(REC_STATUS, s->cluster, 0);
	if (rc == NULL || r->nentries == 0 ||
	    (rc->rows = calloc(r->nentries, sizeof(*rc->rows))) == NULL) {
		rec_free(rc);
		return;
	}
	for (size_t i = 0; i < r->nentries; i++) {
		const fedns_proto_secondary_status *e = &r->entries[i];
		zst *zs = zone_find_name(s, e->zone);
		if (zs == NULL)
			continue; /* not (or no longer) placed here */
		hub_secondary *row = &rc->rows[rc->nrows++];
		snprintf(row->cluster, sizeof(row->cluster), "%s", s->cluster);
		row->zone_id = zs->id;
		snprintf(row->zone, sizeof(row->zone), "%s", zs->name);
		snprintf(row->secondary, sizeof(row->secondary), "%s", e->secondary);
		snprintf(row->address, sizeof(row->address), "%s", e->address ? e->address : "");
		snprintf(row->state, sizeof(row->state), "%s",
			 fedns_proto_secondary_state_name(e->state));
		row->has_serial = e->has_serial;
		row->serial = e->serial;
		any_digest_to_hex(&e->digest, row->digest);
		row->last_proven = (int64_t)e->last_proven;
		row->lag_ms = (int64_t)e->lag_ms;
		snprintf(row->last_error, sizeof(row->last_error), "%s",
			 e->last_error ? e->last_error : "");
		row->repairs = e->repairs;
		row->updated_at = at;
		row->state_since = at;
		row->confirmed_ms = -1;
	}
	if (rc->nrows == 0) {
		rec_free(rc);
		return;
	}
	rec_push(s->f, rc);
}

/* ---------------------------------------------------------------- the session */

static void
session_stop(session *s, const char *why)
{
	pthread_mutex_lock(&s->mu);
	if (!s->stop) {
		s->stop = true;
		s->why_closed = why;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	fedns_conn_close(s->conn);
}

static void *
reader_main(void *arg)
{
	session *s = arg;
	hub_fanout *f = s->f;
	fedns_proto_limits lim = {.max_msg = SPOKE_MAX_FRAME};

	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		bool partial = false;
		fedns_err e = fedns_conn_recv(s->conn, &buf, &len, f->hb_ms, &partial);
		if (e == FEDNS_ETIMEDOUT && !partial) {
			if (mono_ms() - atomic_load(&s->last_recv) > 3 * (int64_t)f->hb_ms) {
				fedns_log(FEDNS_LOG_WARN, "fanout.spoke.silent",
					  FEDNS_LF_STR("cluster", s->cluster),
					  FEDNS_LF_STR("peer", s->peer),
					  FEDNS_LF_UINT("heartbeat_ms", f->hb_ms));
				session_stop(s, "no message for three heartbeat intervals");
				break;
			}
			continue;
		}
		if (e != FEDNS_OK) {
			session_stop(s, e == FEDNS_ECANCELED ? NULL : "connection closed");
			break;
		}
		atomic_store(&s->last_recv, mono_ms());
		fedns_proto_msg *m = NULL;
		fedns_diag d = {0};
		e = fedns_proto_decode(buf, len, &lim, &m, &d);
		free(buf);
		if (e != FEDNS_OK) {
			fedns_log(FEDNS_LOG_WARN, "fanout.protocol_error",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("peer", s->peer),
				  FEDNS_LF_STR("error", d.msg[0] ? d.msg : fedns_strerror(e)));
			session_stop(s, "protocol error");
			break;
		}
		if (m->type == FEDNS_PROTO_HEARTBEAT) {
			fedns_proto_msg_free(m);
			continue;
		}
		msgq *q = malloc(sizeof(*q));
		if (q == NULL) {
			fedns_proto_msg_free(m);
			session_stop(s, "out of memory");
			break;
		}
		q->m = m;
		q->at = now_ms();
		q->next = NULL;
		pthread_mutex_lock(&s->mu);
		/* back-pressure: a worker behind on the store slows the spoke down */
		while (s->qlen >= INQ_MAX && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			fedns_proto_msg_free(m);
			free(q);
			break;
		}
		if (s->qtail != NULL)
			s->qtail->next = q;
		else
			s->qhead = q;
		s->qtail = q;
		s->qlen++;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static fedns_err
recv_one(session *s, unsigned timeout_ms, fedns_proto_msg **out, fedns_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	bool partial = false;
	fedns_proto_limits lim = {.max_msg = SPOKE_MAX_FRAME};
	fedns_err e = fedns_conn_recv(s->conn, &buf, &len, timeout_ms, &partial);
	if (e != FEDNS_OK)
		return fedns_diag_set(d, e, "receiving: %s", fedns_strerror(e));
	atomic_store(&s->last_recv, mono_ms());
	e = fedns_proto_decode(buf, len, &lim, out, d);
	free(buf);
	return e;
}

/* Hello -> Challenge -> ChallengeResponse. On success s->cluster is the certificate's
 * CN and *hello is kept for the resume points. */
static fedns_err
handshake(session *s, fedns_proto_msg **hello)
{
	hub_fanout *f = s->f;
	fedns_proto_msg *h = NULL, *r = NULL;
	fedns_spokeauth_pending p;
	fedns_spokeauth_result res;
	fedns_diag d = {0};
	fedns_err e;
	const char *reason = "malformed";
	char detail[FEDNS_DIAG_MSG_MAX + FEDNS_PKI_REASON_MAX + 64] = "";
	char claimed[64] = "";

	memset(&res, 0, sizeof(res));
	*hello = NULL;
	unsigned t = 3 * f->hb_ms > FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT
			     ? 3 * f->hb_ms
			     : FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT;
	if ((e = recv_one(s, t, &h, &d)) != FEDNS_OK) {
		if (e == FEDNS_ECANCELED || e == FEDNS_EIO || e == FEDNS_ETIMEDOUT) {
			/* gone (or silent) before claiming anything: nothing to refuse or audit */
			fedns_log(FEDNS_LOG_INFO, "fanout.handshake.abandoned",
				  FEDNS_LF_STR("peer", s->peer), FEDNS_LF_STR("error", d.msg));
			return e;
		}
		snprintf(detail, sizeof(detail), "hello: %s", d.msg);
		goto refused;
	}
	if (h->type != FEDNS_PROTO_HELLO) {
		e = FEDNS_EMALFORMED;
		snprintf(detail, sizeof(detail), "expected hello, got %s",
			 fedns_proto_type_name(h->type));
		goto refused;
	}
	snprintf(claimed, sizeof(claimed), "%s", h->u.hello.cluster);
	if ((e = fedns_spokeauth_challenge(&p, (uint64_t)now_ms())) != FEDNS_OK) {
		reason = "internal";
		snprintf(detail, sizeof(detail), "no randomness for a challenge");
		goto refused;
	}
	fedns_proto_msg cm;
	memset(&cm, 0, sizeof(cm));
	cm.type = FEDNS_PROTO_CHALLENGE;
	cm.u.challenge = p.challenge;
	if ((e = send_msg(s, &cm)) != FEDNS_OK) {
		snprintf(detail, sizeof(detail), "sending the challenge: %s", fedns_strerror(e));
		goto refused;
	}
	fedns_diag_clear(&d);
	if ((e = recv_one(s, FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT, &r, &d)) != FEDNS_OK) {
		if (e == FEDNS_ECANCELED)
			goto out;
		snprintf(detail, sizeof(detail), "challenge response: %s", d.msg);
		goto refused;
	}
	if (r->type != FEDNS_PROTO_CHALLENGE_RESPONSE) {
		e = FEDNS_EMALFORMED;
		snprintf(detail, sizeof(detail), "expected challenge_response, got %s",
			 fedns_proto_type_name(r->type));
		goto refused;
	}
	fedns_spokeauth_policy pol = {.ca_file = f->spoke_ca, .crl_file = f->spoke_crl};
	e = fedns_spokeauth_verify(&pol, &p, (uint64_t)now_ms(), &h->u.hello,
				   &r->u.challenge_response, &res);
	if (e != FEDNS_OK) {
		reason = fedns_spokeauth_reason_name(res.reason);
		snprintf(detail, sizeof(detail), "%s", res.detail);
		goto refused;
	}
	snprintf(s->cluster, sizeof(s->cluster), "%.63s", res.cluster);
	*hello = h;
	h = NULL;
	goto out;
refused:
	fedns_log(FEDNS_LOG_WARN, "auth.spoke.rejected", FEDNS_LF_STR("peer", s->peer),
		  FEDNS_LF_STR("cluster", claimed), FEDNS_LF_STR("reason", reason),
		  FEDNS_LF_STR("detail", detail));
	pthread_mutex_lock(&f->mu);
	f->auth_failures++;
	pthread_mutex_unlock(&f->mu);
	if (s->st != NULL && hub_store_begin(s->st, true) == FEDNS_OK) {
		char principal[128], target[300];
		snprintf(principal, sizeof(principal), "spoke:%s", claimed[0] ? claimed : "?");
		snprintf(target, sizeof(target), "cluster:%s/peer:%s/reason:%s",
			 claimed[0] ? claimed : "?", s->peer, reason);
		audit(s->st, principal, "spoke.auth", target, "denied");
		hub_store_commit(s->st);
	}
	if (e == FEDNS_OK)
		e = FEDNS_EAUTH;
out:
	fedns_proto_msg_free(h);
	fedns_proto_msg_free(r);
	return e;
}

static void
process_msgs(session *s, msgq *q)
{
	for (msgq *n; q != NULL; q = n) {
		n = q->next;
		fedns_proto_msg *m = q->m;
		switch (m->type) {
		case FEDNS_PROTO_ACK:
			handle_ack(s, &m->u.ack, q->at);
			break;
		case FEDNS_PROTO_STATUS_REPORT:
			handle_status(s, &m->u.status_report, q->at);
			break;
		default:
			fedns_log(FEDNS_LOG_WARN, "fanout.protocol_error",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("error", "unexpected message after the handshake"),
				  FEDNS_LF_STR("type", fedns_proto_type_name(m->type)));
			session_stop(s, "protocol error");
			break;
		}
		fedns_proto_msg_free(m);
		free(q);
	}
}

static bool
any_dirty(session *s)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (s->zones[i].dirty)
			return true;
	return false;
}

static void
pump(session *s)
{
	if (mono_ms() < s->retry_at)
		return;
	size_t n = s->nzones;
	for (size_t k = 0; k < n && !window_full(s); k++) {
		size_t i = (s->rr + k) % n;
		zst *zs = &s->zones[i];
		if (!zs->dirty)
			continue;
		fedns_err e = pump_zone(s, zs);
		if (e == FEDNS_EIO || e == FEDNS_ECANCELED || e == FEDNS_ETIMEDOUT) {
			/* the connection (or the store) failed: the reader or the retry notices */
			s->retry_at = mono_ms() + 1000;
			break;
		}
		if (e != FEDNS_OK)
			s->retry_at = mono_ms() + 1000;
	}
	if (n > 0)
		s->rr = (s->rr + 1) % n;
	if (s->sent > 0) {
		rec *r = rec_new(REC_SENT, s->cluster, 0);
		if (r != NULL)
			r->sent = s->sent;
		rec_push(s->f, r);
		s->sent = 0;
	}
}

static void
worker_loop(session *s)
{
	hub_fanout *f = s->f;
	for (;;) {
		bool want = (any_dirty(s) && !window_full(s)) || s->recheck;
		int64_t now = mono_ms();
		int64_t wake = s->last_send + f->hb_ms;
		if (want && s->retry_at > now && s->retry_at < wake)
			wake = s->retry_at;
		if (want && s->retry_at <= now)
			wake = now;
		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->qhead == NULL && s->ndirty == 0 && !s->dirty_all &&
		       mono_ms() < wake) {
			struct timespec ts;
			abs_after(&ts, wake - mono_ms());
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		msgq *q = s->qhead;
		s->qhead = s->qtail = NULL;
		s->qlen = 0;
		int64_t *ids = s->dirty;
		size_t nids = s->ndirty;
		bool all = s->dirty_all;
		if (s->recheck && mono_ms() >= s->retry_at) {
			all = true;
			s->recheck = false;
		} else if (s->recheck) {
			all = false; /* folded into the pending recheck */
			nids = 0;
		}
		s->dirty = NULL;
		s->ndirty = s->capdirty = 0;
		s->dirty_all = false;
		pthread_cond_broadcast(&s->cv); /* the reader may wait for room */
		pthread_mutex_unlock(&s->mu);

		process_msgs(s, q);
		if (nids > 0 || all) {
			fedns_err e = placement_changed(s, ids, nids, all);
			if (e != FEDNS_OK) {
				/* look at every zone again once the store answers, not at once */
				s->recheck = true;
				s->retry_at = mono_ms() + 1000;
			}
		}
		free(ids);
		pump(s);
		if (mono_ms() - s->last_send >= (int64_t)f->hb_ms) {
			fedns_proto_msg hb;
			memset(&hb, 0, sizeof(hb));
			hb.type = FEDNS_PROTO_HEARTBEAT;
			hb.u.heartbeat.time = (uint64_t)now_ms();
			hb.u.heartbeat.sequence = ++s->hb_seq;
			if (send_msg(s, &hb) != FEDNS_OK)
				session_stop(s, "sending a heartbeat failed");
		}
	}
}

static void
session_free(session *s)
{
	for (msgq *q = s->qhead, *n; q != NULL; q = n) {
		n = q->next;
		fedns_proto_msg_free(q->m);
		free(q);
	}
	free(s->dirty);
	free(s->zones);
	free(s->fl);
	fedns_conn_free(s->conn);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static void *
session_main(void *arg)
{
	session *s = arg;
	hub_fanout *f = s->f;
	hub_store_opts so = {.path = f->store_path, .busy_ms = 5000};
	fedns_proto_msg *hello = NULL;
	fedns_diag d = {0};
	bool other = false;

	if (hub_store_open(&so, &s->st, &d) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "fanout.store.open_failed",
			  FEDNS_LF_STR("error", d.msg));
		goto done;
	}
	if (handshake(s, &hello) != FEDNS_OK)
		goto done;

	pthread_mutex_lock(&f->mu);
	for (session *o = f->sessions; o != NULL; o = o->next) {
		if (o != s && o->authed && !o->replaced && strcmp(o->cluster, s->cluster) == 0) {
			/* a reconnect while the old connection looks alive: the new one wins */
			o->replaced = true;
			pthread_mutex_lock(&o->mu);
			o->stop = true;
			o->why_closed = "replaced by a new connection";
			pthread_cond_broadcast(&o->cv);
			pthread_mutex_unlock(&o->mu);
			fedns_conn_close(o->conn);
		}
	}
	s->authed = true;
	f->nauth++;
	stats_locked(f, s->cluster);
	pthread_mutex_unlock(&f->mu);

	if (write_txn_begin(s) == FEDNS_OK) {
		char principal[128], target[300];
		int64_t not_after = 0;
		/* the certificate spokeauth just verified; 0 (unknown) if it does not parse */
		if (fedns_pki_cert_not_after((const char *)hello->u.hello.certs[0].data,
					     hello->u.hello.certs[0].len, &not_after) != FEDNS_OK)
			not_after = 0;
		if (hub_cluster_connected(s->st, s->cluster, hello->u.hello.software_version,
					  s->peer, not_after, now_ms()) != FEDNS_OK)
			fedns_log(FEDNS_LOG_ERROR, "fanout.store.cluster_failed",
				  FEDNS_LF_STR("cluster", s->cluster),
				  FEDNS_LF_STR("error", hub_store_errmsg(s->st)));
		snprintf(principal, sizeof(principal), "spoke:%s", s->cluster);
		snprintf(target, sizeof(target), "cluster:%s/peer:%s", s->cluster, s->peer);
		audit(s->st, principal, "spoke.connect", target, "ok");
		write_txn_end(s);
	}
	fedns_log(FEDNS_LOG_INFO, "fanout.spoke.connected", FEDNS_LF_STR("cluster", s->cluster),
		  FEDNS_LF_STR("peer", s->peer),
		  FEDNS_LF_STR("version", hello->u.hello.software_version),
		  FEDNS_LF_UINT("zones_held", hello->u.hello.nzones));
	if (placement_initial(s, &hello->u.hello) != FEDNS_OK) {
		session_stop(s, "sending the placement failed");
		goto closing;
	}
	fedns_proto_msg_free(hello);
	hello = NULL;
	if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
		session_stop(s, "no thread for the reader");
		goto closing;
	}
	s->reader_started = true;
	worker_loop(s);
closing:
	session_stop(s, NULL);
	if (s->reader_started)
		pthread_join(s->reader, NULL);
done:
	fedns_proto_msg_free(hello);
	fedns_conn_close(s->conn);
	pthread_mutex_lock(&f->mu);
	for (session **pp = &f->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->authed) {
		f->nauth--;
		for (session *o = f->sessions; o != NULL; o = o->next)
			other = other || (o->authed && strcmp(o->cluster, s->cluster) == 0);
	}
	pthread_mutex_unlock(&f->mu);
	if (s->authed) {
		const char *why = s->why_closed;
		if (!s->replaced && !other && s->st != NULL && write_txn_begin(s) == FEDNS_OK) {
			if (hub_cluster_disconnected(s->st, s->cluster, why ? why : "", now_ms()) !=
			    FEDNS_OK)
				fedns_log(FEDNS_LOG_ERROR, "fanout.store.cluster_failed",
					  FEDNS_LF_STR("cluster", s->cluster),
					  FEDNS_LF_STR("error", hub_store_errmsg(s->st)));
			write_txn_end(s);
		}
		fedns_log(FEDNS_LOG_INFO, "fanout.spoke.disconnected",
			  FEDNS_LF_STR("cluster", s->cluster), FEDNS_LF_STR("peer", s->peer),
			  FEDNS_LF_STR("why", why ? why : "closed"));
	}
	hub_store_close(s->st);
	session_free(s);
	pthread_mutex_lock(&f->mu);
	f->nthreads--;
	pthread_cond_broadcast(&f->done_cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* ---------------------------------------------------------------- listener */

static void *
accept_main(void *arg)
{
	hub_fanout *f = arg;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fedns_conn *c = NULL;
		fedns_err e = fedns_conn_accept(f->lst, &c);
		if (e == FEDNS_ECANCELED || atomic_load(&f->stopping)) {
			if (c != NULL) {
				fedns_conn_close(c);
				fedns_conn_free(c);
			}
			break;
		}
		if (e != FEDNS_OK) {
			fedns_log(FEDNS_LOG_WARN, "fanout.accept_failed",
				  FEDNS_LF_STR("error", fedns_strerror(e)));
			continue;
		}
		fedns_conn_set_max_frame(c, SPOKE_MAX_FRAME);
		session *s = calloc(1, sizeof(*s));
		inflight *fl = calloc(WINDOW, sizeof(*fl));
		if (s == NULL || fl == NULL) {
			free(s);
			free(fl);
			fedns_conn_close(c);
			fedns_conn_free(c);
			continue;
		}
		s->f = f;
		s->conn = c;
		s->fl = fl;
		snprintf(s->peer, sizeof(s->peer), "%s", fedns_conn_peer(c));
		pthread_mutex_init(&s->mu, NULL);
		cond_init_mono(&s->cv);
		atomic_store(&s->last_recv, mono_ms());
		s->last_send = mono_ms();
		pthread_t t;
		pthread_mutex_lock(&f->mu);
		s->next = f->sessions;
		f->sessions = s;
		f->nthreads++;
		pthread_mutex_unlock(&f->mu);
		if (pthread_create(&t, &attr, session_main, s) != 0) {
			pthread_mutex_lock(&f->mu);
			for (session **pp = &f->sessions; *pp != NULL; pp = &(*pp)->next) {
				if (*pp == s) {
					*pp = s->next;
					break;
				}
			}
			f->nthreads--;
			pthread_mutex_unlock(&f->mu);
			fedns_conn_close(c);
			session_free(s);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

fedns_err
hub_fanout_new(const hub_fanout_opts *o, hub_fanout **out, fedns_diag *d)
{
	char err[512];
	fedns_err e;
	hub_store *st = NULL;

	if (o == NULL || out == NULL || o->store_path == NULL || o->listen_url == NULL ||
	    o->sign_key == NULL || o->workflow == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "fan-out: store, listen URL, signing key and workflow are "
				      "required");
	const char *ca = o->spoke_ca != NULL ? o->spoke_ca : o->tls.ca_file;
	const char *crl = o->spoke_ca != NULL ? o->spoke_crl : o->tls.crl_file;
	if (ca == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "fan-out: a spoke CA bundle is required");
	hub_fanout *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->keymu, NULL);
	pthread_mutex_init(&f->evmu, NULL);
	pthread_mutex_init(&f->snapmu, NULL);
	pthread_mutex_init(&f->ctmu, NULL);
	pthread_mutex_init(&f->signmu, NULL);
	pthread_mutex_init(&f->recmu, NULL);
	pthread_cond_init(&f->done_cv, NULL);
	pthread_cond_init(&f->evcv, NULL);
	pthread_cond_init(&f->reccv, NULL);
	f->wf = o->workflow;
	f->hb_ms = o->heartbeat_ms ? o->heartbeat_ms : HUB_FANOUT_HEARTBEAT_MS_DEFAULT;
	f->snapshot_after =
		o->snapshot_after ? o->snapshot_after : HUB_FANOUT_SNAPSHOT_AFTER_DEFAULT;
	/* generations only grow, across hub restarts too (a spoke ignores a lower one) */
	atomic_store(&f->generation, (uint64_t)now_ms() * 1000);
	f->store_path = strdup(o->store_path);
	f->listen_url = strdup(o->listen_url);
	f->spoke_ca = strdup(ca);
	f->spoke_crl = crl != NULL ? strdup(crl) : NULL;
	f->ct = calloc(CT_SLOTS, sizeof(*f->ct));
	f->sc = calloc(SC_SLOTS, sizeof(*f->sc));
	f->rh = calloc(RH_BUCKETS, sizeof(*f->rh));
	if (f->store_path == NULL || f->listen_url == NULL || f->spoke_ca == NULL ||
	    (crl != NULL && f->spoke_crl == NULL) || f->ct == NULL || f->sc == NULL ||
	    f->rh == NULL) {
		e = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((e = fedns_sign_load_private_file(o->sign_key, &f->key)) != FEDNS_OK) {
		fedns_diag_set(d, e, "signing key %s: %s", o->sign_key, fedns_strerror(e));
		goto fail;
	}
	if ((e = fedns_sign_key_id(f->key, f->key_id)) != FEDNS_OK) {
		fedns_diag_set(d, e, "signing key %s: key id: %s", o->sign_key, fedns_strerror(e));
		goto fail;
	}
	if ((e = fedns_nngtls_server_new(&o->tls, &f->tls, err, sizeof(err))) != FEDNS_OK) {
		fedns_diag_set(d, e, "spoke listener TLS: %s", err);
		goto fail;
	}
	hub_store_opts so = {.path = o->store_path, .busy_ms = 5000};
	if ((e = hub_store_open(&so, &st, d)) != FEDNS_OK)
		goto fail;
	hub_store_close(st);
	*out = f;
	return FEDNS_OK;
fail:
	hub_fanout_free(f);
	return e;
}

/* Flushes what is queued and ends the recorder (after every session ended). */
static void
stop_recorder(hub_fanout *f)
{
	if (!f->rec_started)
		return;
	pthread_mutex_lock(&f->recmu);
	f->rec_stop = true;
	pthread_cond_broadcast(&f->reccv);
	pthread_mutex_unlock(&f->recmu);
	pthread_join(f->rec_thr, NULL);
	f->rec_started = false;
}

fedns_err
hub_fanout_start(hub_fanout *f, fedns_diag *d)
{
	char err[512];
	fedns_err e;

	if (f == NULL || f->started)
		return fedns_diag_set(d, FEDNS_EINVAL, "fan-out: already started");
	if ((e = fedns_conn_listen(f->tls, f->listen_url, &f->lst, err, sizeof(err))) != FEDNS_OK)
		return fedns_diag_set(d, e, "spoke listener %s: %s", f->listen_url, err);
	atomic_store(&f->port, fedns_conn_listener_port(f->lst));
	if (pthread_create(&f->rec_thr, NULL, recorder_main, f) != 0) {
		fedns_conn_listener_close(f->lst);
		fedns_conn_listener_free(f->lst);
		f->lst = NULL;
		return fedns_diag_set(d, FEDNS_ENOMEM, "fan-out: no thread");
	}
	f->rec_started = true;
	if (pthread_create(&f->disp_thr, NULL, dispatch_main, f) != 0) {
		stop_recorder(f);
		fedns_conn_listener_close(f->lst);
		fedns_conn_listener_free(f->lst);
		f->lst = NULL;
		return fedns_diag_set(d, FEDNS_ENOMEM, "fan-out: no thread");
	}
	if (pthread_create(&f->accept_thr, NULL, accept_main, f) != 0) {
		atomic_store(&f->stopping, true);
		pthread_mutex_lock(&f->evmu);
		pthread_cond_broadcast(&f->evcv);
		pthread_mutex_unlock(&f->evmu);
		pthread_join(f->disp_thr, NULL);
		stop_recorder(f);
		fedns_conn_listener_close(f->lst);
		fedns_conn_listener_free(f->lst);
		f->lst = NULL;
		return fedns_diag_set(d, FEDNS_ENOMEM, "fan-out: no thread");
	}
	f->started = true;
	atomic_store(&f->listening, true);
	fedns_log(FEDNS_LOG_INFO, "fanout.listening", FEDNS_LF_STR("listen", f->listen_url),
		  FEDNS_LF_UINT("port", atomic_load(&f->port)), FEDNS_LF_STR("key_id", f->key_id),
		  FEDNS_LF_UINT("heartbeat_ms", f->hb_ms));
	return FEDNS_OK;
}

void
hub_fanout_stop(hub_fanout *f)
{
	if (f == NULL || !f->started || f->stopped)
		return;
	f->stopped = true;
	atomic_store(&f->stopping, true);
	atomic_store(&f->listening, false);
	pthread_mutex_lock(&f->evmu);
	pthread_cond_broadcast(&f->evcv);
	pthread_mutex_unlock(&f->evmu);
	pthread_join(f->disp_thr, NULL);
	fedns_conn_listener_close(f->lst);
	pthread_join(f->accept_thr, NULL);
	pthread_mutex_lock(&f->mu);
	for (session *s = f->sessions; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		if (s->why_closed == NULL)
			s->why_closed = "hub stopping";
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		fedns_conn_close(s->conn);
	}
	while (f->nthreads > 0)
		pthread_cond_wait(&f->done_cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	stop_recorder(f);
}

void
hub_fanout_free(hub_fanout *f)
{
	if (f == NULL)
		return;
	hub_fanout_stop(f);
	fedns_conn_listener_free(f->lst);
	fedns_nngtls_free(f->tls);
	fedns_sign_key_free(f->key);
	for (snap *s = f->snaps, *n; s != NULL; s = n) {
		n = s->next;
		free(s->env);
		free(s);
	}
	for (bblob *b = f->batches, *n; b != NULL; b = n) {
		n = b->next;
		free(b->env);
		free(b);
	}
	for (cstats *c = f->stats, *n; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	for (rec *r = f->rqhead, *n; r != NULL; r = n) {
		n = r->next;
		rec_free(r);
	}
	for (size_t i = 0; f->sc != NULL && i < SC_SLOTS; i++)
		free(f->sc[i].payload);
	for (size_t i = 0; f->rh != NULL && i < RH_BUCKETS; i++) {
		for (secmem *m = f->rh[i], *n; m != NULL; m = n) {
			n = m->next;
			free(m);
		}
	}
	free(f->sc);
	free(f->rh);
	free(f->ev);
	free(f->ct);
	free(f->store_path);
	free(f->listen_url);
	free(f->spoke_ca);
	free(f->spoke_crl);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->keymu);
	pthread_mutex_destroy(&f->evmu);
	pthread_mutex_destroy(&f->snapmu);
	pthread_mutex_destroy(&f->ctmu);
	pthread_mutex_destroy(&f->signmu);
	pthread_mutex_destroy(&f->recmu);
	pthread_cond_destroy(&f->done_cv);
	pthread_cond_destroy(&f->evcv);
	pthread_cond_destroy(&f->reccv);
	free(f);
}
