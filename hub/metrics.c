/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's /metrics text: one read transaction collects what the store knows, then the
 * families are written with common/prom; the fan-out's counters come from its own stats. */
#include "hub/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/prom.h"
#include "proto/msg.h"
#include "tls/pki.h"

/* Cell and zone states in rank order (fed-brief.md); "pending" is never a secondary's own
 * state, only a cell's. */
static const char *const states[] = {"in_sync", "unknown",  "pending",
				     "lagging", "diverged", "unreachable"};
#define NSTATES (sizeof(states) / sizeof(states[0]))
#define RANK_UNKNOWN 1
#define RANK_PENDING 2
/* A secondary's own states, as its spoke reports them. */
static const char *const sec_states[] = {"in_sync", "lagging", "diverged", "unreachable",
					 "unknown"};
#define NSEC_STATES (sizeof(sec_states) / sizeof(sec_states[0]))

/* HUB_FANOUT_LAT_BUCKETS' finite bounds in seconds (the last bucket is +Inf). */
static const double lat_le[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5};
_Static_assert(sizeof(lat_le) / sizeof(lat_le[0]) + 1 == HUB_FANOUT_LAT_BUCKETS,
	       "latency bounds must match hub/fanout.h");

struct hub_metrics {
	pthread_mutex_t mtx; /* one scrape at a time reads the store */
	char *store_path;
	hub_fanout *fanout;
	int64_t cert_not_after; /* unix seconds; 0 unknown */
};

int
hub_metrics_state_rank(const char *state)
{
	for (size_t i = 0; state != NULL && i < NSTATES; i++) {
		if (strcmp(state, states[i]) == 0) {
			return (int)i;
		}
	}
	return RANK_UNKNOWN;
}

const char *
hub_metrics_cell_state(uint32_t hub_serial, const hub_spoke_zone *sz, const hub_secondary *secs,
		       size_t nsecs)
{
	int worst = 0;

	if (sz == NULL || sz->serial != hub_serial) {
		worst = RANK_PENDING;
	}
	for (size_t i = 0; i < nsecs; i++) {
		int r = hub_metrics_state_rank(secs[i].state);
		if (r == 0 && (!secs[i].has_serial || secs[i].serial != hub_serial)) {
			/* in sync with an older version: the new one has not reached it */
			r = RANK_PENDING;
		}
		if (r > worst) {
			worst = r;
		}
	}
	if (nsecs == 0 && worst == 0) {
		worst = RANK_UNKNOWN; /* the spoke holds it, but no secondary proved it */
	}
	return states[worst];
}

fedns_err
hub_metrics_new(const char *store_path, hub_fanout *fanout, const char *cert_file,
		hub_metrics **out, fedns_diag *d)
{
	hub_store_opts so = {.path = store_path, .create = false};
	hub_metrics *m;
	fedns_err err;

	if (out != NULL) {
		*out = NULL;
	}
	if (store_path == NULL || out == NULL) {
		return fedns_diag_set(d, FEDNS_EINVAL, "metrics: no store path");
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->store_path = strdup(store_path)) == NULL) {
		free(m);
		return fedns_diag_set(d, FEDNS_ENOMEM, "metrics: out of memory");
	}
	/* fail at start when the store is not there; scrapes open their own handle, so a
	 * store restored from a backup or a broken file shows in the next scrape */
	hub_store *st = NULL;
	if ((err = hub_store_open(&so, &st, d)) != FEDNS_OK) {
		free(m->store_path);
		free(m);
		return err;
	}
	hub_store_close(st);
	pthread_mutex_init(&m->mtx, NULL);
	m->fanout = fanout;
	if (cert_file != NULL &&
	    (err = fedns_pki_cert_not_after_file(cert_file, &m->cert_not_after)) != FEDNS_OK) {
		/* the hub runs without the metric rather than refusing to start over it */
		fedns_log(FEDNS_LOG_WARN, "metrics.cert.unreadable",
			  FEDNS_LF_STR("file", cert_file),
			  FEDNS_LF_STR("error", fedns_strerror(err)));
		m->cert_not_after = 0;
	}
	*out = m;
	return FEDNS_OK;
}

void
hub_metrics_free(hub_metrics *m)
{
	if (m == NULL) {
		return;
	}
	pthread_mutex_destroy(&m->mtx);
	free(m->store_path);
	free(m);
}

/* ---- what one scrape reads from the store ---- */

