/* SPDX-License-Identifier: Apache-2.0 */
/* fedns-spoke: the per-cluster daemon. Standalone mode serves zones loaded from files and
 * takes new versions through a local control socket; hub mode (--hub) takes zones only
 * from the hub's signed change sets and reports the secondaries' state back. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/file.h"
#include "common/log.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "spoke/dnssrv.h"
#include "spoke/httpd.h"
#include "spoke/hubsession.h"
#include "spoke/journal.h"
#include "spoke/metrics.h"
#include "spoke/verifier.h"
#include "spoke/xfrclient.h"
#include "spoke/zoneset.h"

#define ZONE_FILE_MAX ((size_t)4 << 30)
#define CTL_LINE_MAX 8192
#define SPOKE_SOFTWARE "fedns-spoke/0.1.0"
#define DISCOVER_INTERVAL_S 30
#define HUB_KEYS_MAX 16

static volatile sig_atomic_t stop_requested;
/* set once zones were restored from --state-dir: a --zone file that is not newer than
 * the restored version is then expected, not an error */
static bool state_restored;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: fedns-spoke [options]            run the spoke (standalone mode)\n"
		"       fedns-spoke ctl SOCKET COMMAND...   talk to a running spoke\n"
		"       fedns-spoke probe [--tsig-keyfile F] SERVER ZONE soa|axfr|digest\n"
		"                 query a server as the verifier does: SOA serial, the zone by\n"
		"                 AXFR (printed), or serial and ZONEMD SHA-384 of its AXFR\n"
		"\n"
		"options:\n"
		"  --listen ADDR[:PORT]      DNS address (default 127.0.0.1:5300; port 0 = any)\n"
		"  --zone FILE               serve the zone in FILE (origin from its SOA), "
		"repeatable\n"
		"  --zones DIR               serve every *.zone file in DIR\n"
		"  --catalog NAME            serve an RFC 9432 catalog zone NAME listing the "
		"zones\n"
		"  --tsig-keyfile FILE       TSIG keys in BIND key-file format, repeatable\n"
		"  --tsig-dir DIR            one TSIG key as files DIR/name DIR/algorithm "
		"DIR/secret\n"
		"                            (a mounted Kubernetes Secret), repeatable\n"
		"  --allow-unsigned-transfers  serve AXFR/IXFR without TSIG (off by default)\n"
		"  --notify ADDR[:PORT]      secondary to NOTIFY on each new serial, repeatable\n"
		"  --notify-gap-ms N         minimum time between NOTIFYs to one secondary for "
		"one\n"
		"                            zone (default 500; BIND queues faster ones)\n"
		"  --journal N               diffs kept per zone for IXFR (default 1000)\n"
		"  --state-dir DIR           durable journal (created 0700): zones, serials and\n"
		"                            IXFR history survive a restart; every change is\n"
		"                            written there before it is served\n"
		"  --max-tcp N               concurrent TCP connections (default 256)\n"
		"  --tcp-idle-ms N           idle TCP connections close after N ms (default "
		"10000)\n"
		"  --control PATH            unix control socket for 'ctl'\n"
		"  --port-file PATH          write the bound DNS port there once serving\n"
		"  --log-level LEVEL         debug, info, warn, error (default info)\n"
		"  --http ADDR:PORT          operator endpoint: /healthz /readyz /metrics\n"
		"\n"
		"hub mode (zones come only from the hub; --zone/--zones are refused):\n"
		"  --hub tls+tcp://HOST:PORT the hub's spoke listener\n"
		"  --hub-name NAME           the hub's DNS name in its certificate (required)\n"
		"  --cluster NAME            this cluster (the CN of --cert)\n"
		"  --cert FILE --key FILE    the spoke's certificate and key (PEM)\n"
		"  --ca FILE [--crl FILE]    CA bundle (and CRL) the hub's certificate chains to\n"
		"  --hub-key FILE            pinned hub signing public key (PEM); repeatable, for\n"
		"                            key rotation; at least one\n"
		"  --status-interval-ms N    status report cadence (default 1000; a changed state\n"
		"                            is reported at once)\n"
		"  --heartbeat-ms N          idle heartbeat; a hub silent for 3 intervals is\n"
		"                            reconnected (default 5000)\n"
		"\n"
		"verification of the secondaries (off without --secondary):\n"
		"  --secondary NAME=ADDR[:PORT]  a BIND9 secondary to verify: SOA until our\n"
		"                            serial, then AXFR back and ZONEMD compare; "
		"repeatable\n"
		"  --verify-key NAME         TSIG key (from --tsig-*) for the AXFRs back (default\n"
		"                            the first key; none with --allow-unsigned-transfers)\n"
		"  --verify-interval S       full verification period (default 300)\n"
		"  --verify-deadline S       SOA polling before a secondary is lagging (default "
		"30)\n"
		"  --verify-coalesce-ms N    new serials of a zone within N ms make one pass\n"
		"                            (default 50; lag_ms is measured from there on)\n"
		"  --rndc NAME=HOST[:PORT]   repair a diverged secondary NAME with rndc\n"
		"                            -s HOST -p PORT retransfer ZONE; repeatable\n"
		"  --rndc-key FILE           rndc -k FILE (its key)\n"
		"  --rndc-conf FILE          rndc -c FILE (keys per server in rndc.conf)\n"
		"  --rndc-bin PATH           the rndc program (default rndc from PATH)\n"
		"  --secondaries-from HOST:PORT  discover secondaries by resolving HOST (a\n"
		"                            headless Service) every 30 s: each address is\n"
		"                            NOTIFYed and verified, named by its address\n"
		"\n"
		"ctl commands:\n"
		"  load FILE                 add a zone, or replace it with a newer version\n"
		"                            (secondaries get the difference by IXFR)\n"
		"  remove ORIGIN             stop serving a zone (it leaves the catalog)\n"
		"  serial ORIGIN             print the served serial\n"
		"  list                      print the served zones\n"
		"  status                    one line per zone and secondary: state, serials,\n"
		"                            lag, last proof of the bytes, repairs, digest\n"
		"  verify                    verify every zone on every secondary now\n");
}

/* Reads FILE into a finished zone; the origin is the owner of its leading SOA. */
static fedns_err
load_zone_file(const char *file, fedns_zone **out, fedns_diag *d)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	fedns_zone *z = NULL;
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_err err = fedns_file_read(file, ZONE_FILE_MAX, &text, &len, d);
	if (err != FEDNS_OK)
		goto out;
	err = fedns_zonefile_origin(text, len, origin, &olen, d);
	if (err != FEDNS_OK) {
		fedns_diag_locate(d, file, 0);
		goto out;
	}
	err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	dir = fedns_path_dirname(file);
	if (err != FEDNS_OK || dir == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	fedns_zonefile_opts opts = {
		.origin = origin, .include = fedns_file_include, .include_ctx = dir};
	err = fedns_zonefile_parse(file, text, len, &opts, z, d);
	if (err == FEDNS_OK) {
		err = fedns_zone_finish(z, NULL, NULL);
		if (err != FEDNS_OK)
			fedns_diag_set(d, err,
				       "%s: zone breaks the zone rules (run fednsctl zone "
				       "check for the list)",
				       file);
	}
	if (err == FEDNS_OK) {
		*out = z;
		z = NULL;
	}
out:
	fedns_zone_free(z);
	free(dir);
	free(text);
	return err;
}

