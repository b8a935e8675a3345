#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The hub's dashboard in real headless Chromium against a running hub.

Sets up tenants, people and zones through the REST API as the admin, then, as a viewer:
the matrix shows each (zone, cluster) cell's state, another tenant's zone never appears, a
committed change shows as pending and then in_sync on every cluster without a page reload,
a secondary going unreachable turns its cell red, filters narrow the matrix, the zone
drill-down shows the pending change with its diff and the per-secondary table, the viewer's
Approve is refused by the API and the refusal is shown, and an approver's Approve commits.
Then sign-in with a key: a principal whose P-256 public key is registered (made here with
the openssl CLI) picks the private key file (DOM.setFileInputFiles); the page signs every
request (RFC 9421) instead of sending a token, the matrix loads, its approval commits and
carries its signature over the diff (checked in the audit export, offline), an unregistered
key and a file that is not a private key are refused with a clear message, and nothing of
the key reaches storage, a request, the DOM or the hub's log; a reload forgets it.
Throughout: no request leaves the hub's origin, no CSP violation or script error, the token
lives only in sessionStorage. Screenshots of the matrix and the zone drill-down go to --out.

Status comes from one of two sources:
  --mode seed  (default) this script writes the spokes' acks and secondary reports into the
               hub's store (--store) the way the fan-out does, so the page can be tested
               before real spokes run;
  --mode live  real spokes report; --unreachable-cmd is a shell command that makes a
               secondary of --unreachable-cell ZONE/CLUSTER unreachable (e.g. stops it).
Prints "ok - ..." / "FAIL - ..." lines and ends with "test_dashboard: N passed, M failed".
"""

import argparse
import base64
import hashlib
import json
import os
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, CDPError  # noqa: E402

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + what, flush=True)
    else:
        failed += 1
        print("FAIL - " + what, flush=True)
    return cond


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Hub:
    def __init__(self, base, cafile):
        self.base = base.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=cafile) if cafile else None
        # redirects are answers to check, not to follow
        self.opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=self.ctx))

    def req(self, method, path, token=None, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            r.add_header("Authorization", "Bearer " + token)
        if data is not None:
            r.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(r, timeout=30) as res:
                raw = res.read()
                return res.status, dict(res.headers), json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, dict(e.headers), json.loads(raw)
            except ValueError:
                return e.code, dict(e.headers), raw

    def ok(self, method, path, token, body=None, want=(200, 201)):
        st, _, js = self.req(method, path, token, body)
        if st not in want:
            raise RuntimeError("%s %s: %s %s" % (method, path, st, js))
        return js


ZONE = """$TTL 300
{z} IN SOA ns1.example.net. hostmaster.{z} 1 3600 900 1209600 300
@ NS ns1.example.net.
@ NS ns2.example.net.
www A 192.0.2.10
"""


class Seeder:
    """Writes what the fan-out writes when spokes report (store schema 4)."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout=10000")

    def zone_id(self, zone):
        return self.db.execute("SELECT id FROM zones WHERE name = ?", (zone,)).fetchone()[0]

    def cluster(self, name, connected=True):
        now = int(time.time() * 1000)
        self.db.execute(
            "INSERT INTO clusters(name, connected, first_seen, last_seen, connected_since,"
            " software_version, peer, cert_not_after) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET connected = excluded.connected,"
            " last_seen = excluded.last_seen, connected_since = excluded.connected_since,"
            " software_version = excluded.software_version, peer = excluded.peer,"
            " cert_not_after = excluded.cert_not_after",
            (name, 1 if connected else 0, now, now, now if connected else 0,
             "fedns-spoke 0.1.0", "127.0.0.1:40000", int(time.time()) + 90 * 86400))

    def ack(self, cluster, zone, serial):
        now = int(time.time() * 1000)
        self.db.execute(
            "INSERT OR REPLACE INTO spoke_zones(cluster, zone_id, serial, digest, acked_at,"
            " change_id, committed_at, applied_ms, last_status, last_reason)"
            " VALUES(?, ?, ?, '', ?, 0, 0, 12, 'applied', '')",
            (cluster, self.zone_id(zone), serial, now))

    def secondary(self, cluster, zone, name, state, serial, error=""):
        now = int(time.time() * 1000)
        zid = self.zone_id(zone)
        old = self.db.execute(
            "SELECT state, state_since FROM secondaries WHERE cluster = ? AND zone_id = ?"
            " AND name = ?", (cluster, zid, name)).fetchone()
        since = old[1] if old and old[0] == state else now
        self.db.execute(
            "INSERT OR REPLACE INTO secondaries(cluster, zone_id, name, address, state,"
            " has_serial, serial, digest, last_proven, lag_ms, last_error, repairs, updated_at,"
            " state_since, confirmed_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cluster, zid, name, "127.0.0.%d:53" % (1 + hash(name) % 200), state,
             1 if serial is not None else 0, serial or 0, "ab" * 24 if serial else "",
             now if state == "in_sync" else 0, 0 if state == "in_sync" else 2500, error,
             1 if state == "diverged" else 0, now, since, 35 if state == "in_sync" else -1))


