"""The performer stack of each execution mode, built from the mode table's columns.

The modes and their columns are ``omnibase.core.modes.MODES`` (pure data); ``stack(name,
...)`` builds a mode's performers, from Python as from the CLI: the asynchronous driver or
the synchronous one, process isolation, an executor (Dask) around them, and the dry-run,
replay or profile performer on the outside, as the columns say.

>>> built = stack("sync", isolate=False)
>>> type(built.performer).__name__, built.is_async
('SyncDriver', False)

Performers are imported by the stack that uses them.
"""

from __future__ import annotations

import os
from typing import Any

from omnibase.core.modes import MODES

__all__ = ["Stack", "default_jobs", "stack"]


class Stack:
    """A mode's performers, built: the outermost ``performer``, whether it is driven under
    asyncio (``is_async``: ``arun``), and the profiler and the replayer in it, when the mode
    has one (their ``attach`` adds what they saw to the report).
    (A plain class: a ``NamedTuple`` costs a millisecond of start-up.)"""

    __slots__ = ("performer", "is_async", "profiler", "replayer")

    def __init__(self, performer: Any, is_async: bool, *, profiler: Any = None, replayer: Any = None) -> None:
        self.performer = performer
        self.is_async = is_async
        self.profiler = profiler
        self.replayer = replayer


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


def stack(
    name: str,
    *,
    jobs: int | None = None,
    snapshot: Any = None,
    executor: Any = None,
    isolate: bool = True,
) -> Stack:
    """The performers of mode ``name``.

    ``jobs``: for an asynchronous mode, at most this many invocations at once (default:
    ``default_jobs()``); ``snapshot``: the ``Snapshot`` a replaying mode answers from;
    ``executor``: a performer that sends invocations elsewhere (the Dask performer), whose
    ``inner`` becomes this process's performer; ``isolate``: registry components that ask
    for a worker process go to one, commands run as killable process trees, everything else
    runs with fds 1 and 2 captured (what the CLI wants: stdout carries the report alone).
    """
    spec = MODES[name]
    if spec.replays and snapshot is None:
        raise ValueError(f"mode {name} answers from a snapshot: pass snapshot=")
    workers = (jobs or default_jobs()) if spec.is_async else None
    here: Any
    if spec.is_async:
        from omnibase.drivers.aio import AsyncDriver, default_threads

        # enough threads for synchronous components to use every job slot
        here = AsyncDriver(threads=max(workers or 1, default_threads()))
    else:
        from omnibase.drivers.sync import SyncDriver

        here = SyncDriver()
    if isolate:
        from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool

        here = ProcessPerformer(here, capture=True, pool=WorkerPool(workers) if workers else None)
    if executor is not None:
        executor.inner = here
        here = executor
    if not spec.writes:
        from omnibase.drivers.dryrun import DryRunPerformer

        return Stack(DryRunPerformer(here), spec.is_async)
    if spec.replays:
        from omnibase.drivers.replay import ReplayPerformer

        replayer = ReplayPerformer(here, snapshot)
        return Stack(replayer, spec.is_async, replayer=replayer)
    if spec.profiles:
        from omnibase.drivers.profile import ProfilePerformer

        profiler = ProfilePerformer(here)
        return Stack(profiler, spec.is_async, profiler=profiler)
    return Stack(here, spec.is_async)