typedef struct cluster_view {
	hub_cluster c;
	uint64_t cells[NSTATES];
	uint64_t secs[NSEC_STATES];
} cluster_view;

typedef struct snapshot {
	hub_zone *zones; /* live zones, by name */
	size_t nzones;
	int *zone_worst; /* per zone: worst cell rank, -1 when placed nowhere */
	cluster_view *clusters;
	size_t nclusters;
	hub_spoke_zone *sz; /* sorted by (zone_id, cluster) */
	size_t nsz;
	hub_secondary *secs; /* sorted by (zone_id, cluster) */
	size_t nsecs;
	size_t pending_changes;
	int64_t audit_len;
} snapshot;

static void
snapshot_fini(snapshot *s)
{
	free(s->zones);
	free(s->zone_worst);
	free(s->clusters);
	free(s->sz);
	free(s->secs);
	memset(s, 0, sizeof(*s));
}

static int
cmp_key(int64_t za, const char *ca, int64_t zb, const char *cb)
{
	if (za != zb) {
		return za < zb ? -1 : 1;
	}
	return strcmp(ca, cb);
}

static int
cmp_sz(const void *a, const void *b)
{
	const hub_spoke_zone *x = a, *y = b;
	return cmp_key(x->zone_id, x->cluster, y->zone_id, y->cluster);
}

static int
cmp_sec(const void *a, const void *b)
{
	const hub_secondary *x = a, *y = b;
	return cmp_key(x->zone_id, x->cluster, y->zone_id, y->cluster);
}

/* A live zone's id and its slot in snapshot.zones (which is by name). */
typedef struct zone_ref {
	int64_t id;
	size_t idx;
} zone_ref;

