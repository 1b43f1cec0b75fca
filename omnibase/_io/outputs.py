"""The one safe opener for files omnibase writes because the user named them: ``--report
FORMAT=FILE`` (and its alias ``-o``), ``--metrics-out``, ``--profile-out``, ``--log-file``.

The rules, the same for every one of them:

- the file is a regular file or does not exist yet; a symbolic link, a folder, a FIFO, a
  device node or a socket is refused, before anything runs and again when writing (so a
  FIFO never blocks a run and ``/dev/sda`` is never replaced or written);
- its folder exists and is writable;
- a whole file is written atomically and durably (``omnibase._io.atomic``): a reader sees
  the old report or the new one; the log is the one file appended to, opened without
  following a link and without waiting on a FIFO, and checked to be a regular file once
  open.

Paths may lie outside the repository: the user asked for that file by name. Paths that
come from data (a snapshot, a registry) are checked with ``omnibase._io.paths.contained``.

>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> output_path("r.json", folder).unwrap() == os.path.join(folder, "r.json")
True
>>> output_path("/dev/null", folder).failure()
'/dev/null: not a regular file (a character device); omnibase writes only regular files'
"""

from __future__ import annotations

import os
import stat
from typing import TextIO

from returns.result import Failure, Result, Success

__all__ = ["kind_of", "open_append", "output_path", "write_output"]

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words, when it is no regular file.

    >>> kind_of(stat.S_IFIFO)
    'a FIFO'
    """
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def output_path(path: str, cwd: str) -> Result[str, str]:
    """``path`` (relative to ``cwd``) made absolute, if omnibase may write it; else why not,
    one line naming the path as given."""
    full = os.path.abspath(os.path.join(cwd, path))
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        return Failure(f"{path}: no such directory {folder}")
    try:
        info = os.lstat(full)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        return Failure(f"{path}: {exc.strerror or exc}")
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            return Failure(f"{path}: is a symbolic link; omnibase writes no file through a link")
        if stat.S_ISDIR(info.st_mode):
            return Failure(f"{path}: is a directory")
        if not stat.S_ISREG(info.st_mode):
            return Failure(f"{path}: not a regular file ({kind_of(info.st_mode)}); omnibase writes only regular files")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Failure(f"{path}: directory {folder} is not writable")
    return Success(full)


def write_output(path: str, data: bytes) -> Result[str, str]:
    """Write ``data`` to ``path`` (checked by ``output_path`` before the run; a relative one is
    taken from the current folder, where it is written) after checking it again (it may have
    changed meanwhile), atomically and durably."""
    from omnibase._io.atomic import write_atomic

    checked = output_path(path, os.getcwd())
    if isinstance(checked, Failure):
        return checked
    try:
        write_atomic(path, data, durable=True)
    except OSError as exc:
        return Failure(f"{path}: cannot write ({exc.strerror or exc})")
    return Success(path)


def open_append(path: str) -> Result[TextIO, str]:
    """``path`` opened for appending text, line-buffered: never through a symbolic link,
    never blocking on a FIFO (one is refused, as is any file that is no regular file)."""
    checked = output_path(path, os.getcwd())
    if isinstance(checked, Failure):
        return checked
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        return Failure(f"{path}: cannot open ({exc.strerror or exc})")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped in after the check
        os.close(fd)
        return Failure(f"{path}: not a regular file ({kind_of(mode)}); omnibase writes only regular files")
    os.set_blocking(fd, True)
    return Success(os.fdopen(fd, "a", buffering=1, encoding="utf-8"))
