"""The ``human`` format: a run's report for a person at a terminal.

Colour and the spec's emoji, or ASCII with no colour when ``TERM=dumb``, ``CI=true``,
``--no-color`` or ``NO_COLOR`` say so (``formatters.detect_options``). Every line fits
``width`` terminal columns (``omnibase.core.columns``: wide characters count 2, non-spacing
marks 0). The failed steps come first, each with the head and the tail of its message and
what to do about it; then the other steps, the gating decisions, what the mode adds, what to
do next, and the summary. ``formatters.FORMATTERS["human"]`` gives it the report cleaned
(secrets redacted, strings bounded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from omnibase.cli.formats._common import error_text
from omnibase.cli.formats._next import hint, replay_command, replay_helps, rerun
from omnibase.core.columns import clip, width_of
from omnibase.core.values import RunReport, Status, StepResult, TimedOut

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["OUTPUT_FILE", "cut_lines", "render_human"]


def _clip(text: str, width: int, ascii_only: bool) -> str:
    """``text`` cut to ``width`` columns, with an ellipsis (``...`` in ASCII) when cut."""
    return clip(text, width, "..." if ascii_only else "…")


def _clean(text: str, ascii_only: bool) -> str:
    """No control characters (they would move the cursor); ASCII-escaped when asked."""
    # C0, DEL and C1 (\x9b is an 8-bit CSI; \x85 a line break to some terminals)
    text = "".join(" " if c < " " or "\x7f" <= c <= "\x9f" else c for c in text)
    if ascii_only:
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text


_EMOJI = {Status.PASS: "✅", Status.FAIL: "❌", Status.WARN: "⚠️", Status.SKIP: "⏭️"}
_COLOR = {Status.PASS: "32", Status.FAIL: "31", Status.WARN: "33", Status.SKIP: "36"}


def _badge(step: StepResult, opts: RenderOptions) -> tuple[str, Status]:
    timed = isinstance(step.error, TimedOut)
    label = "TIME" if timed else step.status.value
    if opts.emoji:
        return f"{'⏱️' if timed else _EMOJI[step.status]} {label}", step.status
    return f"[{label}]", step.status


def _paint(text: str, code: str, opts: RenderOptions) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if opts.color else text


class _Columns(msgspec.Struct, frozen=True):
    """The tail of every status line, the same for all of one report: the verdict, the
    time (right-aligned) and, when any step ran more than once, its attempts."""

    badge: int  # columns of a verdict: "[PASS]" is 6, "✅ PASS" 7
    timing: int  # columns of the widest time ("12.34s")
    attempts: int  # columns of the widest "xN" (0: no step was retried)

    @property
    def width(self) -> int:
        """Columns from the space before the verdict to the end of the widest tail."""
        return 1 + self.badge + 1 + self.timing + (1 + self.attempts if self.attempts else 0)


def _timing(step: StepResult) -> str:
    """``0.42s``; at most 9 columns (a duration past a day is shown as ``1.2e+05s``)."""
    if not step.attempts:
        return ""
    return f"{step.duration_s:.2f}s" if step.duration_s < 100_000 else f"{step.duration_s:.1e}s"


def _columns(steps: list[StepResult], opts: RenderOptions) -> _Columns:
    timing = max((len(_timing(s)) for s in steps), default=0)
    attempts = max((len(f"x{s.attempts}") for s in steps if s.attempts > 1), default=0)
    return _Columns(7 if opts.emoji else 6, timing, attempts)


def _step_line(step: StepResult, opts: RenderOptions, columns: _Columns) -> str:
    """``name.... VERDICT  TIME xN``: the verdict, the time and the attempts in the same
    columns on every line of the report (a skipped step has no time, a step run once no
    attempts), the name cut to fit ``opts.width``."""
    ascii_only = not opts.emoji
    badge, status = _badge(step, opts)
    pad = " " * (columns.badge - width_of(badge))
    tail = f" {badge}{pad} {_timing(step):>{columns.timing}}"
    if columns.attempts:
        tail += f" {f'x{step.attempts}' if step.attempts > 1 else '':<{columns.attempts}}"
    tail = tail.rstrip()
    room = max(opts.width - columns.width - 1, 8)
    name = _clip(_clean(step.name, ascii_only), room, ascii_only)
    dots = "." * max(opts.width - columns.width - width_of(name), 1)
    head = f"{name}{dots} "
    line = _clip(head + tail[1:], opts.width, ascii_only)  # cut only when the tail itself is too wide
    if opts.color and line.startswith(head + badge):  # painted where it is, never in the name
        line = head + _paint(badge, _COLOR[status], opts) + line[len(head) + len(badge) :]
    return line


#: How many lines of a ``Raised`` error's traceback ``-v`` shows (its end, nearest the raise).
_TRACE_LINES = 30
#: How many lines of a failure's message (a command's output) the human view shows from its
#: start and from its end, and with ``-v``; the lines between are counted, not shown.
HEAD_LINES, TAIL_LINES = 5, 5
VERBOSE_LINES = 20
#: ``RunReport.metadata`` key (plus the step's name) of the file holding a step's whole
#: output when the human view cuts it (``omnibase.cli._kept`` writes it).
OUTPUT_FILE = "output-file:"


def cut_lines(lines: list[str], verbose: int) -> tuple[list[str], int, list[str]]:
    """The head and the tail of ``lines`` the human view shows, and how many it leaves out.

    >>> cut_lines([str(i) for i in range(12)], 0)
    (['0', '1', '2', '3', '4'], 2, ['7', '8', '9', '10', '11'])
    >>> cut_lines(["a", "b"], 0)
    (['a', 'b'], 0, [])
    """
    head, tail = (VERBOSE_LINES, VERBOSE_LINES) if verbose > 0 else (HEAD_LINES, TAIL_LINES)
    if len(lines) <= head + tail:
        return lines, 0, []
    return lines[:head], len(lines) - head - tail, lines[-tail:]


def _detail(step: StepResult, opts: RenderOptions, saved: str = "") -> list[str]:
    """What the human view says under a step; ``saved``: the file holding its whole output."""
    ascii_only = not opts.emoji
    lines: list[str] = []
    if step.error is not None:
        text = error_text(step.error)
        head, left_out, tail = cut_lines(text.splitlines() or [""], opts.verbose)
        for raw in head:
            lines.append(_clip("    " + _clean(raw, ascii_only), opts.width, ascii_only))
        if left_out:
            more = "" if opts.verbose > 0 else "-v shows more; "
            lines.append(f"    ... {left_out} lines left out ({more}--format json has them all)")
            if saved:
                lines.append("    whole output: " + _clean(saved, ascii_only))
        for raw in tail:
            lines.append(_clip("    " + _clean(raw, ascii_only), opts.width, ascii_only))
        trace = getattr(step.error, "traceback", "")
        if trace and opts.verbose > 0:  # a raised exception: where it came from, last frames first kept
            frames = trace.splitlines()
            if len(frames) > _TRACE_LINES:
                lines.append(f"    ... {len(frames) - _TRACE_LINES} earlier traceback lines (--format json has all)")
            for raw in frames[-_TRACE_LINES:]:
                lines.append(_clip("    | " + _clean(raw, ascii_only), opts.width, ascii_only))
        advice = hint(step)
        if advice is not None and not (trace and opts.verbose > 0):
            lines.append(_clip(f"    {_ARROW[ascii_only]} {_clean(advice, ascii_only)}", opts.width, ascii_only))
    elif step.reason and opts.verbose > 0:
        lines.append(_clip("    " + _clean(step.reason, ascii_only), opts.width, ascii_only))
    return lines


#: What starts a line of advice: by whether the output is ASCII only.
_ARROW = {True: "->", False: "→"}


def render_human(report: RunReport, opts: RenderOptions) -> str:
    """The report for a person: the failed steps first, each with its message and what
    to do about it, then the other steps in the order they ran; the gating decisions and
    what the mode adds; what to do next; the summary."""
    shown = [s for s in report.steps if opts.verbose >= 0 or s.status is Status.FAIL]
    columns = _columns(shown, opts)
    lines: list[str] = []
    for step in [s for s in shown if s.status is Status.FAIL] + [s for s in shown if s.status is not Status.FAIL]:
        lines.append(_step_line(step, opts, columns))
        if step.status in (Status.FAIL, Status.WARN) or opts.verbose > 0:
            lines.extend(_detail(step, opts, report.metadata.get(OUTPUT_FILE + step.name, "")))
    if report.error is not None and not report.steps:
        message = getattr(report.error, "message", None) or type(report.error).__name__
        lines.append(_clip("error: " + _clean(str(message), not opts.emoji), opts.width, not opts.emoji))
    lines.extend(_gate_lines(report, opts))
    lines.extend(_mode_lines(report, opts))
    lines.extend(_next_lines(report, opts))
    s = report.summary
    parts = [f"{n} {word}" for n, word in ((s.passed, "passed"), (s.failed, "failed"), (s.warned, "warned"), (s.skipped, "skipped")) if n]
    summary = f"{', '.join(parts) or 'nothing ran'} in {report.duration_s:.2f}s"
    if report.outcome == "interrupted":
        summary += " (interrupted)"
    code = _COLOR.get(s.status, "0")
    lines.append(_paint(_clip(summary, opts.width, not opts.emoji), code, opts))
    if opts.verbose > 0:
        ids = f"trace {report.trace_id} run {report.run_id}"
        lines.append(_clip(_clean(ids, not opts.emoji), opts.width, not opts.emoji))
    return "\n".join(lines) + "\n"


def _next_lines(report: RunReport, opts: RenderOptions) -> list[str]:
    """What to do next: in a stage of checks, the command that runs only what failed; when
    a replay gains something (``formats._next.replay_helps``), the command that replays
    the failure snapshot, whole: the path is never cut (it goes on a line of its own,
    after a shell line continuation, when the command does not fit), so it can be pasted."""
    ascii_only = not opts.emoji
    lines: list[str] = []
    again = rerun(report)
    if again is not None:
        todo, command = again
        lines.append(_clip(f"next: {todo}:", opts.width, ascii_only))
        lines.append(f"  {command}")
    if replay_helps(report):
        lines.append(_clip("next: replay the failure; what passed is not run again:", opts.width, ascii_only))
        head, path = replay_command(report.snapshot, ascii_only=ascii_only)
        if 2 + width_of(head) + 1 + width_of(path) <= opts.width:
            lines.append(f"  {head} {path}")
        else:
            lines.extend([f"  {head} \\", f"    {path}"])
    return lines


#: The colour of each gating verdict; the ones a quiet run (``-q``) still shows.
_VERDICT_COLOR = {"run": "32", "pass": "32", "refuse": "31", "fail": "31", "warn": "33", "skip": "36", "ignore": "36"}
_VERDICT_QUIET = frozenset({"refuse", "fail"})
#: The subject column of the gating lines is at most this wide (a longer name is cut).
_SUBJECT_COLUMNS = 24


def _gate_lines(report: RunReport, opts: RenderOptions) -> list[str]:
    """The gating policy's decisions, one line each: subject, verdict, reason.

    ``gate:`` then ``  SUBJECT  VERDICT  reason`` with the subjects and verdicts in
    columns; each line fits ``opts.width``. A quiet run (``-q``) shows only refusals and
    failures; the decision to run a stage that requires nothing shows only with ``-v``."""
    from omnibase.core.gating import NO_REQUIREMENT

    ascii_only = not opts.emoji
    shown = [
        d for d in report.gating
        if (opts.verbose >= 0 or d.verdict in _VERDICT_QUIET) and (opts.verbose > 0 or d.reason != NO_REQUIREMENT)
    ]  # fmt: skip
    if not shown:
        return []
    names = [_clip(_clean(d.subject, ascii_only), _SUBJECT_COLUMNS, ascii_only) for d in shown]
    column = max(width_of(n) for n in names)
    verdicts = [_clean(d.verdict, ascii_only) for d in shown]
    vcolumn = max(len(v) for v in verdicts)
    lines = ["gate:"]
    for d, name, verdict in zip(shown, names, verdicts):
        head = f"  {name}{' ' * (column - width_of(name))}  "
        rule = f" [{_clean(d.rule, ascii_only)}]" if d.rule and opts.verbose > 0 else ""
        text = _clip(f"{head}{verdict:<{vcolumn}}  {_clean(d.reason, ascii_only)}{rule}", opts.width, ascii_only)
        code = _VERDICT_COLOR.get(d.verdict)
        if code is not None and opts.color and text.startswith(head + verdict):
            text = head + _paint(verdict, code, opts) + text[len(head) + len(verdict) :]
        lines.append(text)
    return lines


def _mode_lines(report: RunReport, opts: RenderOptions) -> list[str]:
    """What a mode adds: a dry run's plan and diff, the profile's slowest steps, what a
    replay reused."""
    ascii_only = not opts.emoji

    def fit(text: str) -> str:
        return _clip(_clean(text, ascii_only), opts.width, ascii_only)

    lines: list[str] = []
    if report.plan:
        chosen = [e for e in report.plan if e.selected]
        lines.append(f"plan: a real run would run {len(chosen)}, not {len(report.plan) - len(chosen)}")
        for e in report.plan:
            head = f"{e.preview}; " if e.preview else ""
            lines.append(fit(f"  {'+' if e.selected else '-'} {e.name}: {head}{e.reason}"))
    if report.diff:
        lines.append("would change (unified diff):")
        lines.extend(fit("  " + line) for line in report.diff.splitlines())
    prof = report.profiled
    if prof is not None:
        wall = {t.name: t for t in prof.steps}
        slow = ", ".join(f"{n} {wall[n].wall_s:.3f}s" for n in prof.slowest if n in wall)
        lines.append(fit(f"profile: wall {prof.wall_s:.3f}s, cpu {prof.cpu_s:.3f}s, backoff {prof.backoff_s:.3f}s"))
        if slow:
            lines.append(fit(f"  slowest: {slow}"))
        if prof.timeouts:
            lines.append(fit(f"  timed out: {', '.join(prof.timeouts)}"))
    if report.metadata.get("left_out"):  # a filtered stage's entries whose input type does not fit
        lines.append(fit(f"left out (input type does not fit): {report.metadata['left_out'].replace(',', ', ')}"))
    if report.metadata.get("retries") == "off":
        lines.append(fit("retries: off in this mode (one attempt each)"))
    if report.metadata.get("mode") == "replay":
        reused = [n for n in report.metadata.get("replayed", "").split(",") if n]
        lines.append(fit(f"replay of {report.metadata.get('replayed_from', '?')}: {len(reused)} answers reused"))
    return lines
