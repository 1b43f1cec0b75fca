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
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.cli._modes import Mode, mode_of, mode_problem
from omnibase.cli._modes import execute as run_mode
from omnibase.cli._observe import check_outputs, observed_run
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


def _files(args: argparse.Namespace, root: str) -> Result[tuple[str, ...], str]:
    from omnibase.orchestrators import files

    if args.paths:
        found = files.explicit_files(root, os.getcwd(), args.paths)
    elif args.stage == "pre-commit" and not args.all_files:
        found = files.staged_files(root)
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
    from omnibase.context import new_ctx
    from omnibase.orchestrators import files

    if args.stage == "pipeline" and (args.skip or args.only_failed or args.maxfail):
        return _fail("--skip, --only-failed and --maxfail belong to the pre-commit, test and ci stages", ExitCode.CONFIG)
    selector = _selector(args)
    if isinstance(selector, Failure):
        return _fail(selector.failure(), ExitCode.CONFIG)
    root_found = files.repo_root(os.getcwd())
    if isinstance(root_found, Failure):
        if args.paths:
            root = os.getcwd()
        else:
            return _fail(f"not inside a git repository ({root_found.failure().message}); give paths to check", ExitCode.CONFIG)
    else:
        root = root_found.unwrap()
    loaded = load_catalogue(args.registry, root=root, cwd=os.getcwd())
    if isinstance(loaded, Failure):
        message, code = loaded.failure()
        return _fail(message, code)
    catalogue = loaded.unwrap()
    from omnibase.cli import _graphs

    bad_graph = _graphs.check_needs(catalogue)
    if bad_graph is not None:
        return _fail(bad_graph, ExitCode.CONFIG)
    mode = mode_of(args)
    problem = mode_problem(args) or check_outputs(args)
    if problem is not None:
        return _fail(problem, ExitCode.CONFIG)
    if mode == "replay":
        from omnibase.cli._snapshot import replay

        return replay(args, root, catalogue, _emit)
    orchestrator = catalogue.orchestrator(
        args.stage,
        selector.unwrap(),
        names=[args.from_, *args.to] if args.from_ else list(args.to),
        fail_fast=args.exitfirst,
    )
    planned = _graphs.stage_plan(args, catalogue, args.stage, root, os.environ)
    if isinstance(planned, Failure):
        return _fail(*planned.failure())
    orchestrator.stage_plan = planned.unwrap()
    selection = orchestrator.select()
    if args.list:
        return _list(selection, args)
    outside = _graphs.unselected(orchestrator.stage_plan, selection.kept, args.stage)
    if outside is not None:
        return _fail(outside, ExitCode.CONFIG)
    unresolved = [catalogue.unresolved[c.name] for c in selection.kept if c.name in catalogue.unresolved]
    if unresolved:
        return _fail(unresolved[0], ExitCode.REGISTRY)
    if not selection.kept and args.stage != "pipeline":
        why = f"; {len(selection.dropped)} filtered out (see --list)" if selection.dropped else ""
        return _fail(f"nothing selected for stage {args.stage}{why}", ExitCode.FAILED)
    found = _files(args, root)
    if isinstance(found, Failure):
        return _fail(found.failure(), ExitCode.CONFIG)
    excluded = re.compile(catalogue.registry.exclude)
    chosen = tuple(f for f in found.unwrap() if not excluded.search(f))
    ctx = new_ctx(args.stage, root=root, files=chosen, dry_run=mode == "dry-run", traceparent=os.environ.get("TRACEPARENT"))
    refused = orchestrator.refusal(msgspec.structs.replace(ctx, stage=orchestrator.stage))
    if refused is not None:  # the gate says no: nothing runs, nothing to snapshot
        _emit(refused, args)
        print(f"omnibase: {_error_line(refused)}", file=sys.stderr)
        return refused.exit_code

    def execute(how: Mode) -> RunReport:
        orchestrator.driver = how.performer
        orchestrator.jobs = args.jobs
        return run_mode(lambda: orchestrator.run(ctx), lambda: orchestrator.arun(ctx), how)

    def finish(report: RunReport) -> RunReport:
        if mode != "dry-run":
            return report
        from omnibase.drivers.dryrun import with_plan

        why = "selected: named by --from/--to" if args.stage == "pipeline" else None
        return with_plan(report, selection, orchestrator.stage_filter & orchestrator.selector, kept_reason=why)

    step = orchestrator.assemble(selection)
    # stdout carries the report alone: what components print goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        report = observed_run(
            args, mode, msgspec.structs.replace(ctx, stage=orchestrator.stage), step, orchestrator.initial(ctx), execute, finish=finish
        )
    if mode != "dry-run":
        _graphs.record(root, report, per_tree=args.stage in _graphs.required_stages(catalogue.registry))
    _emit(report, args)
    if report.error is not None and not report.steps:
        print(f"omnibase: {_error_line(report)}", file=sys.stderr)
    return report.exit_code


def _error_line(report: RunReport) -> str:
    err = report.error
    message = getattr(err, "message", None) or type(err).__name__
    return str(message)


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
    from omnibase.cli._catalogue import registry_command

    return registry_command(args, _emit)
