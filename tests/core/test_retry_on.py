"""What a RetryPolicy retries on: its predicate, named exception types, extra predicates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase import Component, ExecCtx, Failed, FakeDriver, Raised, RetryPolicy, component, retry, run
from omnibase.core.lift import lift_safe
from omnibase.core.values import StepError, TimedOut, is_transient
from omnibase.testing import fake_ctx


class ReadTimeout(Exception):
    """Stands for a third-party client's timeout (httpx's, requests')."""


class SlowRead(ReadTimeout):
    """A subclass: retrying a class retries its subclasses."""


def _flaky(errors: list[object]) -> tuple[object, list[int]]:
    """An idempotent component that fails with ``errors`` in turn (raising exceptions),
    then succeeds; and its call count."""
    calls = [0]

    @component(idempotent=True)
    def flaky(ctx: ExecCtx, x: int) -> Result[int, object]:
        calls[0] += 1
        if calls[0] <= len(errors):
            error = errors[calls[0] - 1]
            if isinstance(error, BaseException):
                raise error
            return Failure(error)
        return Success(x)

    return flaky, calls


def _attempts(policy: RetryPolicy, errors: list[object]) -> int:
    comp, calls = _flaky(errors)
    run(retry(comp, policy), 0, fake_ctx(), FakeDriver())  # type: ignore[arg-type]
    return calls[0]


def test_a_custom_predicate_decides_not_the_transient_flag() -> None:
    wants_flaky = RetryPolicy(max_attempts=5, retry_on=lambda e: isinstance(e, Failed) and "flaky" in e.message)
    assert _attempts(wants_flaky, [Failed(message="flaky"), Failed(message="flaky")]) == 3
    assert _attempts(wants_flaky, [Failed(message="flaky"), Failed(message="broken")]) == 2
    never = RetryPolicy(max_attempts=5, retry_on=lambda e: False)
    assert _attempts(never, [Failed(message="x", transient=True)]) == 1


def test_named_exception_types_and_their_subclasses_are_retried() -> None:
    policy = RetryPolicy(max_attempts=4, retry_exceptions=(ReadTimeout,))
    assert _attempts(policy, [ReadTimeout("slow"), SlowRead("slower")]) == 3
    assert _attempts(policy, [KeyError("k")]) == 1
    assert _attempts(RetryPolicy(max_attempts=4), [ReadTimeout("slow")]) == 1  # not by default


def test_extra_predicates_add_to_the_base_predicate() -> None:
    policy = RetryPolicy(max_attempts=4, retry_when=(lambda e: isinstance(e, Failed) and e.data == 503,))
    assert _attempts(policy, [Failed(message="busy", data=503), Failed(message="t", transient=True)]) == 3
    assert _attempts(policy, [Failed(message="gone", data=410)]) == 1


def test_lift_safe_marks_declared_transient_exceptions() -> None:
    calls = [0]

    def fetch(url: str) -> str:
        calls[0] += 1
        if calls[0] < 3:
            raise SlowRead(url)
        return url.upper()

    comp = lift_safe(fetch, transient=(ReadTimeout,), idempotent=True)
    report = run(retry(comp, RetryPolicy(max_attempts=3)), "u", fake_ctx(), FakeDriver())
    assert report.output == "U" and calls[0] == 3 and report.steps[0].attempts == 3


def test_policies_with_the_same_settings_are_equal() -> None:
    assert RetryPolicy(retry_exceptions=(ReadTimeout,)) == RetryPolicy(retry_exceptions=(ReadTimeout,))
    assert RetryPolicy(retry_exceptions=(ReadTimeout,)) != RetryPolicy(retry_exceptions=(KeyError,))


ERRORS: st.SearchStrategy[StepError] = st.one_of(
    st.builds(Failed, message=st.sampled_from(["flaky", "broken"]), transient=st.booleans(), data=st.sampled_from([None, 503])),
    st.builds(Raised, exc_type=st.sampled_from(["ReadTimeout", "SlowRead", "KeyError"]), message=st.just("m"), transient=st.booleans()),
    st.builds(TimedOut, seconds=st.just(1.0), transient=st.booleans()),
)
PREDICATES = st.sampled_from([is_transient, lambda e: False, lambda e: isinstance(e, Failed) and e.message == "flaky"])


@settings(max_examples=200, deadline=None)
@given(
    base=PREDICATES,
    exceptions=st.sampled_from([(), (ReadTimeout,), (SlowRead,), (KeyError,)]),
    extra=st.sampled_from([(), (lambda e: getattr(e, "data", None) == 503,)]),
    errors=st.lists(ERRORS, max_size=4),
    max_attempts=st.integers(1, 5),
)
def test_attempts_follow_the_policy_decision(base, exceptions, extra, errors, max_attempts) -> None:  # type: ignore[no-untyped-def]
    policy = RetryPolicy(max_attempts=max_attempts, retry_on=base, retry_exceptions=exceptions, retry_when=extra)
    names = {c.__name__ for tp in exceptions for c in (tp, *tp.__subclasses__())}

    def oracle(e: StepError) -> bool:
        by_type = isinstance(e, Raised) and e.exc_type in names
        return bool(base(e)) or any(p(e) for p in extra) or by_type

    expected = 1
    for error in errors:
        if expected >= max_attempts or not oracle(error):
            break
        expected += 1
    assert _attempts(policy, list(errors)) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=4), st.integers(0, 3))
def test_a_step_with_any_non_idempotent_component_is_never_re_run(idempotent: list[bool], failing: int) -> None:
    from omnibase.testing import faulty

    calls = [0]

    @component
    def step(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        calls[0] += 1
        return Success(x)

    failing = min(failing, len(idempotent) - 1)
    faults = [faulty(step, ["transient"] if i == failing else ["ok"], name=f"s{i}") for i in range(len(idempotent))]
    parts: list[Component[int, int]] = [
        c if not flag else component(c.fn, idempotent=True, name=c.name)  # type: ignore[arg-type]  # fn returns object
        for c, flag in zip(faults, idempotent)
    ]
    chain = parts[0]
    for p in parts[1:]:
        chain = chain >> p  # type: ignore[assignment]
    run(retry(chain, RetryPolicy(max_attempts=3)), 0, fake_ctx(), FakeDriver())
    expected = 3 if all(idempotent) else 1
    assert faults[failing].fn.calls == expected  # the copies share the counting callable
