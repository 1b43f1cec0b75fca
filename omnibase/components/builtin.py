"""The built-in checks as components (an edge: reads files, hands fixes over).

One component per built-in use; its function is a ``BuiltinCheck``, an immutable value
holding the use, for a fixer the selected fixers before it, and the run's other selected
built-ins (its peers). An invocation returns its own check's result over its own files,
so the built-ins run under any performer: one after another, concurrently (``--mode
async``), or in worker processes (``isolation: process``, a Dask worker). The checks of a
run share one pass over the files (``omnibase.builtins._shared``: each file read once for
all of them, chunks of files on a process pool); a built-in in a worker process runs alone,
with what the checks of that process share remembered per process (``omnibase.builtins._run``).

The checks are pure and return fixes as values. A fixer starts from what the fixers before
it would leave (recomputed: they are pure and cheap), reports its own diff, and spools its
edits; the edge (``apply_fixes``) writes them after the run, one write per file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.drivers import kinds
from omnibase.core.values import ComponentType, ExecCtx, Failed, Isolation, Lifecycle, Meta, Misconfigured, RunReport, Skip

__all__ = ["BUILTIN", "BuiltinCheck", "BuiltinKind", "BuiltinUse", "CheckSummary", "apply_fixes", "builtin_components", "chained", "finish_run", "unwritten"]

#: Why a built-in check skipped a file it was given that is not there any more.
DELETED: Final = "deleted during the run"
#: Diffs in reports are cut beyond this many characters (per component).
MAX_DIFF = 20_000
#: ... and beyond this many per file.
MAX_FILE_DIFF = 8_000
#: Below this many files the verdict cache costs more (opening it, one more git call)
#: than checking the files does.
MIN_FILES_FOR_CACHE = 32


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a passing built-in check: how many files it looked at, and the ones
    it skipped, with why (a file deleted during the run)."""

    checked: int
    cached: int = 0  # of them, passed before on the same content (the verdict cache)
    skipped: dict[str, str] = {}


class BuiltinUse(msgspec.Struct, frozen=True, kw_only=True):
    """One built-in check as a component: the component's ``name``, the ``check`` it
    runs, the reference hook's flags (``args``), and the files it sees: ``files`` (empty:
    the hook's own default pattern) and ``exclude``, regexes searched in the path."""

    name: str
    check: str
    args: tuple[str, ...] = ()
    files: str = ""
    exclude: str = "^$"
    tags: frozenset[str] = frozenset()  # beyond the built-in's own
    lifecycle: Lifecycle = Lifecycle.STABLE
    description: str = ""  # empty: the check's
    timeout: float | None = None
    isolation: Isolation | None = None  # None: what builtin_components is given


