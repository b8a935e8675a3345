/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl's hub client: libcurl requests with verified TLS, error bodies turned into
 * messages and exit codes, and the shared argument and output helpers. */
#include "cli/hubclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/sha2.h"
#include "tls/httpsig.h"
#include "tls/sign.h"

struct cli_hub {
	cli_config cfg;
	fedns_sign_key *sign; /* signs every request (RFC 9421) when set; no token is sent */
	bool verbose;
	const char *idempotency_key; /* borrowed from the command line, or NULL */
	CURL *curl;
};

int
cli_usage(const char *synopsis, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fednsctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (synopsis != NULL)
		fprintf(stderr, "usage: fednsctl %s\n", synopsis);
	fprintf(stderr, "fednsctl --help lists every command.\n");
	return CLI_EXIT_USAGE;
}

bool
cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	unsigned long long v = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The value of an option: "--name=value" or the next argument. */
static int
opt_value(int argc, char **argv, int *i, const char *eq, const char *name, const char *synopsis,
	  const char **out)
{
	if (eq != NULL) {
		*out = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return cli_usage(synopsis, "%s needs a value", name);
	*out = argv[++*i];
	return 0;
}

static bool
opt_is(const char *arg, size_t arglen, const char *name)
{
	return name != NULL && strlen(name) == arglen && strncmp(arg, name, arglen) == 0;
}

/* What the hub accepts (docs/hub.md), and nothing that could break the header line. */
static bool
idem_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

int
cli_args_parse(int argc, char **argv, const cli_opt *opts, size_t nopts, cli_common *common,
	       const char **pos, size_t minpos, size_t maxpos, size_t *npos, const char *synopsis)
{
	static const char *const common_str[] = {"--server", "--config", "--token-file", "--cacert",
						 "--cert",   "--key",	 "--sign-key"};
	const char **common_dst[] = {&common->flags.server,	&common->flags.config,
				     &common->flags.token_file, &common->flags.cacert,
				     &common->flags.cert,	&common->flags.key,
				     &common->flags.sign_key};
	bool o_claimed = false;
	for (size_t k = 0; k < nopts; k++)
		if (opt_is("-o", 2, opts[k].name) || opt_is("-o", 2, opts[k].alias))
			o_claimed = true;
	*npos = 0;
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (*npos == maxpos)
				return cli_usage(synopsis, "unexpected argument \"%s\"", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		size_t alen = eq != NULL ? (size_t)(eq - a) : strlen(a);
		const char *v = NULL;
		int rc;
		bool done = false;
		for (size_t k = 0; k < nopts && !done; k++) {
			const cli_opt *o = &opts[k];
			if (!opt_is(a, alen, o->name) && !opt_is(a, alen, o->alias))
				continue;
			done = true;
			if (o->kind == CLI_OPT_BOOL) {
				if (eq != NULL)
					return cli_usage(synopsis, "%s takes no value", o->name);
				*(bool *)o->dst = true;
				continue;
			}
			if ((rc = opt_value(argc, argv, &i, eq, o->name, synopsis, &v)) != 0)
				return rc;
			if (o->kind == CLI_OPT_STR)
				*(const char **)o->dst = v;
			else if ((rc = o->fn(o->ctx, o->name, v)) != 0)
				return rc;
		}
		if (done)
			continue;
		for (size_t k = 0; k < sizeof(common_str) / sizeof(common_str[0]); k++) {
			if (!opt_is(a, alen, common_str[k]))
				continue;
			if ((rc = opt_value(argc, argv, &i, eq, common_str[k], synopsis, &v)) != 0)
				return rc;
			*common_dst[k] = v;
			done = true;
			break;
		}
		if (done)
			continue;
		if ((!o_claimed && opt_is(a, alen, "-o")) || opt_is(a, alen, "--output")) {
			if ((rc = opt_value(argc, argv, &i, eq, "-o", synopsis, &v)) != 0)
				return rc;
			if (strcmp(v, "json") == 0)
				common->output = CLI_OUT_JSON;
			else if (strcmp(v, "table") == 0)
				common->output = CLI_OUT_TABLE;
			else
				return cli_usage(synopsis,
						 "-o takes \"table\" or \"json\", not \"%s\"", v);
			continue;
		}
		if (opt_is(a, alen, "--idempotency-key")) {
			if ((rc = opt_value(argc, argv, &i, eq, "--idempotency-key", synopsis,
					    &v)) != 0)
				return rc;
			if (!idem_key_ok(v))
				return cli_usage(synopsis,
						 "--idempotency-key takes 1 to 128 printable "
						 "characters without spaces");
			common->idempotency_key = v;
			continue;
		}
		if (opt_is(a, alen, "-v") || opt_is(a, alen, "--verbose")) {
			common->verbose = true;
			continue;
		}
		if (opt_is(a, alen, "--token"))
			/* A token in argv is visible to every user of the machine (ps). */
			return cli_usage(synopsis, "there is no --token option: give the token "
						   "through --token-file FILE or $FEDNSCTL_TOKEN");
		return cli_usage(synopsis, "unknown option %.*s", (int)alen, a);
	}
	if (*npos < minpos)
		return cli_usage(synopsis, "missing argument%s", minpos - *npos > 1 ? "s" : "");
	return 0;
}

int
cli_hub_open(const cli_common *common, cli_hub **out)
{
	*out = NULL;
	cli_hub *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	h->verbose = common->verbose;
	h->idempotency_key = common->idempotency_key;
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = cli_config_load(&common->flags, stderr, &h->cfg, &d);
	if (err == FEDNS_OK)
		err = cli_config_need_server(&h->cfg, &d);
	if (err == FEDNS_OK && h->cfg.sign_key != NULL) {
		err = fedns_sign_load_private_file(h->cfg.sign_key, &h->sign);
		if (err != FEDNS_OK)
			fedns_diag_set(&d, err,
				       "signing key %s: %s (want an unencrypted ECDSA P-256 "
				       "private key in PEM)",
				       h->cfg.sign_key, fedns_strerror(err));
	} else if (err == FEDNS_OK && h->cfg.token == NULL) {
		err = fedns_diag_set(&d, FEDNS_EINVAL,
				     "no token: give --token-file FILE, $FEDNSCTL_TOKEN or "
				     "\"token_file\" in the config file (or sign requests with "
				     "--sign-key FILE)");
	}
	if (err != FEDNS_OK) {
		fprintf(stderr, "fednsctl: %s\n", d.msg);
		cli_hub_close(h);
		return err == FEDNS_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "fednsctl: cannot initialise libcurl\n");
		cli_hub_close(h);
		return CLI_EXIT_FAIL;
	}
	if (h->verbose)
		fprintf(stderr, "fednsctl: hub %s%s%s, %s %s\n", h->cfg.server,
			h->cfg.cacert != NULL ? ", CA " : "",
			h->cfg.cacert != NULL ? h->cfg.cacert : "",
			h->sign != NULL ? "requests signed with" : "token from",
			h->sign != NULL		    ? h->cfg.sign_key
			: h->cfg.token_file != NULL ? h->cfg.token_file
						    : "$FEDNSCTL_TOKEN");
	*out = h;
	return 0;
}

