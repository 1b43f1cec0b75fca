"""The equivalence property: for any generated pipeline and component answers, the report of
a concurrent run (``arun``) equals the report of a sequential one (``run``) apart from timings.

Two conditions make "the same answers" meaningful, and the generated pipelines are held to
them: no breaker key is shared by branches that run at the same time (their interleaving
would legitimately decide who sees the breaker open), no answer depends on the clock (retry
delays zero, timeouts and breaker windows far longer than the run), and no fork is
fail-fast (which branches are in flight when one fails is a matter of timing: see
``test_protocol.py`` for what fail-fast promises).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnibase import FakeDriver, RetryPolicy, RunReport, SyncDriver, run
from omnibase.core.step import AllOf, Breaker, Shape, Step
from omnibase.drivers import AsyncDriver, arun
from omnibase.testing import fake_ctx
from omnibase.testing.strategies import Act, Behaviour, PipelineSpec, build, pipelines

TIMINGS = frozenset({"offset_s", "duration_s", "started_at", "profile"})


def steady(spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with every policy made independent of the clock, and no fail-fast fan-out."""
    head = spec[0]
    if head == "leaf":
        return spec
    if head == "recover":
        return ("recover", steady(spec[1]), spec[2])
    shape = msgspec.structs.replace(head, fail_fast=False)
    if shape.retry is not None:
        shape = msgspec.structs.replace(shape, retry=msgspec.structs.replace(shape.retry, initial=0.0, cap=0.0, deadline=None))
    if shape.breaker is not None:
        p = shape.breaker
        shape = msgspec.structs.replace(shape, breaker=msgspec.structs.replace(p, window=1e9, reset_timeout=0.0 if p.reset_timeout < 50 else 1e9))
    if shape.seconds is not None:
        shape = msgspec.structs.replace(shape, seconds=3600.0)
    return (shape, *(steady(s) for s in spec[1:]))


def breaker_keys(step: Step[Any, Any]) -> set[str]:
    keys = {step.key} if isinstance(step, Breaker) else set()
    for child in step.children():
        keys |= breaker_keys(child)
    return keys


def shares_a_breaker_across_branches(step: Step[Any, Any]) -> bool:
    if isinstance(step, AllOf):
        seen: set[str] = set()
        for branch in step.branches:
            keys = breaker_keys(branch)
            if keys & seen:
                return True
            seen |= keys
    return any(shares_a_breaker_across_branches(c) for c in step.children())


def without_timings(report: RunReport[Any]) -> Any:
    data = msgspec.to_builtins(report)
    for key in TIMINGS:
        data.pop(key, None)
    data["profile"] = [name for name, _ in report.profile]
    data["steps"] = [{k: v for k, v in s.items() if k not in TIMINGS} for s in data["steps"]]
    return data


def pipeline(spec: PipelineSpec) -> Step[int, Any]:
    step = build(steady(spec))
    assume(not shares_a_breaker_across_branches(step))
    return step


@settings(max_examples=150, deadline=None)
@given(pipelines(8), st.integers(-3, 3), st.sampled_from([None, 1, 2]))
def test_async_report_equals_sync_report_under_the_fake_performer(spec: PipelineSpec, value: int, jobs: int | None) -> None:
    pipeline(spec)
    sync = run(pipeline(spec), value, fake_ctx(), FakeDriver())
    concurrent = asyncio.run(arun(pipeline(spec), value, fake_ctx(), FakeDriver(), jobs=jobs))
    assert without_timings(concurrent) == without_timings(sync)


@settings(max_examples=60, deadline=None)
@given(pipelines(6), st.integers(-3, 3))
def test_async_report_equals_sync_report_with_the_real_performers(spec: PipelineSpec, value: int) -> None:
    pipeline(spec)
    sync = run(pipeline(spec), value, fake_ctx(), SyncDriver())
    performer = AsyncDriver(threads=4)
    try:
        concurrent = asyncio.run(arun(pipeline(spec), value, fake_ctx(), performer, jobs=3))
    finally:
        performer.close()
    assert without_timings(concurrent) == without_timings(sync)


