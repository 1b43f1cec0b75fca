"""The command kind: a registry ``command:`` entry, run as a subprocess per batch of files.

A ``Command`` is a value (a frozen ``msgspec.Struct``: it compares, pickles and travels to a
Dask worker): the argv, the files it selects, its environment, limits and time limit.
Calling it (``command(ctx, value)``) runs it here and now; performers call it through its
kind (``COMMAND``, registered in ``omnibase.drivers.kinds`` when this module is imported),
which passes the invocation's time limit (a timeout kills the whole process tree, through
``omnibase.drivers.isolation.spawn``) and span (the child's ``TRACEPARENT``), and awaits it
as an asyncio subprocess on the event loop.

The selected files are appended to the argv in batches, like ``xargs``; no file selected
and not ``always_run`` is a SKIP. Output is kept (its tail) with secret-looking values
redacted; a non-zero exit is ``Failed`` with the exit code in its data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Sequence
from typing import Any, Final

import msgspec
from returns.result import Failure, Result, Success

from omnibase.components.files import FileSelection
from omnibase.core.intents import Called, Invoke
from omnibase.core.lift import format_traceback
from omnibase.core.testcases import TestCase
from omnibase.core.values import ExecCtx, Failed, Limits, Rights, Skip, StepError, TimedOut
from omnibase.drivers import kinds
from omnibase.drivers.isolation import spawn as _proc
from omnibase.drivers.isolation.sandbox import allowed_paths

__all__ = ["COMMAND", "MAX_ARGV", "Command", "CommandKind", "CommandOutput"]

#: Keep each command line under this many characters (Linux allows far more, but
#: ``ARG_MAX`` also counts the environment).
MAX_ARGV = 100_000
MAX_OUTPUT: Final = _proc.MAX_OUTPUT

#: A command's run as a value: yields (argv, seconds left, process options) per batch, is
#: sent each batch's (exit code, output) or failure, returns the verdict.
_Batches = Generator[tuple[list[str], "float | None", dict[str, Any]], Result[tuple[int, str], StepError], Result[Any, StepError]]


class CommandOutput(msgspec.Struct, frozen=True, kw_only=True):
    """What a passing command component returns."""

    argv: tuple[str, ...]
    exit_code: int
    output: str
    files: int
    tests: tuple[TestCase, ...] = ()  # read from the entry's ``junit`` file, when it names one


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """A command component's function: run ``argv`` (plus the selected files, when
    ``pass_filenames``) in ``ctx.root``, with ``env`` added, only the ``pass_env``
    variables of ours passed on, ``limits``, the network only if ``network``, writing only
    beneath ``write`` (relative to ``ctx.root``; None: anywhere; enforced by the kernel
    where it offers Landlock), and at most ``timeout`` seconds (the invocation's own limit
    may be shorter)."""

    name: str
    argv: tuple[str, ...]
    selection: FileSelection = FileSelection()
    pass_filenames: bool = True
    always_run: bool = False
    env: dict[str, str] = msgspec.field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    limits: Limits | None = None
    network: bool = False
    timeout: float | None = None
    write: tuple[str, ...] | None = None
    #: the JUnit XML file the command writes (relative to the root), read into test cases
    junit: str | None = None

    def __call__(self, ctx: ExecCtx, value: object) -> Result[Any, StepError]:
        return self.run(ctx, value)

    def run(self, ctx: ExecCtx, value: object, *, timeout: float | None = None, span_id: str = "") -> Result[Any, StepError]:
        """Run it here and now, stopped (with its process tree) after ``timeout`` seconds or
        its own, whichever is shorter."""
        batches = self._batches_of(ctx, timeout, span_id)
        try:
            ask = next(batches)
            while True:
                argv, left, kw = ask
                ask = batches.send(_proc.run_command(argv, timeout=left, **kw))
        except StopIteration as finished:
            verdict: Result[Any, StepError] = finished.value
            return verdict
        finally:
            batches.close()  # a batch that raised: its scratch folder goes all the same

    async def arun(self, ctx: ExecCtx, value: object, *, timeout: float | None = None, span_id: str = "") -> Result[Any, StepError]:
        """``run`` as asyncio subprocesses (the same batches: ``_batches_of``)."""
        batches = self._batches_of(ctx, timeout, span_id)
        try:
            ask = next(batches)
            while True:
                argv, left, kw = ask
                ask = batches.send(await _proc.arun_command(argv, timeout=left, **kw))
        except StopIteration as finished:
            verdict: Result[Any, StepError] = finished.value
            return verdict
        finally:
            batches.close()

    def _batches_of(self, ctx: ExecCtx, timeout: float | None, span_id: str) -> _Batches:
        """The whole run without its I/O: yields each batch's argv, the time left and the
        process options, is sent what running it gave, and returns the verdict (the first
        failure to run a batch, or the verdict of them all). ``run`` and ``arun`` drive it,
        one with processes, one with asyncio subprocesses."""
        planned = self._plan(ctx)
        if planned is None:
            return Success(Skip(reason="no files to check"))
        batches, nfiles = planned
        kw, deadline, done = self._options(ctx, span_id), _deadline(self.timeout, timeout), []
        before = self._junit_stamp(ctx)
        try:
            for batch in batches:
                ran = yield [*self.argv, *batch], _left(deadline), kw
                if isinstance(ran, Failure):
                    return _budget(ran, self.timeout, timeout)
                done.append(ran.unwrap())
        finally:
            _remove_scratch(kw)
        return self._verdict(done, nfiles, self._junit_cases(ctx, before))

    def _plan(self, ctx: ExecCtx) -> tuple[list[list[str]], int] | None:
        files = self.selection.select(ctx)
        if not files and not self.always_run:
            return None
        return (_batches(self.argv, files) if self.pass_filenames else [[]]), len(files)

    def _options(self, ctx: ExecCtx, span_id: str) -> dict[str, Any]:
        from omnibase.observers.trace import child_traceparent

        span = span_id or os.urandom(8).hex()
        write, env = None, self.env
        if self.write is not None:  # confined: its temporary files go to a folder of its own
            scratch = _make_scratch(ctx.root, span)
            extra = (scratch,) if scratch else ()
            write = allowed_paths(Rights(write=(*self.write, *extra)), ctx.root)
            if scratch:
                env = {"TMPDIR": scratch, "TMP": scratch, "TEMP": scratch, **self.env}
        return {
            "write": write,
            "cwd": ctx.root,
            "env": env,
            "limits": self.limits,
            "network": self.network,
            "pass_env": self.pass_env,
            "traceparent": child_traceparent(ctx.trace_id, span),
        }

    def _junit_stamp(self, ctx: ExecCtx) -> tuple[int, int] | None:
        """The JUnit file's modification time and size before the run (None: none yet)."""
        if self.junit is None:
            return None
        try:
            st = os.stat(os.path.join(ctx.root, self.junit))
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _junit_cases(self, ctx: ExecCtx, before: tuple[int, int] | None) -> tuple[TestCase, ...]:
        """The cases of the JUnit file the command wrote in this run (a file left from an
        earlier run, unchanged, is not read: its cases are not this run's)."""
        if self.junit is None or self._junit_stamp(ctx) in (None, before):
            return ()
        from omnibase.components.junit_cases import read_junit

        return tuple(read_junit(ctx.root, self.junit))

    def _verdict(self, done: list[tuple[int, str]], nfiles: int, tests: tuple[TestCase, ...] = ()) -> Result[CommandOutput, StepError]:
        """The result from the batches' exit codes and outputs (secrets redacted), with the
        test cases of its JUnit file (``tests``)."""
        code = next((rc for rc, _ in done if rc != 0), 0)
        output = self._quoted("".join(text for _, text in done))
        if code != 0:
            tail = output.rstrip() or f"exit status {code}"  # kept whole: the human view shows its head and tail
            data: dict[str, Any] = {"exit_code": code, "argv": list(self.argv)}
            if tests:
                data["tests"] = list(tests)
            return Failure(Failed(message=tail, data=data))
        return Success(CommandOutput(argv=self.argv, exit_code=0, output=output, files=nfiles, tests=tests))

    def _quoted(self, output: str) -> str:
        """Output as a report may quote it: values of secret-looking environment variables
        redacted, only the last ``MAX_OUTPUT`` characters (the marker included)."""
        from omnibase.core.redact import redact, secret_values

        output = redact(output, secret_values({**os.environ, **self.env}))
        if len(output) <= MAX_OUTPUT:
            return output
        keep = MAX_OUTPUT - 64  # room for the marker: a rendering's cap would cut the newest lines
        cut = output[: len(output) - keep]
        return f"... {len(cut.encode('utf-8', 'surrogatepass'))} bytes more before\n" + output[-keep:]


