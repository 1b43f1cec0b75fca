"""The verdict cache: checks that passed on some content need not run on it again.

One record per file content: the key is made of the file's git blob id and mode (``git
ls-files -s``, free for a file whose working copy is what the index holds), its path, the
Python version, omnibase's version and the installed identify and ruamel.yaml (``versions``); the record holds identify's tags and the size of
the file (so a known file is not even opened) and, per check signature, the checks that
applied and passed. A check's signature is its name and options and, for a fixer, the
fixers before it (whose output it starts from). Any change to one of those is another
key or another signature, so the file is checked again. Failures are never cached (they
carry messages and fixes, and are few); nor is a file on which a fixer changed anything.

Each check of a run asks about the same files: a process reads a file's record once per
run (``token``) and the other checks use it from memory; what a check learns is added to
the record (a record keeps the last ``MAX_SIGNATURES`` signatures). Two processes adding
to one record at once may lose one's addition: a miss next time, never a wrong verdict.

A run over many files (more than ``_PATHSPEC_MAX``, when git is asked about the whole
index anyway) may be answered by one *selection record*: its key is made of the run's
checks (names, options, patterns, order), the selected paths, git's listing of the whole
index (each entry's tag, mode, blob id and path: ``git ls-files -s -v``), the paths staged
for addition and the versions above. It is used only when git vouches for every selected
file (``git diff-files`` finds none changed, which git decides from the stat data it keeps
in the index), and it holds per check only the number of files it checked: it is written
after a run in which every check passed without a finding on files git vouched for, and a
hit opens no file. Whole-set checks are recorded only when their verdicts depend on
nothing else (``INDEX_ONLY_SET_CHECKS``; a run in which check-added-large-files asked
git's attributes about a large file is not recorded).

Git vouches for a path only when its index entry is a plain one (``H``): an entry marked
assume-unchanged or skip-worktree is one whose working copy git does not compare.

The store is an SQLite file under ``.git/omnibase/cache/`` (never the working tree):
SQLite's locking makes concurrent runs safe (a run that finds it busy for long simply
checks without it); a file that is not a valid database is deleted and rebuilt; at most
``MAX_ENTRIES`` records (and ``MAX_SELECTIONS`` selection records) are kept, the least
recently used go first.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import msgspec

__all__ = [
    "INDEX_ONLY_SET_CHECKS", "MAX_ENTRIES", "MAX_SELECTIONS", "Known", "Record", "Selection", "VerdictCache", "blob_ids",
    "checks_signature", "file_key", "forget_answers", "selection_key", "verdict_key", "versions",
]

MAX_ENTRIES = 100_000
MAX_SELECTIONS = 64
MAX_SIGNATURES = 32
FORMAT = "5"  # bump when the meaning of a key changes
_BUSY_TIMEOUT_S = 2.0
_REFRESH_NS = 86_400 * 10**9


#: The store's SQL, each statement named once (its text is not the code's logic: SQLite's
#: keywords and names are case-insensitive).
_SQL: Final = {
    "wal": "PRAGMA journal_mode=WAL",
    "no_sync": "PRAGMA synchronous=OFF",  # no fsync: a cache damaged by a power cut is rebuilt
    "make_ok": "CREATE TABLE IF NOT EXISTS ok (key BLOB PRIMARY KEY, known BLOB NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID",
    "make_ok_used": "CREATE INDEX IF NOT EXISTS ok_used ON ok(used)",
    "make_runs": "CREATE TABLE IF NOT EXISTS runs (key BLOB PRIMARY KEY, checked BLOB NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID",
    "shape_ok": "SELECT key, known, used FROM ok LIMIT 1",
    "shape_runs": "SELECT key, checked, used FROM runs LIMIT 1",
    "begin": "BEGIN IMMEDIATE",
    "put_ok": "INSERT OR REPLACE INTO ok (key, known, used) VALUES (?, ?, ?)",
    "count_ok": "SELECT count(*) FROM ok",
    "trim_ok": "DELETE FROM ok WHERE key IN (SELECT key FROM ok ORDER BY used LIMIT ?)",
    "commit": "COMMIT",
    "rollback": "ROLLBACK",
    "get_run": "SELECT checked, used FROM runs WHERE key = ?",
    "put_run": "INSERT OR REPLACE INTO runs (key, checked, used) VALUES (?, ?, ?)",
    "trim_runs": "DELETE FROM runs WHERE key IN (SELECT key FROM runs ORDER BY used DESC LIMIT -1 OFFSET ?)",
    "get_ok": "SELECT key, known, used FROM ok WHERE key IN ({marks})",
}


#: The libraries whose answers a cached verdict holds: identify's tags (which checks a file
#: gets) and ruamel.yaml's parser (check-yaml's verdicts); each named by the stat data of
#: the files that decide (an upgrade or reinstall rewrites them: another key, so a miss).
_LIBRARIES: Final = (("identify", ("__init__.py", "identify.py", "extensions.py")), ("ruamel.yaml", ("__init__.py", "main.py")))


def _installed(name: str, files: tuple[str, ...]) -> str:
    """``name``'s folder and the size and modification time of ``files`` in it (``-``:
    not found; then the checks that need it fail, and their failures are not cached)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not folders:
        return f"{name} -"
    stats = []
    for file in files:
        try:
            st = os.stat(os.path.join(folders[0], file))
            stats.append(f"{st.st_size}.{st.st_mtime_ns}")
        except OSError:
            stats.append("-")
    return f"{name} {folders[0]} {' '.join(stats)}"


