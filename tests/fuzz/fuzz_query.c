/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the spoke's whole request path (one UDP or TCP request in, the answer or
 * the complete transfer out). Every answer we produce must parse as a DNS message. */
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "dns/message.h"
#include "dns/xfr.h"
#include "dns/zonefile.h"
#include "spoke/dnssrv.h"
#include "spoke/zoneset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seed corpus was signed with (tests/fuzz/corpus/fuzz_query/README). */
static const char keyfile[] = "key \"fuzz-key\" { algorithm hmac-sha256; secret "
			      "\"ZnV6ei1rZXktZnV6ei1rZXktZnV6ei1rZXk=\"; };";
static const char zonetext[] = "$TTL 300\n"
			       "@ SOA ns hm 2 1 1 1 1\n"
			       "@ NS ns\n"
			       "ns A 192.0.2.1\n"
			       "www A 192.0.2.2\n"
			       "www AAAA 2001:db8::2\n"
			       "t TXT \"a\" \"b\"\n";
static const char zonetext1[] = "$TTL 300\n"
				"@ SOA ns hm 1 1 1 1 1\n"
				"@ NS ns\n"
				"ns A 192.0.2.1\n"
				"www A 192.0.2.3\n";
static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";
static const uint8_t catalog[] = "\x07"
				 "catalog\x05"
				 "fedns";

static spoke_zoneset *zs;
static fedns_tsig_keyring ring;

static fedns_zone *
load(const char *text)
{
	fedns_zone *z = NULL;
	fedns_zonefile_opts o = {.origin = origin};
	if (fedns_zone_new(origin, 1, NULL, &z) != FEDNS_OK ||
	    fedns_zonefile_parse("fuzz", text, strlen(text), &o, z, NULL) != FEDNS_OK ||
	    fedns_zone_finish(z, NULL, NULL) != FEDNS_OK)
		abort();
	return z;
}

static void
setup(void)
{
	if (fedns_tsig_keyring_parse_bind(&ring, "fuzz", keyfile, strlen(keyfile), NULL) !=
	    FEDNS_OK)
		abort();
	spoke_zoneset_opts o = {.catalog_origin = catalog};
	if (spoke_zoneset_new(&o, &zs) != FEDNS_OK)
		abort();
	/* two versions so IXFR has a journal entry (serial 1 -> 2) */
	if (spoke_zoneset_put(zs, load(zonetext1), NULL) != FEDNS_OK ||
	    spoke_zoneset_put(zs, load(zonetext), NULL) != FEDNS_OK)
		abort();
}

static void
must_parse(const uint8_t *buf, size_t len)
{
	fedns_arena a;
	fedns_arena_init(&a, 4096, 0);
	fedns_msg m;
	if (fedns_msg_parse(buf, len, &a, &m) != FEDNS_OK)
		abort();
	fedns_arena_fini(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (zs == NULL)
		setup();
	if (size < 1)
		return 0;
	bool udp = data[0] & 1;
	bool require = (data[0] & 2) == 0;
	uint8_t *ans = malloc(FEDNS_MSG_MAXLEN + FEDNS_TSIG_MAXLEN);
	if (ans == NULL)
		return 0;
	size_t alen = 0;
	spoke_query_xfr xfr;
	memset(&xfr, 0, sizeof(xfr));
	spoke_dnssrv_stats st;
	memset(&st, 0, sizeof(st));
	/* a fixed clock near the seeds' signing time */
	int r = spoke_query_handle(zs, &ring, require, data + 1, size - 1, udp, 1800000000, ans,
				   FEDNS_MSG_MAXLEN + FEDNS_TSIG_MAXLEN, &alen, &xfr, &st);
	if (r == 1) {
		if (udp && alen > 65535)
			abort();
		must_parse(ans, alen);
	} else if (r == 2) {
		if (udp)
			abort(); /* transfers never go over UDP */
		bool last = false;
		for (int i = 0; i < 1000 && !last; i++) {
			fedns_xfr_out *xo = xfr.out;
			if (fedns_xfr_out_next(xo, ans, FEDNS_MSG_MAXLEN, &alen, &last) != FEDNS_OK)
				abort();
			if (xfr.signed_ && fedns_tsig_sign(&xfr.tsig, ans, alen,
							   FEDNS_MSG_MAXLEN + FEDNS_TSIG_MAXLEN,
							   1800000000, 0, &alen) != FEDNS_OK)
				abort();
			must_parse(ans, alen);
		}
		if (!last)
			abort();
		spoke_query_xfr_fini(&xfr);
	}
	free(ans);
	return 0;
}
