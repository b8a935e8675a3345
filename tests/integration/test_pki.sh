#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fednsctl pki init checked by openssl, not by our own code: the chain verifies, the SANs,
# EKUs and CA flag are as documented, keys are 0600, a second init refuses without --force
# and replaces everything with it, and openssl s_server/s_client complete an mTLS handshake
# with hub.pem and spoke-east.pem (and refuse a client without a certificate or from
# another PKI). fednsctl pki verify agrees with openssl, including a CRL made by openssl ca.
. "$(dirname "$0")/lib.sh"

ctl=$t_build/cli/fednsctl
[ -x "$ctl" ] || { echo "$t_name: $ctl is not built"; exit 1; }
command -v openssl >/dev/null || { echo "$t_name: openssl is not installed"; exit 1; }
cd "$t_tmp"

"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east --cluster west --days 30 \
	>init.out 2>init.err
t_check "pki init succeeds" test $? = 0
t_check "pki init lists what it wrote" grep -q "hub-signing.pub .*key id" init.out
t_check "README written" grep -q "spoke-west.pem" pki/README

for f in ca.pem ca.key hub.pem hub.key spoke-east.pem spoke-east.key spoke-west.pem \
	spoke-west.key hub-signing.key hub-signing.pub README; do
	t_check "$f exists" test -s "pki/$f"
done
for f in ca.key hub.key spoke-east.key spoke-west.key hub-signing.key; do
	t_check "$f is mode 0600" test "$(stat -c %a "pki/$f")" = 600
done
t_check "ca.pem is mode 0644" test "$(stat -c %a pki/ca.pem)" = 644
t_check "no temporary files left" test -z "$(find pki -name '.*')"

t_check "openssl verify accepts hub and spokes" \
	openssl verify -CAfile pki/ca.pem pki/hub.pem pki/spoke-east.pem pki/spoke-west.pem
t_check "openssl verify: hub is a TLS server" \
	openssl verify -purpose sslserver -CAfile pki/ca.pem pki/hub.pem
t_check "openssl verify: spokes are TLS clients" \
	openssl verify -purpose sslclient -CAfile pki/ca.pem pki/spoke-east.pem pki/spoke-west.pem
if openssl verify -purpose sslserver -CAfile pki/ca.pem pki/spoke-east.pem >/dev/null 2>&1; then
	t_fail "a spoke certificate must not be a TLS server"
else
	t_ok "a spoke certificate is not a TLS server"
fi

openssl x509 -in pki/ca.pem -noout -text >ca.txt
openssl x509 -in pki/hub.pem -noout -text >hub.txt
openssl x509 -in pki/spoke-east.pem -noout -text >east.txt
t_check "CA: CA:TRUE, critical" grep -A1 -q "Basic Constraints: critical" ca.txt
t_check "CA: CA:TRUE" grep -q "CA:TRUE" ca.txt
t_check "CA: keyUsage certSign, cRLSign" grep -q "Certificate Sign, CRL Sign" ca.txt
t_check "CA: P-256" grep -q "NIST CURVE: P-256" ca.txt
t_check "hub: CA:FALSE" grep -q "CA:FALSE" hub.txt
t_check "hub: SAN DNS and IP" grep -q "DNS:hub.fedns.test, IP Address:127.0.0.1" hub.txt
t_check "hub: EKU serverAuth and clientAuth" \
	grep -q "TLS Web Server Authentication, TLS Web Client Authentication" hub.txt