static int
cmp_zone_ref(const void *a, const void *b)
{
	const zone_ref *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const hub_spoke_zone *
find_sz(const snapshot *s, int64_t zone_id, const char *cluster)
{
	size_t lo = 0, hi = s->nsz;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(s->sz[mid].zone_id, s->sz[mid].cluster, zone_id, cluster);
		if (c == 0) {
			return &s->sz[mid];
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

/* The run of secondaries of (zone, cluster) in the sorted array. */
static const hub_secondary *
find_secs(const snapshot *s, int64_t zone_id, const char *cluster, size_t *n)
{
	size_t lo = 0, hi = s->nsecs, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(s->secs[mid].zone_id, s->secs[mid].cluster, zone_id, cluster) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	for (end = lo; end < s->nsecs &&
		       cmp_key(s->secs[end].zone_id, s->secs[end].cluster, zone_id, cluster) == 0;
	     end++) {
	}
	*n = end - lo;
	return *n > 0 ? &s->secs[lo] : NULL;
}

/* Counts cells and secondaries per cluster and each zone's worst cell. */
static fedns_err
tally(hub_store *st, snapshot *s)
{
	zone_ref *byid = NULL;
	fedns_err err = FEDNS_OK;

	if (s->nzones > 0) {
		if ((byid = malloc(s->nzones * sizeof(*byid))) == NULL ||
		    (s->zone_worst = malloc(s->nzones * sizeof(*s->zone_worst))) == NULL) {
			free(byid);
			return FEDNS_ENOMEM;
		}
		for (size_t i = 0; i < s->nzones; i++) {
			byid[i].id = s->zones[i].id;
			byid[i].idx = i;
			s->zone_worst[i] = -1;
		}
		qsort(byid, s->nzones, sizeof(*byid), cmp_zone_ref);
	}
	if (s->nsz > 1) {
		qsort(s->sz, s->nsz, sizeof(*s->sz), cmp_sz);
	}
	if (s->nsecs > 1) {
		qsort(s->secs, s->nsecs, sizeof(*s->secs), cmp_sec);
	}
	for (size_t ci = 0; ci < s->nclusters && err == FEDNS_OK; ci++) {
		cluster_view *cv = &s->clusters[ci];
		hub_zone *placed = NULL;
		size_t nplaced = 0;

		if ((err = hub_cluster_zones(st, cv->c.name, &placed, &nplaced)) != FEDNS_OK) {
			break;
		}
		for (size_t i = 0; i < nplaced; i++) {
			zone_ref key = {.id = placed[i].id}, *ref;
			const hub_zone *z;
			const hub_secondary *sec;
			size_t nsec;
			int r;

			ref = s->nzones > 0
				      ? bsearch(&key, byid, s->nzones, sizeof(*byid), cmp_zone_ref)
				      : NULL;
			if (ref == NULL) {
				continue; /* not live in this scrape's read */
			}
			z = &s->zones[ref->idx];
			sec = find_secs(s, z->id, cv->c.name, &nsec);
			r = hub_metrics_state_rank(hub_metrics_cell_state(
				z->serial, find_sz(s, z->id, cv->c.name), sec, nsec));
			cv->cells[r]++;
			if (s->zone_worst[ref->idx] < r) {
				s->zone_worst[ref->idx] = r;
			}
			for (size_t k = 0; k < nsec; k++) {
				size_t j = 0;
				while (j + 1 < NSEC_STATES &&
				       strcmp(sec[k].state, sec_states[j]) != 0) {
					j++;
				}
				cv->secs[j]++; /* an unexpected state counts as unknown (last) */
			}
		}
		free(placed);
	}
	free(byid);
	return err;
}

static fedns_err
collect(hub_metrics *m, snapshot *s, fedns_diag *d)
{
	hub_store_opts so = {.path = m->store_path, .create = false};
	hub_store *st = NULL;
	hub_change *changes = NULL;
	hub_cluster *cl = NULL;
	size_t nchanges = 0, ncl = 0;
	hub_audit head;
	fedns_err err;

	memset(s, 0, sizeof(*s));
	if ((err = hub_store_open(&so, &st, d)) != FEDNS_OK) {
		goto out;
	}
	if ((err = hub_store_begin(st, false)) != FEDNS_OK) {
		fedns_diag_set(d, err, "%s", hub_store_errmsg(st));
		goto out;
	}
	if ((err = hub_zone_list(st, HUB_TENANT_ALL, "", 0, &s->zones, &s->nzones)) != 0 ||
	    (err = hub_cluster_list(st, &cl, &ncl)) != 0 ||
	    (err = hub_spoke_zone_list(st, NULL, 0, &s->sz, &s->nsz)) != 0 ||
	    (err = hub_secondary_list(st, NULL, 0, NULL, &s->secs, &s->nsecs)) != 0 ||
	    (err = hub_change_list(st, 0, HUB_CHANGE_PROPOSED, 0, 0, &changes, &nchanges)) != 0 ||
	    (err = hub_audit_head(st, &head)) != 0) {
		fedns_diag_set(d, err, "%s", hub_store_errmsg(st));
		hub_store_rollback(st);
		goto out;
	}
	s->pending_changes = nchanges;
	s->audit_len = head.seq;
	if (ncl > 0 && (s->clusters = calloc(ncl, sizeof(*s->clusters))) == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "metrics: out of memory");
		hub_store_rollback(st);
		goto out;
	}
	for (size_t i = 0; i < ncl; i++) {
		s->clusters[i].c = cl[i];
	}
	s->nclusters = ncl;
	if ((err = tally(st, s)) != FEDNS_OK) {
		fedns_diag_set(d, err, "%s", hub_store_errmsg(st));
	}
	hub_store_rollback(st);
out:
	for (size_t i = 0; i < nchanges; i++) {
		hub_change_fini(&changes[i]);
	}
	free(changes);
	free(cl);
	hub_store_close(st);
	if (err != FEDNS_OK) {
		fedns_log(FEDNS_LOG_WARN, "metrics.store.failed", FEDNS_LF_STR("error", d->msg));
		snapshot_fini(s);
	}
	return err;
}

static void
write_store(fedns_buf *out, const snapshot *s)
{
	uint64_t zones[NSTATES + 1] = {0}; /* the last: placed on no cluster */

	for (size_t i = 0; i < s->nzones; i++) {
		zones[s->zone_worst[i] < 0 ? NSTATES : (size_t)s->zone_worst[i]]++;
	}
	fedns_prom_family(out, "fedns_hub_zones", FEDNS_PROM_GAUGE,
			  "Live zones by the worst state of their cells across clusters "
			  "(unplaced: placed on no cluster).");
	for (size_t i = 0; i <= NSTATES; i++) {
		fedns_prom_label l = {"state", i < NSTATES ? states[i] : "unplaced"};
		fedns_prom_sample_u64(out, "fedns_hub_zones", &l, 1, zones[i]);
	}
	fedns_prom_family(out, "fedns_hub_zone_cells", FEDNS_PROM_GAUGE,
			  "(zone, cluster) cells of the status matrix by state.");
	for (size_t c = 0; c < s->nclusters; c++) {
		for (size_t i = 0; i < NSTATES; i++) {
			fedns_prom_label l[] = {{"cluster", s->clusters[c].c.name},
						{"state", states[i]}};
			fedns_prom_sample_u64(out, "fedns_hub_zone_cells", l, 2,
					      s->clusters[c].cells[i]);
		}
	}
	fedns_prom_family(out, "fedns_hub_secondaries", FEDNS_PROM_GAUGE,
			  "Secondaries (one per zone served) by the state their spoke reported.");
	for (size_t c = 0; c < s->nclusters; c++) {
		for (size_t i = 0; i < NSEC_STATES; i++) {
			fedns_prom_label l[] = {{"cluster", s->clusters[c].c.name},
						{"state", sec_states[i]}};
			fedns_prom_sample_u64(out, "fedns_hub_secondaries", l, 2,
					      s->clusters[c].secs[i]);
		}
	}
	fedns_prom_family(out, "fedns_hub_pending_changes", FEDNS_PROM_GAUGE,
			  "Change sets proposed and waiting for approval.");
	fedns_prom_sample_u64(out, "fedns_hub_pending_changes", NULL, 0, s->pending_changes);
	fedns_prom_family(out, "fedns_hub_audit_chain_length", FEDNS_PROM_GAUGE,
			  "Records in the audit chain (the sequence number of its head).");
	fedns_prom_sample(out, "fedns_hub_audit_chain_length", NULL, 0, (double)s->audit_len);

	fedns_prom_family(out, "fedns_hub_cluster_connected", FEDNS_PROM_GAUGE,
			  "1 while the cluster's spoke has a session with the hub.");
	for (size_t c = 0; c < s->nclusters; c++) {
		fedns_prom_label l = {"cluster", s->clusters[c].c.name};
		fedns_prom_sample(out, "fedns_hub_cluster_connected", &l, 1,
				  s->clusters[c].c.connected ? 1 : 0);
	}
	fedns_prom_family(out, "fedns_hub_cluster_last_seen_timestamp_seconds", FEDNS_PROM_GAUGE,
			  "When the cluster's spoke was last heard from (unix seconds).");
	for (size_t c = 0; c < s->nclusters; c++) {
		fedns_prom_label l = {"cluster", s->clusters[c].c.name};
		if (s->clusters[c].c.last_seen > 0) {
			fedns_prom_sample(out, "fedns_hub_cluster_last_seen_timestamp_seconds", &l,
					  1, (double)s->clusters[c].c.last_seen / 1000.0);
		}
	}
	fedns_prom_family(out, "fedns_hub_cluster_cert_expiry_timestamp_seconds", FEDNS_PROM_GAUGE,
			  "Expiry of the certificate the cluster's spoke last authenticated "
			  "with (unix seconds).");
	for (size_t c = 0; c < s->nclusters; c++) {
		fedns_prom_label l = {"cluster", s->clusters[c].c.name};
		if (s->clusters[c].c.cert_not_after > 0) {
			fedns_prom_sample(out, "fedns_hub_cluster_cert_expiry_timestamp_seconds",
					  &l, 1, (double)s->clusters[c].c.cert_not_after);
		}
	}
}

void
hub_metrics_write_fanout(fedns_buf *out, const hub_fanout_cluster_stats *st, size_t n,
			 size_t sessions, uint64_t auth_failures, bool listening)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{"fedns_hub_changesets_sent_total", "Signed change sets sent to the cluster.",
		 offsetof(hub_fanout_cluster_stats, sent_changesets)},
		{"fedns_hub_snapshots_sent_total", "Signed zone snapshots sent to the cluster.",
		 offsetof(hub_fanout_cluster_stats, sent_snapshots)},
		{"fedns_hub_changesets_applied_total",
		 "Change sets and snapshots the cluster's spoke acknowledged as applied.",
		 offsetof(hub_fanout_cluster_stats, applied)},
		{"fedns_hub_changesets_already_applied_total",
		 "Change sets the cluster's spoke already held (retransmissions).",
		 offsetof(hub_fanout_cluster_stats, already_applied)},
	};
	char(*names)[sizeof(st->cluster)] = NULL;

	fedns_prom_family(out, "fedns_hub_spoke_listener_up", FEDNS_PROM_GAUGE,
			  "1 while the spoke listener is bound.");
	fedns_prom_sample(out, "fedns_hub_spoke_listener_up", NULL, 0, listening ? 1 : 0);
	fedns_prom_family(out, "fedns_hub_spoke_sessions", FEDNS_PROM_GAUGE,
			  "Authenticated spoke sessions now.");
	fedns_prom_sample_u64(out, "fedns_hub_spoke_sessions", NULL, 0, sessions);
	fedns_prom_family(out, "fedns_hub_spoke_auth_failures_total", FEDNS_PROM_COUNTER,
			  "Spoke connections refused by the hub's challenge.");
	fedns_prom_sample_u64(out, "fedns_hub_spoke_auth_failures_total", NULL, 0, auth_failures);
	if (n == 0 || st == NULL) {
		n = 0;
	} else if ((names = calloc(n, sizeof(*names))) == NULL) {
		out->err = out->err != FEDNS_OK ? out->err : FEDNS_ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		/* the stats' name is a fixed array: never trust it to be terminated */
		memcpy(names[i], st[i].cluster, sizeof(names[i]) - 1);
	}
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		fedns_prom_family(out, counters[k].name, FEDNS_PROM_COUNTER, counters[k].help);
		for (size_t i = 0; i < n; i++) {
			fedns_prom_label l = {"cluster", names[i]};
			uint64_t v;
			memcpy(&v, (const char *)&st[i] + counters[k].off, sizeof(v));
			fedns_prom_sample_u64(out, counters[k].name, &l, 1, v);
		}
	}
	fedns_prom_family(out, "fedns_hub_changesets_refused_total", FEDNS_PROM_COUNTER,
			  "Change sets and snapshots the cluster's spoke refused, by reason.");
	for (size_t i = 0; i < n; i++) {
		for (size_t r = 1; r < sizeof(st->refused) / sizeof(st->refused[0]); r++) {
			fedns_prom_label l[] = {
				{"cluster", names[i]},
				{"reason", fedns_proto_reason_name((fedns_proto_reason)r)}};
			fedns_prom_sample_u64(out, "fedns_hub_changesets_refused_total", l, 2,
					      st[i].refused[r]);
		}
	}
	fedns_prom_family(out, "fedns_hub_propagation_seconds", FEDNS_PROM_HISTOGRAM,
			  "Commit at the hub to every secondary of the cluster in sync at that "
			  "serial.");
	for (size_t i = 0; i < n; i++) {
		fedns_prom_label l = {"cluster", names[i]};
		fedns_prom_histogram(out, "fedns_hub_propagation_seconds", &l, 1, lat_le,
				     sizeof(lat_le) / sizeof(lat_le[0]), st[i].lat_bucket,
				     st[i].lat_sum_s);
	}
	free(names);
}

