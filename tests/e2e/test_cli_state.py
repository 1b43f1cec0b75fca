"""The state folder (``.git/omnibase``) through the real CLI: checked once, by everyone, and
no write of it leaves debris behind (issue 24.15)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_the_stash_refuses_a_symlinked_state_folder_and_leaves_the_work_where_it_is(repo, cli, tmp_path):
    repo.seed({"a.txt": "one\n"})
    repo.write("a.txt", "one\ntwo\n")
    repo.stage("a.txt")
    repo.write("a.txt", "one\ntwo\nunstaged\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, repo.root / ".git" / "omnibase")
    r = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert r.code == 2, r
    assert "symbolic link" in r.err
    assert list(elsewhere.iterdir()) == []
    assert (repo.root / "a.txt").read_text() == "one\ntwo\nunstaged\n"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_a_patch_that_cannot_be_written_leaves_no_temporary_file_and_the_work_in_place(repo, tmp_path):
    """The file-size limit stands in for a full disk: saving the unstaged work fails, the run
    stops (exit 2) before touching the working tree, and no ``*.tmp`` is left in patches/."""
    repo.seed({"big.txt": "x\n"})
    repo.write("big.txt", "x\nstaged\n")
    repo.stage("big.txt")
    unstaged = "x\nstaged\n" + "".join(f"line {i} of unstaged work\n" for i in range(20000))
    repo.write("big.txt", unstaged)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PYTEST_"))}
    env["OMNIBASE_SERVER"] = "0"
    done = subprocess.run([sys.executable, "-m", "omnibase", "orch", "--stage", "pre-commit"], cwd=repo.root, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, preexec_fn=limit, timeout=120)
    assert done.returncode == 2, done
    assert "cannot save the unstaged changes" in done.stderr
    patches = repo.root / ".git" / "omnibase" / "patches"
    assert not patches.exists() or [p.name for p in patches.iterdir()] == []
    assert (repo.root / "big.txt").read_text() == unstaged
