"""The orchestrators of the spec's stages (each names its row of ``table.STAGES``), the
pipeline's typed checks, and the registry's administrator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.combinators import sequence
from omnibase.core.graph import Graph, Node, find_cycle, induced, pipeline_shape
from omnibase.core.select import Selection
from omnibase.core.step import Component, Step
from omnibase.core.values import (
    ExecCtx,
    Misconfigured,
    ProtocolViolation,
    RunReport,
    Status,
    StepError,
    StepResult,
    Unresolved,
)
from omnibase.core.refusals import refusal_code, refused
from omnibase.drivers import SyncDriver, run
from omnibase.orchestrators.base import Orchestrator, StageOrchestrator, with_timeout
from omnibase.orchestrators.table import STAGES

__all__ = [
    "CI_DEFAULT_TIMEOUT",
    "CIOrchestrator",
    "PipelineOrchestrator",
    "PreCommitOrchestrator",
    "RegistryOrchestrator",
    "TestOrchestrator",
    "fits",
    "orchestrator_for",
    "refusal_code",
    "with_timeout",
]


class PreCommitOrchestrator(StageOrchestrator):
    """Runs the canary and stable components tagged ``pre-commit`` over the files in
    ``ctx.files`` (staged files by default; the CLI fills them in). Fixers apply their
    edits unless ``ctx.dry_run``."""

    stage = "pre-commit"


#: The CI stage's time limit for one invocation of a component that declares none (an
#: entry's ``timeout:`` replaces it): its row of the stage table. See docs/isolation.md.
CI_DEFAULT_TIMEOUT = STAGES["ci"].timeout


class CIOrchestrator(StageOrchestrator):
    """Runs everything that is not experimental, over every tracked file. A component
    without a ``timeout`` gets ``CI_DEFAULT_TIMEOUT`` (10 minutes)."""

    stage = "ci"


class TestOrchestrator(StageOrchestrator):
    """Runs test components (``type=test``), including ones that call external runners."""

    stage = "test"
    __test__ = False  # not a pytest test class, whatever its name says


def orchestrator_for(stage: str) -> type[StageOrchestrator]:
    """The class that runs ``stage`` (its row of the stage table names it).

    >>> orchestrator_for("ci").__name__
    'CIOrchestrator'
    """
    found = globals()[STAGES[stage].orchestrator]
    assert isinstance(found, type) and issubclass(found, StageOrchestrator), found
    return found


ANY_TYPES = frozenset({"object", "Any", "typing.Any", ""})


def fits(produced: str, wanted: str) -> bool:
    """Whether a declared output type name can feed a declared input type name.

    >>> fits("str", "str"), fits("str", "object"), fits("int", "str")
    (True, True, False)
    """
    return produced == wanted or produced in ANY_TYPES or wanted in ANY_TYPES


class PipelineOrchestrator(StageOrchestrator):
    """The pipeline stage: ``--from A --to B ...`` name a typed pipeline, each output
    feeding an input, in one of two shapes (``core.graph.pipeline_shape`` decides):

    - a **graph**, when ``needs`` relates the names (every ``--to`` needs ``--from``,
      directly or through others): the ``induced`` subgraph (A's descendants that are
      B's ancestors, and everything they need), run as a data-flow ``Graph``: a node gets
      the output of what it needs (the tuple of their outputs when it needs several,
      in ``needs`` order); the output is that of the node nothing else needs (the
      tuple of those, wave by wave, when there are several);
    - a **chain**, when no ``--to`` is downstream of ``--from``: ``A >> B >> ...`` in the
      order given (the spec's example).

    ``names`` is ``[from, *tos]``; the stage plan's ``froms``/``tos`` (the CLI's) take
    precedence, so ``--to`` without ``--from`` can be told apart. ``needs`` (name -> names)
    adds to the stage plan's (the registry's ``needs:``).

    Before anything runs, every name must resolve (else exit 3) and each declared output
    type must fit the declared input type it feeds, on every edge (else exit 4).
    """

    stage = "pipeline"

    def __init__(
        self,
        catalogue: Sequence[Component[Any, Any]],
        names: Sequence[str],
        *,
        needs: Mapping[str, Sequence[str]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(catalogue, **kw)
        self.names = tuple(names)
        self.needs = {k: tuple(v) for k, v in (needs or {}).items()}

    def _ends(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        plan = self.stage_plan
        if plan is not None and (plan.froms or plan.tos):
            return plan.froms, plan.tos
        return self.names[:1], self.names[1:]

    def _relation(self) -> dict[str, tuple[str, ...]]:
        merged = dict(self.stage_plan.needs) if self.stage_plan is not None else {}
        for name, deps in self.needs.items():
            merged[name] = tuple(dict.fromkeys((*merged.get(name, ()), *deps)))
        return merged

    def layout(self) -> Result[tuple[tuple[Component[Any, Any], ...], Mapping[str, tuple[str, ...]] | None], StepError]:
        """The components in the order they run, and the needs among them for a graph
        (None for a chain); or why the pipeline cannot start."""
        by_name = {c.name: c for c in self.catalogue}
        froms, tos = self._ends()
        for name in (*froms, *tos):
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                return Failure(Unresolved(name=name, message=f"no component named '{name}' (known: {known})"))
        if not (froms or tos):
            return Failure(Unresolved(name="", message="a pipeline needs --from NAME (and --to NAME ...)"))
        relation = self._relation()
        for name, deps in relation.items():
            for dep in deps:
                if dep not in by_name:  # as in the registry file: a configuration error
                    return Failure(Misconfigured(message=f"{name} needs unknown component '{dep}'", where="needs"))
        shape = pipeline_shape(relation, froms, tos)
        if shape == "chain":
            chain = tuple(by_name[n] for n in (*froms, *tos))
            for a, b in zip(chain, chain[1:]):
                if not fits(a.meta.output_type, b.meta.input_type):
                    return Failure(_misfit(a, b))
            return Success((chain, None))
        if shape != "graph":
            return Failure(Misconfigured(message=shape, where="--from/--to"))
        needs = {n: relation.get(n, ()) for n in induced(relation, froms, tos)}
        cycle = find_cycle(needs)
        if cycle:
            return Failure(Misconfigured(message=f"dependency cycle: {' -> '.join(cycle)}", where="needs"))
        rank = {c.name: i for i, c in enumerate(self.catalogue)}
        order = _waves(needs, rank)
        comps = tuple(by_name[n] for n in order)
        for comp in comps:
            problem = _edge_misfit([by_name[d] for d in needs[comp.name]], comp)
            if problem is not None:
                return Failure(problem)
        return Success((comps, needs))

    def plan(self) -> Result[tuple[Component[Any, Any], ...], StepError]:
        """The components in the order they run, or why the pipeline cannot start."""
        return self.layout().map(lambda laid: laid[0])

    @property
    def kept_reason(self) -> str:
        """Why a dry run's plan says each selected component was selected."""
        laid = self.layout()
        if isinstance(laid, Success) and laid.unwrap()[1] is not None:
            return "selected: on the --from/--to subgraph, or needed by it"
        return "selected: named by --from/--to"

    def select(self) -> Selection:
        laid = self.layout()
        kept, needs = laid.value_or(((), None))
        why = "not in --from/--to" if needs is None else "not on the --from/--to subgraph"
        return Selection(kept, tuple((c, why) for c in self.catalogue if c not in kept))

    def assemble(self, selection: Selection) -> Step[Any, Any]:
        laid = self.layout()
        needs = laid.unwrap()[1] if isinstance(laid, Success) else None
        pipeline: Step[Any, Any]
        if needs is None:
            pipeline = sequence([self._guarded(c) for c in selection.kept])
        else:
            nodes = [Node(c.name, self._guarded(c), needs[c.name]) for c in selection.kept]
            pipeline = Graph(nodes, name=self.stage, fail_fast=self.fail_fast, flow=True)
        if self.stage_plan is not None:  # the stage's hooks (no other graph option applies)
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


