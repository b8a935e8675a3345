#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small Dockerfile linter for fedns's images (hadolint is not packaged in Debian 12):
every FROM has a pinned tag (no latest, no bare name), the final stage switches to a
non-root USER, no ADD of URLs (nor ADD at all where COPY does), apt lists are removed in
the same RUN that fetched them and installs skip recommends, no secret-looking ENV/ARG,
and every file starts with an SPDX line.

  dockerfile_check.py FILE...      exit 0 clean, 1 with one line per problem
"""
import re
import sys


def logical_lines(text):
    """Joins backslash continuations; yields (first line number, instruction text)."""
    buf, start = "", None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if start is None:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = n
        elif line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield start, (buf + line).strip()
        buf, start = "", None
    if start is not None:
        yield start, buf.strip()


def check(path, text):
    errs = []
    if not text.startswith("# SPDX-License-Identifier:"):
        errs.append(f"{path}:1: no SPDX line first")
    stages, user = [], {}
    for n, line in logical_lines(text):
        m = re.match(r"(\w+)\s*(.*)", line, re.S)
        instr, rest = m.group(1).upper(), m.group(2)
        where = f"{path}:{n}"
        if instr == "FROM":
            parts = rest.split()
            image = [p for p in parts if not p.startswith("--")][0]
            named = {s[1] for s in stages}
            if image not in named and image != "scratch":
                name = image.split("@")[0]
                tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
                if "@sha256:" not in image and tag is None:
                    errs.append(f"{where}: FROM {image} has no tag")
                if tag == "latest":
                    errs.append(f"{where}: FROM {image} uses the latest tag")
            alias = parts[-1] if len(parts) >= 3 and parts[-2].upper() == "AS" else None
            stages.append((n, alias))
            user[len(stages) - 1] = None
        elif instr == "USER":
            user[len(stages) - 1] = rest.strip()
        elif instr == "ADD":
            if re.search(r"https?://|git@", rest):
                errs.append(f"{where}: ADD of a URL (fetch in a RUN with a checksum, or COPY)")
            else:
                errs.append(f"{where}: ADD where COPY does (ADD unpacks archives silently)")
        elif instr == "RUN":
            if re.search(r"\bapt-get\s+(install|update)\b", rest):
                if not re.search(r"rm -rf /var/lib/apt/lists/\*", rest):
                    errs.append(f"{where}: apt-get without rm -rf /var/lib/apt/lists/* in the same RUN")
                if re.search(r"apt-get\s+install", rest) and "--no-install-recommends" not in rest:
                    errs.append(f"{where}: apt-get install without --no-install-recommends")
                if re.search(r"apt-get\s+install", rest) and not re.search(r"\s-y\b|--yes|--assume-yes", rest):
                    errs.append(f"{where}: apt-get install without -y")
            if re.search(r"\bapt\s+(install|update)\b", rest):
                errs.append(f"{where}: apt (interactive front end) instead of apt-get")
            if re.search(r"curl[^|;&]*\|\s*(ba)?sh|wget[^|;&]*\|\s*(ba)?sh", rest):
                errs.append(f"{where}: a downloaded script piped into a shell")
        elif instr in ("ENV", "ARG"):
            if re.search(r"(PASSWORD|SECRET|TOKEN|PRIVATE_KEY)\w*\s*=", rest, re.I):
                errs.append(f"{where}: {instr} holding a secret (ends up in the image)")
        elif instr == "MAINTAINER":
            errs.append(f"{where}: MAINTAINER is deprecated (use a LABEL)")
    if not stages:
        errs.append(f"{path}: no FROM")
    else:
        final = user.get(len(stages) - 1)
        if final is None:
            errs.append(f"{path}:{stages[-1][0]}: the final stage runs as root (no USER)")
        elif re.fullmatch(r"(root|0)(:.*)?", final):
            errs.append(f"{path}: the final stage's USER is root")
    return errs


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    errs = []
    for path in argv[1:]:
        with open(path, encoding="utf-8") as f:
            errs += check(path, f.read())
    for e in errs:
        print(e)
    print(f"dockerfile_check: {len(argv) - 1} files, {len(errs)} problems")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
