/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 for fedns: the dev PKI `fednsctl pki init` writes, and checking production
 * material (CA bundle, leaf certificate, optional CRL) loaded from files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tls/sign.h"

#define FEDNS_PKI_CLUSTERS_MAX 64
#define FEDNS_PKI_NAME_MAX 63	 /* a cluster name is one DNS label: [a-z0-9-] */
#define FEDNS_PKI_CN_MAX 64	 /* X.520 ub-common-name */
#define FEDNS_PKI_REASON_MAX 256 /* one line of text */

/* What `pki init` makes. days < 1 makes a window that ended days*24h (at least 24h) ago:
 * only tests want that (expired material). */
typedef struct fedns_pki_init_opts {
	const char *dir;
	const char *hub_name;	     /* DNS name in the hub certificate's SAN and CN */
	const char *const *clusters; /* spoke cluster names, one certificate each */
	size_t nclusters;
	int days;
	bool force; /* replace existing material in dir */
} fedns_pki_init_opts;

/* Writes dir/ca.pem ca.key hub.pem hub.key spoke-<cluster>.pem .key hub-signing.key
 * hub-signing.pub README (keys mode 0600, the rest 0644), creating dir (0700) if needed.
 * Everything is generated before the first file is written; a write failure removes the
 * files this call wrote. FEDNS_EEXIST (and nothing written) when any of those files
 * exists and !force; FEDNS_EINVAL for a bad name or option. err[0..errlen) gets one line
 * saying what failed and where. */
fedns_err fedns_pki_init(const fedns_pki_init_opts *o, char *err, size_t errlen);

/* Outcome of a chain check. */
typedef enum fedns_pki_status {
	FEDNS_PKI_TRUSTED = 0,
	FEDNS_PKI_UNTRUSTED,   /* not issued by the CA (or a bad signature) */
	FEDNS_PKI_EXPIRED,     /* outside its validity window, or the CA is */
	FEDNS_PKI_REVOKED,     /* listed in the CA's CRL */
	FEDNS_PKI_CRL_INVALID, /* the CRL is not the CA's, is expired or badly signed */
	FEDNS_PKI_WRONG_USAGE, /* extended key usage does not allow the role */
} fedns_pki_status;

/* The role the certificate is checked for (its extendedKeyUsage). */
typedef enum fedns_pki_usage {
	FEDNS_PKI_USAGE_ANY = 0,
	FEDNS_PKI_USAGE_SERVER, /* serverAuth: the hub */
	FEDNS_PKI_USAGE_CLIENT, /* clientAuth: a spoke */
} fedns_pki_usage;

typedef struct fedns_pki_verdict {
	fedns_pki_status status;
	char cn[FEDNS_PKI_CN_MAX + 1];	       /* subject CN of the leaf ("" when none) */
	char reason[FEDNS_PKI_REASON_MAX + 1]; /* why, for logs and operators */
} fedns_pki_verdict;

/* Checks the leaf certificate (the first in cert_pem[0..len), PEM or DER) against the
 * CA certificates in ca_file (a PEM bundle) and, when crl_file is not NULL, the CRLs in
 * crl_file. A CRL is only honoured when it is issued and signed by a CA in ca_file and is
 * current: a revocation list that cannot be trusted fails the check (CRL_INVALID) rather
 * than being ignored. Returns FEDNS_OK when v->status is TRUSTED, FEDNS_EAUTH for any
 * other verdict, FEDNS_EIO / FEDNS_EMALFORMED when a file cannot be read or parsed (then
 * v->status is UNTRUSTED and v->reason names the file). */
fedns_err fedns_pki_verify_pem(const char *cert_pem, size_t len, const char *ca_file,
			       const char *crl_file, fedns_pki_usage usage, fedns_pki_verdict *v);
fedns_err fedns_pki_verify_file(const char *cert_file, const char *ca_file, const char *crl_file,
				fedns_pki_usage usage, fedns_pki_verdict *v);

/* The P-256 public key of a certificate (PEM or DER), e.g. to check a spoke's signature
 * over a hub challenge. FEDNS_ENOTSUP for another key type. */
fedns_err fedns_pki_cert_public_key(const char *cert_pem, size_t len, fedns_sign_key **out);
fedns_err fedns_pki_cert_public_key_file(const char *cert_file, fedns_sign_key **out);

/* The notAfter of a certificate (the first in cert_pem[0..len), PEM or DER) in seconds
 * since the epoch (UTC), e.g. for certificate expiry metrics. FEDNS_EMALFORMED when it
 * does not parse; the _file form FEDNS_EIO when the file cannot be read. */
fedns_err fedns_pki_cert_not_after(const char *cert_pem, size_t len, int64_t *unix_s);
fedns_err fedns_pki_cert_not_after_file(const char *cert_file, int64_t *unix_s);

/* Production material (cert-manager's tls.crt / tls.key): checks the private key in
 * key_file belongs to the certificate in cert_file. FEDNS_EAUTH when it does not. */
fedns_err fedns_pki_check_pair(const char *cert_file, const char *key_file, char *err,
			       size_t errlen);
