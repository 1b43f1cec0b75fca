"""The dry-run performer: a preview in which nothing that could change anything runs.

``DryRunPerformer(inner)`` wraps any performer. A component that is not declared
``pure`` is never called: the performer answers its ``Invoke`` itself, with a *planned*
SKIP that gives the reason, and the interpreter plans (does not run) what needs its
output. A pure component (it only reads, and returns its edits as values: the built-in
fixers) is called by ``inner`` with ``ctx.dry_run`` set, so it reports the edits it would
make without applying them. Backoff sleeps are answered at once: a preview does not wait.

``plan_of`` and ``diff_of`` turn a dry run's report (and the stage's ``Selection``) into
what the report shows: each component a real run would run and why it was selected,
each it would not and why, and the edits as one unified diff.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> from omnibase.drivers import SyncDriver, run
>>> @component(pure=True)
... def look(ctx: ExecCtx, x: int) -> Result[int, str]:
...     return Success(x + 1)
>>> @component
... def deploy(ctx: ExecCtx, x: int) -> Result[int, str]:
...     raise AssertionError("a dry run must not deploy")
>>> report = run(look >> deploy >> look, 1, ExecCtx(run_id="r", trace_id="1" * 32), DryRunPerformer(SyncDriver()))
>>> [(s.name, s.status.value, s.reason) for s in report.steps]  # doctest: +NORMALIZE_WHITESPACE
[('look', 'PASS', ''), ('deploy', 'SKIP', 'dry-run: not run (not pure: it could change something)'),
 ('look', 'SKIP', 'dry-run: not run')]
>>> report.exit_code
0
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from returns.result import Success

from omnibase.core.intents import NOW, Called, Intent, Invoke, Sleep
from omnibase.core.select import Selection, Selector, explain_kept
from omnibase.core.values import ExecCtx, PlanEntry, RunReport, Skip, Status, StepResult

__all__ = ["NOT_PURE", "DryRunPerformer", "diff_of", "plan_of", "with_plan"]

T = TypeVar("T")

#: The reason a planned (not called) component gives in a dry run's report.
NOT_PURE = "dry-run: not run (not pure: it could change something)"


class DryRunPerformer:
    """Answers non-pure invocations without calling them; runs pure ones read-only.

    ``observers`` are the inner performer's (the loop hands them the events).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.observers: tuple[Any, ...] = tuple(getattr(inner, "observers", ()))
        self._ctx: tuple[ExecCtx, ExecCtx] | None = None

    def _dry(self, ctx: ExecCtx) -> ExecCtx:
        if ctx.dry_run:
            return ctx
        cached = self._ctx
        if cached is None or cached[0] is not ctx:
            cached = self._ctx = (ctx, msgspec.structs.replace(ctx, dry_run=True))
        return cached[1]

    def _planned(self, now: int) -> Called:
        return Called(Success(Skip(reason=NOT_PURE, planned=True)), None, now, now)

    def perform(self, intent: Intent) -> Any:
        kind = type(intent)
        if kind is Invoke:
            assert isinstance(intent, Invoke)
            if not intent.component.meta.pure:
                return self._planned(self.inner.perform(NOW))
            return self.inner.perform(msgspec.structs.replace(intent, ctx=self._dry(intent.ctx)))
        if kind is Sleep:
            return None
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        kind = type(intent)
        if kind is Invoke:
            assert isinstance(intent, Invoke)
            if not intent.component.meta.pure:
                return self._planned(await self.inner.aperform(NOW))
            return await self.inner.aperform(msgspec.structs.replace(intent, ctx=self._dry(intent.ctx)))
        if kind is Sleep:
            return None
        return await self.inner.aperform(intent)


def _preview(result: StepResult | None) -> str:
    if result is None:
        return "not reached"
    if result.reason.startswith("dry-run"):
        return result.reason
    if result.attempts == 0:
        return f"not run: {result.reason}"
    verdict = result.status.value
    if result.status is Status.FAIL and _diff_in(result):
        return f"{verdict}: would change files (see the diff)"
    return f"ran read-only: {verdict}"


def plan_of(
    report: RunReport,
    selection: Selection,
    selector: Selector = Selector(),
    *,
    kept_reason: str | None = None,
) -> tuple[PlanEntry, ...]:
    """One entry per component the stage knows: selected ones first (in selection order),
    with why ``selector`` keeps them (or ``kept_reason``) and what the dry run did; then
    the dropped ones with why they were left out."""
    last: dict[str, StepResult] = {s.name: s for s in report.steps}
    entries = [
        PlanEntry(
            name=c.name,
            selected=True,
            reason=kept_reason or explain_kept(selector, c.meta),
            preview=_preview(last.get(c.name)),
        )
        for c in selection.kept
    ]
    entries += [PlanEntry(name=c.name, selected=False, reason=why) for c, why in selection.dropped]
    return tuple(entries)


def _diff_in(result: StepResult) -> str:
    for found in (result.error, result.value):
        data = getattr(found, "data", found)
        if isinstance(data, dict):
            diff = data.get("diff")
            if isinstance(diff, str):
                return diff
    return ""


def diff_of(steps: Iterable[StepResult]) -> str:
    """The unified diffs the steps' results carry (a fixer's ``data["diff"]``), joined."""
    parts = [d if d.endswith("\n") else d + "\n" for d in map(_diff_in, steps) if d]
    return "".join(parts)


def with_plan(
    report: RunReport[T], selection: Selection, selector: Selector = Selector(), *, kept_reason: str | None = None
) -> RunReport[T]:
    """``report`` with its ``plan`` and ``diff`` filled in, and ``metadata["mode"]``."""
    return msgspec.structs.replace(
        report,
        plan=plan_of(report, selection, selector, kept_reason=kept_reason),
        diff=diff_of(report.steps),
        metadata={**report.metadata, "mode": "dry-run"},
    )
