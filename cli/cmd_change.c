/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl change ...: propose RRset edits (from master-file-style lines) or a whole zone
 * file, show the plan, list, show and decide changes (docs/hub.md "Path of a change"). */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"
#include "common/encode.h"
#include "common/file.h"
#include "common/sha2.h"
#include "dns/rdata.h"
#include "tls/sign.h"

#define CHANGE_FILE_MAX ((size_t)64 << 20)

/* A member of the answer, looked up at the top level and then in the nested objects that
 * carry a change's parts ("change", "plan"), so the printer follows either shape. */
static const cJSON *
member(const cJSON *j, const char *key)
{
	static const char *const nests[] = {"change", "plan"};
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	for (size_t i = 0; v == NULL && i < sizeof(nests) / sizeof(nests[0]); i++)
		v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, nests[i]),
						     key);
	return v;
}

static const char *
mtext(const cJSON *j, const char *key, char *buf, size_t n)
{
	return cli_json_text(member(j, key), buf, n);
}

static void
print_lines(const cJSON *v, const char *indent)
{
	if (cJSON_IsString(v)) {
		const char *p = v->valuestring;
		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
			printf("%s%.*s\n", indent, (int)n, p);
			p += n + (nl != NULL);
		}
	} else if (cJSON_IsArray(v)) {
		const cJSON *it;
		char buf[4096];
		cJSON_ArrayForEach(it, v)
		{
			printf("%s%s\n", indent, cli_json_text(it, buf, sizeof(buf)));
		}
	}
}

void
cli_print_change(const cJSON *j, const char *verb, int with_diff)
{
	char id[64], zone[300], state[64], buf[600];
	printf("change %s %s on %s (state %s)\n", mtext(j, "id", id, sizeof(id)), verb,
	       mtext(j, "zone", zone, sizeof(zone)), mtext(j, "state", state, sizeof(state)));
	static const char *const fields[] = {
		"committed",  "author",	   "reason", "ticket", "base_serial", "next_serial",
		"deleted",    "added",	   "serial", "digest", "approvals",   "approvals_required",
		"created_at", "decided_at"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v = member(j, fields[i]);
		if (v == NULL || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == 0))
			continue;
		printf("  %s: %s\n", fields[i],
		       cli_json_field_text(fields[i], v, buf, sizeof(buf)));
	}
	const cJSON *w = member(j, "warnings");
	const cJSON *it;
	cJSON_ArrayForEach(it, w)
	{
		printf("  warning: %s\n", cli_json_text(it, buf, sizeof(buf)));
	}
	const cJSON *ap = member(j, "decisions");
	if (!cJSON_IsArray(ap))
		ap = cJSON_IsArray(member(j, "approvals")) ? member(j, "approvals") : NULL;
	if (cJSON_GetArraySize(ap) > 0) {
		static const char *const cols[] = {"principal", "decision", "comment", "at"};
		printf("  decisions:\n");
		cJSON_ArrayForEach(it, ap)
		{
			printf("   ");
			for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, cols[k]);
				if (v != NULL)
					printf(" %s=%s", cols[k],
					       cli_json_field_text(cols[k], v, buf, sizeof(buf)));
			}
			printf("\n");
		}
	}
	if (with_diff) {
		const cJSON *d = member(j, "diff");
		if (d != NULL && !cJSON_IsNull(d)) {
			printf("diff:\n");
			print_lines(d, "  ");
		}
	}
}

/* ------------------------------------------------------------------------------------ */
/* Edits from master-file-style lines. */

typedef struct edits {
	cJSON *arr; /* the "edits" array being built */
	const char *zone;
	const char *synopsis;
	/* the last edit, to merge consecutive lines of one RRset into one edit */
	cJSON *last;
	char last_op[8];
	char last_name[256];
	char last_type[32];
	long long last_ttl; /* -1: none given */
} edits;

/* One token of 'line' starting at *p; returns its length (0 at the end). */
static size_t
token(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
	size_t n = 0;
	while ((*p)[n] != '\0' && (*p)[n] != ' ' && (*p)[n] != '\t')
		n++;
	return n;
}

/* "NAME [TTL] [IN] TYPE [RDATA...]": the name, TTL and type parsed, the rdata kept as
 * text for the hub to validate. */
