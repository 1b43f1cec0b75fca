"""Pictures of pipelines (``core.visual``): properties over generated pipelines.

The text form fits in 100 columns; Mermaid follows the grammar rules of
``docs/visualization.md`` (checked line by line here); DOT is parsed by a real parser
(pydot) and gives back every node's name and every edge."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pydot
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Result, Success

from omnibase.core.combinators import all_of
from omnibase.core.graph import graph, node
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, GraphNode, Meta, RunReport, Status, StepResult, Summary
from omnibase.core.visual import Mark, dot, picture_of, marks_of, mermaid, report_graph, text
from tests.support import report


def _ok(ctx: ExecCtx, x: object) -> Result[object, str]:
    return Success(x)


def comp(name: str) -> Component[Any, Any]:
    return Component(_ok, Meta(name=name))


# --- generated pipelines -----------------------------------------------------------------------

names = st.text(min_size=1, max_size=120)


@st.composite
def pipelines(draw: Any) -> tuple[Step[Any, Any], list[str]]:
    """A pipeline of >>, all_of and graphs over components with unique, arbitrary names."""
    pool = draw(st.lists(names, min_size=1, max_size=14, unique=True))
    it = iter(pool)

    def build(depth: int) -> Step[Any, Any] | None:
        name = next(it, None)
        if name is None:
            return None
        kind = draw(st.sampled_from(["leaf", "then", "all_of", "graph"]) if depth < 3 else st.just("leaf"))
        if kind == "leaf":
            return comp(name)
        parts = [comp(name)] + [p for p in (build(depth + 1) for _ in range(draw(st.integers(1, 3)))) if p is not None]
        if kind == "then":
            out = parts[0]
            for p in parts[1:]:
                out = out >> p
            return out
        if kind == "all_of":
            return all_of(parts)
        nodes = []
        for i, p in enumerate(parts):
            needs = draw(st.lists(st.integers(0, max(0, i - 1)), max_size=2, unique=True)) if i else []
            nodes.append(node(p, name=f"{name}#{i}", needs=[f"{name}#{j}" for j in needs]))
        return graph(nodes)

    step = build(0)
    assert step is not None
    return step, pool


def _columns(line: str) -> int:
    """Terminal columns, measured as the docs say: East Asian wide/full-width 2, combining
    marks and format characters 0, the rest 1."""
    return sum(
        0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf")
        else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in line
    )  # fmt: skip


def _drawn(built: Any, data: Any) -> tuple[tuple[GraphNode, ...], dict[str, Mark]]:
    """A generated pipeline's graph, and statuses drawn for some of its nodes."""
    nodes = picture_of(built[0])
    statuses = st.sampled_from(["PASS", "FAIL", "WARN", "SKIP"])
    marks = {
        n.name: Mark(status=data.draw(statuses), duration_s=data.draw(st.floats(0, 1e5)), reason=data.draw(st.text(max_size=200)))
        for n in nodes
        if data.draw(st.booleans())
    }
    return nodes, marks


@settings(max_examples=150, deadline=None)
@given(pipelines(), st.data())
def test_the_text_form_fits_in_100_columns_and_names_every_node(built: Any, data: Any) -> None:
    nodes, marks = _drawn(built, data)
    out = text(nodes, marks, title=data.draw(names))
    for line in out.splitlines():
        assert _columns(line) <= 100, line
        assert line.isprintable()
    assert len(out.splitlines()) >= len(nodes) + 1


@settings(max_examples=150, deadline=None)
@given(pipelines())
def test_levels_respect_every_edge(built: Any) -> None:
    step, _ = built
    nodes = picture_of(step)
    level = {n.name: n.level for n in nodes}
    for n in nodes:
        for dep in n.needs:
            assert level[dep] < n.level
        assert n.level == (max((level[d] for d in n.needs), default=-1) + 1)


# Mermaid grammar rules (docs/visualization.md): a header; node statements ID["LABEL"];
# edges ID --> ID; classDef NAME fill:#RRGGBB; class ID[,ID...] NAME. IDs are n<digits>;
# a LABEL is safe characters, entity codes #<decimal>; and <br/>.
_ID = r"n\d+"
_LABEL = r'(?:[A-Za-z0-9 _.,:/+=@-]|#\d+;|<br/>)*'
_MERMAID_LINE = re.compile(
    rf'(flowchart TD|  {_ID}\["{_LABEL}"\]|  {_ID} --> {_ID}|  classDef (pass|fail|warn|skip) fill:#[0-9a-f]{{6}}'
    rf"|  class {_ID}(,{_ID})* (pass|fail|warn|skip))"
)


def _mermaid_label(label: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label.split("<br/>")[0])


