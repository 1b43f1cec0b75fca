"""Small rough edges of issue 10, through the real CLI."""

from __future__ import annotations

import json
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_registry_list_and_inspect_show_a_table_and_an_entry(repo, cli):
    repo.write(
        "omnibase.yaml",
        "version: 1\ncomponents:\n  - {name: lint, type: validator, tags: [pre-commit], command: ['true'],"
        " files: '\\.py$', description: the linter}\n",
    )
    r = cli("registry", "list", "--format", "human")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "LIFECYCLE", "SOURCE", "TAGS", "DESCRIPTION"]
    row = next(line for line in lines if line.startswith("lint "))
    assert row.split()[:4] == ["lint", "validator", "stable", "command"]
    assert "the linter" in row
    assert any(line.startswith("check-ast ") and "built-in" in line for line in lines)
    assert "PASS" not in r.out and all(len(line) <= 100 for line in lines)
    r = cli("registry", "inspect", "lint", "--format", "human")
    assert r.code == 0, r
    fields = dict(line.split(":", 1) for line in r.out.splitlines())
    assert fields["command"].strip() == "true"
    assert fields["files"].strip() == "\\.py$"
    assert fields["source"].strip() == "command"
    assert json.loads(cli("registry", "inspect", "lint", "--format", "json").out)["output"]["name"] == "lint"


def test_python_components_get_only_the_files_they_select(repo, cli):
    repo.write(
        "mychecks.py",
        "from returns.result import Success\n\ndef seen(ctx, value):\n    return Success(sorted(ctx.files))\n",
    )
    repo.write(
        "omnibase.yaml",
        "version: 1\ncomponents:\n  - {name: seen, tags: [pre-commit], python: 'mychecks:seen', files: '^src/',"
        " exclude: 'skip', types: [python]}\n",
    )
    for path in ("src/a.py", "src/skip.py", "src/b.txt", "top.py"):
        repo.write(path, "x = 1\n")
    repo.stage("mychecks.py", "omnibase.yaml", "src", "top.py")
    r = cli("orch", "--format", "json", "--filter", "name=seen")
    assert r.code == 0, r
    step = json.loads(r.out)["steps"][0]
    assert step["value"] == ["src/a.py"]


def _flaky(repo, codes: str) -> None:
    script = (
        "import os, sys\n"
        "n = int(open('count').read()) if os.path.exists('count') else 0\n"
        "open('count', 'w').write(str(n + 1))\n"
        "sys.exit(75 if n == 0 else 0)\n"
    )
    repo.write("flaky.py", script)
    repo.write(
        "omnibase.yaml",
        "version: 1\ncomponents:\n"
        f"  - {{name: flaky, tags: [pre-commit], command: [{sys.executable}, flaky.py], idempotent: true,"
        f" pass_filenames: false, always_run: true, retry: {{initial: 0, jitter: 0{codes}}}}}\n",
    )


def test_a_command_retries_on_the_exit_codes_its_registry_calls_transient(repo, cli):
    _flaky(repo, ", transient_exit_codes: [75]")
    r = cli("orch", "--format", "json", "--filter", "name=flaky", "--all-files")
    assert r.code == 0, r
    step = json.loads(r.out)["steps"][0]
    assert step["status"] == "PASS" and step["attempts"] == 2


def test_without_transient_exit_codes_a_failing_command_is_not_retried(repo, cli):
    _flaky(repo, "")
    r = cli("orch", "--format", "json", "--filter", "name=flaky", "--all-files")
    assert r.code == 1, r
    assert json.loads(r.out)["steps"][0]["attempts"] == 1
