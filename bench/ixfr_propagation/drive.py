# SPDX-License-Identifier: Apache-2.0
"""Drives one series of the ixfr_propagation benchmark: applies N diffs at a fixed spacing to
a primary (fedns-spoke through its control socket, or BIND9 through a TSIG-signed dynamic
update) and polls a secondary's SOA in a tight loop to time when each new serial is served.

Prints one line per diff ("diff I serial S latency_ms L") and a summary line
("series ARM n N median_ms M p90_ms P max_ms X").
"""
import argparse
import math
import os
import socket
import statistics
import struct
import sys
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

HOSTS = 997  # A records h0..h996 plus SOA, NS and the NS glue: 1000 records


def zone_text(origin, serial, addrs):
    """The whole zone at one version (also the BIND primary's starting file)."""
    lines = [
        "$TTL 300",
        f"{origin} IN SOA ns1.{origin} hostmaster.{origin} {serial} 3600 600 86400 60",
        f"{origin} IN NS ns1.{origin}",
    ]
    for i, a in enumerate(addrs):
        lines.append(f"h{i}.{origin} IN A {a}")
    lines.append(f"ns1.{origin} IN A 192.0.2.53")
    return "\n".join(lines) + "\n"


def initial_addrs():
    return [f"10.0.{i // 256}.{i % 256}" for i in range(HOSTS)]


def diff_addr(i):
    # a fresh address per diff so every diff really changes the record
    return f"10.{1 + i // 65536}.{(i // 256) % 256}.{i % 256}"


def skip_name(b, p):
    while True:
        ln = b[p]
        if ln == 0:
            return p + 1
        if ln & 0xC0 == 0xC0:
            return p + 2
        p += 1 + ln


class Poller:
    """SOA poller over UDP with a prebuilt query; parses only the serial."""

    def __init__(self, port, origin):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        q = dns.message.make_query(origin, "SOA")
        q.flags = 0  # no RD
        self.id = 0
        self.query = bytearray(q.to_wire())

    def serial(self):
        self.id = (self.id + 1) & 0xFFFF
        struct.pack_into("!H", self.query, 0, self.id)
        self.sock.send(self.query)
        while True:
            try:
                b = self.sock.recv(4096)
            except socket.timeout:
                return None
            if len(b) >= 12 and struct.unpack_from("!H", b, 0)[0] == self.id:
                break
        qd, an = struct.unpack_from("!HH", b, 4)
        if b[3] & 0x0F != 0 or an == 0:
            return None
        p = 12
        for _ in range(qd):
            p = skip_name(b, p) + 4
        p = skip_name(b, p)
        rtype, _, _, _ = struct.unpack_from("!HHIH", b, p)
        p += 10
        if rtype != 6:
            return None
        p = skip_name(b, skip_name(b, p))
        return struct.unpack_from("!I", b, p)[0]


class FednsPrimary:
    def __init__(self, ctl, workdir, origin, base_serial, first, count):
        self.ctl = ctl
        self.files = []
        addrs = initial_addrs()
        for i in range(first):
            addrs[i % HOSTS] = diff_addr(i)
        # every version is written before the series so the clock only sees the load
        for i in range(count):
            addrs[(first + i) % HOSTS] = diff_addr(first + i)
            path = os.path.join(workdir, f"v{i}.zone")
            with open(path, "w") as f:
                f.write(zone_text(origin, base_serial + 1 + i, addrs))
            self.files.append(path)

    def apply(self, i):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.ctl)
        s.sendall(f"load {self.files[i]}\n".encode())
        ans = b""
        while True:
            r = s.recv(4096)
            if not r:
                break
            ans += r
        s.close()
        if not ans.startswith(b"ok"):
            sys.exit(f"drive: spoke refused version {i}: {ans.decode(errors='replace').strip()}")


