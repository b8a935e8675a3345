/* SPDX-License-Identifier: Apache-2.0 */
/* fednsctl audit ...: list the hub's audit records, export the evidence bundle, and
 * verify a bundle offline by recomputing every hash of the chain (common/auditchain.h). */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_hub.h"
#include "cli/hubclient.h"
#include "common/auditchain.h"
#include "common/encode.h"
#include "common/file.h"
#include "common/sha2.h"
#include "tls/sign.h"

#define AUDIT_EXPORT_FORMAT "fedns-audit-export-v1"
#define AUDIT_FILE_MAX CLI_RESPONSE_MAX

static bool
is_hash(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

/* An integer JSON number (seq, at): doubles hold every integer up to 2^53 exactly. */
static bool
get_int(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		return false;
	double x = v->valuedouble;
	/* The negated range test also refuses NaN and infinities. */
	if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0) || x != (double)(int64_t)x)
		return false;
	*out = (int64_t)x;
	return true;
}

static const char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
broken(const char *label, int64_t seq, size_t idx, size_t n_ok, const char *why, const char *detail)
{
	fprintf(stderr, "audit chain broken at seq %lld: %s%s%s\n", (long long)seq, why,
		detail != NULL ? ": " : "", detail != NULL ? detail : "");
	fprintf(stderr, "fednsctl:   %s: records[%zu]; the %zu record%s before it verif%s\n", label,
		idx, n_ok, n_ok == 1 ? "" : "s", n_ok == 1 ? "ies" : "y");
	return CLI_EXIT_FAIL;
}

static int
approval_broken(const char *label, size_t idx, long long change, const char *approver,
		const char *why)
{
	fprintf(stderr, "approval signature broken for change %lld: approver %s: %s\n", change,
		approver != NULL ? approver : "?", why);
	fprintf(stderr, "fednsctl:   %s: approvals[%zu]\n", label, idx);
	return CLI_EXIT_FAIL;
}

/* Every signed approval of the bundle (DESIGN.md §7), offline: the key is the bundle's
 * SubjectPublicKeyInfo whose SHA-256 is the key id, the verified chain holds the record
 * of that key id being registered for the approver (principal.key on
 * principal:NAME/key:ID), the signed text's digest is the one the bundle states, and the
 * signature verifies over "fedns-approve-v1\n<change>\n<diff_sha256>\n". Counts the
 * verified ones into *nsigned. Returns 0 or CLI_EXIT_FAIL with the first bad one named. */
