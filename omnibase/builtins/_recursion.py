"""Running a parser with the recursion budget the reference tool has.

How deeply nested a JSON, TOML, YAML or Python file may be before its parser gives up
with ``RecursionError`` depends on how much of the interpreter's recursion limit is left
where the parser is called. The reference hooks run from a console script, near the
bottom of the stack; our checks run wherever the caller is (a worker process, deep inside
the CLI). ``with_budget`` lends the parser the reference's headroom, so the verdict on a
deeply nested file does not depend on the caller's stack. The budgets below are
calibrated against pre-commit-hooks 6.0.0's console scripts on CPython 3.11 (the tests
re-check them); the recursion limit is restored afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

__all__ = ["AST_BUDGET", "JSON_BUDGET", "TOML_BUDGET", "YAML_BUDGET", "recursion_depth", "with_budget"]

T = TypeVar("T")

#: Headroom (recursion-limit units left at our call) that reproduces the reference's.
JSON_BUDGET = 997
TOML_BUDGET = 998
YAML_BUDGET = 1000
AST_BUDGET = 997


def recursion_depth() -> int:
    """The interpreter's recursion depth at the caller: Python frames plus C-level
    recursive calls (which no frame shows). CPython reports it when refusing a limit."""
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(1)
    except RecursionError as exc:  # "... at the recursion depth N: the limit is too low"
        said = str(exc).partition("recursion depth ")[2].partition(":")[0]
        if said.isdigit():
            return int(said) - 1  # less this function's own frame
    finally:
        sys.setrecursionlimit(old)
    frame: FrameType | None = sys._getframe(1)  # no report: count the frames
    depth = 0
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def with_budget(budget: int, fn: Callable[[], T]) -> T:
    """``fn()`` with ``budget`` units of recursion left above the caller's depth."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(recursion_depth() + budget)
    try:
        return fn()
    finally:
        sys.setrecursionlimit(old)
