/* SPDX-License-Identifier: Apache-2.0 */
/* The REST routes of fedns-hub: strict JSON in, JSON out, one store transaction per request
 * with its audit record, idempotent POSTs and paged lists (docs/hub.md). */
#include "hub/api.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/auditchain.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/sha2.h"
#include "dns/diff.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "hub/auth.h"
#include "tls/sign.h"

#define MAX_SEGS 8
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define MAX_APPROVALS 16
#define MAX_EDITS 100000
#define AUDIT_BATCH 1000
#define ZONE_LOCKS 64

/* A store handle (hub_store is used by one request at a time): requests take one from the
 * API's pool and give it back, so there are as many as requests ran at once, whatever
 * threads the transport runs them on; closed when the API is freed. */
typedef struct tstore {
	hub_store *s;
	struct tstore *next;
} tstore;

#define WAIT_SLOTS 64

struct hub_api {
	char *store_path;
	hub_workflow *wf;
	size_t max_body, max_zone_body;
	pthread_mutex_t mu;
	tstore *stores; /* the idle ones, guarded by mu */
	atomic_bool ready;
	/* Writers queue here in arrival order (a ticket lock) around their short write
	 * transaction instead of napping in SQLite's busy handler; busy_timeout stays the
	 * backstop against other processes (fedns-hub backup). */
	pthread_mutex_t wmu;
	/* a waiter sleeps on the slot of its ticket, so a release wakes the next writer
	 * only, not every queued one (a broadcast to all cost a context switch each) */
	pthread_cond_t wcv[WAIT_SLOTS];
	uint64_t wnext, wserving;
	/* Group commit (the store's connections use synchronous=NORMAL): the ticket holder
	 * numbers its commit (gc_started before COMMIT, gc_committed after it returned) and
	 * gives the write lock up before any sync; then every request waits until a WAL sync
	 * that began after its commit has succeeded (gc_durable), one waiter syncing for all
	 * that committed before it began. Readers wait for what they may have seen. */
	hub_wal_sync *ws; /* NULL: FULL syncs at each COMMIT (no group commit) */
	pthread_mutex_t gmu;
	/* a waiter for commit n sleeps on slot n % WAIT_SLOTS, so the end of a sync wakes the
	 * requests it made durable and the one that should sync next, not every waiter */
	pthread_cond_t gcv[WAIT_SLOTS];
	uint64_t gc_started, gc_committed, gc_durable;
	unsigned gc_waiters;
	bool gc_syncing;
	uint64_t gc_syncs; /* syncs run: the group sizes are commits / syncs */
	/* Approvals that may commit on one zone take turns (by zone id, striped) from their
	 * preparation to their commit: of several racing for the same base only one can
	 * commit, so the others should find out cheaply rather than each build a version. */
	pthread_mutex_t zmu[ZONE_LOCKS];
	/* RFC 9421 request signatures of certificate-holding principals (nonce memory) */
	hub_httpsig *sigs;
	void (*on_zone_write)(void *ctx, int64_t zone_id);
	void *hook_ctx;
};

enum body_mode {
	BODY_NONE,
	BODY_JSON,
	BODY_JSON_OPT
};

struct rq;
typedef int (*handler_fn)(struct rq *r);

typedef struct route {
	const char *method;
	const char *pattern; /* segments after /api/v1/, '*' captures one */
	handler_fn fn;
	bool write;
	enum body_mode body;
	bool zone_body; /* may carry a whole zone file: the larger cap */
	const char *action;
	const char *const *fields; /* allowed top-level body fields */
} route;

/* One request in flight. */
typedef struct rq {
	hub_api *a;
	const hub_req *req;
	hub_res *res;
	hub_store *s;
	const route *rt;
	const char *cap[3];
	char segbuf[4096];
	cJSON *body;
	hub_principal who;
	bool authed;
	bool signed_in; /* authenticated by signature in an earlier run of this request */
	bool in_txn;
	bool wlocked;	  /* holds a->wmu */
	bool used_store;  /* opened a transaction: wait until what it saw is durable */
	uint64_t gc_seq;  /* the number of its last commit (0: none) */
	bool notify_zone; /* call on_zone_write once the commit is durable */
	bool prep_phase;  /* the read-transaction run of a prep route */
	int zlock;	  /* index of the held a->zmu, or -1 */
	hub_prepared *prep;
	/* what the audit record says */
	char target[300];
	char payload_digest[65];
	int64_t zone_id; /* a zone the workflow touched: publish or forget */
	/* a second record for a commit made by an approval */
	bool committed;
	int64_t commit_change;
	char commit_digest[65];
	char deleted_zone[256]; /* the commit deleted this zone */
	/* the answer */
	int ok_status;
	cJSON *out;
	const char *text; /* a non-JSON answer (export); borrowed or owned by text_owned */
	char *text_owned;
	size_t text_len;
	const char *text_type;
	bool replayed;
	char *idem_body; /* what a replay gets when it differs from the answer (tokens) */
	/* the failure */
	int status;
	const char *code;
	const char *outcome;
	char msg[640];
	char field[96];
	unsigned line;
	/* tenants listed once per request */
	hub_tenant *tenants;
	size_t ntenants;
	bool tenants_loaded;
} rq;

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[FEDNS_SHA256_LEN];
	fedns_hash_once(FEDNS_HASH_SHA256, p, n, h);
	fedns_hex_encode(h, sizeof(h), out, 0);
}

/* Records the first failure; later ones are ignored so the root cause is answered. */
__attribute__((format(printf, 5, 6))) static int
fail(rq *r, int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (r->status != 0) {
		return -1;
	}
	r->status = status;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	if (field != NULL) {
		snprintf(r->field, sizeof(r->field), "%s", field);
	}
	return -1;
}

static int
deny(rq *r, const char *what)
{
	int rv = fail(r, 403, "forbidden", NULL, "principal %s may not %s", r->who.name, what);
	r->outcome = "denied";
	return rv;
}

static int
oom(rq *r)
{
	return fail(r, 500, "internal", NULL, "out of memory");
}

/* Maps a store/workflow error that has no better explanation. */
static int
fail_err(rq *r, fedns_err e, const char *what)
{
	switch (e) {
	case FEDNS_ENOENT:
		return fail(r, 404, "not_found", NULL, "%s: not found", what);
	case FEDNS_EEXIST:
		return fail(r, 409, "exists", NULL, "%s: already exists", what);
	case FEDNS_ESTALE:
		return fail(r, 409, "stale", NULL,
			    "%s: based on a version that is no longer current", what);
	case FEDNS_ENOMEM:
		return oom(r);
	case FEDNS_ETOOBIG:
		return fail(r, 413, "too_large", NULL, "%s: over a size cap", what);
	default:
		fedns_log(FEDNS_LOG_ERROR, "api.store.error", FEDNS_LF_STR("what", what),
			  FEDNS_LF_STR("error", fedns_strerror(e)));
		return fail(r, 500, "internal", NULL, "%s: %s", what, fedns_strerror(e));
	}
}

/* Validation errors from the workflow: what and where, 400 for syntax, 422 for rules. */
static int
fail_valid(rq *r, fedns_err e, const fedns_diag *d, const hub_where *w, const char *what)
{
	const char *field = w != NULL && w->field[0] != '\0' ? w->field : NULL;
	const char *msg = d->msg[0] != '\0' ? d->msg : fedns_strerror(e);
	const char *code = "invalid";
	int status = 400;
	char fbuf[96] = "";

	if (field != NULL) {
		snprintf(fbuf, sizeof(fbuf), "%s", field);
	}
	switch (e) {
	case FEDNS_ESYNTAX:
	case FEDNS_EMALFORMED:
	case FEDNS_EINVAL:
		if (field == NULL) {
			code = "invalid";
		} else if (strstr(field, "rdata") != NULL) {
			code = "invalid_rdata";
		} else if (strstr(field, "ttl") != NULL) {
			code = "invalid_ttl";
		} else if (strstr(field, "type") != NULL) {
			code = "invalid_type";
		} else if (strstr(field, "name") != NULL) {
			code = "invalid_name";
		} else if (strstr(field, "zone_file") != NULL) {
			code = "invalid_zone_file";
		}
		break;
	case FEDNS_EZONE:
		status = 422;
		code = "zone_rule";
		break;
	case FEDNS_EACCES:
		status = 422;
		code = "needs_flag";
		break;
	case FEDNS_ESTALE:
		status = 409;
		code = "stale";
		break;
	case FEDNS_ETOOBIG:
		status = 413;
		code = "too_large";
		break;
	default:
		return fail_err(r, e, what);
	}
	r->outcome = status == 409 ? "conflict" : "invalid";
	if (field != NULL && strncmp(msg, field, strlen(field)) != 0) {
		fail(r, status, code, fbuf, "%s: %s", field, msg);
	} else {
		fail(r, status, code, field != NULL ? fbuf : NULL, "%s", msg);
	}
	unsigned line = w != NULL && w->line != 0 ? w->line : d->line;
	if (line != 0) {
		r->line = line;
	}
	return -1;
}

/* ---- JSON input ---- */

static int
check_fields(rq *r, const cJSON *o, const char *prefix, const char *const *allowed)
{
	const cJSON *it, *jt;
	char f[96];

	if (!cJSON_IsObject(o)) {
		return fail(r, 400, "invalid_field", prefix[0] != '\0' ? prefix : NULL,
			    "%s must be a JSON object", prefix[0] != '\0' ? prefix : "the body");
	}
	cJSON_ArrayForEach(it, o)
	{
		size_t i;
		const char *name = it->string != NULL ? it->string : "";
		snprintf(f, sizeof(f), "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", name);
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], name) == 0) {
				break;
			}
		}
		if (allowed[i] == NULL) {
			return fail(r, 400, "unknown_field", f, "unknown field \"%s\"", f);
		}
		for (jt = o->child; jt != it; jt = jt->next) {
			if (jt->string != NULL && strcmp(jt->string, name) == 0) {
				return fail(r, 400, "duplicate_field", f,
					    "field \"%s\" appears twice", f);
			}
		}
	}
	return 0;
}

static void
fpath(char *out, size_t outsz, const char *prefix, const char *key)
{
	snprintf(out, outsz, "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", key);
}

/* A string field: absent is fine unless required (then *out stays NULL). */
static int
jstr(rq *r, const cJSON *o, const char *prefix, const char *key, bool required, size_t maxlen,
     const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char f[96];

	fpath(f, sizeof(f), prefix, key);
	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required) {
			return fail(r, 400, "missing_field", f, "field \"%s\" is required", f);
		}
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		return fail(r, 400, "invalid_field", f, "field \"%s\" must be a string", f);
	}
	if (strlen(v->valuestring) > maxlen) {
		return fail(r, 400, "invalid_field", f, "field \"%s\" is longer than %zu bytes", f,
			    maxlen);
	}
	if (required && v->valuestring[0] == '\0') {
		return fail(r, 400, "invalid_field", f, "field \"%s\" must not be empty", f);
	}
	*out = v->valuestring;
	return 0;
}

static int
jint(rq *r, const cJSON *o, const char *prefix, const char *key, bool required, double min,
     double max, int64_t *out, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char f[96];

	fpath(f, sizeof(f), prefix, key);
	if (present != NULL) {
		*present = false;
	}
	if (v == NULL || cJSON_IsNull(v)) {
		if (required) {
			return fail(r, 400, "missing_field", f, "field \"%s\" is required", f);
		}
		return 0;
	}
	/* the range test comes first so the cast is defined (and NaN fails it) */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		return fail(r, 400, "invalid_field", f,
			    "field \"%s\" must be an integer from %.0f to %.0f", f, min, max);
	}
	*out = (int64_t)v->valuedouble;
	if (present != NULL) {
		*present = true;
	}
	return 0;
}

static int
jbool(rq *r, const cJSON *o, const char *key, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = false;
	if (v == NULL || cJSON_IsNull(v)) {
		return 0;
	}
	if (!cJSON_IsBool(v)) {
		return fail(r, 400, "invalid_field", key, "field \"%s\" must be true or false",
			    key);
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

/* ---- names ---- */

static bool
name_chars_ok(const char *s, const char *extra)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL))) {
			return false;
		}
	}
	return true;
}

/* A zone name as a client writes it ("example.com" or "example.com.") into the store's
 * form (absolute, lowercase). Only hostname characters: anything else in a path segment
 * is a traversal attempt or a typo. */
static int
zone_name_canon(rq *r, const char *in, const char *field, char out[256])
{
	static const uint8_t root[1] = {0};
	uint8_t wire[FEDNS_NAME_MAXLEN];
	size_t wlen;
	fedns_diag d;

	fedns_diag_clear(&d);
	if (strlen(in) > 254 || !name_chars_ok(in, "-_.") || strcmp(in, ".") == 0 || in[0] == '.' ||
	    strstr(in, "..") != NULL) {
		return fail(r, 400, "invalid_name", field,
			    "zone name \"%.200s\" is not a domain name (letters, digits, '-', '_' "
			    "and single dots only)",
			    in);
	}
	if (fedns_name_from_text(in, strlen(in), root, wire, &wlen, &d) != FEDNS_OK) {
		return fail(r, 400, "invalid_name", field, "zone name \"%.200s\": %s", in, d.msg);
	}
	fedns_name_tolower(wire);
	if (fedns_name_to_text(wire, out, 256) == 0) {
		return fail(r, 400, "invalid_name", field, "zone name \"%.200s\" is too long", in);
	}
	return 0;
}

/* ---- query strings ---- */

/* The decoded value of query parameter 'key' into out; false when absent or invalid
 * (invalid ones are recorded as a failure). */
static bool
qparam(rq *r, const char *key, char *out, size_t outsz)
{
	const char *q = r->req->query != NULL ? r->req->query : "";
	size_t klen = strlen(key);

	while (*q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end != NULL ? (size_t)(end - q) : strlen(q);
		if (len > klen && strncmp(q, key, klen) == 0 && q[klen] == '=') {
			size_t i, o = 0;
			for (i = klen + 1; i < len; i++) {
				char c = q[i];
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					int hi = len - i > 2 ? fedns_hex_digit(q[i + 1]) : -1;
					int lo = len - i > 2 ? fedns_hex_digit(q[i + 2]) : -1;
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
						fail(r, 400, "invalid_query", key,
						     "query parameter \"%s\" has an invalid escape",
						     key);
						return false;
					}
					c = (char)(hi * 16 + lo);
					i += 2;
				}
				if (o + 1 >= outsz) {
					fail(r, 400, "invalid_query", key,
					     "query parameter \"%s\" is too long", key);
					return false;
				}
				out[o++] = c;
			}
			out[o] = '\0';
			return true;
		}
		if (end == NULL) {
			break;
		}
		q = end + 1;
	}
	return false;
}

/* An integer query parameter; returns -1 on a bad value, 0 otherwise (*present says). */
static int
qint(rq *r, const char *key, int64_t min, int64_t max, int64_t *out, bool *present)
{
	char v[32];
	char *end = NULL;

	*present = false;
	if (!qparam(r, key, v, sizeof(v))) {
		return r->status != 0 ? -1 : 0;
	}
	long long x = strtoll(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || (v[0] < '0' || v[0] > '9') || x < min || x > max) {
		return fail(r, 400, "invalid_query", key,
			    "query parameter \"%s\" must be an integer from %" PRId64
			    " to %" PRId64,
			    key, min, max);
	}
	*out = x;
	*present = true;
	return 0;
}

static int
qlimit(rq *r, size_t *limit)
{
	int64_t v = PAGE_DEFAULT;
	bool present;

	if (qint(r, "limit", 1, PAGE_MAX, &v, &present) != 0) {
		return -1;
	}
	*limit = (size_t)v;
	return 0;
}

/* ---- lookups and authorisation ---- */

static void
tenant_name(rq *r, int64_t id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s", id == HUB_TENANT_ALL ? "*" : "");
	if (id == HUB_TENANT_ALL) {
		return;
	}
	/* one listing per request: a zone list names the tenant of every zone */
	if (!r->tenants_loaded && hub_tenant_list(r->s, &r->tenants, &r->ntenants) == FEDNS_OK) {
		r->tenants_loaded = true;
	}
	for (size_t i = 0; i < r->ntenants; i++) {
		if (r->tenants[i].id == id) {
			snprintf(out, outsz, "%s", r->tenants[i].name);
		}
	}
}

/* A tenant named in a path or body ("*" is the estate). A tenant that does not exist is
 * 404 only for an estate admin (others learn nothing from the difference). */
static int
tenant_lookup(rq *r, const char *name, const char *field, int64_t *id)
{
	hub_tenant t;
	fedns_err e;

	if (strcmp(name, "*") == 0) {
		*id = HUB_TENANT_ALL;
		return 0;
	}
	if ((e = hub_tenant_get(r->s, name, &t)) == FEDNS_OK) {
		*id = t.id;
		return 0;
	}
	if (e != FEDNS_ENOENT) {
		return fail_err(r, e, "tenant");
	}
	if (!hub_auth_allowed(r->s, &r->who, HUB_TENANT_ALL, HUB_ACT_ESTATE_ADMIN, 0)) {
		return deny(r, "act in an unknown tenant");
	}
	return fail(r, 404, "not_found", field, "tenant \"%.100s\" does not exist", name);
}

static const char *
act_text(hub_action act)
{
	switch (act) {
	case HUB_ACT_READ:
		return "read";
	case HUB_ACT_PROPOSE:
		return "propose changes to";
	case HUB_ACT_APPROVE:
		return "approve changes to";
	case HUB_ACT_ADMIN:
		return "administer";
	default:
		return "administer the estate through";
	}
}

/* The zone of a path segment or query, authorised for 'act'. 404 when no such zone
 * exists; 403 when it exists but the caller's roles do not reach it. */
