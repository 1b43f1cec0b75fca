"""Where and how fixers write (issue 9 and 10): never through a symlinked folder out of
the repository, hard links kept as pre-commit-hooks keeps them, one write per file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_a_fixer_never_writes_through_a_symlinked_folder(repo, cli, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"mine   \n")
    os.symlink(outside, repo.root / "linkdir")
    r = cli("orch", "--format", "json", "linkdir/victim.txt")
    assert victim.read_bytes() == b"mine   \n"
    os.symlink(victim, repo.root / "link.txt")
    cli("orch", "--format", "json", "link.txt")
    assert victim.read_bytes() == b"mine   \n"
    # a path through a symlinked folder that leads out is outside the repository, as a
    # "../" path is (one containment check, omnibase._io.paths): refused, not a crash
    assert r.code == 2 and "outside the repository" in r.err, r


def _reference_fix(folder) -> None:
    subprocess.run(
        [sys.executable, "-m", "pre_commit_hooks.trailing_whitespace_fixer", "a.txt"], cwd=folder, check=False,
        capture_output=True,
    )


def test_hard_links_are_kept_as_pre_commit_hooks_keeps_them(repo, cli, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    for folder in (repo.root, ref):
        (folder / "a.txt").write_bytes(b"x   \n")
        os.link(folder / "a.txt", folder / "b.txt")
    _reference_fix(ref)
    r = cli("orch", "--format", "json", "a.txt")
    assert r.code == 1, r
    for folder in (repo.root, ref):
        assert (folder / "a.txt").read_bytes() == b"x\n"
        assert (folder / "b.txt").read_bytes() == b"x\n"  # the other link sees the fix
        assert os.stat(folder / "a.txt").st_ino == os.stat(folder / "b.txt").st_ino


def test_each_fixed_file_is_written_once_after_all_fixers(repo, monkeypatch):
    from omnibase.builtins import _run
    from omnibase.cli import main

    writes: list[str] = []
    real = _run._write
    monkeypatch.setattr(_run, "_write", lambda full, content, like: (writes.append(full), real(full, content, like)))
    repo.write("a.txt", b"x   \r\ny\n\n\n")  # trailing whitespace, mixed endings, extra newlines
    monkeypatch.chdir(repo.root)
    assert main(["orch", "--format", "json", "--no-cache", "a.txt"]) == 1
    assert (repo.root / "a.txt").read_bytes() == b"x\ny\n"
    assert writes == [str(repo.root / "a.txt")]


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE as on Linux")
def test_a_fix_that_cannot_be_written_is_reported_as_not_written(repo, tmp_path):
    """The file-size limit stands in for a full disk: the fixer's write fails (EFBIG), and
    the report says so instead of "Fixing"; the file is as it was."""
    import json
    import resource
    import signal

    from tests.support import cli_env

    big = "".join(f"line {i}   \n" for i in range(20000))  # trailing spaces: a fix, larger than the limit
    repo.seed({"big.txt": "x\n", "small.txt": "y\n"})
    repo.write("big.txt", big)
    repo.write("small.txt", "y  \n")

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "omnibase", "orch", "--format", "json", "--filter", "name=trailing-whitespace", "big.txt", "small.txt"],
        cwd=repo.root, env=cli_env(None), capture_output=True, text=True, stdin=subprocess.DEVNULL, preexec_fn=limit, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done
    step = next(s for s in json.loads(done.stdout)["steps"] if s["name"] == "trailing-whitespace")
    message = step["error"]["message"]
    assert "Could not write the fix of big.txt: File too large" in message, message
    assert "Fixing " not in message and "Could not write the fix of small.txt: File too large" in message
    assert step["error"]["data"]["unwritten"] == {"big.txt": "File too large", "small.txt": "File too large"}
    assert step["error"]["data"]["fixed"] is False
    assert (repo.root / "big.txt").read_text() == big
    assert (repo.root / "small.txt").read_text() == "y  \n"  # one fixer's fixes are spooled together: none written
    assert not [p for p in repo.root.iterdir() if p.name.endswith(".tmp")]
