"""``omnibase --version``: the one answer that needs none of the machinery (no argparse,
no typing), wherever on the command line it is asked for."""

from __future__ import annotations

import sys


def print_version() -> int:
    """``omnibase X.Y.Z`` on stdout; exit code 0 (1 when stdout is a closed pipe)."""
    import os

    from omnibase._version import __version__

    try:
        print(f"omnibase {__version__}", flush=True)
    except BrokenPipeError:  # ``| head -0``: not our failure, and no traceback either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
