"""Which files each built-in check receives: the check table and identify's file tags.

pre-commit hands a hook the files whose ``identify`` tags satisfy the hook's ``types``
(all of them), ``types_or`` (any, if given) and ``exclude_types`` (none). ``CHECKS``
records, as data, what pre-commit-hooks 6.0.0's ``.pre-commit-hooks.yaml`` declares for
each hook (no ``types`` means pre-commit's default, ``[file]``), next to our pure function.
"""

from __future__ import annotations

import os
import stat as _stat
import types as _types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import msgspec

from omnibase.builtins import _checks, _fixers
from omnibase.builtins._values import (
    AstOpts,
    AwsCredentialsOpts,
    BranchOpts,
    BuiltinLiteralsOpts,
    NameTestsOpts,
    NoOpts,
    PrettyJsonOpts,
    SorterOpts,
    VcsPermalinksOpts,
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

__all__ = [
    "CHECKS", "DEFAULT_CHECKS", "HEAD_BYTES", "CheckSpec", "executable", "matches", "parse_options", "select",
    "tags_for", "tags_from",
]


class CheckSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One built-in check.

    ``scope`` is ``"file"`` when ``fn`` is ``(path, content, opts) -> Verdict``, or
    ``"set"`` when it is ``(facts: RepoFacts, opts) -> tuple[Verdict, ...]`` and needs the
    whole set of files plus git facts. ``options`` is the Struct its options convert to.
    ``files`` is the hook's default ``files`` pattern (applied by the component layer,
    which hands ``run_builtin_checks`` the files each check is to see); ``default``: the
    check runs without being named in the registry; ``always_run``: it runs even with no
    file to check (its verdict is about the repository). ``closing``: what the reference
    hook prints once after its findings when anything failed; ``sorted_output``: it prints
    its findings sorted (rather than file by file). See ``omnibase.builtins._output``.
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
    files: str = ""
    default: bool = False
    always_run: bool = False
    closing: str = ""
    sorted_output: bool = False


def _spec(name: str, description: str, fn: Callable[..., Any], options: type[msgspec.Struct], *,
          types: Iterable[str] = ("file",), is_fixer: bool = False, scope: Literal["file", "set"] = "file",
          files: str = "", default: bool = False, always_run: bool = False, closing: str = "",
          sorted_output: bool = False) -> CheckSpec:
    return CheckSpec(name=name, description=description, types=frozenset(types), is_fixer=is_fixer,
                     scope=scope, fn=fn, options=options, files=files, default=default, always_run=always_run,
                     closing=closing, sorted_output=sorted_output)


class _Lazy:
    """A check function imported on its first call: the opt-in checks' modules cost
    nothing to a run that does not use them (start-up of the everyday commit)."""

    __slots__ = ("attr", "fn", "module")

    def __init__(self, module: str, attr: str) -> None:
        self.module, self.attr = module, attr
        self.fn: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        if self.fn is None:
            import importlib

            self.fn = getattr(importlib.import_module(f"omnibase.builtins.{self.module}"), self.attr)
        return self.fn(*args)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Lazy, (self.module, self.attr))


def _opt(name: str, description: str, where: str, options: type[msgspec.Struct], **kw: Any) -> CheckSpec:
    """An opt-in check whose function (``module:function`` in this package) loads lazily."""
    module, _, attr = where.partition(":")
    return _spec(name, description, _Lazy(module, attr), options, **kw)


def _on(spec: CheckSpec) -> CheckSpec:
    return msgspec.structs.replace(spec, default=True)


