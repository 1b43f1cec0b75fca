"""Every performer gives the same report and exit code, and so does replaying its recording.

A generated pipeline holds one component of every answer a component can give (a value, a
skip, a plain failure, a raise, a transient raise, a timeout, a non-``Result``, a value of
the wrong type, and each typed error: crashed, resource exceeded, security and sandbox
violations, misconfigured, unresolved), one circuit that opens, and the skips that failures
cause downstream, arranged at random in sequences, ``all_of``, ``retry``, ``recover`` and
``fallback``. It runs under the inline performer, the asyncio one, worker processes and a
Dask cluster; each run's reports must be equal apart from timings and tracebacks (a
traceback names the frames of whoever called the component), and each run replayed from its
own recording must give that report again.

The components are values of a class in a module written for the test (``Scripted``): a
worker process and a Dask worker rebuild them from their fields, as they do the built-in
checks. Errors a performer can only observe where it runs in a process of its own (a crash,
a broken limit, a sandbox refusal) are returned as typed errors here, so that every
performer meets them: one classification (``omnibase.core.outcomes``) must report them alike.

``max_examples`` is small so that this runs in seconds (one Dask cluster and one worker
pool for the module); ``pytest -m slow`` runs a longer search.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnibase.core.combinators import all_of, breaker, fallback, recover, retry
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.step import Component, Step
from omnibase.core.values import CircuitOpen, ExecCtx, Meta, Raised, RunReport
from omnibase.drivers import SyncDriver, arun, run
from omnibase.drivers.aio import AsyncDriver
from omnibase.drivers.isolation.process import ProcessPerformer, WorkerPool
from omnibase.drivers.replay import Recorder, ReplayPerformer, snapshot_of

pytest.importorskip("distributed")

from omnibase.drivers.dask import DaskPerformer, local_cluster  # noqa: E402

#: Seconds: the limit of a component that times out, and how long it would take.
LIMIT, SLOW = 0.15, 0.6

SCRIPTED = f'''
import time

import msgspec
from returns.result import Failure, Success

from omnibase.core.values import (
    Crashed, Failed, Misconfigured, ResourceExceeded, SandboxViolation, SecurityViolation, Skip, Unresolved,
)


class Scripted(msgspec.Struct, frozen=True):
    """A component that gives the answer ``kind`` names, every time (``x`` its input)."""

    kind: str

    def __call__(self, ctx, x):
        kind = self.kind
        if kind == "ok":
            return Success(x + 1)
        if kind == "skip":
            return Success(Skip(reason="nothing to check"))
        if kind == "failed":
            return Failure(Failed(message=f"failed on {{x}}", data={{"input": x}}))
        if kind == "failed_text":
            return Failure(f"no good: {{x}}")
        if kind == "raised":
            raise ValueError(f"bad input {{x}}")
        if kind == "transient":
            raise ConnectionError("the service went away")
        if kind == "timeout":
            time.sleep({SLOW})
            return Success(x)
        if kind == "not_a_result":
            return x
        if kind == "wrong_type":
            return Success(str(x))
        if kind == "crashed":
            return Failure(Crashed(cause="killed by SIGSEGV", signal=11))
        if kind == "resource":
            return Failure(ResourceExceeded(resource="memory", limit=64, message="ran out of its 64 MB of memory"))
        if kind == "security":
            return Failure(SecurityViolation(message="tried to read ~/.ssh"))
        if kind == "sandbox":
            return Failure(SandboxViolation(action="write", target="/etc/hosts"))
        if kind == "config":
            return Failure(Misconfigured(message="no such option", where="omnibase.yaml:3"))
        if kind == "unresolved":
            return Failure(Unresolved(name="helper", message="no component named 'helper'"))
        raise AssertionError(kind)
'''

KINDS = (
    "ok", "skip", "failed", "failed_text", "raised", "transient", "timeout", "not_a_result", "wrong_type",
    "crashed", "resource", "security", "sandbox", "config", "unresolved",
)  # fmt: skip
#: A circuit that opens: a transient failure trips the breaker (threshold 1), and the
#: retry around it stops there (its next attempt would be short-circuited): the step
#: reports that failure, "not retried: circuit breaker ... opened".
CIRCUIT = "circuit"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    root = tmp_path_factory.mktemp("agree")
    name = f"scripted_{uuid.uuid4().hex}"
    (root / f"{name}.py").write_text(SCRIPTED)
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name), root
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def dask() -> Iterator[DaskPerformer]:
    with local_cluster(2) as cluster:
        performer = DaskPerformer(cluster.scheduler_address)
        assert performer.connect() is None
        yield performer
        performer.close()


# --- pipelines --------------------------------------------------------------------------------


@st.composite
def layouts(draw: st.DrawFn) -> Any:
    """A tree over every kind (each exactly once, in a drawn order) and one circuit."""
    leaves: list[Any] = [("leaf", k) for k in draw(st.permutations([*KINDS, CIRCUIT]))]
    while len(leaves) > 1:
        i = draw(st.integers(0, len(leaves) - 2))
        n = draw(st.integers(2, min(3, len(leaves) - i)))
        group, shape = leaves[i : i + n], draw(st.sampled_from(["then", "all_of", "retry", "recover", "fallback"]))
        if shape in ("retry", "recover"):
            group = [group[0]]
        leaves[i : i + len(group)] = [(shape, group)]
    return leaves[0]


def build(layout: Any, module: Any) -> Step[int, Any]:
    counter = iter(range(10_000))

    def leaf(kind: str) -> Step[int, Any]:
        name = f"{kind}-{next(counter)}"
        meta = Meta(
            name=name, idempotent=True, isolation="process", input_type="int", output_type="int",
            timeout=LIMIT if kind == "timeout" else None,
        )  # fmt: skip
        if kind == CIRCUIT:
            inner = Component(module.Scripted("transient"), msgspec.structs.replace(meta, name=name), _is_int, in_type=int, out_type=int)
            guarded = breaker(inner, BreakerPolicy(threshold=1, window=1e9, reset_timeout=1e9))
            return retry(guarded, RetryPolicy(max_attempts=3, initial=0.0, cap=0.0, jitter=0.0))
        return Component(module.Scripted(kind), meta, _is_int, in_type=int, out_type=int)

    def walk(node: Any) -> Step[int, Any]:
        shape, body = node
        if shape == "leaf":
            return leaf(body)
        parts = [walk(n) for n in body]
        if shape == "then":
            out = parts[0]
            for part in parts[1:]:
                out = out >> part
            return out
        if shape == "all_of":
            return all_of(parts)
        if shape == "retry":
            return retry(parts[0], RetryPolicy(max_attempts=2, initial=0.0, cap=0.0, jitter=0.0))
        if shape == "recover":
            return recover(parts[0], lambda error: -1)
        out = parts[0]
        for part in parts[1:]:
            out = fallback(out, part)
        return out

    return walk(layout)


def _is_int(value: object) -> bool:
    return type(value) is int


# --- running ------------------------------------------------------------------------------------


def comparable(report: RunReport[Any]) -> Any:
    """The report without what legitimately differs between performers: timings, and the
    frames a traceback names."""

    def error(e: Any) -> Any:
        if isinstance(e, CircuitOpen):  # when its probe is allowed: a time, like the others
            return msgspec.structs.replace(e, probe_at=None)
        return msgspec.structs.replace(e, traceback="") if isinstance(e, Raised) else e

    data = msgspec.to_builtins(
        msgspec.structs.replace(
            report,
            steps=tuple(msgspec.structs.replace(s, error=error(s.error), offset_s=0.0, duration_s=0.0) for s in report.steps),
            error=error(report.error),
            started_at=0.0,
            duration_s=0.0,
            profile=tuple((name, 0.0) for name, _ in report.profile),
        )
    )
    return data


def recorded_and_replayed(step: Step[int, Any], ctx: ExecCtx, performer: Any, asynchronous: bool) -> tuple[Any, Any]:
    """The report of a recorded run, and of a run replayed from that recording."""
    recorder = Recorder(performer)
    if asynchronous:
        first = asyncio.run(arun(step, 0, ctx, recorder, jobs=3))
    else:
        first = run(step, 0, ctx, recorder)
    snapshot = snapshot_of(step, 0, ctx, first, recorder)
    replayer = ReplayPerformer(performer, snapshot)
    again = asyncio.run(arun(step, 0, ctx, replayer, jobs=3)) if asynchronous else run(step, 0, ctx, replayer)
    return first, again


def check_performers_agree(layout: Any, scripted: tuple[Any, Path], pool: WorkerPool, dask: DaskPerformer) -> None:
    module, root = scripted
    ctx = ExecCtx(run_id="agree", trace_id="0af7651916cd43dd8448eb211c80319c", root=str(root))
    aio = AsyncDriver(threads=4)
    performers: list[tuple[str, Any, bool]] = [
        ("sync", SyncDriver(), False),
        ("async", aio, True),
        ("worker process", ProcessPerformer(SyncDriver(), pool=pool), False),
        ("dask", dask, False),
    ]
    reports: dict[str, Any] = {}
    try:
        for label, performer, asynchronous in performers:
            first, again = recorded_and_replayed(build(layout, module), ctx, performer, asynchronous)
            reports[label] = comparable(first)
            reports[f"{label}, replayed"] = comparable(again)
    finally:
        aio.close()
    expected = reports["sync"]
    assert expected["steps"], "the pipeline ran"
    for label, report in reports.items():
        assert report == expected, f"{label} differs from sync"


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts())
def test_every_performer_and_its_replay_give_the_same_report(
    layout: Any, scripted: tuple[Any, Path], pool: WorkerPool, dask: DaskPerformer
) -> None:
    check_performers_agree(layout, scripted, pool, dask)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts())
def test_every_performer_and_its_replay_give_the_same_report_longer_search(
    layout: Any, scripted: tuple[Any, Path], pool: WorkerPool, dask: DaskPerformer
) -> None:
    check_performers_agree(layout, scripted, pool, dask)


def test_the_exit_code_follows_the_highest_ranked_error_whatever_ran_it(
    scripted: tuple[Any, Path], pool: WorkerPool, dask: DaskPerformer
) -> None:
    """Concrete values a person wrote down: each kind alone, its status, error and exit code,
    the same under every performer."""
    module, root = scripted
    ctx = ExecCtx(run_id="alone", trace_id="0af7651916cd43dd8448eb211c80319c", root=str(root))
    expected = {
        "ok": (0, "PASS", None), "skip": (0, "SKIP", None), "failed": (1, "FAIL", "failed"),
        "failed_text": (1, "FAIL", "failed"), "raised": (1, "FAIL", "raised"), "transient": (1, "FAIL", "raised"),
        "timeout": (1, "FAIL", "timeout"), "not_a_result": (4, "FAIL", "protocol"), "wrong_type": (4, "FAIL", "protocol"),
        "crashed": (1, "FAIL", "crashed"), "resource": (5, "FAIL", "resource"), "security": (5, "FAIL", "security"),
        "sandbox": (5, "FAIL", "sandbox"), "config": (2, "FAIL", "config"), "unresolved": (3, "FAIL", "unresolved"),
        CIRCUIT: (1, "FAIL", "raised"),
    }  # fmt: skip
    performers = {"sync": SyncDriver(), "worker process": ProcessPerformer(SyncDriver(), pool=pool), "dask": dask}
    for kind, (code, status, tag) in expected.items():
        for label, performer in performers.items():
            report = run(build(("leaf", kind), module), 0, ctx, performer)
            last = report.steps[-1]
            got = (report.exit_code, last.status.value, None if last.error is None else msgspec.to_builtins(last.error)["type"])
            assert got == (code, status, tag), f"{kind} under {label}"
