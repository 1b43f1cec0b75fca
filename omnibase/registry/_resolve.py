"""Turning registry entries into components (an edge: imports modules, runs processes).

Python entries import ``module:function`` (the repository root is put on ``sys.path``).
Command entries run their argv as subprocesses with the selected files appended (in
batches, like ``xargs``), through ``omnibase.drivers.isolation.spawn``: a timeout that kills the whole
process tree, resource limits (breaking one is ``ResourceExceeded``, exit 5), a scrubbed
environment, no network unless the entry's ``sandbox`` grants it. Python entries with
``isolation: process`` (the default) are not imported here: a worker process imports them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.drivers.isolation import spawn as _proc
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Failed, Limits, Skip, StepError, TimedOut, Unresolved
from omnibase.registry._schema import Entry, ResolutionError, entry_meta

__all__ = ["RESOLVE_TIMEOUT", "CommandOutput", "resolve", "resolve_entries", "restoring", "run_command"]

#: Keep each command line under this many characters (Linux allows far more, but
#: ``ARG_MAX`` also counts the environment).
MAX_ARGV = 100_000
MAX_OUTPUT = _proc.MAX_OUTPUT


class CommandOutput(msgspec.Struct, frozen=True, kw_only=True):
    """What a passing command component returns."""

    argv: tuple[str, ...]
    exit_code: int
    output: str
    files: int


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
        out[entry.name] = Success(Component(_command_fn(entry), meta))
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
                why = f"cannot import module '{culprit}': {lines[-1][:500]}"
            else:
                why = f"module '{culprit}' ended the process with exit status {proc.returncode} while being imported"
        broken[culprit] = why
        pending = pending[len(done) + 1 :]
    return broken


def restoring(fn: Any) -> Any:
    """``fn`` wrapped so that the current directory and ``os.environ`` are as they were
    before each call, whatever the call changed (an ``async def`` stays one)."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def acall(ctx: Any, value: Any) -> Any:
            saved = _process_state()
            try:
                return await fn(ctx, value)
            finally:
                _restore(*saved)

        return acall

    @functools.wraps(fn)
    def call(ctx: Any, value: Any) -> Any:
        saved = _process_state()
        try:
            return fn(ctx, value)
        finally:
            _restore(*saved)

    return call


def _process_state() -> tuple[str, dict[str, str]]:
    return os.getcwd(), dict(os.environ)


def _restore(cwd: str, env: dict[str, str]) -> None:
    try:
        if os.getcwd() != cwd:
            os.chdir(cwd)
    except OSError:  # the folder it moved to was removed
        os.chdir(cwd)
    if os.environ != env:
        for key in [k for k in os.environ if k not in env]:
            del os.environ[key]
        for key, val in env.items():
            if os.environ.get(key) != val:
                os.environ[key] = val


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


def _target(entry: Entry, root: str) -> Result[tuple[str, str], ResolutionError]:
    """The ``(module, attribute)`` an entry's ``python:`` names, with the repository root
    on ``sys.path`` so the module can be found; or why the reference is malformed."""
    target = entry.python or ""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        return Failure(ResolutionError(entry.name, f"python: '{target}' is not 'module:function'"))
    if root not in sys.path:
        sys.path.insert(0, root)
    return Success((module_name, attr))


def _cannot_import(entry: Entry, module_name: str, why: str) -> Failure[ResolutionError]:
    """The one wording of an entry whose module does not import (here or in a probe)."""
    return Failure(ResolutionError(entry.name, f"cannot import module '{module_name}': {why}"))


def _python(entry: Entry, root: str) -> Result[Any, ResolutionError]:
    import importlib

    named = _target(entry, root)
    if isinstance(named, Failure):
        return named
    module_name, attr = named.unwrap()
    target = entry.python or ""
    try:
        module = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # ImportError, or the module failing or exiting at import time
        return _cannot_import(entry, module_name, f"{type(exc).__name__}: {exc}")
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            return Failure(ResolutionError(entry.name, f"module '{module_name}' has no attribute '{attr}'"))
        obj = getattr(obj, part)
    if isinstance(obj, Component):
        return Success(obj.fn)
    if not callable(obj):
        return Failure(ResolutionError(entry.name, f"'{target}' is not callable"))
    return Success(obj)


