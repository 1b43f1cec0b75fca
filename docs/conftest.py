"""Runs the Python code blocks of every page in docs/ as a test, top to bottom, and
type-checks them.

Each page is one test: its ```python blocks share a namespace, in order, so a tutorial
can build on what it defined earlier. A block fenced as ```python no-run is shown but
not run (nor type-checked). A block may end with the output it prints, written as comment
lines starting with `# out: `; the test checks the printed text equals them.

Each page is also a second test, ``types``: its blocks, in order and at their own line
numbers, form one module that must pass ``mypy --strict`` with the project's settings
(one mypy run checks every page; errors name the page and its line).

The other examples run too (one test each, named ``PAGE::LANG:LINE``):

- ```yaml blocks: a registry file (top-level keys of the registry's schema), a list of
  component entries or one entry's fields is validated by the registry loader, and the
  entries that name something real (an importable module, a command on PATH) are resolved
  (a built-in check's name and flags are checked as the file loads). Any other YAML (a CI configuration) must parse, and each ``omnibase``
  command in it must be accepted by the CLI's argument parser.
- ```sh, ```bash and ```console blocks (in a console block, the lines after ``$ ``): each
  ``omnibase`` command is checked by the CLI's parser, then every line runs, in order, with
  bash in a scratch git repository (a few files, one of them failing a check, a
  ``.pre-commit-config.yaml``): it must exit 0 or 1 (1: a check failed) with no traceback.
  A block that must not run there (it installs packages, needs a server or a terminal, or
  holds a placeholder) says so with a visible line ``# not run: WHY``; its commands are
  still parsed.
- A block in another language (a Jenkinsfile's groovy): its ``omnibase`` commands parse.
- Every fence names its language (``text`` for output and synopses), so no command hides
  in an unlabelled block.
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


_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


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
        fences = [(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 2) for m in _FENCE.finditer(text)]
        yield FenceLabels.from_parent(self, name=f"{self.path.name}::fences", fences=[(info, line) for info, _, line in fences])
        for info, body, line in fences:
            lang = info.split()[0] if info else ""
            if lang == "yaml":
                yield YamlExample.from_parent(self, name=f"{self.path.name}::yaml:{line}", source=body, line=line)
            elif lang in _SHELLS:
                yield ShellExample.from_parent(self, name=f"{self.path.name}::{lang}:{line}", source=body, line=line, console=lang == "console")
            elif lang not in ("python", "text"):  # another CI system's configuration (groovy, ...)
                yield CommandsExample.from_parent(self, name=f"{self.path.name}::{lang}:{line}", source=body, line=line)


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


# --- YAML and shell examples ---------------------------------------------------------------------

_SHELLS = ("sh", "bash", "console")
_NOT_RUN = re.compile(r"^\s*#\s*not run:\s*(.+)$", re.M)


class _Example(pytest.Item):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value) if excinfo.errisinstance(AssertionError) else str(super().repr_failure(excinfo))


class FenceLabels(_Example):
    """Every fenced block names its language: a command cannot hide in an unlabelled block."""

    def __init__(self, *, fences: list[tuple[str, int]], **kw: Any) -> None:
        super().__init__(**kw)
        self.fences = fences

    def runtest(self) -> None:
        bare = [line - 1 for info, line in self.fences if not info]
        assert not bare, f"{self.path.name}: fences without a language at lines {bare} (say text, sh, yaml, ...)"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"docs page {self.path.name}: every fence names its language"


class YamlExample(_Example):
    def __init__(self, *, source: str, line: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.source, self.line = source, line

    def runtest(self) -> None:
        import yaml

        where = f"{self.path.name}:{self.line}"
        data = yaml.safe_load(self.source)
        text = _as_registry(data, self.source)
        if text is None:  # not a registry: a CI configuration and the like
            commands = [c for value in _strings(data) for c in _omnibase_commands(value)]
            for argv in commands:
                _check_argv(argv, where)
            return
        from returns.result import Failure

        from omnibase.registry import parse_registry_text, resolve_entries

        parsed = parse_registry_text(text, where)
        assert not isinstance(parsed, Failure), f"the registry example is rejected: {parsed.failure()}"
        real = [e for e in parsed.unwrap().entries if _names_something_real(e)]
        for name, found in resolve_entries(real, root=str(self.config.rootpath)).items():
            assert not isinstance(found, Failure), f"{where}: entry {name} does not resolve: {found.failure()}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"docs yaml example {self.path.name}:{self.line}"


def _as_registry(data: Any, source: str) -> str | None:
    """``source`` as a whole registry file when it is one, or a part of one (a list of entries,
    one entry's fields); None when it is no registry at all."""
    import yaml

    from omnibase.registry._schema import Entry, RegistryFile

    if isinstance(data, dict) and data and set(data) <= set(RegistryFile.__struct_fields__):
        return source
    if isinstance(data, list) and all(isinstance(e, dict) for e in data):
        return "version: 1\ncomponents:\n" + source
    if isinstance(data, dict) and data and set(data) <= set(Entry.__struct_fields__):
        entry = {"name": "docs-example", "command": ["true"], **data} if "name" not in data else data
        return str(yaml.safe_dump({"version": 1, "components": [entry]}))
    return None


def _names_something_real(entry: Any) -> bool:
    """A module that imports from here, or a command on PATH (a built-in entry's check and
    flags are checked as the registry loads)."""
    import importlib.util
    import shutil

    if entry.builtin is not None:
        return False
    if entry.python is not None:
        try:
            return importlib.util.find_spec(entry.python.partition(":")[0]) is not None
        except ModuleNotFoundError:
            return False
    return bool(entry.command) and shutil.which(entry.command[0]) is not None


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}


