/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 over mbedTLS 2.28: issuing the dev PKI and checking chains, CRLs and key pairs. */
#include "tls/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "common/sha2.h"
#include "tls/entropy.h"

#define CERT_PEM_MAX 4096
#define KEY_PEM_MAX 512
#define FILE_NAME_MAX 96
#define CERT_FILE_MAX (1024 * 1024)
#define MAX_FILES (8 + 2 * FEDNS_PKI_CLUSTERS_MAX)
#define SERIAL_LEN 16

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One file of the PKI, held in memory until everything has been generated. */
typedef struct pki_file {
	char name[FILE_NAME_MAX];
	char *data;
	size_t len;
	mode_t mode;
} pki_file;

typedef struct pki_gen {
	mbedtls_ctr_drbg_context drbg;
	pki_file files[MAX_FILES];
	size_t nfiles;
	char not_before[16];
	char not_after[16];
} pki_gen;

static void
gen_free(pki_gen *g)
{
	for (size_t i = 0; i < g->nfiles; i++) {
		if (g->files[i].data != NULL) {
			mbedtls_platform_zeroize(g->files[i].data, g->files[i].len);
			free(g->files[i].data);
		}
	}
	mbedtls_ctr_drbg_free(&g->drbg);
}

static fedns_err
add_file(pki_gen *g, const char *name, const char *data, mode_t mode)
{
	if (g->nfiles >= MAX_FILES)
		return FEDNS_ETOOBIG;
	pki_file *f = &g->files[g->nfiles];
	size_t len = strlen(data);
	if (snprintf(f->name, sizeof(f->name), "%s", name) >= (int)sizeof(f->name))
		return FEDNS_ETOOBIG;
	f->data = malloc(len + 1);
	if (f->data == NULL)
		return FEDNS_ENOMEM;
	memcpy(f->data, data, len + 1);
	f->len = len;
	f->mode = mode;
	g->nfiles++;
	return FEDNS_OK;
}

static int
gen_key(pki_gen *g, mbedtls_pk_context *pk)
{
	int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
					  mbedtls_ctr_drbg_random, &g->drbg);
	return ret;
}

enum cert_kind {
	KIND_CA,
	KIND_HUB,
	KIND_SPOKE
};

/* subjectAltName: GeneralNames { dNSName dns [, iPAddress 127.0.0.1] } written backwards
 * into buf (mbedTLS's asn1write convention); *start gets where the DER begins. */
