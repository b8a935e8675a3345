#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fednsctl status and clusters against a real fedns-hub: a row per (zone, placed cluster)
# before any spoke connected, then (after status rows are written into the stopped hub's
# store with sqlite3, as the fan-out would) states, serials, lag and proof times in the
# table and in -o json, filters, the worst-state rule, a viewer seeing only its tenant,
# the hub's errors with exit 1, usage errors with exit 2 and an unreachable hub with 3.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
[ -x "$hub" ] || { echo "$t_name: $hub is not built"; exit 1; }
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
command -v sqlite3 >/dev/null || { echo "$t_name: sqlite3 is not installed"; exit 1; }
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT XDG_CONFIG_HOME
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }

umask 077
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }

start_hub() {
	rm -f hub.port
	t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 \
		--cert pki/server.pem --key pki/server.key --port-file hub.port
	t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
	port=$(cat hub.port)
	mkdir -p "$HOME/.config/fednsctl"
	cp pki/ca.pem admin.token "$HOME/.config/fednsctl/"
	cat >"$HOME/.config/fednsctl/config.json" <<EOF
{"server": "https://127.0.0.1:$port", "cacert": "ca.pem", "token_file": "admin.token"}
EOF
}
start_hub

run() { # run NAME CMD...: fednsctl's stdout, stderr and exit code into NAME.out/.err/.rc
	local name=$1
	shift
	"$ctl" "$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
}
rc_is() { [ "$(cat "$1.rc")" = "$2" ]; }
jget() { # jget FILE EXPR: a value from a JSON answer
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# line FILE COLUMNS...: FILE has a line whose whitespace-separated fields are exactly these
line() {
	local f=$1
	shift
	awk -v want="$*" '{ $1 = $1; if ($0 == want) found = 1 } END { exit !found }' "$f"
}

"$ctl" tenant create acme >/dev/null && "$ctl" tenant create other >/dev/null &&
	"$ctl" principal create vic --token-out "$t_tmp/vic.token" >/dev/null &&
	"$ctl" principal grant vic --tenant acme --role viewer >/dev/null
t_check "tenants and a viewer of acme" [ $? = 0 ]
run z1 zone create example.com --tenant acme --primary-ns ns1.example.net \
	--hostmaster hm@example.net --cluster east --cluster west
run z2 zone create other.example --tenant other --primary-ns ns1.example.net \
	--hostmaster hm@example.net --cluster east
run z3 zone create unplaced.example --tenant acme --primary-ns ns1.example.net \
	--hostmaster hm@example.net
t_check "zones created, two placed" eval 'rc_is z1 0 && rc_is z2 0 && rc_is z3 0'
serial=$("$ctl" zone show example.com -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')
oserial=$("$ctl" zone show other.example -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')

# before any spoke connected: a row per placed cluster, pending, nothing known
run s0 status
t_check "status: the header" \
	eval 'rc_is s0 0 && line s0.out ZONE CLUSTER SECONDARY STATE SERIAL HUB_SERIAL LAG LAST_PROVEN'
t_check "status: a pending row per (zone, placed cluster) before any spoke" eval '
	[ "$(wc -l <s0.out)" = 4 ] &&
	line s0.out example.com. east - pending - "$serial" - - &&
	line s0.out example.com. west - pending - "$serial" - - &&
	line s0.out other.example. east - pending - "$oserial" - - &&
	! grep -q unplaced s0.out'
run c0 clusters
t_check "clusters: the placed clusters, never connected" eval 'rc_is c0 0 &&
	line c0.out NAME CONNECTED SINCE LAST_SEEN VERSION PEER ZONES SENT APPLIED REFUSED LAST_ERROR &&
	line c0.out east no - - - - 2 0 0 0 - && line c0.out west no - - - - 1 0 0 0 -'

# what the fan-out writes, written while the hub is stopped
t_stop hub
zid=$(sqlite3 hub.db "SELECT id FROM zones WHERE name = 'example.com.'")
oid=$(sqlite3 hub.db "SELECT id FROM zones WHERE name = 'other.example.'")
prev=$((serial - 1))
sqlite3 hub.db <<EOF || t_fail "seeding the store"
INSERT INTO clusters(name, connected, first_seen, last_seen, connected_since, software_version,
  peer, cert_not_after, last_error, sent, applied, refused)
  VALUES('east', 1, 1700000000000, 1700000060000, 1700000000000, 'fedns-spoke 0.9',
  '127.0.0.1:41000', 1900000000, '', 12, 11, 1);
INSERT INTO spoke_zones(cluster, zone_id, serial, digest, acked_at, change_id, committed_at,
  applied_ms, last_status, last_reason)
  VALUES('east', $zid, $serial, 'ab', 1700000001000, 0, 0, 7, 'applied', ''),
        ('west', $zid, $serial, 'ab', 1700000001000, 0, 0, 9, 'applied', ''),
        ('east', $oid, $oserial, 'cd', 1700000001000, 0, 0, 5, 'applied', '');
INSERT INTO secondaries(cluster, zone_id, name, address, state, has_serial, serial, digest,
  last_proven, lag_ms, last_error, repairs, updated_at, state_since, confirmed_ms)
  VALUES('east', $zid, 'ns1', '127.0.0.1:5301', 'in_sync', 1, $serial, 'ab',
         1700000002000, 0, '', 0, 1700000002000, 1700000002000, 30),
        ('east', $zid, 'ns2', '127.0.0.1:5302', 'lagging', 1, $prev, '',
         1699999990000, 2500, '', 0, 1700000002000, 1700000002000, -1),
        ('west', $zid, 'ns1', '127.0.0.1:5401', 'in_sync', 1, $serial, 'ab',
         1700000003000, 0, '', 0, 1700000003000, 1700000003000, 40),
        ('east', $oid, 'ns1', '127.0.0.1:5301', 'unreachable', 0, 0, '',
         0, -1, 'connection refused', 0, 1700000002000, 1700000002000, -1);
EOF
start_hub

run s1 status
t_check "status: one line per secondary with its state, serial, lag and proof" eval 'rc_is s1 0 &&
	[ "$(wc -l <s1.out)" = 5 ] &&
	line s1.out example.com. east ns1 in_sync "$serial" "$serial" 0ms 2023-11-14T22:13:22.000Z &&
	line s1.out example.com. east ns2 lagging "$prev" "$serial" 2.5s 2023-11-14T22:13:10.000Z &&
	line s1.out example.com. west ns1 in_sync "$serial" "$serial" 0ms 2023-11-14T22:13:23.000Z &&
	line s1.out other.example. east ns1 unreachable - "$oserial" - -'
run s2 status --zone example.com --cluster west
t_check "status --zone --cluster: that row only" eval 'rc_is s2 0 && [ "$(wc -l <s2.out)" = 2 ] &&
	line s2.out example.com. west ns1 in_sync "$serial" "$serial" 0ms 2023-11-14T22:13:23.000Z'
run s3 status --state lagging
t_check "status --state filters rows by their worst state" eval 'rc_is s3 0 &&
	[ "$(wc -l <s3.out)" = 3 ] && grep -q " ns2 " s3.out && ! grep -q west s3.out'
run s4 status -o json
t_check "status -o json: rows with the row state, spoke and secondaries" eval 'rc_is s4 0 &&
	[ "$(jget s4.out "len(d[\"items\"])")" = 3 ] &&
	[ "$(jget s4.out "\" \".join(r[\"state\"] for r in d[\"items\"])")" = "lagging in_sync unreachable" ] &&
	[ "$(jget s4.out "d[\"items\"][0][\"spoke\"][\"applied_ms\"]")" = 7 ] &&
	[ "$(jget s4.out "d[\"items\"][0][\"secondaries\"][1][\"lag_ms\"]")" = 2500 ] &&
	[ "$(jget s4.out "d[\"items\"][2][\"secondaries\"][0][\"last_error\"]")" = "connection refused" ] &&
	[ "$(jget s4.out "d[\"items\"][0][\"tenant\"]")" = acme ] &&
	[ "$(jget s4.out "d[\"next\"]")" = None ]'
run s5 status --limit 1 -o json
t_check "status --limit 1: one page with its cursor" eval 'rc_is s5 0 &&
	[ "$(jget s5.out "len(d[\"items\"])")" = 1 ] &&
	[ "$(jget s5.out "d[\"next\"]")" = example.com./east ]'
run s6 status --limit 1 --after example.com./east
t_check "status --after: the next page, and how to get more" eval 'rc_is s6 0 &&
	grep -q "example.com. *west" s6.out && grep -q "add --after example.com./west" s6.err'

run v1 status --token-file "$t_tmp/vic.token"
t_check "a viewer of acme sees acme's rows only" eval 'rc_is v1 0 && [ "$(wc -l <v1.out)" = 4 ] &&
	! grep -q other.example v1.out'
run v2 status --zone other.example --token-file "$t_tmp/vic.token"
t_check "another tenant's zone is refused (exit 1, 403)" eval 'rc_is v2 1 && grep -q "HTTP 403" v2.err'
run v3 clusters --token-file "$t_tmp/vic.token"
t_check "clusters counts only the viewer's zones" eval 'rc_is v3 0 && grep -Eq "^east +yes .* 1 +12 +11 +1 " v3.out'

run c1 clusters
t_check "clusters: connected east with its counters" eval 'rc_is c1 0 &&
	line c1.out east yes 2023-11-14T22:13:20.000Z 2023-11-14T22:14:20.000Z fedns-spoke 0.9 127.0.0.1:41000 2 12 11 1 -'
run c2 clusters east
t_check "clusters NAME: the cluster and its zones" eval 'rc_is c2 0 &&
	grep -q "^name: east$" c2.out && grep -q "^connected: true$" c2.out &&
	grep -q "^cert_not_after: 2030-03-17T17:46:40.000Z$" c2.out &&
	line c2.out example.com. east ns2 lagging "$prev" "$serial" 2.5s 2023-11-14T22:13:10.000Z &&
	line c2.out other.example. east ns1 unreachable - "$oserial" - - && ! grep -q west c2.out'
run c3 clusters east -o json
t_check "clusters NAME -o json" eval 'rc_is c3 0 && [ "$(jget c3.out "d[\"sent\"]")" = 12 ] &&
	[ "$(jget c3.out "len(d[\"zones\"])")" = 2 ]'

run e1 clusters nowhere
t_check "an unknown cluster: exit 1 with the hub's 404" eval 'rc_is e1 1 && grep -q "HTTP 404" e1.err &&
	grep -q nowhere e1.err'
run e2 status --state bogus
t_check "a bad state: exit 1, the field named" eval 'rc_is e2 1 && grep -q "HTTP 400" e2.err &&
	grep -q "field: state" e2.err'
run e3 status --limit x
t_check "a bad --limit is a usage error (exit 2)" rc_is e3 2
run e4 clusters a b
t_check "two cluster names are a usage error (exit 2)" rc_is e4 2
t_stop hub
run e5 status
t_check "an unreachable hub: exit 3" rc_is e5 3

t_done
