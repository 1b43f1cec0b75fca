"""Intents: what the interpreter asks a driver to do, and the events it tells observers.

An intent is a plain value ("invoke C with x", "sleep 0.2 s", "what time is it"); a
driver performs it and sends back the answer. Events are intents whose answer is None:
the driver hands them to its observers (progress, logs, metrics, the debugger).

============  ==============================================  ===========================
intent        asks for                                        answer
============  ==============================================  ===========================
``Invoke``    call ``component.fn(ctx, value)``                ``Called``
``Sleep``     wait ``seconds``                                 None
``NOW``       the monotonic clock                              int nanoseconds
``WALL``      the wall clock                                   float seconds since epoch
``Fork``      drive each branch generator to its end           tuple of their results
events        ``StepResult``, ``RetryScheduled``,              None
              ``BreakerChanged``
============  ==============================================  ===========================
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final, TypeAlias

import msgspec

from omnibase.core.policies import BreakerMode
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, StepError, StepResult

__all__ = [
    "NOW",
    "WALL",
    "BreakerChanged",
    "Called",
    "Event",
    "Fork",
    "Intent",
    "Invoke",
    "InvocationTimedOut",
    "Now",
    "RetryScheduled",
    "Sleep",
    "Wall",
]


class Invoke(msgspec.Struct, frozen=True, gc=False):
    """Call ``component`` with ``value``; ``limit`` (seconds) bounds the call, if set."""

    component: Component[Any, Any]
    ctx: ExecCtx
    value: Any
    limit: float | None = None


class Called(msgspec.Struct, frozen=True, gc=False):
    """How a call went: what it returned or raised, and when it started and ended (ns)."""

    returned: Any
    raised: BaseException | None
    started: int
    ended: int


class InvocationTimedOut(Exception):
    """Put in ``Called.raised`` by a driver whose call ran past ``Invoke.limit``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class Sleep(msgspec.Struct, frozen=True, gc=False):
    seconds: float


class Now(msgspec.Struct, frozen=True, gc=False):
    """Ask for the monotonic clock, in nanoseconds."""


class Wall(msgspec.Struct, frozen=True, gc=False):
    """Ask for the wall clock, in seconds since the epoch."""


NOW: Final = Now()
WALL: Final = Wall()


class Fork(msgspec.Struct, frozen=True):
    """Run every branch (an interpreter generator) to completion, in any order or at once;
    answer with their return values in branch order."""

    branches: tuple[Generator[Any, Any, Any], ...]


class RetryScheduled(msgspec.Struct, frozen=True, kw_only=True, tag="retry"):
    """``name`` failed attempt ``attempt`` with ``error``; the next comes after ``delay``."""

    name: str
    attempt: int
    delay: float
    error: StepError


class BreakerChanged(msgspec.Struct, frozen=True, kw_only=True, tag="breaker"):
    """The breaker ``key`` moved from one mode to another."""

    key: str
    before: BreakerMode
    after: BreakerMode


Event: TypeAlias = StepResult | RetryScheduled | BreakerChanged
Intent: TypeAlias = Invoke | Sleep | Now | Wall | Fork | Event
