"""Command components as real processes: trees killed on timeout, limits, environment,
network, the asyncio variant, trace context."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from returns.result import Failure, Success

from omnibase.drivers.isolation import spawn as _proc
from omnibase.core.step import Component
from omnibase.core.values import Crashed, ExecCtx, Failed, Limits, ResourceExceeded, TimedOut
from omnibase.drivers import SyncDriver, arun, run
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation.process import ProcessPerformer
from omnibase.observers.trace import parse_traceparent
from omnibase.registry import Entry, resolve
from omnibase.testing import fake_ctx
from tests.support import alive

PY = sys.executable
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"  # fake_ctx's trace id

# A tree of 150 descendants: 10 children, each with 14 grandchildren; a third ignore SIGTERM,
# some leave the process group (setsid), some are orphaned on purpose (double fork).
TREE = textwrap.dedent(
    """
    import os, signal, sys, time
    pids = sys.argv[1]
    def note():
        fd = os.open(pids, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{os.getpid()}\\n".encode())
        os.close(fd)
    def live(i):
        if i % 3 == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if i % 5 == 0:
            os.setsid()
        note()
        while True:
            time.sleep(1)
    for c in range(10):
        if os.fork() == 0:
            for g in range(14):
                if os.fork() == 0:
                    if g % 4 == 0 and os.fork() != 0:
                        os._exit(0)  # the grandchild's child is orphaned
                    live(c * 14 + g)
            live(c)
    while True:
        time.sleep(1)
    """
)


def _dies(pid: int) -> bool:
    """Whether ``pid`` is gone within a few seconds (SIGKILL is delivered, not instant)."""
    deadline = time.monotonic() + 5
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_timed_out_tree_of_150_is_killed_and_reaped(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    # In a process of its own, as the CLI does: a subreaper that runs the command.
    driver = textwrap.dedent(
        f"""
        import sys, time
        from omnibase.drivers.isolation import spawn as _proc
        _proc.adopt_orphans()
        out = _proc.run_command([{PY!r}, {str(script)!r}, {str(pids)!r}], cwd={str(tmp_path)!r}, timeout=4)
        print(type(out.failure()).__name__)
        """
    )
    done = subprocess.run([PY, "-c", driver], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "TimedOut", done
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 150
    assert [p for p in started if not _dies(p)] == []


def test_a_command_that_ends_takes_its_group_with_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "bg.pid"
    out = _proc.run_command(["sh", "-c", f"sleep 60 & echo $! > {pidfile}"], cwd=str(tmp_path), timeout=30)
    assert out == Success((0, ""))
    assert _dies(int(pidfile.read_text()))


def test_output_is_bounded_to_its_tail(tmp_path: Path) -> None:
    out = _proc.run_command([PY, "-c", "print('a' * (2 * 1024 * 1024 + 1000) + 'END')"], cwd=str(tmp_path))
    code, text = out.unwrap()
    assert code == 0 and len(text) == _proc.MAX_OUTPUT and text.endswith("END\n") and text.startswith("a")


# --- limits ---------------------------------------------------------------------------------------


def test_memory_limit_is_recognised(tmp_path: Path) -> None:
    out = _proc.run_command([PY, "-c", "x = bytearray(1 << 30)"], cwd=str(tmp_path), limits=Limits(memory_mb=200))
    assert isinstance(out, Failure) and isinstance(out.failure(), ResourceExceeded)
    assert out.failure().resource == "memory" and out.failure().limit == 200


def test_memory_limit_by_high_water_rss(tmp_path: Path) -> None:
    # Writes memory megabyte by megabyte (touched, so resident) until the allocator fails,
    # then dies without a word. On
    # Linux a child's peak RSS starts from its parent's at the fork, so the command is run
    # from a small process, as the CLI is (this test process has grown large by now).
    prog = "import os\nb = []\ntry:\n    while True: b.append(b'\\x01' * (1 << 20))\nexcept MemoryError:\n    b = None\n    os._exit(3)\n"
    driver = (
        "import sys\nfrom omnibase.drivers.isolation import spawn as _proc\nfrom omnibase.core.values import Limits\n"
        "out = _proc.run_command([sys.executable, '-c', sys.argv[1]], cwd=sys.argv[2], limits=Limits(memory_mb=200))\n"
        "print(type(out.failure()).__name__ if hasattr(out, 'failure') else 'ok')\n"
    )
    done = subprocess.run([PY, "-c", driver, prog, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ResourceExceeded", done


def test_an_unrelated_crash_under_limits_is_a_crash(tmp_path: Path) -> None:
    prog = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    out = _proc.run_command([PY, "-c", prog], cwd=str(tmp_path), limits=Limits(memory_mb=400, cpu_seconds=30))
    assert isinstance(out, Failure) and isinstance(out.failure(), Crashed)
    assert "SIGSEGV" in out.failure().cause
    out = _proc.run_command([PY, "-c", "raise SystemExit(1)"], cwd=str(tmp_path), limits=Limits(memory_mb=400))
    assert out == Success((1, ""))


def test_cpu_limit(tmp_path: Path) -> None:
    out = _proc.run_command([PY, "-c", "while True: pass"], cwd=str(tmp_path), limits=Limits(cpu_seconds=1), timeout=30)
    assert isinstance(out, Failure) and out.failure() == ResourceExceeded(
        resource="cpu", limit=1, message="used its 1 s of CPU time"
    )


def test_file_size_limit(tmp_path: Path) -> None:
    argv = ["dd", "if=/dev/zero", f"of={tmp_path / 'big'}", "bs=1M", "count=3"]
    out = _proc.run_command(argv, cwd=str(tmp_path), limits=Limits(file_size_mb=1))
    assert isinstance(out, Failure) and out.failure().resource == "file_size"
    shell = _proc.run_command(["sh", "-c", " ".join(argv)], cwd=str(tmp_path), limits=Limits(file_size_mb=1))
    assert isinstance(shell, Failure) and shell.failure().resource == "file_size"


def test_limits_must_be_positive() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"memory_mb": 0}, Limits)


# --- environment, working directory, network -------------------------------------------------------


def _entry(**fields: Any) -> Entry:
    fields.setdefault("always_run", True)
    fields.setdefault("pass_filenames", False)
    return msgspec.convert(fields, Entry)


def _run(entry: Entry, root: Path, performer: Any = None) -> Any:
    comp = resolve(entry, root=str(root)).unwrap()
    ctx = fake_ctx(root=str(root))
    return run(comp, None, ctx, performer or ProcessPerformer(SyncDriver()))


def test_environment_is_an_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("PROCS_PASSED_SECRET", "given")
    monkeypatch.setenv("UNLISTED_VARIABLE", "nope")
    prog = "import json, os; print(json.dumps(dict(os.environ)))"
    entry = _entry(name="env", command=[PY, "-c", prog], env={"CONST": "1"}, pass_env=["PROCS_PASSED_SECRET"])
    report = _run(entry, tmp_path)
    seen = json.loads(report.steps[0].value.output)
    assert "GITHUB_TOKEN" not in seen and "UNLISTED_VARIABLE" not in seen
    # passed on (the key is there), and redacted where the report quotes the output
    assert seen["PROCS_PASSED_SECRET"] == "[redacted]" and seen["CONST"] == "1" and seen["PATH"]
    assert parse_traceparent(seen["TRACEPARENT"]) == (TRACE, report.steps[0].span_id)


def test_commands_run_in_the_repository_root(tmp_path: Path) -> None:
    report = _run(_entry(name="pwd", command=[PY, "-c", "import os; print(os.getcwd())"]), tmp_path)
    assert report.steps[0].value.output.strip() == str(tmp_path)


@pytest.mark.skipif(not _proc.network_isolation(), reason="no network namespaces here (needs Linux and root)")
def test_commands_have_no_network_unless_granted(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    got: list[bool] = []

    def accept() -> None:
        try:
            listener.accept()[0].close()
            got.append(True)
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    prog = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')"
    try:
        denied = _run(_entry(name="net", command=[PY, "-c", prog]), tmp_path)
        refused = denied.steps[0].error.message  # Landlock refuses the connect, else the empty namespace has no route
        assert denied.exit_code == 1 and ("unreachable" in refused or "Permission denied" in refused)
        allowed = _run(_entry(name="net", command=[PY, "-c", prog], sandbox={"network": True}), tmp_path)
        assert allowed.exit_code == 0 and allowed.steps[0].value.output.strip() == "connected"
        time.sleep(0.1)
        assert got == [True]
    finally:
        listener.close()


def test_the_step_timeout_stops_the_command(tmp_path: Path) -> None:
    comp = resolve(_entry(name="slow", command=["sleep", "30"]), root=str(tmp_path)).unwrap()
    limited = Component(comp.fn, msgspec.structs.replace(comp.meta, timeout=0.5))
    t0 = time.monotonic()
    report = run(limited, None, fake_ctx(root=str(tmp_path)), ProcessPerformer(SyncDriver()))
    assert report.steps[0].error == TimedOut(seconds=0.5) and time.monotonic() - t0 < 20


# --- the asyncio variant ------------------------------------------------------------------------------


def test_async_commands_run_as_asyncio_subprocesses(tmp_path: Path) -> None:
    comps = [
        resolve(_entry(name=f"c{i}", command=[PY, "-c", f"print({i})"]), root=str(tmp_path)).unwrap() for i in range(3)
    ]
    from omnibase.core.combinators import all_of

    ctx = fake_ctx(root=str(tmp_path))
    report = asyncio.run(arun(all_of(comps), None, ctx, AsyncDriver(), jobs=3))
    assert [s.value.output.strip() for s in report.steps] == ["0", "1", "2"]
    report = asyncio.run(arun(all_of(comps), None, ctx, ProcessPerformer(AsyncDriver()), jobs=3))
    assert report.exit_code == 0


def test_async_timeout_and_cancellation_kill_the_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    argv = ["sh", "-c", f"trap '' TERM; sleep 60 & echo $! > {pidfile}; wait"]

    async def main() -> Any:
        timed = await _proc.arun_command(argv, cwd=str(tmp_path), timeout=1)
        first = int(pidfile.read_text())
        task = asyncio.ensure_future(_proc.arun_command(argv, cwd=str(tmp_path)))
        while not pidfile.exists() or int(pidfile.read_text() or first) == first:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return timed, first, int(pidfile.read_text())

    timed, first, second = asyncio.run(main())
    assert timed == Failure(TimedOut(seconds=1))
    assert _dies(first) and _dies(second)


def test_async_failure_classification(tmp_path: Path) -> None:
    out = asyncio.run(_proc.arun_command([PY, "-c", "x = bytearray(1 << 30)"], cwd=str(tmp_path), limits=Limits(memory_mb=200)))
    assert isinstance(out, Failure) and out.failure().resource == "memory"
    out = asyncio.run(_proc.arun_command([str(tmp_path / "missing")], cwd=str(tmp_path)))
    assert isinstance(out, Failure) and isinstance(out.failure(), Failed)
