"""The three fixers on concrete bytes, each expected value written out by hand (what
pre-commit-hooks 6.0.0 gives: the property tests in test_builtins_properties.py compare
with the reference itself on random input; these name the cases a user meets and run in
milliseconds), and the verdicts that carry their edits."""

from __future__ import annotations

import pytest

from omnibase.builtins import (
    end_of_file_fixer,
    fix_end_of_file,
    fix_line_endings,
    fix_trailing_whitespace,
    mixed_line_ending,
    trailing_whitespace,
)
from omnibase.builtins._values import EndOfFileOpts, MixedLineEndingOpts, TrailingWhitespaceOpts, sha256


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"", b""),
        (b"\n", b""),
        (b"\r", b""),
        (b"\r\n\n\r", b""),
        (b"x", b"x\n"),
        (b"x\n", b"x\n"),
        (b"x\r\n", b"x\r\n"),
        (b"x\r", b"x\r"),
        (b"x\n\n\n", b"x\n"),
        (b"x\n\r\n", b"x\n"),
        (b"x\r\n\r\n", b"x\r\n"),
        (b"x\r\n\n", b"x\r\n"),
        (b"x\r\r", b"x\r"),
        (b"x\r\r\n", b"x\r"),
        (b"a\n\nb  \n\n", b"a\n\nb  \n"),
        (b"MAX", b"MAX\n"),  # only line breaks are trailing: not a letter, whichever
    ],
)
def test_end_of_file(before: bytes, after: bytes):
    assert fix_end_of_file(before) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"ok\n", b"ok\n"),
        (b"", b""),
        (b"a \nb\t\n", b"a\nb\n"),
        (b"a \r\nb\r\n", b"a\r\nb\r\n"),
        (b" \r\n", b"\r\n"),
        (b"\r\n", b"\r\n"),
        (b"a\x0c\nb\x0b\n", b"a\nb\n"),
        (b"a\r\r\n", b"a\r\n"),  # a lone CR before the CRLF is whitespace too
        (b"a \r", b"a"),  # the last line, without a line break
        (b"last  ", b"last"),
        (b"a\nlast\t", b"a\nlast"),
        (b"a\xc2\xa0\n", b"a\xc2\xa0\n"),  # a no-break space is not ASCII whitespace
        (b"\t\n  \n", b"\n\n"),
        (b"a  \nb\n", b"a\nb\n"),  # two spaces are no line break outside markdown
        (b"a\nb \nc\n", b"a\nb\nc\n"),  # only a line in the middle
        (b"a\r\nb\t\r\nc\r\n", b"a\r\nb\r\nc\r\n"),
    ],
)
def test_trailing_whitespace(before: bytes, after: bytes):
    assert fix_trailing_whitespace(before) == after


def test_trailing_whitespace_in_markdown_keeps_a_two_space_line_break():
    assert fix_trailing_whitespace(b"a  \nb   \n  \nc \t  \nd \n", markdown=True) == b"a  \nb  \n\nc  \nd\n"
    assert fix_trailing_whitespace(b"a  \r\nend  ", markdown=True) == b"a  \r\nend  "


def test_trailing_whitespace_strips_only_the_given_characters():
    assert fix_trailing_whitespace(b"a\t \nb \t\n", chars=b" ") == b"a\t\nb \t\n"
    assert fix_trailing_whitespace(b"abxx\nc\n", chars=b"x") == b"ab\nc\n"
    assert fix_trailing_whitespace(b"a  x\n", markdown=True, chars=b"x") == b"a  \n"
    # a markdown line break: only the given characters go from before the two spaces
    assert fix_trailing_whitespace(b"a\t  \nbx  \n", markdown=True, chars=b"x") == b"a\t  \nb  \n"


@pytest.mark.parametrize(
    ("before", "fix", "needed", "after"),
    [
        (b"a\nb\n", "auto", False, b"a\nb\n"),
        (b"a\r\nb\r\n", "auto", False, b"a\r\nb\r\n"),
        (b"a\rb\r", "auto", False, b"a\rb\r"),
        (b"a\r\nb\nc\r\n", "auto", True, b"a\r\nb\r\nc\r\n"),
        (b"a\nb\rc\n", "auto", True, b"a\nb\nc\n"),
        (b"a\rb\r\nc\r", "auto", True, b"a\rb\rc\r"),
        (b"a\r\nb\n", "auto", True, b"a\nb\n"),  # a tie: LF first
        (b"a\rb\n", "auto", True, b"a\nb\n"),
        (b"a\rb\r\n", "auto", True, b"a\r\nb\r\n"),  # a tie of CR and CRLF: CRLF
        (b"a\rb\r\nc\n", "auto", True, b"a\nb\nc\n"),
        (b"a\r\nb\r\nc\nd", "auto", True, b"a\r\nb\r\nc\r\nd\r\n"),  # the last line is ended too
        (b"a\r\nb\n", "no", True, b"a\r\nb\n"),
        (b"a\r\nb\r\n", "no", False, b"a\r\nb\r\n"),
        (b"a\nb\n", "no", False, b"a\nb\n"),
        (b"a\r\nb\r\n", "lf", True, b"a\nb\n"),
        (b"a\nb", "lf", False, b"a\nb"),
        (b"a\rb", "lf", True, b"a\nb\n"),
        (b"a\nb\n", "crlf", True, b"a\r\nb\r\n"),
        (b"a\r\nb", "crlf", False, b"a\r\nb"),
        (b"a\r\nb\n", "cr", True, b"a\rb\r"),
        (b"a\rb\r", "cr", False, b"a\rb\r"),
        (b"", "crlf", False, b""),
    ],
)
def test_line_endings(before: bytes, fix: str, needed: bool, after: bytes):
    assert fix_line_endings(before, fix) == (needed, after)


