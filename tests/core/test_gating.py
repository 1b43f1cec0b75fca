"""Gating is a pure function of the policy and the run history: properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.core.gating import GatePolicy, admit, admit_component, judge, stage_fails, summarise
from omnibase.core.values import Failed, Lifecycle, Meta, Status, StepResult

STAGES = ("pre-commit", "test", "ci", "lint")
OUTCOMES = ("PASS", "WARN", "FAIL", "SKIP")

policies = st.builds(
    GatePolicy,
    requires=st.lists(st.sampled_from(STAGES), unique=True, max_size=3).map(tuple),
    deprecated=st.sampled_from(("fail", "warn")),
    experimental=st.sampled_from(("fail", "warn")),
    max_failures=st.none() | st.integers(0, 6),
    max_failure_percent=st.none() | st.floats(0, 100),
    lifecycles=st.none() | st.lists(st.sampled_from(list(Lifecycle)), unique=True).map(tuple),
)
histories = st.dictionaries(st.sampled_from(STAGES), st.sampled_from(OUTCOMES))


def _result(i: int, lifecycle: Lifecycle, status: Status) -> StepResult:
    error = Failed(message="no") if status is Status.FAIL else None
    return StepResult(name=f"c{i}", status=status, span_id=f"{i:016x}", error=error, meta=Meta(name=f"c{i}", lifecycle=lifecycle))


results = st.lists(st.tuples(st.sampled_from(list(Lifecycle)), st.sampled_from(list(Status))), max_size=12).map(
    lambda rows: [_result(i, lc, s) for i, (lc, s) in enumerate(rows)]
)


def _fails_per_the_spec(policy: GatePolicy, failures: int, ran: int) -> bool:
    """docs/gating.md, written independently of the code: with no limit any failure fails the
    stage; else it fails when it breaks a limit that is given (more than N failures, or more
    than P percent of the components that ran)."""
    if policy.max_failures is None and policy.max_failure_percent is None:
        return failures > 0
    over_count = policy.max_failures is not None and failures > policy.max_failures
    over_share = policy.max_failure_percent is not None and ran > 0 and failures * 100 / ran > policy.max_failure_percent
    return over_count or over_share


@settings(max_examples=200)
@given(policies, st.integers(0, 20), st.integers(0, 20))
def test_the_threshold_rule_is_the_documented_one(policy: GatePolicy, failures: int, more: int) -> None:
    ran = failures + more
    assert stage_fails(policy, failures, ran) == _fails_per_the_spec(policy, failures, ran)


@pytest.mark.parametrize(
    ("max_failures", "max_failure_percent", "failures", "ran", "fails"),
    [
        (None, None, 0, 5, False), (None, None, 1, 5, True),  # no limit: any failure fails
        (2, None, 2, 5, False), (2, None, 3, 5, True),  # at most 2
        (0, None, 0, 0, False), (0, None, 1, 1, True),
        (None, 50.0, 1, 2, False), (None, 50.0, 2, 3, True),  # at most half
        (None, 0.0, 0, 4, False), (None, 0.0, 1, 100, True),
        (None, 100.0, 4, 4, False),  # everything may fail
        (None, 50.0, 0, 0, False),  # nothing ran
        (5, 50.0, 2, 3, True), (1, 90.0, 2, 10, True), (3, 90.0, 3, 10, False),  # either limit fails it
    ],
)
def test_threshold_examples(max_failures: int | None, max_failure_percent: float | None, failures: int, ran: int, fails: bool) -> None:
    policy = GatePolicy(max_failures=max_failures, max_failure_percent=max_failure_percent)
    assert stage_fails(policy, failures, ran) is fails


def test_judge_example_downgrades_an_experimental_failure_and_says_why() -> None:
    rows = [
        _result(0, Lifecycle.STABLE, Status.PASS),
        _result(1, Lifecycle.EXPERIMENTAL, Status.FAIL),
        _result(2, Lifecycle.DEPRECATED, Status.FAIL),
        _result(3, Lifecycle.STABLE, Status.SKIP),
    ]
    judged = judge(GatePolicy(experimental="warn", max_failures=1), "ci", rows)
    assert [(r.name, r.status) for r in judged.results] == [
        ("c0", Status.PASS), ("c1", Status.WARN), ("c2", Status.FAIL), ("c3", Status.SKIP),
    ]
    assert judged.results[1].reason == "experimental: may fail without failing the stage"
    assert not judged.failed  # one failure (c2) of three that ran: at most 1 allowed
    assert [(d.subject, d.verdict, d.rule, d.reason) for d in judged.decisions] == [
        ("c1", "warn", "experimental", "experimental: may fail without failing the stage"),
        ("ci", "pass", "max_failures", "1 of 3 components failed (at most 1 allowed)"),
    ]


@settings(max_examples=200)
@given(policies, histories, st.sampled_from(STAGES), st.sampled_from(STAGES))
def test_admission_is_monotone_in_passed_stages(policy: GatePolicy, history: dict[str, str], stage: str, more: str) -> None:
    before = admit(policy, stage, history)
    after = admit(policy, stage, {**history, more: "PASS"})
    if before.verdict == "run":
        assert after.verdict == "run"
    assert (before.verdict == "run") == all(history.get(s) in ("PASS", "WARN") for s in policy.requires)
    if before.verdict == "refuse":  # the reason names every missing stage
        assert all(s in before.reason for s in policy.requires if history.get(s) not in ("PASS", "WARN"))


@settings(max_examples=200)
@given(policies, st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
def test_more_failures_never_turn_a_failed_stage_into_a_pass(policy: GatePolicy, f1: int, extra: int, ran: int) -> None:
    total = f1 + extra + ran
    if stage_fails(policy, f1, total):
        assert stage_fails(policy, f1 + extra, total)


@settings(max_examples=200)
@given(policies, st.integers(0, 6), st.integers(0, 20), st.integers(1, 20))
def test_a_laxer_threshold_never_fails_what_a_stricter_one_passes(policy: GatePolicy, bump: int, failures: int, ran: int) -> None:
    ran = max(ran, failures)
    strict = GatePolicy(max_failures=policy.max_failures, max_failure_percent=policy.max_failure_percent)
    lax = GatePolicy(
        max_failures=None if policy.max_failures is None else policy.max_failures + bump,
        max_failure_percent=None if policy.max_failure_percent is None else min(100.0, policy.max_failure_percent + bump),
    )
    if not stage_fails(strict, failures, ran):
        assert not stage_fails(lax, failures, ran)


@settings(max_examples=200)
@given(policies, results)
def test_judge_downgrades_exactly_what_the_policy_says_and_records_why(policy: GatePolicy, rows: list[StepResult]) -> None:
    judged = judge(policy, "ci", rows)
    assert [r.name for r in judged.results] == [r.name for r in rows]
    warned = {d.subject for d in judged.decisions if d.verdict == "warn"}
    for before, after in zip(rows, judged.results):
        assert before.meta is not None
        soft = (before.meta.lifecycle is Lifecycle.DEPRECATED and policy.deprecated == "warn") or (
            before.meta.lifecycle is Lifecycle.EXPERIMENTAL and policy.experimental == "warn"
        )
        if before.status is Status.FAIL and soft:
            assert after.status is Status.WARN and after.name in warned and after.reason
        else:
            assert after == before
    failures = sum(r.status is Status.FAIL for r in judged.results)
    ran = sum(r.status is not Status.SKIP for r in judged.results)
    assert judged.failed == _fails_per_the_spec(policy, failures, ran)
    assert judged.decisions[-1].subject == "ci" and judged.decisions[-1].verdict == ("fail" if judged.failed else "pass")
    assert (summarise(judged.results, judged.failed, tolerated=True).status is Status.FAIL) == judged.failed


@settings(max_examples=100)
@given(policies, st.sampled_from(list(Lifecycle)))
def test_lifecycle_gate(policy: GatePolicy, lifecycle: Lifecycle) -> None:
    decision = admit_component(policy, Meta(name="x", lifecycle=lifecycle))
    allowed = policy.lifecycles is None or lifecycle in policy.lifecycles
    assert (decision is None) == allowed
    if decision is not None:
        assert decision.verdict == "skip" and lifecycle.value in decision.reason


def test_default_policy_fails_on_any_failure() -> None:
    policy = GatePolicy()
    assert not stage_fails(policy, 0, 3) and stage_fails(policy, 1, 3)
    assert not stage_fails(GatePolicy(max_failure_percent=50), 1, 2)
    assert stage_fails(GatePolicy(max_failure_percent=50, max_failures=5), 2, 3)


def test_an_empty_stage_passes_so_a_stage_that_requires_it_may_run() -> None:
    # a stage with no component (all filtered out) failed nothing: it is a pass, not a skip,
    # or every stage that requires it would be refused
    judged = judge(GatePolicy(), "pre-commit", [])
    assert not judged.failed and judged.results == ()
    assert [(d.verdict, d.reason) for d in judged.decisions] == [("pass", "0 of 0 components failed (none allowed)")]
    summary = summarise([], judged.failed)
    assert summary.status is Status.PASS and summary.total == 0
    assert admit(GatePolicy(requires=("pre-commit",)), "ci", {"pre-commit": summary.status.value}).verdict == "run"


def test_only_skips_is_a_skipped_stage_and_nothing_passed_it() -> None:
    rows = [_result(0, Lifecycle.STABLE, Status.SKIP), _result(1, Lifecycle.STABLE, Status.SKIP)]
    summary = summarise(rows, judge(GatePolicy(), "ci", rows).failed)
    assert (summary.status, summary.skipped, summary.total) == (Status.SKIP, 2, 2)
    assert admit(GatePolicy(requires=("ci",)), "deploy", {"ci": summary.status.value}).verdict == "refuse"
