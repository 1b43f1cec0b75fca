"""The orchestrator contract and the shared base of the stage orchestrators.

A stage orchestrator is small on purpose: it selects components (the stage's default
filter plus the user's), assembles a pipeline value from combinators according to each
component's metadata, and hands it to the interpreter through a driver. It does no
execution of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from omnibase.core.combinators import all_of, breaker, profile, retry
from omnibase.core.policies import DEFAULT_BREAKER, DEFAULT_RETRY, BreakerPolicy, RetryPolicy
from omnibase.core.select import Selection, Selector, filter_by
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, RunReport
from omnibase.drivers import AsyncPerformer, Observer, Performer, SyncDriver, arun, run
from omnibase.orchestrators.graphs import StagePlan, assemble_graph, judged, refused_by_gate

__all__ = ["Guards", "Orchestrator", "StageOrchestrator", "guard"]

#: Per component name: the retry and breaker policies that override the defaults.
Guards = Mapping[str, tuple[RetryPolicy | None, BreakerPolicy | None]]


class Orchestrator(ABC):
    """Runs one stage: ``run(ctx) -> RunReport``, or ``await arun(ctx)`` (async mode)."""

    @abstractmethod
    def run(self, ctx: ExecCtx) -> RunReport: ...

    async def arun(self, ctx: ExecCtx) -> RunReport:
        """The stage, asynchronously. By default the synchronous ``run`` (an orchestrator
        with nothing to run concurrently need not say more)."""
        return self.run(ctx)


def guard(
    comp: Component[Any, Any],
    retry_policy: RetryPolicy | None = None,
    breaker_policy: BreakerPolicy | None = None,
) -> Step[Any, Any]:
    """The standard wrapping of one component: retry with backoff when it is idempotent
    (never otherwise), a circuit breaker keyed by its name, and a profile entry.

    >>> from returns.result import Result, Success
    >>> from omnibase.core.step import component
    >>> @component(idempotent=True)
    ... def check(ctx: ExecCtx, x: object) -> Result[bool, str]:
    ...     return Success(True)
    >>> type(guard(check)).__name__, type(guard(check).inner).__name__
    ('Profile', 'Breaker')
    """
    step: Step[Any, Any] = comp
    if comp.meta.idempotent:
        step = retry(step, retry_policy or DEFAULT_RETRY)
    return profile(breaker(step, breaker_policy or DEFAULT_BREAKER, key=comp.name))


class StageOrchestrator(Orchestrator):
    """Select, assemble, interpret. Subclasses set ``stage`` and may refine ``assemble``.

    ``catalogue`` is every component known (built-ins and the registry's); ``stage_filter``
    is the stage's default selector and ``selector`` the user's; both must hold.
    """

    stage = "pipeline"

    def __init__(
        self,
        catalogue: Sequence[Component[Any, Any]],
        *,
        stage_filter: Selector = Selector(),
        selector: Selector = Selector(),
        guards: Guards | None = None,
        fail_fast: bool = False,
        driver: Performer | AsyncPerformer | None = None,
        wrap: Callable[[Step[Any, Any]], Step[Any, Any]] | None = None,
        observers: Sequence[Observer] = (),
        jobs: int | None = None,
        stage_plan: StagePlan | None = None,
    ) -> None:
        self.catalogue = tuple(catalogue)
        self.stage_filter = stage_filter
        self.selector = selector
        self.guards: Guards = guards or {}
        self.fail_fast = fail_fast
        #: the performer: a synchronous one for ``run``, an asynchronous one for ``arun``
        #: (default ``SyncDriver`` / ``AsyncDriver``)
        self.driver = driver
        self.wrap = wrap
        self.observers = tuple(observers)
        #: ``arun``: at most this many invocations at once (None: as many as branches)
        self.jobs = jobs
        #: dependencies, partial execution, hooks and gating (None: a plain fan-out)
        self.stage_plan = stage_plan

    def select(self) -> Selection:
        """What this stage would run, and why the rest would not."""
        return filter_by(self.stage_filter & self.selector, self.catalogue)

    def assemble(self, selection: Selection) -> Step[Any, Any]:
        """One guarded step per selected component, all run on the same input."""
        if self.stage_plan is not None:  # a graph: needs, partial execution, hooks, gates
            pipeline = assemble_graph(selection.kept, self.stage_plan, self._guarded, name=self.stage, fail_fast=self.fail_fast)
        else:
            pipeline = all_of([self._guarded(c) for c in selection.kept], fail_fast=self.fail_fast, name=self.stage)
        return self.wrap(pipeline) if self.wrap is not None else pipeline

    def _guarded(self, comp: Component[Any, Any]) -> Step[Any, Any]:
        step = guard(comp, *self.guards.get(comp.name, (None, None)))
        return step if self.stage_plan is None else self.stage_plan.hooked(comp.name, step)

    def initial(self, ctx: ExecCtx) -> Any:
        """The value the pipeline starts from: the selected files."""
        return ctx.files

    def run(self, ctx: ExecCtx) -> RunReport:
        ctx = msgspec.structs.replace(ctx, stage=self.stage)
        driver = self.driver
        if driver is not None and not hasattr(driver, "perform"):
            raise TypeError(f"{type(driver).__name__} is an asynchronous performer: use arun()")
        performer: Any = driver or SyncDriver()
        refused = self.refusal(ctx)
        if refused is not None:
            return refused
        step = self.assemble(self.select())
        report = run(step, self.initial(ctx), ctx, performer, observers=self.observers)
        return self._stamped(report, step)

    async def arun(self, ctx: ExecCtx) -> RunReport:
        """``run``, with an asynchronous performer (default ``AsyncDriver``): branches run
        concurrently, at most ``jobs`` invocations at once. Cancelling it ends the run
        with a partial report (``outcome`` "interrupted")."""
        ctx = msgspec.structs.replace(ctx, stage=self.stage)
        driver = self.driver
        if driver is not None and not hasattr(driver, "aperform"):
            raise TypeError(f"{type(driver).__name__} is a synchronous performer: use run()")
        performer: Any = driver
        refused = self.refusal(ctx)
        if refused is not None:
            return refused
        step = self.assemble(self.select())
        report = await arun(step, self.initial(ctx), ctx, performer, observers=self.observers, jobs=self.jobs)
        return self._stamped(report, step)

    def refusal(self, ctx: ExecCtx) -> RunReport | None:
        """The report of this stage refused by its gate (nothing runs), or None."""
        return None if self.stage_plan is None else refused_by_gate(self.stage_plan, self.stage, ctx)

    def _stamped(self, report: RunReport, step: Step[Any, Any] | None = None) -> RunReport:
        if self.stage_plan is not None and step is not None:
            report = judged(self.stage_plan, step, report)
        return msgspec.structs.replace(report, metadata={**report.metadata, "stage": self.stage})
