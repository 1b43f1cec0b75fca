"""Making an execution context at the edge: fresh random ids for a real run."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from omnibase.core.values import ExecCtx

__all__ = ["new_ctx"]


def new_ctx(
    stage: str = "pipeline",
    *,
    seed: int | None = None,
    root: str = ".",
    files: Sequence[str] = (),
    dry_run: bool = False,
    params: Mapping[str, str] | None = None,
) -> ExecCtx:
    """A context with a new run id and a new W3C trace id (32 hex digits, never all zero).

    >>> ctx = new_ctx("test")
    >>> len(ctx.trace_id), ctx.stage
    (32, 'test')
    """
    trace = os.urandom(16).hex()
    while int(trace, 16) == 0:  # pragma: no cover - one chance in 2**128
        trace = os.urandom(16).hex()
    return ExecCtx(
        run_id=os.urandom(8).hex(),
        trace_id=trace,
        stage=stage,
        seed=int.from_bytes(os.urandom(4), "big") if seed is None else seed,
        dry_run=dry_run,
        root=root,
        files=tuple(files),
        params=frozenset((params or {}).items()),
    )
