/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: typed rdata through every entry point (text parse, wire check + print +
 * canonical form + compare, message unpack); what one entry accepts the others must
 * handle without error. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/name.h"
#include "dns/rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The types with a described format, a few unknown ones, and meta types. */
static const uint16_t types[] = {1,  2,	 5,  6,	 13, 15, 16, 28, 33, 39,  43,
				 46, 47, 48, 50, 51, 52, 63, 64, 65, 257, 999,
				 59, 60, 53, 17, 18, 21, 26, 36, 99, 0,	  251};

static uint8_t out[65535], canon[65535];

static void
print_must_work(uint16_t type, const uint8_t *rd, size_t len)
{
	fedns_buf b;
	fedns_buf_init(&b, 1 << 22);
	if (fedns_rdata_to_text(type, rd, len, &b) != FEDNS_OK)
		abort();
	fedns_buf_fini(&b);
	fedns_rdata_canonical(type, rd, len, canon);
	/* canonical form is idempotent and compares equal to itself */
	if (fedns_rdata_cmp(type, canon, len, canon, len) != 0)
		abort();
	fedns_rdata_names(type, rd, len, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint16_t type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	int mode = data[1] % 3;
	data += 2;
	size -= 2;
	size_t len = 0;
	if (mode == 0) {
		/* text: tokens split on spaces; a token starting with \x01 counts as quoted */
		fedns_token t[64];
		size_t nt = 0, i = 0;
		while (i < size && nt < 64) {
			while (i < size && data[i] == ' ')
				i++;
			if (i >= size)
				break;
			size_t st = i;
			while (i < size && data[i] != ' ')
				i++;
			bool q = data[st] == 1;
			t[nt].s = (const char *)data + st + q;
			t[nt].len = (uint32_t)(i - st - q);
			t[nt].quoted = q;
			nt++;
		}
		static const uint8_t origin[] = "\x07"
						"example";
		if (fedns_rdata_from_text(type, t, nt, origin, out, sizeof(out), &len, NULL) !=
		    FEDNS_OK)
			return 0;
		if (fedns_rdata_check(type, out, len) != FEDNS_OK)
			abort();
		print_must_work(type, out, len);
	} else if (mode == 1) {
		if (fedns_rdata_check(type, data, size) != FEDNS_OK)
			return 0;
		print_must_work(type, data, size);
	} else {
		fedns_wire w;
		fedns_wire_init(&w, data, size);
		w.off = data[0] % size;
		if (fedns_rdata_unpack(type, &w, size - w.off, out, sizeof(out), &len) ==
		    FEDNS_OK) {
			if (fedns_rdata_check(type, out, len) != FEDNS_OK)
				abort();
			print_must_work(type, out, len);
		}
	}
	return 0;
}
