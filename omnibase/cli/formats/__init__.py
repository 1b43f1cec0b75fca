"""The table of output formats: a name, and where its renderer lives.

This module is the one list of format names. ``--format`` and ``--report`` take their
choices from ``FORMAT_NAMES`` without importing any renderer (start-up stays fast), and
``omnibase.cli.formatters.FORMATTERS`` resolves a name to its renderer on first use. A new
format is one line here and one module beside this one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["FORMAT_NAMES", "RENDERERS", "LazyRenderers"]

#: Format name -> ``module:function`` of its renderer ``(RunReport, RenderOptions) -> str``.
RENDERERS: Mapping[str, str] = {
    "human": "omnibase.cli.formatters:render_human",
    "json": "omnibase.cli.formatters:render_json",
    "yaml": "omnibase.cli.formatters:render_yaml",
    "junit": "omnibase.cli.formats.junit:render_junit",
    "sarif": "omnibase.cli.formats.sarif:render_sarif",
    "github": "omnibase.cli.formats.github:render_github",
    "jsonl": "omnibase.cli.formats.jsonl:render_jsonl",
}

#: The choices of ``--format`` and of ``--report FORMAT=FILE``, in the table's order.
FORMAT_NAMES: tuple[str, ...] = tuple(RENDERERS)


class LazyRenderers(Mapping[str, Callable[..., str]]):
    """A read-only mapping of format names to renderers, each imported when first looked up.

    >>> table = LazyRenderers({"json": "omnibase.cli.formatters:render_json"})
    >>> list(table), table["json"].__name__
    (['json'], 'render_json')
    """

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = dict(table)
        self._loaded: dict[str, Callable[..., str]] = {}

    def __getitem__(self, name: str) -> Callable[..., str]:
        found = self._loaded.get(name)
        if found is None:
            module, _, attr = self._table[name].partition(":")
            found = self._loaded[name] = _attribute(importlib.import_module(module), attr)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def _attribute(module: Any, name: str) -> Callable[..., str]:
    found: Callable[..., str] = getattr(module, name)
    return found
