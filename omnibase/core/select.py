"""Selecting the components a stage runs: a selector is data, ``filter_by`` a pure function.

The filter grammar (``--filter`` on the command line)::

    filter  := clause ("," clause)*          comma means AND
    clause  := key ("=" | "!=") value ("|" value)*
    key     := "type" | "lifecycle" | "tag" | "tags" | "name"
    value   := one or more of  A-Z a-z 0-9 _ . - * ? [ ] /

``key=a|b`` holds when the component has ``a`` or ``b``; ``key!=a|b`` when it has
neither. Repeating a key means both clauses must hold, so ``tag=x,tag=y`` wants both
tags. ``name`` values are shell-style globs. Whitespace around tokens is ignored.

>>> parse_filter("type=validator,lifecycle=canary|stable").unwrap().render()
'type=validator,lifecycle=canary|stable'
>>> parse_filter("type=validator,,").failure().message
"expected a clause at column 16, found ','"
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeVar

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import Meta

__all__ = ["Clause", "FilterError", "Selection", "Selector", "explain", "explain_kept", "filter_by", "parse_filter"]

Key = Literal["type", "lifecycle", "tag", "name"]
KEYS: dict[str, Key] = {"type": "type", "lifecycle": "lifecycle", "tag": "tag", "tags": "tag", "name": "name"}
_VALUE = re.compile(r"[A-Za-z0-9_.*?\[\]/-]+")
_KEY = re.compile(r"[A-Za-z_]+")

C = TypeVar("C", bound=Component[Any, Any])


class Clause(msgspec.Struct, frozen=True):
    """``key = v1 | v2`` (or ``!=`` when ``negate``)."""

    key: Key
    values: tuple[str, ...]
    negate: bool = False

    def render(self) -> str:
        return f"{self.key}{'!=' if self.negate else '='}{'|'.join(self.values)}"


class Selector(msgspec.Struct, frozen=True):
    """A conjunction of clauses; the empty selector keeps everything."""

    clauses: tuple[Clause, ...] = ()

    def __and__(self, other: Selector) -> Selector:
        return Selector(self.clauses + other.clauses)

    def render(self) -> str:
        return ",".join(c.render() for c in self.clauses)


class FilterError(msgspec.Struct, frozen=True):
    """Where a filter text stops making sense: ``column`` is 1-based."""

    message: str
    column: int
    token: str


class Selection(msgspec.Struct, frozen=True):
    """What ``filter_by`` kept, and what it left out with the reason for each."""

    kept: tuple[Component[Any, Any], ...]
    dropped: tuple[tuple[Component[Any, Any], str], ...]


def _facts(meta: Meta, key: Key) -> frozenset[str]:
    if key == "type":
        return frozenset({meta.type.value})
    if key == "lifecycle":
        return frozenset({meta.lifecycle.value})
    if key == "tag":
        return meta.tags
    return frozenset({meta.name})


def _holds(clause: Clause, meta: Meta) -> bool:
    facts = _facts(meta, clause.key)
    if clause.key == "name":
        hit = any(fnmatch.fnmatchcase(f, v) for f in facts for v in clause.values)
    else:
        hit = not facts.isdisjoint(clause.values)
    return hit != clause.negate


def explain(selector: Selector, meta: Meta) -> str | None:
    """None when ``selector`` keeps a component with ``meta``; otherwise why it does not.

    >>> explain(Selector((Clause("tag", ("schema",)),)), Meta(name="x"))
    'tag=schema does not hold (tag is none)'
    """
    for clause in selector.clauses:
        if not _holds(clause, meta):
            have = ", ".join(sorted(_facts(meta, clause.key))) or "none"
            return f"{clause.render()} does not hold ({clause.key} is {have})"
    return None


def explain_kept(selector: Selector, meta: Meta) -> str:
    """Why ``selector`` keeps a component with ``meta`` (it must keep it): the clauses
    that hold.

    >>> explain_kept(Selector((Clause("tag", ("lint", "fmt")), Clause("type", ("tool",)))), Meta(name="x"))
    'selected: tag=lint|fmt and type=tool hold'
    >>> explain_kept(Selector(), Meta(name="x"))
    'selected: no filter leaves it out'
    """
    if not selector.clauses:
        return "selected: no filter leaves it out"
    held = [c.render() for c in selector.clauses]
    return f"selected: {' and '.join(held)} hold{'s' if len(held) == 1 else ''}"


def filter_by(selector: Selector, components: Iterable[Component[Any, Any]]) -> Selection:
    """Split ``components`` into those ``selector`` keeps and those it drops (with reasons),
    both in their original order."""
    kept: list[Component[Any, Any]] = []
    dropped: list[tuple[Component[Any, Any], str]] = []
    for comp in components:
        why = explain(selector, comp.meta)
        if why is None:
            kept.append(comp)
        else:
            dropped.append((comp, why))
    return Selection(tuple(kept), tuple(dropped))


def parse_filter(text: str) -> Result[Selector, FilterError]:
    """Parse the filter grammar above into a ``Selector``, or say where it breaks."""
    clauses: list[Clause] = []
    pos, n = 0, len(text)

    def skip_ws(i: int) -> int:
        while i < n and text[i].isspace():
            i += 1
        return i

    def fail(i: int, expected: str) -> Result[Selector, FilterError]:
        token = text[i : i + 1] if i < n else ""
        found = f"'{token}'" if token else "the end"
        return Failure(FilterError(f"expected {expected} at column {i + 1}, found {found}", i + 1, token))

    if not text.strip():
        return Success(Selector())
    while True:
        pos = skip_ws(pos)
        m = _KEY.match(text, pos)
        if m is None:
            return fail(pos, "a clause")
        key = m.group()
        if key not in KEYS:
            return Failure(FilterError(f"unknown filter key '{key}' at column {pos + 1} (use one of type, lifecycle, tag, name)", pos + 1, key))
        pos = skip_ws(m.end())
        if text.startswith("!=", pos):
            negate, pos = True, pos + 2
        elif text.startswith("=", pos):
            negate, pos = False, pos + 1
        else:
            return fail(pos, "'=' or '!='")
        values: list[str] = []
        while True:
            pos = skip_ws(pos)
            v = _VALUE.match(text, pos)
            if v is None:
                return fail(pos, "a value")
            values.append(v.group())
            pos = skip_ws(v.end())
            if pos < n and text[pos] == "|":
                pos += 1
                continue
            break
        clauses.append(Clause(KEYS[key], tuple(values), negate))
        if pos == n:
            return Success(Selector(tuple(clauses)))
        if text[pos] != ",":
            return fail(pos, "',' or '|'")
        pos += 1


def tags_selector(tags: Sequence[str]) -> Selector:
    """``--tags a,b``: components having any of the tags."""
    return Selector((Clause("tag", tuple(tags)),)) if tags else Selector()