def versions() -> str:
    """What else a verdict depends on: the key format, the Python, omnibase, and the
    installed identify and ruamel.yaml (``_LIBRARIES``)."""
    from omnibase import _version

    libraries = "\0".join(_installed(name, files) for name, files in _LIBRARIES)
    return f"{FORMAT}\0{sys.implementation.name}-{sys.version}\0{_version.__version__}\0{libraries}"


class Known(msgspec.Struct, frozen=True, array_like=True):
    """What a cache hit tells: the checks that applied (all passed), the file's tags, its size."""

    checks: tuple[str, ...]
    tags: frozenset[str]
    size: int


class Record(msgspec.Struct, frozen=True, array_like=True):
    """What is known of one file content: its tags, its size, and per check signature the
    checks that applied (all passed). ``passed`` is filled in place as checks learn."""

    tags: frozenset[str]
    size: int
    passed: dict[bytes, tuple[str, ...]] = msgspec.field(default_factory=dict)

    def known(self, signature: bytes) -> Known | None:
        """What a hit tells for the checks of ``signature``, if they passed here."""
        checks = self.passed.get(signature)
        return None if checks is None else Known(checks=checks, tags=self.tags, size=self.size)


class Selection(msgspec.Struct, frozen=True, array_like=True):
    """What a selection record tells: every check of the run passed, without a finding, and
    checked this many files (per check, in the run's order)."""

    checked: tuple[int, ...]


#: The whole-set checks whose verdicts depend only on the selected paths, the index (the
#: files' modes and content, hence their tags and sizes) and the paths staged for addition.
INDEX_ONLY_SET_CHECKS = frozenset({"check-added-large-files", "check-case-conflict", "check-illegal-windows-names", "name-tests-test"})

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Record)
_SELECTION = msgspec.msgpack.Decoder(Selection)


def checks_signature(opts: Mapping[str, Any]) -> bytes:
    """The selected checks and their parsed options, as bytes (``digest`` it for a record)."""
    return msgspec.json.encode(sorted((name, o) for name, o in opts.items()))


def digest(data: bytes) -> bytes:
    """A short digest (16 bytes) of ``data``: a key, a signature."""
    from omnibase.core.digests import blake2b  # hashlib's, without loading OpenSSL

    return bytes(blake2b(data, digest_size=16).digest())