static int
add_line(edits *e, const char *op, const char *line, size_t len)
{
	char buf[4096], name[256], type[32];
	long long ttl = -1;
	if (len >= sizeof(buf))
		return cli_usage(e->synopsis, "--%s: line longer than %zu bytes", op,
				 sizeof(buf) - 1);
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	const char *p = buf;
	size_t n = token(&p);
	if (n == 0)
		return 0; /* blank lines in a multi-line value */
	if (n >= sizeof(name))
		return cli_usage(e->synopsis, "--%s \"%s\": the name is too long", op, buf);
	if (n == 1 && p[0] == '@')
		snprintf(name, sizeof(name), "%s%s", e->zone,
			 e->zone[strlen(e->zone) - 1] == '.' ? "" : ".");
	else
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
	p += n;
	uint16_t t = 0;
	for (;;) {
		n = token(&p);
		if (n == 0)
			return cli_usage(e->synopsis, "--%s \"%s\": missing the type", op, buf);
		uint32_t v;
		uint16_t cls;
		if (p[0] >= '0' && p[0] <= '9' && ttl < 0 &&
		    fedns_ttl_from_text(p, n, &v, NULL) == FEDNS_OK) {
			ttl = v;
		} else if (fedns_class_from_text(p, n, &cls) == FEDNS_OK) {
			if (cls != 1)
				return cli_usage(e->synopsis,
						 "--%s \"%s\": only class IN is served", op, buf);
		} else if (fedns_rrtype_from_text(p, n, &t) == FEDNS_OK) {
			snprintf(type, sizeof(type), "%.*s", (int)n, p);
			p += n;
			break;
		} else {
			return cli_usage(e->synopsis,
					 "--%s \"%s\": \"%.*s\" is neither a TTL, IN nor a known "
					 "type",
					 op, buf, (int)n, p);
		}
		p += n;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	size_t rlen = strlen(p);
	while (rlen > 0 && (p[rlen - 1] == ' ' || p[rlen - 1] == '\t'))
		rlen--;
	if (rlen == 0 && strcmp(op, "delete") != 0)
		return cli_usage(e->synopsis, "--%s \"%s\": missing the rdata", op, buf);
	if (strcmp(op, "delete") == 0 && ttl >= 0)
		ttl = -1; /* a deletion matches by name, type and rdata; a TTL means nothing */

	char rdata[4096];
	snprintf(rdata, sizeof(rdata), "%.*s", (int)rlen, p);
	bool merge = e->last != NULL && strcmp(e->last_op, op) == 0 &&
		     strcasecmp(e->last_name, name) == 0 && strcasecmp(e->last_type, type) == 0 &&
		     e->last_ttl == ttl && rlen > 0 &&
		     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e->last, "rdata")) > 0;
	if (merge) {
		cJSON *s = cJSON_CreateString(rdata);
		if (s == NULL ||
		    !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(e->last, "rdata"), s))
			goto oom;
		return 0;
	}
	cJSON *ed = cJSON_CreateObject();
	if (ed == NULL || !cJSON_AddItemToArray(e->arr, ed))
		goto oom_ed;
	if (cJSON_AddStringToObject(ed, "op", op) == NULL ||
	    cJSON_AddStringToObject(ed, "name", name) == NULL ||
	    cJSON_AddStringToObject(ed, "type", type) == NULL)
		goto oom;
	if (ttl >= 0 && cJSON_AddNumberToObject(ed, "ttl", (double)ttl) == NULL)
		goto oom;
	if (rlen > 0) {
		const char *one[1] = {rdata};
		cJSON *arr = cJSON_CreateStringArray(one, 1);
		if (arr == NULL || !cJSON_AddItemToObject(ed, "rdata", arr))
			goto oom;
	}
	e->last = ed;
	snprintf(e->last_op, sizeof(e->last_op), "%s", op);
	snprintf(e->last_name, sizeof(e->last_name), "%s", name);
	snprintf(e->last_type, sizeof(e->last_type), "%s", type);
	e->last_ttl = ttl;
	return 0;
oom_ed:
	cJSON_Delete(ed);
oom:
	fprintf(stderr, "fednsctl: out of memory\n");
	return CLI_EXIT_FAIL;
}