def _waves(needs: Mapping[str, Sequence[str]], rank: Mapping[str, int]) -> list[str]:
    """The names in dependency order: wave by wave, each wave in ``rank`` order."""
    placed: set[str] = set()
    order: list[str] = []
    pending = sorted(needs, key=lambda n: rank.get(n, 0))
    while pending:
        wave = [n for n in pending if all(d in placed for d in needs[n])]
        placed.update(wave)
        order += wave
        pending = [n for n in pending if n not in placed]
    return order


def _misfit(a: Component[Any, Any], b: Component[Any, Any]) -> ProtocolViolation:
    return ProtocolViolation(message=f"{a.name} produces {a.meta.output_type} but {b.name} takes {b.meta.input_type}")


def _tuple_items(name: str) -> list[str] | None:
    """The element type names of ``tuple[A, B]`` (``[A, "..."]`` for ``tuple[A, ...]``),
    ``[]`` for a bare ``tuple``, None when ``name`` is no tuple type."""
    name = name.replace("typing.", "").replace("Tuple", "tuple").strip()
    if name == "tuple":
        return []
    if not (name.startswith("tuple[") and name.endswith("]")):
        return None
    items, depth, cur = [], 0, ""
    for ch in name[6:-1]:
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
            continue
        depth += (ch == "[") - (ch == "]")
        cur += ch
    items.append(cur.strip())
    return items


def _edge_misfit(deps: Sequence[Component[Any, Any]], comp: Component[Any, Any]) -> ProtocolViolation | None:
    """Why what ``comp`` needs cannot feed it: one dependency's output type must fit its
    input type; several give a tuple, so its input type must be a tuple they fit."""
    wanted = comp.meta.input_type
    if len(deps) == 1:
        return None if fits(deps[0].meta.output_type, wanted) else _misfit(deps[0], comp)
    if len(deps) < 2 or wanted in ANY_TYPES:
        return None
    items = _tuple_items(wanted)
    made = ", ".join(f"{d.name} ({d.meta.output_type})" for d in deps)
    if items is None:
        return ProtocolViolation(message=f"{comp.name} takes {wanted} but needs {made}: it gets the tuple of their outputs")
    if items == [] or (len(items) == 2 and items[1] == "..."):
        items = [items[0] if items else "object"] * len(deps)
    if len(items) != len(deps):
        return ProtocolViolation(message=f"{comp.name} takes {wanted} but needs {len(deps)}: {made}")
    for dep, item in zip(deps, items):
        if not fits(dep.meta.output_type, item):
            return ProtocolViolation(
                message=f"{dep.name} produces {dep.meta.output_type} but {comp.name} takes {item} from it (in {wanted})"
            )
    return None


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