def file_key(blob: str, path: str, salt: str) -> bytes:
    """The key of the record of ``path`` holding ``blob`` (``"<mode> <blob id>"``)."""
    return verdict_key(blob, path, b"", salt)


def verdict_key(blob: str, path: str, checks: bytes, salt: str) -> bytes:
    """The cache key of "``checks`` passed on ``path`` holding ``blob``" (``blob`` is
    ``"<mode> <blob id>"``, ``checks`` is ``checks_signature``, ``salt`` is ``versions()``)."""
    text = f"{blob}\0{path}\0".encode("utf-8", "surrogateescape") + checks + b"\0"
    return digest(text + salt.encode())


#: Per process: git's answers for the run named by a token (the checks of one run ask
#: the same question; nothing the run does changes the answer: fixes are written after
#: it). A few runs are kept.
_PATHSPEC_MAX = 1000
_BLOBS: dict[tuple[str, str, bool, tuple[str, ...] | None], _Index] = {}


class _Index:
    """git's answers about the index for some paths (all of it when asked about many):
    ``listing`` is ``git ls-files -s -v -z``'s output, ``dirty`` the paths whose working
    copy differs (``git diff-files``); ``blobs`` parses the listing once, when asked."""

    __slots__ = ("listing", "dirty", "_blobs")

    def __init__(self, listing: bytes, dirty: frozenset[str]) -> None:
        self.listing = listing
        self.dirty = dirty
        self._blobs: dict[str, str] | None = None

    def blobs(self) -> dict[str, str]:
        """``path -> "<mode> <blob id>"`` of the paths git vouches for."""
        if self._blobs is None:
            from omnibase._io.git import text

            out: dict[str, str] = {}
            dirty = self.dirty
            for record in text(self.listing).split("\0"):
                meta, _, path = record.partition("\t")
                parts = meta.split(" ")
                # a plain entry at stage 0 (not unmerged, assume-unchanged or skip-worktree), unchanged
                if len(parts) != 4 or parts[0] != "H" or parts[3] != "0" or path in dirty:
                    continue
                out[path] = f"{parts[1]} {parts[2]}"
            self._blobs = out
        return self._blobs


def blob_ids(root: str, paths: Sequence[str], *, worktree_is_index: bool = False, token: str = "") -> dict[str, str]:
    """``path -> "<mode> <blob id>"`` for those of ``paths`` whose working copy is what the
    index holds (two git calls, one when the caller knows the working tree holds the
    index's content; a path git cannot vouch for is left out). With a ``token`` (the run's
    id), the same question is asked once per process and run."""
    index = _index(root, paths, worktree_is_index, token)
    if index is None:  # no answer: no cache for this run
        return {}
    known = index.blobs()
    return {p: known[p] for p in paths if p in known}


def selection_key(
    root: str, paths: Sequence[str], signature: bytes, added: frozenset[str] = frozenset(), *,
    worktree_is_index: bool = False, token: str = "",
) -> bytes | None:
    """The key of the selection record of checks ``signature`` (``checks_signature``) over
    ``paths`` with ``added`` staged for addition, or None when there is none to have: too
    few paths (git is asked about them alone, not the whole index), no answer from git,
    or a path whose working copy differs from the index."""
    if len(paths) <= _PATHSPEC_MAX:
        return None
    index = _index(root, paths, worktree_is_index, token)
    if index is None or not index.dirty.isdisjoint(paths):
        return None
    listed = "\0".join(paths).encode("utf-8", "surrogateescape")
    staged = "\0".join(sorted(added)).encode("utf-8", "surrogateescape")
    parts = (b"selection", versions().encode(), signature, listed, index.listing, staged)
    return digest(b"".join(len(part).to_bytes(8, "big") + part for part in parts))


def forget_answers(token: str) -> None:
    """Drop git's answers kept for the run ``token``."""
    for key in [k for k in _BLOBS if k[1] == token]:
        del _BLOBS[key]


