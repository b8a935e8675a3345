/* SPDX-License-Identifier: Apache-2.0 */
/* Text for fedns error codes. */
#define _GNU_SOURCE /* strerrordesc_np: static text, unlike strerror */
#include "common/err.h"

#include <string.h>

const char *
fedns_strerror(fedns_err err)
{
	switch (err) {
	case FEDNS_OK:
		return "success";
	case FEDNS_EMALFORMED:
		return "malformed input";
	case FEDNS_ETRUNC:
		return "input truncated";
	case FEDNS_ETOOBIG:
		return "size limit exceeded";
	case FEDNS_EAUTH:
		return "authentication failed";
	case FEDNS_ESTALE:
		return "stale version";
	case FEDNS_ESYNTAX:
		return "syntax error";
	case FEDNS_EZONE:
		return "zone content rule violated";
	case FEDNS_ENOTSUP:
		return "not supported";
	case FEDNS_ENOMEM:
		return "out of memory";
	case FEDNS_EINVAL:
		return "invalid argument";
	case FEDNS_EIO:
		return "input/output error";
	case FEDNS_ENOENT:
		return "not found";
	case FEDNS_EEXIST:
		return "already exists";
	case FEDNS_EACCES:
		return "permission denied";
	case FEDNS_ERANGE:
		return "value out of range";
	case FEDNS_ETIMEDOUT:
		return "timed out";
	case FEDNS_ECANCELED:
		return "canceled";
	default:
		break;
	}
	if (err < 0 && err > -1000) {
		const char *s = strerrordesc_np(-err);
		if (s != NULL)
			return s;
	}
	return "unknown error";
}
