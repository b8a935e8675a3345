/* SPDX-License-Identifier: Apache-2.0 */
/* Bump allocator over malloc'd chunks. */
#include "common/arena.h"

#include <stdlib.h>
#include <string.h>

struct fedns_arena_chunk {
	fedns_arena_chunk *next;
	size_t size;
	size_t off;
	_Alignas(16) uint8_t data[];
};

#define ARENA_ALIGN 16u
#define ARENA_DEFAULT_CHUNK (64u * 1024u)

void
fedns_arena_init(fedns_arena *a, size_t chunk_size, size_t cap)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
	a->used = 0;
	a->cap = cap;
}

void
fedns_arena_fini(fedns_arena *a)
{
	if (a == NULL)
		return;
	fedns_arena_chunk *c = a->head;
	while (c != NULL) {
		fedns_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}

void
fedns_arena_reset(fedns_arena *a)
{
	if (a->head == NULL)
		return;
	/* keep the oldest chunk: it is the ordinary size, the rest may be large ones */
	fedns_arena_chunk *c = a->head, *keep = NULL;
	while (c != NULL) {
		fedns_arena_chunk *next = c->next;
		if (next == NULL)
			keep = c;
		else
			free(c);
		c = next;
	}
	keep->off = 0;
	keep->next = NULL;
	a->head = keep;
	a->used = 0;
}

void *
fedns_arena_alloc(fedns_arena *a, size_t n)
{
	/* a zero-byte request still gets its own address */
	size_t need = ((n ? n : 1) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < n)
		return NULL;
	if (a->cap != 0 && (a->cap < a->used || a->cap - a->used < need))
		return NULL;
	fedns_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->off < need) {
		size_t size = need > a->chunk_size / 4 ? need : a->chunk_size;
		if (size > SIZE_MAX - sizeof(*c))
			return NULL;
		fedns_arena_chunk *nc = malloc(sizeof(*nc) + size);
		if (nc == NULL)
			return NULL;
		nc->size = size;
		nc->off = 0;
		if (size == need && c != NULL) {
			/* a large block goes behind the current chunk so its space stays usable */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
		/* grow ordinary chunks geometrically up to 4 MiB */
		if (size == a->chunk_size && a->chunk_size < 4u * 1024u * 1024u)
			a->chunk_size *= 2;
	}
	void *p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *
fedns_arena_memdup(fedns_arena *a, const void *p, size_t n)
{
	void *q = fedns_arena_alloc(a, n ? n : 1);
	if (q != NULL && n != 0)
		memcpy(q, p, n);
	return q;
}

char *
fedns_arena_strndup(fedns_arena *a, const char *s, size_t n)
{
	char *q = fedns_arena_alloc(a, n + 1);
	if (q != NULL) {
		memcpy(q, s, n);
		q[n] = '\0';
	}
	return q;
}
