"""The check pool's forked workers (``omnibase.builtins._forkpool.ForkPool``).

What the run relies on: every item's result, in order, as the same function gives in
this process; None (redone by the caller) exactly for an item whose worker died or whose
function raised, the others still done by the workers left; ``started`` called once;
items and results larger than a pipe holds; no worker left behind, not even a zombie,
whether the pool is closed, told it is done (``last``), or the run is interrupted.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.builtins._forkpool import ExecutorPool, ForkPool

PARENT = os.getpid()


def triple(x: int) -> tuple[int, int]:
    return x * 3, os.getpid()


def dies_on(x: int, bad: frozenset[int]) -> int:
    if x in bad and os.getpid() != PARENT:
        os._exit(7)  # as if killed
    return -x


def raises_on(x: int, bad: frozenset[int]) -> int:
    if x in bad:
        raise ValueError(x)
    return x + 1


def echo(data: bytes) -> bytes:
    return data[::-1] * 2


def sleepy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _boom() -> None:
    raise RuntimeError("cannot be rebuilt here")


class Unloadable:
    """Pickled fine by a worker; loading it in the calling process fails."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _boom, ()


def unloadable(x: int) -> object:
    return Unloadable() if x == 1 else x


def failing_set_up() -> None:
    raise OSError("no set-up here")


def gone(pid: int) -> bool:
    """Not running, and not a zombie either: reaped."""
    return not os.path.exists(f"/proc/{pid}")


def _reaped(pids: tuple[int, ...]) -> bool:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False  # still our child: not reaped by the pool
    return True


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), max_size=40), st.integers(1, 3))
def test_results_come_back_in_order_as_this_process_gives_them(items: list[int], jobs: int) -> None:
    pool = ForkPool(jobs, lambda: None)
    try:
        calls: list[int] = []
        out = pool.run(triple, [(x,) for x in items], started=lambda: calls.append(1))
        assert [r[0] for r in out] == [x * 3 for x in items]
        assert {r[1] for r in out} <= set(pool.pids) and PARENT not in {r[1] for r in out}
        assert calls == [1]
    finally:
        pids = pool.pids
        pool.close(wait=True)
    assert _reaped(pids)


@settings(max_examples=10, deadline=None)
@given(st.sets(st.integers(0, 29), max_size=4), st.integers(1, 3))
def test_a_dead_workers_item_is_none_and_the_rest_is_done(bad: set[int], jobs: int) -> None:
    pool = ForkPool(jobs, lambda: None)
    pids = pool.pids
    out = pool.run(dies_on, [(x, frozenset(bad)) for x in range(30)])
    pool.close(wait=True)
    for x, r in enumerate(out):
        if x in bad:
            assert r is None
        else:  # done by a worker, or None only when no worker was left to do it
            assert r == -x or (r is None and len(bad) >= jobs)
    if len(bad) < jobs:
        assert [x for x, r in enumerate(out) if r is None] == sorted(bad)
    assert _reaped(pids + tuple(pool.pids))


def test_an_item_whose_function_raises_is_none_and_the_worker_goes_on() -> None:
    pool = ForkPool(2, lambda: None)
    out = pool.run(raises_on, [(x, frozenset({3, 4})) for x in range(10)])
    assert out == [1, 2, 3, None, None, 6, 7, 8, 9, 10]
    assert len(pool.workers) == 2  # none lost
    pool.close(wait=True)


def test_items_and_results_larger_than_a_pipe_holds() -> None:
    big = [(bytes([i]) * (300_000 + i),) for i in range(6)]  # a pipe holds 64 KiB
    pool = ForkPool(2, lambda: None)
    try:
        assert pool.run(echo, big) == [echo(*b) for b in big]
    finally:
        pool.close(wait=True)


def test_told_it_is_the_last_run_every_worker_ends_on_its_own() -> None:
    """Each worker's task pipe is closed once it has all its items; a worker holding a
    sibling's end of a pipe would keep that sibling waiting forever."""
    pool = ForkPool(3, lambda: None)
    pids = pool.pids
    assert pool.run(triple, [(x,) for x in range(12)], last=True)[5][0] == 15
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + 10
    while len(statuses) < len(pids) and time.monotonic() < deadline:
        for pid in set(pids) - set(statuses):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                statuses[pid] = os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    assert statuses == {pid: 0 for pid in pids}  # each ended by itself, and well, before any close
    pool.dead.clear()  # reaped here
    pool.close(wait=True)


def interrupt() -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("work", [0.0, 20.0], ids=["quick items", "long items"])
def test_an_interrupted_run_leaves_no_worker_and_does_not_wait_for_their_work(work: float) -> None:
    pool = ForkPool(2, lambda: None)
    pids = pool.pids
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        pool.run(sleepy, [(work,)] * 50, started=interrupt)
    assert time.monotonic() - start < 10
    assert pool.workers == [] and all(gone(pid) for pid in pids)


