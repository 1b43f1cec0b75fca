"""The call shape of a component, checked once when the component is made.

Every performer calls a component's function as ``fn(ctx, value)``. mypy rejects a
function of another shape at ``@component``; without mypy such a function would be
accepted and fail only when a run calls it (``TypeError: f() takes 1 positional argument
but 2 were given``, reported as the step's error). :func:`call_shape_error` says what is
wrong while the component is being made instead, naming the function and where it is
defined. It looks at the signature only (no annotation is required) and costs a few
microseconds, paid once per component, never per call.

>>> def check(ctx, value): ...
>>> def no_ctx(value): ...
>>> call_shape_error(check, "check") is None
True
>>> print(call_shape_error(no_ctx, "no_ctx").split(": ", 1)[1].split(";")[0])
no_ctx(value) cannot be called as no_ctx(ctx, value)
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable

__all__ = ["call_shape_error"]

_CTX, _VALUE = object(), object()


def call_shape_error(fn: Callable[..., object], name: str) -> str | None:
    """None when ``fn`` can be called with two positional arguments, ``(ctx, value)``
    (extra parameters with defaults, ``*args`` and callable objects are fine); otherwise
    a one-line account naming ``name``, its parameters, the file and line that define it,
    and the expected shape. The shape judged is the one a call meets: a wrapper's own
    signature, not the one of the function it wraps. A callable whose signature Python
    cannot read (some built-ins) is not judged: None."""
    if type(fn) is types.FunctionType and _fits(fn):
        return None  # the common case, from the code object (well under a microsecond)
    try:
        sig = inspect.signature(fn, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(_CTX, _VALUE)
    except TypeError:
        pass
    else:
        return None
    code = getattr(fn, "__code__", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if isinstance(code, types.CodeType) else ""
    return (
        f"@component {name}{where}: {name}{_params(sig)} cannot be called as {name}(ctx, value); "
        f"a component takes the run's context and one value and returns a Result: "
        f"def {name}(ctx: ExecCtx, value: A) -> Result[B, E]"
    )


def _fits(fn: types.FunctionType) -> bool:
    """Whether a plain function takes ``(ctx, value)``: two positional parameters or
    ``*args``, no more than two without defaults, no keyword-only one without a default."""
    code = fn.__code__
    positional = code.co_argcount
    required = positional - len(fn.__defaults__ or ())
    open_ended = bool(code.co_flags & inspect.CO_VARARGS)
    keywords = code.co_kwonlyargcount - len(fn.__kwdefaults__ or {})
    return (positional >= 2 or open_ended) and required <= 2 and keywords == 0


def _params(sig: inspect.Signature) -> str:
    """The parameters as written, without annotations or defaults: ``(value, *, n)``."""
    shown = []
    star = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            shown.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            shown.append(f"**{p.name}")
        elif p.kind is p.KEYWORD_ONLY and not star:
            shown.append("*")
            star = True
            shown.append(p.name)
        else:
            shown.append(p.name)
    return f"({', '.join(shown)})"
