"""The dry-run performer: non-pure components are never called, pure ones run read-only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from returns.result import Result, Success

from omnibase.core.combinators import all_of, retry
from omnibase.core.intents import Intent, Invoke
from omnibase.core.policies import RetryPolicy
from omnibase.core.select import Selection, Selector, parse_filter
from omnibase.core.step import component
from omnibase.core.values import ExecCtx, Failed, Status
from omnibase.drivers import AsyncDriver, FakeDriver, SyncDriver, arun, run
from omnibase.drivers.dryrun import NOT_PURE, DryRunPerformer, diff_of, plan_of, with_plan
from omnibase.testing import fake_ctx
from omnibase.testing.strategies import build, pipelines


class Spy:
    """A performer that notes which components it was asked to call, then delegates."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.invoked: list[tuple[str, bool, bool]] = []  # name, pure, ctx.dry_run

    def perform(self, intent: Intent) -> Any:
        if isinstance(intent, Invoke):
            self.invoked.append((intent.component.name, intent.component.meta.pure, intent.ctx.dry_run))
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        if isinstance(intent, Invoke):
            self.invoked.append((intent.component.name, intent.component.meta.pure, intent.ctx.dry_run))
        return await self.inner.aperform(intent)


def test_non_pure_component_is_not_called_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"

    @component
    def write(ctx: ExecCtx, x: int) -> Result[int, str]:
        target.write_text("changed")
        return Success(x)

    report = run(write, 1, fake_ctx(), DryRunPerformer(SyncDriver()))
    assert not target.exists()
    [step] = report.steps
    assert (step.status, step.reason, step.error) == (Status.SKIP, NOT_PURE, None)
    assert report.exit_code == 0


def test_pure_component_runs_with_dry_run_context() -> None:
    seen: list[bool] = []

    @component(pure=True)
    def look(ctx: ExecCtx, x: int) -> Result[int, str]:
        seen.append(ctx.dry_run)
        return Success(x * 2)

    report = run(look, 21, fake_ctx(), DryRunPerformer(SyncDriver()))
    assert seen == [True]
    assert report.output == 42


def test_one_dry_run_performer_serves_two_runs_each_with_its_own_context() -> None:
    # a performer is reused (the command server keeps one): the second run's component must
    # see the second run's context, not a dry copy of the first's
    seen: list[tuple[str, str, bool]] = []

    @component(pure=True)
    def look(ctx: ExecCtx, x: int) -> Result[int, str]:
        seen.append((ctx.run_id, ctx.stage, ctx.dry_run))
        return Success(x)

    performer = DryRunPerformer(SyncDriver())
    run(look, 1, fake_ctx(run_id="first", stage="test"), performer)
    run(look, 1, fake_ctx(run_id="second", stage="ci"), performer)
    concurrent = DryRunPerformer(AsyncDriver())
    try:
        for run_id in ("third", "fourth"):
            asyncio.run(arun(look, 1, fake_ctx(run_id=run_id, stage="pre-commit"), concurrent))
    finally:
        concurrent.inner.close()
    assert seen == [("first", "test", True), ("second", "ci", True), ("third", "pre-commit", True), ("fourth", "pre-commit", True)]


def test_what_needs_a_planned_output_is_planned_not_run() -> None:
    calls: list[str] = []

    @component
    def produce(ctx: ExecCtx, x: int) -> Result[int, str]:
        calls.append("produce")
        return Success(x)

    @component(pure=True)
    def consume(ctx: ExecCtx, x: int) -> Result[int, str]:
        calls.append("consume")
        return Success(x)

    report = run(produce >> consume, 1, fake_ctx(), DryRunPerformer(SyncDriver()))
    assert calls == []
    assert [(s.name, s.status, s.reason) for s in report.steps] == [
        ("produce", Status.SKIP, NOT_PURE),
        ("consume", Status.SKIP, "dry-run: not run"),
    ]


