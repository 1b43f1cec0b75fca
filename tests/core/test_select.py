"""The filter grammar and filter_by."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Success

from omnibase.core.select import Clause, Selector, filter_by, parse_filter
from omnibase.core.values import ComponentType, Lifecycle, Meta
from omnibase.core.step import Component

VALUE = st.text(alphabet="abcxyz019_.-*", min_size=1, max_size=6)
CLAUSES = st.builds(
    Clause,
    st.sampled_from(["type", "lifecycle", "tag", "name"]),
    st.lists(VALUE, min_size=1, max_size=3).map(tuple),
    st.booleans(),
)
SELECTORS = st.lists(CLAUSES, max_size=4).map(lambda cs: Selector(tuple(cs)))


@settings(max_examples=300, deadline=None)
@given(SELECTORS)
def test_rendering_then_parsing_gives_the_selector_back(selector: Selector) -> None:
    assert parse_filter(selector.render()) == Success(selector)


_WS = r"[ \t]*"
_REF_VALUE = r"[A-Za-z0-9_.*?\[\]/-]+"
_REF_CLAUSE = rf"{_WS}(type|lifecycle|tags?|name){_WS}(!=|=){_WS}{_REF_VALUE}(?:{_WS}\|{_WS}{_REF_VALUE})*{_WS}"
_REF_FILTER = re.compile(rf"{_REF_CLAUSE}(?:,{_REF_CLAUSE})*|{_WS}")


def _reference_parse(text: str) -> tuple[Clause, ...] | None:
    """The grammar read straight off the module docstring: a regular expression decides,
    and splitting on the separators (which no value may contain) gives the clauses."""
    if not _REF_FILTER.fullmatch(text):
        return None
    if not text.strip():
        return ()
    clauses = []
    for part in text.split(","):
        negate = "!=" in part
        key, _, rest = part.partition("!=" if negate else "=")
        key = key.strip()
        clauses.append(Clause("tag" if key == "tags" else key, tuple(v.strip() for v in rest.split("|")), negate))  # type: ignore[arg-type]
    return tuple(clauses)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="type=lifecycle!,|tag name abc*  \t=", max_size=30))
def test_any_text_parses_as_the_reference_grammar_says_or_points_at_a_column_inside_it(text: str) -> None:
    result = parse_filter(text)
    expected = _reference_parse(text)
    if isinstance(result, Failure):
        assert expected is None, f"{text!r} is valid, parsed as {expected}"
        err = result.failure()
        assert 1 <= err.column <= len(text) + 1
        assert err.message
    else:
        assert expected is not None, f"{text!r} is not in the grammar, yet parsed"
        assert result.unwrap().clauses == expected


CLAUSE_TEXTS = st.builds(
    lambda key, op, values, pad: f"{pad}{key}{pad}{op}{pad}" + f"{pad}|{pad}".join(values) + pad,
    st.sampled_from(["type", "lifecycle", "tag", "tags", "name"]),
    st.sampled_from(["=", "!="]),
    st.lists(st.sampled_from(["tool", "validator", "test", "canary", "stable", "slow", "schema", "pre-commit",
                              "lint", "check-*", "*-a", "?int", "fmt", "*", "check-?", "x*y"]), min_size=1, max_size=3),
    st.sampled_from(["", " ", "\t"]),
)


def _glob(pattern: str, name: str) -> bool:
    """``*`` matches any run, ``?`` any one character (all the generated globs use)."""
    if not pattern:
        return not name
    if pattern[0] == "*":
        return any(_glob(pattern[1:], name[i:]) for i in range(len(name) + 1))
    return bool(name) and pattern[0] in ("?", name[0]) and _glob(pattern[1:], name[1:])


def _reference_keeps(clause_texts: list[str], meta: Meta) -> bool:
    for text in clause_texts:
        negate = "!=" in text
        key, _, rest = text.partition("!=" if negate else "=")
        key, values = key.strip(), [v.strip() for v in rest.split("|")]
        if key == "name":
            hit = any(_glob(v, meta.name) for v in values)
        else:
            have = {"type": {meta.type.value}, "lifecycle": {meta.lifecycle.value}}.get(key, meta.tags)
            hit = any(v in have for v in values)
        if hit == negate:
            return False
    return True


def test_grammar_examples() -> None:
    sel = parse_filter(" type = validator|tool , tags!=slow ").unwrap()
    assert sel.clauses == (Clause("type", ("validator", "tool")), Clause("tag", ("slow",), True))
    assert parse_filter("colour=red").failure().column == 1
    assert parse_filter("type").failure().message.startswith("expected '=' or '!='")
    assert parse_filter("type=a;b").failure().column == 7


META = st.builds(
    Meta,
    name=st.sampled_from(["check-a", "check-b", "lint", "fmt"]),
    type=st.sampled_from(list(ComponentType)),
    lifecycle=st.sampled_from(list(Lifecycle)),
    tags=st.frozensets(st.sampled_from(["pre-commit", "slow", "schema"]), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(SELECTORS, st.lists(META, max_size=6))
def test_filter_by_partitions_in_order(selector: Selector, metas: list[Meta]) -> None:
    comps = [Component(lambda ctx, x: x, m) for m in metas]
    sel = filter_by(selector, comps)
    assert len(sel.kept) + len(sel.dropped) == len(comps)
    assert [c for c in comps if c in sel.kept] == list(sel.kept)
    assert all(why for _, why in sel.dropped)
    assert filter_by(selector & Selector(), comps) == sel


@settings(max_examples=400, deadline=None)
@given(st.lists(CLAUSE_TEXTS, max_size=4), st.lists(META, max_size=6))
def test_filter_by_agrees_with_a_reference_evaluation_of_the_grammar(clauses: list[str], metas: list[Meta]) -> None:
    selector = parse_filter(",".join(clauses)).unwrap()
    comps = [Component(lambda ctx, x: x, m) for m in metas]
    kept = filter_by(selector, comps).kept
    assert [c.meta for c in kept] == [m for m in metas if _reference_keeps(clauses, m)]


def test_negation_alternatives_and_globs_examples() -> None:
    metas = [Meta(name="check-a", tags=frozenset({"slow"})), Meta(name="lint"), Meta(name="check-b", tags=frozenset({"schema"}))]
    comps = [Component(lambda ctx, x: x, m) for m in metas]

    def names(text: str) -> list[str]:
        return [c.name for c in filter_by(parse_filter(text).unwrap(), comps).kept]

    assert names("name=check-*") == ["check-a", "check-b"]
    assert names("name!=check-*") == ["lint"]
    assert names("tag!=slow|schema") == ["lint"]
    assert names("tag=slow|schema") == ["check-a", "check-b"]
    assert names("name=check-?,tag!=slow") == ["check-b"]
    assert names("name=CHECK-*") == []  # globs are case-sensitive