def test_a_result_that_cannot_be_loaded_here_is_none() -> None:
    pool = ForkPool(1, lambda: None)
    try:
        assert pool.run(unloadable, [(0,), (1,), (2,)]) == [0, None, 2]
    finally:
        pool.close(wait=True)


def test_a_worker_whose_set_up_fails_ends_with_1_and_does_nothing() -> None:
    pool = ForkPool(1, failing_set_up)
    pid = pool.pids[0]
    assert pool.run(triple, [(1,), (2,)]) == [None, None]
    assert pool.workers == [] and pool.dead == [pid]
    _, status = os.waitpid(pid, 0)
    pool.dead.clear()
    assert os.waitstatus_to_exitcode(status) == 1


def test_closed_without_waiting_the_workers_end_well_and_reap_takes_them_all() -> None:
    pool = ForkPool(3, lambda: None)
    pids = pool.pids
    pool.run(triple, [(x,) for x in range(6)])
    pool.close(wait=False)  # told to end: not killed
    first = pool.dead[-1]  # the one reap would take first
    _, status = os.waitpid(first, 0)  # reaped here: the pool must still reap the others
    assert os.waitstatus_to_exitcode(status) == 0
    pool.reap()
    assert all(gone(pid) for pid in pids)


def test_the_calling_process_sleeps_while_its_workers_work() -> None:
    pool = ForkPool(2, lambda: None)
    try:
        start = time.process_time()
        assert pool.run(sleepy, [(0.3,)] * 4) == [0.3] * 4
        assert time.process_time() - start < 0.15  # waiting in poll, not spinning
    finally:
        pool.close(wait=True)


def set_up() -> None:
    os.environ["OMNIBASE_TEST_SET_UP"] = str(os.getpid())


def read_env(key: str) -> str | None:
    return os.environ.get(key)


def test_the_workers_run_the_set_up_before_any_item() -> None:
    pool = ForkPool(2, set_up)
    try:
        out = pool.run(read_env, [("OMNIBASE_TEST_SET_UP",)] * 4)
        assert set(out) <= {str(p) for p in pool.pids} and None not in out
        assert "OMNIBASE_TEST_SET_UP" not in os.environ
    finally:
        pool.close(wait=True)


def test_an_item_that_cannot_be_sent_is_none_and_the_rest_is_done() -> None:
    pool = ForkPool(2, lambda: None)
    try:
        out = pool.run(raises_on, [(1, frozenset()), (lambda: 0, frozenset()), (3, frozenset())])
        assert out == [2, None, 4]
    finally:
        pool.close(wait=True)
    alone = ForkPool(1, lambda: None)  # the first item it would get cannot be sent
    try:
        assert alone.run(raises_on, [(lambda: 0, frozenset()), (1, frozenset()), (2, frozenset())]) == [None, 2, 3]
    finally:
        alone.close(wait=True)


def test_workers_wait_for_work_as_long_as_their_parent_lives() -> None:
    """A worker idle longer than it waits between looks at its parent (0.5 s) is still
    there, and whole, for the next run."""
    pool = ForkPool(2, lambda: None)
    try:
        first = pool.run(triple, [(x,) for x in range(4)])
        time.sleep(1.2)
        second = pool.run(triple, [(x,) for x in range(4)])
        assert [r[0] for r in second] == [0, 3, 6, 9] and len(pool.workers) == 2
        assert {r[1] for r in first + second} <= set(pool.pids)
    finally:
        pool.close(wait=True)


MARK = ["as imported"]


def mark_and_set_up() -> tuple[str, str | None]:
    return MARK[0], os.environ.get("OMNIBASE_TEST_SET_UP")


def test_the_fallback_pool_gives_the_same_answers() -> None:
    import multiprocessing

    pool = ExecutorPool(2, multiprocessing.get_context("spawn"), _nothing)
    try:
        assert pool.run(raises_on, [(x, frozenset({2})) for x in range(5)]) == [1, 2, None, 4, 5]
        pids = pool.pids
    finally:
        pool.close(wait=True)
    assert all(gone(pid) for pid in pids)


def test_the_fallback_pool_starts_its_workers_as_told_and_leaves_none_behind() -> None:
    """Its size, its start method (spawned: a value changed here is not seen there), its
    set-up; told to close without waiting, ``reap`` then leaves no process."""
    import multiprocessing

    MARK[0] = "changed here"
    try:
        pool = ExecutorPool(1, multiprocessing.get_context("spawn"), set_up)
        calls: list[int] = []
        out = pool.run(mark_and_set_up, [()] * 3, started=lambda: calls.append(1))
        pids = pool.pids
        assert len(pids) == 1 and calls == [1]
        assert out == [("as imported", str(pids[0]))] * 3
        pool.close(wait=False)
        pool.reap()
        assert all(gone(pid) for pid in pids)
    finally:
        MARK[0] = "as imported"


def _nothing() -> None:
    pass


