"""Graphs and skip logic: properties against an independent model, under the interpreter."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase.core.graph import (
    Graph,
    GraphError,
    Node,
    NodeOutcome,
    Predicate,
    check,
    find_cycle,
    graph,
    levels,
    node,
    select,
)
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Meta, Status
from omnibase.drivers import FakeDriver, SyncDriver, arun, run
from omnibase.testing.graphs import check_skip_logic, dependencies
from omnibase.testing import fake_ctx

CTX = fake_ctx()
RULES = ("all_succeeded", "none_failed", "all_done", "any_succeeded")


def any_succeeded(outcomes: Mapping[str, NodeOutcome]) -> bool:
    return not outcomes or any(o is NodeOutcome.SUCCEEDED for o in outcomes.values())


def _when(rule: str) -> Any:
    return Predicate(any_succeeded) if rule == "any_succeeded" else rule


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 8) -> tuple[list[tuple[str, tuple[str, ...], str, bool]], list[str]]:
    """(name, needs, rule, fails) per node, needs only on earlier nodes; then shuffled."""
    n = draw(st.integers(1, max_nodes))
    names = [f"n{i}" for i in range(n)]
    spec = []
    for i, name in enumerate(names):
        needs = tuple(draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=3))) if i else ()
        spec.append((name, needs, draw(st.sampled_from(RULES)), draw(st.booleans())))
    order = draw(st.permutations(range(n)))
    return [spec[i] for i in order], names


def _build(spec: list[tuple[str, tuple[str, ...], str, bool]], calls: list[str]) -> list[Node]:
    def make(name: str, fails: bool) -> Component[Any, Any]:
        def fn(ctx: ExecCtx, x: object) -> Result[str, str]:
            calls.append(name)
            return Failure(f"{name} failed") if fails else Success(name)

        return Component(fn, Meta(name=name))

    return [Node(name, make(name, fails), needs, _when(rule)) for name, needs, rule, fails in spec]


def _model(spec: list[tuple[str, tuple[str, ...], str, bool]]) -> dict[str, NodeOutcome]:
    """The expected outcome of every node, computed directly from the definitions."""
    by = {s[0]: s for s in spec}
    out: dict[str, NodeOutcome] = {}

    def outcome(name: str) -> NodeOutcome:
        if name not in out:
            _, needs, rule, fails = by[name]
            deps = [outcome(d) for d in needs]
            runs = {
                "all_succeeded": all(d is NodeOutcome.SUCCEEDED for d in deps),
                "none_failed": all(d is not NodeOutcome.FAILED for d in deps),
                "all_done": True,
                "any_succeeded": not deps or any(d is NodeOutcome.SUCCEEDED for d in deps),
            }[rule]
            out[name] = (NodeOutcome.FAILED if fails else NodeOutcome.SUCCEEDED) if runs else NodeOutcome.SKIPPED
        return out[name]

    for s in spec:
        outcome(s[0])
    return out


@settings(max_examples=150, deadline=None)
@given(dags())
def test_a_node_runs_iff_its_condition_holds_and_after_what_it_needs(case: Any) -> None:
    spec, _ = case
    calls: list[str] = []
    built = Graph(_build(spec, calls))
    report = run(built, None, CTX, FakeDriver())
    check_skip_logic(built, report)  # the law users get from omnibase.testing.graphs
    expected = _model(spec)
    assert set(calls) == {n for n, o in expected.items() if o is not NodeOutcome.SKIPPED}
    assert len(calls) == len(set(calls))  # each node at most once
    position = {name: i for i, name in enumerate(calls)}
    needs = {s[0]: s[1] for s in spec}
    for name in calls:  # topological order: whatever a node needs and ran, ran before it
        assert all(position[d] < position[name] for d in needs[name] if d in position)
    status = {r.name: r.status for r in report.steps}
    want = {NodeOutcome.SUCCEEDED: Status.PASS, NodeOutcome.FAILED: Status.FAIL, NodeOutcome.SKIPPED: Status.SKIP}
    assert status == {n: want[o] for n, o in expected.items()}
    for r in report.steps:  # a skipped node says why: which dependency, or which predicate
        if r.status is Status.SKIP:
            assert any(d in r.reason for d in needs[r.name]) or "predicate" in r.reason
    assert report.exit_code == (1 if NodeOutcome.FAILED in expected.values() else 0)


@settings(max_examples=40, deadline=None)
@given(dags(max_nodes=6))
def test_the_async_performer_decides_the_same(case: Any) -> None:
    spec, _ = case
    sync_calls: list[str] = []
    async_calls: list[str] = []
    sync = run(Graph(_build(spec, sync_calls)), None, CTX, SyncDriver())
    concurrent = asyncio.run(arun(Graph(_build(spec, async_calls)), None, CTX, FakeDriver()))
    assert sorted(sync_calls) == sorted(async_calls)
    assert [(r.name, r.status, r.reason) for r in sync.steps] == [(r.name, r.status, r.reason) for r in concurrent.steps]


def _reach(spec: list[tuple[str, tuple[str, ...], str, bool]]) -> set[tuple[str, str]]:
    """(a, b) when b is a or depends on a, transitively: a closure by iteration."""
    pairs = {(s[0], s[0]) for s in spec} | {(d, s[0]) for s in spec for d in s[1]}
    while True:
        more = {(a, c) for (a, b), (b2, c) in itertools.product(pairs, pairs) if b == b2} - pairs
        if not more:
            return pairs
        pairs |= more


@settings(max_examples=100, deadline=None)
@given(dags(), st.data())
def test_from_to_selects_exactly_the_induced_subgraph(case: Any, data: st.DataObject) -> None:
    spec, names = case
    froms = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
    tos = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
    nodes = _build(spec, [])
    chosen = select(nodes, froms, tos)
    reach = _reach(spec)
    want = {
        v for v in names
        if (not froms or any((f, v) in reach for f in froms)) and (not tos or any((v, t) in reach for t in tos))
    }  # fmt: skip
    assert {n.name for n in chosen} == want
    needs = {s[0]: set(s[1]) for s in spec}
    for n in chosen:  # induced: exactly the edges between chosen nodes
        assert set(n.needs) == needs[n.name] & want
    assert check(chosen) is None


@settings(max_examples=100, deadline=None)
@given(dags(), st.data())
def test_a_back_edge_is_reported_as_a_real_cycle(case: Any, data: st.DataObject) -> None:
    spec, names = case
    a = data.draw(st.sampled_from(names))
    b = data.draw(st.sampled_from(names[: names.index(a) + 1]))
    # b is a or earlier; a needing ... b and b needing a closes a loop when a reaches b
    spec2 = [(n, (*needs, a) if n == b else needs, r, f) for n, needs, r, f in spec]
    cyclic = (b, a) in _reach(spec)  # a already depends on b (or is b)
    cycle = find_cycle({s[0]: s[1] for s in spec2})
    assert bool(cycle) == cyclic
    if cycle:
        assert cycle[0] == cycle[-1]
        needs = {s[0]: s[1] for s in spec2}
        assert all(cycle[i + 1] in needs[cycle[i]] for i in range(len(cycle) - 1))
        with pytest.raises(GraphError, match="dependency cycle"):
            Graph(_build(spec2, []))


@settings(max_examples=60, deadline=None)
@given(dags())
def test_levels_put_each_node_after_everything_it_needs(case: Any) -> None:
    spec, names = case
    nodes = _build(spec, [])
    waves = levels(nodes)
    at = {name: i for i, wave in enumerate(waves) for name in wave}
    assert sorted(at) == sorted(names)
    for n in nodes:
        assert all(at[d] < at[n.name] for d in n.needs)
        assert not n.needs or at[n.name] == 1 + max(at[d] for d in n.needs)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.booleans())
def test_maxfail_stops_scheduling_after_n_failures(failing: int, limit: int, fail_fast: bool) -> None:
    calls: list[str] = []
    spec = [(f"f{i}", (), "all_succeeded", True) for i in range(failing)] + [("ok", (), "all_succeeded", False)]
    g = Graph(_build(spec, calls), maxfail=limit, fail_fast=fail_fast)
    report = run(g, None, CTX, FakeDriver())
    stop = 1 if fail_fast else limit
    assert report.summary.failed == min(failing, stop)
    stopped = [r for r in report.steps if r.status is Status.SKIP]
    assert len(stopped) == len(spec) - len(calls)
    assert all("stopped after" in r.reason for r in stopped)


def test_unknown_dependency_and_duplicate_are_named() -> None:
    a = Component(lambda c, x: Success(1), Meta(name="a"))
    with pytest.raises(GraphError, match="a needs unknown 'zz'"):
        graph({"a": node(a, needs=["zz"])})
    assert check([Node("a", a), Node("a", a)]) == "duplicate node 'a'"
    with pytest.raises(GraphError, match="unknown condition"):
        Node("a", a, when="sometimes")  # type: ignore[arg-type]


def test_skip_reason_and_output_mapping() -> None:
    a = Component(lambda c, x: Failure("no"), Meta(name="a"))
    b = Component(lambda c, x: Success(2), Meta(name="b"))
    c = Component(lambda c, x: Success(3), Meta(name="c"))
    d = Component(lambda c, x: Success(x), Meta(name="d"))
    g = graph({"a": a, "b": node(b, needs=["a"]), "c": node(c, needs=["a"], when="all_done"), "d": d})
    report = run(g, 7, CTX, SyncDriver())
    by = {r.name: r for r in report.steps}
    assert by["b"].status is Status.SKIP and by["b"].reason == "needs a, which failed (runs when every dependency succeeded)"
    assert by["c"].status is Status.PASS and by["d"].value == 7
    ok = run(graph({"b": b, "c": node(c, needs=["b"])}), None, CTX, SyncDriver())
    assert ok.output == (2, 3)
    skipped = run(graph({"b": b, "c": node(c, needs=["b"]), "d": node(d, when="all_done", needs=["a2"]), "a2": a}), 5, CTX, SyncDriver())
    assert skipped.exit_code == 1 and skipped.output is None


def test_a_raising_predicate_skips_with_the_reason() -> None:
    def broken(outcomes: Mapping[str, NodeOutcome]) -> bool:
        raise RuntimeError("boom")

    a = Component(lambda c, x: Success(1), Meta(name="a"))
    b = Component(lambda c, x: Success(2), Meta(name="b"))
    report = run(graph({"a": a, "b": node(b, needs=["a"], when=Predicate(broken))}), None, CTX, SyncDriver())
    assert report.steps[-1].status is Status.SKIP
    assert report.steps[-1].reason == "predicate broken raised RuntimeError: boom"


def test_an_interrupted_graph_leaves_a_partial_report_listing_every_node() -> None:
    def stop(ctx: ExecCtx, x: object) -> Result[int, str]:
        raise KeyboardInterrupt

    a = Component(lambda c, x: Success(1), Meta(name="a"))
    b = Component(stop, Meta(name="b"))
    c = Component(lambda c, x: Success(3), Meta(name="c"))
    report = run(graph({"a": a, "b": node(b, needs=["a"]), "c": node(c, needs=["b"])}), None, CTX, SyncDriver())
    assert report.outcome == "interrupted" and report.exit_code == 130
    assert [(r.name, r.status, r.reason) for r in report.steps] == [
        ("a", Status.PASS, ""), ("b", Status.FAIL, ""), ("c", Status.SKIP, "interrupted")
    ]


def test_a_dry_run_does_not_run_hooks_that_are_not_pure() -> None:
    from omnibase import Veto, dry_run, hooked

    calls: list[str] = []

    def veto(ctx: ExecCtx, meta: Meta | None) -> Veto:
        calls.append("hook")
        return Veto(reason="no")

    work = Component(lambda c, x: Success(1), Meta(name="work", pure=True))
    report = run(dry_run(hooked(work, pre=[veto])), None, CTX, SyncDriver())
    assert calls == [] and report.steps[0].status is Status.PASS


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_dependencies_strategy_gives_dags_and_the_law_catches_a_wrong_report(data: st.DataObject) -> None:
    names = [f"m{i}" for i in range(data.draw(st.integers(2, 6)))]
    needs = data.draw(dependencies(names))
    nodes = [Node(n, Component(lambda c, x: Failure("no"), Meta(name=n)), needs[n]) for n in names]
    assert check(nodes) is None
    built = Graph(nodes)
    report = run(built, None, CTX, FakeDriver())
    check_skip_logic(built, report)
    dependants = [n for n in built.nodes if n.needs]
    if dependants:  # pretend a node whose dependency failed ran anyway: the law must object
        wrong = dependants[0].name
        forged = tuple(msgspec.structs.replace(r, status=Status.PASS) if r.name == wrong else r for r in report.steps)
        with pytest.raises(AssertionError, match=wrong):
            check_skip_logic(built, msgspec.structs.replace(report, steps=forged))


@settings(max_examples=50, deadline=None)
@given(dags(max_nodes=6), st.integers(1, 3) | st.none(), st.booleans())
def test_a_graph_round_trips_through_a_snapshot(case: Any, maxfail: int | None, fail_fast: bool) -> None:
    from omnibase.core.shape import rebuild, shape_of
    from omnibase.core.step import Shape

    spec, _ = case
    spec = [(n, needs, "all_done" if rule == "any_succeeded" else rule, f) for n, needs, rule, f in spec]
    calls: list[str] = []
    nodes = _build(spec, calls)
    built = Graph(nodes, maxfail=maxfail, fail_fast=fail_fast)
    shape = shape_of(built)
    again = rebuild(msgspec.json.decode(msgspec.json.encode(shape), type=Shape), {n.name: n.step for n in nodes})
    assert shape_of(again.unwrap()) == shape
    first = run(built, None, CTX, FakeDriver())
    second = run(again.unwrap(), None, CTX, FakeDriver())
    assert [(r.name, r.status, r.reason) for r in first.steps] == [(r.name, r.status, r.reason) for r in second.steps]


def test_a_predicate_or_a_hook_is_code_a_snapshot_cannot_rebuild() -> None:
    from omnibase import hooked
    from omnibase.core.shape import rebuild, shape_of

    a = Component(lambda c, x: Success(1), Meta(name="a"))
    with_predicate = graph({"a": a, "b": node(a, name="b", needs=["a"], when=Predicate(any_succeeded))})
    assert "predicate any_succeeded, which is code" in rebuild(shape_of(with_predicate), {"a": a}).failure()
    assert "hooks, which are code" in rebuild(shape_of(hooked(a, pre=[lambda ctx, meta: None])), {"a": a}).failure()
