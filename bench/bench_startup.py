"""Start-up: `omnibase --version` and an empty pre-commit stage, against `pre-commit
--version` and `prek --version`, interleaved round by round; medians and ratios.

omnibase runs as the installed hook runs it (``python -P -m omnibase``; with ``-S`` and
``PYTHONPATH`` when installed in editable mode, see ``bench_precommit.py``), without
``PYTHONDONTWRITEBYTECODE`` for every Python tool.

Run: python bench/bench_startup.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_precommit import BIN, omnibase_argv  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    omni, env, how = omnibase_argv()
    with tempfile.TemporaryDirectory() as repo:
        subprocess.run(["git", "init", "-q", repo], check=True)
        rows = {
            "omnibase --version": omni + ["--version"],
            "omnibase orch (nothing staged)": omni + ["orch", "--stage", "pre-commit", "--format", "json"],
            "pre-commit --version": [str(BIN / "pre-commit"), "--version"],
            "prek --version": [str(BIN / "prek"), "--version"],
        }
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for r in range(rounds):
            for name in rows if r % 2 == 0 else list(rows)[::-1]:
                t = time.perf_counter()
                subprocess.run(rows[name], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                samples[name].append(time.perf_counter() - t)
    peer = statistics.median(samples["pre-commit --version"])
    print(f"omnibase: {how}; {rounds} interleaved rounds")
    print(f"{'command':32} {'best ms':>8} {'median ms':>10} {'vs pre-commit':>14}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:32} {min(values) * 1e3:8.1f} {median * 1e3:10.1f} {median / peer:13.2f}x")


if __name__ == "__main__":
    main()
