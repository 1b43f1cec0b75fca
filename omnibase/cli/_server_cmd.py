"""``omnibase server status|stop``: the CLI's view of this repository's command server."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["server_command"]


def server_command(args: argparse.Namespace) -> int:
    """``status``: whether this repository's server runs, and what it has done (exit 0; 1
    when none runs). ``stop``: ask it to exit (after the runs it is serving); exit 0."""
    from returns.result import Failure

    from omnibase._io.git import repo_paths
    from omnibase._io.state import server_dir
    from omnibase.server import client as _client

    where = repo_paths(os.getcwd())
    if isinstance(where, Failure):
        print(f"omnibase: not inside a git repository ({where.failure().message})", file=sys.stderr)
        return 2
    folder = server_dir(where.unwrap().common_dir)
    answer = _client.status_request(folder, b"STATUS" if args.action == "status" else b"STOP")
    if answer is None:
        print("no command server runs for this repository")
        return 1 if args.action == "status" else 0
    if args.action == "stop":
        print("the command server is stopping")
        return 0
    fields = dict(line.partition(" ")[::2] for line in answer.decode("utf-8", "replace").splitlines())
    print(f"command server running: pid {fields.get('pid', '?')}, served {fields.get('served', '?')} run(s), "
          f"{fields.get('running', '?')} running now, started {fields.get('started', '?')}, "
          f"exits after {fields.get('idle-exit', '?')} s idle")
    return 0
