"""A stage as a graph: dependencies, partial execution, hooks and gating, as one value.

``StagePlan`` is what a stage orchestrator needs beyond its selection to run the stage
as a DAG (``core.graph``), with hooks (``core.hooks``) and a gating policy
(``core.gating``). ``assemble_graph`` builds the step; ``judged`` applies the policy to
the finished report. Both are pure: the CLI gathers the plan's inputs (the registry's
``needs`` and hooks, ``--skip``, ``OMNIBASE_SKIP``, the last run's state, the per-tree
history) at the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from omnibase.core.gating import GatePolicy, admit, admit_component, judge, summarise
from omnibase.core.graph import Condition, Graph, Node, ancestors, select, shape
from omnibase.core.hooks import hooked
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, ExitCode, Failed, GateDecision, RunReport

__all__ = ["Hooks", "StagePlan", "assemble_graph", "judged", "refused_by_gate"]

#: pre-hooks and post-hooks (hook components)
Hooks = tuple[tuple[Component[Any, Any], ...], tuple[Component[Any, Any], ...]]


class StagePlan:
    """Everything beyond the selection that shapes a stage's run.

    ``needs``: per component, the names it needs; ``when``: its run condition; ``skip``: names to skip, with the reason;
    ``froms``/``tos``: the ``--from``/``--to`` subgraph; ``only``: run only these names and
    what they need (``--only-failed``); ``maxfail``: stop after N failures; ``hooks``: per
    component (and ``"*"`` for the stage) its pre/post hooks; ``gate``: the gating policy;
    ``history``: per stage, its last outcome for the current tree (for ``gate.requires``).
    """

    def __init__(
        self,
        *,
        needs: Mapping[str, Sequence[str]] | None = None,
        when: Mapping[str, Condition] | None = None,
        skip: Mapping[str, str] | None = None,
        froms: Sequence[str] = (),
        tos: Sequence[str] = (),
        only: Sequence[str] = (),
        maxfail: int | None = None,
        hooks: Mapping[str, Hooks] | None = None,
        gate: GatePolicy | None = None,
        history: Mapping[str, str] | None = None,
    ) -> None:
        self.needs = {k: tuple(v) for k, v in (needs or {}).items()}
        self.when = dict(when or {})
        self.skip = dict(skip or {})
        self.froms = tuple(froms)
        self.tos = tuple(tos)
        self.only = tuple(only)
        self.maxfail = maxfail
        self.hooks = dict(hooks or {})
        self.gate = gate
        self.history = dict(history or {})

    def hooked(self, name: str, step: Step[Any, Any]) -> Step[Any, Any]:
        """``step`` with the hooks of component ``name`` (``"*"``: the stage's), if any."""
        pre, post = self.hooks.get(name, ((), ()))
        return hooked(step, pre=pre, post=post)

    def nodes(self, kept: Sequence[Component[Any, Any]], wrap: Callable[[Component[Any, Any]], Step[Any, Any]]) -> tuple[Node, ...]:
        """The graph's nodes for the selected components: needs restricted to the selection,
        skip reasons (``--skip``, lifecycle gates), then the ``--from/--to`` subgraph."""
        names = {c.name for c in kept}
        nodes: list[Node] = []
        for comp in kept:
            skip = self.skip.get(comp.name, "")
            if not skip and self.gate is not None:
                gated = admit_component(self.gate, comp.meta)
                skip = gated.reason if gated is not None else ""
            step = wrap(comp)
            needs = [d for d in self.needs.get(comp.name, ()) if d in names]
            nodes.append(Node(comp.name, step, needs, self.when.get(comp.name, "all_succeeded"), skip=skip))
        chosen = select(nodes, self.froms, self.tos)
        if self.only:  # the names and what they need (their needs stay inside)
            keep = ancestors(chosen, self.only)
            chosen = tuple(n for n in chosen if n.name in keep)
        return chosen


def assemble_graph(
    kept: Sequence[Component[Any, Any]],
    plan: StagePlan,
    wrap: Callable[[Component[Any, Any]], Step[Any, Any]],
    *,
    name: str,
    fail_fast: bool,
) -> Step[Any, Any]:
    """The stage's step: a ``Graph`` of the selected components (each as ``wrap`` makes
    it), with the stage's hooks."""
    built = Graph(plan.nodes(kept, wrap), name=name, maxfail=plan.maxfail, fail_fast=fail_fast)
    return plan.hooked("*", built)


def graph_of(step: Step[Any, Any]) -> Graph | None:
    """The ``Graph`` at the top of a stage's step (under its stage hooks), if any."""
    while not isinstance(step, Graph):
        inner = getattr(step, "inner", None)
        if inner is None:
            return None
        step = inner
    return step


def refused_by_gate(plan: StagePlan, stage: str, ctx: ExecCtx) -> RunReport | None:
    """The report of a stage its gate refuses to run (exit 1, the decision recorded), or None."""
    if plan.gate is None:
        return None
    decision = admit(plan.gate, stage, plan.history)
    if decision.verdict == "run":
        return None
    return RunReport(
        steps=(), summary=summarise((), True), exit_code=int(ExitCode.FAILED), run_id=ctx.run_id,
        trace_id=ctx.trace_id, stage=stage, error=Failed(message=f"gate: {stage} {decision.reason}"),
        metadata={"stage": stage}, gating=(decision,),
    )  # fmt: skip


def judged(plan: StagePlan, step: Step[Any, Any], report: RunReport) -> RunReport:
    """``report`` with the graph's shape, and the gating policy applied: downgraded
    failures, the stage's verdict and exit code, and every decision with its reason."""
    found = graph_of(step)
    if found is not None:
        report = msgspec.structs.replace(report, graph=shape(found.nodes))
    if plan.gate is None:
        return report
    decisions: list[GateDecision] = [admit(plan.gate, report.stage, plan.history)]
    decisions += _skipped_by_lifecycle(plan, report)
    judgement = judge(plan.gate, report.stage, report.steps)
    decisions += judgement.decisions
    summary = summarise(judgement.results, judgement.failed, tolerated=True)
    code = report.exit_code
    if code == ExitCode.FAILED and not judgement.failed:
        code = int(ExitCode.OK)  # tolerated failures; a protocol or security error still stands
    elif code == ExitCode.OK and judgement.failed:
        code = int(ExitCode.FAILED)
    return msgspec.structs.replace(
        report, steps=judgement.results, summary=summary, exit_code=code, gating=(*report.gating, *decisions),
        error=report.error if code else None,
    )  # fmt: skip


def _skipped_by_lifecycle(plan: StagePlan, report: RunReport) -> list[GateDecision]:
    assert plan.gate is not None
    out: list[GateDecision] = []
    for r in report.steps:
        if r.meta is not None:
            gated = admit_component(plan.gate, r.meta)
            if gated is not None and r.reason == gated.reason:
                out.append(gated)
    return out
