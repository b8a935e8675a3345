#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a whole fedns federation on loopback. A dev PKI, a hub on the embedded
# store, spokes for clusters "east" and "west" with two BIND9 secondaries each; a zone
# placed on both; a change proposed by alice and approved by bob; the status table with
# all four secondaries in_sync at the new serial. Then everything keeps running until
# Ctrl-C, and every process the demo started is stopped (by PID) and its files removed.
#
# usage: scripts/demo.sh [BUILD_DIR]     (DEMO_ONESHOT=1: stop after the status table)
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
export FEDNS_SRC=$src
export FEDNS_BUILD=${1:-$src/build}
FEDNS_BUILD=$(cd "$FEDNS_BUILD" && pwd)
. "$src/tests/integration/lib.sh"
. "$src/tests/e2e/fedlib.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
	echo "demo: $*" >&2
	for f in hub spoke_east spoke_west; do
		[ -e "$t_tmp/$f.log" ] && { echo "--- $f.log (last lines)" >&2; tail -n 15 "$t_tmp/$f.log" >&2; }
	done
	exit 1
}

fed_need_tools || fail "missing tools (run make deps)"
cd "$t_tmp"
echo "demo: working in $t_tmp (removed when the demo stops)"
step "dev PKI (fednsctl pki init): CA, hub and spoke certificates, hub signing key"
fed_pki east west || fail "pki init"
ls pki

step "hub: REST API over HTTPS and the spoke listener (mutual TLS), embedded SQLite store"
fed_hub_start || fail "the hub did not start"
echo "API https://127.0.0.1:$fed_api_port   spokes tls+tcp://127.0.0.1:$fed_spoke_port"

step "principals: tenant acme, alice (editor) and bob (approver)"
fed_people acme || fail "principals"
fedctl principal list

step "zone demo.example, placed on clusters east and west"
fed_zone_file demo.example 1 >demo.zone
fedctl zone create demo.example --tenant acme --file demo.zone --cluster east \
	--cluster west || fail "zone create"

step "spokes east and west, two BIND9 secondaries each (catalog zone, TSIG, rndc)"
fed_spoke_start east 2 || fail "spoke east"
fed_spoke_start west 2 || fail "spoke west"
t_wait 60 fed_all_in_sync demo.example 1 east west || fail "secondaries not in_sync at serial 1"
fedctl status --zone demo.example

step "alice proposes a change; the hub answers with the plan"
out=$(fedctl_as alice change propose demo.example --add 'api 300 A 192.0.2.80' \
	--add 'api 300 AAAA 2001:db8::80' --reason "demo: publish the API" --ticket DEMO-1 \
	-o json) || fail "propose: $out"
id=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["change"]["id"])' <<<"$out") ||
	fail "propose answered: $out"
fedctl change plan "$id"

step "alice cannot approve her own change (segregation of duties)"
fedctl_as alice change approve "$id" && fail "self-approval was accepted"

step "bob approves: the hub commits, signs and pushes it"
fedctl_as bob change approve "$id" --comment "looks right" || fail "approve"
serial=$(fedctl zone show demo.example -o json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')

step "status: every secondary of every cluster, proven by its own bytes"
t_wait 60 fed_all_in_sync demo.example "$serial" east west ||
	{ fedctl status; fail "not every secondary reached serial $serial"; }
fedctl status --zone demo.example
for c in east west; do
	for i in 1 2; do
		printf '%s ns%s: api.demo.example A %s\n' "$c" "$i" \
			"$(dig +short +norec @127.0.0.1 -p "$(cat "spoke-$c/np$i")" api.demo.example A)"
	done
done
if [ -n "${DEMO_ONESHOT:-}" ]; then
	echo "demo: all four secondaries in_sync at serial $serial"
	exit 0
fi

step "running; Ctrl-C stops everything the demo started"
cat <<EOF
  dashboard  https://127.0.0.1:$fed_api_port/dashboard/ (CA: $t_tmp/pki/ca.pem)
  fednsctl   FEDNSCTL_CONFIG=$t_tmp/ctl.json $fed_ctl_bin status
  tokens     $t_tmp/admin.token $t_tmp/alice.token $t_tmp/bob.token
  logs       $t_tmp/*.log
EOF
trap 'echo; echo "demo: stopping"; exit 0' INT TERM
while :; do sleep 1; done
