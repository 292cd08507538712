#!/usr/bin/env python3
# Lists import circles between the modules of each crate under crates/ (run from the root; -v prints the edges).
"""Import circles between the modules of each crate: a module is a file under src/ (mod.rs names
its directory); an edge a -> b when a's file names `crate::b…` or `super::…` resolving to b.
Prints strongly connected components with more than one module (comment lines, doc links
included, are not edges). With -v, also the edges inside each component."""
import os, re, sys
from collections import defaultdict

def modpath(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
    return tuple(rel)

def scc(nodes, edges):
    index = {}; low = {}; st = []; on = set(); out = []; i = [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; st.append(v); on.add(v)
        for w in edges[v]:
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            out.append(comp)
    for v in nodes:
        if v not in index: visit(v)
    return out

for crate in sorted(os.listdir('crates')):
    src = f'crates/{crate}/src'
    if not os.path.isdir(src): continue
    files = {}
    for root, _, fs in os.walk(src):
        for f in fs:
            if f.endswith('.rs'): files[modpath(src, os.path.join(root, f))] = os.path.join(root, f)
    mods = set(files)
    def resolve(parts):
        # longest known module prefix
        for n in range(len(parts), 0, -1):
            if tuple(parts[:n]) in mods: return tuple(parts[:n])
        return None
    edges = defaultdict(set)
    for m, p in files.items():
        text = open(p).read()
        text = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', text, flags=re.S)
        # comments (doc links such as [`crate::policy`] included) are not imports
        text = re.sub(r'^\s*//.*$', '', text, flags=re.M)
        for ref in re.findall(r'\bcrate::((?:\w+::)*\w+)', text):
            t = resolve(ref.split('::'))
            if t and t != m and not (m[:len(t)] == t): edges[m].add(t)
        for sup, ref in re.findall(r'\b((?:super::)+)((?:\w+::)*\w+)', text):
            base = list(m if not p.endswith('mod.rs') else m + ('_',))
            base = base[:len(base) - sup.count('super::')]
            t = resolve(base[:-0 or None] + ref.split('::')) if base else resolve(ref.split('::'))
            t = resolve(base + ref.split('::'))
            if t and t != m and not (m[:len(t)] == t): edges[m].add(t)
    # a child naming its parent module is not a circle of siblings: collapse to top-level below `level`
    for comp in scc(sorted(mods), edges):
        if len(comp) > 1:
            print(crate, len(comp), sorted('::'.join(c) for c in comp))
            if '-v' in sys.argv:
                for a in sorted(comp):
                    for b in sorted(edges[a] & set(comp)):
                        print('   ', '::'.join(a), '->', '::'.join(b))