#: The built-in checks, in the order they run (fixers first: each sees the one before's
#: fix). The first eleven run by default; the others when the registry names them.
CHECKS: Mapping[str, CheckSpec] = _types.MappingProxyType({
    s.name: s
    for s in (
        _on(_spec("trailing-whitespace", "trims trailing whitespace.", _fixers.trailing_whitespace,
                  TrailingWhitespaceOpts, types=["text"], is_fixer=True)),
        _on(_spec("end-of-file-fixer", "ensures that a file is either empty, or ends with one newline.",
                  _fixers.end_of_file_fixer, EndOfFileOpts, types=["text"], is_fixer=True)),
        _on(_spec("mixed-line-ending", "replaces or checks mixed line ending.", _fixers.mixed_line_ending,
                  MixedLineEndingOpts, types=["text"], is_fixer=True)),
        _opt("fix-byte-order-marker", "removes utf-8 byte order marker.", "_textfixers:fix_byte_order_marker",
             NoOpts, types=["text"], is_fixer=True),
        _opt("double-quote-string-fixer", "replaces double quoted strings with single quoted strings.",
             "_pychecks:double_quote_string_fixer", NoOpts, types=["python"], is_fixer=True),
        _opt("file-contents-sorter", "sorts the lines in specified files (defaults to alphabetical).",
             "_textfixers:file_contents_sorter", SorterOpts, files="^$", is_fixer=True),
        _opt("requirements-txt-fixer", "sorts entries in requirements.txt.", "_textfixers:requirements_txt_fixer",
             NoOpts, files=r"(requirements|constraints).*\.txt$", is_fixer=True),
        _opt("sort-simple-yaml", "sorts simple yaml files which consist only of top-level keys.",
             "_textfixers:sort_simple_yaml", NoOpts, files="^$", is_fixer=True),
        _opt("pretty-format-json", "sets a standard for formatting json files.", "_textfixers:pretty_format_json",
             PrettyJsonOpts, types=["json"], is_fixer=True),
        _on(_spec("check-yaml", "checks yaml files for parseable syntax.", _checks.check_yaml, YamlOpts,
                  types=["yaml"])),
        _on(_spec("check-json", "checks json files for parseable syntax.", _checks.check_json, JsonOpts,
                  types=["json"])),
        _on(_spec("check-toml", "checks toml files for parseable syntax.", _checks.check_toml, TomlOpts,
                  types=["toml"])),
        _opt("check-xml", "checks xml files for parseable syntax.", "_textchecks:check_xml", NoOpts, types=["xml"]),
        _on(_spec("check-ast", "simply checks whether the files parse as valid python.", _checks.check_ast,
                  AstOpts, types=["python"])),
        _opt("check-builtin-literals", "requires literal syntax when initializing empty or zero python builtin types.",
             "_pychecks:check_builtin_literals", BuiltinLiteralsOpts, types=["python"]),
        _opt("check-docstring-first", "checks a common error of defining a docstring after code.",
             "_pychecks:check_docstring_first", NoOpts, types=["python"]),
        _opt("debug-statements", "checks for debugger imports and py37+ `breakpoint()` calls in python source.",
             "_pychecks:debug_statements", NoOpts, types=["python"]),
        _on(_spec("check-merge-conflict", "checks for files that contain merge conflict strings.",
                  _checks.check_merge_conflict, MergeConflictOpts, types=["text"])),
        _on(_spec("detect-private-key", "detects the presence of private keys.", _checks.detect_private_key,
                  PrivateKeyOpts, types=["text"])),
        _opt("detect-aws-credentials", "detects *your* aws credentials from the aws cli credentials file.",
             "_textchecks:detect_aws_credentials", AwsCredentialsOpts, types=["text"]),
        _opt("check-vcs-permalinks", "ensures that links to vcs websites are permalinks.",
             "_textchecks:check_vcs_permalinks", VcsPermalinksOpts, types=["text"],
             closing="\nNon-permanent github link detected.\nOn any page on github press [y] to load a permalink."),
        _on(_spec("check-added-large-files", "prevents giant files from being committed.",
                  _checks.check_added_large_files, LargeFilesOpts, scope="set", sorted_output=True)),
        _on(_spec("check-case-conflict", "checks for files that would conflict in case-insensitive filesystems.",
                  _checks.check_case_conflict, CaseConflictOpts, scope="set", sorted_output=True)),
        _opt("check-illegal-windows-names", "checks for files that cannot be created on Windows.",
             "_textchecks:check_illegal_windows_names", NoOpts, scope="set"),
        _opt("name-tests-test", "verifies that test files are named correctly.", "_textchecks:name_tests_test",
             NameTestsOpts, scope="set", files=r"(^|/)tests/.+\.py$"),
        _opt("check-executables-have-shebangs", "ensures that (non-binary) executables have a shebang.",
             "_gitchecks:check_executables_have_shebangs", NoOpts, types=["text", "executable"], scope="set"),
        _opt("check-shebang-scripts-are-executable", "ensures that (non-binary) files with a shebang are executable.",
             "_gitchecks:check_shebang_scripts_are_executable", NoOpts, types=["text"], scope="set"),
        _opt("check-symlinks", "checks for symlinks which do not point to anything.", "_gitchecks:check_symlinks",
             NoOpts, types=["symlink"], scope="set"),
        _opt("destroyed-symlinks", "detects symlinks which are changed to regular files with a content of a path "
             "which that symlink was pointing to.", "_gitchecks:destroyed_symlinks", NoOpts, scope="set"),
        _opt("forbid-new-submodules", "prevents addition of new git submodules.", "_gitchecks:forbid_new_submodules",
             NoOpts, types=["directory"], scope="set",
             closing="\nThis commit introduces new submodules.\nDid you unintentionally `git add .`?\n"
                     "To fix: git rm {thesubmodule}  # no trailing slash\nAlso check .gitmodules"),
        _opt("forbid-submodules", "forbids any submodules in the repository.", "_textchecks:forbid_submodules",
             NoOpts, types=["directory"], scope="set"),
        _opt("no-commit-to-branch", "don't commit to branch.", "_gitchecks:no_commit_to_branch", BranchOpts,
             scope="set", always_run=True),
    )
})