static void
log_diag(const char *event, const fedns_diag *d)
{
	char buf[FEDNS_DIAG_MSG_MAX + 300];
	fedns_log(FEDNS_LOG_ERROR, event,
		  FEDNS_LF_STR("error", fedns_diag_format(d, buf, sizeof(buf))));
}

/* Loads a Kubernetes-Secret-style key directory: files name, algorithm, secret. */
static fedns_err
load_tsig_dir(fedns_tsig_keyring *ring, const char *dir, fedns_diag *d)
{
	static const char *parts[] = {"name", "algorithm", "secret"};
	char *val[3] = {NULL, NULL, NULL};
	size_t len[3];
	fedns_err err = FEDNS_OK;
	for (int i = 0; i < 3 && err == FEDNS_OK; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, parts[i]);
		err = fedns_file_read(path, 4096, &val[i], &len[i], d);
		/* trim trailing whitespace (a Secret's value often ends in a newline) */
		while (err == FEDNS_OK && len[i] > 0 && strchr(" \t\r\n", val[i][len[i] - 1]))
			val[i][--len[i]] = '\0';
	}
	if (err == FEDNS_OK)
		err = fedns_tsig_keyring_add(ring, val[0], val[1], val[2], len[2], d);
	for (int i = 0; i < 3; i++) {
		if (val[i] != NULL) {
			fedns_secure_zero(val[i], strlen(val[i]));
			free(val[i]);
		}
	}
	return err;
}

typedef struct spoke_main {
	spoke_zoneset *zs;
	spoke_dnssrv *srv;
	/* The verifier is rebuilt when discovery changes the secondaries (its table is sized
	 * by them), so every use takes vmu. NULL without secondaries. */
	pthread_mutex_t vmu;
	spoke_verifier *verifier;
	spoke_verifier_opts vo_cur;  /* what the current verifier was built with */
	spoke_verifier_opts vo_base; /* --secondary and the verification knobs */
	const spoke_dnssrv_opts *so; /* the configured --notify targets */
	/* --secondaries-from */
	const char *disc_host, *disc_port;
	pthread_t disc_thread;
	bool disc_running, disc_stop;
	pthread_cond_t disc_cv;
	struct sockaddr_storage found[SPOKE_VERIFY_SECONDARIES_MAX];
	socklen_t found_len[SPOKE_VERIFY_SECONDARIES_MAX];
	size_t nfound;
	/* hub mode */
	const fedns_tsig_key *vkey; /* TSIG key for the AXFRs back from secondaries */
	bool hub_mode;
	spoke_hubstate *hub;
	spoke_hubsession *hs;
	/* the session the verifier's table changes are told to (NULL before it starts and
	 * once it is being freed); kmu only guards this pointer */
	pthread_mutex_t kmu;
	spoke_hubsession *kick_hs;
	spoke_httpd *httpd;
	int ctl_fd;
	pthread_t ctl_thread;
	bool ctl_running;
} spoke_main;

static void
on_zone_change(void *ctx, const uint8_t *origin, uint32_t serial)
{
	spoke_main *m = ctx;
	char name[FEDNS_NAME_MAXTEXT];
	fedns_name_to_text(origin, name, sizeof(name));
	fedns_log(FEDNS_LOG_INFO, "zone.serial.changed", FEDNS_LF_STR("zone", name),
		  FEDNS_LF_UINT("serial", serial));
	spoke_dnssrv_notify(m->srv, origin, serial);
	pthread_mutex_lock(&m->vmu);
	spoke_verifier_zone_changed(m->verifier, origin, serial);
	pthread_mutex_unlock(&m->vmu);
}

/* The verifier's table changed: the hub session reports it now instead of finding it
 * on its next look. */
static void
verifier_table_changed(void *ctx)
{
	spoke_main *m = ctx;
	pthread_mutex_lock(&m->kmu);
	spoke_hubsession_status_changed(m->kick_hs);
	pthread_mutex_unlock(&m->kmu);
}

/* Installs a verifier for o's secondaries (none: no verifier) in place of the current
 * one. The old one's table is lost: the new one verifies every zone at once. */
static fedns_err
verifier_set(spoke_main *m, const spoke_verifier_opts *o)
{
	spoke_verifier *nv = NULL;
	if (o->nsecondaries > 0) {
		fedns_err err = spoke_verifier_new(o, m->zs, NULL, NULL, &nv);
		if (err == FEDNS_OK) {
			spoke_verifier_set_listener(nv, verifier_table_changed, m);
			err = spoke_verifier_start(nv);
		}
		if (err != FEDNS_OK) {
			spoke_verifier_free(nv);
			return err;
		}
	}
	pthread_mutex_lock(&m->vmu);
	spoke_verifier *old = m->verifier;
	m->verifier = nv;
	m->vo_cur = *o;
	pthread_mutex_unlock(&m->vmu);
	spoke_verifier_free(old);
	return FEDNS_OK;
}

static void
addr_text(const struct sockaddr_storage *ss, socklen_t len, bool with_port, char *out, size_t outsz)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, outsz, "?");
		return;
	}
	int n;
	if (!with_port)
		n = snprintf(out, outsz, "%s", host);
	else if (ss->ss_family == AF_INET6)
		n = snprintf(out, outsz, "[%s]:%s", host, serv);
	else
		n = snprintf(out, outsz, "%s:%s", host, serv);
	if (n < 0 || (size_t)n >= outsz) /* numeric addresses always fit; never half of one */
		snprintf(out, outsz, "?");
}

/* The hub session's view of the verifier. */
static size_t
hub_status_rows(void *ctx, spoke_verify_row **rows)
{
	spoke_main *m = ctx;
	*rows = NULL;
	pthread_mutex_lock(&m->vmu);
	size_t n = m->verifier != NULL ? spoke_verifier_status(m->verifier, rows) : 0;
	pthread_mutex_unlock(&m->vmu);
	return n;
}

static void
hub_secondary_address(void *ctx, const char *name, char *out, size_t outsz)
{
	spoke_main *m = ctx;
	out[0] = '\0';
	pthread_mutex_lock(&m->vmu);
	for (size_t i = 0; i < m->vo_cur.nsecondaries; i++) {
		const spoke_secondary *s = &m->vo_cur.secondaries[i];
		if (strcmp(s->name, name) == 0) {
			addr_text(&s->addr, s->addr_len, true, out, outsz);
			break;
		}
	}
	pthread_mutex_unlock(&m->vmu);
}

