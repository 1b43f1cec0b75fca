"""The warm command server behind the installed hook, end to end: real ``git commit``s
through the real hook script, real servers (stopped by the fixture), real signals."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from omnibase.server import client as _client
from tests.support import Repo, alive, cli_env

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")]


class Served:
    """A repository with omnibase's hook installed and servers allowed."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.folder = _client.socket_dir(str(repo.root / ".git"))

    def env(self, **extra: str) -> dict[str, str]:
        env = cli_env({"OMNIBASE_SERVER_IDLE": "60"})
        env.pop("OMNIBASE_SERVER", None)  # the session turns servers off (conftest.py); these tests want them
        env.update(extra)
        return env

    def omnibase(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "omnibase", *args], cwd=self.repo.root, capture_output=True,
                              text=True, env=dict(env) if env is not None else self.env(), timeout=60, check=False)

    def hook(self, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The installed pre-commit hook, as git runs it."""
        return subprocess.run([str(self.repo.root / ".git" / "hooks" / "pre-commit")], cwd=cwd or self.repo.root,
                              capture_output=True, text=True, env=dict(env) if env is not None else self.env(),
                              stdin=subprocess.DEVNULL, timeout=60, check=False)

    def status(self) -> dict[str, str] | None:
        answer = _client.status_request(self.folder, b"STATUS")
        if answer is None:
            return None
        return dict(line.partition(" ")[::2] for line in answer.decode().splitlines())

    def wait_up(self) -> dict[str, str]:
        for _ in range(200):
            found = self.status()
            if found is not None:
                return found
            time.sleep(0.05)
        raise AssertionError("no server came up")

    def wait_down(self, pid: int) -> None:
        for _ in range(200):
            if not alive(pid):
                return
            time.sleep(0.05)
        raise AssertionError(f"server {pid} still running")


@pytest.fixture
def served(repo: Repo) -> Iterator[Served]:
    s = Served(repo)
    done = s.omnibase("install")
    assert done.returncode == 0, done
    seen: list[int] = []
    yield s
    found = s.status()
    if found is not None:
        seen.append(int(found["pid"]))
    s.omnibase("server", "stop")
    for pid in seen:
        s.wait_down(pid)


def _report(text: str) -> str:
    """A report without what differs between two runs (durations, snapshot names)."""
    text = re.sub(r"\d+\.\d+s", "Ns", text)
    return "\n".join(line for line in text.splitlines() if "snapshot" not in line and "replay:" not in line)


def test_second_commit_goes_through_the_server(served: Served) -> None:
    repo = served.repo
    repo.write("a.py", "a = 1\n")
    repo.stage("a.py")
    env = served.env()
    first = subprocess.run(["git", "commit", "-q", "-m", "one"], cwd=repo.root, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first
    before = served.wait_up()
    assert before["served"] == "0"  # the first commit ran the plain way and started the server
    repo.write("b.py", "b = 2\n")
    repo.stage("b.py")
    second = subprocess.run(["git", "commit", "-q", "-m", "two"], cwd=repo.root, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second
    assert "check-ast" in second.stdout + second.stderr
    after = served.status()
    assert after is not None and after["served"] == "1" and after["pid"] == before["pid"]
    assert repo.git("log", "--format=%s").split() == ["two", "one"]
    shown = served.omnibase("server", "status")
    assert shown.returncode == 0 and "served 1 run(s)" in shown.stdout


def test_same_report_exit_code_and_fix_with_and_without_server(served: Served) -> None:
    repo = served.repo
    repo.write("ok.py", "x = 1\n")
    repo.stage("ok.py")
    served.hook()
    served.wait_up()
    results = {}
    for how, env in (("served", served.env()), ("plain", served.env(OMNIBASE_SERVER="0"))):
        repo.write("ok.py", "x = 1\n")
        repo.write("bad.py", "y = 2   \n")
        repo.stage("ok.py", "bad.py")
        failing = served.hook(env)
        fixed = (repo.root / "bad.py").read_text()
        repo.stage("bad.py")
        passing = served.hook(env)
        results[how] = (failing.returncode, _report(failing.stdout), failing.stderr, fixed, passing.returncode, _report(passing.stdout))
    assert results["served"] == results["plain"]
    assert results["served"][0] == 1 and results["served"][3] == "y = 2\n" and results["served"][4] == 0
    assert "trailing-whitespace" in results["served"][1]
    status = served.status()
    assert status is not None and status["served"] == "2"


PROBE = '''
import json, os
from returns.result import Success


def probe(ctx, value):
    mask = os.umask(0)
    os.umask(mask)
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump({"cwd": os.getcwd(), "env": os.environ.get("PROBE_VALUE"), "umask": mask, "pid": os.getpid()}, f)
    return Success(None)
'''


def test_the_run_sees_the_clients_cwd_env_and_umask(served: Served, tmp_path: Path) -> None:
    import json

    repo = served.repo
    repo.write("probe.py", PROBE)
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n"
               "  - {name: probe, tags: [pre-commit], always_run: true, python: 'probe:probe', isolation: none}\n")
    repo.write("sub/x.txt", "x\n")
    repo.stage("probe.py", "omnibase.yaml", "sub/x.txt")
    out = tmp_path / "probe.json"
    served.hook(served.env(PROBE_OUT=str(out), PROBE_VALUE="first"))
    served.wait_up()
    seen = {}
    for how in ("served", "plain"):
        env = served.env(PROBE_OUT=str(out), PROBE_VALUE=f"value {how}", **({"OMNIBASE_SERVER": "0"} if how == "plain" else {}))
        hook = str(repo.root / ".git" / "hooks" / "pre-commit")
        done = subprocess.run(["sh", "-c", f"umask 027 && exec {hook}"], cwd=repo.root, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
        assert done.returncode == 0, done
        seen[how] = json.loads(out.read_text())
    assert seen["served"]["env"] == "value served" and seen["plain"]["env"] == "value plain"
    assert seen["served"]["umask"] == seen["plain"]["umask"] == 0o027
    assert seen["served"]["cwd"] == seen["plain"]["cwd"]
    status = served.status()
    assert status is not None and status["served"] == "1"


SLOW = '''
import os
import pathlib
import time
from returns.result import Success


def slow(ctx, value):
    pathlib.Path(os.environ["SLOW_STARTED"]).touch()
    time.sleep(30)
    return Success(None)
'''


def test_sigint_to_the_client_interrupts_the_served_run(served: Served) -> None:
    repo = served.repo
    repo.write("slow.py", SLOW)
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n"
               "  - {name: slow, tags: [pre-commit], always_run: true, python: 'slow:slow', isolation: none}\n")
    repo.stage("slow.py", "omnibase.yaml")
    assert served.status() is None
    # start a server directly (a first, plain run through the hook would take the slow step's 30 s)
    starter = subprocess.Popen([sys.executable, "-P", "-c", _client.SERVE, served.folder], env=served.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        served.wait_up()
        started = repo.root.parent / "slow.started"
        client = subprocess.Popen([str(repo.root / ".git" / "hooks" / "pre-commit")], cwd=repo.root,
                                  env=served.env(SLOW_STARTED=str(started)),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not started.exists() and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # until the run is inside the slow step
        assert started.exists(), client.communicate(timeout=20)
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=20)
        assert client.returncode == 130, (out, err)
        assert "slow" in out and "trailing-whitespace" in out  # the partial report
    finally:
        served.omnibase("server", "stop")
        starter.wait(timeout=20)


def test_a_stale_key_is_refused_and_the_server_exits(served: Served) -> None:
    served.hook()
    pid = int(served.wait_up()["pid"])
    sock = _client.connect(served.folder)
    assert sock is not None
    try:
        assert _client.serve_through(sock, ["--hook-type=pre-commit", "--hook-dir", str(served.repo.root / ".git/hooks")], "old key") is None
    finally:
        sock.close()
    served.wait_down(pid)
    assert served.status() is None
    again = served.hook()  # falls back to the plain run and starts a fresh server
    assert again.returncode == 0 and "no files staged" in again.stdout + again.stderr
    assert int(served.wait_up()["pid"]) != pid


def test_a_killed_server_means_the_plain_run(served: Served) -> None:
    served.repo.write("a.py", "a = 1\n")
    served.repo.stage("a.py")
    served.hook()
    pid = int(served.wait_up()["pid"])
    os.kill(pid, signal.SIGKILL)
    served.wait_down(pid)
    assert os.path.exists(os.path.join(served.folder, _client.SOCKET))  # left behind: connecting is refused
    done = served.hook()
    assert done.returncode == 0, done
    assert "check-ast" in done.stdout
    assert int(served.wait_up()["pid"]) != pid


def test_two_concurrent_clients(served: Served, tmp_path: Path) -> None:
    repo = served.repo
    repo.write("a.py", "a = 1\n")
    repo.stage("a.py")
    repo.commit()
    second = tmp_path / "wt2"
    repo.git("worktree", "add", "-q", str(second))
    (second / "b.py").write_text("b = 1\n")
    subprocess.run(["git", "add", "b.py"], cwd=second, check=True)
    repo.write("c.py", "c = 1\n")
    repo.stage("c.py")
    served.hook()
    served.wait_up()
    env = served.env()
    hooks = str(repo.root / ".git" / "hooks" / "pre-commit")
    runs = [subprocess.Popen([hooks], cwd=where, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for where in (repo.root, second)]
    outs = [r.communicate(timeout=60) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    status = served.status()
    assert status is not None and status["served"] == "2"


def test_socket_folder_is_private(served: Served) -> None:
    served.hook()
    served.wait_up()
    folder = os.stat(served.folder)
    assert stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.getuid()
    assert stat.S_ISSOCK(os.stat(os.path.join(served.folder, _client.SOCKET)).st_mode)


def test_ci_never_uses_a_server(served: Served) -> None:
    served.repo.write("a.py", "a = 1\n")
    served.repo.stage("a.py")
    for _ in range(2):
        done = served.hook(served.env(CI="true"))
        assert done.returncode == 0, done
    time.sleep(0.3)
    assert served.status() is None
    assert not os.path.exists(served.folder)


def test_a_deep_repository_path_beyond_the_socket_limit(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    repo = Repo(deep)
    repo.git("init", "-q", "-b", "main")
    s = Served(repo)
    assert len(os.path.join(s.folder, _client.SOCKET)) > 108
    assert s.omnibase("install").returncode == 0
    s.hook()
    try:
        assert s.wait_up()["served"] == "0"
        assert s.hook().returncode == 0
        status = s.status()
        assert status is not None and status["served"] == "1"
    finally:
        s.omnibase("server", "stop")


def test_server_command_without_a_server(served: Served) -> None:
    done = served.omnibase("server", "status")
    assert done.returncode == 1 and "no command server" in done.stdout
    assert served.omnibase("server", "stop").returncode == 0


def test_a_client_with_another_key_runs_plain_and_replaces_the_server(served: Served, tmp_path: Path) -> None:
    """The key covers ``PYTHONPATH``: a client whose key differs gets "stale", runs the
    plain way (same report) and the old server exits; a fresh one serves the new key."""
    served.repo.write("a.py", "a = 1\n")
    served.repo.stage("a.py")
    served.hook()
    pid = int(served.wait_up()["pid"])
    other = served.env(PYTHONPATH=str(tmp_path / "nothing-here"))
    done = served.hook(other)
    assert done.returncode == 0 and "check-ast" in done.stdout, done
    served.wait_down(pid)
    fresh = served.wait_up()
    assert int(fresh["pid"]) != pid and fresh["served"] == "0"
    assert served.hook(other).returncode == 0
    status = served.status()
    assert status is not None and status["served"] == "1"


AUDIT = """
import sys, threading
from omnibase.server.serve import _preload
_preload()
from omnibase.builtins import _cache, _run, _yaml
from omnibase.drivers.isolation import worker as _worker, process
from omnibase.drivers.isolation import sandbox as _sandbox
memos = {"_run._TAGS": _run._TAGS, "_run._POOL": _run._POOL, "_run._exit_hooked": _run._exit_hooked,
         "_run._KEYS": _run._KEYS, "_cache._BLOBS": _cache._BLOBS, "_cache._READ": _cache._READ,
         "_worker._loaded": _worker._loaded, "_worker._rebuilt": _worker._rebuilt,
         "process._shared": process._shared, "_sandbox._installed": _sandbox._installed}
full = [name for name, memo in memos.items() if memo]
print("full:", full, "threads:", threading.active_count(), "ruamel:", "ruamel.yaml" in sys.modules)
"""


def test_the_preloaded_server_holds_no_run_state() -> None:
    """What a forked run inherits: every per-run memo empty, no thread (a fork copies only
    the forking thread), the YAML parser already imported."""
    done = subprocess.run([sys.executable, "-P", "-c", AUDIT], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "full: [] threads: 1 ruamel: True", done


def test_a_malformed_request_is_refused_and_the_server_stays(served: Served) -> None:
    served.hook()
    pid = served.wait_up()["pid"]
    sock = _client.connect(served.folder)
    assert sock is not None
    try:
        sock.sendall(_client.frame(b"RUN\0only-a-key"))
        assert _client.read_message(sock) == b"REFUSED"
    finally:
        sock.close()
    status = served.status()
    assert status is not None and status["pid"] == pid and status["served"] == "0"


def test_the_server_exits_when_its_socket_is_gone(served: Served) -> None:
    served.hook()
    pid = int(served.wait_up()["pid"])
    os.unlink(os.path.join(served.folder, _client.SOCKET))
    served.wait_down(pid)  # within a tick of its loop (2 s)


# --- trusting nothing unchecked (issue 24.7) ----------------------------------------------


class _Planted:
    """A listening socket of the test's own at the server's path: it records whatever a
    client sends it."""

    def __init__(self, folder: str) -> None:
        import socket
        import threading

        self.received = b""
        self.connected = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self.sock.bind(f"/proc/self/fd/{fd}/{_client.SOCKET}")
        finally:
            os.close(fd)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connected = True
            conn.settimeout(2.0)
            try:
                while chunk := conn.recv(65536):
                    self.received += chunk
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.parametrize("loosen", ["folder", "socket", "pid"])
def test_a_planted_socket_is_refused_and_the_run_is_plain(served: Served, loosen: str) -> None:
    repo = served.repo
    repo.write("a.py", "a = 1\n")
    repo.stage("a.py")
    os.makedirs(served.folder, mode=0o700)
    planted = _Planted(served.folder)
    target = os.path.join(served.folder, _client.SOCKET)
    try:
        if loosen == "folder":  # another user could have put the socket there
            os.chmod(served.folder, 0o777)
            os.chmod(target, 0o600)
        elif loosen == "socket":
            os.chmod(target, 0o666)
        else:  # folder and socket as a server leaves them, but the peer is not the server that wrote its pid
            os.chmod(target, 0o600)
            with open(os.path.join(served.folder, _client.PID_FILE), "w") as f:
                f.write(f"{os.getpid() + 1}\n")
            os.chmod(os.path.join(served.folder, _client.PID_FILE), 0o600)
        done = served.hook(served.env(OMNIBASE_SERVER_IDLE="2"))
    finally:
        planted.close()
    assert done.returncode == 0, done
    assert "check-ast" in done.stdout  # the plain run's report
    assert planted.received == b""  # not a byte (the environment holds tokens) to an unchecked peer
    if loosen != "pid":
        assert not planted.connected  # refused before connecting


def test_a_server_replaces_what_it_finds_in_a_folder_open_to_others(served: Served) -> None:
    os.makedirs(served.folder, mode=0o700)
    planted = _Planted(served.folder)
    planted.close()
    os.chmod(served.folder, 0o777)
    with open(os.path.join(served.folder, "lock"), "w") as f:
        f.write("planted")
    served.hook()
    up = served.wait_up()  # a server of ours answers, checked by the client
    st = os.stat(served.folder)
    assert stat.S_IMODE(st.st_mode) == 0o700
    with open(os.path.join(served.folder, _client.PID_FILE)) as f:
        assert f.read().strip() == up["pid"]
    assert stat.S_IMODE(os.stat(os.path.join(served.folder, _client.SOCKET)).st_mode) == 0o600


# --- staleness (issue 24.13) --------------------------------------------------------------


def test_the_key_changes_with_every_edit_that_keeps_the_modification_time(tmp_path: Path) -> None:
    import shutil

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "_version.py").write_text('__version__ = "1"\n')
    (package / "a.py").write_text("A = 1\n")
    (package / "b.py").write_text("B = 1\n")
    env: dict[str, str] = {}
    first = _client.key(env, str(package))
    assert _client.key(env, str(package)) == first  # nothing changed: the same key
    source = tmp_path / "a_new.py"
    source.write_text("A = 2\n")
    os.utime(source, ns=(os.stat(package / "a.py").st_atime_ns, os.stat(package / "a.py").st_mtime_ns))
    shutil.copy2(source, package / "a.py")  # cp -p: the old modification time
    assert os.stat(package / "a.py").st_mtime_ns == os.stat(source).st_mtime_ns
    second = _client.key(env, str(package))
    assert second != first
    (package / "b.py").unlink()  # a deleted module
    assert _client.key(env, str(package)) != second


def test_a_served_run_killed_by_a_signal_is_128_plus_n(served: Served) -> None:
    repo = served.repo
    repo.write("die.py", "import os, signal\n\ndef die(ctx, value):\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n"
               "  - {name: die, tags: [pre-commit], always_run: true, python: 'die:die', isolation: none}\n")
    repo.stage("die.py", "omnibase.yaml")
    plain = served.hook(served.env(OMNIBASE_SERVER="0"))
    assert plain.returncode == 137, plain
    served.hook()
    served.wait_up()
    done = served.hook()
    assert done.returncode == 137, done
    status = served.status()
    assert status is not None and status["served"] == "1"  # the second one went through the server


def test_the_client_never_runs_the_hook_again_after_the_server_died_mid_run(served: Served, tmp_path: Path) -> None:
    repo = served.repo
    marker = tmp_path / "runs"
    pid_file = os.path.join(served.folder, _client.PID_FILE)
    repo.write("kill.py", "import os, signal, time\n\n"
               "def kill(ctx, value):\n"
               f"    with open({str(marker)!r}, 'a') as f:\n"
               "        f.write('ran\\n')\n"
               f"    with open({pid_file!r}) as f:\n"
               "        os.kill(int(f.read()), signal.SIGKILL)\n"
               "    time.sleep(0.5)\n"
               "    from returns.result import Success\n"
               "    return Success(None)\n")
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n"
               "  - {name: kill, tags: [pre-commit], always_run: true, python: 'kill:kill', isolation: none}\n")
    repo.stage("kill.py", "omnibase.yaml")
    starter = subprocess.Popen([sys.executable, "-P", "-c", _client.SERVE, served.folder], env=served.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pid = int(served.wait_up()["pid"])
        done = served.hook(served.env(OMNIBASE_SERVER_IDLE="2"))
        served.wait_down(pid)
    finally:
        starter.wait(timeout=20)
    assert done.returncode == 1, done
    assert "went away" in done.stderr
    time.sleep(1.5)  # the orphaned run finishes on its own
    assert marker.read_text() == "ran\n"  # once: never a second time through the plain way