def _isolated(entry: Entry, root: str) -> Result[Any, ResolutionError]:
    """A Python entry that runs in a worker: it is imported and checked in a worker (its
    top-level code never runs here). Called in this process (without the process
    performer), the function imports it here then."""
    import importlib.util

    named = _target(entry, root)
    if isinstance(named, Failure):
        return named
    module_name, attr = named.unwrap()
    target = entry.python or ""
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        return _cannot_import(entry, module_name, f"{type(exc).__name__}: {exc}")
    if found is None:
        return _cannot_import(entry, module_name, f"no module named '{module_name}'")
    from omnibase.drivers.isolation.process import probe

    why = probe(target, root, timeout=_resolve_timeout())  # imported, and checked callable, in a worker
    if why:
        return Failure(ResolutionError(entry.name, why))
    imported: list[Any] = []

    def in_process(ctx: ExecCtx, value: object) -> object:
        if not imported:
            fn = _python(entry, root)
            if isinstance(fn, Failure):
                return Failure(Unresolved(name=entry.name, message=fn.failure().message))
            imported.append(fn.unwrap())
        return imported[0](ctx, value)

    in_process.__name__ = entry.name
    return Success(in_process)


def _selecting(entry: Entry, fn: Any) -> Any:
    """A Python component sees in ``ctx.files`` only the files its entry selects
    (``files``, ``exclude``, ``types``, ``types_or``, ``exclude_types``), as a command
    component is given them."""
    if (entry.files, entry.exclude, entry.types, entry.types_or, entry.exclude_types) == ("", "^$", (), (), ()):
        return fn

    def narrow(ctx: ExecCtx) -> ExecCtx:
        return msgspec.structs.replace(ctx, files=tuple(_selected(entry, ctx)))

    def selected(ctx: ExecCtx, value: Any) -> Any:
        return fn(narrow(ctx), value)

    selected.__name__ = getattr(fn, "__name__", entry.name)
    selected.narrow = narrow  # type: ignore[attr-defined]  # the process performer applies it too
    return selected


def _selected(entry: Entry, ctx: ExecCtx) -> list[str]:
    from omnibase.builtins import tags_for

    include, exclude = re.compile(entry.files), re.compile(entry.exclude)
    wanted_all, wanted_any, unwanted = set(entry.types), set(entry.types_or), set(entry.exclude_types)
    out: list[str] = []
    for path in ctx.files:
        if not include.search(path) or exclude.search(path):
            continue
        if wanted_all or wanted_any or unwanted:
            try:
                tags = tags_for(os.path.join(ctx.root, path))
            except (ValueError, OSError):
                continue
            if not wanted_all <= tags or (wanted_any and not wanted_any & tags) or unwanted & tags:
                continue
        out.append(path)
    return out


def _batches(argv: Sequence[str], files: Sequence[str]) -> list[list[str]]:
    base = sum(len(a) + 1 for a in argv)
    out: list[list[str]] = [[]]
    size = base
    for f in files:
        if out[-1] and size + len(f) + 1 > MAX_ARGV:
            out.append([])
            size = base
        out[-1].append(f)
        size += len(f) + 1
    return out


