"""The execution modes the CLI offers: one table, ``MODES``, from name to factory.

A mode is a performer (or a performer decorator around another) chosen by name; the
factory takes the parsed options and returns a ``Mode``: the performer and whether the run
is asynchronous (driven by ``arun`` under ``asyncio.run``). ``--mode`` offers exactly the
names in ``MODES``. Imports stay inside the factories: this module is imported to build the
argument parser, and ``python -m omnibase --version`` must not pay for asyncio.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = [
    "EXECUTORS",
    "MODES",
    "Mode",
    "ModeFactory",
    "add_mode_options",
    "default_jobs",
    "execute",
    "mode_of",
    "mode_problem",
    "prepare_executor",
    "reap_children",
]


class Mode:
    """What a mode runs with: the performer, and whether it is an asynchronous one.
    (A plain class: a ``NamedTuple`` costs a millisecond of start-up.)"""

    __slots__ = ("performer", "is_async")

    def __init__(self, performer: Any, is_async: bool) -> None:
        self.performer = performer
        self.is_async = is_async


ModeFactory = Callable[[argparse.Namespace], Mode]
R = TypeVar("R")


def default_jobs() -> int:
    """``--jobs`` by default: the cores this process may use.

    The typical component (a linter, a test runner, a worker process) keeps a core busy
    while it runs, so more at once only adds contention and memory. Pipelines that mostly
    wait (network calls, ``async def`` components) should raise it: ``--jobs 64``.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _isolating(performer: Any, workers: int | None = None) -> Any:
    """The CLI's innermost performer: registry components that ask for a worker process go
    to one (at most ``workers`` busy at once; default: the cores), commands run as killable
    process trees, everything else is called with fds 1 and 2 captured, so stdout carries
    the report alone."""
    from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool

    return ProcessPerformer(performer, capture=True, pool=WorkerPool(workers) if workers else None)


def _on_executor(options: argparse.Namespace, here: Any) -> Any:
    """``here`` (the performer of this process), or, for ``--executor dask``, the Dask
    performer, with ``here`` for the components that stay in this process."""
    cluster = getattr(options, "dask_performer", None)
    if cluster is None:
        return here
    cluster.inner = here
    return cluster


def _sync(options: argparse.Namespace) -> Mode:
    from omnibase.drivers.sync import SyncDriver

    return Mode(_on_executor(options, _isolating(SyncDriver())), False)


def _async(options: argparse.Namespace) -> Mode:
    from omnibase.drivers.aio import AsyncDriver, default_threads

    jobs = getattr(options, "jobs", None) or default_jobs()
    # enough threads for synchronous components to use every job slot
    return Mode(_on_executor(options, _isolating(AsyncDriver(threads=max(jobs, default_threads())), workers=jobs)), True)


def _dry_run(options: argparse.Namespace) -> Mode:
    """Non-pure components answered without a call, pure ones run read-only (synchronously)."""
    from omnibase.drivers.dryrun import DryRunPerformer

    return Mode(DryRunPerformer(_sync(options).performer), False)


def _profile(options: argparse.Namespace) -> Mode:
    """The sync performer, timed (``--profile-out`` times any other mode too)."""
    from omnibase.drivers.profile import ProfilePerformer

    return Mode(ProfilePerformer(_sync(options).performer), False)


def _replay(options: argparse.Namespace) -> Mode:
    """Answers from ``options.replay_snapshot`` (the ``Snapshot`` the replay command
    loaded), the rest by the sync performer."""
    from omnibase.drivers.replay import ReplayPerformer

    return Mode(ReplayPerformer(_sync(options).performer, options.replay_snapshot), False)


#: Every mode by name; ``--mode`` choices come from here (the first is the default).
MODES: dict[str, ModeFactory] = {
    "sync": _sync,
    "async": _async,
    "dry-run": _dry_run,
    "profile": _profile,
    "replay": _replay,
}


_SHORTHANDS = (("dry_run", "dry-run"), ("profile", "profile"))


#: Where invocations run: ``--executor`` choices (the first is the default).
EXECUTORS = ("local", "dask")
_ON_DASK = ("sync", "async")  # the modes --executor dask runs with


def mode_of(options: argparse.Namespace) -> str:
    """The mode the options ask for: ``--mode``, else a shorthand (``--dry-run``,
    ``--profile``), else async for ``--executor dask``, else the first of ``MODES``."""
    given: str | None = getattr(options, "mode", None)
    if given:
        return given
    for flag, name in _SHORTHANDS:
        if getattr(options, flag, False):
            return name
    if getattr(options, "executor", None) == "dask":
        return "async"
    return next(iter(MODES))


def mode_problem(options: argparse.Namespace) -> str | None:
    """Why the mode options contradict each other (a shorthand beside another ``--mode``)."""
    given = getattr(options, "mode", None)
    asked = [name for flag, name in _SHORTHANDS if getattr(options, flag, False)]
    if len(asked) > 1 or (given and asked and asked != [given]):
        flags = " and ".join(f"--{a}" for a in asked)
        return f"{flags} cannot be combined{f' with --mode {given}' if given else ''}"
    dask = getattr(options, "executor", None) == "dask"
    if getattr(options, "scheduler", None) and not dask:
        return "--scheduler goes with --executor dask"
    if dask and mode_of(options) not in _ON_DASK:
        return f"--executor dask runs with --mode {' or '.join(_ON_DASK)}, not {mode_of(options)}"
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
    performer = DaskPerformer(options.scheduler, workers=getattr(options, "jobs", None) or default_jobs(), local=local)
    problem = performer.connect()
    if problem is not None:
        return problem
    import atexit

    atexit.register(performer.close)  # also when the run ends before it starts
    options.dask_performer = performer
    return None


def add_mode_options(p: argparse.ArgumentParser) -> None:
    """The options of ``orch`` that instrument a run (``--mode`` and ``--jobs`` are
    defined beside the others)."""
    p.add_argument("--profile", action="store_true", help="shorthand for --mode profile")
    p.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0], help="where steps run: local (default) or dask (a Dask cluster: see --scheduler, docs/dask.md)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="--executor dask: the scheduler to submit to (default: a local cluster started for the run)")
    p.add_argument("--profile-out", metavar="FILE", help="write a Chrome trace-event file (Perfetto, speedscope) of the run")
    p.add_argument("--snapshot", metavar="PATH", help="--mode replay: the failure snapshot to replay")
    p.add_argument("--metrics-out", metavar="FILE", help="write the run's metrics as a Prometheus text file")
    p.add_argument("--log-format", choices=("console", "json"), default="console", help="structured log lines (default: console)")
    p.add_argument("--log-file", metavar="FILE", help="append the structured logs to FILE instead of stderr")


def execute(run: Callable[[], R], arun: Callable[[], Awaitable[R]], mode: Mode) -> R:
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
