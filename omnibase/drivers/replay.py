"""Recording a run's answers, and replaying a failed run from its snapshot.

``Recorder(inner)`` wraps any performer and keeps every invocation with its answer;
``snapshot_of`` turns a finished run (its step, context, input, report and recorder) into
a ``Snapshot`` (see ``omnibase.snapshots``). ``ReplayPerformer(inner, snapshot)`` answers
an ``Invoke`` from the snapshot when it holds a successful answer for the same
component and the same input (the key is ``call_key(name, input)``), decoding the value
back to the component's declared output type (``Component.out_type``); everything else
(the steps that failed, and those whose input changed because of them) goes to ``inner``
and runs again. ``replay(snapshot, components)`` rebuilds the pipeline from the names in
the snapshot and re-runs it so.

>>> from returns.result import Failure, Result, Success
>>> from omnibase.core.step import component
>>> from omnibase.core.values import ExecCtx
>>> from omnibase.drivers import SyncDriver, run
>>> calls = []
>>> @component
... def fetch(ctx: ExecCtx, x: int) -> Result[int, str]:
...     calls.append("fetch")
...     return Success(x * 10)
>>> flaky = {"ok": False}
>>> @component
... def check(ctx: ExecCtx, x: int) -> Result[int, str]:
...     calls.append("check")
...     return Success(x + 1) if flaky["ok"] else Failure("down")
>>> ctx = ExecCtx(run_id="r1", trace_id="2" * 32)
>>> rec = Recorder(SyncDriver())
>>> first = run(fetch >> check, 4, ctx, rec)
>>> snap = snapshot_of(fetch >> check, 4, ctx, first, rec)
>>> flaky["ok"] = True; calls.clear()
>>> again = replay(snap, [fetch, check])
>>> again.output, calls, again.metadata["replayed"]
(41, ['check'], 'fetch')
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import msgspec
from returns.result import Failure, Result, Success

from omnibase.core.intents import NOW, Called, Intent, Invoke
from omnibase.core.outcomes import classify
from omnibase.core.step import Component, Step
from omnibase.core.values import ExecCtx, RunReport, Skip
from omnibase.core.shape import rebuild, shape_of
from omnibase.snapshots import RecordedCall, Snapshot, call_key, recorded

__all__ = ["Recorder", "ReplayPerformer", "replay", "replay_context", "snapshot_of"]

T = TypeVar("T")

_ANY = (object, Any)


class Recorder:
    """Passes every intent to ``inner`` and keeps ``(name, span_id, attempt, input, Called)``
    for each invocation, and the run's start on the inner clock (its first ``NOW``). A call
    is kept as the interpreter classifies it (``omnibase.core.outcomes``): a success of the
    wrong type is kept as its protocol violation, so a replay runs it again."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.observers: tuple[Any, ...] = tuple(getattr(inner, "observers", ()))
        self.calls: list[tuple[str, str, int, Any, Called]] = []
        self.t0: int | None = None

    def perform(self, intent: Intent) -> Any:
        answer = self.inner.perform(intent)
        self._keep(intent, answer)
        return answer

    async def aperform(self, intent: Intent) -> Any:
        answer = await self.inner.aperform(intent)
        self._keep(intent, answer)
        return answer

    def _keep(self, intent: Intent, answer: Any) -> None:
        if type(intent) is Invoke:
            ok, out = classify(intent.component, answer)
            if not ok:  # e.g. a Success of the wrong type: kept as the failure it is, never replayed
                answer = msgspec.structs.replace(answer, returned=None, raised=None, error=out)
            self.calls.append((intent.component.name, intent.span_id, intent.attempt, intent.value, answer))
        elif intent is NOW and self.t0 is None:
            self.t0 = answer


def snapshot_of(
    step: Step[Any, Any], value: Any, ctx: ExecCtx, report: RunReport, recorder: Recorder, *, mode: str = "sync"
) -> Snapshot:
    """The snapshot of a finished run of ``step`` on ``value`` recorded by ``recorder``."""
    return Snapshot(
        created_at=time.time(),
        mode=mode,
        ctx=ctx,
        input=value,
        pipeline=shape_of(step),
        calls=recorded(recorder.calls, recorder.t0 or 0),
        report=report,
    )


def _decode(call: RecordedCall, comp: Component[Any, Any]) -> tuple[bool, Any]:
    """(True, the recorded value as ``comp`` declares its output) when the value still
    fits that type exactly, else (False, None): ``comp`` runs again. Decoding is strict
    (``"5"`` is no ``int``, ``1`` no ``bool``) and the component's own output check
    (``Component.check``) has the last word."""
    if call.skip is not None:
        return True, Skip(reason=call.skip)
    if comp.out_type in _ANY:
        return True, call.value
    try:
        value = msgspec.convert(call.value, comp.out_type, strict=True)
    except (msgspec.ValidationError, TypeError):
        return False, None  # the declared type changed since: run it again
    if comp.check is not None and not comp.check(value):
        return False, None
    return True, value


