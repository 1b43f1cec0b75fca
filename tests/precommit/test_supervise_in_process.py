"""``supervised_stash`` without its fork: only when nothing was set aside and the caller
says nothing the run starts can end the process early. Real repositories, real forks."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from omnibase.precommit._stash import Stashed
from omnibase.precommit._supervise import _can_fork, supervised_stash
from tests.support import git, init_repo

pytestmark = pytest.mark.skipif(not _can_fork(), reason="the supervisor forks only where that is safe")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "r")
    (root / "a.py").write_text("a = 1\n")
    git(root, "add", "a.py")
    git(root, "commit", "-q", "--no-verify", "-m", "one")
    (root / "a.py").write_text("a = 2\n")
    git(root, "add", "a.py")
    return root


def _lock_held(root: Path) -> bool:
    fd = os.open(root / ".git" / "omnibase" / "stash.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _supervised(root: Path, seen: Path, *, in_process: bool) -> int:
    """A run that writes down its pid, what it saw of a.py and whether the lock was held;
    ``finish`` adds 40 to its code, so the exit code shows both ran."""

    def run(state: Stashed) -> int:
        seen.write_text(f"{os.getpid()}\n{(root / 'a.py').read_text()}{_lock_held(root)}\n")
        return 1

    def finish(state: Stashed, code: int) -> int:
        return code + 40

    return supervised_stash(
        str(root), str(root / ".git"), None, run, finish, lambda message: 2, lambda body: body(), lambda message: None,
        in_process=in_process,
    )


def test_a_clean_tree_runs_in_this_process_with_the_lock_held(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    assert _supervised(repo, seen, in_process=True) == 41
    pid, content, held = seen.read_text().splitlines()
    assert int(pid) == os.getpid()
    assert (content, held) == ("a = 2", "True")
    assert not _lock_held(repo)  # let go once the run is over


def test_unstaged_work_is_still_set_aside_around_a_run_in_a_child(repo: Path, tmp_path: Path) -> None:
    (repo / "a.py").write_text("a = 3  # unstaged\n")
    seen = tmp_path / "seen"
    assert _supervised(repo, seen, in_process=True) == 41
    pid, content, held = seen.read_text().splitlines()
    assert int(pid) != os.getpid()
    assert (content, held) == ("a = 2", "True")  # the staged content, under the lock
    assert (repo / "a.py").read_text() == "a = 3  # unstaged\n"
    assert list((repo / ".git" / "omnibase" / "patches").iterdir()) == []


def test_a_run_the_caller_cannot_vouch_for_forks_even_on_a_clean_tree(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    assert _supervised(repo, seen, in_process=False) == 41
    assert int(seen.read_text().splitlines()[0]) != os.getpid()
