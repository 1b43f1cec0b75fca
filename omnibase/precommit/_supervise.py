"""The process that sets unstaged work aside is the process that puts it back.

``supervised_stash`` holds the stash lock, sets the work aside (signals deferred), then forks:
the child runs the checks (anything may happen there: a component that calls
``os._exit(0)``, a signal, a crash), the parent waits. When the child says the checks are
done, the parent puts the work back (signals deferred again) and tells the child how that
went; only then does the child print its report and exit. If the child ends without saying
so, the parent still puts the work back, and the run fails: a hook run that did not finish
and report never lets a commit through.

While it waits the parent holds SIGINT, SIGTERM, SIGHUP blocked and takes them with
``sigtimedwait``: one sent to it alone (``kill``, the command server's client) is passed on
to the child; one the terminal sent (Ctrl-C reaches the child too) is not passed twice.

Where forking is not safe (threads already running, e.g. a Dask client) or possible, the
same steps run in one process (``_stash.staged_only``), with signals still deferred. When
nothing was set aside (no unstaged change) and the caller knows that nothing the run starts
can end this process before it reports (``in_process``: built-in checks and commands only),
the fork guards nothing: the run happens in this process, the lock held (the everyday
commit saves a fork, its copied pages and a process's end).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import msgspec
from returns.result import Failure

from omnibase.precommit._stash import (
    Lookahead,
    Stashed,
    locked,
    stash,
    staged_only,
    unstash,
    unusable,
)

__all__ = ["Verdict", "supervised_stash"]


class Verdict(msgspec.Struct, frozen=True):
    """What the parent tells the child once the work is back."""

    rolled_back: bool
    error: str | None


_SI_KERNEL = 0x80  # si_code of a signal the kernel (the terminal) sent


def supervised_stash(
    root: str,
    gitdir: str,
    ahead: Lookahead | None,
    run: Callable[[Stashed], int],
    finish: Callable[[Stashed, int], int],
    refuse: Callable[[str], int],
    child_exit: Callable[[Callable[[], int]], int],
    say: Callable[[str], None],
    *,
    in_process: bool = False,
) -> int:
    """Run ``run(state)`` with the unstaged work set aside, then ``finish(state, code)`` once
    it is back (``state.rolled_back``/``state.error`` filled in); the exit code. ``refuse``:
    the stash could not be made (message, exit code). ``child_exit``: how the child turns
    ``run``+``finish`` (which may raise) into an exit code, as the CLI would.
    ``in_process``: nothing the run starts can end this process before it reports (the
    caller knows what it runs: built-in checks, commands in processes of their own). Then,
    when nothing was set aside (no unstaged change), there is nothing to put back and no
    end to guard against: the run happens in this process, the lock held, with no fork."""
    if not _can_fork():
        with staged_only(root, gitdir, ahead) as stashed:
            if isinstance(stashed, Failure):
                return refuse(stashed.failure().message)
            code = run(stashed.unwrap())
        return finish(stashed.unwrap(), code)
    import signal

    problem = unusable(gitdir)
    if problem is not None:
        return refuse(problem.message)
    stops: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    waited: set[int] = {*stops, signal.SIGCHLD, signal.SIGUSR1}
    with locked(gitdir, ahead) as lock:
        state = Stashed()
        old = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
        try:
            stashed = stash(root, gitdir, state, ahead if ahead is not None and ahead.fd is not None else None)
            if isinstance(stashed, Failure):
                return refuse(stashed.failure().message)
            early = _pending(stops)
            if early is not None:  # interrupted while setting aside: put back, run nothing
                unstash(root, state)
                say(_interrupted(state))
                return 128 + early
            if in_process and state.patch is None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
                return child_exit(lambda: finish(state, run(state)))
            to_parent_r, to_parent_w = os.pipe()
            to_child_r, to_child_w = os.pipe()
            sys.stdout.flush()
            sys.stderr.flush()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the run; never returns
                os.close(lock)  # the lock stays with the parent, which outlives the run
                os.close(to_parent_r)
                os.close(to_child_w)
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
                _child(state, parent, run, finish, child_exit, (to_parent_w, to_child_r), say)
            os.close(to_parent_w)
            os.close(to_child_r)
            code, reported = _wait(pid, to_parent_r, stops, waited)
            unstash(root, state)
            if reported:
                try:
                    os.write(to_child_w, msgspec.msgpack.encode(Verdict(state.rolled_back, state.error)))
                except OSError:
                    pass
                code, _ = _wait(pid, to_parent_r, stops, waited, done_reporting=True)
            else:
                say(_unfinished(code, state))
                if code == 0:
                    code = 1
            os.close(to_child_w)
            os.close(to_parent_r)
            return code
        finally:
            while _pending(tuple(waited)) is not None:  # taken and dealt with: not delivered again
                pass
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _can_fork() -> bool:
    if not hasattr(os, "fork") or not hasattr(__import__("signal"), "sigtimedwait"):
        return False
    return _threads() == 1


def _threads() -> int:
    """This process's threads: the kernel's count where it tells, since a thread started
    without ``threading`` (by ``_thread``, a C library, a test runner's channel) counts too:
    the signals the supervisor blocks are blocked in its own thread only, and one sent to
    the process (the child's SIGUSR1) could reach such a thread and end the process."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        threading = sys.modules.get("threading")
        return 1 if threading is None else threading.active_count()


def _pending(signals: tuple[int, ...]) -> int | None:
    """Take one of ``signals`` if it is pending (blocked); its number."""
    import signal

    info = signal.sigtimedwait(signals, 0)
    return None if info is None else info.si_signo


def _wait(
    pid: int, reports: int, stops: tuple[int, ...], waited: set[int], *, done_reporting: bool = False
) -> tuple[int, bool]:
    """Wait until the child reports (``RAN code``) or ends: ``(code, reported)``; with
    ``done_reporting``, until it ends. Stop signals sent to this process alone are passed
    on to the child."""
    import signal

    buffer = b""
    os.set_blocking(reports, False)
    while True:
        info = signal.sigtimedwait(tuple(waited), 1.0)
        if info is not None and info.si_signo in stops:
            if info.si_code != _SI_KERNEL:
                try:
                    os.kill(pid, info.si_signo)
                except OSError:
                    pass
        if not done_reporting:
            try:
                buffer += os.read(reports, 64)
            except BlockingIOError:
                pass
            if buffer.endswith(b"\n") and buffer.startswith(b"RAN "):
                return int(buffer[4:]), True
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return (128 - code if code < 0 else code), False


def _child(
    state: Stashed,
    parent: int,
    run: Callable[[Stashed], int],
    finish: Callable[[Stashed, int], int],
    child_exit: Callable[[Callable[[], int]], int],
    pipes: tuple[int, int],
    say: Callable[[str], None],
) -> None:
    """The run: ``run``, tell the parent, wait for the work to be back, ``finish``, exit."""
    import signal

    to_parent, from_parent = pipes

    def body() -> int:
        code = run(state)
        os.write(to_parent, b"RAN %d\n" % code)
        if os.getppid() == parent:
            os.kill(parent, signal.SIGUSR1)  # wakes the parent at once
        verdict = _read_verdict(from_parent)
        if verdict is None:
            say(f"the process that set your unstaged changes aside went away; they are in {state.patch} "
                "(run 'omnibase restore')")
            return max(code, 1)
        state.rolled_back, state.error = verdict.rolled_back, verdict.error
        return finish(state, code)

    code = 1
    try:
        code = child_exit(body)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        try:
            import atexit

            atexit._run_exitfuncs()
        finally:
            os._exit(code)


def _read_verdict(fd: int) -> Verdict | None:
    answer = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        answer += chunk
        try:
            return msgspec.msgpack.decode(answer, type=Verdict)
        except msgspec.DecodeError:
            continue


def _interrupted(state: Stashed) -> str:
    if state.error is not None:
        return f"interrupted; {state.error}"
    return "interrupted before anything ran; your unstaged changes are back in the working tree"


def _unfinished(code: int, state: Stashed) -> str:
    how = f"ended by signal {code - 128}" if code > 128 else f"exited {code}"
    back = state.error or "your unstaged changes are back in the working tree"
    return f"the run {how} before it finished and reported: nothing was checked to the end; {back}"
