"""The edge of the built-in checks: reads files, asks git, spreads work, writes fixes.

``run_builtin_checks`` reads each file once, classifies it once (identify, as pre-commit
does), runs every selected per-file check that applies to it on those bytes, and spreads
the files over worker processes in chunks. Fixers run first and in table order, each on
the previous fixer's output (as consecutive pre-commit hooks would), so their edits form
a chain per file; the other checks see the file as it is on disk. The whole-set checks
(added large files, case conflicts) run in the calling process on facts from git.
Nothing is written: ``apply_edits`` does that, separately and atomically.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import msgspec

from omnibase.builtins._checks import _fail
from omnibase.builtins._classify import (
    CHECKS, HEAD_BYTES, CheckSpec, executable, matches, parse_options, tags_from,
)
from omnibase.builtins._values import Edit, MergeConflictOpts, RepoFacts, Verdict, sha256

if TYPE_CHECKING:
    from omnibase.builtins._cache import Known, VerdictCache

__all__ = ["ScopedCheck", "apply_edits", "run_scoped_checks", "release_pool", "run_builtin_checks"]

#: Below this many files the work stays in the calling process: starting worker
#: processes costs 10-20 ms (fork) and more where they must be spawned.
MIN_FILES_FOR_POOL = 64
MIN_FILES_FOR_POOL_AFTER_CACHE = 256

T = TypeVar("T")
#: path, identify tags (None: unknown), size, stat key (None: not known)
_Info = tuple[str, "frozenset[str] | None", int, "_StatKey | None"]


def _fallback_tags(path: str) -> frozenset[str]:
    # the file exists but could not be classified: assume what its name says, and text
    from identify.identify import tags_from_filename

    return frozenset({"file", "text"} | tags_from_filename(os.path.basename(path)))


#: path -> what the verdict cache knows of it as it is: every applicable check passed
_Passed = Mapping[str, "Known"]


class ScopedCheck(NamedTuple):
    """One check of a pass: its name, parsed options, and the files it sees (``files``:
    a regex searched in the path, empty for every path; ``exclude``: likewise, empty for
    none) beyond its types."""

    check: str
    opts: Any
    files: str = ""
    exclude: str = ""


#: (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns, st_mode): what a file's tags
#: depend on (a change of content, mode or identity changes one of them)
_StatKey = tuple[int, int, int, int, int, int]


def _stat_key(st: os.stat_result) -> _StatKey:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


#: Per process: full path -> (its stat key, identify's tags, its size). A check that
#: follows another in the same process does not classify the same files again; a file
#: whose stat changed is classified anew. Bounded (cleared when full).
_TAGS: dict[str, tuple[_StatKey, frozenset[str], int]] = {}
_TAGS_MAX = 200_000


def _selected(stage: ScopedCheck, path: str) -> bool:
    import re

    return (not stage.files or re.search(stage.files, path) is not None) and not (
        stage.exclude and re.search(stage.exclude, path) is not None
    )


class Tally(NamedTuple):
    """What checking some files found, compactly (a run of 50,000 files and eleven checks
    would otherwise carry half a million passing verdicts between processes): each file's
    info; per file, a bit mask of the reported stages that applied (bit ``i``:
    ``stages[emit_from + i]``); and the verdicts that say more than their bit (failing,
    with findings, or with an edit), each with its stage's bit number."""

    infos: list[_Info]
    applied: list[int]
    notable: list[tuple[int, Verdict]]
    #: the files whose first bytes were read, and of them those that start with ``#!``
    #: (what the shebang checks ask: they need not open a file again)
    started: list[str]
    shebang: list[str]


def _mask(
    specs: Sequence[CheckSpec], stages: Sequence[ScopedCheck], tags: frozenset[str], path: str, memo: dict[frozenset[str], int] | None,
) -> int:
    """The bit mask of ``stages`` (with their ``specs``) that see a file of these tags at
    ``path``; ``memo`` (by tags) when no stage narrows by path."""
    if memo is not None:
        found = memo.get(tags)
        if found is not None:
            return found
    mask = 0
    for i, (spec, stage) in enumerate(zip(specs, stages)):
        if matches(spec, tags) and _selected(stage, path):
            mask |= 1 << i
    if memo is not None:
        memo[tags] = mask
    return mask


