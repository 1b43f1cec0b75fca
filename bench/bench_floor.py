"""Benchmark: how far the uncached whole-tree run is from its floor (issue 21).

On the standard-library corpus of ``bench_precommit.py`` (2,452 files), ``omnibase orch
--all-files --no-cache`` spends most of its CPU in check-ast, which on CPython 3.11 builds
each Python file's symbol table (``omnibase/builtins/_checks.py``): CPython's own parser,
which no other parser can stand in for (the verdict must be ``ast.parse``'s). So the run
cannot take less wall time than that parsing divided by the cores; this script measures
that floor and how far the run is above it, by CPU time, which the load of a shared
machine moves far less than wall time:

* the floor: ``_symtable.symtable`` over the corpus's Python files (the files check-ast
  receives: identify's ``python`` tag), their bytes already in memory, in one process;
  ``ast.parse`` and ``compile`` for comparison;
* the run: ``omnibase orch --format human --no-cache --all-files`` run as the installed
  hook runs it (as ``bench_precommit.py`` does), median of ``ROUNDS``: its wall time, the
  CPU of the calling process, and that of its children (the check workers and git);
* the remainder: the run's CPU beyond the floor, and the wall time beyond floor / cores.

Run: ``.venv/bin/python bench/bench_floor.py [ROUNDS] [--corpus DIR] [--against REV]``
(default 5 rounds; ``--corpus`` uses a corpus made before by ``bench_precommit.make_corpus``
instead of making one; ``--against REV`` also runs omnibase as it was at commit REV, the
two interleaved, for before/after figures).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_precommit import against, extract, git, make_corpus, omnibase_argv  # noqa: E402

#: runs the CLI as the hook does and prints, last on stderr, its own CPU and its children's
TIMED = (  # at exit: the program leaves with os._exit after its exit hooks (no return from main)
    "import atexit, os, sys\n"
    "def cpu():\n"
    "    t = os.times()\n"
    "    print(f'\\nCPU {t.user + t.system:.4f} {t.children_user + t.children_system:.4f}', file=sys.stderr, flush=True)\n"
    "atexit.register(cpu)\n"
    "from omnibase.cli import main\n"
    "sys.exit(main())\n"
)


def python_files(root: Path) -> list[tuple[str, bytes]]:
    """The tracked files identify tags ``python`` (what check-ast receives), with their bytes."""
    from identify.identify import tags_from_path

    out = []
    for path in git(root, "ls-files", "-z").split("\0"):
        full = root / path
        if path and not full.is_symlink() and full.is_file() and "python" in tags_from_path(str(full)):
            out.append((path, full.read_bytes()))
    return out


def cpu_of(fn: object, files: list[tuple[str, bytes]]) -> float:
    """The CPU seconds ``fn(bytes, path)`` takes over ``files`` (errors count as done)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings, as check-ast ignores them
        start = time.process_time()
        for path, data in files:
            try:
                fn(data, path)  # type: ignore[operator]
            except Exception:
                pass
        return time.process_time() - start


def main() -> int:
    args, rev = against(sys.argv[1:])
    corpus = None
    if "--corpus" in args:
        i = args.index("--corpus")
        corpus = Path(args[i + 1])
        args = args[:i] + args[i + 2 :]
    rounds = int(args[0]) if args else 5
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="omnibase-floor-") as tmp:
        root = corpus or Path(tmp) / "Lib"
        if corpus is None:
            make_corpus(root)
        files = python_files(root)
        size = sum(len(d) for _, d in files)

        import ast
        import _symtable

        parsers = {
            "symtable": lambda data, path: _symtable.symtable(data, path, "exec"),
            "ast.parse": lambda data, path: ast.parse(data, filename=path),
            "compile": lambda data, path: compile(data, path, "exec", dont_inherit=True),
        }
        floor: dict[str, list[float]] = {name: [] for name in parsers}
        for _ in range(max(1, rounds // 2)):
            for name, fn in parsers.items():
                floor[name].append(cpu_of(fn, files))

        _, _, how = omnibase_argv()
        runs = {"omnibase": omnibase_argv()}
        if rev:
            runs[f"omnibase@{rev}"] = omnibase_argv(extract(rev, Path(tmp) / "against"))
        measured: dict[str, tuple[list[float], list[float], list[float]]] = {name: ([], [], []) for name in runs}
        for name, (argv, env, _) in runs.items():
            runs[name] = ([*argv[:-2], "-c", TIMED, "orch", "--format", "human", "--no-cache", "--all-files"], env, "")
            subprocess.run(runs[name][0], cwd=root, env=env, capture_output=True, check=False)  # byte-code caches
        for r in range(rounds):
            for name in list(runs) if r % 2 == 0 else list(runs)[::-1]:  # interleaved, neither always first
                argv, env, _ = runs[name]
                start = time.perf_counter()
                done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
                walls, parents, children = measured[name]
                walls.append(time.perf_counter() - start)
                line = [x for x in done.stderr.splitlines() if x.startswith("CPU ")][-1].split()
                parents.append(float(line[1]))
                children.append(float(line[2]))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(files)} Python files, {size / 1e6:.1f} MB, {cores} cores; omnibase: {how}; load average {load:.1f}")
    print(f"\n{'parsing alone (one process, bytes in memory)':48} {'CPU s':>7} {'/ cores':>8} {'ns/byte':>8}")
    for name, values in floor.items():
        cpu = min(values)
        print(f"{name:48} {cpu:7.3f} {cpu / cores:8.3f} {cpu / size * 1e9:8.1f}")
    sym = min(floor["symtable"])
    print(f"\nfloor: symtable CPU / {cores} cores = {sym / cores:.3f} s")
    print(f"\norch --no-cache --all-files, median of {rounds} interleaved rounds")
    print(f"{'tool':22} {'wall s':>7} {'CPU s':>7} {'calling':>8} {'children':>9} {'CPU - symtable':>15} {'wall - floor':>13}")
    for name, (walls, parents, children) in measured.items():
        wall, parent, child = statistics.median(walls), statistics.median(parents), statistics.median(children)
        print(f"{name:22} {wall:7.3f} {parent + child:7.3f} {parent:8.3f} {child:9.3f} {parent + child - sym:15.3f} "
              f"{wall - sym / cores:13.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
