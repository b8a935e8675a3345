/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's /metrics text from a seeded store: cell states (the worst-of order and
 * "pending"), zones, secondaries, pending changes, audit length, cluster gauges; the
 * fan-out families from given stats (cumulative histogram, reasons); a broken store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <time.h>
#include <unistd.h>

#include "hub/metrics.h"
#include "tls/pki.h"

static char dir[256];
static char dbpath[300];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_hub_metrics.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char p[400];
	const char *files[] = {"hub.db",
			       "hub.db-wal",
			       "hub.db-shm",
			       "metrics.txt",
			       "pki/ca.pem",
			       "pki/ca.key",
			       "pki/hub.pem",
			       "pki/hub.key",
			       "pki/spoke-east.pem",
			       "pki/spoke-east.key",
			       "pki/hub-signing.key",
			       "pki/hub-signing.pub",
			       "pki/README"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/pki", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static int64_t
add_zone(hub_store *s, int64_t tenant, const char *name, uint32_t serial)
{
	char text[300];
	int64_t id = 0;

	snprintf(text, sizeof text,
		 "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %u 3600 600 86400 300\n@ NS ns1\n"
		 "ns1 A 192.0.2.53\n",
		 name, serial);
	if (hub_zone_create(s, tenant, name, 1, serial, "d1", text, &id) != FEDNS_OK) {
		fail_msg("zone create: %s", hub_store_errmsg(s));
	}
	return id;
}

static void
place(hub_store *s, int64_t zone, const char *c1, const char *c2)
{
	const char *cl[] = {c1, c2};
	assert_int_equal(hub_zone_set_placement(s, zone, cl, c2 != NULL ? 2 : 1), FEDNS_OK);
}

static void
ack(hub_store *s, const char *cluster, int64_t zone, uint32_t serial)
{
	hub_spoke_zone sz = {.zone_id = zone, .serial = serial, .acked_at = 100, .applied_ms = 5};
	snprintf(sz.cluster, sizeof sz.cluster, "%s", cluster);
	snprintf(sz.last_status, sizeof sz.last_status, "applied");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
}

static void
secondary(hub_store *s, const char *cluster, int64_t zone, const char *name, const char *state,
	  uint32_t serial)
{
	hub_secondary r = {.zone_id = zone,
			   .has_serial = serial != 0,
			   .serial = serial,
			   .lag_ms = -1,
			   .updated_at = 1000,
			   .confirmed_ms = -1};
	snprintf(r.cluster, sizeof r.cluster, "%s", cluster);
	snprintf(r.secondary, sizeof r.secondary, "%s", name);
	snprintf(r.address, sizeof r.address, "127.0.0.1:53");
	snprintf(r.state, sizeof r.state, "%s", state);
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
}

/* a: serial 10 on east (spoke current, one secondary lagging) and west (never acked, a
 * secondary unreachable); b: serial 5 on east, the spoke at 4; c: placed nowhere; d:
 * deleted (counts nowhere). One proposed change, three audit records. */
static void
seed(void)
{
	hub_store_opts o = {.path = dbpath, .create = true};
	hub_store *s = NULL;
	int64_t t, alice, za, zb, zd;

	assert_int_equal(hub_store_open(&o, &s, NULL), FEDNS_OK);
	assert_int_equal(hub_tenant_create(s, "bank", &t), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "alice", "person", &alice), FEDNS_OK);
	za = add_zone(s, t, "a.example.", 10);
	zb = add_zone(s, t, "b.example.", 5);
	(void)add_zone(s, t, "c.example.", 1);
	zd = add_zone(s, t, "d.example.", 1);
	place(s, za, "east", "west");
	place(s, zb, "east", NULL);
	place(s, zd, "east", NULL);
	assert_int_equal(hub_zone_mark_deleted(s, zd), FEDNS_OK);
	assert_int_equal(hub_cluster_connected(s, "east", "fedns-spoke 0.1", "127.0.0.1:4000",
					       1900000000, 1700000000500),
			 FEDNS_OK);
	ack(s, "east", za, 10);
	ack(s, "east", zb, 4);
	secondary(s, "east", za, "ns1", "in_sync", 10);
	secondary(s, "east", za, "ns2", "lagging", 9);
	secondary(s, "east", zb, "ns1", "in_sync", 4);
	secondary(s, "west", za, "ns1", "unreachable", 0);

	hub_change c = {.zone_id = zb, .author_id = alice, .base_serial = 5};
	snprintf(c.reason, sizeof c.reason, "add www");
	c.diff = "+www.b.example.\t300\tIN\tA\t192.0.2.80\n";
	assert_int_equal(hub_change_create(s, &c, NULL), FEDNS_OK);
	for (int i = 0; i < 3; i++) {
		hub_audit a = {0};
		snprintf(a.principal, sizeof a.principal, "alice");
		snprintf(a.action, sizeof a.action, "zone.create");
		snprintf(a.target, sizeof a.target, "zone:x");
		snprintf(a.outcome, sizeof a.outcome, "ok");
		assert_int_equal(hub_audit_append(s, &a), FEDNS_OK);
	}
	hub_store_close(s);
}

