#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fedns-spoke with --state-dir survives SIGKILL: the restarted spoke serves the serial it
# served before at once (from its journal, not its zone files), answers IXFR from serials
# older than the restart incrementally, its catalog serial keeps rising, and a BIND9
# secondary that followed it before the kill keeps following it by IXFR afterwards.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
[ -x "$spoke" ] || { echo "$spoke is not built"; exit 1; }
for tool in named dig tsig-keygen; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done
cd "$t_tmp"
tsig-keygen -a hmac-sha256 xfr-key >key.conf

mkzone() { # serial: www moves, one more host per version
	printf '$TTL 300\nz.test. IN SOA ns.z.test. hm.z.test. %s 60 60 600 60\n' "$1"
	printf '@ NS ns\nns A 192.0.2.1\nwww A 198.51.100.%s\n' "$1"
	for i in $(seq 1 "$1"); do printf 'h%s TXT "version %s"\n' "$i" "$i"; done
}
for s in $(seq 1 21); do mkzone "$s" >v$s.zone; done

sp=$(t_port)
np=$(t_port)
spoke_args=(--listen "127.0.0.1:$sp" --port-file spoke.port --zone v1.zone
	--tsig-keyfile key.conf --control ctl.sock --state-dir state
	--catalog catalog.fedns.test. --notify "127.0.0.1:$np" --notify-gap-ms 100)

# a BIND9 secondary of z.test
mkdir ns
cat >ns/named.conf <<C
include "$t_tmp/key.conf";
options {
	directory "$t_tmp/ns";
	pid-file "$t_tmp/ns/named.pid";
	listen-on port $np { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
};
zone "z.test." {
	type secondary;
	primaries { 127.0.0.1 port $sp key "xfr-key"; };
	file "$t_tmp/ns/z.test.db";
};
C

soa_serial() { # port zone
	dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" SOA | awk '{print $3}'
}
serial_is() { [ "$(soa_serial "$1" "$2")" = "$3" ]; }

t_start spoke "$spoke" "${spoke_args[@]}"
t_wait 10 test -s spoke.port || { cat spoke.log; exit 1; }
t_check "the state directory is private (0700)" [ "$(stat -c %a state)" = 700 ]
t_start named named -g -d 1 -c "$t_tmp/ns/named.conf"
t_check "the secondary transfers version 1" t_wait 20 serial_is "$np" z.test 1

for s in $(seq 2 20); do
	"$spoke" ctl ctl.sock load "$PWD/v$s.zone" >/dev/null || t_fail "load version $s"
done
t_check "the spoke serves serial 20" serial_is "$sp" z.test 20
t_check "the secondary follows to serial 20" t_wait 20 serial_is "$np" z.test 20
cat_before=$(soa_serial "$sp" catalog.fedns.test)
dig @127.0.0.1 -p "$sp" -k key.conf z.test AXFR +nocmd +nostats | grep -v TSIG |
	grep -v '^;' | grep -v '^$' | sort >axfr_before.txt

ixfr_requests_before=$(grep -c 'z.test/IN: requesting IXFR' named.log)

# SIGKILL: no orderly shutdown, nothing flushed on the way out
kill -9 "$pid_spoke"
wait "$pid_spoke" 2>/dev/null || true
rm -f spoke.port
t_start spoke2 "$spoke" "${spoke_args[@]}"
t_wait 10 test -s spoke.port || { cat spoke2.log; exit 1; }
# the first answer after start, with v1.zone on the command line again
t_check "the restarted spoke serves serial 20 at once" serial_is "$sp" z.test 20
t_check "it restored the zone from its journal (zone file v1 not newer)" \
	grep -q '"event":"zone.file.not_newer"' spoke2.log
dig @127.0.0.1 -p "$sp" -k key.conf z.test AXFR +nocmd +nostats | grep -v TSIG |
	grep -v '^;' | grep -v '^$' | sort >axfr_after.txt
t_check "its AXFR is the zone it served before the kill" diff -u axfr_before.txt axfr_after.txt
t_check "its AXFR holds version 20's records" grep -q 'h20.z.test.*"version 20"' axfr_after.txt

# IXFR=15: the RFC 1995 incremental shape, not the AXFR fallback (whose first two
# records are the new SOA and the zone's first records)
ixfr_soas() { # from
	dig @127.0.0.1 -p "$sp" -k key.conf z.test IXFR="$1" +tcp +nocmd +nostats |
		grep -v '^;' | awk '$4 == "SOA" {print $7}' | tr '\n' ' '
}
want="20 15 16 16 17 17 18 18 19 19 20 20 "
got=$(ixfr_soas 15)
t_check "IXFR=15 answers the 5 diffs 15->20 (SOA serials: $got)" [ "$got" = "$want" ]
dig @127.0.0.1 -p "$sp" -k key.conf z.test IXFR=15 +tcp +nocmd +nostats | grep -v '^;' |
	grep -v '^$' >ixfr15.txt
t_check "the IXFR deletes version 15's www and adds version 20's" \
	sh -c "grep -q 'www.z.test.*198.51.100.15' ixfr15.txt && grep -q 'www.z.test.*198.51.100.20' ixfr15.txt"
t_check "the IXFR is signed (TSIG on the answer)" grep -q 'TSIG' ixfr15.txt
got=$(ixfr_soas 1)
t_check "IXFR=1 still answers incrementally (19 diffs, 40 SOAs)" \
	[ "$(wc -w <<<"$got")" = 40 ]
n=$(dig @127.0.0.1 -p "$sp" z.test IXFR=15 +tcp 2>&1 | grep -c 'IN.SOA')
t_check "an unsigned IXFR is still refused" [ "$n" = 0 ]

cat_after=$(soa_serial "$sp" catalog.fedns.test)
t_check "the catalog serial went up across the restart ($cat_before -> $cat_after)" \
	[ "$cat_after" -gt "$cat_before" ]

# the secondary keeps following: version 21 arrives by IXFR
xfrs() { grep -c "\"event\":\"xfr.$1.sent\",\"zone\":\"z.test.\"" spoke2.log; }
ixfr0=$(xfrs ixfr)
axfr0=$(xfrs axfr)
t_check "the restarted spoke takes version 21" \
	sh -c "'$spoke' ctl ctl.sock load '$PWD/v21.zone' >/dev/null"
t_check "the secondary follows to serial 21" t_wait 20 serial_is "$np" z.test 21
n=$(grep -c 'z.test/IN: requesting IXFR' named.log)
t_check "the secondary asked for IXFR after the restart ($ixfr_requests_before -> $n requests)" \
	[ "$n" -gt "$ixfr_requests_before" ]
only_ixfr() { [ "$(xfrs ixfr)" -gt "$ixfr0" ] && [ "$(xfrs axfr)" = "$axfr0" ]; }
t_check "the restarted spoke answered it with IXFR, not AXFR" only_ixfr
t_check "the secondary serves version 21's record" \
	[ "$(dig +short @127.0.0.1 -p "$np" h21.z.test TXT)" = '"version 21"' ]

# a second kill right after the change: 21 is durable too
kill -9 "$pid_spoke2"
wait "$pid_spoke2" 2>/dev/null
rm -f spoke.port
t_start spoke3 "$spoke" "${spoke_args[@]}"
t_wait 10 test -s spoke.port || { cat spoke3.log; exit 1; }
t_check "after a second kill the spoke serves serial 21" serial_is "$sp" z.test 21
got=$(ixfr_soas 20)
t_check "and IXFR=20 is the one diff 20->21" [ "$got" = "21 20 21 21 " ]

t_done
