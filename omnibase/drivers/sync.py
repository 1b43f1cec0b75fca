"""The inline performer: real clock, real sleep, components called in the calling thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke, Now, Sleep, Wall
from omnibase.core.lift import format_traceback
from omnibase.core.values import Misconfigured
from omnibase.drivers._base import Observer, Program, drive

__all__ = ["SyncDriver", "async_refused", "format_traceback"]


class PerformerBase:
    """Shared shape of the synchronous performers: a dispatch on the intent's type, the
    observers they carry, and ``drive(program)`` for callers that drive directly."""

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self.observers = tuple(observers)

    def invoke(self, intent: Invoke) -> Called:
        raise NotImplementedError  # pragma: no cover - abstract

    def sleep(self, seconds: float) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def now(self) -> int:
        raise NotImplementedError  # pragma: no cover - abstract

    def wall(self) -> float:
        raise NotImplementedError  # pragma: no cover - abstract

    def perform(self, intent: Intent) -> Any:
        kind = type(intent)
        if kind is Invoke:
            return self.invoke(intent)  # type: ignore[arg-type]
        if kind is Now:
            return self.now()
        if kind is Sleep:
            self.sleep(intent.seconds)  # type: ignore[union-attr]
            return None
        if kind is Wall:
            return self.wall()
        raise TypeError(f"{type(self).__name__} cannot perform {kind.__name__}")

    def drive(self, program: Program) -> Any:
        return drive(program, self, self.observers)


def async_refused(intent: Invoke, started: int) -> Called:
    """The answer of a synchronous performer to an ``async def`` component."""
    name = intent.component.name
    error = Misconfigured(message=f"{name} is an async component: run it with arun() or --mode async")
    return Called(None, None, started, started, error=error)


def call(intent: Invoke, clock: Any = time.monotonic_ns) -> Called:
    """Call the component here and now; what it returned or raised, timed with ``clock``."""
    started = clock()
    try:
        returned = intent.component.fn(intent.ctx, intent.value)
    except (Exception, SystemExit) as exc:  # SystemExit from a component is a misbehaviour too
        return Called(None, exc, started, clock(), traceback=format_traceback(exc))
    return Called(returned, None, started, clock())


class SyncDriver(PerformerBase):
    """Performs intents for real, in the calling thread.

    A call with a time limit runs in a daemon worker thread that is abandoned (not killed:
    Python cannot kill a thread) when the limit passes; the step fails with ``TimedOut``.
    Components that must really stop on time run in a worker process (the process
    performer) or as commands, whose process group is killed.
    """

    def now(self) -> int:
        return time.monotonic_ns()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def perform(self, intent: Intent) -> Any:
        # the common invocation (synchronous, no time limit) without the dispatch's two hops
        if type(intent) is Invoke and intent.limit is None and not intent.component.is_async:
            return call(intent)
        return PerformerBase.perform(self, intent)

    def invoke(self, intent: Invoke) -> Called:
        if intent.component.is_async:
            return async_refused(intent, time.monotonic_ns())
        if intent.limit is not None:
            return self._invoke_limited(intent, intent.limit)
        return call(intent)

    def _invoke_limited(self, intent: Invoke, limit: float) -> Called:
        box: list[Called] = []
        started = time.monotonic_ns()
        worker = threading.Thread(
            target=lambda: box.append(call(intent)), name=f"omnibase:{intent.component.name}", daemon=True
        )
        worker.start()
        worker.join(limit)
        if worker.is_alive() or not box:
            return Called(None, InvocationTimedOut(limit), started, time.monotonic_ns())
        return box[0]
