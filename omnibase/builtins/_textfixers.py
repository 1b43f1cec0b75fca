"""The sorting and formatting fixers of pre-commit-hooks 6.0.0 as pure functions.

fix-byte-order-marker, file-contents-sorter, requirements-txt-fixer, sort-simple-yaml and
pretty-format-json: a byte (or text) transform each, and the check wrapping it, which
returns the change as ``Verdict.edit`` and never writes. Each agrees byte for byte with the
reference hook; where the reference crashes on a file (text that does not decode, a
requirement line it cannot name), ours fails with a reason and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from omnibase.builtins._recursion import JSON_BUDGET, with_budget
from omnibase.builtins._values import Edit, Finding, NoOpts, PrettyJsonOpts, SorterOpts, Verdict

__all__ = [
    "file_contents_sorter",
    "fix_byte_order_marker",
    "fix_requirements",
    "pretty_format_json",
    "pretty_json",
    "requirements_txt_fixer",
    "sort_lines",
    "sort_simple_yaml",
    "sort_yaml_lines",
]

BOM = b"\xef\xbb\xbf"


def _result(check: str, path: str, content: bytes, new: bytes | None, message: str) -> Verdict:
    """Passing when ``new`` is ``content``; failing with the edit otherwise; failing
    without one when ``new`` is None (``message`` says why)."""
    if new == content:
        return Verdict(check=check, path=path, ok=True)
    edit = None if new is None else Edit.make(path, content, new)
    return Verdict(check=check, path=path, ok=False, findings=(Finding(path=path, message=message),), edit=edit)


def _crash(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


def _binary_lines(content: bytes) -> list[bytes]:
    """Lines as iterating a binary file yields them: split after each LF."""
    parts = content.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _universal(text: str) -> str:
    """Text as a file opened in text mode reads it: CRLF and CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- fix-byte-order-marker -------------------------------------------------------------


