#!/usr/bin/env bash
# The namespace dependencies of one project, folder by folder: each folder's `using Switchboard.<Project>.X`
# lines (and its uses of the project's root namespace, which need no using), then any cycle among them. The root
# namespace holds the public host (ApiServerHost, its options): with Hosting/ it is one layer, the composition root,
# so for cycles it counts as Hosting. Exits 1 when there is a cycle. Usage: scripts/layers.sh [src/Switchboard.ApiServer]
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-src/Switchboard.ApiServer}
root=$(basename "$project")
python3 - "$project" "$root" <<'PY'
import os, re, sys
project, root = sys.argv[1], sys.argv[2]
folders = sorted(d for d in os.listdir(project) if os.path.isdir(os.path.join(project, d)) and d not in ("bin", "obj", "Properties"))
def sources(folder):
    for dirpath, dirnames, files in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in ("bin", "obj")]
        yield from (os.path.join(dirpath, f) for f in files if f.endswith(".cs"))
# Types declared in the root namespace (the project's folder itself): a sub-namespace sees them without a using.
root_types = set()
for f in os.listdir(project):
    if f.endswith(".cs"):
        root_types |= set(re.findall(r"\b(?:class|record|struct|interface|enum)\s+(\w+)", open(os.path.join(project, f)).read()))
using = re.compile(r"^using " + re.escape(root) + r"\.(\w+)", re.M)
deps = {}
for folder in folders + ["(root)"]:
    files = [os.path.join(project, f) for f in os.listdir(project) if f.endswith(".cs")] if folder == "(root)" else list(sources(os.path.join(project, folder)))
    found = set()
    for f in files:
        text = open(f).read()
        found |= set(using.findall(text))
        if folder != "(root)" and any(re.search(r"\b" + t + r"\b", text) for t in root_types):
            found.add("(root)")
    found.discard(folder)
    deps[folder] = sorted(found)
    print(f"{folder:12} -> {' '.join(deps[folder]) or '-'}")
# Cycles: strongly connected components of more than one namespace, the root counted as Hosting.
host = lambda n: "Hosting" if n == "(root)" else n
merged = {}
for folder, targets in deps.items():
    merged.setdefault(host(folder), set()).update(host(t) for t in targets)
deps = {folder: sorted(targets - {folder}) for folder, targets in merged.items()}
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in deps.get(v, []):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop(); on.discard(w); scc.append(w)
            if w == v: break
        if len(scc) > 1: sccs.append(sorted(scc))
for v in deps:
    if v not in index: visit(v)
if sccs:
    print("cycles: " + "; ".join(" <-> ".join(c) for c in sccs))
    sys.exit(1)
print("no cycles")
PY
