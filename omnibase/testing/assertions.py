"""Assertions about reports, with messages that say what differs.

>>> from returns.result import Result, Success
>>> from omnibase import ExecCtx, component, run
>>> from omnibase.testing import fake_ctx
>>> @component
... def inc(ctx: ExecCtx, x: int) -> Result[int, str]:
...     return Success(x + 1)
>>> report = run(inc >> inc, 1, fake_ctx())
>>> assert_passed(report)
>>> assert_steps(report, [("inc", "PASS"), ("inc", "PASS")])
>>> assert_steps(report, [("inc", "PASS")])
Traceback (most recent call last):
...
AssertionError: expected 1 steps, the report has 2: [('inc', 'PASS'), ('inc', 'PASS')]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnibase.core.values import RunReport, Status

__all__ = ["assert_failed", "assert_passed", "assert_steps"]


def assert_passed(report: RunReport[Any]) -> None:
    """The run's exit code is 0; otherwise say which steps failed and why."""
    if report.exit_code == 0:
        return
    failed = [f"{s.name}: {_error_text(s.error)}" for s in report.steps if s.status is Status.FAIL]
    if not failed and report.error is not None:
        failed = [f"(run): {_error_text(report.error)}"]
    raise AssertionError(f"the run failed with exit code {report.exit_code}: " + "; ".join(failed))


def assert_failed(report: RunReport[Any], exit_code: int | None = None) -> None:
    """The run failed (with ``exit_code``, when given)."""
    if report.exit_code == 0:
        raise AssertionError("the run passed; expected it to fail")
    if exit_code is not None and report.exit_code != exit_code:
        raise AssertionError(f"exit code {report.exit_code}, expected {exit_code}")


def assert_steps(report: RunReport[Any], expected: Sequence[tuple[str, Status | str]]) -> None:
    """The report's steps are exactly ``expected``, as ``(name, status)`` pairs in order
    (a status may be given as its text, ``"PASS"``); the first mismatch is named."""
    got = [(s.name, s.status.value) for s in report.steps]
    want = [(name, Status(status).value) for name, status in expected]
    if len(got) != len(want):
        raise AssertionError(f"expected {len(want)} steps, the report has {len(got)}: {got}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            step = report.steps[i]
            why = f" ({_error_text(step.error)})" if step.error is not None else (f" ({step.reason})" if step.reason else "")
            raise AssertionError(f"step {i}: expected {w[0]} {w[1]}, got {g[0]} {g[1]}{why}")


def _error_text(error: object) -> str:
    if error is None:
        return "no error"
    detail = getattr(error, "message", None) or getattr(error, "cause", None) or getattr(error, "key", None) or ""
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
