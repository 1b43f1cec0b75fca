"""The pytest plugin the built-in pytest component loads into the run (``-p``).

It writes one JSON object per line to the file ``$OMNIBASE_TEST_CASES`` names, one per test
case the moment the case has finished (its teardown reported), in the fields of
``omnibase.core.testcases.TestCase``; plus one line per collector that failed to collect
(an ``error`` case named after it). The first line, written when pytest is configured, is
``{"event": "started"}``: a file without it means pytest never got that far.

It imports nothing but the standard library and pytest: it runs in the project's
interpreter, which may not have omnibase's dependencies. It also registers the ``flaky``
marker (a test that may fail once and pass when run again; see docs/test-stage.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

ENV = "OMNIBASE_TEST_CASES"
#: A traceback is cut to its last this many characters: the part nearest the failure.
MAX_TRACEBACK = 4000

_out: Any = None
_phases: dict[str, dict[str, Any]] = {}


def pytest_configure(config: Any) -> None:
    global _out
    config.addinivalue_line("markers", "flaky: the test may fail and pass on another attempt (omnibase retries it)")
    path = os.environ.get(ENV)
    if path and _out is None and not hasattr(config, "workerinput"):  # xdist workers report through the controller
        _out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed at unconfigure
        _write({"event": "started"})


def pytest_unconfigure(config: Any) -> None:
    global _out
    if _out is not None and not hasattr(config, "workerinput"):
        _out.close()
        _out = None


def _write(obj: dict[str, Any]) -> None:
    if _out is not None:
        _out.write(json.dumps(obj, ensure_ascii=True) + "\n")
        _out.flush()


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _write({"name": report.nodeid or ".", "outcome": "error", "message": _crash(report) or "collection failed",
                "traceback": _text(report), "path": report.nodeid.split("::")[0] or None, "line": None})


def pytest_runtest_logreport(report: Any) -> None:
    seen = _phases.setdefault(report.nodeid, {"duration_s": 0.0, "outcome": "passed"})
    seen["duration_s"] += float(getattr(report, "duration", 0.0) or 0.0)
    seen.setdefault("location", report.location)
    seen.setdefault("flaky", "flaky" in getattr(report, "keywords", {}))
    outcome = _outcome(report)
    # the first phase that did not pass decides (a failing teardown after a failed call
    # keeps the call's failure)
    if outcome != "passed" and seen["outcome"] in ("passed", "xpassed"):
        seen["outcome"] = outcome
        seen["report"] = report
    elif outcome == "xpassed":
        seen["outcome"] = outcome
    if report.when == "teardown":
        _finish(report.nodeid, _phases.pop(report.nodeid))


def _outcome(report: Any) -> str:
    xfail = hasattr(report, "wasxfail")
    if report.passed:
        return "xpassed" if xfail else "passed"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return "failed" if report.when == "call" else "error"


def _finish(nodeid: str, seen: dict[str, Any]) -> None:
    report = seen.get("report")
    path, lineno, _ = seen["location"]
    case: dict[str, Any] = {
        "name": nodeid,
        "outcome": seen["outcome"],
        "duration_s": round(seen["duration_s"], 6),
        "path": path,
        "line": (lineno + 1) if isinstance(lineno, int) else None,
        "flaky": bool(seen["flaky"]),
    }
    if report is not None:
        case["message"] = _crash(report)
        if seen["outcome"] in ("failed", "error"):
            case["traceback"] = _text(report)
            line = _crash_line(report, path)
            if line is not None:
                case["line"] = line
    _write(case)


def _crash(report: Any) -> str:
    """The one-line reason: the crash message, a skip's reason, or the xfail's."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    if getattr(report, "wasxfail", ""):
        return str(report.wasxfail)
    text = _text(report).strip().splitlines()
    return text[-1] if text else ""


def _crash_line(report: Any, path: str) -> int | None:
    """The failing line inside the test's own file, when the crash is there."""
    crash = getattr(report.longrepr, "reprcrash", None)
    crash_path, line = getattr(crash, "path", None), getattr(crash, "lineno", None)
    if not crash_path or not isinstance(line, int):
        return None
    if os.path.normpath(str(crash_path)).endswith(os.path.normpath(path)):
        return line
    return None


def _text(report: Any) -> str:
    text = str(getattr(report, "longreprtext", "") or "")
    return text if len(text) <= MAX_TRACEBACK else "...\n" + text[-MAX_TRACEBACK:]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """``$OMNIBASE_TEST_NAMES`` (globs, one a line): keep only the cases whose node id or
    name matches one (``--filter name=...``); the rest are deselected."""
    import fnmatch

    globs = [g for g in os.environ.get("OMNIBASE_TEST_NAMES", "").splitlines() if g]
    if not globs:
        return
    kept: list[Any] = []
    dropped: list[Any] = []
    for item in items:
        hit = any(fnmatch.fnmatchcase(item.nodeid, g) or fnmatch.fnmatchcase(item.name, g) for g in globs)
        (kept if hit else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
