"""The fake driver's virtual time for awaited components (``omnibase.drivers.fake``): an
event loop whose clock is the driver's, stepped from the caller's loop. Apart so that
asyncio is imported only when a fake run awaits something."""

from __future__ import annotations

import asyncio
import math
import selectors
from typing import Any, Protocol

__all__ = ["VirtualTimeout", "run_virtually"]


class Clocked(Protocol):
    """What keeps the virtual time: the fake driver (nanoseconds, moved forward only)."""

    clock_ns: int


async def run_virtually(driver: Clocked, awaitable: Any, limit: float | None) -> Any:
    """What ``awaitable`` returns, awaited in a loop of its own on this driver's clock
    (see the module's docstring), stepped from the caller's loop: while a timer is due,
    the clock moves to it at once; while nothing is due, the caller's loop runs (other
    branches, a cancellation, real I/O finishing). Past ``limit`` virtual seconds it
    is cancelled and ``VirtualTimeout`` raised; cancelling the caller cancels it."""

    async def bounded() -> Any:
        scope = asyncio.timeout(limit)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():  # the limit's, not one the component raised itself
                raise VirtualTimeout from None
            raise

    loop = _VirtualLoop(driver)
    outer = asyncio.get_running_loop()
    inner: Any = loop  # its ready queue and timers are what decide whether to wait

    def step() -> None:
        asyncio.events._set_running_loop(loop)
        try:
            inner._run_once()
        finally:
            asyncio.events._set_running_loop(outer)

    task = loop.create_task(bounded())
    try:
        while not task.done():
            # the caller's loop goes on between steps (other branches start, as they
            # would on one loop); with nothing due here, it waits a little for real I/O
            await asyncio.sleep(0 if inner._ready or inner._scheduled else 0.001)
            step()
    except asyncio.CancelledError:
        task.cancel()
        while not task.done():
            step()
        raise
    finally:
        loop.close()
    return task.result()


class VirtualTimeout(Exception):
    """The awaited component ran past its limit on the virtual clock."""


class _VirtualSelector(selectors.DefaultSelector):
    """A selector that never waits: when nothing is ready and a timer is due in
    ``timeout`` seconds, it moves the driver's clock there instead."""

    def __init__(self, driver: Clocked) -> None:
        super().__init__()
        self.driver = driver

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if not ready and timeout:  # never blocks: with no timer due, the stepping waits
            self.driver.clock_ns += math.ceil(timeout * 1e9)
        return ready


class _VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is the fake driver's."""

    def __init__(self, driver: Clocked) -> None:
        super().__init__(_VirtualSelector(driver))
        self.driver = driver

    def time(self) -> float:
        return self.driver.clock_ns / 1e9
