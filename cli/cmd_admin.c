/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl principal/tenant/whoami: identities, their tokens and their roles per tenant. */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"
#include "common/file.h"
#include "common/sha2.h"
#include "tls/sign.h"

static int
oom(void)
{
	fprintf(stderr, "fednsctl: out of memory\n");
	return CLI_EXIT_FAIL;
}

static void
print_whoami(const cJSON *j, void *ctx)
{
	(void)ctx;
	char buf[300];
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "principal");
	if (cJSON_IsObject(p))
		printf("principal: %s\n", cli_json_text(cJSON_GetObjectItemCaseSensitive(p, "name"),
							buf, sizeof(buf)));
	else
		printf("principal: %s\n",
		       cli_json_text(p != NULL ? p : cJSON_GetObjectItemCaseSensitive(j, "name"),
				     buf, sizeof(buf)));
	static const char *const keys[] = {"roles", "grants"};
	static const char *const cols[] = {"tenant", "role"};
	const cJSON *roles = cli_json_items(j, keys, 2);
	if (roles == NULL && cJSON_IsObject(p))
		roles = cli_json_items(p, keys, 2);
	if (cJSON_GetArraySize(roles) == 0) {
		printf("roles: none\n");
		return;
	}
	cli_print_table(stdout, roles, cols, 2);
}

int
cmd_whoami(int argc, char **argv)
{
	cli_common common = {0};
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, NULL, 0, 0, &npos, "whoami");
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/whoami"), NULL, print_whoami, NULL);
}

static void
print_list(const cJSON *j, void *ctx)
{
	const char *const *spec = ctx; /* array key, then columns, NULL-terminated */
	const char *keys[] = {spec[0], "items"};
	size_t ncols = 0;
	while (spec[1 + ncols] != NULL)
		ncols++;
	cli_print_table(stdout, cli_json_items(j, keys, 2), spec + 1, ncols);
	cli_print_next(j, "--after");
}

static void
print_obj(const cJSON *j, void *ctx)
{
	(void)ctx;
	cli_print_object(stdout, j, NULL, 0);
}

int
cmd_tenant_create(int argc, char **argv)
{
	cli_common common = {0};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, pos, 1, 1, &npos,
				"tenant create NAME");
	if (rc != 0)
		return rc;
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "name", pos[0]) == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	rc = cli_run(&common, "POST", cli_path("/api/v1/tenants"), body, print_obj, NULL);
	cJSON_Delete(body);
	return rc;
}

int
cmd_tenant_list(int argc, char **argv)
{
	static const char *const spec[] = {"tenants", "id", "name", "created_at", NULL};
	cli_common common = {0};
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, NULL, 0, 0, &npos, "tenant list");
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/tenants"), NULL, print_list, (void *)spec);
}

int
cmd_principal_list(int argc, char **argv)
{
	static const char *const spec[] = {"principals", "id",	  "name", "kind",
					   "disabled",	 "roles", NULL};
	cli_common common = {0};
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, NULL, 0, 0, &npos, "principal list");
	if (rc != 0)
		return rc;
	return cli_run(&common, "GET", cli_path("/api/v1/principals"), NULL, print_list,
		       (void *)spec);
}

/* A new token is the one secret fednsctl shows, and only its owner's copy: written to
 * --token-out FILE (mode 0600, never over an existing file) or else printed once. */
