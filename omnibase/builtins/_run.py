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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from omnibase.builtins._checks import _fail
from omnibase.builtins._classify import CHECKS, CheckSpec, matches, parse_options, select, tags_for
from omnibase.builtins._values import Edit, MergeConflictOpts, RepoFacts, Verdict, sha256

if TYPE_CHECKING:
    from omnibase.builtins._cache import Known, VerdictCache

__all__ = ["apply_edits", "run_builtin_checks"]

#: Below this many files the work stays in the calling process: starting worker
#: processes costs 10-20 ms (fork) and more where they must be spawned.
MIN_FILES_FOR_POOL = 64
MIN_FILES_FOR_POOL_AFTER_CACHE = 256

T = TypeVar("T")
_Info = tuple[str, "frozenset[str] | None", int]  # path, identify tags (None: unknown), size


def _fallback_tags(path: str) -> frozenset[str]:
    # the file exists but could not be classified: assume what its name says, and text
    from identify.identify import tags_from_filename

    return frozenset({"file", "text"} | tags_from_filename(os.path.basename(path)))


#: path -> what the verdict cache knows of it as it is: every applicable check passed
_Passed = Mapping[str, "Known"]


def _check_chunk(
    root: str, names: Sequence[str], opts: Mapping[str, msgspec.Struct], paths: Sequence[str], passed: _Passed = {}
) -> tuple[list[Verdict], list[_Info]]:
    """Classify, read and check ``paths`` (a worker's unit of work). Never raises.
    A file in ``passed`` is not touched: its classification and passing verdicts are known."""
    specs = [CHECKS[n] for n in names]
    verdicts: list[Verdict] = []
    infos: list[_Info] = []
    for path in paths:
        hit = passed.get(path)
        if hit is not None:
            infos.append((path, hit.tags, hit.size))
            verdicts.extend(Verdict(check=name, path=path, ok=True) for name in hit.checks)
            continue
        full = os.path.join(root, path)
        reason = ""
        try:
            st = os.lstat(full)
            size = st.st_size
            if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                raise OSError("not a regular file")  # reading one could block forever
            tags: frozenset[str] | None = tags_for(full)
        except (FileNotFoundError, ValueError):
            continue  # gone: pre-commit passes only paths that exist
        except Exception as exc:  # OSError mostly (a FIFO, no permission to read)
            size, tags = 0, None
            reason = f"{path}: cannot classify: {getattr(exc, 'strerror', None) or exc}"
        infos.append((path, tags, size))
        applicable = [s for s in specs if matches(s, tags if tags is not None else _fallback_tags(full))]
        if not applicable:
            continue
        if tags is not None:
            try:
                with open(full, "rb") as f:
                    content = f.read()
            except (OSError, MemoryError) as exc:
                reason = f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc or type(exc).__name__}"
                tags = None
        if tags is None:
            verdicts.extend(_fail(s.name, path, reason) for s in applicable)
            continue
        current = content
        for spec in applicable:
            try:
                verdict = spec.fn(path, current if spec.is_fixer else content, opts[spec.name])
            except Exception as exc:  # a bug in a check must not stop the run
                verdict = _fail(spec.name, path, f"{path}: {spec.name} crashed: {type(exc).__name__}: {exc}")
            if verdict.edit is not None:
                current = verdict.edit.content
            verdicts.append(verdict)
    return verdicts, infos