def _command_fn(entry: Entry) -> Any:
    """The callable of a command entry: ``fn(ctx, value)`` runs it here and now; the process
    performer calls ``fn.call(ctx, value, timeout=, span_id=)`` (a timeout that kills the
    process tree, a child ``TRACEPARENT``) and the asyncio ones ``await fn.acall(...)``."""

    def plan(ctx: ExecCtx) -> tuple[list[str], list[list[str]], int] | None:
        files = _selected(entry, ctx)
        if not files and not entry.always_run:
            return None
        argv = list(entry.command or ())
        return argv, (_batches(argv, files) if entry.pass_filenames else [[]]), len(files)

    def options(ctx: ExecCtx, span_id: str) -> dict[str, Any]:
        from omnibase.observers.trace import child_traceparent

        span = span_id or os.urandom(8).hex()
        return {
            "cwd": ctx.root,
            "env": entry.env,
            "limits": entry.limits,
            "network": entry.sandbox.network,
            "pass_env": entry.pass_env,
            "traceparent": child_traceparent(ctx.trace_id, span),
        }

    def call(ctx: ExecCtx, value: object, *, timeout: float | None = None, span_id: str = "") -> Result[Any, StepError]:
        planned = plan(ctx)
        if planned is None:
            return Success(Skip(reason="no files to check"))
        argv, batches, nfiles = planned
        kw, deadline, done = options(ctx, span_id), _deadline(entry.timeout, timeout), []
        for batch in batches:
            ran = _proc.run_command([*argv, *batch], timeout=_left(deadline), **kw)
            if isinstance(ran, Failure):
                return _budget(ran, entry.timeout, timeout)
            done.append(ran.unwrap())
        return _verdict(argv, done, nfiles, entry)

    async def acall(ctx: ExecCtx, value: object, *, timeout: float | None = None, span_id: str = "") -> Result[Any, StepError]:
        planned = plan(ctx)
        if planned is None:
            return Success(Skip(reason="no files to check"))
        argv, batches, nfiles = planned
        kw, deadline, done = options(ctx, span_id), _deadline(entry.timeout, timeout), []
        for batch in batches:
            ran = await _proc.arun_command([*argv, *batch], timeout=_left(deadline), **kw)
            if isinstance(ran, Failure):
                return _budget(ran, entry.timeout, timeout)
            done.append(ran.unwrap())
        return _verdict(argv, done, nfiles, entry)

    def run_entry(ctx: ExecCtx, value: object) -> Result[Any, StepError]:
        return call(ctx, value)

    run_entry.__name__ = entry.name
    run_entry.call = call  # type: ignore[attr-defined]
    run_entry.acall = acall  # type: ignore[attr-defined]
    return run_entry


def _quoted(output: str, entry: Entry) -> str:
    """Command output as a report may quote it: values of secret-looking environment
    variables redacted, only the last ``MAX_OUTPUT`` characters (marker included)."""
    from omnibase.core.redact import redact, secret_values

    output = redact(output, secret_values({**os.environ, **entry.env}))
    if len(output) <= MAX_OUTPUT:
        return output
    marker = "... {} bytes more before\n"
    keep = MAX_OUTPUT - len(marker) - 20
    cut = output[: len(output) - keep]
    return marker.format(len(cut.encode("utf-8", "surrogatepass"))) + output[-keep:]


def _deadline(own: float | None, given: float | None) -> float | None:
    import time

    limits = [t for t in (own, given) if t is not None]
    return time.monotonic() + min(limits) if limits else None


def _budget(failed: Failure[StepError], own: float | None, given: float | None) -> Failure[StepError]:
    """A batch's timeout is reported as the whole command's time limit."""
    limits = [t for t in (own, given) if t is not None]
    if isinstance(failed.failure(), TimedOut) and limits:
        return Failure(TimedOut(seconds=min(limits)))
    return failed


def _left(deadline: float | None) -> float | None:
    import time

    return None if deadline is None else max(deadline - time.monotonic(), 0.001)


def _verdict(argv: list[str], done: list[tuple[int, str]], nfiles: int, entry: Entry) -> Result[CommandOutput, StepError]:
    """A command's result from its batches' exit codes and outputs (secrets redacted)."""
    code = next((rc for rc, _ in done if rc != 0), 0)
    output = _quoted("".join(text for _, text in done), entry)
    if code != 0:
        whole = output.rstrip() or f"exit status {code}"  # kept whole: the human view shows its head and tail
        return Failure(Failed(message=whole, data={"exit_code": code, "argv": argv}))
    return Success(CommandOutput(argv=tuple(argv), exit_code=0, output=output, files=nfiles))


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
