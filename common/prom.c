/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus text exposition writers: escaping and number formatting in one place so
 * every /metrics endpoint of fedns parses the same way. */
#include "common/prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(fedns_buf *b)
{
	if (b->err == FEDNS_OK) {
		b->err = FEDNS_EINVAL;
	}
}

static bool
is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
fedns_prom_name_is_valid(const char *s)
{
	if (s == NULL || !(is_alpha_(s[0]) || s[0] == ':')) {
		return false;
	}
	for (const char *p = s + 1; *p != '\0'; p++) {
		if (!is_alpha_(*p) && !is_digit(*p) && *p != ':') {
			return false;
		}
	}
	return true;
}

bool
fedns_prom_label_name_is_valid(const char *s)
{
	if (s == NULL || !is_alpha_(s[0]) || strncmp(s, "__", 2) == 0) {
		return false;
	}
	for (const char *p = s + 1; *p != '\0'; p++) {
		if (!is_alpha_(*p) && !is_digit(*p)) {
			return false;
		}
	}
	return true;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (overlong
 * forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (c == 0xe0 && p[1] < 0xa0) ||
		    (c == 0xed && p[1] > 0x9f)) {
			return 0;
		}
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80 ||
		    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)) {
			return 0;
		}
		return 4;
	}
	return 0;
}

/* Escapes backslash and newline, and the double quote when 'quote'. Invalid UTF-8 becomes
 * U+FFFD: the format is UTF-8 and one bad byte would make the whole scrape fail. */
static void
escape(fedns_buf *b, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0' && b->err == FEDNS_OK) {
		size_t n = utf8_len(p);
		if (n == 0) {
			fedns_buf_puts(b, "\xef\xbf\xbd");
			p++;
		} else if (*p == '\\') {
			fedns_buf_puts(b, "\\\\");
			p++;
		} else if (*p == '\n') {
			fedns_buf_puts(b, "\\n");
			p++;
		} else if (*p == '"' && quote) {
			fedns_buf_puts(b, "\\\"");
			p++;
		} else {
			fedns_buf_append(b, p, n);
			p += n;
		}
	}
}

void
fedns_prom_escape_label_value(fedns_buf *b, const char *v)
{
	escape(b, v != NULL ? v : "", true);
}

static const char *
type_name(fedns_prom_type t)
{
	switch (t) {
	case FEDNS_PROM_COUNTER:
		return "counter";
	case FEDNS_PROM_GAUGE:
		return "gauge";
	case FEDNS_PROM_HISTOGRAM:
		return "histogram";
	case FEDNS_PROM_UNTYPED:
		return "untyped";
	}
	return NULL;
}

void
fedns_prom_family(fedns_buf *b, const char *name, fedns_prom_type type, const char *help)
{
	const char *t = type_name(type);

	if (!fedns_prom_name_is_valid(name) || t == NULL) {
		fail(b);
		return;
	}
	fedns_buf_printf(b, "# HELP %s ", name);
	escape(b, help != NULL ? help : "", false);
	fedns_buf_printf(b, "\n# TYPE %s %s\n", name, t);
}

void
fedns_prom_number(fedns_buf *b, double v)
{
	char tmp[40];

	if (v != v) {
		fedns_buf_puts(b, "NaN");
		return;
	}
	if (v > 1.7976931348623157e308) {
		fedns_buf_puts(b, "+Inf");
		return;
	}
	if (v < -1.7976931348623157e308) {
		fedns_buf_puts(b, "-Inf");
		return;
	}
	if (v > -1e15 && v < 1e15 && (double)(long long)v == v) {
		fedns_buf_printf(b, "%lld", (long long)v);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v) {
			break;
		}
	}
	fedns_buf_puts(b, tmp);
}

/* name{labels[,extra]} (no braces when there are none); false after an invalid name. */
static bool
series(fedns_buf *b, const char *name, const char *suffix, const fedns_prom_label *labels,
       size_t nlabels, const fedns_prom_label *extra)
{
	if (!fedns_prom_name_is_valid(name) || (nlabels > 0 && labels == NULL)) {
		fail(b);
		return false;
	}
	fedns_buf_puts(b, name);
	fedns_buf_puts(b, suffix);
	if (nlabels == 0 && extra == NULL) {
		return true;
	}
	fedns_buf_putc(b, '{');
	for (size_t i = 0; i <= nlabels; i++) {
		const fedns_prom_label *l = i < nlabels ? &labels[i] : extra;
		if (l == NULL) {
			break;
		}
		if (!fedns_prom_label_name_is_valid(l->name)) {
			fail(b);
			return false;
		}
		fedns_buf_printf(b, "%s%s=\"", i > 0 ? "," : "", l->name);
		fedns_prom_escape_label_value(b, l->value);
		fedns_buf_putc(b, '"');
	}
	fedns_buf_putc(b, '}');
	return true;
}

void
fedns_prom_sample(fedns_buf *b, const char *name, const fedns_prom_label *labels, size_t nlabels,
		  double value)
{
	if (series(b, name, "", labels, nlabels, NULL)) {
		fedns_buf_putc(b, ' ');
		fedns_prom_number(b, value);
		fedns_buf_putc(b, '\n');
	}
}

void
fedns_prom_sample_u64(fedns_buf *b, const char *name, const fedns_prom_label *labels,
		      size_t nlabels, uint64_t value)
{
	if (series(b, name, "", labels, nlabels, NULL)) {
		fedns_buf_printf(b, " %llu\n", (unsigned long long)value);
	}
}

void
fedns_prom_histogram(fedns_buf *b, const char *name, const fedns_prom_label *labels, size_t nlabels,
		     const double *le, size_t nle, const uint64_t *counts, double sum)
{
	uint64_t cum = 0;
	char bound[40];

	if (counts == NULL || (nle > 0 && le == NULL)) {
		fail(b);
		return;
	}
	for (size_t i = 0; i < nle; i++) {
		/* finite and strictly increasing; +Inf is the implicit last bucket */
		if (!(le[i] > -1.7976931348623157e308 && le[i] < 1.7976931348623157e308) ||
		    (i > 0 && !(le[i - 1] < le[i]))) {
			fail(b);
			return;
		}
	}
	for (size_t i = 0; i <= nle && b->err == FEDNS_OK; i++) {
		fedns_prom_label l = {.name = "le", .value = "+Inf"};
		cum += counts[i];
		if (i < nle) {
			fedns_buf tmp;
			fedns_buf_init(&tmp, sizeof(bound) - 1);
			fedns_prom_number(&tmp, le[i]);
			snprintf(bound, sizeof(bound), "%s",
				 tmp.err == FEDNS_OK && tmp.data != NULL ? (char *)tmp.data
									 : "NaN");
			fedns_buf_fini(&tmp);
			l.value = bound;
		}
		if (series(b, name, "_bucket", labels, nlabels, &l)) {
			fedns_buf_printf(b, " %llu\n", (unsigned long long)cum);
		}
	}
	if (series(b, name, "_sum", labels, nlabels, NULL)) {
		fedns_buf_putc(b, ' ');
		fedns_prom_number(b, sum);
		fedns_buf_putc(b, '\n');
	}
	if (series(b, name, "_count", labels, nlabels, NULL)) {
		fedns_buf_printf(b, " %llu\n", (unsigned long long)cum);
	}
}