t_check "hub: signed by the CA" grep -q "Issuer: CN = fedns dev CA, O = fedns" hub.txt
t_check "spoke: subject CN=east, O=fedns-spoke" grep -q "Subject: CN = east, O = fedns-spoke" east.txt
t_check "spoke: SAN DNS east.spoke.fedns" grep -q "DNS:east.spoke.fedns$" east.txt
t_check "spoke: EKU clientAuth only" grep -qx " *TLS Web Client Authentication" east.txt
serial=$(openssl x509 -in pki/hub.pem -noout -serial | sed 's/^serial=//')
t_check "serial is 16 random bytes ($serial)" test ${#serial} = 32
t_check "serials differ" test "$serial" != "$(openssl x509 -in pki/spoke-east.pem -noout \
	-serial | sed 's/^serial=//')"
t_check "validity is --days 30" test "$(openssl x509 -in pki/hub.pem -noout -checkend \
	$((29 * 86400)) >/dev/null && echo y)$(openssl x509 -in pki/hub.pem -noout -checkend \
	$((31 * 86400)) >/dev/null || echo n)" = yn
t_check "hub-signing key is a P-256 key" sh -c \
	"openssl pkey -in pki/hub-signing.key -noout -text | grep -q 'NIST CURVE: P-256'"
t_check "hub-signing.pub is that key's public half" test \
	"$(openssl pkey -in pki/hub-signing.key -pubout)" = "$(cat pki/hub-signing.pub)"
if [ "$(openssl pkey -in pki/hub.key -pubout)" = "$(cat pki/hub-signing.pub)" ]; then
	t_fail "hub-signing key must not be the TLS key"
else
	t_ok "hub-signing key is separate from the TLS key"
fi

# a second init refuses, changes nothing; --force replaces everything
sum_before=$(cat pki/*.pem pki/*.key | sha256sum)
"$ctl" pki init --dir pki --hub-name hub.fedns.test --cluster east >again.out 2>again.err
rc=$?
t_check "second init without --force exits 1 (got $rc)" test $rc = 1
t_check "it says why" grep -q "already exists; nothing written (--force" again.err
t_check "nothing changed" test "$sum_before" = "$(cat pki/*.pem pki/*.key | sha256sum)"
"$ctl" pki init --dir pki2 --hub-name hub.fedns.test --cluster east >/dev/null 2>&1
cp -r pki2 pki3
"$ctl" pki init --dir pki3 --hub-name hub.fedns.test --cluster east --force >/dev/null 2>&1
t_check "--force succeeds" test $? = 0
t_check "--force made a new CA" test "$(cat pki2/ca.pem)" != "$(cat pki3/ca.pem)"
t_check "--force: new leaves verify against the new CA" \
	openssl verify -CAfile pki3/ca.pem pki3/hub.pem pki3/spoke-east.pem
"$ctl" pki init --dir bad --hub-name hub.fedns.test --cluster East >bad.out 2>bad.err
rc=$?
t_check "bad cluster name is a usage error (got $rc)" test $rc = 2
t_check "bad cluster name writes nothing" test ! -e bad/ca.pem
"$ctl" pki init --dir bad --hub-name hub.fedns.test --days 0 >bad.out 2>bad.err
t_check "--days 0 refused" test $? = 2

# fednsctl pki verify agrees with openssl, and honours a CRL made by openssl ca
t_check "pki verify: spoke-east trusted as client" \
	"$ctl" pki verify pki/spoke-east.pem --ca pki/ca.pem --usage client
t_check "pki verify: hub trusted as server" \
	"$ctl" pki verify pki/hub.pem --ca pki/ca.pem --usage server
"$ctl" pki verify pki2/spoke-east.pem --ca pki/ca.pem >v.out 2>v.err
t_check "pki verify: another PKI's spoke is untrusted" grep -q "untrusted" v.err
mkdir crl && : >crl/index.txt && echo 01 >crl/crlnumber
cat >crl/ca.cnf <<EOF
[ca]
default_ca = c
[c]
database = crl/index.txt
crlnumber = crl/crlnumber
default_md = sha256
default_crl_days = 7
certificate = pki/ca.pem
private_key = pki/ca.key
EOF
openssl ca -config crl/ca.cnf -revoke pki/spoke-west.pem >/dev/null 2>&1 &&
	openssl ca -config crl/ca.cnf -gencrl -out crl/crl.pem >/dev/null 2>&1
t_check "openssl ca made a CRL" test -s crl/crl.pem
"$ctl" pki verify pki/spoke-west.pem --ca pki/ca.pem --crl crl/crl.pem >v.out 2>v.err
rc=$?
t_check "pki verify: revoked spoke-west fails (got $rc)" test $rc = 1
t_check "pki verify: says revoked" grep -q "spoke-west.pem: revoked: " v.err
t_check "pki verify: spoke-east still trusted with the CRL" \
	"$ctl" pki verify pki/spoke-east.pem --ca pki/ca.pem --crl crl/crl.pem
if openssl verify -crl_check -CAfile pki/ca.pem -CRLfile crl/crl.pem pki/spoke-west.pem \
	>/dev/null 2>&1; then
	t_fail "openssl should also reject revoked spoke-west"
else
	t_ok "openssl agrees spoke-west is revoked"
fi

# mTLS on loopback: s_server with the hub's certificate demands a client certificate and
# answers each connection with a status page that shows the client certificate it accepted
port=$(t_port)
t_start server openssl s_server -accept "127.0.0.1:$port" -cert pki/hub.pem -key pki/hub.key \
	-CAfile pki/ca.pem -Verify 1 -verify_return_error -naccept 3 -www
t_wait 10 grep -q ACCEPT "$t_tmp/server.log" || t_fail "s_server did not start"
client() {
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
		-servername hub.fedns.test -verify_hostname hub.fedns.test -CAfile pki/ca.pem \
		-verify_return_error -ign_eof "$@" 2>&1
}
client -cert pki/spoke-east.pem -key pki/spoke-east.key >east.log
t_check "s_client: handshake done, hub verified by name" grep -q "Verify return code: 0 (ok)" east.log
t_check "s_server: accepted client certificate CN=east" \
	grep -q "Subject: CN=east, O=fedns-spoke" east.log
t_check "s_server: verified the client chain" grep -q "depth=0 CN = east, O = fedns-spoke" \
	"$t_tmp/server.log"
client -cert pki2/spoke-east.pem -key pki2/spoke-east.key >other.log
t_check "server refuses a spoke from another PKI (unknown ca)" grep -q "alert unknown ca" other.log
t_check "server logs the failed verification" \
	grep -q "tls_process_client_certificate:certificate verify failed" "$t_tmp/server.log"
client >none.log
t_check "server refuses a client without certificate" grep -q "alert certificate required" none.log

t_done
