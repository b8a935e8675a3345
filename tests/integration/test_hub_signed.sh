#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signed requests end to end (RFC 9421, DESIGN.md §7): a principal with no token and a
# P-256 key made by openssl, registered by the admin (key id checked against openssl's own
# SHA-256 of the key), approves a change through fednsctl --sign-key and it commits; the
# audit names the signer. Requests captured on the wire and sent again with curl: a valid
# capture is accepted once and its replay refused 401; a changed body (with or without a
# recomputed Content-Digest) is refused 401; a key nobody registered is refused 401.
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

# disabling dave: his key stops working at once
admin dis principal disable dave
run after whoami --config dave.json --sign-key dave.key
t_check "once dave is disabled his signed requests are refused (401, disabled)" \
	eval 'rc_is dis 0 && rc_is after 1 && grep -q "HTTP 401" after.err && grep -q "disabled" after.err'

t_stop hub
t_done