fedns_err
hub_metrics_write(hub_metrics *m, fedns_buf *out)
{
	snapshot s;
	fedns_diag d;
	fedns_err err;

	fedns_diag_clear(&d);
	/* one scrape at a time: concurrent scrapes would only multiply the store's work */
	pthread_mutex_lock(&m->mtx);
	err = collect(m, &s, &d);
	pthread_mutex_unlock(&m->mtx);

	fedns_prom_family(out, "fedns_hub_store_up", FEDNS_PROM_GAUGE,
			  "1 when this scrape could read the hub's store.");
	fedns_prom_sample(out, "fedns_hub_store_up", NULL, 0, err == FEDNS_OK ? 1 : 0);
	if (m->cert_not_after > 0) {
		fedns_prom_family(out, "fedns_hub_cert_expiry_timestamp_seconds", FEDNS_PROM_GAUGE,
				  "Expiry of the hub's HTTPS certificate (unix seconds).");
		fedns_prom_sample(out, "fedns_hub_cert_expiry_timestamp_seconds", NULL, 0,
				  (double)m->cert_not_after);
	}
	if (err == FEDNS_OK) {
		write_store(out, &s);
		snapshot_fini(&s);
	}
	if (m->fanout != NULL) {
		hub_fanout_cluster_stats *st = NULL;
		size_t n = hub_fanout_stats(m->fanout, &st);
		hub_metrics_write_fanout(out, st, n, hub_fanout_sessions(m->fanout),
					 hub_fanout_auth_failures(m->fanout),
					 hub_fanout_listening(m->fanout));
		free(st);
	}
	return out->err;
}