def test_a_flat_fail_fast_fork_reports_alike_when_nothing_suspends() -> None:
    """Under the fake performer nothing suspends, so branches run one after another even in
    the concurrent loop, and fail-fast stops the same ones with the same report."""
    from omnibase.testing.strategies import Act, Behaviour

    def leaf(name: str, kind: Any) -> PipelineSpec:
        return ("leaf", Behaviour(name=name, acts=(Act(kind),)))

    then, fan_out = Shape(kind="then", name=""), Shape(kind="all_of", name="all_of", fail_fast=True)
    spec = (fan_out, leaf("a", "ok"), leaf("b", "fail"), leaf("c", "ok"), (then, leaf("d", "ok"), leaf("e", "ok")))
    sync = run(build(spec), 0, fake_ctx(), FakeDriver())
    concurrent = asyncio.run(arun(build(spec), 0, fake_ctx(), FakeDriver()))
    assert [s.status.value for s in sync.steps] == ["PASS", "FAIL", "SKIP", "SKIP", "SKIP"]
    assert without_timings(concurrent) == without_timings(sync)


# --- an independent model ------------------------------------------------------------------
#
# The properties above compare two runs of the one interpreter: a bug both share would pass.
# Here every performer's answer is compared with a model written from the spec, over a
# smaller grammar whose meaning is plain (integers in, integers out):
#
#   e := leaf | e >> e | fallback(e, e) | recover(e, v) | retry(e, p) | identity
#   top := e | all_of(e, ...)            (not fail-fast: every branch runs)
#
# A leaf follows its acts call by call (the last repeats): ``ok`` adds its value, ``fail``
# and ``transient`` fail (only ``transient`` is retried), ``raise`` raises (not retried).
# ``retry`` runs its whole sub-pipeline again while the failure is transient and attempts
# remain, and a non-idempotent component is never run twice by it. A failure that a
# ``fallback`` or ``recover`` handles does not fail the run.

MODEL_KINDS = st.sampled_from(["ok", "ok", "fail", "transient", "raise"])


def _model_leaf(idempotent: st.SearchStrategy[bool] = st.just(True)) -> st.SearchStrategy[PipelineSpec]:
    acts = st.lists(st.builds(Act, MODEL_KINDS, st.integers(-5, 5)), min_size=1, max_size=4).map(tuple)
    return st.builds(Behaviour, st.sampled_from(["a", "b", "c", "d"]), acts, idempotent).map(lambda b: ("leaf", b))


def _model_exprs() -> st.SearchStrategy[PipelineSpec]:
    policies = st.builds(RetryPolicy, max_attempts=st.integers(1, 4), initial=st.just(0.0), cap=st.just(0.0))

    def extend(inner: st.SearchStrategy[PipelineSpec]) -> st.SearchStrategy[PipelineSpec]:
        return st.one_of(
            st.tuples(st.just("then"), inner, inner),
            st.tuples(st.just("fallback"), inner, inner),
            st.tuples(st.just("recover"), inner, st.integers(-3, 3)),
            st.tuples(st.just("retry"), inner, policies),
            st.tuples(st.just("retry"), _model_leaf(st.just(False)), policies),  # a non-idempotent one
            st.tuples(st.just("identity")),
        )

    return st.recursive(_model_leaf(), extend, max_leaves=6)


MODEL_PIPELINES = _model_exprs() | st.tuples(st.just("all_of"), st.lists(_model_exprs(), max_size=3), st.just(False))


