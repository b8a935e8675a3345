/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/metrics: the exposition carries the hub session, change sets by
 * kind and refusal reason (zeros included), zones, secondaries by state, transfers by type
 * and TSIG failures, in valid Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spoke/metrics.h"

static void
has_line(const fedns_buf *b, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr((const char *)b->data, want) == NULL) {
		fprintf(stderr, "missing line: %s\n--- exposition:\n%s", line,
			(const char *)b->data);
		fail();
	}
}

static void
test_hub_mode(void **state)
{
	(void)state;
	spoke_hubsession_stats ss = {.connected = true,
				     .authenticated = true,
				     .sessions = 2,
				     .dials = 5,
				     .dial_failures = 3,
				     .acks_sent = 40};
	spoke_hubstate_stats hs = {.applied_changesets = 30,
				   .applied_snapshots = 2,
				   .already_applied = 4,
				   .tree_builds = 5,
				   .apply_us_sum = 1500000,
				   .placed = 3};
	hs.refused[2] = 7; /* replay */
	hs.refused[3] = 1; /* bad_signature */
	spoke_dnssrv_stats ds = {.axfr = 3, .ixfr = 11, .ixfr_fallback = 1, .tsig_fail = 2};
	spoke_verify_row rows[3];
	memset(rows, 0, sizeof(rows));
	rows[0].state = SPOKE_VERIFY_IN_SYNC;
	rows[1].state = SPOKE_VERIFY_IN_SYNC;
	rows[2].state = SPOKE_VERIFY_DIVERGED;
	rows[2].repairs = 2;
	rows[2].repairs_ok = 1;
	spoke_metrics_input in = {.session = &ss,
				  .hub = &hs,
				  .dns = &ds,
				  .dns_listening = true,
				  .zones_served = 3,
				  .secondaries = 2,
				  .rows = rows,
				  .nrows = 3};
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_putc(&b, '\n'); /* so every line, the first too, follows a newline */
	spoke_metrics_write(&in, &b);
	assert_int_equal(b.err, FEDNS_OK);
	has_line(&b, "# TYPE fedns_spoke_hub_connected gauge");
	has_line(&b, "fedns_spoke_hub_connected 1");
	has_line(&b, "fedns_spoke_hub_authenticated 1");
	has_line(&b, "fedns_spoke_hub_sessions_total 2");
	has_line(&b, "fedns_spoke_hub_dial_failures_total 3");
	has_line(&b, "fedns_spoke_acks_sent_total 40");
	has_line(&b, "fedns_spoke_changesets_applied_total{kind=\"change_set\"} 30");
	has_line(&b, "fedns_spoke_changesets_applied_total{kind=\"snapshot\"} 2");
	has_line(&b, "fedns_spoke_changesets_already_applied_total 4");
	has_line(&b, "# TYPE fedns_spoke_digest_tree_builds_total counter");
	has_line(&b, "fedns_spoke_digest_tree_builds_total 5");
	has_line(&b, "fedns_spoke_changesets_refused_total{reason=\"replay\"} 7");
	has_line(&b, "fedns_spoke_changesets_refused_total{reason=\"bad_signature\"} 1");
	has_line(&b, "fedns_spoke_changesets_refused_total{reason=\"gap\"} 0");
	has_line(&b, "fedns_spoke_changesets_refused_total{reason=\"internal\"} 0");
	has_line(&b, "fedns_spoke_apply_seconds_total 1.5");
	has_line(&b, "fedns_spoke_zones_placed 3");
	has_line(&b, "fedns_spoke_zones_served 3");
	has_line(&b, "fedns_spoke_secondaries 2");
	has_line(&b, "fedns_spoke_secondary_zones{state=\"in_sync\"} 2");
	has_line(&b, "fedns_spoke_secondary_zones{state=\"diverged\"} 1");
	has_line(&b, "fedns_spoke_secondary_zones{state=\"lagging\"} 0");
	has_line(&b, "fedns_spoke_secondary_repairs 2");
	has_line(&b, "fedns_spoke_transfers_total{type=\"ixfr\"} 11");
	has_line(&b, "fedns_spoke_transfers_total{type=\"ixfr_fallback\"} 1");
	has_line(&b, "fedns_spoke_tsig_failures_total 2");
	has_line(&b, "fedns_spoke_dns_listening 1");
	fedns_buf_fini(&b);
}

static void
test_standalone(void **state)
{
	(void)state;
	spoke_metrics_input in = {.zones_served = 1};
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_putc(&b, '\n');
	spoke_metrics_write(&in, &b);
	assert_int_equal(b.err, FEDNS_OK);
	/* no hub families without a hub session; DNS counters read 0 before it runs */
	assert_null(strstr((const char *)b.data, "fedns_spoke_hub_"));
	assert_null(strstr((const char *)b.data, "changesets"));
	has_line(&b, "fedns_spoke_dns_listening 0");
	has_line(&b, "fedns_spoke_transfers_total{type=\"axfr\"} 0");
	has_line(&b, "fedns_spoke_secondary_zones{state=\"unknown\"} 0");
	fedns_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_mode),
		cmocka_unit_test(test_standalone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
