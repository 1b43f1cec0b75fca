"""The built-in checks as components (an edge: reads files, applies fixes).

All built-in components of one run share a ``CheckBatch``: the first one invoked runs
every selected built-in check over the run's files in one pass (each file read once,
CPU-bound work spread over the machine's cores) and the others read their verdicts from
it. The checks themselves are pure and return fixes as values; unless the run is a dry
run, the fixers' edits are written once the last fixer has run, one write per file;
every fixer reports its own diff.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import ComponentType, ExecCtx, Failed, Lifecycle, Meta, Skip

__all__ = ["BuiltinUse", "CheckBatch", "CheckSummary", "builtin_components"]

#: Diffs in reports are cut beyond this many characters (per component).
MAX_DIFF = 20_000
#: ... and beyond this many per file.
MAX_FILE_DIFF = 8_000
#: Below this many files the verdict cache costs more (opening it, one more git call)
#: than checking the files does.
MIN_FILES_FOR_CACHE = 32


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a passing built-in check: how many files it looked at."""

    checked: int
    cached: int = 0  # of them, passed before on the same content (the verdict cache)


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


class CheckBatch:
    """Runs the selected built-in checks once per set of files, on first demand.

    Checks that see the same files (most of them: every file) run together in one pass
    over those files, so their fixers chain; a check with a ``files``/``exclude`` of its
    own, or a second use of a check with other flags, runs in a pass of its own.
    """

    def __init__(self, uses: Iterable[BuiltinUse | str]) -> None:
        self.uses = {u.name: u for u in (x if isinstance(x, BuiltinUse) else BuiltinUse(name=x, check=x) for x in uses)}
        self.names = tuple(self.uses)
        self._lock = threading.Lock()
        self._key: tuple[str, tuple[str, ...]] | None = None
        self._verdicts: dict[str, list[Any]] = {}
        self.cached: dict[str, int] = {}
        self._pending: list[Any] = []  # fixers' edits not yet written

    def fix(self, edits: list[Any], root: str, name: str) -> None:
        """Queue a fixer's edits; once the last selected fixer has queued its own, write
        each file once (``apply_edits`` chains the edits of one file)."""
        from omnibase.builtins import CHECKS

        with self._lock:
            self._pending.extend(edits)
            fixers = [n for n in self.names if CHECKS[self.uses[n].check].is_fixer]
            last = not fixers or name == fixers[-1]
        if last:
            self.flush(root)

    def flush(self, root: str) -> None:
        """Write the queued edits (a run stopped early still keeps the fixes it reported)."""
        from omnibase.builtins import apply_edits

        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            apply_edits(pending, root=root)

    def limit_to(self, names: Iterable[str]) -> None:
        """Compute only these checks (the ones a stage selected)."""
        wanted = set(names)
        self.names = tuple(n for n in self.names if n in wanted)

    def verdicts(self, ctx: ExecCtx, name: str) -> list[Any]:
        key = (ctx.root, ctx.files)
        with self._lock:
            if self._key != key:
                names = self.names if name in self.names else (*self.names, name)
                params = dict(ctx.params)
                cache = None
                if params.get("git_dir") and params.get("cache") == "on" and len(ctx.files) >= MIN_FILES_FOR_CACHE:
                    from omnibase.builtins._cache import VerdictCache

                    cache = VerdictCache.for_git_dir(params["git_dir"])
                self.cached = {}
                try:
                    self._verdicts = self._run(ctx, [self.uses[n] for n in names if n in self.uses], cache)
                finally:
                    if cache is not None:
                        cache.close()
                self._key = key
            return self._verdicts.get(name, [])

    def _run(self, ctx: ExecCtx, uses: list[BuiltinUse], cache: Any) -> dict[str, list[Any]]:
        import re

        from omnibase.builtins import CHECKS, options_from_args, run_builtin_checks

        passes: list[tuple[tuple[str, str], dict[str, BuiltinUse]]] = []
        for use in uses:
            selection = (use.files or CHECKS[use.check].files, use.exclude)
            for key, members in passes:
                if key == selection and use.check not in members:
                    members[use.check] = use
                    break
            else:
                passes.append((selection, {use.check: use}))
        out: dict[str, list[Any]] = {use.name: [] for use in uses}
        for (files, exclude), members in passes:
            paths = ctx.files
            if files or exclude != "^$":
                wanted, unwanted = re.compile(files), re.compile(exclude)
                paths = tuple(p for p in paths if wanted.search(p) and not unwanted.search(p))
            if not paths and not any(CHECKS[c].always_run for c in members):
                continue  # nothing to check: no pass over the tree, no git queries
            opts = {c: msgspec.to_builtins(options_from_args(c, u.args)) for c, u in members.items() if u.args}
            params = dict(ctx.params)
            found = run_builtin_checks(
                paths,
                list(members),
                root=ctx.root,
                opts=opts,
                cache=cache,
                stats=self.cached,
                git_dir=params.get("git_dir") or None,
                worktree_is_index=params.get("worktree") == "index",
                added=frozenset(params["added"].split("\0")) - {""} if "added" in params else None,
            )
            for verdict in found:
                out[members[verdict.check].name].append(verdict)
        return out