def _omnibase_commands(text: str) -> list[list[str]]:
    """The ``omnibase ...`` (or ``python -m omnibase ...``) argument lists in shell text, each
    up to the first shell operator."""
    import shlex

    found: list[list[str]] = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        try:
            words = list(lexer)
        except ValueError:  # an unclosed quote: not shell text
            continue
        for i, word in enumerate(words):
            start = i + 1 if word == "omnibase" else i + 3 if words[i : i + 3] == ["python", "-m", "omnibase"] else None
            if start is None or (i and words[i - 1] not in _OPERATORS and "=" not in words[i - 1] and words[i - 1] != "sh"):
                continue
            argv = []
            for w in words[start:]:
                if w in _OPERATORS:
                    break
                argv.append(w)
            if argv:  # a bare "omnibase" is a name (a CI job's), not a command
                found.append(argv)
            break
    return found


def _check_argv(argv: list[str], where: str) -> None:
    """The CLI's argument parser accepts ``argv`` (argparse exits 2 on an error)."""
    from omnibase.cli._main import _command_of, _parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            _parser(_command_of(argv)).parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 0, f"{where}: omnibase {' '.join(argv)}: {err.getvalue().strip()}"


class CommandsExample(_Example):
    """A block in a language of its own (a Jenkinsfile's groovy): its ``omnibase`` commands parse."""

    def __init__(self, *, source: str, line: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.source, self.line = source, line

    def runtest(self) -> None:
        commands = _omnibase_commands(self.source.replace("'", " "))
        assert commands, f"{self.path.name}:{self.line}: no omnibase command found in the block"
        for argv in commands:
            _check_argv(argv, f"{self.path.name}:{self.line}")

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"docs example {self.path.name}:{self.line}: its omnibase commands parse"


class ShellExample(_Example):
    def __init__(self, *, source: str, line: int, console: bool, **kw: Any) -> None:
        super().__init__(**kw)
        self.source, self.line, self.console = source, line, console

    def commands(self) -> list[str]:
        joined = self.source.replace("\\\n", " ")
        if self.console:
            return [l[2:] for l in joined.splitlines() if l.startswith("$ ")]
        return [l for l in joined.splitlines() if l.strip() and not l.lstrip().startswith("#")]

    def runtest(self) -> None:
        where = f"{self.path.name}:{self.line}"
        commands = self.commands()
        for command in commands:
            for argv in _omnibase_commands(command):
                _check_argv(argv, where)
        why = _NOT_RUN.search(self.source)
        if why:
            pytest.skip(f"{where}: not run: {why.group(1)} (its omnibase commands parse)")
        with tempfile.TemporaryDirectory(prefix="omnibase-docs-sh-") as tmp:
            root = _scratch_repo(Path(tmp))
            env = _scratch_env(Path(tmp))
            for command in commands:
                done = subprocess.run(
                    ["bash", "-o", "pipefail", "-c", command], cwd=root, env=env, stdin=subprocess.DEVNULL,
                    capture_output=True, text=True, timeout=180, check=False,
                )  # fmt: skip
                assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (
                    f"{where}: `{command}` exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
                )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"docs shell example {self.path.name}:{self.line}"


_PRE_COMMIT_CONFIG = """\
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v6.0.0
    hooks:
      - id: trailing-whitespace
      - id: end-of-file-fixer
      - id: check-json
"""


def _scratch_repo(tmp: Path) -> Path:
    """A git repository with a committed project and a staged change that fails a check."""
    root = tmp / "project"
    root.mkdir()
    files = {"app.py": "x = 1\n", "data.json": '{"a": 1}\n', "notes.txt": "notes\n", ".pre-commit-config.yaml": _PRE_COMMIT_CONFIG}
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    for key, value in (("user.email", "docs@example.invalid"), ("user.name", "docs"), ("commit.gpgsign", "false")):
        subprocess.run([*git, "config", key, value], check=True)  # the repository's own: the examples' commits need them
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    (root / "notes.txt").write_text("notes with trailing space   \n", encoding="utf-8")
    subprocess.run([*git, "add", "notes.txt"], check=True)
    return root


def _scratch_env(tmp: Path) -> dict[str, str]:
    """This interpreter's ``omnibase`` and ``python`` first on PATH; no OMNIBASE_ settings of
    ours; git needs no editor and reads no global configuration of the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PYTEST_", "GIT_"))}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.update(
        OMNIBASE_SERVER="0", HOME=str(tmp), GIT_EDITOR="true", GIT_CONFIG_GLOBAL=str(tmp / "gitconfig"),
    )  # fmt: skip
    return env
