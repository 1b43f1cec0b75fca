"""The check pool's worker processes: forked from the calling process, fed over pipes.

A run over a large tree spreads its files over worker processes in chunks
(``omnibase.builtins._run``). ``ForkPool`` forks them from the calling process, so they
start with every module it has imported and cost about 1.5 ms each to start; each reads
its chunks from a pipe and writes their results to another (pickled, each after its
8-byte length), one chunk at a time, and the calling process keeps every worker one chunk
ahead, so no worker waits for the next. ``concurrent.futures.ProcessPoolExecutor`` did
the same from ``multiprocessing``: importing that alone took 10 ms before the first fork,
on every run over a large tree, and its first chunk started 4 ms after the fork instead
of at once (``bench/bench_pool.py`` measures both).

``ForkPool`` may only be started by a process's one thread (``omnibase._io.forks.alone``
says when): a child forked while another thread runs inherits that thread's locks as
they were. Elsewhere ``ExecutorPool`` runs the same work through
``ProcessPoolExecutor`` with a fork server, or spawned workers.

What each pool promises its caller (``run``): every item's result, or None for an item
whose worker died (killed, out of memory) or raised, for the caller to redo in its own
process; a worker whose parent is gone (killed, or left with ``os._exit``) ends itself
within half a second; after ``close(wait=True)`` no worker is left, not even a zombie.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["ExecutorPool", "ForkPool"]

_HEADER = 8  # bytes of a frame's length, little-endian, before its pickle
#: A worker asks this often (ms) whether its parent is still there, while it waits.
_WATCH_MS = 500
_CHUNK = 1 << 20  # the most read from a pipe at once


def _frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_HEADER, "little") + data


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


class _Worker:
    """The calling process's side of one worker: its pid, the write end of its task pipe
    (non-blocking; -1 once closed), the read end of its result pipe (non-blocking), the
    bytes still to send, the items sent whose results are awaited (in order), and the
    bytes of results read so far."""

    __slots__ = ("pid", "tasks", "results", "sending", "awaited", "received")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.sending = bytearray()
        self.awaited: deque[int] = deque()
        self.received = bytearray()


class ForkPool:
    """``jobs`` worker processes forked now, each after ``setup()`` in it. Only from a
    process's one thread (see the module's text)."""

    def __init__(self, jobs: int, setup: Callable[[], None]) -> None:
        self.workers: list[_Worker] = []
        self.dead: list[int] = []  # pids of workers that are gone or told to go, not yet reaped
        self.lock = threading.RLock()  # one run at a time; closing waits for it
        _flush_std()  # what is buffered now is written once, by this process
        try:
            for _ in range(jobs):
                self._fork(setup)
        except BaseException:
            self.close(wait=True)
            raise

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.pid for w in self.workers) + tuple(self.dead)

    def _fork(self, setup: Callable[[], None]) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except BaseException:  # no process to be had (limits): no pipe left open either
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                os.close(task_w)
                os.close(result_r)
                for w in self.workers:  # its siblings' pipes are not its to hold open
                    if w.tasks >= 0:
                        os.close(w.tasks)
                    os.close(w.results)
                setup()
                _serve(task_r, result_w, parent)
                code = 0
            finally:
                _flush_std()
                os._exit(code)
        os.close(task_r)
        os.close(result_w)
        os.set_blocking(task_w, False)
        os.set_blocking(result_r, False)
        self.workers.append(_Worker(pid, task_w, result_r))

    def run(
        self, fn: Callable[..., Any], items: Sequence[tuple[Any, ...]], *, started: Callable[[], None] | None = None,
        last: bool = False,
    ) -> list[Any]:
        """``fn(*item)`` for each of ``items`` in the workers: the results in order, None
        where the worker died or ``fn`` raised. ``started`` is called once the first
        items are on their way. ``last``: nothing more will be asked of this pool, so
        each worker is told to end once its last item is sent (it ends when that is done)."""
        out: list[Any] = [None] * len(items)
        todo = deque(range(len(items)))
        with self.lock:  # (another thread's run waits: the workers are shared)
            try:
                self._feed(fn, items, todo, last)
                if started is not None:
                    started()
                while any(w.awaited for w in self.workers):
                    self._step(fn, items, todo, out, last)
            except BaseException:
                self.close(wait=True, kill=True)
                raise
        return out

    def _feed(self, fn: Callable[..., Any], items: Sequence[tuple[Any, ...]], todo: deque[int], last: bool) -> None:
        """Keep each worker two items deep (the one it works on, the next one waiting in its
        pipe); with ``last``, close a worker's task pipe once it has been sent all it gets."""
        for w in self.workers:
            while todo and len(w.awaited) < 2 and w.tasks >= 0:
                i = todo.popleft()
                try:
                    w.sending += _frame((fn, items[i]))
                except Exception:  # cannot be sent: left None, for the caller to do
                    continue
                w.awaited.append(i)
            self._send(w)
            if last and not todo and not w.sending and w.tasks >= 0:
                os.close(w.tasks)
                w.tasks = -1

    def _send(self, w: _Worker) -> None:
        while w.sending and w.tasks >= 0:
            try:
                n = os.write(w.tasks, w.sending)
            except BlockingIOError:
                return
            except OSError:  # the worker is gone: its results pipe says so
                w.sending.clear()
                return
            del w.sending[:n]

    def _step(
        self, fn: Callable[..., Any], items: Sequence[tuple[Any, ...]], todo: deque[int], out: list[Any], last: bool
    ) -> None:
        poller = select.poll()
        by_fd: dict[int, _Worker] = {}
        for w in self.workers:
            if w.awaited:
                poller.register(w.results, select.POLLIN)
                by_fd[w.results] = w
            if w.sending and w.tasks >= 0:
                poller.register(w.tasks, select.POLLOUT)
                by_fd[w.tasks] = w
        for fd, _ in poller.poll():
            w = by_fd[fd]
            if w not in self.workers:  # lost earlier in this round
                continue
            if fd == w.tasks:
                self._send(w)
            elif not self._receive(w, out):
                self._lost(w, todo)
        self._feed(fn, items, todo, last)

    def _receive(self, w: _Worker, out: list[Any]) -> bool:
        """Read what ``w`` wrote; False when it is gone (end of file)."""
        try:
            data = os.read(w.results, _CHUNK)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            return False
        w.received += data
        while len(w.received) >= _HEADER:
            size = int.from_bytes(w.received[:_HEADER], "little")
            if len(w.received) < _HEADER + size:
                break
            body = bytes(w.received[_HEADER : _HEADER + size])
            del w.received[: _HEADER + size]
            i = w.awaited.popleft()
            try:
                ok, value = pickle.loads(body)
            except Exception:
                ok, value = False, None
            out[i] = value if ok else None
        return True

    def _lost(self, w: _Worker, todo: deque[int]) -> None:
        """``w`` died: the item it was on stays None (redone by the caller, not by another
        worker it might kill too); the one waiting behind it goes back to the others."""
        if w.awaited:
            w.awaited.popleft()
        todo.extendleft(reversed(w.awaited))
        w.awaited.clear()
        self._drop(w)

    def _drop(self, w: _Worker) -> None:
        if w.tasks >= 0:
            os.close(w.tasks)
            w.tasks = -1
        os.close(w.results)
        self.workers.remove(w)
        self.dead.append(w.pid)

    def close(self, *, wait: bool, kill: bool = False) -> None:
        """Tell every worker to end (the end of its task pipe; ``kill``: SIGKILL at once);
        ``wait``: reap them all, so no zombie is left. A run under way in another thread
        ends first."""
        with self.lock:
            for w in list(self.workers):
                if kill and w.pid > 0:  # (a worker's own pid: never 0, which is a process group)
                    try:
                        os.kill(w.pid, signal.SIGKILL)
                    except OSError:
                        pass
                self._drop(w)
            if wait:
                self.reap()

    def reap(self) -> None:
        """Wait for every worker told to end."""
        with self.lock:
            self._reap()

    def _reap(self) -> None:
        while self.dead:
            pid = self.dead.pop()
            while True:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
                break


