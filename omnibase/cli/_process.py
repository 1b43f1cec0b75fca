"""The process around a command: ``-o FILE`` checked before anything runs, SIGTERM and
SIGHUP handled like Ctrl-C (the report's exit code then says which: ``finish_report``),
and, as the program, no child process or thread outliving the report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnibase.core.values import RunReport

__all__ = ["SIGNALLED", "answer_first", "at_end", "check_output", "exit_code", "finish_at_end", "finish_report", "guarded", "supervised"]

#: The signal (SIGTERM, SIGHUP) that interrupted this run, if any.
SIGNALLED: list[int] = []

#: The process that answers its client before it ends (a run the command server serves),
#: and the work ``at_end`` left it for after its answer.
_ANSWERING: list[int] = [0]
_AT_END: list[Callable[[], None]] = []


def answer_first() -> None:
    """Said by the command server's run before it runs the command line: this process
    answers its client, then does what ``at_end`` left (``finish_at_end``)."""
    _ANSWERING[0] = os.getpid()


def at_end(work: Callable[[], None]) -> None:
    """Do ``work`` (a write nothing in this run reads back, which says nothing on success:
    the last-run record) now, its errors the caller's; in a served run once it has
    answered, so that the commit does not wait for it. A process forked from the served
    run (the stash's supervised child) does its own at once."""
    if _ANSWERING[0] == os.getpid():
        _AT_END.append(work)
    else:
        work()


def finish_at_end() -> None:
    """Do what ``at_end`` left, in order. After the answer there is nobody to tell: an
    error leaves that file as it was (the write is atomic) and the rest is still done."""
    while _AT_END:
        try:
            _AT_END.pop(0)()
        except Exception:
            pass


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
    code = exit_code(code)
    if as_program:  # never when called from Python: no child, no thread outlives us
        if code == 130 or SIGNALLED:
            _kill_children()
        _exit_despite_threads(code)
    return code


def guarded(call: Callable[[], int]) -> int:
    """``call()``'s exit code; an interruption, a closed pipe or a bug end as one line on
    stderr and the matching code, never a traceback (also in a supervised run's child)."""
    try:
        return call()
    except KeyboardInterrupt:
        print("omnibase: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): not our failure, and no traceback either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last line of defence: a bug must not show a traceback
        if os.environ.get("OMNIBASE_DEBUG"):
            raise
        print(f"omnibase: internal error: {type(exc).__name__}: {exc} (set OMNIBASE_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def exit_code(code: int) -> int:
    """The exit code of a run that returned ``code``: 128 + N when signal N (SIGTERM,
    SIGHUP) stopped it as Ctrl-C would have (130)."""
    from omnibase.core.exits import signal_exit

    return signal_exit(SIGNALLED[0]) if SIGNALLED and code == 130 else code


def check_output(args: argparse.Namespace) -> str | None:
    """Make ``-o FILE`` absolute (components may change the current directory) and refuse,
    before anything runs, what the safe opener refuses (``omnibase._io.outputs``)."""
    from returns.result import Failure

    from omnibase._io.outputs import output_path

    checked = output_path(args.output, os.getcwd())
    if isinstance(checked, Failure):
        return f"-o {checked.failure()}"
    args.output = checked.unwrap()
    return None


def finish_report(report: RunReport, path: str | None) -> RunReport:
    """``report`` saying which registry file the run used (``""``: none), and with the exit
    code 128+N when signal N (SIGTERM, SIGHUP) interrupted it."""
    import msgspec

    from omnibase.core.exits import signal_exit

    code = signal_exit(SIGNALLED[0]) if SIGNALLED and report.outcome == "interrupted" else report.exit_code
    return msgspec.structs.replace(report, metadata={**report.metadata, "registry": path or ""}, exit_code=code)


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
    """Leave as the program once the report is out, without the interpreter's teardown.

    A non-daemon thread a component left running must not keep the process alive after
    the report: flush and leave at once. Otherwise do what the interpreter does at exit
    that anyone can see (wait for non-daemon threads, run the ``threading`` and ``atexit``
    hooks, flush stdout and stderr), then leave with ``os._exit``: what it skips is
    freeing every object and module one by one, some 20 ms after a run over a large tree
    that the caller (a git hook, a terminal) would wait for. Under a profiler (which
    writes its data once the program returns), when stdout cannot be flushed (the
    interpreter then says so and exits 120), or in a run the command server serves (it
    answers its client once the command returns), the ordinary way out stays."""
    threading = sys.modules.get("threading")
    if threading is not None:
        current = threading.current_thread()
        if any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate()):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    if not _may_skip_teardown():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe: the ordinary exit reports it
        return
    import atexit

    shutdown = getattr(threading, "_shutdown", None) if threading is not None else None
    if shutdown is not None:
        shutdown()  # the threading module's exit hooks (concurrent.futures joins its threads)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _may_skip_teardown() -> bool:
    """Whether this process may leave without the interpreter's teardown: not under a
    profiler (it writes its data once the program returns), not in a run the command
    server serves (the server answers its client once the command returns, then leaves
    with ``os._exit`` itself)."""
    return sys.getprofile() is None and _ANSWERING[0] != os.getpid()
