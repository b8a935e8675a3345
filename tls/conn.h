/* SPDX-License-Identifier: Apache-2.0 */
/* One hub <-> spoke connection: length-framed protocol messages over an nng TLS stream
 * (tls+tcp://, mutual TLS from tls/nngtls). Why streams and not an nng SP socket: the hub
 * talks to many spokes at once, and the only SP pattern that lets one listening socket
 * address each peer (pair1 in polyamorous mode) silently drops a message when that peer's
 * two-deep queue is full (nng 1.5.2 src/sp/protocol/pair1/pair1_poly.c, "tx_drop"). An
 * ordered, acknowledged change stream must not lose messages, so each spoke gets its own
 * stream with real back-pressure, and fedns frames messages itself.
 *
 * Frame: a 4-byte big-endian length N (1 <= N <= max_frame), then N bytes (one encoded
 * fedns Envelope, proto/msg.h). Nothing else travels on the stream. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tls/nngtls.h"

#define FEDNS_CONN_MAX_FRAME_DEFAULT ((size_t)256 << 20) /* = proto's max_msg default */
/* An accepted peer must complete the TLS handshake and send its first bytes within this
 * (nng 1.5.2 reports a finished handshake only through data, see conn.c), or it is dropped
 * and counted as rejected. */
#define FEDNS_CONN_HANDSHAKE_MS 10000u

typedef struct fedns_conn fedns_conn;
typedef struct fedns_conn_listener fedns_conn_listener;

/* Listens on url (tls+tcp://HOST:PORT; port 0 picks a free one) with the server config t
 * (peer certificates REQUIRED and checked against its CA and CRL during the handshake).
 * t may be freed after this returns. Errors described in err (FEDNS_EINVAL for a non-TLS
 * URL or a client config, FEDNS_EIO / FEDNS_EACCES from the bind). */
fedns_err fedns_conn_listen(const fedns_nngtls *t, const char *url, fedns_conn_listener **out,
			    char *err, size_t errlen);
/* The bound TCP port (useful after port 0). */
uint16_t fedns_conn_listener_port(const fedns_conn_listener *l);
/* Waits for the next connection whose TLS handshake succeeded (a peer that fails the
 * handshake is dropped inside and never returned; its failure is counted, see below).
 * FEDNS_ECANCELED once fedns_conn_listener_close was called. Thread-safe: one thread
 * normally loops on it. nng 1.5.2 shows a finished handshake only through data, so a
 * connection is handed out once its peer's first bytes arrived (the spoke speaks first;
 * they are kept for fedns_conn_recv). */
fedns_err fedns_conn_accept(fedns_conn_listener *l, fedns_conn **out);
/* Handshakes that failed so far (other CA, revoked, no certificate...), counting peers
 * that closed or stayed silent before their first bytes (they cannot be told apart). */
uint64_t fedns_conn_listener_rejected(const fedns_conn_listener *l);
/* Replaces FEDNS_CONN_HANDSHAKE_MS for connections accepted from now on (0: the default). */
void fedns_conn_listener_set_handshake_ms(fedns_conn_listener *l, unsigned ms);
/* Makes a blocked and every later accept return FEDNS_ECANCELED. */
void fedns_conn_listener_close(fedns_conn_listener *l);
/* After close, and after the accepting thread returned. Accepts NULL. */
void fedns_conn_listener_free(fedns_conn_listener *l);

/* Connects to url with the client config t (server name set by nngtls), waiting at most
 * timeout_ms for TCP and the TLS handshake. FEDNS_EAUTH when the handshake fails (the hub's
 * certificate is not trusted or not for the server name, or it refused ours),
 * FEDNS_ETIMEDOUT, FEDNS_EIO (refused, unreachable); err says which. */
fedns_err fedns_conn_dial(const fedns_nngtls *t, const char *url, unsigned timeout_ms,
			  fedns_conn **out, char *err, size_t errlen);

/* fedns_conn_dial, then fedns_conn_send of the first frame (the spoke's Hello) within the
 * same timeout. With nng 1.5.2 the TLS handshake runs on the first I/O, so fedns_conn_dial
 * returns once TCP is connected and a refused handshake shows as FEDNS_EAUTH from the first
 * send or receive; this call reports it as its own FEDNS_EAUTH, with err saying so, and
 * *out is NULL on any failure. */
fedns_err fedns_conn_dial_send(const fedns_nngtls *t, const char *url, unsigned timeout_ms,
			       const uint8_t *first, size_t first_len, fedns_conn **out, char *err,
			       size_t errlen);

/* Caps one received frame (default FEDNS_CONN_MAX_FRAME_DEFAULT). */
void fedns_conn_set_max_frame(fedns_conn *c, size_t max_frame);

/* Sends one frame (blocks until nng took all of it or timeout_ms passed; 0 = no limit).
 * Safe to call from several threads: frames never interleave. FEDNS_EIO when the peer is
 * gone, FEDNS_ETIMEDOUT, FEDNS_ECANCELED after fedns_conn_close. */
fedns_err fedns_conn_send(fedns_conn *c, const uint8_t *msg, size_t len, unsigned timeout_ms);
/* Receives one frame into a malloc'd buffer (*out, free with free()). Waits at most
 * timeout_ms (0 = no limit): FEDNS_ETIMEDOUT leaves the connection usable only when no byte
 * of the frame had arrived yet (*partial false); any other failure means close it.
 * FEDNS_ETOOBIG for a frame over the cap or of length 0, FEDNS_EIO peer gone,
 * FEDNS_ECANCELED after fedns_conn_close. One receiving thread at a time. */
fedns_err fedns_conn_recv(fedns_conn *c, uint8_t **out, size_t *len, unsigned timeout_ms,
			  bool *partial);
/* The peer's address as "IP:PORT" / "[IPv6]:PORT" for logs ("?" if unknown). */
const char *fedns_conn_peer(const fedns_conn *c);
/* Makes blocked and later sends/receives fail with FEDNS_ECANCELED and closes the stream.
 * Idempotent, thread-safe. Bytes nng has taken but not yet written are dropped (nng 1.5.2
 * shuts TCP down at once; a send returns when nng took the bytes, and a frame sent just
 * before the close was seen lost about once in a thousand closes under load): when a last
 * frame must arrive, let the peer close first (fedns_conn_recv until FEDNS_EIO). */
void fedns_conn_close(fedns_conn *c);
/* After close and after every thread using c returned. Accepts NULL. */
void fedns_conn_free(fedns_conn *c);