def _index(root: str, paths: Sequence[str], worktree_is_index: bool, token: str) -> _Index | None:
    many = len(paths) > _PATHSPEC_MAX
    if not token:
        return _ask_index(root, () if many else paths, worktree_is_index)
    memo_key = (os.path.abspath(root), token, worktree_is_index, None if many else tuple(paths))
    known = _BLOBS.get(memo_key)
    if known is None:
        answer = _ask_index(root, () if many else paths, worktree_is_index)
        if answer is None:
            return None
        if len(_BLOBS) >= 8:
            _BLOBS.clear()
        known = _BLOBS[memo_key] = answer
    return known


def _ask_index(root: str, paths: Sequence[str], worktree_is_index: bool) -> _Index | None:
    """git's answers about ``paths`` (none: the whole index); both questions asked at once."""
    from returns.result import Failure

    from omnibase._io.git import Pending, zsplit

    spec = ["--", *paths] if paths else []
    staged = Pending(["--literal-pathspecs", "ls-files", "-s", "-v", "-z", *spec], root)
    dirty = None if worktree_is_index else Pending(["--literal-pathspecs", "diff-files", "--name-only", "-z", *spec], root)
    listing = staged.answer()
    changed = dirty.answer() if dirty is not None else None
    if isinstance(listing, Failure) or isinstance(changed, Failure):
        return None
    return _Index(listing.unwrap(), frozenset(zsplit(changed.unwrap())) if changed is not None else frozenset())


#: Per process: the records read in a run, by (store, run token); a few runs kept.
_READ: dict[tuple[str, str], dict[bytes, Record | None]] = {}


