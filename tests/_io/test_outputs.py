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


def test_every_kind_of_file_that_is_no_regular_file_has_its_words() -> None:
    assert kind_of(stat.S_IFDIR | 0o755) == "a directory"
    assert kind_of(stat.S_IFIFO) == "a FIFO"
    assert kind_of(stat.S_IFSOCK) == "a socket"
    assert kind_of(0) == "not a regular file"  # a kind this system does not name


def test_a_name_the_system_refuses_is_refused_with_the_system_s_words(tmp_path: pathlib.Path) -> None:
    name = "r" * 300 + ".json"  # longer than a file name may be (255 bytes)
    assert output_path(name, str(tmp_path)) == Failure(f"{name}: File name too long")


NOBODY = 65534


def _unprivileged(check):
    """``check()`` run as a user without root's power to write anywhere: this process when
    it is not root, else a forked child that has become ``nobody``; its answer as text."""
    if os.getuid() != 0:
        return check()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, str(check()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    assert os.waitpid(pid, 0)[1] == 0
    return answer


@pytest.fixture
def shared(tmp_path: pathlib.Path):
    """A folder the unprivileged user reaches and owns (outside pytest's own, which only
    root may enter when the suite runs as root)."""
    if os.getuid() != 0:
        yield tmp_path
        return
    import shutil
    import tempfile

    folder = pathlib.Path(tempfile.mkdtemp(prefix="omnibase-outputs-"))
    try:
        folder.chmod(0o755)
        os.chown(folder, NOBODY, NOBODY)
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_folder_the_user_cannot_write_or_enter_is_refused(shared: pathlib.Path) -> None:
    folder = shared / "locked"
    folder.mkdir()
    os.chown(folder, os.stat(shared).st_uid, os.stat(shared).st_gid)
    assert output_path("locked/r.json", str(shared)) == Success(str(folder / "r.json"))  # this process may
    for mode, answer in (
        (0o300, str(Success(str(folder / "r.json")))),  # write and search: fine
        (0o500, str(Failure(f"locked/r.json: directory {folder} is not writable"))),  # no write
        (0o600, str(Failure("locked/r.json: Permission denied"))),  # no search: not even a look inside
    ):
        folder.chmod(mode)
        assert _unprivileged(lambda: output_path("locked/r.json", str(shared))) == answer, oct(mode)
    folder.chmod(0o700)


def test_write_output_checks_a_relative_path_where_it_writes_it(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "r.json")
    assert write_output("r.json", b"{}") == Failure("r.json: not a regular file (a FIFO); omnibase writes only regular files")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "r.json").st_mode)
    assert write_output("new.json", b"{}") == Success("new.json")
    assert (tmp_path / "new.json").read_bytes() == b"{}"


def test_write_output_says_why_a_write_failed_and_leaves_nothing_behind(tmp_path: pathlib.Path) -> None:
    target = str(tmp_path / "r.json") + "/"  # a file name written as a folder's
    assert write_output(target, b"{}") == Failure(f"{target}: cannot write (Not a directory)")
    assert list(tmp_path.iterdir()) == []


