"""The real CLI: registry Python components in worker processes, the report's stdout kept
pure, crashes that do not end the run, the sandbox's exit 5, limits, the CI timeout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e

PLUGIN = '''
import os, subprocess, sys, time
from returns.result import Success


def noisy(ctx, value):
    print("print() to stdout")
    sys.stdout.flush()
    os.write(1, b"os.write(1)\\n")
    os.write(2, b"os.write(2)\\n")
    subprocess.run(["echo", "from a child process"])
    return Success("quiet report")


def in_process_noisy(ctx, value):
    os.write(1, b"inline fd one write\\n")
    return Success(os.getpid())


def dies(ctx, value):
    os._exit(0)


def parent(ctx, value):
    return Success(os.getppid())


def writes(ctx, value):
    with open(os.path.join(ctx.root, "..", "escaped.txt"), "w") as f:
        f.write("x")
    return Success(None)


def hog(ctx, value):
    return Success(len(bytearray(1 << 30)))


def slow(ctx, value):
    time.sleep(30)
    return Success(None)


def slow_marked(ctx, value):
    with open("worker.pid", "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
    return Success(None)
'''


def _registry(*entries: str) -> str:
    return "version: 1\ncomponents:\n" + "".join(
        f"  - {{name: {e.split(':')[0]}, tags: [ci], always_run: true, python: 'plugin:{e.split(':')[0]}'{e.partition(':')[2]}}}\n"
        for e in entries
    )


@pytest.fixture
def project(repo):
    repo.write("plugin.py", PLUGIN)
    repo.write("a.txt", "ok\n")
    repo.stage("plugin.py", "a.txt")
    repo.commit()
    return repo


def _run(project, cli, *entries: str):
    project.write("omnibase.yaml", _registry(*entries))
    names = "|".join(e.split(":")[0] for e in entries)
    r = cli("orch", "--stage", "ci", "--format", "json", "--filter", f"name={names}", timeout=120)
    report = json.loads(r.out)  # stdout is the report alone: it parses
    return r, {s["name"]: s for s in report["steps"]}


def test_stdout_carries_the_report_alone(project, cli):
    r, steps = _run(project, cli, "noisy:, sandbox: {processes: true}", "in_process_noisy:, isolation: none")
    assert r.code == 0, r
    out = steps["noisy"]["output"]
    for text in ("print() to stdout", "os.write(1)", "os.write(2)", "from a child process"):
        assert text in out and r.out.count(text) == 1 and text not in r.err  # once: in the report
    assert "inline fd one write" in steps["in_process_noisy"]["output"]
    assert steps["noisy"]["value"] == "quiet report"


def test_registry_python_runs_in_a_worker_unless_told(project, cli):
    r, steps = _run(project, cli, "parent", "in_process_noisy:, isolation: none")
    assert r.code == 0, r
    assert steps["parent"]["value"] == steps["in_process_noisy"]["value"]  # the worker's parent is the CLI


def test_a_dying_component_is_a_crash_and_the_run_goes_on(project, cli):
    r, steps = _run(project, cli, "dies", "parent")
    assert r.code == 1, r
    assert steps["dies"]["error"]["type"] == "crashed" and "status 0" in steps["dies"]["error"]["cause"]
    assert steps["parent"]["status"] == "PASS"


def test_writing_outside_the_repository_is_exit_5(project, cli):
    r, steps = _run(project, cli, "writes")
    assert r.code == 5, r
    assert steps["writes"]["error"]["type"] == "sandbox" and steps["writes"]["error"]["action"] == "write"
    assert not (project.root.parent / "escaped.txt").exists()
    r, steps = _run(project, cli, "writes:, sandbox: {write: ['.', '..']}")
    assert r.code == 0, r
    assert (project.root.parent / "escaped.txt").exists()


def test_memory_limit_is_exit_5(project, cli):
    r, steps = _run(project, cli, "hog:, limits: {memory_mb: 256}")
    assert r.code == 5, r
    assert steps["hog"]["error"] == {"type": "resource", "resource": "memory", "limit": 256,
                                     "message": "ran out of its 256 MB of memory", "transient": False}  # fmt: skip


def test_a_registry_timeout_kills_the_worker(project, cli):
    r, steps = _run(project, cli, "slow:, timeout: 1", "parent")
    assert r.code == 1, r
    assert steps["slow"]["error"]["type"] == "timeout" and steps["parent"]["status"] == "PASS"


def test_unknown_isolation_is_a_config_error(project, cli):
    project.write("omnibase.yaml", _registry("parent:, isolation: thread"))
    r = cli("orch", "--stage", "ci")
    assert r.code == 2, r
    assert "isolation" in r.err


def test_ctrl_c_during_a_worker_call_leaves_no_worker_behind(project):
    project.write("omnibase.yaml", _registry("slow_marked"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--format", "json"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=cli_env(None),
    )  # fmt: skip
    marker = project.root / "worker.pid"
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    worker = int(marker.read_text())
    assert worker != proc.pid
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert json.loads(out)["outcome"] == "interrupted"
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        with open(f"/proc/{worker}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    else:
        assert not os.path.exists(f"/proc/{worker}")
