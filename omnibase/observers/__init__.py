"""Observers of a run's event stream: structured logs, metrics, and trace correlation.

An observer is a callable ``(event) -> None`` handed to ``run(..., observers=...)``; it
sees every ``Started``, ``StepResult``, ``RetryScheduled`` and ``BreakerChanged`` as it
happens. Nothing here is imported by the core or the interpreter. See
``docs/observability.md``.
"""

__all__: list[str] = []
