"""What a step's ``output`` keeps of what it wrote: the last 16 KiB (``MAX_CAPTURE``) after a
line saying how many bytes came before, never more, in a worker process and in the calling
process; the capture file itself; the fd-level redirection of in-process calls."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from returns.result import Success

from omnibase.core.intents import Called, Invoke
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Meta
from omnibase.drivers import SyncDriver
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation import process as proc
from omnibase.drivers.isolation.process import MAX_CAPTURE, CapturingPerformer, FdCapture, ProcessPerformer, WorkerPool
from omnibase.testing import fake_ctx
from tests.support import fd_is_open


def _lines(n: int) -> bytes:
    return b"".join(b"line %07d\n" % i for i in range(n))


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(size=1)
    yield p
    p.close()


def _call(components: tuple[str, Path], pool: WorkerPool, fn: str, value: object = None, limit: float | None = None) -> Called:
    comp: Component[Any, Any] = Component(lambda ctx, v: Success(v), Meta(name=fn, isolation="process", ref=f"{components[0]}:{fn}"))
    return ProcessPerformer(SyncDriver(), pool=pool).isolated(Invoke(comp, fake_ctx(root=str(components[1])), value, limit))


def test_the_cap_is_16_kib() -> None:
    assert MAX_CAPTURE == 16 * 1024


# --- a worker's output ------------------------------------------------------------------------


def test_output_past_the_cap_keeps_its_last_16_kib_and_says_how_much_went(components, pool):
    data = _lines(10_000)  # 120,000 bytes
    called = _call(components, pool, "flood", 10_000)
    assert called.returned == Success(len(data))
    assert called.output == f"[... {len(data) - MAX_CAPTURE} bytes before]\n" + data[-MAX_CAPTURE:].decode()


def test_output_at_the_cap_is_kept_whole_and_one_byte_more_is_not(components, pool):
    at = bytes(range(48, 58)) * (MAX_CAPTURE // 10) + b"x" * (MAX_CAPTURE % 10)
    assert _call(components, pool, "write_bytes", list(at)).output == at.decode()
    past = b"y" + at
    assert _call(components, pool, "write_bytes", list(past)).output == "[... 1 bytes before]\n" + at.decode()


def test_each_call_starts_with_an_empty_capture(components, pool):
    _call(components, pool, "flood", 100)
    called = _call(components, pool, "quiet")
    assert called.output == "" and called.returned == Success(called.returned.unwrap())


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(components, pool):
    assert _call(components, pool, "write_bytes", [0x61, 0xFF, 0x62]).output == "a\ufffdb"


def test_a_crashing_workers_last_words_are_kept_and_bounded(components, pool):
    called = _call(components, pool, "kill_self", 15)
    assert called.output == "about to die\n"


# --- the capture file -------------------------------------------------------------------------


def _flags(fd: int) -> tuple[int, int]:
    return fcntl.fcntl(fd, fcntl.F_GETFL), fcntl.fcntl(fd, fcntl.F_GETFD)


def test_the_capture_file_appends_in_memory_and_is_not_inherited() -> None:
    fd = proc._capture_file()
    try:
        status, fd_flags = _flags(fd)
        assert status & os.O_APPEND and fd_flags & fcntl.FD_CLOEXEC
        assert os.readlink(f"/proc/self/fd/{fd}") == "/memfd:omnibase-out (deleted)"
        os.pwrite(fd, b"abc", 0)
        os.ftruncate(fd, 0)  # the parent truncates; a writer that kept its offset still writes at the end
        os.write(fd, b"de")
        assert os.pread(fd, 10, 0) == b"de"
    finally:
        os.close(fd)


def test_without_memfd_the_capture_file_is_an_unlinked_temporary_file(monkeypatch) -> None:
    monkeypatch.delattr(os, "memfd_create")
    fd = proc._capture_file()
    try:
        status, _ = _flags(fd)
        assert status & os.O_APPEND and os.fstat(fd).st_nlink == 0
        target = os.readlink(f"/proc/self/fd/{fd}")
        assert os.path.basename(target).startswith("omnibase-out-") and target.endswith(" (deleted)")
    finally:
        os.close(fd)


def test_the_tail_counts_from_the_mark() -> None:
    fd = proc._capture_file()
    try:
        os.write(fd, b"before the call\n")
        mark = os.fstat(fd).st_size
        assert proc._tail(fd, mark) == ""
        os.write(fd, b"during\n")
        assert proc._tail(fd, mark) == "during\n"
        assert proc._tail(fd) == "before the call\nduring\n"
        assert proc._tail(fd, mark, limit=3) == "[... 4 bytes before]\nng\n"
        assert proc._tail(fd, limit=7) == "[... 16 bytes before]\nduring\n"
    finally:
        os.close(fd)


# --- in-process calls, captured at the fd level ------------------------------------------------


def _writes(text: str) -> Called:
    os.write(1, f"fd1 {text}\n".encode())
    os.write(2, f"fd2 {text}\n".encode())
    print(f"print {text}")
    print(f"stderr {text}", file=sys.stderr)
    return Called(Success(text), None, 0, 1)


def test_an_in_process_call_has_what_it_wrote_and_nothing_reaches_the_terminal(capfd):
    capture = FdCapture()
    called = capture.call(lambda: _writes("one"))
    assert called.returned == Success("one")
    assert sorted(called.output.splitlines()) == ["fd1 one", "fd2 one", "print one", "stderr one"]
    assert capfd.readouterr() == ("", "")
    os.write(1, b"after\n")
    os.write(2, b"err after\n")
    print("and print")
    assert capfd.readouterr() == ("after\nand print\n", "err after\n")


def test_a_call_that_writes_nothing_keeps_its_called_as_it_is():
    called = Called(Success(1), None, 0, 1)
    assert FdCapture().call(lambda: called) is called


def test_nested_calls_share_one_redirection_and_each_gets_its_own_part(capfd):
    capture = FdCapture()
    inner: list[Called] = []

    def outer() -> Called:
        os.write(1, b"outer before\n")
        inner.append(capture.call(lambda: _writes("inner")))
        os.write(1, b"outer after\n")
        return Called(Success(None), None, 0, 1)

    called = capture.call(outer)
    assert sorted(inner[0].output.splitlines()) == ["fd1 inner", "fd2 inner", "print inner", "stderr inner"]
    assert called.output.startswith("outer before\n") and called.output.endswith("outer after\n")
    assert "print inner" in called.output
    assert capfd.readouterr() == ("", "")
    assert sys.stdout is not capture._writer and os.write(1, b"x\n") and capfd.readouterr().out == "x\n"


def test_a_second_capture_starts_empty_and_is_bounded(capfd):
    capture = FdCapture()
    capture.call(lambda: _writes("first"))
    big = _lines(5_000)
    called = capture.call(lambda: (os.write(1, big), Called(None, None, 0, 1))[1])
    assert called.output == f"[... {len(big) - MAX_CAPTURE} bytes before]\n" + big[-MAX_CAPTURE:].decode()
    assert capfd.readouterr() == ("", "")


def test_a_raise_still_restores_the_descriptors(capfd):
    capture = FdCapture()

    def boom() -> Called:
        os.write(1, b"lost\n")
        raise KeyError("k")

    with pytest.raises(KeyError):
        capture.call(boom)
    os.write(1, b"restored\n")
    assert capfd.readouterr().out == "restored\n"


_CLOSED_FD2 = """
import os, sys
from returns.result import Success
from omnibase.core.intents import Called
from omnibase.drivers.isolation.process import FdCapture
capture = FdCapture()
if sys.argv[1] == "later":
    capture.call(lambda: Called(Success(0), None, 0, 1))  # its capture file opened while fd 2 is open
