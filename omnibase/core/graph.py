"""Graphs: a stage as a DAG of nodes, each with the dependencies it needs and the
condition on their outcomes under which it runs (skip logic as data).

A ``Graph`` is a ``Step``: the one interpreter evaluates it (a ready-set loop that forks
every node whose dependencies are decided, so independent nodes run in parallel under an
asynchronous performer). Everything here is pure: building, checking, ordering,
selecting a subgraph and deciding whether a node runs.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> @component
... def lint(ctx: ExecCtx, x: object) -> Result[str, str]:
...     return Success("linted")
>>> @component
... def build(ctx: ExecCtx, x: object) -> Result[str, str]:
...     return Success("built")
>>> g = graph({"lint": lint, "build": node(build, needs=["lint"])})
>>> [n.name for n in g.nodes], g.nodes[1].needs
(['lint', 'build'], ('lint',))
>>> levels(g.nodes)
(('lint',), ('build',))
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias, cast

from omnibase.core.step import AllOf, Layout, Shape, Step
from omnibase.core.values import GraphNode

__all__ = [
    "CONDITIONS",
    "Condition",
    "Graph",
    "GraphError",
    "Node",
    "NodeOutcome",
    "Predicate",
    "check",
    "decide",
    "graph",
    "induced",
    "levels",
    "node",
    "pipeline_shape",
    "select",
    "shape",
]


class NodeOutcome(str, enum.Enum):
    """How a node ended, as its dependants' conditions see it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


Rule: TypeAlias = Literal["all_succeeded", "none_failed", "all_done"]

#: The built-in run conditions, and what each one says in a skip reason.
CONDITIONS: Mapping[str, str] = {
    "all_succeeded": "runs when every dependency succeeded",
    "none_failed": "runs when no dependency failed",
    "all_done": "runs whatever its dependencies did",
}


class Predicate:
    """A user's run condition: ``fn(outcomes) -> bool`` over the outcomes of the node's
    dependencies (a mapping from name to ``NodeOutcome``); ``label`` names it in reasons."""

    __slots__ = ("fn", "label")

    def __init__(self, fn: Callable[[Mapping[str, NodeOutcome]], bool], label: str = "") -> None:
        self.fn = fn
        self.label = label or getattr(fn, "__name__", "predicate")

    def __repr__(self) -> str:
        return f"Predicate({self.label})"


Condition: TypeAlias = Rule | Predicate


def condition_label(when: Condition) -> str:
    return when if isinstance(when, str) else f"predicate {when.label}"


class Node:
    """One node of a graph: a step, the names it needs, and when it runs.

    ``skip`` is a reason to skip it without running it (``--skip``, ``OMNIBASE_SKIP``);
    its dependants then see it as SKIPPED.
    """

    __slots__ = ("name", "step", "needs", "when", "skip")

    def __init__(
        self, name: str, step: Step[Any, Any], needs: Sequence[str] = (), when: Condition = "all_succeeded", skip: str = ""
    ) -> None:
        if isinstance(when, str) and when not in CONDITIONS:
            raise GraphError(f"{name}: unknown condition '{when}' (known: {', '.join(CONDITIONS)})")
        self.name = name
        self.step = step
        self.needs = tuple(needs)
        self.when = when
        self.skip = skip

    def replace(self, **changes: Any) -> Node:
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Node(**fields)

    def __repr__(self) -> str:
        return f"Node({self.name!r}, needs={self.needs!r}, when={condition_label(self.when)!r})"


class GraphError(ValueError):
    """A graph that cannot run: a cycle, an unknown dependency or a duplicate name."""


