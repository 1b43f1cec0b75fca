"""The fake driver under ``arun``: an ``async def`` component awaits on the virtual clock,
so sleeps and time limits are decided there, with no real waiting."""

from __future__ import annotations

import asyncio
import time

from returns.result import Failure, Result, Success

from omnibase import ExecCtx, Failed, FakeDriver, Raised, Status, TimedOut, arun, component, retry, timeout
from omnibase.core.policies import RetryPolicy
from omnibase.testing import fake_ctx


@component
async def nap(ctx: ExecCtx, seconds: float) -> Result[float, Failed]:
    await asyncio.sleep(seconds)
    return Success(seconds)


def test_a_long_await_times_out_on_the_fake_clock_at_once() -> None:
    driver = FakeDriver()
    began = time.perf_counter()
    report = asyncio.run(arun(timeout(nap, 0.3), 10.0, fake_ctx(), driver))
    assert time.perf_counter() - began < 2.0  # not 10 s of real time
    [step] = report.steps
    assert step.status is Status.FAIL and isinstance(step.error, TimedOut)
    assert driver.now() == 300_000_000  # the limit, on the virtual clock


def test_an_await_within_its_limit_passes_and_moves_the_clock() -> None:
    driver = FakeDriver()
    began = time.perf_counter()
    report = asyncio.run(arun(timeout(nap, 60.0), 30.0, fake_ctx(), driver))
    assert time.perf_counter() - began < 2.0
    assert report.output == 30.0 and driver.now() == 30_000_000_000
    assert report.steps[0].duration_s == 30.0


def test_a_components_own_timeout_is_its_business_not_the_limit() -> None:
    @component
    async def patient(ctx: ExecCtx, x: int) -> Result[str, Failed]:
        try:
            await asyncio.wait_for(asyncio.sleep(100), 5.0)
        except TimeoutError:
            return Success("gave up after 5 s")
        return Success("slept")

    @component
    async def raises(ctx: ExecCtx, x: int) -> Result[str, Failed]:
        raise TimeoutError("upstream said so")

    driver = FakeDriver()
    report = asyncio.run(arun(timeout(patient, 60.0), 0, fake_ctx(), driver))
    assert report.output == "gave up after 5 s" and driver.now() == 5_000_000_000
    report = asyncio.run(arun(timeout(raises, 60.0), 0, fake_ctx(), FakeDriver()))
    assert isinstance(report.steps[0].error, Raised) and report.steps[0].error.exc_type == "TimeoutError"


def test_real_work_in_a_thread_is_waited_for() -> None:
    @component
    async def offload(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        return Success(await asyncio.get_running_loop().run_in_executor(None, lambda: (time.sleep(0.05), x + 1)[1]))

    report = asyncio.run(arun(offload, 1, fake_ctx(), FakeDriver()))
    assert report.output == 2


def test_retries_of_an_async_component_sleep_on_the_fake_clock() -> None:
    tries: list[int] = []

    @component(idempotent=True)
    async def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        tries.append(x)
        await asyncio.sleep(1.0)
        return Failure(Failed(message="busy", transient=True)) if len(tries) < 3 else Success(x)

    driver = FakeDriver()
    report = asyncio.run(arun(retry(flaky, RetryPolicy(max_attempts=3, initial=10.0, cap=100.0)), 7, fake_ctx(), driver))
    assert report.output == 7 and len(tries) == 3
    assert driver.sleeps == [10.0, 20.0] and driver.now() == 33_000_000_000  # 3 x 1 s awaited + 30 s backoff
