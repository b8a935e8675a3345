/* SPDX-License-Identifier: Apache-2.0 */
/* tls/sign test hooks: compare the libcrypto and mbedTLS signature paths in one process.
 * Not for production code; neither call is thread-safe. */
#pragma once

#include <stdbool.h>

#include "tls/sign.h"

/* false sends every signature made or checked afterwards through mbedTLS; true (the
 * default) uses libcrypto where it is built in. Returns whether libcrypto is built in. */
bool fedns_sign_test_use_libcrypto(bool on);
/* Whether k's next signature operation would go through libcrypto. */
bool fedns_sign_test_key_on_libcrypto(const fedns_sign_key *k);
