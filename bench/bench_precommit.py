"""Benchmark: omnibase's built-in checks against ``pre-commit run --all-files``.

Copies this Python's standard library (``sysconfig.get_paths()["stdlib"]``, without
``site-packages`` and ``__pycache__``) into a temporary git repository (``git init``,
``git add -A``; nothing is committed), then times, in one run:

* ``run_builtin_checks`` over every tracked file with all eleven built-in checks (it only
  computes: fixers return edits, nothing is written);
* the CLI, ``python -m omnibase orch --stage pre-commit --all-files --format json
  --dry-run`` (``--dry-run`` so the tree stays as it is; if the CLI fails, we say so);
* ``pre-commit run --all-files`` with the same eleven hooks as ``repo: local`` /
  ``language: system`` hooks calling pre-commit-hooks' console scripts, with the same
  ``types`` as the pre-commit-hooks manifest.

Fairness: fixers rewrite files, so pre-commit runs twice and we time the second run,
when no fixer has anything left to write (read-only-equivalent work; the first run's
time, which includes writing fixes and pre-commit's first-use setup, is shown too). Our
function and the CLI are timed on that same fixed tree after pre-commit's runs (and the
function once before, on the pristine copy). Ratio = pre-commit / omnibase.

With ``--verify``, every per-file verdict of ours on the pristine tree is also compared
with the reference hook run on a copy of that file (pass/fail and fixed bytes; each
check on its own, so fixers are not chained), and the mismatches are counted.

Run: ``.venv/bin/python bench/bench_precommit.py [--verify]`` (needs ``pre-commit`` and
``pre-commit-hooks`` installed in the same environment: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HOOKS = [  # (hook id, console script, types): as pre-commit-hooks 6.0.0 declares them
    ("trailing-whitespace", "trailing-whitespace-fixer", ["text"]),
    ("end-of-file-fixer", "end-of-file-fixer", ["text"]),
    ("mixed-line-ending", "mixed-line-ending", ["text"]),
    ("check-yaml", "check-yaml", ["yaml"]),
    ("check-json", "check-json", ["json"]),
    ("check-toml", "check-toml", ["toml"]),
    ("check-ast", "check-ast", ["python"]),
    ("check-merge-conflict", "check-merge-conflict", ["text"]),
    ("detect-private-key", "detect-private-key", ["text"]),
    ("check-added-large-files", "check-added-large-files", ["file"]),
    ("check-case-conflict", "check-case-conflict", ["file"]),
]

BIN = Path(sys.executable).parent


def copy_stdlib(dest: Path) -> None:
    src = Path(sysconfig.get_paths()["stdlib"])
    skip = shutil.ignore_patterns("site-packages", "__pycache__")
    shutil.copytree(src, dest, symlinks=True, ignore=skip)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def write_config(root: Path) -> None:
    lines = ["repos:", "-   repo: local", "    hooks:"]
    for hook_id, script, types in HOOKS:
        lines += [
            f"    -   id: {hook_id}",
            f"        name: {hook_id}",
            f"        entry: {BIN / script}",
            "        language: system",
            f"        types: [{', '.join(types)}]",
        ]
    (root / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n")


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_ours(root: Path, paths: list[str]) -> tuple[float, int]:
    from omnibase.builtins import CHECKS, run_builtin_checks

    seconds, verdicts = timed(lambda: run_builtin_checks(paths, list(CHECKS), root=str(root)))
    return seconds, sum(1 for v in verdicts if not v.ok)


def run_cli(root: Path) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "omnibase", "orch", "--stage", "pre-commit", "--all-files", "--format", "json", "--dry-run"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIBASE_")}
    seconds, done = timed(lambda: subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env))
    try:
        report = json.loads(done.stdout)
        return seconds, f"exit {done.returncode}, {len(report.get('steps', []))} steps"
    except ValueError:
        err = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return float("nan"), f"CLI failed (exit {done.returncode}): {err[:100]}"


def run_pre_commit(root: Path) -> tuple[float, int]:
    pre_commit = BIN / "pre-commit"
    env = dict(os.environ, PRE_COMMIT_COLOR="never", SKIP="")
    seconds, done = timed(
        lambda: subprocess.run([str(pre_commit), "run", "--all-files"], cwd=root, capture_output=True, text=True, env=env)
    )
    return seconds, done.returncode


def verify(root: Path, paths: list[str]) -> tuple[int, int]:
    """(verdicts compared, mismatches) of our per-file checks against the reference's."""
    import contextlib
    import importlib
    import io
    import warnings

    from omnibase.builtins import CHECKS, run_builtin_checks

    modules = {hook_id: script.replace("-", "_") for hook_id, script, _ in HOOKS}  # console script -> module
    compared = mismatches = 0
    with tempfile.TemporaryDirectory(prefix="omnibase-verify-") as scratch:
        copy = Path(scratch) / "f"
        for name, spec in CHECKS.items():
            if spec.scope != "file" or name == "check-merge-conflict":  # not mid-merge: trivial
                continue
            for v in run_builtin_checks(paths, [name], root=str(root)):
                module = importlib.import_module(f"pre_commit_hooks.{modules[name]}")
                if name == "check-yaml":  # its shared loader keeps state between files
                    module = importlib.reload(module)
                original = (root / v.path).read_bytes()
                copy.write_bytes(original)
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                        warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        code = module.main([str(copy)])
                    except Exception:
                        code = 1  # a crash fails the hook
                ours = v.edit.content if v.edit is not None else original
                compared += 1
                if (code == 0) != v.ok or copy.read_bytes() != ours:
                    mismatches += 1
                    print(f"  mismatch: {name} {v.path}")
    return compared, mismatches