#: The checks that run when the registry names none (pre-commit-hooks' common eleven).
DEFAULT_CHECKS: tuple[str, ...] = tuple(name for name, spec in CHECKS.items() if spec.default)


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
    import stat

    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        raise ValueError(f"{path} does not exist.") from None

    def head() -> bytes:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)

    return tags_from(path, st.st_mode, stat.S_ISREG(st.st_mode) and executable(path, st.st_mode), head)


#: How much of a file's start classifying it may need: identify reads 1 KiB to tell text
#: from binary, and a shebang line (with nix-shell's continuation lines) from the top.
HEAD_BYTES = 1 << 16

_DIRECTORY, _SYMLINK, _SOCKET = frozenset({"directory"}), frozenset({"symlink"}), frozenset({"socket"})
#: Per process: a file name -> identify's tags from the name alone; a set of tags -> the
#: one frozenset that stands for it (a run's thousands of files share a few dozen).
_BY_NAME: dict[str, frozenset[str]] = {}
_INTERNED: dict[frozenset[str], frozenset[str]] = {}
#: Per process: (a name's tags, executable) -> the file's tags, where those two decide them
_DECIDED: dict[tuple[frozenset[str], bool], frozenset[str]] = {}
_MEMO_MAX = 100_000


def executable(path: str, mode: int) -> bool:
    """Whether identify calls the file at ``path`` (of lstat mode ``mode``) executable:
    ``os.access(X_OK)``, asked only when some execute bit is set (else no one may)."""
    return bool(mode & 0o111) and os.access(path, os.X_OK)


_KNOWN_NAMES: list[frozenset[str]] = []  # identify's known file names, once loaded


def _name_tags(name: str) -> frozenset[str]:
    """identify's ``tags_from_filename``, remembered per process by what it depends on:
    the extension alone when no part of the name is a name identify knows."""
    if not _KNOWN_NAMES:
        from identify import extensions

        _KNOWN_NAMES.append(frozenset(extensions.NAMES))
    known = _KNOWN_NAMES[0]
    if name in known or not known.isdisjoint(name.split(".")):
        key = "/" + name  # "/": no extension starts so
    else:  # os.path.splitext's extension: from the last dot, leading dots not counted
        bare = name.lstrip(".")
        dot = bare.rfind(".")
        key = bare[dot:] if dot >= 0 else ""
    found = _BY_NAME.get(key)
    if found is None:
        from identify.identify import tags_from_filename

        if len(_BY_NAME) >= _MEMO_MAX:
            _BY_NAME.clear()
        found = _BY_NAME[key] = frozenset(tags_from_filename(name))
    return found


def tags_from(path: str, mode: int, is_executable: bool, head: Callable[[], bytes]) -> frozenset[str]:
    """identify's ``tags_from_path`` from what the caller already knows: the lstat
    ``mode``, whether the file is executable (``executable``), and ``head()``, the start
    of its content (at least ``HEAD_BYTES``, or all of it), called only when the name does
    not decide (a name with no tags, an extension that may be either text or binary).
    So a caller that reads the file anyway opens it once. The result is shared between
    files with the same tags; the tags of a name are remembered per process, and so are
    the tags of a file its name and its executable bit decide."""
    kind = _stat.S_IFMT(mode)
    if kind == _stat.S_IFDIR:
        return _DIRECTORY
    if kind == _stat.S_IFLNK:
        return _SYMLINK
    if kind == _stat.S_IFSOCK:
        return _SOCKET
    by_name = _name_tags(path.rpartition("/")[2])
    decided = _DECIDED.get((by_name, is_executable))
    if decided is not None:
        return decided
    tags = {"file", "executable" if is_executable else "non-executable", *by_name}
    start: bytes | None = None
    if not by_name and is_executable:
        import io

        from identify.identify import parse_shebang, tags_from_interpreter

        start = head()
        shebang = parse_shebang(io.BytesIO(start))
        if shebang:
            tags |= tags_from_interpreter(shebang[0])
    if "text" not in tags and "binary" not in tags:
        import io

        from identify.identify import is_text

        tags.add("text" if is_text(io.BytesIO(start if start is not None else head())) else "binary")
    frozen = frozenset(tags)
    known = _INTERNED.get(frozen)
    if known is None:
        if len(_INTERNED) >= _MEMO_MAX:
            _INTERNED.clear()
        known = _INTERNED[frozen] = frozen
    if "text" in by_name or "binary" in by_name:  # the name decided: no content was looked at
        if len(_DECIDED) >= _MEMO_MAX:
            _DECIDED.clear()
        _DECIDED[(by_name, is_executable)] = known
    return known


def select(spec: CheckSpec, tagged: Iterable[tuple[str, frozenset[str]]]) -> list[str]:
    """The paths, of ``(path, tags)`` pairs, that pre-commit would pass to the check."""
    return [path for path, tags in tagged if matches(spec, tags)]
