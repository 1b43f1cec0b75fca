"""The one classification of a component's answer, and the one error -> exit code table.

The expected values are the spec's, written down here (not read from the module)."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from returns.result import Failure, Success

from omnibase.core.intents import Called, InvocationTimedOut
from omnibase.core.outcomes import ERROR_TYPES, EXIT_CODES, answer, as_error, classify, code_of, exit_code
from omnibase.core.refusals import refusal_code
from omnibase.core.step import Component
from omnibase.core.values import (
    CircuitOpen,
    Crashed,
    Failed,
    Interrupted,
    Meta,
    Misconfigured,
    ProtocolViolation,
    Raised,
    ResourceExceeded,
    SandboxViolation,
    SecurityViolation,
    Skip,
    Status,
    StepError,
    StepResult,
    TimedOut,
    Unresolved,
)

SPEC: list[tuple[StepError, int]] = [
    (Failed(message="f"), 1),
    (Raised(exc_type="KeyError", message="k"), 1),
    (TimedOut(seconds=1.0), 1),
    (CircuitOpen(key="c"), 1),
    (Crashed(cause="killed by SIGSEGV"), 1),
    (Interrupted(), 1),
    (ProtocolViolation(message="p"), 4),
    (Misconfigured(message="m"), 2),
    (Unresolved(name="n", message="u"), 3),
    (SecurityViolation(message="s"), 5),
    (SandboxViolation(action="write"), 5),
    (ResourceExceeded(resource="memory"), 5),
]


def test_every_error_kind_has_an_exit_code_and_is_taken_as_it_is() -> None:
    kinds = set(typing.get_args(StepError))
    assert set(EXIT_CODES) == kinds and set(ERROR_TYPES) == kinds


@pytest.mark.parametrize(("error", "code"), SPEC, ids=lambda v: type(v).__name__ if not isinstance(v, int) else str(v))
def test_each_error_kind_maps_to_the_spec_exit_code(error: StepError, code: int) -> None:
    assert int(code_of(error)) == code


def test_a_refusal_uses_the_same_table() -> None:
    assert [int(refusal_code(e)) for e in (Unresolved(name="x", message="m"), Misconfigured(message="m"), ProtocolViolation(message="p"))] == [3, 2, 4]


def _is_int(v: object) -> bool:
    return type(v) is int


def _comp(check: Any) -> Component[int, int]:
    return Component(lambda ctx, x: Success(x), Meta(name="c", output_type="int"), check)


def test_a_success_of_the_declared_type_passes_and_a_skip_fits_any_type() -> None:
    assert answer(Success(3), _comp(_is_int)) == (True, 3)
    assert answer(Success(Skip(reason="none")), _comp(_is_int)) == (True, Skip(reason="none"))
    assert answer(Success("3"), _comp(None)) == (True, "3")  # no check: anything passes


def test_a_success_of_another_type_or_a_non_result_is_a_protocol_violation() -> None:
    assert answer(Success("3"), _comp(_is_int)) == (False, ProtocolViolation(message="c returned str, declared int"))
    assert answer(42, _comp(_is_int)) == (False, ProtocolViolation(message="c returned int, not a Result"))


def test_a_returned_typed_error_is_taken_as_it_is_violations_included() -> None:
    for error, _ in SPEC:
        assert answer(Failure(error), _comp(None)) == (False, error)


def test_other_failures_become_raised_or_failed() -> None:
    raised = as_error(ConnectionError("gone"))
    assert isinstance(raised, Raised) and (raised.exc_type, raised.message, raised.transient) == ("ConnectionError", "gone", True)
    assert as_error(KeyError("k")).transient is False
    assert as_error({"line": 3}) == Failed(message="{'line': 3}", data={"line": 3})
    assert as_error("no") == Failed(message="no")
    assert as_error({1, 2}) == Failed(message="{1, 2}")  # not plain data: its text only


def test_a_call_is_classified_by_what_the_performer_saw_first() -> None:
    comp: Component[int, int] = Component(lambda ctx, x: Success(x), Meta(name="c", output_type="int"), _is_int)
    crashed = Crashed(cause="exit status 3", exit_status=3)
    assert classify(comp, Called(Success(1), None, 0, 1, error=crashed)) == (False, crashed)
    assert classify(comp, Called(None, InvocationTimedOut(0.5), 0, 1)) == (False, TimedOut(seconds=0.5))
    ok, raised = classify(comp, Called(None, TimeoutError("slow"), 0, 1, traceback="Traceback ..."))
    assert not ok and raised == Raised(exc_type="TimeoutError", message="slow", transient=True, traceback="Traceback ...")
    assert classify(comp, Called(Success("1"), None, 0, 1)) == (False, ProtocolViolation(message="c returned str, declared int"))


def _step(status: Status, error: StepError | None = None) -> StepResult:
    return StepResult(name="s", status=status, span_id="1", error=error)


def test_the_run_exit_code_is_the_highest_ranked_error() -> None:
    fail = Status.FAIL
    assert exit_code([_step(fail, Unresolved(name="n", message="u")), _step(fail, SandboxViolation(action="x"))], fail, "completed", None) == 5
    assert exit_code([_step(fail, Misconfigured(message="m")), _step(fail, Unresolved(name="n", message="u"))], fail, "completed", None) == 3
    assert exit_code([_step(fail, ProtocolViolation(message="p")), _step(fail, Misconfigured(message="m"))], fail, "completed", None) == 2
    assert exit_code([_step(fail, Failed(message="f"))], fail, "completed", ProtocolViolation(message="p")) == 4
    assert exit_code([_step(fail)], fail, "completed", None) == 1  # failed without an error (a gate)
    assert exit_code([_step(fail, SecurityViolation(message="s"))], fail, "interrupted", None) == 130


def test_errors_of_steps_that_did_not_fail_do_not_decide() -> None:
    warned = _step(Status.WARN, SecurityViolation(message="recovered"))
    assert exit_code([warned], Status.WARN, "completed", None) == 0
    # a failed step whose run still passed (e.g. gating let it through) exits 0
    assert exit_code([_step(Status.FAIL, Failed(message="f"))], Status.PASS, "completed", None) == 0
