"""Running the reference (pre-commit-hooks 6.0.0) in-process, and the shared corpus.

The reference hooks are ``main(argv) -> int`` functions that read (and fixers rewrite)
files by name and may consult git in the current directory. ``run_reference`` calls one on
a real file and returns its exit code, what it printed, and the file's bytes afterwards.
A hook that raises counts as exit code 1: under pre-commit a crash fails the hook.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import warnings
from collections.abc import Sequence
from pathlib import Path

import msgspec

from tests.support import git, init_repo  # the reference tests import them from here too

#: our check name -> the reference module that implements it
MODULES = {
    "check-yaml": "check_yaml",
    "check-json": "check_json",
    "check-toml": "check_toml",
    "check-ast": "check_ast",
    "check-merge-conflict": "check_merge_conflict",
    "check-added-large-files": "check_added_large_files",
    "check-case-conflict": "check_case_conflict",
    "detect-private-key": "detect_private_key",
    "end-of-file-fixer": "end_of_file_fixer",
    "trailing-whitespace": "trailing_whitespace_fixer",
    "mixed-line-ending": "mixed_line_ending",
    "check-builtin-literals": "check_builtin_literals",
    "check-docstring-first": "check_docstring_first",
    "check-executables-have-shebangs": "check_executables_have_shebangs",
    "check-shebang-scripts-are-executable": "check_shebang_scripts_are_executable",
    "check-symlinks": "check_symlinks",
    "destroyed-symlinks": "destroyed_symlinks",
    "check-vcs-permalinks": "check_vcs_permalinks",
    "check-xml": "check_xml",
    "debug-statements": "debug_statement_hook",
    "detect-aws-credentials": "detect_aws_credentials",
    "double-quote-string-fixer": "string_fixer",
    "file-contents-sorter": "file_contents_sorter",
    "fix-byte-order-marker": "fix_byte_order_marker",
    "forbid-new-submodules": "forbid_new_submodules",
    "name-tests-test": "tests_should_end_in_test",
    "no-commit-to-branch": "no_commit_to_branch",
    "pretty-format-json": "pretty_format_json",
    "requirements-txt-fixer": "requirements_txt_fixer",
    "sort-simple-yaml": "sort_simple_yaml",
}

#: our check name -> the reference's console script (what pre-commit runs)
SCRIPTS = {name: module.replace("_", "-") for name, module in MODULES.items()}

#: What pre-commit-hooks 6.0.0's .pre-commit-hooks.yaml declares (written out here
#: independently of omnibase's CHECKS table; no ``types`` means pre-commit's ``[file]``).
MANIFEST_TYPES: dict[str, dict[str, list[str]]] = {
    "check-added-large-files": {},
    "check-ast": {"types": ["python"]},
    "check-case-conflict": {},
    "check-json": {"types": ["json"]},
    "check-merge-conflict": {"types": ["text"]},
    "check-toml": {"types": ["toml"]},
    "check-yaml": {"types": ["yaml"]},
    "detect-private-key": {"types": ["text"]},
    "end-of-file-fixer": {"types": ["text"]},
    "mixed-line-ending": {"types": ["text"]},
    "trailing-whitespace": {"types": ["text"]},
}


#: The two ``fail`` hooks of the manifest: their ``files`` pattern and ``types``, as
#: pre-commit-hooks 6.0.0's .pre-commit-hooks.yaml spells them (a YAML single-quoted
#: string: backslashes are literal).
FAIL_HOOKS = {
    "check-illegal-windows-names": (
        r'(?i)((^|/)(CON|PRN|AUX|NUL|COM[\d¹²³]|LPT[\d¹²³])(\.|/|$)|[<>:\"\\|?*\x00-\x1F]|/[^/]*[\.\s]/|[^/]*[\.\s]$)',
        ["file"],
    ),
    "forbid-submodules": ("", ["directory"]),
}

#: The manifest's default ``files`` patterns (no entry: every file).
MANIFEST_FILES = {
    "file-contents-sorter": "^$",
    "sort-simple-yaml": "^$",
    "name-tests-test": r"(^|/)tests/.+\.py$",
    "requirements-txt-fixer": r"(requirements|constraints).*\.txt$",
}

MANIFEST_TYPES.update({
    "check-builtin-literals": {"types": ["python"]},
    "check-docstring-first": {"types": ["python"]},
    "check-executables-have-shebangs": {"types": ["text", "executable"]},
    "check-illegal-windows-names": {},
    "check-shebang-scripts-are-executable": {"types": ["text"]},
    "check-symlinks": {"types": ["symlink"]},
    "check-vcs-permalinks": {"types": ["text"]},
    "check-xml": {"types": ["xml"]},
    "debug-statements": {"types": ["python"]},
    "destroyed-symlinks": {"types": ["file"]},
    "detect-aws-credentials": {"types": ["text"]},
    "double-quote-string-fixer": {"types": ["python"]},
    "file-contents-sorter": {},
    "fix-byte-order-marker": {"types": ["text"]},
    "forbid-new-submodules": {"types": ["directory"]},
    "forbid-submodules": {"types": ["directory"]},
    "name-tests-test": {},
    "no-commit-to-branch": {},
    "pretty-format-json": {"types": ["json"]},
    "requirements-txt-fixer": {},
    "sort-simple-yaml": {},
})


class RefResult(msgspec.Struct, frozen=True):
    code: int
    out: str
    content: bytes | None
    crashed: bool
    err: str = ""


def _stream() -> io.TextIOWrapper:
    # a text stream with a ``buffer``: some hooks write raw bytes to sys.stdout.buffer
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape", newline="\n")


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def chdir(path: Path | str):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_reference(check: str, args: Sequence[str], *, cwd: Path, read_back: str | None = None) -> RefResult:
    """Call the reference hook's ``main(args)`` in ``cwd``; ``read_back``: a file to return."""
    module = importlib.import_module(f"pre_commit_hooks.{MODULES[check]}")
    if check == "check-yaml":
        # its module-level loader keeps state (a %YAML 1.1 directive) from file to file;
        # a fresh module is the reference as it behaves on this file alone
        module = importlib.reload(module)
    out, err = _stream(), _stream()
    crashed = False
    with chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = module.main(list(args))
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            code, crashed = 1, True
        content = (cwd / read_back).read_bytes() if read_back is not None else None
    return RefResult(code=code, out=_text(out), content=content, crashed=crashed, err=_text(err))


