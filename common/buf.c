/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffer. */
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fedns_buf_init(fedns_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max ? max : FEDNS_BUF_DEFAULT_MAX;
	b->err = FEDNS_OK;
}

void
fedns_buf_fini(fedns_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void
fedns_buf_clear(fedns_buf *b)
{
	b->len = 0;
	b->err = FEDNS_OK;
	if (b->data != NULL)
		b->data[0] = '\0';
}

fedns_err
fedns_buf_reserve(fedns_buf *b, size_t extra)
{
	if (b->err != FEDNS_OK)
		return b->err;
	if (b->max - b->len < extra || b->len > b->max) {
		b->err = FEDNS_ETOOBIG;
		return b->err;
	}
	if (extra > SIZE_MAX - 1 - b->len) {
		/* len + extra + 1 would wrap (only possible when max is near SIZE_MAX) */
		b->err = FEDNS_ENOMEM;
		return b->err;
	}
	size_t need = b->len + extra + 1; /* room for the NUL */
	if (need <= b->alloc)
		return FEDNS_OK;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	uint8_t *p = realloc(b->data, n);
	if (p == NULL) {
		b->err = FEDNS_ENOMEM;
		return b->err;
	}
	b->data = p;
	b->alloc = n;
	return FEDNS_OK;
}

fedns_err
fedns_buf_append(fedns_buf *b, const void *p, size_t n)
{
	fedns_err err = fedns_buf_reserve(b, n);
	if (err != FEDNS_OK)
		return err;
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return FEDNS_OK;
}

fedns_err
fedns_buf_putc(fedns_buf *b, char c)
{
	return fedns_buf_append(b, &c, 1);
}

fedns_err
fedns_buf_puts(fedns_buf *b, const char *s)
{
	return fedns_buf_append(b, s, strlen(s));
}

fedns_err
fedns_buf_vprintf(fedns_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (b->err == FEDNS_OK)
			b->err = FEDNS_EINVAL;
		return b->err;
	}
	fedns_err err = fedns_buf_reserve(b, (size_t)n);
	if (err != FEDNS_OK)
		return err;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return FEDNS_OK;
}

fedns_err
fedns_buf_printf(fedns_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fedns_err err = fedns_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

uint8_t *
fedns_buf_steal(fedns_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}
