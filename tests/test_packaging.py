"""A user's project type-checks against omnibase, installed editable and regular.

A scratch virtual environment gets omnibase from a copy of this source tree (no
dependencies, no build isolation, no index: offline), and sees this environment's
packages (mypy, returns, msgspec, ...) through a path entry. Then ``mypy --strict`` runs
on a typed pipeline in a scratch project, where only the installed omnibase is visible.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

APP = '''
import functools

from returns.result import Result, Success

from omnibase import ExecCtx, Failed, RetryPolicy, all_of, component, fallback, lift, retry, run
from omnibase.testing import fake_ctx


@component(idempotent=True)
def parse(ctx: ExecCtx, text: str) -> Result[int, Failed]:
    return Success(int(text))


def scale(factor: int, ctx: ExecCtx, n: int) -> Result[int, Failed]:
    return Success(n * factor)


shout = lift(str.upper, name="shout")
double = component(functools.partial(scale, 2), name="double")
pipeline = all_of(retry(parse, RetryPolicy(max_attempts=2)) >> double, shout)
reveal_type(pipeline)
report = run(fallback(pipeline, pipeline), "21", fake_ctx())
reveal_type(report)
print(report.output)
'''


def _sh(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    shutil.copytree(ROOT / "omnibase", src / "omnibase", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    venv = base / "venv"
    done = _sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    purelib = _sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base).stdout.strip()
    # This environment's packages, after the scratch one's own (so its omnibase wins).
    (Path(purelib) / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project = base / "project"
    project.mkdir()
    (project / "app.py").write_text(APP)
    return src, python, project


def _install_and_check(src: Path, python: Path, project: Path, *editable: str) -> str:
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    done = _sh(*pip, "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", *editable, src, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        where = _sh(python, "-c", "import omnibase, sys; print(omnibase.__file__)", cwd=project)
        assert str(src) in where.stdout if editable else "site-packages" in where.stdout, where.stdout + where.stderr
        ran = _sh(python, "app.py", cwd=project)
        assert ran.returncode != 0 and "reveal_type" in ran.stderr  # runs up to the type-only call
        checked = _sh(python, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", project / ".cache", "app.py", cwd=project)
        return checked.stdout + checked.stderr
    finally:
        _sh(*pip, "uninstall", "-q", "-y", "omnibase", cwd=project)


EXPECTED = [
    'app.py:22: note: Revealed type is "omnibase.core.step.Step[str, tuple[int, str]]"',
    # run() is typed end to end once it takes Step[A, B]: either form is a checked report.
    ('app.py:24: note: Revealed type is "omnibase.core.values.RunReport[Any]"',
     'app.py:24: note: Revealed type is "omnibase.core.values.RunReport[tuple[int, str]]"'),
]


@pytest.mark.parametrize("mode", ["editable", "regular"])
def test_a_users_project_type_checks_against_the_installed_package(scratch: tuple[Path, Path, Path], mode: str) -> None:
    src, python, project = scratch
    out = _install_and_check(src, python, project, *(["-e"] if mode == "editable" else []))
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0] == EXPECTED[0] and lines[1] in EXPECTED[1], out
