"""The equivalence property: for any generated pipeline and component answers, the report of
a concurrent run (``arun``) equals the report of a sequential one (``run``) apart from timings.

Two conditions make "the same answers" meaningful, and the generated pipelines are held to
them: no breaker key is shared by branches that run at the same time (their interleaving
would legitimately decide who sees the breaker open), no answer depends on the clock (retry
delays zero, timeouts and breaker windows far longer than the run), and no fork is
fail-fast (which branches are in flight when one fails is a matter of timing: see
``test_protocol.py`` for what fail-fast promises).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnibase import FakeDriver, RunReport, SyncDriver, run
from omnibase.core.step import AllOf, Breaker, Step
from omnibase.drivers import AsyncDriver, arun
from omnibase.testing import fake_ctx
from omnibase.testing.strategies import PipelineSpec, build, pipelines

TIMINGS = frozenset({"offset_s", "duration_s", "started_at", "profile"})


def steady(spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with every policy made independent of the clock."""
    kind = spec[0]
    if kind == "leaf":
        return spec
    if kind == "retry":
        return ("retry", steady(spec[1]), msgspec.structs.replace(spec[2], initial=0.0, cap=0.0, deadline=None))
    if kind == "breaker":
        p = spec[2]
        policy = msgspec.structs.replace(p, window=1e9, reset_timeout=0.0 if p.reset_timeout < 50 else 1e9)
        return ("breaker", steady(spec[1]), policy)
    if kind == "timeout":
        return ("timeout", steady(spec[1]), 3600.0)
    if kind == "all_of":
        return ("all_of", [steady(s) for s in spec[1]], False)
    return (kind, *(steady(s) if isinstance(s, tuple) else s for s in spec[1:]))


def breaker_keys(step: Step[Any, Any]) -> set[str]:
    keys = {step.key} if isinstance(step, Breaker) else set()
    for child in step.children():
        keys |= breaker_keys(child)
    return keys


def shares_a_breaker_across_branches(step: Step[Any, Any]) -> bool:
    if isinstance(step, AllOf):
        seen: set[str] = set()
        for branch in step.branches:
            keys = breaker_keys(branch)
            if keys & seen:
                return True
            seen |= keys
    return any(shares_a_breaker_across_branches(c) for c in step.children())


def without_timings(report: RunReport[Any]) -> Any:
    data = msgspec.to_builtins(report)
    for key in TIMINGS:
        data.pop(key, None)
    data["profile"] = [name for name, _ in report.profile]
    data["steps"] = [{k: v for k, v in s.items() if k not in TIMINGS} for s in data["steps"]]
    return data


def pipeline(spec: PipelineSpec) -> Step[int, Any]:
    step = build(steady(spec))
    assume(not shares_a_breaker_across_branches(step))
    return step


@settings(max_examples=150, deadline=None)
@given(pipelines(8), st.integers(-3, 3), st.sampled_from([None, 1, 2]))
def test_async_report_equals_sync_report_under_the_fake_performer(spec: PipelineSpec, value: int, jobs: int | None) -> None:
    pipeline(spec)
    sync = run(pipeline(spec), value, fake_ctx(), FakeDriver())
    concurrent = asyncio.run(arun(pipeline(spec), value, fake_ctx(), FakeDriver(), jobs=jobs))
    assert without_timings(concurrent) == without_timings(sync)


@settings(max_examples=60, deadline=None)
@given(pipelines(6), st.integers(-3, 3))
def test_async_report_equals_sync_report_with_the_real_performers(spec: PipelineSpec, value: int) -> None:
    pipeline(spec)
    sync = run(pipeline(spec), value, fake_ctx(), SyncDriver())
    performer = AsyncDriver(threads=4)
    try:
        concurrent = asyncio.run(arun(pipeline(spec), value, fake_ctx(), performer, jobs=3))
    finally:
        performer.close()
    assert without_timings(concurrent) == without_timings(sync)


def test_a_flat_fail_fast_fork_reports_alike_when_nothing_suspends() -> None:
    """Under the fake performer nothing suspends, so branches run one after another even in
    the concurrent loop, and fail-fast stops the same ones with the same report."""
    from omnibase.testing.strategies import Act, Behaviour

    def leaf(name: str, kind: Any) -> PipelineSpec:
        return ("leaf", Behaviour(name=name, acts=(Act(kind),)))

    spec = ("all_of", [leaf("a", "ok"), leaf("b", "fail"), leaf("c", "ok"), ("then", leaf("d", "ok"), leaf("e", "ok"))], True)
    sync = run(build(spec), 0, fake_ctx(), FakeDriver())
    concurrent = asyncio.run(arun(build(spec), 0, fake_ctx(), FakeDriver()))
    assert [s.status.value for s in sync.steps] == ["PASS", "FAIL", "SKIP", "SKIP", "SKIP"]
    assert without_timings(concurrent) == without_timings(sync)
