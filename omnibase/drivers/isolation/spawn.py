"""Running child processes under control: commands and worker processes (an edge module).

Every child starts in a new session (its own process group) with a scrubbed environment
(``child_env``), the repository root as working directory, resource limits (``setrlimit``)
and, when it has no network right and the platform permits, a fresh network namespace
with no interfaces but loopback (``unshare(CLONE_NEWNET)``; Linux, as root). Where the
kernel offers Landlock, a command is also confined by the kernel to writing beneath its
write paths and, without the network right, to no TCP (``preexec``).

A command that runs out of time is stopped for good: its process group is killed, then
every process still carrying the command's marker in its environment (descendants that
left the group with ``setsid``/``setpgid``) is killed too, until none is left, and the
ones that are ours to reap are reaped. What escapes is documented in ``docs/isolation.md``.

How a child ended is classified from what actually happened (``classify``): a signal
that a limit sends (SIGXCPU, SIGXFSZ), or a failure with evidence of a memory limit
(high-water RSS near it, or the allocator's own message) is ``ResourceExceeded``; any
other death by a signal is ``Crashed``.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from returns.result import Failure, Result, Success

from omnibase.core.exits import signal_of
from omnibase.core.redact import MAX_TEXT, is_secret_name
from omnibase.core.values import Crashed, Failed, Limits, ResourceExceeded, SandboxViolation, StepError, TimedOut

__all__ = [
    "ENV_ALLOWED",
    "ENV_PREFIXES",
    "MARKER",
    "MAX_OUTPUT",
    "adopt_orphans",
    "adopting_orphans",
    "arun_command",
    "child_env",
    "classify",
    "network_isolation",
    "confined",
    "preexec",
    "refused_write",
    "run_command",
    "sweep",
]

#: A command's output keeps at most its last this many bytes (the one cap of
#: ``omnibase.core.redact``, so a report quotes whatever was kept).
MAX_OUTPUT: Final = MAX_TEXT
#: Environment variables a child gets from ours (the allow-list; see docs/isolation.md).
ENV_ALLOWED: Final = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR",
        "VIRTUAL_ENV", "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "NO_COLOR", "FORCE_COLOR",
        "OMNIBASE_LANDLOCK",
    }
)  # fmt: skip
#: ... and every variable with one of these prefixes, unless its name looks secret.
ENV_PREFIXES: Final = ("LC_", "GIT_", "XDG_", "PRE_COMMIT_")  # PRE_COMMIT_: what a git hook was given (the hook table)
#: Every child gets ``MARKER=<token>``: how its descendants are found when it must stop.
MARKER: Final = "OMNIBASE_PROC"
#: How long to wait for the output pipe to close once a command has exited.
_GRACE: Final = 0.5
_CLONE_NEWNET: Final = 0x40000000
_PR_SET_CHILD_SUBREAPER: Final = 36
_PR_GET_CHILD_SUBREAPER: Final = 37
_MEMORY_WORDS: Final = re.compile(
    r"MemoryError|Cannot allocate memory|out of memory|bad_alloc|memory exhausted|failed to allocate", re.IGNORECASE
)
_libc: Any = None


def _c() -> Any:
    """libc, loaded in the parent (never between fork and exec)."""
    global _libc
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def adopt_orphans() -> bool:
    """Make this process the reaper of its descendants' orphans (``PR_SET_CHILD_SUBREAPER``),
    so a daemon a command leaves behind is reparented here, where it is killed and reaped
    rather than left to init. Process-wide: the CLI calls it, a library user may. True when
    the platform allowed it."""
    try:
        return bool(_c().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


@contextmanager
def adopting_orphans() -> Iterator[bool]:
    """``adopt_orphans`` for the length of a block, then as before: a process that runs the
    CLI in-process (a test runner, an embedding tool) is not left adopting, for the rest of
    its life, orphans that it never waits for (they would stay zombies: a process group
    killed later would never be empty). Yields whether adopting was allowed."""
    import ctypes

    before = ctypes.c_int(0)
    try:
        known = _c().prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(before), 0, 0, 0) == 0
    except (OSError, AttributeError):
        known = False
    adopted = adopt_orphans()
    try:
        yield adopted
    finally:
        if adopted and known and not before.value:
            _c().prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def network_isolation() -> bool:
    """Whether children can be cut off the network here (Linux and root: ``unshare``)."""
    return os.name == "posix" and hasattr(os, "pidfd_open") and os.geteuid() == 0


def child_env(
    extra: Mapping[str, str] | None = None,
    pass_env: Sequence[str] = (),
    *,
    token: str = "",
    traceparent: str = "",
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a child: the allow-listed variables of ``source`` (default: ours),
    the ones ``pass_env`` names (how an entry asks for a secret), then ``extra``.

    >>> env = child_env({"A": "1"}, ["API_TOKEN"], source={"PATH": "/bin", "API_TOKEN": "t", "GIT_TOKEN": "s", "LC_ALL": "C"})
    >>> sorted(env.items())
    [('A', '1'), ('API_TOKEN', 't'), ('LC_ALL', 'C'), ('PATH', '/bin')]
    """
    source = os.environ if source is None else source
    env = {
        k: v
        for k, v in source.items()
        if k in ENV_ALLOWED or (k.startswith(ENV_PREFIXES) and not is_secret_name(k))
    }
    env.update((k, source[k]) for k in pass_env if k in source)
    env.update(extra or {})
    if token:
        env[MARKER] = token
    if traceparent:
        env["TRACEPARENT"] = traceparent
    return env