class Graph(AllOf[Any]):
    """A DAG of nodes, each run on the graph's input once its condition over its
    dependencies' outcomes holds. Its output is the nodes' outputs in node order (None
    for a node that did not run), like ``all_of``.

    ``maxfail``: after that many failed nodes, the rest are SKIP (``--maxfail``);
    ``fail_fast``: stop at the first failure, cancelling nodes in flight (``-x``).
    A ``Graph`` is an ``AllOf`` of its nodes' steps as far as tree walks go (``leaves``).
    """

    __slots__ = ("nodes", "maxfail", "flow", "_sinks")
    kind = "graph"
    layout: ClassVar[Layout] = "graph"
    nodes: tuple[Node, ...]
    maxfail: int | None
    flow: bool
    _sinks: tuple[str, ...]

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        name: str = "graph",
        maxfail: int | None = None,
        fail_fast: bool = False,
        flow: bool = False,
    ) -> None:
        problem = check(nodes)
        if problem is not None:
            raise GraphError(problem)
        super().__init__([n.step for n in nodes], fail_fast=fail_fast, name=name)
        object.__setattr__(self, "nodes", tuple(nodes))
        object.__setattr__(self, "maxfail", maxfail)
        object.__setattr__(self, "flow", flow)
        needed = {d for n in nodes for d in n.needs}
        object.__setattr__(self, "_sinks", tuple(n.name for n in nodes if n.name not in needed))

    def details(self) -> dict[str, Any]:
        return {"fail_fast": self.fail_fast, "graph": shape(self.nodes), "maxfail": self.maxfail, "flow": self.flow}

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        """The graph ``shape`` describes; a node whose condition is a predicate (code) is
        not rebuilt."""
        if len(parts) != len(shape.graph):
            return f"the snapshot's graph '{shape.name}' has {len(parts)} steps for {len(shape.graph)} nodes"
        for g in shape.graph:
            if g.when not in CONDITIONS:
                return f"the snapshot's graph node '{g.name}' runs on a {g.when}, which is code: it cannot be replayed"
        try:
            nodes = [Node(g.name, part, g.needs, cast(Rule, g.when), skip=g.skip) for g, part in zip(shape.graph, parts)]
            return Graph(nodes, name=shape.name, maxfail=shape.maxfail, fail_fast=shape.fail_fast, flow=shape.flow)
        except GraphError as err:
            return f"the snapshot's graph '{shape.name}': {err}"

    @classmethod
    def picture(cls, shape: Shape) -> tuple[Layout, Sequence[Any]]:
        if len(shape.graph) != len(shape.children):  # not a graph one can draw: its parts, side by side
            return "par", shape.children
        return "graph", [(g.name, part, g.needs, g.when, g.skip) for g, part in zip(shape.graph, shape.children)]

    def input_of(self, node: Node, value: Any, outputs: Mapping[str, Any]) -> Any:
        """What ``node`` runs on: the graph's input; in a data-flow graph (``flow``) a
        node that needs others gets their output instead: the one it needs, or the tuple
        of their outputs in ``needs`` order."""
        if not self.flow or not node.needs:
            return value
        if len(node.needs) == 1:
            return outputs.get(node.needs[0])
        return tuple(outputs.get(d) for d in node.needs)

    def output_of(self, outputs: Mapping[str, Any]) -> Any:
        """The graph's output from its nodes' (None for a node that did not run): the
        tuple of all of them in node order; in a data-flow graph, the output of the node
        nothing needs (the tuple of those, in node order, when there are several)."""
        if not self.flow:
            return tuple(outputs.get(n.name) for n in self.nodes)
        if len(self._sinks) == 1:
            return outputs.get(self._sinks[0])
        return tuple(outputs.get(name) for name in self._sinks)


def node(step: Step[Any, Any], *, needs: Sequence[str] = (), when: Condition = "all_succeeded", name: str | None = None) -> Node:
    """A graph node around ``step`` (named after it unless ``name`` is given)."""
    return Node(name or step.name, step, needs, when)


def graph(
    nodes: Mapping[str, Step[Any, Any] | Node] | Sequence[Node],
    *,
    name: str = "graph",
    maxfail: int | None = None,
    fail_fast: bool = False,
) -> Graph:
    """A ``Graph`` from a mapping of name to step (or ``node(...)``), or from nodes.
    Raises ``GraphError`` naming the cycle or the unknown name."""
    if isinstance(nodes, Mapping):
        built = [
            (v.replace(name=k) if v.name != k else v) if isinstance(v, Node) else Node(k, v) for k, v in nodes.items()
        ]
    else:
        built = list(nodes)
    return Graph(built, name=name, maxfail=maxfail, fail_fast=fail_fast)


