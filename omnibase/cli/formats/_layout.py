"""Where things go in the html report's pictures (pure geometry, no markup): the graph's
cells, the timeline's lanes and its ticks.

>>> from omnibase.core.values import GraphNode
>>> layout([GraphNode(name="a"), GraphNode(name="b", needs=("a",), level=1)])
{'a': (0, 0), 'b': (1, 0)}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from toolz import groupby

from omnibase.core.values import GraphNode

__all__ = ["BAND_COLUMNS", "MAX_ROWS", "layout", "pack_lanes", "ticks"]

#: A wave with more nodes than this takes several columns; a band holds this many columns.
MAX_ROWS, BAND_COLUMNS = 10, 5


def layout(nodes: Sequence[GraphNode]) -> dict[str, tuple[int, int]]:
    """Each node's (column, row): nodes in the same wave share a column, ordered by the mean
    row of what they need (fewer crossings); a wave of more than ``MAX_ROWS`` nodes takes
    several columns, and columns are wrapped into bands of ``BAND_COLUMNS`` stacked downwards,
    so a long chain or a wide fan-out stays a readable rectangle.

    >>> from omnibase.core.values import GraphNode
    >>> layout([GraphNode(name="a"), GraphNode(name="b", needs=("a",), level=1), GraphNode(name="c")])
    {'a': (0, 0), 'c': (0, 1), 'b': (1, 0)}
    """
    waves: dict[int, list[GraphNode]] = groupby(lambda node: node.level, nodes)
    rows: dict[str, float] = {}
    columns: list[list[str]] = []
    for level in sorted(waves):
        def weight(n: GraphNode) -> float:
            seen = [rows[d] for d in n.needs if d in rows]
            return sum(seen) / len(seen) if seen else float("inf")

        ordered = sorted(waves[level], key=weight)  # stable: ties keep the report's order
        for start in range(0, len(ordered), MAX_ROWS):
            column = [n.name for n in ordered[start : start + MAX_ROWS]]
            rows.update((name, float(r)) for r, name in enumerate(column))
            columns.append(column)
    place: dict[str, tuple[int, int]] = {}
    top = 0
    for band_start in range(0, len(columns), BAND_COLUMNS):
        band = columns[band_start : band_start + BAND_COLUMNS]
        for c, column in enumerate(band):
            for r, name in enumerate(column):
                place.setdefault(name, (c, top + r))
        top += max(len(col) for col in band) + 1  # a free row between bands for the edges
    return place


def pack_lanes(spans: Iterable[tuple[float, float]]) -> list[int]:
    """A lane for each ``(start, duration)`` span, in order: the lowest lane whose last span
    has ended by the span's start, so spans in one lane never overlap.

    >>> pack_lanes([(0, 2), (1, 1), (2, 1), (2.5, 0)])
    [0, 1, 0, 1]
    """
    ends: list[float] = []
    lanes = []
    for start, duration in spans:
        lane = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = start + max(duration, 0.0)
        lanes.append(lane)
    return lanes


def ticks(end: float) -> list[float]:
    """Round times from 0 to ``end``: a step of 1, 2 or 5 times a power of ten, at most six ticks.

    >>> ticks(0.0376)
    [0.0, 0.01, 0.02, 0.03]
    >>> ticks(12)
    [0.0, 5.0, 10.0]
    """
    if end <= 0:
        return [0.0]
    step = 10.0 ** math.floor(math.log10(end / 10))
    for factor in (1, 2, 5, 10, 20, 50):
        if end / (step * factor) <= 5:
            step *= factor
            break
    count = int(end / step + 1e-9)
    return [round(k * step, 12) for k in range(count + 1)]
