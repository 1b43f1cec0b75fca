"""The walk: evaluating a node is a table lookup (``HANDLERS``: each handler module
registers the node kinds it evaluates with ``@handles``); here are the run's state, the
leaf (one ``Invoke``), the sequence, skips and the report (a call's answer is classified by
``core.outcomes``).

Sequences (``>>``) are flattened with an explicit stack, so chains of any length run
without recursion; nesting depth only grows with nested combinators.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator
from typing import Any, Final, TypeAlias, TypeVar

import msgspec
from omnibase.core import policies as pol
from omnibase.core.gating import summarise
from omnibase.core.intents import NOW, WALL, Called, Cancelled, Intent, Invoke
from omnibase.core.step import Component, DryRun, Identity, Step, Then, leaves
from omnibase.core.outcomes import Outcome, classify, exit_code
from omnibase.core.types import input_error
from omnibase.core.values import ExecCtx, Interrupted, ProtocolViolation, Raised, RunReport, Skip, Status, StepResult

__all__ = ["HANDLERS", "PLANNED", "Evaluation", "Outcome", "handles", "interpret"]

#: What evaluating a sub-tree gives: (ok, output) or (False, error) or (False, PLANNED).
Evaluation: TypeAlias = Generator[Intent, Any, Outcome]
Handler = TypeVar("Handler", bound=Callable[..., Evaluation])

#: The handler of every node kind: ``(node, value, run, dry, limit) -> Evaluation``.
HANDLERS: Final[dict[type, Callable[..., Evaluation]]] = {}


def handles(*kinds: type) -> Callable[[Handler], Handler]:
    """Make the decorated function the handler of each node kind in ``kinds``."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = handler
        return handler

    return register


_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15


class _Planned:
    """The output of a step that dry-run did not invoke: downstream steps are planned too."""

    def __repr__(self) -> str:
        return "PLANNED"


PLANNED: Final = _Planned()


