"""The async mode's cost: many sleeping components, against bare asyncio and the ideal.

1,000 ``async def`` components that each sleep 10 ms run as one ``all_of`` through
``arun`` with the ``AsyncDriver``:

- ``jobs=1000`` (all at once) against a bare ``asyncio.gather`` of the same 1,000 sleeps
  (target <= 1.5x): what the interpreter, the loop and the performer add;
- ``jobs=100`` against the ideal 10 waves x 10 ms = 100 ms (target <= 1.2x).

Method: wall time of each case, the cases interleaved round after round in this one
process (so a busy machine slows them alike), the median of ``ROUNDS``; ratios of medians.
The guarded variant (retry, breaker and profile around every component, as the stage
orchestrators build it) is shown for information.

Run: python bench/bench_async.py
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from returns.result import Result, Success

from omnibase import ExecCtx, Failed, all_of, component
from omnibase.drivers import AsyncDriver, arun
from omnibase.orchestrators import guard
from omnibase.testing import fake_ctx

N = 1_000
SLEEP = 0.010
ROUNDS = 11


@component
async def nap(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    await asyncio.sleep(SLEEP)
    return Success(x)


def timed(case: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Wall and CPU seconds of ``asyncio.run(case())``."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(case())  # case returns None: asyncio.run may repr its main task's result
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    ctx = fake_ctx()
    flat = all_of([nap] * N)
    guarded = all_of([guard(nap) for _ in range(N)])

    async def bare() -> None:
        await asyncio.gather(*(asyncio.sleep(SLEEP) for _ in range(N)))

    async def ours(step: Any, jobs: int) -> None:
        report = await arun(step, 0, ctx, AsyncDriver(), jobs=jobs)
        assert report.exit_code == 0 and len(report.steps) == N, report.summary

    async def empty() -> None:  # what asyncio.run itself costs, taken off every case
        return None

    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "asyncio.run of nothing": empty,
        "bare asyncio.gather of 1,000 sleeps": bare,
        "arun, jobs=1000": lambda: ours(flat, 1000),
        "arun, jobs=1000, guarded": lambda: ours(guarded, 1000),
        "arun, jobs=100": lambda: ours(flat, 100),
    }
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for name, case in cases.items():  # warm up: imports, first-use caches
        timed(case)
    for _ in range(ROUNDS):
        for name, case in cases.items():
            wall, cpu = timed(case)
            walls[name].append(wall)
            cpus[name].append(cpu)
    med = {name: statistics.median(xs) for name, xs in walls.items()}
    cpu_med = {name: statistics.median(xs) for name, xs in cpus.items()}
    base = med.pop("asyncio.run of nothing")
    cpu_base = cpu_med.pop("asyncio.run of nothing")
    net = {name: max(1e-9, m - base) for name, m in med.items()}

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"omnibase async benchmark: Python {platform.python_version()}, {platform.machine()}, "
          f"{N} components x {SLEEP * 1e3:g} ms, median of {ROUNDS} interleaved rounds")  # fmt: skip
    print(f"load average {load:.1f} on {os.cpu_count()} cores: wall times stretch with load, CPU times less so")
    print(f"(asyncio.run itself, {base * 1e3:.1f} ms wall, is taken off every case)")
    print()
    print(f"{'case':42} {'wall ms':>8} {'CPU ms':>8}")
    for name in net:
        print(f"{name:42} {net[name] * 1e3:8.1f} {(cpu_med[name] - cpu_base) * 1e3:8.1f}")
    bare_ms = net["bare asyncio.gather of 1,000 sleeps"]
    r_all = net["arun, jobs=1000"] / bare_ms
    r_guarded = net["arun, jobs=1000, guarded"] / bare_ms
    ideal = (N / 100) * SLEEP
    r_100 = net["arun, jobs=100"] / ideal
    print()
    print(f"{'ratio':42} {'value':>8} {'target':>8}")
    print(f"{'jobs=1000 vs bare asyncio.gather':42} {r_all:7.2f}x {'<= 1.5x':>8} {'PASS' if r_all <= 1.5 else 'MISS'}")
    print(f"{'jobs=1000 guarded vs bare asyncio.gather':42} {r_guarded:7.2f}x {'(info)':>8}")
    print(f"{'jobs=100 vs ideal 100 ms':42} {r_100:7.2f}x {'<= 1.2x':>8} {'PASS' if r_100 <= 1.2 else 'MISS'}")


if __name__ == "__main__":
    main()
