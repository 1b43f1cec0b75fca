"""The orchestrator contract and the shared base of the stage orchestrators.

A stage orchestrator is small on purpose: it selects components (its stage's default
filter, from the stage table ``orchestrators.table.STAGES``, plus the user's), assembles a
pipeline value from combinators according to each component's metadata (the stage's time
limit for a component that declares none), and hands it to the interpreter through a
driver. It does no execution of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import msgspec

from omnibase._io.breakers import BreakerStore
from omnibase.core.combinators import all_of, breaker, profile, retry
from omnibase.core.policies import DEFAULT_BREAKER, DEFAULT_RETRY, BreakerPolicy, Breakers, RetryPolicy
from omnibase.core.select import Selection, Selector, filter_by, parse_filter
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, RunReport
from omnibase.drivers import AsyncPerformer, Observer, Performer, SyncDriver, arun, run
from omnibase.orchestrators.graphs import StagePlan, assemble_graph, judged, refused_by_gate
from omnibase.orchestrators.table import STAGES, StageSpec

__all__ = ["Guards", "MISFIT", "Orchestrator", "StageOrchestrator", "default_filter", "guard", "misfit", "with_timeout"]

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
    *,
    retries: bool = True,
) -> Step[Any, Any]:
    """The standard wrapping of one component: ``profile(retry(breaker(component)))``.

    A circuit breaker keyed by the policy's ``key`` (else the component's name) sits
    inside the retry, as Polly and resilience4j compose them: every attempt passes the
    breaker and counts toward it, and once it is open the retry stops (the next attempt
    would be short-circuited: no backoff is slept for it). Retry with backoff only when
    the component is idempotent (never otherwise, nor when ``retries`` is off: the dry-run
    and profile modes make one attempt each); a profile entry around the whole.

    >>> from returns.result import Result, Success
    >>> from omnibase.core.step import component
    >>> @component(idempotent=True)
    ... def check(ctx: ExecCtx, x: object) -> Result[bool, str]:
    ...     return Success(True)
    >>> [type(s).__name__ for s in (guard(check), guard(check).inner, guard(check).inner.inner)]
    ['Profile', 'Retry', 'Breaker']
    """
    step: Step[Any, Any] = breaker(comp, breaker_policy or DEFAULT_BREAKER)
    if comp.meta.idempotent and retries:
        step = retry(step, retry_policy or DEFAULT_RETRY)
    return profile(step)


def default_filter(stage: str) -> Selector:
    """The default filter of ``stage`` (its row of the stage table), parsed.

    >>> default_filter("test") == parse_filter("type=test").unwrap()
    True
    """
    return parse_filter(STAGES[stage].filter).unwrap()  # the table's filters parse (tests prove it)


#: What a filtered stage's pipeline starts from (``initial``): the files, a tuple of paths.
STAGE_INPUT = "tuple[str, ...]"
_SAMPLE_INPUT = ("path",)
MISFIT = "input type does not fit"


def misfit(comp: Component[Any, Any]) -> str | None:
    """Why ``comp`` cannot take a filtered stage's input (the tuple of files), or None: its
    declared input type (the callable's annotation, or an entry's ``input:``) must accept
    a tuple of paths. An unknown type name is not judged here.

    >>> from returns.result import Result, Success
    >>> from omnibase.core.step import component
    >>> @component
    ... def shout(ctx: ExecCtx, text: str) -> Result[str, str]:
    ...     return Success(text.upper())
    >>> misfit(shout)
    'input type does not fit: takes str, the stage gives tuple[str, ...] (the files)'
    """
    from omnibase.core.types import checker, is_type_name, type_named

    tp = comp.in_type
    if tp is object and is_type_name(comp.meta.input_type):
        tp = type_named(comp.meta.input_type)
    if tp is object or checker(tp)(_SAMPLE_INPUT):
        return None
    return f"{MISFIT}: takes {comp.meta.input_type}, the stage gives {STAGE_INPUT} (the files)"


def with_timeout(comp: Component[Any, Any], seconds: float) -> Component[Any, Any]:
    """``comp`` with ``seconds`` as its timeout, unless it declares one."""
    if comp.meta.timeout is not None:
        return comp
    meta = msgspec.structs.replace(comp.meta, timeout=seconds)
    return Component(comp.fn, meta, comp.check, in_type=comp.in_type, out_type=comp.out_type)  # type: ignore[arg-type]


class StageOrchestrator(Orchestrator):
    """Select, assemble, interpret. Subclasses set ``stage`` (a row of the stage table)
    and may refine ``select`` and ``assemble``.

    ``catalogue`` is every component known (built-ins and the registry's); ``stage_filter``
    replaces the stage's default filter (the table's; the registry file's
    ``stages.NAME.filter`` comes this way) and ``selector`` is the user's; both must hold.
    ``retries``: off, no component is retried (the dry-run and profile modes).
    ``breakers``: the circuit breakers' state to start from and update, a ``Breakers``
    value the caller keeps, or a ``BreakerStore`` (loaded before the run, merged back
    after it: the CLI's); None, every run starts with closed breakers.
    """

    stage = "pipeline"

    def __init__(
        self,
        catalogue: Sequence[Component[Any, Any]],
        *,
        stage_filter: Selector | None = None,
        selector: Selector = Selector(),
        guards: Guards | None = None,
        fail_fast: bool = False,
        driver: Performer | AsyncPerformer | None = None,
        wrap: Callable[[Step[Any, Any]], Step[Any, Any]] | None = None,
        observers: Sequence[Observer] = (),
        jobs: int | None = None,
        stage_plan: StagePlan | None = None,
        retries: bool = True,
        breakers: Breakers | BreakerStore | None = None,
    ) -> None:
        self.catalogue = tuple(catalogue)
        self.stage_filter = default_filter(self.stage) if stage_filter is None else stage_filter
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
        self.retries = retries
        self.breakers = breakers

    @property
    def spec(self) -> StageSpec:
        """This stage's row of the stage table."""
        return STAGES[self.stage]

    @property
    def kept_reason(self) -> str | None:
        """Why a dry run's plan says each selected component was selected (None: the filters)."""
        return None

    def select(self) -> Selection:
        """What this stage would run, and why the rest would not: its filters, then the
        components whose declared input cannot take the stage's (the files) are left out,
        each with its reason, rather than stopping the whole stage."""
        chosen = filter_by(self.stage_filter & self.selector, self.catalogue)
        misfits = {c.name: why for c in chosen.kept if (why := misfit(c)) is not None}
        if not misfits:
            return chosen
        kept = tuple(c for c in chosen.kept if c.name not in misfits)
        return Selection(kept, (*chosen.dropped, *((c, misfits[c.name]) for c in chosen.kept if c.name in misfits)))

    def left_out(self, selection: Selection) -> tuple[str, ...]:
        """The names ``selection`` left out because their input type does not fit."""
        return tuple(c.name for c, why in selection.dropped if why.startswith(MISFIT))

    def assemble(self, selection: Selection) -> Step[Any, Any]:
        """One guarded step per selected component, all run on the same input; a component
        that declares no timeout gets the stage's (the table's ``timeout``), if any."""
        limit = self.spec.timeout
        if limit is not None:
            selection = Selection(tuple(with_timeout(c, limit) for c in selection.kept), selection.dropped)
        if self.stage_plan is not None:  # a graph: needs, partial execution, hooks, gates
            pipeline = assemble_graph(selection.kept, self.stage_plan, self._guarded, name=self.stage, fail_fast=self.fail_fast)
        else:
            pipeline = all_of([self._guarded(c) for c in selection.kept], fail_fast=self.fail_fast, name=self.stage)
        return self.wrap(pipeline) if self.wrap is not None else pipeline

    def _guarded(self, comp: Component[Any, Any]) -> Step[Any, Any]:
        step = guard(comp, *self.guards.get(comp.name, (None, None)), retries=self.retries)
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
        selection = self.select()
        step = self.assemble(selection)
        with self._breakers(step) as carried:
            report = run(step, self.initial(ctx), ctx, performer, observers=self.observers, breakers=carried)
        return self._stamped(report, step, selection)

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
        selection = self.select()
        step = self.assemble(selection)
        with self._breakers(step) as carried:
            report = await arun(
                step, self.initial(ctx), ctx, performer, observers=self.observers, jobs=self.jobs, breakers=carried
            )
        return self._stamped(report, step, selection)

    def _breakers(self, step: Step[Any, Any]) -> AbstractContextManager[Breakers | None]:
        """The breakers for one run of ``step``: a store's are loaded now and saved when
        the run ends (at the edge: the interpreter only updates the value)."""
        kept = self.breakers
        return kept.kept(step) if isinstance(kept, BreakerStore) else nullcontext(kept)

    def refusal(self, ctx: ExecCtx) -> RunReport | None:
        """The report of this stage refused by its gate (nothing runs), or None."""
        return None if self.stage_plan is None else refused_by_gate(self.stage_plan, self.stage, ctx)

    def _stamped(self, report: RunReport, step: Step[Any, Any] | None = None, selection: Selection | None = None) -> RunReport:
        """``report`` judged by the stage's gate, saying its stage, that retries were off
        (``retries``: "off") and which components were left out for their input type
        (``left_out``: their names, comma-separated)."""
        if self.stage_plan is not None and step is not None:
            report = judged(self.stage_plan, step, report)
        extra = {"stage": self.stage}
        if not self.retries:
            extra["retries"] = "off"
        left = self.left_out(selection) if selection is not None else ()
        if left:
            extra["left_out"] = ",".join(left)
        return msgspec.structs.replace(report, metadata={**report.metadata, **extra})
