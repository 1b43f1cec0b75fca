"""The warm command server behind the installed git hook (see ``omnibase/server/client.py``).

One server per repository, started in the background by the hook's client the first time
it finds none. It imports up front what an everyday ``orch --stage pre-commit`` needs, then
waits on a unix socket in ``<git dir>/omnibase/server/`` (a folder of ours, mode 0700). For
each run a client sends (fds 0, 1, 2 with it), it checks the peer is the same user
(``SO_PEERCRED``) and the staleness key matches, and forks a child that *becomes* the run:
the received fds on 0/1/2, the client's cwd, environment, umask and argv, default signal
handlers, then the normal CLI entry point. The server itself runs no check. The child's
last act is its answer (its exit status and CPU time, on a pipe, its output closed), which
the server passes on at once; a child that ends without one is answered when reaped
(``wait4``: 128 + N after signal N).

It is single-threaded (``selectors``; SIGCHLD reaches the loop through
``signal.set_wakeup_fd``) and exits when idle for ``$OMNIBASE_SERVER_IDLE`` seconds (default
600), when a client's key says its code is stale, when its socket is gone, or on ``omnibase
server stop``. See docs/server.md.
"""

from __future__ import annotations

import errno
import os
import resource
import selectors
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Mapping, Sequence

from omnibase.core.exits import exit_status
from omnibase.core.modes import preloaded
from omnibase.server import client as _client

__all__ = ["PRELOAD", "main", "serve"]

#: What an everyday ``orch --stage pre-commit`` imports; loaded before the first request (the
#: default mode's performers are the mode table's to name: ``drivers.modes.preloaded``).
PRELOAD = (
    "omnibase.cli._main", "omnibase.cli._process", "omnibase.cli._commands", "omnibase.cli._modes",
    "omnibase.cli._observe", "omnibase.cli._terminal", "omnibase.cli._reports", "omnibase.cli._catalogue",
    "omnibase.cli._graphs", "omnibase.cli.formatters", "omnibase.cli.formats", "omnibase.cli.formats._lazy",
    "omnibase.cli.formats.human",
    "omnibase.precommit._install", "omnibase.precommit._stash", "omnibase.precommit._supervise",
    "omnibase._io.git", "omnibase._io.atomic",
    "omnibase.core.redact", "omnibase.drivers.isolation.spawn", "omnibase.interpreter", "omnibase.drivers",
    *preloaded(), "omnibase.drivers.isolation.worker",
    "omnibase.orchestrators", "omnibase.components.builtin", "omnibase.registry", "omnibase.context",
    "omnibase.snapshots", "omnibase.observers", "omnibase.observers.trace", "omnibase.observers.progress",
    "omnibase.observers.metrics", "omnibase.observers.logs", "omnibase.builtins", "omnibase.builtins._run",
    "omnibase.builtins._yaml", "omnibase.builtins._cache", "omnibase.builtins._spool", "omnibase.builtins._shared",
    "omnibase.cli._kept", "omnibase.components.pytest_runner", "omnibase.drivers.modes",
    "symtable", "ruamel.yaml", "identify.identify", "json", "tempfile", "uuid", "decimal", "subprocess",
)  # fmt: skip

_IDLE_DEFAULT = 600.0
_TICK = 2.0  # how often the loop looks at its socket and its key when nothing happens
_MAX_REQUEST = 16 << 20
_CRED = struct.Struct("3i")


#: The commands a hook run parses (``hook-impl``, then the stage's ``orch``), each with a
#: command line it accepts: their parsers are built (and tried) before the first request
#: (``omnibase.cli._main.prebuild``).
PARSERS = (("hook-impl", "--hook-type=pre-commit", "--hook-dir", "."), ("orch",))
#: A YAML document read once before the first request: ruamel.yaml compiles its resolvers'
#: patterns on first use, which every run's check-yaml would pay for again.
_YAML = b"warm: [1, 1.5, true, null, 2001-12-14, ~]\n"


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # a module a run needs but cannot import fails in the run, as always
            pass
    try:  # first uses that every run would repeat alike, made once on constant input
        from omnibase.builtins._yaml import yaml_error_ruamel
        from omnibase.cli._main import prebuild

        prebuild(PARSERS)
        yaml_error_ruamel(_YAML, "warm.yaml", multi=False, unsafe=False)
    except (Exception, SystemExit):  # as above: the run does it itself (argparse refuses by exiting)
        pass
    _warm_types_and_patterns()


