"""The execution modes of ``omnibase orch``: one table, ``MODES``, from a mode's name to
the factory of its performer. ``--mode`` takes its choices from it; ``--dry-run`` and
``--profile`` are shorthands for ``--mode dry-run`` and ``--mode profile``.

A factory takes the parsed options and returns ``(performer, is_async)``. Imports happen
inside the factories, so that parsing the command line stays cheap.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["MODES", "ModeFactory", "add_mode_options", "mode_of"]

ModeFactory = Callable[[argparse.Namespace], tuple[Any, bool]]


def _sync(args: argparse.Namespace) -> tuple[Any, bool]:
    from omnibase.drivers.sync import SyncDriver

    return SyncDriver(), False


def _dry_run(args: argparse.Namespace) -> tuple[Any, bool]:
    from omnibase.drivers.dryrun import DryRunPerformer

    return DryRunPerformer(_sync(args)[0]), False


def _profile(args: argparse.Namespace) -> tuple[Any, bool]:
    from omnibase.drivers.profile import ProfilePerformer

    return ProfilePerformer(_sync(args)[0]), False


def _replay(args: argparse.Namespace) -> tuple[Any, bool]:
    """Needs ``args.replay_snapshot``: the ``Snapshot`` the replay command loaded."""
    from omnibase.drivers.replay import ReplayPerformer

    return ReplayPerformer(_sync(args)[0], args.replay_snapshot), False


MODES: dict[str, ModeFactory] = {
    "sync": _sync,
    "dry-run": _dry_run,
    "profile": _profile,
    "replay": _replay,
}


def mode_of(args: argparse.Namespace) -> str:
    """The mode the options ask for; the shorthands count when ``--mode`` is not given."""
    given: str | None = getattr(args, "mode", None)
    if given:
        return given
    if getattr(args, "dry_run", False):
        return "dry-run"
    if getattr(args, "profile", False):
        return "profile"
    return "sync"


def add_mode_options(p: argparse.ArgumentParser) -> None:
    """The options of ``orch`` that choose and instrument the execution mode."""
    p.add_argument("--mode", choices=tuple(MODES), help="how to execute (default: sync); see docs/mode-*.md")
    p.add_argument("--profile", action="store_true", help="shorthand for --mode profile")
    p.add_argument("--profile-out", metavar="FILE", help="write a Chrome trace-event file (Perfetto, speedscope) of the run")
    p.add_argument("--snapshot", metavar="PATH", help="--mode replay: the failure snapshot to replay")
    p.add_argument("--metrics-out", metavar="FILE", help="write the run's metrics as a Prometheus text file")
    p.add_argument("--log-format", choices=("console", "json"), default="console", help="structured log lines (default: console)")
    p.add_argument("--log-file", metavar="FILE", help="append the structured logs to FILE instead of stderr")