class VerdictCache:
    """The store of passing verdicts of one repository (see the module's docstring).
    With a ``token`` (the run's id), records read are kept for the run's other checks."""

    def __init__(self, path: str, token: str = "") -> None:
        self.path = path
        self.in_state = False
        self._db: Any = None
        self._memo: dict[bytes, Record | None] = {}
        if token:
            if (path, token) not in _READ and len(_READ) >= 4:
                _READ.clear()
            self._memo = _READ.setdefault((path, token), {})

    @classmethod
    def for_git_dir(cls, git_dir: str, token: str = "") -> VerdictCache:
        from omnibase._io.state import cache_file, state_dir

        cache = cls(cache_file(state_dir(git_dir)), token)
        cache.in_state = True
        return cache

    def records(self, keys: Mapping[str, bytes]) -> dict[str, Record]:
        """Of ``keys`` (path -> record key), the paths the cache has a record of."""
        wanted = [k for k in keys.values() if k not in self._memo]
        if wanted:
            found = self.hits(wanted)
            for key in wanted:
                self._memo[key] = found.get(key)
        memo = self._memo
        return {path: record for path, key in keys.items() if (record := memo.get(key)) is not None}

    def passed(self, keys: Mapping[str, bytes], signature: bytes) -> dict[str, Known]:
        """Of ``keys`` (path -> record key), the paths on which the checks of
        ``signature`` passed before, with what is known."""
        out: dict[str, Known] = {}
        for path, record in self.records(keys).items():
            known = record.known(signature)
            if known is not None:
                out[path] = known
        return out

    def learn(self, learned: Mapping[bytes, Known], signature: bytes) -> None:
        """Add to the records of ``learned`` that the checks of ``signature`` passed."""
        rows: dict[bytes, Record] = {}
        for key, known in learned.items():
            record = self._memo.get(key)
            if record is None or record.tags != known.tags or record.size != known.size:
                record = Record(tags=known.tags, size=known.size)
                self._memo[key] = record
            record.passed.pop(signature, None)
            record.passed[signature] = known.checks  # the newest last
            while len(record.passed) > MAX_SIGNATURES:
                del record.passed[next(iter(record.passed))]
            rows[key] = record
        self.add(rows)

    def _connect(self) -> Any:
        import sqlite3

        from omnibase._io.state import make_state_dir

        if self.in_state:  # under .git/omnibase: checked as every writer there checks it
            made = make_state_dir(os.path.dirname(self.path))
            if made.value_or(None) is None:
                raise OSError(made.failure().message)
        else:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        db.execute(_SQL["wal"])
        db.execute(_SQL["no_sync"])
        db.execute(_SQL["make_ok"])
        db.execute(_SQL["make_ok_used"])
        db.execute(_SQL["make_runs"])
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
                self._db.execute(_SQL["shape_ok"]).fetchone()  # the expected shape
                self._db.execute(_SQL["shape_runs"]).fetchone()
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

    def hits(self, keys: Iterable[bytes]) -> dict[bytes, Record]:
        """Those of ``keys`` that are in the cache, with their records."""
        import sqlite3

        wanted = list(dict.fromkeys(keys))
        db = self._open() if wanted else None
        if db is None:
            return {}
        found: dict[bytes, Record] = {}
        stale: dict[bytes, bytes] = {}
        old = time.time_ns() - _REFRESH_NS
        try:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for key, known, used in db.execute(_SQL["get_ok"].format(marks=marks), chunk):
                    try:
                        found[key] = _DECODER.decode(known)
                    except msgspec.DecodeError:
                        continue  # a damaged row is a miss
                    if used < old:
                        stale[key] = known
        except sqlite3.DatabaseError:
            return {}
        if stale:
            self._store(stale)  # refresh their age (at most once a day: a write costs)
        return found

    def add(self, learned: Mapping[bytes, Record]) -> None:
        """Store these records; keep the store within ``MAX_ENTRIES``."""
        if learned and self._open() is not None:
            self._store({k: _ENCODER.encode(v) for k, v in learned.items()})

    def _store(self, rows: Mapping[bytes, bytes]) -> None:
        import sqlite3

        now = time.time_ns()
        try:
            db = self._db
            db.execute(_SQL["begin"])
            db.executemany(
                _SQL["put_ok"], ((k, v, now) for k, v in rows.items())
            )
            (count,) = db.execute(_SQL["count_ok"]).fetchone()
            if count > MAX_ENTRIES:
                db.execute(
                    _SQL["trim_ok"], (count - MAX_ENTRIES,)
                )
            db.execute(_SQL["commit"])
        except sqlite3.DatabaseError:  # busy for too long, or the disk is full: just a miss next time
            try:
                self._db.execute(_SQL["rollback"])
            except sqlite3.DatabaseError:
                pass

    def selection(self, key: bytes) -> Selection | None:
        """The selection record of ``key`` (``selection_key``), if the store has it."""
        import sqlite3

        db = self._open()
        if db is None:
            return None
        try:
            row = db.execute(_SQL["get_run"], (key,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        if row is None:
            return None
        try:
            found = _SELECTION.decode(row[0])
        except msgspec.DecodeError:
            return None  # a damaged row is a miss
        if row[1] < time.time_ns() - _REFRESH_NS:
            self.keep_selection(key, found)  # refresh its age (at most once a day: a write costs)
        return found

    def keep_selection(self, key: bytes, selection: Selection) -> None:
        """Store the selection record of ``key``; keep at most ``MAX_SELECTIONS``."""
        import sqlite3

        db = self._open()
        if db is None:
            return
        try:
            db.execute(_SQL["begin"])
            db.execute(_SQL["put_run"],
                       (key, _ENCODER.encode(selection), time.time_ns()))  # fmt: skip
            db.execute(
                _SQL["trim_runs"],
                (MAX_SELECTIONS,),
            )
            db.execute(_SQL["commit"])
        except sqlite3.DatabaseError:  # busy for too long, or the disk is full: a miss next time
            try:
                db.execute(_SQL["rollback"])
            except sqlite3.DatabaseError:
                pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _busy(exc: Exception) -> bool:
    # SQLITE_BUSY reads "database is locked", SQLITE_LOCKED "database table is locked"
    return "locked" in str(exc)
