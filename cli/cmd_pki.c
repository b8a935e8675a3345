/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl pki ...: write a development PKI (tls/pki.h) and check a certificate against a
 * CA and CRL the way the hub will. Offline: no hub needed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"
#include "tls/pki.h"

static int
pki_usage(const char *what, const char *arg)
{
	fprintf(stderr, "fednsctl pki: %s%s%s\n", what, arg != NULL ? " " : "",
		arg != NULL ? arg : "");
	fprintf(stderr, "usage: fednsctl pki init --dir DIR --hub-name NAME [--cluster C]... "
			"[--days N] [--force]\n"
			"       fednsctl pki verify CERT --ca CAFILE [--crl CRLFILE] "
			"[--usage server|client]\n");
	return CLI_EXIT_USAGE;
}

int
cmd_pki_init(int argc, char **argv)
{
	const char *clusters[FEDNS_PKI_CLUSTERS_MAX];
	fedns_pki_init_opts o = {.days = 365, .clusters = clusters};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(a, "--force") == 0) {
			o.force = true;
		} else if (strcmp(a, "--dir") == 0 || strcmp(a, "--hub-name") == 0 ||
			   strcmp(a, "--cluster") == 0 || strcmp(a, "--days") == 0) {
			if (!has_value)
				return pki_usage("missing value for", a);
			const char *val = argv[++i];
			if (strcmp(a, "--dir") == 0) {
				o.dir = val;
			} else if (strcmp(a, "--hub-name") == 0) {
				o.hub_name = val;
			} else if (strcmp(a, "--cluster") == 0) {
				if (o.nclusters >= FEDNS_PKI_CLUSTERS_MAX)
					return pki_usage("too many --cluster options (at most 64)",
							 NULL);
				clusters[o.nclusters++] = val;
			} else {
				char *end;
				errno = 0;
				long d = strtol(val, &end, 10);
				if (errno != 0 || end == val || *end != '\0' || d < 1 || d > 36500)
					return pki_usage(
						"--days wants a whole number 1..36500, not", val);
				o.days = (int)d;
			}
		} else {
			return pki_usage("unexpected argument", a);
		}
	}
	if (o.dir == NULL)
		return pki_usage("missing --dir", NULL);
	if (o.hub_name == NULL)
		return pki_usage("missing --hub-name", NULL);
	char err[512];
	fedns_err e = fedns_pki_init(&o, err, sizeof(err));
	if (e != FEDNS_OK) {
		fprintf(stderr, "fednsctl pki init: %s\n", err);
		return e == FEDNS_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/README", o.dir);
	printf("wrote a development PKI to %s:\n\n", o.dir);
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof(line), f) != NULL)
			fputs(line, stdout);
		fclose(f);
	}
	return CLI_EXIT_OK;
}

static const char *const status_names[] = {
	[FEDNS_PKI_TRUSTED] = "trusted",	 [FEDNS_PKI_UNTRUSTED] = "untrusted",
	[FEDNS_PKI_EXPIRED] = "expired",	 [FEDNS_PKI_REVOKED] = "revoked",
	[FEDNS_PKI_CRL_INVALID] = "crl-invalid", [FEDNS_PKI_WRONG_USAGE] = "wrong-usage",
};

int
cmd_pki_verify(int argc, char **argv)
{
	const char *cert = NULL, *ca = NULL, *crl = NULL;
	fedns_pki_usage usage = FEDNS_PKI_USAGE_ANY;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--ca") == 0 || strcmp(a, "--crl") == 0 ||
		    strcmp(a, "--usage") == 0) {
			if (i + 1 >= argc)
				return pki_usage("missing value for", a);
			const char *val = argv[++i];
			if (strcmp(a, "--ca") == 0)
				ca = val;
			else if (strcmp(a, "--crl") == 0)
				crl = val;
			else if (strcmp(val, "server") == 0)
				usage = FEDNS_PKI_USAGE_SERVER;
			else if (strcmp(val, "client") == 0)
				usage = FEDNS_PKI_USAGE_CLIENT;
			else
				return pki_usage("--usage is server or client, not", val);
		} else if (a[0] == '-' && a[1] != '\0') {
			return pki_usage("unknown option", a);
		} else if (cert == NULL) {
			cert = a;
		} else {
			return pki_usage("unexpected argument", a);
		}
	}
	if (cert == NULL)
		return pki_usage("missing CERT", NULL);
	if (ca == NULL)
		return pki_usage("missing --ca", NULL);
	fedns_pki_verdict v;
	fedns_err e = fedns_pki_verify_file(cert, ca, crl, usage, &v);
	if (e == FEDNS_OK) {
		printf("%s: trusted: CN=%s (%s)\n", cert, v.cn, v.reason);
		return CLI_EXIT_OK;
	}
	fprintf(stderr, "%s: %s: %s\n", cert, status_names[v.status], v.reason);
	return CLI_EXIT_FAIL;
}
