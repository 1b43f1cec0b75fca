"""The fixers' spool (``omnibase.builtins._spool``), called in this process on real git
repositories: fixes spooled under ``.git/omnibase/fixes/<run id>/`` during a run, applied
once after it, then removed; a killed run's spool never applied, and removed once stale;
a concurrent run's spool left alone; nothing written through a planted link."""

from __future__ import annotations

import os
import stat
import types
from pathlib import Path

import msgspec
import pytest

from omnibase.builtins import Edit
from omnibase.builtins import _spool
from omnibase.builtins._spool import STALE_S, apply_spooled, spool_dir, spool_edits
from tests.support import git, init_repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    """A repository with two files to fix; the tests run from another folder, so every
    path the spool writes comes from the repository named, never the current folder."""
    root = init_repo(tmp_path / "repo")
    (root / "a.txt").write_bytes(b"a   \nb")
    (root / "b.txt").write_bytes(b"b  \n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return root


def _git_dir(root: Path) -> str:
    return str(root / ".git")


def _fixes(root: Path) -> Path:
    return root / ".git" / "omnibase" / "fixes"


def test_spooled_fixes_are_applied_once_after_the_run_and_the_spool_removed(repo: Path):
    gd = _git_dir(repo)
    trailing = [Edit.make("a.txt", b"a   \nb", b"a\nb"), Edit.make("b.txt", b"b  \n", b"b\n")]
    spool_edits(gd, "run-1", "trailing-whitespace", 0, trailing)
    spool_edits(gd, "run-1", "end-of-file-fixer", 1, [Edit.make("a.txt", b"a\nb", b"a\nb\n")])
    # spooled: nothing in the work tree has changed yet, the spool is the user's alone
    assert (repo / "a.txt").read_bytes() == b"a   \nb"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "?? a.txt\n?? b.txt\n"
    folder = _fixes(repo) / "run-1"
    assert spool_dir(gd, "run-1") == str(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(os.listdir(folder)) == ["0000-trailing-whitespace.fix", "0001-end-of-file-fixer.fix"]
    assert apply_spooled(str(repo), gd, "run-1") == ("a.txt", "b.txt")
    assert (repo / "a.txt").read_bytes() == b"a\nb\n"
    assert (repo / "b.txt").read_bytes() == b"b\n"
    assert not folder.exists()
    assert os.listdir(_fixes(repo)) == []
    # applied once: the run's spool is gone, a second call writes nothing
    (repo / "b.txt").write_bytes(b"b  \n")
    assert apply_spooled(str(repo), gd, "run-1") == ()
    assert (repo / "b.txt").read_bytes() == b"b  \n"


def test_two_invocations_of_one_fixer_keep_both_their_spools(repo: Path):
    gd = _git_dir(repo)
    spool_edits(gd, "r", "trailing-whitespace", 0, [Edit.make("a.txt", b"a   \nb", b"a\nb")])
    spool_edits(gd, "r", "trailing-whitespace", 3, [Edit.make("b.txt", b"b  \n", b"b\n")])
    assert sorted(os.listdir(_fixes(repo) / "r")) == ["0000-trailing-whitespace.fix", "0003-trailing-whitespace.fix"]
    assert sorted(apply_spooled(str(repo), gd, "r")) == ["a.txt", "b.txt"]


def test_spool_writes_are_not_synced(repo: Path, monkeypatch):
    """What the spool holds is made again by running the checks again (as the fixes
    themselves: see ``omnibase._io.atomic``), so no write of it waits for the disk."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    spool_edits(_git_dir(repo), "r", "trailing-whitespace", 0, [Edit.make("b.txt", b"b  \n", b"b\n")])
    assert apply_spooled(str(repo), _git_dir(repo), "r") == ("b.txt",)
    assert synced == []


def test_run_ids_and_component_names_become_one_file_name_in_the_spool(repo: Path):
    gd = _git_dir(repo)
    state_file = repo / ".git" / "omnibase" / "breakers.json"
    spool_edits(gd, "first", "x", 0, [])  # the fixes folder exists, as after any earlier run
    state_file.write_text("{}")  # a state file beside it, not the spool's to touch
    assert spool_dir(gd, "a/../../b c") == str(_fixes(repo) / "a_.._.._b_c")
    for run in ("..", ".", "a/../..", ""):
        spool_edits(gd, run, "../lint/ruff fix", 0, [Edit.make("b.txt", b"b  \n", b"b\n")])
        folder = Path(spool_dir(gd, run))
        assert folder.parent == _fixes(repo), run
        assert os.listdir(folder) == ["0000-.._lint_ruff_fix.fix"]
        assert apply_spooled(str(repo), gd, run) == ("b.txt",)
        (repo / "b.txt").write_bytes(b"b  \n")
        assert state_file.read_text() == "{}", run
    assert sorted(os.listdir(repo / ".git" / "omnibase")) == ["breakers.json", "fixes"]


def test_a_file_name_that_is_not_utf8_is_fixed_through_the_spool(repo: Path):
    name = os.fsdecode(b"caf\xe9 \xff.txt")  # Latin-1 bytes: surrogate escapes in the str
    (repo / name).write_bytes(b"x  \n")
    spool_edits(_git_dir(repo), "r", "trailing-whitespace", 0, [Edit.make(name, b"x  \n", b"x\n")])
    assert apply_spooled(str(repo), _git_dir(repo), "r") == (name,)
    assert (repo / name).read_bytes() == b"x\n"
    assert b"caf\xe9 \xff.txt" in os.listdir(os.fsencode(str(repo)))


def test_a_linked_state_folder_is_refused_and_nothing_written_through_it(repo: Path, tmp_path: Path):
    elsewhere = tmp_path / "planted"
    elsewhere.mkdir()
    os.symlink(elsewhere, repo / ".git" / "omnibase")
    with pytest.raises(OSError) as refused:
        spool_edits(_git_dir(repo), "r", "trailing-whitespace", 0, [Edit.make("b.txt", b"b  \n", b"b\n")])
    assert str(refused.value) == f"{repo / '.git' / 'omnibase'}: a symbolic link; not writing through it"
    assert os.listdir(elsewhere) == []


def _spooled_file(folder: Path, name: str, edits: list[Edit], fmt: int = 1) -> None:
    """A spool file as another run (or another version of omnibase) would leave it."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = tuple(_spool._Edit(e.path.encode(), e.original_sha256, e.content) for e in edits)
    (folder / name).write_bytes(msgspec.msgpack.encode(_spool.Spooled(format=fmt, component="c", edits=rows)))


def test_unreadable_corrupt_and_foreign_spool_files_are_skipped_the_rest_applied(repo: Path):
    gd = _git_dir(repo)
    folder = _fixes(repo) / "r"
    spool_edits(gd, "r", "trailing-whitespace", 2, [Edit.make("b.txt", b"b  \n", b"b\n")])
    (folder / "0000-garbage.fix").write_bytes(b"\x00not msgpack")
    (folder / "0001-folder.fix").mkdir()  # cannot be read as a file
    _spooled_file(folder, "0003-newer.fix", [Edit.make("a.txt", b"a   \nb", b"NEWER")], fmt=2)
    # a temporary file of a spool write that never finished: not a .fix file, never read
    _spooled_file(folder, ".omnibase-0123456789ab", [Edit.make("a.txt", b"a   \nb", b"HALF")])
    assert apply_spooled(str(repo), gd, "r") == ("b.txt",)
    assert (repo / "a.txt").read_bytes() == b"a   \nb"
    assert (repo / "b.txt").read_bytes() == b"b\n"
    # every file of the run's spool is removed; the folder inside it will not go, so it stays
    assert os.listdir(folder) == ["0001-folder.fix"]


def test_no_spool_at_all_is_nothing_to_apply(repo: Path):
    assert apply_spooled(str(repo), _git_dir(repo), "never-spooled") == ()
    assert not (repo / ".git" / "omnibase").exists()
    _fixes(repo).mkdir(parents=True)
    assert apply_spooled(str(repo), _git_dir(repo), "never-spooled") == ()
    assert (repo / "a.txt").read_bytes() == b"a   \nb"


def test_a_failed_write_is_told_per_file_through_the_spool(repo: Path, file_size_limit):
    gd = _git_dir(repo)
    spool_edits(gd, "r", "grow", 0, [Edit.make("a.txt", b"a   \nb", b"a" * 10_000), Edit.make("b.txt", b"b  \n", b"b\n")])
    failed: dict[str, str] = {}
    with file_size_limit(4096):
        written = apply_spooled(str(repo), gd, "r", failed)
    assert written == ("b.txt",)
    assert failed == {"a.txt": "File too large"}
    assert (repo / "a.txt").read_bytes() == b"a   \nb"
    assert not (_fixes(repo) / "r").exists()


def _run_folder(root: Path, run: str, age: float, now: float) -> Path:
    """The spool of another run, last changed ``age`` seconds before ``now``."""
    folder = _fixes(root) / run
    _spooled_file(folder, "0000-trailing-whitespace.fix", [Edit.make("b.txt", b"b  \n", b"b\n")])
    when = int((now - age) * 1e9)
    os.utime(folder, ns=(when, when))
    return folder


def test_a_killed_runs_spool_is_never_applied_and_removed_once_older_than_stale_s(repo: Path, monkeypatch):
    now = 1_800_000_000.0
    monkeypatch.setattr(_spool, "time", types.SimpleNamespace(time=lambda: now))
    killed = _run_folder(repo, "killed", STALE_S + 1, now)
    just_stale = _run_folder(repo, "at-the-limit", STALE_S, now)  # not older than STALE_S: kept
    running = _run_folder(repo, "running", 5.0, now)  # a run going on beside this one
    assert apply_spooled(str(repo), _git_dir(repo), "mine") == ()
    assert (repo / "b.txt").read_bytes() == b"b  \n"  # no other run's fix is applied
    assert not killed.exists()
    assert os.listdir(just_stale) == os.listdir(running) == ["0000-trailing-whitespace.fix"]
    assert sorted(os.listdir(_fixes(repo))) == ["at-the-limit", "running"]


def test_stale_spools_are_all_removed_even_when_one_goes_meanwhile(repo: Path, monkeypatch):
    now = 1_800_000_000.0
    monkeypatch.setattr(_spool, "time", types.SimpleNamespace(time=lambda: now))
    first = _run_folder(repo, "a-killed", STALE_S * 2, now)
    second = _run_folder(repo, "b-killed", STALE_S * 2, now)
    real_scandir = os.scandir

    def another_run_removes_one(path):  # type: ignore[no-untyped-def]
        entries = sorted(real_scandir(path), key=lambda e: e.name)
        if path == str(_fixes(repo)):
            for entry in entries:  # gone before it is looked at: its stat fails
                if entry.name == "a-killed":
                    for f in os.listdir(first):
                        os.unlink(first / f)
                    os.rmdir(first)
        return iter(entries)

    monkeypatch.setattr(_spool.os, "scandir", another_run_removes_one)
    assert apply_spooled(str(repo), _git_dir(repo), "mine") == ()
    assert not first.exists() and not second.exists()


def test_a_link_among_the_spools_is_not_followed(repo: Path, tmp_path: Path, monkeypatch):
    now = 1_800_000_000.0
    monkeypatch.setattr(_spool, "time", types.SimpleNamespace(time=lambda: now))
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "work.txt").write_text("keep me")
    old = int((now - STALE_S * 10) * 1e9)
    os.utime(precious, ns=(old, old))
    _fixes(repo).mkdir(parents=True)
    os.symlink(precious, _fixes(repo) / "planted")
    (_fixes(repo) / "stray-file").write_text("x")
    os.utime(_fixes(repo) / "stray-file", ns=(old, old))
    assert apply_spooled(str(repo), _git_dir(repo), "mine") == ()
    assert (precious / "work.txt").read_text() == "keep me"
    assert os.path.islink(_fixes(repo) / "planted")
