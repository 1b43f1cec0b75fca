"""The hook's client, called in this process: when servers are off, where the git folder
is, the framing of messages, and the checks ``connect`` makes before it sends anything (a
socket of the test's own stands in for a server: its peer is this process, whose pid the
test writes in the folder as a server would)."""

from __future__ import annotations

import os
import socket
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omnibase.server import client
from tests.support import Forks, git, init_repo, linked_worktree

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is Linux-only")


# --- when servers are off -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "false", "no", "off", " OFF ", "False", "NO\n"])
def test_omnibase_server_set_to_a_no_turns_servers_off(value: str) -> None:
    assert client.disabled({"OMNIBASE_SERVER": value})


@pytest.mark.parametrize("value", ["true", "1", "yes", " TRUE ", "Yes"])
def test_ci_set_to_a_yes_turns_servers_off(value: str) -> None:
    assert client.disabled({"CI": value})


@pytest.mark.parametrize("env", [{}, {"OMNIBASE_SERVER": "1"}, {"OMNIBASE_SERVER": ""}, {"OMNIBASE_SERVER": "00"},
                                 {"CI": "false"}, {"CI": "0"}, {"CI": ""}, {"OMNIBASE_SERVER": "yes", "CI": "no"},
                                 {"omnibase_server": "0", "ci": "true"}])
def test_servers_stay_on_for_any_other_value(env: dict[str, str]) -> None:
    assert not client.disabled(env)


def test_servers_are_off_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert client.disabled({})


# --- the git folder, from the hook's own folder -----------------------------------------------


