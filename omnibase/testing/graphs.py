"""Property-testing graphs: a strategy for dependency structures and the skip-logic law.

``dependencies(names)`` generates acyclic ``needs`` for the given node names (each node
needs only names before it; shuffle the order you declare them in if you like).
``check_skip_logic(graph, report)`` checks a finished run against the graph's definition:
a node whose condition over its dependencies' outcomes does not hold never ran (it is SKIP),
a node that ran had its condition hold, and every node that ran appears in the report after
everything it needs that ran.

>>> from returns.result import Failure, Success
>>> from omnibase.core.graph import graph, node
>>> from omnibase.core.step import Component
>>> from omnibase.core.values import Meta
>>> from omnibase.drivers import FakeDriver, run
>>> from omnibase.testing import fake_ctx
>>> lint = Component(lambda ctx, x: Failure("no"), Meta(name="lint"))
>>> build = Component(lambda ctx, x: Success(1), Meta(name="build"))
>>> g = graph({"lint": lint, "build": node(build, needs=["lint"])})
>>> check_skip_logic(g, run(g, None, fake_ctx(), FakeDriver()))  # holds: nothing raised
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st
from toolz import groupby, valmap

from omnibase.core.graph import Graph, NodeOutcome, decide
from omnibase.core.step import leaves
from omnibase.core.values import RunReport, Status

__all__ = ["check_skip_logic", "dependencies", "outcomes_of"]


@st.composite
def dependencies(draw: st.DrawFn, names: Sequence[str], max_needs: int = 3) -> dict[str, tuple[str, ...]]:
    """Acyclic ``needs`` for ``names``: each name needs a few of the names before it."""
    out: dict[str, tuple[str, ...]] = {}
    for i, name in enumerate(names):
        earlier = list(names[:i])
        out[name] = tuple(draw(st.lists(st.sampled_from(earlier), unique=True, max_size=max_needs))) if earlier else ()
    return out


def outcomes_of(graph: Graph, report: RunReport) -> dict[str, NodeOutcome]:
    """Each node's outcome as its dependants saw it, read back from the report: FAILED when
    one of its components failed, SKIPPED when all were skipped, else SUCCEEDED."""
    status: dict[str, list[Status]] = valmap(lambda rs: [r.status for r in rs], groupby(lambda r: r.name, report.steps))
    out: dict[str, NodeOutcome] = {}
    for node in graph.nodes:
        seen = [s for comp in leaves(node.step) for s in status.get(comp.name, [])]
        if any(s is Status.FAIL for s in seen):
            out[node.name] = NodeOutcome.FAILED
        elif not seen or all(s is Status.SKIP for s in seen):
            out[node.name] = NodeOutcome.SKIPPED
        else:
            out[node.name] = NodeOutcome.SUCCEEDED
    return out


def check_skip_logic(graph: Graph, report: RunReport) -> None:
    """Raise ``AssertionError`` naming the node where ``report`` breaks the graph's skip
    logic or its order."""
    outcome = outcomes_of(graph, report)
    first: dict[str, int] = {}
    for i, r in enumerate(report.steps):
        if r.status is not Status.SKIP:
            first.setdefault(r.name, i)
    for node in graph.nodes:
        why = decide(node.when, {d: outcome[d] for d in node.needs})
        ran = outcome[node.name] is not NodeOutcome.SKIPPED
        if why is not None:
            assert not ran, f"{node.name} ran although its condition does not hold: {why}"
        if ran:
            names = [c.name for c in leaves(node.step)]
            at = min(first[n] for n in names if n in first)
            for dep in node.needs:
                dep_names = [c.name for c in leaves(graph.nodes[_index(graph, dep)].step)]
                before = [first[n] for n in dep_names if n in first]
                assert all(b < at for b in before), f"{node.name} ran before {dep}, which it needs"


def _index(graph: Graph, name: str) -> int:
    return next(i for i, n in enumerate(graph.nodes) if n.name == name)
