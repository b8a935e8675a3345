/* SPDX-License-Identifier: Apache-2.0 */
/* Wire cursors with a sticky error: the first failure wins, later calls do nothing and
 * return 0, the caller checks once at the end. All bounds checks are 'len - off < n'. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"

/* Reader over a borrowed buffer. 'buf' and 'len' describe the whole message (needed to
 * follow compression pointers); 'off' is the read position. */
typedef struct fedns_wire {
	const uint8_t *buf;
	size_t len;
	size_t off;
	fedns_err err;
} fedns_wire;

static inline void
fedns_wire_init(fedns_wire *w, const uint8_t *buf, size_t len)
{
	w->buf = buf;
	w->len = len;
	w->off = 0;
	w->err = FEDNS_OK;
}

static inline size_t
fedns_wire_left(const fedns_wire *w)
{
	return w->err == FEDNS_OK ? w->len - w->off : 0;
}

static inline void
fedns_wire_fail(fedns_wire *w, fedns_err err)
{
	if (w->err == FEDNS_OK)
		w->err = err;
}

static inline bool
fedns_wire_need(fedns_wire *w, size_t n)
{
	if (w->err != FEDNS_OK)
		return false;
	if (w->len - w->off < n) {
		w->err = FEDNS_ETRUNC;
		return false;
	}
	return true;
}

static inline uint8_t
fedns_wire_u8(fedns_wire *w)
{
	if (!fedns_wire_need(w, 1))
		return 0;
	return w->buf[w->off++];
}

static inline uint16_t
fedns_wire_u16(fedns_wire *w)
{
	if (!fedns_wire_need(w, 2))
		return 0;
	uint16_t v = (uint16_t)((w->buf[w->off] << 8) | w->buf[w->off + 1]);
	w->off += 2;
	return v;
}

static inline uint32_t
fedns_wire_u32(fedns_wire *w)
{
	if (!fedns_wire_need(w, 4))
		return 0;
	const uint8_t *p = w->buf + w->off;
	w->off += 4;
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Borrowed pointer to the next n bytes (NULL on failure), advancing past them. */
static inline const uint8_t *
fedns_wire_take(fedns_wire *w, size_t n)
{
	if (!fedns_wire_need(w, n))
		return NULL;
	const uint8_t *p = w->buf + w->off;
	w->off += n;
	return p;
}

static inline void
fedns_wire_bytes(fedns_wire *w, void *dst, size_t n)
{
	const uint8_t *p = fedns_wire_take(w, n);
	if (p != NULL && n != 0)
		memcpy(dst, p, n);
}

/* Writer into a fixed caller buffer; running out of room sets FEDNS_ETOOBIG. */
typedef struct fedns_wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
	fedns_err err;
} fedns_wbuf;

static inline void
fedns_wbuf_init(fedns_wbuf *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = FEDNS_OK;
}

static inline bool
fedns_wbuf_room(fedns_wbuf *b, size_t n)
{
	if (b->err != FEDNS_OK)
		return false;
	if (b->cap - b->len < n) {
		b->err = FEDNS_ETOOBIG;
		return false;
	}
	return true;
}

static inline void
fedns_wbuf_u8(fedns_wbuf *b, uint8_t v)
{
	if (fedns_wbuf_room(b, 1))
		b->buf[b->len++] = v;
}

static inline void
fedns_wbuf_u16(fedns_wbuf *b, uint16_t v)
{
	if (fedns_wbuf_room(b, 2)) {
		b->buf[b->len] = (uint8_t)(v >> 8);
		b->buf[b->len + 1] = (uint8_t)v;
		b->len += 2;
	}
}

static inline void
fedns_wbuf_u32(fedns_wbuf *b, uint32_t v)
{
	if (fedns_wbuf_room(b, 4)) {
		uint8_t *p = b->buf + b->len;
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
		b->len += 4;
	}
}

static inline void
fedns_wbuf_bytes(fedns_wbuf *b, const void *p, size_t n)
{
	if (fedns_wbuf_room(b, n) && n != 0) {
		memcpy(b->buf + b->len, p, n);
		b->len += n;
	}
}

/* Overwrites a u16 at an earlier position (lengths, counts). */
static inline void
fedns_wbuf_put_u16_at(fedns_wbuf *b, size_t at, uint16_t v)
{
	if (b->err == FEDNS_OK && at <= b->len && b->len - at >= 2) {
		b->buf[at] = (uint8_t)(v >> 8);
		b->buf[at + 1] = (uint8_t)v;
	}
}

static inline uint16_t
fedns_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
fedns_get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
fedns_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
fedns_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
