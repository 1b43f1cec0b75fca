"""Terminal columns: how wide a string is drawn, and how to cut it to a width (pure).

The one rule every view that fits lines to a terminal uses (the human report, the pictures
of a pipeline, the live progress line): a wide character (East Asian ``W``/``F``) takes two
columns; a non-spacing or enclosing mark (``Mn``, ``Me``) and a format character (``Cf``)
take none, except two that terminals draw as one column: the emoji presentation selector
U+FE0F (it makes the symbol before it two wide: ``⚠️`` is 2) and the soft hyphen; a
spacing mark (``Mc``) takes one; everything else one. Escape sequences are not counted:
callers paint after cutting.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["char_width", "clip", "width_of"]

_NOT_ASCII = re.compile("[^\x00-\x7f]")


def char_width(ch: str) -> int:
    """Columns one character takes.

    >>> [char_width(c) for c in "a日\\u0301\\ufe0f"]
    [1, 2, 0, 1]
    """
    if ch == "\ufe0f" or ch == "\u00ad":  # drawn one column wide (see the module's text)
        return 1
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width_of(text: str) -> int:
    """Terminal columns ``text`` takes (no escape sequences in it).

    >>> width_of("abc"), width_of("日本"), width_of("✅"), width_of("⚠️")
    (3, 4, 2, 2)
    """
    if text.isascii():  # every ASCII character is one column (none is wide, a mark or Cf)
        return len(text)
    return len(text) + sum(char_width(c) - 1 for c in _NOT_ASCII.findall(text))  # only those are asked


def clip(text: str, width: int, mark: str = "...") -> str:
    """``text`` cut to at most ``width`` columns, ending in ``mark`` when cut.

    >>> clip("abcdefgh", 6), clip("日本語テキスト", 7, "…"), clip("short", 10)
    ('abc...', '日本語…', 'short')
    """
    if width_of(text) <= width:
        return text
    room = width - width_of(mark)
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + mark
