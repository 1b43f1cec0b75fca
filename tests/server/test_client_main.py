"""The hook's client deciding, from what a server answers, whether the hook ran and how:
the client's ``main`` runs in a fork of the test (``forks``), and the test itself is the
server, answering each case as a bug report would describe it. Its "python" is a recorder
script: when the client falls back (``execv``) or starts a server, the recorder writes
down the command and exits 97, so a plain run is seen, never performed."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from omnibase.core.values import ExitCode
from omnibase.server import client
from tests.support import Child, Forks, cli_env, init_repo, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")

PLAIN = 97  # the recorder's exit status: the client exec'd the plain run

RECORDER = """#!{python} -IS
import json, os, sys
fd = "/proc/self/fd/" + os.environ.get("RECORDER_FD", "-")
inherited = os.path.exists(fd) and os.readlink(fd) == os.devnull
with open(os.environ["RECORDER_LOG"], "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "pid": os.getpid(), "sid": os.getsid(0),
                        "std": [os.readlink(f"/proc/self/fd/{{n}}") for n in (0, 1, 2)],
                        "inherited": inherited}}) + "\\n")
sys.exit({code})
"""


class Hook:
    """A repository whose hook the client runs, with a server socket of the test's own."""

    def __init__(self, tmp_path: Path, forks: Forks) -> None:
        self.root = init_repo(tmp_path / "repo")
        self.git_dir = str(self.root / ".git")
        self.folder = client.socket_dir(self.git_dir)
        self.args = ["--hook-type=pre-commit", "--hook-dir", self.git_dir + "/hooks", "--"]
        self.forks = forks
        self.tmp = tmp_path
        self.log = tmp_path / "recorder.log"
        self.recorder = tmp_path / "bin" / "python"
        self.recorder.parent.mkdir()
        self.recorder.write_text(RECORDER.format(python=sys.executable, code=PLAIN))
        self.recorder.chmod(0o755)
        self.out = tmp_path / "out"
        self.err = tmp_path / "err"
        self.listener: socket.socket | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = cli_env({"RECORDER_LOG": str(self.log)})
        env.pop("OMNIBASE_SERVER", None)
        env.pop("CI", None)
        env.update(extra)
        return env

    def listen(self) -> None:
        """A socket of the test at the server's place, checked as a server's would be."""
        os.makedirs(self.folder, mode=0o700)
        os.chmod(self.folder, 0o700)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(os.path.join(self.folder, client.SOCKET))
        os.chmod(os.path.join(self.folder, client.SOCKET), 0o600)
        self.listener.listen(4)
        self.listener.settimeout(10)
        pid_file = os.path.join(self.folder, client.PID_FILE)
        with open(pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.chmod(pid_file, 0o600)

    def run(self, args: list[str] | None = None, *, record: bool = True, before: Callable[[], None] | None = None,
            **env: str) -> Any:
        """The client's ``main`` in a fork, in the repository, its "python" the recorder
        (``before``: called in the fork just before ``main``)."""
        given = self.args if args is None else args

        def hook() -> int:
            os.chdir(self.root)
            fd = os.open(os.devnull, os.O_RDONLY)  # the first fd after the standard ones: a started server must not keep it
            os.dup2(fd, 3, inheritable=True)
            os.close(fd)
            os.environ["RECORDER_FD"] = "3"
            os.umask(0o027)
            if record:
                sys.executable = str(self.recorder)
            if before is not None:
                before()
            return client.main(given)

        return self.forks(hook, stdin=str(self.tmp / "in"), stdout=str(self.out), stderr=str(self.err), env=self.env(**env))

    def accept(self, child: Child) -> tuple[socket.socket, bytes, list[int]]:
        """The connection of the client ``child``, its request and the fds that came with it
        (an AssertionError as soon as the child ends without connecting)."""
        assert self.listener is not None
        ready: list[Any] = []

        def connected() -> bool:
            ready[:] = select.select([self.listener], [], [], 0.05)[0]
            return bool(ready) or child.poll() is not None

        wait_for(connected, "the client's connection")
        assert ready, f"the client ended ({child.poll()}) without connecting"
        conn, _ = self.listener.accept()
        conn.settimeout(10)
        fds: list[int] = []
        head = b""
        while len(head) < 8:
            data, ancillary, _flags, _addr = conn.recvmsg(8 - len(head), socket.CMSG_SPACE(3 * 4))
            for _level, _kind, payload in ancillary:
                fds += list(struct.unpack(f"{len(payload) // 4}i", payload))
            assert data, "the client closed before its request"
            head += data
        magic, length = struct.unpack("!4sI", head)
        assert magic == b"OMB1"
        body = b""
        while len(body) < length:
            chunk = conn.recv(length - len(body))
            assert chunk, "the client closed in the middle of its request"
            body += chunk
        return conn, body, fds

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def plain_run(self) -> list[str]:
        return ["-P", "-c", client.RUN, "hook-impl", *self.args]

    def server_start(self) -> list[str]:
        return ["-P", "-c", client.SERVE, self.folder]


@pytest.fixture
def hook(tmp_path: Path, forks: Forks) -> Iterator[Hook]:
    (tmp_path / "in").write_text("")
    made = Hook(tmp_path, forks)
    yield made
    if made.listener is not None:
        made.listener.close()


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _delivered(pid: int, signum: int) -> bool:
    """Signal ``signum`` sent to ``pid`` is no longer pending (its handler ran or is running)."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    pending = int(fields["ShdPnd"], 16) | int(fields["SigPnd"], 16)
    return not pending & (1 << (signum - 1))


# --- the plain run: when nothing can be served -------------------------------------------------


@pytest.mark.parametrize("off", [{"OMNIBASE_SERVER": "0"}, {"CI": "true"}])
def test_servers_off_means_the_plain_run_and_no_server_started(hook: Hook, off: dict[str, str]) -> None:
    hook.listen()
    assert hook.run(**off).wait() == PLAIN
    assert [r["argv"] for r in hook.records()] == [hook.plain_run()]


def test_without_the_hooks_folder_the_plain_run_and_no_server_started(hook: Hook) -> None:
    assert hook.run(["--hook-type=pre-commit", "--"]).wait() == PLAIN
    assert [r["argv"] for r in hook.records()] == [["-P", "-c", client.RUN, "hook-impl", "--hook-type=pre-commit", "--"]]


def test_with_no_server_the_plain_run_and_a_server_started_for_next_time(hook: Hook) -> None:
    assert hook.run([*hook.args, "extra"]).wait() == PLAIN
    wait_for(lambda: len(hook.records()) == 2, "the server's start")
    records = hook.records()
    assert sorted(r["argv"] for r in records) == sorted([[*hook.plain_run(), "extra"], hook.server_start()])
    started = next(r for r in records if r["argv"] == hook.server_start())
    assert started["std"] == [os.devnull] * 3  # detached from the commit's terminal and pipes
    assert started["sid"] != os.getsid(0)  # its own session
    assert not started["inherited"]  # the commit's other fds closed
    plain = next(r for r in records if r["argv"] != hook.server_start())
    assert plain["inherited"]  # (the plain run is the hook's own process: it keeps them)


def test_starting_a_server_leaves_no_child_of_the_hook_behind(hook: Hook) -> None:
    """The intermediate process is reaped before the hook goes on (no zombie in the commit)."""

    def start() -> int:
        sys.executable = str(hook.recorder)
        client.start_server(hook.folder)
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        return 1

    assert hook.forks(start, env=hook.env()).wait() == 0
    wait_for(lambda: len(hook.records()) == 1, "the server's start")
    assert hook.records()[0]["argv"] == hook.server_start()


@pytest.mark.parametrize("answer", [b"STALE", b"REFUSED", b"", b"PIDS", b"pid 12"])
def test_a_server_that_will_not_run_it_means_the_plain_run(hook: Hook, answer: bytes) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(answer))
    assert child.wait() == PLAIN
    assert hook.plain_run() in [r["argv"] for r in hook.records()]
    conn.close()


@pytest.mark.parametrize("answer", [None, b"NOPE\x00\x00\x00\x03PID", b"OMB1\x00\x00"])
def test_a_peer_that_says_nothing_or_no_protocol_before_the_run_means_the_plain_run(hook: Hook, answer: bytes | None) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    if answer is not None:
        conn.sendall(answer)
    conn.close()
    assert child.wait() == PLAIN
    assert not hook.err.exists() or "went away" not in hook.err.read_text()


def test_an_error_of_the_client_before_it_knows_the_git_folder_means_the_plain_run_and_no_server(hook: Hook) -> None:
    """The hook's working folder is gone, so a relative ``--hook-dir`` cannot be resolved:
    the client's own error is caught and the plain run goes ahead (it says what is wrong
    itself); no server is started, there being no git folder to start one for."""
    gone = hook.tmp / "gone"
    started = hook.tmp / "started"

    def in_a_removed_folder() -> None:
        gone.mkdir()
        os.chdir(gone)
        gone.rmdir()
        real = client.start_server

        def noted(folder: str) -> None:  # seen at once, not when the detached process gets to run
            started.write_text(repr(folder))
            real(folder)

        client.start_server = noted  # type: ignore[assignment]

    args = ["--hook-type=pre-commit", "--hook-dir", ".git/hooks", "--"]
    assert hook.run(args, before=in_a_removed_folder).wait() == PLAIN
    assert [r["argv"] for r in hook.records()] == [["-P", "-c", client.RUN, "hook-impl", *args]]
    assert not started.exists()


def test_a_server_too_busy_to_take_the_connection_means_the_plain_run_at_once(hook: Hook) -> None:
    """The server's queue of connections not yet accepted is full (it is busy): the client
    does not wait for it, it runs the hook the plain way (and starts a server, which finds
    this one alive and leaves it be)."""
    hook.listen()
    assert hook.listener is not None
    hook.listener.listen(0)  # one connection waiting fills the queue
    waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waiting.connect(os.path.join(hook.folder, client.SOCKET))
    try:
        assert hook.run().wait() == PLAIN
        wait_for(lambda: len(hook.records()) == 2, "the server's start")
        assert sorted(r["argv"] for r in hook.records()) == sorted([hook.plain_run(), hook.server_start()])
        conn, _ = hook.listener.accept()  # the connection that waited, none of the client's
        conn.close()
        hook.listener.settimeout(0.0)
        with pytest.raises(BlockingIOError):
            hook.listener.accept()
    finally:
        waiting.close()


def test_a_planted_socket_gets_nothing_and_the_run_is_plain(hook: Hook) -> None:
    hook.listen()
    os.chmod(os.path.join(hook.folder, client.SOCKET), 0o666)
    assert hook.run().wait() == PLAIN
    assert hook.listener is not None
    hook.listener.settimeout(0.0)
    with pytest.raises(BlockingIOError):
        hook.listener.accept()  # never connected


# --- the request -------------------------------------------------------------------------------


def test_the_request_carries_the_hook_its_folder_environment_umask_key_and_streams(hook: Hook) -> None:
    hook.listen()
    child = hook.run(record=False, PROBE="value with spaces")
    conn, body, fds = hook.accept(child)
    try:
        key, cwd, umask, argv, env = client.decode_request(body)
        assert argv == ["-c", "hook-impl", *hook.args]
        assert cwd == str(hook.root)
        assert umask == 0o027
        assert env["PROBE"] == "value with spaces" and env["RECORDER_LOG"] == str(hook.log)
        assert key == client.key(env)  # what a server of this code and these variables computes
        assert len(fds) == 3
        for fd, path in zip(fds, (hook.tmp / "in", hook.out, hook.err), strict=True):
            assert (os.fstat(fd).st_dev, os.fstat(fd).st_ino) == (os.stat(path).st_dev, os.stat(path).st_ino)
        os.write(fds[1], b"from the run\n")  # the run writes to the commit's own output
    finally:
        _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + client.frame(b"EXIT 0 0 0"))
    assert child.wait() == 0
    assert hook.out.read_text() == "from the run\n"
    conn.close()


def test_a_request_larger_than_one_send_arrives_whole(hook: Hook) -> None:
    hook.listen()
    child = hook.run(record=False, BIG="x" * 300_000)
    conn, body, fds = hook.accept(child)
    _close(fds)
    assert client.decode_request(body)[4]["BIG"] == "x" * 300_000
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + client.frame(b"EXIT 3 0 0"))
    assert child.wait() == 3
    conn.close()


# --- the served run's outcome ------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 2, 5, 130, 137, 143])
def test_the_served_runs_exit_status_is_the_hooks(hook: Hook, code: int) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()))
    conn.sendall(client.frame(b"EXIT %d 0.5 0.25" % code))
    assert child.wait() == code
    assert hook.records() == []  # served: no plain run, no server started
    conn.close()


def test_a_server_gone_during_the_run_is_said_and_the_hook_not_run_again(hook: Hook) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + b"OMB1\x00\x00")
    conn.close()
    assert child.wait() == 1
    assert hook.err.read_text() == "omnibase: the command server went away during the run\n"
    assert hook.records() == []


@pytest.mark.parametrize("answers", [
    [b"PID 1x"], [b"PID "], [b"PID 0"], [b"PID -1"],
    [b"PID {pid}", b"EXIT"], [b"PID {pid}", b"EXIT 0 0"], [b"PID {pid}", b"EXIT x 0 0"], [b"PID {pid}", b"EXIT 0 x 0"],
    [b"PID {pid}", b"EXIT 0 0 x"], [b"PID {pid}", b"EXIT 0 0 0 0"], [b"PID {pid}", b"DONE 0 0 0"],
    [b"PID {pid}", None],
])
def test_a_wrong_answer_during_the_run_is_a_protocol_violation_never_a_second_run(hook: Hook, answers: list[bytes | None]) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    for answer in answers:
        conn.sendall(b"BAD!\x00\x00\x00\x00" if answer is None else client.frame(answer.replace(b"{pid}", b"%d" % os.getpid())))
    assert child.wait() == ExitCode.PROTOCOL == client.PROTOCOL_EXIT
    assert "protocol violation" in hook.err.read_text()
    assert "went away" not in hook.err.read_text()
    assert hook.records() == []
    conn.close()


class _Descheduled(socket.socket):
    """A client socket whose process is not scheduled again between sending its request and
    its next send until the server has answered and closed (``flag`` exists): what a loaded
    machine can do to the hook's client."""

    flag = ""

    def sendall(self, data: Any, flags: int = 0) -> None:
        wait_for(lambda: os.path.exists(self.flag), "the server's close")
        super().sendall(data, flags)


