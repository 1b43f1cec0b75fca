"""The CLI run inside another process (``omnibase.cli.main``) leaves that process as it was.

A run that may start the user's commands adopts their orphans (a child subreaper) so that
it can kill and reap them; an embedding process (a test runner, a tool) that went on adopting
them afterwards would collect zombies it never waits for, and a process group it killed
later would never be empty (the cause of a hang in ``test_stash_kill`` under pytest-xdist).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import pytest

pytestmark = pytest.mark.e2e

REGISTRY = """\
version: 1
components:
  - name: says-yes
    type: validator
    tags: [pre-commit]
    command: ["true"]
    always_run: true
"""

ORPHAN = "import os, time\npid = os.fork()\nif pid == 0:\n    os.closerange(0, 3)\n    time.sleep(60)\n    os._exit(0)\nprint(pid)\n"


def _orphans_parent() -> int:
    """Start a process whose child outlives it; the parent the orphan is then given (the
    process that adopts this one's orphans). The orphan is killed (and reaped, if ours)."""
    out = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, check=True)
    orphan = int(out.stdout)  # its parent has exited: the orphan has been given a new one
    try:
        with open(f"/proc/{orphan}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[1])
    finally:
        os.kill(orphan, signal.SIGKILL)
        try:
            os.waitpid(orphan, 0)
        except ChildProcessError:  # not ours: its parent reaps it
            pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreapers and /proc are Linux's")
def test_an_in_process_run_leaves_its_caller_adopting_no_orphans(repo, monkeypatch, capsys):
    from omnibase.cli import main

    repo.seed({"omnibase.yaml": REGISTRY, "a.txt": "a\n"})
    monkeypatch.chdir(repo.root)
    assert _orphans_parent() != os.getpid()  # before: this process adopts no orphan
    assert main(["orch", "--format", "json", "--all-files"]) == 0
    assert '"name":"says-yes"' in capsys.readouterr().out  # a command of the user's ran: orphans were adopted
    assert _orphans_parent() != os.getpid()
