/* SPDX-License-Identifier: Apache-2.0 */
/* tls/spokeauth: a spoke's signature over the hub's fresh nonce, with its dev PKI
 * certificate in the Hello, authenticates it as the certificate's CN; a wrong nonce, a
 * stale or replayed challenge, another key, a revoked certificate (openssl-made CRL),
 * another CA and a CN other than the claimed cluster are each refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/file.h"
#include "tls/spokeauth.h"

#define T0 1700000000000ull

static char base[256];

static const char *
path(const char *dir, const char *name)
{
	static char p[16][512];
	static int slot;
	slot = (slot + 1) % 16;
	snprintf(p[slot], sizeof(p[slot]), "%s/%s/%s", base, dir, name);
	return p[slot];
}

static void
make_pki(const char *sub)
{
	static const char *const clusters[] = {"east", "west"};
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/%s", base, sub);
	fedns_pki_init_opts o = {.dir = dir,
				 .hub_name = "hub.fedns.test",
				 .clusters = clusters,
				 .nclusters = 2,
				 .days = 30};
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_OK);
}

static int
setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/test_tls_spokeauth.XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	make_pki("a");
	make_pki("b");
	char cmd[4096];
	/* DER certificates as a Hello carries them; a CRL of a's CA revoking spoke-west */
	snprintf(cmd, sizeof(cmd),
		 "set -e; for p in a b; do for c in east west; do openssl x509 -in "
		 "'%s'/$p/spoke-$c.pem -outform DER -out '%s'/$p/spoke-$c.der; done; done;"
		 "cd '%s/a'; mkdir -p crl; : > crl/index.txt; echo 01 > crl/crlnumber;"
		 "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=crl/index.txt\\n"
		 "crlnumber=crl/crlnumber\\ndefault_md=sha256\\ndefault_crl_days=7\\n"
		 "certificate=ca.pem\\nprivate_key=ca.key\\n' > crl/ca.cnf;"
		 "openssl ca -config crl/ca.cnf -revoke spoke-west.pem 2>/dev/null;"
		 "openssl ca -config crl/ca.cnf -gencrl -out crl/west.pem 2>/dev/null",
		 base, base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* One spoke's side: its certificate (DER) and key. */
typedef struct spoke {
	char *der;
	size_t derlen;
	fedns_sign_key *key;
	fedns_proto_blob cert;
	uint8_t sig[FEDNS_PROTO_SIG_LEN];
	fedns_proto_challenge_response resp;
	fedns_proto_hello hello;
} spoke;

static void
spoke_load(spoke *sp, const char *pki, const char *cert_cluster, const char *key_cluster)
{
	char name[64];
	memset(sp, 0, sizeof(*sp));
	snprintf(name, sizeof(name), "spoke-%s.der", cert_cluster);
	assert_int_equal(fedns_file_read(path(pki, name), 1 << 16, &sp->der, &sp->derlen, NULL),
			 FEDNS_OK);
	snprintf(name, sizeof(name), "spoke-%s.key", key_cluster);
	assert_int_equal(fedns_sign_load_private_file(path(pki, name), &sp->key), FEDNS_OK);
	sp->cert.data = (const uint8_t *)sp->der;
	sp->cert.len = sp->derlen;
	sp->hello.certs = &sp->cert;
	sp->hello.ncerts = 1;
}

static void
spoke_answer(spoke *sp, const fedns_proto_challenge *c, const char *cluster)
{
	sp->hello.cluster = cluster;
	assert_int_equal(fedns_spokeauth_respond(sp->key, c, cluster, sp->sig, &sp->resp),
			 FEDNS_OK);
	assert_int_equal(sp->resp.alg, FEDNS_PROTO_SIG_ECDSA_P256_SHA256);
	assert_int_equal(sp->resp.signature.len, FEDNS_PROTO_SIG_LEN);
}

static void
spoke_free(spoke *sp)
{
	free(sp->der);
	fedns_sign_key_free(sp->key);
}

static fedns_spokeauth_policy
policy(const char *crl)
{
	fedns_spokeauth_policy p = {.ca_file = path("a", "ca.pem"), .crl_file = crl};
	return p;
}

static void
test_good_answer(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	assert_int_equal(p.challenge.hub_time, T0);
	assert_false(p.used);
	/* two challenges never share a nonce */
	fedns_spokeauth_pending q;
	assert_int_equal(fedns_spokeauth_challenge(&q, T0), FEDNS_OK);
	assert_memory_not_equal(p.challenge.nonce, q.challenge.nonce, FEDNS_PROTO_NONCE_LEN);

	spoke sp;
	spoke_load(&sp, "a", "east", "east");
	spoke_answer(&sp, &p.challenge, "east");
	fedns_spokeauth_policy pol = policy(path("a", "crl/west.pem"));
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0 + 1000, &sp.hello, &sp.resp, &r),
			 FEDNS_OK);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_OK);
	assert_string_equal(r.cluster, "east");
	assert_true(p.used);
	/* the same answer again is a replay */
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0 + 1000, &sp.hello, &sp.resp, &r),
			 FEDNS_ESTALE);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_REPLAYED);
	assert_string_equal(r.cluster, "");
	assert_string_equal(fedns_spokeauth_reason_name(r.reason), "replayed");
	spoke_free(&sp);
}

