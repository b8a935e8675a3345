# SPDX-License-Identifier: Apache-2.0
"""Drives the propagation benchmark.

fedns arm: each change is proposed by one principal and approved by another through the
hub's HTTPS API (keep-alive connections); t0 is when the approval's response (the commit
acknowledgement) arrives. bind arm: each change is a TSIG-signed dynamic update to a BIND9
primary; t0 is when its response arrives. Then every secondary's SOA is polled over UDP in
a tight loop until each answers the new serial; the change's latency is the slowest
secondary's.

  drive.py fedns --api-port P --ca CA --editor TOKENFILE --approver TOKENFILE --zone Z
                 --secondaries PORT,PORT,... --count N --spacing S
  drive.py bind --primary-port P --key-name K --key-secret S --zone Z
                --secondaries PORT,... --count N --spacing S
  drive.py burst --api-port P --ca CA --editor F --approver F --zone Z --count N
      commits N changes back to back; prints "burst n N serial S seconds T"

Prints one line per change ("change I serial S latency_ms L") and a summary line
("series ARM n N p50_ms A p90_ms B p99_ms C max_ms D").
"""
import argparse
import http.client
import json
import math
import random
import socket
import ssl
import struct
import sys
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update


class Hub:
    def __init__(self, port, ca, token_file):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False  # the dev hub certificate names hub.fedns.test + 127.0.0.1
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
        with open(token_file) as f:
            self.token = f.read().strip()

    def call(self, method, path, body=None):
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        text = r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}: {text[:300]!r}")
        return json.loads(text) if text else None


def zone_serial(hub, zone):
    return hub.call("GET", f"/api/v1/zones/{zone}")["serial"]


def commit_one(editor, approver, zone, base, i):
    addr = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    plan = editor.call("POST", f"/api/v1/zones/{zone}/changes", {
        "base_serial": base,
        "reason": f"propagation bench {i}",
        "edits": [{"op": "replace", "name": "www", "type": "A", "ttl": 300, "rdata": [addr]}],
        "allow_mass_delete": True,
    })
    cid = plan["change"]["id"]
    res = approver.call("POST", f"/api/v1/changes/{cid}/approve", {})
    t0 = time.monotonic()
    return res["change"]["serial"], t0


def soa_query(zone):
    q = bytearray(random.getrandbits(16).to_bytes(2, "big"))
    q += b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in zone.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x06\x00\x01"
    return bytes(q)


def soa_serial(resp):
    """The serial of the first answer RR of an SOA response, or None."""
    if len(resp) < 12 or struct.unpack("!H", resp[6:8])[0] == 0:
        return None
    p = 12
    while resp[p] != 0:  # question name (never compressed)
        p += 1 + resp[p]
    p += 5
    if resp[p] & 0xC0 == 0xC0:
        p += 2
    else:
        while resp[p] != 0:
            p += 1 + resp[p]
        p += 1
    p += 10  # type class ttl rdlength
    for _ in range(2):  # mname, rname
        while True:
            ln = resp[p]
            if ln == 0:
                p += 1
                break
            if ln & 0xC0 == 0xC0:
                p += 2
                break
            p += 1 + ln
    return struct.unpack("!I", resp[p:p + 4])[0]


def wait_all(zone, ports, serial, t0, timeout=30.0):
    """Polls every secondary until each answers 'serial'; returns ms from t0 to the last."""
    socks = {}
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        socks[port] = s
    pending = set(ports)
    q = soa_query(zone)
    last = t0
    deadline = time.monotonic() + timeout
    try:
        while pending:
            now = time.monotonic()
            if now > deadline:
                raise RuntimeError(f"secondaries {sorted(pending)} did not reach serial {serial}")
            for port in list(pending):
                s = socks[port]
                try:
                    s.send(q)
                except OSError:
                    continue
            time.sleep(0.0003)
            for port in list(pending):
                s = socks[port]
                while True:
                    try:
                        r = s.recv(4096)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    got = soa_serial(r)
                    if got == serial:
                        pending.discard(port)
                        last = time.monotonic()
                        break
    finally:
        for s in socks.values():
            s.close()
    return (last - t0) * 1000.0


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, math.ceil(p / 100.0 * len(xs)) - 1))
    return xs[k]


def summary(arm, lat):
    print(f"series {arm} n {len(lat)} p50_ms {pct(lat, 50):.2f} p90_ms {pct(lat, 90):.2f} "
          f"p99_ms {pct(lat, 99):.2f} max_ms {max(lat):.2f}", flush=True)


def run_fedns(a):
    editor = Hub(a.api_port, a.ca, a.editor)
    approver = Hub(a.api_port, a.ca, a.approver)
    ports = [int(p) for p in a.secondaries.split(",")]
    base = zone_serial(editor, a.zone)
    lat = []
    for i in range(a.count):
        start = time.monotonic()
        serial, t0 = commit_one(editor, approver, a.zone, base, a.first + i)
        ms = wait_all(a.zone, ports, serial, t0)
        lat.append(ms)
        base = serial
        print(f"change {i} serial {serial} latency_ms {ms:.2f}", flush=True)
        rest = a.spacing - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
    summary(a.arm, lat)


def run_bind(a):
    keyring = dns.tsigkeyring.from_text({a.key_name: a.key_secret})
    ports = [int(p) for p in a.secondaries.split(",")]
    origin = dns.name.from_text(a.zone)
    serial = None
    lat = []
    for i in range(a.count):
        start = time.monotonic()
        addr = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        up = dns.update.UpdateMessage(origin, keyring=keyring, keyalgorithm="hmac-sha256")
        up.replace("www", 300, "A", addr)
        r = dns.query.tcp(up, "127.0.0.1", port=a.primary_port, timeout=10)
        t0 = time.monotonic()
        if r.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(f"update {i}: {dns.rcode.to_text(r.rcode())}")
        # the primary's new serial (serial-update-method increment)
        q = dns.message.make_query(origin, "SOA")
        serial = dns.query.udp(q, "127.0.0.1", port=a.primary_port, timeout=5).answer[0][0].serial
        ms = wait_all(a.zone, ports, serial, t0)
        lat.append(ms)
        print(f"change {i} serial {serial} latency_ms {ms:.2f}", flush=True)
        rest = a.spacing - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
    summary(a.arm, lat)


def run_burst(a):
    editor = Hub(a.api_port, a.ca, a.editor)
    approver = Hub(a.api_port, a.ca, a.approver)
    base = zone_serial(editor, a.zone)
    t = time.monotonic()
    for i in range(a.count):
        base, _ = commit_one(editor, approver, a.zone, base, a.first + i)
    print(f"burst n {a.count} serial {base} seconds {time.monotonic() - t:.3f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["fedns", "bind", "burst"])
    ap.add_argument("--arm", default="")
    ap.add_argument("--api-port", type=int)
    ap.add_argument("--ca")
    ap.add_argument("--editor")
    ap.add_argument("--approver")
    ap.add_argument("--zone", required=True)
    ap.add_argument("--secondaries", default="")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--spacing", type=float, default=0.25)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--primary-port", type=int)
    ap.add_argument("--key-name")
    ap.add_argument("--key-secret")
    a = ap.parse_args()
    a.arm = a.arm or a.mode
    {"fedns": run_fedns, "bind": run_bind, "burst": run_burst}[a.mode](a)


if __name__ == "__main__":
    main()