fedns_sign_key *
cli_hub_sign_key(cli_hub *h)
{
	return h != NULL ? h->sign : NULL;
}

void
cli_hub_close(cli_hub *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	fedns_sign_key_free(h->sign);
	cli_config_fini(&h->cfg);
	free(h);
}

void
cli_res_fini(cli_res *r)
{
	if (r == NULL)
		return;
	fedns_buf_fini(&r->body);
	cJSON_Delete(r->json);
	r->json = NULL;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	fedns_buf *b = ctx;
	if (fedns_buf_append(b, p, size * n) != FEDNS_OK)
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	return size * n;
}

static bool
is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_INITFAILED:
		return true;
	default:
		return false;
	}
}

/* Failures after the connection was up: the request may or may not have been handled. */
static bool
may_have_been_sent(CURLcode c)
{
	return c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING ||
	       c == CURLE_PARTIAL_FILE || c == CURLE_HTTP2_STREAM;
}

/* The hub's error body, {"error": {"code", "message", "details": {...}}}, on stderr. */
static void
print_api_error(const cli_res *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	if (!cJSON_IsObject(e)) {
		/* Not our API's shape (a proxy, a crash): show a bounded, printable excerpt. */
		fprintf(stderr, "fednsctl: the hub answered HTTP %ld", r->status);
		if (r->body.len > 0) {
			fprintf(stderr, ": ");
			for (size_t i = 0; i < r->body.len && i < 300; i++) {
				int c = r->body.data[i];
				fputc(c >= 0x20 && c < 0x7f ? c : ' ', stderr);
			}
		}
		fprintf(stderr, "\n");
		return;
	}
	const char *msg = cli_json_str(e, "message", "(no message)");
	const char *code = cli_json_str(e, "code", "error");
	fprintf(stderr, "fednsctl: %s (%s, HTTP %ld)\n", msg, code, r->status);
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(e, "details");
	const cJSON *it;
	char buf[512];
	if (cJSON_IsObject(det))
		cJSON_ArrayForEach(it, det)
		{
			fprintf(stderr, "fednsctl:   %s: %s\n", it->string,
				cli_json_text(it, buf, sizeof(buf)));
		}
}

