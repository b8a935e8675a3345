/* SPDX-License-Identifier: Apache-2.0 */
/* Domain names: presentation <-> wire, compare, canonical order, sort keys, decompression. */
#include "dns/name.h"

#include <string.h>

/* A table keeps the hot loops (compare, sort keys, hashing) free of branches; only ASCII
 * letters fold (RFC 4343). */
#define LC(c) ((uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define LC4(c) LC(c), LC((c) + 1), LC((c) + 2), LC((c) + 3)
#define LC16(c) LC4(c), LC4((c) + 4), LC4((c) + 8), LC4((c) + 12)
#define LC64(c) LC16(c), LC16((c) + 16), LC16((c) + 32), LC16((c) + 48)
static const uint8_t lower[256] = {LC64(0), LC64(64), LC64(128), LC64(192)};
#undef LC64
#undef LC16
#undef LC4
#undef LC

/* Characters that must be escaped in presentation form, besides non-printables. */
static bool
needs_escape(uint8_t c)
{
	switch (c) {
	case '.':
	case '\\':
	case '"':
	case '(':
	case ')':
	case ';':
	case '@':
	case '$':
		return true;
	default:
		return false;
	}
}

fedns_err
fedns_name_from_text(const char *s, size_t len, const uint8_t *origin,
		     uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen, fedns_diag *d)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	size_t o = 0;

	if (len == 0)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "empty name");
	if (len == 1 && p[0] == '@') {
		if (origin == NULL)
			return fedns_diag_set(d, FEDNS_ESYNTAX, "\"@\" used without an origin");
		*outlen = fedns_name_copy(out, origin);
		return FEDNS_OK;
	}
	if (len == 1 && p[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return FEDNS_OK;
	}

	/* o stays <= 254 so the root label always fits in out[254]. */
	while (i < len) {
		size_t lp = o++;
		size_t ll = 0;
		if (o > FEDNS_NAME_MAXLEN - 1)
			goto toolong;
		while (i < len && p[i] != '.') {
			if (p[i] != '\\') {
				/* A run of plain octets: copy while both limits leave room, so
				 * the common case is one compare and one store per octet. */
				size_t lroom = FEDNS_LABEL_MAXLEN - ll;
				size_t nroom = FEDNS_NAME_MAXLEN - 1 - o;
				size_t room = lroom < nroom ? lroom : nroom;
				size_t end = len - i < room ? len : i + room;
				size_t j = i;
				while (j < end && p[j] != '.' && p[j] != '\\')
					out[o++] = p[j++];
				ll += j - i;
				i = j;
				if (i < len && p[i] != '.' && p[i] != '\\') {
					if (lroom <= nroom)
						goto longlabel;
					goto toolong;
				}
				continue;
			}
			uint8_t c;
			if (++i == len)
				return fedns_diag_set(d, FEDNS_ESYNTAX,
						      "name \"%.*s\" ends with a backslash",
						      (int)len, s);
			c = p[i];
			if (c >= '0' && c <= '9') {
				if (len - i < 3 || p[i + 1] < '0' || p[i + 1] > '9' ||
				    p[i + 2] < '0' || p[i + 2] > '9')
					return fedns_diag_set(
						d, FEDNS_ESYNTAX,
						"name \"%.*s\": \\DDD needs three digits", (int)len,
						s);
				unsigned v = (unsigned)(c - '0') * 100 +
					     (unsigned)(p[i + 1] - '0') * 10 +
					     (unsigned)(p[i + 2] - '0');
				if (v > 255)
					return fedns_diag_set(
						d, FEDNS_ESYNTAX,
						"name \"%.*s\": \\%c%c%c is above 255", (int)len, s,
						p[i], p[i + 1], p[i + 2]);
				c = (uint8_t)v;
				i += 3;
			} else {
				i++;
			}
			if (++ll > FEDNS_LABEL_MAXLEN)
				goto longlabel;
			if (o >= FEDNS_NAME_MAXLEN - 1)
				goto toolong;
			out[o++] = c;
		}
		if (ll == 0)
			return fedns_diag_set(d, FEDNS_ESYNTAX, "name \"%.*s\" has an empty label",
					      (int)len, s);
		out[lp] = (uint8_t)ll;
		if (i < len) {
			/* Skip the dot; a final dot makes the name absolute. */
			if (++i == len) {
				out[o++] = 0;
				*outlen = o;
				return FEDNS_OK;
			}
		}
	}

	/* Relative name: append the origin. */
	if (origin == NULL)
		return fedns_diag_set(d, FEDNS_ESYNTAX,
				      "name \"%.*s\" is relative and there is no origin", (int)len,
				      s);
	size_t olen = fedns_name_len(origin);
	if (olen > FEDNS_NAME_MAXLEN - o)
		goto toolong;
	memcpy(out + o, origin, olen);
	*outlen = o + olen;
	return FEDNS_OK;

longlabel:
	return fedns_diag_set(d, FEDNS_ETOOBIG, "name \"%.*s\": label longer than 63 octets",
			      (int)(len > 300 ? 300 : len), s);
toolong:
	return fedns_diag_set(d, FEDNS_ETOOBIG, "name \"%.*s\" is longer than 255 octets",
			      (int)(len > 300 ? 300 : len), s);
}

