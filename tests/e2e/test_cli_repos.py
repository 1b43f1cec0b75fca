"""Hooks of other repositories, end to end: a hook repository made here (a tiny Python
package with a console script and a ``.pre-commit-hooks.yaml``), referenced by ``file://``
URL and ``rev``, imported, and run by real ``git commit``s through the installed hook.

Building an environment installs the hook repository with pip, which fetches the build
backend (setuptools) from the package index pip is configured with: nothing else is
fetched from the network.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import cli_env, init_repo

pytestmark = pytest.mark.e2e

MANIFEST = """\
- id: tidy
  name: no TO-DO markers
  entry: tidy-check
  language: python
  types: [text]
- id: no-fixme
  name: no FIX-ME markers
  entry: FIXME
  language: pygrep
- id: prettier
  entry: prettier --check
  language: node
"""

SCRIPT = """\
import os
import sys


def main():
    bad = [p for p in sys.argv[1:] if b"TODO" in open(p, "rb").read()]
    for p in bad:
        print(p + ": has a TODO")
    print("tidy-check {version} ran in " + os.path.basename(sys.prefix))
    return 1 if bad else 0
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tidyhook"
version = "{version}"

[project.scripts]
tidy-check = "tidyhook:main"
"""


def _release(hooks: Path, version: str) -> None:
    """Commit the hook package at ``version`` and tag it ``v<version>``."""
    (hooks / "src" / "tidyhook").mkdir(parents=True, exist_ok=True)
    (hooks / "src" / "tidyhook" / "__init__.py").write_text(SCRIPT.replace("{version}", version))
    (hooks / "pyproject.toml").write_text(PYPROJECT.replace("{version}", version))
    (hooks / ".pre-commit-hooks.yaml").write_text(MANIFEST)
    subprocess.run(["git", "add", "-A"], cwd=hooks, check=True)
    subprocess.run(["git", "commit", "-q", "-m", version], cwd=hooks, check=True)
    subprocess.run(["git", "tag", f"v{version}"], cwd=hooks, check=True)


def _config(hooks: Path, rev: str) -> str:
    return (
        "repos:\n"
        f"  - repo: {hooks.as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: tidy\n"
        "      - id: no-fixme\n"
        "        exclude: ^omnibase\\.yaml$\n"
        "      - id: prettier\n"
    )


def _envs(cache: Path) -> list[str]:
    """The finished environments of the cache (the folders its links point to)."""
    envs = cache / "envs"
    return sorted(os.readlink(p) for p in envs.iterdir() if p.is_symlink()) if envs.is_dir() else []


@pytest.fixture
def hooks(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "hooks")
    _release(root, "1.0")
    return root


def test_a_hook_repository_runs_from_its_own_environment_built_once_per_rev(repo, cli, hooks, tmp_path):
    cache = tmp_path / "cache"
    extra = {"OMNIBASE_CACHE_DIR": str(cache)}

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.root, capture_output=True, text=True, env=cli_env(extra), check=False)

    repo.write(".pre-commit-config.yaml", _config(hooks, "v1.0"))
    r = cli("registry", "import-pre-commit", env=extra)
    assert r.code == 0, r
    assert "prettier" in r.out and "language 'node' is not supported" in r.out  # named, not skipped silently
    entries = {e["name"]: e for e in yaml.safe_load((repo.root / "omnibase.yaml").read_text())["components"]}
    assert set(entries) == {"tidy", "no-fixme"}
    assert entries["tidy"]["repo"] == {"url": hooks.as_uri(), "rev": "v1.0", "language": "python", "entry": "tidy-check"}
    assert entries["tidy"]["types"] == ["text"]  # from the hook's manifest
    assert entries["no-fixme"]["exclude"] == "^omnibase\\.yaml$"  # from the config
    assert _envs(cache) == []  # importing fetches; it builds nothing
    assert cli("install").code == 0

    # the first commit builds the environment, with progress, and runs the hook from it
    repo.write("a.txt", "TODO: finish\n")
    repo.stage("a.txt", "omnibase.yaml", ".pre-commit-config.yaml")
    done = commit("one")
    assert done.returncode != 0, done
    shown = done.stdout + done.stderr
    assert "building the Python environment" in shown and "[2/2] installing" in shown
    [first] = _envs(cache)
    assert "a.txt: has a TODO" in shown
    assert f"tidy-check 1.0 ran in {first}" in shown

    # the second commit reuses it: nothing is built
    repo.write("a.txt", "done\n")
    repo.stage("a.txt")
    done = commit("two")
    assert done.returncode == 0, done
    assert "building" not in done.stdout + done.stderr
    assert _envs(cache) == [first]

    # the pygrep hook of the same repository needs no environment
    repo.write("b.txt", "ok\nFIXME later\n")
    repo.stage("b.txt")
    done = commit("three")
    assert done.returncode != 0 and "b.txt:2:FIXME later" in done.stdout + done.stderr, done

    # a new rev is a new environment
    _release(hooks, "2.0")
    repo.write(".pre-commit-config.yaml", _config(hooks, "v2.0"))
    assert cli("registry", "import-pre-commit", "--force", env=extra).code == 0
    repo.write("b.txt", "TODO again\n")
    repo.stage("b.txt", "omnibase.yaml", ".pre-commit-config.yaml")
    done = commit("four")
    shown = done.stdout + done.stderr
    assert done.returncode != 0 and "building the Python environment" in shown, done
    assert len(_envs(cache)) == 2
    [second] = [e for e in _envs(cache) if e != first]
    assert f"tidy-check 2.0 ran in {second}" in shown

    # gc removes the environment (and the clone) no project uses any more
    r = cli("gc", "--dry-run", env=extra)
    assert r.code == 0 and "would remove environment" in r.out and "at v1.0" in r.out, r
    assert len(_envs(cache)) == 2
    r = cli("gc", env=extra)
    assert r.code == 0, r
    assert "removed environment" in r.out and "removed clone" in r.out and "at v1.0" in r.out
    assert _envs(cache) == [second]
    assert not (cache / "envs" / first).exists()
    repo.write("b.txt", "fine\n")
    repo.stage("b.txt")
    done = commit("five")  # the environment kept still serves
    assert done.returncode == 0 and "building" not in done.stdout + done.stderr, done

    # clean removes everything
    r = cli("clean", env=extra)
    assert r.code == 0, r
    assert not cache.exists()


def test_a_dry_run_builds_nothing(repo, cli, hooks, tmp_path):
    cache = tmp_path / "cache"
    extra = {"OMNIBASE_CACHE_DIR": str(cache)}
    repo.write(".pre-commit-config.yaml", _config(hooks, "v1.0"))
    assert cli("registry", "import-pre-commit", env=extra).code == 0
    repo.write("a.txt", "TODO\n")
    repo.stage("a.txt")
    r = cli("orch", "--mode", "dry-run", "--format", "json", env=extra)
    assert r.code == 0, r
    assert "building" not in r.err
    assert _envs(cache) == []


def test_a_repository_that_cannot_be_fetched_is_listed_with_why(repo, cli, tmp_path):
    repo.write(".pre-commit-config.yaml", _config(tmp_path / "nowhere", "v1"))
    r = cli("registry", "import-pre-commit", env={"OMNIBASE_CACHE_DIR": str(tmp_path / "cache")})
    assert r.code == 0, r
    assert "tidy (" in r.out and "cannot fetch" in r.out


def test_local_pygrep_and_fail_hooks_run(repo, cli):
    config = (
        "repos:\n  - repo: local\n    hooks:\n"
        "      - {id: no-print, name: no print calls, entry: '\\bprint\\(', language: pygrep, types: [python]}\n"
        "      - {id: no-todo, entry: 'todo', language: pygrep, args: [--ignore-case], files: \\.txt$}\n"
        "      - {id: no-orig, entry: leftover merge files, language: fail, files: \\.orig$}\n"
    )
    repo.write(".pre-commit-config.yaml", config)
    assert cli("registry", "import-pre-commit").code == 0
    assert "repo:pygrep" in cli("registry", "list", "--format", "human").out
    repo.write("a.py", "x = 1\n")
    repo.write("n.txt", "nothing\n")
    repo.stage("a.py", "n.txt", "omnibase.yaml")
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 0, r
    repo.write("a.py", "x = 1\nprint(x)\n")
    repo.write("n.txt", "a ToDo here\n")
    repo.write("m.orig", "old\n")
    repo.stage("a.py", "n.txt", "m.orig")
    r = cli("orch", "--format", "json", "--all-files")
    assert r.code == 1, r
    assert "a.py:2:print(x)" in r.out and "n.txt:1:a ToDo here" in r.out
    assert "leftover merge files" in r.out and "m.orig" in r.out


def test_a_local_python_hook_runs_from_an_environment_of_its_dependencies(repo, cli, hooks, tmp_path):
    cache = tmp_path / "cache"
    extra = {"OMNIBASE_CACHE_DIR": str(cache)}
    config = (
        "repos:\n  - repo: local\n    hooks:\n"
        f"      - {{id: tidy, entry: tidy-check, language: python, additional_dependencies: ['{hooks}'], files: \\.txt$}}\n"
    )
    repo.write(".pre-commit-config.yaml", config)
    assert cli("registry", "import-pre-commit", env=extra).code == 0
    repo.write("a.txt", "TODO\n")
    repo.stage("a.txt", "omnibase.yaml")
    r = cli("orch", "--format", "json", env=extra)
    assert r.code == 1, r
    [env] = _envs(cache)
    assert "a.txt: has a TODO" in r.out and f"tidy-check 1.0 ran in {env}" in r.out
    assert f"building the Python environment of local hooks ({hooks})" in r.err
    assert not (cache / "repos").exists()  # nothing was cloned: the dependency is a folder
