#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard in headless Chromium against a hub started here (status seeded through the
# store until spokes run: tests/browser/test_dashboard.py --mode seed). Needs Debian's
# chromium and python3-websocket. Screenshots go to $FEDNS_BUILD/tests/browser/ (or
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
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/server.pem \
	--key pki/server.key --port-file hub.port
t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
port=$(cat hub.port)

/usr/bin/python3 "$t_src/tests/browser/test_dashboard.py" --hub "https://127.0.0.1:$port" \
	--ca pki/ca.pem --admin-token admin.token --store hub.db --out "$out"
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
