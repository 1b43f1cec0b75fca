"""The combinators: pure functions from steps (and policies) to steps.

The primary form is ``combinator(step, ...)``; each returns a new step and never changes
the one it wraps. ``filter_by`` is the one that works on components rather than steps:
it returns what a stage keeps and, with reasons, what it leaves out.

>>> from returns.result import Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> @component(idempotent=True)
... def fetch(ctx: ExecCtx, url: str) -> Result[str, str]:
...     return Success(url.upper())
>>> guarded = breaker(retry(fetch, RetryPolicy(max_attempts=3)), BreakerPolicy())
>>> guarded.name
'fetch'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from typing import Any, Protocol, TypeVar, overload

from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.step import (
    AllOf,
    Breaker,
    DryRun,
    Fallback,
    Identity,
    Profile,
    Recover,
    Retry,
    Step,
    Then,
    Timeout,
)
from omnibase.core.values import StepError

__all__ = [
    "all_of",
    "breaker",
    "dry_run",
    "fallback",
    "identity",
    "profile",
    "recover",
    "retry",
    "sequence",
    "timeout",
]

A = TypeVar("A")
B = TypeVar("B")
B1 = TypeVar("B1")
B2 = TypeVar("B2")
B3 = TypeVar("B3")
B4 = TypeVar("B4")
B5 = TypeVar("B5")
B6 = TypeVar("B6")
B7 = TypeVar("B7")
B8 = TypeVar("B8")

_IDENTITY: Identity[Any] = Identity()


def identity() -> Step[A, A]:
    """The step that passes its input through and records nothing: ``identity() >> s`` and
    ``s >> identity()`` behave exactly as ``s``."""
    return _IDENTITY


def sequence(steps: Iterable[Step[A, A]]) -> Step[A, A]:
    """``s1 >> s2 >> ...`` for steps of one type; the empty sequence is ``identity()``.
    (No identity is added in front of a non-empty sequence: its name and its snapshot
    shape are those of the chain the user wrote.)"""
    steps = tuple(steps)
    return reduce(Then, steps) if steps else identity()


def retry(step: Step[A, B], policy: RetryPolicy | None = None) -> Step[A, B]:
    """Re-run ``step`` when it fails with an error ``policy.retry_on`` accepts.

    Only steps whose components are all ``idempotent`` are ever re-run; around anything
    else ``retry`` makes exactly one attempt.
    """
    return Retry(step, policy or RetryPolicy())


def breaker(step: Step[A, B], policy: BreakerPolicy | None = None, *, key: str | None = None) -> Step[A, B]:
    """Guard ``step`` with a circuit breaker. Breakers with the same ``key`` (default: the
    policy's ``key``, else the step's name) share state for the whole run, and across runs
    when the run is given the same ``Breakers`` (or a store: ``omnibase._io.breakers``)."""
    policy = policy or BreakerPolicy()
    return Breaker(step, policy, key or policy.key or None)


def timeout(step: Step[A, B], seconds: float) -> Step[A, B]:
    """Fail ``step`` with ``TimedOut`` when it takes longer than ``seconds`` (a positive
    number: anything else is a ``ValueError``)."""
    return Timeout(step, seconds)


def profile(step: Step[A, B], label: str | None = None) -> Step[A, B]:
    """Record ``step``'s wall time in the report's ``profile`` under ``label``."""
    return Profile(step, label)


def dry_run(step: Step[A, B]) -> Step[A, B]:
    """Preview ``step``: pure components run with ``ctx.dry_run`` set, every other one is
    reported as SKIP ("dry-run") and never invoked."""
    return DryRun(step)


def recover(step: Step[A, B], handler: Callable[[StepError], B]) -> Step[A, B]:
    """Turn a failure of ``step`` into the value ``handler(error)``; its failed results are
    reported as WARN."""
    return Recover(step, handler)


class _Exactly(Protocol[A, B]):
    """A step seen through ``or_else``, whose parameter pins its output type exactly: matching
    it gives mypy both a lower and an upper bound on ``B``, so ``fallback`` cannot widen."""

    def or_else(self, alternative: Step[A, B], /) -> Step[A, B]: ...


def fallback(step: _Exactly[A, B], alternative: Step[A, B]) -> Step[A, B]:
    """Run ``alternative`` on the same input when ``step`` fails; the failure becomes WARN.

    ``alternative`` must produce ``step``'s output type (or a subtype): a
    ``Step[int, bool]`` behind a ``Step[int, str]`` is a mypy error, not a silent
    ``Step[int, object]``. ``step.or_else(alternative)`` is the same.
    """
    return step.or_else(alternative)


@overload
def all_of(*, fail_fast: bool = ..., name: str = ...) -> Step[Any, tuple[()]]: ...
@overload
def all_of(s1: Step[A, B1], /, *, fail_fast: bool = ..., name: str = ...) -> Step[A, tuple[B1]]: ...
@overload
def all_of(
    s1: Step[A, B1], s2: Step[A, B2], /, *, fail_fast: bool = ..., name: str = ...
) -> Step[A, tuple[B1, B2]]: ...
@overload
def all_of(
    s1: Step[A, B1], s2: Step[A, B2], s3: Step[A, B3], /, *, fail_fast: bool = ..., name: str = ...
) -> Step[A, tuple[B1, B2, B3]]: ...
@overload
def all_of(
    s1: Step[A, B1], s2: Step[A, B2], s3: Step[A, B3], s4: Step[A, B4], /, *, fail_fast: bool = ..., name: str = ...
) -> Step[A, tuple[B1, B2, B3, B4]]: ...
@overload
def all_of(
    s1: Step[A, B1],
    s2: Step[A, B2],
    s3: Step[A, B3],
    s4: Step[A, B4],
    s5: Step[A, B5],
    /,
    *,
    fail_fast: bool = ...,
    name: str = ...,
) -> Step[A, tuple[B1, B2, B3, B4, B5]]: ...
@overload
def all_of(
    s1: Step[A, B1],
    s2: Step[A, B2],
    s3: Step[A, B3],
    s4: Step[A, B4],
    s5: Step[A, B5],
    s6: Step[A, B6],
    /,
    *,
    fail_fast: bool = ...,
    name: str = ...,
) -> Step[A, tuple[B1, B2, B3, B4, B5, B6]]: ...
@overload
def all_of(
    s1: Step[A, B1],
    s2: Step[A, B2],
    s3: Step[A, B3],
    s4: Step[A, B4],
    s5: Step[A, B5],
    s6: Step[A, B6],
    s7: Step[A, B7],
    /,
    *,
    fail_fast: bool = ...,
    name: str = ...,
) -> Step[A, tuple[B1, B2, B3, B4, B5, B6, B7]]: ...
@overload
def all_of(
    s1: Step[A, B1],
    s2: Step[A, B2],
    s3: Step[A, B3],
    s4: Step[A, B4],
    s5: Step[A, B5],
    s6: Step[A, B6],
    s7: Step[A, B7],
    s8: Step[A, B8],
    /,
    *,
    fail_fast: bool = ...,
    name: str = ...,
) -> Step[A, tuple[B1, B2, B3, B4, B5, B6, B7, B8]]: ...
@overload
def all_of(steps: Sequence[Step[A, B]], /, *, fail_fast: bool = ..., name: str = ...) -> Step[A, tuple[B, ...]]: ...
@overload
def all_of(
    *steps: Step[A, B], fail_fast: bool = ..., name: str = ...
) -> Step[A, tuple[B, ...]]: ...


def all_of(*steps: Any, fail_fast: bool = False, name: str = "all_of") -> Step[Any, Any]:
    """Run every step on the same input and collect the outputs, in order, as a tuple.

    Give the branches as arguments, ``all_of(parse, shout)``, and each keeps its type
    (``Step[str, tuple[int, str]]``, up to 8 branches; more give ``tuple[B, ...]``), or
    as one sequence of steps of one type, ``all_of([a, b, c])`` (``Step[A, tuple[B, ...]]``).
    Failures of some do not stop the others unless ``fail_fast``; a concurrent driver
    runs them in parallel.
    """
    one_sequence = len(steps) == 1 and isinstance(steps[0], Sequence)
    branches: Sequence[Step[Any, Any]] = tuple(steps[0]) if one_sequence else steps
    return AllOf(branches, fail_fast=fail_fast, name=name)
