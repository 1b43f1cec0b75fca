"""One instrumented run for the CLI: the mode's performer, logs, metrics, profile, snapshot.

``observed_run`` builds the performers the mode asks for (``drivers.modes.stack``), wraps
them with the profiler (``--profile-out``) and the recorder (every mode that ``records``,
for the failure snapshot), attaches the log and metrics observers, runs, and fills the report's
``profiled``, ``plan``/``diff``, ``metrics`` and ``snapshot`` fields; it writes the files
asked for (trace, metrics) and, after a failed run, the snapshot. Structured logs go to
stderr or ``--log-file``, never to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TextIO

import msgspec
from returns.result import Failure

from omnibase.core.step import Step
from omnibase.core.values import ExecCtx, RunReport

__all__ = ["check_outputs", "observed_run", "open_log"]

Execute = Callable[[Any], RunReport]  # takes a drivers.modes.Stack


def check_outputs(args: argparse.Namespace) -> str | None:
    """Why one of the files the options name cannot be written (``omnibase._io.outputs``:
    no link, folder, FIFO or device), before anything runs."""
    from omnibase._io.outputs import open_append, output_path

    for flag in ("profile_out", "metrics_out", "log_file"):
        path = getattr(args, flag, None)
        if path:
            checked = output_path(path, os.getcwd())
            if isinstance(checked, Failure):
                return f"--{flag.replace('_', '-')} {checked.failure()}"
    if getattr(args, "log_file", None):
        opened = open_append(args.log_file)
        if isinstance(opened, Failure):
            return f"--log-file {opened.failure()}"
        opened.unwrap().close()
    return None


def _write(flag: str, path: str, write: Callable[[str, RunReport], None], report: RunReport) -> None:
    """Write an output file the options asked for; a failure is one line on stderr (the
    run's report and exit code stand)."""
    try:
        write(path, report)
    except OSError as exc:
        print(f"omnibase: {flag} {path}: cannot write ({exc.strerror or exc})", file=sys.stderr)


def open_log(args: argparse.Namespace) -> TextIO:
    """Where the logs go: ``--log-file`` (appended through the safe opener: never through a
    symlink, never to a FIFO or device) or stderr. ``OSError`` when it cannot be opened."""
    if not args.log_file:
        return sys.stderr
    from omnibase._io.outputs import open_append

    opened = open_append(args.log_file)
    if isinstance(opened, Failure):
        raise OSError(opened.failure())
    return opened.unwrap()


def _log_observer(args: argparse.Namespace, ctx: ExecCtx, stream: TextIO) -> Any:
    from omnibase.observers.logs import LogObserver, level_of, make_logger

    color = stream is sys.stderr and stream.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
    fmt: Literal["json", "console"] = "json" if args.log_format == "json" else "console"
    level = level_of(args.verbose, args.quiet)
    from omnibase.cli.formatters import default_format

    beside = stream is sys.stderr and fmt == "console" and not getattr(args, "output", None)
    reported = beside and (getattr(args, "format", None) or default_format(sys.stdout.isatty())) == "human"
    return LogObserver(ctx, lambda: make_logger(stream, fmt=fmt, level=level, color=color), level, reported=reported)


def observed_run(
    args: argparse.Namespace,
    mode: str,
    ctx: ExecCtx,
    step: Step[Any, Any],
    value: Any,
    execute: Execute,
    *,
    finish: Callable[[RunReport], RunReport] | None = None,
    extra: Sequence[Any] = (),
    decorate: Callable[[Any], Any] | None = None,
) -> RunReport:
    """Run in ``mode`` through ``execute(Stack(performer, is_async))``; the finished report.

    ``step`` and ``value`` are what ``execute`` runs (kept for the snapshot); ``finish``
    adds what the caller knows (a dry run's plan) before metrics and the snapshot.
    """
    from omnibase.cli._modes import build_stack
    from omnibase.core.modes import MODES
    from omnibase.drivers.modes import Stack
    from omnibase.observers.metrics import MetricsObserver

    base = build_stack(args, mode)
    performer, is_async = base.performer, base.is_async
    if decorate is not None:  # e.g. the step-through debugger, right around the mode's performer
        performer = decorate(performer)
    profiler: Any = base.profiler
    if args.profile_out and profiler is None:
        from omnibase.drivers.profile import ProfilePerformer

        performer = profiler = ProfilePerformer(performer)
    recorder: Any = None
    if MODES[mode].records:
        from omnibase.drivers.replay import Recorder

        performer = recorder = Recorder(performer)
    stream = open_log(args)
    try:
        logs = _log_observer(args, ctx, stream)
        metrics = MetricsObserver()
        performer.observers = (*getattr(performer, "observers", ()), logs, metrics, *extra)
        logs.run_started(mode)
        report = execute(Stack(performer, is_async))
        close = getattr(base.performer, "close", None)
        if close is not None:
            close()
        if profiler is not None:
            report = profiler.attach(report)
            if args.profile_out:
                from omnibase.drivers.profile import write_trace

                _write("--profile-out", args.profile_out, write_trace, report)
        if base.replayer is not None:
            report = base.replayer.attach(report, args.snapshot)
        if finish is not None:
            report = finish(report)
        report = metrics.attach(report)
        if args.metrics_out:
            from omnibase.observers.metrics import write_prometheus

            _write("--metrics-out", args.metrics_out, write_prometheus, report)
        if recorder is not None and report.exit_code != 0:
            report = _snapshot(report, step, value, ctx, recorder, mode, logs)
        logs.run_ended(report)
    finally:
        if stream is not sys.stderr:
            stream.close()
    return report


def _snapshot(report: RunReport, step: Step[Any, Any], value: Any, ctx: ExecCtx, recorder: Any, mode: str, logs: Any) -> RunReport:
    """Write the failure snapshot; the report names it (relative to the root when inside)."""
    from returns.result import Failure

    from omnibase.drivers.replay import snapshot_of
    from omnibase.snapshots import snapshot_dir, write_snapshot

    snapshot = snapshot_of(step, value, ctx, report, recorder, mode=mode)
    written = write_snapshot(snapshot, snapshot_dir(ctx.root), scrub=_scrubber())
    if isinstance(written, Failure):
        logs.emit("error", "snapshot", message=written.failure().message)
        print(f"omnibase: no snapshot: {written.failure().message}", file=sys.stderr)
        return report
    path = written.unwrap()
    rel = os.path.relpath(path, ctx.root)
    return msgspec.structs.replace(report, snapshot=path if rel.startswith("..") else rel)


def _scrubber() -> Callable[[str], str] | None:
    """The secret redaction the report gets, for the snapshot's JSON text too (each secret
    also in the escaped form JSON gives it); None when there is no secret to hide."""
    from omnibase.core.redact import json_forms, redact, secret_values

    secrets = secret_values(os.environ)
    if not secrets:
        return None
    forms = json_forms(secrets)
    return lambda text: redact(text, forms)
