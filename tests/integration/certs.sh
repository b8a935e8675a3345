#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes a throwaway test PKI (ECDSA P-256) in DIR with the openssl CLI: a CA, a server
# certificate for 127.0.0.1/::1/localhost and a client certificate. For tests only.
#
# usage: certs.sh DIR [CLIENT_CN]
# writes: ca.pem ca.key server.pem server.key client.pem client.key (keys mode 0600)
set -eu

dir=${1:?usage: certs.sh DIR [CLIENT_CN]}
client_cn=${2:-test-client}
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

cat >ext.cnf <<CNF
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF

newkey ca.key
openssl req -new -x509 -key ca.key -sha256 -days 2 -subj "/CN=fedns test CA" \
	-config ext.cnf -extensions ca -out ca.pem

sign() { # name cn extension-section
	newkey "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
		-days 2 -extfile ext.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr"
}
sign server localhost server
sign client "$client_cn" client
rm -f ext.cnf ca.srl
chmod 0644 ca.pem server.pem client.pem
openssl verify -CAfile ca.pem server.pem client.pem >/dev/null
