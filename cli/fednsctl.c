/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl: the operator's command line; for now the offline zone tools (DESIGN.md §7). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd_hub.h"
#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "common/file.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zdigest.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zonemd.h"

/* Exit codes: 0 accepted / done, 1 the input was rejected, 2 the command line was wrong. */
enum {
	EXIT_REJECT = 1,
	EXIT_USAGE = 2
};

#define ZONE_FILE_MAX ((size_t)1 << 30)

/* A subcommand: 'group' then 'name' on the command line ("zone check"). The hub client
 * commands (zones, changes, audit, ...) join this table with the hub issue. */
typedef struct command {
	const char *group;
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(int argc, char **argv);
} command;

static int cmd_zone_check(int argc, char **argv);
static int cmd_zone_print(int argc, char **argv);
static int cmd_zone_digest(int argc, char **argv);

static const command commands[] = {
	{"zone", "check", "[--origin O] FILE",
	 "check a master file like named-checkzone (exit 0 accept, 1 reject)", cmd_zone_check},
	{"zone", "print", "[--origin O] FILE",
	 "print the zone in canonical presentation form, one RR per line", cmd_zone_print},
	{"zone", "digest", "[--origin O] [--tree] FILE",
	 "print the ZONEMD SIMPLE SHA-384 digest of the zone in hex (what secondaries are "
	 "checked by), or with --tree the hub's content digest (zone show, change digests)",
	 cmd_zone_digest},
	/* Hub commands (cli/cmd_*.c). */
	{"zone", "list", "[--after NAME] [--limit N]", "the zones you can see", cmd_zone_list},
	{"zone", "show", "ZONE", "a zone: tenant, serial, digest, policy, placement",
	 cmd_zone_show},
	{"zone", "create",
	 "ZONE --tenant T [--approvals N] (--file ZONEFILE | --primary-ns NS --hostmaster MAIL) "
	 "[--cluster C]...",
	 "create a zone from a master file, or empty with SOA and NS", cmd_zone_create},
	{"zone", "export", "ZONE [--serial N] [--zonemd] [-o FILE]",
	 "the zone (or one of its versions) as a master file; --zonemd appends its ZONEMD",
	 cmd_zone_export},
	{"zone", "delete", "ZONE", "propose deleting the zone (a change needing approval)",
	 cmd_zone_delete},
	{"zone", "policy", "ZONE [--approvals N]", "show or set the approvals a change needs",
	 cmd_zone_policy},
	{"zone", "placement", "ZONE [--cluster C]... [--none]",
	 "show or set the clusters that carry the zone", cmd_zone_placement},
	{"zone", "rollback", "ZONE --to SERIAL --reason R",
	 "propose a change back to version SERIAL's content", cmd_zone_rollback},
	{"zone", "history", "ZONE", "the versions kept (serials)", cmd_zone_history},
	{"zone", "diff", "ZONE --from SERIAL --to SERIAL", "what changed between two versions",
	 cmd_zone_diff},
	{"record", "list", "ZONE", "the zone's RRsets", cmd_record_list},
	{"change", "propose",
	 "ZONE (--add RR | --delete RR | --replace RR)... | --file ZONEFILE --reason R "
	 "[--ticket T] [--base-serial N] [--allow-apex-ns] [--allow-mass-delete]",
	 "propose RRset edits (RR as in a master file: 'www 300 A 192.0.2.1') or a whole zone",
	 cmd_change_propose},
	{"change", "plan", "ID | (the arguments of change propose)",
	 "the plan (diff, next serial, warnings) of a stored or a new proposal", cmd_change_plan},
	{"change", "list", "[--zone Z] [--state S] [--limit N] [--before ID]",
	 "changes, newest first", cmd_change_list},
	{"change", "show", "ID", "one change: state, diff, approvals", cmd_change_show},
	{"change", "approve", "ID [--comment C]", "approve (commits when the zone's policy is met)",
	 cmd_change_approve},
	{"change", "reject", "ID [--comment C]", "reject", cmd_change_reject},
	{"change", "withdraw", "ID", "withdraw your own proposal", cmd_change_withdraw},
	{"audit", "list", "[--after SEQ] [--limit N]", "audit records", cmd_audit_list},
	{"audit", "export", "[-o FILE]", "the evidence bundle (JSON), verified as it is written",
	 cmd_audit_export},
	{"audit", "verify", "FILE", "check an export's hash chain offline (no hub needed)",
	 cmd_audit_verify},
	{"principal", "create", "NAME [--kind person|automation] [--label L] [--token-out FILE]",
	 "create a principal and its token", cmd_principal_create},
	{"principal", "list", "", "principals", cmd_principal_list},
	{"principal", "token", "NAME [--label L] [--expires-in SECONDS] [--token-out FILE]",
	 "issue another token", cmd_principal_token},
	{"principal", "grant", "NAME --tenant T --role viewer|editor|approver|admin",
	 "grant a role on a tenant (\"*\": every tenant)", cmd_principal_grant},
	{"principal", "revoke", "NAME --tenant T", "revoke the role on a tenant",
	 cmd_principal_revoke},
	{"principal", "disable", "NAME", "disable a principal: its tokens and keys stop working",
	 cmd_principal_disable},
	{"principal", "key-add", "NAME --pem FILE",
	 "register a P-256 public key for signed requests (--sign-key)", cmd_principal_key_add},
	{"tenant", "create", "NAME", "create a tenant", cmd_tenant_create},
	{"tenant", "list", "", "tenants", cmd_tenant_list},
	{"whoami", "", "", "who the hub thinks you are, and your roles", cmd_whoami},
	{"status", "", "[--zone Z] [--cluster C] [--state S] [--tenant T]",
	 "per zone, cluster and secondary: state, serial, lag, last proof", cmd_status},
	{"clusters", "", "[NAME]", "the clusters: connection, counters; one with its zones",
	 cmd_clusters},
	/* Offline PKI commands (cli/cmd_pki.c). */
	{"pki", "init", "--dir DIR --hub-name NAME [--cluster C]... [--days N] [--force]",
	 "write a dev CA, hub and spoke certificates and the hub signing key", cmd_pki_init},
	{"pki", "verify", "CERT --ca CAFILE [--crl CRLFILE] [--usage server|client]",
	 "check a certificate's chain, validity and revocation", cmd_pki_verify},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: fednsctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s %s\n      %s\n", commands[i].group, commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(f,
		"\nzone commands read FILE offline (no hub needed). The origin is --origin O\n"
		"(an absolute or relative name; relative means below the root), or, without\n"
		"--origin, the owner of the file's first record, which must then be an SOA\n"
		"whose owner is absolute (or follows an absolute $ORIGIN line). $INCLUDE\n"
		"files must lie inside FILE's directory. Errors are printed as\n"
		"FILE:LINE: message, warnings too, on stderr.\n"
		"\npki commands work offline: pki init writes DIR/ca.pem, ca.key, hub.pem,\n"
		"hub.key, spoke-CLUSTER.pem/.key, hub-signing.key/.pub and a README (keys\n"
		"0600; an existing PKI is kept unless --force; see docs/pki.md).\n"
		"\nThe other commands talk to the hub over HTTPS. Settings: the config file\n"
		"(--config, $FEDNSCTL_CONFIG or ~/.config/fednsctl/config.json: server,\n"
		"token_file, cacert, cert, key, sign_key), then $FEDNSCTL_SERVER,\n"
		"$FEDNSCTL_TOKEN, $FEDNSCTL_CACERT, $FEDNSCTL_SIGN_KEY, then the flags\n"
		"--server, --token-file, --cacert, --cert, --key, --sign-key. With a signing\n"
		"key (a P-256 private key PEM registered by principal key-add) every request\n"
		"is signed (RFC 9421) and no token is sent. -o json prints the hub's JSON\n"
		"answer; -v shows each request (never the token). Each POST carries an\n"
		"idempotency key (--idempotency-key K to choose it, so a re-run command does\n"
		"not act twice).\n"
		"\nexit status: 0 success, 1 zone rejected or command failed (the hub refused),\n"
		"2 usage error, 3 cannot reach the hub or TLS failed\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fednsctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fprintf(stderr, "usage: fednsctl COMMAND [ARGS]; commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  fednsctl %s %s %s\n", commands[i].group, commands[i].name,
			commands[i].args);
	fprintf(stderr, "fednsctl --help explains them.\n");
	return EXIT_USAGE;
}

