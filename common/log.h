/* SPDX-License-Identifier: Apache-2.0 */
/* Structured logging: one JSON object per line, stable dotted event names, typed fields. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum fedns_log_level {
	FEDNS_LOG_DEBUG = 0,
	FEDNS_LOG_INFO = 1,
	FEDNS_LOG_WARN = 2,
	FEDNS_LOG_ERROR = 3,
} fedns_log_level;

typedef enum fedns_log_ftype {
	FEDNS_LF_END_ = 0,
	FEDNS_LF_STR_,
	FEDNS_LF_INT_,
	FEDNS_LF_UINT_,
	FEDNS_LF_BOOL_,
	FEDNS_LF_DBL_,
} fedns_log_ftype;

/* One typed field. There is deliberately no field type for key material: log key
 * names and fingerprints only. */
typedef struct fedns_log_field {
	fedns_log_ftype type;
	const char *key;
	union {
		const char *s;
		int64_t i;
		uint64_t u;
		bool b;
		double d;
	} v;
} fedns_log_field;

#define FEDNS_LF_STR(k, x) ((fedns_log_field){.type = FEDNS_LF_STR_, .key = (k), .v.s = (x)})
#define FEDNS_LF_INT(k, x) ((fedns_log_field){.type = FEDNS_LF_INT_, .key = (k), .v.i = (x)})
#define FEDNS_LF_UINT(k, x) ((fedns_log_field){.type = FEDNS_LF_UINT_, .key = (k), .v.u = (x)})
#define FEDNS_LF_BOOL(k, x) ((fedns_log_field){.type = FEDNS_LF_BOOL_, .key = (k), .v.b = (x)})
#define FEDNS_LF_DBL(k, x) ((fedns_log_field){.type = FEDNS_LF_DBL_, .key = (k), .v.d = (x)})
#define FEDNS_LF_END ((fedns_log_field){.type = FEDNS_LF_END_})

/* Sets where lines go (default stderr) and the lowest level written. Call before threads. */
void fedns_log_setup(FILE *out, fedns_log_level min);
bool fedns_log_enabled(fedns_log_level level);
/* Writes {"ts":..,"level":..,"event":..,fields...}\n atomically (one write per line).
 * Fields end with FEDNS_LF_END. Thread-safe. */
void fedns_log_fields(fedns_log_level level, const char *event, const fedns_log_field *fields);
#define fedns_log(level, event, ...)                                                               \
	do {                                                                                       \
		if (fedns_log_enabled(level)) {                                                    \
			const fedns_log_field f_[] = {__VA_ARGS__, FEDNS_LF_END};                  \
			fedns_log_fields((level), (event), f_);                                    \
		}                                                                                  \
	} while (0)

/* JSON-escapes s into out (always NUL-terminated); returns chars written. */
size_t fedns_json_escape(const char *s, char *out, size_t outsz);
