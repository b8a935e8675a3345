#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real fedns-spoke against a hub impostor (tests/tools/fed_fakehub.c) that holds the
# hub's TLS certificate and signing key, so every refusal below is the spoke's own
# check, not the TLS layer's: a change set signed by another key under the hub's key id,
# one under an unknown key id, a gap, a zone not placed on the spoke, a wrong announced
# digest, and a replay of an older change are all refused with their reason, logged as
# security events, and change nothing; the good change is applied once, and its
# retransmission acknowledged as already applied.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fedlib.sh"
fed_need_tools || exit 1
fake=$t_build/tests/fed_fakehub
[ -x "$fake" ] || { echo "$fake is not built"; exit 1; }
cd "$t_tmp"

fed_pki east || exit 1
"$fed_ctl_bin" pki init --dir forge --hub-name "$fed_hub_name" --cluster east >/dev/null 2>&1
tsig-keygen -a hmac-sha256 xfr-key >key.conf
t_start fake "$fake" tls+tcp://127.0.0.1:0 fake.port pki/hub.pem pki/hub.key pki/ca.pem \
	pki/hub-signing.key forge/hub-signing.key 5
t_wait 10 test -s fake.port || { cat "$t_tmp/fake.log"; exit 1; }
mkdir state
t_start spoke "$fed_spoke_bin" --listen 127.0.0.1:0 --port-file spoke.port \
	--catalog "$fed_catalog" --tsig-keyfile key.conf --state-dir state --control ctl.sock \
	--hub "tls+tcp://127.0.0.1:$(cat fake.port)" --hub-name "$fed_hub_name" --cluster east \
	--cert pki/spoke-east.pem --key pki/spoke-east.key --ca pki/ca.pem \
	--hub-key pki/hub-signing.pub
t_check "the impostor ran its whole script" t_wait 30 grep -q '^done$' "$t_tmp/fake.log"

ack() { grep -q "^$1 $2 $3 $4\$" "$t_tmp/fake.log"; }
t_check "snapshot at serial 5 applied" ack snapshot applied - 5
# a blob whose signature fails is never decoded, so its ack names no zone and no serial
t_check "a change signed by another key under the hub's id: bad_signature" \
	ack forged refused bad_signature 0
t_check "a change under a key id the spoke does not trust: unknown_key" \
	ack unknown_key refused unknown_key 0
t_check "6 -> 7 while holding 5: gap" ack gap refused gap 5
t_check "a zone not placed on this spoke: not_placed" ack not_placed refused not_placed 0
t_check "the right diff announcing another digest: digest_mismatch, still at 5" \
	ack bad_digest refused digest_mismatch 5
t_check "the good change applied: 6" ack good applied - 6
t_check "its retransmission: already_applied, 6" ack again already_applied - 6
t_check "an older change replayed: replay, still 6" ack replay refused replay 6

sp=$(cat spoke.port)
t_check "the spoke serves fake.test at serial 6" \
	[ "$(dig +short +norec @127.0.0.1 -p "$sp" fake.test SOA | awk '{print $3}')" = 6 ]
t_check "with the good change's content (www 192.0.2.6)" \
	grep -q '192.0.2.6' <(dig +norec -y "$(sed -n 's/^key "\(.*\)" {/hmac-sha256:\1:/p' key.conf)$(sed -n 's/.*secret "\(.*\)";/\1/p' key.conf)" @127.0.0.1 -p "$sp" fake.test AXFR)
t_check "the spoke does not serve other.test" \
	sh -c "! \"$fed_spoke_bin\" ctl ctl.sock list | grep -q other.test"
for r in bad_signature unknown_key gap not_placed digest_mismatch replay; do
	t_check "security event logged for $r" \
		grep -q "\"event\":\"spoke.changeset.refused\".*\"reason\":\"$r\"" "$t_tmp/spoke.log"
done
t_check "no refusal logs the hub's key material" \
	sh -c "! grep -qF -- \"\$(sed -n 2p pki/hub-signing.key)\" '$t_tmp/spoke.log'"

if [ "$t_failed" != 0 ]; then
	echo "--- impostor"; cat "$t_tmp/fake.log"
	echo "--- spoke"; tail -n 40 "$t_tmp/spoke.log"
fi
t_done
