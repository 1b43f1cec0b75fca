"""Fuzzing the command line and the registry file (seeded, reproducible).

- the argv fuzzer builds command lines from the CLI's own vocabulary plus hostile values;
- the registry fuzzer mutates a valid registry file (hostile scalars, deleted, repeated
  and swapped lines, stray bytes, truncation, deep nesting, duplicate keys).

Every case: no traceback, no "internal error", an exit code from the documented set, and a
json report (when one is printed) that parses. A few hundred cases of each run in-process
in the normal suite, a sample through the real CLI in a subprocess; more under the
``slow`` marker, which runs with ``OMNIBASE_SLOW=1`` (``just fuzz``; the root conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest

from omnibase.cli._main import main
from tests.support import Repo, cli_env

pytestmark = pytest.mark.e2e

EXIT_CODES = {0, 1, 2, 3, 4, 5, 130}

REGISTRY = """\
version: 1
exclude: '^vendor/'
stages:
  pre-commit:
    fail_fast: false
  ci:
    filter: 'lifecycle!=experimental'
components:
  - name: echo-ok
    type: validator
    lifecycle: stable
    tags: [ci, fuzz]
    description: always passes
    command: ["true"]
    always_run: true
    timeout: 5
    retry: {max_attempts: 2, initial: 0.0, multiplier: 1.0, cap: 0.0}
  - name: says-no
    type: tool
    tags: [ci]
    command: ["sh", "-c", "echo no; exit 1"]
    files: '\\.txt$'
    breaker: {threshold: 2, window: 10, reset_timeout: 1, probes: 1}
    limits: {cpu_seconds: 5, memory_mb: 512}
    env: {FOO: bar}
  - name: plugin-count
    type: test
    lifecycle: canary
    tags: [test]
    python: "fuzz_plugin:count"
    idempotent: true
    pure: true
