"""``supervised_stash`` without its fork: only when nothing was set aside and the caller
says nothing the run starts can end the process early. Real repositories, real forks.

Each case calls the supervisor in a forked child of the test (one thread: a test runner's
worker may have a thread of its own, and then the supervisor rightly refuses to fork)."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omnibase.precommit._stash import Stashed
from omnibase.precommit._supervise import _can_fork, _threads, supervised_stash
from tests.support import git, init_repo

pytestmark = pytest.mark.skipif(sys.platform != "linux" or not hasattr(os, "fork"), reason="the supervisor forks on Linux")


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


def _in_a_child(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()`` in a forked child of this process (which has one thread), its answer."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return dict(json.loads(data))


def _supervised(root: Path, *, in_process: bool) -> dict[str, Any]:
    """The supervisor around a run that notes its pid, what it saw of a.py and whether the
    lock was held; ``finish`` adds 40 to the run's code, so the exit code shows both ran."""

    def call() -> dict[str, Any]:
        seen = root.parent / "seen"

        def run(state: Stashed) -> int:
            seen.write_text(json.dumps([os.getpid(), (root / "a.py").read_text(), _lock_held(root)]))
            return 1

        def finish(state: Stashed, code: int) -> int:
            return code + 40

        code = supervised_stash(
            str(root), str(root / ".git"), None, run, finish, lambda message: 2, lambda body: body(),
            lambda message: None, in_process=in_process,
        )  # fmt: skip
        pid, content, held = json.loads(seen.read_text())
        return {"code": code, "here": pid == os.getpid(), "content": content, "held": held}

    return _in_a_child(call)


def test_a_clean_tree_runs_in_this_process_with_the_lock_held(repo: Path) -> None:
    done = _supervised(repo, in_process=True)
    assert done == {"code": 41, "here": True, "content": "a = 2\n", "held": True}
    assert not _lock_held(repo)  # let go once the run is over


def test_unstaged_work_is_still_set_aside_around_a_run_in_a_child(repo: Path) -> None:
    (repo / "a.py").write_text("a = 3  # unstaged\n")
    done = _supervised(repo, in_process=True)
    assert done == {"code": 41, "here": False, "content": "a = 2\n", "held": True}  # the staged content
    assert (repo / "a.py").read_text() == "a = 3  # unstaged\n"
    assert list((repo / ".git" / "omnibase" / "patches").iterdir()) == []


def test_a_run_the_caller_cannot_vouch_for_forks_even_on_a_clean_tree(repo: Path) -> None:
    assert _supervised(repo, in_process=False)["here"] is False


def test_a_thread_threading_does_not_know_of_means_no_fork() -> None:
    """A thread started with ``_thread`` is not in ``threading.active_count()``, yet a signal
    sent to the process may reach it: the supervisor counts the kernel's threads."""
    import _thread

    def count() -> dict[str, Any]:
        release = threading.Lock()
        release.acquire()
        started = threading.Event()

        def wait() -> None:
            started.set()
            release.acquire()

        _thread.start_new_thread(wait, ())
        started.wait()
        try:
            return {"threads": _threads(), "known": threading.active_count(), "fork": _can_fork()}
        finally:
            release.release()

    alone = _in_a_child(lambda: {"threads": _threads(), "fork": _can_fork()})
    assert alone == {"threads": 1, "fork": True}
    assert _in_a_child(count) == {"threads": 2, "known": 1, "fork": False}
