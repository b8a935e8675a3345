/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl status and clusters: what each placed cluster's secondaries serve of each zone,
 * as the hub last heard from the spokes (GET /api/v1/status, /api/v1/clusters). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"

#define STATUS_PAGE "1000"
#define STATUS_MAX_ROWS 1000000

static int
oom(void)
{
	fprintf(stderr, "fednsctl: out of memory\n");
	return CLI_EXIT_FAIL;
}

/* ---- a table of text cells, columns as wide as their widest cell ---- */

#define TABLE_MAXCOLS 16

typedef struct table {
	size_t ncols;
	const char *head[TABLE_MAXCOLS];
	char **cells; /* row-major */
	size_t nrows, cap;
	bool failed;
} table;

static void
table_init(table *t, const char *const *head, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAXCOLS ? ncols : TABLE_MAXCOLS;
	for (size_t i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
}

/* Adds a row of t->ncols cells (copied). */
static void
table_row(table *t, const char *const *cells)
{
	if (t->failed)
		return;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, ncap * t->ncols * sizeof(*nc));
		if (nc == NULL) {
			t->failed = true;
			return;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] != NULL && cells[i][0] != '\0' ? cells[i] : "-");
		if (c == NULL)
			t->failed = true;
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

static int
table_print(table *t)
{
	size_t w[TABLE_MAXCOLS];
	if (t->failed)
		return oom();
	for (size_t k = 0; k < t->ncols; k++) {
		w[k] = strlen(t->head[k]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t n = strlen(t->cells[r * t->ncols + k]);
			if (n > w[k])
				w[k] = n;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t k = 0; k < t->ncols; k++) {
			const char *c = r == 0 ? t->head[k] : t->cells[(r - 1) * t->ncols + k];
			if (k + 1 < t->ncols)
				printf("%-*s  ", (int)w[k], c);
			else
				printf("%s", c);
		}
		putchar('\n');
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void
table_fini(table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* ---- status rows ---- */

static const char *
num_text(const cJSON *o, const char *k, char *buf, size_t bufsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return "-";
	snprintf(buf, bufsz, "%.0f", v->valuedouble);
	return buf;
}

static const char *
lag_text(const cJSON *o, char *buf, size_t bufsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "lag_ms");
	if (!cJSON_IsNumber(v))
		return "-";
	if (v->valuedouble < 1000)
		snprintf(buf, bufsz, "%.0fms", v->valuedouble);
	else
		snprintf(buf, bufsz, "%.1fs", v->valuedouble / 1000);
	return buf;
}

static const char *const status_head[] = {"ZONE",   "CLUSTER",	  "SECONDARY", "STATE",
					  "SERIAL", "HUB_SERIAL", "LAG",       "LAST_PROVEN"};

/* One line per secondary of each row; a row without secondaries (no spoke yet, or none
 * reported) is one line with the row's state and the serial the spoke holds. A secondary
 * proven at an older serial than the hub's shows as pending, as it counts in the row. */
static void
status_lines(table *t, const cJSON *rows)
{
	const cJSON *row;
	cJSON_ArrayForEach(row, rows)
	{
		char serial[24], hub[24], lag[32];
		const char *zone = cli_json_str(row, "zone", "-");
		const char *cluster = cli_json_str(row, "cluster", "-");
		num_text(row, "hub_serial", hub, sizeof(hub));
		const cJSON *secs = cJSON_GetObjectItemCaseSensitive(row, "secondaries");
		if (cJSON_GetArraySize(secs) == 0) {
			const cJSON *spoke = cJSON_GetObjectItemCaseSensitive(row, "spoke");
			const char *cells[] = {zone,
					       cluster,
					       "-",
					       cli_json_str(row, "state", "-"),
					       num_text(spoke, "serial", serial, sizeof(serial)),
					       hub,
					       "-",
					       "-"};
			table_row(t, cells);
			continue;
		}
		const cJSON *s;
		cJSON_ArrayForEach(s, secs)
		{
			const char *state = cli_json_str(s, "state", "-");
			const cJSON *sv = cJSON_GetObjectItemCaseSensitive(s, "serial");
			const cJSON *hv = cJSON_GetObjectItemCaseSensitive(row, "hub_serial");
			if (strcmp(state, "in_sync") == 0 &&
			    (!cJSON_IsNumber(sv) || !cJSON_IsNumber(hv) ||
			     sv->valuedouble != hv->valuedouble))
				state = "pending";
			const char *cells[] = {zone,
					       cluster,
					       cli_json_str(s, "name", "-"),
					       state,
					       num_text(s, "serial", serial, sizeof(serial)),
					       hub,
					       lag_text(s, lag, sizeof(lag)),
					       cli_json_str(s, "last_proven", "-")};
			table_row(t, cells);
		}
	}
}

static int
print_status_rows(const cJSON *rows)
{
	table t;
	table_init(&t, status_head, sizeof(status_head) / sizeof(status_head[0]));
	status_lines(&t, rows);
	int rc = table_print(&t);
	table_fini(&t);
	return rc;
}

/* Appends "&key=escaped" (or "?key=..." first) to q. */
static void
query_add(fedns_buf *q, const char *key, const char *val)
{
	if (val == NULL)
		return;
	char *e = cli_escape(val);
	if (e == NULL)
		q->err = FEDNS_ENOMEM;
	else
		fedns_buf_printf(q, "%c%s=%s", q->len == 0 ? '?' : '&', key, e);
	free(e);
}

int
cmd_status(int argc, char **argv)
{
	static const char syn[] = "status [--zone Z] [--cluster C] [--state S] [--tenant T] "
				  "[--limit N] [--after ZONE/CLUSTER]";
	cli_common common = {0};
	const char *zone = NULL, *cluster = NULL, *state = NULL, *tenant = NULL, *limit = NULL,
		   *after = NULL;
	const cli_opt opts[] = {
		{"--zone", NULL, CLI_OPT_STR, &zone, NULL, NULL},
		{"--cluster", NULL, CLI_OPT_STR, &cluster, NULL, NULL},
		{"--state", NULL, CLI_OPT_STR, &state, NULL, NULL},
		{"--tenant", NULL, CLI_OPT_STR, &tenant, NULL, NULL},
		{"--limit", NULL, CLI_OPT_STR, &limit, NULL, NULL},
		{"--after", NULL, CLI_OPT_STR, &after, NULL, NULL},
	};
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &common, NULL, 0,
				0, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long v;
	if (limit != NULL && (!cli_parse_uint(limit, 1000, &v) || v == 0))
		return cli_usage(syn, "--limit takes a number from 1 to 1000");
	/* one page when asked for one; otherwise every page, as one answer */
	bool paged = limit != NULL || after != NULL;
	fedns_buf q;
	fedns_buf_init(&q, 4096);
	query_add(&q, "zone", zone);
	query_add(&q, "cluster", cluster);
	query_add(&q, "state", state);
	query_add(&q, "tenant", tenant);
	query_add(&q, "limit", limit != NULL ? limit : STATUS_PAGE); /* base starts with '?' */
	if (q.err != FEDNS_OK) {
		fedns_buf_fini(&q);
		return oom();
	}
	char *base = strdup(q.len ? (const char *)q.data : "");
	fedns_buf_fini(&q);
	cJSON *all = cJSON_CreateArray();
	char *cursor = after != NULL ? strdup(after) : NULL;
	cli_hub *h = NULL;
	cli_res r = {0};
	if (base == NULL || all == NULL || (after != NULL && cursor == NULL)) {
		rc = oom();
		goto out;
	}
	if ((rc = cli_hub_open(&common, &h)) != 0)
		goto out;
	for (;;) {
		char *ec = cursor != NULL ? cli_escape(cursor) : NULL;
		size_t plen = strlen(base) + (ec != NULL ? strlen(ec) : 0) + 64;
		char *path = malloc(plen);
		if (path == NULL || (cursor != NULL && ec == NULL)) {
			free(ec);
			free(path);
			rc = oom();
			goto out;
		}
		snprintf(path, plen, "/api/v1/status%s%s%s", base, ec != NULL ? "&after=" : "",
			 ec != NULL ? ec : "");
		free(ec);
		rc = cli_hub_request(h, "GET", path, NULL, &r);
		free(path);
		if (rc != 0)
			goto out;
		if (paged) {
			if (common.output == CLI_OUT_JSON || r.json == NULL) {
				rc = cli_print_raw(&r);
			} else {
				rc = print_status_rows(
					cJSON_GetObjectItemCaseSensitive(r.json, "items"));
				cli_print_next(r.json, "--after");
			}
			goto out;
		}
		cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(r.json, "items");
		cJSON *it;
		while (cJSON_IsArray(items) &&
		       (it = cJSON_DetachItemViaPointer(items, items->child)) != NULL)
			cJSON_AddItemToArray(all, it);
		cJSON_Delete(items);
		const char *next = cli_json_str(r.json, "next", NULL);
		free(cursor);
		cursor = next != NULL ? strdup(next) : NULL;
		cli_res_fini(&r);
		memset(&r, 0, sizeof(r));
		if (next == NULL)
			break;
		if (cursor == NULL) {
			rc = oom();
			goto out;
		}
		if (cJSON_GetArraySize(all) > STATUS_MAX_ROWS) {
			fprintf(stderr,
				"fednsctl: more than %d status rows; narrow the query or "
				"page with --limit and --after\n",
				STATUS_MAX_ROWS);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	}
	if (common.output == CLI_OUT_JSON) {
		cJSON *o = cJSON_CreateObject();
		char *text = NULL;
		if (o != NULL) {
			cJSON_AddItemToObject(o, "items", all);
			all = NULL;
			cJSON_AddNullToObject(o, "next");
			text = cJSON_PrintUnformatted(o);
		}
		cJSON_Delete(o);
		if (text == NULL) {
			rc = oom();
			goto out;
		}
		printf("%s\n", text);
		free(text);
		rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	} else {
		rc = print_status_rows(all);
	}
out:
	cli_res_fini(&r);
	cli_hub_close(h);
	cJSON_Delete(all);
	free(cursor);
	free(base);
	return rc;
}

/* ---- clusters ---- */

static void
cluster_cells(const cJSON *c, table *t)
{
	char zones[24], sent[24], applied[24], refused[24];
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(c, "connected");
	const char *cells[] = {cli_json_str(c, "name", "-"),
			       cJSON_IsTrue(conn) ? "yes" : "no",
			       cli_json_str(c, "connected_since", "-"),
			       cli_json_str(c, "last_seen", "-"),
			       cli_json_str(c, "software_version", "-"),
			       cli_json_str(c, "peer", "-"),
			       num_text(c, "zones", zones, sizeof(zones)),
			       num_text(c, "sent", sent, sizeof(sent)),
			       num_text(c, "applied", applied, sizeof(applied)),
			       num_text(c, "refused", refused, sizeof(refused)),
			       cli_json_str(c, "last_error", "-")};
	table_row(t, cells);
}

static const char *const cluster_head[] = {"NAME",    "CONNECTED", "SINCE",	"LAST_SEEN",
					   "VERSION", "PEER",	   "ZONES",	"SENT",
					   "APPLIED", "REFUSED",   "LAST_ERROR"};

static void
print_clusters(const cJSON *j, void *ctx)
{
	(void)ctx;
	table t;
	table_init(&t, cluster_head, sizeof(cluster_head) / sizeof(cluster_head[0]));
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "items"))
	{
		cluster_cells(c, &t);
	}
	table_print(&t);
	table_fini(&t);
	cli_print_next(j, "--after");
}

/* One cluster: its fields as "key: value" lines, then the status of its zones. */
static void
print_cluster(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"name",	     "connected",	 "connected_since",
					   "last_seen",	     "software_version", "peer",
					   "cert_not_after", "last_error",	 "sent",
					   "applied",	     "refused"};
	char buf[512];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("%s: %s\n", keys[i],
		       cli_json_text(cJSON_GetObjectItemCaseSensitive(j, keys[i]), buf,
				     sizeof(buf)));
	const cJSON *zones = cJSON_GetObjectItemCaseSensitive(j, "zones");
	if (cJSON_GetArraySize(zones) == 0) {
		printf("zones: none\n");
		return;
	}
	printf("\n");
	print_status_rows(zones);
}

