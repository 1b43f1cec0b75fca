"""Retry and circuit-breaker policies: data plus pure functions, no clock.

A backoff schedule is ``attempt -> delay``; a breaker is a state machine
``(state, event, now) -> state``. Both are total and deterministic, so they are tested
exhaustively with hypothesis and need no sleeping.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import msgspec

from omnibase.core.values import Failed, Raised, StepError, is_transient

__all__ = [
    "BreakerEvent",
    "Breakers",
    "BreakerMode",
    "BreakerPolicy",
    "BreakerState",
    "DEFAULT_BREAKER",
    "DEFAULT_RETRY",
    "LEGAL_TRANSITIONS",
    "RetryOn",
    "RetryPolicy",
    "admits",
    "backoff",
    "counts",
    "merge",
    "probe_at",
    "schedule",
    "transition",
]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Exponential backoff with a cap, seeded jitter, attempt and deadline limits.

    The delay before attempt ``n + 1`` (after ``n`` failures) is
    ``min(cap, initial * multiplier ** (n - 1)) + jitter * u`` with ``u`` in ``[0, 1)``
    drawn from a generator seeded by ``(seed, key, n)``: the same run sleeps the same.
    ``deadline`` (seconds, from the first attempt) stops retrying once the next sleep
    would cross it.

    Which typed errors are worth another attempt: those ``retry_on`` accepts (default:
    the error's own ``transient`` flag), plus a ``Raised`` error whose exception is one of
    ``retry_exceptions`` (or a subclass: matched by class name, the error keeps no class),
    plus any error one of the ``retry_when`` predicates accepts. ``should_retry`` is that
    decision; ``retry_on`` is kept equal to it, so whoever calls either gets the same.

    >>> class ReadTimeout(Exception): ...
    >>> p = RetryPolicy(retry_exceptions=(ReadTimeout,))
    >>> from omnibase.core.values import Raised
    >>> p.should_retry(Raised(exc_type="ReadTimeout", message="slow")), p.retry_on(Raised(exc_type="KeyError", message=""))
    (True, False)
    """

    max_attempts: int = 3
    initial: float = 0.2
    multiplier: float = 2.0
    cap: float = 5.0
    jitter: float = 0.0
    deadline: float | None = None
    retry_on: Callable[[StepError], bool] = is_transient
    retry_exceptions: tuple[type[BaseException], ...] = ()
    retry_when: tuple[Callable[[StepError], bool], ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial, self.multiplier, self.cap, self.jitter) < 0:
            raise ValueError("delays and multiplier must not be negative")
        if self.deadline is not None and self.deadline < 0:
            raise ValueError("deadline must not be negative")
        for tp in self.retry_exceptions:
            if not (isinstance(tp, type) and issubclass(tp, BaseException)):
                raise TypeError(f"retry_exceptions: {tp!r} is not an exception class")
        if self.retry_exceptions or self.retry_when:
            base = self.retry_on.base if isinstance(self.retry_on, RetryOn) else self.retry_on
            msgspec.structs.force_setattr(self, "retry_on", RetryOn(base, self.retry_exceptions, self.retry_when))

    def should_retry(self, error: StepError) -> bool:
        """Whether ``error`` is worth another attempt under this policy."""
        return bool(self.retry_on(error))


class RetryOn(msgspec.Struct, frozen=True):
    """A retry predicate made of a base predicate, exception types and more predicates:
    true when any of them accepts the error. Compares by value, like the policy."""

    base: Callable[[StepError], bool]
    exceptions: tuple[type[BaseException], ...] = ()
    when: tuple[Callable[[StepError], bool], ...] = ()

    def __call__(self, error: StepError) -> bool:
        if self.base(error) or any(accept(error) for accept in self.when):
            return True
        return isinstance(error, Raised) and any(error.exc_type in _class_names(tp) for tp in self.exceptions)


def _class_names(tp: type[BaseException]) -> set[str]:
    """The names of ``tp`` and of every subclass of it defined so far."""
    seen: set[type[BaseException]] = set()
    stack = [tp]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.add(cls)
            stack.extend(cls.__subclasses__())
    return {cls.__name__ for cls in seen}


