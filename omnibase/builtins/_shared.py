"""The facts layer: one pass over a run's files serves every built-in check of the run.

Each built-in check is its own component with its own result, but the checks of a run
look at the same files. So the first of them that runs in a process checks the files
for all of them at once (``shared_pass``): each file is classified once, opened and read
once, and every check that applies gets those bytes; the verdict cache is asked once for
all of them; the files go to the worker processes in chunks, each chunk running every
applicable check on its files. The outcome is kept per check, and each check's
component takes its own share; the whole-set checks take the files' classification.

What is shared is keyed by everything it depends on: the repository, the run's id, the
checks with their options and file patterns, and the files. A run's pass is dropped
when the run ends (``forget``), and at most a few are kept in any case. Checks that ask
concurrently (``--mode async``) wait for the one pass rather than each making its own.
Results are the same as each check run alone (``run_scoped_checks``), which
``tests/builtins/test_shared.py`` holds it to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from omnibase.builtins._cache import MAX_ENTRIES, blob_ids
from omnibase.builtins._run import (
    ScopedCheck,
    Tally,
    _cached,
    _selection_key,
    _edge_scoped,
    _Info,
    _jobs,
    _learned,
    _meanwhile,
    _run_files,
    git_added,
    git_tracked,
    is_file_check,
    judge_set,
)
from omnibase.builtins._values import Verdict

if TYPE_CHECKING:
    from omnibase.builtins._cache import Known, VerdictCache

__all__ = ["Outcome", "Pass", "forget", "set_verdicts", "shared_pass"]


class Outcome(NamedTuple):
    """One file check's share of a pass: how many files it applied to, how many of those
    the verdict cache vouched for, and its verdicts other than plain passes."""

    checked: int
    cached: int
    notable: list[Verdict]


class Pass(NamedTuple):
    """A run's pass: per stage given to ``shared_pass``, its outcome (None for a whole-set
    check: see ``set_verdicts``); every file's info (path, tags, size); the files that
    were gone (deleted since they were listed: pre-commit passes only files that exist);
    and git's answers
    the whole-set checks need, asked while the files were being checked (by name:
    ``added``, ``tracked``; each waits for its answer)."""

    outcomes: list[Outcome | None]
    infos: list[_Info]
    git: dict[str, Callable[[], frozenset[str]]]
    gone: frozenset[str]  # files listed that were no longer there
    starts: tuple[frozenset[str], frozenset[str]]  # files whose start was read; of them, "#!"
    learning: _Learning | None = None  # the selection record to write once the whole-set checks passed


#: Per process: the passes of the runs under way, by what they depend on; a few kept.
_PASSES: dict[tuple[object, ...], Pass] = {}
_MAX_PASSES = 2
_LOCK = threading.Lock()
_MAKING: dict[tuple[object, ...], threading.Lock] = {}


def _key(root: str, token: str, stages: Sequence[ScopedCheck], files: Sequence[str], cached: bool) -> tuple[object, ...]:
    checks = tuple((s.check, s.files, s.exclude, msgspec.json.encode(s.opts)) for s in stages)
    return (root, token, checks, len(files), hash(tuple(files)), cached)


def shared_pass(
    stages: Sequence[ScopedCheck],
    files: Sequence[str],
    *,
    root: str,
    token: str,
    cache: VerdictCache | None = None,
    git_dir: str | None = None,
    worktree_is_index: bool = False,
    jobs: int | None = None,
    added_known: bool = False,
    added: frozenset[str] | None = None,
) -> Pass:
    """The outcome of every one of ``stages`` (the built-in checks of run ``token``, in
    table order, fixers first) over ``files``, computed once per process and run.

    A fixer starts from what the fixers among ``stages`` before it would leave, as in
    ``run_scoped_checks``. With a ``cache``, files on which every applicable file check
    passed before on the same content are not read, and what passed now is learnt.
    ``added``: the paths staged for addition, when the caller knows them (``added_known``:
    the caller knows them but passes them only to ``set_verdicts``; git is not asked).
    A run over many files that the cache holds a selection record of (``omnibase.builtins.
    _cache``) is answered from it: every outcome is known, no file is opened.
    """
    key = _key(root, token, stages, files, cache is not None)
    with _LOCK:
        done = _PASSES.get(key)
        if done is not None:
            return done
        making = _MAKING.setdefault(key, threading.Lock())
    with making:  # one thread makes it; the others wait for it here
        with _LOCK:
            done = _PASSES.get(key)
        if done is None:
            done = _make(stages, files, root, token, cache, git_dir, worktree_is_index, jobs, added_known, added)
            with _LOCK:
                if len(_PASSES) >= _MAX_PASSES:
                    _PASSES.clear()
                _PASSES[key] = done
                _MAKING.pop(key, None)
    return done


def forget(token: str) -> None:
    """Drop what the run ``token`` shared (its end)."""
    with _LOCK:
        for key in [k for k in _PASSES if k[1] == token]:
            del _PASSES[key]


def set_verdicts(done: Pass, stage: ScopedCheck, *, root: str, added: frozenset[str] | None) -> list[Verdict]:
    """The verdicts of whole-set check ``stage`` on the files of the pass ``done`` that it
    sees (its ``files``/``exclude``), from the classification the pass made; ``added``:
    the paths staged for addition, when the caller knows them."""
    if added is None and "added" in done.git:
        added = done.git["added"]()
    outside: set[str] = set()
    verdicts = judge_set(root, stage, done.infos, added, done.git.get("tracked"), done.starts, outside)
    if done.learning is not None:
        done.learning.judged(stage, verdicts, not outside)
    return verdicts


class _Learning:
    """A selection record in the making: the file checks passed; it is written once every
    whole-set check of the pass passed too (they are judged later, each in its own call)."""

    def __init__(self, cache: VerdictCache, key: bytes, stages: Sequence[ScopedCheck], checked: list[int | None]) -> None:
        # a store of its own: the check that completes it may run in another thread than the pass
        self.cache = type(cache)(cache.path)
        self.cache.in_state = cache.in_state
        self.key: bytes | None = key
        self.stages = list(stages)
        self.checked = checked
        self.lock = threading.Lock()
        self._write_when_complete()

    def judged(self, stage: ScopedCheck, verdicts: Sequence[Verdict], recordable: bool) -> None:
        """Whole-set check ``stage`` gave ``verdicts`` (``recordable``: from the files and
        the index alone)."""
        with self.lock:
            if self.key is None:
                return
            if not recordable or any(not v.ok or v.findings for v in verdicts):
                self.key = None  # a failure, a finding, or a verdict the key does not cover: not recorded
                return
            for i, st in enumerate(self.stages):
                if st == stage and self.checked[i] is None:
                    self.checked[i] = len(verdicts)
                    break
            self._write_when_complete()

    def _write_when_complete(self) -> None:
        if self.key is not None and all(n is not None for n in self.checked):
            from omnibase.builtins._cache import Selection

            self.cache.keep_selection(self.key, Selection(checked=tuple(n or 0 for n in self.checked)))
            self.cache.close()  # opened in the thread that writes
            self.key = None


def _make(
    stages: Sequence[ScopedCheck], files: Sequence[str], root: str, token: str, cache: VerdictCache | None,
    git_dir: str | None, worktree_is_index: bool, jobs: int | None, added_known: bool, added: frozenset[str] | None,
) -> Pass:
    # git's answers and the record keys serve this one pass, not kept for later checks
    mine = f"{token}\0pass"
    try:
        return _made(stages, files, root, mine, cache, git_dir, worktree_is_index, jobs, added_known, added)
    finally:
        _forget_answers(root, mine)


def _made(
    stages: Sequence[ScopedCheck], files: Sequence[str], root: str, token: str, cache: VerdictCache | None,
    git_dir: str | None, worktree_is_index: bool, jobs: int | None, added_known: bool, added: frozenset[str] | None,
) -> Pass:
    scoped = _edge_scoped(stages, root, git_dir)
    where = [i for i, st in enumerate(scoped) if is_file_check(st.check)]
    file_stages = [scoped[i] for i in where]
    unique = list(dict.fromkeys(files))
    keys: dict[str, bytes] = {}
    passed: dict[str, Known] = {}
    signature = b""
    wanted = {st.check for st in scoped}
    staged: list[frozenset[str]] = [added] if added is not None else []

    def staged_paths() -> frozenset[str]:
        if not staged:
            staged.append(git_added(root))
        return staged[0]

    selection = None
    if cache is not None:
        selection = _selection_key(root, scoped, unique, worktree_is_index, None if added_known and added is None else staged_paths, token)
        hit = cache.selection(selection) if selection is not None else None
        if hit is not None and len(hit.checked) == len(stages):  # every check passed on these very files
            return Pass([Outcome(n, n, []) for n in hit.checked], [], {}, frozenset(), (frozenset(), frozenset()))
    per_file = cache is not None and len(unique) <= MAX_ENTRIES  # a tree larger than the store would only churn it
    if cache is not None and per_file:
        if file_stages:
            keys, passed, signature = _cached(cache, root, file_stages, 0, unique, worktree_is_index, token)
        else:  # whole-set checks only: the tags and sizes the cache knows need no classifying
            from omnibase.builtins._cache import Known as _Known
            from omnibase.builtins._run import _record_keys

            records = cache.records(_record_keys(root, unique, worktree_is_index, token))
            passed = {p: _Known(checks=(), tags=r.tags, size=r.size) for p, r in records.items()}
    asked: dict[str, Callable[[], frozenset[str]]] = {}

    def ask_git() -> None:  # beside the checking: the whole-set checks' questions to git
        if staged:
            asked["added"] = lambda: staged[0]
        elif not added_known and wanted & {"check-added-large-files", "check-case-conflict"}:
            asked["added"] = _meanwhile(lambda: git_added(root))
        if "check-case-conflict" in wanted:
            asked["tracked"] = _meanwhile(lambda: git_tracked(root))

    tally = _run_files(
        root, file_stages, 0, unique, _jobs(jobs) if file_stages else 1, passed, remember=False, meanwhile=ask_git,
        starts=bool(wanted & {"check-executables-have-shebangs", "check-shebang-scripts-are-executable"}), last=True,
    )  # fmt: skip
    if cache is not None and keys:
        cache.learn(_learned(keys, file_stages, tally), signature)
    outcomes: list[Outcome | None] = [None] * len(stages)
    for i, outcome in zip(where, _outcomes(len(file_stages), tally, passed)):
        outcomes[i] = outcome
    # every file listed has an info unless it was gone (the usual case: all there)
    gone = frozenset() if len(tally.infos) == len(unique) else frozenset(set(unique).difference(i[0] for i in tally.infos))
    learning = None
    if cache is not None and selection is not None and not tally.notable and not gone:
        # git vouches for every file (the key then says what was checked), and none failed
        if len(blob_ids(root, unique, worktree_is_index=worktree_is_index, token=token)) == len(unique):
            checked = [o.checked if o is not None else None for o in outcomes]
            learning = _Learning(cache, selection, stages, checked)
    return Pass(outcomes, tally.infos, asked, gone, (frozenset(tally.started), frozenset(tally.shebang)), learning)


def _forget_answers(root: str, token: str) -> None:
    """Drop what a pass remembered of git's answers and its record keys."""
    from omnibase.builtins._cache import forget_answers
    from omnibase.builtins._run import _KEYS

    _KEYS.pop((root, token), None)
    forget_answers(token)


def _outcomes(count: int, tally: Tally, passed: dict[str, Known]) -> list[Outcome]:
    by_mask: dict[tuple[int, bool], int] = {}  # (mask, from the cache) -> files: a few dozen kinds
    for (path, _, _, _), mask in zip(tally.infos, tally.applied):
        if mask:
            kind = (mask, path in passed)
            by_mask[kind] = by_mask.get(kind, 0) + 1
    checked, cached = [0] * count, [0] * count
    for (mask, hit), files in by_mask.items():
        for i in range(count):
            if mask >> i & 1:
                checked[i] += files
                cached[i] += files if hit else 0
    notable: list[list[Verdict]] = [[] for _ in range(count)]
    for i, verdict in tally.notable:
        notable[i].append(verdict)
    return [Outcome(checked[i], cached[i], sorted(notable[i], key=lambda v: v.path)) for i in range(count)]
