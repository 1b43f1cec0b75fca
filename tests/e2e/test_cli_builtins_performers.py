"""The real CLI: the built-ins give the same report and the same fixed bytes one after
another and concurrently (``--mode async --jobs 4``); a run stopped by ``-x`` keeps the
fixes it reported; the fixers' spool under ``.git/`` is gone after every run."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.e2e

FILES = {
    "a.py": b"x = 1   \r\ny = 2\n",  # trailing whitespace, mixed line endings
    "b.py": b"def broken(:\n",
    "c.txt": b"no newline   ",  # trailing whitespace and no newline at the end
    "d.json": b'{"a": 1,}\n',
    "e.yaml": b"a: 1\n",
    "ok.md": b"fine\n",
}
REGISTRY = "components:\n  - builtin: fix-byte-order-marker\n  - builtin: check-docstring-first\n"


def _setup(repo) -> None:
    for rel, data in FILES.items():
        repo.write(rel, data)
    repo.write("omnibase.yaml", REGISTRY)
    repo.stage(*FILES, "omnibase.yaml")


def _outcome(r) -> dict[str, tuple[str, str]]:
    return {s["name"]: (s["status"], (s.get("error") or {}).get("message", "")) for s in json.loads(r.out)["steps"]}


def _bytes(repo) -> dict[str, bytes]:
    return {rel: (repo.root / rel).read_bytes() for rel in FILES}


def _spool_empty(repo) -> bool:
    folder = repo.root / ".git" / "omnibase" / "fixes"
    return not folder.exists() or not any(folder.iterdir())


def test_async_with_four_jobs_reports_and_fixes_as_sync_does(repo, cli):
    _setup(repo)
    sync = cli("orch", "--format", "json", "--all-files", "--no-cache")
    assert sync.code == 1, sync
    fixed = _bytes(repo)
    assert fixed["a.py"] == b"x = 1\ny = 2\n" and fixed["c.txt"] == b"no newline\n"
    assert _spool_empty(repo)
    repo.git("checkout", "--", ".")  # back to what was staged
    assert _bytes(repo) == FILES
    concurrent = cli("orch", "--format", "json", "--all-files", "--no-cache", "--mode", "async", "--jobs", "4")
    assert concurrent.code == 1, concurrent
    assert _outcome(concurrent) == _outcome(sync)
    assert _bytes(repo) == fixed
    assert _spool_empty(repo)
    outcome = _outcome(sync)
    assert outcome["check-ast"][0] == "FAIL" and outcome["check-json"][0] == "FAIL"
    assert outcome["check-yaml"][0] == "PASS" and len(outcome) == 13


def test_a_run_stopped_by_x_keeps_the_fixes_it_reported(repo, cli):
    _setup(repo)
    r = cli("orch", "--format", "json", "--all-files", "--no-cache", "-x")
    assert r.code == 1, r
    outcome = _outcome(r)
    failed = [n for n, (status, _) in outcome.items() if status == "FAIL"]
    assert failed == ["trailing-whitespace"], outcome  # stopped at the first failure
    # its fixes are written; end-of-file-fixer and mixed-line-ending did not run
    assert (repo.root / "c.txt").read_bytes() == b"no newline"
    assert (repo.root / "a.py").read_bytes() == b"x = 1\r\ny = 2\n"
    assert _spool_empty(repo)


def test_dry_run_leaves_no_spool_and_no_fix(repo, cli):
    _setup(repo)
    r = cli("orch", "--format", "json", "--all-files", "--dry-run")
    assert r.code in (0, 1), r
    assert _bytes(repo) == FILES
    assert not (repo.root / ".git" / "omnibase" / "fixes").exists()


def test_a_killed_runs_spool_is_not_applied_by_the_next_run(repo, cli):
    _setup(repo)
    stale = repo.root / ".git" / "omnibase" / "fixes" / "deadbeef"
    stale.mkdir(parents=True)
    (stale / "0000-trailing-whitespace.fix").write_bytes(b"\x93\x01")
    os.utime(stale, (0, 0))
    r = cli("orch", "--format", "json", "ok.md", "e.yaml")
    assert r.code == 0, r
    assert not stale.exists()
