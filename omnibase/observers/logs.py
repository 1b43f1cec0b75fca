"""Structured logs of a run, through structlog, as an observer of the event stream.

``LogObserver(ctx, logger)`` turns each event into one log event; every one carries the
run id, trace id, stage, component and span id:

==============  =======  ==========================================================
event           level    other fields
==============  =======  ==========================================================
``step.start``  debug    attempt
``step.end``    info     status, attempt(s), duration_s, error (type), reason
``retry``       warning  attempt (the one that failed), error (type), delay_s; logged
                         when the step ends: ``warning`` when it failed in the end,
                         ``info`` when a later attempt succeeded (the report's ``xN``
                         says it; nothing a person must act on)
``backoff``     info     delay_s (the sleep before the next attempt)
``breaker``     warning  before, after (closed, open, half_open)
``timeout``     warning  seconds
``violation``   error    kind (protocol, sandbox, security, resource), message
==============  =======  ==========================================================

With ``reported=True`` (the CLI's console logs beside a human report on the terminal),
``retry``, ``timeout`` and ``violation`` are logged at ``info``: the report shows each of
them on the step's own lines, and a person reads them once.

``make_logger`` builds a logger that writes JSON lines or console lines to a stream
(stderr or a file, never stdout: the report owns stdout), without touching structlog's
global configuration. The observer filters by level itself and builds its logger on the
first event it keeps, so a run that logs nothing never imports structlog (it takes tens of
milliseconds to import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TextIO

from omnibase.core.intents import BreakerChanged, Event, RetryScheduled, Started
from omnibase.core.values import (
    ExecCtx,
    ProtocolViolation,
    ResourceExceeded,
    RunReport,
    SandboxViolation,
    SecurityViolation,
    Status,
    StepResult,
    TimedOut,
)

__all__ = ["LEVELS", "LogObserver", "level_of", "make_logger"]

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_VIOLATIONS: dict[type, str] = {
    ProtocolViolation: "protocol",
    SandboxViolation: "sandbox",
    SecurityViolation: "security",
    ResourceExceeded: "resource",
}


def level_of(verbose: int, quiet: bool) -> int:
    """``-q``: errors only; default: warnings; ``-v``: info; ``-vv``: debug.

    >>> level_of(0, False), level_of(1, False), level_of(2, False), level_of(0, True)
    (30, 20, 10, 40)
    """
    if quiet:
        return LEVELS["error"]
    return (LEVELS["warning"], LEVELS["info"])[verbose] if verbose < 2 else LEVELS["debug"]


def make_logger(stream: TextIO, *, fmt: Literal["json", "console"] = "console", level: int = 30, color: bool = False) -> Any:
    """A structlog logger writing one line per event to ``stream`` at ``level`` and above."""
    import structlog

    renderer: Callable[..., Any] = (
        structlog.processors.JSONRenderer(sort_keys=True) if fmt == "json" else structlog.dev.ConsoleRenderer(colors=color)
    )
    return structlog.wrap_logger(
        structlog.PrintLogger(file=stream),
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )


class LogObserver:
    """Logs every event of one run at ``level`` and above (see the module docstring for
    the events and fields); ``make`` builds the logger when the first event is kept."""

    def __init__(self, ctx: ExecCtx, make: Callable[[], Any], level: int = LEVELS["warning"], *, reported: bool = False) -> None:
        self.ctx = ctx
        # A person reads the human report beside these lines: what it shows of each step
        # (its attempts, its time-out, its violation) is logged at info (-v), not again.
        self._step_levels = ("info", "info", "info") if reported else ("warning", "warning", "error")
        self.make = make
        self.level = level
        self._log: Any = None
        self._span: dict[str, str] = {}  # component -> span of its latest invocation
        self._retries: dict[str, list[dict[str, Any]]] = {}  # component -> its retries, until it ends
        self._debug = level <= LEVELS["debug"]  # decided once: most events are below the level
        self._info = level <= LEVELS["info"]

    def emit(self, level: str, event: str, **fields: Any) -> None:
        """Log ``event`` with ``fields`` (and the run's ids) if ``level`` is kept."""
        if LEVELS[level] < self.level:
            return
        if self._log is None:
            ctx = self.ctx
            self._log = self.make().bind(run_id=ctx.run_id, trace_id=ctx.trace_id, stage=ctx.stage)
        getattr(self._log, level)(event, **fields)

    def __call__(self, event: Event) -> None:
        kind = type(event)
        if kind is Started:
            assert isinstance(event, Started)
            self._span[event.name] = event.span_id
            if self._debug:
                self.emit("debug", "step.start", component=event.name, span_id=event.span_id, attempt=event.attempt)
        elif kind is StepResult:
            assert isinstance(event, StepResult)
            self._ended(event)
        elif kind is RetryScheduled:
            assert isinstance(event, RetryScheduled)
            span = self._span.get(event.name, "")
            self._retries.setdefault(event.name, []).append(dict(
                component=event.name, span_id=span, attempt=event.attempt,
                error=type(event.error).__name__, delay_s=round(event.delay, 6),
            ))  # fmt: skip
            self.emit("info", "backoff", component=event.name, span_id=span, delay_s=round(event.delay, 6))
        elif kind is BreakerChanged:
            assert isinstance(event, BreakerChanged)
            self.emit(
                "warning", "breaker", component=event.key, span_id=self._span.get(event.key, ""),
                before=event.before.value, after=event.after.value,
            )  # fmt: skip

    def _ended(self, r: StepResult) -> None:
        retried = self._retries.pop(r.name, None)
        if retried:  # a retry is worth a warning only when the step failed in the end
            level = self._step_levels[0] if r.status is Status.FAIL else "info"
            for fields in retried:
                self.emit(level, "retry", **fields)
        error = r.error
        if error is None and not self._info:
            return
        self.emit(
            "info", "step.end", component=r.name, span_id=r.span_id, status=r.status.value, attempts=r.attempts,
            duration_s=round(r.duration_s, 6), error=type(error).__name__ if error is not None else None,
            reason=r.reason or None,
        )  # fmt: skip
        if isinstance(error, TimedOut):
            self.emit(self._step_levels[1], "timeout", component=r.name, span_id=r.span_id, seconds=error.seconds)
        kind = _VIOLATIONS.get(type(error))
        if kind is not None:
            message = getattr(error, "message", "") or getattr(error, "action", "")
            self.emit(self._step_levels[2], "violation", component=r.name, span_id=r.span_id, kind=kind, message=str(message))

    def run_started(self, mode: str) -> None:
        self.emit("info", "run.start", mode=mode, parent_span_id=self.ctx.parent_span_id or None)

    def run_ended(self, report: RunReport) -> None:
        for retried in self._retries.values():  # steps the run never finished (interrupted)
            for fields in retried:
                self.emit("warning", "retry", **fields)
        self._retries.clear()
        self.emit(
            "info", "run.end", status=report.summary.status.value, exit_code=report.exit_code,
            duration_s=round(report.duration_s, 6), outcome=report.outcome, snapshot=report.snapshot or None,
        )  # fmt: skip
