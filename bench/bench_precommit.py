"""Benchmark: omnibase's pre-commit stage against pre-commit and prek, interleaved.

A copy of this Python's standard library (``sysconfig.get_paths()["stdlib"]``, without
``site-packages`` and ``__pycache__``) in a temporary git repository, committed. The
eleven checks omnibase runs by default are configured for each tool:

* pre-commit: the eleven hooks of pre-commit-hooks 6.0.0 as ``repo: local`` /
  ``language: system`` hooks calling its console scripts, with the manifest's ``types``;
* prek: its native ``repo: builtin`` hooks for the ten it has, check-ast as a system hook;
* omnibase: ``orch --stage pre-commit --format human`` run as the installed hook runs it
  (``python -P -c "...main()"``), with the verdict cache (default) and ``--no-cache``.

Two cases, each tool's runs interleaved round by round (so load on the machine hits all
alike), medians reported, and ratios ``peer / omnibase`` (above 1: omnibase is faster), of
wall time and of CPU time (user + system of the tool and its children: on a shared
machine it varies far less with the load than wall time does):

1. ``--all-files`` on the corpus, after a first pre-commit run applied every fix (so no
   tool rewrites anything). omnibase with the cache is measured on its second and later
   runs (the cache is warm), and without it every time. Beside them, interleaved, the
   floor of an exact check-ast: CPython's parser alone (``_symtable.symtable``, what
   check-ast calls) over the Python files, their bytes in memory, in one process: its CPU
   time divided by the cores is the least wall time any tool that decides as ``ast.parse``
   does can take here (``bench/bench_floor.py`` says more); it is printed with its ratio
   to each peer, and what a target ratio leaves for everything else.
2. The everyday commit: 5 staged files (4 modified ``.py``, 1 new ``.yaml``), new content
   before every run of every tool, so no tool (and no cache) has seen it. omnibase runs the
   way the installed hook runs it: its client (``python -I -S -c LOAD omnibase/server/client.py``) and the
   repository's warm command server (started by the warm-up run; docs/server.md); and
   "omnibase (no server)": ``hook-impl`` in a fresh interpreter, as the hook does without a
   server. The served run's CPU time is the client's own plus the run's, which the server
   measured (``wait4``) and the client wrote to ``$OMNIBASE_SERVER_STATS``.

Environment: ``PYTHONDONTWRITEBYTECODE`` is removed for every tool (with it, every Python
tool compiles its modules on every run: not what users see). If omnibase is installed in
editable mode, it runs with ``-S`` and ``PYTHONPATH`` naming the source tree and
site-packages, as a regular install would (setuptools' editable-install finder costs
20-30 ms at start-up that a regular install does not pay); the script says which.

Run: ``.venv/bin/python bench/bench_precommit.py [ROUNDS_ALL_FILES] [ROUNDS_EVERYDAY]
[--against REV]`` (defaults 3 and 10; 0 skips a case; needs ``pip install -e '.[bench]'``).
``--against REV`` adds omnibase as it was at commit REV (``git archive`` of its package,
run from a temporary folder the same way) to the peers, interleaved like the others, with its
cache and (on the whole tree) without it.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
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
EVERYDAY = ["json/__init__.py", "csv.py", "abc.py", "enum.py"]  # modified; plus a new YAML file

BIN = Path(sys.executable).parent
RUN = "import sys; from omnibase.cli import main; sys.exit(main())"  # as the installed hook runs it
ROOT = Path(__file__).resolve().parent.parent


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def pre_commit_config() -> str:
    lines = ["repos:", "-   repo: local", "    hooks:"]
    for hook_id, script, types in HOOKS:
        lines += [f"    -   id: {hook_id}", f"        name: {hook_id}", f"        entry: {BIN / script}",
                  "        language: system", f"        types: [{', '.join(types)}]"]
    return "\n".join(lines) + "\n"


def prek_config() -> str:
    lines = ["repos:", "-   repo: builtin", "    hooks:"]
    lines += [f"    -   id: {hook_id}" for hook_id, _, _ in HOOKS if hook_id != "check-ast"]
    lines += ["-   repo: local", "    hooks:", "    -   id: check-ast", "        name: check-ast",
              f"        entry: {BIN / 'check-ast'}", "        language: system", "        types: [python]"]
    return "\n".join(lines) + "\n"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNIBASE_", "PRE_COMMIT", "PREK"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PRE_COMMIT_COLOR="never", SKIP="")
    return env


def omnibase_argv(src: Path | None = None) -> tuple[list[str], dict[str, str], str]:
    """How to run omnibase as an installed hook would, and a note saying how; ``src``: a
    folder holding another copy of the package (``--against``), run the same way."""
    import omnibase

    env = _env()
    if src is None:
        src = Path(omnibase.__file__).resolve().parent.parent
        if "site-packages" in str(src):
            return [sys.executable, "-P", "-c", RUN], env, "regular install"
    env["PYTHONPATH"] = os.pathsep.join([str(src), sysconfig.get_paths()["purelib"]])
    return [sys.executable, "-S", "-P", "-c", RUN], env, "editable install, run with -S as a regular one"


def extract(rev: str, into: Path) -> Path:
    """omnibase's package as it was at commit ``rev``, in ``into`` (for ``--against``)."""
    archive = subprocess.run(["git", "archive", rev, "omnibase"], cwd=ROOT, capture_output=True, check=True)
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def against(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without ``--against REV``, and REV (None when not given)."""
    if "--against" in argv:
        i = argv.index("--against")
        return argv[:i] + argv[i + 2 :], argv[i + 1]
    return argv, None


def tools(root: Path, old: tuple[str, Path] | None = None) -> dict[str, Callable[[bool], list[str]]]:
    """name -> (all_files -> argv); each tool reads its own config file. ``old``: a
    commit and the folder its package was extracted to, run as ``omnibase@REV``."""
    omni, _, _ = omnibase_argv()
    found: dict[str, Callable[[bool], list[str]]] = {
        "pre-commit": lambda a: [str(BIN / "pre-commit"), "run", "-c", str(root / "pc.yaml"), *(["--all-files"] if a else [])],
        "prek": lambda a: [str(BIN / "prek"), "run", "-c", str(root / "prek.yaml"), *(["--all-files"] if a else [])],
        # human output, as the installed hook asks for (and as the peers print)
        "omnibase": lambda a: [*omni, "orch", "--format", "human", *(["--all-files"] if a else [])],
        "omnibase --no-cache": lambda a: [*omni, "orch", "--format", "human", "--no-cache", *(["--all-files"] if a else [])],
    }
    if old is not None:
        was, _, _ = omnibase_argv(old[1])
        found[f"omnibase@{old[0]}"] = lambda a: [*was, "orch", "--format", "human", *(["--all-files"] if a else [])]
        # the uncached run too: on the whole tree it is the figure a change to the checks moves
        found[f"omnibase@{old[0]} --no-cache"] = lambda a: [
            *was, "orch", "--format", "human", "--no-cache", *(["--all-files"] if a else [])
        ]
    return found


#: CPU time (user + system, the tool's own and its children's) of each run, by tool: on a
#: shared machine it varies far less with the load than the wall time does.
CPU: dict[str, list[float]] = {}


#: Runs of the hook's client that the server did not serve (they fell back to a plain run).
NOT_SERVED: list[str] = []


def _served_cpu(env: dict[str, str], lines_before: int) -> float:
    """The CPU seconds of the run a server served for the client (from the stats file the
    client appends to when ``$OMNIBASE_SERVER_STATS`` names one); 0 when none was served."""
    path = env.get("OMNIBASE_SERVER_STATS")
    if not path or not os.path.exists(path):
        return 0.0
    lines = Path(path).read_text().splitlines()
    if len(lines) <= lines_before:
        return 0.0
    return float(lines[-1].split()[2])


def _stats_lines(env: dict[str, str]) -> int:
    path = env.get("OMNIBASE_SERVER_STATS")
    return len(Path(path).read_text().splitlines()) if path and os.path.exists(path) else 0


def timed(argv: list[str], root: Path, env: dict[str, str], name: str | None = None) -> tuple[float, int]:
    """Wall seconds and exit code of one run; its CPU seconds go to ``CPU[name]`` (for a
    served run: the client's and the run's the server reported)."""
    lines = _stats_lines(env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=root, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = _served_cpu(env, lines)
    if "OMNIBASE_SERVER_STATS" in env and _stats_lines(env) == lines:
        NOT_SERVED.append(name or "warm-up")
    if name is not None:
        CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime + served)
    return wall, done.returncode


def hook_argv(root: Path, omni: list[str]) -> dict[str, list[str]]:
    """The everyday case's two ways of running omnibase's hook: through the client (and the
    server), and the plain run (``omni``: the interpreter command line)."""
    from omnibase.server import client as _client

    args = ["--hook-type=pre-commit", "--hook-dir", str(root / ".git" / "hooks"), "--"]
    plain = [*omni[: omni.index("-c") + 1], _client.RUN]  # the hook's own plain command line
    return {"omnibase": [sys.executable, "-I", "-S", "-c", _client.LOAD, str(Path(_client.__file__).resolve()), *args],
            "omnibase (no server)": [*plain, "hook-impl", *args]}


def wait_for_server(root: Path) -> bool:
    from omnibase.server import client as _client

    for _ in range(100):
        if _client.status_request(_client.socket_dir(str(root / ".git")), b"STATUS") is not None:
            return True
        time.sleep(0.05)
    return False


def stop_server(root: Path) -> None:
    from omnibase.server import client as _client

    _client.status_request(_client.socket_dir(str(root / ".git")), b"STOP")


def make_corpus(root: Path) -> None:
    src = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(src, root, symlinks=True, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
    (root / "pc.yaml").write_text(pre_commit_config())
    (root / "prek.yaml").write_text(prek_config())
    git(root, "init", "-q")
    git(root, "config", "user.email", "bench@example.invalid")
    git(root, "config", "user.name", "bench")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "corpus")
    # let every fix happen once, then commit it: no tool rewrites anything afterwards
    subprocess.run(tools(root)["pre-commit"](True), cwd=root, capture_output=True, env=_env(), check=False)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "fixed")


#: The floor's measurement: the CPU seconds of ``_symtable.symtable`` over the Python files
#: of the corpus (argv[1]), as check-ast receives them (identify's ``python`` tag).
FLOOR = """
import os, subprocess, sys, time, warnings, _symtable
from identify.identify import tags_from_path
root = sys.argv[1]
files = []
listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True).stdout
for path in listed.split("\\0"):
    full = os.path.join(root, path)
    if path and not os.path.islink(full) and os.path.isfile(full) and "python" in tags_from_path(full):
        with open(full, "rb") as f:
            files.append((path, f.read()))
