"""The fixers' pending edits, handed from the components to the edge that writes them.

A built-in fixer computes its edits and does not write them: it spools them, one atomic
file per fixer invocation, under ``<git dir>/omnibase/fixes/<run id>/`` (never the working
tree). After the run (also one stopped early by ``-x`` or Ctrl-C), the edge applies every
spooled edit at once with ``apply_edits`` (one write per file; the edits of consecutive
fixers chain by content hash) and removes the run's folder. The components of one run may
run in threads, in worker processes or on a Dask worker of this machine: each writes its
own file, so nothing is shared and nothing is locked. A folder left by a killed run is
never applied; it is removed by a later run once it is older than ``STALE_S``.

Outside a git repository there is no place for a spool: a fixer then writes its own edits
at once (still atomically, still chained by content hash).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from typing import Final

import msgspec

from omnibase.builtins._values import Edit

__all__ = ["STALE_S", "apply_spooled", "spool_dir", "spool_edits"]

#: A spool folder of another run older than this (seconds) is a killed run's: removed.
STALE_S: Final = 3600.0
_FORMAT: Final = 1


class _Edit(msgspec.Struct, frozen=True, array_like=True):
    """An edit as spooled: the path as bytes (a file name need not be UTF-8), the hash of
    the content it applies to, the new content (what ``apply_edits`` needs)."""

    path: bytes
    original_sha256: str
    content: bytes


class Spooled(msgspec.Struct, frozen=True):
    """One fixer invocation's edits (``format`` guards against a file of another version)."""

    format: int
    component: str
    edits: tuple[_Edit, ...]


def _safe(name: str) -> str:
    from omnibase._io.state import safe_name

    return safe_name(name)


def spool_dir(git_dir: str, run_id: str) -> str:
    """The folder of the run ``run_id``'s pending edits."""
    from omnibase._io.state import fixes_dir, state_dir

    return fixes_dir(state_dir(git_dir), _safe(run_id))


def spool_edits(git_dir: str, run_id: str, component: str, rank: int, edits: Sequence[Edit]) -> None:
    """Spool the edits of ``component`` (the ``rank``-th fixer of its chain) atomically;
    ``OSError`` when it cannot be written."""
    from omnibase._io.atomic import write_atomic

    from omnibase._io.state import make_state_dir

    folder = spool_dir(git_dir, run_id)
    made = make_state_dir(folder, mode=0o700)  # what it holds is the user's content: theirs alone
    if made.value_or(None) is None:
        raise OSError(made.failure().message)
    spooled = tuple(_Edit(e.path.encode("utf-8", "surrogateescape"), e.original_sha256, e.content) for e in edits)
    data = msgspec.msgpack.encode(Spooled(format=_FORMAT, component=component, edits=spooled))
    write_atomic(os.path.join(folder, f"{rank:04d}-{_safe(component)}.fix"), data, durable=False, like=None)


def apply_spooled(root: str, git_dir: str, run_id: str, failed: dict[str, str] | None = None) -> tuple[str, ...]:
    """Write the run's spooled edits (each file once), remove its spool; the paths written
    (the ones whose write failed, with why, in ``failed``: see ``apply_edits``).
    Unreadable spool files are skipped; stale folders of killed runs are removed."""
    from omnibase.builtins._run import apply_edits

    folder = spool_dir(git_dir, run_id)
    edits: list[Edit] = []
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".fix"))
    except OSError:
        names = []
    decoder = msgspec.msgpack.Decoder(Spooled)
    for name in names:
        try:
            with open(os.path.join(folder, name), "rb") as f:
                spooled = decoder.decode(f.read())
        except (OSError, msgspec.DecodeError):
            continue
        if spooled.format == _FORMAT:
            edits.extend(
                Edit(path=e.path.decode("utf-8", "surrogateescape"), original_sha256=e.original_sha256, content=e.content)
                for e in spooled.edits
            )
    written = apply_edits(edits, root=root, failed=failed) if edits else ()
    _remove_folder(folder)
    _remove_stale(os.path.dirname(folder))
    return written


def _remove_folder(folder: str) -> None:
    """Remove a spool folder: its files, then itself (spool folders hold files only; a
    folder that is not there, or will not go, is left as it is)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            os.unlink(entry.path)
        except OSError:
            pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _remove_stale(parent: str) -> None:
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    old = time.time() - STALE_S
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < old:
                _remove_folder(entry.path)
        except OSError:
            continue
