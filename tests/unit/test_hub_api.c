/* SPDX-License-Identifier: Apache-2.0 */
/* hub/api without a network: requests handed straight to hub_api_handle against a real
 * store, for bad input of every kind (each a 4xx with a clear message, nothing changes)
 * and for mutated bodies that must never crash or answer 5xx. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/log.h"
#include "hub/api.h"
#include "hub/auth.h"
#include "hub/store.h"

static char dir[256];
static char dbpath[300];
static char admin_auth[128];
static hub_api *api;

typedef struct answer {
	int status;
	char *body;
	char *headers;
} answer;

static void
answer_fini(answer *a)
{
	free(a->body);
	free(a->headers);
	a->body = a->headers = NULL;
}

static answer
call(const char *method, const char *path, const char *query, const char *ctype, const char *auth,
     const char *body, size_t blen)
{
	hub_req q = {.method = method,
		     .path = path,
		     .query = query != NULL ? query : "",
		     .content_type = ctype,
		     .authorization = auth,
		     .remote = "test",
		     .body = (const uint8_t *)body,
		     .body_len = blen};
	hub_res res = {.status = 0};
	answer a;

	fedns_buf_init(&res.body, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_init(&res.headers, 4096);
	hub_api_handle(api, &q, &res);
	a.status = res.status;
	a.body = strdup(res.body.data != NULL ? (const char *)res.body.data : "");
	a.headers = strdup(res.headers.data != NULL ? (const char *)res.headers.data : "");
	fedns_buf_fini(&res.body);
	fedns_buf_fini(&res.headers);
	return a;
}

static answer
jcall(const char *method, const char *path, const char *auth, const char *json)
{
	return call(method, path, NULL, "application/json", auth, json,
		    json != NULL ? strlen(json) : 0);
}

/* The current serial and audit length, to prove a refused request changed nothing. */
static void
state(uint32_t *serial, int64_t *audit_seq)
{
	hub_store_opts so = {.path = dbpath};
	hub_store *s = NULL;
	hub_zone z;
	hub_audit h;

	assert_int_equal(hub_store_open(&so, &s, NULL), FEDNS_OK);
	assert_int_equal(hub_store_begin(s, false), FEDNS_OK);
	assert_int_equal(hub_zone_get(s, "example.com.", &z), FEDNS_OK);
	*serial = z.serial;
	assert_int_equal(hub_audit_head(s, &h), FEDNS_OK);
	*audit_seq = h.seq;
	hub_store_rollback(s);
	hub_store_close(s);
}

static int
setup(void **unused)
{
	(void)unused;
	hub_store_opts so = {.path = dbpath, .create = true};
	hub_store *s = NULL;
	char tok[HUB_TOKEN_LEN + 1], hash[65];
	int64_t id;
	hub_api_opts ao;
	answer a;

	fedns_log_setup(stderr, FEDNS_LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/fedns-test-hub-api.XXXXXX", P_tmpdir);
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", dir);
	assert_int_equal(hub_store_open(&so, &s, NULL), FEDNS_OK);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "root", "person", &id), FEDNS_OK);
	assert_int_equal(hub_token_new(tok, hash), FEDNS_OK);
	assert_int_equal(hub_token_add(s, id, hash, "t", 0), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, id, HUB_TENANT_ALL, HUB_ROLE_ADMIN), FEDNS_OK);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	hub_store_close(s);
	snprintf(admin_auth, sizeof(admin_auth), "Bearer %s", tok);

	memset(&ao, 0, sizeof(ao));
	ao.store_path = dbpath;
	assert_int_equal(hub_api_new(&ao, &api, NULL), FEDNS_OK);
	hub_api_set_ready(api, true);
	a = jcall("POST", "/api/v1/tenants", admin_auth, "{\"name\":\"bank\"}");
	assert_int_equal(a.status, 201);
	answer_fini(&a);
	a = jcall("POST", "/api/v1/zones", admin_auth,
		  "{\"name\":\"example.com\",\"tenant\":\"bank\",\"zone_file\":\"$TTL 300\\n"
		  "example.com. IN SOA ns1.example.net. hm.example.com. 1 1 1 1 1\\n"
		  "@ NS ns1.example.net.\\nwww A 192.0.2.1\\nalias CNAME www\\n\"}");
	assert_int_equal(a.status, 201);
	answer_fini(&a);
	return 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	char cmd[400];
	hub_api_free(api);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

typedef struct bad_case {
	const char *method, *path, *query, *ctype;
	bool auth;
	const char *body;
	int status;
	const char *code;  /* expected error code */
	const char *field; /* expected details.field, or NULL */
} bad_case;

#define PROPOSE "/api/v1/zones/example.com/changes"
#define EDIT(x) "{\"base_serial\":1,\"reason\":\"r\",\"edits\":[" x "]}"

