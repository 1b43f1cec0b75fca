"""A graph's cost per node against all_of (the plain fan-out), in the same run: N
independent nodes, and a chain of N nodes each needing the previous one (linear: the
ready set is Kahn's algorithm, not a rescan). Prints ratios; best of R, GC off.

Run: python bench/bench_graph.py
"""

import gc
import time

from returns.result import Success
from omnibase import Meta, SyncDriver, all_of, graph, node, run
from omnibase.core.step import Component
from omnibase.testing import fake_ctx
N = 2000
comps = [Component(lambda c, x: Success(x), Meta(name=f"c{i}")) for i in range(N)]
flat = all_of(comps)
g_flat = graph({c.name: c for c in comps})
g_chain = graph({c.name: node(c, needs=[comps[i-1].name] if i else []) for i, c in enumerate(comps)})
ctx = fake_ctx()
def best(f, r=5):
    out = []
    for _ in range(r):
        gc.collect(); gc.disable(); t = time.process_time_ns(); f(); out.append((time.process_time_ns() - t) / N); gc.enable()
    return min(out)
for _ in range(2):
    a = best(lambda: run(flat, 0, ctx, SyncDriver()))
    b = best(lambda: run(g_flat, 0, ctx, SyncDriver()))
    c = best(lambda: run(g_chain, 0, ctx, SyncDriver()))
    print(f"per node ns: all_of {a:.0f}  graph(independent) {b:.0f} ({b/a:.2f}x)  graph(chain) {c:.0f} ({c/a:.2f}x)")
