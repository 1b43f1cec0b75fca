"""The public API is one table in ``omnibase/__init__.py``: ``__all__``, ``dir()``, the lazy
names and what type checkers see all come from it."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import omnibase

INIT = pathlib.Path(omnibase.__file__)


def _typing_block() -> dict[str, set[str]]:
    """What the ``if TYPE_CHECKING:`` block imports: module -> names (``*`` for a star)."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Name) and stmt.test.id == "TYPE_CHECKING":
            for imp in stmt.body:
                if isinstance(imp, ast.ImportFrom) and imp.module and imp.module.startswith("omnibase"):
                    for alias in imp.names:
                        assert alias.name == "*" or alias.asname == alias.name, f"{alias.name}: import it 'as' itself"
                        found.setdefault(imp.module, set()).add(alias.name)
    return found


def test_type_checkers_see_exactly_the_table() -> None:
    table = {module: set(names.split()) for module, names in omnibase._PUBLIC.items()}
    assert _typing_block() == table


def test_all_is_the_table_sorted_and_every_name_resolves() -> None:
    names = omnibase.__all__
    assert names == sorted(set(names)) and "__version__" in names
    whole = importlib.import_module("omnibase.core.combinators").__all__
    assert set(whole) <= set(names) and "retry" in names and "Status" in names
    for name in names:
        assert getattr(omnibase, name) is not None
    assert dir(omnibase) == names


def test_a_name_comes_from_the_module_the_table_names() -> None:
    from omnibase.core import combinators, graph

    assert omnibase.retry is combinators.retry and omnibase.Node is graph.Node
    assert omnibase.node is graph.node


def test_unknown_names_and_probes_are_attribute_errors() -> None:
    for name in ("nope", "__wrapped__", "_PRIVATE"):
        assert not hasattr(omnibase, name)


def test_star_import_and_a_cold_import_are_lazy() -> None:
    code = (
        "import sys, omnibase\n"
        "assert 'omnibase.core.combinators' not in sys.modules, 'imported eagerly'\n"
        "ns = {}\n"
        "exec('from omnibase import *', ns)\n"
        "assert ns['retry'].__module__ == 'omnibase.core.combinators'\n"
        "print(len([k for k in ns if not k.startswith('__')]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(done.stdout) == len(omnibase.__all__) - 1  # all but __version__
