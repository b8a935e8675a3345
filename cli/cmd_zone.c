/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl zone ... and record ...: the hub's zones, their policy, placement, versions,
 * diffs, rollback and RRsets (the offline zone tools stay in fednsctl.c). */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"
#include "common/file.h"

#define ZONE_FILE_MAX ((size_t)64 << 20)

static int
oom(void)
{
	fprintf(stderr, "fednsctl: out of memory\n");
	return CLI_EXIT_FAIL;
}

/* The zone object of an answer, whether bare or wrapped in {"zone": {...}}. */
static const cJSON *
zone_obj(const cJSON *j)
{
	const cJSON *z = cJSON_GetObjectItemCaseSensitive(j, "zone");
	return cJSON_IsObject(z) ? z : j;
}

static void
print_zones(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"zones", "items"};
	static const char *const cols[] = {"name", "tenant", "serial", "approvals_required",
					   "placement"};
	cli_print_table(stdout, cli_json_items(j, keys, 2), cols, 5);
	cli_print_next(j, "--after");
}

int
cmd_zone_list(int argc, char **argv)
{
	static const char syn[] = "zone list [--after NAME] [--limit N]";
	cli_common common = {0};
	const char *after = NULL, *limit = NULL;
	const cli_opt opts[] = {
		{"--after", NULL, CLI_OPT_STR, &after, NULL, NULL},
		{"--limit", NULL, CLI_OPT_STR, &limit, NULL, NULL},
	};
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 2, &common, NULL, 0, 0, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long l = 0;
	if (limit != NULL && !cli_parse_uint(limit, 1000000, &l))
		return cli_usage(syn, "--limit takes a number");
	char *path;
	if (after != NULL && limit != NULL)
		path = cli_path("/api/v1/zones?after=%s&limit=%lld", after, (long long)l);
	else if (after != NULL)
		path = cli_path("/api/v1/zones?after=%s", after);
	else if (limit != NULL)
		path = cli_path("/api/v1/zones?limit=%lld", (long long)l);
	else
		path = cli_path("/api/v1/zones");
	return cli_run(&common, "GET", path, NULL, print_zones, NULL);
}

static void
print_zone(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const order[] = {"name",	 "tenant", "serial", "approvals_required",
					    "placement", "digest"};
	cli_print_object(stdout, zone_obj(j), order, sizeof(order) / sizeof(order[0]));
}

/* Parses "ZONE" plus the command's options. */
static int
one_zone(int argc, char **argv, const cli_opt *opts, size_t nopts, const char *syn,
	 cli_common *common, const char **zone)
{
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, nopts, common, pos, 1, 1, &npos, syn);
	if (rc == 0)
		*zone = pos[0];
	return rc;
}

int
cmd_zone_show(int argc, char **argv)
{
	cli_common common = {0};
	const char *zone;
	int rc = one_zone(argc, argv, NULL, 0, "zone show ZONE", &common, &zone);
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/zones/%s", zone), NULL, print_zone, NULL);
}

static int
on_cluster(void *ctx, const char *name, const char *value)
{
	(void)name;
	cJSON *s = cJSON_CreateString(value);
	if (s == NULL || !cJSON_AddItemToArray(ctx, s)) {
		cJSON_Delete(s);
		return oom();
	}
	return 0;
}

