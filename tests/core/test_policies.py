"""Backoff schedules: exponential, capped, seeded jitter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.core.policies import RetryPolicy, backoff, schedule
from omnibase.testing.strategies import retry_policies


@settings(max_examples=300, deadline=None)
@given(retry_policies(), st.integers(0, 2**32), st.text(max_size=5))
def test_schedule_is_capped_monotone_before_jitter_and_reproducible(p: RetryPolicy, seed: int, key: str) -> None:
    s = schedule(p, seed=seed, key=key)
    assert len(s) == p.max_attempts - 1
    assert s == schedule(p, seed=seed, key=key)
    for n, delay in enumerate(s, start=1):
        base = min(p.cap, p.initial * p.multiplier ** (n - 1))
        assert base <= delay <= base + p.jitter


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert backoff(RetryPolicy(initial=1.0, multiplier=10.0, cap=7.0), 5000) == 7.0


def test_jitter_depends_on_seed() -> None:
    p = RetryPolicy(max_attempts=6, jitter=1.0)
    assert schedule(p, seed=1) != schedule(p, seed=2)


@pytest.mark.parametrize("kw", [{"max_attempts": 0}, {"initial": -1.0}, {"jitter": -0.1}])
def test_invalid_policies_are_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kw)  # type: ignore[arg-type]
