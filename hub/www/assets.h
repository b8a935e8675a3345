/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's static files, compiled into the hub: the build turns the files of hub/www into a
 * generated C table (hub/www/embed.cmake), so the hub serves them without a file system
 * path or anything fetched from elsewhere. */
#pragma once

#include <stddef.h>

typedef struct hub_www_asset {
	const char *name;	  /* file name under hub/www, e.g. "app.js" */
	const char *content_type; /* static string */
	const unsigned char *data;
	size_t len;
} hub_www_asset;

/* Sorted by name (bytewise), for bsearch. */
extern const hub_www_asset hub_www_assets[];
extern const size_t hub_www_nassets;
