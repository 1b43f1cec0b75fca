"""A pipeline's structure as data, and back: the one walk over node kinds.

``shape_of(step)`` describes a ``Step`` tree as a ``Shape`` tree (what a failure snapshot
stores and what pictures and outlines are drawn from); ``rebuild(shape, components)`` is
its inverse, with every component looked up by name. Neither knows any node kind: each
kind describes its own children, data and rebuilding (``Step.children``, ``details``,
``restore``, see ``core.step``), and ``KINDS`` finds the kind of a shape. Both walks go
without recursion, so no depth of nesting makes them fail; a shape read from a file
still has its depth and kinds checked (``check_shape``) before anything draws it.

>>> from returns.result import Result, Success
>>> from omnibase.core.combinators import retry
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> @component(idempotent=True)
... def lint(ctx: ExecCtx, x: object) -> Result[object, str]:
...     return Success(x)
>>> s = shape_of(retry(lint))
>>> s.kind, s.retry.max_attempts, [c.name for c in s.children]
('retry', 3, ['lint'])
>>> shape_of(rebuild(s, {"lint": lint}).unwrap()) == s
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from returns.result import Failure, Result, Success

# graph and hooks define node kinds of their own: imported here, every kind is in KINDS
import omnibase.core.graph as _graph  # noqa: F401
import omnibase.core.hooks as _hooks  # noqa: F401
from omnibase.core.step import KINDS, Component, Shape, Step

__all__ = ["MAX_DEPTH", "check_shape", "fold", "kind_of", "names_in", "rebuild", "shape_of"]

T = TypeVar("T")
R = TypeVar("R")

#: The deepest nesting a shape read from a file may have (real pipelines nest a few
#: levels; a ``>>`` chain of any length is one level).
MAX_DEPTH = 200


def fold(root: T, parts: Callable[[T], Sequence[T]], combine: Callable[[T, list[R]], R]) -> R:
    """Bottom-up over a tree without recursion: ``combine(node, [results of its parts])``.

    >>> fold((1, [(2, []), (3, [])]), lambda n: n[1], lambda n, below: n[0] + sum(below))
    6
    """
    frames: list[tuple[T, Iterator[T], list[R]]] = [(root, iter(parts(root)), [])]
    while True:
        node, pending, below = frames[-1]
        child = next(pending, frames)  # ``frames`` marks the end: it is never a part
        if child is not frames:
            frames.append((child, iter(parts(child)), []))  # type: ignore[arg-type]
            continue
        frames.pop()
        value = combine(node, below)
        if not frames:
            return value
        frames[-1][2].append(value)


def shape_of(step: Step[Any, Any]) -> Shape:
    """The structure of ``step`` as data (functions, such as recover handlers, left out)."""

    def describe(node: Step[Any, Any], children: list[Shape]) -> Shape:
        return Shape(kind=node.kind, name=node.name, children=tuple(children), **node.details())

    return fold(step, lambda node: node.children(), describe)


def kind_of(shape: Shape) -> type[Step[Any, Any]] | None:
    """The node kind ``shape`` describes, or None for a kind this omnibase does not know."""
    return KINDS.get(shape.kind)


class _Refused(Exception):
    """Stops ``rebuild``'s walk at the first node that cannot be rebuilt."""


def rebuild(shape: Shape, components: Mapping[str, Component[Any, Any]]) -> Result[Step[Any, Any], str]:
    """The step ``shape`` describes, with each component looked up by name; or why not,
    in one line (an unknown component or kind, a node holding code, out-of-range data)."""

    def restore(node: Shape, parts: list[Step[Any, Any]]) -> Step[Any, Any]:
        if node.kind == Component.kind:
            found = components.get(node.name)
            if found is None or node.children:
                raise _Refused(f"the snapshot names component '{node.name}', which is not known here")
            return found
        kind = kind_of(node)
        if kind is None:
            raise _Refused(f"the snapshot's node '{node.name}' is of an unknown kind '{node.kind}'")
        problem = _arity(node, kind)
        if problem is not None:
            raise _Refused(f"the snapshot's {problem}")
        try:
            built = kind.restore(node, tuple(parts))
        except (ValueError, TypeError) as exc:  # out-of-range data: a policy's own check
            raise _Refused(f"the snapshot's {node.kind} node '{node.name}': {exc}") from None
        if isinstance(built, str):
            raise _Refused(built)
        return built

    try:
        return Success(fold(shape, lambda node: node.children, restore))
    except _Refused as refused:
        return Failure(str(refused))


def names_in(shape: Shape) -> list[str]:
    """The component names in ``shape``, in order."""
    names: list[str] = []
    stack = [shape]
    while stack:
        node = stack.pop()
        if node.kind == Component.kind:
            names.append(node.name)
        stack.extend(reversed(node.children))
    return names


def check_shape(shape: Shape, limit: int = MAX_DEPTH) -> str | None:
    """Why ``shape`` (read from a file) cannot be drawn or rebuilt: nested more than
    ``limit`` levels deep, a node of a kind this omnibase does not know or with more or
    fewer children than its kind has; or None."""
    stack = [(shape, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return f"the pipeline is nested more than {limit} levels deep"
        kind = kind_of(node)
        if kind is None:
            return f"the pipeline's node '{node.name}' is of an unknown kind '{node.kind}'"
        problem = _arity(node, kind)
        if problem is not None:
            return f"the pipeline's {problem}"
        stack.extend((child, depth + 1) for child in node.children)
    return None


def _arity(shape: Shape, kind: type[Step[Any, Any]]) -> str | None:
    low, high = kind.arity
    n = len(shape.children)
    if low <= n and (high is None or n <= high):
        return None
    want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
    return f"{shape.kind} node '{shape.name}' has {n} children, not {want}"
