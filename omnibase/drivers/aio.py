"""The asyncio performer: coroutine components awaited, sync ones in a bounded thread pool.

Used by ``arun`` (and ``--mode async``), whose loop runs ``Fork`` branches concurrently.
A component whose callable has an ``acall`` attribute (the registry's command
components) is awaited through it, so commands run as asyncio subprocesses.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from omnibase.core.intents import Called, Intent, InvocationTimedOut, Invoke, Now, Sleep, Wall
from omnibase.drivers._base import Observer
from omnibase.drivers.sync import call, format_traceback

__all__ = ["AsyncDriver", "default_threads"]


def default_threads() -> int:
    """Threads for synchronous components: the cores plus four (they often wait on I/O)."""
    return (os.cpu_count() or 1) + 4


class AsyncDriver:
    """Performs intents on the running event loop.

    ``threads`` bounds the pool that runs synchronous components (default
    ``default_threads()``). A timed-out coroutine is cancelled; a timed-out synchronous
    call is abandoned in its thread (Python cannot kill a thread), its step fails with
    ``TimedOut`` at once.
    """

    def __init__(self, observers: Sequence[Observer] = (), *, threads: int | None = None) -> None:
        self.observers = tuple(observers)
        self.threads = threads or default_threads()
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the thread pool without waiting for abandoned calls."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def aperform(self, intent: Intent) -> Any:
        kind = type(intent)
        if kind is Invoke:
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
            return await self._await(intent, acall or comp.fn)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="omnibase")
        future = asyncio.get_running_loop().run_in_executor(self._pool, call, intent)
        if intent.limit is None:
            return await future
        started = time.monotonic_ns()
        done, _ = await asyncio.wait({future}, timeout=intent.limit)
        if not done:
            future.cancel()
            return Called(None, InvocationTimedOut(intent.limit), started, time.monotonic_ns())
        return future.result()

    async def _await(self, intent: Invoke, fn: Any) -> Called:
        started = time.monotonic_ns()
        task = asyncio.ensure_future(fn(intent.ctx, intent.value))
        try:
            done, _ = await asyncio.wait({task}, timeout=intent.limit)
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return Called(None, InvocationTimedOut(intent.limit or 0.0), started, time.monotonic_ns())
        exc = task.exception()
        if exc is not None:
            return Called(None, exc, started, time.monotonic_ns(), traceback=format_traceback(exc))
        return Called(task.result(), None, started, time.monotonic_ns())
