"""Stage gating: a policy (plain data) decides whether a stage may run and how its
outcome counts. Every function here is pure: the same policy, history and results give
the same decisions, each recorded with its reason (``GateDecision``).

- ``requires``: stages that must have passed for the same tree (e.g. ``ci`` requires
  ``pre-commit``); the history is the per-tree record of stage outcomes.
- ``deprecated: warn``: a failing deprecated component is WARN, not FAIL.
- ``experimental: warn``: a failing experimental component is WARN and does not fail the stage.
- ``max_failures`` / ``max_failure_percent``: the stage fails only when more than N, or
  more than P% of the components that ran, fail (either limit, when both are given);
  with neither, any failure fails the stage.
- ``lifecycles``: only components with one of these lifecycles run; the rest are SKIP.

>>> policy = GatePolicy(requires=("pre-commit",))
>>> admit(policy, "ci", {"pre-commit": "FAIL"}).verdict
'refuse'
>>> admit(policy, "ci", {"pre-commit": "PASS"}).verdict
'run'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from omnibase.core.values import GateDecision, Lifecycle, Meta, Status, StepResult, Summary

__all__ = ["GatePolicy", "Judgement", "admit", "admit_component", "judge", "passed", "stage_fails"]

#: The reason of the decision to run a stage whose policy requires no other stage.
NO_REQUIREMENT = "no requirement"
#: The outcomes that count as "passed" for ``requires``.
PASSING = frozenset({"PASS", "WARN"})


class GatePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stage's gating policy (``stages.NAME.gate`` in the registry file)."""

    requires: tuple[str, ...] = ()
    deprecated: Literal["fail", "warn"] = "fail"
    experimental: Literal["fail", "warn"] = "fail"
    max_failures: int | None = None
    max_failure_percent: float | None = None
    lifecycles: tuple[Lifecycle, ...] | None = None


class Judgement(msgspec.Struct, frozen=True, kw_only=True):
    """What a policy made of a stage's results: the results (failures it downgraded are
    WARN with the reason), the stage's verdict, and every decision with its reason."""

    results: tuple[StepResult, ...]
    failed: bool
    decisions: tuple[GateDecision, ...]


def passed(history: Mapping[str, str], stage: str) -> bool:
    """Whether ``stage`` passed, per the per-tree history (stage -> status)."""
    return history.get(stage, "") in PASSING


def admit(policy: GatePolicy, stage: str, history: Mapping[str, str]) -> GateDecision:
    """May ``stage`` run? Monotone: a history with more passed stages never refuses what a
    history with fewer admitted."""
    missing = [s for s in policy.requires if not passed(history, s)]
    if missing:
        said = ", ".join(f"{s} ({history[s]})" if s in history else f"{s} (never ran)" for s in missing)
        return GateDecision(
            subject=stage, verdict="refuse", rule="requires", reason=f"requires a passing {said} for the same tree"
        )
    why = f"required stages passed for this tree: {', '.join(policy.requires)}" if policy.requires else NO_REQUIREMENT
    return GateDecision(subject=stage, verdict="run", rule="requires", reason=why)


def admit_component(policy: GatePolicy, meta: Meta) -> GateDecision | None:
    """None when the component may run; else the decision that gates it out by lifecycle."""
    if policy.lifecycles is None or meta.lifecycle in policy.lifecycles:
        return None
    allowed = ", ".join(lc.value for lc in policy.lifecycles) or "none"
    return GateDecision(
        subject=meta.name, verdict="skip", rule="lifecycles",
        reason=f"gated by lifecycle: {meta.lifecycle.value} is not one of {allowed}",
    )  # fmt: skip


def stage_fails(policy: GatePolicy, failures: int, ran: int) -> bool:
    """The threshold rule: more than ``max_failures`` failures, or more than
    ``max_failure_percent`` of the components that ran. Monotone in ``failures``."""
    count, pct = policy.max_failures, policy.max_failure_percent
    if count is None and pct is None:
        count = 0
    if count is not None and failures > count:
        return True
    return pct is not None and ran > 0 and 100.0 * failures / ran > pct


def _downgrade(policy: GatePolicy, result: StepResult) -> tuple[StepResult, GateDecision | None]:
    if result.status is not Status.FAIL or result.meta is None:
        return result, None
    lifecycle = result.meta.lifecycle
    if lifecycle is Lifecycle.DEPRECATED and policy.deprecated == "warn":
        why = "deprecated: a failure warns instead of failing"
    elif lifecycle is Lifecycle.EXPERIMENTAL and policy.experimental == "warn":
        why = "experimental: may fail without failing the stage"
    else:
        return result, None
    reason = f"{result.reason}; {why}" if result.reason else why
    return (
        msgspec.structs.replace(result, status=Status.WARN, reason=reason),
        GateDecision(subject=result.name, verdict="warn", rule=lifecycle.value, reason=why),
    )


def judge(policy: GatePolicy, stage: str, results: Sequence[StepResult]) -> Judgement:
    """Apply the policy to a stage's results."""
    out: list[StepResult] = []
    decisions: list[GateDecision] = []
    for r in results:
        new, decision = _downgrade(policy, r)
        out.append(new)
        if decision is not None:
            decisions.append(decision)
    failures = sum(1 for r in out if r.status is Status.FAIL)
    ran = sum(1 for r in out if r.status is not Status.SKIP)
    fails = stage_fails(policy, failures, ran)
    limits = [f"at most {policy.max_failures}"] if policy.max_failures is not None else []
    if policy.max_failure_percent is not None:
        limits.append(f"at most {policy.max_failure_percent:g}%")
    limit = " and ".join(limits) or "none"
    verdict = "fail" if fails else "pass"
    decisions.append(
        GateDecision(
            subject=stage, verdict=verdict, rule="max_failures",
            reason=f"{failures} of {ran} components failed ({limit} allowed)",
        )  # fmt: skip
    )
    return Judgement(results=tuple(out), failed=fails, decisions=tuple(decisions))


def summarise(results: Sequence[StepResult], failed: bool, *, tolerated: bool = False) -> Summary:
    """The counts of ``results`` and the verdict: FAIL when ``failed`` or when a result
    failed (unless the policy ``tolerated`` it), else WARN if anything failed or warned,
    else PASS (SKIP when all skipped). One pass over the results."""
    counts = {s: 0 for s in Status}
    for r in results:
        counts[r.status] += 1
    if failed or (counts[Status.FAIL] and not tolerated):
        status = Status.FAIL
    elif counts[Status.FAIL] or counts[Status.WARN]:
        status = Status.WARN
    elif results and counts[Status.SKIP] == len(results):
        status = Status.SKIP
    else:
        status = Status.PASS
    return Summary(
        status=status, total=len(results), passed=counts[Status.PASS], failed=counts[Status.FAIL],
        warned=counts[Status.WARN], skipped=counts[Status.SKIP],
    )  # fmt: skip
