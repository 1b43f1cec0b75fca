"""Which files a stage looks at, asked of git (an edge: runs ``git`` through ``omnibase._git``).

Every function returns a ``Result``: outside a git repository, or with git missing, the
caller gets a ``FileScopeError`` value to report, never an exception.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import msgspec
from returns.result import Failure, Result, Success

from omnibase._git import git, zsplit

__all__ = [
    "FileScopeError",
    "RepoPaths",
    "all_files",
    "changed_files",
    "explicit_files",
    "index_tree",
    "repo_paths",
    "repo_root",
    "Staged",
    "staged",
    "staged_files",
]


class FileScopeError(msgspec.Struct, frozen=True):
    message: str


class RepoPaths(msgspec.Struct, frozen=True):
    """The work tree's top and the absolute git directory (one ``git rev-parse``)."""

    root: str
    git_dir: str


def repo_paths(cwd: str = ".") -> Result[RepoPaths, FileScopeError]:
    """Where the work tree containing ``cwd`` starts, and where its git directory is."""
    found = git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], cwd)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    lines = found.unwrap().decode("utf-8", "surrogateescape").splitlines()
    if len(lines) != 2:  # a bare repository has no work tree
        return Failure(FileScopeError("not inside a git work tree"))
    return Success(RepoPaths(root=lines[0], git_dir=lines[1]))


def repo_root(cwd: str = ".") -> Result[str, FileScopeError]:
    """The top of the git work tree containing ``cwd``."""
    return repo_paths(cwd).map(lambda p: p.root)


def _existing(root: str, out: bytes) -> tuple[str, ...]:
    return tuple(p for p in zsplit(out) if os.path.lexists(os.path.join(root, p)))


class Staged(msgspec.Struct, frozen=True):
    """What a commit would take: the paths, and those of them that are new."""

    paths: tuple[str, ...]
    added: frozenset[str]


def staged(root: str) -> Result[Staged, FileScopeError]:
    """Files added, copied, modified or renamed in the index (what a commit would take),
    that still exist in the work tree, and which of them are added (one git call)."""
    found = git(["diff", "--cached", "--name-status", "--diff-filter=ACMR", "-z", "--no-ext-diff", "--no-renames"], root)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    fields = zsplit(found.unwrap())
    pairs = list(zip(fields[0::2], fields[1::2]))
    return Success(
        Staged(
            paths=tuple(p for _, p in pairs if os.path.lexists(os.path.join(root, p))),
            added=frozenset(p for status, p in pairs if status == "A"),
        )
    )


def index_tree(root: str) -> Result[str, FileScopeError]:
    """The id of the tree in the index (``git write-tree``): what a commit would hold now,
    and ``HEAD^{tree}`` right after that commit."""
    found = git(["write-tree"], root)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    return Success(found.unwrap().decode("utf-8", "replace").strip())


def staged_files(root: str) -> Result[tuple[str, ...], FileScopeError]:
    """The paths of ``staged``."""
    return staged(root).map(lambda s: s.paths)


def all_files(root: str) -> Result[tuple[str, ...], FileScopeError]:
    """Every file git tracks, plus files staged for addition."""
    return git(["ls-files", "-z", "--cached"], root).map(lambda out: _existing(root, out)).alt(
        lambda e: FileScopeError(e.message)
    )


def changed_files(root: str, old: str, new: str) -> Result[tuple[str, ...], FileScopeError]:
    """Files added, copied, modified or renamed between two commits (what a push sends)."""
    return (
        git(["diff", "--name-only", "--diff-filter=ACMR", "-z", "--no-ext-diff", old, new], root)
        .map(lambda out: _existing(root, out))
        .alt(lambda e: FileScopeError(e.message))
    )


def explicit_files(root: str, cwd: str, paths: Sequence[str]) -> Result[tuple[str, ...], FileScopeError]:
    """Paths given on the command line, made relative to ``root``; they must exist."""
    out: list[str] = []
    for p in paths:
        full = os.path.abspath(os.path.join(cwd, p))
        if not os.path.lexists(full):
            return Failure(FileScopeError(f"{p}: no such file"))
        rel = os.path.relpath(full, root)
        if rel.startswith(".." + os.sep) or rel == "..":
            return Failure(FileScopeError(f"{p}: outside the repository at {root}"))
        if os.path.isdir(full):
            for base, dirs, names in os.walk(full):
                dirs[:] = [d for d in dirs if d != ".git"]
                out.extend(os.path.relpath(os.path.join(base, n), root) for n in names)
        else:
            out.append(rel)
    return Success(tuple(dict.fromkeys(out)))
