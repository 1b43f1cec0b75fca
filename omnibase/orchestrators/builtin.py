"""The built-in checks as components (an edge: reads files, applies fixes).

All built-in components of one run share a ``CheckBatch``: the first one invoked runs
every selected built-in check over the run's files in one pass (each file read once,
CPU-bound work spread over the machine's cores) and the others read their verdicts from
it. The checks themselves are pure and return fixes as values; the component applies a
fixer's edits unless the run is a dry run, and always reports the diff.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import ComponentType, ExecCtx, Failed, Lifecycle, Meta, Skip

__all__ = ["CheckBatch", "CheckSummary", "builtin_components"]

#: Diffs in reports are cut beyond this many characters (per component).
MAX_DIFF = 20_000


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a passing built-in check: how many files it looked at."""

    checked: int


class CheckBatch:
    """Runs the selected built-in checks once per set of files, on first demand."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        self._lock = threading.Lock()
        self._key: tuple[str, tuple[str, ...]] | None = None
        self._verdicts: dict[str, list[Any]] = {}

    def limit_to(self, names: Iterable[str]) -> None:
        """Compute only these checks (the ones a stage selected)."""
        wanted = set(names)
        self.names = tuple(n for n in self.names if n in wanted)

    def verdicts(self, ctx: ExecCtx, name: str) -> list[Any]:
        from omnibase.builtins import run_builtin_checks

        if not ctx.files:  # nothing to check: no pass over the tree, no git queries
            return []
        key = (ctx.root, ctx.files)
        with self._lock:
            if self._key != key:
                names = self.names if name in self.names else (*self.names, name)
                found = run_builtin_checks(ctx.files, names, root=ctx.root)
                self._verdicts = {n: [] for n in names}
                for verdict in found:
                    self._verdicts.setdefault(verdict.check, []).append(verdict)
                self._key = key
            return self._verdicts.get(name, [])


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
        data: dict[str, Any] = {"files": sorted({v.path for v in failed}), "findings": _findings(failed)}
        if edits:
            data["diff"] = _diffs(edits)
            if not ctx.dry_run:
                apply_edits(edits, root=ctx.root)
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


def builtin_components() -> tuple[tuple[Component[Any, Any], ...], CheckBatch]:
    """One component per built-in check, in a stable order, and their shared batch."""
    from omnibase.builtins import CHECKS

    batch = CheckBatch(CHECKS)
    comps: list[Component[Any, Any]] = []
    for name, spec in CHECKS.items():
        meta = Meta(
            name=name,
            type=ComponentType.VALIDATOR,
            lifecycle=Lifecycle.STABLE,
            tags=frozenset({"pre-commit", "builtin", "fixer" if spec.is_fixer else "check"}),
            idempotent=True,
            pure=True,  # reads only; a fixer writes only when ctx.dry_run is False
            description=spec.description,
            input_type="object",
            output_type="CheckSummary",
        )
        comps.append(Component(_check(name, spec.is_fixer, batch), meta))
    return tuple(comps), batch
