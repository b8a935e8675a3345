#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The spoke Helm chart: helm lint --strict and helm template with the default values and two
# other value sets; every rendered object valid against the Kubernetes JSON schemas (strict
# fields) and the policy (no root, probes and limits, no inline secret values); what each
# value set must change; values.schema.json refusing bad values.
. "$(dirname "$0")/lib.sh"
d_get_tools
d_get_validator
cd "$t_tmp"
values=(default "$t_src/tests/deploy/values-certmanager.yaml" "$t_src/tests/deploy/values-existing.yaml")

for v in "${values[@]}"; do
	name=$(basename "$v" .yaml)
	args=()
	[ "$v" = default ] || args=(-f "$v")
	t_check "helm lint --strict ($name)" sh -c "'$HELM' lint --strict '$d_chart' ${args[*]} >lint-$name.log 2>&1 || { cat lint-$name.log; false; }"
	if "$HELM" template fedns-spoke "$d_chart" --namespace fedns ${args[@]+"${args[@]}"} >"$name.yaml" 2>"$name.err"; then
		t_ok "helm template ($name)"
	else
		t_fail "helm template ($name): $(cat "$name.err")"
		continue
	fi
	t_check "schemas: every object of $name is valid" d_validate "$t_tmp/$name.yaml"
	t_check "policy: $name" $d_manifests policy --allow-generated-secrets "$name.yaml"
done

# what the value sets change
has() { grep -q -- "$2" "$1.yaml"; }
t_check "default: TSIG and rndc keys generated as Secrets" \
	[ "$(grep -c '^kind: Secret' default.yaml)" = 2 ]
t_check "default: the spoke discovers its secondaries through the headless Service" \
	sh -c "grep -A1 -- '- --secondaries-from$' default.yaml | grep -q 'fedns-spoke-secondaries.fedns.svc:53'"
t_check "default: the headless Service exists and publishes not-ready secondaries" \
	/usr/bin/python3 -c "import json; o=[x for x in json.load(open('$t_tmp/default.yaml.json')) if x['kind']=='Service' and x['metadata']['name']=='fedns-spoke-secondaries']; exit(not (len(o)==1 and o[0]['spec']['clusterIP']=='None' and o[0]['spec']['publishNotReadyAddresses'] is True))"
t_check "default: two secondaries" has default "replicas: 2"
t_check "default: the sysctl that lets named bind port 53 unprivileged" \
	has default "net.ipv4.ip_unprivileged_port_start"
t_check "default: no Certificate without cert-manager" sh -c "! grep -q '^kind: Certificate' default.yaml"
t_check "cert-manager: a Certificate with CN = cluster" \
	sh -c "grep -A12 '^kind: Certificate' values-certmanager.yaml | grep -q 'commonName: west'"
t_check "cert-manager: both pinned hub keys are passed" \
	sh -c "[ \$(grep -A1 -- '- --hub-key$' values-certmanager.yaml | grep -c '/etc/fedns/hub-keys/key-[01].pub') = 2 ]"
t_check "cert-manager: the fixed spoke address is in named.conf (no placeholder)" \
	sh -c "$d_manifests get values-certmanager.yaml ConfigMap -named named.conf | grep -q 'default-primaries { 10.96.53.53 port 5300 key \"xfr-key\"; }'"
t_check "cert-manager: three secondaries with persistent volumes" \
	sh -c "grep -q 'replicas: 3' values-certmanager.yaml && grep -q 'volumeClaimTemplates' values-certmanager.yaml"
t_check "existing: no Secret rendered when every key is given" \
	sh -c "! grep -q '^kind: Secret' values-existing.yaml"
t_check "existing: the named Secrets are mounted" \
	sh -c "grep -q 'secretName: fedns-tsig' values-existing.yaml && grep -q 'secretName: fedns-rndc' values-existing.yaml && grep -q 'secretName: fedns-spoke-tls' values-existing.yaml"
t_check "existing: unprivileged ports need no sysctl" \
	sh -c "! grep -q ip_unprivileged_port_start values-existing.yaml"
t_check "existing: the egress rule follows the hub's port" \
	sh -c "grep -B1 -A2 'port: 18444' values-existing.yaml | grep -q TCP"

# every flag the chart passes is one the built fedns-spoke knows (its --help), with a value
flags_known() { # rendered.yaml
	local help flag ok=0
	help=$("$t_build/spoke/fedns-spoke" --help 2>&1)
	$d_manifests args "$1" Deployment fedns-spoke spoke | tr '\0' '\n' >spoke.args || return 1
	for flag in $(grep -- '^--' spoke.args); do
		grep -qE -- "(^|[[:space:]])$flag([[:space:]]|$)" <<<"$help" ||
			{ echo "fedns-spoke --help does not know $flag"; ok=1; }
	done
	# flags and values alternate: no flag is followed by another flag
	awk 'prev ~ /^--/ && $0 ~ /^--/ { print "no value after " prev; bad = 1 } { prev = $0 } END { exit bad }' spoke.args || ok=1
	return $ok
}
for v in default values-certmanager values-existing; do
	t_check "fedns-spoke knows every flag the chart passes ($v)" flags_known "$v.yaml"
done

# the checks themselves catch what they are for
cp default.yaml mutated.yaml
sed -i '0,/readOnlyRootFilesystem: true/s//readOnlyRootFilesystem: false/' mutated.yaml
$d_manifests policy --allow-generated-secrets mutated.yaml >mutated.log
t_check "policy refuses a writable root filesystem" grep -q 'readOnlyRootFilesystem is not true' mutated.log
sed 's/fedns.io\/generated: "true"/fedns.io\/generated: "no"/' default.yaml >mutated2.yaml
$d_manifests policy --allow-generated-secrets mutated2.yaml >mutated2.log
t_check "policy refuses a Secret with inline values that the chart did not generate" \
	grep -q 'Secret with inline values' mutated2.log
sed '0,/imagePullPolicy:/s//imagePullPolicyy:/' default.yaml >mutated3.yaml
d_validate "$t_tmp/mutated3.yaml" >mutated3.log
t_check "the schema check refuses an unknown field, by name" grep -q 'imagePullPolicyy: unknown field' mutated3.log
sed '0,/replicas: 2/s//replicas: two/' default.yaml >mutated4.yaml
d_validate "$t_tmp/mutated4.yaml" >mutated4.log
t_check "the schema check refuses a wrong type" grep -q 'spec/replicas must be integer' mutated4.log

refused() { # description expected-message helm-args...
	local what=$1 msg=$2
	shift 2
	if "$HELM" lint --strict "$d_chart" "$@" >refused.log 2>&1; then
		t_fail "values.schema.json accepts $what"
	elif grep -q -- "$msg" refused.log; then
		t_ok "values.schema.json refuses $what"
	else
		t_fail "values.schema.json refuses $what, but says: $(grep ERROR refused.log)"
	fi
}
refused "a misspelt key" "Additional property replica is not allowed" --set secondaries.replica=3
refused "zero secondaries" "secondaries.replicas" --set secondaries.replicas=0
refused "an image tag latest" "spoke.image.tag" --set spoke.image.tag=latest
refused "a hub address without tls+tcp" "hub.address" --set hub.address=https://hub:8444
refused "a relative catalog zone name" "catalog.zone" --set catalog.zone=catalog
refused "a cluster name that is not a DNS label" "cluster" --set cluster=East_1
refused "a pinned key that is not a PEM public key" "signingPublicKeys" --set 'hub.signingPublicKeys[0]=-----BEGIN PRIVATE KEY-----x'
refused "a container without limits" "limits" --set spoke.resources.limits=null
t_done
