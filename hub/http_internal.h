/* SPDX-License-Identifier: Apache-2.0 */
/* hub/http.c's request-head parsing on its own, for its fuzz target (tests/fuzz). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Parses data[0, len) as a connection's next request head (blank lines before it skipped,
 * 16 KiB at most) and applies the checks a request passes before its handler runs, in the
 * server's order. Returns 0 when the handler would be called, -1 when data holds no
 * complete head yet, else the status the server refuses with (400, 404, 413, 431, 501,
 * 505); 500 only when out of memory. */
int hub_http_parse_request(const uint8_t *data, size_t len, size_t max_body);
