"""Where omnibase keeps what it remembers between runs: every path under ``<git dir>/omnibase/``,
named here once, and the one check of that folder before anything is written in it.

::

    <git dir>/omnibase/            the state folder (``state_dir``): a real folder of ours
        patches/*.patch            unstaged work set aside by a pre-commit run (``patches_dir``)
        stash.lock                 held while a run has work set aside (``stash_lock``)
        fixes/<run id>/            fixers' edits waiting to be written (``fixes_dir``)
        snapshots/*.json           failed runs, for ``snapshot show`` and replay (``snapshots_dir``)
        outputs/<run id>/<step>.txt  a failed step's whole output when the human view cut it
                                   (``outputs_dir``; the last ``KEEP_OUTPUTS`` runs are kept)
        cache/verdicts.sqlite3     built-in checks' verdicts per file content (``cache_file``)
        last-run/<stage>.json      each component's last status, for ``--only-failed`` (``last_run_file``)
        trees.json                 stage outcomes per index tree, for gates (``trees_file``)
        breakers.json              circuit breakers kept between runs (``breakers_file``)
        breakers.lock              held while a run merges its breakers in (``breakers_lock``)
    <common git dir>/omnibase/
        server/                    the command server's socket folder (``server_dir``)

A linked worktree has a git directory of its own (``.git/worktrees/NAME``), so its runs do
not share patches, snapshots or history with the main one; the hooks, and so the command
server, belong to the common git directory. Outside a git work tree the state folder is
``<root>/.omnibase``.

The git directory is found in one place, ``omnibase._io.git.repo_paths`` (git's own
answer, asked once per process and work tree); the hook's client, which may import nothing
of omnibase, keeps its own copy of ``server_dir`` and a test holds the two equal.

Every name but ``server_dir`` takes the state folder (``state_dir(git_dir)``, or
``state_dir_of(root)``), so that the same names serve a root without git:

>>> patches_dir(state_dir("/r/.git"))
'/r/.git/omnibase/patches'
>>> last_run_file(state_dir("/r/.git"), "pre-commit")
'/r/.git/omnibase/last-run/pre-commit.json'
"""

from __future__ import annotations

import os
import stat

import msgspec
from returns.result import Failure, Result, Success

__all__ = [
    "FOLDER",
    "StateError",
    "breakers_file",
    "breakers_lock",
    "cache_file",
    "fixes_dir",
    "last_run_file",
    "KEEP_OUTPUTS",
    "make_state_dir",
    "outputs_dir",
    "patches_dir",
    "safe_name",
    "scratch_dir",
    "server_dir",
    "snapshots_dir",
    "stash_lock",
    "state_dir",
    "state_dir_of",
    "trees_file",
]

#: The state folder's name inside a git directory (and, dotted, at a root without one).
FOLDER = "omnibase"


class StateError(msgspec.Struct, frozen=True):
    """Why the state folder (or a folder in it) cannot be used (one line, naming it)."""

    message: str


def state_dir(git_dir: str) -> str:
    """The state folder of the repository whose git directory is ``git_dir``."""
    return os.path.join(git_dir, FOLDER)


def state_dir_of(root: str) -> str:
    """The state folder of the work tree at ``root``: in its git directory, else
    ``root/.omnibase`` when ``root`` is no git work tree."""
    from omnibase._io.git import repo_paths

    found = repo_paths(root)
    if isinstance(found, Success):
        return state_dir(found.unwrap().git_dir)
    return os.path.join(root, "." + FOLDER)


def patches_dir(state: str) -> str:
    return os.path.join(state, "patches")


def stash_lock(state: str) -> str:
    return os.path.join(state, "stash.lock")


def fixes_dir(state: str, run: str) -> str:
    """The spool folder of the run whose id, made a safe file name, is ``run``."""
    return os.path.join(state, "fixes", run)


def safe_name(name: str) -> str:
    """``name`` (a run id, a component's name) as one file name: only ``A-Za-z0-9_.-``,
    at most 100 characters, never ``.`` or ``..`` (which name this folder or the one above).

    >>> safe_name("lint/ruff check")
    'lint_ruff_check'
    >>> safe_name("..")
    '__'
    """
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100]
    return safe if safe.strip(".") else "_" * max(len(safe), 1)


#: How many runs' saved outputs ``outputs/`` keeps (the most recent).
KEEP_OUTPUTS = 20


def outputs_dir(state: str, run: str | None = None) -> str:
    """The folder of the saved whole outputs (``run``: of that run, a ``safe_name``)."""
    return os.path.join(state, "outputs", run) if run else os.path.join(state, "outputs")


def scratch_dir(state: str, span: str) -> str:
    """A command's own temporary folder (its ``TMPDIR``) while it runs under a write
    sandbox: inside the state folder, so the sandbox lets it write there and nowhere else
    outside the repository; removed when the command ends."""
    return os.path.join(state, "tmp", safe_name(span))


def snapshots_dir(state: str) -> str:
    return os.path.join(state, "snapshots")


def cache_file(state: str) -> str:
    return os.path.join(state, "cache", "verdicts.sqlite3")


def last_run_file(state: str, stage: str) -> str:
    return os.path.join(state, "last-run", f"{stage}.json")


def trees_file(state: str) -> str:
    return os.path.join(state, "trees.json")


def breakers_file(state: str) -> str:
    return os.path.join(state, "breakers.json")


def breakers_lock(state: str) -> str:
    return os.path.join(state, "breakers.lock")


def server_dir(common_git_dir: str) -> str:
    """The command server's socket folder, from the common git directory (not a state
    folder: ``omnibase.server.client.socket_dir`` is a copy of this, and takes the same)."""
    return os.path.join(state_dir(common_git_dir), "server")


def make_state_dir(folder: str, *, mode: int = 0o777) -> Result[str, StateError]:
    """Create ``folder`` and the folders above it it needs, refusing to use any folder from
    the state folder (the last ``omnibase`` or ``.omnibase`` on the path) down to ``folder``
    that is a symbolic link, not a folder, or another user's: what the stash, the spool, the
    cache and the snapshots write there is the user's work, and a link planted there would
    send it elsewhere. The one check of the state folder, used by every writer in it. (A
    folder outside any state folder, as a library caller may give ``write_snapshot``, is
    only created.) ``mode`` applies to the folders it creates."""
    folder = os.path.abspath(folder)
    chain = [folder]
    while os.path.basename(chain[-1]) not in (FOLDER, "." + FOLDER) and chain[-1] != os.path.dirname(chain[-1]):
        chain.append(os.path.dirname(chain[-1]))
    if os.path.basename(chain[-1]) not in (FOLDER, "." + FOLDER):
        try:
            os.makedirs(folder, mode, exist_ok=True)
        except OSError as exc:
            return Failure(StateError(f"{folder}: cannot create ({exc.strerror or exc})"))
        return Success(folder)
    for path in reversed(chain):
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            pass
        except OSError as exc:
            return Failure(StateError(f"{path}: cannot create ({exc.strerror or exc})"))
        try:
            st = os.lstat(path)
        except OSError as exc:
            return Failure(StateError(f"{path}: cannot use ({exc.strerror or exc})"))
        if stat.S_ISLNK(st.st_mode):
            return Failure(StateError(f"{path}: a symbolic link; not writing through it"))
        if not stat.S_ISDIR(st.st_mode):
            return Failure(StateError(f"{path}: exists and is not a folder"))
        if st.st_uid != os.getuid() and os.getuid() != 0:
            return Failure(StateError(f"{path}: belongs to another user; omnibase writes nothing in it"))
    return Success(folder)
