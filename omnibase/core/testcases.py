"""Test cases: the one shape every format reads, whichever runner produced them.

A test component (the built-in pytest runner, a unittest or command runner whose JUnit XML
is read back) reports one ``TestCase`` per test it ran, inside a ``TestRun`` as its value,
or under ``tests`` in its failure's data. ``cases_of`` reads them back from a step, whether
the step holds the structs themselves or, from a decoded report or a user's component,
plain mappings of the same fields.

>>> case = TestCase(name="tests/test_a.py::test_one", outcome="failed", message="assert 1 == 2")
>>> case.status
'FAIL'
>>> [c.name for c in cases_of({"tests": [{"name": "t", "outcome": "passed"}]})]
['t']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

__all__ = ["OUTCOMES", "TestCase", "TestRun", "cases_of", "failure_summary", "step_cases", "outcome_status"]

#: A runner's outcome word -> the report's status of the test case. ``xfailed`` is an
#: expected failure (skipped, as JUnit and pytest's own junit report count it); ``xpassed``
#: an unexpected pass of a non-strict xfail (passes); ``error`` a failure outside the test's
#: body (setup, teardown, collection), still a failure.
OUTCOMES: dict[str, str] = {
    "passed": "PASS",
    "failed": "FAIL",
    "error": "FAIL",
    "skipped": "SKIP",
    "xfailed": "SKIP",
    "xpassed": "PASS",
}


def outcome_status(outcome: str) -> str:
    """The status (``PASS``, ``FAIL``, ``SKIP``) of a runner's outcome word; an unknown
    word is a failure (a case nobody can vouch for does not pass).

    >>> outcome_status("xfailed"), outcome_status("error"), outcome_status("odd")
    ('SKIP', 'FAIL', 'FAIL')
    """
    return OUTCOMES.get(outcome, "FAIL")


class TestCase(msgspec.Struct, frozen=True, kw_only=True):
    """One test case as a runner reported it.

    ``name``: its id (pytest's node id, ``path::Class::test[param]``); ``outcome``: the
    runner's word (a key of ``OUTCOMES``); ``duration_s``: the time of its phases together;
    ``message``: the failure's or skip's one-line reason; ``traceback``: the relevant part
    of the failure's traceback; ``path``/``line``: where a failure points (the test's file,
    1-based line), for the formats that annotate code; ``attempts``: how many times it ran
    in this run (more than one when a flaky case was retried); ``flaky``: it is marked as
    not idempotent-safe to trust on one try (``@pytest.mark.flaky``).
    """

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    outcome: str
    duration_s: float = 0.0
    message: str = ""
    traceback: str = ""
    path: str | None = None
    line: int | None = None
    attempts: int = 1
    flaky: bool = False

    @property
    def status(self) -> str:
        return outcome_status(self.outcome)


class TestRun(msgspec.Struct, frozen=True, kw_only=True):
    """What a test component returns: its runner, the command it ran, its exit code,
    every test case, and notes for the reader (an option that could not apply)."""

    __test__ = False

    runner: str
    argv: tuple[str, ...] = ()
    exit_code: int = 0
    tests: tuple[TestCase, ...] = ()
    notes: tuple[str, ...] = ()

    def flaky_failures(self) -> tuple[TestCase, ...]:
        """The failed cases marked flaky (what another attempt reruns)."""
        return tuple(c for c in self.tests if c.status == "FAIL" and c.flaky)


def _case(entry: Any) -> TestCase | None:
    if isinstance(entry, TestCase):
        return entry
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        return None
    outcome = entry.get("outcome")
    if not isinstance(outcome, str):  # a mapping that gives only a status (html's older shape)
        status = str(entry.get("status", "")).upper()
        outcome = {"PASS": "passed", "SKIP": "skipped", "WARN": "passed"}.get(status, "failed")
    fields = {k: entry[k] for k in TestCase.__struct_fields__ if k in entry and k not in ("name", "outcome")}
    try:
        return msgspec.convert({"name": entry["name"], "outcome": outcome, **fields}, TestCase)
    except msgspec.ValidationError:
        return TestCase(name=entry["name"], outcome=outcome)


def cases_of(holder: Any) -> list[TestCase]:
    """The test cases ``holder`` carries: a ``TestRun``, or a mapping with a ``tests``
    list (entries that are not a case or a mapping with a string ``name`` are left out)."""
    entries: Iterable[Any]
    if isinstance(holder, TestRun):
        entries = holder.tests
    elif isinstance(holder, Mapping) and isinstance(holder.get("tests"), (list, tuple)):
        entries = holder["tests"]
    else:
        return []
    return [c for c in map(_case, entries) if c is not None]


def step_cases(step: Any) -> list[TestCase]:
    """The test cases a step reports: in its value, then in its failure's data."""
    error = getattr(step, "error", None)
    return cases_of(step.value) + cases_of(getattr(error, "data", None))


def failure_summary(cases: Iterable[TestCase], *, limit: int = 20) -> str:
    """The failed cases one per line, as pytest's short summary writes them
    (``FAILED id - message``; ``ERROR`` for an error), at most ``limit`` of them.

    >>> print(failure_summary([TestCase(name="t::a", outcome="failed", message="boom"),
    ...                        TestCase(name="t::b", outcome="passed")]))
    FAILED t::a - boom
    """
    bad = [c for c in cases if c.status == "FAIL"]
    lines = [f"{'ERROR' if c.outcome == 'error' else 'FAILED'} {c.name}" + (f" - {_first(c.message)}" if c.message.strip() else "") for c in bad[:limit]]
    if len(bad) > limit:
        lines.append(f"... and {len(bad) - limit} more")
    return "\n".join(lines)


def _first(text: str) -> str:
    return text.strip().splitlines()[0]
