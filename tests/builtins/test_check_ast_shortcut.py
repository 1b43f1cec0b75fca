"""check-ast's symbol-table shortcut gives ``ast.parse``'s verdict, deep files included.

``ast.parse`` counts a level for every node it converts, the symbol table one per
statement or expression only: a file whose path down the tree holds many nodes of other
kinds (keyword arguments, lambda parameters, comprehensions) is deeper for ``ast.parse``.
The shortcut must never accept what ``ast.parse`` (with the reference's recursion budget,
which ``test_builtins_differential`` calibrates against the console script) rejects.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.builtins import CHECKS, parse_options
from omnibase.builtins._checks import _SYMTABLE_SHORTCUT
from omnibase.builtins._recursion import AST_BUDGET, with_budget

SPEC, OPTS = CHECKS["check-ast"], parse_options("check-ast", {})

#: Ways to put an expression ``e`` one level deeper; the first three add a node only
#: ``ast.parse`` counts (keyword, arguments, comprehension).
WRAP: dict[str, Callable[[str], str]] = {
    "keyword": lambda e: f"f(a={e})",
    "lambda-default": lambda e: f"(lambda a={e}: 0)",
    "comprehension": lambda e: f"[0 for _ in {e}]",
    "unary": lambda e: f"-{e}",
    "list": lambda e: f"[{e}]",
    "attribute": lambda e: f"({e}).b",
}


def _source(wrappers: list[str], chain: int, annotated: bool) -> bytes:
    expr = "x" + "+x" * chain
    for name in reversed(wrappers):
        expr = WRAP[name](expr)
    line = f"def g(a: {expr}): pass\n" if annotated else f"y = {expr}\n"
    return line.encode()


def _parses(content: bytes) -> bool:
    """The reference's verdict: ``ast.parse`` with the reference's recursion budget."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with_budget(AST_BUDGET, lambda: ast.parse(content, filename="n.py"))
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(list(WRAP)), max_size=150),
    st.integers(min_value=0, max_value=3_000),
    st.booleans(),
)
def test_the_shortcut_agrees_with_ast_parse(wrappers: list[str], chain: int, annotated: bool) -> None:
    content = _source(wrappers, chain, annotated)
    assert SPEC.fn("n.py", content, OPTS).ok == _parses(content)


@pytest.mark.parametrize("wrapper", ["keyword", "lambda-default", "comprehension"])
def test_nodes_only_ast_parse_counts_near_its_limit(wrapper: str) -> None:
    # 150 extra nodes on the path, and a chain around ast.parse's limit: every length
    # from well inside to well outside gives the same verdict both ways
    for chain in range(2_500, 2_900, 7):
        content = _source([wrapper] * 150, chain, annotated=False)
        assert SPEC.fn("n.py", content, OPTS).ok == _parses(content), chain


def test_keyword_nesting_limit_is_the_reference_console_script(tmp_path: Path) -> None:
    # the case the shortcut got wrong with a margin of a few levels, against pre-commit's
    # own check-ast
    from tests.builtins._builtins_ref import SCRIPTS

    def source(n: int) -> bytes:
        return _source(["keyword"] * 199, n, annotated=False)

    lo, hi = 10, 4_000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if SPEC.fn("n.py", source(mid), OPTS).ok else (lo, mid - 1)
    script = Path(sys.executable).parent / SCRIPTS["check-ast"]
    for n, passes in ((lo, True), (lo + 1, False)):
        (tmp_path / "n.py").write_bytes(source(n))
        done = subprocess.run([str(script), "n.py"], cwd=tmp_path, capture_output=True)
        assert (done.returncode == 0) == passes, (n, done.stdout[-300:])


def test_the_shortcut_is_on_where_it_is_sound_only() -> None:
    assert _SYMTABLE_SHORTCUT == (sys.version_info[:2] == (3, 11))
