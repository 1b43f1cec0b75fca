"""Live progress: an observer of the event stream that tells the person waiting how far a
run has got, on stderr (stdout is the report's alone).

Three styles (``choose_style`` picks one from ``--progress`` and the environment):

``live``
    An interactive terminal: one status line, redrawn in place at most ``rate`` times a
    second: elapsed time, running, done, failed and remaining steps, and the name of
    the step started last. ``close()`` erases it, so the report printed after it is whole.
``plain``
    Not a terminal, or ``CI=true``: a plain line every ``interval`` seconds, and one at
    the end.
``github``
    ``GITHUB_ACTIONS=true``: the plain lines inside a ``::group::``, and an ``::error``
    (``::warning``) annotation for each step that fails (warns).

Per event the work is one ``list.append`` (``observe``); the events are counted, and the
view drawn, on ``tick``, which ``start()`` calls from a background thread, throttled to
``rate`` a second; counting a batch of events runs at C speed. The
observer writes to its own duplicate of the stderr file descriptor, so a component's
captured output (the CLI redirects fds 1 and 2 around calls) never swallows it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import Any, Literal, TypeAlias

from omnibase.core.intents import Event, RetryScheduled, Started
from omnibase.core.values import Status, StepResult

__all__ = ["CHOICES", "Progress", "Style", "choose_style"]

Style: TypeAlias = Literal["live", "plain", "github"]
#: The statuses of a result ``_drain`` looks at one by one.
_NOT_PASSED = frozenset({Status.FAIL, Status.WARN, Status.SKIP})
_status = attrgetter("status")
#: What ``--progress`` accepts.
CHOICES = ("auto", "on", "off")


def _true(env: Mapping[str, str], key: str) -> bool:
    return env.get(key, "").strip().lower() in ("true", "1", "yes")


def choose_style(choice: str, *, isatty: bool, env: Mapping[str, str], debugging: bool = False) -> Style | None:
    """The progress style ``--progress CHOICE`` asks for, or None for no progress.

    ``auto`` (the default) shows the live view on an interactive terminal only (stderr a
    terminal, ``CI`` not true, ``TERM`` not ``dumb``, no debugger holding the terminal);
    ``on`` always shows progress: live on such a terminal, GitHub Actions groups and
    annotations when ``GITHUB_ACTIONS=true``, plain lines otherwise.

    >>> choose_style("auto", isatty=True, env={}), choose_style("auto", isatty=False, env={})
    ('live', None)
    >>> choose_style("on", isatty=False, env={"GITHUB_ACTIONS": "true"})
    'github'
    """
    interactive = isatty and not _true(env, "CI") and env.get("TERM", "") != "dumb" and not debugging
    if choice == "off" or (choice == "auto" and not interactive):
        return None
    if _true(env, "GITHUB_ACTIONS"):
        return "github"
    return "live" if interactive else "plain"


def _nothing() -> None:
    pass


def _escape_data(text: str) -> str:
    """A GitHub Actions workflow command's message: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Progress:
    """The progress observer (see the module docstring). ``total``: the steps the run
    has (``len(list(leaves(step)))``); ``write`` takes the text to show (default: write
    to a duplicate of stderr's file descriptor); ``clock``: monotonic seconds."""

    def __init__(
        self,
        total: int,
        style: Style,
        *,
        title: str = "",
        width: int = 80,
        rate: float = 10.0,
        interval: float = 10.0,
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.style = style
        self.title = title
        self.width = max(20, width)
        self.clock = clock
        self.started = clock()
        self.period = 1.0 / rate if style == "live" else interval
        self.next_draw = self.started + (self.period if style == "live" else interval)
        # invocations started (less the retries among them), unused, results, results of
        # steps never started, the Started event seen last, failures
        self._n: list[Any] = [0, 0, 0, 0, None, 0]
        # ``observe`` only queues the event: a list's append, a builtin, no Python frame on
        # every step; ``tick`` (the ticker thread) and the accessors count them
        self._queue: list[Event] = []
        self.observe: Callable[[Event], None] = self._queue.append
        self.drawn = False
        self.closed = False
        self._fd = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker = threading.Lock()  # starting, pausing and stopping the ticker thread
        self._ended = False
        self._forget: Callable[[], None] = _nothing
        self.write: Callable[[str], object] = write or self._write_fd
        if write is None:
            import sys

            try:
                self._fd = os.dup(sys.stderr.fileno())
            except (AttributeError, OSError, ValueError):  # a stderr with no file descriptor
                self.write = sys.stderr.write
        if style == "github":
            self.write(f"::group::omnibase {title}\n" if title else "::group::omnibase\n")

    def _write_fd(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        while data:
            try:
                n = os.write(self._fd, data)
            except OSError:  # the terminal went away: progress is not worth failing for
                return
            data = data[n:]

    def _drain(self) -> None:
        """Count the events queued since the last drain (under ``_lock``).

        Counting runs at C speed (``map``, ``list.count``, ``compress``): no Python frame
        per event, so the ticker thread steals little from the run. Only results that did
        not pass are looked at one by one."""
        queue = self._queue
        k = len(queue)
        if not k:
            return
        batch: list[Any] = queue[:k]
        del queue[:k]  # only what was read: the run may have queued more meanwhile
        n = self._n
        kinds = list(map(type, batch))
        started = kinds.count(Started)
        results = kinds.count(StepResult)
        n[0] += started - kinds.count(RetryScheduled)  # a retried step starts again
        if started:
            kinds.reverse()
            n[4] = batch[k - 1 - kinds.index(Started)]
            kinds.reverse()
        if results:
            n[2] += results
            found = list(compress(batch, map(is_, kinds, repeat(StepResult))))
            statuses = list(map(_status, found))
            if statuses.count(Status.PASS) < results:
                for result in compress(found, map(_NOT_PASSED.__contains__, statuses)):
                    self._not_passed(result)

    def _counted(self, i: int) -> Any:
        with self._lock:
            self._drain()
            return self._n[i]

    def __call__(self, event: Event) -> None:
        self.observe(event)

    @property
    def done(self) -> int:
        """Steps with a result."""
        return int(self._counted(2))

    @property
    def failed(self) -> int:
        """Steps that failed."""
        return int(self._counted(5))

    @property
    def current(self) -> str:
        """The name of the step started last."""
        started = self._counted(4)
        return str(started.name) if started is not None else ""

    def _not_passed(self, result: StepResult) -> None:
        if not result.attempts:
            self._n[3] += 1  # never started (skipped without a call): not among the running
        status = result.status
        if status is Status.FAIL:
            self._n[5] += 1
            if self.style == "github":
                self._annotate("error", result)
        elif status is Status.WARN and self.style == "github":
            self._annotate("warning", result)

    def start(self) -> Progress:
        """Draw from a background thread, ``rate`` times a second (live) or every
        ``interval`` seconds, until ``close``: a long step still shows its time passing,
        and the events themselves only update counters. The thread steps aside while the
        process forks its check workers (``omnibase._io.forks``), so they are forked
        rather than started from a fork server."""
        from omnibase._io.forks import stepping_aside

        with self._ticker:
            self._run_ticker()
            self._forget = stepping_aside(self._pause)
        return self

    def _run_ticker(self) -> None:
        stop = self._stop = threading.Event()

        def tick() -> None:
            while not stop.wait(self.period):
                self.tick(self.clock())

        self._thread = threading.Thread(target=tick, name="omnibase-progress", daemon=True)
        self._thread.start()

    def _stop_ticker(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _pause(self) -> Callable[[], None]:
        """Stop the ticker thread; returns what starts it again (unless closed meanwhile)."""
        with self._ticker:
            running = self._thread is not None
            self._stop_ticker()

        def resume() -> None:
            with self._ticker:
                if running and not self._ended and self._thread is None:
                    self._run_ticker()

        return resume

    def tick(self, now: float) -> None:
        """Draw the view at ``now`` if it is time to (throttled)."""
        with self._lock:
            if self.closed or now < self.next_draw:
                return
            self.next_draw = now + self.period
            self._drain()
            self._draw(now)

    def _annotate(self, level: str, result: StepResult) -> None:
        error = result.error
        message = str(getattr(error, "message", "") or getattr(error, "exc_type", "") or result.reason or result.status.value)
        self.write(f"::{level} title={_escape_property('omnibase: ' + result.name)}::{_escape_data(message)}\n")

    @property
    def running(self) -> int:
        """Steps started and not ended."""
        with self._lock:
            self._drain()
            return self._running()

    def _running(self) -> int:
        n = self._n
        return max(0, int(n[0]) - (int(n[2]) - int(n[3])))

    def line(self, now: float) -> str:
        """The status line at ``now`` (without the name of the running step)."""
        n = self._n
        running = self._running()
        left = max(0, self.total - int(n[2]) - running)
        failed = f", {n[5]} failed" if n[5] else ""
        return f"[{now - self.started:.1f}s] {running} running, {n[2]} done{failed}, {left} left"

    def _draw(self, now: float) -> None:
        text = self.line(now)
        if self.style != "live":
            self.write(f"omnibase: {self.title + ' ' if self.title else ''}{text}\n")
            return
        if self._running() and self._n[4] is not None:
            text += ": " + str(self._n[4].name)
        from omnibase.core.columns import clip

        # one line, never wrapped: erasing it must erase all of it
        text = clip("".join(c if c.isprintable() else "?" for c in text), self.width - 1)
        self.write(f"\r\x1b[2K{text}")
        self.drawn = True

    def close(self) -> None:
        """Stop drawing, and erase the live line (or write the last plain line and end
        the GitHub group), so what is printed next stands alone. Idempotent."""
        with self._ticker:
            self._ended = True
            self._forget()
            self._stop_ticker()
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self.style == "live":  # erased, not drawn: counting waits for an accessor
                if self.drawn:
                    self.write("\r\x1b[2K")
            else:
                self._drain()
                self._draw(self.clock())
                if self.style == "github":
                    self.write("::endgroup::\n")
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