def _check(name: str, fixer: bool, batch: CheckBatch) -> Any:
    def run_check(ctx: ExecCtx, _value: object) -> Result[CheckSummary | Skip, Failed]:
        verdicts = batch.verdicts(ctx, name)
        if not verdicts:
            return Success(Skip(reason="no files to check"))
        failed = [v for v in verdicts if not v.ok]
        if not failed:
            return Success(CheckSummary(checked=len(verdicts), cached=batch.cached.get(name, 0)))
        edits = [v.edit for v in failed if v.edit is not None]
        lines = [f.message for v in failed for f in v.findings] or [f"{v.path}: failed" for v in failed]
        lines = list(dict.fromkeys(lines))  # a message about the run, not a file, once
        data: dict[str, Any] = {"files": sorted({v.path for v in failed}), "findings": _findings(failed)}
        if edits:
            data["diff"] = _diffs(edits)
            if not ctx.dry_run:
                batch.fix(edits, ctx.root, name)
                data["fixed"] = True
        return Failure(Failed(message="\n".join(lines), data=data))

    run_check.__name__ = name.replace("-", "_")
    return run_check


def _findings(failed: list[Any]) -> list[dict[str, Any]]:
    """Where each failure is, for reports that place findings (SARIF, GitHub annotations):
    ``{"path", "line" (None when unknown), "message"}``; a failed file with no finding gets one."""
    found: list[dict[str, Any]] = []
    for v in failed:
        found += [{"path": f.path, "line": f.line, "message": f.message} for f in v.findings]
        if not v.findings:
            found.append({"path": v.path, "line": None, "message": f"{v.path}: failed"})
    return found


def _diffs(edits: list[Any]) -> str:
    """The edits' unified diffs, bounded: at most ``MAX_FILE_DIFF`` characters per file and
    ``MAX_DIFF`` in all, each cut marked. Work and memory stay proportional to the bound
    (a big file is diffed only around its first change), and the content of a file that
    may hold a secret (``.env`` files, what detect-private-key flags) is never shown."""
    from omnibase._redact import bound

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


def builtin_components(uses: Sequence[BuiltinUse] | None = None) -> tuple[tuple[Component[Any, Any], ...], CheckBatch]:
    """One component per built-in use (default: the default checks), in a stable order,
    and their shared batch."""
    from omnibase.builtins import CHECKS, DEFAULT_CHECKS

    chosen = list(uses) if uses is not None else [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS]
    batch = CheckBatch(chosen)
    comps: list[Component[Any, Any]] = []
    for use in chosen:
        spec = CHECKS[use.check]
        meta = Meta(
            name=use.name,
            type=ComponentType.VALIDATOR,
            lifecycle=use.lifecycle,
            tags=frozenset({"pre-commit", "builtin", "fixer" if spec.is_fixer else "check"}) | use.tags,
            idempotent=True,
            pure=True,  # reads only; a fixer writes only when ctx.dry_run is False
            timeout=use.timeout,
            description=use.description or spec.description,
            input_type="object",
            output_type="CheckSummary",
        )
        comps.append(Component(_check(use.name, spec.is_fixer, batch), meta))
    return tuple(comps), batch