class CommandKind(kinds.PythonKind):
    """Commands run in processes of their own, stopped at the invocation's limit.

    A kind whose function needs something first (a hook's repository or environment:
    ``omnibase.repos``) says so in ``ready``/``aready``; the time of that preparation does
    not count as the step's."""

    name: str = "command"
    timed: bool = True
    awaitable: bool = True
    own_process: bool = True

    def ready(self, intent: Invoke) -> Result[Any, StepError]:
        """The ``Command`` to run now, or the step's result without running one."""
        return Success(_command_of(intent))

    async def aready(self, intent: Invoke) -> Result[Any, StepError]:
        return self.ready(intent)

    def call(self, intent: Invoke) -> Called:
        started = time.monotonic_ns()
        try:
            ready = self.ready(intent)
            if not isinstance(ready, Success) or not isinstance(ready.unwrap(), Command):
                return Called(ready, None, started, time.monotonic_ns())
            started = time.monotonic_ns()
            returned = ready.unwrap().run(intent.ctx, intent.value, timeout=intent.limit, span_id=intent.span_id)
        except Exception as exc:
            return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
        return Called(returned, None, started, time.monotonic_ns())

    async def acall(self, intent: Invoke) -> Called:
        started = time.monotonic_ns()
        try:
            ready = await self.aready(intent)
            if not isinstance(ready, Success) or not isinstance(ready.unwrap(), Command):
                return Called(ready, None, started, time.monotonic_ns())
            started = time.monotonic_ns()
            returned = await ready.unwrap().arun(intent.ctx, intent.value, timeout=intent.limit, span_id=intent.span_id)
        except Exception as exc:
            return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
        return Called(returned, None, started, time.monotonic_ns())

    def context(self, fn: Any, ctx: ExecCtx) -> ExecCtx:
        return ctx  # the command selects its files itself, from the whole list