static int
zone_access(rq *r, const char *name, const char *field, hub_action act, hub_zone *z)
{
	char canon[256];
	fedns_err e;

	if (zone_name_canon(r, name, field, canon) != 0) {
		return -1;
	}
	snprintf(r->target, sizeof(r->target), "zone:%s", canon);
	if ((e = hub_zone_get(r->s, canon, z)) != FEDNS_OK || z->deleted) {
		if (e == FEDNS_OK || e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", field, "zone %s does not exist", canon);
		}
		return fail_err(r, e, "zone");
	}
	if (!hub_auth_allowed(r->s, &r->who, z->tenant_id, act, 0)) {
		char what[400];
		snprintf(what, sizeof(what), "%s zone %s", act_text(act), canon);
		return deny(r, what);
	}
	return 0;
}

static int
estate_admin(rq *r, const char *what)
{
	if (!hub_auth_allowed(r->s, &r->who, HUB_TENANT_ALL, HUB_ACT_ESTATE_ADMIN, 0)) {
		return deny(r, what);
	}
	return 0;
}

/* ---- JSON output ---- */

static cJSON *
obj_new(rq *r)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL) {
		oom(r);
	}
	return o;
}

static void
add_int(cJSON *o, const char *k, int64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static cJSON *
zone_json(rq *r, const hub_zone *z)
{
	cJSON *o = obj_new(r);
	char tn[64];
	char **cl = NULL;
	size_t ncl = 0;

	if (o == NULL) {
		return NULL;
	}
	tenant_name(r, z->tenant_id, tn, sizeof(tn));
	cJSON_AddStringToObject(o, "name", z->name);
	cJSON_AddStringToObject(o, "tenant", tn);
	add_int(o, "approvals_required", z->approvals_required);
	add_int(o, "serial", z->serial);
	cJSON_AddStringToObject(o, "digest", z->digest);
	add_int(o, "created_at", z->created_at);
	cJSON *pl = cJSON_AddArrayToObject(o, "placement");
	if (hub_zone_placement(r->s, z->id, &cl, &ncl) == FEDNS_OK) {
		for (size_t i = 0; i < ncl; i++) {
			cJSON_AddItemToArray(pl, cJSON_CreateString(cl[i]));
			free(cl[i]);
		}
		free(cl);
	}
	return o;
}

/* The diff text ("-RR\n+RR\n...") as an array of lines. */
static cJSON *
lines_json(const char *text)
{
	cJSON *a = cJSON_CreateArray();
	const char *p = text != NULL ? text : "";

	while (a != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);
		if (line != NULL && len > 0) {
			cJSON_AddItemToArray(a, cJSON_CreateString(line));
		}
		free(line);
		p += len + (nl != NULL);
	}
	return a;
}

static cJSON *
change_json(rq *r, const hub_change *c, bool with_diff)
{
	cJSON *o = obj_new(r);
	hub_principal p;
	hub_zone z;

	if (o == NULL) {
		return NULL;
	}
	add_int(o, "id", c->id);
	if (hub_zone_get_id(r->s, c->zone_id, &z) == FEDNS_OK) {
		cJSON_AddStringToObject(o, "zone", z.name);
	}
	cJSON_AddStringToObject(o, "state", hub_change_state_name(c->state));
	if (hub_principal_get_id(r->s, c->author_id, &p) == FEDNS_OK) {
		cJSON_AddStringToObject(o, "author", p.name);
	}
	cJSON_AddStringToObject(o, "reason", c->reason);
	cJSON_AddStringToObject(o, "ticket", c->ticket);
	cJSON_AddBoolToObject(o, "delete_zone", c->delete_zone);
	add_int(o, "base_serial", c->base_serial);
	if (c->serial != 0 || c->state == HUB_CHANGE_COMMITTED) {
		add_int(o, "serial", c->serial);
	} else {
		cJSON_AddNullToObject(o, "serial");
	}
	if (c->digest[0] != '\0') {
		cJSON_AddStringToObject(o, "digest", c->digest);
	} else {
		cJSON_AddNullToObject(o, "digest");
	}
	add_int(o, "approvals", c->approvals);
	add_int(o, "created_at", c->created_at);
	if (c->decided_at != 0) {
		add_int(o, "decided_at", c->decided_at);
	} else {
		cJSON_AddNullToObject(o, "decided_at");
	}
	if (with_diff) {
		cJSON_AddItemToObject(o, "diff", lines_json(c->diff));
	}
	return o;
}

static cJSON *
plan_json(rq *r, const hub_plan *p)
{
	cJSON *o = obj_new(r);

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddItemToObject(o, "change", change_json(r, &p->change, true));
	cJSON *pl = cJSON_AddObjectToObject(o, "plan");
	add_int(pl, "next_serial", p->next_serial);
	add_int(pl, "deleted", (int64_t)p->ndel);
	add_int(pl, "added", (int64_t)p->nadd);
	cJSON *w = cJSON_AddArrayToObject(pl, "warnings");
	for (size_t i = 0; i < p->nwarnings && i < 4; i++) {
		cJSON_AddItemToArray(w, cJSON_CreateString(p->warnings[i]));
	}
	return o;
}

static cJSON *
audit_json(const hub_audit *a)
{
	cJSON *o = cJSON_CreateObject();

	add_int(o, "seq", a->seq);
	add_int(o, "at", a->at);
	cJSON_AddStringToObject(o, "principal", a->principal);
	cJSON_AddStringToObject(o, "action", a->action);
	cJSON_AddStringToObject(o, "target", a->target);
	cJSON_AddStringToObject(o, "outcome", a->outcome);
	cJSON_AddStringToObject(o, "payload_digest", a->payload_digest);
	cJSON_AddStringToObject(o, "prev_hash", a->prev_hash);
	cJSON_AddStringToObject(o, "hash", a->hash);
	return o;
}

static void
next_cursor_int(cJSON *o, bool more, int64_t v)
{
	if (more) {
		char b[32];
		snprintf(b, sizeof(b), "%" PRId64, v);
		cJSON_AddStringToObject(o, "next", b);
	} else {
		cJSON_AddNullToObject(o, "next");
	}
}

/* ---- zone content ---- */

/* Parses a kept version of a zone into a finished fedns_zone (free with fedns_zone_free). */
static int
load_version(rq *r, const hub_zone *z, uint32_t serial, const char *field, fedns_zone **out)
{
	static const uint8_t root[1] = {0};
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	char *text = NULL;
	fedns_zone *fz = NULL;
	fedns_diag d;
	fedns_err e;
	int rv = -1;

	fedns_diag_clear(&d);
	*out = NULL;
	if ((e = hub_version_text(r->s, z->id, serial, &text)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", field, "zone %s has no version %" PRIu32,
				    z->name, serial);
		}
		return fail_err(r, e, "zone version");
	}
	if (fedns_name_from_text(z->name, strlen(z->name), root, origin, &olen, &d) != FEDNS_OK ||
	    fedns_zone_new(origin, 1, NULL, &fz) != FEDNS_OK) {
		fail(r, 500, "internal", NULL, "zone %s: cannot load", z->name);
		goto out;
	}
	fedns_zonefile_opts zo = {.origin = origin};
	if (fedns_zonefile_parse(z->name, text, strlen(text), &zo, fz, &d) != FEDNS_OK ||
	    fedns_zone_finish(fz, NULL, NULL) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "api.version.unreadable", FEDNS_LF_STR("zone", z->name),
			  FEDNS_LF_UINT("serial", serial), FEDNS_LF_STR("error", d.msg));
		fail(r, 500, "internal", NULL, "zone %s version %" PRIu32 " does not load", z->name,
		     serial);
		goto out;
	}
	*out = fz;
	fz = NULL;
	rv = 0;
out:
	fedns_zone_free(fz);
	free(text);
	return rv;
}

static char *
rr_line(const fedns_rr *rr)
{
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	if (fedns_rr_print(rr, &b) != FEDNS_OK) {
		fedns_buf_fini(&b);
		return NULL;
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n') {
		b.data[--b.len] = '\0';
	}
	return (char *)fedns_buf_steal(&b, NULL);
}

/* ---- handlers: identity ---- */

static int
h_whoami(rq *r)
{
	hub_tenant *t = NULL;
	size_t n = 0;
	fedns_err e;

	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON *p = cJSON_AddObjectToObject(r->out, "principal");
	add_int(p, "id", r->who.id);
	cJSON_AddStringToObject(p, "name", r->who.name);
	cJSON_AddStringToObject(p, "kind", r->who.kind);
	cJSON *roles = cJSON_AddArrayToObject(r->out, "roles");
	hub_role estate = hub_role_of(r->s, r->who.id, HUB_TENANT_ALL);
	if (estate != HUB_ROLE_NONE) {
		cJSON *g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "tenant", "*");
		cJSON_AddStringToObject(g, "role", hub_role_name(estate));
		cJSON_AddItemToArray(roles, g);
	}
	if ((e = hub_tenant_list(r->s, &t, &n)) != FEDNS_OK) {
		return fail_err(r, e, "tenants");
	}
	for (size_t i = 0; i < n; i++) {
		hub_role role = hub_role_of(r->s, r->who.id, t[i].id);
		if (role == HUB_ROLE_NONE || role == estate) {
			continue;
		}
		cJSON *g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "tenant", t[i].name);
		cJSON_AddStringToObject(g, "role", hub_role_name(role));
		cJSON_AddItemToArray(roles, g);
	}
	free(t);
	return 0;
}

static cJSON *
tenant_json(const hub_tenant *t)
{
	cJSON *o = cJSON_CreateObject();
	add_int(o, "id", t->id);
	cJSON_AddStringToObject(o, "name", t->name);
	add_int(o, "created_at", t->created_at);
	return o;
}

static int
h_tenant_create(rq *r)
{
	const char *name;
	hub_tenant t;
	int64_t id;
	fedns_err e;

	if (estate_admin(r, "create tenants") != 0 ||
	    jstr(r, r->body, "", "name", true, 63, &name) != 0) {
		return -1;
	}
	snprintf(r->target, sizeof(r->target), "tenant:%s", name);
	if (!name_chars_ok(name, "-_")) {
		return fail(r, 400, "invalid_field", "name",
			    "tenant name \"%s\" may hold only letters, digits, '-' and '_'", name);
	}
	if ((e = hub_tenant_create(r->s, name, &id)) != FEDNS_OK) {
		r->outcome = e == FEDNS_EEXIST ? "conflict" : NULL;
		return fail_err(r, e, "tenant");
	}
	if ((e = hub_tenant_get(r->s, name, &t)) != FEDNS_OK) {
		return fail_err(r, e, "tenant");
	}
	r->out = tenant_json(&t);
	r->ok_status = 201;
	return 0;
}

static int
h_tenant_list(rq *r)
{
	hub_tenant *t = NULL;
	size_t n = 0;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "tenants");
	if (estate_admin(r, "list tenants") != 0) {
		return -1;
	}
	if ((e = hub_tenant_list(r->s, &t, &n)) != FEDNS_OK) {
		return fail_err(r, e, "tenants");
	}
	if ((r->out = obj_new(r)) != NULL) {
		cJSON *a = cJSON_AddArrayToObject(r->out, "tenants");
		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToArray(a, tenant_json(&t[i]));
		}
		cJSON_AddNullToObject(r->out, "next");
	}
	free(t);
	return r->out != NULL ? 0 : -1;
}

static bool
principal_name_ok(const char *s)
{
	return name_chars_ok(s, "-_.@");
}

/* Issues a token for principal p: the answer carries it once; a replay answer does not. */
static int
issue_token(rq *r, const hub_principal *p, const char *label, int64_t expires_at, cJSON *o)
{
	char tok[HUB_TOKEN_LEN + 1], hash[65];
	fedns_err e;

	if ((e = hub_token_new(tok, hash)) != FEDNS_OK) {
		return fail_err(r, e, "token");
	}
	if ((e = hub_token_add(r->s, p->id, hash, label, expires_at)) != FEDNS_OK) {
		fedns_secure_zero(tok, sizeof(tok));
		return fail_err(r, e, "token");
	}
	if (expires_at != 0) {
		add_int(o, "expires_at", expires_at);
	} else {
		cJSON_AddNullToObject(o, "expires_at");
	}
	/* what an idempotent replay answers: the token is shown once, never stored */
	cJSON_AddNullToObject(o, "token");
	r->idem_body = cJSON_PrintUnformatted(o);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "token");
	cJSON_AddStringToObject(o, "token", tok);
	fedns_secure_zero(tok, sizeof(tok));
	return r->idem_body != NULL ? 0 : oom(r);
}

static int
h_principal_create(rq *r)
{
	const char *name, *kind, *label;
	hub_principal p;
	int64_t id;
	fedns_err e;

	if (estate_admin(r, "create principals") != 0 ||
	    jstr(r, r->body, "", "name", true, 127, &name) != 0 ||
	    jstr(r, r->body, "", "kind", false, 15, &kind) != 0 ||
	    jstr(r, r->body, "", "token_label", false, 100, &label) != 0) {
		return -1;
	}
	snprintf(r->target, sizeof(r->target), "principal:%s", name);
	if (!principal_name_ok(name)) {
		return fail(r, 400, "invalid_field", "name",
			    "principal name \"%s\" may hold only letters, digits, '-', '_', '.' "
			    "and '@'",
			    name);
	}
	if (kind == NULL) {
		kind = "person";
	} else if (strcmp(kind, "person") != 0 && strcmp(kind, "automation") != 0) {
		return fail(r, 400, "invalid_field", "kind",
			    "kind must be \"person\" or \"automation\", not \"%s\"", kind);
	}
	if ((e = hub_principal_create(r->s, name, kind, &id)) != FEDNS_OK) {
		r->outcome = e == FEDNS_EEXIST ? "conflict" : NULL;
		return fail_err(r, e, "principal");
	}
	if ((e = hub_principal_get_id(r->s, id, &p)) != FEDNS_OK) {
		return fail_err(r, e, "principal");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON *po = cJSON_AddObjectToObject(r->out, "principal");
	add_int(po, "id", p.id);
	cJSON_AddStringToObject(po, "name", p.name);
	cJSON_AddStringToObject(po, "kind", p.kind);
	r->ok_status = 201;
	return issue_token(r, &p, label != NULL ? label : "initial", 0, r->out);
}

static int
h_token_create(rq *r)
{
	const char *label;
	int64_t expires_in = 0;
	bool has_exp;
	hub_principal p;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "principal:%s", r->cap[0]);
	if (estate_admin(r, "issue tokens") != 0 ||
	    jstr(r, r->body, "", "label", false, 100, &label) != 0 ||
	    jint(r, r->body, "", "expires_in", false, 60, 10.0 * 365 * 86400, &expires_in,
		 &has_exp) != 0) {
		return -1;
	}
	if ((e = hub_principal_get(r->s, r->cap[0], &p)) != FEDNS_OK) {
		return fail_err(r, e, "principal");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON_AddStringToObject(r->out, "principal", p.name);
	r->ok_status = 201;
	return issue_token(r, &p, label != NULL ? label : "api",
			   has_exp ? now_ms() / 1000 + expires_in : 0, r->out);
}

static cJSON *
principal_json(rq *r, const hub_principal *p)
{
	cJSON *o = cJSON_CreateObject();
	hub_role_binding *b = NULL;
	size_t n = 0;

	if (o == NULL) {
		return NULL;
	}
	add_int(o, "id", p->id);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "kind", p->kind);
	cJSON_AddBoolToObject(o, "disabled", p->disabled);
	add_int(o, "created_at", p->created_at);
	cJSON *roles = cJSON_AddArrayToObject(o, "roles");
	if (hub_role_list(r->s, p->id, &b, &n) != FEDNS_OK) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "tenant", b[i].tenant);
		cJSON_AddStringToObject(g, "role", hub_role_name(b[i].role));
		cJSON_AddItemToArray(roles, g);
	}
	free(b);
	return o;
}

/* Every principal with its roles, by name; estate admins only (it spans tenants). */
static int
h_principal_list(rq *r)
{
	char after[129] = "";
	size_t limit, n = 0;
	hub_principal *ps = NULL;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "principals");
	if (estate_admin(r, "list principals") != 0 || qlimit(r, &limit) != 0) {
		return -1;
	}
	if (!qparam(r, "after", after, sizeof(after)) && r->status != 0) {
		return -1;
	}
	if ((e = hub_principal_list_page(r->s, after, limit + 1, &ps, &n)) != FEDNS_OK) {
		return fail_err(r, e, "principals");
	}
	if ((r->out = obj_new(r)) != NULL) {
		cJSON *a = cJSON_AddArrayToObject(r->out, "principals");
		for (size_t i = 0; i < n && i < limit; i++) {
			cJSON *o = principal_json(r, &ps[i]);
			if (o == NULL) {
				free(ps);
				return fail_err(r, FEDNS_ENOMEM, "principals");
			}
			cJSON_AddItemToArray(a, o);
		}
		if (n > limit) {
			cJSON_AddStringToObject(r->out, "next", ps[limit - 1].name);
		} else {
			cJSON_AddNullToObject(r->out, "next");
		}
	}
	free(ps);
	return r->out != NULL ? 0 : -1;
}

/* Disables a principal: every lookup of its tokens, keys and roles checks the flag, so
 * they stop working with the next request. An admin cannot disable itself (the estate
 * would risk losing its last admin by a typo). */