def test_runs_from_two_threads_at_once_each_get_their_own_results() -> None:
    """The shared pool may be asked from several threads (a library's callers): one run at
    a time, each with its own answers."""
    import threading

    pool = ForkPool(2, lambda: None)
    got: dict[int, list[object]] = {}

    def ask(k: int) -> None:
        got[k] = pool.run(triple, [(k * 100 + x,) for x in range(25)])

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    pool.close(wait=True)
    assert {k: [r[0] for r in v] for k, v in got.items()} == {k: [(k * 100 + x) * 3 for x in range(25)] for k in range(3)}


# --- a worker's side, in this process (what a forked worker runs) ---------------------

from omnibase.builtins import _forkpool  # noqa: E402


def _frames(data: bytes) -> list[object]:
    import pickle

    out = []
    while data:
        size = int.from_bytes(data[:8], "little")
        out.append(pickle.loads(data[8 : 8 + size]))
        data = data[8 + size :]
    return out


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, 65536):
        parts.append(chunk)
    return b"".join(parts)


def test_a_worker_answers_each_task_in_order_and_ends_with_its_tasks() -> None:
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    for item in [(triple, (4,)), (raises_on, (3, frozenset({3}))), (raises_on, (5, frozenset()))]:
        os.write(task_w, _forkpool._frame(item))
    os.close(task_w)
    _forkpool._serve(task_r, result_w, os.getppid())  # returns at the end of its tasks
    os.close(task_r)
    os.close(result_w)
    assert _frames(_read_all(result_r)) == [(True, (12, os.getpid())), (False, None), (True, 6)]
    os.close(result_r)


def test_a_frame_is_its_pickle_after_eight_bytes_of_length() -> None:
    import pickle

    frame = _forkpool._frame(("a", 1))
    assert int.from_bytes(frame[:8], "little") == len(frame) - 8 and pickle.loads(frame[8:]) == ("a", 1)


def test_a_worker_reads_exactly_what_it_is_told_across_writes_and_none_at_the_end() -> None:
    import threading

    r, w = os.pipe()
    os.write(w, b"ab")
    later = threading.Timer(0.05, lambda: os.write(w, b"cdef"))
    later.start()
    assert _forkpool._read_exactly(r, 5, os.getppid()) == b"abcde"
    later.join()
    assert _forkpool._read_exactly(r, 1, os.getppid()) == b"f"
    os.write(w, b"gh")
    os.close(w)
    assert _forkpool._read_exactly(r, 3, os.getppid()) is None  # the end came first
    os.close(r)


def test_a_worker_whose_parent_is_gone_stops_waiting() -> None:
    r, w = os.pipe()
    start = time.monotonic()
    assert _forkpool._read_exactly(r, 1, parent=os.getppid() + 10**6) is None  # not its parent: gone
    assert time.monotonic() - start < 5
    os.close(r)
    os.close(w)


def test_a_fork_refused_leaves_no_pipe_and_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fork, forks = os.fork, []

    def second_refused() -> int:
        if forks:
            raise BlockingIOError("no more processes")
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    before = set(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", second_refused)
    with pytest.raises(BlockingIOError):
        ForkPool(2, lambda: None)
    monkeypatch.undo()
    assert set(os.listdir("/proc/self/fd")) <= before  # every pipe closed, the first worker's too
    assert gone(forks[0])  # and the first worker reaped


def test_a_worker_waits_for_a_task_slower_than_its_look_at_the_parent() -> None:
    import threading

    r, w = os.pipe()
    later = threading.Timer(0.7, lambda: os.write(w, b"xyz"))
    later.start()
    assert _forkpool._read_exactly(r, 3, os.getppid()) == b"xyz"
    later.join()
    os.close(r)
    os.close(w)


def test_a_worker_answers_a_task_that_comes_after_a_long_wait() -> None:
    """Its parent alive, a worker waits longer than its look at the parent (0.5 s)."""
    import threading

    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()

    def send_then_end() -> None:
        os.write(task_w, _forkpool._frame((triple, (5,))))
        time.sleep(0.7)
        frame = _forkpool._frame((triple, (6,)))
        os.write(task_w, frame[:12])  # a frame in two writes, far apart, split in its pickle
        time.sleep(0.7)
        os.write(task_w, frame[12:])
        os.close(task_w)

    writer = threading.Thread(target=send_then_end)
    writer.start()
    _forkpool._serve(task_r, result_w, os.getppid())  # waits 0.7 s for a head, then for a body
    writer.join()
    os.close(task_r)
    os.close(result_w)
    assert [r[1][0] for r in _frames(_read_all(result_r))] == [15, 18]
    os.close(result_r)


def test_a_worker_told_a_huge_length_reads_what_comes_and_allocates_no_more() -> None:
    """A frame's length is read from the pipe; the worker never asks for a buffer that size."""
    r, w = os.pipe()
    os.write(w, b"abc")
    os.close(w)
    assert _forkpool._read_exactly(r, 1 << 50, os.getppid()) is None  # a petabyte asked: the end came first
    os.close(r)
