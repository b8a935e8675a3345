/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/verifier: the per-secondary state machine driven by a fake prober
 * and a fake clock (lagging, unreachable, diverged, repair with backoff, coalescing), the
 * status lines, argument parsing, and the rndc runner against stand-in scripts. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/zonefile.h"
#include "dns/zonemd.h"
#include "spoke/verifier.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";

static fedns_zone *
zone_at(uint32_t serial)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "$TTL 60\n@ SOA ns hm %u 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.%u\n",
		 serial, serial % 250);
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(origin, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = origin};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &opts, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

/* A secondary as the fake sees it. */
typedef struct fsec {
	fedns_err soa_err;
	uint32_t serial;      /* what SOA and AXFR answer */
	uint32_t serial_next; /* becomes the answer at switch_at (0: never) */
	uint64_t switch_at;
	bool bad_bytes; /* AXFR gives other bytes at the same serial */
	fedns_err dig_err;
	bool repair_fixes;
	fedns_err repair_err;
	unsigned soa_calls, dig_calls, repairs;
} fsec;

typedef struct fake {
	uint64_t now;
	int64_t wall;
	spoke_zoneset *zs;
	fsec s[2];
} fake;

static fsec *
sec_of(fake *f, const spoke_secondary *s)
{
	return &f->s[s->name[3] - '1']; /* "sec1", "sec2" */
}

static uint32_t
serial_now(fake *f, fsec *fs)
{
	if (fs->serial_next != 0 && f->now >= fs->switch_at)
		fs->serial = fs->serial_next;
	return fs->serial;
}

static fedns_err
f_soa(void *ctx, const spoke_secondary *s, const uint8_t *zone, uint32_t *serial, fedns_diag *d)
{
	fake *f = ctx;
	fsec *fs = sec_of(f, s);
	(void)zone;
	fs->soa_calls++;
	if (fs->soa_err != FEDNS_OK)
		return fedns_diag_set(d, fs->soa_err, "no answer to the SOA query (timed out)");
	*serial = serial_now(f, fs);
	return FEDNS_OK;
}

static fedns_err
f_digest(void *ctx, const spoke_secondary *s, const uint8_t *zone, uint8_t digest[48],
	 uint32_t *serial, fedns_diag *d)
{
	fake *f = ctx;
	fsec *fs = sec_of(f, s);
	fs->dig_calls++;
	if (fs->dig_err != FEDNS_OK)
		return fedns_diag_set(d, fs->dig_err, "transfer broke off after 0 messages");
	/* the secondary holds the spoke's current version, byte for byte unless told not */
	spoke_version *v = spoke_zoneset_get(f->zs, zone);
	assert_non_null(v);
	size_t dl = 0;
	assert_int_equal(fedns_zonemd_compute(v->zone, FEDNS_ZONEMD_SHA384, digest, &dl), FEDNS_OK);
	spoke_version_rele(v);
	if (fs->bad_bytes)
		digest[0] ^= 0xff;
	*serial = serial_now(f, fs);
	return FEDNS_OK;
}

static fedns_err
f_repair(void *ctx, const spoke_secondary *s, const uint8_t *zone, fedns_diag *d)
{
	fake *f = ctx;
	fsec *fs = sec_of(f, s);
	(void)zone;
	fs->repairs++;
	if (fs->repair_err != FEDNS_OK)
		return fedns_diag_set(d, fs->repair_err, "rndc: connection refused");
	if (fs->repair_fixes)
		fs->bad_bytes = false;
	return FEDNS_OK;
}

static uint64_t
f_now(void *ctx)
{
	return ((fake *)ctx)->now;
}

static int64_t
f_wall(void *ctx)
{
	return ((fake *)ctx)->wall + (int64_t)(((fake *)ctx)->now / 1000);
}

static void
f_sleep(void *ctx, unsigned ms)
{
	((fake *)ctx)->now += ms;
}

static const spoke_verify_ops fops = {
	.soa = f_soa,
	.digest = f_digest,
	.repair = f_repair,
	.now_ms = f_now,
	.wall_s = f_wall,
	.sleep_ms = f_sleep,
};

typedef struct fixture {
	fake f;
	spoke_zoneset *zs;
	spoke_verifier *v;
} fixture;

