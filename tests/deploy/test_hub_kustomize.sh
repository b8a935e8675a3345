#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deploy/hub: kubectl kustomize of the base and of the cert-manager overlay; every object
# valid against the Kubernetes JSON schemas (strict fields) and the policy (no root, probes
# and limits, no Secret objects at all: certificates, signing key and bootstrap admin are
# referenced by name); the pieces the issue asks for are there.
. "$(dirname "$0")/lib.sh"
d_get_tools
d_get_validator
cd "$t_tmp"

t_check "kubectl kustomize deploy/hub" sh -c "'$KUBECTL' kustomize '$d_hub' >hub.yaml"
t_check "kubectl kustomize deploy/hub/overlays/cert-manager" \
	sh -c "'$KUBECTL' kustomize '$d_hub/overlays/cert-manager' >hub-cm.yaml"
for f in hub hub-cm; do
	t_check "schemas: every object of $f is valid" d_validate "$t_tmp/$f.yaml"
	t_check "policy: $f (no Secret objects allowed)" $d_manifests policy "$f.yaml"
done

obj() { # kind name -> JSON of one object
	/usr/bin/python3 - "$t_tmp/hub.yaml.json" "$1" "$2" <<'PY'
import json, sys
objs = [o for o in json.load(open(sys.argv[1])) if o["kind"] == sys.argv[2] and o["metadata"]["name"] == sys.argv[3]]
assert len(objs) == 1, f"{len(objs)} {sys.argv[2]}/{sys.argv[3]}"
print(json.dumps(objs[0]))
PY
}
has_obj() { obj "$1" "$2" >/dev/null 2>&1; }
q() { # kind name python-expression-over-o
	/usr/bin/python3 -c "import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$(obj "$1" "$2")"
}
for k in Namespace/fedns ServiceAccount/fedns-hub StatefulSet/fedns-hub Service/fedns-hub \
	Service/fedns-hub-spokes NetworkPolicy/fedns-hub PodDisruptionBudget/fedns-hub; do
	t_check "deploy/hub has $k" has_obj "${k%%/*}" "${k#*/}"
done
c='o["spec"]["template"]["spec"]["containers"][0]'
t_check "everything lands in namespace fedns" \
	/usr/bin/python3 -c "import json; o=json.load(open('$t_tmp/hub.yaml.json')); exit(any(x['kind']!='Namespace' and x['metadata'].get('namespace')!='fedns' for x in o))"
t_check "the service account has no token and the pod mounts none" \
	q StatefulSet fedns-hub 'o["spec"]["template"]["spec"]["automountServiceAccountToken"] is False'
t_check "no Role or binding gives the hub Kubernetes API rights" \
	sh -c "! grep -qE '^kind: (Cluster)?Role(Binding)?$' hub.yaml hub-cm.yaml"
t_check "liveness probe is GET /healthz over HTTPS" \
	q StatefulSet fedns-hub "$c['livenessProbe']['httpGet'] == {'path': '/healthz', 'port': 'https', 'scheme': 'HTTPS'}"
t_check "readiness probe is GET /readyz over HTTPS" \
	q StatefulSet fedns-hub "$c['readinessProbe']['httpGet'] == {'path': '/readyz', 'port': 'https', 'scheme': 'HTTPS'}"
t_check "the store is on a persistent volume claim" \
	q StatefulSet fedns-hub 'o["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "store"'
t_check "the Secrets are referenced by name: TLS, spoke CA, signing key" \
	q StatefulSet fedns-hub '{v["secret"]["secretName"] for v in o["spec"]["template"]["spec"]["volumes"] if "secret" in v} == {"fedns-hub-tls", "fedns-hub-spoke-ca", "fedns-hub-signing"}'
t_check "the bootstrap admin comes from the Secret fedns-hub-bootstrap" \
	q StatefulSet fedns-hub 'o["spec"]["template"]["spec"]["initContainers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "fedns-hub-bootstrap"'
t_check "the hub serves the API on 8443 and spokes on 8444 with the contract's flags" \
	q StatefulSet fedns-hub "(lambda a: a[0] == 'serve' and dict(zip(a[1::2], a[2::2])) == {'--store': '/var/lib/fedns/hub.db', '--listen': 'https://0.0.0.0:8443', '--cert': '/etc/fedns/tls/tls.crt', '--key': '/etc/fedns/tls/tls.key', '--spoke-listen': 'tls+tcp://0.0.0.0:8444', '--spoke-ca': '/etc/fedns/spoke-ca/ca.crt', '--sign-key': '/etc/fedns/signing/signing.key', '--log-level': 'info'})($c['args'])"
t_check "Services: API 8443, spoke listener 8444" \
	sh -c "grep -A20 'name: fedns-hub$' hub.yaml | grep -q 'port: 8443' && grep -A25 'name: fedns-hub-spokes' hub.yaml | grep -q 'port: 8444'"
