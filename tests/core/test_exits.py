"""Exit statuses of things stopped by a signal, checked against real child processes: what
a shell reports for a child killed by signal N is 128 + N, and omnibase must say the same."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from omnibase.core.exits import SIGNAL_BASE, exit_status, signal_exit, signal_of

SIGNALS = [signal.SIGHUP, signal.SIGINT, signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM]


def test_the_base_is_the_shells() -> None:
    assert SIGNAL_BASE == 128
    assert [signal_exit(int(s)) for s in SIGNALS] == [129, 130, 137, 139, 143]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_a_child_killed_by_a_signal_has_the_status_a_shell_gives(sig: signal.Signals) -> None:
    # the child kills itself (the signal's default action: a parent may ignore SIGINT);
    # Python sees -N, the shell running it reports 128 + N
    reset = f"signal.signal({int(sig)}, signal.SIG_DFL); " if sig != signal.SIGKILL else ""
    code = f"import os, signal; {reset}os.kill(os.getpid(), {int(sig)})"
    child = subprocess.run([sys.executable, "-c", code], check=False)
    assert child.returncode == -int(sig)
    assert exit_status(child.returncode) == 128 + int(sig)
    shell = subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{code}"; echo $?'], capture_output=True, text=True, check=False)
    assert exit_status(child.returncode) == int(shell.stdout.strip())
    assert signal_of(exit_status(child.returncode)) == int(sig)


def test_a_childs_wait_status_read_by_os_gives_the_same() -> None:
    pid = os.fork()
    if pid == 0:  # the child: stopped by SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(99)  # pragma: no cover - never reached
    _, status = os.waitpid(pid, 0)
    assert exit_status(os.waitstatus_to_exitcode(status)) == 143


@pytest.mark.parametrize("code", [0, 1, 2, 5, 127, 128, 255])
def test_an_ordinary_exit_status_is_kept_as_it_is(code: int) -> None:
    child = subprocess.run([sys.executable, "-c", f"import sys; sys.exit({code})"], check=False)
    assert exit_status(child.returncode) == code == child.returncode


def test_a_status_up_to_128_names_no_signal() -> None:
    assert [signal_of(s) for s in (0, 1, 2, 127, 128)] == [None] * 5
    assert [signal_of(s) for s in (129, 130, 137, 143, 255)] == [1, 2, 9, 15, 127]
