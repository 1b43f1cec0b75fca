"""The built-in pytest component (an edge: runs pytest in a subprocess, reads its cases).

In a project whose tests pytest would collect (``wants_pytest``: pytest configuration in
``pyproject.toml``, ``pytest.ini``, ``setup.cfg`` or ``tox.ini``, or a ``tests/`` folder),
the catalogue holds a component named ``pytest`` of type ``test``. It runs
``PYTHON -m pytest`` in the repository's root with the plugin
``omnibase/components/_pytest_plugin.py`` loaded (as ``_omnibase_pytest_plugin``, alone in a
temporary folder put on ``PYTHONPATH``) (``PYTHON``: the project's ``.venv`` or ``venv``
interpreter when it has one, else the one omnibase runs under) (``-p``), which writes each test case as a
line of JSON the moment it finishes; the component reads them back into
``omnibase.core.testcases.TestCase`` values. Nothing is parsed from pytest's terminal
output.

The run's case selection is part of the component's value (``PytestRunner``): markers
(``--tags``, pytest's ``-m``), name globs (``--filter name=...``, matched against node ids
and test names by the plugin), node ids (``--only-failed``), ``--maxfail``, ``-x`` and
``--jobs`` (pytest-xdist's ``-n`` when the interpreter has it).

pytest's exit code decides the verdict: 0 passes; 5 (nothing collected) is a skip; 1 (or 2
for a test module that does not collect) is a failure with every case in the failure's data (transient, so retried when the component is
idempotent, only when every failed case is marked ``flaky``; the retry reruns just those);
otherwise 2, 3 and 4 (interrupted, internal or usage error, an unknown marker under
``--strict-markers``) are ``Misconfigured`` (exit 2); an
interpreter that cannot import pytest is ``Unresolved`` (exit 3).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.intents import Called, Invoke
from omnibase.core.lift import format_traceback
from omnibase.core.select import Selector
from omnibase.core.step import Component
from omnibase.core.testcases import TestCase, TestRun, failure_summary
from omnibase.core.values import ComponentType, ExecCtx, Failed, Meta, Misconfigured, Skip, StepError, Unresolved
from omnibase.drivers import kinds

__all__ = ["NAME", "PLUGIN", "PYTEST", "PytestKind", "PytestRunner", "case_selection", "listen", "project_python", "pytest_component", "wants_pytest"]

#: The component's name (a registry entry of the same name replaces it).
NAME = "pytest"
#: The plugin's module name in the run (a copy of ``omnibase/components/_pytest_plugin.py``
#: by a link, alone on the path: the project's interpreter need not have omnibase).
PLUGIN = "_omnibase_pytest_plugin"
_PLUGIN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pytest_plugin.py")
_CASES_ENV = "OMNIBASE_TEST_CASES"
_NAMES_ENV = "OMNIBASE_TEST_NAMES"


def wants_pytest(root: str) -> bool:
    """Whether pytest would collect tests in the project at ``root``: a ``tests/`` folder,
    or pytest's configuration in one of the files pytest reads it from.

    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> wants_pytest(folder)
    False
    >>> _ = open(os.path.join(folder, "pytest.ini"), "w").write("[pytest]\\n")
    >>> wants_pytest(folder)
    True
    """
    if os.path.isdir(os.path.join(root, "tests")) or os.path.isfile(os.path.join(root, "pytest.ini")):
        return True
    for name, header in _SECTIONS.items():
        try:
            with open(os.path.join(root, name), "rb") as fh:
                text = fh.read(_MAX_CONFIG)
        except OSError:
            continue
        if header.search(text):
            return True
    return False


#: The files pytest reads its settings from, and the header of its section in each (looked
#: for line by line: a pre-commit run on every commit must not pay for a TOML parser).
_SECTIONS = {
    "pyproject.toml": re.compile(rb"^[ \t]*\[[ \t]*tool\.pytest[.\]]", re.M),
    "setup.cfg": re.compile(rb"^[ \t]*\[tool:pytest\]", re.M),
    "tox.ini": re.compile(rb"^[ \t]*\[pytest\]", re.M),
}
_MAX_CONFIG = 1 << 20


class PytestRunner(msgspec.Struct, frozen=True, kw_only=True):
    """The pytest component's function: an immutable value holding what it runs.

    ``python``: the interpreter (default: ``project_python``, the project's ``.venv`` or
    the one omnibase runs under); ``args``: more
    pytest arguments; ``markers``: a marker expression (pytest's ``-m``); ``names``:
    only cases whose node id or name matches one of these globs; ``only``: exactly these
    node ids; ``maxfail``/``exitfirst``/``jobs``: pytest's ``--maxfail``, ``-x``, ``-n``.
    """

    python: str = ""
    args: tuple[str, ...] = ()
    markers: str = ""
    names: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    maxfail: int | None = None
    exitfirst: bool = False
    jobs: int | None = None

    def __call__(self, ctx: ExecCtx, value: object) -> Result[TestRun | Skip, StepError]:
        return self.run(ctx, value)

    def argv(self, *, xdist: bool = False) -> list[str]:
        """The command line, without the node ids (``only``) appended.

        >>> PytestRunner(python="py", markers="slow or db", maxfail=2).argv()
        ['py', '-m', 'pytest', '-p', '_omnibase_pytest_plugin', '-q', '-m', 'slow or db', '--maxfail', '2']
        """
        argv = [self.python or sys.executable, "-m", "pytest", "-p", PLUGIN, "-q", *self.args]
        if self.markers:
            argv += ["-m", self.markers]
        if self.maxfail is not None:
            argv += ["--maxfail", str(self.maxfail)]
        if self.exitfirst:
            argv.append("-x")
        if self.jobs is not None and xdist:
            argv += ["-n", str(self.jobs)]
        return argv

    def run(self, ctx: ExecCtx, value: object, *, timeout: float | None = None, name: str = NAME) -> Result[TestRun | Skip, StepError]:
        """Run pytest (``timeout``: the whole run's limit; the process tree is killed).
        Called again in the same run after a failure of flaky cases only (the retry
        policy's next attempt), it reruns just those cases and merges their new results."""
        key = (ctx.run_id, self)
        earlier = _EARLIER.pop(key, None)
        if earlier is not None:
            again = earlier.flaky_failures()
            result = self.retrying(again)._run(ctx, timeout, name)
            result = _merged(earlier, result)
        else:
            result = self._run(ctx, timeout, name)
        failed = result.failure() if isinstance(result, Failure) else None
        if isinstance(failed, Failed) and failed.transient and isinstance(failed.data, dict):
            _EARLIER[key] = msgspec.convert(failed.data, TestRun)
        return result

    def _run(self, ctx: ExecCtx, timeout: float | None, name: str) -> Result[TestRun | Skip, StepError]:
        from omnibase.drivers.isolation import spawn

        note = self.jobs_note(ctx.root)
        notes = [note] if note else []
        xdist = self.jobs is not None and not note
        argv = [*self.argv(xdist=xdist), *self.only]
        if not self.python:
            argv[0] = project_python(ctx.root)
        import tempfile  # here: every run loads this module, few run pytest (tempfile brings random, shutil)

        with tempfile.TemporaryDirectory(prefix="omnibase-pytest-") as folder:
            cases_file = os.path.join(folder, "cases.jsonl")
            open(cases_file, "wb").close()
            # the plugin, alone in a folder of its own on the path: the suite's imports (and
            # its subprocesses') find nothing else there, not even omnibase
            os.symlink(_PLUGIN_FILE, os.path.join(folder, PLUGIN + ".py"))
            env = {_CASES_ENV: cases_file, "PYTHONPATH": _pythonpath(folder), _NAMES_ENV: "\n".join(self.names)}
            env.update(_activated(argv[0]))
            # the suite sees the caller's whole environment, as when pytest is run by hand
            with _tailing(cases_file, name):
                ran = spawn.run_command(argv, cwd=ctx.root, timeout=timeout, env=env, pass_env=tuple(os.environ))
            if isinstance(ran, Failure):
                return ran
            code, output = ran.unwrap()
            started, cases = _read_cases(cases_file)
        return verdict(argv, code, output, started, cases, notes)


    def jobs_note(self, root: str) -> str:
        """Why ``jobs`` cannot apply (pytest-xdist missing from the interpreter), or ""."""
        if self.jobs is None or _has_module(self.python or project_python(root), "xdist", root):
            return ""
        return f"--jobs {self.jobs}: pytest-xdist is not installed, so the tests run one at a time"

    def retrying(self, failed: Sequence[TestCase]) -> PytestRunner:
        """The runner of another attempt: only the flaky cases that failed."""
        return msgspec.structs.replace(self, only=tuple(c.name for c in failed), markers="", names=(), maxfail=None, exitfirst=False)


#: Called with (component name, case) as each case finishes, while pytest still runs: the
#: CLI's jsonl stream listens here (the run's event stream carries steps, not their cases).
_LISTENERS: list[Callable[[str, TestCase], None]] = []
#: How often (seconds) the cases file is read for new lines while pytest runs.
TAIL_INTERVAL = 0.05


def listen(listener: Callable[[str, TestCase], None]) -> Callable[[], None]:
    """Have ``listener`` told of each test case as it finishes; the function returned
    stops that."""
    _LISTENERS.append(listener)
    return lambda: _LISTENERS.remove(listener) if listener in _LISTENERS else None


@contextlib.contextmanager
def _tailing(path: str, name: str) -> Iterator[None]:
    """While the body runs, a thread reads the cases ``path`` gains and tells the
    listeners (nothing at all when none listens); the rest is told when the body ends."""
    if not _LISTENERS:
        yield
        return
    import threading

    done = threading.Event()

    def tell(fh: Any, pending: bytes) -> bytes:
        pending += fh.read()
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            case = _case_line(raw)
            if case is not None:
                for listener in list(_LISTENERS):
                    listener(name, case)
        return pending

    def tail() -> None:
        pending = b""
        with open(path, "rb") as fh:
            while not done.wait(TAIL_INTERVAL):
                pending = tell(fh, pending)
            tell(fh, pending)

    thread = threading.Thread(target=tail, name="omnibase-cases", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _case_line(raw: bytes) -> TestCase | None:
    """A line of the cases file as a test case (None: the start line, or a torn one)."""
    try:
        obj = _LINE.decode(raw)
        return None if obj.get("event") == "started" else msgspec.convert(obj, TestCase)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


_LINE = msgspec.json.Decoder(dict[str, Any])

#: Per run and runner: the last attempt's cases when they failed on flaky cases only (the
#: retry policy will call again; the next attempt reruns just those).
_EARLIER: dict[tuple[str, PytestRunner], TestRun] = {}


def _merged(earlier: TestRun, result: Result[TestRun | Skip, StepError]) -> Result[TestRun | Skip, StepError]:
    """The earlier attempt's cases with the rerun ones replaced (each one attempt more)."""
    value = result.unwrap() if isinstance(result, Success) else None
    error = result.failure() if isinstance(result, Failure) else None
    if isinstance(value, TestRun):
        rerun = value
    elif isinstance(error, Failed) and isinstance(error.data, dict):
        rerun = msgspec.convert(error.data, TestRun)
    else:
        return result
    before = {c.name: c for c in earlier.tests}
    again = {c.name: msgspec.structs.replace(c, attempts=before[c.name].attempts + 1) for c in rerun.tests if c.name in before}
    cases = tuple(again.get(c.name, c) for c in earlier.tests)
    code = 1 if any(c.status == "FAIL" for c in cases) else 0
    return verdict(earlier.argv, code, "", True, cases, earlier.notes)


def verdict(argv: Sequence[str], code: int, output: str, started: bool, cases: Sequence[TestCase], notes: Sequence[str] = ()) -> Result[TestRun | Skip, StepError]:
    """The component's result from pytest's exit code, its output and the cases read.

    >>> verdict(["pytest"], 0, "", True, [TestCase(name="t", outcome="passed")]).unwrap().tests[0].status
    'PASS'
    >>> type(verdict(["pytest"], 4, "ERROR: usage", True, []).failure()).__name__
    'Misconfigured'
    """
    run = TestRun(runner=NAME, argv=tuple(argv), exit_code=code, tests=tuple(cases), notes=tuple(notes))
    tail = "\n".join(output.rstrip().splitlines()[-30:])
    if not started and code != 0:  # pytest never got as far as configuring its plugins
        if _has_module(argv[0], "pytest", ".") is False:
            why = tail.splitlines()[-1] if tail else "not installed"
            return Failure(Unresolved(name=NAME, message=f"{argv[0]} cannot import pytest: {why}"))
        return Failure(Misconfigured(message=tail or f"pytest exited with status {code}", where=NAME))
    if code == 0:
        return Success(run)
    if code == 5:
        return Success(Skip(reason="pytest collected no tests"))
    if code == 1 or (code == 2 and cases and not _usage_problem(cases)):
        failed = [c for c in cases if c.status == "FAIL"]
        message = failure_summary(cases) or tail or f"pytest exited with status {code}"
        transient = bool(failed) and all(c.flaky for c in failed)
        return Failure(Failed(message=message, transient=transient, data=msgspec.to_builtins(run) | {"failed": len(failed)}))
    return Failure(Misconfigured(message=_problem(cases) or tail or f"pytest exited with status {code}", where=NAME))


def _usage_problem(cases: Sequence[TestCase]) -> bool:
    """Whether the collection errors are of the run's configuration (an unknown marker
    under ``--strict-markers``), not of a test module."""
    return any(c.outcome == "error" and "not found in `markers` configuration option" in c.message for c in cases)


def _problem(cases: Sequence[TestCase]) -> str:
    bad = [c for c in cases if c.outcome == "error"]
    return "\n".join(f"ERROR {c.name} - {c.message}" for c in bad[:5])


def _read_cases(path: str) -> tuple[bool, list[TestCase]]:
    """Whether the plugin started, and the cases it wrote (a torn last line is left out)."""
    started = False
    cases: list[TestCase] = []
    with open(path, "rb") as fh:
        for raw in fh:
            case = _case_line(raw)
            if case is not None:
                cases.append(case)
            elif raw.startswith(b'{"event"'):
                started = True
    return started, cases


#: Where a project keeps its own environment, relative to its root: the first that holds
#: an interpreter is the one its tests run under.
PROJECT_ENVS = (".venv", "venv")


def project_python(root: str) -> str:
    """The project's interpreter: ``.venv/bin/python`` (or ``venv/``) under ``root`` when
    there is one, else the one omnibase runs under."""
    for folder in PROJECT_ENVS:
        candidate = os.path.join(root, folder, "bin", "python")
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def _activated(python: str) -> dict[str, str]:
    """The variables that activating the virtual environment of ``python`` sets (its
    ``bin`` first on ``PATH``, ``VIRTUAL_ENV``), as ``just test`` or an activated shell
    would have them; none when ``python`` is no virtual environment's."""
    bin_dir = os.path.dirname(python)
    venv = os.path.dirname(bin_dir)
    if not os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
        return {}
    rest = os.environ.get("PATH", "")
    return {"VIRTUAL_ENV": venv, "PATH": bin_dir + (os.pathsep + rest if rest else "")}


def _pythonpath(folder: str) -> str:
    """``folder`` (the plugin's) first, then the caller's ``PYTHONPATH``."""
    rest = os.environ.get("PYTHONPATH", "")
    return folder + (os.pathsep + rest if rest else "")


def _has_module(python: str, module: str, cwd: str) -> bool:
    if python == sys.executable:
        import importlib.util

        return importlib.util.find_spec(module) is not None
    import subprocess

    try:
        done = subprocess.run([python, "-c", f"import {module}"], cwd=cwd, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


class PytestKind(kinds.PythonKind):
    """The pytest runner's kind: pytest runs in a process of its own, stopped with its
    process tree at the invocation's limit; on the event loop, a thread waits for it."""

    name: str = "pytest"
    timed: bool = True
    awaitable: bool = True
    own_process: bool = True

    def call(self, intent: Invoke) -> Called:
        runner = intent.component.fn
        if not isinstance(runner, PytestRunner):  # the table maps PytestRunner here: cannot happen
            raise TypeError(f"{intent.component.name}: not a pytest runner")
        started = time.monotonic_ns()
        try:
            returned = runner.run(intent.ctx, intent.value, timeout=intent.limit, name=intent.component.name)
        except Exception as exc:
            return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
        return Called(returned, None, started, time.monotonic_ns())

    async def acall(self, intent: Invoke) -> Called:
        import asyncio

        return await asyncio.to_thread(self.call, intent)


PYTEST: Final = PytestKind()
kinds.register(PytestRunner, PYTEST)


def pytest_component(runner: PytestRunner = PytestRunner(), *, timeout: float | None = None) -> Component[Any, Any]:
    """The built-in pytest component running ``runner``: type ``test``, idempotent (a
    flaky case is retried by the retry policy), tagged ``tests``."""
    meta = Meta(
        name=NAME,
        type=ComponentType.TEST,
        tags=frozenset({"tests"}),
        idempotent=True,
        timeout=timeout,
        description="the project's pytest suite, one entry per test case",
    )
    return Component(runner, meta)


def case_selection(selector: Selector, name: str = NAME) -> tuple[Selector, str, tuple[str, ...]]:
    """What the user's ``--tags``/``--filter`` ask of a test runner's cases, and the selector
    that still picks components: each ``tag`` clause becomes a marker expression (``tag=a|b``
    is ``(a or b)``, ``tag!=a`` is ``not (a)``, clauses joined with ``and``), each positive
    ``name`` clause whose globs leave the runner itself out selects cases by those globs
    (the runner stays selected: it runs them). The runner keeps the tag clauses by carrying
    the tags asked for (see ``Catalogue.select_cases``).

    >>> from omnibase.core.select import parse_filter
    >>> rest, markers, names = case_selection(parse_filter("tag=slow|db,name=test_a*,type=test").unwrap())
    >>> rest.render(), markers, names
    ('tag=slow|db,name=test_a*|pytest,type=test', '(slow or db)', ('test_a*',))
    """
    import fnmatch

    from omnibase.core.select import Clause

    terms: list[str] = []
    names: list[str] = []
    clauses: list[Clause] = []
    for clause in selector.clauses:
        if clause.key == "tag":
            expr = "(" + " or ".join(clause.values) + ")"
            terms.append(f"not {expr}" if clause.negate else expr)
        if clause.key == "name" and not clause.negate and not any(fnmatch.fnmatchcase(name, g) for g in clause.values):
            names += clause.values
            clause = Clause("name", (*clause.values, name))
        clauses.append(clause)
    return Selector(tuple(clauses)), " and ".join(terms), tuple(names)
