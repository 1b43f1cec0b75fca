"""A run that cannot start: its exit code and its report (pure; no step ran).

A typed pipeline whose names do not resolve, whose ``--from``/``--to`` name neither a
subgraph nor a chain, or whose types do not fit, and a snapshot whose pipeline cannot be
rebuilt, all end here: a report with no steps, the error, and the spec's exit code.

>>> from omnibase.core.values import ExecCtx, Unresolved
>>> report = refused(ExecCtx(run_id="r", trace_id="t"), "pipeline", Unresolved(name="x", message="no x"))
>>> report.exit_code, report.steps, report.metadata
(3, (), {'stage': 'pipeline'})
"""

from __future__ import annotations

from omnibase.core.outcomes import code_of
from omnibase.core.values import ExecCtx, ExitCode, RunReport, Status, StepError, Summary

__all__ = ["refusal_code", "refused"]


def refusal_code(error: StepError) -> ExitCode:
    """The exit code of a pipeline that cannot start, from the one table of error kinds
    (``omnibase.core.outcomes.EXIT_CODES``): 3 for a name that does not resolve
    (``Unresolved``), 2 for ``--from``/``--to`` that name neither a subgraph nor a chain
    (``Misconfigured``), 4 for types that do not fit (``ProtocolViolation``)."""
    return code_of(error)


def refused(ctx: ExecCtx, stage: str, error: StepError) -> RunReport:
    """The report of a run that could not start: no steps, the error, its exit code."""
    return RunReport(
        steps=(),
        summary=Summary(status=Status.FAIL),
        exit_code=int(refusal_code(error)),
        run_id=ctx.run_id,
        trace_id=ctx.trace_id,
        stage=stage,
        error=error,
        metadata={"stage": stage},
    )
