"""Node kinds describe themselves: one walk turns any tree into its shape and back, and a
new kind is shaped, rebuilt, drawn and run with no list of kinds edited anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from returns.result import Failure, Result, Success

from omnibase.core import combinators as c
from omnibase.core.graph import graph, node
from omnibase.core.hooks import hooked
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.shape import MAX_DEPTH, check_shape, fold, names_in, rebuild, shape_of
from omnibase.core.step import KINDS, Component, Shape, Step, Wrapper, component, leaves
from omnibase.core.values import ExecCtx, Status
from omnibase.core.visual import picture_of
from omnibase.drivers import FakeDriver, run
from omnibase.interpreter import HANDLERS
from omnibase.testing import fake_ctx


@component(idempotent=True)
def a(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success(x + 1)


@component(idempotent=True)
def b(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success(x * 2)


COMPONENTS = {"a": a, "b": b}


def one_of_each() -> dict[str, Step[Any, Any]]:
    """A pipeline of every kind of node the package has (recover: its handler is code)."""
    return {
        "component": a,
        "identity": c.identity(),
        "then": a >> c.identity() >> b,
        "retry": c.retry(a, RetryPolicy(max_attempts=4, initial=0.5, jitter=0.5)),
        "breaker": c.breaker(a, BreakerPolicy(threshold=2), key="shared"),
        "timeout": c.timeout(a >> b, 2.5),
        "profile": c.profile(a, "labelled"),
        "dry_run": c.dry_run(a),
        "recover": c.recover(a, lambda error: 0),
        "fallback": c.fallback(a >> c.identity(), c.identity()),
        "all_of": c.all_of([a, b], fail_fast=True, name="both"),
        "graph": graph({"a": a, "b": node(b, needs=["a"], when="none_failed")}, maxfail=1),
        "hooked": hooked(a, pre=[lambda ctx, meta: None]),
    }


def test_every_node_kind_has_one_handler_and_an_example_here() -> None:
    assert set(KINDS) == set(one_of_each())
    assert set(KINDS.values()) <= set(HANDLERS)


@pytest.mark.parametrize("kind", sorted(set(one_of_each()) - {"recover", "hooked"}))
def test_every_kind_of_data_round_trips_through_its_shape_with_its_names(kind: str) -> None:
    step = one_of_each()[kind]
    shape = shape_of(step)
    assert shape.kind == kind and shape.name == step.name
    stored = msgspec.json.decode(msgspec.json.encode(shape), type=Shape)
    again = rebuild(stored, COMPONENTS).unwrap()
    assert type(again) is type(step) and shape_of(again) == shape
    # the same names, so the same report: jitter keys, timeout messages, profile labels
    assert run(again, 1, fake_ctx(), FakeDriver()) == run(step, 1, fake_ctx(), FakeDriver())


@pytest.mark.parametrize("kind", ["recover", "hooked"])
def test_a_node_holding_code_is_shaped_but_never_rebuilt(kind: str) -> None:
    shape = shape_of(one_of_each()[kind])
    assert shape.kind == kind
    assert "code, not data" in rebuild(shape, COMPONENTS).failure()


def test_a_chain_is_one_flat_node_however_it_was_nested() -> None:
    left, right = (a >> b) >> a, a >> (b >> a)
    assert shape_of(left).children == shape_of(right).children == tuple(shape_of(x) for x in (a, b, a))
    assert [s.name for s in left.children()] == ["a", "b", "a"]


def test_a_sequence_has_no_identity_in_front() -> None:
    assert c.sequence([a, b]).name == "a >> b" and [s.name for s in c.sequence([a, b]).children()] == ["a", "b"]
    assert c.sequence([]) is c.identity() and c.sequence([a]) is a


def test_rebuild_says_which_node_it_cannot_rebuild() -> None:
    assert rebuild(shape_of(a >> b), {"a": a}).failure() == "the snapshot names component 'b', which is not known here"
    bad = Shape(kind="retry", name="r", children=(Shape(kind="component", name="a"),))  # no policy
    assert rebuild(bad, COMPONENTS).failure() == "the snapshot's retry node 'r' has no policy"
    two = Shape(kind="timeout", name="t", seconds=1.0, children=(shape_of(a), shape_of(b)))
    assert rebuild(two, COMPONENTS).failure() == "the snapshot's timeout node 't' has 2 children, not 1"
    odd = Shape(kind="then", name="x", children=(Shape(kind="teleport", name="y"), shape_of(a)))
    assert rebuild(odd, COMPONENTS).failure() == "the snapshot's node 'y' is of an unknown kind 'teleport'"


def test_out_of_range_data_is_a_message_not_an_exception() -> None:
    shape = msgspec.structs.replace(shape_of(c.timeout(a, 1.0)), seconds=-1.0)  # built in Python, not read
    assert rebuild(shape, COMPONENTS).failure() == "the snapshot's timeout node 'a': timeout must be positive"
    with pytest.raises(msgspec.ValidationError, match=r"max_attempts"):
        msgspec.json.decode(
            b'{"kind": "retry", "name": "r", "retry": {"max_attempts": 0, "initial": 0, "multiplier": 1, "cap": 0, "jitter": 0}}',
            type=Shape,
        )


def test_a_shape_too_deep_or_of_an_unknown_kind_is_refused_without_recursion() -> None:
    deep = Shape(kind="component", name="a")
    for _ in range(MAX_DEPTH * 50):  # far past Python's recursion limit
        deep = Shape(kind="profile", name="p", children=(deep,))
    assert check_shape(deep) == f"the pipeline is nested more than {MAX_DEPTH} levels deep"
    assert names_in(deep) == ["a"]  # the walks themselves do not recurse
    assert isinstance(rebuild(deep, COMPONENTS), Success)
    assert check_shape(Shape(kind="then", name="t", children=(Shape(kind="?", name="q"),))) is not None
    assert check_shape(shape_of(one_of_each()["graph"])) is None


def test_fold_goes_bottom_up_in_order_without_recursion() -> None:
    seen: list[str] = []

    def visit(n: tuple[str, list[Any]], below: list[str]) -> str:
        seen.append(n[0])
        return f"{n[0]}({','.join(below)})"

    tree = ("r", [("x", [("y", [])]), ("z", [])])
    assert fold(tree, lambda n: n[1], visit) == "r(x(y()),z())" and seen == ["y", "x", "z", "r"]
    chain: tuple[str, list[Any]] = ("leaf", [])
    for i in range(5000):
        chain = (str(i), [chain])
    assert fold(chain, lambda n: n[1], lambda n, below: 1 + sum(below)) == 5001


def test_a_picture_shows_hooks_around_what_they_hook_before_and_after_a_snapshot() -> None:
    step = hooked(a >> b, pre=[lambda ctx, meta: None], post=[lambda ctx, results: None])
    drawn = [(n.name, n.needs) for n in picture_of(step)]
    assert drawn == [("a >> b:pre:<lambda>", ()), ("a", ("a >> b:pre:<lambda>",)), ("b", ("a",)), ("a >> b:post:<lambda>", ("b",))]
    stored = msgspec.json.decode(msgspec.json.encode(shape_of(step)), type=Shape)
    assert picture_of(stored) == picture_of(step)
    assert names_in(stored) == ["a", "b"]  # hooks are not components a replay looks up


# --- a new kind, defined here: nothing else is edited ------------------------------------------


@pytest.fixture
def twice() -> Iterator[type[Wrapper[Any, Any]]]:
    """A combinator that runs its step twice, the second time on the first one's output."""
    from omnibase.interpreter._walk import Evaluation, _eval, _Run, handles

    class Twice(Wrapper[Any, Any]):
        __slots__ = ()
        kind = "twice"

        @classmethod
        def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
            return Twice(inner, shape.name)

        @classmethod
        def tag(cls, shape: Shape) -> str | None:
            return "twice"

    @handles(Twice)
    def _twice(step: Twice, value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
        ok, out = yield from _eval(step.inner, value, run, dry, limit)
        if not ok:
            return ok, out
        return (yield from _eval(step.inner, out, run, dry, limit))

    yield Twice
    del KINDS["twice"], HANDLERS[Twice]


def test_a_new_kind_is_shaped_rebuilt_drawn_and_run_with_no_table_edited(twice: type[Wrapper[Any, Any]]) -> None:
    step = c.retry(twice(a >> b))
    report = run(step, 1, fake_ctx(), FakeDriver())
    assert report.output == ((1 + 1) * 2 + 1) * 2 and [s.status for s in report.steps] == [Status.PASS] * 4
    shape = shape_of(step)
    assert [s.kind for s in shape.children] == ["twice"]
    assert shape_of(rebuild(msgspec.json.decode(msgspec.json.encode(shape), type=Shape), COMPONENTS).unwrap()) == shape
    assert [n.name for n in picture_of(step)] == ["a", "b"] and check_shape(shape) is None
    assert [comp.name for comp in leaves(step)] == ["a", "b"]


def test_components_are_the_leaves_and_only_they() -> None:
    step = one_of_each()
    found = [comp.name for comp in leaves(c.all_of(list(step.values())))]
    assert set(found) == {"a", "b"} and all(isinstance(s, Component) for s in leaves(step["graph"]))
    assert isinstance(rebuild(Shape(kind="component", name="a", children=(shape_of(a),)), COMPONENTS), Failure)


def test_the_pipeline_strategies_draw_a_new_kind_with_no_edit(twice: type[Wrapper[Any, Any]]) -> None:
    """``testing.strategies`` lists no kinds: a kind defined anywhere is drawn (and built)."""
    from hypothesis import HealthCheck, find, settings

    from omnibase.testing.strategies import build, pipelines, pipelines_of

    quick = settings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck))
    drawn = find(pipelines(), lambda spec: "twice" in {s.kind for s in _shapes(spec)}, settings=quick)
    assert "twice" in _kinds(shape_of(build(drawn)))
    step = find(pipelines_of([a, b]), lambda s: "twice" in _kinds(shape_of(s)), settings=quick)
    assert run(step, 1, fake_ctx(), FakeDriver()).exit_code == 0


def _shapes(spec: Any) -> Iterator[Shape]:
    if isinstance(spec, tuple):
        if isinstance(spec[0], Shape):
            yield spec[0]
        for part in spec:
            yield from _shapes(part)


def _kinds(shape: Shape) -> set[str]:
    return {shape.kind} | {k for child in shape.children for k in _kinds(child)}