warnings.simplefilter("ignore")
start = time.process_time()
for path, data in files:
    try:
        _symtable.symtable(data, path, "exec")
    except Exception:
        pass
print(len(files), time.process_time() - start)
"""
FLOOR_NAME = "floor: parse / cores"


def floor_seconds(root: Path) -> tuple[int, float]:
    """How many Python files the corpus has, and the floor (parse CPU seconds / cores)."""
    done = subprocess.run([sys.executable, "-c", FLOOR, str(root)], capture_output=True, text=True, check=True)
    count, cpu = done.stdout.split()
    CPU.setdefault(FLOOR_NAME, []).append(float(cpu))
    return int(count), float(cpu) / len(os.sched_getaffinity(0))


def report_floor(samples: dict[str, list[float]], files: int) -> None:
    """The floor against each peer, and what the issue's targets leave above it."""
    floor = statistics.median(samples[FLOOR_NAME])
    print(f"\nthe floor: CPython's parser over the {files} Python files, {statistics.median(CPU[FLOOR_NAME]):.3f} s of CPU "
          f"on {len(os.sched_getaffinity(0))} cores = {floor:.3f} s")
    for peer, target in (("prek", 0.6), ("pre-commit", 0.4)):
        peer_s = statistics.median(samples[peer])
        print(f"  {peer:10} {peer_s:.3f} s: floor {floor / peer_s:.3f}x; target {target}x = {target * peer_s:.3f} s, "
              f"which leaves {target * peer_s - floor:+.3f} s above the floor for all else")


