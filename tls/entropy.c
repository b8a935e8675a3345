/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel entropy for tls/'s DRBGs: no entropy pool object to share between them. */
#include "tls/entropy.h"

#include <errno.h>
#include <sys/random.h>

#include <mbedtls/ctr_drbg.h>

int
fedns_tls_entropy(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		}
		got += (size_t)n;
	}
	return 0;
}
