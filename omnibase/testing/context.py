"""A fixed execution context for tests: the same ids and seed every time."""

from __future__ import annotations

from typing import Any

from omnibase.core.values import ExecCtx

__all__ = ["fake_ctx"]


def fake_ctx(**overrides: Any) -> ExecCtx:
    """A context with fixed ids and seed, so reports are byte-for-byte reproducible."""
    fields: dict[str, Any] = {
        "run_id": "0123456789abcdef",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "stage": "test",
        "seed": 0,
    }
    fields.update(overrides)
    return ExecCtx(**fields)