def cell_state(b, zone, cluster):
    return b.eval("(() => { const a = document.querySelector('td.cell a[data-zone=\"%s\"]"
                  "[data-cluster=\"%s\"]'); return a ? a.dataset.state + '@' + a.dataset.serial"
                  " : null; })()" % (zone, cluster))


def wait_cell(b, zone, cluster, state, serial=None, timeout=20):
    want = state + "@" + ("" if serial is None else str(serial))
    try:
        b.wait("(() => { const a = document.querySelector('td.cell a[data-zone=\"%s\"]"
               "[data-cluster=\"%s\"]'); return a && a.dataset.state === '%s'%s; })()" %
               (zone, cluster, state, "" if serial is None else
                " && a.dataset.serial === '%s'" % serial), timeout=timeout)
        return True
    except CDPError:
        print("  cell %s/%s is %r, wanted %s" % (zone, cluster, cell_state(b, zone, cluster), want))
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hub", required=True, help="https://127.0.0.1:PORT")
    ap.add_argument("--ca", help="CA file the hub's certificate chains to")
    ap.add_argument("--admin-token", required=True, help="file with the admin's token")
    ap.add_argument("--store", help="the hub's store (for --mode seed)")
    ap.add_argument("--mode", choices=("seed", "live"), default="seed")
    ap.add_argument("--clusters", default="east,west", help="two clusters the zones are placed on")
    ap.add_argument("--unreachable-cmd", help="live mode: makes a secondary unreachable")
    ap.add_argument("--unreachable-cell", help="live mode: ZONE/CLUSTER that turns red")
    ap.add_argument("--synced-state", default="in_sync",
                    help="live mode: the state of a confirmed cell (unknown when the spokes "
                         "have no secondaries)")
    ap.add_argument("--out", required=True, help="directory for screenshots (not committed)")
    ap.add_argument("--fednsctl", help="fednsctl, to verify the audit export offline")
    ap.add_argument("--hub-log", help="the hub's log, searched for the private key")
    a = ap.parse_args()
    if a.mode == "seed" and not a.store:
        ap.error("--mode seed needs --store")
    os.makedirs(a.out, exist_ok=True)
    east, west = a.clusters.split(",")
    hub = Hub(a.hub, a.ca)
    admin = open(a.admin_token).read().strip()
    API = "/api/v1"

    # --- people, tenants, zones (as the admin, through the API) ---
    for t in ("bank", "retail"):
        hub.ok("POST", API + "/tenants", admin, {"name": t}, want=(201, 409))
    tok = {}
    for p, t, role in (("alice", "bank", "editor"), ("bob", "bank", "approver"),
                       ("carol", "bank", "viewer"), ("rita", "retail", "admin")):
        st, _, js = hub.req("POST", API + "/principals", admin, {"name": p})
        if st != 201:
            raise RuntimeError("create principal %s: %s %s" % (p, st, js))
        tok[p] = js["token"]
        hub.ok("PUT", API + "/principals/%s/roles/%s" % (p, t), admin, {"role": role})
    zones = {"example.com.": ("bank", [east, west]), "other.example.": ("bank", [west]),
             "shop.example.": ("retail", [east])}
    for z, (t, placement) in zones.items():
        hub.ok("POST", API + "/zones", admin, {"name": z, "tenant": t,
                                                 "zone_file": ZONE.format(z=z),
                                                 "placement": placement})
    seed = Seeder(a.store) if a.mode == "seed" else None
    if seed:
        for c in (east, west):
            seed.cluster(c)
        for c in (east, west):
            seed.ack(c, "example.com.", 1)
            seed.secondary(c, "example.com.", "ns1", "in_sync", 1)
            seed.secondary(c, "example.com.", "ns2", "in_sync", 1)
        seed.ack(west, "other.example.", 1)
        seed.secondary(west, "other.example.", "ns1", "lagging", 0, "serial 0 behind 1")
        seed.ack(east, "shop.example.", 1)
        seed.secondary(east, "shop.example.", "ns1", "in_sync", 1)

    # the page's own headers: a strict CSP, no framing
    st, hdr, _ = hub.req("GET", "/dashboard/")
    csp = hdr.get("Content-Security-Policy", "")
    check(st == 200 and "script-src 'self'" in csp and "connect-src 'self'" in csp and
          "'unsafe-inline'" not in csp and hdr.get("X-Frame-Options") == "DENY",
          "the dashboard is served with a strict CSP (%s)" % csp)
    st, hdr, _ = hub.req("GET", "/")
    check(st == 302 and hdr.get("Location") == "/dashboard/", "/ redirects to /dashboard/")

    profile = tempfile.mkdtemp(prefix="fedns-chromium-")
    # The hub's certificate comes from the test's own throwaway CA; this profile is used
    # for nothing else, so it may accept it instead of trusting that CA system-wide.
    b = Browser(profile, extra_args=["--ignore-certificate-errors"])
    keydir = tempfile.mkdtemp(prefix="fedns-keys-")
    try:
        run(a, hub, b, tok, seed, east, west, API)
        run_key(a, hub, b, admin, tok, seed, east, API, keydir)
    except CDPError as e:
        check(False, "browser step failed: %s" % e)
        try:
            b.screenshot(os.path.join(a.out, "failure.png"))
            print("  screenshot of the failure: %s" % os.path.join(a.out, "failure.png"))
        except Exception:
            pass
    finally:
        b.close()
        subprocess.run(["rm", "-rf", profile, keydir])
    print("test_dashboard: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def sign_in(b, base, token):
    b.navigate(base + "/dashboard/")
    b.wait("document.body.dataset.view === 'login'", what="the sign-in form")
    b.eval("(() => { document.getElementById('token').value = %s; "
           "document.getElementById('login-form').requestSubmit(); return true; })()" %
           json.dumps(token))


def run(a, hub, b, tok, seed, east, west, API):
    base = hub.base
    synced = "in_sync" if seed else a.synced_state
    b.navigate(base + "/dashboard/")
    b.wait("document.body.dataset.view === 'login'", what="the sign-in form")
    check(True, "without a token the page asks to sign in")
    # a wrong token is refused and says so
    b.eval("(() => { document.getElementById('token').value = 'fedns_' + 'A'.repeat(43);"
           " document.getElementById('login-form').requestSubmit(); return true; })()")
    msg = b.wait("document.getElementById('login-error').textContent", what="a refusal")
    check("refused" in msg, "a wrong token is refused on the page (%r)" % msg)

    sign_in(b, base, tok["carol"])
    b.wait("document.body.dataset.view === 'matrix' && !!document.querySelector('td.cell a')",
           what="the matrix")
    who = b.eval("document.getElementById('whoami').textContent")
    check(who.startswith("carol") and "viewer@bank" in who, "signed in as the viewer (%r)" % who)
    check(wait_cell(b, "example.com.", east, synced, 1) and
          wait_cell(b, "example.com.", west, synced, 1),
          "example.com. is %s at serial 1 on both clusters" % synced)
    if seed:
        check(wait_cell(b, "other.example.", west, "lagging"),
              "other.example. shows its lagging secondary")
        check(b.eval("document.querySelector('tr[data-zone=\"other.example.\"] td.none') !== null"),
              "other.example. has an empty cell where it is not placed")
    check(not b.eval("document.body.textContent.includes('shop.example.')"),
          "another tenant's zone never appears for the viewer")
    check(b.eval("sessionStorage.getItem('fedns.token') !== null && localStorage.length === 0"
                 " && document.cookie === ''"),
          "the token lives in sessionStorage only (no localStorage, no cookie)")

    # --- a change flows: pending, then in_sync on every cluster, without reload ---
    b.eval("window.__sameDocument = 'yes'")
    polls0 = int(b.eval("document.body.dataset.polls || '0'"))
    plan = hub.ok("POST", API + "/zones/example.com./changes", tok["alice"],
                  {"base_serial": 1, "reason": "api endpoint", "ticket": "CHG-7",
                   "edits": [{"op": "add", "name": "api", "type": "A", "ttl": 300,
                              "rdata": ["192.0.2.7"]}]})
    cid = plan["change"]["id"]
    try:
        b.wait("(document.querySelector('tr[data-zone=\"example.com.\"]') || {dataset: {}})"
               ".dataset.awaiting === '1'", what="the awaiting-approval count")
        aw = b.eval("document.querySelector('tr[data-zone=\"example.com.\"] .awaiting').textContent")
        check(aw == "1 awaiting approval", "the proposal shows on the zone's row as awaiting approval")
    except CDPError as e:
        check(False, "the proposal shows on the zone's row as awaiting approval: %s" % e)
    r = hub.ok("POST", API + "/changes/%d/approve" % cid, tok["bob"], {"comment": "ok"})
    check(r["committed"] and r["change"]["serial"] == 2, "bob's approval commits serial 2")
    if seed:
        check(wait_cell(b, "example.com.", east, "pending") and
              wait_cell(b, "example.com.", west, "pending"),
              "after the commit both cells show pending (spokes not yet at serial 2)")
        b.screenshot(os.path.join(a.out, "matrix-pending.png"))
    else:
        # real spokes may confirm within one 2 s poll: pending is seen only if it lasts
        seen = [cell_state(b, "example.com.", c) or "" for c in (east, west)]
        print("  right after the commit: %s" % seen)
    b.wait("(document.querySelector('tr[data-zone=\"example.com.\"]') || {dataset: {}})"
           ".dataset.awaiting === '0'", what="the approved change no longer awaiting")
    check(True, "the approved change no longer counts as awaiting approval")
    if seed:
        seed.ack(east, "example.com.", 2)
        for s in ("ns1", "ns2"):
            seed.secondary(east, "example.com.", s, "in_sync", 2)
        check(wait_cell(b, "example.com.", east, "in_sync", 2) and
              cell_state(b, "example.com.", west).startswith("pending"),
              "east confirms serial 2 first: east in_sync, west still pending")
        seed.ack(west, "example.com.", 2)
        for s in ("ns1", "ns2"):
            seed.secondary(west, "example.com.", s, "in_sync", 2)
    check(wait_cell(b, "example.com.", east, synced, 2, timeout=60) and
          wait_cell(b, "example.com.", west, synced, 2, timeout=60),
          "then %s at serial 2 on every cluster" % synced)
    check(b.eval("window.__sameDocument") == "yes" and
          int(b.eval("document.body.dataset.polls")) > polls0 + 1,
          "the matrix changed by polling, without a page reload")

    # --- a secondary goes unreachable: its cell turns red ---
    if seed:
        seed.secondary(west, "example.com.", "ns2", "unreachable", 2,
                       "no answer from 127.0.0.9:53 (timed out)")
        zone_red, cluster_red = "example.com.", west
    else:
        zone_red, cluster_red = (a.unreachable_cell or "example.com./" + west).rsplit("/", 1)
        if a.unreachable_cmd:
            subprocess.run(a.unreachable_cmd, shell=True, check=True)
    if seed or a.unreachable_cmd:
        check(wait_cell(b, zone_red, cluster_red, "unreachable", timeout=90),
              "%s on %s turns unreachable" % (zone_red, cluster_red))
        color = b.eval("getComputedStyle(document.querySelector('td.cell a[data-zone=\"%s\"]"
                       "[data-cluster=\"%s\"]')).backgroundColor" % (zone_red, cluster_red))
        check(color == "rgb(200, 40, 30)", "the unreachable cell is red (%s)" % color)
    else:
        print("  live mode without --unreachable-cmd: the unreachable step is not run")
    b.pump(0.5)
    b.screenshot(os.path.join(a.out, "matrix.png"))

    # --- filters ---
    fstate, fzone = ("unreachable", zone_red) if (seed or a.unreachable_cmd) else (synced, None)
    b.eval("(() => { const s = document.getElementById('f-state'); s.value = '%s';"
           " s.dispatchEvent(new Event('change')); return true; })()" % fstate)
    b.wait("document.querySelectorAll('td.cell a').length > 0 && [...document.querySelectorAll("
           "'td.cell a')].every(a => a.dataset.state === '%s')" % fstate, what="state filter")
    rows = b.eval("[...document.querySelectorAll('table.matrix tbody tr')].map(r => r.dataset.zone)")
    check(fzone is None or rows == [fzone],
          "the state filter leaves only %s cells (%r)" % (fstate, rows))
    b.eval("(() => { const s = document.getElementById('f-state'); s.value = '';"
           " s.dispatchEvent(new Event('change')); const z = document.getElementById('f-zone');"
           " z.value = 'other'; z.dispatchEvent(new Event('input')); return true; })()")
    b.wait("(() => { const r = [...document.querySelectorAll('table.matrix tbody tr')];"
           " return r.length === 1 && r[0].dataset.zone === 'other.example.'; })()",
           what="zone filter")
    check(True, "the zone filter narrows the matrix to other.example.")
    b.eval("(() => { const z = document.getElementById('f-zone'); z.value = '';"
           " z.dispatchEvent(new Event('input')); return true; })()")

    # --- zone drill-down as the viewer: pending change, refused approval ---
    plan = hub.ok("POST", API + "/zones/example.com./changes", tok["alice"],
                  {"base_serial": 2, "reason": "mail host", "ticket": "CHG-8",
                   "edits": [{"op": "add", "name": "mail", "type": "A", "ttl": 300,
                              "rdata": ["192.0.2.25"]}]})
    cid2 = plan["change"]["id"]
    b.navigate(base + "/dashboard/#/zone/example.com.")
    b.wait("!!document.querySelector('.change[data-change-id=\"%d\"]')" % cid2,
           what="the pending change in the drill-down")
    diff = b.eval("document.querySelector('.change[data-change-id=\"%d\"] pre.diff').textContent" % cid2)
    check("+mail.example.com." in diff and "192.0.2.25" in diff,
          "the pending change shows its diff (%r)" % diff.strip())
    facts = b.eval("document.getElementById('zone-facts').textContent")
    check("Placement" + east + ", " + west in facts and "Approvals required1" in facts,
          "the drill-down shows the zone's placement and policy (%r)" % facts[:160])
    hist = b.wait("(() => { const r = document.querySelector('#zone-history tr[data-change-id=\"%d\"]');"
                  " return r && r.textContent; })()" % cid, what="the history row")
    check("alice" in hist and "approved by bob" in hist,
          "history names who proposed and who approved (%r)" % hist)
    sec = b.wait("(() => { const c = document.querySelector('#zone-status .card[data-cluster=\"%s\"]');"
                 " return c && c.textContent; })()" % west, what="the cluster's card")
    if seed:
        check("ns2" in sec and "no answer from 127.0.0.9:53" in sec,
              "the drill-down shows the unreachable secondary and its last error")
    b.eval("document.querySelector('.change[data-change-id=\"%d\"] button[data-action=\"approve\"]')"
           ".click()" % cid2)
    err = b.wait("(() => { const e = document.querySelector('.change[data-change-id=\"%d\"]"
                 " .change-error'); return e && !e.textContent.endsWith('…') && e.textContent; })()"
                 % cid2, what="the refusal")
    check("403" in err and "forbidden" in err, "the viewer's approve is refused and shown (%r)" % err)
    st, _, js = hub.req("GET", API + "/changes/%d" % cid2, tok["bob"])
    check(st == 200 and js["state"] == "proposed" and js["approvals"] == 0,
          "the refused approval decided nothing")
    b.pump(2.5)  # a poll in between must keep the message
    check(b.eval("(document.querySelector('.change[data-change-id=\"%d\"] .change-error') || {})"
                 ".textContent || ''" % cid2) == err, "the refusal stays visible across polls")
    b.screenshot(os.path.join(a.out, "zone.png"))

    # --- cluster drill-down ---
    b.navigate(base + "/dashboard/#/cluster/" + west)
    facts = b.wait("document.body.dataset.view === 'cluster' && "
                   "document.getElementById('cluster-facts').textContent", what="cluster facts")
    if seed:
        check("Certificate expires" in facts and "in 8" in facts,
              "the cluster view shows the certificate expiry (%r)" % facts[:200])
    zl = b.wait("[...document.querySelectorAll('#cluster-zones tr[data-zone]')].map(r => r.dataset.zone)"
                ".join(' ')", what="cluster zones")
    check("example.com." in zl and "other.example." in zl, "the cluster view lists its zones (%r)" % zl)
    b.screenshot(os.path.join(a.out, "cluster.png"))

    # --- an approver approves from the page ---
    b.eval("document.getElementById('logout').click()")
    b.wait("document.body.dataset.view === 'login'", what="signed out")
    check(b.eval("sessionStorage.getItem('fedns.token') === null"), "signing out forgets the token")
    sign_in(b, base, tok["bob"])
    b.navigate(base + "/dashboard/#/zone/example.com.")
    b.wait("!!document.querySelector('.change[data-change-id=\"%d\"] button[data-action=\"approve\"]')"
           % cid2, what="the change for bob")
    b.eval("document.querySelector('.change[data-change-id=\"%d\"] button[data-action=\"approve\"]')"
           ".click()" % cid2)
    b.wait("(() => { const r = document.querySelector('#zone-history tr[data-change-id=\"%d\"]');"
           " return r !== null; })()" % cid2, what="the approved change in the history")
    st, _, js = hub.req("GET", API + "/changes/%d" % cid2, tok["bob"])
    check(st == 200 and js["state"] == "committed", "the approver's click committed the change")


def page_overall(b, base, a):
    """What the page did over the whole run."""
    b.pump(0.5)
    foreign = [u for u in b.requests if not (u.startswith(base + "/") or u.startswith("data:")
                                             or u == "about:blank")]
    check(not foreign, "no request left the hub's origin (%d requests; foreign: %r)" %
          (len(b.requests), foreign[:3]))
    csp = [t for lvl, t in b.console if "Content Security Policy" in t or "Refused to" in t]
    check(not csp, "no CSP violation (%r)" % csp[:2])
    check(not b.exceptions, "no script error (%r)" % b.exceptions[:2])
    print("screenshots: %s" % " ".join(sorted(f for f in os.listdir(a.out) if f.endswith(".png"))))


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def pem_body(path):
    """The base64 lines of a PEM file (what would betray the key if it leaked)."""
    return [l.strip() for l in open(path) if l.strip() and not l.startswith("-----")]


def key_sign_in(b, base, path, wait_for, before=None):
    b.navigate(base + "/dashboard/")
    b.wait("document.body.dataset.view === 'login'", what="the sign-in form")
    if before:
        b.eval(before)
    b.set_files("#key-file", [path])
    b.eval("document.getElementById('key-form').requestSubmit(), true")
    return b.wait(wait_for, what="the answer to the key sign-in")


STORAGE_EMPTY = """(async () => sessionStorage.length === 0 && localStorage.length === 0 &&
  document.cookie === '' && (await indexedDB.databases()).length === 0 &&
  (await caches.keys()).length === 0 && document.getElementById('key-file').files.length === 0)()"""


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def verify_approval_signature(spki_b64, sig_b64, text, workdir):
    """ECDSA P-256 r||s over text, checked by the openssl CLI (independent of fedns)."""
    raw = base64.b64decode(sig_b64)
    if len(raw) != 64:
        return False
    seq = der_int(raw[:32]) + der_int(raw[32:])
    paths = {n: os.path.join(workdir, n) for n in ("pub.der", "sig.der", "text")}
    with open(paths["pub.der"], "wb") as f:
        f.write(base64.b64decode(spki_b64))
    with open(paths["sig.der"], "wb") as f:
        f.write(b"\x30" + bytes([len(seq)]) + seq)
    with open(paths["text"], "w") as f:
        f.write(text)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify",
                        paths["pub.der"], "-signature", paths["sig.der"], paths["text"]],
                       capture_output=True, text=True)
    return r.returncode == 0 and "Verified OK" in r.stdout


