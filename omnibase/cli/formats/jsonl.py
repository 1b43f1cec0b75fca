"""``jsonl``: one JSON object per line, for agents and log shippers.

Each line has an ``event`` field: ``started`` (an invocation is about to run), ``step``
(a component's result), ``retry`` (an attempt failed; the next is scheduled), ``breaker``
(a circuit breaker changed mode), ``case`` (a test case a test runner just finished, while
it still runs: ``name`` is the component, ``case`` the ``TestCase``), and last ``report`` (the whole report, as the ``json``
format writes it, under ``report``). Every line carries the run's ``trace_id``.

``JsonlStream`` is an observer: given to a run, it writes each event the moment it
happens (the CLI streams ``--format jsonl`` this way), cleaned first as ``FORMATTERS``
cleans a report (``omnibase.cli.formatters.clean``: secrets redacted, strings bounded). ``render_jsonl`` writes the same
lines from a finished report alone: its ``step`` lines, then the ``report`` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from omnibase.core.intents import BreakerChanged, Event, RetryScheduled, Started
from omnibase.core.testcases import TestCase
from omnibase.core.values import RunReport, StepResult

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["JsonlStream", "event_line", "render_jsonl", "report_line"]


def event_line(event: Event, trace_id: str) -> str:
    """One event as one line of JSON (no line break inside; ends with ``\\n``).

    >>> print(event_line(Started(name="lint", span_id="ab", attempt=1), "t"), end="")
    {"attempt":1,"event":"started","name":"lint","span_id":"ab","trace_id":"t"}
    """
    if isinstance(event, StepResult):
        body: dict[str, Any] = {"event": "step", **_plain(event)}
    elif isinstance(event, Started):
        body = {"event": "started", "name": event.name, "span_id": event.span_id, "attempt": event.attempt}
    elif isinstance(event, RetryScheduled):
        body = {"event": "retry", "name": event.name, "attempt": event.attempt, "delay_s": event.delay, "error": _plain(event.error)}
    elif isinstance(event, BreakerChanged):
        body = {"event": "breaker", "key": event.key, "before": event.before.value, "after": event.after.value}
    else:  # pragma: no cover - Event is a closed union
        body = {"event": type(event).__name__}
    return _line({**body, "trace_id": trace_id})


def report_line(report: RunReport) -> str:
    """The last line: ``{"event": "report", "report": <the json format's object>, ...}``."""
    from omnibase.cli.formatters import FORMATTERS, RenderOptions

    data = json.loads(FORMATTERS["json"](report, RenderOptions()))
    return _line({"event": "report", "trace_id": report.trace_id, "exit_code": report.exit_code, "report": data})


def render_jsonl(report: RunReport, opts: RenderOptions) -> str:
    """``report`` as JSON Lines: one ``step`` line per step, then the ``report`` line."""
    return "".join(event_line(step, report.trace_id) for step in report.steps) + report_line(report)


class JsonlStream:
    """An observer that writes each event as a line with ``write`` as it happens, and keeps
    the lines (``lines``) for a report file written at the end."""

    def __init__(self, trace_id: str, write: Callable[[str], object] | None = None) -> None:
        self.trace_id = trace_id
        self.write = write
        self.lines: list[str] = []

    def __call__(self, event: Event) -> None:
        from omnibase.cli.formatters import clean

        self._emit(event_line(clean(event), self.trace_id))  # as every rendering: redacted, bounded

    def case(self, name: str, case: TestCase) -> None:
        """A test case of component ``name`` that just finished (a ``case`` line), as a
        test runner reports it while it still runs."""
        from omnibase.cli.formatters import clean

        self._emit(_line({"event": "case", "name": name, "case": _plain(clean(case)), "trace_id": self.trace_id}))

    def _emit(self, line: str) -> None:
        self.lines.append(line)
        if self.write is not None:
            self.write(line)

    def text(self, report: RunReport) -> str:
        """Every line seen, then the report line: the file form of the stream."""
        return "".join(self.lines) + self.last(report)

    def last(self, report: RunReport) -> str:
        """The line that ends the stream: the report."""
        return report_line(report)


def _plain(value: Any) -> Any:
    """A struct as plain JSON data (what it cannot hold as text, as its ``repr``)."""
    return msgspec.to_builtins(value, enc_hook=repr, order="sorted")


def _line(body: dict[str, Any]) -> str:
    # ensure_ascii: a line is pure ASCII, so a shipper reading bytes never splits a character
    # and undecodable file names (lone surrogates) survive as escapes.
    return json.dumps(body, ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n"
