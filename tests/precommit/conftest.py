"""Fixtures of the pre-commit tests: a repository holding unstaged work of every kind, and
a snapshot of a working tree (to say "byte for byte, mode for mode, as before")."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import Repo

Snapshot = dict[bytes, tuple[int, bytes]]

#: Bytes no text decoder or diff would carry as they are.
BLOB = bytes(range(256)) * 4 + b"\0\r\n\xff"


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root`` but ``.git``: (full ``st_mode``, bytes or a symlink's target)."""
    out: Snapshot = {}
    base = os.fsencode(root)
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d not in (b".git", b"__pycache__")]
        for name in names:
            full = os.path.join(folder, name)
            st = os.lstat(full)
            data = os.readlink(full) if stat.S_ISLNK(st.st_mode) else Path(os.fsdecode(full)).read_bytes()
            out[os.path.relpath(full, base)] = (st.st_mode, data)
    return out


@pytest.fixture
def snap() -> Callable[[Path], Snapshot]:
    return snapshot


@pytest.fixture
def work(repo: Repo) -> Repo:
    """A repository whose working tree holds unstaged changes of every kind beside a
    staged one: a text edit (CRLF), a binary edit, a mode-only change, a deletion, a new
    symlink target, a file in a subfolder; plus an untracked file and an intent-to-add one."""
    repo.seed({
        "a.txt": "one\ntwo\nthree\n", "bin.dat": BLOB, "run.sh": "echo hi\n", "gone.txt": "bye\n",
        "deep/er/x.txt": "x\n", "same.txt": "same\n", "staged.txt": "old\n",
    })  # fmt: skip
    os.symlink("a.txt", repo.root / "link")
    repo.stage("link")
    repo.commit("link")
    repo.write("staged.txt", "new\n")
    repo.stage("staged.txt")
    repo.write("a.txt", "one\r\ntwo, edited\r\nthree\r\n")
    repo.write("bin.dat", BLOB[::-1])
    (repo.root / "run.sh").chmod(0o755)
    (repo.root / "gone.txt").unlink()
    (repo.root / "link").unlink()
    os.symlink("bin.dat", repo.root / "link")
    repo.write("deep/er/x.txt", "x, edited\n")
    repo.write("untracked.txt", "mine\n")
    repo.write("later.txt", "intent\n")
    repo.git("add", "-N", "later.txt")
    return repo
