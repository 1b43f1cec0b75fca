"""The circuit breaker state machine: every transition legal, every rule held."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from omnibase.core.policies import (
    CLOSED,
    LEGAL_TRANSITIONS,
    BreakerEvent,
    BreakerMode,
    BreakerPolicy,
    BreakerState,
    admits,
    transition,
)
from omnibase.testing.strategies import breaker_policies


class BreakerMachine(RuleBasedStateMachine):
    """Drives the pure breaker with calls and outcomes at increasing times."""

    def __init__(self) -> None:
        super().__init__()
        self.policy = BreakerPolicy(threshold=3, window=10.0, reset_timeout=5.0, probes=2)
        self.state: BreakerState = CLOSED
        self.now = 0.0
        self.pending = 0  # admitted calls whose outcome is not yet reported

    @rule(policy=breaker_policies())
    def new_policy(self, policy: BreakerPolicy) -> None:
        if self.state == CLOSED and self.pending == 0:
            self.policy = policy

    @rule(dt=st.floats(0, 20, allow_nan=False))
    def wait(self, dt: float) -> None:
        self.now += dt

    @rule()
    def call(self) -> None:
        before = self.state
        allowed = admits(self.policy, before, self.now)
        after = transition(self.policy, before, BreakerEvent.CALL, self.now)
        assert (before.mode, after.mode) in LEGAL_TRANSITIONS
        if before.mode is BreakerMode.OPEN and self.now - before.opened_at < self.policy.reset_timeout:
            assert not allowed and after == before
        if before.mode is BreakerMode.HALF_OPEN:  # the probe limit: never more than `probes` at once
            assert allowed == (before.in_flight + before.passed < self.policy.probes)
            if allowed:
                assert after.in_flight == before.in_flight + 1
            else:
                assert after == before
        if before.mode is BreakerMode.CLOSED:
            assert allowed and after == before
        if allowed:
            self.pending += 1
        self.state = after

    @precondition(lambda self: self.pending > 0)
    @rule(ok=st.booleans())
    def outcome(self, ok: bool) -> None:
        self.pending -= 1
        before = self.state
        after = transition(self.policy, before, BreakerEvent.SUCCESS if ok else BreakerEvent.FAILURE, self.now)
        assert (before.mode, after.mode) in LEGAL_TRANSITIONS
        if before.mode is BreakerMode.HALF_OPEN and not ok:
            assert after.mode is BreakerMode.OPEN and after.opened_at == self.now
        if before.mode is BreakerMode.HALF_OPEN and ok:  # back to closed once every probe passed
            if before.passed + 1 >= self.policy.probes:
                assert after == CLOSED
            else:
                assert after.mode is BreakerMode.HALF_OPEN and after.passed == before.passed + 1
        if before.mode is BreakerMode.OPEN:  # a late outcome of a call admitted before it opened
            assert after == before
        self.state = after

    @invariant()
    def half_open_admits_at_most_the_probe_limit(self) -> None:
        if self.state.mode is BreakerMode.HALF_OPEN:
            assert 1 <= self.state.in_flight + self.state.passed <= self.policy.probes

    @invariant()
    def closed_keeps_only_recent_failures(self) -> None:
        if self.state.mode is BreakerMode.CLOSED:
            assert len(self.state.failures) < self.policy.threshold


TestBreakerMachine = BreakerMachine.TestCase
TestBreakerMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


@settings(max_examples=200, deadline=None)
@given(breaker_policies(), st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=10))
def test_opens_after_threshold_failures_within_window(policy: BreakerPolicy, gaps: list[float]) -> None:
    state, now, times = CLOSED, 0.0, []
    for gap in gaps:
        now += gap
        times.append(now)
        state = transition(policy, state, BreakerEvent.FAILURE, now)
        recent = [t for t in times if now - t < policy.window or t == now]
        if state.mode is BreakerMode.OPEN:
            assert len(recent) >= policy.threshold or len(times) >= policy.threshold
            break
        assert len(state.failures) < policy.threshold


def test_open_breaker_half_opens_after_reset_timeout_and_closes_after_probes() -> None:
    p = BreakerPolicy(threshold=1, window=10.0, reset_timeout=5.0, probes=2)
    s = transition(p, CLOSED, BreakerEvent.FAILURE, 0.0)
    assert s.mode is BreakerMode.OPEN
    assert not admits(p, s, 4.9)
    assert admits(p, s, 5.0)
    s = transition(p, s, BreakerEvent.CALL, 5.0)
    assert s.mode is BreakerMode.HALF_OPEN
    s = transition(p, s, BreakerEvent.CALL, 5.0)
    assert not admits(p, s, 5.0)  # both probes are in flight
    s = transition(p, s, BreakerEvent.SUCCESS, 6.0)
    assert s.mode is BreakerMode.HALF_OPEN
    s = transition(p, s, BreakerEvent.SUCCESS, 6.0)
    assert s == CLOSED


def test_failures_outside_the_window_do_not_count() -> None:
    p = BreakerPolicy(threshold=2, window=1.0)
    s = transition(p, CLOSED, BreakerEvent.FAILURE, 0.0)
    s = transition(p, s, BreakerEvent.FAILURE, 5.0)
    assert s.mode is BreakerMode.CLOSED


def test_a_failure_exactly_one_window_old_no_longer_counts() -> None:
    # The window is half-open, [now - window, now) excluded at its far end: at exactly
    # `window` seconds the old failure has expired.
    p = BreakerPolicy(threshold=2, window=1.0)
    s = transition(p, CLOSED, BreakerEvent.FAILURE, 0.0)
    assert transition(p, s, BreakerEvent.FAILURE, 1.0).mode is BreakerMode.CLOSED
    assert transition(p, s, BreakerEvent.FAILURE, 0.999).mode is BreakerMode.OPEN


def test_the_breaker_reopens_when_a_probe_fails_and_counts_from_then() -> None:
    p = BreakerPolicy(threshold=1, window=10.0, reset_timeout=5.0, probes=2)
    s = transition(p, CLOSED, BreakerEvent.FAILURE, 0.0)
    s = transition(p, s, BreakerEvent.CALL, 5.0)
    s = transition(p, s, BreakerEvent.SUCCESS, 5.5)
    s = transition(p, s, BreakerEvent.CALL, 6.0)
    s = transition(p, s, BreakerEvent.FAILURE, 7.0)
    assert s == BreakerState(mode=BreakerMode.OPEN, opened_at=7.0)
    assert not admits(p, s, 11.9) and admits(p, s, 12.0)


def test_merge_of_two_runs_keeps_the_cautious_state_and_every_failure() -> None:
    from omnibase.core.policies import merge

    p = BreakerPolicy(threshold=3, window=10.0, reset_timeout=5.0)
    opened = lambda at: BreakerState(mode=BreakerMode.OPEN, opened_at=at)  # noqa: E731
    probing = BreakerState(mode=BreakerMode.HALF_OPEN, opened_at=1.0, passed=0)
    base = BreakerState(failures=(1.0,))
    assert merge(p, base, base, opened(4.0)) == opened(4.0)  # we changed nothing: theirs
    assert merge(p, base, opened(4.0), base) == opened(4.0)  # they changed nothing: ours
    assert merge(p, opened(0.0), CLOSED, opened(7.0)) == opened(7.0)  # a probe passed here, failed there
    assert merge(p, opened(0.0), opened(9.0), opened(7.0)) == opened(9.0)  # the later opening
    assert merge(p, base, probing, BreakerState(failures=(1.0, 2.0))) == probing
    two = merge(p, base, BreakerState(failures=(1.0, 2.0)), BreakerState(failures=(1.0, 3.0)))
    assert two == BreakerState(mode=BreakerMode.OPEN, opened_at=3.0)  # 1, 2 and 3 together reach 3
    assert merge(p, CLOSED, BreakerState(failures=(2.0,)), BreakerState(failures=(15.0,))) == BreakerState(failures=(15.0,))