/* Frees a header list; the first entry may hold the token and is wiped first
 * (curl_slist_free_all does not wipe). */
static void
free_headers(struct curl_slist *hdr)
{
	if (hdr != NULL)
		fedns_secure_zero(hdr->data, strlen(hdr->data));
	curl_slist_free_all(hdr);
}

static bool
append_header(struct curl_slist **hdr, const char *line)
{
	struct curl_slist *h2 = curl_slist_append(*hdr, line);
	if (h2 == NULL)
		return false;
	*hdr = h2;
	return true;
}

/* The request's headers, the credential first: the bearer token, or an RFC 9421
 * signature over this exact request with a fresh nonce, so that a retry is signed anew
 * rather than replayed (the hub refuses a nonce twice). Returns 0, or an exit code with
 * the reason printed. */
static int
build_headers(cli_hub *h, const char *method, const char *path, const char *payload,
	      const char *idem_line, struct curl_slist **out)
{
	struct curl_slist *hdr = NULL;
	char line[CLI_TOKEN_MAX + 32];
	*out = NULL;
	if (h->sign != NULL) {
		uint8_t rnd[16];
		char nonce[FEDNS_BASE64_LEN(sizeof(rnd)) + 1];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			fprintf(stderr, "fednsctl: no random bytes for a signature nonce: %s\n",
				strerror(errno));
			return CLI_EXIT_FAIL;
		}
		size_t n = fedns_base64_encode(rnd, sizeof(rnd), nonce);
		while (n > 0 && nonce[n - 1] == '=')
			nonce[--n] = '\0';
		for (size_t i = 0; i < n; i++)
			nonce[i] = nonce[i] == '+' ? '-' : nonce[i] == '/' ? '_' : nonce[i];
		fedns_httpsig_headers sh;
		fedns_err err = fedns_httpsig_sign_request(h->sign, method, path, payload,
							   payload != NULL ? strlen(payload) : 0,
							   (int64_t)time(NULL), nonce, &sh);
		if (err != FEDNS_OK) {
			fprintf(stderr, "fednsctl: cannot sign the request to %s: %s\n", path,
				fedns_strerror(err));
			return CLI_EXIT_FAIL;
		}
		snprintf(line, sizeof(line), "Signature-Input: %s", sh.signature_input);
		if (!append_header(&hdr, line))
			goto oom;
		snprintf(line, sizeof(line), "Signature: %s", sh.signature);
		if (!append_header(&hdr, line))
			goto oom;
		snprintf(line, sizeof(line), "Content-Digest: %s", sh.content_digest);
		if (!append_header(&hdr, line))
			goto oom;
		snprintf(line, sizeof(line), "Date: %s", sh.date);
		if (!append_header(&hdr, line))
			goto oom;
	} else {
		/* Built in our own buffer and wiped after curl copied it. */
		snprintf(line, sizeof(line), "Authorization: Bearer %s", h->cfg.token);
		bool ok = append_header(&hdr, line);
		fedns_secure_zero(line, sizeof(line));
		if (!ok)
			goto oom;
	}
	if (!append_header(&hdr, "Accept: application/json"))
		goto oom;
	if (payload != NULL && !append_header(&hdr, "Content-Type: application/json"))
		goto oom;
	if (idem_line != NULL && !append_header(&hdr, idem_line))
		goto oom;
	*out = hdr;
	return 0;
