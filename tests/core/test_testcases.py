"""core/testcases.py: the one shape of a test case, read back from structs or mappings."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from omnibase.core.testcases import OUTCOMES, TestCase, TestRun, cases_of, failure_summary, outcome_status, step_cases
from omnibase.core.values import Failed, Status, StepResult

cases = st.builds(
    TestCase,
    name=st.text(min_size=1, max_size=20),
    outcome=st.sampled_from(sorted(OUTCOMES)),
    duration_s=st.floats(min_value=0, max_value=1e6),
    message=st.text(max_size=30),
    line=st.none() | st.integers(min_value=1, max_value=10_000),
    attempts=st.integers(min_value=1, max_value=5),
    flaky=st.booleans(),
)


@given(st.lists(cases, max_size=8))
def test_cases_read_back_the_same_from_a_decoded_report(tests: list[TestCase]) -> None:
    run = TestRun(runner="pytest", tests=tuple(tests))
    decoded = msgspec.json.decode(msgspec.json.encode(run))  # what a JSON report holds
    assert cases_of(decoded) == tests
    assert cases_of(run) == tests


def test_outcomes_map_to_the_statuses_a_person_expects() -> None:
    assert [outcome_status(o) for o in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")] == [
        "PASS", "FAIL", "FAIL", "SKIP", "SKIP", "PASS",
    ]  # fmt: skip
    assert outcome_status("something new") == "FAIL"


def test_a_status_only_mapping_is_still_a_case() -> None:
    found = cases_of({"tests": [{"name": "a", "status": "PASS"}, {"name": "b", "status": "skip"}, {"nope": 1}, "x"]})
    assert [(c.name, c.status) for c in found] == [("a", "PASS"), ("b", "SKIP")]


def test_step_cases_reads_the_value_and_the_failure_data() -> None:
    passing = StepResult(name="p", status=Status.PASS, span_id="1", value=TestRun(runner="r", tests=(TestCase(name="t", outcome="passed"),)))
    failing = StepResult(
        name="f", status=Status.FAIL, span_id="2",
        error=Failed(message="x", data={"tests": [{"name": "u", "outcome": "failed", "message": "boom"}]}),
    )  # fmt: skip
    assert [c.name for c in step_cases(passing)] == ["t"]
    assert [(c.name, c.message) for c in step_cases(failing)] == [("u", "boom")]


def test_failure_summary_writes_pytest_s_short_lines_and_is_bounded() -> None:
    many = [TestCase(name=f"t{i}", outcome="failed", message="first\nsecond") for i in range(25)]
    lines = failure_summary([TestCase(name="e", outcome="error", message="setup"), *many], limit=3).splitlines()
    assert lines == ["ERROR e - setup", "FAILED t0 - first", "FAILED t1 - first", "... and 23 more"]
