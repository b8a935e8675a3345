/* SPDX-License-Identifier: Apache-2.0 */
/* The spoke's proof that each BIND9 secondary serves exactly what was approved (DESIGN.md
 * §3 step 7): per zone and secondary, SOA until the serial matches, then AXFR back and a
 * ZONEMD SHA-384 compare; states in_sync, lagging, diverged, unreachable; a diverged
 * secondary is repaired with `rndc retransfer` and verified again. Runs in its own thread;
 * whole-zone work never touches the DNS server thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/err.h"
#include "dns/name.h"
#include "dns/tsig.h"
#include "spoke/zoneset.h"

#define SPOKE_SECONDARY_NAME_MAX 64
#define SPOKE_VERIFY_SECONDARIES_MAX 64
#define SPOKE_DIGEST_LEN 48 /* ZONEMD SHA-384 */

typedef enum spoke_verify_state {
	SPOKE_VERIFY_UNKNOWN = 0, /* not verified yet */
	SPOKE_VERIFY_IN_SYNC,	  /* serial matches and the AXFR'd bytes hash to our digest */
	SPOKE_VERIFY_LAGGING,	  /* answers, but not our serial before the deadline */
	SPOKE_VERIFY_DIVERGED,	  /* our serial, other bytes */
	SPOKE_VERIFY_UNREACHABLE, /* no answer (SOA or AXFR timed out or was cut off) */
} spoke_verify_state;

/* "unknown", "in_sync", "lagging", "diverged", "unreachable". */
const char *spoke_verify_state_name(spoke_verify_state s);

/* One BIND9 secondary: where to query and transfer from, and how to reach its rndc. */
typedef struct spoke_secondary {
	char name[SPOKE_SECONDARY_NAME_MAX];
	struct sockaddr_storage addr; /* DNS */
	socklen_t addr_len;
	const fedns_tsig_key *key; /* borrowed; TSIG for AXFR from it, NULL unsigned */
	char rndc_host[256];	   /* "" : no repair for this secondary */
	uint16_t rndc_port;	   /* 0: rndc's own default (953 or rndc.conf) */
} spoke_secondary;

/* Parses "NAME=ADDR[:PORT]" (port default 53) into s (key and rndc left empty). */
fedns_err spoke_secondary_parse(const char *arg, spoke_secondary *s, fedns_diag *d);
/* Parses "NAME=HOST[:PORT]" for an rndc endpoint; sets it on the secondary called NAME
 * among the n in list. FEDNS_ENOENT when no secondary has that name. */
fedns_err spoke_secondary_parse_rndc(const char *arg, spoke_secondary *list, size_t n,
				     fedns_diag *d);

/* The probes, injectable so the state machine can be tested without servers or clocks.
 * The default ops (spoke_verifier_default_ops) use spoke/xfrclient and rndc. */
typedef struct spoke_verify_ops {
	/* SOA serial of zone on s: FEDNS_EIO when there is no answer, FEDNS_ENOENT when the
	 * secondary does not (yet) serve the zone. */
	fedns_err (*soa)(void *ctx, const spoke_secondary *s, const uint8_t *zone, uint32_t *serial,
			 fedns_diag *d);
	/* AXFR of zone from s: its serial and ZONEMD SHA-384 digest. */
	fedns_err (*digest)(void *ctx, const spoke_secondary *s, const uint8_t *zone,
			    uint8_t digest[SPOKE_DIGEST_LEN], uint32_t *serial, fedns_diag *d);
	/* Asks s to transfer zone again from scratch (rndc retransfer). FEDNS_ENOTSUP: s
	 * cannot be repaired (no rndc configured); the divergence is reported, not counted
	 * as a repair. */
	fedns_err (*repair)(void *ctx, const spoke_secondary *s, const uint8_t *zone,
			    fedns_diag *d);
	uint64_t (*now_ms)(void *ctx);		  /* monotonic milliseconds */
	int64_t (*wall_s)(void *ctx);		  /* seconds since the epoch */
	void (*sleep_ms)(void *ctx, unsigned ms); /* a backoff pause inside a pass */
} spoke_verify_ops;