"""

PLUGIN = "from returns.result import Success\n\ndef count(ctx, value):\n    return Success(len(ctx.files))\n"


def _prepare(root: Path) -> Repo:
    repo = Repo(root)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.email", "fuzz@example.invalid")
    repo.git("config", "user.name", "fuzz")
    repo.write("omnibase.yaml", REGISTRY)
    repo.write("fuzz_plugin.py", PLUGIN)
    repo.write("a.txt", "text with trailing   \n")
    repo.write("b.json", '{"k": 1}\n')
    repo.write("sub/c.py", "x = 1\n")
    repo.write(".env", "TOKEN=abc   \n")
    (root / "adir").mkdir()
    (root / "alink").symlink_to("/etc/hostname")
    repo.stage(".")
    return repo


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = tmp_path_factory.mktemp("fuzz") / "repo"
    root.mkdir()
    return _prepare(root)


@contextlib.contextmanager
def _inside(path: Path) -> Iterator[None]:
    here = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(here)


def _in_process(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with _inside(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return code, out.getvalue(), err.getvalue()


def _subprocess(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "omnibase", *argv], cwd=cwd, env=cli_env({"OMNIBASE_RESOLVE_TIMEOUT": "5"}), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, errors="surrogateescape")
    return done.returncode, done.stdout, done.stderr


def _check(argv: list[str], code: int, out: str, err: str) -> None:
    where = f"argv={argv!r}\nexit={code}\nstdout={out[-2000:]!r}\nstderr={err[-2000:]!r}"
    assert code in EXIT_CODES, where
    assert "Traceback" not in err and "internal error" not in err, where
    fmt = None
    for i, token in enumerate(argv):
        if token == "--format" and i + 1 < len(argv):
            fmt = argv[i + 1]
    report_expected = argv[:1] in (["orch"], ["registry"], ["report"]) and not {"-h", "--help", "--version"} & set(argv)
    if fmt == "json" and out.strip() and code != 2 and report_expected:
        json.loads(out)  # a json report parses


# --- argv ------------------------------------------------------------------------------------

STAGES = ["pre-commit", "test", "ci", "pipeline", "nightly", ""]
FILTERS = ["type=validator", "lifecycle!=experimental", "tag=ci,tag=fuzz", "name=echo-*", "bogus", "type=", "=x", "tag=a|b", ",", "name!=*", "type=tool|test,lifecycle=canary"]
NAMES = ["echo-ok", "says-no", "plugin-count", "trailing-whitespace", "nope", "", "-x", "..", "a" * 300]
PATHS = ["a.txt", "b.json", "sub", "sub/c.py", "missing.txt", "../outside", "/etc/hostname", ".env", "alink", "adir", "a.txt\udcff", "-", ""]
OUTPUTS = ["r.json", "r.yaml", "r.txt", "adir", "alink", "/dev/null", "missing/r.json", "", "sub/r.yml"]
REGISTRIES = ["omnibase.yaml", "missing.yaml", "/dev/null", "adir", "alink", "a.txt", "b.json", ""]
ENTRIES = [
    "{name: added, command: ['true']}",
    "{name: added, command: ['true'], timeout: .nan}",
    "{name: trailing-whitespace, command: ['true']}",
    "[1, 2]",
    "{name: x, python: 'mod:fn', command: [a]}",
    "{{{{",
    "name: ok\ncommand: [echo]",
    "{name: 'bad name', command: [echo]}",
    "[" * 3000,
    "",
]
FORMATS = ["json", "yaml", "human", "xml"]


def _argv(rng: random.Random) -> list[str]:
    command = rng.choice(["orch", "orch", "orch", "registry", "registry", "report", "--version", "bogus"])
    argv: list[str] = [command] if command != "bogus" else [rng.choice(["", "-h", "--nope", "orc"])]
    if command == "registry":
        action = rng.choice(["list", "inspect", "add", "remove", "purge"])
        argv.append(action)
        if action in ("inspect", "remove"):
            argv.append(rng.choice(NAMES))
        elif action == "add" and rng.random() < 0.9:
            argv += ["--entry", rng.choice(ENTRIES)]
    elif command == "report" and rng.random() < 0.7:
        argv.append("--schema")
    for _ in range(rng.randint(0, 6)):
        choice = rng.random()
        if command == "orch" and choice < 0.15:
            argv += ["--stage", rng.choice(STAGES)]
        elif command == "orch" and choice < 0.25:
            argv += ["--filter", rng.choice(FILTERS)]
        elif command == "orch" and choice < 0.3:
            argv += ["--tags", rng.choice(["ci", "fuzz,test", "", ","])]
        elif command == "orch" and choice < 0.35:
            argv += [rng.choice(["--from", "--to"]), rng.choice(NAMES)]
        elif command == "orch" and choice < 0.5:
            argv.append(rng.choice(["--list", "--dry-run", "-x", "--all-files", "-a"]))
        elif command == "orch" and choice < 0.6:
            argv.append(rng.choice(PATHS))
        elif choice < 0.7:
            argv += ["--format", rng.choice(FORMATS)]
        elif choice < 0.78:
            argv += ["-o", rng.choice(OUTPUTS)]
        elif choice < 0.85:
            argv += ["--registry", rng.choice(REGISTRIES)]
        else:
            argv.append(rng.choice(["--no-color", "-q", "-v", "-vv", "--bogus", "--", "--format"]))
    return [a for a in argv if a != "-" or command != "orch"]


def _argv_cases(seed: int, n: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [_argv(rng) for _ in range(n)]


def test_argv_fuzz_in_process(fuzz_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("OMNIBASE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OMNIBASE_RESOLVE_TIMEOUT", "5")
    for argv in _argv_cases(seed=9, n=300):
        _check(argv, *_in_process(argv, fuzz_repo.root))


def test_argv_fuzz_through_the_real_cli(fuzz_repo: Repo) -> None:
    for argv in _argv_cases(seed=99, n=8):
        _check(argv, *_subprocess(argv, fuzz_repo.root))


@pytest.mark.slow
def test_argv_fuzz_long(fuzz_repo: Repo) -> None:
    for argv in _argv_cases(seed=999, n=400):
        _check(argv, *_subprocess(argv, fuzz_repo.root))


# --- the registry file ---------------------------------------------------------------------------

HOSTILE = [".nan", ".inf", "-.inf", "-1", "0", "1.0e+308", "''", "[", "{a: b}", "&a x", "*a", "*nope", "!!python/object:os.system x", "!!binary aGk=",
           "!!int x", "~", "yes", "0x10", "2001-01-01", "'" + "y" * 5000 + "'", "\t", "[" * 2000, "{" * 2000, "- - - -", "|", ">-", "? x", "!!set {a}", "<<: *a"]


def _mutate(rng: random.Random, text: str) -> bytes:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(9)
        i = rng.randrange(len(lines)) if lines else 0
        if not lines:
            lines = ["version: 1\n"]
        elif kind == 0 and ":" in lines[i]:  # a hostile value
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {rng.choice(HOSTILE)}\n"
        elif kind == 1:
            del lines[i]
        elif kind == 2:
            lines.insert(i, lines[i])  # duplicate keys, duplicate entries
        elif kind == 3:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 4:
            lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip()
        elif kind == 5:
            lines.insert(i, rng.choice(HOSTILE) + "\n")
        elif kind == 6:
            lines = ["".join(lines)[: rng.randrange(len("".join(lines)) + 1)]]
        elif kind == 7:
            depth = rng.choice([10, 100, 3000])
            lines.insert(i, "deep: " + "[" * depth + "]" * depth + "\n")
        else:
            lines[i] = lines[i].replace("true", rng.choice(["false", "rm", "", "!!str"]), 1)
    data = "".join(lines).encode("utf-8")
    if rng.random() < 0.08:
        at = rng.randrange(len(data) + 1)
        data = data[:at] + bytes([rng.randrange(256)]) + data[at:]
    return data


def _registry_cases(seed: int, n: int) -> Iterator[tuple[bytes, list[str]]]:
    rng = random.Random(seed)
    commands = [["registry", "list", "--format", "json"], ["orch", "--stage", "ci", "--list", "--format", "json"], ["registry", "inspect", "echo-ok", "--format", "yaml"]]
    for _ in range(n):
        yield _mutate(rng, REGISTRY), rng.choice(commands)


def test_registry_fuzz_in_process(fuzz_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("OMNIBASE_")]:
        monkeypatch.delenv(key)
    target = fuzz_repo.root / "fuzzed.yaml"
    seen_codes: set[int] = set()
    for data, argv in _registry_cases(seed=10, n=300):
        target.write_bytes(data)
        full = [*argv, "--registry", str(target)]
        code, out, err = _in_process(full, fuzz_repo.root)
        _check(full, code, out, err)
        assert code in (0, 1, 2, 3), (data, code, err)
        if code == 2:
            assert err.startswith("omnibase: ") and str(target) in err, (data, err)
        seen_codes.add(code)
    assert {0, 2} <= seen_codes  # the mutations both keep and break the file


def _registry_fuzz_subprocess(repo: Repo, name: str, seed: int, n: int) -> None:
    target = repo.root / name
    for data, argv in _registry_cases(seed=seed, n=n):
        target.write_bytes(data)
        full = [*argv, "--registry", str(target)]
        _check(full, *_subprocess(full, repo.root))


def test_registry_fuzz_through_the_real_cli(fuzz_repo: Repo) -> None:
    _registry_fuzz_subprocess(fuzz_repo, "fuzzed-sub.yaml", seed=11, n=8)


@pytest.mark.slow
def test_registry_fuzz_long(fuzz_repo: Repo) -> None:
    _registry_fuzz_subprocess(fuzz_repo, "fuzzed-long.yaml", seed=12, n=400)


# --- failure snapshots ---------------------------------------------------------------------------
#
# A real failed run writes a snapshot; each case mutates it (hostile paths in its context,
# numbers out of range, wrong types, deleted keys, unknown kinds, values and pipelines nested
# deeply, truncation, stray bytes) and runs ``snapshot show``, ``report show`` and a replay on
# it. Beyond the checks above: a snapshot known to be bad is exit 2 with one line, and nothing
# outside the repository is ever written (a victim file beside it keeps its bytes, a git
# directory named elsewhere is never created).

SNAPSHOT_COMMANDS = (
    ["snapshot", "show", "{path}", "--format", "human", "--no-color"],
    ["snapshot", "show", "{path}", "--format", "json"],
    ["report", "show", "{path}", "--graph", "text"],
    ["orch", "--mode", "replay", "--snapshot", "{path}", "--format", "json"],
)
DEEP, DEEP_PIPELINE = "@@deep@@", "@@pipeline@@"


class SnapshotCase:
    def __init__(self, data: bytes, refused_by: frozenset[str], what: list[str]) -> None:
        self.data, self.refused_by, self.what = data, refused_by, what


@pytest.fixture(scope="module")
def snapshot_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, dict[str, object], Path]:
    """A repository whose failed run left a snapshot, and a folder beside it with a victim."""
    top = tmp_path_factory.mktemp("snapfuzz")
    outside = top / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"victim   \nno final newline")
    root = top / "repo"
    root.mkdir()
    repo = Repo(root)
    repo.git("init", "-q", "-b", "main")
    repo.write("notes.txt", "trailing   \nno final newline")
    repo.write("bad.json", "{not json\n")
    repo.stage(".")
    os.symlink(outside, root / "link")
    code, out, err = _subprocess(["orch", "--format", "json"], root)
    assert code == 1, err
    written = json.loads(out)["snapshot"]
    return repo, json.loads((root / written).read_bytes()), outside


def _leaves(doc: object, at: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], object]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, (*at, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _leaves(v, (*at, i))
    else:
        yield at, doc


def _set(doc: Any, at: tuple[Any, ...], value: object) -> None:
    for key in at[:-1]:
        doc = doc[key]
    doc[at[-1]] = value


def _nodes(shape: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [shape]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in node.get("children", []) if isinstance(c, dict))


def _snapshot_case(rng: random.Random, base: dict[str, object], outside: Path) -> SnapshotCase:
    import copy

    doc: Any = copy.deepcopy(base)
    refused: set[str] = set()
    what: list[str] = []
    deep = wrapped = 0
    everything = {"snapshot", "report", "orch"}
    # first what may or may not break the snapshot, then at most one edit that must: no
    # later edit can undo it, so the case knows which commands refuse it
    noise = [rng.choice([2, 3, 4, 5]) for _ in range(rng.randint(0, 2))]
    for op in noise + ([rng.choice([0, 1, 6, 7, 8, 9, 10])] if rng.random() < 0.8 or not noise else []):
        leaves = list(_leaves(doc))
        at, value = rng.choice(leaves) if leaves else ((), None)
        if op == 0:  # a path outside the repository in the context
            hostile = rng.choice([str(outside / "victim.txt"), "../outside/victim.txt", "link/victim.txt", "./../outside/victim.txt"])
            files = list(doc["ctx"]["files"])
            files.insert(rng.randrange(len(files) + 1), hostile)
            doc["ctx"]["files"] = files
            refused.add("orch")
            what.append(f"file {hostile}")
        elif op == 1:  # a git directory elsewhere
            where = rng.choice([str(outside / "made" / ".git"), str(outside), "../outside/made"])
            doc["ctx"]["params"] = [p for p in doc["ctx"]["params"] if p[:1] != ["git_dir"]] + [["git_dir", where]]
            refused.add("orch")
            what.append(f"git_dir {where}")
        elif op == 2:  # another root: replay runs in this repository whatever it says
            doc["ctx"]["root"] = rng.choice([str(outside), "/", "..", ""])
            what.append("root")
        elif op == 3 and at and isinstance(value, (int, float)) and not isinstance(value, bool):
            _set(doc, at, rng.choice([-1, 0, -(10**30), 10**30, 1e308, -1e-9, 2**63, 0.5]))
            what.append(f"number at {at}")
        elif op == 4 and at:
            _set(doc, at, rng.choice(["", "x" * 5000, None, True, [], {}, -1, "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")]))
            what.append(f"type at {at}")
        elif op == 5 and at:
            parent: Any = doc
            for key in at[:-1]:
                parent = parent[key]
            del parent[at[-1]]
            what.append(f"deleted {at}")
        elif op == 6:  # a node of an unknown kind
            node = rng.choice(list(_nodes(doc["pipeline"])))
            node["kind"] = rng.choice(["teleport", "", "Component", "recover", "hooked", "graph", "then"])
            refused |= everything if node["kind"] in ("teleport", "", "Component") else set()
            what.append(f"kind {node['kind']}")
        elif op == 7:  # a pipeline nested deeper than a snapshot may be
            wrapped = rng.choice([250, 2000])
            refused |= everything
            what.append(f"pipeline {wrapped} deep")
        elif op == 8:  # deeply nested values where any value may be
            deep = max(deep, rng.choice([20, 3000]))  # every placeholder gets the deepest
            _set(doc, rng.choice([("input",), ("report", "output"), ("calls", 0, "value")]), DEEP)
            what.append(f"values {deep} deep")
        elif op == 9:  # times and counts out of their ranges
            target = rng.choice([("created_at",), ("calls", 0, "attempt"), ("calls", 0, "duration_s")])
            _set(doc, target, rng.choice([-1, -1e300, 1e300]))
            refused |= everything
            what.append(f"{target} out of range")
        else:  # a retry, breaker or timeout out of its range
            node = next((n for n in _nodes(doc["pipeline"]) if n.get("kind") == "retry"), None)
            if node is not None:
                node["retry"]["max_attempts"] = rng.choice([0, -3, 10**9])
                refused |= everything
                what.append("max_attempts")
    if deep > 1000:
        refused |= everything
    if wrapped:  # written as text: too deep for json.dumps
        doc["pipeline"], pipeline = DEEP_PIPELINE, json.dumps(doc["pipeline"])
    text = json.dumps(doc)
    if deep:
        text = text.replace(json.dumps(DEEP), "[" * deep + "]" * deep)
    if wrapped:
        text = text.replace(json.dumps(DEEP_PIPELINE), '{"kind": "profile", "name": "p", "children": [' * wrapped + pipeline + "]}" * wrapped)
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = data[: rng.randrange(len(data))]
        refused |= everything
        what.append("truncated")
    elif rng.random() < 0.05:
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.randrange(256)]) + data[at:]
        what.append("stray byte")
    return SnapshotCase(data, frozenset(refused), what)


def _outside_state(outside: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(outside)), p.read_bytes() if p.is_file() else b"") for p in outside.rglob("*"))


def _snapshot_fuzz(snapshot_repo: tuple[Repo, dict[str, object], Path], seed: int, n: int, run: Any) -> set[int]:
    repo, base, outside = snapshot_repo
    before = _outside_state(outside)
    rng = random.Random(seed)
    target = repo.root / "mutated.json"
    codes: set[int] = set()
    for _ in range(n):
        case = _snapshot_case(rng, base, outside)
        target.write_bytes(case.data)
        repo.write("notes.txt", "trailing   \nno final newline")  # a replay may have fixed it
        for template in SNAPSHOT_COMMANDS:
            argv = [str(target) if a == "{path}" else a for a in template]
            code, out, err = run(argv, repo.root)
            where = f"{case.what} {argv[:2]} exit {code}: {err[-600:]!r}"
            _check(argv, code, out, err)
            assert code in (0, 1, 2, 3), where
            if argv[0] in case.refused_by:
                assert code == 2, where
            if code == 2:
                assert len(err.strip().splitlines()) == 1 and err.startswith("omnibase: "), where
            codes.add(code)
        assert _outside_state(outside) == before, case.what  # nothing written outside the repository
    return codes


def test_snapshot_fuzz_in_process(snapshot_repo: tuple[Repo, dict[str, object], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("OMNIBASE_")]:
        monkeypatch.delenv(key)
    codes = _snapshot_fuzz(snapshot_repo, seed=20, n=150, run=_in_process)
    assert {0, 1, 2} <= codes  # the mutations both keep and break snapshots


def test_snapshot_fuzz_through_the_real_cli(snapshot_repo: tuple[Repo, dict[str, object], Path]) -> None:
    _snapshot_fuzz(snapshot_repo, seed=21, n=3, run=_subprocess)


@pytest.mark.slow
def test_snapshot_fuzz_long(snapshot_repo: tuple[Repo, dict[str, object], Path]) -> None:
    _snapshot_fuzz(snapshot_repo, seed=22, n=1000, run=_in_process)