static int
h_principal_disable(rq *r)
{
	hub_principal p;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "principal:%s", r->cap[0]);
	if (estate_admin(r, "disable principals") != 0) {
		return -1;
	}
	if ((e = hub_principal_get(r->s, r->cap[0], &p)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", NULL, "principal %.128s does not exist",
				    r->cap[0]);
		}
		return fail_err(r, e, "principal");
	}
	if (p.id == r->who.id) {
		r->outcome = "conflict";
		return fail(r, 409, "conflict", NULL,
			    "principal %s cannot disable itself; another admin must", p.name);
	}
	if (!p.disabled && (e = hub_principal_set_disabled(r->s, p.id, true)) != FEDNS_OK) {
		return fail_err(r, e, "principal");
	}
	p.disabled = true;
	r->out = principal_json(r, &p);
	return r->out != NULL ? 0 : oom(r);
}

/* Registers a certificate holder's P-256 public key; requests signed with the private key
 * (RFC 9421, hub/httpsig) then authenticate as the principal. */
static int
h_key_add(rq *r)
{
	const char *pem;
	hub_principal p;
	fedns_sign_key *k = NULL;
	uint8_t der[FEDNS_SIGN_SPKI_MAX];
	size_t dlen = 0;
	char kid[FEDNS_SIGN_KEYID_LEN + 1], b64[FEDNS_BASE64_LEN(FEDNS_SIGN_SPKI_MAX) + 1];
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "principal:%s", r->cap[0]);
	if (estate_admin(r, "register keys") != 0 ||
	    jstr(r, r->body, "", "public_key_pem", true, FEDNS_SIGN_PEM_MAX, &pem) != 0) {
		return -1;
	}
	if ((e = hub_principal_get(r->s, r->cap[0], &p)) != FEDNS_OK) {
		return fail_err(r, e, "principal");
	}
	e = fedns_sign_load_public_pem(pem, strlen(pem), &k);
	if (e == FEDNS_OK) {
		e = fedns_sign_public_der(k, der, sizeof(der), &dlen);
	}
	fedns_sign_key_free(k);
	if (e == FEDNS_ENOMEM) {
		return oom(r);
	}
	if (e != FEDNS_OK) {
		/* never echoed: it may be a private key pasted by mistake */
		return fail(r, 400, "invalid_field", "public_key_pem",
			    "public_key_pem is not an ECDSA P-256 public key in PEM "
			    "(\"-----BEGIN PUBLIC KEY-----\")");
	}
	fedns_sign_key_id_of_spki(der, dlen, kid);
	fedns_base64_encode(der, dlen, b64);
	snprintf(r->target, sizeof(r->target), "principal:%s/key:%s", p.name, kid);
	if ((e = hub_pubkey_add(r->s, p.id, kid, b64)) != FEDNS_OK) {
		if (e == FEDNS_EEXIST) {
			r->outcome = "conflict";
			return fail(r, 409, "exists", "public_key_pem",
				    "key %s is already registered", kid);
		}
		return fail_err(r, e, "public key");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON_AddStringToObject(r->out, "principal", p.name);
	cJSON_AddStringToObject(r->out, "key_id", kid);
	r->ok_status = 201;
	return 0;
}

static int
role_common(rq *r, hub_principal *p, int64_t *tid)
{
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "principal:%s/tenant:%s", r->cap[0], r->cap[1]);
	if (tenant_lookup(r, r->cap[1], NULL, tid) != 0) {
		return -1;
	}
	if (!hub_auth_allowed(r->s, &r->who, *tid,
			      *tid == HUB_TENANT_ALL ? HUB_ACT_ESTATE_ADMIN : HUB_ACT_ADMIN, 0)) {
		char what[200];
		snprintf(what, sizeof(what), "manage roles in tenant %s", r->cap[1]);
		return deny(r, what);
	}
	if ((e = hub_principal_get(r->s, r->cap[0], p)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", NULL, "principal %s does not exist",
				    r->cap[0]);
		}
		return fail_err(r, e, "principal");
	}
	return 0;
}

static int
h_role_put(rq *r)
{
	hub_principal p;
	int64_t tid;
	const char *role;
	hub_role rl;
	fedns_err e;

	if (role_common(r, &p, &tid) != 0 || jstr(r, r->body, "", "role", true, 31, &role) != 0) {
		return -1;
	}
	if ((rl = hub_role_from_name(role)) == HUB_ROLE_NONE) {
		return fail(r, 400, "invalid_field", "role",
			    "role must be viewer, editor, approver or admin, not \"%s\"", role);
	}
	if ((e = hub_role_grant(r->s, p.id, tid, rl)) != FEDNS_OK) {
		return fail_err(r, e, "role");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON_AddStringToObject(r->out, "principal", p.name);
	cJSON_AddStringToObject(r->out, "tenant", r->cap[1]);
	cJSON_AddStringToObject(r->out, "role", hub_role_name(rl));
	return 0;
}

static int
h_role_delete(rq *r)
{
	hub_principal p;
	int64_t tid;
	fedns_err e;

	if (role_common(r, &p, &tid) != 0) {
		return -1;
	}
	if ((e = hub_role_revoke(r->s, p.id, tid)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", NULL, "%s has no role in tenant %s",
				    p.name, r->cap[1]);
		}
		return fail_err(r, e, "role");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON_AddStringToObject(r->out, "principal", p.name);
	cJSON_AddStringToObject(r->out, "tenant", r->cap[1]);
	cJSON_AddNullToObject(r->out, "role");
	return 0;
}

/* ---- handlers: zones ---- */

static int
placement_from(rq *r, const cJSON *arr, const char *field, const char ***out, size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr)) {
		return fail(r, 400, "invalid_field", field, "%s must be an array of cluster names",
			    field);
	}
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt > 1000) {
		return fail(r, 400, "invalid_field", field, "%s: more than 1000 clusters", field);
	}
	if ((*out = calloc(cnt + 1, sizeof(**out))) == NULL) {
		return oom(r);
	}
	cJSON_ArrayForEach(it, arr)
	{
		char f[96];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!cJSON_IsString(it) || strlen(it->valuestring) > 63 ||
		    !name_chars_ok(it->valuestring, "-_.")) {
			free(*out);
			*out = NULL;
			return fail(
				r, 400, "invalid_field", f,
				"%s must be a cluster name (1-63 letters, digits, '-', '_', '.')",
				f);
		}
		(*out)[i++] = it->valuestring;
	}
	*n = i;
	return 0;
}

static int
h_zone_create(rq *r)
{
	const char *name, *tenant, *text, *pns, *hm;
	int64_t appr = 1, tid;
	char canon[256], hmbuf[300];
	hub_zone z;
	hub_where where;
	fedns_diag d;
	fedns_err e;
	const char **cl = NULL;
	size_t ncl = 0;
	const cJSON *pl;

	memset(&where, 0, sizeof(where));
	fedns_diag_clear(&d);
	if (jstr(r, r->body, "", "name", true, 255, &name) != 0 ||
	    jstr(r, r->body, "", "tenant", true, 63, &tenant) != 0) {
		return -1;
	}
	if (zone_name_canon(r, name, "name", canon) != 0) {
		return -1;
	}
	snprintf(r->target, sizeof(r->target), "zone:%s", canon);
	if (tenant_lookup(r, tenant, "tenant", &tid) != 0) {
		return -1;
	}
	if (tid == HUB_TENANT_ALL) {
		return fail(r, 400, "invalid_field", "tenant",
			    "a zone belongs to one tenant, not *");
	}
	if (!hub_auth_allowed(r->s, &r->who, tid, HUB_ACT_ADMIN, 0)) {
		char what[200];
		snprintf(what, sizeof(what), "create zones in tenant %s", tenant);
		return deny(r, what);
	}
	if (jint(r, r->body, "", "approvals_required", false, 1, MAX_APPROVALS, &appr, NULL) != 0 ||
	    jstr(r, r->body, "", "zone_file", false, r->a->max_zone_body, &text) != 0 ||
	    jstr(r, r->body, "", "primary_ns", false, 255, &pns) != 0 ||
	    jstr(r, r->body, "", "hostmaster", false, 255, &hm) != 0) {
		return -1;
	}
	if (text != NULL && (pns != NULL || hm != NULL)) {
		return fail(r, 400, "invalid_field", pns != NULL ? "primary_ns" : "hostmaster",
			    "give either zone_file or primary_ns/hostmaster, not both");
	}
	if (text == NULL && pns == NULL) {
		return fail(r, 400, "missing_field", "primary_ns",
			    "an empty zone needs primary_ns (or give zone_file)");
	}
	if (text == NULL && hm == NULL) {
		snprintf(hmbuf, sizeof(hmbuf), "hostmaster.%s", canon);
		hm = hmbuf;
	}
	if ((pl = cJSON_GetObjectItemCaseSensitive(r->body, "placement")) != NULL &&
	    !cJSON_IsNull(pl) && placement_from(r, pl, "placement", &cl, &ncl) != 0) {
		return -1;
	}
	e = hub_workflow_create_zone(r->a->wf, r->s, tid, canon, (uint32_t)appr, text, pns, hm, &z,
				     &d, &where);
	if (e != FEDNS_OK) {
		free(cl);
		if (e == FEDNS_EEXIST) {
			r->outcome = "conflict";
			return fail(r, 409, "exists", "name", "zone %s already exists", canon);
		}
		if (where.field[0] == '\0' && text != NULL) {
			snprintf(where.field, sizeof(where.field), "zone_file");
		}
		return fail_valid(r, e, &d, &where, "zone");
	}
	r->zone_id = z.id;
	if (cl != NULL) {
		e = hub_zone_set_placement(r->s, z.id, cl, ncl);
		free(cl);
		if (e != FEDNS_OK) {
			return fail_err(r, e, "placement");
		}
	}
	if ((e = hub_zone_get_id(r->s, z.id, &z)) != FEDNS_OK) {
		return fail_err(r, e, "zone");
	}
	r->out = zone_json(r, &z);
	r->ok_status = 201;
	return r->out != NULL ? 0 : -1;
}

static int
zlist_cmp(const void *a, const void *b)
{
	return strcmp(((const hub_zone *)a)->name, ((const hub_zone *)b)->name);
}

static int
h_zone_list(rq *r)
{
	char after[256] = "";
	size_t limit;
	hub_zone *all = NULL;
	size_t nall = 0;
	fedns_err e;
	int rv = -1;

	snprintf(r->target, sizeof(r->target), "zones");
	if (qlimit(r, &limit) != 0) {
		return -1;
	}
	if (!qparam(r, "after", after, sizeof(after)) && r->status != 0) {
		return -1;
	}
	if (hub_role_of(r->s, r->who.id, HUB_TENANT_ALL) >= HUB_ROLE_VIEWER) {
		if ((e = hub_zone_list(r->s, HUB_TENANT_ALL, after, limit + 1, &all, &nall)) !=
		    FEDNS_OK) {
			return fail_err(r, e, "zones");
		}
	} else {
		hub_tenant *t = NULL;
		size_t nt = 0;
		if ((e = hub_tenant_list(r->s, &t, &nt)) != FEDNS_OK) {
			return fail_err(r, e, "tenants");
		}
		for (size_t i = 0; i < nt; i++) {
			hub_zone *zs = NULL;
			size_t nz = 0;
			if (!hub_auth_allowed(r->s, &r->who, t[i].id, HUB_ACT_READ, 0)) {
				continue;
			}
			if ((e = hub_zone_list(r->s, t[i].id, after, limit + 1, &zs, &nz)) !=
			    FEDNS_OK) {
				free(t);
				free(all);
				return fail_err(r, e, "zones");
			}
			hub_zone *grown = realloc(all, (nall + nz + 1) * sizeof(*all));
			if (grown == NULL) {
				free(zs);
				free(t);
				free(all);
				return oom(r);
			}
			all = grown;
			if (nz > 0) {
				memcpy(all + nall, zs, nz * sizeof(*zs));
			}
			nall += nz;
			free(zs);
		}
		free(t);
		if (nall > 1) {
			qsort(all, nall, sizeof(*all), zlist_cmp);
		}
	}
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON *a = cJSON_AddArrayToObject(r->out, "zones");
	size_t shown = 0;
	for (size_t i = 0; i < nall && shown < limit; i++) {
		if (all[i].deleted) {
			continue;
		}
		cJSON_AddItemToArray(a, zone_json(r, &all[i]));
		shown++;
		if (shown == limit && i + 1 < nall) {
			cJSON_AddStringToObject(r->out, "next", all[i].name);
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(r->out, "next") == NULL) {
		cJSON_AddNullToObject(r->out, "next");
	}
	rv = 0;
out:
	free(all);
	return rv;
}

static int
h_zone_show(rq *r)
{
	hub_zone z;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0) {
		return -1;
	}
	r->out = zone_json(r, &z);
	return r->out != NULL ? 0 : -1;
}

static int
serial_param(rq *r, const char *key, const hub_zone *z, uint32_t *out, bool required)
{
	int64_t v = z->serial;
	bool present;

	if (qint(r, key, 0, UINT32_MAX, &v, &present) != 0) {
		return -1;
	}
	if (!present && required) {
		return fail(r, 400, "invalid_query", key, "query parameter \"%s\" is required",
			    key);
	}
	*out = (uint32_t)v;
	return 0;
}

/* The version's master file with its ZONEMD (RFC 8976 SIMPLE SHA-384) appended: the hub
 * does not hash every version this way at commit (its commits carry the tree digest), so an
 * export that standard tools (ldns-verify-zone, dnspython, Knot) can check computes it here,
 * O(zone), on request. */
static int
export_with_zonemd(rq *r, const hub_zone *z, uint32_t serial)
{
	fedns_zone *fz = NULL;
	uint8_t md[FEDNS_ZONEMD_MAXLEN];
	size_t mdlen = 0;
	fedns_rr soa;
	char hex[2 * FEDNS_ZONEMD_MAXLEN + 1], apex[FEDNS_NAME_MAXTEXT];

	if (load_version(r, z, serial, "serial", &fz) != 0) {
		return -1;
	}
	if (!fedns_zone_soa(fz, &soa) ||
	    fedns_zonemd_compute(fz, FEDNS_ZONEMD_SHA384, md, &mdlen) != FEDNS_OK) {
		fedns_zone_free(fz);
		return fail(r, 500, "internal", NULL,
			    "zone %s version %" PRIu32 ": cannot compute its ZONEMD", z->name,
			    serial);
	}
	fedns_hex_encode(md, mdlen, hex, 0);
	fedns_name_to_text(fedns_zone_origin(fz), apex, sizeof(apex));
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	fedns_err e = fedns_zone_print(fz, &b);
	fedns_zone_free(fz);
	if (e == FEDNS_OK) {
		/* scheme 1 SIMPLE, hash 1 SHA-384; the SOA's TTL, as RFC 8976 §3 advises */
		fedns_buf_printf(&b, "%s\t%" PRIu32 "\tIN\tZONEMD\t%" PRIu32 " 1 1 %s\n", apex,
				 soa.ttl, serial, hex);
	}
	size_t len = 0;
	if (e != FEDNS_OK || b.err != FEDNS_OK ||
	    (r->text_owned = (char *)fedns_buf_steal(&b, &len)) == NULL) {
		fedns_buf_fini(&b);
		return fail(r, 500, "internal", NULL, "zone %s: cannot print version %" PRIu32,
			    z->name, serial);
	}
	fedns_buf_fini(&b);
	r->text = r->text_owned;
	r->text_len = len;
	r->text_type = "text/dns";
	return 0;
}

static int
h_zone_export(rq *r)
{
	hub_zone z;
	uint32_t serial;
	int64_t zonemd = 0;
	bool zpresent = false;
	fedns_err e;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0 ||
	    serial_param(r, "serial", &z, &serial, false) != 0 ||
	    qint(r, "zonemd", 0, 1, &zonemd, &zpresent) != 0) {
		return -1;
	}
	if (zonemd == 1) {
		return export_with_zonemd(r, &z, serial);
	}
	if ((e = hub_version_text(r->s, z.id, serial, &r->text_owned)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", "serial",
				    "zone %s has no version %" PRIu32, z.name, serial);
		}
		return fail_err(r, e, "zone version");
	}
	r->text = r->text_owned;
	r->text_len = strlen(r->text_owned);
	r->text_type = "text/dns";
	return 0;
}

static int
h_zone_records(rq *r)
{
	hub_zone z;
	fedns_zone *fz = NULL;
	fedns_buf b;
	int rv = -1;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0 ||
	    load_version(r, &z, z.serial, NULL, &fz) != 0) {
		return -1;
	}
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX);
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON_AddStringToObject(r->out, "zone", z.name);
	add_int(r->out, "serial", z.serial);
	cJSON *sets = cJSON_AddArrayToObject(r->out, "rrsets");
	fedns_zone_iter it;
	const fedns_rrset *rs;
	fedns_zone_iter_init(&it, fz);
	while ((rs = fedns_zone_iter_next(&it)) != NULL) {
		char owner[FEDNS_NAME_MAXTEXT], tb[16];
		const uint8_t *pos = rs->rdata;
		cJSON *o = cJSON_CreateObject();
		fedns_name_to_text(rs->owner, owner, sizeof(owner));
		cJSON_AddStringToObject(o, "name", owner);
		cJSON_AddStringToObject(o, "type", fedns_rrtype_to_text(rs->type, tb));
		add_int(o, "ttl", rs->ttl);
		cJSON *rd = cJSON_AddArrayToObject(o, "rdata");
		for (uint32_t i = 0; i < rs->count; i++) {
			uint16_t len;
			const uint8_t *p = fedns_rrset_next_rdata(&pos, &len);
			fedns_buf_clear(&b);
			if (fedns_rdata_to_text(rs->type, p, len, &b) != FEDNS_OK) {
				cJSON_Delete(o);
				fail(r, 500, "internal", NULL, "cannot print a record of %s",
				     owner);
				goto out;
			}
			cJSON_AddItemToArray(rd, cJSON_CreateString((const char *)b.data));
		}
		cJSON_AddItemToArray(sets, o);
	}
	rv = 0;
