"""What the client does with descriptors: a server it starts holds none of the caller's
open (however high their number), and a pid file that is not a regular file never blocks it."""

from __future__ import annotations

import os
import signal

from omnibase.server import client
from tests.support import fd_is_open


def test_a_started_server_keeps_no_descriptor_of_its_caller_open():
    r, w = os.pipe()
    high = os.dup2(w, 300, inheritable=True)  # beyond the 255 a fixed range would stop at
    pid = os.fork()
    if pid == 0:  # the child: what start_server's grandchild does before exec
        try:
            client._close_inherited()
            still = [fd for fd in (r, w, high) if fd_is_open(fd)]
            os._exit(10 + len(still))
        finally:
            os._exit(99)
    os.close(w)
    os.close(high)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 10
    assert os.read(r, 1) == b""  # every copy of the write end is closed: the reader sees EOF
    os.close(r)


class Blocked(Exception):
    """Not an OSError: nothing in the client may take it for a failed open."""


def _blocked(*_: object) -> None:
    raise Blocked("blocked on the FIFO")


def test_a_fifo_as_the_pid_file_is_refused_without_blocking(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    os.mkfifo(folder / client.PID_FILE, 0o600)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    old = signal.signal(signal.SIGALRM, _blocked)
    signal.alarm(5)
    try:
        assert client.server_pid(fd) is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.close(fd)


def test_the_pid_the_server_wrote_is_read(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    (folder / client.PID_FILE).write_bytes(b"4242\n")
    os.chmod(folder / client.PID_FILE, 0o600)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert client.server_pid(fd) == 4242
        os.chmod(folder / client.PID_FILE, 0o644)  # readable by others: not trusted
        assert client.server_pid(fd) is None
    finally:
        os.close(fd)
