/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's ops handler: which paths it answers (and which it leaves to the API), the
 * redirect, the embedded files with their types and security headers, path tricks, methods,
 * /metrics, and that the embedded page loads nothing from elsewhere and has no inline
 * script or style for the CSP to refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "hub/dashboard.h"
#include "hub/store.h"
#include "hub/www/assets.h"

static char dir[256];
static char dbpath[300];
static hub_ops *ops;

static int
setup(void **state)
{
	(void)state;
	hub_store_opts o = {.create = true};
	hub_store *s = NULL;
	fedns_diag d = {0};

	snprintf(dir, sizeof dir, "/tmp/test_hub_dashboard.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
	o.path = dbpath;
	if (hub_store_open(&o, &s, &d) != FEDNS_OK) {
		return -1;
	}
	hub_store_close(s);
	hub_ops_opts oo = {.store_path = dbpath, .fanout = NULL};
	return hub_ops_new(&oo, &ops, &d) == FEDNS_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char p[400];
	const char *files[] = {"hub.db", "hub.db-wal", "hub.db-shm"};

	hub_ops_free(ops);
	ops = NULL;
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

typedef struct answer {
	bool handled;
	hub_res res;
} answer;

static void
call(const char *method, const char *path, answer *a)
{
	hub_req rq = {.method = method, .path = path, .query = "", .remote = "-"};

	memset(a, 0, sizeof(*a));
	fedns_buf_init(&a->res.body, FEDNS_BUF_DEFAULT_MAX);
	fedns_buf_init(&a->res.headers, 16 << 10);
	a->handled = hub_ops_handle(ops, &rq, &a->res);
}

static void
done(answer *a)
{
	fedns_buf_fini(&a->res.body);
	fedns_buf_fini(&a->res.headers);
}

static const char *
headers(const answer *a)
{
	return a->res.headers.len > 0 ? (const char *)a->res.headers.data : "";
}

static const char *
body(const answer *a)
{
	return a->res.body.len > 0 ? (const char *)a->res.body.data : "";
}

static void
test_not_ours(void **state)
{
	(void)state;
	const char *paths[] = {"/api/v1/whoami", "/healthz",	 "/readyz",	   "/metricsx",
			       "/dashboards",	 "/favicon.ico", "/api/v1/status", "//dashboard/"};
	answer a;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		call("GET", paths[i], &a);
		assert_false(a.handled);
		assert_int_equal(a.res.status, 0);
		assert_int_equal(a.res.body.len, 0);
		done(&a);
	}
	hub_req rq = {.method = "GET", .path = NULL};
	assert_false(hub_ops_handle(ops, &rq, &a.res));
}

static void
test_redirects(void **state)
{
	(void)state;
	const char *paths[] = {"/", "/dashboard"};
	answer a;

	for (size_t i = 0; i < 2; i++) {
		call("GET", paths[i], &a);
		assert_true(a.handled);
		assert_int_equal(a.res.status, 302);
		assert_string_equal(headers(&a), "Location: /dashboard/\r\n");
		done(&a);
	}
}

static void
test_assets(void **state)
{
	(void)state;
	struct {
		const char *path, *type, *needle;
	} cases[] = {
		{"/dashboard/", "text/html; charset=utf-8", "<script src=\"app.js\" defer>"},
		{"/dashboard/index.html", "text/html; charset=utf-8",
		 "<title>fedns status</title>"},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", "Authorization"},
		{"/dashboard/httpsig.js", "text/javascript; charset=utf-8", "Signature-Input"},
		{"/dashboard/style.css", "text/css; charset=utf-8", ".st-unreachable"},
		{"/dashboard/favicon.svg", "image/svg+xml", "<svg"},
	};
	answer a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call("GET", cases[i].path, &a);
		assert_true(a.handled);
		assert_int_equal(a.res.status, 200);
		assert_string_equal(a.res.content_type, cases[i].type);
		assert_non_null(strstr(body(&a), cases[i].needle));
		assert_non_null(strstr(headers(&a), "Content-Security-Policy: default-src 'none'; "
						    "script-src 'self'; style-src 'self'; "));
		assert_non_null(strstr(headers(&a), "connect-src 'self'"));
		assert_non_null(strstr(headers(&a), "frame-ancestors 'none'"));
		assert_non_null(strstr(headers(&a), "X-Frame-Options: DENY\r\n"));
		assert_non_null(strstr(headers(&a), "Referrer-Policy: no-referrer\r\n"));
		done(&a);
	}
	/* HEAD is answered like GET (the transport drops the body) */
	call("HEAD", "/dashboard/app.js", &a);
	assert_int_equal(a.res.status, 200);
	done(&a);
}

