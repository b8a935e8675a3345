/* SPDX-License-Identifier: Apache-2.0 */
/* Verification of the cluster's secondaries: SOA polling, AXFR-back digests, repair. */
#define _GNU_SOURCE /* pipe2 */
#include "spoke/verifier.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/log.h"
#include "dns/serial.h"
#include "dns/zonemd.h"
#include "spoke/xfrclient.h"

extern char **environ;

/* SOA polling starts fast (a secondary usually has the serial within milliseconds of the
 * NOTIFY) and backs off so a slow one is not hammered. */
#define POLL_FIRST_MS 10
#define POLL_MAX_MS 1000
#define REPAIR_POLL_FIRST_MS 100
#define REPAIR_POLL_MAX_MS 2000

const char *
spoke_verify_state_name(spoke_verify_state s)
{
	switch (s) {
	case SPOKE_VERIFY_IN_SYNC:
		return "in_sync";
	case SPOKE_VERIFY_LAGGING:
		return "lagging";
	case SPOKE_VERIFY_DIVERGED:
		return "diverged";
	case SPOKE_VERIFY_UNREACHABLE:
		return "unreachable";
	case SPOKE_VERIFY_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool
name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= SPOKE_SECONDARY_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

fedns_err
spoke_secondary_parse(const char *arg, spoke_secondary *s, fedns_diag *d)
{
	const char *eq = strchr(arg, '=');
	memset(s, 0, sizeof(*s));
	if (eq == NULL || !name_ok(arg, (size_t)(eq - arg)))
		return fedns_diag_set(d, FEDNS_ESYNTAX,
				      "secondary \"%s\": expected NAME=ADDR[:PORT] with NAME of "
				      "letters, digits, '-', '_', '.' (at most %d)",
				      arg, SPOKE_SECONDARY_NAME_MAX - 1);
	memcpy(s->name, arg, (size_t)(eq - arg));
	if (spoke_parse_addr(eq + 1, 53, &s->addr, &s->addr_len) != FEDNS_OK)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "secondary %s: \"%s\" is not an address",
				      s->name, eq + 1);
	return FEDNS_OK;
}

fedns_err
spoke_secondary_parse_rndc(const char *arg, spoke_secondary *list, size_t n, fedns_diag *d)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || !name_ok(arg, (size_t)(eq - arg)))
		return fedns_diag_set(d, FEDNS_ESYNTAX,
				      "rndc \"%s\": expected NAME=HOST[:PORT] naming a --secondary",
				      arg);
	size_t nl = (size_t)(eq - arg);
	spoke_secondary *s = NULL;
	for (size_t i = 0; i < n && s == NULL; i++)
		if (strlen(list[i].name) == nl && memcmp(list[i].name, arg, nl) == 0)
			s = &list[i];
	if (s == NULL)
		return fedns_diag_set(d, FEDNS_ENOENT, "rndc \"%s\": no --secondary called %.*s",
				      arg, (int)nl, arg);
	const char *h = eq + 1, *port = NULL;
	size_t hl;
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return fedns_diag_set(d, FEDNS_ESYNTAX, "rndc %s: bad host \"%s\"", s->name,
					      h);
		hl = (size_t)(close - h - 1);
		h++;
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = strchr(h, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hl = (size_t)(colon - h);
			port = colon + 1;
		} else {
			hl = strlen(h);
		}
	}
	/* the host becomes an argument of rndc: nothing an option parser could misread */
	bool bad = hl == 0 || hl >= sizeof(s->rndc_host) || h[0] == '-';
	for (size_t i = 0; i < hl && !bad; i++)
		bad = h[i] <= ' ' || h[i] == 0x7f;
	if (bad)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "rndc %s: bad host in \"%s\"", s->name,
				      eq + 1);
	unsigned long p = 0;
	if (port != NULL) {
		char *end;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
			return fedns_diag_set(d, FEDNS_ESYNTAX, "rndc %s: bad port in \"%s\"",
					      s->name, eq + 1);
	}
	memcpy(s->rndc_host, h, hl);
	s->rndc_host[hl] = '\0';
	s->rndc_port = (uint16_t)p;
	return FEDNS_OK;
}

void
spoke_verifier_opts_default(spoke_verifier_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_s = 300;
	o->coalesce_ms = 50;
	o->deadline_ms = 30000;
	o->timeout_ms = 3000;
	o->retry_ms = 1000;
	o->repair_wait_ms = 30000;
	o->repair_backoff_ms = 10000;
	o->rndc_bin = "rndc";
	o->rndc_timeout_ms = 10000;
}

