"""The real CLI in each mode: dry-run, profile, replay; logs, metrics and trace ids."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = '''
import os
from returns.result import Failure, Success
from omnibase import Failed


def _note(ctx, what):
    with open(os.path.join(ctx.root, "calls.log"), "a") as f:
        f.write(what + "\\n")


def shout(ctx, value):
    _note(ctx, "shout")
    return Success("hello")


def gate(ctx, value):
    _note(ctx, "gate")
    if os.path.exists(os.path.join(ctx.root, "open")):
        return Success(value + "!")
    return Failure(Failed(message="the gate is closed"))


def sleepy(ctx, value):
    _note(ctx, "sleepy")
    import time
    time.sleep(30)
    return Success(value)


def deploy(ctx, value):
    _note(ctx, "deploy")
    return Success(len(value))
'''

REGISTRY = """\
version: 1
components:
  - name: shout
    tags: [pipe]
    python: "plugin:shout"
    output: str
  - name: gate
    tags: [pipe]
    python: "plugin:gate"
    input: str
    output: str
  - name: sleepy
    tags: [pipe]
    python: "plugin:sleepy"
  - name: deploy
    tags: [pipe]
    python: "plugin:deploy"
    input: str
    output: int
"""


def _tree_digest(root: Path) -> dict[str, str]:
    """Every file and link under ``root``, .git included, with its content's digest."""
    out: dict[str, str] = {}
    for base, dirs, names in os.walk(root):
        for n in dirs + names:
            path = Path(base) / n
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


@pytest.fixture
def fixable(repo):
    repo.write("notes.txt", "trailing   \nno final newline")
    repo.write("bad.json", "{not json\n")
    repo.write("ok.py", "x = 1\n")
    repo.stage("notes.txt", "bad.json", "ok.py")
    return repo


@pytest.fixture
def project(repo):
    return repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY})


def test_dry_run_writes_nothing_anywhere_and_reports_plan_and_diff(fixable, cli):
    before = _tree_digest(fixable.root)
    r = cli("orch", "--mode", "dry-run", "--format", "json")
    assert _tree_digest(fixable.root) == before  # no fix applied, no snapshot, no index refresh
    assert r.code == 1, r
    report = json.loads(r.out)
    assert report["metadata"]["mode"] == "dry-run" and report["snapshot"] == ""
    plan = {e["name"]: e for e in report["plan"]}
    assert plan["trailing-whitespace"]["selected"] and plan["trailing-whitespace"]["reason"].startswith("selected: ")
    assert "would change files" in plan["trailing-whitespace"]["preview"]
    assert "-trailing   \n+trailing\n" in report["diff"] and "+++ b/notes.txt" in report["diff"]
    r2 = cli("orch", "--dry-run", "--format", "human", "--no-color", "--filter", "name!=check-json")
    assert _tree_digest(fixable.root) == before
    assert "would change (unified diff):" in r2.out and "  -trailing   " in r2.out
    assert re.search(r"^  \+ trailing-whitespace: .*selected: ", r2.out, re.M)
    assert "plan: a real run would run 10, not 1" in r2.out
    assert all(len(line) <= 100 for line in r2.out.splitlines())


def test_dry_run_lists_what_is_filtered_out_and_why(fixable, cli):
    r = cli("orch", "--dry-run", "--format", "json", "--filter", "name=check-*")
    dropped = {e["name"]: e["reason"] for e in json.loads(r.out)["plan"] if not e["selected"]}
    assert dropped["trailing-whitespace"] == "name=check-* does not hold (name is trailing-whitespace)"


def test_dry_run_of_a_pipeline_never_calls_non_pure_components(project, cli):
    before = _tree_digest(project.root)
    r = cli("orch", "--stage", "pipeline", "--from", "shout", "--to", "deploy", "--dry-run", "--format", "json")
    assert r.code == 0, r
    assert _tree_digest(project.root) == before and not (project.root / "calls.log").exists()
    steps = json.loads(r.out)["steps"]
    assert [(s["name"], s["status"]) for s in steps] == [("shout", "SKIP"), ("deploy", "SKIP")]
    plan = json.loads(r.out)["plan"]
    assert [e["reason"] for e in plan if e["selected"]] == ["selected: named by --from/--to"] * 2


def test_profile_reports_timings_and_writes_a_chrome_trace(fixable, cli, tmp_path):
    trace = tmp_path / "trace.json"
    r = cli("orch", "--profile", "--profile-out", str(trace), "--format", "json")
    assert r.code == 1, r
    prof = json.loads(r.out)["profiled"]
    assert {s["name"] for s in prof["steps"]} >= {"trailing-whitespace", "check-json"}
    assert all(s["attempts"] >= 1 and s["wall_s"] >= 0 and s["cpu_s"] >= 0 for s in prof["steps"])
    assert len(prof["slowest"]) == 5
    doc = json.loads(trace.read_text())
    spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert {e["name"] for e in spans} == {s["name"] for s in prof["steps"]}
    assert all(isinstance(e["ts"], (int, float)) and e["dur"] >= 0 and e["pid"] > 0 and e["tid"] >= 1 for e in spans)
    assert doc["otherData"]["trace_id"] == json.loads(r.out)["trace_id"]


