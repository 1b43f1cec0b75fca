"""Reusable checks of the algebra's laws, for your own pipelines too.

Each runs its pipelines under the ``FakeDriver`` and raises ``AssertionError`` with the
two reports' differences when a law does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from omnibase.core.combinators import identity
from omnibase.core.step import Step
from omnibase.core.values import ExecCtx, RunReport
from omnibase.drivers import FakeDriver, run

__all__ = ["check_associativity", "check_deterministic", "check_identity", "observable"]


def observable(report: RunReport) -> Any:
    """What a law promises to keep: every step's name, status, value, error, attempts and
    timing, the output, error and exit code (span ids depend on the tree's shape)."""
    data = msgspec.to_builtins(report, enc_hook=repr)
    for step in data["steps"]:
        step.pop("span_id", None)
    return data


def _ctx() -> ExecCtx:
    from omnibase.testing import fake_ctx

    return fake_ctx()


def _same(left: RunReport, right: RunReport, law: str) -> None:
    a, b = observable(left), observable(right)
    if a != b:
        raise AssertionError(f"{law} does not hold:\n{a}\n!=\n{b}")


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
        raise AssertionError(f"not deterministic:\n{first!r}\n!=\n{second!r}")
    return first