/* ---- default probes ---- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
xopts(const spoke_verifier_opts *o, const spoke_secondary *s, spoke_xfrclient_opts *x)
{
	memset(x, 0, sizeof(*x));
	x->server = s->addr;
	x->server_len = s->addr_len;
	x->key = s->key;
	x->timeout_ms = o->timeout_ms;
}

static fedns_err
def_soa(void *ctx, const spoke_secondary *s, const uint8_t *zone, uint32_t *serial, fedns_diag *d)
{
	spoke_xfrclient_opts x;
	xopts(ctx, s, &x);
	return spoke_xfrclient_soa(&x, zone, serial, d);
}

static fedns_err
def_digest(void *ctx, const spoke_secondary *s, const uint8_t *zone,
	   uint8_t digest[SPOKE_DIGEST_LEN], uint32_t *serial, fedns_diag *d)
{
	spoke_xfrclient_opts x;
	xopts(ctx, s, &x);
	return spoke_xfrclient_digest(&x, zone, digest, serial, d);
}

static fedns_err
def_repair(void *ctx, const spoke_secondary *s, const uint8_t *zone, fedns_diag *d)
{
	return spoke_verifier_rndc(ctx, s, zone, d);
}

static uint64_t
def_now_ms(void *ctx)
{
	(void)ctx;
	return mono_ms();
}

static int64_t
def_wall_s(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

static void
def_sleep_ms(void *ctx, unsigned ms)
{
	(void)ctx;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const spoke_verify_ops spoke_verifier_default_ops = {
	.soa = def_soa,
	.digest = def_digest,
	.repair = def_repair,
	.now_ms = def_now_ms,
	.wall_s = def_wall_s,
	.sleep_ms = def_sleep_ms,
};

fedns_err
spoke_verifier_rndc(const spoke_verifier_opts *o, const spoke_secondary *s, const uint8_t *zone,
		    fedns_diag *d)
{
	if (s->rndc_host[0] == '\0')
		return fedns_diag_set(d, FEDNS_ENOTSUP,
				      "no rndc configured for secondary %s (--rndc %s=HOST:PORT)",
				      s->name, s->name);
	char zt[FEDNS_NAME_MAXTEXT], port[8];
	fedns_name_to_text(zone, zt, sizeof(zt));
	size_t zl = strlen(zt);
	if (zl > 1 && zt[zl - 1] == '.')
		zt[zl - 1] = '\0';
	snprintf(port, sizeof(port), "%u", s->rndc_port);
	const char *bin = o->rndc_bin != NULL ? o->rndc_bin : "rndc";
	const char *argv[16];
	size_t n = 0;
	argv[n++] = bin;
	if (o->rndc_conf != NULL) {
		argv[n++] = "-c";
		argv[n++] = o->rndc_conf;
	}
	if (o->rndc_key != NULL) {
		argv[n++] = "-k";
		argv[n++] = o->rndc_key;
	}
	argv[n++] = "-s";
	argv[n++] = s->rndc_host;
	if (s->rndc_port != 0) {
		argv[n++] = "-p";
		argv[n++] = port;
	}
	argv[n++] = "retransfer";
	argv[n++] = zt;
	argv[n] = NULL;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return fedns_diag_set(d, -errno, "rndc: pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	pid_t pid;
	int r = posix_spawnp(&pid, bin, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return fedns_diag_set(d, FEDNS_EIO, "cannot run %s: %s", bin, strerror(r));
	}
	/* collect what rndc says (its error text is the useful part) until it exits or the
	 * time is up */
	char out[512];
	size_t outn = 0;
	uint64_t deadline = mono_ms() + (o->rndc_timeout_ms ? o->rndc_timeout_ms : 10000);
	bool timed_out = false;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		char tmp[256];
		ssize_t got = read(pfd[0], tmp, sizeof(tmp));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t take = (size_t)got;
		if (take > sizeof(out) - 1 - outn)
			take = sizeof(out) - 1 - outn;
		memcpy(out + outn, tmp, take);
		outn += take;
	}
	close(pfd[0]);
	out[outn] = '\0';
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	/* a process that closed its output may still take a moment to exit */
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (mono_ms() >= deadline) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		def_sleep_ms(NULL, 10);
	}
	if (timed_out) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return fedns_diag_set(d, FEDNS_EIO, "%s retransfer %s on %s: timed out", bin, zt,
				      s->name);
	}
	for (size_t i = 0; i < outn; i++)
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '"')
			out[i] = out[i] == '"' ? '\'' : ' ';
	while (outn > 0 && out[outn - 1] == ' ')
		out[--outn] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fedns_diag_set(d, FEDNS_EIO, "%s retransfer %s on %s failed (%s %d): %s",
				      bin, zt, s->name, WIFEXITED(status) ? "exit" : "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				      outn ? out : "no output");
	return FEDNS_OK;
}

/* ---- the table ---- */

typedef struct vrow {
	spoke_verify_row pub;
	uint64_t next_check; /* monotonic ms of a scheduled re-check, 0 none */
	unsigned retry_cur;
	uint64_t repair_next; /* no repair before this */
	unsigned repair_backoff_cur;
	uint32_t confirmed_serial; /* last serial whose bytes were proven */
	bool confirmed;
} vrow;