def _command_of(intent: Invoke) -> Command:
    fn = intent.component.fn
    if not isinstance(fn, Command):  # the table maps Command to this kind: cannot happen
        raise TypeError(f"{intent.component.name}: not a command")
    return fn


COMMAND: Final = CommandKind()
kinds.register(Command, COMMAND)


def _make_scratch(root: str, span: str) -> str | None:
    """A fresh temporary folder for one confined command (``_io.state.scratch_dir``): tools
    that write temporary files (pytest, compilers, ``mktemp``) keep working inside the write
    sandbox, and nothing they leave there outlives the command. None when it cannot be made
    (the command then has no temporary folder it may write)."""
    from omnibase._io.state import make_state_dir, scratch_dir, state_dir_of

    made = make_state_dir(scratch_dir(state_dir_of(root), span), mode=0o700)
    return made.unwrap() if isinstance(made, Success) else None


def _remove_scratch(kw: dict[str, Any]) -> None:
    scratch = kw["env"].get("TMPDIR") if kw["write"] is not None else None
    if scratch and os.path.basename(os.path.dirname(scratch)) == "tmp":
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


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


def _deadline(own: float | None, given: float | None) -> float | None:
    limits = [t for t in (own, given) if t is not None]
    return time.monotonic() + min(limits) if limits else None


def _budget(failed: Failure[StepError], own: float | None, given: float | None) -> Failure[StepError]:
    """A batch's timeout is reported as the whole command's time limit."""
    limits = [t for t in (own, given) if t is not None]
    if isinstance(failed.failure(), TimedOut) and limits:
        return Failure(TimedOut(seconds=min(limits)))
    return failed


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.001)
