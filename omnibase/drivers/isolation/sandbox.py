"""The sandbox of Python components in worker processes: an audit hook (PEP 578).

``install()`` adds one audit hook to the process (once per worker); ``begin(rights,
root)`` and ``end()`` scope it to one invocation. While a scope is open, the hook refuses
what the component's ``Rights`` do not grant, by raising ``Denied`` (a ``PermissionError``)
from inside the attempted operation, and records the first violation; the invocation
then ends as ``SandboxViolation`` whatever the component returns (catching ``Denied``
does not help it).

Guarded: file writes (``open`` for writing, ``os.open`` with a ``dir_fd``, rename,
remove, mkdir, chmod, truncate, links, FIFOs and device nodes, an SQLite database, ...)
outside the ``write`` paths; network connections (``socket.connect``, ``sendto``,
``sendmsg``, ``bind``); starting processes (``subprocess.Popen``, ``os.exec*``,
``os.fork``, ``os.posix_spawn``, ``os.system``, ``multiprocessing``'s spawn, ...). An
audit hook is not a security boundary against hostile code (``ctypes`` bypasses it):
where the kernel offers Landlock, the worker is also confined by the kernel
(``omnibase.drivers.isolation.landlock``); this hook then names what was refused. See
docs/isolation.md.
"""

from __future__ import annotations

import os
import sys
from threading import get_ident
from collections.abc import Callable
from typing import Any, Final

from omnibase.core.values import Rights, SandboxViolation
from omnibase.drivers.isolation.landlock import DEVICES

__all__ = ["Denied", "allowed_paths", "begin", "end", "install", "violation"]


class Denied(PermissionError):
    """Raised into a component by the sandbox."""


_WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
#: event -> (position of a path it writes, position of that path's ``dir_fd`` or None), ...
_PATH_EVENTS: Final[dict[str, tuple[tuple[int, int | None], ...]]] = {
    "os.rename": ((0, 2), (1, 3)),
    "os.remove": ((0, 1),),
    "os.rmdir": ((0, 1),),
    "os.mkdir": ((0, 2),),
    "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),),
    "os.truncate": ((0, None),),
    "os.utime": ((0, 3),),
    "os.symlink": ((1, 2),),
    "os.link": ((1, 3),),
    "os.chflags": ((0, None),),
    "os.setxattr": ((0, None),),
    "os.removexattr": ((0, None),),
    "shutil.rmtree": ((0, 1),),
    "shutil.copyfile": ((1, None),),
    # Raised by the wrappers ``install`` puts where Python 3.11 raises no event of its own.
    "os.mkfifo": ((0, 2),),
    "os.mknod": ((0, 3),),
}
_NETWORK: Final = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind"})
_PROCESSES: Final = frozenset(
    {
        "subprocess.Popen", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "pty.spawn",
        "os.startfile", "_posixsubprocess.fork_exec",
    }
)  # fmt: skip


class _Scope:
    __slots__ = ("rights", "allowed", "violation", "thread")

    def __init__(self) -> None:
        self.rights: Rights | None = None
        self.allowed: tuple[str, ...] = ()
        self.violation: SandboxViolation | None = None
        self.thread: int | None = None  # only this thread's operations are checked (None: all)


_scope: Final = _Scope()
_installed: list[bool] = []


def install() -> None:
    """Add the audit hook to this process, and wrap the few functions that raise no audit
    event of their own in Python 3.11 (``os.open`` with ``dir_fd``, ``os.mkfifo``,
    ``os.mknod``, ``_posixsubprocess.fork_exec``, how ``multiprocessing`` starts a
    process) so that they raise one (idempotent; hooks cannot be removed)."""
    if _installed:
        return
    sys.addaudithook(_hook)
    _installed.append(True)
    os.open = _wrap_open(os.open)
    for name, event in (("mkfifo", "os.mkfifo"), ("mknod", "os.mknod")):
        if hasattr(os, name):
            setattr(os, name, _announcing(getattr(os, name), event))
    try:
        import _posixsubprocess
    except ImportError:
        return
    _posixsubprocess.fork_exec = _announcing(_posixsubprocess.fork_exec, "_posixsubprocess.fork_exec")


def allowed_paths(rights: Rights, root: str) -> tuple[str, ...]:
    """The real paths beneath which ``rights`` let a component write (relative ones are
    relative to ``root``): the one reading of ``Rights.write``, for the audit hook and the
    kernel (``omnibase.drivers.isolation.landlock``) alike.

    >>> allowed_paths(Rights(write=(".", "/")), "/")
    ('/', '/')
    """
    return tuple(_real(os.path.join(root, os.path.expanduser(p))) for p in rights.write)


