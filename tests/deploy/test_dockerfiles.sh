#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The images' Dockerfiles pass the linter (tests/deploy/dockerfile_check.py; hadolint is not
# a Debian 12 package), the linter catches each defect it is there for, and the runtime
# stages install exactly the libraries the built programs load.
. "$(dirname "$0")/lib.sh"
check="/usr/bin/python3 $t_src/tests/deploy/dockerfile_check.py"
docker=$t_src/deploy/docker
cd "$t_tmp"

t_check "hub, spoke and bind9 Dockerfiles pass the linter" \
	$check "$docker/hub.Dockerfile" "$docker/spoke.Dockerfile" "$docker/bind9.Dockerfile"

# each mutation of a good file must be reported with its reason
bad() { # description sed-expression expected-message
	sed "$2" "$docker/hub.Dockerfile" >bad.Dockerfile
	if out=$($check bad.Dockerfile); then
		t_fail "linter accepts: $1"
	elif grep -q -- "$3" <<<"$out"; then
		t_ok "linter refuses: $1"
	else
		t_fail "linter refuses $1 but says: $out"
	fi
}
bad "an untagged base image" 's/^FROM debian:12-slim$/FROM debian/' "has no tag"
bad "the latest tag" 's/^FROM debian:12-slim$/FROM debian:latest/' "latest tag"
bad "no USER in the final stage" '/^USER /d' "runs as root"
bad "USER root" 's/^USER .*/USER root/' "USER is root"
bad "ADD of a URL" 's|^COPY --from=build /out/ /$|ADD https://example.com/x.tgz /|' "ADD of a URL"
bad "apt lists left in the image" '0,/rm -rf \/var\/lib\/apt\/lists\/\*/s// true/' "apt-get without rm"
bad "recommends installed" '0,/--no-install-recommends/s///' "no-install-recommends"
bad "a secret in ENV" 's/^USER /ENV API_TOKEN=abc\nUSER /' "holding a secret"

# the runtime stage's packages (and what they depend on) provide every shared library the
# programs load
closure() { # dockerfile -> runtime packages and their dependencies, one per line
	local pkgs
	pkgs=$(sed -n '/^FROM debian:12-slim/,$p' "$1" | tr -s ' \\\n' ' ' |
		sed -n 's/.*--no-install-recommends \([^&]*\) &&.*/\1/p')
	# shellcheck disable=SC2086
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances $pkgs 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u
}
closure "$docker/hub.Dockerfile" >hub.pkgs
closure "$docker/spoke.Dockerfile" >spoke.pkgs
libs_ok() { # binary package-list
	local missing=0 lib pkg
	for lib in $(ldd "$1" | awk '$3 ~ /^\// {print $3}'); do
		pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -z "$pkg" ] && pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || { echo "$lib belongs to no package"; missing=1; continue; }
		# a sanitizer build (make test SANITIZE=1) links the sanitizer runtimes, which
		# release images do not carry
		case "$pkg" in libasan* | libubsan* | liblsan* | libgcc-s1 | libstdc++6) continue ;; esac
		grep -qx -- "$pkg" "$2" || { echo "$1 loads $lib from $pkg, not in the image"; missing=1; }
	done
	return $missing
}
t_check "the runtime package list resolves (apt-cache knows every package)" \
	sh -c "grep -qx libnng1 hub.pkgs && grep -qx libsqlite3-0 hub.pkgs && grep -qx bind9-utils spoke.pkgs"
t_check "the hub image installs every library fedns-hub loads" libs_ok "$t_build/hub/fedns-hub" hub.pkgs
t_check "the hub image installs every library fednsctl loads" libs_ok "$t_build/cli/fednsctl" hub.pkgs
t_check "the spoke image installs every library fedns-spoke loads" libs_ok "$t_build/spoke/fedns-spoke" spoke.pkgs
sed 's/ libsqlite3-0//' "$docker/hub.Dockerfile" >nosqlite.Dockerfile
closure nosqlite.Dockerfile >nosqlite.pkgs
t_check "the library check notices a missing runtime package (libsqlite3-0)" \
	bash -c "$(declare -f libs_ok); libs_ok '$t_build/hub/fedns-hub' nosqlite.pkgs | grep -q 'from libsqlite3-0, not in the image'"
t_check "the spoke image carries rndc (bind9-utils)" grep -q 'bind9-utils' "$docker/spoke.Dockerfile"
t_check "the build stages build the programs the images run" \
	sh -c "grep -q -- '--target fedns-hub fednsctl' '$docker/hub.Dockerfile' && grep -q -- '--target fedns-spoke' '$docker/spoke.Dockerfile'"
t_done
