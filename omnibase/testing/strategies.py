"""Hypothesis strategies for components, policies and whole pipelines.

A *behaviour* is a value: the list of what a component does on its 1st, 2nd, ... call
(the last entry repeats). ``make_component(behaviour)`` builds a real ``Component`` that
follows it and counts its calls, so the same description can be run twice with the
same answers (build fresh components for each run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase.core import combinators as c
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, Failed, Meta

__all__ = [
    "Act",
    "Behaviour",
    "PipelineSpec",
    "behaviours",
    "breaker_policies",
    "build",
    "make_component",
    "pipelines",
    "retry_policies",
]

Kind = Literal["ok", "fail", "transient", "raise", "non_result", "wrong_type"]


class Act(msgspec.Struct, frozen=True):
    """One call's behaviour: ``ok`` returns ``Success(input + value)``; ``fail`` and
    ``transient`` return ``Failure(Failed(...))``; ``raise`` raises; ``non_result``
    returns a bare value; ``wrong_type`` returns ``Success`` of a str (declared int)."""

    kind: Kind
    value: int = 0


class Behaviour(msgspec.Struct, frozen=True):
    name: str
    acts: tuple[Act, ...]
    idempotent: bool = True
    pure: bool = False


class Counter:
    """How many times a component built by ``make_component`` was called."""

    def __init__(self) -> None:
        self.calls = 0


def make_component(b: Behaviour) -> tuple[Component[int, int], Counter]:
    """A real component following ``b``, and its call counter."""
    counter = Counter()

    def fn(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        act = b.acts[min(counter.calls, len(b.acts) - 1)]
        counter.calls += 1
        if act.kind == "ok":
            return Success(x + act.value)
        if act.kind in ("fail", "transient"):
            return Failure(Failed(message=f"{b.name} failed", transient=act.kind == "transient"))
        if act.kind == "raise":
            raise ValueError(f"{b.name} raised")
        if act.kind == "non_result":
            return x  # type: ignore[return-value]  # the misbehaviour under test
        return Success(str(x))  # type: ignore[arg-type]  # likewise

    meta = Meta(name=b.name, idempotent=b.idempotent, pure=b.pure, input_type="int", output_type="int")
    return Component(fn, meta, lambda v: isinstance(v, int)), counter


_NAMES = st.sampled_from(["a", "b", "c", "d", "e", "lint", "fmt", "test"])


def behaviours(
    kinds: st.SearchStrategy[Kind] = st.sampled_from(["ok", "ok", "fail", "transient", "raise", "non_result", "wrong_type"]),
    *,
    idempotent: st.SearchStrategy[bool] = st.booleans(),
) -> st.SearchStrategy[Behaviour]:
    """Behaviours of up to four calls, any mix of success and misbehaviour."""
    acts = st.lists(st.builds(Act, kinds, st.integers(-5, 5)), min_size=1, max_size=4).map(tuple)
    return st.builds(Behaviour, _NAMES, acts, idempotent, st.booleans())


def retry_policies() -> st.SearchStrategy[RetryPolicy]:
    """Small valid retry policies (seconds are virtual under the fake driver)."""
    return st.builds(
        RetryPolicy,
        max_attempts=st.integers(1, 5),
        initial=st.floats(0, 10, allow_nan=False),
        multiplier=st.floats(1, 4, allow_nan=False),
        cap=st.floats(0, 60, allow_nan=False),
        jitter=st.sampled_from([0.0, 0.5]),
    )


def breaker_policies() -> st.SearchStrategy[BreakerPolicy]:
    return st.builds(
        BreakerPolicy,
        threshold=st.integers(1, 4),
        window=st.floats(0, 100, allow_nan=False),
        reset_timeout=st.floats(0, 100, allow_nan=False),
        probes=st.integers(1, 3),
    )


#: A pipeline description: ("leaf", Behaviour) or (combinator, children..., params).
PipelineSpec = tuple[Any, ...]


def pipelines(max_leaves: int = 6) -> st.SearchStrategy[PipelineSpec]:
    """Descriptions of pipelines mixing every combinator; ``build`` makes them real."""
    leaf = behaviours().map(lambda b: ("leaf", b))

    def extend(inner: st.SearchStrategy[PipelineSpec]) -> st.SearchStrategy[PipelineSpec]:
        return st.one_of(
            st.tuples(st.just("then"), inner, inner),
            st.tuples(st.just("retry"), inner, retry_policies()),
            st.tuples(st.just("breaker"), inner, breaker_policies()),
            st.tuples(st.just("timeout"), inner, st.floats(0.5, 5)),
            st.tuples(st.just("profile"), inner),
            st.tuples(st.just("dry_run"), inner),
            st.tuples(st.just("recover"), inner, st.integers(-3, 3)),
            st.tuples(st.just("fallback"), inner, inner),
            st.tuples(st.just("all_of"), st.lists(inner, min_size=0, max_size=3), st.booleans()),
            st.tuples(st.just("identity")),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def build(spec: PipelineSpec, counters: dict[str, Counter] | None = None) -> Step[int, Any]:
    """Fresh real components for ``spec`` (their counters go into ``counters``)."""
    kind = spec[0]
    if kind == "leaf":
        comp, counter = make_component(spec[1])
        if counters is not None:
            counters[f"{spec[1].name}#{len(counters)}"] = counter
        return comp
    sub: Callable[[PipelineSpec], Step[Any, Any]] = lambda s: build(s, counters)
    if kind == "then":
        return sub(spec[1]) >> sub(spec[2])
    if kind == "retry":
        return c.retry(sub(spec[1]), spec[2])
    if kind == "breaker":
        return c.breaker(sub(spec[1]), spec[2])
    if kind == "timeout":
        return c.timeout(sub(spec[1]), spec[2])
    if kind == "profile":
        return c.profile(sub(spec[1]))
    if kind == "dry_run":
        return c.dry_run(sub(spec[1]))
    if kind == "recover":
        value = spec[2]
        return c.recover(sub(spec[1]), lambda error: value)
    if kind == "fallback":
        return c.fallback(sub(spec[1]), sub(spec[2]))
    if kind == "all_of":
        return c.all_of([sub(s) for s in spec[1]], fail_fast=spec[2])
    return c.identity()
