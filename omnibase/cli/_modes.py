"""The CLI's side of the execution modes: ``--mode`` and its shorthands, the option
combinations they allow, and running a stage under the mode's loop.

The modes themselves are the rows of ``omnibase.core.modes.MODES`` (their columns say
whether a mode is asynchronous, retries, writes, records or replays), and their performer
stacks are built by ``omnibase.drivers.modes.stack``; nothing here names a mode. Only the
table is imported to build the argument parser (no performer: ``orch --help`` stays cheap).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from omnibase.core.modes import DEFAULT_MODE, MODES

if TYPE_CHECKING:
    from omnibase.drivers.modes import Stack

__all__ = [
    "EXECUTORS",
    "add_mode_options",
    "build_stack",
    "execute",
    "mode_of",
    "mode_problem",
    "positive",
    "prepare_executor",
    "reap_children",
]

R = TypeVar("R")

#: Where invocations run: ``--executor`` choices (the first is the default).
EXECUTORS = ("local", "dask")


def build_stack(options: argparse.Namespace, mode: str) -> Stack:
    """The performers of ``mode`` for these options: ``--jobs``, the snapshot a replay
    loaded (``options.replay_snapshot``), the Dask performer ``prepare_executor`` made."""
    from omnibase.drivers.modes import stack

    return stack(
        mode,
        jobs=getattr(options, "jobs", None),
        snapshot=getattr(options, "replay_snapshot", None),
        executor=getattr(options, "dask_performer", None),
    )


def mode_of(options: argparse.Namespace) -> str:
    """The mode the options ask for: ``--mode``, else a shorthand (``--dry-run``,
    ``--profile``: the table's ``shorthand``), else the first asynchronous mode that runs
    on Dask for ``--executor dask``, else the default mode."""
    given: str | None = getattr(options, "mode", None)
    if given:
        return given
    for name in _shorthands(options):
        return name
    if getattr(options, "executor", None) == "dask":
        return next(m.name for m in MODES.values() if m.on_dask and m.is_async)
    return DEFAULT_MODE


def _shorthands(options: argparse.Namespace) -> list[str]:
    """The modes the options ask for by their shorthand flags."""
    return [m.name for m in MODES.values() if m.shorthand and getattr(options, m.shorthand, False)]


def mode_problem(options: argparse.Namespace) -> str | None:
    """Why the mode options contradict each other (a shorthand beside another ``--mode``)."""
    given = getattr(options, "mode", None)
    asked = _shorthands(options)
    if len(asked) > 1 or (given and asked and asked != [given]):
        flags = " and ".join(f"--{a}" for a in asked)
        return f"{flags} cannot be combined{f' with --mode {given}' if given else ''}"
    dask = getattr(options, "executor", None) == "dask"
    if getattr(options, "scheduler", None) and not dask:
        return "--scheduler goes with --executor dask"
    if dask and not MODES[mode_of(options)].on_dask:
        on_dask = " or ".join(m.name for m in MODES.values() if m.on_dask)
        return f"--executor dask runs with --mode {on_dask}, not {mode_of(options)}"
    return None


def prepare_executor(options: argparse.Namespace, components: Any) -> str | None:
    """For ``--executor dask``, before anything runs: refuse a component that cannot be
    sent to a worker (omnibase's own components that cannot travel stay in this process;
    the built-in checks travel as values and read the repository at its path), and connect
    to the scheduler (or start a local cluster); the performer is kept in
    ``options.dask_performer``. None, or the problem (exit 2)."""
    if getattr(options, "executor", None) != "dask":
        return None
    try:
        import distributed  # noqa: F401  (the extra: omnibase's module imports it lazily)

        from omnibase.drivers.dask import DaskPerformer, unsendable
    except ImportError as exc:
        return f"--executor dask needs the dask extra: pip install 'omnibase[dask]' ({exc})"
    components = list(components)
    # omnibase's own components that cannot travel stay in this process; anything else
    # must travel (the built-ins do: a BuiltinCheck is a value, its fixes are spooled under
    # .git/ and written here after the run, so workers must see the repository's path)
    local = {c.name for c in components if unsendable((c,)) and getattr(c.fn, "__module__", "").startswith("omnibase.")}
    refused = unsendable(c for c in components if c.name not in local)
    if refused is not None:
        return refused.message
    from omnibase.drivers.modes import default_jobs

    performer = DaskPerformer(options.scheduler, workers=getattr(options, "jobs", None) or default_jobs(), local=local)
    problem = performer.connect()
    if problem is not None:
        return problem
    import atexit

    atexit.register(performer.close)  # also when the run ends before it starts
    options.dask_performer = performer
    return None


def add_mode_options(p: argparse.ArgumentParser) -> None:
    """The options of ``orch`` that choose and instrument a run's mode."""
    from omnibase.core.modes import mode_help

    p.add_argument("--mode", choices=tuple(MODES), help=f"{mode_help()}; see docs/modes.md")
    p.add_argument(
        "--jobs", "-j", type=positive, metavar="N",
        help="asynchronous modes: at most N steps at once (default: the number of usable cores; raise it "
        "for steps that mostly wait on the network)",
    )  # fmt: skip
    for m in MODES.values():
        if m.shorthand:
            p.add_argument(f"--{m.shorthand.replace('_', '-')}", action="store_true", help=f"shorthand for --mode {m.name}: {m.help}")
    p.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0], help="where steps run: local (default) or dask (a Dask cluster: see --scheduler, docs/dask.md)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="--executor dask: the scheduler to submit to (default: a local cluster started for the run)")
    p.add_argument("--profile-out", metavar="FILE", help="write a Chrome trace-event file (Perfetto, speedscope) of the run")
    p.add_argument("--snapshot", metavar="PATH", help="--mode replay: the failure snapshot to replay")
    p.add_argument("--metrics-out", metavar="FILE", help="write the run's metrics as a Prometheus text file")
    p.add_argument("--log-format", choices=("console", "json"), default="console", help="structured log lines (default: console)")
    p.add_argument("--log-file", metavar="FILE", help="append the structured logs to FILE instead of stderr")


