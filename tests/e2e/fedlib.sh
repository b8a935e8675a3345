# SPDX-License-Identifier: Apache-2.0
# A whole federation on loopback for end-to-end tests, benchmarks and `make demo`: a dev
# PKI, a hub on the embedded store, principals, and spokes each feeding real BIND9
# secondaries through the catalog zone. Sourced after tests/integration/lib.sh (which
# gives t_port, t_start, t_wait and the cleanup of every process started here, by PID).
#
# Everything lives under $t_tmp: pki/, hub/, spoke-<cluster>/ with ns<i>/ per secondary.

fed_hub_bin=$t_build/hub/fedns-hub
fed_spoke_bin=$t_build/spoke/fedns-spoke
fed_ctl_bin=$t_build/cli/fednsctl
fed_hub_name=hub.fedns.test
fed_catalog=catalog.fedns.
fed_secondary_opts=${FED_SECONDARY_OPTS:-}

fed_need_tools() {
	local x
	for x in "$fed_hub_bin" "$fed_spoke_bin" "$fed_ctl_bin"; do
		[ -x "$x" ] || { echo "$x is not built" >&2; return 1; }
	done
	for x in named dig rndc tsig-keygen; do
		command -v "$x" >/dev/null || { echo "$x not found" >&2; return 1; }
	done
}

# fed_pki CLUSTER...: the dev PKI with one spoke certificate per cluster.
fed_pki() {
	local args=() c
	for c in "$@"; do args+=(--cluster "$c"); done
	"$fed_ctl_bin" pki init --dir "$t_tmp/pki" --hub-name "$fed_hub_name" "${args[@]}" \
		>"$t_tmp/pki-init.log" 2>&1 || { cat "$t_tmp/pki-init.log" >&2; return 1; }
}

# fed_hub_start [EXTRA SERVE ARGS...]: bootstraps the store (first run only) and starts
# the hub with its REST API and spoke listener on free ports. Sets fed_api_port,
# fed_spoke_port, and writes $t_tmp/ctl.json (fednsctl config of the admin).
fed_hub_start() {
	local d=$t_tmp/hub
	mkdir -p "$d"
	if [ ! -e "$d/hub.db" ]; then
		(umask 077 && "$fed_hub_bin" bootstrap --store "$d/hub.db" --admin admin \
			>"$t_tmp/admin.token" 2>"$d/bootstrap.err") ||
			{ cat "$d/bootstrap.err" >&2; return 1; }
	fi
	rm -f "$d/api.port" "$d/spoke.port"
	t_start hub "$fed_hub_bin" serve --store "$d/hub.db" \
		--listen https://127.0.0.1:${FED_API_PORT:-0} \
		--cert "$t_tmp/pki/hub.pem" --key "$t_tmp/pki/hub.key" --port-file "$d/api.port" \
		--spoke-listen tls+tcp://127.0.0.1:${FED_SPOKE_PORT:-0} \
		--spoke-port-file "$d/spoke.port" --spoke-ca "$t_tmp/pki/ca.pem" \
		--sign-key "$t_tmp/pki/hub-signing.key" "$@"
	t_wait 20 test -s "$d/api.port" || { cat "$t_tmp/hub.log" >&2; return 1; }
	t_wait 20 test -s "$d/spoke.port" || { cat "$t_tmp/hub.log" >&2; return 1; }
	fed_api_port=$(cat "$d/api.port")
	fed_spoke_port=$(cat "$d/spoke.port")
	# a restart comes back on the same ports, so spokes and scripts keep their addresses
	FED_API_PORT=$fed_api_port
	FED_SPOKE_PORT=$fed_spoke_port
	cat >"$t_tmp/ctl.json" <<EOF
{"server": "https://127.0.0.1:$fed_api_port", "cacert": "$t_tmp/pki/ca.pem",
 "token_file": "$t_tmp/admin.token"}
EOF
}

# quiet CMD...: CMD with its standard output dropped (for t_check).
quiet() {
	"$@" >/dev/null
}

