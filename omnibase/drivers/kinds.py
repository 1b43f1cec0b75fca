"""Component kinds: how a component's function is called, found by its type in one table.

A component's ``fn`` is a plain Python callable, a coroutine function, or a value of a
class that a kind registered (a command, a built-in check). Every performer asks
``kind_of(component)`` how to call it and what it can promise, instead of testing the
function for attributes:

============  ======================================  ============================
kind          ``call`` (here, now)                    ``acall`` (on the event loop)
============  ======================================  ============================
python        ``fn(ctx, value)``                      not awaitable: a thread runs ``call``
coroutine     refused (``Misconfigured``): run it      ``await fn(ctx, value)``, cancelled at
              with ``arun`` or ``--mode async``        the invocation's limit
command       its argv as a subprocess, killed with   the same as an asyncio subprocess
(registered)  its process tree at the limit
============  ======================================  ============================

The table is filled from above: ``omnibase.components.command`` registers its class when
it is imported, which it is before any of its values exists, so a performer never meets a
command whose kind is unknown. This module (the protocol, the table and the two kinds a
bare function can be) sits with the performers, below ``components``: imports go one way.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final, Protocol

from omnibase.core.intents import Called, Invoke
from omnibase.core.lift import format_traceback
from omnibase.core.values import ExecCtx, Misconfigured

if TYPE_CHECKING:
    from omnibase.core.step import Component

__all__ = ["COROUTINE", "KINDS", "PYTHON", "ComponentKind", "CoroutineKind", "PythonKind", "call_python", "kind_of", "register"]


class ComponentKind(Protocol):
    """What a performer needs to know about a kind of component.

    ``timed``: ``call``/``acall`` stop at ``Invoke.limit`` themselves (no thread to abandon,
    no cancellation needed). ``awaitable``: ``acall`` never blocks the event loop.
    ``own_process``: the kind runs in a process of its own already (a worker process would
    add nothing; a Dask worker is sent the function itself, pickled, and calls it there).
    """

    name: str
    timed: bool
    awaitable: bool
    own_process: bool

    def call(self, intent: Invoke) -> Called:
        """Perform ``intent`` in the calling thread; what it returned or raised, timed."""
        ...

    async def acall(self, intent: Invoke) -> Called:
        """Perform ``intent`` on the running event loop (only when ``awaitable``)."""
        ...

    def context(self, fn: Any, ctx: ExecCtx) -> ExecCtx:
        """The context ``fn`` sees, e.g. narrowed to the files it selects: a worker process
        is sent this one, since it calls the function it imports, not ``fn``."""
        ...


class PythonKind:
    """A plain synchronous callable ``fn(ctx, value)``."""

    name: str = "python"
    timed: bool = False
    awaitable: bool = False
    own_process: bool = False

    def call(self, intent: Invoke) -> Called:
        return call_python(intent)

    async def acall(self, intent: Invoke) -> Called:
        return self.call(intent)

    def context(self, fn: Any, ctx: ExecCtx) -> ExecCtx:
        return ctx


class CoroutineKind(PythonKind):
    """An ``async def`` callable: only an asynchronous performer can await it."""

    name: str = "coroutine"
    timed: bool = True
    awaitable: bool = True

    def call(self, intent: Invoke) -> Called:
        started = time.monotonic_ns()
        name = intent.component.name
        error = Misconfigured(message=f"{name} is an async component: run it with arun() or --mode async")
        return Called(None, None, started, started, error=error)

    async def acall(self, intent: Invoke) -> Called:
        """Await ``fn(ctx, value)`` in the calling task (no task of its own: the common case
        costs one coroutine); under a limit, a timeout cancels it."""
        import asyncio

        started = time.monotonic_ns()
        limit = intent.limit
        fn: Any = intent.component.fn
        try:
            if limit is None:
                returned = await fn(intent.ctx, intent.value)
            else:
                scope = asyncio.timeout(limit)
                try:
                    async with scope:
                        returned = await fn(intent.ctx, intent.value)
                except TimeoutError:
                    if not scope.expired():
                        raise  # the component's own TimeoutError: a value like any other exception
                    from omnibase.core.intents import InvocationTimedOut

                    return Called(None, InvocationTimedOut(limit), started, time.monotonic_ns())
        except (Exception, SystemExit) as exc:
            return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
        return Called(returned, None, started, time.monotonic_ns())


def call_python(intent: Invoke) -> Called:
    """``PYTHON.call`` as a plain function, for the performers' fast path (a plain function,
    no limit: no bound method on every invocation)."""
    started = time.monotonic_ns()
    try:
        returned = intent.component.fn(intent.ctx, intent.value)
    except (Exception, SystemExit) as exc:  # SystemExit from a component is a misbehaviour too
        return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
    return Called(returned, None, started, time.monotonic_ns())


PYTHON: Final = PythonKind()
COROUTINE: Final = CoroutineKind()

#: The registered kinds, by the class of a component's function. A bare function is
#: ``PYTHON`` or ``COROUTINE``; nothing else needs registering.
KINDS: Final[dict[type, ComponentKind]] = {}


def register(cls: type, kind: ComponentKind) -> None:
    """Make ``kind`` the kind of every component whose function is a ``cls``."""
    KINDS[cls] = kind


def kind_of(component: Component[Any, Any]) -> ComponentKind:
    """The kind of ``component``: by its function's class, else by whether it is ``async``.

    >>> from omnibase.core.step import component
    >>> from returns.result import Success
    >>> kind_of(component(lambda ctx, x: Success(x), name="c")).name
    'python'
    """
    kind = KINDS.get(type(component.fn))
    if kind is not None:
        return kind
    return COROUTINE if component.is_async else PYTHON
