"""Start-up: `python -m omnibase --version` and an empty pre-commit stage, against
`pre-commit --version`, timed in one run (best and median of N runs each).

Run: python bench/bench_startup.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(argv: list[str], cwd: str, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - t)
    return min(samples), statistics.median(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    bindir = os.path.dirname(sys.executable)
    with tempfile.TemporaryDirectory() as repo:
        subprocess.run(["git", "init", "-q", repo], check=True)
        rows = [
            ("omnibase --version", [sys.executable, "-m", "omnibase", "--version"]),
            ("omnibase orch (empty stage)", [sys.executable, "-m", "omnibase", "orch", "--stage", "pre-commit", "--format", "json"]),
            ("pre-commit --version", [os.path.join(bindir, "pre-commit"), "--version"]),
        ]
        results = {name: timed(argv, repo, n) for name, argv in rows}
    peer = results["pre-commit --version"][1]
    print(f"{'command':32} {'best ms':>8} {'median ms':>10} {'vs pre-commit':>14}")
    for name, (best, median) in results.items():
        print(f"{name:32} {best * 1e3:8.1f} {median * 1e3:10.1f} {median / peer:13.2f}x")


if __name__ == "__main__":
    main()
