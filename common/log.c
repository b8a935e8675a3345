/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-lines logger. */
#include "common/log.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"

static FILE *log_out;
static fedns_log_level log_min = FEDNS_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void
fedns_log_setup(FILE *out, fedns_log_level min)
{
	log_out = out;
	log_min = min;
}

bool
fedns_log_enabled(fedns_log_level level)
{
	return level >= log_min;
}

static void
put_json_string(fedns_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	fedns_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			fedns_buf_puts(b, "\\\"");
			break;
		case '\\':
			fedns_buf_puts(b, "\\\\");
			break;
		case '\n':
			fedns_buf_puts(b, "\\n");
			break;
		case '\r':
			fedns_buf_puts(b, "\\r");
			break;
		case '\t':
			fedns_buf_puts(b, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				char u[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0};
				fedns_buf_puts(b, u);
			} else {
				fedns_buf_putc(b, (char)*p);
			}
		}
	}
	fedns_buf_putc(b, '"');
}

size_t
fedns_json_escape(const char *s, char *out, size_t outsz)
{
	fedns_buf b;
	fedns_buf_init(&b, 0);
	put_json_string(&b, s);
	size_t n = 0;
	if (outsz > 0) {
		/* strip the surrounding quotes */
		size_t inner = b.err == FEDNS_OK && b.len >= 2 ? b.len - 2 : 0;
		n = inner < outsz - 1 ? inner : outsz - 1;
		if (n)
			memcpy(out, b.data + 1, n);
		out[n] = '\0';
	}
	fedns_buf_fini(&b);
	return n;
}

void
fedns_log_fields(fedns_log_level level, const char *event, const fedns_log_field *fields)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (!fedns_log_enabled(level))
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char tbuf[64];
	size_t tl = strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tbuf + tl, sizeof(tbuf) - tl, ".%03ldZ", ts.tv_nsec / 1000000);

	const char *lname = names[level <= FEDNS_LOG_ERROR ? level : FEDNS_LOG_ERROR];

	fedns_buf b;
	fedns_buf_init(&b, 64 * 1024);
	fedns_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", tbuf, lname);
	put_json_string(&b, event);
	for (const fedns_log_field *f = fields; f && f->type != FEDNS_LF_END_; f++) {
		fedns_buf_putc(&b, ',');
		put_json_string(&b, f->key);
		fedns_buf_putc(&b, ':');
		switch (f->type) {
		case FEDNS_LF_STR_:
			put_json_string(&b, f->v.s);
			break;
		case FEDNS_LF_INT_:
			fedns_buf_printf(&b, "%" PRId64, f->v.i);
			break;
		case FEDNS_LF_UINT_:
			fedns_buf_printf(&b, "%" PRIu64, f->v.u);
			break;
		case FEDNS_LF_BOOL_:
			fedns_buf_puts(&b, f->v.b ? "true" : "false");
			break;
		case FEDNS_LF_DBL_:
			/* JSON has no NaN or infinity */
			if (isfinite(f->v.d))
				fedns_buf_printf(&b, "%.6g", f->v.d);
			else
				fedns_buf_puts(&b, "null");
			break;
		default:
			fedns_buf_puts(&b, "null");
		}
	}
	fedns_buf_puts(&b, "}\n");
	if (b.err == FEDNS_ETOOBIG) {
		/* a field too big for one line must not swallow the event itself */
		fedns_buf_clear(&b);
		fedns_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", tbuf, lname);
		put_json_string(&b, event);
		fedns_buf_puts(&b, ",\"truncated\":true}\n");
	}
	if (b.err == FEDNS_OK) {
		FILE *out = log_out ? log_out : stderr;
		pthread_mutex_lock(&log_mu);
		fwrite(b.data, 1, b.len, out);
		fflush(out);
		pthread_mutex_unlock(&log_mu);
	}
	fedns_buf_fini(&b);
}
