"""The fake performer: a virtual clock, so a 30 s backoff takes microseconds.

Deterministic: sleeping advances the clock, every call takes ``cost`` seconds of virtual
time (per component name, default 0), the wall clock starts at a fixed epoch. It keeps a
log of every sleep and invocation so tests can assert on them. It answers both the
synchronous (``perform``) and the asynchronous (``aperform``) protocol, awaiting
``async def`` components, so the same test can run a pipeline with ``run`` and ``arun``.

Under ``arun`` an ``async def`` component is awaited on virtual time too: it runs to its
end in an event loop of its own whose clock is the driver's, where every timer (an
``asyncio.sleep``, a ``wait_for``, the invocation's time limit) fires at once by moving
the clock, never by waiting. ``asyncio.sleep(10)`` under ``timeout(step, 0.3)`` times out
at virtual 0.3 s, in microseconds of real time. Real I/O and threads still take real
time (the loop waits for them only when no timer is due), and the component sees that
loop, not the caller's: an object bound to the caller's loop (a lock, a queue) cannot be
awaited there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke
from omnibase.core.lift import format_traceback
from omnibase.drivers._base import Observer
from omnibase.drivers.kinds import KINDS, kind_of
from omnibase.drivers.sync import PerformerBase

__all__ = ["FakeDriver"]

#: 2025-01-01T00:00:00Z: the fake wall clock's start.
EPOCH = 1_735_689_600.0


class FakeDriver(PerformerBase):
    """Performs intents against a virtual clock.

    >>> d = FakeDriver()
    >>> d.sleep(30.0)
    >>> d.now(), d.sleeps
    (30000000000, [30.0])
    """

    def __init__(
        self,
        observers: Sequence[Observer] = (),
        *,
        cost: Mapping[str, float] | None = None,
        start: float = EPOCH,
    ) -> None:
        super().__init__(observers)
        self.clock_ns = 0
        self.start = start
        self.cost = dict(cost or {})
        self.sleeps: list[float] = []
        self.calls: list[str] = []

    def now(self) -> int:
        return self.clock_ns

    def wall(self) -> float:
        return self.start + self.clock_ns / 1e9

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock_ns += int(seconds * 1e9)

    def _timed_out(self, intent: Invoke, cost: float) -> Called | None:
        limit = intent.limit
        if limit is None or cost <= limit:
            return None
        started = self.clock_ns
        self.clock_ns += int(limit * 1e9)
        return Called(None, InvocationTimedOut(limit), started, self.clock_ns)

    def invoke(self, intent: Invoke) -> Called:
        comp = intent.component
        fn: Any = comp.fn
        if comp.is_async or type(fn) in KINDS:  # refused, or a registered kind (a command) calls it
            return self._by_kind(intent)
        self.calls.append(comp.name)
        cost = self.cost.get(comp.name, 0.0) if self.cost else 0.0
        early = self._timed_out(intent, cost)
        if early is not None:
            return early
        started = self.clock_ns
        try:  # inline, not through the kind: the fake clock needs no real one (hot path of tests)
            returned = fn(intent.ctx, intent.value)
        except (Exception, SystemExit) as exc:
            self.clock_ns += int(cost * 1e9)
            return Called(None, exc, started, self.clock_ns, traceback=format_traceback(exc))
        self.clock_ns += int(cost * 1e9)
        return Called(returned, None, started, self.clock_ns)

    def _by_kind(self, intent: Invoke) -> Called:
        """What the component's kind answers (an async component is refused there), timed on
        the virtual clock: a call that ran took the component's ``cost``."""
        comp = intent.component
        started = self.clock_ns
        if not comp.is_async:
            self.calls.append(comp.name)
            self.clock_ns += int(self.cost.get(comp.name, 0.0) * 1e9)
        return msgspec.structs.replace(kind_of(comp).call(intent), started=started, ended=self.clock_ns)

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is not Invoke or not kind_of(intent.component).awaitable:
            return self.perform(intent)
        comp = intent.component
        fn: Any = comp.fn
        if type(fn) in KINDS:  # a registered kind (a command): awaited as it says, timed here
            self.calls.append(comp.name)
            started = self.clock_ns
            self.clock_ns += int(self.cost.get(comp.name, 0.0) * 1e9)
            called = await kind_of(comp).acall(intent)
            return msgspec.structs.replace(called, started=started, ended=self.clock_ns)
        self.calls.append(comp.name)
        cost = self.cost.get(comp.name, 0.0)
        early = self._timed_out(intent, cost)
        if early is not None:
            return early
        started = self.clock_ns
        from omnibase.drivers._virtual import VirtualTimeout, run_virtually

        try:
            returned = await run_virtually(self, fn(intent.ctx, intent.value), intent.limit)
        except VirtualTimeout:
            return Called(None, InvocationTimedOut(intent.limit or 0.0), started, self.clock_ns)
        except (Exception, SystemExit) as exc:
            self.clock_ns += int(cost * 1e9)
            return Called(None, exc, started, self.clock_ns, traceback=format_traceback(exc))
        self.clock_ns += int(cost * 1e9)
        return Called(returned, None, started, self.clock_ns)
