/* SPDX-License-Identifier: Apache-2.0 */
/* Domain names: presentation <-> wire, compare, canonical order (RFC 1035, RFC 4034 §6.1). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/err.h"

/* A name in fedns is its uncompressed wire form: length-prefixed labels ending with the
 * zero-length root label, case preserved, at most FEDNS_NAME_MAXLEN bytes in total.
 * Functions taking 'const uint8_t *name' require a valid name (one that came out of
 * fedns_name_from_text, fedns_name_unpack or fedns_name_check). */
#define FEDNS_NAME_MAXLEN 255
#define FEDNS_LABEL_MAXLEN 63
#define FEDNS_NAME_MAXLABELS 128
/* Longest presentation form: every octet as \DDD plus dots. */
#define FEDNS_NAME_MAXTEXT (FEDNS_NAME_MAXLEN * 4 + 2)

/* Parses presentation text s[0..len) (not NUL-terminated). "@" is the origin; a name
 * without a trailing dot is relative and gets 'origin' appended (origin NULL: relative
 * names are an error). Escapes: \X and \DDD (000-255). Enforces 63/255.
 * On success writes the name to out and its length to *outlen. On failure returns
 * FEDNS_ESYNTAX or FEDNS_ETOOBIG and says why in d (which may be NULL). Thread-safe. */
fedns_err fedns_name_from_text(const char *s, size_t len, const uint8_t *origin,
			       uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen, fedns_diag *d);

/* Writes the absolute presentation form (trailing dot, "." for the root, escapes for
 * '.', '\\', '"', '(', ')', ';', '@', '$', space and non-printables as \DDD) into out,
 * NUL-terminated. Returns the length, or 0 if outsz is too small (then out is ""). */
size_t fedns_name_to_text(const uint8_t *name, char *out, size_t outsz);

/* Checks that buf[0..len) starts with a valid uncompressed name; returns its length
 * or 0 when invalid. Never reads past len. */
size_t fedns_name_check(const uint8_t *buf, size_t len);

/* Wire length of a valid name (including the root label). */
size_t fedns_name_len(const uint8_t *name);
/* Number of labels, not counting the root. */
size_t fedns_name_labels(const uint8_t *name);
bool fedns_name_is_root(const uint8_t *name);
/* Case-insensitive equality (ASCII letters only, per RFC 4343). */
bool fedns_name_equal(const uint8_t *a, const uint8_t *b);
/* True when 'name' equals 'parent' or is below it. */
bool fedns_name_is_subdomain(const uint8_t *name, const uint8_t *parent);
/* Canonical order (RFC 4034 §6.1): <0, 0, >0. */
int fedns_name_cmp_canonical(const uint8_t *a, const uint8_t *b);
/* Lowercases ASCII letters in place. */
void fedns_name_tolower(uint8_t *name);
/* Copies a name; returns its length. */
size_t fedns_name_copy(uint8_t *dst, const uint8_t *src);
/* Case-insensitive hash (stable within one process). */
uint64_t fedns_name_hash(const uint8_t *name);

/* Order-preserving key: memcmp of two keys orders their names canonically. Labels in
 * reverse order, lowercased, each ended by 0x00, with octets 0x00/0x01 escaped as
 * 0x01 0x01 / 0x01 0x02. At most FEDNS_NAME_KEYMAX bytes. Returns the key length. */
#define FEDNS_NAME_KEYMAX (FEDNS_NAME_MAXLEN * 2)
size_t fedns_name_sortkey(const uint8_t *name, uint8_t key[FEDNS_NAME_KEYMAX]);

/* Pointer to the name with the first 'n' labels removed (n <= labels). */
const uint8_t *fedns_name_skip_labels(const uint8_t *name, size_t n);

/* Concatenates relative prefix (labels without root, plen bytes) and suffix (a name).
 * FEDNS_ETOOBIG when the result exceeds 255. */
fedns_err fedns_name_concat(const uint8_t *prefix, size_t plen, const uint8_t *suffix,
			    uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen);

#include "dns/wire.h"

/* Reads a possibly compressed name at the cursor (RFC 1035 §4.1.4): pointers must point
 * strictly backwards (before the start of the name being read), so loops and forward
 * pointers are refused with FEDNS_EMALFORMED; limits give FEDNS_ETOOBIG. The cursor moves
 * past the name as it appears at the cursor (2 bytes for a pointer). On failure w->err is
 * set and out is unspecified. Thread-safe. */
fedns_err fedns_name_unpack(fedns_wire *w, uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen);