class BuiltinCheck(msgspec.Struct, frozen=True):
    """The function of one built-in component: an immutable value (it pickles, and travels
    to a worker process as its class and its fields). ``before``: the selected fixers that
    come before this one, when it is a fixer (it starts from what they would leave).

    A call gives this check's result over the files its use selects. With ``peers`` (set
    by ``chained``), the first call of a run in a process checks the files for all of them
    at once and the others take their share (so the first carries the pass's time); in a
    worker process, or with no peers, the call runs this check alone. Either way what is
    shared lives per process, not in the value. A fixer's edits are not written here: they are spooled for
    the edge to write once per file after the run (``omnibase.builtins._spool``), except
    under ``ctx.dry_run``, when nothing is written at all.
    """

    use: BuiltinUse
    before: tuple[BuiltinUse, ...] = ()
    peers: tuple[BuiltinUse, ...] = ()

    def __call__(self, ctx: ExecCtx, value: object) -> Result[CheckSummary | Skip, Failed | Misconfigured]:
        from omnibase.builtins import CHECKS

        use = self.use
        spec = CHECKS[use.check]
        stages = [_stage(u) for u in (*self.before, use)]
        paths = _selected(stages[-1], ctx.files)
        if not paths and not spec.always_run:
            return Success(Skip(reason="no files to check"))
        params = dict(ctx.params)
        git_dir = params.get("git_dir") or None
        shared = len(self.peers) > 1 and use in self.peers and not _in_worker_call()
        cache = None
        if git_dir and params.get("cache") == "on" and len(ctx.files) >= MIN_FILES_FOR_CACHE:
            from omnibase.builtins._cache import VerdictCache

            # a shared pass asks the cache once (no records kept for other checks)
            cache = VerdictCache.for_git_dir(git_dir) if shared else VerdictCache.for_git_dir(git_dir, ctx.run_id)
        added = frozenset(params["added"].split("\0")) - {""} if "added" in params else None
        import gc

        collecting = gc.isenabled()
        gc.disable()  # the checks make no cycles, but many objects: collections would rescan them all
        try:
            if shared:
                checked, cached, failed, gone = self._shared(ctx, paths, cache, git_dir, params.get("worktree") == "index", added)
            else:
                checked, cached, failed, gone = self._alone(ctx, paths, stages, cache, git_dir, params.get("worktree") == "index", added)
        finally:
            if collecting:
                gc.enable()
            if cache is not None:
                cache.close()
        skipped = {p: DELETED for p in sorted(gone)}
        if not checked:
            return Success(Skip(reason="no files to check" + "".join(f"; {p}: {why}" for p, why in skipped.items())))
        if not failed:
            return Success(CheckSummary(checked=checked, cached=cached, skipped=skipped))
        from omnibase.builtins._output import hook_output

        message = "\n".join(hook_output(use.check, stages[-1].opts, failed))
        if any(v.misconfigured for v in failed):  # the check could not judge: exit 2, as its reference
            return Failure(Misconfigured(message=message))
        edits = [v.edit for v in failed if v.edit is not None]
        data: dict[str, Any] = {"files": sorted({v.path for v in failed}), "findings": _findings(failed)}
        if skipped:
            data["skipped"] = skipped
        if edits:
            data["diff"] = _diffs(edits)
            if not ctx.dry_run:
                try:
                    _hand_over(ctx, use.name, len(self.before), edits)
                    data["fixed"] = True
                except OSError as exc:  # a full disk, a file-size limit: no fix will be written
                    data["fixed"] = False
                    data["unwritten"] = failed_paths = {e.path: exc.strerror or str(exc) for e in edits}
                    message = "\n".join(_not_written(line, failed_paths) for line in message.splitlines())
        return Failure(Failed(message=message, data=data))

    def _shared(
        self, ctx: ExecCtx, paths: tuple[str, ...], cache: Any, git_dir: str | None, worktree_is_index: bool,
        added: frozenset[str] | None,
    ) -> tuple[int, int, list[Any], set[str]]:
        """This check's share of the pass all the run's built-ins share (``peers``; see
        ``omnibase.builtins._shared``): files checked, of them cached, failing verdicts,
        and its files that were gone (deleted since they were listed)."""
        from omnibase.builtins._shared import set_verdicts, shared_pass

        stages = [_stage(u) for u in self.peers]
        me = self.peers.index(self.use)
        done = shared_pass(
            stages, ctx.files, root=ctx.root, token=ctx.run_id, cache=cache, git_dir=git_dir,
            worktree_is_index=worktree_is_index, added_known=added is not None, added=added,
        )  # fmt: skip
        outcome = done.outcomes[me]
        gone = set(done.gone.intersection(paths)) if done.gone else set()  # (the usual case: none)
        if outcome is None:  # a whole-set check: judged here, on the pass's facts
            verdicts = set_verdicts(done, stages[me], root=ctx.root, added=added)
            return len(verdicts), 0, [v for v in verdicts if not v.ok], gone
        return outcome.checked, outcome.cached, [v for v in outcome.notable if not v.ok], gone

    def _alone(
        self, ctx: ExecCtx, paths: tuple[str, ...], stages: list[Any], cache: Any, git_dir: str | None,
        worktree_is_index: bool, added: frozenset[str] | None,
    ) -> tuple[int, int, list[Any], set[str]]:
        """This check run by itself over ``paths`` (in a worker process, or with no peers);
        as ``_shared``."""
        from omnibase.builtins._run import run_scoped_checks

        stats: dict[str, int] = {}
        gone: set[str] = set()
        verdicts = run_scoped_checks(
            paths, stages, len(self.before), root=ctx.root, cache=cache, stats=stats, git_dir=git_dir,
            worktree_is_index=worktree_is_index, added=added, token=ctx.run_id, gone=gone,
        )  # fmt: skip
        return len(verdicts), stats.get(self.use.check, 0), [v for v in verdicts if not v.ok], gone


