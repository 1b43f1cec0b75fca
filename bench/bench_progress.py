"""What live progress costs a 10,000-step run: the same run with the CLI's observers
(metrics) with and without the progress observer (live style, its ticker thread drawing
10 times a second, to /dev/null; and 200 times a second, so that the events are counted
many times during even the shortest run), rounds interleaved (each contender first in
turn); prints ratios of medians of CPU
time (process time: the ticker thread included, other processes on the machine not).
The issue's budget is 5% (a ratio of at most 1.05).

Two pipelines: steps that do nothing at all (the worst case: the run is nothing but the
interpreter's own per-step cost, a few microseconds) and steps that do ~20 microseconds
of work (still far cheaper than any real check). A no-op observer is shown beside
progress: the floor of what any observer costs, since the loops call every observer for
every event.

Run: python bench/bench_progress.py
"""

import gc
import os
import statistics
import time

from returns.result import Success

from omnibase import Meta, SyncDriver, all_of, run
from omnibase.core.step import Component
from omnibase.observers.metrics import MetricsObserver
from omnibase.observers.progress import Progress
from omnibase.testing import fake_ctx

N = 10_000
ROUNDS = 21
ctx = fake_ctx()
null = os.open(os.devnull, os.O_WRONLY)


def work(ctx, x):
    t = time.perf_counter_ns() + 20_000
    while time.perf_counter_ns() < t:
        pass
    return Success(x)


pipelines = {
    "empty steps": all_of([Component(lambda c, x: Success(x), Meta(name=f"c{i}")) for i in range(N)]),
    "20us steps": all_of([Component(work, Meta(name=f"c{i}")) for i in range(N)]),
}


def baseline(step):
    run(step, 0, ctx, SyncDriver(), observers=[MetricsObserver()])


def noop(step):
    run(step, 0, ctx, SyncDriver(), observers=[MetricsObserver(), lambda event: None])


def _progress(step, rate):
    shown = Progress(N, "live", rate=rate, write=lambda text: os.write(null, text.encode())).start()
    try:
        run(step, 0, ctx, SyncDriver(), observers=[MetricsObserver(), shown.observe])
    finally:
        shown.close()


def progress(step):
    _progress(step, 10)  # the CLI's rate


def progress_fast(step):
    _progress(step, 200)  # drawn (and the events counted) every 5 ms, many times a run


def timed(f, step) -> float:
    gc.collect()
    t = time.process_time()
    f(step)
    return time.process_time() - t


for label, step in pipelines.items():
    rounds = ROUNDS if label == "empty steps" else 5
    contenders = [baseline, noop, progress, progress_fast]
    times = {f.__name__: [] for f in contenders}
    for f in contenders:
        f(step)  # warm up
    for i in range(rounds):
        for f in contenders[i % 4 :] + contenders[: i % 4]:  # each goes first in turn
            times[f.__name__].append(timed(f, step))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{N} {label}, median of {rounds} interleaved rounds: CLI observers {med['baseline'] * 1e3:.1f} ms; "
        f"+ a no-op observer {med['noop'] / med['baseline']:.3f}x; + progress {med['progress'] / med['baseline']:.3f}x (budget 1.05); "
        f"+ progress drawn 200 times a second {med['progress_fast'] / med['baseline']:.3f}x"
    )
