"""The hook's client (``omnibase/server/client.py``) runs by path under ``python -I -S`` and
imports nothing of omnibase, so it keeps copies of three rules; each is held equal to its one
home here: where the git directory is, where the server's socket folder is, and 128 + N."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys

import pytest

from omnibase._io.git import repo_paths
from omnibase._io.state import server_dir
from omnibase.core.exits import signal_exit
from omnibase.server import client
from tests.support import git, linked_worktree


@pytest.fixture
def main_and_linked(tmp_path: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    return linked_worktree(tmp_path)


def test_the_clients_copy_finds_the_same_server_folder_as_the_package(main_and_linked: tuple[pathlib.Path, pathlib.Path]) -> None:
    """The hook's client reads the git folder from ``--hook-dir`` (git's hooks folder) and
    names the socket folder itself: both must be what ``repo_paths``/``server_dir`` say."""
    for tree in main_and_linked:
        hooks = git(tree, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip()
        found = client._git_dir(["--hook-type=pre-commit", "--hook-dir", hooks, "--"])
        assert found == repo_paths(str(tree)).unwrap().common_dir
        assert client.socket_dir(found) == server_dir(found)


def test_the_clients_copy_runs_alone_under_isolated_python(tmp_path: pathlib.Path) -> None:
    """The client is run by path under ``-I -S``; its ``socket_dir`` there names the same folder."""
    code = f"import runpy; ns = runpy.run_path({client.__file__!r}); print(ns['socket_dir']('/r/.git'))"
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == server_dir("/r/.git") == "/r/.git/omnibase/server"


def test_the_clients_signal_exit_is_the_packages() -> None:
    for sig in signal.valid_signals():
        assert client.signal_exit(int(sig)) == signal_exit(int(sig))
    assert client.signal_exit(signal.SIGINT) == 130
