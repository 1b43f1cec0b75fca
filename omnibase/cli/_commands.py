"""The ``orch`` and ``registry`` commands: the edge where files, registry and terminal meet.

Every problem ends here as one line on stderr and the spec's exit code; the report (and
only the report) goes to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from returns.result import Failure, Result, Success

from omnibase.core.select import Selection, Selector, parse_filter, tags_selector
from omnibase.core.values import ExitCode, RunReport

__all__ = ["orch", "registry"]


def _fail(message: str, code: ExitCode) -> int:
    print(f"omnibase: {message}", file=sys.stderr)
    return int(code)


def _selector(args: argparse.Namespace) -> Result[Selector, str]:
    selector = Selector()
    for text in args.filter:
        parsed = parse_filter(text)
        if isinstance(parsed, Failure):
            err = parsed.failure()
            return Failure(f"--filter '{text}': {err.message}")
        selector = selector & parsed.unwrap()
    tags = [t.strip() for group in args.tags for t in group.split(",") if t.strip()]
    return Success(selector & tags_selector(tags))


def _files(args: argparse.Namespace, root: str, facts: dict[str, str] | None = None) -> Result[tuple[str, ...], str]:
    """The files the stage looks at; ``facts`` receives what git told on the way (the
    paths staged for addition, for the built-ins)."""
    from omnibase.orchestrators import files

    if args.stage == "pre-commit" and not (args.paths or args.all_files or args.from_ref):
        staged = files.staged(root)
        if isinstance(staged, Success) and facts is not None:
            facts["added"] = "\0".join(sorted(staged.unwrap().added))
        return staged.map(lambda s: s.paths).alt(lambda e: e.message)
    if args.paths:
        found = files.explicit_files(root, os.getcwd(), args.paths)
    elif args.from_ref and args.to_ref:
        found = files.changed_files(root, args.from_ref, args.to_ref)
    else:
        found = files.all_files(root)
    return found.alt(lambda e: e.message)


def _render(report: RunReport, args: argparse.Namespace) -> str:
    from omnibase.cli.formatters import FORMATTERS, default_format, detect_options

    fmt = args.format or default_format(sys.stdout.isatty())
    verbose = -1 if args.quiet else args.verbose
    options = detect_options(isatty=sys.stdout.isatty(), env=os.environ, no_color=args.no_color, verbose=verbose)
    return FORMATTERS[fmt](report, options)


def _emit(report: RunReport, args: argparse.Namespace) -> None:
    text = _render(report, args)
    if args.output:
        from omnibase._atomic import write_atomic

        write_atomic(args.output, text.encode("utf-8"))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def orch(args: argparse.Namespace) -> int:
    from omnibase.cli._catalogue import load_catalogue
    from omnibase.orchestrators import files

    if args.stage != "pipeline" and (args.from_ or args.to):
        return _fail("--from/--to belong to --stage pipeline", ExitCode.CONFIG)
    selector = _selector(args)
    if isinstance(selector, Failure):
        return _fail(selector.failure(), ExitCode.CONFIG)
    if bool(args.from_ref) != bool(args.to_ref):
        return _fail("--from-ref and --to-ref go together", ExitCode.CONFIG)
    root_found = files.repo_paths(os.getcwd())
    git_dir: str | None = None
    if isinstance(root_found, Failure):
        if args.paths:
            root = os.getcwd()
        else:
            return _fail(f"not inside a git repository ({root_found.failure().message}); give paths to check", ExitCode.CONFIG)
    else:
        root, git_dir = root_found.unwrap().root, root_found.unwrap().git_dir
    loaded = load_catalogue(args.registry, root=root, cwd=os.getcwd())
    if isinstance(loaded, Failure):
        message, code = loaded.failure()
        return _fail(message, code)
    catalogue = loaded.unwrap()
    orchestrator = catalogue.orchestrator(
        args.stage,
        selector.unwrap(),
        names=[args.from_, *args.to] if args.from_ else list(args.to),
        fail_fast=args.exitfirst,
        dry_run=args.dry_run,
        hook_stage=args.hook_stage or ("pre-commit" if args.stage == "pre-commit" else None),
    )
    selection = orchestrator.select()
    if args.list:
        return _list(selection, args)
    unresolved = [catalogue.unresolved[c.name] for c in selection.kept if c.name in catalogue.unresolved]
    if unresolved:
        return _fail(unresolved[0], ExitCode.REGISTRY)
    if not selection.kept and args.stage != "pipeline":
        why = f"; {len(selection.dropped)} filtered out (see --list)" if selection.dropped else ""
        return _fail(f"nothing selected for stage {args.stage}{why}", ExitCode.FAILED)
    stash = git_dir is not None and args.stage == "pre-commit" and not args.paths and not args.all_files
    if not stash:
        return _run_stage(args, catalogue, orchestrator, root, git_dir)
    from omnibase.precommit._stash import staged_only

    with staged_only(root, git_dir or "") as stashed:
        if isinstance(stashed, Failure):
            return _fail(stashed.failure().message, ExitCode.CONFIG)
        index = stashed.unwrap().worktree_is_index
        code = _run_stage(args, catalogue, orchestrator, root, git_dir, emit=False, worktree_is_index=index)
    state = stashed.unwrap()
    report = getattr(orchestrator, "last_report", None)
    if state.rolled_back:
        note = "the fixes conflicted with your unstaged changes and were rolled back; stage or stash them and run again"
        print(f"omnibase: {note}", file=sys.stderr)
        if report is not None:
            import msgspec

            report = msgspec.structs.replace(report, metadata={**report.metadata, "stash": note})
    if state.error is not None:
        print(f"omnibase: {state.error}", file=sys.stderr)
        code = max(code, int(ExitCode.CONFIG))
    if report is not None:
        _emit(report, args)
        if report.error is not None and not report.steps:
            print(f"omnibase: {_error_line(report)}", file=sys.stderr)
    return code


def _run_stage(
    args: argparse.Namespace,
    catalogue: Any,
    orchestrator: Any,
    root: str,
    git_dir: str | None,
    *,
    emit: bool = True,
    worktree_is_index: bool = False,
) -> int:
    """Select the files, run the stage, and (``emit``) print the report."""
    from omnibase.context import new_ctx

    facts: dict[str, str] = {}
    found = _files(args, root, facts)
    if isinstance(found, Failure):
        return _fail(found.failure(), ExitCode.CONFIG)
    excluded = re.compile(catalogue.registry.exclude)
    chosen = tuple(f for f in found.unwrap() if not excluded.search(f))
    staged = args.stage == "pre-commit" and not (args.paths or args.all_files or args.from_ref)
    if staged and not chosen and _human(args) and not _always_run(catalogue, orchestrator):
        print("no files staged; use --all-files to check every tracked file")
        return 0
    params = {
        "git_dir": git_dir or "",
        "cache": "off" if args.no_cache else "on",
        "worktree": "index" if worktree_is_index else "",
        **facts,
    }
    ctx = new_ctx(args.stage, root=root, files=chosen, dry_run=args.dry_run, params=params)
    observers = _observers(args, ctx.trace_id)
    if observers:
        from omnibase.drivers import SyncDriver

        orchestrator.driver = SyncDriver(observers)
    # stdout carries the report alone: what components print goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            report = orchestrator.run(ctx)
        finally:
            catalogue.batch.flush(root)  # fixes a run stopped early had reported
    orchestrator.last_report = report
    if emit:
        _emit(report, args)
        if report.error is not None and not report.steps:
            print(f"omnibase: {_error_line(report)}", file=sys.stderr)
    return int(report.exit_code)


def _human(args: argparse.Namespace) -> bool:
    from omnibase.cli.formatters import default_format

    return (args.format or default_format(sys.stdout.isatty())) == "human"


def _always_run(catalogue: Any, orchestrator: Any) -> bool:
    kept = {c.name for c in orchestrator.select().kept}
    return any(e.always_run for e in catalogue.registry.entries if e.name in kept)


def _error_line(report: RunReport) -> str:
    err = report.error
    message = getattr(err, "message", None) or type(err).__name__
    return str(message)


def _observers(args: argparse.Namespace, trace_id: str) -> Sequence[Any]:
    if args.verbose < 1:
        return ()
    from omnibase.cli._observe import log_observer

    return (log_observer(trace_id),)


def _list(selection: Selection, args: argparse.Namespace) -> int:
    rows_kept = [(c.name, c.meta.type.value, c.meta.lifecycle.value, sorted(c.meta.tags)) for c in selection.kept]
    rows_dropped = [(c.name, why) for c, why in selection.dropped]
    fmt = args.format or ("human" if sys.stdout.isatty() else "json")
    if fmt == "human":
        lines = [f"would run ({len(rows_kept)}):"]
        lines += [f"  {n}  [{t}, {lc}] {', '.join(tags)}" for n, t, lc, tags in rows_kept]
        lines.append(f"would not run ({len(rows_dropped)}):")
        lines += [f"  {n}: {why}" for n, why in rows_dropped]
        print("\n".join(lines))
    else:
        data = {
            "selected": [{"name": n, "type": t, "lifecycle": lc, "tags": tags} for n, t, lc, tags in rows_kept],
            "excluded": [{"name": n, "reason": why} for n, why in rows_dropped],
        }
        _dump(data, fmt)
    return 0


def _dump(data: object, fmt: str) -> None:
    if fmt == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    else:
        import json

        print(json.dumps(data, indent=2, ensure_ascii=False))


def registry(args: argparse.Namespace) -> int:
    if args.action == "import-pre-commit":
        from omnibase.registry._import import import_command

        return import_command(args)
    from omnibase.cli._catalogue import registry_command

    return registry_command(args, _emit)
