/* SPDX-License-Identifier: Apache-2.0 */
/* fedns-hub: serve the REST API over HTTPS and the federation to spokes, bootstrap the
 * first admin, back up and restore the store. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sha2.h"
#include "hub/api.h"
#include "hub/auth.h"
#include "hub/dashboard.h"
#include "hub/fanout.h"
#include "hub/http.h"
#include "hub/store.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: fedns-hub serve --store FILE --listen URL --cert FILE --key FILE\n"
		"                 [--client-ca FILE] [--port-file FILE] [--log-level LEVEL]\n"
		"                 [--workers N] [--keep-versions N]\n"
		"                 [--spoke-listen URL --spoke-ca FILE --sign-key FILE\n"
		"                  [--spoke-crl FILE] [--spoke-cert FILE --spoke-key FILE]\n"
		"                  [--spoke-port-file FILE] [--heartbeat-ms N]\n"
		"                  [--snapshot-after N]]\n"
		"       fedns-hub bootstrap --store FILE --admin NAME\n"
		"       fedns-hub backup --store FILE --to DEST [--force]\n"
		"       fedns-hub restore --from BACKUP --store FILE [--force]\n"
		"\n"
		"serve      run the REST API over HTTPS (URL like https://127.0.0.1:8443; port 0\n"
		"           binds a free port, written to --port-file once listening); with\n"
		"           --spoke-listen tls+tcp://HOST:PORT also the federation to spokes\n"
		"           (mutual TLS against --spoke-ca, identity by challenge, change sets\n"
		"           signed with --sign-key; --spoke-cert/--spoke-key default to\n"
		"           --cert/--key; heartbeat default 5000 ms; a spoke more than\n"
		"           --snapshot-after changes behind (default 10000) gets a snapshot)\n"
		"bootstrap  create the store and its first, estate-wide admin; prints the admin's\n"
		"           token once on stdout; refuses when any principal exists\n"
		"backup     online copy of the store (the hub may keep serving)\n"
		"restore    check a backup (integrity and audit chain) and put it in place; the\n"
		"           hub must be stopped; refuses to replace an existing store without\n"
		"           --force\n"
		"LEVEL is debug, info, warn or error (default info). Logs are JSON lines on "
		"stderr.\n");
}

/* Parses "--name value" pairs into the slots of 'names'; exits on anything unknown. */
typedef struct opt {
	const char *name;
	const char **val;
	bool flag; /* takes no value; *val becomes "1" */
} opt;

static int
parse_opts(int argc, char **argv, const opt *opts)
{
	for (int i = 0; i < argc; i++) {
		const opt *o;
		for (o = opts; o->name != NULL; o++) {
			if (strcmp(argv[i], o->name) == 0) {
				break;
			}
		}
		if (o->name == NULL) {
			fprintf(stderr, "fedns-hub: unknown option %s\n", argv[i]);
			return -1;
		}
		if (o->flag) {
			*o->val = "1";
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "fedns-hub: %s needs a value\n", argv[i]);
			return -1;
		}
		*o->val = argv[++i];
	}
	return 0;
}

static int
need(const char *v, const char *name)
{
	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "fedns-hub: %s is required\n", name);
		return -1;
	}
	return 0;
}

static bool
admin_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 127) {
		return false;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-_.@", c) != NULL)) {
			return false;
		}
	}
	return true;
}

