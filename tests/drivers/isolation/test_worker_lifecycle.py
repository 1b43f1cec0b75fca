"""The worker performer in this process, with real worker processes: how a worker is started
(its own session, scrubbed environment, the root as working directory), what a timeout
kills (the whole tree, no orphan left), how a death is reported (the signal kept, the exit
status kept), the pool's reuse, the probe's messages, and the requests and replies."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from returns.result import Success

from omnibase.core.intents import Called, InvocationTimedOut, Invoke
from omnibase.core.step import Component
from omnibase.core.values import (
    Crashed,
    ExecCtx,
    Failed,
    Limits,
    Meta,
    Misconfigured,
    ProtocolViolation,
    ResourceExceeded,
    Rights,
    Skip,
    Unresolved,
)
from omnibase.drivers import SyncDriver
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation import process as proc
from omnibase.drivers.isolation import worker as wire
from omnibase.drivers.isolation.process import ProcessPerformer, Worker, WorkerPool, call_request, called_of, probe, ref_of
from omnibase.drivers.isolation.spawn import MARKER
from omnibase.testing import fake_ctx
from tests.drivers.isolation.conftest import alive


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(size=2)
    yield p
    p.close()


def _comp(components: tuple[str, Path], fn: str, **meta: Any) -> Component[Any, Any]:
    return Component(lambda ctx, v: Success(v), Meta(name=fn, isolation="process", ref=f"{components[0]}:{fn}", **meta))


def _call(components: tuple[str, Path], pool: WorkerPool, fn: str, value: object = None, limit: float | None = None, **meta: Any) -> Called:
    performer = ProcessPerformer(SyncDriver(), pool=pool)
    return performer.isolated(Invoke(_comp(components, fn, **meta), fake_ctx(root=str(components[1])), value, limit))


def _request(components: tuple[str, Path], fn: str, value: object = None) -> bytes:
    request = call_request(Invoke(_comp(components, fn), fake_ctx(root=str(components[1])), value))
    assert isinstance(request, wire.Call)
    return msgspec.msgpack.encode(request)


def _environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [p.decode().partition("=") for p in f.read().split(b"\0") if p]
    return {k: v for k, _, v in pairs}


# --- starting a worker ------------------------------------------------------------------------------


def test_a_worker_starts_in_its_own_session_in_the_root_with_a_scrubbed_environment(components, monkeypatch):
    monkeypatch.setenv("OMNIBASE_TEST_SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    root = str(components[1])
    worker = Worker(root)
    try:
        assert worker.exchange(_request(components, "quiet"), 60)[0] == "reply"  # running: its environment is its own
        assert os.getsid(worker.pid) == worker.pid and os.getpgid(worker.pid) == worker.pid
        assert os.readlink(f"/proc/{worker.pid}/cwd") == root
        assert os.readlink(f"/proc/{worker.pid}/fd/0") == "/dev/null"
        assert os.readlink(f"/proc/{worker.pid}/fd/1") == os.readlink(f"/proc/{worker.pid}/fd/2") == "/memfd:omnibase-out (deleted)"
        env = _environ(worker.pid)
        assert "OMNIBASE_TEST_SECRET_TOKEN" not in env
        package_dir = str(Path(proc.__file__).resolve().parents[3])
        assert env["PYTHONPATH"] == f"{package_dir}:/somewhere/else"
        assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
        assert env[MARKER] == worker.token and len(worker.token) == 16 and int(worker.token, 16) >= 0
        with open(f"/proc/{worker.pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")[:4]
        assert argv == [sys.executable.encode(), b"-u", b"-m", b"omnibase.drivers.isolation.worker"]
        assert worker.root == root and worker.rights is None and worker.closed is False
        kind, got = worker.exchange(_request(components, "quiet"), 60)
        assert kind == "reply" and wire.unpack(bytes(msgspec.msgpack.decode(got, type=wire.Reply).value)) == worker.pid
    finally:
        worker.dispose()
    assert not alive(worker.pid) and worker.closed and worker.capture == -1 and worker.output() == ""


def test_a_worker_reads_no_input_even_when_this_process_has_some(components):
    # a hook run from a terminal: what the user types must not reach a component
    r, w = os.pipe()
    os.write(w, b"typed by the user\n")
    os.close(w)
    try:
        saved = os.dup(0)
    except OSError:  # fd 0 closed
        saved = -1
    os.dup2(r, 0)
    os.close(r)
    pool = WorkerPool(size=1)
    try:
        called = _call(components, pool, "reads_stdin")
    finally:
        pool.close()
        if saved < 0:
            os.close(0)
        else:
            os.dup2(saved, 0)
            os.close(saved)
    assert called.error is None and called.returned == Success("")


def test_without_pythonpath_the_worker_gets_the_package_only(components, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    worker = Worker(str(components[1]))
    try:
        assert worker.exchange(_request(components, "quiet"), 60)[0] == "reply"  # running: its environment is its own
        env = _environ(worker.pid)
        assert env.get("PYTHONPATH") == str(Path(proc.__file__).resolve().parents[3]), env
    finally:
        worker.dispose()


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_worker_that_cannot_start_leaves_no_descriptor_open(tmp_path):
    before = _open_fds()
    with pytest.raises(FileNotFoundError):
        Worker(str(tmp_path / "missing"))
    assert _open_fds() == before


def test_a_disposed_worker_leaves_no_descriptor_open(components):
    before = _open_fds()
    worker = Worker(str(components[1]))
    worker.dispose()
    worker.dispose()  # twice: nothing left to do
    assert _open_fds() == before
    assert worker.proc.returncode == -signal.SIGKILL


def test_a_worker_answers_replies_larger_than_a_pipe(components, pool):
    called = _call(components, pool, "big", 3 << 20)
    assert called.returned == Success("x" * (3 << 20)) and called.error is None
    assert 0 < called.started <= called.ended


# --- timeouts: the whole tree goes ---------------------------------------------------------------------


def _pids(path: Path) -> list[int]:
    for _ in range(600):
        if path.exists():
            return [int(p) for p in path.read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the component did not start its children")


def test_a_timeout_kills_the_worker_and_every_process_it_started(components, tmp_path):
    pool = WorkerPool(size=1)
    try:
        _call(components, pool, "quiet")  # started and warm: the limit is the component's own time
        worker = pool._idle[(str(components[1]), None)][0]
        pidfile = tmp_path / "pids"
        called = _call(components, pool, "children_then_sleep", str(pidfile), limit=3.0)
        kept, away = _pids(pidfile)
        assert isinstance(called.raised, InvocationTimedOut) and called.raised.seconds == 3.0 and called.error is None
        assert called.returned is None and called.ended - called.started >= 3_000_000_000
        assert called.output == "children started\n"  # what it printed before the limit is kept
        assert worker.closed and worker.proc.returncode == -signal.SIGKILL
        for pid in (worker.pid, kept, away):  # the group's child and the one that left it
            assert not alive(pid), pid
        assert _call(components, pool, "quiet").returned != Success(worker.pid)  # a new worker
        assert pool.started == 2
    finally:
        pool.close()


def test_a_call_under_a_limit_of_a_second_that_answers_in_time_is_its_answer(components):
    pool = WorkerPool(size=1)
    try:
        pid = _call(components, pool, "quiet").returned.unwrap()  # started and warm
        called = _call(components, pool, "quiet", limit=1.0)
        assert called.returned == Success(pid) and called.raised is None and called.error is None
    finally:
        pool.close()


def test_a_timeout_in_a_worker_is_exchanged_as_such(components):
    worker = Worker(str(components[1]))
    try:
        assert worker.exchange(_request(components, "quiet"), None)[0] == "reply"
        assert worker.exchange(_request(components, "children_then_sleep", str(components[1] / "never")), 0.5) == ("timeout", None)
        assert worker.closed and not alive(worker.pid)
    finally:
        worker.dispose()


def test_a_cancelled_async_call_kills_the_worker_and_its_children(components, tmp_path):
    pool = WorkerPool(size=1)
    performer = ProcessPerformer(AsyncDriver(), pool=pool)
    pidfile = tmp_path / "pids"
    comp = _comp(components, "children_then_sleep")

    async def main() -> list[int]:
        task = asyncio.ensure_future(performer.aperform(Invoke(comp, fake_ctx(root=str(components[1])), str(pidfile))))
        pids = await asyncio.to_thread(_pids, pidfile)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool._slots.acquire(blocking=False)  # the worker was reaped and its slot freed before the call returned
        pool._slots.release()
        return pids

    try:
        pids = asyncio.run(main())
        assert not any(alive(p) for p in pids)
        assert _call(components, pool, "quiet").error is None and pool.started == 2  # the slot came back
    finally:
        pool.close()


# --- deaths: the signal or the status kept --------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV], ids=lambda s: s.name)
def test_a_worker_killed_by_a_signal_is_a_crash_that_keeps_the_signal(components, pool, sig):
    fn = "segfault" if sig == signal.SIGSEGV else "kill_self"
    called = _call(components, pool, fn, int(sig))
    hint = " (by the out-of-memory killer?)" if sig == signal.SIGKILL else ""
    assert called.error == Crashed(cause=f"the worker process running {fn} was killed by {sig.name}{hint}", signal=int(sig))
    assert called.returned is None and called.raised is None and called.started <= called.ended


@pytest.mark.parametrize("status", [0, 3, 5, 130])
def test_a_worker_that_exits_is_a_crash_that_keeps_the_status(components, pool, status):
    called = _call(components, pool, "exit_with", status)
    assert called.error == Crashed(
        cause=f"the worker process running exit_with exited with status {status} before answering", exit_status=status
    )


def test_a_worker_killed_at_its_cpu_limit_is_a_resource_breach(components, pool):
    called = _call(components, pool, "kill_self", int(signal.SIGXCPU), limits=Limits(cpu_seconds=1))
    assert called.error == ResourceExceeded(resource="cpu", limit=1, message="used its 1 s of CPU time")


def test_a_worker_found_dead_before_the_request_is_reaped_with_its_signal(components):
    worker = Worker(str(components[1]))
    try:
        os.kill(worker.pid, signal.SIGKILL)
        select.select([worker.pidfd], [], [], 60)  # it has died
        kind, (status, usage) = worker.exchange(_request(components, "quiet"), 60)
        assert kind == "died" and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert worker.proc.returncode == -signal.SIGKILL and worker.closed and usage.ru_maxrss >= 0
    finally:
        worker.dispose()


def test_an_unreadable_answer_is_a_crash_and_the_worker_is_not_reused(components):
    pool = WorkerPool(size=1)
    try:
        called = _call(components, pool, "garbage_reply")
        assert isinstance(called.error, Crashed) and called.error.cause.startswith("its worker sent an unreadable answer (")
        assert called.output == "forging a reply\n" and 0 < called.started <= called.ended and called.returned is None
        assert pool._idle == {} or all(not ws for ws in pool._idle.values())
        assert _call(components, pool, "quiet").error is None and pool.started == 2
    finally:
        pool.close()


def test_an_empty_answer_is_a_crash_at_once_not_a_wait_for_more(components):
    pool = WorkerPool(size=1)
    try:
        called = _call(components, pool, "empty_reply", limit=10.0)  # the worker then sleeps 30 s
        assert called.raised is None and isinstance(called.error, Crashed)
        assert called.error.cause.startswith("its worker sent an unreadable answer (")
        assert pool._idle == {} or all(not ws for ws in pool._idle.values())
    finally:
        pool.close()


def test_a_worker_that_closes_its_answer_pipe_is_a_crash_at_once_and_is_killed(components):
    pool = WorkerPool(size=1)
    try:
        pid = _call(components, pool, "quiet").returned.unwrap()
        called = _call(components, pool, "closes_answer_pipe", limit=10.0)  # the worker then sleeps 30 s
        assert called.raised is None and called.returned is None
        assert called.error == Crashed(
            cause="the worker process running closes_answer_pipe was killed by SIGKILL (by the out-of-memory killer?)",
            signal=int(signal.SIGKILL),
        )
        assert called.output == "closing the answer pipe\n" and not alive(pid)
        assert _call(components, pool, "quiet").returned != Success(pid) and pool.started == 2
    finally:
        pool.close()


def test_a_worker_left_with_threads_is_not_kept(components):
    pool = WorkerPool(size=1)
    try:
        first = _call(components, pool, "leaves_thread").returned.unwrap()
        assert not alive(first)
        assert _call(components, pool, "quiet").returned.unwrap() != first and pool.started == 2
        again = _call(components, pool, "quiet").returned.unwrap()
        assert _call(components, pool, "quiet").returned.unwrap() == again and pool.started == 2
    finally:
        pool.close()


def test_the_death_of_a_probe_names_its_cause():
    assert proc._death(9) == "killed by SIGKILL"  # a wait status: signal 9
    assert proc._death(3 << 8) == "exit status 3"


# --- the pool ---------------------------------------------------------------------------------------


def test_the_pool_is_as_large_as_the_cores_by_default():
    assert WorkerPool().size == (os.cpu_count() or 1) and WorkerPool(3).size == 3 and WorkerPool(0).size == (os.cpu_count() or 1)
    assert WorkerPool().started == 0


def test_idle_workers_are_kept_by_root_and_rights(components, tmp_path):
    pool = WorkerPool(size=2)
    root, other = str(components[1]), str(tmp_path)
    rights = Rights(write=("out",))
    try:
        a = pool.acquire(root)
        pool.release(a, keep=True)
        assert pool.acquire(root) is a  # reused
        b = pool.acquire(other)
        assert b is not a and pool.started == 2
        pool.release(b, keep=True)
        pool.release(a, keep=True)
        assert pool.acquire(root, rights) is a  # a worker not confined serves any rights
        a.rights = rights
        pool.release(a, keep=True)
        c = pool.acquire(root)  # one confined to rights does not serve a call without
        assert c is not a and pool.acquire(root, rights) is a and pool.started == 3
        pool.release(c, keep=False)
        assert c.closed and c.capture == -1 and not alive(c.pid)
        a.kill()
        pool.release(a, keep=True)  # dead: not kept
        assert pool._idle[(root, rights)] == [] and a.capture == -1
    finally:
        pool.close()
    assert not alive(b.pid) and b.capture == -1 and pool._idle == {}


def test_at_most_size_workers_are_busy_and_a_failed_start_frees_its_slot(components, tmp_path):
    pool = WorkerPool(size=1)
    try:
        with pytest.raises(FileNotFoundError):
            pool.acquire(str(tmp_path / "missing"))
        first = pool.acquire(str(components[1]))  # the slot was given back
        got: list[Worker] = []
        waiter = threading.Thread(target=lambda: got.append(pool.acquire(str(components[1]))), daemon=True)
        waiter.start()
        waiter.join(0.5)
        assert got == []  # waits for the busy one
        pool.release(first, keep=True)
        waiter.join(60)
        assert got == [first]
        pool.release(first, keep=True)
    finally:
        pool.close()


def test_the_shared_pool_is_one_and_closed_at_exit():
    import subprocess

    code = (
        "from omnibase.drivers.isolation.process import shared_pool\n"
        "p = shared_pool(); assert p is shared_pool()\n"
        "w = p.acquire('.'); p.release(w, keep=True); print(w.pid)\n"
    )
    pid = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert not alive(pid)


def test_closing_the_performer_closes_its_pool_and_inner(components):
    closed: list[str] = []

    class Inner(SyncDriver):
        def close(self) -> None:
            closed.append("inner")

    pool = WorkerPool(size=1)
    performer = ProcessPerformer(Inner(), pool=pool)
    pid = performer.isolated(Invoke(_comp(components, "quiet"), fake_ctx(root=str(components[1])), None)).returned.unwrap()
    performer.close()
    assert closed == ["inner"] and not alive(pid) and pool._idle == {}
    ProcessPerformer(SyncDriver(), pool=WorkerPool(size=1)).close()  # an inner without close


# --- probes -------------------------------------------------------------------------------------------


def test_probe_messages(components, pool):
    name, root = components
    assert probe(f"{name}:quiet", str(root), pool, timeout=60) == ""
    assert probe(f"{name}:missing", str(root), pool, timeout=60) == f"module '{name}' has no attribute 'missing'"
    assert probe(f"{name}_dies:f", str(root), pool, timeout=60) == f"importing '{name}_dies:f' ended its worker process (exit status 3)"
    assert probe(f"{name}_killed:f", str(root), pool, timeout=60) == f"importing '{name}_killed:f' ended its worker process (killed by SIGKILL)"
    assert probe(f"{name}_slow:f:g", str(root), pool, timeout=0.5) == (
        f"importing module '{name}_slow' did not finish within 0.5s (the resolution timeout)"
    )
    assert probe(f"{name}:quiet", str(root / "missing"), pool, timeout=60).startswith("cannot start a worker process: ")


def test_a_probe_keeps_its_worker_when_it_answered(components):
    pool = WorkerPool(size=1)
    try:
        probe(f"{components[0]}:quiet", os.path.relpath(components[1]), pool, timeout=60)  # a relative root: made absolute
        probe(f"{components[0]}:missing", str(components[1]), pool, timeout=60)
        assert pool.started == 1
        probe(f"{components[0]}_dies:f", str(components[1]), pool, timeout=60)
        probe(f"{components[0]}:quiet", str(components[1]), pool, timeout=60)
        assert pool.started == 2
    finally:
        pool.close()


def test_probe_uses_the_shared_pool_by_default(components):
    assert probe(f"{components[0]}:quiet", str(components[1]), timeout=60) == ""
    assert (str(components[1]), None) in proc.shared_pool()._idle


# --- requests: what can travel -------------------------------------------------------------------------


def test_an_async_component_is_refused_before_any_worker_starts(components, tmp_path):
    pool = WorkerPool(size=1)

    async def coro(ctx: ExecCtx, v: object) -> Any:
        return Success(v)

    comp = Component(coro, Meta(name="coro", isolation="process", ref=f"{components[0]}:coro"))
    called = ProcessPerformer(SyncDriver(), pool=pool).isolated(Invoke(comp, fake_ctx(root=str(tmp_path)), None))
    assert called.error == Misconfigured(message="coro: async components cannot run in a worker process")
    assert called.returned is None and called.raised is None and pool.started == 0
    assert type(called.started) is int and called.started == called.ended > 0


def test_a_request_that_cannot_be_made_is_its_error(components, tmp_path):
    pool = WorkerPool(size=1)
    called = _call(components, pool, "quiet", object())
    assert isinstance(called.error, ProtocolViolation) and called.error.message.startswith(
        "quiet: its input (object) cannot be sent to a worker process: "
    )
    assert pool.started == 0 and type(called.started) is int and called.started == called.ended > 0


def test_a_worker_that_cannot_start_is_a_crash(components, tmp_path):
    comp = _comp(components, "quiet")
    called = ProcessPerformer(SyncDriver(), pool=WorkerPool(size=1)).isolated(Invoke(comp, fake_ctx(root=str(tmp_path / "gone")), None))
    assert isinstance(called.error, Crashed) and called.error.cause.startswith("cannot start a worker process: [Errno 2]")
    assert called.started <= called.ended


def test_the_request_carries_the_narrowed_context_the_value_and_a_child_trace(components):
    comp = _comp(components, "quiet", sandbox=Rights(network=True), limits=Limits(cpu_seconds=2), output_type="int")
    ctx = fake_ctx(root=str(components[1]))
    request = call_request(Invoke(comp, ctx, (1, 2), span_id="00f067aa0ba902b7"))
    assert isinstance(request, wire.Call)
    assert request.ref == f"{components[0]}:quiet" and request.ctx == ctx and wire.unpack(bytes(request.value)) == (1, 2)
    assert request.sandbox == Rights(network=True) and request.limits == Limits(cpu_seconds=2)
    assert request.env == {"TRACEPARENT": f"00-{ctx.trace_id}-00f067aa0ba902b7-01"}
    assert request.name == "quiet" and request.output_type == "int" and request.state == b""
    without_span = call_request(Invoke(comp, ctx, None))
    assert isinstance(without_span, wire.Call) and len(without_span.env["TRACEPARENT"].split("-")[2]) == 16


def test_a_registry_entry_that_selects_files_sees_only_those_in_its_worker(components, pool):
    from omnibase.registry._resolve import resolve
    from omnibase.registry._schema import Entry

    name, root = components
    entry = Entry(name="py-only", python=f"{name}:files_seen", files=r"\.py$", exclude=r"^skip/")
    comp = resolve(entry, root=str(root)).unwrap()
    assert comp.meta.isolation == "process"
    ctx = fake_ctx(root=str(root), files=("a.py", "README.md", "pkg/b.py", "skip/c.py", "d.pyc"))
    called = ProcessPerformer(SyncDriver(), pool=pool).perform(Invoke(comp, ctx, None))
    assert called.error is None and called.returned == Success(["a.py", "pkg/b.py"])


def test_a_value_component_travels_as_its_class_and_fields(components, pool):
    module = __import__(components[0])
    comp = Component(module.Scale(factor=3), Meta(name="scale", isolation="process"))
    request = call_request(Invoke(comp, fake_ctx(root=str(components[1])), 2))
    assert isinstance(request, wire.Call) and request.ref == f"{components[0]}:Scale"
    assert msgspec.msgpack.decode(request.state) == {"factor": 3}
    called = ProcessPerformer(SyncDriver(), pool=pool).isolated(Invoke(comp, fake_ctx(root=str(components[1])), 2))
    assert called.returned == Success(6)


class Unsendable(msgspec.Struct, frozen=True):
    item: Any

    def __call__(self, ctx: ExecCtx, v: object) -> Any:
        return Success(v)


def test_a_value_component_whose_fields_cannot_travel_is_misconfigured(tmp_path):
    comp = Component(Unsendable(item=object()), Meta(name="unsendable", isolation="process"))
    request = call_request(Invoke(comp, fake_ctx(root=str(tmp_path)), None))
    assert isinstance(request, Misconfigured) and request.message.startswith(
        f"unsendable: its function ({__name__}:Unsendable) cannot be sent to a worker process: "
    )
    given = Component(Unsendable(item=object()), Meta(name="u", isolation="process", ref="mod:fn"))
    request = call_request(Invoke(given, fake_ctx(root=str(tmp_path)), None))
    assert isinstance(request, wire.Call) and request.ref == "mod:fn" and request.state == b""


def module_level(ctx: ExecCtx, v: object) -> Any:
    return Success(v)


def test_ref_of_names_what_a_worker_can_import_and_refuses_the_rest():
    assert ref_of(module_level) == f"{__name__}:module_level"
    assert ref_of(Unsendable(item=1)) == f"{__name__}:Unsendable"

    def local(ctx: ExecCtx, v: object) -> Any:
        return Success(v)

    fix = "cannot be imported by a worker process: define it at module level, or give Meta(ref='module:function')"
    assert ref_of(local) == Misconfigured(message=f"{__name__}:{local.__qualname__} {fix}")
    lam = lambda ctx, v: v  # noqa: E731
    assert ref_of(lam) == Misconfigured(message=f"{__name__}:{lam.__qualname__} {fix}")
    def main_fn(ctx: ExecCtx, v: object) -> Any:
        return Success(v)

    main_fn.__module__, main_fn.__qualname__ = "__main__", "f"
    assert ref_of(main_fn) == Misconfigured(message=f"__main__:f {fix}")
    no_module = type("G", (), {"__module__": None, "__call__": lambda s: None})()
    assert ref_of(no_module) == Misconfigured(message=f"{no_module!r} {fix}")
    qual_less = type("H", (), {"__module__": "pkg", "__call__": lambda s: None})()
    assert ref_of(qual_less) == "pkg:"


def test_a_component_without_a_ref_is_refused_by_the_performer(tmp_path):
    def local(ctx: ExecCtx, v: object) -> Any:
        return Success(v)

    comp = Component(local, Meta(name="local", isolation="process"))
    called = ProcessPerformer(SyncDriver(), pool=WorkerPool(size=1)).isolated(Invoke(comp, fake_ctx(root=str(tmp_path)), None))
    assert isinstance(called.error, Misconfigured) and "define it at module level" in called.error.message


# --- replies ----------------------------------------------------------------------------------------


def _reply(kind: str, value: object = None, **fields: Any) -> wire.Reply:
    raw = msgspec.Raw(wire.pack(value)) if value is not None else msgspec.Raw(b"\xc0")
    return wire.Reply(kind, value=raw, started=5, ended=9, **fields)  # type: ignore[arg-type]


def _typed(out_type: object, output_type: str) -> Component[Any, Any]:
    return Component(lambda ctx, v: Success(v), Meta(name="typed", output_type=output_type), out_type=out_type)


def test_replies_become_calls_as_in_this_process():
    comp = _typed(tuple[int, int], "tuple[int, int]")
    assert called_of(comp, _reply("success", (1, 2)), "out") == Called(Success((1, 2)), None, 5, 9, output="out")
    assert called_of(comp, _reply("skip", message="why"), "o") == Called(Success(Skip(reason="why")), None, 5, 9, output="o")
    failed = Failed(message="no", data={"at": (1, 2)})
    assert called_of(comp, _reply("typed", failed), "o") == Called(None, None, 5, 9, output="o", error=failed)
    crashed = Crashed(cause="c")
    assert called_of(comp, _reply("error", error=crashed), "o") == Called(None, None, 5, 9, output="o", error=crashed)
    assert called_of(comp, _reply("success", error=crashed), "") == Called(None, None, 5, 9, error=crashed)


def test_a_reply_of_another_type_is_a_misfit_named_in_the_parent():
    comp = _typed(list[int], "list[int]")
    called = called_of(comp, _reply("success", [1, "2"]), "o")
    assert called == Called(
        None, None, 5, 9, output="o", error=ProtocolViolation(message="typed returned list, declared list[int]: [1]: expected int, got str")
    )


def test_a_declared_type_msgspec_cannot_convert_into_takes_the_plain_value():
    comp = _typed(threading.Lock, "Lock")  # not a type msgspec supports: it raises TypeError
    assert called_of(comp, _reply("success", "/x"), "") == Called(Success("/x"), None, 5, 9)


def test_a_worker_reply_crosses_whole(components, pool):
    assert _call(components, pool, "fails").error == Failed(message="{'line': (1, 2)}", data={"line": (1, 2)})
    assert _call(components, pool, "skips").returned == Success(Skip(reason="nothing here"))
    assert _call(components, pool, "as_tuple").returned == Success((1, 2))
    unresolved = _call(components, pool, "nowhere")
    assert unresolved.error == Unresolved(name=f"{components[0]}:nowhere", message=f"module '{components[0]}' has no attribute 'nowhere'")


def test_an_exit_status_that_reports_a_limit_signal_is_that_limit(components, pool):
    """A shell reports a child killed by SIGXCPU (24) or SIGXFSZ (25) as 152 or 153: under
    the matching limit, that exit is the limit's breach; without the limit, a crash."""
    called = _call(components, pool, "exit_with", 152, limits=Limits(cpu_seconds=5))
    assert called.error == ResourceExceeded(resource="cpu", limit=5, message="used its 5 s of CPU time")
    called = _call(components, pool, "exit_with", 153, limits=Limits(file_size_mb=2))
    assert called.error == ResourceExceeded(resource="file_size", limit=2, message="wrote a file past 2 MB")
    called = _call(components, pool, "exit_with", 152)
    assert called.error == Crashed(cause="the worker process running exit_with exited with status 152 before answering", exit_status=152)


