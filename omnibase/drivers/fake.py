"""The fake driver: a virtual clock, so a 30 s backoff takes microseconds.

Deterministic: sleeping advances the clock, every call takes ``cost`` seconds of virtual
time (per component name, default 0), the wall clock starts at a fixed epoch. It keeps a
log of every sleep and invocation so tests can assert on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnibase.core.intents import Called, InvocationTimedOut, Invoke
from omnibase.drivers._base import LoopDriver, Observer

__all__ = ["FakeDriver"]

#: 2025-01-01T00:00:00Z: the fake wall clock's start.
EPOCH = 1_735_689_600.0


class FakeDriver(LoopDriver):
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

    def invoke(self, intent: Invoke) -> Called:
        name = intent.component.name
        self.calls.append(name)
        started = self.clock_ns
        cost = self.cost.get(name, 0.0)
        if intent.limit is not None and cost > intent.limit:
            self.clock_ns += int(intent.limit * 1e9)
            return Called(None, InvocationTimedOut(intent.limit), started, self.clock_ns)
        try:
            returned = intent.component.fn(intent.ctx, intent.value)
        except (Exception, SystemExit) as exc:  # SystemExit from a component is a misbehaviour too
            self.clock_ns += int(cost * 1e9)
            return Called(None, exc, started, self.clock_ns)
        self.clock_ns += int(cost * 1e9)
        return Called(returned, None, started, self.clock_ns)