def _check_chunk(
    root: str, stages: Sequence[ScopedCheck], emit_from: int, paths: Sequence[str], passed: _Passed = {},
    tagged: Mapping[str, tuple[frozenset[str], int, _StatKey]] = {}, starts: bool = False, keys: bool = True,
) -> Tally:
    """Classify, read and check ``paths`` (a worker's unit of work). Never raises.

    Only the verdicts of ``stages[emit_from:]`` are reported; the stages before are fixers
    whose output the later fixers start from (a fixer sees the file as the fixers before
    it, where they apply, would leave it; any other check sees it as it is). Each file is
    opened at most once: the bytes that classify it are the bytes the checks get, and a
    file no stage applies to is read only as far as its classification needs. A file in
    ``passed`` is not touched (its classification and passing verdicts are known), one in
    ``tagged`` is not classified again. ``starts``: note which files' first bytes were
    read and which start with ``#!`` (``Tally.started``, ``Tally.shebang``). ``keys``: give
    each file's stat key in its info (for the classification memo; else None)."""
    specs = [CHECKS[s.check] for s in stages]
    #: mask -> the stages it runs, in order: (bit, function, options, is a fixer, name)
    plans: dict[int, list[tuple[int, Callable[..., Verdict], Any, bool, str]]] = {}
    by_tags: dict[frozenset[str], int] | None = {} if not any(s.files or s.exclude for s in stages) else None
    shift = emit_from
    tally = Tally([], [], [], [], [])
    infos, applied, notable, started, shebang = tally
    prefix = os.path.join(root, "")
    for path in paths:
        hit = passed.get(path) if passed else None
        if hit is not None:
            infos.append((path, hit.tags, hit.size, None))
            applied.append(_mask(specs, stages, hit.tags, path, by_tags) >> shift)
            continue
        full = prefix + path
        reason = ""
        key: _StatKey | None = None
        known = tagged.get(path) if tagged else None
        tags: frozenset[str] | None
        head = _Head(full)
        try:
            if known is not None:
                tags, size, key = known
                head.size = size
            else:
                try:
                    st = os.lstat(full)
                    size = head.size = st.st_size
                    key = _stat_key(st) if keys else None
                    kind = stat.S_IFMT(st.st_mode)
                    if kind in _BLOCKING:
                        raise OSError("not a regular file")  # reading one could block forever
                    runnable = kind == stat.S_IFREG and st.st_mode & 0o111 != 0 and executable(full, st.st_mode)
                    tags = tags_from(full, st.st_mode, runnable, head)
                except (FileNotFoundError, ValueError):
                    continue  # gone: pre-commit passes only paths that exist
                except Exception as exc:  # OSError mostly (no permission to read)
                    size, tags, key = 0, None, None
                    reason = f"{path}: cannot classify: {getattr(exc, 'strerror', None) or exc}"
            infos.append((path, tags, size, key))
            mask = by_tags.get(tags) if by_tags is not None and tags is not None else None
            if mask is None:
                mask = _mask(specs, stages, tags if tags is not None else _fallback_tags(full), path, by_tags)
            applied.append(mask >> shift)
            start = head.start
            noted = start is not None or not starts  # classifying read its start, or no one asks
            if start is not None and starts:
                started.append(path)
                if start[:2] == b"#!":
                    shebang.append(path)
            if mask >> shift == 0:
                continue  # nothing to report on this file: not read further
            content = b""
            if tags is not None:
                try:
                    content = head.whole()
                except (OSError, MemoryError) as exc:
                    reason = f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc or type(exc).__name__}"
                    tags = None
            if tags is None:
                notable.extend(
                    (i - shift, _fail(specs[i].name, path, reason)) for i in range(shift, len(specs)) if mask >> i & 1
                )
                continue
            if not noted:
                started.append(path)
                if content[:2] == b"#!":
                    shebang.append(path)
            current = content
            plan = plans.get(mask)
            if plan is None:
                plan = plans[mask] = [
                    (i, spec.fn, stages[i].opts, spec.is_fixer, spec.name) for i, spec in enumerate(specs) if mask >> i & 1
                ]
            for i, fn, opts, is_fixer, name in plan:
                try:
                    verdict = fn(path, current if is_fixer else content, opts)
                except Exception as exc:  # a bug in a check must not stop the run
                    verdict = _fail(name, path, f"{path}: {name} crashed: {type(exc).__name__}: {exc}")
                if verdict.edit is not None:
                    current = verdict.edit.content
                if i >= shift and (not verdict.ok or verdict.findings or verdict.edit is not None):
                    notable.append((i - shift, verdict))
        finally:
            head.close()
    return tally


_BLOCKING = frozenset({stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK})


#: How a file is opened for its content (the lstat before said it is a regular file).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