def positive(text: str) -> int:
    """argparse's ``type`` for a count of at least one."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'")
    return n


def execute(run: Callable[[], R], arun: Callable[[], Awaitable[R]], mode: Stack) -> R:
    """Run a stage in ``mode``: ``run()`` for a synchronous one; for an asynchronous one,
    ``arun()`` (a coroutine) under ``asyncio.run``, where Ctrl-C and SIGTERM cancel the run,
    which then ends with a partial report (``outcome`` "interrupted", exit 130); no child
    process outlives it (abandoned calls may have left some: see ``reap_children``)."""
    if not mode.is_async:
        return run()
    import asyncio

    before = set(_children(os.getpid()))  # an embedding process's own children are not ours
    box: list[R] = []
    # the main task returns None: asyncio.run (3.11) may repr its main task, result included
    try:
        asyncio.run(_cancellable(arun, box))
    except asyncio.CancelledError:  # a second SIGTERM while the partial report was made
        raise KeyboardInterrupt from None
    if not box:
        raise KeyboardInterrupt
    report = box[0]
    # Every invocation has ended or been abandoned (fail-fast, timeout, Ctrl-C): a process
    # still running now was left by an abandoned call, and would outlive the run.
    reap_children(spare=before)
    close = getattr(mode.performer, "close", None)
    if close is not None:
        close()
    return report


async def _cancellable(arun: Callable[[], Awaitable[R]], box: list[R]) -> None:
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed = False
    if task is not None:

        def stop(signum: int) -> None:  # the exit code says which signal (128+N), as in sync mode
            from omnibase.cli._process import SIGNALLED

            if not SIGNALLED:
                SIGNALLED.append(signum)
            task.cancel()

        try:  # SIGINT is asyncio.run's already: it cancels this task
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, stop, signum)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        box.append(await arun())
    finally:
        if installed:
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)


def reap_children(spare: set[int] | frozenset[int] = frozenset()) -> int:
    """Kill what our child processes left running after an async run; how many.

    A command component runs in a session of its own (so that a timeout can kill its whole
    process group); when a synchronous call that waits on one in a thread is abandoned
    (fail-fast, a timeout, Ctrl-C), nothing else would stop it. Each child that leads its own process group has the
    group killed; any other child is killed alone; those in ``spare`` (running before the
    run) are left alone. Linux only (it reads ``/proc``).
    """
    import signal

    me = os.getpid()
    killed = 0
    for pid in _children(me):
        if pid in spare:
            continue
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:  # gone meanwhile
            continue
    return killed


def _children(parent: int) -> list[int]:
    if not sys.platform.startswith("linux"):
        return []
    found: list[int] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(name))
    return found
