"""W3C trace context (``traceparent``): read the caller's, make the children's. Pure.

A ``traceparent`` is ``VERSION-TRACEID-PARENTID-FLAGS``: 2, 32, 16 and 2 lower-case hex
digits; the trace and parent ids must not be all zero, and version ``ff`` is invalid.
A run takes its trace id from ``TRACEPARENT`` when the environment has a valid one, and
passes ``child_traceparent(trace_id, span_id)`` to the commands and worker processes it
starts, so their spans nest under the step that started them.

>>> parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7')
>>> child_traceparent("4bf92f3577b34da6a3ce929d0e0e4736", "b7ad6b7169203331")
'00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01'
>>> parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["child_traceparent", "parse_traceparent", "traceparent_of"]

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


def parse_traceparent(text: str) -> tuple[str, str] | None:
    """``(trace_id, parent_span_id)`` from a ``traceparent`` value, or None when it is not
    a valid one (then the caller starts a new trace). Surrounding whitespace is ignored;
    a future version may carry more fields after the four, which are ignored too."""
    m = _TRACEPARENT.fullmatch(text.strip())
    if m is None:
        return None
    version, trace_id, parent, _flags, rest = m.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if int(trace_id, 16) == 0 or int(parent, 16) == 0:
        return None
    return trace_id, parent


def child_traceparent(trace_id: str, span_id: str) -> str:
    """The ``traceparent`` a child (command, worker invocation) of span ``span_id`` gets:
    version 00, sampled."""
    return f"00-{trace_id}-{span_id}-01"


def traceparent_of(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The parsed ``TRACEPARENT`` of ``env`` (an environment), if it holds a valid one."""
    text = env.get("TRACEPARENT")
    return parse_traceparent(text) if text else None