static int
setup(void **state)
{
	fixture *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	assert_int_equal(spoke_zoneset_new(NULL, &x->zs), FEDNS_OK);
	assert_int_equal(spoke_zoneset_put(x->zs, zone_at(1), NULL), FEDNS_OK);
	x->f.zs = x->zs;
	x->f.now = 1000000;
	x->f.wall = 1790000000;
	x->f.s[0].serial = x->f.s[1].serial = 1;
	spoke_verifier_opts o;
	spoke_verifier_opts_default(&o);
	o.nsecondaries = 2;
	o.coalesce_ms = 200;
	assert_int_equal(spoke_secondary_parse("sec1=127.0.0.1:5301", &o.secondaries[0], NULL),
			 FEDNS_OK);
	assert_int_equal(spoke_secondary_parse("sec2=127.0.0.1:5302", &o.secondaries[1], NULL),
			 FEDNS_OK);
	assert_int_equal(spoke_verifier_new(&o, x->zs, &fops, &x->f, &x->v), FEDNS_OK);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	fixture *x = *state;
	spoke_verifier_free(x->v);
	spoke_zoneset_free(x->zs);
	free(x);
	return 0;
}

static spoke_verify_row
row(fixture *x, size_t i)
{
	spoke_verify_row *rows = NULL;
	size_t n = spoke_verifier_status(x->v, &rows);
	assert_int_equal(n, 2);
	spoke_verify_row r = rows[i];
	free(rows);
	return r;
}

/* A new serial at the spoke, announced as the zone set would. */
static void
bump(fixture *x, uint32_t serial)
{
	assert_int_equal(spoke_zoneset_put(x->zs, zone_at(serial), NULL), FEDNS_OK);
	spoke_verifier_zone_changed(x->v, origin, serial);
}

static void
test_first_pass_in_sync(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	for (size_t i = 0; i < 2; i++) {
		spoke_verify_row r = row(x, i);
		assert_int_equal(r.state, SPOKE_VERIFY_IN_SYNC);
		assert_int_equal(r.serial, 1);
		assert_true(r.have_seen);
		assert_int_equal(r.serial_seen, 1);
		assert_true(r.have_digest);
		assert_int_equal(r.last_ok, x->f.wall + 1000);
		assert_int_equal(r.lag_ms, 0);
		assert_int_equal(r.repairs, 0);
		assert_string_equal(r.last_error, "");
		assert_string_equal(r.secondary, i == 0 ? "sec1" : "sec2");
	}
	assert_int_equal(x->f.s[0].soa_calls, 1);
	assert_int_equal(x->f.s[0].dig_calls, 1);
	/* nothing else until the periodic pass */
	assert_int_equal(next, 1000000 + 300 * 1000);
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 0);
	x->f.now = next;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	assert_int_equal(x->f.s[1].dig_calls, 2);
}

static void
test_new_serial_lag(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	spoke_verifier_run_due(x->v, &next);
	uint64_t t0 = x->f.now;
	bump(x, 2);
	/* sec1 has the serial 500 ms after the spoke, sec2 at once */
	x->f.s[0].serial_next = 2;
	x->f.s[0].switch_at = t0 + 500;
	x->f.s[1].serial = 2;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 0); /* inside the window */
	assert_int_equal(next, t0 + 200);
	x->f.now = next;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	spoke_verify_row a = row(x, 0), b = row(x, 1);
	assert_int_equal(a.state, SPOKE_VERIFY_IN_SYNC);
	assert_int_equal(a.serial, 2);
	assert_int_equal(a.serial_seen, 2);
	/* polls at +200, +210, +230, +270, +350, +510 (backoff 10, 20, 40, 80, 160) */
	assert_int_equal(a.lag_ms, 510);
	assert_int_equal(x->f.s[0].soa_calls, 1 + 6);
	assert_int_equal(b.state, SPOKE_VERIFY_IN_SYNC);
	assert_int_equal(b.lag_ms, 200);
	/* a periodic pass keeps the lag of the serial's arrival */
	x->f.now += 300 * 1000;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(row(x, 0).lag_ms, 510);
}

static void
test_lagging_after_deadline(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	spoke_verifier_run_due(x->v, &next);
	bump(x, 2);
	x->f.s[1].serial = 2;
	x->f.now += 200;
	uint64_t start = x->f.now;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	spoke_verify_row a = row(x, 0), b = row(x, 1);
	assert_int_equal(a.state, SPOKE_VERIFY_LAGGING);
	assert_int_equal(a.serial, 2);
	assert_int_equal(a.serial_seen, 1);
	assert_string_equal(a.last_error, "serves serial 1, not 2");
	assert_int_equal(a.last_ok, x->f.wall + 1000); /* from the first pass */
	assert_int_equal(x->f.now, start + 30000);     /* waited exactly the deadline */
	assert_int_equal(x->f.s[0].dig_calls, 1);      /* no AXFR of a lagging secondary */
	assert_int_equal(b.state, SPOKE_VERIFY_IN_SYNC);
	/* re-checked after retry_ms; when it catches up it is in sync at the new serial */
	assert_int_equal(next, x->f.now + 1000);
	x->f.s[0].serial = 2;
	x->f.now = next;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 1);
	a = row(x, 0);
	assert_int_equal(a.state, SPOKE_VERIFY_IN_SYNC);
	assert_int_equal(a.lag_ms, (int64_t)(x->f.now - (start - 200)));
	assert_string_equal(a.last_error, "");
}