size_t
fedns_name_to_text(const uint8_t *name, char *out, size_t outsz)
{
	size_t o = 0;
	const uint8_t *p = name;

	if (outsz == 0)
		return 0;
	if (*p == 0) {
		if (outsz < 2)
			goto small;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (*p != 0) {
		uint8_t ll = *p++;
		for (uint8_t k = 0; k < ll; k++) {
			uint8_t c = p[k];
			size_t need = (c <= 0x20 || c >= 0x7f) ? 4 : needs_escape(c) ? 2 : 1;
			/* Every octet is followed at least by a dot and the NUL. */
			if (outsz - o < need + 2)
				goto small;
			if (need == 4) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + (c / 10) % 10);
				out[o++] = (char)('0' + c % 10);
			} else if (need == 2) {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else {
				out[o++] = (char)c;
			}
		}
		if (outsz - o < 2)
			goto small;
		out[o++] = '.';
		p += ll;
	}
	out[o] = '\0';
	return o;
small:
	out[0] = '\0';
	return 0;
}

size_t
fedns_name_check(const uint8_t *buf, size_t len)
{
	size_t o = 0;

	for (;;) {
		if (o >= len)
			return 0;
		uint8_t ll = buf[o];
		if (ll > FEDNS_LABEL_MAXLEN)
			return 0;
		if (len - o - 1 < ll)
			return 0;
		o += 1 + (size_t)ll;
		if (o > FEDNS_NAME_MAXLEN)
			return 0;
		if (ll == 0)
			return o;
	}
}

size_t
fedns_name_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p != 0)
		p += 1 + *p;
	return (size_t)(p - name) + 1;
}

size_t
fedns_name_labels(const uint8_t *name)
{
	size_t n = 0;
	for (const uint8_t *p = name; *p != 0; p += 1 + *p)
		n++;
	return n;
}

bool
fedns_name_is_root(const uint8_t *name)
{
	return name[0] == 0;
}

bool
fedns_name_equal(const uint8_t *a, const uint8_t *b)
{
	/* Label lengths are below 0x40 and never fold, so one loop over the whole wire
	 * form compares both structure and content. */
	size_t la = fedns_name_len(a);
	if (la != fedns_name_len(b))
		return false;
	for (size_t i = 0; i < la; i++)
		if (lower[a[i]] != lower[b[i]])
			return false;
	return true;
}

const uint8_t *
fedns_name_skip_labels(const uint8_t *name, size_t n)
{
	while (n-- > 0 && *name != 0)
		name += 1 + *name;
	return name;
}

bool
fedns_name_is_subdomain(const uint8_t *name, const uint8_t *parent)
{
	size_t ln = fedns_name_labels(name);
	size_t lp = fedns_name_labels(parent);
	if (ln < lp)
		return false;
	return fedns_name_equal(fedns_name_skip_labels(name, ln - lp), parent);
}

/* Offsets of each label's length byte, root excluded; returns the count. */
static size_t
label_offsets(const uint8_t *name, uint8_t offs[FEDNS_NAME_MAXLABELS])
{
	size_t n = 0;
	size_t o = 0;
	while (name[o] != 0) {
		offs[n++] = (uint8_t)o;
		o += 1 + (size_t)name[o];
	}
	return n;
}

int
fedns_name_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[FEDNS_NAME_MAXLABELS], ob[FEDNS_NAME_MAXLABELS];
	size_t na = label_offsets(a, oa);
	size_t nb = label_offsets(b, ob);

	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na];
		const uint8_t *lb = b + ob[--nb];
		size_t ca = la[0], cb = lb[0];
		size_t m = ca < cb ? ca : cb;
		for (size_t i = 1; i <= m; i++) {
			int x = (int)lower[la[i]] - (int)lower[lb[i]];
			if (x != 0)
				return x;
		}
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (na == nb)
		return 0;
	return na < nb ? -1 : 1;
}

