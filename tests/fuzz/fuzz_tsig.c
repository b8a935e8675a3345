/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the TSIG verifier on arbitrary messages, as a server (request) and as a
 * client (answer in a chain). */
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "dns/message.h"
#include "dns/tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char keyfile[] = "key \"fuzz-key\" { algorithm hmac-sha256; secret "
			      "\"ZnV6ei1rZXktZnV6ei1rZXktZnV6ei1rZXk=\"; };\n"
			      "key \"k512\" { algorithm hmac-sha512; secret \"azUxMg==\"; };";
static fedns_tsig_keyring ring;
static bool ready;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (fedns_tsig_keyring_parse_bind(&ring, "fuzz", keyfile, strlen(keyfile), NULL) !=
		    FEDNS_OK)
			abort();
		ready = true;
	}
	fedns_arena a;
	fedns_arena_init(&a, 4096, 1 << 20);
	fedns_msg m;
	if (fedns_msg_parse(data, size, &a, &m) == FEDNS_OK) {
		fedns_tsig_ctx ctx;
		fedns_tsig_result res;
		fedns_err err =
			fedns_tsig_verify_request(data, size, &m, &ring, 1800000000, &ctx, &res);
		if (err == FEDNS_OK && (!res.sign_answer || ctx.key == NULL))
			abort();
		if (err == FEDNS_EAUTH && res.rcode == FEDNS_RCODE_NOERROR)
			abort();
		/* as a client expecting an answer signed with the first key */
		fedns_tsig_ctx cctx;
		fedns_tsig_ctx_init(&cctx, &ring.keys[0]);
		memset(cctx.mac, 0xa5, 32);
		cctx.mac_len = 32;
		(void)fedns_tsig_verify_answer(&cctx, data, size, &m, 1800000000);
		/* an error answer echoing the request's key must always build or refuse */
		uint8_t out[FEDNS_MSG_MAXLEN];
		size_t nl;
		if (size <= sizeof(out)) {
			memcpy(out, data, size);
			(void)fedns_tsig_append_unsigned(&m, out, size, sizeof(out), 17, &nl);
		}
	}
	fedns_arena_fini(&a);
	return 0;
}
