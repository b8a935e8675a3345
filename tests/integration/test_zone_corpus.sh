#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Zone corpus: fednsctl must accept and reject the same files as named-checkzone, and print
# the same RR set as named-compilezone for accepted ones (see tests/zones/README.md).
#
# Usage: test_zone_corpus.sh [--named-only] [-v] [FILE.zone ...]
#   env FEDNS_BUILD (build dir holding cli/fednsctl), FEDNS_SRC (source dir).
#   --named-only  check only that each file sits in the folder BIND's verdict puts it in
#                 (for growing the corpus before or without fednsctl); never used by ctest.
#   -v            print every file's verdicts, not only the problems.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${FEDNS_SRC:-$(cd "$here/../.." && pwd)}
build=${FEDNS_BUILD:-}
zones=$src/tests/zones
compare=$here/zone_corpus_compare.py
python=/usr/bin/python3

named_only=0
verbose=0
files=()
for a in "$@"; do
	case $a in
	--named-only) named_only=1 ;;
	-v) verbose=1 ;;
	*) files+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")") ;;
	esac
done

die() {
	echo "zone corpus: $*" >&2
	exit 1
}

for tool in named-checkzone named-compilezone; do
	command -v "$tool" >/dev/null || die "$tool not found (install bind9-utils)"
done
[ -x "$python" ] || die "$python not found"
"$python" -c 'import dns.rdata' 2>/dev/null || die "dnspython missing (install python3-dnspython)"

fednsctl=
if [ "$named_only" = 0 ]; then
	[ -n "$build" ] || die "FEDNS_BUILD is not set (the build directory holding cli/fednsctl)"
	fednsctl=$build/cli/fednsctl
	[ -x "$fednsctl" ] || die "$fednsctl does not exist: build the fednsctl target"
fi

