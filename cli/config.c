/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl's settings: config file, environment and flags merged in that order. */
#include "cli/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/sha2.h"

static fedns_err
set_str(char **dst, const char *src)
{
	char *s = strdup(src);
	if (s == NULL)
		return FEDNS_ENOMEM;
	free(*dst);
	*dst = s;
	return FEDNS_OK;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A path from the config file: relative ones are taken from the file's directory, so a
 * config file and its token can move together. */
static fedns_err
set_path(char **dst, const char *dir, const char *p)
{
	if (p[0] == '/' || dir == NULL)
		return set_str(dst, p);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *s = malloc(n);
	if (s == NULL)
		return FEDNS_ENOMEM;
	snprintf(s, n, "%s/%s", dir, p);
	free(*dst);
	*dst = s;
	return FEDNS_OK;
}

/* The config file to read and whether it must exist. Returns a malloc'd path or NULL
 * (no HOME and nothing named; or out of memory, which *err says). */
static char *
config_path(const cli_config_flags *flags, bool *required, fedns_err *err)
{
	*err = FEDNS_OK;
	*required = true;
	const char *p = flags->config != NULL ? flags->config : env("FEDNSCTL_CONFIG");
	if (p != NULL) {
		char *s = strdup(p);
		if (s == NULL)
			*err = FEDNS_ENOMEM;
		return s;
	}
	*required = false;
	const char *xdg = env("XDG_CONFIG_HOME");
	const char *home = env("HOME");
	if (xdg == NULL && home == NULL)
		return NULL;
	size_t n = strlen(xdg != NULL ? xdg : home) + 40;
	char *s = malloc(n);
	if (s == NULL) {
		*err = FEDNS_ENOMEM;
		return NULL;
	}
	if (xdg != NULL)
		snprintf(s, n, "%s/fednsctl/config.json", xdg);
	else
		snprintf(s, n, "%s/.config/fednsctl/config.json", home);
	return s;
}

static fedns_err
parse_config(const char *path, const char *text, cli_config *c, fedns_diag *d)
{
	cJSON *root = cJSON_Parse(text);
	fedns_err err = FEDNS_OK;
	char *dir = NULL;
	if (root == NULL) {
		/* cJSON points at where it gave up; turn that into a line number. */
		const char *at = cJSON_GetErrorPtr();
		unsigned line = 1;
		if (at != NULL && at >= text && at <= text + strlen(text))
			for (const char *q = text; q < at; q++)
				line += *q == '\n';
		fedns_diag_set(d, FEDNS_EMALFORMED, "%s:%u: not valid JSON", path, line);
		return FEDNS_EMALFORMED;
	}
	if (!cJSON_IsObject(root)) {
		err = fedns_diag_set(d, FEDNS_EMALFORMED, "%s: the config must be a JSON object",
				     path);
		goto out;
	}
	dir = fedns_path_dirname(path);
	if (dir == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, root)
	{
		static const char *const keys[] = {"server", "token_file", "cacert",
						   "cert",   "key",	   "sign_key"};
		char **dst[] = {&c->server, &c->token_file, &c->cacert,
				&c->cert,   &c->key,	    &c->sign_key};
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], it->string) != 0)
			k++;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "%s: unknown key \"%s\" (known: server, token_file, "
					     "cacert, cert, key, sign_key)",
					     path, it->string);
			goto out;
		}
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0') {
			err = fedns_diag_set(d, FEDNS_EMALFORMED,
					     "%s: \"%s\" must be a non-empty string", path,
					     it->string);
			goto out;
		}
		err = k == 0 ? set_str(dst[k], it->valuestring)
			     : set_path(dst[k], dir, it->valuestring);
		if (err != FEDNS_OK) {
			fedns_diag_set(d, err, "out of memory");
			goto out;
		}
	}
out:
	free(dir);
	cJSON_Delete(root);
	return err;
}

