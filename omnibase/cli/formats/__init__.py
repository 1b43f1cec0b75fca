"""The table of output formats: a name, and where its renderer lives.

This module is the one list of format names. ``--format`` and ``--report`` take their
choices from ``FORMAT_NAMES`` without importing any renderer (start-up stays fast), and
``omnibase.cli.formatters.FORMATTERS`` resolves a name to its renderer on first use
(``LazyRenderers``, kept apart so that building the parser pays for nothing but names). A new
format is one line here and one module beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["FORMAT_NAMES", "RENDERERS"]

#: Format name -> ``module:function`` of its renderer ``(RunReport, RenderOptions) -> str``.
RENDERERS: Mapping[str, str] = {
    "human": "omnibase.cli.formats.human:render_human",
    "json": "omnibase.cli.formatters:render_json",
    "yaml": "omnibase.cli.formatters:render_yaml",
    "junit": "omnibase.cli.formats.junit:render_junit",
    "sarif": "omnibase.cli.formats.sarif:render_sarif",
    "github": "omnibase.cli.formats.github:render_github",
    "jsonl": "omnibase.cli.formats.jsonl:render_jsonl",
    "html": "omnibase.cli.formats.html:render_html",
}

#: The choices of ``--format`` and of ``--report FORMAT=FILE``, in the table's order.
FORMAT_NAMES: tuple[str, ...] = tuple(RENDERERS)
