"""The real CLI with ``--executor dask``: a local cluster started for the run, a killed
worker, command components on the workers, and a scheduler that cannot be reached."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.e2e

PLUGIN = '''
import os
import signal
from returns.result import Success


def _note(ctx, what):
    path = os.path.join(ctx.root, "calls.log")
    first = not os.path.exists(path) or what not in open(path).read().split()
    with open(path, "a") as f:
        f.write(what + "\\n")
    return first


def once(ctx, value):
    if _note(ctx, "once"):
        os.kill(os.getpid(), signal.SIGKILL)
    return Success("ran again")


def again(ctx, value):
    if _note(ctx, "again"):
        os.kill(os.getpid(), signal.SIGKILL)
    return Success(os.getpid())


def fine(ctx, value):
    _note(ctx, "fine")
    print("fine on", os.getpid())
    return Success(len(ctx.files))
'''

REGISTRY = """\
version: 1
components:
  - name: fine
    type: test
    python: "plugin:fine"
  - name: where
    type: test
    command: [sh, -c, 'cat /proc/$PPID/cmdline | tr "\\\\0" " "']
    always_run: true
    pass_filenames: false
  - name: once
    type: test
    tags: [killer]
    python: "plugin:once"
    retry: {max_attempts: 3, initial: 0}
  - name: again
    type: test
    tags: [killer]
    python: "plugin:again"
    idempotent: true
    retry: {max_attempts: 3, initial: 0}
"""


@pytest.fixture
def project(repo):
    return repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY})


def _steps(out: str) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(out)["steps"]}


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a running cluster (2 worker processes) that the CLI is pointed at."""
    from omnibase.drivers.dask import local_cluster

    with local_cluster(2, reruns=True) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("existing", [False, True], ids=["cluster-for-the-run", "existing-cluster"])
def test_a_run_on_a_cluster_reports_as_a_local_run(project, cli, request, existing):
    local = cli("orch", "--stage", "test", "--filter", "tag!=killer", "--format", "json")
    (project.root / "calls.log").unlink()
    where = ("--scheduler", request.getfixturevalue("scheduler")) if existing else ()
    r = cli("orch", "--stage", "test", "--filter", "tag!=killer", "--executor", "dask", *where, "--format", "json")
    assert r.code == 0, r
    steps, before = _steps(r.out), _steps(local.out)
    assert [(s["status"], s["value"]) for s in steps.values() if s["name"] != "where"] == [
        (s["status"], s["value"]) for s in before.values() if s["name"] != "where"
    ]
    assert steps["fine"]["output"].startswith("fine on ")
    # the command ran on a Dask worker process, not in the CLI's process: run locally, its
    # parent's command line is the CLI's (``... orch --stage test ...``); on the cluster it is
    # a worker's, whatever that is called (``python -c ...``, or a title Dask gives it when
    # setproctitle is installed) and wherever the checkout lives
    local_parent = before["where"]["value"]["output"].split()
    parent = steps["where"]["value"]["output"].split()
    assert "orch" in local_parent and "--stage" in local_parent, local_parent
    assert parent and "orch" not in parent and "--stage" not in parent, parent
    assert (project.root / "calls.log").read_text().split() == ["fine"]


def test_a_killed_worker_retries_the_idempotent_step_and_fails_the_other_once(project, cli):
    r = cli("orch", "--stage", "test", "--tags", "killer", "--executor", "dask", "--jobs", "2", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r.out)
    assert set(steps) == {"once", "again"}  # nothing lost from the report
    assert steps["once"]["status"] == "FAIL" and steps["once"]["error"]["type"] == "crashed", r.out
    assert "died before answering" in steps["once"]["error"]["cause"] and steps["once"]["attempts"] == 1
    # an attempt of "again" may land on the worker "once" is killing and die with it without
    # running (its retry policy allows 3): what counts is that it passed, and ran twice
    assert steps["again"]["status"] == "PASS" and steps["again"]["attempts"] in (2, 3), r.out
    calls = (project.root / "calls.log").read_text().split()
    assert sorted(calls) == ["again", "again", "once"]  # the non-idempotent one ran exactly once


@pytest.mark.slow  # not deterministic yet: see the note below; `just fuzz` runs it
def test_a_run_with_dying_workers_says_nothing_of_dask_on_stderr(project, cli):
    """Each worker death is the step's Crashed in the report: Dask's own log lines and
    tracebacks about it are not repeated on stderr.

    Known to fail now and then: the processes the cluster starts write to the null device,
    and a close that fails no longer fails the run (tests/drivers/test_dask.py), but a worker
    the nanny starts again after a death inherits this process's stderr, and when it starts
    while the cluster closes, distributed prints its own traceback there."""
    r = cli("orch", "--stage", "test", "--tags", "killer", "--executor", "dask", "--jobs", "2", "--format", "json")
    assert r.code == 1, r
    assert "distributed." not in r.err and "Traceback" not in r.err and " - ERROR - " not in r.err, r.err


def test_an_unreachable_scheduler_is_a_config_error_naming_it_before_anything_runs(project, cli):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    r = cli("orch", "--stage", "test", "--executor", "dask", "--scheduler", address,
            env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})  # fmt: skip
    assert r.code == 2, r
    assert r.err.count("\n") == 1 and address in r.err and "Traceback" not in r.err, r
    assert r.out == "" and not (project.root / "calls.log").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scheduler", "tcp://127.0.0.1:8786"), "--scheduler goes with --executor dask"),
        (("--executor", "dask", "--dry-run"), "--executor dask runs with --mode sync or async, not dry-run"),
        (("--executor", "dask", "--scheduler", "nonsense:::"), "cannot reach the Dask scheduler at nonsense:::"),
    ],
)
def test_contradictory_or_malformed_executor_options_are_refused(project, cli, args, message):
    r = cli("orch", "--stage", "test", *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err, r
    assert not (project.root / "calls.log").exists()


def test_built_in_checks_stay_in_the_cli_process_and_write_their_fixes(project, cli):
    project.write("notes.txt", "trailing   \n")
    project.stage("notes.txt")
    r = cli("orch", "--all-files", "--executor", "dask", "--mode", "sync", "--format", "json")
    assert r.code == 1, r
    steps = _steps(r.out)
    assert steps["trailing-whitespace"]["status"] == "FAIL" and steps["trailing-whitespace"]["error"]["data"]["fixed"]
    assert (project.root / "notes.txt").read_text() == "trailing\n"  # fixed, by this process
    assert "Traceback" not in r.err and "8787" not in r.err, r.err
