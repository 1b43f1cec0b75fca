"""The execution modes, one row each, and the performer stack each one builds.

``MODES`` is the spec's mode table with its columns: whether the mode runs under the
asyncio loop (``is_async``), whether components are retried (``retries``: dry-run and
profile make one attempt each, as the spec's table says), whether it may change files
(``writes``: a dry run changes nothing), whether a failed run leaves a snapshot to replay
(``records``), whether it answers from a snapshot (``replays``), and whether it times
every invocation (``profiles``). The CLI's ``--mode``
choices and help, the checks of option combinations, and the command server's preload list
are read from it; ``stack(name, ...)`` builds the performers, from Python as from the CLI.

>>> [m.name for m in MODES.values() if not m.retries]
['dry-run', 'profile']
>>> [m.name for m in MODES.values() if m.is_async]
['async', 'replay']
>>> built = stack("sync", isolate=False)
>>> type(built.performer).__name__, built.is_async
('SyncDriver', False)

Performers are imported by the stack that uses them: ``omnibase --version`` and the
argument parser pay for none of them.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["DEFAULT_MODE", "MODES", "ModeSpec", "Stack", "default_jobs", "mode_help", "preloaded", "stack"]


class ModeSpec:
    """One mode: its columns (see the module docstring), the ``--`` shorthand flag that
    asks for it, whether ``--executor dask`` runs with it, its one-line help, and the
    modules its stack imports (the command server loads the default mode's up front)."""

    __slots__ = ("name", "is_async", "retries", "writes", "records", "replays", "profiles", "shorthand", "on_dask", "help", "modules")

    def __init__(
        self,
        name: str,
        *,
        is_async: bool,
        retries: bool,
        writes: bool,
        records: bool,
        replays: bool = False,
        profiles: bool = False,
        shorthand: str | None = None,
        on_dask: bool = False,
        help: str,
        modules: tuple[str, ...],
    ) -> None:
        self.name = name
        self.is_async = is_async
        self.retries = retries
        self.writes = writes
        self.records = records
        self.replays = replays
        self.profiles = profiles
        self.shorthand = shorthand
        self.on_dask = on_dask
        self.help = help
        self.modules = modules

    def __repr__(self) -> str:
        return f"ModeSpec({self.name!r})"


_LOCAL = ("omnibase.drivers.sync", "omnibase.drivers.isolation.process")

#: Every mode by name, in the order ``--mode`` lists them; the first is the default.
MODES: dict[str, ModeSpec] = {
    spec.name: spec
    for spec in (
        ModeSpec(
            "sync", is_async=False, retries=True, writes=True, records=True, on_dask=True,
            help="one step at a time in this process (default)",
            modules=(*_LOCAL, "omnibase.drivers.replay"),
        ),
        ModeSpec(
            "async", is_async=True, retries=True, writes=True, records=True, on_dask=True,
            help="independent steps concurrently, at most --jobs at once",
            modules=("omnibase.drivers.aio", *_LOCAL[1:], "omnibase.drivers.replay"),
        ),
        ModeSpec(
            "dry-run", is_async=False, retries=False, writes=False, records=False, shorthand="dry_run",
            help="only read-only components run, once each; nothing changes (docs/mode-dry-run.md)",
            modules=("omnibase.drivers.dryrun", *_LOCAL),
        ),
        ModeSpec(
            "profile", is_async=False, retries=False, writes=True, records=True, profiles=True, shorthand="profile",
            help="one step at a time, once each, timed (docs/mode-profile.md)",
            modules=("omnibase.drivers.profile", *_LOCAL, "omnibase.drivers.replay"),
        ),
        ModeSpec(
            "replay", is_async=True, retries=True, writes=True, records=True, replays=True,
            help="a failure snapshot's run again (--snapshot), recorded answers reused, the rest "
            "concurrently, at most --jobs at once (docs/mode-replay.md)",
            modules=("omnibase.drivers.replay", "omnibase.drivers.aio", *_LOCAL[1:]),
        ),
    )
}  # fmt: skip

DEFAULT_MODE = next(iter(MODES))


def mode_help() -> str:
    """``--mode``'s help: each mode and what it does, the default first."""
    return "how to execute: " + "; ".join(f"{m.name}: {m.help}" for m in MODES.values())


def preloaded() -> tuple[str, ...]:
    """The modules the default mode's stack imports (what a warm server loads up front)."""
    return MODES[DEFAULT_MODE].modules


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