typedef struct dcache {
	bool valid;
	uint32_t serial;
	uint8_t digest[SPOKE_DIGEST_LEN];
} dcache;

typedef struct vzone {
	uint8_t origin[FEDNS_NAME_MAXLEN];
	char text[FEDNS_NAME_MAXTEXT];
	uint32_t changed_serial; /* the serial whose arrival changed_at is */
	uint64_t changed_at;
	bool pending; /* a pass over every secondary is due at 'due' */
	uint64_t due;
	dcache cache[2]; /* the spoke's digests, per serial; only the verifier thread */
	vrow *rows;	 /* one per secondary */
} vzone;

struct spoke_verifier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	spoke_verifier_opts o;
	spoke_verify_ops ops;
	void *ctx;
	spoke_zoneset *zs;
	vzone **z; /* pointers: a zone stays put while a pass uses it */
	size_t n, cap;
	bool full_due; /* a full verification of every zone is due now */
	uint64_t next_full;
	bool kicked, stop, running;
	pthread_t th;
	void (*listener)(void *ctx);
	void *listener_ctx;
};

void
spoke_verifier_set_listener(spoke_verifier *v, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&v->mu);
	v->listener = fn;
	v->listener_ctx = ctx;
	pthread_mutex_unlock(&v->mu);
}

/* Tells the listener the table may have changed (call without v->mu). */
static void
table_changed(spoke_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	void (*fn)(void *) = v->listener;
	void *ctx = v->listener_ctx;
	pthread_mutex_unlock(&v->mu);
	if (fn != NULL)
		fn(ctx);
}

static void
vzone_free(vzone *z)
{
	if (z == NULL)
		return;
	free(z->rows);
	free(z);
}

/* Finds or adds the zone (lock held). NULL on allocation failure. */
static vzone *
zone_get_locked(spoke_verifier *v, const uint8_t *origin, uint32_t serial, uint64_t now)
{
	for (size_t i = 0; i < v->n; i++)
		if (fedns_name_equal(v->z[i]->origin, origin))
			return v->z[i];
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 16;
		vzone **nz = realloc(v->z, nc * sizeof(*nz));
		if (nz == NULL)
			return NULL;
		v->z = nz;
		v->cap = nc;
	}
	vzone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->rows = calloc(v->o.nsecondaries ? v->o.nsecondaries : 1, sizeof(*z->rows));
	if (z->rows == NULL) {
		free(z);
		return NULL;
	}
	fedns_name_copy(z->origin, origin);
	fedns_name_to_text(origin, z->text, sizeof(z->text));
	z->changed_serial = serial;
	z->changed_at = now;
	for (size_t i = 0; i < v->o.nsecondaries; i++) {
		vrow *r = &z->rows[i];
		fedns_name_copy(r->pub.zone, origin);
		snprintf(r->pub.secondary, sizeof(r->pub.secondary), "%s",
			 v->o.secondaries[i].name);
		r->pub.lag_ms = -1;
		r->pub.serial = serial;
		r->retry_cur = v->o.retry_ms;
		r->repair_backoff_cur = v->o.repair_backoff_ms;
	}
	v->z[v->n++] = z;
	return z;
}

static void
zone_drop_locked(spoke_verifier *v, vzone *z)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->z[i] == z) {
			v->z[i] = v->z[--v->n];
			vzone_free(z);
			return;
		}
	}
}

static bool
skipped(const spoke_verifier *v, const uint8_t *origin)
{
	return v->o.skip_origin != NULL && fedns_name_equal(v->o.skip_origin, origin);
}

fedns_err
spoke_verifier_new(const spoke_verifier_opts *opts, spoke_zoneset *zs, const spoke_verify_ops *ops,
		   void *ops_ctx, spoke_verifier **out)
{
	if (opts->nsecondaries > SPOKE_VERIFY_SECONDARIES_MAX)
		return FEDNS_ETOOBIG;
	spoke_verifier *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return FEDNS_ENOMEM;
	v->o = *opts;
	spoke_verifier_opts def;
	spoke_verifier_opts_default(&def);
	/* zero means "default" for every knob */
	if (v->o.interval_s == 0)
		v->o.interval_s = def.interval_s;
	if (v->o.deadline_ms == 0)
		v->o.deadline_ms = def.deadline_ms;
	if (v->o.timeout_ms == 0)
		v->o.timeout_ms = def.timeout_ms;
	if (v->o.retry_ms == 0)
		v->o.retry_ms = def.retry_ms;
	if (v->o.repair_wait_ms == 0)
		v->o.repair_wait_ms = def.repair_wait_ms;
	if (v->o.repair_backoff_ms == 0)
		v->o.repair_backoff_ms = def.repair_backoff_ms;
	if (v->o.rndc_timeout_ms == 0)
		v->o.rndc_timeout_ms = def.rndc_timeout_ms;
	if (v->o.rndc_bin == NULL)
		v->o.rndc_bin = def.rndc_bin;
	if (v->o.skip_origin != NULL) {
		/* keep our own copy: the caller's buffer may be on a stack */
		uint8_t *copy = malloc(fedns_name_len(v->o.skip_origin));
		if (copy == NULL) {
			free(v);
			return FEDNS_ENOMEM;
		}
		fedns_name_copy(copy, v->o.skip_origin);
		v->o.skip_origin = copy;
	}
	if (ops == NULL) {
		v->ops = spoke_verifier_default_ops;
		v->ctx = &v->o;
	} else {
		v->ops = *ops;
		v->ctx = ops_ctx;
	}
	if (v->ops.now_ms == NULL)
		v->ops.now_ms = def_now_ms;
	if (v->ops.wall_s == NULL)
		v->ops.wall_s = def_wall_s;
	if (v->ops.sleep_ms == NULL)
		v->ops.sleep_ms = def_sleep_ms;
	v->zs = zs;
	v->full_due = true;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&v->mu, NULL);
	*out = v;
	return FEDNS_OK;
}