def test_a_run_served_and_closed_before_the_client_sends_again_is_not_run_twice(hook: Hook) -> None:
    hook.listen()
    _Descheduled.flag = str(hook.tmp / "closed")

    def slow_client() -> int:
        os.chdir(hook.root)
        sock = _Descheduled(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.path.join(hook.folder, client.SOCKET))
        code = client.serve_through(sock, hook.args, "k")
        return 99 if code is None else code  # None: it would run the hook the plain way

    child = hook.forks(slow_client, env=hook.env())
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + client.frame(b"EXIT 7 0 0"))
    conn.close()
    (hook.tmp / "closed").write_text("")
    assert child.wait() == 7


def test_the_cpu_time_of_a_served_run_is_written_where_asked(hook: Hook) -> None:
    """The client's own CPU time (user + system) and the run's, as the server measured it."""
    import resource

    hook.listen()
    stats = hook.tmp / "stats"
    stats.write_text("earlier\n")
    spent = hook.tmp / "spent"

    def busy_client() -> int:
        os.chdir(hook.root)
        while resource.getrusage(resource.RUSAGE_SELF).ru_stime < 0.2:  # system time of its own
            os.stat(hook.root)
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent.write_text(f"{used.ru_utime + used.ru_stime}")
        return client.main(hook.args)

    child = hook.forks(busy_client, env=hook.env(OMNIBASE_SERVER_STATS=str(stats)))
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + client.frame(b"EXIT 6 1.5 0.25"))
    assert child.wait() == 6
    first, line = stats.read_text().splitlines()
    assert first == "earlier"  # appended
    served, mine, run = line.split(" ")
    assert (served, run) == ("1", "1.750000")
    assert float(spent.read_text()) <= float(mine) < 60.0 and len(mine.partition(".")[2]) == 6
    conn.close()


