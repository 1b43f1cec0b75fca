"""Fixtures of the built-ins' tests (helpers to import are in tests/support.py)."""

from __future__ import annotations

import contextlib
import resource
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest


@pytest.fixture
def file_size_limit() -> Callable[[int], AbstractContextManager[None]]:
    """``with file_size_limit(n):`` a real write past ``n`` bytes fails with EFBIG ("File
    too large") in this process, as under ``ulimit -f``; SIGXFSZ is ignored meanwhile (its
    default would end the process) and both are restored after. Keep the block short: any
    file this process writes meanwhile is limited too."""

    @contextlib.contextmanager
    def limit(size: int) -> Iterator[None]:
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, handler)

    return limit
