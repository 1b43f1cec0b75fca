"""The interpreter's cost per step, against plain Python and the retry/breaker peers.

Everything is measured in this one run on this machine, so the ratios mean something even
where the absolute numbers do not. Method: each case runs a body N times in a loop (ours:
one pipeline of N steps, so the per-run set-up is spread out), best of R repeats, garbage
collector off while timing. "overhead" is the time per step minus a plain call of the same
function. Targets are the issue's; the script prints PASS or MISS next to each.

Run: python bench/bench_core.py   (needs tenacity, stamina and pybreaker: pip install -e '.[bench]')
"""

from __future__ import annotations

import functools
import gc
import operator
import platform
import time
from collections.abc import Callable
from typing import Any

from returns.result import Failure, Result, Success

from omnibase import (
    ExecCtx,
    Failed,
    FakeDriver,
    RetryPolicy,
    SyncDriver,
    all_of,
    breaker,
    component,
    profile,
    retry,
    run,
)
from omnibase.testing import fake_ctx

N = 2_000
REPEATS = 7


def best_ns(body: Callable[[], None], steps: int, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        t = time.perf_counter_ns()
        body()
        elapsed = time.perf_counter_ns() - t
        gc.enable()
        best = min(best, elapsed / steps)
    return best


def work(x: int) -> int:
    return x + 1


def looped(fn: Callable[[int], Any]) -> Callable[[], None]:
    def body() -> None:
        for i in range(N):
            fn(i)

    return body


def main() -> None:
    import pybreaker
    import stamina
    import tenacity

    ctx = fake_ctx()

    @component(idempotent=True)
    def leaf(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Success(x + 1)

    def plain(x: int) -> Result[int, Failed]:
        return Success(work(x))

    def try_except(x: int) -> Any:
        try:
            return plain(x)
        except Exception as exc:  # the shape being measured
            return exc

    def hand_retry(x: int) -> Any:
        for attempt in range(3):
            try:
                return plain(x)
            except ConnectionError:
                if attempt == 2:
                    raise
        return None

    ten = tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none(), reraise=True)(plain)
    stamina.set_testing(True, attempts=3)
    sta = stamina.retry(on=ConnectionError, attempts=3)(plain)
    cb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)
    ten_cb = tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none(), reraise=True)(cb(plain))

    chain = functools.reduce(operator.rshift, [leaf] * N)
    guarded_one = profile(breaker(retry(leaf, RetryPolicy(max_attempts=3, initial=0.0))))
    guarded = functools.reduce(operator.rshift, [guarded_one] * N)

    rows: list[tuple[str, float]] = []
    base = best_ns(looped(plain), N)
    rows.append(("plain call", base))
    rows.append(("try/except around it", best_ns(looped(try_except), N)))
    rows.append(("hand-written retry loop", best_ns(looped(hand_retry), N)))
    rows.append(("tenacity (no wait)", best_ns(looped(ten), N)))
    rows.append(("stamina (testing mode)", best_ns(looped(sta), N)))
    rows.append(("tenacity + pybreaker", best_ns(looped(ten_cb), N)))
    ours_bare = best_ns(lambda: run(chain, 0, ctx, SyncDriver()), N)
    rows.append(("omnibase leaf, SyncDriver", ours_bare))
    ours_guarded = best_ns(lambda: run(guarded, 0, ctx, SyncDriver()), N)
    rows.append(("omnibase profile(breaker(retry(leaf)))", ours_guarded))

    # Failure path: two transient failures, then success, delays of zero. Compared fairly:
    # with no sleeping at all (tenacity's sleep a no-op, omnibase on the fake clock), and
    # with real sleeping (tenacity's time.sleep(0), omnibase's SyncDriver time.sleep(0)).
    def flaky_factory() -> Callable[[int], Any]:
        calls = [0]

        def flaky(x: int) -> Result[int, Failed]:
            calls[0] += 1
            if calls[0] % 3:
                raise ConnectionError("busy")
            return Success(x)

        return flaky

    def tenacity_fail(sleep: Callable[[float], None]) -> Callable[[int], Any]:
        return tenacity.retry(
            stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none(), reraise=True, sleep=sleep
        )(flaky_factory())

    hand_flaky = flaky_factory()

    def hand_fail(x: int) -> Any:
        for attempt in range(3):
            try:
                return hand_flaky(x)
            except ConnectionError:
                if attempt == 2:
                    raise
        return None

    state = [0]

    @component(idempotent=True)
    def flaky_leaf(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        state[0] += 1
        if state[0] % 3:
            return Failure(Failed(message="busy", transient=True))
        return Success(x)

    flaky_chain = functools.reduce(operator.rshift, [retry(flaky_leaf, RetryPolicy(max_attempts=3, initial=0.0, cap=0.0))] * N)
    fail_rows = [
        ("hand-written retry loop (no sleep)", best_ns(looped(hand_fail), N)),
        ("tenacity, no sleeping", best_ns(looped(tenacity_fail(lambda s: None)), N)),
        ("omnibase retry, FakeDriver (no sleeping)", best_ns(lambda: run(flaky_chain, 0, ctx, FakeDriver()), N)),
        ("tenacity, real time.sleep(0)", best_ns(looped(tenacity_fail(time.sleep)), N)),
        ("omnibase retry, SyncDriver (real sleep(0))", best_ns(lambda: run(flaky_chain, 0, ctx, SyncDriver()), N)),
    ]
    peers = {0: 1, 1: 1, 2: 1, 3: 3, 4: 3}  # each row against tenacity in the same sleeping regime

    # Scaling: the same leaf in sequences of 10k and 100k steps.
    scale = {}
    for n in (10_000, 100_000):
        seq = functools.reduce(operator.rshift, [leaf] * n)
        scale[n] = best_ns(lambda: run(seq, 0, ctx, FakeDriver()), n, repeats=3)

    print(f"omnibase core benchmark: Python {platform.python_version()}, {platform.machine()}, N={N}, best of {REPEATS}")
    print()
    print(f"{'success path':42} {'ns/step':>9} {'overhead':>9} {'vs plain':>9}")
    for name, ns in rows:
        print(f"{name:42} {ns:9.0f} {ns - base:9.0f} {ns / base:8.1f}x")
    peer = dict(rows)["tenacity + pybreaker"]
    print()
    print(f"{'failure path (2 failures, then success)':42} {'ns/step':>9} {'vs tenacity':>12}")
    for i, (name, ns) in enumerate(fail_rows):
        print(f"{name:42} {ns:9.0f} {ns / fail_rows[peers[i]][1]:11.2f}x")
    print()
    print(f"{'sequence length':42} {'ns/step':>9}")
    for n, ns in scale.items():
        print(f"{n:<42} {ns:9.0f}")
    ratio = scale[100_000] / scale[10_000]
    print()
    checks = [
        ("bare leaf overhead <= 2 us", ours_bare - base <= 2000),
        ("retry+breaker+profile overhead <= 5 us", ours_guarded - base <= 5000),
        (f"guarded vs tenacity+pybreaker: {peer / ours_guarded:.1f}x faster", ours_guarded < peer),
        ("failure path <= 10 us per step", fail_rows[2][1] <= 10_000),
        ("failure path, no sleeping: omnibase <= tenacity", fail_rows[2][1] <= fail_rows[1][1]),
        ("failure path, real sleeping: omnibase <= tenacity", fail_rows[4][1] <= fail_rows[3][1]),
        (f"100k vs 10k per step within 1.3x ({ratio:.2f}x)", ratio <= 1.3),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")


# --- sync overhead against the code before the performer protocol (commit acb62a0) ----------

#: The commit before the performer protocol: its per-step cost is the budget (+10%).
BASELINE = "acb62a0"
BUDGET = 1.10
ROUNDS = 9

#: Measured in a fresh interpreter for each side, with the same text: only API both have.
PROBE = """
import functools, gc, json, operator, time
from returns.result import Result, Success
from omnibase import ExecCtx, Failed, FakeDriver, RetryPolicy, SyncDriver, breaker, component, profile, retry, run
from omnibase.testing import fake_ctx

N = 2000

def best(body, repeats=5):
    out = float("inf")
    for _ in range(repeats):
        gc.collect(); gc.disable()
        t = time.process_time_ns(); body(); elapsed = time.process_time_ns() - t
        gc.enable()
        out = min(out, elapsed / N)
    return out

@component(idempotent=True)
def leaf(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    return Success(x + 1)

ctx = fake_ctx()
chain = functools.reduce(operator.rshift, [leaf] * N)
guarded = functools.reduce(operator.rshift, [profile(breaker(retry(leaf, RetryPolicy(max_attempts=3, initial=0.0))))] * N)
seen = []
print(json.dumps({
    "leaf, SyncDriver": best(lambda: run(chain, 0, ctx, SyncDriver())),
    "profile(breaker(retry(leaf))), SyncDriver": best(lambda: run(guarded, 0, ctx, SyncDriver())),
    "leaf, FakeDriver": best(lambda: run(chain, 0, ctx, FakeDriver())),
    "leaf, SyncDriver, one observer": best(lambda: run(chain, 0, ctx, SyncDriver([seen.append]))),
}))
"""


def _probe(tree: str) -> dict[str, float]:
    """Run ``PROBE`` with ``tree``'s omnibase first on ``sys.path`` (``python -c`` puts the
    working directory first, ahead of the editable install)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tree, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def compare_with_baseline() -> bool:
    """Per-step cost now against ``BASELINE``, interleaved rounds, ratio of medians."""
    import os
    import statistics
    import subprocess
    import tempfile

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="omnibase-baseline-") as old:
        try:  # the old package only, extracted: no worktree, nothing changed in the repository
            archive = subprocess.run(["git", "archive", BASELINE, "omnibase"], cwd=here, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        except (OSError, subprocess.CalledProcessError):
            print(f"(no comparison with {BASELINE}: not in this repository's history)")
            return True
        samples: dict[str, dict[str, list[float]]] = {"now": {}, "before": {}}
        for _ in range(ROUNDS):
            for side, tree in (("now", here), ("before", old)):
                for case, ns in _probe(tree).items():
                    samples[side].setdefault(case, []).append(ns)
    print(f"{'sync overhead vs ' + BASELINE + ' (median of ' + str(ROUNDS) + ')':42} {'now ns':>9} {'before':>9} {'ratio':>7}")
    ok = True
    for case, now in samples["now"].items():
        a, b = statistics.median(now), statistics.median(samples["before"][case])
        within = a / b <= BUDGET
        ok = ok and within
        print(f"{case:42} {a:9.0f} {b:9.0f} {a / b:6.2f}x {'PASS' if within else 'MISS'}")
    return ok


if __name__ == "__main__":
    main()
    print()
    compare_with_baseline()
