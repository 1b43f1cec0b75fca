"""Files omnibase writes for the user, through the real CLI (issue 24.9-24.11): one safe
opener for ``--report``/``-o``/``--metrics-out``/``--profile-out``/``--log-file`` (FIFOs and
device nodes refused, never replaced, never hung on), one redaction point for every
rendering, and user-given refs reaching git as data."""

from __future__ import annotations

import json
import os
import stat

import pytest

pytestmark = pytest.mark.e2e

FLAGS = [("--report", "json="), ("-o", ""), ("--metrics-out", ""), ("--profile-out", ""), ("--log-file", "")]


@pytest.fixture
def staged(repo):
    repo.write("a.txt", "fine\n")
    repo.stage("a.txt")
    return repo


@pytest.mark.parametrize(("flag", "prefix"), FLAGS)
def test_a_fifo_target_is_refused_before_running_and_never_hangs(staged, cli, tmp_path, flag, prefix):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    staged.write("b.txt", "trailing   \n")
    staged.stage("b.txt")
    r = cli("orch", "--stage", "pre-commit", "--format", "json", flag, prefix + str(fifo), timeout=60)
    assert r.code == 2, r
    assert "not a regular file (a FIFO)" in r.err and r.out == "", r
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO: not replaced by a file
    assert (staged.root / "b.txt").read_text() == "trailing   \n"  # nothing ran


@pytest.mark.parametrize(("flag", "prefix"), FLAGS)
def test_a_device_node_target_is_refused_and_left_alone(staged, cli, tmp_path, flag, prefix):
    """A character device made with mknod in a temporary folder (/dev/null's numbers)."""
    node = tmp_path / "null-copy"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    r = cli("orch", "--stage", "pre-commit", "--format", "json", flag, prefix + str(node), timeout=60)
    assert r.code == 2, r
    assert "not a regular file (a character device)" in r.err and r.out == "", r
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_report_and_o_write_the_same_bytes_for_the_same_format(staged, cli):
    r = cli("orch", "--stage", "pre-commit", "--format", "json", "--report", "json=by-report.json", "-o", "by-o.json")
    assert r.code == 0, r
    by_report = json.loads((staged.root / "by-report.json").read_text())
    by_o = json.loads((staged.root / "by-o.json").read_text())
    assert by_report["run_id"] == by_o["run_id"] and by_report == by_o


# --- one redaction point ------------------------------------------------------------------------

LEAKY = '''
import os
from returns.result import Failure, Success


def leak(ctx, value):
    print("printed", os.environ["GITHUB_TOKEN"], os.environ["DB_PASSWORD"])
    quoted = os.environ.get("QUOTED_SECRET", "")
    return Failure(__import__("omnibase").Failed(message="returned " + os.environ["GITHUB_TOKEN"] + " and " + os.environ["SHORT_KEY"] + quoted))
'''


@pytest.fixture
def leaky(repo):
    repo.seed({"plugin.py": LEAKY, "a.txt": "ok\n"})
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n"
               "  - {name: leak, tags: [ci], always_run: true, isolation: none, python: 'plugin:leak'}\n")
    return repo


SECRETS = {
    "GITHUB_TOKEN": "ghp_" + "Zq9" * 12,  # a long one
    "DB_PASSWORD": "hunter2-" + "Zq9" * 2 + "-ghp_",  # shares a piece with the long one
    "SHORT_KEY": "k3y!",  # the shortest length that is redacted (core.redact.MIN_SECRET)
    "QUOTED_SECRET": 'q"uo\\te\u00e9',  # characters JSON and XML escape
}


def _leaks(text: str) -> list[str]:
    forms = {name: {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]} for name, value in SECRETS.items()}
    return [name for name, values in forms.items() if any(v in text for v in values)]


@pytest.mark.parametrize("fmt", ["json", "yaml", "human", "junit", "sarif", "github", "jsonl"])
def test_secrets_an_in_process_component_prints_or_returns_are_redacted_in_report_files(leaky, cli, fmt):
    r = cli("orch", "--stage", "ci", "--format", "json", "--report", f"{fmt}=r.{fmt}", env=SECRETS)
    assert r.code == 1, r
    written = (leaky.root / f"r.{fmt}").read_text()
    assert _leaks(written) == [] and _leaks(r.out) == [] and _leaks(r.err) == [], written
    assert "[redacted]" in written


def test_the_github_step_summary_is_redacted(leaky, cli, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("")
    r = cli("orch", "--stage", "ci", "--format", "github", env={**SECRETS, "GITHUB_STEP_SUMMARY": str(summary)})
    assert r.code == 1, r
    written = summary.read_text()
    assert "leak" in written and _leaks(written) == [] and _leaks(r.out) == [], written


def test_the_jsonl_stream_on_stdout_is_redacted_line_by_line(leaky, cli):
    r = cli("orch", "--stage", "ci", "--format", "jsonl", env=SECRETS)
    assert r.code == 1, r
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert {line["event"] for line in lines} >= {"started", "step", "report"}
    assert _leaks(r.out) == [] and _leaks(r.err) == [], r.out
    step = next(line for line in lines if line["event"] == "step" and line["name"] == "leak")
    assert step["error"]["message"] == "returned [redacted] and [redacted][redacted]"


def test_the_failure_snapshot_holds_no_secret_even_json_escaped(leaky, cli):
    r = cli("orch", "--stage", "ci", "--format", "json", env=SECRETS)
    assert r.code == 1, r
    snapshots = list((leaky.root / ".git" / "omnibase" / "snapshots").glob("*.json"))
    assert len(snapshots) == 1
    text = snapshots[0].read_text()
    assert "[redacted]" in text and _leaks(text) == [], text


# --- user-given refs reach git as data ------------------------------------------------------------


def test_a_ref_that_looks_like_an_option_is_refused_and_writes_nothing(staged, cli, tmp_path):
    staged.commit()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    r = cli("orch", "--stage", "ci", "--format", "json", f"--from-ref=--output={victim}", "--to-ref=HEAD")
    assert r.code == 2, r
    assert "--output" in r.err
    assert victim.read_text() == "precious\n"
    r = cli("orch", "--stage", "ci", "--format", "json", "--from-ref=HEAD", f"--to-ref=--output={victim}")
    assert r.code == 2, r
    assert victim.read_text() == "precious\n"
