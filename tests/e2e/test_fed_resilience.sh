#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End to end, what goes wrong: a spoke killed (SIGKILL) in the middle of 100 commits
# catches up from the hub's journal after its restart, without a snapshot; a hub restart
# loses nothing and the spokes resume; a spoke with a certificate from another CA cannot
# connect; a spoke whose certificate the CRL revokes cannot connect.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fedlib.sh"
fed_need_tools || exit 1
cd "$t_tmp"

fed_pki east west rogue || exit 1
fed_hub_start || exit 1
fed_people acme || exit 1
fed_zone_file busy.test 1 >busy.zone
quiet fedctl zone create busy.test --tenant acme --file busy.zone --cluster east --cluster west
fed_spoke_start east 1 || exit 1
fed_spoke_start west 1 || exit 1
t_check "busy.test in_sync on both clusters at serial 1" \
	t_wait 60 fed_all_in_sync busy.test 1 east west

snapshots() { # snapshots CLUSTER: snapshots the spoke of CLUSTER applied (from its log)
	grep -c '"event":"spoke\.snapshot\.applied"' "$t_tmp/spoke_$1.log"
}
east_snaps_before=$(snapshots east)
t_check "east started from one snapshot" [ "$east_snaps_before" = 1 ]

# 100 commits; east is killed with SIGKILL after the 30th and restarted after the 70th
ok=0
for i in $(seq 1 100); do
	s=$(fed_change busy.test www "198.51.100.$((i % 250 + 1))") && ok=$((ok + 1))
	if [ "$i" = 30 ]; then
		eval "kill -9 \$pid_spoke_east"
		wait "$pid_spoke_east" 2>/dev/null
		pid_spoke_east=
	fi
	if [ "$i" = 70 ]; then
		cp "$t_tmp/spoke_east.log" "$t_tmp/spoke_east.first.log"
		fed_spoke_run east || exit 1
	fi
done
t_check "100 changes committed" [ "$ok" = 100 ]
t_check "final serial is 101" [ "$s" = 101 ]
t_check "both clusters in_sync at serial 101" t_wait 90 fed_all_in_sync busy.test 101 east west
t_check "east caught up from the journal: no snapshot after its restart" \
	[ "$(snapshots east)" = 0 ]
t_check "east resumed from the serial it held (its hello carried it)" \
	grep -q '"event":"spoke.hub.connected"' "$t_tmp/spoke_east.log"
a=$(dig +short +norec @127.0.0.1 -p "$(cat spoke-east/np1)" www.busy.test A)
t_check "east's secondary serves the last change ($a)" [ "$a" = "198.51.100.$((100 % 250 + 1))" ]

# hub restart: nothing lost, spokes resume
t_stop hub
cp "$t_tmp/hub.log" "$t_tmp/hub.first.log"
# the restarted hub also checks revocation: rogue's certificate is revoked
cat >ca.cnf <<CNF
[ca]
default_ca = c
[c]
database = $t_tmp/index.txt
crlnumber = $t_tmp/crlnumber
default_md = sha256
default_crl_days = 7
certificate = $t_tmp/pki/ca.pem
private_key = $t_tmp/pki/ca.key
CNF
: >index.txt
echo 01 >crlnumber
openssl ca -config ca.cnf -revoke pki/spoke-rogue.pem >crl.log 2>&1 &&
	openssl ca -config ca.cnf -gencrl -out crl.pem >>crl.log 2>&1
t_check "a CRL revoking rogue's certificate" [ -s crl.pem ]
fed_hub_start --spoke-crl "$t_tmp/crl.pem" || exit 1
t_check "after the hub restart both clusters report in_sync at 101" \
	t_wait 60 fed_all_in_sync busy.test 101 east west
s=$(fed_change busy.test www 203.0.113.9)
t_check "a change after the restart commits as serial 102" [ "$s" = 102 ]
t_check "and reaches both clusters" t_wait 30 fed_all_in_sync busy.test 102 east west
fedctl zone history busy.test >history.txt
t_check "the hub kept all 102 versions" [ "$(grep -Ec '^ *[0-9]+' history.txt)" -ge 102 ]
t_check "no snapshot was needed after the hub restart" [ "$(snapshots east)" = 0 ]

