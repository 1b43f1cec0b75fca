"""The package's imports go one way, and no module imports itself back through others.

The layer order is written here once, lowest first. A module may import its own layer and
the layers below it; an import of a higher layer is an upward import. Every import counts,
the ones inside functions (lazy ones) and under ``TYPE_CHECKING`` too: a lazy import is
still a dependency, it is only paid later. A package's ``__init__`` is a module like any
other: a child that takes a name from its package's face while the face imports the child
is a circle.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "omnibase"

#: Lowest first. A module belongs to the longest prefix listed.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("omnibase.core", "omnibase._version"),
    ("omnibase.interpreter",),
    ("omnibase._io", "omnibase.server.client"),  # the client imports nothing of ours at all
    ("omnibase.observers",),
    ("omnibase.snapshots",),
    ("omnibase.builtins",),
    ("omnibase.drivers",),
    ("omnibase.components", "omnibase.context"),
    ("omnibase.repos",),  # hooks of other repositories: commands run from their environments
    ("omnibase.orchestrators",),
    ("omnibase.registry",),
    ("omnibase.precommit",),
    ("omnibase.testing",),
    ("omnibase.cli",),
    ("omnibase.server",),  # the server runs the CLI in its forks
    ("omnibase", "omnibase.__main__"),
)

#: Upward imports and circles that exist today and are being removed; the list only shrinks.
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()
KNOWN_CIRCLES: frozenset[frozenset[str]] = frozenset()


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: pathlib.Path) -> Iterator[str]:
    """Every module of ours that ``path`` imports, by its full dotted name."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "omnibase")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "omnibase":
                continue
            for alias in node.names:  # ``from pkg import module`` imports the module
                sub = f"{module}.{alias.name}"
                yield sub if _exists(sub) else module


def _exists(module: str) -> bool:
    base = PACKAGE.parent.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _module_name(path)
        found[me] = {m for m in _imports(path) if m != me and _exists(m)}
    return found


def layer_of(module: str) -> int:
    best, level = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level >= 0, f"{module} is in no layer: add it to LAYERS"
    return level


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.add(w)
                    if w == node:
                        break
                if len(group) > 1:
                    found.append(frozenset(group))
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in graph():
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = {(a, b) for a, bs in graph().items() for b in bs if layer_of(b) > layer_of(a)}
    assert upward - KNOWN_UPWARD == set(), "upward imports (see LAYERS)"
    assert KNOWN_UPWARD - upward == set(), "fixed: remove from KNOWN_UPWARD"


def test_no_import_circles() -> None:
    found = set(circles(graph()))
    assert found - KNOWN_CIRCLES == set(), "import circles"
    assert KNOWN_CIRCLES - found == set(), "fixed: remove from KNOWN_CIRCLES"


def test_the_circle_finder_finds_a_planted_circle() -> None:
    """The checker itself: a three-module loop and a self-contained tree."""
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(planted) == [frozenset({"a", "b", "c"})]
    assert circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_layer_order_puts_core_lowest_and_cli_above_drivers() -> None:
    assert layer_of("omnibase.core.step") == 0
    assert layer_of("omnibase.server.client") < layer_of("omnibase.cli._main") < layer_of("omnibase.server.serve")
    assert layer_of("omnibase.drivers.isolation.process") < layer_of("omnibase.orchestrators.stages")
