"""Failure snapshots: what a failed run did, stored so that it can be shown and replayed.

A snapshot is one JSON file (msgspec, never pickle) holding the schema version, the
pipeline's structure (its ``Shape``: component names, combinators and their policies; see
``core.shape``), the context, the
input, every invocation's answer (keyed, see ``call_key``) and the run's report (each
step's result and timing). The CLI writes one after every failed run that is not a dry
run, in ``.git/omnibase/snapshots/`` (inside the git directory, so the working tree stays
clean and nothing needs ignoring; ``.omnibase/snapshots/`` at the root when the root is
not a git work tree). Files are written atomically and named
``YYYYmmddTHHMMSSZ-RUNID.json``; only the newest ``KEEP`` (20) are kept.

Reading is strict, for a snapshot is a file anyone could edit: a truncated, corrupt or
newer-schema file, a number out of its range (a negative time, ``max_attempts: 0``), values
or a pipeline nested too deeply, or a node of an unknown kind is a ``SnapshotError`` value
with a one-line message, never an exception. The paths in a snapshot's context are checked
against the repository a replay runs in (``drivers.replay.replay_context``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.step import Shape
from omnibase.core.values import ExecCtx, RunReport

__all__ = [
    "KEEP",
    "SNAPSHOT_SCHEMA",
    "RecordedCall",
    "Snapshot",
    "SnapshotError",
    "call_key",
    "list_snapshots",
    "read_snapshot",
    "snapshot_dir",
    "write_snapshot",
]

#: The version of the snapshot file format; a reader refuses files with a higher one.
SNAPSHOT_SCHEMA = 1
#: How many snapshots a folder keeps: writing one removes the oldest beyond this.
KEEP = 20

#: A time a snapshot may hold: from the epoch to the year 2500 (a file anyone could edit).
_Time = Annotated[float, msgspec.Meta(ge=0, le=16_725_225_600)]
_Seconds = Annotated[float, msgspec.Meta(ge=0, le=1e9)]


class RecordedCall(msgspec.Struct, frozen=True, kw_only=True):
    """One invocation's answer. ``ok``: it returned ``Success`` (then ``value`` is the
    value, or ``skip`` the reason of a ``Skip``) of a value JSON holds faithfully; replay
    reuses only those."""

    key: str
    name: str
    span_id: str
    attempt: Annotated[int, msgspec.Meta(ge=1)]
    ok: bool
    value: Any = None
    skip: str | None = None
    start_s: _Seconds = 0.0
    duration_s: _Seconds = 0.0


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything replay needs, and what ``omnibase snapshot show`` renders."""

    schema_version: int = SNAPSHOT_SCHEMA
    created_at: _Time
    mode: str = "sync"
    ctx: ExecCtx
    input: Any = None
    pipeline: Shape
    calls: tuple[RecordedCall, ...] = ()
    report: RunReport


class SnapshotError(msgspec.Struct, frozen=True):
    """Why a snapshot cannot be read or written (one line, naming the file)."""

    message: str


class _Header(msgspec.Struct):
    schema_version: int


# --- keys ----------------------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "backslashreplace")
    return repr(obj)


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def encode(value: Any) -> bytes:
    """Canonical JSON of any value (sets sorted, unknown objects by ``repr``; a string that
    is not UTF-8, e.g. a surrogate-escaped file name, with its bad bytes shown ``\\xNN``)."""
    try:
        return _ENCODER.encode(value)
    except UnicodeEncodeError:
        return _ENCODER.encode(_escaped(msgspec.to_builtins(value, enc_hook=_enc_hook, order="sorted")))


def _escaped(data: Any) -> Any:
    if isinstance(data, str):
        from omnibase.core.redact import printable

        return printable(data)
    if isinstance(data, (list, tuple)):
        return [_escaped(item) for item in data]
    if isinstance(data, dict):
        return {_escaped(k): _escaped(v) for k, v in data.items()}
    return data


def call_key(name: str, value: Any) -> str:
    """The replay key of an invocation: the component's name and a digest of its input's
    canonical JSON. The same component given the same input gets the same answer again;
    a component whose input changed (because something before it changed) runs again.

    >>> call_key("lint", ("a.py", "b.py")) == call_key("lint", ["a.py", "b.py"])
    True
    >>> call_key("lint", ("a.py",)) == call_key("lint", ("b.py",))
    False
    """
    return f"{name}:{_input_digest(value)}"


def _input_digest(value: Any) -> str:
    from omnibase.core.digests import sha256

    return str(sha256(encode(value)).hexdigest()[:24])


# --- files -----------------------------------------------------------------------------------


def snapshot_dir(root: str) -> str:
    """Where snapshots of the work tree at ``root`` live (``omnibase._io.state``):
    ``GITDIR/omnibase/snapshots`` (a linked worktree's own git directory), else
    ``root/.omnibase/snapshots``."""
    from omnibase._io.state import snapshots_dir, state_dir_of

    return snapshots_dir(state_dir_of(root))