def test_a_planned_skip_passes_a_declared_output_type_check() -> None:
    @component
    def typed(ctx: ExecCtx, x: int) -> Result[int, str]:
        return Success(x)

    report = run(typed, 1, fake_ctx(), DryRunPerformer(SyncDriver()))
    assert report.steps[0].status is Status.SKIP and report.exit_code == 0


def test_dry_run_does_not_sleep_between_retries() -> None:
    @component(pure=True, idempotent=True)
    def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        from returns.result import Failure

        return Failure(Failed(message="down", transient=True))

    fake = FakeDriver()
    report = run(retry(flaky, RetryPolicy(max_attempts=3, initial=5.0)), 1, fake_ctx(), DryRunPerformer(fake))
    assert fake.sleeps == []
    assert report.steps[0].attempts == 3


def test_async_dry_run_calls_only_pure_components() -> None:
    @component(pure=True)
    async def look(ctx: ExecCtx, x: int) -> Result[int, str]:
        return Success(x + 1)

    @component
    async def change(ctx: ExecCtx, x: int) -> Result[int, str]:
        raise AssertionError("not in a dry run")

    spy = Spy(FakeDriver())
    report = asyncio.run(arun(all_of([look, change]), 1, fake_ctx(), DryRunPerformer(spy)))
    assert spy.invoked == [("look", True, True)]
    assert [s.status for s in report.steps] == [Status.PASS, Status.SKIP]


@settings(max_examples=150, deadline=None)
@given(pipelines())
def test_no_generated_pipeline_calls_a_non_pure_component(spec: Any) -> None:
    spy = Spy(FakeDriver())
    report = run(build(spec), 0, fake_ctx(), DryRunPerformer(spy))
    assert all(pure and dry for _, pure, dry in spy.invoked)
    planned = [s for s in report.steps if s.reason == NOT_PURE]
    assert all(s.status is Status.SKIP and s.attempts == 1 for s in planned)


def test_plan_says_why_each_component_is_or_is_not_selected() -> None:
    @component(pure=True, tags=frozenset({"lint"}))
    def lint(ctx: ExecCtx, x: object) -> Result[object, str]:
        return Success(x)

    @component(tags=frozenset({"deploy"}))
    def deploy(ctx: ExecCtx, x: object) -> Result[object, str]:
        return Success(x)

    @component(tags=frozenset({"lint"}))
    def fmt(ctx: ExecCtx, x: object) -> Result[object, str]:
        return Success(x)

    selector = parse_filter("tag=lint").unwrap()
    selection = Selection((lint, fmt), ((deploy, "tag=lint does not hold (tag is deploy)"),))
    report = with_plan(run(all_of([lint, fmt]), None, fake_ctx(), DryRunPerformer(SyncDriver())), selection, selector)
    assert [(e.name, e.selected) for e in report.plan] == [("lint", True), ("fmt", True), ("deploy", False)]
    assert report.plan[0].reason == "selected: tag=lint holds"
    assert report.plan[0].preview == "ran read-only: PASS"
    assert report.plan[1].preview == NOT_PURE
    assert report.plan[2].reason == "tag=lint does not hold (tag is deploy)"
    assert report.metadata["mode"] == "dry-run"
    assert plan_of(report, Selection((), ()), Selector()) == ()


def test_diff_of_joins_the_diffs_the_results_carry() -> None:
    from returns.result import Failure

    @component(pure=True)
    def fixer(ctx: ExecCtx, x: object) -> Result[object, Failed]:
        return Failure(Failed(message="would fix", data={"diff": "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a \n+a"}))

    @component(pure=True)
    def clean(ctx: ExecCtx, x: object) -> Result[object, str]:
        return Success({"diff": "--- a/g\n+++ b/g\n"})

    report = run(all_of([fixer, clean]), None, fake_ctx(), DryRunPerformer(SyncDriver()))
    assert diff_of(report.steps) == "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a \n+a\n--- a/g\n+++ b/g\n"
