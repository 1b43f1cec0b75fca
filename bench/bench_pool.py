"""Benchmark: starting the check pool, ``ForkPool`` against ``ProcessPoolExecutor``.

A run over a large tree starts a pool of worker processes for its built-in checks
(``omnibase/builtins/_forkpool.py``). What that costs before any file is checked is time
on the run's critical path, paid on every such run. Each round starts, in a fresh process
that has imported what the CLI imports (``omnibase.cli._commands`` and the built-ins),
two workers and has each run one trivial task, then stops them:

* ``ProcessPoolExecutor``: the standard library's pool with the fork start method, which
  the shared pool used before (its import included, as a run paid it);
* ``ForkPool``: omnibase's own.

The figures: from the start (import included) until both workers ran their task, and
until the pool is stopped and reaped. Medians of ``ROUNDS`` interleaved rounds, and the
ratio of the medians.

Run: ``.venv/bin/python bench/bench_pool.py [ROUNDS]`` (default 20).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

CHILD = """
import os, sys, time
import omnibase.cli._commands, omnibase.builtins._shared  # what a run has imported by then
how = sys.argv[1]
start = time.perf_counter()
if how == "ProcessPoolExecutor":
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
    [f.result() for f in [pool.submit(os.getpid) for _ in range(2)]]
    ran = time.perf_counter()
    pool.shutdown(wait=True)
else:
    from omnibase.builtins._forkpool import ForkPool
    pool = ForkPool(2, lambda: None)
    pool.run(os.getpid, [(), ()])
    ran = time.perf_counter()
    pool.close(wait=True)
print(f"{ran - start:.6f} {time.perf_counter() - start:.6f}")
"""


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    names = ["ProcessPoolExecutor", "ForkPool"]
    ran: dict[str, list[float]] = {n: [] for n in names}
    done: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            out = subprocess.run([sys.executable, "-c", CHILD, name], capture_output=True, text=True, check=True)
            a, b = map(float, out.stdout.split())
            ran[name].append(a)
            done[name].append(b)
    print(f"two workers, one task each; median of {rounds} interleaved rounds (ms)")
    print(f"{'pool':22} {'tasks ran':>10} {'stopped':>10}")
    for name in names:
        print(f"{name:22} {statistics.median(ran[name]) * 1000:10.2f} {statistics.median(done[name]) * 1000:10.2f}")
    base, ours = statistics.median(ran[names[0]]), statistics.median(ran[names[1]])
    print(f"ForkPool / ProcessPoolExecutor, until the tasks ran: {ours / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
