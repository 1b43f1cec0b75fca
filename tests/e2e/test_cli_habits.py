"""Habits of pre-commit users, through real ``git commit`` with the hook installed: ``SKIP``,
the unstaged-configuration refusal, running hooks by id, and a failing linter's output kept
whole (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import _env

pytestmark = pytest.mark.e2e

#: A linter with 517 lines of findings that fails: "finding N" on each line.
LINTER = f"""version: 1
components:
  - name: many-findings
    type: validator
    tags: [pre-commit]
    pass_filenames: false
    command: [{sys.executable}, -c, "import sys; print('\\\\n'.join(f'finding {{i}}' for i in range(1, 518))); sys.exit(1)"]
"""


def _commit(repo, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", "-m", "c"], cwd=repo.root, capture_output=True, text=True,
                          env=_env(env), check=False)


def test_a_long_failing_output_keeps_its_first_lines_in_the_commit_and_all_of_it_beside(repo, cli):
    repo.seed({"omnibase.yaml": LINTER})
    assert cli("install").code == 0
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    done = _commit(repo)
    assert done.returncode == 1, done
    shown = done.stdout + done.stderr
    assert "    finding 1\n" in shown and "    finding 5\n" in shown  # the head: the first errors
    assert "    finding 513\n" in shown and "    finding 517\n" in shown  # and the tail
    assert "finding 6\n" not in shown and "finding 512\n" not in shown
    assert "... 507 lines left out (-v shows more; --format json has them all)" in shown
    assert "--format json all" not in shown
    saved_line = next(line for line in shown.splitlines() if "whole output: " in line)
    saved = repo.root / saved_line.split("whole output: ", 1)[1].strip()
    assert saved.is_relative_to(repo.root / ".git" / "omnibase" / "outputs")
    assert saved.read_text().splitlines() == [f"finding {i}" for i in range(1, 518)]
    # every machine format has the whole output
    r = cli("orch", "--format", "json")
    step = {s["name"]: s for s in json.loads(r.out)["steps"]}["many-findings"]
    assert step["error"]["message"].splitlines() == [f"finding {i}" for i in range(1, 518)]
    r = cli("orch", "--format", "jsonl")
    assert r.out.count("finding 1\\n") >= 1 and "finding 517" in r.out and "finding 2\\n" in r.out
    r = cli("orch", "--format", "yaml")
    assert "finding 1\n" in r.out and "finding 258\n" in r.out and "finding 517" in r.out


def test_a_short_failing_output_saves_no_file(repo, cli):
    repo.seed({"omnibase.yaml": LINTER.replace("range(1, 518)", "range(1, 4)")})
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    r = cli("orch", "--format", "human")
    assert r.code == 1, r
    assert "    finding 1\n    finding 2\n    finding 3\n" in r.out and "whole output" not in r.out
    assert not (repo.root / ".git" / "omnibase" / "outputs").exists()
