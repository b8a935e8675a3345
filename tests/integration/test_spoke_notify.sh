#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# NOTIFY from fedns-spoke: sent on each new serial, coalesced per secondary and zone so a
# burst of versions is never a burst of NOTIFYs, retried with backoff when unanswered.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
[ -x "$spoke" ] || { echo "$spoke is not built"; exit 1; }
cd "$t_tmp"
tsig-keygen -a hmac-sha256 k >key.conf

mkzone() { # serial
	printf '$TTL 60\nz.test. IN SOA ns.z.test. hm.z.test. %s 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n' "$1"
}
mkzone 1 >z1.zone
ap=$(t_port)
sp=$(t_port)
t_start sink_answer /usr/bin/python3 "$t_src/tests/integration/notify_sink.py" "$ap" answer.log answer
t_start sink_silent /usr/bin/python3 "$t_src/tests/integration/notify_sink.py" "$sp" silent.log silent
sleep 0.3
t_start spoke "$spoke" --listen 127.0.0.1:0 --port-file spoke.port --zone z1.zone \
	--tsig-keyfile key.conf --control ctl.sock --notify "127.0.0.1:$ap" --notify "127.0.0.1:$sp" \
	--notify-gap-ms 500
t_wait 10 test -s spoke.port || { cat "$t_tmp/spoke.log"; exit 1; }

count() { grep -c "^[0-9]" "$1" 2>/dev/null || echo 0; }
t_check "the startup NOTIFY reaches the secondary" t_wait 5 grep -q ' z.test. 1$' answer.log

# a burst of 10 versions within ~0.2 s
for s in $(seq 2 11); do
	mkzone "$s" >z$s.zone
	"$spoke" ctl ctl.sock load z$s.zone >/dev/null || t_fail "load serial $s"
done
t_check "the last serial is announced" t_wait 5 grep -q ' z.test. 11$' answer.log
sleep 1
n=$(count answer.log)
t_check "a burst of 10 versions gave at most 3 NOTIFYs ($n in all, with the startup one)" [ "$n" -le 4 ]
t_check "no malformed NOTIFY" sh -c '! grep -q malformed answer.log silent.log'
# spacing: no two NOTIFYs to one target closer than the gap (allow 50 ms of scheduling slack)
gaps_ok() {
	awk 'NR > 1 && $1 - prev < 0.45 { bad = 1 } { prev = $1 } END { exit bad }' answer.log
}
t_check "NOTIFYs to one secondary are at least --notify-gap-ms apart" gaps_ok

# the silent secondary gets retries with growing intervals (1 s, 2 s, ...), then no more
t_check "an unanswered NOTIFY is retried" t_wait 8 sh -c "[ \$(grep -c ' z.test. 11$' silent.log) -ge 3 ]"
backoff_ok() {
	grep ' z.test. 11$' silent.log | awk 'NR > 1 { d = $1 - prev; if (d < last * 1.5 && NR > 2) bad = 1; last = d } { prev = $1 } END { exit bad }'
}
t_check "retries back off" backoff_ok
n_answered=$(grep -c ' z.test. 11$' answer.log)
t_check "an answered NOTIFY is not retried ($n_answered sent)" [ "$n_answered" = 1 ]

t_done