void
fedns_name_tolower(uint8_t *name)
{
	size_t n = fedns_name_len(name);
	for (size_t i = 0; i < n; i++)
		name[i] = lower[name[i]];
}

size_t
fedns_name_copy(uint8_t *dst, const uint8_t *src)
{
	size_t n = fedns_name_len(src);
	memcpy(dst, src, n);
	return n;
}

uint64_t
fedns_name_hash(const uint8_t *name)
{
	/* FNV-1a over the folded wire form: simple, and good enough for hash tables keyed
	 * by names that are compared in full on a hit. */
	uint64_t h = 0xcbf29ce484222325u;
	size_t n = fedns_name_len(name);
	for (size_t i = 0; i < n; i++) {
		h ^= lower[name[i]];
		h *= 0x100000001b3u;
	}
	return h;
}

size_t
fedns_name_sortkey(const uint8_t *name, uint8_t key[FEDNS_NAME_KEYMAX])
{
	uint8_t offs[FEDNS_NAME_MAXLABELS];
	size_t n = label_offsets(name, offs);
	size_t k = 0;

	/* Label ends (0x00) sort below every escaped content octet (0x01 0x01 for 0x00,
	 * 0x01 0x02 for 0x01, others as themselves), so a label that is a prefix of another
	 * sorts first, as RFC 4034 §6.1 requires. */
	while (n > 0) {
		const uint8_t *l = name + offs[--n] + 1;
		size_t ll = l[-1];
		for (size_t i = 0; i < ll; i++) {
			uint8_t c = lower[l[i]];
			if (c < 2) {
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				key[k++] = c;
			}
		}
		key[k++] = 0;
	}
	return k;
}

fedns_err
fedns_name_concat(const uint8_t *prefix, size_t plen, const uint8_t *suffix,
		  uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen)
{
	size_t slen = fedns_name_len(suffix);
	if (plen > FEDNS_NAME_MAXLEN || slen > FEDNS_NAME_MAXLEN - plen)
		return FEDNS_ETOOBIG;
	/* memmove: callers may build in place (out == suffix is not allowed, but out ==
	 * prefix is). */
	memmove(out, prefix, plen);
	memcpy(out + plen, suffix, slen);
	*outlen = plen + slen;
	return FEDNS_OK;
}

fedns_err
fedns_name_unpack(fedns_wire *w, uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen)
{
	const uint8_t *buf = w->buf;
	size_t len = w->len;
	size_t pos = w->off;
	/* Every pointer must land before 'limit', which then drops to the target: the
	 * limit strictly decreases, so no chain of pointers can loop. */
	size_t limit = w->off;
	size_t end = 0; /* cursor position after the name; 0 until the first pointer */
	size_t o = 0;
	fedns_err err;

	if (w->err != FEDNS_OK)
		return w->err;
	for (;;) {
		if (pos >= len) {
			err = FEDNS_ETRUNC;
			goto fail;
		}
		uint8_t c = buf[pos];
		if (c >= 0xc0) {
			if (len - pos < 2) {
				err = FEDNS_ETRUNC;
				goto fail;
			}
			size_t target = ((size_t)(c & 0x3f) << 8) | buf[pos + 1];
			if (target >= limit) {
				err = FEDNS_EMALFORMED;
				goto fail;
			}
			if (end == 0)
				end = pos + 2;
			limit = target;
			pos = target;
			continue;
		}
		if (c > FEDNS_LABEL_MAXLEN) {
			/* 0x40 (extended) and 0x80 (reserved) label types. */
			err = FEDNS_EMALFORMED;
			goto fail;
		}
		if (c == 0) {
			if (o >= FEDNS_NAME_MAXLEN) {
				err = FEDNS_ETOOBIG;
				goto fail;
			}
			out[o++] = 0;
			pos++;
			break;
		}
		if (len - pos - 1 < c) {
			err = FEDNS_ETRUNC;
			goto fail;
		}
		/* Leave room for the root label. */
		if ((size_t)c + 1 > FEDNS_NAME_MAXLEN - 1 - o) {
			err = FEDNS_ETOOBIG;
			goto fail;
		}
		memcpy(out + o, buf + pos, (size_t)c + 1);
		o += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
	w->off = end != 0 ? end : pos;
	*outlen = o;
	return FEDNS_OK;
fail:
	fedns_wire_fail(w, err);
	return err;
}
