/* SPDX-License-Identifier: Apache-2.0 */
/* Mutual-TLS configuration for the hub <-> spoke nng transport (tls+tcp://): both sides
 * present a certificate and verify the peer's against the fedns CA (and CRL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "common/err.h"

/* Caps on what is read from the files (a CA bundle with a CRL stays far below this). */
#define FEDNS_NNGTLS_FILE_MAX (1024 * 1024)

/* One nng_tls_config, server or client, built from files. Immutable once built; nng
 * takes its own reference when it is set on a listener or dialer, so the fedns_nngtls
 * may be freed right after fedns_nngtls_listen / fedns_nngtls_dial. Thread-safe. */
typedef struct fedns_nngtls fedns_nngtls;

typedef struct fedns_nngtls_files {
	const char *cert_file; /* own certificate, PEM (may carry intermediates after it) */
	const char *key_file;  /* its private key, PEM; read, handed to nng, then wiped */
	const char *ca_file;   /* PEM bundle of the CAs a peer must chain to */
	const char *crl_file;  /* PEM CRLs of those CAs, or NULL */
	/* dialer only, REQUIRED: the hub's DNS name as written in its certificate. Without it
	 * mbedTLS checks the chain but not whose certificate it is. Ignored by a listener. */
	const char *server_name;
} fedns_nngtls_files;

/* A listener (hub) config: own certificate and key, peer certificates REQUIRED and checked
 * against ca_file (+ crl_file). A client config (spoke): the same plus the server name;
 * FEDNS_EINVAL when server_name is NULL or empty. Both check that the key belongs to the
 * certificate (FEDNS_EAUTH otherwise). On error nothing is allocated and err[0..errlen)
 * says which file and what was wrong (never key bytes): FEDNS_EIO unreadable,
 * FEDNS_EMALFORMED not parseable. Free with fedns_nngtls_free. */
fedns_err fedns_nngtls_server_new(const fedns_nngtls_files *f, fedns_nngtls **out, char *err,
				  size_t errlen);
fedns_err fedns_nngtls_client_new(const fedns_nngtls_files *f, fedns_nngtls **out, char *err,
				  size_t errlen);
/* Accepts NULL. Drops this module's reference; listeners/dialers keep theirs. */
void fedns_nngtls_free(fedns_nngtls *t);

/* True for a listener (hub) config, false for a client (spoke) config. */
bool fedns_nngtls_is_server(const fedns_nngtls *t);

/* The nng config, borrowed until fedns_nngtls_free (nng_tls_config_hold to keep it). */
nng_tls_config *fedns_nngtls_config(const fedns_nngtls *t);

/* Creates a listener on s for url (must be tls+tcp://, FEDNS_EINVAL otherwise) with the
 * server config t, and starts it. *out (may be NULL) is the listener, owned by the socket.
 * FEDNS_EINVAL also for a client config. Errors from nng are converted and described. */
fedns_err fedns_nngtls_listen(const fedns_nngtls *t, nng_socket s, const char *url,
			      nng_listener *out, char *err, size_t errlen);
/* Creates a dialer on s for url (tls+tcp:// only) with the client config t and starts it
 * with flags (0: wait for the first connection, including the TLS handshake, and fail if
 * it fails; NNG_FLAG_NONBLOCK: connect and reconnect in the background). */
fedns_err fedns_nngtls_dial(const fedns_nngtls *t, nng_socket s, const char *url, int flags,
			    nng_dialer *out, char *err, size_t errlen);

/* An nng error code as a fedns_err (NNG_ECRYPTO / NNG_EPEERAUTH -> FEDNS_EAUTH, ...). */
fedns_err fedns_nngtls_err(int nng_rv);