static int
cmd_bootstrap(int argc, char **argv)
{
	const char *store = NULL, *admin = NULL;
	const opt opts[] = {
		{"--store", &store, false}, {"--admin", &admin, false}, {NULL, NULL, false}};
	hub_store_opts so = {0};
	hub_store *s = NULL;
	hub_principal *ps = NULL;
	size_t np = 0;
	char tok[HUB_TOKEN_LEN + 1], hash[65];
	int64_t id;
	hub_audit rec;
	fedns_diag d;
	fedns_err e;
	struct timespec ts;

	if (parse_opts(argc, argv, opts) != 0 || need(store, "--store") != 0 ||
	    need(admin, "--admin") != 0) {
		return 2;
	}
	if (!admin_name_ok(admin)) {
		fprintf(stderr,
			"fedns-hub: admin name \"%s\" may hold only letters, digits, '-', "
			"'_', '.' and '@' (1-127)\n",
			admin);
		return 2;
	}
	fedns_diag_clear(&d);
	so.path = store;
	so.create = true;
	if ((e = hub_store_open(&so, &s, &d)) != FEDNS_OK) {
		char m[FEDNS_DIAG_MSG_MAX + 300];
		fprintf(stderr, "fedns-hub: %s\n", fedns_diag_format(&d, m, sizeof(m)));
		return 1;
	}
	if ((e = hub_store_begin(s, true)) != FEDNS_OK) {
		fprintf(stderr, "fedns-hub: store %s: %s\n", store, fedns_strerror(e));
		hub_store_close(s);
		return 1;
	}
	if ((e = hub_principal_list(s, &ps, &np)) != FEDNS_OK) {
		goto fail;
	}
	free(ps);
	if (np > 0) {
		hub_store_rollback(s);
		hub_store_close(s);
		fprintf(stderr,
			"fedns-hub: store %s already has %zu principal(s); bootstrap only creates "
			"the first admin\n",
			store, np);
		return 1;
	}
	if ((e = hub_principal_create(s, admin, "person", &id)) != FEDNS_OK ||
	    (e = hub_token_new(tok, hash)) != FEDNS_OK ||
	    (e = hub_token_add(s, id, hash, "bootstrap", 0)) != FEDNS_OK ||
	    (e = hub_role_grant(s, id, HUB_TENANT_ALL, HUB_ROLE_ADMIN)) != FEDNS_OK) {
		goto fail;
	}
	memset(&rec, 0, sizeof(rec));
	clock_gettime(CLOCK_REALTIME, &ts);
	rec.at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(rec.principal, sizeof(rec.principal), "%s", admin);
	snprintf(rec.action, sizeof(rec.action), "principal.bootstrap");
	snprintf(rec.target, sizeof(rec.target), "principal:%s", admin);
	snprintf(rec.outcome, sizeof(rec.outcome), "ok");
	if ((e = hub_audit_append(s, &rec)) != FEDNS_OK || (e = hub_store_commit(s)) != FEDNS_OK) {
		goto fail;
	}
	hub_store_close(s);
	/* the only time this token is ever shown */
	printf("%s\n", tok);
	fflush(stdout);
	fedns_secure_zero(tok, sizeof(tok));
	fprintf(stderr, "fedns-hub: created admin %s with an estate-wide admin role in %s\n", admin,
		store);
	return 0;
fail:
	fedns_secure_zero(tok, sizeof(tok));
	fprintf(stderr, "fedns-hub: bootstrap of %s: %s (%s)\n", store, fedns_strerror(e),
		hub_store_errmsg(s));
	hub_store_rollback(s);
	hub_store_close(s);
	return 1;
}

