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
from typing import Any, TypeVar

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

_IDENTITY: Identity[Any] = Identity()


def identity() -> Step[A, A]:
    """The step that passes its input through and records nothing: ``identity() >> s`` and
    ``s >> identity()`` behave exactly as ``s``."""
    return _IDENTITY


def sequence(steps: Iterable[Step[A, A]]) -> Step[A, A]:
    """``s1 >> s2 >> ...`` for steps of one type; the empty sequence is ``identity()``."""
    return reduce(Then, steps, identity())


def retry(step: Step[A, B], policy: RetryPolicy | None = None) -> Step[A, B]:
    """Re-run ``step`` when it fails with an error ``policy.retry_on`` accepts.

    Only steps whose components are all ``idempotent`` are ever re-run; around anything
    else ``retry`` makes exactly one attempt.
    """
    return Retry(step, policy or RetryPolicy())


def breaker(step: Step[A, B], policy: BreakerPolicy | None = None, *, key: str | None = None) -> Step[A, B]:
    """Guard ``step`` with a circuit breaker. Breakers with the same ``key`` (default: the
    step's name) share state for the whole run."""
    return Breaker(step, policy or BreakerPolicy(), key)


def timeout(step: Step[A, B], seconds: float) -> Step[A, B]:
    """Fail ``step`` with ``TimedOut`` when it takes longer than ``seconds``."""
    if seconds <= 0:
        raise ValueError("timeout must be positive")
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


def fallback(step: Step[A, B], alternative: Step[A, B]) -> Step[A, B]:
    """Run ``alternative`` on the same input when ``step`` fails; the failure becomes WARN."""
    return Fallback(step, alternative)


def all_of(steps: Sequence[Step[A, Any]], *, fail_fast: bool = False, name: str = "all_of") -> Step[A, tuple[Any, ...]]:
    """Run every step on the same input and collect the outputs, in order. Failures of some
    do not stop the others unless ``fail_fast``; a concurrent driver runs them in parallel."""
    return AllOf(steps, fail_fast=fail_fast, name=name)
