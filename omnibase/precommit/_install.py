"""``omnibase install`` / ``uninstall`` / ``restore`` and what the hook scripts call.

A hook script is a few lines of ``sh`` that run ``omnibase hook-impl`` with the Python
that installed it (``sys.executable`` at install time), so the hook finds the omnibase
and the tools of that environment whatever ``PATH`` git is run with. A hook file that
does not carry our marker line is someone else's: ``install`` refuses to replace it
unless told to keep it as ``HOOK.legacy`` (run first, its failure stops the commit) or to
overwrite it; ``uninstall`` removes only our scripts and puts a kept legacy hook back.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence

from returns.result import Failure

from omnibase._io.git import commit_of, git, git_text, text
from omnibase.orchestrators.table import HOOK_TYPES, STAGES

__all__ = ["MARKER", "hook_impl_command", "hook_script", "install_command", "restore_command", "uninstall_command"]

MARKER = "# omnibase-hook: written by 'omnibase install'; 'omnibase uninstall' removes it"

_SCRIPT = """#!/bin/sh
{marker}
# It runs omnibase with the Python that installed it; -P: the repository's own modules
# must not shadow the standard library's.
# When it can, its tiny client hands the run to a warm command server (docs/server.md;
# OMNIBASE_SERVER=0 turns that off); else, or when the client is gone, the plain run.
INSTALL_PYTHON={python}
CLIENT={client}
HERE=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
RUN={run}  # -m would load runpy too
if [ -x "$INSTALL_PYTHON" ]; then
    if [ -f "$CLIENT" ] && [ "$OMNIBASE_SERVER" != 0 ]; then
        exec "$INSTALL_PYTHON" -I -S "$CLIENT" --hook-type={hook_type} --hook-dir "$HERE" -- "$@"
    fi
    exec "$INSTALL_PYTHON" -P -c "$RUN" hook-impl --hook-type={hook_type} --hook-dir "$HERE" -- "$@"
fi
echo "omnibase: $INSTALL_PYTHON (the Python that installed this hook) is gone; run 'omnibase install' again" >&2
exit 1
"""


def _say(message: str) -> None:
    print(f"omnibase: {message}", file=sys.stderr)


def hook_script(hook_type: str, python: str) -> str:
    """The text of the hook script for ``hook_type`` that runs ``python -m omnibase``."""
    from omnibase.server import client as _client

    return _SCRIPT.format(marker=MARKER, python=shlex.quote(python), hook_type=hook_type,
                          client=shlex.quote(os.path.abspath(_client.__file__)), run=shlex.quote(_client.RUN))


def _is_ours(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return MARKER.encode() in f.read(4096)
    except OSError:
        return False


def _hooks_dir() -> str | tuple[str, int]:
    """The repository's hooks folder, or ``(message, exit code)``."""
    where = git_text(["rev-parse", "--git-path", "hooks"], os.getcwd())
    if isinstance(where, Failure):
        return (f"not inside a git repository ({where.failure().message})", 2)
    configured = git(["config", "--get", "core.hooksPath"], os.getcwd(), ok_codes=(0, 1))
    if isinstance(configured, Failure) or text(configured.unwrap()).strip():
        return ("core.hooksPath is set: git runs hooks from that folder, which omnibase does not manage; "
                "unset it (git config --unset-all core.hooksPath) or add omnibase's hook there yourself", 2)
    return os.path.abspath(where.unwrap().strip())


def install_command(args: argparse.Namespace) -> int:
    from omnibase._io.atomic import write_atomic

    folder = _hooks_dir()
    if isinstance(folder, tuple):
        _say(folder[0])
        return folder[1]
    os.makedirs(folder, exist_ok=True)
    for hook_type in args.hook_type or HOOK_TYPES[:1]:
        path = os.path.join(folder, hook_type)
        legacy = path + ".legacy"
        if os.path.lexists(path) and not _is_ours(path):
            if args.chain:
                if os.path.lexists(legacy):
                    _say(f"{legacy} exists already; move it away first")
                    return 2
                os.rename(path, legacy)
                _say(f"kept the existing {hook_type} hook as {legacy}; it runs first")
            elif not args.overwrite:
                _say(f"{path} exists and is not omnibase's: --chain keeps it (run first, as {hook_type}.legacy), "
                     "--overwrite replaces it")
                return 2
            else:
                os.unlink(path)  # not through it: it may be a symlink to something we must not write
        write_atomic(path, hook_script(hook_type, sys.executable).encode())
        os.chmod(path, 0o755)
        print(f"omnibase installed at {path}")
    return 0


