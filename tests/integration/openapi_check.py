#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Checks docs/api/openapi.yaml against fedns-hub: the file's structure and $refs, the set of
# (method, path) pairs against the route table in hub/api.c, and live answers of a running
# hub against the documented statuses and response schemas (a small JSON Schema subset).
# Prints "ok - ..." / "FAIL - ..." lines and "openapi_check: N failed" last.
#
# usage: openapi_check.py static SPEC API_C
#        openapi_check.py live SPEC PORT CA_FILE ADMIN_TOKEN_FILE
import http.client
import json
import re
import ssl
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "FAIL - ") + what)
    sys.stdout.flush()
    if not cond:
        failed += 1
    return cond


def done():
    print("openapi_check: %d failed" % failed)
    sys.exit(1 if failed else 0)


# ---- the spec ----

def resolve(spec, ref):
    """The object a local $ref names, or None."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def deref(spec, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(spec, node["$ref"])
        seen += 1
        if seen > 20:
            return None
    return node


def all_refs(node, where="#"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield where, v
            else:
                yield from all_refs(v, where + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_refs(v, "%s/%d" % (where, i))


def operations(spec):
    """(METHOD, path, operation) for every operation in the spec."""
    for path, item in (spec.get("paths") or {}).items():
        for m in METHODS:
            if isinstance(item, dict) and m in item:
                yield m.upper(), path, item[m]


def template_key(path):
    """/api/v1/zones/{zone}/export -> zones/*/export (the route table's form)."""
    return re.sub(r"\{[^/}]+\}", "*", path)


SCHEMA_KEYS = {
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxProperties", "minProperties", "required", "enum", "type", "allOf", "oneOf", "anyOf",
    "not", "items", "properties", "additionalProperties", "description", "format", "default",
    "nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example",
    "deprecated", "$ref"}


def schema_key_errors(node, where):
    """Keys of schema objects that OpenAPI 3.0 does not define (e.g. a YAML flow mapping
    split by an unquoted comma)."""
    if not isinstance(node, dict):
        return ["%s: a schema must be an object" % where]
    errs = ["%s: unknown schema keyword %r" % (where, k) for k in node
            if k not in SCHEMA_KEYS and not str(k).startswith("x-")]
    for k, v in (node.get("properties") or {}).items():
        errs += schema_key_errors(v, where + "/properties/" + k)
    for k in ("items", "not"):
        if k in node:
            errs += schema_key_errors(node[k], where + "/" + k)
    if isinstance(node.get("additionalProperties"), dict):
        errs += schema_key_errors(node["additionalProperties"], where + "/additionalProperties")
    for k in ("allOf", "oneOf", "anyOf"):
        for i, v in enumerate(node.get(k) or []):
            errs += schema_key_errors(v, "%s/%s/%d" % (where, k, i))
    return errs


def all_schemas(node, where="#"):
    """Every schema the spec holds: components/schemas and each 'schema' member."""
    if isinstance(node, dict):
        for k, v in node.items():
            w = where + "/" + str(k)
            if k == "schema" or where == "#/components/schemas":
                yield w, v
            elif k not in ("example", "examples"):
                yield from all_schemas(v, w)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_schemas(v, "%s/%d" % (where, i))


def static_checks(spec, api_c):
    check(isinstance(spec, dict) and str(spec.get("openapi", "")) == "3.0.3",
          "the spec is OpenAPI 3.0.3")
    for key in ("info", "paths", "components"):
        check(isinstance(spec.get(key), dict), "the spec has %s" % key)
    info = spec.get("info") or {}
    check(bool(info.get("title")) and bool(info.get("version")), "info has a title and version")

    bad = [(w, r) for w, r in all_refs(spec) if resolve(spec, r) is None]
    check(not bad, "every $ref resolves (%s)" % (bad[:5] or "none broken"))

    errs = []
    for w, sch in all_schemas(spec):
        errs += schema_key_errors(sch, w)
    check(not errs, "every schema uses only OpenAPI 3.0 keywords (%s)" % (errs[:5] or "none"))

    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    check(any(s.get("type") == "http" and s.get("scheme") == "bearer"
              for s in schemes.values()), "a bearer security scheme is defined")
    for req in spec.get("security") or []:
        for name in req:
            check(name in schemes, "global security names a defined scheme (%s)" % name)

    for path, item in (spec.get("paths") or {}).items():
        ops = [m for m in METHODS if isinstance(item, dict) and m in item]
        check(bool(ops), "%s has at least one operation" % path)
    op_ids = []
    for method, path, op in operations(spec):
        where = "%s %s" % (method, path)
        resps = op.get("responses") if isinstance(op, dict) else None
        check(isinstance(resps, dict) and len(resps) > 0, where + " has responses")
        if not isinstance(resps, dict):
            continue
        check(any(str(s).startswith("2") for s in resps), where + " documents a 2xx answer")
        for status, r in resps.items():
            r = deref(spec, r)
            if not (isinstance(r, dict) and r.get("description")):
                check(False, "%s %s has a description" % (where, status))
        if isinstance(op.get("operationId"), str):
            op_ids.append(op["operationId"])
        else:
            check(False, where + " has an operationId")
        # every {param} of the path is declared, and every declared path param is in it
        declared = set()
        for p in op.get("parameters") or []:
            p = deref(spec, p)
            if isinstance(p, dict) and p.get("in") == "path":
                declared.add(p.get("name"))
                check(p.get("required") is True, "%s: path parameter %s is required"
                      % (where, p.get("name")))
        in_path = set(re.findall(r"\{([^/}]+)\}", path))
        check(declared == in_path, "%s declares exactly its path parameters (%s vs %s)"
              % (where, sorted(declared), sorted(in_path)))
        if path.startswith("/api/v1/"):
            sec = op.get("security", spec.get("security"))
            check(bool(sec), where + " requires the bearer token")
            check("401" in resps, where + " documents 401")
            if method == "POST":
                names = [deref(spec, p).get("name") for p in op.get("parameters") or []]
                check("Idempotency-Key" in names, where + " takes Idempotency-Key")
        rb = deref(spec, op.get("requestBody"))
        if rb is not None:
            sch = deref(spec, ((rb.get("content") or {}).get("application/json") or {})
                        .get("schema"))
            check(isinstance(sch, dict) and sch.get("additionalProperties") is False,
                  where + ": the request body refuses unknown fields (additionalProperties: "
                  "false), as the hub does")
            for code in ("400", "413", "415"):
                check(code in resps, "%s documents %s" % (where, code))
    check(len(op_ids) == len(set(op_ids)), "operationIds are unique")

    # the error body
    err = deref(spec, {"$ref": "#/components/schemas/Error"})
    inner = ((err or {}).get("properties") or {}).get("error") or {}
    check(set(inner.get("required") or []) >= {"code", "message"} and
          set((inner.get("properties") or {})) == {"code", "message", "details"},
          "the Error schema is {error: {code, message, details}}")

    # the set of (method, path) pairs against hub/api.c
    src = open(api_c).read()
    m = re.search(r"static const route routes\[\] = \{(.*?)\n\};", src, re.S)
    check(m is not None, "hub/api.c has a static route table")
    hub = set()
    if m:
        for meth, pat in re.findall(r"\{\s*\"([A-Z]+)\",\s*\"([^\"]*)\"", m.group(1)):
            hub.add((meth, "/api/v1/" + pat))
    for p in re.findall(r"strcmp\(req->path, \"(/[a-z]+)\"\) == 0", src):
        hub.add(("GET", p))
    check(len(hub) >= 20, "parsed %d routes from hub/api.c" % len(hub))
    mine = {(meth, template_key(path)) for meth, path, _ in operations(spec)}
    missing = sorted(hub - mine)
    extra = sorted(mine - hub)
    check(not missing, "every route of hub/api.c is in the spec (missing: %s)" % missing)
    check(not extra, "every operation of the spec is served by hub/api.c (extra: %s)" % extra)


# ---- a JSON Schema subset ----

def validate(spec, schema, v, where="$"):
    """Errors of value v against schema: type, nullable, required, properties,
    additionalProperties, items, enum, minimum/maximum, min/maxLength, pattern,
    min/maxItems, $ref."""
    schema = deref(spec, schema)
    if schema is None:
        return ["%s: schema does not resolve" % where]
    if v is None:
        if schema.get("nullable") or "type" not in schema:
            return []
        return ["%s: null where %s is required" % (where, schema.get("type"))]
    errs = []
    t = schema.get("type")
    ok_type = {
        None: True,
        "object": isinstance(v, dict),
        "array": isinstance(v, list),
        "string": isinstance(v, str),
        "integer": isinstance(v, int) and not isinstance(v, bool),
        "number": isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": isinstance(v, bool),
    }.get(t, False)
    if not ok_type:
        return ["%s: %r is not of type %s" % (where, v, t)]
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r is not one of %s" % (where, v, schema["enum"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (where, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (where, v, schema["maximum"]))
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0):
            errs.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (where, schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append("%s: %r does not match %s" % (where, v, schema["pattern"]))
    if isinstance(v, list):
        if len(v) < schema.get("minItems", 0):
            errs.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            errs.append("%s: more than %d items" % (where, schema["maxItems"]))
        if "items" in schema:
            for i, x in enumerate(v):
                errs += validate(spec, schema["items"], x, "%s[%d]" % (where, i))
    if isinstance(v, dict):
        props = schema.get("properties") or {}
        for k in schema.get("required") or []:
            if k not in v:
                errs.append("%s: required %s is missing" % (where, k))
        extra = schema.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                errs += validate(spec, props[k], x, "%s.%s" % (where, k))
            elif extra is False:
                errs.append("%s: %s is not in the schema" % (where, k))
            elif isinstance(extra, dict):
                errs += validate(spec, extra, x, "%s.%s" % (where, k))
    return errs


def validator_selftest(spec):
    """The checker itself must refuse what it should, or the live checks prove nothing."""
    zone = {"$ref": "#/components/schemas/Zone"}
    good = {"name": "a.", "tenant": "t", "approvals_required": 1, "serial": 1,
            "digest": "ab", "created_at": 1, "placement": []}
    check(validate(spec, zone, good) == [], "the schema checker accepts a valid zone")
    bad = [dict(good, extra=1), {k: v for k, v in good.items() if k != "serial"},
           dict(good, serial="1"), dict(good, placement=[1]), dict(good, serial=None),
           dict(good, approvals_required=0)]
    check(all(validate(spec, zone, b) for b in bad),
          "the schema checker refuses an extra field, a missing one, wrong types, null and "
          "a value under the minimum")
    st = {"$ref": "#/components/schemas/ChangeState"}
    check(validate(spec, st, "merged") != [] and validate(spec, st, "stale") == [],
          "the schema checker applies enum")


# ---- live ----

class Live:
    def __init__(self, spec, port, cafile):
        self.spec = spec
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.ops = {}
        for meth, path, op in operations(spec):
            self.ops[op["operationId"]] = (meth, path, op)
        self.called = set()

    def raw(self, method, path, token=None, body=None, ctype="application/json", headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=30)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            if ctype is not None:
                h["Content-Type"] = ctype
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        status, rh, rb = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        conn.close()
        return status, rh, rb

    def call(self, op_id, token, params=None, query=None, body=None, expect=None,
             headers=None, what=""):
        """Calls the spec's operation op_id; checks that the route exists, the status is
        the expected one and documented, and the answer fits its schema. Returns
        (status, parsed JSON or text)."""
        meth, path, op = self.ops[op_id]
        url = path
        for k, v in (params or {}).items():
            url = url.replace("{%s}" % k, str(v))
        if query:
            url += "?" + "&".join("%s=%s" % kv for kv in query.items())
        label = "%s %s%s" % (meth, url, (" (" + what + ")") if what else "")
        status, rh, rb = self.raw(meth, url, token, body, headers=headers)
        ctype = rh.get("content-type", "").split(";")[0].strip()
        try:
            parsed = json.loads(rb) if ctype == "application/json" else rb.decode()
        except ValueError:
            parsed = None
        self.called.add(op_id)
        route_missing = status == 405 or (
            status == 404 and isinstance(parsed, dict) and
            str(parsed.get("error", {}).get("message", "")).startswith("no such path"))
        check(not route_missing, label + ": the hub serves the route (got %d)" % status)
        if expect is not None:
            got = "" if status == expect else " (got %d %s)" % (
                status, rb[:200].decode("utf-8", "replace").replace("\n", " ").strip())
            check(status == expect, "%s: answers %d%s" % (label, expect, got))
        resps = op.get("responses") or {}
        check(str(status) in resps, "%s: status %d is documented" % (label, status))
        r = deref(self.spec, resps.get(str(status)))
        content = (r or {}).get("content") or {}
        if content:
            check(ctype in content, "%s: content type %s is documented (%s)"
                  % (label, ctype, sorted(content)))
            schema = (content.get(ctype) or {}).get("schema")
            if schema is not None and ctype == "application/json":
                errs = validate(self.spec, schema, parsed)
                check(not errs, "%s: the answer fits its schema%s"
                      % (label, "" if not errs else " (" + "; ".join(errs[:4]) + ")"))
        # what we send must fit the spec's request schema when the hub accepts it
        rb_spec = deref(self.spec, op.get("requestBody"))
        if rb_spec and isinstance(body, dict) and 200 <= status < 300:
            schema = ((rb_spec.get("content") or {}).get("application/json") or {}) \
                .get("schema")
            errs = validate(self.spec, schema, body)
            check(not errs, "%s: the accepted request fits the request schema%s"
                  % (label, "" if not errs else " (" + "; ".join(errs[:4]) + ")"))
        return status, parsed


def live_checks(spec, port, cafile, admin):
    L = Live(spec, port, cafile)
    L.call("healthz", None, expect=200)
    L.call("readyz", None, expect=200)
    L.call("whoami", admin, expect=200)
    L.call("whoami", None, expect=401, what="no token")
    L.call("createTenant", admin, body={"name": "acme"}, expect=201)
    L.call("createTenant", admin, body={"name": "acme"}, expect=409, what="again")
    L.call("listTenants", admin, expect=200)
    tok = {}
    for p in ("alice", "bob", "carol"):
        st, j = L.call("createPrincipal", admin, body={"name": p, "kind": "person"},
                       expect=201)
        tok[p] = (j or {}).get("token", "")
    # an idempotent replay answers the same status, with the token withheld
    k = {"Idempotency-Key": "openapi-dave-1"}
    _, first = L.call("createPrincipal", admin, body={"name": "dave"}, headers=k, expect=201)
    _, again = L.call("createPrincipal", admin, body={"name": "dave"}, headers=k, expect=201,
                      what="replayed")
    check(isinstance(first, dict) and isinstance(first.get("token"), str) and
          isinstance(again, dict) and again.get("token") is None and
          again.get("principal") == first.get("principal"),
          "an idempotent replay gives the first answer without the token")
    L.call("createPrincipal", admin, body={"name": "erin"}, headers=k, expect=409,
           what="same key, other body")
    dave = (first or {}).get("token", "") if isinstance(first, dict) else ""
    L.call("createToken", admin, params={"principal": "alice"},
           body={"label": "ci", "expires_in": 3600}, expect=201)
    L.call("createToken", admin, params={"principal": "nobody"}, expect=404)
    # RFC 9421 B.1.3's test-key-ecc-p256, public half
    pem = ("-----BEGIN PUBLIC KEY-----\n"
           "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
           "w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
           "-----END PUBLIC KEY-----\n")
    _, kj = L.call("addKey", admin, params={"principal": "carol"},
                   body={"public_key_pem": pem}, expect=201)
    check(isinstance(kj, dict) and len(kj.get("key_id") or "") == 43 and
          kj.get("principal") == "carol", "addKey answers the principal and a 43-char key id")
    L.call("addKey", admin, params={"principal": "alice"}, body={"public_key_pem": pem},
           expect=409, what="a key already registered")
    L.call("addKey", admin, params={"principal": "alice"},
           body={"public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n"}, expect=400,
           what="not a key")
    L.call("addKey", admin, params={"principal": "nobody"}, body={"public_key_pem": pem},
           expect=404)
    for p, role in (("alice", "editor"), ("bob", "approver"), ("carol", "viewer")):
        L.call("grantRole", admin, params={"principal": p, "tenant": "acme"},
               body={"role": role}, expect=200)
    L.call("grantRole", tok["carol"], params={"principal": "carol", "tenant": "acme"},
           body={"role": "admin"}, expect=403, what="a viewer raising itself")
    L.call("grantRole", admin, params={"principal": "dave", "tenant": "acme"},
           body={"role": "viewer"}, expect=200)
    L.call("revokeRole", admin, params={"principal": "dave", "tenant": "acme"}, expect=200)
    L.call("revokeRole", admin, params={"principal": "dave", "tenant": "acme"}, expect=404,
           what="no role left")

    L.call("createZone", admin, body={"name": "example.test", "tenant": "acme",
                                      "primary_ns": "ns1.example.net.",
                                      "approvals_required": 1, "placement": ["eu-1"]},
           expect=201)
    L.call("createZone", admin, body={"name": "bad.test", "tenant": "acme",
                                      "zone_file": "$TTL 300\n@ IN SOA x\n"},
           what="a broken zone file")
    Z = {"zone": "example.test"}
    L.call("listZones", tok["carol"], query={"limit": 1}, expect=200)
    L.call("getZone", tok["carol"], params=Z, expect=200)
    L.call("getZone", tok["carol"], params={"zone": "nowhere.test"}, expect=404)
    L.call("exportZone", tok["carol"], params=Z, expect=200)
    L.call("getRecords", tok["carol"], params=Z, expect=200)
    L.call("setPolicy", admin, params=Z, body={"approvals_required": 1}, expect=200)
    L.call("setPlacement", admin, params=Z, body={"clusters": ["eu-1", "us-1"]}, expect=200)
    L.call("setPolicy", tok["alice"], params=Z, body={"approvals_required": 2}, expect=403,
           what="an editor")

    edits = {"base_serial": 1, "reason": "openapi check", "ticket": "CHG-1",
             "edits": [{"op": "add", "name": "www", "type": "A", "ttl": 300,
                        "rdata": ["192.0.2.1"]}]}
    _, plan = L.call("proposeChange", tok["alice"], params=Z, body=edits, expect=201)
    cid = ((plan or {}).get("change") or {}).get("id", 0)
    L.call("approveChange", tok["alice"], params={"id": cid}, body={"comment": "me"},
           expect=403, what="self-approval")
    L.call("approveChange", tok["bob"], params={"id": cid}, body={"change_signature": "AAAA"},
           expect=400, what="change_signature on a bearer-token request")
    L.call("rejectChange", tok["bob"], params={"id": cid}, body={"change_signature": "AAAA"},
           expect=400, what="change_signature is for approvals only")
    _, dec = L.call("approveChange", tok["bob"], params={"id": cid}, body={"comment": "ok"},
                    expect=200)
    check(isinstance(dec, dict) and dec.get("committed") is True, "the approval committed")
    L.call("approveChange", tok["bob"], params={"id": cid}, expect=409, what="not open")
    L.call("proposeChange", tok["alice"], params=Z, body=edits, expect=409,
           what="stale base serial")
    bad = dict(edits, base_serial=2, edits=[{"op": "add", "name": "x", "type": "A",
                                             "rdata": ["1.2.3"]}])
    L.call("proposeChange", tok["alice"], params=Z, body=bad, expect=400, what="bad rdata")
    ns = dict(edits, base_serial=2, edits=[{"op": "add", "name": "@", "type": "NS",
                                            "rdata": ["ns9.example.net."]}])
    L.call("proposeChange", tok["alice"], params=Z, body=ns, expect=422,
           what="apex NS without the flag")
    L.call("getChange", tok["carol"], params={"id": cid}, expect=200)
    L.call("getChange", tok["carol"], params={"id": "x1"}, expect=400, what="not a number")
    L.call("listChanges", tok["carol"], query={"zone": "example.test", "state": "committed",
                                               "limit": 10}, expect=200)
    L.call("listChanges", tok["carol"], query={"state": "merged"}, expect=400)
    L.call("listVersions", tok["carol"], params=Z, expect=200)
    L.call("diffVersions", tok["carol"], params=Z, query={"from": 1, "to": 2}, expect=200)
    L.call("diffVersions", tok["carol"], params=Z, expect=400, what="without from")

    _, plan = L.call("proposeRollback", tok["alice"], params=Z,
                     body={"to_serial": 1, "reason": "undo"}, expect=201)
    rid = ((plan or {}).get("change") or {}).get("id", 0)
    L.call("withdrawChange", tok["bob"], params={"id": rid}, expect=403, what="not the author")
    L.call("withdrawChange", tok["alice"], params={"id": rid}, expect=200)
    _, plan = L.call("proposeChange", tok["alice"], params=Z,
                     body=dict(edits, base_serial=2, ticket="CHG-2",
                               edits=[{"op": "add", "name": "www2", "type": "A",
                                           "rdata": ["192.0.2.2"]}]),
                     expect=201)
    L.call("rejectChange", tok["bob"], params={"id": ((plan or {}).get("change") or {})
                                               .get("id", 0)}, expect=200)
    # federation status: rows exist for every placed cluster before any spoke connected
    _, sj = L.call("getStatus", tok["carol"], expect=200)
    rows = (sj or {}).get("items") or [] if isinstance(sj, dict) else []
    check([(r.get("zone"), r.get("cluster"), r.get("state")) for r in rows] ==
          [("example.test.", "eu-1", "pending"), ("example.test.", "us-1", "pending")],
          "getStatus: a pending row per placed cluster before any spoke")
    L.call("getStatus", tok["carol"], query={"zone": "example.test", "cluster": "eu-1",
                                            "state": "pending", "limit": 1}, expect=200)
    L.call("getStatus", tok["carol"], query={"state": "merged"}, expect=400)
    L.call("getStatus", tok["carol"], query={"zone": "nowhere.test"}, expect=404)
    L.call("getStatus", dave, query={"tenant": "acme"}, expect=403, what="no role in acme")
    L.call("getZoneStatus", tok["carol"], params=Z, expect=200)
    L.call("getZoneStatus", tok["carol"], params={"zone": "nowhere.test"}, expect=404)
    L.call("getZoneStatus", dave, params=Z, expect=403, what="no role in acme")
    _, cj = L.call("listClusters", tok["carol"], query={"limit": 1}, expect=200)
    check(isinstance(cj, dict) and cj.get("next") == "eu-1" and
          (cj.get("items") or [{}])[0].get("zones") == 1, "listClusters pages and counts")
    _, cj = L.call("listClusters", dave, expect=200, what="zones not counted")
    check(isinstance(cj, dict) and all(c.get("zones") == 0 for c in cj.get("items") or []),
          "listClusters counts no zone the caller may not read")
    L.call("getCluster", tok["carol"], params={"cluster": "us-1"}, expect=200)
    L.call("getCluster", tok["carol"], params={"cluster": "nowhere"}, expect=404)
    _, pl = L.call("listPrincipals", admin, query={"limit": 2}, expect=200)
    check(isinstance(pl, dict) and len(pl.get("principals") or []) == 2 and
          isinstance(pl.get("next"), str), "listPrincipals pages")
    L.call("listPrincipals", tok["alice"], expect=403, what="an editor")
    _, dp = L.call("disablePrincipal", admin, params={"principal": "dave"}, expect=200)
    check(isinstance(dp, dict) and dp.get("disabled") is True, "disablePrincipal disables")
    L.call("disablePrincipal", admin, params={"principal": "nobody"}, expect=404)
    L.call("disablePrincipal", tok["alice"], params={"principal": "bob"}, expect=403,
           what="an editor")
    L.call("createZone", admin, body={"name": "gone.test", "tenant": "acme",
                                      "primary_ns": "ns1.example.net."}, expect=201)
    _, plan = L.call("deleteZone", tok["alice"], params={"zone": "gone.test"},
                     query={"reason": "decommission"}, expect=201)
    did = ((plan or {}).get("change") or {}).get("id", 0)
    check(((plan or {}).get("change") or {}).get("delete_zone") is True,
          "deleteZone proposes a deletion")
    _, dec = L.call("approveChange", tok["bob"], params={"id": did}, expect=200)
    check(isinstance(dec, dict) and dec.get("committed") is True, "the deletion committed")
    L.call("getZone", tok["carol"], params={"zone": "gone.test"}, expect=404,
           what="a deleted zone")
    L.call("deleteZone", tok["alice"], params={"zone": "gone.test"}, expect=404,
           what="a deleted zone")

    L.call("listAudit", admin, query={"limit": 5}, expect=200)
    L.call("listAudit", tok["carol"], expect=403)
    _, ex = L.call("exportAudit", admin, expect=200)
    check(isinstance(ex, dict) and any(a.get("change") == cid and a.get("approver") == "bob"
                                       and a.get("signature") is None
                                       for a in ex.get("approvals") or []),
          "the export lists bob's (unsigned) approval of change %s" % cid)

    # the hub refuses unknown fields wherever the spec says additionalProperties: false
    for op_id, (meth, path, op) in sorted(L.ops.items()):
        if op.get("requestBody") is None:
            continue
        params = {"zone": "example.test", "principal": "alice", "tenant": "acme", "id": cid}
        _, j = L.call(op_id, admin, params=params, body={"no_such_field": 1}, expect=400,
                      what="unknown field")
        err = (j or {}).get("error") if isinstance(j, dict) else None
        check(isinstance(err, dict) and err.get("code") == "unknown_field" and
              (err.get("details") or {}).get("field") == "no_such_field",
              "%s %s: the refusal is unknown_field naming the field" % (meth, path))
    st, _, rb = L.raw("POST", "/api/v1/tenants", admin, b"name=x",
                      ctype="application/x-www-form-urlencoded")
    check(st == 415, "a form body is 415 as documented (got %d)" % st)

    missed = sorted(set(L.ops) - L.called)
    check(not missed, "every operation of the spec was called (missed: %s)" % missed)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "static":
        spec = yaml.safe_load(open(sys.argv[2]))
        static_checks(spec, sys.argv[3])
        if failed == 0:
            validator_selftest(spec)
    elif len(sys.argv) == 6 and sys.argv[1] == "live":
        spec = yaml.safe_load(open(sys.argv[2]))
        admin = open(sys.argv[5]).read().strip()
        live_checks(spec, int(sys.argv[3]), sys.argv[4], admin)
    else:
        sys.stderr.write(__doc__ or "usage: openapi_check.py static|live ...\n")
        sys.exit(2)
    done()


if __name__ == "__main__":
    main()
