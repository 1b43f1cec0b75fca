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

__all__ = ["MODES", "Mode", "ModeFactory", "default_jobs", "execute", "reap_children"]


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


def _sync(options: argparse.Namespace) -> Mode:
    from omnibase.drivers.sync import SyncDriver

    return Mode(SyncDriver(), False)


def _async(options: argparse.Namespace) -> Mode:
    from omnibase.drivers.aio import AsyncDriver, default_threads

    jobs = getattr(options, "jobs", None) or default_jobs()
    # enough threads for synchronous components to use every job slot
    return Mode(AsyncDriver(threads=max(jobs, default_threads())), True)


#: Every mode by name; ``--mode`` choices come from here (the first is the default).
MODES: dict[str, ModeFactory] = {
    "sync": _sync,
    "async": _async,
}


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
        try:  # SIGINT is asyncio.run's already: it cancels this task
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        box.append(await arun())
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)


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