static const bad_case bad_cases[] = {
	{"GET", "/api/v1/whoami", NULL, NULL, false, NULL, 401, "unauthorized", NULL},
	{"POST", PROPOSE, NULL, "text/plain", true, EDIT(""), 415, "unsupported_media_type", NULL},
	{"POST", PROPOSE, NULL, "application/jsonx", true, "{}", 415, "unsupported_media_type",
	 NULL},
	{"POST", PROPOSE, NULL, "application/json", true, "", 400, "invalid_json", NULL},
	{"POST", PROPOSE, NULL, "application/json", true, "{", 400, "invalid_json", NULL},
	{"POST", PROPOSE, NULL, "application/json", true, "{} {}", 400, "invalid_json", NULL},
	{"POST", PROPOSE, NULL, "application/json", true, "[1]", 400, "invalid_field", NULL},
	{"POST", PROPOSE, NULL, "application/json", true, "{\"base_serial\":1,\"base_serial\":1}",
	 400, "duplicate_field", "base_serial"},
	{"POST", PROPOSE, NULL, "application/json", true, "{\"bogus\":1}", 400, "unknown_field",
	 "bogus"},
	{"POST", PROPOSE, NULL, "application/json", true, "{\"reason\":\"r\",\"edits\":[]}", 400,
	 "missing_field", "base_serial"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 "{\"base_serial\":1.5,\"reason\":\"r\",\"edits\":[]}", 400, "invalid_field",
	 "base_serial"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 "{\"base_serial\":-1,\"reason\":\"r\",\"edits\":[]}", 400, "invalid_field", "base_serial"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 "{\"base_serial\":1e300,\"reason\":\"r\",\"edits\":[]}", 400, "invalid_field",
	 "base_serial"},
	{"POST", PROPOSE, NULL, "application/json", true, "{\"base_serial\":1,\"edits\":[]}", 400,
	 "missing_field", "reason"},
	{"POST", PROPOSE, NULL, "application/json", true, EDIT(""), 400, "invalid_field", "edits"},
	{"POST", PROPOSE, NULL, "application/json", true, EDIT("1"), 400, "invalid_field",
	 "edits[0]"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"upsert\",\"name\":\"a\",\"type\":\"A\",\"rdata\":[\"192.0.2.1\"]}"), 400,
	 "invalid_field", "edits[0].op"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"A\",\"rdata\":[1]}"), 400, "invalid_rdata",
	 "edits[0].rdata[0]"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"A\"}"), 400, "missing_field",
	 "edits[0].rdata"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"A\",\"rdata\":[\"192.0.2.256\"]}"), 400,
	 "invalid_rdata", "edits[0].rdata[0]"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"AAAA\",\"rdata\":[\"2001:db8::g\"]}"), 400,
	 "invalid_rdata", "edits[0].rdata[0]"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"MX\",\"rdata\":[\"10\"]}"), 400,
	 "invalid_rdata", "edits[0].rdata[0]"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"A\",\"ttl\":4294967295,"
	      "\"rdata\":[\"192.0.2.1\"]}"),
	 400, "invalid_field", "edits[0].ttl"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a..b\",\"type\":\"A\",\"rdata\":[\"192.0.2.1\"]}"), 400,
	 "invalid_name", "edits[0].name"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":"
	      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaa\",\"type\":\"A\",\"rdata\":[\"192.0.2.1\"]}"),
	 400, "invalid_name", "edits[0].name"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"www.example.org.\",\"type\":\"A\","
	      "\"rdata\":[\"192.0.2.1\"]}"),
	 422, "zone_rule", NULL},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"alias\",\"type\":\"TXT\",\"rdata\":[\"\\\"x\\\"\"]}"),
	 422, "zone_rule", NULL},
	{"POST", PROPOSE, NULL, "application/json", true,
	 EDIT("{\"op\":\"add\",\"name\":\"a\",\"type\":\"BOGUS\",\"rdata\":[\"x\"]}"), 400,
	 "invalid_type", "edits[0].type"},
	{"POST", PROPOSE, NULL, "application/json", true,
	 "{\"base_serial\":1,\"reason\":\"r\",\"zone_file\":\"garbage here\\n\"}", 400,
	 "invalid_zone_file", "zone_file"},
	{"GET", "/api/v1/zones/..", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/zones/../tenants", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/zones/a/../../x", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/zones/%2e%2e", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/zones/exa mple.com", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/zones/.example.com", NULL, NULL, true, NULL, 400, "invalid_name", NULL},
	{"GET", "/api/v1/zones/example..com", NULL, NULL, true, NULL, 400, "invalid_name", NULL},
	{"GET", "/api/v1/zones/example.com/diff", "from=x", NULL, true, NULL, 400, "invalid_query",
	 "from"},
	{"GET", "/api/v1/zones/example.com/diff", NULL, NULL, true, NULL, 400, "invalid_query",
	 "from"},
	{"GET", "/api/v1/changes", "limit=1001", NULL, true, NULL, 400, "invalid_query", "limit"},
	{"GET", "/api/v1/changes", "state=open", NULL, true, NULL, 400, "invalid_query", "state"},
	{"GET", "/api/v1/changes/abc", NULL, NULL, true, NULL, 400, "invalid_path", NULL},
	{"GET", "/api/v1/changes/999", NULL, NULL, true, NULL, 404, "not_found", NULL},
	{"PATCH", "/api/v1/zones", NULL, NULL, true, NULL, 405, "method_not_allowed", NULL},
	{"GET", "/api/v2/zones", NULL, NULL, true, NULL, 404, "not_found", NULL},
	{"POST", "/api/v1/zones/example.com/rollback", NULL, "application/json", true,
	 "{\"to_serial\":7,\"reason\":\"r\"}", 404, "not_found", "to_serial"},
	{"PUT", "/api/v1/zones/example.com/policy", NULL, "application/json", true,
	 "{\"approvals_required\":0}", 400, "invalid_field", "approvals_required"},
	{"PUT", "/api/v1/zones/example.com/placement", NULL, "application/json", true,
	 "{\"clusters\":[\"ok\",\"../etc\"]}", 400, "invalid_field", "clusters[1]"},
};