/* ---- --secondaries-from ---- */

static int
ss_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sockaddr_storage));
}

/* Resolves the discovery name; the addresses sorted and unique. -1 on failure. */
static long
discover_resolve(spoke_main *m, struct sockaddr_storage *out, socklen_t *lens, size_t max)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(m->disc_host, m->disc_port, &hints, &res);
	if (r != 0) {
		fedns_log(FEDNS_LOG_WARN, "spoke.secondaries.resolve_failed",
			  FEDNS_LF_STR("host", m->disc_host),
			  FEDNS_LF_STR("error", gai_strerror(r)));
		return -1;
	}
	size_t n = 0;
	for (struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out[0]))
			continue;
		memset(&out[n], 0, sizeof(out[0]));
		memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	freeaddrinfo(res);
	qsort(out, n, sizeof(out[0]), ss_cmp);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || ss_cmp(&out[w - 1], &out[i]) != 0)
			out[w++] = out[i];
	for (size_t i = 0; i < w; i++)
		lens[i] = out[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);
	return (long)w;
}

/* Applies a discovered set: NOTIFY targets and verified secondaries. */
static void
discover_apply(spoke_main *m, const struct sockaddr_storage *found, const socklen_t *lens, size_t n)
{
	spoke_verifier_opts o = m->vo_base;
	bool rndc = o.rndc_key != NULL || o.rndc_conf != NULL;
	for (size_t i = 0; i < n && o.nsecondaries < SPOKE_VERIFY_SECONDARIES_MAX; i++) {
		spoke_secondary s;
		memset(&s, 0, sizeof(s));
		char host[SPOKE_SECONDARY_NAME_MAX];
		addr_text(&found[i], lens[i], false, host, sizeof(host));
		/* a secondary's name is [A-Za-z0-9._-]: an IPv6 address keeps its digits */
		snprintf(s.name, sizeof(s.name), "%s", host);
		for (char *c = s.name; *c; c++)
			if (*c == ':')
				*c = '-';
		bool dup = false;
		for (size_t k = 0; k < o.nsecondaries && !dup; k++)
			dup = strcmp(o.secondaries[k].name, s.name) == 0 ||
			      (o.secondaries[k].addr_len == lens[i] &&
			       memcmp(&o.secondaries[k].addr, &found[i], lens[i]) == 0);
		if (dup)
			continue;
		s.addr = found[i];
		s.addr_len = lens[i];
		s.key = m->vkey;
		if (rndc)
			snprintf(s.rndc_host, sizeof(s.rndc_host), "%s", host);
		o.secondaries[o.nsecondaries++] = s;
	}
	if (verifier_set(m, &o) != FEDNS_OK)
		fedns_log(FEDNS_LOG_ERROR, "verify.start.failed",
			  FEDNS_LF_UINT("secondaries", o.nsecondaries));
	struct sockaddr_storage t[64];
	socklen_t tl[64];
	size_t nt = 0;
	for (size_t i = 0; i < m->so->nnotify && nt < 64; i++) {
		t[nt] = m->so->notify[i];
		tl[nt++] = m->so->notify_len[i];
	}
	for (size_t i = 0; i < n && nt < 64; i++) {
		bool dup = false;
		for (size_t k = 0; k < nt && !dup; k++)
			dup = tl[k] == lens[i] && memcmp(&t[k], &found[i], lens[i]) == 0;
		if (!dup) {
			t[nt] = found[i];
			tl[nt++] = lens[i];
		}
	}
	spoke_dnssrv_set_notify(m->srv, t, tl, nt);
	/* the new secondaries learn every zone's serial now */
	uint8_t **list = NULL;
	size_t nz = spoke_zoneset_list(m->zs, &list);
	for (size_t i = 0; i < nz; i++) {
		spoke_version *v = spoke_zoneset_get(m->zs, list[i]);
		if (v != NULL)
			spoke_dnssrv_notify(m->srv, list[i], v->serial);
		spoke_version_rele(v);
	}
	spoke_zoneset_list_free(list, nz);
}

