"""The command-line flags each pre-commit-hooks 6.0.0 hook takes, turned into our options.

A registry entry gives a built-in its options as ``args:``, the same strings one would
give the reference hook in a ``.pre-commit-config.yaml``. Each hook's flag set is
declared here with ``argparse`` exactly as the reference declares it (same names, short
forms, choices, types, repeatable flags, mutually exclusive groups, and argparse's
unambiguous-prefix matching), and the parsed namespace becomes the check's options
Struct. File names are not accepted: the runner chooses the files.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import msgspec

__all__ = ["FLAGS", "options_from_args"]


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises ``ValueError`` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ValueError(message or f"exit {status}")


def _ignore_set(value: str) -> frozenset[str]:
    return frozenset(value.split(","))


def _num_or_str(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value


def _literals(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--ignore", type=_ignore_set, default=frozenset())
    group = p.add_mutually_exclusive_group()
    group.add_argument("--allow-dict-kwargs", action="store_true")
    group.add_argument("--no-allow-dict-kwargs", dest="allow_dict_kwargs", action="store_false")
    group.set_defaults(allow_dict_kwargs=True)
    return lambda ns: {"ignore": ns.ignore, "allow_dict_kwargs": ns.allow_dict_kwargs}


def _yaml(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("-m", "--multi", "--allow-multiple-documents", action="store_true")
    p.add_argument("--unsafe", action="store_true")
    return lambda ns: {"allow_multiple_documents": ns.multi, "unsafe": ns.unsafe}


def _large(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--enforce-all", action="store_true")
    p.add_argument("--maxkb", type=int, default=500)
    return lambda ns: {"maxkb": ns.maxkb, "enforce_all": ns.enforce_all}


def _merge(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--assume-in-merge", action="store_true")
    return lambda ns: {"assume_in_merge": ns.assume_in_merge}


def _trailing(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--no-markdown-linebreak-ext", action="store_true")  # no effect: its notice says so
    p.add_argument("--markdown-linebreak-ext", action="append", default=[])
    p.add_argument("--chars")
    return lambda ns: {"markdown_linebreak_ext": ns.markdown_linebreak_ext, "chars": ns.chars,
                       "no_markdown_linebreak_ext": ns.no_markdown_linebreak_ext}


def _mixed(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("-f", "--fix", choices=("auto", "no", "crlf", "lf", "cr"), default="auto")
    return lambda ns: {"fix": ns.fix}


def _permalinks(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--additional-github-domain", dest="domains", action="append", default=[])
    return lambda ns: {"additional_github_domains": ns.domains}


def _aws(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--credentials-file", dest="files", action="append", default=[])
    p.add_argument("--allow-missing-credentials", action="store_true")
    return lambda ns: {"credentials_files": ns.files, "allow_missing_credentials": ns.allow_missing_credentials}


def _sorter(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--ignore-case", action="store_true")
    group.add_argument("--unique", action="store_true")
    return lambda ns: {"ignore_case": ns.ignore_case, "unique": ns.unique}


def _tests(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--pytest", dest="style", action="store_const", const="pytest", default="pytest")
    group.add_argument("--pytest-test-first", dest="style", action="store_const", const="pytest-test-first")
    group.add_argument("--django", "--unittest", dest="style", action="store_const", const="django")
    return lambda ns: {"style": ns.style}


def _branch(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("-b", "--branch", action="append")
    p.add_argument("-p", "--pattern", action="append")
    return lambda ns: {"branches": ns.branch or (), "patterns": ns.pattern or ()}


def _pretty(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    p.add_argument("--autofix", action="store_true")
    p.add_argument("--indent", type=_num_or_str, default="2")
    p.add_argument("--no-ensure-ascii", action="store_true")
    p.add_argument("--no-sort-keys", action="store_true")
    p.add_argument("--top-keys", type=lambda s: s.split(","), default=[])
    return lambda ns: {
        "autofix": ns.autofix,
        "indent": ns.indent,
        "ensure_ascii": not ns.no_ensure_ascii,
        "sort_keys": not ns.no_sort_keys,
        "top_keys": ns.top_keys,
    }


def _none(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict[str, Any]]:
    return lambda ns: {}


#: Per check: declares its flags on a parser, returns how the namespace maps to options.
FLAGS: Mapping[str, Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], dict[str, Any]]]] = {
    "check-builtin-literals": _literals,
    "check-yaml": _yaml,
    "check-added-large-files": _large,
    "check-merge-conflict": _merge,
    "trailing-whitespace": _trailing,
    "mixed-line-ending": _mixed,
    "check-vcs-permalinks": _permalinks,
    "detect-aws-credentials": _aws,
    "file-contents-sorter": _sorter,
    "name-tests-test": _tests,
    "no-commit-to-branch": _branch,
    "pretty-format-json": _pretty,
}


def options_from_args(name: str, args: Sequence[str]) -> msgspec.Struct:
    """The options Struct of built-in ``name`` from the reference hook's flags;
    ``ValueError`` (argparse's message) for an unknown check or flag or a bad value."""
    from omnibase.builtins._classify import CHECKS

    if name not in CHECKS:
        raise ValueError(f"unknown built-in '{name}'")
    parser = _Parser(prog=name, add_help=False, allow_abbrev=True)
    to_options = FLAGS.get(name, _none)(parser)
    namespace = parser.parse_args(list(args))
    try:
        return msgspec.convert(to_options(namespace), CHECKS[name].options)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ValueError(str(exc)) from None