class BindPrimary:
    def __init__(self, port, origin, keyname, secret, first, count):
        self.port = port
        self.origin = origin
        self.keyring = dns.tsigkeyring.from_text({keyname: ("hmac-sha256", secret)})
        self.keyname = keyname
        self.msgs = []
        for i in range(count):
            u = dns.update.UpdateMessage(origin, keyring=self.keyring, keyname=keyname,
                                         keyalgorithm="hmac-sha256")
            n = first + i
            u.replace(f"h{n % HOSTS}", 300, "A", diff_addr(n))
            self.msgs.append(u)

    def apply(self, i):
        r = dns.query.udp(self.msgs[i], "127.0.0.1", port=self.port, timeout=5)
        if r.rcode() != dns.rcode.NOERROR:
            sys.exit(f"drive: BIND refused update {i}: {dns.rcode.to_text(r.rcode())}")


def percentile(xs, p):
    """Nearest rank; p = 50 gives the statistics.median of an odd count."""
    s = sorted(xs)
    if p == 50:
        return statistics.median(s)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def write_initial(path, origin, serial):
    with open(path, "w") as f:
        f.write(zone_text(origin, serial, initial_addrs()))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "initial":
        # drive.py initial ORIGIN FILE: the version-1000 zone both primaries start from
        write_initial(sys.argv[3], sys.argv[2], 1000)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--arm", required=True)
    ap.add_argument("--primary", choices=["fedns", "bind"], required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--secondary-port", type=int, required=True)
    ap.add_argument("--spacing", type=float, required=True)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--first", type=int, default=0,
                    help="number of diffs earlier series applied (diff numbers go on from it)")
    ap.add_argument("--ctl")
    ap.add_argument("--workdir")
    ap.add_argument("--primary-port", type=int)
    ap.add_argument("--key-name")
    ap.add_argument("--key-secret")
    ap.add_argument("--poll-gap-us", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=15.0)
    a = ap.parse_args()

    poll = Poller(a.secondary_port, a.origin)
    base = poll.serial()
    if base is None:
        sys.exit(f"drive: the secondary does not answer the SOA of {a.origin}")
    if a.primary == "fedns":
        prim = FednsPrimary(a.ctl, a.workdir, a.origin, base, a.first, a.count)
    else:
        # BIND increments the serial by one per update (serial-update-method increment)
        prim = BindPrimary(a.primary_port, a.origin, a.key_name, a.key_secret, a.first,
                           a.count)

    gap = a.poll_gap_us / 1e6
    pending = []  # (index, serial, accepted_at)
    lat = [None] * a.count
    start = time.monotonic() + 0.05
    i = 0
    deadline = None
    while i < a.count or pending:
        now = time.monotonic()
        if i < a.count and now >= start + i * a.spacing:
            prim.apply(i)
            pending.append((i, base + 1 + i, time.monotonic()))
            i += 1
            if i == a.count:
                deadline = time.monotonic() + a.timeout
            continue
        if pending:
            s = poll.serial()
            t = time.monotonic()
            if s is not None:
                keep = []
                for (j, want, t0) in pending:
                    if s >= want:
                        lat[j] = (t - t0) * 1000.0
                    else:
                        keep.append((j, want, t0))
                pending = keep
            if deadline is not None and t > deadline:
                break
            time.sleep(gap)
        else:
            time.sleep(min(gap, max(0.0, start + i * a.spacing - now)))

    for j, v in enumerate(lat):
        shown = f"{v:.2f}" if v is not None else "timeout"
        print(f"diff {j} serial {base + 1 + j} latency_ms {shown}")
    got = [v for v in lat if v is not None]
    if len(got) != a.count:
        sys.exit(f"drive: {a.count - len(got)} of {a.count} diffs never reached the secondary "
                 f"within {a.timeout} s of the last diff")
    print(f"series {a.arm} n {len(got)} median_ms {percentile(got, 50):.2f} "
          f"p90_ms {percentile(got, 90):.2f} max_ms {max(got):.2f}")


if __name__ == "__main__":
    main()