def test_line_endings_default_to_auto():
    assert fix_line_endings(b"a\r\nb\r\nc\n") == (True, b"a\r\nb\r\nc\r\n")


def test_the_fixers_verdicts_carry_the_whole_new_file():
    fixed = end_of_file_fixer("d/x.txt", b"a", EndOfFileOpts())
    assert not fixed.ok and fixed.check == "end-of-file-fixer" and fixed.path == "d/x.txt"
    assert [(f.path, f.message) for f in fixed.findings] == [("d/x.txt", "Fixing d/x.txt")]
    assert fixed.edit is not None
    assert (fixed.edit.path, fixed.edit.original, fixed.edit.content) == ("d/x.txt", b"a", b"a\n")
    assert fixed.edit.original_sha256 == sha256(b"a")
    clean = end_of_file_fixer("x.txt", b"a\n", EndOfFileOpts())
    assert clean.ok and clean.edit is None and clean.findings == () and clean.check == "end-of-file-fixer"
    assert clean.path == "x.txt"

    ws = trailing_whitespace("x.txt", b"a \n", TrailingWhitespaceOpts())
    assert not ws.ok and ws.check == "trailing-whitespace" and ws.path == "x.txt"
    assert [(f.path, f.message) for f in ws.findings] == [("x.txt", "Fixing x.txt")]
    assert ws.edit is not None and (ws.edit.path, ws.edit.content) == ("x.txt", b"a\n")
    ws_clean = trailing_whitespace("x.txt", b"a\n", TrailingWhitespaceOpts())
    assert ws_clean.ok and ws_clean.path == "x.txt" and ws_clean.check == "trailing-whitespace"


@pytest.mark.parametrize(
    ("path", "exts", "after"),
    [
        ("notes.md", ("md",), b"a  \n"),
        ("NOTES.MD", ("md",), b"a  \n"),
        ("notes.md", (".MD,markdown",), b"a  \n"),
        ("notes.markdown", (".MD,markdown",), b"a  \n"),
        ("notes.md", ("txt", "md"), b"a  \n"),
        ("notes.txt", ("*",), b"a  \n"),
        ("notes.txt", ("md",), b"a\n"),
        ("notes.mdx", ("md",), b"a\n"),
        ("md", ("md",), b"a\n"),
        ("notes.md", (), b"a\n"),
    ],
)
def test_markdown_line_breaks_are_kept_in_the_files_named(path: str, exts: tuple[str, ...], after: bytes):
    verdict = trailing_whitespace(path, b"a  \n", TrailingWhitespaceOpts(markdown_linebreak_ext=exts))
    assert (verdict.edit.content if verdict.edit else b"a  \n") == after


def test_trailing_whitespace_with_chars_option():
    verdict = trailing_whitespace("x.txt", b"a\t \n", TrailingWhitespaceOpts(chars=" "))
    assert verdict.edit is not None and verdict.edit.content == b"a\t\n"


def test_mixed_line_ending_verdicts():
    fixed = mixed_line_ending("x.txt", b"a\r\nb\n\n", MixedLineEndingOpts())
    assert not fixed.ok and fixed.check == "mixed-line-ending" and fixed.path == "x.txt"
    assert [(f.path, f.message) for f in fixed.findings] == [("x.txt", "x.txt: fixed mixed line endings")]
    assert fixed.edit is not None
    assert (fixed.edit.path, fixed.edit.original, fixed.edit.content) == ("x.txt", b"a\r\nb\n\n", b"a\nb\n\n")
    told = mixed_line_ending("x.txt", b"a\r\nb\n", MixedLineEndingOpts(fix="no"))
    assert not told.ok and told.edit is None and told.check == "mixed-line-ending"
    assert [(f.path, f.message) for f in told.findings] == [("x.txt", "x.txt: mixed line endings")]
    clean = mixed_line_ending("x.txt", b"a\r\nb\r\n", MixedLineEndingOpts(fix="no"))
    assert clean.ok and clean.findings == () and clean.check == "mixed-line-ending" and clean.path == "x.txt"
    forced = mixed_line_ending("x.txt", b"a\nb\n", MixedLineEndingOpts(fix="crlf"))
    assert forced.edit is not None and forced.edit.content == b"a\r\nb\r\n"
