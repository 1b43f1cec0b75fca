"""``repo_paths_ahead``: git asked in the background gives ``repo_paths`` the answer git
would have given it, and never an answer for another folder or other git variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnibase._io import git as _git
from omnibase._io.git import repo_paths, repo_paths_ahead
from tests.support import git, init_repo


@pytest.fixture(autouse=True)
def _fresh() -> None:
    _git._FOUND.clear()
    _git._AHEAD.clear()


def _repo(root: Path) -> Path:
    init_repo(root)
    (root / "a.txt").write_text("a\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "--no-verify", "-m", "one")
    return root


def test_the_answer_asked_ahead_is_gits(tmp_path: Path) -> None:
    main = _repo(tmp_path / "main")
    git(main, "worktree", "add", "-q", str(tmp_path / "linked"))
    linked = tmp_path / "linked"
    for root, git_dir in ((main, main / ".git"), (linked, main / ".git" / "worktrees" / "linked")):
        repo_paths_ahead(str(root))
        found = repo_paths(str(root)).unwrap()
        assert (found.root, found.git_dir, found.common_dir) == (str(root), str(git_dir), str(main / ".git"))
    assert _git._AHEAD == {}  # each answer taken once


def test_an_answer_for_other_git_variables_is_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, other = _repo(tmp_path / "one"), _repo(tmp_path / "other")
    repo_paths_ahead(str(one))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert repo_paths(str(one)).unwrap().git_dir == str(other / ".git")  # git asked again, as told now


def test_outside_a_repository_the_answer_is_the_same_failure(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    asked = repo_paths(str(plain))
    _git._FOUND.clear()
    repo_paths_ahead(str(plain))
    assert repo_paths(str(plain)) == asked
