"""Start-up: ``omnibase --version``, ``orch --list`` and an empty pre-commit stage, against
``pre-commit --version`` and ``prek --version``, interleaved round by round; medians and
ratios.

omnibase runs as the installed hook runs it (``python -P -c "...main()"``; with ``-S`` and
``PYTHONPATH`` when installed in editable mode, see ``bench_precommit.py``), without
``PYTHONDONTWRITEBYTECODE`` for every Python tool. ``--against REV`` adds the same
omnibase rows for the package as it was at commit REV (extracted with ``git archive``).

Run: python bench/bench_startup.py [ROUNDS] [--against REV]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_precommit import BIN, against, extract, omnibase_argv  # noqa: E402

COMMANDS = {  # row -> omnibase's arguments
    "--version": ["--version"],
    "orch --list": ["orch", "--stage", "pre-commit", "--list", "--format", "json"],
    "orch (nothing staged)": ["orch", "--stage", "pre-commit", "--format", "json"],
}


def main() -> None:
    args, rev = against(sys.argv[1:])
    rounds = int(args[0]) if args else 20
    omni, env, how = omnibase_argv()
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        subprocess.run(["git", "init", "-q", repo], check=True)
        rows: dict[str, tuple[list[str], dict[str, str]]] = {
            f"omnibase {name}": (omni + words, env) for name, words in COMMANDS.items()
        }
        if rev:
            was, was_env, _ = omnibase_argv(extract(rev, Path(tmp) / "against"))
            rows.update({f"omnibase@{rev} {name}": (was + words, was_env) for name, words in COMMANDS.items()})
        rows["pre-commit --version"] = ([str(BIN / "pre-commit"), "--version"], env)
        rows["prek --version"] = ([str(BIN / "prek"), "--version"], env)
        for argv, row_env in rows.values():  # byte-code caches written first
            subprocess.run(argv, cwd=repo, env=row_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for r in range(rounds):
            for name in rows if r % 2 == 0 else list(rows)[::-1]:
                argv, row_env = rows[name]
                t = time.perf_counter()
                subprocess.run(argv, cwd=repo, env=row_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                samples[name].append(time.perf_counter() - t)
    peer = statistics.median(samples["pre-commit --version"])
    width = max(len(n) for n in rows) + 2
    print(f"omnibase: {how}; {rounds} interleaved rounds")
    print(f"{'command':{width}} {'best ms':>8} {'median ms':>10} {'vs pre-commit':>14}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:{width}} {min(values) * 1e3:8.1f} {median * 1e3:10.1f} {median / peer:13.2f}x")
    if rev:
        print(f"\nnow / {rev} (medians; below 1: faster now)")
        for name in COMMANDS:
            now, was = (statistics.median(samples[f"{who} {name}"]) for who in ("omnibase", f"omnibase@{rev}"))
            print(f"{name:{width}} {now / was:8.2f}x")


if __name__ == "__main__":
    main()
