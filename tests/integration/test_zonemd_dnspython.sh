#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ZONEMD digests from fednsctl must equal dnspython's on generated zones of several shapes.
set -euo pipefail

: "${FEDNS_BUILD:?set FEDNS_BUILD to the build directory}"
: "${FEDNS_SRC:?set FEDNS_SRC to the source directory}"

FEDNSCTL="$FEDNS_BUILD/cli/fednsctl"
PY=/usr/bin/python3

if [ ! -x "$FEDNSCTL" ]; then
	echo "FAIL: $FEDNSCTL not built" >&2
	exit 1
fi
if ! "$PY" -c 'import dns.zone; dns.zone.DigestHashAlgorithm' 2>/dev/null; then
	echo "FAIL: dnspython with ZONEMD support is missing (apt-get install python3-dnspython)" >&2
	exit 1
fi

TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fedns-zonemd.XXXXXX")
trap 'rm -rf "$TMP_DIR"' EXIT

"$PY" "$FEDNS_SRC/tests/integration/zonemd_check.py" "$FEDNSCTL" "$TMP_DIR"
