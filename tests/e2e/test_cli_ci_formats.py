"""The CI outputs through the real CLI on real git repositories, each checked with a real
parser or schema: JUnit XML against the XSD (lxml), SARIF against the SARIF 2.1.0 schema
(jsonschema), the GitHub workflow-command grammar, JSON Lines decoding (streamed while the
run goes), ``--report`` files, and OpenTelemetry spans received by a local OTLP endpoint."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest
from lxml import etree

from tests.cli.formats.test_ci_formats import JUNIT_XSD, SARIF, parse_github
from tests.support import cli_env

pytestmark = pytest.mark.e2e

BROKEN_PY = "def f(:\n    pass\n"


@pytest.fixture
def failing(repo):
    """A repository in the middle of a conflicted merge whose staged files fail check-ast
    (line 1), check-merge-conflict (lines 2, 4, 6) and check-json, and pass the rest."""
    repo.write("merge.txt", "top\nbase\n")
    repo.stage("merge.txt")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("merge.txt", "top\ntheirs\n")
    repo.stage("merge.txt")
    repo.commit("theirs")
    repo.git("checkout", "-q", "main")
    repo.write("merge.txt", "top\nmine\n")
    repo.stage("merge.txt")
    repo.commit("mine")
    done = subprocess.run(["git", "merge", "-q", "other"], cwd=repo.root, capture_output=True, text=True)
    assert done.returncode != 0 and (repo.root / ".git" / "MERGE_HEAD").exists()
    assert (repo.root / "merge.txt").read_text().startswith("top\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> other")
    repo.write("good.py", "x = 1\n")
    repo.write("bad.py", BROKEN_PY)
    repo.write("bad.json", "{not json\n")
    repo.stage("good.py", "bad.py", "merge.txt", "bad.json")
    return repo


def test_junit_validates_and_names_the_failures(failing, cli):
    r = cli("orch", "--format", "junit")
    assert r.code == 1, r
    doc = etree.fromstring(r.out.encode("utf-8"))
    assert JUNIT_XSD.validate(doc), JUNIT_XSD.error_log
    suite = doc.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert {"check-ast", "check-merge-conflict", "check-json"} <= {n for n, c in cases.items() if c.find("failure") is not None}
    assert cases["check-yaml"].find("skipped") is not None  # no yaml file staged
    assert suite.get("name") == "pre-commit" and int(suite.get("failures")) >= 3
    assert "bad.py" in cases["check-ast"].find("failure").text


def test_sarif_validates_and_places_findings_at_file_and_line(failing, cli):
    r = cli("orch", "--format", "sarif")
    assert r.code == 1, r
    log = json.loads(r.out)
    SARIF.validate(log)
    results = log["runs"][0]["results"]
    places = {
        (x["ruleId"], loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"].get("region", {}).get("startLine"))
        for x in results
        for loc in x.get("locations", [])
    }
    assert ("check-ast", "bad.py", 1) in places
    assert {("check-merge-conflict", "merge.txt", n) for n in (2, 4, 6)} <= places
    assert any(rule == "check-json" and uri == "bad.json" for rule, uri, _ in places)
    assert all(x["level"] == "error" for x in results)


def test_github_commands_follow_the_grammar_and_the_summary_is_appended(failing, cli, tmp_path):
    summary = tmp_path / "step_summary.md"
    summary.write_text("before\n")
    r = cli("orch", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert r.code == 1, r
    parsed = parse_github(r.out)
    commands = [p for p in parsed if isinstance(p, tuple)]
    assert commands[0] == ("group", {}, "omnibase pre-commit") and commands[1][0] == "endgroup"
    errors = [(c[1].get("title"), c[1].get("file"), c[1].get("line")) for c in commands if c[0] == "error"]
    assert ("check-ast", "bad.py", "1") in errors
    assert ("check-merge-conflict", "merge.txt", "2") in errors
    text = summary.read_text()
    assert text.startswith("before\n### omnibase pre-commit:")
    assert "| check-ast | FAIL |" in text


def test_jsonl_lines_decode_in_order(failing, cli):
    r = cli("orch", "--format", "jsonl")
    assert r.code == 1, r
    records = [json.loads(line) for line in r.out.splitlines()]
    kinds = [x["event"] for x in records]
    assert kinds[-1] == "report" and kinds.count("report") == 1
    trace = records[-1]["report"]["trace_id"]
    assert all(x["trace_id"] == trace for x in records)
    started = {x["span_id"] for x in records if x["event"] == "started"}
    steps = [x for x in records if x["event"] == "step"]
    assert started and started <= {s["span_id"] for s in steps}
    for i, x in enumerate(records):
        if x["event"] == "step" and x["span_id"] in started:  # announced before its result
            assert any(y["event"] == "started" and y["span_id"] == x["span_id"] for y in records[:i])
    assert [s["name"] for s in records[-1]["report"]["steps"]] == [s["name"] for s in steps]


STREAM_PLUGIN = '''
import os, time
from returns.result import Failure, Success
from omnibase import Failed


def first(ctx, value):
    return Success("first")


def second(ctx, value):
    # Waits for the test to have read first's result from our stdout while we still run.
    for _ in range(600):
        if os.path.exists(os.path.join(ctx.root, "go")):
            return Success("second")
        time.sleep(0.05)
    return Failure(Failed(message="nobody read the stream"))
'''

STREAM_REGISTRY = """\
version: 1
components:
  - name: first
    tags: [ci]
    python: "plugin:first"
  - name: second
    tags: [ci]
    python: "plugin:second"
