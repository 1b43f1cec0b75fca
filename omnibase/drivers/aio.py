"""The asyncio performer: coroutine components awaited, sync ones in a bounded thread pool.

Used by ``arun`` (and ``--mode async``), whose loop runs ``Fork`` branches concurrently.
A component whose callable has an ``acall`` attribute (the registry's command
components) is awaited through it, so commands run as asyncio subprocesses.
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
from omnibase.drivers.sync import call, format_traceback

__all__ = ["AsyncDriver", "default_threads"]

T = TypeVar("T")


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
        kind = type(intent)
        if kind is Invoke:
            comp = intent.component  # type: ignore[union-attr]
            if comp.is_async:  # the common case of this performer, one coroutine deep
                return await _await(intent, comp.fn)  # type: ignore[arg-type]
            return await self._invoke(intent)  # type: ignore[arg-type]
        if kind is Sleep:
            await asyncio.sleep(intent.seconds)  # type: ignore[union-attr]
            return None
        if kind is Now:
            return time.monotonic_ns()
        if kind is Wall:
            return time.time()
        raise TypeError(f"AsyncDriver cannot perform {kind.__name__}")

    async def _invoke(self, intent: Invoke) -> Called:
        comp = intent.component
        acall = getattr(comp.fn, "acall", None)
        if comp.is_async or acall is not None:
            return await _await(intent, acall or comp.fn)
        if self._pool is None:
            self._pool = _DaemonPool(self.threads or default_threads())
        future: asyncio.Future[Called] = self._pool.submit(call, intent)
        if intent.limit is None:
            return await future
        started = time.monotonic_ns()
        done, _ = await asyncio.wait({future}, timeout=intent.limit)
        if not done:
            future.cancel()
            return Called(None, InvocationTimedOut(intent.limit), started, time.monotonic_ns())
        return future.result()


async def _await(intent: Invoke, fn: Any) -> Called:
    """Await ``fn(ctx, value)`` in the calling task (no task of its own: the common case
    costs one coroutine); under a limit, a timeout cancels it."""
    started = time.monotonic_ns()
    limit = intent.limit
    try:
        if limit is None:
            returned = await fn(intent.ctx, intent.value)
        else:
            scope = asyncio.timeout(limit)
            try:
                async with scope:
                    returned = await fn(intent.ctx, intent.value)
            except TimeoutError:
                if not scope.expired():
                    raise  # the component's own TimeoutError: a value like any other exception
                return Called(None, InvocationTimedOut(limit), started, time.monotonic_ns())
    except (Exception, SystemExit) as exc:
        return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
    return Called(returned, None, started, time.monotonic_ns())


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
