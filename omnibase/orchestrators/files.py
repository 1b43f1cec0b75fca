"""Which files a stage looks at, asked of git (an edge: runs ``git``).

Every function returns a ``Result``: outside a git repository, or with git missing, the
caller gets a ``FileScopeError`` value to report, never an exception.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

import msgspec
from returns.result import Failure, Result, Success

__all__ = ["FileScopeError", "all_files", "explicit_files", "index_tree", "repo_root", "staged_files"]


class FileScopeError(msgspec.Struct, frozen=True):
    message: str


def _git(args: Sequence[str], cwd: str) -> Result[str, FileScopeError]:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except OSError as exc:
        return Failure(FileScopeError(f"cannot run git: {exc.strerror or exc}"))
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Failure(FileScopeError(err[-1] if err else f"git {args[0]} exited {done.returncode}"))
    return Success(done.stdout.decode("utf-8", "surrogateescape"))


def repo_root(cwd: str = ".") -> Result[str, FileScopeError]:
    """The top of the git work tree containing ``cwd``."""
    return _git(["rev-parse", "--show-toplevel"], cwd).map(str.strip)


def index_tree(root: str) -> Result[str, FileScopeError]:
    """The id of the tree in the index (``git write-tree``): what a commit would hold now,
    and ``HEAD^{tree}`` right after that commit."""
    return _git(["write-tree"], root).map(str.strip)


def _paths(out: str) -> tuple[str, ...]:
    return tuple(p for p in out.split("\0") if p)


def staged_files(root: str) -> Result[tuple[str, ...], FileScopeError]:
    """Files added, copied, modified or renamed in the index (what a commit would take),
    that still exist in the work tree."""
    return _git(["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z", "--no-ext-diff"], root).map(
        lambda out: tuple(p for p in _paths(out) if os.path.lexists(os.path.join(root, p)))
    )


def all_files(root: str) -> Result[tuple[str, ...], FileScopeError]:
    """Every file git tracks, plus files staged for addition."""
    return _git(["ls-files", "-z", "--cached"], root).map(
        lambda out: tuple(p for p in _paths(out) if os.path.lexists(os.path.join(root, p)))
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
