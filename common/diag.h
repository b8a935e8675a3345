/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics: errors that say what was wrong and where ("f.zone:17: TTL "9x" is not a number"). */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "common/err.h"

#define FEDNS_DIAG_MSG_MAX 512

/* One message with its location. Filled by the first failure (later sets are ignored
 * unless fedns_diag_clear is called) so the root cause is what the user sees. */
typedef struct fedns_diag {
	fedns_err code;
	unsigned line; /* 0 when not tied to a line */
	char file[256];
	char msg[FEDNS_DIAG_MSG_MAX];
} fedns_diag;

void fedns_diag_clear(fedns_diag *d);
/* Records 'code' and the formatted message if d is not NULL and holds nothing yet.
 * Returns 'code' so callers can write: return fedns_diag_set(d, FEDNS_ESYNTAX, "..."). */
__attribute__((format(printf, 3, 4))) fedns_err fedns_diag_set(fedns_diag *d, fedns_err code,
							       const char *fmt, ...);
__attribute__((format(printf, 3, 0))) fedns_err fedns_diag_vset(fedns_diag *d, fedns_err code,
								const char *fmt, va_list ap);
/* Sets file and line if the diag has a message and no location yet. */
void fedns_diag_locate(fedns_diag *d, const char *file, unsigned line);
/* "file:line: msg", "file: msg" or "msg" into out; returns out. */
const char *fedns_diag_format(const fedns_diag *d, char *out, size_t outsz);

/* A sink for many diagnostics (a zone check reports every problem, like named-checkzone).
 * Returns nonzero to stop. */
typedef int (*fedns_diag_fn)(void *ctx, const fedns_diag *d);
