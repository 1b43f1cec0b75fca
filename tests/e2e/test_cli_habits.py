"""Habits of pre-commit users, through real ``git commit`` with the hook installed: ``SKIP``,
the unstaged-configuration refusal, running hooks by id, and a failing linter's output kept
whole (issue 21)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.support import cli_env

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
                          env=cli_env(env), check=False)


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


# --- SKIP, the unstaged configuration, hooks by id ----------------------------------------------


def test_skip_as_pre_commit_users_set_it_skips_through_a_real_commit(repo, cli):
    repo.seed({"README": "x\n"})
    assert cli("install").code == 0
    repo.write("notes.txt", "trailing   \n")
    repo.stage("notes.txt")
    done = _commit(repo, {"SKIP": "trailing-whitespace,check-yaml"})
    assert done.returncode == 0, done
    shown = done.stdout + done.stderr
    assert re.search(r"^trailing-whitespace\.+ .*SKIP$", shown, re.M), shown  # listed as skipped, not left out
    assert repo.git("show", "HEAD:notes.txt") == "trailing   \n"  # not fixed: skipped
    repo.write("more.txt", "again   \n")
    repo.stage("more.txt")
    assert _commit(repo).returncode == 1  # without SKIP it runs (and fixes)
    assert (repo.root / "more.txt").read_text() == "again\n"


def test_an_unstaged_registry_file_is_refused_in_the_hook_and_staging_it_fixes_that(repo, cli):
    repo.seed({"omnibase.yaml": "version: 1\ncomponents: []\n"})
    assert cli("install").code == 0
    repo.write("omnibase.yaml", "version: 1\ncomponents: []\nexclude: ^vendor/\n")  # edited, not staged
    repo.write("a.txt", "x\n")
    repo.stage("a.txt")
    done = _commit(repo)
    assert done.returncode == 1, done  # git says 1 whatever the hook's code
    assert "omnibase.yaml has changes that are not staged" in done.stderr
    hook = subprocess.run([str(repo.root / ".git" / "hooks" / "pre-commit")], cwd=repo.root, capture_output=True, text=True,
                          env=cli_env(None), check=False)
    assert hook.returncode == 2, hook  # a configuration problem
    assert "git add omnibase.yaml" in done.stderr
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD~1"], cwd=repo.root, capture_output=True).returncode != 0
    repo.stage("omnibase.yaml")
    assert _commit(repo).returncode == 0
    # a plain run (not the hook) is not refused
    repo.write("omnibase.yaml", "version: 1\ncomponents: []\n")
    assert cli("orch", "--all-files", "--format", "json").code == 0


def test_run_by_id_on_all_files_or_given_files_and_a_hint_when_orch_gets_an_id(repo, cli):
    repo.seed({"a.txt": "trailing   \n", "b.txt": "also   \n", "c.py": "x = (\n"})
    r = cli("run", "trailing-whitespace", "--files", "a.txt", "--format", "json")
    assert r.code == 1, r
    names = [s["name"] for s in json.loads(r.out)["steps"]]
    assert names == ["trailing-whitespace"]  # check-ast (c.py is broken) did not run
    assert (repo.root / "a.txt").read_text() == "trailing\n" and (repo.root / "b.txt").read_text() == "also   \n"
    r = cli("run", "trailing-whitespace", "--all-files", "--format", "json")
    assert r.code == 1 and (repo.root / "b.txt").read_text() == "also\n"
    r = cli("run", "check-ast", "--all-files", "--format", "json")
    assert r.code == 1 and [s["name"] for s in json.loads(r.out)["steps"]] == ["check-ast"]
    r = cli("run", "no-such-hook")
    assert r.code == 2 and "no component named no-such-hook" in r.err
    r = cli("orch", "trailing-whitespace")
    assert r.code == 2, r
    assert "trailing-whitespace: no such file" in r.err
    assert "'omnibase run trailing-whitespace' runs it" in r.err
