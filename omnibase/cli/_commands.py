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
from typing import TYPE_CHECKING, Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.cli._modes import mode_of, mode_problem
from omnibase.cli._modes import execute as run_mode
from omnibase.cli._observe import check_outputs, observed_run
from omnibase.cli._process import check_output, finish_report
from omnibase.cli._request import StageRequest
from omnibase.cli._say import dump as _dump
from omnibase.cli._say import say
from omnibase.core.select import Selection, Selector, parse_filter, tags_selector
from omnibase.core.values import ExitCode, RunReport
from omnibase.core.modes import MODES
from omnibase.orchestrators.table import STAGES

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from omnibase._io.git import GitStatus
    from omnibase.drivers.modes import Stack
    from omnibase.precommit._stash import Lookahead, Stashed

__all__ = ["orch", "registry"]


def _fail(message: str, code: ExitCode) -> int:
    say(message)
    return int(code)


def _selector(request: StageRequest) -> Result[Selector, str]:
    """The user's pick: every ``--filter`` and ``--tags`` given."""
    selector = Selector()
    for text in request.filters:
        parsed = parse_filter(text)
        if isinstance(parsed, Failure):
            err = parsed.failure()
            return Failure(f"--filter '{text}': {err.message}")
        selector = selector & parsed.unwrap()
    if request.ids:  # run ID...: only these names
        from omnibase.core.select import Clause

        selector = selector & Selector((Clause("name", request.ids),))
    return Success(selector & tags_selector(list(request.tags)))


def _files(
    request: StageRequest, root: str, facts: dict[str, str] | None = None, status: GitStatus | None = None
) -> Result[tuple[str, ...], str]:
    """The files the stage looks at; ``facts`` receives what git told on the way (the
    paths staged for addition, for the built-ins). ``status``: a ``_io.git.GitStatus`` the run
    already has (the stash asked), which answers for the staged files without asking git."""
    from omnibase._io import git as files

    if request.on_staged:
        staged: Result[files.Staged, files.FileScopeError] = (
            Success(status.staged_now(root)) if status is not None else files.staged(root)
        )
        if isinstance(staged, Success) and facts is not None:
            facts["added"] = "\0".join(sorted(staged.unwrap().added))
        return staged.map(lambda s: s.paths).alt(lambda e: e.message)
    if request.paths or request.files_given:
        given, in_git_dir = _git_dir_files(root, request.paths)
        found = files.explicit_files(root, os.getcwd(), given).map(lambda rel: (*rel, *in_git_dir))
    elif request.from_ref and request.to_ref:
        found = files.changed_files(root, request.from_ref, request.to_ref)
    else:
        found = files.all_files(root)
    return found.alt(lambda e: e.message)


