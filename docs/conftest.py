"""Runs the Python code blocks of every page in docs/ as a test, top to bottom, and
type-checks them.

Each page is one test: its ```python blocks share a namespace, in order, so a tutorial
can build on what it defined earlier. A block fenced as ```python no-run is shown but
not run (nor type-checked). A block may end with the output it prints, written as comment
lines starting with `# out: `; the test checks the printed text equals them.

Each page is also a second test, ``types``: its blocks, in order and at their own line
numbers, form one module that must pass ``mypy --strict`` with the project's settings
(one mypy run checks every page; errors name the page and its line).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

_BLOCK = re.compile(r"^```python( no-run)?\n(.*?)^```", re.S | re.M)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".md":
        return MarkdownFile.from_parent(parent, path=file_path)
    return None


class MarkdownFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        text = self.path.read_text(encoding="utf-8")
        blocks = [(m.group(2), text.count("\n", 0, m.start()) + 2) for m in _BLOCK.finditer(text) if not m.group(1)]
        if blocks:
            yield MarkdownPage.from_parent(self, name=self.path.name, blocks=blocks)
            yield MarkdownTypes.from_parent(self, name=f"{self.path.name}::types")


class MarkdownPage(pytest.Item):
    def __init__(self, *, blocks: list[tuple[str, int]], **kw: Any) -> None:
        super().__init__(**kw)
        self.blocks = blocks

    def runtest(self) -> None:
        namespace: dict[str, Any] = {"__name__": f"docs_{self.path.stem}"}
        here = os.getcwd()
        try:
            for source, line in self.blocks:
                expected = [l[len("# out: "):] if l.startswith("# out: ") else "" for l in source.splitlines() if l.startswith("# out:")]
                out = io.StringIO()
                code = compile("\n" * (line - 1) + source, str(self.path), "exec")
                with contextlib.redirect_stdout(out):
                    exec(code, namespace)
                if expected:
                    got = out.getvalue().rstrip("\n").splitlines()
                    assert got == expected, f"{self.path.name}:{line}: printed {got!r}, the page says {expected!r}"
        finally:
            os.chdir(here)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"docs page {self.path.name}"


def page_module(text: str) -> str:
    """A page's runnable blocks as one module, each block at its own line numbers."""
    lines: list[str] = []
    for m in _BLOCK.finditer(text):
        if m.group(1):
            continue
        first = text.count("\n", 0, m.start()) + 1  # the block's first line, 0-based
        lines.extend([""] * (first - len(lines)))
        lines.extend(m.group(2).splitlines())
    return "\n".join(lines) + "\n"


@cache
def _mypy_errors(root: Path) -> dict[str, list[str]]:
    """One mypy run over every docs page: ``{"docs/page.md": ["line: message", ...]}``."""
    with tempfile.TemporaryDirectory(prefix="omnibase-docs-types-") as tmp:
        return _check_pages(root, Path(tmp))


def _cache_dir(root: Path) -> str:
    """mypy's cache is not safe for two processes at once: one per pytest-xdist worker."""
    return str(root / ".mypy_cache" / "docs" / os.environ.get("PYTEST_XDIST_WORKER", "main"))


def _check_pages(root: Path, out: Path) -> dict[str, list[str]]:
    names: dict[str, str] = {}
    for page in sorted((root / "docs").rglob("*.md")):
        module = page_module(page.read_text(encoding="utf-8"))
        if module.strip():
            stem = page.relative_to(root / "docs").with_suffix("").as_posix().replace("/", "_").replace("-", "_")
            (out / f"docs_{stem}.py").write_text(module, encoding="utf-8")
            names[f"docs_{stem}.py"] = page.relative_to(root).as_posix()
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(root / "pyproject.toml"),
         "--no-error-summary", "--show-error-codes", "--cache-dir", _cache_dir(root),
         *sorted(str(out / n) for n in names)],
        capture_output=True, text=True, cwd=root, env=dict(os.environ, MYPYPATH=str(root)), check=False,
    )
    errors: dict[str, list[str]] = {page: [] for page in names.values()}
    for line in done.stdout.splitlines():
        if not line.strip() or ": note:" in line:
            continue
        path, _, rest = line.partition(":")
        page = names.get(Path(path).name)
        errors.setdefault(page or "(mypy)", []).append(rest if page else line)
    if done.returncode not in (0, 1):
        errors.setdefault("(mypy)", []).append(done.stderr.strip())
    return errors


class MarkdownTypes(pytest.Item):
    def runtest(self) -> None:
        errors = _mypy_errors(self.config.rootpath)
        page = self.path.relative_to(self.config.rootpath).as_posix()
        mine = errors.get(page, []) + errors.get("(mypy)", [])
        assert not mine, f"{page} does not type-check:\n" + "\n".join(f"{page}:{e}" for e in mine)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value) if excinfo.errisinstance(AssertionError) else str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"docs page {self.path.name} type-checks"
