"""The warm command server, run by this test process in a fork (``forks``) on a real git
repository, and the hook's client (its ``main``, also in a fork) or a raw socket talking to
it: served runs and their exit status, signals, a server or a client gone mid-run, the
requests it refuses, when it exits, and the folder it keeps."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from omnibase.server import client, serve
from tests.support import Child, Forks, Repo, alive, cli_env, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")

PROBE = '''"""A component whose behaviour the test picks with $PROBE_DO."""
import os, signal, sys, time
from returns.result import Success


def _mark(name, text):
    with open(os.path.join(os.environ["PROBE_DIR"], name), "a") as f:
        f.write(text)


def main(ctx, value):
    do = os.environ.get("PROBE_DO", "record")
    if do == "record":
        umask = os.umask(0)
        os.umask(umask)
        _mark("seen", f"{os.getcwd()}|{os.environ.get('PROBE')}|{os.environ.get('SERVER_ONLY')}|{umask:o}|{sys.argv[1:3]}\\n")
    elif do == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    elif do == "wait":
        _mark("started", f"{os.getpid()}\\n")
        for _ in range(3000):
            if os.path.exists(os.path.join(os.environ["PROBE_DIR"], "go")):
                break
            time.sleep(0.01)
    elif do == "fds":
        for name in os.listdir("/proc/self/fd"):
            try:
                _mark("fds", os.readlink("/proc/self/fd/" + name) + "\\n")
            except OSError:
                pass
    elif do == "kill-server":
        _mark("ran", "ran\\n")
        with open(os.environ["PROBE_PID_FILE"]) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        time.sleep(0.3)
    return Success(None)
'''

CONFIG = """version: 1
components:
  - {name: probe, tags: [pre-commit], always_run: true, python: 'probe:main', isolation: none}
