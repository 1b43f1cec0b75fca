"""The interpreter's laws and promises, mostly as properties under the fake driver."""

from __future__ import annotations

import functools
import operator
import time
import tracemalloc
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase import (
    BreakerPolicy,
    CircuitOpen,
    ExecCtx,
    Failed,
    FakeDriver,
    ProtocolViolation,
    Raised,
    RetryPolicy,
    RunReport,
    Skip,
    Status,
    SyncDriver,
    TimedOut,
    all_of,
    breaker,
    component,
    dry_run,
    fallback,
    identity,
    profile,
    recover,
    retry,
    run,
    timeout,
)
from omnibase.core.policies import BreakerMode, Breakers, schedule
from omnibase.testing import check_associativity, check_deterministic, check_identity, fake_ctx
from omnibase.testing.strategies import Act, Behaviour, behaviours, build, make_component, pipelines, retry_policies

SETTINGS = settings(max_examples=150, deadline=None)


@component(idempotent=True)
def inc(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    return Success(x + 1)


# --- laws ------------------------------------------------------------------------------------


@SETTINGS
@given(pipelines(4), pipelines(4), pipelines(4), st.integers(-3, 3))
def test_rshift_is_associative(a: Any, b: Any, c: Any, value: int) -> None:
    check_associativity(lambda: (build(a), build(b), build(c)), value)


@SETTINGS
@given(pipelines(6), st.integers(-3, 3))
def test_identity_is_a_unit_of_rshift(spec: Any, value: int) -> None:
    check_identity(lambda: build(spec), value)


@SETTINGS
@given(pipelines(6), st.integers(-3, 3))
def test_same_pipeline_and_answers_give_byte_identical_reports(spec: Any, value: int) -> None:
    check_deterministic(lambda: build(spec), value)


@SETTINGS
@given(pipelines(8), st.integers(-3, 3))
def test_no_generated_misbehaviour_escapes_and_reports_round_trip(spec: Any, value: int) -> None:
    report = run(build(spec), value, fake_ctx(), FakeDriver())
    assert isinstance(report, RunReport)
    failures = [s.error for s in report.steps if s.status is Status.FAIL] + [report.error]
    protocol = any(isinstance(e, ProtocolViolation) for e in failures)
    assert report.exit_code == (4 if protocol else 1 if report.summary.status is Status.FAIL else 0)
    assert report.summary.failed == sum(s.status is Status.FAIL for s in report.steps)
    encoded = msgspec.json.encode(report)
    decoded = msgspec.json.decode(encoded, type=RunReport)
    assert msgspec.json.encode(decoded) == encoded
    # JSON has no tuples: a tuple value comes back as a list; nothing else changes
    assert decoded.steps == tuple(msgspec.structs.replace(s, value=_as_json(s.value)) for s in report.steps)
    assert decoded.output == _as_json(report.output)


def _as_json(value: Any) -> Any:
    """``value`` as JSON gives it back: tuples are lists, all the way down."""
    if isinstance(value, (tuple, list)):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


# --- retry -----------------------------------------------------------------------------------


@SETTINGS
@given(retry_policies(), st.integers(0, 6), st.integers(0, 1000))
def test_retry_sleeps_exactly_the_schedule_and_attempts_min_k_plus_1_max(p: RetryPolicy, k: int, seed: int) -> None:
    acts = (Act("transient"),) * k + (Act("ok", 1),)
    comp, counter = make_component(Behaviour("flaky", acts, idempotent=True))
    driver = FakeDriver()
    report = run(retry(comp, p), 0, fake_ctx(seed=seed), driver)
    attempts = min(k + 1, p.max_attempts)
    assert counter.calls == attempts
    assert report.steps[0].attempts == attempts
    assert tuple(driver.sleeps) == schedule(p, seed=seed, key="flaky")[: attempts - 1]
    assert (report.exit_code == 0) == (k < p.max_attempts)


@SETTINGS
@given(retry_policies(), behaviours())
def test_non_idempotent_component_is_invoked_exactly_once(p: RetryPolicy, b: Behaviour) -> None:
    comp, counter = make_component(msgspec.structs.replace(b, idempotent=False))
    run(retry(retry(comp, p), p), 0, fake_ctx(), FakeDriver())
    assert counter.calls == 1


def test_permanent_errors_are_not_retried() -> None:
    comp, counter = make_component(Behaviour("x", (Act("fail"),)))
    run(retry(comp, RetryPolicy(max_attempts=5)), 0, fake_ctx(), FakeDriver())
    assert counter.calls == 1


def test_deadline_stops_retrying() -> None:
    comp, counter = make_component(Behaviour("x", (Act("transient"),)))
    p = RetryPolicy(max_attempts=10, initial=1.0, multiplier=2.0, cap=100.0, deadline=5.0)
    driver = FakeDriver()
    run(retry(comp, p), 0, fake_ctx(), driver)
    assert driver.sleeps == [1.0, 2.0]  # the next sleep (4 s) would cross the 5 s deadline
    assert counter.calls == 3


# --- breaker ---------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 8))
def test_open_breaker_never_invokes_component(threshold: int, uses: int) -> None:
    comp, counter = make_component(Behaviour("down", (Act("fail"),)))
    guarded = breaker(comp, BreakerPolicy(threshold=threshold, reset_timeout=1000.0))
    report = run(all_of([guarded] * uses), 0, fake_ctx(), FakeDriver())
    assert counter.calls == min(uses, threshold)
    opened = [s for s in report.steps if isinstance(s.error, CircuitOpen)]
    assert len(opened) == max(0, uses - threshold)
    assert all(s.attempts == 0 for s in opened)


def test_breaker_state_survives_across_steps_of_a_run_but_not_runs() -> None:
    comp, counter = make_component(Behaviour("down", (Act("fail"),)))
    guarded = breaker(comp, BreakerPolicy(threshold=1, reset_timeout=1000.0))
    run(all_of([guarded, guarded]), 0, fake_ctx(), FakeDriver())
    assert counter.calls == 1
    run(guarded, 0, fake_ctx(), FakeDriver())
    assert counter.calls == 2
    carried: dict[str, Any] = {}
    run(guarded, 0, fake_ctx(), FakeDriver(), breakers=carried)
    run(guarded, 0, fake_ctx(), FakeDriver(), breakers=carried)
    assert counter.calls == 3


def test_an_open_breaker_stops_the_retry_around_it_without_sleeping_for_it() -> None:
    """retry(breaker(c)): each attempt counts; once the breaker opens, no backoff is slept
    for an attempt that would be short-circuited, and the last real failure is reported."""
    comp, counter = make_component(Behaviour("down", (Act("transient"),), idempotent=True))
    step = retry(breaker(comp, BreakerPolicy(threshold=2, reset_timeout=60.0)), RetryPolicy(max_attempts=5, initial=1.0))
    driver = FakeDriver()
    report = run(step, 0, fake_ctx(), driver)
    assert counter.calls == 2 and driver.sleeps == [1.0]
    [down] = report.steps
    assert isinstance(down.error, Failed) and down.attempts == 2
    assert down.reason.endswith("not retried: circuit breaker 'down' opened")


def test_a_lenient_breaker_counts_faults_not_verdicts() -> None:
    lenient = BreakerPolicy(threshold=1, reset_timeout=60.0, verdicts=False)
    for act, opens in (("fail", False), ("transient", True), ("raise", True)):
        comp, counter = make_component(Behaviour("c", (Act(act),)))
        carried = Breakers()
        for _ in range(3):
            run(breaker(comp, lenient), 0, fake_ctx(), FakeDriver(), breakers=carried)
        assert (carried.mode("c") is BreakerMode.OPEN) == opens, act
        assert counter.calls == (1 if opens else 3), act


def test_the_reports_results_are_the_steps_as_result_values() -> None:
    @component
    def refuse(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Failure(Failed(message="no"))

    report = run(inc >> inc >> refuse >> inc, 0, fake_ctx(), FakeDriver())
    assert report.results == (Success(1), Success(2), Failure(Failed(message="no")), Success(None))
    assert [s.status for s in report.steps][-1] is Status.SKIP


# --- misbehaviour ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error", "code"),
    [("raise", Raised, 1), ("non_result", ProtocolViolation, 4), ("wrong_type", ProtocolViolation, 4), ("fail", Failed, 1)],
)
def test_misbehaviour_becomes_a_typed_error(kind: Any, error: type, code: int) -> None:
    comp, _ = make_component(Behaviour("bad", (Act(kind),)))
    report = run(comp >> inc, 0, fake_ctx(), FakeDriver())
    assert isinstance(report.steps[0].error, error)
    assert report.steps[1].status is Status.SKIP
    assert report.exit_code == code


def test_system_exit_in_a_component_is_a_value_not_an_exit() -> None:
    @component
    def leaves(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        raise SystemExit(3)

    report = run(leaves, 0, fake_ctx())
    assert isinstance(report.steps[0].error, Raised) and report.steps[0].error.exc_type == "SystemExit"
    assert report.exit_code == 1


def test_keyboard_interrupt_gives_a_partial_report_with_exit_130() -> None:
    @component
    def stop(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        raise KeyboardInterrupt

    report = run(inc >> stop >> inc, 0, fake_ctx(), SyncDriver())
    assert report.outcome == "interrupted"
    assert report.exit_code == 130
    assert [(s.name, s.status.value) for s in report.steps] == [("inc", "PASS"), ("stop", "FAIL"), ("inc", "SKIP")]
    assert report.steps[2].reason == "interrupted"
    assert report.steps[1].error is not None and report.steps[1].error.__class__.__name__ == "Interrupted"


# --- long pipelines ----------------------------------------------------------------------------


def _peak(n: int) -> int:
    tracemalloc.start()
    report = run(functools.reduce(operator.rshift, [inc] * n), 0, fake_ctx(), FakeDriver())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.output == n
    return peak


def test_100k_step_sequence_runs_without_recursion_and_linear_memory() -> None:
    small, large = _peak(10_000), _peak(100_000)
    assert large / small < 15


# --- the other combinators -------------------------------------------------------------------------


def test_timeout_fails_a_call_that_runs_too_long_under_the_fake_clock() -> None:
    report = run(timeout(inc, 1.0), 0, fake_ctx(), FakeDriver(cost={"inc": 2.0}))
    assert isinstance(report.steps[0].error, TimedOut)


def test_timeout_with_the_real_clock_and_a_real_sleep() -> None:
    @component
    def sleepy(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        time.sleep(0.5)
        return Success(x)

    report = run(timeout(sleepy, 0.05), 0, fake_ctx(), SyncDriver())
    assert isinstance(report.steps[0].error, TimedOut)
    assert report.exit_code == 1


def test_real_clock_retry_with_tiny_delays() -> None:
    comp, counter = make_component(Behaviour("flaky", (Act("transient"), Act("transient"), Act("ok", 1))))
    report = run(retry(comp, RetryPolicy(max_attempts=3, initial=0.001)), 0, fake_ctx(), SyncDriver())
    assert report.output == 1 and counter.calls == 3 and report.steps[0].attempts == 3


def test_profile_records_the_wrapped_step() -> None:
    report = run(profile(inc >> inc, "both"), 0, fake_ctx(), FakeDriver(cost={"inc": 0.5}))
    assert report.profile == (("both", 1.0),)


def test_dry_run_invokes_only_pure_components() -> None:
    impure, impure_calls = make_component(Behaviour("write", (Act("ok", 1),), pure=False))
    pure, pure_calls = make_component(Behaviour("read", (Act("ok", 1),), pure=True))
    report = run(dry_run(pure >> impure >> inc), 0, fake_ctx(), FakeDriver())
    assert (pure_calls.calls, impure_calls.calls) == (1, 0)
    assert [s.status for s in report.steps] == [Status.PASS, Status.SKIP, Status.SKIP]
    assert report.exit_code == 0


def test_recover_and_fallback_turn_failure_into_warn() -> None:
    bad, _ = make_component(Behaviour("bad", (Act("fail"),)))
    report = run(recover(bad, lambda e: 41) >> inc, 0, fake_ctx())
    assert report.output == 42 and report.summary.status is Status.WARN and report.exit_code == 0
    bad2, _ = make_component(Behaviour("bad", (Act("fail"),)))
    report = run(fallback(bad2, inc), 0, fake_ctx())
    assert report.output == 1 and [s.status for s in report.steps] == [Status.WARN, Status.PASS]


def test_all_of_runs_every_branch_and_collects_in_order() -> None:
    bad, _ = make_component(Behaviour("bad", (Act("fail"),)))
    report = run(all_of([inc, bad, inc]), 0, fake_ctx())
    assert [s.status for s in report.steps] == [Status.PASS, Status.FAIL, Status.PASS]
    assert run(all_of([inc, inc >> inc]), 0, fake_ctx()).output == (1, 2)
    report = run(all_of([bad, inc], fail_fast=True), 0, fake_ctx())
    assert [s.status for s in report.steps] == [Status.FAIL, Status.SKIP]


def test_skip_value_reports_skip() -> None:
    @component
    def nothing(ctx: ExecCtx, x: int) -> Result[Skip, Failed]:
        return Success(Skip(reason="no files"))

    report = run(nothing, 0, fake_ctx())
    assert report.steps[0].status is Status.SKIP and report.steps[0].reason == "no files"
    assert report.exit_code == 0


def test_span_ids_are_distinct_w3c_ids() -> None:
    report = run(functools.reduce(operator.rshift, [inc] * 500), 0, fake_ctx())
    ids = [s.span_id for s in report.steps]
    assert len(set(ids)) == 500
    assert all(len(i) == 16 and int(i, 16) != 0 for i in ids)
    assert identity().name == "identity"
