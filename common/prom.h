/* SPDX-License-Identifier: Apache-2.0 */
/* Writers for the Prometheus text exposition format (version 0.0.4) into a fedns_buf:
 * family headers, samples with escaped labels, and histograms from bucket counts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* One label pair. Names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__";
 * values are any text (escaped on output). */
typedef struct fedns_prom_label {
	const char *name;
	const char *value;
} fedns_prom_label;

typedef enum fedns_prom_type {
	FEDNS_PROM_COUNTER,
	FEDNS_PROM_GAUGE,
	FEDNS_PROM_HISTOGRAM,
	FEDNS_PROM_UNTYPED,
} fedns_prom_type;

/* Every writer below appends to b and follows its sticky error: a name or label name
 * that is not valid sets b->err to FEDNS_EINVAL (a programmer error a test should catch,
 * and a half-written exposition must not be served), growth past the cap FEDNS_ETOOBIG.
 * A family's samples must follow its header without another family in between. */

/* True when s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool fedns_prom_name_is_valid(const char *s);
/* True when s is a valid label name (see fedns_prom_label). */
bool fedns_prom_label_name_is_valid(const char *s);

/* "# HELP name help\n# TYPE name type\n"; help is escaped (backslash, newline). */
void fedns_prom_family(fedns_buf *b, const char *name, fedns_prom_type type, const char *help);

/* Escapes a label value (backslash, double quote, newline) without the quotes. */
void fedns_prom_escape_label_value(fedns_buf *b, const char *v);

/* Writes a number as the format wants it: integers without exponent, NaN, +Inf, -Inf,
 * other values with the fewest digits that read back as the same double. */
void fedns_prom_number(fedns_buf *b, double v);

/* One sample line: name{l1="v1",...} value\n (no braces when nlabels is 0). */
void fedns_prom_sample(fedns_buf *b, const char *name, const fedns_prom_label *labels,
		       size_t nlabels, double value);
/* The same for counters past 2^53 where a double would round. */
void fedns_prom_sample_u64(fedns_buf *b, const char *name, const fedns_prom_label *labels,
			   size_t nlabels, uint64_t value);

/* One histogram's samples (the family header is written separately with
 * FEDNS_PROM_HISTOGRAM): name_bucket{labels...,le="..."} cumulative counts for each finite
 * upper bound in le[0..nle-1] (strictly increasing) and le="+Inf", then name_sum and
 * name_count. counts has nle + 1 entries, per bucket and NOT cumulative (the last is the
 * overflow above le[nle-1]); _count is their total. Bounds out of order set FEDNS_EINVAL. */
void fedns_prom_histogram(fedns_buf *b, const char *name, const fedns_prom_label *labels,
			  size_t nlabels, const double *le, size_t nle, const uint64_t *counts,
			  double sum);
