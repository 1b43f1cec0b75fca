"""Structured logs of a run's events, on stderr, through structlog (imported only for -v)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import structlog

from omnibase.core.intents import BreakerChanged, Event, RetryScheduled
from omnibase.core.values import StepResult

__all__ = ["log_observer"]


def log_observer(trace_id: str = "") -> Callable[[Event], None]:
    """An observer that logs every step result, retry and breaker change as one line."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("omnibase").bind(trace_id=trace_id)

    def observe(event: Event) -> None:
        if isinstance(event, StepResult):
            log.info(
                "step",
                name=event.name,
                status=event.status.value,
                span_id=event.span_id,
                duration_s=round(event.duration_s, 6),
                attempts=event.attempts,
                error=type(event.error).__name__ if event.error is not None else None,
            )
        elif isinstance(event, RetryScheduled):
            log.warning("retry", name=event.name, attempt=event.attempt, delay_s=round(event.delay, 6))
        elif isinstance(event, BreakerChanged):
            log.warning("breaker", key=event.key, before=event.before.value, after=event.after.value)

    return observe
