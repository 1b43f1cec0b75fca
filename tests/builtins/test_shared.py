"""The facts layer (issue 23): one pass over a run's files serves all its built-ins.

On a generated repository of awkward files, the built-ins of a run sharing one pass give
each component exactly what it gives run alone (the per-check path: its own check over
its own files): status, message, findings, diff, and the bytes the fixes leave. And a run
of every check opens each file at most once (counted with an audit hook).
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import msgspec
import pytest

from omnibase.builtins import CHECKS
from omnibase.builtins import _run
from omnibase.components.builtin import BuiltinCheck, BuiltinUse, builtin_components, finish_run
from omnibase.core.combinators import all_of
from omnibase.core.values import ExecCtx
from omnibase.drivers import SyncDriver, run
from tests.support import git, init_repo

#: Every built-in, plus a second use of one check with other flags and files.
USES = sorted(
    [BuiltinUse(name=n, check=n) for n in CHECKS]
    + [BuiltinUse(name="ws-md", check="trailing-whitespace", args=("--markdown-linebreak-ext=md",), files=r"\.md$")],
    key=lambda u: list(CHECKS).index(u.check),
)

#: Pieces of content the generated files are made of: each trips some check.
PIECES = [
    b"plain line\n", b"trailing   \n", b"tab\t\n", b"crlf\r\n", b"cr only\r", b"x = \"double\"\n", b"\xef\xbb\xbf",
    b"<<<<<<< HEAD\n", b"=======\n", b">>>>>>> branch\n", b"-----BEGIN RSA PRIVATE KEY-----\n", b"a: [1\n",
    b"key: value\n", b'{"a": 1}\n', b'{"a": 1,}\n', b"def f(:\n", b"import pdb\n", b"'''doc'''\n", b"\x00\x01\x02",
    b"https://github.com/a/b/blob/main/x.py#L1\n", b"", b"no newline",
]
NAMES = ["x.txt", "x.md", "x.py", "x.json", "x.yaml", "x.toml", "x.xml", "requirements.txt", "x.bin", "noext"]


def _generate(root: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        name = NAMES[i % len(NAMES)]
        rel = f"d{i % 7}/{i}-{name}"
        full = root / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6))))
        if name == "noext" and rng.random() < 0.5:
            full.write_bytes(b"#!/usr/bin/env python3\n" + full.read_bytes())
            full.chmod(0o755)
        paths.append(rel)
    big = root / "big.txt"  # larger than what classifying reads: the rest read later
    big.write_bytes(b"line   \n" * 20_000 + b"last")
    paths.append("big.txt")
    return paths


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, tuple[str, ...]]:
    root = init_repo(tmp_path_factory.mktemp("shared") / "repo")
    paths = _generate(root, 260, seed=23)  # above MIN_FILES_FOR_POOL: the worker processes take part
    git(root, "add", "-A")
    return root, tuple(sorted(paths))


def _ctx(root: Path, files: tuple[str, ...], run_id: str) -> ExecCtx:
    params = frozenset({("git_dir", str(root / ".git")), ("cache", "off")})
    return ExecCtx(
        run_id=run_id, trace_id="0af7651916cd43dd8448eb211c80319c", stage="pre-commit", root=str(root),
        files=files, dry_run=False, params=params,
    )  # fmt: skip


def _outcome(report) -> dict[str, tuple]:
    out = {}
    for step in report.steps:
        error = step.error
        data = msgspec.to_builtins(getattr(error, "data", None))
        out[step.name] = (step.status.value, getattr(error, "message", None), data, msgspec.to_builtins(step.value))
    return out


def _tree(root: Path, files: tuple[str, ...]) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in files}


def test_a_shared_pass_gives_each_check_what_it_gives_alone(generated, tmp_path):
    source, files = generated
    results = {}
    for label in ("shared", "alone"):
        root = tmp_path / label
        shutil.copytree(source, root, symlinks=True)
        comps = builtin_components(USES)
        if label == "alone":  # each its own check over its own files (fixers: from the ones before)
            from omnibase.core.step import Component

            comps = tuple(Component(BuiltinCheck(c.fn.use, c.fn.before), c.meta) for c in comps)
        else:
            assert all(c.fn.peers == tuple(USES) for c in comps)
        ctx = _ctx(root, files, f"diff-{label}")
        report = run(all_of(list(comps)), ctx.files, ctx, SyncDriver())
        written = finish_run(ctx)
        results[label] = (_outcome(report), _tree(root, files), sorted(written))
    shared, alone = results["shared"], results["alone"]
    assert shared[0] == alone[0]
    assert shared[1] == alone[1] and shared[2] == alone[2]
    statuses = {name: o[0] for name, o in shared[0].items()}
    # the corpus trips most checks: a comparison of passes alone would prove little
    assert sum(s == "FAIL" for s in statuses.values()) >= 10, statuses
    assert shared[2], "some fix was written"


def test_a_run_of_every_check_opens_each_file_once(generated, tmp_path, monkeypatch):
    source, files = generated
    root = tmp_path / "counted"
    shutil.copytree(source, root, symlinks=True)
    prefix = str(root) + "/"
    opened: dict[str, int] = {}
    counting = [False]

    def hook(event: str, args: tuple) -> None:
        if counting[0] and event == "open" and isinstance(args[0], str) and args[0].startswith(prefix):
            rel = args[0][len(prefix):]
            if not rel.startswith(".git/"):
                opened[rel] = opened.get(rel, 0) + 1

    sys.addaudithook(hook)  # stays for the process; counts only while ``counting``
    monkeypatch.setattr(_run, "MIN_FILES_FOR_POOL", 10**9)  # in this process, where the hook sees it
    ctx = _ctx(root, files, "counted")
    ctx = msgspec.structs.replace(ctx, dry_run=True)  # fixes are not written: only reads are counted
    comps = builtin_components(USES)
    counting[0] = True
    try:
        report = run(all_of(list(comps)), ctx.files, ctx, SyncDriver())
    finally:
        counting[0] = False
    finish_run(ctx)
    assert len(report.steps) == len(comps)
    assert opened, "the hook saw the files read"
    assert max(opened.values()) == 1, {p: n for p, n in opened.items() if n > 1}
    assert set(opened) <= set(files)