def run_key(a, hub, b, admin, tok, seed, east, API, keydir):
    """Sign-in with a P-256 key: requests signed in the page, approvals signed too."""
    base = hub.base
    dave = os.path.join(keydir, "dave.pem")  # PKCS#8, as openssl genpkey writes it
    dave_sec1 = os.path.join(keydir, "dave-ec.pem")  # the same key as "EC PRIVATE KEY"
    dave_pub = os.path.join(keydir, "dave.pub.pem")
    stranger = os.path.join(keydir, "stranger.pem")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", dave)
    openssl("ec", "-in", dave, "-out", dave_sec1)
    openssl("pkey", "-in", dave, "-pubout", "-out", dave_pub)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", stranger)
    p384 = os.path.join(keydir, "p384.pem")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p384)
    secrets = pem_body(dave) + pem_body(dave_sec1)
    st, _, js = hub.req("POST", API + "/principals", admin, {"name": "dave"})
    if st != 201:
        raise RuntimeError("create principal dave: %s %s" % (st, js))
    hub.ok("PUT", API + "/principals/dave/roles/bank", admin, {"role": "approver"})
    keyid = hub.ok("POST", API + "/principals/dave/keys", admin,
                   {"public_key_pem": open(dave_pub).read()})["key_id"]
    b.eval("document.getElementById('logout').hidden || document.getElementById('logout').click()")
    nreq0 = len(b.request_log)

    # an unregistered key is refused, saying why and which key
    msg = key_sign_in(b, base, stranger, "(() => { const t = document.getElementById('login-error')"
                      ".textContent; return !t.endsWith('…') && t; })()")
    check("does not know this key" in msg and "key-add" in msg and
          b.eval("document.body.dataset.view") == "login",
          "an unregistered key is refused with a clear message (%r)" % msg)
    b.screenshot(os.path.join(a.out, "login-key-refused.png"))
    # a public key is not a private key
    msg = key_sign_in(b, base, dave_pub, "(() => { const t = document.getElementById('login-error')"
                      ".textContent; return !t.endsWith('…') && t; })()")
    check("public key" in msg and "not the private key" in msg,
          "a public key file is refused as such (%r)" % msg)
    msg = key_sign_in(b, base, p384, "(() => { const t = document.getElementById('login-error')"
                      ".textContent; return !t.endsWith('…') && t; })()")
    check("not an ECDSA P-256 private key" in msg and b.eval("document.body.dataset.view") == "login",
          "a P-384 key is refused: not P-256 (%r)" % msg)

    # the same key as RFC 5915 "EC PRIVATE KEY" (what fednsctl's key tools write) works too,
    # and from a computer whose clock is an hour fast (the page adopts the hub's time)
    n0 = len(b.request_log)
    who = key_sign_in(b, base, dave_sec1, "document.body.dataset.view === 'matrix' && "
                      "!!document.querySelector('td.cell a') && "
                      "document.getElementById('whoami').textContent",
                      before="(() => { const real = Date.now; Date.now = () => real() + 3600e3;"
                             " return true; })()")
    check(who.startswith("dave"), "an EC PRIVATE KEY file signs in as well (%r)" % who)
    created = [int(r["headers"].get("Signature-Input", "").split(";created=")[1].split(";")[0])
               for r in b.request_log[n0:] if "Signature-Input" in r["headers"]]
    check(len(created) >= 3 and created[0] > time.time() + 3000 and
          all(abs(c - time.time()) < 60 for c in created[1:]),
          "with the clock an hour fast, the first request is refused and the rest carry the "
          "hub's time (created - now: %r)" % [int(c - time.time()) for c in created[:4]])
    b.eval("document.getElementById('logout').click()")
    b.wait("document.body.dataset.view === 'login'", what="signed out")

    who = key_sign_in(b, base, dave, "document.body.dataset.view === 'matrix' && "
                      "!!document.querySelector('td.cell a') && "
                      "document.getElementById('whoami').textContent")
    check(who.startswith("dave") and "approver@bank" in who,
          "signed in with the PKCS#8 key file as dave, the matrix loads (%r)" % who)
    check(b.eval("document.getElementById('whoami').title") == "requests signed with key " + keyid,
          "the page computed the key id the hub registered (%s)" % keyid)
    row = hub.ok("GET", API + "/status?zone=example.com.&cluster=" + east, admin)["items"][0]
    want = row["spoke"]["serial"] if row["spoke"] else None
    check(wait_cell(b, "example.com.", east, row["state"], want),
          "the key holder's matrix shows example.com. on %s as the API does (%s@%s)" %
          (east, row["state"], want))
    # "@path" as hub/httpsig.c rebuilds it: decoded, then only non-pchar bytes escaped
    paths = {"/api/v1/zones/example.com.": "/api/v1/zones/example.com.", "": "/",
             "/a%20b": "/a%20b", "/a%7e%7E": "/a~~", "/%c3%a9": "/%C3%A9", "/a%2Fb": "/a/b",
             "/x'y(z)*!$&+,;=:@-._~": "/x'y(z)*!$&+,;=:@-._~", "/a%5B%5d": "/a%5B%5D",
             "/\u00e9": "/%C3%A9"}
    got = b.eval("(() => { const p = %s; const o = {}; for (const k of Object.keys(p))"
                 " o[k] = FednsHttpSig.canonicalPath(k); return o; })()" % json.dumps(paths))
    check(got == paths, "the page's @path is the hub's canonical form (%r)" %
          {k: v for k, v in (got or {}).items() if paths.get(k) != v})
    check(b.eval(STORAGE_EMPTY),
          "nothing is stored: no sessionStorage, localStorage, cookie, IndexedDB or cache; "
          "the file input is emptied")
    html = b.eval("document.documentElement.innerHTML")
    check(not any(l[:24] in html for l in secrets), "the key's text is nowhere in the DOM")

    # --- the key holder approves from the page: committed, and signed ---
    zone = hub.ok("GET", API + "/zones/example.com.", admin)
    plan = hub.ok("POST", API + "/zones/example.com./changes", tok["alice"],
                  {"base_serial": zone["serial"], "reason": "ftp host", "ticket": "CHG-9",
                   "edits": [{"op": "add", "name": "ftp", "type": "A", "ttl": 300,
                              "rdata": ["192.0.2.21"]}]})
    cid = plan["change"]["id"]
    # what dave signs: the diff as the change is proposed (a commit adds the SOA lines)
    proposed = hub.ok("GET", API + "/changes/%d" % cid, admin)
    diff_sha = hashlib.sha256("".join(l + "\n" for l in proposed["diff"]).encode()).hexdigest()
    b.eval("window.__keyDocument = 'yes'; location.hash = '#/zone/example.com.'; true")
    btn = b.wait("(() => { const x = document.querySelector('.change[data-change-id=\"%d\"]"
                 " button[data-action=\"approve\"]'); return x && x.textContent; })()" % cid,
                 what="the change for dave")
    check(btn == "Approve and sign", "the key holder's button says the approval is signed (%r)" % btn)
    b.eval("document.querySelector('.change[data-change-id=\"%d\"] button[data-action=\"approve\"]')"
           ".click()" % cid)
    b.wait("(() => { const r = document.querySelector('#zone-history tr[data-change-id=\"%d\"]');"
           " return r !== null; })()" % cid, what="dave's approved change in the history", timeout=30)
    change = hub.ok("GET", API + "/changes/%d" % cid, admin)
    check(change["state"] == "committed" and
          [d["principal"] for d in change["decisions"]] == ["dave"],
          "dave's click committed change %d" % cid)
    check(b.eval("window.__keyDocument") == "yes", "the key survived in-page navigation")
    export = hub.ok("GET", API + "/audit/export", admin)
    ap = [x for x in export["approvals"] if x["change"] == cid]
    text = "fedns-approve-v1\n%d\n%s\n" % (cid, diff_sha)
    check(len(ap) == 1 and ap[0]["approver"] == "dave" and ap[0]["key_id"] == keyid and
          ap[0]["diff_sha256"] == diff_sha and
          ap[0]["signed_sha256"] == hashlib.sha256(text.encode()).hexdigest(),
          "the audit export holds dave's signed approval over the change's diff (%r)" % ap)
    check(len(ap) == 1 and ap[0]["signature"] and
          verify_approval_signature(export["keys"][keyid], ap[0]["signature"], text, keydir) and
          not verify_approval_signature(export["keys"][keyid], ap[0]["signature"],
                                        text.replace("fedns-approve-v1", "fedns-approve-v2"),
                                        keydir),
          "the approval signature verifies offline against the registered key")
    if a.fednsctl:
        path = os.path.join(keydir, "export.json")
        with open(path, "w") as f:
            json.dump(export, f)
        r = subprocess.run([a.fednsctl, "audit", "verify", path], capture_output=True, text=True)
        check(r.returncode == 0, "fednsctl audit verify accepts the export with the signed "
              "approval (%s)" % (r.stdout + r.stderr).strip()[-200:])
    b.screenshot(os.path.join(a.out, "zone-key.png"))

    # --- what the page sent while signed in with the key ---
    b.pump(0.5)
    api_reqs = [r for r in b.request_log[nreq0:] if "/api/v1/" in r["url"]]
    signed = [r for r in api_reqs if 'keyid="%s"' % keyid in
              {k.lower(): v for k, v in r["headers"].items()}.get("signature-input", "")]
    bad = [r["url"] for r in signed if any(k.lower() == "authorization" for k in r["headers"])
           or not any(k.lower() == "content-digest" for k in r["headers"])]
    check(len(signed) > 5 and not bad,
          "dave's requests are signed (%d of %d API requests: Signature-Input, Content-Digest, "
          "no Authorization; bad %r)" % (len(signed), len(api_reqs), bad[:2]))
    posts = [r for r in signed if r["method"] == "POST"]
    check(posts and all('"change_signature"' in (r["postData"] or "") for r in posts),
          "the approval's body carried change_signature")
    leaked = [r["url"] for r in b.request_log for l in secrets
              if l[:24] in json.dumps(r)]
    check(not leaked, "no request carried any part of the private key (%r)" % leaked[:2])
    if a.hub_log:
        log = open(a.hub_log, errors="replace").read()
        check(not any(l[:24] in log for l in secrets) and "PRIVATE KEY" not in log,
              "the hub's log holds nothing of the private key")

    # --- a reload forgets the key: it was only in the page's memory ---
    b.call("Page.reload")
    b.wait("document.body.dataset.view === 'login'", what="the sign-in form after a reload")
    check(b.eval(STORAGE_EMPTY), "after a reload the page asks for the key again, nothing stored")
    page_overall(b, base, a)


if __name__ == "__main__":
    sys.exit(main())
