"""Runtime type checks: from a type object to ``value -> bool``, msgspec-based.

``checker(int)`` is a plain ``isinstance`` (cheap: it runs on every step's input or
output); a parametrised type such as ``list[str]`` or ``dict[str, int]`` is checked in
full by ``msgspec.convert(value, tp, strict=True)`` (and the result must equal the
value: a ``dict`` is not accepted where a ``Struct`` is declared). ``Any`` and ``object`` accept
everything (``checker`` returns :data:`accept_all`, which callers may skip).

Registry entries name their types with a string (``input: list[str]``); :data:`TYPE_NAMES`
is the table of names understood there, and :func:`type_named` looks one up.

>>> checker(int)(3), checker(int)("3"), checker(list[str])(["a"]), checker(list[str])([1])
(True, False, True, False)
>>> type_named("dict[str, int]")
dict[str, int]
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Final

import msgspec

__all__ = ["TYPE_NAMES", "accept_all", "checker", "declared_types", "entry_types", "input_error", "is_type_name", "type_named"]

#: The type names a registry entry may give as ``input:`` or ``output:``.
TYPE_NAMES: Final[dict[str, object]] = {
    "object": object,
    "None": None,
    "int": int,
    "str": str,
    "float": float,
    "bool": bool,
    "bytes": bytes,
    "list[str]": list[str],
    "list[int]": list[int],
    "dict[str, str]": dict[str, str],
    "dict[str, int]": dict[str, int],
    "dict[str, object]": dict[str, object],
}


def accept_all(value: object) -> bool:
    """The check of ``Any`` and ``object``: every value passes."""
    return True


def type_named(name: str) -> object | None:
    """The type a registry type name stands for, or None when the name is unknown (or is
    ``None``: tell the two apart with :func:`is_type_name`).

    >>> type_named("list[str]"), type_named("list[Path]")
    (list[str], None)
    """
    return TYPE_NAMES.get(_normal(name), None)


def is_type_name(name: str) -> bool:
    """Whether ``name`` is in :data:`TYPE_NAMES` (spacing aside).

    >>> is_type_name("dict[str,  int]"), is_type_name("None"), is_type_name("Path")
    (True, True, False)
    """
    return _normal(name) in TYPE_NAMES


def _normal(name: str) -> str:
    return " ".join(name.split()).replace("[ ", "[").replace(" ]", "]").replace(",", ", ").replace(",  ", ", ")


def checker(tp: object) -> Callable[[object], bool]:
    """A function telling whether a value is a ``tp``.

    Plain classes use ``isinstance`` (``bool`` is not accepted as an ``int``, as msgspec's
    strict mode has it; an ``int`` is accepted as a ``float``). Parametrised generics,
    unions and literals are checked element by element with ``msgspec.convert(...,
    strict=True)``; where msgspec cannot express ``tp`` the check falls back to the
    ``isinstance`` of its origin.
    """
    if tp is Any or tp is object:
        return accept_all
    if tp is None or tp is types.NoneType:
        return lambda value: value is None
    if tp is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(tp, type) and typing.get_origin(tp) is None:
        cls = tp
        return lambda value: isinstance(value, cls)
    try:
        msgspec.convert(None, type=tp, strict=True)
    except msgspec.ValidationError:
        pass  # msgspec understands tp (None simply is not one)
    except TypeError:  # msgspec cannot express tp: check what can be checked cheaply
        origin = typing.get_origin(tp)
        if isinstance(origin, type):
            container = origin
            return lambda value: isinstance(value, container)
        return accept_all
    return _converts(tp)


def _converts(tp: object) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        # Converting proves the shape; comparing proves nothing was converted on the way
        # (a dict is not a Struct, a tuple is not a list, even where msgspec would convert).
        try:
            return bool(msgspec.convert(value, type=tp, strict=True) == value)
        except (msgspec.ValidationError, TypeError):
            return False

    return check


def declared_types(fn: Callable[..., object], position: int) -> tuple[object, object]:
    """The declared type of ``fn``'s parameter at ``position`` and of its return value
    (``object`` where there is no usable annotation)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations (or not a function): nothing to check
        return object, object
    params = [v for k, v in hints.items() if k != "return"]
    arg = params[position] if len(params) > position else object
    return arg, hints.get("return", object)


def entry_types(step: Any) -> list[tuple[str, object]]:
    """The components that receive a pipeline's input, with their declared input types:
    the first leaf of a sequence, the inner step of a wrapper, every branch of a fan-out,
    the nodes of a data-flow graph that need nothing, and both sides of a fallback
    (without importing the node classes: it follows ``first``, ``inner``,
    ``alternative``, ``branches`` and a graph's ``nodes``)."""
    found: list[tuple[str, object]] = []
    stack = [step]
    while stack:
        node = stack.pop()
        if hasattr(node, "fn") and hasattr(node, "meta"):
            found.append((node.name, getattr(node, "in_type", object)))
        elif hasattr(node, "first"):
            stack.append(node.first)
        elif getattr(node, "flow", False):  # a data-flow graph: only what needs nothing gets it
            stack.extend(reversed([n.step for n in node.nodes if not n.needs]))
        elif hasattr(node, "branches"):
            stack.extend(reversed(node.branches))
        elif hasattr(node, "inner"):
            stack.extend(n for n in (getattr(node, "alternative", None), node.inner) if n is not None)
    return found


def input_error(step: Any, value: object) -> str | None:
    """None when ``value`` has the declared input type of every component that receives
    it first; otherwise what is wrong, naming the component (for a ``ProtocolViolation``).

    >>> from returns.result import Result, Success
    >>> from omnibase import ExecCtx, component
    >>> @component
    ... def double(ctx: ExecCtx, n: int) -> Result[int, str]:
    ...     return Success(2 * n)
    >>> input_error(double >> double, 3) is None, input_error(double, "not an int")
    (True, "double takes int, was given str: 'not an int'")
    """
    for name, tp in entry_types(step):
        if not checker(tp)(value):
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            label = tp.__qualname__ if isinstance(tp, type) else repr(tp).replace("typing.", "")
            return f"{name} takes {label}, was given {type(value).__name__}: {shown}"
    return None
