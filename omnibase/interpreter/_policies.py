"""The handlers of the resilience wrappers: retry, breaker, timeout, profile, recover and
fallback. Each evaluates its inner step through the walk and decides from the answers."""

from __future__ import annotations

from typing import Any

import msgspec

from omnibase.core import policies as pol
from omnibase.core.intents import NOW, WALL, BreakerChanged, RetryScheduled, Sleep
from omnibase.core.step import Breaker, Component, Fallback, Profile, Recover, Retry, Timeout, leaves
from omnibase.core.values import CircuitOpen, Raised, Status, StepError, StepResult, TimedOut
from omnibase.interpreter._walk import Evaluation, PLANNED, _eval, _leaf, _Run, handles


@handles(Retry)
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
        if type(inner) is Breaker:  # an open breaker stops retrying: the next attempt would not run
            when: float = yield WALL
            if not pol.admits(inner.policy, run.breakers.get(inner.key, pol.CLOSED), when + delay):
                run.results[mark:] = [_stopped_by(r, inner.key) for r in run.results[mark:]]
                break
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


def _stopped_by(result: StepResult, key: str) -> StepResult:
    if result.status is not Status.FAIL:
        return result
    why = f"not retried: circuit breaker {key!r} opened"
    return msgspec.structs.replace(result, reason=f"{result.reason}; {why}" if result.reason else why)


def _wants_retry(policy: pol.RetryPolicy, error: StepError) -> bool:
    try:
        return bool(policy.retry_on(error))
    except Exception:  # a broken predicate means "do not retry", never a crash
        return False


@handles(Breaker)
def _breaker(node: Breaker[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    """Breaker times are wall-clock seconds (``WALL``): a breaker's state may outlive the
    process (``omnibase._io.breakers``), and a monotonic clock means nothing to the next."""
    key, policy = node.key, node.policy
    now: float = yield WALL
    state = run.breakers.get(key, pol.CLOSED)  # read after the clock: branches may move it meanwhile
    if not pol.admits(policy, state, now):
        error = CircuitOpen(key=key, probe_at=pol.probe_at(policy, state))
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
        now = yield WALL
        event = pol.BreakerEvent.SUCCESS if ok or not pol.counts(policy, out) else pol.BreakerEvent.FAILURE
        changed = _move(run, key, policy, event, now)
        if changed is not None:
            yield changed
    return ok, out


def _move(run: _Run, key: str, policy: pol.BreakerPolicy, event: pol.BreakerEvent, now: float) -> BreakerChanged | None:
    """Apply ``event`` to the breaker ``key``; the change of mode to report, if any."""
    before = run.breakers.get(key, pol.CLOSED)
    after = pol.transition(policy, before, event, now)
    run.breakers[key] = after
    if after.mode is not before.mode:
        return BreakerChanged(key=key, before=before.mode, after=after.mode)
    return None


@handles(Timeout)
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


@handles(Profile)
def _profile(node: Profile[Any, Any], value: Any, run: _Run, dry: bool, limit: float | None) -> Evaluation:
    t0: int = yield NOW
    ok, out = yield from _eval(node.inner, value, run, dry, limit)
    t1: int = yield NOW
    run.profile.append((node.name, (t1 - t0) / 1e9))
    return ok, out


@handles(Recover, Fallback)
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
