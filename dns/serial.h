/* SPDX-License-Identifier: Apache-2.0 */
/* Serial number arithmetic (RFC 1982) for 32-bit SOA serials. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum fedns_serial_order {
	FEDNS_SERIAL_LT = -1,
	FEDNS_SERIAL_EQ = 0,
	FEDNS_SERIAL_GT = 1,
	FEDNS_SERIAL_UNDEF = 2, /* a and b are exactly 2^31 apart */
} fedns_serial_order;

fedns_serial_order fedns_serial_cmp(uint32_t a, uint32_t b);
/* a > b in RFC 1982 terms (false when undefined). */
bool fedns_serial_gt(uint32_t a, uint32_t b);
/* s + n with n in [0, 2^31-1]; larger n is a programmer error (returns s). */
uint32_t fedns_serial_add(uint32_t s, uint32_t n);
/* The serial after 'cur' for a new version: cur+1, or 'wanted' when it is greater in
 * RFC 1982 terms (e.g. a date-based serial). */
uint32_t fedns_serial_next(uint32_t cur, uint32_t wanted);
