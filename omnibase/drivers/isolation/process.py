"""The process performer: components that ask for it run in reused worker processes.

``ProcessPerformer(inner)`` is a performer decorator. An ``Invoke`` of a component whose
``meta.isolation`` is ``"process"`` (registry Python entries, by default) goes to a worker
of its ``WorkerPool``; a component whose kind runs in a process of its own (a command,
stopped with its process tree at the invocation's limit) and everything else go to
``inner``. With ``capture=True`` (the CLI) in-process calls
run with file descriptors 1 and 2 redirected to a capture file (``FdCapture``), so
nothing a component writes reaches the report's stdout; what it wrote is ``Called.output``.

Workers are plain ``python -m omnibase.drivers.isolation.worker`` processes talking msgpack over
two pipes (not ``multiprocessing``): each starts in its own session with a scrubbed
environment, the repository root as working directory, its stdout/stderr on a capture
file, and is reused until it dies, times out or leaves threads behind. See
docs/isolation.md.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import msgspec

from omnibase.drivers.isolation import spawn as _proc
from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke
from omnibase.core.outcomes import misfit
from omnibase.core.values import Crashed, ExecCtx, Misconfigured, ProtocolViolation, Rights, Skip, StepError
from omnibase.drivers.isolation import worker as _worker
from omnibase.drivers.kinds import kind_of

__all__ = [
    "MAX_CAPTURE", "CapturingPerformer", "FdCapture", "ProcessPerformer", "WorkerPool", "call_request", "called_of", "probe",
    "ref_of", "shared_pool",
]  # fmt: skip

#: A step's captured output keeps at most its last this many bytes.
MAX_CAPTURE: Final = 16 * 1024


def _capture_file() -> int:
    """An unnamed temporary file, opened for appending (so writes through every dup of it,
    in any process, go to its end, even after the parent truncated it). Never on fds 0 to 2,
    which may be closed and are the ones ``FdCapture`` redirects."""
    if hasattr(os, "memfd_create"):  # Linux: in memory, never a file on disk
        fd = os.memfd_create("omnibase-out", os.MFD_CLOEXEC)
    else:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="omnibase-out-")
        os.unlink(path)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    if fd <= 2:
        low, fd = fd, fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
        os.close(low)
    return fd


def _tail(fd: int, start: int = 0, limit: int = MAX_CAPTURE) -> str:
    end = os.fstat(fd).st_size
    begin = max(start, end - limit)
    data = os.pread(fd, end - begin, begin) if end > begin else b""
    text = data.decode("utf-8", "replace")
    return text if begin == start else f"[... {begin - start} bytes before]\n{text}"


# --- workers ------------------------------------------------------------------------------------


class Worker:
    """One worker process and its pipes."""

    def __init__(self, root: str) -> None:
        import subprocess

        from omnibase import _version

        self.root = root
        self.rights: Rights | None = None  # the rights the kernel confines it to, once it is
        self.token = os.urandom(8).hex()
        self.capture = _capture_file()
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        here = os.path.dirname(os.path.dirname(os.path.abspath(_version.__file__)))
        path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
        env = _proc.child_env({"PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}, token=self.token)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-u", "-m", "omnibase.drivers.isolation.worker", str(req_r), str(rep_w)],
                pass_fds=(req_r, rep_w),
                stdin=subprocess.DEVNULL,
                stdout=self.capture,
                stderr=self.capture,
                cwd=root,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            for fd in (self.capture, self.req_w, self.rep_r):
                os.close(fd)
            raise
        finally:
            os.close(req_r)
            os.close(rep_w)
        self.pid = self.proc.pid
        self.pidfd = os.pidfd_open(self.pid)
        os.set_blocking(self.rep_r, False)
        self.closed = False
        import selectors

        self.selector = selectors.DefaultSelector()  # kept: one per call would cost more
        self.selector.register(self.rep_r, selectors.EVENT_READ)
        self.selector.register(self.pidfd, selectors.EVENT_READ)

    def exchange(self, payload: bytes, timeout: float | None) -> tuple[str, Any]:
        """Send one request; ``("reply", bytes)``, ``("died", (status, rusage))`` or
        ``("timeout", None)`` (the worker is then killed)."""
        os.ftruncate(self.capture, 0)
        try:
            _worker.write_frame(self.req_w, payload)
        except (BrokenPipeError, OSError):
            return "died", self._reap()
        deadline = None if timeout is None else time.monotonic() + timeout
        buf = bytearray()
        select = self.selector.select
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                self.kill()
                return "timeout", None
            dead = False
            for key, _ in select(wait):
                if key.fd == self.pidfd:
                    dead = True
                else:
                    got = self._drain(buf)
                    dead = dead or not got
            frame = self._frame(buf)
            if frame is not None:
                return "reply", frame
            if dead:
                self._drain(buf)
                frame = self._frame(buf)
                return ("reply", frame) if frame is not None else ("died", self._reap())

    def _drain(self, buf: bytearray) -> bool:
        """Read what the reply pipe holds; False at its end."""
        while True:
            try:
                data = os.read(self.rep_r, 1 << 20)
            except BlockingIOError:
                return True
            if not data:
                return False
            buf += data

    @staticmethod
    def _frame(buf: bytearray) -> bytes | None:
        size = _worker.HEADER.size
        if len(buf) < size:
            return None
        n = _worker.HEADER.unpack_from(buf)[0]
        return bytes(buf[size : size + n]) if len(buf) >= size + n else None

    def _reap(self) -> tuple[int, Any]:
        _proc.sweep(self.pid, self.token, leader=self.pid)
        _, status, usage = os.wait4(self.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._close()
        return status, usage

    def kill(self) -> None:
        """Kill the worker and everything it started; reap it."""
        if self.closed:
            return
        _proc.sweep(self.pid, self.token, leader=self.pid)
        self.proc.wait()
        self._close()

    def output(self) -> str:
        """What the worker wrote during the last request (its tail)."""
        return _tail(self.capture) if self.capture >= 0 else ""

    def dispose(self) -> None:
        """Kill it if needed and release its capture file."""
        self.kill()
        if self.capture >= 0:
            os.close(self.capture)
            self.capture = -1

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.selector.close()
            for fd in (self.req_w, self.rep_r, self.pidfd):
                try:
                    os.close(fd)
                except OSError:
                    pass


class WorkerPool:
    """Idle workers by repository root and rights; at most ``size`` busy at once (default:
    the cores).

    A worker that ran a sandboxed call where the kernel offers Landlock is confined to that
    call's rights for good (a ruleset cannot be lifted), so it is kept for calls with the
    same rights in the same root; a worker not (yet) confined serves anything: a probe, an
    unsandboxed call, or the first call of a new set of rights, which confines it.
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size or os.cpu_count() or 1
        self._idle: dict[tuple[str, Rights | None], list[Worker]] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)
        self.started = 0

    def acquire(self, root: str, rights: Rights | None = None) -> Worker:
        self._slots.acquire()
        with self._lock:
            for key in ((root, rights), (root, None)) if rights is not None else ((root, None),):
                idle = self._idle.get(key)
                if idle:
                    return idle.pop()
            self.started += 1
        try:
            return Worker(root)
        except BaseException:
            self._slots.release()
            raise

    def release(self, worker: Worker, *, keep: bool) -> None:
        try:
            if keep and not worker.closed:
                with self._lock:
                    self._idle.setdefault((worker.root, worker.rights), []).append(worker)
            else:
                worker.dispose()
        finally:
            self._slots.release()

    def close(self) -> None:
        """Stop the idle workers (they exit on the end of their request pipe)."""
        with self._lock:
            idle = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
        for worker in idle:
            worker.dispose()


