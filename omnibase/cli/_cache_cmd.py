"""``omnibase gc`` and ``omnibase clean``: the cache of hook repositories and environments.

``gc`` keeps what some project still uses: every registry file (or project folder) that
used the cache is recorded in it; each one still there is read, and the clones and
environments its ``repo:`` entries need are kept. The rest goes, with every build that
did not finish. ``clean`` removes the whole cache.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_cache_commands", "clean_command", "gc_command"]


def add_cache_commands(sub: argparse.ArgumentParser, name: str) -> None:
    """The arguments of ``gc`` (``--dry-run``) and ``clean`` (none)."""
    if name == "gc":
        sub.add_argument("-n", "--dry-run", action="store_true", help="say what would be removed; remove nothing")


def gc_command(args: argparse.Namespace) -> int:
    """Remove the clones and environments no recorded project needs; exit 0."""
    from returns.result import Failure

    from omnibase.registry import find_registry, load_registry
    from omnibase.repos import HookSource, cache_dir
    from omnibase.repos._cache import recorded_uses
    from omnibase.repos._gc import needed, sweep

    cache = cache_dir()
    sources: list[HookSource] = []
    users = 0
    for record, path in recorded_uses(cache):
        registry = path if os.path.isfile(path) else find_registry(None, cwd=path, env={}) if os.path.isdir(path) else None
        if registry is None or not os.path.isfile(registry):
            if not args.dry_run:
                os.unlink(record)  # that project or file is gone: forget it
            continue
        loaded = load_registry(registry, cwd=os.path.dirname(registry), env={})
        if isinstance(loaded, Failure):
            print(f"omnibase gc: {loaded.failure().render()}: not read; what it uses is not kept", file=sys.stderr)
            continue
        users += 1
        sources += [e.repo for e in loaded.unwrap().entries if e.repo is not None]
    envs, clones = needed(sources)
    removed = sweep(cache, envs=envs, clones=clones, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in removed:
        print(f"{verb} {item.kind} {item.what} ({_megabytes(item.size)})")
    counts = {kind: sum(1 for r in removed if r.kind == kind) for kind in ("environment", "clone")}
    print(
        f"{cache}: {verb} {counts['environment']} environment(s) and {counts['clone']} clone(s), "
        f"{_megabytes(sum(r.size for r in removed))}; {users} project(s) use it"
    )
    return 0


def clean_command(args: argparse.Namespace) -> int:
    """Remove every clone, environment and record of the cache; exit 0."""
    from omnibase.repos import cache_dir
    from omnibase.repos._gc import clean

    cache = cache_dir()
    removed = clean(cache)
    size = sum(r.size for r in removed)
    print(f"{cache}: removed ({_megabytes(size)})" if removed else f"{cache}: nothing to remove")
    return 0


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
