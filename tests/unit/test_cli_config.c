/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cli/config: file, environment and flag precedence, the token file (its
 * permissions warning, its shape), and errors that name the file and what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/config.h"

static char tmpdir[256];

static void
put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static const char *
at(const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, rel);
	return p[k];
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fedns-test-cli-config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	unsetenv("FEDNSCTL_CONFIG");
	unsetenv("FEDNSCTL_SERVER");
	unsetenv("FEDNSCTL_TOKEN");
	unsetenv("FEDNSCTL_CACERT");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", tmpdir, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Loads with a warning stream captured into *warn (caller frees). */
static fedns_err
load(const cli_config_flags *fl, cli_config *c, fedns_diag *d, char **warn)
{
	size_t wlen = 0;
	char *wbuf = NULL;
	FILE *w = open_memstream(&wbuf, &wlen);
	assert_non_null(w);
	fedns_diag_clear(d);
	fedns_err err = cli_config_load(fl, w, c, d);
	fclose(w);
	if (warn != NULL)
		*warn = wbuf;
	else
		free(wbuf);
	return err;
}

static void
test_file_only(void **state)
{
	(void)state;
	put("tok", "fedns_AAAA\n", 0600);
	put("cfg.json",
	    "{\"server\": \"https://hub.example:8443/\", \"token_file\": \"tok\",\n"
	    " \"cacert\": \"/etc/ca.pem\", \"cert\": \"me.pem\", \"key\": \"me.key\"}\n",
	    0600);
	cli_config_flags fl = {.config = at("cfg.json")};
	cli_config c;
	fedns_diag d;
	char *warn;
	assert_int_equal(load(&fl, &c, &d, &warn), FEDNS_OK);
	assert_string_equal(c.file, at("cfg.json"));
	assert_string_equal(c.server, "https://hub.example:8443"); /* trailing slash dropped */
	assert_string_equal(c.token, "fedns_AAAA");		   /* newline dropped */
	assert_string_equal(c.token_file, at("tok"));		   /* relative to the file */
	assert_string_equal(c.cacert, "/etc/ca.pem");		   /* absolute kept */
	assert_string_equal(c.cert, at("me.pem"));
	assert_string_equal(c.key, at("me.key"));
	assert_string_equal(warn, ""); /* 0600: no warning */
	assert_int_equal(cli_config_need_server(&c, &d), FEDNS_OK);
	free(warn);
	cli_config_fini(&c);
	assert_null(c.token);
	cli_config_fini(&c); /* twice is harmless */
	cli_config_fini(NULL);
}

static void
test_env_overrides_file_and_flags_override_env(void **state)
{
	(void)state;
	put("tok", "from_file_token", 0600);
	put("tok2", "from_flag_token\n", 0600);
	put("cfg.json",
	    "{\"server\": \"https://file\", \"token_file\": \"tok\", \"cacert\": \"file-ca\"}",
	    0600);
	setenv("FEDNSCTL_CONFIG", at("cfg.json"), 1);
	cli_config c;
	fedns_diag d;

	/* File alone. */
	assert_int_equal(load(NULL, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://file");
	assert_string_equal(c.token, "from_file_token");
	assert_string_equal(c.cacert, at("file-ca"));
	cli_config_fini(&c);

	/* The environment beats the file, the token too. */
	setenv("FEDNSCTL_SERVER", "https://env", 1);
	setenv("FEDNSCTL_CACERT", "/env/ca.pem", 1);
	setenv("FEDNSCTL_TOKEN", "from_env_token", 1);
	assert_int_equal(load(NULL, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://env");
	assert_string_equal(c.cacert, "/env/ca.pem");
	assert_string_equal(c.token, "from_env_token");
	assert_null(c.token_file);
	cli_config_fini(&c);

	/* Flags beat both. */
	cli_config_flags fl = {
		.server = "https://flag", .cacert = "/flag/ca.pem", .token_file = at("tok2")};
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://flag");
	assert_string_equal(c.cacert, "/flag/ca.pem");
	assert_string_equal(c.token, "from_flag_token");
	assert_string_equal(c.token_file, at("tok2"));
	cli_config_fini(&c);

	/* --config beats $FEDNSCTL_CONFIG. */
	put("other.json", "{\"server\": \"https://other\"}", 0600);
	unsetenv("FEDNSCTL_SERVER");
	cli_config_flags fl2 = {.config = at("other.json")};
	assert_int_equal(load(&fl2, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://other");
	assert_string_equal(c.file, at("other.json"));
	cli_config_fini(&c);
}

static void
test_default_paths(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	/* No default file: not an error, nothing set. */
	assert_int_equal(load(NULL, &c, &d, NULL), FEDNS_OK);
	assert_null(c.file);
	assert_null(c.server);
	assert_null(c.token);
	assert_int_equal(cli_config_need_server(&c, &d), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "no hub server"));
	assert_non_null(strstr(d.msg, "FEDNSCTL_SERVER"));
	cli_config_fini(&c);

	/* ~/.config/fednsctl/config.json */
	assert_int_equal(mkdir(at(".config"), 0700), 0);
	assert_int_equal(mkdir(at(".config/fednsctl"), 0700), 0);
	put(".config/fednsctl/config.json", "{\"server\": \"https://home\"}", 0600);
	assert_int_equal(load(NULL, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://home");
	assert_string_equal(c.file, at(".config/fednsctl/config.json"));
	cli_config_fini(&c);

	/* $XDG_CONFIG_HOME wins over ~/.config. */
	assert_int_equal(mkdir(at("xdg"), 0700), 0);
	assert_int_equal(mkdir(at("xdg/fednsctl"), 0700), 0);
	put("xdg/fednsctl/config.json", "{\"server\": \"https://xdg\"}", 0600);
	setenv("XDG_CONFIG_HOME", at("xdg"), 1);
	assert_int_equal(load(NULL, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.server, "https://xdg");
	cli_config_fini(&c);
}

static void
test_named_file_must_exist(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	setenv("FEDNSCTL_CONFIG", at("missing.json"), 1);
	assert_int_equal(load(NULL, &c, &d, NULL), -ENOENT);
	assert_non_null(strstr(d.msg, at("missing.json")));
	assert_null(c.server);
}

static void
test_bad_json_names_the_file_and_line(void **state)
{
	(void)state;
	put("bad.json", "{\n  \"server\": \"https://x\",\n  \"cacert\" \"ca.pem\"\n}\n", 0600);
	cli_config_flags fl = {.config = at("bad.json")};
	cli_config c;
	fedns_diag d;
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: not valid JSON", at("bad.json"));
	assert_string_equal(d.msg, want);
	assert_null(c.server); /* nothing half-loaded */

	put("arr.json", "[\"https://x\"]", 0600);
	fl.config = at("arr.json");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, at("arr.json")));
	assert_non_null(strstr(d.msg, "must be a JSON object"));

	put("empty.json", "", 0600);
	fl.config = at("empty.json");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, at("empty.json")));
}

static void
test_unknown_key_and_wrong_type(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	put("typo.json", "{\"server\": \"https://x\", \"tokenfile\": \"t\"}", 0600);
	cli_config_flags fl = {.config = at("typo.json")};
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, at("typo.json")));
	assert_non_null(strstr(d.msg, "unknown key \"tokenfile\""));
	assert_null(c.server);

	put("num.json", "{\"server\": 8443}", 0600);
	fl.config = at("num.json");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "\"server\" must be a non-empty string"));

	put("emptystr.json", "{\"cacert\": \"\"}", 0600);
	fl.config = at("emptystr.json");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EMALFORMED);
	assert_non_null(strstr(d.msg, "\"cacert\""));
}

