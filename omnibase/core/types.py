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

__all__ = [
    "TYPE_NAMES",
    "accept_all",
    "checker",
    "declared_types",
    "entry_types",
    "input_error",
    "is_type_name",
    "output_error",
    "type_label",
    "type_named",
]

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
            return f"{name} takes {type_label(tp)}, was given {type(value).__name__}: {shown}"
    return None


def type_label(tp: object) -> str:
    """How a message names a type: ``int``, ``Item``, ``list[Item]``, ``int | None``.

    >>> type_label(int), type_label(dict[str, list[int]]), type_label(typing.Optional[int]), type_label(tuple[int, ...])
    ('int', 'dict[str, list[int]]', 'int | None', 'tuple[int, ...]')
    """
    if tp is None or tp is types.NoneType:
        return "None"
    if tp is Ellipsis:
        return "..."
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and origin is None:
        return tp.__qualname__
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_label(a) for a in args)
    if isinstance(origin, type) and args:
        return f"{origin.__qualname__}[{', '.join(type_label(a) for a in args)}]"
    return repr(tp).replace("typing.", "")


def output_error(name: str, value: object, tp: object) -> str:
    """The message of a ``ProtocolViolation`` for component ``name`` whose successful
    ``value`` is not of its declared output type ``tp``: the value's type and the type
    checked, then, when the value is of the right container and one element is wrong,
    the path to the first wrong element and what it should be. The one place this
    message is made, whichever performer checked the value.

    >>> output_error("items", [1, 2, "3"], list[int])
    'items returned list, declared list[int]: [2]: expected int, got str'
    >>> output_error("count", "three", int)
    'count returned str, declared int'
    >>> output_error("index", {"a": [1], "b": [2, None]}, dict[str, list[int]])
    "index returned dict, declared dict[str, list[int]]: ['b'][1]: expected int, got NoneType"
    """
    message = f"{name} returned {type(value).__name__}, declared {type_label(tp)}"
    blame = _blame(value, tp, "", 0)
    return f"{message}: {blame}" if blame else message


def _blame(value: object, tp: object, path: str, depth: int) -> str | None:
    """``PATH: expected T, got U`` for the first element of ``value`` (a list, tuple, set
    or dict of the declared container) that is not what ``tp`` says, or None when the
    container itself is the wrong one (or the path is deeper than 32 levels)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if depth > 32 or not args or not isinstance(origin, type) or not isinstance(value, origin):
        return None
    items: list[tuple[str, object, object]] = []  # (path, element, its declared type)
    if isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            items.append((f"{path}[{key!r}] (a key)", key, args[0]))
            items.append((f"{path}[{key!r}]", item, args[1]))
    elif isinstance(value, tuple) and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            return f"{path or 'the tuple'}: expected {len(args)} items, got {len(value)}"
        items = [(f"{path}[{i}]", item, arg) for i, (item, arg) in enumerate(zip(value, args))]
    elif isinstance(value, (list, tuple)):
        items = [(f"{path}[{i}]", item, args[0]) for i, item in enumerate(value)]
    elif isinstance(value, (set, frozenset)):
        items = [(f"{path}{{{item!r}}}", item, args[0]) for item in value]
    checks: dict[int, typing.Callable[[object], bool]] = {}
    for where, item, arg in items:
        check = checks.setdefault(id(arg), checker(arg))
        if not check(item):
            return _blame(item, arg, where, depth + 1) or f"{where}: expected {type_label(arg)}, got {type(item).__name__}"
    return None
