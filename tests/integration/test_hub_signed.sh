#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signed requests end to end (RFC 9421, DESIGN.md §7): a principal with no token and a
# P-256 key made by openssl, registered by the admin (key id checked against openssl's own
# SHA-256 of the key), approves a change through fednsctl --sign-key and it commits; the
# audit names the signer. Requests captured on the wire and sent again with curl: a valid
# capture is accepted once and its replay refused 401; a changed body (with or without a
# recomputed Content-Digest) is refused 401; a key nobody registered is refused 401.
# Signed approvals: fednsctl's approval carries dave's signature over the change, which
# the audit export holds with his key (verified by fednsctl audit verify and by openssl);
# a tampered one fails the verify naming the change; bad change signatures are 400.
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
[ -x "$hub" ] || { echo "$t_name: $hub is not built"; exit 1; }
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT FEDNSCTL_SIGN_KEY \
	XDG_CONFIG_HOME
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }

umask 077
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/server.pem \
	--key pki/server.key --port-file hub.port
t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
port=$(cat hub.port)
url=https://127.0.0.1:$port

cat >admin.json <<EOF
{"server": "$url", "cacert": "$t_tmp/pki/ca.pem", "token_file": "$t_tmp/admin.token"}
EOF
# dave's settings hold no token at all: only the signing key can authenticate him
cat >dave.json <<EOF
{"server": "$url", "cacert": "$t_tmp/pki/ca.pem"}
EOF