def uninstall_command(args: argparse.Namespace) -> int:
    folder = _hooks_dir()
    if isinstance(folder, tuple):
        _say(folder[0])
        return folder[1]
    for hook_type in args.hook_type or HOOK_TYPES[:1]:
        path = os.path.join(folder, hook_type)
        if not os.path.lexists(path):
            continue
        if not _is_ours(path):
            _say(f"{path} is not omnibase's; left alone")
            continue
        os.unlink(path)
        print(f"{path} removed")
        legacy = path + ".legacy"
        if os.path.lexists(legacy):
            os.rename(legacy, path)
            print(f"restored the previous hook from {legacy}")
    return 0


def restore_command(args: argparse.Namespace) -> int:
    from omnibase._io.git import repo_paths
    from omnibase.precommit._stash import restore_leftovers

    paths = repo_paths(os.getcwd())
    if isinstance(paths, Failure):
        _say(f"not inside a git repository ({paths.failure().message})")
        return 2
    done = restore_leftovers(paths.unwrap().root, paths.unwrap().git_dir, force=args.force)
    if isinstance(done, Failure):
        _say(done.failure().message)
        return 2
    for patch, how in done.unwrap():
        print(f"{patch}: {how}")
    if not done.unwrap():
        print("nothing to restore")
    return 0


# --- what the hook scripts run ----------------------------------------------------------


def _legacy(hook_dir: str, hook_type: str, argv: Sequence[str], stdin: bytes) -> int:
    import subprocess

    legacy = os.path.join(hook_dir, hook_type + ".legacy")
    if not os.access(legacy, os.X_OK):
        return 0
    return subprocess.run([legacy, *argv], input=stdin, check=False).returncode


def _zero(sha: str) -> bool:
    return set(sha) == {"0"}


def _push_ranges(remote: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    """``(from, to)`` commits per pushed ref, as pre-commit computes them: a new branch is
    checked from its first commit no remote has (from the empty tree for a root commit)."""
    root = os.getcwd()
    out: list[tuple[str, str]] = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4 or _zero(parts[1]):
            continue  # a deletion pushes no content
        local_id, remote_sha = commit_of(root, parts[1]), parts[3]  # words from stdin reach git as names only
        if isinstance(local_id, Failure):
            continue
        local = local_id.unwrap()
        known = not _zero(remote_sha) and not isinstance(commit_of(root, remote_sha), Failure)
        if known:  # an update of a branch the remote has: what changed since
            out.append((remote_sha, local))
            continue
        listed = git_text(["rev-list", "--topo-order", "--reverse", local, "--not", f"--remotes={remote}"], root)
        commits = listed.unwrap().split() if not isinstance(listed, Failure) else [local]
        if not commits:
            continue  # every commit is on the remote already
        parent = git_text(["rev-parse", "--verify", "-q", f"{commits[0]}^"], root)
        if isinstance(parent, Failure):  # a root commit: everything it has is new
            empty = git_text(["hash-object", "-t", "tree", "--stdin"], root)
            out.append((empty.unwrap().strip() if not isinstance(empty, Failure) else local, local))
        else:
            out.append((parent.unwrap().strip(), local))
    return out


def hook_impl_command(args: argparse.Namespace, main: Callable[[list[str]], int]) -> int:
    """What the hook script of ``args.hook_type`` runs: the legacy hook, then the stage
    that git hook runs (the stage table's ``hook_types``) through ``main``, the command
    line's entry point (once per pushed range for ``pre-push``)."""
    # only pre-push is given data on stdin (the refs); other hooks must not wait for it
    wants_stdin = args.hook_type == "pre-push" and sys.stdin is not None and not sys.stdin.isatty()
    stdin = sys.stdin.buffer.read() if wants_stdin else b""
    code = _legacy(args.hook_dir, args.hook_type, args.hook_args, stdin)
    if code != 0:
        _say(f"the legacy {args.hook_type} hook failed (exit {code})")
        return code
    stage = next(s.name for s in STAGES.values() if args.hook_type in s.hook_types)
    base = ["orch", "--stage", stage, "--hook-stage", args.hook_type, "--format", "human"]
    if args.hook_type != "pre-push":
        return main(base)
    remote = args.hook_args[0] if args.hook_args else "origin"
    worst = 0
    for old, new in _push_ranges(remote, stdin.decode("utf-8", "replace").splitlines()):
        worst = max(worst, main([*base, "--from-ref", old, "--to-ref", new]))
    return worst
