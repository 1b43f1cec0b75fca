"""Failure snapshots: what a failed run did, stored so that it can be shown and replayed.

A snapshot is one JSON file (msgspec, never pickle) holding the schema version, the
pipeline's structure (component names, combinators and their policies), the context, the
input, every invocation's answer (keyed, see ``call_key``) and the run's report (each
step's result and timing). The CLI writes one after every failed run that is not a dry
run, in ``.git/omnibase/snapshots/`` (inside the git directory, so the working tree stays
clean and nothing needs ignoring; ``.omnibase/snapshots/`` at the root when the root is
not a git work tree). Files are written atomically and named
``YYYYmmddTHHMMSSZ-RUNID.json``; only the newest ``KEEP`` (20) are kept.

Reading is strict: a truncated, corrupt or newer-schema file is a ``SnapshotError`` value
with a one-line message, never an exception.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, cast

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.graph import Graph
from omnibase.core.graph import shape as graph_shape
from omnibase.core.hooks import Hooked
from omnibase.core.step import AllOf, Breaker, Component, DryRun, Fallback, Identity, Profile, Retry, Step, Then, Timeout
from omnibase.core.values import ExecCtx, GraphNode, RunReport

__all__ = [
    "KEEP",
    "SNAPSHOT_SCHEMA",
    "Node",
    "RecordedCall",
    "Snapshot",
    "SnapshotError",
    "call_key",
    "list_snapshots",
    "read_snapshot",
    "rebuild",
    "shape_of",
    "snapshot_dir",
    "write_snapshot",
]

#: The version of the snapshot file format; a reader refuses files with a higher one.
SNAPSHOT_SCHEMA = 1
#: How many snapshots a folder keeps: writing one removes the oldest beyond this.
KEEP = 20

Kind = Literal[
    "component", "then", "identity", "retry", "breaker", "all_of", "timeout", "profile", "dry_run", "recover", "fallback",
    "graph", "hooked",
]  # fmt: skip


class RetryShape(msgspec.Struct, frozen=True, kw_only=True):
    """A ``RetryPolicy`` without its predicate (a function is not data): replay uses the
    default predicate (retry what the error calls transient)."""

    max_attempts: int
    initial: float
    multiplier: float
    cap: float
    jitter: float
    deadline: float | None = None


class Node(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One node of a pipeline's structure; a ``then`` node lists a whole ``>>`` chain."""

    kind: Kind
    name: str
    children: tuple[Node, ...] = ()
    retry: RetryShape | None = None
    breaker: BreakerPolicy | None = None
    key: str = ""
    fail_fast: bool = False
    seconds: float | None = None
    graph: tuple[GraphNode, ...] = ()
    maxfail: int | None = None
    flow: bool = False


