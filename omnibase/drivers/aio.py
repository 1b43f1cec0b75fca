"""The asyncio performer: coroutine components awaited, sync ones in a bounded thread pool.

Used by ``arun`` (and ``--mode async``), whose loop runs ``Fork`` branches concurrently.
Each component is called as its kind says (``omnibase.drivers.kinds``): coroutines and
commands (asyncio subprocesses) are awaited, the rest run in the thread pool.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke, Now, Sleep, Wall
from omnibase.drivers._base import Observer
from omnibase.drivers.kinds import COROUTINE, KINDS, kind_of

__all__ = ["AsyncDriver", "default_threads"]

T = TypeVar("T")
_await = COROUTINE.acall  # bound once: this is on every invocation


@functools.cache
def default_threads() -> int:
    """Threads for synchronous components: the cores plus four (they often wait on I/O).
    Asked once: ``os.cpu_count()`` reads ``/sys`` and costs milliseconds on a busy machine."""
    return (os.cpu_count() or 1) + 4


class AsyncDriver:
    """Performs intents on the running event loop.

    ``threads`` bounds the pool that runs synchronous components (default
    ``default_threads()``). A timed-out coroutine is cancelled; a timed-out synchronous
    call is abandoned in its thread (Python cannot kill a thread), its step fails with
    ``TimedOut`` at once, and the abandoned call never holds up the interpreter's exit.
    """

    def __init__(self, observers: Sequence[Observer] = (), *, threads: int | None = None) -> None:
        self.observers = tuple(observers)
        self.threads = threads  # None: default_threads(), asked when the pool starts
        self._pool: _DaemonPool | None = None

    def close(self) -> None:
        """Let the pool's idle threads end; calls still running are abandoned."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            comp = intent.component
            if comp.is_async and type(comp.fn) not in KINDS:  # the common case of this performer, one coroutine deep
                return await _await(intent)
            return await self._invoke(intent)
        if type(intent) is Sleep:
            await asyncio.sleep(intent.seconds)
            return None
        if type(intent) is Now:
            return time.monotonic_ns()
        if type(intent) is Wall:
            return time.time()
        raise TypeError(f"AsyncDriver cannot perform {type(intent).__name__}")

    async def _invoke(self, intent: Invoke) -> Called:
        kind = kind_of(intent.component)
        if kind.awaitable:
            return await kind.acall(intent)
        if self._pool is None:
            self._pool = _DaemonPool(self.threads or default_threads())
        future: asyncio.Future[Called] = self._pool.submit(kind.call, intent)
        if intent.limit is None or kind.timed:
            return await future
        started = time.monotonic_ns()
        done, _ = await asyncio.wait({future}, timeout=intent.limit)
        if not done:
            future.cancel()
            return Called(None, InvocationTimedOut(intent.limit), started, time.monotonic_ns())
        return future.result()


class _DaemonPool:
    """Up to ``size`` daemon threads running synchronous calls for the event loop.

    Not a ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so a
    call abandoned on timeout or Ctrl-C would keep the process alive until it returned.
    Threads start on demand and stay for the next call.
    """

    def __init__(self, size: int) -> None:
        import queue

        self.size = max(1, size)
        self._queue: queue.SimpleQueue[tuple[Callable[[Any], Any], Any, asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    def submit(self, fn: Callable[[Any], T], arg: Any) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((fn, arg, future))
        with self._lock:
            if self._idle:
                self._idle -= 1
                return future
            if self._threads >= self.size:
                return future
            self._threads += 1
        threading.Thread(target=self._work, name=f"omnibase-{self._threads}", daemon=True).start()
        return future

    def close(self) -> None:
        with self._lock:
            count = self._threads
        for _ in range(count):
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, arg, future = item
            try:
                outcome: tuple[bool, Any] = (True, fn(arg))
            except BaseException as exc:  # KeyboardInterrupt in a thread: hand it to the loop
                outcome = (False, exc)
            try:
                future.get_loop().call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # the loop is closed: nobody waits for this call any more
                pass
            with self._lock:
                self._idle += 1


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():  # cancelled: the caller gave up on it (timeout, cancelled run)
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
