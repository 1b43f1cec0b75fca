"""The built-in checks as components (an edge: reads files, applies fixes).

All built-in components of one run share a ``CheckBatch``: the first one invoked runs
every selected built-in check over the run's files in one pass (each file read once,
CPU-bound work spread over the machine's cores) and the others read their verdicts from
it. The checks themselves are pure and return fixes as values; the component applies a
fixer's edits unless the run is a dry run, and always reports the diff.
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


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a passing built-in check: how many files it looked at."""

    checked: int


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

    def limit_to(self, names: Iterable[str]) -> None:
        """Compute only these checks (the ones a stage selected)."""
        wanted = set(names)
        self.names = tuple(n for n in self.names if n in wanted)

    def verdicts(self, ctx: ExecCtx, name: str) -> list[Any]:
        key = (ctx.root, ctx.files)
        with self._lock:
            if self._key != key:
                names = self.names if name in self.names else (*self.names, name)
                self._verdicts = self._run(ctx, [self.uses[n] for n in names if n in self.uses])
                self._key = key
            return self._verdicts.get(name, [])

    def _run(self, ctx: ExecCtx, uses: list[BuiltinUse]) -> dict[str, list[Any]]:
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
            for verdict in run_builtin_checks(paths, list(members), root=ctx.root, opts=opts):
                out[members[verdict.check].name].append(verdict)
        return out


def _check(name: str, fixer: bool, batch: CheckBatch) -> Any:
    def run_check(ctx: ExecCtx, _value: object) -> Result[CheckSummary | Skip, Failed]:
        from omnibase.builtins import apply_edits

        verdicts = batch.verdicts(ctx, name)
        if not verdicts:
            return Success(Skip(reason="no files to check"))
        failed = [v for v in verdicts if not v.ok]
        if not failed:
            return Success(CheckSummary(checked=len(verdicts)))
        edits = [v.edit for v in failed if v.edit is not None]
        lines = [f.message for v in failed for f in v.findings] or [f"{v.path}: failed" for v in failed]
        lines = list(dict.fromkeys(lines))  # a message about the run, not a file, once
        data: dict[str, Any] = {"files": sorted({v.path for v in failed})}
        if edits:
            data["diff"] = _diffs(edits)
            if not ctx.dry_run:
                # False when another pass's fixer changed the file first: fixed next run
                data["fixed"] = bool(apply_edits(edits, root=ctx.root))
        return Failure(Failed(message="\n".join(lines), data=data))

    run_check.__name__ = name.replace("-", "_")
    return run_check


def _diffs(edits: list[Any]) -> str:
    """The edits' unified diffs, up to ``MAX_DIFF`` characters: diffing is costly on big
    files, so stop computing once the report has enough to show."""
    parts: list[str] = []
    size = 0
    for i, edit in enumerate(edits):
        if size > MAX_DIFF:
            parts.append(f"... ({len(edits) - i} more files changed; diff truncated)\n")
            break
        text = edit.diff()
        parts.append(text)
        size += len(text)
    return "".join(parts)


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
