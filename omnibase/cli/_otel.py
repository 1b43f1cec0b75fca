"""OpenTelemetry export of a finished run, as spans (the ``omnibase[otel]`` extra).

The run is one span (kind SERVER, named ``RUN <stage>``) with one child span per component
(kind INTERNAL, named after it), following the ``cicd.pipeline.*`` semantic conventions:
``cicd.pipeline.name`` (the stage), ``cicd.pipeline.run.id``, ``cicd.pipeline.action.name``
(``RUN``), ``cicd.pipeline.result``; per component ``cicd.pipeline.task.name``,
``cicd.pipeline.task.run.id``, ``cicd.pipeline.task.run.result`` and, for components of type
``test``, ``cicd.pipeline.task.type``. ``error.type`` names the error of what failed.

The spans carry the run's own ids: the trace id is the report's W3C trace id and each
component's span id is its step's ``span_id``, so logs, JSON reports and traces of one run
join on them. Times come from the report (start of the run plus each step's offset).

The exporter is OTLP over HTTP, configured by the standard variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``,
``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_SERVICE_NAME``, ...).
Nothing here is imported unless the export is asked for.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from omnibase.cli.formats._common import error_kind
from omnibase.core.values import Failed, Interrupted, RunReport, StepResult, TimedOut
from omnibase.core.values import Status as StepStatus

__all__ = ["export_run", "pipeline_result", "task_result"]


def export_run(report: RunReport, exporter: SpanExporter | None = None) -> None:
    """Export ``report`` as spans with ``exporter`` (default: OTLP over HTTP, batched) and
    flush before returning. An ``exporter`` given is fed synchronously, span by span."""
    ids = _GivenIds(_hex(report.trace_id, 32))
    resource = Resource.create({"service.name": "omnibase", "service.version": _version()})
    provider = TracerProvider(resource=resource, id_generator=ids, shutdown_on_exit=False)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("omnibase", _version())
    start = _ns(report.started_at)
    result = pipeline_result(report)
    attributes: dict[str, Any] = {
        "cicd.pipeline.name": report.stage,
        "cicd.pipeline.run.id": report.run_id,
        "cicd.pipeline.action.name": "RUN",
        "cicd.pipeline.result": result,
    }
    failed = next((s for s in report.steps if s.status is StepStatus.FAIL and s.error is not None), None)
    cause = report.error or (failed.error if failed is not None else None)
    if result != "success":
        attributes["error.type"] = error_kind(cause) if cause is not None else result
    ids.next_span = _hex(report.run_id, 16)
    run_span = tracer.start_span(f"RUN {report.stage}", kind=SpanKind.SERVER, attributes=attributes, start_time=start)
    parent = set_span_in_context(run_span)
    for step in report.steps:
        ids.next_span = _hex(step.span_id, 16)
        task_start = start + _ns(max(step.offset_s, 0.0))
        span = tracer.start_span(step.name, context=parent, kind=SpanKind.INTERNAL, attributes=_task_attributes(step), start_time=task_start)
        if step.status is StepStatus.FAIL:
            span.set_status(Status(StatusCode.ERROR, _short(step)))
        span.end(end_time=task_start + _ns(max(step.duration_s, 0.0)))
    if result != "success":
        run_span.set_status(Status(StatusCode.ERROR, result))
    run_span.end(end_time=start + _ns(max(report.duration_s, 0.0)))
    provider.shutdown()


def pipeline_result(report: RunReport) -> str:
    """``cicd.pipeline.result``: success, failure (a component failed), error (the run could
    not be carried out: configuration, registry, protocol, sandbox) or cancellation.

    >>> from omnibase.core.values import Summary
    >>> pipeline_result(RunReport(steps=(), summary=Summary(status=StepStatus.PASS), exit_code=0, run_id="r", trace_id="t"))
    'success'
    """
    if report.outcome == "interrupted":
        return "cancellation"
    if report.exit_code == 0:
        return "success"
    if report.exit_code == 1:
        return "failure"
    return "error"


def task_result(step: StepResult) -> str:
    """``cicd.pipeline.task.run.result`` of one step: success (PASS, WARN), skip, failure
    (the component said so), timeout, cancellation, or error (it could not say).

    >>> task_result(StepResult(name="a", status=StepStatus.FAIL, span_id="1", error=TimedOut(seconds=1)))
    'timeout'
    """
    if step.status in (StepStatus.PASS, StepStatus.WARN):
        return "success"
    if step.status is StepStatus.SKIP:
        return "skip"
    if step.error is None or isinstance(step.error, Failed):
        return "failure"
    if isinstance(step.error, TimedOut):
        return "timeout"
    if isinstance(step.error, Interrupted):
        return "cancellation"
    return "error"


class _GivenIds(IdGenerator):
    """Hands the SDK the ids the run already has: one trace id, and the span id set last."""

    def __init__(self, trace_id: int) -> None:
        self.trace_id = trace_id
        self.next_span = 0

    def generate_trace_id(self) -> int:
        return self.trace_id or int.from_bytes(os.urandom(16), "big") or 1

    def generate_span_id(self) -> int:
        return self.next_span or int.from_bytes(os.urandom(8), "big") or 1


def _task_attributes(step: StepResult) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "cicd.pipeline.task.name": step.name,
        "cicd.pipeline.task.run.id": step.span_id,
        "cicd.pipeline.task.run.result": task_result(step),
        "omnibase.status": step.status.value,
        "omnibase.attempts": step.attempts,
    }
    if step.meta is not None:
        attributes["omnibase.component.type"] = step.meta.type.value
        if step.meta.type.value == "test":
            attributes["cicd.pipeline.task.type"] = "test"
    if step.error is not None:
        attributes["error.type"] = error_kind(step.error)
    return attributes


def _short(step: StepResult) -> str:
    from omnibase.cli.formats._common import error_text

    text = error_text(step.error, step.reason)
    return text.splitlines()[0][:200] if text.strip() else step.status.value


def _hex(text: str, digits: int) -> int:
    """``text`` as an id of ``digits`` hex digits; 0 (meaning: make one up) when it is not one."""
    if len(text) == digits:
        try:
            return int(text, 16)
        except ValueError:
            return 0
    return 0


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _version() -> str:
    from omnibase._version import __version__

    return str(__version__)