class _Head:
    """A file's content, read once and as far as asked: ``__call__`` gives its start (all of
    a small file: one read serves classifying and checking), ``whole`` all of it (the rest
    read from where the start ended). ``size``: what ``lstat`` said (-1: not known), so a
    small file takes one ``read`` of exactly its size (plus one byte, to see that it did
    not grow); the reads are the operating system's own (``os.read``: no file object, no
    ``fstat`` of its own), a short read taken as the end of the file, as ``FileIO`` takes it."""

    __slots__ = ("fd", "full", "size", "start")

    def __init__(self, full: str, size: int = -1) -> None:
        self.full = full
        self.size = size
        self.fd = -1
        self.start: bytes | None = None

    def __call__(self) -> bytes:
        if self.start is None:
            self.fd = os.open(self.full, _READ_FLAGS)
            want = self.size + 1 if 0 <= self.size < HEAD_BYTES else HEAD_BYTES
            start = os.read(self.fd, want)
            if len(start) == want < HEAD_BYTES:  # it grew since: the start is HEAD_BYTES, as asked
                start += os.read(self.fd, HEAD_BYTES - want)
            self.start = start
            if len(start) < HEAD_BYTES:  # the whole file: nothing more to read
                self.close()
        return self.start

    def whole(self) -> bytes:
        if self.start is None and self.size >= HEAD_BYTES:
            # a large file whose start nobody asked for (its name decided its tags): one
            # read of all of it, not its start and then the rest joined to it (a copy)
            self.fd = os.open(self.full, _READ_FLAGS)
            parts = [os.read(self.fd, self.size + 1)]
            while parts[-1]:  # to the end: a read stops short at 2 GiB, or where it grew
                parts.append(os.read(self.fd, HEAD_BYTES))
            self.close()
            self.start = parts[0] if len(parts) == 2 else b"".join(parts)
            return self.start
        start = self()
        if self.fd < 0:
            return start
        parts = [start]
        want = max(self.size - len(start), 0) + 1  # the rest as lstat saw it, and one byte more
        while True:
            more = os.read(self.fd, max(want, HEAD_BYTES))
            if not more:
                break
            parts.append(more)
            want = 0
        self.close()
        self.start = b"".join(parts) if len(parts) > 1 else start  # asked again: the same bytes
        return self.start

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _verdicts(stages: Sequence[ScopedCheck], tally: Tally) -> list[Verdict]:
    """Every verdict of ``tally`` (whose bits number ``stages``), the passing ones made
    from their bits."""
    notable = {(i, v.path): v for i, v in tally.notable}
    out = list(notable.values())
    for (path, _, _, _), mask in zip(tally.infos, tally.applied):
        i = 0
        while mask:
            if mask & 1 and (i, path) not in notable:
                out.append(Verdict(check=stages[i].check, path=path, ok=True))
            mask >>= 1
            i += 1
    return out


