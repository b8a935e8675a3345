/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl's client for the hub's REST API (docs/hub.md): HTTPS through libcurl with the
 * hub verified against the configured CA, the bearer token from cli/config, JSON through
 * cJSON, and the argument, error and table conventions every hub command shares. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/config.h"
#include "common/buf.h"

/* Exit codes of every fednsctl command. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,	  /* the hub refused or failed, or the input was rejected */
	CLI_EXIT_USAGE = 2,	  /* the command line (or the settings) was wrong */
	CLI_EXIT_UNREACHABLE = 3, /* cannot reach the hub, or TLS failed */
};

/* Largest answer read from the hub (zone exports and audit bundles are the big ones). */
#define CLI_RESPONSE_MAX ((size_t)512 << 20)

typedef enum cli_output {
	CLI_OUT_TABLE = 0,
	CLI_OUT_JSON,
} cli_output;

/* Options every hub command takes, wherever they appear after the subcommand:
 * --server URL, --config FILE, --token-file FILE, --cacert FILE, --cert FILE, --key FILE,
 * --sign-key FILE, -o table|json (--output), -v (--verbose), --idempotency-key K. */
typedef struct cli_common {
	cli_config_flags flags;
	cli_output output;
	bool verbose;
	/* Sent with the command's POST so a script that re-runs the command after a lost
	 * answer gets the first answer instead of acting twice; a random key otherwise. */
	const char *idempotency_key;
} cli_common;

typedef enum cli_opt_kind {
	CLI_OPT_STR,  /* dst is const char **: the value (the last one given wins) */
	CLI_OPT_BOOL, /* dst is bool *: set to true */
	CLI_OPT_FN,   /* fn(ctx, name, value) is called for each occurrence, in order */
} cli_opt_kind;

/* One command-specific option; 'name' is the long form ("--reason"), 'alias' an optional
 * second spelling ("-o"). */
typedef struct cli_opt {
	const char *name;
	const char *alias;
	cli_opt_kind kind;
	void *dst;
	int (*fn)(void *ctx, const char *name, const char *value); /* 0, or an exit code */
	void *ctx;
} cli_opt;

/* Parses argv (the arguments after "GROUP NAME") into the common options, the command's
 * 'opts' and between minpos and maxpos positional arguments. "--name=value" works for
 * every option taking a value; "--" ends options. 'synopsis' is shown with a usage error.
 * Returns 0 or CLI_EXIT_USAGE (the message already printed). If 'opts' claims "-o",
 * the common -o is not recognised. */
int cli_args_parse(int argc, char **argv, const cli_opt *opts, size_t nopts, cli_common *common,
		   const char **pos, size_t minpos, size_t maxpos, size_t *npos,
		   const char *synopsis);

/* Prints "fednsctl: <message>" and the synopsis on stderr; returns CLI_EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage(const char *synopsis, const char *fmt, ...);

/* Parses a non-negative decimal integer that fits in 'max'; false when it does not. */
bool cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

typedef struct cli_hub cli_hub;

/* Loads the settings (cli/config.h), checks there is a server and a token (or loads the
 * signing key, when one is configured: requests are then signed per RFC 9421) and sets up
 * libcurl. Returns 0, or an exit code with the reason printed (2 for missing settings). */
int cli_hub_open(const cli_common *common, cli_hub **out);
/* The key that signs this hub's requests (--sign-key), borrowed; NULL without one. */
struct fedns_sign_key *cli_hub_sign_key(cli_hub *h);
/* Frees and wipes the token. Accepts NULL. */
void cli_hub_close(cli_hub *h);

/* One answer of the hub. 'json' is the parsed body when it is JSON (else NULL). */
typedef struct cli_res {
	long status;
	fedns_buf body;
	cJSON *json;
	char content_type[128];
} cli_res;

void cli_res_fini(cli_res *r);

/* Sends one request. 'path' starts with "/api/v1/" and is already escaped (build it with
 * cli_path). 'body' (may be NULL) is sent as application/json. A POST carries an
 * Idempotency-Key (the --idempotency-key one, else a fresh random one), so when the
 * connection fails after the request may have been sent, it is retried once and the
 * hub never acts twice; GET, PUT and DELETE are retried likewise. On a 2xx answer returns 0
 * with *res filled (free with cli_res_fini, also on failure). Otherwise prints the hub's
 * error (message, code and details such as field and line) or the transport failure on
 * stderr and returns CLI_EXIT_FAIL or CLI_EXIT_UNREACHABLE. */
int cli_hub_request(cli_hub *h, const char *method, const char *path, const cJSON *body,
		    cli_res *res);

/* A request path from a format that knows only %s (each argument is percent-escaped, so
 * it stays one path segment or query value) and %lld. Returns a malloc'd string or NULL. */
__attribute__((format(printf, 1, 2))) char *cli_path(const char *fmt, ...);
/* Percent-escapes everything but unreserved characters (RFC 3986) into a malloc'd string;
 * NULL when out of memory. */
char *cli_escape(const char *s);

/* Output helpers. */

/* Writes the answer's raw body to stdout, ending with a newline. Returns 0 or 1. */
int cli_print_raw(const cli_res *r);

/* A scalar JSON value as text into buf ("-" for missing/null; compact JSON for objects
 * and arrays). Returns buf. */
const char *cli_json_text(const cJSON *v, char *buf, size_t bufsz);
/* Like cli_json_text, but a timestamp field ("at", "*_at": unix seconds, or milliseconds
 * when that large) prints as UTC ISO 8601. */
const char *cli_json_field_text(const char *key, const cJSON *v, char *buf, size_t bufsz);
/* The string, or 'dflt' when the field is absent or not a string. */
const char *cli_json_str(const cJSON *obj, const char *key, const char *dflt);
/* The number as an integer, or 'dflt'. */
long long cli_json_int(const cJSON *obj, const char *key, long long dflt);

/* Prints an array of objects as a table with the given columns (header = column key,
 * upper-cased). Missing fields print as "-". */
void cli_print_table(FILE *f, const cJSON *array, const char *const *cols, size_t ncols);
/* Prints an object as "key: value" lines, keys in 'order' first, then the rest (nested
 * arrays/objects compact). */
void cli_print_object(FILE *f, const cJSON *obj, const char *const *order, size_t norder);
/* The first member of 'obj' among 'keys' that is an array, or obj itself when it is an
 * array; NULL when none. */
const cJSON *cli_json_items(const cJSON *obj, const char *const *keys, size_t nkeys);
/* When the answer says there is a next page, tells the user how to get it (stderr). */
void cli_print_next(const cJSON *obj, const char *flag);

/* Writes len bytes to 'path' through a temporary file and rename (no half-written file),
 * with 'mode'; 'excl' refuses an existing file. Prints the error; returns 0 or 1. */
int cli_write_file(const char *path, const void *data, size_t len, unsigned mode, bool excl);

/* Prints an answer for people; 'j' is the parsed JSON answer. */
typedef void (*cli_printer)(const cJSON *j, void *ctx);

/* The whole life of a simple command: opens the hub, sends one request, prints the answer
 * (raw with -o json, through 'p' otherwise; raw too when the answer is not JSON or p is
 * NULL) and closes. 'path' is freed here (it may be NULL after an allocation failure).
 * Returns the exit code. */
int cli_run(const cli_common *common, const char *method, char *path, const cJSON *body,
	    cli_printer p, void *ctx);
