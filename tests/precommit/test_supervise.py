"""The supervisor in process: the test is the parent that sets the work aside and puts it
back; the checks run in a forked child (the ``run`` and ``finish`` given here write what
they saw to files, the only way out of the child). Whatever the child does (report, exit
early, die by a signal, be signalled through the parent), the work comes back and the exit
code says what happened (128+N for signal N)."""

from __future__ import annotations

import atexit
import sys
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from omnibase.precommit._stash import Lookahead, Stashed, leftover_patches, look_ahead, staged_only
from omnibase.precommit._supervise import Verdict, _child, _read_verdict, _threads, supervised_stash
from tests.precommit.conftest import Snapshot
from tests.support import Repo

Snap = Callable[[Path], Snapshot]


class Log:
    """Lines written by either process (a file: the child's memory is not the test's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def __call__(self, line: str) -> None:
        with open(self.path, "a") as f:
            f.write(line + "\n")

    @property
    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "log.txt")


@pytest.fixture
def said(tmp_path: Path) -> Log:
    return Log(tmp_path / "said.txt")


@pytest.fixture
def edited(repo: Repo) -> Repo:
    repo.seed({"a.txt": "1\n2\n3\n", "b.txt": "b\n"})
    repo.write("a.txt", "1\n2\n3, mine\n")
    return repo


def _refuse(log: Log) -> Callable[[str], int]:
    def refuse(message: str) -> int:
        log(f"refused: {message}")
        return 2

    return refuse


def _plain_exit(body: Callable[[], int]) -> int:
    return body()


def single_threaded(fn: Callable[[], int]) -> int:
    """``fn()`` where this process has one thread, as the supervisor needs to fork: here
    when it has (mutmut sees the calls then), else in a forked child (a test runner's worker
    may have a thread of its own); its result, or its failure raised here."""
    if _threads() == 1:
        return fn()
    import pickle
    import traceback

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reported through the pipe
        os.close(r)
        try:
            out = pickle.dumps((True, fn()))
        except BaseException:
            out = pickle.dumps((False, traceback.format_exc()))
        with os.fdopen(w, "wb") as f:
            f.write(out)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    ok, value = pickle.loads(data)
    if not ok:
        raise AssertionError(f"in the single-threaded child:\n{value}")
    return int(value)


def _supervise(repo: Repo, run: Callable[[Stashed], int], finish: Callable[[Stashed, int], int], log: Log,
               said: Log, child_exit: Callable[[Callable[[], int]], int] = _plain_exit, *, ahead: Lookahead | None = None,
               forks: bool = True, pending: int | None = None) -> int:  # fmt: skip
    """``supervised_stash`` in the repository. With ``forks`` (in a single-threaded process),
    the checks must not run in this process (the one holding the user's work), and after it
    the signal mask is as before and no signal it took (the child's SIGUSR1, ``pending``:
    a stop signal already waiting when it starts) reaches this process."""
    if not forks:
        return supervised_stash(str(repo.root), str(repo.root / ".git"), ahead, run, finish, _refuse(log), child_exit, said)

    def supervised() -> int:
        owner = os.getpid()

        def checked(state: Stashed) -> int:
            if os.getpid() == owner:
                raise AssertionError("the checks ran in the process that holds the unstaged work")
            return run(state)

        got: list[int] = []
        watched = [signal.SIGUSR1, *([pending] if pending else [])]
        handlers = {n: signal.signal(n, lambda n, f: got.append(n)) for n in watched}
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
        if pending:
            signal.pthread_sigmask(signal.SIG_BLOCK, {pending})
            os.kill(os.getpid(), pending)  # waiting when the supervisor starts: as if it came during the stash
        try:
            code = supervised_stash(str(repo.root), str(repo.root / ".git"), ahead, checked, finish, _refuse(log),
                                    child_exit, said)  # fmt: skip
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for n, old in handlers.items():
                signal.signal(n, old)
        assert got == []  # taken by the supervisor, never delivered
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == mask
        return code

    return single_threaded(supervised)


def _finish_logging(log: Log, root: Path) -> Callable[[Stashed, int], int]:
    def finish(state: Stashed, code: int) -> int:
        log(f"finish {code} rolled_back={state.rolled_back} error={state.error}")
        log(f"finish sees {(root / 'a.txt').read_bytes()!r}")
        return code

    return finish


def _quiet_atexit() -> None:
    """In the child: drop the handlers pytest registered (they are the test process's)."""
    atexit._clear()


def test_the_checks_run_in_a_child_on_the_index_and_finish_once_the_work_is_back(
    edited: Repo, log: Log, said: Log, snap: Snap
) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        _quiet_atexit()
        atexit.register(log, "atexit ran")
        log(f"run in {os.getpid()} sees {(edited.root / 'a.txt').read_bytes()!r} index={state.worktree_is_index}")
        return 1

    def finish(state: Stashed, code: int) -> int:
        _finish_logging(log, edited.root)(state, code)
        return code + 4

    assert _supervise(edited, run, finish, log, said) == 5
    assert log.lines == [
        f"run in {log.lines[0].split()[2]} sees b'1\\n2\\n3\\n' index=True",
        "finish 1 rolled_back=False error=None",
        "finish sees b'1\\n2\\n3, mine\\n'",
        "atexit ran",
    ]
    assert int(log.lines[0].split()[2]) != os.getpid()
    assert said.lines == []
    assert snap(edited.root) == before
    assert leftover_patches(str(edited.root / ".git")) == []


def test_with_threads_running_the_checks_run_in_this_process(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    before = snap(edited.root)
    seen: list[tuple[int, bytes]] = []

    def run(state: Stashed) -> int:
        seen.append((os.getpid(), (edited.root / "a.txt").read_bytes(), state.worktree_is_index))
        return 3

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        code = _supervise(edited, run, _finish_logging(log, edited.root), log, said, forks=False)
    finally:
        stop.set()
        other.join()
    assert code == 3
    assert seen == [(os.getpid(), b"1\n2\n3\n", True)]
    assert log.lines == ["finish 3 rolled_back=False error=None", "finish sees b'1\\n2\\n3, mine\\n'"]
    assert snap(edited.root) == before


def test_with_threads_running_left_over_work_is_refused(edited: Repo, log: Log, said: Log) -> None:
    folder = edited.root / ".git" / "omnibase" / "patches"
    folder.mkdir(parents=True)
    (folder / "1-1.stash").write_bytes(b"")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        code = _supervise(edited, lambda s: 0, lambda s, c: 0, log, said, forks=False)
    finally:
        stop.set()
        other.join()
    assert code == 2
    assert log.lines == [
        f"refused: an interrupted run left your unstaged changes in {folder / '1-1.stash'}; run 'omnibase restore' "
        "to put them back into the working tree, then commit again; nothing was checked"
    ]


def _ahead(repo: Repo) -> Lookahead:
    """The look-ahead a run takes early (the lock file exists once a first run made it)."""
    with staged_only(str(repo.root), str(repo.root / ".git")):
        pass
    ahead = look_ahead(str(repo.root), str(repo.root / ".git"))
    assert ahead is not None
    return ahead


@pytest.mark.parametrize("threads", [False, True])
def test_a_run_with_the_lock_taken_early_uses_it(edited: Repo, log: Log, said: Log, snap: Snap, threads: bool) -> None:
    before = snap(edited.root)
    ahead = _ahead(edited)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    if threads:
        other.start()

    def run(state: Stashed) -> int:
        _quiet_atexit()
        log(f"run sees {(edited.root / 'a.txt').read_bytes()!r} unstaged={state.status and state.status.unstaged}")
        return 0

    try:
        code = _supervise(edited, run, lambda s, c: c, log, said, ahead=ahead, forks=not threads)
    finally:
        stop.set()
        if threads:
            other.join()
        ahead.close()
    assert code == 0
    assert log.lines == ["run sees b'1\\n2\\n3\\n' unstaged=(('M', 'a.txt'),)"]
    assert snap(edited.root) == before


def test_a_look_ahead_closed_before_the_run_is_not_used(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    before = snap(edited.root)
    ahead = _ahead(edited)
    ahead.close()  # its git status cancelled, its lock let go: the run takes both itself

    def run(state: Stashed) -> int:
        _quiet_atexit()
        log(f"run sees {(edited.root / 'a.txt').read_bytes()!r}")
        return 0

    assert _supervise(edited, run, lambda s, c: c, log, said, ahead=ahead) == 0
    assert log.lines == ["run sees b'1\\n2\\n3\\n'"]
    assert snap(edited.root) == before


@pytest.mark.parametrize("in_process", [True, False])
def test_a_clean_tree_runs_in_this_process_only_when_the_caller_vouches_for_the_run(
    repo: Repo, log: Log, said: Log, in_process: bool
) -> None:
    repo.seed({"a.txt": "a\n"})
    repo.write("a.txt", "staged\n")
    repo.stage("a.txt")  # nothing unstaged: nothing is set aside

    def supervised() -> int:
        owner = os.getpid()
        mask = sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set()))

        def run(state: Stashed) -> int:
            _quiet_atexit()
            here = os.getpid() == owner
            log(f"run here={here} patch={state.patch} index={state.worktree_is_index} "
                f"mask={sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())) == mask}")  # fmt: skip
            return 3

        def finish(state: Stashed, code: int) -> int:
            log(f"finish {code} here={os.getpid() == owner} patch={state.patch}")
            return code + 1

        vouched = {"in_process": True} if in_process else {}  # not vouched for: the default
        code = supervised_stash(str(repo.root), str(repo.root / ".git"), None, run, finish, _refuse(log), _plain_exit,
                                said, **vouched)  # fmt: skip
        assert sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())) == mask
        return code

    assert single_threaded(supervised) == 4
    assert log.lines == [
        f"run here={in_process} patch=None index=True mask=True",
        f"finish 3 here={in_process} patch=None",
    ]
    assert said.lines == []


