"""Per-invocation cost of the process performer, against a bare ``ProcessPoolExecutor.submit``.

Both sides use warm, reused worker processes and run the same trivial work (``x + 1``); each
round times N invocations of one side then N of the other (interleaved, so machine noise
hits both alike), and the figure is the ratio of the medians over the rounds. Ours pays for
what the bare pool does not do: a ``RunReport`` with a step result, msgspec framing instead
of pickle, fd-level output capture (truncate and read a file), resource limits and sandbox
bookkeeping per call. The in-process ``SyncDriver`` is printed for scale, and so is a
sandboxed call (default rights) in a worker confined by the kernel (Landlock, where there
is one) against one guarded by the audit hook alone (``OMNIBASE_LANDLOCK=off``).

Run: python bench/bench_process.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _bench_process_fn import inc, plain_inc  # noqa: E402

from omnibase import ExecCtx, Meta, SyncDriver, run  # noqa: E402
from omnibase.core.step import Component  # noqa: E402
from omnibase.core.values import Rights  # noqa: E402
from omnibase.drivers.isolation import landlock  # noqa: E402
from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool  # noqa: E402

N = 300
ROUNDS = 9


def per_call_us(body: Any) -> float:
    t = time.perf_counter_ns()
    body()
    return (time.perf_counter_ns() - t) / N / 1e3


def main() -> None:
    ctx = ExecCtx(run_id="bench", trace_id="0af7651916cd43dd8448eb211c80319c", root=HERE)
    isolated = Component(inc, Meta(name="inc", isolation="process", ref="_bench_process_fn:inc"))
    inline = Component(inc, Meta(name="inc"))
    pool = WorkerPool(size=1)
    performer = ProcessPerformer(SyncDriver(), pool=pool)
    sync = SyncDriver()
    sandboxed = Component(inc, Meta(name="inc", isolation="process", ref="_bench_process_fn:inc", sandbox=Rights()))
    kernel_pool, hook_pool = WorkerPool(size=1), WorkerPool(size=1)
    kernel = ProcessPerformer(SyncDriver(), pool=kernel_pool)
    hook = ProcessPerformer(SyncDriver(), pool=hook_pool)

    def confined() -> None:
        for i in range(N):
            run(sandboxed, i, ctx, kernel)

    def hooked() -> None:
        os.environ[landlock.SWITCH] = "off"  # read when a worker starts (the first call)
        try:
            for i in range(N):
                run(sandboxed, i, ctx, hook)
        finally:
            del os.environ[landlock.SWITCH]

    def ours() -> None:
        for i in range(N):
            run(isolated, i, ctx, performer)

    def in_process() -> None:
        for i in range(N):
            run(inline, i, ctx, sync)

    with ProcessPoolExecutor(max_workers=1) as executor:

        def bare() -> None:
            for i in range(N):
                executor.submit(plain_inc, i).result()

        ours()  # warm both: start the workers, import the module
        bare()
        confined()
        hooked()
        samples: dict[str, list[float]] = {"ours": [], "bare": [], "inline": [], "kernel": [], "hook": []}
        for _ in range(ROUNDS):
            samples["ours"].append(per_call_us(ours))
            samples["bare"].append(per_call_us(bare))
            samples["inline"].append(per_call_us(in_process))
            samples["kernel"].append(per_call_us(confined))
            samples["hook"].append(per_call_us(hooked))
    for each in (pool, kernel_pool, hook_pool):
        each.close()
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"process performer, per invocation ({N} calls x {ROUNDS} rounds, medians; {os.cpu_count()} cores)")
    print(f"  ProcessPerformer (warm worker)   {med['ours']:8.1f} us")
    print(f"  ProcessPoolExecutor.submit       {med['bare']:8.1f} us")
    print(f"  SyncDriver in-process (scale)    {med['inline']:8.1f} us")
    print(f"  ratio ours / bare submit         {med['ours'] / med['bare']:8.2f}x")
    print(f"  sandboxed, Landlock {landlock.abi()} + hook     {med['kernel']:8.1f} us")
    print(f"  sandboxed, audit hook alone      {med['hook']:8.1f} us")


if __name__ == "__main__":
    main()
