"""What the CI formats share: an error's text, a failure's findings (file and line), and
text made safe to write (no lone surrogates, which no UTF-8 stream accepts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from omnibase.core.testcases import step_cases
from omnibase.core.values import (
    CircuitOpen,
    Crashed,
    Failed,
    Interrupted,
    ResourceExceeded,
    RunReport,
    SandboxViolation,
    Status,
    StepError,
    StepResult,
    TimedOut,
)

__all__ = ["Finding", "error_kind", "error_text", "findings", "problems", "safe", "steps_of"]


class Finding(NamedTuple):
    """One place a failing step points at; ``path`` and ``line`` are None when unknown."""

    path: str | None
    line: int | None
    message: str


def safe(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of a file name) written as ``\\udcXX``.

    >>> safe("caf\\udce9.txt")
    'caf\\\\udce9.txt'
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_kind(error: StepError) -> str:
    """The error's tag, as the JSON report writes it (``failed``, ``timeout``, ...)."""
    tag = type(error).__struct_config__.tag
    return str(tag) if tag is not None else type(error).__name__


def error_text(error: StepError | None, reason: str = "") -> str:
    """A readable account of ``error``: its message, or what its fields say.

    >>> error_text(TimedOut(seconds=2.0)), error_text(None, "slow")
    ('timed out after 2s', 'slow')
    """
    if error is None:
        return reason
    if isinstance(error, TimedOut):
        return f"timed out after {error.seconds:g}s"
    if isinstance(error, CircuitOpen):
        return _circuit_open(error)
    if isinstance(error, Crashed):
        return f"crashed: {error.cause}"
    if isinstance(error, Interrupted):
        return "interrupted"
    if isinstance(error, SandboxViolation) and not error.message:
        return f"sandbox violation: {error.action} {error.target}".rstrip()
    if isinstance(error, ResourceExceeded) and not error.message:
        return f"resource limit exceeded: {error.resource}"
    message = str(getattr(error, "message", "") or "")
    return message or error_kind(error)


def _circuit_open(error: CircuitOpen) -> str:
    """Why a step was short-circuited, and when the next probe may run (local time).

    >>> _circuit_open(CircuitOpen(key="api"))
    "circuit breaker 'api' open after repeated failures: not invoked"
    """
    why = f"circuit breaker {error.key!r} open after repeated failures: not invoked"
    if error.probe_at is None:
        return why
    import time

    return f"{why}; next probe at {time.strftime('%H:%M:%S', time.localtime(error.probe_at))}"


def steps_of(report: RunReport) -> list[StepResult]:
    """``report``'s steps; when the run failed before any step ran, one failed step named
    after the stage carrying the run's error (so no CI system reads "nothing ran" as success)."""
    if report.error is not None and not report.steps:
        return [StepResult(name=report.stage or "omnibase", status=Status.FAIL, span_id="", error=report.error, attempts=0)]
    return list(report.steps)


def problems(report: RunReport) -> Iterator[StepResult]:
    """The steps a CI system should flag: FAIL and WARN (see ``steps_of``)."""
    return (s for s in steps_of(report) if s.status in (Status.FAIL, Status.WARN))


def findings(step: StepResult) -> list[Finding]:
    """Where ``step``'s failure is: its failed test cases (``core.testcases``), else the
    built-in checks' ``data["findings"]``, else one
    finding per ``data["files"]`` entry, else one with no place."""
    text = error_text(step.error, step.reason) or step.status.value
    failed_cases = [c for c in step_cases(step) if c.status == "FAIL"]
    if failed_cases:  # a test run: each failed case at its test's file and line
        return [Finding(c.path or None, c.line, f"{c.name}: {c.message or c.outcome}") for c in failed_cases]
    data = step.error.data if isinstance(step.error, Failed) else None
    if isinstance(data, dict):
        placed = [f for f in map(_finding, _list(data.get("findings"))) if f is not None]
        if placed:
            return placed
        files = [p for p in _list(data.get("files")) if isinstance(p, str) and p]
        if files:
            first = text.splitlines()[0] if text.strip() else text
            return [Finding(p, None, first) for p in files]
    return [Finding(None, None, text)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _finding(raw: Any) -> Finding | None:
    if not isinstance(raw, dict):
        return None
    path, line, message = raw.get("path"), raw.get("line"), raw.get("message")
    if not isinstance(path, str) or not path or not isinstance(message, str):
        return None
    good_line = line if isinstance(line, int) and not isinstance(line, bool) and line >= 1 else None
    return Finding(path, good_line, message or path)