_shared: list[WorkerPool] = []


def shared_pool() -> WorkerPool:
    """The process-wide pool (resolution probes and the CLI's performer share its workers)."""
    if not _shared:
        import atexit

        _shared.append(WorkerPool())
        atexit.register(_shared[0].close)
    return _shared[0]


def probe(ref: str, root: str, pool: WorkerPool | None = None, *, timeout: float) -> str:
    """Whether a worker can import ``ref`` and finds it callable within ``timeout`` seconds
    (the resolution timeout, ``omnibase.registry._resolve``: its one home): "" if so, else
    why not. The module's top-level code runs in the worker, not here."""
    pool = pool or shared_pool()
    root = os.path.abspath(root)
    try:
        worker = pool.acquire(root)
    except OSError as exc:
        return f"cannot start a worker process: {exc}"
    keep = False
    try:
        kind, got = worker.exchange(msgspec.msgpack.encode(_worker.Probe(ref, root)), timeout)
        if kind == "timeout":
            module = ref.partition(":")[0]
            return f"importing module '{module}' did not finish within {timeout:g}s (the resolution timeout)"
        if kind == "died":
            return f"importing '{ref}' ended its worker process ({_death(got[0])})"
        reply = msgspec.msgpack.decode(got, type=_worker.Reply)
        keep = True
        return reply.message
    finally:
        pool.release(worker, keep=keep)


