"""Hypothesis strategies for components, policies and whole pipelines.

A *behaviour* is a value: the list of what a component does on its 1st, 2nd, ... call
(the last entry repeats). ``make_component(behaviour)`` builds a real ``Component`` that
follows it and counts its calls, so the same description can be run twice with the
same answers (build fresh components for each run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec
from hypothesis import strategies as st
from returns.result import Success

from omnibase.core import combinators as c
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.shape import shape_of
from omnibase.core.step import KINDS, Component, Shape, Step
from omnibase.core.values import ExecCtx, Meta, StepError, is_transient
from omnibase.testing.faults import Act, Faulty, Kind

__all__ = [
    "Act",
    "Behaviour",
    "PipelineSpec",
    "behaviours",
    "breaker_policies",
    "build",
    "components",
    "make_component",
    "pipelines",
    "pipelines_of",
    "retry_policies",
]

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")


class Behaviour(msgspec.Struct, frozen=True):
    name: str
    acts: tuple[Act, ...]
    idempotent: bool = True
    pure: bool = False


def make_component(b: Behaviour) -> tuple[Component[int, int], Faulty]:
    """A real component following ``b`` (``ok`` returns ``Success(input + act.value)``),
    and its call counter (``.calls``)."""
    fn = Faulty(b.name, b.acts, lambda ctx, x, act: Success(x + act.value))
    meta = Meta(name=b.name, idempotent=b.idempotent, pure=b.pure, input_type="int", output_type="int")
    return Component(fn, meta, lambda v: isinstance(v, int) and not isinstance(v, bool)), fn


def components(
    input: st.SearchStrategy[A],
    output: st.SearchStrategy[B],
    *,
    kinds: st.SearchStrategy[Kind] = st.sampled_from(["ok", "ok", "ok", "fail", "transient", "raise"]),
    idempotent: st.SearchStrategy[bool] = st.booleans(),
    pure: st.SearchStrategy[bool] = st.just(False),
    max_calls: int = 4,
) -> st.SearchStrategy[Component[A, B]]:
    """Components from the user's types: each takes an ``A`` and, call by call, either
    succeeds with a ``B`` drawn from ``output`` or misbehaves as a drawn kind says.

    ``input`` fixes ``A`` (and is where a test draws the value to run on); the output
    check accepts exactly the values ``output`` produced, so ``wrong_type`` is caught.

    >>> from hypothesis import strategies as st
    >>> strategy = components(input=st.integers(), output=st.text())
    """

    @st.composite
    def draw(draw_: st.DrawFn) -> Component[A, B]:
        name = draw_(_NAMES)
        plan = draw_(st.lists(st.tuples(kinds, output), min_size=1, max_size=max_calls))
        values = [value for _, value in plan]
        acts = tuple(Act(kind, value=i) for i, (kind, _) in enumerate(plan))
        fn = Faulty(name, acts, lambda ctx, x, act: Success(values[act.value]))
        kinds_of = {type(v) for v in values}
        meta = Meta(name=name, idempotent=draw_(idempotent), pure=draw_(pure))
        return Component(fn, meta, lambda v: type(v) in kinds_of)

    return draw()


_NAMES = st.sampled_from(["a", "b", "c", "d", "e", "lint", "fmt", "test"])


def behaviours(
    kinds: st.SearchStrategy[Kind] = st.sampled_from(["ok", "ok", "fail", "transient", "raise", "non_result", "wrong_type"]),
    *,
    idempotent: st.SearchStrategy[bool] = st.booleans(),
) -> st.SearchStrategy[Behaviour]:
    """Behaviours of up to four calls, any mix of success and misbehaviour."""
    acts = st.lists(st.builds(Act, kinds, st.integers(-5, 5)), min_size=1, max_size=4).map(tuple)
    return st.builds(Behaviour, _NAMES, acts, idempotent, st.booleans())


def retry_policies(
    *,
    retry_on: st.SearchStrategy[Callable[[StepError], bool]] = st.just(is_transient),
    deadline: st.SearchStrategy[float | None] = st.none(),
) -> st.SearchStrategy[RetryPolicy]:
    """Small valid retry policies (seconds are virtual under the fake driver). Give
    ``retry_on``/``deadline`` strategies to vary those too."""
    return st.builds(
        RetryPolicy,
        max_attempts=st.integers(1, 5),
        initial=st.floats(0, 10, allow_nan=False),
        multiplier=st.floats(1, 4, allow_nan=False),
        cap=st.floats(0, 60, allow_nan=False),
        jitter=st.sampled_from([0.0, 0.5]),
        retry_on=retry_on,
        deadline=deadline,
    )


def breaker_policies() -> st.SearchStrategy[BreakerPolicy]:
    return st.builds(
        BreakerPolicy,
        threshold=st.integers(1, 4),
        window=st.floats(0, 100, allow_nan=False),
        reset_timeout=st.floats(0, 100, allow_nan=False),
        probes=st.integers(1, 3),
    )


#: A pipeline description: ``("leaf", Behaviour)``; ``("recover", spec, value)`` (a handler
#: returning ``value``: code, so not a shape); or ``(Shape, spec, ...)``, a node of any other
#: kind as data (its ``Shape`` without children, named ``""`` so that ``build`` names it as
#: the combinator would) and the descriptions of its children.
PipelineSpec = tuple[Any, ...]

#: Node kinds ``pipelines`` does not draw as shapes: leaves are behaviours, a recover is
#: drawn with its value, hooks and graphs have strategies of their own.
_NOT_DRAWN = frozenset({"component", "recover", "hooked", "graph"})


def _data() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """The data each kind is drawn with (fields of its ``Shape``); a kind not here is drawn
    with its shape's defaults, so a new combinator whose data has defaults is drawn with no
    edit in this module."""
    return {
        "retry": retry_policies().map(lambda p: {"retry": shape_of(c.retry(c.identity(), p)).retry}),
        "breaker": breaker_policies().map(lambda p: {"breaker": p}),
        "timeout": st.floats(0.5, 5).map(lambda s: {"seconds": s}),
        "all_of": st.booleans().map(lambda fast: {"fail_fast": fast, "name": "all_of"}),
    }


def _nodes(kinds: Sequence[str], inner: st.SearchStrategy[T]) -> list[st.SearchStrategy[tuple[Shape, list[T]]]]:
    """For each kind: its ``Shape`` (drawn data, no children, no name) and its children drawn
    from ``inner``, as many as its ``arity`` allows (up to two more than the least)."""
    data = _data()

    def node(kind: str) -> st.SearchStrategy[tuple[Shape, list[T]]]:
        low, high = KINDS[kind].arity
        parts = st.lists(inner, min_size=low, max_size=high if high is not None else low + 2)
        shapes = data.get(kind, st.just({})).map(lambda fields: Shape(kind=kind, **{"name": "", **fields}))
        return st.tuples(shapes, parts)

    return [node(kind) for kind in kinds]


def _drawn_kinds(*, same_type: bool = False) -> list[str]:
    """The kinds drawn as shapes, in a fixed order (all, or those whose output type is their
    input's, for pipelines of ``A -> A`` steps)."""
    return sorted(k for k, kind in KINDS.items() if k not in _NOT_DRAWN and (kind.keeps_type or not same_type))


def pipelines(max_leaves: int = 6) -> st.SearchStrategy[PipelineSpec]:
    """Descriptions of pipelines mixing every kind of node (``core.step.KINDS``);
    ``build`` makes them real."""
    leaf = behaviours().map(lambda b: ("leaf", b))

    def extend(inner: st.SearchStrategy[PipelineSpec]) -> st.SearchStrategy[PipelineSpec]:
        described = [node.map(lambda drawn: (drawn[0], *drawn[1])) for node in _nodes(_drawn_kinds(), inner)]
        return st.one_of([*described, st.tuples(st.just("recover"), inner, st.integers(-3, 3))])

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def _restored(shape: Shape, parts: Sequence[Step[Any, Any]]) -> Step[Any, Any]:
    built = KINDS[shape.kind].restore(shape, tuple(parts))
    if isinstance(built, str):
        raise ValueError(built)
    return built


def build(spec: PipelineSpec, counters: dict[str, Faulty] | None = None) -> Step[int, Any]:
    """Fresh real components for ``spec`` (their counters go into ``counters``), in the
    pipeline it describes (each node rebuilt by its kind: ``Step.restore``)."""
    head = spec[0]
    if head == "leaf":
        comp, counter = make_component(spec[1])
        if counters is not None:
            counters[f"{spec[1].name}#{len(counters)}"] = counter
        return comp
    if head == "recover":
        value = spec[2]
        return c.recover(build(spec[1], counters), lambda error: value)
    return _restored(head, [build(s, counters) for s in spec[1:]])


def pipelines_of(
    steps: Sequence[Step[A, A]] | st.SearchStrategy[Step[A, A]],
    *,
    max_leaves: int = 6,
    recover_with: st.SearchStrategy[A] | None = None,
) -> st.SearchStrategy[Step[A, A]]:
    """Pipelines built from the user's own steps (of one type ``A -> A``), mixing every
    kind of node whose output type is its input's (``>>``, ``retry``, ``breaker``,
    ``timeout``, ``profile``, ``dry_run``, ``fallback``, ``identity``: ``core.step.KINDS``)
    and, given ``recover_with`` (values for the handler to return), ``recover``.

    The same step objects appear in many drawn pipelines: steps that keep state should be
    drawn fresh (give a strategy, e.g. ``components(...)`` or ``st.builds(make_step)``).
    """
    leaf: st.SearchStrategy[Step[A, A]] = steps if isinstance(steps, st.SearchStrategy) else st.sampled_from(list(steps))

    def extend(inner: st.SearchStrategy[Step[A, A]]) -> st.SearchStrategy[Step[A, A]]:
        options: list[st.SearchStrategy[Step[A, A]]] = [
            node.map(lambda drawn: _restored(*drawn)) for node in _nodes(_drawn_kinds(same_type=True), inner)
        ]
        if recover_with is not None:
            options.append(st.builds(lambda s, v: c.recover(s, lambda e: v), inner, recover_with))
        return st.one_of(options)

    return st.recursive(leaf, extend, max_leaves=max_leaves)
