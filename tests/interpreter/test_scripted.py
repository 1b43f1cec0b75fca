"""The interpreter alone, driven by hand: each intent it yields gets a scripted answer (no
performer, no clock, no component is ever called), and what it asks for and the report it
returns are checked against concrete values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase import RetryPolicy, retry
from omnibase.core.intents import Called, Invoke, InvocationTimedOut, Now, RetryScheduled, Sleep, Wall
from omnibase.core.step import Component, Step
from omnibase.core.values import Failed, Meta, ProtocolViolation, Raised, RunReport, StepResult, TimedOut
from omnibase.interpreter import interpret
from omnibase.testing import fake_ctx


def _never(ctx: Any, value: Any) -> Any:
    raise AssertionError("the interpreter must not call a component itself")


def _c(name: str, **meta: Any) -> Component[Any, Any]:
    return Component(_never, Meta(name=name, **meta))


class Script:
    """Answers the interpreter: the wall clock is 1000.0, the monotonic clock ticks one second
    per question, each ``Invoke`` gets the next scripted ``Called``, events get None."""

    def __init__(self, *answers: Called) -> None:
        self.answers = list(answers)
        self.asked: list[Any] = []
        self._ticks: Iterator[int] = iter(range(0, 10**15, 10**9))

    def run(self, step: Step[Any, Any], value: Any) -> RunReport[Any]:
        gen = interpret(step, value, fake_ctx())
        answer: Any = None
        try:
            while True:
                intent = gen.send(answer)
                self.asked.append(intent)
                if isinstance(intent, Wall):
                    answer = 1000.0
                elif isinstance(intent, Now):
                    answer = next(self._ticks)
                elif isinstance(intent, Invoke):
                    answer = self.answers.pop(0)
                else:
                    answer = None
        except StopIteration as done:
            assert not self.answers, "a scripted answer was never asked for"
            return done.value  # type: ignore[no-any-return]

    def shape(self) -> list[tuple[Any, ...]]:
        """What was asked, as plain tuples."""
        out: list[tuple[Any, ...]] = []
        for i in self.asked:
            if isinstance(i, Invoke):
                out.append(("invoke", i.component.meta.name, i.value, i.attempt))
            elif isinstance(i, StepResult):
                out.append(("result", i.name, i.status.value))
            elif isinstance(i, RetryScheduled):
                out.append(("retry", i.attempt))
            elif isinstance(i, Sleep):
                out.append(("sleep", i.seconds))
            else:
                out.append((type(i).__name__.lower(),))
        return out


def test_a_sequence_asks_the_clocks_then_each_component_with_the_previous_answer() -> None:
    script = Script(Called(Success(2), None, 5, 7), Called(Failure(Failed(message="no")), None, 8, 9))
    report = script.run(_c("a") >> _c("b"), 1)
    assert script.shape() == [
        ("wall",), ("now",),
        ("invoke", "a", 1, 1), ("result", "a", "PASS"),
        ("invoke", "b", 2, 1), ("result", "b", "FAIL"),
        ("now",),
    ]  # fmt: skip
    assert (report.exit_code, report.started_at, report.duration_s) == (1, 1000.0, 1.0)
    assert [(s.name, s.status.value, s.duration_s) for s in report.steps] == [("a", "PASS", 2e-9), ("b", "FAIL", 1e-9)]
    assert report.steps[1].error == Failed(message="no")
    spans = [i.span_id for i in script.asked if isinstance(i, Invoke)]
    assert len(set(spans)) == 2 and spans == [s.span_id for s in report.steps]


def test_a_failure_skips_what_follows_without_asking_for_it() -> None:
    script = Script(Called(Failure(Failed(message="no")), None, 0, 1))
    report = script.run(_c("a") >> _c("b") >> _c("c"), 0)
    assert [s for s in script.shape() if s[0] == "invoke"] == [("invoke", "a", 0, 1)]
    assert [(s.name, s.status.value) for s in report.steps] == [("a", "FAIL"), ("b", "SKIP"), ("c", "SKIP")]


def test_retry_asks_for_the_backoff_sleeps_between_attempts() -> None:
    transient = Called(Failure(Failed(message="t", transient=True)), None, 0, 1)
    script = Script(transient, transient, Called(Success(9), None, 0, 1))
    policy = RetryPolicy(max_attempts=3, initial=0.5, multiplier=2.0, cap=10.0)
    report = script.run(retry(_c("a", idempotent=True), policy), 1)
    assert script.shape() == [
        ("wall",), ("now",),
        ("invoke", "a", 1, 1), ("result", "a", "FAIL"), ("retry", 1), ("sleep", 0.5),
        ("invoke", "a", 1, 2), ("result", "a", "FAIL"), ("retry", 2), ("sleep", 1.0),
        ("invoke", "a", 1, 3), ("result", "a", "PASS"),
        ("now",),
    ]  # fmt: skip
    assert (report.exit_code, report.output) == (0, 9)
    assert [(s.name, s.status.value, s.attempts) for s in report.steps] == [("a", "PASS", 3)]


def test_retry_never_asks_twice_for_a_component_that_is_not_idempotent() -> None:
    script = Script(Called(Failure(Failed(message="t", transient=True)), None, 0, 1))
    report = script.run(retry(_c("a", idempotent=False), RetryPolicy(max_attempts=5, initial=0.0)), 1)
    assert [s for s in script.shape() if s[0] in ("invoke", "sleep")] == [("invoke", "a", 1, 1)]
    assert report.exit_code == 1


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (Called(None, InvocationTimedOut(2.0), 0, 1), TimedOut(seconds=2.0, transient=True), 1),
        (Called(42, None, 0, 1), ProtocolViolation(message="a returned int, not a Result"), 4),
        (Called(None, ValueError("x"), 0, 1), Raised(exc_type="ValueError", message="x"), 1),
        (Called(Failure("plain text"), None, 0, 1), None, 1),
    ],
    ids=["timed-out", "not-a-result", "raised", "failure-of-a-string"],
)
def test_each_kind_of_answer_is_classified(answer: Called, error: Any, code: int) -> None:
    report = Script(answer).run(_c("a"), 1)
    (step,) = report.steps
    assert (step.status.value, report.exit_code) == ("FAIL", code)
    if error is not None:
        assert step.error == error
    else:
        assert isinstance(step.error, Failed) and "plain text" in step.error.message
