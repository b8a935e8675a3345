#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages fedns builds and tests with, only when some are missing.
#
# Not root: prints the exact apt-get command and exits 1, so `make test` stops with a
# message instead of half-building. Services shipped by bind9/knot are kept from starting
# (policy-rc.d), because a system named or knotd would sit on port 53 for nothing: our
# tests run their own servers on free loopback ports.
set -euo pipefail

# libclang-rt-14-dev holds libFuzzer and clang's sanitizer runtimes; clang only recommends
# it, and we install without recommends.
packages=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libcmocka-dev libnng-dev libmbedtls-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler
	libcjson-dev libcurl4-openssl-dev libsqlite3-dev
	bind9 bind9-utils bind9-dnsutils knot knot-dnsutils knot-dnssecutils
	python3-dnspython clang-format valgrind procps time openssl sqlite3 curl
	python3-yaml python3-prometheus-client chromium python3-websocket
)
# For testing this script: FEDNS_DEPS_PACKAGES="a b c" replaces the list.
if [[ -n "${FEDNS_DEPS_PACKAGES:-}" ]]; then
	read -r -a packages <<<"$FEDNS_DEPS_PACKAGES"
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ "$status" == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

apt_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root, then retry:" >&2
	echo "  sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive $apt_cmd'" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"

# Keep packaged daemons from starting during installation; put back whatever was there.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e "$policy" ]]; then
	printf '#!/bin/sh\n# fedns install-deps: no service starts during install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() {
	if ((made_policy)); then
		rm -f "$policy"
	fi
}
trap cleanup EXIT

apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# Where systemd runs, the units were enabled (though not started): disable them so a
# reboot of a CI machine does not bring up a system named/knotd on port 53.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
	for p in "${missing[@]}"; do
		case "$p" in
		bind9) systemctl disable --now named.service >/dev/null 2>&1 || true ;;
		knot) systemctl disable --now knot.service >/dev/null 2>&1 || true ;;
		esac
	done
fi
echo "install-deps: done"
