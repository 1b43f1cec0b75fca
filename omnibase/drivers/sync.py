"""The inline performer: real clock, real sleep, components called in the calling thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke, Now, Sleep, Wall
from omnibase.core.lift import format_traceback
from omnibase.drivers._base import Observer, Program, drive
from omnibase.drivers.kinds import KINDS, ComponentKind, call_python, kind_of

__all__ = ["PerformerBase", "SyncDriver", "format_traceback"]


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
        if type(intent) is Invoke:
            return self.invoke(intent)
        if type(intent) is Now:
            return self.now()
        if type(intent) is Sleep:
            self.sleep(intent.seconds)
            return None
        if type(intent) is Wall:
            return self.wall()
        raise TypeError(f"{type(self).__name__} cannot perform {type(intent).__name__}")

    def drive(self, program: Program) -> Any:
        return drive(program, self, self.observers)


class SyncDriver(PerformerBase):
    """Performs intents for real, in the calling thread.

    A call with a time limit runs in a daemon worker thread that is abandoned (not killed:
    Python cannot kill a thread) when the limit passes; the step fails with ``TimedOut``.
    Components that must really stop on time run in a worker process (the process
    performer) or as commands, whose process group is killed (their kind stops them).
    """

    def now(self) -> int:
        return time.monotonic_ns()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def perform(self, intent: Intent) -> Any:
        # the common invocation (a plain function, no time limit) without the dispatch's hops
        if type(intent) is Invoke:
            comp = intent.component
            if intent.limit is None and not comp.is_async and type(comp.fn) not in KINDS:
                return call_python(intent)
            return self.invoke(intent)
        return PerformerBase.perform(self, intent)

    def invoke(self, intent: Invoke) -> Called:
        kind = kind_of(intent.component)
        if intent.limit is None or kind.timed:
            return kind.call(intent)
        return self._invoke_limited(intent, intent.limit, kind)

    def _invoke_limited(self, intent: Invoke, limit: float, kind: ComponentKind) -> Called:
        box: list[Called] = []
        started = time.monotonic_ns()
        worker = threading.Thread(
            target=lambda: box.append(kind.call(intent)), name=f"omnibase:{intent.component.name}", daemon=True
        )
        worker.start()
        worker.join(limit)
        if worker.is_alive() or not box:
            return Called(None, InvocationTimedOut(limit), started, time.monotonic_ns())
        return box[0]