def test_an_exit_after_saying_it_ran_out_of_memory_is_a_memory_breach(components, pool):
    called = _call(components, pool, "oom_exit", None, limits=Limits(memory_mb=512))
    assert called.error == ResourceExceeded(resource="memory", limit=512, message="ran out of its 512 MB of memory")
    assert "MemoryError" in called.output
    called = _call(components, pool, "oom_exit")  # no limit: only a crash
    assert called.error == Crashed(cause="the worker process running oom_exit exited with status 1 before answering", exit_status=1)


module_lambda = lambda ctx, v: Success(v)  # noqa: E731  (a module-level lambda: no name a worker can import)


class _Nameless:
    """A callable with no ``__module__`` nor ``__qualname__`` (as some C objects)."""

    def __getattribute__(self, name: str) -> Any:
        if name in ("__module__", "__qualname__"):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __repr__(self) -> str:
        return "<nameless>"

    def __call__(self, ctx: ExecCtx, v: object) -> Any:
        return Success(v)


def test_a_lambda_or_a_callable_without_a_module_is_refused():
    fix = "cannot be imported by a worker process: define it at module level, or give Meta(ref='module:function')"
    assert ref_of(module_lambda) == Misconfigured(message=f"{__name__}:<lambda> {fix}")
    assert ref_of(_Nameless()) == Misconfigured(message=f"<nameless> {fix}")


