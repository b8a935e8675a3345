#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The strict Prometheus exposition checker the metrics tests rely on: it accepts a good
# exposition (and prometheus_client agrees when installed), reads values back, and refuses
# each kind of malformed text with the line it is on. A checker that accepts anything would
# make every metrics test pass for nothing.
. "$(dirname "$0")/lib.sh"

chk=$t_src/tests/integration/prom_check.py
cd "$t_tmp"

cat >good.txt <<'EOF'
# HELP fedns_hub_zones Zones by worst state.
# TYPE fedns_hub_zones gauge
fedns_hub_zones{state="in_sync"} 3
fedns_hub_zones{state="lagging"} 0
# HELP fedns_hub_changesets_sent_total Change sets sent.
# TYPE fedns_hub_changesets_sent_total counter
fedns_hub_changesets_sent_total{cluster="ea\"st\\x\n"} 12
# a free comment
# HELP fedns_hub_lat_seconds Latency with a back\\slash and\nnewline.
# TYPE fedns_hub_lat_seconds histogram
fedns_hub_lat_seconds_bucket{cluster="east",le="0.001"} 1
fedns_hub_lat_seconds_bucket{cluster="east",le="0.5"} 4
fedns_hub_lat_seconds_bucket{cluster="east",le="+Inf"} 5
fedns_hub_lat_seconds_sum{cluster="east"} 7.25
fedns_hub_lat_seconds_count{cluster="east"} 5
# HELP fedns_hub_up Always 1.
# TYPE fedns_hub_up gauge
fedns_hub_up 1
EOF
t_check "a good exposition passes" /usr/bin/python3 "$chk" good.txt
/usr/bin/python3 "$chk" good.txt >good.out 2>&1
if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	t_check "prometheus_client agrees on it" grep -q 'prometheus_client agrees' good.out
fi
t_check "reads a value back (labels in any order)" \
	sh -c "[ \"\$(/usr/bin/python3 '$chk' good.txt --print 'fedns_hub_lat_seconds_bucket{le=\"0.5\",cluster=\"east\"}')\" = 4 ]"
t_check "reads an escaped label back" \
	sh -c "[ \"\$(/usr/bin/python3 '$chk' good.txt --print 'fedns_hub_changesets_sent_total{cluster=\"ea\\\"st\\\\x\\n\"}')\" = 12 ]"
t_check "stdin works" sh -c "/usr/bin/python3 '$chk' - <good.txt"
t_check "--require finds a family" /usr/bin/python3 "$chk" good.txt --require fedns_hub_up
/usr/bin/python3 "$chk" good.txt --require fedns_hub_nope >/dev/null 2>req.err
t_check "--require names a missing family" grep -q 'family fedns_hub_nope missing' req.err
/usr/bin/python3 "$chk" good.txt --print 'fedns_hub_zones{state="x"}' >/dev/null 2>&1
t_check "--print of an absent series exits 3" test $? = 3
/usr/bin/python3 "$chk" good.txt --max-series 3 >/dev/null 2>&1
t_check "--max-series bounds the series count" test $? = 1

# bad: each case is "expected message fragment" then the text
bad() {
	local why=$1 want=$2
	printf '%b' "$3" >bad.txt
	if /usr/bin/python3 "$chk" bad.txt >bad.out 2>&1; then
		t_fail "$why: accepted"
	elif grep -q -- "$want" bad.out; then
		t_ok "$why"
	else
		t_fail "$why: message was: $(cat bad.out)"
	fi
}
H='# HELP m x\n# TYPE m gauge\n'
bad "no TYPE" "has no # TYPE" 'm 1\n'
bad "no HELP" "needs both" '# TYPE m gauge\nm 1\n'
bad "second TYPE" "second TYPE" "$H# TYPE m gauge\nm 1\n"
bad "TYPE after samples" "after its samples" "${H}m 1\n# TYPE m gauge\n"
bad "unknown type" "unknown type" '# HELP m x\n# TYPE m gaug\nm 1\n'
bad "interleaved family" "after family m ended" "${H}m{a=\"1\"} 1\n# HELP n x\n# TYPE n gauge\nn 1\nm{a=\"2\"} 1\n"
bad "repeated series" "repeated" "${H}m{a=\"1\"} 1\nm{a=\"1\"} 2\n"
bad "bad value" "is not a number" "${H}m 1x\n"
bad "two spaces" "is not a number\|expected" "${H}m  1\n"
bad "bad escape" "bad escape" "${H}m{a=\"\\\\t\"} 1\n"
bad "unclosed label" "not closed" "${H}m{a=\"1} 1\n"
bad "repeated label" "repeated" "${H}m{a=\"1\",a=\"2\"} 1\n"
bad "reserved label" "reserved" "${H}m{__a=\"1\"} 1\n"
bad "bad label name" "bad label name" "${H}m{1a=\"1\"} 1\n"
bad "no final newline" "newline" "${H}m 1"
bad "not UTF-8" "not UTF-8" "${H}m{a=\"\\xff\"} 1\n"
bad "counter without _total" "not named" '# HELP c x\n# TYPE c counter\nc 1\n'
bad "negative counter" "negative" '# HELP c_total x\n# TYPE c_total counter\nc_total -1\n'
bad "gauge with foreign sample" "has no # TYPE\|in family" "${H}m_bucket 1\n"
HH='# HELP h x\n# TYPE h histogram\n'
bad "histogram without +Inf" "+Inf" "${HH}h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"
bad "histogram not cumulative" "not cumulative" "${HH}h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
bad "histogram le order" "not increasing" "${HH}h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
bad "histogram count mismatch" "_count" "${HH}h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"
bad "histogram without sum" "lacks" "${HH}h_bucket{le=\"+Inf\"} 1\nh_count 1\n"
bad "le on _sum" "'le' belongs" "${HH}h_bucket{le=\"+Inf\"} 1\nh_sum{le=\"1\"} 1\nh_count 1\n"
bad "error names the line" "line 4:" "${H}m 1\nm{ 2\n"

t_done