static int
issue_token(int argc, char **argv, bool create)
{
	const char *syn = create ? "principal create NAME [--kind person|automation] [--label L] "
				   "[--token-out FILE]"
				 : "principal token NAME [--label L] [--expires-in SECONDS] "
				   "[--token-out FILE]";
	cli_common common = {0};
	const char *out = NULL, *kind = NULL, *label = NULL, *expires = NULL;
	const cli_opt opts[] = {
		{"--token-out", NULL, CLI_OPT_STR, &out, NULL, NULL},
		{"--label", NULL, CLI_OPT_STR, &label, NULL, NULL},
		create ? (cli_opt){"--kind", NULL, CLI_OPT_STR, &kind, NULL, NULL}
		       : (cli_opt){"--expires-in", NULL, CLI_OPT_STR, &expires, NULL, NULL},
	};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 3, &common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long secs = 0;
	if (expires != NULL && (!cli_parse_uint(expires, 10ULL * 366 * 86400, &secs) || secs == 0))
		return cli_usage(syn, "--expires-in takes a number of seconds");
	cJSON *body = cJSON_CreateObject();
	char *path;
	if (body == NULL || (create && cJSON_AddStringToObject(body, "name", pos[0]) == NULL) ||
	    (kind != NULL && cJSON_AddStringToObject(body, "kind", kind) == NULL) ||
	    (label != NULL &&
	     cJSON_AddStringToObject(body, create ? "token_label" : "label", label) == NULL) ||
	    (expires != NULL &&
	     cJSON_AddNumberToObject(body, "expires_in", (double)secs) == NULL)) {
		cJSON_Delete(body);
		return oom();
	}
	if (create)
		path = cli_path("/api/v1/principals");
	else
		path = cli_path("/api/v1/principals/%s/tokens", pos[0]);
	cli_hub *h = NULL;
	cli_res r;
	if (path == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	if ((rc = cli_hub_open(&common, &h)) != 0) {
		cJSON_Delete(body);
		free(path);
		return rc;
	}
	rc = cli_hub_request(h, "POST", path, body, &r);
	if (rc == 0) {
		const char *tok = cli_json_str(r.json, "token", NULL);
		if (tok == NULL) {
			fprintf(stderr, "fednsctl: the hub's answer carries no token\n");
			rc = CLI_EXIT_FAIL;
		} else if (out != NULL) {
			size_t n = strlen(tok);
			char *line = malloc(n + 2);
			if (line == NULL) {
				rc = oom();
			} else {
				memcpy(line, tok, n);
				line[n] = '\n';
				rc = cli_write_file(out, line, n + 1, 0600, true);
				fedns_secure_zero(line, n + 1);
				free(line);
			}
			if (rc == 0)
				printf("principal %s: token written to %s (mode 0600)\n", pos[0],
				       out);
		} else if (common.output == CLI_OUT_JSON) {
			rc = cli_print_raw(&r);
		} else {
			fprintf(stderr,
				"fednsctl: the token for %s is shown once; store it now "
				"(or use --token-out FILE)\n",
				pos[0]);
			printf("%s\n", tok);
		}
		fflush(stdout);
		/* The answer held a secret: wipe it before the memory goes back. */
		fedns_secure_zero(r.body.data, r.body.len);
		if (tok != NULL)
			fedns_secure_zero((char *)tok, strlen(tok));
	}
	cli_res_fini(&r);
	cli_hub_close(h);
	cJSON_Delete(body);
	free(path);
	return rc;
}

int
cmd_principal_create(int argc, char **argv)
{
	return issue_token(argc, argv, true);
}

int
cmd_principal_token(int argc, char **argv)
{
	return issue_token(argc, argv, false);
}

static void
print_done(const cJSON *j, void *ctx)
{
	if (cJSON_GetArraySize(j) > 0)
		cli_print_object(stdout, j, NULL, 0);
	else
		printf("%s\n", (const char *)ctx);
}

int
cmd_principal_grant(int argc, char **argv)
{
	static const char syn[] =
		"principal grant NAME --tenant T --role viewer|editor|approver|admin";
	cli_common common = {0};
	const char *tenant = NULL, *role = NULL;
	const cli_opt opts[] = {
		{"--tenant", NULL, CLI_OPT_STR, &tenant, NULL, NULL},
		{"--role", NULL, CLI_OPT_STR, &role, NULL, NULL},
	};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 2, &common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	if (tenant == NULL || role == NULL)
		return cli_usage(syn, "--tenant and --role are required (tenant \"*\": every "
				      "tenant)");
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "role", role) == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	char msg[300];
	snprintf(msg, sizeof(msg), "granted %s on %s to %s", role, tenant, pos[0]);
	rc = cli_run(&common, "PUT", cli_path("/api/v1/principals/%s/roles/%s", pos[0], tenant),
		     body, print_done, msg);
	cJSON_Delete(body);
	return rc;
}