int
cmd_zone_create(int argc, char **argv)
{
	static const char syn[] =
		"zone create ZONE --tenant T [--approvals N] [--file ZONEFILE | --primary-ns NS "
		"--hostmaster MAIL] [--cluster C]...";
	cli_common common = {0};
	const char *zone, *tenant = NULL, *approvals = NULL, *file = NULL, *ns = NULL, *hm = NULL;
	cJSON *body = cJSON_CreateObject(), *clusters = cJSON_CreateArray();
	char *text = NULL;
	int rc;
	if (body == NULL || clusters == NULL) {
		rc = oom();
		goto out;
	}
	const cli_opt opts[] = {
		{"--tenant", NULL, CLI_OPT_STR, &tenant, NULL, NULL},
		{"--approvals", NULL, CLI_OPT_STR, &approvals, NULL, NULL},
		{"--file", "-f", CLI_OPT_STR, &file, NULL, NULL},
		{"--primary-ns", NULL, CLI_OPT_STR, &ns, NULL, NULL},
		{"--hostmaster", NULL, CLI_OPT_STR, &hm, NULL, NULL},
		{"--cluster", NULL, CLI_OPT_FN, NULL, on_cluster, clusters},
	};
	rc = one_zone(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), syn, &common, &zone);
	if (rc != 0)
		goto out;
	unsigned long long n = 1;
	if (tenant == NULL) {
		rc = cli_usage(syn, "--tenant is required");
		goto out;
	}
	if (approvals != NULL && (!cli_parse_uint(approvals, 100, &n) || n == 0)) {
		rc = cli_usage(syn, "--approvals takes a number from 1 to 100");
		goto out;
	}
	if (file != NULL && (ns != NULL || hm != NULL)) {
		rc = cli_usage(syn, "a zone comes from --file or from --primary-ns/--hostmaster");
		goto out;
	}
	if (file == NULL && (ns == NULL || hm == NULL)) {
		rc = cli_usage(syn, "give --file ZONEFILE, or --primary-ns and --hostmaster for "
				    "an empty zone");
		goto out;
	}
	if (cJSON_AddStringToObject(body, "name", zone) == NULL ||
	    cJSON_AddStringToObject(body, "tenant", tenant) == NULL ||
	    cJSON_AddNumberToObject(body, "approvals_required", (double)n) == NULL) {
		rc = oom();
		goto out;
	}
	if (file != NULL) {
		size_t len;
		fedns_diag d;
		fedns_diag_clear(&d);
		if (fedns_file_read(file, ZONE_FILE_MAX, &text, &len, &d) != FEDNS_OK) {
			fprintf(stderr, "fednsctl: %s\n", d.msg);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		if (cJSON_AddStringToObject(body, "zone_file", text) == NULL) {
			rc = oom();
			goto out;
		}
	} else if (cJSON_AddStringToObject(body, "primary_ns", ns) == NULL ||
		   cJSON_AddStringToObject(body, "hostmaster", hm) == NULL) {
		rc = oom();
		goto out;
	}
	if (cJSON_GetArraySize(clusters) > 0) {
		cJSON_AddItemToObject(body, "placement", clusters);
		clusters = NULL;
	}
	rc = cli_run(&common, "POST", cli_path("/api/v1/zones"), body, print_zone, NULL);
out:
	free(text);
	cJSON_Delete(clusters);
	cJSON_Delete(body);
	return rc;
}

int
cmd_zone_export(int argc, char **argv)
{
	static const char syn[] = "zone export ZONE [--serial N] [--zonemd] [-o FILE]";
	cli_common common = {0};
	const char *zone, *serial = NULL, *file = NULL;
	bool zonemd = false;
	const cli_opt opts[] = {
		{"--serial", NULL, CLI_OPT_STR, &serial, NULL, NULL},
		{"--out", "-o", CLI_OPT_STR, &file, NULL, NULL},
		{"--zonemd", NULL, CLI_OPT_BOOL, &zonemd, NULL, NULL},
	};
	int rc = one_zone(argc, argv, opts, 3, syn, &common, &zone);
	if (rc != 0)
		return rc;
	unsigned long long s = 0;
	if (serial != NULL && !cli_parse_uint(serial, UINT32_MAX, &s))
		return cli_usage(syn, "--serial \"%s\" is not a serial", serial);
	/* cli_path escapes its arguments: the query's separators stay in the formats */
	char *path = serial != NULL
			     ? (zonemd ? cli_path("/api/v1/zones/%s/export?serial=%lld&zonemd=1",
						  zone, (long long)s)
				       : cli_path("/api/v1/zones/%s/export?serial=%lld", zone,
						  (long long)s))
			     : (zonemd ? cli_path("/api/v1/zones/%s/export?zonemd=1", zone)
				       : cli_path("/api/v1/zones/%s/export", zone));
	if (path == NULL)
		return oom();
	cli_hub *h = NULL;
	cli_res r;
	if ((rc = cli_hub_open(&common, &h)) != 0) {
		free(path);
		return rc;
	}
	rc = cli_hub_request(h, "GET", path, NULL, &r);
	if (rc == 0) {
		/* The master file is the answer itself (text/dns), whatever -o says. */
		if (file == NULL || strcmp(file, "-") == 0) {
			if (r.body.len > 0 &&
			    fwrite(r.body.data, 1, r.body.len, stdout) != r.body.len)
				rc = CLI_EXIT_FAIL;
			if (fflush(stdout) != 0)
				rc = CLI_EXIT_FAIL;
		} else {
			rc = cli_write_file(file, r.body.data, r.body.len, 0644, false);
		}
	}
	cli_res_fini(&r);
	cli_hub_close(h);
	free(path);
	return rc;
}