static int
verify_approvals(const cJSON *root, const char *label, const fedns_audit_fields *f, size_t n,
		 size_t *nsigned)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "approvals");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	*nsigned = 0;
	if (arr == NULL)
		return 0; /* a bundle from before approvals were exported */
	if (!cJSON_IsArray(arr) || (keys != NULL && !cJSON_IsObject(keys))) {
		fprintf(stderr,
			"fednsctl: %s: \"approvals\" must be an array and \"keys\" an "
			"object\n",
			label);
		return CLI_EXIT_FAIL;
	}
	size_t idx = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, arr)
	{
		int64_t change = 0;
		const char *who = get_str(a, "approver");
		if (!cJSON_IsObject(a) || !get_int(a, "change", &change) || who == NULL)
			return approval_broken(label, idx, change, who,
					       "the entry needs \"change\" and \"approver\"");
		const cJSON *sigv = cJSON_GetObjectItemCaseSensitive(a, "signature");
		if (sigv == NULL || cJSON_IsNull(sigv)) {
			idx++;
			continue; /* an approval made with a bearer token: nothing to check */
		}
		const char *sig = get_str(a, "signature"), *kid = get_str(a, "key_id");
		const char *dh = get_str(a, "diff_sha256"), *th = get_str(a, "signed_sha256");
		if (sig == NULL || kid == NULL || dh == NULL || !is_hash(dh))
			return approval_broken(label, idx, change, who,
					       "a signed approval needs \"key_id\", \"signature\" "
					       "and a 64-hex \"diff_sha256\"");
		const char *spki = get_str(keys, kid);
		if (spki == NULL)
			return approval_broken(
				label, idx, change, who,
				"the bundle's \"keys\" has no public key for its key id");
		uint8_t der[FEDNS_SIGN_SPKI_MAX], raw[FEDNS_SIGN_RAW_LEN + 16];
		size_t derlen = 0, rawlen = 0;
		char want[FEDNS_SIGN_KEYID_LEN + 1];
		if (fedns_base64_decode(spki, strlen(spki), der, sizeof(der), &derlen) != FEDNS_OK)
			return approval_broken(label, idx, change, who,
					       "its public key is not base64");
		fedns_sign_key_id_of_spki(der, derlen, want);
		if (strcmp(want, kid) != 0)
			return approval_broken(label, idx, change, who,
					       "its public key does not hash to its key id");
		char target[300];
		snprintf(target, sizeof(target), "principal:%s/key:%s", who, kid);
		bool registered = false;
		for (size_t i = 0; i < n && !registered; i++)
			registered = strcmp(f[i].action, "principal.key") == 0 &&
				     strcmp(f[i].outcome, "ok") == 0 &&
				     strcmp(f[i].target, target) == 0;
		if (!registered)
			return approval_broken(label, idx, change, who,
					       "the audit chain has no record of that key being "
					       "registered for the approver");
		char text[128], hex[2 * FEDNS_SHA256_LEN + 1];
		uint8_t sha[FEDNS_SHA256_LEN];
		snprintf(text, sizeof(text), "fedns-approve-v1\n%lld\n%s\n", (long long)change, dh);
		fedns_hash_once(FEDNS_HASH_SHA256, text, strlen(text), sha);
		fedns_hex_encode(sha, sizeof(sha), hex, 0);
		if (th != NULL && strcmp(th, hex) != 0)
			return approval_broken(label, idx, change, who,
					       "\"signed_sha256\" is not the SHA-256 of the signed "
					       "text");
		if (fedns_base64_decode(sig, strlen(sig), raw, sizeof(raw), &rawlen) != FEDNS_OK ||
		    rawlen != FEDNS_SIGN_RAW_LEN)
			return approval_broken(label, idx, change, who,
					       "the signature is not base64 of 64 bytes");
		fedns_sign_key *k = NULL;
		if (fedns_sign_load_public_der(der, derlen, &k) != FEDNS_OK)
			return approval_broken(label, idx, change, who,
					       "its public key is not a P-256 key");
		fedns_err e = fedns_sign_verify_raw(k, text, strlen(text), raw, rawlen);
		fedns_sign_key_free(k);
		if (e != FEDNS_OK)
			return approval_broken(label, idx, change, who,
					       "the signature does not verify with its key");
		(*nsigned)++;
		idx++;
	}
	return 0;
}

/* Verifies an export held in memory; 'label' names it in messages (the file). Prints the
 * result and returns 0 (the whole chain verifies) or CLI_EXIT_FAIL. */
