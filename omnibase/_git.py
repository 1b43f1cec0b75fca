"""The one place omnibase runs ``git`` (an edge: runs a subprocess).

Every call returns a ``Result``: git missing, or git exiting non-zero, is a ``GitError``
value naming git's own last line of complaint, never an exception. Output is bytes;
``text`` decodes it with ``surrogateescape`` so any path round-trips.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

import msgspec
from returns.result import Failure, Result, Success

__all__ = ["GitError", "git", "git_dir", "git_text", "text", "zsplit"]


class GitError(msgspec.Struct, frozen=True):
    """Why a git command did not give an answer; ``code`` is its exit status (-1: not run)."""

    message: str
    code: int = -1


def git(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    ok_codes: tuple[int, ...] = (0,),
    env: Mapping[str, str] | None = None,
) -> Result[bytes, GitError]:
    """``git ARGS`` in ``cwd``: its stdout, or why not. Exit codes in ``ok_codes`` count as
    an answer (``git diff --exit-code`` says "there is a difference" with 1)."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            check=False,
            env=None if env is None else {**os.environ, **env},
        )
    except OSError as exc:
        return Failure(GitError(f"cannot run git: {exc.strerror or exc}"))
    if done.returncode not in ok_codes:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Failure(GitError(err[-1] if err else f"git {args[0]} exited {done.returncode}", done.returncode))
    return Success(done.stdout)


def text(out: bytes) -> str:
    """git's output as text; undecodable bytes survive as surrogates."""
    return out.decode("utf-8", "surrogateescape")


def git_text(args: Sequence[str], cwd: str) -> Result[str, GitError]:
    """``git`` with its output decoded (see ``text``)."""
    return git(args, cwd).map(text)


def zsplit(out: bytes | str) -> list[str]:
    """The entries of ``-z`` output (NUL-separated), decoded."""
    data = text(out) if isinstance(out, bytes) else out
    return [p for p in data.split("\0") if p]


def git_dir(root: str) -> Result[str, GitError]:
    """The absolute path of the repository's git directory (``.git`` or a worktree's)."""
    return git_text(["rev-parse", "--absolute-git-dir"], root).map(str.strip)
