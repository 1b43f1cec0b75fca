"""How an exit status says "a signal stopped it": 128 + the signal's number, as shells
report a child killed by a signal. The one place omnibase computes it (the CLI after
SIGTERM/SIGHUP, the command server for its runs, the command performer reading a shell's
status); the hook's stdlib-only client keeps a copy that a test holds equal.

>>> signal_exit(2), signal_exit(15)
(130, 143)
>>> exit_status(-15), exit_status(3)
(143, 3)
>>> signal_of(137), signal_of(1)
(9, None)
"""

from __future__ import annotations

__all__ = ["SIGNAL_BASE", "exit_status", "signal_exit", "signal_of"]

SIGNAL_BASE = 128


def signal_exit(signum: int) -> int:
    """The exit status of something signal ``signum`` stopped."""
    return SIGNAL_BASE + signum


def exit_status(returncode: int) -> int:
    """A child's return code as Python gives it (``-N`` after signal N, as from
    ``Popen.returncode`` or ``os.waitstatus_to_exitcode``) as an exit status."""
    return signal_exit(-returncode) if returncode < 0 else returncode


def signal_of(status: int) -> int | None:
    """The signal an exit status above 128 reports (a shell's child killed by it), else None."""
    return status - SIGNAL_BASE if status > SIGNAL_BASE else None