out:
	fedns_buf_fini(&b);
	fedns_zone_free(fz);
	return rv;
}

static int
h_zone_policy(rq *r)
{
	hub_zone z;
	int64_t appr = 0;
	fedns_err e;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_ADMIN, &z) != 0 ||
	    jint(r, r->body, "", "approvals_required", true, 1, MAX_APPROVALS, &appr, NULL) != 0) {
		return -1;
	}
	r->zone_id = z.id;
	if ((e = hub_zone_set_policy(r->s, z.id, (uint32_t)appr)) != FEDNS_OK ||
	    (e = hub_zone_get_id(r->s, z.id, &z)) != FEDNS_OK) {
		return fail_err(r, e, "zone policy");
	}
	r->out = zone_json(r, &z);
	return r->out != NULL ? 0 : -1;
}

static int
h_zone_placement(rq *r)
{
	hub_zone z;
	const char **cl = NULL;
	size_t n = 0;
	fedns_err e;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_ADMIN, &z) != 0) {
		return -1;
	}
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->body, "clusters");
	if (a == NULL) {
		return fail(r, 400, "missing_field", "clusters", "field \"clusters\" is required");
	}
	if (placement_from(r, a, "clusters", &cl, &n) != 0) {
		return -1;
	}
	e = hub_zone_set_placement(r->s, z.id, cl, n);
	free(cl);
	r->zone_id = z.id; /* the fan-out looks at the zone again once this commits */
	if (e != FEDNS_OK) {
		return fail_err(r, e, "placement");
	}
	r->out = zone_json(r, &z);
	return r->out != NULL ? 0 : -1;
}

/* Deleting a zone is a change like any other: this proposes it (the plan lists every
 * record that goes); an approval that meets the zone's policy marks it deleted. */
static int
h_zone_delete(rq *r)
{
	hub_zone z;
	hub_plan plan;
	fedns_diag d;
	char reason[512];
	fedns_err e;

	memset(&plan, 0, sizeof(plan));
	fedns_diag_clear(&d);
	if (zone_access(r, r->cap[0], NULL, HUB_ACT_PROPOSE, &z) != 0) {
		return -1;
	}
	if (!qparam(r, "reason", reason, sizeof(reason))) {
		if (r->status != 0) {
			return -1;
		}
		snprintf(reason, sizeof(reason), "delete zone %s", z.name);
	} else if (reason[0] == '\0') {
		return fail(r, 400, "invalid_query", "reason",
			    "query parameter \"reason\" is empty");
	}
	r->zone_id = z.id;
	e = hub_workflow_propose_delete(r->a->wf, r->s, &z, &r->who, reason, NULL, &plan, &d);
	if (e != FEDNS_OK) {
		hub_where w;
		memset(&w, 0, sizeof(w));
		return fail_valid(r, e, &d, &w, "zone deletion");
	}
	snprintf(r->target, sizeof(r->target), "zone:%s change:%" PRId64, z.name, plan.change.id);
	r->out = plan_json(r, &plan);
	r->ok_status = 201;
	hub_plan_fini(&plan);
	return r->out != NULL ? 0 : -1;
}

static int
h_zone_versions(rq *r)
{
	hub_zone z;
	uint32_t *serials = NULL;
	size_t n = 0;
	fedns_err e;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0) {
		return -1;
	}
	if ((e = hub_version_list(r->s, z.id, &serials, &n)) != FEDNS_OK) {
		return fail_err(r, e, "versions");
	}
	if ((r->out = obj_new(r)) != NULL) {
		cJSON_AddStringToObject(r->out, "zone", z.name);
		add_int(r->out, "current", z.serial);
		cJSON *a = cJSON_AddArrayToObject(r->out, "versions");
		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToArray(a, cJSON_CreateNumber(serials[i]));
		}
	}
	free(serials);
	return r->out != NULL ? 0 : -1;
}

static int
h_zone_diff(rq *r)
{
	hub_zone z;
	uint32_t from = 0, to = 0;
	fedns_zone *a = NULL, *b = NULL;
	fedns_diff df;
	int rv = -1;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0 ||
	    serial_param(r, "from", &z, &from, true) != 0 ||
	    serial_param(r, "to", &z, &to, false) != 0 ||
	    load_version(r, &z, from, "from", &a) != 0 || load_version(r, &z, to, "to", &b) != 0) {
		fedns_zone_free(a);
		return -1;
	}
	fedns_diff_init(&df);
	if (fedns_diff_compute(a, b, &df) != FEDNS_OK) {
		fail(r, 500, "internal", NULL, "cannot diff %s %u..%u", z.name, from, to);
		goto out;
	}
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON_AddStringToObject(r->out, "zone", z.name);
	add_int(r->out, "from", from);
	add_int(r->out, "to", to);
	cJSON *del = cJSON_AddArrayToObject(r->out, "deleted");
	cJSON *add = cJSON_AddArrayToObject(r->out, "added");
	for (size_t i = 0; i < df.ndel + df.nadd; i++) {
		char *line = rr_line(i < df.ndel ? &df.del[i] : &df.add[i - df.ndel]);
		if (line == NULL) {
			oom(r);
			goto out;
		}
		cJSON_AddItemToArray(i < df.ndel ? del : add, cJSON_CreateString(line));
		free(line);
	}
	rv = 0;
out:
	fedns_diff_fini(&df);
	fedns_zone_free(a);
	fedns_zone_free(b);
	return rv;
}

/* ---- handlers: changes ---- */

static const char *const edit_fields[] = {"op", "name", "type", "ttl", "rdata", NULL};

/* The JSON edits into hub_edit records pointing into the cJSON tree. */
static int
edits_from(rq *r, const cJSON *arr, hub_edit **out, const char ***rdata_store, size_t *n)
{
	const cJSON *it;
	size_t i = 0, nrd = 0, total = 0;

	*out = NULL;
	*rdata_store = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr)) {
		return fail(r, 400, "invalid_field", "edits", "edits must be an array");
	}
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt == 0 || cnt > MAX_EDITS) {
		return fail(r, 400, "invalid_field", "edits", "edits must hold 1 to %d edits",
			    MAX_EDITS);
	}
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *rd =
			cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "rdata") : NULL;
		if (cJSON_IsArray(rd)) {
			total += (size_t)cJSON_GetArraySize(rd);
		}
	}
	*out = calloc(cnt, sizeof(**out));
	*rdata_store = calloc(total + 1, sizeof(**rdata_store));
	if (*out == NULL || *rdata_store == NULL) {
		return oom(r);
	}
	cJSON_ArrayForEach(it, arr)
	{
		char pre[48], f[96];
		const char *op, *name, *type;
		int64_t ttl = 0;
		bool has_ttl;
		hub_edit *e = &(*out)[i];

		snprintf(pre, sizeof(pre), "edits[%zu]", i);
		if (check_fields(r, it, pre, edit_fields) != 0 ||
		    jstr(r, it, pre, "op", true, 16, &op) != 0 ||
		    jstr(r, it, pre, "name", true, 1024, &name) != 0 ||
		    jstr(r, it, pre, "type", true, 16, &type) != 0 ||
		    jint(r, it, pre, "ttl", false, 0, 2147483647.0, &ttl, &has_ttl) != 0) {
			return -1;
		}
		if (strcmp(op, "add") == 0) {
			e->op = HUB_EDIT_ADD;
		} else if (strcmp(op, "delete") == 0) {
			e->op = HUB_EDIT_DELETE;
		} else if (strcmp(op, "replace") == 0) {
			e->op = HUB_EDIT_REPLACE;
		} else {
			snprintf(f, sizeof(f), "%s.op", pre);
			return fail(r, 400, "invalid_field", f,
				    "%s must be \"add\", \"delete\" or \"replace\", not \"%.20s\"",
				    f, op);
		}
		e->name = name;
		e->type = type;
		e->ttl = (uint32_t)ttl;
		e->has_ttl = has_ttl;
		const cJSON *rd = cJSON_GetObjectItemCaseSensitive(it, "rdata");
		e->rdata = *rdata_store + nrd;
		if (rd != NULL && !cJSON_IsNull(rd)) {
			const cJSON *s;
			size_t j = 0;
			snprintf(f, sizeof(f), "%s.rdata", pre);
			if (!cJSON_IsArray(rd)) {
				return fail(r, 400, "invalid_field", f,
					    "%s must be an array of strings", f);
			}
			cJSON_ArrayForEach(s, rd)
			{
				if (!cJSON_IsString(s)) {
					snprintf(f, sizeof(f), "%s.rdata[%zu]", pre, j);
					return fail(r, 400, "invalid_rdata", f,
						    "%s must be a string", f);
				}
				(*rdata_store)[nrd++] = s->valuestring;
				j++;
			}
			e->nrdata = j;
		}
		if (e->nrdata == 0 && e->op != HUB_EDIT_DELETE) {
			snprintf(f, sizeof(f), "%s.rdata", pre);
			return fail(r, 400, "missing_field", f, "%s: %s needs at least one rdata",
				    f, op);
		}
		i++;
	}
	*n = i;
	return 0;
}

static int
h_change_propose(rq *r)
{
	hub_zone z;
	hub_proposal p;
	hub_plan plan;
	hub_where where;
	fedns_diag d;
	hub_edit *edits = NULL;
	const char **rdata = NULL;
	int64_t base;
	const cJSON *ej;
	fedns_err e;
	int rv = -1;

	memset(&p, 0, sizeof(p));
	memset(&plan, 0, sizeof(plan));
	memset(&where, 0, sizeof(where));
	fedns_diag_clear(&d);
	if (zone_access(r, r->cap[0], NULL, HUB_ACT_PROPOSE, &z) != 0 ||
	    jint(r, r->body, "", "base_serial", true, 0, UINT32_MAX, &base, NULL) != 0 ||
	    jstr(r, r->body, "", "reason", true, 511, &p.reason) != 0 ||
	    jstr(r, r->body, "", "ticket", false, 127, &p.ticket) != 0 ||
	    jstr(r, r->body, "", "zone_file", false, r->a->max_zone_body, &p.zone_file) != 0 ||
	    jbool(r, r->body, "allow_apex_ns", &p.allow_apex_ns) != 0 ||
	    jbool(r, r->body, "allow_mass_delete", &p.allow_mass_delete) != 0) {
		return -1;
	}
	p.base_serial = (uint32_t)base;
	ej = cJSON_GetObjectItemCaseSensitive(r->body, "edits");
	if (ej != NULL && cJSON_IsNull(ej)) {
		ej = NULL;
	}
	if ((ej == NULL) == (p.zone_file == NULL)) {
		return fail(r, 400, ej == NULL ? "missing_field" : "invalid_field", "edits",
			    "give exactly one of edits and zone_file");
	}
	if (ej != NULL) {
		if (edits_from(r, ej, &edits, &rdata, &p.nedits) != 0) {
			goto out;
		}
		p.edits = edits;
	} else {
		p.zone_file_len = strlen(p.zone_file);
	}
	r->zone_id = z.id;
	if (r->prep_phase) {
		e = hub_workflow_prepare_propose(r->a->wf, r->s, &z, &r->who, &p, &r->prep, &d,
						 &where);
	} else {
		e = hub_workflow_propose_prepared(r->a->wf, r->s, &z, &r->who, &p, r->prep,
						  r->req->idempotency_key, &plan, &d, &where);
	}
	if (e != FEDNS_OK) {
		if (e == FEDNS_ESTALE && where.field[0] == '\0') {
			snprintf(where.field, sizeof(where.field), "base_serial");
		}
		if (e == FEDNS_ESTALE && d.msg[0] == '\0') {
			fedns_diag_set(&d, e,
				       "base serial %" PRIu32 " is not the current serial %" PRIu32,
				       p.base_serial, z.serial);
		}
		if (where.field[0] == '\0' && p.zone_file != NULL && e != FEDNS_EACCES) {
			snprintf(where.field, sizeof(where.field), "zone_file");
		}
		fail_valid(r, e, &d, &where, "proposal");
		goto out;
	}
	if (r->prep_phase) {
		rv = 0;
		goto out;
	}
	snprintf(r->target, sizeof(r->target), "zone:%s change:%" PRId64, z.name, plan.change.id);
	r->out = plan_json(r, &plan);
	r->ok_status = 201;
	rv = r->out != NULL ? 0 : -1;
out:
	hub_plan_fini(&plan);
	free(edits);
	free(rdata);
	return rv;
}

static int
h_rollback(rq *r)
{
	hub_zone z;
	hub_plan plan;
	fedns_diag d;
	int64_t to;
	const char *reason;
	fedns_err e;

	memset(&plan, 0, sizeof(plan));
	fedns_diag_clear(&d);
	if (zone_access(r, r->cap[0], NULL, HUB_ACT_PROPOSE, &z) != 0 ||
	    jint(r, r->body, "", "to_serial", true, 0, UINT32_MAX, &to, NULL) != 0 ||
	    jstr(r, r->body, "", "reason", true, 511, &reason) != 0) {
		return -1;
	}
	r->zone_id = z.id;
	e = hub_workflow_rollback(r->a->wf, r->s, &z, &r->who, (uint32_t)to, reason, &plan, &d);
	if (e != FEDNS_OK) {
		hub_plan_fini(&plan);
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", "to_serial",
				    "zone %s has no version %" PRId64 " to roll back to", z.name,
				    to);
		}
		hub_where w;
		memset(&w, 0, sizeof(w));
		return fail_valid(r, e, &d, &w, "rollback");
	}
	snprintf(r->target, sizeof(r->target), "zone:%s change:%" PRId64, z.name, plan.change.id);
	r->out = plan_json(r, &plan);
	r->ok_status = 201;
	hub_plan_fini(&plan);
	return r->out != NULL ? 0 : -1;
}

/* Cross-tenant reads of changes are filtered by a small cache of zone -> readable. */
typedef struct zacc {
	int64_t zone_id;
	bool ok;
} zacc;

static bool
change_readable(rq *r, int64_t zone_id, zacc *cache, size_t *ncache, size_t cap)
{
	hub_zone z;

	for (size_t i = 0; i < *ncache; i++) {
		if (cache[i].zone_id == zone_id) {
			return cache[i].ok;
		}
	}
	bool ok = hub_zone_get_id(r->s, zone_id, &z) == FEDNS_OK &&
		  hub_auth_allowed(r->s, &r->who, z.tenant_id, HUB_ACT_READ, 0);
	if (*ncache < cap) {
		cache[*ncache].zone_id = zone_id;
		cache[*ncache].ok = ok;
		(*ncache)++;
	}
	return ok;
}

static int
h_change_list(rq *r)
{
	char zname[300], state[32];
	hub_change_state st = 0;
	int64_t zone_id = 0, before = INT64_MAX;
	bool present;
	size_t limit, shown = 0, ncache = 0;
	zacc cache[64];
	hub_zone z;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "changes");
	if (qlimit(r, &limit) != 0 || qint(r, "before", 1, INT64_MAX, &before, &present) != 0) {
		return -1;
	}
	if (qparam(r, "zone", zname, sizeof(zname))) {
		if (zone_access(r, zname, "zone", HUB_ACT_READ, &z) != 0) {
			return -1;
		}
		zone_id = z.id;
	} else if (r->status != 0) {
		return -1;
	}
	if (qparam(r, "state", state, sizeof(state))) {
		for (int i = HUB_CHANGE_PROPOSED; i <= HUB_CHANGE_WITHDRAWN; i++) {
			if (strcmp(state, hub_change_state_name((hub_change_state)i)) == 0) {
				st = (hub_change_state)i;
			}
		}
		if (st == 0) {
			return fail(r, 400, "invalid_query", "state",
				    "state must be proposed, rejected, committed, stale or "
				    "withdrawn");
		}
	} else if (r->status != 0) {
		return -1;
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON *arr = cJSON_AddArrayToObject(r->out, "changes");
	bool more = false;
	int64_t last = 0;
	for (;;) {
		hub_change *cs = NULL;
		size_t n = 0, batch = limit + 1;
		if ((e = hub_change_list(r->s, zone_id, st, before, batch, &cs, &n)) != FEDNS_OK) {
			return fail_err(r, e, "changes");
		}
		for (size_t i = 0; i < n; i++) {
			if (!more && change_readable(r, cs[i].zone_id, cache, &ncache, 64)) {
				if (shown == limit) {
					more = true;
				} else {
					cJSON_AddItemToArray(arr, change_json(r, &cs[i], false));
					shown++;
					last = cs[i].id;
				}
			}
			before = cs[i].id;
		}
		for (size_t i = 0; i < n; i++) {
			hub_change_fini(&cs[i]);
		}
		free(cs);
		if (more || n < batch) {
			break;
		}
	}
	next_cursor_int(r->out, more, last);
	return 0;
}

/* The change of the path, readable by the caller (403 across tenants). */
static int
change_access(rq *r, hub_action act, hub_change *c, hub_zone *z)
{
	char *end = NULL;
	long long id = strtoll(r->cap[0], &end, 10);
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "change:%.100s", r->cap[0]);
	if (r->cap[0][0] < '1' || r->cap[0][0] > '9' || *end != '\0' || id <= 0) {
		return fail(r, 400, "invalid_path", NULL, "change id \"%.40s\" is not a number",
			    r->cap[0]);
	}
	if ((e = hub_change_get(r->s, id, c)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", NULL, "change %lld does not exist", id);
		}
		return fail_err(r, e, "change");
	}
	if ((e = hub_zone_get_id(r->s, c->zone_id, z)) != FEDNS_OK) {
		return fail_err(r, e, "zone of the change");
	}
	if (!hub_auth_allowed(r->s, &r->who, z->tenant_id, HUB_ACT_READ, 0)) {
		char what[300];
		snprintf(what, sizeof(what), "read changes of zone %s", z->name);
		return deny(r, what);
	}
	if (act == HUB_ACT_APPROVE) {
		if (c->author_id == r->who.id) {
			fail(r, 403, "forbidden", NULL,
			     "principal %s is the author of change %lld and cannot approve or "
			     "reject it",
			     r->who.name, id);
			r->outcome = "denied";
			return -1;
		}
		if (!hub_auth_allowed(r->s, &r->who, z->tenant_id, HUB_ACT_APPROVE, c->author_id)) {
			char what[300];
			snprintf(what, sizeof(what), "decide changes of zone %s", z->name);
			return deny(r, what);
		}
	}
	return 0;
}

