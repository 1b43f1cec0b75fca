"""The git hook starts the stash's lock and ``git status`` at its own start (beside the
``git rev-parse`` that says where the repository is), and the same status answers whether the
registry file has unstaged changes: no third git process. In process, in real repositories,
with the stage's entry point replaced by a recorder (``main``)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omnibase._io import git as gitmod
from omnibase._io.git import repo_paths
from omnibase._io.state import stash_lock, state_dir
from omnibase.cli._main import _parser
from omnibase.precommit import _install, _stash
from omnibase.precommit._install import hook_impl_command
from omnibase.precommit._stash import Lookahead, look_ahead
from tests.support import Repo, git, linked_worktree

REFUSAL = (
    "omnibase: omnibase.yaml has changes that are not staged, so this commit would be checked with settings "
    "it does not hold; stage them (git add omnibase.yaml) or set them aside (git stash push --keep-index), "
    "then commit again\n"
)


class _Stdin:
    def __init__(self) -> None:
        self.buffer = io.BytesIO(b"")

    def isatty(self) -> bool:
        return False


def _lock_file(root: Path) -> None:
    """The stash lock file, as the repository's first stash leaves it (``look_ahead`` takes
    an existing one only: it creates nothing)."""
    folder = Path(state_dir(str(root / ".git")))
    folder.mkdir(exist_ok=True)
    Path(stash_lock(str(folder))).touch()


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """The repository (a registry file committed, the stash lock there), the current folder."""
    repo.seed({"a.txt": "a\n", "omnibase.yaml": "version: 1\ncomponents: []\n"})
    _lock_file(repo.root)
    monkeypatch.chdir(repo.root)
    monkeypatch.setattr(sys, "stdin", _Stdin())
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "OMNIBASE_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    yield repo
    import psutil

    left = [c for c in psutil.Process().children() if c.name() == "git"]
    assert left == [], [c.cmdline() for c in left]  # every git call the hook started was reaped
    assert _free(repo)


Log = list[str]


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Log:
    """The git calls made through ``_io.git`` (started in the background or waited for), in order."""
    seen: Log = []
    started = gitmod.Pending.__init__
    waited = gitmod.git

    def pending(self: gitmod.Pending, args: list[str], cwd: str) -> None:
        seen.append("started " + " ".join(a for a in args if not a.startswith("-")))
        started(self, args, cwd)

    def called(args: list[str], cwd: str, **kw: object) -> object:
        seen.append("ran " + " ".join(a for a in args if not a.startswith("-")))
        return waited(args, cwd, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(gitmod.Pending, "__init__", pending)
    monkeypatch.setattr(_install, "git", called)
    return seen


def _hook(repo: Repo, main: Callable[[list[str]], int]) -> int:
    words = ["hook-impl", "--hook-type=pre-commit", "--hook-dir", str(repo.root / ".git" / "hooks"), "--"]
    return hook_impl_command(_parser("hook-impl").parse_args(words), main)


def _free(repo: Repo) -> bool:
    """Nobody holds the stash lock (this process's hook let go of it): a lock of a file
    opened afresh is refused while any open of it holds one, in this process too."""
    import fcntl

    fd = os.open(stash_lock(state_dir(str(repo.root / ".git"))), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _stage(calls: list[list[str]]) -> Callable[[list[str]], int]:
    def main(argv: list[str]) -> int:
        repo_paths(os.getcwd())
        calls.append(argv)
        return 0

    return main


def test_an_unstaged_registry_file_is_refused_from_the_stashs_own_status(
    here: Repo, log: Log, capsys: pytest.CaptureFixture[str]
) -> None:
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# edited\n")
    calls: list[list[str]] = []
    assert _hook(here, _stage(calls)) == 2
    assert calls == []
    assert capsys.readouterr().err == REFUSAL
    assert log == ["started rev-parse", "started status"]  # no "git diff -- omnibase.yaml"
    assert _free(here)


def test_a_staged_untracked_or_unchanged_registry_file_runs_the_stage(here: Repo, log: Log) -> None:
    calls: list[list[str]] = []
    assert _hook(here, _stage(calls)) == 0  # committed, unchanged
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# edited\n")
    here.stage("omnibase.yaml")
    assert _hook(here, _stage(calls)) == 0  # the edit staged
    here.git("rm", "-q", "--cached", "omnibase.yaml")
    here.commit("untracked now")
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# untracked\n")
    assert _hook(here, _stage(calls)) == 0  # untracked: the commit takes nothing of it
    assert len(calls) == 3
    assert not any(entry.startswith("ran ") for entry in log)
    assert _free(here)


def test_the_stage_takes_the_lock_and_status_the_hook_started(here: Repo, log: Log) -> None:
    """The run's ``look_ahead`` (what ``orch`` asks) gets the hook's: the lock is held
    already, the status was started before the stage was even parsed, and it lists what
    the commit holds."""
    here.write("a.txt", "staged\n")
    here.stage("a.txt")
    taken: list[Lookahead | None] = []

    def main(argv: list[str]) -> int:
        assert log == ["started rev-parse", "started status"]
        paths = repo_paths(os.getcwd()).unwrap()
        ahead = look_ahead(paths.root, paths.git_dir)
        taken.append(ahead)
        assert log == ["started rev-parse", "started status"]  # no second status
        assert not _free(here)  # held: by this run
        assert ahead is not None
        found = _stash.status_of(ahead.pending.answer()).unwrap()
        assert found.staged == (("M", "a.txt"),)
        ahead.close()  # as orch does
        return 0

    assert _hook(here, main) == 0
    assert taken and taken[0] is not None
    assert _free(here)


def test_a_run_that_takes_nothing_lets_go_of_the_lock_and_reaps_git(here: Repo) -> None:
    def main(argv: list[str]) -> int:
        assert not _free(here)  # the hook holds it for the stage's stash
        return 1

    assert _hook(here, main) == 1
    assert _free(here)


def test_the_status_is_read_after_the_legacy_hook(here: Repo, log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    """A legacy hook may change what is staged: here it stages the registry file, so the
    commit is not refused, and the status is started only once it is done."""
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# edited\n")
    legacy = here.root / ".git" / "hooks" / "pre-commit.legacy"
    legacy.parent.mkdir(exist_ok=True)
    legacy.write_text("#!/bin/sh\ngit add omnibase.yaml\n")
    legacy.chmod(0o755)
    calls: list[list[str]] = []
    assert _hook(here, _stage(calls)) == 0
    assert len(calls) == 1
    assert "not staged" not in capsys.readouterr().err
    assert log == ["started rev-parse", "started status"]


def test_elsewhere_than_the_top_of_a_plain_work_tree_the_refusal_asks_git_diff(
    here: Repo, log: Log, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``GIT_DIR`` in the environment: the place is not guessed, nothing starts early, and
    the refusal still holds (its own ``git diff``)."""
    here.write("omnibase.yaml", "version: 1\ncomponents: []\n# edited\n")
    monkeypatch.setenv("GIT_DIR", str(here.root / ".git"))
    calls: list[list[str]] = []
    assert _hook(here, _stage(calls)) == 2
    assert capsys.readouterr().err == REFUSAL
    assert log == ["started rev-parse", f"ran diff {here.root / 'omnibase.yaml'}"]
    assert _free(here)


def test_in_a_linked_worktree_nothing_starts_early_and_the_refusal_holds(
    tmp_path: Path, log: Log, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main_tree, linked = linked_worktree(tmp_path)
    (linked / "omnibase.yaml").write_text("version: 1\ncomponents: []\n")
    git(linked, "add", "omnibase.yaml")
    git(linked, "commit", "-q", "--no-verify", "-m", "registry")
    (linked / "omnibase.yaml").write_text("version: 1\ncomponents: []\n# edited\n")
    gitdir = Path(repo_paths(str(linked)).unwrap().git_dir)
    (gitdir / "omnibase").mkdir(exist_ok=True)
    (gitdir / "omnibase" / "stash.lock").touch()
    monkeypatch.chdir(linked)
    monkeypatch.setattr(sys, "stdin", _Stdin())
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "OMNIBASE_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    words = ["hook-impl", "--hook-type=pre-commit", "--hook-dir", str(main_tree / ".git" / "hooks"), "--"]
    assert hook_impl_command(_parser("hook-impl").parse_args(words), _stage([])) == 2
    assert capsys.readouterr().err == REFUSAL
    assert log == [f"ran diff {linked / 'omnibase.yaml'}"]  # (where the repository is: asked above)
