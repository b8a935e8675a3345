#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# An independent implementation of dns/zdigest.h's construction (dnspython + hashlib) that
# prints the root digest of a master file: the known answer in tests/unit/test_zdigest.c
# comes from here.
#
# usage: bench/zdigest/ref.py ORIGIN FILE
import hashlib
import struct
import sys

import dns.rdatatype
import dns.zone


def root(zone):
    leaves = []
    for name, node in zone.nodes.items():
        owner = name.derelativize(zone.origin).canonicalize().to_wire()
        for rds in node.rdatasets:
            if len(rds) == 0:
                continue
            canon = sorted({rd.to_digestable(zone.origin) for rd in rds})
            h = hashlib.sha256(b"\x00")
            for c in canon:
                h.update(owner + struct.pack("!HHIH", rds.rdtype, rds.rdclass, rds.ttl, len(c)))
                h.update(c)
            key = owner + struct.pack("!H", rds.rdtype)
            if rds.rdtype == dns.rdatatype.RRSIG:
                key += struct.pack("!H", rds.covers)
            leaves.append((hashlib.sha256(key).digest(), h.digest()))
    leaves.sort()
    if not leaves:
        return bytes(32)
    return tree(leaves)


def bit(k, b):
    return (k[b // 8] >> (7 - b % 8)) & 1


def tree(s):
    if len(s) == 1:
        return s[0][1]
    b = 0
    while bit(s[0][0], b) == bit(s[-1][0], b):
        b += 1
    split = next(i for i, (k, _) in enumerate(s) if bit(k, b))
    return hashlib.sha256(b"\x01" + tree(s[:split]) + tree(s[split:])).digest()


if __name__ == "__main__":
    z = dns.zone.from_file(sys.argv[2], origin=sys.argv[1], relativize=False)
    print(root(z).hex())
