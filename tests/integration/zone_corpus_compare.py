#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Compares two master-file dumps (named-compilezone -o - and fednsctl zone print) as RR sets.
"""Usage: zone_corpus_compare.py BIND_DUMP FEDNS_DUMP

Both files hold one RR per line with absolute owner, TTL, class, type and rdata. Each is
parsed with dnspython (independent of both tools) into a set of
(owner, ttl, class, type, rdata) tuples where the owner is lowercased and the rdata is
keyed by its RFC 4034 6.2 canonical wire form, so spellings that denote the same RR
(hex case, "::" forms, SVCB key order, \\# for a known type) compare equal. The text
shown in a difference is dnspython's to_text of the rdata.

When the canonical sets are equal but the case-preserved texts differ (a duplicate RR
written in two cases, where the tools may keep different spellings), a note is printed
and the comparison still succeeds: RFC 4034 6.2 makes those the same RR.

Exit 0: same RR set. 1: different, or an RR printed twice (a listing is printed). 2: a dump did not parse.
"""

import re
import sys

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl


# owner, TTL, class, type (names may hold backslash escapes, including escaped spaces),
# then the rdata as text.
RR_LINE = re.compile(r"((?:\\.|[^\s\\])+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$")


def parse_rdata(rdclass, rdtype, text):
    """Returns (canonical wire form in hex, dnspython's presentation form)."""
    # No origin: dumps hold absolute names, and dnspython 2.3 would relativize names
    # read from \# data against any origin given here.
    try:
        rd = dns.rdata.from_text(rdclass, rdtype, text, None, False)
    except dns.exception.SyntaxError:
        # dnspython refuses SvcParams in SVCB/HTTPS AliasMode, which RFC 9460 2.4.2
        # only discourages and BIND loads. Parse it as priority 1 and put the 0 back:
        # the priority is the first two bytes of the wire form.
        fields = text.split(None, 1)
        if rdtype not in (dns.rdatatype.SVCB, dns.rdatatype.HTTPS) or \
                len(fields) != 2 or fields[0] != "0":
            raise
        rd = dns.rdata.from_text(rdclass, rdtype, "1 " + fields[1], None, False)
        return "0000" + rd.to_digestable().hex()[4:], "0 " + rd.to_text().split(None, 1)[1]
    return rd.to_digestable().hex(), rd.to_text()


def parse_dump(path):
    """Returns ({canonical key: display text}, set of case-preserved texts, duplicates)
    for the dump at 'path'. Both tools print one RR per line; a record spread over lines
    fails to parse here, which fails the comparison rather than passing it."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    rrs = {}
    exact = set()
    dups = []
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        where = "%s:%d" % (path, n)
        if line[0].isspace():
            raise dns.exception.SyntaxError(
                "%s: line starts with white space (dumps must name every owner)" % where)
        if line.startswith("$"):
            raise dns.exception.SyntaxError(
                "%s: directive in a dump (expected RRs with absolute names)" % where)
        m = RR_LINE.match(line)
        if not m:
            raise dns.exception.SyntaxError("%s: not owner TTL class type rdata" % where)
        owner = dns.name.from_text(m.group(1), None)
        if not owner.is_absolute():
            raise dns.exception.SyntaxError("%s: owner %s is not absolute" % (where, m.group(1)))
        ttl = dns.ttl.from_text(m.group(2))
        rdclass = dns.rdataclass.from_text(m.group(3))
        rdtype = dns.rdatatype.from_text(m.group(4))
        try:
            digest, text = parse_rdata(rdclass, rdtype, m.group(5))
        except dns.exception.DNSException as e:
            raise dns.exception.SyntaxError("%s: %s" % (where, e)) from e
        lowner = owner.canonicalize().to_text()
        key = (lowner, ttl, rdclass, rdtype, digest)
        shown = "%s %d %s %s %s" % (lowner, ttl, dns.rdataclass.to_text(rdclass),
                                    dns.rdatatype.to_text(rdtype), text)
        if key in rrs:
            dups.append("%s: %s" % (where, shown))
        rrs[key] = shown
        exact.add(shown)
    return rrs, exact, dups


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        bind, bind_exact, bind_dups = parse_dump(argv[1])
    except (dns.exception.DNSException, ValueError, UnicodeError) as e:
        print("cannot parse named-compilezone output: %s" % e)
        return 2
    try:
        fed, fed_exact, fed_dups = parse_dump(argv[2])
    except (dns.exception.DNSException, ValueError, UnicodeError) as e:
        print("cannot parse fednsctl zone print output: %s" % e)
        return 2
    status = 0
    for d in bind_dups + fed_dups:
        print("duplicate RR in a dump (duplicates must be folded): %s" % d)
        status = 1
    only_bind = sorted(bind[k] for k in bind.keys() - fed.keys())
    only_fed = sorted(fed[k] for k in fed.keys() - bind.keys())
    if only_bind or only_fed:
        print("RR sets differ (%d RRs from named-compilezone, %d from fednsctl):"
              % (len(bind), len(fed)))
        for line in only_bind:
            print("  only in named-compilezone: %s" % line)
        for line in only_fed:
            print("  only in fednsctl:          %s" % line)
        return 1
    if status:
        return status
    if bind_exact != fed_exact:
        print("note: same RR set, but case-preserved spellings differ:")
        for line in sorted(bind_exact - fed_exact):
            print("  named-compilezone: %s" % line)
        for line in sorted(fed_exact - bind_exact):
            print("  fednsctl:          %s" % line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
