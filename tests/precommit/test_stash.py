"""The stash's look-ahead: the lock taken early and ``git status`` started in the
background, only when that cannot change what the stash would have read."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from omnibase._io.git import status
from omnibase.precommit._stash import look_ahead, staged_only


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "test@example.invalid")
    git("config", "user.name", "test")
    (tmp_path / "a.py").write_text("a = 1\n")
    git("add", "a.py")
    git("commit", "-q", "--no-verify", "-m", "one")
    (tmp_path / "a.py").write_text("a = 2\n")
    git("add", "a.py")
    (tmp_path / "a.py").write_text("a = 3  # unstaged\n")
    return tmp_path


def _held(gitdir: Path) -> bool:
    """Whether someone holds the stash lock (a non-blocking attempt fails)."""
    fd = os.open(gitdir / "omnibase" / "stash.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _first_run(repo: Path) -> None:
    """What a first run leaves: the lock file (the look-ahead never creates it)."""
    with staged_only(str(repo), str(repo / ".git")):
        pass


def test_it_writes_nothing_not_even_the_lock_file(repo: Path) -> None:
    assert look_ahead(str(repo), str(repo / ".git")) is None
    assert not (repo / ".git" / "omnibase").exists()


def test_it_holds_the_lock_until_closed_and_answers_as_status_does(repo: Path) -> None:
    gitdir = repo / ".git"
    _first_run(repo)
    before = status(str(repo)).unwrap()
    ahead = look_ahead(str(repo), str(gitdir))
    assert ahead is not None
    assert _held(gitdir)
    with staged_only(str(repo), str(gitdir), ahead) as stashed:
        state = stashed.unwrap()
        assert (repo / "a.py").read_text() == "a = 2\n"  # the staged content, unstaged set aside
        assert state.status == before
        assert state.status.staged == (("M", "a.py"),) and state.status.unstaged == (("M", "a.py"),)
        assert _held(gitdir)  # still ours inside the block
    assert (repo / "a.py").read_text() == "a = 3  # unstaged\n"
    assert _held(gitdir)  # the owner closes it, not the stash
    ahead.close()
    ahead.close()  # twice is harmless
    assert not _held(gitdir)


def test_no_look_ahead_while_another_run_holds_the_lock(repo: Path) -> None:
    gitdir = repo / ".git"
    _first_run(repo)
    fd = os.open(gitdir / "omnibase" / "stash.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert look_ahead(str(repo), str(gitdir)) is None
    finally:
        os.close(fd)
    ahead = look_ahead(str(repo), str(gitdir))
    assert ahead is not None
    ahead.close()


def test_no_look_ahead_when_an_interrupted_run_left_a_patch(repo: Path) -> None:
    gitdir = repo / ".git"
    _first_run(repo)
    folder = gitdir / "omnibase" / "patches"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1-1.patch").write_bytes(b"")
    assert look_ahead(str(repo), str(gitdir)) is None
    assert not _held(gitdir)


def test_closing_before_use_stops_git_and_lets_go(repo: Path) -> None:
    gitdir = repo / ".git"
    _first_run(repo)
    ahead = look_ahead(str(repo), str(gitdir))
    assert ahead is not None
    ahead.close()
    assert not _held(gitdir)
    assert "cancelled" in ahead.pending.answer().failure().message


def test_no_look_ahead_through_a_symlinked_lock_file(repo: Path, tmp_path: Path) -> None:
    gitdir = repo / ".git"
    _first_run(repo)
    elsewhere = tmp_path / "elsewhere.lock"
    elsewhere.write_bytes(b"")
    (gitdir / "omnibase" / "stash.lock").unlink()
    os.symlink(elsewhere, gitdir / "omnibase" / "stash.lock")
    assert look_ahead(str(repo), str(gitdir)) is None
