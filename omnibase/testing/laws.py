"""Reusable checks of the algebra's laws, for your own pipelines too.

Each runs its pipelines under the ``FakeDriver`` and raises ``AssertionError`` naming
the first difference between the two reports (step and field) when a law does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from omnibase.core.combinators import identity
from omnibase.core.step import Step
from omnibase.core.values import ExecCtx, RunReport
from omnibase.drivers import FakeDriver, run

__all__ = ["check_associativity", "check_deterministic", "check_identity", "difference", "observable"]


def observable(report: RunReport) -> Any:
    """What a law promises to keep: every step's name, status, value, error, attempts and
    timing, the output, error and exit code (span ids depend on the tree's shape)."""
    data = msgspec.to_builtins(report, enc_hook=repr)
    for step in data["steps"]:
        step.pop("span_id", None)
    return data


def _ctx() -> ExecCtx:
    from omnibase.testing.context import fake_ctx

    return fake_ctx()


def _same(left: RunReport, right: RunReport, law: str) -> None:
    a, b = observable(left), observable(right)
    if a != b:
        raise AssertionError(f"{law} does not hold: {difference(a, b)}")


def difference(left: Any, right: Any) -> str:
    """Where two reports (or their ``observable`` forms) first differ: the first differing
    step and field, else the first differing top-level field; "" when they are equal.

    >>> from omnibase.core.values import Status, StepResult, RunReport, Summary
    >>> def report(*statuses: Status) -> RunReport:
    ...     steps = tuple(StepResult(name=f"s{i}", status=s, span_id="1") for i, s in enumerate(statuses))
    ...     return RunReport(steps=steps, summary=Summary(status=Status.PASS), exit_code=0, run_id="r", trace_id="t")
    >>> difference(report(Status.PASS, Status.PASS), report(Status.PASS, Status.FAIL))
    "step 1 ('s1'), field 'status': 'PASS' != 'FAIL'"
    """
    a = left if isinstance(left, dict) else observable(left)
    b = right if isinstance(right, dict) else observable(right)
    for i, (x, y) in enumerate(zip(a["steps"], b["steps"])):
        if x != y:
            field = next(k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k))
            return f"step {i} ({x.get('name')!r}), field {field!r}: {x.get(field)!r} != {y.get(field)!r}"
    if len(a["steps"]) != len(b["steps"]):
        longer, which = (a, "left") if len(a["steps"]) > len(b["steps"]) else (b, "right")
        extra = longer["steps"][min(len(a["steps"]), len(b["steps"]))]
        return f"{len(a['steps'])} steps != {len(b['steps'])} steps; the first extra ({which}) is {extra.get('name')!r}"
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return f"field {key!r}: {a.get(key)!r} != {b.get(key)!r}"
    return ""


def check_associativity(make: Callable[[], tuple[Step[Any, Any], Step[Any, Any], Step[Any, Any]]], value: Any) -> None:
    """``(a >> b) >> c`` and ``a >> (b >> c)`` give the same report. ``make`` returns fresh
    steps each call (components may keep state)."""
    a, b, c = make()
    left = run((a >> b) >> c, value, _ctx(), FakeDriver())
    a, b, c = make()
    right = run(a >> (b >> c), value, _ctx(), FakeDriver())
    _same(left, right, "associativity of >>")


def check_identity(make: Callable[[], Step[Any, Any]], value: Any) -> None:
    """``identity() >> s``, ``s`` and ``s >> identity()`` give the same report."""
    plain = run(make(), value, _ctx(), FakeDriver())
    _same(run(identity() >> make(), value, _ctx(), FakeDriver()), plain, "left identity")
    _same(run(make() >> identity(), value, _ctx(), FakeDriver()), plain, "right identity")


def check_deterministic(make: Callable[[], Step[Any, Any]], value: Any) -> bytes:
    """Two runs of fresh copies give byte-identical canonical JSON; returns it."""
    first = msgspec.json.encode(run(make(), value, _ctx(), FakeDriver()), enc_hook=repr)
    second = msgspec.json.encode(run(make(), value, _ctx(), FakeDriver()), enc_hook=repr)
    if first != second:
        a, b = msgspec.json.decode(first), msgspec.json.decode(second)
        raise AssertionError(f"not deterministic: {difference(a, b) or 'the encodings differ'}")
    return first