# a revoked spoke cannot connect
mkdir -p rogue-state
t_start rogue "$fed_spoke_bin" --listen 127.0.0.1:0 --catalog "$fed_catalog" \
	--tsig-keyfile spoke-east/key.conf --state-dir rogue-state \
	--hub "tls+tcp://127.0.0.1:$fed_spoke_port" --hub-name "$fed_hub_name" --cluster rogue \
	--cert pki/spoke-rogue.pem --key pki/spoke-rogue.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub
sleep 3
t_check "the revoked spoke never got a session (hub clusters)" \
	sh -c "! FEDNSCTL_CONFIG=$t_tmp/ctl.json $fed_ctl_bin clusters -o json | grep -q '\"rogue\"'"
t_check "the revoked spoke says it could not connect" \
	grep -q '"event":"spoke.hub.handshake_failed".*authentication failed' "$t_tmp/rogue.log"
t_stop rogue

# a spoke with a certificate from another CA cannot connect
"$fed_ctl_bin" pki init --dir other --hub-name "$fed_hub_name" --cluster east >/dev/null 2>&1
mkdir -p other-state
t_start impostor "$fed_spoke_bin" --listen 127.0.0.1:0 --catalog "$fed_catalog" \
	--tsig-keyfile spoke-east/key.conf --state-dir other-state \
	--hub "tls+tcp://127.0.0.1:$fed_spoke_port" --hub-name "$fed_hub_name" --cluster east \
	--cert other/spoke-east.pem --key other/spoke-east.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub
sleep 3
t_check "the other CA's spoke holds no zone" sh -c "! ls other-state/zones/ 2>/dev/null | grep -q busy"
t_check "the other CA's spoke says it could not connect" \
	grep -q '"event":"spoke.hub.handshake_failed".*authentication failed' "$t_tmp/impostor.log"
t_stop impostor
# a spoke pinning the wrong hub key refuses what the hub sends (unknown_key); the hub
# records the refusal against the zone and the cluster, and serves it again once fixed
t_stop spoke_west
"$fed_ctl_bin" pki init --dir wrongkey --hub-name "$fed_hub_name" --cluster west >/dev/null 2>&1
mkdir -p wrong-state
t_start wrongwest "$fed_spoke_bin" --listen 127.0.0.1:0 --catalog "$fed_catalog" \
	--tsig-keyfile spoke-west/key.conf --state-dir wrong-state \
	--hub "tls+tcp://127.0.0.1:$fed_spoke_port" --hub-name "$fed_hub_name" --cluster west \
	--cert pki/spoke-west.pem --key pki/spoke-west.key --ca pki/ca.pem \
	--hub-key wrongkey/hub-signing.pub
refused_unknown_key() {
	fedctl status --zone busy.test --cluster west -o json 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["items"][0]["spoke"]; sys.exit(0 if r and r["status"]=="refused" and r["reason"]=="unknown_key" else 1)'
}
t_check "the hub records west's refusal (unknown_key) against busy.test" t_wait 20 refused_unknown_key
t_check "west's spoke logged it as a security event" \
	grep -q '"event":"spoke.changeset.refused","security":true.*"reason":"unknown_key"' "$t_tmp/wrongwest.log"
t_stop wrongwest
fed_spoke_run west || exit 1
t_check "west with the right key: in_sync at 102 again" t_wait 60 fed_all_in_sync busy.test 102 west
t_check "the real east is still connected and in_sync" fed_all_in_sync busy.test 102 east

if [ "$t_failed" != 0 ]; then
	echo "--- status"; fedctl status
	echo "--- hub"; tail -n 40 "$t_tmp/hub.log"
	echo "--- east"; tail -n 40 "$t_tmp/spoke_east.log"
	echo "--- rogue"; tail -n 10 "$t_tmp/rogue.log"
	echo "--- impostor"; tail -n 10 "$t_tmp/impostor.log"
fi
t_done