int
cmd_clusters(int argc, char **argv)
{
	static const char syn[] = "clusters [NAME] [--limit N] [--after NAME]";
	cli_common common = {0};
	const char *limit = NULL, *after = NULL;
	const cli_opt opts[] = {
		{"--limit", NULL, CLI_OPT_STR, &limit, NULL, NULL},
		{"--after", NULL, CLI_OPT_STR, &after, NULL, NULL},
	};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 2, &common, pos, 0, 1, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long v;
	if (limit != NULL && (!cli_parse_uint(limit, 1000, &v) || v == 0))
		return cli_usage(syn, "--limit takes a number from 1 to 1000");
	if (npos == 1) {
		if (limit != NULL || after != NULL)
			return cli_usage(syn, "--limit and --after list clusters; not with NAME");
		return cli_run(&common, "GET", cli_path("/api/v1/clusters/%s", pos[0]), NULL,
			       print_cluster, NULL);
	}
	fedns_buf q;
	fedns_buf_init(&q, 1024);
	query_add(&q, "limit", limit);
	query_add(&q, "after", after);
	char *path = NULL;
	if (q.err == FEDNS_OK) {
		size_t plen = q.len + 32;
		if ((path = malloc(plen)) != NULL)
			snprintf(path, plen, "/api/v1/clusters%s", q.len ? (char *)q.data : "");
	}
	fedns_buf_fini(&q);
	return cli_run(&common, "GET", path, NULL, print_clusters, NULL);
}
