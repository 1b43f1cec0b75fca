"""Each row of ``core.outcomes``' table, with the whole error a user sees (every field), and
the run's exit code from mixed failures. The expected values are written out here."""

from __future__ import annotations

from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase.core.intents import Called, InvocationTimedOut
from omnibase.core.outcomes import answer, as_error, classify, code_of, exit_code, misfit, raised
from omnibase.core.step import Component
from omnibase.core.values import (
    Crashed,
    ExitCode,
    Failed,
    Meta,
    Misconfigured,
    ProtocolViolation,
    Raised,
    SecurityViolation,
    Skip,
    Status,
    StepResult,
    TimedOut,
    Unresolved,
)


def _ints(value: object) -> bool:
    return type(value) is list and all(type(v) is int for v in value)


def _comp(check: Any = _ints, name: str = "counts") -> Component[Any, Any]:
    return Component(lambda ctx, x: Success(x), Meta(name=name, output_type="list[int]"), check, out_type=list[int])


# --- a component's answer ----------------------------------------------------------------------


def test_a_success_of_the_declared_type_is_its_value() -> None:
    assert classify(_comp(), Called(Success([1, 2]), None, 0, 1)) == (True, [1, 2])
    assert answer(Success([]), _comp()) == (True, [])


def test_a_skip_fits_even_a_check_that_refuses_it() -> None:
    skip = Skip(reason="nothing to do")
    assert answer(Success(skip), _comp(lambda v: False)) == (True, skip)


def test_a_success_of_another_type_names_the_element_at_fault() -> None:
    expected = ProtocolViolation(message="counts returned list, declared list[int]: [1]: expected int, got str")
    assert answer(Success([1, "2"]), _comp()) == (False, expected)
    assert classify(_comp(), Called(Success([1, "2"]), None, 0, 1)) == (False, expected)


def test_misfit_without_a_type_to_check_names_the_declared_type_only() -> None:
    assert misfit("counts", "3", "int") == ProtocolViolation(message="counts returned str, declared int")
    assert misfit("counts", [1, "2"], "list[int]", list[int]) == ProtocolViolation(
        message="counts returned list, declared list[int]: [1]: expected int, got str"
    )


@pytest.mark.parametrize(
    ("returned", "type_name"), [(None, "NoneType"), (42, "int"), ("ok", "str"), ([Success(1)], "list")]
)
def test_an_answer_that_is_not_a_result_is_a_protocol_violation(returned: object, type_name: str) -> None:
    expected = (False, ProtocolViolation(message=f"counts returned {type_name}, not a Result"))
    assert answer(returned, _comp()) == expected
    assert classify(_comp(), Called(returned, None, 0, 1)) == expected


def test_a_failure_holding_a_typed_error_is_that_error() -> None:
    error = SecurityViolation(message="reads ~/.ssh")
    assert answer(Failure(error), _comp()) == (False, error)


def test_a_failure_holding_an_exception_is_raised_with_no_traceback() -> None:
    assert answer(Failure(KeyError("k")), _comp()) == (False, Raised(exc_type="KeyError", message="'k'", transient=False, traceback=""))
    assert answer(Failure(ConnectionResetError("reset")), _comp()) == (
        False,
        Raised(exc_type="ConnectionResetError", message="reset", transient=True, traceback=""),
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("no", Failed(message="no")),
        ({"line": 3}, Failed(message="{'line': 3}", data={"line": 3})),
        ([1, 2], Failed(message="[1, 2]", data=[1, 2])),
        ((1, "a"), Failed(message="(1, 'a')", data=(1, "a"))),
        (7, Failed(message="7", data=7)),
        (2.5, Failed(message="2.5", data=2.5)),
        (False, Failed(message="False", data=False)),
        (None, Failed(message="None")),
        (b"x", Failed(message="b'x'")),
        ({1}, Failed(message="{1}")),
    ],
)
def test_a_failure_holding_anything_else_is_failed_with_its_text(error: object, expected: Failed) -> None:
    assert as_error(error) == expected
    assert answer(Failure(error), _comp()) == (False, expected)
    assert as_error(error).transient is False


