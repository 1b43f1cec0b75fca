"""Test cases from a JUnit XML file (an edge: reads the file a command test component wrote).

A command entry with ``junit: PATH`` (relative to the repository's root) is a test runner
that writes its results there (``pytest --junitxml``, ``nox``/``tox`` sessions running
one, ``go-junit-report``, a unittest runner that writes XML); after the command ran, the
file is read into ``omnibase.core.testcases.TestCase`` values, the same shape the built-in
pytest component reports, so every format shows the cases.

>>> xml = '''<testsuite><testcase classname="tests.test_a" name="test_ok" time="0.5"/>
... <testcase classname="tests.test_a" name="test_bad" file="tests/test_a.py" line="7">
... <failure message="assert 1 == 2">trace</failure></testcase></testsuite>'''
>>> [(c.name, c.outcome, c.line) for c in parse_junit(xml)]
[('tests.test_a::test_ok', 'passed', None), ('tests.test_a::test_bad', 'failed', 7)]
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from omnibase.core.testcases import TestCase

__all__ = ["MAX_JUNIT_BYTES", "parse_junit", "read_junit"]

#: A JUnit file larger than this is not read (its cases are left out, the verdict stands).
MAX_JUNIT_BYTES = 64 * 1024 * 1024


def parse_junit(text: str) -> list[TestCase]:
    """The ``<testcase>`` elements of a JUnit document as test cases (``classname::name``);
    a document that does not parse gives none."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    return [_case(node) for node in root.iter("testcase")]


def read_junit(root: str, path: str) -> list[TestCase]:
    """The cases of the JUnit file ``path`` (relative to ``root``); none when it is missing,
    too large or unreadable."""
    full = os.path.join(root, path)
    try:
        if os.path.getsize(full) > MAX_JUNIT_BYTES:
            return []
        with open(full, encoding="utf-8", errors="replace") as fh:
            return parse_junit(fh.read())
    except OSError:
        return []


def _case(node: ET.Element) -> TestCase:
    classname, name = node.get("classname", ""), node.get("name", "")
    outcome, message, trace = "passed", "", ""
    for child in node:
        if child.tag in ("failure", "error"):
            outcome = "failed" if child.tag == "failure" else "error"
        elif child.tag == "skipped":
            outcome = "xfailed" if "xfail" in (child.get("type") or "") else "skipped"
        else:
            continue
        message, trace = child.get("message", "") or "", (child.text or "").strip()
        break
    line = node.get("line", "")
    try:
        seconds = max(float(node.get("time", "0") or 0), 0.0)
    except ValueError:
        seconds = 0.0
    return TestCase(
        name=f"{classname}::{name}" if classname else name,
        outcome=outcome,
        duration_s=seconds,
        message=message.strip().splitlines()[0] if message.strip() else "",
        traceback=trace[-4000:],
        path=node.get("file") or None,
        line=int(line) if line.isdigit() and int(line) > 0 else None,
    )
