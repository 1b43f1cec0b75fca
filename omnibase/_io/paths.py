"""Containment: is a path omnibase is about to read or write for the user inside the
repository it works on?

``contained(root, path)`` is the one check. A path passes when, resolved the way the
kernel would resolve it (every symlink followed, the last one included), it lands inside
``root`` resolved the same way. A relative path may not name ``..`` at all: paths that come
from git, the registry or a snapshot never need it, so one is a sign of a hand-edited or
hostile value, not a shortcut to allow. An absolute path is judged by where it resolves.

A path that passes can still be swapped for a symlink by someone racing us; writers that
care open the last component with ``O_NOFOLLOW`` (``omnibase._io.atomic``).

>>> import tempfile
>>> root = tempfile.mkdtemp()
>>> contained(root, "src/a.py").map(lambda p: p.endswith("src/a.py")).value_or(False)
True
>>> contained(root, "../etc/passwd").failure().message
"../etc/passwd: names '..', not allowed in a path inside the repository"
"""

from __future__ import annotations

import os

import msgspec
from returns.result import Failure, Result, Success

__all__ = ["Uncontained", "contained", "is_contained"]


class Uncontained(msgspec.Struct, frozen=True):
    """Why a path is not inside the repository (one line, naming the path)."""

    message: str


def contained(root: str, path: str, *, follow_last: bool = True) -> Result[str, Uncontained]:
    """``path`` (relative to ``root``, or absolute) as an absolute path under ``root``, if it
    stays inside ``root`` once every symlink on the way is followed; else why not.
    ``follow_last=False``: a symlink as the last component is a file of the repository in
    its own right (what it points to is not followed, so not judged); the folders on the
    way still are.

    ``root`` itself counts as inside. The answer is ``root`` (made absolute, not resolved)
    joined with the path relative to it, so messages show the user's spelling of the root."""
    if not path or "\0" in path:
        return Failure(Uncontained(f"{path!r}: not a path"))
    if not os.path.isabs(path) and ".." in path.replace("\\", "/").split("/"):
        return Failure(Uncontained(f"{path}: names '..', not allowed in a path inside the repository"))
    top = os.path.abspath(root)
    real_top = os.path.realpath(top)
    full = os.path.normpath(os.path.join(top, path))
    if follow_last or full == top:
        real = os.path.realpath(full)
    else:
        real = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
    if not _under(real_top, real):
        where = "through a symbolic link " if _under(top, full) else ""
        return Failure(Uncontained(f"{path}: leads {where}outside the repository at {root}"))
    rel = os.path.relpath(real, real_top)
    return Success(top if rel == "." else os.path.join(top, rel))


def is_contained(root: str, path: str) -> bool:
    """Whether ``contained(root, path)`` passes."""
    return isinstance(contained(root, path), Success)


def _under(top: str, path: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)
