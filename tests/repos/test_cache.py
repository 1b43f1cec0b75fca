"""Clones in the cache: by tag, branch or commit, once, whole or not at all; the manifest;
what ``OMNIBASE_FETCH=0`` refuses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from returns.result import Failure, Success

from omnibase.repos import clone, manifest
from omnibase.repos._cache import fetch_refused
from tests.support import init_repo


@pytest.fixture
def hooks(tmp_path: Path) -> tuple[Path, str]:
    """A hook repository with two commits: ``v1`` tagged, the second on ``main``; and the
    first commit's hash."""
    root = init_repo(tmp_path / "hooks")
    (root / ".pre-commit-hooks.yaml").write_text("- {id: one, entry: one, language: system}\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "1"], cwd=root, check=True)
    subprocess.run(["git", "tag", "v1"], cwd=root, check=True)
    first = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    (root / ".pre-commit-hooks.yaml").write_text("- {id: two, entry: two, language: system}\n")
    subprocess.run(["git", "commit", "-q", "-am", "2"], cwd=root, check=True)
    return root, first


@pytest.mark.parametrize(("rev", "hook"), [("v1", "one"), ("main", "two"), (None, "one")])
def test_a_revision_is_checked_out_by_tag_branch_or_commit(hooks, tmp_path, rev, hook):
    root, first = hooks
    got = clone(root.as_uri(), rev or first, cache=str(tmp_path / "cache"))
    assert isinstance(got, Success), got
    assert list(manifest(got.unwrap()).unwrap()) == [hook]


def test_a_clone_is_made_once(hooks, tmp_path):
    said: list[str] = []
    first = clone(hooks[0].as_uri(), "v1", cache=str(tmp_path), say=said.append)
    again = clone(hooks[0].as_uri(), "v1", cache=str(tmp_path), say=said.append)
    assert first == again and len(said) == 1
    assert [n for n in os.listdir(tmp_path / "repos") if n.startswith(".")] == []  # no temporary folder left


def test_a_missing_revision_or_repository_is_a_failure_that_says_which(hooks, tmp_path):
    missing = clone(hooks[0].as_uri(), "v9", cache=str(tmp_path))
    assert isinstance(missing, Failure) and "'v9'" in missing.failure()
    nowhere = clone((tmp_path / "nowhere").as_uri(), "v1", cache=str(tmp_path))
    assert isinstance(nowhere, Failure) and "cannot fetch" in nowhere.failure()
    assert os.listdir(tmp_path / "repos") == []


def test_a_repository_without_a_manifest_says_so(tmp_path):
    assert manifest(str(tmp_path)).failure().startswith("it has no .pre-commit-hooks.yaml")
    (tmp_path / ".pre-commit-hooks.yaml").write_text("{id: x}\n")
    assert "not a list of hooks" in manifest(str(tmp_path)).failure()


def test_fetching_off_refuses_network_urls_only():
    off = {"OMNIBASE_FETCH": "0"}
    assert fetch_refused("https://github.com/psf/black", off)
    assert fetch_refused("git@github.com:psf/black", off)
    assert fetch_refused("file:///srv/hooks", off) is None and fetch_refused("/srv/hooks", off) is None
    assert fetch_refused("https://github.com/psf/black", {}) is None
