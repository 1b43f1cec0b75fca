"""Benchmark: the eleven default checks on a repository of many small files, against prek
and pre-commit, interleaved (issue 23).

Each repository is generated from a seed: ``N`` files in 500 folders, all clean (no tool
rewrites anything), 70% plain text (``.txt``/``.md``) and 10% each ``.py``, ``.json`` and
``.yaml`` (so every file is text, and one in ten goes to each parser), 40 to 600 bytes
each; committed. It is made once per size under ``$TMPDIR/omnibase-bench-scale/N`` and
reused (delete the folder to make it again).

The tools run as in ``bench_precommit.py`` (the same configurations: pre-commit-hooks as
``language: system`` hooks for pre-commit, prek's builtin hooks with check-ast as a system
hook), on ``--all-files``:

* ``omnibase --no-cache``: every file read and checked;
* ``omnibase (warm cache)``: the verdict cache filled by a run before (the tree unchanged);
* ``prek`` and ``pre-commit``.

Each round runs every tool once, in alternating order. Printed per size and tool: the
median wall time, CPU time (user + system of the tool and its children), and peak memory
(the largest resident set of any one process of the run, from ``wait4``), then the ratios
the issue's targets are stated in, and per-file cost across sizes.

Run: ``.venv/bin/python bench/bench_scale.py [SIZES] [--rounds R] [--only NAMES] [--against REV]``
(``SIZES`` comma-separated, default ``10000,50000``; ``200000`` takes minutes to generate
and pre-commit takes ~20 s a run there; ``--against REV`` adds omnibase as it was at
commit REV, run the same way, for before/after figures; ``--only omnibase,prek`` runs
the tools whose names start so). Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_precommit import BIN, _env, against, extract, git, omnibase_argv, pre_commit_config, prek_config  # noqa: E402

FOLDERS = 500
WORDS = ("alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "lambda", "zeta", "rho", "tau")


def _text(rng: random.Random, size: int) -> str:
    lines: list[str] = []
    length = 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines) + "\n"


def _python(rng: random.Random, size: int) -> str:
    out = ['"""A generated module."""', ""]
    i = 0
    while sum(len(line) + 1 for line in out) < size:
        out += [f"def f{i}(x: int) -> int:", f"    return x * {rng.randint(1, 99)} + {i}", ""]
        i += 1
    return "\n".join(out).rstrip("\n") + "\n"


def _json(rng: random.Random, size: int) -> str:
    data: dict[str, object] = {}
    while len(json.dumps(data)) < size:
        data[f"{rng.choice(WORDS)}{len(data)}"] = rng.choice([rng.randint(0, 999), rng.choice(WORDS), [1, 2, 3]])
    return json.dumps(data, indent=2) + "\n"


def _yaml(rng: random.Random, size: int) -> str:
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(f"{rng.choice(WORDS)}{len(lines)}: {rng.choice([str(rng.randint(0, 999)), rng.choice(WORDS)])}")
    return "\n".join(lines) + "\n"


KINDS = [(".txt", _text)] * 6 + [(".md", _text), (".py", _python), (".json", _json), (".yaml", _yaml)]


def make_repo(root: Path, count: int, seed: int = 23) -> None:
    """``count`` clean files in ``FOLDERS`` folders under ``root``, committed (see above)."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    for i in range(count):
        ext, make = KINDS[i % len(KINDS)]
        folder = root / f"d{i % FOLDERS:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i:06d}{ext}").write_text(make(rng, rng.randint(40, 600)))
    git(root, "init", "-q")
    git(root, "config", "user.email", "bench@example.invalid")
    git(root, "config", "user.name", "bench")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "generated")


def repo_of(count: int) -> Path:
    root = Path(tempfile.gettempdir()) / "omnibase-bench-scale" / str(count)
    if not (root / ".git").exists():
        if root.exists():
            subprocess.run(["rm", "-rf", str(root)], check=True)
        started = time.perf_counter()
        make_repo(root, count)
        print(f"generated {count} files in {time.perf_counter() - started:.1f} s: {root}", flush=True)
    # The peers' configurations live beside the repository, not in it, and are written on
    # every run: they name this checkout's executables, which move with the checkout.
    configs(root).pc.write_text(pre_commit_config())
    configs(root).prek.write_text(prek_config())
    return root


class configs:
    """Where the peers' configuration files for the repository ``root`` are kept."""

    def __init__(self, root: Path) -> None:
        self.pc = root.parent / f"{root.name}.pre-commit.yaml"
        self.prek = root.parent / f"{root.name}.prek.yaml"


