"""The registry's ``args`` are the reference hooks' own flags, and the docs list them all."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest
from tests.builtins._builtins_ref import MODULES

from omnibase.builtins import CHECKS, DEFAULT_CHECKS, options_from_args
from omnibase.builtins._args import FLAGS, _Parser


def _reference_flags(check: str) -> set[str]:
    """Every option string the reference hook's parser accepts (from its --help)."""
    module = importlib.import_module(f"pre_commit_hooks.{MODULES[check]}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main(["--help"])
    options = out.getvalue().split("options:", 1)[1]
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", options)) - {"-h", "--help"}


def _our_flags(check: str) -> set[str]:
    parser = _Parser(add_help=False)
    FLAGS.get(check, lambda p: None)(parser)
    return set(parser._option_string_actions)


#: Flags the reference accepts but hides from its --help (argparse.SUPPRESS).
HIDDEN = {"trailing-whitespace": {"--no-markdown-linebreak-ext"}}


@pytest.mark.parametrize("check", [c for c in CHECKS if c in MODULES])
def test_each_builtin_takes_exactly_the_reference_flags(check: str):
    assert _our_flags(check) == _reference_flags(check) | HIDDEN.get(check, set())
    module = importlib.import_module(f"pre_commit_hooks.{MODULES[check]}")
    for flag in HIDDEN.get(check, ()):
        assert module.main([flag]) == 0  # accepted (on no files)


@pytest.mark.parametrize(
    ("check", "args", "expected"),
    [
        ("check-yaml", ["--multi"], {"allow_multiple_documents": True, "unsafe": False}),
        ("check-yaml", ["--uns"], {"allow_multiple_documents": False, "unsafe": True}),  # a prefix, as argparse
        ("check-added-large-files", ["--maxkb=12"], {"maxkb": 12, "enforce_all": False}),
        ("trailing-whitespace", ["--markdown-linebreak-ext=md", "--markdown-linebreak-ext", "rst"],
         {"markdown_linebreak_ext": ("md", "rst"), "chars": None, "no_markdown_linebreak_ext": False}),
        ("trailing-whitespace", ["--no-markdown-linebreak-ext"],
         {"markdown_linebreak_ext": (), "chars": None, "no_markdown_linebreak_ext": True}),
        ("mixed-line-ending", ["-f", "lf"], {"fix": "lf"}),
        ("pretty-format-json", ["--indent", "\t"], {"autofix": False, "indent": "\t", "ensure_ascii": True,
                                                    "sort_keys": True, "top_keys": ()}),
        ("no-commit-to-branch", ["-b", "a", "--branch=b", "-p", "x.*"], {"branches": ("a", "b"), "patterns": ("x.*",)}),
        ("name-tests-test", ["--unittest"], {"style": "django"}),
        ("detect-aws-credentials", ["--credentials-file", "a", "--credentials-file=b"],
         {"credentials_files": ("a", "b"), "allow_missing_credentials": False, "secrets": frozenset()}),
    ],
)
def test_flags_become_options(check: str, args: list[str], expected: dict[str, object]):
    import msgspec

    assert msgspec.structs.asdict(options_from_args(check, args)) == expected


@pytest.mark.parametrize(
    ("check", "args"),
    [("check-json", ["--x"]), ("check-json", ["file.json"]), ("mixed-line-ending", ["--fix=dos"]),
     ("check-added-large-files", ["--maxkb", "big"]), ("name-tests-test", ["--pytest", "--django"]),
     ("check-yaml", ["--help"]), ("trailing-whitespace", ["--markdown-linebreak-ext=a.b"]),
     ("no-such-check", [])],
)
def test_bad_flags_are_value_errors_never_exits(check: str, args: list[str]):
    with pytest.raises(ValueError):
        options_from_args(check, args)


def test_the_docs_table_lists_every_builtin_with_its_default():
    page = (Path(__file__).parents[2] / "docs" / "builtins.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z-]+)` \|.*\| (on|off) \|$", page, re.M))
    assert rows == {name: ("on" if name in DEFAULT_CHECKS else "off") for name in CHECKS}
    assert list(rows) == list(CHECKS)  # in the order they run
