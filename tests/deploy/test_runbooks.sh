#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The fedns commands of docs/operations.md, run as written there (on loopback, without
# Kubernetes): zone rollback with four eyes, online backup with its offline restore check,
# restore over a stopped hub and the audit chain verified after it, a signing key made
# with openssl loaded by fedns, certificate checks, TSIG rotation on a spoke (both keys,
# then the new one alone), and the divergence commands (probe digest against the hub's
# export).
. "$(dirname "$0")/lib.sh"

hub=$t_build/hub/fedns-hub
ctl=$t_build/cli/fednsctl
spoke=$t_build/spoke/fedns-spoke
for bin in "$hub" "$ctl" "$spoke"; do
	[ -x "$bin" ] || { echo "$bin is not built"; exit 1; }
done
for tool in openssl sqlite3 dig tsig-keygen sha256sum; do
	command -v "$tool" >/dev/null || { echo "$tool not found"; exit 1; }
done
cd "$t_tmp"
export HOME=$t_tmp/home
mkdir -p "$HOME"
unset FEDNSCTL_SERVER FEDNSCTL_TOKEN FEDNSCTL_CONFIG FEDNSCTL_CACERT FEDNSCTL_SIGN_KEY XDG_CONFIG_HOME
quiet() { "$@" >/dev/null 2>&1; }
not() { ! "$@"; }
json_id() { /usr/bin/python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
    print(d.get("change", d)["id"])
except Exception: pass'; }

"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east >/dev/null || exit 1
umask 077
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>/dev/null || exit 1
start_hub() {
	rm -f hub.port
	t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/hub.pem \
		--key pki/hub.key --port-file hub.port
	t_wait 10 test -s hub.port || { cat hub.log; exit 1; }
	export FEDNSCTL_SERVER=https://127.0.0.1:$(cat hub.port) FEDNSCTL_CACERT=$t_tmp/pki/ca.pem
}
start_hub
# fednsctl's global flags follow the command
f() { "$ctl" "$@" --token-file "$t_tmp/admin.token"; }
as() { local who=$1; shift; "$ctl" "$@" --token-file "$t_tmp/$who.token"; }

quiet f tenant create acme
for p in alice bob; do quiet f principal create $p --token-out "$t_tmp/$p.token"; done
quiet f principal grant alice --tenant acme --role editor
quiet f principal grant bob --tenant acme --role approver
cat >ex.zone <<'Z'
$TTL 300
example.com. IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
Z
for i in $(seq 1 15); do echo "host$i IN A 192.0.2.$((100 + i))"; done >>ex.zone
t_check "setup: a zone" quiet f zone create example.com --tenant acme --file ex.zone
id=$(as alice change propose example.com --replace 'www 300 A 192.0.2.66' --reason "bad change" -o json |
	json_id)
t_check "setup: a bad change committed (serial 2)" quiet as bob change approve "$id"

# 2.1 rollback, as written
f zone history example.com >history.out 2>&1
t_check "runbook 2.1: fednsctl zone history" grep -qw 2 history.out
f zone diff example.com --from 1 --to 2 >diff.out 2>&1
t_check "runbook 2.1: fednsctl zone diff --from 1 --to 2" grep -q '192.0.2.66' diff.out
rb=$(as alice zone rollback example.com --to 1 --reason "INC-1234: revert 2" -o json |
	json_id)
t_check "runbook 2.1: fednsctl zone rollback proposes a change" [ -n "$rb" ]
as alice change show "$rb" >show.out 2>&1
t_check "runbook 2.1: fednsctl change show has the inverse diff" grep -q '192.0.2.10' show.out
t_check "runbook 2.1: the author cannot approve the rollback" sh -c "! '$ctl' change approve $rb --token-file alice.token >/dev/null 2>&1"
t_check "runbook 2.1: fednsctl change approve --token-file (a second person) commits it" \
	quiet "$ctl" change approve "$rb" --token-file "$t_tmp/bob.token"
f zone export example.com -o now.zone >/dev/null
f zone show example.com >zshow.out
t_check "runbook 2.1: fednsctl zone show: serial 3, content of 1" \
	sh -c "grep -Eq 'serial:? +3' zshow.out && grep -q 192.0.2.10 now.zone && ! grep -q 192.0.2.66 now.zone"

# 3.1 online backup, checked offline
mkdir -p backup
NAME=hub-$(date -u +%Y%m%dT%H%M%SZ).db
t_check "runbook 3.1: fedns-hub backup while the hub serves" \
	quiet "$hub" backup --store hub.db --to backup/$NAME
t_check "runbook 3.1: fedns-hub restore --from into a scratch store checks the copy" \
	sh -c "mkdir -p check && '$hub' restore --from backup/$NAME --store check/hub.db >/dev/null 2>&1 && rm -r check"
t_check "runbook 3.1: sha256sum of the backup" sh -c "cd backup && sha256sum $NAME >$NAME.sha256"

# a change after the backup is what a disaster loses
id2=$(as alice change propose example.com --add 'late 300 A 192.0.2.77' --reason after -o json |
	json_id)
quiet as bob change approve "$id2"

# 3.2 restore over the stopped hub
t_stop hub
t_check "runbook 3.2: sha256sum -c of the backup" sh -c "cd backup && sha256sum -c $NAME.sha256 >/dev/null"
t_check "runbook 3.2: fedns-hub restore --force over the stopped hub's store" \
	quiet "$hub" restore --from backup/$NAME --store hub.db --force
start_hub
t_check "runbook 3.2: fednsctl audit export after the restore" quiet f audit export -o after.json
t_check "runbook 3.2: fednsctl audit verify: the chain is intact" quiet f audit verify after.json
f zone show example.com >zshow2.out
f zone export example.com >restored.zone
t_check "runbook 3.2: the store is the backup's: serial 3, the later change gone" \
	sh -c "grep -Eq 'serial:? +3' zshow2.out && grep -q 192.0.2.10 restored.zone && ! grep -q late restored.zone"
f zone list >zlist.out
t_check "runbook 3.2: fednsctl zone list" grep -q example.com zlist.out
cp after.json tampered.json && sed -i '0,/"principal":"admin"/s//"principal":"mallory"/' tampered.json
t_check "audit verify refuses a tampered export (the check can fail)" \
	sh -c "! '$ctl' audit verify tampered.json >/dev/null 2>&1"

# compliance.md: the evidence pack's fednsctl commands (those without [federation])
mkdir -p evidence
ev() { # file command...: stdout to evidence/file
	local out=$1
	shift
	f "$@" >"evidence/$out" 2>"evidence/$out.err"
}
t_check "evidence: audit export" ev export.out audit export -o "$t_tmp/evidence/audit.json"
t_check "evidence: audit verify of the export" ev audit-verify.txt audit verify "$t_tmp/evidence/audit.json"
t_check "evidence: audit verify says the chain is OK" grep -q '^audit chain OK' evidence/audit-verify.txt
t_check "evidence: principal list -o json lists the approver" \
	sh -c "$(declare -f f ev); ctl='$ctl' t_tmp='$t_tmp'; ev principals.json principal list -o json && grep -q '\"bob\"' evidence/principals.json"
t_check "evidence: tenant list -o json" ev tenants.json tenant list -o json
t_check "evidence: zone list -o json" ev zones.json zone list -o json
t_check "evidence: change list -o json holds the rollback" \
	sh -c "$(declare -f f ev); ctl='$ctl' t_tmp='$t_tmp'; ev changes.json change list --limit 1000 -o json && grep -q 'INC-1234' evidence/changes.json"
t_check "evidence: zone policy" ev policy.txt zone policy example.com
t_check "evidence: change show -o json of a stored change (diff and approvals)" ev change.json change show "$rb" -o json
t_check "evidence: zone placement" ev placement.txt zone placement example.com
as alice change approve "$id2" >/dev/null 2>&1
f audit list --limit 1000 -o json >evidence/audit-list.json 2>&1
t_check "evidence: audit list -o json shows denied attempts (the author's approval)" \
	/usr/bin/python3 -c "import json,sys; d=json.load(open('$t_tmp/evidence/audit-list.json')); sys.exit(not [r for r in d['records'] if r['outcome']=='denied'])"
as alice change propose example.com --add 'bad 300 A 1.2.3' --reason test >di2.out 2>&1
t_check "evidence DI-2: an invalid address is refused with its reason" grep -q '1.2.3' di2.out
t_check "evidence DI-2: fednsctl zone check --origin" quiet "$ctl" zone check --origin example.com now.zone
t_check "evidence: sha256sum of the pack" sh -c "cd evidence && sha256sum * >SHA256SUMS"

# 6. a signing key made with openssl is one fedns loads (fednsctl signs requests with the
#    same loader the hub uses for --sign-key)
t_check "runbook 6: openssl genpkey P-256" \
	quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out hub-signing-2.key
t_check "runbook 6: openssl pkey -pubout" quiet openssl pkey -in hub-signing-2.key -pubout -out hub-signing-2.pub
quiet f principal key-add alice --pem hub-signing-2.pub
"$ctl" whoami --sign-key hub-signing-2.key >signed.out 2>&1
t_check "runbook 6: fedns loads the openssl key (a request signed with it is accepted)" \
	grep -q 'principal: alice' signed.out

# 4/5 certificate checks
t_check "runbook 5: fednsctl pki verify --usage server" quiet "$ctl" pki verify pki/hub.pem --ca pki/ca.pem --usage server
t_check "runbook 4: fednsctl pki verify --usage client" quiet "$ctl" pki verify pki/spoke-east.pem --ca pki/ca.pem --usage client
t_check "runbook 4: a spoke certificate is not a server certificate" \
	sh -c "! '$ctl' pki verify pki/spoke-east.pem --ca pki/ca.pem --usage server >/dev/null 2>&1"
t_check "runbook 5: openssl shows the hub name in the SAN" \
	sh -c "openssl x509 -in pki/hub.pem -noout -enddate -ext subjectAltName | grep -q 'DNS:hub.fedns.test'"

# 4 step 3: revoke the old spoke certificate with a CRL made as docs/pki.md says
cat >ca.cnf <<CNF
[ca]
default_ca = c
[c]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 7
certificate = $t_tmp/pki/ca.pem
private_key = $t_tmp/pki/ca.key
CNF
: >index.txt
echo 01 >crlnumber
quiet openssl ca -config ca.cnf -revoke pki/spoke-east.pem
quiet openssl ca -config ca.cnf -gencrl -out crl.pem
t_check "runbook 4: fednsctl pki verify --crl says the old certificate is revoked" \
	sh -c "! '$ctl' pki verify pki/spoke-east.pem --ca pki/ca.pem --crl crl.pem 2>&1 | tee verify-crl.out >/dev/null; grep -qi revoked verify-crl.out"
t_check "runbook 4: ... and exits non-zero for it" not quiet "$ctl" pki verify pki/spoke-east.pem --ca pki/ca.pem --crl crl.pem
# decommissioning: the placement lists the clusters that stay
t_check "runbook 4: fednsctl zone placement --cluster sets the clusters that stay" \
	quiet f zone placement example.com --cluster west
f zone placement example.com >placement.out 2>&1
t_check "runbook 4: fednsctl zone placement shows them" grep -qw west placement.out

# 7. TSIG rotation on a spoke
tsig-keygen -a hmac-sha256 xfr-key >old.key
tsig-keygen -a hmac-sha256 xfr-key-2 >new.key
cat old.key new.key >both.key
sp=$(t_port)
axfr_ok() { # keyfile
	dig @127.0.0.1 -p "$sp" -k "$1" example.com AXFR +time=2 +tries=1 | grep -q 'IN[[:space:]]*SOA'
}
t_start spoke "$spoke" --listen "127.0.0.1:$sp" --zone now.zone --catalog catalog.fedns. \
	--tsig-keyfile both.key --verify-key xfr-key-2 --control ctl.sock
t_wait 10 test -S ctl.sock || { cat spoke.log; exit 1; }
t_check "runbook 7 step 1: with both keys, a transfer with the old key works" axfr_ok old.key
t_check "runbook 7 step 1: with both keys, a transfer with the new key works" axfr_ok new.key
# (ctl status and verify with real secondaries: tests/integration/test_spoke_verify.sh)
t_check "runbook 8: fedns-spoke ctl answers on the control socket" \
	sh -c "'$spoke' ctl ctl.sock list | grep -q example.com"
want=$("$ctl" zone digest now.zone)
got=$("$spoke" probe --tsig-keyfile new.key "127.0.0.1#$sp" example.com digest | awk '{print $2}')
t_check "runbook 8: fedns-spoke probe digest equals fednsctl zone digest of the hub's export" \
	[ -n "$want" ] && [ "$got" = "$want" ]
t_stop spoke
rm -f ctl.sock
t_start spoke "$spoke" --listen "127.0.0.1:$sp" --zone now.zone --catalog catalog.fedns. \
	--tsig-keyfile new.key --control ctl.sock
t_wait 10 test -S ctl.sock || { cat spoke.log; exit 1; }
t_check "runbook 7 step 3: the new key alone works" axfr_ok new.key
t_check "runbook 7 step 3: the old key is refused" not axfr_ok old.key
t_done
