/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: name decompression from arbitrary bytes and text -> wire -> text round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/name.h"
#include "dns/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every valid name must survive wire -> text -> wire unchanged, and the helpers must agree
 * with each other on it. */
static void
check_name(const uint8_t *name, size_t len)
{
	char text[FEDNS_NAME_MAXTEXT];
	char text2[FEDNS_NAME_MAXTEXT];
	uint8_t back[FEDNS_NAME_MAXLEN];
	uint8_t key[FEDNS_NAME_KEYMAX], key2[FEDNS_NAME_KEYMAX];
	uint8_t low[FEDNS_NAME_MAXLEN];
	size_t blen = 0;

	if (len == 0 || len > FEDNS_NAME_MAXLEN || fedns_name_check(name, len) != len ||
	    fedns_name_len(name) != len)
		abort();
	size_t tl = fedns_name_to_text(name, text, sizeof(text));
	if (tl == 0 || tl != strlen(text))
		abort();
	if (fedns_name_from_text(text, tl, NULL, back, &blen, NULL) != FEDNS_OK)
		abort();
	if (blen != len || memcmp(back, name, len) != 0)
		abort();
	if (fedns_name_to_text(back, text2, sizeof(text2)) != tl || strcmp(text, text2) != 0)
		abort();

	fedns_name_copy(low, name);
	fedns_name_tolower(low);
	if (!fedns_name_equal(low, name) || fedns_name_cmp_canonical(low, name) != 0 ||
	    fedns_name_hash(low) != fedns_name_hash(name))
		abort();
	size_t kl = fedns_name_sortkey(name, key);
	if (kl > FEDNS_NAME_KEYMAX || fedns_name_sortkey(low, key2) != kl ||
	    memcmp(key, key2, kl) != 0)
		abort();
	size_t labels = fedns_name_labels(name);
	if (labels > FEDNS_NAME_MAXLABELS || !fedns_name_is_subdomain(name, low) ||
	    !fedns_name_is_root(fedns_name_skip_labels(name, labels)))
		abort();
	if (labels > 0) {
		/* A parent sorts before its children, in both comparisons. */
		const uint8_t *parent = fedns_name_skip_labels(name, 1);
		size_t pkl = fedns_name_sortkey(parent, key2);
		if (fedns_name_cmp_canonical(parent, name) >= 0 || pkl >= kl ||
		    memcmp(key2, key, pkl) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\7example\3com";
	uint8_t out[FEDNS_NAME_MAXLEN];
	size_t olen = 0;

	if (size == 0)
		return 0;

	/* The first byte picks where in the rest the name starts, so pointers have room to
	 * point backwards. */
	const uint8_t *buf = data + 1;
	size_t len = size - 1;
	fedns_wire w;
	fedns_wire_init(&w, buf, len);
	w.off = len == 0 ? 0 : data[0] % len;
	size_t start = w.off;
	fedns_err err = fedns_name_unpack(&w, out, &olen);
	if (err != w.err)
		abort();
	if (err == FEDNS_OK) {
		if (w.off <= start || w.off > len)
			abort();
		check_name(out, olen);
	} else if (err != FEDNS_EMALFORMED && err != FEDNS_ETRUNC && err != FEDNS_ETOOBIG) {
		abort();
	}

	/* The whole input as presentation text. */
	fedns_diag d;
	fedns_diag_clear(&d);
	err = fedns_name_from_text((const char *)data, size, origin, out, &olen, &d);
	if (err == FEDNS_OK)
		check_name(out, olen);
	else if ((err != FEDNS_ESYNTAX && err != FEDNS_ETOOBIG) || d.code != err || d.msg[0] == 0)
		abort();
	return 0;
}
