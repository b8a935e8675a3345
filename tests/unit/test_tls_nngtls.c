/* SPDX-License-Identifier: Apache-2.0 */
/* tls/nngtls: a pair0 socket over tls+tcp:// between the dev PKI's hub (listener) and a
 * spoke (dialer) carries messages; a wrong server name, another CA's client certificate,
 * no client certificate and a client certificate the hub's CRL revokes are each refused;
 * bad files are reported by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>

#include "tls/nngtls.h"
#include "tls/pki.h"

#define HUB "hub.fedns.test"

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
	fedns_pki_init_opts o = {
		.dir = dir, .hub_name = HUB, .clusters = clusters, .nclusters = 2, .days = 30};
	assert_int_equal(fedns_pki_init(&o, err, sizeof(err)), FEDNS_OK);
}

static int
setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/test_tls_nngtls.XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	make_pki("a");
	make_pki("b");
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s/a'; mkdir -p crl; : > crl/index.txt; echo 01 > crl/crlnumber;"
		 "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=crl/index.txt\\n"
		 "crlnumber=crl/crlnumber\\ndefault_md=sha256\\ndefault_crl_days=7\\n"
		 "certificate=ca.pem\\nprivate_key=ca.key\\n' > crl/ca.cnf;"
		 "openssl ca -config crl/ca.cnf -revoke spoke-west.pem 2>/dev/null;"
		 "openssl ca -config crl/ca.cnf -gencrl -out crl/west.pem 2>/dev/null",
		 base);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	nng_fini();
	return system(cmd) == 0 ? 0 : -1;
}

/* A hub listener with a's hub certificate on a free loopback port. */
typedef struct server {
	nng_socket s;
	char url[64];
} server;

static void
server_start_crl(server *sv, const char *crl)
{
	fedns_nngtls_files f = {.cert_file = path("a", "hub.pem"),
				.key_file = path("a", "hub.key"),
				.ca_file = path("a", "ca.pem"),
				.crl_file = crl};
	fedns_nngtls *t = NULL;
	char err[512];
	assert_int_equal(fedns_nngtls_server_new(&f, &t, err, sizeof(err)), FEDNS_OK);
	assert_int_equal(nng_pair0_open(&sv->s), 0);
	assert_int_equal(nng_socket_set_ms(sv->s, NNG_OPT_RECVTIMEO, 3000), 0);
	nng_listener l;
	assert_int_equal(
		fedns_nngtls_listen(t, sv->s, "tls+tcp://127.0.0.1:0", &l, err, sizeof(err)),
		FEDNS_OK);
	/* nng holds the config now */
	fedns_nngtls_free(t);
	nng_sockaddr sa;
	assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
	snprintf(sv->url, sizeof(sv->url), "tls+tcp://127.0.0.1:%u",
		 (unsigned)ntohs(sa.s_in.sa_port));
}

static fedns_nngtls *
client(const char *pki, const char *cluster, const char *server_name)
{
	char cert[64], key[64];
	snprintf(cert, sizeof(cert), "spoke-%s.pem", cluster);
	snprintf(key, sizeof(key), "spoke-%s.key", cluster);
	fedns_nngtls_files f = {.cert_file = path(pki, cert),
				.key_file = path(pki, key),
				.ca_file = path("a", "ca.pem"),
				.server_name = server_name};
	fedns_nngtls *t = NULL;
	char err[512];
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_OK);
	assert_string_equal(err, "");
	return t;
}

static void
server_start(server *sv)
{
	server_start_crl(sv, NULL);
}

/* The server saw no message (its peer never got through). */
static void
assert_nothing_received(server *sv)
{
	assert_int_equal(nng_socket_set_ms(sv->s, NNG_OPT_RECVTIMEO, 300), 0);
	char *buf = NULL;
	size_t sz = 0;
	assert_int_equal(nng_recv(sv->s, &buf, &sz, NNG_FLAG_ALLOC), NNG_ETIMEDOUT);
}

static void
exchange(server *sv, const char *cluster)
{
	fedns_nngtls *t = client("a", cluster, HUB);
	nng_socket c;
	assert_int_equal(nng_pair0_open(&c), 0);
	assert_int_equal(nng_socket_set_ms(c, NNG_OPT_RECVTIMEO, 3000), 0);
	char err[512];
	assert_int_equal(fedns_nngtls_dial(t, c, sv->url, 0, NULL, err, sizeof(err)), FEDNS_OK);
	fedns_nngtls_free(t);

	assert_int_equal(nng_send(c, "hello hub", 10, 0), 0);
	char *buf = NULL;
	size_t sz = 0;
	assert_int_equal(nng_recv(sv->s, &buf, &sz, NNG_FLAG_ALLOC), 0);
	assert_int_equal(sz, 10);
	assert_string_equal(buf, "hello hub");
	nng_free(buf, sz);
	assert_int_equal(nng_send(sv->s, "hi spoke", 9, 0), 0);
	assert_int_equal(nng_recv(c, &buf, &sz, NNG_FLAG_ALLOC), 0);
	assert_int_equal(sz, 9);
	assert_string_equal(buf, "hi spoke");
	nng_free(buf, sz);
	nng_close(c);
}

static void
test_message_goes_through(void **state)
{
	(void)state;
	server sv;
	server_start(&sv);
	exchange(&sv, "east");
	nng_close(sv.s);
}