static void
test_unreachable(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	spoke_verifier_run_due(x->v, &next);
	x->f.s[1].soa_err = FEDNS_EIO;
	bump(x, 2);
	x->f.s[0].serial = 2;
	x->f.now += 200;
	uint64_t start = x->f.now;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	spoke_verify_row b = row(x, 1);
	assert_int_equal(b.state, SPOKE_VERIFY_UNREACHABLE);
	assert_string_equal(b.last_error, "SOA: no answer to the SOA query (timed out)");
	assert_int_equal(x->f.now, start); /* no waiting on a dead server */
	assert_int_equal(x->f.s[1].dig_calls, 1);
	/* retries back off: 1 s, 2 s, 4 s ... */
	assert_int_equal(next, start + 1000);
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(next, x->f.now + 2000);
	/* an AXFR cut off is unreachable too */
	x->f.s[1].soa_err = FEDNS_OK;
	x->f.s[1].serial = 2;
	x->f.s[1].dig_err = FEDNS_EIO;
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	b = row(x, 1);
	assert_int_equal(b.state, SPOKE_VERIFY_UNREACHABLE);
	assert_string_equal(b.last_error, "AXFR: transfer broke off after 0 messages");
	x->f.s[1].dig_err = FEDNS_OK;
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(row(x, 1).state, SPOKE_VERIFY_IN_SYNC);
	assert_int_equal(row(x, 0).state, SPOKE_VERIFY_IN_SYNC);
}

static void
test_diverged_repair_backoff(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	x->f.s[0].bad_bytes = true; /* same serial, other bytes: edited behind our back */
	uint64_t start = x->f.now;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	spoke_verify_row a = row(x, 0);
	assert_int_equal(a.state, SPOKE_VERIFY_DIVERGED);
	assert_int_equal(a.serial_seen, 1);
	assert_int_equal(a.repairs, 1);
	assert_int_equal(a.repairs_ok, 0);
	assert_int_equal(x->f.s[0].repairs, 1);
	assert_non_null(strstr(a.last_error, "ZONEMD digest differs"));
	assert_non_null(strstr(a.last_error, "still after rndc retransfer"));
	assert_int_equal(a.last_ok, 0);
	/* the repair was given repair_wait_ms to show */
	assert_true(x->f.now >= start + 30000);
	assert_int_equal(row(x, 1).state, SPOKE_VERIFY_IN_SYNC);
	/* checked again soon, but not repaired again before the backoff (10 s) */
	uint64_t failed_at = x->f.now;
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(row(x, 0).state, SPOKE_VERIFY_DIVERGED);
	assert_int_equal(x->f.s[0].repairs, 1);
	assert_int_equal(row(x, 0).repairs, 1);
	x->f.now = failed_at + 10000;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(x->f.s[0].repairs, 2);
	/* the next gap is twice as long */
	failed_at = x->f.now;
	x->f.now = failed_at + 19999;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(x->f.s[0].repairs, 2);
	x->f.now = failed_at + 20000;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(x->f.s[0].repairs, 3);
	assert_int_equal(row(x, 0).repairs, 3);
	assert_int_equal(row(x, 0).repairs_ok, 0);
}

static void
test_repair_fixes(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	x->f.s[1].bad_bytes = true;
	x->f.s[1].repair_fixes = true;
	uint64_t start = x->f.now;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	spoke_verify_row b = row(x, 1);
	assert_int_equal(b.state, SPOKE_VERIFY_IN_SYNC);
	assert_int_equal(b.repairs, 1);
	assert_int_equal(b.repairs_ok, 1);
	assert_int_equal(x->f.s[1].repairs, 1);
	assert_int_equal(b.last_ok, x->f.wall + (int64_t)(x->f.now / 1000));
	assert_string_equal(b.last_error, "");
	assert_int_equal(x->f.now, start); /* the first check after the repair matched */
	assert_int_equal(x->f.s[1].dig_calls, 2);
	/* a repair that fails to run is reported and backs off like one that did not help */
	x->f.s[1].bad_bytes = true;
	x->f.s[1].repair_fixes = false;
	x->f.s[1].repair_err = FEDNS_EIO;
	x->f.now += 300 * 1000;
	spoke_verifier_run_due(x->v, &next);
	b = row(x, 1);
	assert_int_equal(b.state, SPOKE_VERIFY_DIVERGED);
	assert_int_equal(b.repairs, 2);
	assert_int_equal(b.repairs_ok, 1);
	assert_string_equal(b.last_error, "repair: rndc: connection refused");
}

