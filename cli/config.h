/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl's settings for talking to the hub: a JSON config file, then the environment,
 * then flags, each overriding the one before (DESIGN.md §7). */
#pragma once

#include <stdio.h>

#include "common/diag.h"
#include "common/err.h"

/* Largest config file and token file read. */
#define CLI_CONFIG_MAX ((size_t)64 * 1024)
#define CLI_TOKEN_MAX 1024

/* What the command line gave; NULL means "not given". */
typedef struct cli_config_flags {
	const char *config; /* --config FILE: replaces $FEDNSCTL_CONFIG and the default path */
	const char *server;
	const char *token_file;
	const char *cacert;
	const char *cert;
	const char *key;
	const char *sign_key; /* --sign-key FILE: a P-256 private key PEM (RFC 9421 signing) */
} cli_config_flags;

/* The settings in force. Every string is malloc'd or NULL; 'token' is wiped by
 * cli_config_fini and must never be printed. */
typedef struct cli_config {
	char *file;	  /* config file that was read, or NULL when none */
	char *server;	  /* "https://host:port", no trailing slash */
	char *token;	  /* bearer token, without a trailing newline */
	char *token_file; /* where the token came from (NULL when from $FEDNSCTL_TOKEN) */
	char *cacert;	  /* CA bundle to verify the hub with; NULL: the system's */
	char *cert;	  /* client certificate (PEM) for mTLS, optional */
	char *key;	  /* its private key (PEM) */
	char *sign_key;	  /* P-256 private key PEM that signs every request (RFC 9421)
			   * instead of a bearer token; NULL: use the token */
} cli_config;

/* Builds the settings from, in order of increasing precedence:
 * - the config file: flags->config, else $FEDNSCTL_CONFIG, else
 *   $XDG_CONFIG_HOME/fednsctl/config.json or ~/.config/fednsctl/config.json (the default
 *   file may be absent; a named one must exist). Keys: "server", "token_file", "cacert",
 *   "cert", "key", "sign_key" (strings); any other key is refused. Relative paths in the
 *   file are relative to the file's directory;
 * - $FEDNSCTL_SERVER, $FEDNSCTL_TOKEN (the token itself), $FEDNSCTL_CACERT,
 *   $FEDNSCTL_SIGN_KEY;
 * - the flags.
 * With a signing key in force no token is read (requests are signed instead). Otherwise
 * the token is read from the token file in force unless $FEDNSCTL_TOKEN gives it; a token
 * file that others can read draws a warning on 'warn' (may be NULL). A missing server is
 * not an error here (offline commands need none); cli_config_need_server says so.
 * On failure 'out' holds nothing and d says what and where (the file's name first).
 * Returns FEDNS_OK, FEDNS_ENOENT, FEDNS_EMALFORMED, FEDNS_EINVAL, FEDNS_EIO or
 * FEDNS_ENOMEM. */
fedns_err cli_config_load(const cli_config_flags *flags, FILE *warn, cli_config *out,
			  fedns_diag *d);

/* FEDNS_EINVAL with a message naming the three ways to give a server when there is none,
 * or when it is not an https:// URL. */
fedns_err cli_config_need_server(const cli_config *c, fedns_diag *d);

/* Frees and wipes; accepts NULL and a zeroed struct. */
void cli_config_fini(cli_config *c);
