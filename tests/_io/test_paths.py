"""``omnibase._io.paths.contained``: the one containment check, on real folders and links."""

from __future__ import annotations

import os
import pathlib

import pytest
from returns.result import Failure, Success

from omnibase._io.paths import Uncontained, contained, is_contained


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "victim.txt").write_text("keep me\n")
    return root


@pytest.mark.parametrize("path", ["src/a.py", "src/new.py", "new/deeper/file.txt", ".", "src/./a.py"])
def test_paths_inside_the_root_pass_as_absolute_paths_under_it(repo: pathlib.Path, path: str) -> None:
    found = contained(str(repo), path)
    assert isinstance(found, Success)
    assert found.unwrap() == os.path.normpath(os.path.join(str(repo), path))


@pytest.mark.parametrize("path", ["..", "../elsewhere/victim.txt", "src/../../elsewhere", "src/../a.py", "..\\x"])
def test_a_relative_path_naming_dotdot_is_refused_even_when_it_would_land_inside(repo: pathlib.Path, path: str) -> None:
    found = contained(str(repo), path)
    assert isinstance(found, Failure)
    assert "'..'" in found.failure().message


def test_an_absolute_path_outside_is_refused_and_one_inside_passes(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    assert not is_contained(str(repo), str(tmp_path / "elsewhere" / "victim.txt"))
    assert not is_contained(str(repo), "/etc/passwd")
    assert contained(str(repo), str(repo / "src" / "a.py")) == Success(str(repo / "src" / "a.py"))


def test_a_symlinked_folder_leading_out_is_refused(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (repo / "out").symlink_to(tmp_path / "elsewhere")
    found = contained(str(repo), "out/victim.txt")
    assert isinstance(found, Failure)
    assert "through a symbolic link" in found.failure().message
    assert not is_contained(str(repo), "out/new-file")


def test_a_symlink_as_the_last_component_pointing_out_is_refused_even_dangling(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (repo / "link.txt").symlink_to(tmp_path / "elsewhere" / "victim.txt")
    (repo / "dangling.txt").symlink_to(tmp_path / "elsewhere" / "not-yet")
    assert not is_contained(str(repo), "link.txt")
    assert not is_contained(str(repo), "dangling.txt")


def test_a_symlink_that_stays_inside_passes_as_its_target(repo: pathlib.Path) -> None:
    (repo / "lib").symlink_to(repo / "src")
    assert contained(str(repo), "lib/a.py") == Success(str(repo / "src" / "a.py"))


def test_a_root_reached_through_a_symlink_still_contains_its_files(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(repo)
    assert contained(str(alias), "src/a.py") == Success(str(alias / "src" / "a.py"))
    assert not is_contained(str(alias), str(tmp_path / "elsewhere"))


def test_a_sibling_whose_name_starts_like_the_root_is_outside(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (tmp_path / "repo2").mkdir()
    assert not is_contained(str(repo), str(tmp_path / "repo2" / "x"))


@pytest.mark.parametrize("path", ["", "a\0b"])
def test_empty_and_nul_paths_are_refused(repo: pathlib.Path, path: str) -> None:
    assert not is_contained(str(repo), path)


def test_not_following_the_last_link_judges_the_folders_only(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (repo / "link.txt").symlink_to(tmp_path / "elsewhere" / "victim.txt")
    assert contained(str(repo), "link.txt", follow_last=False) == Success(str(repo / "link.txt"))
    (repo / "out").symlink_to(tmp_path / "elsewhere")
    assert isinstance(contained(str(repo), "out/victim.txt", follow_last=False), Failure)
    assert contained(str(repo), str(repo), follow_last=False) == Success(str(repo))


@pytest.mark.parametrize(("path", "message"), [("", "'': not a path"), ("a\0b", "'a\\x00b': not a path")])
def test_empty_and_nul_paths_say_so(repo: pathlib.Path, path: str, message: str) -> None:
    assert contained(str(repo), path) == Failure(Uncontained(message))


def test_a_path_outside_says_where_and_one_led_out_by_a_link_says_how(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    victim = str(tmp_path / "elsewhere" / "victim.txt")
    assert contained(str(repo), victim) == Failure(Uncontained(f"{victim}: leads outside the repository at {repo}"))
    (repo / "out").symlink_to(tmp_path / "elsewhere")
    assert contained(str(repo), "out/victim.txt") == Failure(
        Uncontained(f"out/victim.txt: leads through a symbolic link outside the repository at {repo}")
    )


def test_a_sibling_named_like_the_root_without_its_trailing_space_is_outside(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "project "
    root.mkdir()
    (tmp_path / "project").mkdir()
    assert not is_contained(str(root), str(tmp_path / "project" / "x"))
    assert contained(str(root), str(root / "x")) == Success(str(root / "x"))


def test_a_repository_at_the_filesystem_root_contains_every_path() -> None:
    assert contained("/", "tmp") == Success("/tmp")
    assert is_contained("/", "/usr/bin")