def begin(rights: Rights | None, root: str, thread: int | None = None) -> None:
    """Open the scope of one invocation with ``rights`` (None: nothing is checked).
    ``thread``: check only what that thread does (in a process whose other threads are not
    the component's, a Dask worker's); None: the whole process (omnibase's own workers)."""
    _scope.thread = thread
    _scope.violation = None
    _scope.allowed = allowed_paths(rights, root) if rights is not None else ()
    _scope.rights = rights


def end() -> SandboxViolation | None:
    """Close the scope; the first violation it saw, if any."""
    _scope.rights = None
    found, _scope.violation = _scope.violation, None
    return found


def violation() -> SandboxViolation | None:
    """The first violation of the open scope so far."""
    return _scope.violation


def _real(path: str) -> str:
    return os.path.realpath(path)


def _deny(action: str, target: str, why: str) -> None:
    if _scope.violation is None:
        _scope.violation = SandboxViolation(action=action, target=target, message=why)
    raise Denied(f"omnibase sandbox: {why}")


#: Device files anyone may open for writing.
_DEVICES: Final = frozenset({*DEVICES, "/dev/stdout", "/dev/stderr"})


def _check_write(path: Any, event: str, dir_fd: Any = None) -> None:
    if isinstance(path, int) or path is None:
        return  # an open file descriptor: it was checked when opened
    try:
        text = os.fsdecode(path)
    except TypeError:
        return
    if text in _DEVICES:
        return
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(text):
        try:
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        except OSError:
            pass  # not Linux: relative to the working directory, as below
    full = _real(text)
    for allowed in _scope.allowed:
        if full == allowed or full.startswith(allowed.rstrip(os.sep) + os.sep):
            return
    _deny("write", full, f"{event}: writing {full} is outside the allowed paths")


def _check_database(database: Any) -> None:
    """``sqlite3.connect``: a database file is opened for writing unless a ``file:`` URI
    says ``mode=ro``; ``:memory:`` and the empty name (a temporary database) write nothing."""
    try:
        text = os.fsdecode(database)
    except TypeError:
        return
    if text in ("", ":memory:"):
        return
    if text.startswith("file:"):
        path, _, query = text[5:].partition("?")
        if "mode=ro" in query.split("&") or "mode=memory" in query.split("&"):
            return
        text = path
    _check_write(text, "sqlite3.connect")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    rights = _scope.rights
    if rights is None or (_scope.thread is not None and _scope.thread != get_ident()):
        return
    if event == "open" or event == "omnibase.open_at":
        path, mode, flags = args[:3]
        writes = (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+")
        )
        if writes:
            _check_write(path, "os.open" if event == "omnibase.open_at" else "open", args[3] if len(args) > 3 else None)
    elif event in _PATH_EVENTS:
        for at, fd_at in _PATH_EVENTS[event]:
            if at < len(args):
                _check_write(args[at], event, args[fd_at] if fd_at is not None and fd_at < len(args) else None)
    elif event == "sqlite3.connect":
        if args:
            _check_database(args[0])
    elif event in _NETWORK:
        if not rights.network:
            target = repr(args[1]) if len(args) > 1 else ""
            _deny("network", target, f"{event} to {target}: no network right")
    elif event in _PROCESSES:
        if not rights.processes:
            target = repr(args[0]) if args else ""
            _deny("process", target, f"{event} {target}: no right to start processes")


def _wrap_open(real: Callable[..., int]) -> Callable[..., int]:
    """``os.open``, raising ``omnibase.open_at`` (path, None, flags, dir_fd) first when it
    is given a ``dir_fd``: the built-in ``open`` event does not carry it."""

    def open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if dir_fd is not None:
            sys.audit("omnibase.open_at", path, None, flags, dir_fd)
        return real(path, flags, mode, dir_fd=dir_fd)

    open.__doc__ = real.__doc__
    return open


def _announcing(real: Callable[..., Any], event: str) -> Callable[..., Any]:
    """``real``, raising the audit event ``event`` with its arguments first; keyword
    arguments (``dir_fd``) become positions, in the order of the native events."""

    def announced(*args: Any, **kwargs: Any) -> Any:
        if event == "os.mkfifo":
            sys.audit(event, args[0] if args else kwargs.get("path"), 0, kwargs.get("dir_fd", -1))
        elif event == "os.mknod":
            sys.audit(event, args[0] if args else kwargs.get("path"), 0, 0, kwargs.get("dir_fd", -1))
        else:
            sys.audit(event, args[0] if args else None)
        return real(*args, **kwargs)

    announced.__doc__ = real.__doc__
    announced.__name__ = getattr(real, "__name__", event)
    return announced