def _in_worker_call() -> bool:
    from omnibase.builtins._run import _in_worker_call as in_call

    return in_call()


def _stage(use: BuiltinUse) -> Any:
    from omnibase.builtins import CHECKS, options_from_args, parse_options
    from omnibase.builtins._run import ScopedCheck

    opts = options_from_args(use.check, use.args) if use.args else parse_options(use.check, None)
    exclude = "" if use.exclude == "^$" else use.exclude
    return ScopedCheck(use.check, opts, use.files or CHECKS[use.check].files, exclude)


def _selected(stage: Any, files: tuple[str, ...]) -> tuple[str, ...]:
    import re

    if not stage.files and not stage.exclude:
        return files
    wanted = re.compile(stage.files) if stage.files else None
    unwanted = re.compile(stage.exclude) if stage.exclude else None
    return tuple(
        p for p in files if (wanted is None or wanted.search(p)) and not (unwanted is not None and unwanted.search(p))
    )


def _hand_over(ctx: ExecCtx, name: str, rank: int, edits: list[Any]) -> None:
    """Give the edits to the edge: spooled under the git dir for ``apply_fixes``; outside
    a git repository (no place for a spool), written at once."""
    from omnibase._io.git import git_dir_of

    git_dir = git_dir_of(ctx.root, dict(ctx.params).get("git_dir") or "")
    if git_dir is not None:
        from omnibase.builtins._spool import spool_edits

        spool_edits(git_dir, ctx.run_id, name, rank, edits)
    else:
        from omnibase.builtins import apply_edits

        apply_edits(edits, root=ctx.root)


def finish_run(ctx: ExecCtx, failed: dict[str, str] | None = None) -> tuple[str, ...]:
    """The end of a run, for the edge: write the built-in fixers' spooled fixes
    (``apply_fixes``) and stop the worker processes the checks shared; the paths written."""
    import sys

    try:
        return apply_fixes(ctx, failed)  # which drops what the checks shared
    finally:
        if "omnibase.builtins._run" in sys.modules:  # the checks ran: they may have a pool
            from omnibase.builtins._run import release_pool

            release_pool()


def apply_fixes(ctx: ExecCtx, failed: dict[str, str] | None = None) -> tuple[str, ...]:
    """The edge's half of the fixers: write what the built-in fixers of the run ``ctx``
    names spooled (each file once), and remove the spool; the paths written, and in
    ``failed`` the ones whose write failed, with why (``unwritten`` puts them in the
    report). Call it after the run, also a run stopped early (its reported fixes are
    kept); under ``ctx.dry_run`` it writes nothing."""
    import sys

    if "omnibase.builtins._shared" in sys.modules:  # what the checks shared is of the past now
        from omnibase.builtins._shared import forget

        forget(ctx.run_id)
    if ctx.dry_run:
        return ()
    from omnibase._io.git import git_dir_of

    git_dir = git_dir_of(ctx.root, dict(ctx.params).get("git_dir") or "")
    if git_dir is None:
        return ()
    from omnibase.builtins._spool import apply_spooled

    return apply_spooled(ctx.root, git_dir, ctx.run_id, failed)