"""


def test_jsonl_streams_each_event_while_the_run_goes(repo):
    repo.write("plugin.py", STREAM_PLUGIN)
    repo.write("omnibase.yaml", STREAM_REGISTRY)
    repo.stage("plugin.py", "omnibase.yaml")
    repo.commit()
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--filter", "name=first|second", "--format", "jsonl"],
        cwd=repo.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=cli_env(None),
    )
    try:
        seen = []
        for line in proc.stdout:  # blocks until a line arrives: the run must write it mid-way
            seen.append(json.loads(line))
            if seen[-1]["event"] == "step" and seen[-1]["name"] == "first":
                (repo.root / "go").write_text("")
                break
        rest = [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert [(x["event"], x.get("name")) for x in seen + rest] == [
        ("started", "first"), ("step", "first"), ("started", "second"), ("step", "second"), ("report", None)
    ]
    assert rest[-1]["report"]["exit_code"] == 0


def test_report_writes_several_formats_from_one_run(failing, cli, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    r = cli(
        "orch", "--format", "json",
        "--report", f"junit={out}/junit.xml", "--report", f"sarif={out}/omnibase.sarif",
        "--report", "jsonl=events.jsonl", "--report", f"github={out}/gh.txt", "--report", f"yaml={out}/r.yaml",
    )
    assert r.code == 1, r
    report = json.loads(r.out)  # stdout is the json format, unchanged
    assert report["exit_code"] == 1
    assert JUNIT_XSD.validate(etree.parse(str(out / "junit.xml")))
    SARIF.validate(json.loads((out / "omnibase.sarif").read_text()))
    records = [json.loads(line) for line in (failing.root / "events.jsonl").read_text().splitlines()]
    assert records[-1]["report"]["trace_id"] == report["trace_id"]  # the same run in every file
    assert {x["event"] for x in records} >= {"started", "step", "report"}
    parse_github((out / "gh.txt").read_text())
    assert (out / "r.yaml").read_text().count("trace_id: " + report["trace_id"]) == 1
    assert not [p for p in os.listdir(out) if p.startswith(".omnibase-")]  # no temporary left


@pytest.mark.parametrize(
    ("spec", "says"),
    [("xml=out.xml", "unknown format 'xml'"), ("junit=no/such/dir/out.xml", "no such directory"), ("junit=.", "is a directory")],
)
def test_bad_report_target_is_exit_2_before_anything_runs(repo, cli, spec, says):
    repo.write("notes.txt", "trailing   \n")
    repo.stage("notes.txt")
    r = cli("orch", "--format", "json", "--report", spec)
    assert r.code == 2, r
    assert says in r.err and r.err.count("\n") == 1 and r.out == ""
    assert (repo.root / "notes.txt").read_text() == "trailing   \n"  # the fixer never ran


class _Collector(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_otel_exports_spans_with_the_runs_trace_id_to_the_otlp_endpoint(failing, cli):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    _Collector.bodies = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        r = cli("orch", "--format", "json", "--otel", env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    finally:
        server.shutdown()
        server.server_close()
    assert r.code == 1, r
    report = json.loads(r.out)
    assert [path for path, _ in _Collector.bodies] == ["/v1/traces"]
    request = ExportTraceServiceRequest()
    request.ParseFromString(_Collector.bodies[0][1])
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert {s.trace_id.hex() for s in spans} == {report["trace_id"]}
    by_id = {s.span_id.hex(): s for s in spans}
    for step in report["steps"]:
        assert by_id[step["span_id"]].name == step["name"]
    (root,) = [s for s in spans if not s.parent_span_id]
    assert root.name == "RUN pre-commit"
    attrs = {a.key: a.value.string_value for a in root.attributes}
    assert attrs["cicd.pipeline.result"] == "failure" and attrs["cicd.pipeline.run.id"] == report["run_id"]


def test_otel_with_no_collector_keeps_the_verdict_and_shows_no_traceback(failing, cli):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    r = cli("orch", "--format", "json", "--otel", env=env)
    assert r.code == 1, r
    assert json.loads(r.out)["exit_code"] == 1
    assert "Traceback" not in r.err


def test_otel_is_off_by_default_and_not_imported(failing):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "omnibase", "orch", "--format", "json"],
        cwd=failing.root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        env=cli_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}),
    )
    assert done.returncode == 1, done.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "omnibase.cli._commands" in imported  # the run happened, and was measured
    assert not [m for m in imported if m.startswith(("opentelemetry", "omnibase.cli._otel", "lxml", "jsonschema"))]


def test_otel_without_the_extra_is_exit_2_before_anything_runs(repo):
    repo.write("notes.txt", "trailing   \n")
    repo.stage("notes.txt")
    # The CLI in a process where the SDK cannot be imported, as without omnibase[otel].
    code = "import sys; sys.modules['opentelemetry.sdk'] = None; from omnibase.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "orch", "--format", "json", "--otel"],
        cwd=repo.root, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=cli_env(None),
    )
    assert done.returncode == 2, done
    assert "omnibase[otel]" in done.stderr and done.stderr.count("\n") == 1 and done.stdout == ""
    assert (repo.root / "notes.txt").read_text() == "trailing   \n"  # the fixer never ran
