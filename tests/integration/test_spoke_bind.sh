#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fedns-spoke as hidden primary for real BIND9 secondaries: catalog zone membership,
# AXFR/IXFR with TSIG, NOTIFY, digests of what each secondary holds, refusals.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
fednsctl=$t_build/cli/fednsctl
for bin in "$spoke" "$fednsctl"; do
	[ -x "$bin" ] || { echo "$bin is not built"; exit 1; }
done
for tool in named dig kdig tsig-keygen named-journalprint; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done

cd "$t_tmp"
tsig-keygen -a hmac-sha256 xfr-key >key.conf
tsig-keygen -a hmac-sha256 xfr-key >wrong.conf # same name, other secret
secret=$(sed -n 's/.*secret "\(.*\)".*/\1/p' key.conf)

mkzone() { # origin serial www-address
	cat <<Z
\$TTL 3600
$1. IN SOA ns1.$1. hostmaster.$1. $2 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A $3
www IN AAAA 2001:db8::2
mail IN MX 10 mx.example.net.
txt IN TXT "hello world" "two"
_sip._tcp IN SRV 0 5 5060 sip
sip IN A 192.0.2.9
Z
}
mkdir zones
mkzone alpha.test 1 192.0.2.2 >zones/alpha.test.zone
mkzone beta.test 1 192.0.2.3 >zones/beta.test.zone

t_start spoke "$spoke" --listen 127.0.0.1:0 --port-file spoke.port --zones zones \
	--catalog catalog.fedns.test. --tsig-keyfile key.conf --control ctl.sock \
	--notify-gap-ms 100 $(for i in 1 2; do echo --notify 127.0.0.1:$(t_port | tee np$i); done)
t_wait 10 test -s spoke.port || { cat "$t_tmp/spoke.log"; exit 1; }
sp=$(cat spoke.port)

