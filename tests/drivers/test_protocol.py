"""The performer protocol: identities before calls, events, forks, breakers, async components.

Each test drives the one interpreter through ``run``/``arun`` with a real performer (fake,
sync or asyncio), and records what the performer was asked through a performer decorator
(``Recorder``): the same shape a user writes to wrap a performer.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase import (
    BreakerPolicy,
    CircuitOpen,
    ExecCtx,
    Failed,
    FakeDriver,
    Misconfigured,
    Raised,
    RetryPolicy,
    Status,
    Step,
    SyncDriver,
    all_of,
    breaker,
    component,
    dry_run,
    retry,
    run,
)
from omnibase.core.intents import EVENT_TYPES, BreakerChanged, Event, Intent, Invoke, Now, RetryScheduled, Started, Wall
from omnibase.core.policies import BreakerMode
from omnibase.core.values import Interrupted, StepResult
from omnibase.drivers import AsyncDriver, arun
from omnibase.testing import fake_ctx
from omnibase.testing.strategies import build, pipelines

SETTINGS = settings(max_examples=100, deadline=None)


class Recorder:
    """A performer decorator: logs every intent it is asked, then lets ``inner`` answer."""

    def __init__(self, inner: Any, log: list[Any]) -> None:
        self.inner = inner
        self.log = log

    def perform(self, intent: Intent) -> Any:
        self.log.append(intent)
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        self.log.append(intent)
        return await self.inner.aperform(intent)


def recorded(step: Step[Any, Any], value: Any = 0, concurrent: bool = False) -> tuple[Any, list[Any]]:
    """Run ``step`` under the fake performer (with ``run``, or ``arun`` if ``concurrent``);
    the report and every intent and event, in order."""
    log: list[Any] = []
    performer = Recorder(FakeDriver(), log)
    if concurrent:
        report = asyncio.run(arun(step, value, fake_ctx(), performer, observers=(log.append,)))
    else:
        report = run(step, value, fake_ctx(), performer, observers=(log.append,))
    return report, log


# --- identity before the call -------------------------------------------------------------------


@SETTINGS
@given(pipelines(8), st.integers(-3, 3), st.booleans())
def test_every_invoke_carries_its_identity_between_its_started_event_and_its_result(
    spec: Any, value: int, concurrent: bool
) -> None:
    report, log = recorded(build(spec), value, concurrent)
    invokes = [(i, x) for i, x in enumerate(log) if type(x) is Invoke]
    spans = [x.span_id for _, x in invokes]
    assert len(set(spans)) == len(spans), "a span id is never reused within a run"
    for i, intent in invokes:
        started, result = log[i - 1], log[i + 1]
        assert type(started) is Started
        assert (started.name, started.span_id, started.attempt) == (intent.component.name, intent.span_id, intent.attempt)
        assert type(result) is StepResult
        assert (result.name, result.span_id, result.attempts) == (intent.component.name, intent.span_id, intent.attempt)
        assert intent.attempt >= 1 and len(intent.span_id) == 16
    assert sum(type(x) is Started for x in log) == len(invokes), "a Started event for each invocation, no other"
    # every step of the report that ran was one of those invocations
    invoked = {x.span_id: x for _, x in invokes}
    for step in report.steps:
        if step.span_id in invoked:
            assert invoked[step.span_id].component.name == step.name
        else:
            assert step.attempts == 0 or step.status is Status.SKIP or step.error is not None


def test_attempts_count_up_under_retry_with_a_new_span_each_time() -> None:
    calls = [0]

    @component(idempotent=True)
    def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        calls[0] += 1
        return Success(x) if calls[0] == 3 else Failure(Failed(message="busy", transient=True))

    report, log = recorded(retry(flaky, RetryPolicy(max_attempts=5, initial=0.5)))
    invokes = [x for x in log if type(x) is Invoke]
    assert [x.attempt for x in invokes] == [1, 2, 3]
    assert [x.attempt for x in log if type(x) is Started] == [1, 2, 3]
    assert [x.attempt for x in log if type(x) is RetryScheduled] == [1, 2]
    assert len({x.span_id for x in invokes}) == 3
    (step,) = report.steps
    assert step.status is Status.PASS and step.attempts == 3 and step.span_id == invokes[-1].span_id


def test_events_reach_observers_but_never_the_performer() -> None:
    report, log = recorded(retry(make_ok("a") >> make_ok("b"), RetryPolicy()))
    performer_saw = [x for x in log if type(x) not in EVENT_TYPES]
    assert all(type(x) in (Invoke, Now) or type(x).__name__ in ("Wall", "Sleep") for x in performer_saw)
    assert report.exit_code == 0


def make_ok(name: str) -> Any:
    def ok(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Success(x + 1)

    return component(ok, name=name, idempotent=True)


def make_fail(name: str) -> Any:
    def bad(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Failure(Failed(message=f"{name} failed"))

    return component(bad, name=name)


@component
def stop(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    """Ctrl-C, as a component: raises ``KeyboardInterrupt``."""
    raise KeyboardInterrupt


@component
async def hangs(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    """Waits until it is cancelled."""
    await asyncio.Event().wait()
    return Success(x)  # pragma: no cover - never reached


# --- Fork: fail-fast and total branches ----------------------------------------------------------


def test_sequential_fail_fast_never_starts_the_later_branches() -> None:
    report, log = recorded(all_of([make_ok("a"), make_fail("b"), make_ok("c"), make_ok("d") >> make_ok("e")], fail_fast=True))
    assert [x.component.name for x in log if type(x) is Invoke] == ["a", "b"]
    by_name = {s.name: s for s in report.steps}
    assert [s.name for s in report.steps] == ["a", "b", "c", "d", "e"]
    assert by_name["b"].status is Status.FAIL
    for name in "cde":
        assert by_name[name].status is Status.SKIP and by_name[name].reason == "an earlier branch failed"
    assert report.exit_code == 1


def test_without_fail_fast_every_branch_runs() -> None:
    report, log = recorded(all_of([make_fail("a"), make_ok("b"), make_ok("c")]))
    assert [x.component.name for x in log if type(x) is Invoke] == ["a", "b", "c"]
    assert [s.status for s in report.steps] == [Status.FAIL, Status.PASS, Status.PASS]


def test_dry_run_plans_every_branch_even_under_fail_fast() -> None:
    report, log = recorded(dry_run(all_of([make_ok("a"), make_ok("b"), make_ok("c")], fail_fast=True)))
    assert [s.reason for s in report.steps] == ["dry-run: not run"] * 3
    assert report.exit_code == 0


class _Odd(Step[Any, Any]):
    """A step the interpreter does not know: a bug in a pipeline, not in the user's data."""