static int
h_change_show(rq *r)
{
	hub_change c;
	hub_zone z;
	hub_approval *ap = NULL;
	size_t n = 0;
	fedns_err e;
	int rv = -1;

	memset(&c, 0, sizeof(c));
	if (change_access(r, HUB_ACT_READ, &c, &z) != 0) {
		hub_change_fini(&c);
		return -1;
	}
	if ((e = hub_approval_list(r->s, c.id, &ap, &n)) != FEDNS_OK) {
		fail_err(r, e, "approvals");
		goto out;
	}
	if ((r->out = change_json(r, &c, true)) == NULL) {
		goto out;
	}
	cJSON *arr = cJSON_AddArrayToObject(r->out, "decisions");
	for (size_t i = 0; i < n; i++) {
		hub_principal p;
		cJSON *o = cJSON_CreateObject();
		if (hub_principal_get_id(r->s, ap[i].principal_id, &p) == FEDNS_OK) {
			cJSON_AddStringToObject(o, "principal", p.name);
		}
		cJSON_AddStringToObject(o, "decision", ap[i].approve ? "approve" : "reject");
		cJSON_AddStringToObject(o, "comment", ap[i].comment);
		add_int(o, "at", ap[i].at);
		cJSON_AddItemToArray(arr, o);
	}
	rv = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(ap[i].signature);
	}
	free(ap);
	hub_change_fini(&c);
	return rv;
}

/* The text an approver signs (DESIGN.md §7): the change id and the SHA-256 of the change's
 * diff text as the hub shows it, so the audit export proves offline who approved what. */
static void
approve_text(int64_t change_id, const char *diff, char diff_hex[65], char *text, size_t cap)
{
	sha256_hex(diff != NULL ? diff : "", diff != NULL ? strlen(diff) : 0, diff_hex);
	snprintf(text, cap, "fedns-approve-v1\n%" PRId64 "\n%s\n", change_id, diff_hex);
}

/* The approve body's optional change_signature: verified against the key the request was
 * signed with (RFC 9421), so the signature is the approver's own. *sig_b64 stays NULL when
 * there is none; key_id and diff_hex are filled when there is. Returns -1 with the
 * failure recorded (400 for a bad signature: nothing is decided). */
static int
change_signature(rq *r, const hub_change *c, const char **sig_b64, char key_id[64],
		 char diff_hex[65])
{
	const char *b64 = NULL;
	hub_principal signer;
	fedns_sign_key *k = NULL;
	char *spki = NULL;
	uint8_t der[FEDNS_SIGN_SPKI_MAX], raw[FEDNS_SIGN_RAW_LEN + 16];
	size_t derlen = 0, rawlen = 0;
	char text[128];
	fedns_diag d;
	fedns_err e;
	int rv = -1;

	*sig_b64 = NULL;
	if (jstr(r, r->body, "", "change_signature", false, 200, &b64) != 0) {
		return -1;
	}
	if (b64 == NULL) {
		return 0;
	}
	if (r->req->authorization != NULL || r->req->signature_input == NULL ||
	    r->req->signature == NULL) {
		return fail(r, 400, "invalid_field", "change_signature",
			    "change_signature needs the approval request itself signed (RFC 9421) "
			    "with the key that made it; a bearer token cannot vouch for a key");
	}
	hub_httpsig_sig *hs = calloc(1, sizeof(*hs));
	if (hs == NULL) {
		return oom(r);
	}
	fedns_diag_clear(&d);
	e = hub_httpsig_parse(r->req->signature_input, r->req->signature, hs, &d);
	if (e != FEDNS_OK || hs->keyid[0] == '\0' || strlen(hs->keyid) >= 64) {
		free(hs);
		return fail(r, 400, "invalid_field", "change_signature",
			    "change_signature: the request's signature names no usable keyid");
	}
	snprintf(key_id, 64, "%s", hs->keyid);
	free(hs);
	if ((e = hub_pubkey_lookup(r->s, key_id, &signer, &spki)) != FEDNS_OK) {
		return fail_err(r, e, "the request's signing key");
	}
	if (signer.id != r->who.id) {
		fail(r, 400, "invalid_field", "change_signature",
		     "change_signature: key %s is not %s's", key_id, r->who.name);
		goto out;
	}
	if (fedns_base64_decode(spki, strlen(spki), der, sizeof(der), &derlen) != FEDNS_OK ||
	    fedns_sign_load_public_der(der, derlen, &k) != FEDNS_OK) {
		fail(r, 500, "internal", NULL, "the stored public key %s is unusable", key_id);
		goto out;
	}
	approve_text(c->id, c->diff, diff_hex, text, sizeof(text));
	if (fedns_base64_decode(b64, strlen(b64), raw, sizeof(raw), &rawlen) != FEDNS_OK ||
	    rawlen != FEDNS_SIGN_RAW_LEN) {
		fail(r, 400, "invalid_signature", "change_signature",
		     "change_signature must be base64 of the 64-byte ECDSA P-256 r||s signature");
		goto out;
	}
	if (fedns_sign_verify_raw(k, text, strlen(text), raw, rawlen) != FEDNS_OK) {
		fail(r, 400, "invalid_signature", "change_signature",
		     "change_signature does not verify with key %s over \"fedns-approve-v1\", "
		     "change %" PRId64 " and its diff's SHA-256 %s",
		     key_id, c->id, diff_hex);
		goto out;
	}
	*sig_b64 = b64;
	rv = 0;
out:
	fedns_sign_key_free(k);
	free(spki);
	return rv;
}

static int
decide(rq *r, bool approve)
{
	hub_change c, out;
	hub_zone z;
	const char *comment, *csig = NULL;
	char csig_key[64] = "", csig_digest[65] = "";
	bool committed = false;
	fedns_diag d;
	fedns_err e;
	int rv = -1;

	memset(&c, 0, sizeof(c));
	memset(&out, 0, sizeof(out));
	fedns_diag_clear(&d);
	if (change_access(r, HUB_ACT_APPROVE, &c, &z) != 0 ||
	    jstr(r, r->body, "", "comment", false, 511, &comment) != 0) {
		goto out;
	}
	if (c.state != HUB_CHANGE_PROPOSED) {
		r->outcome = "conflict";
		fail(r, 409, c.state == HUB_CHANGE_STALE ? "stale" : "not_open", NULL,
		     "change %" PRId64 " is %s, not proposed", c.id,
		     hub_change_state_name(c.state));
		goto out;
	}
	r->zone_id = c.zone_id;
	if (approve && !r->prep_phase &&
	    change_signature(r, &c, &csig, csig_key, csig_digest) != 0) {
		goto out;
	}
	if (r->prep_phase) {
		if (approve && r->zlock < 0) {
			r->zlock = (int)((uint64_t)c.zone_id % ZONE_LOCKS);
			pthread_mutex_lock(&r->a->zmu[r->zlock]);
			/* a new snapshot: it must see what committed while this one waited */
			hub_store_rollback(r->s);
			if ((e = hub_store_begin(r->s, false)) != FEDNS_OK) {
				r->in_txn = false;
				fail(r, 503, "unavailable", NULL, "the store is busy; retry");
				goto out;
			}
			/* best effort: whatever it cannot prepare, the decision does itself */
			hub_workflow_prepare_commit(r->a->wf, r->s, c.id, &r->who, &r->prep);
		}
		rv = 0;
		goto out;
	}
	e = hub_workflow_decide_prepared(r->a->wf, r->s, c.id, &r->who, approve,
					 comment != NULL ? comment : "", r->prep, &committed, &out,
					 &d);
	if (e != FEDNS_OK) {
		const char *m = d.msg[0] != '\0' ? d.msg : fedns_strerror(e);
		switch (e) {
		case FEDNS_EACCES:
			r->outcome = "denied";
			fail(r, 403, "forbidden", NULL, "%s", m);
			break;
		case FEDNS_EEXIST:
			r->outcome = "conflict";
			fail(r, 409, "already_decided", NULL, "%s", m);
			break;
		case FEDNS_ESTALE:
			r->outcome = "conflict";
			fail(r, 409, "stale", NULL, "change %" PRId64 ": %s", c.id, m);
			break;
		default: {
			hub_where w;
			memset(&w, 0, sizeof(w));
			fail_valid(r, e, &d, &w, "change");
		}
		}
		goto out;
	}
	if (csig != NULL && (e = hub_approval_set_signature(r->s, c.id, r->who.id, csig, csig_key,
							    csig_digest)) != FEDNS_OK) {
		fail_err(r, e, "approval signature");
		goto out;
	}
	r->committed = committed;
	if (committed) {
		r->commit_change = c.id;
		sha256_hex(out.diff != NULL ? out.diff : "",
			   out.diff != NULL ? strlen(out.diff) : 0, r->commit_digest);
		if (out.delete_zone) {
			snprintf(r->deleted_zone, sizeof(r->deleted_zone), "%s", z.name);
		}
	}
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON_AddBoolToObject(r->out, "committed", committed);
	cJSON_AddItemToObject(r->out, "change", change_json(r, &out, true));
	rv = 0;
out:
	hub_change_fini(&c);
	hub_change_fini(&out);
	return rv;
}

static int
h_change_approve(rq *r)
{
	return decide(r, true);
}

static int
h_change_reject(rq *r)
{
	return decide(r, false);
}

static int
h_change_withdraw(rq *r)
{
	hub_change c;
	hub_zone z;
	fedns_err e;
	int rv = -1;

	memset(&c, 0, sizeof(c));
	if (change_access(r, HUB_ACT_READ, &c, &z) != 0) {
		goto out;
	}
	if (c.author_id != r->who.id) {
		char what[100];
		snprintf(what, sizeof(what), "withdraw change %" PRId64 " (only its author may)",
			 c.id);
		deny(r, what);
		goto out;
	}
	if (c.state != HUB_CHANGE_PROPOSED) {
		r->outcome = "conflict";
		fail(r, 409, "not_open", NULL, "change %" PRId64 " is %s, not proposed", c.id,
		     hub_change_state_name(c.state));
		goto out;
	}
	c.state = HUB_CHANGE_WITHDRAWN;
	c.decided_at = now_ms() / 1000;
	if ((e = hub_change_update(r->s, &c)) != FEDNS_OK) {
		fail_err(r, e, "change");
		goto out;
	}
	r->out = change_json(r, &c, true);
	rv = r->out != NULL ? 0 : -1;
out:
	hub_change_fini(&c);
	return rv;
}

/* ---- handlers: audit ---- */

static int
h_audit_list(rq *r)
{
	int64_t after = 0;
	bool present;
	size_t limit, n = 0;
	hub_audit *recs = NULL;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "audit");
	if (estate_admin(r, "read the audit log") != 0 || qlimit(r, &limit) != 0 ||
	    qint(r, "after", 0, INT64_MAX, &after, &present) != 0) {
		return -1;
	}
	if ((e = hub_audit_list(r->s, after, limit + 1, &recs, &n)) != FEDNS_OK) {
		return fail_err(r, e, "audit");
	}
	if ((r->out = obj_new(r)) != NULL) {
		cJSON *a = cJSON_AddArrayToObject(r->out, "records");
		for (size_t i = 0; i < n && i < limit; i++) {
			cJSON_AddItemToArray(a, audit_json(&recs[i]));
		}
		next_cursor_int(r->out, n > limit, n > limit ? recs[limit - 1].seq : 0);
	}
	free(recs);
	return r->out != NULL ? 0 : -1;
}

/* The approvals of every committed change (newest change first) with, for signed ones,
 * the key id, the signature, the diff digest the signed text names and that text's own
 * SHA-256; and the SubjectPublicKeyInfo of each key, so `fednsctl audit verify` checks
 * every approval signature offline. */
static int
export_approvals(rq *r)
{
	cJSON *arr = cJSON_AddArrayToObject(r->out, "approvals");
	cJSON *keys = cJSON_AddObjectToObject(r->out, "keys");
	int64_t before = 0;
	fedns_err e;

	if (arr == NULL || keys == NULL) {
		return oom(r);
	}
	for (;;) {
		hub_change *cs = NULL;
		size_t nc = 0;
		if ((e = hub_change_list(r->s, 0, HUB_CHANGE_COMMITTED, before, AUDIT_BATCH, &cs,
					 &nc)) != FEDNS_OK) {
			return fail_err(r, e, "changes");
		}
		for (size_t i = 0; i < nc && e == FEDNS_OK; i++) {
			hub_approval *ap = NULL;
			size_t na = 0;
			if ((e = hub_approval_list(r->s, cs[i].id, &ap, &na)) != FEDNS_OK) {
				break;
			}
			for (size_t j = 0; j < na; j++) {
				hub_principal p;
				if (!ap[j].approve) {
					continue;
				}
				cJSON *o = cJSON_CreateObject();
				add_int(o, "change", cs[i].id);
				cJSON_AddStringToObject(o, "approver",
							hub_principal_get_id(r->s,
									     ap[j].principal_id,
									     &p) == FEDNS_OK
								? p.name
								: "");
				add_int(o, "at", ap[j].at);
				if (ap[j].signature != NULL && ap[j].key_id[0] != '\0') {
					char text[128], dh[65], th[65];
					snprintf(text, sizeof(text),
						 "fedns-approve-v1\n%" PRId64 "\n%s\n", cs[i].id,
						 ap[j].signed_digest);
					sha256_hex(text, strlen(text), th);
					snprintf(dh, sizeof(dh), "%s", ap[j].signed_digest);
					cJSON_AddStringToObject(o, "key_id", ap[j].key_id);
					cJSON_AddStringToObject(o, "signature", ap[j].signature);
					cJSON_AddStringToObject(o, "diff_sha256", dh);
					cJSON_AddStringToObject(o, "signed_sha256", th);
					char *spki = NULL;
					if (!cJSON_HasObjectItem(keys, ap[j].key_id) &&
					    hub_pubkey_lookup(r->s, ap[j].key_id, NULL, &spki) ==
						    FEDNS_OK) {
						cJSON_AddStringToObject(keys, ap[j].key_id, spki);
					}
					free(spki);
				} else {
					cJSON_AddNullToObject(o, "key_id");
					cJSON_AddNullToObject(o, "signature");
					cJSON_AddNullToObject(o, "diff_sha256");
					cJSON_AddNullToObject(o, "signed_sha256");
				}
				cJSON_AddItemToArray(arr, o);
			}
			for (size_t j = 0; j < na; j++) {
				free(ap[j].signature);
			}
			free(ap);
		}
		if (nc > 0) {
			before = cs[nc - 1].id;
		}
		for (size_t i = 0; i < nc; i++) {
			hub_change_fini(&cs[i]);
		}
		free(cs);
		if (e != FEDNS_OK) {
			return fail_err(r, e, "approvals");
		}
		if (nc < AUDIT_BATCH) {
			break;
		}
	}
	return 0;
}

static int
h_audit_export(rq *r)
{
	hub_audit head;
	int64_t after = 0;
	fedns_err e;

	snprintf(r->target, sizeof(r->target), "audit");
	if (estate_admin(r, "export the audit log") != 0) {
		return -1;
	}
	memset(&head, 0, sizeof(head));
	e = hub_audit_head(r->s, &head);
	if (e != FEDNS_OK && e != FEDNS_ENOENT) {
		return fail_err(r, e, "audit head");
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON_AddStringToObject(r->out, "format", "fedns-audit-export-v1");
	add_int(r->out, "exported_at", now_ms());
	cJSON *h = cJSON_AddObjectToObject(r->out, "head");
	add_int(h, "seq", e == FEDNS_OK ? head.seq : 0);
	cJSON_AddStringToObject(h, "hash", e == FEDNS_OK ? head.hash : fedns_audit_genesis);
	cJSON *a = cJSON_AddArrayToObject(r->out, "records");
	for (;;) {
		hub_audit *recs = NULL;
		size_t n = 0;
		if ((e = hub_audit_list(r->s, after, AUDIT_BATCH, &recs, &n)) != FEDNS_OK) {
			return fail_err(r, e, "audit");
		}
		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToArray(a, audit_json(&recs[i]));
			after = recs[i].seq;
		}
		free(recs);
		if (n < AUDIT_BATCH) {
			break;
		}
	}
	return export_approvals(r);
}

/* ---- federation status ---- */

/* unix ms as RFC 3339 UTC with milliseconds; 0 (never) is null */
static void
add_time_ms(cJSON *o, const char *k, int64_t ms)
{
	struct tm tm;
	char b[48];
	time_t secs = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&secs, &tm) == NULL ||
	    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	size_t n = strlen(b);
	snprintf(b + n, sizeof(b) - n, ".%03dZ", (int)(ms % 1000));
	cJSON_AddStringToObject(o, k, b);
}

static void
add_str_or_null(cJSON *o, const char *k, const char *s)
{
	if (s != NULL && s[0] != '\0') {
		cJSON_AddStringToObject(o, k, s);
	} else {
		cJSON_AddNullToObject(o, k);
	}
}

static void
add_int_or_null(cJSON *o, const char *k, int64_t v, bool has)
{
	if (has) {
		add_int(o, k, v);
	} else {
		cJSON_AddNullToObject(o, k);
	}
}