def reference_on_bytes(check: str, name: str, data: bytes, tmp: Path, extra: Sequence[str] = ()) -> RefResult:
    """The reference hook on a fresh file ``tmp/name`` holding ``data``."""
    target = tmp / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return run_reference(check, [*extra, name], cwd=tmp, read_back=name)


# --- the corpus of awkward files -----------------------------------------------------

LINES = b"".join(b"line %d with some text  \n" % i for i in range(40000))

TEXT_CORPUS: dict[str, bytes] = {
    "empty.txt": b"",
    "nl.txt": b"\n",
    "crlf_only.txt": b"\r\n",
    "cr_only.txt": b"\r",
    "many_nl.txt": b"\n\n\n",
    "nl_mix_only.txt": b"\r\n\n\r",
    "no_final_nl.txt": b"abc",
    "final_nl.txt": b"abc\n",
    "two_final_nl.txt": b"abc\n\n",
    "crlf_two.txt": b"abc\r\n\r\n",
    "cr_two.txt": b"abc\r\r",
    "crlf_then_lf.txt": b"abc\r\n\n",
    "lf_then_crlf.txt": b"abc\n\r\n",
    "cr_then_crlf.txt": b"abc\r\r\n",
    "crlf.txt": b"a\r\nb\r\n",
    "lone_cr.txt": b"a\rb\rc",
    "lone_cr_ws.txt": b"a \rb\t\rc  ",
    "mixed.txt": b"a\r\nb\nc\rd",
    "mixed_tie.txt": b"a\r\nb\n",
    "mixed_tie3.txt": b"a\rb\r\nc\n",
    "mixed_cr_major.txt": b"a\rb\rc\nd",
    "mixed_crlf_major.txt": b"a\r\nb\r\nc\nd\r\n",
    "trailing_spaces.txt": b"a  \nb\t\n c \r\n",
    "trailing_tabs.txt": b"x\t\t\n\t\n",
    "formfeed.txt": b"a\f\nb\x0b\n\f",
    "only_ws.txt": b"   \n\t\n  ",
    "only_spaces.txt": b"     ",
    "ws_no_nl.txt": b"abc   ",
    "ws_cr_inside.txt": b"a \r b  \r\n",
    "ws_before_crcrlf.txt": b"a  \r\r\n",
    "bom.txt": b"\xef\xbb\xbfhello \n",
    "bom_only.txt": b"\xef\xbb\xbf",
    "bom_crlf.txt": b"\xef\xbb\xbfa\r\nb\n",
    "invalid_utf8.txt": b"caf\xe9 \nbad\xff\xfe\n",
    "invalid_utf8_noeol.txt": b"\xff\xfe\xfd",
    "latin1_crlf.txt": b"caf\xe9\r\nna\xefve \r\n",
    "utf16.txt": "hi there\r\n".encode("utf-16"),
    "binary.bin": bytes(range(256)) * 4,
    "nul.txt": b"a\x00b \n\x00",
    "unicode_ws.txt": "a\u00a0\nb\u3000\n\u2028x \n".encode(),
    "nel.txt": b"a\xc2\x85b \n",
    "md_break.md": b"line one  \nline two   \n  \nend\t \n",
    "md_crlf.markdown": b"hard  \r\nbreak \r\n   \r\n",
    "MD_UPPER.MD": b"x  \ny   \n",
    "long_lines.txt": LINES,
    "conflict.txt": b"a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> branch\n",
    "conflict_crlf.txt": b"<<<<<<< HEAD\r\nx\r\n=======\r\ny\r\n>>>>>>> other\r\n",
    "conflict_eof.txt": b"x\n=======",
    "conflict_eof_space.txt": b"x\n======= ",
    "conflict_like.txt": b"<<<<<<<\n=======x\n >>>>>>> y\n========\n",
    "conflict_space.txt": b"======= \n",
    "conflict_cr.txt": b"=======\r<<<<<<< a\r",
    "id_rsa": b"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
    "key.pem": b"junk BEGIN OPENSSH PRIVATE KEY junk",
    "putty.ppk": b"PuTTY-User-Key-File-2: ssh-rsa\n",
    "pgp.asc": b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n",
    "vpn.key": b"#\n-----BEGIN OpenVPN Static key V1-----\n",
    "pub.txt": b"-----BEGIN PUBLIC KEY-----\n",
    "lower.txt": b"begin rsa private key\n",
}

