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


def _pids_in(folder) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd") == str(folder):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_the_checks_process_pool_ends_with_the_run(repo, cli):
    for i in range(150):  # enough files for the checks to share worker processes
        repo.write(f"f{i}.py", f"x = {i}   \n")
    repo.git("add", "-A")
    r = cli("orch", "--format", "json", "--all-files", "--no-cache", timeout=60)  # no worker holds its pipes
    assert r.code == 1, r
    assert (repo.root / "f7.py").read_bytes() == b"x = 7\n"
    assert _pids_in(repo.root) == []


def test_pool_workers_end_when_their_parent_dies_without_stopping_them(tmp_path):
    import subprocess
    import sys
    import time

    for i in range(100):
        (tmp_path / f"f{i}.txt").write_bytes(b"x\n")
    script = (
        "import os, sys\n"
        "from omnibase.builtins import _run\n"
        "_run.run_builtin_checks([f'f{i}.txt' for i in range(100)], ['trailing-whitespace'], root=sys.argv[1], jobs=2)\n"
        "print(' '.join(str(p) for p in _run._POOL[0][0].pids), flush=True)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2, done
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") and "zombie" not in open(f"/proc/{p}/status").read().lower() for p in pids)


def test_builtins_the_registry_isolates_run_in_worker_processes_with_the_same_report_and_fixes(repo, cli):
    """``isolation: process`` on a ``builtin:`` entry sends that check to a worker process;
    the default for built-ins stays in-process. Both give the same outcome and bytes."""
    _setup(repo)
    inproc = cli("orch", "--format", "json", "--all-files", "--no-cache")
    fixed = _bytes(repo)
    repo.git("checkout", "--", ".")
    isolated = REGISTRY + "".join(
        f"  - builtin: {name}\n    isolation: process\n" for name in ("trailing-whitespace", "mixed-line-ending", "check-ast")
    )
    repo.write("omnibase.yaml", isolated)
    worker = cli("orch", "--format", "json", "--all-files", "--no-cache", "--mode", "async", "--jobs", "2")
    assert worker.code == inproc.code == 1, worker
    assert _outcome(worker) == _outcome(inproc)
    assert _bytes(repo) == fixed and _spool_empty(repo)
    where = {s["name"]: s["meta"]["isolation"] for s in json.loads(worker.out)["steps"]}
    assert where["trailing-whitespace"] == where["check-ast"] == "process"
    assert where["end-of-file-fixer"] == where["check-json"] == "none"
