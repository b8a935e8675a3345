#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Crash safety of fedns-hub: a stream of propose+approve commits into two zones while the
# hub is killed with SIGKILL at random moments (20 kills by default, each followed by a
# restart on the same store); afterwards every acknowledged commit is there, nothing is
# half-written, exported versions hash to their digests, serials have no gaps and the
# audit chain verifies.
# HUB_CRASH_KILLS and HUB_CRASH_SEED override the number of kills and the random seed.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
py=$t_src/tests/integration/hub_crash.py
[ -x "$hub" ] || { echo "$t_name: $hub is not built"; exit 1; }
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT XDG_CONFIG_HOME
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }
kills=${HUB_CRASH_KILLS:-20}
seed=${HUB_CRASH_SEED:-$RANDOM}
echo "# seed $seed (HUB_CRASH_SEED=$seed reproduces the kill timing, not the scheduling)"

"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
serve=("$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/server.pem
	--key pki/server.key --port-file hub.port)
start_hub() {
	rm -f hub.port
	t_start hub "${serve[@]}"
	t_wait 15 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
	port=$(cat hub.port)
}

start_hub
/usr/bin/python3 "$py" setup "$port" pki/ca.pem admin.token state.json 2 ||
	{ cat hub.log; exit 1; }
t_stop hub

# the driver starts and SIGKILLs its own hub processes (by PID) and returns after the last
# kill, so the store is checked as a crash left it
HUB_CRASH_CA=pki/ca.pem timeout 300 /usr/bin/python3 "$py" crash state.json "$kills" "$seed" \
	hub.port crash-hubs.log -- "${serve[@]}" | tee crash.out
t_check "the stream ran through $kills SIGKILLs and restarts" \
	[ "${PIPESTATUS[0]}" = 0 ]
t_check "the hub restarted every time (no refusal to open the store)" \
	[ "$(grep -c '"event":"hub.serving"' crash-hubs.log)" -ge $((kills + 1)) ]

start_hub
/usr/bin/python3 "$py" verify "$port" pki/ca.pem admin.token state.json "$ctl" . | tee verify.out
t_check "every crash-safety check passed" grep -q '^hub_crash_check: 0 failed$' verify.out

# the audit chain, offline, from fednsctl's evidence bundle
export FEDNSCTL_SERVER=https://127.0.0.1:$port FEDNSCTL_CACERT=$t_tmp/pki/ca.pem
FEDNSCTL_TOKEN=$(cat admin.token) "$ctl" audit export -o audit.json >export.out 2>&1
t_check "fednsctl audit export writes the bundle" [ -s audit.json ]
t_check "fednsctl audit verify accepts the chain after the crashes" \
	"$ctl" audit verify audit.json
unset FEDNSCTL_SERVER FEDNSCTL_CACERT

# a clean stop, then restore's own checks (integrity_check and the audit chain) on the store
t_stop hub
t_check "the hub stopped cleanly after the crashes" grep -q '"event":"hub.stopped"' hub.log
t_check "fedns-hub restore accepts the crashed-and-recovered store (integrity, chain)" \
	"$hub" restore --from hub.db --store checked.db
t_check "no sanitizer report in the hubs' logs" \
	sh -c '! grep -Eq "(Address|Leak|Undefined)Sanitizer|runtime error" crash-hubs.log hub.log'

t_done
