"""The sync driver: real clock, real sleep, components called in the calling thread."""

from __future__ import annotations

import threading
import time
from typing import Any

from omnibase.core.intents import Called, InvocationTimedOut, Invoke
from omnibase.drivers._base import LoopDriver

__all__ = ["SyncDriver"]


class SyncDriver(LoopDriver):
    """Performs intents for real.

    A call with a time limit runs in a daemon worker thread that is abandoned (not killed:
    Python cannot kill a thread) when the limit passes; the step fails with ``TimedOut``.
    Components that must really stop on time run as subprocesses, which the registry's
    command components do.
    """

    def now(self) -> int:
        return time.monotonic_ns()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def invoke(self, intent: Invoke) -> Called:
        clock = time.monotonic_ns
        if intent.limit is not None:
            return self._invoke_limited(intent, intent.limit)
        started = clock()
        try:
            returned = intent.component.fn(intent.ctx, intent.value)
        except (Exception, SystemExit) as exc:  # SystemExit from a component is a misbehaviour too
            return Called(None, exc, started, clock())
        return Called(returned, None, started, clock())

    def _invoke_limited(self, intent: Invoke, limit: float) -> Called:
        box: list[Any] = [None, None]

        def target() -> None:
            try:
                box[0] = intent.component.fn(intent.ctx, intent.value)
            except BaseException as exc:  # reported as a value, like any other raise
                box[1] = exc

        started = time.monotonic_ns()
        worker = threading.Thread(target=target, name=f"omnibase:{intent.component.name}", daemon=True)
        worker.start()
        worker.join(limit)
        ended = time.monotonic_ns()
        if worker.is_alive():
            return Called(None, InvocationTimedOut(limit), started, ended)
        return Called(box[0], box[1], started, ended)
