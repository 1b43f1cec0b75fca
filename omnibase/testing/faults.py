"""Fault injection into real components: ``faulty(comp, behaviours=...)``.

A behaviour is what one call does; ``faulty`` returns a copy of the component (same name,
``Meta`` and types) whose n-th call follows the n-th behaviour (the last one repeats):

==============  ===============================================================
``"ok"``        call the real component
``"fail"``      return ``Failure(Failed(...))``
``"transient"`` return ``Failure(Failed(..., transient=True))``: retry re-runs it
``"raise"``     raise ``InjectedFault`` (reported as ``Raised``)
``"non_result"`` return the bare input instead of a ``Result`` (a protocol violation)
``"wrong_type"`` return ``Success`` of a value of no declared type (a protocol violation
                when the component declares its output type)
``"slow"``      take ``seconds`` of virtual time (``FaultDriver``), then call the real one
==============  ===============================================================

Behaviours are given as kinds (``["transient", "ok"]``) or as ``Act`` values
(``Act("slow", seconds=5.0)``). The returned component, a ``FaultyComponent[A, B]`` (a
``Component[A, B]`` wherever one is expected), counts its calls in ``.fn.calls``, an ``int``
to mypy as at run time.
An ``async def`` component stays asynchronous (run it with ``arun``; ``slow`` is timed by
``FaultDriver`` for synchronous components only).

>>> from returns.result import Result, Success
>>> from omnibase import ExecCtx, RetryPolicy, component, retry, run
>>> from omnibase.testing import fake_ctx
>>> @component(idempotent=True)
... def fetch(ctx: ExecCtx, url: str) -> Result[str, str]:
...     return Success(url.upper())
>>> flaky = faulty(fetch, ["transient", "transient", "ok"])
>>> report = run(retry(flaky, RetryPolicy(max_attempts=3)), "x", fake_ctx(), FaultDriver())
>>> report.output, flaky.fn.calls
('X', 3)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

import msgspec
from returns.result import Failure, Success

from omnibase.core.intents import Called, InvocationTimedOut, Invoke
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Failed
from omnibase.drivers.fake import FakeDriver

__all__ = ["Act", "Counted", "FaultDriver", "Faulty", "FaultyComponent", "InjectedFault", "Kind", "KINDS", "faulty"]

A = TypeVar("A")
B = TypeVar("B")

Kind = Literal["ok", "fail", "transient", "raise", "non_result", "wrong_type", "slow"]
#: Every behaviour kind, in the order of the table above.
KINDS: tuple[Kind, ...] = ("ok", "fail", "transient", "raise", "non_result", "wrong_type", "slow")


class Act(msgspec.Struct, frozen=True):
    """One call's behaviour. ``value`` is what a generated component adds to its input on
    ``ok``; ``seconds`` is how long a ``slow`` call takes (virtual time)."""

    kind: Kind
    value: int = 0
    seconds: float = 1.0


class InjectedFault(Exception):
    """What a ``raise`` behaviour raises."""


class WrongType:
    """The value a ``wrong_type`` behaviour returns: an instance of no type anyone declares."""

    def __repr__(self) -> str:
        return "WrongType()"


class Faulty:
    """The callable of a faulty component: follows ``acts`` call by call (the last
    repeats), delegating ``ok`` and ``slow`` calls to ``real``. ``calls`` counts every call
    that started, including ``slow`` ones that timed out."""

    def __init__(self, name: str, acts: Sequence[Act], real: Callable[[ExecCtx, Any, Act], object]) -> None:
        if not acts:
            raise ValueError("faulty: give at least one behaviour")
        self.name = name
        self.acts = tuple(acts)
        self.real = real
        self.calls = 0

    def upcoming(self) -> Act:
        """The behaviour of the next call."""
        return self.acts[min(self.calls, len(self.acts) - 1)]

    def __call__(self, ctx: ExecCtx, x: Any) -> Any:  # Any: misbehaving is its job
        act = self.upcoming()
        self.calls += 1
        kind = act.kind
        if kind in ("ok", "slow"):
            return self.real(ctx, x, act)
        if kind in ("fail", "transient"):
            return Failure(Failed(message=f"{self.name}: injected {kind} failure", transient=kind == "transient"))
        if kind == "raise":
            raise InjectedFault(f"{self.name}: injected exception")
        if kind == "non_result":
            return x
        return Success(WrongType())


class Counted(Protocol):
    """What a faulty component's ``fn`` is: the callable, and how many calls it started."""

    @property
    def calls(self) -> int: ...

    def __call__(self, ctx: ExecCtx, x: Any, /) -> object: ...