# two secondaries configured with nothing but the catalog zone
start_named() { # index
	local i=$1 np rp dir=$t_tmp/ns$1
	np=$(cat np$i)
	mkdir -p "$dir"
	cat >"$dir/named.conf" <<C
include "$t_tmp/key.conf";
options {
	directory "$dir";
	pid-file "$dir/named.pid";
	listen-on port $np { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
	allow-transfer { any; };
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

soa_serial() { # port zone
	dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" SOA | awk '{print $3}'
}
serial_is() { [ "$(soa_serial "$1" "$2")" = "$3" ]; }

for i in 1 2; do
	np=$(cat np$i)
	for z in alpha.test beta.test; do
		t_check "secondary $i picked up $z from the catalog" t_wait 20 serial_is "$np" "$z" 1
	done
done

# the bytes each secondary holds: AXFR back from it, ZONEMD digest against the source
for z in alpha.test beta.test; do
	want=$("$fednsctl" zone digest zones/$z.zone)
	for i in 1 2; do
		got=$("$spoke" probe 127.0.0.1#$(cat np$i) $z digest | awk '{print $2}')
		t_check "secondary $i holds $z with the source's ZONEMD digest" [ "$got" = "$want" ]
	done
done

# a new version reaches the secondaries by IXFR
mkzone alpha.test 2 192.0.2.22 >alpha2.zone
t_check "spoke accepts version 2 of alpha.test" "$spoke" ctl ctl.sock load alpha2.zone
for i in 1 2; do
	np=$(cat np$i)
	t_check "secondary $i serves alpha.test serial 2" t_wait 20 serial_is "$np" alpha.test 2
	t_check "secondary $i serves the changed record" \
		[ "$(dig +short @127.0.0.1 -p "$np" www.alpha.test A)" = 192.0.2.22 ]
	t_check "secondary $i requested IXFR" grep -q "zone alpha.test/IN: requesting IXFR" "$t_tmp/named$i.log"
	jnl=$(ls "$t_tmp"/ns$i/*alpha.test*.jnl 2>/dev/null | head -1)
	t_check "secondary $i journaled the incremental change" \
		sh -c "named-journalprint '$jnl' | grep -q 'add www.alpha.test.*192.0.2.22'"
	want=$("$fednsctl" zone digest alpha2.zone)
	got=$("$spoke" probe 127.0.0.1#$np alpha.test digest | awk '{print $2}')
	t_check "secondary $i holds alpha.test v2 with the source's digest" [ "$got" = "$want" ]
done
t_check "spoke logged an IXFR for alpha.test" grep -q '"event":"xfr.ixfr.sent","zone":"alpha.test."' "$t_tmp/spoke.log"

# dig and kdig against the spoke: AXFR and IXFR content
dig_rrs() { grep -v '^;' | grep -v '^$' | grep -v 'TSIG' | awk '{$2=""; print}' | sort; }
"$fednsctl" zone print alpha2.zone | awk '{$2=""; print}' | sort >want.txt
dig @127.0.0.1 -p "$sp" -k key.conf alpha.test AXFR | dig_rrs | uniq >dig_axfr.txt
t_check "dig AXFR from the spoke gives the zone" diff -u want.txt dig_axfr.txt
kdig @127.0.0.1 -p "$sp" -y "hmac-sha256:xfr-key:$secret" alpha.test AXFR | dig_rrs | uniq >kdig_axfr.txt
t_check "kdig AXFR from the spoke gives the zone" diff -u want.txt kdig_axfr.txt
kdig @127.0.0.1 -p "$sp" -y "hmac-sha256:xfr-key:$secret" alpha.test IXFR=1 +tcp | grep -v '^;' |
	grep -v '^$' | grep -v TSIG | awk '{print $4, $5}' >kdig_ixfr.txt
printf '%s\n' "SOA ns1.alpha.test." "SOA ns1.alpha.test." "A 192.0.2.2" "SOA ns1.alpha.test." \
	"A 192.0.2.22" "SOA ns1.alpha.test." >want_ixfr.txt
t_check "kdig IXFR=1 gives the IXFR sequence (SOA, old SOA, deleted, new SOA, added, SOA)" \
	diff -u want_ixfr.txt kdig_ixfr.txt
n=$(dig @127.0.0.1 -p "$sp" -k key.conf alpha.test IXFR=2 +tcp | grep -c 'IN.SOA')
t_check "IXFR from the current serial is a single SOA" [ "$n" = 1 ]
n=$(dig @127.0.0.1 -p "$sp" -k key.conf alpha.test IXFR=0 +tcp | dig_rrs | wc -l)
t_check "IXFR from an unknown serial falls back to the whole zone" [ "$n" -ge 9 ]

# refusals
has() { grep -q -- "$1" <<<"$2"; }
out=$(dig @127.0.0.1 -p "$sp" alpha.test AXFR)
t_check "unsigned AXFR is refused" has 'Transfer failed' "$out"
out=$(dig @127.0.0.1 -p "$sp" -k wrong.conf alpha.test AXFR)
t_check "AXFR with a wrong secret is refused with BADSIG" has BADSIG "$out"
tsig-keygen -a hmac-sha256 stranger >stranger.conf
out=$(dig @127.0.0.1 -p "$sp" -k stranger.conf alpha.test AXFR)
t_check "AXFR with an unknown key is refused with BADKEY" has BADKEY "$out"
st=$(dig @127.0.0.1 -p "$sp" www.alpha.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
t_check "a non-SOA query is REFUSED" [ "$st" = REFUSED ]
t_check "the key never appears in the spoke's log" sh -c '! grep -qF -- "$1" "$2"' _ "$secret" "$t_tmp/spoke.log"

# keys from a Kubernetes-Secret-style directory, and the other HMAC algorithms
mkdir -p secret512
tsig-keygen -a hmac-sha512 k512 >k512.conf
printf 'k512\n' >secret512/name
printf 'hmac-sha512\n' >secret512/algorithm
sed -n 's/.*secret "\(.*\)".*/\1/p' k512.conf >secret512/secret
tsig-keygen -a hmac-sha384 k384 >k384.conf
t_start spoke2 "$spoke" --listen 127.0.0.1:0 --port-file spoke2.port --zone alpha2.zone \
	--tsig-dir secret512 --tsig-keyfile k384.conf
t_wait 10 test -s spoke2.port || { cat "$t_tmp/spoke2.log"; exit 1; }
sp2=$(cat spoke2.port)
n=$(dig @127.0.0.1 -p "$sp2" -k k512.conf alpha.test AXFR | grep -c 'IN.SOA')
t_check "AXFR with an hmac-sha512 key loaded from a Secret directory" [ "$n" = 2 ]
n=$(dig @127.0.0.1 -p "$sp2" -k k384.conf alpha.test AXFR | grep -c 'IN.SOA')
t_check "AXFR with an hmac-sha384 key" [ "$n" = 2 ]
out=$(dig @127.0.0.1 -p "$sp2" -k key.conf alpha.test AXFR)
t_check "a key the second spoke was not given is refused" has BADKEY "$out"
t_stop spoke2

# catalog membership changes add and remove zones on the secondaries
mkzone gamma.test 5 192.0.2.5 >gamma.zone
t_check "spoke adds gamma.test" "$spoke" ctl ctl.sock load gamma.zone
t_check "spoke removes beta.test" "$spoke" ctl ctl.sock remove beta.test
not_served() { [ -z "$(soa_serial "$1" "$2")" ]; }
for i in 1 2; do
	np=$(cat np$i)
	t_check "secondary $i added gamma.test through the catalog" t_wait 20 serial_is "$np" gamma.test 5
	t_check "secondary $i removed beta.test through the catalog" t_wait 20 not_served "$np" beta.test
done

t_done