static int
write_san(unsigned char *buf, size_t cap, const char *dns, bool loopback, unsigned char **start)
{
	static const unsigned char lo[4] = {127, 0, 0, 1};
	unsigned char *p = buf + cap;
	size_t len = 0;
	int ret;
	if (loopback) {
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, lo, sizeof(lo)));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, sizeof(lo)));
		MBEDTLS_ASN1_CHK_ADD(
			len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
	}
	size_t n = strlen(dns);
	MBEDTLS_ASN1_CHK_ADD(len,
			     mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)dns, n));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, n));
	MBEDTLS_ASN1_CHK_ADD(len,
			     mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(
		len,
		mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	*start = p;
	return (int)len;
}

/* extKeyUsage: SEQUENCE { clientAuth [, serverAuth] }. */
static int
write_eku(unsigned char *buf, size_t cap, bool server, unsigned char **start)
{
	unsigned char *p = buf + cap;
	size_t len = 0;
	int ret;
	MBEDTLS_ASN1_CHK_ADD(len,
			     mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_CLIENT_AUTH,
						    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
	if (server)
		MBEDTLS_ASN1_CHK_ADD(
			len, mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
						    MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(
		len,
		mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	*start = p;
	return (int)len;
}

/* Issues one certificate signed by issuer_key; pem gets it NUL-terminated. */
static int
issue(pki_gen *g, enum cert_kind kind, mbedtls_pk_context *subject_key, const char *subject_dn,
      mbedtls_pk_context *issuer_key, const char *issuer_dn, const char *dns, char *pem, size_t cap)
{
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	unsigned char sbytes[SERIAL_LEN];
	unsigned char ext[512];
	unsigned char *start;
	int ret;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, subject_key);
	mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
	/* 16 random bytes, top bit clear (a positive INTEGER of exactly 16 octets) and the
	 * next one set so the length never shrinks */
	if ((ret = mbedtls_ctr_drbg_random(&g->drbg, sbytes, sizeof(sbytes))) != 0)
		goto out;
	sbytes[0] = (unsigned char)((sbytes[0] & 0x7f) | 0x40);
	if ((ret = mbedtls_mpi_read_binary(&serial, sbytes, sizeof(sbytes))) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(&crt, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_validity(&crt, g->not_before, g->not_after)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&crt, subject_dn)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&crt, issuer_dn)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0)
		goto out;
	if (kind == KIND_CA) {
		if ((ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0)) != 0 ||
		    (ret = mbedtls_x509write_crt_set_key_usage(
			     &crt, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)) != 0)
			goto out;
	} else {
		if ((ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0 ||
		    (ret = mbedtls_x509write_crt_set_key_usage(
			     &crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0)
			goto out;
		if ((ret = write_eku(ext, sizeof(ext), kind == KIND_HUB, &start)) < 0)
			goto out;
		if ((ret = mbedtls_x509write_crt_set_extension(
			     &crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
			     MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, start,
			     (size_t)ret)) != 0)
			goto out;
		if ((ret = write_san(ext, sizeof(ext), dns, kind == KIND_HUB, &start)) < 0)
			goto out;
		if ((ret = mbedtls_x509write_crt_set_extension(
			     &crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
			     MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, start,
			     (size_t)ret)) != 0)
			goto out;
	}
	ret = mbedtls_x509write_crt_pem(&crt, (unsigned char *)pem, cap, mbedtls_ctr_drbg_random,
					&g->drbg);
out:
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	return ret;
}

static bool
valid_cluster(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > FEDNS_PKI_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A host name of letters, digits, '-' and '.', labels 1..63, short enough to be a CN. */
static bool
valid_host(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > FEDNS_PKI_CN_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static fedns_err
map_mbed(int ret)
{
	switch (ret) {
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
	case MBEDTLS_ERR_X509_ALLOC_FAILED:
	case MBEDTLS_ERR_ECP_ALLOC_FAILED:
	case MBEDTLS_ERR_MPI_ALLOC_FAILED:
	case MBEDTLS_ERR_ASN1_ALLOC_FAILED:
		return FEDNS_ENOMEM;
	case MBEDTLS_ERR_PK_FILE_IO_ERROR:
	case MBEDTLS_ERR_X509_FILE_IO_ERROR:
	case MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED:
		return FEDNS_EIO;
	case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
		return FEDNS_ENOTSUP;
	default:
		return FEDNS_EMALFORMED;
	}
}

/* Makes key + certificate PEMs for one party and queues them as name.key / name.pem. */
static fedns_err
gen_party(pki_gen *g, enum cert_kind kind, const char *name, const char *subject_dn,
	  const char *dns, mbedtls_pk_context *ca_key, const char *ca_dn, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	char *cert = malloc(CERT_PEM_MAX);
	char key[KEY_PEM_MAX];
	char fname[FILE_NAME_MAX];
	fedns_err e = FEDNS_ENOMEM;
	mbedtls_pk_init(&pk);
	if (cert == NULL)
		goto out;
	int ret = gen_key(g, &pk);
	if (ret == 0)
		ret = issue(g, kind, &pk, subject_dn, ca_key != NULL ? ca_key : &pk,
			    ca_dn != NULL ? ca_dn : subject_dn, dns, cert, CERT_PEM_MAX);
	if (ret == 0)
		ret = mbedtls_pk_write_key_pem(&pk, (unsigned char *)key, sizeof(key));
	if (ret != 0) {
		e = map_mbed(ret);
		errf(err, errlen, "cannot issue the certificate of %s: mbedTLS error -0x%04x", name,
		     (unsigned)-ret);
		goto out;
	}
	snprintf(fname, sizeof(fname), "%s.pem", name);
	if ((e = add_file(g, fname, cert, 0644)) != FEDNS_OK)
		goto out;
	snprintf(fname, sizeof(fname), "%s.key", name);
	e = add_file(g, fname, key, 0600);
out:
	mbedtls_platform_zeroize(key, sizeof(key));
	free(cert);
	mbedtls_pk_free(&pk);
	return e;
}

static void
fmt_time(time_t t, char out[16])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Writes one file through a temporary name so a crash never leaves half a key. */
static fedns_err
write_one(const char *dir, const pki_file *f, char *err, size_t errlen)
{
	char path[4096], tmp[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, f->name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, f->name) >= (int)sizeof(tmp)) {
		errf(err, errlen, "%s: path too long", dir);
		return FEDNS_ETOOBIG;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, f->mode);
	if (fd < 0)
		goto fail;
	if (fchmod(fd, f->mode) != 0)
		goto fail_fd;
	size_t done = 0;
	while (done < f->len) {
		ssize_t n = write(fd, f->data + done, f->len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail_fd;
	}
	return FEDNS_OK;
fail_fd:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
fail:
	errf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
	return FEDNS_EIO;
}

static fedns_err
write_all(const pki_gen *g, const char *dir, char *err, size_t errlen)
{
	for (size_t i = 0; i < g->nfiles; i++) {
		fedns_err e = write_one(dir, &g->files[i], err, errlen);
		if (e != FEDNS_OK) {
			char path[4096];
			for (size_t j = 0; j < i; j++) {
				snprintf(path, sizeof(path), "%s/%s", dir, g->files[j].name);
				unlink(path);
			}
			return e;
		}
	}
	return FEDNS_OK;
}

static fedns_err
gen_signing(pki_gen *g, char *keyid, char *err, size_t errlen)
{
	fedns_sign_key *k = NULL;
	char pem[FEDNS_SIGN_PEM_MAX];
	fedns_err e = fedns_sign_generate(&k);
	if (e == FEDNS_OK)
		e = fedns_sign_private_pem(k, pem, sizeof(pem));
	if (e == FEDNS_OK)
		e = add_file(g, "hub-signing.key", pem, 0600);
	if (e == FEDNS_OK)
		e = fedns_sign_public_pem(k, pem, sizeof(pem));
	if (e == FEDNS_OK)
		e = add_file(g, "hub-signing.pub", pem, 0644);
	if (e == FEDNS_OK)
		e = fedns_sign_key_id(k, keyid);
	if (e != FEDNS_OK)
		errf(err, errlen, "cannot make the hub signing key: %s", fedns_strerror(e));
	fedns_secure_zero(pem, sizeof(pem));
	fedns_sign_key_free(k);
	return e;
}

static fedns_err
gen_readme(pki_gen *g, const fedns_pki_init_opts *o, const char *keyid)
{
	size_t cap = 2048 + o->nclusters * 256;
	char *r = malloc(cap);
	if (r == NULL)
		return FEDNS_ENOMEM;
	size_t n = 0;
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int w_ = snprintf(r + n, cap - n, __VA_ARGS__);                                    \
		if (w_ > 0)                                                                        \
			n += (size_t)w_ < cap - n ? (size_t)w_ : cap - n - 1;                      \
	} while (0)
	PUT("fedns development PKI, written by `fednsctl pki init`.\n"
	    "Valid from %.8s to %.8s (UTC). For development and tests: production material\n"
	    "comes from your own CA (e.g. cert-manager's tls.crt, tls.key, ca.crt).\n\n",
	    g->not_before, g->not_after);
	PUT("ca.pem               CA certificate (CN=fedns dev CA): the trust anchor of hub and "
	    "spokes\n");
	PUT("ca.key               CA private key: only needed to issue more certificates\n");
	PUT("hub.pem, hub.key     hub TLS certificate and key: CN and DNS %s, IP 127.0.0.1;\n"
	    "                     serverAuth and clientAuth\n",
	    o->hub_name);
	for (size_t i = 0; i < o->nclusters; i++)
		PUT("spoke-%s.pem, .key  spoke TLS certificate and key: CN=%s, O=fedns-spoke,\n"
		    "                     DNS %s.spoke.fedns; clientAuth\n",
		    o->clusters[i], o->clusters[i], o->clusters[i]);
	PUT("hub-signing.key      the hub's change-set signing key (ECDSA P-256), not a TLS key\n");
	PUT("hub-signing.pub      its public key: pin it on every spoke (key id %s)\n", keyid);
	PUT("\nKeys (*.key) are mode 0600.\n");
#undef PUT
	fedns_err e = add_file(g, "README", r, 0644);
	free(r);
	return e;
}

fedns_err
fedns_pki_init(const fedns_pki_init_opts *o, char *err, size_t errlen)
{
	errf(err, errlen, "%s", "");
	if (o == NULL || o->dir == NULL || o->hub_name == NULL ||
	    (o->nclusters > 0 && o->clusters == NULL)) {
		errf(err, errlen, "missing directory or hub name");
		return FEDNS_EINVAL;
	}
	if (!valid_host(o->hub_name)) {
		errf(err, errlen, "hub name \"%s\" is not a host name of at most %d characters",
		     o->hub_name, FEDNS_PKI_CN_MAX);
		return FEDNS_EINVAL;
	}
	if (o->nclusters > FEDNS_PKI_CLUSTERS_MAX) {
		errf(err, errlen, "at most %d clusters", FEDNS_PKI_CLUSTERS_MAX);
		return FEDNS_EINVAL;
	}
	for (size_t i = 0; i < o->nclusters; i++) {
		if (!valid_cluster(o->clusters[i])) {
			errf(err, errlen,
			     "cluster name \"%s\" is not one DNS label of [a-z0-9-] (1..%d "
			     "characters)",
			     o->clusters[i], FEDNS_PKI_NAME_MAX);
			return FEDNS_EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(o->clusters[i], o->clusters[j]) == 0) {
				errf(err, errlen, "cluster \"%s\" given twice", o->clusters[i]);
				return FEDNS_EINVAL;
			}
	}
	if (o->days > 36500) {
		errf(err, errlen, "--days %d is more than 100 years", o->days);
		return FEDNS_EINVAL;
	}

	struct stat st;
	if (stat(o->dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			errf(err, errlen, "%s: not a directory", o->dir);
			return FEDNS_EINVAL;
		}
	} else if (errno != ENOENT || mkdir(o->dir, 0700) != 0) {
		errf(err, errlen, "%s: cannot create the directory: %s", o->dir, strerror(errno));
		return FEDNS_EIO;
	}

	pki_gen *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return FEDNS_ENOMEM;
	mbedtls_ctr_drbg_init(&g->drbg);
	mbedtls_pk_context ca;
	mbedtls_pk_init(&ca);
	fedns_err e = FEDNS_OK;
	char keyid[FEDNS_SIGN_KEYID_LEN + 1];
	char dn[160], dns[FEDNS_PKI_NAME_MAX + 32];
	static const char ca_dn[] = "CN=fedns dev CA,O=fedns";
	static const char pers[] = "fedns-pki";

	time_t now = time(NULL), nb, na;
	if (o->days >= 1) {
		nb = now - 300; /* a few minutes of clock skew between machines */
		na = now + (time_t)o->days * 86400;
	} else {
		na = now - (time_t)(o->days < 0 ? -o->days : 1) * 86400;
		nb = na - 86400;
	}
	fmt_time(nb, g->not_before);
	fmt_time(na, g->not_after);

	int ret = mbedtls_ctr_drbg_seed(&g->drbg, fedns_tls_entropy, NULL,
					(const unsigned char *)pers, sizeof(pers) - 1);
	if (ret == 0)
		ret = gen_key(g, &ca);
	if (ret != 0) {
		e = map_mbed(ret);
		errf(err, errlen, "cannot make the CA key: mbedTLS error -0x%04x", (unsigned)-ret);
		goto out;
	}
	/* the CA's own key pair goes through gen_party's path except for its key: issue it
	 * self-signed here so the same key signs the leaves below */
	{
		char *cert = malloc(CERT_PEM_MAX);
		char key[KEY_PEM_MAX];
		if (cert == NULL) {
			e = FEDNS_ENOMEM;
			goto out;
		}
		ret = issue(g, KIND_CA, &ca, ca_dn, &ca, ca_dn, NULL, cert, CERT_PEM_MAX);
		if (ret == 0)
			ret = mbedtls_pk_write_key_pem(&ca, (unsigned char *)key, sizeof(key));
		if (ret == 0 && (e = add_file(g, "ca.pem", cert, 0644)) == FEDNS_OK)
			e = add_file(g, "ca.key", key, 0600);
		mbedtls_platform_zeroize(key, sizeof(key));
		free(cert);
		if (ret != 0) {
			e = map_mbed(ret);
			errf(err, errlen, "cannot issue the CA certificate: mbedTLS error -0x%04x",
			     (unsigned)-ret);
		}
		if (e != FEDNS_OK)
			goto out;
	}
	snprintf(dn, sizeof(dn), "CN=%s,O=fedns-hub", o->hub_name);
	if ((e = gen_party(g, KIND_HUB, "hub", dn, o->hub_name, &ca, ca_dn, err, errlen)) !=
	    FEDNS_OK)
		goto out;
	for (size_t i = 0; i < o->nclusters; i++) {
		char name[FILE_NAME_MAX];
		snprintf(name, sizeof(name), "spoke-%s", o->clusters[i]);
		snprintf(dn, sizeof(dn), "CN=%s,O=fedns-spoke", o->clusters[i]);
		snprintf(dns, sizeof(dns), "%s.spoke.fedns", o->clusters[i]);
		if ((e = gen_party(g, KIND_SPOKE, name, dn, dns, &ca, ca_dn, err, errlen)) !=
		    FEDNS_OK)
			goto out;
	}
	if ((e = gen_signing(g, keyid, err, errlen)) != FEDNS_OK)
		goto out;
	if ((e = gen_readme(g, o, keyid)) != FEDNS_OK)
		goto out;

	if (!o->force) {
		for (size_t i = 0; i < g->nfiles; i++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", o->dir, g->files[i].name);
			if (lstat(path, &st) == 0) {
				errf(err, errlen,
				     "%s already exists; nothing written (--force replaces the "
				     "PKI)",
				     path);
				e = FEDNS_EEXIST;
				goto out;
			}
		}
	}
	e = write_all(g, o->dir, err, errlen);
out:
	if (e != FEDNS_OK && err != NULL && errlen > 0 && err[0] == '\0')
		errf(err, errlen, "%s", fedns_strerror(e));
	mbedtls_pk_free(&ca);
	gen_free(g);
	free(g);
	return e;
}

/* Verification. */

static void
copy_cn(const mbedtls_x509_name *n, char out[FEDNS_PKI_CN_MAX + 1])
{
	out[0] = '\0';
	for (; n != NULL; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
			continue;
		size_t len = n->val.len < FEDNS_PKI_CN_MAX ? n->val.len : FEDNS_PKI_CN_MAX;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = n->val.p[i];
			out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		out[len] = '\0';
		return;
	}
}

/* Parses certificates from PEM (NUL added here) or DER. */
static int
parse_crt(mbedtls_x509_crt *crt, const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (len - i >= 10 && memcmp(buf + i, "-----BEGIN", 10) == 0) {
		char *z = malloc(len + 1);
		if (z == NULL)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		memcpy(z, buf, len);
		z[len] = '\0';
		int ret = mbedtls_x509_crt_parse(crt, (const unsigned char *)z, len + 1);
		free(z);
		return ret;
	}
	return mbedtls_x509_crt_parse_der(crt, (const unsigned char *)buf, len);
}

static void verdict(fedns_pki_verdict *v, fedns_pki_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
verdict(fedns_pki_verdict *v, fedns_pki_status s, const char *fmt, ...)
{
	v->status = s;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static bool
crl_issuer_known(const mbedtls_x509_crl *crl, const mbedtls_x509_crt *ca)
{
	for (; ca != NULL; ca = ca->next)
		if (ca->subject_raw.len == crl->issuer_raw.len &&
		    memcmp(ca->subject_raw.p, crl->issuer_raw.p, crl->issuer_raw.len) == 0)
			return true;
	return false;
}

fedns_err
fedns_pki_verify_pem(const char *cert_pem, size_t len, const char *ca_file, const char *crl_file,
		     fedns_pki_usage usage, fedns_pki_verdict *v)
{
	if (v == NULL)
		return FEDNS_EINVAL;
	memset(v, 0, sizeof(*v));
	if (cert_pem == NULL || ca_file == NULL) {
		verdict(v, FEDNS_PKI_UNTRUSTED, "no certificate or no CA file");
		return FEDNS_EINVAL;
	}
	mbedtls_x509_crt leaf, ca;
	mbedtls_x509_crl crl;
	mbedtls_x509_crt_init(&leaf);
	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crl_init(&crl);
	fedns_err e;
	int ret = parse_crt(&leaf, cert_pem, len);
	if (ret != 0) {
		e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
		verdict(v, FEDNS_PKI_UNTRUSTED, "the certificate does not parse (-0x%04x)",
			(unsigned)(ret < 0 ? -ret : ret));
		goto out;
	}
	copy_cn(&leaf.subject, v->cn);
	ret = mbedtls_x509_crt_parse_file(&ca, ca_file);
	if (ret != 0) {
		e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
		verdict(v, FEDNS_PKI_UNTRUSTED, "%s: %s", ca_file,
			e == FEDNS_EIO ? "cannot read the CA file"
				       : "not a PEM bundle of CA certificates");
		goto out;
	}
	if (crl_file != NULL) {
		ret = mbedtls_x509_crl_parse_file(&crl, crl_file);
		if (ret != 0) {
			e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
			verdict(v, FEDNS_PKI_CRL_INVALID, "%s: %s", crl_file,
				e == FEDNS_EIO ? "cannot read the CRL file" : "not a CRL");
			goto out;
		}
		/* mbedTLS skips a CRL whose issuer is not in the chain: a CRL from the wrong
		 * CA would silently revoke nothing, so it is refused here */
		for (const mbedtls_x509_crl *c = &crl; c != NULL; c = c->next)
			if (c->version != 0 && !crl_issuer_known(c, &ca)) {
				verdict(v, FEDNS_PKI_CRL_INVALID,
					"%s: the CRL is not issued by a CA in %s", crl_file,
					ca_file);
				e = FEDNS_EAUTH;
				goto out;
			}
	}
	uint32_t flags = 0;
	ret = mbedtls_x509_crt_verify(&leaf, &ca, crl_file != NULL ? &crl : NULL, NULL, &flags,
				      NULL, NULL);
	e = FEDNS_EAUTH;
	if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_OTHER |
		     MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
		     MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_MISSING))
		verdict(v, FEDNS_PKI_UNTRUSTED, "not issued by a CA in %s (or badly signed)",
			ca_file);
	else if (flags & (MBEDTLS_X509_BADCRL_NOT_TRUSTED | MBEDTLS_X509_BADCRL_EXPIRED |
			  MBEDTLS_X509_BADCRL_FUTURE | MBEDTLS_X509_BADCRL_BAD_MD |
			  MBEDTLS_X509_BADCRL_BAD_PK | MBEDTLS_X509_BADCRL_BAD_KEY))
		verdict(v, FEDNS_PKI_CRL_INVALID, "%s: %s", crl_file != NULL ? crl_file : "CRL",
			(flags & MBEDTLS_X509_BADCRL_NOT_TRUSTED)
				? "the CRL's signature is not the CA's"
			: (flags & MBEDTLS_X509_BADCRL_EXPIRED)
				? "the CRL has expired (next update passed)"
			: (flags & MBEDTLS_X509_BADCRL_FUTURE)
				? "the CRL is not valid yet"
				: "the CRL uses an unacceptable algorithm");
	else if (flags & MBEDTLS_X509_BADCERT_REVOKED)
		verdict(v, FEDNS_PKI_REVOKED, "certificate of \"%s\" is revoked by %s", v->cn,
			crl_file != NULL ? crl_file : "the CRL");
	else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) {
		const mbedtls_x509_time *t = &leaf.valid_to;
		if (mbedtls_x509_time_is_past(&leaf.valid_to))
			verdict(v, FEDNS_PKI_EXPIRED,
				"certificate of \"%s\" expired on %04d-%02d-%02d %02d:%02d:%02d "
				"UTC",
				v->cn, t->year, t->mon, t->day, t->hour, t->min, t->sec);
		else if (mbedtls_x509_time_is_future(&leaf.valid_from))
			verdict(v, FEDNS_PKI_EXPIRED, "certificate of \"%s\" is not valid yet",
				v->cn);
		else
			verdict(v, FEDNS_PKI_EXPIRED,
				"the CA certificate in %s is outside its "
				"validity window",
				ca_file);
	} else if (ret != 0 || flags != 0)
		verdict(v, FEDNS_PKI_UNTRUSTED, "chain rejected (flags 0x%08x)", (unsigned)flags);
	else if (usage != FEDNS_PKI_USAGE_ANY &&
		 mbedtls_x509_crt_check_extended_key_usage(
			 &leaf,
			 usage == FEDNS_PKI_USAGE_SERVER ? MBEDTLS_OID_SERVER_AUTH
							 : MBEDTLS_OID_CLIENT_AUTH,
			 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != 0)
		verdict(v, FEDNS_PKI_WRONG_USAGE, "extendedKeyUsage of \"%s\" does not allow %s",
			v->cn, usage == FEDNS_PKI_USAGE_SERVER ? "serverAuth" : "clientAuth");
	else {
		verdict(v, FEDNS_PKI_TRUSTED, "issued by a CA in %s%s", ca_file,
			crl_file != NULL ? ", not revoked" : "");
		e = FEDNS_OK;
	}
out:
	mbedtls_x509_crl_free(&crl);
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&leaf);
	return e;
}

static fedns_err
read_small(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return FEDNS_EIO;
	char *b = malloc(CERT_FILE_MAX);
	if (b == NULL) {
		fclose(f);
		return FEDNS_ENOMEM;
	}
	size_t n = fread(b, 1, CERT_FILE_MAX, f);
	bool bad = ferror(f) || (n == CERT_FILE_MAX && fgetc(f) != EOF);
	fclose(f);
	if (bad) {
		free(b);
		return n == CERT_FILE_MAX ? FEDNS_ETOOBIG : FEDNS_EIO;
	}
	*out = b;
	*len = n;
	return FEDNS_OK;
}

fedns_err
fedns_pki_verify_file(const char *cert_file, const char *ca_file, const char *crl_file,
		      fedns_pki_usage usage, fedns_pki_verdict *v)
{
	if (v == NULL || cert_file == NULL)
		return FEDNS_EINVAL;
	char *buf;
	size_t len;
	fedns_err e = read_small(cert_file, &buf, &len);
	if (e != FEDNS_OK) {
		memset(v, 0, sizeof(*v));
		verdict(v, FEDNS_PKI_UNTRUSTED, "%s: cannot read the certificate: %s", cert_file,
			fedns_strerror(e));
		return e;
	}
	e = fedns_pki_verify_pem(buf, len, ca_file, crl_file, usage, v);
	free(buf);
	return e;
}

fedns_err
fedns_pki_cert_public_key(const char *cert_pem, size_t len, fedns_sign_key **out)
{
	if (cert_pem == NULL || out == NULL)
		return FEDNS_EINVAL;
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	unsigned char der[FEDNS_SIGN_SPKI_MAX * 2];
	fedns_err e;
	int ret = parse_crt(&crt, cert_pem, len);
	if (ret != 0) {
		e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
		goto out;
	}
	if (mbedtls_pk_get_type(&crt.pk) != MBEDTLS_PK_ECKEY) {
		e = FEDNS_ENOTSUP;
		goto out;
	}
	ret = mbedtls_pk_write_pubkey_der(&crt.pk, der, sizeof(der));
	if (ret < 0) {
		e = map_mbed(ret);
		goto out;
	}
	e = fedns_sign_load_public_der(der + sizeof(der) - (size_t)ret, (size_t)ret, out);
out:
	mbedtls_x509_crt_free(&crt);
	return e;
}

fedns_err
fedns_pki_cert_public_key_file(const char *cert_file, fedns_sign_key **out)
{
	if (cert_file == NULL || out == NULL)
		return FEDNS_EINVAL;
	char *buf;
	size_t len;
	fedns_err e = read_small(cert_file, &buf, &len);
	if (e != FEDNS_OK)
		return e;
	e = fedns_pki_cert_public_key(buf, len, out);
	free(buf);
	return e;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (no timegm: it is not C17). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

fedns_err
fedns_pki_cert_not_after(const char *cert_pem, size_t len, int64_t *unix_s)
{
	if (cert_pem == NULL || unix_s == NULL)
		return FEDNS_EINVAL;
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	fedns_err e = FEDNS_OK;
	int ret = parse_crt(&crt, cert_pem, len);
	if (ret != 0) {
		e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
	} else {
		const mbedtls_x509_time *t = &crt.valid_to;
		*unix_s = days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 +
			  t->hour * 3600 + t->min * 60 + t->sec;
	}
	mbedtls_x509_crt_free(&crt);
	return e;
}

fedns_err
fedns_pki_cert_not_after_file(const char *cert_file, int64_t *unix_s)
{
	if (cert_file == NULL || unix_s == NULL)
		return FEDNS_EINVAL;
	char *buf;
	size_t len;
	fedns_err e = read_small(cert_file, &buf, &len);
	if (e != FEDNS_OK)
		return e;
	e = fedns_pki_cert_not_after(buf, len, unix_s);
	free(buf);
	return e;
}

fedns_err
fedns_pki_check_pair(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	errf(err, errlen, "%s", "");
	if (cert_file == NULL || key_file == NULL)
		return FEDNS_EINVAL;
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	fedns_err e = FEDNS_OK;
	int ret = mbedtls_x509_crt_parse_file(&crt, cert_file);
	if (ret != 0) {
		e = ret < 0 ? map_mbed(ret) : FEDNS_EMALFORMED;
		errf(err, errlen, "%s: %s", cert_file,
		     e == FEDNS_EIO ? "cannot read the certificate" : "not a certificate");
		goto out;
	}
	ret = mbedtls_pk_parse_keyfile(&pk, key_file, NULL);
	if (ret != 0) {
		e = map_mbed(ret);
		errf(err, errlen, "%s: %s", key_file,
		     e == FEDNS_EIO	  ? "cannot read the key"
		     : e == FEDNS_ENOTSUP ? "encrypted or unsupported key"
					  : "not a private key");
		goto out;
	}
	if (mbedtls_pk_check_pair(&crt.pk, &pk) != 0) {
		e = FEDNS_EAUTH;
		errf(err, errlen, "%s does not belong to the certificate in %s", key_file,
		     cert_file);
	}
out:
	mbedtls_pk_free(&pk); /* zeroizes the private key */
	mbedtls_x509_crt_free(&crt);
	return e;
}