static int
cmd_backup(int argc, char **argv)
{
	const char *store = NULL, *to = NULL, *force = NULL;
	const opt opts[] = {{"--store", &store, false},
			    {"--to", &to, false},
			    {"--force", &force, true},
			    {NULL, NULL, false}};
	hub_store_opts so = {0};
	hub_store *s = NULL;
	fedns_diag d;
	char m[FEDNS_DIAG_MSG_MAX + 300];

	if (parse_opts(argc, argv, opts) != 0 || need(store, "--store") != 0 ||
	    need(to, "--to") != 0) {
		return 2;
	}
	if (force == NULL && access(to, F_OK) == 0) {
		fprintf(stderr, "fedns-hub: %s exists; pass --force to overwrite it\n", to);
		return 1;
	}
	fedns_diag_clear(&d);
	so.path = store;
	if (hub_store_open(&so, &s, &d) != FEDNS_OK || hub_store_backup(s, to, &d) != FEDNS_OK) {
		fprintf(stderr, "fedns-hub: backup: %s\n", fedns_diag_format(&d, m, sizeof(m)));
		hub_store_close(s);
		return 1;
	}
	hub_store_close(s);
	fprintf(stderr, "fedns-hub: backed up %s to %s\n", store, to);
	return 0;
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rv = -1;
	ssize_t n;

	if (in < 0) {
		fprintf(stderr, "fedns-hub: %s: %s\n", from, strerror(errno));
		return -1;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "fedns-hub: %s: %s\n", to, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			fprintf(stderr, "fedns-hub: reading %s: %s\n", from, strerror(errno));
			goto out;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				continue;
			}
			if (w < 0) {
				fprintf(stderr, "fedns-hub: writing %s: %s\n", to, strerror(errno));
				goto out;
			}
			off += w;
		}
	}
	if (fsync(out) != 0) {
		fprintf(stderr, "fedns-hub: fsync %s: %s\n", to, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	if (out >= 0 && close(out) != 0 && rv == 0) {
		fprintf(stderr, "fedns-hub: closing %s: %s\n", to, strerror(errno));
		rv = -1;
	}
	close(in);
	return rv;
}

static int
cmd_restore(int argc, char **argv)
{
	const char *from = NULL, *store = NULL, *force = NULL;
	const opt opts[] = {{"--from", &from, false},
			    {"--store", &store, false},
			    {"--force", &force, true},
			    {NULL, NULL, false}};
	char tmp[4096], side[4200], m[FEDNS_DIAG_MSG_MAX + 300];
	hub_store_opts so = {0};
	hub_store *s = NULL;
	fedns_diag d;
	fedns_err e;

	if (parse_opts(argc, argv, opts) != 0 || need(from, "--from") != 0 ||
	    need(store, "--store") != 0) {
		return 2;
	}
	if (force == NULL && access(store, F_OK) == 0) {
		fprintf(stderr,
			"fedns-hub: %s exists; stop the hub and pass --force to replace it\n",
			store);
		return 1;
	}
	/* check a copy beside the target, so the backup itself is never migrated or
	 * touched and the final step is one rename on the same file system */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.restore-tmp", store) >= sizeof(tmp)) {
		fprintf(stderr, "fedns-hub: path too long\n");
		return 2;
	}
	if (copy_file(from, tmp) != 0) {
		unlink(tmp);
		return 1;
	}
	fedns_diag_clear(&d);
	so.path = tmp;
	if ((e = hub_store_open(&so, &s, &d)) != FEDNS_OK ||
	    (e = hub_store_check(s, &d)) != FEDNS_OK) {
		fprintf(stderr, "fedns-hub: backup %s fails its check: %s\n", from,
			fedns_diag_format(&d, m, sizeof(m)));
		hub_store_close(s);
		unlink(tmp);
		snprintf(side, sizeof(side), "%s-wal", tmp);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", tmp);
		unlink(side);
		return 1;
	}
	hub_store_close(s);
	/* a WAL left beside the old store would be replayed into the restored one */
	snprintf(side, sizeof(side), "%s-wal", store);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", store);
	unlink(side);
	if (rename(tmp, store) != 0) {
		fprintf(stderr, "fedns-hub: rename %s to %s: %s\n", tmp, store, strerror(errno));
		unlink(tmp);
		return 1;
	}
	fprintf(stderr, "fedns-hub: restored %s from %s (integrity and audit chain checked)\n",
		store, from);
	return 0;
}

