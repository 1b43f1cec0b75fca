"""The five orchestrators of the spec. Each is a few lines over ``StageOrchestrator``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.combinators import sequence
from omnibase.core.select import Selection
from omnibase.core.step import Component, Step
from omnibase.core.values import (
    ExecCtx,
    ExitCode,
    ProtocolViolation,
    RunReport,
    Status,
    StepError,
    StepResult,
    Summary,
    Unresolved,
)
from omnibase.drivers import SyncDriver, run
from omnibase.orchestrators.base import Orchestrator, StageOrchestrator

__all__ = [
    "CI_DEFAULT_TIMEOUT",
    "CIOrchestrator",
    "PipelineOrchestrator",
    "PreCommitOrchestrator",
    "RegistryOrchestrator",
    "TestOrchestrator",
    "fits",
    "with_timeout",
]


class PreCommitOrchestrator(StageOrchestrator):
    """Runs the pre-commit checks over the files in ``ctx.files`` (staged files by
    default; the CLI fills them in). Fixers apply their edits unless ``ctx.dry_run``."""

    stage = "pre-commit"


#: The CI stage's time limit for one invocation of a component that declares none (an
#: entry's ``timeout:`` replaces it). See docs/isolation.md.
CI_DEFAULT_TIMEOUT = 600.0


class CIOrchestrator(StageOrchestrator):
    """Runs everything that is not experimental, over every tracked file. A component
    without a ``timeout`` gets ``CI_DEFAULT_TIMEOUT`` (10 minutes)."""

    stage = "ci"

    def assemble(self, selection: Selection) -> Step[Any, Any]:
        timed = tuple(with_timeout(c, CI_DEFAULT_TIMEOUT) for c in selection.kept)
        return super().assemble(Selection(timed, selection.dropped))


def with_timeout(comp: Component[Any, Any], seconds: float) -> Component[Any, Any]:
    """``comp`` with ``seconds`` as its timeout, unless it declares one."""
    if comp.meta.timeout is not None:
        return comp
    meta = msgspec.structs.replace(comp.meta, timeout=seconds)
    return Component(comp.fn, meta, comp.check, in_type=comp.in_type, out_type=comp.out_type)  # type: ignore[arg-type]


class TestOrchestrator(StageOrchestrator):
    """Runs test components (``type=test``), including ones that call external runners."""

    stage = "test"
    __test__ = False  # not a pytest test class, whatever its name says


ANY_TYPES = frozenset({"object", "Any", "typing.Any", ""})


def fits(produced: str, wanted: str) -> bool:
    """Whether a declared output type name can feed a declared input type name.

    >>> fits("str", "str"), fits("str", "object"), fits("int", "str")
    (True, True, False)
    """
    return produced == wanted or produced in ANY_TYPES or wanted in ANY_TYPES


class PipelineOrchestrator(StageOrchestrator):
    """Composes ``names[0] >> names[1] >> ...``: each output feeds the next input.

    Before anything runs, every name must resolve (else exit 3) and each declared output
    type must fit the next declared input type (else exit 4).
    """

    stage = "pipeline"

    def __init__(self, catalogue: Sequence[Component[Any, Any]], names: Sequence[str], **kw: Any) -> None:
        super().__init__(catalogue, **kw)
        self.names = tuple(names)

    def plan(self) -> Result[tuple[Component[Any, Any], ...], StepError]:
        """The components in order, or why the pipeline cannot start."""
        by_name = {c.name: c for c in self.catalogue}
        chain: list[Component[Any, Any]] = []
        for name in self.names:
            comp = by_name.get(name)
            if comp is None:
                known = ", ".join(sorted(by_name)) or "none"
                return Failure(Unresolved(name=name, message=f"no component named '{name}' (known: {known})"))
            chain.append(comp)
        if not chain:
            return Failure(Unresolved(name="", message="a pipeline needs --from NAME (and --to NAME ...)"))
        for a, b in zip(chain, chain[1:]):
            if not fits(a.meta.output_type, b.meta.input_type):
                return Failure(
                    ProtocolViolation(
                        message=f"{a.name} produces {a.meta.output_type} but {b.name} takes {b.meta.input_type}"
                    )
                )
        return Success(tuple(chain))

    def select(self) -> Selection:
        planned = self.plan()
        kept = planned.value_or(())
        return Selection(kept, tuple((c, "not in --from/--to") for c in self.catalogue if c not in kept))

    def assemble(self, selection: Selection) -> Step[Any, Any]:
        pipeline = sequence([self._guarded(c) for c in selection.kept])
        if self.stage_plan is not None:  # the stage's hooks (a chain has no graph options)
            pipeline = self.stage_plan.hooked("*", pipeline)
        return self.wrap(pipeline) if self.wrap is not None else pipeline

    def run(self, ctx: ExecCtx) -> RunReport:
        planned = self.plan()
        if isinstance(planned, Failure):
            return refused(ctx, self.stage, planned.failure())
        return super().run(ctx)

    async def arun(self, ctx: ExecCtx) -> RunReport:
        planned = self.plan()
        if isinstance(planned, Failure):
            return refused(ctx, self.stage, planned.failure())
        return await super().arun(ctx)


def refused(ctx: ExecCtx, stage: str, error: StepError) -> RunReport:
    """The report of a run that could not start: no steps, the error, its exit code."""
    code = ExitCode.REGISTRY if isinstance(error, Unresolved) else ExitCode.PROTOCOL
    return RunReport(
        steps=(),
        summary=Summary(status=Status.FAIL),
        exit_code=int(code),
        run_id=ctx.run_id,
        trace_id=ctx.trace_id,
        stage=stage,
        error=error,
        metadata={"stage": stage},
    )


class RegistryOrchestrator(Orchestrator):
    """Administers the registry: the action (add, remove, inspect, list) is one component,
    run through the interpreter like any other, so it gets the same report and exit codes.
    """

    stage = "registry"

    def __init__(self, action: Component[Any, Any], argument: Any = None) -> None:
        self.action = action
        self.argument = argument

    def run(self, ctx: ExecCtx) -> RunReport:
        ctx = msgspec.structs.replace(ctx, stage=self.stage)
        report = run(self.action, self.argument, ctx, SyncDriver())
        return msgspec.structs.replace(report, metadata={"stage": self.stage})


def steps_of(report: RunReport, status: Status) -> tuple[StepResult, ...]:
    """The step results of ``report`` with ``status``."""
    return tuple(s for s in report.steps if s.status is status)
