"""``run`` and ``arun``: an interpreter, a performer and observers put together.

They sit above the loops (``omnibase.drivers._base``) and the performers they default to
(``SyncDriver``, ``AsyncDriver``), so that the loops import no performer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from omnibase.core.policies import BreakerState
from omnibase.core.step import Step
from omnibase.core.values import ExecCtx, RunReport
from omnibase.drivers._base import AsyncPerformer, Observer, Performer, adrive, drive, observers_of
from omnibase.interpreter import interpret

__all__ = ["arun", "run"]

A = TypeVar("A")
B = TypeVar("B")


def run(
    step: Step[A, B],
    value: A,
    ctx: ExecCtx,
    performer: Performer | None = None,
    *,
    observers: Sequence[Observer] = (),
    breakers: dict[str, BreakerState] | None = None,
) -> RunReport[B]:
    """Run ``step`` on ``value`` with ``performer`` (default: a new ``SyncDriver``).

    ``observers`` see every event, after those the performer itself carries. Pass the same
    ``Breakers`` to several runs to keep breaker state across them.

    >>> from returns.result import Result, Success
    >>> from omnibase.core.step import component
    >>> @component
    ... def inc(ctx: ExecCtx, x: int) -> Result[int, str]:
    ...     return Success(x + 1)
    >>> report = run(inc >> inc, 1, ExecCtx(run_id="r", trace_id="0" * 32))
    >>> report.output, report.exit_code, [s.status.value for s in report.steps]
    (3, 0, ['PASS', 'PASS'])
    """
    if performer is None:
        from omnibase.drivers.sync import SyncDriver

        performer = SyncDriver()
    report: RunReport[B] = drive(
        interpret(step, value, ctx, breakers=breakers), performer, observers_of(performer, observers)
    )
    return report


async def arun(
    step: Step[A, B],
    value: A,
    ctx: ExecCtx,
    performer: AsyncPerformer | None = None,
    *,
    observers: Sequence[Observer] = (),
    breakers: dict[str, BreakerState] | None = None,
    jobs: int | None = None,
) -> RunReport[B]:
    """``run``, asynchronously: coroutine components are awaited, branches run concurrently.

    The default performer is a new ``AsyncDriver``; ``jobs`` bounds the invocations in
    flight at once.
    """
    if performer is None:
        from omnibase.drivers.aio import AsyncDriver

        performer = AsyncDriver()
    report: RunReport[B] = await adrive(
        interpret(step, value, ctx, breakers=breakers), performer, observers_of(performer, observers), jobs=jobs
    )
    return report
