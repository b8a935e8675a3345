#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fednsctl audit verify, offline: an export built here by an independent implementation of
# the hash (common/auditchain.h's definition, in Python) verifies; each kind of tampering
# (an edited field, an edited and re-hashed record, a deleted record, two records swapped,
# a missing first or last record) fails with exit 1 and names the right seq.
. "$(dirname "$0")/lib.sh"

ctl=$t_build/cli/fednsctl
[ -x "$ctl" ] || { echo "$t_name: $ctl not built"; exit 1; }
# No hub anywhere: verify must not need one.
export HOME=$t_tmp/home
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT XDG_CONFIG_HOME
mkdir -p "$HOME"

# mk.py OUT [MUTATION]: writes a 20-record export, then applies one mutation.
cat >"$t_tmp/mk.py" <<'PY'
import hashlib, json, sys

GENESIS = "0" * 64

def field(s):
    b = s.encode("utf-8")
    return str(len(b)).encode() + b":" + b

def rhash(prev, r):
    parts = [str(r["seq"]).encode(), str(r["at"]).encode()]
    parts += [field(r[k]) for k in ("principal", "action", "target", "outcome", "payload_digest")]
    data = b"fedns-audit-v1\n" + prev.encode() + b"\n" + b"\n".join(parts)
    return hashlib.sha256(data).hexdigest()

def chain(recs):
    prev = GENESIS
    for r in recs:
        r["prev_hash"] = prev
        r["hash"] = rhash(prev, r)
        prev = r["hash"]

out, mutation = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "none")
recs = []
for i in range(1, 21):
    recs.append({
        "seq": i, "at": 1764115200000 + i * 1000,
        # a multi-byte name: lengths in the hash are bytes, not characters
        "principal": "admin" if i % 3 else "J\u00f6rg M\u00fcller",
        "action": ["zone.create", "change.propose", "change.approve", "auth.denied"][i % 4],
        "target": "zone:example.com." if i % 2 else "change:%d" % i,
        "outcome": "denied" if i % 4 == 3 else "ok",
        "payload_digest": hashlib.sha256(b"payload %d" % i).hexdigest() if i % 5 else "",
    })
chain(recs)

def head():
    return {"seq": recs[-1]["seq"], "hash": recs[-1]["hash"]} if recs else {"seq": 0, "hash": GENESIS}

if mutation == "edit-action-17":
    recs[16]["action"] = "change.approve" if recs[16]["action"] != "change.approve" else "zone.create"
elif mutation == "edit-at-5":
    recs[4]["at"] += 1
elif mutation == "edit-outcome-1":
    recs[0]["outcome"] = "ok" if recs[0]["outcome"] != "ok" else "denied"
elif mutation == "edit-rehash-17":
    # the forger recomputes the edited record's hash: the next record no longer links
    recs[16]["outcome"] = "error"
    recs[16]["hash"] = rhash(recs[16]["prev_hash"], recs[16])
elif mutation == "delete-9":
    del recs[8]
elif mutation == "swap-12-13":
    recs[11], recs[12] = recs[12], recs[11]
elif mutation == "drop-first":
    del recs[0]
elif mutation == "drop-last":
    h = head()
    del recs[-1]
    doc = {"format": "fedns-audit-export-v1", "exported_at": 1764115300000, "head": h, "records": recs}
    json.dump(doc, open(out, "w"), indent=1, ensure_ascii=False)
    sys.exit(0)
elif mutation == "renumber-after-delete-9":
    # delete and renumber the rest: every hash after it is now wrong
    del recs[8]
    for r in recs[8:]:
        r["seq"] -= 1
elif mutation == "seq-string-4":
    recs[3]["seq"] = "4"
elif mutation == "empty":
    recs = []
elif mutation == "bad-format":
    pass
elif mutation != "none":
    sys.exit("unknown mutation " + mutation)