os.close(2)
outputs = [capture.call(lambda: (os.write(2, b"to fd 2"), Called(Success(1), None, 0, 1))[1]).output for _ in range(2)]
try:
    os.fstat(2)
    state = "open"
except OSError:
    state = "closed"
os.write(1, f"{outputs}|{state}".encode())
"""


@pytest.mark.parametrize("when", ["first", "later"])
def test_a_descriptor_closed_before_is_closed_again_after_and_stdout_is_kept(when):
    """A process started with fd 2 closed (``2>&-``): its calls are captured, fd 2 is
    closed again after each, and fd 1 is still the real stdout (the report reaches it)."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _CLOSED_FD2, when], capture_output=True, check=True).stdout
    assert out == b"['to fd 2', 'to fd 2']|closed"


def test_concurrent_calls_see_each_others_output(capfd):
    capture = FdCapture()
    mark = capture.enter()
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(capture.call(lambda: _writes("thread")).output))
    t.start()
    t.join()
    os.write(1, b"main\n")
    text = capture.exit(mark)
    assert "fd1 thread" in got[0] and "fd1 thread" in text and text.endswith("main\n")
    assert capfd.readouterr() == ("", "")


class _Inner:
    observers = ("observer",)

    def __init__(self) -> None:
        self.seen: list[object] = []

    def perform(self, intent: Any) -> Any:
        self.seen.append(intent)
        return _writes("sync") if type(intent) is Invoke else "not an invoke"

    async def aperform(self, intent: Any) -> Any:
        self.seen.append(intent)
        return _writes("async") if type(intent) is Invoke else "not an invoke"


