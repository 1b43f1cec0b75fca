"""Where a hook comes from and how it runs: the ``repo:`` field of a registry entry.

``HookSource`` is what ``registry import-pre-commit`` writes for a hook of another
repository (or a ``local`` hook that needs an environment): the repository's URL and
revision, the hook's language, its ``entry`` and the packages its environment adds.
``LANGUAGES`` is the one table of the languages omnibase runs; any other is refused by
name (``unsupported``).
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = ["LANGUAGES", "LOCAL", "HookSource", "unsupported"]

#: The ``url`` of a hook defined in the project itself (pre-commit's ``repo: local``).
LOCAL: Final = "local"

#: The languages omnibase runs, each with what it needs: ``env``, a Python virtual
#: environment built from the repository (and its ``additional_dependencies``);
#: ``clone``, the repository's files (its ``entry`` is a file in it); ``none``, nothing.
LANGUAGES: Final[dict[str, str]] = {
    "python": "env",
    "script": "clone",
    "system": "none",
    "fail": "none",
    "pygrep": "none",
}


class HookSource(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hook's origin: ``url`` at ``rev`` (``local``: the project itself), its ``language``
    (one of ``LANGUAGES``), its ``entry`` (a command line, a script of the repository, a
    message for ``fail``, a regex for ``pygrep``), the packages its Python environment adds
    (``additional_dependencies``) and the interpreter it wants (``language_version``:
    ``default`` is the one running omnibase, else a name on ``PATH`` such as ``python3.12``).

    >>> HookSource(url="file:///hooks", rev="v1", language="python", entry="tidy").needs
    'env'
    """

    language: str
    entry: str
    url: str = LOCAL
    rev: str = ""
    additional_dependencies: tuple[str, ...] = ()
    language_version: str = "default"

    @property
    def needs(self) -> str:
        """What running it needs first: ``env``, ``clone`` or ``none`` (``LANGUAGES``)."""
        needs = LANGUAGES.get(self.language, "none")
        if needs == "clone" and self.url == LOCAL:
            return "none"  # a local script is a file of the project
        return needs


def unsupported(language: str) -> str | None:
    """Why a hook of ``language`` cannot run here, or None when it can.

    >>> unsupported("node")
    "language 'node' is not supported (omnibase runs python, script, system, fail and pygrep hooks)"
    """
    if language in LANGUAGES:
        return None
    names = list(LANGUAGES)
    return f"language '{language}' is not supported (omnibase runs {', '.join(names[:-1])} and {names[-1]} hooks)"
