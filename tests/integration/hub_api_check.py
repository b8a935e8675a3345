#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Drives a running fedns-hub through raw HTTPS (no client library of ours) and checks the
# API contract of docs/hub.md: the propose -> plan -> approve -> commit path, the SOX
# control tests (self-approval, unauthorised and cross-tenant access, invalid records,
# rollback, audit chain) and bad input. Prints "ok - ..." / "FAIL - ..." lines.
#
# usage: hub_api_check.py PORT CA_FILE ADMIN_TOKEN_FILE OUT_DIR
# writes OUT_DIR/tokens.txt (every token issued, for the caller's log check),
# OUT_DIR/audit.json (an export) and OUT_DIR/audit-tampered.json + audit-tampered.seq.
import hashlib
import http.client
import json
import os
import ssl
import sys

port = int(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
admin = open(sys.argv[3]).read().strip()
out_dir = sys.argv[4]
failed = 0


def check(cond, what):
    global failed
    if cond:
        print("ok - " + what)
    else:
        failed += 1
        print("FAIL - " + what)
    sys.stdout.flush()
    return cond


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def err(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"]
        return {}

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300].decode("utf-8", "replace").rstrip())


def req(method, path, token=None, body=None, ctype="application/json", headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        if ctype is not None:
            h["Content-Type"] = ctype
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    res = Resp(r.status, dict(r.getheaders()), r.read())
    conn.close()
    return res


def expect(res, status, what, code=None, field=None):
    ok = res.status == status
    if ok and code is not None:
        ok = res.err().get("code") == code
    if ok and field is not None:
        ok = res.err().get("details", {}).get("field") == field
    if not ok:
        what += " (got %r)" % (res,)
    return check(ok, what)


API = "/api/v1"
Z = API + "/zones/example.com"

# --- health and authentication ---
expect(req("GET", "/healthz"), 200, "/healthz answers 200")
r = req("GET", "/readyz")
check(r.status == 200 and r.json == {"status": "ready"}, "/readyz answers 200 ready")
r = req("GET", API + "/whoami")
expect(r, 401, "no credentials: 401", "unauthorized")
check("WWW-Authenticate" in r.headers, "401 carries WWW-Authenticate")
expect(req("GET", API + "/whoami", "fedns_" + "A" * 43), 401, "unknown token: 401")
r = req("GET", API + "/whoami", admin)
check(r.status == 200 and r.json["principal"]["name"] == "admin" and
      {"tenant": "*", "role": "admin"} in r.json["roles"], "whoami names the bootstrap admin")

# --- tenants, principals, roles ---
for t in ("bank", "retail"):
    expect(req("POST", API + "/tenants", admin, {"name": t}), 201, "create tenant " + t)
expect(req("POST", API + "/tenants", admin, {"name": "bank"}), 409, "duplicate tenant: 409",
       "exists")
r = req("GET", API + "/tenants", admin)
check(r.status == 200 and [t["name"] for t in r.json["tenants"]] == ["bank", "retail"],
      "tenant list")
tokens = {"admin": admin}
for p in ("alice", "bob", "carol", "mallory"):
    r = req("POST", API + "/principals", admin, {"name": p})
    if expect(r, 201, "create principal " + p):
        tokens[p] = r.json["token"]
check(all(t.startswith("fedns_") and len(t) == 49 for t in tokens.values()),
      "tokens have the documented shape")
for p, t, role in (("alice", "bank", "editor"), ("bob", "bank", "approver"),
                   ("carol", "bank", "viewer"), ("mallory", "retail", "editor")):
    r = req("PUT", API + "/principals/%s/roles/%s" % (p, t), admin, {"role": role})
    expect(r, 200, "grant %s %s on %s" % (p, role, t))
r = req("GET", API + "/whoami", tokens["alice"])
check(r.status == 200 and r.json["roles"] == [{"tenant": "bank", "role": "editor"}],
      "alice's whoami shows editor on bank only")
expect(req("POST", API + "/tenants", tokens["alice"], {"name": "evil"}), 403,
       "an editor cannot create tenants", "forbidden")
expect(req("PUT", API + "/principals/alice/roles/bank", tokens["alice"], {"role": "admin"}),
       403, "alice cannot raise her own role")
expect(req("PUT", API + "/principals/alice/roles/bank", admin, {"role": "god"}), 400,
       "unknown role name: 400", "invalid_field", "role")

# --- zone ---
ZONE = """$TTL 300
example.com. IN SOA ns1.example.net. hostmaster.example.com. 1 3600 900 1209600 300
@ NS ns1.example.net.
@ NS ns2.example.net.
www A 192.0.2.10
mail A 192.0.2.20
@ MX 10 mail
alias CNAME www
"""
for i in range(20):
    ZONE += "h%d A 198.51.100.%d\n" % (i, i + 1)
r = req("POST", API + "/zones", tokens["alice"],
        {"name": "example.com", "tenant": "bank", "zone_file": ZONE})
expect(r, 403, "an editor cannot create zones")
r = req("POST", API + "/zones", admin,
        {"name": "example.com", "tenant": "bank", "zone_file": ZONE, "placement": ["eu-1"]})
expect(r, 201, "admin creates example.com in bank")
check(r.json is not None and r.json.get("serial") == 1 and r.json.get("name") == "example.com."
      and r.json.get("placement") == ["eu-1"], "the new zone is at serial 1 with its placement")
expect(req("POST", API + "/zones", admin,
           {"name": "example.com.", "tenant": "bank", "zone_file": ZONE}), 409,
       "example.com. is the same zone as example.com: 409", "exists")
r = req("GET", API + "/zones/example.com.", tokens["carol"])
check(r.status == 200 and r.json["serial"] == 1, "the zone reads the same with a trailing dot")
r = req("GET", Z + "/records", tokens["carol"])
check(r.status == 200 and {"name": "www.example.com.", "type": "A", "ttl": 300,
                           "rdata": ["192.0.2.10"]} in r.json["rrsets"], "records as RRsets")
r = req("GET", API + "/zones", tokens["carol"])
check(r.status == 200 and [z["name"] for z in r.json["zones"]] == ["example.com."],
      "carol lists bank's zone")
r = req("GET", API + "/zones", tokens["mallory"])
check(r.status == 200 and r.json["zones"] == [], "mallory lists no zone of bank")
v1 = req("GET", Z + "/export", tokens["carol"])
check(v1.status == 200 and v1.headers.get("Content-Type", "").startswith("text/dns"),
      "export is text/dns")

# --- propose -> plan -> approve -> commit ---
edit = {"base_serial": 1, "reason": "new api endpoint", "ticket": "CHG-1",
        "edits": [{"op": "add", "name": "api", "type": "A", "ttl": 300,
                   "rdata": ["192.0.2.1"]}]}
r = req("POST", Z + "/changes", tokens["alice"], edit)
expect(r, 201, "alice proposes an A record")
plan = r.json or {}
cid = plan.get("change", {}).get("id")
diff = plan.get("change", {}).get("diff", [])
check(plan.get("plan", {}).get("next_serial") == 2, "the plan shows the next serial 2")
check(any(l.startswith("+api.example.com.") and "192.0.2.1" in l for l in diff) and
      not any(l.startswith("-") for l in diff), "the plan's diff adds exactly api A 192.0.2.1 (%r)"
      % diff)
check(plan.get("change", {}).get("state") == "proposed", "the change is proposed")
r = req("POST", API + "/changes/%s/approve" % cid, tokens["alice"], {"comment": "lgtm"})
expect(r, 403, "alice cannot approve her own change", "forbidden")
expect(req("POST", API + "/changes/%s/approve" % cid, tokens["carol"], {}), 403,
       "a viewer cannot approve")
expect(req("POST", API + "/changes/%s/approve" % cid, tokens["mallory"], {}), 403,
       "another tenant's editor cannot approve")
r = req("POST", API + "/changes/%s/approve" % cid, tokens["bob"], {"comment": "ok"})
expect(r, 200, "bob approves")
check(r.json is not None and r.json.get("committed") is True and
      r.json["change"]["state"] == "committed" and r.json["change"]["serial"] == 2,
      "bob's approval commits serial 2")
expect(req("POST", API + "/changes/%s/approve" % cid, tokens["bob"], {}), 409,
       "approving a committed change: 409")
v2 = req("GET", Z + "/export", tokens["carol"])
text2 = v2.body.decode()
check(v2.status == 200 and any(l.split()[0] == "api.example.com." and l.split()[-1] ==
                               "192.0.2.1" for l in text2.splitlines() if l.strip()),
      "export shows the new record")
soa = [l for l in text2.splitlines() if "\tSOA\t" in l or " SOA " in l]
check(len(soa) == 1 and soa[0].split()[-5] == "2", "export shows SOA serial 2 (%r)" % soa)
r = req("GET", Z, tokens["carol"])
check(r.status == 200 and r.json["serial"] == 2, "the zone is at serial 2")
r = req("GET", API + "/changes/%s" % cid, tokens["carol"])
check(r.status == 200 and [d["principal"] for d in r.json["decisions"]] == ["bob"],
      "the change shows bob's approval")
r = req("GET", Z + "/diff?from=1&to=2", tokens["carol"])
check(r.status == 200 and any("api.example.com." in l for l in r.json["added"]),
      "diff 1..2 holds the added record")

# --- access control ---
expect(req("POST", Z + "/changes", tokens["carol"], dict(edit, base_serial=2)), 403,
       "carol (viewer) cannot propose", "forbidden")
expect(req("GET", Z, tokens["mallory"]), 403, "mallory cannot read bank's zone (403, not 404)",
       "forbidden")
expect(req("GET", Z + "/export", tokens["mallory"]), 403, "mallory cannot export bank's zone")
expect(req("POST", Z + "/changes", tokens["mallory"], dict(edit, base_serial=2)), 403,
       "mallory cannot write bank's zone")
expect(req("GET", API + "/changes/%s" % cid, tokens["mallory"]), 403,
       "mallory cannot read bank's change")
expect(req("GET", API + "/zones/nowhere.example", tokens["mallory"]), 404,
       "a zone that does not exist: 404")
r = req("GET", API + "/changes", tokens["mallory"])
check(r.status == 200 and r.json["changes"] == [], "mallory's change list is empty")
expect(req("GET", API + "/audit", tokens["bob"]), 403, "an approver cannot read the audit log")

# --- validation ---
bad = {"base_serial": 2, "reason": "typo",
       "edits": [{"op": "add", "name": "x", "type": "A", "rdata": ["1.2.3"]}]}
r = req("POST", Z + "/changes", tokens["alice"], bad)
expect(r, 400, "invalid A rdata: 400 naming the field", "invalid_rdata", "edits[0].rdata[0]")
check("1.2.3" in r.err().get("message", ""), "the message quotes the bad value (%r)" % r.err())
bad["edits"][0] = {"op": "add", "name": "bad..name", "type": "A", "rdata": ["192.0.2.9"]}
r = req("POST", Z + "/changes", tokens["alice"], bad)
check(r.status == 400 and r.err().get("details", {}).get("field") == "edits[0].name",
      "invalid owner name: 400 naming edits[0].name (%r)" % r)
bad["edits"][0] = {"op": "add", "name": "x", "type": "NOPE", "rdata": ["192.0.2.9"]}
r = req("POST", Z + "/changes", tokens["alice"], bad)
check(r.status == 400 and r.err().get("details", {}).get("field") == "edits[0].type",
      "unknown type: 400 naming edits[0].type (%r)" % r)
cname = {"base_serial": 2, "reason": "conflict",
         "edits": [{"op": "add", "name": "alias", "type": "A", "rdata": ["192.0.2.5"]}]}
r = req("POST", Z + "/changes", tokens["alice"], cname)
expect(r, 422, "data beside a CNAME: 422", "zone_rule")
apex = {"base_serial": 2, "reason": "ns move",
        "edits": [{"op": "replace", "name": "@", "type": "NS", "rdata": ["ns9.example.net."]}]}
r = req("POST", Z + "/changes", tokens["alice"], apex)
expect(r, 422, "apex NS change without allow_apex_ns: 422", "needs_flag")
r = req("POST", Z + "/changes", tokens["alice"], b'{"base_serial": 2,\n "reason": "x",}')
expect(r, 400, "malformed JSON: 400", "invalid_json")
check("line 2" in r.err().get("message", ""), "malformed JSON names the line (%r)" % r.err())
expect(req("POST", Z + "/changes", tokens["alice"], edit, ctype="text/plain"), 415,
       "text/plain body: 415", "unsupported_media_type")
expect(req("POST", Z + "/changes", tokens["alice"], edit, ctype=None), 415,
       "no Content-Type: 415")
big = b'{"name": "' + b"a" * (1100 * 1024) + b'"}'
r = req("POST", API + "/tenants", admin, big)
check(r.status == 413, "a 1.1 MiB body to a JSON route: 413 (%r)" % r)
expect(req("POST", API + "/tenants", admin, {"name": "x", "nmae": "y"}), 400,
       "unknown top-level field: 400", "unknown_field", "nmae")
unk = {"base_serial": 2, "reason": "x",
       "edits": [{"op": "add", "name": "x", "type": "A", "rdta": ["192.0.2.9"]}]}
expect(req("POST", Z + "/changes", tokens["alice"], unk), 400, "unknown field in an edit",
       "unknown_field", "edits[0].rdta")
expect(req("POST", Z + "/changes", tokens["alice"], {"reason": "x", "edits": []}), 400,
       "missing base_serial: 400", "missing_field", "base_serial")
expect(req("POST", Z + "/changes", tokens["alice"],
           {"base_serial": "2", "reason": "x", "edits": []}), 400,
       "base_serial as a string: 400", "invalid_field", "base_serial")
for path in ("/api/v1/zones/..%2f..%2fetc", "/api/v1/zones/%2e%2e", "/api/v1/zones/a..b",
             "/api/v1/zones/%2e%2e/export", "/api/v1/zones/ex%00ample.com"):
    r = req("GET", path, tokens["carol"])
    check(r.status == 400, "path traversal %s: 400 (%r)" % (path, r))
expect(req("DELETE", API + "/tenants", admin), 405, "DELETE on /tenants: 405",
       "method_not_allowed")
expect(req("GET", API + "/nothing", admin), 404, "unknown route: 404")
expect(req("GET", API + "/changes?limit=0", tokens["carol"]), 400, "limit=0: 400",
       "invalid_query")
r = req("GET", Z, tokens["carol"])
check(r.status == 200 and r.json["serial"] == 2, "nothing changed after the bad requests")

# --- idempotency ---
idem = {"base_serial": 2, "reason": "idem",
        "edits": [{"op": "add", "name": "idem", "type": "TXT", "rdata": ['"once"']}]}
r1 = req("POST", Z + "/changes", tokens["alice"], idem, headers={"Idempotency-Key": "k-1"})
r2 = req("POST", Z + "/changes", tokens["alice"], idem, headers={"Idempotency-Key": "k-1"})
check(r1.status == 201 and r2.status == 201 and r1.json["change"]["id"] ==
      r2.json["change"]["id"], "a replayed POST returns the same change id")
r3 = req("POST", Z + "/changes", tokens["alice"], dict(idem, reason="other"),
         headers={"Idempotency-Key": "k-1"})
expect(r3, 409, "the same key with another body: 409", "idempotency_conflict")
r = req("GET", API + "/changes?zone=example.com&state=proposed", tokens["carol"])
check(r.status == 200 and [c["id"] for c in r.json["changes"]] == [r1.json["change"]["id"]],
      "exactly one change was created")
expect(req("POST", API + "/changes/%d/withdraw" % r1.json["change"]["id"], tokens["bob"]), 403,
       "only the author withdraws")
r = req("POST", API + "/changes/%d/withdraw" % r1.json["change"]["id"], tokens["alice"])
check(r.status == 200 and r.json["state"] == "withdrawn", "alice withdraws it")

# --- stale proposals ---
p1 = dict(edit, base_serial=2, edits=[{"op": "add", "name": "s1", "type": "A",
                                       "rdata": ["192.0.2.31"]}])
p2 = dict(edit, base_serial=2, edits=[{"op": "add", "name": "s2", "type": "A",
                                       "rdata": ["192.0.2.32"]}])
a1 = req("POST", Z + "/changes", tokens["alice"], p1)
a2 = req("POST", Z + "/changes", tokens["alice"], p2)
check(a1.status == 201 and a2.status == 201, "two proposals on serial 2")
r = req("POST", API + "/changes/%d/approve" % a1.json["change"]["id"], tokens["bob"], {})
check(r.status == 200 and r.json["change"]["serial"] == 3, "the first commits serial 3")
r = req("POST", API + "/changes/%d/approve" % a2.json["change"]["id"], tokens["bob"], {})
expect(r, 409, "approving the second (based on serial 2) is refused: 409", "stale")
r = req("GET", API + "/changes/%d" % a2.json["change"]["id"], tokens["carol"])
check(r.status == 200 and r.json["state"] == "stale", "the second change is stale")
expect(req("POST", Z + "/changes", tokens["alice"], dict(p2, base_serial=2)), 409,
       "a proposal on an old serial: 409", "stale")

# --- rollback ---
def content(text):
    return sorted(l for l in text.splitlines() if l.strip() and "\tSOA\t" not in l
                  and " SOA " not in l)


r = req("POST", Z + "/rollback", tokens["alice"], {"to_serial": 2, "reason": "undo s1"})
expect(r, 201, "alice proposes a rollback to serial 2")
rb = (r.json or {}).get("change", {})
check(any(l.startswith("-s1.example.com.") for l in rb.get("diff", [])),
      "the rollback's plan deletes s1")
r = req("POST", API + "/changes/%s/approve" % rb.get("id"), tokens["bob"], {})
check(r.status == 200 and r.json["committed"] and r.json["change"]["serial"] == 4,
      "bob's approval commits the rollback as serial 4")
v4 = req("GET", Z + "/export", tokens["carol"]).body.decode()
v2b = req("GET", Z + "/export?serial=2", tokens["carol"]).body.decode()
d2 = hashlib.sha256("\n".join(content(text2)).encode()).hexdigest()
d4 = hashlib.sha256("\n".join(content(v4)).encode()).hexdigest()
check(d2 == d4 and v2b == text2, "rollback restores version 2's exact content (digest %s)" % d4[:16])
r = req("GET", Z + "/versions", tokens["carol"])
check(r.status == 200 and r.json["versions"] == [1, 2, 3, 4], "versions 1-4 are kept (%r)" % r)
expect(req("POST", Z + "/rollback", tokens["alice"], {"to_serial": 99, "reason": "x"}), 404,
       "rollback to a version that never existed: 404")

# --- whole zone file proposals ---
zf = v4 if v4.endswith("\n") else v4 + "\n"
r = req("POST", Z + "/changes", tokens["alice"],
        {"base_serial": 4, "reason": "from a file", "zone_file": zf + "zf 300 IN A 192.0.2.77\n"})
expect(r, 201, "alice proposes a whole zone file")
zd = (r.json or {}).get("change", {}).get("diff", [])
check(len(zd) == 1 and zd[0].startswith("+zf.example.com.") and "192.0.2.77" in zd[0],
      "the hub computes the diff of a zone file: one addition (%r)" % zd)
r = req("POST", API + "/changes/%s/approve" % (r.json or {}).get("change", {}).get("id"),
        tokens["bob"], {})
check(r.status == 200 and r.json["change"]["serial"] == 5, "the zone-file change commits serial 5")
broken = ("$TTL 300\nexample.com. IN SOA ns1.example.net. hm.example.com. 5 1 1 1 1\n"
          "@ NS ns1.example.net.\nbroken A 300.1.1.1\n")
r = req("POST", Z + "/changes", tokens["alice"],
        {"base_serial": 5, "reason": "broken", "zone_file": broken})
check(r.status == 400 and r.err().get("details", {}).get("line") == 4 and
      r.err().get("details", {}).get("field") == "zone_file",
      "a bad zone file: 400 with field zone_file and line 4 (%r)" % r)

# --- mass deletion needs its flag ---
md = {"base_serial": 5, "reason": "cleanup",
      "edits": [{"op": "delete", "name": "h%d" % i, "type": "A"} for i in range(10)]}
expect(req("POST", Z + "/changes", tokens["alice"], md), 422,
       "deleting 10 of ~30 records without allow_mass_delete: 422", "needs_flag")
r = req("POST", Z + "/changes", tokens["alice"], dict(md, allow_mass_delete=True))
check(r.status == 201 and r.json["plan"]["deleted"] == 10, "with the flag: planned, 10 deletions")
if r.status == 201:
    req("POST", API + "/changes/%d/withdraw" % r.json["change"]["id"], tokens["alice"])

# --- a policy of two approvals ---
r = req("PUT", Z + "/policy", admin, {"approvals_required": 2})
check(r.status == 200 and r.json["approvals_required"] == 2, "admin sets two approvals")
expect(req("PUT", Z + "/policy", tokens["alice"], {"approvals_required": 1}), 403,
       "an editor cannot change the policy")
r = req("POST", Z + "/changes", tokens["alice"],
        dict(edit, base_serial=5, edits=[{"op": "add", "name": "two", "type": "A",
                                          "rdata": ["192.0.2.2"]}]))
c2 = (r.json or {}).get("change", {}).get("id")
r = req("POST", API + "/changes/%s/approve" % c2, tokens["bob"], {})
check(r.status == 200 and r.json["committed"] is False and r.json["change"]["approvals"] == 1,
      "one approval of two does not commit")
expect(req("POST", API + "/changes/%s/approve" % c2, tokens["bob"], {}), 409,
       "the same approver twice: 409")
r = req("POST", API + "/changes/%s/approve" % c2, admin, {})
check(r.status == 200 and r.json["committed"] is True and r.json["change"]["serial"] == 6,
      "a second, distinct approver commits serial 6")
req("PUT", Z + "/policy", admin, {"approvals_required": 1})
r = req("POST", Z + "/changes", tokens["alice"],
        dict(edit, base_serial=6, edits=[{"op": "add", "name": "rej", "type": "A",
                                          "rdata": ["192.0.2.3"]}]))
r = req("POST", API + "/changes/%s/reject" % (r.json or {}).get("change", {}).get("id"),
        tokens["bob"], {"comment": "no"})
check(r.status == 200 and r.json["change"]["state"] == "rejected", "bob rejects a change")

# --- pagination ---
r = req("GET", API + "/changes?zone=example.com&limit=2", tokens["carol"])
ids = [c["id"] for c in r.json["changes"]] if r.status == 200 else []
check(len(ids) == 2 and ids[0] > ids[1] and r.json["next"] == str(ids[1]),
      "changes page newest first with a next cursor")
r = req("GET", API + "/changes?zone=example.com&limit=2&before=" + str(ids[-1] if ids else 0),
        tokens["carol"])
check(r.status == 200 and all(c["id"] < ids[-1] for c in r.json["changes"]) and
      len(r.json["changes"]) == 2, "the before cursor continues the list")
r = req("GET", API + "/zones?limit=1", admin)
check(r.status == 200 and len(r.json["zones"]) == 1 and r.json["next"] is None,
      "one zone: no next cursor")

# --- tokens and role changes ---
r = req("POST", API + "/principals/carol/tokens", admin, {"label": "laptop"})
if expect(r, 201, "admin issues carol another token"):
    tokens["carol2"] = r.json["token"]
    r = req("GET", API + "/whoami", tokens["carol2"])
    check(r.status == 200 and r.json["principal"]["name"] == "carol", "the new token works")
expect(req("DELETE", API + "/principals/carol/roles/bank", admin), 200, "revoke carol's role")
expect(req("GET", Z, tokens["carol"]), 403, "without a role carol cannot read the zone")
expect(req("DELETE", API + "/principals/carol/roles/bank", admin), 404,
       "revoking a role that is not there: 404")
req("PUT", API + "/principals/carol/roles/bank", admin, {"role": "viewer"})
r1 = req("POST", API + "/principals", admin, {"name": "dave"}, headers={"Idempotency-Key": "p-1"})
r2 = req("POST", API + "/principals", admin, {"name": "dave"}, headers={"Idempotency-Key": "p-1"})
if r1.status == 201:
    tokens["dave"] = r1.json["token"]
check(r1.status == 201 and r2.status == 201 and r2.json["principal"] == r1.json["principal"]
      and r2.json["token"] is None, "a replayed principal creation does not show the token again")
with open(os.path.join(out_dir, "tokens.txt"), "w") as f:
    for t in tokens.values():
        f.write(t + "\n")

# --- deleting a zone: a change like any other ---
G = API + "/zones/gone.example"
r = req("POST", API + "/zones", admin, {"name": "gone.example", "tenant": "bank",
                                         "primary_ns": "ns1.example.net."})
expect(r, 201, "admin creates gone.example")
expect(req("DELETE", G, tokens["carol"]), 403, "a viewer cannot propose a deletion", "forbidden")
expect(req("DELETE", G, tokens["mallory"]), 403, "another tenant cannot propose a deletion")
r = req("DELETE", G + "?reason=decommissioned%20CHG-9", tokens["alice"])
expect(r, 201, "alice proposes deleting gone.example")
dz = r.json or {}
did = dz.get("change", {}).get("id", 0)
check(dz.get("change", {}).get("delete_zone") is True and
      dz.get("change", {}).get("reason") == "decommissioned CHG-9" and
      dz.get("plan", {}).get("next_serial") == 0 and dz.get("plan", {}).get("added") == 0 and
      dz.get("plan", {}).get("deleted") == 2 and
      any("will be deleted" in w for w in dz.get("plan", {}).get("warnings", [])) and
      all(l.startswith("-") for l in dz.get("change", {}).get("diff", ["+"])),
      "the plan says the zone will be deleted and lists its records (%r)" % dz)
expect(req("GET", G, tokens["carol"]), 200, "the zone is still served while the deletion waits")
expect(req("POST", API + "/changes/%s/approve" % did, tokens["alice"], {}), 403,
       "alice cannot approve her own deletion", "forbidden")
r = req("POST", API + "/changes/%s/approve" % did, tokens["bob"], {"comment": "ok"})
check(r.status == 200 and r.json["committed"] is True and
      r.json["change"]["state"] == "committed", "bob's approval deletes the zone (%r)" % r)
expect(req("GET", G, tokens["carol"]), 404, "a deleted zone reads 404", "not_found")
expect(req("GET", G + "/export", tokens["carol"]), 404, "a deleted zone exports 404")
expect(req("DELETE", G, tokens["alice"]), 404, "a deleted zone cannot be deleted again")
r = req("GET", API + "/zones", admin)
check(r.status == 200 and "gone.example." not in [z["name"] for z in r.json["zones"]],
      "a deleted zone is gone from the listing")
r = req("GET", API + "/changes/%s" % did, tokens["carol"])
check(r.status == 200 and r.json["state"] == "committed" and r.json["delete_zone"] is True,
      "the deletion's change stays readable")

# --- principals: the list and disabling ---
expect(req("GET", API + "/principals", tokens["alice"]), 403, "an editor cannot list principals",
       "forbidden")
r = req("GET", API + "/principals?limit=2", admin)
check(r.status == 200 and [p["name"] for p in r.json["principals"]] == ["admin", "alice"] and
      r.json["next"] == "alice" and r.json["principals"][0]["roles"] ==
      [{"tenant": "*", "role": "admin"}] and r.json["principals"][1]["roles"] ==
      [{"tenant": "bank", "role": "editor"}] and r.json["principals"][1]["disabled"] is False,
      "principals page by name with their roles (%r)" % r)
r = req("GET", API + "/principals?after=alice", admin)
check(r.status == 200 and [p["name"] for p in r.json["principals"]] ==
      ["bob", "carol", "dave", "mallory"] and r.json["next"] is None,
      "the after cursor continues the principals (%r)" % r)
expect(req("GET", API + "/whoami", tokens["dave"]), 200, "dave's token works")
expect(req("POST", API + "/principals/dave/disable", tokens["alice"], {}), 403,
       "an editor cannot disable principals", "forbidden")
expect(req("POST", API + "/principals/nobody/disable", admin), 404,
       "disabling an unknown principal: 404", "not_found")
expect(req("POST", API + "/principals/admin/disable", admin), 409,
       "an admin cannot disable itself", "conflict")
r = req("POST", API + "/principals/dave/disable", admin)
check(r.status == 200 and r.json["name"] == "dave" and r.json["disabled"] is True,
      "admin disables dave (%r)" % r)
expect(req("GET", API + "/whoami", tokens["dave"]), 401, "dave's token stops working at once",
       "unauthorized")
r = req("GET", API + "/principals?after=carol&limit=1", admin)
check(r.status == 200 and r.json["principals"][0]["name"] == "dave" and
      r.json["principals"][0]["disabled"] is True, "the list shows dave disabled")

# --- audit ---
r = req("GET", API + "/audit?limit=1000", admin)
recs = r.json["records"] if r.status == 200 else []
check(any(a["principal"] == "alice" and a["action"] == "change.approve" and
          a["outcome"] == "denied" and a["target"] == "change:%s" % cid for a in recs),
      "alice's self-approval is audited as denied")
check(any(a["principal"] == "mallory" and a["outcome"] == "denied" and
          a["target"] == "zone:example.com." for a in recs),
      "mallory's cross-tenant read is audited as denied")
check(any(a["principal"] == "bob" and a["action"] == "change.commit" for a in recs),
      "the commit is audited")
check(any(a["principal"] == "alice" and a["action"] == "zone.delete.propose" and
          a["outcome"] == "ok" and a["target"] == "zone:gone.example. change:%s" % did
          for a in recs) and
      any(a["principal"] == "bob" and a["action"] == "zone.delete" and a["outcome"] == "ok"
          and a["target"] == "zone:gone.example." for a in recs),
      "the deletion's proposal and its approval are audited")
check(any(a["principal"] == "admin" and a["action"] == "principal.disable" and
          a["outcome"] == "ok" and a["target"] == "principal:dave" for a in recs) and
      any(a["principal"] == "alice" and a["action"] == "principal.disable" and
          a["outcome"] == "denied" for a in recs) and
      any(a["principal"] == "admin" and a["action"] == "principal.disable" and
          a["outcome"] == "conflict" and a["target"] == "principal:admin" for a in recs),
      "disabling (and the refusals) are audited")
check(any(a["principal"] == "carol" and a["action"] == "change.propose" and
          a["outcome"] == "denied" for a in recs), "carol's refused proposal is audited")
body = json.dumps(edit).encode()
check(any(a["payload_digest"] == hashlib.sha256(body).hexdigest() for a in recs),
      "payload_digest is the SHA-256 of the request body")
blob = json.dumps(recs)
check(not any(t in blob for t in tokens.values()), "no token appears in the audit records")
r = req("GET", API + "/audit?limit=2", admin)
check(r.status == 200 and len(r.json["records"]) == 2 and r.json["next"] == "2",
      "audit pages carry a next cursor")
r = req("GET", API + "/audit?after=2&limit=1", admin)
check(r.status == 200 and r.json["records"][0]["seq"] == 3, "the cursor continues the list")


def verify(records):
    """Recomputes the chain as common/auditchain.h defines it; index of the first bad one."""
    prev = "0" * 64
    for i, a in enumerate(records):
        if a["seq"] != i + 1 or a["prev_hash"] != prev:
            return i
        m = hashlib.sha256()
        m.update(("fedns-audit-v1\n%s\n%d\n%d" % (prev, a["seq"], a["at"])).encode())
        for k in ("principal", "action", "target", "outcome", "payload_digest"):
            v = a[k].encode()
            m.update(b"\n" + str(len(v)).encode() + b":" + v)
        if m.hexdigest() != a["hash"]:
            return i
        prev = a["hash"]
    return None


r = req("GET", API + "/audit/export", admin)
exp = r.json if r.status == 200 else {}
check(exp.get("format") == "fedns-audit-export-v1" and exp.get("head", {}).get("seq") ==
      len(exp.get("records", [])) and exp["head"]["hash"] == exp["records"][-1]["hash"],
      "audit export has the documented shape")
check(verify(exp.get("records", [])) is None, "the exported chain verifies (python)")
with open(os.path.join(out_dir, "audit.json"), "w") as f:
    json.dump(exp, f)
tampered = json.loads(json.dumps(exp))
# the record of alice's refused self-approval, in the middle of the chain
k = next(i for i, a in enumerate(tampered["records"]) if a["principal"] == "alice" and
         a["action"] == "change.approve" and a["outcome"] == "denied")
tampered["records"][k]["outcome"] = "ok"
check(verify(tampered["records"]) == k, "a tampered record is found at its index %d" % k)
with open(os.path.join(out_dir, "audit-tampered.json"), "w") as f:
    json.dump(tampered, f)
with open(os.path.join(out_dir, "audit-tampered.seq"), "w") as f:
    f.write("%d\n" % tampered["records"][k]["seq"])

print("hub_api_check: %d failed" % failed)
sys.exit(1 if failed else 0)