"""


class Served:
    """A repository with a component the test steers, and its server in a fork."""

    def __init__(self, tmp_path: Path, forks: Forks) -> None:
        self.repo = Repo.create(tmp_path / "repo")
        self.repo.write("probe.py", PROBE)
        self.repo.write("omnibase.yaml", CONFIG)
        self.repo.stage("probe.py", "omnibase.yaml")
        self.git_dir = str(self.repo.root / ".git")
        self.folder = client.socket_dir(self.git_dir)
        self.args = ["--hook-type=pre-commit", "--hook-dir", self.git_dir + "/hooks", "--"]
        self.forks = forks
        self.tmp = tmp_path
        self.probe = tmp_path / "probe"
        self.probe.mkdir()
        self.server: Child | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = cli_env({"OMNIBASE_SERVER_IDLE": "60", "PROBE_DIR": str(self.probe),
                       "PROBE_PID_FILE": os.path.join(self.folder, client.PID_FILE)})
        env.pop("OMNIBASE_SERVER", None)
        env.pop("CI", None)
        env.update(extra)
        return env

    def start(self, folder: str | None = None, *, tick: float | None = None, hold: Path | None = None,
              cli: Callable[[], int] | None = None, **env: str) -> Child:
        """A server for the repository (or ``folder``), in a fork; returns once it answers.
        ``tick``: how often the idle server looks at its socket and key (its own copy of the
        module's ``_TICK``: a test of its exit need not wait 2 s a look). ``hold``: each run
        gives its answer, then waits for that file to exist and writes its pid to
        ``hold.ended`` before its process ends. ``cli``: the entry point a run calls in
        place of ``omnibase.cli.main`` (in the server's fork only)."""
        where = folder or self.folder

        def server() -> int:
            if tick is not None:
                serve._TICK = tick
            if hold is not None:
                give = serve._give_answer

                def give_then_wait(fd: int, code: int) -> None:
                    give(fd, code)
                    for _ in range(3000):
                        if hold.exists():
                            break
                        time.sleep(0.01)
                    with open(f"{hold}.ended", "a") as f:
                        f.write(f"{os.getpid()}\n")

                serve._give_answer = give_then_wait  # type: ignore[assignment]  # in this fork only
            if cli is not None:
                import omnibase.cli

                omnibase.cli.main = cli  # type: ignore[assignment]  # in this fork only
            return serve.serve(where)

        self.server = self.forks(server, env=self.env(SERVER_ONLY="yes", **env))
        wait_for(lambda: self.status(where) is not None or self.server.poll() is not None, "the server")  # type: ignore[union-attr]
        return self.server

    def status(self, folder: str | None = None) -> dict[str, str] | None:
        """The server's STATUS answer, or None (no server, or no answer within 5 s)."""
        sock = client.connect(folder or self.folder)
        if sock is None:
            return None
        try:
            sock.settimeout(5)
            sock.sendall(client.frame(b"STATUS"))
            answer = client.read_message(sock)
        except OSError:
            return None
        finally:
            sock.close()
        return dict(line.partition(" ")[::2] for line in answer.decode().splitlines())

    def hook(self, name: str = "hook", **env: str) -> Child:
        """The installed hook's client (``client.main``) in a fork, in the repository."""

        def run() -> int:
            os.chdir(self.repo.root)
            os.umask(0o027)
            return client.main(self.args)

        return self.forks(run, stdout=str(self.tmp / f"{name}.out"), stderr=str(self.tmp / f"{name}.err"), env=self.env(**env))

    def output(self, name: str = "hook") -> tuple[str, str]:
        return (self.tmp / f"{name}.out").read_text(), (self.tmp / f"{name}.err").read_text()

    def connect(self) -> socket.socket:
        sock = client.connect(self.folder)
        assert sock is not None
        sock.settimeout(10)
        return sock

    def send_run(self, sock: socket.socket, body: bytes, nfds: int = 3) -> None:
        fds = [os.open(os.devnull, os.O_RDWR) for _ in range(nfds)]
        try:
            message = client.frame(body)
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{nfds}i", *fds))] if fds else []
            sock.sendmsg([message], rights)
        finally:
            for fd in fds:
                os.close(fd)

    def stop(self) -> int:
        assert self.server is not None
        client.status_request(self.folder, b"STOP")
        return self.server.wait()


@pytest.fixture(scope="session")
def preloaded() -> None:
    """What a server imports before its first request, imported once by this test process:
    every server a test forks finds it imported instead of importing it again (about a
    second a server). Each server still runs its own ``_preload`` (the parsers and the YAML
    warm-up are its own)."""
    import importlib

    for name in serve.PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # as in the server: a module a run needs but cannot import fails in the run
            pass


@pytest.fixture
def served(tmp_path: Path, forks: Forks, preloaded: None) -> Iterator[Served]:
    made = Served(tmp_path, forks)
    yield made
    if made.server is not None and made.server.status is None:
        client.status_request(made.folder, b"STOP")


def _has_line(path: Path) -> bool:
    """``path`` holds a whole line (the probe has written it, not only opened the file)."""
    return path.exists() and path.read_text().endswith("\n")


def _request(served: Served, env: dict[str, str] | None = None, key: str | None = None) -> bytes:
    env = served.env() if env is None else env
    return client.encode_request(["-c", "hook-impl", *served.args], str(served.repo.root), env, 0o022,
                                 client.key(env) if key is None else key)


# --- served runs -------------------------------------------------------------------------------


def test_a_served_run_is_the_hook_in_the_commits_folder_environment_and_umask(served: Served) -> None:
    server = served.start()
    child = served.hook(PROBE="from the commit")
    assert child.wait() == 0, served.output()
    out, err = served.output()
    assert "probe" in out and "PASS" in out  # the report, on the commit's own output
    seen = (served.probe / "seen").read_text()
    assert seen == f"{served.repo.root}|from the commit|None|27|['hook-impl', '--hook-type=pre-commit']\n"
    status = served.status()
    assert status is not None and status["served"] == "1"
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the run's process to end")  # it answers first
    assert status["pid"] == str(server.pid)
    assert served.stop() == 0


def test_a_hook_of_a_linked_worktree_is_served_in_that_worktree(served: Served) -> None:
    """git runs a linked worktree's hooks from the common git folder: the repository's one
    server serves it, and the run is in the linked worktree (its folder, its checkout)."""
    served.repo.commit()
    linked = served.tmp / "linked"
    served.repo.git("worktree", "add", "-q", str(linked))
    server = served.start()

    def run() -> int:
        os.chdir(linked)
        os.umask(0o027)
        return client.main(served.args)  # the hooks folder git gives: the common one

    hook = served.forks(run, stdout=str(served.tmp / "hook.out"), stderr=str(served.tmp / "hook.err"), env=served.env(PROBE="linked"))
    assert hook.wait() == 0, served.output()
    seen = (served.probe / "seen").read_text()
    assert seen == f"{linked}|linked|None|27|['hook-impl', '--hook-type=pre-commit']\n"
    status = served.status()
    assert status is not None and status["served"] == "1" and status["pid"] == str(server.pid)
    served.stop()


def test_a_served_run_killed_by_a_signal_exits_128_plus_n(served: Served) -> None:
    served.start()
    child = served.hook(PROBE_DO="die")
    assert child.wait() == 128 + signal.SIGKILL, served.output()
    status = served.status()
    assert status is not None and status["served"] == "1"  # served, not the plain run
    served.stop()


def test_the_server_dying_mid_run_is_said_and_the_hook_never_runs_twice(served: Served) -> None:
    server = served.start()
    child = served.hook(PROBE_DO="kill-server")
    assert child.wait() == 1
    assert served.output()[1].endswith("omnibase: the command server went away during the run\n")
    assert server.wait() == 128 + signal.SIGKILL
    assert (served.probe / "ran").read_text() == "ran\n"  # once


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_the_hook_stops_the_served_run(served: Served, signum: int) -> None:
    served.start()
    child = served.hook(PROBE_DO="wait")
    wait_for(lambda: _has_line(served.probe / "started"), "the run")
    run = int((served.probe / "started").read_text())
    os.kill(child.pid, signum)
    # stopped, the run still ends as a run does: its durable writes (fsync) may take seconds on a busy disk
    wait_for(lambda: not alive(run), "the run's end", timeout=30)
    assert child.wait(timeout=30) == 128 + signum, served.output()
    status = served.status()
    assert status is not None
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the run's process to end")  # it answers first
    served.stop()


def test_a_client_gone_mid_run_hangs_the_run_up_and_the_server_goes_on(served: Served) -> None:
    served.start()
    sock = served.connect()
    served.send_run(sock, _request(served, served.env(PROBE_DO="wait")))
    answer = client.read_message(sock)
    assert answer.startswith(b"PID ")
    run = int(answer[4:])
    wait_for(lambda: _has_line(served.probe / "started"), "the run")
    work = int((served.probe / "started").read_text())
    sock.close()
    wait_for(lambda: not alive(run) and not alive(work), "the run's end")
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the server to see it")
    assert served.hook(PROBE="after").wait() == 0
    served.stop()


def test_a_client_gone_without_reading_the_answer_hangs_the_run_up(served: Served) -> None:
    served.start()
    sock = served.connect()
    served.send_run(sock, _request(served, served.env(PROBE_DO="wait")))
    wait_for(lambda: _has_line(served.probe / "started"), "the run")
    work = int((served.probe / "started").read_text())
    assert sock.recv(1, socket.MSG_PEEK) == b"O"  # the PID answer is there, unread
    sock.close()  # closed with unread bytes: the server's next read fails (ECONNRESET)
    wait_for(lambda: not alive(work), "the run's end")
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the server to see it")
    served.stop()


def test_bytes_after_the_request_do_not_stop_the_run(served: Served) -> None:
    served.start()
    sock = served.connect()
    served.send_run(sock, _request(served, served.env(PROBE_DO="wait")))
    assert client.read_message(sock).startswith(b"PID ")
    wait_for(lambda: _has_line(served.probe / "started"), "the run")
    sock.sendall(b"x")
    for _ in range(2):  # two rounds of the server's loop: it has seen the byte
        assert served.status() is not None
    (served.probe / "go").write_text("")
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"0"]
    sock.close()
    served.stop()


def test_two_runs_at_once_are_both_served(served: Served) -> None:
    served.start()
    first = served.hook("first", PROBE_DO="wait")
    second = served.hook("second", PROBE_DO="wait")
    wait_for(lambda: _has_line(served.probe / "started"), "a run")  # one at a time past the stash's lock
    wait_for(lambda: (served.status() or {}).get("running") == "2", "both runs")
    status = served.status()
    assert status is not None and status["served"] == "2"
    (served.probe / "go").write_text("")
    assert (first.wait(), second.wait()) == (0, 0)
    status = served.status()
    assert status is not None
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the run's process to end")  # it answers first
    served.stop()


def test_a_stop_during_a_run_lets_it_finish_and_answer(served: Served) -> None:
    server = served.start()
    child = served.hook(PROBE_DO="wait")
    wait_for(lambda: _has_line(served.probe / "started"), "the run")
    assert client.status_request(served.folder, b"STOP") == b"STOPPING"
    assert server.status is None and alive(server.pid)
    (served.probe / "go").write_text("")
    assert child.wait() == 0
    assert server.wait() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_to_the_server_stops_it_cleanly(served: Served, signum: int) -> None:
    server = served.start()
    os.kill(server.pid, signum)
    assert server.wait() == 0
    assert sorted(os.listdir(served.folder)) == ["lock"]  # its socket and pid file removed


# --- requests ----------------------------------------------------------------------------------


def test_status_says_pid_runs_idle_time_and_start(served: Served) -> None:
    before = time.time()
    server = served.start(OMNIBASE_SERVER_IDLE="2.5")
    answer = client.status_request(served.folder, b"STATUS")
    assert answer is not None
    lines = answer.decode().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["pid", "served", "running", "idle-exit", "started"]
    status = dict(line.split(" ", 1) for line in lines)
    assert status["pid"] == str(server.pid) and status["served"] == "0" and status["running"] == "0"
    assert status["idle-exit"] == "2.5"
    started = time.mktime(time.strptime(status["started"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime(0))
    assert before - 2 <= started <= time.time() + 1
    assert answer.endswith(b"\n")
    served.stop()


def test_status_says_when_the_server_started_not_when_it_was_asked(served: Served) -> None:
    served.start()
    first = served.status()
    assert first is not None
    wait_for(lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) != first["started"], "the next second", timeout=3)
    later = served.status()
    assert later is not None and later["started"] == first["started"]
    served.stop()


def test_a_server_left_without_a_request_for_a_while_still_serves(served: Served) -> None:
    """Its idle looks before any request (here every 0.05 s) count from its start."""
    def server_looking_often() -> int:
        serve._TICK = 0.05  # this fork's copy of the module
        return serve.serve(served.folder)

    server = served.forks(server_looking_often, env=served.env())
    wait_for(lambda: os.path.exists(os.path.join(served.folder, client.SOCKET)), "the server's socket")
    time.sleep(0.3)  # a few of its looks, with nobody connecting
    assert server.poll() is None
    assert served.status() is not None
    client.status_request(served.folder, b"STOP")
    assert server.wait() == 0


def test_stop_answers_stopping_and_the_server_leaves_only_its_lock(served: Served) -> None:
    server = served.start()
    assert client.status_request(served.folder, b"STOP") == b"STOPPING"
    assert server.wait() == 0
    assert sorted(os.listdir(served.folder)) == ["lock"]


def test_a_request_of_an_older_code_is_stale_and_the_server_exits(served: Served) -> None:
    server = served.start()
    sock = served.connect()
    served.send_run(sock, _request(served, key="another key"))
    assert client.read_message(sock) == b"STALE"
    assert sock.recv(1) == b""
    sock.close()
    assert server.wait() == 0  # the next client starts a fresh one
    assert not (served.probe / "seen").exists()  # nothing ran


@pytest.mark.parametrize("body, nfds", [
    (b"RUN\0only-a-key", 3), (b"RUN\0k\0/\0zz\x000", 3), ("request", 0), ("request", 1), ("request", 2),
])
def test_a_malformed_request_or_one_without_its_three_streams_is_refused_and_the_server_stays(
        served: Served, body: bytes | str, nfds: int) -> None:
    server = served.start()
    sock = served.connect()
    served.send_run(sock, _request(served) if body == "request" else body, nfds)  # type: ignore[arg-type]
    assert client.read_message(sock) == b"REFUSED"
    assert sock.recv(1) == b""
    sock.close()
    status = served.status()
    assert status is not None and status["pid"] == str(server.pid) and status["served"] == "0"
    assert not (served.probe / "seen").exists()
    served.stop()


@pytest.mark.parametrize("sent", [
    b"OMB2\x00\x00\x00\x06STATUS",  # not our magic
    b"OMB1\x01\x00\x00\x01",  # over the 16 MiB limit
    b"OMB1\x00\x00\x00\x05HELLO",  # no such request
    b"OMB1\x00\x00\x00\x03RUN",  # a run without its fields
    b"OMB1\x00\x00\x00\x07STAT",  # cut short
    b"OMB1\x00",  # cut short in the header
    b"",
])
def test_what_is_not_a_request_gets_no_answer_and_the_server_stays(served: Served, sent: bytes) -> None:
    server = served.start()
    sock = served.connect()
    sock.sendall(sent)
    sock.shutdown(socket.SHUT_WR)
    try:
        assert sock.recv(64) == b""
    except ConnectionResetError:  # closed with bytes of ours unread
        pass
    sock.close()
    status = served.status()
    assert status is not None and status["pid"] == str(server.pid)
    served.stop()


def test_a_request_at_the_size_limit_is_read(served: Served) -> None:
    served.start()
    sock = served.connect()
    message = client.frame(b"RUN\0only-a-key".ljust(16 << 20, b"\0"))
    fds = [os.open(os.devnull, os.O_RDWR) for _ in range(3)]
    try:
        sent = sock.sendmsg([message[:4096]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", *fds))])
    finally:
        for fd in fds:
            os.close(fd)
    sender = threading.Thread(target=lambda: sock.sendall(message[sent:]), daemon=True)
    sender.start()
    assert client.read_message(sock) == b"REFUSED"  # read whole, and answered
    sender.join(30)
    sock.close()
    served.stop()


def test_a_runs_streams_sent_with_two_pieces_of_the_header_are_all_received(served: Served) -> None:
    """The fds that come with any of the request's first eight bytes count: here two with
    the first four bytes and the third with the next four."""
    served.start()
    sock = served.connect()
    message = client.frame(_bad_option(served))
    fds = [os.open(os.devnull, os.O_RDONLY), os.open(os.devnull, os.O_WRONLY), os.open(os.devnull, os.O_WRONLY)]
    try:
        sock.sendmsg([message[:4]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("2i", *fds[:2]))])
        sock.sendmsg([message[4:8]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("1i", fds[2]))])
    finally:
        for fd in fds:
            os.close(fd)
    sock.sendall(message[8:])
    assert client.read_message(sock).startswith(b"PID ")
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]
    assert sock.recv(64) == b""
    sock.close()
    served.stop()


def test_a_request_sent_in_small_pieces_is_read_whole(served: Served) -> None:
    served.start()
    sock = served.connect()
    message = client.frame(b"STATUS")
    for i in range(0, len(message), 3):
        sock.sendall(message[i : i + 3])
        time.sleep(0.01)
    assert client.read_message(sock).startswith(b"pid ")
    sock.close()
    served.stop()


def test_a_served_run_sent_in_pieces_gets_its_streams(served: Served) -> None:
    served.start()
    sock = served.connect()
    message = client.frame(_request(served, served.env(PROBE="pieces")))
    out = served.tmp / "pieces.out"
    fds = [os.open(os.devnull, os.O_RDONLY), os.open(out, os.O_WRONLY | os.O_CREAT, 0o600), os.open(os.devnull, os.O_WRONLY)]
    try:
        sock.sendmsg([message[:4]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", *fds))])
    finally:
        for fd in fds:
            os.close(fd)
    sock.sendall(message[4:])
    assert client.read_message(sock).startswith(b"PID ")
    words = client.read_message(sock).split()
    assert words[:2] == [b"EXIT", b"0"]
    assert float(words[2]) >= 0 and float(words[3]) >= 0
    assert "probe" in out.read_text()
    sock.close()
    served.stop()


# --- when the server exits by itself ------------------------------------------------------------


def test_an_idle_server_exits_and_removes_its_socket(served: Served) -> None:
    server = served.start(OMNIBASE_SERVER_IDLE="1", tick=0.1)
    assert server.wait() == 0
    assert sorted(os.listdir(served.folder)) == ["lock"]


def test_a_run_longer_than_the_idle_time_does_not_make_the_server_idle(served: Served) -> None:
    """Idle means no run and no request: while a run lasts (here held past its answer) the
    server keeps serving, whatever its idle time."""
    hold = served.tmp / "let-go"
    served.start(OMNIBASE_SERVER_IDLE="1", tick=0.1, hold=hold)
    sock = served.connect()
    served.send_run(sock, _bad_option(served))
    pid = int(client.read_message(sock).removeprefix(b"PID "))
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]
    time.sleep(1.5)  # past the idle time, the run still there
    status = served.status()
    assert status is not None and status["running"] == "1"
    hold.write_text("")
    wait_for(lambda: not alive(pid), "the run's end")
    sock.close()


def test_a_server_whose_socket_is_gone_exits(served: Served) -> None:
    server = served.start(tick=0.1)
    os.unlink(os.path.join(served.folder, client.SOCKET))
    assert server.wait() == 0
    assert client.PID_FILE in os.listdir(served.folder)  # not its socket any more: nothing of it is removed


def test_a_server_whose_socket_was_replaced_leaves_the_new_one(served: Served) -> None:
    server = served.start(tick=0.1)
    path = os.path.join(served.folder, client.SOCKET)
    os.unlink(path)
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(path)
    try:
        assert server.wait() == 0
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        other.close()


@pytest.mark.parametrize("value, seconds", [("30", 30.0), ("0.2", 1.0), ("-5", 1.0), ("1", 1.0), ("abc", 600.0), ("", 600.0)])
def test_the_idle_time_is_read_from_the_environment_at_least_one_second(value: str, seconds: float) -> None:
    assert serve._idle_seconds({"OMNIBASE_SERVER_IDLE": value}) == seconds


def test_the_idle_time_is_ten_minutes_by_default() -> None:
    assert serve._idle_seconds({}) == 600.0


# --- the folder it keeps -----------------------------------------------------------------------


def test_a_fresh_server_makes_its_folder_private_and_writes_its_pid(served: Served) -> None:
    server = served.start()
    assert stat.S_IMODE(os.stat(served.folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(served.folder, client.SOCKET)).st_mode) == 0o600
    pid_file = os.path.join(served.folder, client.PID_FILE)
    assert stat.S_IMODE(os.stat(pid_file).st_mode) == 0o600
    with open(pid_file) as f:
        assert f.read() == f"{server.pid}\n"
    assert stat.S_IMODE(os.stat(os.path.join(served.folder, "lock")).st_mode) == 0o600
    served.stop()


def _fds(pid: int) -> set[str]:
    found = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            pass
    return found


def test_a_run_holds_none_of_the_servers_sockets_pipes_or_lock(served: Served) -> None:
    server = served.start()
    own = _fds(server.pid) - _fds(os.getpid())  # what the server opened (not what it has from the test)
    assert {f.partition(":")[0] for f in own} >= {"socket", "pipe", str(Path(served.folder) / "lock")}
    assert served.hook(PROBE_DO="fds").wait() == 0, served.output()
    held = set((served.probe / "fds").read_text().split("\n"))
    assert not own & held
    served.stop()


def test_requests_leave_the_server_no_fd_more(served: Served) -> None:
    server = served.start()

    def streams_and_sockets() -> tuple[int, int]:  # what a request brings: three fds (/dev/null here), a connection
        links = []
        for name in os.listdir(f"/proc/{server.pid}/fd"):
            try:
                links.append(os.readlink(f"/proc/{server.pid}/fd/{name}"))
            except OSError:
                pass
        return links.count(os.devnull), sum(link.startswith("socket:") for link in links)

    before = (streams_and_sockets()[0], 1)  # idle, its one socket is the listening one
    assert served.hook().wait() == 0
    for body in (b"STATUS", b"RUN\0only-a-key", b"HELLO"):
        sock = served.connect()
        served.send_run(sock, body)  # each with three fds
        try:
            sock.recv(64)
        except ConnectionResetError:
            pass
        sock.close()
    assert served.status() is not None
    wait_for(lambda: streams_and_sockets() == before, "the server to hold only what it held before")  # it closes just after answering
    served.stop()


def test_a_git_state_folder_that_is_a_symlink_is_never_used(served: Served) -> None:
    target = served.tmp / "elsewhere"
    target.mkdir()
    os.symlink(target, os.path.dirname(served.folder))  # .git/omnibase -> elsewhere
    assert served.forks(lambda: serve.serve(served.folder), env=served.env()).wait() == 0
    assert os.listdir(target) == []


def test_a_file_in_place_of_the_folder_is_never_used(served: Served) -> None:
    os.makedirs(os.path.dirname(served.folder))
    with open(served.folder, "w") as f:
        f.write("mine")
    assert served.forks(lambda: serve.serve(served.folder), env=served.env()).wait() == 0
    with open(served.folder) as f:
        assert f.read() == "mine"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder another user's")
def test_a_folder_of_another_user_is_never_used(served: Served) -> None:
    os.makedirs(served.folder, mode=0o700)
    os.chown(served.folder, 65534, 65534)
    assert served.forks(lambda: serve.serve(served.folder), env=served.env()).wait() == 0
    assert os.listdir(served.folder) == []


def test_a_server_waits_for_one_that_is_exiting_to_let_go_of_the_lock(served: Served) -> None:
    import fcntl

    os.makedirs(served.folder, mode=0o700)
    held = served.tmp / "held"

    def exiting_server() -> int:  # holds the lock a moment, as a server that is exiting does
        lock = os.open(os.path.join(served.folder, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        held.write_text("")
        time.sleep(0.5)
        return 0

    holder = served.forks(exiting_server)
    wait_for(held.exists, "the lock taken")
    server = served.forks(lambda: serve.serve(served.folder), env=served.env())
    assert holder.wait() == 0
    wait_for(lambda: served.status() is not None or server.poll() is not None, "the server")
    assert server.poll() is None
    status = served.status()
    assert status is not None and status["pid"] == str(server.pid)
    client.status_request(served.folder, b"STOP")
    assert server.wait() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_a_client_of_another_user_gets_no_answer(served: Served, tmp_path: Path) -> None:
    served.start()
    os.chmod(served.folder, 0o711)
    os.chmod(os.path.join(served.folder, client.SOCKET), 0o666)

    def stranger() -> int:
        folder = os.open(served.folder, os.O_RDONLY | os.O_DIRECTORY)
        os.setgid(65534)
        os.setuid(65534)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(f"/proc/self/fd/{folder}/{client.SOCKET}")
        try:
            sock.sendall(client.frame(b"STATUS"))  # the server may have closed already
            data = sock.recv(64)
        except (BrokenPipeError, ConnectionResetError):
            data = b""
        return 0 if data == b"" else 3

    assert served.forks(stranger, stderr=str(tmp_path / "err")).wait() == 0, (tmp_path / "err").read_text()
    os.chmod(served.folder, 0o700)
    os.chmod(os.path.join(served.folder, client.SOCKET), 0o600)
    served.stop()


def test_a_silent_client_does_not_hold_the_server_up(served: Served) -> None:
    served.start()
    silent = served.connect()  # connects and sends nothing
    try:
        sock = client.connect(served.folder)
        assert sock is not None
        sock.settimeout(20)  # the server gives up on the silent one after 5 s
        sock.sendall(client.frame(b"STATUS"))
        assert client.read_message(sock).startswith(b"pid ")
        sock.close()
    finally:
        silent.close()
    served.stop()


def test_a_server_whose_environment_no_longer_gives_its_key_exits(served: Served) -> None:
    """What a staleness key covers changed under a running, idle server (here the module
    search path it would give a client): it exits at its next look."""

    def server() -> int:
        signal.signal(signal.SIGUSR1, lambda signum, frame: os.environ.__setitem__("PYTHONPATH", "/changed"))
        return serve.serve(served.folder)

    child = served.forks(server, env=served.env())
    wait_for(lambda: served.status() is not None or child.poll() is not None, "the server")
    assert child.poll() is None
    os.kill(child.pid, signal.SIGUSR1)
    assert child.wait() == 0
    assert sorted(os.listdir(served.folder)) == ["lock"]


def _send_hook_run(served: Served, cwd: Path) -> tuple[socket.socket, Path]:
    """A hook run asked of the served server for ``cwd``, its streams /dev/null and a file
    (stderr, returned); the connection to read its answer from."""
    sock = served.connect()
    env = served.env()
    err = served.tmp / "run.err"
    fds = [os.open(os.devnull, os.O_RDONLY), os.open(os.devnull, os.O_WRONLY), os.open(err, os.O_WRONLY | os.O_CREAT, 0o600)]
    body = client.encode_request(["-c", "hook-impl", *served.args], str(cwd), env, 0o022, client.key(env))
    try:
        sock.sendmsg([client.frame(body)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", *fds))])
    finally:
        for fd in fds:
            os.close(fd)
    return sock, err


def test_a_run_that_cannot_start_says_why_and_exits_1(served: Served) -> None:
    """The run's own failure before the CLI (here the client's folder is gone) is said on
    the client's stderr and answered as exit 1; the server goes on."""
    served.start()
    sock, err = _send_hook_run(served, served.tmp / "gone")
    assert client.read_message(sock).startswith(b"PID ")
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"1"]
    assert err.read_text().startswith("omnibase: internal error in the command server's run: FileNotFoundError")
    sock.close()
    assert served.status() is not None
    served.stop()


def test_a_served_run_with_a_bad_option_exits_as_the_cli_does(served: Served) -> None:
    served.start()
    sock = served.connect()
    env = served.env()
    served.send_run(sock, client.encode_request(["-c", "hook-impl", "--no-such-option"], str(served.repo.root), env, 0o022, client.key(env)))
    assert client.read_message(sock).startswith(b"PID ")
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]  # argparse's exit
    sock.close()
    served.stop()


def _bad_option(served: Served) -> bytes:
    """A request whose run the CLI ends at once: argparse refuses its option (exit 2)."""
    env = served.env()
    return client.encode_request(["-c", "hook-impl", "--no-such-option"], str(served.repo.root), env, 0o022, client.key(env))


def test_a_run_is_answered_once_as_soon_as_it_gives_its_answer(served: Served) -> None:
    """The answer reaches the client while the run's process is still ending, with its CPU
    time as the run gave it; when the process is reaped nothing more is sent."""
    hold = served.tmp / "let-go"
    served.start(hold=hold)
    sock = served.connect()
    served.send_run(sock, _bad_option(served))
    pid = int(client.read_message(sock).removeprefix(b"PID "))
    words = client.read_message(sock).split()
    assert words[:2] == [b"EXIT", b"2"] and len(words) == 4
    assert all(len(w.partition(b".")[2]) == 6 and float(w) >= 0 for w in words[2:])  # seconds, to the microsecond
    assert alive(pid)  # answered before its end
    hold.write_text("")
    wait_for(lambda: not alive(pid), "the run's end")
    assert sock.recv(64) == b""  # reaped: the connection closed, no second answer
    sock.close()
    status = served.status()
    assert status is not None and status["running"] == "0"
    served.stop()


def test_a_client_gone_after_its_answer_does_not_hang_up_the_ending_run(served: Served) -> None:
    hold = served.tmp / "let-go"
    served.start(hold=hold)
    sock = served.connect()
    served.send_run(sock, _bad_option(served))
    pid = int(client.read_message(sock).removeprefix(b"PID "))
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]
    sock.close()
    for _ in range(2):  # two rounds of the server's loop: it has seen the close
        assert served.status() is not None
    hold.write_text("")
    wait_for(lambda: not alive(pid), "the run's end")
    assert (served.tmp / "let-go.ended").read_text() == f"{pid}\n"  # not hung up: it ended by itself
    wait_for(lambda: (served.status() or {}).get("running") == "0", "the server to reap it")
    served.stop()


def _sleeping_in_its_loop(pid: int) -> bool:
    """Process ``pid`` waits in ``epoll_wait`` (Linux: /proc/PID/wchan), not running."""
    with open(f"/proc/{pid}/wchan") as f:
        return f.read() == "do_epoll_wait"


def test_a_server_whose_run_has_ended_sleeps_until_the_next_request(served: Served) -> None:
    """The run's end wakes the loop (SIGCHLD, through the wake-up pipe); the loop empties
    the pipe and sleeps again instead of spinning on it."""
    server = served.start()
    sock = served.connect()
    served.send_run(sock, _bad_option(served))
    assert client.read_message(sock).startswith(b"PID ")
    assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]
    assert sock.recv(64) == b""  # reaped
    sock.close()
    wait_for(lambda: all(_sleeping_in_its_loop(server.pid) for _ in range(5)), "the server to sleep in its loop")
    served.stop()


def test_runs_one_after_another_are_each_answered_and_leave_the_server_as_it_was(served: Served) -> None:
    server = served.start()

    def fds() -> dict[int, str]:  # what a request brings (streams on /dev/null, a connection, a pipe), by fd
        found = {}
        for name in os.listdir(f"/proc/{server.pid}/fd"):
            try:
                found[int(name)] = os.readlink(f"/proc/{server.pid}/fd/{name}")
            except OSError:
                pass
        return {fd: link for fd, link in found.items() if link == os.devnull or link.startswith(("socket:", "pipe:"))}

    wait_for(lambda: [link[:7] for link in fds().values()].count("socket:") == 1, "the server to close the start's STATUS")
    before = fds()  # idle: its one socket is the listening one
    for _ in range(3):
        sock = served.connect()
        served.send_run(sock, _bad_option(served))
        assert client.read_message(sock).startswith(b"PID ")
        assert client.read_message(sock).split()[:2] == [b"EXIT", b"2"]
        assert sock.recv(64) == b""  # closed once the run is reaped
        sock.close()
    status = served.status()
    assert status is not None and (status["served"], status["running"]) == ("3", "0")
    wait_for(lambda: fds() == before, "the server to hold the fds it held before")  # it closes just after answering
    served.stop()


def _raises(what: BaseException) -> Callable[[], int]:
    def cli() -> int:
        raise what

    return cli


def _killed_by(signum: int) -> Callable[[], int]:
    def cli() -> int:
        os.kill(os.getpid(), signum)  # the run's handlers are the defaults: it ends here, unanswered
        return 0

    return cli


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_before_it_answers_is_answered_128_plus_n_and_the_server_goes_on(served: Served, signum: int) -> None:
    """A run that ends by a signal gives no answer of its own: the server answers for it
    when it reaps it, with 128 + N and the CPU time of its process, then serves the next."""
    served.start(cli=_killed_by(signum))
    for _ in range(2):
        sock = served.connect()
        served.send_run(sock, _bad_option(served))
        assert client.read_message(sock).startswith(b"PID ")
        words = client.read_message(sock).split()
        assert words[:2] == [b"EXIT", str(128 + signum).encode()] and len(words) == 4
        assert all(len(w.partition(b".")[2]) == 6 and float(w) >= 0 for w in words[2:])
        assert sock.recv(64) == b""  # one answer, then the end
        sock.close()
    status = served.status()
    assert status is not None and (status["served"], status["running"]) == ("2", "0")
    served.stop()


@pytest.mark.parametrize("raised, code, said", [
    (SystemExit(None), 0, ""), (SystemExit(3), 3, ""), (SystemExit(259), 3, ""), (SystemExit("a reason"), 1, None),
    (KeyboardInterrupt(), 130, None),
    (RuntimeError("a bug"), 1, "omnibase: internal error in the command server's run: RuntimeError: a bug\n"),
])  # fmt: skip
def test_what_leaves_the_cli_is_the_served_runs_exit_status(
        served: Served, raised: BaseException, code: int, said: str | None) -> None:
    """A served run ends as the interpreter would end the plain one on what the CLI's entry
    point raises (``sys.exit``'s number, modulo 256; 0 for none, 1 for any other value; 130
    for Ctrl-C), and a bug is said on the commit's stderr and exits 1. (The CLI itself
    exits with numbers only and answers Ctrl-C itself: what the server would print for
    the other two, unlike the interpreter nothing, is not held here.)"""
    served.start(cli=_raises(raised))
    sock, err = _send_hook_run(served, served.repo.root)
    assert client.read_message(sock).startswith(b"PID ")
    assert client.read_message(sock).split()[:2] == [b"EXIT", str(code).encode()]
    if said is not None:
        assert err.read_text() == said
    sock.close()
    served.stop()


def test_a_folder_open_to_others_is_closed_and_emptied_before_use(served: Served) -> None:
    os.makedirs(served.folder)
    os.chmod(served.folder, 0o777)
    for name in ("lock", "pid", "planted"):
        with open(os.path.join(served.folder, name), "w") as f:
            f.write("planted")
    os.mkdir(os.path.join(served.folder, "sub"))
    server = served.start()
    assert stat.S_IMODE(os.stat(served.folder).st_mode) == 0o700
    assert sorted(os.listdir(served.folder)) == ["lock", "pid", "s", "sub"]
    with open(os.path.join(served.folder, "pid")) as f:
        assert f.read() == f"{server.pid}\n"
    served.stop()


def test_a_private_folder_keeps_what_is_in_it(served: Served) -> None:
    os.makedirs(served.folder, mode=0o700)
    with open(os.path.join(served.folder, "note"), "w") as f:
        f.write("mine")
    served.start()
    assert "note" in os.listdir(served.folder)
    served.stop()


def test_a_second_server_leaves_a_live_one_be(served: Served) -> None:
    first = served.start()
    second = served.forks(lambda: serve.serve(served.folder), env=served.env())
    assert second.wait() == 0
    status = served.status()
    assert status is not None and status["pid"] == str(first.pid)
    served.stop()


def test_a_second_server_leaves_a_live_one_be_even_when_its_lock_file_was_removed(served: Served) -> None:
    """The lock is free (its file removed and made again), but a live server answers on the
    socket: the new one leaves its socket and pid file alone and exits."""
    first = served.start()
    socket_path = os.path.join(served.folder, client.SOCKET)
    inode = os.stat(socket_path).st_ino
    os.unlink(os.path.join(served.folder, "lock"))
    second = served.forks(lambda: serve.serve(served.folder), env=served.env())
    assert second.wait() == 0
    assert os.stat(socket_path).st_ino == inode
    with open(os.path.join(served.folder, client.PID_FILE)) as f:
        assert f.read() == f"{first.pid}\n"
    status = served.status()
    assert status is not None and status["pid"] == str(first.pid)
    served.stop()


def test_a_dead_servers_socket_and_pid_are_replaced(served: Served) -> None:
    os.makedirs(served.folder, mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.path.join(served.folder, client.SOCKET))
    dead.close()
    with open(os.path.join(served.folder, client.PID_FILE), "w") as f:
        f.write("999999999\n")
    server = served.start()
    status = served.status()
    assert status is not None and status["pid"] == str(server.pid)
    served.stop()


def test_a_folder_that_is_a_symlink_is_never_used(served: Served) -> None:
    target = served.tmp / "elsewhere"
    target.mkdir(mode=0o700)
    os.makedirs(os.path.dirname(served.folder))
    os.symlink(target, served.folder)
    child = served.forks(lambda: serve.serve(served.folder), env=served.env())
    assert child.wait() == 0
    assert os.listdir(target) == []


def test_a_server_with_a_thread_running_refuses_to_serve(served: Served) -> None:
    def threaded() -> int:
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        return serve.serve(served.folder)

    child = served.forks(threaded, env=served.env())
    assert child.wait() == 1
    assert not os.path.exists(os.path.join(served.folder, client.SOCKET))


def test_a_long_repository_path_is_served(served: Served, tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 80) / ("e" * 80) / "git"
    deep.mkdir(parents=True)
    folder = client.socket_dir(str(deep))
    assert len(folder) > 108
    server = served.start(folder)
    status = served.status(folder)
    assert status is not None and status["pid"] == str(server.pid)
    client.status_request(folder, b"STOP")
    assert server.wait() == 0


def test_before_its_first_request_a_server_has_imported_what_a_run_needs_and_built_its_parsers(
        forks: Forks, tmp_path: Path) -> None:
    """In a fork that has forgotten every module of the list (and any parser built before),
    ``_preload`` imports them all again and builds the parsers of ``hook-impl`` and ``orch``."""
    found = tmp_path / "found.json"

    def probe() -> int:
        for name in serve.PRELOAD:
            sys.modules.pop(name, None)
        serve._preload()
        main = sys.modules["omnibase.cli._main"]
        found.write_text(json.dumps({"missing": [name for name in serve.PRELOAD if name not in sys.modules],
                                     "parsers": sorted(main._PREBUILT)}))
        return 0

    assert forks(probe).wait(timeout=60) == 0
    assert json.loads(found.read_text()) == {"missing": [], "parsers": ["hook-impl", "orch"]}


# --- the server's command line -----------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["a", "b"]])
def test_the_server_wants_exactly_its_folder(forks: Forks, tmp_path: Path, argv: list[str]) -> None:
    err = tmp_path / "err"
    assert forks(lambda: serve.main(argv), stderr=str(err)).wait() == 2
    assert err.read_text() == "usage: python -c 'from omnibase.server.serve import main; ...' SOCKET_FOLDER\n"


def test_a_server_that_fails_says_nothing_and_exits_1(forks: Forks, served: Served, tmp_path: Path) -> None:
    err = tmp_path / "err"
    where = os.path.join(os.path.dirname(served.folder), "x" * 300)  # no such name can be made
    assert forks(lambda: serve.main([where]), stderr=str(err), env=served.env()).wait() == 1
    assert err.read_text() == ""


def test_a_server_started_by_main_serves(served: Served) -> None:
    server = served.forks(lambda: serve.main([served.folder]), env=served.env())
    wait_for(lambda: served.status() is not None or server.poll() is not None, "the server")
    assert server.poll() is None
    assert served.hook().wait() == 0
    client.status_request(served.folder, b"STOP")
    assert server.wait() == 0


# --- the run's standard streams ----------------------------------------------------------------


def _streams(forks: Forks, tmp_path: Path, setup: Any) -> dict[str, Any]:
    """``_reopen_std_streams`` in a fork after ``setup()``; what the new streams are."""
    found = tmp_path / "streams.json"

    def probe() -> int:
        setup()
        serve._reopen_std_streams()
        facts = {}
        for name in ("stdin", "stdout", "stderr"):
            stream = getattr(sys, name)
            facts[name] = {"fd": stream.fileno(), "encoding": stream.encoding, "errors": stream.errors,
                           "line": stream.line_buffering, "through": stream.write_through,
                           "mode": stream.buffer.mode, "raw": type(stream.buffer).__name__,
                           "dunder": getattr(sys, f"__{name}__") is stream}
        sys.stdout.write("out\n")
        sys.stderr.write("err\n")
        facts["read"] = sys.stdin.read()
        found.write_text(json.dumps(facts))
        return 0

    return {"child": forks(probe, stdin=str(tmp_path / "in"), stdout=str(tmp_path / "out"), stderr=str(tmp_path / "err")),
            "found": found}


def test_a_runs_streams_are_on_the_commits_fds_block_buffered_to_a_file(forks: Forks, tmp_path: Path) -> None:
    (tmp_path / "in").write_text("input\n")

    def setup() -> None:
        sys.stdout = open(1, "w", encoding="latin-1", errors="replace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-16", errors="backslashreplace", closefd=False)
        sys.stdin = open(0, encoding="ascii", errors="ignore", closefd=False)

    made = _streams(forks, tmp_path, setup)
    assert made["child"].wait() == 0
    facts = json.loads(made["found"].read_text())
    assert facts["stdin"] == {"fd": 0, "encoding": "ascii", "errors": "ignore", "line": False, "through": False,
                              "mode": "rb", "raw": "BufferedReader", "dunder": True}
    assert facts["stdout"] == {"fd": 1, "encoding": "latin-1", "errors": "replace", "line": False, "through": False,
                               "mode": "wb", "raw": "BufferedWriter", "dunder": True}
    assert facts["stderr"] == {"fd": 2, "encoding": "utf-16", "errors": "backslashreplace", "line": True, "through": True,
                               "mode": "wb", "raw": "FileIO", "dunder": True}
    assert facts["read"] == "input\n"
    assert (tmp_path / "out").read_text() == ""  # block-buffered: still in the buffer when the fork ended
    assert (tmp_path / "err").read_bytes() == "err\n".encode("utf-16")  # written through at once


def test_a_runs_stdout_on_a_terminal_is_line_buffered(forks: Forks, tmp_path: Path) -> None:
    (tmp_path / "in").write_text("")
    import pty

    leader, follower = pty.openpty()
    try:
        def setup() -> None:
            os.dup2(follower, 1)
            sys.stdout = None  # type: ignore[assignment]  # no stream before: UTF-8, strict
            sys.stderr = None  # type: ignore[assignment]

        made = _streams(forks, tmp_path, setup)
        assert made["child"].wait() == 0
        os.set_blocking(leader, False)
        assert os.read(leader, 100) == b"out\r\n"  # line-buffered: written at the newline
    finally:
        os.close(follower)
        os.close(leader)
    facts = json.loads(made["found"].read_text())
    assert facts["stdout"]["line"] is True and facts["stdout"]["through"] is False
    assert (facts["stdout"]["encoding"], facts["stdout"]["errors"]) == ("utf-8", "strict")
    assert (facts["stderr"]["encoding"], facts["stderr"]["errors"]) == ("utf-8", "strict")


def test_a_stream_whose_fd_is_closed_is_left_as_it_was(forks: Forks, tmp_path: Path) -> None:
    found = tmp_path / "found"

    def probe() -> int:
        before = sys.stdin
        os.close(0)
        serve._reopen_std_streams()
        found.write_text(json.dumps([sys.stdin is before, sys.stdout.fileno(), sys.stderr.fileno()]))
        return 0

    assert forks(probe).wait() == 0
    assert json.loads(found.read_text()) == [True, 1, 2]