# --- what the performer saw --------------------------------------------------------------------


def test_the_performers_error_wins_over_a_raise_and_an_answer() -> None:
    crashed = Crashed(cause="killed by SIGSEGV", signal=11)
    assert classify(_comp(), Called(Success([1]), ValueError("x"), 0, 1, error=crashed)) == (False, crashed)
    assert classify(_comp(), Called(None, None, 0, 1, error=crashed)) == (False, crashed)


def test_a_raise_is_raised_with_its_traceback() -> None:
    called = Called(Success([1]), OSError("disk full"), 0, 1, traceback="Traceback (most recent call last): ...")
    expected = Raised(exc_type="OSError", message="disk full", transient=False, traceback="Traceback (most recent call last): ...")
    assert classify(_comp(), called) == (False, expected)
    assert classify(_comp(), Called(None, TimeoutError("slow"), 0, 1)) == (
        False,
        Raised(exc_type="TimeoutError", message="slow", transient=True, traceback=""),
    )


def test_the_time_limit_is_timed_out_with_its_seconds() -> None:
    assert classify(_comp(), Called(None, InvocationTimedOut(2.5), 0, 1)) == (False, TimedOut(seconds=2.5))
    ok, error = classify(_comp(), Called(None, InvocationTimedOut(0.25), 0, 1))
    assert not ok and error.seconds == 0.25 and error.transient is True


def test_raised_keeps_the_type_message_and_traceback() -> None:
    assert raised(ValueError("bad"), "tb") == Raised(exc_type="ValueError", message="bad", transient=False, traceback="tb")
    assert raised(ValueError("bad")).traceback == ""
    assert raised(TimeoutError()).transient is True and raised(ConnectionRefusedError()).transient is True
    assert raised(SystemExit(5)) == Raised(exc_type="SystemExit", message="5", transient=False, traceback="")


# --- exit codes ------------------------------------------------------------------------------------


class NotInTheTable:
    """An error kind the table does not know (a plugin's): a plain failure."""


def test_an_error_kind_the_table_does_not_know_is_a_plain_failure() -> None:
    assert code_of(NotInTheTable()) is ExitCode.FAILED  # type: ignore[arg-type]


def _step(status: Status, error: Any = None) -> StepResult:
    return StepResult(name="s", status=status, span_id="1", error=error)


def test_the_runs_own_error_counts_alone() -> None:
    assert exit_code([], Status.FAIL, "completed", Unresolved(name="x", message="m")) == 3
    assert exit_code([], Status.FAIL, "completed", Misconfigured(message="m")) == 2
    assert exit_code([_step(Status.PASS)], Status.PASS, "completed", None) == 0


def test_an_unknown_error_kind_fails_the_run_with_exit_1() -> None:
    assert exit_code([_step(Status.FAIL, NotInTheTable())], Status.FAIL, "completed", None) == 1
    assert exit_code([_step(Status.FAIL, NotInTheTable())], Status.FAIL, "completed", ProtocolViolation(message="p")) == 4


def test_each_rank_beats_every_lower_one() -> None:
    ranked = [
        (SecurityViolation(message="s"), 5),
        (Unresolved(name="n", message="u"), 3),
        (Misconfigured(message="m"), 2),
        (ProtocolViolation(message="p"), 4),
        (Failed(message="f"), 1),
    ]
    for i, (error, code) in enumerate(ranked):
        below = [_step(Status.FAIL, e) for e, _ in ranked[i + 1 :]]
        assert exit_code([*below, _step(Status.FAIL, error)], Status.FAIL, "completed", None) == code
        assert exit_code(below, Status.FAIL, "completed", error) == code


def test_an_interrupted_run_exits_130_whatever_failed() -> None:
    assert exit_code([], Status.PASS, "interrupted", None) == 130
    assert exit_code([_step(Status.FAIL, Unresolved(name="n", message="u"))], Status.FAIL, "interrupted", None) == 130
    assert exit_code([_step(Status.FAIL, Unresolved(name="n", message="u"))], Status.FAIL, "completed", None) == 3