/* The tenants whose zones the caller may read, loaded once per request: status never
 * shows another tenant's zone. */
typedef struct tscope {
	bool all; /* an estate-wide role */
	int64_t *ids;
	size_t n;
} tscope;

static int
scope_load(rq *r, tscope *sc)
{
	hub_tenant *t = NULL;
	size_t nt = 0;
	fedns_err e;

	memset(sc, 0, sizeof(*sc));
	if (hub_role_of(r->s, r->who.id, HUB_TENANT_ALL) >= HUB_ROLE_VIEWER) {
		sc->all = true;
		return 0;
	}
	if ((e = hub_tenant_list(r->s, &t, &nt)) != FEDNS_OK) {
		return fail_err(r, e, "tenants");
	}
	if ((sc->ids = calloc(nt + 1, sizeof(*sc->ids))) == NULL) {
		free(t);
		return oom(r);
	}
	for (size_t i = 0; i < nt; i++) {
		if (hub_auth_allowed(r->s, &r->who, t[i].id, HUB_ACT_READ, 0)) {
			sc->ids[sc->n++] = t[i].id;
		}
	}
	free(t);
	return 0;
}

static bool
scope_has(const tscope *sc, int64_t tenant_id)
{
	if (sc->all) {
		return true;
	}
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->ids[i] == tenant_id) {
			return true;
		}
	}
	return false;
}

/* Row states from best to worst; a row is the worst of its parts. */
static const char *const row_states[] = {"in_sync", "unknown",	"pending",
					 "lagging", "diverged", "unreachable"};
#define NROW_STATES (sizeof(row_states) / sizeof(row_states[0]))

static size_t
state_rank(const char *s)
{
	for (size_t i = 0; i < NROW_STATES; i++) {
		if (strcmp(s, row_states[i]) == 0) {
			return i;
		}
	}
	return 1; /* a state this hub does not know says nothing: unknown */
}

/* What the status rows of one zone are built from: the spokes' acks, the secondaries'
 * reports and the kept versions (for pending_changes), read once per zone. */
typedef struct zstatus {
	const hub_zone *z;
	char tenant[64];
	hub_spoke_zone *sz;
	size_t nsz;
	hub_secondary *sec;
	size_t nsec;
	uint32_t *vers;
	size_t nvers;
} zstatus;

static void
zstatus_fini(zstatus *zs)
{
	free(zs->sz);
	free(zs->sec);
	free(zs->vers);
	memset(zs, 0, sizeof(*zs));
}

static int
zstatus_load(rq *r, const hub_zone *z, zstatus *zs)
{
	fedns_err e;

	memset(zs, 0, sizeof(*zs));
	zs->z = z;
	tenant_name(r, z->tenant_id, zs->tenant, sizeof(zs->tenant));
	if ((e = hub_spoke_zone_list(r->s, NULL, z->id, &zs->sz, &zs->nsz)) != FEDNS_OK ||
	    (e = hub_secondary_list(r->s, NULL, z->id, NULL, &zs->sec, &zs->nsec)) != FEDNS_OK ||
	    (zs->nsz > 0 &&
	     (e = hub_version_list(r->s, z->id, &zs->vers, &zs->nvers)) != FEDNS_OK)) {
		zstatus_fini(zs);
		return fail_err(r, e, "zone status");
	}
	return 0;
}

/* One ZONESTATUS object for (zone, cluster); *state is the row's state. */
static cJSON *
status_row(rq *r, const zstatus *zs, const char *cluster, const char **state)
{
	const hub_zone *z = zs->z;
	const hub_spoke_zone *sz = NULL;
	cJSON *o = obj_new(r);

	if (o == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < zs->nsz; i++) {
		if (strcmp(zs->sz[i].cluster, cluster) == 0) {
			sz = &zs->sz[i];
		}
	}
	/* until the spoke holds the hub's serial the row cannot be better than pending */
	size_t worst = sz != NULL && sz->serial == z->serial ? 0 : state_rank("pending");
	size_t nsec = 0;
	cJSON_AddStringToObject(o, "zone", z->name);
	cJSON_AddStringToObject(o, "tenant", zs->tenant);
	cJSON_AddStringToObject(o, "cluster", cluster);
	add_int(o, "hub_serial", z->serial);
	bool has_pending = false;
	int64_t pending = 0;
	for (size_t i = 0; sz != NULL && i < zs->nvers; i++) {
		if (zs->vers[i] == sz->serial) {
			pending = (int64_t)(zs->nvers - 1 - i);
			has_pending = true;
		}
	}
	add_int_or_null(o, "pending_changes", pending, has_pending);
	cJSON *sp = NULL;
	if (sz == NULL) {
		cJSON_AddNullToObject(o, "spoke");
	} else if ((sp = cJSON_AddObjectToObject(o, "spoke")) != NULL) {
		add_int(sp, "serial", sz->serial);
		add_str_or_null(sp, "digest", sz->digest);
		add_time_ms(sp, "acked_at", sz->acked_at);
		add_str_or_null(sp, "status", sz->last_status);
		add_str_or_null(sp, "reason", sz->last_reason);
		add_int_or_null(sp, "applied_ms", sz->applied_ms, sz->applied_ms >= 0);
	}
	cJSON *arr = cJSON_AddArrayToObject(o, "secondaries");
	for (size_t i = 0; i < zs->nsec; i++) {
		const hub_secondary *s = &zs->sec[i];
		if (strcmp(s->cluster, cluster) != 0) {
			continue;
		}
		nsec++;
		size_t rank = state_rank(s->state);
		if (rank == 0 && (!s->has_serial || s->serial != z->serial)) {
			rank = state_rank("pending"); /* proven, but not yet at the hub's serial */
		}
		if (rank > worst) {
			worst = rank;
		}
		cJSON *so = cJSON_CreateObject();
		if (so == NULL) {
			continue;
		}
		cJSON_AddStringToObject(so, "name", s->secondary);
		add_str_or_null(so, "address", s->address);
		cJSON_AddStringToObject(so, "state", s->state);
		add_int_or_null(so, "serial", s->serial, s->has_serial);
		add_str_or_null(so, "digest", s->digest);
		add_time_ms(so, "last_proven", s->last_proven);
		add_int_or_null(so, "lag_ms", s->lag_ms, s->lag_ms >= 0);
		add_str_or_null(so, "last_error", s->last_error);
		add_int(so, "repairs", s->repairs);
		add_time_ms(so, "updated_at", s->updated_at);
		add_time_ms(so, "state_since", s->state_since);
		add_int_or_null(so, "confirmed_ms", s->confirmed_ms, s->confirmed_ms >= 0);
		cJSON_AddItemToArray(arr, so);
	}
	if (nsec == 0 && worst == 0) {
		worst = state_rank("unknown"); /* the spoke holds it, but no secondary proved it */
	}
	*state = row_states[worst];
	cJSON_AddStringToObject(o, "state", *state);
	return o;
}

/* Filters and the page of a status listing. */
typedef struct sfilter {
	const char *cluster; /* NULL: every placed cluster */
	const char *state;   /* NULL: any row state */
	size_t limit;	     /* 0: no limit */
	/* cursor: rows after (after_zone, after_cluster) in (zone, cluster) order */
	const char *after_zone, *after_cluster;
	/* out */
	size_t shown;
	bool more;
	char last[400];
} sfilter;

/* Appends the rows of zone z (one per placed cluster, filtered) to arr. */
static int
zone_rows(rq *r, const hub_zone *z, sfilter *f, cJSON *arr)
{
	char **cl = NULL;
	size_t ncl = 0, first = 0;
	zstatus zs;
	fedns_err e;
	int rv = 0;

	if (f->more) {
		return 0;
	}
	if ((e = hub_zone_placement(r->s, z->id, &cl, &ncl)) != FEDNS_OK) {
		return fail_err(r, e, "placement");
	}
	bool any = false;
	for (size_t i = 0; i < ncl; i++) {
		bool skip = (f->cluster != NULL && strcmp(cl[i], f->cluster) != 0) ||
			    (f->after_zone != NULL && strcmp(z->name, f->after_zone) == 0 &&
			     strcmp(cl[i], f->after_cluster) <= 0);
		if (skip) {
			free(cl[i]);
			cl[i] = NULL;
		} else {
			any = true;
		}
	}
	if (any && zstatus_load(r, z, &zs) != 0) {
		rv = -1;
		any = false;
	}
	for (size_t i = first; any && i < ncl && rv == 0; i++) {
		const char *state;
		if (cl[i] == NULL) {
			continue;
		}
		cJSON *row = status_row(r, &zs, cl[i], &state);
		if (row == NULL) {
			rv = -1;
			break;
		}
		if (f->state != NULL && strcmp(state, f->state) != 0) {
			cJSON_Delete(row);
			continue;
		}
		if (f->limit != 0 && f->shown == f->limit) {
			cJSON_Delete(row);
			f->more = true;
			break;
		}
		cJSON_AddItemToArray(arr, row);
		f->shown++;
		snprintf(f->last, sizeof(f->last), "%s/%s", z->name, cl[i]);
	}
	if (any) {
		zstatus_fini(&zs);
	}
	for (size_t i = 0; i < ncl; i++) {
		free(cl[i]);
	}
	free(cl);
	return rv;
}

/* The row-state filter of a query (absent: NULL). */
static int
qstate(rq *r, char *buf, size_t bufsz, const char **out)
{
	*out = NULL;
	if (!qparam(r, "state", buf, bufsz)) {
		return r->status != 0 ? -1 : 0;
	}
	for (size_t i = 0; i < NROW_STATES; i++) {
		if (strcmp(buf, row_states[i]) == 0) {
			*out = row_states[i];
			return 0;
		}
	}
	return fail(r, 400, "invalid_query", "state",
		    "state must be in_sync, unknown, pending, lagging, diverged or unreachable");
}

static bool
cluster_name_ok(const char *s)
{
	return strlen(s) <= 63 && name_chars_ok(s, "-_.");
}

/* The cluster filter of a query (absent: NULL). */
static int
qcluster(rq *r, char *buf, size_t bufsz, const char **out)
{
	*out = NULL;
	if (!qparam(r, "cluster", buf, bufsz)) {
		return r->status != 0 ? -1 : 0;
	}
	if (!cluster_name_ok(buf)) {
		return fail(r, 400, "invalid_query", "cluster",
			    "cluster must be a cluster name (1-63 letters, digits, '-', '_', '.')");
	}
	*out = buf;
	return 0;
}

static void
status_next(rq *r, const sfilter *f)
{
	if (f->more) {
		cJSON_AddStringToObject(r->out, "next", f->last);
	} else {
		cJSON_AddNullToObject(r->out, "next");
	}
}

#define STATUS_BATCH 256

/* GET /status: a row per (zone, placed cluster) of every zone the caller may read, by zone
 * then cluster, paged with after=ZONE/CLUSTER (the "next" of the page before). */
static int
h_status(rq *r)
{
	char zname[300], cbuf[80], sbuf[32], tbuf[80], after[400], after_zone[256];
	sfilter f = {0};
	tscope sc = {0};
	int64_t tid = -1;
	hub_zone z;
	fedns_err e;
	int rv = -1;

	snprintf(r->target, sizeof(r->target), "status");
	if (qlimit(r, &f.limit) != 0 || qcluster(r, cbuf, sizeof(cbuf), &f.cluster) != 0 ||
	    qstate(r, sbuf, sizeof(sbuf), &f.state) != 0) {
		return -1;
	}
	if (qparam(r, "after", after, sizeof(after))) {
		char *slash = strrchr(after, '/');
		if (slash == NULL || slash == after || !cluster_name_ok(slash + 1)) {
			return fail(r, 400, "invalid_query", "after",
				    "after must be the \"next\" of an earlier page (ZONE/CLUSTER)");
		}
		*slash = '\0';
		/* the zone as the store spells it, so the cursor compares with zone names */
		if (zone_name_canon(r, after, "after", after_zone) != 0) {
			return -1;
		}
		f.after_zone = after_zone;
		f.after_cluster = slash + 1;
	} else if (r->status != 0) {
		return -1;
	}
	if (scope_load(r, &sc) != 0) {
		return -1;
	}
	if (qparam(r, "tenant", tbuf, sizeof(tbuf))) {
		if (tenant_lookup(r, tbuf, "tenant", &tid) != 0) {
			goto out;
		}
		if (tid != HUB_TENANT_ALL && !scope_has(&sc, tid)) {
			char what[200];
			snprintf(what, sizeof(what), "read the status of tenant %.80s", tbuf);
			deny(r, what);
			goto out;
		}
		if (tid == HUB_TENANT_ALL) {
			tid = -1;
		}
	} else if (r->status != 0) {
		goto out;
	}
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON *arr = cJSON_AddArrayToObject(r->out, "items");
	if (qparam(r, "zone", zname, sizeof(zname))) {
		if (zone_access(r, zname, "zone", HUB_ACT_READ, &z) != 0) {
			goto out;
		}
		snprintf(r->target, sizeof(r->target), "status");
		int past = f.after_zone != NULL ? strcmp(z.name, f.after_zone) : 1;
		if (past > 0) {
			f.after_zone = NULL; /* the cursor is before this zone: all its rows */
		}
		/* past < 0: the cursor is beyond this zone, nothing is left */
		if ((tid < 0 || z.tenant_id == tid) && past >= 0 &&
		    zone_rows(r, &z, &f, arr) != 0) {
			goto out;
		}
		status_next(r, &f);
		rv = 0;
		goto out;
	} else if (r->status != 0) {
		goto out;
	}
	/* the cursor's own zone may have clusters left; the listing continues after it */
	const char *from = "";
	if (f.after_zone != NULL) {
		if (hub_zone_get(r->s, f.after_zone, &z) == FEDNS_OK && !z.deleted &&
		    scope_has(&sc, z.tenant_id) && (tid < 0 || z.tenant_id == tid) &&
		    zone_rows(r, &z, &f, arr) != 0) {
			goto out;
		}
		from = f.after_zone;
	}
	char cursor[256];
	snprintf(cursor, sizeof(cursor), "%s", from);
	while (!f.more) {
		hub_zone *zs = NULL;
		size_t nz = 0;
		if ((e = hub_zone_list(r->s, tid < 0 ? HUB_TENANT_ALL : tid, cursor, STATUS_BATCH,
				       &zs, &nz)) != FEDNS_OK) {
			fail_err(r, e, "zones");
			goto out;
		}
		for (size_t i = 0; i < nz && !f.more; i++) {
			if (scope_has(&sc, zs[i].tenant_id) && zone_rows(r, &zs[i], &f, arr) != 0) {
				free(zs);
				goto out;
			}
		}
		if (nz > 0) {
			snprintf(cursor, sizeof(cursor), "%s", zs[nz - 1].name);
		}
		free(zs);
		if (nz < STATUS_BATCH) {
			break;
		}
	}
	status_next(r, &f);
	rv = 0;
out:
	free(sc.ids);
	return rv;
}

/* GET /zones/{zone}/status: the zone's rows (every placed cluster). */
static int
h_zone_status(rq *r)
{
	char cbuf[80], sbuf[32];
	sfilter f = {0};
	hub_zone z;

	if (zone_access(r, r->cap[0], NULL, HUB_ACT_READ, &z) != 0 ||
	    qcluster(r, cbuf, sizeof(cbuf), &f.cluster) != 0 ||
	    qstate(r, sbuf, sizeof(sbuf), &f.state) != 0) {
		return -1;
	}
	if ((r->out = obj_new(r)) == NULL) {
		return -1;
	}
	cJSON *arr = cJSON_AddArrayToObject(r->out, "items");
	return zone_rows(r, &z, &f, arr);
}

static cJSON *
cluster_json(rq *r, const hub_cluster *c)
{
	cJSON *o = obj_new(r);

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddBoolToObject(o, "connected", c->connected);
	add_time_ms(o, "connected_since", c->connected ? c->connected_since : 0);
	add_time_ms(o, "last_seen", c->last_seen);
	add_str_or_null(o, "software_version", c->software_version);
	add_str_or_null(o, "peer", c->peer);
	/* seconds, not ms */
	add_time_ms(o, "cert_not_after",
		    c->cert_not_after > 0 && c->cert_not_after < INT64_MAX / 1000
			    ? c->cert_not_after * 1000
			    : 0);
	add_str_or_null(o, "last_error", c->last_error);
	add_int(o, "sent", (int64_t)c->sent);
	add_int(o, "applied", (int64_t)c->applied);
	add_int(o, "refused", (int64_t)c->refused);
	return o;
}

/* The zones placed on a cluster that the caller may read. */
static int
cluster_visible_zones(rq *r, const tscope *sc, const char *cluster, hub_zone **out, size_t *n)
{
	fedns_err e;
	size_t k = 0;

	if ((e = hub_cluster_zones(r->s, cluster, out, n)) != FEDNS_OK) {
		return fail_err(r, e, "zones of cluster");
	}
	for (size_t i = 0; i < *n; i++) {
		if (scope_has(sc, (*out)[i].tenant_id)) {
			(*out)[k++] = (*out)[i];
		}
	}
	*n = k;
	return 0;
}

/* GET /clusters: every cluster that connected or has a zone placed on it, by name, paged
 * with after=NAME; "zones" counts the zones on it the caller may read. */
