#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deploy/grafana/fedns.json stays in step with the metrics: valid JSON with unique panel ids
# and grid positions inside 24 columns, every PromQL expression names only metric families
# the hub (hub/metrics.c) or spoke (spoke/metrics.c) writes, and the panels cover the
# issue's list (propagation histogram, states, pending changes, sessions, refusals by
# reason, certificate expiry, transfers by type, TSIG failures).
. "$(dirname "$0")/lib.sh"

/usr/bin/python3 - "$t_src" <<'PY' | tee "$t_tmp/out"
import json, re, sys
src = sys.argv[1]
ok = fail = 0
def check(c, what):
    global ok, fail
    print(("ok - " if c else "FAIL - ") + what)
    ok, fail = ok + bool(c), fail + (not c)
try:
    d = json.load(open(src + "/deploy/grafana/fedns.json"))
    check(True, "the dashboard is valid JSON")
except ValueError as e:
    check(False, "the dashboard is valid JSON: %s" % e)
    sys.exit(1)
panels = d["panels"]
ids = [p["id"] for p in panels]
check(len(ids) == len(set(ids)), "panel ids are unique")
check(all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels), "panels fit 24 columns")
known = set()
for f in ("hub/metrics.c", "spoke/metrics.c"):
    known |= set(re.findall(r'"(fedns_[a-z0-9_]+)"', open(src + "/" + f).read()))
exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
check(len(exprs) >= 15, "%d queries" % len(exprs))
used = set()
for e in exprs:
    for m in re.findall(r"\b(fedns_[a-z0-9_]+)", e):
        used.add(re.sub(r"_(bucket|sum|count)$", "", m) if m.startswith("fedns_hub_propagation") else m)
unknown = sorted(used - known)
check(not unknown, "every metric in a query exists (%s)" % (unknown or "all %d" % len(used)))
for need in ("fedns_hub_propagation_seconds", "fedns_hub_zones", "fedns_hub_zone_cells",
             "fedns_hub_secondaries", "fedns_hub_pending_changes", "fedns_hub_spoke_sessions",
             "fedns_hub_changesets_refused_total", "fedns_hub_cluster_cert_expiry_timestamp_seconds",
             "fedns_hub_audit_chain_length", "fedns_spoke_transfers_total",
             "fedns_spoke_tsig_failures_total"):
    check(need in used, "a panel shows " + need)
check(not any(re.search(r"\bzone=", e) for e in exprs), "no query relies on a zone label")
print("test_ops_grafana: %d passed, %d failed" % (ok, fail))
sys.exit(1 if fail else 0)
PY
exit "${PIPESTATUS[0]}"
