/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's Prometheus exposition, written with common/prom. */
#include "spoke/metrics.h"

#include "common/prom.h"
#include "proto/msg.h"

static void
gauge(fedns_buf *b, const char *name, const char *help, double v)
{
	fedns_prom_family(b, name, FEDNS_PROM_GAUGE, help);
	fedns_prom_sample(b, name, NULL, 0, v);
}

static void
counter(fedns_buf *b, const char *name, const char *help, uint64_t v)
{
	fedns_prom_family(b, name, FEDNS_PROM_COUNTER, help);
	fedns_prom_sample_u64(b, name, NULL, 0, v);
}

static void
hub_metrics(const spoke_metrics_input *in, fedns_buf *b)
{
	const spoke_hubsession_stats *s = in->session;
	const spoke_hubstate_stats *h = in->hub;
	gauge(b, "fedns_spoke_hub_connected", "1 while a TLS connection to the hub is up",
	      s->connected ? 1 : 0);
	gauge(b, "fedns_spoke_hub_authenticated",
	      "1 while the hub session is authenticated (the hub sent this session's placement)",
	      s->authenticated ? 1 : 0);
	counter(b, "fedns_spoke_hub_sessions_total", "Authenticated sessions with the hub",
		s->sessions);
	counter(b, "fedns_spoke_hub_dials_total", "Connection attempts to the hub", s->dials);
	counter(b, "fedns_spoke_hub_dial_failures_total",
		"Connection attempts that failed (TCP or TLS)", s->dial_failures);
	counter(b, "fedns_spoke_hub_silent_disconnects_total",
		"Sessions dropped because the hub sent nothing for three heartbeat intervals",
		s->silent_disconnects);
	counter(b, "fedns_spoke_acks_sent_total", "Acknowledgements sent to the hub", s->acks_sent);
	counter(b, "fedns_spoke_status_reports_sent_total", "Status reports sent to the hub",
		s->status_reports_sent);

	fedns_prom_family(b, "fedns_spoke_changesets_applied_total", FEDNS_PROM_COUNTER,
			  "Signed change sets and snapshots applied");
	fedns_prom_label kl = {"kind", "change_set"};
	fedns_prom_sample_u64(b, "fedns_spoke_changesets_applied_total", &kl, 1,
			      h->applied_changesets);
	kl.value = "snapshot";
	fedns_prom_sample_u64(b, "fedns_spoke_changesets_applied_total", &kl, 1,
			      h->applied_snapshots);
	counter(b, "fedns_spoke_changesets_already_applied_total",
		"Retransmitted change sets acknowledged without applying them twice",
		h->already_applied);
	counter(b, "fedns_spoke_digest_tree_builds_total",
		"Zone digest trees built from a whole zone (after a start, a snapshot or a "
		"failure); a change set moves the tree in O(change) otherwise",
		h->tree_builds);
	fedns_prom_family(b, "fedns_spoke_changesets_refused_total", FEDNS_PROM_COUNTER,
			  "Signed change sets and snapshots refused, by reason (security events)");
	for (int r = FEDNS_PROTO_REASON_GAP; r <= FEDNS_PROTO_REASON_INTERNAL; r++) {
		fedns_prom_label rl = {"reason", fedns_proto_reason_name((fedns_proto_reason)r)};
		fedns_prom_sample_u64(b, "fedns_spoke_changesets_refused_total", &rl, 1,
				      h->refused[r]);
	}
	fedns_prom_family(b, "fedns_spoke_apply_seconds_total", FEDNS_PROM_COUNTER,
			  "Time spent applying change sets and snapshots (journal write, apply, "
			  "digest)");
	fedns_prom_sample(b, "fedns_spoke_apply_seconds_total", NULL, 0,
			  (double)h->apply_us_sum / 1e6);
	fedns_prom_family(b, "fedns_spoke_verify_seconds_total", FEDNS_PROM_COUNTER,
			  "Time spent verifying hub signatures");
	fedns_prom_sample(b, "fedns_spoke_verify_seconds_total", NULL, 0,
			  (double)h->verify_us_sum / 1e6);
	gauge(b, "fedns_spoke_zones_placed", "Zones the hub places on this cluster",
	      (double)h->placed);
}

void
spoke_metrics_write(const spoke_metrics_input *in, fedns_buf *b)
{
	if (in->session != NULL && in->hub != NULL)
		hub_metrics(in, b);
	gauge(b, "fedns_spoke_dns_listening", "1 while the DNS listener is bound",
	      in->dns_listening ? 1 : 0);
	gauge(b, "fedns_spoke_zones_served", "Member zones served (the catalog zone not counted)",
	      (double)in->zones_served);
	gauge(b, "fedns_spoke_secondaries", "Secondaries verified (configured and discovered)",
	      (double)in->secondaries);

	/* one sample per state, so a state that empties reads 0 rather than vanishing */
	uint64_t by_state[5] = {0};
	uint64_t repairs = 0, repairs_ok = 0;
	for (size_t i = 0; i < in->nrows; i++) {
		unsigned st = (unsigned)in->rows[i].state;
		if (st < 5)
			by_state[st]++;
		repairs += in->rows[i].repairs;
		repairs_ok += in->rows[i].repairs_ok;
	}
	fedns_prom_family(b, "fedns_spoke_secondary_zones", FEDNS_PROM_GAUGE,
			  "(zone, secondary) pairs by verification state");
	for (unsigned st = 0; st < 5; st++) {
		fedns_prom_label l = {"state", spoke_verify_state_name((spoke_verify_state)st)};
		fedns_prom_sample_u64(b, "fedns_spoke_secondary_zones", &l, 1, by_state[st]);
	}
	gauge(b, "fedns_spoke_secondary_repairs",
	      "Repairs (rndc retransfer) run for the current (zone, secondary) pairs",
	      (double)repairs);
	gauge(b, "fedns_spoke_secondary_repairs_ok",
	      "Repairs after which the secondary's bytes matched", (double)repairs_ok);

	spoke_dnssrv_stats z = {0};
	const spoke_dnssrv_stats *d = in->dns != NULL ? in->dns : &z;
	counter(b, "fedns_spoke_dns_queries_total", "DNS requests received", d->queries);
	counter(b, "fedns_spoke_dns_refused_total", "DNS requests answered REFUSED", d->refused);
	counter(b, "fedns_spoke_dns_formerr_total", "DNS requests answered FORMERR", d->formerr);
	counter(b, "fedns_spoke_soa_queries_total", "SOA queries answered", d->soa);
	fedns_prom_family(b, "fedns_spoke_transfers_total", FEDNS_PROM_COUNTER,
			  "Zone transfers served, by type (ixfr_fallback: IXFR answered with the "
			  "whole zone)");
	struct {
		const char *type;
		uint64_t v;
	} xt[] = {{"axfr", d->axfr}, {"ixfr", d->ixfr}, {"ixfr_fallback", d->ixfr_fallback}};
	for (size_t i = 0; i < sizeof(xt) / sizeof(xt[0]); i++) {
		fedns_prom_label l = {"type", xt[i].type};
		fedns_prom_sample_u64(b, "fedns_spoke_transfers_total", &l, 1, xt[i].v);
	}
	counter(b, "fedns_spoke_tsig_failures_total",
		"Requests refused for TSIG (missing, bad signature, unknown key, bad time)",
		d->tsig_fail);
	counter(b, "fedns_spoke_notify_sent_total", "NOTIFY messages sent", d->notify_sent);
	counter(b, "fedns_spoke_notify_acked_total", "NOTIFY messages answered", d->notify_acked);
}
