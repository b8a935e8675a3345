/* SPDX-License-Identifier: Apache-2.0 */
/* Internal switches of common/sha2.c for tests and benchmarks: which SHA-256 code runs. */
#pragma once

#include <stdbool.h>

/* True when this CPU has the x86 SHA extensions (the fast SHA-256 path can run). */
bool fedns_sha256_accelerated(void);
/* Forces the portable SHA-256 code (true) or goes back to the best one for this CPU (false);
 * the environment variable FEDNS_SHA2_PORTABLE=1 does the former for a whole process.
 */
void fedns_sha256_use_portable(bool portable);
/* The same for SHA-384/512: true when the CPU (and OS) can run the AVX2 message schedule;
 * FEDNS_SHA2_PORTABLE=1 forces the portable code for both. */
bool fedns_sha512_accelerated(void);
void fedns_sha512_use_portable(bool portable);
