"""The profile performer: wall and CPU time of every invocation, and time spent in backoff.

``ProfilePerformer(inner)`` wraps any performer, sync or async. It times each ``Invoke``
(wall time from the call's own ``started``/``ended``, on the inner performer's clock, so a
``FakeDriver`` profiles in virtual time) and its CPU time (``Called.cpu_ns`` when the
performer measured it where the call ran, e.g. a worker process; otherwise this process's
CPU time plus that of the child processes reaped meanwhile, which is exact for a
sequential run and an upper bound when invocations overlap). Each ``Sleep`` is backoff,
charged to the component whose ``RetryScheduled`` event came just before it. The
performer is also an observer (it is in its own ``observers``): step results give each
invocation its status.

``attach(report)`` puts the figures in ``report.profiled``; ``trace_events(report)``
turns them into a Chrome trace-event document (complete ``"X"`` events, microseconds)
that Perfetto, ``chrome://tracing`` and speedscope open; ``write_trace`` writes it
atomically.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> from omnibase.drivers import FakeDriver, run
>>> @component
... def slow(ctx: ExecCtx, x: int) -> Result[int, str]:
...     return Success(x)
>>> prof = ProfilePerformer(FakeDriver(cost={"slow": 0.25}))
>>> report = prof.attach(run(slow >> slow, 1, ExecCtx(run_id="r", trace_id="1" * 32), prof))
>>> [(s.name, s.attempts, s.wall_s) for s in report.profiled.steps]
[('slow', 2, 0.5)]
"""

from __future__ import annotations

import os
import time
from typing import Any, TypeVar

import msgspec
from toolz import groupby, reduceby

from omnibase.core.intents import NOW, Called, Event, Intent, InvocationTimedOut, Invoke, Now, RetryScheduled, Sleep
from omnibase.core.values import InvocationTiming, Profiled, RunReport, StepResult, StepTiming, TimedOut

__all__ = ["SLOWEST", "ProfilePerformer", "cpu_now_ns", "trace_events", "write_trace"]

T = TypeVar("T")

#: How many of the slowest steps the report names.
SLOWEST = 5


def cpu_now_ns() -> int:
    """CPU time (user + system) of this process and of its reaped children, in ns.
    (``os.times`` would be one call, but counts in clock ticks: 10 ms, too coarse.)"""
    total = time.process_time_ns()
    try:
        import resource

        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += int((kids.ru_utime + kids.ru_stime) * 1e9)
    except (ImportError, OSError):  # pragma: no cover - not on POSIX
        pass
    return total


class _Call(msgspec.Struct):
    name: str
    span_id: str
    attempt: int
    start: int
    end: int
    cpu: int
    status: str = "PASS"
    timed_out: bool = False


