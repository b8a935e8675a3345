#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`'s script, run to its status table (DEMO_ONESHOT): it must reach all four
# secondaries in_sync at the approved serial, refuse the author's self-approval on the
# way, and leave no process of its own behind.
set -u
build=${FEDNS_BUILD:?}
src=${FEDNS_SRC:?}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
DEMO_ONESHOT=1 bash "$src/scripts/demo.sh" "$build" >"$out" 2>&1
rc=$?
fails=0
check() {
	if "${@:2}"; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
check "demo exits 0" [ "$rc" = 0 ]
check "demo reports all four secondaries in_sync" grep -q "demo: all four secondaries in_sync at serial 2" "$out"
check "the author's self-approval was refused" grep -q "author" "$out"
check "every secondary answers the approved address" \
	[ "$(grep -c 'api.demo.example A 192.0.2.80' "$out")" = 4 ]
# only this run's processes: another demo may be running on the machine
dir=$(sed -n 's/^demo: working in \(\/[^ ]*\) .*/\1/p' "$out" | head -1)
check "the demo said where it worked ($dir)" [ -n "$dir" ]
# (a function, not sh -c: pgrep -f would find the sh whose command line names $dir)
none_left() { [ -n "$dir" ] && ! pgrep -f -- "$dir/" >/dev/null; }
removed() { [ -n "$dir" ] && [ ! -e "$dir" ]; }
check "no process of this demo left (named, fedns-hub, fedns-spoke under $dir)" none_left
check "its working directory is removed" removed
[ "$fails" = 0 ] || tail -n 60 "$out"
echo "test_demo: $((7 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