def _warm_types_and_patterns() -> None:
    """What every hook run would otherwise do on first use, done once from constants:
    msgspec works out how to convert each built-in check's options and to decode a fix
    spool on first use (1.5 ms of a run), and ``re`` compiles the default registry's
    ``exclude`` and the state folder's file-name pattern. None of it holds anything of a run."""
    import re

    try:
        import msgspec

        from omnibase._io.state import safe_name
        from omnibase.builtins._classify import CHECKS, parse_options
        from omnibase.builtins._spool import Spooled
        from omnibase.registry import Registry

        msgspec.msgpack.Decoder(Spooled)
        re.compile(Registry(path=None).exclude)
        safe_name("warm")
    except Exception:  # as above: a run does it itself
        return
    for name in CHECKS:
        try:
            parse_options(name, {})
        except ValueError:  # a check whose options are required: converted on first use
            pass


def _idle_seconds(env: Mapping[str, str]) -> float:
    try:
        return max(1.0, float(env.get("OMNIBASE_SERVER_IDLE", _IDLE_DEFAULT)))
    except ValueError:
        return _IDLE_DEFAULT


class _Run:
    """A run in progress: the child's pid, the client's connection and the pipe on which the
    child gives its answer before it ends (``answer``; -1 once read or closed)."""

    def __init__(self, pid: int, conn: socket.socket, answer: int) -> None:
        self.pid = pid
        self.conn = conn
        self.answer = answer
        self.answered = False


class _Answer:
    """The selector's mark of a run's answer pipe."""

    def __init__(self, run: _Run) -> None:
        self.run = run


