/* SPDX-License-Identifier: Apache-2.0 */
/* Catalog zones (RFC 9432, schema version 2): the zone that tells secondaries which
 * member zones to carry. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "dns/name.h"
#include "dns/zone.h"

/* Stable member label: 'm' + the first 20 hex digits of SHA-256 over the member's
 * lowercased wire name, so a member keeps its label across restarts and hosts and a
 * re-added zone is the same member (RFC 9432 §4.4.1 lets labels be anything unique).
 * Writes the label as a wire label (length byte + text) to out; returns its length. */
#define FEDNS_CATALOG_LABEL_LEN 21
size_t fedns_catalog_member_label(const uint8_t *member, uint8_t out[1 + FEDNS_CATALOG_LABEL_LEN]);

/* Builds the finished catalog zone 'origin' at 'serial' listing members[0..n):
 * SOA and NS "invalid." at the apex, version TXT "2", and one
 * <label>.zones.<origin> PTR <member> per member. Duplicate members are folded. */
fedns_err fedns_catalog_build(const uint8_t *origin, uint32_t serial, const uint8_t *const *members,
			      size_t n, fedns_zone **out);