static void *
discover_main(void *arg)
{
	spoke_main *m = arg;
	pthread_mutex_lock(&m->vmu);
	while (!m->disc_stop) {
		pthread_mutex_unlock(&m->vmu);
		struct sockaddr_storage got[SPOKE_VERIFY_SECONDARIES_MAX];
		socklen_t lens[SPOKE_VERIFY_SECONDARIES_MAX];
		long n = discover_resolve(m, got, lens, SPOKE_VERIFY_SECONDARIES_MAX);
		/* a failed lookup keeps the last set: a DNS hiccup must not drop every
		 * secondary from verification */
		if (n >= 0 && ((size_t)n != m->nfound ||
			       memcmp(got, m->found, (size_t)n * sizeof(got[0])) != 0)) {
			size_t added = 0, removed = 0;
			for (long i = 0; i < n; i++) {
				bool known = false;
				for (size_t k = 0; k < m->nfound && !known; k++)
					known = ss_cmp(&got[i], &m->found[k]) == 0;
				added += !known;
			}
			removed = m->nfound + added - (size_t)n;
			fedns_log(FEDNS_LOG_INFO, "spoke.secondaries.discovered",
				  FEDNS_LF_STR("host", m->disc_host), FEDNS_LF_INT("count", n),
				  FEDNS_LF_UINT("added", added), FEDNS_LF_UINT("removed", removed));
			memcpy(m->found, got, (size_t)n * sizeof(got[0]));
			memcpy(m->found_len, lens, (size_t)n * sizeof(lens[0]));
			m->nfound = (size_t)n;
			discover_apply(m, got, lens, (size_t)n);
		}
		pthread_mutex_lock(&m->vmu);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += DISCOVER_INTERVAL_S;
		while (!m->disc_stop &&
		       pthread_cond_timedwait(&m->disc_cv, &m->vmu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&m->vmu);
	return NULL;
}

/* ---- the operator endpoint ---- */

static void
http_metrics(void *ctx, fedns_buf *out)
{
	spoke_main *m = ctx;
	spoke_hubsession_stats hss;
	spoke_hubstate_stats hst;
	spoke_dnssrv_stats ds;
	spoke_metrics_input in = {0};
	if (m->hs != NULL) {
		spoke_hubsession_get_stats(m->hs, &hss);
		spoke_hubstate_get_stats(m->hub, &hst);
		in.session = &hss;
		in.hub = &hst;
	}
	if (m->srv != NULL) {
		spoke_dnssrv_get_stats(m->srv, &ds);
		in.dns = &ds;
		in.dns_listening = true;
	}
	uint8_t **list = NULL;
	in.zones_served = spoke_zoneset_list(m->zs, &list);
	spoke_zoneset_list_free(list, in.zones_served);
	spoke_verify_row *rows = NULL;
	pthread_mutex_lock(&m->vmu);
	in.secondaries = m->verifier != NULL ? m->vo_cur.nsecondaries : 0;
	in.nrows = m->verifier != NULL ? spoke_verifier_status(m->verifier, &rows) : 0;
	pthread_mutex_unlock(&m->vmu);
	in.rows = rows;
	spoke_metrics_write(&in, out);
	free(rows);
}

static bool
http_ready(void *ctx, fedns_buf *j)
{
	spoke_main *m = ctx;
	bool dns = m->srv != NULL;
	const char *hub = "none";
	bool hub_ok = true;
	if (m->hub_mode) {
		spoke_hubsession_stats st = {0};
		if (m->hs != NULL)
			spoke_hubsession_get_stats(m->hs, &st);
		hub = st.authenticated ? "authenticated"
		      : st.connected   ? "connected"
				       : "connecting";
		hub_ok = st.authenticated;
	}
	uint8_t **list = NULL;
	size_t nz = spoke_zoneset_list(m->zs, &list);
	spoke_zoneset_list_free(list, nz);
	fedns_buf_printf(j, "\"hub\":\"%s\",\"dns\":\"%s\",\"zones\":%zu", hub,
			 dns ? "listening" : "down", nz);
	return dns && hub_ok;
}

/* Executes one control line; writes one answer line ("ok ..." or "error ..."). */
static void
ctl_exec(spoke_main *m, char *line, char *ans, size_t anssz)
{
	char *save = NULL;
	char *cmd = strtok_r(line, " \t\r\n", &save);
	char *arg = strtok_r(NULL, "\r\n", &save);
	fedns_diag d;
	fedns_diag_clear(&d);
	char msg[FEDNS_DIAG_MSG_MAX + 300];
	if (cmd == NULL) {
		snprintf(ans, anssz, "error empty command\n");
		return;
	}
	if (m->hub_mode && (strcmp(cmd, "load") == 0 || strcmp(cmd, "remove") == 0)) {
		/* a zone changed behind the hub's back would break the change-set chain */
		snprintf(ans, anssz, "error zones come from the hub (--hub): %s is refused\n", cmd);
		return;
	}
	if (strcmp(cmd, "load") == 0 && arg != NULL) {
		fedns_zone *z = NULL;
		fedns_err err = load_zone_file(arg, &z, &d);
		if (err == FEDNS_OK) {
			uint32_t serial = fedns_zone_serial(z);
			err = spoke_zoneset_put(m->zs, z, &d);
			if (err == FEDNS_OK) {
				snprintf(ans, anssz, "ok serial %u\n", serial);
				return;
			}
			fedns_zone_free(z);
		}
		snprintf(ans, anssz, "error %s\n", fedns_diag_format(&d, msg, sizeof(msg)));
		return;
	}
	if ((strcmp(cmd, "remove") == 0 || strcmp(cmd, "serial") == 0) && arg != NULL) {
		static const uint8_t root[1] = {0};
		uint8_t name[FEDNS_NAME_MAXLEN];
		size_t nl;
		if (fedns_name_from_text(arg, strlen(arg), root, name, &nl, &d) != FEDNS_OK) {
			snprintf(ans, anssz, "error %s\n", d.msg);
			return;
		}
		if (strcmp(cmd, "remove") == 0) {
			fedns_err err = spoke_zoneset_remove(m->zs, name);
			snprintf(ans, anssz,
				 err == FEDNS_OK ? "ok removed\n" : "error not served\n");
			return;
		}
		spoke_version *v = spoke_zoneset_get(m->zs, name);
		if (v == NULL) {
			snprintf(ans, anssz, "error not served\n");
			return;
		}
		snprintf(ans, anssz, "ok %u\n", v->serial);
		spoke_version_rele(v);
		return;
	}
	if (strcmp(cmd, "list") == 0) {
		uint8_t **list = NULL;
		size_t n = spoke_zoneset_list(m->zs, &list);
		size_t off = (size_t)snprintf(ans, anssz, "ok");
		for (size_t i = 0; i < n && off < anssz; i++) {
			char t[FEDNS_NAME_MAXTEXT];
			fedns_name_to_text(list[i], t, sizeof(t));
			off += (size_t)snprintf(ans + off, anssz - off, " %s", t);
		}
		if (off < anssz)
			snprintf(ans + off, anssz - off, "\n");
		spoke_zoneset_list_free(list, n);
		return;
	}
	if (strcmp(cmd, "verify") == 0) {
		pthread_mutex_lock(&m->vmu);
		if (m->verifier != NULL)
			spoke_verifier_verify_all(m->verifier);
		bool have = m->verifier != NULL;
		pthread_mutex_unlock(&m->vmu);
		if (!have)
			snprintf(ans, anssz, "error no secondaries to verify (--secondary)\n");
		else
			snprintf(ans, anssz, "ok verification scheduled\n");
		return;
	}
	snprintf(ans, anssz,
		 "error unknown command (load FILE, remove ORIGIN, serial ORIGIN, "
		 "list, status, verify)\n");
}

/* The status table: "ok N rows" and one line per (zone, secondary); it can be far longer
 * than one answer buffer, so it is built whole and written out. */
static void
ctl_status(spoke_main *m, int fd)
{
	fedns_buf b;
	fedns_buf_init(&b, (size_t)256 << 20);
	pthread_mutex_lock(&m->vmu);
	spoke_verify_row *rows = NULL;
	bool have = m->verifier != NULL;
	size_t n = have ? spoke_verifier_status(m->verifier, &rows) : 0;
	pthread_mutex_unlock(&m->vmu);
	if (!have) {
		fedns_buf_puts(&b, "error no secondaries to verify (--secondary)\n");
	} else {
		fedns_buf_printf(&b, "ok %zu rows\n", n);
		for (size_t i = 0; i < n; i++)
			spoke_verify_row_format(&rows[i], &b);
		free(rows);
	}
	if (b.err != FEDNS_OK) {
		fedns_buf_clear(&b);
		fedns_buf_puts(&b, "error out of memory\n");
	}
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	fedns_buf_fini(&b);
}

static void *
ctl_main(void *arg)
{
	spoke_main *m = arg;
	char *line = malloc(CTL_LINE_MAX), *ans = malloc(CTL_LINE_MAX * 2);
	while (line != NULL && ans != NULL && __atomic_load_n(&m->ctl_running, __ATOMIC_ACQUIRE)) {
		int fd = accept(m->ctl_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		struct timeval tv = {.tv_sec = 5};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		size_t n = 0;
		while (n < CTL_LINE_MAX - 1) {
			ssize_t r = recv(fd, line + n, CTL_LINE_MAX - 1 - n, 0);
			if (r <= 0)
				break;
			n += (size_t)r;
			if (memchr(line, '\n', n) != NULL)
				break;
		}
		line[n] = '\0';
		if (strncmp(line, "status", 6) == 0 && strchr(" \t\r\n", line[6]) != NULL) {
			ctl_status(m, fd);
			close(fd);
			continue;
		}
		ctl_exec(m, line, ans, CTL_LINE_MAX * 2);
		ssize_t w = send(fd, ans, strlen(ans), MSG_NOSIGNAL);
		(void)w;
		close(fd);
	}
	free(line);
	free(ans);
	return NULL;
}

static int
ctl_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* only the owner may drive the spoke */
	mode_t old = umask(077);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
ctl_client(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	char line[CTL_LINE_MAX];
	size_t off = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char abs[PATH_MAX];
		/* file arguments are resolved here: the daemon's directory may differ */
		if (i == 2 && strcmp(argv[1], "load") == 0 && realpath(a, abs) != NULL)
			a = abs;
		int n = snprintf(line + off, sizeof(line) - off, "%s%s", i > 1 ? " " : "", a);
		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(stderr, "fedns-spoke ctl: command too long\n");
			return 2;
		}
		off += (size_t)n;
	}
	line[off++] = '\n';
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(argv[0]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fedns-spoke ctl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[0]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "fedns-spoke ctl: cannot connect to %s: %s\n", argv[0],
			strerror(errno));
		return 1;
	}
	if (send(fd, line, off, MSG_NOSIGNAL) != (ssize_t)off) {
		fprintf(stderr, "fedns-spoke ctl: send failed\n");
		close(fd);
		return 1;
	}
	/* streamed: a status table can be longer than any fixed buffer */
	char ans[CTL_LINE_MAX * 2];
	size_t n = 0;
	FILE *out = NULL;
	for (;;) {
		ssize_t r = recv(fd, ans + n, sizeof(ans) - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			n += (size_t)r;
		if (out == NULL && (n >= 2 || r <= 0))
			out = n >= 2 && strncmp(ans, "ok", 2) == 0 ? stdout : stderr;
		if (out != NULL && n > 0) {
			fwrite(ans, 1, n, out);
			n = 0;
		}
		if (r <= 0)
			break;
	}
	close(fd);
	return out == stdout ? 0 : 1;
}

static int
probe(int argc, char **argv)
{
	static fedns_tsig_keyring keys;
	const char *keyfile = NULL;
	int i = 0;
	if (argc >= 2 && strcmp(argv[0], "--tsig-keyfile") == 0) {
		keyfile = argv[1];
		i = 2;
	}
	if (argc - i != 3) {
		usage(stderr);
		return 2;
	}
	fedns_diag d;
	fedns_diag_clear(&d);
	char msg[FEDNS_DIAG_MSG_MAX + 300];
	spoke_xfrclient_opts o = {.timeout_ms = 5000};
	if (spoke_parse_addr(argv[i], 53, &o.server, &o.server_len) != FEDNS_OK) {
		fprintf(stderr, "fedns-spoke probe: \"%s\" is not an address\n", argv[i]);
		return 2;
	}
	static const uint8_t root[1] = {0};
	uint8_t zone[FEDNS_NAME_MAXLEN];
	size_t zl;
	if (fedns_name_from_text(argv[i + 1], strlen(argv[i + 1]), root, zone, &zl, &d) !=
	    FEDNS_OK) {
		fprintf(stderr, "fedns-spoke probe: zone \"%s\": %s\n", argv[i + 1], d.msg);
		return 2;
	}
	if (keyfile != NULL) {
		char *text = NULL;
		size_t len = 0;
		fedns_err err = fedns_file_read(keyfile, 1 << 20, &text, &len, &d);
		if (err == FEDNS_OK)
			err = fedns_tsig_keyring_parse_bind(&keys, keyfile, text, len, &d);
		if (text != NULL) {
			fedns_secure_zero(text, len);
			free(text);
		}
		if (err != FEDNS_OK) {
			fprintf(stderr, "fedns-spoke probe: %s\n",
				fedns_diag_format(&d, msg, sizeof(msg)));
			return 2;
		}
		o.key = &keys.keys[0];
	}
	const char *what = argv[i + 2];
	fedns_err err;
	int rc = 0;
	if (strcmp(what, "soa") == 0) {
		uint32_t serial;
		err = spoke_xfrclient_soa(&o, zone, &serial, &d);
		if (err == FEDNS_OK)
			printf("%u\n", serial);
	} else if (strcmp(what, "digest") == 0) {
		uint8_t digest[48];
		uint32_t serial;
		err = spoke_xfrclient_digest(&o, zone, digest, &serial, &d);
		if (err == FEDNS_OK) {
			char hex[97];
			fedns_hex_encode(digest, sizeof(digest), hex, 0);
			printf("%u %s\n", serial, hex);
		}
	} else if (strcmp(what, "axfr") == 0) {
		fedns_zone *z = NULL;
		err = spoke_xfrclient_axfr(&o, zone, &z, &d);
		if (err == FEDNS_OK) {
			fedns_buf b;
			fedns_buf_init(&b, 0);
			err = fedns_zone_print(z, &b);
			if (err == FEDNS_OK)
				fwrite(b.data, 1, b.len, stdout);
			fedns_buf_fini(&b);
			fedns_zone_free(z);
		}
	} else {
		usage(stderr);
		rc = 2;
		err = FEDNS_OK;
	}
	if (err != FEDNS_OK) {
		fprintf(stderr, "fedns-spoke probe: %s\n", fedns_diag_format(&d, msg, sizeof(msg)));
		rc = 1;
	}
	fedns_tsig_keyring_wipe(&keys);
	return rc;
}

static bool
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max)
		return false;
	*out = v;
	return true;
}

