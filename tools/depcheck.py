#!/usr/bin/env python3
"""Circles between the module's files, from the symbol tables of its objects.

File A depends on file B when A's object uses a symbol B's object defines
(nm: U in A, T/D/B/R in B).  The module variable (ngx_http_bubble_module),
which every glue file names, is left out.  Prints each file's dependencies
and exits 1 when any two files depend on each other through any path (a
strongly connected component of more than one file).

    tools/depcheck.py OBJ_DIR [OBJ_DIR ...]
"""

import os
import subprocess
import sys

IGNORED = {"ngx_http_bubble_module"}


def symbols(obj):
    out = subprocess.run(["nm", obj], check=True, capture_output=True,
                         text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRVWC":
            defined.add(parts[2])
    return defined, used


def components(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(dirs):
    objs = {}
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if name.endswith(".o"):
                objs[name[:-2]] = os.path.join(d, name)
    if not objs:
        print("depcheck: no objects in " + " ".join(dirs), file=sys.stderr)
        return 2

    owner, uses = {}, {}
    for name, path in objs.items():
        defined, used = symbols(path)
        uses[name] = used
        for s in defined:
            owner[s] = name

    graph = {}
    for name in objs:
        graph[name] = sorted({owner[s] for s in uses[name]
                              if s in owner and owner[s] != name
                              and s not in IGNORED})
    for name in sorted(graph):
        print("%-28s -> %s" % (name, " ".join(graph[name]) or "-"))

    circles = [c for c in components(graph) if len(c) > 1]
    for c in circles:
        print("circle: " + " <-> ".join(c))
    print("depcheck: %d files, %d circles" % (len(graph), len(circles)))
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
