"""Resolving registry entries into components: python imports and command subprocesses."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from returns.result import Failure, Success

from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Failed, ResourceExceeded, Skip, TimedOut
from omnibase.registry import CommandOutput, Entry, ResolutionError, resolve, run_command
from omnibase.components import command as _command
from omnibase.testing import fake_ctx
from tests.support import alive

PY = sys.executable


def _entry(**kw: Any) -> Entry:
    return msgspec.convert(kw, Entry)


def _ctx(root: Path, files: tuple[str, ...] = ()) -> ExecCtx:
    return fake_ctx(root=str(root), files=files)


def _component(entry: Entry, root: Path) -> Component[Any, Any]:
    result = resolve(entry, root=str(root))
    assert isinstance(result, Success), result
    comp = result.unwrap()
    assert isinstance(comp, Component)
    assert comp.meta.name == entry.name
    return comp


def _call(comp: Component[Any, Any], ctx: ExecCtx, value: object) -> Any:
    """Invoke the component's callable directly (its Result, untyped for the tests)."""
    return comp.fn(ctx, value)


# --- python ------------------------------------------------------------------------------


def test_python_entry_resolves_module_in_root(tmp_path: Path) -> None:
    mod = f"omni_mod_{uuid.uuid4().hex}"
    (tmp_path / f"{mod}.py").write_text(
        "from returns.result import Success\n"
        "def check(ctx, value):\n"
        "    return Success(('ok', value))\n"
        "class Holder:\n"
        "    @staticmethod\n"
        "    def run(ctx, value):\n"
        "        return Success(value)\n"
        "NOT_CALLABLE = 3\n"
    )
    comp = _component(_entry(name="py", python=f"{mod}:check", tags=["x"]), tmp_path)
    assert _call(comp, _ctx(tmp_path), 5) == Success(("ok", 5))
    assert comp.meta.tags == frozenset({"x"})
    nested = _component(_entry(name="nested", python=f"{mod}:Holder.run"), tmp_path)
    assert _call(nested, _ctx(tmp_path), 1) == Success(1)
    bad = resolve(_entry(name="nc", python=f"{mod}:NOT_CALLABLE"), root=str(tmp_path))
    assert isinstance(bad, Failure) and isinstance(bad.failure(), ResolutionError)
    assert "not callable" in bad.failure().message


def test_python_missing_module_is_resolution_error(tmp_path: Path) -> None:
    result = resolve(_entry(name="m", python=f"no_such_mod_{uuid.uuid4().hex}:f"), root=str(tmp_path))
    assert isinstance(result, Failure)
    err = result.failure()
    assert isinstance(err, ResolutionError)
    assert err.name == "m" and "cannot import" in err.message


def test_python_module_raising_at_import_is_resolution_error(tmp_path: Path) -> None:
    mod = f"omni_boom_{uuid.uuid4().hex}"
    (tmp_path / f"{mod}.py").write_text("raise RuntimeError('boom at import')\n")
    result = resolve(_entry(name="b", python=f"{mod}:f"), root=str(tmp_path))
    assert isinstance(result, Failure)
    assert "boom at import" in result.failure().message


def test_python_missing_attr_is_resolution_error(tmp_path: Path) -> None:
    mod = f"omni_attr_{uuid.uuid4().hex}"
    (tmp_path / f"{mod}.py").write_text("def f(ctx, v):\n    return v\n")
    result = resolve(_entry(name="a", python=f"{mod}:missing"), root=str(tmp_path))
    assert isinstance(result, Failure)
    assert isinstance(result.failure(), ResolutionError)
    assert "no attribute" in result.failure().message


def test_python_target_without_colon_is_resolution_error(tmp_path: Path) -> None:
    result = resolve(_entry(name="a", python="just_a_module"), root=str(tmp_path))
    assert isinstance(result, Failure)
    assert "module:function" in result.failure().message


# --- command resolution ----------------------------------------------------------------


def test_command_not_on_path_is_resolution_error(tmp_path: Path) -> None:
    result = resolve(_entry(name="c", command=[f"no-such-cmd-{uuid.uuid4().hex}"]), root=str(tmp_path))
    assert isinstance(result, Failure)
    err = result.failure()
    assert isinstance(err, ResolutionError)
    assert "not found on PATH" in err.message


