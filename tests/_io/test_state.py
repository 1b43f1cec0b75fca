"""``omnibase._io.state``: the state folder's names and its one check, and the one way the git
directory is found (the hook's stdlib-only client keeps a copy: tests/server/test_client_copies.py)."""

from __future__ import annotations

import os
import pathlib

import pytest
from returns.result import Failure, Success

from omnibase._io.git import repo_paths
from omnibase._io.state import make_state_dir, server_dir, state_dir, state_dir_of
from tests.support import linked_worktree


@pytest.fixture
def main_and_linked(tmp_path: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    return linked_worktree(tmp_path)


def test_a_linked_worktree_keeps_its_own_state_and_shares_the_server(main_and_linked: tuple[pathlib.Path, pathlib.Path]) -> None:
    main, linked = main_and_linked
    here, there = repo_paths(str(main)).unwrap(), repo_paths(str(linked)).unwrap()
    assert here.git_dir == here.common_dir == str(main / ".git")
    assert there.git_dir == str(main / ".git" / "worktrees" / "linked")
    assert there.common_dir == str(main / ".git")
    assert state_dir_of(str(linked)) == str(main / ".git" / "worktrees" / "linked" / "omnibase")
    assert server_dir(there.common_dir) == server_dir(here.common_dir)


def test_outside_a_work_tree_state_lives_in_a_dot_folder(tmp_path: pathlib.Path) -> None:
    assert state_dir_of(str(tmp_path)) == str(tmp_path / ".omnibase")


def test_make_state_dir_creates_the_folders_down_from_the_state_folder(tmp_path: pathlib.Path) -> None:
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    target = os.path.join(state_dir(str(git_dir)), "fixes", "run1")
    assert make_state_dir(target, mode=0o700) == Success(target)
    assert os.path.isdir(target)
    assert os.stat(target).st_mode & 0o777 == 0o700


def test_a_symlinked_state_folder_is_refused_and_nothing_is_written_where_it_points(tmp_path: pathlib.Path) -> None:
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (git_dir / "omnibase").symlink_to(elsewhere)
    found = make_state_dir(os.path.join(state_dir(str(git_dir)), "patches"))
    assert isinstance(found, Failure)
    assert "symbolic link" in found.failure().message
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_folder_inside_the_state_folder_is_refused(tmp_path: pathlib.Path) -> None:
    state = tmp_path / ".git" / "omnibase"
    state.mkdir(parents=True)
    (state / "patches").symlink_to(tmp_path)
    assert isinstance(make_state_dir(str(state / "patches")), Failure)


def test_a_file_in_place_of_the_state_folder_is_refused(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "omnibase").write_text("not a folder")
    found = make_state_dir(state_dir(str(tmp_path / ".git")))
    assert isinstance(found, Failure) and "not a folder" in found.failure().message


def test_a_folder_outside_any_state_folder_is_only_created(tmp_path: pathlib.Path) -> None:
    assert make_state_dir(str(tmp_path / "some" / "where")) == Success(str(tmp_path / "some" / "where"))
    assert (tmp_path / "some" / "where").is_dir()