def test_a_run_that_sets_work_aside_forks_even_when_the_caller_vouches(edited: Repo, log: Log, said: Log) -> None:
    def supervised() -> int:
        owner = os.getpid()

        def run(state: Stashed) -> int:
            _quiet_atexit()
            log(f"run here={os.getpid() == owner} saved={state.patch is not None}")
            return 0

        return supervised_stash(str(edited.root), str(edited.root / ".git"), None, run, lambda s, c: c, _refuse(log),
                                _plain_exit, said, in_process=True)  # fmt: skip

    assert single_threaded(supervised) == 0
    assert log.lines == ["run here=False saved=True"]


def test_a_fix_that_conflicts_is_rolled_back_and_the_child_is_told(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        _quiet_atexit()
        edited.write("a.txt", "1\n2\n3, fixed\n")
        edited.write("b.txt", "b, fixed\n")
        return 1

    assert _supervise(edited, run, _finish_logging(log, edited.root), log, said) == 1
    assert log.lines[0] == "finish 1 rolled_back=True error=None"
    assert snap(edited.root) == before


def test_work_that_cannot_go_back_is_kept_and_the_child_is_told_why(edited: Repo, log: Log, said: Log) -> None:
    def run(state: Stashed) -> int:
        _quiet_atexit()
        (edited.root / "a.txt").unlink()
        (edited.root / "a.txt").mkdir()
        return 0

    def finish(state: Stashed, code: int) -> int:
        log(f"finish {code} rolled_back={state.rolled_back} error={state.error}")
        return code

    assert _supervise(edited, run, finish, log, said) == 0
    saved = leftover_patches(str(edited.root / ".git"))
    assert len(saved) == 1
    assert log.lines[0].startswith("finish 0 rolled_back=True error=cannot put your unstaged changes back (")
    assert log.lines[0].endswith(f"; they are safe in {saved[0]} (run 'omnibase restore')")


@pytest.mark.parametrize("code", [0, 3, 128])
def test_a_child_that_exits_without_reporting_fails_the_run(
    edited: Repo, log: Log, said: Log, snap: Snap, code: int
) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        os._exit(code)  # a component that ends the process itself

    assert _supervise(edited, run, _finish_logging(log, edited.root), log, said) == (code or 1)
    assert log.lines == []  # finish never ran
    assert said.lines == [
        f"the run exited {code} before it finished and reported: nothing was checked to the end; your unstaged "
        "changes are back in the working tree"
    ]
    assert snap(edited.root) == before


def test_a_child_killed_by_a_signal_gives_128_plus_its_number(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    assert _supervise(edited, run, _finish_logging(log, edited.root), log, said) == 128 + signal.SIGKILL
    assert said.lines == [
        "the run ended by signal 9 before it finished and reported: nothing was checked to the end; your unstaged "
        "changes are back in the working tree"
    ]
    assert snap(edited.root) == before


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_sent_to_the_parent_alone_is_passed_on_to_the_child(
    edited: Repo, log: Log, said: Log, snap: Snap, signo: int
) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        signal.signal(signo, signal.SIG_DFL)
        os.kill(os.getppid(), signo)  # as `kill PARENT` or the command server's client would
        time.sleep(15)
        return 0

    assert _supervise(edited, run, _finish_logging(log, edited.root), log, said) == 128 + signo
    assert said.lines == [
        f"the run ended by signal {signo} before it finished and reported: nothing was checked to the end; your "
        "unstaged changes are back in the working tree"
    ]
    assert snap(edited.root) == before


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_while_the_work_is_set_aside_runs_nothing(
    edited: Repo, log: Log, said: Log, snap: Snap, signo: int
) -> None:
    before = snap(edited.root)
    code = _supervise(edited, lambda s: log("ran") or 0, _finish_logging(log, edited.root), log, said, pending=signo)
    assert code == 128 + signo
    assert log.lines == []
    assert said.lines == ["interrupted before anything ran; your unstaged changes are back in the working tree"]
    assert snap(edited.root) == before
    assert leftover_patches(str(edited.root / ".git")) == []


def test_left_over_work_refuses_the_run(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    folder = edited.root / ".git" / "omnibase" / "patches"
    folder.mkdir(parents=True)
    (folder / "1-1.stash").write_bytes(b"")
    before = snap(edited.root)
    assert _supervise(edited, lambda s: log("ran") or 0, lambda s, c: 0, log, said) == 2
    assert log.lines == [
        f"refused: an interrupted run left your unstaged changes in {folder / '1-1.stash'}; run 'omnibase restore' "
        "to put them back into the working tree, then commit again; nothing was checked"
    ]
    assert snap(edited.root) == before


def test_a_state_folder_that_is_a_symlink_refuses_the_run(edited: Repo, log: Log, said: Log, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", edited.root / ".git" / "omnibase")
    assert _supervise(edited, lambda s: log("ran") or 0, lambda s, c: 0, log, said) == 2
    assert len(log.lines) == 1
    assert log.lines[0].startswith("refused: cannot set the unstaged changes aside: ")


def test_the_child_exit_hook_turns_a_crash_into_the_exit_code(edited: Repo, log: Log, said: Log, snap: Snap) -> None:
    before = snap(edited.root)

    def run(state: Stashed) -> int:
        _quiet_atexit()
        return 0

    def finish(state: Stashed, code: int) -> int:
        raise RuntimeError("boom")

    def child_exit(body: Callable[[], int]) -> int:
        try:
            return body()
        except RuntimeError:
            return 70

    assert _supervise(edited, run, finish, log, said, child_exit) == 70
    assert said.lines == []  # it reported first: the crash came after the work was back
    assert snap(edited.root) == before


def test_the_checks_run_with_the_callers_signal_mask(edited: Repo, log: Log, said: Log) -> None:
    def run(state: Stashed) -> int:
        _quiet_atexit()
        log(f"child mask {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set()))}")
        return 0

    def supervised() -> int:
        log(f"caller mask {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set()))}")
        return _supervise(edited, run, lambda s, c: c, log, said)

    assert single_threaded(supervised) == 0
    caller, child = log.lines
    assert child.replace("child", "caller") == caller


# --- the child's side, in this process --------------------------------------------------


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@pytest.fixture
def no_exit(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """``os._exit`` raises instead, and the atexit handlers are recorded instead of run."""
    ran: list[str] = []

    def exit_(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(os, "_exit", exit_)
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append("atexit"))
    # the child wakes its parent with SIGUSR1; this process is nobody's parent here, so
    # none may arrive (blocked, then looked for)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    yield ran
    woke = signal.sigtimedwait({signal.SIGUSR1}, 0)
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    assert woke is None


def _pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    return os.pipe(), os.pipe()


def test_the_child_reports_waits_for_the_verdict_and_finishes(
    no_exit: list[str], log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    (report_r, report_w), (verdict_r, verdict_w) = _pipes()
    os.write(verdict_w, msgspec.msgpack.encode(Verdict(True, "why")))
    os.close(verdict_w)
    state = Stashed(patch="/saved")

    def run(s: Stashed) -> int:
        log(f"run given the state: {s is state}")
        return 4

    def finish(s: Stashed, code: int) -> int:
        log(f"finish {code} {s.rolled_back} {s.error} given the state: {s is state}")
        return 6

    import subprocess

    parent = subprocess.Popen(  # stands for the parent: SIGUSR1 ends it (this process blocks it)
        ["sleep", "30"], preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    )
    monkeypatch.setattr(os, "getppid", lambda: parent.pid)
    try:
        with pytest.raises(_Exited) as exited:
            _child(state, parent.pid, run, finish, _plain_exit, (report_w, verdict_r), log)
        woken = parent.wait(timeout=10)
    finally:
        parent.kill()
        parent.wait()
    assert woken == -signal.SIGUSR1  # the parent is woken as soon as the run has reported
    assert exited.value.code == 6
    assert os.read(report_r, 100) == b"RAN 4\n"
    assert log.lines == ["run given the state: True", "finish 4 True why given the state: True"]
    assert no_exit == ["atexit"]
    for fd in (report_r, report_w, verdict_r):
        os.close(fd)


@pytest.mark.parametrize(("ran", "code"), [(0, 1), (5, 5)])
def test_a_child_whose_parent_went_away_fails_and_names_restore(
    no_exit: list[str], log: Log, ran: int, code: int
) -> None:
    (report_r, report_w), (verdict_r, verdict_w) = _pipes()
    os.close(verdict_w)  # the parent is gone: no verdict will come
    with pytest.raises(_Exited) as exited:
        _child(Stashed(patch="/saved"), os.getpid(), lambda s: ran, lambda s, c: 0, _plain_exit, (report_w, verdict_r), log)
    assert exited.value.code == code
    assert log.lines == [
        "the process that set your unstaged changes aside went away; they are in /saved (run 'omnibase restore')"
    ]
    assert no_exit == ["atexit"]
    for fd in (report_r, report_w, verdict_r):
        os.close(fd)


def test_a_child_that_crashes_still_exits_through_its_atexit_handlers(no_exit: list[str], log: Log) -> None:
    (report_r, report_w), (verdict_r, verdict_w) = _pipes()

    def run(state: Stashed) -> int:
        raise KeyboardInterrupt

    with pytest.raises(_Exited) as exited:
        _child(Stashed(), os.getpid(), run, lambda s, c: 0, _plain_exit, (report_w, verdict_r), log)
    assert exited.value.code == 1
    assert no_exit == ["atexit"]
    assert log.lines == []
    for fd in (report_r, report_w, verdict_r, verdict_w):
        os.close(fd)


def test_a_long_verdict_is_read_whole() -> None:
    r, w = os.pipe()
    verdict = Verdict(False, "e" * 200_000)  # more than one read, more than a pipe holds
    data = msgspec.msgpack.encode(verdict)
    writer = threading.Thread(target=lambda: (os.write(w, data[:100]), time.sleep(0.05), os.write(w, data[100:])))
    writer.start()
    try:
        assert _read_verdict(r) == verdict
    finally:
        writer.join()
        os.close(w)
        os.close(r)


def test_no_verdict_when_the_pipe_closes_early() -> None:
    r, w = os.pipe()
    os.write(w, msgspec.msgpack.encode(Verdict(True, None))[:-1])
    os.close(w)
    assert _read_verdict(r) is None
    os.close(r)


def test_without_proc_the_thread_count_is_threadings(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.listdir

    def listdir(path: str = ".") -> list[str]:
        if str(path) == "/proc/self/task":
            raise FileNotFoundError(2, "no /proc here", path)
        return real(path)

    monkeypatch.setattr(os, "listdir", listdir)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _threads() == threading.active_count() >= 2
    finally:
        stop.set()
        other.join()
    monkeypatch.delitem(sys.modules, "threading")  # a process that never imported threading
    assert _threads() == 1
