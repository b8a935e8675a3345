#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# /metrics, /healthz and /readyz on a real hub (with its spoke listener) and a real spoke:
# every scrape passes the strict exposition checker (tests/integration/prom_check.py), and
# the numbers move as changes flow: pending changes and the audit chain with proposals and
# approvals, sessions and cluster state when a spoke connects, snapshots and change sets
# sent and applied, the matrix cell going in_sync, an impostor spoke counted as an auth
# failure; the spoke is ready with its hub session and not ready without it.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
spoke=$t_build/spoke/fedns-spoke
ctl=$t_build/cli/fednsctl
chk=$t_src/tests/integration/prom_check.py
for b in "$hub" "$spoke" "$ctl"; do
	[ -x "$b" ] || { echo "$b is not built"; exit 1; }
done
cd "$t_tmp"
"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east --cluster west >/dev/null ||
	{ echo "pki init failed"; exit 1; }
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>/dev/null || exit 1
admin=$(cat admin.token)

t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/hub.pem \
	--key pki/hub.key --port-file hub.port --spoke-listen tls+tcp://127.0.0.1:0 \
	--spoke-ca pki/ca.pem --sign-key pki/hub-signing.key --spoke-port-file spoke.port \
	--heartbeat-ms 500
t_wait 10 test -s hub.port || { cat hub.log; exit 1; }
t_wait 10 test -s spoke.port || { cat hub.log; exit 1; }
hp=$(cat hub.port)
sp=$(cat spoke.port)
url=https://127.0.0.1:$hp

api() { # METHOD PATH [JSON] [TOKEN]
	curl -s --cacert pki/ca.pem -X "$1" -H "Authorization: Bearer ${4:-$admin}" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$url$2"
}
scrape() { # FILE: the hub's exposition, checked strictly
	curl -s -f --cacert pki/ca.pem "$url/metrics" >"$1" && /usr/bin/python3 "$chk" "$1" >/dev/null
}
val() { # FILE SERIES
	/usr/bin/python3 "$chk" "$1" --print "$2" 2>/dev/null
}
# waits until SERIES in a fresh scrape satisfies the test expression "$v OP N"
wait_val() { # SERIES OP N [SECONDS]
	local end=$((SECONDS + ${4:-15})) v
	while [ $SECONDS -le $end ]; do
		if scrape w.prom; then
			v=$(val w.prom "$1")
			[ -n "$v" ] && [ "${v%.*}" "$2" "$3" ] && return 0
		fi
		sleep 0.2
	done
	echo "  $1 is ${v:-absent}, wanted $2 $3"
	return 1
}

families="fedns_hub_store_up fedns_hub_zones fedns_hub_zone_cells fedns_hub_secondaries
fedns_hub_pending_changes fedns_hub_audit_chain_length fedns_hub_cluster_connected
fedns_hub_cluster_last_seen_timestamp_seconds fedns_hub_cluster_cert_expiry_timestamp_seconds
fedns_hub_spoke_listener_up fedns_hub_spoke_sessions fedns_hub_spoke_auth_failures_total
fedns_hub_changesets_sent_total fedns_hub_snapshots_sent_total
fedns_hub_changesets_applied_total fedns_hub_changesets_already_applied_total
fedns_hub_changesets_refused_total fedns_hub_propagation_seconds"
req=()
for f in $families; do req+=(--require "$f"); done

t_check "the hub's /metrics parses strictly with every family" \
	sh -c "curl -s -f --cacert pki/ca.pem '$url/metrics' >m0.prom && /usr/bin/python3 '$chk' m0.prom ${req[*]}"
t_check "Content-Type is the text exposition format 0.0.4" \
	sh -c "curl -s -o /dev/null -w '%{content_type}' --cacert pki/ca.pem '$url/metrics' | grep -qx 'text/plain; version=0.0.4; charset=utf-8'"
t_check "the store is readable and the spoke listener up" \
	sh -c "[ \"$(val m0.prom fedns_hub_store_up)\" = 1 ] && [ \"$(val m0.prom fedns_hub_spoke_listener_up)\" = 1 ] && [ \"$(val m0.prom fedns_hub_spoke_sessions)\" = 0 ]"
t_check "the hub's /healthz answers ok" \
	sh -c "curl -s --cacert pki/ca.pem '$url/healthz' | grep -qx '{\"status\":\"ok\"}'"
t_check "the hub's /readyz answers ready" \
	sh -c "curl -s --cacert pki/ca.pem '$url/readyz' | grep -q '\"status\":\"ready\"'"
audit0=$(val m0.prom fedns_hub_audit_chain_length)

# --- proposals and approvals move the store's numbers ---
api POST /api/v1/tenants '{"name":"bank"}' >/dev/null
api POST /api/v1/zones '{"name":"example.com","tenant":"bank","primary_ns":"ns1.example.net","placement":["east"]}' >zone.json
for p in alice bob; do
	api POST /api/v1/principals "{\"name\":\"$p\"}" >"$p.json"
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$p.json" >"$p.token"
done
api PUT /api/v1/principals/alice/roles/bank '{"role":"editor"}' >/dev/null
api PUT /api/v1/principals/bob/roles/bank '{"role":"approver"}' >/dev/null
scrape m1.prom
t_check "a zone placed on a cluster no spoke serves yet is pending" \
	sh -c "[ \"$(val m1.prom 'fedns_hub_zone_cells{cluster="east",state="pending"}')\" = 1 ] && [ \"$(val m1.prom 'fedns_hub_zones{state="pending"}')\" = 1 ]"
t_check "east is known and not connected" \
	sh -c "[ \"$(val m1.prom 'fedns_hub_cluster_connected{cluster="east"}')\" = 0 ]"