class Server:
    def __init__(self, listener: socket.socket, lock: int, key: str, idle: float) -> None:
        self.listener = listener
        self.lock = lock
        self.key = key
        self.idle = idle
        self.inode = os.stat(_client.SOCKET).st_ino
        self.runs: dict[int, _Run] = {}
        self.served = 0
        self.started = time.time()
        self.last = time.monotonic()
        self.stopping = False
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    # --- the loop -------------------------------------------------------------------------

    def loop(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        while not (self.stopping and not self.runs):
            for selected, _ in self.selector.select(_TICK):
                if selected.data == "accept" and not self.stopping:
                    self._accept()
                elif selected.data == "wake":
                    self._drain()
                elif isinstance(selected.data, _Run):
                    self._client_gone(selected.data)
                elif isinstance(selected.data, _Answer):
                    self._answer(selected.data.run)
            self._reap()
            if not self.runs and not self.stopping:
                if time.monotonic() - self.last > self.idle or not self._socket_is_ours():
                    self.stopping = True
                elif _client.key() != self.key:
                    self.stopping = True
        self._close()

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _drain(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except OSError:
            pass

    def _socket_is_ours(self) -> bool:
        try:
            return os.stat(_client.SOCKET).st_ino == self.inode
        except OSError:
            return False

    def _close(self) -> None:
        if self._socket_is_ours():
            for name in (_client.SOCKET, _client.PID_FILE):
                try:
                    os.unlink(name)
                except OSError:
                    pass
        self.listener.close()

    # --- requests -------------------------------------------------------------------------

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.last = time.monotonic()
        fds: list[int] = []
        try:
            conn.settimeout(5.0)
            _pid, uid, _gid = _CRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
            if uid != os.getuid():
                conn.close()
                return
            body, fds = self._receive(conn)
            if body is None:
                conn.close()
                return
            if body == b"STATUS":
                conn.sendall(_client.frame(self._status().encode()))
                conn.close()
            elif body == b"STOP":
                self.stopping = True
                conn.sendall(_client.frame(b"STOPPING"))
                conn.close()
            elif body.startswith(b"RUN\0"):
                owned, fds = fds, []  # _run closes them, whatever happens
                self._run(conn, body, owned)
            else:
                conn.close()
        except OSError:
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _receive(self, conn: socket.socket) -> tuple[bytes | None, list[int]]:
        """One framed request and the fds that came with its first bytes."""
        fds: list[int] = []
        head = b""
        space = socket.CMSG_SPACE(3 * struct.calcsize("i"))
        while len(head) < 8:
            data, ancillary, _flags, _addr = conn.recvmsg(8 - len(head), space)
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    usable = len(payload) - len(payload) % struct.calcsize("i")
                    fds += list(struct.unpack(f"{usable // struct.calcsize('i')}i", payload[:usable]))
            if not data:
                return None, fds
            head += data
        magic, length = struct.unpack("!4sI", head)
        if magic != _client.MAGIC or length > _MAX_REQUEST:
            return None, fds
        body = b""
        while len(body) < length:
            chunk = conn.recv(min(length - len(body), 1 << 16))
            if not chunk:
                return None, fds
            body += chunk
        return body, fds

    def _status(self) -> str:
        return (f"pid {os.getpid()}\nserved {self.served}\nrunning {len(self.runs)}\n"
                f"idle-exit {self.idle:g}\nstarted {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.started))}\n")

    def _run(self, conn: socket.socket, body: bytes, fds: list[int]) -> None:
        try:
            the_key, cwd, umask, argv, env = _client.decode_request(body)
        except ValueError:
            the_key = None
        stale = the_key is not None and the_key != self.key
        if the_key is None or stale or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            conn.sendall(_client.frame(b"STALE" if stale else b"REFUSED"))
            conn.close()
            if stale:
                self.stopping = True  # the code changed under us: the next client starts a fresh server
            return
        answer_r, answer_w = os.pipe()
        try:
            pid = os.fork()
            if pid == 0:
                os.close(answer_r)
                self._become_run(conn, fds, cwd, umask, argv, env, answer_w)  # never returns
        except BaseException:
            os.close(answer_r)
            raise
        finally:
            os.close(answer_w)
            for fd in fds:
                os.close(fd)
        run = _Run(pid, conn, answer_r)
        self.runs[pid] = run
        self.served += 1
        conn.settimeout(None)
        try:
            conn.sendall(_client.frame(b"PID %d" % pid))
        except OSError:
            pass
        self.selector.register(conn, selectors.EVENT_READ, run)
        self.selector.register(answer_r, selectors.EVENT_READ, _Answer(run))

    def _client_gone(self, run: _Run) -> None:
        """The client's connection became readable: it went away (it sends nothing after its
        request). The run is stopped as a hang-up would stop it."""
        try:
            data = run.conn.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(run.conn)
            try:
                os.kill(run.pid, signal.SIGHUP)
            except OSError:
                pass

    def _answer(self, run: _Run) -> None:
        """The run's answer (``CODE USER SYSTEM``, written as the child's last act before it
        ends, its output already flushed and its standard streams closed): sent to the
        client at once, which then need not wait for the process to end. A child that ends
        without one (a signal) is answered from its exit status when it is reaped."""
        try:
            data = os.read(run.answer, 256)
        except OSError:
            data = b""
        self._close_answer(run)
        try:
            code, user, system = data.split()
            answer = b"EXIT %d %.6f %.6f" % (int(code), float(user), float(system))
        except ValueError:  # none (the pipe's end: the child died first), or not ours
            return
        if run.answered:
            return
        run.answered = True
        try:
            self.selector.unregister(run.conn)  # its going away is no reason to hang the run up now
        except (KeyError, ValueError):
            pass
        try:
            run.conn.sendall(_client.frame(answer))
        except OSError:
            pass

    def _close_answer(self, run: _Run) -> None:
        if run.answer >= 0:
            try:
                self.selector.unregister(run.answer)
            except (KeyError, ValueError):
                pass
            os.close(run.answer)
            run.answer = -1

    def _reap(self) -> None:
        while self.runs:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            run = self.runs.pop(pid, None)
            if run is None:
                continue
            self.last = time.monotonic()
            self._close_answer(run)
            try:
                self.selector.unregister(run.conn)
            except (KeyError, ValueError):
                pass
            if not run.answered:
                code = exit_status(os.waitstatus_to_exitcode(status))
                try:
                    run.conn.sendall(_client.frame(b"EXIT %d %.6f %.6f" % (code, usage.ru_utime, usage.ru_stime)))
                except OSError:
                    pass
            run.conn.close()

    # --- the child ------------------------------------------------------------------------

    def _become_run(
        self, conn: socket.socket, fds: list[int], cwd: str, umask: int, argv: list[str], env: dict[str, str], answer: int
    ) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.selector.close()
            self.listener.close()
            for other in self.runs.values():
                other.conn.close()
                if other.answer >= 0:
                    os.close(other.answer)
            conn.close()
            for fd in (self.wake_r, self.wake_w, self.lock):
                os.close(fd)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            os.umask(umask)
            sys.argv = argv
            _reopen_std_streams()
            from omnibase.cli import _process, main

            _process.answer_first()
            code = main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except KeyboardInterrupt:
            code = 130
        except BaseException as exc:  # the last line of defence, as in the CLI
            try:
                print(f"omnibase: internal error in the command server's run: {type(exc).__name__}: {exc}", file=sys.stderr)
            except BaseException:
                pass
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
            _give_answer(answer, code)
            _after_answer()
            os._exit(code)


def _give_answer(fd: int, code: int) -> None:
    """The run's last act: close its standard streams (whoever reads the run's output sees
    its end now), then write ``CODE USER SYSTEM`` (the exit status ``os._exit(code)`` gives,
    and the CPU seconds of the run and of the children it waited for) on ``fd``."""
    import resource

    for std in (0, 1, 2):
        try:
            os.close(std)
        except OSError:
            pass
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        os.write(fd, b"%d %.6f %.6f" % (code & 0xFF, me.ru_utime + children.ru_utime, me.ru_stime + children.ru_stime))
    except OSError:
        pass


def _after_answer() -> None:
    """What the run left for after its answer (``cli._process.at_end``: the last-run
    record). Its standard streams are closed by then: they are opened on /dev/null first,
    so that nothing it could say lands in a file that took their numbers."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            if fd != null:
                os.dup2(null, fd)
        if null > 2:
            os.close(null)
        from omnibase.cli._process import finish_at_end

        finish_at_end()
    except BaseException:  # a signal, or nothing to do it with: the run has answered
        pass


def _reopen_std_streams() -> None:
    """New ``sys.stdin``/``stdout``/``stderr`` on the received fds: buffering chosen from
    what they are now (a terminal: line-buffered), as at an interpreter's start."""
    import io

    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        old = getattr(sys, name)
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or "strict"
        try:
            tty = os.isatty(fd)
            raw = io.open(fd, mode + "b", buffering=0 if name == "stderr" else -1, closefd=False)
            stream = io.TextIOWrapper(raw, encoding=encoding, errors=errors,
                                      line_buffering=tty or name == "stderr", write_through=name == "stderr")
        except (OSError, ValueError):
            continue
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _bind(folder: str) -> tuple[socket.socket, int] | None:
    """The listening socket in ``folder`` (made private: 0700), or None when another
    server holds the folder's lock or the folder is not safe to use. A folder that was
    open to others when found is emptied first: anything in it (a socket, a pid file, a
    lock) may have been planted and is never used."""
    import fcntl

    from omnibase._io.state import make_state_dir

    if os.path.islink(folder) or make_state_dir(os.path.dirname(folder)).value_or(None) is None:
        return None
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    if st.st_uid != os.getuid() or not stat.S_ISDIR(st.st_mode):
        return None
    if st.st_mode & 0o077:
        os.chmod(folder, 0o700)
        _empty(folder)
    os.chdir(folder)  # the socket is bound by a short relative name (108-byte limit)
    lock = os.open("lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    for _ in range(40):  # a server that is exiting still holds it for a moment
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                return None
            time.sleep(0.05)
    else:
        os.close(lock)
        return None
    # the lock fd stays open (and locked) for the server's life; a run's child closes it
    probe = _client.connect(folder, timeout=0.5)
    if probe is not None:  # a live server of ours answers there (the client checked it): leave it be
        probe.close()
        os.close(lock)
        return None
    for name in (_client.SOCKET, _client.PID_FILE):
        try:
            os.unlink(name)  # not ours, or a dead server's
        except FileNotFoundError:
            pass
    from omnibase._io.atomic import write_atomic

    private = os.stat_result((stat.S_IFREG | 0o600, 0, 0, 1, os.getuid(), os.getgid(), 0, 0, 0, 0))
    write_atomic(_client.PID_FILE, b"%d\n" % os.getpid(), durable=False, like=private)  # before anyone can connect
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # the socket is 0600 from the start
    try:
        listener.bind(_client.SOCKET)
    finally:
        os.umask(old_mask)
    os.chmod(_client.SOCKET, 0o600)
    listener.listen(16)
    listener.setblocking(False)
    return listener, lock


def _empty(folder: str) -> None:
    """Remove every entry of ``folder`` (not recursively: a sub-folder stays, unused)."""
    for name in os.listdir(folder):
        try:
            os.unlink(os.path.join(folder, name))
        except IsADirectoryError:
            pass


def serve(folder: str) -> int:
    """Serve the repository whose socket folder is ``folder`` until idle, stale or stopped."""
    key = _client.key()
    _preload()
    import gc

    gc.collect()
    gc.freeze()  # what is loaded now is never traversed by a run's collections (nor copied for them)
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return 1  # a fork copies only the forking thread: a thread started at import would be lost
    bound = _bind(os.path.abspath(folder))
    if bound is None:
        return 0
    Server(*bound, key, _idle_seconds(os.environ)).loop()
    return 0


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -c 'from omnibase.server.serve import main; ...' SOCKET_FOLDER", file=sys.stderr)
        return 2
    try:
        return serve(argv[0])
    except Exception:  # a server is an optimisation: it never reports, it just is not there
        return 1
