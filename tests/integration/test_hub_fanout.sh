#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fedns-hub serve with the spoke listener, on a dev PKI from fednsctl pki init: the flags
# it refuses (exit 2, or 1 naming the unreadable key), both ports written, ready, mutual
# TLS on the spoke port (a spoke certificate is accepted, none is refused), no key material
# in the log; then, when fedns-spoke has --hub, a real spoke: it serves its placed zone
# only, a change approved at the hub reaches it, the hub lists the cluster connected with
# the acknowledged serial, and after a restart it catches up from the journal.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
spoke=$t_build/spoke/fedns-spoke
[ -x "$hub" ] || { echo "$t_name: $hub is not built"; exit 1; }
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME/.config/fednsctl"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT XDG_CONFIG_HOME

"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east --cluster west \
	>pki.out 2>&1 || { cat pki.out; exit 1; }
"$ctl" pki init --dir pki/other --hub-name hub.fedns.test --cluster east \
	>pki2.out 2>&1 || { cat pki2.out; exit 1; }
umask 077
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }

base=(serve --store hub.db --listen https://127.0.0.1:0 --cert pki/hub.pem --key pki/hub.key)
"$hub" "${base[@]}" --spoke-listen tls+tcp://127.0.0.1:0 >r1.out 2>r1.err
rc=$?
t_check "--spoke-listen without --spoke-ca and --sign-key: exit 2 naming both" \
	eval '[ $rc = 2 ] && grep -q -- "--spoke-ca FILE" r1.err && grep -q -- "--sign-key FILE" r1.err'
"$hub" "${base[@]}" --spoke-listen tls+tcp://127.0.0.1:0 --spoke-ca pki/ca.pem >r2.out 2>r2.err
rc=$?
t_check "--spoke-listen without --sign-key: exit 2 naming it" \
	eval '[ $rc = 2 ] && grep -q -- "--sign-key" r2.err && ! grep -q -- "--spoke-ca FILE" r2.err'
"$hub" "${base[@]}" --sign-key pki/hub-signing.key >r3.out 2>r3.err
rc=$?
t_check "--sign-key without --spoke-listen: exit 2" \
	eval '[ $rc = 2 ] && grep -q "need --spoke-listen" r3.err'
"$hub" "${base[@]}" --spoke-listen tls+tcp://127.0.0.1:0 --spoke-ca pki/ca.pem \
	--sign-key pki/hub-signing.key --heartbeat-ms 5 >r4.out 2>r4.err
rc=$?
t_check "--heartbeat-ms 5: exit 2 with the range" \
	eval '[ $rc = 2 ] && grep -q "heartbeat-ms must be a number from 100" r4.err'
timeout 20 "$hub" "${base[@]}" --spoke-listen tls+tcp://127.0.0.1:0 --spoke-ca pki/ca.pem \
	--sign-key pki/missing.key >r5.out 2>r5.err
rc=$?
t_check "an unreadable signing key: exit 1 naming the file" \
	eval '[ $rc = 1 ] && grep -q "hub.spoke_listen_failed" r5.err && grep -q "pki/missing.key" r5.err'

t_start hub "$hub" "${base[@]}" --port-file hub.port --spoke-listen tls+tcp://127.0.0.1:0 \
	--spoke-ca pki/ca.pem --sign-key pki/hub-signing.key --spoke-port-file spoke.port \
	--heartbeat-ms 1000
t_wait 10 test -s hub.port && t_wait 10 test -s spoke.port ||
	{ cat "$t_tmp/hub.log"; exit 1; }
port=$(cat hub.port)
sport=$(cat spoke.port)
t_check "both ports written, different" [ "$port" != "$sport" ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert pki/ca.pem "https://127.0.0.1:$port/readyz")
t_check "ready (/readyz 200)" [ "$code" = 200 ]
curl -s --cacert pki/ca.pem "https://127.0.0.1:$port/metrics" >metrics.out
t_check "the ops handler answers /metrics before the API: the spoke listener is up" \
	grep -q "^fedns_hub_spoke_listener_up 1$" metrics.out

cat >"$HOME/.config/fednsctl/config.json" <<EOF
{"server": "https://127.0.0.1:$port", "cacert": "$t_tmp/pki/ca.pem", "token_file": "$t_tmp/admin.token"}
EOF

# s_client reports the negotiated cipher either way (TLS 1.2); what tells them apart is
# whether the hub keeps the connection (waiting for a hello) or drops it mid-handshake
(echo; sleep 1) | openssl s_client -connect "127.0.0.1:$sport" -servername hub.fedns.test \
	-CAfile pki/ca.pem -cert pki/spoke-east.pem -key pki/spoke-east.key \
	-verify_return_error >tls1.out 2>&1
t_check "mutual TLS on the spoke port with a spoke certificate" \
	eval 'grep -q "Verify return code: 0 (ok)" tls1.out && ! grep -q "unexpected eof" tls1.out'
(echo; sleep 1) | openssl s_client -connect "127.0.0.1:$sport" -servername hub.fedns.test \
	-CAfile pki/ca.pem >tls2.out 2>&1
t_check "no client certificate: the hub drops the handshake" grep -q "unexpected eof" tls2.out
# Under load (CI runs two tests at once; reproduced with three CPU hogs) a try can end in
# "unexpected eof" or a reset instead of the alert: the hub gave up on a slow handshake, or
# closed with the client's last records unread and the kernel's reset overtook the alert.
# Such a try is made again (at most twice); each may be one more refused handshake below.
retries=0
for try in 1 2 3; do
	(echo; sleep 1) | openssl s_client -connect "127.0.0.1:$sport" -servername hub.fedns.test \
		-CAfile pki/ca.pem -cert pki/other/spoke-east.pem -key pki/other/spoke-east.key \
		>tls3.out 2>&1
	grep -q "alert unknown ca" tls3.out && break
	[ "$try" = 3 ] || retries=$((retries + 1))
done
t_check "another CA's spoke certificate: the hub answers unknown_ca" \
	grep -q "alert unknown ca" tls3.out
metric() { # metric NAME: its value in /metrics
	curl -s --cacert pki/ca.pem "https://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
fails=$(metric fedns_hub_spoke_auth_failures_total)
t_check "the two refused handshakes count as spoke auth failures, the abandoned one not ($fails; $retries retried)" \
	[ "${fails:-0}" -ge 2 -a "${fails:-0}" -le $((2 + retries)) ]
keybody=$(sed -n 2p pki/hub-signing.key)
t_check "the log names the signing key by id, never its bytes" eval '
	grep -q "\"event\":\"fanout.listening\".*\"key_id\"" "$t_tmp/hub.log" &&
	! grep -q "PRIVATE KEY" "$t_tmp/hub.log" && ! grep -qF "$keybody" "$t_tmp/hub.log"'

if [ -x "$spoke" ] && "$spoke" --help 2>&1 | grep -q -- "--hub "; then
	command -v dig >/dev/null || { echo "$t_name: dig is not installed"; exit 1; }
	"$ctl" tenant create acme >/dev/null &&
		"$ctl" principal create alice --token-out "$t_tmp/alice.token" >/dev/null &&
		"$ctl" principal create bob --token-out "$t_tmp/bob.token" >/dev/null &&
		"$ctl" principal grant alice --tenant acme --role editor >/dev/null &&
		"$ctl" principal grant bob --tenant acme --role approver >/dev/null &&
		"$ctl" zone create example.com --tenant acme --primary-ns ns1.example.net. \
			--hostmaster hostmaster.example.net. --cluster east >/dev/null &&
		"$ctl" zone create west.example --tenant acme --primary-ns ns1.example.net. \
			--hostmaster hostmaster.example.net. --cluster west >/dev/null
	t_check "tenant, principals and two zones (east, west)" [ $? = 0 ]
	dport=$(t_port)
	start_spoke() {
		t_start east "$spoke" --hub "tls+tcp://127.0.0.1:$sport" --hub-name hub.fedns.test \
			--cluster east --cert pki/spoke-east.pem --key pki/spoke-east.key \
			--ca pki/ca.pem --hub-key pki/hub-signing.pub --listen "127.0.0.1:$dport" \
			--state-dir east-state --allow-unsigned-transfers
	}
	serial_is() { # serial_is ZONE N: the spoke answers SOA serial N
		[ "$(dig +short +norec -p "$dport" @127.0.0.1 "$1" SOA | awk '{print $3}')" = "$2" ]
	}
	commit() { # commit IP: alice proposes an A record, bob approves
		local id
		id=$("$ctl" change propose example.com --add "www 300 A $1" --reason test -o json \
			--token-file "$t_tmp/alice.token" |
			/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["change"]["id"])') &&
			"$ctl" change approve "$id" --token-file "$t_tmp/bob.token" >/dev/null
	}
	start_spoke
	t_check "the spoke serves its placed zone at the hub's serial" t_wait 15 serial_is example.com 1
	st=$(dig +norec -p "$dport" @127.0.0.1 west.example SOA | grep -o 'status: [A-Z]*')
	t_check "the spoke never gets another cluster's zone ($st)" [ "$st" != "status: NOERROR" ]
	commit 192.0.2.10
	t_check "an approved change reaches the spoke" t_wait 15 serial_is example.com 2
	acked() {
		"$ctl" status --zone example.com --cluster east -o json |
			/usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)["items"][0]
sys.exit(0 if d["spoke"] and d["spoke"]["serial"] == int(sys.argv[1]) else 1)' "$1"
	}
	t_check "the hub shows the spoke's acknowledgement" t_wait 10 acked 2
	t_check "one authenticated spoke session in /metrics" [ "$(metric fedns_hub_spoke_sessions)" = 1 ]
	t_check "the cluster is connected" eval '"$ctl" clusters -o json |
		/usr/bin/python3 -c "import json,sys; c={x[\"name\"]: x for x in json.load(sys.stdin)[\"items\"]}; sys.exit(0 if c[\"east\"][\"connected\"] else 1)"'
	t_stop east
	commit 192.0.2.11 && commit 192.0.2.12
	t_check "two more commits while the spoke is down" [ $? = 0 ]
	start_spoke
	t_check "after a restart it catches up" t_wait 15 serial_is example.com 4
	t_check "from the journal, not a snapshot" eval '
		grep "\"event\":\"fanout.resume\"" "$t_tmp/hub.log" | tail -1 | grep -q "\"plan\":\"changes\""'
else
	echo "# $t_name: fedns-spoke has no --hub yet: the spoke part is skipped"
fi

t_stop hub
t_done
