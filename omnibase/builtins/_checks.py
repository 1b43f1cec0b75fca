"""The built-in checks that report (the fixers are in ``_fixers``) as pure functions.

Each per-file check is ``(path, content, opts) -> Verdict`` and agrees with the
pre-commit-hooks 6.0.0 hook of the same name: the same pass/fail, messages worded as the
hook prints them. The two whole-set checks take a ``RepoFacts`` the edge gathered from
git and the file system, and return one verdict per file they received (plus one per
conflicting name no received file accounts for).

Parsers (json, tomllib, ast, yaml) are imported inside the checks that need them, so
importing this module is cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

from omnibase.builtins._recursion import AST_BUDGET, JSON_BUDGET, TOML_BUDGET, YAML_BUDGET, with_budget

from omnibase.builtins._values import (
    failed,
    passed,
    AstOpts,
    CaseConflictOpts,
    Finding,
    JsonOpts,
    LargeFilesOpts,
    MergeConflictOpts,
    PrivateKeyOpts,
    RepoFacts,
    TomlOpts,
    Verdict,
    YamlOpts,
)

__all__ = [
    "check_added_large_files",
    "check_ast",
    "check_case_conflict",
    "check_json",
    "check_merge_conflict",
    "check_toml",
    "check_yaml",
    "detect_private_key",
]

_ok, _fail = passed, failed  # the two verdicts most checks give


# --- parsers ---------------------------------------------------------------------------


def check_yaml(path: str, content: bytes, opts: YamlOpts) -> Verdict:
    """Loads as the reference does: one document unless ``allow_multiple_documents``;
    ``unsafe`` only parses. Text must be UTF-8 (a BOM is allowed)."""
    from omnibase.builtins._yaml import yaml_error

    multi = opts.allow_multiple_documents or opts.unsafe
    error = with_budget(YAML_BUDGET, lambda: yaml_error(content, path, multi=multi, unsafe=opts.unsafe))
    return _ok("check-yaml", path) if error is None else _fail("check-yaml", path, error)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"Duplicate key: {key}")
        out[key] = value
    return out


def check_json(path: str, content: bytes, opts: JsonOpts) -> Verdict:
    """``json.loads`` on the bytes (so UTF-8/16/32 with or without BOM), no duplicate keys."""
    import json

    try:
        with_budget(JSON_BUDGET, lambda: json.loads(content, object_pairs_hook=_no_duplicate_keys))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _fail("check-json", path, f"{path}: Failed to json decode ({exc})")
    except Exception as exc:  # e.g. RecursionError: the reference crashes, so fails
        return _fail("check-json", path, f"{path}: Failed to json decode ({type(exc).__name__}: {exc})")
    return _ok("check-json", path)


def check_toml(path: str, content: bytes, opts: TomlOpts) -> Verdict:
    """``tomllib`` on the bytes (strict UTF-8; a BOM is an error, as in the reference)."""
    import tomllib

    try:
        with_budget(TOML_BUDGET, lambda: tomllib.loads(content.decode()))
    except Exception as exc:  # TOMLDecodeError; the reference crashes on the others
        return _fail("check-toml", path, f"{path}: {exc}")
    return _ok("check-toml", path)


#: check-ast's shortcut: a symbol table (``symtable``) instead of ``ast.parse`` where it
#: provably gives the same verdict. Both run CPython's one parser with the same flags on
#: the same bytes, so they see the same syntax errors; the symbol table then adds errors
#: of its own (``nonlocal`` at module level, ...) and never removes one, while
#: ``ast.parse`` adds one only: ``RecursionError`` when turning a too-deep tree into
#: Python objects. So when the symbol table is built, the file parses, unless the tree is
#: deeper than ``ast.parse`` can convert. That last case is what the budget rules out:
#:
#: * on 3.11 both stop at 3 x the recursion limit (``COMPILER_STACK_FRAME_SCALE``) levels
#:   above where they start, so ``with_budget`` sets each one's depth allowance;
#: * the symbol table counts one level per statement and expression, ``ast.parse`` one per
#:   node of every kind. Between two statements or expressions on a path down the tree lie
#:   at most two nodes of other kinds (``arguments`` and ``arg`` between a ``def`` and an
#:   annotation; one ``keyword``, ``comprehension``, ``withitem``, ``excepthandler``,
#:   ``match_case`` or ``type_param`` elsewhere), plus the module at the top, an operator
#:   or context leaf at the bottom, and a chain of patterns in a ``case`` (one bracket
#:   level each: at most 200, the tokenizer's limit). So a tree the symbol table walked
#:   ``d`` levels deep is at most ``3 d + 202`` nodes deep for ``ast.parse``;
#: * built with ``_SHORTCUT_BUDGET`` units, the symbol table walks at most 3 x 249 = 747
#:   levels, so ``ast.parse`` meets at most 3 x 747 + 202 = 2443 nodes, well inside the
#:   2982 its own budget (``AST_BUDGET``) allows: a margin of 500 levels that no slip in
#:   the count above can use up. A file deeper than the shortcut's allowance (no real
#:   code is) goes to ``ast.parse``, which then decides as the reference does.
#:
#: (A margin of a few levels, as before, is not enough: 199 calls with a keyword argument
#: around a long ``+`` chain add 199 nodes only ``ast.parse`` counts, and the reference
#: rejected such a file that the shortcut accepted; ``tests/builtins/test_check_ast_shortcut.py``.)
#:
#: On 3.12 and later both limits are fixed C constants (``Py_C_RECURSION_LIMIT``), which
#: no recursion limit lowers, so the symbol table's allowance cannot be made smaller than
#: ``ast.parse``'s, and there is no cheap sound bound on a file's depth: there check-ast
#: always calls ``ast.parse``. What it costs (docs/benchmarks.md): on the everyday
#: commit's four files, symtable 9.0 ms against ast.parse 13.4 ms on 3.12.1 (8.6 against
#: 13.0 on 3.11.7).
_SYMTABLE_SHORTCUT = sys.version_info[:2] == (3, 11)
_SHORTCUT_BUDGET = AST_BUDGET // 4  # 249 units: see above for why a quarter is sound
_SYMTABLE: list[Callable[..., object]] = []  # the symbol-table builder, once imported


def check_ast(path: str, content: bytes, opts: AstOpts) -> Verdict:
    """``ast.parse`` on the bytes, so a coding cookie or BOM decides the encoding.

    Speed (3.11): building a symbol table parses with the same parser and flags but
    creates no Python objects; when it succeeds within ``_SHORTCUT_BUDGET`` the file
    parses (see ``_SYMTABLE_SHORTCUT`` for why). Otherwise ``ast.parse`` decides.
    """
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings print but do not fail
        if _SYMTABLE_SHORTCUT:
            if not _SYMTABLE:  # symtable's own builder, without the module's wrapper objects
                import importlib  # (what symtable.symtable calls; bytes too, as compile() takes)

                _SYMTABLE.append(importlib.import_module("_symtable").symtable)
            build = _SYMTABLE[0]
            try:
                with_budget(_SHORTCUT_BUDGET, lambda: build(content, path, "exec"))
                return _ok("check-ast", path)
            except Exception:
                pass  # not necessarily a parse error: let ast.parse decide
        try:
            with_budget(AST_BUDGET, lambda: ast.parse(content, filename=path))
        except Exception as exc:  # SyntaxError; ValueError (NUL bytes) crashes the reference
            import platform
            import traceback

            head = f"{path}: failed parsing with {platform.python_implementation()} {sys.version.split()[0]}:"
            detail = "".join(traceback.format_exception_only(exc)).rstrip("\n")
            line = exc.lineno if isinstance(exc, SyntaxError) else None
            return _fail("check-ast", path, head + "\n\n    " + detail.replace("\n", "\n    "), line)
    return _ok("check-ast", path)


# --- content scans ---------------------------------------------------------------------

_CONFLICT_PATTERNS = (b"<<<<<<< ", b"======= ", b"=======\r\n", b"=======\n", b">>>>>>> ")


def check_merge_conflict(path: str, content: bytes, opts: MergeConflictOpts) -> Verdict:
    """Lines (split at LF) starting with a conflict marker fail, but only when
    ``opts.assume_in_merge``: the reference checks nothing unless git is mid-merge,
    and the edge sets that option from git."""
    if not opts.assume_in_merge or not any(p[:7] in content for p in (b"<<<<<<<", b"=======", b">>>>>>>")):
        return _ok("check-merge-conflict", path)
    findings = []
    lines = content.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if number < len(lines):
            line += b"\n"  # as iterating the file yields it (the last line may lack one)
        for pattern in _CONFLICT_PATTERNS:
            if line.startswith(pattern):
                shown = repr(pattern.strip().decode())
                findings.append(Finding(path=path, line=number, message=f"{path}:{number}: Merge conflict string {shown} found"))
    return Verdict(check="check-merge-conflict", path=path, ok=not findings, findings=tuple(findings))


_PRIVATE_KEY_MARKERS = (
    b"BEGIN RSA PRIVATE KEY",
    b"BEGIN DSA PRIVATE KEY",
    b"BEGIN EC PRIVATE KEY",
    b"BEGIN OPENSSH PRIVATE KEY",
    b"BEGIN PRIVATE KEY",
    b"PuTTY-User-Key-File-2",
    b"BEGIN SSH2 ENCRYPTED PRIVATE KEY",
    b"BEGIN PGP PRIVATE KEY BLOCK",
    b"BEGIN ENCRYPTED PRIVATE KEY",
    b"BEGIN OpenVPN Static key V1",
)


def detect_private_key(path: str, content: bytes, opts: PrivateKeyOpts) -> Verdict:
    """Fails when any known private-key marker occurs anywhere in the bytes."""
    # every marker contains one of these three: three scans of a clean file instead of ten
    # (written out: a generator over them costs as much as the scans of a small file)
    hinted = b"PRIVATE KEY" in content or b"PuTTY-User-Key-File-2" in content or b"OpenVPN Static key V1" in content
    if hinted and any(m in content for m in _PRIVATE_KEY_MARKERS):
        return _fail("detect-private-key", path, f"Private key found: {path}")
    return _ok("detect-private-key", path)


# --- whole-set checks ------------------------------------------------------------------


def check_added_large_files(facts: RepoFacts, opts: LargeFilesOpts) -> tuple[Verdict, ...]:
    """Files bigger than ``maxkb`` KiB (rounded up) fail if staged for addition (any
    file with ``enforce_all``); git-LFS files never fail."""
    out = []
    for path in facts.paths:
        if path in facts.lfs or not (opts.enforce_all or path in facts.added):
            out.append(_ok("check-added-large-files", path))
            continue
        size = facts.sizes.get(path)
        if size is None:
            out.append(_fail("check-added-large-files", path, f"{path}: cannot stat"))
            continue
        kb = -(-size // 1024)
        if kb > opts.maxkb:
            out.append(_fail("check-added-large-files", path, f"{path} ({kb} KB) exceeds {opts.maxkb} KB."))
        else:
            out.append(_ok("check-added-large-files", path))
    return tuple(out)


def _parents(path: str) -> Iterator[str]:
    parts = path.split("/")[:-1]
    while parts:
        yield "/".join(parts)
        parts.pop()


def _with_dirs(paths: set[str]) -> set[str]:
    out = set(paths)
    for folder in {p.rpartition("/")[0] for p in paths}:  # a tree has far fewer folders than files
        while folder and folder not in out:
            out.add(folder)
            folder = folder.rpartition("/")[0]
    return out


def check_case_conflict(facts: RepoFacts, opts: CaseConflictOpts) -> tuple[Verdict, ...]:
    """Names (files or their folders) that differ only in case: among the received and
    added files, or between them and the other tracked files."""
    relevant = _with_dirs(set(facts.paths) | set(facts.added))
    # the folders of tracked files that are relevant are relevant: only the others' are new
    others = _with_dirs(set(facts.tracked) - relevant) - relevant
    lowered = [name.lower() for name in relevant]
    seen = set(lowered)
    conflicts = {p.lower() for p in others} & seen
    if len(seen) < len(lowered):  # two relevant names that differ only in case
        once: set[str] = set()
        for low in lowered:
            if low in once:
                conflicts.add(low)
            once.add(low)
    if not conflicts:  # the common case: no name to look for under each path
        return tuple(Verdict(check="check-case-conflict", path=path, ok=True) for path in facts.paths)
    names = sorted(x for x in others | relevant if x.lower() in conflicts)
    out, covered = [], set()
    for path in facts.paths:
        keys = {path.lower(), *(p.lower() for p in _parents(path))}
        mine = [n for n in names if n.lower() in keys]
        covered.update(mine)
        findings = tuple(Finding(path=path, message=f"Case-insensitivity conflict found: {n}") for n in mine)
        out.append(Verdict(check="check-case-conflict", path=path, ok=not mine, findings=findings))
    for name in names:
        if name not in covered:
            out.append(_fail("check-case-conflict", name, f"Case-insensitivity conflict found: {name}"))
    return tuple(out)