def _invoke() -> Invoke:
    return Invoke(Component(lambda ctx, v: Success(v), Meta(name="inline")), fake_ctx(), None)


def test_the_capturing_performer_captures_invokes_only(capfd):
    inner = _Inner()
    performer = CapturingPerformer(inner)
    assert performer.inner is inner and performer.observers == ("observer",)
    assert "fd1 sync" in performer.perform(_invoke()).output
    assert performer.perform("another intent") == "not an invoke"
    assert inner.seen[1] == "another intent"
    assert "fd2 async" in asyncio.run(performer.aperform(_invoke())).output
    assert asyncio.run(performer.aperform("again")) == "not an invoke" and inner.seen[-1] == "again"
    assert capfd.readouterr() == ("", "")


def test_an_async_call_that_writes_nothing_is_kept_as_it_is(capfd):
    class Silent(_Inner):
        async def aperform(self, intent: Any) -> Any:
            return Called(Success(2), None, 0, 1)

    called = asyncio.run(CapturingPerformer(Silent()).aperform(_invoke()))
    assert called == Called(Success(2), None, 0, 1) and called.output == ""


def test_an_async_inner_that_answers_nothing_is_passed_on_as_nothing(capfd):
    class Nothing(_Inner):
        async def aperform(self, intent: Any) -> Any:
            os.write(1, b"printed anyway\n")
            return None

    assert asyncio.run(CapturingPerformer(Nothing()).aperform(_invoke())) is None
    assert capfd.readouterr() == ("", "")


def test_the_process_performer_captures_in_process_calls_only_when_asked(capfd, pool):
    inner = _Inner()
    assert ProcessPerformer(inner, pool=pool).perform(_invoke()).output == ""
    assert "fd1 sync" in capfd.readouterr().out
    assert "fd1 sync" in ProcessPerformer(inner, pool=pool, capture=True).perform(_invoke()).output
    assert "fd1 async" in asyncio.run(ProcessPerformer(inner, pool=pool, capture=True).aperform(_invoke())).output
    assert asyncio.run(ProcessPerformer(inner, pool=pool).aperform(_invoke())).output == ""
    assert capfd.readouterr().out.count("fd1 async") == 1
    performer = ProcessPerformer(inner, pool=pool, capture=True)
    assert performer.perform("plain") == "not an invoke" and asyncio.run(performer.aperform("plain")) == "not an invoke"
    assert performer.observers == ("observer",) and performer.pool is pool and performer.inner is inner


def test_the_process_performer_defaults_to_the_shared_pool():
    assert ProcessPerformer(SyncDriver()).pool is proc.shared_pool() is proc.shared_pool()
    assert ProcessPerformer(SyncDriver()).capture is False and ProcessPerformer(SyncDriver()).observers == ()


def test_async_in_process_calls_through_the_async_driver(capfd, pool):
    def hello(ctx: ExecCtx, v: object) -> Any:
        os.write(1, b"hello from the loop\n")
        return Success(v)

    comp: Component[Any, Any] = Component(hello, Meta(name="hello"))
    called = asyncio.run(ProcessPerformer(AsyncDriver(), pool=pool, capture=True).aperform(Invoke(comp, fake_ctx(), 7)))
    assert called.returned == Success(7) and called.output == "hello from the loop\n"