class _Model:
    """What the spec says a run of a model pipeline gives: ``("ok", value)`` or
    ``("failed", None)``, and how many times each leaf was called (in tree order)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def run(self, spec: PipelineSpec, x: Any) -> tuple[str, Any]:
        self.calls = []
        return self._eval(spec, x, [0])

    def _eval(self, spec: PipelineSpec, x: Any, at: list[int]) -> tuple[str, Any]:
        kind = spec[0]
        if kind == "leaf":
            return self._leaf(spec[1], x, self._slot(at))
        if kind == "identity":
            return ("ok", x)
        if kind == "then":
            first = self._eval(spec[1], x, at)
            if first[0] != "ok":
                self._skip(spec[2], at)
                return first
            return self._eval(spec[2], first[1], at)
        if kind == "fallback":
            first = self._eval(spec[1], x, at)
            if first[0] == "ok":
                self._skip(spec[2], at)
                return first
            return self._eval(spec[2], x, at)
        if kind == "recover":
            out = self._eval(spec[1], x, at)
            return out if out[0] == "ok" else ("ok", spec[2])
        if kind == "retry":
            start, attempts = at[0], 0
            while True:
                at[0] = start
                out = self._eval(spec[1], x, at)
                attempts += 1
                transient = out[0] == "transient"
                if out[0] == "ok" or not transient or attempts >= spec[2].max_attempts or not self._idempotent(spec[1]):
                    return out
        if kind == "all_of":
            outs = [self._eval(branch, x, at) for branch in spec[1]]
            failed = next((o for o in outs if o[0] != "ok"), None)
            return failed or ("ok", tuple(o[1] for o in outs))
        raise AssertionError(kind)

    def _slot(self, at: list[int]) -> int:
        if at[0] == len(self.calls):
            self.calls.append(0)
        at[0] += 1
        return at[0] - 1

    def _skip(self, spec: PipelineSpec, at: list[int]) -> None:
        """Number the leaves of a sub-pipeline that does not run (they keep 0 calls)."""
        for _ in range(_leaves(spec)):
            self._slot(at)

    def _leaf(self, b: Behaviour, x: Any, slot: int) -> tuple[str, Any]:
        act = b.acts[min(self.calls[slot], len(b.acts) - 1)]
        self.calls[slot] += 1
        if act.kind == "ok":
            return ("ok", x + act.value)
        return ("transient", None) if act.kind == "transient" else ("failed", None)

    @staticmethod
    def _idempotent(spec: PipelineSpec) -> bool:
        if spec[0] == "leaf":
            return bool(spec[1].idempotent)
        return all(_Model._idempotent(s) for s in spec[1:] if isinstance(s, tuple) and s and isinstance(s[0], str))


def _leaves(spec: PipelineSpec) -> int:
    if spec[0] == "leaf":
        return 1
    if spec[0] == "all_of":
        return sum(_leaves(s) for s in spec[1])
    return sum(_leaves(s) for s in spec[1:] if isinstance(s, tuple) and s and isinstance(s[0], str))


def _real(spec: PipelineSpec, counters: list[Any]) -> Step[int, Any]:
    """The pipeline of ``spec`` from real components (their call counters in tree order)."""
    from omnibase import all_of, fallback, identity, recover, retry
    from omnibase.testing.strategies import make_component

    kind = spec[0]
    if kind == "leaf":
        comp, counter = make_component(spec[1])
        counters.append(counter)
        return comp
    if kind == "identity":
        return identity()
    if kind == "then":
        first = _real(spec[1], counters)
        return first >> _real(spec[2], counters)
    if kind == "fallback":
        first = _real(spec[1], counters)
        return fallback(first, _real(spec[2], counters))
    if kind == "recover":
        value = spec[2]
        return recover(_real(spec[1], counters), lambda error: value)
    if kind == "retry":
        return retry(_real(spec[1], counters), spec[2])
    return all_of([_real(s, counters) for s in spec[1]], fail_fast=spec[2])


@settings(max_examples=200, deadline=None)
@given(MODEL_PIPELINES, st.integers(-3, 3), st.sampled_from(["fake", "sync", "async"]))
def test_every_performer_gives_the_models_answer(spec: PipelineSpec, value: int, performer: str) -> None:
    model = _Model()
    outcome, output = model.run(spec, value)
    counters: list[Any] = []
    pipeline_ = _real(spec, counters)
    if performer == "async":
        driver = AsyncDriver(threads=2)
        try:
            report = asyncio.run(arun(pipeline_, value, fake_ctx(), driver, jobs=2))
        finally:
            driver.close()
    else:
        report = run(pipeline_, value, fake_ctx(), FakeDriver() if performer == "fake" else SyncDriver())
    assert report.exit_code == (0 if outcome == "ok" else 1)
    if outcome == "ok":
        assert report.output == output
    assert [c.calls for c in counters] == model.calls


def test_the_model_on_a_worked_example() -> None:
    # fallback(a >> b, c) on 10: a adds 1; b fails once (transient) then adds 2 under a retry
    # of 3 attempts, so a runs twice; c never runs
    a = ("leaf", Behaviour("a", (Act("ok", 1),)))
    b = ("leaf", Behaviour("b", (Act("transient"), Act("ok", 2))))
    c = ("leaf", Behaviour("c", (Act("ok", 100),)))
    spec = ("fallback", ("retry", ("then", a, b), RetryPolicy(max_attempts=3, initial=0.0, cap=0.0)), c)
    model = _Model()
    assert model.run(spec, 10) == ("ok", 13) and model.calls == [2, 2, 0]
    counters: list[Any] = []
    report = run(_real(spec, counters), 10, fake_ctx(), FakeDriver())
    assert (report.exit_code, report.output, [k.calls for k in counters]) == (0, 13, [2, 2, 0])
