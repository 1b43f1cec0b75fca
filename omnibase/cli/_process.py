"""The process around a command: ``-o FILE`` checked before anything runs, SIGTERM and
SIGHUP handled like Ctrl-C, and, as the program, no child process or thread outliving
the report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

__all__ = ["SIGNALLED", "supervised"]

#: The signal (SIGTERM, SIGHUP) that interrupted this run, if any.
SIGNALLED: list[int] = []


def _stop(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP stop a run as Ctrl-C does (children killed and reaped, partial
    report printed); the exit code is then 128 + the signal's number."""
    if not SIGNALLED:
        SIGNALLED.append(signum)
        raise KeyboardInterrupt


def supervised(args: argparse.Namespace, run: Callable[[argparse.Namespace], int], *, as_program: bool) -> int:
    """``run(args)`` under the rules above; its exit code (128 + N after signal N)."""
    import signal

    if getattr(args, "output", None):
        from omnibase.cli._commands import check_output

        problem = check_output(args)
        if problem is not None:
            print(f"omnibase: {problem}", file=sys.stderr)
            return 2
    SIGNALLED.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for sig in previous:
            signal.signal(sig, _stop)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        code = run(args)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if SIGNALLED and code == 130:
        from omnibase.core.exits import signal_exit

        code = signal_exit(SIGNALLED[0])
    if as_program:  # never when called from Python: no child, no thread outlives us
        if code == 130 or SIGNALLED:
            _kill_children()
        _exit_despite_threads(code)
    return code


def _kill_children() -> None:
    """After an interruption: kill and reap any child process still running (and the
    process group it leads), e.g. one started just as the signal came (Linux: /proc)."""
    import signal

    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and int(fields[1]) == me:
            try:
                if int(fields[2]) == pid:  # it leads its own group (start_new_session)
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (OSError, ChildProcessError):
                pass


def _exit_despite_threads(code: int) -> None:
    """A non-daemon thread a component left running must not keep the process alive
    after the report: flush and leave at once (as the program, never when called)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    current = threading.current_thread()
    if any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
