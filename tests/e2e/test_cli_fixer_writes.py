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