def _make_dir(folder: str) -> Result[str, SnapshotError]:
    """Create ``folder`` and the state folder above it as needed, refusing to go through a
    symlink (the state folder's one check)."""
    from omnibase._io.state import make_state_dir

    return make_state_dir(folder).alt(lambda e: SnapshotError(e.message))


def list_snapshots(folder: str) -> list[str]:
    """The snapshot files in ``folder``, oldest first (their names sort by time)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in sorted(names) if n.endswith(".json") and not n.startswith(".")]


def prune(folder: str, keep: int = KEEP) -> list[str]:
    """Remove all but the newest ``keep`` snapshots in ``folder``; the removed paths."""
    found = list_snapshots(folder)
    old = found[: max(0, len(found) - keep)]
    for path in old:
        try:
            os.unlink(path)
        except OSError:
            pass
    return old


def write_snapshot(
    snapshot: Snapshot, folder: str, *, keep: int = KEEP, scrub: Callable[[str], str] | None = None
) -> Result[str, SnapshotError]:
    """Write ``snapshot`` atomically into ``folder`` (created if needed), prune the folder
    to ``keep`` files; the new file's path. ``scrub`` rewrites the JSON text first (the CLI
    passes the report's secret redaction)."""
    from omnibase._io.atomic import write_atomic

    made = _make_dir(folder)
    if isinstance(made, Failure):
        return made
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(snapshot.created_at))
    path = os.path.join(folder, f"{stamp}-{snapshot.report.run_id}.json")
    try:
        data = encode(snapshot)
        if scrub is not None:
            data = scrub(data.decode("utf-8")).encode("utf-8")
        write_atomic(path, data + b"\n")
    except OSError as exc:
        return Failure(SnapshotError(f"{path}: cannot write ({exc.strerror or exc})"))
    prune(folder, keep)
    return Success(path)


def read_snapshot(path: str) -> Result[Snapshot, SnapshotError]:
    """Decode the snapshot at ``path``, or say in one line why it cannot be."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return Failure(SnapshotError(f"{path}: cannot read ({exc.strerror or exc})"))
    if not data.strip():
        return Failure(SnapshotError(f"{path}: empty file, not a snapshot"))
    try:
        header = msgspec.json.decode(data, type=_Header)
    except msgspec.DecodeError as exc:
        return Failure(SnapshotError(f"{path}: not a readable snapshot (truncated or corrupt: {_one_line(exc)})"))
    except RecursionError:
        return Failure(SnapshotError(f"{path}: not a valid snapshot (its values are nested too deeply)"))
    if header.schema_version > SNAPSHOT_SCHEMA:
        return Failure(
            SnapshotError(
                f"{path}: snapshot schema {header.schema_version} is newer than this omnibase reads "
                f"({SNAPSHOT_SCHEMA}); upgrade omnibase to replay it"
            )
        )
    try:
        snapshot = msgspec.json.decode(data, type=Snapshot)
    except msgspec.DecodeError as exc:
        return Failure(SnapshotError(f"{path}: not a valid snapshot ({_one_line(exc)})"))
    except RecursionError:
        return Failure(SnapshotError(f"{path}: not a valid snapshot (its values are nested too deeply)"))
    from omnibase.core.shape import check_shape

    problem = check_shape(snapshot.pipeline)
    if problem is not None:
        return Failure(SnapshotError(f"{path}: not a valid snapshot ({problem})"))
    return Success(snapshot)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def recorded(calls: Iterable[tuple[str, str, int, Any, Any]], t0: int) -> tuple[RecordedCall, ...]:
    """Recorded calls from ``(name, span_id, attempt, input, Called)`` tuples (what the
    ``Recorder`` keeps), timed from ``t0``."""
    from returns.result import Success as Ok

    from omnibase.core.values import Skip

    out: list[RecordedCall] = []
    #: id of an input -> (the input, its digest): the components of a stage mostly get the
    #: very same input (the run's files), hashed once (the input kept: its id stays its own)
    digests: dict[int, tuple[Any, str]] = {}
    for name, span, attempt, value, called in calls:
        known = digests.get(id(value))
        if known is None:
            known = digests[id(value)] = (value, _input_digest(value))
        returned = called.returned
        ok = called.error is None and called.raised is None and isinstance(returned, Ok)
        inner = returned.unwrap() if ok else None
        skip = inner.reason if isinstance(inner, Skip) and not inner.planned else None
        if isinstance(inner, Skip) and inner.planned:
            ok = False
        elif ok and skip is None and not _storable(inner):
            ok = False  # stored as its repr, which cannot stand for it on replay: run it again
        out.append(
            RecordedCall(
                key=f"{name}:{known[1]}", name=name, span_id=span, attempt=attempt, ok=ok,
                value=None if skip is not None else inner, skip=skip,
                start_s=(called.started - t0) / 1e9, duration_s=(called.ended - called.started) / 1e9,
            )
        )  # fmt: skip
    return tuple(out)


def _storable(value: Any) -> bool:
    """Whether JSON holds ``value`` faithfully (msgspec knows its type)."""
    try:
        msgspec.to_builtins(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True
