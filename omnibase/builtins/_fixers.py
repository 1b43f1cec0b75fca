"""The three fixers as pure functions: a byte transform each, and the check wrapping it.

Each agrees byte for byte with the pre-commit-hooks 6.0.0 hook of the same name. The
check returns the change as ``Verdict.edit`` (the whole new content) and never writes.
"""

from __future__ import annotations

from omnibase.builtins._values import (
    failed,
    passed,
    Edit,
    EndOfFileOpts,
    Finding,
    MixedLineEndingOpts,
    TrailingWhitespaceOpts,
    Verdict,
)

__all__ = [
    "end_of_file_fixer",
    "fix_end_of_file",
    "fix_line_endings",
    "fix_trailing_whitespace",
    "mixed_line_ending",
    "trailing_whitespace",
]

_ok, _fail = passed, failed  # the two verdicts most checks give


def fix_end_of_file(content: bytes) -> bytes:
    """Empty stays empty; only line breaks becomes empty; otherwise exactly one final
    line break, keeping the first of the trailing ones (LF, CRLF or CR)."""
    end = len(content)
    while end and content[end - 1] in b"\r\n":  # the trailing run is short: no copy of the file
        end -= 1
    if not content:
        return content
    if not end:
        return b""
    if end == len(content):
        return content + b"\n"
    tail = content[end:]
    if tail in (b"\n", b"\r\n", b"\r"):
        return content
    if tail.startswith(b"\n"):
        return content[:end] + b"\n"
    return content[:end] + (b"\r\n" if tail.startswith(b"\r\n") else b"\r")


def _fixed(check: str, path: str, content: bytes, new: bytes, message: str) -> Verdict:
    if new == content:
        return _ok(check, path)
    finding = Finding(path=path, message=message)
    return Verdict(check=check, path=path, ok=False, findings=(finding,), edit=Edit.make(path, content, new))


def end_of_file_fixer(path: str, content: bytes, opts: EndOfFileOpts) -> Verdict:
    """end-of-file-fixer: see ``fix_end_of_file``."""
    return _fixed("end-of-file-fixer", path, content, fix_end_of_file(content), f"Fixing {path}")


_ASCII_WS = b" \t\x0b\x0c\r"  # bytes.rstrip()'s set, less the LF that splits lines
#: How a CRLF line with trailing whitespace ends: its CR is the line ending, so what
#: comes before that CR is the whitespace (a CR too).
_BEFORE_CRLF = tuple(bytes([w]) + b"\r\n" for w in _ASCII_WS)


def _any_trailing_ws(content: bytes) -> bool:
    """Whether stripping ASCII whitespace from its LF-split lines would change ``content``,
    asked of the whole buffer (no line built): a space before LF (what a finding usually
    is: one scan), a tab, vertical tab or form feed before LF (each pair looked for only
    when the byte occurs at all: a ``memchr``), whitespace before a CRLF (only when there
    is a CR), or whitespace at the very end (a last line with no LF)."""
    if content[-1:] and content[-1] in _ASCII_WS:
        return True
    return (
        b" \n" in content
        or (b"\t" in content and b"\t\n" in content)
        or (b"\x0b" in content and b"\x0b\n" in content)
        or (b"\x0c" in content and b"\x0c\n" in content)
        or (b"\r" in content and any(pair in content for pair in _BEFORE_CRLF))
    )  # written out: a loop over the three pairs costs as much as the scans of a small file


def fix_trailing_whitespace(content: bytes, *, markdown: bool = False, chars: bytes | None = None) -> bytes:
    """Strips ``chars`` (default: ASCII whitespace, so also a lone CR or a form feed)
    from the end of every LF-terminated line, keeping its LF or CRLF. In markdown, a
    non-blank line's final two spaces (a hard line break) stay."""
    if not markdown and chars is None and not _any_trailing_ws(content):
        return content  # the common case: found without building anything
    lines = content.split(b"\n")
    out = []
    last = len(lines) - 1
    for i, line in enumerate(lines):
        eol = b""
        if i != last:
            if line.endswith(b"\r"):
                line, eol = line[:-1], b"\r\n"
            else:
                eol = b"\n"
        if markdown and not line.isspace() and line.endswith(b"  "):
            out.append(line[:-2].rstrip(chars) + b"  " + eol)
        else:
            out.append(line.rstrip(chars) + eol)
    return b"".join(out)


def _is_markdown(path: str, exts: tuple[str, ...]) -> bool:
    import os

    if not exts:
        return False
    # as the reference normalises --markdown-linebreak-ext: split at ',', one leading '.'
    wanted = {"." + e.lower().lstrip(".") for e in ",".join(exts).split(",")}
    return "*" in exts or os.path.splitext(path.lower())[1] in wanted


def trailing_whitespace(path: str, content: bytes, opts: TrailingWhitespaceOpts) -> Verdict:
    """trailing-whitespace: see ``fix_trailing_whitespace``."""
    chars = None if opts.chars is None else opts.chars.encode()
    new = fix_trailing_whitespace(content, markdown=_is_markdown(path, opts.markdown_linebreak_ext), chars=chars)
    return _fixed("trailing-whitespace", path, content, new, f"Fixing {path}")


_ENDINGS = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}


def fix_line_endings(content: bytes, fix: str = "auto") -> tuple[bool, bytes]:
    """Whether ``content`` needs fixing under ``fix``, and the fixed bytes.

    ``auto``: mixed endings become the most common one (ties: LF, then CRLF, then CR),
    ``no``: report mixed endings only; ``lf``/``crlf``/``cr``: any other ending is
    replaced. A fix also ends the last line, as the reference does.
    """
    if fix in ("no", "auto", "lf") and b"\r" not in content:  # only LF endings: one scan, no count
        return False, content
    crlf = content.count(b"\r\n")
    counts = {b"\r": content.count(b"\r") - crlf, b"\r\n": crlf, b"\n": content.count(b"\n") - crlf}
    mixed = sum(1 for n in counts.values() if n) > 1
    if fix in ("no", "auto") and not mixed:
        return mixed, content
    if fix == "no":
        return True, content
    if fix == "auto":
        ending, most = b"\n", 0
        for candidate in (b"\r", b"\r\n", b"\n"):  # >= : the later candidate wins ties
            if counts[candidate] >= most:
                ending, most = candidate, counts[candidate]
    else:
        ending = _ENDINGS[fix]
        if not any(n for e, n in counts.items() if e != ending):
            return False, content
    return True, b"".join(line + ending for line in content.splitlines())


def mixed_line_ending(path: str, content: bytes, opts: MixedLineEndingOpts) -> Verdict:
    """mixed-line-ending: see ``fix_line_endings``."""
    needed, new = fix_line_endings(content, opts.fix)
    if not needed:
        return _ok("mixed-line-ending", path)
    if opts.fix == "no":
        return _fail("mixed-line-ending", path, f"{path}: mixed line endings")
    finding = Finding(path=path, message=f"{path}: fixed mixed line endings")
    edit = Edit.make(path, content, new)
    return Verdict(check="mixed-line-ending", path=path, ok=False, findings=(finding,), edit=edit)
