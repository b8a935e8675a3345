#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo's flow with everything that can go wrong on the way (a wrong token, a refused
# self-approval, a spoke from another CA, a diverged secondary repaired with rndc), then
# every log line of every daemon (hub, spokes, fednsctl's stderr) searched for the
# secrets in use: bearer tokens, TSIG and rndc secrets, and every private key (TLS keys of
# hub and spokes, the CA key, the hub signing key). None may appear.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fedlib.sh"
fed_need_tools || exit 1
cd "$t_tmp"

fed_pki east west || exit 1
fed_hub_start --log-level debug || exit 1
fed_people acme || exit 1
fed_zone_file secret.test 1 >z.zone
quiet fedctl zone create secret.test --tenant acme --file z.zone --cluster east --cluster west
fed_spoke_start east 1 --log-level debug || exit 1
fed_spoke_start west 1 --log-level debug || exit 1
t_check "secret.test in_sync on both clusters" t_wait 60 fed_all_in_sync secret.test 1 east west
s=$(fed_change secret.test www 192.0.2.9 2>>ctl.err)
t_check "a change committed ($s) and confirmed" t_wait 30 fed_all_in_sync secret.test 2 east west

# things that fail, so their error paths log too
echo "fedns_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" >wrong.token
FEDNSCTL_CONFIG=$t_tmp/ctl.json "$fed_ctl_bin" zone list --token-file wrong.token >/dev/null 2>>ctl.err
id=$(fedctl_as alice change propose secret.test --add 'x 300 A 192.0.2.10' --reason r -o json 2>>ctl.err |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["change"]["id"])')
fedctl_as alice change approve "$id" >/dev/null 2>>ctl.err
t_check "self-approval refused" grep -q "author" ctl.err
"$fed_ctl_bin" pki init --dir other --hub-name "$fed_hub_name" --cluster east >/dev/null 2>&1
mkdir -p other-state
t_start impostor "$fed_spoke_bin" --listen 127.0.0.1:0 --catalog "$fed_catalog" \
	--tsig-keyfile spoke-east/key.conf --state-dir other-state --log-level debug \
	--hub "tls+tcp://127.0.0.1:$fed_spoke_port" --hub-name "$fed_hub_name" --cluster east \
	--cert other/spoke-east.pem --key other/spoke-east.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub
sleep 2
t_stop impostor
rndc -k spoke-west/rndc.key -s 127.0.0.1 -p "$(cat spoke-west/rp1)" sync -clean secret.test >/dev/null 2>&1
t_stop named_west_1
f=$(grep -l '192\.0\.2\.9' spoke-west/ns1/*.db | head -1)
sed -i 's/192\.0\.2\.9$/192.0.2.99/' "$f"
rm -f "$f.jnl"
fed_named_start west 1
"$fed_spoke_bin" ctl spoke-west/ctl.sock verify >/dev/null
t_check "the altered secondary is repaired (rndc with its key)" \
	t_wait 60 grep -q '"event":"verify.repair.done".*"outcome":"repaired"' "$t_tmp/spoke_west.log"

# every secret in use, as the bytes that would appear if one leaked
secrets=secrets.txt
: >"$secrets"
for tok in admin alice bob; do
	cat "$tok.token" >>"$secrets"
	# the token's random part alone, in case a log prints it without its prefix
	sed 's/^fedns_//' "$tok.token" >>"$secrets"
done
for k in spoke-east/key.conf spoke-west/key.conf spoke-east/rndc.key spoke-west/rndc.key; do
	sed -n 's/.*secret "\(.*\)";.*/\1/p' "$k" >>"$secrets"
done
for k in pki/*.key other/*.key; do
	# every base64 line of the PEM body (a leak of any part of a key shows)
	grep -v -- '-----' "$k" | awk 'length($0) >= 16' >>"$secrets"
done
n=$(grep -c . "$secrets")
t_check "collected the secrets in use ($n strings)" [ "$n" -ge 20 ]
logs=("$t_tmp"/*.log "$t_tmp"/ctl.err)
t_check "the logs are not empty (${#logs[@]} files)" [ "$(cat "${logs[@]}" | wc -l)" -gt 100 ]
leaks=$(grep -F -f "$secrets" "${logs[@]}" | head -3)
t_check "no secret appears in any log line" [ -z "$leaks" ]
[ -z "$leaks" ] || echo "leaked: $leaks"
t_check "no PEM block in any log" sh -c "! grep -q 'BEGIN .*PRIVATE KEY' $(printf '%q ' "${logs[@]}")"
t_done