static void
test_bad_paths(void **state)
{
	(void)state;
	const char *paths[] = {"/dashboard/../hub.db",	 "/dashboard/..",
			       "/dashboard/.hidden",	 "/dashboard/www/app.js",
			       "/dashboard/app.js/",	 "/dashboard/nope.js",
			       "/dashboard/embed.cmake", "/dashboard/assets.h",
			       "/dashboard/APP.JS",	 "/dashboard//app.js"};
	answer a;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		call("GET", paths[i], &a);
		assert_true(a.handled);
		assert_int_equal(a.res.status, 404);
		assert_string_equal(a.res.content_type, "application/json");
		assert_non_null(strstr(body(&a), "\"code\":\"not_found\""));
		done(&a);
	}
}

static void
test_methods(void **state)
{
	(void)state;
	const char *paths[] = {"/", "/dashboard/", "/dashboard/app.js", "/metrics"};
	const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS"};
	answer a;

	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 4; j++) {
			call(methods[j], paths[i], &a);
			assert_true(a.handled);
			assert_int_equal(a.res.status, 405);
			assert_non_null(strstr(headers(&a), "Allow: GET, HEAD\r\n"));
			done(&a);
		}
	}
}

static void
test_metrics(void **state)
{
	(void)state;
	answer a;

	call("GET", "/metrics", &a);
	assert_true(a.handled);
	assert_int_equal(a.res.status, 200);
	assert_string_equal(a.res.content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(body(&a), "\nfedns_hub_store_up 1\n"));
	assert_non_null(strstr(body(&a), "\nfedns_hub_audit_chain_length 0\n"));
	/* no fan-out given: none of its families */
	assert_null(strstr(body(&a), "fedns_hub_spoke_sessions"));
	done(&a);
}

/* What CSP and "no CDN" mean for the files themselves: every script and style is a file
 * of this origin, and no file names another origin to load from. */
static void
test_embedded_files_are_self_contained(void **state)
{
	(void)state;
	assert_true(hub_www_nassets >= 4);
	for (size_t i = 0; i < hub_www_nassets; i++) {
		const hub_www_asset *f = &hub_www_assets[i];
		char *t = calloc(1, f->len + 1);
		assert_non_null(t);
		memcpy(t, f->data, f->len);
		if (i > 0) {
			assert_true(strcmp(hub_www_assets[i - 1].name, f->name) < 0);
		}
		/* the only absolute URL allowed is the SVG namespace name (not fetched) */
		for (char *p = strstr(t, "http"); p != NULL; p = strstr(p + 1, "http")) {
			if (strncmp(p, "https://", 8) == 0 || strncmp(p, "http://", 7) == 0) {
				assert_true(strncmp(p, "http://www.w3.org/2000/svg", 26) == 0);
			}
		}
		assert_null(strstr(t, "//cdn"));
		assert_null(strstr(t, "@import"));
		assert_null(strstr(t, "url("));
		if (strcmp(f->name, "index.html") == 0) {
			/* every <script> has a src, there is no <style> or style= attribute and
			 * no on* handler attribute */
			for (char *p = strstr(t, "<script"); p != NULL;
			     p = strstr(p + 1, "<script")) {
				char *end = strchr(p, '>');
				assert_non_null(end);
				*end = '\0';
				assert_non_null(strstr(p, " src=\""));
				*end = '>';
			}
			assert_null(strstr(t, "<style"));
			assert_null(strstr(t, " style="));
			assert_null(strstr(t, " onclick="));
			assert_null(strstr(t, " onload="));
			/* the signer loads first: app.js uses it */
			char *sig = strstr(t, "<script src=\"httpsig.js\" defer></script>");
			char *app = strstr(t, "<script src=\"app.js\" defer></script>");
			assert_non_null(sig);
			assert_non_null(app);
			assert_true(sig < app);
			assert_non_null(strstr(
				t, "<input id=\"key-file\" name=\"key-file\" type=\"file\""));
		}
		if (strcmp(f->name, "app.js") == 0) {
			/* API values reach the page as text, never as markup */
			assert_null(strstr(t, "innerHTML"));
			assert_null(strstr(t, "outerHTML"));
			assert_null(strstr(t, "insertAdjacentHTML"));
			assert_null(strstr(t, "eval("));
			assert_null(strstr(t, "localStorage"));
			assert_null(strstr(t, "indexedDB"));
			assert_non_null(strstr(t, "sessionStorage"));
		}
		if (strcmp(f->name, "httpsig.js") == 0) {
			/* the key signs in memory and is never put anywhere it would persist */
			assert_null(strstr(t, "localStorage"));
			assert_null(strstr(t, "sessionStorage"));
			assert_null(strstr(t, "indexedDB"));
			assert_null(strstr(t, "cookie"));
			assert_null(strstr(t, "fetch("));
			assert_null(strstr(t, "innerHTML"));
			assert_null(strstr(t, "eval("));
			/* the signing key is imported non-extractable */
			assert_non_null(strstr(t, "importKey('pkcs8', der, EC, false, ['sign'])"));
		}
		free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_embedded_files_are_self_contained),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
