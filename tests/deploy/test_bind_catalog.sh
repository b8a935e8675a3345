#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The named.conf the chart renders for its BIND9 secondaries, run by a real named against a
# real fedns-spoke on loopback: the secondary follows the spoke's catalog zone (members
# added and removed), transfers with the chart's TSIG key, and answers rndc with the chart's
# rndc key. Only addresses and paths are rewritten (loopback, temp dir); ports come from
# the chart's values.
. "$(dirname "$0")/lib.sh"

spoke=$t_build/spoke/fedns-spoke
fednsctl=$t_build/cli/fednsctl
for bin in "$spoke" "$fednsctl"; do
	[ -x "$bin" ] || { echo "$bin is not built"; exit 1; }
done
for tool in named named-checkconf dig rndc; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done
d_get_tools
cd "$t_tmp"
not() { ! "$@"; }
quiet() { "$@" >/dev/null; }

sp=$(t_port) np=$(t_port) rp=$(t_port)
"$HELM" template t "$d_chart" --namespace dns --set spoke.dnsPort="$sp" \
	--set secondaries.dnsPort="$np" --set secondaries.rndcPort="$rp" >rendered.yaml ||
	{ echo "helm template failed"; exit 1; }
$d_manifests get rendered.yaml ConfigMap -named named.conf >named.conf.chart || exit 1
mkdir -p keys/tsig keys/rndc cache
$d_manifests get rendered.yaml Secret -tsig tsig.key >keys/tsig/tsig.key || exit 1
$d_manifests get rendered.yaml Secret -rndc rndc.key >keys/rndc/rndc.key || exit 1
chmod 600 keys/*/*.key

t_check "the chart's named.conf names the catalog zone catalog.fedns. with the spoke as primary" \
	grep -q "zone \"catalog.fedns.\"\$" named.conf.chart
t_check "the chart's TSIG key is an hmac-sha256 key named xfr-key" \
	grep -q '^key "xfr-key" {' keys/tsig/tsig.key
"$HELM" template t "$d_chart" --namespace dns >rendered2.yaml || exit 1
$d_manifests get rendered2.yaml Secret -tsig tsig.key >tsig2.key || exit 1
secret_of() { sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$1"; }
t_check "the generated TSIG secret is base64 of 44 random characters" \
	[ "$(secret_of keys/tsig/tsig.key | base64 -d | wc -c)" = 44 ]
t_check "a second rendering generates another TSIG secret (no fixed key in the chart)" \
	[ "$(secret_of keys/tsig/tsig.key)" != "$(secret_of tsig2.key)" ]

# What the init container and a Pod's mounts do, on loopback in the temp dir
d_named_conf_loopback named.conf.chart named.conf "$t_tmp" "$np" 127.0.0.1 || { echo "rewrite failed"; exit 1; }
mkdir -p cache/catz
t_check "named-checkconf accepts the chart's named.conf" named-checkconf named.conf

cat >a.zone <<'Z'
$TTL 300
alpha.test. IN SOA ns1.alpha.test. hostmaster.alpha.test. 1 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
Z
cat >b.zone <<'Z'
$TTL 300
beta.test. IN SOA ns1.beta.test. hostmaster.beta.test. 7 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN AAAA 2001:db8::10
Z
cat >c.zone <<'Z'
$TTL 300
gamma.test. IN SOA ns1.gamma.test. hostmaster.gamma.test. 3 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
mail IN MX 10 mx.example.net.
Z

t_start spoke "$spoke" --listen "127.0.0.1:$sp" --zone a.zone --zone b.zone \
	--catalog catalog.fedns. --tsig-keyfile keys/tsig/tsig.key --notify "127.0.0.1:$np" \
	--notify-gap-ms 50 --control ctl.sock --state-dir state
t_wait 10 test -S ctl.sock || { cat spoke.log; exit 1; }
t_start named named -g -c "$t_tmp/named.conf"

soa_serial() { # zone
	dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$np" "$1" SOA | awk '{print $3}'
}
serial_is() { [ "$(soa_serial "$1")" = "$2" ]; }
status_is() { # zone status
	dig +norec +time=1 +tries=1 @127.0.0.1 -p "$np" "$1" SOA | grep -q "status: $2"
}

t_check "the secondary loaded the catalog zone from the spoke" \
	t_wait 20 sh -c "[ -n \"\$(dig +short +norec @127.0.0.1 -p $np catalog.fedns. SOA)\" ]"
t_check "the secondary picked up alpha.test from the catalog" t_wait 20 serial_is alpha.test 1
t_check "the secondary picked up beta.test from the catalog" t_wait 20 serial_is beta.test 7
t_check "the secondary answers a member's record" \
	[ "$(dig +short @127.0.0.1 -p "$np" www.alpha.test A)" = 192.0.2.10 ]

want=$("$fednsctl" zone digest a.zone)
got=$("$spoke" probe --tsig-keyfile keys/tsig/tsig.key "127.0.0.1#$np" alpha.test digest | awk '{print $2}')
t_check "an AXFR back from the secondary with the chart's TSIG key has the source's digest" \
	[ -n "$want" ] && [ "$got" = "$want" ]
t_check "the secondary refuses an unsigned AXFR (allow-transfer is the TSIG key)" \
	sh -c "! dig @127.0.0.1 -p $np alpha.test AXFR +time=2 +tries=1 | grep -q 'IN[[:space:]]*SOA'"

t_check "rndc with the chart's rndc key reaches the secondary's control channel" \
	sh -c "rndc -k keys/rndc/rndc.key -s 127.0.0.1 -p $rp status | grep -q 'server is up and running'"
t_check "rndc retransfer (the spoke's repair) is accepted" \
	quiet rndc -k keys/rndc/rndc.key -s 127.0.0.1 -p "$rp" retransfer alpha.test
sed 's/secret "[^"]*"/secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDE="/' keys/rndc/rndc.key >wrong-rndc.key
t_check "rndc with another secret is refused" \
	sh -c "! rndc -k wrong-rndc.key -s 127.0.0.1 -p $rp status >/dev/null 2>&1"

# placement changes: the catalog adds and removes members, the secondary follows
t_check "the spoke adds gamma.test" quiet "$spoke" ctl ctl.sock load c.zone
t_check "the secondary added gamma.test through the catalog" t_wait 20 serial_is gamma.test 3
t_check "the spoke removes beta.test" quiet "$spoke" ctl ctl.sock remove beta.test
t_check "the secondary dropped beta.test through the catalog" t_wait 20 status_is beta.test REFUSED
t_check "alpha.test stays" serial_is alpha.test 1

# a new version of a member reaches the secondary
sed 's/ 1 3600 900/ 2 3600 900/; s/192.0.2.10/192.0.2.20/' a.zone >a2.zone
t_check "the spoke takes alpha.test serial 2" quiet "$spoke" ctl ctl.sock load a2.zone
t_check "the secondary serves alpha.test serial 2" t_wait 20 serial_is alpha.test 2
t_check "the secondary serves the changed record" \
	[ "$(dig +short @127.0.0.1 -p "$np" www.alpha.test A)" = 192.0.2.20 ]

t_check "named made no query of its own (no trust anchor or root priming traffic)" \
	not grep -qE 'resolver priming|managed-keys-zone: Unable to fetch' "$t_tmp/named.log"

if [ "$t_failed" != 0 ]; then
	echo "--- named.conf"; cat named.conf; echo "--- named.log"; tail -40 named.log
	echo "--- spoke.log"; tail -20 spoke.log
fi
t_done