@settings(max_examples=150, deadline=None)
@given(pipelines(), st.data())
def test_mermaid_follows_the_documented_grammar(built: Any, data: Any) -> None:
    nodes, marks = _drawn(built, data)
    out = mermaid(nodes, marks)
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    for line in lines:
        assert _MERMAID_LINE.fullmatch(line), line
    labels = dict(re.findall(rf'  ({_ID})\["({_LABEL})"\]', out))
    assert [_mermaid_label(labels[f"n{i}"]) for i in range(len(nodes))] == [n.name for n in nodes]
    ids = {n.name: f"n{i}" for i, n in enumerate(nodes)}
    edges = set(re.findall(rf"  ({_ID}) --> ({_ID})", out))
    assert edges == {(ids[d], ids[n.name]) for n in nodes for d in n.needs}


def _dot_unescape(label: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label)


@settings(max_examples=60, deadline=None)
@given(pipelines(), st.data())
def test_dot_is_parsed_by_a_real_parser(built: Any, data: Any) -> None:
    nodes, marks = _drawn(built, data)
    out = dot(nodes, marks, title=data.draw(names))
    parsed = pydot.graph_from_dot_data(out)
    assert parsed is not None and len(parsed) == 1
    g = parsed[0]
    labels = {n.get_name(): n.get("label") for n in g.get_nodes() if n.get("label") is not None}
    assert len(labels) == len(nodes)
    for i, n in enumerate(nodes):
        label = _dot_unescape(labels[f"n{i}"][1:-1])
        name = label.split("\n")[0] if n.name in marks else label
        if n.name.isprintable():
            assert name == n.name
    edges = {(e.get_source(), e.get_destination()) for e in g.get_edges()}
    ids = {n.name: f"n{i}" for i, n in enumerate(nodes)}
    assert edges == {(ids[d], ids[n.name]) for n in nodes for d in n.needs}


def test_a_chain_a_fan_out_and_a_graph() -> None:
    a, b, c = comp("a"), comp("b"), comp("c")
    assert [(n.name, n.needs) for n in picture_of(a >> b >> c)] == [("a", ()), ("b", ("a",)), ("c", ("b",))]
    assert [(n.name, n.needs) for n in picture_of(all_of([a, b]) >> c)] == [("a", ()), ("b", ()), ("c", ("a", "b"))]
    g = graph({"a": a, "b": node(b, needs=["a"], when="all_done"), "c": node(c, needs=["a"])})
    shaped = picture_of(g)
    assert [(n.name, n.needs, n.when, n.level) for n in shaped] == [
        ("a", (), "all_succeeded", 0), ("b", ("a",), "all_done", 1), ("c", ("a",), "all_succeeded", 1)
    ]  # fmt: skip


def _report(stage: str, *results: tuple[str, Status, float, str]) -> RunReport:
    return report(*(StepResult(name=n, status=s, span_id=str(i), duration_s=d, reason=r) for i, (n, s, d, r) in enumerate(results)), stage=stage)


def test_a_reports_graph_is_its_stage_graph_or_its_steps() -> None:
    report = _report("ci", ("lint", Status.FAIL, 0.25, ""), ("build", Status.SKIP, 0.0, "needs lint, which failed"))
    assert [n.needs for n in report_graph(report)] == [(), ()]  # a fan-out
    chained = _report("pipeline", ("a", Status.PASS, 1.5, ""), ("b", Status.FAIL, 0.0, ""))
    assert [n.needs for n in report_graph(chained)] == [(), ("a",)]
    out = text(report_graph(report), marks_of(report), title="ci")
    assert out.splitlines() == ["ci: 2 nodes in 1 wave", "wave 1", "  lint  FAIL 250ms", "  build  SKIP", "      needs lint, which failed"]


def test_control_characters_and_wide_names_are_drawn_safely() -> None:
    nodes = (GraphNode(name="a\nb\x1b[31m"), GraphNode(name="界" * 80, needs=("a\nb\x1b[31m",), level=1))
    out = text(nodes)
    assert "\x1b" not in out and "a\\nb\\x1b[31m" in out
    assert all(_columns(line) <= 100 for line in out.splitlines())
    assert text(nodes, width=40).splitlines()[-1].endswith("...")


def test_the_cli_offers_exactly_the_picture_formats() -> None:
    from omnibase.cli._terminal import GRAPH_FORMATS
    from omnibase.core.visual import FORMATS, PICTURES, render

    assert GRAPH_FORMATS == FORMATS == tuple(PICTURES)
    a, b = (Component(lambda ctx, x: Success(x), Meta(name=n)) for n in ("a", "b"))
    nodes = picture_of(a >> b)
    for fmt in FORMATS:
        assert "b" in render(fmt, nodes, title="t")
