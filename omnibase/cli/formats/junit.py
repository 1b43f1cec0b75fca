"""``junit``: the report as JUnit XML, the shape Jenkins, GitLab and GitHub test reporters read.

One ``<testsuite>`` per run (named after the stage) inside ``<testsuites>``; one
``<testcase>`` per component (``classname`` ``omnibase.<stage>``), or, for a step that ran
tests, one per test case it reports (``classname`` and ``name`` as pytest's own
``--junitxml`` writes them; an expected failure is ``<skipped>``, an error outside the test's
body an ``<error>``). A component that
reported failure (``Failed``) is a ``<failure>``; one that could not give a verdict
(raised, timed out, crashed, breaker open, ...) is an ``<error>``; a skipped one carries
``<skipped>``; a warning passes, with the warning in ``<system-out>``. A run that failed
before any component ran has one ``<error>`` test case named after the stage, so that a
CI system does not read "0 tests" as success. The attributes Ant's schema requires are all
present (``timestamp`` in UTC, ``hostname`` from the report's metadata or ``localhost``).
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from omnibase.cli.formats._common import error_kind, error_text, safe, steps_of
from omnibase.core.testcases import TestCase, step_cases
from omnibase.core.values import Failed, Raised, RunReport, Status, StepResult

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["render_junit"]

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: RunReport, opts: RenderOptions) -> str:
    """``report`` as a JUnit XML document (UTF-8, with its XML declaration).

    >>> from omnibase.core.values import Summary
    >>> r = RunReport(steps=(StepResult(name="lint", status=Status.PASS, span_id="1"),),
    ...               summary=Summary(status=Status.PASS, total=1, passed=1), exit_code=0,
    ...               run_id="r", trace_id="t", stage="ci")
    >>> print(render_junit(r, None).splitlines()[2].strip())  # doctest: +ELLIPSIS
    <testsuite name="ci" tests="1" failures="0" errors="0" skipped="0" time="0.000" ...
    """
    cases = [case for step in steps_of(report) for case in _cases(step, report.stage)]
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    total = _seconds(report.duration_s)
    root = ET.Element("testsuites", _attrs(name="omnibase", time=total, **counts))
    suite = ET.SubElement(
        root,
        "testsuite",
        _attrs(
            name=_nonblank(report.stage, "omnibase"),
            **counts,
            time=total,
            timestamp=_timestamp(report.started_at),
            hostname=_nonblank(report.metadata.get("hostname", ""), "localhost"),
            id="0",
            package="omnibase",
        ),
    )
    props = ET.SubElement(suite, "properties")
    pairs = {"run_id": report.run_id, "trace_id": report.trace_id, "outcome": report.outcome, "exit_code": str(report.exit_code)}
    for key, value in {**{f"metadata.{k}": v for k, v in sorted(report.metadata.items())}, **pairs}.items():
        ET.SubElement(props, "property", _attrs(name=key, value=value))
    suite.extend(cases)
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _cases(step: StepResult, stage: str) -> list[ET.Element]:
    """The step's test cases when it ran tests (each as pytest's own junit report names it),
    else the step as one test case."""
    ran = step_cases(step)
    return [_test_case(c) for c in ran] if ran else [_case(step, stage)]


def junit_names(case_id: str) -> tuple[str, str]:
    """A test id as pytest's ``--junitxml`` splits it into ``classname`` and ``name``.

    >>> junit_names("tests/test_a.py::TestX::test_y[1]")
    ('tests.test_a.TestX', 'test_y[1]')
    """
    parts = case_id.split("::")
    parts[0] = re.sub(r"\.py$", "", parts[0].replace("/", "."))
    return ".".join(parts[:-1]), parts[-1]


def _test_case(tc: TestCase) -> ET.Element:
    classname, name = junit_names(tc.name)
    case = ET.Element("testcase", _attrs(name=name, classname=classname, time=_seconds(tc.duration_s)))
    first = tc.message.strip().splitlines()[0] if tc.message.strip() else tc.outcome
    if tc.status == "FAIL":
        node = ET.SubElement(case, "error" if tc.outcome == "error" else "failure", _attrs(message=first, type=tc.outcome))
        node.text = _xml(tc.traceback or tc.message)
    elif tc.status == "SKIP":
        ET.SubElement(case, "skipped", _attrs(message=first))
    if tc.attempts > 1:
        ET.SubElement(case, "system-out").text = _xml(f"attempts: {tc.attempts}")
    return case


def _case(step: StepResult, stage: str) -> ET.Element:
    case = ET.Element("testcase", _attrs(name=step.name or "(unnamed)", classname=f"omnibase.{stage or 'run'}", time=_seconds(step.duration_s)))
    err = step.error
    if step.status is Status.FAIL:
        text = error_text(err, step.reason) or "failed"
        tag = "failure" if err is None or isinstance(err, Failed) else "error"
        body = text
        if isinstance(err, Failed) and isinstance(err.data, dict) and isinstance(err.data.get("diff"), str):
            body += "\n\n" + err.data["diff"]
        if isinstance(err, Raised) and err.traceback:
            body += "\n\n" + err.traceback
        kind = error_kind(err) if err is not None else "failed"
        node = ET.SubElement(case, tag, _attrs(message=text.splitlines()[0] if text.strip() else text, type=kind))
        node.text = _xml(body)
    elif step.status is Status.SKIP:
        ET.SubElement(case, "skipped", _attrs(message=step.reason or "skipped"))
    out = []
    if step.status is Status.WARN:
        out.append(f"WARN: {error_text(err, step.reason) or 'warning'}")
    if step.attempts > 1:
        out.append(f"attempts: {step.attempts}")
    if step.span_id:
        out.append(f"span_id: {step.span_id}")
    if out:
        ET.SubElement(case, "system-out").text = _xml("\n".join(out))
    return case


def _xml(text: str) -> str:
    """``text`` as XML 1.0 can hold it: characters it cannot are written as ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", safe(text))


def _attrs(**values: object) -> dict[str, str]:
    return {k: _xml(str(v)) for k, v in values.items()}


def _nonblank(text: str, default: str) -> str:
    return text if text.strip() else default


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _timestamp(epoch: float) -> str:
    """ISO 8601 in UTC without a zone, as Ant's schema wants (``2024-05-01T12:00:00``)."""
    try:
        moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        moment = datetime.datetime.fromtimestamp(0, tz=datetime.timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")
