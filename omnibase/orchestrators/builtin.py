"""The built-in checks as components (an edge: reads files, applies fixes).

Each built-in component runs its own check, and only it, over the run's files: its
duration in the report is its own work, the checks run in parallel under a concurrent
performer, and a component is plain data (``BuiltinCheck``: a name and a flag), so it
pickles and runs in a worker process. The checks themselves are pure and return fixes as
values; the component applies a fixer's edits unless the run is a dry run, and always
reports the diff. Fixers in one process take turns (``_FIXING``): each reads what the one
before wrote, as consecutive pre-commit hooks do; across processes, an edit applies only
to the content it was computed from (``apply_edits``), so no fix is written over another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import ComponentType, ExecCtx, Failed, Lifecycle, Meta, Skip

__all__ = ["BuiltinCheck", "CheckBatch", "CheckSummary", "builtin_components"]

#: Diffs in reports are cut beyond this many characters (per component).
MAX_DIFF = 20_000

#: Fixers of one process read and rewrite the same files: one at a time (module state,
#: not the components', so that they stay picklable).
_FIXING = threading.Lock()


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a passing built-in check: how many files it looked at."""

    checked: int


class CheckBatch(msgspec.Struct, kw_only=True):
    """The built-in checks a stage selected: plain data, no lock and no cache, so that it
    pickles with the components that refer to it."""

    names: tuple[str, ...]

    def limit_to(self, names: Iterable[str]) -> None:
        """Keep only these checks (the ones a stage selected)."""
        wanted = set(names)
        self.names = tuple(n for n in self.names if n in wanted)


class BuiltinCheck(msgspec.Struct, frozen=True):
    """The function of one built-in component: ``(ctx, value) -> Result``. Runs check
    ``name`` alone over ``ctx.files``; a fixer applies its edits unless ``ctx.dry_run``."""

    name: str
    fixer: bool

    def __call__(self, ctx: ExecCtx, _value: object) -> Result[CheckSummary | Skip, Failed]:
        if not ctx.files:  # nothing to check: no pass over the tree, no git queries
            return Success(Skip(reason="no files to check"))
        if not self.fixer:
            return self._judge(ctx)
        with _FIXING:
            return self._judge(ctx)

    def _judge(self, ctx: ExecCtx) -> Result[CheckSummary | Skip, Failed]:
        from omnibase.builtins import apply_edits, run_builtin_checks

        verdicts = run_builtin_checks(ctx.files, (self.name,), root=ctx.root)
        if not verdicts:
            return Success(Skip(reason="no files to check"))
        failed = [v for v in verdicts if not v.ok]
        if not failed:
            return Success(CheckSummary(checked=len(verdicts)))
        edits = [v.edit for v in failed if v.edit is not None]
        lines = [f.message for v in failed for f in v.findings] or [f"{v.path}: failed" for v in failed]
        data: dict[str, Any] = {"files": sorted({v.path for v in failed})}
        if edits:
            data["diff"] = _diffs(edits)
            if not ctx.dry_run:
                apply_edits(edits, root=ctx.root)
                data["fixed"] = True
        return Failure(Failed(message="\n".join(lines), data=data))

    @property
    def __name__(self) -> str:  # what a function would say: the check's name as an identifier
        return self.name.replace("-", "_")


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
    """One component per built-in check, in a stable order, and the batch naming them."""
    from omnibase.builtins import CHECKS

    batch = CheckBatch(names=tuple(CHECKS))
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
        comps.append(Component(BuiltinCheck(name, spec.is_fixer), meta))
    return tuple(comps), batch