def test_a_bad_node_in_a_parallel_branch_is_a_raised_value_sync_and_async() -> None:
    for bad in (42, _Odd("odd")):
        step = all_of([make_ok("a"), bad, make_ok("c")])  # type: ignore[list-item]
        for report in (
            run(step, 0, fake_ctx(), FakeDriver()),
            run(step, 0, fake_ctx(), SyncDriver()),
            asyncio.run(arun(step, 0, fake_ctx(), FakeDriver())),
            asyncio.run(arun(step, 0, fake_ctx(), AsyncDriver())),
        ):
            assert isinstance(report.error, Raised) and report.error.exc_type == "TypeError"
            assert [(s.name, s.status) for s in report.steps] == [("a", Status.PASS), ("c", Status.PASS)]
            assert report.exit_code == 1 and report.outcome == "completed"


# --- the concurrent loop ---------------------------------------------------------------------------


def test_async_fail_fast_cancels_branches_in_flight_and_skips_them() -> None:
    cancelled: list[str] = []

    @component
    async def fails(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        await asyncio.sleep(0)
        return Failure(Failed(message="no"))

    @component
    async def forever(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("forever")
            raise
        return Success(x)  # pragma: no cover - never reached

    for performer in (FakeDriver(), AsyncDriver()):
        cancelled.clear()
        step = all_of([forever, fails, forever >> make_ok("after")], fail_fast=True)
        report = asyncio.run(arun(step, 0, fake_ctx(), performer))
        assert cancelled == ["forever", "forever"]
        assert [(s.name, s.status, s.reason) for s in report.steps] == [
            ("forever", Status.SKIP, "cancelled: another branch failed"),
            ("fails", Status.FAIL, ""),
            ("forever", Status.SKIP, "cancelled: another branch failed"),
            ("after", Status.SKIP, "an earlier branch failed"),
        ]
        assert report.exit_code == 1 and report.outcome == "completed"


def test_async_fail_fast_cancels_branches_waiting_for_a_job_slot() -> None:
    @component
    async def fails(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Failure(Failed(message="no"))

    log: list[Any] = []
    step = all_of([fails, make_ok("b"), make_ok("c")], fail_fast=True)
    report = asyncio.run(arun(step, 0, fake_ctx(), Recorder(FakeDriver(), log), jobs=1))
    assert [x.component.name for x in log if type(x) is Invoke] == ["fails"]
    assert [(s.name, s.status) for s in report.steps] == [("fails", Status.FAIL), ("b", Status.SKIP), ("c", Status.SKIP)]


def test_cancelling_an_async_run_ends_it_with_a_partial_report() -> None:
    entered = asyncio.Event

    async def scenario() -> Any:
        started = entered()

        @component
        async def waits(ctx: ExecCtx, x: int) -> Result[int, Failed]:
            started.set()
            await asyncio.Event().wait()
            return Success(x)  # pragma: no cover - never reached

        step = make_ok("first") >> all_of([waits, waits >> make_ok("later")]) >> make_ok("last")
        task = asyncio.ensure_future(arun(step, 0, fake_ctx(), AsyncDriver()))
        await started.wait()
        task.cancel()
        return await task

    report = asyncio.run(scenario())
    assert report.outcome == "interrupted" and report.exit_code == 130
    assert [(s.name, s.status) for s in report.steps] == [
        ("first", Status.PASS),
        ("waits", Status.FAIL),
        ("waits", Status.FAIL),
        ("later", Status.SKIP),
        ("last", Status.SKIP),
    ]
    assert isinstance(report.steps[1].error, Interrupted)


def test_breaker_state_is_read_after_the_clock_answers() -> None:
    """Branch a's call is in flight (the breaker still closed) when branch b asks the clock;
    the performer answers b only once a's failure has opened the shared breaker: b must see
    it open (a loop that read the state before asking the clock would let b through)."""
    opened = threading.Event()
    asked: list[int] = []

    class SlowClock(Recorder):
        async def aperform(self, intent: Intent) -> Any:
            if type(intent) is Wall:  # breakers read the wall clock (their state may outlive the run)
                asked.append(1)
                if len(asked) == 3:  # 1: the run's start, 2: a's breaker, 3: b's breaker
                    while not opened.is_set():
                        await asyncio.sleep(0)
            return await super().aperform(intent)

    def on_event(event: Event) -> None:
        if type(event) is BreakerChanged and event.after is BreakerMode.OPEN:
            opened.set()

    @component
    async def a(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        for _ in range(3):
            await asyncio.sleep(0)  # in flight while b asks the clock
        return Failure(Failed(message="down"))

    policy = BreakerPolicy(threshold=1, window=60.0, reset_timeout=60.0)
    step = all_of([breaker(a, policy, key="shared"), breaker(make_ok("b"), policy, key="shared")])
    for performer in (FakeDriver(), AsyncDriver()):
        opened.clear()
        asked.clear()
        log: list[Any] = []
        report = asyncio.run(arun(step, 0, fake_ctx(), SlowClock(performer, log), observers=(on_event,)))
        assert [x.component.name for x in log if type(x) is Invoke] == ["a"]
        b = report.steps[-1]
        assert b.name == "b" and b.status is Status.FAIL and isinstance(b.error, CircuitOpen)


# --- async def components ---------------------------------------------------------------------


@component
async def twice(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    await asyncio.sleep(0)
    return Success(2 * x)


def test_async_components_run_under_arun_with_either_async_performer() -> None:
    step = twice >> make_ok("inc") >> twice
    assert twice.is_async and not make_ok("x").is_async
    for performer in (FakeDriver(), AsyncDriver()):
        report = asyncio.run(arun(step, 3, fake_ctx(), performer))
        assert report.output == 14 and report.exit_code == 0
        assert [s.status for s in report.steps] == [Status.PASS] * 3


def test_async_component_exceptions_and_timeouts_are_values() -> None:
    @component
    async def boom(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        raise ConnectionError("down")

    @component(timeout=0.01)
    async def slow(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        await asyncio.Event().wait()
        return Success(x)  # pragma: no cover - never reached

    report = asyncio.run(arun(all_of([boom, slow]), 0, fake_ctx(), AsyncDriver()))
    first, second = report.steps
    assert isinstance(first.error, Raised) and first.error.transient and "ConnectionError" in first.error.traceback
    assert type(second.error).__name__ == "TimedOut"


def test_sync_performers_refuse_async_components_with_a_config_error_naming_async_mode() -> None:
    for performer in (FakeDriver(), SyncDriver()):
        report = run(make_ok("a") >> twice, 1, fake_ctx(), performer)
        step = report.steps[1]
        assert step.status is Status.FAIL and isinstance(step.error, Misconfigured)
        assert "--mode async" in step.error.message and "arun()" in step.error.message
        assert report.exit_code == 2


def test_arun_with_default_performer_runs_sync_components_in_threads() -> None:
    seen: list[str] = []

    @component
    def where(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        seen.append(threading.current_thread().name)
        return Success(x)

    report = asyncio.run(arun(all_of([where, where]), 0, fake_ctx()))
    assert report.exit_code == 0 and len(seen) == 2
    assert all(name != threading.main_thread().name for name in seen)


def test_ctrl_c_in_a_sequential_branch_keeps_every_step_in_the_partial_report() -> None:
    step = all_of([make_ok("a"), stop >> make_ok("b"), make_ok("c")]) >> make_ok("d")
    report = run(step, 0, fake_ctx(), SyncDriver())
    assert report.outcome == "interrupted" and report.exit_code == 130
    assert [(s.name, s.status, s.reason) for s in report.steps] == [
        ("a", Status.PASS, ""),
        ("stop", Status.FAIL, ""),
        ("b", Status.SKIP, "interrupted"),
        ("c", Status.SKIP, "interrupted"),
        ("d", Status.SKIP, "interrupted"),
    ]


def test_a_component_raising_keyboard_interrupt_in_a_concurrent_branch_interrupts_the_run() -> None:
    step = all_of([hangs, stop >> make_ok("b")]) >> make_ok("d")
    for performer in (FakeDriver(), AsyncDriver()):
        report = asyncio.run(arun(step, 0, fake_ctx(), performer))
        assert report.outcome == "interrupted" and report.exit_code == 130
        assert [(s.name, s.status, s.reason) for s in report.steps] == [
            ("hangs", Status.FAIL, ""),
            ("stop", Status.FAIL, ""),
            ("b", Status.SKIP, "interrupted"),
            ("d", Status.SKIP, "interrupted"),
        ]


def test_cancellation_reaches_every_branch_of_nested_forks() -> None:
    @component
    async def refuse(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        await asyncio.sleep(0)
        return Failure(Failed(message="no"))

    nested = all_of([all_of([hangs, hangs >> make_ok("after")]), hangs])
    failing = all_of([all_of([hangs, all_of([hangs, hangs])]), refuse], fail_fast=True)

    async def cancelled_after_start() -> Any:
        task = asyncio.ensure_future(arun(nested, 0, fake_ctx(), AsyncDriver()))
        for _ in range(20):  # let every branch reach its coroutine
            await asyncio.sleep(0)
        task.cancel()
        return await task

    report = asyncio.run(cancelled_after_start())
    assert report.outcome == "interrupted"
    assert [(s.name, s.status) for s in report.steps] == [
        ("hangs", Status.FAIL), ("hangs", Status.FAIL), ("after", Status.SKIP), ("hangs", Status.FAIL)
    ]  # fmt: skip
    for performer in (FakeDriver(), AsyncDriver()):
        report = asyncio.run(arun(failing, 0, fake_ctx(), performer))
        assert report.outcome == "completed" and report.exit_code == 1
        # the run returned, so every hanging branch was cancelled or never started
        assert [(s.name, s.status) for s in report.steps] == [("hangs", Status.SKIP)] * 3 + [("refuse", Status.FAIL)]
        assert report.steps[0].reason == "cancelled: another branch failed"
        assert {s.reason for s in report.steps[1:3]} <= {"cancelled: another branch failed", "an earlier branch failed"}
