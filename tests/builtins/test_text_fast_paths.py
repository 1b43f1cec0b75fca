"""The whole-buffer tests the text checks make before any per-line work decide as the
reference's per-line work does (pre-commit-hooks 6.0.0), on every short content made of
the bytes that matter (each whitespace byte, CR, LF, a letter, a non-ASCII byte)."""

from __future__ import annotations

import io
import itertools

from pre_commit_hooks import trailing_whitespace_fixer as ref_trailing

from omnibase.builtins import fix_trailing_whitespace
from omnibase.builtins._fixers import _any_trailing_ws

ALPHABET = [b"a", b" ", b"\t", b"\r", b"\n", b"\x0b", b"\x0c", b"\x85"]


def _contents(longest: int) -> list[bytes]:
    return [b"".join(t) for k in range(longest + 1) for t in itertools.product(ALPHABET, repeat=k)]


def _reference_changes(content: bytes) -> bool:
    lines = io.BytesIO(content).readlines()  # as the reference reads the file
    return [ref_trailing._process_line(line, False, None) for line in lines] != lines


def test_trailing_whitespace_is_found_where_the_reference_strips_some() -> None:
    for content in _contents(5):  # 37,449 contents
        assert _any_trailing_ws(content) == _reference_changes(content), content


def test_a_clean_file_is_given_back_as_it_is() -> None:
    clean = b"def f():\r\n    return 1\r\n\n\tx = 2\n\x85\n\r\n"
    assert not _any_trailing_ws(clean)
    assert fix_trailing_whitespace(clean) is clean  # no copy made
    assert fix_trailing_whitespace(b"a \r\r\nb\x0c\n") == b"a\r\nb\n"