def _narrowed(intent: Invoke) -> ExecCtx:
    """The context the worker gets: the one the component's function would see here (its
    kind's ``context``: a registry entry's own file selection)."""
    fn = intent.component.fn
    return kind_of(intent.component).context(fn, intent.ctx)


def _death(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {_proc._signal_name(os.WTERMSIG(status))}"
    return f"exit status {os.WEXITSTATUS(status)}"


# --- capture of in-process calls -------------------------------------------------------------


class FdCapture:
    """Redirects file descriptors 1 and 2 to a capture file while at least one call is in
    it (nested and concurrent calls share one redirection; a call's output is what the
    file gained meanwhile, which under concurrency includes the others')."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._fd = -1
        self._saved: tuple[int, int] = (-1, -1)
        self._streams: tuple[Any, Any] = (None, None)
        self._writer: Any = None

    def enter(self) -> int:
        with self._lock:
            if self._depth == 0:
                _flush()
                if self._fd < 0:
                    self._fd = _capture_file()
                os.ftruncate(self._fd, 0)
                self._saved = (_dup(1), _dup(2))
                os.dup2(self._fd, 1)
                os.dup2(self._fd, 2)
                # sys.stdout may not write to fd 1 (a test runner's, a redirect): capture
                # Python-level writes too.
                self._streams = (sys.stdout, sys.stderr)
                self._writer = open(os.dup(self._fd), "w", buffering=1, encoding="utf-8", errors="replace")
                sys.stdout = sys.stderr = self._writer
            self._depth += 1
            return os.fstat(self._fd).st_size

    def exit(self, mark: int) -> str:
        _flush()
        with self._lock:
            text = _tail(self._fd, mark)
            self._depth -= 1
            if self._depth == 0:
                sys.stdout, sys.stderr = self._streams
                self._writer.close()
                for fd, saved in zip((1, 2), self._saved):
                    if saved < 0:  # it was closed before: close it again
                        os.close(fd)
                    else:
                        os.dup2(saved, fd)
                        os.close(saved)
            return text

    def call(self, fn: Callable[[], Called]) -> Called:
        mark = self.enter()
        called: Called | None = None
        try:
            called = fn()
        finally:
            text = self.exit(mark)
        return msgspec.structs.replace(called, output=text) if text else called


def _dup(fd: int) -> int:
    """A copy of ``fd`` above 2 (a copy on a closed fd 2 would be overwritten by the
    redirection, and restored as fd 1), or -1 when ``fd`` is closed."""
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    except OSError:
        return -1


def _flush() -> None:
    for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) if s is not None}.values():
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


_capture: Final = FdCapture()


class CapturingPerformer:
    """A performer decorator that runs every ``Invoke`` of ``inner`` under ``FdCapture``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.observers = tuple(getattr(inner, "observers", ()))

    def perform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            return _capture.call(lambda: self.inner.perform(intent))
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            mark = _capture.enter()
            called: Called | None = None
            try:
                called = await self.inner.aperform(intent)
            finally:
                text = _capture.exit(mark)
            return msgspec.structs.replace(called, output=text) if text and called is not None else called
        return await self.inner.aperform(intent)


# --- the performer ----------------------------------------------------------------------------------


class ProcessPerformer:
    """Routes process-isolated components to workers and commands to ``omnibase.drivers.isolation.spawn``;
    delegates the rest to ``inner`` (captured at the fd level when ``capture``).

    ``pool`` defaults to the process-wide ``shared_pool()``. Call ``close()`` to stop the
    workers of a pool of your own.
    """

    def __init__(self, inner: Any, *, pool: WorkerPool | None = None, capture: bool = False) -> None:
        self.inner = inner
        self.observers = tuple(getattr(inner, "observers", ()))
        self.pool = pool or shared_pool()
        self.capture = capture

    def close(self) -> None:
        self.pool.close()
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def perform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            kind = kind_of(intent.component)
            if kind.own_process:  # a command: its kind runs it, stopped at the limit, captured
                return self.inner.perform(intent)
            if intent.component.meta.isolation == "process":
                return self.isolated(intent)
            if self.capture:
                return _capture.call(lambda: self.inner.perform(intent))
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            kind = kind_of(intent.component)
            if kind.own_process:
                return await self.inner.aperform(intent)
            if intent.component.meta.isolation == "process":
                return await self._aisolated(intent)
            if self.capture:
                return await CapturingPerformer(self.inner).aperform(intent)
        return await self.inner.aperform(intent)

    async def _aisolated(self, intent: Invoke) -> Called:
        """``isolated`` in a thread; cancelled (fail-fast, Ctrl-C), it kills the worker."""
        import asyncio

        busy: list[Worker] = []
        future = asyncio.ensure_future(asyncio.to_thread(self.isolated, intent, busy))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            for worker in busy:  # its thread's exchange sees the death, reaps it, frees the slot
                _proc.sweep(worker.pid, worker.token, leader=worker.pid)
            await asyncio.gather(future, return_exceptions=True)
            raise

    # workers

    def isolated(self, intent: Invoke, busy: list[Worker] | None = None) -> Called:
        """Perform ``intent`` in a worker (appended to ``busy`` while it works, if given)."""
        comp = intent.component
        now = time.monotonic_ns()
        if comp.is_async:
            return Called(None, None, now, now, error=Misconfigured(message=f"{comp.name}: async components cannot run in a worker process"))
        request = call_request(intent)
        if not isinstance(request, _worker.Call):
            return Called(None, None, now, now, error=request)
        root = os.path.abspath(intent.ctx.root)
        try:
            worker = self.pool.acquire(root, comp.meta.sandbox)
        except (OSError, ValueError) as exc:
            return Called(None, None, now, time.monotonic_ns(), error=Crashed(cause=f"cannot start a worker process: {exc}"))
        if busy is not None:
            busy.append(worker)
        keep = False
        try:
            started = time.monotonic_ns()
            kind, got = worker.exchange(msgspec.msgpack.encode(request), intent.limit)
            ended = time.monotonic_ns()
            output = worker.output()
            if kind == "timeout":
                return Called(None, InvocationTimedOut(intent.limit or 0.0), started, ended, output=output)
            if kind == "died":
                error = _died(comp.name, got[0], comp.meta.limits, output)
                return Called(None, None, started, ended, error=error, output=output)
            try:
                reply = msgspec.msgpack.decode(got, type=_worker.Reply)
            except msgspec.DecodeError as exc:
                cause = f"its worker sent an unreadable answer ({exc})"
                return Called(None, None, started, ended, error=Crashed(cause=cause), output=output)
            keep = not reply.tainted
            if reply.confined:
                worker.rights = comp.meta.sandbox
            return called_of(comp, reply, output)
        finally:
            self.pool.release(worker, keep=keep)


def call_request(intent: Invoke) -> _worker.Call | StepError:
    """The request a worker (a process of the pool, a Dask worker) runs ``intent`` from:
    the component by its ``module:function`` reference (a function that is a frozen
    ``msgspec.Struct`` value, by its class and its encoded fields), the narrowed context,
    the value encoded; or why it cannot travel (``Misconfigured``, ``ProtocolViolation``)."""
    comp = intent.component
    ref = comp.meta.ref or ref_of(comp.fn)
    if isinstance(ref, Misconfigured):
        return ref
    state = b""
    if not comp.meta.ref and isinstance(comp.fn, msgspec.Struct):  # a value: sent as its class and fields
        try:
            state = msgspec.msgpack.encode(comp.fn)
        except (TypeError, ValueError, OverflowError) as exc:
            return Misconfigured(message=f"{comp.name}: its function ({ref}) cannot be sent to a worker process: {exc}")
    try:
        value = _worker.pack(intent.value)
    except (TypeError, ValueError, OverflowError) as exc:
        message = f"{comp.name}: its input ({type(intent.value).__name__}) cannot be sent to a worker process: {exc}"
        return ProtocolViolation(message=message)
    from omnibase.observers.trace import child_traceparent

    return _worker.Call(
        ref=ref,
        ctx=_narrowed(intent),
        value=msgspec.Raw(value),
        sandbox=comp.meta.sandbox,
        limits=comp.meta.limits,
        env={"TRACEPARENT": child_traceparent(intent.ctx.trace_id, intent.span_id or os.urandom(8).hex())},
        name=comp.name,
        output_type=comp.meta.output_type,
        state=state,
    )


def ref_of(fn: Any) -> str | Misconfigured:
    """The ``module:name`` a worker imports ``fn`` by; for a ``msgspec.Struct`` value, its
    class (the request carries the value's fields: see ``call_request``)."""
    if isinstance(fn, msgspec.Struct):
        fn = type(fn)
    module, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<locals>" in qual or "<lambda>" in qual:
        where = f"{module}:{qual}" if module else repr(fn)
        return Misconfigured(
            message=f"{where} cannot be imported by a worker process: define it at module level, or give Meta(ref='module:function')"
        )
    return f"{module}:{qual}"


def _died(name: str, status: int, limits: Any, output: str) -> StepError:
    """Why the worker died, from its wait status and last output. (Not its peak RSS nor its
    CPU time: a worker's lifetime figures belong to earlier calls too.)"""
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    found = _proc.classify(signal_number=sig, exit_status=code, limits=limits, text=output)
    if isinstance(found, Crashed):
        return Crashed(cause=f"the worker process running {name} was {found.cause}", signal=sig)
    if found is not None:
        return found
    return Crashed(cause=f"the worker process running {name} exited with status {code} before answering", exit_status=code)


def called_of(comp: Any, reply: _worker.Reply, output: str) -> Called:
    """The ``Called`` of a worker's reply (already classified there: see ``_worker._answer``)."""
    from returns.result import Success

    if reply.kind == "error" or reply.error is not None:
        return Called(None, None, reply.started, reply.ended, output=output, error=reply.error)
    if reply.kind == "skip":
        return Called(Success(Skip(reason=reply.message)), None, reply.started, reply.ended, output=output)
    raw = bytes(reply.value)
    if reply.kind == "typed":
        error: StepError = _worker.unpack(raw, StepError)
        return Called(None, None, reply.started, reply.ended, output=output, error=error)
    try:
        value = _worker.unpack(raw, comp.out_type)
    except msgspec.ValidationError:
        error = misfit(comp.name, _worker.unpack(raw), comp.meta.output_type, comp.out_type)
        return Called(None, None, reply.started, reply.ended, output=output, error=error)
    except TypeError:  # a declared type msgspec cannot convert into: take the plain value
        value = _worker.unpack(raw)
    return Called(Success(value), None, reply.started, reply.ended, output=output)
