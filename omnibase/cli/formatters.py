"""Renderers of a ``RunReport``: ``FORMATTERS`` maps a format name to one.

- ``human``: for people at a terminal. ANSI colour and the spec's emoji, or ASCII with no
  colour when ``TERM=dumb``, ``CI=true``, ``--no-color`` or ``NO_COLOR`` say so. Every line
  fits ``width`` terminal columns (wide characters count 2, non-spacing marks 0).
- ``json``: canonical (sorted keys, compact), with ``schema_version``; decodes back to an
  equal ``RunReport``.
- ``yaml``: block style; repeated component metadata is written once, as an anchor.

Through ``FORMATTERS`` every string a report quotes has the values of secret-looking
environment variables replaced by ``[redacted]``, is cut beyond ``MAX_TEXT`` characters
(with a "... N bytes more" marker) and made valid UTF-8: a file name that is not UTF-8
(bytes surrogate-escaped by the edge) shows its bad bytes as ``\\xNN`` (``clean``).
"""

from __future__ import annotations

import enum
import functools
import os
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import msgspec

from omnibase.cli.formats import RENDERERS
from omnibase.cli.formats._common import error_text
from omnibase.cli.formats._lazy import LazyRenderers
from omnibase.cli.formats._next import hint, replay_command, replay_helps, rerun
from omnibase.core.redact import MAX_TEXT as _MAX_TEXT
from omnibase.core.values import RunReport, Status, StepResult, TimedOut

__all__ = ["FORMATTERS", "OUTPUT_FILE", "RenderOptions", "Renderer", "clean", "cut_lines", "default_format", "detect_options", "json_schema", "width_of"]

_T = TypeVar("_T")


class RenderOptions(msgspec.Struct, frozen=True, kw_only=True):
    color: bool = False
    emoji: bool = False
    width: int = 100
    verbose: int = 0


Renderer = Callable[[RunReport, RenderOptions], str]


def default_format(isatty: bool) -> str:
    """``human`` on a terminal, ``json`` otherwise (the spec's defaults)."""
    return "human" if isatty else "json"


def detect_options(*, isatty: bool, env: Mapping[str, str], no_color: bool, verbose: int = 0) -> RenderOptions:
    """Colour and emoji unless ``TERM=dumb``, ``CI=true``, ``--no-color`` or ``NO_COLOR``;
    colour also needs a terminal.

    >>> detect_options(isatty=True, env={"CI": "true"}, no_color=False)
    RenderOptions(color=False, emoji=False, width=100, verbose=0)
    """
    plain = (
        no_color
        or env.get("TERM") == "dumb"
        or env.get("CI", "").lower() in ("true", "1")
        or bool(env.get("NO_COLOR"))
    )
    return RenderOptions(color=isatty and not plain, emoji=not plain, verbose=verbose)


# --- widths ---------------------------------------------------------------------------------


def _char_width(ch: str) -> int:
    if ch == "\ufe0f":  # emoji presentation selector: the base symbol becomes 2 wide
        return 1
    if ch == "\u00ad":  # the soft hyphen is a format character that terminals draw
        return 1
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):  # a spacing mark (Mc) takes a column
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def width_of(text: str) -> int:
    """Terminal columns ``text`` takes (no escape sequences in it).

    >>> width_of("abc"), width_of("日本"), width_of("✅"), width_of("⚠️")
    (3, 4, 2, 2)
    """
    return sum(_char_width(c) for c in text)


def _clip(text: str, width: int, ascii_only: bool) -> str:
    """``text`` cut to ``width`` columns, with an ellipsis when cut."""
    if width_of(text) <= width:
        return text
    mark = "..." if ascii_only else "…"
    room = width - width_of(mark)
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + mark


def _clean(text: str, ascii_only: bool) -> str:
    """No control characters (they would move the cursor); ASCII-escaped when asked."""
    # C0, DEL and C1 (\x9b is an 8-bit CSI; \x85 a line break to some terminals)
    text = "".join(" " if c < " " or "\x7f" <= c <= "\x9f" else c for c in text)
    if ascii_only:
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text


# --- human -------------------------------------------------------------------------------------

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