static int
write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL) {
		return -1;
	}
	fprintf(f, "%u\n", (unsigned)port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The API is created before the fan-out (which needs its workflow), so the write hook
 * reaches the fan-out through this slot, filled once it exists and emptied before it goes. */
typedef struct fanout_slot {
	_Atomic(hub_fanout *) f;
} fanout_slot;

static void
zone_written(void *ctx, int64_t zone_id)
{
	hub_fanout *f = atomic_load(&((fanout_slot *)ctx)->f);
	if (f != NULL) {
		hub_fanout_zone_changed(f, zone_id);
	}
}

typedef struct front {
	hub_ops *ops;
	hub_api *api;
} front;

/* The ops handler (/, /dashboard/, /metrics) answers first; everything else is the API. */
static void
serve_http(void *ctx, const hub_req *req, hub_res *res)
{
	front *fr = ctx;
	if (fr->ops != NULL && hub_ops_handle(fr->ops, req, res)) {
		return;
	}
	hub_api_handle(fr->api, req, res);
}

static int
parse_uint(const char *v, const char *name, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end = NULL;
	unsigned long n;

	if (v == NULL) {
		return 0;
	}
	n = strtoul(v, &end, 10);
	if (v[0] == '\0' || v[0] == '-' || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "fedns-hub: %s must be a number from %lu to %lu\n", name, lo, hi);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	const char *store = NULL, *listen = NULL, *cert = NULL, *key = NULL, *ca = NULL,
		   *port_file = NULL, *level = NULL, *workers = NULL, *keep = NULL,
		   *spoke_listen = NULL, *spoke_port_file = NULL, *spoke_ca = NULL,
		   *spoke_crl = NULL, *spoke_cert = NULL, *spoke_key = NULL, *sign_key = NULL,
		   *heartbeat = NULL, *snapshot_after = NULL;
	const opt opts[] = {{"--store", &store, false},
			    {"--listen", &listen, false},
			    {"--cert", &cert, false},
			    {"--key", &key, false},
			    {"--client-ca", &ca, false},
			    {"--port-file", &port_file, false},
			    {"--log-level", &level, false},
			    {"--workers", &workers, false},
			    {"--keep-versions", &keep, false},
			    {"--spoke-listen", &spoke_listen, false},
			    {"--spoke-port-file", &spoke_port_file, false},
			    {"--spoke-ca", &spoke_ca, false},
			    {"--spoke-crl", &spoke_crl, false},
			    {"--spoke-cert", &spoke_cert, false},
			    {"--spoke-key", &spoke_key, false},
			    {"--sign-key", &sign_key, false},
			    {"--heartbeat-ms", &heartbeat, false},
			    {"--snapshot-after", &snapshot_after, false},
			    {NULL, NULL, false}};
	fedns_log_level lv = FEDNS_LOG_INFO;
	hub_api_opts ao;
	hub_http_opts ho;
	hub_fanout_opts fo;
	hub_ops_opts oo;
	hub_api *api = NULL;
	hub_http *http = NULL;
	hub_fanout *fan = NULL;
	hub_ops *ops = NULL;
	static fanout_slot slot;
	front fr;
	fedns_diag d;
	sigset_t set;
	int sig = 0;
	char m[FEDNS_DIAG_MSG_MAX + 300];

	if (parse_opts(argc, argv, opts) != 0 || need(store, "--store") != 0 ||
	    need(listen, "--listen") != 0 || need(cert, "--cert") != 0 || need(key, "--key") != 0) {
		return 2;
	}
	memset(&fo, 0, sizeof(fo));
	if (spoke_listen != NULL) {
		if (spoke_ca == NULL || sign_key == NULL) {
			fprintf(stderr, "fedns-hub: --spoke-listen needs %s%s%s\n",
				spoke_ca == NULL ? "--spoke-ca FILE (the CA bundle spokes' "
						   "certificates chain to)"
						 : "",
				spoke_ca == NULL && sign_key == NULL ? " and " : "",
				sign_key == NULL ? "--sign-key FILE (the hub's change-set signing "
						   "key, e.g. hub-signing.key of fednsctl pki init)"
						 : "");
			return 2;
		}
		if ((spoke_cert == NULL) != (spoke_key == NULL)) {
			fprintf(stderr, "fedns-hub: --spoke-cert and --spoke-key go together\n");
			return 2;
		}
		if (parse_uint(heartbeat, "--heartbeat-ms", 100, 3600000, &fo.heartbeat_ms) != 0 ||
		    parse_uint(snapshot_after, "--snapshot-after", 1, 100000000,
			       &fo.snapshot_after) != 0) {
			return 2;
		}
	} else if (spoke_port_file != NULL || spoke_ca != NULL || spoke_crl != NULL ||
		   spoke_cert != NULL || spoke_key != NULL || sign_key != NULL ||
		   heartbeat != NULL || snapshot_after != NULL) {
		fprintf(stderr, "fedns-hub: the --spoke-*, --sign-key, --heartbeat-ms and "
				"--snapshot-after options need --spoke-listen\n");
		return 2;
	}
	if (level != NULL) {
		if (strcmp(level, "debug") == 0) {
			lv = FEDNS_LOG_DEBUG;
		} else if (strcmp(level, "info") == 0) {
			lv = FEDNS_LOG_INFO;
		} else if (strcmp(level, "warn") == 0) {
			lv = FEDNS_LOG_WARN;
		} else if (strcmp(level, "error") == 0) {
			lv = FEDNS_LOG_ERROR;
		} else {
			fprintf(stderr,
				"fedns-hub: --log-level must be debug, info, warn or error\n");
			return 2;
		}
	}
	memset(&ao, 0, sizeof(ao));
	memset(&ho, 0, sizeof(ho));
	if (workers != NULL) {
		char *end = NULL;
		unsigned long w = strtoul(workers, &end, 10);
		if (*end != '\0' || w == 0 || w > 256) {
			fprintf(stderr, "fedns-hub: --workers must be 1 to 256\n");
			return 2;
		}
		ho.workers = (unsigned)w;
	}
	if (keep != NULL) {
		char *end = NULL;
		unsigned long k = strtoul(keep, &end, 10);
		if (*end != '\0' || keep[0] == '-') {
			fprintf(stderr,
				"fedns-hub: --keep-versions must be a number (0 keeps all)\n");
			return 2;
		}
		ao.workflow.keep_versions = (size_t)k;
	}
	fedns_log_setup(stderr, lv);
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT/SIGTERM are taken by sigwait below; every thread started after this
	 * inherits the mask, so none of them is interrupted by the signal */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	fedns_diag_clear(&d);
	ao.store_path = store;
	ao.workflow.warn_delete_fraction = 0.10;
	if (spoke_listen != NULL) {
		ao.on_zone_write = zone_written;
		ao.hook_ctx = &slot;
	}
	if (hub_api_new(&ao, &api, &d) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "hub.store.open_failed", FEDNS_LF_STR("store", store),
			  FEDNS_LF_STR("error", fedns_diag_format(&d, m, sizeof(m))));
		return 1;
	}
	if (spoke_listen != NULL) {
		fo.store_path = store;
		fo.listen_url = spoke_listen;
		fo.tls.cert_file = spoke_cert != NULL ? spoke_cert : cert;
		fo.tls.key_file = spoke_cert != NULL ? spoke_key : key;
		fo.tls.ca_file = spoke_ca;
		fo.tls.crl_file = spoke_crl;
		fo.spoke_ca = spoke_ca;
		fo.spoke_crl = spoke_crl;
		fo.sign_key = sign_key;
		fo.workflow = hub_api_workflow(api);
		fedns_diag_clear(&d);
		if (hub_fanout_new(&fo, &fan, &d) != FEDNS_OK ||
		    hub_fanout_start(fan, &d) != FEDNS_OK) {
			fedns_log(FEDNS_LOG_ERROR, "hub.spoke_listen_failed",
				  FEDNS_LF_STR("listen", spoke_listen),
				  FEDNS_LF_STR("error", fedns_diag_format(&d, m, sizeof(m))));
			hub_fanout_free(fan);
			hub_api_free(api);
			return 1;
		}
		atomic_store(&slot.f, fan);
		if (spoke_port_file != NULL &&
		    write_port_file(spoke_port_file, hub_fanout_port(fan)) != 0) {
			fedns_log(FEDNS_LOG_ERROR, "hub.port_file_failed",
				  FEDNS_LF_STR("path", spoke_port_file),
				  FEDNS_LF_STR("error", strerror(errno)));
			atomic_store(&slot.f, NULL);
			hub_fanout_free(fan);
			hub_api_free(api);
			return 1;
		}
	}
	memset(&oo, 0, sizeof(oo));
	oo.store_path = store;
	oo.fanout = fan;
	oo.cert_file = cert;
	fedns_diag_clear(&d);
	if (hub_ops_new(&oo, &ops, &d) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "hub.ops_failed",
			  FEDNS_LF_STR("error", fedns_diag_format(&d, m, sizeof(m))));
		atomic_store(&slot.f, NULL);
		hub_fanout_free(fan);
		hub_api_free(api);
		return 1;
	}
	fr.ops = ops;
	fr.api = api;
	ho.listen_url = listen;
	ho.cert_file = cert;
	ho.key_file = key;
	ho.client_ca_file = ca;
	ho.tls = true;
	ho.max_body = HUB_API_MAX_ZONE_BODY + 4096;
	if (hub_http_start(&ho, serve_http, &fr, &http, &d) != FEDNS_OK) {
		fedns_log(FEDNS_LOG_ERROR, "hub.listen_failed", FEDNS_LF_STR("listen", listen),
			  FEDNS_LF_STR("error", fedns_diag_format(&d, m, sizeof(m))));
		atomic_store(&slot.f, NULL);
		hub_ops_free(ops);
		hub_fanout_free(fan);
		hub_api_free(api);
		return 1;
	}
	uint16_t port = hub_http_port(http);
	if (port_file != NULL && write_port_file(port_file, port) != 0) {
		fedns_log(FEDNS_LOG_ERROR, "hub.port_file_failed", FEDNS_LF_STR("path", port_file),
			  FEDNS_LF_STR("error", strerror(errno)));
		hub_http_stop(http);
		atomic_store(&slot.f, NULL);
		hub_ops_free(ops);
		hub_fanout_free(fan);
		hub_api_free(api);
		return 1;
	}
	/* ready once every listener is bound (and the spoke port written) */
	hub_api_set_ready(api, true);
	fedns_log(FEDNS_LOG_INFO, "hub.serving", FEDNS_LF_STR("store", store),
		  FEDNS_LF_STR("listen", listen), FEDNS_LF_UINT("port", port),
		  FEDNS_LF_BOOL("mtls", ca != NULL),
		  FEDNS_LF_STR("spoke_listen", spoke_listen != NULL ? spoke_listen : ""),
		  FEDNS_LF_UINT("spoke_port", fan != NULL ? hub_fanout_port(fan) : 0));
	while (sigwait(&set, &sig) != 0) {
	}
	fedns_log(FEDNS_LOG_INFO, "hub.stopping",
		  FEDNS_LF_STR("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
	hub_api_set_ready(api, false);
	hub_http_stop(http);
	/* no handler runs any more, so nothing calls the hook */
	atomic_store(&slot.f, NULL);
	hub_fanout_stop(fan);
	hub_ops_free(ops);
	hub_fanout_free(fan);
	hub_api_free(api);
	fedns_log(FEDNS_LOG_INFO, "hub.stopped", FEDNS_LF_STR("store", store));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0) {
		return cmd_serve(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "bootstrap") == 0) {
		return cmd_bootstrap(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "backup") == 0) {
		return cmd_backup(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "restore") == 0) {
		return cmd_restore(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "fedns-hub: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}