static void
assert_line(const char *text, const char *line)
{
	char want[512];
	snprintf(want, sizeof want, "\n%s\n", line);
	if (strstr(text, want) == NULL) {
		fail_msg("missing line: %s\n--- in ---\n%s", line, text);
	}
}

/* The text must also pass the strict exposition checker the integration tests use (and
 * prometheus_client's parser, when installed). */
static void
assert_parses(const fedns_buf *b)
{
	char path[400], cmd[1200];
	FILE *f;

	if (access("/usr/bin/python3", X_OK) != 0) {
		return;
	}
	snprintf(path, sizeof path, "%s/metrics.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	fclose(f);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/integration/prom_check.py %s >/dev/null",
		 FEDNS_TEST_DATA, path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

static void
test_cell_state(void **state)
{
	(void)state;
	hub_spoke_zone sz = {.serial = 7, .acked_at = 1};
	hub_secondary s[3] = {0};

	/* the spoke holds the hub's serial, but no secondary proved it yet */
	assert_string_equal(hub_metrics_cell_state(7, &sz, NULL, 0), "unknown");
	/* never acked, or behind */
	assert_string_equal(hub_metrics_cell_state(7, NULL, NULL, 0), "pending");
	sz.serial = 6;
	assert_string_equal(hub_metrics_cell_state(7, &sz, NULL, 0), "pending");
	sz.serial = 7;

	snprintf(s[0].state, sizeof s[0].state, "in_sync");
	s[0].has_serial = true;
	s[0].serial = 7;
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 1), "in_sync");
	/* in sync at an older serial: the new version has not reached it */
	s[0].serial = 6;
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 1), "pending");
	s[0].has_serial = false;
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 1), "pending");
	s[0].has_serial = true;
	s[0].serial = 7;
	snprintf(s[1].state, sizeof s[1].state, "unknown");
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 2), "unknown");
	/* pending outranks unknown */
	assert_string_equal(hub_metrics_cell_state(7, NULL, s, 2), "pending");
	snprintf(s[2].state, sizeof s[2].state, "lagging");
	assert_string_equal(hub_metrics_cell_state(7, NULL, s, 3), "lagging");
	snprintf(s[1].state, sizeof s[1].state, "unreachable");
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 3), "unreachable");
	snprintf(s[1].state, sizeof s[1].state, "diverged");
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 3), "diverged");
	/* a state the hub does not know counts as unknown, not as in sync */
	snprintf(s[0].state, sizeof s[0].state, "bogus");
	assert_string_equal(hub_metrics_cell_state(7, &sz, s, 1), "unknown");

	assert_int_equal(hub_metrics_state_rank("in_sync"), 0);
	assert_int_equal(hub_metrics_state_rank("unreachable"), 5);
	assert_int_equal(hub_metrics_state_rank(NULL), hub_metrics_state_rank("unknown"));
}