def interleaved(names: list[str], rounds: int, run: Callable[[str, int], float]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]  # neither goes first every time
        for name in order:
            samples[name].append(run(name, r))
    return samples


def report(title: str, samples: dict[str, list[float]], ours: str) -> None:
    """Medians of wall time and of CPU time, and each tool's ratio to ``ours``."""
    print(f"\n{title}")
    print(f"{'tool':24} {'median s':>9} {'best s':>8} {'runs':>5} {'vs ' + ours:>18} {'CPU s':>7} {'CPU vs ' + ours:>18}")
    base = statistics.median(samples[ours])
    cpu_base = statistics.median(CPU[ours]) if CPU.get(ours) else 0.0
    for name, values in samples.items():
        med = statistics.median(values)
        cpu = statistics.median(CPU[name][-len(values):]) if CPU.get(name) else 0.0
        cpu_ratio = f"{cpu / cpu_base:17.2f}x" if cpu_base else ""
        print(f"{name:24} {med:9.3f} {min(values):8.3f} {len(values):5d} {med / base:17.2f}x {cpu:7.3f} {cpu_ratio}")


def main() -> int:
    if not all((BIN / exe).exists() for exe in ("pre-commit", "prek", "check-ast")):
        print("needs pre-commit, prek and pre-commit-hooks: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    args, rev = against(sys.argv[1:])
    rounds_all = int(args[0]) if len(args) > 0 else 3
    rounds_day = int(args[1]) if len(args) > 1 else 10
    _, omni_env, how = omnibase_argv()
    with tempfile.TemporaryDirectory(prefix="omnibase-bench-") as tmp:
        root = Path(tmp) / "Lib"
        make_corpus(root)
        old = (rev, extract(rev, Path(tmp) / "against")) if rev else None
        argv = tools(root, old)
        envs = {name: (omni_env if name.startswith("omnibase") else _env()) for name in argv}
        if old is not None:
            envs[f"omnibase@{rev}"] = envs[f"omnibase@{rev} --no-cache"] = omnibase_argv(old[1])[1]
        n_files = len(git(root, "ls-files", "-z").split("\0")) - 1
        print(f"{n_files} files from {sysconfig.get_paths()['stdlib']}, {os.cpu_count()} cores; omnibase: {how}")

        # 1. --all-files; a warm-up run of omnibase fills its cache (and byte-code caches)
        timed(argv["omnibase"](True), root, envs["omnibase"])
        codes: dict[str, set[int]] = {n: set() for n in argv}

        python_files = [0]

        def run_all(name: str, _round: int) -> float:
            if name == FLOOR_NAME:
                python_files[0], seconds = floor_seconds(root)
                return seconds
            seconds, code = timed(argv[name](True), root, envs[name], name)
            codes[name].add(code)
            return seconds

        if rounds_all:
            samples = interleaved([*argv, FLOOR_NAME], rounds_all, run_all)
            report(f"--all-files, {rounds_all} interleaved rounds (exit codes: {codes})", samples, "omnibase")
            report_floor(samples, python_files[0])

        # 2. the everyday commit: fresh content before every run
        originals = {p: (root / p).read_bytes() for p in EVERYDAY}
        counter = [0]

        def run_day(name: str, _round: int) -> float:
            counter[0] += 1
            for p in EVERYDAY:
                (root / p).write_bytes(originals[p] + f"# edit {counter[0]}\n".encode())
            (root / "new.yaml").write_text(f"edit: {counter[0]}\nlist: [1, 2, 3]\n")
            git(root, "add", *EVERYDAY, "new.yaml")
            seconds, code = timed(argv[name](False), root, envs[name], name if _round >= 0 else None)
            codes[name].add(code)
            return seconds

        if not rounds_day:
            return 0
        omni, _, _ = omnibase_argv()
        day_argv: dict[str, Callable[[bool], list[str]]] = {"pre-commit": argv["pre-commit"], "prek": argv["prek"]}
        for name, words in hook_argv(root, omni).items():
            day_argv[name] = lambda _a, words=words: words
        envs["omnibase"] = {**omni_env, "OMNIBASE_SERVER_STATS": str(Path(tmp) / "server-stats"), "OMNIBASE_SERVER_IDLE": "300"}
        envs["omnibase (no server)"] = omni_env
        if old is not None:
            day_argv[f"omnibase@{rev}"] = argv[f"omnibase@{rev}"]
        argv = day_argv
        codes = {n: set() for n in argv}
        CPU.clear()
        try:
            for name in argv:  # byte-code caches written, as on a machine that ran it before
                if name.startswith("omnibase"):
                    run_day(name, -1)  # the client's first run is a plain one: it starts the server
            if not wait_for_server(root):
                print("omnibase's command server did not start: the served figures are plain runs")
            NOT_SERVED.clear()
            run_day("omnibase", -1)  # the server's first run
            samples = interleaved(list(argv), rounds_day, run_day)
        finally:
            stop_server(root)
        report(f"5 staged files (4 modified .py, 1 new .yaml), {rounds_day} interleaved rounds (exit codes: {codes}); "
               f"omnibase: the hook's client and warm server ({len(NOT_SERVED)} of its runs not served)",
               samples, "omnibase")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