oom:
	fprintf(stderr, "fednsctl: out of memory\n");
	free_headers(hdr);
	return CLI_EXIT_FAIL;
}

int
cli_hub_request(cli_hub *h, const char *method, const char *path, const cJSON *body, cli_res *res)
{
	memset(res, 0, sizeof(*res));
	fedns_buf_init(&res->body, CLI_RESPONSE_MAX);
	char *url = NULL, *payload = NULL, key[160] = "";
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	int rc = CLI_EXIT_FAIL;
	CURL *c = h->curl;

	size_t ulen = strlen(h->cfg.server) + strlen(path) + 1;
	url = malloc(ulen);
	if (url == NULL)
		goto oom;
	snprintf(url, ulen, "%s%s", h->cfg.server, path);
	if (body != NULL && (payload = cJSON_PrintUnformatted(body)) == NULL)
		goto oom;
	if (strcmp(method, "POST") == 0) {
		char rnd[16];
		if (h->idempotency_key != NULL) {
			snprintf(key, sizeof(key), "Idempotency-Key: %s", h->idempotency_key);
		} else {
			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
				fprintf(stderr,
					"fednsctl: no random bytes for an idempotency key: "
					"%s\n",
					strerror(errno));
				goto out;
			}
			int n = snprintf(key, sizeof(key), "Idempotency-Key: fednsctl-");
			for (size_t i = 0; i < sizeof(rnd); i++)
				n += snprintf(key + n, sizeof(key) - (size_t)n, "%02x",
					      (unsigned char)rnd[i]);
		}
	}
	/* what a POST or PUT without a body sends, and signs */
	const char *sent = payload;
	if (sent == NULL && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0))
		sent = "";
	if ((rc = build_headers(h, method, path, sent, key[0] != '\0' ? key : NULL, &hdr)) != 0)
		goto out;
	rc = CLI_EXIT_FAIL;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* Only https, and no redirects: a redirect could carry the token elsewhere. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cfg.cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cfg.cacert);
	if (h->cfg.cert != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cfg.cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->cfg.key);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fednsctl/0.1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &res->body);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (payload != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (h->verbose)
		fprintf(stderr, "fednsctl: > %s %s%s\n", method, url,
			payload != NULL ? " (JSON body)" : "");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CURLcode cc = curl_easy_perform(c);
	if (may_have_been_sent(cc)) {
		/* The request may have reached the hub and only the answer was lost: the
		 * idempotency key makes the retry of a POST safe, the others are safe anyway. */
		if (h->verbose)
			fprintf(stderr, "fednsctl: %s; retrying once\n",
				errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		sleep(1);
		fedns_buf_clear(&res->body);
		errbuf[0] = '\0';
		if (h->sign != NULL) {
			struct curl_slist *fresh = NULL;
			if ((rc = build_headers(h, method, path, sent, key[0] != '\0' ? key : NULL,
						&fresh)) != 0)
				goto out;
			rc = CLI_EXIT_FAIL;
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, fresh);
			free_headers(hdr);
			hdr = fresh;
		}
		cc = curl_easy_perform(c);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR && res->body.err == FEDNS_ETOOBIG) {
			fprintf(stderr, "fednsctl: the hub's answer is larger than %zu MiB\n",
				CLI_RESPONSE_MAX >> 20);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		fprintf(stderr, "fednsctl: cannot reach the hub at %s: %s%s%s\n", h->cfg.server,
			is_tls_error(cc) ? "TLS failed: " : "",
			errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc),
			cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE
				? " (check --cacert / $FEDNSCTL_CACERT)"
				: "");
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct != NULL)
		snprintf(res->content_type, sizeof(res->content_type), "%s", ct);
	if (h->verbose)
		fprintf(stderr, "fednsctl: < %ld %s (%zu bytes, %ld ms)\n", res->status,
			res->content_type, res->body.len,
			(long)((t1.tv_sec - t0.tv_sec) * 1000 +
			       (t1.tv_nsec - t0.tv_nsec) / 1000000));
	if (strncmp(res->content_type, "application/json", 16) == 0 ||
	    (res->body.len > 0 && res->body.data[0] == '{'))
		res->json = cJSON_ParseWithLength((const char *)res->body.data, res->body.len);
	if (res->status >= 200 && res->status < 300) {
		rc = 0;
	} else {
		print_api_error(res);
		rc = CLI_EXIT_FAIL;
	}
	goto out;
