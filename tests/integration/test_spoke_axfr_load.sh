#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fedns-spoke under transfer load: many AXFRs of a 200,000-record zone, several at once,
# every one complete; transfers running while a new version is loaded finish with the
# version they started with (the zone set keeps it alive), and the next query sees the new one.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
gen=$t_build/bench/zone_parse/bench_zone_gen
drain=$t_build/bench/axfr_out/bench_axfr_drain
for bin in "$spoke" "$gen" "$drain"; do
	[ -x "$bin" ] || { echo "$bin is not built"; exit 1; }
done
cd "$t_tmp"
n=200000
"$gen" $n load.test. >v1.zone
# the generator's SOA serial, then the same zone one serial later
serial=$("$t_build/cli/fednsctl" zone print v1.zone | awk '$4 == "SOA" {print $7; exit}')
sed "0,/$serial/s//$((serial + 1))/" v1.zone >v2.zone
want=$(("$("$t_build/cli/fednsctl" zone print v1.zone | wc -l)" + 1)) # closing SOA too

t_start spoke "$spoke" --listen 127.0.0.1:0 --port-file spoke.port --zone v1.zone \
	--allow-unsigned-transfers --control ctl.sock --max-tcp 64
t_wait 30 test -s spoke.port || { cat "$t_tmp/spoke.log"; exit 1; }
sp=$(cat spoke.port)

pull() { # out-file
	"$drain" 127.0.0.1 "$sp" load.test >"$1" 2>&1
}
records_ok() { # file
	grep -q "records $want " "$1"
}

bad=0
for i in $(seq 30); do
	pull seq$i.out && records_ok seq$i.out || bad=$((bad + 1))
done
t_check "30 AXFRs in a row of $((want - 1)) records are all complete ($bad not)" [ "$bad" = 0 ]

pids=()
for i in $(seq 8); do
	pull par$i.out &
	pids+=($!)
done
bad=0
for i in $(seq 8); do
	wait "${pids[$((i - 1))]}" && records_ok par$i.out || bad=$((bad + 1))
done
t_check "8 AXFRs at once are all complete ($bad not)" [ "$bad" = 0 ]

# a new version arrives while transfers run: they finish with the old one
pids=()
for i in $(seq 4); do
	pull mid$i.out &
	pids+=($!)
done
t_check "a new version is loaded during the transfers" "$spoke" ctl ctl.sock load v2.zone
bad=0
for i in $(seq 4); do
	wait "${pids[$((i - 1))]}" && records_ok mid$i.out || bad=$((bad + 1))
done
t_check "transfers running while the new version is loaded complete ($bad not)" [ "$bad" = 0 ]
got=$("$spoke" probe 127.0.0.1#"$sp" load.test soa)
t_check "the next query sees the new serial ($got)" [ "$got" = $((serial + 1)) ]
t_check "the spoke logged no failed transfer" sh -c '! grep -q xfr.out.failed "$1"' _ "$t_tmp/spoke.log"

t_done