def main() -> int:
    if not (BIN / "pre-commit").exists() or not (BIN / "check-yaml").exists():
        print("needs pre-commit and pre-commit-hooks: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="omnibase-bench-") as tmp:
        root = Path(tmp) / "Lib"
        copy_stdlib(root)
        write_config(root)
        git(root, "init", "-q")
        git(root, "add", "-A")
        paths = [p for p in git(root, "ls-files", "-z").split("\0") if p]
        print(f"{len(paths)} files from {sysconfig.get_paths()['stdlib']}, {os.cpu_count()} cores\n")

        if "--verify" in sys.argv[1:]:
            compared, mismatches = verify(root, paths)
            print(f"verified {compared} per-file verdicts against pre-commit-hooks: {mismatches} mismatches\n")
        ours_fresh, failing = run_ours(root, paths)
        pc_first, code_first = run_pre_commit(root)
        pc_second, code_second = run_pre_commit(root)
        ours_fixed, failing_fixed = run_ours(root, paths)
        cli_seconds, cli_note = run_cli(root)

        rows = [
            ("omnibase run_builtin_checks (pristine tree)", ours_fresh, f"{failing} failing verdicts"),
            ("omnibase run_builtin_checks (fixed tree)", ours_fixed, f"{failing_fixed} failing verdicts"),
            ("omnibase CLI orch --dry-run (fixed tree)", cli_seconds, cli_note),
            ("pre-commit run --all-files, 1st (fixes)", pc_first, f"exit {code_first}"),
            ("pre-commit run --all-files, 2nd (timed)", pc_second, f"exit {code_second}"),
        ]
        width = max(len(r[0]) for r in rows)
        print(f"{'what':<{width}}  {'seconds':>8}  note")
        for label, seconds, note in rows:
            print(f"{label:<{width}}  {seconds:8.2f}  {note}")
        print(f"\nratio pre-commit (2nd) / omnibase function (fixed tree): {pc_second / ours_fixed:.1f}x")
        if cli_seconds == cli_seconds:  # not NaN
            print(f"ratio pre-commit (2nd) / omnibase CLI:                  {pc_second / cli_seconds:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
