"""A worker process: ``python -m omnibase.drivers.isolation.worker RFD WFD``.

It reads requests from the pipe ``RFD`` and answers on ``WFD``, one at a time, each a
length-prefixed msgpack frame (see ``Probe``, ``Call``, ``Reply``). Its stdout and stderr
are the parent's capture file (the parent reads and truncates it around each call), so
anything a component prints, at any level, ends up in ``Called.output``.

A call imports the component by its ``module:function`` reference (cached), decodes the
context and the value, applies the invocation's limits (soft ``setrlimit``, restored
after) and sandbox (``omnibase.drivers.isolation.sandbox``), calls it, and answers what it returned,
encoded. What the worker cannot answer (it died), the parent classifies.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import Any, Final, Literal

import msgspec

from omnibase.core.lift import format_traceback
from omnibase.core.outcomes import answer, raised
from omnibase.core.values import Crashed, ExecCtx, Failed, Limits, Meta, ProtocolViolation, Raised, ResourceExceeded, Rights, Skip, StepError

__all__ = ["Call", "Probe", "Reply", "main", "pack", "read_frame", "unpack", "write_frame"]

HEADER: Final = struct.Struct(">I")


class Probe(msgspec.Struct, frozen=True, tag="probe"):
    """Can ``ref`` be imported, and is it callable? (resolution, without importing here)"""

    ref: str
    root: str


class Call(msgspec.Struct, frozen=True, tag="call"):
    """Call ``ref`` with ``ctx`` and the msgpack-encoded ``value``. With ``state``, ``ref``
    names a ``msgspec.Struct`` class whose instances are callable and ``state`` is the
    msgpack-encoded instance to call (a component whose function is a value, such as a
    built-in check: see ``call_request``)."""

    ref: str
    ctx: ExecCtx
    value: msgspec.Raw
    sandbox: Rights | None = None
    limits: Limits | None = None
    env: dict[str, str] = {}
    name: str = ""
    output_type: str = "object"
    state: bytes = b""  # empty: ref names the callable itself


Request = Probe | Call


class Reply(msgspec.Struct, frozen=True):
    """How a call went, already classified (``omnibase.core.outcomes``). ``kind``:
    ``success`` (``value`` is the encoded value), ``skip`` (``Success(Skip(reason=message))``),
    ``typed`` (the call's typed error, packed in ``value`` so that tuples in its data stay
    tuples), or ``error`` (a typed error in ``error``: one the worker observed, or one whose
    data could not be packed). ``tainted``: the component left threads running; the parent
    replaces the worker."""

    kind: Literal["success", "skip", "typed", "error", "probed"]
    value: msgspec.Raw = msgspec.Raw(b"\xc0")  # msgpack nil: an empty Raw would corrupt the frame
    error: StepError | None = None
    started: int = 0
    ended: int = 0
    message: str = ""
    tainted: bool = False
    confined: bool = False  # the worker is now confined by the kernel to this call's rights


# --- values on the wire: msgpack, with tuples and sets kept apart from lists ------------------

_TUPLE, _SET, _FROZENSET = 1, 2, 3
_EXT_TYPES: Final = {_TUPLE: tuple, _SET: set, _FROZENSET: frozenset}
_plain_encoder = msgspec.msgpack.Encoder()


def _wire(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_wire(v) for v in value]
    if kind is dict:
        return {k: _wire(v) for k, v in value.items()}
    code = _TUPLE if kind is tuple else _SET if kind is set else _FROZENSET if kind is frozenset else 0
    if code:
        return msgspec.msgpack.Ext(code, _plain_encoder.encode([_wire(v) for v in value]))
    if isinstance(value, msgspec.Struct):  # its fields may hold tuples too; the tag is kept
        config = value.__struct_config__
        fields = {f: _wire(getattr(value, f)) for f in value.__struct_fields__}
        if config.tag is not None:
            fields[config.tag_field or "type"] = config.tag
        return fields
    return value


def _ext(code: int, data: memoryview) -> Any:
    return _EXT_TYPES[code](_any_decoder.decode(data))


_any_decoder: Final = msgspec.msgpack.Decoder(ext_hook=_ext)


def pack(value: Any) -> bytes:
    """``value`` as msgpack; tuples, sets and frozensets come back as themselves.
    Raises ``TypeError`` (or ``ValueError``, ``OverflowError``) for what msgspec cannot encode."""
    return _plain_encoder.encode(_wire(value))


def unpack(raw: bytes, tp: object = object) -> Any:
    """The value ``pack`` encoded, converted to ``tp`` when one is declared (raises
    ``msgspec.ValidationError`` when it does not fit)."""
    value = _any_decoder.decode(raw)
    return value if tp is object else msgspec.convert(value, tp)


def read_frame(fd: int) -> bytes | None:
    """One frame from ``fd`` (blocking); None at end of file."""
    head = _read_exactly(fd, HEADER.size)
    if head is None:
        return None
    return _read_exactly(fd, HEADER.unpack(head)[0])


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks: list[bytes] = []
    while n:
        data = os.read(fd, min(n, 1 << 20))
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(HEADER.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


# --- the worker side ---------------------------------------------------------------------------


class _CpuLimit(BaseException):
    """Raised by the SIGXCPU handler: not an ``Exception``, so a component cannot swallow it
    with ``except Exception``."""


_loaded: dict[str, tuple[Any, object, Any, object]] = {}
_in_call: list[bool] = [False]


def _load(ref: str, root: str, state: bytes | None = None) -> tuple[Any, object, Any, object] | str:
    """(callable, declared input type, output check, declared output type) for ``ref`` (with ``state``: the
    instance of the Struct class ``ref`` names that ``state`` encodes), or why not."""
    if state is not None:
        return _rebuild(ref, root, state)
    if ref in _loaded:
        return _loaded[ref]
    import importlib

    from omnibase.core.step import Component
    from omnibase.core.types import declared_types

    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        return f"python: '{ref}' is not 'module:function'"
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        obj: Any = importlib.import_module(module_name)
    except SystemExit as exc:
        return f"module '{module_name}' ended the process with exit status {exc.code} while being imported"
    except BaseException as exc:  # the module failing at import time
        return f"cannot import module '{module_name}': {type(exc).__name__}: {exc}"
    for part in attr.split("."):
        if not hasattr(obj, part):
            return f"module '{module_name}' has no attribute '{attr}'"
        obj = getattr(obj, part)
    if isinstance(obj, Component):
        found: tuple[Any, object, Any, object] = (obj.fn, obj.in_type, obj.check, obj.out_type)
    elif callable(obj):
        found = (obj, declared_types(obj, 1)[0], None, object)
    else:
        return f"'{ref}' is not callable"
    _loaded[ref] = found
    return found


#: Callable values rebuilt from their state, by (ref, state); bounded.
_rebuilt: dict[tuple[str, bytes], tuple[Any, object, Any, object]] = {}


def _rebuild(ref: str, root: str, state: bytes) -> tuple[Any, object, Any, object] | str:
    found = _rebuilt.get((ref, state))
    if found is not None:
        return found
    cls = _load(ref, root)
    if isinstance(cls, str):
        return cls
    kind = cls[0]
    if not (isinstance(kind, type) and issubclass(kind, msgspec.Struct) and callable(getattr(kind, "__call__", None))):
        return f"'{ref}' is not a callable msgspec.Struct class: it cannot be rebuilt from a state"
    try:
        value = msgspec.msgpack.decode(state, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return f"cannot rebuild '{ref}' from its state: {exc}"
    from omnibase.core.types import declared_types

    if len(_rebuilt) >= 256:
        _rebuilt.clear()
    found = _rebuilt[(ref, state)] = (value, declared_types(kind.__call__, 1)[0], None, object)
    return found


def _decode_value(raw: bytes, in_type: object) -> Any:
    if in_type is not object:
        try:
            return unpack(raw, in_type)
        except (msgspec.ValidationError, TypeError, ValueError):
            pass
    return unpack(raw)


def _set_limits(limits: Limits | None) -> list[tuple[int, tuple[int, int]]]:
    """Lower the soft limits for one call; the previous ones, to restore."""
    if limits is None:
        return []
    import resource


    saved: list[tuple[int, tuple[int, int]]] = []

    def lower(which: int, soft: int) -> None:
        old = resource.getrlimit(which)
        hard = old[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        saved.append((which, old))
        resource.setrlimit(which, (soft, hard))

    if limits.cpu_seconds is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lower(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + limits.cpu_seconds)
    if limits.memory_mb is not None:
        lower(resource.RLIMIT_AS, limits.memory_mb << 20)
    if limits.file_size_mb is not None:
        lower(resource.RLIMIT_FSIZE, limits.file_size_mb << 20)
    if limits.processes is not None:
        lower(resource.RLIMIT_NPROC, limits.processes)
    return saved


def _restore(saved: list[tuple[int, tuple[int, int]]]) -> None:
    import resource

    for which, old in reversed(saved):
        resource.setrlimit(which, old)


def _encode(value: Any) -> bytes | str:
    try:
        return pack(value)
    except (TypeError, ValueError, OverflowError) as exc:
        return f"{type(value).__name__}: {exc}"


def _call(req: Call, *, this_thread_only: bool = False) -> Reply:
    """Run ``req``; its sandbox watches the whole process, or, ``this_thread_only`` (a
    process shared with other threads: a Dask worker), only the calling thread."""
    import asyncio
    import errno
    import inspect
    import threading
    import time

    from omnibase.drivers.isolation import sandbox as _sandbox

    loaded = _load(req.ref, req.ctx.root, req.state or None)
    if isinstance(loaded, str):
        from omnibase.core.values import Unresolved

        now = time.monotonic_ns()
        return Reply("error", error=Unresolved(name=req.ref, message=loaded), started=now, ended=now)
    fn, in_type, check, out_type = loaded
    if req.sandbox is not None and not this_thread_only:
        refused = _confine(req.sandbox, req.ctx.root)
        if refused:
            now = time.monotonic_ns()
            return Reply("error", error=Crashed(cause=refused), started=now, ended=now, tainted=True)
    value = _decode_value(req.value, in_type)
    # What a call changes in the process (environment, working directory) is undone after
    # it, so the next call in this worker starts from the same state.
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update(req.env)
    threads = threading.active_count()
    error: StepError | None = None
    returned: Any = None
    started = time.monotonic_ns()
    saved = _set_limits(req.limits)
    _sandbox.begin(req.sandbox, req.ctx.root, threading.get_ident() if this_thread_only else None)
    _in_call[0] = True
    try:
        returned = fn(req.ctx, value)
        if inspect.iscoroutine(returned):  # an async def component: the worker awaits it
            returned = asyncio.run(returned)
    except _CpuLimit:
        lim = req.limits.cpu_seconds if req.limits else None
        error = ResourceExceeded(resource="cpu", limit=lim, message=f"used its {lim} s of CPU time")
    except MemoryError as exc:
        error = _raised(exc)
        if req.limits is not None and req.limits.memory_mb is not None:
            lim = req.limits.memory_mb
            error = ResourceExceeded(resource="memory", limit=lim, message=f"ran out of its {lim} MB of memory")
    except OSError as exc:
        error = _raised(exc)
        if exc.errno == errno.EFBIG and req.limits is not None and req.limits.file_size_mb is not None:
            lim = req.limits.file_size_mb
            error = ResourceExceeded(resource="file_size", limit=lim, message=f"wrote a file past {lim} MB")
    except (Exception, SystemExit) as exc:  # SystemExit from a component is a misbehaviour too
        error = _raised(exc)
    finally:
        _in_call[0] = False
        denied = _sandbox.end()
        _restore(saved)
        ended = time.monotonic_ns()
        if os.environ != saved_env:
            os.environ.clear()
            os.environ.update(saved_env)
        try:
            os.chdir(saved_cwd)
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
    tainted = threading.active_count() > threads
    if denied is not None:  # whatever it returned, or raised after being refused
        return Reply("error", error=denied, started=started, ended=ended, tainted=tainted, confined=bool(_confined))
    if error is not None:
        return Reply("error", error=error, started=started, ended=ended, tainted=tainted, confined=bool(_confined))
    reply = _answer(returned, fn, (check, out_type), req, started, ended, tainted)
    return msgspec.structs.replace(reply, confined=True) if _confined else reply


#: The rights and root this worker is confined to by the kernel, once it is.
_confined: list[tuple[Rights, str]] = []


def _confine(rights: Rights, root: str) -> str:
    """Confine this process by the kernel (Landlock) to ``rights`` in ``root``, for good,
    if the kernel can and it is not yet; "" when done or not possible (the audit hook
    alone then guards), else why this worker cannot run a call with these rights (it is
    confined to others: the pool never asks that)."""
    if _confined:
        return "" if _confined[0] == (rights, root) else "a worker confined to other rights was given this call"
    from omnibase.drivers.isolation import landlock
    from omnibase.drivers.isolation.sandbox import allowed_paths

    if landlock.abi() < 1:
        return ""
    try:
        fd = landlock.ruleset(allowed_paths(rights, root), network=rights.network, execute=rights.processes)
    except OSError:
        return ""  # the kernel refused the ruleset: the audit hook alone guards
    try:
        landlock.confine(fd)
    except OSError:
        return ""
    finally:
        os.close(fd)
    _confined.append((rights, root))
    return ""


def _answer(returned: Any, fn: Any, output: tuple[Any, object], req: Call, started: int, ended: int, tainted: bool) -> Reply:
    """The reply for what the component returned, classified as the interpreter would
    classify it here (``omnibase.core.outcomes``), then encoded."""
    from omnibase.core.step import Component

    check, out_type = output  # the output check and the type it checks (for the message)
    comp: Component[Any, Any] = Component(fn, Meta(name=req.name or req.ref, output_type=req.output_type), check, out_type=out_type)
    ok, out = answer(returned, comp)
    if ok and type(out) is Skip:
        return Reply("skip", message=out.reason, started=started, ended=ended, tainted=tainted)
    encoded = _encode(out)  # an error's data may hold tuples: packed, not a plain field
    if ok:
        if isinstance(encoded, str):
            why = f"{req.name or req.ref} returned a value that cannot leave its worker process ({encoded})"
            return Reply("error", error=ProtocolViolation(message=why), started=started, ended=ended, tainted=tainted)
        return Reply("success", value=msgspec.Raw(encoded), started=started, ended=ended, tainted=tainted)
    if isinstance(encoded, str):  # data that cannot travel: the error without it
        error = msgspec.structs.replace(out, data=None) if isinstance(out, Failed) else out
        return Reply("error", error=error, started=started, ended=ended, tainted=tainted)
    return Reply("typed", value=msgspec.Raw(encoded), started=started, ended=ended, tainted=tainted)


def _raised(exc: BaseException) -> Raised:
    return raised(exc, format_traceback(exc))


def _probe(req: Probe) -> Reply:
    loaded = _load(req.ref, req.root)
    return Reply("probed", message=loaded if isinstance(loaded, str) else "")


def _on_sigxcpu(signum: int, frame: object) -> None:
    if _in_call[0]:
        raise _CpuLimit()


def main(argv: list[str]) -> int:
    import faulthandler
    import signal

    from omnibase.drivers.isolation import sandbox as _sandbox

    rfd, wfd = int(argv[0]), int(argv[1])
    for fd in (rfd, wfd):  # a component's child processes must not hold the protocol's pipes
        os.set_inheritable(fd, False)
    faulthandler.enable()  # a crash leaves its traceback in the captured output
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    sys.dont_write_bytecode = True
    _sandbox.install()
    decoder = msgspec.msgpack.Decoder(Request)
    encoder = msgspec.msgpack.Encoder()
    while True:
        frame = read_frame(rfd)
        if frame is None:
            return 0
        req = decoder.decode(frame)
        reply = _call(req) if isinstance(req, Call) else _probe(req)
        write_frame(wfd, encoder.encode(reply))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
