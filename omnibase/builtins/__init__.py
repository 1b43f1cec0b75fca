"""Built-in pre-commit checks: pure-Python twins of pre-commit-hooks 6.0.0's hooks.

All of its hooks that work without a network are here (``CHECKS``); the common eleven
(``DEFAULT_CHECKS``) run by default, the others when a registry entry names them
(``{builtin: NAME, args: [...]}``, the flags parsed by ``options_from_args``).

``CHECKS`` is the table (name, file types, fixer or not, the pure function). The checks
are pure: ``(path, content, opts) -> Verdict``, a fixer's change returned as an ``Edit``
value. ``run_builtin_checks`` (reads files, asks git, uses worker processes) and
``apply_edits`` (atomic writes) are the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from omnibase.builtins._checks import (
    check_added_large_files,
    check_ast,
    check_case_conflict,
    check_json,
    check_merge_conflict,
    check_toml,
    check_yaml,
    detect_private_key,
)
from omnibase.builtins._fixers import (
    end_of_file_fixer,
    fix_end_of_file,
    fix_line_endings,
    fix_trailing_whitespace,
    mixed_line_ending,
    trailing_whitespace,
)
from omnibase.builtins._classify import CHECKS, DEFAULT_CHECKS, CheckSpec, matches, parse_options, select, tags_for
from omnibase.builtins._run import apply_edits, run_builtin_checks
from omnibase.builtins._values import Edit, Finding, RepoFacts, Verdict

if TYPE_CHECKING:
    import msgspec


def options_from_args(name: str, args: Sequence[str]) -> msgspec.Struct:
    """The options of built-in ``name`` from the reference hook's flags (``ValueError``
    if they do not parse); see ``omnibase.builtins._args``, imported on first use."""
    from omnibase.builtins._args import options_from_args as parse

    return parse(name, args)

__all__ = [
    "CHECKS",
    "DEFAULT_CHECKS",
    "CheckSpec",
    "Edit",
    "Finding",
    "RepoFacts",
    "Verdict",
    "apply_edits",
    "check_added_large_files",
    "check_ast",
    "check_case_conflict",
    "check_json",
    "check_merge_conflict",
    "check_toml",
    "check_yaml",
    "detect_private_key",
    "end_of_file_fixer",
    "fix_end_of_file",
    "fix_line_endings",
    "fix_trailing_whitespace",
    "matches",
    "mixed_line_ending",
    "options_from_args",
    "parse_options",
    "run_builtin_checks",
    "select",
    "tags_for",
    "trailing_whitespace",
]
