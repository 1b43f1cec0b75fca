"""The command line: ``python -m omnibase`` and the ``omnibase`` script.

This module stays tiny so that ``--version`` and ``--help`` start fast; each command
imports what it needs when it runs. ``omnibase --version`` alone is answered here, before
the argument parser (``argparse`` and its imports are most of what it would cost).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's (nor collections.abc): --version imports neither
if TYPE_CHECKING:
    from collections.abc import Sequence

from omnibase.cli._version import print_version

__all__ = ["main", "print_version"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        return print_version()
    from omnibase.cli._main import main as _main

    return _main(argv)