static void
test_bad_input(void **unused)
{
	(void)unused;
	uint32_t serial0, serial1;
	int64_t seq0, seq1;

	state(&serial0, &seq0);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *c = &bad_cases[i];
		char code[80], field[80];
		answer a = call(c->method, c->path, c->query, c->ctype, c->auth ? admin_auth : NULL,
				c->body, c->body != NULL ? strlen(c->body) : 0);
		snprintf(code, sizeof(code), "\"code\":\"%s\"", c->code);
		snprintf(field, sizeof(field), "\"field\":\"%s\"",
			 c->field != NULL ? c->field : "");
		if (a.status != c->status || strstr(a.body, code) == NULL ||
		    (c->field != NULL && strstr(a.body, field) == NULL) ||
		    strstr(a.body, "\"message\":\"\"") != NULL) {
			print_error("case %zu: %s %s?%s %s -> %d %s\n", i, c->method, c->path,
				    c->query != NULL ? c->query : "",
				    c->body != NULL ? c->body : "", a.status, a.body);
			answer_fini(&a);
			fail();
		}
		/* the answer never echoes a credential */
		assert_null(strstr(a.body, admin_auth + 7));
		answer_fini(&a);
	}
	state(&serial1, &seq1);
	assert_int_equal(serial1, serial0);
	/* refused writes and the refused read are audited; nothing else was written */
	assert_true(seq1 > seq0);
}

static void
test_oversized(void **unused)
{
	(void)unused;
	size_t n = HUB_API_MAX_BODY + 10;
	char *big = malloc(n + 1);
	answer a;

	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	a = call("POST", "/api/v1/tenants", NULL, "application/json", admin_auth, big, n);
	assert_int_equal(a.status, 413);
	assert_non_null(strstr(a.body, "body_too_large"));
	answer_fini(&a);
	/* the zone routes take up to the zone cap */
	a = call("POST", PROPOSE, NULL, "application/json", admin_auth, big, n);
	assert_int_equal(a.status, 400);
	assert_non_null(strstr(a.body, "missing_field"));
	answer_fini(&a);
	free(big);
}

/* Mutated bodies: flipped, dropped and duplicated bytes of valid requests never crash
 * (the ASan build runs this) nor answer 5xx. */
static void
test_mutations(void **unused)
{
	(void)unused;
	static const char *const seeds[] = {
		EDIT("{\"op\":\"add\",\"name\":\"m\",\"type\":\"TXT\",\"ttl\":60,"
		     "\"rdata\":[\"\\\"hello \\\\\\\"w\\\\\\\"\\\"\"]}"),
		EDIT("{\"op\":\"replace\",\"name\":\"www\",\"type\":\"A\","
		     "\"rdata\":[\"192.0.2.7\",\"192.0.2.8\"]}"),
		EDIT("{\"op\":\"delete\",\"name\":\"alias\",\"type\":\"CNAME\"}"),
		"{\"base_serial\":1,\"reason\":\"f\",\"zone_file\":\"$TTL 300\\nexample.com. IN "
		"SOA "
		"a. b. 1 1 1 1 1\\n@ NS ns1.example.net.\\n\"}",
	};
	const char *const ctypes[] = {"application/json"};
	unsigned seed = 12345;
	int counts[6] = {0};

	for (int iter = 0; iter < 3000; iter++) {
		const char *s = seeds[iter % 4];
		size_t len = strlen(s);
		char *m = malloc(len * 2 + 8);
		size_t mlen = len;
		memcpy(m, s, len);
		for (int k = 0; k < 1 + (iter % 3); k++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % mlen;
			switch ((seed >> 4) % 4) {
			case 0:
				m[pos] = (char)(seed >> 16);
				break;
			case 1:
				memmove(m + pos, m + pos + 1, mlen - pos - 1);
				mlen--;
				break;
			case 2:
				memmove(m + pos + 1, m + pos, mlen - pos);
				mlen++;
				break;
			default:
				m[pos] = "{}[]\",:0\\"[(seed >> 12) % 9];
			}
		}
		answer a = call("POST", PROPOSE, NULL, ctypes[0], admin_auth, m, mlen);
		if (a.status >= 500 || a.status < 200) {
			print_error("mutation %d -> %d %s\n", iter, a.status, a.body);
			free(m);
			answer_fini(&a);
			fail();
		}
		counts[a.status / 100]++;
		/* withdraw what happened to be valid, so the zone's base stays at serial 1 */
		if (a.status == 201) {
			const char *id = strstr(a.body, "\"id\":");
			if (id != NULL) {
				char path[80];
				snprintf(path, sizeof(path), "/api/v1/changes/%ld/withdraw",
					 strtol(id + 5, NULL, 10));
				answer w = jcall("POST", path, admin_auth, NULL);
				assert_int_equal(w.status, 200);
				answer_fini(&w);
			}
		}
		answer_fini(&a);
		free(m);
	}
	assert_true(counts[4] > 1000);
}