void
spoke_verifier_free(spoke_verifier *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	bool running = v->running;
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	if (running)
		pthread_join(v->th, NULL);
	for (size_t i = 0; i < v->n; i++)
		vzone_free(v->z[i]);
	free(v->z);
	free((void *)v->o.skip_origin);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

void
spoke_verifier_zone_changed(spoke_verifier *v, const uint8_t *origin, uint32_t serial)
{
	if (v == NULL || skipped(v, origin))
		return;
	uint64_t now = v->ops.now_ms(v->ctx);
	pthread_mutex_lock(&v->mu);
	vzone *z = zone_get_locked(v, origin, serial, now);
	if (z != NULL) {
		if (z->changed_serial != serial) {
			z->changed_serial = serial;
			z->changed_at = now;
		}
		/* the window starts with the first change; later ones ride along */
		if (!z->pending) {
			z->pending = true;
			z->due = now + v->o.coalesce_ms;
		}
	}
	v->kicked = true;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

void
spoke_verifier_verify_all(spoke_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	v->full_due = true;
	v->kicked = true;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

/* ---- one pass ---- */

static void
log_state(const vzone *z, const vrow *r, spoke_verify_state from)
{
	fedns_log(r->pub.state == SPOKE_VERIFY_IN_SYNC ? FEDNS_LOG_INFO : FEDNS_LOG_WARN,
		  "verify.state.changed", FEDNS_LF_STR("zone", z->text),
		  FEDNS_LF_STR("secondary", r->pub.secondary),
		  FEDNS_LF_STR("from", spoke_verify_state_name(from)),
		  FEDNS_LF_STR("to", spoke_verify_state_name(r->pub.state)),
		  FEDNS_LF_UINT("serial", r->pub.serial),
		  FEDNS_LF_INT("serial_seen", r->pub.have_seen ? (int64_t)r->pub.serial_seen : -1),
		  FEDNS_LF_INT("lag_ms", r->pub.lag_ms), FEDNS_LF_STR("error", r->pub.last_error));
}

static bool
stopping(spoke_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	bool s = v->stop;
	pthread_mutex_unlock(&v->mu);
	return s;
}

/* Records the outcome of one check of a row (lock taken here). */
static void
settle(spoke_verifier *v, vzone *z, vrow *r, spoke_verify_state st, uint32_t serial,
       const char *error)
{
	uint64_t now = v->ops.now_ms(v->ctx);
	int64_t wall = v->ops.wall_s(v->ctx);
	pthread_mutex_lock(&v->mu);
	spoke_verify_state from = r->pub.state;
	r->pub.state = st;
	r->pub.serial = serial;
	r->pub.last_check = wall;
	snprintf(r->pub.last_error, sizeof(r->pub.last_error), "%s", error ? error : "");
	if (st == SPOKE_VERIFY_IN_SYNC) {
		r->pub.last_ok = wall;
		r->next_check = 0;
		r->retry_cur = v->o.retry_ms;
	} else {
		/* not in sync: look again soon, less often the longer it lasts */
		r->next_check = now + r->retry_cur;
		uint64_t cap = (uint64_t)v->o.interval_s * 1000u;
		r->retry_cur = (uint64_t)r->retry_cur * 2 > cap ? (unsigned)cap : r->retry_cur * 2;
		/* a diverged secondary is looked at again no later than its next repair */
		if (st == SPOKE_VERIFY_DIVERGED && r->repair_next > now &&
		    r->repair_next < r->next_check)
			r->next_check = r->repair_next;
	}
	pthread_mutex_unlock(&v->mu);
	if (from != st)
		log_state(z, r, from);
	table_changed(v);
}

/* The spoke's own digest of the zone at 'serial': cached per version, computed once in
 * this thread. false when that serial is no longer (or not yet) the served one. */
static bool
our_digest(spoke_verifier *v, vzone *z, uint32_t serial, uint8_t out[SPOKE_DIGEST_LEN])
{
	for (int i = 0; i < 2; i++) {
		if (z->cache[i].valid && z->cache[i].serial == serial) {
			memcpy(out, z->cache[i].digest, SPOKE_DIGEST_LEN);
			return true;
		}
	}
	spoke_version *ver = spoke_zoneset_get(v->zs, z->origin);
	bool ok = false;
	if (ver != NULL && ver->serial == serial) {
		size_t dl = 0;
		if (fedns_zonemd_compute(ver->zone, FEDNS_ZONEMD_SHA384, out, &dl) == FEDNS_OK &&
		    dl == SPOKE_DIGEST_LEN) {
			/* replace the older slot */
			int slot = !z->cache[0].valid					     ? 0
				   : !z->cache[1].valid					     ? 1
				   : fedns_serial_gt(z->cache[0].serial, z->cache[1].serial) ? 1
											     : 0;
			z->cache[slot].valid = true;
			z->cache[slot].serial = serial;
			memcpy(z->cache[slot].digest, out, SPOKE_DIGEST_LEN);
			ok = true;
		}
	}
	spoke_version_rele(ver);
	return ok;
}

typedef enum bytes_result {
	BYTES_MATCH,
	BYTES_DIFFER,
	BYTES_UNAVAILABLE,
	BYTES_MOVED
} bytes_result;

/* AXFR back from the secondary and compare with our digest of the same serial. */
static bytes_result
check_bytes(spoke_verifier *v, vzone *z, vrow *r, const spoke_secondary *s, uint32_t *serial,
	    char *err, size_t errsz)
{
	uint8_t theirs[SPOKE_DIGEST_LEN], ours[SPOKE_DIGEST_LEN];
	uint32_t got = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err e = v->ops.digest(v->ctx, s, z->origin, theirs, &got, &d);
	if (e != FEDNS_OK) {
		char m[FEDNS_DIAG_MSG_MAX + 300];
		snprintf(err, errsz, "AXFR: %s",
			 d.msg[0] ? fedns_diag_format(&d, m, sizeof(m)) : fedns_strerror(e));
		return BYTES_UNAVAILABLE;
	}
	pthread_mutex_lock(&v->mu);
	r->pub.have_seen = true;
	r->pub.serial_seen = got;
	r->pub.have_digest = true;
	memcpy(r->pub.digest_seen, theirs, SPOKE_DIGEST_LEN);
	pthread_mutex_unlock(&v->mu);
	if (!our_digest(v, z, got, ours)) {
		snprintf(err, errsz, "AXFR gave serial %u, the spoke serves another", got);
		return BYTES_MOVED;
	}
	*serial = got;
	if (memcmp(ours, theirs, SPOKE_DIGEST_LEN) != 0) {
		snprintf(err, errsz, "serial %u: ZONEMD digest differs from the spoke's", got);
		return BYTES_DIFFER;
	}
	err[0] = '\0';
	return BYTES_MATCH;
}

/* The bytes match: in sync, and the lag of a newly confirmed serial is recorded. */
static void
confirmed(spoke_verifier *v, vzone *z, vrow *r, uint32_t serial, uint64_t matched_at)
{
	pthread_mutex_lock(&v->mu);
	bool fresh = !r->confirmed || r->confirmed_serial != serial;
	if (fresh && z->changed_serial == serial)
		r->pub.lag_ms =
			matched_at >= z->changed_at ? (int64_t)(matched_at - z->changed_at) : 0;
	r->confirmed = true;
	r->confirmed_serial = serial;
	r->repair_backoff_cur = v->o.repair_backoff_ms;
	r->repair_next = 0;
	int64_t lag = r->pub.lag_ms;
	pthread_mutex_unlock(&v->mu);
	settle(v, z, r, SPOKE_VERIFY_IN_SYNC, serial, NULL);
	if (fresh)
		fedns_log(FEDNS_LOG_INFO, "verify.confirmed", FEDNS_LF_STR("zone", z->text),
			  FEDNS_LF_STR("secondary", r->pub.secondary),
			  FEDNS_LF_UINT("serial", serial), FEDNS_LF_INT("lag_ms", lag));
}

/* A diverged secondary: retransfer (unless a recent repair is still backing off) and
 * wait for its bytes to match. */
static void
diverged(spoke_verifier *v, vzone *z, vrow *r, const spoke_secondary *s, uint32_t serial,
	 const char *why)
{
	uint64_t now = v->ops.now_ms(v->ctx);
	if (v->ops.repair == NULL || now < r->repair_next) {
		settle(v, z, r, SPOKE_VERIFY_DIVERGED, serial, why);
		return;
	}
	settle(v, z, r, SPOKE_VERIFY_DIVERGED, serial, why);
	fedns_diag d;
	fedns_diag_clear(&d);
	char err[512] = "";
	bool ok = false;
	uint64_t start = now;
	fedns_err e = v->ops.repair(v->ctx, s, z->origin, &d);
	if (e == FEDNS_ENOTSUP) {
		/* nothing to repair with (no rndc for it): reported, not counted */
		snprintf(err, sizeof(err), "%.200s; not repaired: %.280s", why, d.msg);
		pthread_mutex_lock(&v->mu);
		r->repair_next = now + (uint64_t)v->o.interval_s * 1000u;
		pthread_mutex_unlock(&v->mu);
		settle(v, z, r, SPOKE_VERIFY_DIVERGED, serial, err);
		return;
	}
	pthread_mutex_lock(&v->mu);
	r->pub.repairs++;
	unsigned count = r->pub.repairs;
	pthread_mutex_unlock(&v->mu);
	fedns_log(FEDNS_LOG_WARN, "verify.repair.started", FEDNS_LF_STR("zone", z->text),
		  FEDNS_LF_STR("secondary", s->name), FEDNS_LF_UINT("serial", serial),
		  FEDNS_LF_UINT("repairs", count));
	if (e != FEDNS_OK) {
		char m[FEDNS_DIAG_MSG_MAX + 300];
		snprintf(err, sizeof(err), "repair: %s",
			 d.msg[0] ? fedns_diag_format(&d, m, sizeof(m)) : fedns_strerror(e));
	} else {
		/* retransfer is asynchronous: the secondary serves the old bytes until the
		 * new transfer completes */
		unsigned wait = REPAIR_POLL_FIRST_MS;
		uint64_t until = start + v->o.repair_wait_ms;
		for (;;) {
			uint32_t got = serial;
			bytes_result br = check_bytes(v, z, r, s, &got, err, sizeof(err));
			if (br == BYTES_MATCH) {
				ok = true;
				serial = got;
				break;
			}
			now = v->ops.now_ms(v->ctx);
			if (now >= until || br == BYTES_MOVED || stopping(v))
				break;
			unsigned left = (unsigned)(until - now);
			v->ops.sleep_ms(v->ctx, wait < left ? wait : left);
			wait = wait * 2 > REPAIR_POLL_MAX_MS ? REPAIR_POLL_MAX_MS : wait * 2;
		}
		if (!ok)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
				 " (still after rndc retransfer)");
	}
	now = v->ops.now_ms(v->ctx);
	pthread_mutex_lock(&v->mu);
	if (ok) {
		r->pub.repairs_ok++;
	} else {
		r->repair_next = now + r->repair_backoff_cur;
		uint64_t cap = (uint64_t)v->o.interval_s * 1000u;
		r->repair_backoff_cur = (uint64_t)r->repair_backoff_cur * 2 > cap
						? (unsigned)cap
						: r->repair_backoff_cur * 2;
	}
	pthread_mutex_unlock(&v->mu);
	fedns_log(ok ? FEDNS_LOG_INFO : FEDNS_LOG_ERROR, "verify.repair.done",
		  FEDNS_LF_STR("zone", z->text), FEDNS_LF_STR("secondary", s->name),
		  FEDNS_LF_STR("outcome", ok ? "repaired" : "failed"),
		  FEDNS_LF_UINT("serial", serial), FEDNS_LF_UINT("ms", now - start),
		  FEDNS_LF_STR("error", err));
	if (ok)
		confirmed(v, z, r, serial, now);
	else
		settle(v, z, r, SPOKE_VERIFY_DIVERGED, serial, err);
}

typedef struct prow {
	vrow *r;
	const spoke_secondary *s;
	enum {
		P_POLL,
		P_MATCHED,
		P_DONE
	} phase;
	uint64_t matched_at;
	uint32_t matched_serial;
	char err[256];
} prow;

/* Verifies zone z on the selected secondaries: all SOAs polled together until each shows
 * our serial (or the deadline), then each matched one's bytes, one secondary at a time. */
static size_t
zone_pass(spoke_verifier *v, vzone *z, const bool *sel)
{
	size_t ns = v->o.nsecondaries, checked = 0;
	prow *p = calloc(ns ? ns : 1, sizeof(*p));
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < ns; i++) {
		p[i].r = &z->rows[i];
		p[i].s = &v->o.secondaries[i];
		p[i].phase = sel[i] ? P_POLL : P_DONE;
		checked += sel[i];
	}
	uint64_t deadline = v->ops.now_ms(v->ctx) + v->o.deadline_ms;
	unsigned wait = POLL_FIRST_MS;
	for (;;) {
		spoke_version *ver = spoke_zoneset_get(v->zs, z->origin);
		if (ver == NULL) {
			/* no longer served: forget it */
			pthread_mutex_lock(&v->mu);
			zone_drop_locked(v, z);
			pthread_mutex_unlock(&v->mu);
			free(p);
			return checked;
		}
		uint32_t target = ver->serial;
		spoke_version_rele(ver);
		size_t polling = 0;
		for (size_t i = 0; i < ns; i++) {
			if (p[i].phase != P_POLL || stopping(v))
				continue;
			uint32_t got = 0;
			fedns_diag d;
			fedns_diag_clear(&d);
			fedns_err e = v->ops.soa(v->ctx, p[i].s, z->origin, &got, &d);
			if (e == FEDNS_OK) {
				pthread_mutex_lock(&v->mu);
				bool news =
					!p[i].r->pub.have_seen || p[i].r->pub.serial_seen != got;
				p[i].r->pub.have_seen = true;
				p[i].r->pub.serial_seen = got;
				pthread_mutex_unlock(&v->mu);
				if (news)
					table_changed(v);
			}
			if (e == FEDNS_OK && got == target) {
				p[i].phase = P_MATCHED;
				p[i].matched_at = v->ops.now_ms(v->ctx);
				p[i].matched_serial = target;
				continue;
			}
			if (e == FEDNS_OK)
				snprintf(p[i].err, sizeof(p[i].err), "serves serial %u, not %u",
					 got, target);
			else
				snprintf(p[i].err, sizeof(p[i].err), "SOA: %.240s",
					 d.msg[0] ? d.msg : fedns_strerror(e));
			if (e == FEDNS_EIO) {
				/* no answer at all: nothing to wait for */
				settle(v, z, p[i].r, SPOKE_VERIFY_UNREACHABLE, target, p[i].err);
				p[i].phase = P_DONE;
				continue;
			}
			polling++;
		}
		if (polling == 0)
			break;
		uint64_t now = v->ops.now_ms(v->ctx);
		if (now >= deadline) {
			for (size_t i = 0; i < ns; i++) {
				if (p[i].phase != P_POLL)
					continue;
				settle(v, z, p[i].r, SPOKE_VERIFY_LAGGING, target, p[i].err);
				p[i].phase = P_DONE;
			}
			break;
		}
		if (stopping(v))
			break;
		unsigned left = (unsigned)(deadline - now);
		v->ops.sleep_ms(v->ctx, wait < left ? wait : left);
		wait = wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
	}
	for (size_t i = 0; i < ns; i++) {
		if (p[i].phase != P_MATCHED)
			continue;
		if (stopping(v))
			break;
		uint32_t serial = p[i].matched_serial;
		char err[512];
		bytes_result br = check_bytes(v, z, p[i].r, p[i].s, &serial, err, sizeof(err));
		switch (br) {
		case BYTES_MATCH:
			confirmed(v, z, p[i].r, serial, p[i].matched_at);
			break;
		case BYTES_DIFFER:
			diverged(v, z, p[i].r, p[i].s, serial, err);
			break;
		case BYTES_UNAVAILABLE:
			settle(v, z, p[i].r, SPOKE_VERIFY_UNREACHABLE, serial, err);
			break;
		case BYTES_MOVED:
			/* the spoke moved on meanwhile; the pass for the new serial follows */
			settle(v, z, p[i].r, SPOKE_VERIFY_LAGGING, serial, err);
			break;
		}
	}
	free(p);
	return checked;
}

size_t
spoke_verifier_run_due(spoke_verifier *v, uint64_t *next_ms)
{
	uint64_t now = v->ops.now_ms(v->ctx);
	size_t checked = 0;
	pthread_mutex_lock(&v->mu);
	v->kicked = false;
	bool full = v->full_due || now >= v->next_full;
	if (full) {
		v->full_due = false;
		v->next_full = now + (uint64_t)v->o.interval_s * 1000u;
	}
	pthread_mutex_unlock(&v->mu);
	if (full) {
		/* every served zone, including any the verifier has not heard of */
		uint8_t **list = NULL;
		size_t nz = spoke_zoneset_list(v->zs, &list);
		for (size_t i = 0; i < nz; i++) {
			if (skipped(v, list[i]))
				continue;
			spoke_version *ver = spoke_zoneset_get(v->zs, list[i]);
			if (ver == NULL)
				continue;
			pthread_mutex_lock(&v->mu);
			vzone *z = zone_get_locked(v, list[i], ver->serial, now);
			if (z != NULL) {
				z->pending = true;
				z->due = now;
			}
			pthread_mutex_unlock(&v->mu);
			spoke_version_rele(ver);
		}
		spoke_zoneset_list_free(list, nz);
	}
	size_t ns = v->o.nsecondaries;
	bool *sel = calloc(ns ? ns : 1, sizeof(*sel));
	if (sel == NULL)
		goto next;
	/* one zone at a time; the table may change between passes, so look again each time */
	for (;;) {
		vzone *z = NULL;
		pthread_mutex_lock(&v->mu);
		for (size_t i = 0; i < v->n && z == NULL && !v->stop; i++) {
			vzone *c = v->z[i];
			bool any = false;
			for (size_t k = 0; k < ns; k++) {
				bool due = (c->pending && c->due <= now) ||
					   (c->rows[k].next_check != 0 &&
					    c->rows[k].next_check <= now);
				sel[k] = due;
				any |= due;
			}
			if (any) {
				z = c;
				c->pending = c->pending && c->due > now;
				for (size_t k = 0; k < ns; k++)
					if (sel[k])
						c->rows[k].next_check = 0;
			}
		}
		pthread_mutex_unlock(&v->mu);
		if (z == NULL)
			break;
		checked += zone_pass(v, z, sel);
	}
	free(sel);
next:
	if (next_ms != NULL) {
		pthread_mutex_lock(&v->mu);
		uint64_t nx = v->next_full;
		for (size_t i = 0; i < v->n; i++) {
			vzone *z = v->z[i];
			if (z->pending && z->due < nx)
				nx = z->due;
			for (size_t k = 0; k < ns; k++)
				if (z->rows[k].next_check != 0 && z->rows[k].next_check < nx)
					nx = z->rows[k].next_check;
		}
		if (v->full_due || v->kicked)
			nx = 0;
		pthread_mutex_unlock(&v->mu);
		*next_ms = nx;
	}
	return checked;
}

static void *
verifier_main(void *arg)
{
	spoke_verifier *v = arg;
	pthread_mutex_lock(&v->mu);
	while (!v->stop) {
		pthread_mutex_unlock(&v->mu);
		uint64_t next = 0;
		spoke_verifier_run_due(v, &next);
		pthread_mutex_lock(&v->mu);
		if (v->stop || v->kicked)
			continue;
		uint64_t now = mono_ms();
		if (next <= now)
			continue;
		struct timespec ts = {.tv_sec = (time_t)(next / 1000),
				      .tv_nsec = (long)(next % 1000) * 1000000L};
		pthread_cond_timedwait(&v->cv, &v->mu, &ts);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

fedns_err
spoke_verifier_start(spoke_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	if (v->running) {
		pthread_mutex_unlock(&v->mu);
		return FEDNS_EEXIST;
	}
	int r = pthread_create(&v->th, NULL, verifier_main, v);
	v->running = r == 0;
	pthread_mutex_unlock(&v->mu);
	return r == 0 ? FEDNS_OK : -r;
}

/* ---- status ---- */

static int
zone_cmp(const void *a, const void *b)
{
	const vzone *const *x = a, *const *y = b;
	return fedns_name_cmp_canonical((*x)->origin, (*y)->origin);
}

size_t
spoke_verifier_status(spoke_verifier *v, spoke_verify_row **out)
{
	*out = NULL;
	pthread_mutex_lock(&v->mu);
	size_t ns = v->o.nsecondaries, nz = v->n, n = nz * ns;
	spoke_verify_row *rows = malloc((n ? n : 1) * sizeof(*rows));
	vzone **order = malloc((nz ? nz : 1) * sizeof(*order));
	if (rows == NULL || order == NULL) {
		pthread_mutex_unlock(&v->mu);
		free(rows);
		free(order);
		return 0;
	}
	/* zones sorted, secondaries in configuration order within a zone */
	if (nz > 0)
		memcpy(order, v->z, nz * sizeof(*order));
	qsort(order, nz, sizeof(*order), zone_cmp);
	for (size_t i = 0; i < nz; i++)
		for (size_t k = 0; k < ns; k++)
			rows[i * ns + k] = order[i]->rows[k].pub;
	pthread_mutex_unlock(&v->mu);
	free(order);
	*out = rows;
	return n;
}

void
spoke_verify_row_format(const spoke_verify_row *r, fedns_buf *b)
{
	char zt[FEDNS_NAME_MAXTEXT];
	fedns_name_to_text(r->zone, zt, sizeof(zt));
	fedns_buf_printf(b, "%s %s %s serial=%u", zt, r->secondary,
			 spoke_verify_state_name(r->state), r->serial);
	if (r->have_seen)
		fedns_buf_printf(b, " seen=%u", r->serial_seen);
	else
		fedns_buf_puts(b, " seen=-");
	if (r->lag_ms >= 0)
		fedns_buf_printf(b, " lag_ms=%lld", (long long)r->lag_ms);
	else
		fedns_buf_puts(b, " lag_ms=-");
	char ts[32] = "never";
	if (r->last_ok > 0) {
		time_t t = (time_t)r->last_ok;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	fedns_buf_printf(b, " last_ok=%s repairs=%u/%u", ts, r->repairs, r->repairs_ok);
	if (r->have_digest) {
		char hex[SPOKE_DIGEST_LEN * 2 + 1];
		fedns_hex_encode(r->digest_seen, SPOKE_DIGEST_LEN, hex, 0);
		fedns_buf_printf(b, " digest=%s", hex);
	} else {
		fedns_buf_puts(b, " digest=-");
	}
	/* the error text is the last field and never holds a quote (rndc text is scrubbed) */
	char e[sizeof(r->last_error)];
	size_t i = 0;
	for (; r->last_error[i] != '\0' && i < sizeof(e) - 1; i++) {
		char c = r->last_error[i];
		e[i] = (c == '"' || c == '\n' || c == '\r') ? '\'' : c;
	}
	e[i] = '\0';
	fedns_buf_printf(b, " error=\"%s\"\n", e);
}
