"""The loop every synchronous driver shares: send answers in, perform what comes out."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

from omnibase.core.intents import Called, Event, Fork, Intent, Invoke, Now, Sleep, Wall
from omnibase.core.policies import BreakerState
from omnibase.core.step import Step
from omnibase.core.values import ExecCtx, RunReport, StepResult
from omnibase.interpreter import interpret

__all__ = ["Driver", "Observer", "run"]

#: An observer sees every event (step results, retries, breaker changes) as it happens.
Observer = Callable[[Event], None]


class Driver(Protocol):
    """Anything that can carry an interpreter generator to its end."""

    def drive(self, program: Generator[Intent, Any, Any]) -> Any: ...


class LoopDriver:
    """Base of the synchronous drivers: subclasses say how to invoke, sleep and tell time.

    A ``KeyboardInterrupt`` met while performing an intent is thrown
    into the program, which turns it into a partial report.
    """

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self.observers = tuple(observers)

    def invoke(self, intent: Invoke) -> Called:
        raise NotImplementedError  # pragma: no cover - abstract

    def sleep(self, seconds: float) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def now(self) -> int:
        raise NotImplementedError  # pragma: no cover - abstract

    def wall(self) -> float:
        raise NotImplementedError  # pragma: no cover - abstract

    def perform(self, intent: Intent) -> Any:
        kind = type(intent)
        if kind is Invoke:
            return self.invoke(intent)  # type: ignore[arg-type]
        if kind is StepResult:
            for observe in self.observers:
                observe(intent)  # type: ignore[arg-type]
            return None
        if kind is Now:
            return self.now()
        if kind is Sleep:
            self.sleep(intent.seconds)  # type: ignore[union-attr]
            return None
        if kind is Fork:
            return tuple(self.drive(branch) for branch in intent.branches)  # type: ignore[union-attr]
        if kind is Wall:
            return self.wall()
        for observe in self.observers:  # the remaining intents are events
            observe(intent)  # type: ignore[arg-type]
        return None

    def drive(self, program: Generator[Intent, Any, Any]) -> Any:
        perform = self.perform
        try:
            intent = next(program)
            while True:
                try:
                    answer = perform(intent)
                except KeyboardInterrupt as stop:
                    intent = program.throw(stop)
                    continue
                intent = program.send(answer)
        except StopIteration as done:
            return done.value


def run(
    step: Step[Any, Any],
    value: Any,
    ctx: ExecCtx,
    driver: Driver | None = None,
    *,
    breakers: dict[str, BreakerState] | None = None,
) -> RunReport:
    """Run ``step`` on ``value`` with ``driver`` (default: a new ``SyncDriver``).

    >>> from returns.result import Result, Success
    >>> from omnibase.core.step import component
    >>> @component
    ... def inc(ctx: ExecCtx, x: int) -> Result[int, str]:
    ...     return Success(x + 1)
    >>> report = run(inc >> inc, 1, ExecCtx(run_id="r", trace_id="0" * 32))
    >>> report.output, report.exit_code, [s.status.value for s in report.steps]
    (3, 0, ['PASS', 'PASS'])
    """
    if driver is None:
        from omnibase.drivers.sync import SyncDriver

        driver = SyncDriver()
    report: RunReport = driver.drive(interpret(step, value, ctx, breakers=breakers))
    return report
