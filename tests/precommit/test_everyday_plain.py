"""The hook without a server (CI, ``OMNIBASE_SERVER=0``, the first commit after the server
went idle): what the plain run imports, in a fresh interpreter on a real repository
(structural, not timed: the figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import Repo, cli_env

#: Modules the everyday hook run does not need: ``tempfile`` (with ``random`` and its
#: hashing) is the test runner's, for a run of pytest only; ``shutil`` (with ``bz2`` and
#: ``lzma``) prunes the saved outputs of cut steps, when there are some.
NOT_FOR_THE_HOOK = ("tempfile", "random", "shutil", "bz2", "lzma")

PROBE = (
    "import json, sys\n"
    "from omnibase.cli import main\n"
    "code = main(sys.argv[2:])\n"  # called, not as the program: the process stays to tell
    "open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules)))\n"
    "sys.exit(code)\n"
)


def test_the_plain_hook_run_imports_no_temporary_file_machinery(repo: Repo, tmp_path: Path) -> None:
    repo.seed({"a.py": "A = 1\n", "b.yaml": "b: 1\n"})
    repo.write("a.py", "A = 2\n")
    repo.write("c.yaml", "c: [1, 2]\n")
    repo.stage("a.py", "c.yaml")
    listed = tmp_path / "modules.json"
    hooks = repo.root / ".git" / "hooks"
    done = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, str(listed), "hook-impl", "--hook-type=pre-commit", "--hook-dir", str(hooks), "--"],
        cwd=repo.root, env=cli_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done
    assert "check-yaml" in done.stdout  # the checks ran
    modules = set(json.loads(listed.read_text()))
    assert "omnibase.precommit._stash" in modules  # the hook's path, through the stash
    assert [m for m in NOT_FOR_THE_HOOK if m in modules] == []


ATEXIT_PROBE = '''import atexit, os
from returns.result import Success


def main(ctx, value):
    marker = os.environ["PROBE_MARKER"]
    atexit.register(lambda: open(marker, "w").write("at exit"))
    return Success(None)
'''


def test_the_plain_hook_run_ends_with_its_code_its_report_and_its_atexit_work(repo: Repo, tmp_path: Path) -> None:
    """The hook's plain command line (``client.RUN``) ends the process without the
    interpreter's shutdown, as a served run does: the exit code, the whole report and what
    a component left to ``atexit`` are all there."""
    from omnibase.server import client

    repo.seed({"probe.py": ATEXIT_PROBE, "omnibase.yaml": (
        "version: 1\ncomponents:\n"
        "  - {name: probe, tags: [pre-commit], always_run: true, python: 'probe:main', isolation: none}\n"
    )})  # fmt: skip
    repo.write("a.txt", "no newline at the end")
    repo.stage("a.txt")
    marker = tmp_path / "marker"
    hooks = repo.root / ".git" / "hooks"
    done = subprocess.run(
        [sys.executable, "-P", "-c", client.RUN, "hook-impl", "--hook-type=pre-commit", "--hook-dir", str(hooks), "--"],
        cwd=repo.root, env=cli_env({"PROBE_MARKER": str(marker)}), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done  # end-of-file-fixer fixed a.txt
    assert "probe" in done.stdout
    assert done.stdout.endswith("\n")  # flushed whole, to its last line:
    assert done.stdout.splitlines()[-1].startswith("7 passed, 1 failed, 4 skipped in ")
    assert marker.read_text() == "at exit"
