/* SPDX-License-Identifier: Apache-2.0 */
/* Mutual-TLS nng_tls_config from certificate, key, CA and CRL files (nng's TLS API stays
 * here). */
#include "tls/nngtls.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/tls/tls.h>

#include "common/file.h"
#include "common/sha2.h"
#include "tls/pki.h"

struct fedns_nngtls {
	nng_tls_config *cfg;
	bool server;
};

__attribute__((format(printf, 4, 5))) static fedns_err
fail(char *err, size_t errlen, fedns_err code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

fedns_err
fedns_nngtls_err(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return FEDNS_OK;
	case NNG_ENOMEM:
		return FEDNS_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return FEDNS_EINVAL;
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH:
		return FEDNS_EAUTH;
	case NNG_EPERM:
		return FEDNS_EACCES;
	default:
		return FEDNS_EIO;
	}
}

/* Reads a PEM file (NUL-terminated, as nng wants); what = "certificate", "CA bundle"... */
static fedns_err
read_pem(const char *what, const char *file, char **out, size_t *len, char *err, size_t errlen)
{
	if (file == NULL || file[0] == '\0')
		return fail(err, errlen, FEDNS_EINVAL, "tls: no %s file given", what);
	fedns_err rc = fedns_file_read(file, FEDNS_NNGTLS_FILE_MAX, out, len, NULL);
	if (rc != FEDNS_OK)
		return fail(err, errlen, rc == FEDNS_ETOOBIG ? FEDNS_ETOOBIG : FEDNS_EIO,
			    "tls: %s file %s: cannot read: %s", what, file, fedns_strerror(rc));
	return FEDNS_OK;
}

static fedns_err
build(const fedns_nngtls_files *f, bool server, fedns_nngtls **out, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (f == NULL || out == NULL)
		return fail(err, errlen, FEDNS_EINVAL, "tls: no files given");
	if (!server && (f->server_name == NULL || f->server_name[0] == '\0'))
		return fail(err, errlen, FEDNS_EINVAL,
			    "tls: a dialer needs the hub's server name, or the hub's certificate "
			    "would be accepted for any name");
	fedns_err rc;
	char *cert = NULL, *key = NULL, *ca = NULL, *crl = NULL;
	size_t certlen = 0, keylen = 0, calen = 0, crllen = 0;
	nng_tls_config *cfg = NULL;
	fedns_nngtls *t = NULL;
	int rv;

	if ((rc = read_pem("certificate", f->cert_file, &cert, &certlen, err, errlen)) !=
		    FEDNS_OK ||
	    (rc = read_pem("private key", f->key_file, &key, &keylen, err, errlen)) != FEDNS_OK ||
	    (rc = read_pem("CA bundle", f->ca_file, &ca, &calen, err, errlen)) != FEDNS_OK)
		goto out;
	if (f->crl_file != NULL &&
	    (rc = read_pem("CRL", f->crl_file, &crl, &crllen, err, errlen)) != FEDNS_OK)
		goto out;
	/* mbedTLS would only notice a key that is not the certificate's in the handshake */
	if ((rc = fedns_pki_check_pair(f->cert_file, f->key_file, err, errlen)) != FEDNS_OK)
		goto out;

	if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) !=
	    0) {
		rc = fail(err, errlen, fedns_nngtls_err(rv), "tls: config: %s", nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_ca_chain(cfg, ca, crl)) != 0) {
		rc = fail(err, errlen, FEDNS_EMALFORMED, "tls: CA bundle %s%s%s: %s", f->ca_file,
			  crl != NULL ? " or CRL " : "", crl != NULL ? f->crl_file : "",
			  nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		rc = fail(err, errlen, FEDNS_EMALFORMED, "tls: certificate %s or key %s: %s",
			  f->cert_file, f->key_file, nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
		rc = fail(err, errlen, fedns_nngtls_err(rv), "tls: auth mode: %s",
			  nng_strerror(rv));
		goto out;
	}
	if (!server && (rv = nng_tls_config_server_name(cfg, f->server_name)) != 0) {
		rc = fail(err, errlen, fedns_nngtls_err(rv), "tls: server name \"%s\": %s",
			  f->server_name, nng_strerror(rv));
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = fail(err, errlen, FEDNS_ENOMEM, "tls: out of memory");
		goto out;
	}
	t->cfg = cfg;
	t->server = server;
	cfg = NULL;
	*out = t;
	rc = FEDNS_OK;
out:
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	if (key != NULL) {
		fedns_secure_zero(key, keylen);
		free(key);
	}
	free(cert);
	free(ca);
	free(crl);
	return rc;
}

fedns_err
fedns_nngtls_server_new(const fedns_nngtls_files *f, fedns_nngtls **out, char *err, size_t errlen)
{
	return build(f, true, out, err, errlen);
}

fedns_err
fedns_nngtls_client_new(const fedns_nngtls_files *f, fedns_nngtls **out, char *err, size_t errlen)
{
	return build(f, false, out, err, errlen);
}

void
fedns_nngtls_free(fedns_nngtls *t)
{
	if (t == NULL)
		return;
	nng_tls_config_free(t->cfg);
	free(t);
}

bool
fedns_nngtls_is_server(const fedns_nngtls *t)
{
	return t != NULL && t->server;
}

nng_tls_config *
fedns_nngtls_config(const fedns_nngtls *t)
{
	return t != NULL ? t->cfg : NULL;
}

static bool
is_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+tcp://", 10) == 0;
}

fedns_err
fedns_nngtls_listen(const fedns_nngtls *t, nng_socket s, const char *url, nng_listener *out,
		    char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (t == NULL || !t->server)
		return fail(err, errlen, FEDNS_EINVAL, "tls: listening needs a server config");
	if (!is_tls_url(url))
		return fail(err, errlen, FEDNS_EINVAL, "tls: listen address %s is not tls+tcp://",
			    url != NULL ? url : "(none)");
	nng_listener l;
	int rv;
	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return fail(err, errlen, fedns_nngtls_err(rv), "tls: listen %s: %s", url,
			    nng_strerror(rv));
	if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, t->cfg)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		return fail(err, errlen, fedns_nngtls_err(rv), "tls: listen %s: %s", url,
			    nng_strerror(rv));
	}
	if (out != NULL)
		*out = l;
	return FEDNS_OK;
}

fedns_err
fedns_nngtls_dial(const fedns_nngtls *t, nng_socket s, const char *url, int flags, nng_dialer *out,
		  char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (t == NULL || t->server)
		return fail(err, errlen, FEDNS_EINVAL, "tls: dialing needs a client config");
	if (!is_tls_url(url))
		return fail(err, errlen, FEDNS_EINVAL, "tls: hub address %s is not tls+tcp://",
			    url != NULL ? url : "(none)");
	nng_dialer d;
	int rv;
	if ((rv = nng_dialer_create(&d, s, url)) != 0)
		return fail(err, errlen, fedns_nngtls_err(rv), "tls: dial %s: %s", url,
			    nng_strerror(rv));
	if ((rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, t->cfg)) != 0 ||
	    (rv = nng_dialer_start(d, flags)) != 0) {
		nng_dialer_close(d);
		return fail(err, errlen, fedns_nngtls_err(rv), "tls: dial %s: %s", url,
			    nng_strerror(rv));
	}
	if (out != NULL)
		*out = d;
	return FEDNS_OK;
}
