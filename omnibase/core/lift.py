"""Lifting plain functions into components: less ceremony, the same types.

A component is ``(ctx, x) -> Result[B, E]``; most stages are plain functions. These
helpers wrap one, keep its types (``Component[A, B]`` from ``Callable[[A], B]``) and
take any ``Meta`` field as a keyword:

- :func:`lift`: ``A -> B``; whatever it returns is the success value, and an exception
  it raises is reported as the typed error ``Raised`` (the driver catches it).
- :func:`lift_safe`: ``A -> B`` that may raise, with ``returns``' ``@safe`` semantics:
  the exceptions listed in ``catch`` become ``Failure(Raised(...))`` inside the component,
  with a bounded traceback, and those listed in ``transient`` are marked transient, so
  ``retry`` retries them (e.g. ``httpx.TimeoutException``).
- :func:`lift_async`: ``async def`` ``A -> B``, with ``lift_safe``'s handling of
  exceptions; run it with ``arun`` (or any asynchronous driver).

>>> from omnibase.testing import fake_ctx
>>> from omnibase import run
>>> double = lift(lambda x: 2 * x, name="double")
>>> shout = lift(str.upper)
>>> run(lift(len, name="len") >> double, "abc", fake_ctx()).output
6
>>> shout.name, shout.meta.input_type, run(shout, "hi", fake_ctx()).output
('upper', 'object', 'HI')
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

from returns.result import Failure, Result, Success

from omnibase.core.step import Component, _type_name
from omnibase.core.types import accept_all, checker, declared_types
from omnibase.core.values import ExecCtx, Meta, Raised

__all__ = ["MAX_TRACEBACK", "format_traceback", "lift", "lift_async", "lift_safe"]

A = TypeVar("A")
B = TypeVar("B")

#: The longest traceback kept in a ``Raised`` error, in characters (the end is kept).
MAX_TRACEBACK: Final = 8_000


def lift(fn: Callable[[A], B], /, *, name: str | None = None, **fields: Any) -> Component[A, B]:
    """The component that returns ``Success(fn(x))``.

    The name defaults to ``fn.__name__`` (give ``name=`` for a lambda or a
    ``functools.partial``); the declared types and the runtime output check come from
    ``fn``'s annotations. An exception ``fn`` raises becomes ``Raised`` (not transient
    unless it is a ``TimeoutError`` or ``ConnectionError``).
    """

    def call(ctx: ExecCtx, x: A) -> Result[B, Raised]:
        return Success(fn(x))

    return _component(fn, call, name, fields)


def lift_safe(
    fn: Callable[[A], B],
    /,
    *,
    transient: tuple[type[BaseException], ...] = (),
    catch: tuple[type[Exception], ...] = (Exception,),
    name: str | None = None,
    **fields: Any,
) -> Component[A, B]:
    """The component that returns ``Success(fn(x))``, or ``Failure(Raised(...))`` when
    ``fn`` raises one of ``catch`` (anything else is reported by the driver as ``Raised``
    too, but without the ``transient`` classification).

    ``Raised.transient`` is True for an instance of any of ``transient`` (subclasses
    included): ``retry`` re-runs such a failure when the component is idempotent.

    >>> from omnibase.testing import fake_ctx
    >>> from omnibase import run
    >>> class Flaky(Exception): ...
    >>> def fetch(url: str) -> str:
    ...     raise Flaky("try again")
    >>> error = run(lift_safe(fetch, transient=(Flaky,)), "u", fake_ctx()).error
    >>> error.exc_type, error.message, error.transient, "Flaky: try again" in error.traceback
    ('Flaky', 'try again', True, True)
    """

    def call(ctx: ExecCtx, x: A) -> Result[B, Raised]:
        try:
            return Success(fn(x))
        except catch as exc:
            return Failure(_raised(exc, transient))

    return _component(fn, call, name, fields)


def lift_async(
    fn: Callable[[A], Coroutine[Any, Any, B]],
    /,
    *,
    transient: tuple[type[BaseException], ...] = (),
    catch: tuple[type[Exception], ...] = (Exception,),
    name: str | None = None,
    **fields: Any,
) -> Component[A, B]:
    """The ``async`` component that returns ``Success(await fn(x))``; exceptions as in
    :func:`lift_safe`. Run it with ``arun`` (a synchronous driver refuses it with a typed
    error, never by blocking).

    >>> import asyncio
    >>> from omnibase.drivers import arun
    >>> from omnibase.testing import fake_ctx
    >>> async def fetch(url: str) -> str:
    ...     await asyncio.sleep(0)
    ...     return url.upper()
    >>> asyncio.run(arun(lift_async(fetch), "u", fake_ctx())).output
    'U'
    """

    async def call(ctx: ExecCtx, x: A) -> Result[B, Raised]:
        try:
            return Success(await fn(x))
        except catch as exc:
            return Failure(_raised(exc, transient))

    return _component(fn, call, name, fields)


def _raised(exc: BaseException, transient: tuple[type[BaseException], ...]) -> Raised:
    return Raised(
        exc_type=type(exc).__name__,
        message=str(exc),
        transient=isinstance(exc, transient),
        traceback=format_traceback(exc),
    )


def format_traceback(exc: BaseException, limit: int = MAX_TRACEBACK) -> str:
    """``exc``'s formatted traceback, cut to its last ``limit`` characters (the frames
    nearest the raise and the exception line are what a reader needs). The one formatter
    of tracebacks: ``lift_safe`` and every performer use it."""
    import traceback  # only a failure pays for it

    text = "".join(traceback.format_exception(exc))
    return text if len(text) <= limit else f"... {len(text) - limit} bytes more\n" + text[-limit:]


def _component(fn: Callable[[A], object], call: Any, name: str | None, fields: dict[str, Any]) -> Component[A, B]:
    label = name if name is not None else getattr(fn, "__name__", None)
    if not label or label == "<lambda>":
        raise TypeError(f"give {fn!r} a name: lift(fn, name='...')")
    arg, out = declared_types(fn, 0)
    given: dict[str, Any] = {"input_type": _type_name(arg), "output_type": _type_name(out), **fields}
    check = checker(out)
    return Component(call, Meta(name=label, **given), None if check is accept_all else check, in_type=arg, out_type=out)
