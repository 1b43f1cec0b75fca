"""Pictures of a pipeline: its graph as Mermaid, Graphviz DOT or plain text (pure).

A picture is drawn from a tuple of ``GraphNode`` (name, the names it needs, its run
condition, its wave), taken from a pipeline's ``Shape`` (``picture_of``: a ``Step`` tree
before a run, or a failure snapshot's pipeline), or from a run's report after it
(``report_graph``, with each node's status and duration as ``Mark`` values). The renderers are pure functions of those values; nothing here reads a file or
the clock. The rules each output follows are in ``docs/visualization.md``.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> @component
... def lint(ctx: ExecCtx, x: object) -> Result[object, str]:
...     return Success(x)
>>> @component
... def build(ctx: ExecCtx, x: object) -> Result[object, str]:
...     return Success(x)
>>> nodes = picture_of(lint >> build)
>>> [(n.name, n.needs, n.level) for n in nodes]
[('lint', (), 0), ('build', ('lint',), 1)]
>>> print(mermaid(nodes))
flowchart TD
  n0["lint"]
  n1["build"]
  n0 --> n1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
from toolz import groupby

from omnibase.core.columns import clip, width_of
from omnibase.core.shape import kind_of, shape_of
from omnibase.core.step import Layout, Shape, Step
from omnibase.core.values import GraphNode, RunReport, Status

__all__ = [
    "FORMATS",
    "PICTURES",
    "Mark",
    "clip",
    "dot",
    "escaped",
    "marks_of",
    "mermaid",
    "picture_of",
    "render",
    "report_graph",
    "text",
    "width_of",
]

#: The text picture's default width, in terminal columns.
WIDTH = 100


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    """How a node did in a run: its status, how long it took, why (a skip's reason)."""

    status: str
    duration_s: float = 0.0
    reason: str = ""


# --- structure -------------------------------------------------------------------------------

class _Flow:
    """What the walk has found so far: nodes in order, with the names each one needs."""

    def __init__(self) -> None:
        self.needs: dict[str, list[str]] = {}
        self.when: dict[str, str] = {}
        self.skip: dict[str, str] = {}

    def add(self, name: str, needs: Iterable[str] = (), when: str = "all_succeeded", skip: str = "") -> None:
        have = self.needs.setdefault(name, [])
        for dep in needs:
            if dep != name and dep not in have:
                have.append(dep)
        self.when.setdefault(name, when)
        if skip:
            self.skip[name] = skip


def _view(shape: Shape) -> tuple[Layout, Sequence[Any]]:
    kind = kind_of(shape)
    return kind.picture(shape) if kind is not None else ("seq", shape.children)


def _walk(root: Shape, flow: _Flow) -> None:
    """Add ``root``'s nodes to ``flow``. Each part becomes (entries, exits): the names
    that start it and the names it ends with; a sequence links one part's exits to the
    next part's entries. Chains are flat in a shape, so the recursion is only as deep as
    the nesting (which ``core.shape.check_shape`` bounds for shapes read from files)."""

    def part(x: Shape, before: tuple[str, ...]) -> tuple[str, ...]:
        """Add ``x`` after ``before`` (the exits it follows); its exits."""
        layout, parts = _view(x)
        if layout == "leaf":
            flow.add(x.name, before)
            return (x.name,)
        if layout == "seq":
            current = before
            for child in parts:
                current = part(child, current)
            return current
        if layout == "par":
            exits: list[str] = []
            for child in parts:
                exits.extend(e for e in part(child, before) if e not in exits)
            return tuple(exits) or before
        named = parts
        used = {dep for _, _, needs, _, _ in named for dep in needs}
        for name, _, needs, when, skip in named:
            flow.add(name, [*needs] if needs else before, when, skip)
        return tuple(name for name, _, _, _, _ in named if name not in used) or before

    part(root, ())


def _levels(needs: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each node's wave: 0 when it needs nothing, else one more than its deepest need
    (a need on a cycle counts as 0; the pictures still draw every edge)."""
    level: dict[str, int] = {}
    for start in needs:
        if start in level:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        on_path: set[str] = set()
        while stack:
            name, i = stack.pop()
            deps = needs.get(name, ())
            if i == 0:
                on_path.add(name)
            if i < len(deps):
                stack.append((name, i + 1))
                dep = deps[i]
                if dep not in level and dep not in on_path and dep in needs:
                    stack.append((dep, 0))
                continue
            on_path.discard(name)
            level[name] = max((level.get(d, -1) + 1 for d in deps if d in level), default=0)
    return level


def _nodes(flow: _Flow) -> tuple[GraphNode, ...]:
    level = _levels(flow.needs)
    return tuple(
        GraphNode(name=n, needs=tuple(d), when=flow.when[n], level=level.get(n, 0), skip=flow.skip.get(n, ""))
        for n, d in flow.needs.items()
    )


def picture_of(pipeline: Step[Any, Any] | Shape) -> tuple[GraphNode, ...]:
    """The graph a picture of ``pipeline`` draws (a step tree, or its ``Shape``, e.g. a
    failure snapshot's): one node per component (a ``Graph``'s nodes stay one node each,
    named as in its reports), an edge from each step to what runs after it on its output
    (``>>``) or needs it (a graph's ``needs``). Fan-out branches are parallel; hooks run
    before and after what they hook."""
    flow = _Flow()
    _walk(pipeline if isinstance(pipeline, Shape) else shape_of(pipeline), flow)
    return _nodes(flow)


def marks_of(report: RunReport) -> dict[str, Mark]:
    """Each step's status, duration and reason by name (a name seen twice: the worst)."""
    rank = {Status.FAIL: 3, Status.WARN: 2, Status.PASS: 1, Status.SKIP: 0}
    marks: dict[str, Mark] = {}
    for r in report.steps:
        seen = marks.get(r.name)
        if seen is None or rank[r.status] > rank.get(Status(seen.status), 0):
            marks[r.name] = Mark(status=r.status.value, duration_s=r.duration_s, reason=r.reason or _error_text(r.error))
    return marks


def _error_text(error: Any) -> str:
    if error is None:
        return ""
    return str(getattr(error, "message", "") or getattr(error, "exc_type", "") or type(error).__name__)


def report_graph(report: RunReport) -> tuple[GraphNode, ...]:
    """The graph a report describes: its stage graph when it has one; else its steps, one
    after another for the ``pipeline`` stage (a chain), side by side for any other stage
    (a fan-out). Use ``picture_of`` on a snapshot's pipeline for its exact shape."""
    if report.graph:
        return report.graph
    names = list(dict.fromkeys(r.name for r in report.steps))
    chain = report.stage == "pipeline"
    return tuple(
        GraphNode(name=n, needs=(names[i - 1],) if chain and i else (), level=i if chain else 0)
        for i, n in enumerate(names)
    )


# --- rendering -------------------------------------------------------------------------------


def escaped(name: str) -> str:
    r"""``name`` with what a terminal would not print (controls, line breaks) escaped.

    >>> escaped("lint\x1b[2J")
    'lint\\x1b[2J'
    """
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)


def _seconds(s: float) -> str:
    return f"{s * 1000:.0f}ms" if s < 1 else f"{s:.2f}s"


def _mark_words(mark: Mark | None) -> str:
    if mark is None:
        return ""
    return f"{mark.status} {_seconds(mark.duration_s)}" if mark.status != "SKIP" else "SKIP"


def text(
    nodes: Sequence[GraphNode], marks: Mapping[str, Mark] | None = None, *, title: str = "pipeline", width: int = WIDTH
) -> str:
    """The graph as lines of at most ``width`` columns: wave by wave, each node with what
    it needs, its status and duration, and why it was skipped.

    >>> print(text((GraphNode(name="lint"), GraphNode(name="build", needs=("lint",), level=1)),
    ...            {"lint": Mark(status="FAIL", duration_s=0.25)}))
    pipeline: 2 nodes in 2 waves
    wave 1
      lint  FAIL 250ms
    wave 2
      build  <- lint
    """
    marks = marks or {}
    waves: dict[int, list[GraphNode]] = groupby(lambda n: n.level, nodes)
    lines = [f"{escaped(title)}: {len(nodes)} node{'s' if len(nodes) != 1 else ''} in {len(waves)} wave{'s' if len(waves) != 1 else ''}"]
    for level in sorted(waves):
        lines.append(f"wave {level + 1}")
        for n in waves[level]:
            mark = marks.get(n.name)
            line = f"  {escaped(n.name)}"
            if n.needs:
                line += "  <- " + ", ".join(escaped(d) for d in n.needs)
            if n.when != "all_succeeded":
                line += f"  [{escaped(n.when)}]"
            words = _mark_words(mark)
            if words:
                line += f"  {words}"
            lines.append(line)
            why = (mark.reason if mark is not None and mark.status in ("SKIP", "FAIL") else "") or n.skip
            if why:
                lines.append(f"      {escaped(why)}")
    return "\n".join(clip(line, width) for line in lines)


_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:/+-=@")
_CLASSES = {"PASS": "pass", "FAIL": "fail", "WARN": "warn", "SKIP": "skip"}
_COLOURS = {"PASS": "#d4edda", "FAIL": "#f8d7da", "WARN": "#fff3cd", "SKIP": "#e2e3e5"}


def _mermaid_label(text: str) -> str:
    """Every character outside a small safe set as a Mermaid entity code (``#35;``)."""
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in text)


def mermaid(nodes: Sequence[GraphNode], marks: Mapping[str, Mark] | None = None) -> str:
    """The graph as a Mermaid flowchart: node ids ``n0``, ``n1``...; labels quoted, with
    every character outside ``[A-Za-z0-9 _.,:/+=@-]`` as an entity code; ``<br/>``
    separates a label's lines; a run's statuses are ``classDef`` classes."""
    marks = marks or {}
    ids = {n.name: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart TD"]
    for n in nodes:
        label = _mermaid_label(n.name)
        words = _mark_words(marks.get(n.name))
        if words:
            label += "<br/>" + _mermaid_label(words)
        lines.append(f'  {ids[n.name]}["{label}"]')
    for n in nodes:
        for dep in n.needs:
            if dep in ids:
                lines.append(f"  {ids[dep]} --> {ids[n.name]}")
    used = sorted({marks[n.name].status for n in nodes if n.name in marks and marks[n.name].status in _CLASSES})
    for status in used:
        lines.append(f"  classDef {_CLASSES[status]} fill:{_COLOURS[status]}")
    for status in used:
        members = ",".join(ids[n.name] for n in nodes if n.name in marks and marks[n.name].status == status)
        lines.append(f"  class {members} {_CLASSES[status]}")
    return "\n".join(lines)


def _dot_string(text: str) -> str:
    """A DOT double-quoted string: backslash and quote escaped, line breaks as ``\\n``,
    other control characters escaped as text."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\n").replace("\n", "\\n")
    return '"' + escaped(out) + '"'


def dot(nodes: Sequence[GraphNode], marks: Mapping[str, Mark] | None = None, *, title: str = "pipeline") -> str:
    """The graph in Graphviz DOT: node ids ``n0``, ``n1``...; each node's label its name
    (and status, duration); a run's statuses as fill colours."""
    marks = marks or {}
    ids = {n.name: f"n{i}" for i, n in enumerate(nodes)}
    lines = [f"digraph {_dot_string(title)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for n in nodes:
        mark = marks.get(n.name)
        label = n.name + ("\n" + _mark_words(mark) if mark is not None else "")
        attrs = f"label={_dot_string(label)}"
        if mark is not None and mark.status in _COLOURS:
            attrs += f', style=filled, fillcolor="{_COLOURS[mark.status]}"'
        lines.append(f"  {ids[n.name]} [{attrs}];")
    for n in nodes:
        for dep in n.needs:
            if dep in ids:
                lines.append(f"  {ids[dep]} -> {ids[n.name]};")
    lines.append("}")
    return "\n".join(lines)


#: Every picture format: ``(nodes, marks, title) -> text``. ``--graph`` offers these names.
PICTURES: dict[str, Callable[[Sequence[GraphNode], Mapping[str, Mark] | None, str], str]] = {
    "mermaid": lambda nodes, marks, title: mermaid(nodes, marks),  # a flowchart has no title
    "dot": lambda nodes, marks, title: dot(nodes, marks, title=title),
    "text": lambda nodes, marks, title: text(nodes, marks, title=title),
}
FORMATS = tuple(PICTURES)


def render(fmt: str, nodes: Sequence[GraphNode], marks: Mapping[str, Mark] | None = None, *, title: str = "pipeline") -> str:
    """The picture in ``fmt`` (one of ``FORMATS``; a ``KeyError`` for any other)."""
    return PICTURES[fmt](nodes, marks, title)
