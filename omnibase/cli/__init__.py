"""The command line: ``python -m omnibase`` and the ``omnibase`` script.

This module stays tiny so that ``--version`` and ``--help`` start fast; each command
imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    from omnibase.cli._main import main as _main

    return _main(argv)