def preexec(limits: Limits | None, network: bool, write: Sequence[str] | None = None) -> Callable[[], None] | None:
    """The function a child runs before ``exec``: set its limits, leave the network, and
    confine it by the kernel (Landlock, where there is one) to writing beneath ``write``
    (real paths; None: anywhere) and, without ``network``, to no TCP."""
    confine = _ruleset(write, network)
    if limits is None and confine is None and (network or not network_isolation()):
        return None
    import resource

    settings: list[tuple[int, int, int]] = []
    if limits is not None:
        if limits.cpu_seconds is not None:  # SIGXCPU at the soft limit, SIGKILL a second later
            settings.append((resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1))
        if limits.memory_mb is not None:
            settings.append((resource.RLIMIT_AS, limits.memory_mb << 20, limits.memory_mb << 20))
        if limits.file_size_mb is not None:
            settings.append((resource.RLIMIT_FSIZE, limits.file_size_mb << 20, limits.file_size_mb << 20))
        if limits.processes is not None:
            settings.append((resource.RLIMIT_NPROC, limits.processes, limits.processes))
    unshare = None if network or not network_isolation() else _c().unshare
    setrlimit = resource.setrlimit

    def apply() -> None:
        for which, soft, hard in settings:
            setrlimit(which, (soft, hard))
        if unshare is not None and unshare(_CLONE_NEWNET) != 0:
            raise OSError("cannot leave the network (unshare)")
        if confine is not None:
            confine()

    return apply


def confined(write: Sequence[str] | None, network: bool) -> bool:
    """Whether ``preexec`` confines a child with these rights by the kernel here."""
    return _ruleset(write, network) is not None


#: Rulesets by (write paths, network), built once per process (a file descriptor each).
_rulesets: dict[tuple[tuple[str, ...] | None, bool], int] = {}


def _ruleset(write: Sequence[str] | None, network: bool) -> Callable[[], None] | None:
    """What confines a child to these rights (None: nothing to confine, or no Landlock)."""
    from omnibase.drivers.isolation import landlock

    version = landlock.abi()
    if version < 1 or (write is None and (network or version < 4)):
        return None
    key = (None if write is None else tuple(write), network)
    fd = _rulesets.get(key)
    if fd is None:
        try:
            fd = landlock.ruleset(write if write is not None else (os.sep,), network=network)
        except OSError:
            return None
        if len(_rulesets) >= 64:
            for old in _rulesets.values():
                os.close(old)
            _rulesets.clear()
        _rulesets[key] = fd
    restrict = landlock.confine
    return lambda: restrict(fd)


# --- classification ---------------------------------------------------------------------------


