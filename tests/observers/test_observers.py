"""Logs, metrics and trace correlation as observers of a run's events."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase.core.combinators import all_of, breaker, retry, timeout
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.step import component
from omnibase.core.values import ExecCtx, Failed
from omnibase.drivers import FakeDriver, run
from omnibase.observers.logs import LEVELS, LogObserver, make_logger
from omnibase.observers.metrics import BUCKETS, MetricsObserver, prometheus_text, write_prometheus
from omnibase.observers.trace import child_traceparent, parse_traceparent
from omnibase.testing import fake_ctx


@component(idempotent=True)
def flaky(ctx: ExecCtx, x: int) -> Result[int, Failed]:
    return Failure(Failed(message="down", transient=True))


@component
def slow(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success(x)


@component
def liar(ctx: ExecCtx, x: int) -> Result[int, str]:
    return Success("not an int")  # type: ignore[arg-type]


def _pipeline() -> Any:
    return all_of(
        [
            retry(breaker(flaky, BreakerPolicy(threshold=2), key="flaky"), RetryPolicy(max_attempts=3, initial=0.5)),
            timeout(slow, 1.0),
            liar,
        ]
    )


def _logged(level: str = "debug") -> tuple[list[dict[str, Any]], Any]:
    out = io.StringIO()
    ctx = fake_ctx(stage="ci")
    logs = LogObserver(ctx, lambda: make_logger(out, fmt="json", level=LEVELS[level]), LEVELS[level])
    report = run(_pipeline(), 1, ctx, FakeDriver(cost={"slow": 5.0}), observers=[logs])
    return [json.loads(line) for line in out.getvalue().splitlines()], report


def test_every_kind_of_event_is_logged_with_the_run_and_span_ids() -> None:
    lines, report = _logged()
    events = [e["event"] for e in lines]
    for wanted in ("step.start", "step.end", "retry", "backoff", "breaker", "timeout", "violation"):
        assert wanted in events, wanted
    for e in lines:
        assert (e["run_id"], e["trace_id"], e["stage"]) == (report.run_id, report.trace_id, "ci")
        assert e["component"] in ("flaky", "slow", "liar")
        assert re.fullmatch(r"[0-9a-f]{16}", e["span_id"])
    assert {e["span_id"] for e in lines if e["event"] == "step.end"} >= {s.span_id for s in report.steps}
    [opened] = [e for e in lines if e["event"] == "breaker" and e["after"] == "open"]
    assert opened["component"] == "flaky"
    [violation] = [e for e in lines if e["event"] == "violation"]
    assert (violation["component"], violation["kind"], violation["level"]) == ("liar", "protocol", "error")


def test_levels_filter_and_the_default_keeps_warnings_and_errors() -> None:
    lines, _ = _logged("warning")
    assert {e["event"] for e in lines} == {"retry", "breaker", "timeout", "violation"}
    assert all(e["level"] in ("warning", "error") for e in lines)


def test_a_retry_that_then_succeeded_is_no_warning() -> None:
    from omnibase.testing import FaultDriver, faulty

    @component(idempotent=True)
    def fetch(ctx: ExecCtx, x: int) -> Result[int, str]:
        return Success(x)

    for level, expected in (("warning", [("gives_up", "warning"), ("gives_up", "warning")]),
                            ("info", [("recovers", "info"), ("gives_up", "warning"), ("gives_up", "warning")])):  # fmt: skip
        recovers = faulty(fetch, ["transient", "ok"], name="recovers")
        gives_up = faulty(fetch, ["transient", "transient", "fail"], name="gives_up")
        pipeline = all_of([retry(recovers, RetryPolicy(max_attempts=3)), retry(gives_up, RetryPolicy(max_attempts=3))])
        out = io.StringIO()
        ctx = fake_ctx(stage="ci")
        logs = LogObserver(ctx, lambda: make_logger(out, fmt="json", level=LEVELS[level]), LEVELS[level])
        report = run(pipeline, 1, ctx, FaultDriver(), observers=[logs])
        assert [(s.name, s.attempts) for s in report.steps] == [("recovers", 2), ("gives_up", 3)]
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [(e["component"], e["level"]) for e in lines if e["event"] == "retry"] == expected, level


def test_beside_a_report_the_step_events_it_shows_are_logged_at_info() -> None:
    out = io.StringIO()
    ctx = fake_ctx(stage="ci")
    logs = LogObserver(ctx, lambda: make_logger(out, fmt="json", level=LEVELS["warning"]), LEVELS["warning"], reported=True)
    run(_pipeline(), 1, ctx, FakeDriver(cost={"slow": 5.0}), observers=[logs])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {e["event"] for e in lines} == {"breaker"}  # retries, the time-out, the violation: in the report


def test_a_run_that_logs_nothing_never_imports_structlog() -> None:
    code = (
        "import sys, io\n"
        "from returns.result import Success\n"
        "from omnibase.core.step import component\n"
        "from omnibase.drivers import run\n"
        "from omnibase.observers.logs import LogObserver, make_logger\n"
        "from omnibase.testing import fake_ctx\n"
        "c = component(lambda ctx, x: Success(x), name='c')\n"
        "run(c, 1, fake_ctx(), observers=[LogObserver(fake_ctx(), lambda: make_logger(io.StringIO()), 30)])\n"
        "print('structlog' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_metrics_count_statuses_attempts_retries_breaker_opens_and_durations() -> None:
    metrics = MetricsObserver()
    report = metrics.attach(run(_pipeline(), 1, fake_ctx(), FakeDriver(cost={"slow": 5.0, "flaky": 0.002}), observers=[metrics]))
    m = report.metrics
    assert m is not None
    assert m.steps == {"PASS": 0, "FAIL": 3, "WARN": 0, "SKIP": 0}
    # flaky: 2 calls, then its breaker is open: no third attempt is scheduled (one retry);
    # slow: 1 (timed out); liar: 1
    assert (m.invocations, m.retries, m.breaker_opens, m.timeouts) == (4, 1, 1, 1)
    assert m.buckets == BUCKETS and m.duration_count == 4
    at = dict(zip(m.buckets, m.counts))  # cumulative: how many took at most each bound
    assert (at[0.001], at[0.005], at[0.5], at[1.0], at[60.0]) == (1, 3, 3, 4, 4)


_SAMPLE = re.compile(r'[a-z_]+\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)+\} -?[0-9.e+-]+|[a-z_]+\{[^}]*le="\+Inf"\} [0-9]+')


def test_prometheus_text_is_well_formed(tmp_path: Any) -> None:
    metrics = MetricsObserver()
    ctx = fake_ctx(stage='we"ird\\stage')
    report = metrics.attach(run(_pipeline(), 1, ctx, FakeDriver(cost={"slow": 5.0}), observers=[metrics]))
    path = tmp_path / "run.prom"
    write_prometheus(str(path), report)
    text = path.read_text()
    assert text.endswith("\n")
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif not line.startswith("# HELP"):
            assert _SAMPLE.fullmatch(line), line
            assert 'stage="we\\"ird\\\\stage"' in line
    assert types["omnibase_invocation_duration_seconds"] == "histogram"
    buckets = [int(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("omnibase_invocation_duration_seconds_bucket")]
    count = [int(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("omnibase_invocation_duration_seconds_count")]
    assert buckets == sorted(buckets) and buckets[-1] == count[0] == 4
    assert prometheus_text(report) == text


_HEX = st.text("0123456789abcdef", min_size=1)


@given(st.text("0123456789abcdef", min_size=32, max_size=32), st.text("0123456789abcdef", min_size=16, max_size=16))
def test_a_child_traceparent_parses_back(trace_id: str, span_id: str) -> None:
    parsed = parse_traceparent(child_traceparent(trace_id, span_id))
    if int(trace_id, 16) == 0 or int(span_id, 16) == 0:
        assert parsed is None
    else:
        assert parsed == (trace_id, span_id)


@given(st.text(max_size=60))
def test_parse_traceparent_never_raises(text: str) -> None:
    parsed = parse_traceparent(text)
    assert parsed is None or (len(parsed[0]), len(parsed[1])) == (32, 16)


def test_invalid_traceparents_are_refused() -> None:
    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(good) is not None
    for bad in (
        "ff" + good[2:],
        good.upper(),
        good + "-extra",  # version 00 has exactly four fields
        good.replace("-01", ""),
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    ):
        assert parse_traceparent(bad) is None, bad
    assert parse_traceparent("01" + good[2:] + "-future") == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")


def test_new_ctx_joins_the_callers_trace() -> None:
    from omnibase.context import new_ctx

    ctx = new_ctx("ci", traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    assert (ctx.trace_id, ctx.parent_span_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    fresh = new_ctx("ci", traceparent="garbage")
    assert fresh.parent_span_id == "" and re.fullmatch(r"[0-9a-f]{32}", fresh.trace_id)


def test_two_runs_joining_one_trace_get_distinct_span_ids() -> None:
    from omnibase.context import new_ctx

    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    spans = [
        {s.span_id for s in run(all_of([slow, slow, slow]), 1, new_ctx("ci", traceparent=parent), FakeDriver()).steps}
        for _ in range(2)
    ]
    assert len(spans[0]) == len(spans[1]) == 3 and not spans[0] & spans[1]
    again = [run(slow, 1, fake_ctx(), FakeDriver()).steps[0].span_id for _ in range(2)]
    assert again[0] == again[1]  # fixed ids, fixed span ids
