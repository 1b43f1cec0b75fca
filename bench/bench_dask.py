"""The Dask performer: throughput on a 2-worker ``LocalCluster``, and its cost per invocation.

1. 200 CPU-bound components (about 50 ms each, calibrated here) side by side in one
   ``all_of``: ``arun`` with the ``DaskPerformer`` on a local cluster of 2 worker processes
   against ``run`` with the in-process ``SyncDriver``. Ideal on 2 free cores: 0.5x.
2. The cost of one trivial invocation (``x + 1``), one at a time: the ``DaskPerformer``
   against the ``AsyncDriver`` (a thread of this process) and the ``ProcessPerformer``
   (a warm worker process of our own); a bare ``Client.submit(...).result()`` shows how
   much of it is Dask's own round trip.

Each round times one side then the other (interleaved, so machine noise hits both alike);
the figures are ratios of the medians over the rounds.

Run: python bench/bench_dask.py (needs omnibase[dask])
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import time
from typing import Any

from returns.result import Success

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from omnibase import ExecCtx, Meta, SyncDriver, all_of, run  # noqa: E402
from omnibase.core.step import Component  # noqa: E402
from omnibase.drivers import AsyncDriver, arun  # noqa: E402
from omnibase.drivers.dask import DaskPerformer  # noqa: E402
from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool  # noqa: E402

COMPONENTS = 200
TARGET_S = 0.050
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CALLS = 200


def spin(ctx: object, n: int) -> object:
    """CPU-bound work: ``n`` multiply-adds."""
    total = 0
    for i in range(n):
        total = (total * 31 + i) & 0xFFFFFFFF
    return Success(total)


def inc(ctx: object, x: int) -> object:
    return Success(x + 1)


def plain_inc(x: int) -> int:
    """The same work for a bare ``Client.submit``."""
    return x + 1


def calibrate() -> int:
    """The ``n`` for which ``spin`` takes about ``TARGET_S`` here (the fastest of a few)."""
    n = 200_000
    best = min(_timed(lambda: spin(None, n)) for _ in range(5))
    return max(1, int(n * TARGET_S / best))


def _timed(body: Any) -> float:
    t = time.perf_counter()
    body()
    return time.perf_counter() - t


def main() -> None:
    ctx = ExecCtx(run_id="bench", trace_id="0af7651916cd43dd8448eb211c80319c", root=HERE)
    remote = lambda name: Component(globals()[name], Meta(name=name, ref=f"bench_dask:{name}"))  # noqa: E731
    local = lambda name: Component(globals()[name], Meta(name=name))  # noqa: E731
    n = calibrate()
    dask = DaskPerformer(workers=2)
    problem = dask.connect()
    if problem is not None:
        sys.exit(problem)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        fan_remote = all_of([remote("spin") for _ in range(COMPONENTS)])
        fan_local = all_of([local("spin") for _ in range(COMPONENTS)])

        def on_cluster() -> None:
            report = asyncio.run(arun(fan_remote, n, ctx, dask, jobs=2))
            assert report.exit_code == 0, report.error

        def in_process() -> None:
            assert run(fan_local, n, ctx, SyncDriver()).exit_code == 0

        asyncio.run(arun(all_of([remote("spin"), remote("spin")]), n, ctx, dask))  # warm: import on both workers
        wide: dict[str, list[float]] = {"dask": [], "sync": []}
        for _ in range(ROUNDS):
            wide["dask"].append(_timed(on_cluster))
            wide["sync"].append(_timed(in_process))

        pool = WorkerPool(size=1)
        process = ProcessPerformer(SyncDriver(), pool=pool)
        aio = AsyncDriver()
        one_remote, one_local = remote("inc"), local("inc")
        one_isolated = Component(inc, Meta(name="inc", isolation="process", ref="bench_dask:inc"))

        def seq_dask() -> None:
            for i in range(CALLS):
                run(one_remote, i, ctx, dask)

        async def seq_async() -> None:
            for i in range(CALLS):
                await arun(one_local, i, ctx, aio)

        def seq_process() -> None:
            for i in range(CALLS):
                run(one_isolated, i, ctx, process)

        def seq_bare() -> None:
            for i in range(CALLS):
                dask.client.submit(plain_inc, i, pure=False).result()

        seq_dask(), seq_process(), seq_bare()  # warm
        cost: dict[str, list[float]] = {"dask": [], "bare": [], "async": [], "process": []}
        for _ in range(max(ROUNDS, 5)):
            cost["dask"].append(_timed(seq_dask) / CALLS * 1e6)
            cost["bare"].append(_timed(seq_bare) / CALLS * 1e6)
            cost["async"].append(_timed(lambda: asyncio.run(seq_async())) / CALLS * 1e6)
            cost["process"].append(_timed(seq_process) / CALLS * 1e6)
        pool.close()
        aio.close()
    finally:
        dask.close()
    w = {k: statistics.median(v) for k, v in wide.items()}
    c = {k: statistics.median(v) for k, v in cost.items()}
    print(f"dask performer ({os.cpu_count()} cores; medians of {ROUNDS} rounds, interleaved)")
    print(f"  {COMPONENTS} x ~{TARGET_S * 1e3:.0f} ms CPU-bound components in one all_of:")
    print(f"    DaskPerformer, LocalCluster of 2 workers   {w['dask']:8.2f} s")
    print(f"    SyncDriver, in process                     {w['sync']:8.2f} s")
    print(f"    ratio dask / sync                          {w['dask'] / w['sync']:8.2f}x (ideal on 2 free cores: 0.50x)")
    print(f"  one trivial invocation at a time ({CALLS} calls):")
    print(f"    DaskPerformer                              {c['dask']:8.1f} us")
    print(f"    bare Client.submit(f, x).result()          {c['bare']:8.1f} us")
    print(f"    AsyncDriver (a thread here)                {c['async']:8.1f} us")
    print(f"    ProcessPerformer (warm worker process)     {c['process']:8.1f} us")
    print(f"    ratio dask / async                         {c['dask'] / c['async']:8.1f}x")
    print(f"    ratio dask / process                       {c['dask'] / c['process']:8.1f}x")
    print(f"    ratio dask / bare submit                   {c['dask'] / c['bare']:8.2f}x (what omnibase adds to Dask)")


if __name__ == "__main__":
    main()
