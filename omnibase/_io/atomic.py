"""Atomic file replacement: a reader sees the old file or the new one, never a torn one.

The one writer of whole files in omnibase (the registry, snapshots, reports and other
outputs, the stash's patches, the fixers' spool and fixes, the run's recorded state).
fsync policy (see docs/precommit.md): ``durable`` writes (the registry file, the stash's
patches, files the user asked for) are fsynced, file and folder, before they count as done.
Fixers' writes are not: what they write is derived from content git holds and is made
again by running the checks again, so a power cut may at worst leave the old file (the
rename is atomic either way); fsyncing every fixed file of a large tree cost 0.1-1 s.

Whatever fails (a full disk, a file too large, a signal turned into an exception), the
temporary file is removed: nothing ``.omnibase-*`` is left behind.
"""

from __future__ import annotations

import os

__all__ = ["write_atomic"]


def write_atomic(
    path: str, data: bytes, *, durable: bool = True, like: os.stat_result | None = None, mode: int | None = None
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename
    it over. The new file gets ``mode`` when given; else it keeps the mode (and, where
    allowed, the owner) of ``like``, else of the file it replaces; a new file gets what the
    umask allows, as ``open()`` would give it. ``durable``: fsync file and folder.
    ``OSError`` when it cannot be written; the temporary file is gone then."""
    folder = os.path.dirname(os.path.abspath(path))
    if mode is None:
        if like is None and os.path.exists(path):
            like = os.stat(path)
        mode = like.st_mode & 0o7777 if like is not None else 0o666 & ~_umask()
    fd, tmp = _new_file(folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if like is not None:  # before the mode: a chown clears the set-user and set-group-ID bits
            try:
                os.chown(tmp, like.st_uid, like.st_gid)
            except OSError:
                pass  # not ours to give away: the file keeps our ownership
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _new_file(folder: str) -> tuple[int, str]:
    """A new, empty file of ours in ``folder`` (mode 0600 until the rename, never through a
    symlink, never an existing file): what ``tempfile.mkstemp`` does, without importing
    ``tempfile`` (and with it ``shutil`` and ``random``) on every run's path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(folder, f".omnibase-{os.urandom(6).hex()}")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name")