def test_write_output_syncs_the_file_and_its_folder_to_disk(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Durable: a report written just before a power cut is there after it. What is synced
    is recorded by inode (the file is written under a temporary name, then renamed)."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "r.json"
    assert write_output(str(target), b"{}") == Success(str(target))
    assert target.stat().st_ino in synced
    assert tmp_path.stat().st_ino in synced


# --- the log, appended to: what a run may find there, and what may change under it -------------


def _open_fds() -> int:
    """How many descriptors this process has open (the listing's own counts the same each time)."""
    return len(os.listdir("/proc/self/fd"))


def test_a_new_log_is_created_readable_by_all_writable_by_its_owner(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "run.log"
    old = os.umask(0o022)
    try:
        stream = open_append(str(log)).unwrap()
    finally:
        os.umask(old)
    stream.write("one\n")
    stream.close()
    assert log.read_text() == "one\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o644


def test_two_runs_appending_to_one_log_keep_each_other_s_lines(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "run.log"
    first, second = open_append(str(log)).unwrap(), open_append(str(log)).unwrap()
    first.write("first 1\n")
    second.write("second 1\n")
    first.write("first 2\n")
    first.close()
    second.close()
    assert log.read_text().splitlines() == ["first 1", "second 1", "first 2"]


def test_each_log_line_is_on_disk_once_written(tmp_path: pathlib.Path) -> None:
    """Line-buffered: someone following the log sees a line as soon as it is complete."""
    log = tmp_path / "run.log"
    stream = open_append(str(log)).unwrap()
    try:
        stream.write("started\n")
        assert log.read_text() == "started\n"
    finally:
        stream.close()


def test_the_log_is_utf8_whatever_the_locale(tmp_path: pathlib.Path) -> None:
    import locale

    log = tmp_path / "run.log"
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # ASCII
    try:
        stream = open_append(str(log)).unwrap()
        stream.write("café ✓\n")
        stream.close()
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert log.read_bytes() == "café ✓\n".encode()


def test_the_log_is_not_left_open_in_the_commands_a_run_starts(tmp_path: pathlib.Path) -> None:
    stream = open_append(str(tmp_path / "run.log")).unwrap()
    try:
        assert not os.get_inheritable(stream.fileno())
    finally:
        stream.close()


def _swapped_after_the_check(monkeypatch: pytest.MonkeyPatch, swap) -> None:
    """Someone racing the run: the log passes the check, then ``swap`` replaces it before
    it is opened (the window the open's own flags and checks close)."""
    from omnibase._io import outputs

    check = outputs.output_path

    def checked_then_swapped(path: str, cwd: str):
        found = check(path, cwd)
        swap(path)
        return found

    monkeypatch.setattr(outputs, "output_path", checked_then_swapped)


def test_a_log_swapped_for_a_link_after_the_check_is_not_written_through(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    log = tmp_path / "run.log"
    _swapped_after_the_check(monkeypatch, lambda p: os.symlink(victim, p))
    before = _open_fds()
    found = open_append(str(log))
    assert isinstance(found, Failure) and found.failure().startswith(f"{log}: cannot open ("), found
    assert victim.read_text() == "keep me\n"
    assert _open_fds() == before


def test_a_log_swapped_for_a_folder_after_the_check_says_why(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "run.log"
    _swapped_after_the_check(monkeypatch, lambda p: os.mkdir(p))
    assert open_append(str(log)) == Failure(f"{log}: cannot open (Is a directory)")


def test_a_log_swapped_for_a_fifo_after_the_check_neither_blocks_nor_is_written(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a reader on the FIFO the open succeeds (it does not wait for one): the check of
    the open file refuses it and closes it."""
    log = tmp_path / "run.log"
    readers: list[int] = []

    def fifo_with_reader(path: str) -> None:
        os.mkfifo(path)
        readers.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK))

    _swapped_after_the_check(monkeypatch, fifo_with_reader)
    before = _open_fds()
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(open_append(str(log))), daemon=True)
    worker.start()
    worker.join(10)
    try:
        assert done == [Failure(f"{log}: not a regular file (a FIFO); omnibase writes only regular files")]
        assert _open_fds() == before + len(readers)  # the log's descriptor was closed
        assert os.read(readers[0], 10) == b""  # no writer left: nothing written, and closed
    finally:
        for fd in readers:
            os.close(fd)


def test_a_log_swapped_for_a_fifo_no_one_reads_is_refused_at_once(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "run.log"
    _swapped_after_the_check(monkeypatch, lambda p: os.mkfifo(p))
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(open_append(str(log))), daemon=True)
    worker.start()
    worker.join(10)
    assert done == [Failure(f"{log}: cannot open (No such device or address)")]
