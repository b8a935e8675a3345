#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End to end with real daemons: a hub, spokes "east" and "west" with two BIND9 secondaries
# each. A change approved at the hub reaches all four secondaries and the hub says so from
# their own bytes; a zone placed only on east never reaches west; placement changes add
# and remove a zone on the right spoke only; a secondary whose zone file is altered behind
# fedns's back is reported diverged, repaired, and reported in_sync again, and the audit
# log records the state changes.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fedlib.sh"
fed_need_tools || exit 1
cd "$t_tmp"

fed_pki east west || exit 1
fed_hub_start || exit 1
fed_people acme || exit 1

fed_zone_file example.test 1 >example.zone
fed_zone_file only.test 1 >only.zone
t_check "zone example.test created, placed on east and west" \
	quiet fedctl zone create example.test --tenant acme --file example.zone --cluster east \
	--cluster west
t_check "zone only.test created, placed on east only" \
	quiet fedctl zone create only.test --tenant acme --file only.zone --cluster east

fed_spoke_start east 2 || exit 1
fed_spoke_start west 2 || exit 1

t_check "the hub reports all four secondaries in_sync at serial 1" \
	t_wait 60 fed_all_in_sync example.test 1 east west
t_check "only.test in_sync on east" t_wait 30 fed_all_in_sync only.test 1 east

serial=$(fed_change example.test www 192.0.2.77)
t_check "alice proposes, bob approves: serial 2 committed" [ "$serial" = 2 ]
t_check "the hub reports all four secondaries in_sync at serial 2" \
	t_wait 30 fed_all_in_sync example.test 2 east west
for c in east west; do
	for i in 1 2; do
		a=$(dig +short +norec @127.0.0.1 -p "$(cat spoke-$c/np$i)" www.example.test A)
		t_check "$c ns$i answers the approved address ($a)" [ "$a" = 192.0.2.77 ]
	done
done
fedctl status --zone example.test >status.txt
t_check "fednsctl status shows four in_sync rows at serial 2" \
	[ "$(grep -c 'in_sync' status.txt)" -ge 4 ]

# placement isolation: west never receives only.test
t_check "west's spoke does not serve only.test" \
	sh -c "! \"$fed_spoke_bin\" ctl spoke-west/ctl.sock list | grep -q only.test"
t_check "west's secondaries do not have only.test" \
	sh -c "! dig +norec @127.0.0.1 -p $(cat spoke-west/np1) only.test SOA | grep -q 'status: NOERROR'"
t_check "nothing about only.test reached west's spoke" sh -c "! grep -q only.test '$t_tmp/spoke_west.log'"

# placement change: add west, then take it away again
fedctl zone placement only.test --cluster east --cluster west >/dev/null
t_check "only.test added to west: in_sync there" t_wait 30 fed_all_in_sync only.test 1 east west
t_check "west's secondary answers only.test" \
	t_wait 20 sh -c "dig +norec @127.0.0.1 -p $(cat spoke-west/np1) only.test SOA | grep -q 'status: NOERROR'"
fedctl zone placement only.test --cluster east >/dev/null
t_check "only.test removed from west's spoke" \
	t_wait 20 sh -c "! \"$fed_spoke_bin\" ctl spoke-west/ctl.sock list | grep -q only.test"
t_check "east still serves only.test" \
	sh -c "\"$fed_spoke_bin\" ctl spoke-east/ctl.sock list | grep -q only.test"

# divergence: ns2 of west edited behind fedns's back at the same serial
# the IXFR'd change sits in named's journal: write it into the zone file first
rndc -k spoke-west/rndc.key -s 127.0.0.1 -p "$(cat spoke-west/rp2)" sync -clean example.test \
	>/dev/null 2>&1
t_stop named_west_2
f=$(grep -l '192\.0\.2\.77' spoke-west/ns2/*.db 2>/dev/null | head -1)
t_check "found west ns2's zone file for example.test ($f)" [ -n "$f" ]
sed -i 's/192\.0\.2\.77$/192.0.2.66/' "$f"
rm -f "$f.jnl"
fed_named_start west 2
www_w2() { [ "$(dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$(cat spoke-west/np2)" www.example.test A)" = "$1" ]; }
t_check "west ns2 serves the altered record" t_wait 30 www_w2 192.0.2.66
"$fed_spoke_bin" ctl spoke-west/ctl.sock verify >/dev/null
diverged() {
	fedctl status --zone example.test --cluster west -o json | grep -q '"diverged"' ||
		fed_audit_has secondary.state cluster:west/secondary:ns2 diverged
}
t_check "the hub saw west ns2 diverged" t_wait 40 diverged
t_check "west ns2 repaired: serves the approved record again" t_wait 60 www_w2 192.0.2.77
t_check "the hub reports all four in_sync again" t_wait 60 fed_all_in_sync example.test 2 east west
fedctl audit export -o audit.json >/dev/null 2>&1
t_check "the audit log records ns2's states (diverged, then in_sync)" \
	/usr/bin/python3 - audit.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
items = d["records"]
recs = [r for r in items if r.get("action") == "secondary.state" and "cluster:west/secondary:ns2" in r.get("target", "")]
outs = [r["outcome"] for r in recs]
sys.exit(0 if "diverged" in outs and outs[-1] == "in_sync" else 1)
PY
t_check "fednsctl audit verify: the exported chain holds" quiet "$fed_ctl_bin" audit verify audit.json

if [ "$t_failed" != 0 ]; then
	echo "--- status"; fedctl status
	echo "--- hub"; tail -n 40 "$t_tmp/hub.log"
	echo "--- east"; tail -n 30 "$t_tmp/spoke_east.log"
	echo "--- west"; tail -n 30 "$t_tmp/spoke_west.log"
fi
t_done
