"""Start-up guard: what an everyday commit and ``--version`` import (structural, not timed).

The everyday commit (4 modified ``.py`` files and a new ``.yaml``, staged; the default
built-ins) runs in a real repository through the real CLI in a fresh interpreter, which
then lists ``sys.modules``. ``python -X importtime`` cannot be used for the run itself: a
component's imports happen while its stderr is captured, so their lines never reach us.
The lists below are modules the path does not need; a change that imports one of them at
start-up (or at module level of something the path imports) fails here, and should import
it lazily in the command that uses it instead (see docs/benchmarks.md for the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Never on the everyday commit's path.
NOT_FOR_A_COMMIT = (
    "asyncio",
    "concurrent.futures",
    "multiprocessing",
    "sqlite3",
    "structlog",
    "yaml",  # PyYAML: check-yaml uses ruamel.yaml, as the reference does
    "importlib.metadata",  # the version is a literal in omnibase._version
    "ctypes",  # adopting orphans (prctl) is for runs that may start the user's commands
    "returns.io",
    "returns.future",
    "returns.pipeline",
    "returns.pointfree",
    "returns.maybe",
    "returns.context",
    "omnibase.drivers.aio",
    "omnibase.drivers.dask",
    "omnibase.drivers.dryrun",
    "omnibase.drivers.profile",
    "omnibase.cli._otel",
    "omnibase.cli._snapshot",
    "omnibase.cli._registry_cmd",
    "omnibase.registry._import",
    "omnibase.precommit._install",
    "tomllib",  # no TOML file is staged
    "json.tool",
    "email",
    "http",
    "urllib.request",
    "pydoc",
)

#: ``--version`` needs none of the machinery.
NOT_FOR_VERSION = (
    "argparse",  # answered before the parser is built
    "typing",
    "shutil",
    "msgspec",
    "returns",
    "subprocess",
    "omnibase.core",
    "omnibase.cli._main",
    "omnibase.cli._commands",
)

#: The run may fork (the stash's supervisor runs the checks in a child that exits through
#: ``atexit`` and ``os._exit``): the child records its modules too, and both lists count.
PROBE = (
    "import atexit, json, os, sys\n"
    "top = os.getpid()\n"
    "atexit.register(lambda: os.getpid() != top and open(sys.argv[1] + '.child', 'w').write(json.dumps(sorted(sys.modules))))\n"
    "from omnibase.cli import main\n"
    "code = main(sys.argv[2:])\n"  # called, not as the program: the process stays to tell
    "open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules)))\n"
    "sys.exit(code)\n"
)


def _imported(cwd: Path, out: Path, *args: str) -> tuple[int, set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=120,
    )  # fmt: skip
    child = out.with_name(out.name + ".child")
    modules = set(json.loads(out.read_text())) | (set(json.loads(child.read_text())) if child.exists() else set())
    return done.returncode, modules, done.stdout + done.stderr


def _hits(modules: set[str], listed: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in listed))


@pytest.fixture
def everyday(repo):  # type: ignore[no-untyped-def]
    for name in ("a.py", "b.py", "pkg/c.py", "pkg/d.py"):
        repo.write(name, f"x = {name!r}\n")
    repo.stage(".")
    repo.commit()
    for name in ("a.py", "b.py", "pkg/c.py", "pkg/d.py"):
        repo.write(name, f"x = {name!r}\ny = [1, 2, 3]\n")
    repo.write("new.yaml", "edit: 1\nlist: [1, 2, 3]\n")
    repo.stage("a.py", "b.py", "pkg/c.py", "pkg/d.py", "new.yaml")
    repo.write("a.py", "x = 'a.py'\ny = [1, 2, 3]\nz = 'unstaged'\n")  # the stash has work to do
    return repo


def test_the_everyday_commit_imports_nothing_it_does_not_need(everyday, tmp_path):  # type: ignore[no-untyped-def]
    code, modules, output = _imported(everyday.root, tmp_path / "modules.json", "orch", "--stage", "pre-commit", "--format", "human")
    assert code == 0, output
    assert "check-ast" in output and "check-yaml" in output, output  # the checks ran (human report)
    # the probe sees the run's own imports (so an absence below means something)
    assert {"ruamel.yaml", "_symtable", "identify.identify", "omnibase.precommit._stash"} <= modules
    assert _hits(modules, NOT_FOR_A_COMMIT) == []
    assert (everyday.root / "a.py").read_text().endswith("z = 'unstaged'\n")  # put back


def test_a_registry_with_a_command_adopts_orphans_and_so_imports_ctypes(everyday, tmp_path):  # type: ignore[no-untyped-def]
    everyday.write("omnibase.yaml", "components:\n- name: echo\n  type: validator\n  tags: [pre-commit]\n  command: [echo, hi]\n")
    code, modules, output = _imported(everyday.root, tmp_path / "modules.json", "orch", "--stage", "pre-commit", "--format", "human")
    assert code == 0, output
    assert "ctypes" in modules  # the other side of the ctypes line above: not vacuous


def test_version_imports_none_of_the_machinery(tmp_path):  # type: ignore[no-untyped-def]
    code, modules, output = _imported(tmp_path, tmp_path / "modules.json", "--version")
    assert code == 0 and output.startswith("omnibase "), output
    assert "omnibase._version" in modules
    assert _hits(modules, NOT_FOR_VERSION) == []


def test_help_and_version_with_a_command_still_build_the_parser(tmp_path):  # type: ignore[no-untyped-def]
    code, modules, output = _imported(tmp_path, tmp_path / "modules.json", "--version", "orch")
    assert code == 0 and output.startswith("omnibase "), output
    assert "argparse" in modules and "shutil" not in modules  # the help formatter's width: not shutil's import
