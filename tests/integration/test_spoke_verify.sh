#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The spoke's verifier against two real BIND9 secondaries fed by the catalog zone: every
# secondary proven in_sync by its own bytes, a new version confirmed with a lag figure, a
# stopped secondary reported unreachable, and a zone file edited behind fedns's back
# (same serial, other bytes) reported diverged, repaired by rndc retransfer and in_sync again.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
[ -x "$spoke" ] || { echo "$spoke is not built"; exit 1; }
for tool in named dig rndc tsig-keygen; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done

cd "$t_tmp"
tsig-keygen -a hmac-sha256 xfr-key >key.conf
tsig-keygen -a hmac-sha256 rndc-key >rndc.key

mkzone() { # origin serial www-address
	cat <<Z
\$TTL 3600
$1. IN SOA ns1.$1. hostmaster.$1. $2 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A $3
txt IN TXT "hello world"
Z
}
mkdir zones
mkzone alpha.test 1 192.0.2.2 >zones/alpha.test.zone
mkzone beta.test 1 192.0.2.3 >zones/beta.test.zone
for i in 1 2; do
	t_port >np$i
	t_port >rp$i
done

t_start spoke "$spoke" --listen 127.0.0.1:0 --port-file spoke.port --zones zones \
	--catalog catalog.fedns.test. --tsig-keyfile key.conf --control ctl.sock \
	--notify-gap-ms 100 --notify "127.0.0.1:$(cat np1)" --notify "127.0.0.1:$(cat np2)" \
	--secondary "ns1=127.0.0.1:$(cat np1)" --secondary "ns2=127.0.0.1:$(cat np2)" \
	--rndc "ns1=127.0.0.1:$(cat rp1)" --rndc "ns2=127.0.0.1:$(cat rp2)" \
	--rndc-key "$t_tmp/rndc.key" --verify-interval 300
t_wait 10 test -s spoke.port || { cat "$t_tmp/spoke.log"; exit 1; }
sp=$(cat spoke.port)

