#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reads rendered Kubernetes manifests (helm template / kubectl kustomize output) for the
deploy tests: policy checks, JSON for the schema validator, and single values out of them.

  manifests.py json FILE OUT.json          every object as one JSON array
  manifests.py policy [--allow-generated-secrets] FILE...
                                           no root, probes+limits, no inline secret values
  manifests.py get FILE KIND NAME_SUFFIX KEY   data[KEY] of one ConfigMap/Secret (decoded)
  manifests.py args FILE KIND NAME CONTAINER   the container's command line, each word
                                           followed by a NUL (words may hold newlines)
"""
import base64
import json
import re
import sys

import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for i, d in enumerate(docs):
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            sys.exit(f"{path}: document {i} is not a Kubernetes object")
    return docs


def ident(o):
    return f"{o['kind']}/{o.get('metadata', {}).get('name', '?')}"


def pod_spec(o):
    spec = o.get("spec", {})
    if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return spec.get("template", {}).get("spec")
    if o["kind"] == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    if o["kind"] == "Pod":
        return spec
    return None


SECRETISH = re.compile(r"(secret|password|passwd|token|key|credential|private)", re.I)
PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|secret\s+\"[A-Za-z0-9+/=]{16,}\"")


def policy(docs, allow_generated):
    errs = []
    for o in docs:
        where = ident(o)
        if o["kind"] == "Secret":
            ann = o.get("metadata", {}).get("annotations") or {}
            if not (allow_generated and ann.get("fedns.io/generated") == "true"):
                errs.append(f"{where}: a Secret with inline values in the manifests "
                            "(reference an existing Secret by name instead)")
            if o.get("stringData"):
                errs.append(f"{where}: stringData (plain-text secret values)")
            continue
        if o["kind"] == "ConfigMap":
            for k, v in (o.get("data") or {}).items():
                if isinstance(v, str) and PEM.search(v):
                    errs.append(f"{where}: data[{k}] holds key material")
        if o["kind"] == "ServiceAccount" and o.get("automountServiceAccountToken") is not False:
            errs.append(f"{where}: automountServiceAccountToken is not false")
        if o["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
            errs.append(f"{where}: fedns needs no Kubernetes API rights")
        ps = pod_spec(o)
        if ps is None:
            continue
        if ps.get("automountServiceAccountToken") is not False:
            errs.append(f"{where}: pod automountServiceAccountToken is not false")
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if ps.get(flag):
                errs.append(f"{where}: {flag}")
        psc = ps.get("securityContext") or {}
        if psc.get("runAsUser") == 0:
            errs.append(f"{where}: pod runAsUser 0")
        for c in (ps.get("initContainers") or []) + (ps.get("containers") or []):
            cw = f"{where} container {c.get('name')}"
            init = c in (ps.get("initContainers") or [])
            sc = c.get("securityContext") or {}
            non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            if non_root is not True:
                errs.append(f"{cw}: runAsNonRoot is not true")
            if uid is None or uid == 0:
                errs.append(f"{cw}: no non-zero runAsUser")
            if sc.get("privileged"):
                errs.append(f"{cw}: privileged")
            if sc.get("allowPrivilegeEscalation") is not False:
                errs.append(f"{cw}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                errs.append(f"{cw}: readOnlyRootFilesystem is not true")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                errs.append(f"{cw}: capabilities do not drop ALL")
            if (sc.get("capabilities") or {}).get("add"):
                errs.append(f"{cw}: adds capabilities")
            image = c.get("image", "")
            if not image or image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]:
                errs.append(f"{cw}: image '{image}' has no pinned tag")
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        errs.append(f"{cw}: no {kind}.{r}")
            if not init:
                for p in ("livenessProbe", "readinessProbe"):
                    if not c.get(p):
                        errs.append(f"{cw}: no {p}")
            for e in c.get("env") or []:
                if "value" in e and SECRETISH.search(e.get("name", "")):
                    errs.append(f"{cw}: env {e['name']} has an inline value")
            for a in (c.get("args") or []) + (c.get("command") or []):
                if PEM.search(str(a)) or re.search(r"fedns_[A-Za-z0-9_-]{40,}", str(a)):
                    errs.append(f"{cw}: key material or a token in the command line")
    return errs


def main(argv):
    if len(argv) >= 3 and argv[1] == "json":
        docs = load(argv[2])
        with open(argv[3], "w", encoding="utf-8") as f:
            json.dump(docs, f)
        print(f"{len(docs)} objects")
        return 0
    if len(argv) >= 3 and argv[1] == "policy":
        allow = "--allow-generated-secrets" in argv
        files = [a for a in argv[2:] if not a.startswith("--")]
        errs = []
        n = 0
        for path in files:
            docs = load(path)
            n += len(docs)
            errs += [f"{path}: {e}" for e in policy(docs, allow)]
        for e in errs:
            print("policy:", e)
        if not n:
            print("policy: no objects")
            return 1
        print(f"policy: {n} objects, {len(errs)} problems")
        return 1 if errs else 0
    if len(argv) == 6 and argv[1] == "get":
        _, _, path, kind, suffix, key = argv
        hits = [o for o in load(path) if o["kind"] == kind
                and o["metadata"]["name"].endswith(suffix)]
        if len(hits) != 1:
            sys.exit(f"{path}: {len(hits)} {kind} objects named *{suffix}")
        data = hits[0].get("data") or {}
        if key not in data:
            sys.exit(f"{ident(hits[0])} has no data[{key}]")
        v = data[key]
        sys.stdout.write(base64.b64decode(v).decode() if kind == "Secret" else v)
        return 0
    if len(argv) == 6 and argv[1] == "args":
        _, _, path, kind, name, container = argv
        hits = [o for o in load(path) if o["kind"] == kind and o["metadata"]["name"] == name]
        if len(hits) != 1:
            sys.exit(f"{path}: {len(hits)} {kind}/{name}")
        ps = pod_spec(hits[0])
        cs = [c for c in (ps.get("initContainers") or []) + ps["containers"]
              if c["name"] == container]
        if len(cs) != 1:
            sys.exit(f"{kind}/{name} has no container {container}")
        for a in (cs[0].get("command") or []) + (cs[0].get("args") or []):
            sys.stdout.write(f"{a}\0")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
