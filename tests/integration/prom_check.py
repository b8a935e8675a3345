#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Strict checker for the Prometheus text exposition format (0.0.4) that fedns serves.

Stricter than Prometheus itself where fedns promises more: every family has exactly one
# HELP and one # TYPE before its samples, a family's samples are contiguous, no series
repeats, label values use only the three escapes, counters are >= 0 and named *_total,
histograms have increasing 'le' bounds, cumulative buckets, a +Inf bucket equal to _count
and a _sum. When python3-prometheus-client is installed its parser must accept the text
too and see the same samples (two independent readings of the same bytes).

Command line:
  prom_check.py [FILE|-] [--require FAMILY]... [--print SERIES]... [--max-series N]
SERIES is name{label="value",...} in any label order; --print writes its value (exit 3
when it is absent). Exit 1 on a format error, naming the line.

As a module: parse(text) -> Exposition (families, samples {(name, labels): value}).
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
NAME_RE = re.compile(NAME + r"\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
FLOAT_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z|[+-]?Inf\Z|NaN\Z")


class FormatError(Exception):
    def __init__(self, lineno, msg):
        super().__init__("line %d: %s" % (lineno, msg) if lineno else msg)


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []  # (sample name, labels dict, value, lineno)


class Exposition:
    def __init__(self):
        self.families = {}
        self.samples = {}  # (name, frozenset(labels.items())) -> value

    def value(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name):
        """[(labels dict, value)] of every sample with this exact name."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]


def parse_value(s, lineno):
    if not FLOAT_RE.match(s):
        raise FormatError(lineno, "value %r is not a number" % s)
    return float(s)


def parse_labels(text, pos, lineno):
    """Parses '{...}' starting at text[pos] == '{'; returns (labels, pos after '}')."""
    labels = {}
    pos += 1
    first = True
    while True:
        if pos >= len(text):
            raise FormatError(lineno, "label set not closed")
        if text[pos] == "}":
            return labels, pos + 1
        if not first:
            if text[pos] != ",":
                raise FormatError(lineno, "expected ',' or '}' at column %d" % (pos + 1))
            pos += 1
            if pos < len(text) and text[pos] == "}":
                # a trailing comma is legal in 0.0.4
                return labels, pos + 1
        first = False
        m = re.compile(LABEL).match(text, pos)
        if not m:
            raise FormatError(lineno, "bad label name at column %d" % (pos + 1))
        lname = m.group(0)
        if lname.startswith("__"):
            raise FormatError(lineno, "label name %r is reserved" % lname)
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise FormatError(lineno, "expected '=\"' after label %r" % lname)
        pos += 2
        out = []
        while True:
            if pos >= len(text):
                raise FormatError(lineno, "label value of %r not closed" % lname)
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt == "n":
                    out.append("\n")
                elif nxt in ("\\", '"'):
                    out.append(nxt)
                else:
                    raise FormatError(lineno, "bad escape \\%s in label %r" % (nxt, lname))
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise FormatError(lineno, "raw newline in label %r" % lname)
            else:
                out.append(c)
                pos += 1
        if lname in labels:
            raise FormatError(lineno, "label %r repeated" % lname)
        labels[lname] = "".join(out)


def unescape_help(text, name, lineno):
    """HELP text knows two escapes, \\\\ and \\n; any other is an error here."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in ("\\", "n"):
                raise FormatError(lineno, "bad escape in HELP of %s" % name)
            out.append("\n" if nxt == "n" else "\\")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def family_of(sample_name, families, current):
    """The family a sample belongs to: its own name, or the histogram/summary whose
    suffixes it carries."""
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = sample_name[: -len(suffix)]
            f = families.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                if suffix == "_bucket" and f.type != "histogram":
                    break
                return f
    return families.get(sample_name)


def parse(text):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(0, "not UTF-8: %s" % e)
    if text and not text.endswith("\n"):
        raise FormatError(text.count("\n") + 1, "last line does not end with a newline")
    exp = Exposition()
    current = None
    closed = set()  # families whose samples have ended
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"):
                kind, name = parts[1], parts[2]
                rest = parts[3] if len(parts) > 3 else ""
                if not NAME_RE.match(name):
                    raise FormatError(lineno, "bad metric name %r in %s" % (name, kind))
                if name in closed:
                    raise FormatError(lineno, "%s for %s after its samples ended" % (kind, name))
                f = exp.families.get(name)
                if f is None:
                    f = exp.families[name] = Family(name)
                if current is not None and current is not f:
                    closed.add(current.name)
                current = f
                if f.samples:
                    raise FormatError(lineno, "%s for %s after its samples" % (kind, name))
                if kind == "HELP":
                    if f.help is not None:
                        raise FormatError(lineno, "second HELP for %s" % name)
                    f.help = unescape_help(rest, name, lineno)
                else:
                    if f.type is not None:
                        raise FormatError(lineno, "second TYPE for %s" % name)
                    if rest not in TYPES:
                        raise FormatError(lineno, "unknown type %r for %s" % (rest, name))
                    f.type = rest
            continue
        m = re.compile(NAME).match(line)
        if not m:
            raise FormatError(lineno, "line does not start with a metric name")
        sname = m.group(0)
        pos = m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line, pos, lineno)
        if line[pos:pos + 1] != " ":
            raise FormatError(lineno, "expected one space before the value")
        fields = line[pos + 1:].split(" ")
        if len(fields) not in (1, 2) or fields[0] == "":
            raise FormatError(lineno, "expected 'value [timestamp]' after %s" % sname)
        value = parse_value(fields[0], lineno)
        if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
            raise FormatError(lineno, "bad timestamp %r" % fields[1])
        f = family_of(sname, exp.families, current)
        if f is None:
            raise FormatError(lineno, "sample %s has no # TYPE before it" % sname)
        if f.name in closed:
            raise FormatError(lineno, "sample %s after family %s ended" % (sname, f.name))
        if f is not current:
            raise FormatError(lineno, "sample %s is not under its family's header" % sname)
        if f.help is None or f.type is None:
            raise FormatError(lineno, "family %s needs both # HELP and # TYPE" % f.name)
        key = (sname, frozenset(labels.items()))
        if key in exp.samples:
            raise FormatError(lineno, "series %s%s repeated" % (sname, fmt_labels(labels)))
        exp.samples[key] = value
        f.samples.append((sname, labels, value, lineno))
    for f in exp.families.values():
        check_family(f)
    return exp