def test_what_a_call_prints_is_utf8_whatever_the_locale(capfd):
    import locale

    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # ASCII
    try:
        called = FdCapture().call(lambda: (print("café ✓"), Called(None, None, 0, 1))[1])
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert called.output == "café ✓\n"


def test_text_left_in_the_original_streams_buffer_is_captured(capfd):
    """A component writing to ``sys.__stdout__`` (buffered: not a terminal here) has that
    text in its output, flushed before the descriptors are restored."""
    sys.__stdout__.flush()
    called = FdCapture().call(lambda: (sys.__stdout__.write("through the original stdout"), Called(None, None, 0, 1))[1])
    assert called.output == "through the original stdout"
    assert capfd.readouterr() == ("", "")


def _closed(fd: int) -> bool:
    return not fd_is_open(fd)


def test_in_this_process_with_fd_2_closed_the_calls_are_captured_and_stdout_is_kept(capfd):
    """The same as above in this process: the capture file and the saved copies of fds 1
    and 2 are never put on the closed fd 2."""
    saved = os.dup(2)
    capture = FdCapture()
    try:
        os.close(2)
        first = capture.call(lambda: (os.write(2, b"first"), Called(None, None, 0, 1))[1])
        first_closed = _closed(2)
        second = capture.call(lambda: (os.write(2, b"second"), Called(None, None, 0, 1))[1])
        second_closed = _closed(2)
        os.write(1, b"stdout kept\n")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    assert (first.output, second.output) == ("first", "second") and first_closed and second_closed
    assert capfd.readouterr().out == "stdout kept\n"
    assert capture._fd > 2


def test_a_capture_file_made_while_fd_2_is_closed_is_not_on_it():
    saved = os.dup(2)
    try:
        os.close(2)
        fd = proc._capture_file()
        on_2_closed = _closed(2)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    try:
        assert fd > 2 and on_2_closed
        status, fd_flags = _flags(fd)
        assert status & os.O_APPEND and fd_flags & fcntl.FD_CLOEXEC
    finally:
        os.close(fd)


def test_a_capture_file_made_while_fds_0_and_2_are_closed_is_on_neither():
    # a process started with `<&- 2>&-`: the first free descriptors are 0, then 2
    saved = {low: os.dup(low) for low in (0, 2)}
    try:
        for low in saved:
            os.close(low)
        fd = proc._capture_file()
        both_closed = _closed(0) and _closed(2)
    finally:
        for low, copy in saved.items():
            os.dup2(copy, low)
            os.close(copy)
    try:
        assert fd > 2 and both_closed
    finally:
        os.close(fd)


def test_prints_and_descriptor_writes_keep_their_order():
    """Python-level writes are line-buffered: each line reaches the file before the next
    write to the descriptor."""

    def mixed() -> Called:
        print("one")
        os.write(1, b"two\n")
        print("three", file=sys.stderr)
        os.write(2, b"four\n")
        return Called(None, None, 0, 1)

    assert FdCapture().call(mixed).output == "one\ntwo\nthree\nfour\n"


def test_text_that_cannot_be_encoded_is_replaced_not_fatal():
    called = FdCapture().call(lambda: (print("bad \udcff end"), Called(Success(1), None, 0, 1))[1])
    assert called.output == "bad ? end\n" and called.returned == Success(1)


def test_a_buffered_original_stdout_is_flushed_into_the_capture(monkeypatch, capfd):
    """What a component leaves in the buffer of ``sys.__stdout__`` is its output (flushed
    before the descriptors are restored), and what was pending before the call is not."""
    original = open(1, "w", buffering=1 << 16, encoding="utf-8", closefd=False)
    monkeypatch.setattr(sys, "__stdout__", original)
    original.write("pending before the call")
    called = FdCapture().call(lambda: (original.write("during the call"), Called(None, None, 0, 1))[1])
    assert called.output == "during the call"
    assert capfd.readouterr().out == "pending before the call"


def test_a_capturing_performer_over_an_inner_without_observers_has_none():
    class Bare:
        def perform(self, intent: Any) -> Any:
            return intent

    assert CapturingPerformer(Bare()).observers == () and ProcessPerformer(Bare(), pool=WorkerPool(1)).observers == ()
