"""Removing what the cache holds: ``omnibase gc`` (what no project uses) and
``omnibase clean`` (everything).

``needed`` says which clones and environments some hooks need; ``sweep`` removes the
rest, and every environment whose build did not finish, but never one being built now
(its lock is held). Only the cache's own folders are removed: a cache variable pointing
somewhere unexpected cannot make ``clean`` delete anything else.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable

import msgspec
from returns.result import Success

from omnibase.repos._cache import _listdir, clone_key
from omnibase.repos._envs import EnvInfo, env_key, environments, interpreter
from omnibase.repos._source import LOCAL, HookSource

__all__ = ["PARTS", "Removed", "clean", "needed", "sweep"]

#: The folders of the cache (``clean`` removes these and nothing else).
PARTS = ("repos", "envs", "used")


class Removed(msgspec.Struct, frozen=True):
    """One thing removed (or that would be): ``kind`` (environment, clone, record), what
    it was, and its size in bytes."""

    kind: str
    what: str
    path: str
    size: int


def needed(sources: Iterable[HookSource]) -> tuple[set[str], set[str]]:
    """The keys of the environments and of the clones these hooks need."""
    envs: set[str] = set()
    clones: set[str] = set()
    for source in sources:
        if source.url != LOCAL:
            clones.add(clone_key(source.url, source.rev))
        if source.needs == "env":
            python = interpreter(source.language_version)
            if isinstance(python, Success):
                envs.add(env_key(source, python.unwrap()))
    return envs, clones


def sweep(cache: str, *, envs: set[str], clones: set[str], dry_run: bool = False) -> list[Removed]:
    """Remove the environments and clones of ``cache`` not in ``envs``/``clones`` (keys),
    and unfinished builds; what was (with ``dry_run``: would be) removed."""
    import fcntl

    out: list[Removed] = []
    for key, folder, info in environments(cache):
        link = os.path.join(cache, "envs", key)
        current = os.path.islink(link) and os.path.realpath(link) == os.path.realpath(folder)
        if current and key in envs:
            continue
        lock_path = os.path.join(cache, "envs", key + ".lock")
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being built right now
            out.append(Removed("environment", _built_from(info, current), folder, _size(folder)))
            if not dry_run:
                if current:
                    os.unlink(link)
                shutil.rmtree(folder, ignore_errors=True)
                os.unlink(lock_path)
    top = os.path.join(cache, "repos")
    for name in sorted(_listdir(top)):
        folder = os.path.join(top, name)
        if name in clones or name.startswith(".") or not os.path.isdir(folder):
            continue  # kept, or a clone under way (its own run removes it if it fails)
        out.append(Removed("clone", _origin(folder) or name, folder, _size(folder)))
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    return out


def clean(cache: str) -> list[Removed]:
    """Remove the whole cache: its own folders, then the cache folder if that left it empty."""
    out: list[Removed] = []
    for part in PARTS:
        folder = os.path.join(cache, part)
        if os.path.isdir(folder) and not os.path.islink(folder):
            out.append(Removed(part, folder, folder, _size(folder)))
            shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rmdir(cache)
    except OSError:
        pass  # not empty (something else lives there) or not there
    return out


def _built_from(info: EnvInfo | None, current: bool) -> str:
    """What an environment was built from, as ``gc`` shows it."""
    if info is None:
        return "an environment of unknown origin" if current else "an unfinished build"
    if info.url == LOCAL:
        return "local hooks (" + (", ".join(info.dependencies) or "no dependencies") + ")"
    return f"{info.url} at {info.rev}"


def _origin(folder: str) -> str | None:
    """Where a clone was fetched from (``URL at REV``, as ``clone`` noted it; None: unknown)."""
    from omnibase._io.git import git, text

    got = git(["config", "--get-regexp", r"^omnibase\.(url|rev)$"], folder, elsewhere=True)
    if not isinstance(got, Success):
        return None
    found = dict(line.partition(" ")[::2] for line in text(got.unwrap()).splitlines())
    return f"{found.get('omnibase.url', '?')} at {found.get('omnibase.rev', '?')}"


def _size(folder: str) -> int:
    total = 0
    for here, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(here, name)).st_size
            except OSError:
                pass
    return total
