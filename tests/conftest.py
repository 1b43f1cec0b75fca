"""Fixtures every test folder may use (their helpers are in tests/support.py):

- ``repo``: a real, empty git repository in the test's temporary folder (a ``Repo``);
- ``cli``: ``cli(*args, cwd=None, env=None, timeout=120)`` runs ``python -m omnibase`` in
  the ``repo`` (or ``cwd``) in a subprocess and returns its exit code and output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.support import Repo, Result, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo")


@pytest.fixture
def cli(repo: Repo) -> Callable[..., Result]:
    """Run ``python -m omnibase ARGS`` in the repo (or ``cwd``), no stdin, and capture."""

    def invoke(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120) -> Result:
        return run_cli(*args, cwd=cwd or repo.root, env=env, timeout=timeout)

    return invoke