# fedctl ARGS...: fednsctl as the admin.
fedctl() {
	FEDNSCTL_CONFIG=$t_tmp/ctl.json "$fed_ctl_bin" "$@"
}

# fedctl_as WHO ARGS...: fednsctl as principal WHO (token in $t_tmp/WHO.token).
fedctl_as() {
	local who=$1
	shift
	FEDNSCTL_CONFIG=$t_tmp/ctl.json "$fed_ctl_bin" "$@" --token-file "$t_tmp/$who.token"
}

# fed_people TENANT: alice (editor) and bob (approver) of TENANT.
fed_people() {
	fedctl tenant create "$1" >/dev/null || return 1
	local p
	for p in alice bob; do
		fedctl principal create $p --token-out "$t_tmp/$p.token" >/dev/null || return 1
	done
	fedctl principal grant alice --tenant "$1" --role editor >/dev/null &&
		fedctl principal grant bob --tenant "$1" --role approver >/dev/null
}

# fed_spoke_start CLUSTER NSECONDARIES [EXTRA SPOKE ARGS...]: starts NSECONDARIES BIND9
# secondaries (catalog zone from the spoke, TSIG-signed transfers, rndc for repairs) and
# the spoke of CLUSTER connected to the hub. Ports stay the same across restarts
# (fed_spoke_restart).
fed_spoke_start() {
	local c=$1 n=$2
	shift 2
	local d=$t_tmp/spoke-$c i
	mkdir -p "$d/state"
	if [ ! -e "$d/key.conf" ]; then
		tsig-keygen -a hmac-sha256 xfr-key >"$d/key.conf"
		tsig-keygen -a hmac-sha256 rndc-key >"$d/rndc.key"
		t_port >"$d/dns.port"
		for i in $(seq 1 "$n"); do
			t_port >"$d/np$i"
			t_port >"$d/rp$i"
		done
		echo "$n" >"$d/nsec"
		printf '%s\n' "$@" >"$d/extra"
	fi
	fed_named_start "$c" all
	fed_spoke_run "$c"
}

# fed_spoke_run CLUSTER: (re)starts the spoke process of CLUSTER with its saved settings.
fed_spoke_run() {
	local c=$1 d=$t_tmp/spoke-$1 i
	local n
	n=$(cat "$d/nsec")
	local args=(--listen "127.0.0.1:$(cat "$d/dns.port")" --port-file "$d/spoke.dnsport"
		--catalog "$fed_catalog" --tsig-keyfile "$d/key.conf" --state-dir "$d/state"
		--control "$d/ctl.sock" --notify-gap-ms 10
		--hub "tls+tcp://127.0.0.1:$fed_spoke_port" --hub-name "$fed_hub_name"
		--cluster "$c" --cert "$t_tmp/pki/spoke-$c.pem" --key "$t_tmp/pki/spoke-$c.key"
		--ca "$t_tmp/pki/ca.pem" --hub-key "$t_tmp/pki/hub-signing.pub"
		--rndc-key "$d/rndc.key" --verify-coalesce-ms 0 --verify-interval 60)
	for i in $(seq 1 "$n"); do
		args+=(--notify "127.0.0.1:$(cat "$d/np$i")"
			--secondary "ns$i=127.0.0.1:$(cat "$d/np$i")"
			--rndc "ns$i=127.0.0.1:$(cat "$d/rp$i")")
	done
	local extra=()
	mapfile -t extra <"$d/extra"
	[ "${#extra[@]}" = 1 ] && [ -z "${extra[0]}" ] && extra=()
	rm -f "$d/spoke.dnsport"
	t_start "spoke_$c" "$fed_spoke_bin" "${args[@]}" "${extra[@]}"
	t_wait 20 test -s "$d/spoke.dnsport" || { cat "$t_tmp/spoke_$c.log" >&2; return 1; }
}

