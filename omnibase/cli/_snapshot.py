"""``omnibase snapshot list|show`` (offline) and ``omnibase orch --mode replay --snapshot PATH``.

A snapshot that cannot be read (missing, truncated, corrupt, newer schema) is exit 2 with
one line naming the file; a snapshot naming a component this repository no longer has is
exit 3.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnibase.core.values import ExitCode, RunReport
    from omnibase.core.step import Shape
    from omnibase.snapshots import Snapshot

__all__ = ["add_snapshot_command", "replay", "snapshot_command"]


def add_snapshot_command(sub: Any) -> None:
    """The ``snapshot`` command and its two actions."""
    snap = sub.add_parser(
        "snapshot",
        help="list or show the failure snapshots (offline)",
        description="Failure snapshots are written after every failed run (not dry runs) to "
        ".git/omnibase/snapshots/ (the newest 20 are kept). Replay one with "
        "'omnibase orch --mode replay --snapshot PATH'.",
    )
    actions = snap.add_subparsers(dest="action", metavar="ACTION", required=True)
    s_list = actions.add_parser("list", help="the stored snapshots, newest last")
    s_show = actions.add_parser("show", help="render one snapshot: its pipeline, answers and report")
    s_show.add_argument("path", metavar="PATH")
    for p in (s_list, s_show):
        p.add_argument("--format", choices=("human", "json", "yaml"), help="output format (default: human on a terminal, json otherwise)")
        p.add_argument("--no-color", action="store_true", help="no colour and no emoji")
        p.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
        p.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")


def _fail(message: str, code: int) -> int:
    from omnibase.cli._say import say

    say(message)  # one line, secrets redacted, like every other command's
    return int(code)



def _root() -> str:
    from omnibase._io.git import repo_root

    return repo_root(os.getcwd()).value_or(os.getcwd())


def _resolve(path: str, root: str) -> str:
    """``path`` as given (from the current folder), else relative to the repository root
    (the report shows snapshot paths relative to it)."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return os.path.join(root, path)


def _format(args: argparse.Namespace) -> str:
    from omnibase.cli.formatters import default_format

    return str(args.format or default_format(sys.stdout.isatty()))


def snapshot_command(args: argparse.Namespace) -> int:
    from returns.result import Failure

    from omnibase.core.values import ExitCode
    from omnibase.snapshots import read_snapshot

    root = _root()
    if args.action == "list":
        return _list(args, root)
    loaded = read_snapshot(_resolve(args.path, root))
    if isinstance(loaded, Failure):
        return _fail(loaded.failure().message, ExitCode.CONFIG)
    _show(loaded.unwrap(), args)
    return 0


def _row(path: str, root: str) -> dict[str, Any]:
    from returns.result import Failure

    from omnibase.snapshots import read_snapshot

    loaded = read_snapshot(path)
    rel = os.path.relpath(path, root)
    shown = path if rel.startswith("..") else rel
    if isinstance(loaded, Failure):
        return {"path": shown, "error": loaded.failure().message}
    snap = loaded.unwrap()
    r = snap.report
    return {
        "path": shown,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(snap.created_at)),
        "stage": r.stage,
        "mode": snap.mode,
        "exit_code": r.exit_code,
        "failed": [s.name for s in r.steps if s.status.value == "FAIL"],
        "run_id": r.run_id,
    }


def _list(args: argparse.Namespace, root: str) -> int:
    from omnibase.snapshots import list_snapshots, snapshot_dir

    rows = [_row(p, root) for p in list_snapshots(snapshot_dir(root))]
    fmt = _format(args)
    if fmt != "human":
        from omnibase.cli._say import dump

        dump({"snapshots": rows}, fmt)
        return 0
    if not rows:
        print(f"no snapshots in {os.path.relpath(snapshot_dir(root), root)}")
        return 0
    for row in rows:
        if "error" in row:
            print(f"{row['path']}  (unreadable: {row['error']})")
        else:
            failed = ", ".join(row["failed"]) or "-"
            print(f"{row['path']}  {row['created']}  {row['stage']}  exit {row['exit_code']}  failed: {failed}")
    return 0


def _tree(shape: Shape, depth: int = 0) -> list[str]:
    """An outline of the pipeline; a chain of wrappers around one step is one line, the
    wrappers' tags (``retry x3``, ``timeout 5s``) beside it."""
    from omnibase.core.shape import kind_of

    tags: list[str] = []
    while len(shape.children) == 1 and (kind := kind_of(shape)) is not None and (tag := kind.tag(shape)) is not None:
        tags.append(tag)
        shape = shape.children[0]
    extra = " (fail fast)" if shape.fail_fast else ""
    label = shape.name if shape.kind == "component" else f"{shape.kind.replace('_', '-')} {shape.name}{extra}"
    lines = [f"{'  ' * depth}{label}" + (f"  [{', '.join(tags)}]" if tags else "")]
    for child in shape.children:
        lines += _tree(child, depth + 1)
    return lines