def _mix(x: int) -> int:
    """splitmix64's finaliser: spreads a counter over 64 bits, bijectively."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class _Run:
    """The state one evaluation threads: results so far, breakers, profile, span ids."""

    __slots__ = ("ctx", "dry_ctx", "t0", "results", "breakers", "profile", "base", "count", "cur", "attempt")

    def __init__(self, ctx: ExecCtx, t0: int, base: int, breakers: dict[str, pol.BreakerState]) -> None:
        self.ctx = ctx
        self.dry_ctx: ExecCtx | None = None
        self.t0 = t0
        self.results: list[StepResult] = []
        self.breakers = breakers
        self.profile: list[tuple[str, float]] = []
        self.base = base
        self.count = 0
        self.cur = base & _MASK  # base + count * _GOLDEN (mod 2**64), kept by addition
        self.attempt = 1  # the attempt of the innermost retry being evaluated

    def span(self) -> str:
        # base + count * odd constant (mod 2**64) is distinct for every count: unique ids
        # within a run at the cost of one addition ("%" formats faster than an f-string
        # spec: this is on every invocation).
        self.count += 1
        self.cur = cur = (self.cur + _GOLDEN) & _MASK
        return "%016x" % (cur or 1)

    def branch(self) -> _Run:
        return _Run(self.ctx, self.t0, _mix(self.base ^ (self.count + 1) ^ _GOLDEN), self.breakers)._after(self)

    def _after(self, parent: _Run) -> _Run:
        parent.count += 1
        parent.cur = (parent.cur + _GOLDEN) & _MASK
        self.dry_ctx = parent.dry_ctx
        self.attempt = parent.attempt
        return self

    def context(self, dry: bool) -> ExecCtx:
        if not dry:
            return self.ctx
        if self.dry_ctx is None:
            self.dry_ctx = msgspec.structs.replace(self.ctx, dry_run=True)
        return self.dry_ctx


def interpret(
    step: Step[Any, Any],
    value: Any,
    ctx: ExecCtx,
    *,
    breakers: dict[str, pol.BreakerState] | None = None,
) -> Generator[Intent, Any, RunReport]:
    """Evaluate ``step`` on ``value``; yields intents, returns the ``RunReport``.

    ``breakers`` carries breaker state in and out (it is updated in place), for callers
    that keep breakers across runs; by default every run starts with closed breakers.
    """
    started_at: float = yield WALL
    t0: int = yield NOW
    run = _Run(ctx, t0, _span_seed(ctx.trace_id, ctx.run_id), breakers if breakers is not None else {})
    outcome = "completed"
    try:
        problem = input_error(step, value)  # the pipeline's entry checks its input's declared type
        ok: bool
        out: Any
        if problem is not None:
            ok, out = False, ProtocolViolation(message=problem)
        else:
            ok, out = yield from _eval(step, value, run, False, None)
    except KeyboardInterrupt:
        ok, out, outcome = False, Interrupted(), "interrupted"
    except Exception as exc:  # a bug of ours must still end in a report, never a traceback
        ok, out = False, Raised(exc_type=type(exc).__name__, message=f"internal error: {exc}")
    t1: int = yield NOW
    return _report(run, ok, out, outcome, started_at, (t1 - t0) / 1e9)


def _span_seed(trace_id: str, run_id: str) -> int:
    """Span ids derive from the trace id and the run id: fixed ids give fixed span ids, and
    two runs joining one trace (the same ``TRACEPARENT``) get different ones."""
    try:
        seed = int(trace_id[-16:], 16)
    except ValueError:
        seed = zlib.crc32(trace_id.encode())
    return seed ^ _mix(zlib.crc32(run_id.encode()))


# --- evaluation -----------------------------------------------------------------------------


def _eval(step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    """The evaluation of any node: a table lookup, so no extra generator frame per node."""
    handler = HANDLERS.get(type(step))
    if handler is None:
        return _not_a_step(step)
    return handler(step, value, run, dry, limit)


def _not_a_step(step: object) -> Evaluation:
    raise TypeError(f"not a step: {step!r}")
    yield  # pragma: no cover - makes this a generator


@handles(Identity)
def _identity(step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    return True, value
    yield  # pragma: no cover - makes this a generator


@handles(DryRun)
def _dry_run(step: DryRun[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    return (yield from _eval(step.inner, value, run, True, limit))


@handles(Then)
def _then(step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    chain: list[Step[Any, Any]] = []
    stack: list[Step[Any, Any]] = [step]
    while stack:  # flatten nested Then nodes, left to right, without recursion
        node = stack.pop()
        if type(node) is Then:
            stack.append(node.second)
            stack.append(node.first)
        else:
            chain.append(node)
    for i, node in enumerate(chain):
        try:
            if type(node) is Component:  # the common case, without a second generator frame
                ok, value = yield from _leaf(node, value, run, dry, limit)
            else:
                ok, value = yield from _eval(node, value, run, dry, limit)
        except KeyboardInterrupt:  # the report still lists the steps that never ran
            for rest in chain[i + 1 :]:
                _skip_now(rest, run, "interrupted")
            raise
        if not ok:
            reason = "dry-run: not run" if value is PLANNED else "upstream step failed"
            for rest in chain[i + 1 :]:
                yield from _skip(rest, run, reason)
            return False, value
    return True, value


@handles(Component)
def _leaf(comp: Component[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    meta = comp.meta
    if dry and not meta.pure:
        yield from _skip(comp, run, "dry-run: not run")
        return False, PLANNED
    if meta.timeout is not None and (limit is None or meta.timeout < limit):
        limit = meta.timeout
    span, attempt = run.span(), run.attempt
    try:  # the loop tells observers ``Started`` from this Invoke: no round trip of our own
        called: Called = yield Invoke(comp, run.context(dry) if dry else run.ctx, value, limit, span, attempt)
    except KeyboardInterrupt:
        run.results.append(_interrupted(comp, span, attempt))
        raise
    except Cancelled as stop:
        run.results.append(
            _interrupted(comp, span, attempt)
            if stop.interrupted
            else StepResult(
                name=comp.name, status=Status.SKIP, span_id=span, attempts=attempt,
                reason="cancelled: another branch failed", meta=meta,
            )
        )  # fmt: skip
        raise
    ok, out = classify(comp, called)
    reason = ""
    status = Status.PASS if ok else Status.FAIL
    if type(out) is Skip:  # planned: the dry-run performer did not call it, nor what needs it
        status, reason, out = Status.SKIP, out.reason, (PLANNED if out.planned else None)
        ok = out is None
    result = StepResult(
        name=comp.name,
        status=status,
        reason=reason,
        span_id=span,
        attempts=attempt,
        value=out if ok else None,
        error=None if ok or status is Status.SKIP else out,
        offset_s=(called.started - run.t0) / 1e9,
        duration_s=(called.ended - called.started) / 1e9,
        meta=meta,
        output=called.output,
    )
    run.results.append(result)
    yield result
    return ok, out


def _interrupted(comp: Component[Any, Any], span: str, attempt: int) -> StepResult:
    return StepResult(name=comp.name, status=Status.FAIL, span_id=span, attempts=attempt, error=Interrupted(), meta=comp.meta)


def _skipped(comp: Component[Any, Any], run: _Run, reason: str) -> StepResult:
    return StepResult(name=comp.name, status=Status.SKIP, span_id=run.span(), attempts=0, reason=reason, meta=comp.meta)


def _skip_now(step: Step[Any, Any], run: _Run, reason: str) -> None:
    """Record every leaf of ``step`` as SKIP, without telling observers (the run is ending)."""
    run.results.extend(_skipped(comp, run, reason) for comp in leaves(step))


def _skip(step: Step[Any, Any], run: _Run, reason: str) -> Generator[Intent, Any, None]:
    for comp in leaves(step):
        result = _skipped(comp, run, reason)
        run.results.append(result)
        yield result



# --- the report ------------------------------------------------------------------------------


def _report(run: _Run, ok: bool, out: Any, outcome: str, started_at: float, duration: float) -> RunReport:
    results = tuple(run.results)
    summary = summarise(results, not ok and out is not PLANNED)
    status = summary.status
    return RunReport(
        steps=results,
        summary=summary,
        exit_code=int(exit_code(results, status, outcome, None if ok or out is PLANNED else out)),
        run_id=run.ctx.run_id,
        trace_id=run.ctx.trace_id,
        stage=run.ctx.stage,
        started_at=started_at,
        duration_s=duration,
        outcome="interrupted" if outcome == "interrupted" else "completed",
        output=out if ok else None,
        error=None if ok or out is PLANNED else out,
        profile=tuple(run.profile),
    )
