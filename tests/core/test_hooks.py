"""Hooks as a Step node: vetoes, results, failures as results."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase import ExecCtx, FakeDriver, Meta, Status, StepResult, Veto, graph, hooked, run
from omnibase.core.step import Component
from omnibase.testing import fake_ctx

CTX = fake_ctx()


def _comp(name: str, ok: bool, calls: list[str]) -> Component[Any, Any]:
    def fn(ctx: ExecCtx, x: object) -> Result[str, str]:
        calls.append(name)
        return Success(name) if ok else Failure(f"{name} failed")

    return Component(fn, Meta(name=name, tags=frozenset({"t"})))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["pass", "veto", "raise"]), max_size=4), st.booleans(), st.sampled_from(["pass", "raise"]))
def test_a_step_runs_iff_every_pre_hook_lets_it(pres: list[str], ok: bool, post: str) -> None:
    calls: list[str] = []
    seen: list[tuple[str, ...]] = []

    def make(kind: str, i: int) -> Any:
        def hook(ctx: ExecCtx, meta: Meta | None) -> Veto | None:
            assert meta is not None and meta.name == "work"
            calls.append(f"pre{i}")
            if kind == "raise":
                raise RuntimeError(f"hook {i} broke")
            return Veto(reason=f"no {i}") if kind == "veto" else None

        hook.__name__ = f"h{i}"
        return hook

    def after(ctx: ExecCtx, results: tuple[StepResult, ...]) -> None:
        seen.append(tuple(r.status.value for r in results))
        if post == "raise":
            raise ValueError("post broke")

    step = hooked(_comp("work", ok, calls), pre=[make(k, i) for i, k in enumerate(pres)], post=[after])
    report = run(step, None, CTX, FakeDriver())
    first_stop = next((i for i, k in enumerate(pres) if k != "pass"), None)
    names = {r.name: r for r in report.steps}
    if first_stop is None:
        assert "work" in calls and seen == [("PASS" if ok else "FAIL",)]
        assert names["work"].status is (Status.PASS if ok else Status.FAIL)
        assert (names.get("work:post:after") is not None) == (post == "raise")
        assert report.exit_code == (0 if ok and post == "pass" else 1)
    else:
        assert "work" not in calls and seen == []  # later hooks and the step never ran
        assert calls == [f"pre{i}" for i in range(first_stop + 1)]
        assert names["work"].status is Status.SKIP
        if pres[first_stop] == "veto":
            assert names["work"].reason == f"vetoed by work:pre:h{first_stop}: no {first_stop}" and report.exit_code == 0
        else:
            hook = names[f"work:pre:h{first_stop}"]
            assert hook.status is Status.FAIL and "broke" in str(hook.error) and report.exit_code == 1


def test_stage_hooks_around_a_graph_see_every_result() -> None:
    calls: list[str] = []
    seen: list[tuple[str, ...]] = []
    g = graph({"a": _comp("a", True, calls), "b": _comp("b", False, calls)})
    step = hooked(g, pre=[lambda ctx, meta: None], post=[lambda ctx, rs: seen.append(tuple(r.name for r in rs))])
    report = run(step, None, CTX, FakeDriver())
    assert seen == [("a", "b")] and report.exit_code == 1