def _show(snap: Snapshot, args: argparse.Namespace) -> None:
    from omnibase.cli.formatters import FORMATTERS, detect_options
    from omnibase.core.visual import escaped
    from omnibase.snapshots import encode

    fmt = _format(args)
    if fmt == "json":
        sys.stdout.write(encode(snap).decode("utf-8") + "\n")
        return
    if fmt == "yaml":
        import json

        from omnibase.cli._say import dump

        dump(json.loads(encode(snap)), "yaml")
        return
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(snap.created_at))
    lines = [f"snapshot of run {snap.report.run_id} (stage {snap.ctx.stage}, mode {snap.mode}), {when}, schema {snap.schema_version}"]
    lines.append(f"files: {len(snap.ctx.files)}; answers recorded: {len(snap.calls)} ({sum(c.ok for c in snap.calls)} reusable)")
    lines.append("pipeline:")
    lines += ["  " + line for line in _tree(snap.pipeline)]
    lines.append("report:")
    print("\n".join(escaped(line) for line in lines))  # names from a file: no terminal controls
    verbose = -1 if args.quiet else args.verbose
    options = detect_options(isatty=sys.stdout.isatty(), env=os.environ, no_color=args.no_color, verbose=verbose)
    sys.stdout.write(FORMATTERS["human"](snap.report, options))


def replay(
    args: argparse.Namespace, root: str, catalogue: Any, emit: Callable[[RunReport, argparse.Namespace], None]
) -> int:
    """``orch --mode replay --snapshot PATH``: rebuild the pipeline from the snapshot with
    this repository's components, reuse the recorded answers, run the rest."""
    import msgspec
    from returns.result import Failure

    from omnibase.cli._modes import mode_of
    from omnibase.cli._observe import observed_run
    from omnibase.context import new_ctx
    from omnibase.core.values import ExitCode
    from omnibase._io.git import repo_paths
    from omnibase.core.shape import names_in, rebuild
    from omnibase.drivers import run
    from omnibase.drivers.replay import initial_value, replay_context
    from omnibase.snapshots import read_snapshot

    if not args.snapshot:
        return _fail("--mode replay needs --snapshot PATH (see 'omnibase snapshot list')", ExitCode.CONFIG)
    source = _resolve(args.snapshot, root)
    loaded = read_snapshot(source)
    if isinstance(loaded, Failure):
        return _fail(loaded.failure().message, ExitCode.CONFIG)
    snap = loaded.unwrap()
    here = replay_context(snap, root, repo_paths(root).map(lambda p: p.git_dir).value_or(None))
    if isinstance(here, Failure):
        return _fail(f"{args.snapshot}: {here.failure()}", ExitCode.CONFIG)
    catalogue.limit_builtins(names_in(snap.pipeline))
    built = rebuild(snap.pipeline, {c.name: c for c in catalogue.components})
    if isinstance(built, Failure):
        return _fail(f"{args.snapshot}: {built.failure()}", ExitCode.REGISTRY)
    step = built.unwrap()
    names = names_in(snap.pipeline)
    unresolved = [catalogue.unresolved[n] for n in names if n in catalogue.unresolved]
    if unresolved:
        return _fail(unresolved[0], ExitCode.REGISTRY)
    fresh = new_ctx(snap.ctx.stage, root=root, traceparent=os.environ.get("TRACEPARENT"))
    ctx = msgspec.structs.replace(
        here.unwrap(), run_id=fresh.run_id, trace_id=fresh.trace_id, parent_span_id=fresh.parent_span_id, dry_run=False
    )
    value = initial_value(snap)
    args.replay_snapshot = snap

    def execute(how: Any) -> RunReport:  # under the asyncio loop when the mode is asynchronous
        from omnibase.cli._modes import execute as run_mode
        from omnibase.drivers import arun

        jobs = getattr(args, "jobs", None)
        return run_mode(
            lambda: run(step, value, ctx, how.performer),
            lambda: arun(step, value, ctx, how.performer, jobs=jobs),
            how,
        )

    def finish(report: RunReport) -> RunReport:
        return msgspec.structs.replace(report, metadata={**report.metadata, "stage": ctx.stage})

    with contextlib.redirect_stdout(sys.stderr):
        try:
            report = observed_run(args, mode_of(args), ctx, step, value, execute, finish=finish)
        finally:
            catalogue.finish_builtins(ctx)  # the built-in fixers' spooled edits
    emit(report, args)
    return report.exit_code
