"""Hooks: typed pre and post hook points around a step (a component or a whole stage).

A *pre-hook* gets the context and the component's ``Meta`` (None around a stage) and may
veto: it returns ``Veto(reason)`` and the step is SKIP with that reason, or None to let it
run. A *post-hook* gets the context and the step's results. Hooks are invoked like
components (through the performer, with span ids), so a hook that raises or fails is a
FAIL result of its own in the report, never a crash. ``hooked(step, pre=..., post=...)``
is a ``Step`` node; the interpreter evaluates it like any other.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx, Meta
>>> @component
... def deploy(ctx: ExecCtx, x: object) -> Result[str, str]:
...     return Success("deployed")
>>> def not_on_friday(ctx: ExecCtx, meta: Meta | None) -> Veto | None:
...     return Veto(reason="no deploys on Friday") if ctx.params else None
>>> step = hooked(deploy, pre=[not_on_friday])
>>> step.name, [h.name for h in step.pre]
('deploy', ['deploy:pre:not_on_friday'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component, Layout, Shape, Step, Wrapper, cannot_rebuild
from omnibase.core.values import ExecCtx, Meta, StepResult

__all__ = ["Hooked", "PostHook", "PreHook", "Veto", "hooked", "post_hook", "pre_hook"]

A = TypeVar("A")
B = TypeVar("B")


class Veto(msgspec.Struct, frozen=True, kw_only=True):
    """A pre-hook's refusal: the step does not run and is SKIP with ``reason``."""

    reason: str


#: ``(ctx, meta) -> Veto | None`` (or a ``Result`` of one: a ``Failure`` is a hook failure).
PreHook: TypeAlias = Callable[[ExecCtx, Meta | None], "Veto | None | Result[Veto | None, Any]"]
#: ``(ctx, results) -> None`` (or a ``Result``: a ``Failure`` is a hook failure).
PostHook: TypeAlias = Callable[[ExecCtx, tuple[StepResult, ...]], "None | Result[Any, Any]"]


def _as_result(out: object) -> Result[Any, Any]:
    if isinstance(out, (Success, Failure)):
        return out
    return Success(out)


def pre_hook(fn: PreHook, *, name: str) -> Component[Any, Any]:
    """A pre-hook callable as a component (its input is ``(meta, value)``)."""

    def call(ctx: ExecCtx, arg: tuple[Meta | None, Any]) -> Result[Any, Any]:
        return _as_result(fn(ctx, arg[0]))

    return Component(call, Meta(name=name))


def post_hook(fn: PostHook, *, name: str) -> Component[Any, Any]:
    """A post-hook callable as a component (its input is the step's results)."""

    def call(ctx: ExecCtx, results: tuple[StepResult, ...]) -> Result[Any, Any]:
        return _as_result(fn(ctx, results))

    return Component(call, Meta(name=name))


class Hooked(Wrapper[A, B]):
    """``inner`` with pre-hooks (which may veto it) and post-hooks (which see its results).
    Hooks are components named ``STEP:pre:HOOK`` / ``STEP:post:HOOK``."""

    __slots__ = ("pre", "post")
    kind = "hooked"
    pre: tuple[Component[Any, Any], ...]
    post: tuple[Component[Any, Any], ...]

    def __init__(
        self, inner: Step[A, B], pre: Sequence[Component[Any, Any]] = (), post: Sequence[Component[Any, Any]] = ()
    ) -> None:
        super().__init__(inner)
        object.__setattr__(self, "pre", tuple(pre))
        object.__setattr__(self, "post", tuple(post))

    def details(self) -> dict[str, Any]:
        return {"pre": tuple(h.name for h in self.pre), "post": tuple(h.name for h in self.post)}

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        return cannot_rebuild(shape, "it has hooks, which are code, not data")

    @classmethod
    def picture(cls, shape: Shape) -> tuple[Layout, Sequence[Any]]:
        """The hooks around the step, in the order they run."""
        pre = [Shape(kind=Component.kind, name=n) for n in shape.pre]
        post = [Shape(kind=Component.kind, name=n) for n in shape.post]
        return "seq", [*pre, *shape.children, *post]


def _name(fn: object) -> str:
    return str(getattr(fn, "__name__", None) or getattr(fn, "name", None) or type(fn).__name__)


def hooked(
    step: Step[A, B],
    *,
    pre: Sequence[PreHook | Component[Any, Any]] = (),
    post: Sequence[PostHook | Component[Any, Any]] = (),
) -> Step[A, B]:
    """``step`` with hooks: callables (wrapped by ``pre_hook``/``post_hook``) or ready
    hook components (e.g. registry commands). No hooks: ``step`` itself."""
    if not pre and not post:
        return step
    pres = [h if isinstance(h, Component) else pre_hook(h, name=f"{step.name}:pre:{_name(h)}") for h in pre]
    posts = [h if isinstance(h, Component) else post_hook(h, name=f"{step.name}:post:{_name(h)}") for h in post]
    return Hooked(step, pres, posts)
