/* SPDX-License-Identifier: Apache-2.0 */
/* Bump allocator: many small allocations released at once (per request, per zone). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct fedns_arena_chunk fedns_arena_chunk;

/* An arena hands out 16-byte aligned memory from chunks it mallocs; nothing is freed
 * one by one. 'cap' bounds the total bytes it may hold (0 means no cap). Not thread-safe. */
typedef struct fedns_arena {
	fedns_arena_chunk *head;
	size_t chunk_size; /* size of the next ordinary chunk */
	size_t used;	   /* bytes handed out, for caps and statistics */
	size_t cap;
} fedns_arena;

void fedns_arena_init(fedns_arena *a, size_t chunk_size, size_t cap);
/* Frees every chunk; accepts a zeroed or NULL arena. */
void fedns_arena_fini(fedns_arena *a);
/* Releases everything but keeps the first chunk for reuse. */
void fedns_arena_reset(fedns_arena *a);
/* NULL when out of memory or over the cap. Borrowed until reset/fini. */
void *fedns_arena_alloc(fedns_arena *a, size_t n);
void *fedns_arena_memdup(fedns_arena *a, const void *p, size_t n);
char *fedns_arena_strndup(fedns_arena *a, const char *s, size_t n);