def classify(
    *,
    signal_number: int | None,
    exit_status: int | None,
    limits: Limits | None,
    cpu_seconds: float | None = None,
    max_rss_kb: int | None = None,
    text: str = "",
) -> StepError | None:
    """What a child's end means: ``ResourceExceeded`` when a limit was set and the evidence
    shows it was hit, ``Crashed`` for any other death by a signal, None for an exit (the
    caller judges the status).

    >>> classify(signal_number=11, exit_status=None, limits=Limits(memory_mb=64)).cause
    'killed by SIGSEGV'
    >>> classify(signal_number=24, exit_status=None, limits=Limits(cpu_seconds=1)).resource
    'cpu'
    """
    lim = limits or Limits()
    if signal_number is not None:
        if lim.cpu_seconds is not None and (
            signal_number == signal.SIGXCPU
            or (signal_number == signal.SIGKILL and cpu_seconds is not None and cpu_seconds >= lim.cpu_seconds)
        ):
            return _exceeded("cpu", lim.cpu_seconds, f"used its {lim.cpu_seconds} s of CPU time")
        if lim.file_size_mb is not None and signal_number == signal.SIGXFSZ:
            return _exceeded("file_size", lim.file_size_mb, f"wrote a file past {lim.file_size_mb} MB")
        if _memory_evidence(lim, max_rss_kb, text):
            return _exceeded("memory", lim.memory_mb, f"ran out of its {lim.memory_mb} MB of memory")
        name = _signal_name(signal_number)
        hint = " (by the out-of-memory killer?)" if signal_number == signal.SIGKILL else ""
        return Crashed(cause=f"killed by {name}{hint}", signal=signal_number)
    shell_signal = signal_of(exit_status or 0)  # how a shell reports a child killed by a signal
    if (shell_signal == signal.SIGXCPU and lim.cpu_seconds is not None) or (
        shell_signal == signal.SIGXFSZ and lim.file_size_mb is not None
    ):
        return classify(signal_number=shell_signal, exit_status=None, limits=limits)
    if exit_status and _memory_evidence(lim, max_rss_kb, text):
        return _exceeded("memory", lim.memory_mb, f"ran out of its {lim.memory_mb} MB of memory")
    return None


def _exceeded(resource: str, limit: int | None, message: str) -> ResourceExceeded:
    return ResourceExceeded(resource=resource, limit=limit, message=message)


def _memory_evidence(lim: Limits, max_rss_kb: int | None, text: str) -> bool:
    if lim.memory_mb is None:
        return False
    near = (
        max_rss_kb is not None
        and max_rss_kb > _own_peak_kb()  # Linux: a child's peak includes what it inherited at fork
        and max_rss_kb * 1024 >= (lim.memory_mb << 20) // 2
    )
    return near or _MEMORY_WORDS.search(text[-4096:]) is not None