def _jobs(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _mp_context() -> Any:
    """How ``ExecutorPool`` starts its workers, for a caller that may not fork: from a
    fork server where there is one, else spawned."""
    import multiprocessing

    return multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")


def _in_worker_call() -> bool:
    """Whether this process is an omnibase worker (or a Dask worker) running a call: its
    checks then stay in it (no pool of its own: the worker is the unit of parallelism,
    and threads it leaves behind would retire it)."""
    worker = sys.modules.get("omnibase.drivers.isolation.worker")
    return bool(worker is not None and worker._in_call[0])


#: The process pool the checks of a run share (started on first need, reused; one per
#: process, so a worker process never starts one of its own).
_POOL: list[Any] = []
_POOL_LOCK = threading.Lock()
_exit_hooked: list[bool] = []


#: Pools told to stop without waiting (``close_pool_soon``, a broken pool): their workers
#: are reaped by ``release_pool`` (or before another pool starts).
_CLOSING: list[Any] = []


def _pool(jobs: int) -> Any:
    """The shared pool (``omnibase.builtins._forkpool``): workers forked from this process
    when the caller is its one thread once our own threads stepped aside (the progress
    line: ``omnibase._io.forks``), else started by ``multiprocessing``."""
    with _POOL_LOCK:
        _join_closing()
        if _POOL and (_POOL[0][1] < jobs or _POOL[0][2] != os.getpid()):
            _drop_pool()
        if not _POOL:
            from omnibase._io.forks import alone
            from omnibase.builtins._forkpool import ExecutorPool, ForkPool

            with alone() as single:
                if single and hasattr(os, "fork"):
                    pool: Any = ForkPool(jobs, _worker_setup)
                else:
                    pool = ExecutorPool(jobs, _mp_context(), _pool_worker)
            _POOL.append((pool, jobs, os.getpid()))
            if not _exit_hooked:
                import atexit

                atexit.register(_shutdown_pool)
                _exit_hooked.append(True)
        return _POOL[0][0]


def _drop_pool(wait: bool = False) -> None:
    if _POOL:
        pool, _, pid = _POOL.pop()
        if pid == os.getpid():
            pool.close(wait=wait)
            if not wait:
                _CLOSING.append(pool)


def _shutdown_pool() -> None:
    with _POOL_LOCK:
        _drop_pool()


def release_pool() -> None:
    """Stop the shared pool's workers and wait for them (the end of a run: a command that
    then leaves with ``os._exit`` leaves no worker holding its output pipes)."""
    with _POOL_LOCK:
        _drop_pool(wait=True)
        _join_closing()


def close_pool_soon() -> None:
    """Tell the shared pool's workers, idle now, to exit, and go on without waiting for
    them: they exit while the run reports (on a large tree a worker takes 5-25 ms to free
    its memory and leave), and ``release_pool`` waits for what is left of that. A later
    need of a pool in this process starts a new one."""
    with _POOL_LOCK:
        if not _POOL or _POOL[0][2] != os.getpid():
            return
        _drop_pool(wait=False)


def _join_closing() -> None:
    while _CLOSING:
        _CLOSING.pop().reap()


def _worker_setup() -> None:
    """A pool worker's set-up: Ctrl-C is the parent's to handle (it stops the pool), and
    freed memory is kept for the next file."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _keep_freed_memory()


def _pool_worker() -> None:
    """``_worker_setup`` in a worker started by ``multiprocessing``, and a thread that ends
    the worker once its parent is gone (killed, or left with ``os._exit``); a forked
    worker watches for that while it waits for work."""
    _worker_setup()
    parent = os.getppid()

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="omnibase-orphan-watch", daemon=True).start()


#: glibc's ``mallopt`` parameters (malloc.h): free memory at the top of the heap is given
#: back above ``_TRIM`` bytes; blocks from ``_MMAP`` bytes up get pages of their own.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_TRIM, _MMAP = 1 << 30, 32 << 20  # (32 MiB: the most glibc takes on 64-bit systems)


def _keep_freed_memory() -> None:
    """In a pool worker on glibc: keep freed memory for the next file instead of giving
    it back to the system at once. By default glibc returns the top of the heap when
    128 KiB of it is free, and gives every block over 128 KiB (a file's bytes, the
    parser's growing lists) pages of its own, returned when freed; so each file parsed
    takes its memory from the kernel again, one page fault per 4 KiB page touched (on
    the standard library, 60,000 faults and 0.1 s of system time over 1,800 files). A
    worker lives for one run, and its heap stays near what its largest file needed.
    Elsewhere (another C library, no ``ctypes``) nothing changes."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError, ImportError):  # not glibc, or no confstr/ctypes
        return
    mallopt(_M_TRIM_THRESHOLD, _TRIM)
    mallopt(_M_MMAP_THRESHOLD, _MMAP)


def _run_files(
    root: str, stages: Sequence[ScopedCheck], emit_from: int, paths: Sequence[str], jobs: int, passed: _Passed = {},
    remember: bool = True, meanwhile: Callable[[], None] | None = None, starts: bool = False, last: bool = False,
) -> Tally:
    """Check ``paths`` (see ``_check_chunk``): what this process classified before is not
    classified again, a file no reported check applies to is not sent anywhere, and what
    is left is spread over the shared pool when there is enough of it. ``remember``: use and
    fill the per-process classification memo (``_TAGS``: for checks that each run alone;
    a pass that serves every check of a run has no one to share it with). ``meanwhile``:
    called once the work is under way (after the worker processes are forked), to start
    what can run beside it. ``starts``: see ``_check_chunk``. ``last``: the run asks the
    pool for nothing more (``close_pool_soon`` once every chunk is back)."""
    infos: list[_Info] = []
    applied: list[int] = []
    todo: list[str] = []
    tagged: dict[str, tuple[frozenset[str], int, _StatKey]] = {}
    specs = [CHECKS[s.check] for s in stages[emit_from:]]
    for path in paths if remember else ():
        if path in passed:
            todo.append(path)
            continue
        full = os.path.join(root, path)
        memo = _TAGS.get(full)
        if memo is None:
            todo.append(path)
            continue
        try:
            key = _stat_key(os.lstat(full))
        except OSError:
            todo.append(path)
            continue
        if key != memo[0]:
            todo.append(path)
            continue
        tags, size = memo[1], memo[2]
        if any(matches(spec, tags) and _selected(st, path) for spec, st in zip(specs, stages[emit_from:])):
            tagged[path] = (tags, size, key)
            todo.append(path)
        else:  # known, and nothing reported applies to it
            infos.append((path, tags, size, key))
            applied.append(0)
    if not remember:
        todo = list(paths)
    if passed:  # the cache knows most of the tree: what is left is mostly what failed last
        left = sum(1 for p in todo if p not in passed)  # time, rarely worth the workers
        jobs = 1 if left < MIN_FILES_FOR_POOL_AFTER_CACHE else jobs
    if jobs == 1 or len(todo) < MIN_FILES_FOR_POOL or _in_worker_call():
        if meanwhile is not None:
            meanwhile()
        alone = _check_chunk(root, stages, emit_from, todo, passed, tagged, starts, remember)
        return _joined(root, [Tally(infos, applied, [], [], []), alone], remember)

    def args(chunk: Sequence[str]) -> tuple[Any, ...]:
        return (root, stages, emit_from, chunk, {p: passed[p] for p in chunk if p in passed} if passed else {},
                {p: tagged[p] for p in chunk if p in tagged} if tagged else {}, starts, remember)  # fmt: skip

    chunks = _chunks(todo, jobs)
    results: list[Tally | None] = [None] * len(chunks)
    began: list[bool] = []

    def started() -> None:
        began.append(True)
        if meanwhile is not None:
            meanwhile()

    try:
        pool = _pool(jobs)
        results = pool.run(_check_chunk, [args(chunk) for chunk in chunks], started=started, last=last)
        if any(r is None for r in results):  # a worker died or the pool broke: those chunks are redone here
            with _POOL_LOCK:
                _drop_pool()
        if last:
            close_pool_soon()
    except (OSError, ImportError, RuntimeError):  # no processes to be had (limits, no /dev/shm)
        pass
    if meanwhile is not None and not began:
        meanwhile()
    done = [r if r is not None else _check_chunk(*args(chunks[i])) for i, r in enumerate(results)]
    return _joined(root, [Tally(infos, applied, [], [], []), *done], remember)


def _chunks(todo: Sequence[str], jobs: int) -> list[Sequence[str]]:
    """``todo`` cut into the pool's units of work, in order, each a share of what is left
    (guided scheduling): large while much is left (fewer round trips), shrinking towards
    the end, so that no worker is left with a large chunk while the others have nothing
    more to take (a few large files at the end of a chunk cost more than a thousand small
    ones). Never below 16 files (pickling would dominate), never above 512."""
    chunks: list[Sequence[str]] = []
    i, n = 0, len(todo)
    while i < n:
        size = max(16, min(512, (n - i) // (jobs * 4)))
        chunks.append(todo[i : i + size])
        i += size
    return chunks


def _joined(root: str, tallies: Sequence[Tally], remember: bool = True) -> Tally:
    """One tally of several, what they learnt of the files' classification kept for the
    next check of this process (``_remember``)."""
    out = Tally([], [], [], [], [])
    for t in tallies:
        for mine, theirs in zip(out, t):
            mine.extend(theirs)  # type: ignore[attr-defined]
    if remember:
        _remember(root, out.infos)
    return out


def _remember(root: str, infos: list[_Info]) -> list[_Info]:
    """Keep what was learnt of the files' classification for the next check (``_TAGS``)."""
    if len(_TAGS) > _TAGS_MAX:
        _TAGS.clear()
    for path, tags, size, key in infos:
        if tags is not None and key is not None:
            _TAGS[os.path.join(root, path)] = (key, tags, size)
    return infos


# --- git facts (the reference asks git the same questions) ----------------------------


def _zsplit(out: str | None) -> list[str]:
    from omnibase._io.git import zsplit as split

    return split(out or "")


def _git(root: str, *args: str, stdin: bytes | None = None) -> str | None:
    from returns.result import Success

    from omnibase._io.git import git, text

    done = git(args, root, stdin=stdin)
    return text(done.unwrap()) if isinstance(done, Success) else None


def git_in_merge(root: str, git_dir: str | None = None) -> bool:
    """Whether git is mid-merge (or mid-rebase with a merge message), as the reference
    decides: ``MERGE_MSG`` and one of ``MERGE_HEAD``, ``rebase-apply``, ``rebase-merge``.
    ``git_dir``, when the caller knows it, saves asking git."""
    if git_dir is None:
        from omnibase._io.git import repo_paths

        git_dir = repo_paths(root).map(lambda p: p.git_dir).value_or("")
        if not git_dir:
            return False
    base = os.path.join(root, git_dir)
    return os.path.exists(os.path.join(base, "MERGE_MSG")) and any(
        os.path.exists(os.path.join(base, name)) for name in ("MERGE_HEAD", "rebase-apply", "rebase-merge")
    )


def git_added(root: str) -> frozenset[str]:
    """Paths staged for addition (``git diff --staged --diff-filter=A``)."""
    return frozenset(_zsplit(_git(root, "diff", "--staged", "--name-only", "--diff-filter=A", "-z")))


def git_tracked(root: str) -> frozenset[str]:
    """Every path in the index (``git ls-files``)."""
    return frozenset(_zsplit(_git(root, "ls-files", "-z")))


def git_lfs(root: str, paths: Iterable[str]) -> frozenset[str]:
    """Those of ``paths`` whose git ``filter`` attribute is ``lfs``."""
    wanted = list(paths)
    if not wanted:
        return frozenset()
    listing = "\0".join(wanted).encode("utf-8", "surrogateescape")
    out = _zsplit(_git(root, "check-attr", "filter", "-z", "--stdin", stdin=listing))
    return frozenset(out[i] for i in range(0, len(out) - 2, 3) if out[i + 2] == "lfs")


def _run_sets(
    root: str, checks: Sequence[tuple[CheckSpec, Any]], infos: Sequence[_Info],
    added: frozenset[str] | None = None, tracked: Callable[[], frozenset[str]] | None = None,
    starts: tuple[frozenset[str], frozenset[str]] | None = None, outside: set[str] | None = None,
) -> list[Verdict]:
    """``outside`` receives the names of the checks whose verdicts depended on more than
    the files and the index (git's attributes: which large files are LFS files)."""
    verdicts: list[Verdict] = []
    for spec, o in checks:
        paths = _seen_by(spec, infos)
        if not paths and not spec.always_run:
            continue
        if spec.name == "check-added-large-files":
            sizes = {p: s for p, t, s, _ in infos if t is not None}
            added = git_added(root) if added is None and not o.enforce_all else added
            big = [p for p in paths if -(-sizes.get(p, 0) // 1024) > o.maxkb or p not in sizes]
            candidates = big if o.enforce_all else [p for p in big if p in (added or ())]
            if candidates and outside is not None:
                outside.add(spec.name)
            facts = RepoFacts(paths=paths, sizes=sizes, added=added or frozenset(), lfs=git_lfs(root, candidates))
        elif spec.name == "check-case-conflict":
            added = git_added(root) if added is None else added
            facts = RepoFacts(paths=paths, added=added, tracked=tracked() if tracked else git_tracked(root))
        else:
            from omnibase.builtins._facts import repo_facts

            facts = repo_facts(root, spec.name, paths, starts)
        verdicts.extend(spec.fn(facts, o))
    return verdicts


def _seen_by(spec: CheckSpec, infos: Sequence[_Info]) -> tuple[str, ...]:
    """The paths of ``infos`` that check ``spec`` receives by their tags (``select``,
    decided once per set of tags: a tree's files share a few dozen; a file that could not
    be classified by what its name says)."""
    seen = {tags: matches(spec, tags) for tags in {info[1] for info in infos} if tags is not None}
    return tuple([
        path for path, tags, _, _ in infos
        if (seen[tags] if tags is not None else matches(spec, _fallback_tags(path)))
    ])  # fmt: skip


def is_file_check(name: str) -> bool:
    """Whether built-in ``name`` judges each file alone (rather than the whole set)."""
    return CHECKS[name].scope == "file"


def judge_set(
    root: str, stage: ScopedCheck, infos: Sequence[_Info], added: frozenset[str] | None,
    tracked: Callable[[], frozenset[str]] | None = None, starts: tuple[frozenset[str], frozenset[str]] | None = None,
    outside: set[str] | None = None,
) -> list[Verdict]:
    """The verdicts of whole-set check ``stage`` on the classified files ``infos`` that
    it sees (its types, its ``files``/``exclude``); ``added``/``tracked``: git's answers
    when the caller has them (else git is asked); ``starts``: the files whose first bytes
    are known, and of them those starting with ``#!`` (the others are opened to see);
    ``outside``: see ``_run_sets``."""
    if stage.files or stage.exclude:
        infos = [i for i in infos if _selected(stage, i[0])]
    return _run_sets(root, [(CHECKS[stage.check], stage.opts)], infos, added, tracked, starts, outside)


def run_builtin_checks(
    paths: Sequence[str],
    check_names: Sequence[str],
    *,
    root: str,
    jobs: int | None = None,
    opts: Mapping[str, Mapping[str, object]] | None = None,
    cache: VerdictCache | None = None,
    stats: dict[str, int] | None = None,
    git_dir: str | None = None,
    worktree_is_index: bool = False,
    added: frozenset[str] | None = None,
) -> tuple[Verdict, ...]:
    """Run the named built-in checks over ``paths`` (relative to ``root``); nothing is written.

    Returns one verdict per (check, file it applies to), ordered by the checks' order in
    ``CHECKS`` and then by path. A file that cannot be read yields failing verdicts, a
    file that no longer exists is skipped (as pre-commit does); no bad file raises.
    ``opts`` maps a check name to its options (see ``omnibase.builtins._values``).
    Fixers run in table order, each on the previous one's output (``run_scoped_checks``).
    ``jobs`` caps the worker processes (default: the usable cores; 1: in-process).
    With a ``cache``, a file on which every selected per-file check passed before, with
    the same content (see ``omnibase.builtins._cache``), is not read again; ``stats`` then
    receives, per check, how many of its verdicts came from the cache. ``git_dir`` and
    ``worktree_is_index`` (the working tree of tracked files holds what the index does, as
    during a pre-commit run) and ``added`` (the paths staged for addition) are facts the
    caller may know, each saving a git call.
    Raises ``ValueError`` for an unknown check name or invalid options.
    """
    unknown = [n for n in check_names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown built-in check(s): {', '.join(unknown)}")
    wanted = set(check_names)
    stages = [ScopedCheck(s.name, parse_options(s.name, (opts or {}).get(s.name))) for s in CHECKS.values() if s.name in wanted]
    return run_scoped_checks(
        paths, stages, root=root, jobs=jobs, cache=cache, stats=stats, git_dir=git_dir,
        worktree_is_index=worktree_is_index, added=added,
    )  # fmt: skip


def run_scoped_checks(
    paths: Sequence[str],
    stages: Sequence[ScopedCheck],
    emit_from: int = 0,
    *,
    root: str,
    jobs: int | None = None,
    cache: VerdictCache | None = None,
    stats: dict[str, int] | None = None,
    git_dir: str | None = None,
    worktree_is_index: bool = False,
    added: frozenset[str] | None = None,
    token: str = "",
    gone: set[str] | None = None,
) -> tuple[Verdict, ...]:
    """The verdicts of ``stages[emit_from:]`` over ``paths`` (see ``run_builtin_checks``);
    the paths that no longer exist (deleted since they were listed) are added to ``gone``.

    ``stages`` are in table order; those before ``emit_from`` are fixers that are not
    reported, run only so that the later fixers start from what they would leave. Each
    stage sees the files its types and its ``files``/``exclude`` select. ``token`` names
    the run: git's answers are remembered for the other checks of the same run.
    """
    if not stages[emit_from:]:
        return ()
    stages = _edge_scoped(stages, root, git_dir)
    emitted = stages[emit_from:]
    file_stages = [st for st in emitted if CHECKS[st.check].scope == "file"]
    unique = list(dict.fromkeys(paths))
    keys: dict[str, bytes] = {}
    passed: dict[str, Known] = {}
    signature = b""
    if cache is not None and file_stages:
        keys, passed, signature = _cached(cache, root, stages, emit_from, unique, worktree_is_index, token)
    elif cache is not None:  # whole-set checks: the tags and sizes the cache knows need no classifying
        from omnibase.builtins._cache import Known as _Known

        records = cache.records(_record_keys(root, unique, worktree_is_index, token))
        passed = {p: _Known(checks=(), tags=r.tags, size=r.size) for p, r in records.items()}
    if passed and len(file_stages) == len(emitted):  # no whole-set check needs every file's tags:
        unique = [p for p in unique if p not in passed or passed[p].checks]  # drop known files it does not apply to
    wanted = {st.check for st in emitted}
    tracked = None
    if "check-case-conflict" in wanted and len(unique) < MIN_FILES_FOR_POOL:
        # git lists the tracked files while the per-file checks run (no worker processes
        # below this size, so a thread cannot get in the way of forking them)
        tracked = _meanwhile(lambda: git_tracked(root))
    # classifying alone (for the whole-set checks) is too cheap to share out
    file_run = [st for st in stages if CHECKS[st.check].scope == "file"]
    first = len(file_run) - len(file_stages)
    tally = _run_files(root, file_run, first, unique, _jobs(jobs) if file_stages else 1, passed)
    infos = tally.infos
    verdicts = _verdicts(file_run[first:], tally)
    if gone is not None:  # a file is classified (an info) unless it could not be found
        gone.update(set(unique).difference(info[0] for info in infos))
    if cache is not None and keys:
        cache.learn(_learned(keys, file_run[first:], tally), signature)
    if stats is not None:
        for hit in passed.values():
            for name in hit.checks:
                stats[name] = stats.get(name, 0) + 1
    sets = [(CHECKS[st.check], st.opts) for st in emitted if CHECKS[st.check].scope == "set"]
    verdicts.extend(_run_sets(root, sets, infos, added, tracked))
    rank = {name: i for i, name in enumerate(CHECKS)}
    return tuple(sorted(verdicts, key=lambda v: (rank[v.check], v.path)))


def _edge_scoped(stages: Sequence[ScopedCheck], root: str, git_dir: str | None) -> list[ScopedCheck]:
    """``stages`` with what only the edge knows in their options: whether git is mid-merge
    (check-merge-conflict), the AWS secrets to look for (detect-aws-credentials)."""
    out = list(stages)
    for i, st in enumerate(out):
        if isinstance(st.opts, MergeConflictOpts) and not st.opts.assume_in_merge and git_in_merge(root, git_dir):
            out[i] = st._replace(opts=MergeConflictOpts(assume_in_merge=True))
        elif st.check == "detect-aws-credentials":
            from omnibase.builtins._facts import edge_options

            out[i] = st._replace(opts=edge_options({st.check: st.opts})[st.check])
    return out


def _meanwhile(fn: Callable[[], T]) -> Callable[[], T]:
    """Start ``fn`` in a thread; the returned function waits for its result."""
    import threading

    box: list[T] = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        return box[0] if box else fn()  # the thread failed: ask again here

    return result


#: Per process: the record keys of a run's files, by (root, run token); a few runs kept.
_KEYS: dict[tuple[str, str], dict[str, bytes]] = {}


def _cached(
    cache: VerdictCache, root: str, stages: Sequence[ScopedCheck], emit_from: int, paths: Sequence[str],
    worktree_is_index: bool, token: str = "",
) -> tuple[dict[str, bytes], dict[str, Known], bytes]:
    """The record key of every file git vouches for that the cache cannot vouch for, what
    the cache knows of the others, and the signature of the reported checks."""
    signature = _signature(stages, emit_from, ("file",))  # what the reported checks' verdicts depend on: the fixers before them too
    keys = _record_keys(root, paths, worktree_is_index, token)
    passed = cache.passed(keys, signature)
    return {p: k for p, k in keys.items() if p not in passed}, passed, signature


def _signature(stages: Sequence[ScopedCheck], emit_from: int, scopes: tuple[str, ...]) -> bytes:
    """The digest of ``stages`` of those ``scopes`` (order, names, patterns, options, and
    whether reported): what their verdicts depend on beyond the files."""
    from omnibase.builtins._cache import checks_signature, digest

    return digest(checks_signature({
        f"{i}\0{st.check}\0{st.files}\0{st.exclude}\0{int(i >= emit_from)}": st.opts
        for i, st in enumerate(stages)
        if CHECKS[st.check].scope in scopes
    }))  # fmt: skip


def _selection_key(
    root: str, stages: Sequence[ScopedCheck], paths: Sequence[str], worktree_is_index: bool,
    added: Callable[[], frozenset[str]] | None, token: str = "",
) -> bytes | None:
    """The key of the selection record of ``stages`` (every one reported; whole-set checks
    only of ``INDEX_ONLY_SET_CHECKS``) over ``paths``, or None (see ``selection_key``);
    ``added``: the paths staged for addition, asked only when a whole-set check needs them."""
    from omnibase.builtins._cache import INDEX_ONLY_SET_CHECKS, selection_key

    sets = [st.check for st in stages if CHECKS[st.check].scope == "set"]
    if not set(sets) <= INDEX_ONLY_SET_CHECKS:
        return None
    if sets and added is None:
        return None
    staged = added() if sets and added is not None else frozenset()
    signature = _signature(stages, 0, ("file", "set"))
    return selection_key(root, paths, signature, staged, worktree_is_index=worktree_is_index, token=token)


def _record_keys(root: str, paths: Sequence[str], worktree_is_index: bool, token: str) -> dict[str, bytes]:
    """The cache record key of each of ``paths`` git vouches for (remembered for the run)."""
    from omnibase.builtins._cache import blob_ids, file_key, versions

    ids = blob_ids(root, paths, worktree_is_index=worktree_is_index, token=token)
    known: dict[str, bytes] = {}
    if token:
        if (root, token) not in _KEYS and len(_KEYS) >= 4:
            _KEYS.clear()
        known = _KEYS.setdefault((root, token), {})
    salt = versions()
    keys: dict[str, bytes] = {}
    for p in paths:
        if p in ids:
            key = known.get(p)
            if key is None:
                key = known[p] = file_key(ids[p], p, salt)
            keys[p] = key
    return keys


def _learned(keys: Mapping[str, bytes], stages: Sequence[ScopedCheck], tally: Tally) -> dict[bytes, Known]:
    """What to remember: the files (with a key) that passed every check that applied
    (``stages``: what the bits of ``tally`` number)."""
    from omnibase.builtins._cache import Known

    failing = {v.path for _, v in tally.notable}
    out: dict[bytes, Known] = {}
    for (path, tags, size, _), mask in zip(tally.infos, tally.applied):
        if path in keys and path not in failing and tags is not None:
            out[keys[path]] = Known(checks=tuple(st.check for i, st in enumerate(stages) if mask >> i & 1), tags=tags, size=size)
    return out


# --- applying edits ---------------------------------------------------------------------


def _inside(root: str, path: str) -> str | None:
    """The file's full path if it is a regular file reached from ``root`` without passing
    through a symlink (a symlinked folder may lead out of the repository), else None."""
    from omnibase._io.paths import contained

    full = os.path.join(root, path)
    if contained(root, path).value_or(None) != os.path.normpath(os.path.join(os.path.abspath(root), path)):
        return None  # outside, or reached through a symlink (the answer is where it leads)
    st = os.lstat(full)
    return full if stat.S_ISREG(st.st_mode) else None


_CHUNK = 1 << 20  # bytes read at once of a file about to be rewritten in place


def _write(full: str, content: bytes, like: os.stat_result) -> None:
    """One write of a fixed file. A file with other hard links is rewritten in place, as
    pre-commit-hooks does (``open(path, "wb")``), so every link sees the fix; if that
    write fails (a full disk, a file-size limit) what the file held is put back before
    the error goes on, so no half-written fix is left. Any other file is replaced
    atomically (not fsynced: see ``omnibase._io.atomic``)."""
    if like.st_nlink > 1:
        fd = os.open(full, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            before = b"".join(iter(lambda: os.read(fd, _CHUNK), b""))
            try:
                _put(fd, content)
            except OSError:
                _put(fd, before)  # it fitted there a moment ago
                raise
        finally:
            os.close(fd)
        return
    from omnibase._io.atomic import write_atomic

    write_atomic(full, content, durable=False, like=like)


def _put(fd: int, data: bytes) -> None:
    """The file open at ``fd`` made to hold exactly ``data``."""
    os.ftruncate(fd, 0)
    view, done = memoryview(data), 0
    while done < len(data):  # a short write (at a limit) is followed by the error
        done += os.pwrite(fd, view[done:], done)


def apply_edits(edits: Iterable[Edit], *, root: str = ".", failed: dict[str, str] | None = None) -> tuple[str, ...]:
    """Write the edits (paths relative to ``root``) atomically; return the paths written.

    Each file is rewritten once (see ``_write``), keeping its permission bits; only
    regular files inside ``root`` are written, never through a symlink. Edits to one file apply as a chain: an
    edit applies only while the content it was made from is what the file holds, so
    edits of consecutive fixers compose and a file changed since it was checked (or a
    symlink, or a file that cannot be written) is left alone and not returned. A write
    that fails (a full disk, a file-size limit) is left alone too, and told in ``failed``
    (path -> why), when given.
    """
    by_path: dict[str, list[Edit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    written: list[str] = []
    for path, chain in by_path.items():
        try:
            full = _inside(root, path)
            if full is None:  # a symlink, or reached through one: never written
                continue
            like = os.stat(full)
            with open(full, "rb") as f:
                original = f.read()
            content, pending = original, list(chain)
            while True:
                digest = sha256(content)
                step = next((e for e in pending if e.original_sha256 == digest), None)
                if step is None:
                    break
                pending.remove(step)
                content = step.content
            if content != original:
                try:
                    _write(full, content, like)
                except OSError as exc:
                    if failed is not None:
                        failed[path] = exc.strerror or str(exc)
                    continue
                written.append(path)
        except OSError:
            continue
    return tuple(written)
