"""Turning registry entries into components, each of its kind (``omnibase.components``).

Python entries import ``module:function`` (the repository root is put on ``sys.path``;
``omnibase.components.python``); those with ``isolation: process`` (the default) are not
imported here: a worker process imports them. Command entries become ``Command`` values
(``omnibase.components.command``): their argv run as subprocesses with the selected files
appended, a timeout that kills the whole process tree, resource limits (breaking one is
``ResourceExceeded``, exit 5), a scrubbed environment, no network unless the entry's
``sandbox`` grants it. ``repo:`` entries become ``RepoHook`` values
(``omnibase.repos``): a command run from the hook's clone or Python environment, which
is fetched and built when the hook first runs (never here, never in a dry run).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.components.command import Command, CommandOutput
from omnibase.components.files import FileSelection
from omnibase.components.python import Deferred, Selecting, cannot_import, imported, restoring, target_of
from omnibase.core.step import Component
from omnibase.core.values import Limits, StepError
from omnibase.drivers.isolation import spawn as _proc
from omnibase.registry._schema import Entry, ResolutionError, entry_meta

__all__ = ["RESOLVE_TIMEOUT", "CommandOutput", "resolve", "resolve_entries", "restoring", "run_command"]


#: Seconds a ``python:`` entry's module may take to import, in a probe subprocess, before
#: the entry counts as unresolved (exit 3). ``$OMNIBASE_RESOLVE_TIMEOUT`` overrides it.
RESOLVE_TIMEOUT = 10.0

#: The probe: imports each module named in argv, in order, and reports each one done on
#: the original stdout; whatever the modules print goes to stderr.
_PROBE = """
import importlib, json, os, sys
report = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.path[:0] = [sys.argv[1], *json.loads(sys.argv[2])]
for name in sys.argv[3:]:
    importlib.import_module(name)
    report.write(name + "\\n")
    report.flush()
