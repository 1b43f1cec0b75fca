"""Which of a run's files a registry component sees: its entry's own selection.

A command is given the selected files on its command line; a Python entry sees them as
``ctx.files``. Both select with the same ``FileSelection``.
"""

from __future__ import annotations

import os
import re

import msgspec

from omnibase.core.values import ExecCtx

__all__ = ["FileSelection"]


class FileSelection(msgspec.Struct, frozen=True, kw_only=True):
    """``files`` and ``exclude`` (regexes searched in each path), and the file types it
    must have all of (``types``), any of (``types_or``) or none of (``exclude_types``)."""

    files: str = ""
    exclude: str = "^$"
    types: tuple[str, ...] = ()
    types_or: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        """True when every file is selected (nothing to narrow)."""
        return self == _EVERYTHING

    def select(self, ctx: ExecCtx) -> list[str]:
        """The files of ``ctx`` this selection keeps, in their order.

        >>> FileSelection(files=r"\\.py$").select(ExecCtx(run_id="r", trace_id="t", files=("a.py", "b.md")))
        ['a.py']
        """
        from omnibase.builtins import tags_for

        include, exclude = re.compile(self.files), re.compile(self.exclude)
        wanted_all, wanted_any, unwanted = set(self.types), set(self.types_or), set(self.exclude_types)
        out: list[str] = []
        for path in ctx.files:
            if not include.search(path) or exclude.search(path):
                continue
            if wanted_all or wanted_any or unwanted:
                try:
                    tags = tags_for(os.path.join(ctx.root, path))
                except (ValueError, OSError):
                    continue
                if not wanted_all <= tags or (wanted_any and not wanted_any & tags) or unwanted & tags:
                    continue
            out.append(path)
        return out

    def narrow(self, ctx: ExecCtx) -> ExecCtx:
        """``ctx`` with only the selected files."""
        return msgspec.structs.replace(ctx, files=tuple(self.select(ctx)))


_EVERYTHING = FileSelection()
