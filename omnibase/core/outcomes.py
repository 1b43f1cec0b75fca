"""Outcomes: what a component's answer means, and what a run's errors mean for its exit code.

Written once, pure, and used wherever a component runs: the interpreter classifies the
``Called`` every performer hands back (in this thread, a thread pool, a worker process, a
Dask worker), a worker process classifies what its component returned before encoding it,
the recorder of a run keeps each call as classified here, and a pipeline refused before it
starts (``omnibase.core.refusals``) gets its exit code from the same table.

============================================  =======================================
a component's answer                          outcome
============================================  =======================================
``Success(value)`` of the declared type       ok, ``value`` (``Skip`` fits any type)
``Success(value)`` of another type            ``ProtocolViolation`` (exit 4)
``Failure(typed error)``                      that error, as it is, wherever it ran
``Failure(exception)``                        ``Raised``
``Failure(anything else)``                    ``Failed`` (its text; plain data kept)
anything that is not a ``Result``             ``ProtocolViolation`` (exit 4)
a raise                                       ``Raised`` (transient for the exceptions
                                              in ``TRANSIENT_EXCEPTIONS``)
past its time limit                           ``TimedOut``
a crash, a broken limit, a sandbox refusal    the typed error the performer observed
============================================  =======================================

>>> from returns.result import Failure, Success
>>> from omnibase.core.step import component
>>> c = component(lambda ctx, x: Success(x), name="c", output_type="int")
>>> answer(Success(3), c), answer(Failure("no"), c)
((True, 3), (False, Failed(message='no', transient=False, data=None)))
>>> int(code_of(SandboxViolation(action="write"))), int(code_of(TimedOut(seconds=1.0)))
(5, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeAlias

from returns.result import Failure, Success

from omnibase.core.intents import Called, InvocationTimedOut
from omnibase.core.step import Component
from omnibase.core.types import output_error
from omnibase.core.values import (
    CircuitOpen,
    Crashed,
    ExitCode,
    Failed,
    Interrupted,
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

__all__ = [
    "ERROR_TYPES",
    "EXIT_CODES",
    "TRANSIENT_EXCEPTIONS",
    "Outcome",
    "answer",
    "as_error",
    "classify",
    "code_of",
    "exit_code",
    "misfit",
    "raised",
]

#: (True, output) for a success, (False, a typed error) for a failure.
Outcome: TypeAlias = tuple[bool, Any]

#: The exit code of each error kind. A run exits with the highest ranked code of its
#: failed steps (``RANK``); the rest are plain failures (exit 1).
EXIT_CODES: Final[Mapping[type, ExitCode]] = {
    Failed: ExitCode.FAILED,
    Raised: ExitCode.FAILED,
    TimedOut: ExitCode.FAILED,
    CircuitOpen: ExitCode.FAILED,
    Crashed: ExitCode.FAILED,
    Interrupted: ExitCode.FAILED,  # a run that was interrupted exits 130 (its outcome says so)
    ProtocolViolation: ExitCode.PROTOCOL,
    Misconfigured: ExitCode.CONFIG,
    Unresolved: ExitCode.REGISTRY,
    SecurityViolation: ExitCode.SECURITY,
    SandboxViolation: ExitCode.SECURITY,
    ResourceExceeded: ExitCode.SECURITY,
}

#: Most important first: security beats resolution beats configuration beats protocol
#: beats a plain failure (the spec's table, read as a precedence).
RANK: Final = (ExitCode.SECURITY, ExitCode.REGISTRY, ExitCode.CONFIG, ExitCode.PROTOCOL, ExitCode.FAILED)

#: Every typed error: a component's ``Failure`` holding one of these is taken as it is.
ERROR_TYPES: Final = (
    Failed, Raised, TimedOut, CircuitOpen, Crashed, Interrupted, ProtocolViolation, Misconfigured, Unresolved,
    SecurityViolation, SandboxViolation, ResourceExceeded,
)  # fmt: skip

#: Exceptions that say "try again later": a ``Raised`` made from one is transient, so the
#: default retry predicate retries it.
TRANSIENT_EXCEPTIONS: Final = (TimeoutError, ConnectionError)


def code_of(error: StepError) -> ExitCode:
    """The exit code one error stands for.

    >>> int(code_of(Unresolved(name="x", message="no such component")))
    3
    """
    return EXIT_CODES.get(type(error), ExitCode.FAILED)


def exit_code(results: Iterable[StepResult], status: Status, outcome: str, error: StepError | None) -> ExitCode:
    """The spec's exit code for a finished run: 130 when it was interrupted, else the
    highest ranked code among its failed steps' errors and the run's own ``error``, else 1
    when the run failed (a step failed for no error, e.g. a gate), else 0."""
    if outcome == "interrupted":
        return ExitCode.INTERRUPTED
    errors = [r.error for r in results if r.status is Status.FAIL and r.error is not None]
    codes = {EXIT_CODES.get(type(e), ExitCode.FAILED) for e in (*errors, *([error] if error is not None else []))}
    for code in RANK[:-1]:  # a plain failure counts only if the run failed (not, e.g., a WARN)
        if code in codes:
            return code
    return ExitCode.FAILED if status is Status.FAIL else ExitCode.OK


def raised(exc: BaseException, traceback: str = "") -> Raised:
    """The error of a component that raised ``exc`` (``traceback``: its formatted traceback)."""
    return Raised(
        exc_type=type(exc).__name__,
        message=str(exc),
        transient=isinstance(exc, TRANSIENT_EXCEPTIONS),
        traceback=traceback,
    )


def as_error(error: object) -> StepError:
    """What a component's ``Failure(error)`` stands for: a typed error as it is, an
    exception as ``Raised``, anything else as ``Failed`` with its text (and the value
    itself as ``data`` when it is plain data).

    >>> as_error({"line": 3}).data, as_error(KeyError("k")).exc_type
    ({'line': 3}, 'KeyError')
    """
    if isinstance(error, ERROR_TYPES):
        return error
    if isinstance(error, BaseException):
        return raised(error)
    data = error if isinstance(error, (dict, list, tuple, int, float, bool)) else None
    return Failed(message=str(error), data=data)


def misfit(name: str, value: object, declared: str, tp: object = object) -> ProtocolViolation:
    """The error of a component ``name`` that returned ``value``, not its ``declared``
    type; given the type checked, ``tp``, the message names the first element at fault
    (``core.types.output_error``).

    >>> misfit("items", [1, "2"], "list[int]", list[int]).message
    'items returned list, declared list[int]: [1]: expected int, got str'
    """
    if tp is object:
        return ProtocolViolation(message=f"{name} returned {type(value).__name__}, declared {declared}")
    return ProtocolViolation(message=output_error(name, value, tp))


def classify(comp: Component[Any, Any], called: Called) -> Outcome:
    """How a call of ``comp`` went, from the performer's ``Called``: the typed error the
    performer observed, the component's raise (or its time limit), or its answer (see the
    table above). On every invocation: one call, the success first."""
    if called.error is None and called.raised is None:
        returned = called.returned
        if type(returned) is Success:
            out = returned._inner_value  # what unwrap() returns, without the method call
            check = comp.check
            if check is not None and not check(out) and type(out) is not Skip:  # Skip fits any type
                return False, misfit(comp.name, out, comp.meta.output_type, comp.out_type)
            return True, out
        if type(returned) is Failure:
            return False, as_error(returned.failure())
        return False, ProtocolViolation(message=f"{comp.name} returned {type(returned).__name__}, not a Result")
    if called.error is not None:
        return False, called.error
    exc = called.raised
    if isinstance(exc, InvocationTimedOut):
        return False, TimedOut(seconds=exc.seconds)
    return False, raised(exc, called.traceback) if exc is not None else ProtocolViolation(message="no answer")


def answer(returned: object, comp: Component[Any, Any]) -> Outcome:
    """What ``comp`` returned, classified as ``classify`` does (for a process that has the
    returned value in hand: a worker, before it encodes the answer)."""
    return classify(comp, Called(returned, None, 0, 0))