static void
test_health(void **unused)
{
	(void)unused;
	answer a = call("GET", "/healthz", NULL, NULL, NULL, NULL, 0);
	assert_int_equal(a.status, 200);
	answer_fini(&a);
	hub_api_set_ready(api, false);
	a = call("GET", "/readyz", NULL, NULL, NULL, NULL, 0);
	assert_int_equal(a.status, 503);
	answer_fini(&a);
	hub_api_set_ready(api, true);
	a = call("GET", "/readyz", NULL, NULL, NULL, NULL, 0);
	assert_int_equal(a.status, 200);
	answer_fini(&a);
	a = call("POST", "/healthz", NULL, NULL, NULL, NULL, 0);
	assert_int_equal(a.status, 405);
	assert_non_null(strstr(a.headers, "Allow: GET"));
	answer_fini(&a);
}

/* ---- concurrent writers ---- */

enum {
	CW_THREADS = 6,
	CW_ZONES = 3,
	CW_COMMITS = 6,
};

static const char *const cw_zones[CW_ZONES] = {"example.com", "c1.test", "c2.test"};
static char cw_editor[128], cw_approver[128];

typedef struct cw_worker {
	int k;
	int commits, stale;
	uint32_t last_serial;
	char error[300];
} cw_worker;

static uint32_t
json_uint(const char *body, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(body, pat);
	return p != NULL ? (uint32_t)strtoul(p + strlen(pat), NULL, 10) : 0;
}

static uint32_t
cw_serial(const char *zone)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/zones/%s", zone);
	answer a = call("GET", path, NULL, NULL, cw_editor, NULL, 0);
	uint32_t serial = a.status == 200 ? json_uint(a.body, "serial") : 0;
	answer_fini(&a);
	return serial;
}

/* Two workers per zone: proposals and approvals race on each zone and across zones. */
static void *
cw_run(void *arg)
{
	cw_worker *wk = arg;
	const char *zone = cw_zones[wk->k % CW_ZONES];
	char path[128], body[256];

	for (int i = 0; i < 200 && wk->commits < CW_COMMITS; i++) {
		uint32_t base = cw_serial(zone);
		snprintf(path, sizeof(path), "/api/v1/zones/%s/changes", zone);
		snprintf(body, sizeof(body),
			 "{\"base_serial\":%u,\"reason\":\"load\",\"edits\":[{\"op\":\"add\","
			 "\"name\":\"w%d-%d\",\"type\":\"A\",\"rdata\":[\"192.0.2.%d\"]}]}",
			 (unsigned)base, wk->k, i, i % 250 + 1);
		answer a = jcall("POST", path, cw_editor, body);
		if (a.status == 409) {
			wk->stale++;
			answer_fini(&a);
			continue;
		}
		if (a.status != 201) {
			snprintf(wk->error, sizeof(wk->error), "propose: %d %.200s", a.status,
				 a.body);
			answer_fini(&a);
			return NULL;
		}
		uint32_t id = json_uint(a.body, "id");
		answer_fini(&a);
		snprintf(path, sizeof(path), "/api/v1/changes/%u/approve", (unsigned)id);
		a = jcall("POST", path, cw_approver, NULL);
		if (a.status == 409 && strstr(a.body, "\"stale\"") != NULL) {
			wk->stale++;
			answer_fini(&a);
			continue;
		}
		if (a.status != 200 || strstr(a.body, "\"committed\":true") == NULL) {
			snprintf(wk->error, sizeof(wk->error), "approve: %d %.200s", a.status,
				 a.body);
			answer_fini(&a);
			return NULL;
		}
		uint32_t serial = json_uint(a.body, "serial");
		if (serial != base + 1) {
			snprintf(wk->error, sizeof(wk->error), "committed serial %u on base %u",
				 (unsigned)serial, (unsigned)base);
			answer_fini(&a);
			return NULL;
		}
		wk->commits++;
		answer_fini(&a);
	}
	return NULL;
}

