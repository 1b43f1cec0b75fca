"""The kernel's half of the sandbox: Landlock (Linux 5.13+), through ``ctypes`` syscalls.

``ruleset(write, network=..., execute=...)`` builds a Landlock ruleset (a file descriptor)
that lets a process write only beneath the ``write`` paths (and to a few device files),
connect or bind TCP only with ``network`` (ABI 4 and later), and execute programs only
with ``execute``; reading stays free. ``confine(fd)`` applies one to the calling process
for good (``PR_SET_NO_NEW_PRIVS`` first, as the kernel requires of an unprivileged
caller): it cannot be lifted, it holds for every thread created after it and for every
child, across ``exec``, and ``ctypes`` cannot get around it. A refused operation fails
with ``EACCES`` (``PermissionError``).

``abi()`` is the kernel's Landlock ABI version, 0 where there is none (another OS, an old
kernel, Landlock not enabled at boot) or where ``OMNIBASE_LANDLOCK=off`` asks to do
without (to test the audit-hook fallback). See docs/isolation.md for what holds where.

>>> abi() >= 0
True
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["DEVICES", "SWITCH", "abi", "confine", "ruleset"]

#: The environment switch that turns the kernel sandbox off (its value ``off``).
SWITCH: Final = "OMNIBASE_LANDLOCK"
#: Device files anyone may open for writing (``subprocess.DEVNULL`` opens ``/dev/null``).
DEVICES: Final = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty")

# Syscall numbers: the same on x86_64 and aarch64 (the generic table).
_SYSCALLS: Final = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "arm64": (444, 445, 446)}
_CREATE_RULESET_VERSION: Final = 1 << 0
_RULE_PATH_BENEATH: Final = 1
_PR_SET_NO_NEW_PRIVS: Final = 38

# Filesystem access rights (include/uapi/linux/landlock.h), with the ABI that added them.
_EXECUTE: Final = 1 << 0
_WRITE_FILE: Final = 1 << 1
_REMOVE_DIR: Final = 1 << 4
_REMOVE_FILE: Final = 1 << 5
_MAKE_CHAR: Final = 1 << 6
_MAKE_DIR: Final = 1 << 7
_MAKE_REG: Final = 1 << 8
_MAKE_SOCK: Final = 1 << 9
_MAKE_FIFO: Final = 1 << 10
_MAKE_BLOCK: Final = 1 << 11
_MAKE_SYM: Final = 1 << 12
_REFER: Final = 1 << 13  # ABI 2
_TRUNCATE: Final = 1 << 14  # ABI 3
_WRITES_V1: Final = (
    _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_CHAR | _MAKE_DIR | _MAKE_REG | _MAKE_SOCK | _MAKE_FIFO | _MAKE_BLOCK | _MAKE_SYM
)
#: The rights that make sense on a file rather than a directory.
_FILE_RIGHTS: Final = _EXECUTE | _WRITE_FILE | _TRUNCATE
# Network rights (ABI 4) and scopes (ABI 6).
_NET_BIND_TCP: Final = 1 << 0
_NET_CONNECT_TCP: Final = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET: Final = 1 << 0


_libc: list[Any] = []
_abi: list[int] = []


def _c() -> Any:
    """libc's ``syscall`` and ``prctl``, ``ctypes``, and the two structures the syscalls
    take (``ctypes`` is imported only here: a commit that starts no command never pays)."""
    if not _libc:
        import ctypes

        class RulesetAttr(ctypes.Structure):
            _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

        class PathBeneathAttr(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

        from types import SimpleNamespace

        cdll = ctypes.CDLL(None, use_errno=True)
        _libc.append(SimpleNamespace(
            syscall=cdll.syscall, prctl=cdll.prctl, ctypes=ctypes, RulesetAttr=RulesetAttr, PathBeneathAttr=PathBeneathAttr,
        ))  # fmt: skip
    return _libc[0]


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when there is none or ``OMNIBASE_LANDLOCK=off``."""
    if os.environ.get(SWITCH, "").lower() == "off":
        return 0
    if not _abi:
        _abi.append(_probe())
    return _abi[0]


def _probe() -> int:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None or not hasattr(os, "pidfd_open"):
        return 0
    try:
        libc = _c()
        c = libc.ctypes
        version = libc.syscall(numbers[0], None, c.c_size_t(0), c.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def ruleset(write: Iterable[str], *, network: bool, execute: bool = True) -> int:
    """A new ruleset's file descriptor (close-on-exec; the caller closes it): writing only
    beneath the paths of ``write`` (real paths; one that does not exist yet is granted at
    its nearest existing folder, so that it can be made) and to ``DEVICES``;
    no TCP without ``network``; no ``exec`` without ``execute``. Raises ``OSError`` when the
    kernel refuses, or when there is no Landlock (``abi()`` is 0)."""
    version = abi()
    if version < 1:
        raise OSError("Landlock is not available")
    create, add, _ = _SYSCALLS[platform.machine()]
    writes = _WRITES_V1 | (_REFER if version >= 2 else 0) | (_TRUNCATE if version >= 3 else 0)
    handled = writes | (0 if execute else _EXECUTE)
    libc = _c()
    c = libc.ctypes
    attr = libc.RulesetAttr(handled_access_fs=handled)
    if not network and version >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP  # no rule: no port at all
    if not network and version >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET
    size = c.sizeof(attr) if version >= 6 else 16 if version >= 4 else 8
    fd = int(libc.syscall(create, c.byref(attr), c.c_size_t(size), c.c_uint32(0)))
    if fd < 0:
        raise _error("landlock_create_ruleset")
    try:
        for path, rights in [*((p, writes) for p in write), *((d, _WRITE_FILE | _TRUNCATE) for d in DEVICES)]:
            _allow(add, fd, path, rights & handled)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _allow(add: int, ruleset_fd: int, path: str, rights: int) -> None:
    while True:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            break
        except FileNotFoundError:  # not there yet: its nearest existing folder, so it can be made
            parent = os.path.dirname(path)
            if parent == path:
                return
            path = parent
        except OSError:
            return  # cannot be opened at all: nothing is granted there
    try:
        if not os.path.isdir(f"/proc/self/fd/{target}"):
            rights &= _FILE_RIGHTS
        libc = _c()
        c = libc.ctypes
        rule = libc.PathBeneathAttr(allowed_access=rights, parent_fd=target)
        if rights and libc.syscall(add, c.c_int(ruleset_fd), c.c_int(_RULE_PATH_BENEATH), c.byref(rule), c.c_uint32(0)):
            raise _error(f"landlock_add_rule {path}")
    finally:
        os.close(target)


def confine(ruleset_fd: int) -> None:
    """Restrict the calling process (and its future threads and children) to ``ruleset_fd``,
    for good: two syscalls, fit for a ``preexec_fn`` between ``fork`` and ``exec``."""
    libc = _c()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        raise _error("prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.syscall(_SYSCALLS[platform.machine()][2], libc.ctypes.c_int(ruleset_fd), libc.ctypes.c_uint32(0)):
        raise _error("landlock_restrict_self")


def _error(what: str) -> OSError:
    number = _c().ctypes.get_errno()
    return OSError(number, f"{what}: {os.strerror(number)}")