def test_the_git_folder_comes_from_hook_dir_in_either_spelling(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    hooks = str(root / ".git" / "hooks")
    expected = str(root / ".git")
    assert client._git_dir(["--hook-type=pre-commit", "--hook-dir", hooks, "--"]) == expected
    assert client._git_dir([f"--hook-dir={hooks}", "--"]) == expected
    assert client._git_dir(["--hook-type=pre-push", "--hook-dir", hooks + "/", "--", "origin"]) == expected


def test_a_relative_hook_dir_is_read_from_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_repo(tmp_path / "r")
    monkeypatch.chdir(root)
    assert client._git_dir(["--hook-dir", ".git/hooks"]) == str(root / ".git")


def test_a_linked_worktree_runs_the_common_hooks_folder(tmp_path: Path) -> None:
    """git runs a linked worktree's hooks from the common git folder: its server is the main one's."""
    main, linked = linked_worktree(tmp_path)
    hooks = git(linked, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip()
    assert client._git_dir(["--hook-dir", hooks]) == str(main / ".git")


@pytest.mark.parametrize("args", [
    [],
    ["--hook-type=pre-commit", "--"],
    ["--", "--hook-dir", "{hooks}"],  # after "--": the hook's own arguments, not ours
    ["--hook-dir"],  # no value
    ["--hook-dir", "{root}/.git/nothooks"],
    ["--hook-dir", "{root}/hooks"],  # named hooks, but its parent is no git folder
    ["--hook-dir={root}/.git/nothooks"],
])
def test_no_git_folder_without_a_hooks_folder_of_a_git_folder(tmp_path: Path, args: list[str]) -> None:
    root = init_repo(tmp_path / "r")
    (root / "hooks").mkdir()
    filled = [a.format(hooks=root / ".git" / "hooks", root=root) for a in args]
    assert client._git_dir(filled) is None


def test_a_git_folder_whose_path_holds_an_equals_sign_is_found(tmp_path: Path) -> None:
    """``--hook-dir=DIR``: everything after the first ``=`` is the folder, ``=`` and all."""
    root = init_repo(tmp_path / "a=b" / "c=d")
    hooks = str(root / ".git" / "hooks")
    assert client._git_dir([f"--hook-dir={hooks}", "--"]) == str(root / ".git")
    assert client._git_dir(["--hook-dir", hooks, "--"]) == str(root / ".git")


def test_only_the_first_hook_dir_counts(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    assert client._git_dir(["--hook-dir", str(tmp_path / "hooks"), "--hook-dir", str(root / ".git" / "hooks")]) is None
    assert client._git_dir(["--hook-dir", str(root / ".git" / "hooks"), "--hook-dir", str(tmp_path / "hooks")]) == str(root / ".git")


def test_the_socket_folder_is_inside_the_git_folder() -> None:
    assert client.socket_dir("/r/.git") == "/r/.git/omnibase/server"


# --- messages -----------------------------------------------------------------------------


def test_a_frame_is_magic_then_the_big_endian_length_then_the_body() -> None:
    assert client.frame(b"STATUS") == b"OMB1\x00\x00\x00\x06STATUS"
    assert client.frame(b"") == b"OMB1\x00\x00\x00\x00"


def test_a_message_sent_in_pieces_is_read_whole() -> None:
    a, b = socket.socketpair()
    b.settimeout(10)  # a wrong read fails the test instead of waiting for ever
    body = bytes(range(256)) * 300
    message = client.frame(body)

    def send() -> None:
        for i in range(0, len(message), 7777):
            a.sendall(message[i : i + 7777])

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert client.read_message(b) == body
        a.sendall(client.frame(b"next") + client.frame(b"PID 7"))
        assert client.read_message(b) == b"next"  # one message, not what follows it
        assert client.read_message(b) == b"PID 7"
    finally:
        sender.join()
        a.close()
        b.close()


class _Trickle(socket.socket):
    """A socket whose reads return at most 1,000 bytes each, as a busy peer's can."""

    def recv(self, n: int, flags: int = 0) -> bytes:  # type: ignore[override]
        return super().recv(min(n, 1000), flags)


def test_a_message_that_comes_in_short_reads_is_read_whole_and_not_one_byte_more() -> None:
    a, b = socket.socketpair()
    reader = _Trickle(fileno=b.detach())
    reader.settimeout(10)  # a wrong read fails the test instead of waiting for ever
    body = bytes(range(250)) * 10  # 2,500 bytes: three reads
    a.sendall(client.frame(body) + client.frame(b"next"))
    a.shutdown(socket.SHUT_WR)
    try:
        assert client.read_message(reader) == body
        assert client.read_message(reader) == b"next"  # what follows is left for the next read
    finally:
        a.close()
        reader.close()


@pytest.mark.parametrize("sent", [b"", b"OMB1\x00\x00", b"OMB1\x00\x00\x00\x05abc", b"OMB1\x00\x00\x00\x01"])
def test_a_message_cut_short_is_a_connection_error(sent: bytes) -> None:
    a, b = socket.socketpair()
    b.settimeout(10)  # a wrong read fails the test instead of waiting for ever
    a.sendall(sent)
    a.close()
    with pytest.raises(ConnectionError, match="^the server closed the connection$"):
        client.read_message(b)
    b.close()


def test_an_answer_without_the_magic_is_not_a_server() -> None:
    a, b = socket.socketpair()
    b.settimeout(10)  # a wrong read fails the test instead of waiting for ever
    a.sendall(b"OMB2\x00\x00\x00\x02OK")
    with pytest.raises(client.ProtocolError, match="^not an omnibase server$"):
        client.read_message(b)
    a.close()
    b.close()


@pytest.mark.parametrize("body", [b"RUN\0k\0/\x0022\0-1", b"RUN\0k\0/\x0022\x003\0a\0b", b"RUN\0k\0/\x0022\0x",
                                  b"RUN\0k\0/\x0029\x000", b"RUN\0k\0/\x0022", b"RUX\0k\0/\x0022\x000"])
def test_a_body_that_is_no_run_request_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        client.decode_request(body)


def test_a_request_holds_its_fields_in_order() -> None:
    body = client.encode_request(["hook-impl", "a b"], "/w", {"A": "1", "B": "x=y"}, 0o027, "K")
    assert body == b"RUN\0K\0/w\x0027\x002\0hook-impl\0a b\0A=1\0B=x=y"
    assert client.decode_request(body) == ("K", "/w", 0o027, ["hook-impl", "a b"], {"A": "1", "B": "x=y"})


def test_decoding_keeps_an_empty_value_and_skips_an_entry_without_equals() -> None:
    body = b"RUN\0K\0/w\x0022\x001\0-c\0EMPTY=\0junk\0A=1"
    assert client.decode_request(body) == ("K", "/w", 0o22, ["-c"], {"EMPTY": "", "A": "1"})


def test_an_argument_count_of_all_the_words_left_is_accepted() -> None:
    assert client.decode_request(b"RUN\0K\0/w\x0022\x002\0a\0b") == ("K", "/w", 0o22, ["a", "b"], {})
    assert client.decode_request(b"RUN\0K\0/w\x000\x000") == ("K", "/w", 0, [], {})


def test_a_key_that_is_not_utf8_is_kept_byte_for_byte() -> None:
    body = b"RUN\0k\xff\0/w\x0022\x000"
    assert client.decode_request(body)[0].encode("utf-8", "surrogateescape") == b"k\xff"


# --- connect: nothing is sent to anyone unchecked --------------------------------------------


class Listener:
    """A socket of this process at ``folder/s``, as a server leaves it: folder 0700, socket
    0600, this process's pid in ``folder/pid`` (0600). It accepts and records what it gets."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder = folder
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(folder / client.SOCKET))
        os.chmod(folder / client.SOCKET, 0o600)
        self.sock.listen(8)
        self.write_pid(f"{os.getpid()}\n")
        self.accepted: list[socket.socket] = []

    def write_pid(self, text: str, mode: int = 0o600) -> None:
        path = self.folder / client.PID_FILE
        path.unlink(missing_ok=True)
        path.write_text(text)
        path.chmod(mode)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    made = Listener(tmp_path / "git" / "omnibase" / "server")
    yield made
    made.close()


def _connects(folder: Path) -> bool:
    sock = client.connect(str(folder))
    if sock is None:
        return False
    sock.close()
    return True


def test_a_server_as_it_leaves_its_folder_is_connected_blocking(listener: Listener) -> None:
    sock = client.connect(str(listener.folder))
    assert sock is not None
    try:
        assert sock.gettimeout() is None  # the run may take minutes: no timeout once connected
        assert sock.family == socket.AF_UNIX
        conn, _ = listener.sock.accept()
        listener.accepted.append(conn)
        sock.sendall(b"hello")
        assert conn.recv(5) == b"hello"  # it is the server's socket the client reached
    finally:
        sock.close()


def test_no_folder_no_connection(tmp_path: Path) -> None:
    assert client.connect(str(tmp_path / "nothing")) is None


def test_a_folder_without_a_socket_is_no_server(listener: Listener) -> None:
    """A server that exited removed its socket; the folder and its pid file may stay."""
    (listener.folder / client.SOCKET).unlink()
    assert client.connect(str(listener.folder)) is None


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o710, 0o701, 0o770])
def test_a_folder_open_to_others_is_not_used(listener: Listener, mode: int) -> None:
    listener.folder.chmod(mode)
    assert not _connects(listener.folder)


def test_a_folder_that_is_a_symlink_is_not_used(listener: Listener, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(listener.folder)
    assert not _connects(link)


def test_a_folder_under_a_symlink_is_not_used(listener: Listener, tmp_path: Path) -> None:
    link = tmp_path / "parent-link"
    link.symlink_to(listener.folder.parent)
    assert not _connects(link / "server")


def _swapped_after_the_check(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """The folder passes ``connect``'s first look, then is replaced before it is opened
    (someone racing the hook)."""
    check = client._private_dir

    def then_swapped(path: str) -> bool:
        ok = check(path)
        swap()
        return ok

    monkeypatch.setattr(client, "_private_dir", then_swapped)


def test_a_folder_replaced_by_a_symlink_after_its_check_is_not_followed(listener: Listener, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"

    def swap() -> None:
        listener.folder.rename(elsewhere)  # the socket, the pid file and the listener go with it
        listener.folder.symlink_to(elsewhere)

    _swapped_after_the_check(monkeypatch, swap)
    assert client.connect(str(listener.folder)) is None
    listener.sock.settimeout(0.0)
    with pytest.raises(BlockingIOError):
        listener.sock.accept()  # never connected


def test_a_folder_replaced_by_a_fifo_after_its_check_is_not_waited_on(listener: Listener, tmp_path: Path, forks: Forks) -> None:
    def swap() -> None:
        listener.folder.rename(tmp_path / "elsewhere")
        os.mkfifo(listener.folder, 0o600)  # opening it to read would wait for a writer

    def hook() -> int:
        check = client._private_dir

        def then_swapped(path: str) -> bool:
            ok = check(path)
            swap()
            return ok

        client._private_dir = then_swapped  # type: ignore[assignment]
        return 0 if client.connect(str(listener.folder)) is None else 1

    assert forks(hook).wait() == 0


def test_a_file_in_place_of_the_folder_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "server"
    path.write_text("")
    path.chmod(0o600)
    assert not _connects(path)


@pytest.mark.parametrize("mode", [0o660, 0o606, 0o644, 0o604, 0o640])
def test_a_socket_open_to_others_is_not_used(listener: Listener, mode: int) -> None:
    (listener.folder / client.SOCKET).chmod(mode)
    assert not _connects(listener.folder)


def test_a_regular_file_in_place_of_the_socket_is_not_used(listener: Listener) -> None:
    (listener.folder / client.SOCKET).unlink()
    (listener.folder / client.SOCKET).write_text("")
    (listener.folder / client.SOCKET).chmod(0o600)
    assert not _connects(listener.folder)


def test_a_symlink_to_the_socket_is_not_used(listener: Listener, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (listener.folder / client.SOCKET).rename(real / "s")
    (listener.folder / client.SOCKET).symlink_to(real / "s")
    assert not _connects(listener.folder)


@pytest.mark.parametrize("pid_text", ["", "\n", "abc\n", "{other}\n", "-1\n", "{pid}junk\n"])
def test_a_peer_that_is_not_the_pid_the_server_wrote_is_not_used(listener: Listener, pid_text: str) -> None:
    listener.write_pid(pid_text.format(pid=os.getpid(), other=os.getpid() + 1))
    assert not _connects(listener.folder)


def test_the_pid_file_may_hold_spaces_around_the_pid(listener: Listener) -> None:
    listener.write_pid(f"  {os.getpid()} \n")
    assert _connects(listener.folder)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_pid_file_open_to_others_is_not_trusted(listener: Listener, mode: int) -> None:
    listener.write_pid(f"{os.getpid()}\n", mode=mode)
    assert not _connects(listener.folder)


def test_a_missing_pid_file_is_not_trusted(listener: Listener) -> None:
    (listener.folder / client.PID_FILE).unlink()
    assert not _connects(listener.folder)


def test_a_pid_file_that_is_a_symlink_or_a_folder_is_not_trusted(listener: Listener, tmp_path: Path) -> None:
    real = tmp_path / "pid"
    real.write_text(f"{os.getpid()}\n")
    real.chmod(0o600)
    (listener.folder / client.PID_FILE).unlink()
    (listener.folder / client.PID_FILE).symlink_to(real)
    assert not _connects(listener.folder)
    (listener.folder / client.PID_FILE).unlink()
    (listener.folder / client.PID_FILE).mkdir(mode=0o700)
    assert not _connects(listener.folder)


def test_server_pid_reads_the_pid_the_server_wrote(listener: Listener) -> None:
    fd = os.open(listener.folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert client.server_pid(fd) == os.getpid()
        listener.write_pid("12345678901234567890123456789012345")  # read as at most 32 bytes
        assert client.server_pid(fd) == 12345678901234567890123456789012
    finally:
        os.close(fd)


def test_a_stale_socket_with_no_one_listening_is_no_server(listener: Listener) -> None:
    listener.sock.close()  # the file stays: a server that died
    assert stat.S_ISSOCK(os.lstat(listener.folder / client.SOCKET).st_mode)
    assert not _connects(listener.folder)


def test_a_repository_deeper_than_the_socket_path_limit_is_connected(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "git" / "omnibase" / "server"
    deep.mkdir(parents=True)
    assert len(str(deep / client.SOCKET)) > 108
    old = os.getcwd()
    os.chdir(deep.parent)  # bind by a short name, as the server does
    try:
        deep.chmod(0o700)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind("server/" + client.SOCKET)
    finally:
        os.chdir(old)
    try:
        os.chmod(deep / client.SOCKET, 0o600)
        sock.listen(1)
        (deep / client.PID_FILE).write_text(str(os.getpid()))
        (deep / client.PID_FILE).chmod(0o600)
        assert _connects(deep)
    finally:
        sock.close()


def test_a_started_server_keeps_no_descriptor_open_however_high(forks: Forks) -> None:
    """A caller's descriptor above 65,535 (containers often allow a million) is closed too."""
    import resource

    high = 70_000
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= high:
        pytest.skip(f"descriptors stop at {hard} here")

    def detached() -> int:
        resource.setrlimit(resource.RLIMIT_NOFILE, (high + 1, hard))
        r, w = os.pipe()
        os.dup2(w, high, inheritable=True)
        client._close_inherited()
        try:
            os.fstat(high)
        except OSError:
            return 0
        return 1

    assert forks(detached).wait() == 0


# --- status and stop ------------------------------------------------------------------------


def _answer_once(listener: Listener, answer: bytes | None) -> threading.Thread:
    """Accept one connection, read one framed request, answer ``answer`` (framed), close."""
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.sock.accept()
        with conn:
            got.append(client.read_message(conn))
            if answer is not None:
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.got = got  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_status_request_sends_its_word_and_returns_the_answer(listener: Listener) -> None:
    thread = _answer_once(listener, client.frame(b"pid 1\nserved 0\n"))
    assert client.status_request(str(listener.folder), b"STATUS") == b"pid 1\nserved 0\n"
    thread.join(5)
    assert thread.got == [b"STATUS"]  # type: ignore[attr-defined]


def test_status_request_is_none_without_a_server_or_an_answer(listener: Listener, tmp_path: Path) -> None:
    assert client.status_request(str(tmp_path / "none"), b"STATUS") is None
    thread = _answer_once(listener, None)
    assert client.status_request(str(listener.folder), b"STOP") is None
    thread.join(5)
    thread = _answer_once(listener, b"JUNK\x00\x00\x00\x00")
    assert client.status_request(str(listener.folder), b"STOP") is None
    thread.join(5)


# --- the staleness key ----------------------------------------------------------------------


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "_version.py").write_text('__version__ = "1.2"\n')
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 1\n")
    (package / "notes.txt").write_text("not code\n")
    return package


def test_the_key_names_the_interpreter_the_package_its_version_its_files_and_the_search_path(tmp_path: Path) -> None:
    package = _package(tmp_path)
    parts = client.key({"PYTHONPATH": "/p", "PYTHONHOME": "/h"}, str(package)).split("\t")
    assert parts[:3] == [sys.executable, str(package), '= "1.2"']
    assert parts[3].startswith("3:")  # _version.py, a.py, sub/b.py
    assert parts[4] == "/p|/h"
    assert len(parts) == 5
    assert client.key({}, str(package)).split("\t")[4] == "|"
    assert client.key({"PYTHONHOME": "/h"}, str(package)).split("\t")[4] == "|/h"


def test_without_a_version_file_the_version_is_a_question_mark(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "_version.py").unlink()
    assert client.key({}, str(package)).split("\t")[2] == "?"
    assert client.key({}, str(package)).split("\t")[3].startswith("2:")


def test_a_version_file_that_is_not_utf8_still_gives_a_key(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "_version.py").write_bytes(b'__version__ = "1.2\xff"\n')
    assert client.key({}, str(package)).split("\t")[2] == '= "1.2\ufffd"'


def test_the_key_of_the_installed_package_is_the_default() -> None:
    here = os.path.dirname(os.path.dirname(os.path.abspath(client.__file__)))
    assert client.key() == client.key(os.environ, here)
    assert client.key().split("\t")[1] == here


@pytest.mark.parametrize("change", ["content", "touch", "new", "delete", "rename", "deep", "copy-keeping-mtime"])
def test_any_change_to_a_module_changes_the_key(tmp_path: Path, change: str) -> None:
    package = _package(tmp_path)
    before = client.key({}, str(package))
    target = package / "sub" / "b.py"
    st = target.stat()
    if change == "content":
        target.write_text("B = 2\n")  # the same size
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "touch":
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    elif change == "new":
        (package / "sub" / "c.py").write_text("")
    elif change == "delete":
        target.unlink()
    elif change == "rename":
        target.rename(package / "sub" / "c.py")
    elif change == "deep":
        (package / "sub" / "deeper").mkdir()
        (package / "sub" / "deeper" / "d.py").write_text("")
    else:
        copy = tmp_path / "b.py"
        copy.write_text("B = 3\n")
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(copy, target)
    assert client.key({}, str(package)) != before


def test_caches_and_other_files_do_not_change_the_key(tmp_path: Path) -> None:
    package = _package(tmp_path)
    before = client.key({}, str(package))
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.py").write_text("")
    (package / "sub" / "__pycache__").mkdir()
    (package / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"")
    (package / "more.txt").write_text("")
    (package / "link.py").symlink_to(package / "sub")  # a link to a folder is a file entry, not walked
    assert client.key({}, str(package)).split("\t")[3].startswith("4:")
    (package / "link.py").unlink()
    assert client.key({}, str(package)) == before


def test_a_symlink_to_a_folder_in_the_package_is_not_walked(tmp_path: Path) -> None:
    """A link back to the package itself would otherwise be walked for ever."""
    package = _package(tmp_path)
    before = client.key({}, str(package))
    (package / "sub" / "loop").symlink_to(package)
    assert client.key({}, str(package)) == before


def test_an_editors_lock_file_in_the_package_does_not_stop_the_key(tmp_path: Path) -> None:
    """Emacs marks a file it edits with a symlink ``.#NAME`` to nowhere; the key reads the
    link itself, never what it points to."""
    package = _package(tmp_path)
    (package / "sub" / ".#b.py").symlink_to("user@host.1234:1700000000")
    assert client.key({}, str(package)).split("\t")[3].startswith("4:")


def test_only_the_search_path_variables_of_the_environment_count(tmp_path: Path) -> None:
    package = _package(tmp_path)
    assert client.key({"HOME": "/x", "PATH": "/y"}, str(package)) == client.key({}, str(package))
    assert client.key({"PYTHONPATH": "/a"}, str(package)) != client.key({"PYTHONHOME": "/a"}, str(package))


def _site(prefix: Path) -> Path:
    return prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def test_the_distributions_are_read_beside_the_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtual environment is found from the executable's place (the client runs with -S)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    site = _site(venv)
    site.mkdir(parents=True)
    dist = site.parent / "dist-packages"
    dist.mkdir()
    for name in ("b-1.0.dist-info", "a-2.egg-info", "x.pth", "module.py", "pkg", "c.dist-info.bak"):
        (site / name).mkdir() if "." not in name or name.endswith("-info") else (site / name).write_text("")
    (dist / "d-3.dist-info").mkdir()
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "none"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "none"))
    assert client._distributions() == [f"{site}/a-2.egg-info", f"{site}/b-1.0.dist-info", f"{site}/x.pth", f"{dist}/d-3.dist-info"]
    package = _package(tmp_path)
    before = client.key({}, str(package))
    (site / "b-1.0.dist-info").rename(site / "b-1.1.dist-info")  # an upgrade
    assert client.key({}, str(package)) != before


