"""The pipeline stage as a graph: ``induced`` selects exactly the subgraph between
``--from`` and ``--to`` plus what it needs (checked against a transitive-closure model),
``pipeline_shape`` tells a subgraph from the spec's chain, and a run of the pipeline
orchestrator runs exactly that subgraph with data flowing along every edge."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Result, Success

from omnibase.core.graph import induced, pipeline_shape
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, ExitCode, Meta, Status
from omnibase.drivers import FakeDriver
from omnibase.orchestrators.graphs import StagePlan
from omnibase.orchestrators.stages import PipelineOrchestrator
from omnibase.testing import fake_ctx
from omnibase.testing.graphs import dependencies

NAMES = [f"n{i}" for i in range(8)]


def _reach(needs: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], bool]:
    """``reach[a, b]``: b is a, or a needs b, transitively (Warshall's algorithm)."""
    reach = {(a, b): a == b or b in needs[a] for a in NAMES for b in NAMES}
    for k in NAMES:
        for a in NAMES:
            for b in NAMES:
                reach[a, b] = reach[a, b] or (reach[a, k] and reach[k, b])
    return reach


def _model(needs: dict[str, tuple[str, ...]], froms: list[str], tos: list[str]) -> set[str]:
    reach = _reach(needs)
    core = {
        v for v in NAMES
        if (not froms or any(reach[v, f] for f in froms)) and (not tos or any(reach[t, v] for t in tos))
    }  # fmt: skip
    return {u for u in NAMES if any(reach[v, u] for v in core)}


ends = st.lists(st.sampled_from(NAMES), max_size=2, unique=True)


@settings(max_examples=200, deadline=None)
@given(dependencies(NAMES), ends, ends)
def test_the_selection_is_exactly_the_induced_subgraph_and_its_needs(
    needs: dict[str, tuple[str, ...]], froms: list[str], tos: list[str]
) -> None:
    chosen = induced(needs, froms, tos)
    assert chosen == _model(needs, froms, tos)
    assert all(d in chosen for n in chosen for d in needs[n])  # closed under needs


@settings(max_examples=200, deadline=None)
@given(dependencies(NAMES), st.sampled_from(NAMES), ends)
def test_the_shape_is_a_graph_when_needs_relate_the_names_and_a_chain_when_not(
    needs: dict[str, tuple[str, ...]], start: str, tos: list[str]
) -> None:
    reach = _reach(needs)
    below = [t for t in tos if t != start and reach[t, start]]
    shape = pipeline_shape(needs, [start], tos)
    if not tos or len(below) == len(tos):
        assert shape == "graph"
    elif not below:
        assert shape == "chain"
    else:
        assert shape.startswith("--to ") and all(t in shape for t in tos if t not in below)
    only_tos = pipeline_shape(needs, [], tos)
    assert only_tos == ("graph" if any(needs[t] for t in tos) else "chain")


def _component(name: str) -> Component[Any, Any]:
    def act(ctx: ExecCtx, value: object) -> Result[object, str]:
        return Success((name, value))  # what it was given, so the data flow can be traced

    return Component(act, Meta(name=name))


@settings(max_examples=120, deadline=None)
@given(dependencies(NAMES), st.sampled_from(NAMES), st.data())
def test_a_run_runs_the_subgraph_once_each_in_order_with_data_along_the_edges(
    needs: dict[str, tuple[str, ...]], start: str, data: st.DataObject
) -> None:
    reach = _reach(needs)
    downstream = [v for v in NAMES if v != start and reach[v, start]]
    tos = data.draw(st.lists(st.sampled_from(downstream), unique=True, max_size=2)) if downstream else []
    plan = StagePlan(needs={k: v for k, v in needs.items() if v}, froms=[start], tos=tos)
    orch = PipelineOrchestrator([_component(n) for n in NAMES], [], stage_plan=plan, driver=FakeDriver())
    report = orch.run(fake_ctx(files=("f",)))
    assert report.exit_code == ExitCode.OK, report.error
    chosen = _model(needs, [start], tos)
    ran = [r.name for r in report.steps]
    assert sorted(ran) == sorted(chosen) and all(r.status is Status.PASS for r in report.steps)
    assert all(ran.index(d) < ran.index(n) for n in ran for d in needs[n])  # topological order

    def expected(name: str) -> object:  # the value a node produces, from the model
        deps = needs[name]
        given_ = ("f",) if not deps else expected(deps[0]) if len(deps) == 1 else tuple(map(expected, deps))
        return (name, given_)

    values = {r.name: r.value for r in report.steps}
    assert all(values[n] == expected(n) for n in chosen)
    # the nodes nothing needs, in the graph's order (wave by wave: the order they ran in)
    sinks = [n for n in ran if not any(n in needs[m] for m in chosen)]
    assert report.output == (expected(sinks[0]) if len(sinks) == 1 else tuple(map(expected, sinks)))


def test_fan_in_types_are_checked_per_edge() -> None:
    def comp(name: str, takes: str, gives: str) -> Component[Any, Any]:
        return Component(lambda ctx, x: Success(x), Meta(name=name, input_type=takes, output_type=gives))

    cases = {
        "tuple[int, str]": None,
        "tuple[int, ...]": "b produces str but c takes int from it (in tuple[int, ...])",
        "tuple[int]": "c takes tuple[int] but needs 2: a (int), b (str)",
        "list[str]": "c takes list[str] but needs a (int), b (str): it gets the tuple of their outputs",
        "object": None,
    }
    for takes, problem in cases.items():
        catalogue = [comp("a", "", "int"), comp("b", "", "str"), comp("c", takes, "str")]
        orch = PipelineOrchestrator(catalogue, ["c"], needs={"c": ["a", "b"]})
        orch.stage_plan = StagePlan(tos=["c"])
        planned = orch.plan()
        said = None if isinstance(planned, Success) else planned.failure().message
        assert said == problem, (takes, said)


def test_python_needs_that_name_nothing_or_loop_are_configuration_errors() -> None:
    catalogue = [_component(n) for n in ("a", "b")]
    for needs, said in (({"b": ["zzz"]}, "b needs unknown component 'zzz'"), ({"a": ["b"], "b": ["a"]}, "dependency cycle: ")):
        orch = PipelineOrchestrator(catalogue, ["a"], needs=needs, driver=FakeDriver())
        report = orch.run(fake_ctx())
        assert report.exit_code == ExitCode.CONFIG and report.steps == ()
        assert str(getattr(report.error, "message", "")).startswith(said)
