"""The built-in checks under any performer: each component does its own check only, holds
no lock or other unpicklable state, and gives the same report sequentially, concurrently
and from a worker process."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from omnibase import Status
from omnibase.context import new_ctx
from omnibase.core.values import ExecCtx
from omnibase.orchestrators import PreCommitOrchestrator
from omnibase.orchestrators.builtin import BuiltinCheck, builtin_components

FILES = {
    "a.py": b"x = 1   \n",  # trailing whitespace
    "b.txt": b"no newline at the end",  # end-of-file
    "c.json": b'{"ok": true}\n',
    "d.json": b"{broken\n",  # check-json fails
    "e.yaml": b"a: 1\nb: [\n",  # check-yaml fails
    "f.txt": b"mixed\r\nendings   \n",  # two fixers on one file
}


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def _ctx(root: Path, dry_run: bool = False) -> ExecCtx:
    ctx = new_ctx("pre-commit", root=str(root), files=tuple(sorted(FILES)), dry_run=dry_run)
    return msgspec.structs.replace(ctx, run_id="0" * 16, trace_id="1" * 32)


def _summary(report: Any) -> list[tuple[str, str, Any]]:
    return [(s.name, s.status.value, s.error.data.get("files") if s.error is not None else None) for s in report.steps]


def _tree(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in FILES}


def test_the_batch_and_every_builtin_component_pickle() -> None:
    comps, batch = builtin_components()
    assert pickle.loads(pickle.dumps(batch)) == batch
    for comp in comps:
        fn = pickle.loads(pickle.dumps(comp.fn))
        assert isinstance(fn, BuiltinCheck) and fn == comp.fn and fn.name == comp.name


def _in_worker(fn: BuiltinCheck, ctx: ExecCtx) -> Any:
    return fn(ctx, None)


@pytest.mark.parametrize("name", ["check-json", "check-yaml", "trailing-whitespace"])
def test_a_builtin_runs_alone_in_a_fresh_worker_process_with_the_same_answer(tmp_path: Path, name: str) -> None:
    root = _repo(tmp_path)
    comps, _ = builtin_components()
    (comp,) = [c for c in comps if c.name == name]
    ctx = _ctx(root, dry_run=True)
    here = comp.fn(ctx, None)
    spawn = multiprocessing.get_context("spawn")  # nothing inherited: only what pickles
    with spawn.Pool(1) as pool:
        there = pool.apply(_in_worker, (comp.fn, ctx))
    assert there == here


def test_sequential_and_concurrent_runs_report_alike_and_fix_alike(tmp_path: Path) -> None:
    seq_root, con_root = _repo(tmp_path / "seq"), _repo(tmp_path / "con")
    comps, _ = builtin_components()
    sync = PreCommitOrchestrator(comps).run(_ctx(seq_root))
    concurrent = asyncio.run(PreCommitOrchestrator(comps, jobs=4).arun(_ctx(con_root)))
    assert _summary(concurrent) == _summary(sync)
    assert _tree(con_root) == _tree(seq_root)
    fixed = _tree(seq_root)
    assert fixed["a.py"] == b"x = 1\n" and fixed["b.txt"] == b"no newline at the end\n"
    assert fixed["f.txt"] in (b"mixed\nendings\n", b"mixed\r\nendings\r\n")  # both fixers applied
    failed = {s.name for s in sync.steps if s.status is Status.FAIL}
    assert {"check-json", "check-yaml", "trailing-whitespace", "end-of-file-fixer"} <= failed


def test_each_builtin_checks_only_its_own_concern(tmp_path: Path) -> None:
    """Invoked alone, a check neither needs nor does the others' work: the fixer leaves
    what is not its concern, the validator writes nothing."""
    root = _repo(tmp_path)
    comps, _ = builtin_components()
    by_name = {c.name: c for c in comps}
    before = _tree(root)
    assert by_name["check-json"].fn(_ctx(root), None).failure().data["files"] == ["d.json"]
    assert _tree(root) == before
    by_name["end-of-file-fixer"].fn(_ctx(root), None)
    after = _tree(root)
    assert after["b.txt"] == b"no newline at the end\n"
    assert after["a.py"] == before["a.py"], "trailing whitespace is another check's concern"
