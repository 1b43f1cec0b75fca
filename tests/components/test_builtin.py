"""The built-ins as components run under any performer (issue 8): immutable picklable
values, each invocation its own check only, fixes handed to the edge and written once per
file, the same outcomes and fixed bytes sync, async with several jobs, and in workers."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from omnibase.builtins import CHECKS, DEFAULT_CHECKS
from omnibase.builtins import _run
from omnibase.components.builtin import BuiltinCheck, BuiltinUse, apply_fixes, builtin_components, chained, finish_run
from omnibase.core.combinators import all_of
from omnibase.core.intents import Invoke
from omnibase.core.values import ExecCtx
from omnibase.drivers import SyncDriver, arun, run
from omnibase.drivers.isolation import worker as _worker
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool, call_request
from tests.support import git, init_repo

#: The defaults plus opt-in built-ins (two of them fixers, one with flags).
OPT_IN = [
    BuiltinUse(name="fix-byte-order-marker", check="fix-byte-order-marker"),
    BuiltinUse(name="double-quote-string-fixer", check="double-quote-string-fixer"),
    BuiltinUse(name="check-docstring-first", check="check-docstring-first"),
    BuiltinUse(name="ws-md", check="trailing-whitespace", args=("--markdown-linebreak-ext=md",), files=r"\.md$"),
]


def _uses() -> list[BuiltinUse]:
    uses = [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS] + OPT_IN
    rank = {name: i for i, name in enumerate(CHECKS)}
    return sorted(uses, key=lambda u: rank[u.check])


FILES: dict[str, bytes] = {
    "a.py": b"\xef\xbb\xbfx = \"hi\"   \r\ny = 1\n",  # BOM, double quotes, trailing space, mixed endings
    "b.py": b"import os\n'''late docstring'''\n",
    "c.py": b"def broken(:\n",
    "d.json": b'{"a": 1,}\n',
    "e.yaml": b"a: [1\n",
    "f.toml": b"a = \n",
    "g.txt": b"no newline at end   ",
    "h.md": b"line  \nother   \n",
    "key.pem": b"-----BEGIN RSA PRIVATE KEY-----\n",
    "ok.txt": b"fine\n",
    "conflict.txt": b"<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> other\n",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "repo")
    for rel, data in FILES.items():
        (root / rel).write_bytes(data)
    git(root, "add", "-A")
    return root


def _ctx(root: Path, *, dry_run: bool = False, run_id: str = "run1") -> ExecCtx:
    params = frozenset({("git_dir", str(root / ".git")), ("cache", "off")})
    return ExecCtx(
        run_id=run_id, trace_id="0af7651916cd43dd8448eb211c80319c", stage="pre-commit", root=str(root),
        files=tuple(sorted(FILES)), dry_run=dry_run, params=params,
    )  # fmt: skip


def _snapshot(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in FILES}


def _outcome(report: Any) -> list[tuple[str, str, str]]:
    return sorted((s.name, s.status.value, getattr(s.error, "message", "")) for s in report.steps)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(size=2)
    yield p
    p.close()


def test_every_built_in_component_is_an_immutable_value_that_pickles_and_travels(tree):
    comps = builtin_components([BuiltinUse(name=n, check=n) for n in CHECKS])
    assert len(comps) == len(CHECKS)
    for comp in comps:
        fn = comp.fn
        assert isinstance(fn, BuiltinCheck)
        assert pickle.loads(pickle.dumps(fn)) == fn
        assert msgspec.msgpack.decode(msgspec.msgpack.encode(fn), type=BuiltinCheck) == fn
        with pytest.raises((AttributeError, TypeError)):
            fn.use = fn.use  # type: ignore[misc]  # frozen
        assert not any(isinstance(v, type(os.urandom)) for v in msgspec.structs.astuple(fn))
        # the worker request names its class and carries its fields; a worker rebuilds it
        request = call_request(Invoke(comp, _ctx(tree), ()))
        assert isinstance(request, _worker.Call), request
        assert request.ref == "omnibase.components.builtin:BuiltinCheck" and request.state
        rebuilt = _worker._load(request.ref, str(tree), request.state)
        assert not isinstance(rebuilt, str) and rebuilt[0] == fn
    # a fixer holds the selected fixers before it, nothing else
    fixers = [c for c in comps if CHECKS[c.fn.use.check].is_fixer]
    assert [u.check for u in fixers[-1].fn.before] == [c.fn.use.check for c in fixers[:-1]]
    assert all(c.fn.before == () for c in comps if not CHECKS[c.fn.use.check].is_fixer)


def test_chained_keeps_only_the_selected_fixers_before_each():
    comps = builtin_components()
    names = [c.name for c in comps]
    picked = chained(comps, [n for n in names if n != "end-of-file-fixer"])
    mixed = next(c for c in picked if c.name == "mixed-line-ending")
    assert [u.name for u in mixed.fn.before] == ["trailing-whitespace"]
    assert next(c for c in picked if c.name == "end-of-file-fixer").fn.before == ()


def _run_sync(comps, ctx):
    return run(all_of(list(comps)), ctx.files, ctx, SyncDriver())


def _run_async(comps, ctx):
    return asyncio.run(arun(all_of(list(comps)), ctx.files, ctx, AsyncDriver(threads=4), jobs=4))


def _in_workers(pool):
    def go(comps, ctx):
        isolated = builtin_components([c.fn.use for c in comps], isolation="process")
        return run(all_of(list(isolated)), ctx.files, ctx, ProcessPerformer(SyncDriver(), pool=pool))

    return go


def test_the_same_outcomes_and_fixed_bytes_under_every_performer(tree, tmp_path, pool):
    comps = builtin_components(_uses())
    pristine = _snapshot(tree)
    results = {}
    for label, how in (("sync", _run_sync), ("async", _run_async), ("process", _in_workers(pool))):
        for rel, data in pristine.items():
            (tree / rel).write_bytes(data)
        ctx = _ctx(tree, run_id=f"run-{label}")
        report = how(comps, ctx)
        written = apply_fixes(ctx)
        results[label] = (_outcome(report), _snapshot(tree), sorted(written))
        assert not (tree / ".git" / "omnibase" / "fixes" / ctx.run_id).exists()  # the spool is gone
    assert results["sync"] == results["async"] == results["process"]
    outcome, fixed, written = results["sync"]
    statuses = dict((name, status) for name, status, _ in outcome)
    assert statuses["check-ast"] == "FAIL" and statuses["check-json"] == "FAIL" and statuses["check-yaml"] == "FAIL"
    # every fixer's edit applied, chained: BOM, quotes, whitespace, line endings, end of file
    assert fixed["a.py"] == b"x = 'hi'\ny = 1\n"
    assert fixed["g.txt"] == b"no newline at end\n"
    # the markdown-aware use starts from what the default trailing-whitespace left
    assert fixed["h.md"] == b"line\nother\n" and statuses["ws-md"] == "PASS"
    assert fixed["ok.txt"] == FILES["ok.txt"] and "ok.txt" not in written


class _Counting:
    """A check function that counts its calls (per check name)."""

    def __init__(self, name: str, fn: Any, calls: dict[str, int]) -> None:
        self.name, self.fn, self.calls = name, fn, calls

    def __call__(self, *args: Any) -> Any:
        self.calls[self.name] = self.calls.get(self.name, 0) + 1
        return self.fn(*args)


def test_a_run_calls_each_check_once_per_file_however_many_checks_it_has(tree, monkeypatch):
    calls: dict[str, int] = {}
    counted = {n: msgspec.structs.replace(s, fn=_Counting(n, s.fn, calls)) for n, s in CHECKS.items()}
    monkeypatch.setattr(_run, "CHECKS", counted)
    ctx = _ctx(tree, run_id="counted")
    # what each use's own check costs when it runs alone (no peers): one call per file it sees
    own: dict[str, int] = {}
    for comp in builtin_components(_uses()):
        alone = BuiltinCheck(comp.fn.use)  # no fixers before it either: only its own calls count
        calls.clear()
        alone(ctx, ctx.files)
        check = comp.fn.use.check
        own[check] = own.get(check, 0) + calls.get(check, 0)
    calls.clear()
    comps = builtin_components(_uses())
    comps[0].fn(ctx, ctx.files)  # the first built-in of the run checks the files for all file checks
    assert calls == {check: n for check, n in own.items() if n and CHECKS[check].scope == "file"}
    for comp in comps[1:]:  # the others take their share: no check runs again
        comp.fn(ctx, ctx.files)
    assert calls == {check: n for check, n in own.items() if n}
    finish_run(ctx)


def _hash_tree(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            h.update(full.encode() + b"\0" + Path(full).read_bytes())
    return h.hexdigest()


def test_dry_run_writes_nothing_not_even_a_spool(tree):
    before = _hash_tree(tree)
    ctx = _ctx(tree, dry_run=True)
    report = _run_sync(builtin_components(_uses()), ctx)
    assert apply_fixes(ctx) == ()
    assert any(s.error is not None and "diff" in (s.error.data or {}) for s in report.steps)  # the diffs are shown
    assert _hash_tree(tree) == before


def test_two_chained_fixers_write_each_file_once(tree, monkeypatch):
    writes: list[str] = []
    real = _run._write
    monkeypatch.setattr(_run, "_write", lambda full, content, like: (writes.append(full), real(full, content, like)))
    uses = [BuiltinUse(name="trailing-whitespace", check="trailing-whitespace"),
            BuiltinUse(name="end-of-file-fixer", check="end-of-file-fixer")]  # fmt: skip
    ctx = _ctx(tree)
    report = _run_sync(builtin_components(uses), ctx)
    assert all(s.status.value == "FAIL" for s in report.steps)  # both fixed g.txt
    assert writes == []  # nothing written by the components
    apply_fixes(ctx)
    assert (tree / "g.txt").read_bytes() == b"no newline at end\n"
    assert len(writes) == len(set(writes))  # every fixed file once
    assert writes.count(str(tree / "g.txt")) == 1


def test_a_stale_spool_of_a_killed_run_is_never_applied_and_is_removed(tree):
    from omnibase.builtins import _spool

    ctx = _ctx(tree, run_id="killed")
    _run_sync(builtin_components(), ctx)  # spooled, never applied (as if the run was killed)
    stale = Path(_spool.spool_dir(str(tree / ".git"), "killed"))
    assert any(stale.iterdir())
    os.utime(stale, (0, 0))
    assert (tree / "g.txt").read_bytes() == FILES["g.txt"]
    later = _ctx(tree, run_id="later", dry_run=False)
    assert apply_fixes(later) == ()  # its own spool is empty: the stale one is not applied
    assert (tree / "g.txt").read_bytes() == FILES["g.txt"] and not stale.exists()


def test_a_corrupt_spool_file_is_skipped(tree):
    from omnibase.builtins import _spool

    ctx = _ctx(tree, run_id="corrupt")
    _run_sync(builtin_components(), ctx)
    folder = Path(_spool.spool_dir(str(tree / ".git"), "corrupt"))
    first = sorted(folder.iterdir())[0]
    first.write_bytes(b"\x00garbage")
    apply_fixes(ctx)  # no exception; the other fixers' edits that still chain are applied
    assert not folder.exists()


def test_the_per_process_classification_memo_follows_a_changed_file(tmp_path):
    (tmp_path / "f.dat").write_bytes(b"text   \n")
    paths = ["f.dat"]
    first = _run.run_builtin_checks(paths, ["trailing-whitespace"], root=str(tmp_path), jobs=1)
    assert [v.ok for v in first] == [False]
    assert str(tmp_path / "f.dat") in _run._TAGS  # remembered for the next check
    (tmp_path / "f.dat").write_bytes(b"\x00\x01binary   \n")  # now binary: no text check applies
    assert _run.run_builtin_checks(paths, ["trailing-whitespace"], root=str(tmp_path), jobs=1) == ()
    assert "binary" in _run._TAGS[str(tmp_path / "f.dat")][1]


def test_a_check_after_another_does_not_classify_the_same_files_again(tmp_path, monkeypatch):
    for i in range(10):
        (tmp_path / f"f{i}.txt").write_bytes(b"x\n")
    classified: list[str] = []
    real = _run.tags_from
    monkeypatch.setattr(_run, "tags_from", lambda full, *rest: (classified.append(full), real(full, *rest))[1])
    paths = [f"f{i}.txt" for i in range(10)]
    _run.run_builtin_checks(paths, ["trailing-whitespace"], root=str(tmp_path), jobs=1)
    assert len(classified) == 10
    verdicts = _run.run_builtin_checks(paths, ["check-merge-conflict"], root=str(tmp_path), jobs=1)
    assert len(classified) == 10 and len(verdicts) == 10  # the second check used what the first learnt


def test_fixes_that_could_not_be_written_are_told_instead_of_fixing():
    from omnibase.components.builtin import unwritten
    from omnibase.core.values import Failed, Status, StepResult
    from tests.support import report

    fixer = StepResult(name="trailing-whitespace", status=Status.FAIL, span_id="a" * 16, error=Failed(
        message="Fixing a.txt\nFixing b.txt", data={"files": ["a.txt", "b.txt"], "fixed": True, "diff": "..."}))
    other = StepResult(name="check-yaml", status=Status.FAIL, span_id="b" * 16, error=Failed(
        message="a.txt: bad", data={"files": ["a.txt"]}))  # not a fixer: unchanged
    told = unwritten(report(fixer, other), {"a.txt": "No space left on device"})
    first, second = told.steps
    assert first.error.message == "Could not write the fix of a.txt: No space left on device\nFixing b.txt"
    assert first.error.data == {"files": ["a.txt", "b.txt"], "fixed": True, "diff": "...",
                                "unwritten": {"a.txt": "No space left on device"}}  # fmt: skip
    assert second == other
    none = unwritten(report(fixer), {"a.txt": "File too large", "b.txt": "File too large"}).steps[0]
    assert none.error.data["fixed"] is False and "Fixing" not in none.error.message
