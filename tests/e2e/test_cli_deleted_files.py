"""The real CLI: a file deleted while the run goes on is reported as skipped, with why,
by the built-in checks that come after, not silently left out (issue 24, item 15)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

PLUGIN = '''
import os
from returns.result import Success


def delete(ctx, value):
    os.remove(os.path.join(ctx.root, "gone.txt"))
    return Success(None)
'''


def _registry(check: str) -> str:
    return (
        "version: 1\ncomponents:\n"
        "  - {name: delete, python: 'plugin:delete', always_run: true, tags: [ci]}\n"
        f"  - {{builtin: {check}, needs: [delete], tags: [ci]}}\n"
    )


@pytest.mark.parametrize(("files", "passes"), [(("kept.txt", "gone.txt"), True), (("gone.txt",), False)])
def test_a_file_deleted_during_the_run_is_reported_as_skipped(repo, cli, files, passes):
    repo.seed({"plugin.py": PLUGIN, "kept.txt": "fine\n", "gone.txt": "fine\n", "omnibase.yaml": _registry("end-of-file-fixer")})
    r = cli("orch", "--stage", "ci", "--filter", "name=delete|end-of-file-fixer", "--format", "json", *files)
    assert r.code == 0, r
    steps = {s["name"]: s for s in json.loads(r.out)["steps"]}
    check = steps["end-of-file-fixer"]
    assert not (repo.root / "gone.txt").exists()
    if passes:
        assert check["status"] == "PASS" and check["value"]["checked"] == 1
        assert check["value"]["skipped"] == {"gone.txt": "deleted during the run"}
    else:
        assert check["status"] == "SKIP" and check["reason"] == "no files to check; gone.txt: deleted during the run"


def test_a_failing_check_also_names_the_deleted_file(repo, cli):
    repo.seed({"plugin.py": PLUGIN, "kept.txt": "no newline", "gone.txt": "fine\n", "omnibase.yaml": _registry("end-of-file-fixer")})
    r = cli("orch", "--stage", "ci", "--filter", "name=delete|end-of-file-fixer", "--format", "json", "kept.txt", "gone.txt")
    assert r.code == 1, r
    check = {s["name"]: s for s in json.loads(r.out)["steps"]}["end-of-file-fixer"]
    assert check["error"]["data"]["skipped"] == {"gone.txt": "deleted during the run"}
    assert (repo.root / "kept.txt").read_text() == "no newline\n"
