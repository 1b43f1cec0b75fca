"""The installed git hook's front end: hand the run to a warm command server, or do today's run.

The hook script runs this file (``python -I -S -c LOAD .../omnibase/server/client.py
HOOK-ARGS``, see ``LOAD``; running it by path works too): it imports only the standard
library's built-in modules (nothing of omnibase, nothing from site-packages), so it starts
in a few milliseconds. It looks for the repository's server (a unix socket ``s`` in
``<git dir>/omnibase/server/``, a folder of ours with mode 0700), sends it the run (argv,
cwd, environment, umask and a staleness key) with fds 0, 1 and 2 (``SCM_RIGHTS``),
forwards SIGINT, SIGTERM and SIGHUP to the run's process, and exits with the run's exit
status.

On any problem (no server, a stale one, not Linux, ``CI=true``, ``OMNIBASE_SERVER=0``, no
git folder, an error of its own) it ``os.execv``\\ s the normal command, exactly what the
hook ran before servers existed; nothing has happened yet when it does. Unless servers are
disabled, it first starts one in the background (detached) for the next run.

See docs/server.md.
"""

from __future__ import annotations

import _socket as socket  # not socket/signal/struct.py: they import enum and selectors (~10 ms)
import _struct as struct
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Mapping, Sequence
else:
    import _signal as signal

__all__ = ["LOAD", "PID_FILE", "PROTOCOL_EXIT", "RUN", "ProtocolError", "SERVE", "connect", "decode_request", "encode_request", "key", "main", "socket_dir", "status_request"]

#: What the hook runs without a server: the CLI in a fresh interpreter (-P: the
#: repository's own modules must not shadow the standard library's). The CLI itself leaves
#: without the interpreter's teardown once its report is out (``cli._process``).
RUN = "import sys; from omnibase.cli import main; sys.exit(main())"
#: How the hook script starts this file (``python -I -S -c LOAD PATH-OF-THIS-FILE HOOK-ARGS``):
#: imported as the module ``client`` from its own folder, so that its byte code comes from
#: ``__pycache__``. A file run by path is compiled from its source every time (a script's
#: byte code is never cached): for this one about 2 ms of every commit. (``-I``: the
#: folder of a script or of the current directory is not on ``sys.path``; a relative path
#: names a file under the current directory, so its folder is ``.``.) Once ``main`` has
#: the exit code and the output is flushed, the process ends with ``os._exit``: the client
#: holds nothing that needs the interpreter's orderly shutdown (no ``atexit`` work, no
#: file left open), which costs about 1 ms of every commit.
LOAD = (
    "import sys; sys.path.insert(0, sys.argv.pop(1).rpartition('/')[0] or '.'); from client import main\n"
    "code = main(sys.argv[1:])\n"
    "try:\n    sys.stdout.flush(); sys.stderr.flush()\nexcept OSError:\n    pass\n"
    "import os; os._exit(code)"
)
#: How a server is started (``python -P -c SERVE SOCKET_DIR``).
SERVE = "import sys; from omnibase.server.serve import main; sys.exit(main(sys.argv[1:]))"

MAGIC = b"OMB1"
#: The socket's name inside its folder (connect and bind use short paths; see ``connect``).
SOCKET = "s"
_HEADER = struct.Struct("!4sI")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def socket_dir(git_dir: str) -> str:
    """The folder of the repository's server socket: ``omnibase._io.state.server_dir``,
    copied because this file imports nothing of omnibase (tests/server hold them equal)."""
    return os.path.join(git_dir, "omnibase", "server")


def signal_exit(signum: int) -> int:
    """128 + ``signum``: ``omnibase.core.exits.signal_exit``, copied (this file imports
    nothing of omnibase; tests/_io/test_state.py holds the two equal)."""
    return 128 + signum


#: The exit code of a protocol violation: ``omnibase.core.values.ExitCode.PROTOCOL``, copied
#: (tests/server hold the two equal).
PROTOCOL_EXIT = 4


class ProtocolError(ConnectionError):
    """The peer answered something that is not the protocol (a ``ConnectionError`` where
    nothing has run yet: no server, so the plain run)."""


def _package() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # omnibase/, from omnibase/server/client.py