static int
on_edit(void *ctx, const char *name, const char *value)
{
	edits *e = ctx;
	const char *op = name + 2; /* "--add" -> "add" */
	/* One value may hold several lines (--add "$(cat records)"). */
	const char *p = value;
	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		int rc = add_line(e, op, p, n);
		if (rc != 0)
			return rc;
		p += n + (nl != NULL);
	} while (*p != '\0');
	return 0;
}

#define PROPOSE_SYNOPSIS                                                                           \
	"change propose|plan ZONE (--add RR | --delete RR | --replace RR)... | --file ZONEFILE "   \
	"--reason R [--ticket T] [--base-serial N] [--allow-apex-ns] [--allow-mass-delete]"

/* Reads the zone's current serial (the base a proposal is computed against). */
static int
current_serial(cli_hub *h, const char *zone, unsigned long long *out)
{
	char *path = cli_path("/api/v1/zones/%s", zone);
	cli_res r;
	if (path == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	int rc = cli_hub_request(h, "GET", path, NULL, &r);
	free(path);
	if (rc == 0) {
		const cJSON *z = cJSON_GetObjectItemCaseSensitive(r.json, "zone");
		const cJSON *s =
			cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(z) ? z : r.json, "serial");
		if (!cJSON_IsNumber(s) || s->valuedouble < 0) {
			fprintf(stderr, "fednsctl: the hub's answer for zone %s has no serial\n",
				zone);
			rc = CLI_EXIT_FAIL;
		} else {
			*out = (unsigned long long)s->valuedouble;
		}
	}
	cli_res_fini(&r);
	return rc;
}

static int
propose(int argc, char **argv, bool plan_only)
{
	cli_common common = {0};
	const char *reason = NULL, *ticket = NULL, *base = NULL, *file = NULL;
	bool apex_ns = false, mass_delete = false;
	const char *pos[1];
	size_t npos;
	cJSON *body = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	edits e = {.arr = arr, .synopsis = PROPOSE_SYNOPSIS, .last_ttl = -1};
	cli_hub *h = NULL;
	char *path = NULL, *text = NULL;
	cli_res r = {0};
	int rc = CLI_EXIT_FAIL;
	if (body == NULL || arr == NULL) {
		cJSON_Delete(arr);
		goto oom;
	}
	if (!cJSON_AddItemToObject(body, "edits", arr)) {
		cJSON_Delete(arr);
		goto oom;
	}
	/* The zone is needed to expand "@" while the options are parsed: find it first. */
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			bool is_value = i > 0 && argv[i - 1][0] == '-' && argv[i - 1][1] != '\0' &&
					strchr(argv[i - 1], '=') == NULL &&
					strcmp(argv[i - 1], "--allow-apex-ns") != 0 &&
					strcmp(argv[i - 1], "--allow-mass-delete") != 0 &&
					strcmp(argv[i - 1], "-v") != 0 &&
					strcmp(argv[i - 1], "--verbose") != 0;
			if (!is_value) {
				e.zone = argv[i];
				break;
			}
		}
	}
	if (e.zone == NULL)
		e.zone = ".";
	const cli_opt opts[] = {
		{"--add", NULL, CLI_OPT_FN, NULL, on_edit, &e},
		{"--delete", NULL, CLI_OPT_FN, NULL, on_edit, &e},
		{"--replace", NULL, CLI_OPT_FN, NULL, on_edit, &e},
		{"--reason", NULL, CLI_OPT_STR, &reason, NULL, NULL},
		{"--ticket", NULL, CLI_OPT_STR, &ticket, NULL, NULL},
		{"--base-serial", NULL, CLI_OPT_STR, &base, NULL, NULL},
		{"--file", "-f", CLI_OPT_STR, &file, NULL, NULL},
		{"--allow-apex-ns", NULL, CLI_OPT_BOOL, &apex_ns, NULL, NULL},
		{"--allow-mass-delete", NULL, CLI_OPT_BOOL, &mass_delete, NULL, NULL},
	};
	rc = cli_args_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &common, pos, 1, 1,
			    &npos, PROPOSE_SYNOPSIS);
	if (rc != 0)
		goto out;
	const char *zone = pos[0];
	if (strcmp(zone, e.zone) != 0 && cJSON_GetArraySize(arr) > 0) {
		rc = cli_usage(PROPOSE_SYNOPSIS, "put ZONE before the edits");
		goto out;
	}
	if (reason == NULL || reason[0] == '\0') {
		rc = cli_usage(PROPOSE_SYNOPSIS, "--reason is required (the audit trail says why)");
		goto out;
	}
	if (file != NULL && cJSON_GetArraySize(arr) > 0) {
		rc = cli_usage(PROPOSE_SYNOPSIS, "give either edits or --file, not both");
		goto out;
	}
	if (file == NULL && cJSON_GetArraySize(arr) == 0) {
		rc = cli_usage(PROPOSE_SYNOPSIS, "nothing to propose: give --add, --delete, "
						 "--replace or --file");
		goto out;
	}
	unsigned long long serial = 0;
	if (base != NULL && !cli_parse_uint(base, UINT32_MAX, &serial)) {
		rc = cli_usage(PROPOSE_SYNOPSIS, "--base-serial \"%s\" is not a serial", base);
		goto out;
	}
	if (file != NULL) {
		size_t len;
		fedns_diag d;
		fedns_diag_clear(&d);
		if (fedns_file_read(file, CHANGE_FILE_MAX, &text, &len, &d) != FEDNS_OK) {
			fprintf(stderr, "fednsctl: %s\n", d.msg);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(body, "edits");
		if (cJSON_AddStringToObject(body, "zone_file", text) == NULL)
			goto oom;
	}
	if (cJSON_AddStringToObject(body, "reason", reason) == NULL ||
	    (ticket != NULL && cJSON_AddStringToObject(body, "ticket", ticket) == NULL) ||
	    (apex_ns && cJSON_AddTrueToObject(body, "allow_apex_ns") == NULL) ||
	    (mass_delete && cJSON_AddTrueToObject(body, "allow_mass_delete") == NULL))
		goto oom;

	if ((rc = cli_hub_open(&common, &h)) != 0)
		goto out;
	/* Without --base-serial the proposal is made against the version current now; the
	 * hub still refuses it if another change commits first. */
	if (base == NULL && (rc = current_serial(h, zone, &serial)) != 0)
		goto out;
	if (cJSON_AddNumberToObject(body, "base_serial", (double)serial) == NULL)
		goto oom;
	if ((path = cli_path("/api/v1/zones/%s/changes", zone)) == NULL)
		goto oom;
	if ((rc = cli_hub_request(h, "POST", path, body, &r)) != 0)
		goto out;
	if (common.output == CLI_OUT_JSON || r.json == NULL) {
		rc = cli_print_raw(&r);
		goto out;
	}
	cli_print_change(r.json, plan_only ? "planned" : "proposed", 1);
	char id[64];
	printf("approve with: fednsctl change approve %s (by someone other than the author)\n",
	       mtext(r.json, "id", id, sizeof(id)));
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
	goto out;
oom:
	fprintf(stderr, "fednsctl: out of memory\n");
	rc = CLI_EXIT_FAIL;
out:
	cli_res_fini(&r);
	cli_hub_close(h);
	free(path);
	free(text);
	cJSON_Delete(body);
	return rc;
}

