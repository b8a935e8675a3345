#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The deployment's own command lines, end to end on loopback: fedns-hub run with exactly the
# arguments of deploy/hub's StatefulSet (after its init container's bootstrap), fedns-spoke
# with exactly the arguments of the chart's Deployment, and named with the chart's
# named.conf. Only what Kubernetes would provide is stood in for: Secret and volume mounts
# become directories under a fake root, 0.0.0.0 and Service names become 127.0.0.1 and
# free ports. A zone placed on the cluster at the hub must reach the BIND9 secondary
# through the spoke's catalog zone, and a committed change after it. [federation]
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
spoke=$t_build/spoke/fedns-spoke
for bin in "$hub" "$ctl" "$spoke"; do
	[ -x "$bin" ] || { echo "$bin is not built"; exit 1; }
done
for tool in named dig curl; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done
d_get_tools
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT FEDNSCTL_SIGN_KEY XDG_CONFIG_HOME
not() { ! "$@"; }
quiet() { "$@" >/dev/null 2>&1; }

"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east >/dev/null || exit 1
api=$(t_port) lis=$(t_port) sp=$(t_port) http=$(t_port) np=$(t_port) rp=$(t_port)

# --- the hub, as deploy/hub runs it
"$KUBECTL" kustomize "$d_hub" >hub.yaml || exit 1
root=$t_tmp/hubroot
mkdir -p "$root/etc/fedns/tls" "$root/etc/fedns/spoke-ca" "$root/etc/fedns/signing" \
	"$root/var/lib/fedns" "$root/tmp"
cp pki/hub.pem "$root/etc/fedns/tls/tls.crt"
cp pki/hub.key "$root/etc/fedns/tls/tls.key"
cp pki/ca.pem "$root/etc/fedns/spoke-ca/ca.crt"
cp pki/hub-signing.key "$root/etc/fedns/signing/signing.key"
mapfile -d '' -t init < <($d_manifests args hub.yaml StatefulSet fedns-hub bootstrap)
script=$(sed "s|/var/lib/fedns|$root/var/lib/fedns|g; s|/usr/bin/fedns-hub|$hub|g" <<<"${init[2]}")
FEDNS_BOOTSTRAP_ADMIN=admin sh -ec "$script" 2>/dev/null || { echo "bootstrap failed"; exit 1; }
cp "$root/var/lib/fedns/bootstrap-admin.token" admin.token
# one substitution per word at most (t ends the script for that word)
mapfile -d '' -t hargs < <($d_manifests args hub.yaml StatefulSet fedns-hub hub |
	sed -z "s|^/etc/fedns|$root/etc/fedns|;t; s|^/var/lib/fedns|$root/var/lib/fedns|;t;
	     s|^https://0.0.0.0:8443\$|https://127.0.0.1:$api|;t; s|^tls+tcp://0.0.0.0:8444\$|tls+tcp://127.0.0.1:$lis|")
t_check "the StatefulSet's arguments name both listeners" \
	sh -c "printf '%s\n' ${hargs[*]} | grep -qx https://127.0.0.1:$api && printf '%s\n' ${hargs[*]} | grep -qx tls+tcp://127.0.0.1:$lis"
echo "hub: ${hargs[*]}" >cmdlines.txt
t_start hub "$hub" "${hargs[@]}"
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert pki/ca.pem "$1")" = 200 ]; }
t_check "the hub (StatefulSet arguments) answers /healthz" t_wait 15 ready "https://127.0.0.1:$api/healthz"
t_check "the hub answers /readyz" t_wait 15 ready "https://127.0.0.1:$api/readyz"

# --- the spoke, as the chart runs it
"$HELM" template fedns-spoke "$d_chart" --namespace fedns --set cluster=east \
	--set hub.address="tls+tcp://127.0.0.1:$lis" --set hub.name=hub.fedns.test \
	--set-file 'hub.signingPublicKeys[0]=pki/hub-signing.pub' \
	--set spoke.dnsPort="$sp" --set spoke.httpPort="$http" \
	--set secondaries.dnsPort="$np" --set secondaries.rndcPort="$rp" >spoke.yaml || exit 1
sroot=$t_tmp/spokeroot
mkdir -p "$sroot/etc/fedns/tls" "$sroot/etc/fedns/hub-keys" "$sroot/etc/fedns/tsig" \
	"$sroot/etc/fedns/rndc" "$sroot/var/lib/fedns" "$sroot/tmp" keys/tsig keys/rndc cache/catz