# --- checking and ordering -------------------------------------------------------------------


def check(nodes: Sequence[Node]) -> str | None:
    """Why ``nodes`` do not form a DAG (a duplicate, an unknown dependency, a cycle), or None."""
    names: set[str] = set()
    for n in nodes:
        if n.name in names:
            return f"duplicate node '{n.name}'"
        names.add(n.name)
    for n in nodes:
        for dep in n.needs:
            if dep not in names:
                return f"{n.name} needs unknown '{dep}'"
    cycle = find_cycle({n.name: n.needs for n in nodes})
    if cycle:
        return "dependency cycle: " + " -> ".join(cycle)
    return None


def find_cycle(needs: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """One cycle of the dependency relation as a closed path (``a -> b -> a``), or ()."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(needs, WHITE)
    for start in needs:
        if colour[start] != WHITE:
            continue
        path: list[str] = [start]
        stack: list[Iterator[str]] = [iter(needs.get(start, ()))]
        colour[start] = GREY
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = BLACK
                stack.pop()
                continue
            state = colour.get(nxt, BLACK)
            if state == GREY:
                return (*path[path.index(nxt) :], nxt)
            if state == WHITE:
                colour[nxt] = GREY
                path.append(nxt)
                stack.append(iter(needs.get(nxt, ())))
    return ()


def levels(nodes: Sequence[Node]) -> tuple[tuple[str, ...], ...]:
    """The nodes in waves: each wave's nodes need only nodes of earlier waves (declaration
    order within a wave). Assumes ``check`` found nothing."""
    placed: dict[str, int] = {}
    pending = list(nodes)
    waves: list[tuple[str, ...]] = []
    while pending:
        wave = tuple(n.name for n in pending if all(d in placed for d in n.needs))
        if not wave:  # a cycle: check() reports it; never loop forever
            break
        for name in wave:
            placed[name] = len(waves)
        waves.append(wave)
        pending = [n for n in pending if n.name not in placed]
    return tuple(waves)


def _closure(edges: Mapping[str, Sequence[str]], names: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = [n for n in names if n in edges]
    while stack:
        cur = stack.pop()
        if cur not in seen:
            seen.add(cur)
            stack.extend(edges[cur])
    return seen


def ancestors(nodes: Sequence[Node], names: Iterable[str]) -> set[str]:
    """``names`` and everything they need, transitively."""
    return _closure({n.name: n.needs for n in nodes}, names)


def descendants(nodes: Sequence[Node], names: Iterable[str]) -> set[str]:
    """``names`` and everything that needs them, transitively."""
    users: dict[str, list[str]] = {n.name: [] for n in nodes}
    for n in nodes:
        for d in n.needs:
            users[d].append(n.name)
    return _closure(users, names)


def select(nodes: Sequence[Node], froms: Sequence[str] = (), tos: Sequence[str] = ()) -> tuple[Node, ...]:
    """The induced subgraph for ``--from``/``--to``: the nodes downstream of (and including)
    any of ``froms`` that are upstream of (and including) any of ``tos`` (an empty side
    does not restrict); dependencies on nodes left out are dropped from ``needs``."""
    keep = {n.name for n in nodes}
    if froms:
        keep &= descendants(nodes, froms)
    if tos:
        keep &= ancestors(nodes, tos)
    return tuple(n.replace(needs=tuple(d for d in n.needs if d in keep)) for n in nodes if n.name in keep)


def _both_ways(needs: Mapping[str, Sequence[str]], names: Iterable[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The dependency relation over every name it mentions (and ``names``): what each
    needs, and what needs each."""
    edges: dict[str, list[str]] = {n: [] for n in names}
    users: dict[str, list[str]] = {n: [] for n in edges}
    for name, deps in needs.items():
        edges.setdefault(name, []).extend(deps)
        users.setdefault(name, [])
        for d in deps:
            edges.setdefault(d, [])
            users.setdefault(d, []).append(name)
    return edges, users


