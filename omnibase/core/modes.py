"""The execution modes, one row each: the spec's mode table, as data.

``MODES`` has the spec's columns: whether the mode runs under the asyncio loop
(``is_async``), whether components are retried (``retries``: dry-run and profile make one
attempt each, as the spec's table says), whether it may change files (``writes``: a dry
run changes nothing), whether a failed run leaves a snapshot to replay (``records``),
whether it answers from a snapshot (``replays``), and whether it times every invocation
(``profiles``). The CLI's ``--mode`` choices and help, the checks of option combinations
and the command server's preload list are read from it; ``omnibase.drivers.modes.stack``
builds each mode's performers from the same columns. Pure data, imported by the argument
parser: nothing here imports a performer.

>>> [m.name for m in MODES.values() if not m.retries]
['dry-run', 'profile']
>>> [m.name for m in MODES.values() if m.is_async]
['async', 'replay']
"""

from __future__ import annotations

__all__ = ["DEFAULT_MODE", "MODES", "ModeSpec", "mode_help", "preloaded"]


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