oom:
	fprintf(stderr, "fednsctl: out of memory\n");
out:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	free_headers(hdr);
	free(url);
	if (payload != NULL)
		cJSON_free(payload);
	return rc;
}

char *
cli_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = malloc(n * 3 + 1), *p = o;
	if (o == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

char *
cli_path(const char *fmt, ...)
{
	fedns_buf b;
	fedns_buf_init(&b, 1 << 20);
	va_list ap;
	va_start(ap, fmt);
	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f != '%') {
			fedns_buf_putc(&b, *f);
		} else if (strncmp(f, "%s", 2) == 0) {
			char *e = cli_escape(va_arg(ap, const char *));
			if (e == NULL)
				b.err = FEDNS_ENOMEM;
			else
				fedns_buf_puts(&b, e);
			free(e);
			f += 1;
		} else if (strncmp(f, "%lld", 4) == 0) {
			fedns_buf_printf(&b, "%lld", va_arg(ap, long long));
			f += 3;
		} else {
			fedns_buf_putc(&b, *f);
		}
	}
	va_end(ap);
	if (b.err != FEDNS_OK || b.len == 0) {
		fedns_buf_fini(&b);
		return NULL;
	}
	size_t len;
	return (char *)fedns_buf_steal(&b, &len);
}

int
cli_print_raw(const cli_res *r)
{
	if (r->body.len > 0 && fwrite(r->body.data, 1, r->body.len, stdout) != r->body.len)
		return CLI_EXIT_FAIL;
	if (r->body.len == 0 || r->body.data[r->body.len - 1] != '\n')
		fputc('\n', stdout);
	return fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
}

const char *
cli_json_text(const cJSON *v, char *buf, size_t bufsz)
{
	if (v == NULL || cJSON_IsNull(v)) {
		snprintf(buf, bufsz, "-");
	} else if (cJSON_IsString(v)) {
		snprintf(buf, bufsz, "%s", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, bufsz, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double x = v->valuedouble;
		if (x >= -9007199254740992.0 && x <= 9007199254740992.0 &&
		    x == (double)(long long)x)
			snprintf(buf, bufsz, "%lld", (long long)x);
		else
			snprintf(buf, bufsz, "%g", x);
	} else {
		char *s = cJSON_PrintUnformatted(v);
		snprintf(buf, bufsz, "%s", s != NULL ? s : "?");
		cJSON_free(s);
	}
	return buf;
}

const char *
cli_json_field_text(const char *key, const cJSON *v, char *buf, size_t bufsz)
{
	size_t kl = key != NULL ? strlen(key) : 0;
	bool is_time =
		kl >= 2 && strcmp(key + kl - 2, "at") == 0 && (kl == 2 || key[kl - 3] == '_');
	if (!is_time || !cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 1e15))
		return cli_json_text(v, buf, bufsz);
	long long t = (long long)v->valuedouble;
	bool ms = t >= 100000000000LL; /* past 1e11 s lies in the year 5138: milliseconds */
	time_t secs = (time_t)(ms ? t / 1000 : t);
	struct tm tm;
	char day[32];
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return cli_json_text(v, buf, bufsz);
	if (ms)
		snprintf(buf, bufsz, "%s.%03lldZ", day, t % 1000);
	else
		snprintf(buf, bufsz, "%sZ", day);
	return buf;
}

const char *
cli_json_str(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

long long
cli_json_int(const cJSON *obj, const char *key, long long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : dflt;
}

const cJSON *
cli_json_items(const cJSON *obj, const char *const *keys, size_t nkeys)
{
	if (cJSON_IsArray(obj))
		return obj;
	for (size_t i = 0; i < nkeys; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);
		if (cJSON_IsArray(v))
			return v;
	}
	return NULL;
}

#define CELL_MAX 200

