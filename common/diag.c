/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics with file/line location. */
#include "common/diag.h"

#include <stdio.h>
#include <string.h>

void
fedns_diag_clear(fedns_diag *d)
{
	if (d == NULL)
		return;
	d->code = FEDNS_OK;
	d->line = 0;
	d->file[0] = '\0';
	d->msg[0] = '\0';
}

fedns_err
fedns_diag_vset(fedns_diag *d, fedns_err code, const char *fmt, va_list ap)
{
	if (d == NULL || d->code != FEDNS_OK)
		return code;
	d->code = code;
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	return code;
}

fedns_err
fedns_diag_set(fedns_diag *d, fedns_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fedns_diag_vset(d, code, fmt, ap);
	va_end(ap);
	return code;
}

void
fedns_diag_locate(fedns_diag *d, const char *file, unsigned line)
{
	if (d == NULL || d->code == FEDNS_OK)
		return;
	if (d->file[0] == '\0' && file != NULL)
		snprintf(d->file, sizeof(d->file), "%s", file);
	if (d->line == 0)
		d->line = line;
}

const char *
fedns_diag_format(const fedns_diag *d, char *out, size_t outsz)
{
	const char *msg = d->msg[0] ? d->msg : fedns_strerror(d->code);
	if (d->file[0] && d->line)
		snprintf(out, outsz, "%s:%u: %s", d->file, d->line, msg);
	else if (d->file[0])
		snprintf(out, outsz, "%s: %s", d->file, msg);
	else
		snprintf(out, outsz, "%s", msg);
	return out;
}
