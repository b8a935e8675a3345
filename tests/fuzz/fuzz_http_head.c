/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the hub's HTTP request-head parser (hub/http.c) with the checks a request
 * passes before its handler runs. Any input gets 0, "incomplete" or one of the statuses
 * the server answers with; anything else, or a crash, is a defect. */
#include <stdlib.h>

#include "hub/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int st = hub_http_parse_request(data, size, 1 << 20);
	switch (st) {
	case -1:
	case 0:
	case 400:
	case 404:
	case 413:
	case 431:
	case 501:
	case 505:
		return 0;
	default:
		abort();
	}
}
