/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads with a size cap, and path confinement for $INCLUDE-like references. */
#pragma once

#include <stddef.h>

#include "common/diag.h"
#include "common/err.h"

/* Reads 'path' into a malloc'd buffer (NUL-terminated, free with free()). Files larger
 * than 'max' fail with FEDNS_ETOOBIG. Errors are also described in d (may be NULL). */
fedns_err fedns_file_read(const char *path, size_t max, char **out, size_t *len, fedns_diag *d);

/* Resolves 'ref' relative to the directory 'dir' and checks that the real path stays
 * inside the real path of 'dir' (no "..", no symlink escape). On success *out is a
 * malloc'd absolute path (free with free()). FEDNS_EACCES when it escapes. */
fedns_err fedns_path_confine(const char *dir, const char *ref, char **out, fedns_diag *d);

/* Directory part of 'path' ("." when there is none) into a malloc'd string. */
char *fedns_path_dirname(const char *path);

/* An $INCLUDE resolver (matches fedns_include_fn in dns/zonefile.h): 'ctx' is the zone's
 * directory (const char *); 'ref' is resolved against it and must stay inside it
 * (fedns_path_confine); files are capped at 1 GiB. *text and *resolved are malloc'd. */
fedns_err fedns_file_include(void *ctx, const char *ref, const char *from, char **text, size_t *len,
			     char **resolved, fedns_diag *d);
