"""A mapping of format names to renderers that imports each renderer when first asked."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["LazyRenderers"]


class LazyRenderers(Mapping[str, Callable[..., str]]):
    """A read-only mapping of format names to renderers, each imported when first looked up.

    >>> table = LazyRenderers({"json": "omnibase.cli.formatters:render_json"})
    >>> list(table), table["json"].__name__
    (['json'], 'render_json')
    """

    def __init__(self, table: Mapping[str, str], *, wrap: Callable[[Any], Any] | None = None) -> None:
        self._table = dict(table)
        self._wrap = wrap
        self._loaded: dict[str, Callable[..., str]] = {}

    def __getitem__(self, name: str) -> Callable[..., str]:
        found = self._loaded.get(name)
        if found is None:
            module, _, attr = self._table[name].partition(":")
            found = _attribute(importlib.import_module(module), attr)
            if self._wrap is not None:
                found = self._wrap(found)
            found = self._loaded[name] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def _attribute(module: Any, name: str) -> Callable[..., str]:
    found: Callable[..., str] = getattr(module, name)
    return found
