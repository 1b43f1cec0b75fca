"""Which files each built-in check receives: the check table and identify's file tags.

pre-commit hands a hook the files whose ``identify`` tags satisfy the hook's ``types``
(all of them), ``types_or`` (any, if given) and ``exclude_types`` (none). ``CHECKS``
records, as data, what pre-commit-hooks 6.0.0's ``.pre-commit-hooks.yaml`` declares for
each hook (no ``types`` means pre-commit's default, ``[file]``), next to our pure function.
"""

from __future__ import annotations

import types as _types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import msgspec

from omnibase.builtins import _checks, _fixers
from omnibase.builtins._values import (
    AstOpts,
    CaseConflictOpts,
    EndOfFileOpts,
    JsonOpts,
    LargeFilesOpts,
    MergeConflictOpts,
    MixedLineEndingOpts,
    PrivateKeyOpts,
    TomlOpts,
    TrailingWhitespaceOpts,
    YamlOpts,
)

__all__ = ["CHECKS", "CheckSpec", "matches", "parse_options", "select", "tags_for"]


class CheckSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One built-in check.

    ``scope`` is ``"file"`` when ``fn`` is ``(path, content, opts) -> Verdict``, or
    ``"set"`` when it is ``(facts: RepoFacts, opts) -> tuple[Verdict, ...]`` and needs the
    whole set of files plus git facts. ``options`` is the Struct its options convert to.
    """

    name: str
    description: str
    types: frozenset[str] = frozenset({"file"})
    types_or: frozenset[str] = frozenset()
    exclude_types: frozenset[str] = frozenset()
    is_fixer: bool = False
    scope: Literal["file", "set"] = "file"
    fn: Callable[..., Any]
    options: type[msgspec.Struct]


def _spec(name: str, description: str, fn: Callable[..., Any], options: type[msgspec.Struct], *,
          types: Iterable[str] = ("file",), is_fixer: bool = False, scope: Literal["file", "set"] = "file") -> CheckSpec:
    return CheckSpec(name=name, description=description, types=frozenset(types), is_fixer=is_fixer,
                     scope=scope, fn=fn, options=options)


#: The built-in checks, in the order they run (fixers first: each sees the one before's fix).
CHECKS: Mapping[str, CheckSpec] = _types.MappingProxyType({
    s.name: s
    for s in (
        _spec("trailing-whitespace", "trims trailing whitespace.", _fixers.trailing_whitespace,
              TrailingWhitespaceOpts, types=["text"], is_fixer=True),
        _spec("end-of-file-fixer", "ensures that a file is either empty, or ends with one newline.",
              _fixers.end_of_file_fixer, EndOfFileOpts, types=["text"], is_fixer=True),
        _spec("mixed-line-ending", "replaces or checks mixed line ending.", _fixers.mixed_line_ending,
              MixedLineEndingOpts, types=["text"], is_fixer=True),
        _spec("check-yaml", "checks yaml files for parseable syntax.", _checks.check_yaml, YamlOpts, types=["yaml"]),
        _spec("check-json", "checks json files for parseable syntax.", _checks.check_json, JsonOpts, types=["json"]),
        _spec("check-toml", "checks toml files for parseable syntax.", _checks.check_toml, TomlOpts, types=["toml"]),
        _spec("check-ast", "simply checks whether the files parse as valid python.", _checks.check_ast, AstOpts,
              types=["python"]),
        _spec("check-merge-conflict", "checks for files that contain merge conflict strings.",
              _checks.check_merge_conflict, MergeConflictOpts, types=["text"]),
        _spec("detect-private-key", "detects the presence of private keys.", _checks.detect_private_key,
              PrivateKeyOpts, types=["text"]),
        _spec("check-added-large-files", "prevents giant files from being committed.",
              _checks.check_added_large_files, LargeFilesOpts, scope="set"),
        _spec("check-case-conflict", "checks for files that would conflict in case-insensitive filesystems.",
              _checks.check_case_conflict, CaseConflictOpts, scope="set"),
    )
})


def parse_options(name: str, raw: Mapping[str, object] | None) -> msgspec.Struct:
    """The options Struct of check ``name`` from a plain mapping (``ValueError`` if invalid)."""
    spec = CHECKS[name]
    try:
        return msgspec.convert(dict(raw or {}), spec.options)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{name}: invalid options: {exc}") from None


def matches(spec: CheckSpec, tags: frozenset[str] | set[str]) -> bool:
    """Whether pre-commit would pass a file with these tags to the check."""
    return (
        spec.types <= tags
        and (not spec.types_or or bool(spec.types_or & tags))
        and not (spec.exclude_types & tags)
    )


def tags_for(path: str) -> frozenset[str]:
    """identify's tags for the file at ``path`` (``ValueError`` if it does not exist;
    ``OSError`` if it cannot be read when its content decides text or binary)."""
    from identify.identify import tags_from_path

    return frozenset(tags_from_path(path))


def select(spec: CheckSpec, tagged: Iterable[tuple[str, frozenset[str]]]) -> list[str]:
    """The paths, of ``(path, tags)`` pairs, that pre-commit would pass to the check."""
    return [path for path, tags in tagged if matches(spec, tags)]