def fmt_labels(labels):
    if not labels:
        return ""
    return "{" + ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"


def check_family(f):
    if f.type is None or f.help is None:
        raise FormatError(0, "family %s needs both # HELP and # TYPE" % f.name)
    if f.type == "counter":
        if not f.name.endswith("_total"):
            raise FormatError(0, "counter %s is not named *_total" % f.name)
        for sname, labels, value, lineno in f.samples:
            if sname != f.name:
                raise FormatError(lineno, "counter sample %s is not named %s" % (sname, f.name))
            if not value >= 0:
                raise FormatError(lineno, "counter %s is negative or NaN" % sname)
    elif f.type in ("gauge", "untyped"):
        for sname, _, _, lineno in f.samples:
            if sname != f.name:
                raise FormatError(lineno, "sample %s in family %s" % (sname, f.name))
    elif f.type == "histogram":
        check_histogram(f)


def check_histogram(f):
    groups = {}
    for sname, labels, value, lineno in f.samples:
        suffix = sname[len(f.name):]
        if suffix not in ("_bucket", "_sum", "_count"):
            raise FormatError(lineno, "histogram %s has sample %s" % (f.name, sname))
        rest = dict(labels)
        le = rest.pop("le", None)
        if (suffix == "_bucket") != (le is not None):
            raise FormatError(lineno, "'le' belongs on _bucket samples only (%s)" % sname)
        g = groups.setdefault(frozenset(rest.items()), {"buckets": [], "sum": None, "count": None})
        if suffix == "_bucket":
            bound = parse_value(le, lineno)
            if math.isnan(bound):
                raise FormatError(lineno, "le=NaN in %s" % f.name)
            if value != math.floor(value) or value < 0:
                raise FormatError(lineno, "bucket count %r is not a count" % value)
            g["buckets"].append((bound, value, lineno))
        elif suffix == "_sum":
            g["sum"] = value
        else:
            if value != math.floor(value) or value < 0:
                raise FormatError(lineno, "_count %r is not a count" % value)
            g["count"] = value
    for key, g in groups.items():
        where = "%s%s" % (f.name, fmt_labels(dict(key)))
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise FormatError(0, "histogram %s has no le=\"+Inf\" bucket last" % where)
        for (b0, c0, _), (b1, c1, ln) in zip(b, b[1:]):
            if not b0 < b1:
                raise FormatError(ln, "histogram %s: le not increasing" % where)
            if c1 < c0:
                raise FormatError(ln, "histogram %s: buckets not cumulative" % where)
        if g["count"] is None or g["sum"] is None:
            raise FormatError(0, "histogram %s lacks _count or _sum" % where)
        if g["count"] != b[-1][1]:
            raise FormatError(0, "histogram %s: _count %r != +Inf bucket %r" % (where, g["count"], b[-1][1]))


