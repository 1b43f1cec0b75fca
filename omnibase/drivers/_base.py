"""The performer protocol and the two loops that drive the interpreter with a performer.

A *performer* answers one intent at a time (``perform(intent) -> answer``, or ``async``
for an asynchronous performer): ``Invoke`` with a ``Called``, ``Sleep`` with None, ``NOW``
with monotonic nanoseconds, ``WALL`` with seconds since the epoch. The *loops* own the
rest: ``drive`` (sync) and ``adrive`` (asyncio) feed the interpreter's intents to the
performer, hand events to the observers, and run ``Fork`` branches (one after another in
``drive``; concurrently, up to ``jobs`` at once, in ``adrive``). ``run``/``arun`` put an
interpreter, a performer and observers together (``omnibase.drivers.runs``, above the
performers they default to). See ``docs/performers.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, Protocol, runtime_checkable

from omnibase.core.intents import EVENT_TYPES, Cancelled, Event, Fork, Intent, Invoke, Started

__all__ = ["AsyncPerformer", "Observer", "Performer", "adrive", "drive", "observers_of"]

#: An observer sees every event (starts, step results, retries, breaker changes) as it happens.
Observer = Callable[[Event], None]

Program = Generator[Intent, Any, Any]


@runtime_checkable
class Performer(Protocol):
    """Answers one intent (not ``Fork``, not events: the loop handles those)."""

    def perform(self, intent: Intent) -> Any: ...


@runtime_checkable
class AsyncPerformer(Protocol):
    """Answers one intent, asynchronously (``arun``/``adrive`` await it)."""

    async def aperform(self, intent: Intent) -> Any: ...


def observers_of(performer: object, extra: Sequence[Observer]) -> tuple[Observer, ...]:
    """The observers a performer carries (its ``observers``), then ``extra``."""
    return (*getattr(performer, "observers", ()), *extra)


def drive(program: Program, performer: Performer, observers: Sequence[Observer] = ()) -> Any:
    """Carry ``program`` to its end with ``performer``; its return value.

    A ``KeyboardInterrupt`` met while performing is thrown into the program, which turns
    it into a partial report.
    """
    perform = performer.perform
    events = EVENT_TYPES
    watchers: tuple[Callable[[Any], None], ...] = tuple(observers)  # events are all they get
    try:
        intent = next(program)
        while True:
            try:
                if type(intent) is Invoke:
                    if watchers:  # inline: this is on every invocation
                        started = Started(name=intent.component.name, span_id=intent.span_id, attempt=intent.attempt)
                        for observe in watchers:
                            observe(started)
                    answer = perform(intent)
                elif type(intent) in events:
                    for observe in watchers:
                        observe(intent)
                    answer = None
                elif type(intent) is Fork:
                    answer = _fork(intent, performer, watchers)
                else:
                    answer = perform(intent)
            except KeyboardInterrupt as stop:
                intent = program.throw(stop)
                continue
            intent = program.send(answer)
    except StopIteration as done:
        return done.value


def _started(intent: Invoke, observers: Sequence[Observer]) -> None:
    """Tell the observers that ``intent`` is about to be performed. The loops derive this
    event from the ``Invoke`` itself (same name, span id and attempt), so a run without
    observers pays nothing for it."""
    event = Started(name=intent.component.name, span_id=intent.span_id, attempt=intent.attempt)
    for observe in observers:
        observe(event)


def _fork(fork: Fork, performer: Performer, observers: Sequence[Observer]) -> tuple[Any, ...]:
    """Branches one after another; under ``fail_fast`` the ones after a failure never start."""
    answers: list[Any] = []
    stopped = False
    for branch in fork.branches:
        if stopped:
            branch.close()
            answers.append(None)
            continue
        outcome = drive(branch, performer, observers)
        answers.append(outcome)
        stopped = fork.fail_fast and (outcome is None or not outcome[0])
    return tuple(answers)


async def adrive(
    program: Program, performer: AsyncPerformer, observers: Sequence[Observer] = (), *, jobs: int | None = None
) -> Any:
    """Carry ``program`` to its end with an asynchronous ``performer``.

    ``Fork`` branches run concurrently, each in its own task, at most ``jobs`` invocations
    at a time (default: unbounded here; the performer may bound its own pools). Under
    ``fail_fast`` the first failed branch cancels the others (``Cancelled`` is thrown into
    them). Cancelling the task that runs ``adrive`` (Ctrl-C under ``asyncio.run``, SIGTERM,
    a caller's timeout) throws ``KeyboardInterrupt`` into the program, which ends with a
    partial report: ``adrive`` then returns that report instead of raising.
    """
    import asyncio

    limit = _Slots(jobs, asyncio.get_running_loop()) if jobs else None
    return await _adrive(program, performer.aperform, tuple(observers), limit, None, asyncio.current_task())


class _Slots:
    """At most ``size`` invocations at once, first come first served: an
    ``asyncio.Semaphore`` without its per-call coroutine (this is on every invocation)."""

    __slots__ = ("free", "waiters", "loop")

    def __init__(self, size: int, loop: Any) -> None:
        import collections

        self.free = size
        self.waiters: collections.deque[Any] = collections.deque()
        self.loop = loop

    def take(self) -> Any:
        """None when a slot was free (it is now taken); else a future that is resolved when
        a slot is handed over."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return None
        waiter = self.loop.create_future()
        self.waiters.append(waiter)
        return waiter

    def give(self) -> None:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # cancelled waiters gave up their turn
                waiter.set_result(None)
                return
        self.free += 1


class _Scope:
    """The fork a branch runs in: did it cancel its branches because one failed (fail-fast)?

    A branch cancelled while no enclosing fork failed is cancelled because the run is.
    """

    __slots__ = ("parent", "fail_fast", "failed")

    def __init__(self, parent: _Scope | None, fail_fast: bool) -> None:
        self.parent = parent
        self.fail_fast = fail_fast
        self.failed = False

    def cancelled_by_failure(self) -> bool:
        scope: _Scope | None = self
        while scope is not None:
            if scope.failed:
                return True
            scope = scope.parent
        return False


async def _adrive(
    program: Program,
    aperform: Callable[[Intent], Awaitable[Any]],
    observers: tuple[Observer, ...],
    limit: Any,
    scope: _Scope | None,
    root: Any,
) -> Any:
    """``adrive``'s loop for the run (``scope`` None) or one fork branch; ``root`` is the
    task running the whole run."""
    import asyncio

    events = EVENT_TYPES
    watchers: tuple[Callable[[Any], None], ...] = observers  # events are all they get
    if scope is not None and scope.cancelled_by_failure():
        program.close()  # a sibling failed before this branch started: it never starts
        return None
    try:
        intent = next(program)
        while True:
            try:
                if type(intent) in events:
                    for observe in watchers:
                        observe(intent)
                    answer = None
                elif type(intent) is Fork:
                    answer = await _afork(intent, aperform, observers, limit, _Scope(scope, intent.fail_fast), root)
                elif type(intent) is Invoke and (limit is not None or scope is not None):
                    if limit is not None:
                        waiter = limit.take()
                        if waiter is not None:
                            try:
                                await waiter
                            except asyncio.CancelledError:
                                if waiter.done() and not waiter.cancelled():
                                    limit.give()  # handed a slot, but cancelled before using it
                                raise
                    try:
                        # a sibling failed under fail-fast: start nothing new
                        if scope is not None and scope.cancelled_by_failure():
                            raise asyncio.CancelledError
                        if observers:
                            _started(intent, observers)
                        answer = await aperform(intent)
                    finally:
                        if limit is not None:
                            limit.give()
                else:
                    if observers and type(intent) is Invoke:
                        _started(intent, observers)
                    answer = await aperform(intent)
            except asyncio.CancelledError:
                # A cancelled branch records what it did and answers None; the whole run,
                # cancelled, ends with a partial report.
                if scope is None:
                    intent = program.throw(KeyboardInterrupt())
                else:
                    intent = program.throw(Cancelled(interrupted=not scope.cancelled_by_failure()))
                continue
            except KeyboardInterrupt as stop:
                if scope is None:
                    intent = program.throw(stop)
                else:  # raised by a component in a branch: the whole run is interrupted
                    if root is not None:
                        root.cancel()
                    intent = program.throw(Cancelled(interrupted=True))
                continue
            intent = program.send(answer)
    except StopIteration as done:
        if scope is not None and scope.fail_fast and done.value is not None and not done.value[0]:
            scope.failed = True  # before any sibling starts another invocation
        return done.value


async def _afork(
    fork: Fork,
    aperform: Callable[[Intent], Awaitable[Any]],
    observers: tuple[Observer, ...],
    limit: Any,
    scope: _Scope,
    root: Any,
) -> tuple[Any, ...]:
    import asyncio

    start = asyncio.get_running_loop().create_task
    tasks = [start(_adrive(b, aperform, observers, limit, scope, root)) for b in fork.branches]
    if not fork.fail_fast:
        # In order, not through gather: most branches are done by the time they are awaited,
        # which costs nothing. A cancellation of this task reaches the branch awaited then,
        # which records it and returns normally, so "were we cancelled" is asked of the task.
        me = asyncio.current_task()
        asked = me.cancelling() if me is not None else 0
        answers_in_order: list[Any] = []
        try:
            for task in tasks:
                answers_in_order.append(await task)
                if me is not None and me.cancelling() > asked:
                    raise asyncio.CancelledError
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # each records what it did
            raise
        return tuple(answers_in_order)
    answers: list[Any] = [None] * len(tasks)
    index = {t: i for i, t in enumerate(tasks)}
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failed = False
            for task in done:
                answers[index[task]] = outcome = task.result()
                failed = failed or outcome is None or not outcome[0]
            if failed:
                scope.failed = True
                break
    finally:
        for task in pending:
            task.cancel()
        if pending:
            # A cancelled branch records what it did and answers None (cancelled).
            await asyncio.gather(*pending, return_exceptions=True)
    return tuple(answers)
