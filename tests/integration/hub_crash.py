#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Crash-safety driver for test_hub_crash.sh: streams propose+approve commits into fedns-hub
# over raw HTTPS while killing the hub with SIGKILL at random moments and restarting it on
# the same store, then checks what survived (acknowledged commits present, no half-written
# change or version, serials without gaps, digests of exported versions, audit records).
#
# usage: hub_crash.py setup PORT CA ADMIN_TOKEN STATE ZONES
#        hub_crash.py crash STATE KILLS SEED PORT_FILE LOG -- HUB_ARGV...
#        hub_crash.py verify PORT CA ADMIN_TOKEN STATE FEDNSCTL OUT_DIR
# crash writes STATE.acks (one JSON object per acknowledged proposal or commit).
import http.client
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

API = "/api/v1"
failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
    print(("ok - " if cond else "FAIL - ") + what)
    sys.stdout.flush()
    return cond


class Client:
    """One keep-alive HTTPS connection. TCP_QUICKACK is re-armed before each answer is
    read so that a hub writing an answer in two pieces with Nagle on (as it did before
    commit eda1331) cannot slow the stream to one commit per ~80 ms."""

    def __init__(self, port, ca, timeout=5.0):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def req(self, method, path, token, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                                    timeout=self.timeout)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        h = {"Authorization": "Bearer " + token}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=h)
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            r = self.conn.getresponse()
            raw = r.read()
        except Exception:
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            js = json.loads(raw) if raw and r.getheader("Content-Type", "").startswith(
                "application/json") else None
        except ValueError:
            js = None
        return r.status, js, raw


def must(res, status, what):
    if res[0] != status:
        sys.exit("hub_crash: %s: expected %d, got %d %r" % (what, status, res[0], res[2][:300]))
    return res[1]


def cmd_setup(port, ca, admin_file, state_file, nzones):
    admin = open(admin_file).read().strip()
    c = Client(int(port), ca)
    must(c.req("POST", API + "/tenants", admin, {"name": "crash"}), 201, "create tenant")
    toks = {}
    for p, role in (("editor1", "editor"), ("approver1", "approver")):
        toks[p] = must(c.req("POST", API + "/principals", admin, {"name": p}), 201,
                       "create principal " + p)["token"]
        must(c.req("PUT", API + "/principals/%s/roles/crash" % p, admin, {"role": role}), 200,
             "grant " + role)
    zones = []
    for i in range(int(nzones)):
        z = "z%d.crash.example." % i
        must(c.req("POST", API + "/zones", admin,
                   {"name": z, "tenant": "crash", "primary_ns": "ns1.example.net.",
                    "hostmaster": "hostmaster.example.net."}), 201, "create zone " + z)
        zones.append(z)
    json.dump({"editor": toks["editor1"], "approver": toks["approver1"], "zones": zones},
              open(state_file, "w"))


class Stream(threading.Thread):
    """Commits into one zone for as long as it runs, resynchronising after every failure;
    records only what the hub acknowledged."""

    def __init__(self, crash, zone, idx):
        super().__init__(daemon=True)
        self.crash = crash
        self.zone = zone
        self.idx = idx
        self.in_flight = False
        self.errors = 0

    def run(self):
        cr = self.crash
        cl = None
        port = None
        serial = None
        n = 0
        while not cr.stop.is_set():
            if cl is None or port != cr.port:
                if cl is not None:
                    cl.close()
                port = cr.port
                if port is None:
                    time.sleep(0.01)
                    continue
                cl = Client(port, cr.ca)
                serial = None
            try:
                self.in_flight = True
                if serial is None:
                    st, js, _ = cl.req("GET", API + "/zones/" + self.zone, cr.editor)
                    if st != 200:
                        raise IOError("zone read: %d" % st)
                    serial = js["serial"]
                n += 1
                name = "r%d-%d" % (self.idx, n)
                st, js, raw = cl.req("POST", API + "/zones/%s/changes" % self.zone, cr.editor,
                                     {"base_serial": serial, "reason": "crash stream",
                                      "edits": [{"op": "add", "name": name, "type": "TXT",
                                                 "ttl": 300, "rdata": ['"%d"' % n]}]})
                if st == 409:
                    serial = None
                    continue
                if st != 201:
                    raise IOError("propose: %d %r" % (st, raw[:200]))
                cid = js["change"]["id"]
                cr.ack({"zone": self.zone, "proposed": cid, "base": serial})
                st, js, raw = cl.req("POST", API + "/changes/%d/approve" % cid, cr.approver, {})
                if st == 409:
                    serial = None
                    continue
                if st != 200 or js.get("committed") is not True:
                    raise IOError("approve: %d %r" % (st, raw[:200]))
                serial = js["change"]["serial"]
                cr.ack({"zone": self.zone, "committed": cid, "serial": serial,
                        "digest": js["change"]["digest"], "name": name})
            except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
                # the hub died (or answered nonsense): what was not acknowledged may or may
                # not have happened; the checks afterwards allow both
                self.errors += 1
                if cl is not None:
                    cl.close()
                serial = None
                time.sleep(0.005)
            finally:
                self.in_flight = False
        if cl is not None:
            cl.close()


