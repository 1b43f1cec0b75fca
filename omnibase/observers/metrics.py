"""Per-run metrics, collected by an observer of the event stream, and their Prometheus text.

``MetricsObserver`` counts invocations (attempts), retries, breaker openings, timeouts
and the durations of invocations in a histogram; ``attach(report)`` adds the final steps'
counts by status and puts a ``RunMetrics`` in ``report.metrics``. ``prometheus_text``
renders a report's metrics in the Prometheus text exposition format (for the node
exporter's textfile collector, or a push gateway); ``write_prometheus`` writes it
atomically.

>>> from omnibase.core.values import RunReport, RunMetrics, Summary, Status
>>> r = RunReport(steps=(), summary=Summary(status=Status.PASS), exit_code=0, run_id="r", trace_id="t",
...               metrics=RunMetrics(retries=2))
>>> [l for l in prometheus_text(r).splitlines() if l.startswith("omnibase_retries")]
['omnibase_retries{stage="pipeline"} 2']
"""

from __future__ import annotations

import bisect
import os
from typing import TypeVar

import msgspec

from omnibase.core.intents import BreakerChanged, Event, RetryScheduled, Started
from omnibase.core.policies import BreakerMode
from omnibase.core.values import RunMetrics, RunReport, Status, StepResult, TimedOut

__all__ = ["BUCKETS", "MetricsObserver", "prometheus_text", "write_prometheus"]

T = TypeVar("T")

#: Upper bounds (seconds) of the invocation duration histogram.
BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class MetricsObserver:
    """Counts a run's events; see the module docstring."""

    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self.invocations = 0
        self.retries = 0
        self.breaker_opens = 0
        self.timeouts = 0
        self.hits = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.total = 0.0
        self._started: set[str] = set()

    def __call__(self, event: Event) -> None:
        if type(event) is Started:
            self.invocations += 1
            self._started.add(event.span_id)
        elif type(event) is StepResult:
            if event.span_id in self._started:
                self.hits[bisect.bisect_left(self.buckets, event.duration_s)] += 1
                self.total += event.duration_s
            if isinstance(event.error, TimedOut):
                self.timeouts += 1
        elif type(event) is RetryScheduled:
            self.retries += 1
        elif type(event) is BreakerChanged and event.after is BreakerMode.OPEN:
            self.breaker_opens += 1

    def result(self, report: RunReport) -> RunMetrics:
        counts = {s.value: 0 for s in Status}
        for step in report.steps:
            counts[step.status.value] += 1
        cumulative: list[int] = []
        running = 0
        for hit in self.hits[:-1]:
            running += hit
            cumulative.append(running)
        return RunMetrics(
            steps=counts,
            invocations=self.invocations,
            retries=self.retries,
            breaker_opens=self.breaker_opens,
            timeouts=self.timeouts,
            buckets=self.buckets,
            counts=tuple(cumulative),
            duration_sum_s=self.total,
            duration_count=sum(self.hits),
            run_duration_s=report.duration_s,
        )

    def attach(self, report: RunReport[T]) -> RunReport[T]:
        """``report`` with ``metrics`` filled in."""
        return msgspec.structs.replace(report, metrics=self.result(report))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) else str(x)


def prometheus_text(report: RunReport) -> str:
    """The report's metrics in the Prometheus text format (version 0.0.4)."""
    m = report.metrics or RunMetrics()
    stage = f'stage="{_label(report.stage)}"'
    out: list[str] = []

    def gauge(name: str, help_: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} gauge")
        out.extend(f"{name}{{{labels}}} {_num(v)}" for labels, v in samples)

    gauge(
        "omnibase_run_info", "The run's ids (always 1).",
        [(f'{stage},run_id="{_label(report.run_id)}",trace_id="{_label(report.trace_id)}"', 1)],
    )  # fmt: skip
    gauge("omnibase_steps", "Steps of the run by final status.", [(f'{stage},status="{s}"', n) for s, n in sorted(m.steps.items())])
    gauge("omnibase_invocations", "Component invocations, retries included.", [(stage, m.invocations)])
    gauge("omnibase_retries", "Retries scheduled.", [(stage, m.retries)])
    gauge("omnibase_breaker_opens", "Circuit breakers that opened.", [(stage, m.breaker_opens)])
    gauge("omnibase_timeouts", "Invocations that timed out.", [(stage, m.timeouts)])
    gauge("omnibase_run_duration_seconds", "Wall time of the run.", [(stage, float(m.run_duration_s))])
    gauge("omnibase_run_exit_code", "The run's exit code.", [(stage, report.exit_code)])
    name = "omnibase_invocation_duration_seconds"
    out.append(f"# HELP {name} Wall time of each invocation.")
    out.append(f"# TYPE {name} histogram")
    for bound, n in zip(m.buckets, m.counts):
        out.append(f'{name}_bucket{{{stage},le="{_num(float(bound))}"}} {n}')
    out.append(f'{name}_bucket{{{stage},le="+Inf"}} {m.duration_count}')
    out.append(f"{name}_sum{{{stage}}} {_num(float(m.duration_sum_s))}")
    out.append(f"{name}_count{{{stage}}} {m.duration_count}")
    return "\n".join(out) + "\n"


def write_prometheus(path: str, report: RunReport) -> None:
    """Write ``prometheus_text(report)`` to ``path`` through the safe opener (atomically; a
    link, FIFO or device is refused); ``OSError`` saying why when it cannot."""
    from returns.result import Success

    from omnibase._io.outputs import write_output

    written = write_output(os.path.abspath(path), prometheus_text(report).encode("utf-8"))
    if not isinstance(written, Success):
        raise OSError(written.failure())
