"""Shared by the worker-process tests: a module of components a worker imports from a
temporary repository root, and a check that a process is gone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

#: Components the in-process tests of the worker performer run in real worker processes.
WORKER_COMPONENTS = '''
import asyncio, ctypes, os, signal, subprocess, sys, threading, time
from returns.result import Failure, Success
import msgspec


def quiet(ctx, v):
    return Success(os.getpid())


def flood(ctx, v):
    data = b"".join(b"line %07d\\n" % i for i in range(v))
    os.write(1, data)
    return Success(len(data))


def write_bytes(ctx, v):
    os.write(1, bytes(v))
    return Success(None)


def big(ctx, v):
    return Success("x" * v)


def segfault(ctx, v):
    ctypes.string_at(0)


def kill_self(ctx, v):
    os.write(1, b"about to die\\n")
    os.kill(os.getpid(), v)
    time.sleep(30)


def exit_with(ctx, v):
    os._exit(v)


def oom_exit(ctx, v):
    os.write(2, b"MemoryError: cannot allocate the buffer\\n")
    os._exit(1)


def children_then_sleep(ctx, v):
    """Start a child in the worker's group and one in a session of its own, say their
    pids in file ``v``, then sleep past the time limits the tests give (a broken kill costs 30 s, not more)."""
    kept = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    away = subprocess.Popen(["sleep", "301"], stdin=subprocess.DEVNULL, start_new_session=True)
    os.write(1, b"children started\\n")
    with open(v + ".tmp", "w") as f:
        f.write(f"{kept.pid} {away.pid}")
    os.rename(v + ".tmp", v)
    time.sleep(30)


def children_then_die(ctx, v):
    """Start a child in a session of its own, say its pid in file ``v``, then die."""
    away = subprocess.Popen(["sleep", "302"], stdin=subprocess.DEVNULL, start_new_session=True)
    with open(v + ".tmp", "w") as f:
        f.write(str(away.pid))
    os.rename(v + ".tmp", v)
    os.kill(os.getpid(), signal.SIGKILL)


def garbage_reply(ctx, v):
    """Answer on the protocol's pipe with a frame that is not a reply."""
    payload = b"\\xc1 not msgpack"
    os.write(1, b"forging a reply\\n")
    os.write(int(sys.argv[-1]), len(payload).to_bytes(4, "big") + payload)
    time.sleep(30)


def empty_reply(ctx, v):
    """Answer on the protocol's pipe with a frame of no bytes, then stay alive."""
    os.write(int(sys.argv[-1]), (0).to_bytes(4, "big"))
    time.sleep(30)


def closes_answer_pipe(ctx, v):
    """Close the protocol's answer pipe without answering, then stay alive."""
    os.write(1, b"closing the answer pipe\\n")
    os.close(int(sys.argv[-1]))
    time.sleep(30)


def reads_stdin(ctx, v):
    return Success(sys.stdin.read())


def files_seen(ctx, v):
    return Success(list(ctx.files))


def leaves_thread(ctx, v):
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    return Success(os.getpid())


def environ(ctx, v):
    return Success(dict(os.environ))


def fails(ctx, v):
    return Failure({"line": (1, 2)})


def skips(ctx, v):
    from omnibase.core.values import Skip
    return Success(Skip(reason="nothing here"))


def as_tuple(ctx, v):
    return Success((1, 2))


async def coro(ctx, v):
    return Success(v)


class Scale(msgspec.Struct, frozen=True):
    factor: int

    def __call__(self, ctx, v):
        return Success(v * self.factor)


def imports_slowly(ctx, v):
    return Success(None)
'''


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(module name, repository root) of ``WORKER_COMPONENTS``; also importable here."""
    import sys

    root = tmp_path_factory.mktemp("workers")
    name = f"worker_components_{uuid.uuid4().hex}"
    (root / f"{name}.py").write_text(WORKER_COMPONENTS)
    (root / f"{name}_slow.py").write_text("import time\ntime.sleep(30)\n")
    (root / f"{name}_dies.py").write_text("import os\nos._exit(3)\n")
    (root / f"{name}_killed.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    sys.path.insert(0, str(root))
    yield name, root
    sys.path.remove(str(root))


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(b")") + 2 :].split()[0] not in (b"Z", b"X")