int
cmd_principal_revoke(int argc, char **argv)
{
	static const char syn[] = "principal revoke NAME --tenant T";
	cli_common common = {0};
	const char *tenant = NULL;
	const cli_opt opts[] = {{"--tenant", NULL, CLI_OPT_STR, &tenant, NULL, NULL}};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 1, &common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	if (tenant == NULL)
		return cli_usage(syn, "--tenant is required");
	char msg[300];
	snprintf(msg, sizeof(msg), "revoked %s's role on %s", pos[0], tenant);
	return cli_run(&common, "DELETE",
		       cli_path("/api/v1/principals/%s/roles/%s", pos[0], tenant), NULL, print_done,
		       msg);
}

static void
print_msg(const cJSON *j, void *ctx)
{
	(void)j;
	printf("%s\n", (const char *)ctx);
}

int
cmd_principal_disable(int argc, char **argv)
{
	cli_common common = {0};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, pos, 1, 1, &npos,
				"principal disable NAME");
	if (rc != 0)
		return rc;
	char msg[200];
	snprintf(msg, sizeof(msg), "disabled %s: its tokens and keys no longer work", pos[0]);
	return cli_run(&common, "POST", cli_path("/api/v1/principals/%s/disable", pos[0]), NULL,
		       print_msg, msg);
}

static void
print_key(const cJSON *j, void *ctx)
{
	(void)ctx;
	printf("registered key %s for principal %s\n", cli_json_str(j, "key_id", "-"),
	       cli_json_str(j, "principal", "-"));
}

/* The public half of the key in 'path' as PEM: a public key file as it is, and from a
 * private key file only its public key (the private key never leaves this process). */
static int
public_pem_of(const char *path, char *out, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = fedns_file_read(path, 64 * 1024, &text, &len, &d);
	if (err != FEDNS_OK) {
		fprintf(stderr, "fednsctl: %s\n", d.msg[0] != '\0' ? d.msg : fedns_strerror(err));
		return CLI_EXIT_FAIL;
	}
	fedns_sign_key *k = NULL;
	err = fedns_sign_load_public_pem(text, len, &k);
	if (err != FEDNS_OK)
		err = fedns_sign_load_private_pem(text, len, &k);
	fedns_secure_zero(text, len);
	free(text);
	if (err == FEDNS_OK)
		err = fedns_sign_public_pem(k, out, cap);
	fedns_sign_key_free(k);
	if (err != FEDNS_OK) {
		fprintf(stderr,
			"fednsctl: %s: not an ECDSA P-256 key in PEM (public, or an unencrypted "
			"private key): %s\n",
			path, fedns_strerror(err));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

int
cmd_principal_key_add(int argc, char **argv)
{
	static const char syn[] = "principal key-add NAME --pem FILE";
	cli_common common = {0};
	const char *file = NULL;
	const cli_opt opts[] = {{"--pem", NULL, CLI_OPT_STR, &file, NULL, NULL}};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 1, &common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	if (file == NULL)
		return cli_usage(syn, "--pem FILE is required (the P-256 public key, or the "
				      "private key whose public half is sent)");
	char pem[FEDNS_SIGN_PEM_MAX];
	if ((rc = public_pem_of(file, pem, sizeof(pem))) != 0)
		return rc;
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "public_key_pem", pem) == NULL) {
		cJSON_Delete(body);
		return oom();
	}
	rc = cli_run(&common, "POST", cli_path("/api/v1/principals/%s/keys", pos[0]), body,
		     print_key, NULL);
	cJSON_Delete(body);
	return rc;
}
