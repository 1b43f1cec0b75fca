"""Registry type names through the real CLI: an unknown name is exit 2 at its line; a
declared output type is checked when the component runs (exit 4 when it lies)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = """\
from returns.result import Success


def words(ctx, value):
    return Success(str(value).split())


def count(ctx, value):
    return Success("three")
"""


def _registry(output: str) -> str:
    return f"""\
version: 1
components:
  - name: words
    tags: [pipe]
    python: "plugin:words"
    output: list[str]
  - name: count
    tags: [pipe]
    python: "plugin:count"
    input: list[str]
    output: {output}
"""


def _project(repo, output: str):  # type: ignore[no-untyped-def]
    repo.write("plugin.py", PLUGIN)
    repo.write("omnibase.yaml", _registry(output))
    repo.stage("plugin.py", "omnibase.yaml")
    repo.commit()


def test_an_unknown_type_name_is_exit_2_naming_file_and_line(repo, cli):  # type: ignore[no-untyped-def]
    _project(repo, "Count")
    r = cli("orch", "--stage", "pipeline", "--from", "words", "--to", "count", "--format", "json")
    assert r.code == 2, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "omnibase.yaml:11:" in lines[0] and "components[1].output: unknown type 'Count'" in lines[0]
    assert "Traceback" not in r.err


def test_a_declared_output_type_is_checked_at_run_time(repo, cli):  # type: ignore[no-untyped-def]
    _project(repo, "int")
    r = cli("orch", "--stage", "pipeline", "--from", "words", "--to", "count", "--format", "json")
    assert r.code == 4, r
    steps = {s["name"]: s for s in json.loads(r.out)["steps"]}
    assert steps["words"]["status"] == "PASS" and steps["count"]["error"]["type"] == "protocol"
