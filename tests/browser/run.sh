#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard in headless Chromium against a hub started here. FEDNS_BROWSER_MODE=seed
# (default) writes the spokes' reports into the store (test_dashboard.py --mode seed);
# FEDNS_BROWSER_MODE=live runs the hub's spoke listener and two real spokes, east and west.
# Needs Debian's chromium and python3-websocket. Screenshots go to $FEDNS_BUILD/tests/browser/ (or
# $FEDNS_BROWSER_OUT); the build directory is never committed.
#
# usage: FEDNS_BUILD=build FEDNS_SRC=. bash tests/browser/run.sh
. "${FEDNS_SRC:?FEDNS_SRC is not set}/tests/integration/lib.sh"

hub=$t_build/hub/fedns-hub
[ -x "$hub" ] || { echo "$hub is not built"; exit 1; }
out=${FEDNS_BROWSER_OUT:-$t_build/tests/browser}
mkdir -p "$out"
rm -f "$out"/*.png

cd "$t_tmp"
mode=${FEDNS_BROWSER_MODE:-seed}
if [ "$mode" = live ]; then
	# a hub with its spoke listener and two real spokes (no secondaries: cells turn
	# in_sync when a spoke holds the hub's serial)
	spoke=$t_build/spoke/fedns-spoke
	"$t_build/cli/fednsctl" pki init --dir pki --hub-name hub.fedns.test --cluster east \
		--cluster west >/dev/null || { echo "pki init failed"; exit 1; }
	cert=pki/hub.pem key=pki/hub.key ca=pki/ca.pem
	spoke_args=(--spoke-listen tls+tcp://127.0.0.1:0 --spoke-ca pki/ca.pem
		--sign-key pki/hub-signing.key --spoke-port-file spoke.port --heartbeat-ms 500)
	FEDNS_BROWSER_SYNCED=${FEDNS_BROWSER_SYNCED:-unknown}
else
	bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }
	cert=pki/server.pem key=pki/server.key ca=pki/ca.pem
	spoke_args=()
fi
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert "$cert" \
	--key "$key" --port-file hub.port "${spoke_args[@]}"
t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
port=$(cat hub.port)
if [ "$mode" = live ]; then
	t_wait 10 test -s spoke.port || { cat "$t_tmp/hub.log"; exit 1; }
	for c in east west; do
		t_start "spoke_$c" "$spoke" --listen 127.0.0.1:0 --allow-unsigned-transfers \
			--hub "tls+tcp://127.0.0.1:$(cat spoke.port)" --hub-name hub.fedns.test \
			--cluster "$c" --cert "pki/spoke-$c.pem" --key "pki/spoke-$c.key" \
			--ca pki/ca.pem --hub-key pki/hub-signing.pub --heartbeat-ms 500
	done
fi

PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$t_src/tests/browser/test_dashboard.py" --hub "https://127.0.0.1:$port" \
	--ca "$ca" --admin-token admin.token --store hub.db --mode "$mode" --out "$out" \
	--fednsctl "$t_build/cli/fednsctl" --hub-log "$t_tmp/hub.log" \
	${FEDNS_BROWSER_SYNCED:+--synced-state "$FEDNS_BROWSER_SYNCED"}
rc=$?
if [ $rc != 0 ]; then
	echo "--- hub log (last 30 lines) ---"
	tail -n 30 "$t_tmp/hub.log"
fi
# the admin's and users' tokens must not be in the hub's log
if grep -q 'fedns_[A-Za-z0-9_-]\{43\}' "$t_tmp/hub.log"; then
	echo "FAIL - a token appears in the hub log"
	rc=1
fi
exit $rc
