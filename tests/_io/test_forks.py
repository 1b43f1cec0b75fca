"""Our own threads step aside while the process forks its check workers.

What a user relies on: a run at a terminal (with the live progress line, a thread of its
own) forks its check workers as a run without it does, instead of paying for a fork
server (a fresh interpreter, its imports: about 50 ms on a whole tree), and the progress
line goes on afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable

import pytest

from omnibase._io.forks import alone, stepping_aside
from omnibase.observers.progress import Progress


class Sleeper:
    """A thread that waits until told to stop; its pause stops it and says how to start a new one."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.stop = threading.Event()
        self.start()

    def start(self) -> None:
        self.stop = threading.Event()
        t = threading.Thread(target=self.stop.wait, daemon=True)
        t.start()
        self.threads.append(t)

    def pause(self) -> Callable[[], None]:
        self.stop.set()
        self.threads[-1].join()
        return self.start

    @property
    def running(self) -> bool:
        return self.threads[-1].is_alive()


def test_registered_threads_are_stopped_inside_and_started_again_after() -> None:
    a, b = Sleeper(), Sleeper()
    forget_a, forget_b = stepping_aside(a.pause), stepping_aside(b.pause)
    try:
        before = threading.active_count()
        with alone():
            assert not a.running and not b.running
            assert threading.active_count() == before - 2
        assert a.running and b.running and len(a.threads) == len(b.threads) == 2
    finally:
        forget_a(), forget_b()
        a.pause(), b.pause()


def test_they_start_again_when_the_block_raises_and_not_once_forgotten() -> None:
    a = Sleeper()
    forget = stepping_aside(a.pause)
    with pytest.raises(RuntimeError):
        with alone():
            raise RuntimeError("the fork failed")
    assert a.running and len(a.threads) == 2
    forget()
    forget()  # twice is harmless
    with alone():
        assert a.running  # not registered any more: left alone
    a.pause()


def test_the_answer_is_whether_the_caller_is_the_one_thread_left() -> None:
    a = Sleeper()
    stranger = threading.Thread(target=threading.Event().wait, args=(5,), daemon=True)
    stranger.start()  # not ours to pause
    forget = stepping_aside(a.pause)
    try:
        with alone() as single:
            assert single is False and stranger.is_alive()
    finally:
        forget()
        a.pause()


def test_a_progress_line_pauses_for_the_fork_and_draws_again_after() -> None:
    lines: list[str] = []
    progress = Progress(3, "plain", title="t", interval=0.01, write=lines.append).start()
    try:
        first = progress._thread
        assert first is not None and first.is_alive()
        with alone():
            assert progress._thread is None and not first.is_alive()
        assert progress._thread is not None and progress._thread.is_alive() and progress._thread is not first
        drawn = len(lines)
        progress._thread.join(0.1)  # the new ticker draws
        assert len(lines) > drawn
    finally:
        progress.close()
    assert progress._thread is None
    with alone():  # closed: forgotten, never started again
        pass
    assert progress._thread is None


def test_a_progress_line_closed_while_paused_is_not_started_again() -> None:
    progress = Progress(3, "plain", title="t", interval=0.01, write=lambda _s: None).start()
    resume = progress._pause()
    progress.close()
    resume()
    assert progress._thread is None


def test_the_check_pool_forks_its_workers_while_a_progress_line_runs() -> None:
    """In a process of its own: which threads run is then known (a test runner has its own)."""
    code = textwrap.dedent(
        """
        import threading
        from omnibase.builtins import _run
        from omnibase.observers.progress import Progress

        progress = Progress(3, "plain", title="t", interval=0.01, write=lambda _s: None).start()
        assert threading.active_count() == 2
        pool = _run._pool(2)
        print(type(pool).__name__, progress._thread.is_alive(), len(pool.pids))
        progress.close()
        _run.release_pool()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ForkPool", "True", "2"]