class ReplayPerformer:
    """Answers invocations from ``snapshot`` where it can, delegates the rest to ``inner``.

    ``replayed`` lists the names of the components answered from the snapshot, in order.
    """

    def __init__(self, inner: Any, snapshot: Snapshot) -> None:
        self.inner = inner
        self.observers: tuple[Any, ...] = tuple(getattr(inner, "observers", ()))
        self.answers = {c.key: c for c in snapshot.calls if c.ok}
        self.replayed: list[str] = []

    def _lookup(self, intent: Invoke) -> Any:
        comp = intent.component
        found = self.answers.get(call_key(comp.name, intent.value)) if self.answers else None
        if found is None:
            return None
        ok, value = _decode(found, comp)
        if not ok:
            return None
        self.replayed.append(comp.name)
        return Success(value)

    def perform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            returned = self._lookup(intent)
            if returned is not None:
                now = self.inner.perform(NOW)
                return Called(returned, None, now, now)
        return self.inner.perform(intent)

    async def aperform(self, intent: Intent) -> Any:
        if type(intent) is Invoke:
            returned = self._lookup(intent)
            if returned is not None:
                now = await self.inner.aperform(NOW)
                return Called(returned, None, now, now)
        return await self.inner.aperform(intent)

    def attach(self, report: RunReport[T], source: str = "") -> RunReport[T]:
        """``report`` with ``metadata`` saying it is a replay, of what, and what was reused."""
        extra = {"mode": "replay", "replayed": ",".join(self.replayed)}
        if source:
            extra["replayed_from"] = source
        return msgspec.structs.replace(report, metadata={**report.metadata, **extra})


def replay_context(snapshot: Snapshot, root: str, git_dir: str | None) -> Result[ExecCtx, str]:
    """The snapshot's context made to run in the repository at ``root`` (whose git
    directory is ``git_dir``), or why it cannot be, in one line.

    A snapshot is a file anyone could edit, and the built-in fixers write the files a
    context names: every file (and every ``added`` name) must be inside ``root``, and a
    ``git_dir`` parameter must be this repository's git directory or inside ``root``.
    The root is ``root``, whatever the snapshot says; the git directory is ``git_dir``.
    """
    from omnibase._io.paths import contained

    ctx = snapshot.ctx
    params = dict(ctx.params)
    for path in (*ctx.files, *params.get("added", "").split("\0")):
        if path and isinstance(inside := contained(root, path), Failure):
            return Failure(f"the snapshot's file {inside.failure().message}")
    recorded_git_dir = params.get("git_dir", "")
    if recorded_git_dir:
        same = git_dir is not None and os.path.realpath(os.path.join(root, recorded_git_dir)) == os.path.realpath(git_dir)
        if not same and isinstance(contained(root, recorded_git_dir), Failure):
            return Failure(f"the snapshot's git_dir {recorded_git_dir} is not this repository's git directory ({git_dir or 'none'})")
        params["git_dir"] = git_dir or ""
    return Success(msgspec.structs.replace(ctx, root=root, params=frozenset(params.items())))


def initial_value(snapshot: Snapshot) -> Any:
    """The input of the snapshot's run (a JSON array comes back as a tuple)."""
    value = snapshot.input
    return tuple(value) if isinstance(value, list) else value


def replay(
    snapshot: Snapshot,
    components: Iterable[Component[Any, Any]],
    performer: Any = None,
    *,
    ctx: ExecCtx | None = None,
    observers: Sequence[Any] = (),
    source: str = "",
) -> RunReport:
    """Re-run the snapshot's pipeline, built from ``components`` by name, with recorded
    answers reused (``performer`` runs the rest; default a new ``SyncDriver``). The context
    is the snapshot's with a new run id unless ``ctx`` is given. A component the snapshot
    names but ``components`` lacks makes a report with ``Unresolved`` (exit 3)."""
    from omnibase.core.refusals import refused
    from omnibase.drivers.runs import run

    run_ctx = ctx or msgspec.structs.replace(snapshot.ctx, run_id=_new_id())
    built = rebuild(snapshot.pipeline, {c.name: c for c in components})
    if not isinstance(built, Success):
        from omnibase.core.values import Unresolved

        return refused(run_ctx, run_ctx.stage, Unresolved(name="", message=built.failure()))
    if performer is None:
        from omnibase.drivers.sync import SyncDriver

        performer = SyncDriver()
    replayer = ReplayPerformer(performer, snapshot)
    report = run(built.unwrap(), initial_value(snapshot), run_ctx, replayer, observers=observers)
    return replayer.attach(report, source)


def _new_id() -> str:
    return os.urandom(8).hex()
