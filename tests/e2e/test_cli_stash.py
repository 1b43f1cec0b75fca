"""The pre-commit stage checks exactly what will be committed (real CLI, real git repos)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e


def _patches(repo) -> list[Path]:
    folder = repo.root / ".git" / "omnibase" / "patches"
    return sorted([*folder.glob("*.patch"), *folder.glob("*.stash")]) if folder.exists() else []


def _history(repo, path: str, committed: str | bytes, staged: str | bytes | None = None, unstaged: str | bytes | None = None) -> None:
    """Commit ``committed``, stage ``staged`` on top, leave ``unstaged`` in the working tree."""
    repo.write(path, committed)
    repo.stage(path)
    repo.commit()
    for content, stage in ((staged, True), (unstaged, False)):
        if content is not None:
            repo.write(path, content)
            if stage:
                repo.stage(path)


def _statuses(out: str) -> dict[str, str]:
    return {s["name"]: s["status"] for s in json.loads(out)["steps"]}


def test_broken_staged_content_fails_even_when_fixed_in_the_working_tree(repo, cli):
    _history(repo, "a.py", "x = 1\n", "x = (\n", "x = 2\n")  # fixed, but not staged: the commit would take the broken one
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert _statuses(r.out)["check-ast"] == "FAIL"
    assert (repo.root / "a.py").read_bytes() == b"x = 2\n"  # the unstaged fix is back
    assert repo.git("diff", "--cached", "--name-only").split() == ["a.py"]
    assert _patches(repo) == []


def test_unstaged_trailing_whitespace_passes_and_is_left_byte_for_byte(repo, cli):
    repo.write("b.txt", "b\n")
    repo.stage("b.txt")
    unstaged = b"x = 1   \ny = 2\t\r\nno newline at end"
    _history(repo, "a.py", "x = 1\n", "x = 1\ny = 2\n", unstaged)
    repo.write("b.txt", b"b  \n")  # an unstaged change to a file that is not staged at all
    repo.write("untracked.json", "{broken")  # untracked: never part of a pre-commit run
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    assert (repo.root / "a.py").read_bytes() == unstaged
    assert (repo.root / "b.txt").read_bytes() == b"b  \n"
    assert (repo.root / "untracked.json").read_bytes() == b"{broken"
    assert _patches(repo) == []


def test_fixes_that_conflict_with_unstaged_changes_are_rolled_back(repo, cli):
    mine = b"one   # edited\ntwo\n"
    _history(repo, "a.txt", "one\n", "one   \ntwo\n", mine)
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert _statuses(r.out)["trailing-whitespace"] == "FAIL"
    assert "rolled back" in r.err
    assert "rolled back" in json.loads(r.out)["metadata"]["stash"]
    assert (repo.root / "a.txt").read_bytes() == mine
    assert repo.git("show", ":a.txt") == "one   \ntwo\n"  # the index is never touched
    assert _patches(repo) == []


def test_fixes_that_do_not_conflict_are_kept_next_to_the_unstaged_changes(repo, cli):
    _history(repo, "a.txt", "one\n\n\n\n\n\ntwo\n", "one   \n\n\n\n\n\ntwo\n", "one   \n\n\n\n\n\ntwo changed\n")
    r = cli("orch", "--format", "json")
    assert r.code == 1, r
    assert "rolled back" not in r.err
    assert (repo.root / "a.txt").read_bytes() == b"one\n\n\n\n\n\ntwo changed\n"


def test_intent_to_add_files_survive_a_run(repo, cli):
    _history(repo, "a.py", "x = 1\n", "x = 2\n")
    repo.write("new.py", "y = 1\n")
    repo.git("add", "--intent-to-add", "new.py")
    r = cli("orch", "--format", "json")
    assert r.code == 0, r
    assert (repo.root / "new.py").read_bytes() == b"y = 1\n"
    assert "new.py" in repo.git("ls-files")


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


def test_sigkill_mid_run_never_loses_unstaged_work(repo, cli, tmp_path):
    marker = tmp_path / "started"
    script = tmp_path / "slow.py"
    script.write_text(
        "import os, sys, time\n"
        f"open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(120)\n"
    )
    registry = (
        "version: 1\ncomponents:\n"
        f"  - {{name: slow, tags: [pre-commit], command: [{sys.executable}, {script}], pass_filenames: false,"
        f" always_run: true, sandbox: {{write: ['.', '{tmp_path}']}}}}\n"  # its marker is outside the repository
    )
    repo.write("omnibase.yaml", registry)
    repo.stage("omnibase.yaml")
    mine = b"my unstaged work \xff\n"
    _history(repo, "a.txt", "staged\n", "staged, then changed\n", mine)
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--format", "json"],
        cwd=repo.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=cli_env(None),
    )
    try:
        _wait_for(marker)
        # mid-run: the working tree holds the staged content, the work is in the patch
        assert (repo.root / "a.txt").read_bytes() == b"staged, then changed\n"
        assert len(_patches(repo)) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if marker.exists() and marker.read_text().strip():
            os.kill(int(marker.read_text()), signal.SIGKILL)
        proc.kill()
        proc.wait()
    assert (repo.root / "a.txt").read_bytes() == b"staged, then changed\n"
    assert len(_patches(repo)) == 1  # the work survived the kill, under .git/
    r = cli("restore")
    assert r.code == 0, r
    assert (repo.root / "a.txt").read_bytes() == mine
    assert _patches(repo) == []


def test_a_leftover_patch_is_never_applied_silently_the_next_run_refuses_and_names_restore(repo, cli):
    _history(repo, "a.txt", "one\n", "two\n", "three\n")
    # what a killed older version left: the patch saved, the working tree reset to the index
    diff = subprocess.run(["git", "diff", "--binary"], cwd=repo.root, capture_output=True, check=True).stdout
    folder = repo.root / ".git" / "omnibase" / "patches"
    folder.mkdir(parents=True)
    (folder / "1-1.patch").write_bytes(diff)
    repo.git("checkout", "--", ".")
    assert (repo.root / "a.txt").read_bytes() == b"two\n"
    r = cli("orch", "--format", "json")
    assert r.code == 2, r
    assert "omnibase restore" in r.err and "1-1.patch" in r.err
    assert (repo.root / "a.txt").read_bytes() == b"two\n"  # not applied behind the user's back
    assert len(_patches(repo)) == 1
    r = cli("orch", "--format", "json", "--all-files")  # a run that does not stash still says where the work is
    assert "omnibase restore" in r.err and "1-1.patch" in r.err
    r = cli("restore")
    assert r.code == 0, r
    assert (repo.root / "a.txt").read_bytes() == b"three\n"
    assert _patches(repo) == []
    assert cli("orch", "--format", "json").code == 0


def test_a_leftover_patch_that_no_longer_applies_stops_the_run_and_is_kept(repo, cli):
    repo.write("a.txt", "one\n")
    repo.stage("a.txt")
    repo.commit()
    repo.write("a.txt", "two\n")
    diff = subprocess.run(["git", "diff", "--binary"], cwd=repo.root, capture_output=True, check=True).stdout
    folder = repo.root / ".git" / "omnibase" / "patches"
    folder.mkdir(parents=True)
    (folder / "1-1.patch").write_bytes(diff)
    repo.write("a.txt", "something else entirely\n")  # edited after the crash
    r = cli("orch", "--format", "json")
    assert r.code == 2, r
    assert "omnibase restore" in r.err and "1-1.patch" in r.err
    assert (repo.root / "a.txt").read_bytes() == b"something else entirely\n"
    assert len(_patches(repo)) == 1
    r = cli("restore")
    assert r.code == 2, r
    assert "restore --force" in r.err
    r = cli("restore", "--force")
    assert r.code == 0, r
    assert (repo.root / "a.txt").read_bytes() == b"two\n"
    assert _patches(repo) == []
    saved = (folder / "1-1.before-restore.diff").read_text()
    assert "+something else entirely" in saved  # nothing is thrown away


def test_all_files_and_explicit_paths_check_the_working_tree(repo, cli):
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    repo.commit()
    repo.write("a.py", "x = (\n")  # unstaged only
    assert cli("orch", "--format", "json").code == 0  # nothing staged
    assert cli("orch", "--format", "json", "--all-files").code == 1
    assert cli("orch", "--format", "json", "a.py").code == 1


def test_nothing_staged_says_so_in_one_line(repo, cli):
    r = cli("orch", "--format", "human")
    assert r.code == 0, r
    assert r.out.strip() == "no files staged; use --all-files to check every tracked file"


def test_restore_brings_back_a_staged_file_a_cut_short_checkout_left_missing(repo, cli):
    from omnibase.precommit._stash import Stashed, stash

    repo.seed({"a.txt": "one\n", "staged.txt": "committed\n"})
    repo.write("staged.txt", "staged\n")
    repo.stage("staged.txt")
    mine = b"one, unstaged\r\n"
    repo.write("a.txt", mine)
    index = repo.git("ls-files", "-s")
    # what a kill inside a rollback's checkout leaves: the work saved, a staged file gone
    assert isinstance(stash(str(repo.root), str(repo.root / ".git"), Stashed()).unwrap(), Stashed)
    (repo.root / "staged.txt").unlink()
    r = cli("restore")
    assert r.code == 0, r
    assert "applied" in r.out
    assert (repo.root / "staged.txt").read_bytes() == b"staged\n"  # commit -a would not record a deletion
    assert (repo.root / "a.txt").read_bytes() == mine
    assert repo.git("ls-files", "-s") == index
    assert _patches(repo) == []


def test_a_signal_while_the_work_is_set_aside_waits_and_the_work_comes_back(repo, cli, tmp_path):
    """SIGTERM lands while the stash's git command runs (a slow checkout filter): the set
    aside finishes, nothing runs, the work is back, exit 143."""
    marker = tmp_path / "filter-started"
    slow = tmp_path / "slow-filter.sh"
    slow.write_text(f"#!/bin/sh\ntouch {marker}\nsleep 2\ncat\n")
    slow.chmod(0o755)
    repo.seed({".gitattributes": "*.txt filter=slow\n", "a.txt": "one\n"})
    repo.git("config", "filter.slow.smudge", str(slow))
    repo.git("config", "filter.slow.clean", "cat")
    repo.write("b.py", "x = 1\n")
    repo.stage("b.py")
    mine = b"one, unstaged\n"
    repo.write("a.txt", mine)
    proc = subprocess.Popen([sys.executable, "-m", "omnibase", "orch", "--format", "json"], cwd=repo.root,
                            env=cli_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_file(marker)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert "unstaged changes are back" in err
    assert (repo.root / "a.txt").read_bytes() == mine
    assert _patches(repo) == []


def _wait_for_file(path: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.02)


def test_saved_work_edited_over_since_needs_force_and_nothing_is_thrown_away(repo, cli):
    from omnibase.precommit._stash import Stashed, stash

    repo.seed({"a.txt": "one\n", "b.txt": "bee\n"})
    repo.write("a.txt", "one\n")
    mine_a, mine_b = b"one, mine\n", b"bee, mine\n"
    repo.write("a.txt", mine_a)
    repo.write("b.txt", mine_b)
    os.chmod(repo.root / "b.txt", 0o664)
    stash(str(repo.root), str(repo.root / ".git"), Stashed()).unwrap()  # what a killed run leaves
    assert (repo.root / "a.txt").read_bytes() == b"one\n"
    repo.write("a.txt", "edited after the crash\n")
    r = cli("orch", "--format", "json")
    assert r.code == 2 and "omnibase restore" in r.err, r
    r = cli("restore")
    assert r.code == 2, r
    assert "restore --force" in r.err and "a.txt" in r.err
    assert (repo.root / "a.txt").read_bytes() == b"edited after the crash\n"  # untouched without --force
    r = cli("restore", "--force")
    assert r.code == 0, r
    assert (repo.root / "a.txt").read_bytes() == mine_a
    assert (repo.root / "b.txt").read_bytes() == mine_b
    assert os.stat(repo.root / "b.txt").st_mode & 0o777 == 0o664
    kept = list((repo.root / ".git" / "omnibase" / "patches").glob("*.before-restore"))
    assert len(kept) == 1 and b"edited after the crash" in kept[0].read_bytes()
    assert _patches(repo) == []
