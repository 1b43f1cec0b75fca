"""Terminal columns: one rule for the human report, the pictures and the progress line."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from omnibase.core.columns import clip, width_of


def test_widths_of_characters_a_terminal_draws() -> None:
    assert width_of("") == 0
    assert width_of("plain") == 5
    assert width_of("日本語") == 6  # wide
    assert width_of("e\u0301") == 1  # a non-spacing mark takes no column
    assert width_of("\u20dd") == 0  # an enclosing mark neither
    assert width_of("a\u200bb") == 2  # a zero-width space (Cf) neither
    assert width_of("⚠️") == 2  # the emoji selector makes the symbol two wide
    assert width_of("co\u00adop") == 5  # the soft hyphen is drawn
    assert width_of("\u0903") == 1  # a spacing mark (Mc) takes its column
    assert width_of("\U0001d165") == 1  # ... even one with a combining class


def test_clip_cuts_to_the_width_with_the_mark() -> None:
    assert clip("abcdefgh", 8) == "abcdefgh"
    assert clip("abcdefgh", 7) == "abcd..."
    assert clip("abcdefgh", 5, "…") == "abcd…"
    assert clip("日本語テキスト", 8) == "日本..."  # a wide character never split across the edge
    assert clip("日本語テキスト", 6, "…") == "日本…"


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)


@given(printable, st.integers(3, 50), st.sampled_from(["...", "…"]))
def test_clip_never_exceeds_the_width_and_keeps_a_prefix(text: str, width: int, mark: str) -> None:
    out = clip(text, width, mark)
    assert width_of(out) <= width
    if out != text:
        assert out.endswith(mark) and text.startswith(out[: -len(mark)])
    else:
        assert width_of(text) <= width


@given(printable)
def test_width_is_the_sum_of_the_characters(text: str) -> None:
    expected = 0
    for c in text:  # the rule written out independently of the module
        if c in "\ufe0f\u00ad":
            expected += 1
        elif unicodedata.category(c) in ("Mn", "Me", "Cf"):
            pass
        else:
            expected += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    assert width_of(text) == expected


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_takes_a_column_per_character_as_the_rule_says(text: str) -> None:
    """``width_of``'s shortcut for ASCII text gives what the per-character rule gives."""
    from omnibase.core.columns import char_width

    assert width_of(text) == sum(char_width(c) for c in text) == len(text)


@given(st.text(alphabet=st.one_of(st.characters(max_codepoint=127), st.characters(), st.sampled_from("✅⏭️⚠️日\u0301\u00ad\u200b"))))
def test_any_text_is_as_wide_as_its_characters_by_the_rule(text: str) -> None:
    """``width_of`` asks the rule about the non-ASCII characters only: the same sum."""
    from omnibase.core.columns import char_width

    assert width_of(text) == sum(char_width(c) for c in text)