class Crash:
    def __init__(self, state_file, port_file, log, hub_argv):
        st = json.load(open(state_file))
        self.editor = st["editor"]
        self.approver = st["approver"]
        self.zones = st["zones"]
        self.ca = None
        self.port_file = port_file
        self.log = log
        self.hub_argv = hub_argv
        self.port = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acks = open(state_file + ".acks", "a")
        self.commits = 0
        self.proc = None

    def ack(self, rec):
        with self.lock:
            self.acks.write(json.dumps(rec) + "\n")
            self.acks.flush()
            if "committed" in rec:
                self.commits += 1

    def start_hub(self):
        try:
            os.unlink(self.port_file)
        except FileNotFoundError:
            pass
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self.hub_argv, stdout=log, stderr=log)
        log.close()
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                sys.exit("hub_crash: the hub exited with %d on restart (see %s)" %
                         (self.proc.returncode, self.log))
            try:
                p = open(self.port_file).read().strip()
                if p:
                    self.port = int(p)
                    return
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.01)
        self.kill_hub()
        sys.exit("hub_crash: the hub did not listen within 15 s (see %s)" % self.log)

    def kill_hub(self):
        self.port = None
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None


def cmd_crash(state_file, kills, seed, port_file, log, hub_argv):
    rnd = random.Random(int(seed))
    cr = Crash(state_file, port_file, log, hub_argv)
    cr.ca = os.environ["HUB_CRASH_CA"]
    streams = [Stream(cr, z, i) for i, z in enumerate(cr.zones)]
    busy_kills = 0
    try:
        cr.start_hub()
        for s in streams:
            s.start()
        for k in range(int(kills)):
            # let the stream get going again, then kill at a random moment of it
            base = cr.commits
            end = time.monotonic() + 20
            while cr.commits < base + rnd.randint(1, 30) and time.monotonic() < end:
                time.sleep(0.002)
            if cr.commits == base:
                sys.exit("hub_crash: no commit within 20 s after restart %d" % k)
            time.sleep(rnd.uniform(0, 0.05))
            busy = any(s.in_flight for s in streams)
            cr.kill_hub()
            busy_kills += busy
            cr.start_hub()
        base = cr.commits
        end = time.monotonic() + 10
        while cr.commits < base + 20 and time.monotonic() < end:
            time.sleep(0.01)
        cr.kill_hub()  # the last kill too, so the check starts from a crashed store
    finally:
        cr.stop.set()
        for s in streams:
            if s.is_alive():
                s.join(10)
        if cr.proc is not None:
            cr.kill_hub()
    print("# %d SIGKILLs (%d with a request in flight), %d commits acknowledged, %d failed "
          "requests" % (int(kills) + 1, busy_kills, cr.commits, sum(s.errors for s in streams)))


def paged(c, tok, path, key, cursor):
    out = []
    sep = "&" if "?" in path else "?"
    url = path
    for _ in range(10000):
        st, js, raw = c.req("GET", url, tok)
        if st != 200:
            raise IOError("%s: %d %r" % (url, st, raw[:200]))
        out += js[key]
        if not js.get("next"):
            return out
        url = "%s%s%s=%s" % (path, sep, cursor, js["next"])
    raise IOError("%s: pagination does not end" % path)