def _git_dir_files(root: str, paths: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
    """The paths given, less the files of the repository's git directory (the commit
    message file git hands a ``commit-msg`` hook: in a linked worktree it lies outside the
    work tree), which are kept as absolute paths."""
    from omnibase._io.git import repo_paths

    found = repo_paths(root)
    if isinstance(found, Failure) or not any(os.path.isabs(p) or ".git" in p for p in paths):
        return list(paths), ()
    git_dir = os.path.realpath(found.unwrap().git_dir) + os.sep
    inside = tuple(os.path.realpath(p) for p in paths if os.path.realpath(p).startswith(git_dir) and os.path.isfile(p))
    return [p for p in paths if os.path.realpath(p) not in inside], inside


def _stdout_format(args: argparse.Namespace) -> str:
    from omnibase.cli.formatters import default_format

    return str(args.format or default_format(sys.stdout.isatty()))


def _format_for(path: str) -> str:
    """The report format a file's extension asks for: json, yaml, else human (no ANSI)."""
    ext = os.path.splitext(path)[1].lower()
    return {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(ext, "human")


def _render(report: RunReport, args: argparse.Namespace, *, isatty: bool) -> str:
    from omnibase.cli.formatters import FORMATTERS, default_format, detect_options

    fmt = args.format or default_format(isatty)
    verbose = -1 if args.quiet else args.verbose
    options = detect_options(isatty=isatty, env=os.environ, no_color=args.no_color, verbose=verbose)
    return FORMATTERS[fmt](report, options)  # redacted there, as every rendering


def _emit(report: RunReport, args: argparse.Namespace, streamed: Any = None) -> bool:
    """Print the report; with ``-o``, also write it (``-o FILE`` is ``--report FORMAT=FILE``
    with the format the file's extension says unless ``--format`` does, written the same
    way). False when the file could not be written.
    ``streamed``: the jsonl stream that has already written its lines on stdout, so only the
    last line is left to print."""
    isatty = sys.stdout.isatty()
    text = _render(report, args, isatty=isatty)
    written = True
    if args.output:
        from omnibase.cli._reports import ReportTarget, write_targets

        target = ReportTarget(args.format or _format_for(args.output), args.output)
        problem = write_targets(report, [target], {}, -1 if args.quiet else args.verbose)
        if problem is not None:
            print(f"omnibase: {problem}", file=sys.stderr)
            written = False
    if streamed is not None:
        text = streamed.last(report)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return written


def _print(report: RunReport, args: argparse.Namespace) -> None:
    _emit(report, args)


def orch(args: argparse.Namespace) -> int:
    from omnibase.cli import _reports
    from omnibase._io import git as files

    request = StageRequest.of(args, mode=mode_of(args))
    if request.spec.selects == "names" and (request.skip or request.only_failed or request.maxfail):
        filtered = ", ".join(s.name for s in STAGES.values() if s.selects == "filter")
        return _fail(f"--skip, --only-failed and --maxfail belong to the {filtered} stages", ExitCode.CONFIG)
    targets = _reports.parse_targets(args.report, os.getcwd())
    otel = _reports.otel_wanted(args.otel, os.environ)
    for checked in (targets, otel):
        if isinstance(checked, Failure):
            return _fail(checked.failure(), ExitCode.CONFIG)
    selector = _selector(request)
    if isinstance(selector, Failure):
        return _fail(selector.failure(), ExitCode.CONFIG)
    if bool(request.from_ref) != bool(request.to_ref):
        return _fail("--from-ref and --to-ref go together", ExitCode.CONFIG)
    root_found = files.repo_paths(os.getcwd())
    git_dir: str | None = None
    if isinstance(root_found, Failure):
        if request.paths:
            root = os.getcwd()
        else:
            return _fail(f"not inside a git repository ({root_found.failure().message}); give paths to check", ExitCode.CONFIG)
    else:
        root, git_dir = root_found.unwrap().root, root_found.unwrap().git_dir
    ahead: Lookahead | None = None
    mode = MODES[request.mode]
    if git_dir is not None and not request.stashes and not (request.listing or request.graph) and mode.writes:
        from omnibase.precommit._stash import leftover_notice

        notice = leftover_notice(git_dir)  # this run may write files: say where the set-aside work is
        if notice is not None:
            say(notice)
    if git_dir is not None and request.stashes and not (request.listing or request.graph) and mode.writes and not mode.replays:
        from omnibase.precommit._stash import look_ahead

        ahead = look_ahead(root, git_dir)  # the stash's lock and git status (the git hook started them already)
    elif "omnibase.precommit._stash" in sys.modules:  # the git hook's early lock and status: not used
        sys.modules["omnibase.precommit._stash"].drop_early()  # (none without that module: nothing imported)
    try:
        return _orch_in(args, request, root, git_dir, selector.unwrap(), (targets.unwrap(), otel.unwrap()), ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _orch_in(
    args: argparse.Namespace, request: StageRequest, root: str, git_dir: str | None, chosen: Selector, reports: tuple[Any, Any],
    ahead: Lookahead | None,
) -> int:
    """``orch`` once the repository is known; ``ahead``: see ``precommit._stash.look_ahead``.
    ``request`` decides what runs; ``args`` keeps the output options."""
    from omnibase.cli._catalogue import load_catalogue

    loaded = load_catalogue(args.registry, root=root, cwd=os.getcwd())
    if isinstance(loaded, Failure):
        message, code = loaded.failure()
        return _fail(message, code)
    catalogue = loaded.unwrap()
    known = {c.name for c in catalogue.components}
    unknown = [i for i in request.ids if i not in known]
    if unknown:
        return _fail(f"no component named {', '.join(unknown)} (omnibase registry list shows them)", ExitCode.CONFIG)
    from omnibase.cli import _graphs

    bad_graph = _graphs.check_needs(catalogue)
    if bad_graph is not None:
        return _fail(bad_graph, ExitCode.CONFIG)
    mode = request.mode
    from omnibase.cli import _terminal

    problem = mode_problem(args) or check_outputs(args) or _terminal.terminal_problem(args, mode)
    if problem is not None:
        return _fail(problem, ExitCode.CONFIG)
    if MODES[mode].replays:  # the snapshot's pipeline, not the stage's
        from omnibase.cli._snapshot import replay

        catalogue.resolve([e.name for e in catalogue.registry.entries])  # what the snapshot names
        return replay(args, root, catalogue, _print)
    only_cases = _graphs.failed_cases(root, request.stage) if request.only_failed else {}
    chosen = catalogue.select_cases(
        request.stage, chosen, only=only_cases, maxfail=request.maxfail, exitfirst=request.fail_fast, jobs=request.jobs
    )
    planned = _graphs.stage_plan(request, catalogue, root, os.environ)
    if isinstance(planned, Failure):
        return _fail(*planned.failure())

    def build() -> Any:
        built = catalogue.orchestrator(
            request.stage, chosen, names=request.names, fail_fast=request.fail_fast, hook_stage=request.hook_stage,
            retries=MODES[mode].retries,
        )
        built.stage_plan = planned.unwrap()
        return built

    orchestrator = build()
    selection = orchestrator.select()
    if request.listing:
        return _list(selection, args, mode)
    outside = _graphs.unselected(orchestrator.stage_plan, selection.kept, request.stage)
    if outside is not None:
        return _fail(outside, ExitCode.CONFIG)
    bad_break = _terminal.unknown_breakpoint(args, {c.name for c in catalogue.components})
    if bad_break is not None:
        return _fail(bad_break, ExitCode.CONFIG)
    if request.graph:  # like --list: before anything is imported, looked up or run
        planned_chain = orchestrator.plan() if hasattr(orchestrator, "plan") else None
        if isinstance(planned_chain, Failure):  # the pipeline stage: what a run would say
            from omnibase.core.refusals import refusal_code

            return _fail(_error_line_of(planned_chain.failure()), refusal_code(planned_chain.failure()))
        if not selection.kept:
            return _fail(f"nothing selected for stage {request.stage} (see --list)", ExitCode.FAILED)
        return _terminal.graph_command(args, orchestrator.assemble(selection), request.stage)
    # only now, and only what is selected and needed, is imported or looked up on PATH
    components = catalogue.components
    unresolved = catalogue.resolve([c.name for c in selection.kept], dry_run=not MODES[mode].writes)
    if unresolved:
        return _fail(unresolved[0], ExitCode.REGISTRY)
    if catalogue.components is not components:  # entries resolved: the pipeline is made again with them
        orchestrator = build()
        selection = orchestrator.select()
    if not selection.kept and request.spec.selects == "filter":  # a named pipeline refuses itself
        why = f"; {len(selection.dropped)} filtered out (see --list)" if selection.dropped else ""
        return _fail(f"nothing selected for stage {request.stage}{why}", ExitCode.FAILED)
    from omnibase.cli._modes import prepare_executor

    refused = prepare_executor(args, selection.kept)  # before anything runs
    if refused is not None:
        return _fail(refused, ExitCode.CONFIG)
    stage = _Stage(args, request, catalogue, orchestrator, selection, root, git_dir, reports)
    if git_dir is None or not request.stashes or not MODES[mode].writes:  # a dry run changes nothing, unstaged work included
        return stage.run()
    from omnibase.precommit._supervise import supervised_stash

    def run(state: Stashed) -> int:
        return stage.run(emit=False, worktree_is_index=state.worktree_is_index, status=state.status)

    def finish(state: Stashed, code: int) -> int:
        report = stage.report
        if state.rolled_back:
            note = "the fixes conflicted with your unstaged changes and were rolled back; stage or stash them and run again"
            say(note)
            if report is not None:
                report = msgspec.structs.replace(report, metadata={**report.metadata, "stash": note})
        if state.error is not None:
            say(state.error)
            code = max(code, int(ExitCode.CONFIG))
        if report is not None:
            return stage.emit(report, code)
        return code

    def child_exit(body: Callable[[], int]) -> int:
        from omnibase.cli._process import exit_code, guarded

        return exit_code(guarded(body))

    return supervised_stash(
        root, git_dir, ahead, run, finish, lambda message: _fail(message, ExitCode.CONFIG), child_exit, say,
        in_process=_cannot_end_early(catalogue.registry, selection.kept),
    )


def _cannot_end_early(registry: Any, kept: Sequence[Any]) -> bool:
    """Whether nothing a run of ``kept`` starts can end this process before it reports: each
    is a built-in check (ours, in this process) or runs in a process of its own (a command),
    and no hook runs. A Python component or hook runs in this process (or may: its
    isolation is its own to choose) and could leave it with ``os._exit(0)``."""
    from omnibase.components.builtin import BuiltinCheck
    from omnibase.drivers.kinds import kind_of

    if any(e.hooks is not None for e in registry.entries) or any(c.hooks is not None for c in registry.stages.values()):
        return False
    return all(isinstance(c.fn, BuiltinCheck) or kind_of(c).own_process for c in kept)


def _listen_for_cases(stream: Any) -> Callable[[], None]:
    """Have the jsonl ``stream`` (when there is one) write each test case as the test
    runners finish it; the function returned stops that."""
    if stream is None:
        return lambda: None
    from omnibase.components.pytest_runner import listen

    return listen(stream.case)


class _Stage:
    """One stage's run once everything is selected: files, context, mode, report."""

    def __init__(
        self, args: argparse.Namespace, request: StageRequest, catalogue: Any, orchestrator: Any,
        selection: Selection, root: str, git_dir: str | None, reports: tuple[Any, Any],
    ) -> None:  # fmt: skip
        self.args, self.catalogue, self.orchestrator, self.selection = args, catalogue, orchestrator, selection
        self.request, self.mode, self.root, self.git_dir = request, request.mode, root, git_dir
        self.targets, self.otel = reports  # --report FORMAT=FILE, and the OpenTelemetry export
        self.stream: Any = None  # the jsonl stream, when one is asked for
        self.report: RunReport | None = None

    def run(self, *, emit: bool = True, worktree_is_index: bool = False, status: GitStatus | None = None) -> int:
        """Select the files, run the stage, and (``emit``) print the report (``status``:
        see ``_files``)."""
        from omnibase.context import new_ctx

        args, catalogue, orchestrator, mode = self.args, self.catalogue, self.orchestrator, self.mode
        facts: dict[str, str] = {}
        found = _files(self.request, self.root, facts, status)
        if isinstance(found, Failure):
            return _fail(found.failure() + _component_hint(self.request.paths, catalogue), ExitCode.CONFIG)
        excluded = re.compile(catalogue.registry.exclude)
        chosen = tuple(f for f in found.unwrap() if not excluded.search(f))
        if self.request.on_staged and not chosen and _human(args) and not _always_run(catalogue, orchestrator):
            print("no files staged; use --all-files to check every tracked file")
            return 0
        params = {
            "git_dir": self.git_dir or "",
            "cache": "off" if args.no_cache else "on",
            "worktree": "index" if worktree_is_index else "",
            **facts,
        }
        ctx = new_ctx(
            self.request.stage, root=self.root, files=chosen, dry_run=not MODES[mode].writes, params=params,
            traceparent=os.environ.get("TRACEPARENT"),
        )  # fmt: skip

        refused = orchestrator.refusal(msgspec.structs.replace(ctx, stage=orchestrator.stage))
        if refused is not None:  # the gate says no: nothing runs, nothing to snapshot
            self.report = refused
            return self.emit(refused, refused.exit_code) if emit else refused.exit_code
        from omnibase.cli import _reports

        self.stream = _reports.stream_for(_stdout_format(args), self.targets, ctx.trace_id, sys.stdout)

        def execute(how: Stack) -> RunReport:
            orchestrator.driver = how.performer
            orchestrator.jobs = self.request.jobs
            if MODES[mode].writes:  # breakers are kept between runs; a dry run leaves no state behind
                from omnibase._io.breakers import BreakerStore

                orchestrator.breakers = BreakerStore.of(self.root)
            return run_mode(lambda: orchestrator.run(ctx), lambda: orchestrator.arun(ctx), how)

        def finish(report: RunReport) -> RunReport:
            if MODES[mode].writes:  # only a run that changes nothing has a plan to show
                return report
            from omnibase.drivers.dryrun import with_plan

            filters = orchestrator.stage_filter & orchestrator.selector
            return with_plan(report, self.selection, filters, kept_reason=orchestrator.kept_reason)

        step = orchestrator.assemble(self.selection)
        adoption: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if not _builtins_only(catalogue.registry):
            from omnibase.drivers.isolation.spawn import adopting_orphans

            adoption = adopting_orphans()  # a command's orphaned daemons are ours to kill and reap, during the run
        from omnibase.cli import _terminal

        progress = _terminal.progress_for(args, step, orchestrator.stage)
        debugging = _terminal.debugger_for(args, step)
        extra = [o for o in (self.stream, progress and progress.observe, debugging and debugging.observe) if o is not None]
        # stdout carries the report alone: components run with fds 1 and 2 captured (or in
        # workers whose output is captured); what they print is in their step's result.
        unlisten = _listen_for_cases(self.stream)
        unwritten: dict[str, str] = {}  # fixes whose write failed: path -> why
        with adoption, contextlib.redirect_stdout(sys.stderr):
            try:
                report = observed_run(
                    args, mode, msgspec.structs.replace(ctx, stage=orchestrator.stage), step, orchestrator.initial(ctx),
                    execute, finish=finish, extra=extra, decorate=debugging.wrap if debugging else None,
                )  # fmt: skip
            finally:
                unlisten()
                if progress is not None:  # erased before the report is printed
                    progress.close()
                catalogue.finish_builtins(ctx, unwritten)  # the fixers' spooled edits, also of a run stopped early
        if unwritten:
            from omnibase.components.builtin import unwritten as told

            report = told(report, unwritten)
        if MODES[mode].writes:  # a dry run leaves no state behind
            from omnibase.cli import _graphs

            _graphs.record(self.root, report, per_tree=self.request.stage in _graphs.required_stages(catalogue.registry))
        report = finish_report(report, catalogue.registry.path)
        if MODES[mode].writes:  # the whole output of what the human view cuts, in the state folder
            from omnibase.cli._kept import keep_cut_outputs

            report = keep_cut_outputs(report, self.root, os.getcwd())
        self.report = report
        return self.emit(report, report.exit_code) if emit else report.exit_code

    def emit(self, report: RunReport, code: int) -> int:
        from omnibase.cli import _reports

        fmt = _stdout_format(self.args)
        if not _emit(report, self.args, self.stream if fmt == "jsonl" else None) and code == 0:
            code = int(ExitCode.CONFIG)
        if report.error is not None and not report.steps:
            say(_error_line(report))
        problem = _reports.deliver(report, self.targets, fmt, self.stream, otel=self.otel, verbose=self.args.verbose)
        if problem is not None:
            return _fail(problem, ExitCode.CONFIG)
        return code


def _component_hint(paths: tuple[str, ...], catalogue: Any) -> str:
    """A hint when a path given that is no file names a component (``orch ID``, as a
    pre-commit user would say ``pre-commit run ID``)."""
    names = {c.name for c in catalogue.components}
    ids = [p for p in paths if p in names and not os.path.lexists(p)]
    if not ids:
        return ""
    return f"; {ids[0]} is a component, not a file: 'omnibase run {' '.join(ids)}' runs it (paths go after --files)"


def _builtins_only(registry: Any) -> bool:
    """Whether a run can start no command of the user's: the registry (if any) names only
    built-ins, without hooks. Then nobody's orphans need adopting (and ``ctypes``, which
    adopting them needs, is not imported)."""
    return all(e.builtin is not None and e.hooks is None for e in registry.entries) and not any(
        c.hooks is not None for c in registry.stages.values()
    )


def _human(args: argparse.Namespace) -> bool:
    from omnibase.cli.formatters import default_format

    return (args.format or default_format(sys.stdout.isatty())) == "human"


def _always_run(catalogue: Any, orchestrator: Any) -> bool:
    kept = {c.name for c in orchestrator.select().kept}
    return any(e.always_run for e in catalogue.registry.entries if e.name in kept)


def _error_line(report: RunReport) -> str:
    return _error_line_of(report.error)


def _error_line_of(err: object) -> str:
    message = getattr(err, "message", None) or type(err).__name__
    return str(message)


def _retry_note(meta: Any, mode: str) -> str:
    """What the stage's retry wrapping does for a component: idempotent ones are retried on
    transient failures, the others make exactly one attempt, and so does every one in a mode
    that does not retry (the list says which)."""
    if not MODES[mode].retries:
        return f"no retry: --mode {mode}"
    return "retried when transient" if meta.idempotent else "no retry: not idempotent"


def _list(selection: Selection, args: argparse.Namespace, mode: str) -> int:
    rows_kept = [
        (c.name, c.meta.type.value, c.meta.lifecycle.value, sorted(c.meta.tags), _retry_note(c.meta, mode))
        for c in selection.kept
    ]
    rows_dropped = [(c.name, why) for c, why in selection.dropped]
    fmt = args.format or ("human" if sys.stdout.isatty() else "json")
    if fmt == "human":
        lines = [f"would run ({len(rows_kept)}):"]
        lines += [f"  {n}  [{t}, {lc}] {', '.join(tags)} ({retry})" for n, t, lc, tags, retry in rows_kept]
        lines.append(f"would not run ({len(rows_dropped)}):")
        lines += [f"  {n}: {why}" for n, why in rows_dropped]
        print("\n".join(lines))
    else:
        data = {
            "selected": [
                {"name": n, "type": t, "lifecycle": lc, "tags": tags, "retry": retry}
                for n, t, lc, tags, retry in rows_kept
            ],
            "excluded": [{"name": n, "reason": why} for n, why in rows_dropped],
        }
        _dump(data, fmt)
    return 0


def registry(args: argparse.Namespace) -> int:
    if args.action == "import-pre-commit":
        from omnibase.registry._import import import_command

        return import_command(args)
    from omnibase.cli._registry_cmd import registry_command

    return registry_command(args, _emit)
