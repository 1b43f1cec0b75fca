"""A ``repo:`` entry as a component: resolved without fetching, run by every performer
from its repository's clone or environment; skipped, or ``Unresolved``, before anything
is built when it cannot or need not run."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from omnibase.core.values import ExecCtx, Status
from omnibase.drivers import arun, run
from omnibase.registry import Entry, resolve
from omnibase.repos import HookSource
from tests.support import init_repo


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """A hook repository holding an executable script, tagged ``v1``."""
    root = init_repo(tmp_path / "scripts")
    script = root / "check.sh"
    script.write_text('#!/bin/sh\necho "check.sh $* from $(basename "$(dirname "$0")")"\nshift\n! grep -l BAD "$@"\n')
    script.chmod(0o755)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "v1"], cwd=root, check=True)
    subprocess.run(["git", "tag", "v1"], cwd=root, check=True)
    return root


def _ctx(root: Path, *files: str) -> ExecCtx:
    return ExecCtx(run_id="r", trace_id="t", root=str(root), files=files)


def _entry(source: HookSource, **fields: object) -> Entry:
    return Entry(name="hook", repo=source, **fields)  # type: ignore[arg-type]


def test_a_script_hook_runs_from_its_repository_clone_with_its_args(scripts, tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIBASE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "good.txt").write_text("fine\n")
    (tmp_path / "work" / "bad.txt").write_text("BAD\n")
    source = HookSource(url=scripts.as_uri(), rev="v1", language="script", entry="check.sh")
    component = resolve(_entry(source, args=("--strict",)), root=str(tmp_path / "work")).unwrap()
    assert not (tmp_path / "cache").exists()  # resolving fetches nothing
    report = run(component, None, _ctx(tmp_path / "work", "good.txt"))
    assert report.exit_code == 0, report
    [clone] = os.listdir(tmp_path / "cache" / "repos")
    assert f"check.sh --strict good.txt from {clone}" in report.steps[0].value.output  # type: ignore[union-attr]
    failed = asyncio.run(arun(component, None, _ctx(tmp_path / "work", "good.txt", "bad.txt")))
    assert failed.exit_code == 1 and "bad.txt" in failed.steps[0].error.message  # type: ignore[union-attr]


def test_a_hook_with_no_file_to_check_is_skipped_before_anything_is_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIBASE_CACHE_DIR", str(tmp_path / "cache"))
    source = HookSource(url=(tmp_path / "nowhere").as_uri(), rev="v1", language="python", entry="x")
    component = resolve(_entry(source, files=r"\.py$"), root=str(tmp_path)).unwrap()
    report = run(component, None, _ctx(tmp_path, "a.txt"))
    assert report.steps[0].status is Status.SKIP
    assert not (tmp_path / "cache").exists()


def test_an_environment_that_cannot_be_built_is_unresolved_exit_3(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIBASE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "a.py").write_text("x = 1\n")
    source = HookSource(url=(tmp_path / "nowhere").as_uri(), rev="v1", language="python", entry="x")
    report = run(resolve(_entry(source), root=str(tmp_path)).unwrap(), None, _ctx(tmp_path, "a.py"))
    assert report.exit_code == 3, report
    assert "cannot fetch" in report.steps[0].error.message  # type: ignore[union-attr]


def test_a_system_hook_finds_its_command_on_path(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    source = HookSource(language="system", entry="grep -c x")
    report = run(resolve(_entry(source), root=str(tmp_path)).unwrap(), None, _ctx(tmp_path, "a.txt"))
    assert report.exit_code == 0 and report.steps[0].value.output.strip() == "1"  # type: ignore[union-attr]