def backoff(policy: RetryPolicy, failures: int, *, seed: int = 0, key: str = "") -> float:
    """The delay (seconds) to sleep after ``failures`` failed attempts (``failures >= 1``).

    >>> p = RetryPolicy(initial=1.0, multiplier=2.0, cap=5.0)
    >>> [backoff(p, n) for n in (1, 2, 3, 4)]
    [1.0, 2.0, 4.0, 5.0]
    """
    exponent = failures - 1
    # Guard the power against overflow: past the cap the exponent no longer matters.
    base = policy.cap if exponent > 1000 else min(policy.cap, policy.initial * policy.multiplier**exponent)
    if policy.jitter == 0.0:
        return base
    import random  # only jittered policies pay for it (it imports hashlib)

    # A string seed is hashed with SHA-512 by ``random``: stable across processes.
    return base + policy.jitter * random.Random(f"{seed}:{key}:{failures}").random()


def schedule(policy: RetryPolicy, *, seed: int = 0, key: str = "") -> tuple[float, ...]:
    """Every sleep a run of ``policy`` may take, in order (``max_attempts - 1`` of them).

    >>> schedule(RetryPolicy(max_attempts=4, initial=0.5, multiplier=3.0, cap=10.0))
    (0.5, 1.5, 4.5)
    """
    return tuple(backoff(policy, n, seed=seed, key=key) for n in range(1, policy.max_attempts))


# --- circuit breaker ------------------------------------------------------------------------


