"""Huge registries: `registry list`, `registry add` and `registry remove` on files of 1,000,
10,000 and 30,000 entries, through the real CLI, against two peers timed in the same run,
interleaved: `omnibase --version` (start-up alone) and a plain `yaml.load` of the same
file with libyaml (what any YAML-reading tool pays at least).

Run: python bench/bench_registry.py [N]   (N runs of each, median reported)

Both the wall-clock time and the CPU time (user + system, of the child process) are
reported; the 1 s target is checked on CPU time, which other work sharing the machine
inflates far less than the wall clock.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = (1_000, 10_000, 30_000)


def registry_text(n: int) -> str:
    lines = ["version: 1", "components:"]
    for i in range(n):
        lines += [f"  - name: tool-{i}", "    type: validator", "    tags: [ci, lint]", '    command: ["true"]', '    files: "\\\\.py$"']
    return "\n".join(lines) + "\n"


def run(argv: list[str], cwd: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()[-500:]}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    py = sys.executable
    omnibase = [py, "-m", "omnibase"]
    results: dict[tuple[int, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as top:
        for size in SIZES:
            repo = os.path.join(top, f"r{size}")
            os.mkdir(repo)
            subprocess.run(["git", "init", "-q", repo], check=True)
            with open(os.path.join(repo, "omnibase.yaml"), "w") as f:
                f.write(registry_text(size))
        for _ in range(n):  # interleaved: each round measures everything once
            for size in SIZES:
                repo = os.path.join(top, f"r{size}")
                cases = {
                    "peer: omnibase --version": [*omnibase, "--version"],
                    "peer: yaml.load (libyaml)": [py, "-c", "import yaml; yaml.load(open('omnibase.yaml'), Loader=yaml.CSafeLoader)"],
                    "registry list": [*omnibase, "registry", "list", "--format", "json"],
                    "registry add": [*omnibase, "registry", "add", "--entry", "{name: bench-extra, command: ['true']}"],
                    "registry remove": [*omnibase, "registry", "remove", "bench-extra"],
                }
                for name, argv in cases.items():
                    results.setdefault((size, name), []).append(run(argv, repo))
    median = {key: statistics.median(w for w, _ in v) for key, v in results.items()}
    cpu = {key: statistics.median(c for _, c in v) for key, v in results.items()}
    yl, ver = "peer: yaml.load (libyaml)", "peer: omnibase --version"
    print(f"{'entries':>8} {'command':28} {'wall s':>7} {'cpu s':>7} {'vs yaml.load':>13} {'vs --version':>13}  (ratios of cpu)")
    for size in SIZES:
        for name in (ver, yl, "registry list", "registry add", "registry remove"):
            c = cpu[(size, name)]
            print(f"{size:8} {name:28} {median[(size, name)]:7.3f} {c:7.3f} {c / cpu[(size, yl)]:12.2f}x {c / cpu[(size, ver)]:12.2f}x")
    print()
    for name in ("registry list", "registry add", "registry remove"):
        at10k = cpu[(10_000, name)]
        # the cpu above start-up, per entry, at 30k against 10k: 1.0 is linear
        start = cpu[(10_000, ver)]
        growth = (cpu[(30_000, name)] - start) / max(at10k - start, 1e-9) / 3
        print(f"{'PASS' if at10k < 1.0 else 'FAIL'}  {name} with 10,000 entries under 1 s of cpu ({at10k:.2f} s; wall {median[(10_000, name)]:.2f} s); 30k/10k per entry {growth:.2f}x")


if __name__ == "__main__":
    main()