def _jobs(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _mp_context() -> Any:
    import multiprocessing
    import threading

    # fork is fastest, but forking a process that runs other threads can deadlock
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_files(
    root: str, names: Sequence[str], opts: Mapping[str, msgspec.Struct], paths: Sequence[str], jobs: int,
    passed: _Passed = {},
) -> tuple[list[Verdict], list[_Info]]:
    if passed:  # the cache knows most of the tree: what is left is mostly what failed last
        todo = sum(1 for p in paths if p not in passed)  # time, rarely worth starting workers
        jobs = 1 if todo < MIN_FILES_FOR_POOL_AFTER_CACHE else jobs
    if jobs == 1 or len(paths) < MIN_FILES_FOR_POOL:
        return _check_chunk(root, names, opts, paths, passed)
    from concurrent.futures import Future, ProcessPoolExecutor

    # small chunks balance uneven files; not so small that pickling dominates
    size = max(16, min(256, -(-len(paths) // (jobs * 8))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    results: list[tuple[list[Verdict], list[_Info]] | None] = [None] * len(chunks)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=_mp_context()) as pool:
            futures: list[Future[tuple[list[Verdict], list[_Info]]]] = [
                pool.submit(_check_chunk, root, names, opts, chunk, {p: passed[p] for p in chunk if p in passed})
                for chunk in chunks
            ]
            for i, future in enumerate(futures):
                try:
                    results[i] = future.result()
                except Exception:  # a worker died or the pool broke: redo this chunk here
                    results[i] = _check_chunk(root, names, opts, chunks[i], passed)
    except (OSError, ImportError, RuntimeError):  # no processes to be had (limits, no /dev/shm)
        pass
    verdicts: list[Verdict] = []
    infos: list[_Info] = []
    for i, result in enumerate(results):
        found, seen = result if result is not None else _check_chunk(root, names, opts, chunks[i], passed)
        verdicts.extend(found)
        infos.extend(seen)
    return verdicts, infos


# --- git facts (the reference asks git the same questions) ----------------------------


def _zsplit(out: str | None) -> list[str]:
    from omnibase._git import zsplit as split

    return split(out or "")


def _git(root: str, *args: str, stdin: bytes | None = None) -> str | None:
    from returns.result import Success

    from omnibase._git import git, text

    done = git(args, root, stdin=stdin)
    return text(done.unwrap()) if isinstance(done, Success) else None


def git_in_merge(root: str, git_dir: str | None = None) -> bool:
    """Whether git is mid-merge (or mid-rebase with a merge message), as the reference
    decides: ``MERGE_MSG`` and one of ``MERGE_HEAD``, ``rebase-apply``, ``rebase-merge``.
    ``git_dir``, when the caller knows it, saves asking git."""
    git_dir = git_dir or _git(root, "rev-parse", "--git-dir")
    if git_dir is None:
        return False
    base = os.path.join(root, git_dir.rstrip("\n"))
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
    root: str, specs: Sequence[CheckSpec], opts: Mapping[str, Any], infos: Sequence[_Info],
    added: frozenset[str] | None = None, tracked: Callable[[], frozenset[str]] | None = None,
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    tagged = [(p, t if t is not None else _fallback_tags(p)) for p, t, _ in infos]
    sizes = {p: s for p, t, s in infos if t is not None}
    for spec in specs:
        paths = tuple(select(spec, tagged))
        if not paths and not spec.always_run:
            continue
        o = opts[spec.name]
        if spec.name == "check-added-large-files":
            added = git_added(root) if added is None and not o.enforce_all else added
            big = [p for p in paths if -(-sizes.get(p, 0) // 1024) > o.maxkb or p not in sizes]
            candidates = big if o.enforce_all else [p for p in big if p in (added or ())]
            facts = RepoFacts(paths=paths, sizes=sizes, added=added or frozenset(), lfs=git_lfs(root, candidates))
        elif spec.name == "check-case-conflict":
            added = git_added(root) if added is None else added
            facts = RepoFacts(paths=paths, added=added, tracked=tracked() if tracked else git_tracked(root))
        else:
            from omnibase.builtins._facts import repo_facts

            facts = repo_facts(root, spec.name, paths)
        verdicts.extend(spec.fn(facts, o))
    return verdicts


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
    specs = [s for s in CHECKS.values() if s.name in wanted]
    parsed: dict[str, Any] = {s.name: parse_options(s.name, (opts or {}).get(s.name)) for s in specs}
    if not specs:
        return ()
    merge = parsed.get("check-merge-conflict")
    if isinstance(merge, MergeConflictOpts) and not merge.assume_in_merge and git_in_merge(root, git_dir):
        parsed["check-merge-conflict"] = MergeConflictOpts(assume_in_merge=True)
    if "detect-aws-credentials" in parsed:  # the secrets it looks for are the edge's to read
        from omnibase.builtins._facts import edge_options

        parsed = edge_options(parsed)
    file_names = [s.name for s in specs if s.scope == "file"]
    unique = list(dict.fromkeys(paths))
    keys: dict[str, bytes] = {}
    passed: dict[str, Known] = {}
    if cache is not None and file_names:
        keys, passed = _cached(cache, root, file_names, parsed, unique, worktree_is_index)
    tracked = None
    if "check-case-conflict" in wanted and len(unique) < MIN_FILES_FOR_POOL:
        # git lists the tracked files while the per-file checks run (no worker processes
        # below this size, so a thread cannot get in the way of forking them)
        tracked = _meanwhile(lambda: git_tracked(root))
    # classifying alone (for the whole-set checks) is too cheap to share out
    verdicts, infos = _run_files(root, file_names, parsed, unique, _jobs(jobs) if file_names else 1, passed)
    if cache is not None and keys:
        cache.add(_learned(keys, verdicts, infos))
    if stats is not None:
        for hit in passed.values():
            for name in hit.checks:
                stats[name] = stats.get(name, 0) + 1
    verdicts.extend(_run_sets(root, [s for s in specs if s.scope == "set"], parsed, infos, added, tracked))
    rank = {name: i for i, name in enumerate(CHECKS)}
    return tuple(sorted(verdicts, key=lambda v: (rank[v.check], v.path)))


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


def _cached(
    cache: VerdictCache, root: str, names: Sequence[str], opts: Mapping[str, msgspec.Struct], paths: Sequence[str],
    worktree_is_index: bool,
) -> tuple[dict[str, bytes], dict[str, Known]]:
    """The cache key of every file git vouches for, and what the cache knows of them."""
    from omnibase.builtins._cache import blob_ids, checks_signature, verdict_key, versions

    ids = blob_ids(root, paths, worktree_is_index=worktree_is_index)
    checks, salt = checks_signature({n: opts[n] for n in names}), versions()
    keys = {p: verdict_key(ids[p], p, checks, salt) for p in paths if p in ids}
    hits = cache.hits(keys.values())
    passed = {p: hits[k] for p, k in keys.items() if k in hits}
    return {p: k for p, k in keys.items() if k not in hits}, passed


def _learned(keys: Mapping[str, bytes], verdicts: Sequence[Verdict], infos: Sequence[_Info]) -> dict[bytes, Known]:
    """What to remember: the files (with a key) that passed every check that applied."""
    from omnibase.builtins._cache import Known

    checks: dict[str, list[str]] = {}
    failing: set[str] = set()
    for v in verdicts:
        if not v.ok or v.findings:
            failing.add(v.path)
        checks.setdefault(v.path, []).append(v.check)
    return {
        keys[path]: Known(checks=tuple(checks.get(path, ())), tags=tags, size=size)
        for path, tags, size in infos
        if path in keys and path not in failing and tags is not None
    }


# --- applying edits ---------------------------------------------------------------------


def _inside(root: str, path: str) -> str | None:
    """The file's full path if it is a regular file reached from ``root`` without passing
    through a symlink (a symlinked folder may lead out of the repository), else None."""
    full = os.path.join(root, path)
    real_root = os.path.realpath(root)
    if os.path.realpath(full) != os.path.normpath(os.path.join(real_root, path)):
        return None
    st = os.lstat(full)
    return full if stat.S_ISREG(st.st_mode) else None


def _write(full: str, content: bytes, like: os.stat_result) -> None:
    """One write of a fixed file. A file with other hard links is rewritten in place, as
    pre-commit-hooks does (``open(path, "wb")``), so every link sees the fix; any other
    is replaced atomically (not fsynced: see ``omnibase._atomic``)."""
    if like.st_nlink > 1:
        fd = os.open(full, os.O_WRONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "wb") as f:
            f.truncate(0)
            f.write(content)
        return
    from omnibase._atomic import write_atomic

    write_atomic(full, content, durable=False, like=like)


def apply_edits(edits: Iterable[Edit], *, root: str = ".") -> tuple[str, ...]:
    """Write the edits (paths relative to ``root``) atomically; return the paths written.

    Each file is rewritten once (see ``_write``), keeping its permission bits; only
    regular files inside ``root`` are written, never through a symlink. Edits to one file apply as a chain: an
    edit applies only while the content it was made from is what the file holds, so
    edits of consecutive fixers compose and a file changed since it was checked (or a
    symlink, or a file that cannot be written) is left alone and not returned.
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
                _write(full, content, like)
                written.append(path)
        except OSError:
            continue
    return tuple(written)
