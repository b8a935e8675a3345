# SPDX-License-Identifier: Apache-2.0
# Shared helpers for integration tests: free loopback ports, temp dirs, processes started
# by the test (and only those) killed by PID on exit, polling with deadlines.
# Sourced by tests/integration/test_*.sh; expects FEDNS_BUILD and FEDNS_SRC.

set -u

t_name=$(basename "$0" .sh)
t_build=${FEDNS_BUILD:?FEDNS_BUILD is not set (the build directory)}
t_src=${FEDNS_SRC:?FEDNS_SRC is not set (the source directory)}
t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/fedns-$t_name.XXXXXX")
t_pids=()
t_failed=0
t_checks=0

t_cleanup() {
	local pid
	for pid in "${t_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${t_pids[@]}"; do
		# give each a moment, then insist
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	grep -lx "$$" "$t_ports_dir"/* 2>/dev/null | xargs -r rm -f
	if [ "$t_failed" != 0 ] && [ -n "${T_KEEP:-}" ]; then
		echo "$t_name: kept $t_tmp for inspection"
	else
		rm -rf "$t_tmp"
	fi
}
trap t_cleanup EXIT

# A TCP+UDP port free on 127.0.0.1, reserved for this test. Taken below the kernel's
# ephemeral range (32768-60999), so no outgoing connection or DNS query of a concurrent
# test takes it between this call and the bind of the server it is for; and reserved in a
# shared directory (a file per port holding the test's PID, created exclusively), so two
# tests running at once (ctest -j) never get the same port. Reservations of tests that
# are gone are reclaimed; this test's go in t_cleanup.
t_ports_dir=${TMPDIR:-/tmp}/fedns-test-ports
t_port() {
	T_OWNER=$$ T_PORTS_DIR=$t_ports_dir /usr/bin/python3 - <<'PY'
import os, random, socket, sys
d = os.environ["T_PORTS_DIR"]
owner = os.environ["T_OWNER"]
os.makedirs(d, exist_ok=True)
for _ in range(5000):
    p = random.randrange(20000, 32000)
    f = os.path.join(d, str(p))
    try:
        fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            pid = int(open(f).read().strip() or "0")
        except (OSError, ValueError):
            pid = 0
        if pid == 0 or not os.path.exists("/proc/%d" % pid):
            try:
                os.unlink(f)  # its test is gone; try the port again later
            except FileNotFoundError:
                pass
        continue
    os.write(fd, owner.encode())
    os.close(fd)
    ok = True
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        s.close()
    if ok:
        print(p)
        sys.exit(0)
    os.unlink(f)
sys.exit("t_port: no free port in 20000-31999")
PY
}

# t_start NAME CMD...: runs CMD in the background, output to $t_tmp/NAME.log.
t_start() {
	local name=$1
	shift
	"$@" >"$t_tmp/$name.log" 2>&1 &
	local pid=$!
	t_pids+=("$pid")
	eval "pid_$name=$pid"
}

# t_stop NAME: stops a process this test started.
t_stop() {
	local pid
	eval "pid=\${pid_$1:-}"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "pid_$1="
}

# t_wait SECONDS CMD...: polls CMD every 0.05 s until it succeeds; 1 on timeout.
t_wait() {
	local limit=$1
	shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -le $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

t_ok() {
	t_checks=$((t_checks + 1))
	echo "ok - $*"
}

t_fail() {
	t_checks=$((t_checks + 1))
	t_failed=$((t_failed + 1))
	echo "FAIL - $*"
}

# t_check DESCRIPTION CMD...: records CMD's success or failure.
t_check() {
	local what=$1
	shift
	if "$@"; then t_ok "$what"; else t_fail "$what"; fi
}

t_done() {
	echo "$t_name: $((t_checks - t_failed)) passed, $t_failed failed"
	[ "$t_failed" = 0 ]
	exit $?
}