class ProfilePerformer:
    """Times what ``inner`` performs; see the module docstring."""

    def __init__(self, inner: Any, *, slowest: int = SLOWEST) -> None:
        self.inner = inner
        self.slowest = slowest
        self.observers: tuple[Any, ...] = (*getattr(inner, "observers", ()), self.observe)
        self.t0: int | None = None
        self.calls: list[_Call] = []
        self.sleeps: list[_Call] = []
        self._by_span: dict[str, _Call] = {}
        self._retrying = ""

    # --- the performer ---------------------------------------------------------------

    def perform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            cpu0 = cpu_now_ns()
            called: Called = self.inner.perform(intent)
            self._record(intent, called, cpu_now_ns() - cpu0)
            return called
        if type(intent) is Sleep:
            start = self.inner.perform(NOW)
            self.inner.perform(intent)
            self._slept(start, self.inner.perform(NOW))
            return None
        answer = self.inner.perform(intent)
        if type(intent) is Now and self.t0 is None:
            self.t0 = answer
        return answer

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            cpu0 = cpu_now_ns()
            called: Called = await self.inner.aperform(intent)
            self._record(intent, called, cpu_now_ns() - cpu0)
            return called
        if type(intent) is Sleep:
            name = self._retrying  # read before awaiting: another branch may retry meanwhile
            start = await self.inner.aperform(NOW)
            await self.inner.aperform(intent)
            self._slept(start, await self.inner.aperform(NOW), name)
            return None
        answer = await self.inner.aperform(intent)
        if type(intent) is Now and self.t0 is None:
            self.t0 = answer
        return answer

    def _record(self, intent: Invoke, called: Called, cpu: int) -> None:
        timed_out = isinstance(called.raised, InvocationTimedOut) or isinstance(called.error, TimedOut)
        call = _Call(
            name=intent.component.name,
            span_id=intent.span_id,
            attempt=intent.attempt,
            start=called.started,
            end=called.ended,
            cpu=called.cpu_ns if called.cpu_ns is not None else cpu,
            timed_out=timed_out,
        )
        self.calls.append(call)
        if intent.span_id:
            self._by_span[intent.span_id] = call

    def _slept(self, start: int, end: int, name: str | None = None) -> None:
        who = self._retrying if name is None else name
        self.sleeps.append(_Call(name=who, span_id="", attempt=0, start=start, end=end, cpu=0, status="BACKOFF"))

    # --- the observer ----------------------------------------------------------------

    def observe(self, event: Event) -> None:
        if type(event) is RetryScheduled:
            self._retrying = event.name
        elif type(event) is StepResult:
            call = self._by_span.get(event.span_id)
            if call is not None:
                call.status = event.status.value
                call.timed_out = call.timed_out or isinstance(event.error, TimedOut)

    # --- the figures -----------------------------------------------------------------

    def result(self, report: RunReport | None = None) -> Profiled:
        """The figures so far; with ``report``, the steps it failed on time count too."""
        t0 = self.t0 if self.t0 is not None else min((c.start for c in self.calls), default=0)
        lanes = _lanes([*self.calls, *self.sleeps])
        per: dict[str, list[_Call]] = groupby(lambda call: call.name, self.calls)
        backoff: dict[str, int] = reduceby(lambda nap: nap.name, lambda slept, nap: slept + nap.end - nap.start, self.sleeps, 0)
        late = {s.name for s in report.steps if isinstance(s.error, TimedOut)} if report is not None else set()
        steps = tuple(
            StepTiming(
                name=name,
                attempts=len(calls),
                wall_s=sum(c.end - c.start for c in calls) / 1e9,
                cpu_s=sum(c.cpu for c in calls) / 1e9,
                backoff_s=backoff.get(name, 0) / 1e9,
                timed_out=name in late or any(c.timed_out for c in calls),
            )
            for name, calls in per.items()
        )

        def timing(c: _Call) -> InvocationTiming:
            return InvocationTiming(
                name=c.name, span_id=c.span_id, attempt=c.attempt, start_s=(c.start - t0) / 1e9,
                wall_s=(c.end - c.start) / 1e9, cpu_s=c.cpu / 1e9, status=c.status, lane=lanes[id(c)],
            )  # fmt: skip

        ranked = sorted(steps, key=lambda s: (-s.wall_s, s.name))
        return Profiled(
            steps=steps,
            invocations=tuple(map(timing, self.calls)),
            sleeps=tuple(map(timing, self.sleeps)),
            slowest=tuple(s.name for s in ranked[: self.slowest]),
            timeouts=tuple(s.name for s in steps if s.timed_out),
            wall_s=sum(s.wall_s for s in steps),
            cpu_s=sum(s.cpu_s for s in steps),
            backoff_s=sum(backoff.values()) / 1e9,
        )

    def attach(self, report: RunReport[T]) -> RunReport[T]:
        """``report`` with ``profiled`` filled in."""
        return msgspec.structs.replace(report, profiled=self.result(report))


def _lanes(calls: list[_Call]) -> dict[int, int]:
    """A lane per call such that no two calls in one lane overlap (greedy, by start)."""
    ends: list[int] = []
    out: dict[int, int] = {}
    for call in sorted(calls, key=lambda c: (c.start, c.end)):
        for lane, end in enumerate(ends):
            if end <= call.start:
                ends[lane] = call.end
                break
        else:
            lane = len(ends)
            ends.append(call.end)
        out[id(call)] = lane
    return out


def trace_events(report: RunReport, *, pid: int | None = None) -> dict[str, Any]:
    """The Chrome trace-event document of a profiled run: one complete (``"X"``) event per
    invocation and per backoff sleep, ``ts``/``dur`` in microseconds from the run's start,
    one thread (``tid``) per lane, named by metadata (``"M"``) events."""
    prof = report.profiled or Profiled()
    pid = os.getpid() if pid is None else pid
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": f"omnibase {report.stage} {report.run_id}"}}
    ]
    lanes = sorted({t.lane for t in (*prof.invocations, *prof.sleeps)})
    events += [
        {"name": "thread_name", "ph": "M", "pid": pid, "tid": lane + 1, "args": {"name": f"lane {lane}"}} for lane in lanes
    ]
    for cat, timings in (("step", prof.invocations), ("backoff", prof.sleeps)):
        for t in timings:
            args: dict[str, Any] = {"status": t.status, "attempt": t.attempt, "cpu_ms": round(t.cpu_s * 1e3, 3)}
            if t.span_id:
                args["span_id"] = t.span_id
            events.append(
                {
                    "name": t.name if cat == "step" else f"backoff {t.name}",
                    "cat": cat,
                    "ph": "X",
                    "ts": round(t.start_s * 1e6, 3),
                    "dur": round(t.wall_s * 1e6, 3),
                    "pid": pid,
                    "tid": t.lane + 1,
                    "args": args,
                }
            )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"trace_id": report.trace_id, "run_id": report.run_id, "stage": report.stage},
    }


def write_trace(path: str, report: RunReport) -> None:
    """Write ``trace_events(report)`` to ``path`` as JSON through the safe opener
    (atomically; a link, FIFO or device is refused); ``OSError`` saying why when it cannot."""
    from returns.result import Success

    from omnibase._io.outputs import write_output

    written = write_output(os.path.abspath(path), msgspec.json.encode(trace_events(report)) + b"\n")
    if not isinstance(written, Success):
        raise OSError(written.failure())
