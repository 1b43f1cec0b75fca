"""The test stage's overhead: a generated 1,000-test suite through ``omnibase orch --stage
test`` against plain ``pytest -q`` on the same suite, interleaved round by round (the
order flips each round); the medians and their ratio (target: within 1.1x).

Both run under this interpreter, with the byte-code caches written first; omnibase reports
every test case (``--format json``), pytest prints its dots.

Run: python bench/bench_test_stage.py [ROUNDS] [TESTS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

#: Tests per generated module (the suite is TESTS / this many modules).
PER_MODULE = 50


def write_suite(root: str, tests: int) -> None:
    """A git repository at ``root`` holding ``tests`` trivial passing tests."""
    os.makedirs(os.path.join(root, "tests"))
    for m in range(max(tests // PER_MODULE, 1)):
        body = "".join(f"def test_{m}_{i}():\n    assert {i} + 1 == {i + 1}\n\n" for i in range(PER_MODULE))
        with open(os.path.join(root, "tests", f"test_gen_{m}.py"), "w", encoding="utf-8") as fh:
            fh.write(body)
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "suite"]):
        subprocess.run(["git", *argv], cwd=root, check=True)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tests = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OMNIBASE_"))}
    rows = {
        "omnibase orch --stage test": [sys.executable, "-m", "omnibase", "orch", "--stage", "test", "--format", "json"],
        "pytest -q": [sys.executable, "-m", "pytest", "-q"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        write_suite(tmp, tests)
        for argv in rows.values():  # byte-code caches first
            subprocess.run(argv, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for r in range(rounds):
            for name in rows if r % 2 == 0 else list(rows)[::-1]:
                t = time.perf_counter()
                done = subprocess.run(rows[name], cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                samples[name].append(time.perf_counter() - t)
                assert done.returncode == 0, (name, done.returncode)
    ours, theirs = (statistics.median(samples[n]) for n in rows)
    print(f"{tests} tests, {rounds} interleaved rounds (medians)")
    for name, values in samples.items():
        print(f"  {name:<30} {statistics.median(values):7.3f} s")
    print(f"  ratio omnibase / pytest: {ours / theirs:.3f}x (target <= 1.1x)")


if __name__ == "__main__":
    main()