def test_metrics_file_logs_file_and_traceparent(fixable, cli, tmp_path):
    metrics, logs = tmp_path / "run.prom", tmp_path / "run.log"
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    r = cli(
        "orch", "--format", "json", "-vv", "--log-format", "json", "--log-file", str(logs), "--metrics-out", str(metrics),
        env={"TRACEPARENT": parent},
    )  # fmt: skip
    report = json.loads(r.out)  # stdout is the report alone, even at -vv
    assert report["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert r.err == ""  # the logs went to the file
    lines = [json.loads(line) for line in logs.read_text().splitlines()]
    assert {e["event"] for e in lines} >= {"run.start", "step.start", "step.end", "run.end"}
    assert {e["trace_id"] for e in lines} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    assert lines[0]["parent_span_id"] == "00f067aa0ba902b7"
    text = metrics.read_text()
    assert 'omnibase_steps{stage="pre-commit",status="FAIL"} 3' in text
    assert report["metrics"]["steps"]["FAIL"] == 3
    assert f'run_id="{report["run_id"]}"' in text


def test_unwritable_outputs_are_refused_before_running(fixable, cli, tmp_path):
    os.symlink(tmp_path / "target", tmp_path / "link.prom")
    r = cli("orch", "--format", "json", "--metrics-out", str(tmp_path / "link.prom"))
    assert r.code == 2 and "symbolic link" in r.err and r.out == "", r
    r = cli("orch", "--format", "json", "--profile-out", str(tmp_path / "nope" / "t.json"))
    assert r.code == 2 and "no such directory" in r.err, r
    assert (fixable.root / "notes.txt").read_bytes() == b"trailing   \nno final newline"


def test_failed_run_writes_a_snapshot_that_lists_shows_and_replays(project, cli):
    r = cli("orch", "--stage", "pipeline", "--from", "shout", "--to", "gate", "--to", "deploy", "--format", "json")
    assert r.code == 1, r
    path = json.loads(r.out)["snapshot"]
    assert path.startswith(".git/omnibase/snapshots/") and (project.root / path).is_file()
    assert project.git("status", "--porcelain", "--untracked-files=all") == "?? calls.log\n"

    listed = cli("snapshot", "list", "--format", "json")
    assert [s["path"] for s in json.loads(listed.out)["snapshots"]] == [path]
    assert json.loads(listed.out)["snapshots"][0]["failed"] == ["gate"]
    shown = cli("snapshot", "show", path, "--format", "human", "--no-color")
    assert shown.code == 0, shown
    assert "then shout >> gate >> deploy" in shown.out and "the gate is closed" in shown.out

    (project.root / "open").write_text("")
    (project.root / "calls.log").write_text("")
    again = cli("orch", "--mode", "replay", "--snapshot", path, "--format", "json")
    assert again.code == 0, again
    report = json.loads(again.out)
    assert (project.root / "calls.log").read_text().split() == ["gate", "deploy"]  # shout was reused
    assert report["metadata"]["replayed"] == "shout" and report["metadata"]["mode"] == "replay"
    assert [(s["name"], s["status"]) for s in report["steps"]] == [("shout", "PASS"), ("gate", "PASS"), ("deploy", "PASS")]
    assert report["output"] == 6  # len("hello!"): shout's recorded str fed gate again


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "truncated or corrupt"),
        (b"{]", "truncated or corrupt"),
        (b'{"schema_version": 99}', "schema 99 is newer"),
    ],
)
def test_unreadable_snapshot_is_exit_2_with_one_line(project, cli, content, says):
    r = cli("orch", "--stage", "pipeline", "--from", "shout", "--to", "gate", "--format", "json")
    path = project.root / json.loads(r.out)["snapshot"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if content is None else content)
    for args in (("orch", "--mode", "replay", "--snapshot", str(path)), ("snapshot", "show", str(path))):
        r = cli(*args, "--format", "json")
        assert r.code == 2, r
        assert r.out == "" and len(r.err.strip().splitlines()) == 1 and says in r.err and "Traceback" not in r.err


def test_replay_needs_a_snapshot(project, cli):
    r = cli("orch", "--mode", "replay")
    assert r.code == 2 and "--snapshot PATH" in r.err, r
    r = cli("orch", "--mode", "replay", "--snapshot", "missing.json")
    assert r.code == 2 and "missing.json" in r.err, r


def test_an_interrupted_run_still_leaves_a_snapshot(project):
    from tests.support import cli_env

    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "pipeline", "--from", "shout", "--to", "sleepy", "--format", "json"],
        cwd=project.root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(None),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        log = project.root / "calls.log"
        while not (log.exists() and "sleepy" in log.read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, "sleepy never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    report = json.loads(out)
    assert report["outcome"] == "interrupted"
    snap = json.loads((project.root / report["snapshot"]).read_text())
    assert [c["name"] for c in snap["calls"] if c["ok"]] == ["shout"]
    assert snap["report"]["outcome"] == "interrupted"


def test_profile_out_times_the_async_mode_too(fixable, cli, tmp_path):
    trace = tmp_path / "async.json"
    r = cli("orch", "--mode", "async", "--jobs", "4", "--profile-out", str(trace), "--format", "json")
    assert r.code == 1, r
    report = json.loads(r.out)
    spans = [e for e in json.loads(trace.read_text())["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["name"] for e in spans) == sorted(s["name"] for s in report["steps"] if s["attempts"])
    assert report["snapshot"].startswith(".git/omnibase/snapshots/")


def test_contradicting_mode_options_are_exit_2(fixable, cli):
    before = _tree_digest(fixable.root)
    for args in (("--dry-run", "--mode", "async"), ("--dry-run", "--profile"), ("--profile", "--mode", "replay")):
        r = cli("orch", *args)
        assert r.code == 2 and "cannot be combined" in r.err, r
    assert _tree_digest(fixable.root) == before