def unwritten(report: RunReport[Any], failed: Mapping[str, str]) -> RunReport[Any]:
    """``report`` with the fixes that could not be written (``failed``: path -> why, from
    ``apply_fixes``) told as such: each fixer step that reported "Fixing" such a file says
    instead that its fix was not written, and why; its ``data["fixed"]`` is False when none
    of its fixes was written, and ``data["unwritten"]`` lists them."""
    steps = []
    for step in report.steps:
        error = step.error
        data = error.data if isinstance(error, Failed) and isinstance(error.data, dict) else None
        if not isinstance(error, Failed) or data is None or not data.get("fixed") or not set(data.get("files", ())) & set(failed):
            steps.append(step)
            continue
        mine = {p: why for p, why in failed.items() if p in data["files"]}
        lines = [_not_written(line, mine) for line in error.message.splitlines()]
        fixed = any(p not in mine for p in data["files"])
        new = {**data, "fixed": fixed, "unwritten": mine}
        steps.append(msgspec.structs.replace(step, error=msgspec.structs.replace(error, message="\n".join(lines), data=new)))
    return msgspec.structs.replace(report, steps=tuple(steps))


def _not_written(line: str, failed: Mapping[str, str]) -> str:
    if line.startswith("Fixing"):
        for path, why in failed.items():
            if path in line:
                return f"Could not write the fix of {path}: {why}"
    return line


def _findings(failed: list[Any]) -> list[dict[str, Any]]:
    """Where each failure is, for reports that place findings (SARIF, GitHub annotations):
    ``{"path", "line" (None when unknown), "message"}``; a failed file with no finding gets one."""
    found: list[dict[str, Any]] = []
    for v in failed:
        found += [{"path": f.path, "line": f.line, "message": f.message} for f in v.reported()]
    return found


def _diffs(edits: list[Any]) -> str:
    """The edits' unified diffs, bounded: at most ``MAX_FILE_DIFF`` characters per file and
    ``MAX_DIFF`` in all, each cut marked. Work and memory stay proportional to the bound
    (a big file is diffed only around its first change), and the content of a file that
    may hold a secret (``.env`` files, what detect-private-key flags) is never shown."""
    from omnibase.core.redact import bound

    parts: list[str] = []
    size = 0
    for i, edit in enumerate(edits):
        if size >= MAX_DIFF:
            parts.append(f"... ({len(edits) - i} more files changed; diff truncated)\n")
            break
        text = bound(_file_diff(edit), min(MAX_FILE_DIFF, MAX_DIFF - size))
        text = text if text.endswith("\n") else text + "\n"
        parts.append(text)
        size += len(text)
    return "".join(parts)


def _may_hold_secret(edit: Any) -> bool:
    from omnibase.builtins import detect_private_key
    from omnibase.builtins._values import PrivateKeyOpts

    name = edit.path.rsplit("/", 1)[-1]
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return True
    return any(not detect_private_key(edit.path, data, PrivateKeyOpts()).ok for data in (edit.original, edit.content))


