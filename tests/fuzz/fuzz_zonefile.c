/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: master-file parser on arbitrary bytes; accepted zones must print and re-parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "dns/name.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t origin[] = "\x07"
				"example";

/* Parses and validates text as zone "example."; NULL when either step refuses it. */
static fedns_zone *
load(const char *text, size_t len)
{
	fedns_zone *z = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	if (fedns_zone_new(origin, 1, NULL, &z) != FEDNS_OK)
		abort();
	fedns_zonefile_opts opts = {.origin = origin};
	if (fedns_zonefile_parse("fuzz.zone", text, len, &opts, z, &d) != FEDNS_OK) {
		/* A refusal must say what and where. */
		if (d.code == FEDNS_OK || d.msg[0] == '\0' || d.file[0] == '\0')
			abort();
		fedns_zone_free(z);
		return NULL;
	}
	if (fedns_zone_finish(z, NULL, NULL) != FEDNS_OK) {
		fedns_zone_free(z);
		return NULL;
	}
	return z;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t o[FEDNS_NAME_MAXLEN];
	size_t olen;
	fedns_diag d;
	fedns_diag_clear(&d);
	(void)fedns_zonefile_origin((const char *)data, size, o, &olen, &d);

	fedns_zone *z = load((const char *)data, size);
	if (z == NULL)
		return 0;
	fedns_buf b;
	fedns_buf_init(&b, 0);
	if (fedns_zone_print(z, &b) != FEDNS_OK)
		abort();
	fedns_zone *z2 = load((const char *)b.data, b.len);
	if (z2 == NULL || fedns_zone_rr_count(z2) != fedns_zone_rr_count(z))
		abort();
	/* The printed form is canonical: printing the re-parsed zone gives the same bytes. */
	fedns_buf b2;
	fedns_buf_init(&b2, 0);
	if (fedns_zone_print(z2, &b2) != FEDNS_OK || b2.len != b.len ||
	    memcmp(b2.data, b.data, b.len) != 0)
		abort();
	fedns_buf_fini(&b2);
	fedns_buf_fini(&b);
	fedns_zone_free(z2);
	fedns_zone_free(z);
	return 0;
}
