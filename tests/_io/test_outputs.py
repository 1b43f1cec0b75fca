"""``omnibase._io.outputs``: the one safe opener, on real FIFOs, sockets, links and folders."""

from __future__ import annotations

import os
import pathlib
import socket
import stat
import threading

import pytest
from returns.result import Failure, Success

from omnibase._io.outputs import kind_of, open_append, output_path, write_output


def test_a_new_file_in_an_existing_folder_is_fine_and_made_absolute(tmp_path: pathlib.Path) -> None:
    assert output_path("r.json", str(tmp_path)) == Success(str(tmp_path / "r.json"))
    (tmp_path / "old.json").write_text("{}")
    assert output_path("old.json", str(tmp_path)) == Success(str(tmp_path / "old.json"))


def _socket(path: pathlib.Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    return s


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: os.mkfifo(p), "not a regular file (a FIFO)"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.symlink_to(p.parent / "target"), "is a symbolic link"),
        (_socket, "not a regular file (a socket)"),
    ],
)
def test_what_is_no_regular_file_is_refused_and_left_as_it_is(tmp_path: pathlib.Path, make, says: str) -> None:
    target = tmp_path / "out"
    made = make(target)
    try:
        found = output_path(str(target), "/")
        assert isinstance(found, Failure) and says in found.failure(), found
        before = os.lstat(target).st_mode
        assert isinstance(write_output(str(target), b"x"), Failure)
        assert os.lstat(target).st_mode == before
        assert not (tmp_path / "target").exists()
    finally:
        if isinstance(made, socket.socket):
            made.close()


def test_a_missing_or_unwritable_folder_is_refused(tmp_path: pathlib.Path) -> None:
    assert "no such directory" in output_path("nowhere/r.json", str(tmp_path)).failure()
    (tmp_path / "file").write_text("")
    assert "no such directory" in output_path("file/r.json", str(tmp_path)).failure()
    if os.getuid() != 0:  # root may write anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        assert "not writable" in output_path("ro/r.json", str(tmp_path)).failure()


def test_write_output_checks_again_at_write_time(tmp_path: pathlib.Path) -> None:
    """A target that was fine before the run and became a FIFO during it is not replaced."""
    target = tmp_path / "r.json"
    assert output_path(str(target), "/") == Success(str(target))
    os.mkfifo(target)
    assert "FIFO" in write_output(str(target), b"{}").failure()
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


def test_write_output_writes_atomically_and_keeps_no_temporary_file(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "r.json"
    assert write_output(str(target), b"{}") == Success(str(target))
    assert target.read_bytes() == b"{}" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_open_append_never_waits_on_a_fifo(tmp_path: pathlib.Path) -> None:
    fifo = tmp_path / "log"
    os.mkfifo(fifo)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(open_append(str(fifo))), daemon=True)
    worker.start()
    worker.join(5)
    assert done and isinstance(done[0], Failure) and "FIFO" in done[0].failure()


def test_open_append_appends_lines_to_a_regular_file(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("before\n")
    stream = open_append(str(log)).unwrap()
    stream.write("after\n")
    stream.close()
    assert log.read_text() == "before\nafter\n"


def test_kinds_have_words() -> None:
    assert kind_of(stat.S_IFBLK) == "a block device"
    assert kind_of(stat.S_IFCHR) == "a character device"
    assert kind_of(stat.S_IFLNK) == "a symbolic link"
