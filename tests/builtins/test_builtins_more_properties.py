"""Property tests: on generated files the opt-in fixers (and the Python checks) agree with
pre-commit-hooks 6.0.0 byte for byte, and fixing twice changes nothing more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.builtins._builtins_ref import ODD_BREAKS, reference_on_bytes

from omnibase.builtins import CHECKS, options_from_args
from omnibase.builtins._output import hook_output

SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("more-props")


def _agree(check: str, name: str, data: bytes, folder: Path, args: list[str] = (), *, again: bool = True) -> None:
    """Ours and the reference agree on ``data``, and again on what the fix made of it:
    where the reference is not idempotent (a BOM after a BOM; sort-simple-yaml's blank
    files; requirements-txt-fixer on a dangling line continuation) we follow it run for
    run, and where it is, so are we."""
    ours = CHECKS[check].fn(name, data, options_from_args(check, list(args)))
    ref = reference_on_bytes(check, name, data, folder, list(args))
    assert ours.ok == (ref.code == 0), (ours.findings, ref.out)
    assert (ours.edit.content if ours.edit else data) == ref.content
    if ours.edit is not None and again:
        _agree(check, name, ours.edit.content, folder, args, again=False)


LINE_BITS = [b"a", b"B", b"req", b"==1.0", b">=2", b" ", b"\t", b"#", b"# c", b"\\", b"\r", b"\n", b"\r\n",
             b"-e git+x#egg=", b"pkg-resources==0.0.0", b";", b"\xef\xbb\xbf", b"\xff", b"'", b'"', b":", b"k: v"]
TEXTY = st.lists(st.sampled_from(LINE_BITS), max_size=30).map(b"".join)


@SETTINGS
@given(TEXTY, st.sampled_from([[], ["--ignore-case"], ["--unique"]]))
def test_file_contents_sorter(scratch: Path, data: bytes, args: list[str]):
    _agree("file-contents-sorter", "f.txt", data, scratch, args)


@SETTINGS
@given(TEXTY)
def test_requirements_txt_fixer(scratch: Path, data: bytes):
    _agree("requirements-txt-fixer", "requirements.txt", data, scratch)


@SETTINGS
@given(TEXTY)
def test_fix_byte_order_marker(scratch: Path, data: bytes):
    _agree("fix-byte-order-marker", "f.txt", data, scratch)


YAML_LINES = st.lists(st.sampled_from(["", "# c", "a: 1", "b: 2", "'q': 3", '"z": 4', "  nested: x", "c:  ", "# h"]),
                      max_size=14)


@SETTINGS
@given(YAML_LINES, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_sort_simple_yaml(scratch: Path, lines: list[str], eol: str, final: bool):
    data = (eol.join(lines) + (eol if final else "")).encode()
    _agree("sort-simple-yaml", "f.yaml", data, scratch)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, width=32) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "name", "é", "Z"]), inner,
                                                                  max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(JSON_VALUES, st.sampled_from([None, 0, 2, 4, "\t"]), st.booleans(),
       st.sampled_from([[], ["--autofix"], ["--autofix", "--no-sort-keys"], ["--autofix", "--top-keys=name,b"],
                        ["--autofix", "--no-ensure-ascii", "--indent", "3"]]))
def test_pretty_format_json(scratch: Path, value: object, indent: object, sort: bool, args: list[str]):
    data = json.dumps(value, indent=indent, sort_keys=sort, ensure_ascii=False).encode()
    _agree("pretty-format-json", "f.json", data, scratch, args)


PY_BITS = ['x = "a"', "y = 'b'", 'z = ""', 'w = "it\'s"', 'd = """doc"""', "'''s'''", 'b"x"', 'f"{a}"', 'rb"\\d"',
           '"""Doc."""', "import os", "import pdb", "from ipdb import x", "breakpoint()", "list()", "dict(a=1)",
           "f(dict())", "t = tuple()", "# comment", "", "def f():", "    pass", '    "in"', "\x0c", "u = 'é'"]
PY_SOURCES = st.lists(st.sampled_from(PY_BITS), max_size=12).map(lambda ls: ("\n".join(ls) + "\n").encode())


@SETTINGS
@given(PY_SOURCES, st.sampled_from(["", "\x0c", "\r", "\u2028"]))
def test_double_quote_string_fixer(scratch: Path, data: bytes, odd: str):
    import ast

    data = data.replace(b"\n", odd.encode() + b"\n", 1) if odd else data
    if not any(c in data.decode() for c in ODD_BREAKS):  # elsewhere we differ on purpose
        _agree("double-quote-string-fixer", "f.py", data, scratch)
        return
    verdict = CHECKS["double-quote-string-fixer"].fn("f.py", data, options_from_args("double-quote-string-fixer", []))
    try:
        before = ast.dump(ast.parse(data))
    except SyntaxError:
        return
    after = verdict.edit.content if verdict.edit else data
    assert ast.dump(ast.parse(after)) == before  # only the quoting changed


@SETTINGS
@given(PY_SOURCES, st.sampled_from(["check-docstring-first", "debug-statements", "check-builtin-literals"]))
def test_python_checks(scratch: Path, data: bytes, check: str):
    ours = CHECKS[check].fn("f.py", data, options_from_args(check, []))
    ref = reference_on_bytes(check, "f.py", data, scratch)
    assert ours.ok == (ref.code == 0)
    if not ref.crashed and "Could not parse" not in ref.out:
        assert "".join(f.message + "\n" for f in ours.findings) == ref.out


def _utf7_spelled(text: str, spelled: list[bool]) -> bytes:
    """``text`` as UTF-7 bytes, each ASCII letter whose flag is set spelled in the
    encoded form (``p`` as ``+AHA-``): the same text to a decoder, other bytes."""
    import base64

    out = []
    for i, c in enumerate(text):
        if c.isascii() and c.isalpha() and spelled[i % len(spelled)]:
            out.append("+" + base64.b64encode(c.encode("utf-16-be")).decode().rstrip("=") + "-")
        else:
            out.append(c.encode("utf-7").decode("ascii"))
    return "".join(out).encode("ascii")


@SETTINGS
@given(PY_SOURCES, st.lists(st.booleans(), min_size=1, max_size=16), st.sampled_from([
    "# coding: utf-7\n", "#!/usr/bin/env python\n# -*- coding: utf-7 -*-\n", "# vim: fileencoding=utf-7\r\n"]))
def test_debug_statements_read_the_source_as_its_coding_cookie_says(scratch: Path, data: bytes, spelled: list[bool],
                                                                      cookie: str):
    source = cookie.encode() + _utf7_spelled(data.decode(), spelled)
    ours = CHECKS["debug-statements"].fn("f.py", source, options_from_args("debug-statements", []))
    ref = reference_on_bytes("debug-statements", "f.py", source, scratch)
    assert ours.ok == (ref.code == 0), (source, ref.out)
    if not ref.crashed and "Could not parse" not in ref.out:
        assert "".join(f.message + "\n" for f in ours.findings) == ref.out


XMLISH = st.lists(st.sampled_from([b"<a>", b"</a>", b"<b/>", b"&amp;", b"&x;", b"<?xml version='1.0'?>", b"x", b"\xff",
                                   b"<!--c-->", b"<![CDATA[", b"]]>", b" ", b"\n", b"<!DOCTYPE a>"]), max_size=12).map(b"".join)
LINKS = st.lists(st.sampled_from([b"https://github.com/", b"a/b/blob/", b"main/", b"0123abcd/", b"x.py", b"#L1", b" ",
                                  b"\n", b"\r\n", b"\xff", b"git.example.com/"]), max_size=14).map(b"".join)
#: whole links too, so that most files have something to find (fragments alone rarely line up)
WHOLE_LINKS = [b"https://github.com/a/b/blob/main/x.py#L1", b"https://git.example.com/o/r/blob/dev/f.txt#L22",
               b"https://github.com/a/b/blob/0123abcd/x.py#L1", b"https://github.com/a/b/blob/v1.2/x.py#L3"]
LINKED = st.lists(st.sampled_from([*WHOLE_LINKS, b"see ", b" ", b"\n", b"\r\n", b"\r", b"\xff", b"#L9"]),
                  max_size=10).map(b"".join)


@SETTINGS
@given(XMLISH)
def test_check_xml(scratch: Path, data: bytes):
    ours = CHECKS["check-xml"].fn("f.xml", data, options_from_args("check-xml", []))
    ref = reference_on_bytes("check-xml", "f.xml", data, scratch)
    assert ours.ok == (ref.code == 0)
    assert "".join(f.message + "\n" for f in ours.findings) == ref.out


@SETTINGS
@given(LINKS | LINKED)
def test_check_vcs_permalinks(scratch: Path, data: bytes):
    args = ["--additional-github-domain=git.example.com"]
    ours = CHECKS["check-vcs-permalinks"].fn("f.md", data, options_from_args("check-vcs-permalinks", args))
    ref = reference_on_bytes("check-vcs-permalinks", "f.md", data, scratch, args)
    assert ours.ok == (ref.code == 0)
    # what is printed (the lines found, in order, and the closing hint): the reference
    # writes each line's own bytes (a CR; no LF after a last line without one, so what
    # follows runs on), so the text is compared, not where lines break
    printed = "\n".join(hook_output("check-vcs-permalinks", options_from_args("check-vcs-permalinks", args), [ours]))
    assert re.sub("[\r\n]", "", printed) == re.sub("[\r\n]", "", ref.out)