if TYPE_CHECKING:

    class FaultyComponent(Component[A, B]):
        """What ``faulty`` returns: a ``Component[A, B]`` whose ``fn`` counts its calls
        (``.fn.calls``, typed, so a test reads it with no ``type: ignore``)."""

        fn: Counted

else:
    # At run time a faulty component is a plain ``Component``: the interpreter dispatches
    # on a node's exact class, and a faulty copy must run exactly as the real one does.
    FaultyComponent = Component


def as_acts(behaviours: Iterable[Kind | Act]) -> tuple[Act, ...]:
    """Kinds and ``Act`` values, as ``Act`` values."""
    return tuple(b if isinstance(b, Act) else Act(b) for b in behaviours)


def faulty(comp: Component[A, B], behaviours: Iterable[Kind | Act], *, name: str | None = None) -> FaultyComponent[A, B]:
    """A copy of ``comp`` that misbehaves as ``behaviours`` say, call by call.

    It keeps ``comp``'s ``Meta`` (so ``retry`` and ``dry_run`` treat it the same), its
    types and its output check; ``name`` renames the copy.
    """
    meta = comp.meta if name is None else msgspec.structs.replace(comp.meta, name=name)
    real = comp.fn
    fn = Faulty(meta.name, as_acts(behaviours), lambda ctx, x, act: real(ctx, x))
    types = {"in_type": comp.in_type, "out_type": comp.out_type}
    if not comp.is_async:
        return cast(FaultyComponent[A, B], Component(fn, meta, comp.check, **types))

    async def afn(ctx: ExecCtx, x: Any) -> Any:  # an async component stays async (a function)
        out = fn(ctx, x)
        counted.calls = fn.calls
        return await out if inspect.isawaitable(out) else out

    counted = cast(_AsyncCounted, afn)
    counted.calls = 0
    return cast(FaultyComponent[A, B], Component(afn, meta, comp.check, **types))


class _AsyncCounted(Protocol):
    """The ``async def`` of a faulty asynchronous component, with its ``calls`` attribute
    (a function: only a coroutine function is awaited as one)."""

    calls: int

    async def __call__(self, ctx: ExecCtx, x: Any, /) -> Any: ...


class FaultDriver(FakeDriver):
    """The fake driver (virtual clock), which also gives a faulty component's ``slow``
    calls their virtual duration: past the call's time limit the call is abandoned and
    the step fails with ``TimedOut``, like a real slow call under ``SyncDriver``.

    >>> d = FaultDriver()
    >>> d.sleep(2.0)
    >>> d.now()
    2000000000
    """

    def invoke(self, intent: Invoke) -> Called:
        fn = intent.component.fn
        if not isinstance(fn, Faulty) or fn.upcoming().kind != "slow":
            return super().invoke(intent)
        seconds = fn.upcoming().seconds
        started = self.clock_ns
        if intent.limit is not None and seconds > intent.limit:
            fn.calls += 1  # it started, and never finished in time
            self.calls.append(intent.component.name)
            self.clock_ns += int(intent.limit * 1e9)
            return Called(None, InvocationTimedOut(intent.limit), started, self.clock_ns)
        called = super().invoke(intent)
        self.clock_ns += int(seconds * 1e9)
        return msgspec.structs.replace(called, started=started, ended=self.clock_ns)
