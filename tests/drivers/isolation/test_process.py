"""The process performer with real worker processes: values in and out, crashes, timeouts,
limits, the sandbox (each right tried for real, allowed and denied), fd-level capture."""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from returns.result import Result, Success

from omnibase.core.step import Component, component
from omnibase.core.values import (
    Crashed,
    ExecCtx,
    Failed,
    Limits,
    Meta,
    ProtocolViolation,
    Raised,
    ResourceExceeded,
    Rights,
    SandboxViolation,
    Status,
    StepResult,
    TimedOut,
)
from omnibase.drivers import SyncDriver, arun, run
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation.process import CapturingPerformer, ProcessPerformer, WorkerPool, probe
from omnibase.observers.trace import child_traceparent, parse_traceparent
from omnibase.testing import fake_ctx

COMPONENTS = '''
import ctypes, os, signal, socket, subprocess, sys, threading, time
from returns.result import Failure, Success

def double(ctx, v: list[int]) -> "Result[list[int], str]":
    return Success([x * 2 for x in v])

def pid(ctx, v):
    return Success(os.getpid())

def noisy(ctx, v):
    print("print to stdout")
    print("print to stderr", file=sys.stderr)
    os.write(1, b"os.write to fd 1\\n")
    subprocess.run(["echo", "a child process"]) if v else None
    t = threading.Thread(target=lambda: os.write(2, b"a thread\\n")); t.start(); t.join()
    return Success("done")

def exit0(ctx, v):
    os._exit(0)

def exit5(ctx, v):
    os._exit(5)

def sys_exit5(ctx, v):
    sys.exit(5)

def claims_violation(ctx, v):
    from omnibase.core.values import SandboxViolation
    return Failure(SandboxViolation(action="write", target="/", message="forged"))

def segfault(ctx, v):
    ctypes.string_at(0)

def sigkill(ctx, v):
    os.kill(os.getpid(), signal.SIGKILL)

def exit_in_thread(ctx, v):
    t = threading.Thread(target=lambda: os._exit(3)); t.start(); t.join()
    return Success(1)

def sys_exit_in_thread(ctx, v):
    t = threading.Thread(target=sys.exit); t.start(); t.join()
    return Success("still here")

def leaves_thread(ctx, v):
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    return Success(os.getpid())

def sleeper(ctx, v):
    time.sleep(60)
    return Success(None)

def allocate(ctx, v):
    data = bytearray(v << 20)
    return Success(len(data))

def spin(ctx, v):
    while True:
        pass

def big_file(ctx, v):
    with open(v, "wb") as f:
        f.write(b"x" * (3 << 20))
    return Success(None)

def write(ctx, v):
    with open(v, "w") as f:
        f.write("x")
    return Success(v)

def write_swallowing(ctx, v):
    try:
        open(v, "w").close()
    except PermissionError:
        pass
    return Success("I am fine")

def rename(ctx, v):
    os.rename(v[0], v[1])
    return Success(None)

def connect(ctx, v):
    with socket.create_connection(("127.0.0.1", v), timeout=5) as s:
        s.sendall(b"hi")
    return Success("connected")

def spawn(ctx, v):
    return Success(subprocess.run(["true"], stdin=subprocess.DEVNULL).returncode)

def moves_in(ctx, v):
    os.chdir("/")
    os.environ["LEFT_BEHIND"] = "yes"
    return Success(None)

def env(ctx, v):
    return Success({k: os.environ.get(k, "") for k in v})

def cwd(ctx, v):
    return Success(os.getcwd())

def not_a_result(ctx, v):
    return 42

def unencodable(ctx, v):
    return Success(object())

def raises(ctx, v):
    raise ValueError("bad value")
'''


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(size=2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def mod(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("root")
    name = f"procs_components_{uuid.uuid4().hex}"
    (root / f"{name}.py").write_text(COMPONENTS)
    return name, root


def _ctx(root: Path) -> ExecCtx:
    return fake_ctx(root=str(root))


def _comp(mod: tuple[str, Path], fn: str, **meta: Any) -> Component[Any, Any]:
    def unused(ctx: ExecCtx, value: object) -> object:
        raise AssertionError("must run in a worker")

    return Component(unused, Meta(name=fn, isolation="process", ref=f"{mod[0]}:{fn}", **meta))


def _step(mod: tuple[str, Path], pool: WorkerPool, fn: str, value: object = None, **meta: Any) -> tuple[StepResult, int]:
    report = run(_comp(mod, fn, **meta), value, _ctx(mod[1]), ProcessPerformer(SyncDriver(), pool=pool))
    return report.steps[0], report.exit_code


def test_values_cross_and_workers_are_reused(mod, pool):
    step, code = _step(mod, pool, "double", (1, 2, 3))
    assert code == 0 and step.value == [2, 4, 6]
    first, _ = _step(mod, pool, "pid")
    again, _ = _step(mod, pool, "pid")
    assert first.value == again.value != os.getpid()


def test_everything_a_component_prints_is_captured(mod, pool, capfd):
    step, code = _step(mod, pool, "noisy", True)
    assert code == 0 and step.value == "done"
    for text in ("print to stdout", "print to stderr", "os.write to fd 1", "a child process", "a thread"):
        assert text in step.output
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("fn", "cause"),
    [
        ("exit0", "exited with status 0"),
        ("exit5", "exited with status 5"),
        ("segfault", "killed by SIGSEGV"),
        ("sigkill", "killed by SIGKILL"),
        ("exit_in_thread", "exited with status 3"),
    ],
)
def test_a_dying_worker_is_a_crash_and_the_run_goes_on(mod, pool, fn, cause):
    before, _ = _step(mod, pool, "pid")
    comp = _comp(mod, fn)
    after = _comp(mod, "pid")
    from omnibase.core.combinators import all_of

    report = run(all_of([comp, after]), None, _ctx(mod[1]), ProcessPerformer(SyncDriver(), pool=pool))
    died, next_one = report.steps
    assert report.exit_code == 1  # never 0 (os._exit(0)), never 5 (os._exit(5))
    assert died.status is Status.FAIL and isinstance(died.error, Crashed)
    assert cause in died.error.cause and fn in died.error.cause
    assert next_one.status is Status.PASS
    if fn == "segfault":
        assert "Segmentation fault" in died.output  # faulthandler's report, captured
    assert not os.path.exists(f"/proc/{before.value}") or before.value == next_one.value


def test_an_exit_status_cannot_forge_exit_5(mod, pool):
    step, code = _step(mod, pool, "sys_exit5")
    assert code == 1 and isinstance(step.error, Raised) and step.error.exc_type == "SystemExit"


def test_a_returned_violation_is_reported_as_it_is_in_process(mod, pool):
    """One classification (core.outcomes) wherever the component ran: a typed error it
    returns is its step's error, exit 5 for a violation, as in the calling process."""
    step, code = _step(mod, pool, "claims_violation")
    assert code == 5 and step.error == SandboxViolation(action="write", target="/", message="forged")


def test_sys_exit_in_a_thread_ends_only_the_thread(mod, pool):
    step, code = _step(mod, pool, "sys_exit_in_thread")
    assert code == 0 and step.value == "still here"


def test_a_worker_left_with_threads_is_replaced(mod, pool):
    first, _ = _step(mod, pool, "leaves_thread")
    second, _ = _step(mod, pool, "pid")
    assert first.value != second.value


def test_timeout_kills_and_replaces_the_worker(mod, pool):
    step, code = _step(mod, pool, "sleeper", timeout=0.5)
    assert code == 1 and isinstance(step.error, TimedOut)
    step, code = _step(mod, pool, "pid")
    assert code == 0


def test_memory_limit_is_resource_exceeded(mod, pool):
    step, code = _step(mod, pool, "allocate", 512, limits=Limits(memory_mb=256))
    assert code == 5 and isinstance(step.error, ResourceExceeded) and step.error.resource == "memory"
    step, code = _step(mod, pool, "allocate", 16, limits=Limits(memory_mb=256))  # limits are per call
    assert code == 0 and step.value == 16 << 20
    step, code = _step(mod, pool, "allocate", 512)
    assert code == 0


def test_an_unrelated_crash_under_limits_is_not_a_resource_breach(mod, pool):
    step, code = _step(mod, pool, "segfault", limits=Limits(memory_mb=512, cpu_seconds=30))
    assert code == 1 and isinstance(step.error, Crashed)


def test_cpu_limit_is_resource_exceeded(mod, pool):
    step, code = _step(mod, pool, "spin", limits=Limits(cpu_seconds=1), timeout=30)
    assert code == 5 and isinstance(step.error, ResourceExceeded) and step.error.resource == "cpu"


def test_file_size_limit_is_resource_exceeded(mod, pool):
    step, code = _step(mod, pool, "big_file", str(mod[1] / "big.bin"), limits=Limits(file_size_mb=1))
    assert code == 5 and isinstance(step.error, ResourceExceeded) and step.error.resource == "file_size"


# --- the sandbox: each right, denied and allowed, by a real attempt ----------------------------


def test_writes_outside_the_allowed_paths_are_refused(mod, pool, tmp_path):
    outside = tmp_path / "outside.txt"
    step, code = _step(mod, pool, "write", str(outside), sandbox=Rights())
    assert code == 5 and isinstance(step.error, SandboxViolation)
    assert step.error.action == "write" and step.error.target == str(outside)
    assert not outside.exists()
    inside = mod[1] / "inside.txt"
    step, code = _step(mod, pool, "write", str(inside), sandbox=Rights())
    assert code == 0 and inside.read_text() == "x"
    step, code = _step(mod, pool, "write", str(outside), sandbox=Rights(write=(str(tmp_path),)))
    assert code == 0 and outside.read_text() == "x"


def test_a_refusal_the_component_swallows_still_counts(mod, pool, tmp_path):
    step, code = _step(mod, pool, "write_swallowing", str(tmp_path / "x"), sandbox=Rights())
    assert code == 5 and isinstance(step.error, SandboxViolation)


def test_a_symlink_out_of_the_repository_is_outside(mod, pool, tmp_path):
    link = mod[1] / f"link-{uuid.uuid4().hex}"
    link.symlink_to(tmp_path)
    step, code = _step(mod, pool, "write", str(link / "through.txt"), sandbox=Rights())
    assert code == 5 and not (tmp_path / "through.txt").exists()


def test_renames_out_of_the_repository_are_refused(mod, pool, tmp_path):
    src = mod[1] / "to-move.txt"
    src.write_text("x")
    step, code = _step(mod, pool, "rename", (str(src), str(tmp_path / "moved.txt")), sandbox=Rights())
    assert code == 5 and src.exists()


@pytest.fixture
def server() -> Iterator[tuple[int, queue.Queue[bytes]]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    got: queue.Queue[bytes] = queue.Queue()  # the test waits for what arrives (a loaded machine is slow)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                got.put(conn.recv(16))

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], got
    listener.close()


def test_network_needs_the_right(mod, pool, server):
    port, got = server
    step, code = _step(mod, pool, "connect", port, sandbox=Rights())
    assert code == 5 and isinstance(step.error, SandboxViolation) and step.error.action == "network"
    step, code = _step(mod, pool, "connect", port, sandbox=Rights(network=True))
    assert code == 0 and step.value == "connected"
    assert got.get(timeout=30) == b"hi" and got.empty()  # the refused attempt sent nothing


def test_processes_need_the_right(mod, pool):
    step, code = _step(mod, pool, "spawn", sandbox=Rights())
    assert code == 5 and isinstance(step.error, SandboxViolation) and step.error.action == "process"
    step, code = _step(mod, pool, "spawn", sandbox=Rights(processes=True))
    assert code == 0 and step.value == 0


def test_no_sandbox_means_unrestricted(mod, pool, tmp_path):
    step, code = _step(mod, pool, "write", str(tmp_path / "free.txt"))
    assert code == 0


# --- the boundary: values, environment, trace context --------------------------------------------


def test_protocol_at_the_boundary(mod, pool):
    step, code = _step(mod, pool, "not_a_result")
    assert code == 4 and isinstance(step.error, ProtocolViolation)
    step, code = _step(mod, pool, "unencodable")
    assert code == 4 and "cannot leave its worker" in step.error.message
    step, code = _step(mod, pool, "pid", object())
    assert code == 4 and isinstance(step.error, ProtocolViolation) and "cannot be sent" in step.error.message
    step, code = _step(mod, pool, "raises")
    assert code == 1 and isinstance(step.error, Raised) and step.error.exc_type == "ValueError"
    assert "bad value" in step.error.traceback


def test_declared_output_type_is_checked_in_the_parent(mod, pool):
    @component
    def typed(ctx: ExecCtx, v: object) -> Result[int, str]:
        return Success(1)

    meta = Meta(name="typed", isolation="process", ref=f"{mod[0]}:pid", output_type="str")
    liar = Component(typed.fn, meta, in_type=object, out_type=str)
    report = run(liar, None, _ctx(mod[1]), ProcessPerformer(SyncDriver(), pool=pool))
    assert report.exit_code == 4 and isinstance(report.steps[0].error, ProtocolViolation)


def test_environment_is_scrubbed_and_traceparent_is_a_child(mod, monkeypatch):
    monkeypatch.setenv("OMNIBASE_TEST_API_TOKEN", "s3cret")
    monkeypatch.setenv("LC_PROCS_TEST", "kept")
    fresh = WorkerPool(size=1)
    try:
        names = ("OMNIBASE_TEST_API_TOKEN", "LC_PROCS_TEST", "TRACEPARENT")
        step, _ = _step(mod, fresh, "env", names)
    finally:
        fresh.close()
    assert step.value["OMNIBASE_TEST_API_TOKEN"] == "" and step.value["LC_PROCS_TEST"] == "kept"
    assert step.value["TRACEPARENT"] == child_traceparent(fake_ctx().trace_id, step.span_id)
    assert parse_traceparent(step.value["TRACEPARENT"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", step.span_id)


def test_workers_run_in_the_repository_root(mod, pool):
    step, _ = _step(mod, pool, "cwd")
    assert step.value == str(mod[1])


def test_a_call_cannot_change_the_next_ones_process_state(mod):
    own = WorkerPool(size=1)
    try:
        _step(mod, own, "moves_in")
        where, _ = _step(mod, own, "cwd")
        env, _ = _step(mod, own, "env", ("LEFT_BEHIND",))
        assert own.started == 1 and where.value == str(mod[1]) and env.value == {"LEFT_BEHIND": ""}
    finally:
        own.close()


def test_components_defined_in_a_function_are_refused_clearly(pool, tmp_path):
    def local(ctx: ExecCtx, v: object) -> Result[int, str]:
        return Success(1)

    comp = Component(local, Meta(name="local", isolation="process"))
    report = run(comp, None, _ctx(tmp_path), ProcessPerformer(SyncDriver(), pool=pool))
    assert report.exit_code == 2 and "define it at module level" in report.steps[0].error.message


def test_a_worker_that_cannot_start_is_a_typed_failure(mod, pool, tmp_path):
    ctx = fake_ctx(root=str(tmp_path / "missing"))
    report = run(_comp(mod, "pid"), None, ctx, ProcessPerformer(SyncDriver(), pool=pool))
    assert report.exit_code == 1 and "cannot start a worker process" in report.steps[0].error.cause


def test_probe_imports_in_a_worker(mod, pool):
    assert probe(f"{mod[0]}:pid", str(mod[1]), pool, timeout=10.0) == ""
    assert "no attribute" in probe(f"{mod[0]}:missing", str(mod[1]), pool, timeout=10.0)
    assert "cannot import" in probe("no_such_module_here:f", str(mod[1]), pool, timeout=10.0)


# --- in-process capture and the async path --------------------------------------------------------


@component
def prints_inline(ctx: ExecCtx, v: object) -> Result[str, str]:
    print("inline print", flush=True)
    os.write(1, b"inline fd write\n")
    os.write(2, b"inline stderr\n")
    return Success("ok")


def test_in_process_calls_are_captured_at_the_fd_level(capfd, tmp_path):
    report = run(prints_inline, None, _ctx(tmp_path), CapturingPerformer(SyncDriver()))
    step = report.steps[0]
    assert "inline print" in step.output and "inline fd write" in step.output and "inline stderr" in step.output
    assert capfd.readouterr() == ("", "")
    os.write(1, b"after\n")  # the descriptors are restored
    assert capfd.readouterr().out == "after\n"


def test_the_library_default_does_not_capture(capfd, tmp_path):
    report = run(prints_inline, None, _ctx(tmp_path))
    assert report.steps[0].output == "" and "inline fd write" in capfd.readouterr().out


def test_async_performer_runs_workers_and_captures(mod, pool, capfd):
    from omnibase.core.combinators import all_of

    step = all_of([_comp(mod, "double"), _comp(mod, "noisy"), prints_inline])
    performer = ProcessPerformer(AsyncDriver(), pool=pool, capture=True)
    report = asyncio.run(arun(step, [1], _ctx(mod[1]), performer, jobs=4))
    assert report.exit_code == 0, report
    assert [s.value for s in report.steps] == [[2], "done", "ok"]
    assert "os.write to fd 1" in report.steps[1].output and "inline fd write" in report.steps[2].output
    assert capfd.readouterr() == ("", "")


# --- the CI stage's default timeout ---------------------------------------------------------------


def test_ci_gives_every_component_a_default_timeout(tmp_path):
    from omnibase.orchestrators import CIOrchestrator
    from omnibase.orchestrators.stages import CI_DEFAULT_TIMEOUT

    limits: dict[str, float | None] = {}

    class Recording(SyncDriver):
        def invoke(self, intent: Any) -> Any:
            limits[intent.component.name] = intent.limit
            return super().invoke(intent)

    def ok(ctx: ExecCtx, v: object) -> Result[int, str]:
        return Success(1)

    plain, own = component(ok, name="plain"), component(ok, name="own", timeout=5.0)
    report = CIOrchestrator([plain, own], driver=Recording()).run(_ctx(tmp_path))
    assert report.exit_code == 0
    assert limits == {"plain": CI_DEFAULT_TIMEOUT, "own": 5.0}


def test_a_cancelled_async_call_kills_its_worker(mod):
    comp = _comp(mod, "sleeper")
    own = WorkerPool(size=1)
    performer = ProcessPerformer(AsyncDriver(), pool=own)

    async def main() -> None:
        from omnibase.core.intents import Invoke

        task = asyncio.ensure_future(performer.aperform(Invoke(comp, _ctx(mod[1]), None)))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
        step, code = _step(mod, own, "pid")  # the slot was freed: a fresh worker answers
        assert code == 0 and own.started == 2
    finally:
        own.close()


# --- equivalence: a pipeline gives the same report in process and in workers ---------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.drivers._trees import EQUIV, build, expected, outcome, plain, trees  # noqa: E402

@pytest.fixture(scope="module")
def equiv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    import importlib
    import sys

    root = tmp_path_factory.mktemp("equiv")
    name = f"procs_equiv_{uuid.uuid4().hex}"
    (root / f"{name}.py").write_text(EQUIV)
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name), root
    finally:
        sys.path.remove(str(root))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees(), value=st.integers(-5, 5))
def test_process_reports_equal_in_process_reports(equiv, pool, tree, value):
    module, root = equiv
    ctx = _ctx(root)
    inline = run(build(tree, module, False), value, ctx, SyncDriver())
    isolated = run(build(tree, module, True), value, ctx, ProcessPerformer(SyncDriver(), pool=pool))
    assert outcome(isolated) == expected(tree, value)  # an independent model: tests/drivers/_trees.py
    assert plain(isolated) == plain(inline)  # and every other field alike


def test_a_worker_confined_by_the_kernel_only_gets_calls_with_its_rights(mod, tmp_path):
    """A Landlock ruleset cannot be lifted: calls with other rights must go to other
    workers, and the wider rights must still work after the narrower ones confined one."""
    from omnibase.drivers.isolation import landlock

    pool = WorkerPool(size=1)  # one slot: the same worker would be reused if the pool allowed it
    try:
        narrow, wide = Rights(), Rights(write=(".", str(tmp_path)))
        first, code = _step(mod, pool, "write", str(tmp_path / "narrow.txt"), sandbox=narrow)
        assert code == 5 and isinstance(first.error, SandboxViolation)
        for i in range(2):  # each way, twice: a confined worker kept aside, another one made
            step, code = _step(mod, pool, "write", str(tmp_path / f"wide{i}.txt"), sandbox=wide)
            assert code == 0, step.error
            step, code = _step(mod, pool, "write", str(tmp_path / f"narrow{i}.txt"), sandbox=narrow)
            assert code == 5
        assert sorted(p.name for p in tmp_path.iterdir()) == ["wide0.txt", "wide1.txt"]
        assert pool.started == (2 if landlock.abi() >= 1 else 1)
    finally:
        pool.close()
