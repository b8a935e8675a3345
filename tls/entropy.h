/* SPDX-License-Identifier: Apache-2.0 */
/* Entropy for the mbedTLS random generators inside tls/ (internal to tls/). */
#pragma once

#include <stddef.h>

/* An mbedtls_ctr_drbg_seed entropy callback reading the kernel's getrandom(); ctx is
 * unused. Returns 0, or an mbedTLS error when the kernel cannot supply the bytes. */
int fedns_tls_entropy(void *ctx, unsigned char *buf, size_t len);
