"""Pipelines of small module-level components for the performers that run them elsewhere
(worker processes, Dask workers), and a model of what a run of one must give.

``EQUIV`` is the source of a module of components (written to a temporary folder and
imported, so a worker can import it by reference); ``trees()`` draws pipelines of them,
``build`` makes a tree a real pipeline (``isolated``: each component runs in a worker).
``expected`` is the model: written from the spec, not from the code, it says each step's
status (in report order), the run's exit code and its output; ``outcome`` reads the same
from a real report.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from omnibase.core.step import Component
from omnibase.core.values import Meta, Raised, StepResult

EQUIV = """
from returns.result import Failure, Success
from omnibase.core.values import Failed, Skip

def inc(ctx, x):
    return Success(x + 1)

def neg(ctx, x):
    return Success(-x)

def odd_fails(ctx, x):
    return Failure("odd") if x % 2 else Success(x)

def typed_fail(ctx, x):
    return Failure(Failed(message=f"no {x}", data={"x": x}))

def boom(ctx, x):
    raise ValueError(f"boom {x}")

def skip(ctx, x):
    return Success(Skip(reason=f"nothing for {x}"))

def not_result(ctx, x):
    return x
"""
NAMES = ("inc", "neg", "odd_fails", "typed_fail", "boom", "skip", "not_result")



def _tree(draw: Any, depth: int) -> Any:
    kind = draw(st.sampled_from(["leaf", "then", "all_of", "recover"] if depth else ["leaf"]))
    if kind == "leaf":
        return ("leaf", draw(st.sampled_from(NAMES)))
    if kind == "then":
        return ("then", _tree(draw, depth - 1), _tree(draw, depth - 1))
    if kind == "all_of":
        return ("all_of", [_tree(draw, depth - 1) for _ in range(draw(st.integers(1, 3)))])
    return ("recover", _tree(draw, depth - 1))


@st.composite
def trees(draw: Any) -> Any:
    return _tree(draw, 2)


def build(tree: Any, module: Any, isolated: bool) -> Any:
    from omnibase.core.combinators import all_of, recover

    kind = tree[0]
    if kind == "leaf":
        meta = Meta(name=tree[1], isolation="process", ref=f"{module.__name__}:{tree[1]}") if isolated else Meta(name=tree[1])
        return Component(getattr(module, tree[1]), meta)
    if kind == "then":
        return build(tree[1], module, isolated) >> build(tree[2], module, isolated)
    if kind == "all_of":
        return all_of([build(t, module, isolated) for t in tree[1]])
    return recover(build(tree[1], module, isolated), lambda error: 0)


def plain(report: Any) -> Any:
    import msgspec

    def error(e: Any) -> Any:  # tracebacks differ by the frames of who called the component
        return msgspec.structs.replace(e, traceback="") if isinstance(e, Raised) else e

    def step(s: StepResult) -> Any:
        return (s.name, s.status, s.span_id, s.value, error(s.error), s.attempts, s.reason)

    return ([step(s) for s in report.steps], report.exit_code, report.summary, report.output, error(report.error))


# --- the model -------------------------------------------------------------------------------

#: The exit code of each component's failure on its own: a value that is not a Result
#: breaks the component protocol (4); every other failure is a plain failure (1).
_PROTOCOL = 4


def _leaf(name: str, x: Any) -> tuple[str, Any, int]:
    """(status, value, exit code of its failure) of one component on ``x``. ``x`` is an
    int, ``None`` (what a skip hands on) or a tuple (what ``all_of`` hands on)."""
    number = isinstance(x, int)
    if name == "inc":
        return ("PASS", x + 1, 0) if number else ("FAIL", None, 1)  # None + 1: an exception
    if name == "neg":
        return ("PASS", -x, 0) if number else ("FAIL", None, 1)
    if name == "odd_fails":
        return ("PASS", x, 0) if number and x % 2 == 0 else ("FAIL", None, 1)
    if name == "skip":
        return ("SKIP", None, 0)
    if name == "not_result":
        return ("FAIL", None, _PROTOCOL)
    return ("FAIL", None, 1)  # typed_fail, boom


def _count(tree: Any) -> int:
    kind = tree[0]
    if kind == "leaf":
        return 1
    if kind == "then":
        return _count(tree[1]) + _count(tree[2])
    if kind == "all_of":
        return sum(_count(t) for t in tree[1])
    return _count(tree[1])


def _eval(tree: Any, x: Any) -> tuple[list[str], bool, Any, set[int]]:
    """(statuses, succeeded, value, exit codes of the failures nothing recovered)."""
    kind = tree[0]
    if kind == "leaf":
        status, value, code = _leaf(tree[1], x)
        return [status], status != "FAIL", value, {code} - {0}
    if kind == "then":  # a failure skips everything after it
        steps, ok, value, codes = _eval(tree[1], x)
        if not ok:
            return steps + ["SKIP"] * _count(tree[2]), False, None, codes
        more, ok, value, codes2 = _eval(tree[2], value)
        return steps + more, ok, value, codes | codes2
    if kind == "all_of":  # every branch runs on the same input; the values as a tuple
        runs = [_eval(t, x) for t in tree[1]]
        ok = all(r[1] for r in runs)
        return [s for r in runs for s in r[0]], ok, tuple(r[2] for r in runs) if ok else None, set().union(*(r[3] for r in runs))
    steps, ok, value, codes = _eval(tree[1], x)  # recover: a failure becomes 0, its steps warn
    if ok:
        return steps, True, value, codes
    return ["WARN" if s == "FAIL" else s for s in steps], True, 0, set()


def expected(tree: Any, value: int) -> tuple[list[str], int, Any]:
    """What a run of ``tree`` on ``value`` must give: each step's status, the exit code
    (a protocol break outranks a failure) and the output (None when the run failed)."""
    steps, ok, out, codes = _eval(tree, value)
    code = _PROTOCOL if _PROTOCOL in codes else 1 if codes else 0
    return steps, code, out if ok else None


def outcome(report: Any) -> tuple[list[str], int, Any]:
    """The same three things, read from a real report."""
    return [s.status.value for s in report.steps], report.exit_code, report.output