static void
test_store_families(void **state)
{
	(void)state;
	hub_metrics *m = NULL;
	fedns_diag d = {0};
	fedns_buf b;

	seed();
	assert_int_equal(hub_metrics_new(dbpath, NULL, NULL, &m, &d), FEDNS_OK);
	fedns_buf_init(&b, 1 << 20);
	assert_int_equal(hub_metrics_write(m, &b), FEDNS_OK);
	const char *t = (const char *)b.data;

	assert_true(strncmp(t, "# HELP fedns_hub_store_up ", 26) == 0);
	assert_line(t, "fedns_hub_store_up 1");
	assert_line(t, "# TYPE fedns_hub_zones gauge");
	assert_line(t, "fedns_hub_zones{state=\"unreachable\"} 1");
	assert_line(t, "fedns_hub_zones{state=\"pending\"} 1");
	assert_line(t, "fedns_hub_zones{state=\"unplaced\"} 1");
	assert_line(t, "fedns_hub_zones{state=\"in_sync\"} 0");
	assert_line(t, "fedns_hub_zones{state=\"lagging\"} 0");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"east\",state=\"lagging\"} 1");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"east\",state=\"pending\"} 1");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"east\",state=\"in_sync\"} 0");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"west\",state=\"unreachable\"} 1");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"west\",state=\"pending\"} 0");
	assert_line(t, "fedns_hub_secondaries{cluster=\"east\",state=\"in_sync\"} 2");
	assert_line(t, "fedns_hub_secondaries{cluster=\"east\",state=\"lagging\"} 1");
	assert_line(t, "fedns_hub_secondaries{cluster=\"east\",state=\"unreachable\"} 0");
	assert_line(t, "fedns_hub_secondaries{cluster=\"west\",state=\"unreachable\"} 1");
	assert_line(t, "fedns_hub_pending_changes 1");
	assert_line(t, "fedns_hub_audit_chain_length 3");
	assert_line(t, "fedns_hub_cluster_connected{cluster=\"east\"} 1");
	assert_line(t, "fedns_hub_cluster_connected{cluster=\"west\"} 0");
	assert_line(t, "fedns_hub_cluster_last_seen_timestamp_seconds{cluster=\"east\"} "
		       "1700000000.5");
	assert_line(t, "fedns_hub_cluster_cert_expiry_timestamp_seconds{cluster=\"east\"} "
		       "1900000000");
	/* no zone name is ever a label, and the deleted zone's cluster cell is gone */
	assert_null(strstr(t, "example"));
	assert_null(strstr(t, "cluster_cert_expiry_timestamp_seconds{cluster=\"west\"}"));
	/* no fan-out: none of its families */
	assert_null(strstr(t, "fedns_hub_spoke_sessions"));

	assert_parses(&b);

	/* numbers move: east's b catches up, a second scrape sees it */
	hub_store_opts o = {.path = dbpath};
	hub_store *s = NULL;
	assert_int_equal(hub_store_open(&o, &s, NULL), FEDNS_OK);
	hub_zone z;
	assert_int_equal(hub_zone_get(s, "b.example.", &z), FEDNS_OK);
	ack(s, "east", z.id, 5);
	secondary(s, "east", z.id, "ns1", "in_sync", 5);
	hub_store_close(s);
	fedns_buf_clear(&b);
	assert_int_equal(hub_metrics_write(m, &b), FEDNS_OK);
	t = (const char *)b.data;
	assert_line(t, "fedns_hub_zone_cells{cluster=\"east\",state=\"pending\"} 0");
	assert_line(t, "fedns_hub_zone_cells{cluster=\"east\",state=\"in_sync\"} 1");
	assert_line(t, "fedns_hub_zones{state=\"in_sync\"} 1");
	assert_line(t, "fedns_hub_zones{state=\"pending\"} 0");

	fedns_buf_fini(&b);
	hub_metrics_free(m);
}