int
cmd_change_propose(int argc, char **argv)
{
	return propose(argc, argv, false);
}

static void
print_plan(const cJSON *j, void *ctx)
{
	(void)ctx;
	cli_print_change(j, "plan", 1);
}

/* "change plan ID" shows a stored proposal's plan; "change plan ZONE --add ..." proposes
 * and shows the plan the hub answered (a proposal is stored either way: the plan is what
 * approvers will see). */
int
cmd_change_plan(int argc, char **argv)
{
	unsigned long long id;
	int npos = 0, idx = -1;
	for (int i = 0; i < argc; i++)
		if (argv[i][0] != '-') {
			npos++;
			idx = i;
		}
	if (npos == 1 && argc <= 4 && cli_parse_uint(argv[idx], INT64_MAX, &id)) {
		cli_common common = {0};
		const char *pos[1];
		size_t np;
		int rc = cli_args_parse(argc, argv, NULL, 0, &common, pos, 1, 1, &np,
					"change plan ID");
		if (rc != 0)
			return rc;
		return cli_run(&common, "GET", cli_path("/api/v1/changes/%lld", (long long)id),
			       NULL, print_plan, NULL);
	}
	return propose(argc, argv, true);
}

static void
print_list(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"changes", "items"};
	static const char *const cols[] = {"id",	  "zone",   "state",  "author",
					   "base_serial", "serial", "reason", "created_at"};
	const cJSON *a = cli_json_items(j, keys, 2);
	cli_print_table(stdout, a, cols, sizeof(cols) / sizeof(cols[0]));
	cli_print_next(j, "--before");
}