def induced(needs: Mapping[str, Sequence[str]], froms: Sequence[str] = (), tos: Sequence[str] = ()) -> frozenset[str]:
    """The pipeline stage's ``--from``/``--to`` selection over the dependency relation
    ``needs`` (name -> the names it needs): the names downstream of (and including) any of
    ``froms`` that are upstream of (and including) any of ``tos`` (an empty side does not
    restrict), with everything they need, transitively: a node consumes what it needs.

    >>> sorted(induced({"b": ["a", "x"], "c": ["b"], "d": ["c"]}, ["a"], ["c"]))
    ['a', 'b', 'c', 'x']
    """
    edges, users = _both_ways(needs, (*froms, *tos))
    keep = set(edges)
    if froms:
        keep &= _closure(users, froms)
    if tos:
        keep &= _closure(edges, tos)
    return frozenset(_closure(edges, keep))


def pipeline_shape(needs: Mapping[str, Sequence[str]], froms: Sequence[str], tos: Sequence[str]) -> str:
    """How the pipeline stage reads ``--from``/``--to`` given the dependency relation:
    ``"graph"`` (the ``induced`` subgraph, data flowing along ``needs``), ``"chain"`` (the
    names composed in the order given, as the spec has it), or why neither (a line).

    - ``--from A --to B ...``: a graph when every ``--to`` is downstream of A (needs it,
      directly or through others); a chain when none is; otherwise an error naming the
      ``--to`` names that are not.
    - ``--from A`` alone: a graph (A, what needs it, and what they need).
    - ``--to B ...`` alone: a graph when some ``--to`` needs anything; else a chain.

    >>> pipeline_shape({"b": ["a"]}, ["a"], ["b"]), pipeline_shape({}, ["a"], ["b"])
    ('graph', 'chain')
    """
    if froms and tos:
        _, users = _both_ways(needs, (*froms, *tos))
        below = _closure(users, froms) - set(froms)
        downstream = [t for t in tos if t in below]
        if len(downstream) == len(tos):
            return "graph"
        if not downstream:
            return "chain"
        apart = ", ".join(t for t in tos if t not in below)
        return (
            f"--to {apart}: not downstream of --from {', '.join(froms)} through needs, while "
            f"--to {', '.join(downstream)} is: name a subgraph (every --to needs --from) or a chain (none does)"
        )
    if froms:
        return "graph"
    return "graph" if any(needs.get(t) for t in tos) else "chain"


def decide(when: Condition, outcomes: Mapping[str, NodeOutcome]) -> str | None:
    """None when a node with condition ``when`` runs, given its dependencies' outcomes
    (in ``needs`` order); otherwise the reason it is skipped, naming the dependency.

    >>> decide("all_succeeded", {"a": NodeOutcome.SUCCEEDED, "b": NodeOutcome.SKIPPED})
    'needs b, which was skipped (runs when every dependency succeeded)'
    >>> decide("none_failed", {"a": NodeOutcome.SKIPPED}) is None
    True
    """
    if isinstance(when, Predicate):
        try:
            holds = bool(when.fn(dict(outcomes)))
        except Exception as exc:  # a broken predicate skips the node, with the reason
            return f"predicate {when.label} raised {type(exc).__name__}: {exc}"
        if holds:
            return None
        said = ", ".join(f"{k} {v.value}" for k, v in outcomes.items()) or "no dependencies"
        return f"predicate {when.label} is false ({said})"
    if when == "all_done":
        return None
    bad = NodeOutcome.FAILED if when == "none_failed" else None
    for dep, outcome in outcomes.items():
        if (outcome is bad) if bad is not None else (outcome is not NodeOutcome.SUCCEEDED):
            word = "failed" if outcome is NodeOutcome.FAILED else "was skipped"
            return f"needs {dep}, which {word} ({CONDITIONS[when]})"
    return None


def shape(nodes: Sequence[Node]) -> tuple[GraphNode, ...]:
    """The graph as plain data (for reports and renderers): name, needs, condition, wave."""
    wave = {name: i for i, names in enumerate(levels(nodes)) for name in names}
    return tuple(
        GraphNode(name=n.name, needs=n.needs, when=condition_label(n.when), level=wave.get(n.name, 0), skip=n.skip)
        for n in nodes
    )