def key(env: Mapping[str, str] | None = None, package: str | None = None) -> str:
    """What a server must share with a client to serve it: the interpreter, where omnibase
    lives, its version file, a fingerprint of every ``.py`` file of omnibase (its path,
    size, modification and change times and inode: a copy that keeps the modification time
    (``cp -p``, ``rsync -a``, ``tar x``) still gets a new change time and inode, and a deleted
    module changes the set), the installed distributions (their ``*.dist-info`` names carry
    the versions) and the module search path variables. The client and the server compute
    it with this one function."""
    env = os.environ if env is None else env
    package = _package() if package is None else package
    files: list[tuple[str, os.stat_result]] = []
    pending = [package]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    files.append((entry.path, entry.stat(follow_symlinks=False)))
    files.sort()
    # a rename changes the file's ctime, so the numbers alone tell every change apart
    fingerprint = 0
    for _path, st in files:
        fingerprint = (fingerprint * 1000003 + st.st_ino) % _PRIME
        fingerprint = (fingerprint * 1000003 + st.st_ctime_ns) % _PRIME
        fingerprint = (fingerprint * 1000003 + st.st_mtime_ns) % _PRIME
        fingerprint = (fingerprint * 1000003 + st.st_size) % _PRIME
    fingerprint = (fingerprint * 1000003 + _as_int("\0".join(_distributions()))) % _PRIME
    try:
        with open(os.path.join(package, "_version.py"), "rb") as f:
            version = f.read().decode("utf-8", "replace").rpartition("__version__")[2].strip()
    except OSError:
        version = "?"
    paths = "|".join(env.get(name, "") for name in ("PYTHONPATH", "PYTHONHOME"))
    return f"{sys.executable}\t{package}\t{version}\t{len(files)}:{fingerprint:x}\t{paths}"


_PRIME = (1 << 61) - 1


def _as_int(text: str) -> int:
    return int.from_bytes(os.fsencode(text), "big")


def _distributions() -> list[str]:
    """The names of the installed distributions' metadata folders (``name-version.dist-info``)
    where this interpreter installs packages: an upgrade or removal changes them."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    names: list[str] = []
    # -S leaves sys.prefix at the base interpreter's: a virtual environment is found from
    # the executable's place, so that the client (-I -S) and the server see the same folders
    venv = os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
    for prefix in sorted({sys.prefix, sys.base_prefix, venv}):
        for leaf in ("site-packages", "dist-packages"):
            folder = os.path.join(prefix, "lib", version, leaf)
            try:
                listed = os.listdir(folder)
            except OSError:
                continue
            names += sorted(folder + "/" + n for n in listed if n.endswith((".dist-info", ".egg-info", ".pth")))
    return names


def _private_dir(path: str) -> bool:
    """``path`` is a real folder (no symlink), ours, and closed to everyone else (0700)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return _S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077 == 0


_S_IFMT, _S_IFDIR, _S_IFSOCK, _S_IFREG = 0o170000, 0o040000, 0o140000, 0o100000  # stat's, without importing it
_CRED = struct.Struct("3i")
#: The server writes its pid here before it listens; the client checks the peer is it.
PID_FILE = "pid"


def _S_ISDIR(mode: int) -> bool:
    return mode & _S_IFMT == _S_IFDIR


def _ours(st: os.stat_result, kind: int) -> bool:
    return st.st_mode & _S_IFMT == kind and st.st_uid == os.getuid() and st.st_mode & 0o077 == 0


def server_pid(folder_fd: int) -> int | None:
    """The pid the server wrote in its folder (opened by ``folder_fd``), if the file is ours,
    private and a regular file."""
    try:
        fd = os.open(PID_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)  # a FIFO must not block
    except OSError:
        return None
    try:
        if not _ours(os.fstat(fd), _S_IFREG):
            return None
        return int(os.read(fd, 32).strip() or b"-1")
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def connect(folder: str, timeout: float | None = None) -> socket.socket | None:
    """A connection to the server whose socket is in ``folder``, or None. Nothing is sent
    to anyone unchecked: the folder must be a real folder of ours closed to others (0700,
    its parent no symlink), the socket a socket of ours closed to others (0600), and the
    peer (``SO_PEERCRED``) a process of our uid whose pid is the one the server wrote in
    the folder. The path used is ``/proc/self/fd/N/s`` with N an fd of the folder (unix
    socket paths are limited to 108 bytes; a repository may be deeper than that)."""
    if not _private_dir(folder) or os.path.islink(os.path.dirname(folder)):
        return None
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    sock = None
    try:
        if not _ours(os.fstat(fd), _S_IFDIR) or not _ours(os.stat(SOCKET, dir_fd=fd, follow_symlinks=False), _S_IFSOCK):
            return None
        expected = server_pid(fd)
        if expected is None:
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout if timeout is not None else 2.0)
        sock.connect(f"/proc/self/fd/{fd}/{SOCKET}")
        pid, uid, _gid = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
        if uid != os.getuid() or pid != expected:
            sock.close()
            return None
        sock.settimeout(None)
        return sock
    except OSError:
        if sock is not None:
            sock.close()
        return None
    finally:
        os.close(fd)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def read_message(sock: socket.socket) -> bytes:
    """One framed message (``MAGIC``, length, body)."""
    magic, length = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if magic != MAGIC:
        raise ProtocolError("not an omnibase server")
    return _recv_exact(sock, length)