static void
test_concurrent_writers(void **unused)
{
	(void)unused;
	hub_store_opts so = {.path = dbpath};
	hub_store *s = NULL;
	char tok[HUB_TOKEN_LEN + 1], hash[65];
	int64_t id;
	uint32_t start[CW_ZONES];
	int64_t audit0, audit1;
	uint32_t serial;

	assert_int_equal(hub_store_open(&so, &s, NULL), FEDNS_OK);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_principal_create(s, "cw-editor", "person", &id), FEDNS_OK);
	assert_int_equal(hub_token_new(tok, hash), FEDNS_OK);
	assert_int_equal(hub_token_add(s, id, hash, "t", 0), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, id, HUB_TENANT_ALL, HUB_ROLE_EDITOR), FEDNS_OK);
	snprintf(cw_editor, sizeof(cw_editor), "Bearer %s", tok);
	assert_int_equal(hub_principal_create(s, "cw-approver", "person", &id), FEDNS_OK);
	assert_int_equal(hub_token_new(tok, hash), FEDNS_OK);
	assert_int_equal(hub_token_add(s, id, hash, "t", 0), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, id, HUB_TENANT_ALL, HUB_ROLE_APPROVER), FEDNS_OK);
	snprintf(cw_approver, sizeof(cw_approver), "Bearer %s", tok);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	hub_store_close(s);
	for (int z = 1; z < CW_ZONES; z++) {
		char body[200];
		snprintf(body, sizeof(body),
			 "{\"name\":\"%s\",\"tenant\":\"bank\",\"primary_ns\":\"ns1.example.net\","
			 "\"hostmaster\":\"hm@example.net\"}",
			 cw_zones[z]);
		answer a = jcall("POST", "/api/v1/zones", admin_auth, body);
		assert_int_equal(a.status, 201);
		answer_fini(&a);
	}
	for (int z = 0; z < CW_ZONES; z++)
		start[z] = cw_serial(cw_zones[z]);
	state(&serial, &audit0);

	pthread_t th[CW_THREADS];
	cw_worker wk[CW_THREADS];
	memset(wk, 0, sizeof(wk));
	for (int k = 0; k < CW_THREADS; k++) {
		wk[k].k = k;
		assert_int_equal(pthread_create(&th[k], NULL, cw_run, &wk[k]), 0);
	}
	int per_zone[CW_ZONES] = {0};
	int commits = 0, stale = 0;
	for (int k = 0; k < CW_THREADS; k++) {
		pthread_join(th[k], NULL);
		if (wk[k].error[0] != '\0')
			fail_msg("worker %d: %s", k, wk[k].error);
		assert_int_equal(wk[k].commits, CW_COMMITS);
		per_zone[k % CW_ZONES] += wk[k].commits;
		commits += wk[k].commits;
		stale += wk[k].stale;
	}
	/* every acknowledged commit is there, one serial each, no gaps */
	for (int z = 0; z < CW_ZONES; z++)
		assert_int_equal(cw_serial(cw_zones[z]), start[z] + (uint32_t)per_zone[z]);
	/* one audit record per successful or refused write and one per commit: at least
	 * propose + approve + commit for each commit and one per refusal */
	state(&serial, &audit1);
	assert_true(audit1 - audit0 >= (int64_t)commits * 3 + stale);
	print_message("%d commits, %d stale refusals\n", commits, stale);
}

/* ---- federation status ---- */

static int hook_calls;
static int64_t hook_zone;

static void
count_hook(void *ctx, int64_t zone_id)
{
	(void)ctx;
	hook_calls++;
	hook_zone = zone_id;
}

/* A GET answered 'status' whose body parses; the caller deletes the JSON. */
static cJSON *
get_json(const char *path, const char *query, const char *auth, int status)
{
	answer a = call("GET", path, query, NULL, auth, NULL, 0);
	if (a.status != status)
		fail_msg("GET %s?%s: %d %s (wanted %d)", path, query ? query : "", a.status, a.body,
			 status);
	cJSON *j = cJSON_Parse(a.body);
	if (j == NULL)
		fail_msg("GET %s: not JSON: %s", path, a.body);
	answer_fini(&a);
	return j;
}

static const char *
jget_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsString(v))
		fail_msg("field %s is not a string", k);
	return v->valuestring;
}

static bool
jis_null(const cJSON *o, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double
jget_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		fail_msg("field %s is not a number", k);
	return v->valuedouble;
}

static const cJSON *
items(const cJSON *j)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "items");
	assert_true(cJSON_IsArray(a));
	return a;
}

/* "zone/cluster=state" for each row, joined with spaces */
static void
rows_text(const cJSON *arr, char *out, size_t cap)
{
	const cJSON *it;
	size_t n = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(it, arr)
	{
		n += (size_t)snprintf(out + n, cap - n, "%s%s/%s=%s", n ? " " : "",
				      jget_str(it, "zone"), jget_str(it, "cluster"),
				      jget_str(it, "state"));
		assert_true(n < cap);
	}
}