class BreakerMode(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerEvent(str, enum.Enum):
    """What the interpreter tells the breaker: a call is about to start, or ended."""

    CALL = "call"
    SUCCESS = "success"
    FAILURE = "failure"


class BreakerPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Open after ``threshold`` failures within ``window`` seconds; after ``reset_timeout``
    let ``probes`` trial calls through (half-open); close once they all succeed.

    ``key`` names the breaker's state (empty: the guarded step's name); steps guarded by
    the same key share one breaker. ``verdicts``: whether a plain ``Failed`` the component
    returned (it ran and said no) counts as a failure; faults (it raised, timed out,
    crashed, or returned an error it calls transient) always count. Times are wall-clock
    seconds, so a state kept between runs (``omnibase._io.breakers``) still means the same.
    """

    threshold: int = 3
    window: float = 60.0
    reset_timeout: float = 30.0
    probes: int = 1
    key: str = ""
    verdicts: bool = True

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.probes < 1:
            raise ValueError("threshold and probes must be at least 1")
        if self.window < 0 or self.reset_timeout < 0:
            raise ValueError("window and reset_timeout must not be negative")


def counts(policy: BreakerPolicy, error: StepError) -> bool:
    """Whether ``error`` counts as a failure for a breaker under ``policy``.

    >>> from omnibase.core.values import TimedOut
    >>> lenient = BreakerPolicy(verdicts=False)
    >>> counts(lenient, Failed(message="3 lint errors")), counts(lenient, TimedOut(seconds=5.0))
    (False, True)
    """
    return policy.verdicts or not isinstance(error, Failed) or error.transient


class BreakerState(msgspec.Struct, frozen=True, kw_only=True):
    """One breaker's state. ``failures`` holds the times of recent failures (closed),
    ``opened_at`` when it last opened, ``in_flight``/``passed`` count half-open probes."""

    mode: BreakerMode = BreakerMode.CLOSED
    failures: tuple[float, ...] = ()
    opened_at: float = 0.0
    in_flight: int = 0
    passed: int = 0


CLOSED = BreakerState()

#: Every (from, to) pair the machine may take; anything else is a bug.
LEGAL_TRANSITIONS: frozenset[tuple[BreakerMode, BreakerMode]] = frozenset(
    {
        (BreakerMode.CLOSED, BreakerMode.CLOSED),
        (BreakerMode.CLOSED, BreakerMode.OPEN),
        (BreakerMode.OPEN, BreakerMode.OPEN),
        (BreakerMode.OPEN, BreakerMode.HALF_OPEN),
        (BreakerMode.HALF_OPEN, BreakerMode.HALF_OPEN),
        (BreakerMode.HALF_OPEN, BreakerMode.OPEN),
        (BreakerMode.HALF_OPEN, BreakerMode.CLOSED),
    }
)


def admits(policy: BreakerPolicy, state: BreakerState, now: float) -> bool:
    """Whether a call starting at ``now`` may invoke the component.

    >>> admits(BreakerPolicy(), BreakerState(mode=BreakerMode.OPEN, opened_at=0.0), 1.0)
    False
    """
    if state.mode is BreakerMode.CLOSED:
        return True
    if state.mode is BreakerMode.OPEN:
        return now - state.opened_at >= policy.reset_timeout
    return state.in_flight + state.passed < policy.probes


def transition(policy: BreakerPolicy, state: BreakerState, event: BreakerEvent, now: float) -> BreakerState:
    """The breaker's next state. ``CALL`` is only sent for calls that ``admits`` allowed;
    a ``CALL`` it would refuse leaves the state as it is.

    >>> p = BreakerPolicy(threshold=2, window=10.0)
    >>> s = transition(p, CLOSED, BreakerEvent.FAILURE, 0.0)
    >>> transition(p, s, BreakerEvent.FAILURE, 1.0).mode
    <BreakerMode.OPEN: 'open'>
    """
    mode = state.mode
    if event is BreakerEvent.CALL:
        if not admits(policy, state, now):
            return state
        if mode is BreakerMode.OPEN:
            return BreakerState(mode=BreakerMode.HALF_OPEN, opened_at=state.opened_at, in_flight=1)
        if mode is BreakerMode.HALF_OPEN:
            return msgspec.structs.replace(state, in_flight=state.in_flight + 1)
        return state
    if mode is BreakerMode.CLOSED:
        if event is BreakerEvent.SUCCESS:
            return state
        recent = tuple(t for t in state.failures if now - t < policy.window) + (now,)
        if len(recent) >= policy.threshold:
            return BreakerState(mode=BreakerMode.OPEN, opened_at=now)
        return BreakerState(failures=recent)
    if mode is BreakerMode.HALF_OPEN:
        if event is BreakerEvent.FAILURE:
            return BreakerState(mode=BreakerMode.OPEN, opened_at=now)
        passed = state.passed + 1
        if passed >= policy.probes:
            return CLOSED
        return msgspec.structs.replace(state, in_flight=max(0, state.in_flight - 1), passed=passed)
    # OPEN: an outcome of a call admitted before the breaker opened; it changes nothing.
    return state


def probe_at(policy: BreakerPolicy, state: BreakerState) -> float | None:
    """When (wall-clock seconds) an open breaker lets its next probe through; None when
    it is not open.

    >>> probe_at(BreakerPolicy(reset_timeout=30.0), BreakerState(mode=BreakerMode.OPEN, opened_at=100.0))
    130.0
    """
    return state.opened_at + policy.reset_timeout if state.mode is BreakerMode.OPEN else None


def merge(policy: BreakerPolicy, base: BreakerState, ours: BreakerState, theirs: BreakerState) -> BreakerState:
    """One breaker's state after two runs that both started from ``base`` ended at
    ``ours`` and ``theirs`` (a run that changed nothing yields to the other). When both
    changed it, the cautious answer wins: open beats half-open beats closed (the open one
    that opened last; the half-open one with fewer probes passed), and two closed states
    keep the failures of both, opening when together they reach the threshold.

    >>> p = BreakerPolicy(threshold=2, window=60.0)
    >>> one, other = BreakerState(failures=(1.0,)), BreakerState(failures=(2.0,))
    >>> merge(p, CLOSED, one, other)
    BreakerState(mode=<BreakerMode.OPEN: 'open'>, failures=(), opened_at=2.0, in_flight=0, passed=0)
    """
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    both = (ours, theirs)
    opened = [s for s in both if s.mode is BreakerMode.OPEN]
    if opened:
        return max(opened, key=lambda s: s.opened_at)
    probing = [s for s in both if s.mode is BreakerMode.HALF_OPEN]
    if probing:
        return min(probing, key=lambda s: s.passed)
    failures = sorted(set(theirs.failures) | (set(ours.failures) - set(base.failures)))
    if not failures:
        return CLOSED
    last = failures[-1]
    recent = tuple(t for t in failures if last - t < policy.window)
    if len(recent) >= policy.threshold:
        return BreakerState(mode=BreakerMode.OPEN, opened_at=last)
    return BreakerState(failures=recent)


class Breakers(dict[str, BreakerState]):
    """Circuit-breaker state by key: the value a caller keeps to carry breakers across runs.

    Every run starts with closed breakers unless it is given a ``Breakers``; the run
    updates it in place, so passing the same object to the next run continues from there.

    >>> b = Breakers()
    >>> b.mode("fetch")
    <BreakerMode.CLOSED: 'closed'>
    """

    def mode(self, key: str) -> BreakerMode:
        """The mode of breaker ``key`` (closed when it was never used)."""
        return self.get(key, CLOSED).mode


#: The one set of defaults: what ``guard`` wraps a component in when the registry says
#: nothing, and what a registry ``retry:``/``breaker:`` mapping starts from.
DEFAULT_RETRY = RetryPolicy()
#: A component's own verdict (a plain ``Failed``: a check that ran and said no) does not
#: count: a failing lint must not short-circuit the next run; its faults do.
DEFAULT_BREAKER = BreakerPolicy(verdicts=False)
