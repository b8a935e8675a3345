#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fednsctl against a real fedns-hub over HTTPS: settings from a config file, tenants and
# principals, the propose -> plan -> approve -> commit path with four eyes, refusals
# with the hub's message and exit 1, history/diff/export, rollback restoring the exact
# content, cross-tenant denial, audit export verified and a tampered copy caught, exit 3
# for an unreachable hub or an untrusted certificate, and the token never printed.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
[ -x "$hub" ] || { echo "$t_name: $hub is not built"; exit 1; }
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT XDG_CONFIG_HOME
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }
bash "$t_src/tests/integration/certs.sh" otherpki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }

umask 077
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/server.pem \
	--key pki/server.key --port-file hub.port
t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
port=$(cat hub.port)

# The admin's settings come from the default config file; relative paths are taken from
# the file's directory.
mkdir -p "$HOME/.config/fednsctl"
cp pki/ca.pem admin.token "$HOME/.config/fednsctl/"
cat >"$HOME/.config/fednsctl/config.json" <<EOF
{"server": "https://127.0.0.1:$port", "cacert": "ca.pem", "token_file": "admin.token"}
EOF

# run NAME CMD...: fednsctl's stdout, stderr and exit code into NAME.out/.err/.rc
run() {
	local name=$1
	shift
	"$ctl" "$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
}
rc_is() { [ "$(cat "$1.rc")" = "$2" ]; }
runas() { # runas WHO NAME ARGS...: run, with WHO's token file
	local who=$1
	shift
	run "$@" --token-file "$t_tmp/$who.token"
}
jget() { # jget FILE EXPR: a value from a JSON answer
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

run whoami whoami
t_check "whoami from the default config file" \
	eval 'rc_is whoami 0 && grep -q "^principal: admin$" whoami.out && grep -Eq "^\*  +admin$" whoami.out'

run tc1 tenant create acme
run tc2 tenant create other
t_check "tenant create prints the tenant" eval 'rc_is tc1 0 && rc_is tc2 0 && grep -q "^name: other$" tc2.out'
run tenants tenant list
t_check "tenant list shows both" eval 'rc_is tenants 0 && grep -q " acme " tenants.out && grep -q " other " tenants.out'

for p in alice bob carol dave; do
	"$ctl" principal create $p --token-out "$t_tmp/$p.token" >/dev/null ||
		t_fail "principal create $p"
done
t_check "a new token is written mode 0600" [ "$(stat -c %a alice.token)" = 600 ]
t_check "token files hold one fedns_ token" grep -Eq '^fedns_[A-Za-z0-9_-]{43}$' bob.token
run tokout principal token alice --token-out "$t_tmp/alice.token"
t_check "--token-out never overwrites a file" eval 'rc_is tokout 1 && grep -q "exists" tokout.err'
"$ctl" principal grant alice --tenant acme --role editor >/dev/null &&
	"$ctl" principal grant bob --tenant acme --role approver >/dev/null &&
	"$ctl" principal grant dave --tenant acme --role approver >/dev/null &&
	"$ctl" principal grant carol --tenant other --role admin >/dev/null
t_check "roles granted" [ $? = 0 ]
runas alice alice_who whoami
t_check "alice is an editor of acme" grep -Eq "^acme +editor$" alice_who.out

cat >ex.zone <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS ns1
ns1	IN A 192.0.2.53
mail	IN A 192.0.2.25
@	IN MX 10 mail
EOF
run zc zone create example.com --tenant acme --file ex.zone
t_check "zone create from a master file" eval 'rc_is zc 0 && grep -q "^serial: 1$" zc.out'
run zl zone list
t_check "zone list shows it" grep -Eq "^example\.com\. +acme +1 " zl.out

# propose -> plan -> approve -> commit
edits=(--add 'www 300 A 192.0.2.1' --add 'www 300 A 192.0.2.2' --replace '@ 3600 MX 20 mail')
runas alice p0 change propose example.com "${edits[@]}" --reason "web servers" --ticket CHG-1
t_check "replacing 1 of 4 records needs --allow-mass-delete (422, field named)" \
	eval 'rc_is p0 1 && grep -q "HTTP 422" p0.err && grep -q "field: allow_mass_delete" p0.err'
runas alice p1 change propose example.com "${edits[@]}" --reason "web servers" \
	--ticket CHG-1 --allow-mass-delete -o json
id=$(jget p1.out 'd["change"]["id"]')
t_check "propose answers the plan (-o json)" eval 'rc_is p1 0 &&
	[ "$(jget p1.out "d[\"plan\"][\"next_serial\"]")" = 2 ] &&
	[ "$(jget p1.out "d[\"change\"][\"state\"]")" = proposed ]'
run plan change plan "$id"
t_check "change plan ID shows the exact diff" eval 'rc_is plan 0 &&
	grep -Pq "^  \+www\.example\.com\.\t300\tIN\tA\t192\.0\.2\.1$" plan.out &&
	grep -Pq "^  \+www\.example\.com\.\t300\tIN\tA\t192\.0\.2\.2$" plan.out &&
	grep -Pq "^  -example\.com\.\t3600\tIN\tMX\t10 mail\.example\.com\.$" plan.out &&
	grep -Pq "^  \+example\.com\.\t3600\tIN\tMX\t20 mail\.example\.com\.$" plan.out'
runas alice self change approve "$id"
t_check "the author cannot approve (exit 1, the hub's reason)" \
	eval 'rc_is self 1 && grep -q "author" self.err && grep -q "HTTP 403" self.err'
runas bob ok change approve "$id" --comment "looks right"
t_check "another approver commits it" \
	eval 'rc_is ok 0 && grep -q "(state committed)" ok.out && grep -q "^  serial: 2$" ok.out'
run show change show "$id"
t_check "change show: committed, approved by bob with the comment" \
	eval 'rc_is show 0 && grep -q "principal=bob decision=approve comment=looks right" show.out'
run zs zone show example.com
t_check "the zone is at serial 2" grep -q "^serial: 2$" zs.out
run rl record list example.com
t_check "record list shows the new RRset" eval 'grep -Eq "^www\.example\.com\. +300 +A +192\.0\.2\.2$" rl.out'
run ex zone export example.com -o "$t_tmp/exported.zone"
t_check "the export is a valid master file at serial 2" \
	eval 'rc_is ex 0 && "$ctl" zone check exported.zone | grep -q "loaded serial 2"'
# the hub's digest of the version (a tree digest) is what fednsctl computes from the file
hubdig=$(sed -n 's/^digest: //p' zs.out)
t_check "zone show's digest is the export's tree digest (fednsctl zone digest --tree)" \
	eval '[ ${#hubdig} = 64 ] && [ "$("$ctl" zone digest --tree exported.zone)" = "$hubdig" ]'
# --zonemd appends an RFC 8976 ZONEMD that an independent implementation (dnspython) verifies
run exz zone export example.com --zonemd -o "$t_tmp/zonemd.zone"
t_check "zone export --zonemd carries a ZONEMD that dnspython verifies, equal to fednsctl's" \
	eval 'rc_is exz 0 && [ "$(grep -c ZONEMD zonemd.zone)" = 1 ] &&
	/usr/bin/python3 -c "
import dns.zone, sys
z = dns.zone.from_file(sys.argv[1], origin=\"example.com.\", relativize=False)
z.verify_digest()
print(z.find_rdataset(\"example.com.\", \"ZONEMD\")[0].digest.hex())" zonemd.zone >zmd.out &&
	[ "$(cat zmd.out)" = "$("$ctl" zone digest exported.zone)" ] &&
	diff <(grep -v ZONEMD zonemd.zone) exported.zone'

runas alice plan2 change plan example.com --add 'plan 300 A 192.0.2.7' --reason "plan it"
t_check "change plan ZONE EDITS shows the next serial and the diff" eval 'rc_is plan2 0 &&
	grep -q "^change [0-9]* planned on example.com. (state proposed)$" plan2.out &&
	grep -q "^  next_serial: 3$" plan2.out &&
	grep -Pq "^  \+plan\.example\.com\.\t300\tIN\tA\t192\.0\.2\.7$" plan2.out'

# a re-run with the same --idempotency-key gets the first answer; nothing happens twice
runas alice id1 change propose example.com --add 'idem 300 A 192.0.2.8' --reason once \
	--idempotency-key run-42 -o json
runas alice id2 change propose example.com --add 'idem 300 A 192.0.2.8' --reason once \
	--idempotency-key run-42 -o json
t_check "the same --idempotency-key twice: one change" eval 'rc_is id1 0 && rc_is id2 0 &&
	[ "$(jget id1.out "d[\"change\"][\"id\"]")" = "$(jget id2.out "d[\"change\"][\"id\"]")" ]'
runas alice id3 change propose example.com --add 'idem 300 A 192.0.2.9' --reason twice \
	--idempotency-key run-42
t_check "the same key with another body: exit 1, 409" eval 'rc_is id3 1 && grep -q "HTTP 409" id3.err'
run idbad whoami --idempotency-key 'a b'
t_check "an idempotency key with a space is a usage error" rc_is idbad 2

# refusals: the hub's message, field and exit 1
runas alice bad change propose example.com --add 'bad 300 A 1.2.3' --reason typo
t_check "an invalid address is refused with its field" \
	eval 'rc_is bad 1 && grep -q "edits\[0\]\.rdata\[0\]" bad.err && grep -q "1.2.3" bad.err'
runas alice stale change propose example.com --add 'x 300 A 192.0.2.9' --reason late \
	--base-serial 1
t_check "a proposal on a stale serial is refused (409)" \
	eval 'rc_is stale 1 && grep -q "HTTP 409" stale.err && grep -q "base_serial" stale.err'
runas alice apex change propose example.com --replace '@ 3600 NS ns2.example.net.' --reason ns
t_check "an apex NS change needs --allow-apex-ns" eval 'rc_is apex 1 && grep -qi "apex" apex.err'
runas carol viewer zone show example.com
t_check "another tenant's admin cannot read the zone (403)" \
	eval 'rc_is viewer 1 && grep -q "HTTP 403" viewer.err'
runas carol xwrite change propose example.com --add 'evil 300 A 192.0.2.66' --reason x \
	--base-serial 2
t_check "nor propose to it" eval 'rc_is xwrite 1 && grep -q "HTTP 403" xwrite.err'
runas alice editor_admin tenant create mine
t_check "an editor cannot create tenants" eval 'rc_is editor_admin 1 && grep -q "HTTP 403" editor_admin.err'

# reject and withdraw
runas alice p2 change propose example.com --delete 'mail A' --reason "drop mail" \
	--allow-mass-delete -o json
id2=$(jget p2.out 'd["change"]["id"]')
runas bob rej change reject "$id2" --comment no
t_check "reject" eval 'rc_is rej 0 && grep -q "(state rejected)" rej.out'
runas alice p3 change propose example.com --add 'tmp 60 TXT "a b"' --reason try -o json
id3=$(jget p3.out 'd["change"]["id"]')
runas alice wd change withdraw "$id3"
t_check "withdraw" eval 'rc_is wd 0 && grep -q "(state withdrawn)" wd.out'
run cl change list --zone example.com
t_check "change list shows every state" eval 'rc_is cl 0 && grep -q " committed " cl.out &&
	grep -q " rejected " cl.out && grep -q " withdrawn " cl.out'

# two approvals required: one is not enough
run pol zone policy example.com --approvals 2
t_check "zone policy --approvals 2" eval 'rc_is pol 0 && grep -q "^approvals_required: 2$" pol.out'
runas alice p4 change propose example.com --add 'two 300 A 192.0.2.44' --reason "two" -o json
id4=$(jget p4.out 'd["change"]["id"]')
runas bob a1 change approve "$id4"
t_check "one approval of two leaves it proposed" eval 'rc_is a1 0 && grep -q "(state proposed)" a1.out'
runas dave a2 change approve "$id4"
t_check "the second approver commits it (serial 3)" \
	eval 'rc_is a2 0 && grep -q "(state committed)" a2.out && grep -q "^  serial: 3$" a2.out'

# history, diff, rollback to the original content
run hist zone history example.com
t_check "zone history lists 1, 2, 3 (current)" \
	eval 'grep -qx 1 hist.out && grep -qx 2 hist.out && grep -qx "3  (current)" hist.out'
run diff zone diff example.com --from 1 --to 3
t_check "zone diff 1..3 shows both changes" eval 'rc_is diff 0 &&
	grep -Pq "^\+www\.example\.com\.\t300\tIN\tA\t192\.0\.2\.1$" diff.out &&
	grep -Pq "^\+two\.example\.com\.\t300\tIN\tA\t192\.0\.2\.44$" diff.out'
"$ctl" zone policy example.com --approvals 1 >/dev/null
runas alice rb zone rollback example.com --to 1 --reason "back to the start" -o json
idr=$(jget rb.out 'd["change"]["id"]')
runas bob rba change approve "$idr"
t_check "the rollback is approved like any change" eval 'rc_is rba 0 && grep -q "(state committed)" rba.out'
"$ctl" zone export example.com --serial 1 -o v1.zone
"$ctl" zone export example.com -o now.zone
# the same records but for the SOA serial
strip() { "$ctl" zone print "$1" | grep -Pv "\tSOA\t"; }
t_check "rollback restores version 1's content exactly" \
	eval '[ -s v1.zone ] && diff <(strip v1.zone) <(strip now.zone)'

# principals: the list with roles, and disabling one (its token stops working at once)
run pl principal list
t_check "principal list shows alice's role and nobody disabled" \
	eval 'rc_is pl 0 && grep -Eq "^[0-9]+ +alice +person +false +\[\{\"tenant\":\"acme\",\"role\":\"editor\"\}\]$" pl.out'
runas alice pl_alice principal list
t_check "an editor cannot list principals" eval 'rc_is pl_alice 1 && grep -q "HTTP 403" pl_alice.err'
runas dave dave_ok whoami
run pd principal disable dave
t_check "principal disable says so" \
	eval 'rc_is dave_ok 0 && rc_is pd 0 && grep -q "disabled dave" pd.out'
runas dave dave_no whoami
t_check "dave's token no longer works" eval 'rc_is dave_no 1 && grep -q "HTTP 401" dave_no.err'
run pl2 principal list -o json
t_check "the list shows dave disabled" \
	eval '[ "$(jget pl2.out "[p[\"disabled\"] for p in d[\"principals\"] if p[\"name\"] == \"dave\"]")" = "[True]" ]'

# deleting a zone is a change: proposed by an editor, approved by another
run gc zone create gone.test --tenant acme --primary-ns ns1.example.net. \
	--hostmaster hostmaster.example.net.
runas alice gd zone delete gone.test
gid=$(sed -n 's/^approve with: fednsctl change approve \([0-9]*\) .*/\1/p' gd.out)
t_check "zone delete proposes the deletion and says how to approve it" \
	eval 'rc_is gc 0 && rc_is gd 0 && grep -q "proposed (zone deletion) on gone.test. (state proposed)" gd.out &&
	grep -q "warning: zone gone.test. will be deleted" gd.out && [ -n "$gid" ]'
runas alice gself change approve "$gid"
runas bob gok change approve "$gid"
t_check "its author cannot approve it; bob's approval deletes the zone" \
	eval 'rc_is gself 1 && grep -q "HTTP 403" gself.err && rc_is gok 0 && grep -q "(state committed)" gok.out'
run gshow zone show gone.test
run gl zone list
t_check "the deleted zone reads 404 and is gone from the list" \
	eval 'rc_is gshow 1 && grep -q "HTTP 404" gshow.err && rc_is gl 0 && ! grep -q "^gone.test" gl.out'

# audit: export verified as written; a tampered copy names the record
run ae audit export -o "$t_tmp/audit.json"
t_check "audit export writes and verifies the bundle" \
	eval 'rc_is ae 0 && grep -q "^audit chain OK: " ae.out'
HOME=/nonexistent run av audit verify audit.json
t_check "audit verify accepts it offline (no config, no hub needed)" rc_is av 0
seq=$(/usr/bin/python3 - <<'PY'
import json
d = json.load(open("audit.json"))
r = d["records"][len(d["records"]) // 2]
r["outcome"] = "ok" if r["outcome"] != "ok" else "denied"
json.dump(d, open("audit-tampered.json", "w"))
print(r["seq"])
PY
)
run tv audit verify audit-tampered.json
t_check "a tampered export fails at seq $seq" \
	eval 'rc_is tv 1 && grep -q "^audit chain broken at seq $seq: hash does not match" tv.err'
run al audit list --limit 5
t_check "audit list shows the first records" eval 'rc_is al 0 && grep -Eq "^1 +.* admin +principal.bootstrap" al.out'
t_check "refusals are in the audit log" grep -q '"outcome":"denied"' audit.json
runas alice al_alice audit list
t_check "an editor cannot read the audit log" eval 'rc_is al_alice 1 && grep -q "HTTP 403" al_alice.err'

# transport failures: exit 3; settings errors: exit 2
run untrusted whoami --cacert "$t_tmp/otherpki/ca.pem"
t_check "a hub certificate from another CA: exit 3, TLS named" \
	eval 'rc_is untrusted 3 && grep -q "TLS" untrusted.err'
dead=$(t_port)
run unreach whoami --server "https://127.0.0.1:$dead"
t_check "nothing listening: exit 3" rc_is unreach 3
run plain whoami --server "http://127.0.0.1:$port"
t_check "an http:// server is refused: exit 2" rc_is plain 2
FEDNSCTL_CONFIG="$t_tmp/none.json" run notok whoami
t_check "a named config file that is missing: exit 2, named" \
	eval 'rc_is notok 2 && grep -q "none.json" notok.err'
run argtok whoami --token fedns_x
t_check "no --token option (argv is visible to everyone): exit 2" rc_is argtok 2
run mtls whoami --cert "$t_tmp/pki/client.pem" --key "$t_tmp/pki/client.key"
t_check "a client certificate can be presented" rc_is mtls 0

# an answer lost after the request was sent: one retry with the same idempotency key
cat >flaky.py <<'PY'
import http.server, json, ssl, sys
seen = []
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen.append(self.headers.get("Idempotency-Key"))
        with open("flaky.keys", "w") as f:
            f.write("\n".join(map(str, seen)) + "\n")
        if len(seen) == 1:
            self.close_connection = True  # drop it without an answer
            return
        b = json.dumps({"id": 1, "name": "t"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("pki/server.pem", "pki/server.key")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open("flaky.port", "w").write(str(s.server_address[1]))
s.serve_forever()
PY
t_start flaky /usr/bin/python3 flaky.py
t_wait 10 test -s flaky.port
run retry tenant create t --server "https://127.0.0.1:$(cat flaky.port)" -v
t_check "a dropped answer is retried once and succeeds" eval 'rc_is retry 0 && grep -q "retrying once" retry.err'
t_check "both attempts carried the same idempotency key" eval '[ "$(wc -l <flaky.keys)" = 2 ] &&
	[ "$(sort -u flaky.keys | wc -l)" = 1 ] && grep -q "^fednsctl-[0-9a-f]\{32\}$" flaky.keys'
t_stop flaky

# the token is never printed, not even with -v
"$ctl" whoami -v >v.out 2>&1
"$ctl" change list -v -o json >>v.out 2>&1
run badtok whoami --token-file "$t_tmp/home/none"
leak=0
for f in v.out *.err; do
	grep -qF "$(cat admin.token)" "$f" && leak=1
	grep -qF "$(cat alice.token)" "$f" && leak=1
done
t_check "-v shows the requests" grep -q "> GET https://127.0.0.1:$port/api/v1/whoami" v.out
t_check "no token in any output" [ "$leak" = 0 ]

t_done
