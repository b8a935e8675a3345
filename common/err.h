/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes shared by every fedns module, and the one place they become text. */
#pragma once

#include <errno.h>

/* 0 is success, failures are negative: errno-mapped where one exists, project codes
 * from -1000. Foreign codes (nng, mbedTLS, curl, SQLite) are converted where they enter. */
typedef int fedns_err;

enum {
	FEDNS_OK = 0,
	FEDNS_ENOMEM = -ENOMEM,
	FEDNS_EINVAL = -EINVAL,
	FEDNS_EIO = -EIO,
	FEDNS_ENOENT = -ENOENT,
	FEDNS_EEXIST = -EEXIST,
	FEDNS_EACCES = -EACCES,
	FEDNS_ERANGE = -ERANGE,
	FEDNS_ETIMEDOUT = -ETIMEDOUT,
	FEDNS_ECANCELED = -ECANCELED, /* the object was closed while waiting */
	FEDNS_EMALFORMED = -1000,     /* input violates the format */
	FEDNS_ETRUNC = -1001,	      /* input ends before the structure does */
	FEDNS_ETOOBIG = -1002,	      /* a size or count cap was reached */
	FEDNS_EAUTH = -1003,	      /* authentication or signature failed */
	FEDNS_ESTALE = -1004,	      /* based on a version that is no longer current */
	FEDNS_ESYNTAX = -1005,	      /* presentation-format syntax error */
	FEDNS_EZONE = -1006,	      /* zone content breaks a rule (apex, CNAME, ...) */
	FEDNS_ENOTSUP = -1007,	      /* valid but not supported */
};

/* Static text for an error code; never NULL. Thread-safe. */
const char *fedns_strerror(fedns_err err);