typedef struct spoke_verifier_opts {
	spoke_secondary secondaries[SPOKE_VERIFY_SECONDARIES_MAX];
	size_t nsecondaries;
	unsigned interval_s;	    /* periodic full verification (default 300) */
	unsigned coalesce_ms;	    /* new serials within this window make one pass (50) */
	unsigned deadline_ms;	    /* SOA polling before "lagging" (default 30000) */
	unsigned timeout_ms;	    /* per SOA query / AXFR budget base (default 2000) */
	unsigned retry_ms;	    /* first re-check of a pair not in sync (default 1000,
				       doubling up to the interval) */
	unsigned repair_wait_ms;    /* how long a repair may take to show (default 30000) */
	unsigned repair_backoff_ms; /* first gap between repairs that did not help (default
				       10000, doubling up to the interval) */
	/* rndc, for the default repair: argv is RNDC [-c CONF] [-k KEY] -s HOST [-p PORT]
	 * retransfer ZONE, run without a shell, killed after rndc_timeout_ms (10000). */
	const char *rndc_bin; /* default "rndc" */
	const char *rndc_conf;
	const char *rndc_key;
	unsigned rndc_timeout_ms;
	const uint8_t *skip_origin; /* not verified (the catalog zone), may be NULL */
} spoke_verifier_opts;

void spoke_verifier_opts_default(spoke_verifier_opts *o);

/* The real probes; ctx must be the verifier's opts (pass NULL ops to _new for them). */
extern const spoke_verify_ops spoke_verifier_default_ops;

/* Runs `RNDC ... retransfer ZONE` for s as the default repair does (exposed for tests). */
fedns_err spoke_verifier_rndc(const spoke_verifier_opts *o, const spoke_secondary *s,
			      const uint8_t *zone, fedns_diag *d);

typedef struct spoke_verifier spoke_verifier;

/* Makes a verifier over zs (borrowed, outlives it). ops NULL: default ops with the
 * verifier's own opts as ctx. opts is copied (keys and strings stay borrowed). */
fedns_err spoke_verifier_new(const spoke_verifier_opts *opts, spoke_zoneset *zs,
			     const spoke_verify_ops *ops, void *ops_ctx, spoke_verifier **out);
/* Stops the thread if running and frees everything; accepts NULL. */
void spoke_verifier_free(spoke_verifier *v);
/* fn(ctx) is called, from the verifier's thread and without its lock, after a row of the
 * status table may have changed (a check settled, a secondary answered another serial),
 * so a reader can look at spoke_verifier_status then instead of
 * polling it. Set before spoke_verifier_start. */
void spoke_verifier_set_listener(spoke_verifier *v, void (*fn)(void *ctx), void *ctx);
/* Starts the verifier thread (first full verification at once). */
fedns_err spoke_verifier_start(spoke_verifier *v);
/* Tells the verifier a zone has a new serial; passes are coalesced. Thread-safe, never
 * blocks on verification work. */
void spoke_verifier_zone_changed(spoke_verifier *v, const uint8_t *origin, uint32_t serial);
/* Schedules a full verification of every zone now. Thread-safe. */
void spoke_verifier_verify_all(spoke_verifier *v);

/* Runs every pass that is due at ops->now_ms, synchronously; returns how many (zone,
 * secondary) pairs were checked and sets *next_ms to when the next one is due. The
 * thread's body; tests call it directly instead of starting the thread. */
size_t spoke_verifier_run_due(spoke_verifier *v, uint64_t *next_ms);

/* One (zone, secondary) row of the status table. */
typedef struct spoke_verify_row {
	uint8_t zone[FEDNS_NAME_MAXLEN];
	char secondary[SPOKE_SECONDARY_NAME_MAX];
	spoke_verify_state state;
	uint32_t serial;      /* the spoke's serial when last checked */
	bool have_seen;	      /* serial_seen is valid */
	uint32_t serial_seen; /* what the secondary answered */
	bool have_digest;     /* digest_seen is valid */
	uint8_t digest_seen[SPOKE_DIGEST_LEN];
	int64_t last_check;   /* epoch seconds, 0 never */
	int64_t last_ok;      /* epoch seconds its bytes were last proven, 0 never */
	int64_t lag_ms;	      /* new serial -> confirmed, -1 not measured */
	unsigned repairs;     /* repairs run */
	unsigned repairs_ok;  /* repairs after which the bytes matched */
	char last_error[256]; /* "" none */
} spoke_verify_row;

/* Copies the table (malloc'd, free with free()), sorted by zone then secondary order.
 * Thread-safe; never waits for a pass to finish. */
size_t spoke_verifier_status(spoke_verifier *v, spoke_verify_row **out);
/* One line per row: ZONE SECONDARY STATE serial=N seen=N|- lag_ms=N|- last_ok=TIME|never
 * repairs=N/OK digest=HEX|- error="..." */
void spoke_verify_row_format(const spoke_verify_row *r, fedns_buf *b);
