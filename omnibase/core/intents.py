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
              (``None`` for a branch not run or cancelled)
events        ``Started``, ``StepResult``,                     None
              ``RetryScheduled``, ``BreakerChanged``
============  ==============================================  ===========================

Every ``Invoke`` carries its identity before it is performed: ``span_id`` (unique in the
run, and the same span id its ``Started`` event and its ``StepResult`` carry) and
``attempt`` (1 for the first call, 2 for the first retry, ...). The interpreter does not
yield ``Started``: the loops derive it from the ``Invoke`` (same name, span id and attempt)
and hand it to the observers just before the performer is asked, so a run without
observers pays nothing for it.
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
    "Cancelled",
    "EVENT_TYPES",
    "Event",
    "Fork",
    "Intent",
    "Invoke",
    "InvocationTimedOut",
    "Now",
    "RetryScheduled",
    "Sleep",
    "Started",
    "Wall",
]


class Invoke(msgspec.Struct, frozen=True, gc=False):
    """Call ``component`` with ``value``; ``limit`` (seconds) bounds the call, if set.

    ``span_id`` and ``attempt`` identify this invocation (see the module docstring).
    """

    component: Component[Any, Any]
    ctx: ExecCtx
    value: Any
    limit: float | None = None
    span_id: str = ""
    attempt: int = 1


class Called(msgspec.Struct, frozen=True, gc=False):
    """How a call went: what it returned or raised, and when it started and ended (ns).

    ``raised`` is an exception instance, or an ``Exception`` subclass the performer made to
    stand for a failure that happened elsewhere (a worker process, a cluster): then
    ``error`` may carry the typed error directly. ``traceback`` is the formatted traceback of
    ``raised`` (bounded), ``output`` what the call printed, when the performer captured it.
    """

    returned: Any
    raised: BaseException | None
    started: int
    ended: int
    traceback: str = ""
    output: str = ""
    error: StepError | None = None


class InvocationTimedOut(Exception):
    """Put in ``Called.raised`` by a driver whose call ran past ``Invoke.limit``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class Cancelled(Exception):
    """Thrown into a ``Fork`` branch that a concurrent loop cancels; the branch answers None.

    ``interrupted`` False: another branch failed (fail-fast), the step in flight is recorded
    as SKIP. ``interrupted`` True: the whole run is being cancelled (Ctrl-C, SIGTERM, a
    caller's timeout), the step in flight is recorded as FAIL ``Interrupted``, as in a
    sequential run.
    """

    def __init__(self, interrupted: bool = False) -> None:
        super().__init__("interrupted" if interrupted else "another branch failed")
        self.interrupted = interrupted


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
    answer with their return values in branch order.

    A branch returns ``(ok, value)``. With ``fail_fast``, once a branch returns ``ok`` False
    the performer may leave the remaining branches unstarted (the sequential loop does) or
    cancel them (the concurrent one does); their place in the answer is ``None``.
    """

    branches: tuple[Generator[Any, Any, Any], ...]
    fail_fast: bool = False


class Started(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="started"):
    """The invocation ``span_id`` (attempt ``attempt``) of component ``name`` is about to
    be performed (emitted by the loops, from the ``Invoke``, once it holds a job slot)."""

    name: str
    span_id: str
    attempt: int = 1


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


Event: TypeAlias = Started | StepResult | RetryScheduled | BreakerChanged

#: The intents that are events: a loop hands them to the observers and answers None.
EVENT_TYPES: Final = frozenset({Started, StepResult, RetryScheduled, BreakerChanged})
Intent: TypeAlias = Invoke | Sleep | Now | Wall | Fork | Event
