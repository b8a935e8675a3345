#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The hub's dashboard in real headless Chromium (tests/browser/run.sh): matrix states, a
# change going pending then in_sync without a reload, an unreachable secondary turning its
# cell red, filters, the zone and cluster drill-downs, a viewer's refused approval, an
# approver's click committing, no foreign request and no CSP violation. Skipped, saying so,
# when Debian's chromium or python3-websocket is not installed.
set -u
: "${FEDNS_BUILD:?FEDNS_BUILD is not set}" "${FEDNS_SRC:?FEDNS_SRC is not set}"
if ! command -v chromium >/dev/null 2>&1; then
	echo "test_ops_dashboard: SKIPPED: no chromium (apt-get install chromium)"
	exit 0
fi
if ! /usr/bin/python3 -c 'import websocket' 2>/dev/null; then
	echo "test_ops_dashboard: SKIPPED: no python3-websocket"
	exit 0
fi
exec bash "$FEDNS_SRC/tests/browser/run.sh"