def _file_diff(edit: Any) -> str:
    import re

    import msgspec

    if _may_hold_secret(edit):
        return f"--- a/{edit.path}\n+++ b/{edit.path}\n(changed; content not shown: the file may hold a secret)\n"
    window = 2 * MAX_FILE_DIFF
    if max(len(edit.original), len(edit.content)) <= 2 * window:
        text: str = edit.diff()
        return text
    start = _first_difference(edit.original, edit.content)
    for _ in range(4):  # the changed line's start, then up to 3 lines of context before it
        start = edit.original.rfind(b"\n", 0, max(start, 0))
        if start < 0:
            break
    start += 1
    before = edit.original[start : start + window]
    if start + window < len(edit.original):
        before = before[: before.rfind(b"\n") + 1] or before
    # the same number of lines of the new content (the fixers keep lines in place)
    lines = before.count(b"\n")
    parts = edit.content[start : start + 2 * window].split(b"\n", lines)
    after = b"\n".join(parts[:lines]) + b"\n" if len(parts) > lines and lines else edit.content[start : start + window]
    offset = edit.original.count(b"\n", 0, start)
    piece: str = msgspec.structs.replace(edit, original=before, content=after).diff()

    def shift(m: re.Match[str]) -> str:
        return f"@@ -{int(m.group(1)) + offset}{m.group(2) or ''} +{int(m.group(3)) + offset}{m.group(4) or ''} @@"

    piece = re.sub(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@", shift, piece, flags=re.M)
    rest = len(edit.original) - start - len(before)
    return piece + f"... {rest} bytes more of {edit.path} not compared\n"


def _first_difference(a: bytes, b: bytes) -> int:
    """The index of the first byte where ``a`` and ``b`` differ (the shorter length when
    one is a prefix of the other): 64 KiB blocks compared, then a bisection in one."""
    n = min(len(a), len(b))
    step = 1 << 16
    i = 0
    while i < n and a[i : i + step] == b[i : i + step]:
        i += step
    if i >= n:
        return n
    lo, hi = i, min(i + step, n)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[i : mid + 1] == b[i : mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def builtin_components(
    uses: Sequence[BuiltinUse] | None = None, *, isolation: Isolation = "none"
) -> tuple[Component[Any, Any], ...]:
    """One component per built-in use (default: the default checks), in the given order
    (the fixers' chain order: pass them in table order). Each fixer starts from what the
    fixers before it in ``uses`` would leave; ``chained`` narrows that to the ones a stage
    selected. ``isolation="process"``: they run in worker processes under a
    ``ProcessPerformer``."""
    from omnibase.builtins import DEFAULT_CHECKS

    chosen = list(uses) if uses is not None else [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS]
    return chained([_component(use, (), isolation) for use in chosen], [u.name for u in chosen])


def _component(use: BuiltinUse, before: tuple[BuiltinUse, ...], isolation: Isolation) -> Component[Any, Any]:
    from omnibase.builtins import CHECKS

    spec = CHECKS[use.check]
    meta = Meta(
        name=use.name,
        type=ComponentType.VALIDATOR,
        lifecycle=use.lifecycle,
        tags=frozenset({"pre-commit", "builtin", "fixer" if spec.is_fixer else "check"}) | use.tags,
        idempotent=True,
        pure=True,  # reads only; a fixer hands its edits over only when ctx.dry_run is False
        timeout=use.timeout,
        description=use.description or spec.description,
        input_type="object",
        output_type="CheckSummary",
        isolation=use.isolation or isolation,
    )
    return Component(BuiltinCheck(use, before), meta)


def chained(components: Sequence[Component[Any, Any]], selected: Iterable[str]) -> tuple[Component[Any, Any], ...]:
    """``components`` with each built-in among ``selected`` remade to know the run's other
    selected built-ins (its ``peers``, with which it shares one pass over the files) and,
    for a fixer, to start from the selected built-in fixers before it (in this order);
    everything else as it was (a built-in not selected knows no peers)."""
    from omnibase.builtins import CHECKS

    wanted = set(selected)
    peers = tuple(
        c.fn.use for c in components if isinstance(c.fn, BuiltinCheck) and c.name in wanted
    )
    out: list[Component[Any, Any]] = []
    fixers: list[BuiltinUse] = []
    for comp in components:
        fn = comp.fn
        if isinstance(fn, BuiltinCheck):
            mine = comp.name in wanted
            before = tuple(fixers) if mine and CHECKS[fn.use.check].is_fixer else ()
            made = BuiltinCheck(fn.use, before, peers if mine else ())
            if made != fn:
                comp = Component(made, comp.meta)
            if mine and CHECKS[fn.use.check].is_fixer:
                fixers.append(fn.use)
        out.append(comp)
    return tuple(out)


class BuiltinKind(kinds.PythonKind):
    """A built-in check: called like any Python function; a worker process (of the pool,
    or of a Dask cluster) rebuilds the ``BuiltinCheck`` value from its fields."""

    name: str = "builtin"


BUILTIN: Final = BuiltinKind()
kinds.register(BuiltinCheck, BUILTIN)