static int
verify_export(const char *text, size_t len, const char *label, bool json_out)
{
	fedns_audit_fields *f = NULL;
	const char **prev = NULL, **hash = NULL;
	int rc = CLI_EXIT_FAIL;
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (root == NULL) {
		const char *at = cJSON_GetErrorPtr();
		unsigned line = 1;
		if (at != NULL && at >= text && at <= text + len)
			for (const char *q = text; q < at; q++)
				line += *q == '\n';
		fprintf(stderr, "fednsctl: %s:%u: not valid JSON\n", label, line);
		return CLI_EXIT_FAIL;
	}
	const char *fmt = get_str(root, "format");
	if (fmt == NULL || strcmp(fmt, AUDIT_EXPORT_FORMAT) != 0) {
		fprintf(stderr,
			"fednsctl: %s: \"format\" is %s%s%s, not \"" AUDIT_EXPORT_FORMAT "\"\n",
			label, fmt != NULL ? "\"" : "", fmt != NULL ? fmt : "missing",
			fmt != NULL ? "\"" : "");
		goto out;
	}
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "records");
	if (!cJSON_IsArray(recs)) {
		fprintf(stderr, "fednsctl: %s: \"records\" is missing or not an array\n", label);
		goto out;
	}
	size_t n = (size_t)cJSON_GetArraySize(recs);
	f = calloc(n + 1, sizeof(*f));
	prev = calloc(n + 1, sizeof(*prev));
	hash = calloc(n + 1, sizeof(*hash));
	if (f == NULL || prev == NULL || hash == NULL) {
		fprintf(stderr, "fednsctl: out of memory\n");
		goto out;
	}
	/* Shape first, record by record, so a malformed record is named like a broken one. */
	size_t i = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, recs)
	{
		int64_t seq = 0;
		bool has_seq = get_int(r, "seq", &seq);
		long long shown =
			has_seq ? (long long)seq : (i == 0 ? 1 : (long long)f[i - 1].seq + 1);
		if (!cJSON_IsObject(r)) {
			rc = broken(label, shown, i, i, "the record is not a JSON object", NULL);
			goto out;
		}
		if (!has_seq) {
			rc = broken(label, shown, i, i, "\"seq\" is missing or not an integer",
				    NULL);
			goto out;
		}
		f[i].seq = seq;
		if (!get_int(r, "at", &f[i].at_ms)) {
			rc = broken(label, seq, i, i, "\"at\" is missing or not an integer", NULL);
			goto out;
		}
		static const char *const keys[] = {"principal", "action", "target", "outcome",
						   "payload_digest"};
		const char **dst[] = {&f[i].principal, &f[i].action, &f[i].target, &f[i].outcome,
				      &f[i].payload_digest};
		for (size_t k = 0; k < 5; k++) {
			if ((*dst[k] = get_str(r, keys[k])) == NULL) {
				char m[64];
				snprintf(m, sizeof(m), "\"%s\" is missing or not a string",
					 keys[k]);
				rc = broken(label, seq, i, i, m, NULL);
				goto out;
			}
		}
		prev[i] = get_str(r, "prev_hash");
		hash[i] = get_str(r, "hash");
		if (prev[i] == NULL || !is_hash(prev[i]) || hash[i] == NULL || !is_hash(hash[i])) {
			rc = broken(label, seq, i, i,
				    "\"prev_hash\" and \"hash\" must be 64 lowercase hex digits",
				    NULL);
			goto out;
		}
		i++;
	}
	if (n > 0 && f[0].seq != 1) {
		/* A chain is anchored at genesis; an export that starts later cannot be
		 * verified from its beginning (records before it were dropped). */
		rc = broken(label, f[0].seq, 0, 0,
			    "the export does not start at seq 1 (records before it are missing)",
			    NULL);
		goto out;
	}
	size_t bad = 0;
	const char *why = NULL;
	if (fedns_audit_verify(f, prev, hash, n, fedns_audit_genesis, &bad, &why) != FEDNS_OK) {
		rc = broken(label, f[bad].seq, bad, bad, why, NULL);
		goto out;
	}
	/* The head guards the end: a bundle cut short still chains, but no longer reaches the
	 * head the hub exported. */
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(root, "head");
	int64_t hseq = -1;
	const char *hhash = get_str(head, "hash");
	int64_t last_seq = n > 0 ? f[n - 1].seq : 0;
	const char *last_hash = n > 0 ? hash[n - 1] : fedns_audit_genesis;
	if (!cJSON_IsObject(head) || !get_int(head, "seq", &hseq) || hhash == NULL) {
		fprintf(stderr, "fednsctl: %s: \"head\" {seq, hash} is missing or malformed\n",
			label);
		goto out;
	}
	if (hseq != last_seq || strcmp(hhash, last_hash) != 0) {
		fprintf(stderr,
			"audit chain broken at seq %lld: the export's head (seq %lld, hash "
			"%.16s...) is not the last record (seq %lld, hash %.16s...): records were "
			"removed from the end or the head was edited\n",
			(long long)(last_seq + 1), (long long)hseq, hhash, (long long)last_seq,
			last_hash);
		goto out;
	}
	size_t nsigned = 0;
	if ((rc = verify_approvals(root, label, f, n, &nsigned)) != 0)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (json_out && cJSON_HasObjectItem(root, "approvals"))
		printf("{\"ok\":true,\"records\":%zu,\"head\":{\"seq\":%lld,\"hash\":\"%s\"},"
		       "\"signed_approvals\":%zu}\n",
		       n, (long long)last_seq, last_hash, nsigned);
	else if (json_out)
		printf("{\"ok\":true,\"records\":%zu,\"head\":{\"seq\":%lld,\"hash\":\"%s\"}}\n", n,
		       (long long)last_seq, last_hash);
	else if (n == 0)
		printf("audit chain OK: empty (head is genesis)\n");
	else
		printf("audit chain OK: %zu record%s (seq 1..%lld), head %s\n", n,
		       n == 1 ? "" : "s", (long long)last_seq, last_hash);
	if (!json_out && nsigned > 0)
		printf("approval signatures OK: %zu verified\n", nsigned);
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
out:
	free(f);
	free(prev);
	free(hash);
	cJSON_Delete(root);
	return rc;
}

