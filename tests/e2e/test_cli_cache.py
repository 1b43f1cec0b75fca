"""The verdict cache through the real CLI: hits on an unchanged tree, misses on change."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e

CACHE = ".git/omnibase/cache/verdicts.sqlite3"


def _cached(out: str) -> dict[str, int]:
    return {s["name"]: s["value"]["cached"] for s in json.loads(out)["steps"] if s["status"] == "PASS" and s["value"]}


EXTRA = 40  # the cache is used from MIN_FILES_FOR_CACHE files on


def _tree(repo) -> None:
    repo.write("a.py", "x = 1\n")
    repo.write("b.py", "y = 2\n")
    repo.write("c.json", "{}\n")
    for i in range(EXTRA):
        repo.write(f"notes/{i}.txt", f"note {i}\n")
    repo.stage("a.py", "b.py", "c.json", "notes")
    repo.commit()


def test_a_small_run_does_not_use_the_cache(repo, cli):
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    for _ in range(2):
        r = cli("orch", "--all-files", "--format", "json")
        assert r.code == 0, r
        assert _cached(r.out)["check-ast"] == 0
    assert not (repo.root / CACHE).exists()


def test_a_second_run_on_an_unchanged_tree_comes_from_the_cache(repo, cli):
    _tree(repo)
    first = cli("orch", "--all-files", "--format", "json")
    assert first.code == 0, first
    assert set(_cached(first.out).values()) == {0}
    second = cli("orch", "--all-files", "--format", "json")
    assert second.code == 0, second
    hits = _cached(second.out)
    assert hits["check-ast"] == 2 and hits["check-json"] == 1 and hits["trailing-whitespace"] == 3 + EXTRA
    assert (repo.root / CACHE).is_file()
    assert repo.git("status", "--porcelain", "--ignored") == ""  # nothing in the working tree
    bypass = cli("orch", "--all-files", "--format", "json", "--no-cache")
    assert set(_cached(bypass.out).values()) == {0}


def test_a_changed_file_is_checked_again(repo, cli):
    _tree(repo)
    assert cli("orch", "--all-files", "--format", "json").code == 0
    repo.write("a.py", "x = (\n")
    repo.stage("a.py")
    r = cli("orch", "--all-files", "--format", "json")
    assert r.code == 1, r  # not served from the cache
    statuses = {s["name"]: s for s in json.loads(r.out)["steps"]}
    assert statuses["check-ast"]["status"] == "FAIL"
    assert _cached(r.out)["check-json"] == 1
    # an unstaged change: git cannot vouch for the blob, so no cached verdict is used
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py")
    repo.write("b.py", "y = (\n")
    r = cli("orch", "--all-files", "--format", "json")
    assert r.code == 1, r


def test_another_omnibase_version_checks_again(repo, cli):
    _tree(repo)
    assert cli("orch", "--all-files", "--format", "json").code == 0
    code = (
        "import sys, omnibase._version as v; v.__version__ = '999.0'; from omnibase.cli import main;"
        " sys.exit(main(['orch', '--all-files', '--format', 'json']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=repo.root, capture_output=True, text=True, env=cli_env(None))
    assert done.returncode == 0, done.stderr
    assert set(_cached(done.stdout).values()) == {0}
    again = cli("orch", "--all-files", "--format", "json")
    assert _cached(again.out)["check-ast"] == 2  # the old version's entries are still there


def test_a_corrupt_cache_is_ignored_and_rebuilt(repo, cli):
    _tree(repo)
    assert cli("orch", "--all-files", "--format", "json").code == 0
    (repo.root / CACHE).write_bytes(b"this is not a database" * 100)
    r = cli("orch", "--all-files", "--format", "json")
    assert r.code == 0, r
    assert set(_cached(r.out).values()) == {0}
    r = cli("orch", "--all-files", "--format", "json")
    assert _cached(r.out)["check-ast"] == 2


def test_concurrent_runs_share_the_cache_safely(repo):
    _tree(repo)
    argv = [sys.executable, "-m", "omnibase", "orch", "--all-files", "--format", "json"]
    procs = [
        subprocess.Popen(argv, cwd=repo.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(None))
        for _ in range(4)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert json.loads(out)["exit_code"] == 0
    done = subprocess.run(argv, cwd=repo.root, capture_output=True, text=True, env=cli_env(None))
    assert _cached(done.stdout)["check-ast"] == 2


def test_a_run_over_many_unchanged_files_comes_whole_from_the_cache(repo, cli):
    # above 1,000 files one record answers the run: every check, whole-set ones included
    for i in range(1024):
        repo.write(f"d{i % 8}/f{i}.txt", f"note {i}\n")
    repo.write("a.py", "x = 1\n")
    repo.stage("a.py", *(f"d{i}" for i in range(8)))
    repo.commit()
    first = cli("orch", "--all-files", "--format", "json")
    assert first.code == 0, first
    second = cli("orch", "--all-files", "--format", "json")
    assert second.code == 0, second
    steps = {s["name"]: s for s in json.loads(second.out)["steps"] if s["status"] == "PASS"}
    assert steps["check-ast"]["value"] == {"checked": 1, "cached": 1, "skipped": {}}
    assert steps["check-case-conflict"]["value"]["cached"] == steps["check-case-conflict"]["value"]["checked"] == 1025
    assert all(s["value"]["cached"] == s["value"]["checked"] for s in steps.values())
    repo.write("d3/f3.txt", "trailing   \n")  # not staged
    third = cli("orch", "--all-files", "--format", "json")
    assert third.code == 1, third
    assert {s["name"]: s["status"] for s in json.loads(third.out)["steps"]}["trailing-whitespace"] == "FAIL"
