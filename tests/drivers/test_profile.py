"""The profile performer: per-step wall and CPU time, attempts, backoff, timeouts, trace file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from returns.result import Failure, Result, Success

from omnibase.core.combinators import all_of, retry, timeout
from omnibase.core.intents import Called, Intent, Invoke
from omnibase.core.policies import RetryPolicy
from omnibase.core.step import component
from omnibase.core.values import ExecCtx, Failed
from omnibase.drivers import FakeDriver, SyncDriver, arun, run
from omnibase.drivers.profile import ProfilePerformer, trace_events, write_trace
from omnibase.testing import fake_ctx


@component(idempotent=True)
def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    return Failure(Failed(message="down", transient=True))


@component
def fast(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success(x)


@component
def slow(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success(x)


def test_wall_time_attempts_and_backoff_per_step_in_virtual_time() -> None:
    fake = FakeDriver(cost={"flaky": 0.5, "slow": 2.0, "fast": 0.1})
    prof = ProfilePerformer(fake)
    policy = RetryPolicy(max_attempts=3, initial=1.0, multiplier=2.0)
    report = prof.attach(run(all_of([retry(flaky, policy), slow, fast]), 1, fake_ctx(), prof))
    p = report.profiled
    assert p is not None
    by = {s.name: s for s in p.steps}
    assert (by["flaky"].attempts, by["flaky"].wall_s, by["flaky"].backoff_s) == (3, 1.5, 3.0)
    assert (by["slow"].attempts, by["slow"].wall_s, by["slow"].backoff_s) == (1, 2.0, 0.0)
    assert p.backoff_s == sum(fake.sleeps) == 3.0
    assert p.slowest == ("slow", "flaky", "fast")
    assert [i.attempt for i in p.invocations if i.name == "flaky"] == [1, 2, 3]
    assert [i.status for i in p.invocations] == ["FAIL", "FAIL", "FAIL", "PASS", "PASS"]
    assert [s.start_s for s in p.sleeps] == [0.5, 2.0]  # after attempt 1 (0.5 s), after attempt 2


def test_timeouts_are_named() -> None:
    prof = ProfilePerformer(FakeDriver(cost={"slow": 10.0}))
    report = prof.attach(run(timeout(slow, 1.0) >> fast, 1, fake_ctx(), prof))
    assert report.profiled is not None
    assert report.profiled.timeouts == ("slow",)
    assert report.profiled.steps[0].timed_out


class Reporting:
    """An inner performer that measured CPU time where the call ran (like a worker)."""

    def __init__(self) -> None:
        self.inner = FakeDriver()
        self.observers = ()

    def perform(self, intent: Intent) -> Any:
        answer = self.inner.perform(intent)
        if isinstance(intent, Invoke):
            return Called(answer.returned, answer.raised, answer.started, answer.ended, cpu_ns=123_000)
        return answer


def test_cpu_time_measured_by_the_performer_is_used() -> None:
    prof = ProfilePerformer(Reporting())
    report = prof.attach(run(fast, 1, fake_ctx(), prof))
    assert report.profiled is not None and report.profiled.steps[0].cpu_s == 123e-6


def test_cpu_time_of_a_busy_component_is_measured() -> None:
    @component
    def busy(ctx: ExecCtx, n: int) -> Result[int, str]:
        return Success(sum(i * i for i in range(n)))

    prof = ProfilePerformer(SyncDriver())
    report = prof.attach(run(busy, 300_000, fake_ctx(), prof))
    assert report.profiled is not None and report.profiled.cpu_s > 0


def _check_trace(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The shape Perfetto and speedscope read: complete events with µs ts/dur, pid/tid,
    names; events on one tid never overlap partially."""
    assert set(doc) >= {"traceEvents"}
    spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    for e in doc["traceEvents"]:
        assert isinstance(e["name"], str) and e["name"]
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert e["ph"] in ("X", "M")
    for e in spans:
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
        assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0
    by_tid: dict[int, list[dict[str, Any]]] = {}
    for e in spans:
        by_tid.setdefault(e["tid"], []).append(e)
    for events in by_tid.values():
        events.sort(key=lambda e: e["ts"])
        for a, b in zip(events, events[1:]):
            assert a["ts"] + a["dur"] <= b["ts"] + 1e-3
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert len(names) == len(by_tid)
    return spans


def test_trace_file_has_complete_events_in_microseconds(tmp_path: Path) -> None:
    fake = FakeDriver(cost={"flaky": 0.5, "slow": 2.0})
    prof = ProfilePerformer(fake)
    report = prof.attach(run(retry(flaky, RetryPolicy(max_attempts=2, initial=1.0)) >> slow, 1, fake_ctx(), prof))
    out = tmp_path / "trace.json"
    write_trace(str(out), report)
    spans = _check_trace(json.loads(out.read_text()))
    assert [(e["name"], e["cat"], e["ts"], e["dur"]) for e in sorted(spans, key=lambda e: e["ts"])] == [
        ("flaky", "step", 0.0, 500_000.0),
        ("backoff flaky", "backoff", 500_000.0, 1_000_000.0),
        ("flaky", "step", 1_500_000.0, 500_000.0),
    ]


def test_overlapping_async_invocations_get_separate_lanes() -> None:
    @component
    async def nap(ctx: ExecCtx, x: int) -> Result[int, str]:
        await asyncio.sleep(0.05)
        return Success(x)

    from omnibase.drivers.aio import AsyncDriver

    driver = AsyncDriver()
    prof = ProfilePerformer(driver)
    report = prof.attach(asyncio.run(arun(all_of([nap, nap, nap]), 1, fake_ctx(), prof)))
    driver.close()
    spans = _check_trace(trace_events(report, pid=7))
    assert len(spans) == 3 and {e["pid"] for e in spans} == {7}
    assert len({e["tid"] for e in spans}) == 3