class Run:
    """One run's wall seconds, CPU seconds (its process tree's) and peak RSS (MB, the
    largest single process), from ``wait4``."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.wall = time.perf_counter() - started
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak_mb = usage.ru_maxrss / 1024
        self.code = proc.returncode
        if self.code != 0:
            print(f"  ! exit {self.code}: {' '.join(argv[-4:])}: {err.decode(errors='replace')[-300:]}", file=sys.stderr)


def tools(root: Path, old: tuple[str, Path] | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv, environment) of each tool's run."""
    omni, env, _ = omnibase_argv()
    peer = _env()
    found = {
        "omnibase --no-cache": ([*omni, "orch", "--format", "human", "--no-cache", "--all-files"], env),
        "omnibase (warm cache)": ([*omni, "orch", "--format", "human", "--all-files"], env),
        "prek": ([str(BIN / "prek"), "run", "-c", str(configs(root).prek), "--all-files"], peer),
        "pre-commit": ([str(BIN / "pre-commit"), "run", "-c", str(configs(root).pc), "--all-files"], peer),
    }
    if old is not None:
        was, was_env, _ = omnibase_argv(old[1])
        found[f"omnibase@{old[0]} --no-cache"] = ([*was, "orch", "--format", "human", "--no-cache", "--all-files"], was_env)
    return found


def measure(count: int, rounds: int, old: tuple[str, Path] | None, only: list[str] | None = None) -> dict[str, list[Run]]:
    root = repo_of(count)
    argv = {k: v for k, v in tools(root, old).items() if only is None or any(k.startswith(o) for o in only)}
    for name, (line, env) in argv.items():  # warm-up: pre-commit and prek set themselves up; the cache fills
        if Run(line, root, env).code != 0:  # a tool that fails would be timed doing something else
            raise SystemExit(f"{name} failed on the clean repository; its time would mean nothing")
    runs: dict[str, list[Run]] = {name: [] for name in argv}
    names = list(argv)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            line, env = argv[name]
            runs[name].append(Run(line, root, env))
    return runs


def report(count: int, runs: dict[str, list[Run]]) -> dict[str, float]:
    print(f"\n{count} files, --all-files ({len(next(iter(runs.values())))} rounds, medians)")
    print(f"{'tool':34} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'us/file':>8}")
    walls: dict[str, float] = {}
    for name, done in runs.items():
        wall = statistics.median(r.wall for r in done)
        cpu = statistics.median(r.cpu for r in done)
        peak = max(r.peak_mb for r in done)
        walls[name] = wall
        print(f"{name:34} {wall:8.3f} {cpu:8.3f} {peak:8.1f} {wall / count * 1e6:8.1f}")
    ours = walls.get("omnibase --no-cache")
    if ours and "prek" in walls and "pre-commit" in walls:
        print(f"omnibase --no-cache / prek: {ours / walls['prek']:.2f}x wall (target <= 1.0x); "
              f"/ pre-commit: {ours / walls['pre-commit']:.2f}x (target <= 0.25x)")
    if "omnibase (warm cache)" in walls:
        print(f"omnibase with a warm cache: {walls['omnibase (warm cache)']:.3f} s (target <= 0.3 s at 50,000 files)")
    return walls


def main() -> int:
    args, rev = against(sys.argv[1:])
    rounds = 3
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        args = args[:i] + args[i + 2 :]
    only = None
    if "--only" in args:  # e.g. --only omnibase,prek: the tools whose names start so
        i = args.index("--only")
        only = args[i + 1].split(",")
        args = args[:i] + args[i + 2 :]
    sizes = [int(s) for s in (args[0] if args else "10000,50000").split(",")]
    if not all((BIN / exe).exists() for exe in ("pre-commit", "prek", "check-ast")):
        print("needs pre-commit, prek and pre-commit-hooks: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    print(f"omnibase: {omnibase_argv()[2]}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        old = (rev, extract(rev, Path(tmp) / "old")) if rev else None
        results = {count: report(count, measure(count, rounds, old, only)) for count in sizes}
    name = "omnibase --no-cache"
    if len(sizes) > 1 and all(name in r for r in results.values()):
        first, last = sizes[0], sizes[-1]
        grows = results[last][name] / results[first][name]
        print(f"\n{name}: {last} files take {grows:.2f}x the time of {first} ({last / first:.0f}x the files); "
              f"per-file cost {grows / (last / first):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
