"""The CI outputs at the edge: ``--report FORMAT=FILE`` targets (checked before anything
runs, written atomically after), the ``jsonl`` stream, the GitHub step summary and the
OpenTelemetry switch."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase._io.outputs import output_path
from omnibase.cli.formats import FORMAT_NAMES
from omnibase.core.values import RunReport

__all__ = ["ReportTarget", "append_step_summary", "deliver", "otel_wanted", "parse_targets", "stream_for", "write_targets"]


class ReportTarget(msgspec.Struct, frozen=True):
    """Write the report in ``format`` to ``path`` (absolute)."""

    format: str
    path: str


def parse_targets(specs: Sequence[str], cwd: str) -> Result[tuple[ReportTarget, ...], str]:
    """``FORMAT=FILE`` specs as targets, or the first problem: an unknown format, a file
    that could not be written (``omnibase._io.outputs.output_path``: a missing or read-only
    folder, a folder, a symlink, a FIFO or device), or a file named twice.

    >>> parse_targets(["junit=out.xml"], "/tmp").unwrap()
    (ReportTarget(format='junit', path='/tmp/out.xml'),)
    >>> parse_targets(["xml=out.xml"], ".").failure()  # doctest: +ELLIPSIS
    "--report 'xml=out.xml': unknown format 'xml' (choose from human, json, ...)"
    """
    targets: list[ReportTarget] = []
    seen: set[str] = set()
    for spec in specs:
        fmt, sep, path = spec.partition("=")
        where = f"--report '{spec}'"
        if not sep or not path:
            return Failure(f"{where}: say FORMAT=FILE, e.g. junit=report.xml")
        if fmt not in FORMAT_NAMES:
            return Failure(f"{where}: unknown format '{fmt}' (choose from {', '.join(FORMAT_NAMES)})")
        checked = output_path(path, cwd)
        if isinstance(checked, Failure):
            return Failure(f"{where}: cannot write {checked.failure()}")
        full = checked.unwrap()
        if full in seen:
            return Failure(f"{where}: {path} is already the target of another --report")
        seen.add(full)
        targets.append(ReportTarget(fmt, full))
    return Success(tuple(targets))


def write_targets(report: RunReport, targets: Sequence[ReportTarget], texts: Mapping[str, str], verbose: int) -> str | None:
    """Write each target (``--report`` and ``-o`` alike) through the safe opener; ``texts``
    holds ready text by format (the streamed ``jsonl``). The first failure as a message, or
    None. Text is rendered through ``FORMATTERS`` (bounded, printable, secrets redacted)."""
    from omnibase._io.outputs import write_output
    from omnibase.cli.formatters import FORMATTERS, RenderOptions

    options = RenderOptions(verbose=verbose)  # files get no colour, no emoji
    for target in targets:
        text = texts.get(target.format)
        if text is None:
            text = FORMATTERS[target.format](report, options)
        written = write_output(target.path, text.encode("utf-8", "backslashreplace"))
        if isinstance(written, Failure):
            return f"cannot write {written.failure()}"
    return None


def append_step_summary(report: RunReport, env: Mapping[str, str]) -> str | None:
    """Append the Markdown step summary to ``$GITHUB_STEP_SUMMARY`` when it is set (the
    runner creates that file for each step); never through a symlink. A failure as a message."""
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    from omnibase.cli.formats.github import step_summary
    from omnibase.cli.formatters import clean

    data = step_summary(clean(report)).encode("utf-8", "backslashreplace")  # redacted, as every rendering
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        return f"cannot append to $GITHUB_STEP_SUMMARY ({path}): {exc.strerror or exc}"
    return None


def otel_wanted(flag: bool, env: Mapping[str, str]) -> Result[bool, str]:
    """Whether to export spans (``--otel`` or ``OMNIBASE_OTEL=1``), and whether we can.

    >>> otel_wanted(False, {}).unwrap()
    False
    """
    if not (flag or env.get("OMNIBASE_OTEL", "").lower() in ("1", "true", "yes")):
        return Success(False)
    import importlib.util

    for module in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return Failure(f"--otel needs the otel extra ({module} is missing): pip install 'omnibase[otel]'")
    return Success(True)


def stream_for(stdout_format: str, targets: Sequence[ReportTarget], trace_id: str, out: Any) -> Any:
    """A ``JsonlStream`` observer when ``jsonl`` is wanted (on ``out``, a text stream, line
    by line as the run goes, when it is the stdout format), else None."""
    if stdout_format != "jsonl" and all(t.format != "jsonl" for t in targets):
        return None
    from omnibase.cli.formats.jsonl import JsonlStream

    def write(line: str) -> None:
        out.write(line)
        out.flush()

    return JsonlStream(trace_id, write if stdout_format == "jsonl" else None)


def deliver(
    report: RunReport, targets: Sequence[ReportTarget], stdout_format: str, stream: Any, *, otel: bool, verbose: int
) -> str | None:
    """After the run: the ``--report`` files, the GitHub step summary (when ``github`` is
    one of the formats), the spans (``otel``). The first failure as a message, or None."""
    texts = {"jsonl": stream.text(report)} if stream is not None else {}
    problem = write_targets(report, targets, texts, verbose)
    if "github" in (stdout_format, *(t.format for t in targets)):
        problem = append_step_summary(report, os.environ) or problem
    if otel:
        from omnibase.cli._otel import export_run

        try:
            export_run(report)
        except Exception as exc:  # a tracing backend's trouble must not change the run's verdict
            import sys

            print(f"omnibase: OpenTelemetry export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return problem
