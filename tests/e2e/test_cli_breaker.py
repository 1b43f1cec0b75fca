"""Circuit breakers kept between runs, through the real CLI: a component that keeps failing
is called until its breaker opens, later runs short-circuit without calling it, one probe
runs after the reset timeout, and ``omnibase breaker reset`` closes it."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = '''
import os
from returns.result import Failure, Success
from omnibase import Failed


def down(ctx, files):
    with open(os.path.join(ctx.root, "calls.log"), "a") as f:
        f.write("down\\n")
    return Failure(Failed(message="the service is down", transient=True))


def fine(ctx, files):
    return Success(None)
'''

REGISTRY = """\
version: 1
components:
  - name: down
    type: validator
    idempotent: true
    python: "plugin:down"
    retry: {max_attempts: 4, initial: 0.01}
    breaker: {threshold: 2, reset_timeout: 10}
  - name: fine
    type: validator
    python: "plugin:fine"
"""


@pytest.fixture
def project(repo):
    return repo.seed({"plugin.py": PLUGIN, "omnibase.yaml": REGISTRY})


def _calls(project) -> int:
    log = project.root / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def _run(cli, *extra: str) -> dict:
    done = cli("orch", "--stage", "ci", "--format", "json", *extra)
    assert done.code == 1, done
    return json.loads(done.out)


def _step(report: dict, name: str) -> dict:
    [step] = [s for s in report["steps"] if s["name"] == name]
    return step


def test_a_breaker_opens_across_runs_short_circuits_probes_and_resets(project, cli):
    first = _run(cli)
    assert _calls(project) == 2  # two failures open it: the retry stops there
    down = _step(first, "down")
    assert down["attempts"] == 2 and "not retried: circuit breaker 'down' opened" in down["reason"]
    for _ in range(2):  # later runs never call it
        later = _run(cli)
        down = _step(later, "down")
        assert down["error"]["type"] == "circuit_open" and down["attempts"] == 0
        assert _step(later, "fine")["status"] == "PASS"  # the other component still runs
    assert _calls(project) == 2
    probe_at = down["error"]["probe_at"]
    assert probe_at > time.time() - 5

    human = cli("orch", "--stage", "ci", "--format", "human", "--no-color")
    assert "circuit breaker 'down' open after repeated failures: not invoked" in human.out, human
    assert "next probe at " + time.strftime("%H:%M:%S", time.localtime(probe_at)) in human.out
    listed = cli("breaker", "list")
    assert listed.code == 0 and listed.out.startswith("down: open since "), listed
    assert [b["name"] for b in json.loads(cli("breaker", "list", "--json").out)] == ["down"]

    time.sleep(max(0.0, probe_at - time.time()) + 0.1)
    _run(cli)
    assert _calls(project) == 3  # one half-open probe; it failed, so the breaker is open again
    _run(cli)
    assert _calls(project) == 3

    reset = cli("breaker", "reset", "down")
    assert reset.code == 0 and "breaker 'down' closed" in reset.out, reset
    assert cli("breaker", "list").out.strip() == "no circuit breaker has recorded a failure"
    _run(cli)
    assert _calls(project) == 5  # closed again: called until it opens once more


def test_a_dry_run_keeps_no_breaker_state(project, cli):
    cli("orch", "--stage", "ci", "--mode", "dry-run", "--format", "json")
    assert not (project.root / ".git" / "omnibase" / "breakers.json").exists()
    assert cli("breaker", "reset", "nothing").code == 1
