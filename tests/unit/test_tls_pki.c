/* SPDX-License-Identifier: Apache-2.0 */
/* tls/pki: the dev PKI's certificates verify against its CA; another CA's, expired and
 * CRL-revoked (CRL made with the openssl CLI) certificates fail with the right verdict. */
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

#include "tls/pki.h"
#include "tls/sign.h"

static char base[256];

static const char *
path(const char *dir, const char *name)
{
	static char p[8][512];
	static int slot;
	slot = (slot + 1) % 8;
	snprintf(p[slot], sizeof(p[slot]), "%s/%s/%s", base, dir, name);
	return p[slot];
}

static void
make_pki(const char *sub, int days)
{
	static const char *const clusters[] = {"east", "west"};
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/%s", base, sub);
	fedns_pki_init_opts o = {.dir = dir,
				 .hub_name = "hub.fedns.test",
				 .clusters = clusters,
				 .nclusters = 2,
				 .days = days};
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_OK);
	assert_string_equal(err, "");
}

static int
setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/test_tls_pki.XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	make_pki("a", 30);
	make_pki("b", 30);
	make_pki("old", -1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_leaves_trusted(void **state)
{
	(void)state;
	fedns_pki_verdict v;
	assert_int_equal(fedns_pki_verify_file(path("a", "hub.pem"), path("a", "ca.pem"), NULL,
					       FEDNS_PKI_USAGE_SERVER, &v),
			 FEDNS_OK);
	assert_int_equal(v.status, FEDNS_PKI_TRUSTED);
	assert_string_equal(v.cn, "hub.fedns.test");
	assert_int_equal(fedns_pki_verify_file(path("a", "hub.pem"), path("a", "ca.pem"), NULL,
					       FEDNS_PKI_USAGE_CLIENT, &v),
			 FEDNS_OK);
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-east.pem"), path("a", "ca.pem"),
					       NULL, FEDNS_PKI_USAGE_CLIENT, &v),
			 FEDNS_OK);
	assert_string_equal(v.cn, "east");
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-west.pem"), path("a", "ca.pem"),
					       NULL, FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_OK);
	assert_string_equal(v.cn, "west");
	assert_int_equal(fedns_pki_verify_file(path("a", "ca.pem"), path("a", "ca.pem"), NULL,
					       FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_OK);
	assert_string_equal(v.cn, "fedns dev CA");
	/* a spoke certificate is not a server certificate */
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-east.pem"), path("a", "ca.pem"),
					       NULL, FEDNS_PKI_USAGE_SERVER, &v),
			 FEDNS_EAUTH);
	assert_int_equal(v.status, FEDNS_PKI_WRONG_USAGE);
	assert_non_null(strstr(v.reason, "serverAuth"));
}

static void
test_other_ca_untrusted(void **state)
{
	(void)state;
	fedns_pki_verdict v;
	assert_int_equal(fedns_pki_verify_file(path("b", "spoke-east.pem"), path("a", "ca.pem"),
					       NULL, FEDNS_PKI_USAGE_CLIENT, &v),
			 FEDNS_EAUTH);
	assert_int_equal(v.status, FEDNS_PKI_UNTRUSTED);
	assert_string_equal(v.cn, "east");
	assert_non_null(strstr(v.reason, "not issued by a CA in"));
}

static void
test_expired(void **state)
{
	(void)state;
	fedns_pki_verdict v;
	assert_int_equal(fedns_pki_verify_file(path("old", "spoke-east.pem"), path("old", "ca.pem"),
					       NULL, FEDNS_PKI_USAGE_CLIENT, &v),
			 FEDNS_EAUTH);
	assert_int_equal(v.status, FEDNS_PKI_EXPIRED);
	assert_non_null(strstr(v.reason, "expired on"));
}

/* openssl ca revokes spoke-west and writes a CRL signed by a's CA. */
static void
test_crl_revoked(void **state)
{
	(void)state;
	char cmd[4096];
	const char *d = path("a", "");
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; mkdir -p crl; : > crl/index.txt; echo 01 > crl/crlnumber;"
		 "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=crl/index.txt\\n"
		 "crlnumber=crl/crlnumber\\ndefault_md=sha256\\ndefault_crl_days=7\\n"
		 "certificate=ca.pem\\nprivate_key=ca.key\\n' > crl/ca.cnf;"
		 "openssl ca -config crl/ca.cnf -gencrl -out crl/empty.pem 2>/dev/null;"
		 "openssl ca -config crl/ca.cnf -revoke spoke-west.pem 2>/dev/null;"
		 "openssl ca -config crl/ca.cnf -gencrl -out crl/west.pem 2>/dev/null",
		 d);
	assert_int_equal(system(cmd), 0);
	fedns_pki_verdict v;
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-west.pem"), path("a", "ca.pem"),
					       path("a", "crl/west.pem"), FEDNS_PKI_USAGE_CLIENT,
					       &v),
			 FEDNS_EAUTH);
	assert_int_equal(v.status, FEDNS_PKI_REVOKED);
	assert_string_equal(v.cn, "west");
	assert_non_null(strstr(v.reason, "revoked"));
	/* the others stay trusted under the same CRL, and west before it was revoked */
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-east.pem"), path("a", "ca.pem"),
					       path("a", "crl/west.pem"), FEDNS_PKI_USAGE_CLIENT,
					       &v),
			 FEDNS_OK);
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-west.pem"), path("a", "ca.pem"),
					       path("a", "crl/empty.pem"), FEDNS_PKI_USAGE_CLIENT,
					       &v),
			 FEDNS_OK);
	/* a's CRL next to b's CA is not b's: refused, not ignored */
	assert_int_equal(fedns_pki_verify_file(path("b", "spoke-west.pem"), path("b", "ca.pem"),
					       path("a", "crl/west.pem"), FEDNS_PKI_USAGE_CLIENT,
					       &v),
			 FEDNS_EAUTH);
	assert_int_equal(v.status, FEDNS_PKI_CRL_INVALID);
	/* a CRL file that is not a CRL */
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-east.pem"), path("a", "ca.pem"),
					       path("a", "README"), FEDNS_PKI_USAGE_CLIENT, &v),
			 FEDNS_EMALFORMED);
	assert_int_equal(v.status, FEDNS_PKI_CRL_INVALID);
	assert_non_null(strstr(v.reason, "README: not a CRL"));
}