cp pki/spoke-east.pem "$sroot/etc/fedns/tls/tls.crt"
cp pki/spoke-east.key "$sroot/etc/fedns/tls/tls.key"
cp pki/ca.pem "$sroot/etc/fedns/tls/ca.crt"
$d_manifests get spoke.yaml ConfigMap -hub-keys key-0.pub >"$sroot/etc/fedns/hub-keys/key-0.pub"
$d_manifests get spoke.yaml Secret -tsig tsig.key >"$sroot/etc/fedns/tsig/tsig.key"
$d_manifests get spoke.yaml Secret -rndc rndc.key >"$sroot/etc/fedns/rndc/rndc.key"
cp "$sroot/etc/fedns/tsig/tsig.key" keys/tsig/tsig.key
cp "$sroot/etc/fedns/rndc/rndc.key" keys/rndc/rndc.key
chmod 600 "$sroot"/etc/fedns/*/*.key keys/*/*.key
t_check "the pinned key in the chart's ConfigMap is the hub's signing key" \
	cmp -s "$sroot/etc/fedns/hub-keys/key-0.pub" pki/hub-signing.pub
mapfile -d '' -t sargs < <($d_manifests args spoke.yaml Deployment fedns-spoke spoke |
	sed -z "s|^/etc/fedns|$sroot/etc/fedns|;t; s|^/var/lib/fedns|$sroot/var/lib/fedns|;t; s|^/tmp/|$sroot/tmp/|;t;
	     s|^0\.0\.0\.0:|127.0.0.1:|;t; s|^fedns-spoke-secondaries\.fedns\.svc:|127.0.0.1:|")
echo "spoke: ${sargs[*]}" >>cmdlines.txt
t_start spoke "$spoke" "${sargs[@]}"
t_check "the spoke (Deployment arguments) answers /healthz" t_wait 15 ready "http://127.0.0.1:$http/healthz"
t_check "the spoke is ready: hub session up" t_wait 30 ready "http://127.0.0.1:$http/readyz"

# --- a secondary, as the chart configures it
$d_manifests get spoke.yaml ConfigMap -named named.conf >named.conf.chart || exit 1
d_named_conf_loopback named.conf.chart named.conf "$t_tmp" "$np" 127.0.0.1 || exit 1
t_start named named -g -c "$t_tmp/named.conf"

# --- a zone placed on cluster east at the hub reaches the secondary
export FEDNSCTL_SERVER=https://127.0.0.1:$api FEDNSCTL_CACERT=$t_tmp/pki/ca.pem
f() { "$ctl" "$@" --token-file "$t_tmp/admin.token"; }
quiet f tenant create acme
quiet f principal create bob --token-out "$t_tmp/bob.token"
quiet f principal grant bob --tenant acme --role approver
cat >ex.zone <<'Z'
$TTL 300
example.com. IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
Z
for i in $(seq 1 15); do echo "host$i IN A 192.0.2.$((100 + i))"; done >>ex.zone
t_check "fednsctl zone create with placement on east" \
	quiet f zone create example.com --tenant acme --file ex.zone --cluster east
soa_serial() { dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$np" "$1" SOA | awk '{print $3}'; }
serial_is() { [ "$(soa_serial "$1")" = "$2" ]; }
t_check "the secondary serves example.com (hub -> spoke -> catalog -> named)" \
	t_wait 60 serial_is example.com 1
id=$(f change propose example.com --replace 'www 300 A 192.0.2.20' --reason "deploy e2e" -o json |
	/usr/bin/python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
    print(d.get("change", d)["id"])
except Exception: pass')
t_check "a change approved by another principal commits" \
	quiet "$ctl" change approve "$id" --token-file "$t_tmp/bob.token"
t_check "the secondary serves serial 2" t_wait 60 serial_is example.com 2
t_check "the secondary serves the changed record" \
	[ "$(dig +short @127.0.0.1 -p "$np" www.example.com A)" = 192.0.2.20 ]
f clusters >clusters.out 2>&1
t_check "fednsctl clusters shows east" grep -q '^east' clusters.out

t_check "named made no query of its own (no trust anchor or root priming traffic)" \
	not grep -qE 'resolver priming|managed-keys-zone: Unable to fetch' "$t_tmp/named.log"

if [ "$t_failed" != 0 ]; then
	cat cmdlines.txt
	for l in hub spoke named; do echo "--- $l.log"; tail -15 "$t_tmp/$l.log"; done
fi
t_done
