/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 1982 serial number arithmetic, SERIAL_BITS = 32. */
#include "dns/serial.h"

fedns_serial_order
fedns_serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b)
		return FEDNS_SERIAL_EQ;
	uint32_t d = b - a; /* modulo 2^32 */
	if (d == 0x80000000u)
		return FEDNS_SERIAL_UNDEF;
	/* RFC 1982 §3.2: a < b when (a < b and b - a < 2^31) or (a > b and a - b > 2^31) */
	return d < 0x80000000u ? FEDNS_SERIAL_LT : FEDNS_SERIAL_GT;
}

bool
fedns_serial_gt(uint32_t a, uint32_t b)
{
	return fedns_serial_cmp(a, b) == FEDNS_SERIAL_GT;
}

uint32_t
fedns_serial_add(uint32_t s, uint32_t n)
{
	if (n > 0x7fffffffu)
		return s;
	return s + n;
}

uint32_t
fedns_serial_next(uint32_t cur, uint32_t wanted)
{
	uint32_t next = cur + 1;
	if (fedns_serial_gt(wanted, next) && fedns_serial_gt(wanted, cur))
		return wanted;
	return next;
}