int
cmd_change_list(int argc, char **argv)
{
	static const char syn[] = "change list [--zone Z] [--state S] [--limit N] [--before ID]";
	cli_common common = {0};
	const char *zone = NULL, *state = NULL, *limit = NULL, *before = NULL;
	const cli_opt opts[] = {
		{"--zone", NULL, CLI_OPT_STR, &zone, NULL, NULL},
		{"--state", NULL, CLI_OPT_STR, &state, NULL, NULL},
		{"--limit", NULL, CLI_OPT_STR, &limit, NULL, NULL},
		{"--before", NULL, CLI_OPT_STR, &before, NULL, NULL},
	};
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 4, &common, NULL, 0, 0, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long v;
	if ((limit != NULL && !cli_parse_uint(limit, 1000000, &v)) ||
	    (before != NULL && !cli_parse_uint(before, INT64_MAX, &v)))
		return cli_usage(syn, "--limit and --before take numbers");
	fedns_buf q;
	fedns_buf_init(&q, 4096);
	const char *names[] = {"zone", "state", "limit", "before"};
	const char *vals[] = {zone, state, limit, before};
	for (size_t i = 0; i < 4; i++) {
		if (vals[i] == NULL)
			continue;
		char *e = cli_escape(vals[i]);
		if (e == NULL)
			q.err = FEDNS_ENOMEM;
		else
			fedns_buf_printf(&q, "%c%s=%s", q.len == 0 ? '?' : '&', names[i], e);
		free(e);
	}
	char *path = NULL;
	if (q.err == FEDNS_OK) {
		size_t plen = q.len + 32;
		path = malloc(plen);
		if (path != NULL)
			snprintf(path, plen, "/api/v1/changes%s", q.len ? (char *)q.data : "");
	}
	fedns_buf_fini(&q);
	return cli_run(&common, "GET", path, NULL, print_list, NULL);
}

/* Parses "ID" for the commands acting on one change. */
static int
one_change(int argc, char **argv, const cli_opt *opts, size_t nopts, const char *syn,
	   cli_common *common, long long *id)
{
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, nopts, common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long v;
	if (!cli_parse_uint(pos[0], INT64_MAX, &v) || v == 0)
		return cli_usage(syn, "\"%s\" is not a change id", pos[0]);
	*id = (long long)v;
	return 0;
}

static void
print_show(const cJSON *j, void *ctx)
{
	(void)ctx;
	cli_print_change(j, "is", 1);
}

int
cmd_change_show(int argc, char **argv)
{
	cli_common common = {0};
	long long id = 0;
	int rc = one_change(argc, argv, NULL, 0, "change show ID", &common, &id);
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/changes/%lld", id), NULL, print_show,
		       NULL);
}

static void
print_decided(const cJSON *j, void *ctx)
{
	cli_print_change(j, (const char *)ctx, 0);
}

/* With a signing key, an approval also signs the change itself (DESIGN.md §7): the text
 * "fedns-approve-v1\n<id>\n<SHA-256 hex of the diff>\n" over the diff as the hub shows
 * it (GET /changes/{id}: its lines, each followed by a newline), so the audit export
 * proves offline who approved what. Adds "change_signature" to body; returns 0 or an
 * exit code with the reason printed. */
