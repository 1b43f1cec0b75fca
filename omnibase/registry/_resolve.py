"""Turning registry entries into components (an edge: imports modules, runs processes).

Python entries import ``module:function`` (the repository root is put on ``sys.path``).
Command entries run their argv as subprocesses with the selected files appended (in
batches, like ``xargs``), a timeout that kills the whole process group, and optional
resource limits; a command killed by a limit is a ``SecurityViolation`` (exit 5).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Failed, SecurityViolation, Skip, StepError, TimedOut
from omnibase.registry._schema import Entry, Limits, ResolutionError, entry_meta

__all__ = ["CommandOutput", "resolve", "run_command"]

#: Keep each command line under this many characters (Linux allows far more, but
#: ``ARG_MAX`` also counts the environment).
MAX_ARGV = 100_000
MAX_OUTPUT = 64 * 1024


class CommandOutput(msgspec.Struct, frozen=True, kw_only=True):
    """What a passing command component returns."""

    argv: tuple[str, ...]
    exit_code: int
    output: str
    files: int


def resolve(entry: Entry, *, root: str) -> Result[Component[Any, Any], ResolutionError]:
    """The component an entry describes, or why it cannot be had."""
    meta = entry_meta(entry)
    if entry.python is not None:
        from omnibase.core.types import accept_all, checker, type_named

        in_type, out_type = type_named(entry.input), type_named(entry.output)
        check = checker(out_type)  # the declared output, checked on every success
        return _python(entry, root).map(
            lambda fn: Component(fn, meta, None if check is accept_all else check, in_type=in_type, out_type=out_type)
        )
    argv = entry.command or ()
    exe = argv[0]
    if os.sep in exe:
        full = exe if os.path.isabs(exe) else os.path.join(root, exe)
        if not os.access(full, os.X_OK):
            return Failure(ResolutionError(entry.name, f"command '{exe}' is not an executable file"))
    elif shutil.which(exe) is None:
        return Failure(ResolutionError(entry.name, f"command '{exe}' not found on PATH"))
    return Success(Component(_command_fn(entry), meta))


def _python(entry: Entry, root: str) -> Result[Any, ResolutionError]:
    import importlib

    target = entry.python or ""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        return Failure(ResolutionError(entry.name, f"python: '{target}' is not 'module:function'"))
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the module itself failing at import time
        return Failure(ResolutionError(entry.name, f"cannot import module '{module_name}': {type(exc).__name__}: {exc}"))
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
    def run_entry(ctx: ExecCtx, value: object) -> Result[CommandOutput | Skip, StepError]:
        files = _selected(entry, ctx)
        if not files and not entry.always_run:
            return Success(Skip(reason="no files to check"))
        argv = list(entry.command or ())
        batches = _batches(argv, files) if entry.pass_filenames else [[]]
        chunks: list[str] = []
        code = 0
        for batch in batches:
            done = run_command([*argv, *batch], cwd=ctx.root, timeout=entry.timeout, env=entry.env, limits=entry.limits)
            if isinstance(done, Failure):
                return done
            rc, text = done.unwrap()
            chunks.append(text)
            code = code or rc
        output = "".join(chunks)[-MAX_OUTPUT:]
        if code != 0:
            tail = "\n".join(output.rstrip().splitlines()[-30:]) or f"exit status {code}"
            return Failure(Failed(message=tail, data={"exit_code": code, "argv": argv}))
        return Success(CommandOutput(argv=tuple(argv), exit_code=0, output=output, files=len(files)))

    run_entry.__name__ = entry.name
    return run_entry


def _limit(limits: Limits | None) -> Any:
    if limits is None:
        return None

    def apply() -> None:
        import resource

        if limits.cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        if limits.memory_mb is not None:
            size = limits.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def run_command(
    argv: Sequence[str],
    *,
    cwd: str,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    limits: Limits | None = None,
) -> Result[tuple[int, str], StepError]:
    """Run ``argv``; its exit code and merged output, or a typed error. A Ctrl-C kills the
    command's process group and is passed on."""
    import subprocess

    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=_limit(limits),
        )
    except OSError as exc:
        return Failure(Failed(message=f"cannot run {argv[0]}: {exc.strerror or exc}"))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        return Failure(TimedOut(seconds=timeout or 0.0))
    except BaseException:
        _kill(proc)
        raise
    text = out.decode("utf-8", "replace")
    if proc.returncode < 0 and -proc.returncode in (signal.SIGXCPU, signal.SIGKILL, signal.SIGSEGV) and limits is not None:
        name = signal.Signals(-proc.returncode).name
        return Failure(SecurityViolation(message=f"{argv[0]} killed by {name}: it broke its resource limits"))
    return Success((proc.returncode, text))


def _kill(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()