def test_the_distributions_of_a_prefix_with_only_dist_packages_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's interpreters install into ``dist-packages`` and have no ``site-packages``."""
    dist = _site(tmp_path / "usr").parent / "dist-packages"
    (dist / "tool-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "usr" / "bin" / "python"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "usr"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "usr"))
    assert client._distributions() == [f"{dist}/tool-1.0.dist-info"]


def test_the_distributions_of_every_prefix_are_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("base", "env"):
        _site(tmp_path / prefix).mkdir(parents=True)
        (_site(tmp_path / prefix) / f"{prefix}-1.dist-info").mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "env" / "bin" / "python"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "env"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "base"))
    assert client._distributions() == [f"{_site(tmp_path / 'base')}/base-1.dist-info", f"{_site(tmp_path / 'env')}/env-1.dist-info"]


# --- whose child a process is ---------------------------------------------------------------


def test_the_parent_of_a_process_is_read_even_when_its_name_holds_a_parenthesis(tmp_path: Path) -> None:
    """The run's name is whatever it runs; /proc's stat line puts it in parentheses."""
    import shutil
    import subprocess

    odd = tmp_path / "x) 5 6 7"
    odd.symlink_to(shutil.which("sleep") or "/bin/sleep")
    proc = subprocess.Popen([str(odd), "30"])
    try:
        assert client._parent(proc.pid) == os.getpid()
    finally:
        proc.kill()
        proc.wait()
    assert client._parent(os.getpid()) == os.getppid()
    assert client._parent(proc.pid) is None  # gone
