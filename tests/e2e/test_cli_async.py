"""``--mode async`` end to end: the real CLI in a subprocess, on a real git repository.

Ctrl-C (SIGINT) and SIGTERM while components sleep (a coroutine, a synchronous function in
a thread, a command with a grandchild) still give a readable partial report, exit 130, and
leave no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Repo, alive, cli_env

REGISTRY = """\
version: 1
components:
  - name: slow-async
    python: "slow:slow_async"
    tags: [ci]
  - name: slow-sync
    python: "slow:slow_sync"
    tags: [ci]
  - name: slow-cmd
    command: [sh, -c, "sleep 300 & echo $! > started/grandchild; echo $$ > started/slow-cmd; wait"]
    pass_filenames: false
    always_run: true
    tags: [ci]
  - name: quick
    python: "slow:quick"
    tags: [ci]
"""

MODULE = """\
import asyncio, os, time
from returns.result import Success

def _mark(name):
    with open(os.path.join("started", name), "w") as f:
        f.write(str(os.getpid()))

async def slow_async(ctx, value):
    _mark("slow-async")
    await asyncio.sleep(300)
    return Success(1)

def slow_sync(ctx, value):
    _mark("slow-sync")
    time.sleep(300)
    return Success(2)

def quick(ctx, value):
    _mark("quick")
    return Success(3)

def fails_once_started(ctx, value):
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join("started", "grandchild")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    from omnibase import Failed
    from returns.result import Failure
    return Failure(Failed(message="no"))
"""

WANTED = ("slow-async", "slow-sync", "slow-cmd", "grandchild")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    repo = Repo.create(tmp_path / "repo")
    root = repo.root
    (root / "started").mkdir()
    repo.write("omnibase.yaml", REGISTRY)
    repo.write("slow.py", MODULE)
    repo.stage("omnibase.yaml", "slow.py")
    yield root
    for name in ("slow-cmd", "grandchild"):  # a failed test must not leave its sleepers behind
        try:
            os.kill(int((root / "started" / name).read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def _wait_for(path: Path, names: tuple[str, ...], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not all((path / n).exists() and (path / n).read_text().strip() for n in names):
        assert time.monotonic() < deadline, f"components did not start: {sorted(os.listdir(path))}"
        time.sleep(0.05)


def _wait_for_log(log: Path, event: str, component: str, limit: float = 60.0) -> None:
    """Until the run's structured log (line-buffered JSON) says ``event`` of ``component``."""
    deadline = time.monotonic() + limit
    while True:
        lines = log.read_text().split("\n")[:-1] if log.exists() else []  # whole lines only
        if any(f'"event": "{event}"' in line and f'"component": "{component}"' in line for line in lines):
            return
        assert time.monotonic() < deadline, f"no {event} of {component} in the log: {lines[-5:]}"
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find survivors")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_an_async_run_gives_a_partial_report_and_no_survivor(project: Path, signum: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--all-files", "--mode", "async", "--jobs", "8",
         "--filter", "tag=ci", "--format", "json", "-v", "--log-format", "json", "--log-file", "run.log"],
        cwd=project, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
    )  # fmt: skip
    try:
        _wait_for(project / "started", WANTED)
        _wait_for_log(project / "run.log", "step.end", "quick")  # quick's answer has reached the run
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    code = 130 if signum == signal.SIGINT else 128 + signum  # 143 for SIGTERM, as in sync mode
    assert proc.returncode == code, err
    report = json.loads(out)
    assert report["outcome"] == "interrupted" and report["exit_code"] == code
    by_name = {s["name"]: s for s in report["steps"]}
    assert by_name["quick"]["status"] == "PASS"
    for name in ("slow-async", "slow-sync", "slow-cmd"):
        assert by_name[name]["status"] == "FAIL" and by_name[name]["error"]["type"] == "interrupted", by_name[name]
    pids = [int((project / "started" / n).read_text()) for n in ("slow-cmd", "grandchild")]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "a command or its child outlived the run"
    assert b"Traceback" not in err.encode() if isinstance(err, str) else b"Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find survivors")
def test_a_command_cancelled_by_fail_fast_does_not_outlive_the_run(project: Path) -> None:
    (project / "omnibase.yaml").write_text(
        "version: 1\ncomponents:\n"
        "  - name: slow-cmd\n"
        '    command: [sh, -c, "sleep 300 & echo $! > started/grandchild; echo $$ > started/slow-cmd; wait"]\n'
        "    pass_filenames: false\n"
        "    always_run: true\n"
        "  - {name: gone-async, python: 'slow:fails_once_started'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--all-files", "--mode", "async", "-x",
         "--format", "json"],
        cwd=project, capture_output=True, text=True, env=cli_env(), timeout=90,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    steps = {s["name"]: s for s in json.loads(done.stdout)["steps"]}
    assert steps["gone-async"]["status"] == "FAIL"
    assert steps["slow-cmd"]["status"] == "SKIP" and steps["slow-cmd"]["reason"].startswith("cancelled")
    pids = [int((project / "started" / n).read_text()) for n in ("slow-cmd", "grandchild")]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "the cancelled command or its child outlived the run"


def test_async_mode_reports_like_sync_mode(project: Path) -> None:
    (project / "omnibase.yaml").write_text(
        "version: 1\ncomponents:\n"
        "  - {name: quick, python: 'slow:quick', tags: [ci]}\n"
        "  - {name: echo, command: [echo, hi], pass_filenames: false, always_run: true, tags: [ci]}\n"
    )
    reports = {}
    for mode in ("sync", "async"):
        done = subprocess.run(
            [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--all-files", "--mode", mode,
             "--filter", "tag=ci", "--format", "json"],
            cwd=project, capture_output=True, text=True, env=cli_env(), timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        reports[mode] = [(s["name"], s["status"], s["value"]) for s in report["steps"]]
    assert reports["sync"] == reports["async"]


def test_an_async_component_under_sync_mode_is_a_config_error_naming_async_mode(project: Path) -> None:
    # In process, the sync performer cannot await it (in a worker process it is awaited there).
    (project / "omnibase.yaml").write_text(REGISTRY.replace('python: "slow:slow_async"', 'python: "slow:slow_async"\n    isolation: none'))
    done = subprocess.run(
        [sys.executable, "-m", "omnibase", "orch", "--stage", "ci", "--all-files", "--filter", "name=slow-async",
         "--format", "json"],
        cwd=project, capture_output=True, text=True, env=cli_env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    (step,) = json.loads(done.stdout)["steps"]
    assert step["status"] == "FAIL" and "--mode async" in step["error"]["message"]


def test_jobs_must_be_a_positive_number(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omnibase", "orch", "--mode", "async", "--jobs", "0"],
        cwd=project, capture_output=True, text=True, env=cli_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--jobs" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_reaping_kills_the_group_a_child_leads_and_spares_the_others() -> None:
    from omnibase.cli._modes import _children, reap_children

    kept = subprocess.Popen(["sleep", "60"])
    leader = subprocess.Popen(["sh", "-c", "sleep 61 & wait"], start_new_session=True)
    try:
        time.sleep(0.2)  # let sh start its own child
        grandchildren = _children(leader.pid)
        assert grandchildren, "the leader's child should be running"
        spare = set(_children(os.getpid())) - {leader.pid}
        assert kept.pid in spare
        assert reap_children(spare=spare) == 1
        leader.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in grandchildren) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(p) for p in grandchildren), "the whole group goes"
        assert kept.poll() is None, "a child that was running before is spared"
    finally:
        for proc in (kept, leader):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
