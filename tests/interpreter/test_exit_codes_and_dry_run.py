"""The run's exit code with several kinds of error at once, and what dry-run hands to pure
components: each written to fail on a bug that once survived the rest of the suite."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase import (
    CircuitOpen,
    Crashed,
    ExecCtx,
    Failed,
    FakeDriver,
    Misconfigured,
    ProtocolViolation,
    Raised,
    ResourceExceeded,
    RetryPolicy,
    SandboxViolation,
    SecurityViolation,
    Step,
    TimedOut,
    Unresolved,
    all_of,
    component,
    dry_run,
    recover,
    retry,
    run,
)
from omnibase.core.values import Meta, StepError
from omnibase.core.step import Component
from omnibase.testing import fake_ctx

#: One error of every kind, and the exit code it calls for on its own.
KINDS: dict[str, tuple[StepError, int]] = {
    "failed": (Failed(message="f"), 1),
    "raised": (Raised(exc_type="KeyError", message="k"), 1),
    "timeout": (TimedOut(seconds=1.0), 1),
    "circuit": (CircuitOpen(key="c"), 1),
    "crashed": (Crashed(cause="killed by SIGSEGV"), 1),
    "protocol": (ProtocolViolation(message="p"), 4),
    "config": (Misconfigured(message="m"), 2),
    "registry": (Unresolved(name="n", message="u"), 3),
    "security": (SecurityViolation(message="s"), 5),
    "sandbox": (SandboxViolation(action="write"), 5),
    "resource": (ResourceExceeded(resource="memory"), 5),
}
#: The spec's precedence, most important first: security, resolution, configuration, protocol.
PRECEDENCE = [5, 3, 2, 4, 1]


def _failing(kind: str, i: int) -> Component[int, int]:
    error = KINDS[kind][0]

    def fn(ctx: ExecCtx, x: int) -> Result[int, StepError]:
        return Failure(error)

    return Component(fn, Meta(name=f"{kind}-{i}"))


def _passing(i: int) -> Component[int, int]:
    return Component(lambda ctx, x: Success(x), Meta(name=f"ok-{i}"))


def expected_exit_code(kinds: list[str]) -> int:
    codes = {KINDS[k][1] for k in kinds}
    return next((code for code in PRECEDENCE if code in codes), 0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*KINDS, "ok"]), min_size=1, max_size=7),
    st.lists(st.sampled_from(list(KINDS)), max_size=3),
)
def test_exit_code_is_the_highest_ranked_error_of_the_run(kinds: list[str], recovered: list[str]) -> None:
    branches: list[Step[int, int]] = [_passing(i) if k == "ok" else _failing(k, i) for i, k in enumerate(kinds)]
    # Recovered failures are warnings: they never decide the exit code.
    branches += [recover(_failing(k, 100 + i), lambda e: 0) for i, k in enumerate(recovered)]
    report = run(all_of(branches), 0, fake_ctx(), FakeDriver())
    assert report.exit_code == expected_exit_code([k for k in kinds if k != "ok"])


def test_configuration_does_not_outrank_registry_resolution() -> None:
    report = run(all_of(_failing("config", 0), _failing("registry", 1), _failing("protocol", 2)), 0, fake_ctx())
    assert report.exit_code == 3
    report = run(all_of(_failing("protocol", 0), _failing("config", 1)), 0, fake_ctx())
    assert report.exit_code == 2


# --- dry-run ------------------------------------------------------------------------------


def _recording(name: str, pure: bool, seen: list[tuple[str, bool]]) -> Component[int, int]:
    def fn(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        seen.append((name, ctx.dry_run))
        return Success(x + 1)

    return Component(fn, Meta(name=name, pure=pure, idempotent=True))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=6), st.sampled_from(["chain", "all_of", "retry"]))
def test_pure_components_under_dry_run_see_dry_run_true_and_others_never_run(pure: list[bool], shape: str) -> None:
    seen: list[tuple[str, bool]] = []
    comps = [_recording(f"c{i}", p, seen) for i, p in enumerate(pure)]
    inner: Step[int, Any]
    if shape == "chain":
        inner = comps[0]
        for comp in comps[1:]:
            inner = inner >> comp
        # In a chain, a non-pure step is planned and everything after it is planned too.
        first_impure = next((i for i, p in enumerate(pure) if not p), len(pure))
        expected = [f"c{i}" for i in range(first_impure)]
    elif shape == "all_of":
        inner = all_of(comps)
        expected = [f"c{i}" for i, p in enumerate(pure) if p]
    else:  # a planned branch is not a failure: even fail_fast runs the pure siblings after it
        inner = all_of([retry(c, RetryPolicy(max_attempts=2)) for c in comps], fail_fast=True)
        expected = [f"c{i}" for i, p in enumerate(pure) if p]
    report = run(dry_run(inner), 0, fake_ctx(), FakeDriver())
    assert seen == [(name, True) for name in expected]
    assert report.exit_code == 0
    # And outside dry_run the same components see dry_run=False.
    seen.clear()
    run(comps[0], 0, fake_ctx(), FakeDriver())
    assert seen == [("c0", False)]
