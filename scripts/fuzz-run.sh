#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs each libFuzzer target for a fixed time on a scratch copy of its corpus; fails on any crash.
#
# usage: scripts/fuzz-run.sh <dir with fuzz binaries> <seconds per target> <target>...
# The checked-in corpus (tests/fuzz/corpus/<target>/) is never written to: new inputs the
# fuzzer finds stay in the temp copy. Crash, leak and timeout inputs are kept in
# tests/fuzz/artifacts/ (git-ignored) so they can be turned into unit vectors.
set -euo pipefail

if (($# < 2)); then
	echo "usage: $0 <fuzz-bin-dir> <seconds> <target>..." >&2
	exit 2
fi
bindir=$1
seconds=$2
shift 2
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
	echo "fuzz-run: seconds must be a positive integer, got '$seconds'" >&2
	exit 2
fi
if (($# == 0)); then
	echo "fuzz-run: no fuzz targets (tests/fuzz/fuzz_*.c) yet"
	exit 0
fi

src=$(cd "$(dirname "$0")/.." && pwd)
artifacts=$src/tests/fuzz/artifacts
mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fedns-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for t in "$@"; do
	bin=$bindir/$t
	if [[ ! -x "$bin" ]]; then
		echo "fuzz-run: $bin is missing; run 'make fuzz' first" >&2
		failed+=("$t")
		continue
	fi
	corpus=$scratch/$t
	mkdir -p "$corpus"
	if [[ -d "$src/tests/fuzz/corpus/$t" ]]; then
		cp -r "$src/tests/fuzz/corpus/$t/." "$corpus/"
	else
		echo "fuzz-run: $t has no seed corpus (tests/fuzz/corpus/$t/); starting empty"
	fi
	args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$artifacts/$t-")
	if [[ -f "$src/tests/fuzz/$t.dict" ]]; then
		args+=(-dict="$src/tests/fuzz/$t.dict")
	fi
	log=$scratch/$t.log
	echo "fuzz-run: $t for ${seconds}s"
	if "$bin" "${args[@]}" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		echo "fuzz-run: $t ok, ${runs:-?} runs, corpus $(find "$corpus" -type f | wc -l) inputs"
	else
		echo "fuzz-run: $t FAILED; last lines of its output:" >&2
		tail -n 60 "$log" >&2
		echo "fuzz-run: failing inputs are in $artifacts/" >&2
		failed+=("$t")
	fi
done

if ((${#failed[@]})); then
	echo "fuzz-run: failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz-run: all $# targets clean"