"""


def resolve(entry: Entry, *, root: str) -> Result[Component[Any, Any], ResolutionError]:
    """The component an entry describes, or why it cannot be had."""
    return resolve_entries([entry], root=root)[entry.name]


def resolve_entries(entries: Sequence[Entry], *, root: str) -> dict[str, Result[Component[Any, Any], ResolutionError]]:
    """Resolve ``entries`` (by name). The modules of ``python:`` entries are first imported
    in one short-lived subprocess with a timeout, so a module that exits, calls
    ``os._exit`` or hangs at import is a resolution error, not the end of the run."""
    # Entries run in worker processes are probed there (``_isolated``); the in-process ones
    # (``isolation: none``) have their modules imported here, after a probe in a subprocess.
    targets = [e.python.partition(":") for e in entries if e.python is not None and e.isolation == "none"]
    modules = [module for module, _, attr in targets if module and attr]
    broken = _probe(modules, root)
    out: dict[str, Result[Component[Any, Any], ResolutionError]] = {}
    for entry in entries:
        meta = entry_meta(entry)
        if entry.python is not None:
            found: Result[Any, ResolutionError]
            if entry.isolation != "none":
                found = _isolated(entry, root)
            elif entry.python.partition(":")[0] in broken:
                found = Failure(ResolutionError(entry.name, broken[entry.python.partition(":")[0]]))
            else:
                found = _python(entry, root).map(restoring)
            out[entry.name] = (
                Success(_typed(entry, meta, _selecting(entry, found.unwrap()))) if isinstance(found, Success) else found
            )
            continue
        if entry.repo is not None:
            out[entry.name] = _repo_hook(entry).map(lambda hook: Component(hook, meta))
            continue
        argv = entry.command or ()
        exe = argv[0]
        if os.sep in exe:
            full = exe if os.path.isabs(exe) else os.path.join(root, exe)
            if not os.access(full, os.X_OK):
                out[entry.name] = Failure(ResolutionError(entry.name, f"command '{exe}' is not an executable file"))
                continue
        elif _which(exe) is None:
            out[entry.name] = Failure(ResolutionError(entry.name, f"command '{exe}' not found on PATH"))
            continue
        out[entry.name] = Success(Component(_command(entry), meta))
    return out


def _resolve_timeout() -> float:
    try:
        value = float(os.environ.get("OMNIBASE_RESOLVE_TIMEOUT", RESOLVE_TIMEOUT))
    except ValueError:
        return RESOLVE_TIMEOUT
    return value if 0 < value <= 3600 else RESOLVE_TIMEOUT


def _probe(modules: Sequence[str], root: str) -> dict[str, str]:
    """Import ``modules`` in a subprocess; the ones that did not import, with why."""
    import json
    import subprocess

    pending = [m for m in dict.fromkeys(modules) if m not in sys.modules]
    broken: dict[str, str] = {}
    timeout = _resolve_timeout()
    while pending:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _PROBE, root, json.dumps([p for p in sys.path if p]), *pending],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError:
            return broken  # no probe possible: import in-process as before
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err = proc.communicate()
            timed_out = True
        except BaseException:
            _kill(proc)
            raise
        done = out.decode("utf-8", "replace").split()
        culprit = pending[len(done)] if len(done) < len(pending) else None
        if culprit is None:
            return broken
        if timed_out:
            why = f"importing module '{culprit}' did not finish within {timeout:g}s (the resolution timeout)"
        else:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            if lines and "Traceback (most recent call last)" in err.decode("utf-8", "replace"):
                why = cannot_import(culprit, lines[-1][:500])
            else:
                why = f"module '{culprit}' ended the process with exit status {proc.returncode} while being imported"
        broken[culprit] = why
        pending = pending[len(done) + 1 :]
    return broken


def _which(exe: str) -> str | None:
    import shutil  # with zlib, bz2 and lzma: only when a command entry is resolved

    return shutil.which(exe)


def _typed(entry: Entry, meta: Any, fn: Any) -> Component[Any, Any]:
    """The component of a ``python:`` entry, with its declared ``input:``/``output:`` types:
    the output is checked on every success (a wrong type is a protocol violation, exit 4)."""
    from omnibase.core.types import accept_all, checker, type_named

    in_type, out_type = type_named(entry.input), type_named(entry.output)
    check = checker(out_type)
    return Component(fn, meta, None if check is accept_all else check, in_type=in_type, out_type=out_type)


def _python(entry: Entry, root: str) -> Result[Any, ResolutionError]:
    """The function of a ``python:`` entry, imported here (a ``Component`` gives its own)."""
    return imported(entry.python or "", root).alt(lambda why: ResolutionError(entry.name, why))


def _isolated(entry: Entry, root: str) -> Result[Any, ResolutionError]:
    """A Python entry that runs in a worker: it is imported and checked in a worker (its
    top-level code never runs here). Called in this process (without the process
    performer), its function imports it here then."""
    import importlib.util

    target = entry.python or ""
    named = target_of(target, root)
    if isinstance(named, Failure):
        return Failure(ResolutionError(entry.name, named.failure()))
    module_name = named.unwrap()[0]
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        return Failure(ResolutionError(entry.name, cannot_import(module_name, f"{type(exc).__name__}: {exc}")))
    if found is None:
        return Failure(ResolutionError(entry.name, cannot_import(module_name, f"no module named '{module_name}'")))
    from omnibase.drivers.isolation.process import probe

    why = probe(target, root, timeout=_resolve_timeout())  # imported, and checked callable, in a worker
    if why:
        return Failure(ResolutionError(entry.name, why))
    return Success(Deferred(entry.name, target, root))


def _selection(entry: Entry) -> FileSelection:
    return FileSelection(
        files=entry.files, exclude=entry.exclude, types=entry.types, types_or=entry.types_or, exclude_types=entry.exclude_types
    )


def _selecting(entry: Entry, fn: Any) -> Any:
    """A Python component sees in ``ctx.files`` only the files its entry selects, as a
    command component is given them."""
    selection = _selection(entry)
    if selection.everything:
        return fn
    return Selecting(fn, selection, getattr(fn, "__name__", entry.name))


def _command(entry: Entry) -> Command:
    """The function of a command entry: a ``Command`` value (see ``omnibase.components.command``)."""
    return Command(
        name=entry.name,
        argv=tuple(entry.command or ()),
        selection=_selection(entry),
        pass_filenames=entry.pass_filenames,
        always_run=entry.always_run,
        env=dict(entry.env),
        pass_env=entry.pass_env,
        limits=entry.limits,
        network=entry.sandbox.network,
        timeout=entry.timeout,
        write=entry.sandbox.write,
    )


def _repo_hook(entry: Entry) -> Result[Any, ResolutionError]:
    """The function of a ``repo:`` entry: a ``RepoHook`` (see ``omnibase.repos``), which
    fetches and builds what the hook needs when it first runs, not here."""
    from omnibase.repos import RepoHook, base_argv

    source = entry.repo
    assert source is not None
    argv = base_argv(source, entry.args)
    if isinstance(argv, Failure):
        return Failure(ResolutionError(entry.name, argv.failure()))
    command = msgspec.structs.replace(_command(entry), argv=tuple(argv.unwrap()))
    return Success(RepoHook(name=entry.name, source=source, command=command))


def run_command(
    argv: Sequence[str],
    *,
    cwd: str,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    limits: Limits | None = None,
) -> Result[tuple[int, str], StepError]:
    """Run ``argv``; its exit code and merged output, or a typed error (see
    ``omnibase.drivers.isolation.spawn.run_command``, which this calls with the network allowed)."""
    return _proc.run_command(argv, cwd=cwd, timeout=timeout, env=env, limits=limits)


def _kill(proc: Any) -> None:
    """Kill a probe subprocess's whole process group and reap it."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()