def fix_byte_order_marker(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """A leading UTF-8 byte-order marker is removed (the rest must be UTF-8)."""
    if not content.startswith(BOM):
        return Verdict(check="fix-byte-order-marker", path=path, ok=True)
    try:
        content[3:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return _result("fix-byte-order-marker", path, content, None, f"{path}: {_crash(exc)}")
    return _result("fix-byte-order-marker", path, content, content[3:], f"{path}: removed byte-order marker")


# --- file-contents-sorter --------------------------------------------------------------


def sort_lines(content: bytes, *, ignore_case: bool = False, unique: bool = False) -> bytes:
    """The non-blank lines, without their line endings, sorted (by bytes; folded to lower
    case with ``ignore_case``; each once with ``unique``), each ended by LF."""
    kept = [line.rstrip(b"\r\n") for line in _binary_lines(content) if line.strip()]
    key: Callable[[bytes], bytes] | None = bytes.lower if ignore_case else None
    ordered = sorted(set(kept) if unique else kept, key=key)
    return b"\n".join(ordered) + b"\n" if ordered else b""


def file_contents_sorter(path: str, content: bytes, opts: SorterOpts) -> Verdict:
    """file-contents-sorter: see ``sort_lines``."""
    new = sort_lines(content, ignore_case=opts.ignore_case, unique=opts.unique)
    return _result("file-contents-sorter", path, content, new, f"Sorting {path}")


# --- requirements-txt-fixer ------------------------------------------------------------

_UNTIL_COMPARISON = re.compile(b"={2,3}|!=|~=|>=?|<=?")
_UNTIL_SEP = re.compile(rb"[^;\s]+")
_PKG_RESOURCES = (b"pkg-resources==0.0.0\n", b"pkg_resources==0.0.0\n")


class _Requirement:
    """One requirement: its (possibly continued) lines and the comment lines above it."""

    __slots__ = ("comments", "value")

    def __init__(self) -> None:
        self.value: bytes | None = None
        self.comments: list[bytes] = []

    def name(self) -> bytes:
        value = self.value or b""
        lowered = value.lower()
        for egg in (b"#egg=", b"&egg="):
            if egg in value:
                return lowered.partition(egg)[2]
        found = _UNTIL_SEP.match(lowered)
        if found is None:  # e.g. a line that starts with a space: the reference asserts
            raise ValueError(f"cannot name the requirement {value!r}")
        head = found.group()
        cut = _UNTIL_COMPARISON.search(head)
        return head if cut is None else head[: cut.start()]

    def __lt__(self, other: _Requirement) -> bool:
        # a blank value marks the comment block at the top of the file: it stays first
        if self.value == b"\n":
            return True
        if other.value == b"\n":
            return False
        mine, theirs = self.name(), other.name()
        if mine == theirs:  # the one with comments first, so it survives de-duplication
            return bool(self.comments) > bool(other.comments)
        return mine < theirs

    def complete(self) -> bool:
        return self.value is not None and not self.value.rstrip(b"\r\n").endswith(b"\\")


def fix_requirements(content: bytes) -> bytes:
    """Requirements sorted by name (comment lines travel with the requirement below
    them; a top comment block stays on top; exact duplicates and ``pkg-resources==0.0.0``
    dropped; the last line ended). ``ValueError`` for a line that names no requirement."""
    lines = _binary_lines(content)
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    if not content.strip():
        return content
    reqs: list[_Requirement] = []
    for line in lines:
        if not reqs or reqs[-1].complete():
            reqs.append(_Requirement())
        req = reqs[-1]
        blank = not line.strip()
        if len(reqs) == 1 and blank:
            if req.comments and req.comments[0].startswith(b"#"):
                req.value = b"\n"
            else:
                req.comments.append(line)
        elif blank or line.lstrip().startswith(b"#"):
            req.comments.append(line)
        else:
            req.value = line if req.value is None else req.value + line
    tail = reqs.pop().comments if reqs[-1].value is None else []
    out: list[bytes] = []
    previous: bytes | None = None
    for req in sorted(r for r in reqs if r.value not in _PKG_RESOURCES):
        out.extend(req.comments)
        if previous is None or req.value != previous:
            out.append(req.value or b"")
            previous = req.value
    out.extend(tail)
    return b"".join(out)


def requirements_txt_fixer(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """requirements-txt-fixer: see ``fix_requirements``."""
    try:
        new: bytes | None = fix_requirements(content)
        message = f"Sorting {path}"
    except ValueError as exc:
        new, message = None, f"{path}: {exc}"
    return _result("requirements-txt-fixer", path, content, new, message)


# --- sort-simple-yaml ------------------------------------------------------------------


def _take_block(lines: list[str], start: int, *, header: bool) -> int:
    """The end of the block from ``start``: up to a blank line (the header: up to the
    first line that is not a comment)."""
    end = start
    while end < len(lines) and lines[end] and (not header or lines[end].startswith("#")):
        end += 1
    return end


def _first_key(block: list[str]) -> str:
    for line in block:
        if not line.startswith("#"):
            return line[1:] if line[:1] in ("'", '"') else line
    return ""


def sort_yaml_lines(lines: list[str]) -> list[str]:
    """The header comment block, then the blank-line-separated blocks sorted by their
    first key (one leading quote ignored), one blank line between blocks."""
    end = _take_block(lines, 0, header=True)
    out = lines[:end]
    blocks = []
    i = end
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        stop = _take_block(lines, i, header=False)
        blocks.append(lines[i:stop])
        i = stop
    for block in sorted(blocks, key=_first_key):
        if out:
            out.append("")
        out.extend(block)
    return out


def sort_simple_yaml(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """sort-simple-yaml: the file's lines (UTF-8 text, trailing whitespace removed) sorted
    by ``sort_yaml_lines``; a changed file is rewritten with LF line endings."""
    try:
        text = _universal(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _result("sort-simple-yaml", path, content, None, f"{path}: {_crash(exc)}")
    parts = text.split("\n")
    lines = [line.rstrip() for line in (parts[:-1] if not parts[-1] else parts)]
    new_lines = sort_yaml_lines(lines)
    if new_lines == lines:
        return Verdict(check="sort-simple-yaml", path=path, ok=True)
    new = ("\n".join(new_lines) + "\n").encode("utf-8")
    # the reference rewrites the file in place, so it fails even when the bytes come out equal
    edit = Edit.make(path, content, new)
    finding = Finding(path=path, message=f"Fixing file `{path}`")
    return Verdict(check="sort-simple-yaml", path=path, ok=False, findings=(finding,),
                   edit=edit if new != content else None)


# --- pretty-format-json ----------------------------------------------------------------


def pretty_json(text: str, opts: PrettyJsonOpts) -> str:
    """``text`` re-serialised: ``opts.top_keys`` first in their order, then the other keys
    (sorted unless ``sort_keys`` is off; sorting compares (key, value) pairs, so duplicate
    keys with values that do not compare raise ``TypeError`` as in the reference),
    indented by ``opts.indent``, ending with LF. ``ValueError`` if not JSON."""
    import json

    top = list(opts.top_keys)

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        first = sorted((p for p in items if p[0] in top), key=lambda p: top.index(p[0]))
        rest = [p for p in items if p[0] not in top]
        if opts.sort_keys:
            rest.sort()  # pairs compare by key, then value
        return dict(first + rest)

    def dump() -> str:
        value = json.loads(text, object_pairs_hook=pairs)
        return json.dumps(value, indent=opts.indent, ensure_ascii=opts.ensure_ascii)

    return with_budget(JSON_BUDGET, dump) + "\n"


def _text_diff(before: str, after: str, path: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), fromfile=path, tofile=path))


def pretty_format_json(path: str, content: bytes, opts: PrettyJsonOpts) -> Verdict:
    """pretty-format-json: fails when the file (UTF-8, read with universal newlines) is
    not formatted as ``pretty_json`` would; with ``autofix`` the edit is the formatted
    text, otherwise the finding is the diff."""
    check = "pretty-format-json"
    try:
        text = _universal(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _result(check, path, content, None, f"{path}: {_crash(exc)}")
    try:
        pretty = pretty_json(text, opts)
    except ValueError:
        return _result(check, path, content, None, f"Input File {path} is not a valid JSON, consider using check-json")
    except Exception as exc:  # TypeError, RecursionError: the reference crashes
        return _result(check, path, content, None, f"{path}: {_crash(exc)}")
    if pretty == text:
        return Verdict(check=check, path=path, ok=True)
    if not opts.autofix:
        return _result(check, path, content, None, _text_diff(text, pretty, path).rstrip("\n"))
    try:
        new = pretty.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate kept by ensure_ascii=False
        # the reference truncates the file before it fails to write it; we leave it alone
        return _result(check, path, content, None, f"{path}: {_crash(exc)}")
    finding = Finding(path=path, message=f"Fixing file {path}")
    return Verdict(check=check, path=path, ok=False, findings=(finding,),
                   edit=Edit.make(path, content, new) if new != content else None)
