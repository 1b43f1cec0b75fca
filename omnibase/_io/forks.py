"""Threads of ours that step aside while this process forks.

A child forked while another thread of the process runs starts with that thread's locks
as they were at that instant, held or not, and nothing in the child ever releases them.
So the shared check pool (``omnibase.builtins._run``) forks its workers only while the
caller is the process's one thread; otherwise it starts them from a fork server, which
costs a fresh interpreter and its imports (on the standard library's 2,452 files, about
50 ms of wall time and 0.3 s of CPU more). A thread of ours that can stop and start again
at no cost (the progress line's ticker) registers how to pause it here, and ``alone``
pauses every such thread for the fork and starts them again after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Pause", "alone", "stepping_aside"]

#: Stops a thread and returns how to start it again.
Pause = Callable[[], Callable[[], None]]

_PAUSES: list[Pause] = []
_LOCK = threading.Lock()


def stepping_aside(pause: Pause) -> Callable[[], None]:
    """Register ``pause`` (a thread that may be stopped while the process forks); returns
    the function that unregisters it (when the thread ends for good)."""
    with _LOCK:
        _PAUSES.append(pause)

    def forget() -> None:
        with _LOCK:
            if pause in _PAUSES:
                _PAUSES.remove(pause)

    return forget


@contextmanager
def alone() -> Iterator[bool]:
    """Pause every registered thread for the ``with`` block, and say whether the caller
    is then the process's one thread (so that forking is safe); the paused threads start
    again when the block ends, however it ends."""
    with _LOCK:
        pauses = list(_PAUSES)
    resumes: list[Callable[[], None]] = []
    try:
        for pause in pauses:
            resumes.append(pause())
        yield threading.active_count() == 1
    finally:
        for resume in resumes:
            resume()
