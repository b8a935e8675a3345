/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte/text buffer with a hard cap: growth past the cap fails with ETOOBIG. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The error is sticky: after the first failure appends do nothing and 'err' says why,
 * so a caller can build a whole text and check once. 'data' is NUL-terminated after
 * every successful append (the NUL is not counted in 'len'). */
typedef struct fedns_buf {
	uint8_t *data;
	size_t len;
	size_t alloc;
	size_t max; /* cap on len */
	fedns_err err;
} fedns_buf;

#define FEDNS_BUF_DEFAULT_MAX ((size_t)1 << 30)

void fedns_buf_init(fedns_buf *b, size_t max);
/* Frees the storage; accepts NULL. */
void fedns_buf_fini(fedns_buf *b);
/* Empties the buffer and clears the error; keeps the storage. */
void fedns_buf_clear(fedns_buf *b);
fedns_err fedns_buf_reserve(fedns_buf *b, size_t extra);
fedns_err fedns_buf_append(fedns_buf *b, const void *p, size_t n);
fedns_err fedns_buf_putc(fedns_buf *b, char c);
fedns_err fedns_buf_puts(fedns_buf *b, const char *s);
__attribute__((format(printf, 2, 3))) fedns_err fedns_buf_printf(fedns_buf *b, const char *fmt,
								 ...);
__attribute__((format(printf, 2, 0))) fedns_err fedns_buf_vprintf(fedns_buf *b, const char *fmt,
								  va_list ap);
/* Takes the storage out of the buffer (caller frees with free()); the buffer is emptied. */
uint8_t *fedns_buf_steal(fedns_buf *b, size_t *len);
