#!/usr/bin/env python3
"""The library's public types per namespace, read from its PublicAPI files (declared API, removals subtracted).
Usage: python3 scripts/public-surface.py [Shipped.txt Unshipped.txt]  (default: src/TorchInit's)."""
import re,sys,collections
def count(shipped, unshipped):
    lines=[l.strip() for l in (open(shipped).read()+'\n'+open(unshipped).read()).split('\n')]
    removed={l[len('*REMOVED*'):] for l in lines if l.startswith('*REMOVED*')}
    types=set()
    for l in lines:
        if l.startswith('*REMOVED*') or l in removed: continue
        m=re.match(r'^(?:abstract |sealed |static )*(TorchInit(?:\.[A-Za-z0-9_`]+)+)$', l)
        if m: types.add(m.group(1))
    ns=collections.defaultdict(list)
    for t in types:
        parent='.'.join(t.split('.')[:-1])
        if parent in types: continue
        ns[parent].append(t.split('.')[-1])
    for k in sorted(ns): print(len(ns[k]), k, ' '.join(sorted(ns[k])))
count(*(sys.argv[1:3] or ['src/TorchInit/PublicAPI.Shipped.txt', 'src/TorchInit/PublicAPI.Unshipped.txt']))