/* Dials synchronously with t; the dial must fail and nothing reach the hub. */
static void
assert_refused_crl(fedns_nngtls *t, const char *crl)
{
	server sv;
	server_start_crl(&sv, crl);
	nng_socket c;
	assert_int_equal(nng_pair0_open(&c), 0);
	char err[512];
	fedns_err rc = fedns_nngtls_dial(t, c, sv.url, 0, NULL, err, sizeof(err));
	assert_int_not_equal(rc, FEDNS_OK);
	assert_non_null(strstr(err, sv.url));
	/* even if a send is attempted, the hub gets nothing */
	(void)nng_send(c, "x", 1, NNG_FLAG_NONBLOCK);
	assert_nothing_received(&sv);
	nng_close(c);
	nng_close(sv.s);
}

static void
assert_refused(fedns_nngtls *t)
{
	assert_refused_crl(t, NULL);
}

/* The hub's CRL keeps a revoked spoke out while others still connect. */
static void
test_revoked_client_refused(void **state)
{
	(void)state;
	server sv;
	server_start_crl(&sv, path("a", "crl/west.pem"));
	exchange(&sv, "east");
	nng_close(sv.s);
	server_start(&sv); /* without the CRL west gets through */
	exchange(&sv, "west");
	nng_close(sv.s);
	fedns_nngtls *t = client("a", "west", HUB);
	assert_refused_crl(t, path("a", "crl/west.pem"));
	fedns_nngtls_free(t);
}

static void
test_wrong_server_name(void **state)
{
	(void)state;
	fedns_nngtls *t = client("a", "east", "other.fedns.test");
	assert_refused(t);
	fedns_nngtls_free(t);
}

static void
test_other_ca_client_refused(void **state)
{
	(void)state;
	/* b's spoke certificate; it trusts a's CA, so only the hub's check can refuse it */
	fedns_nngtls *t = client("b", "east", HUB);
	assert_refused(t);
	fedns_nngtls_free(t);
}

static void
test_no_client_cert_refused(void **state)
{
	(void)state;
	/* fedns_nngtls never builds a dialer without a certificate: make one with nng */
	nng_tls_config *cfg = NULL;
	assert_int_equal(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT), 0);
	assert_int_equal(nng_tls_config_ca_file(cfg, path("a", "ca.pem")), 0);
	assert_int_equal(nng_tls_config_server_name(cfg, HUB), 0);
	assert_int_equal(nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED), 0);
	server sv;
	server_start(&sv);
	nng_socket c;
	nng_dialer d;
	assert_int_equal(nng_pair0_open(&c), 0);
	assert_int_equal(nng_dialer_create(&d, c, sv.url), 0);
	assert_int_equal(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg), 0);
	nng_tls_config_free(cfg);
	assert_int_not_equal(nng_dialer_start(d, 0), 0);
	(void)nng_send(c, "x", 1, NNG_FLAG_NONBLOCK);
	assert_nothing_received(&sv);
	nng_close(c);
	nng_close(sv.s);
}

static void
test_config_errors(void **state)
{
	(void)state;
	char err[512];
	fedns_nngtls *t = NULL;
	fedns_nngtls_files f = {.cert_file = path("a", "spoke-east.pem"),
				.key_file = path("a", "spoke-east.key"),
				.ca_file = path("a", "ca.pem")};
	/* a dialer without a server name is refused */
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_EINVAL);
	assert_null(t);
	assert_non_null(strstr(err, "server name"));
	f.server_name = "";
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_EINVAL);
	f.server_name = HUB;
	/* a missing key file is named */
	f.key_file = path("a", "nope.key");
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_EIO);
	assert_null(t);
	assert_non_null(strstr(err, "nope.key"));
	assert_non_null(strstr(err, "private key"));
	/* a key that is not the certificate's is refused without showing key bytes */
	f.key_file = path("a", "spoke-west.key");
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_EAUTH);
	assert_null(t);
	assert_non_null(strstr(err, "spoke-west.key"));
	assert_null(strstr(err, "PRIVATE"));
	/* a CA file that is not PEM */
	f.key_file = path("a", "spoke-east.key");
	f.ca_file = path("a", "README");
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_EMALFORMED);
	assert_non_null(strstr(err, "README"));
	assert_null(t);

	/* plaintext and mismatched roles are refused */
	f.ca_file = path("a", "ca.pem");
	assert_int_equal(fedns_nngtls_client_new(&f, &t, err, sizeof(err)), FEDNS_OK);
	nng_socket s;
	assert_int_equal(nng_pair0_open(&s), 0);
	assert_int_equal(fedns_nngtls_dial(t, s, "tcp://127.0.0.1:1", 0, NULL, err, sizeof(err)),
			 FEDNS_EINVAL);
	assert_non_null(strstr(err, "tcp://127.0.0.1:1"));
	assert_int_equal(fedns_nngtls_listen(t, s, "tls+tcp://127.0.0.1:0", NULL, err, sizeof(err)),
			 FEDNS_EINVAL);
	assert_non_null(strstr(err, "server config"));
	nng_close(s);
	fedns_nngtls_free(t);
	fedns_nngtls_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_goes_through),
		cmocka_unit_test(test_wrong_server_name),
		cmocka_unit_test(test_revoked_client_refused),
		cmocka_unit_test(test_other_ca_client_refused),
		cmocka_unit_test(test_no_client_cert_refused),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