static int
sign_approval(cli_hub *h, long long id, cJSON *body)
{
	fedns_sign_key *k = cli_hub_sign_key(h);
	cli_res r;
	fedns_buf diff;
	int rc;

	if (k == NULL)
		return 0;
	char *path = cli_path("/api/v1/changes/%lld", id);
	if (path == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	rc = cli_hub_request(h, "GET", path, NULL, &r);
	free(path);
	if (rc != 0) {
		cli_res_fini(&r);
		return rc;
	}
	const cJSON *lines = cJSON_GetObjectItemCaseSensitive(r.json, "diff");
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(r.json, "id");
	if (!cJSON_IsArray(lines) || !cJSON_IsNumber(cid) || cid->valuedouble != (double)id) {
		fprintf(stderr, "fednsctl: change %lld: the hub's answer has no diff to sign\n",
			id);
		cli_res_fini(&r);
		return CLI_EXIT_FAIL;
	}
	fedns_buf_init(&diff, FEDNS_BUF_DEFAULT_MAX);
	const cJSON *l;
	cJSON_ArrayForEach(l, lines)
	{
		if (cJSON_IsString(l)) {
			fedns_buf_puts(&diff, l->valuestring);
			fedns_buf_putc(&diff, '\n');
		}
	}
	cli_res_fini(&r);
	if (diff.err != FEDNS_OK) {
		fedns_buf_fini(&diff);
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	uint8_t sha[FEDNS_SHA256_LEN];
	char hex[2 * FEDNS_SHA256_LEN + 1], text[128];
	fedns_hash_once(FEDNS_HASH_SHA256, diff.data, diff.len, sha);
	fedns_buf_fini(&diff);
	fedns_hex_encode(sha, sizeof(sha), hex, 0);
	snprintf(text, sizeof(text), "fedns-approve-v1\n%lld\n%s\n", id, hex);
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	char b64[FEDNS_BASE64_LEN(FEDNS_SIGN_RAW_LEN) + 1];
	if (fedns_sign_sign(k, text, strlen(text), raw, NULL, 0, NULL) != FEDNS_OK) {
		fprintf(stderr, "fednsctl: change %lld: signing the approval failed\n", id);
		return CLI_EXIT_FAIL;
	}
	fedns_base64_encode(raw, sizeof(raw), b64);
	if (cJSON_AddStringToObject(body, "change_signature", b64) == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* change approve: like the other decisions, but signed over the change when a signing key
 * is configured. */
static int
approve(const cli_common *common, long long id, cJSON *body, const char *verb)
{
	cli_hub *h = NULL;
	cli_res r;
	int rc = cli_hub_open(common, &h);
	if (rc != 0)
		return rc;
	char *path = cli_path("/api/v1/changes/%lld/approve", id);
	if (path == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		cli_hub_close(h);
		return CLI_EXIT_FAIL;
	}
	if ((rc = sign_approval(h, id, body)) == 0) {
		rc = cli_hub_request(h, "POST", path, body, &r);
		if (rc == 0) {
			if (common->output == CLI_OUT_JSON || r.json == NULL) {
				rc = cli_print_raw(&r);
			} else {
				print_decided(r.json, (void *)verb);
				rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
			}
		}
		cli_res_fini(&r);
	}
	free(path);
	cli_hub_close(h);
	return rc;
}

static int
decide(int argc, char **argv, const char *what, const char *verb)
{
	char syn[64];
	snprintf(syn, sizeof(syn), "change %s ID [--comment C]", what);
	cli_common common = {0};
	const char *comment = NULL;
	const cli_opt opts[] = {{"--comment", "-m", CLI_OPT_STR, &comment, NULL, NULL}};
	long long id = 0;
	int rc = one_change(argc, argv, opts, strcmp(what, "withdraw") == 0 ? 0 : 1, syn, &common,
			    &id);
	if (rc != 0)
		return rc;
	cJSON *body = NULL;
	if (strcmp(what, "withdraw") != 0) {
		body = cJSON_CreateObject();
		if (body == NULL || (comment != NULL &&
				     cJSON_AddStringToObject(body, "comment", comment) == NULL)) {
			cJSON_Delete(body);
			fprintf(stderr, "fednsctl: out of memory\n");
			return CLI_EXIT_FAIL;
		}
	}
	if (strcmp(what, "approve") == 0) {
		rc = approve(&common, id, body, verb);
		cJSON_Delete(body);
		return rc;
	}
	char *path = strcmp(what, "approve") == 0  ? cli_path("/api/v1/changes/%lld/approve", id)
		     : strcmp(what, "reject") == 0 ? cli_path("/api/v1/changes/%lld/reject", id)
						   : cli_path("/api/v1/changes/%lld/withdraw", id);
	rc = cli_run(&common, "POST", path, body, print_decided, (void *)verb);
	cJSON_Delete(body);
	return rc;
}

int
cmd_change_approve(int argc, char **argv)
{
	return decide(argc, argv, "approve", "approved");
}

int
cmd_change_reject(int argc, char **argv)
{
	return decide(argc, argv, "reject", "rejected");
}

int
cmd_change_withdraw(int argc, char **argv)
{
	return decide(argc, argv, "withdraw", "withdrawn");
}
