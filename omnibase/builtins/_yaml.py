"""check-yaml's loader: the reference's own parser, ``ruamel.yaml``.

pre-commit-hooks loads YAML with ``ruamel.yaml.YAML(typ="safe")`` (YAML 1.2, duplicate
keys are errors, anchors may be redefined) from a file opened as UTF-8 text. We do
exactly that, on the same decoded text stream, so verdicts agree by construction
(``ruamel.yaml`` is a dependency of omnibase for this reason).

Nothing here touches the disk; ``yaml_error`` takes bytes and returns a message or None.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

__all__ = ["plainly_loadable", "ruamel_available", "yaml_error", "yaml_error_ruamel"]

_RUAMEL: list[Any] = []  # [module or None], filled on first use


def _ruamel() -> Any:
    if not _RUAMEL:
        import importlib

        try:
            _RUAMEL.append(importlib.import_module("ruamel.yaml"))
        except ImportError:
            _RUAMEL.append(None)
    return _RUAMEL[0]


def ruamel_available() -> bool:
    """Whether check-yaml runs on ``ruamel.yaml`` (exact parity with the reference)."""
    return _ruamel() is not None


def yaml_error(content: bytes, path: str, *, multi: bool, unsafe: bool) -> str | None:
    """The reason ``content`` is not loadable YAML (the reference's message), or None.
    A file in the plain subset ``plainly_loadable`` recognises loads: no parser needed."""
    if plainly_loadable(content):
        return None
    return yaml_error_ruamel(content, path, multi=multi, unsafe=unsafe)


#: A line of the plain subset: a key (a letter, then letters, digits, ``_``, ``-``; far
#: below the 1024 characters an implicit key may have) with a plain value or none, or a
#: sequence item with a plain value. A value is either a letter followed by letters,
#: digits, spaces, ``_``, ``.``, ``/``, ``-`` (no indicator: ``:`` ``#`` ``&`` ``*`` ``!``
#: ``|`` ``>`` quotes, brackets, braces, ``%``, ``@``, backquote; so one plain scalar on
#: one line, which the core schema reads as a string, a bool or null, all of which
#: construct), or digits with at most one decimal part (an int or a float, which
#: construct; no timestamp, underscore or sign, whose construction can fail).
_VALUE = rb"(?:[A-Za-z][A-Za-z0-9_./ -]*|[0-9]+(?:\.[0-9]+)?)"
_KEY_LINE = re.compile(rb"( *)([A-Za-z][A-Za-z0-9_-]{0,127}):(?: +(" + _VALUE + rb"))? *")
_ITEM_LINE = re.compile(rb"( *)- +" + _VALUE + rb" *")
_COMMENT_OR_BLANK = re.compile(rb" *(#.*)?")
#: Only printable ASCII and LF: no tab, CR, BOM, control or non-ASCII character (the
#: reader rejects some of those; the others change how lines split or indent).
_PRINTABLE = re.compile(rb"[\x20-\x7e\n]*")
#: Keys that YAML 1.2's core schema reads as something other than their text (so two
#: different spellings could be one key); a plain-subset key of another spelling is a str.
_NOT_TEXT = frozenset({b"true", b"false", b"null"})
_MAX_DEPTH = 64


def plainly_loadable(content: bytes) -> bool:
    """Whether ``content`` is in a plain subset of YAML that the reference's loader
    (``ruamel.yaml`` safe, YAML 1.2) provably loads without error, in every mode
    check-yaml has (one document, all documents, parse only): block mappings and block
    sequences of one-line plain scalars, nested by indentation, with comments and blank
    lines; no key twice in a mapping. False means only "not shown here": the parser
    decides. Why each rule holds is in ``_KEY_LINE``, ``_PRINTABLE``, ``_NOT_TEXT``;
    the structure rules: the first line at column 0; a nested block only right after a
    key with no value, indented deeper; any other line at the indentation of an open
    block, of that block's kind (so no continuation line, no sequence at its key's
    indentation, no stray indentation). ``tests/builtins/test_yaml.py`` holds the
    subset to the parser on generated documents and near misses.
    """
    if not content or not content.isascii() or _PRINTABLE.fullmatch(content) is None:
        return False
    blocks: list[tuple[int, bool, set[bytes]]] = []  # (indent, is a mapping, its keys)
    opened_by_key = -1  # indentation of a key with no value on the line before (-1: none)
    key_line, item_line, comment_or_blank = _KEY_LINE.fullmatch, _ITEM_LINE.fullmatch, _COMMENT_OR_BLANK.fullmatch
    for line in content.split(b"\n"):
        # the three kinds of line exclude one another (a letter, a dash, or neither after
        # the indentation): the most common is tried first
        key = key_line(line)
        item = None if key else item_line(line)
        if key is None and item is None:
            if comment_or_blank(line):
                continue
            return False
        indent = len((key or item).group(1))  # type: ignore[union-attr]
        is_map = key is not None
        if not blocks:
            if indent != 0:
                return False
            blocks.append((0, is_map, set()))
        elif opened_by_key >= 0 and indent > opened_by_key:
            if len(blocks) >= _MAX_DEPTH:
                return False
            blocks.append((indent, is_map, set()))
        else:
            while blocks and blocks[-1][0] > indent:
                blocks.pop()
            if not blocks or blocks[-1][0] != indent or blocks[-1][1] != is_map:
                return False
        opened_by_key = -1
        if key is not None:
            name = key.group(2)
            keys = blocks[-1][2]
            if name in keys or name.lower() in _NOT_TEXT:
                return False
            keys.add(name)
            if key.group(3) is None:
                opened_by_key = indent
    return bool(blocks)


class _NamedBytes(io.BytesIO):
    # a text wrapper reports its buffer's name; the reference's marks name the file
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _exhaust(items: Any) -> None:
    for _ in items:
        pass


def yaml_error_ruamel(content: bytes, path: str, *, multi: bool, unsafe: bool) -> str | None:
    """``yaml_error`` on ruamel.yaml, as the reference calls it on a file of its own."""
    ruamel = _ruamel()
    # A fresh loader per file: the reference shares one across a batch of files, and a
    # ``%YAML 1.1`` directive then leaks into the files after it (which files share a
    # batch is up to pre-commit). Ours is the reference's verdict on the file alone.
    loader = ruamel.YAML(typ="safe")
    # open(path, encoding="UTF-8") in the reference: strict UTF-8, universal newlines
    stream = io.TextIOWrapper(_NamedBytes(content, path), encoding="UTF-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate anchors etc. only warn
            if unsafe:
                _exhaust(loader.parse(stream))
            elif multi:
                _exhaust(loader.load_all(stream))
            else:
                loader.load(stream)
    except ruamel.YAMLError as exc:
        return str(exc)
    except Exception as exc:  # the reference crashes (and so fails) on these
        return f"{path}: {type(exc).__name__}: {exc}"
    return None