/* Reads the token, dropping one trailing newline (files written by echo have one). */
static fedns_err
read_token(const char *path, FILE *warn, char **out, fedns_diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return fedns_diag_set(d, e == ENOENT ? FEDNS_ENOENT : FEDNS_EIO,
				      "token file %s: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fedns_diag_set(d, FEDNS_EINVAL, "token file %s: not a regular file", path);
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 && warn != NULL)
		fprintf(warn,
			"fednsctl: warning: token file %s can be read by others (mode %04o); "
			"chmod 600 it\n",
			path, (unsigned)(st.st_mode & 07777));
	char buf[CLI_TOKEN_MAX + 2];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			fedns_secure_zero(buf, sizeof(buf));
			return fedns_diag_set(d, FEDNS_EIO, "token file %s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	fedns_err err = FEDNS_OK;
	if (n == 0)
		err = fedns_diag_set(d, FEDNS_EINVAL, "token file %s is empty", path);
	else if (n > CLI_TOKEN_MAX)
		err = fedns_diag_set(d, FEDNS_EINVAL, "token file %s: longer than %d bytes", path,
				     CLI_TOKEN_MAX);
	else if (strpbrk(buf, "\r\n \t") != NULL)
		/* Never echo any of it: the file may hold a real token plus junk. */
		err = fedns_diag_set(d, FEDNS_EINVAL,
				     "token file %s must hold one token on one line", path);
	if (err == FEDNS_OK) {
		*out = strdup(buf);
		if (*out == NULL)
			err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	}
	fedns_secure_zero(buf, sizeof(buf));
	return err;
}

fedns_err
cli_config_load(const cli_config_flags *flags, FILE *warn, cli_config *out, fedns_diag *d)
{
	static const cli_config_flags none = {0};
	cli_config c = {0};
	bool required;
	char *text = NULL;
	size_t len;
	if (flags == NULL)
		flags = &none;
	memset(out, 0, sizeof(*out));

	fedns_err err;
	char *path = config_path(flags, &required, &err);
	if (err != FEDNS_OK) {
		fedns_diag_set(d, err, "out of memory");
		goto out;
	}
	if (path != NULL) {
		struct stat st;
		if (required || stat(path, &st) == 0) {
			fedns_diag fd;
			fedns_diag_clear(&fd);
			err = fedns_file_read(path, CLI_CONFIG_MAX, &text, &len, &fd);
			if (err != FEDNS_OK) {
				/* fedns_file_read's message may not name the file; ours does. */
				if (strstr(fd.msg, path) != NULL)
					fedns_diag_set(d, err, "config %s", fd.msg);
				else
					fedns_diag_set(d, err, "config %s: %s", path,
						       fd.msg[0] ? fd.msg : fedns_strerror(err));
				goto out;
			}
			err = parse_config(path, text, &c, d);
			if (err != FEDNS_OK)
				goto out;
			c.file = path;
			path = NULL;
		}
	}

	const char *e;
	if ((e = env("FEDNSCTL_SERVER")) != NULL && (err = set_str(&c.server, e)) != FEDNS_OK)
		goto oom;
	if ((e = env("FEDNSCTL_CACERT")) != NULL && (err = set_str(&c.cacert, e)) != FEDNS_OK)
		goto oom;
	if ((e = env("FEDNSCTL_SIGN_KEY")) != NULL && (err = set_str(&c.sign_key, e)) != FEDNS_OK)
		goto oom;
	const char *env_token = env("FEDNSCTL_TOKEN");
	if (flags->server != NULL && (err = set_str(&c.server, flags->server)) != FEDNS_OK)
		goto oom;
	if (flags->cacert != NULL && (err = set_str(&c.cacert, flags->cacert)) != FEDNS_OK)
		goto oom;
	if (flags->cert != NULL && (err = set_str(&c.cert, flags->cert)) != FEDNS_OK)
		goto oom;
	if (flags->key != NULL && (err = set_str(&c.key, flags->key)) != FEDNS_OK)
		goto oom;
	if (flags->sign_key != NULL && (err = set_str(&c.sign_key, flags->sign_key)) != FEDNS_OK)
		goto oom;
	if (c.server != NULL) {
		size_t n = strlen(c.server);
		while (n > 0 && c.server[n - 1] == '/')
			c.server[--n] = '\0';
	}
	if ((c.cert == NULL) != (c.key == NULL)) {
		err = fedns_diag_set(d, FEDNS_EINVAL,
				     "a client certificate needs its key and a key its certificate "
				     "(give both cert and key)");
		goto out;
	}

	/* The token: --token-file, then $FEDNSCTL_TOKEN, then the config's token_file; none
	 * when requests are signed (one credential per request, and a key holder may have
	 * no token at all). */
	if (c.sign_key != NULL) {
		free(c.token_file);
		c.token_file = NULL;
	} else if (flags->token_file != NULL) {
		if ((err = set_str(&c.token_file, flags->token_file)) != FEDNS_OK)
			goto oom;
	} else if (env_token != NULL) {
		free(c.token_file);
		c.token_file = NULL;
		if (strlen(env_token) > CLI_TOKEN_MAX || strpbrk(env_token, "\r\n \t") != NULL) {
			err = fedns_diag_set(d, FEDNS_EINVAL,
					     "$FEDNSCTL_TOKEN must be one token without spaces "
					     "(at most %d bytes)",
					     CLI_TOKEN_MAX);
			goto out;
		}
		if ((err = set_str(&c.token, env_token)) != FEDNS_OK)
			goto oom;
	}
	if (c.token == NULL && c.token_file != NULL) {
		err = read_token(c.token_file, warn, &c.token, d);
		if (err != FEDNS_OK)
			goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	err = FEDNS_OK;
	goto out;
oom:
	fedns_diag_set(d, err, "out of memory");
out:
	if (text != NULL) {
		fedns_secure_zero(text, len);
		free(text);
	}
	free(path);
	cli_config_fini(&c);
	return err;
}

fedns_err
cli_config_need_server(const cli_config *c, fedns_diag *d)
{
	if (c->server == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "no hub server: give --server URL, $FEDNSCTL_SERVER or "
				      "\"server\" in the config file (%s)",
				      c->file != NULL ? c->file : "~/.config/fednsctl/config.json");
	/* Plain http would send the bearer token in the clear. */
	if (strncmp(c->server, "https://", 8) != 0 || c->server[8] == '\0')
		return fedns_diag_set(d, FEDNS_EINVAL,
				      "server \"%s\" must be an https:// URL (the token is never "
				      "sent in the clear)",
				      c->server);
	return FEDNS_OK;
}

void
cli_config_fini(cli_config *c)
{
	if (c == NULL)
		return;
	if (c->token != NULL) {
		fedns_secure_zero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->file);
	free(c->server);
	free(c->token_file);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	free(c->sign_key);
	memset(c, 0, sizeof(*c));
}