/* Parsed arguments of the zone commands. */
typedef struct zone_args {
	const char *origin;
	const char *file;
} zone_args;

static int
parse_zone_args(int argc, char **argv, zone_args *za)
{
	memset(za, 0, sizeof(*za));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		/* No "-o": DESIGN.md §7 keeps it for the output format ("-o json"). */
		if (strcmp(a, "--origin") == 0) {
			if (i + 1 >= argc)
				return usage_error("%s needs a name", a);
			za->origin = argv[++i];
		} else if (strncmp(a, "--origin=", 9) == 0) {
			za->origin = a + 9;
		} else if (strcmp(a, "--") == 0 && i + 1 < argc && za->file == NULL &&
			   i + 2 == argc) {
			za->file = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option %s", a);
		} else if (za->file == NULL) {
			za->file = a;
		} else {
			return usage_error("unexpected argument %s", a);
		}
	}
	if (za->file == NULL)
		return usage_error("%s", "missing FILE");
	return 0;
}

static int
print_diag(void *ctx, const fedns_diag *d)
{
	(void)ctx;
	char line[FEDNS_DIAG_MSG_MAX + 300];
	fprintf(stderr, "%s\n", fedns_diag_format(d, line, sizeof(line)));
	return 0;
}

/* The origin as named-checkzone shows it: no trailing dot except for the root. */
static void
origin_text(const uint8_t *origin, char *out, size_t outsz)
{
	size_t n = fedns_name_to_text(origin, out, outsz);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* The zone text: mapped when the file is a regular one (no copy of a 40 MB file, no
 * page faults on a fresh buffer), read otherwise. */
typedef struct zone_text {
	char *text;
	size_t len;
	bool mapped;
} zone_text;

static fedns_err
zone_text_load(const char *path, zone_text *zt, fedns_diag *d)
{
	memset(zt, 0, sizeof(*zt));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    (uint64_t)st.st_size <= ZONE_FILE_MAX) {
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (m != MAP_FAILED) {
				(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
				zt->text = m;
				zt->len = (size_t)st.st_size;
				zt->mapped = true;
				close(fd);
				return FEDNS_OK;
			}
		}
		close(fd);
	}
	/* Everything else (empty files, pipes, errors) goes the ordinary way, which also
	 * words the error. */
	return fedns_file_read(path, ZONE_FILE_MAX, &zt->text, &zt->len, d);
}

