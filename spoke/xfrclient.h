/* SPDX-License-Identifier: Apache-2.0 */
/* DNS client side for the verifier and tests: SOA query and AXFR/IXFR from a server,
 * with TSIG, returning the zone and its ZONEMD digest. Blocking sockets with timeouts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/diag.h"
#include "common/err.h"
#include "dns/tsig.h"
#include "dns/zone.h"

typedef struct spoke_xfrclient_opts {
	struct sockaddr_storage server;
	socklen_t server_len;
	const fedns_tsig_key *key; /* NULL: unsigned */
	unsigned timeout_ms;	   /* per operation, default 5000 */
} spoke_xfrclient_opts;

/* Queries the SOA serial of 'zone' (UDP, TCP on truncation). FEDNS_ENOENT when the
 * server is not authoritative (REFUSED/NOTAUTH/NXDOMAIN), FEDNS_EIO when unreachable,
 * FEDNS_EAUTH on a TSIG failure. */
fedns_err spoke_xfrclient_soa(const spoke_xfrclient_opts *o, const uint8_t *zone, uint32_t *serial,
			      fedns_diag *d);
/* Transfers the whole zone by AXFR over TCP (every message TSIG-verified when a key is
 * set) into a finished zone (free with fedns_zone_free). */
fedns_err spoke_xfrclient_axfr(const spoke_xfrclient_opts *o, const uint8_t *zone, fedns_zone **out,
			       fedns_diag *d);
/* AXFR and the SHA-384 ZONEMD digest of what was received. */
fedns_err spoke_xfrclient_digest(const spoke_xfrclient_opts *o, const uint8_t *zone,
				 uint8_t digest[48], uint32_t *serial, fedns_diag *d);
/* Sends one NOTIFY and waits for its answer (for tests). */
fedns_err spoke_xfrclient_notify(const spoke_xfrclient_opts *o, const uint8_t *zone,
				 uint32_t serial, fedns_diag *d);
/* Parses "ADDR" or "ADDR#PORT" / "ADDR:PORT" / "[v6]:PORT" into a sockaddr. */
fedns_err spoke_parse_addr(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
			   socklen_t *len);