def frame(body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, len(body)) + body


def encode_request(argv: Sequence[str], cwd: str, env: Mapping[str, str], umask: int, the_key: str) -> bytes:
    """``RUN``, key, cwd, umask, argc, argv..., then ``NAME=VALUE`` pairs; NUL-separated
    (no argument, path or environment entry can hold a NUL)."""
    words = [b"RUN", the_key.encode(), os.fsencode(cwd), b"%o" % umask, b"%d" % len(argv)]
    words += [os.fsencode(a) for a in argv]
    words += [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    return b"\0".join(words)


def decode_request(body: bytes) -> tuple[str, str, int, list[str], dict[str, str]]:
    """``encode_request``'s inverse: key, cwd, umask, argv, environment (ValueError when
    ``body`` is not a request)."""
    words = body.split(b"\0")
    if len(words) < 5 or words[0] != b"RUN":
        raise ValueError("not a run request")
    argc = int(words[4])
    if argc < 0 or 5 + argc > len(words):
        raise ValueError("bad argument count")
    env = dict(os.fsdecode(w).partition("=")[::2] for w in words[5 + argc :] if b"=" in w)
    return (words[1].decode("utf-8", "surrogateescape"), os.fsdecode(words[2]), int(words[3], 8),
            [os.fsdecode(w) for w in words[5 : 5 + argc]], env)


def status_request(folder: str, what: bytes) -> bytes | None:
    """Send ``STATUS`` or ``STOP`` to the server in ``folder``; its answer, or None."""
    sock = connect(folder)
    if sock is None:
        return None
    try:
        sock.sendall(frame(what))
        return read_message(sock)
    except OSError:
        return None
    finally:
        sock.close()


def disabled(env: Mapping[str, str]) -> bool:
    """Servers are never used on CI, when ``OMNIBASE_SERVER=0``, or off Linux."""
    return (
        sys.platform != "linux"
        or env.get("OMNIBASE_SERVER", "").strip().lower() in ("0", "false", "no", "off")
        or env.get("CI", "").strip().lower() in ("true", "1", "yes")
    )


def _git_dir(args: Sequence[str]) -> str | None:
    """The git folder, from ``--hook-dir DIR`` (the hooks folder, ``<git dir>/hooks``): the
    common git directory ``omnibase._io.git.repo_paths`` finds, read from the hook's own
    path instead of asking git (a test holds the two equal)."""
    for i, word in enumerate(args):
        if word == "--":
            break
        if word == "--hook-dir" and i + 1 < len(args):
            hooks = args[i + 1]
        elif word.startswith("--hook-dir="):
            hooks = word.partition("=")[2]
        else:
            continue
        git_dir = os.path.dirname(os.path.abspath(hooks))
        if os.path.basename(os.path.abspath(hooks)) == "hooks" and os.path.isfile(os.path.join(git_dir, "HEAD")):
            return git_dir
        return None
    return None


def start_server(folder: str) -> None:
    """Start a server for ``folder`` in the background: double fork, a new session, fds on
    /dev/null; this process goes on at once (errors are silent: a server is an optimisation)."""
    try:
        pid = os.fork()
    except OSError:
        return
    if pid:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        return
    try:  # the intermediate child
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _close_inherited()
        os.execv(sys.executable, [sys.executable, "-P", "-c", SERVE, folder])
    finally:
        os._exit(0)


def _close_inherited() -> None:
    """Close every descriptor above 2 (a server must not hold the pipes of the git that
    started the hook open: whoever reads them would wait for it). The open ones are read
    from ``/proc/self/fd``, however high; without it, the first 65,536."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except (OSError, ValueError):
        os.closerange(3, 65_536)
        return
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, closed already


def _fall_back(args: Sequence[str], folder: str | None) -> None:
    """Today's run: exec the CLI (after starting a server for next time, unless disabled)."""
    if folder is not None:
        start_server(folder)
    argv = [sys.executable, "-P", "-c", RUN, "hook-impl", *args]
    os.execv(sys.executable, argv)


def _stats(env: Mapping[str, str], run_usage: tuple[float, float], served: bool) -> None:
    """``$OMNIBASE_SERVER_STATS``: the CPU seconds of this client and of the run it had
    served (for benchmarks: honest CPU accounting of a served run)."""
    path = env.get("OMNIBASE_SERVER_STATS")
    if not path:
        return
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open(path, "a") as f:
            f.write(f"{int(served)} {me.ru_utime + me.ru_stime:.6f} {run_usage[0] + run_usage[1]:.6f}\n")
    except OSError:
        pass


def serve_through(sock: socket.socket, args: Sequence[str], the_key: str) -> int | None:
    """Have the server run ``hook-impl ARGS``; the exit code, or None when the server would
    not (stale, refused) before anything ran. SIGINT, SIGTERM and SIGHUP are forwarded to
    the run; one that comes before the server said the run started stops the client with
    128 + N (130 for Ctrl-C), as the plain run would have stopped."""
    env = dict(os.environ)
    umask = os.umask(0o022)
    os.umask(umask)
    body = encode_request(["-c", "hook-impl", *args], os.getcwd(), env, umask, the_key)
    message = frame(body)
    run: list[int] = []  # the run's pid, once the server said it
    pending: list[int] = []  # signals that came before it
    try:
        server = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))[0]
    except OSError:
        return None

    def forward(signum: int, frame: object) -> None:
        if not run:
            pending.append(signum)
            return
        if _parent(run[0]) != server:  # only the server's own child, the run, is signalled
            return
        try:
            os.kill(run[0], signum)
        except OSError:
            pass

    for sig in _FORWARDED:
        signal.signal(sig, forward)
    try:
        sent = sock.sendmsg([message[:4096]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", 0, 1, 2))])
        if sent < len(message):  # a send of nothing fails once the server has answered and closed
            sock.sendall(message[sent:])
        answer = read_message(sock)
    except OSError:
        answer = b""
    if not answer.startswith(b"PID "):
        if pending:  # interrupted before anything ran: stop, as the plain run would have
            return signal_exit(pending[0])
        return None  # STALE, REFUSED or no answer: nothing ran
    # the run started: whatever happens now, it is never run a second time
    try:
        pid = int(answer[4:])
        if pid <= 0:  # kill(0) or kill(-1) would signal a whole group, or every process of ours
            raise ValueError(answer)
        run.append(pid)
        for signum in pending:
            forward(signum, None)
        words = read_message(sock).split()
        if len(words) != 4 or words[0] != b"EXIT":
            raise ValueError(words)
        code, usage = int(words[1]), (float(words[2]), float(words[3]))
    except (ProtocolError, ValueError):
        print("omnibase: the command server's answer during the run was not understood (protocol violation)", file=sys.stderr)
        return PROTOCOL_EXIT
    except OSError:
        print("omnibase: the command server went away during the run", file=sys.stderr)
        return 1
    _stats(env, usage, served=True)
    return code


def _parent(pid: int) -> int | None:
    """The parent of process ``pid`` (from /proc), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def main(args: Sequence[str]) -> int:
    """Run the hook with ``args`` (``hook-impl``'s arguments) through a server, or exec it."""
    folder: str | None = None
    try:
        if disabled(os.environ):
            _fall_back(args, None)
        git_dir = _git_dir(args)
        if git_dir is None:
            _fall_back(args, None)
            return 1  # not reached
        folder = socket_dir(git_dir)
        sock = connect(folder)
        if sock is not None:
            try:
                code = serve_through(sock, args, key())
            finally:
                sock.close()
            if code is not None:
                return code
    except KeyboardInterrupt:  # Ctrl-C before anything ran
        print("omnibase: interrupted", file=sys.stderr)
        return 130
    except Exception:  # the client's own error: today's run instead
        pass
    _fall_back(args, folder)
    return 1  # not reached: execv replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