void
cli_print_table(FILE *f, const cJSON *array, const char *const *cols, size_t ncols)
{
	size_t w[32] = {0};
	char buf[CELL_MAX + 1];
	if (ncols > 32)
		ncols = 32;
	for (size_t k = 0; k < ncols; k++)
		w[k] = strlen(cols[k]);
	const cJSON *row;
	cJSON_ArrayForEach(row, array)
	{
		for (size_t k = 0; k < ncols; k++) {
			size_t n = strlen(cli_json_field_text(
				cols[k], cJSON_GetObjectItemCaseSensitive(row, cols[k]), buf,
				sizeof(buf)));
			if (n > w[k])
				w[k] = n;
		}
	}
	for (size_t k = 0; k < ncols; k++) {
		for (const char *p = cols[k]; *p != '\0'; p++)
			fputc(*p == '_' ? ' ' : (*p >= 'a' && *p <= 'z' ? *p - 32 : *p), f);
		if (k + 1 < ncols)
			fprintf(f, "%*s", (int)(w[k] - strlen(cols[k]) + 2), "");
	}
	fputc('\n', f);
	cJSON_ArrayForEach(row, array)
	{
		for (size_t k = 0; k < ncols; k++) {
			cli_json_field_text(cols[k], cJSON_GetObjectItemCaseSensitive(row, cols[k]),
					    buf, sizeof(buf));
			if (k + 1 < ncols)
				fprintf(f, "%-*s  ", (int)w[k], buf);
			else
				fprintf(f, "%s", buf);
		}
		fputc('\n', f);
	}
}

void
cli_print_object(FILE *f, const cJSON *obj, const char *const *order, size_t norder)
{
	char buf[4096];
	for (size_t i = 0; i < norder; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, order[i]);
		if (v != NULL)
			fprintf(f, "%s: %s\n", order[i],
				cli_json_field_text(order[i], v, buf, sizeof(buf)));
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		bool seen = false;
		for (size_t i = 0; i < norder && !seen; i++)
			seen = strcmp(order[i], it->string) == 0;
		if (!seen)
			fprintf(f, "%s: %s\n", it->string,
				cli_json_field_text(it->string, it, buf, sizeof(buf)));
	}
}

void
cli_print_next(const cJSON *obj, const char *flag)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, "next");
	char buf[256];
	if (n != NULL && !cJSON_IsNull(n))
		fprintf(stderr, "fednsctl: more results: add %s %s\n", flag,
			cli_json_text(n, buf, sizeof(buf)));
}

int
cli_write_file(const char *path, const void *data, size_t len, unsigned mode, bool excl)
{
	if (excl && access(path, F_OK) == 0) {
		fprintf(stderr, "fednsctl: %s exists; not overwriting it\n", path);
		return CLI_EXIT_FAIL;
	}
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (tmp == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	snprintf(tmp, n, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "fednsctl: cannot create a file next to %s: %s\n", path,
			strerror(errno));
		free(tmp);
		return CLI_EXIT_FAIL;
	}
	const uint8_t *p = data;
	size_t off = 0;
	int e = 0;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		off += (size_t)w;
	}
	if (e == 0 && fchmod(fd, (mode_t)mode) != 0)
		e = errno;
	if (e == 0 && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && excl) {
		/* link() refuses an existing target, so a file created meanwhile survives. */
		if (link(tmp, path) != 0)
			e = errno;
		unlink(tmp);
	} else if (e == 0 && rename(tmp, path) != 0) {
		e = errno;
	}
	if (e != 0) {
		unlink(tmp);
		fprintf(stderr, "fednsctl: cannot write %s: %s\n", path, strerror(e));
	}
	free(tmp);
	return e == 0 ? 0 : CLI_EXIT_FAIL;
}

int
cli_run(const cli_common *common, const char *method, char *path, const cJSON *body, cli_printer p,
	void *ctx)
{
	if (path == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	cli_hub *h = NULL;
	cli_res r;
	int rc = cli_hub_open(common, &h);
	if (rc != 0) {
		free(path);
		return rc;
	}
	rc = cli_hub_request(h, method, path, body, &r);
	if (rc == 0) {
		/* An empty answer (204) still gets the printer's words in table mode. */
		if (common->output == CLI_OUT_JSON || p == NULL ||
		    (r.json == NULL && r.body.len > 0)) {
			rc = cli_print_raw(&r);
		} else {
			p(r.json, ctx);
			rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
		}
	}
	cli_res_fini(&r);
	cli_hub_close(h);
	free(path);
	return rc;
}
