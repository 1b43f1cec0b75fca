"""The CI formats (junit, sarif, github, jsonl), the OpenTelemetry export and the report
targets, checked against real parsers and schemas: lxml with a JUnit XSD, jsonschema with
the SARIF 2.1.0 schema, the workflow-command grammar, JSON Lines decoding, and the
OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from returns.result import Failure, Result, Success

from omnibase import ExecCtx, FakeDriver, RetryPolicy, component, retry, run
from omnibase.cli._main import _parser
from omnibase.cli._reports import ReportTarget, append_step_summary, otel_wanted, parse_targets, write_targets
from omnibase.cli.formats import FORMAT_NAMES, RENDERERS
from omnibase.cli.formats.github import escape_data, escape_property, step_summary
from omnibase.cli.formats.jsonl import JsonlStream, event_line
from omnibase.cli.formatters import FORMATTERS, RenderOptions
from omnibase.core.intents import RetryScheduled, Started
from omnibase.core.values import (
    CircuitOpen,
    ComponentType,
    Crashed,
    Failed,
    Interrupted,
    Meta,
    Misconfigured,
    Raised,
    RunReport,
    Status,
    StepResult,
    Summary,
    TimedOut,
)

FIXTURES = Path(__file__).parents[2] / "fixtures"
JUNIT_XSD = etree.XMLSchema(etree.parse(str(FIXTURES / "junit.xsd")))
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
SARIF = jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA)

# --- strategies: hostile text, surrogates (undecodable file names) included ---------------------

HOSTILE = ["", " ", "a\x1b[31mred\x07\x00nul", "50% done\r\nnext", "::error::injected\n::set-output name=x::y", "a:b,c=d", "日本語", "<x>&amp;</x>", "|pipe|", "sep\x1c\x85\u2028"]
#: Lone surrogates are how Python holds the undecodable bytes of a file name.
UNDECODABLE = ["caf\udce9.txt", "\udcff"]


def make_reports(texts: st.SearchStrategy[str]) -> st.SearchStrategy[RunReport]:
    lines = st.one_of(st.none(), st.integers(-3, 10**6))
    finding = st.fixed_dictionaries({"path": texts, "line": lines, "message": texts})
    data = st.one_of(
        st.none(),
        st.fixed_dictionaries({"files": st.lists(texts, max_size=3), "findings": st.lists(finding, max_size=3)}),
        st.fixed_dictionaries({"files": st.lists(texts, max_size=3)}),
        st.fixed_dictionaries({"findings": st.integers()}),
    )
    errors = st.one_of(
        st.builds(Failed, message=texts, data=data),
        st.builds(Raised, exc_type=texts, message=texts, traceback=texts),
        st.builds(TimedOut, seconds=st.floats(0, 1e6)),
        st.builds(CircuitOpen, key=texts),
        st.builds(Crashed, cause=texts),
        st.builds(Misconfigured, message=texts),
        st.builds(Interrupted),
    )
    floats = st.floats(-1e12, 1e12, allow_nan=False)
    steps = st.builds(
        StepResult,
        name=texts,
        status=st.sampled_from(list(Status)),
        span_id=st.one_of(texts, st.text("0123456789abcdef", min_size=16, max_size=16)),
        error=st.none() | errors,
        attempts=st.integers(0, 5),
        offset_s=floats,
        duration_s=floats,
        reason=texts,
        meta=st.none() | st.builds(Meta, name=texts, type=st.sampled_from(list(ComponentType)), description=texts),
    )
    return st.builds(
        RunReport,
        steps=st.lists(steps, max_size=4).map(tuple),
        summary=st.builds(Summary, status=st.sampled_from(list(Status)), passed=st.integers(0, 9), failed=st.integers(0, 9)),
        exit_code=st.sampled_from([0, 1, 2, 3, 4, 5, 130]),
        run_id=texts,
        trace_id=st.one_of(texts, st.text("0123456789abcdef", min_size=32, max_size=32)),
        stage=texts,
        started_at=floats,
        duration_s=floats,
        outcome=st.sampled_from(["completed", "interrupted"]),
        error=st.none() | errors,
        metadata=st.dictionaries(texts, texts, max_size=2),
    )


texts = st.one_of(st.sampled_from(HOSTILE + UNDECODABLE), st.text(st.characters(exclude_categories=()), max_size=30))
reports = make_reports(texts)
#: The ``json`` format's own handling of undecodable names is tested with it (test_formatters).
reports_utf8 = make_reports(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the GitHub workflow-command grammar, written from the runner's rules --------------------

COMMAND = re.compile(r"^::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse_github(out: str) -> list[tuple[str, dict[str, str], str] | str]:
    """Each line as a command (name, properties, message) or a plain string; fails on a line
    the runner would misread."""
    parsed: list[tuple[str, dict[str, str], str] | str] = []
    assert "\r" not in out
    for line in out.rstrip("\n").split("\n"):  # the runner splits lines at LF and CR only
        if not line.lstrip().startswith("::"):
            parsed.append(line)
            continue
        m = COMMAND.match(line)
        assert m, line
        props: dict[str, str] = {}
        for pair in (m["props"] or "").split(",") if m["props"] else []:
            key, eq, value = pair.partition("=")
            assert eq and re.fullmatch(r"[a-z]+", key), (pair, line)
            assert not re.search(r"%(?!25|0D|0A|3A|2C)", value), value
            props[key] = unescape_property(value)
        assert not re.search(r"%(?!25|0D|0A)", m["data"]), line
        parsed.append((m["name"], props, unescape_data(m["data"])))
    return parsed


def safe(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --- properties ----------------------------------------------------------------------------------


@SETTINGS
@given(reports)
def test_every_report_is_valid_junit(report: RunReport) -> None:
    out = FORMATTERS["junit"](report, RenderOptions())
    doc = etree.fromstring(out.encode("utf-8"))
    assert JUNIT_XSD.validate(doc), JUNIT_XSD.error_log
    suite = doc.find("testsuite")
    cases = suite.findall("testcase")
    expected = len(report.steps) or (1 if report.error is not None else 0)
    assert len(cases) == int(suite.get("tests")) == expected
    assert int(suite.get("failures")) + int(suite.get("errors")) == sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    assert int(suite.get("failures")) + int(suite.get("errors")) == sum(1 for s in report.steps if s.status is Status.FAIL) + (report.error is not None and not report.steps)


@SETTINGS
@given(reports)
def test_every_report_is_valid_sarif(report: RunReport) -> None:
    out = FORMATTERS["sarif"](report, RenderOptions())
    log = json.loads(out)
    SARIF.validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"].strip()
        for loc in result.get("locations", []):
            assert loc["physicalLocation"]["region"]["startLine"] >= 1 if "region" in loc["physicalLocation"] else True
    flagged = [s for s in report.steps if s.status in (Status.FAIL, Status.WARN)]
    assert bool(run_["results"]) == bool(flagged or (report.error is not None and not report.steps))


@SETTINGS
@given(reports)
def test_every_report_obeys_the_workflow_command_grammar(report: RunReport) -> None:
    parsed = parse_github(FORMATTERS["github"](report, RenderOptions()))
    names = [p[0] for p in parsed if isinstance(p, tuple)]
    assert names[0] == "group" and names.count("group") == names.count("endgroup") == 1
    assert set(names) <= {"group", "endgroup", "error", "warning"}
    failing = sum(1 for s in report.steps if s.status is Status.FAIL) + (report.error is not None and not report.steps)
    assert (names.count("error") > 0) == (failing > 0)
    for entry in parsed:
        if isinstance(entry, tuple) and entry[0] in ("error", "warning"):
            assert entry[1]["title"]  # every annotation says which component
            if "line" in entry[1]:
                assert int(entry[1]["line"]) >= 1 and "file" in entry[1]


@SETTINGS
@given(reports_utf8)
def test_every_report_is_json_lines_ending_with_the_report(report: RunReport) -> None:
    out = FORMATTERS["jsonl"](report, RenderOptions())
    assert out.isascii()
    records = [json.loads(line) for line in out.split("\n")[:-1]]
    assert [r["event"] for r in records] == ["step"] * len(report.steps) + ["report"]
    assert [r["name"] for r in records[:-1]] == [s.name for s in report.steps]
    assert records[-1]["report"] == json.loads(FORMATTERS["json"](report, RenderOptions()))


@SETTINGS
@given(make_reports(st.sampled_from(UNDECODABLE)).map(lambda r: r.steps))
def test_event_lines_carry_undecodable_names(steps_: tuple[StepResult, ...]) -> None:
    for step in steps_:
        line = event_line(step, "t")
        assert line.isascii() and line.count("\n") == 1
        assert json.loads(line)["name"] == step.name  # the surrogate comes back as it was


@settings(max_examples=200, deadline=None)
@given(texts)
def test_escapes_round_trip(text: str) -> None:
    assert unescape_data(escape_data(text)) == safe(text)
    assert unescape_property(escape_property(text)) == safe(text)
    assert not set("\r\n") & set(escape_data(text))
    assert not set("\r\n:,") & set(escape_property(text))


# --- examples ------------------------------------------------------------------------------------


def _report(*steps_: StepResult, **kw: Any) -> RunReport:
    base: dict[str, Any] = dict(summary=Summary(status=Status.FAIL, total=len(steps_)), exit_code=1, run_id="0123456789abcdef", trace_id="ab" * 16, stage="ci", started_at=1_735_689_600.0, duration_s=2.0)
    base.update(kw)
    return RunReport(steps=tuple(steps_), **base)


BUILTIN_FAILURE = Failed(
    message="a.py: failed parsing\nb.txt:3: Merge conflict string '<<<<<<<' found",
    data={
        "files": ["a.py", "b.txt"],
        "findings": [
            {"path": "a.py", "line": None, "message": "a.py: failed parsing"},
            {"path": "b.txt", "line": 3, "message": "b.txt:3: Merge conflict string '<<<<<<<' found"},
        ],
    },
)


def test_junit_maps_verdicts_to_failure_error_skipped() -> None:
    report = _report(
        StepResult(name="ok", status=Status.PASS, span_id="1", duration_s=0.25),
        StepResult(name="lint", status=Status.FAIL, span_id="2", error=BUILTIN_FAILURE),
        StepResult(name="boom", status=Status.FAIL, span_id="3", error=Raised(exc_type="KeyError", message="'x'", traceback="Traceback ...")),
        StepResult(name="slow", status=Status.FAIL, span_id="4", error=TimedOut(seconds=3)),
        StepResult(name="none", status=Status.SKIP, span_id="5", reason="no files to check", attempts=0),
        StepResult(name="meh", status=Status.WARN, span_id="6", reason="deprecated"),
    )
    doc = etree.fromstring(FORMATTERS["junit"](report, RenderOptions()).encode())
    assert JUNIT_XSD.validate(doc), JUNIT_XSD.error_log
    suite = doc.find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("ci", "6", "1", "2", "1")
    assert suite.get("timestamp") == "2025-01-01T00:00:00"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["ok"].get("time") == "0.250" and cases["ok"].get("classname") == "omnibase.ci"
    failure = cases["lint"].find("failure")
    assert failure.get("type") == "failed" and failure.get("message") == "a.py: failed parsing"
    assert "Merge conflict" in failure.text
    assert cases["boom"].find("error").get("type") == "raised" and "Traceback" in cases["boom"].find("error").text
    assert cases["slow"].find("error").get("message") == "timed out after 3s"
    assert cases["none"].find("skipped").get("message") == "no files to check"
    assert "WARN: deprecated" in cases["meh"].find("system-out").text
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["trace_id"] == "ab" * 16 and props["exit_code"] == "1"


def test_junit_run_error_with_no_step_is_one_error_case() -> None:
    report = _report(error=Misconfigured(message="omnibase.yaml:3: bad key"), exit_code=2)
    doc = etree.fromstring(FORMATTERS["junit"](report, RenderOptions()).encode())
    assert JUNIT_XSD.validate(doc)
    (case,) = doc.iter("testcase")
    assert case.find("error").get("message") == "omnibase.yaml:3: bad key"


def test_junit_carries_control_characters_and_bad_names_as_escapes() -> None:
    report = _report(StepResult(name="caf\udce9\x1b", status=Status.FAIL, span_id="1", error=Failed(message="bell\x07 <tag> & \x00")))
    out = FORMATTERS["junit"](report, RenderOptions())
    doc = etree.fromstring(out.encode("utf-8"))
    assert JUNIT_XSD.validate(doc)
    case = doc.find("testsuite/testcase")
    assert case.get("name") == "caf\\xe9\\x1b"  # the undecodable byte, shown escaped
    assert case.find("failure").text == "bell\\x07 <tag> & \\x00"


def test_sarif_places_builtin_findings_at_file_and_line() -> None:
    meta = Meta(name="check-merge-conflict", description="Check for files that contain merge conflict strings.")
    report = _report(
        StepResult(name="check-merge-conflict", status=Status.FAIL, span_id="2", error=BUILTIN_FAILURE, meta=meta),
        StepResult(name="check-json", status=Status.PASS, span_id="3"),
        StepResult(name="old", status=Status.WARN, span_id="4", reason="deprecated component"),
    )
    log = json.loads(FORMATTERS["sarif"](report, RenderOptions()))
    SARIF.validate(log)
    run_ = log["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["check-merge-conflict", "check-json", "old"]
    assert run_["tool"]["driver"]["rules"][0]["shortDescription"]["text"].startswith("Check for files")
    places = [
        (r["ruleId"], r["level"], r.get("locations", [{}])[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri"),
         r.get("locations", [{}])[0].get("physicalLocation", {}).get("region", {}).get("startLine"))
        for r in run_["results"]
    ]
    assert places == [
        ("check-merge-conflict", "error", "a.py", None),
        ("check-merge-conflict", "error", "b.txt", 3),
        ("old", "warning", None, None),
    ]
    assert run_["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    assert run_["automationDetails"]["id"] == "omnibase/ci/0123456789abcdef"


def test_sarif_falls_back_to_files_then_to_no_location() -> None:
    report = _report(
        StepResult(name="a", status=Status.FAIL, span_id="1", error=Failed(message="2 files bad", data={"files": ["x y.py", "z.py"]})),
        StepResult(name="b", status=Status.FAIL, span_id="2", error=Crashed(cause="killed by SIGKILL")),
    )
    results = json.loads(FORMATTERS["sarif"](report, RenderOptions()))["runs"][0]["results"]
    uris = [r.get("locations", [{}])[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri") for r in results]
    assert uris == ["x%20y.py", "z.py", None]
    assert results[2]["message"]["text"] == "crashed: killed by SIGKILL"


def test_github_annotations_and_groups() -> None:
    report = _report(
        StepResult(name="check-merge-conflict", status=Status.FAIL, span_id="2", error=BUILTIN_FAILURE),
        StepResult(name="fine", status=Status.PASS, span_id="3", duration_s=0.5),
    )
    out = FORMATTERS["github"](report, RenderOptions())
    assert out.splitlines()[0] == "::group::omnibase ci"
    assert "fine PASS 0.50s" in out.splitlines()
    assert "::error file=b.txt,line=3,title=check-merge-conflict::b.txt:3: Merge conflict string '<<<<<<<' found" in out.splitlines()
    assert "::error file=a.py,title=check-merge-conflict::a.py: failed parsing" in out.splitlines()


def test_github_message_cannot_inject_a_command() -> None:
    evil = "x\n::add-mask::secret\r\n::error file=/etc/passwd::owned"
    report = _report(StepResult(name="::evil,name", status=Status.FAIL, span_id="1", error=Failed(message=evil)))
    parsed = parse_github(FORMATTERS["github"](report, RenderOptions()))
    commands = [p for p in parsed if isinstance(p, tuple)]
    assert [c[0] for c in commands] == ["group", "endgroup", "error"]
    assert commands[2][1]["title"] == "::evil,name" and commands[2][2] == evil


def test_step_summary_is_markdown_with_no_markup_from_components() -> None:
    report = _report(StepResult(name="a|b", status=Status.FAIL, span_id="1", error=Failed(message="<script>x</script>")))
    md = step_summary(report)
    assert md.startswith("### omnibase ci:")
    assert "| a\\|b | FAIL |" in md
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_jsonl_stream_sees_starts_retries_and_results_as_they_happen() -> None:
    calls: list[int] = []
    seen: list[str] = []

    @component(idempotent=True)
    def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        calls.append(x)
        return Failure(Failed(message="not yet", transient=True)) if len(calls) < 2 else Success(x)

    stream = JsonlStream("ab" * 16, seen.append)
    ctx = ExecCtx(run_id="r", trace_id="ab" * 16)
    report = run(retry(flaky, RetryPolicy(max_attempts=3)), 1, ctx, FakeDriver(), observers=[stream])
    events = [json.loads(line) for line in seen]
    # every attempt has its own span and result; the report keeps the last
    assert [e["event"] for e in events] == ["started", "step", "retry", "started", "step"]
    assert events[0]["span_id"] == events[1]["span_id"] != events[3]["span_id"] == events[4]["span_id"] == report.steps[0].span_id
    assert events[1]["status"] == "FAIL" and events[4]["status"] == "PASS"
    assert events[2]["error"]["message"] == "not yet" and events[3]["attempt"] == 2
    assert all(e["trace_id"] == "ab" * 16 for e in events)
    lines = stream.text(report).splitlines()
    assert lines[:-1] == [s.rstrip("\n") for s in seen]
    assert json.loads(lines[-1])["report"] == json.loads(FORMATTERS["json"](report, RenderOptions()))


# --- the table and the command line -------------------------------------------------------------


def test_format_choices_come_from_the_table() -> None:
    assert tuple(FORMATTERS) == FORMAT_NAMES == tuple(RENDERERS)
    assert set(FORMAT_NAMES) >= {"human", "json", "yaml", "junit", "sarif", "github", "jsonl"}
    orch = _parser()._subparsers._group_actions[0].choices["orch"]  # type: ignore[union-attr]
    (fmt,) = [a for a in orch._actions if a.dest == "format"]
    assert tuple(fmt.choices) == FORMAT_NAMES


def test_parse_targets_checks_formats_and_files(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "link.xml")
    ok = parse_targets(["junit=a.xml", "sarif=dir/b.sarif"], str(tmp_path))
    assert ok.unwrap() == (ReportTarget("junit", str(tmp_path / "a.xml")), ReportTarget("sarif", str(tmp_path / "dir/b.sarif")))
    for spec, says in [
        ("junit", "say FORMAT=FILE"),
        ("xml=a.xml", "unknown format 'xml'"),
        ("junit=missing/a.xml", "no such directory"),
        ("junit=dir", "is a directory"),
        ("junit=link.xml", "symbolic link"),
    ]:
        got = parse_targets([spec], str(tmp_path))
        assert isinstance(got, Failure) and says in got.failure(), (spec, got)
    twice = parse_targets(["junit=a.xml", "json=./a.xml"], str(tmp_path))
    assert isinstance(twice, Failure) and "already" in twice.failure()


def test_write_targets_writes_each_format(tmp_path: Path) -> None:
    report = _report(StepResult(name="lint", status=Status.FAIL, span_id="1", error=BUILTIN_FAILURE))
    targets = [ReportTarget(f, str(tmp_path / f"out.{f}")) for f in FORMAT_NAMES]
    assert write_targets(report, targets, {"jsonl": "streamed\n"}, 0) is None
    for target in targets:
        text = Path(target.path).read_text()
        expected = "streamed\n" if target.format == "jsonl" else FORMATTERS[target.format](report, RenderOptions())
        assert text == expected


def test_step_summary_appends_and_refuses_a_symlink(tmp_path: Path) -> None:
    report = _report(StepResult(name="lint", status=Status.PASS, span_id="1"))
    path = tmp_path / "summary.md"
    path.write_text("earlier\n")
    assert append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(path)}) is None
    assert path.read_text() == "earlier\n" + step_summary(report)
    target = tmp_path / "target.md"
    os.symlink(target, tmp_path / "link.md")
    problem = append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(tmp_path / "link.md")})
    assert problem is not None and "GITHUB_STEP_SUMMARY" in problem and not target.exists()
    assert append_step_summary(report, {}) is None


def test_otel_switch() -> None:
    assert otel_wanted(False, {}).unwrap() is False
    assert otel_wanted(True, {}).unwrap() is True
    assert otel_wanted(False, {"OMNIBASE_OTEL": "1"}).unwrap() is True


# --- OpenTelemetry -------------------------------------------------------------------------------


def test_otel_spans_carry_the_runs_ids_and_cicd_attributes() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    from omnibase.cli._otel import export_run

    report = _report(
        StepResult(name="lint", status=Status.FAIL, span_id="00000000000000a1", offset_s=0.5, duration_s=1.0, error=BUILTIN_FAILURE),
        StepResult(name="unit", status=Status.PASS, span_id="00000000000000a2", offset_s=1.5, duration_s=0.25, meta=Meta(name="unit", type=ComponentType.TEST)),
        StepResult(name="none", status=Status.SKIP, span_id="00000000000000a3", attempts=0),
        StepResult(name="slow", status=Status.FAIL, span_id="00000000000000a4", error=TimedOut(seconds=1)),
    )
    exporter = InMemorySpanExporter()
    export_run(report, exporter)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"RUN ci", "lint", "unit", "none", "slow"}
    root = spans["RUN ci"]
    assert root.kind is SpanKind.SERVER and root.parent is None
    assert f"{root.context.trace_id:032x}" == "ab" * 16
    assert f"{root.context.span_id:016x}" == "0123456789abcdef"
    assert root.attributes["cicd.pipeline.name"] == "ci"
    assert root.attributes["cicd.pipeline.run.id"] == "0123456789abcdef"
    assert root.attributes["cicd.pipeline.result"] == "failure"
    assert root.attributes["error.type"] == "failed"
    assert root.status.status_code is StatusCode.ERROR
    assert (root.start_time, root.end_time) == (1_735_689_600_000_000_000, 1_735_689_602_000_000_000)
    for step in report.steps:
        span = spans[step.name]
        assert span.kind is SpanKind.INTERNAL and span.parent.span_id == root.context.span_id
        assert span.context.trace_id == root.context.trace_id
        assert f"{span.context.span_id:016x}" == step.span_id == span.attributes["cicd.pipeline.task.run.id"]
        assert span.attributes["cicd.pipeline.task.name"] == step.name
    results = {n: s.attributes["cicd.pipeline.task.run.result"] for n, s in spans.items() if n != "RUN ci"}
    assert results == {"lint": "failure", "unit": "success", "none": "skip", "slow": "timeout"}
    assert spans["unit"].attributes["cicd.pipeline.task.type"] == "test"
    assert spans["lint"].start_time == 1_735_689_600_500_000_000 and spans["lint"].end_time == 1_735_689_601_500_000_000
    assert spans["lint"].status.status_code is StatusCode.ERROR and spans["unit"].status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(("outcome", "code", "expected"), [("completed", 0, "success"), ("completed", 2, "error"), ("interrupted", 130, "cancellation")])
def test_otel_pipeline_result(outcome: str, code: int, expected: str) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from omnibase.cli._otel import export_run

    exporter = InMemorySpanExporter()
    export_run(_report(outcome=outcome, exit_code=code), exporter)
    (root,) = exporter.get_finished_spans()
    assert root.attributes["cicd.pipeline.result"] == expected