def cross_check(text, exp):
    """The reference parser, when installed, must read the same samples."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return False
    seen = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            seen[(s.name, frozenset(s.labels.items()))] = s.value
    if set(seen) != set(exp.samples):
        diff = set(seen) ^ set(exp.samples)
        raise FormatError(0, "prometheus_client reads other series: %s" % sorted(diff)[:5])
    for k, v in seen.items():
        mine = exp.samples[k]
        if not (v == mine or (math.isnan(v) and math.isnan(mine))):
            raise FormatError(0, "prometheus_client reads %s as %r, not %r" % (k[0], v, mine))
    return True


def parse_series(spec):
    m = re.compile(NAME).match(spec)
    if not m:
        raise ValueError("bad series %r" % spec)
    labels = {}
    if m.end() < len(spec):
        labels, end = parse_labels(spec, m.end(), 0)
        if end != len(spec):
            raise ValueError("trailing text in series %r" % spec)
    return m.group(0), labels


def main(argv):
    src = "-"
    require, prints, max_series = [], [], None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--require", "--print", "--max-series") and i + 1 < len(argv):
            {"--require": require, "--print": prints}.get(a, []).append(argv[i + 1])
            if a == "--max-series":
                max_series = int(argv[i + 1])
            i += 2
            continue
        if a.startswith("--"):
            print("usage: prom_check.py [FILE|-] [--require FAMILY]... [--print SERIES]... "
                  "[--max-series N]", file=sys.stderr)
            return 2
        src = a
        i += 1
    data = sys.stdin.buffer.read() if src == "-" else open(src, "rb").read()
    try:
        exp = parse(data)
        ref = cross_check(data.decode("utf-8"), exp)
    except FormatError as e:
        print("prom_check: %s: %s" % (src, e), file=sys.stderr)
        return 1
    for name in require:
        if name not in exp.families:
            print("prom_check: %s: family %s missing" % (src, name), file=sys.stderr)
            return 1
    if max_series is not None and len(exp.samples) > max_series:
        print("prom_check: %s: %d series, over %d" % (src, len(exp.samples), max_series),
              file=sys.stderr)
        return 1
    for spec in prints:
        name, labels = parse_series(spec)
        v = exp.value(name, **labels)
        if v is None:
            print("prom_check: %s: no series %s" % (src, spec), file=sys.stderr)
            return 3
        print(int(v) if math.isfinite(v) and v == math.floor(v) and abs(v) < 2**53 else repr(v))
    if not prints:
        print("prom_check: ok: %d families, %d series%s" % (
            len(exp.families), len(exp.samples), ", prometheus_client agrees" if ref else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