static int
h_cluster_list(rq *r)
{
	char after[80] = "";
	hub_cluster *cl = NULL;
	size_t n = 0, limit, shown = 0;
	tscope sc;
	fedns_err e;
	int rv = -1;

	snprintf(r->target, sizeof(r->target), "clusters");
	if (qlimit(r, &limit) != 0) {
		return -1;
	}
	if (!qparam(r, "after", after, sizeof(after)) && r->status != 0) {
		return -1;
	}
	if (scope_load(r, &sc) != 0) {
		return -1;
	}
	if ((e = hub_cluster_list(r->s, &cl, &n)) != FEDNS_OK) {
		fail_err(r, e, "clusters");
		goto out;
	}
	if ((r->out = obj_new(r)) == NULL) {
		goto out;
	}
	cJSON *arr = cJSON_AddArrayToObject(r->out, "items");
	const char *last = NULL;
	bool more = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(cl[i].name, after) <= 0) {
			continue;
		}
		if (shown == limit) {
			more = true;
			break;
		}
		hub_zone *zs = NULL;
		size_t nz = 0;
		if (cluster_visible_zones(r, &sc, cl[i].name, &zs, &nz) != 0) {
			goto out;
		}
		free(zs);
		cJSON *o = cluster_json(r, &cl[i]);
		if (o == NULL) {
			goto out;
		}
		add_int(o, "zones", (int64_t)nz);
		cJSON_AddItemToArray(arr, o);
		shown++;
		last = cl[i].name;
	}
	if (more) {
		cJSON_AddStringToObject(r->out, "next", last);
	} else {
		cJSON_AddNullToObject(r->out, "next");
	}
	rv = 0;
out:
	free(cl);
	free(sc.ids);
	return rv;
}

/* GET /clusters/{name}: the cluster and the status rows of its zones the caller may read. */
static int
h_cluster_show(rq *r)
{
	hub_cluster c;
	hub_zone *zs = NULL;
	size_t nz = 0;
	sfilter f = {0};
	tscope sc;
	fedns_err e;
	int rv = -1;

	snprintf(r->target, sizeof(r->target), "cluster:%.200s", r->cap[0]);
	if (!cluster_name_ok(r->cap[0])) {
		return fail(r, 404, "not_found", NULL, "cluster \"%.100s\" is not known",
			    r->cap[0]);
	}
	if ((e = hub_cluster_get(r->s, r->cap[0], &c)) != FEDNS_OK) {
		if (e == FEDNS_ENOENT) {
			return fail(r, 404, "not_found", NULL, "cluster \"%s\" is not known",
				    r->cap[0]);
		}
		return fail_err(r, e, "cluster");
	}
	if (scope_load(r, &sc) != 0) {
		return -1;
	}
	if (cluster_visible_zones(r, &sc, c.name, &zs, &nz) != 0 ||
	    (r->out = cluster_json(r, &c)) == NULL) {
		goto out;
	}
	f.cluster = c.name;
	cJSON *arr = cJSON_AddArrayToObject(r->out, "zones");
	for (size_t i = 0; i < nz; i++) {
		if (zone_rows(r, &zs[i], &f, arr) != 0) {
			goto out;
		}
	}
	rv = 0;
out:
	free(zs);
	free(sc.ids);
	return rv;
}

/* ---- routes ---- */

static const char *const f_none[] = {NULL};
static const char *const f_tenant[] = {"name", NULL};
static const char *const f_principal[] = {"name", "kind", "token_label", NULL};
static const char *const f_token[] = {"label", "expires_in", NULL};
static const char *const f_key[] = {"public_key_pem", NULL};
static const char *const f_role[] = {"role", NULL};
static const char *const f_zone[] = {"name",	  "tenant",	"approvals_required", "zone_file",
				     "placement", "primary_ns", "hostmaster",	      NULL};
static const char *const f_policy[] = {"approvals_required", NULL};
static const char *const f_placement[] = {"clusters", NULL};
static const char *const f_change[] = {
	"base_serial",	     "reason", "ticket", "edits", "zone_file", "allow_apex_ns",
	"allow_mass_delete", NULL};
static const char *const f_rollback[] = {"to_serial", "reason", NULL};
static const char *const f_decide[] = {"comment", NULL};
static const char *const f_approve[] = {"comment", "change_signature", NULL};

static const route routes[] = {
	{"GET", "whoami", h_whoami, false, BODY_NONE, false, "whoami", f_none},
	{"POST", "tenants", h_tenant_create, true, BODY_JSON, false, "tenant.create", f_tenant},
	{"GET", "tenants", h_tenant_list, false, BODY_NONE, false, "tenant.list", f_none},
	{"POST", "principals", h_principal_create, true, BODY_JSON, false, "principal.create",
	 f_principal},
	{"POST", "principals/*/tokens", h_token_create, true, BODY_JSON_OPT, false,
	 "principal.token", f_token},
	{"GET", "principals", h_principal_list, false, BODY_NONE, false, "principal.list", f_none},
	{"POST", "principals/*/disable", h_principal_disable, true, BODY_JSON_OPT, false,
	 "principal.disable", f_none},
	{"POST", "principals/*/keys", h_key_add, true, BODY_JSON, false, "principal.key", f_key},
	{"PUT", "principals/*/roles/*", h_role_put, true, BODY_JSON, false, "role.grant", f_role},
	{"DELETE", "principals/*/roles/*", h_role_delete, true, BODY_NONE, false, "role.revoke",
	 f_none},
	{"POST", "zones", h_zone_create, true, BODY_JSON, true, "zone.create", f_zone},
	{"GET", "zones", h_zone_list, false, BODY_NONE, false, "zone.list", f_none},
	{"GET", "zones/*", h_zone_show, false, BODY_NONE, false, "zone.read", f_none},
	{"DELETE", "zones/*", h_zone_delete, true, BODY_NONE, false, "zone.delete.propose", f_none},
	{"GET", "zones/*/export", h_zone_export, false, BODY_NONE, false, "zone.export", f_none},
	{"GET", "zones/*/records", h_zone_records, false, BODY_NONE, false, "zone.read", f_none},
	{"PUT", "zones/*/policy", h_zone_policy, true, BODY_JSON, false, "zone.policy", f_policy},
	{"PUT", "zones/*/placement", h_zone_placement, true, BODY_JSON, false, "zone.placement",
	 f_placement},
	{"GET", "zones/*/versions", h_zone_versions, false, BODY_NONE, false, "zone.read", f_none},
	{"GET", "zones/*/diff", h_zone_diff, false, BODY_NONE, false, "zone.read", f_none},
	{"POST", "zones/*/changes", h_change_propose, true, BODY_JSON, true, "change.propose",
	 f_change},
	{"POST", "zones/*/rollback", h_rollback, true, BODY_JSON, false, "change.rollback",
	 f_rollback},
	{"GET", "changes", h_change_list, false, BODY_NONE, false, "change.list", f_none},
	{"GET", "changes/*", h_change_show, false, BODY_NONE, false, "change.read", f_none},
	{"POST", "changes/*/approve", h_change_approve, true, BODY_JSON_OPT, false,
	 "change.approve", f_approve},
	{"POST", "changes/*/reject", h_change_reject, true, BODY_JSON_OPT, false, "change.reject",
	 f_decide},
	{"POST", "changes/*/withdraw", h_change_withdraw, true, BODY_JSON_OPT, false,
	 "change.withdraw", f_none},
	{"GET", "audit", h_audit_list, false, BODY_NONE, false, "audit.read", f_none},
	{"GET", "audit/export", h_audit_export, false, BODY_NONE, false, "audit.export", f_none},
	{"GET", "clusters", h_cluster_list, false, BODY_NONE, false, "cluster.list", f_none},
	{"GET", "clusters/*", h_cluster_show, false, BODY_NONE, false, "cluster.read", f_none},
	{"GET", "status", h_status, false, BODY_NONE, false, "status.read", f_none},
	{"GET", "zones/*/status", h_zone_status, false, BODY_NONE, false, "zone.read", f_none},
};