static void
test_bad_inputs(void **state)
{
	(void)state;
	fedns_pki_verdict v;
	assert_int_equal(fedns_pki_verify_file(path("a", "missing.pem"), path("a", "ca.pem"), NULL,
					       FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_EIO);
	assert_int_equal(v.status, FEDNS_PKI_UNTRUSTED);
	assert_non_null(strstr(v.reason, "missing.pem: cannot read"));
	assert_int_equal(fedns_pki_verify_file(path("a", "spoke-east.pem"), path("a", "nope.pem"),
					       NULL, FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_EIO);
	assert_non_null(strstr(v.reason, "nope.pem: cannot read the CA file"));
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	assert_int_equal(fedns_pki_verify_pem(junk, sizeof(junk) - 1, path("a", "ca.pem"), NULL,
					      FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_EMALFORMED);
	assert_int_equal(fedns_pki_verify_pem("\x30\x03\x02\x01", 4, path("a", "ca.pem"), NULL,
					      FEDNS_PKI_USAGE_ANY, &v),
			 FEDNS_EMALFORMED);
}

static void
test_public_key_and_pair(void **state)
{
	(void)state;
	fedns_sign_key *pub = NULL, *priv = NULL;
	assert_int_equal(fedns_pki_cert_public_key_file(path("a", "spoke-east.pem"), &pub),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_load_private_file(path("a", "spoke-east.key"), &priv),
			 FEDNS_OK);
	/* the challenge flow: the spoke signs with its key, the hub checks with the cert's */
	uint8_t raw[FEDNS_SIGN_RAW_LEN];
	static const char nonce[] = "fedns-hello-v1\nnonce";
	assert_int_equal(fedns_sign_sign(priv, nonce, sizeof(nonce) - 1, raw, NULL, 0, NULL),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub, nonce, sizeof(nonce) - 1, raw, sizeof(raw)),
			 FEDNS_OK);
	fedns_sign_key_free(pub);
	pub = NULL;
	assert_int_equal(fedns_pki_cert_public_key_file(path("a", "spoke-west.pem"), &pub),
			 FEDNS_OK);
	assert_int_equal(fedns_sign_verify_raw(pub, nonce, sizeof(nonce) - 1, raw, sizeof(raw)),
			 FEDNS_EAUTH);
	fedns_sign_key_free(pub);
	fedns_sign_key_free(priv);
	assert_int_equal(fedns_pki_cert_public_key_file(path("a", "README"), &pub),
			 FEDNS_EMALFORMED);

	char err[256];
	assert_int_equal(
		fedns_pki_check_pair(path("a", "hub.pem"), path("a", "hub.key"), err, sizeof(err)),
		FEDNS_OK);
	assert_int_equal(fedns_pki_check_pair(path("a", "hub.pem"), path("a", "spoke-east.key"),
					      err, sizeof(err)),
			 FEDNS_EAUTH);
	assert_non_null(strstr(err, "does not belong to the certificate"));
	/* the change-set signing key is its own key, not the hub's TLS key */
	assert_int_equal(fedns_pki_check_pair(path("a", "hub.pem"), path("a", "hub-signing.key"),
					      err, sizeof(err)),
			 FEDNS_EAUTH);
}

static void
test_init_refuses_and_validates(void **state)
{
	(void)state;
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/a", base);
	struct stat before, after;
	assert_int_equal(stat(path("a", "ca.pem"), &before), 0);
	static const char *const one[] = {"east"};
	fedns_pki_init_opts o = {.dir = dir,
				 .hub_name = "hub.fedns.test",
				 .clusters = one,
				 .nclusters = 1,
				 .days = 1};
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_EEXIST);
	assert_non_null(strstr(err, "ca.pem already exists"));
	assert_int_equal(stat(path("a", "ca.pem"), &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtime, after.st_mtime);
	assert_int_equal(stat(path("a", "ca.key"), &after), 0);
	assert_int_equal(after.st_mode & 0777, 0600);

	static const char *const bad[] = {"East"};
	snprintf(dir, sizeof(dir), "%s/c", base);
	o.dir = dir;
	o.clusters = bad;
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_EINVAL);
	assert_non_null(strstr(err, "\"East\""));
	static const char *const dup[] = {"east", "east"};
	o.clusters = dup;
	o.nclusters = 2;
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_EINVAL);
	assert_non_null(strstr(err, "given twice"));
	o.clusters = one;
	o.nclusters = 1;
	o.hub_name = "hub,O=evil";
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_EINVAL);
	assert_int_equal(access(path("c", "ca.pem"), F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaves_trusted),
		cmocka_unit_test(test_other_ca_untrusted),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_crl_revoked),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_public_key_and_pair),
		cmocka_unit_test(test_init_refuses_and_validates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
