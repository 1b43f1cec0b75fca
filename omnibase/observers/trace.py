"""W3C trace context (``TRACEPARENT``): pure helpers, no I/O.

A ``traceparent`` is ``00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>``.
"""

from __future__ import annotations

import re

__all__ = ["child_traceparent", "parse_traceparent"]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def child_traceparent(trace_id: str, span_id: str) -> str:
    """The ``TRACEPARENT`` a child process gets: our trace, with ``span_id`` as its parent.

    >>> child_traceparent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    """
    return f"00-{trace_id}-{span_id}-01"


def parse_traceparent(text: str) -> tuple[str, str] | None:
    """``(trace_id, parent_span_id)`` of a valid ``traceparent``, else None (all-zero ids
    are invalid, as the W3C recommendation says).

    >>> parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    ('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331')
    >>> parse_traceparent("garbage") is None
    True
    """
    found = _TRACEPARENT.match(text.strip().lower())
    if found is None or set(found.group(1)) == {"0"} or set(found.group(2)) == {"0"}:
        return None
    return found.group(1), found.group(2)