YAML_CORPUS: dict[str, bytes] = {
    "ok.yaml": b"a: 1\nb: [1, 2]\nc: {d: e}\n",
    "empty.yaml": b"",
    "comment_only.yaml": b"# nothing\n",
    "bad_flow.yaml": b"a: [1\n",
    "bad_indent.yaml": b"a:\n  b: 1\n c: 2\n",
    "tab_indent.yaml": b"a:\n\t- b\n",
    "multi_doc.yaml": b"---\na: 1\n---\nb: 2\n",
    "multi_doc_end.yaml": b"a: 1\n...\n---\nb: 2\n",
    "doc_then_marker.yaml": b"a: 1\n---\n",
    "dup_key.yaml": b"a: 1\na: 2\n",
    "dup_key_flow.yaml": b"{a: 1, a: 2}\n",
    "dup_int_float.yaml": b"1: a\n1.0: b\n",
    "dup_bool_int.yaml": b"true: a\n1: b\n",
    "yaml11_bools.yaml": b"yes: a\ny: b\n",
    "yaml11_directive.yaml": b"%YAML 1.1\n---\nyes: a\ntrue: b\n",
    "yaml13_directive.yaml": b"%YAML 1.3\n---\na: 1\n",
    "octal_dup.yaml": b"0o10: a\n8: b\n",
    "anchors_redefined.yaml": b"a: &x 1\nb: &x 2\nc: *x\n",
    "undefined_alias.yaml": b"a: *y\n",
    "merge.yaml": b"base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
    "merge_override.yaml": b"base: &b {x: 1}\nderived:\n  <<: *b\n  x: 2\n",
    "merge_twice.yaml": b"<<: {a: 1}\n<<: {b: 1}\n",
    "merge_scalar.yaml": b"<<: 1\n",
    "value_key.yaml": b"=: 1\n",
    "value_scalar.yaml": b"a: =\n",
    "unknown_tag.yaml": b"a: !foo bar\n",
    "python_tag.yaml": b"a: !!python/object:os.system x\n",
    "bad_int.yaml": b"a: !!int foo\n",
    "bad_date.yaml": b"a: 2001-13-45\n",
    "binary_tag.yaml": b"a: !!binary |\n  aGVsbG8=\n",
    "bad_binary.yaml": b"a: !!binary '%%%'\n",
    "list_key.yaml": b"? [a, b]\n: 1\n",
    "map_key.yaml": b"? {a: 1}\n: 1\n",
    "recursive.yaml": b"&a [*a]\n",
    "set_dup.yaml": b"!!set {a, b, a}\n",
    "omap_dup.yaml": b"!!omap [a: 1, a: 2]\n",
    "nan_keys.yaml": b".nan: 1\n.nan: 2\n",
    "crlf.yaml": b"a:\r\n  - 1\r\n  - 2\r\n",
    "lone_cr.yaml": b"a: 1\rb: 2\r",
    "lone_cr_dup.yaml": b"a: 1\ra: 2\r",
    "bom.yaml": b"\xef\xbb\xbfa: 1\n",
    "invalid_utf8.yaml": b"a: caf\xe9\n",
    "nul.yaml": b"a: \x00\n",
    "bell.yaml": b"a: \x07\n",
    "utf16.yaml": "a: 1\n".encode("utf-16"),
    "tabs_in_flow.yaml": b"a: [1,\t2]\n",
    "anchor_dot.yaml": b"a: &x.y 1\nb: *x.y\n",
    "k8s.yaml": b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {app: y}\nspec:\n  containers:\n  - name: c\n    image: 'i:1'\n    args: [\"--a\", \"b\"]\n",
    "block_scalars.yaml": b"a: |\n  x\n  y\nb: >-\n  folded\n  text\nc: |+\n\n",
    "unterminated.yaml": b"a: 'unterminated\n",
    "bad_escape.yaml": b'a: "\\q"\n',
    "colon_plain.yaml": b"a: b: c\n",
    "doc_end_only.yaml": b"...\n",
    "directive_no_doc.yaml": b"%YAML 1.2\n",
}

JSON_CORPUS: dict[str, bytes] = {
    "ok.json": b'{"a": [1, 2.5, null, true, "x"]}\n',
    "empty.json": b"",
    "ws.json": b"  \n",
    "bad.json": b"{not json",
    "trailing_comma.json": b'{"a": 1,}',
    "dup.json": b'{"a": 1, "a": 2}',
    "dup_nested.json": b'{"a": {"b": 1, "b": 1}}',
    "dup_unicode.json": b'{"\\u0061": 1, "a": 2}',
    "bom.json": b'\xef\xbb\xbf{"a": 1}',
    "utf16.json": '{"a": "\u00e9"}'.encode("utf-16"),
    "utf16le.json": '{"a": 1}'.encode("utf-16-le"),
    "utf32.json": '[1]'.encode("utf-32"),
    "invalid_utf8.json": b'{"a": "\xff"}',
    "nan.json": b'[NaN, Infinity]',
    "two_values.json": b"{} {}",
    "scalar.json": b"1",
    "crlf.json": b'{\r\n"a": 1\r\n}\r\n',
    "deep.json": b"[" * 100000 + b"]" * 100000,
    "lone_surrogate.json": b'["\\ud800"]',
}

TOML_CORPUS: dict[str, bytes] = {
    "ok.toml": b'[a]\nb = 1\nc = "x"\n',
    "empty.toml": b"",
    "bad.toml": b"a = \n",
    "dup.toml": b"a = 1\na = 2\n",
    "dup_table.toml": b"[a]\n[a]\n",
    "bom.toml": b'\xef\xbb\xbfa = 1\n',
    "invalid_utf8.toml": b'a = "\xff"\n',
    "crlf.toml": b'a = 1\r\nb = 2\r\n',
    "lone_cr.toml": b"a = 1\rb = 2\r",
    "nul.toml": b'a = "\x00"\n',
    "datetime.toml": b"a = 1979-05-27T07:32:00Z\nb = 1979-13-27\n",
}

PY_CORPUS: dict[str, bytes] = {
    "ok.py": b"import os\n\ndef f(x):\n    return x + 1\n",
    "empty.py": b"",
    "syntax.py": b"x = (\n",
    "indent.py": b"def f():\nreturn 1\n",
    "return_outside.py": b"return 1\n",  # a compile error, but ast.parse accepts it
    "await_outside.py": b"await x\n",
    "bom.py": b"\xef\xbb\xbfx = 1\n",
    "latin1_cookie.py": b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    "bad_cookie.py": b"# -*- coding: nope -*-\nx = 1\n",
    "invalid_utf8.py": b"x = '\xff'\n",
    "nul.py": b"x = 1\x00\n",
    "crlf.py": b"x = 1\r\nif x:\r\n    y = 2\r\n",
    "lone_cr.py": b"x = 1\ry = 2\r",
    "mixed_tabs.py": b"if 1:\n\tx = 1\n        y = 2\n",
    "invalid_escape.py": b"x = '\\d'\n",
    "py2.py": b"print 'hello'\n",
    "match.py": b"match x:\n    case 1:\n        pass\n",
    "formfeed.py": b"x = 1\n\x0c\ny = 2\n",
    "no_final_nl.py": b"x = 1",
    "deep.py": b"x = " + b"(" * 300 + b")" * 300 + b"\n",
    "huge.py": b"x = 1\n" * 200000,
    "continuation_eof.py": b"x = 1 + \\",
}

# --- corpora for the opt-in hooks ---------------------------------------------------

#: Line breaks ``str.splitlines`` sees and tokenize does not: the reference's
#: double-quote-string-fixer misplaces (or misses) its quotes in files holding one; ours
#: does not (see ``fix_double_quotes``), so there we check the code is unchanged instead.
ODD_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r")

PY_MORE_CORPUS: dict[str, bytes] = {
    "doc_ok.py": b'"""Doc."""\nimport os\n',
    "doc_after_code.py": b'import os\n"""Doc."""\n',
    "doc_twice.py": b'"""One."""\n"""Two."""\n',
    "doc_comment_first.py": b'# c\n\n"""Doc."""\nx = 1\n',
    "doc_indented.py": b'def f():\n    """Doc."""\n"x"\n',
    "doc_bytes.py": b'x = 1\nb"not a doc"\n',
    "doc_unterminated.py": b'"""never closed\n',
    "literals.py": b"a = list()\nb = dict()\nc = dict(a=1)\nd = str()\ne = tuple()\nf = int(x)\n",
    "literals_nested.py": b"f(list(), dict())\nx = [dict()]\nbuiltins.list()\ng = lambda: float()\n",
    "literals_in_call_args.py": b"print(complex())\nif list():\n    pass\n",
    "literals_shadow.py": b"def list():\n    pass\nlist()\n",
    "debug_import.py": b"import pdb; pdb.set_trace()\n",
    "debug_from.py": b"from ipdb import set_trace\nimport os, pudb\n",
    "debug_breakpoint.py": b"def f():\n    breakpoint()\n    g(breakpoint())\n",
    "debug_nested.py": b"import q\ndef f():\n    import wdb\n    class A:\n        import rdb\n",
    "debug_attr.py": b"import pdb.foo\nx.breakpoint()\nfrom .pdb import x\n",
    # ASCII bytes that a coding cookie turns into other text: UTF-7 spells ``p`` as ``+AHA-``
    "debug_utf7.py": b"# coding: utf-7\nimport +AHA-db\n",
    "debug_utf7_second_line.py": b"#!/usr/bin/env python\n# -*- coding: utf-7 -*-\nx = 1\n+AGI-reakpoint()\n",
    "debug_utf7_clean.py": b"# coding: utf-7\nimport os\n",
    "debug_utf7_third_line.py": b"x = 1\ny = 2\n# coding: utf-7\nimport +AHA-db\n",  # too late: not a cookie
    "debug_utf7_crlf.py": b"# vim: set fileencoding=utf-7 :\r\nfrom p+AHU-db import x\r\n",
    "quotes.py": b'x = "hello"\ny = "it\'s"\nz = """doc"""\nw = b"bytes"\nv = rb"raw"\nu = "a" "b"\n',
    "quotes_fstring.py": b'x = f"hi {y}"\nz = f"a{"b"}"\n',
    "quotes_crlf.py": b'x = "a"\r\ny = "b"\r\n',
    "quotes_formfeed.py": b'x = 1\n\x0cy = "b"\nz = "c"\n',
    "quotes_escaped.py": b'x = "a\\"b"\ny = "\\\\"\n',
    "quotes_multiline.py": b'x = ("a"\n     "b")\ny = "c\\\n d"\n',
    "quotes_unicode.py": 'x = "caf\u00e9"\ny = "\u2028"\n'.encode(),
    "quotes_bom.py": b'\xef\xbb\xbfx = "a"\n',
    "quotes_empty.py": b'x = ""\n',
    "quotes_prefix_upper.py": b'x = U"a"\ny = Rb"b"\n',
}

XML_CORPUS: dict[str, bytes] = {
    "ok.xml": b'<?xml version="1.0"?>\n<a><b c="d">text</b></a>\n',
    "empty.xml": b"",
    "mismatch.xml": b"<a><b></a>",
    "two_roots.xml": b"<a/><b/>",
    "bom.xml": b"\xef\xbb\xbf<a/>",
    "latin1.xml": b'<?xml version="1.0" encoding="latin-1"?><a>\xe9</a>',
    "bad_utf8.xml": b"<a>\xff</a>",
    "utf16.xml": '<?xml version="1.0" encoding="utf-16"?><a/>'.encode("utf-16"),
    "entity.xml": b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
    "undefined_entity.xml": b"<a>&nope;</a>",
    "external.xml": b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
    "cdata.xml": b"<a><![CDATA[<not a tag>]]></a>",
    "crlf.xml": b"<a>\r\n<b/>\r\n</a>\r\n",
    "text_only.xml": b"hello",
}

REQUIREMENTS_CORPUS: dict[str, bytes] = {
    "requirements.txt": b"requests\nDjango==4.2\nattrs>=21\n",
    "requirements_sorted.txt": b"attrs\nrequests\n",
    "requirements_empty.txt": b"",
    "requirements_ws.txt": b"\n\n  \n",
    "requirements_no_eol.txt": b"b\na",
    "requirements_sorted_no_eol.txt": b"a\nb",
    "requirements_comments.txt": b"# top\n\nzlib  # why\n# about a\na==1\n",
    "requirements_top_comment_no_blank.txt": b"# top\nb\na\n",
    "requirements_dups.txt": b"a\nb\na\n",
    "requirements_dup_comment.txt": b"a\n# c\na\n",
    "requirements_continuation.txt": b"b \\\n  --hash=sha256:x\na\n",
    "requirements_egg.txt": b"git+https://x/y#egg=zed\n-e git+https://x/a.git#egg=abc\nmid\n",
    "requirements_options.txt": b"-r base.txt\n--index-url https://x\nb\na\n",
    "requirements_pkg_resources.txt": b"b\npkg-resources==0.0.0\na\n",
    "requirements_markers.txt": b"b; python_version<'3'\na ; sys_platform=='win32'\n",
    "requirements_case.txt": b"Zed\napple\nBanana\n",
    "requirements_trailing_comment.txt": b"b\na\n# end\n",
    "requirements_leading_space.txt": b"  b\na\n",
    "requirements_crlf.txt": b"b\r\na\r\n",
    "requirements_blank_between.txt": b"b\n\na\n",
    "requirements_only_comment.txt": b"# just a comment\n",
    "requirements_comment_blank_first.txt": b"\n# c\nb\na\n",
    "constraints.txt": b"z<2\ny>1\n",
}

SORTER_CORPUS: dict[str, bytes] = {
    "list.txt": b"b\na\nc\n",
    "sorted.txt": b"a\nb\n",
    "empty.txt": b"",
    "blank_lines.txt": b"b\n\n\na\n",
    "no_eol.txt": b"b\na",
    "crlf.txt": b"b\r\na\r\n",
    "case.txt": b"b\nB\na\nA\n",
    "dups.txt": b"a\nb\na\n",
    "ws_lines.txt": b"  b\n a\n\t\n",
    "cr_only.txt": b"b\ra\r",
    "binary.txt": b"\xff\n\x00\n",
}

SIMPLE_YAML_CORPUS: dict[str, bytes] = {
    "simple.yaml": b"# header\n# more\n\nb: 1\n\na: 2\n",
    "sorted.yaml": b"a: 1\n\nb: 2\n",
    "empty.yaml": b"",
    "no_header.yaml": b"z: 1\ny: 2\n\nx: 3\n",
    "comments.yaml": b"# h\n\n# about b\nb: 1\n\n# about a\na: 1\n",
    "quoted.yaml": b"'b': 1\n\n\"a\": 2\n",
    "trailing_ws.yaml": b"b: 1   \n\na: 2\t\n",
    "crlf.yaml": b"b: 1\r\n\r\na: 2\r\n",
    "no_eol.yaml": b"b: 1\n\na: 2",
    "many_blank.yaml": b"\n\n\nb: 1\n\n\n\na: 2\n\n",
    "header_only.yaml": b"# just\n",
    "already_ok_no_eol.yaml": b"a: 1",
    "bad_utf8.yaml": b"b: \xff\n\na: 1\n",
}

PRETTY_JSON_CORPUS: dict[str, bytes] = {
    "pretty.json": b'{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}\n',
    "ugly.json": b'{"b": 1, "a": {"d": [1,2], "c": null}}',
    "ugly_nl.json": b'{"b":1,"a":2}\n',
    "crlf_pretty.json": b'{\r\n  "a": 1\r\n}\r\n',
    "unicode.json": '{"a": "caf\u00e9"}'.encode(),
    "escaped.json": b'{\n  "a": "caf\\u00e9"\n}\n',
    "dup_keys.json": b'{"a": 1, "a": 2}',
    "dup_incomparable.json": b'{"a": 1, "a": {}}',
    "not_json.json": b"{nope",
    "bom.json": b'\xef\xbb\xbf{"a": 1}',
    "bad_utf8.json": b'{"a": "\xff"}',
    "empty.json": b"",
    "scalar.json": b"1",
    "list.json": b"[3, 1, 2]",
    "nan.json": b"[NaN]",
    "floats.json": b"[1.0, 1e5, 0.1]",
    "lone_surrogate.json": b'["\\ud800"]',
    "top.json": b'{"z": 1, "name": "x", "version": 2, "a": {"version": 1, "b": 2}}',
    "empty_obj.json": b"{}",
    "nested_empty.json": b'{"a": {}, "b": []}',
}

PERMALINK_CORPUS: dict[str, bytes] = {
    "ok.md": b"see https://github.com/a/b/blob/0123456789abcdef/x.py#L3\n",
    "branch.md": b"see https://github.com/a/b/blob/main/x.py#L3\nand https://github.com/a/b/blob/master/y.py#L10\n",
    "no_line.md": b"https://github.com/a/b/blob/main/x.py\n",
    "other_host.md": b"https://gitlab.com/a/b/blob/main/x.py#L3\n",
    "ghe.md": b"https://git.example.com/a/b/blob/main/x.py#L3\n",
    "bad_utf8.md": b"\xff https://github.com/a/b/blob/main/x.py#L3\n",
    "no_eol.md": b"https://github.com/a/b/blob/dev/x.py#L3",
    "crlf.md": b"https://github.com/a/b/blob/dev/x.py#L3\r\n",
    "short_hash.md": b"https://github.com/a/b/blob/abc/x.py#L3\nhttps://github.com/a/b/blob/abcd/x.py#L3\n",
}