class RecordedCall(msgspec.Struct, frozen=True, kw_only=True):
    """One invocation's answer. ``ok``: it returned ``Success`` (then ``value`` is the
    value, or ``skip`` the reason of a ``Skip``) of a value JSON holds faithfully; replay
    reuses only those."""

    key: str
    name: str
    span_id: str
    attempt: int
    ok: bool
    value: Any = None
    skip: str | None = None
    start_s: float = 0.0
    duration_s: float = 0.0


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything replay needs, and what ``omnibase snapshot show`` renders."""

    schema_version: int = SNAPSHOT_SCHEMA
    created_at: float
    mode: str = "sync"
    ctx: ExecCtx
    input: Any = None
    pipeline: Node
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
    import hashlib

    return f"{name}:{hashlib.sha256(encode(value)).hexdigest()[:24]}"


# --- the pipeline's structure ----------------------------------------------------------------


def shape_of(step: Step[Any, Any]) -> Node:
    """The structure of ``step`` as data (functions, such as recover handlers, left out)."""
    if isinstance(step, Component):
        return Node(kind="component", name=step.name)
    if isinstance(step, Then):
        chain: list[Step[Any, Any]] = []
        stack: list[Step[Any, Any]] = [step]
        while stack:
            node = stack.pop()
            if isinstance(node, Then):
                stack += [node.second, node.first]
            else:
                chain.append(node)
        chain = [n for n in chain if not isinstance(n, Identity)] or chain  # identity is neutral in >>
        if len(chain) == 1:
            return shape_of(chain[0])
        return Node(kind="then", name=" >> ".join(n.name for n in chain), children=tuple(map(shape_of, chain)))
    if isinstance(step, Identity):
        return Node(kind="identity", name=step.name)
    if isinstance(step, Graph):
        return Node(
            kind="graph", name=step.name, children=tuple(map(shape_of, step.branches)), fail_fast=step.fail_fast,
            graph=graph_shape(step.nodes), maxfail=step.maxfail, flow=step.flow,
        )  # fmt: skip
    if isinstance(step, Hooked):
        return Node(kind="hooked", name=step.name, children=(shape_of(step.inner),))
    if isinstance(step, AllOf):
        return Node(kind="all_of", name=step.name, children=tuple(map(shape_of, step.branches)), fail_fast=step.fail_fast)
    if isinstance(step, Fallback):
        return Node(kind="fallback", name=step.name, children=(shape_of(step.inner), shape_of(step.alternative)))
    inner = (shape_of(step.inner),) if hasattr(step, "inner") else ()
    # a wrapper named after its inner step is named after the inner step's shape (which
    # leaves out the identities of ``>>``), as rebuilding it names it
    name = inner[0].name if inner and step.name == getattr(step, "inner").name else step.name
    if isinstance(step, Retry):
        p = step.policy
        shape = RetryShape(
            max_attempts=p.max_attempts, initial=p.initial, multiplier=p.multiplier, cap=p.cap, jitter=p.jitter, deadline=p.deadline
        )
        return Node(kind="retry", name=name, children=inner, retry=shape)
    if isinstance(step, Breaker):
        return Node(kind="breaker", name=name, children=inner, breaker=step.policy, key=step.key)
    if isinstance(step, Timeout):
        return Node(kind="timeout", name=name, children=inner, seconds=step.seconds)
    if isinstance(step, Profile):
        return Node(kind="profile", name=name, children=inner)
    if isinstance(step, DryRun):
        return Node(kind="dry_run", name=name, children=inner)
    return Node(kind="recover", name=name, children=inner)


def _rebuild_graph(node: Node, parts: list[Step[Any, Any]]) -> Result[Step[Any, Any], str]:
    from omnibase.core.graph import CONDITIONS, GraphError, Rule
    from omnibase.core.graph import Node as GraphNodeStep

    if len(parts) != len(node.graph):
        return Failure(f"the snapshot's graph '{node.name}' has {len(parts)} steps for {len(node.graph)} nodes")
    for g in node.graph:
        if g.when not in CONDITIONS:
            return Failure(f"the snapshot's graph node '{g.name}' runs on a {g.when}, which is code: it cannot be replayed")
    try:
        nodes = [GraphNodeStep(g.name, part, g.needs, cast(Rule, g.when), skip=g.skip) for g, part in zip(node.graph, parts)]
        return Success(Graph(nodes, name=node.name, maxfail=node.maxfail, fail_fast=node.fail_fast, flow=node.flow))
    except GraphError as err:
        return Failure(f"the snapshot's graph '{node.name}': {err}")


def rebuild(node: Node, components: Mapping[str, Component[Any, Any]]) -> Result[Step[Any, Any], str]:
    """The step ``node`` describes, with each component looked up by name; or why not."""
    from omnibase.core import combinators as c

    if node.kind == "component":
        found = components.get(node.name)
        return Success(found) if found is not None else Failure(f"the snapshot names component '{node.name}', which is not known here")
    parts: list[Step[Any, Any]] = []
    for child in node.children:
        built = rebuild(child, components)
        if isinstance(built, Failure):
            return built
        parts.append(built.unwrap())
    kind = node.kind
    if kind == "then":
        return Success(functools.reduce(Then, parts) if parts else c.identity())
    if kind == "identity":
        return Success(c.identity())
    if kind == "all_of":
        return Success(c.all_of(parts, fail_fast=node.fail_fast, name=node.name))
    if kind == "graph":
        return _rebuild_graph(node, parts)
    if kind == "hooked":
        return Failure(f"the snapshot's node '{node.name}' has hooks, which are code, not data: it cannot be replayed")
    if kind == "fallback" and len(parts) == 2:
        return Success(c.fallback(parts[0], parts[1]))
    if len(parts) != 1:
        return Failure(f"the snapshot's {kind} node '{node.name}' has {len(parts)} children")
    inner = parts[0]
    if kind == "retry" and node.retry is not None:
        return Success(c.retry(inner, RetryPolicy(**msgspec.structs.asdict(node.retry))))
    if kind == "breaker":
        return Success(c.breaker(inner, node.breaker, key=node.key or None))
    if kind == "timeout" and node.seconds is not None:
        return Success(c.timeout(inner, node.seconds))
    if kind == "profile":
        return Success(c.profile(inner, node.name if node.name != inner.name else None))
    if kind == "dry_run":
        return Success(c.dry_run(inner))
    return Failure(f"the snapshot's {kind} node '{node.name}' cannot be rebuilt (its handler is code, not data)")


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
    if header.schema_version > SNAPSHOT_SCHEMA:
        return Failure(
            SnapshotError(
                f"{path}: snapshot schema {header.schema_version} is newer than this omnibase reads "
                f"({SNAPSHOT_SCHEMA}); upgrade omnibase to replay it"
            )
        )
    try:
        return Success(msgspec.json.decode(data, type=Snapshot))
    except msgspec.DecodeError as exc:
        return Failure(SnapshotError(f"{path}: not a valid snapshot ({_one_line(exc)})"))


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def recorded(calls: Iterable[tuple[str, str, int, Any, Any]], t0: int) -> tuple[RecordedCall, ...]:
    """Recorded calls from ``(name, span_id, attempt, input, Called)`` tuples (what the
    ``Recorder`` keeps), timed from ``t0``."""
    from returns.result import Success as Ok

    from omnibase.core.values import Skip

    out: list[RecordedCall] = []
    for name, span, attempt, value, called in calls:
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
                key=call_key(name, value), name=name, span_id=span, attempt=attempt, ok=ok,
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


def names_in(node: Node) -> Sequence[str]:
    """The component names in ``node``, in order."""
    if node.kind == "component":
        return [node.name]
    return [n for child in node.children for n in names_in(child)]