static void
test_broken_store(void **state)
{
	(void)state;
	hub_metrics *m = NULL;
	fedns_diag d = {0};
	fedns_buf b;
	char p[400];

	assert_true(hub_metrics_new(dbpath, NULL, NULL, &m, &d) < 0); /* no file yet */
	assert_null(m);
	assert_non_null(strstr(d.msg, dir));

	seed();
	assert_int_equal(hub_metrics_new(dbpath, NULL, NULL, &m, NULL), FEDNS_OK);
	/* the file is overwritten with something that is not a database */
	snprintf(p, sizeof p, "%s/hub.db-wal", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/hub.db-shm", dir);
	unlink(p);
	FILE *f = fopen(dbpath, "r+");
	assert_non_null(f);
	for (int i = 0; i < 8192; i++) {
		fputc('x', f);
	}
	fclose(f);
	fedns_buf_init(&b, 1 << 20);
	assert_int_equal(hub_metrics_write(m, &b), FEDNS_OK);
	assert_line((const char *)b.data, "fedns_hub_store_up 0");
	assert_null(strstr((const char *)b.data, "fedns_hub_zones"));
	fedns_buf_fini(&b);
	hub_metrics_free(m);
	hub_metrics_free(NULL);
}

static void
test_hub_cert_expiry(void **state)
{
	(void)state;
	char pki[300], cert[400], errbuf[256];
	const char *clusters[] = {"east"};
	fedns_pki_init_opts po = {.dir = pki,
				  .hub_name = "hub.fedns.test",
				  .clusters = clusters,
				  .nclusters = 1,
				  .days = 30};
	hub_metrics *m = NULL;
	fedns_buf b;
	time_t now = time(NULL);

	seed();
	snprintf(pki, sizeof pki, "%s/pki", dir);
	assert_int_equal(fedns_pki_init(&po, errbuf, sizeof errbuf), FEDNS_OK);
	snprintf(cert, sizeof cert, "%s/hub.pem", pki);
	int64_t na = 0;
	assert_int_equal(fedns_pki_cert_not_after_file(cert, &na), FEDNS_OK);
	/* 30 days from now, give or take the generator's rounding */
	assert_true(na > (int64_t)now + 29 * 86400 && na < (int64_t)now + 31 * 86400);

	assert_int_equal(hub_metrics_new(dbpath, NULL, cert, &m, NULL), FEDNS_OK);
	fedns_buf_init(&b, 1 << 20);
	assert_int_equal(hub_metrics_write(m, &b), FEDNS_OK);
	char want[128];
	snprintf(want, sizeof want, "fedns_hub_cert_expiry_timestamp_seconds %lld", (long long)na);
	assert_line((const char *)b.data, want);
	assert_parses(&b);
	fedns_buf_fini(&b);
	hub_metrics_free(m);

	/* a certificate that cannot be read: the hub still starts, without the metric */
	snprintf(cert, sizeof cert, "%s/hub.key", pki);
	assert_int_equal(fedns_pki_cert_not_after_file(cert, &na), FEDNS_EMALFORMED);
	snprintf(cert, sizeof cert, "%s/missing.pem", pki);
	assert_int_equal(fedns_pki_cert_not_after_file(cert, &na), FEDNS_EIO);
	assert_int_equal(hub_metrics_new(dbpath, NULL, cert, &m, NULL), FEDNS_OK);
	fedns_buf_init(&b, 1 << 20);
	assert_int_equal(hub_metrics_write(m, &b), FEDNS_OK);
	assert_null(strstr((const char *)b.data, "fedns_hub_cert_expiry"));
	fedns_buf_fini(&b);
	hub_metrics_free(m);
}

static void
test_fanout_families(void **state)
{
	(void)state;
	hub_fanout_cluster_stats st[2];
	fedns_buf b;

	memset(st, 0, sizeof st);
	snprintf(st[0].cluster, sizeof st[0].cluster, "east");
	st[0].sent_changesets = 7;
	st[0].sent_snapshots = 1;
	st[0].applied = 6;
	st[0].already_applied = 2;
	st[0].refused[4] = 3;	  /* digest_mismatch */
	st[0].lat_bucket[0] = 1;  /* <= 1 ms */
	st[0].lat_bucket[6] = 2;  /* <= 100 ms */
	st[0].lat_bucket[11] = 1; /* > 5 s */
	st[0].lat_count = 4;
	st[0].lat_sum_s = 6.25;
	/* a name that fills the array with no terminator is cut, not overread */
	memset(st[1].cluster, 'w', sizeof st[1].cluster);

	fedns_buf_init(&b, 1 << 20);
	hub_metrics_write_fanout(&b, st, 2, 1, 5, true);
	assert_int_equal(b.err, FEDNS_OK);
	const char *t = (const char *)b.data;
	assert_line(t, "fedns_hub_spoke_listener_up 1");
	assert_line(t, "fedns_hub_spoke_sessions 1");
	assert_line(t, "# TYPE fedns_hub_spoke_auth_failures_total counter");
	assert_line(t, "fedns_hub_spoke_auth_failures_total 5");
	assert_line(t, "fedns_hub_changesets_sent_total{cluster=\"east\"} 7");
	assert_line(t, "fedns_hub_snapshots_sent_total{cluster=\"east\"} 1");
	assert_line(t, "fedns_hub_changesets_applied_total{cluster=\"east\"} 6");
	assert_line(t, "fedns_hub_changesets_already_applied_total{cluster=\"east\"} 2");
	assert_line(t, "fedns_hub_changesets_refused_total{cluster=\"east\",reason="
		       "\"digest_mismatch\"} 3");
	assert_line(t, "fedns_hub_changesets_refused_total{cluster=\"east\",reason=\"gap\"} 0");
	assert_null(strstr(t, "reason=\"none\""));
	assert_null(strstr(t, "reason=\"?\""));
	assert_line(t, "# TYPE fedns_hub_propagation_seconds histogram");
	assert_line(t, "fedns_hub_propagation_seconds_bucket{cluster=\"east\",le=\"0.001\"} 1");
	assert_line(t, "fedns_hub_propagation_seconds_bucket{cluster=\"east\",le=\"0.05\"} 1");
	assert_line(t, "fedns_hub_propagation_seconds_bucket{cluster=\"east\",le=\"0.1\"} 3");
	assert_line(t, "fedns_hub_propagation_seconds_bucket{cluster=\"east\",le=\"5\"} 3");
	assert_line(t, "fedns_hub_propagation_seconds_bucket{cluster=\"east\",le=\"+Inf\"} 4");
	assert_line(t, "fedns_hub_propagation_seconds_sum{cluster=\"east\"} 6.25");
	assert_line(t, "fedns_hub_propagation_seconds_count{cluster=\"east\"} 4");
	char cut[80];
	memset(cut, 'w', 63);
	cut[63] = '\0';
	char want[200];
	snprintf(want, sizeof want, "fedns_hub_changesets_sent_total{cluster=\"%s\"} 0", cut);
	assert_line(t, want);
	assert_parses(&b);

	/* no clusters: the families are there, without samples */
	fedns_buf_clear(&b);
	hub_metrics_write_fanout(&b, NULL, 0, 0, 0, false);
	assert_int_equal(b.err, FEDNS_OK);
	assert_line((const char *)b.data, "fedns_hub_spoke_listener_up 0");
	assert_line((const char *)b.data, "# TYPE fedns_hub_propagation_seconds histogram");
	assert_null(strstr((const char *)b.data, "_bucket"));
	fedns_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cell_state),
		cmocka_unit_test_setup_teardown(test_store_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hub_cert_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_families, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