def cmd_verify(port, ca, admin_file, state_file, fednsctl, out_dir):
    admin = open(admin_file).read().strip()
    st = json.load(open(state_file))
    c = Client(int(port), ca, timeout=30)
    acks = [json.loads(l) for l in open(state_file + ".acks")]
    commits = [a for a in acks if "committed" in a]
    proposals = [a for a in acks if "proposed" in a]
    check(len(commits) >= 50, "the stream acknowledged %d commits (at least 50)" % len(commits))

    changes = {}
    versions = {}
    for z in st["zones"]:
        stz, zj, raw = c.req("GET", API + "/zones/" + z, admin)
        if not check(stz == 200, "zone %s readable after the crashes (%d)" % (z, stz)):
            continue
        _, vj, _ = c.req("GET", API + "/zones/%s/versions" % z, admin)
        vs = vj["versions"]
        versions[z] = vs
        check(vs == list(range(1, zj["serial"] + 1)) and vj["current"] == zj["serial"],
              "%s: versions are 1..%d without a gap (got %d versions, first %s last %s)" %
              (z, zj["serial"], len(vs), vs[:1], vs[-1:]))
        cl = paged(c, admin, API + "/changes?zone=%s&limit=1000" % z, "changes", "before")
        for ch in cl:
            changes[ch["id"]] = ch
        com = [ch for ch in cl if ch["state"] == "committed"]
        serials = sorted(ch["serial"] for ch in com)
        check(serials == vs[1:],
              "%s: every version after 1 has exactly one committed change and vice versa "
              "(%d committed changes, %d versions)" % (z, len(com), len(vs)))
        bad = [ch["id"] for ch in cl if ch["state"] != "committed" and
               (ch["serial"] is not None or ch["digest"] is not None)]
        check(not bad, "%s: no uncommitted change carries a serial or digest %s" % (z, bad[:5]))
        bad = [ch["id"] for ch in com if ch["serial"] != ch["base_serial"] + 1 or
               not ch["digest"]]
        check(not bad, "%s: every committed change is base+1 with a digest %s" % (z, bad[:5]))
        check(zj["digest"] == (max(com, key=lambda ch: ch["serial"])["digest"] if com else
                               zj["digest"]), "%s: the zone's digest is its last commit's" % z)

    missing = []
    for a in commits:
        stc, cj, _ = c.req("GET", API + "/changes/%d" % a["committed"], admin)
        if (stc != 200 or cj["state"] != "committed" or cj["serial"] != a["serial"] or
                cj["digest"] != a["digest"] or cj["zone"] != a["zone"] or
                a["serial"] not in versions.get(a["zone"], ()) or
                not any(l.startswith("+%s.%s" % (a["name"], a["zone"])) for l in cj["diff"])):
            missing.append((a, stc, cj and {k: cj.get(k) for k in ("state", "serial")}))
    check(not missing, "every one of %d acknowledged commits is committed with its serial, "
          "digest and edit, and listed in versions %s" % (len(commits), missing[:3]))
    lost = [a["proposed"] for a in proposals if a["proposed"] not in changes]
    check(not lost, "every one of %d acknowledged proposals exists %s" % (len(proposals),
                                                                            lost[:5]))

    # digests of exported versions: the first, the last 10 and a sample of each zone
    rnd = random.Random(1)
    by_serial = {(ch["zone"], ch["serial"]): ch for ch in changes.values()
                 if ch["state"] == "committed"}
    bad = []
    n = 0
    for z, vs in versions.items():
        pick = set(vs[-10:]) | set(rnd.sample(vs[1:], min(10, len(vs) - 1)))
        for s in sorted(pick):
            ch = by_serial.get((z, s))
            if ch is None:
                continue
            stx, _, text = c.req("GET", API + "/zones/%s/export?serial=%d" % (z, s), admin)
            path = os.path.join(out_dir, "%s%d.zone" % (z, s))
            open(path, "wb").write(text)
            d = subprocess.run([fednsctl, "zone", "digest", "--tree", "--origin", z, path],
                               capture_output=True, text=True)
            soa = [l.split() for l in text.decode().splitlines() if "\tSOA\t" in l]
            n += 1
            if (stx != 200 or d.returncode != 0 or d.stdout.strip() != ch["digest"] or
                    len(soa) != 1 or soa[0][6] != str(s)):
                bad.append((z, s, stx, d.stdout.strip()[:16], ch["digest"][:16], d.stderr))
    check(n >= 20 and not bad, "%d exported versions hash (fednsctl zone digest --tree) to "
          "their commit's content digest and carry their serial in the SOA %s" % (n, bad[:3]))

    recs = paged(c, admin, API + "/audit?limit=1000", "records", "after")
    seqs = [r["seq"] for r in recs]
    check(seqs == list(range(1, len(recs) + 1)), "audit sequence 1..%d without a gap" % len(recs))
    commit_recs = {}
    for r in recs:
        if r["action"] == "change.commit" and r["outcome"] == "ok":
            cid = int(r["target"].split(":")[1])
            commit_recs[cid] = commit_recs.get(cid, 0) + 1
    committed_ids = {i for i, ch in changes.items() if ch["state"] == "committed"}
    check(set(commit_recs) == committed_ids and all(v == 1 for v in commit_recs.values()),
          "exactly one change.commit audit record per committed change (%d records, %d "
          "committed)" % (len(commit_recs), len(committed_ids)))
    print("hub_crash_check: %d failed" % failed)


def main():
    a = sys.argv[1:]
    if a[:1] == ["setup"] and len(a) == 6:
        cmd_setup(*a[1:])
    elif a[:1] == ["crash"] and len(a) > 7 and a[6] == "--":
        cmd_crash(a[1], a[2], a[3], a[4], a[5], a[7:])
    elif a[:1] == ["verify"] and len(a) == 7:
        cmd_verify(*a[1:])
    else:
        sys.exit(__doc__ if __doc__ else "usage: see the header of hub_crash.py")


if __name__ == "__main__":
    main()