t_check "the NetworkPolicy closes egress but DNS" \
	q NetworkPolicy fedns-hub '"Egress" in o["spec"]["policyTypes"] and [p["port"] for r in o["spec"]["egress"] for p in r["ports"]] == [53, 53]'
t_check "the overlay issues fedns-hub-tls with cert-manager and uses its ca.crt for spokes" \
	sh -c "grep -A3 '^kind: Certificate' hub-cm.yaml | grep -q 'name: fedns-hub-tls' && ! grep -q 'secretName: fedns-hub-spoke-ca' hub-cm.yaml"
t_check "the hub image has a pinned tag" grep -q 'image: registry.example.com/fedns/fedns-hub:0.1.0' hub.yaml

hub_flags_known() {
	local help flag ok=0
	help=$("$t_build/hub/fedns-hub" --help 2>&1)
	$d_manifests args hub.yaml StatefulSet fedns-hub hub | tr '\0' '\n' >hub.args || return 1
	for flag in $(grep -- '^--' hub.args); do
		grep -qE -- "(^|[[:space:][])$flag([[:space:]]|$)" <<<"$help" ||
			{ echo "fedns-hub --help does not know $flag"; ok=1; }
	done
	return $ok
}
t_check "fedns-hub knows every flag the StatefulSet passes" hub_flags_known

# the bootstrap init container's script, run against the real fedns-hub: creates the store
# and the token file once, and does nothing on a restart
script=$(/usr/bin/python3 -c "import json,sys; o=json.loads(sys.argv[1]); print(o['spec']['template']['spec']['initContainers'][0]['command'][2])" "$(obj StatefulSet fedns-hub)")
mkdir -p fakeroot/var/lib/fedns fakeroot/usr/bin
ln -s "$t_build/hub/fedns-hub" fakeroot/usr/bin/fedns-hub
sed "s|/var/lib/fedns|$t_tmp/fakeroot/var/lib/fedns|g; s|/usr/bin/fedns-hub|$t_tmp/fakeroot/usr/bin/fedns-hub|g" <<<"$script" >bootstrap.sh
t_check "the bootstrap script creates the store" \
	env FEDNS_BOOTSTRAP_ADMIN=alice sh -e bootstrap.sh 2>/dev/null
t_check "the admin token is in a file only its owner reads" \
	sh -c "grep -qE '^fedns_[A-Za-z0-9_-]{43}$' fakeroot/var/lib/fedns/bootstrap-admin.token && [ \$(stat -c %a fakeroot/var/lib/fedns/bootstrap-admin.token) = 600 ]"
cp fakeroot/var/lib/fedns/bootstrap-admin.token first.token
t_check "a restart with the store in place bootstraps nothing" \
	sh -c "env FEDNS_BOOTSTRAP_ADMIN=alice sh -e bootstrap.sh && cmp -s first.token fakeroot/var/lib/fedns/bootstrap-admin.token"

# disaster recovery through the same init container: a backup put in restore/ replaces the
# store before the hub starts; a damaged one is set aside and the store kept
lib=$t_tmp/fakeroot/var/lib/fedns
principals() { sqlite3 "$lib/hub.db" 'select name from principals order by name' | tr '\n' ' '; }
"$t_build/hub/fedns-hub" backup --store "$lib/hub.db" --to alice-backup.db >/dev/null 2>&1
rm -f "$lib"/hub.db*
env FEDNS_BOOTSTRAP_ADMIN=bob sh -e bootstrap.sh 2>/dev/null
t_check "a new volume gets a fresh store (bob)" [ "$(principals)" = "bob " ]
mkdir -p "$lib/restore" && cp alice-backup.db "$lib/restore/hub.db"
t_check "the init container restores the backup put in restore/" \
	sh -c "env FEDNS_BOOTSTRAP_ADMIN=bob sh -e bootstrap.sh >restore.log 2>&1"
t_check "the store is the backup's (alice), the backup renamed aside" \
	sh -c "[ \"\$(sqlite3 '$lib/hub.db' 'select name from principals')\" = alice ] && ls '$lib'/restore/hub.db.restored-* >/dev/null && [ ! -e '$lib/restore/hub.db' ]"
head -c 4096 alice-backup.db >"$lib/restore/hub.db"
t_check "a damaged backup is refused (the init container fails)" \
	sh -c "! env FEDNS_BOOTSTRAP_ADMIN=bob sh -e bootstrap.sh >refused.log 2>&1"
t_check "the damaged backup is set aside and the store kept" \
	sh -c "ls '$lib'/restore/hub.db.rejected-* >/dev/null && [ ! -e '$lib/restore/hub.db' ] && [ \"\$(sqlite3 '$lib/hub.db' 'select name from principals')\" = alice ]"
t_check "the next start serves the kept store (nothing to do)" \
	env FEDNS_BOOTSTRAP_ADMIN=bob sh -e bootstrap.sh
t_done
