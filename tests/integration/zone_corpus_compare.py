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

import sys

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.ttl


def parse_dump(path):
    """Returns {canonical key: display text} for every RR in the dump at 'path'."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    tok = dns.tokenizer.Tokenizer(text, filename=path)
    rrs = {}
    exact = set()
    dups = []
    while True:
        t = tok.get(want_leading=True)
        if t.is_eof():
            break
        if t.is_eol() or t.is_comment():
            continue
        if t.is_whitespace():
            t = tok.get()
            if t.is_eol() or t.is_eof() or t.is_comment():
                continue
            raise dns.exception.SyntaxError(
                "%s:%d: line starts with white space (dumps must name every owner)"
                % (path, tok.line_number))
        if t.value.startswith("$"):
            raise dns.exception.SyntaxError(
                "%s:%d: directive %s in a dump (expected RRs with absolute names)"
                % (path, tok.line_number, t.value))
        owner = dns.name.from_text(t.value, None)
        if not owner.is_absolute():
            raise dns.exception.SyntaxError(
                "%s:%d: owner %s is not absolute" % (path, tok.line_number, t.value))
        ttl = dns.ttl.from_text(tok.get_string())
        rdclass = dns.rdataclass.from_text(tok.get_string())
        rdtype = dns.rdatatype.from_text(tok.get_string())
        # No origin: dumps hold absolute names, and dnspython 2.3 would relativize names
        # read from \# data against any origin given here.
        rd = dns.rdata.from_text(rdclass, rdtype, tok, None, False)
        lowner = owner.canonicalize().to_text()
        key = (lowner, ttl, rdclass, rdtype, rd.to_digestable().hex())
        shown = "%s %d %s %s %s" % (lowner, ttl, dns.rdataclass.to_text(rdclass),
                                    dns.rdatatype.to_text(rdtype), rd.to_text())
        if key in rrs:
            dups.append("%s:%d: %s" % (path, tok.line_number - 1, shown))
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