def _own_peak_kb() -> int:
    """This process's own peak resident size (KiB). A forked child's ``ru_maxrss`` starts
    from its parent's high-water mark (exec keeps it), so a child's peak at or below ours
    says nothing about its own use. ``VmHWM`` is this process's own mark; ``ru_maxrss``
    (the fallback off Linux) would carry what we ourselves inherited from our parent."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --- stopping a process tree --------------------------------------------------------------------


def _marked(token: str) -> list[int]:
    """Live processes whose environment carries ``MARKER=token`` (zombies have none)."""
    needle = f"{MARKER}={token}".encode()
    me = os.getpid()
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(name))
        except OSError:
            continue
    return found


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def sweep(pgid: int, token: str, *, leader: int | None = None) -> int:
    """Kill the process group ``pgid`` and every live process marked with ``token``,
    repeatedly, until none is left; reap those that are our children (except ``leader``,
    which its owner reaps). The number of processes killed by pid."""
    killed: set[int] = set()
    for _ in range(200):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        alive = _marked(token) if token else []
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        time.sleep(0.005)
    me = os.getpid()
    for pid in killed - {leader}:
        if _parent_of(pid) == me:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return len(killed)


# --- running a command ---------------------------------------------------------------------------


def _spawn_kwargs(
    cwd: str,
    env: Mapping[str, str] | None,
    pass_env: Sequence[str],
    limits: Limits | None,
    network: bool,
    traceparent: str,
    write: Sequence[str] | None,
) -> tuple[str, dict[str, Any]]:
    import subprocess

    token = os.urandom(8).hex()
    return token, {
        "cwd": cwd,
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "env": child_env(env, pass_env, token=token, traceparent=traceparent),
        "start_new_session": True,
        "preexec_fn": preexec(limits, network, write),
    }


def _cannot_start(argv: Sequence[str], exc: BaseException) -> Failure[StepError]:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return Failure(Failed(message=f"cannot run {argv[0]}: {reason}"))


def _ended(
    argv: Sequence[str],
    returncode: int,
    text: str,
    limits: Limits | None,
    cpu: float | None,
    rss: int | None,
    kernel: tuple[str, Sequence[str]] | None = None,
) -> Result[tuple[int, str], StepError]:
    """The result of a command that ended; ``kernel``: (its working directory, its write
    paths) when the kernel confined its writes, so that a failure caused by a refused
    write is the ``SandboxViolation`` it is."""
    sig = -returncode if returncode < 0 else None
    error = classify(
        signal_number=sig, exit_status=None if sig else returncode, limits=limits, cpu_seconds=cpu, max_rss_kb=rss, text=text
    )
    if error is not None:
        if isinstance(error, Crashed):
            error = Crashed(cause=f"{argv[0]} {error.cause}", signal=error.signal)
        return Failure(error)
    if returncode and kernel is not None:
        target = refused_write(text, *kernel)
        if target is not None:
            why = f"{os.path.basename(argv[0])}: writing {target} was refused by the kernel (outside the allowed paths)"
            return Failure(SandboxViolation(action="write", target=target, message=why))
    return Success((returncode, text))


_REFUSED: Final = re.compile(r"Permission denied|Operation not permitted|Read-only file system")
_NAMED: Final = re.compile(r"'([^'\n]+)'|\"([^\"\n]+)\"|(?<![\w.])(/[^\s:'\",;)]+)")


def refused_write(text: str, cwd: str, write: Sequence[str]) -> str | None:
    """The path outside ``write`` (real paths) that a failed command's output (its last
    lines) says it was refused, which omnibase itself may write (so the refusal was the
    sandbox's, not the file's own permissions); None if there is none.

    >>> refused_write("touch: cannot touch 'x': Permission denied", "/tmp", ["/tmp"]) is None  # allowed
    True
    >>> refused_write("touch: cannot touch '/no/such/x': Permission denied", "/", ["/tmp"]) is None
    True
    """
    for line in text[-8192:].splitlines()[-40:]:
        if _REFUSED.search(line) is None:
            continue
        for match in reversed(list(_NAMED.finditer(line))):  # the one nearest the refusal first
            named = next(g for g in match.groups() if g is not None)
            full = os.path.realpath(os.path.join(cwd, named))
            if any(full == w or full.startswith(w.rstrip(os.sep) + os.sep) for w in write):
                continue
            probe = full if os.path.lexists(full) else os.path.dirname(full)
            if os.path.isdir(os.path.dirname(full)) and os.access(probe, os.W_OK):
                return full
    return None


def run_command(
    argv: Sequence[str],
    *,
    cwd: str,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    network: bool = True,
    pass_env: Sequence[str] = (),
    traceparent: str = "",
    write: Sequence[str] | None = None,
) -> Result[tuple[int, str], StepError]:
    """Run ``argv`` in ``cwd``; its exit code and merged output (the last ``MAX_OUTPUT``
    bytes), or a typed error: ``TimedOut`` (the whole tree killed and reaped),
    ``ResourceExceeded``, ``Crashed``, ``SandboxViolation`` (it failed because the kernel
    refused it a write outside ``write``: real paths, None for anywhere), or ``Failed``
    when it cannot start. A Ctrl-C stops the tree the same way and is passed on."""
    import subprocess

    token, kwargs = _spawn_kwargs(cwd, env, pass_env, limits, network, traceparent, write)
    kernel = (cwd, write) if write is not None and confined(write, network) else None
    try:
        proc = subprocess.Popen(list(argv), **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return _cannot_start(argv, exc)
    assert proc.stdout is not None
    try:
        ended = _collect(proc.pid, proc.stdout.fileno(), timeout)
    except BaseException:
        sweep(proc.pid, token, leader=proc.pid)
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    chunks, status, usage = ended
    text = chunks.decode("utf-8", "replace")
    if status is None:  # timed out
        sweep(proc.pid, token, leader=proc.pid)
        proc.wait()
        return Failure(TimedOut(seconds=timeout or 0.0))
    proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it: Popen must not try
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else None
    return _ended(argv, proc.returncode, text, limits, cpu, usage.ru_maxrss if usage is not None else None, kernel)


def _collect(pid: int, out: int, timeout: float | None) -> tuple[bytes, int | None, Any]:
    """Read ``out`` until the child ``pid`` exits (then kill what is left of its group and
    drain briefly) or ``timeout`` passes; (output tail, wait status or None, rusage)."""
    import selectors

    deadline = None if timeout is None else time.monotonic() + timeout
    pidfd = os.pidfd_open(pid)
    buf = bytearray()
    status: int | None = None
    usage: Any = None
    with selectors.DefaultSelector() as sel:
        sel.register(out, selectors.EVENT_READ)
        sel.register(pidfd, selectors.EVENT_READ)
        try:
            open_out = True
            drain_until: float | None = None
            while open_out:
                now = time.monotonic()
                ends = [t for t in (deadline, drain_until) if t is not None]
                wait = None if not ends else min(ends) - now
                if wait is not None and wait <= 0:
                    break
                for key, _ in sel.select(wait):
                    if key.fd == out:
                        data = os.read(out, 65536)
                        if not data:
                            open_out = False
                            sel.unregister(out)
                        else:
                            buf += data
                            if len(buf) > 2 * MAX_OUTPUT:
                                del buf[:-MAX_OUTPUT]
                    else:
                        sel.unregister(pidfd)
                        # The leader stays a zombie (its pid, hence its group id, is not
                        # reused) while what it left running in its group, which may hold
                        # the pipe, is killed; then it is reaped.
                        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except OSError:
                            pass
                        _, status, usage = os.wait4(pid, 0)
                        drain_until = time.monotonic() + _GRACE
            if status is None and (deadline is None or time.monotonic() < deadline):
                _, status, usage = os.wait4(pid, 0)  # output closed before the exit
        finally:
            os.close(pidfd)
    return bytes(buf[-MAX_OUTPUT:]), status, usage


async def arun_command(
    argv: Sequence[str],
    *,
    cwd: str,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    network: bool = True,
    pass_env: Sequence[str] = (),
    traceparent: str = "",
    write: Sequence[str] | None = None,
) -> Result[tuple[int, str], StepError]:
    """``run_command`` as an asyncio subprocess (``asyncio.create_subprocess_exec``).
    Cancelling it stops the whole tree. Without ``wait4`` here, memory evidence is the
    output's alone (no high-water RSS)."""
    import asyncio
    import subprocess

    token, kwargs = _spawn_kwargs(cwd, env, pass_env, limits, network, traceparent, write)
    kernel = (cwd, write) if write is not None and confined(write, network) else None
    try:
        proc = await asyncio.create_subprocess_exec(*argv, **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return _cannot_start(argv, exc)
    assert proc.stdout is not None
    stream = proc.stdout
    buf = bytearray()

    async def read() -> None:
        while chunk := await stream.read(65536):
            buf.extend(chunk)
            if len(buf) > 2 * MAX_OUTPUT:
                del buf[:-MAX_OUTPUT]

    reader = asyncio.ensure_future(read())
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError) as stop:
        sweep(proc.pid, token)
        reader.cancel()
        await asyncio.shield(proc.wait())
        if isinstance(stop, asyncio.CancelledError):
            raise
        return Failure(TimedOut(seconds=timeout or 0.0))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    done, _ = await asyncio.wait({reader}, timeout=_GRACE)
    if not done:
        reader.cancel()
    text = bytes(buf[-MAX_OUTPUT:]).decode("utf-8", "replace")
    return _ended(argv, proc.returncode or 0, text, limits, None, None, kernel)
