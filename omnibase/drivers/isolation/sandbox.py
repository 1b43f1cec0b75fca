"""The sandbox of Python components in worker processes: an audit hook (PEP 578).

``install()`` adds one audit hook to the process (once per worker); ``begin(rights,
root)`` and ``end()`` scope it to one invocation. While a scope is open, the hook refuses
what the component's ``Rights`` do not grant, by raising ``Denied`` (a ``PermissionError``)
from inside the attempted operation, and records the first violation; the invocation
then ends as ``SandboxViolation`` whatever the component returns (catching ``Denied``
does not help it).

Guarded: file writes (``open`` for writing, rename, remove, mkdir, chmod, truncate, links,
...) outside the ``write`` paths; network connections (``socket.connect``, ``sendto``,
``sendmsg``, ``bind``); starting processes (``subprocess.Popen``, ``os.exec*``,
``os.fork``, ``os.posix_spawn``, ``os.system``, ...). An audit hook is not a security
boundary against hostile code (``ctypes`` bypasses it): see docs/isolation.md.
"""

from __future__ import annotations

import os
import sys
from threading import get_ident
from typing import Any, Final

from omnibase.core.values import Rights, SandboxViolation

__all__ = ["Denied", "begin", "end", "install", "violation"]


class Denied(PermissionError):
    """Raised into a component by the sandbox."""


_WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
#: event -> positions of the path arguments it writes.
_PATH_EVENTS: Final = {
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.symlink": (1,),
    "os.link": (1,),
    "os.chflags": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
}
_NETWORK: Final = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind"})
_PROCESSES: Final = frozenset(
    {"subprocess.Popen", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "pty.spawn", "os.startfile"}
)


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
    """Add the audit hook to this process (idempotent; hooks cannot be removed)."""
    if not _installed:
        sys.addaudithook(_hook)
        _installed.append(True)


def begin(rights: Rights | None, root: str, thread: int | None = None) -> None:
    """Open the scope of one invocation with ``rights`` (None: nothing is checked).
    ``thread``: check only what that thread does (in a process whose other threads are not
    the component's, a Dask worker's); None: the whole process (omnibase's own workers)."""
    _scope.thread = thread
    _scope.violation = None
    _scope.allowed = tuple(_real(os.path.join(root, p)) for p in rights.write) if rights is not None else ()
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


#: Device files anyone may open for writing (``subprocess.DEVNULL`` opens ``/dev/null``).
_DEVICES: Final = frozenset({"/dev/null", "/dev/zero", "/dev/full", "/dev/stdout", "/dev/stderr"})


def _check_write(path: Any, event: str) -> None:
    if isinstance(path, int) or path is None:
        return  # an open file descriptor: it was checked when opened
    try:
        text = os.fsdecode(path)
    except TypeError:
        return
    if text in _DEVICES:
        return
    full = _real(text)
    for allowed in _scope.allowed:
        if full == allowed or full.startswith(allowed.rstrip(os.sep) + os.sep):
            return
    _deny("write", full, f"{event}: writing {full} is outside the allowed paths")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    rights = _scope.rights
    if rights is None or (_scope.thread is not None and _scope.thread != get_ident()):
        return
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+")
        )
        if writes:
            _check_write(path, "open")
    elif event in _PATH_EVENTS:
        for i in _PATH_EVENTS[event]:
            if i < len(args):
                _check_write(args[i], event)
    elif event in _NETWORK:
        if not rights.network:
            target = repr(args[1]) if len(args) > 1 else ""
            _deny("network", target, f"{event} to {target}: no network right")
    elif event in _PROCESSES:
        if not rights.processes:
            target = repr(args[0]) if args else ""
            _deny("process", target, f"{event} {target}: no right to start processes")