doc = {"format": "fedns-audit-export-v1" if mutation != "bad-format" else "fedns-audit-export-v0",
       "exported_at": 1764115300000, "head": head(), "records": recs}
json.dump(doc, open(out, "w"), indent=1, ensure_ascii=False)
PY

mk() {
	/usr/bin/python3 "$t_tmp/mk.py" "$t_tmp/$1.json" "$1"
}

# expect_broken MUTATION SEQ WHAT: exit 1 and the first line names seq SEQ and WHAT.
expect_broken() {
	local m=$1 seq=$2 what=$3 rc
	mk "$m"
	"$ctl" audit verify "$t_tmp/$m.json" >"$t_tmp/$m.out" 2>"$t_tmp/$m.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "^audit chain broken at seq $seq: .*$what" "$t_tmp/$m.err" &&
		! [ -s "$t_tmp/$m.out" ]; then
		t_ok "$m: exit 1, broken at seq $seq ($what)"
	else
		t_fail "$m: want exit 1 and 'broken at seq $seq: ...$what'; got exit $rc: $(head -2 "$t_tmp/$m.err")"
	fi
}

mk none
out=$("$ctl" audit verify "$t_tmp/none.json" 2>&1)
rc=$?
t_check "an untouched export verifies (exit 0)" [ "$rc" = 0 ]
t_check "and says how many records and the head" \
	grep -q "^audit chain OK: 20 records (seq 1..20), head [0-9a-f]\{64\}$" <<<"$out"
head_hash=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["head"]["hash"])' "$t_tmp/none.json")
t_check "the head printed is the export's head" grep -q "$head_hash" <<<"$out"
out=$("$ctl" audit verify -o json "$t_tmp/none.json")
t_check "-o json reports ok, count and head" /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d == {"ok": True, "records": 20, "head": {"seq": 20, "hash": sys.argv[2]}}, d' "$out" "$head_hash"

expect_broken edit-action-17 17 "hash does not match"
expect_broken edit-at-5 5 "hash does not match"
expect_broken edit-outcome-1 1 "hash does not match"
expect_broken edit-rehash-17 18 "prev_hash does not match"
expect_broken delete-9 10 "seq gap"
expect_broken renumber-after-delete-9 9 "prev_hash does not match"
expect_broken swap-12-13 13 "seq"
expect_broken drop-first 2 "does not start at seq 1"
expect_broken drop-last 20 "head"
expect_broken seq-string-4 4 "\"seq\" is missing or not an integer"

mk empty
t_check "an empty chain (head seq 0, genesis) verifies" "$ctl" audit verify "$t_tmp/empty.json"

mk bad-format
"$ctl" audit verify "$t_tmp/bad-format.json" 2>"$t_tmp/bf.err"
rc=$?
t_check "another format version is refused (exit 1, says which)" \
	eval '[ "$rc" = 1 ] && grep -q "fedns-audit-export-v0" "$t_tmp/bf.err"'

printf '{"format": "fedns-audit-export-v1",\n "records": [\n  {"seq": 1,,}\n]}\n' >"$t_tmp/broken.json"
"$ctl" audit verify "$t_tmp/broken.json" 2>"$t_tmp/bj.err"
rc=$?
t_check "invalid JSON: exit 1, FILE:LINE named" \
	eval '[ "$rc" = 1 ] && grep -q "broken.json:3: not valid JSON" "$t_tmp/bj.err"'

"$ctl" audit verify "$t_tmp/absent.json" 2>"$t_tmp/ab.err"
rc=$?
t_check "a missing file: exit 1, named" \
	eval '[ "$rc" = 1 ] && grep -q "absent.json" "$t_tmp/ab.err"'

"$ctl" audit verify 2>/dev/null
t_check "no FILE: usage error (exit 2)" [ $? = 2 ]
"$ctl" audit verify a b 2>/dev/null
t_check "two files: usage error (exit 2)" [ $? = 2 ]

t_done
