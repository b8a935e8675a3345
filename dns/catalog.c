/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9432 v2 catalog zone construction. */
#include "dns/catalog.h"

#include <string.h>

#include "common/encode.h"
#include "common/sha2.h"
#include "dns/rdata.h"

size_t
fedns_catalog_member_label(const uint8_t *member, uint8_t out[1 + FEDNS_CATALOG_LABEL_LEN])
{
	uint8_t lower[FEDNS_NAME_MAXLEN], digest[FEDNS_SHA256_LEN];
	size_t n = fedns_name_copy(lower, member);
	fedns_name_tolower(lower);
	fedns_hash_once(FEDNS_HASH_SHA256, lower, n, digest);
	char hex[2 * FEDNS_SHA256_LEN + 1];
	fedns_hex_encode(digest, FEDNS_SHA256_LEN, hex, 0);
	out[0] = FEDNS_CATALOG_LABEL_LEN;
	out[1] = 'm';
	memcpy(out + 2, hex, FEDNS_CATALOG_LABEL_LEN - 1);
	return 1 + FEDNS_CATALOG_LABEL_LEN;
}

static fedns_err
add_rr(fedns_zone *z, const uint8_t *owner, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	fedns_rr rr = {.owner = owner,
		       .type = type,
		       .rclass = FEDNS_C_IN,
		       .ttl = 0,
		       .rdlen = (uint16_t)rdlen,
		       .rdata = rd};
	return fedns_zone_add(z, &rr, 0, 0);
}

fedns_err
fedns_catalog_build(const uint8_t *origin, uint32_t serial, const uint8_t *const *members, size_t n,
		    fedns_zone **out)
{
	static const uint8_t invalid[] = "\x07invalid";
	fedns_zone *z = NULL;
	fedns_err err = fedns_zone_new(origin, FEDNS_C_IN, NULL, &z);
	if (err != FEDNS_OK)
		return err;
	/* SOA invalid. invalid. serial 3600 600 2147483646 0 */
	uint8_t soa[2 * sizeof(invalid) + 20];
	size_t il = sizeof(invalid); /* includes the root label (the string's NUL) */
	memcpy(soa, invalid, il);
	memcpy(soa + il, invalid, il);
	uint8_t *p = soa + 2 * il;
	fedns_put_u32(p, serial);
	fedns_put_u32(p + 4, 3600);
	fedns_put_u32(p + 8, 600);
	fedns_put_u32(p + 12, 2147483646u);
	fedns_put_u32(p + 16, 0);
	err = add_rr(z, origin, FEDNS_T_SOA, soa, sizeof(soa));
	if (err == FEDNS_OK)
		err = add_rr(z, origin, FEDNS_T_NS, invalid, il);

	uint8_t name[FEDNS_NAME_MAXLEN];
	size_t nlen;
	static const uint8_t version_label[] = "\x07version";
	static const uint8_t txt2[] = {1, '2'};
	if (err == FEDNS_OK)
		err = fedns_name_concat(version_label, sizeof(version_label) - 1, origin, name,
					&nlen);
	if (err == FEDNS_OK)
		err = add_rr(z, name, FEDNS_T_TXT, txt2, sizeof(txt2));

	for (size_t i = 0; i < n && err == FEDNS_OK; i++) {
		uint8_t prefix[1 + FEDNS_CATALOG_LABEL_LEN + 6];
		size_t pl = fedns_catalog_member_label(members[i], prefix);
		memcpy(prefix + pl, "\x05zones", 6);
		pl += 6;
		err = fedns_name_concat(prefix, pl, origin, name, &nlen);
		if (err == FEDNS_OK)
			err = add_rr(z, name, FEDNS_T_PTR, members[i], fedns_name_len(members[i]));
	}
	if (err == FEDNS_OK)
		err = fedns_zone_finish(z, NULL, NULL);
	if (err != FEDNS_OK) {
		fedns_zone_free(z);
		return err;
	}
	*out = z;
	return FEDNS_OK;
}