def test_command_relative_path_must_be_executable(tmp_path: Path) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    result = resolve(_entry(name="c", command=["./tool.sh"]), root=str(tmp_path))
    assert isinstance(result, Failure)
    assert "not an executable" in result.failure().message
    script.chmod(0o755)
    assert isinstance(resolve(_entry(name="c", command=["./tool.sh"]), root=str(tmp_path)), Success)


# --- command components ----------------------------------------------------------------


def _lister(tmp_path: Path) -> list[str]:
    """argv printing its arguments one a line."""
    return [PY, "-c", "import sys; print('\\n'.join(sys.argv[1:]))"]


def test_command_file_selection_by_files_regex(tmp_path: Path) -> None:
    for name in ("a.py", "b.txt", "sub/c.py", "skip_me.py"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x = 1\n")
    entry = _entry(name="lister", command=_lister(tmp_path), files=r"\.py$", exclude=r"^skip_")
    comp = _component(entry, tmp_path)
    out = _call(comp, _ctx(tmp_path, ("a.py", "b.txt", "sub/c.py", "skip_me.py")), None)
    assert isinstance(out, Success)
    value = out.unwrap()
    assert isinstance(value, CommandOutput)
    assert value.output.split() == ["a.py", "sub/c.py"]
    assert value.files == 2 and value.exit_code == 0


def test_command_file_selection_by_types(tmp_path: Path) -> None:
    (tmp_path / "script").write_text("#!/usr/bin/env python3\nprint(1)\n")
    (tmp_path / "script").chmod(0o755)  # identify reads the shebang of executables only
    (tmp_path / "mod.py").write_text("x = 1\n")
    (tmp_path / "data.json").write_text("{}\n")
    (tmp_path / "notes.md").write_text("# hi\n")
    files = ("script", "mod.py", "data.json", "notes.md", "vanished.py")
    comp = _component(_entry(name="t", command=_lister(tmp_path), types=["python"]), tmp_path)
    out = _call(comp, _ctx(tmp_path, files), None).unwrap()
    assert sorted(out.output.split()) == ["mod.py", "script"]  # shebang counts; missing file dropped
    comp = _component(_entry(name="t2", command=_lister(tmp_path), types_or=["json", "markdown"]), tmp_path)
    out = _call(comp, _ctx(tmp_path, files), None).unwrap()
    assert sorted(out.output.split()) == ["data.json", "notes.md"]
    comp = _component(_entry(name="t3", command=_lister(tmp_path), types=["text"], exclude_types=["python"]), tmp_path)
    out = _call(comp, _ctx(tmp_path, files), None).unwrap()
    assert sorted(out.output.split()) == ["data.json", "notes.md"]


def test_command_skips_when_no_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    marker = tmp_path / "ran"
    argv = [PY, "-c", f"open({str(marker)!r}, 'w').close()"]
    comp = _component(_entry(name="s", command=argv, files=r"\.py$"), tmp_path)
    out = _call(comp, _ctx(tmp_path, ("a.txt",)), None)
    assert isinstance(out, Success) and isinstance(out.unwrap(), Skip)
    assert not marker.exists()
    # always_run runs it anyway, without file names
    comp = _component(_entry(name="s2", command=argv, files=r"\.py$", always_run=True), tmp_path)
    out = _call(comp, _ctx(tmp_path, ()), None)
    assert isinstance(out, Success) and isinstance(out.unwrap(), CommandOutput)
    assert marker.exists()


def test_pass_filenames_false(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    comp = _component(_entry(name="n", command=_lister(tmp_path), pass_filenames=False), tmp_path)
    out = _call(comp, _ctx(tmp_path, ("a.py",)), None).unwrap()
    assert out.output.strip() == ""


def test_env_is_passed(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    argv = [PY, "-c", "import os; print(os.environ['OMNI_T'])"]
    comp = _component(_entry(name="e", command=argv, env={"OMNI_T": "hello"}), tmp_path)
    assert _call(comp, _ctx(tmp_path, ("a.py",)), None).unwrap().output.strip() == "hello"


def test_nonzero_exit_is_failed_with_output(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    argv = [PY, "-c", "import sys; print('problem in', sys.argv[1]); sys.stderr.write('on stderr\\n'); sys.exit(3)"]
    comp = _component(_entry(name="f", command=argv), tmp_path)
    out = _call(comp, _ctx(tmp_path, ("a.py",)), None)
    assert isinstance(out, Failure)
    err = out.failure()
    assert isinstance(err, Failed)
    assert "problem in a.py" in err.message
    assert "on stderr" in err.message
    assert err.data["exit_code"] == 3


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    pidfile = tmp_path / "child.pid"
    # a shell that starts a grandchild sleeping, records its pid, then waits
    script = f"sleep 5 & echo $! > {pidfile}; wait"
    comp = _component(_entry(name="slow", command=["sh", "-c", script], timeout=0.3, pass_filenames=False, always_run=True), tmp_path)
    started = time.monotonic()
    out = _call(comp, _ctx(tmp_path, ()), None)
    assert time.monotonic() - started < 4.5  # did not wait for the sleep
    assert isinstance(out, Failure)
    assert isinstance(out.failure(), TimedOut)
    assert out.failure().seconds == pytest.approx(0.3)
    grandchild = int(pidfile.read_text())
    for _ in range(200):  # the kill is synchronous for the leader; give the grandchild's reaper a moment
        if not alive(grandchild):
            break
        time.sleep(0.02)
    assert not alive(grandchild)


def test_run_command_timeout_direct(tmp_path: Path) -> None:
    out = run_command(["sleep", "5"], cwd=str(tmp_path), timeout=0.3)
    assert isinstance(out, Failure) and isinstance(out.failure(), TimedOut)


def test_cpu_limit_is_resource_exceeded(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    argv = [PY, "-c", "while True: pass"]
    comp = _component(_entry(name="spin", command=argv, limits={"cpu_seconds": 1}, timeout=30), tmp_path)
    out = _call(comp, _ctx(tmp_path, ("a.py",)), None)
    assert isinstance(out, Failure)
    assert isinstance(out.failure(), ResourceExceeded) and out.failure().resource == "cpu"


def test_run_command_missing_executable_is_failed(tmp_path: Path) -> None:
    out = run_command([str(tmp_path / "nothing")], cwd=str(tmp_path))
    assert isinstance(out, Failure) and isinstance(out.failure(), Failed)


def test_batching_runs_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_command, "MAX_ARGV", 2_000)
    names = [f"file_{i:04d}_{'x' * 20}.txt" for i in range(300)]
    for n in names:
        (tmp_path / n).write_text("")
    log = tmp_path / "calls.log"
    argv = [PY, "-c", f"import sys; open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')"]
    comp = _component(_entry(name="batch", command=argv, files=r"\.txt$"), tmp_path)
    out = _call(comp, _ctx(tmp_path, tuple(names)), None)
    assert isinstance(out, Success)
    assert out.unwrap().files == 300
    calls = log.read_text().splitlines()
    assert len(calls) > 1  # it had to batch
    seen = [name for call in calls for name in call.split()]
    assert seen == names  # every file, once, in order
    base = sum(len(a) + 1 for a in argv)
    for call in calls:
        assert base + sum(len(n) + 1 for n in call.split()) <= 2_000


def test_batching_with_real_limit(tmp_path: Path) -> None:
    names = [f"d/{'n' * 100}_{i:05d}.txt" for i in range(2_500)]  # ~270 kB of names
    (tmp_path / "d").mkdir()
    for n in names:
        (tmp_path / n).write_text("")
    counter = tmp_path / "count.log"
    argv = [PY, "-c", f"import sys; open({str(counter)!r}, 'a').write(str(len(sys.argv) - 1) + '\\n')"]
    comp = _component(_entry(name="big", command=argv), tmp_path)
    out = _call(comp, _ctx(tmp_path, tuple(names)), None)
    assert isinstance(out, Success)
    counts = [int(x) for x in counter.read_text().split()]
    assert len(counts) >= 3 and sum(counts) == len(names)


def test_batches_helper_never_empty_and_no_item_lost() -> None:
    assert _command._batches(["x"], []) == [[]]
    huge = "y" * (_command.MAX_ARGV + 10)
    assert _command._batches(["x"], [huge, "a"]) == [[huge], ["a"]]


def test_output_failure_in_one_batch_fails_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_command, "MAX_ARGV", 300)
    names = [f"f{i:03d}.txt" for i in range(60)]
    for n in names:
        (tmp_path / n).write_text("")
    argv = [PY, "-c", "import sys; sys.exit(4 if 'f059.txt' in sys.argv else 0)"]
    comp = _component(_entry(name="bf", command=argv), tmp_path)
    out = _call(comp, _ctx(tmp_path, tuple(names)), None)
    assert isinstance(out, Failure) and out.failure().data["exit_code"] == 4