int
cmd_audit_verify(int argc, char **argv)
{
	static const char syn[] = "audit verify FILE";
	cli_common common = {0};
	const char *pos[1];
	size_t npos;
	int rc = cli_args_parse(argc, argv, NULL, 0, &common, pos, 1, 1, &npos, syn);
	if (rc != 0)
		return rc;
	char *text = NULL;
	size_t len = 0;
	fedns_diag d;
	fedns_diag_clear(&d);
	if (fedns_file_read(pos[0], AUDIT_FILE_MAX, &text, &len, &d) != FEDNS_OK) {
		fprintf(stderr, "fednsctl: %s\n", d.msg);
		return CLI_EXIT_FAIL;
	}
	rc = verify_export(text, len, pos[0], common.output == CLI_OUT_JSON);
	free(text);
	return rc;
}

int
cmd_audit_export(int argc, char **argv)
{
	static const char syn[] = "audit export [-o FILE]";
	cli_common common = {0};
	const char *file = NULL;
	const cli_opt opts[] = {{"--out", "-o", CLI_OPT_STR, &file, NULL, NULL}};
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 1, &common, NULL, 0, 0, &npos, syn);
	if (rc != 0)
		return rc;
	cli_hub *h = NULL;
	cli_res r;
	if ((rc = cli_hub_open(&common, &h)) != 0)
		return rc;
	rc = cli_hub_request(h, "GET", "/api/v1/audit/export", NULL, &r);
	if (rc == 0 && (file == NULL || strcmp(file, "-") == 0)) {
		rc = cli_print_raw(&r);
	} else if (rc == 0) {
		rc = cli_write_file(file, r.body.data, r.body.len, 0644, false);
		/* Checked here too, so a bad bundle is noticed when it is made, not at audit. */
		if (rc == 0) {
			printf("wrote %s (%zu bytes)\n", file, r.body.len);
			rc = verify_export((const char *)r.body.data, r.body.len, file, false);
		}
	}
	cli_res_fini(&r);
	cli_hub_close(h);
	return rc;
}

static void
print_audit(const cJSON *j, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"records", "items"};
	static const char *const cols[] = {"seq",    "at",	"principal",	 "action",
					   "target", "outcome", "payload_digest"};
	cli_print_table(stdout, cli_json_items(j, keys, 2), cols, 6);
	cli_print_next(j, "--after");
}

int
cmd_audit_list(int argc, char **argv)
{
	static const char syn[] = "audit list [--after SEQ] [--limit N]";
	cli_common common = {0};
	const char *after = NULL, *limit = NULL;
	const cli_opt opts[] = {
		{"--after", NULL, CLI_OPT_STR, &after, NULL, NULL},
		{"--limit", NULL, CLI_OPT_STR, &limit, NULL, NULL},
	};
	size_t npos;
	int rc = cli_args_parse(argc, argv, opts, 2, &common, NULL, 0, 0, &npos, syn);
	if (rc != 0)
		return rc;
	unsigned long long a = 0, l = 0;
	if ((after != NULL && !cli_parse_uint(after, INT64_MAX, &a)) ||
	    (limit != NULL && !cli_parse_uint(limit, 1000000, &l)))
		return cli_usage(syn, "--after and --limit take numbers");
	char *path;
	if (after != NULL && limit != NULL)
		path = cli_path("/api/v1/audit?after=%lld&limit=%lld", (long long)a, (long long)l);
	else if (after != NULL)
		path = cli_path("/api/v1/audit?after=%lld", (long long)a);
	else if (limit != NULL)
		path = cli_path("/api/v1/audit?limit=%lld", (long long)l);
	else
		path = cli_path("/api/v1/audit");
	return cli_run(&common, "GET", path, NULL, print_audit, NULL);
}
