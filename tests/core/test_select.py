"""The filter grammar and filter_by."""

from __future__ import annotations

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


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="type=lifecycle!,|tag name abc*  \t=", max_size=30))
def test_any_text_parses_or_points_at_a_column_inside_it(text: str) -> None:
    result = parse_filter(text)
    if isinstance(result, Failure):
        err = result.failure()
        assert 1 <= err.column <= len(text) + 1
        assert err.message


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