static void
test_no_repair_configured(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	x->f.s[0].bad_bytes = true;
	x->f.s[0].repair_err = FEDNS_ENOTSUP;
	spoke_verifier_run_due(x->v, &next);
	spoke_verify_row a = row(x, 0);
	assert_int_equal(a.state, SPOKE_VERIFY_DIVERGED);
	assert_int_equal(a.repairs, 0); /* nothing was run */
	assert_string_equal(a.last_error, "serial 1: ZONEMD digest differs from the spoke's; "
					  "not repaired: rndc: connection refused");
	/* asked again only after the interval, and still not counted */
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(x->f.s[0].repairs, 1);
	x->f.now += 300 * 1000;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(x->f.s[0].repairs, 2);
	assert_int_equal(row(x, 0).repairs, 0);
	assert_int_equal(row(x, 0).state, SPOKE_VERIFY_DIVERGED);
}

static void
test_coalescing(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	spoke_verifier_run_due(x->v, &next);
	uint64_t t0 = x->f.now;
	for (uint32_t s = 2; s <= 6; s++) {
		bump(x, s);
		x->f.now += 30;
	}
	x->f.s[0].serial = x->f.s[1].serial = 6;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 0);
	assert_int_equal(next, t0 + 200); /* the window opened with the first change */
	x->f.now = next;
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(x->f.s[i].soa_calls, 2); /* first pass + one for five serials */
		assert_int_equal(x->f.s[i].dig_calls, 2);
		spoke_verify_row r = row(x, i);
		assert_int_equal(r.state, SPOKE_VERIFY_IN_SYNC);
		assert_int_equal(r.serial, 6);
		assert_int_equal(r.lag_ms, 200 - 4 * 30); /* from the arrival of serial 6 */
	}
	assert_int_equal(spoke_verifier_run_due(x->v, &next), 0);
}

static void
test_removed_zone_and_format(void **state)
{
	fixture *x = *state;
	uint64_t next = 0;
	x->f.s[1].soa_err = FEDNS_EIO;
	spoke_verifier_run_due(x->v, &next);
	spoke_verify_row *rows = NULL;
	size_t n = spoke_verifier_status(x->v, &rows);
	assert_int_equal(n, 2);
	fedns_buf b;
	fedns_buf_init(&b, 0);
	spoke_verify_row_format(&rows[0], &b);
	spoke_verify_row_format(&rows[1], &b);
	char want[1024];
	uint8_t dg[48];
	spoke_version *v = spoke_zoneset_get(x->zs, origin);
	size_t dl;
	fedns_zonemd_compute(v->zone, FEDNS_ZONEMD_SHA384, dg, &dl);
	spoke_version_rele(v);
	char hex[97];
	for (size_t i = 0; i < 48; i++)
		snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	snprintf(want, sizeof(want),
		 "example.com. sec1 in_sync serial=1 seen=1 lag_ms=0 "
		 "last_ok=2026-09-21T14:30:00Z repairs=0/0 digest=%s error=\"\"\n"
		 "example.com. sec2 unreachable serial=1 seen=- lag_ms=- last_ok=never "
		 "repairs=0/0 digest=- error=\"SOA: no answer to the SOA query (timed out)\"\n",
		 hex);
	assert_string_equal((char *)b.data, want);
	fedns_buf_fini(&b);
	free(rows);
	/* a zone the spoke stops serving leaves the table at its next check */
	assert_int_equal(spoke_zoneset_remove(x->zs, origin), FEDNS_OK);
	x->f.now = next;
	spoke_verifier_run_due(x->v, &next);
	assert_int_equal(spoke_verifier_status(x->v, &rows), 0);
	free(rows);
}

