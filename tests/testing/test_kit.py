"""The testing kit on the user's own components: faults, strategies, assertions, laws, plugin."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Result, Success

from omnibase import (
    BreakerPolicy,
    ExecCtx,
    Failed,
    ProtocolViolation,
    Raised,
    RetryPolicy,
    RunReport,
    Status,
    Step,
    TimedOut,
    breaker,
    component,
    retry,
    run,
    timeout,
)
from omnibase.testing import (
    Act,
    FaultDriver,
    assert_failed,
    assert_passed,
    assert_steps,
    check_associativity,
    difference,
    fake_ctx,
    faulty,
)
from omnibase.testing.faults import KINDS, Kind
from omnibase.testing.strategies import components, pipelines_of

pytest_plugins = ("pytester",)


@component(idempotent=True)
def parse(ctx: ExecCtx, text: str) -> Result[int, Failed]:
    return Success(int(text))


@component(idempotent=True)
def bump(ctx: ExecCtx, n: int) -> Result[int, Failed]:
    return Success(n + 1)


EXPECTED: dict[str, tuple[Status, type | None]] = {
    "ok": (Status.PASS, None),
    "fail": (Status.FAIL, Failed),
    "transient": (Status.FAIL, Failed),
    "raise": (Status.FAIL, Raised),
    "non_result": (Status.FAIL, ProtocolViolation),
    "wrong_type": (Status.FAIL, ProtocolViolation),
    "slow": (Status.PASS, None),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_injected_behaviour_gives_its_typed_result(kind: Kind) -> None:
    comp = faulty(parse, [kind])
    report = run(comp, "41", fake_ctx(), FaultDriver())
    status, error = EXPECTED[kind]
    assert report.steps[0].status is status
    assert (report.steps[0].error is None) if error is None else isinstance(report.steps[0].error, error)
    assert report.output == (41 if status is Status.PASS else None)
    assert comp.fn.calls == 1 and comp.meta == parse.meta


def test_slow_calls_take_virtual_time_and_time_out_past_the_limit() -> None:
    driver = FaultDriver()
    report = run(faulty(parse, [Act("slow", seconds=30.0)]), "1", fake_ctx(), driver)
    assert report.output == 1 and report.steps[0].duration_s == 30.0
    slow = faulty(parse, [Act("slow", seconds=30.0), "ok"])
    report = run(retry(timeout(slow, 5.0), RetryPolicy(max_attempts=2, initial=1.0)), "2", fake_ctx(), FaultDriver())
    assert report.output == 2 and slow.fn.calls == 2
    report = run(timeout(faulty(parse, [Act("slow", seconds=30.0)]), 5.0), "1", fake_ctx(), FaultDriver())
    assert isinstance(report.steps[0].error, TimedOut)


def test_faults_follow_the_sequence_and_the_last_repeats() -> None:
    comp = faulty(bump, ["transient", "raise", "ok"])
    report = run(retry(comp, RetryPolicy(max_attempts=5, retry_on=lambda e: True)), 0, fake_ctx(), FaultDriver())
    assert report.output == 1 and comp.fn.calls == 3


@settings(max_examples=100, deadline=None)
@given(components(input=st.integers(), output=st.text()), st.integers())
def test_generated_components_have_the_users_types(comp: Any, value: int) -> None:
    report = run(comp, value, fake_ctx(), FaultDriver())
    if report.exit_code == 0:
        assert isinstance(report.output, str)
    else:
        assert isinstance(report.steps[0].error, (Failed, Raised))


@settings(max_examples=100, deadline=None)
@given(pipelines_of([bump, faulty(bump, ["fail"], name="broken"), faulty(bump, ["transient", "ok"], name="flaky")]), st.integers(-5, 5))
def test_pipelines_of_the_users_components_run_to_a_report(step: Step[int, int], value: int) -> None:
    report = run(step, value, fake_ctx(), FaultDriver())
    assert report.exit_code in (0, 1) and (report.exit_code == 0) == (report.summary.status is not Status.FAIL)
    if report.exit_code == 0 and report.output is not None:
        assert isinstance(report.output, int)


def test_a_broken_law_names_the_first_differing_step_and_field() -> None:
    calls = [0]

    @component
    def stateful(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        calls[0] += 1
        return Success(x + calls[0])

    with pytest.raises(AssertionError) as caught:
        check_associativity(lambda: (bump, stateful, bump), 0)
    assert "step 1 ('stateful'), field 'value': 2 != 3" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_difference_of_equal_reports_is_empty_and_of_lengths_names_the_extra_step() -> None:
    one = run(bump, 0, fake_ctx(), FaultDriver())
    two = run(bump >> faulty(bump, ["ok"], name="parse"), 0, fake_ctx(), FaultDriver())
    assert difference(one, run(bump, 0, fake_ctx(), FaultDriver())) == ""
    assert "the first extra (right) is 'parse'" in difference(one, two)


def test_report_assertions_say_what_is_wrong() -> None:
    failing: RunReport[Any] = run(faulty(bump, ["fail"]) >> bump, 0, fake_ctx())
    with pytest.raises(AssertionError, match="exit code 1: bump: Failed: bump: injected fail failure"):
        assert_passed(failing)
    assert_failed(failing, 1)
    with pytest.raises(AssertionError, match=r"step 1: expected bump PASS, got bump SKIP \(upstream step failed\)"):
        assert_steps(failing, [("bump", "FAIL"), ("bump", Status.PASS)])
    assert_steps(failing, [("bump", "FAIL"), ("bump", "SKIP")])
    with pytest.raises(AssertionError, match="the run passed"):
        assert_failed(run(bump, 0, fake_ctx()))


def test_the_breaker_never_calls_an_open_component() -> None:
    down = faulty(bump, ["fail"])
    guarded = breaker(down, BreakerPolicy(threshold=2, reset_timeout=60.0))
    report = run(guarded >> guarded >> guarded, 0, fake_ctx(), FaultDriver())
    assert down.fn.calls == 1  # the chain stops at the first failure
    from omnibase import all_of

    fanned = run(all_of([guarded] * 5), 0, fake_ctx(), FaultDriver())
    assert down.fn.calls == 3  # two more, then open
    assert [s.status for s in fanned.steps].count(Status.FAIL) == 5


def test_the_pytest_plugin_gives_fixtures_without_imports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from returns.result import Success
        from omnibase import Meta, RetryPolicy, retry
        from omnibase.core.step import Component

        def test_uses_the_fixtures(fake_ctx, fake_driver, run_fake):
            flaky = Component(lambda ctx, x: Success(x), Meta(name="f", idempotent=True))
            report = run_fake(retry(flaky, RetryPolicy()), 3)
            assert report.output == 3 and fake_ctx.stage == "test" and fake_driver.calls == ["f"]
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_typed_user_test_of_the_fixtures_runs_under_pytest(pytester: pytest.Pytester) -> None:
    """The annotations the docs show (``run_fake: RunFake``, ``.fn.calls``) are importable
    and right at run time too (typesafety/test_testing.yml proves what mypy makes of them)."""
    pytester.makepyfile(
        """
        from returns.result import Failure, Result, Success
        from omnibase import BreakerPolicy, ExecCtx, Failed, all_of, breaker, component
        from omnibase.testing import FaultDriver, assert_steps, faulty
        from omnibase.testing.pytest_plugin import RunFake

        @component
        def charge(ctx: ExecCtx, cents: int) -> Result[str, Failed]:
            return Success(f"charged {cents}")

        def test_an_open_breaker_is_never_called(run_fake: RunFake, fake_driver: FaultDriver) -> None:
            down = faulty(charge, ["fail"])
            guarded = breaker(down, BreakerPolicy(threshold=1, reset_timeout=60.0))
            report = run_fake(all_of([guarded, guarded, guarded]), 100)
            assert down.fn.calls == 1 and fake_driver.calls == ["charge"]
            assert_steps(report, [("charge", "FAIL")] * 3)

        def test_the_output_is_the_steps(run_fake: RunFake) -> None:
            assert run_fake(charge, 250).output == "charged 250"
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_faults_injected_into_an_async_component_keep_it_async() -> None:
    import asyncio

    from omnibase.drivers import arun

    @component(idempotent=True)
    async def fetch(ctx: ExecCtx, url: str) -> Result[str, Failed]:
        await asyncio.sleep(0)
        return Success(url.upper())

    flaky = faulty(fetch, ["transient", "raise", "ok"])
    assert flaky.is_async
    report = asyncio.run(arun(retry(flaky, RetryPolicy(max_attempts=3, retry_on=lambda e: True)), "u", fake_ctx(), FaultDriver()))
    assert report.output == "U" and flaky.fn.calls == 3