static void
expect_error(const char *path, const char *query, const char *auth, int status, const char *code,
	     const char *field)
{
	cJSON *j = get_json(path, query, auth, status);
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
	assert_non_null(er);
	assert_string_equal(jget_str(er, "code"), code);
	assert_true(strlen(jget_str(er, "message")) > 0);
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(er, "details");
	assert_true(cJSON_IsObject(det));
	if (field != NULL)
		assert_string_equal(jget_str(det, "field"), field);
	cJSON_Delete(j);
}

static hub_secondary
sec(const char *cluster, int64_t zone, const char *name, const char *state, bool has,
    uint32_t serial)
{
	hub_secondary r = {.zone_id = zone,
			   .has_serial = has,
			   .serial = serial,
			   .lag_ms = -1,
			   .confirmed_ms = -1,
			   .updated_at = 1700000000000};
	snprintf(r.cluster, sizeof(r.cluster), "%s", cluster);
	snprintf(r.secondary, sizeof(r.secondary), "%s", name);
	snprintf(r.address, sizeof(r.address), "127.0.0.1:53");
	snprintf(r.state, sizeof(r.state), "%s", state);
	return r;
}

static void
test_status(void **unused)
{
	(void)unused;
	hub_store_opts so = {.path = dbpath};
	hub_store *s = NULL;
	char tok[HUB_TOKEN_LEN + 1], hash[65], viewer[128], rows[1000];
	int64_t vic, bank_id, acme_id;
	hub_zone ex, acme;
	answer a;

	/* a second tenant with its own zone, both zones placed; a bank viewer */
	a = jcall("POST", "/api/v1/tenants", admin_auth, "{\"name\":\"acme\"}");
	assert_int_equal(a.status, 201);
	answer_fini(&a);
	a = jcall("POST", "/api/v1/zones", admin_auth,
		  "{\"name\":\"acme.example\",\"tenant\":\"acme\",\"placement\":[\"east\"],"
		  "\"primary_ns\":\"ns1.example.net\",\"hostmaster\":\"hm@example.net\"}");
	assert_int_equal(a.status, 201);
	answer_fini(&a);

	/* a placement write calls the fan-out hook with the zone once it committed */
	hub_api *prev = api;
	hub_api_opts ao = {.store_path = dbpath, .on_zone_write = count_hook};
	assert_int_equal(hub_api_new(&ao, &api, NULL), FEDNS_OK);
	hub_api_set_ready(api, true);
	hook_calls = 0;
	a = jcall("PUT", "/api/v1/zones/example.com/placement", admin_auth,
		  "{\"clusters\":[\"west\",\"east\"]}");
	assert_int_equal(a.status, 200);
	answer_fini(&a);
	assert_int_equal(hook_calls, 1);
	a = jcall("PUT", "/api/v1/zones/example.com/placement", admin_auth,
		  "{\"clusters\":[\"bad name\"]}");
	assert_int_equal(a.status, 400);
	answer_fini(&a);
	assert_int_equal(hook_calls, 1); /* refused: nothing committed, no call */
	hub_api_free(api);
	api = prev;

	assert_int_equal(hub_store_open(&so, &s, NULL), FEDNS_OK);
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_zone_get(s, "example.com.", &ex), FEDNS_OK);
	assert_int_equal(hub_zone_get(s, "acme.example.", &acme), FEDNS_OK);
	assert_int_equal(hook_zone, ex.id);
	bank_id = ex.tenant_id;
	acme_id = acme.tenant_id;
	assert_true(bank_id != acme_id);
	assert_int_equal(hub_principal_create(s, "vic", "person", &vic), FEDNS_OK);
	assert_int_equal(hub_token_new(tok, hash), FEDNS_OK);
	assert_int_equal(hub_token_add(s, vic, hash, "t", 0), FEDNS_OK);
	assert_int_equal(hub_role_grant(s, vic, bank_id, HUB_ROLE_VIEWER), FEDNS_OK);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	snprintf(viewer, sizeof(viewer), "Bearer %s", tok);

	/* before any spoke: a row per (zone, placed cluster), all pending, nothing known */
	cJSON *j = get_json("/api/v1/status", NULL, admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=pending example.com./east=pending "
				  "example.com./west=pending");
	const cJSON *r0 = cJSON_GetArrayItem(items(j), 1);
	assert_string_equal(jget_str(r0, "tenant"), "bank");
	assert_int_equal((uint32_t)jget_num(r0, "hub_serial"), ex.serial);
	assert_true(jis_null(r0, "spoke"));
	assert_true(jis_null(r0, "pending_changes"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r0, "secondaries")),
			 0);
	assert_true(jis_null(j, "next"));
	cJSON_Delete(j);
	j = get_json("/api/v1/clusters", NULL, admin_auth, 200);
	assert_int_equal(cJSON_GetArraySize(items(j)), 2);
	const cJSON *c0 = cJSON_GetArrayItem(items(j), 0);
	assert_string_equal(jget_str(c0, "name"), "east");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c0, "connected")));
	assert_true(jis_null(c0, "last_seen"));
	assert_true(jis_null(c0, "connected_since"));
	assert_true(jis_null(c0, "software_version"));
	assert_int_equal((int)jget_num(c0, "zones"), 2);
	cJSON_Delete(j);

	/* what the fan-out would write: east holds example.com at the hub's serial with one
	 * secondary lagging; west holds it with its secondary in sync; acme's east spoke holds
	 * an old serial */
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	assert_int_equal(hub_cluster_connected(s, "east", "fedns-spoke 1.0", "192.0.2.1:40000",
					       1900000000, 1700000000000),
			 FEDNS_OK);
	hub_spoke_zone sz = {
		.zone_id = ex.id, .serial = ex.serial, .acked_at = 1700000000123, .applied_ms = 12};
	snprintf(sz.cluster, sizeof(sz.cluster), "east");
	snprintf(sz.digest, sizeof(sz.digest), "%s", ex.digest);
	snprintf(sz.last_status, sizeof(sz.last_status), "applied");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	snprintf(sz.cluster, sizeof(sz.cluster), "west");
	sz.applied_ms = -1;
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	sz.zone_id = acme.id;
	sz.serial = acme.serial - 1;
	snprintf(sz.cluster, sizeof(sz.cluster), "east");
	assert_int_equal(hub_spoke_zone_put(s, &sz), FEDNS_OK);
	hub_secondary r = sec("east", ex.id, "ns1", "in_sync", true, ex.serial);
	r.last_proven = 1700000000500;
	r.confirmed_ms = 40;
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	r = sec("east", ex.id, "ns2", "lagging", true, ex.serial - 1);
	r.lag_ms = 2500;
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	r = sec("west", ex.id, "ns1", "in_sync", true, ex.serial);
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	r = sec("east", acme.id, "ns1", "unreachable", false, 0);
	snprintf(r.last_error, sizeof(r.last_error), "connection refused");
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	/* a row of a cluster the zone is not placed on is not a status row */
	r = sec("north", ex.id, "ns1", "diverged", true, 1);
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);

	j = get_json("/api/v1/status", NULL, admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=unreachable example.com./east=lagging "
				  "example.com./west=in_sync");
	r0 = cJSON_GetArrayItem(items(j), 1);
	assert_int_equal((int)jget_num(r0, "pending_changes"), 0);
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(r0, "spoke");
	assert_int_equal((uint32_t)jget_num(sp, "serial"), ex.serial);
	assert_string_equal(jget_str(sp, "acked_at"), "2023-11-14T22:13:20.123Z");
	assert_string_equal(jget_str(sp, "status"), "applied");
	assert_true(jis_null(sp, "reason"));
	assert_int_equal((int)jget_num(sp, "applied_ms"), 12);
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(r0, "secondaries");
	assert_int_equal(cJSON_GetArraySize(secs), 2);
	const cJSON *s0 = cJSON_GetArrayItem(secs, 0), *s1 = cJSON_GetArrayItem(secs, 1);
	assert_string_equal(jget_str(s0, "name"), "ns1");
	assert_string_equal(jget_str(s0, "state"), "in_sync");
	assert_string_equal(jget_str(s0, "last_proven"), "2023-11-14T22:13:20.500Z");
	assert_int_equal((int)jget_num(s0, "confirmed_ms"), 40);
	assert_true(jis_null(s0, "lag_ms"));
	assert_string_equal(jget_str(s1, "state"), "lagging");
	assert_int_equal((int)jget_num(s1, "lag_ms"), 2500);
	assert_true(jis_null(s1, "last_proven"));
	assert_string_equal(jget_str(s1, "state_since"), "2023-11-14T22:13:20.000Z");
	r0 = cJSON_GetArrayItem(items(j), 0);
	assert_true(
		jis_null(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r0, "secondaries"), 0),
			 "serial"));
	cJSON_Delete(j);

	/* the worst state wins, and in_sync at an old serial is only pending */
	assert_int_equal(hub_store_begin(s, true), FEDNS_OK);
	r = sec("west", ex.id, "ns1", "in_sync", true, ex.serial - 1);
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	r = sec("east", ex.id, "ns3", "diverged", true, ex.serial);
	assert_int_equal(hub_secondary_put(s, &r, NULL), FEDNS_OK);
	assert_int_equal(hub_store_commit(s), FEDNS_OK);
	j = get_json("/api/v1/zones/example.com/status", NULL, admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./east=diverged example.com./west=pending");
	cJSON_Delete(j);

	/* filters */
	j = get_json("/api/v1/status", "state=pending", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./west=pending");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "cluster=east", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=unreachable example.com./east=diverged");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "zone=example.com&cluster=west", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./west=pending");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "tenant=acme", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=unreachable");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "cluster=nowhere", admin_auth, 200);
	assert_int_equal(cJSON_GetArraySize(items(j)), 0);
	cJSON_Delete(j);

	/* pages of one row, each "next" continuing where the last stopped */
	j = get_json("/api/v1/status", "limit=1", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=unreachable");
	assert_string_equal(jget_str(j, "next"), "acme.example./east");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "limit=1&after=acme.example./east", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./east=diverged");
	assert_string_equal(jget_str(j, "next"), "example.com./east");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "limit=1&after=example.com./east", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./west=pending");
	assert_true(jis_null(j, "next"));
	cJSON_Delete(j);
	/* the cursor with a zone filter, and a cursor spelled without the final dot */
	j = get_json("/api/v1/status", "zone=example.com&limit=1", admin_auth, 200);
	assert_string_equal(jget_str(j, "next"), "example.com./east");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "zone=example.com&after=example.com./east", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./west=pending");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "zone=example.com&after=acme.example./zzz", admin_auth, 200);
	assert_int_equal(cJSON_GetArraySize(items(j)), 2);
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "zone=acme.example&after=example.com./east", admin_auth,
		     200);
	assert_int_equal(cJSON_GetArraySize(items(j)), 0);
	assert_true(jis_null(j, "next"));
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "after=EXAMPLE.com/east", admin_auth, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./west=pending");
	cJSON_Delete(j);
	expect_error("/api/v1/status", "after=exa..mple/east", admin_auth, 400, "invalid_name",
		     "after");
	j = get_json("/api/v1/clusters", "limit=1", admin_auth, 200);
	assert_string_equal(jget_str(j, "next"), "east");
	cJSON_Delete(j);
	j = get_json("/api/v1/clusters", "after=east", admin_auth, 200);
	assert_int_equal(cJSON_GetArraySize(items(j)), 1);
	assert_string_equal(jget_str(cJSON_GetArrayItem(items(j), 0), "name"), "west");
	cJSON_Delete(j);

	/* a cluster and its zones */
	j = get_json("/api/v1/clusters/east", NULL, admin_auth, 200);
	assert_string_equal(jget_str(j, "name"), "east");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "connected")));
	assert_string_equal(jget_str(j, "connected_since"), "2023-11-14T22:13:20.000Z");
	assert_string_equal(jget_str(j, "software_version"), "fedns-spoke 1.0");
	assert_string_equal(jget_str(j, "peer"), "192.0.2.1:40000");
	assert_string_equal(jget_str(j, "cert_not_after"), "2030-03-17T17:46:40.000Z");
	rows_text(cJSON_GetObjectItemCaseSensitive(j, "zones"), rows, sizeof(rows));
	assert_string_equal(rows, "acme.example./east=unreachable example.com./east=diverged");
	cJSON_Delete(j);

	/* a bank viewer sees bank's rows only; acme's zone is not there, nor counted */
	j = get_json("/api/v1/status", NULL, viewer, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./east=diverged example.com./west=pending");
	cJSON_Delete(j);
	j = get_json("/api/v1/status", "cluster=east", viewer, 200);
	rows_text(items(j), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./east=diverged");
	cJSON_Delete(j);
	j = get_json("/api/v1/clusters", NULL, viewer, 200);
	assert_int_equal((int)jget_num(cJSON_GetArrayItem(items(j), 0), "zones"), 1);
	cJSON_Delete(j);
	j = get_json("/api/v1/clusters/east", NULL, viewer, 200);
	rows_text(cJSON_GetObjectItemCaseSensitive(j, "zones"), rows, sizeof(rows));
	assert_string_equal(rows, "example.com./east=diverged");
	cJSON_Delete(j);
	answer b = call("GET", "/api/v1/status", NULL, NULL, viewer, NULL, 0);
	assert_null(strstr(b.body, "acme"));
	answer_fini(&b);
	expect_error("/api/v1/zones/acme.example/status", NULL, viewer, 403, "forbidden", NULL);
	expect_error("/api/v1/status", "zone=acme.example", viewer, 403, "forbidden", NULL);
	expect_error("/api/v1/status", "tenant=acme", viewer, 403, "forbidden", NULL);

	/* bad queries and unknown names, in the usual error shape */
	expect_error("/api/v1/status", "state=bogus", admin_auth, 400, "invalid_query", "state");
	expect_error("/api/v1/status", "cluster=a%20b", admin_auth, 400, "invalid_query",
		     "cluster");
	expect_error("/api/v1/status", "after=nocluster", admin_auth, 400, "invalid_query",
		     "after");
	expect_error("/api/v1/status", "limit=0", admin_auth, 400, "invalid_query", "limit");
	expect_error("/api/v1/status", "zone=nope.example", admin_auth, 404, "not_found", "zone");
	expect_error("/api/v1/status", "tenant=nope", admin_auth, 404, "not_found", "tenant");
	expect_error("/api/v1/clusters/nope", NULL, admin_auth, 404, "not_found", NULL);
	expect_error("/api/v1/zones/nope.example/status", NULL, admin_auth, 404, "not_found", NULL);
	expect_error("/api/v1/status", NULL, NULL, 401, "unauthorized", NULL);
	expect_error("/api/v1/clusters", NULL, NULL, 401, "unauthorized", NULL);
	a = jcall("POST", "/api/v1/status", admin_auth, "{}");
	assert_int_equal(a.status, 405);
	answer_fini(&a);
	hub_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),	  cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_oversized), cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_status),	  cmocka_unit_test(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
