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
    traceparent: str | None = None,
) -> ExecCtx:
    """A context with a new run id and a new W3C trace id (32 hex digits, never all zero).

    With a valid W3C ``traceparent`` (the CLI passes ``$TRACEPARENT``) the run joins that
    trace: its trace id comes from it and ``parent_span_id`` is the caller's span.

    >>> ctx = new_ctx("test")
    >>> len(ctx.trace_id), ctx.stage
    (32, 'test')
    >>> new_ctx(traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").trace_id
    '4bf92f3577b34da6a3ce929d0e0e4736'
    """
    from omnibase.observers.trace import parse_traceparent

    parent = parse_traceparent(traceparent) if traceparent else None
    trace, parent_span = parent if parent is not None else (os.urandom(16).hex(), "")
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
        parent_span_id=parent_span,
    )
