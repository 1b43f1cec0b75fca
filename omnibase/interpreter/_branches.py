"""The handlers of the nodes with branches: ``all_of`` (one ``Fork``), graphs (a ready-set
loop of ``Fork``s, with skip logic) and hooks around a step."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final

from omnibase.core.graph import Graph, NodeOutcome, decide
from omnibase.core.hooks import Hooked, Veto
from omnibase.core.intents import Called, Cancelled, Fork, Intent, Invoke
from omnibase.core.step import AllOf, Component, Step, leaves
from omnibase.core.values import Raised, Status, StepResult
from omnibase.core.outcomes import classify
from omnibase.interpreter._walk import Evaluation, Outcome, PLANNED, _eval, _Run, _skip, _skip_now, _skipped, handles


@handles(AllOf)
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


@handles(Graph)
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


@handles(Hooked)
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
    ok, out = classify(hook, called)
    if ok:
        return True, out
    result = StepResult(
        name=hook.name, status=Status.FAIL, span_id=span, error=out, reason="hook failed",
        offset_s=(called.started - run.t0) / 1e9, duration_s=(called.ended - called.started) / 1e9, meta=hook.meta,
    )  # fmt: skip
    run.results.append(result)
    yield result
    return False, out