static void
test_parse(void **state)
{
	(void)state;
	spoke_secondary s[2];
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse("ns-1.east=10.0.0.11", &s[0], &d), FEDNS_OK);
	assert_string_equal(s[0].name, "ns-1.east");
	assert_int_equal(s[0].addr_len, sizeof(struct sockaddr_in));
	assert_int_equal(spoke_secondary_parse("b=[2001:db8::1]:5353", &s[1], &d), FEDNS_OK);
	assert_int_equal(spoke_secondary_parse("=10.0.0.1", &s[1], &d), FEDNS_ESYNTAX);
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse("a b=10.0.0.1", &s[1], &d), FEDNS_ESYNTAX);
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse("b=not-an-address", &s[1], &d), FEDNS_ESYNTAX);
	assert_string_equal(d.msg, "secondary b: \"not-an-address\" is not an address");
	assert_int_equal(spoke_secondary_parse("b=[2001:db8::1]:5353", &s[1], NULL), FEDNS_OK);

	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse_rndc("ns-1.east=10.0.0.11:9953", s, 2, &d),
			 FEDNS_OK);
	assert_string_equal(s[0].rndc_host, "10.0.0.11");
	assert_int_equal(s[0].rndc_port, 9953);
	assert_int_equal(spoke_secondary_parse_rndc("b=[2001:db8::1]:953", s, 2, &d), FEDNS_OK);
	assert_string_equal(s[1].rndc_host, "2001:db8::1");
	assert_int_equal(spoke_secondary_parse_rndc("b=ns2.example", s, 2, &d), FEDNS_OK);
	assert_string_equal(s[1].rndc_host, "ns2.example");
	assert_int_equal(s[1].rndc_port, 0);
	assert_int_equal(spoke_secondary_parse_rndc("c=10.0.0.1", s, 2, &d), FEDNS_ENOENT);
	assert_string_equal(d.msg, "rndc \"c=10.0.0.1\": no --secondary called c");
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse_rndc("b=-x", s, 2, &d), FEDNS_ESYNTAX);
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse_rndc("b=h:0", s, 2, &d), FEDNS_ESYNTAX);
	fedns_diag_clear(&d);
	assert_int_equal(spoke_secondary_parse_rndc("b=h:70000", s, 2, &d), FEDNS_ESYNTAX);
	assert_string_equal(s[1].rndc_host, "ns2.example"); /* untouched by the failures */
}

/* The real repair op against stand-in rndc scripts: exact argv, failures, timeout. */
static void
test_rndc_runner(void **state)
{
	(void)state;
	char dir[] = "/tmp/fedns-test-rndc.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char bin[300], argsf[300];
	snprintf(bin, sizeof(bin), "%s/rndc", dir);
	snprintf(argsf, sizeof(argsf), "%s/args", dir);
	spoke_verifier_opts o;
	spoke_verifier_opts_default(&o);
	o.rndc_bin = bin;
	o.rndc_key = "/etc/fedns/rndc.key";
	o.rndc_timeout_ms = 500;
	spoke_secondary s;
	assert_int_equal(spoke_secondary_parse("ns1=127.0.0.1", &s, NULL), FEDNS_OK);
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_verifier_rndc(&o, &s, origin, &d), FEDNS_ENOTSUP);
	assert_string_equal(d.msg, "no rndc configured for secondary ns1 (--rndc ns1=HOST:PORT)");
	assert_int_equal(spoke_secondary_parse_rndc("ns1=127.0.0.1:9953", &s, 1, NULL), FEDNS_OK);

	const struct {
		const char *body;
		fedns_err want;
		const char *msg;
	} cases[] = {
		{"printf '%s\\n' \"$@\" > \"$ARGS\"\n", FEDNS_OK, ""},
		{"echo 'rndc: connect failed: 127.0.0.1#9953: connection refused' >&2; exit 1\n",
		 FEDNS_EIO,
		 "/rndc retransfer example.com on ns1 failed (exit 1): rndc: connect failed: "
		 "127.0.0.1#9953: connection refused"},
		{"exec sleep 5\n", FEDNS_EIO, "/rndc retransfer example.com on ns1: timed out"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(bin, "w");
		assert_non_null(f);
		fprintf(f, "#!/bin/sh\nARGS='%s'\n", argsf);
		fputs(cases[i].body, f);
		fclose(f);
		chmod(bin, 0700);
		fedns_diag_clear(&d);
		assert_int_equal(spoke_verifier_rndc(&o, &s, origin, &d), cases[i].want);
		if (cases[i].want != FEDNS_OK)
			assert_non_null(strstr(d.msg, cases[i].msg));
	}
	char got[512] = "";
	FILE *f = fopen(argsf, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, "-k\n/etc/fedns/rndc.key\n-s\n127.0.0.1\n-p\n9953\nretransfer\n"
				 "example.com\n");
	/* no such program */
	o.rndc_bin = "/nonexistent/rndc";
	fedns_diag_clear(&d);
	assert_int_equal(spoke_verifier_rndc(&o, &s, origin, &d), FEDNS_EIO);
	unlink(bin);
	unlink(argsf);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_pass_in_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_serial_lag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lagging_after_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diverged_repair_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_fixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_repair_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_zone_and_format, setup, teardown),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_rndc_runner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