def test_stats_that_cannot_be_written_do_not_change_the_exit_status(hook: Hook) -> None:
    hook.listen()
    child = hook.run(OMNIBASE_SERVER_STATS=str(hook.tmp))  # a folder
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % os.getpid()) + client.frame(b"EXIT 6 1 1"))
    assert child.wait() == 6
    assert hook.err.read_text() == ""
    conn.close()


# --- signals -----------------------------------------------------------------------------------


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for the served run: the client forwards signals to it."""
    # with the default actions even where the test runs with a signal ignored (a background
    # job ignores SIGINT, a run under nohup SIGHUP)

    def defaults() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)

    proc = subprocess.Popen(["sleep", "60"], preexec_fn=defaults)
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_run_is_forwarded_to_the_run(hook: Hook, victim: subprocess.Popen[bytes], signum: int) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % victim.pid))
    os.kill(child.pid, signum)
    assert victim.wait(timeout=10) == -signum
    conn.sendall(client.frame(b"EXIT %d 0 0" % (128 + signum)))
    assert child.wait() == 128 + signum
    assert hook.records() == []
    conn.close()


def test_signals_before_the_server_said_the_run_started_reach_the_run_once_it_did(hook: Hook, victim: subprocess.Popen[bytes]) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    os.kill(child.pid, signal.SIGHUP)
    wait_for(lambda: _delivered(child.pid, signal.SIGHUP), "the signal's delivery")
    conn.sendall(client.frame(b"PID %d" % victim.pid))
    assert victim.wait(timeout=10) == -signal.SIGHUP
    conn.sendall(client.frame(b"EXIT 129 0 0"))
    assert child.wait() == 129
    conn.close()


@pytest.mark.parametrize("signals", [[signal.SIGINT], [signal.SIGTERM], [signal.SIGHUP]])
def test_a_signal_before_anything_ran_stops_the_hook_as_the_plain_run_would(hook: Hook, signals: list[int]) -> None:
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    for signum in signals:
        os.kill(child.pid, signum)
        wait_for(lambda: _delivered(child.pid, signum), "the signal's delivery")  # noqa: B023
    conn.sendall(client.frame(b"STALE"))
    assert child.wait() == 128 + signals[0]
    assert hook.records() == []  # stopped: neither the plain run nor a server
    conn.close()


def test_a_ctrl_c_before_the_client_forwards_signals_stops_the_hook_with_130(hook: Hook) -> None:
    """Ctrl-C lands while the client is still getting ready (connected, computing its key,
    its forwarding handlers not yet set): the hook stops as the plain run would on Ctrl-C,
    130, and says so; nothing was sent, nothing runs, no plain run, no server started."""
    hook.listen()

    def ctrl_c_while_the_key_is_computed() -> None:
        real = client.key

        def interrupted(env: Any = None, package: Any = None) -> str:
            os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C, to the whole foreground group
            return real(env, package)

        client.key = interrupted  # type: ignore[assignment]

    child = hook.run(before=ctrl_c_while_the_key_is_computed)
    assert hook.listener is not None
    conn, _ = hook.listener.accept()
    conn.settimeout(10)
    assert conn.recv(1) == b""  # closed without a request
    conn.close()
    assert child.wait() == 130
    assert hook.err.read_text() == "omnibase: interrupted\n"
    assert hook.records() == []
    assert not hook.out.exists() or hook.out.read_text() == ""


def test_a_signal_is_never_sent_to_a_process_that_is_not_the_servers_child(hook: Hook, forks: Forks, tmp_path: Path) -> None:
    """The server named a pid that is not its run (a process of someone else's): the client
    signals nothing, though it still waits for the run's end."""
    pid_file = tmp_path / "stranger"

    def parent_of_stranger() -> int:
        stranger = subprocess.Popen(["sleep", "60"])
        pid_file.write_text(str(stranger.pid))
        return 0 if stranger.wait() == -signal.SIGKILL else 1

    other = forks(parent_of_stranger)
    wait_for(lambda: pid_file.exists() and pid_file.read_text() != "", "the stranger")
    stranger = int(pid_file.read_text())
    hook.listen()
    child = hook.run()
    conn, _body, fds = hook.accept(child)
    _close(fds)
    conn.sendall(client.frame(b"PID %d" % stranger))
    os.kill(child.pid, signal.SIGTERM)
    wait_for(lambda: _delivered(child.pid, signal.SIGTERM), "the signal's delivery")
    conn.sendall(client.frame(b"EXIT 0 0 0"))
    assert child.wait() == 0
    assert other.status is None and os.waitpid(other.pid, os.WNOHANG) == (0, 0)  # the stranger still sleeps
    os.kill(stranger, signal.SIGKILL)
    assert other.wait() == 0
    conn.close()


def test_the_clients_copies_are_the_packages() -> None:
    assert client.PROTOCOL_EXIT == ExitCode.PROTOCOL
    assert stat.S_IFSOCK == client._S_IFSOCK and stat.S_IFDIR == client._S_IFDIR and stat.S_IFREG == client._S_IFREG
    assert stat.S_IFMT(0o777777) == client._S_IFMT