static void
print_proposed(const cJSON *j, void *ctx)
{
	cli_print_change(j, (const char *)ctx, 1);
	char buf[64];
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "change");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(c) ? c : j, "id");
	printf("approve with: fednsctl change approve %s (by someone other than the author)\n",
	       cli_json_text(id, buf, sizeof(buf)));
}

int
cmd_zone_delete(int argc, char **argv)
{
	cli_common common = {0};
	const char *zone;
	int rc = one_zone(argc, argv, NULL, 0, "zone delete ZONE", &common, &zone);
	if (rc != 0)
		return rc;
	/* The hub turns this into a change that needs approval like any other. */
	return cli_run(&common, "DELETE", cli_path("/api/v1/zones/%s", zone), NULL, print_proposed,
		       "proposed (zone deletion)");
}

int
cmd_zone_policy(int argc, char **argv)
{
	static const char syn[] = "zone policy ZONE [--approvals N]";
	cli_common common = {0};
	const char *zone, *approvals = NULL;
	const cli_opt opts[] = {{"--approvals", NULL, CLI_OPT_STR, &approvals, NULL, NULL}};
	int rc = one_zone(argc, argv, opts, 1, syn, &common, &zone);
	if (rc != 0)
		return rc;
	if (approvals == NULL)
		return cli_run(&common, "GET", cli_path("/api/v1/zones/%s", zone), NULL, print_zone,
			       NULL);
	unsigned long long n;
	if (!cli_parse_uint(approvals, 100, &n) || n == 0)
		return cli_usage(syn, "--approvals takes a number from 1 to 100");
	cJSON *body = cJSON_CreateObject();
	if (body == NULL ||
	    cJSON_AddNumberToObject(body, "approvals_required", (double)n) == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	rc = cli_run(&common, "PUT", cli_path("/api/v1/zones/%s/policy", zone), body, print_zone,
		     NULL);
	cJSON_Delete(body);
	return rc;
}

int
cmd_zone_placement(int argc, char **argv)
{
	static const char syn[] = "zone placement ZONE [--cluster C]... [--none]";
	cli_common common = {0};
	const char *zone;
	bool none = false;
	cJSON *clusters = cJSON_CreateArray();
	if (clusters == NULL)
		return oom();
	const cli_opt opts[] = {
		{"--cluster", NULL, CLI_OPT_FN, NULL, on_cluster, clusters},
		{"--none", NULL, CLI_OPT_BOOL, &none, NULL, NULL},
	};
	int rc = one_zone(argc, argv, opts, 2, syn, &common, &zone);
	if (rc != 0)
		goto out;
	if (none && cJSON_GetArraySize(clusters) > 0) {
		rc = cli_usage(syn, "--none and --cluster exclude each other");
		goto out;
	}
	if (!none && cJSON_GetArraySize(clusters) == 0) {
		rc = cli_run(&common, "GET", cli_path("/api/v1/zones/%s", zone), NULL, print_zone,
			     NULL);
		goto out;
	}
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddItemToObject(body, "clusters", clusters)) {
		cJSON_Delete(body);
		rc = oom();
		goto out;
	}
	clusters = NULL;
	rc = cli_run(&common, "PUT", cli_path("/api/v1/zones/%s/placement", zone), body, print_zone,
		     NULL);
	cJSON_Delete(body);
out:
	cJSON_Delete(clusters);
	return rc;
}

int
cmd_zone_rollback(int argc, char **argv)
{
	static const char syn[] = "zone rollback ZONE --to SERIAL --reason R";
	cli_common common = {0};
	const char *zone, *to = NULL, *reason = NULL;
	const cli_opt opts[] = {
		{"--to", NULL, CLI_OPT_STR, &to, NULL, NULL},
		{"--reason", NULL, CLI_OPT_STR, &reason, NULL, NULL},
	};
	int rc = one_zone(argc, argv, opts, 2, syn, &common, &zone);
	if (rc != 0)
		return rc;
	unsigned long long s;
	if (to == NULL || !cli_parse_uint(to, UINT32_MAX, &s))
		return cli_usage(syn, "--to SERIAL is required (a serial from zone history)");
	if (reason == NULL || reason[0] == '\0')
		return cli_usage(syn, "--reason is required (the audit trail says why)");
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "reason", reason) == NULL ||
	    cJSON_AddNumberToObject(body, "to_serial", (double)s) == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	rc = cli_run(&common, "POST", cli_path("/api/v1/zones/%s/rollback", zone), body,
		     print_proposed, "proposed (rollback)");
	cJSON_Delete(body);
	return rc;
}