static int
add_zone_file(spoke_zoneset *zs, const char *file)
{
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_zone *z = NULL;
	fedns_err err = load_zone_file(file, &z, &d);
	if (err == FEDNS_OK) {
		err = spoke_zoneset_put(zs, z, &d);
		if (err != FEDNS_OK)
			fedns_zone_free(z);
	}
	if (err == FEDNS_ESTALE && state_restored) {
		fedns_log(FEDNS_LOG_INFO, "zone.file.not_newer", FEDNS_LF_STR("file", file),
			  FEDNS_LF_STR("detail", d.msg));
		return 0;
	}
	if (err != FEDNS_OK) {
		fedns_diag_locate(&d, file, 0);
		log_diag("zone.load.failed", &d);
		return -1;
	}
	return 0;
}

static int
add_zone_dir(spoke_zoneset *zs, const char *dir)
{
	DIR *dp = opendir(dir);
	if (dp == NULL) {
		fedns_log(FEDNS_LOG_ERROR, "zone.dir.failed", FEDNS_LF_STR("dir", dir),
			  FEDNS_LF_STR("error", strerror(errno)));
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(dp)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".zone") != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (add_zone_file(zs, path) != 0)
			rc = -1;
	}
	closedir(dp);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_client(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe(argc - 2, argv + 2);

	fedns_log_setup(stderr, FEDNS_LOG_INFO);
	static fedns_tsig_keyring keys;
	spoke_dnssrv_opts so;
	spoke_dnssrv_opts_default(&so);
	spoke_zoneset_opts zo = {0};
	uint8_t catalog[FEDNS_NAME_MAXLEN];
	const char *listen_s = "127.0.0.1:5300", *control = NULL, *port_file = NULL;
	const char **zone_files = calloc((size_t)argc, sizeof(char *));
	const char **zone_dirs = calloc((size_t)argc, sizeof(char *));
	size_t nfiles = 0, ndirs = 0;
	const char *state_dir = NULL;
	spoke_journal *journal = NULL;
	spoke_verifier_opts vo;
	spoke_verifier_opts_default(&vo);
	const char **rndc_args = calloc((size_t)argc, sizeof(char *));
	size_t nrndc = 0;
	const char *verify_key = NULL;
	const char *http_listen = NULL, *secondaries_from = NULL;
	spoke_hubsession_opts ho = {.software_version = SPOKE_SOFTWARE};
	const char *hub_keys[HUB_KEYS_MAX];
	size_t nhub_keys = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	int rc = 1;
	spoke_main m = {.ctl_fd = -1};
	char disc_host[256], disc_port[16];
	pthread_mutex_init(&m.vmu, NULL);
	pthread_mutex_init(&m.kmu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&m.disc_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (zone_files == NULL || zone_dirs == NULL || rndc_args == NULL)
		goto out;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long n;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--allow-unsigned-transfers") == 0) {
			so.require_tsig = false;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "fedns-spoke: %s needs a value\n", a);
			rc = 2;
			goto out;
		}
		i++;
		if (strcmp(a, "--listen") == 0) {
			listen_s = v;
		} else if (strcmp(a, "--zone") == 0) {
			zone_files[nfiles++] = v;
		} else if (strcmp(a, "--zones") == 0) {
			zone_dirs[ndirs++] = v;
		} else if (strcmp(a, "--catalog") == 0) {
			static const uint8_t root[1] = {0};
			size_t cl;
			if (fedns_name_from_text(v, strlen(v), root, catalog, &cl, &d) !=
			    FEDNS_OK) {
				fprintf(stderr, "fedns-spoke: --catalog \"%s\": %s\n", v, d.msg);
				rc = 2;
				goto out;
			}
			zo.catalog_origin = catalog;
		} else if (strcmp(a, "--tsig-keyfile") == 0) {
			char *text = NULL;
			size_t len = 0;
			if (fedns_file_read(v, 1 << 20, &text, &len, &d) != FEDNS_OK ||
			    fedns_tsig_keyring_parse_bind(&keys, v, text, len, &d) != FEDNS_OK) {
				char b[FEDNS_DIAG_MSG_MAX + 300];
				fprintf(stderr, "fedns-spoke: %s\n",
					fedns_diag_format(&d, b, sizeof(b)));
				if (text != NULL) {
					fedns_secure_zero(text, len);
					free(text);
				}
				rc = 2;
				goto out;
			}
			fedns_secure_zero(text, len);
			free(text);
		} else if (strcmp(a, "--tsig-dir") == 0) {
			if (load_tsig_dir(&keys, v, &d) != FEDNS_OK) {
				char b[FEDNS_DIAG_MSG_MAX + 300];
				fprintf(stderr, "fedns-spoke: --tsig-dir %s: %s\n", v,
					fedns_diag_format(&d, b, sizeof(b)));
				rc = 2;
				goto out;
			}
		} else if (strcmp(a, "--notify") == 0) {
			if (so.nnotify == sizeof(so.notify) / sizeof(so.notify[0]) ||
			    spoke_parse_addr(v, 53, &so.notify[so.nnotify],
					     &so.notify_len[so.nnotify]) != FEDNS_OK) {
				fprintf(stderr, "fedns-spoke: --notify \"%s\" is not an address\n",
					v);
				rc = 2;
				goto out;
			}
			so.nnotify++;
		} else if (strcmp(a, "--notify-gap-ms") == 0 && parse_uint(v, 60000, &n)) {
			so.notify_min_gap_ms = (unsigned)n;
		} else if (strcmp(a, "--journal") == 0 && parse_uint(v, 1000000, &n) && n > 0) {
			zo.journal_max = n;
		} else if (strcmp(a, "--max-tcp") == 0 && parse_uint(v, 100000, &n) && n > 0) {
			so.max_tcp_conns = n;
		} else if (strcmp(a, "--tcp-idle-ms") == 0 && parse_uint(v, 3600000, &n) && n > 0) {
			so.tcp_idle_ms = (unsigned)n;
		} else if (strcmp(a, "--secondary") == 0) {
			spoke_secondary *sec = &vo.secondaries[vo.nsecondaries];
			if (vo.nsecondaries == SPOKE_VERIFY_SECONDARIES_MAX) {
				fprintf(stderr, "fedns-spoke: more than %d --secondary\n",
					SPOKE_VERIFY_SECONDARIES_MAX);
				rc = 2;
				goto out;
			}
			if (spoke_secondary_parse(v, sec, &d) != FEDNS_OK) {
				fprintf(stderr, "fedns-spoke: --secondary: %s\n", d.msg);
				rc = 2;
				goto out;
			}
			for (size_t k = 0; k < vo.nsecondaries; k++) {
				if (strcmp(vo.secondaries[k].name, sec->name) == 0) {
					fprintf(stderr, "fedns-spoke: --secondary %s given twice\n",
						sec->name);
					rc = 2;
					goto out;
				}
			}
			vo.nsecondaries++;
		} else if (strcmp(a, "--rndc") == 0) {
			rndc_args[nrndc++] = v; /* applied once every --secondary is known */
		} else if (strcmp(a, "--rndc-key") == 0) {
			vo.rndc_key = v;
		} else if (strcmp(a, "--rndc-conf") == 0) {
			vo.rndc_conf = v;
		} else if (strcmp(a, "--rndc-bin") == 0) {
			vo.rndc_bin = v;
		} else if (strcmp(a, "--verify-key") == 0) {
			verify_key = v;
		} else if (strcmp(a, "--verify-interval") == 0 && parse_uint(v, 604800, &n) &&
			   n > 0) {
			vo.interval_s = (unsigned)n;
		} else if (strcmp(a, "--verify-deadline") == 0 && parse_uint(v, 3600, &n) &&
			   n > 0) {
			vo.deadline_ms = (unsigned)n * 1000u;
		} else if (strcmp(a, "--verify-coalesce-ms") == 0 && parse_uint(v, 60000, &n)) {
			vo.coalesce_ms = (unsigned)n;
		} else if (strcmp(a, "--hub") == 0) {
			ho.url = v;
		} else if (strcmp(a, "--hub-name") == 0) {
			ho.server_name = v;
		} else if (strcmp(a, "--cluster") == 0) {
			ho.cluster = v;
		} else if (strcmp(a, "--cert") == 0) {
			ho.cert_file = v;
		} else if (strcmp(a, "--key") == 0) {
			ho.key_file = v;
		} else if (strcmp(a, "--ca") == 0) {
			ho.ca_file = v;
		} else if (strcmp(a, "--crl") == 0) {
			ho.crl_file = v;
		} else if (strcmp(a, "--hub-key") == 0) {
			if (nhub_keys == HUB_KEYS_MAX) {
				fprintf(stderr, "fedns-spoke: more than %d --hub-key\n",
					HUB_KEYS_MAX);
				rc = 2;
				goto out;
			}
			hub_keys[nhub_keys++] = v;
		} else if (strcmp(a, "--status-interval-ms") == 0 && parse_uint(v, 3600000, &n) &&
			   n >= 10) {
			ho.status_interval_ms = (unsigned)n;
		} else if (strcmp(a, "--heartbeat-ms") == 0 && parse_uint(v, 3600000, &n) &&
			   n >= 10) {
			ho.heartbeat_ms = (unsigned)n;
		} else if (strcmp(a, "--http") == 0) {
			http_listen = v;
		} else if (strcmp(a, "--secondaries-from") == 0) {
			secondaries_from = v;
		} else if (strcmp(a, "--state-dir") == 0) {
			state_dir = v;
		} else if (strcmp(a, "--control") == 0) {
			control = v;
		} else if (strcmp(a, "--port-file") == 0) {
			port_file = v;
		} else if (strcmp(a, "--log-level") == 0) {
			static const char *lv[] = {"debug", "info", "warn", "error"};
			int k = 0;
			while (k < 4 && strcmp(v, lv[k]) != 0)
				k++;
			if (k == 4) {
				fprintf(stderr, "fedns-spoke: unknown log level \"%s\"\n", v);
				rc = 2;
				goto out;
			}
			fedns_log_setup(stderr, (fedns_log_level)k);
		} else {
			fprintf(stderr, "fedns-spoke: unknown option or bad value: %s %s\n", a, v);
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	m.hub_mode = ho.url != NULL;
	if (m.hub_mode) {
		const char *missing = ho.server_name == NULL ? "--hub-name"
				      : ho.cluster == NULL   ? "--cluster"
				      : ho.cert_file == NULL ? "--cert"
				      : ho.key_file == NULL  ? "--key"
				      : ho.ca_file == NULL   ? "--ca"
				      : nhub_keys == 0	     ? "--hub-key"
							     : NULL;
		if (missing != NULL) {
			fprintf(stderr, "fedns-spoke: --hub needs %s\n", missing);
			rc = 2;
			goto out;
		}
		if (nfiles > 0 || ndirs > 0) {
			fprintf(stderr, "fedns-spoke: --zone/--zones cannot be used with --hub: "
					"zones come only from the hub\n");
			rc = 2;
			goto out;
		}
	} else if (ho.server_name != NULL || ho.cluster != NULL || ho.cert_file != NULL ||
		   ho.key_file != NULL || ho.ca_file != NULL || ho.crl_file != NULL ||
		   nhub_keys > 0 || ho.status_interval_ms != 0 || ho.heartbeat_ms != 0) {
		fprintf(stderr, "fedns-spoke: --hub-name, --cluster, --cert, --key, --ca, --crl, "
				"--hub-key, --status-interval-ms and --heartbeat-ms need --hub\n");
		rc = 2;
		goto out;
	}
	if (secondaries_from != NULL) {
		/* HOST:PORT, HOST alone (port 53), or [IPv6]:PORT */
		const char *hs = secondaries_from, *colon = strrchr(secondaries_from, ':');
		size_t hl = strlen(hs);
		snprintf(disc_port, sizeof(disc_port), "53");
		if (hs[0] == '[') {
			const char *close = strchr(hs, ']');
			if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
				colon = NULL;
				hl = 0;
			} else {
				if (close[1] == ':')
					snprintf(disc_port, sizeof(disc_port), "%s", close + 2);
				hs++;
				hl = (size_t)(close - hs);
			}
		} else if (colon != NULL && strchr(hs, ':') == colon) {
			snprintf(disc_port, sizeof(disc_port), "%s", colon + 1);
			hl = (size_t)(colon - hs);
		}
		unsigned long pn;
		if (hl == 0 || hl >= sizeof(disc_host) || !parse_uint(disc_port, 65535, &pn) ||
		    pn == 0) {
			fprintf(stderr,
				"fedns-spoke: --secondaries-from \"%s\": expected HOST:PORT\n",
				secondaries_from);
			rc = 2;
			goto out;
		}
		memcpy(disc_host, hs, hl);
		disc_host[hl] = '\0';
		m.disc_host = disc_host;
		m.disc_port = disc_port;
	}
	if (spoke_parse_addr(listen_s, 5300, &so.listen, &so.listen_len) != FEDNS_OK) {
		fprintf(stderr, "fedns-spoke: --listen \"%s\" is not an address\n", listen_s);
		rc = 2;
		goto out;
	}
	if (so.require_tsig && keys.n == 0) {
		fprintf(stderr, "fedns-spoke: transfers require TSIG but no key was given "
				"(--tsig-keyfile, --tsig-dir, or --allow-unsigned-transfers)\n");
		rc = 2;
		goto out;
	}
	so.keys = &keys;
	for (size_t i = 0; i < nrndc; i++) {
		if (spoke_secondary_parse_rndc(rndc_args[i], vo.secondaries, vo.nsecondaries, &d) !=
		    FEDNS_OK) {
			fprintf(stderr, "fedns-spoke: --rndc: %s\n", d.msg);
			rc = 2;
			goto out;
		}
	}
	if (vo.nsecondaries > 0 || m.disc_host != NULL) {
		/* the secondaries' AXFRs back are signed with one of the spoke's own keys */
		const fedns_tsig_key *vk = keys.n > 0 ? &keys.keys[0] : NULL;
		if (verify_key != NULL) {
			static const uint8_t root[1] = {0};
			uint8_t kn[FEDNS_NAME_MAXLEN];
			size_t kl;
			if (fedns_name_from_text(verify_key, strlen(verify_key), root, kn, &kl,
						 &d) != FEDNS_OK ||
			    (vk = fedns_tsig_keyring_find(&keys, kn)) == NULL) {
				fprintf(stderr, "fedns-spoke: --verify-key %s: no such TSIG key\n",
					verify_key);
				rc = 2;
				goto out;
			}
		}
		for (size_t i = 0; i < vo.nsecondaries; i++)
			vo.secondaries[i].key = vk;
		vo.skip_origin = zo.catalog_origin;
		m.vkey = vk;
	}
	m.vo_base = vo;
	m.so = &so;

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (spoke_zoneset_new(&zo, &m.zs) != FEDNS_OK)
		goto out;
	if (state_dir != NULL) {
		spoke_journal_opts jo = {.dir = state_dir, .journal_max = zo.journal_max};
		size_t nok = 0, nbad = 0;
		if (spoke_journal_open(&jo, &journal, &d) != FEDNS_OK ||
		    spoke_journal_load(journal, m.zs, &nok, &nbad, &d) != FEDNS_OK) {
			log_diag("spoke.journal.failed", &d);
			goto out;
		}
		fedns_log(FEDNS_LOG_INFO, "spoke.journal.loaded", FEDNS_LF_STR("dir", state_dir),
			  FEDNS_LF_UINT("zones", nok), FEDNS_LF_UINT("failed", nbad));
		spoke_journal_attach(journal, m.zs);
		state_restored = true;
	}
	if (m.hub_mode) {
		/* after the journal: the digest check runs before the journal writes */
		if (spoke_hubstate_new(m.zs, &m.hub) != FEDNS_OK)
			goto out;
		for (size_t i = 0; i < nhub_keys; i++) {
			char id[FEDNS_SIGN_KEYID_LEN + 1];
			if (spoke_hubstate_add_key_file(m.hub, hub_keys[i], id, &d) != FEDNS_OK) {
				log_diag("spoke.hub.key.failed", &d);
				rc = 2;
				goto out;
			}
			fedns_log(FEDNS_LOG_INFO, "spoke.hub.key.pinned",
				  FEDNS_LF_STR("file", hub_keys[i]), FEDNS_LF_STR("key_id", id));
		}
		ho.status = hub_status_rows;
		ho.status_kicks = true; /* verifier_table_changed */
		ho.address = hub_secondary_address;
		ho.ctx = &m;
		if (spoke_hubsession_new(&ho, m.hub, &m.hs, &d) != FEDNS_OK) {
			log_diag("spoke.hub.config.failed", &d);
			rc = 2;
			goto out;
		}
	}
	for (size_t i = 0; i < nfiles; i++)
		if (add_zone_file(m.zs, zone_files[i]) != 0)
			goto out;
	for (size_t i = 0; i < ndirs; i++)
		if (add_zone_dir(m.zs, zone_dirs[i]) != 0)
			goto out;
	if (spoke_dnssrv_start(&so, m.zs, &m.srv, &d) != FEDNS_OK) {
		log_diag("dns.listen.failed", &d);
		goto out;
	}
	if (verifier_set(&m, &vo) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "verify.start.failed",
			  FEDNS_LF_UINT("secondaries", vo.nsecondaries));
		goto out;
	}
	spoke_zoneset_on_change(m.zs, on_zone_change, &m);
	/* secondaries learn about what was loaded before the server ran */
	uint8_t **list = NULL;
	size_t nz = spoke_zoneset_list(m.zs, &list);
	for (size_t i = 0; i < nz; i++) {
		spoke_version *v = spoke_zoneset_get(m.zs, list[i]);
		if (v != NULL)
			spoke_dnssrv_notify(m.srv, list[i], v->serial);
		spoke_version_rele(v);
	}
	spoke_zoneset_list_free(list, nz);
	if (zo.catalog_origin != NULL) {
		spoke_version *v = spoke_zoneset_get(m.zs, catalog);
		if (v != NULL)
			spoke_dnssrv_notify(m.srv, catalog, v->serial);
		spoke_version_rele(v);
	}

	if (control != NULL) {
		m.ctl_fd = ctl_listen(control);
		if (m.ctl_fd < 0) {
			fedns_log(FEDNS_LOG_ERROR, "ctl.listen.failed",
				  FEDNS_LF_STR("path", control),
				  FEDNS_LF_STR("error", strerror(errno)));
			goto out;
		}
		m.ctl_running = true;
		if (pthread_create(&m.ctl_thread, NULL, ctl_main, &m) != 0) {
			m.ctl_running = false;
			goto out;
		}
	}
	uint16_t port = spoke_dnssrv_port(m.srv);
	if (port_file != NULL) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			fedns_log(FEDNS_LOG_ERROR, "spoke.portfile.failed",
				  FEDNS_LF_STR("path", port_file));
			goto out;
		}
	}
	if (m.disc_host != NULL) {
		m.disc_running = pthread_create(&m.disc_thread, NULL, discover_main, &m) == 0;
		if (!m.disc_running)
			goto out;
	}
	if (http_listen != NULL) {
		spoke_httpd_source src = {.ctx = &m, .metrics = http_metrics, .ready = http_ready};
		uint16_t hp = 0;
		if (spoke_httpd_start(http_listen, &src, &m.httpd, &hp, &d) != FEDNS_OK) {
			log_diag("spoke.http.failed", &d);
			goto out;
		}
		fedns_log(FEDNS_LOG_INFO, "spoke.http.listening",
			  FEDNS_LF_STR("listen", http_listen), FEDNS_LF_UINT("port", hp));
	}
	pthread_mutex_lock(&m.kmu);
	m.kick_hs = m.hs;
	pthread_mutex_unlock(&m.kmu);
	if (m.hs != NULL && spoke_hubsession_start(m.hs) != FEDNS_OK)
		goto out;
	fedns_log(FEDNS_LOG_INFO, "spoke.ready", FEDNS_LF_UINT("port", port),
		  FEDNS_LF_UINT("zones", nz), FEDNS_LF_UINT("tsig_keys", keys.n),
		  FEDNS_LF_BOOL("require_tsig", so.require_tsig),
		  FEDNS_LF_UINT("secondaries", vo.nsecondaries),
		  FEDNS_LF_STR("hub", m.hub_mode ? ho.url : ""));
	while (!stop_requested)
		pause();
	fedns_log(FEDNS_LOG_INFO, "spoke.stopping", FEDNS_LF_STR("reason", "signal"));
	rc = 0;