def _read_exactly(fd: int, n: int, parent: int) -> bytes | None:
    """``n`` bytes from ``fd``, or None at its end or once the parent is gone."""
    parts: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while n:
        if not poller.poll(_WATCH_MS):
            if os.getppid() != parent:
                return None
            continue
        data = os.read(fd, min(n, _CHUNK))  # (never a buffer of a length read from the pipe)
        if not data:
            return None
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def _serve(tasks: int, results: int, parent: int) -> None:
    """A worker's life: run each task read from ``tasks``, write its result to ``results``,
    until the tasks end or the parent is gone."""
    while True:
        head = _read_exactly(tasks, _HEADER, parent)
        if head is None:
            return
        body = _read_exactly(tasks, int.from_bytes(head, "little"), parent)
        if body is None:
            return
        try:
            fn, args = pickle.loads(body)
            reply = _frame((True, fn(*args)))
        except Exception:  # the caller redoes the item in its own process
            reply = _frame((False, None))
        view = memoryview(reply)
        while view:
            view = view[os.write(results, view) :]


class ExecutorPool:
    """The same work through ``concurrent.futures.ProcessPoolExecutor`` with the
    multiprocessing ``context`` (a fork server, or spawned workers): for a caller that is
    not its process's one thread."""

    def __init__(self, jobs: int, context: Any, setup: Callable[[], None]) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=setup)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(self.executor._processes or ())

    def run(
        self, fn: Callable[..., Any], items: Sequence[tuple[Any, ...]], *, started: Callable[[], None] | None = None,
        last: bool = False,
    ) -> list[Any]:
        """As ``ForkPool.run``."""
        futures = [self.executor.submit(fn, *item) for item in items]
        if started is not None:
            started()
        out: list[Any] = []
        for future in futures:
            try:
                out.append(future.result())
            except Exception:  # a worker died or the pool broke
                out.append(None)
        return out

    def close(self, *, wait: bool, kill: bool = False) -> None:
        """As ``ForkPool.close`` (``kill`` aside): without ``wait``, a thread waits for the
        workers to exit, and ``reap`` joins it."""
        if wait:
            self.executor.shutdown(wait=True, cancel_futures=True)
            return
        import threading

        self.closer = threading.Thread(
            target=self.executor.shutdown, kwargs={"wait": True, "cancel_futures": True}, name="omnibase-pool-close",
            daemon=True,
        )  # fmt: skip
        self.closer.start()

    def reap(self) -> None:
        closer = getattr(self, "closer", None)
        if closer is not None:
            closer.join()
        else:
            self.executor.shutdown(wait=True)
