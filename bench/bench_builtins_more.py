"""The opt-in built-ins against the pre-commit-hooks 6.0.0 hooks they reproduce.

Both sides check the same files in this one run: ours is the pure check on bytes read once
(as the runner does); the reference is its ``main(filenames)`` in-process (no interpreter
start-up counted for it, which favours it). Fixers run on fresh copies each round and only
the call is timed. Rounds alternate between the two sides; the figure is the ratio of the
medians (ours / reference; below 1 means faster).

Run: python bench/bench_builtins_more.py [N_FILES]
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from omnibase.builtins import CHECKS, options_from_args

ROUNDS = 7

#: check -> (reference module, reference args, our args)
CASES = {
    "check-builtin-literals": ("check_builtin_literals", []),
    "check-docstring-first": ("check_docstring_first", []),
    "debug-statements": ("debug_statement_hook", []),
    "double-quote-string-fixer": ("string_fixer", []),
    "check-vcs-permalinks": ("check_vcs_permalinks", []),
    "fix-byte-order-marker": ("fix_byte_order_marker", []),
}


def _corpus(limit: int) -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py") if p.stat().st_size < 200_000)
    return files[:limit]


def _ours(check: str, folder: Path, names: list[str]) -> float:
    spec, opts = CHECKS[check], options_from_args(check, [])
    start = time.perf_counter()
    for name in names:
        spec.fn(name, (folder / name).read_bytes(), opts)
    return time.perf_counter() - start


def _reference(module: str, args: list[str], folder: Path, names: list[str]) -> float:
    main = importlib.import_module(f"pre_commit_hooks.{module}").main
    old = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            try:
                main([*args, *names])
            except Exception:
                pass
            return time.perf_counter() - start
    finally:
        os.chdir(old)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sources = _corpus(limit)
    print(f"{len(sources)} standard-library files, {ROUNDS} alternating rounds, medians; Python {sys.version.split()[0]}")
    print(f"{'check':<30} {'ours ms':>9} {'ref ms':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for check, (module, args) in CASES.items():
            ours, ref = [], []
            for _ in range(ROUNDS):
                for side in ("ours", "ref"):
                    folder = Path(tmp) / side
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                    for src in sources:
                        shutil.copyfile(src, folder / src.name)
                    names = [s.name for s in sources]
                    if side == "ours":
                        ours.append(_ours(check, folder, names))
                    else:
                        ref.append(_reference(module, args, folder, names))
            a, b = statistics.median(ours) * 1000, statistics.median(ref) * 1000
            print(f"{check:<30} {a:>9.1f} {b:>9.1f} {a / b:>7.2f}")


if __name__ == "__main__":
    main()
