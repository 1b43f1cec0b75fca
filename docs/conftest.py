"""Runs the Python code blocks of every page in docs/ as a test, top to bottom.

Each page is one test: its ```python blocks share a namespace, in order, so a tutorial
can build on what it defined earlier. A block fenced as ```python no-run is shown but
not run. A block may end with the output it prints, written as comment lines starting
with `# out: `; the test checks the printed text equals them.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
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