if [ ${#files[@]} -eq 0 ]; then
	shopt -s nullglob
	files=("$zones"/good/*.zone "$zones"/bad/*.zone "$zones"/differ/*.zone)
	shopt -u nullglob
	[ ${#files[@]} -ge 40 ] || die "only ${#files[@]} zone files under $zones (expected 40 or more)"
fi

# Under a sanitizer build a report must not pass for a rejection (both exit 1 by default).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86:print_stacktrace=1"
sanitizer_report='ERROR: (Address|Leak)Sanitizer|runtime error:'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fedns-zone-corpus.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

total=0
agree=0
disagree=0
notes=0

# The origin is the file's stem plus "." unless the first line reads "; origin: NAME".
origin_of() {
	local first
	first=$(head -n 1 "$1")
	if [[ $first =~ ^\;[[:space:]]*origin:[[:space:]]*([^[:space:]]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		local b
		b=$(basename "$1")
		echo "${b%.zone}."
	fi
}

indent() {
	sed 's/^/      /'
}

# Problems are collected per file and printed together so a failure reads as one block.
problems=
problem() {
	local IFS=
	problems+="  $*"$'\n'
}

for f in "${files[@]}"; do
	total=$((total + 1))
	problems=
	dir=$(dirname "$f")
	base=$(basename "$f")
	kind=$(basename "$dir")
	rel=$kind/$base
	origin=$(origin_of "$f")

	# Both tools run from the zone's directory with the bare file name, so $INCLUDE
	# resolves the same way (BIND resolves against the working directory) and both
	# name the file the same way in their messages.
	nmsg=$(cd "$dir" && named-checkzone "$origin" "$base" 2>&1)
	nrc=$?

	case $kind in
	good | differ) want_n=0 ;;
	bad) want_n=1 ;;
	*)
		want_n=
		problem "corpus: $rel is not under good/, bad/ or differ/"
		;;
	esac
	if [ -n "$want_n" ] && [ "$nrc" != "$want_n" ]; then
		problem "corpus: named-checkzone exits $nrc on $rel, which belongs in " \
			"$([ "$nrc" = 0 ] && echo good/ || echo bad/):"$'\n'"$(indent <<<"$nmsg")"
	fi

	if [ "$named_only" = 1 ]; then
		if [ -z "$problems" ]; then
			agree=$((agree + 1))
			[ "$verbose" = 1 ] && echo "ok    $rel [$origin] named-checkzone rc=$nrc"
		else
			disagree=$((disagree + 1))
			printf 'FAIL  %s [%s]\n%s' "$rel" "$origin" "$problems"
		fi
		continue
	fi

	fmsg=$(cd "$dir" && timeout 60 "$fednsctl" zone check --origin "$origin" "$base" 2>&1)
	frc=$?
	if grep -Eq "$sanitizer_report" <<<"$fmsg"; then
		problem "fednsctl zone check: sanitizer report:"$'\n'"$(indent <<<"$fmsg")"
	elif [ "$frc" != 0 ] && [ "$frc" != 1 ]; then
		problem "fednsctl zone check exited $frc (expected 0 or 1; crash, timeout or usage error):" \
			$'\n'"$(indent <<<"$fmsg")"
	fi

	if [ "$kind" = differ ]; then
		# fedns deliberately refuses what BIND only warns about (tests/zones/README.md).
		if [ "$frc" != 1 ]; then
			problem "fedns must reject $rel (see tests/zones/README.md) but exited $frc:" \
				$'\n'"$(indent <<<"$fmsg")"
		elif ! grep -Eq "(^|[[:space:]/])$base:[0-9]+:" <<<"$fmsg"; then
			problem "fedns rejects $rel without naming a line ($base:LINE:):" \
				$'\n'"$(indent <<<"$fmsg")"
		fi
	elif [ "$nrc" = 0 ] && [ "$frc" = 1 ]; then
		problem "disagree: named-checkzone accepts, fednsctl rejects" \
			$'\n'"    named-checkzone:"$'\n'"$(indent <<<"$nmsg")" \
			$'\n'"    fednsctl:"$'\n'"$(indent <<<"$fmsg")"
	elif [ "$nrc" != 0 ] && [ "$frc" = 0 ]; then
		problem "disagree: named-checkzone rejects, fednsctl accepts" \
			$'\n'"    named-checkzone:"$'\n'"$(indent <<<"$nmsg")" \
			$'\n'"    fednsctl:"$'\n'"$(indent <<<"$fmsg")"
	elif [ "$nrc" != 0 ] && [ "$frc" = 1 ]; then
		# Both reject: where BIND names a line, fedns must name one too.
		nline=$(grep -Eo "(^|[[:space:]])$base:[0-9]+:" <<<"$nmsg" | head -n 1 |
			grep -Eo '[0-9]+:$' | tr -d :)
		fline=$(grep -Eo "(^|[[:space:]/])$base:[0-9]+:" <<<"$fmsg" | head -n 1 |
			grep -Eo '[0-9]+:$' | tr -d :)
		if [ -n "$nline" ] && [ -z "$fline" ]; then
			problem "fednsctl rejects without naming a line ($base:LINE:); BIND names line $nline:" \
				$'\n'"    named-checkzone:"$'\n'"$(indent <<<"$nmsg")" \
				$'\n'"    fednsctl:"$'\n'"$(indent <<<"$fmsg")"
		elif [ -n "$nline" ] && [ "$nline" != "$fline" ]; then
			# Not a failure: the tools may blame different lines of one mistake
			# (an unclosed parenthesis is noticed where the record ends).
			echo "note  $rel: BIND blames line $nline, fedns line $fline"
			notes=$((notes + 1))
		fi
	elif [ "$nrc" = 0 ] && [ "$frc" = 0 ]; then
		# Both accept: the RR sets must be equal. -k warn: check-names is a policy
		# named-checkzone only warns about, and it must not stop the dump.
		if ! (cd "$dir" && named-compilezone -k warn -o "$tmp/bind.txt" "$origin" "$base") \
			>"$tmp/bind.err" 2>&1; then
			problem "named-compilezone failed on a file named-checkzone accepts:" \
				$'\n'"$(indent <"$tmp/bind.err")"
		fi
		(cd "$dir" && timeout 60 "$fednsctl" zone print --origin "$origin" "$base") \
			>"$tmp/fedns.txt" 2>"$tmp/fedns.err"
		prc=$?
		if grep -Eq "$sanitizer_report" "$tmp/fedns.err"; then
			problem "fednsctl zone print: sanitizer report:"$'\n'"$(indent <"$tmp/fedns.err")"
		elif [ "$prc" != 0 ]; then
			problem "fednsctl zone print exited $prc on a zone fednsctl zone check accepts:" \
				$'\n'"$(indent <"$tmp/fedns.err")"
		elif [ -z "$problems" ]; then
			if ! out=$("$python" "$compare" "$tmp/bind.txt" "$tmp/fedns.txt" 2>&1); then
				problem "RR sets differ:"$'\n'"$(indent <<<"$out")"
			elif [ -n "$out" ]; then
				echo "note  $rel: $out"
				notes=$((notes + 1))
			fi
			# The printer's contract: its output is a master file that BIND reads
			# to the same RR set, and that fedns reads back to the same RR set.
			if ! named-compilezone -k warn -o "$tmp/bind2.txt" "$origin" \
				"$tmp/fedns.txt" >"$tmp/bind2.err" 2>&1; then
				problem "named-compilezone cannot read fednsctl zone print's output:" \
					$'\n'"$(indent <"$tmp/bind2.err")"
			elif ! out=$("$python" "$compare" "$tmp/bind2.txt" "$tmp/fedns.txt" 2>&1); then
				problem "named-compilezone reads fednsctl zone print's output as another RR set:" \
					$'\n'"$(indent <<<"$out")"
			fi
			if ! timeout 60 "$fednsctl" zone print --origin "$origin" "$tmp/fedns.txt" \
				>"$tmp/fedns2.txt" 2>"$tmp/fedns2.err" ||
				grep -Eq "$sanitizer_report" "$tmp/fedns2.err"; then
				problem "fednsctl zone print cannot read its own output:" \
					$'\n'"$(indent <"$tmp/fedns2.err")"
			elif ! cmp -s "$tmp/fedns.txt" "$tmp/fedns2.txt"; then
				problem "fednsctl zone print of its own output is not identical:" \
					$'\n'"$(diff "$tmp/fedns.txt" "$tmp/fedns2.txt" | indent)"
			fi
		fi
	fi

	if [ -z "$problems" ]; then
		agree=$((agree + 1))
		[ "$verbose" = 1 ] && echo "ok    $rel [$origin] named-checkzone rc=$nrc fednsctl rc=$frc"
	else
		disagree=$((disagree + 1))
		printf 'FAIL  %s [%s]\n%s' "$rel" "$origin" "$problems"
	fi
done

mode=
[ "$named_only" = 1 ] && mode=" (named-checkzone only)"
echo "zone corpus$mode: $total files, $agree agree, $disagree disagree, $notes notes"
[ "$disagree" = 0 ]
