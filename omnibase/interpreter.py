"""The interpreter: walks a ``Step`` tree and asks a driver for every effect.

``interpret(step, value, ctx)`` is a generator. It yields intents (see
``omnibase.core.intents``) and receives their answers; when it returns, its value is the
``RunReport``. It owns retry counting, breaker transitions, skip logic and the assembly
of results, and does no I/O of its own: the same tree and the same answers give the same
report. It never lets an exception out: a ``KeyboardInterrupt`` thrown in by the driver
ends the run with a partial report, anything else becomes a typed error.

Sequences (``>>``) are flattened with an explicit stack, so chains of any length run
without recursion; nesting depth only grows with nested combinators.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator
from typing import Any, Final, TypeAlias

import msgspec
from returns.result import Failure, Success

from omnibase.core import policies as pol
from omnibase.core.gating import summarise
from omnibase.core.graph import Graph, NodeOutcome, decide
from omnibase.core.hooks import Hooked, Veto
from omnibase.core.intents import (
    NOW,
    WALL,
    BreakerChanged,
    Called,
    Cancelled,
    Fork,
    Intent,
    InvocationTimedOut,
    Invoke,
    RetryScheduled,
    Sleep,
)
from omnibase.core.step import (
    AllOf,
    Breaker,
    Component,
    DryRun,
    Fallback,
    Identity,
    Profile,
    Recover,
    Retry,
    Step,
    Then,
    Timeout,
    leaves,
)
from omnibase.core.types import input_error
from omnibase.core.values import (
    CircuitOpen,
    Crashed,
    ExecCtx,
    ExitCode,
    Failed,
    Interrupted,
    Misconfigured,
    ProtocolViolation,
    Raised,
    ResourceExceeded,
    RunReport,
    SandboxViolation,
    SecurityViolation,
    Skip,
    Status,
    StepError,
    StepResult,
    Summary,
    TimedOut,
    Unresolved,
)

__all__ = ["Evaluation", "interpret"]

#: What evaluating a sub-tree gives: (ok, output) or (False, error) or (False, PLANNED).
Outcome: TypeAlias = tuple[bool, Any]
Evaluation: TypeAlias = Generator[Intent, Any, Outcome]

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_ERRORS: Final = (
    Failed, Raised, ProtocolViolation, TimedOut, CircuitOpen, SecurityViolation, SandboxViolation,
    ResourceExceeded, Crashed, Misconfigured, Unresolved, Interrupted,
)  # fmt: skip
_TRANSIENT_EXC: Final = (TimeoutError, ConnectionError)


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

    __slots__ = ("ctx", "dry_ctx", "t0", "results", "breakers", "profile", "base", "count", "attempt")

    def __init__(self, ctx: ExecCtx, t0: int, base: int, breakers: dict[str, pol.BreakerState]) -> None:
        self.ctx = ctx
        self.dry_ctx: ExecCtx | None = None
        self.t0 = t0
        self.results: list[StepResult] = []
        self.breakers = breakers
        self.profile: list[tuple[str, float]] = []
        self.base = base
        self.count = 0
        self.attempt = 1  # the attempt of the innermost retry being evaluated

    def span(self) -> str:
        # base + count * odd constant (mod 2**64) is distinct for every count: unique ids
        # within a run at the cost of one multiplication.
        self.count += 1
        return f"{((self.base + self.count * _GOLDEN) & _MASK) or 1:016x}"

    def branch(self) -> _Run:
        return _Run(self.ctx, self.t0, _mix(self.base ^ (self.count + 1) ^ _GOLDEN), self.breakers)._after(self)

    def _after(self, parent: _Run) -> _Run:
        parent.count += 1
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
    handler = _HANDLERS.get(type(step))
    if handler is None:
        return _not_a_step(step)
    return handler(step, value, run, dry, limit)


def _not_a_step(step: object) -> Evaluation:
    raise TypeError(f"not a step: {step!r}")
    yield  # pragma: no cover - makes this a generator


def _identity(step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    return True, value
    yield  # pragma: no cover - makes this a generator


def _dry_run(step: DryRun[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    return (yield from _eval(step.inner, value, run, True, limit))


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
    ok, out = _classify(comp, called)
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


def _classify(comp: Component[Any, Any], called: Called) -> Outcome:
    """Turn what a call did into (True, value) or (False, typed error). Pure."""
    if called.error is not None:
        return False, called.error
    exc = called.raised
    if exc is not None:
        if isinstance(exc, InvocationTimedOut):
            return False, TimedOut(seconds=exc.seconds)
        return False, Raised(
            exc_type=type(exc).__name__,
            message=str(exc),
            transient=isinstance(exc, _TRANSIENT_EXC),
            traceback=called.traceback,
        )
    returned = called.returned
    if type(returned) is Success:
        out = returned._inner_value  # what unwrap() returns, without the method call
        check = comp.check
        if check is not None and not check(out) and type(out) is not Skip:  # Skip fits any type
            return False, ProtocolViolation(
                message=f"{comp.name} returned {type(out).__name__}, declared {comp.meta.output_type}"
            )
        return True, out
    if type(returned) is Failure:
        return False, _as_error(returned.failure())
    return False, ProtocolViolation(message=f"{comp.name} returned {type(returned).__name__}, not a Result")


def _as_error(error: object) -> StepError:
    if isinstance(error, _ERRORS):
        return error
    if isinstance(error, BaseException):
        return Raised(exc_type=type(error).__name__, message=str(error), transient=isinstance(error, _TRANSIENT_EXC))
    data = error if isinstance(error, (dict, list, tuple, int, float, bool)) else None
    return Failed(message=str(error), data=data)


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


def _retry(node: Retry[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    policy, mark, attempt, outer = node.policy, len(run.results), 0, run.attempt
    start: int | None = None
    if policy.deadline is not None and node.allowed:
        start = yield NOW
    while True:
        attempt += 1
        run.attempt = attempt
        inner = node.inner
        try:
            if type(inner) is Component:
                ok, out = yield from _leaf(inner, value, run, dry, limit)
            else:
                ok, out = yield from _eval(inner, value, run, dry, limit)
        finally:
            run.attempt = outer
        if ok or out is PLANNED or attempt >= policy.max_attempts or not _wants_retry(policy, out):
            break
        if not node.allowed:  # the rule stands, but the report says why there was no retry
            run.results[mark:] = [_not_retried(r) for r in run.results[mark:]]
            break
        delay = pol.backoff(policy, attempt, seed=run.ctx.seed, key=node.name)
        if start is not None and policy.deadline is not None:
            now: int = yield NOW
            if (now - start) / 1e9 + delay > policy.deadline:
                break
        yield RetryScheduled(name=node.name, attempt=attempt, delay=delay, error=out)
        yield Sleep(delay)
        del run.results[mark:]
    if attempt > 1:
        run.results[mark:] = [msgspec.structs.replace(r, attempts=attempt) for r in run.results[mark:]]
    return ok, out


def _not_retried(result: StepResult) -> StepResult:
    if result.status is not Status.FAIL or result.meta is None or result.meta.idempotent:
        return result
    why = "not retried: the component is not idempotent"
    return msgspec.structs.replace(result, reason=f"{result.reason}; {why}" if result.reason else why)


def _wants_retry(policy: pol.RetryPolicy, error: StepError) -> bool:
    try:
        return bool(policy.retry_on(error))
    except Exception:  # a broken predicate means "do not retry", never a crash
        return False


def _breaker(node: Breaker[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    key, policy = node.key, node.policy
    now: int = yield NOW
    state = run.breakers.get(key, pol.CLOSED)  # read after the clock: branches may move it meanwhile
    if not pol.admits(policy, state, now / 1e9):
        error = CircuitOpen(key=key)
        first = True
        for comp in leaves(node.inner):
            status, err, why = (Status.FAIL, error, "circuit open") if first else (Status.SKIP, None, "upstream step failed")
            result = StepResult(name=comp.name, status=status, span_id=run.span(), error=err, attempts=0, reason=why, meta=comp.meta)
            run.results.append(result)
            yield result
            first = False
        return False, error
    changed = _move(run, key, policy, pol.BreakerEvent.CALL, now)
    if changed is not None:
        yield changed
    inner = node.inner
    if type(inner) is Component:
        ok, out = yield from _leaf(inner, value, run, dry, limit)
    else:
        ok, out = yield from _eval(inner, value, run, dry, limit)
    if out is not PLANNED:
        now = yield NOW
        changed = _move(run, key, policy, pol.BreakerEvent.SUCCESS if ok else pol.BreakerEvent.FAILURE, now)
        if changed is not None:
            yield changed
    return ok, out


def _move(run: _Run, key: str, policy: pol.BreakerPolicy, event: pol.BreakerEvent, now: int) -> BreakerChanged | None:
    """Apply ``event`` to the breaker ``key``; the change of mode to report, if any."""
    before = run.breakers.get(key, pol.CLOSED)
    after = pol.transition(policy, before, event, now / 1e9)
    run.breakers[key] = after
    if after.mode is not before.mode:
        return BreakerChanged(key=key, before=before.mode, after=after.mode)
    return None


def _timeout(node: Timeout[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    seconds, mark = node.seconds, len(run.results)
    t0: int = yield NOW
    ok, out = yield from _eval(node.inner, value, run, dry, seconds if limit is None else min(limit, seconds))
    t1: int = yield NOW
    if ok and (t1 - t0) / 1e9 > seconds:
        error = TimedOut(seconds=seconds)
        if len(run.results) > mark:
            last = run.results[-1]
            run.results[-1] = msgspec.structs.replace(
                last, status=Status.FAIL, value=None, error=error, reason=f"{node.name} took longer than {seconds:g} s"
            )
        return False, error
    return ok, out


def _profile(node: Profile[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    t0: int = yield NOW
    ok, out = yield from _eval(node.inner, value, run, dry, limit)
    t1: int = yield NOW
    run.profile.append((node.name, (t1 - t0) / 1e9))
    return ok, out


def _recover(node: Recover[Any, Any] | Fallback[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    mark = len(run.results)
    ok, out = yield from _eval(node.inner, value, run, dry, limit)
    if ok or out is PLANNED:
        return ok, out
    run.results[mark:] = [
        msgspec.structs.replace(r, status=Status.WARN, reason="recovered") if r.status is Status.FAIL else r
        for r in run.results[mark:]
    ]
    if isinstance(node, Fallback):
        return (yield from _eval(node.alternative, value, run, dry, limit))
    try:
        return True, node.handler(out)
    except Exception as exc:
        return False, Raised(exc_type=type(exc).__name__, message=f"recover handler of {node.name}: {exc}")


def _all_of(node: AllOf[Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    runs = [run.branch() for _ in node.branches]
    answers: tuple[Outcome | None, ...] | None = None
    try:
        answers = yield Fork(
            tuple(_branch(b, value, r, dry, limit) for b, r in zip(node.branches, runs)), node.fail_fast
        )
    finally:  # even when interrupted, keep what the branches recorded, in branch order
        why = "interrupted" if answers is None else "an earlier branch failed"
        for i, r in enumerate(runs):
            run.results.extend(r.results)
            run.profile.extend(r.profile)
            if answers is None or answers[i] is None:  # not run, cancelled, or interrupted
                _skip_rest(node.branches[i], r, run, why)
    assert answers is not None
    outs = [a for a in answers if a is not None]
    for ok, out in outs:
        if not ok and out is not PLANNED:
            return False, out
    if any(out is PLANNED for _, out in outs):
        return False, PLANNED
    return True, tuple(out for _, out in outs)


def _skip_rest(branch: Step[Any, Any], done: _Run, run: _Run, reason: str) -> None:
    """Record the leaves of ``branch`` that have no result yet as SKIP (``reason``)."""
    seen: dict[str, int] = {}
    for res in done.results:
        seen[res.name] = seen.get(res.name, 0) + 1
    for comp in leaves(branch):
        if seen.get(comp.name, 0):
            seen[comp.name] -= 1
        else:
            run.results.append(_skipped(comp, run, reason))


def _branch(step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Generator[Intent, Any, Outcome | None]:
    """One ``Fork`` branch, total: a bug in it is a ``Raised`` value, a cancellation None."""
    try:
        ok, out = yield from _eval(step, value, run, dry, limit)
    except Cancelled:
        return None
    except Exception as exc:
        return False, Raised(exc_type=type(exc).__name__, message=f"internal error: {exc}")
    # A planned branch (dry-run) did not fail: it must not stop its siblings under fail-fast.
    return (True, out) if out is PLANNED else (ok, out)


# --- graphs ------------------------------------------------------------------------------


class _Failures:
    """The failures a graph has seen so far, shared by its branches (``maxfail``, ``-x``)."""

    __slots__ = ("count", "limit", "why")

    def __init__(self, limit: int | None, why: str) -> None:
        self.count = 0
        self.limit = limit
        self.why = why

    def stopped(self) -> bool:
        return self.limit is not None and self.count >= self.limit


_SKIPPED: Final[Outcome] = (True, None)


def _graph(node: Graph, value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    """A ready-set loop: every node whose dependencies are decided is decided too (skipped,
    with the reason, or run); the ones to run are forked together, so an asynchronous
    performer runs independent nodes in parallel."""
    if node.fail_fast:
        fails = _Failures(1, "stopped after the first failure (-x)")
    else:
        fails = _Failures(node.maxfail, f"stopped after {node.maxfail} failures (--maxfail)")
    outcome: dict[str, NodeOutcome] = {}
    outputs: dict[str, Any] = {}
    error: Any = None
    planned = False
    order = {n.name: i for i, n in enumerate(node.nodes)}
    users: dict[str, list[Any]] = {n.name: [] for n in node.nodes}
    waiting = {n.name: len(n.needs) for n in node.nodes}
    for n in node.nodes:
        for d in n.needs:
            users[d].append(n)
    ready = [n for n in node.nodes if not n.needs]
    try:
        while ready:  # Kahn's algorithm, one wave at a time, in declaration order
            runnable = []
            for n in ready:
                why = n.skip or decide(n.when, {d: outcome[d] for d in n.needs})
                if why is None and fails.stopped():
                    why = fails.why
                if why is None and node.flow and any(outputs.get(d) is PLANNED for d in n.needs):
                    yield from _skip(n.step, run, "dry-run: not run")  # its input is only planned
                    outcome[n.name], outputs[n.name], planned = NodeOutcome.SUCCEEDED, PLANNED, True
                elif why is None:
                    runnable.append(n)
                else:
                    yield from _skip(n.step, run, why)
                    outcome[n.name] = NodeOutcome.SKIPPED
            if not runnable:
                ready = _next_wave(ready, users, waiting, order)
                continue
            if len(runnable) == 1:
                only = runnable[0]
                answers: tuple[Outcome | None, ...] = (
                    (yield from _graph_branch(only.step, node.input_of(only, value, outputs), run, dry, limit, fails)),
                )
            else:
                runs = [run.branch() for _ in runnable]
                got: tuple[Outcome | None, ...] | None = None
                try:
                    got = yield Fork(
                        tuple(
                            _graph_branch(n.step, node.input_of(n, value, outputs), r, dry, limit, fails)
                            for n, r in zip(runnable, runs)
                        ),
                        node.fail_fast,
                    )
                finally:
                    why = "interrupted" if got is None else fails.why
                    for i, r in enumerate(runs):
                        run.results.extend(r.results)
                        run.profile.extend(r.profile)
                        if got is None or got[i] is None:
                            _skip_rest(runnable[i].step, r, run, why)
                assert got is not None
                answers = got
            for n, answer in zip(runnable, answers):
                if answer is None or answer is _SKIPPED:
                    outcome[n.name] = NodeOutcome.SKIPPED
                elif answer[0] or answer[1] is PLANNED:
                    outcome[n.name] = NodeOutcome.SUCCEEDED
                    outputs[n.name] = answer[1]
                    planned = planned or answer[1] is PLANNED
                else:
                    outcome[n.name] = NodeOutcome.FAILED
                    error = answer[1] if error is None else error
            ready = _next_wave(ready, users, waiting, order)
    except KeyboardInterrupt:  # the report still lists the nodes never decided
        for n in node.nodes:
            if n.name not in outcome and not any(r.name == n.name for r in run.results):
                _skip_now(n.step, run, "interrupted")
        raise
    if error is not None:
        return False, error
    return (False, PLANNED) if planned else (True, node.output_of(outputs))


def _next_wave(wave: list[Any], users: dict[str, list[Any]], waiting: dict[str, int], order: dict[str, int]) -> list[Any]:
    """The nodes whose last undecided dependency was in ``wave``, in declaration order."""
    out = []
    for n in wave:
        for user in users[n.name]:
            waiting[user.name] -= 1
            if waiting[user.name] == 0:
                out.append(user)
    out.sort(key=lambda u: order[u.name])
    return out


def _graph_branch(
    step: Step[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None, fails: _Failures
) -> Generator[Intent, Any, Outcome | None]:
    """One node: SKIP when the graph has stopped meanwhile, else the step; counts failures."""
    if fails.stopped():
        yield from _skip(step, run, fails.why)
        return _SKIPPED
    answer = yield from _branch(step, value, run, dry, limit)
    if answer is not None and not answer[0]:
        fails.count += 1
    return answer


# --- hooks -------------------------------------------------------------------------------


def _hooked(node: Hooked[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    """Pre-hooks (each may veto: the step is then SKIP with the reason), the step, then
    post-hooks with its results. A hook that fails is a FAIL result of its own."""
    comps = list(leaves(node.inner))
    meta = comps[0].meta if len(comps) == 1 else None
    for hook in node.pre:
        ok, out = yield from _call_hook(hook, (meta, value), run, dry)
        if not ok:
            yield from _skip(node.inner, run, f"pre-hook {hook.name} failed")
            return False, out
        if type(out) is Veto:
            yield from _skip(node.inner, run, f"vetoed by {hook.name}: {out.reason}")
            return True, None
    mark = len(run.results)
    ok, out = yield from _eval(node.inner, value, run, dry, limit)
    done = tuple(run.results[mark:])
    for hook in node.post:
        hook_ok, hook_out = yield from _call_hook(hook, done, run, dry)
        if not hook_ok and ok:
            ok, out = False, hook_out
    return ok, out


def _call_hook(hook: Component[Any, Any], value: Any, run: _Run, dry: bool) -> Evaluation:
    """Invoke a hook like a component; only a failing hook leaves a result in the report.
    A dry run does not run hooks that are not pure (and they veto nothing)."""
    if dry and not hook.meta.pure:
        return True, None
    span = run.span()
    called: Called = yield Invoke(hook, run.context(dry) if dry else run.ctx, value, None, span, 1)
    ok, out = _classify(hook, called)
    if ok:
        return True, out
    result = StepResult(
        name=hook.name, status=Status.FAIL, span_id=span, error=out, reason="hook failed",
        offset_s=(called.started - run.t0) / 1e9, duration_s=(called.ended - called.started) / 1e9, meta=hook.meta,
    )  # fmt: skip
    run.results.append(result)
    yield result
    return False, out


_HANDLERS: Final[dict[type, Callable[..., Evaluation]]] = {
    Component: _leaf,
    Then: _then,
    Identity: _identity,
    Retry: _retry,
    Breaker: _breaker,
    AllOf: _all_of,
    Timeout: _timeout,
    Profile: _profile,
    DryRun: _dry_run,
    Recover: _recover,
    Fallback: _recover,
    Graph: _graph,
    Hooked: _hooked,
}


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


def exit_code(results: tuple[StepResult, ...], status: Status, outcome: str, error: StepError | None) -> ExitCode:
    """The spec's exit code for a finished run: interrupted beats security beats resolution
    beats configuration beats protocol beats plain failure."""
    if outcome == "interrupted":
        return ExitCode.INTERRUPTED
    errors = [r.error for r in results if r.status is Status.FAIL] + ([error] if error is not None else [])
    if any(isinstance(e, (SecurityViolation, SandboxViolation, ResourceExceeded)) for e in errors):
        return ExitCode.SECURITY
    if any(isinstance(e, Unresolved) for e in errors):
        return ExitCode.REGISTRY
    if any(isinstance(e, Misconfigured) for e in errors):
        return ExitCode.CONFIG
    if any(isinstance(e, ProtocolViolation) for e in errors):
        return ExitCode.PROTOCOL
    if status is Status.FAIL:
        return ExitCode.FAILED
    return ExitCode.OK