/* Matches the segments against a pattern, capturing the '*' segments. */
static bool
pattern_match(const char *pat, char *const *segs, size_t nseg, const char **cap)
{
	size_t i = 0, c = 0;
	const char *p = pat;

	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (i >= nseg) {
			return false;
		}
		if (len == 1 && p[0] == '*') {
			if (c < 3) {
				cap[c++] = segs[i];
			}
		} else if (strlen(segs[i]) != len || strncmp(segs[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len + (slash != NULL);
	}
	return i == nseg;
}

static bool
media_is_json(const char *ct)
{
	if (ct == NULL) {
		return false;
	}
	while (*ct == ' ' || *ct == '\t') {
		ct++;
	}
	size_t n = strcspn(ct, "; \t");
	return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static int
parse_body(rq *r)
{
	const hub_req *q = r->req;
	size_t cap = r->rt->zone_body ? r->a->max_zone_body : r->a->max_body;
	const char *end = NULL;
	char *copy;

	if (q->body_len > cap) {
		return fail(r, 413, "body_too_large", NULL,
			    "request body of %zu bytes is over the cap of %zu bytes", q->body_len,
			    cap);
	}
	if (q->body_len == 0 && r->rt->body == BODY_JSON_OPT) {
		r->body = cJSON_CreateObject();
		return r->body != NULL ? 0 : oom(r);
	}
	if (!media_is_json(q->content_type)) {
		return fail(r, 415, "unsupported_media_type", NULL,
			    "request body must be application/json, not %.100s",
			    q->content_type != NULL ? q->content_type : "(no Content-Type)");
	}
	if (q->body_len == 0) {
		return fail(r, 400, "invalid_json", NULL,
			    "request body is empty; a JSON object is "
			    "required");
	}
	if (memchr(q->body, '\0', q->body_len) != NULL) {
		return fail(r, 400, "invalid_json", NULL, "request body holds a NUL byte");
	}
	if ((copy = malloc(q->body_len + 1)) == NULL) {
		return oom(r);
	}
	memcpy(copy, q->body, q->body_len);
	copy[q->body_len] = '\0';
	r->body = cJSON_ParseWithLengthOpts(copy, q->body_len + 1, &end, true);
	if (r->body == NULL) {
		size_t pos = end != NULL && end >= copy ? (size_t)(end - copy) : 0;
		unsigned line = 1, col = 1;
		if (pos > q->body_len) {
			pos = q->body_len;
		}
		for (size_t i = 0; i < pos; i++) {
			if (copy[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		free(copy);
		fail(r, 400, "invalid_json", NULL, "malformed JSON at line %u column %u (byte %zu)",
		     line, col, pos);
		r->line = line;
		return -1;
	}
	free(copy);
	return check_fields(r, r->body, "", r->rt->fields);
}

/* A store handle for this request, from the pool or opened now. */
static hub_store *
store_take(hub_api *a, fedns_diag *d)
{
	hub_store_opts so = {.path = a->store_path,
			     .create = false,
			     .busy_ms = 5000,
			     .defer_sync = a->ws != NULL};
	hub_store *s = NULL;

	pthread_mutex_lock(&a->mu);
	tstore *t = a->stores;
	if (t != NULL) {
		a->stores = t->next;
	}
	pthread_mutex_unlock(&a->mu);
	if (t != NULL) {
		s = t->s;
		free(t);
		return s;
	}
	if (hub_store_open(&so, &s, d) != FEDNS_OK) {
		return NULL;
	}
	return s;
}

/* Gives a handle back to the pool (closed when that fails for want of memory). */
static void
store_give(hub_api *a, hub_store *s)
{
	if (s == NULL) {
		return;
	}
	/* no request leaves a transaction open; if one did, it ends here, not in the next */
	hub_store_rollback(s);
	tstore *t = malloc(sizeof(*t));
	if (t == NULL) {
		hub_store_close(s);
		return;
	}
	t->s = s;
	pthread_mutex_lock(&a->mu);
	t->next = a->stores;
	a->stores = t;
	pthread_mutex_unlock(&a->mu);
}

static bool
idem_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 128) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

static void
idem_digest(const hub_req *q, char out[65])
{
	fedns_hash h;
	uint8_t md[FEDNS_SHA256_LEN];

	fedns_hash_init(&h, FEDNS_HASH_SHA256);
	fedns_hash_update(&h, q->method, strlen(q->method));
	fedns_hash_update(&h, "\n", 1);
	fedns_hash_update(&h, q->path, strlen(q->path));
	fedns_hash_update(&h, "\n", 1);
	if (q->body_len > 0) {
		fedns_hash_update(&h, q->body, q->body_len);
	}
	fedns_hash_final(&h, md);
	fedns_hex_encode(md, sizeof(md), out, 0);
}

static fedns_err
append_audit(rq *r, const char *action, const char *target, const char *outcome, const char *digest)
{
	hub_audit rec;

	memset(&rec, 0, sizeof(rec));
	rec.at = now_ms();
	snprintf(rec.principal, sizeof(rec.principal), "%s", r->authed ? r->who.name : "anonymous");
	snprintf(rec.action, sizeof(rec.action), "%s", action);
	snprintf(rec.target, sizeof(rec.target), "%s", target);
	snprintf(rec.outcome, sizeof(rec.outcome), "%s", outcome);
	snprintf(rec.payload_digest, sizeof(rec.payload_digest), "%s", digest);
	return hub_audit_append(r->s, &rec);
}

static const char *
outcome_of(int status)
{
	switch (status) {
	case 401:
	case 403:
		return "denied";
	case 409:
		return "conflict";
	default:
		return status >= 500 ? "error" : "invalid";
	}
}

static void run(rq *r, bool write);
static void wunlock(rq *r);

/* Runs the request up to the handler; failures are left in r. */
static void
dispatch(rq *r)
{
	const hub_req *q = r->req;
	char *segs[MAX_SEGS];
	size_t nseg = 0;
	char allow[64] = "";
	fedns_diag d;

	fedns_diag_clear(&d);
	if (strncmp(q->path, "/api/v1/", 8) != 0) {
		fail(r, 404, "not_found", NULL, "no such path: %.200s", q->path);
		return;
	}
	snprintf(r->segbuf, sizeof(r->segbuf), "%s", q->path + 8);
	snprintf(r->target, sizeof(r->target), "%s", q->path + 8);
	for (char *p = r->segbuf, *save = NULL, *tok; (tok = strtok_r(p, "/", &save)) != NULL;
	     p = NULL) {
		if (nseg == MAX_SEGS) {
			fail(r, 404, "not_found", NULL, "no such path: %.200s", q->path);
			return;
		}
		if (strcmp(tok, ".") == 0 || strcmp(tok, "..") == 0 ||
		    !name_chars_ok(tok, "-_.@*")) {
			fail(r, 400, "invalid_path", NULL,
			     "path segment \"%.100s\" is not allowed (letters, digits, '-', '_', "
			     "'.', '@' and '*' only; no '.' or '..' segments)",
			     tok);
			return;
		}
		segs[nseg++] = tok;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *cap[3] = {NULL, NULL, NULL};
		if (!pattern_match(routes[i].pattern, segs, nseg, cap)) {
			continue;
		}
		if (strcmp(routes[i].method, q->method) == 0) {
			r->rt = &routes[i];
			memcpy(r->cap, cap, sizeof(cap));
			break;
		}
		size_t al = strlen(allow);
		snprintf(allow + al, sizeof(allow) - al, "%s%s", al > 0 ? ", " : "",
			 routes[i].method);
	}
	if (r->rt == NULL) {
		if (allow[0] != '\0') {
			fedns_buf_printf(&r->res->headers, "Allow: %s\r\n", allow);
			fail(r, 405, "method_not_allowed", NULL, "%.10s is not allowed on %.200s",
			     q->method, q->path);
		} else {
			fail(r, 404, "not_found", NULL, "no such path: %.200s", q->path);
		}
		return;
	}
	if (r->rt->body != BODY_NONE && parse_body(r) != 0) {
		return;
	}
	if (q->body_len > 0) {
		sha256_hex(q->body, q->body_len, r->payload_digest);
	}
	if ((r->s = store_take(r->a, &d)) == NULL) {
		fedns_log(FEDNS_LOG_ERROR, "api.store.unavailable", FEDNS_LF_STR("error", d.msg));
		fail(r, 503, "unavailable", NULL, "the store is not available");
		return;
	}
	/* Proposals and approvals run once in a read transaction first, doing the O(zone)
	 * work outside the write lock, then in the write transaction with what that run
	 * prepared (which is only used if the zone has not moved meanwhile). */
	if (r->rt->fn == h_change_propose || r->rt->fn == h_change_approve) {
		r->prep_phase = true;
		run(r, false);
		if (r->status != 0 || r->replayed) {
			return; /* finish ends the read transaction and audits a refusal */
		}
		hub_store_rollback(r->s); /* it only read */
		r->in_txn = false;
		r->prep_phase = false;
	}
	run(r, r->rt->write);
}

static fedns_err
begin_txn(rq *r, bool write)
{
	fedns_err e;

	if (write && !r->wlocked) {
		hub_api *a = r->a;
		pthread_mutex_lock(&a->wmu);
		uint64_t ticket = a->wnext++;
		while (a->wserving != ticket) {
			pthread_cond_wait(&a->wcv[ticket % WAIT_SLOTS], &a->wmu);
		}
		pthread_mutex_unlock(&a->wmu);
		r->wlocked = true;
	}
	e = hub_store_begin(r->s, write);
	if (e != FEDNS_OK) {
		wunlock(r);
	} else {
		r->used_store = true;
	}
	return e;
}

/* COMMIT of the ticket holder's write transaction, numbered for the group sync. */
static fedns_err
commit_write(rq *r)
{
	hub_api *a = r->a;
	fedns_err e;

	if (a->ws == NULL || !r->wlocked) {
		return hub_store_commit(r->s);
	}
	pthread_mutex_lock(&a->gmu);
	uint64_t seq = ++a->gc_started;
	pthread_mutex_unlock(&a->gmu);
	e = hub_store_commit(r->s);
	pthread_mutex_lock(&a->gmu);
	/* commits are serialised by the ticket lock, so they end in the order they began
	 * (a failed one wrote nothing that needs a sync; counting it keeps the order) */
	a->gc_committed = seq;
	if (a->gc_waiters > 0 && !a->gc_syncing) {
		/* a reader may wait for exactly this one (only one commit is ever in flight) */
		pthread_cond_broadcast(&a->gcv[seq % WAIT_SLOTS]);
	}
	pthread_mutex_unlock(&a->gmu);
	r->gc_seq = seq;
	return e;
}

/* Waits until every commit numbered up to 'need' is on stable storage, running the WAL
 * sync itself when no other waiter is: a sync covers what committed before it began. */
static fedns_err
wait_durable(hub_api *a, uint64_t need, fedns_diag *d)
{
	fedns_err e = FEDNS_OK;

	pthread_mutex_lock(&a->gmu);
	while (a->gc_durable < need) {
		if (!a->gc_syncing && a->gc_committed > a->gc_durable) {
			uint64_t upto = a->gc_committed;
			a->gc_syncing = true;
			pthread_mutex_unlock(&a->gmu);
			e = hub_wal_sync_run(a->ws, d);
			pthread_mutex_lock(&a->gmu);
			a->gc_syncing = false;
			a->gc_syncs++;
			uint64_t from = a->gc_durable;
			if (e == FEDNS_OK) {
				a->gc_durable = upto;
			}
			if (e != FEDNS_OK || upto - from >= WAIT_SLOTS) {
				for (size_t i = 0; i < WAIT_SLOTS; i++)
					pthread_cond_broadcast(&a->gcv[i]);
			} else {
				for (uint64_t n = from + 1; n <= upto; n++)
					pthread_cond_broadcast(&a->gcv[n % WAIT_SLOTS]);
			}
			/* what committed during the sync: its first committer syncs next (one
			 * not yet waiting finds no sync running and starts one itself) */
			if (a->gc_committed > a->gc_durable) {
				pthread_cond_broadcast(&a->gcv[(a->gc_durable + 1) % WAIT_SLOTS]);
			}
			if (e != FEDNS_OK) {
				break;
			}
			continue;
		}
		a->gc_waiters++;
		pthread_cond_wait(&a->gcv[need % WAIT_SLOTS], &a->gmu);
		a->gc_waiters--;
	}
	pthread_mutex_unlock(&a->gmu);
	return e;
}

static void
wunlock(rq *r)
{
	if (r->wlocked) {
		hub_api *a = r->a;
		pthread_mutex_lock(&a->wmu);
		a->wserving++;
		pthread_cond_broadcast(&a->wcv[a->wserving % WAIT_SLOTS]);
		pthread_mutex_unlock(&a->wmu);
		r->wlocked = false;
	}
}

/* One run of the request in a transaction: authentication, idempotency, the handler. */
static void
run(rq *r, bool write)
{
	const hub_req *q = r->req;
	fedns_err e;

	if ((e = begin_txn(r, write)) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "api.store.begin",
			  FEDNS_LF_STR("error", fedns_strerror(e)));
		fail(r, 503, "unavailable", NULL, "the store is busy; retry");
		return;
	}
	r->in_txn = true;
	r->authed = false; /* the write run authenticates again: a token may just have gone */
	fedns_diag ad;
	fedns_diag_clear(&ad);
	if (r->signed_in) {
		/* a signature is verified once per request (its nonce is spent); the write
		 * run only checks that its signer still exists and is enabled */
		e = hub_principal_get_id(r->s, r->who.id, &r->who);
		if (e == FEDNS_OK && r->who.disabled)
			e = FEDNS_EAUTH;
		if (e == FEDNS_ENOENT)
			e = FEDNS_EAUTH;
	} else {
		e = hub_auth_request(r->s, r->a->sigs, q, &r->who, &ad);
	}
	if (e != FEDNS_OK) {
		if (e == FEDNS_EAUTH) {
			fedns_buf_puts(&r->res->headers,
				       "WWW-Authenticate: Bearer realm=\"fedns\"\r\n");
			fail(r, 401, "unauthorized", NULL, "%s",
			     ad.msg[0] != '\0'
				     ? ad.msg
				     : "missing, unknown, expired or disabled credential");
			r->outcome = "denied";
		} else {
			fail_err(r, e, "authentication");
		}
		return;
	}
	r->signed_in = q->authorization == NULL;
	r->authed = true;
	if (r->rt->write && strcmp(q->method, "POST") == 0 && q->idempotency_key != NULL) {
		char have[65] = "", want[65];
		int st = 0;
		char *body = NULL;
		if (!idem_key_ok(q->idempotency_key)) {
			fail(r, 400, "invalid_idempotency_key", NULL,
			     "Idempotency-Key must be 1 to 128 visible ASCII characters");
			return;
		}
		idem_digest(q, want);
		e = hub_idem_get(r->s, r->who.id, q->idempotency_key, &st, &body, have);
		if (e == FEDNS_OK) {
			if (strcmp(have, want) == 0) {
				r->ok_status = st;
				r->text_owned = body;
				r->text = body != NULL ? body : "";
				r->text_len = strlen(r->text);
				r->text_type = "application/json";
				r->replayed = true;
				return;
			}
			free(body);
			r->outcome = "conflict";
			fail(r, 409, "idempotency_conflict", NULL,
			     "Idempotency-Key was already used with another request");
			return;
		}
		if (e != FEDNS_ENOENT) {
			fail_err(r, e, "idempotency key");
			return;
		}
	}
	r->rt->fn(r);
}

/* Ends the transaction: on success the audit record, the idempotency record and the
 * commit; on failure the rollback and, for a privileged or refused call, an audit record
 * of the refusal in a transaction of its own. */
static void
finish_txn(rq *r, char **json)
{
	const hub_req *q = r->req;
	fedns_err e;

	if (r->status == 0 && !r->replayed && r->out != NULL &&
	    (*json = cJSON_PrintUnformatted(r->out)) == NULL) {
		oom(r);
	}
	if (!r->in_txn) {
		return;
	}
	if (r->status == 0) {
		bool writes = r->rt->write && !r->replayed;
		e = FEDNS_OK;
		if (writes) {
			e = append_audit(r, r->rt->action, r->target, "ok", r->payload_digest);
			if (e == FEDNS_OK && r->committed) {
				char t[64];
				snprintf(t, sizeof(t), "change:%" PRId64, r->commit_change);
				e = append_audit(r, "change.commit", t, "ok", r->commit_digest);
			}
			if (e == FEDNS_OK && r->committed && r->deleted_zone[0] != '\0') {
				char t[300];
				snprintf(t, sizeof(t), "zone:%s", r->deleted_zone);
				e = append_audit(r, "zone.delete", t, "ok", r->commit_digest);
			}
			if (e == FEDNS_OK && q->idempotency_key != NULL &&
			    strcmp(q->method, "POST") == 0) {
				char dg[65];
				idem_digest(q, dg);
				e = hub_idem_put(r->s, r->who.id, q->idempotency_key,
						 r->ok_status != 0 ? r->ok_status : 200,
						 r->idem_body != NULL
							 ? r->idem_body
							 : (*json != NULL ? *json : ""),
						 dg);
			}
		}
		if (e == FEDNS_OK) {
			e = commit_write(r);
		} else {
			hub_store_rollback(r->s);
		}
		if (e != FEDNS_OK) {
			if (writes && r->zone_id != 0) {
				hub_workflow_forget(r->a->wf, r->zone_id);
			}
			fedns_log(FEDNS_LOG_ERROR, "api.commit.failed",
				  FEDNS_LF_STR("path", q->path),
				  FEDNS_LF_STR("error", fedns_strerror(e)));
			free(*json);
			*json = NULL;
			fail(r, e == FEDNS_ETOOBIG ? 413 : 500, "internal", NULL,
			     "the change could not be stored: %s", fedns_strerror(e));
			return;
		}
		if (writes && r->zone_id != 0) {
			hub_workflow_publish(r->a->wf, r->zone_id);
			r->notify_zone = r->a->on_zone_write != NULL;
		}
		return;
	}
	hub_store_rollback(r->s);
	if (r->rt->write && r->zone_id != 0 && !r->prep_phase) {
		/* a read-only run built nothing pending to drop */
		hub_workflow_forget(r->a->wf, r->zone_id);
	}
	const char *outcome = r->outcome;
	if (outcome == NULL && r->rt->write && r->authed) {
		outcome = outcome_of(r->status);
	}
	if (outcome == NULL) {
		return;
	}
	if ((e = begin_txn(r, true)) == FEDNS_OK &&
	    (e = append_audit(r, r->rt->action, r->target, outcome, r->payload_digest)) ==
		    FEDNS_OK) {
		e = commit_write(r);
	} else if (e != FEDNS_OK) {
		hub_store_rollback(r->s);
	}
	if (e != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "api.audit.failed", FEDNS_LF_STR("path", q->path),
			  FEDNS_LF_STR("error", fedns_strerror(e)));
	}
}

/* The writer lock is held to the commit's end: the cache publishes (or forgets) what the
 * transaction built before the next writer on the zone reads it. The sync comes after
 * the lock is given up, and the answer (and the fan-out's news) after the sync. */
static void
finish(rq *r, char **json)
{
	hub_api *a = r->a;

	finish_txn(r, json);
	wunlock(r);
	if (r->zlock >= 0) {
		pthread_mutex_unlock(&a->zmu[r->zlock]);
		r->zlock = -1;
	}
	if (a->ws != NULL && r->used_store) {
		uint64_t need = r->gc_seq;
		if (need == 0) {
			/* it only read: whatever it saw committed before now */
			pthread_mutex_lock(&a->gmu);
			need = a->gc_started;
			pthread_mutex_unlock(&a->gmu);
		}
		fedns_diag d;
		fedns_diag_clear(&d);
		fedns_err e = wait_durable(a, need, &d);
		if (e != FEDNS_OK) {
			fedns_log(FEDNS_LOG_ERROR, "api.sync.failed",
				  FEDNS_LF_STR("path", r->req->path), FEDNS_LF_STR("error", d.msg));
			if (r->status == 0) {
				free(*json);
				*json = NULL;
				r->replayed = false;
				fail(r, 500, "internal", NULL,
				     "the store could not make this durable: %s", d.msg);
			}
			return;
		}
	}
	if (r->notify_zone) {
		a->on_zone_write(a->hook_ctx, r->zone_id);
	}
}

static void
write_error(rq *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *er = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(er, "code", r->code != NULL ? r->code : "internal");
	cJSON_AddStringToObject(er, "message", r->msg);
	cJSON *det = cJSON_AddObjectToObject(er, "details");
	if (r->field[0] != '\0') {
		cJSON_AddStringToObject(det, "field", r->field);
	}
	if (r->line != 0) {
		add_int(det, "line", r->line);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	r->res->status = r->status;
	r->res->content_type = "application/json";
	if (s != NULL) {
		fedns_buf_puts(&r->res->body, s);
		fedns_buf_putc(&r->res->body, '\n');
		free(s);
	} else {
		fedns_buf_puts(&r->res->body,
			       "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
			       "memory\",\"details\":{}}}\n");
	}
}

static void
health(rq *r, bool ready_check)
{
	hub_res *res = r->res;
	fedns_diag d;

	res->content_type = "application/json";
	if (strcmp(r->req->method, "GET") != 0) {
		fedns_buf_puts(&res->headers, "Allow: GET\r\n");
		fail(r, 405, "method_not_allowed", NULL, "only GET is allowed here");
		write_error(r);
		return;
	}
	fedns_diag_clear(&d);
	if (!ready_check) {
		res->status = 200;
		fedns_buf_puts(&res->body, "{\"status\":\"ok\"}\n");
		return;
	}
	if (!atomic_load(&r->a->ready)) {
		res->status = 503;
		fedns_buf_puts(&res->body,
			       "{\"status\":\"not_ready\",\"why\":\"not listening yet\"}\n");
		return;
	}
	hub_store *s = store_take(r->a, &d);
	if (s == NULL) {
		res->status = 503;
		fedns_buf_puts(&res->body,
			       "{\"status\":\"not_ready\",\"why\":\"store unavailable\"}\n");
		return;
	}
	store_give(r->a, s);
	res->status = 200;
	fedns_buf_puts(&res->body, "{\"status\":\"ready\"}\n");
}

void
hub_api_handle(void *ctx, const hub_req *req, hub_res *res)
{
	hub_api *a = ctx;
	int64_t t0 = now_ms();
	char *json = NULL;
	rq *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		res->status = 500;
		res->content_type = "application/json";
		fedns_buf_puts(&res->body, "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
					   "memory\",\"details\":{}}}\n");
		return;
	}
	r->a = a;
	r->req = req;
	r->res = res;
	r->zlock = -1;
	if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0) {
		health(r, strcmp(req->path, "/readyz") == 0);
		free(r);
		return;
	}
	dispatch(r);
	finish(r, &json);
	store_give(a, r->s);
	r->s = NULL;
	if (r->status != 0) {
		write_error(r);
	} else {
		res->status = r->ok_status != 0 ? r->ok_status : 200;
		if (r->text != NULL) {
			res->content_type = r->text_type;
			fedns_buf_append(&res->body, r->text, r->text_len);
		} else {
			res->content_type = "application/json";
			fedns_buf_puts(&res->body, json != NULL ? json : "{}");
			fedns_buf_putc(&res->body, '\n');
		}
	}
	fedns_log(res->status >= 500 ? FEDNS_LOG_ERROR : FEDNS_LOG_INFO, "api.request",
		  FEDNS_LF_STR("method", req->method), FEDNS_LF_STR("path", req->path),
		  FEDNS_LF_INT("status", res->status),
		  FEDNS_LF_STR("principal", r->authed ? r->who.name : ""),
		  FEDNS_LF_STR("code", r->status != 0 && r->code != NULL ? r->code : ""),
		  FEDNS_LF_BOOL("replayed", r->replayed), FEDNS_LF_INT("ms", now_ms() - t0),
		  FEDNS_LF_STR("remote", req->remote != NULL ? req->remote : ""));
	free(json);
	free(r->idem_body);
	free(r->text_owned);
	cJSON_Delete(r->out);
	cJSON_Delete(r->body);
	free(r->tenants);
	hub_prepared_free(r->prep);
	free(r);
}

fedns_err
hub_api_new(const hub_api_opts *o, hub_api **out, fedns_diag *d)
{
	hub_store_opts so = {.path = o->store_path, .create = false, .busy_ms = 5000};
	hub_store *s = NULL;
	hub_api *a;
	fedns_err e;

	*out = NULL;
	if (o->store_path == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL, "no store path");
	}
	if ((e = hub_store_open(&so, &s, d)) != FEDNS_OK) {
		return e;
	}
	hub_store_close(s);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->store_path = strdup(o->store_path)) == NULL) {
		free(a);
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	}
	if ((e = hub_wal_sync_new(o->store_path, &a->ws, d)) != FEDNS_OK) {
		free(a->store_path);
		free(a);
		return e;
	}
	a->max_body = o->max_body != 0 ? o->max_body : HUB_API_MAX_BODY;
	a->max_zone_body = o->max_zone_body != 0 ? o->max_zone_body : HUB_API_MAX_ZONE_BODY;
	a->on_zone_write = o->on_zone_write;
	a->hook_ctx = o->hook_ctx;
	atomic_init(&a->ready, false);
	if ((e = hub_workflow_new(&o->workflow, &a->wf)) != FEDNS_OK) {
		hub_wal_sync_free(a->ws);
		free(a->store_path);
		free(a);
		return fedns_diag_set(d, e, "workflow: %s", fedns_strerror(e));
	}
	if ((e = hub_httpsig_new(NULL, NULL, &a->sigs)) != FEDNS_OK) {
		hub_workflow_free(a->wf);
		hub_wal_sync_free(a->ws);
		free(a->store_path);
		free(a);
		return fedns_diag_set(d, e, "request signatures: %s", fedns_strerror(e));
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->wmu, NULL);
	pthread_mutex_init(&a->gmu, NULL);
	for (size_t i = 0; i < WAIT_SLOTS; i++)
		pthread_cond_init(&a->gcv[i], NULL);
	for (size_t i = 0; i < WAIT_SLOTS; i++)
		pthread_cond_init(&a->wcv[i], NULL);
	for (size_t i = 0; i < ZONE_LOCKS; i++) {
		pthread_mutex_init(&a->zmu[i], NULL);
	}
	*out = a;
	return FEDNS_OK;
}

void
hub_api_free(hub_api *a)
{
	if (a == NULL) {
		return;
	}
	/* every request has ended: all handles are back in the pool */
	while (a->stores != NULL) {
		tstore *t = a->stores;
		a->stores = t->next;
		hub_store_close(t->s);
		free(t);
	}
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->wmu);
	if (a->ws != NULL) {
		fedns_log(FEDNS_LOG_INFO, "api.group_commit",
			  FEDNS_LF_INT("commits", (int64_t)a->gc_committed),
			  FEDNS_LF_INT("syncs", (int64_t)a->gc_syncs));
	}
	pthread_mutex_destroy(&a->gmu);
	for (size_t i = 0; i < WAIT_SLOTS; i++)
		pthread_cond_destroy(&a->gcv[i]);
	hub_wal_sync_free(a->ws);
	for (size_t i = 0; i < WAIT_SLOTS; i++)
		pthread_cond_destroy(&a->wcv[i]);
	for (size_t i = 0; i < ZONE_LOCKS; i++) {
		pthread_mutex_destroy(&a->zmu[i]);
	}
	hub_httpsig_free(a->sigs);
	hub_workflow_free(a->wf);
	free(a->store_path);
	free(a);
}

hub_workflow *
hub_api_workflow(hub_api *a)
{
	return a->wf;
}

void
hub_api_set_ready(hub_api *a, bool ready)
{
	atomic_store(&a->ready, ready);
}