# --- json and yaml -------------------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, bytes):
        return _safe_text(obj.decode("utf-8", "backslashreplace"), ())
    return _safe_text(repr(obj), ())  # a repr holding a secret was replaced by ``clean``


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def render_json(report: RunReport, opts: RenderOptions) -> str:
    return _ENCODER.encode(report).decode("utf-8") + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the ``json`` report."""
    schema: dict[str, Any] = msgspec.json.schema(RunReport)
    return schema


def render_yaml(report: RunReport, opts: RenderOptions) -> str:
    import json

    import yaml

    data = json.loads(render_json(report, opts))
    seen: dict[str, dict[str, Any]] = {}
    for step in data.get("steps", []):
        meta = step.get("meta")
        if isinstance(meta, dict):
            key = json.dumps(meta, sort_keys=True)
            step["meta"] = seen.setdefault(key, meta)  # the same object: PyYAML anchors it
    dumped: str = yaml.dump(data, Dumper=_yaml_dumper(), default_flow_style=False, sort_keys=False, allow_unicode=True)
    return dumped


@functools.cache
def _yaml_dumper() -> Any:
    """A ``SafeDumper`` that keeps line-break-like characters (built lazily: yaml is slow to import)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: Any, value: str) -> Any:
        # PyYAML writes NEL and the Unicode line/paragraph separators raw in plain and
        # quoted scalars with allow_unicode, and reads them back as line breaks; quote
        # such strings with escapes (\N, \L, \P) so they survive.
        if any(c in value for c in "\x85\u2028\u2029"):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
        return dumper.represent_str(value)

    Dumper.add_representer(str, represent_str)
    return Dumper


# --- what every format quotes: redacted, bounded, and printable in UTF-8 ------------------------

#: A string in a report (a value, an output, a message) is cut beyond this many characters
#: (``omnibase.core.redact.MAX_TEXT``, 1 MiB: a command's output is kept whole up to it).
MAX_TEXT = _MAX_TEXT


def clean(value: _T) -> _T:
    """``value`` (a report, an event, any struct or plain data) with every string in it
    cleaned for showing: the values of secret-looking environment variables replaced by
    ``[redacted]`` (``omnibase.core.redact``), then cut beyond ``MAX_TEXT`` characters and
    made valid UTF-8. The one point every rendering passes: ``FORMATTERS`` gives each
    renderer a cleaned report, and the ``jsonl`` stream cleans each event before writing it.
    Cleaning happens on values, before any format escapes them, so a secret is found
    whatever the format does to its characters afterwards. The same object comes back when
    nothing needed changing."""
    from omnibase.core.redact import secret_values

    return cast(_T, _safe_value(value, secret_values(os.environ)))


def _safe_text(text: str, secrets: tuple[str, ...]) -> str:
    from omnibase.core.redact import bound, printable, redact

    return printable(bound(redact(text, secrets) if secrets else text, MAX_TEXT))


_PLAIN = frozenset({int, float, bool, type(None)})


def _fine(item: Any, secrets: tuple[str, ...]) -> bool:
    """Nothing to change in ``item``: a number, an enum, a short ASCII string holding no
    secret (the common leaves, checked without a call per leaf when there are no secrets)."""
    kind = type(item)
    if kind is str:
        return len(item) <= MAX_TEXT and item.isascii() and not (secrets and any(s in item for s in secrets))
    return kind in _PLAIN or isinstance(item, enum.Enum)


def _safe_value(value: Any, secrets: tuple[str, ...], depth: int = 0) -> Any:
    """``value`` with every string in it redacted, bounded and made valid UTF-8 (the same
    object when nothing needed changing)."""
    kind = type(value)
    if kind is str:
        return _safe_text(value, secrets)
    if kind in _PLAIN:
        return value
    if depth > 200:
        return "... (nested too deep to show)"
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            old = getattr(value, name)
            if _fine(old, secrets):
                continue
            new = _safe_value(old, secrets, depth + 1)
            if new is not old:
                changes[name] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value[: MAX_TEXT * 4]).decode("utf-8", "backslashreplace")
        more = f"\n... {len(value) - MAX_TEXT * 4} bytes more" if len(value) > MAX_TEXT * 4 else ""
        return _safe_text(text + more, secrets)
    if isinstance(value, (list, tuple, set, frozenset)):
        if all(_fine(v, secrets) for v in value):
            return value
        items = [_safe_value(v, secrets, depth + 1) for v in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        if isinstance(value, (set, frozenset)):
            return frozenset(items)
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        if all(_fine(k, secrets) and _fine(v, secrets) for k, v in value.items()):
            return value
        pairs = [(_safe_value(k, secrets, depth + 1), _safe_value(v, secrets, depth + 1)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items())):
            return value
        return dict(pairs)
    if secrets:  # written as its repr by the encoders' hook: redacted here, bounded there
        shown = repr(value)
        return _safe_text(shown, secrets) if any(s in shown for s in secrets) else value
    return value  # other objects are written as their repr, bounded by the encoder's hook


def _safe(render: Renderer) -> Renderer:
    def safe_render(report: RunReport, opts: RenderOptions) -> str:
        return render(clean(report), opts)

    safe_render.__name__ = render.__name__
    return safe_render


#: Every format, from the table in omnibase/cli/formats/__init__.py, each renderer imported
#: when first used and given the report cleaned (``clean``: secrets redacted, every quoted
#: string bounded and valid UTF-8).
FORMATTERS: Mapping[str, Renderer] = LazyRenderers(RENDERERS, wrap=_safe)