static void
test_token_file_permissions_warn(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	char *warn;
	put("open-tok", "fedns_OPEN\n", 0644);
	cli_config_flags fl = {.token_file = at("open-tok")};
	assert_int_equal(load(&fl, &c, &d, &warn), FEDNS_OK);
	assert_string_equal(c.token, "fedns_OPEN"); /* still used */
	assert_non_null(strstr(warn, "warning"));
	assert_non_null(strstr(warn, at("open-tok")));
	assert_non_null(strstr(warn, "0644"));
	assert_null(strstr(warn, "fedns_OPEN")); /* the token itself is never shown */
	free(warn);
	cli_config_fini(&c);

	/* Group-readable is also too open. */
	put("grp-tok", "fedns_GRP", 0640);
	fl.token_file = at("grp-tok");
	assert_int_equal(load(&fl, &c, &d, &warn), FEDNS_OK);
	assert_non_null(strstr(warn, "0640"));
	free(warn);
	cli_config_fini(&c);

	put("priv-tok", "fedns_PRIV", 0400);
	fl.token_file = at("priv-tok");
	assert_int_equal(load(&fl, &c, &d, &warn), FEDNS_OK);
	assert_string_equal(warn, "");
	free(warn);
	cli_config_fini(&c);
}

static void
test_token_file_shape(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	cli_config_flags fl = {0};

	fl.token_file = at("nope");
	assert_int_equal(load(&fl, &c, &d, NULL), -ENOENT);
	assert_non_null(strstr(d.msg, at("nope")));

	put("empty-tok", "\n", 0600);
	fl.token_file = at("empty-tok");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "is empty"));

	put("two-tok", "fedns_ONE\nfedns_TWO\n", 0600);
	fl.token_file = at("two-tok");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "one token on one line"));
	assert_null(strstr(d.msg, "fedns_ONE")); /* never echoed */
	assert_null(c.token);

	put("crlf-tok", "fedns_CRLF\r\n", 0600);
	fl.token_file = at("crlf-tok");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_OK);
	assert_string_equal(c.token, "fedns_CRLF");
	cli_config_fini(&c);

	char big[CLI_TOKEN_MAX + 10];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("big-tok", big, 0600);
	fl.token_file = at("big-tok");
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "longer than"));

	/* A directory is not a token file. */
	fl.token_file = tmpdir;
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);

	/* $FEDNSCTL_TOKEN with a space is refused without echoing it. */
	fl.token_file = NULL;
	setenv("FEDNSCTL_TOKEN", "fedns_A B", 1);
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);
	assert_null(strstr(d.msg, "fedns_A"));
}

static void
test_cert_needs_key_and_server_shape(void **state)
{
	(void)state;
	cli_config c;
	fedns_diag d;
	cli_config_flags fl = {.cert = "/c.pem"};
	assert_int_equal(load(&fl, &c, &d, NULL), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "give both cert and key"));

	cli_config_flags fl2 = {.server = "http://hub:80"};
	assert_int_equal(load(&fl2, &c, &d, NULL), FEDNS_OK);
	fedns_diag_clear(&d);
	assert_int_equal(cli_config_need_server(&c, &d), FEDNS_EINVAL);
	assert_non_null(strstr(d.msg, "https://"));
	assert_non_null(strstr(d.msg, "http://hub:80"));
	cli_config_fini(&c);

	cli_config_flags fl3 = {.server = "https://"};
	assert_int_equal(load(&fl3, &c, &d, NULL), FEDNS_OK);
	fedns_diag_clear(&d);
	assert_int_equal(cli_config_need_server(&c, &d), FEDNS_EINVAL);
	cli_config_fini(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_overrides_file_and_flags_override_env,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named_file_must_exist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_json_names_the_file_and_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_and_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file_permissions_warn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_needs_key_and_server_shape, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