static void
print_versions(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"versions", "items"};
	long long cur = cli_json_int(j, "current", -1);
	char buf[64];
	const cJSON *v;
	printf("SERIAL\n");
	cJSON_ArrayForEach(v, cli_json_items(j, keys, 2))
	{
		/* Plain serials, or objects carrying one. */
		const cJSON *s =
			cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "serial") : v;
		cli_json_text(s, buf, sizeof(buf));
		printf("%s%s\n", buf,
		       cJSON_IsNumber(s) && (long long)s->valuedouble == cur ? "  (current)" : "");
	}
	cli_print_next(j, "--after");
}

int
cmd_zone_history(int argc, char **argv)
{
	cli_common common = {0};
	const char *zone;
	int rc = one_zone(argc, argv, NULL, 0, "zone history ZONE", &common, &zone);
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/zones/%s/versions", zone), NULL,
		       print_versions, NULL);
}

static void
print_diff(const cJSON *j, void *ctx)
{
	(void)ctx;
	char buf[4096];
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "diff");
	if (cJSON_IsString(d)) {
		fputs(d->valuestring, stdout);
		if (d->valuestring[0] != '\0' && d->valuestring[strlen(d->valuestring) - 1] != '\n')
			fputc('\n', stdout);
		return;
	}
	/* IXFR shape as arrays: "deleted" then "added". */
	static const char *const parts[] = {"deleted", "added"};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, parts[i]))
		{
			printf("%c%s\n", i == 0 ? '-' : '+', cli_json_text(it, buf, sizeof(buf)));
		}
	}
}

int
cmd_zone_diff(int argc, char **argv)
{
	static const char syn[] = "zone diff ZONE --from SERIAL --to SERIAL";
	cli_common common = {0};
	const char *zone, *from = NULL, *to = NULL;
	const cli_opt opts[] = {
		{"--from", NULL, CLI_OPT_STR, &from, NULL, NULL},
		{"--to", NULL, CLI_OPT_STR, &to, NULL, NULL},
	};
	int rc = one_zone(argc, argv, opts, 2, syn, &common, &zone);
	if (rc != 0)
		return rc;
	unsigned long long a, b;
	if (from == NULL || to == NULL || !cli_parse_uint(from, UINT32_MAX, &a) ||
	    !cli_parse_uint(to, UINT32_MAX, &b))
		return cli_usage(syn, "--from and --to take serials (see zone history)");
	return cli_run(&common, "GET",
		       cli_path("/api/v1/zones/%s/diff?from=%lld&to=%lld", zone, (long long)a,
				(long long)b),
		       NULL, print_diff, NULL);
}

static void
print_records(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"rrsets", "records", "items"};
	const cJSON *sets = cli_json_items(j, keys, 3);
	char name[300], ttl[32], type[32], rd[4096];
	printf("%-30s %-7s %-6s %s\n", "NAME", "TTL", "TYPE", "RDATA");
	const cJSON *s;
	cJSON_ArrayForEach(s, sets)
	{
		cli_json_text(cJSON_GetObjectItemCaseSensitive(s, "name"), name, sizeof(name));
		cli_json_text(cJSON_GetObjectItemCaseSensitive(s, "ttl"), ttl, sizeof(ttl));
		cli_json_text(cJSON_GetObjectItemCaseSensitive(s, "type"), type, sizeof(type));
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "rdata");
		if (!cJSON_IsArray(r)) {
			printf("%-30s %-7s %-6s %s\n", name, ttl, type,
			       cli_json_text(r, rd, sizeof(rd)));
			continue;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, r)
		{
			printf("%-30s %-7s %-6s %s\n", name, ttl, type,
			       cli_json_text(it, rd, sizeof(rd)));
		}
	}
	cli_print_next(j, "--after");
}

int
cmd_record_list(int argc, char **argv)
{
	cli_common common = {0};
	const char *zone;
	int rc = one_zone(argc, argv, NULL, 0, "record list ZONE", &common, &zone);
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/zones/%s/records", zone), NULL,
		       print_records, NULL);
}
