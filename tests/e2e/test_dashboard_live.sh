#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard in real headless Chromium (tests/browser/test_dashboard.py --mode live)
# against a running hub with two real spokes, east and west, each feeding a real BIND9
# secondary: the matrix shows the states the spokes prove, a change made through the API
# shows as awaiting approval and then in_sync on every cluster without a reload, west's
# secondary stopped turns its cell red (unreachable), and a viewer's approval is refused.
# Screenshots go to $FEDNS_BUILD/tests/browser-live/ (never committed).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fedlib.sh"
if ! command -v chromium >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import websocket' 2>/dev/null; then
	echo "test_dashboard_live: chromium and python3-websocket are required (scripts/install-deps.sh)"
	exit 1
fi
fed_need_tools || exit 1
cd "$t_tmp"
out=$t_build/tests/browser-live
mkdir -p "$out"
rm -f "$out"/*.png

fed_pki east west || exit 1
fed_hub_start || exit 1
fed_spoke_start east 1 || exit 1
fed_spoke_start west 1 || exit 1
# the browser test's "unreachable" step: west's secondary stops, the spoke re-verifies
cmd="kill $pid_named_west_1; sleep 0.5; '$fed_spoke_bin' ctl '$t_tmp/spoke-west/ctl.sock' verify >/dev/null"
/usr/bin/python3 "$t_src/tests/browser/test_dashboard.py" --hub "https://127.0.0.1:$fed_api_port" \
	--ca pki/ca.pem --admin-token admin.token --mode live --out "$out" \
	--unreachable-cmd "$cmd" --unreachable-cell example.com./west
rc=$?
ls "$out"/*.png >/dev/null 2>&1 || { echo "FAIL - no screenshot written"; rc=1; }
if [ $rc != 0 ]; then
	echo "--- hub (last 20 lines)"; tail -n 20 "$t_tmp/hub.log"
	echo "--- west (last 20 lines)"; tail -n 20 "$t_tmp/spoke_west.log"
fi
exit $rc
