/* SPDX-License-Identifier: Apache-2.0 */
/* tls/httpsig: the shared RFC 9421 pieces: dates, the canonical @path, and a signed
 * request whose headers and signature base are checked byte for byte (the base is written
 * out here by hand, not rebuilt with the code under test) and whose signature verifies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/encode.h"
#include "tls/httpsig.h"
#include "tls/sign.h"

static void
test_http_date(void **state)
{
	(void)state;
	char d[32];
	fedns_httpsig_http_date(1618884475, d);
	assert_string_equal(d, "Tue, 20 Apr 2021 02:07:55 GMT");
	fedns_httpsig_http_date(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
path_is(const char *wire, const char *want)
{
	fedns_buf b;
	fedns_buf_init(&b, 1024);
	assert_int_equal(fedns_httpsig_path_from_wire(wire, strlen(wire), &b), FEDNS_OK);
	assert_string_equal((const char *)b.data, want);
	fedns_buf_fini(&b);
}

static void
test_path(void **state)
{
	(void)state;
	/* escapes of unreserved characters are undone, others normalised to uppercase */
	path_is("/api/v1/zones/example.com", "/api/v1/zones/example.com");
	path_is("/api/v1/zones/ex%61mple.com", "/api/v1/zones/example.com");
	path_is("/a%20b/%7e%40", "/a%20b/~@");
	path_is("/a%2fb", "/a/b"); /* the hub's router sees the decoded slash */
	path_is("/%c3%a9", "/%C3%A9");
	path_is("", "/");
	fedns_buf b;
	fedns_buf_init(&b, 1024);
	assert_int_equal(fedns_httpsig_path_from_wire("/a%00", 5, &b), FEDNS_EMALFORMED);
	assert_int_equal(fedns_httpsig_path_from_wire("/a%4", 4, &b), FEDNS_EMALFORMED);
	assert_int_equal(fedns_httpsig_path_from_wire("/a%zz", 5, &b), FEDNS_EMALFORMED);
	fedns_buf_fini(&b);
}

static void
test_sign_request(void **state)
{
	(void)state;
	fedns_sign_key *k = NULL;
	assert_int_equal(fedns_sign_generate(&k), FEDNS_OK);
	char keyid[FEDNS_SIGN_KEYID_LEN + 1];
	assert_int_equal(fedns_sign_key_id(k, keyid), FEDNS_OK);
	fedns_httpsig_headers h;
	static const char body[] = "{\"hello\": \"world\"}\n";
	assert_int_equal(fedns_httpsig_sign_request(k, "POST", "/api/v1/changes/7/ap%70rove?x=1",
						    body, strlen(body), 1618884475, "n0nce-abcdef",
						    &h),
			 FEDNS_OK);
	assert_string_equal(h.content_digest,
			    "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:");
	assert_string_equal(h.date, "Tue, 20 Apr 2021 02:07:55 GMT");
	char want_input[600], params[512], base[2048];
	snprintf(params, sizeof(params),
		 "(\"@method\" \"@path\" \"@query\" \"content-digest\" \"date\");created="
		 "1618884475;keyid=\"%s\";alg=\"ecdsa-p256-sha256\";nonce=\"n0nce-abcdef\"",
		 keyid);
	snprintf(want_input, sizeof(want_input), "sig1=%s", params);
	assert_string_equal(h.signature_input, want_input);
	snprintf(base, sizeof(base),
		 "\"@method\": POST\n\"@path\": /api/v1/changes/7/approve\n\"@query\": ?x=1\n"
		 "\"content-digest\": %s\n\"date\": %s\n\"@signature-params\": %s",
		 h.content_digest, h.date, params);
	size_t n = strlen(h.signature);
	assert_true(n > 7 && strncmp(h.signature, "sig1=:", 6) == 0 && h.signature[n - 1] == ':');
	uint8_t raw[128];
	size_t rawlen = 0;
	assert_int_equal(fedns_base64_decode(h.signature + 6, n - 7, raw, sizeof(raw), &rawlen),
			 FEDNS_OK);
	assert_int_equal(rawlen, FEDNS_SIGN_RAW_LEN);
	assert_int_equal(fedns_sign_verify_raw(k, base, strlen(base), raw, rawlen), FEDNS_OK);
	base[strlen("\"@method\": P")] = 'X'; /* any other base does not verify */
	assert_int_equal(fedns_sign_verify_raw(k, base, strlen(base), raw, rawlen), FEDNS_EAUTH);

	/* without a query there is no @query; an empty body has the empty digest */
	assert_int_equal(
		fedns_httpsig_sign_request(k, "GET", "/api/v1/zones?", NULL, 0, 1, "abcdefgh", &h),
		FEDNS_OK);
	assert_non_null(
		strstr(h.signature_input,
		       "sig1=(\"@method\" \"@path\" \"content-digest\" \"date\");created=1;"));
	assert_string_equal(h.content_digest,
			    "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");

	/* refusals leave nothing behind */
	assert_int_equal(fedns_httpsig_sign_request(k, "GET", "/x", NULL, 0, 1, "short", &h),
			 FEDNS_EINVAL);
	assert_int_equal(fedns_httpsig_sign_request(k, "GET", "/x", NULL, 0, 1, "bad nonce!", &h),
			 FEDNS_EINVAL);
	assert_int_equal(fedns_httpsig_sign_request(k, "GET", "x", NULL, 0, 1, "abcdefgh", &h),
			 FEDNS_EMALFORMED);
	assert_int_equal(fedns_httpsig_sign_request(k, "GET", "/a%00", NULL, 0, 1, "abcdefgh", &h),
			 FEDNS_EMALFORMED);
	assert_string_equal(h.signature, "");
	char pem[FEDNS_SIGN_PEM_MAX];
	fedns_sign_key *pub = NULL;
	assert_int_equal(fedns_sign_public_pem(k, pem, sizeof(pem)), FEDNS_OK);
	assert_int_equal(fedns_sign_load_public_pem(pem, strlen(pem), &pub), FEDNS_OK);
	assert_int_equal(fedns_httpsig_sign_request(pub, "GET", "/x", NULL, 0, 1, "abcdefgh", &h),
			 FEDNS_EINVAL);
	fedns_sign_key_free(pub);
	fedns_sign_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_sign_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