run() { # run NAME ARGS...: fednsctl's stdout, stderr and exit code into NAME.out/.err/.rc
	local name=$1
	shift
	"$ctl" "$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
}
rc_is() { [ "$(cat "$1.rc")" = "$2" ]; }
admin() { run "$@" --config admin.json; }
jget() { # jget FILE EXPR: a value from a JSON answer
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

admin tc tenant create acme
"$ctl" principal create alice --token-out "$t_tmp/alice.token" --config admin.json >/dev/null &&
	"$ctl" principal create dave --config admin.json >/dev/null 2>&1 &&
	"$ctl" principal grant alice --tenant acme --role editor --config admin.json >/dev/null &&
	"$ctl" principal grant dave --tenant acme --role approver --config admin.json >/dev/null
t_check "tenant, alice (editor) and dave (approver) set up" [ $? = 0 ]

# dave's key pair, made by openssl; the hub derives the key id from the public key
openssl ecparam -name prime256v1 -genkey -noout -out dave.key 2>/dev/null &&
	openssl ec -in dave.key -pubout -out dave.pub 2>/dev/null
t_check "openssl made a P-256 key pair" grep -q "BEGIN PUBLIC KEY" dave.pub
want_kid=$(openssl pkey -pubin -in dave.pub -outform DER | openssl dgst -sha256 -binary |
	base64 -w0 | tr '+/' '-_' | tr -d '=')

run nokey whoami --config dave.json
t_check "without a key or token dave's settings are refused (usage, exit 2)" \
	eval 'rc_is nokey 2 && grep -q "no token" nokey.err && grep -q -- "--sign-key" nokey.err'
run early whoami --config dave.json --sign-key dave.key
t_check "a key not yet registered is refused (401, unknown keyid)" \
	eval 'rc_is early 1 && grep -q "HTTP 401" early.err && grep -q "unknown keyid" early.err'

admin ka principal key-add dave --pem dave.pub -o json
t_check "key-add registers dave's key under the key id openssl computes" \
	eval 'rc_is ka 0 && [ "$(jget ka.out "d[\"key_id\"]")" = "$want_kid" ] &&
	[ "$(jget ka.out "d[\"principal\"]")" = dave ]'
admin ka2 principal key-add alice --pem dave.key
t_check "the same key again (even from the private key file, for alice) is 409" \
	eval 'rc_is ka2 1 && grep -q "HTTP 409" ka2.err && grep -q "already registered" ka2.err'
run ka3 principal key-add dave --pem dave.pub --config dave.json --sign-key dave.key
t_check "dave cannot register keys himself (403)" \
	eval 'rc_is ka3 1 && grep -q "HTTP 403" ka3.err'

run who whoami --config dave.json --sign-key dave.key
t_check "a signed whoami is dave" eval 'rc_is who 0 && grep -q "^principal: dave$" who.out'
# the key may also come from the config file
sed "s|}\$|, \"sign_key\": \"dave.key\"}|" dave.json >dave-key.json
run who2 whoami --config dave-key.json
t_check "sign_key in the config file signs too" \
	eval 'rc_is who2 0 && grep -q "^principal: dave$" who2.out'

cat >ex.zone <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS ns1
ns1	IN A 192.0.2.53
EOF
admin zc zone create example.com --tenant acme --file ex.zone
t_check "zone created" rc_is zc 0
run p1 change propose example.com --add 'www 300 A 192.0.2.1' --reason "web" \
	--token-file alice.token --config dave.json -o json
id=$(jget p1.out 'd["change"]["id"]')
run ap change approve "$id" --comment "signed by dave" --config dave.json --sign-key dave.key
t_check "dave approves with a signature and no token: the change commits" \
	eval 'rc_is ap 0 && grep -q "(state committed)" ap.out && grep -q "^  serial: 2$" ap.out'
admin al audit list --limit 1000 -o json
t_check "the audit record of the approval names dave" /usr/bin/python3 -c '
import json, sys
recs = json.load(open("al.out"))["records"]
ok = [r for r in recs if r["action"] == "change.approve" and r["principal"] == "dave"
      and r["outcome"] == "ok"]
keys = [r for r in recs if r["action"] == "principal.key" and r["principal"] == "admin"
        and r["target"] == "principal:dave/key:" + sys.argv[1] and r["outcome"] == "ok"]
sys.exit(0 if len(ok) == 1 and len(keys) == 1 else 1)' "$want_kid"

# --- captured requests, replayed with curl ------------------------------------------
# A listener with the hub's certificate records what fednsctl sends (and answers 200), so
# the captured requests never reached the hub.
cat >capture.py <<'PY'
import json, ssl, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
n = [0]
class H(BaseHTTPRequestHandler):
    def handle_one(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        n[0] += 1
        json.dump({"method": self.command, "path": self.path,
                   "headers": dict(self.headers.items()), "body": body.decode()},
                  open("captured-%d.json" % n[0], "w"))
        out = b'{"principal": {"name": "x"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = handle_one
    def log_message(self, *a):
        pass
srv = HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open("capture.port.tmp", "w").write(str(srv.server_address[1]))
import os; os.rename("capture.port.tmp", "capture.port")
srv.serve_forever()
PY
t_start capture /usr/bin/python3 capture.py pki/server.pem pki/server.key
t_wait 10 test -s capture.port || { cat "$t_tmp/capture.log"; exit 1; }
curl_ca="https://127.0.0.1:$(cat capture.port)"
run c1 whoami --server "$curl_ca" --config dave.json --sign-key dave.key
run p2 change propose example.com --add 'www2 300 A 192.0.2.2' --reason "second" \
	--token-file alice.token --config dave.json -o json
id2=$(jget p2.out 'd["change"]["id"]')
run c2 change reject "$id2" --comment "no" --server "$curl_ca" --config dave.json \
	--sign-key dave.key
t_check "two signed requests captured" eval 'test -s captured-1.json && test -s captured-2.json'
t_check "the capture holds a signature and no token" /usr/bin/python3 -c '
import json
h = json.load(open("captured-1.json"))["headers"]
assert "Authorization" not in h and h["Signature-Input"].startswith("sig1=(")
assert h["Content-Digest"].startswith("sha-256=:") and h["Date"].endswith(" GMT")'

# replay FILE NAME [BODY [DIGEST]]: sends the captured request to the hub with curl, the
# same headers (but Host), optionally another body and Content-Digest; NAME.code = status
replay() {
	/usr/bin/python3 - "$1" "$2" "${3-}" "${4-}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
name, body, digest = sys.argv[2], sys.argv[3], sys.argv[4]
h = {k: v for k, v in c["headers"].items() if k.lower() not in ("host", "content-length")}
if digest:
    h["Content-Digest"] = digest
open(name + ".hdr", "w").write("".join("%s: %s\n" % kv for kv in h.items()))
open(name + ".body", "w").write(body if body else c["body"])
open(name + ".req", "w").write("%s %s\n" % (c["method"], c["path"]))
PY
	read -r method path <"$2.req"
	local data=()
	[ "$method" = POST ] && data=(--data-binary "@$2.body")
	curl -s -o "$2.out" -w '%{http_code}' --cacert pki/ca.pem -X "$method" -H "@$2.hdr" \
		"${data[@]}" "$url$path" >"$2.code"
}
code_is() { [ "$(cat "$1.code")" = "$2" ]; }

replay captured-1.json r1
t_check "the captured whoami, sent once with curl, is accepted as dave" \
	eval 'code_is r1 200 && [ "$(jget r1.out "d[\"principal\"][\"name\"]")" = dave ]'
replay captured-1.json r2
t_check "the same request again is refused 401 (nonce already used)" \
	eval 'code_is r2 401 && grep -q "nonce already used" r2.out'

replay captured-2.json t1 '{"comment":"yes"}'
t_check "a changed body is refused 401 (Content-Digest does not match)" \
	eval 'code_is t1 401 && grep -q "Content-Digest does not match the body" t1.out'
dig=$(printf '%s' '{"comment":"yes"}' | openssl dgst -sha256 -binary | base64 -w0)
replay captured-2.json t2 '{"comment":"yes"}' "sha-256=:$dig:"
t_check "a changed body with its own Content-Digest is refused 401 (signature)" \
	eval 'code_is t2 401 && grep -q "the signature does not verify" t2.out'
replay captured-2.json t3
t_check "the untouched capture is still good: the rejection goes through as dave" \
	eval 'code_is t3 200 && [ "$(jget t3.out "d[\"change\"][\"state\"]")" = rejected ]'

# a key nobody registered
openssl ecparam -name prime256v1 -genkey -noout -out mallory.key 2>/dev/null
run mal change approve "$id2" --config dave.json --sign-key mallory.key
t_check "a request signed by an unregistered key is refused 401" \
	eval 'rc_is mal 1 && grep -q "HTTP 401" mal.err && grep -q "unknown keyid" mal.err'
run bad whoami --config dave.json --sign-key dave.pub
t_check "--sign-key with a public key file is a clear usage error" \
	eval 'rc_is bad 2 && grep -q "signing key dave.pub" bad.err'

admin al2 audit list --limit 1000 -o json
t_check "the rejection replayed with curl is audited as dave's" /usr/bin/python3 -c '
import json
recs = json.load(open("al2.out"))["records"]
assert any(r["action"] == "change.reject" and r["principal"] == "dave" and
           r["outcome"] == "ok" for r in recs)'
run av audit export -o "$t_tmp/audit.json" --config admin.json
t_check "the audit chain verifies" eval 'rc_is av 0 && grep -q "^audit chain OK: " av.out'

# --- signed approvals (DESIGN.md §7): the approver signs the change itself ---------
# sigtool.py: ECDSA P-256 with openssl, raw r||s <-> DER, and a request signed per RFC
# 9421 the way the hub verifies it, so bad change signatures can be sent on a good request
cat >sigtool.py <<'PY'
import base64, email.utils, hashlib, http.client, json, os, ssl, subprocess, sys, time
def der_to_raw(der):
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n]
        out += v.lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out
def raw_to_der(raw):
    ints = b""
    for v in (raw[:32], raw[32:]):
        v = v.lstrip(b"\0") or b"\0"
        if v[0] & 0x80:
            v = b"\0" + v
        ints += b"\x02" + bytes([len(v)]) + v
    return b"\x30" + bytes([len(ints)]) + ints
def sign(keyfile, data):
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", keyfile], input=data,
                         capture_output=True, check=True).stdout
    return der_to_raw(der)
def approve_text(cid, diff_lines):
    diff = "".join(l + "\n" for l in diff_lines)
    return "fedns-approve-v1\n%d\n%s\n" % (cid, hashlib.sha256(diff.encode()).hexdigest())
cmd = sys.argv[1]
if cmd == "approve":  # approve PORT CA KEY KEYID CHANGE_ID SIGKEY DIFFJSON [wrongdigest]
    port, ca, key, kid, cid, sigkey, diffjson = sys.argv[2:9]
    lines = json.load(open(diffjson))["diff"]
    text = approve_text(int(cid), lines)
    if len(sys.argv) > 9:
        text = "fedns-approve-v1\n%s\n%s\n" % (cid, "0" * 64)
    csig = base64.b64encode(sign(sigkey, text.encode())).decode()
    body = json.dumps({"comment": "signed by hand", "change_signature": csig}).encode()
    path = "/api/v1/changes/%s/approve" % cid
    digest = "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body).digest()).decode()
    date = email.utils.formatdate(usegmt=True)
    params = ('("@method" "@path" "content-digest" "date");created=%d;keyid="%s";'
              'alg="ecdsa-p256-sha256";nonce="%s"' % (int(time.time()), kid,
                                                     base64.urlsafe_b64encode(os.urandom(12)).decode()))
    base = ('"@method": POST\n"@path": %s\n"content-digest": %s\n"date": %s\n'
            '"@signature-params": %s' % (path, digest, date, params))
    sig = base64.b64encode(sign(key, base.encode())).decode()
    c = http.client.HTTPSConnection("127.0.0.1", int(port),
                                    context=ssl.create_default_context(cafile=ca))
    c.request("POST", path, body, {"Content-Type": "application/json", "Content-Digest": digest,
                                   "Date": date, "Signature-Input": "sig1=" + params,
                                   "Signature": "sig1=:%s:" % sig})
    r = c.getresponse()
    print(r.status)
    print(r.read().decode())
elif cmd == "verify":  # verify BUNDLE CHANGE_ID PUBKEY: openssl checks the approval
    d = json.load(open(sys.argv[2]))
    a = [x for x in d["approvals"] if x["change"] == int(sys.argv[3]) and x["signature"]]
    assert len(a) == 1, a
    a = a[0]
    text = "fedns-approve-v1\n%d\n%s\n" % (a["change"], a["diff_sha256"])
    assert hashlib.sha256(text.encode()).hexdigest() == a["signed_sha256"]
    open("approval.txt", "w").write(text)
    open("approval.sig", "wb").write(raw_to_der(base64.b64decode(a["signature"])))
    spki = base64.b64decode(d["keys"][a["key_id"]])
    assert base64.urlsafe_b64encode(hashlib.sha256(spki).digest()).decode().rstrip("=") == a["key_id"]
    subprocess.run(["openssl", "dgst", "-sha256", "-verify", sys.argv[4], "-signature",
                    "approval.sig", "approval.txt"], check=True, capture_output=True)
    print(a["approver"], a["key_id"], a["diff_sha256"])
elif cmd == "tamper":  # tamper BUNDLE OUT CHANGE_ID: flips one byte of that signature
    d = json.load(open(sys.argv[2]))
    for a in d["approvals"]:
        if a["change"] == int(sys.argv[4]) and a["signature"]:
            raw = bytearray(base64.b64decode(a["signature"]))
            raw[40] ^= 1
            a["signature"] = base64.b64encode(bytes(raw)).decode()
    json.dump(d, open(sys.argv[3], "w"))
PY

run sa1 audit export -o "$t_tmp/signed.json" --config admin.json
t_check "fednsctl approve --sign-key signed the change: the export verifies it" \
	eval 'rc_is sa1 0 && grep -q "^approval signatures OK: 1 verified$" sa1.out'
t_check "openssl verifies dave's approval signature in the export (key id, text digest)" \
	eval '/usr/bin/python3 sigtool.py verify signed.json "$id" dave.pub >ov.out 2>&1 &&
	grep -q "^dave $want_kid " ov.out'
t_check "the export's approval of change $id names dave, his key and the diff digest" \
	/usr/bin/python3 -c '
import json, sys
d = json.load(open("signed.json"))
a = [x for x in d["approvals"] if x["change"] == int(sys.argv[1])]
assert len(a) == 1 and a[0]["approver"] == "dave" and a[0]["key_id"] == sys.argv[2], a
assert len(a[0]["diff_sha256"]) == 64 and list(d["keys"]) == [sys.argv[2]], d["keys"]' "$id" "$want_kid"
HOME=/nonexistent run sv1 audit verify signed.json
t_check "audit verify checks the approval signature offline" \
	eval 'rc_is sv1 0 && grep -q "^approval signatures OK: 1 verified$" sv1.out'
/usr/bin/python3 sigtool.py tamper signed.json signed-tampered.json "$id"
run sv2 audit verify signed-tampered.json
t_check "a tampered approval signature fails audit verify, naming change $id" \
	eval 'rc_is sv2 1 && grep -q "^approval signature broken for change $id: approver dave: the signature does not verify" sv2.err'

# bad change signatures on well-signed requests are refused 400 and decide nothing
run p3 change propose example.com --add 'www3 300 A 192.0.2.3' --reason "third" \
	--token-file alice.token --config dave.json -o json
id3=$(jget p3.out 'd["change"]["id"]')
admin s3 change show "$id3" -o json
/usr/bin/python3 sigtool.py approve "$port" pki/ca.pem dave.key "$want_kid" "$id3" \
	mallory.key s3.out >bad1.out 2>&1
t_check "a change_signature by another key is refused 400" \
	eval '[ "$(head -1 bad1.out)" = 400 ] && grep -q "invalid_signature" bad1.out &&
	grep -q "does not verify with key $want_kid" bad1.out'
/usr/bin/python3 sigtool.py approve "$port" pki/ca.pem dave.key "$want_kid" "$id3" \
	dave.key s3.out wrong >bad2.out 2>&1
t_check "a change_signature over another diff digest is refused 400" \
	eval '[ "$(head -1 bad2.out)" = 400 ] && grep -q "invalid_signature" bad2.out'
curl -s -o bad3.out -w '%{http_code}' --cacert pki/ca.pem -H "Authorization: Bearer $(cat admin.token)" \
	-H 'Content-Type: application/json' -d '{"change_signature": "AAAA"}' \
	"$url/api/v1/changes/$id3/approve" >bad3.code
t_check "a change_signature on a bearer-token request is refused 400" \
	eval '[ "$(cat bad3.code)" = 400 ] && grep -q "needs the approval request itself signed" bad3.out'
admin s3b change show "$id3" -o json
t_check "the refused approvals decided nothing" \
	eval '[ "$(jget s3b.out "d[\"state\"], d[\"decisions\"]")" = "('"'"'proposed'"'"', [])" ]'
/usr/bin/python3 sigtool.py approve "$port" pki/ca.pem dave.key "$want_kid" "$id3" \
	dave.key s3.out >good.out 2>&1
t_check "the same request with dave's own change signature commits" \
	eval '[ "$(head -1 good.out)" = 200 ] && grep -q "\"committed\":true" good.out'
run sa2 audit export -o "$t_tmp/signed2.json" --config admin.json
t_check "both signed approvals verify in the new export" \
	eval 'rc_is sa2 0 && grep -q "^approval signatures OK: 2 verified$" sa2.out &&
	/usr/bin/python3 sigtool.py verify signed2.json "$id3" dave.pub >/dev/null 2>&1'

# disabling dave: his key stops working at once
admin dis principal disable dave
run after whoami --config dave.json --sign-key dave.key
t_check "once dave is disabled his signed requests are refused (401, disabled)" \
	eval 'rc_is dis 0 && rc_is after 1 && grep -q "HTTP 401" after.err && grep -q "disabled" after.err'

t_stop hub
t_done