audit1=$(val m1.prom fedns_hub_audit_chain_length)
t_check "the audit chain grew with the admin's writes ($audit0 -> $audit1)" test "$audit1" -gt "$audit0"

# --- a spoke connects ---
shp=$(t_port)
t_start spoke_east "$spoke" --listen 127.0.0.1:0 --allow-unsigned-transfers \
	--port-file east.dnsport --hub "tls+tcp://127.0.0.1:$sp" --hub-name hub.fedns.test \
	--cluster east --cert pki/spoke-east.pem --key pki/spoke-east.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub --http "127.0.0.1:$shp" --heartbeat-ms 500
t_check "the hub counts the spoke's session" wait_val fedns_hub_spoke_sessions -eq 1
t_check "east shows connected" wait_val 'fedns_hub_cluster_connected{cluster="east"}' -eq 1
t_check "east got the zone as a snapshot" wait_val 'fedns_hub_snapshots_sent_total{cluster="east"}' -ge 1
t_check "and applied it" wait_val 'fedns_hub_changesets_applied_total{cluster="east"}' -ge 1
# no secondary is configured: the spoke holds the zone but nothing proved it served
t_check "the cell leaves pending for unknown (no secondary)" \
	wait_val 'fedns_hub_zone_cells{cluster="east",state="unknown"}' -eq 1
t_check "the zone is unknown, no longer pending" wait_val 'fedns_hub_zones{state="pending"}' -eq 0
t_check "the last-seen time is recent" \
	wait_val 'fedns_hub_cluster_last_seen_timestamp_seconds{cluster="east"}' -ge $(($(date +%s) - 120))

# --- the spoke's own endpoint ---
t_check "the spoke's /healthz answers ok" \
	sh -c "curl -s http://127.0.0.1:$shp/healthz | grep -qx '{\"status\":\"ok\"}'"
t_check "the spoke's /readyz is 200 ready with its hub session" \
	sh -c "[ \"\$(curl -s -o ready.json -w '%{http_code}' http://127.0.0.1:$shp/readyz)\" = 200 ] && grep -q '\"status\":\"ready\"' ready.json"
t_check "the spoke's /metrics parses strictly" \
	sh -c "curl -s -f http://127.0.0.1:$shp/metrics >spoke.prom && /usr/bin/python3 '$chk' spoke.prom"
t_check "the spoke's unknown path is 404" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$shp/nope)\" = 404 ]"

# --- a change flows: pending, sent as a change set, applied ---
scrape m2.prom
sent0=$(val m2.prom 'fedns_hub_changesets_sent_total{cluster="east"}')
applied0=$(val m2.prom 'fedns_hub_changesets_applied_total{cluster="east"}')
serial=$(sed -n 's/.*"serial":\([0-9]*\).*/\1/p' zone.json)
api POST /api/v1/zones/example.com/changes "{\"base_serial\":$serial,\"reason\":\"www\",\"edits\":[{\"op\":\"add\",\"name\":\"www\",\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.80\"]}]}" "$(cat alice.token)" >change.json
cid=$(sed -n 's/.*"change":{"id":\([0-9]*\).*/\1/p' change.json)
t_check "the proposal counts as a pending change" wait_val fedns_hub_pending_changes -eq 1
api POST "/api/v1/changes/$cid/approve" '{}' "$(cat bob.token)" >approve.json
t_check "the approval commits it" grep -q '"committed":true' approve.json
t_check "no change is pending after the commit" wait_val fedns_hub_pending_changes -eq 0
t_check "the change set was sent to east" \
	wait_val 'fedns_hub_changesets_sent_total{cluster="east"}' -gt "${sent0:-0}"
t_check "and applied there" \
	wait_val 'fedns_hub_changesets_applied_total{cluster="east"}' -gt "${applied0:-0}"
t_check "the cell is back to unknown at the new serial" \
	wait_val 'fedns_hub_zone_cells{cluster="east",state="unknown"}' -eq 1
scrape m3.prom
t_check "east has a propagation histogram" \
	sh -c "[ -n \"$(val m3.prom 'fedns_hub_propagation_seconds_count{cluster="east"}')\" ]"
t_check "refusals are counted by reason, zero here" \
	sh -c "[ \"$(val m3.prom 'fedns_hub_changesets_refused_total{cluster="east",reason="digest_mismatch"}')\" = 0 ]"
t_check "no zone name appears in the hub's metrics" sh -c "! grep -q example m3.prom"

# --- an impostor: west's certificate claiming east ---
t_start impostor "$spoke" --listen 127.0.0.1:0 --allow-unsigned-transfers \
	--hub "tls+tcp://127.0.0.1:$sp" --hub-name hub.fedns.test --cluster east \
	--cert pki/spoke-west.pem --key pki/spoke-west.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub
t_check "a spoke whose certificate is another cluster's counts as an auth failure" \
	wait_val fedns_hub_spoke_auth_failures_total -ge 1
t_stop impostor
t_check "the impostor never became a session" wait_val fedns_hub_spoke_sessions -eq 1

# --- the hub goes away: the spoke is not ready ---
t_stop hub
notready() {
	[ "$(curl -s -o nr.json -w '%{http_code}' "http://127.0.0.1:$shp/readyz")" = 503 ] &&
		grep -q '"status":"not_ready"' nr.json
}
t_check "without its hub the spoke's /readyz is 503 not_ready" t_wait 15 notready
t_check "while its /healthz still answers ok" \
	sh -c "curl -s http://127.0.0.1:$shp/healthz | grep -qx '{\"status\":\"ok\"}'"
t_check "no token in the hub's log" sh -c "! grep -q 'fedns_[A-Za-z0-9_-]\{43\}' hub.log"

t_done