out:
	/* nothing applies hub changes once the session is gone */
	pthread_mutex_lock(&m.kmu);
	m.kick_hs = NULL;
	pthread_mutex_unlock(&m.kmu);
	spoke_hubsession_free(m.hs);
	spoke_httpd_stop(m.httpd);
	if (m.disc_running) {
		pthread_mutex_lock(&m.vmu);
		m.disc_stop = true;
		pthread_cond_broadcast(&m.disc_cv);
		pthread_mutex_unlock(&m.vmu);
		pthread_join(m.disc_thread, NULL);
	}
	if (m.ctl_running) {
		__atomic_store_n(&m.ctl_running, false, __ATOMIC_RELEASE);
		shutdown(m.ctl_fd, SHUT_RDWR);
		pthread_join(m.ctl_thread, NULL);
	}
	if (m.ctl_fd >= 0) {
		close(m.ctl_fd);
		unlink(control);
	}
	/* after the control thread: nothing reports changes to the verifier any more */
	spoke_verifier_free(m.verifier);
	spoke_dnssrv_stop(m.srv);
	spoke_hubstate_free(m.hub);
	spoke_zoneset_free(m.zs);
	spoke_journal_close(journal);
	fedns_tsig_keyring_wipe(&keys);
	free(zone_files);
	free(zone_dirs);
	free(rndc_args);
	pthread_cond_destroy(&m.disc_cv);
	pthread_mutex_destroy(&m.vmu);
	pthread_mutex_destroy(&m.kmu);
	return rc;
}