static void
zone_text_free(zone_text *zt)
{
	if (zt->mapped)
		munmap(zt->text, zt->len);
	else
		free(zt->text);
	memset(zt, 0, sizeof(*zt));
}

/* Reads, parses and validates FILE; on success *out is a finished zone. Messages go to
 * stderr. Returns 0 or an exit code. */
static int
load_zone(const zone_args *za, fedns_zone **out)
{
	static const uint8_t root[1] = {0};
	zone_text zt = {0};
	char *dir = NULL;
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t olen;
	char otext[FEDNS_NAME_MAXTEXT + 1] = "";
	int rc = EXIT_REJECT;

	fedns_err err = zone_text_load(za->file, &zt, &d);
	if (err != FEDNS_OK)
		goto out;
	if (za->origin != NULL) {
		err = fedns_name_from_text(za->origin, strlen(za->origin), root, origin, &olen, &d);
		if (err != FEDNS_OK) {
			fedns_diag e;
			fedns_diag_clear(&e);
			fedns_diag_set(&e, err, "--origin \"%s\": %s", za->origin, d.msg);
			d = e;
			goto out;
		}
	} else {
		err = fedns_zonefile_origin(zt.text, zt.len, origin, &olen, &d);
		if (err != FEDNS_OK) {
			char m[FEDNS_DIAG_MSG_MAX + 32];
			snprintf(m, sizeof(m), "%s; give --origin", d.msg);
			fedns_diag_clear(&d);
			fedns_diag_set(&d, err, "%s", m);
			fedns_diag_locate(&d, za->file, 0);
			goto out;
		}
	}
	origin_text(origin, otext, sizeof(otext));

	err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	if (err != FEDNS_OK) {
		fedns_diag_set(&d, err, "cannot create the zone: %s", fedns_strerror(err));
		goto out;
	}
	dir = fedns_path_dirname(za->file);
	if (dir == NULL) {
		err = fedns_diag_set(&d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	fedns_zonefile_opts opts = {
		.origin = origin,
		.include = fedns_file_include,
		.include_ctx = dir,
		.warn = print_diag,
	};
	err = fedns_zonefile_parse(za->file, zt.text, zt.len, &opts, z, &d);
	/* The zone holds copies: drop the text before the check so peak memory is the
	 * zone's alone (it matters on the 40 MB files the benchmark reads). */
	zone_text_free(&zt);
	if (err != FEDNS_OK)
		goto out;
	err = fedns_zone_finish(z, print_diag, NULL);
	if (err != FEDNS_OK) {
		/* Each problem was already printed. */
		fprintf(stderr, "zone %s/IN: not loaded due to errors.\n", otext);
		goto out_quiet;
	}
	*out = z;
	z = NULL;
	rc = 0;
	goto out_quiet;
out:
	print_diag(NULL, &d);
	if (otext[0])
		fprintf(stderr, "zone %s/IN: not loaded due to errors.\n", otext);
out_quiet:
	fedns_zone_free(z);
	free(dir);
	zone_text_free(&zt);
	return rc;
}

static int
cmd_zone_check(int argc, char **argv)
{
	zone_args za;
	int rc = parse_zone_args(argc, argv, &za);
	if (rc != 0)
		return rc;
	fedns_zone *z = NULL;
	rc = load_zone(&za, &z);
	if (rc != 0)
		return rc;
	char otext[FEDNS_NAME_MAXTEXT + 1];
	origin_text(fedns_zone_origin(z), otext, sizeof(otext));
	printf("zone %s/IN: loaded serial %u\nOK\n", otext, (unsigned)fedns_zone_serial(z));
	fedns_zone_free(z);
	return 0;
}

static int
cmd_zone_print(int argc, char **argv)
{
	zone_args za;
	int rc = parse_zone_args(argc, argv, &za);
	if (rc != 0)
		return rc;
	fedns_zone *z = NULL;
	rc = load_zone(&za, &z);
	if (rc != 0)
		return rc;
	fedns_buf b;
	fedns_buf_init(&b, FEDNS_BUF_DEFAULT_MAX * 4);
	fedns_err err = fedns_zone_print(z, &b);
	if (err == FEDNS_OK && b.len > 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		err = FEDNS_EIO;
	if (err == FEDNS_OK && fflush(stdout) != 0)
		err = FEDNS_EIO;
	if (err != FEDNS_OK) {
		fprintf(stderr, "fednsctl: cannot print the zone: %s\n", fedns_strerror(err));
		rc = EXIT_REJECT;
	}
	fedns_buf_fini(&b);
	fedns_zone_free(z);
	return rc;
}

static int
cmd_zone_digest(int argc, char **argv)
{
	zone_args za;
	bool tree = false;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0;
	if (rest == NULL)
		return usage_error("%s", "out of memory");
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--tree") == 0 && !(i > 0 && strcmp(argv[i - 1], "--") == 0))
			tree = true;
		else
			rest[nrest++] = argv[i];
	}
	int rc = parse_zone_args(nrest, rest, &za);
	free(rest);
	if (rc != 0)
		return rc;
	fedns_zone *z = NULL;
	rc = load_zone(&za, &z);
	if (rc != 0)
		return rc;
	uint8_t dg[FEDNS_ZONEMD_MAXLEN];
	size_t dlen = 0;
	fedns_err err =
		fedns_zone_digest(z, tree ? FEDNS_ZDIGEST_ALG : FEDNS_ZONEMD_SHA384, dg, &dlen);
	if (err != FEDNS_OK) {
		fprintf(stderr, "fednsctl: cannot compute the digest: %s\n", fedns_strerror(err));
		rc = EXIT_REJECT;
	} else {
		for (size_t i = 0; i < dlen; i++)
			printf("%02x", dg[i]);
		printf("\n");
	}
	fedns_zone_free(z);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	bool group_known = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const command *c = &commands[i];
		if (strcmp(argv[1], c->group) != 0)
			continue;
		group_known = true;
		if (c->name[0] == '\0') /* a command without subcommands ("whoami") */
			return c->run(argc - 2, argv + 2);
		if (argc >= 3 && strcmp(argv[2], c->name) == 0) {
			for (int j = 3; j < argc; j++)
				if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
					usage(stdout);
					return 0;
				}
			return c->run(argc - 3, argv + 3);
		}
	}
	if (group_known)
		return usage_error("unknown or missing subcommand for \"%s\"", argv[1]);
	return usage_error("unknown command \"%s\"", argv[1]);
}