# secondaries configured with the catalog zone, an rndc channel, and zone files in text so
# one can be edited behind fedns's back
start_named() { # index
	local i=$1 dir=$t_tmp/ns$1
	mkdir -p "$dir"
	cat >"$dir/named.conf" <<C
include "$t_tmp/key.conf";
include "$t_tmp/rndc.key";
controls { inet 127.0.0.1 port $(cat rp$i) allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
	directory "$dir";
	pid-file "$dir/named.pid";
	listen-on port $(cat np$i) { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
	allow-transfer { key "xfr-key"; };
	masterfile-format text;
	catalog-zones {
		zone "catalog.fedns.test." default-primaries { 127.0.0.1 port $sp key "xfr-key"; }
			in-memory no zone-directory "$dir";
	};
};
zone "catalog.fedns.test." {
	type secondary;
	primaries { 127.0.0.1 port $sp key "xfr-key"; };
	file "$dir/catalog.db";
};
C
	t_start named$i named -g -d 1 -c "$dir/named.conf"
}
start_named 1
start_named 2

status() { "$spoke" ctl ctl.sock status; }
# row_has ZONE SECONDARY PATTERN: the status row of (zone, secondary) matches PATTERN
row_has() {
	status | grep "^$1\. $2 " | grep -q -- "$3"
}

for i in 1 2; do
	for z in alpha.test beta.test; do
		t_check "ns$i proven in_sync for $z at serial 1 (SOA, AXFR back, ZONEMD)" \
			t_wait 40 row_has $z ns$i ' in_sync serial=1 seen=1 '
	done
done
status >status1.txt
t_check "status has one line per zone and secondary" \
	[ "$(grep -c ' in_sync ' status1.txt)" = 4 ]
t_check "status reports the bytes' proof time and the digest seen" \
	grep -q 'last_ok=20[0-9-]*T[0-9:]*Z repairs=0/0 digest=[0-9a-f]\{96\} error=""$' status1.txt
t_check "the catalog zone is not a status row" sh -c '! grep -q "^catalog" status1.txt'
t_check "unsigned AXFR from the secondaries is refused (the verifier signs)" \
	sh -c "! dig @127.0.0.1 -p $(cat np1) alpha.test AXFR | grep -q 'IN.SOA'"

# a new version: confirmed on both at the new serial, with a lag figure
mkzone alpha.test 2 192.0.2.22 >alpha2.zone
t_check "spoke accepts version 2 of alpha.test" sh -c "\"$spoke\" ctl ctl.sock load alpha2.zone >/dev/null"
for i in 1 2; do
	t_check "ns$i in_sync for alpha.test at serial 2 with a lag figure" \
		t_wait 20 row_has alpha.test ns$i ' in_sync serial=2 seen=2 lag_ms=[0-9][0-9]* '
	t_check "spoke logged the confirmation of serial 2 on ns$i" \
		grep -q "\"event\":\"verify.confirmed\",\"zone\":\"alpha.test.\",\"secondary\":\"ns$i\",\"serial\":2,\"lag_ms\":[0-9]" spoke.log
done
lag=$(status | grep '^alpha.test. ns1 ' | sed 's/.* lag_ms=\([0-9]*\) .*/\1/')
t_check "the lag is under the verification deadline ($lag ms)" [ "$lag" -lt 30000 ]

# a stopped secondary is unreachable
t_stop named2
t_check "ctl verify schedules a full verification" sh -c "\"$spoke\" ctl ctl.sock verify >/dev/null"
t_check "ns2 reported unreachable" t_wait 20 row_has alpha.test ns2 ' unreachable .*error="SOA: '
t_check "ns1 still in_sync" row_has alpha.test ns1 ' in_sync serial=2 '
t_check "the state change was logged as an event" \
	grep -q '"event":"verify.state.changed","zone":"[a-z]*.test.","secondary":"ns2","from":"in_sync","to":"unreachable"' spoke.log

# beta.test altered behind fedns's back on ns2, serial kept: SOA matches, the bytes do not
f=$(grep -l 'www.*192\.0\.2\.3' ns2/*.db 2>/dev/null | head -1)
t_check "found ns2's beta.test zone file ($f)" [ -n "$f" ]
sed -i 's/192\.0\.2\.3$/192.0.2.99/' "$f"
rm -f "$f.jnl"
t_check "the edit took (www.beta.test 192.0.2.99 in $f)" grep -q '192\.0\.2\.99' "$f"
start_named 2
www2() { [ "$(dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$(cat np2)" www.beta.test A)" = "$1" ]; }
t_check "ns2 serves the altered record at the same serial" t_wait 30 www2 192.0.2.99
"$spoke" ctl ctl.sock verify >/dev/null
t_check "ns2 reported diverged for beta.test" \
	t_wait 30 grep -q '"event":"verify.state.changed","zone":"beta.test.","secondary":"ns2","from":"[a-z_]*","to":"diverged","serial":1,"serial_seen":1' spoke.log
t_check "the divergence was repaired by rndc retransfer" \
	t_wait 40 grep -q '"event":"verify.repair.done","zone":"beta.test.","secondary":"ns2","outcome":"repaired"' spoke.log
t_check "ns2 in_sync again for beta.test with the repair counted" \
	t_wait 10 row_has beta.test ns2 ' in_sync serial=1 seen=1 .* repairs=1/1 '
t_check "ns2 serves the approved record again" www2 192.0.2.3
t_check "ns2 logged the retransfer" grep -q 'received control channel command .retransfer beta.test' named2.log
t_check "ns2 caught up with alpha.test too" t_wait 20 row_has alpha.test ns2 ' in_sync serial=2 '
status >status2.txt
t_check "status still has four rows" [ "$(grep -c '^[a-z]*\.test\. ns[12] ' status2.txt)" = 4 ]
t_check "no repair on ns1" [ "$(grep '^[a-z.]* ns1 ' status2.txt | grep -c 'repairs=0/0')" = 2 ]
t_check "the spoke's log holds no rndc or TSIG secret" sh -c \
	"! grep -qF -- \"\$(sed -n 's/.*secret \"\(.*\)\".*/\1/p' rndc.key)\" spoke.log &&
	 ! grep -qF -- \"\$(sed -n 's/.*secret \"\(.*\)\".*/\1/p' key.conf)\" spoke.log"

# operator errors say what is wrong
out=$("$spoke" --listen 127.0.0.1:0 --tsig-keyfile key.conf --secondary ns1=127.0.0.1 \
	--rndc nsX=127.0.0.1:953 2>&1)
t_check "--rndc for an unknown secondary is refused" \
	grep -q 'no --secondary called nsX' <<<"$out"
out=$("$spoke" --listen 127.0.0.1:0 --tsig-keyfile key.conf --secondary ns1=nowhere 2>&1)
t_check "a bad --secondary address is refused" grep -q '"nowhere" is not an address' <<<"$out"

if [ "$t_failed" != 0 ]; then
	echo "--- status"; status
	echo "--- verifier events"; grep '"event":"verify' spoke.log | tail -n 40
	echo "--- named2"; tail -n 40 named2.log
fi
t_done
