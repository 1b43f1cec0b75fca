"""The verdict cache: a check that passed on some content need not run on it again.

What is remembered is only "check C passed on this file": a key made of the file's git
blob id and mode (``git ls-files -s``, free for a file whose working copy is what the
index holds), its path, the check's name and options, the Python version and omnibase's
version. Any change to one of those is a different key, so the file is checked again.
Failures are never cached (they carry messages and fixes, and are few).

The store is an SQLite file under ``.git/omnibase/cache/`` (never the working tree):
SQLite's locking makes concurrent runs safe (a run that finds it busy for long simply
checks without it); a file that is not a valid database is deleted and rebuilt; at most
``MAX_ENTRIES`` keys are kept, the least recently used go first.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["MAX_ENTRIES", "VerdictCache", "blob_ids", "options_bytes", "verdict_key", "versions"]

MAX_ENTRIES = 100_000
FORMAT = "1"  # bump when the meaning of a key changes
_FILE = os.path.join("omnibase", "cache", "verdicts.sqlite3")
_BUSY_TIMEOUT_S = 2.0


def versions() -> str:
    """What else a verdict depends on: the key format, the Python and omnibase."""
    from omnibase import _version

    return f"{FORMAT}\0{sys.implementation.name}-{sys.version}\0{_version.__version__}"


def verdict_key(blob: str, path: str, check: str, opts: bytes, salt: str) -> bytes:
    """The cache key of "``check`` with ``opts`` passed on ``path`` holding ``blob``"
    (``blob`` is ``"<mode> <blob id>"``; ``salt`` is ``versions()``)."""
    text = f"{blob}\0{path}\0{check}\0".encode("utf-8", "surrogateescape") + opts + b"\0"
    return hashlib.blake2b(text + salt.encode(), digest_size=16).digest()


def blob_ids(root: str, paths: Sequence[str]) -> dict[str, str]:
    """``path -> "<mode> <blob id>"`` for those of ``paths`` whose working copy is what the
    index holds (two git calls; a path git cannot vouch for is left out)."""
    from returns.result import Failure

    from omnibase._git import git, text, zsplit

    spec = ["--", *paths] if 0 < len(paths) <= 1000 else []  # many paths: ask about all
    staged = git(["--literal-pathspecs", "ls-files", "-s", "-z", *spec], root)
    dirty = git(["--literal-pathspecs", "diff-files", "--name-only", "-z", *spec], root)
    if isinstance(staged, Failure) or isinstance(dirty, Failure):  # no answer: no cache for this run
        return {}
    listing, changed = text(staged.unwrap()), set(zsplit(dirty.unwrap()))
    out: dict[str, str] = {}
    for record in listing.split("\0"):
        meta, _, path = record.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[2] != "0" or path in changed:  # unmerged or modified
            continue
        out[path] = f"{parts[0]} {parts[1]}"
    return out


class VerdictCache:
    """The store of passing verdicts of one repository (see the module's docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: Any = None

    @classmethod
    def for_git_dir(cls, git_dir: str) -> VerdictCache:
        return cls(os.path.join(git_dir, _FILE))

    def _connect(self) -> Any:
        import sqlite3

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a lost entry after a power cut is just a miss
        db.execute("CREATE TABLE IF NOT EXISTS ok (key BLOB PRIMARY KEY, used INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE INDEX IF NOT EXISTS ok_used ON ok(used)")
        return db

    def _open(self) -> Any:
        """The connection, or None when the cache cannot be had; a corrupt file is
        deleted and rebuilt once."""
        if self._db is not None:
            return self._db
        import sqlite3

        for attempt in range(2):
            try:
                self._db = self._connect()
                self._db.execute("SELECT count(*) FROM ok WHERE key = x'00'").fetchone()
                return self._db
            except sqlite3.DatabaseError as exc:  # not a database, malformed, or busy for too long
                if self._db is not None:
                    self._db.close()
                    self._db = None
                if _busy(exc):
                    return None  # another run holds it: check without the cache
                if attempt == 0:
                    for suffix in ("", "-wal", "-shm"):
                        try:
                            os.unlink(self.path + suffix)
                        except OSError:
                            pass
            except OSError:
                return None
        return None

    def hits(self, keys: Iterable[bytes]) -> set[bytes]:
        """Those of ``keys`` that are in the cache (and marks them used)."""
        import sqlite3

        wanted = list(dict.fromkeys(keys))
        db = self._open() if wanted else None
        if db is None:
            return set()
        found: set[bytes] = set()
        try:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(row[0] for row in db.execute(f"SELECT key FROM ok WHERE key IN ({marks})", chunk))
        except sqlite3.DatabaseError:
            return set()
        if found:
            self._store(found)  # refresh their age
        return found

    def add(self, keys: Iterable[bytes]) -> None:
        """Remember these passing verdicts; keep the store within ``MAX_ENTRIES``."""
        new = set(keys)
        if new and self._open() is not None:
            self._store(new)

    def _store(self, keys: set[bytes]) -> None:
        import sqlite3

        now = time.time_ns()
        try:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO ok (key, used) VALUES (?, ?)", ((k, now) for k in keys))
            (count,) = db.execute("SELECT count(*) FROM ok").fetchone()
            if count > MAX_ENTRIES:
                db.execute(
                    "DELETE FROM ok WHERE key IN (SELECT key FROM ok ORDER BY used LIMIT ?)", (count - MAX_ENTRIES,)
                )
            db.execute("COMMIT")
        except sqlite3.DatabaseError:  # busy for too long, or the disk is full: just a miss next time
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _busy(exc: Exception) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def options_bytes(opts: Mapping[str, Any]) -> dict[str, bytes]:
    """Each check's parsed options, encoded once per run for the keys."""
    import msgspec

    return {name: msgspec.json.encode(o) for name, o in opts.items()}
