"""The kernel's half of the sandbox, applied for real in forked children: what a ruleset
lets through and what it refuses, whatever the call (Python, ``ctypes``, a child)."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from omnibase.drivers.isolation import landlock

pytestmark = pytest.mark.skipif(landlock.abi() < 1, reason="no Landlock in this kernel")


def _in_confined_child(write: list[str], attempt: Callable[[], object], *, network: bool = False, execute: bool = True) -> str:
    """Run ``attempt`` in a forked child confined to ``write``: "ok", or the errno's name."""
    import errno

    fd = landlock.ruleset(write, network=network, execute=execute)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: confine, try, say how it went, leave
        try:
            os.close(r)
            landlock.confine(fd)
            try:
                attempt()
                said = "ok"
            except OSError as exc:
                said = errno.errorcode.get(exc.errno or 0, str(exc))
            os.write(w, said.encode())
        finally:
            os._exit(0)
    os.close(w)
    os.close(fd)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        return f.read().decode()


def _write(path: Path) -> Callable[[], object]:
    return lambda: path.write_text("x")


def test_writes_only_beneath_the_granted_paths(tmp_path: Path):
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir(), outside.mkdir()
    assert _in_confined_child([str(inside)], _write(inside / "a.txt")) == "ok"
    assert _in_confined_child([str(inside)], _write(outside / "a.txt")) == "EACCES"
    assert _in_confined_child([str(inside)], lambda: os.mkfifo(outside / "fifo")) == "EACCES"
    assert _in_confined_child([str(inside)], lambda: os.rename(inside / "a.txt", outside / "b.txt")) in ("EACCES", "EXDEV")
    assert _in_confined_child([str(inside)], lambda: (outside / "c.txt").read_text() if (outside / "c.txt").exists() else os.listdir(outside)) == "ok"
    assert _in_confined_child([str(inside)], _write(Path("/dev/null"))) == "ok"
    assert sorted(p.name for p in outside.iterdir()) == []
    assert (inside / "a.txt").read_text() == "x"


def test_ctypes_and_children_are_held_too(tmp_path: Path):
    import ctypes

    target = tmp_path / "by-ctypes.txt"
    (tmp_path / "granted").mkdir()

    def raw_open() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.open(str(target).encode(), os.O_CREAT | os.O_WRONLY, 0o644) < 0:
            raise OSError(ctypes.get_errno(), "open")

    assert _in_confined_child([str(tmp_path / "granted")], raw_open) == "EACCES"
    child = lambda: subprocess.run(["sh", "-c", f"echo x > {tmp_path}/by-child.txt"], check=True)  # noqa: E731
    assert _in_confined_child([str(tmp_path / "granted")], child) != "ok"
    assert not target.exists() and not (tmp_path / "by-child.txt").exists()


def test_a_path_not_there_yet_can_be_made(tmp_path: Path):
    later = tmp_path / "later" / "deeper"
    assert _in_confined_child([str(later)], lambda: (os.makedirs(later), (later / "f.txt").write_text("x"))) == "ok"
    assert (later / "f.txt").read_text() == "x"


def test_exec_and_tcp_need_their_rights(tmp_path: Path):
    run_true = lambda: subprocess.run(["true"], check=True)  # noqa: E731
    assert _in_confined_child([str(tmp_path)], run_true, execute=False) == "EACCES"
    assert _in_confined_child([str(tmp_path)], run_true, execute=True) == "ok"
    if landlock.abi() >= 4:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            port = server.getsockname()[1]
            connect = lambda: socket.create_connection(("127.0.0.1", port), timeout=5).close()  # noqa: E731
            assert _in_confined_child([str(tmp_path)], connect, network=False) == "EACCES"
            assert _in_confined_child([str(tmp_path)], connect, network=True) == "ok"


def test_the_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(landlock.SWITCH, "off")
    assert landlock.abi() == 0
    with pytest.raises(OSError, match="not available"):
        landlock.ruleset(["/"], network=True)