# fed_named_start CLUSTER all|INDEX: one or every BIND9 secondary of CLUSTER.
fed_named_start() {
	local c=$1 which=$2 d=$t_tmp/spoke-$1 i n
	n=$(cat "$d/nsec")
	for i in $(seq 1 "$n"); do
		[ "$which" = all ] || [ "$which" = "$i" ] || continue
		local nd=$d/ns$i sp
		sp=$(cat "$d/dns.port")
		mkdir -p "$nd"
		cat >"$nd/named.conf" <<C
include "$d/key.conf";
include "$d/rndc.key";
controls { inet 127.0.0.1 port $(cat "$d/rp$i") allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
	directory "$nd";
	pid-file "$nd/named.pid";
	listen-on port $(cat "$d/np$i") { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
	allow-transfer { key "xfr-key"; };
	masterfile-format text;
	serial-query-rate 1000;
	$fed_secondary_opts
	catalog-zones {
		zone "$fed_catalog" default-primaries { 127.0.0.1 port $sp key "xfr-key"; }
			in-memory no zone-directory "$nd";
	};
};
zone "$fed_catalog" {
	type secondary;
	primaries { 127.0.0.1 port $sp key "xfr-key"; };
	file "$nd/catalog.db";
};
C
		t_start "named_${c}_$i" named -g -c "$nd/named.conf"
	done
}

# fed_zone_file ORIGIN SERIAL: a small zone in master-file form.
fed_zone_file() {
	cat <<Z
\$ORIGIN $1.
\$TTL 3600
@	IN SOA ns1 hostmaster $2 3600 900 604800 300
@	IN NS ns1
ns1	IN A 192.0.2.53
www	IN A 192.0.2.1
Z
}

# fed_change ZONE NAME ADDR: alice proposes "NAME 300 A ADDR" (replacing NAME's A RRset)
# and bob approves it; prints the new serial.
fed_change() {
	local out id
	out=$(fedctl_as alice change propose "$1" --replace "$2 300 A $3" --reason "e2e" \
		--allow-mass-delete -o json) || { echo "$out" >&2; return 1; }
	id=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["change"]["id"])' <<<"$out")
	out=$(fedctl_as bob change approve "$id" -o json) || { echo "$out" >&2; return 1; }
	/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["change"]["serial"])' <<<"$out"
}

# fed_all_in_sync ZONE SERIAL [CLUSTER...]: the hub reports every secondary of every
# placed cluster (or of the listed ones) in_sync at SERIAL.
fed_all_in_sync() {
	local z=$1 s=$2
	shift 2
	fedctl status --zone "$z" -o json >"$t_tmp/status.json" 2>/dev/null || return 1
	/usr/bin/python3 - "$t_tmp/status.json" "$s" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); serial = int(sys.argv[2]); want = set(sys.argv[3:])
rows = d["items"]
seen = set()
for r in rows:
    if want and r["cluster"] not in want:
        continue
    seen.add(r["cluster"])
    if not r["secondaries"]:
        sys.exit(1)
    for s in r["secondaries"]:
        if s["state"] != "in_sync" or s["serial"] != serial:
            sys.exit(1)
if want and seen != want:
    sys.exit(1)
sys.exit(0 if rows else 1)
PY
}

# fed_dig_serial CLUSTER INDEX ZONE: the SOA serial secondary INDEX of CLUSTER serves.
fed_dig_serial() {
	dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$(cat "$t_tmp/spoke-$1/np$2")" "$3" SOA |
		awk '{print $3}'
}

# fed_audit_has ACTION TARGET_PART OUTCOME: the hub's audit chain holds such a record.
fed_audit_has() {
	fedctl audit export -o "$t_tmp/audit-now.json" >/dev/null 2>&1 || return 1
	/usr/bin/python3 - "$t_tmp/audit-now.json" "$@" <<'PY'
import json, sys
recs = json.load(open(sys.argv[1]))["records"]
action, part, outcome = sys.argv[2:5]
sys.exit(0 if any(r.get("action") == action and part in r.get("target", "") and
                  r.get("outcome") == outcome for r in recs) else 1)
PY
}
