"""End-to-end fixtures: real temporary git repositories and the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest


class Repo:
    """A real git repository in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, rel: str, data: bytes | str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def stage(self, *rels: str) -> None:
        self.git("add", "--", *rels)

    def commit(self, message: str = "commit") -> None:
        self.git("commit", "-q", "--no-verify", "-m", message)

    def seed(self, files: dict[str, bytes | str]) -> Repo:
        """Write ``files``, stage and commit them: a project to run the CLI in."""
        for rel, data in files.items():
            self.write(rel, data)
        self.stage(*files)
        self.commit()
        return self


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    r = Repo(root)
    r.git("init", "-q", "-b", "main")
    r.git("config", "user.email", "test@example.invalid")
    r.git("config", "user.name", "test")
    r.git("config", "commit.gpgsign", "false")
    return r


class Result:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PYTEST_"))}
    env.pop("NO_COLOR", None)
    env["OMNIBASE_SERVER"] = "0"  # a hook run must not leave a command server behind (docs/server.md)
    env.update(extra or {})
    return env


@pytest.fixture
def cli(repo: Repo) -> Callable[..., Result]:
    """Run ``python -m omnibase ARGS`` in the repo (or ``cwd``), no stdin, and capture."""

    def invoke(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "omnibase", *args],
            cwd=cwd or repo.root,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=_env(env),
            timeout=timeout,
        )
        return Result(done)

    return invoke