static void
test_wrong_nonce(void **state)
{
	(void)state;
	fedns_spokeauth_pending p, other;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	assert_int_equal(fedns_spokeauth_challenge(&other, T0), FEDNS_OK);
	spoke sp;
	spoke_load(&sp, "a", "east", "east");
	spoke_answer(&sp, &other.challenge, "east"); /* answers another session's nonce */
	fedns_spokeauth_policy pol = policy(NULL);
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_BAD_SIGNATURE);
	assert_non_null(strstr(r.detail, "does not verify"));
	assert_string_equal(r.cluster, "");
	/* a different hub_time with the right nonce is not this challenge either */
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	fedns_proto_challenge shifted = p.challenge;
	shifted.hub_time++;
	spoke_answer(&sp, &shifted, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_BAD_SIGNATURE);
	spoke_free(&sp);
}

static void
test_stale(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	spoke sp;
	spoke_load(&sp, "a", "east", "east");
	fedns_spokeauth_policy pol = policy(NULL);
	pol.window_ms = 5000;
	fedns_spokeauth_result r;
	/* exactly at the window's end is still fresh */
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0 + 5000, &sp.hello, &sp.resp, &r),
			 FEDNS_OK);
	/* one ms later it is stale */
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0 + 5001, &sp.hello, &sp.resp, &r),
			 FEDNS_ESTALE);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_STALE);
	assert_non_null(strstr(r.detail, "5000 ms"));
	/* answered "before" it was issued (clock moved back) */
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0 - 1, &sp.hello, &sp.resp, &r),
			 FEDNS_ESTALE);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_STALE);
	/* default window when 0 */
	pol.window_ms = 0;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p,
						T0 + FEDNS_SPOKEAUTH_WINDOW_MS_DEFAULT + 1,
						&sp.hello, &sp.resp, &r),
			 FEDNS_ESTALE);
	spoke_free(&sp);
}

static void
test_other_key(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke sp;
	spoke_load(&sp, "a", "east", "west"); /* east's certificate, west's key */
	spoke_answer(&sp, &p.challenge, "east");
	fedns_spokeauth_policy pol = policy(NULL);
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_BAD_SIGNATURE);
	assert_non_null(strstr(r.detail, "\"east\""));
	spoke_free(&sp);
}

static void
test_revoked(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	spoke sp;
	spoke_load(&sp, "a", "west", "west");
	fedns_spokeauth_result r;
	/* without the CRL west is fine, with it west is revoked */
	fedns_spokeauth_policy pol = policy(NULL);
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "west");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r), FEDNS_OK);
	assert_string_equal(r.cluster, "west");
	pol = policy(path("a", "crl/west.pem"));
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "west");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_CERT);
	assert_int_equal(r.pki, FEDNS_PKI_REVOKED);
	assert_string_equal(r.cluster, "");
	assert_non_null(strstr(r.detail, "\"west\""));
	spoke_free(&sp);
}

static void
test_other_ca(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke sp;
	spoke_load(&sp, "b", "east", "east"); /* a consistent pair, from another CA */
	spoke_answer(&sp, &p.challenge, "east");
	fedns_spokeauth_policy pol = policy(NULL);
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_CERT);
	assert_int_equal(r.pki, FEDNS_PKI_UNTRUSTED);
	assert_non_null(strstr(r.detail, "not issued by a CA"));
	spoke_free(&sp);
}

static void
test_cn_mismatch(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke sp;
	spoke_load(&sp, "a", "east", "east");
	spoke_answer(&sp, &p.challenge, "west"); /* east claims to be west, signs properly */
	fedns_spokeauth_policy pol = policy(NULL);
	fedns_spokeauth_result r;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EAUTH);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_CN_MISMATCH);
	assert_non_null(strstr(r.detail, "\"west\""));
	assert_non_null(strstr(r.detail, "\"east\""));
	assert_string_equal(r.cluster, "");
	spoke_free(&sp);
}

static void
test_malformed(void **state)
{
	(void)state;
	fedns_spokeauth_pending p;
	spoke sp;
	spoke_load(&sp, "a", "east", "east");
	fedns_spokeauth_policy pol = policy(NULL);
	fedns_spokeauth_result r;

	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	sp.hello.ncerts = 0;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EMALFORMED);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_MALFORMED);
	assert_non_null(strstr(r.detail, "no certificate"));
	sp.hello.ncerts = 1;

	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	sp.resp.signature.len = FEDNS_PROTO_SIG_LEN - 1;
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EMALFORMED);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_MALFORMED);

	/* a certificate that is not DER */
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	sp.cert.data = junk;
	sp.cert.len = sizeof(junk);
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r),
			 FEDNS_EMALFORMED);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_MALFORMED);
	assert_string_equal(r.cluster, "");

	/* the hub's own CA file missing is an internal error, not the spoke's fault */
	sp.cert.data = (const uint8_t *)sp.der;
	sp.cert.len = sp.derlen;
	pol.ca_file = path("a", "missing.pem");
	assert_int_equal(fedns_spokeauth_challenge(&p, T0), FEDNS_OK);
	spoke_answer(&sp, &p.challenge, "east");
	assert_int_equal(fedns_spokeauth_verify(&pol, &p, T0, &sp.hello, &sp.resp, &r), FEDNS_EIO);
	assert_int_equal(r.reason, FEDNS_SPOKEAUTH_INTERNAL);
	assert_non_null(strstr(r.detail, "missing.pem"));
	spoke_free(&sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_answer), cmocka_unit_test(test_wrong_nonce),
		cmocka_unit_test(test_stale),	    cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_revoked),	    cmocka_unit_test(test_other_ca),
		cmocka_unit_test(test_cn_mismatch), cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
