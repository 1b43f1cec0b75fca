"""Kill a real ``git commit`` at seeded moments: no unstaged byte is ever lost.

Each trial starts ``git commit`` (the hook installed, unstaged edits of several kinds beside
the staged file) in a process group of its own, sends SIGKILL or SIGTERM to the whole group
after a seeded delay, and waits until every process of it has ended. Then the working tree,
the index and ``git status`` are what they were before the commit, or become so with
``omnibase restore``, which the next hook run names.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from omnibase.server import client as _client
from tests.e2e.conftest import _env
from tests.e2e.test_stash_commit import _git, _patches, _saved, _tree

pytestmark = pytest.mark.e2e


def _prepare(repo) -> None:
    repo.seed({"a.txt": "one\ntwo\n", "bin.dat": bytes(range(256)), "mode.txt": "m\n", "c.txt": "c\n"})
    repo.write("b.txt", "staged\n")
    repo.stage("b.txt")
    repo.write("a.txt", "one\r\ntwo, edited\r\n")
    repo.write("bin.dat", bytes(range(255, -1, -1)))
    os.chmod(repo.root / "mode.txt", 0o775)
    (repo.root / "c.txt").unlink()
    repo.write("untracked.txt", "untracked\n")


def _members(pgid: int) -> list[tuple[int, str, int, str, str]]:
    """Every process still in process group ``pgid``, zombies included (a process is gone
    only once reaped): pid, state (``/proc/PID/stat``), parent, blocked signals (``SigBlk``)
    and command line."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            fields = stat[stat.rindex(")") + 2 :].split()  # state ppid pgrp ...
            if int(fields[2]) != pgid:
                continue
            with open(f"/proc/{entry}/status") as f:
                blocked = next((line.split()[1] for line in f if line.startswith("SigBlk:")), "?")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
        found.append((int(entry), fields[0], int(fields[1]), blocked, argv or stat[: stat.rindex(")") + 1]))
    return found


def _group_gone(pgid: int, timeout: float = 60.0) -> None:
    """Wait until every process of group ``pgid`` has ended: none left, or only zombies (an
    ended process that its parent has not reaped yet can touch nothing; when the suite runs
    under a subreaper, as under ``omnibase orch --stage ci``, that parent is busy until the
    suite ends). A zombie whose parent is this process is reaped here, since no one else
    will. What lingers is named."""
    end = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        members = _members(pgid)
        for pid, state, parent, _, _ in members:
            if state == "Z" and parent == os.getpid():
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        if members and all(state == "Z" for _, state, _, _, _ in members):
            return
        if time.monotonic() >= end:
            lingering = [f"pid {pid} state {state} parent {parent}{' (this test)' if parent == os.getpid() else ''} "
                         f"SigBlk {blocked}: {argv}" for pid, state, parent, blocked, argv in _members(pgid)]
            raise AssertionError("the commit's processes never ended:\n" + "\n".join(lingering))
        time.sleep(0.02)


def _run_over(repo, timeout: float = 60.0) -> None:
    """Wait until no run holds the stash lock (a served run goes on in the server's session
    after the commit's processes are gone, until the server's hang-up stops it)."""
    import fcntl

    path = repo.root / ".git" / "omnibase" / "stash.lock"
    end = time.monotonic() + timeout
    while path.exists():
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            assert time.monotonic() < end, "a run still holds the stash lock"
        finally:
            os.close(fd)
        time.sleep(0.05)


def _trial(repo, cli, rng: random.Random, env: dict[str, str]) -> None:
    before_tree = _tree(repo.root)
    before_index = _git(repo.root, "ls-files", "-s", "-z").stdout
    before_status = _git(repo.root, "status", "--porcelain=v2", "-z").stdout
    head = _git(repo.root, "rev-parse", "HEAD").stdout.strip().decode()
    sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
    delay = rng.uniform(0.05, 0.75)  # a commit through the hook takes about 0.7 s here
    proc = subprocess.Popen(["git", "commit", "-q", "-m", "killed"], cwd=repo.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    _, err = proc.communicate(timeout=60)
    _group_gone(proc.pid)
    _run_over(repo)
    where = f"signal {sig.name} after {delay:.3f} s; stderr: {err.decode(errors='replace')}"
    for lock in (repo.root / ".git").rglob("*.lock"):  # git's own (index, ref), left when git itself was SIGKILLed
        if "omnibase" not in lock.parts:
            lock.unlink()
    if proc.returncode == 0:
        assert _saved(repo.root) == [], where
    if _git(repo.root, "rev-parse", "HEAD").stdout.strip().decode() != head:
        # the commit was recorded before the signal (git may die after writing it): start again
        repo.git("reset", "-q", "--soft", head)
    if _saved(repo.root):
        again = subprocess.run(["git", "commit", "-q", "-m", "again"], cwd=repo.root, env=env,
                               capture_output=True, text=True, check=False)
        assert again.returncode != 0 and "omnibase restore" in again.stderr, f"{where}\n{again.stderr}"
        r = cli("restore")
        assert r.code == 0, f"{where}\n{r}"
    assert _saved(repo.root) == [], where
    assert _tree(repo.root) == before_tree, where
    assert _git(repo.root, "ls-files", "-s", "-z").stdout == before_index, where
    assert _git(repo.root, "status", "--porcelain=v2", "-z").stdout == before_status, where


def _trials(repo, cli, seed: int, count: int, *, served: bool = False) -> None:
    _prepare(repo)
    assert cli("install").code == 0
    env = _env({"OMNIBASE_SERVER_IDLE": "60"})
    folder = _client.socket_dir(str(repo.root / ".git"))
    if served:
        env.pop("OMNIBASE_SERVER")
        subprocess.Popen([sys.executable, "-P", "-c", _client.SERVE, folder], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(200):
            if _client.status_request(folder, b"STATUS") is not None:
                break
            time.sleep(0.05)
    rng = random.Random(seed)
    try:
        for _ in range(count):
            _trial(repo, cli, rng, env)
        done = subprocess.run(["git", "commit", "-q", "-m", "last"], cwd=repo.root, env=env, check=False)
        assert done.returncode == 0
        assert _saved(repo.root) == []
        if served:
            status = _client.status_request(folder, b"STATUS")
            assert status is not None and b"served 0" not in status  # the commits went through a server
    finally:
        if served:
            cli("server", "stop")
    assert _patches(repo.root) == []  # a save cut short left a temporary file: the next run removed it


def test_killing_a_commit_at_seeded_moments_never_loses_work(repo, cli):
    _trials(repo, cli, seed=24, count=24)


def test_killing_a_served_commit_at_seeded_moments_never_loses_work(repo, cli):
    """Through the command server the run is not in the commit's process group: the client
    dies, the server hangs the run up, and the run's supervisor still puts the work back."""
    _trials(repo, cli, seed=7, count=12, served=True)


@pytest.mark.slow
def test_killing_a_commit_at_many_more_moments_never_loses_work(repo, cli):
    _trials(repo, cli, seed=2424, count=120)
