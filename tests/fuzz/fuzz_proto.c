/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: proto/msg decoding of arbitrary bytes as an envelope and as a signed
 * payload; whatever decodes must re-encode, decode again to an equal message, and encode
 * to the same bytes a second time. */
#include <stdlib.h>
#include <string.h>

#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fedns_proto_limits lim = {.max_msg = 1 << 20, .max_mem = 64 << 20};

static void
check_body(const uint8_t *data, size_t size)
{
	fedns_proto_body *b = NULL, *b2 = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	if (fedns_proto_body_decode(data, size, &lim, &b, &d) != FEDNS_OK) {
		if (b != NULL || d.msg[0] == '\0')
			abort();
		return;
	}
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len = 0, len2 = 0;
	if (fedns_proto_body_encode(b, &enc, &len) != FEDNS_OK)
		abort();
	if (fedns_proto_body_decode(enc, len, &lim, &b2, &d) != FEDNS_OK)
		abort();
	if (!fedns_proto_body_equal(b, b2))
		abort();
	if (fedns_proto_body_encode(b2, &enc2, &len2) != FEDNS_OK || len != len2 ||
	    memcmp(enc, enc2, len) != 0)
		abort();
	free(enc);
	free(enc2);
	fedns_proto_body_free(b);
	fedns_proto_body_free(b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fedns_proto_msg *m = NULL, *m2 = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	check_body(data, size);
	if (fedns_proto_decode(data, size, &lim, &m, &d) != FEDNS_OK) {
		if (m != NULL || d.msg[0] == '\0')
			abort();
		return 0;
	}
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len = 0, len2 = 0;
	if (fedns_proto_encode(m, &enc, &len) != FEDNS_OK)
		abort();
	if (fedns_proto_decode(enc, len, &lim, &m2, &d) != FEDNS_OK)
		abort();
	if (!fedns_proto_msg_equal(m, m2))
		abort();
	if (fedns_proto_encode(m2, &enc2, &len2) != FEDNS_OK || len != len2 ||
	    memcmp(enc, enc2, len) != 0)
		abort();
	if (m->type == FEDNS_PROTO_SIGNED)
		check_body(m->u.signed_blob.payload.data, m->u.signed_blob.payload.len);
	free(enc);
	free(enc2);
	fedns_proto_msg_free(m);
	fedns_proto_msg_free(m2);
	return 0;
}