def test_the_shared_pool_is_made_once_and_closed_at_exit(monkeypatch):
    import atexit

    monkeypatch.setattr(proc, "_shared", [])
    before = atexit._ncallbacks()
    pool = proc.shared_pool()
    try:
        assert isinstance(pool, WorkerPool) and proc.shared_pool() is pool and proc._shared == [pool]
        assert atexit._ncallbacks() == before + 1  # registered once
    finally:
        atexit.unregister(pool.close)
        pool.close()


def _ctrl_c_in(seconds: float) -> threading.Timer:
    """A real SIGINT to this process in ``seconds`` (it interrupts a blocking wait),
    raising KeyboardInterrupt whatever handler the test runner left (``restore_sigint``
    puts that one back)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture
def restore_sigint() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, saved)


def test_an_interrupted_probe_leaves_no_worker_to_reuse(components, restore_sigint):
    """Ctrl-C while a worker imports: that worker is killed, not put back mid-request."""
    pool = WorkerPool(size=1)
    try:
        timer = _ctrl_c_in(1.0)
        with pytest.raises(KeyboardInterrupt):
            probe(f"{components[0]}_slow:f", str(components[1]), pool, timeout=60)
        timer.join()
        assert pool._idle == {} and pool.started == 1
        assert probe(f"{components[0]}:quiet", str(components[1]), pool, timeout=60) == "" and pool.started == 2
    finally:
        pool.close()


def test_an_interrupted_call_leaves_no_worker_to_reuse(components, tmp_path, restore_sigint):
    pool = WorkerPool(size=1)
    try:
        timer = _ctrl_c_in(1.0)
        with pytest.raises(KeyboardInterrupt):
            _call(components, pool, "children_then_sleep", str(tmp_path / "pids"))
        timer.join()
        assert pool._idle == {} and pool.started == 1
        assert _call(components, pool, "quiet").error is None and pool.started == 2
    finally:
        pool.close()


def test_a_worker_that_dies_leaves_no_process_behind(components, tmp_path):
    """A worker that dies by itself: the processes it started, even in a session of their
    own, are killed with it."""
    pidfile = tmp_path / "pid"
    called = _call(components, WorkerPool(size=1), "children_then_die", str(pidfile))
    assert isinstance(called.error, Crashed) and called.error.signal == signal.SIGKILL
    (away,) = _pids(pidfile)
    assert not alive(away)


def test_an_error_reply_without_its_error_is_never_a_success():
    called = called_of(_typed(object, "object"), wire.Reply("error", started=5, ended=9), "")
    assert called.returned is None and called.error is None  # classified as no answer at all (a protocol violation)


def test_a_pool_on_a_machine_that_cannot_count_its_cores_has_one_slot(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert WorkerPool().size == 1


def test_commands_go_to_the_inner_performer_as_they_are(tmp_path):
    import asyncio as aio

    from omnibase.components.command import Command

    seen: list[object] = []

    class Inner:
        def perform(self, intent: Any) -> Any:
            seen.append(intent)
            return "ran"

        async def aperform(self, intent: Any) -> Any:
            seen.append(intent)
            return "ran async"

    cmd = Component(Command(name="true", argv=("true",)), Meta(name="true", isolation="process"))
    intent = Invoke(cmd, fake_ctx(root=str(tmp_path)), None)
    performer = ProcessPerformer(Inner(), pool=WorkerPool(size=1), capture=True)
    assert performer.perform(intent) == "ran" and aio.run(performer.aperform(intent)) == "ran async"
    assert seen == [intent, intent] and performer.pool.started == 0


class Point(msgspec.Struct, frozen=True):
    x: int
    y: int


def test_a_reply_is_converted_to_the_declared_type():
    """A struct crosses as its fields and comes back as the struct; a list as a set."""
    assert called_of(_typed(Point, "Point"), _reply("success", Point(1, 2)), "") == Called(Success(Point(1, 2)), None, 5, 9)
    assert called_of(_typed(frozenset[int], "frozenset[int]"), _reply("success", [2, 1]), "") == Called(
        Success(frozenset({1, 2})), None, 5, 9
    )
