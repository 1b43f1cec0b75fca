"""``html``: the report as one page a person opens in a browser.

The page stands alone: no script, no external style sheet, font or image, and a
Content-Security-Policy that forbids fetching anything, so opening it reaches no network
and runs no code. Everything it shows is plain HTML and inline SVG:

- the summary (stage, verdict, counts, duration, ids);
- each failing or warning step with its message, where it points (file and line), its
  captured output, its diff and its traceback;
- test cases, when the stage ran tests: the steps whose component is a test, and the
  entries a step carries under ``tests`` in its value or its failure's data (each a mapping
  with ``name`` and ``status``, optionally ``duration_s`` and ``message``);
- the pipeline as a graph, laid out in layers (a node's column is its wave; the geometry is
  ``_layout``'s), each node coloured by its status and linked to its step's row;
- a timeline of the steps: start, duration and lane, from the profile's invocations when the
  run was profiled, else from each step's offset and duration (in packed lanes);
- every step in a table.

Every string from the report is escaped (``&``, ``<``, ``>``, quotes) and control
characters are shown as ``\\xNN``; secrets are redacted where every format's text is. The
page stays small for a thousand steps: a few hundred bytes per step.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from omnibase.cli.formats._common import error_text, findings, steps_of
from omnibase.cli.formats._layout import layout, pack_lanes, ticks
from omnibase.cli.formats._next import replay_command, replay_helps
from omnibase.core.values import ComponentType, Failed, Raised, RunReport, Status, StepResult

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["Bar", "Case", "render_html", "test_cases"]


def render_html(report: RunReport, opts: RenderOptions | None = None) -> str:
    """``report`` as a self-contained HTML page.

    >>> from omnibase.core.values import Summary
    >>> r = RunReport(steps=(StepResult(name="<lint>", status=Status.FAIL, span_id="1"),),
    ...               summary=Summary(status=Status.FAIL, total=1, failed=1), exit_code=1,
    ...               run_id="r", trace_id="t", stage="ci")
    >>> page = render_html(r)
    >>> page.startswith("<!DOCTYPE html>"), "&lt;lint&gt;" in page, "<lint>" in page
    (True, True, False)
    """
    steps = steps_of(report)
    index = {id(s): i for i, s in enumerate(steps)}
    problems = [s for s in steps if s.status in (Status.FAIL, Status.WARN)]
    verdict = report.summary.status.value
    title = f"omnibase {report.stage}: {verdict}"
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        _summary(report),
        _failures(problems, index),
        _tests(steps, index),
        _section("graph", "Pipeline", _graph_svg(report, steps)),
        _section("timeline", "Timeline", _timeline_svg(report, steps)),
        _section("steps", f"Steps ({len(steps)})", _steps_table(steps, index)),
        _extras(report),
        "</body></html>\n",
    ]
    return "".join(p for p in parts if p)


# --- what the page is made of ----------------------------------------------------------------

#: Nothing may be fetched or run: styles are inline, images (none today) only data: URLs.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#1b1f23;background:#fff}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ddd}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:480px;font:12px/1.35 ui-monospace,monospace;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;table-layout:fixed}th.n{width:80px}th.w{width:24%}td{overflow-wrap:anywhere}section{content-visibility:auto;contain-intrinsic-size:auto 600px}td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}
.b{display:inline-block;min-width:40px;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;text-align:center}
.PASS{background:#2da44e}.FAIL{background:#cf222e}.WARN{background:#bf8700}.SKIP{background:#6e7781}
.fail{border-left:4px solid #cf222e;padding-left:8px;margin:8px 0}.warn{border-left:4px solid #bf8700;padding-left:8px;margin:8px 0}
.msg{font-weight:600;white-space:pre-wrap}.add{color:#116329}.del{color:#82071e}.hunk{color:#0550ae}
.svg{overflow:auto;border:1px solid #eee;max-height:640px}
svg text{font:11px ui-monospace,monospace}
g.n rect{stroke:#444;stroke-width:1}g.PASS rect{fill:#d2f4d3}g.FAIL rect{fill:#ffd7d5}g.WARN rect{fill:#fff1b3}g.SKIP rect{fill:#e6e8eb}
rect.PASS{fill:#2da44e}rect.FAIL{fill:#cf222e}rect.WARN{fill:#bf8700}rect.SKIP{fill:#8c959f}
path.e{fill:none;stroke:#888;stroke-width:1}
"""

# C0 and C1 controls other than tab, line feed and carriage return, and DEL: not text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _e(text: object) -> str:
    """``text`` safe inside an element or a quoted attribute: escaped, controls shown as ``\\xNN``."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return html.escape(shown.replace("\r\n", "\n").replace("\r", "\n"), quote=True)


def _section(anchor: str, heading: str, body: str) -> str:
    return f"<section id=\"{anchor}\"><h2>{_e(heading)}</h2>{body}</section>" if body else ""


def _badge(status: str) -> str:
    return f"<span class=\"b {_e(status)}\">{_e(status)}</span>"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}s"


def _summary(report: RunReport) -> str:
    s = report.summary
    counts = ", ".join(f"{n} {w}" for n, w in ((s.passed, "passed"), (s.failed, "failed"), (s.warned, "warned"), (s.skipped, "skipped")) if n)
    when = ""
    if report.started_at > 0:
        try:
            moment = datetime.datetime.fromtimestamp(report.started_at, tz=datetime.timezone.utc)
            when = f" · started {moment.isoformat(timespec='seconds')}"
        except (OverflowError, OSError, ValueError):
            when = ""
    outcome = " (interrupted)" if report.outcome == "interrupted" else ""
    rows = [
        f"<h1>{_badge(s.status.value)} omnibase {_e(report.stage)}</h1>",
        f"<p id=\"summary\">{_e(counts or 'nothing ran')} in {_seconds(report.duration_s)}{_e(outcome)}"
        f" · exit code {report.exit_code}{_e(when)}</p>",
        f"<p><small>run {_e(report.run_id)} · trace {_e(report.trace_id)}</small></p>",
    ]
    if replay_helps(report):  # the rule and the command are the human report's (formats/_next.py)
        rows.append(f"<p>Replay the failure (the steps that passed are not run again): "
                    f"<code>{_e(' '.join(replay_command(report.snapshot)))}</code></p>")  # fmt: skip
    return "<header>" + "".join(rows) + "</header>"


def _failures(problems: Sequence[StepResult], index: Mapping[int, int]) -> str:
    if not problems:
        return ""
    blocks = []
    for step in problems:
        kind = "fail" if step.status is Status.FAIL else "warn"
        message = error_text(step.error, step.reason)
        body = [
            f"<div class=\"{kind}\" id=\"step-{index[id(step)]}\"><h3>{_badge(step.status.value)} {_e(step.name)}</h3>",
            f"<p class=\"msg\">{_e(message or step.status.value)}</p>",
        ]
        placed = [f for f in findings(step) if f.path is not None]
        if placed:  # where it points; a finding's message only when it says more than the step's
            items = "".join(
                f"<li><code>{_e(f.path)}{'' if f.line is None else f':{f.line}'}</code>"
                f"{'' if f.message in message else ' ' + _e(f.message)}</li>"
                for f in placed
            )
            body.append(f"<ul>{items}</ul>")
        if step.output:
            body.append(f"<details open><summary>output</summary><pre class=\"out\">{_e(step.output)}</pre></details>")
        diff = _diff_of(step)
        if diff:
            body.append(f"<details open><summary>diff</summary>{_diff(diff)}</details>")
        if isinstance(step.error, Raised) and step.error.traceback:
            body.append(f"<details><summary>traceback</summary><pre>{_e(step.error.traceback)}</pre></details>")
        blocks.append("".join(body) + "</div>")
    return _section("failures", f"Failures ({len(problems)})", "".join(blocks))


def _diff_of(step: StepResult) -> str:
    data = step.error.data if isinstance(step.error, Failed) else None
    found = data.get("diff") if isinstance(data, dict) else None
    return found if isinstance(found, str) else ""


def _diff(text: str) -> str:
    """A unified diff, its added, removed and hunk lines marked for colour."""
    lines = []
    for line in text.splitlines():
        cls = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        lines.append(f"<span class=\"{cls}\">{_e(line)}</span>" if cls else _e(line))
    return "<pre class=\"diff\">" + "\n".join(lines) + "</pre>"


# --- test cases ----------------------------------------------------------------------------------


class Case(NamedTuple):
    """One test case: its name, status, duration and message, and the step it came from."""

    name: str
    status: str
    duration_s: float
    message: str
    step: int


def test_cases(steps: Sequence[StepResult]) -> list[Case]:
    """The test cases the steps report: each step whose component is a test, and each entry of
    a ``tests`` list in a step's value or its failure's data (entries that are not a mapping
    with a string ``name`` are left out; a status not PASS/FAIL/WARN/SKIP shows as given).

    >>> from omnibase.core.values import Meta
    >>> s = StepResult(name="unit", status=Status.PASS, span_id="1", meta=Meta(name="unit", type=ComponentType.TEST),
    ...                value={"tests": [{"name": "test_a", "status": "PASS", "duration_s": 0.5}]})
    >>> [(c.name, c.status) for c in test_cases([s])]
    [('unit', 'PASS'), ('test_a', 'PASS')]
    """
    cases: list[Case] = []
    for i, step in enumerate(steps):
        if step.meta is not None and step.meta.type is ComponentType.TEST:
            cases.append(Case(step.name, step.status.value, step.duration_s, error_text(step.error, step.reason), i))
        data = step.error.data if isinstance(step.error, Failed) else None
        for holder in (step.value, data):
            entries = holder.get("tests") if isinstance(holder, dict) else None
            for entry in entries if isinstance(entries, list) else ():
                case = _case(entry, i)
                if case is not None:
                    cases.append(case)
    return cases


test_cases.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def _case(entry: Any, step: int) -> Case | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return None
    duration = entry.get("duration_s")
    seconds = float(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool) else 0.0
    return Case(entry["name"], str(entry.get("status", "")).upper(), seconds, str(entry.get("message", "")), step)


def _tests(steps: Sequence[StepResult], index: Mapping[int, int]) -> str:
    cases = test_cases(steps)
    if not cases:
        return ""
    failed = sum(1 for c in cases if c.status == "FAIL")
    rows = "".join(
        f"<tr><td>{_badge(c.status)}</td><td>{_e(c.name)}</td><td>{_seconds(c.duration_s)}</td>"
        f"<td><a href=\"#row-{c.step}\">{_e(steps[c.step].name)}</a></td><td>{_e(_first_line(c.message))}</td></tr>"
        for c in cases
    )
    head = "<tr><th class=\"n\">status</th><th class=\"w\">test</th><th class=\"n\">time</th><th class=\"w\">step</th><th>message</th></tr>"
    return _section("tests", f"Tests ({len(cases)}, {failed} failed)", f"<table>{head}{rows}</table>")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --- the graph ------------------------------------------------------------------------------------

#: Node box and spacing, in SVG user units.
_NODE_W, _NODE_H, _COL_W, _ROW_H = 200, 26, 250, 36
_NAME_CHARS = 22


def _graph_svg(report: RunReport, steps: Sequence[StepResult]) -> str:
    from omnibase.core.visual import marks_of, report_graph

    nodes = report_graph(report) if report.steps else ()
    if not nodes:
        return ""
    marks = marks_of(report)
    place = layout(nodes)
    first = _first_rows(steps)
    width = max(c for c, _ in place.values()) * _COL_W + _NODE_W + 20
    height = max(r for _, r in place.values()) * _ROW_H + _NODE_H + 20
    edges = []
    for node in nodes:
        tx, ty = place[node.name]
        for dep in node.needs:
            if dep in place:
                sx, sy = place[dep]
                x1, y1 = 10 + sx * _COL_W + _NODE_W, 10 + sy * _ROW_H + _NODE_H // 2
                x2, y2 = 10 + tx * _COL_W, 10 + ty * _ROW_H + _NODE_H // 2
                bend = max(abs(x2 - x1) // 2, 20)
                edges.append(f"<path class=\"e\" d=\"M{x1} {y1}C{x1 + bend} {y1} {x2 - bend} {y2} {x2} {y2}\"/>")
    boxes = []
    for node in nodes:
        c, r = place[node.name]
        mark = marks.get(node.name)
        status = mark.status if mark is not None else "SKIP"
        name = node.name if len(node.name) <= _NAME_CHARS else node.name[: _NAME_CHARS - 1] + "…"
        tip = f"{node.name}: {status}" + (f" {mark.duration_s:.3f}s" if mark else "") + (f" ({mark.reason})" if mark and mark.reason else "")
        box = (
            f"<g class=\"n {_e(status)}\" transform=\"translate({10 + c * _COL_W},{10 + r * _ROW_H})\">"
            f"<title>{_e(tip)}</title><rect width=\"{_NODE_W}\" height=\"{_NODE_H}\" rx=\"4\"/>"
            f"<text x=\"6\" y=\"17\">{_e(name)}</text><text x=\"{_NODE_W - 6}\" y=\"17\" text-anchor=\"end\">{_e(status)}</text></g>"
        )
        target = first.get(node.name)
        if target is not None:
            box = f"<a href=\"#row-{target}\">{box}</a>"
        boxes.append(box)
    return (
        f"<div class=\"svg\"><svg xmlns=\"http://www.w3.org/2000/svg\" id=\"graph-svg\" role=\"img\" "
        f"aria-label=\"pipeline graph\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
        + "".join(edges) + "".join(boxes) + "</svg></div>"
    )  # fmt: skip


# --- the timeline ---------------------------------------------------------------------------------


class Bar(NamedTuple):
    """One span of time on the timeline: who, from when, how long, how it ended, which lane."""

    name: str
    start_s: float
    wall_s: float
    status: str
    lane: int
    step: int | None


def _bars(report: RunReport, steps: Sequence[StepResult]) -> list[Bar]:
    """The profile's invocations (attempts, with the lanes the run used) when there are any,
    else each step that ran, from its offset and duration, in packed lanes."""
    first = _first_rows(steps)
    prof = report.profiled
    if prof is not None and prof.invocations:
        return [Bar(v.name, v.start_s, v.wall_s, v.status, v.lane, first.get(v.name)) for v in prof.invocations]
    ran = sorted((i for i, s in enumerate(steps) if s.attempts > 0), key=lambda i: steps[i].offset_s)
    lanes = pack_lanes((steps[i].offset_s, steps[i].duration_s) for i in ran)
    return [Bar(steps[i].name, steps[i].offset_s, steps[i].duration_s, steps[i].status.value, lane, i) for i, lane in zip(ran, lanes)]


_LABEL_W, _PLOT_W, _LANE_H = 60, 1000, 16


def _tick_label(t: float, end: float) -> str:
    return f"{t * 1000:g}ms" if end < 1 else f"{t:g}s"


def _timeline_svg(report: RunReport, steps: Sequence[StepResult]) -> str:
    bars = _bars(report, steps)
    if not bars:
        return ""
    end = max([report.duration_s, *(b.start_s + max(b.wall_s, 0.0) for b in bars)]) or 1.0
    scale = _PLOT_W / end
    lanes = max(b.lane for b in bars) + 1
    height = 24 + lanes * _LANE_H
    out = []
    for t in ticks(end):
        x = _LABEL_W + t * scale
        out.append(f"<path class=\"e\" d=\"M{x:.1f} 14V{height}\"/><text x=\"{x:.1f}\" y=\"10\" text-anchor=\"middle\">{_tick_label(t, end)}</text>")
    for lane in range(lanes):
        out.append(f"<text x=\"0\" y=\"{24 + lane * _LANE_H + 11}\">lane {lane}</text>")
    for b in bars:
        x, w = _LABEL_W + b.start_s * scale, max(b.wall_s * scale, 1.0)
        bar = (
            f"<rect class=\"{_e(b.status)}\" x=\"{x:.1f}\" y=\"{24 + b.lane * _LANE_H}\" width=\"{w:.1f}\" height=\"{_LANE_H - 3}\">"
            f"<title>{_e(b.name)}: {_e(b.status)}, start {b.start_s:.3f}s, {b.wall_s:.3f}s</title></rect>"
        )
        out.append(f"<a href=\"#row-{b.step}\">{bar}</a>" if b.step is not None else bar)
    total = _LABEL_W + _PLOT_W + 40
    return (
        f"<div class=\"svg\"><svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline-svg\" role=\"img\" aria-label=\"timeline\" "
        f"width=\"{total}\" height=\"{height}\" viewBox=\"0 0 {total} {height}\">" + "".join(out) + "</svg></div>"
    )


# --- every step, and the rest --------------------------------------------------------------------


def _steps_table(steps: Sequence[StepResult], index: Mapping[int, int]) -> str:
    if not steps:
        return ""
    rows = "".join(
        f"<tr id=\"row-{i}\"><td>{_badge(s.status.value)}</td><td>{_e(s.name)}</td><td>{_seconds(s.offset_s)}</td>"
        f"<td>{_seconds(s.duration_s)}</td><td>{s.attempts}</td>"
        f"<td>{_link(s, index)}{_e(_first_line(error_text(s.error, s.reason)))}</td></tr>"
        for i, s in enumerate(steps)
    )
    head = (
        "<tr><th class=\"n\">status</th><th class=\"w\">step</th><th class=\"n\">start</th>"
        "<th class=\"n\">time</th><th class=\"n\">attempts</th><th>message</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _first_rows(steps: Sequence[StepResult]) -> dict[str, int]:
    """The row of each name's first step (the graph and the timeline link to it)."""
    first: dict[str, int] = {}
    for i, s in enumerate(steps):
        first.setdefault(s.name, i)
    return first


def _link(step: StepResult, index: Mapping[int, int]) -> str:
    return f"<a href=\"#step-{index[id(step)]}\">details</a> " if step.status in (Status.FAIL, Status.WARN) else ""


def _extras(report: RunReport) -> str:
    """Gating decisions, a dry run's plan and diff, and the metadata, when the report has them."""
    parts = []
    if report.gating:
        rows = "".join(f"<tr><td>{_e(d.subject)}</td><td>{_e(d.verdict)}</td><td>{_e(d.reason)}</td></tr>" for d in report.gating)
        head = "<tr><th class=\"w\">subject</th><th class=\"n\">verdict</th><th>reason</th></tr>"
        parts.append(_section("gating", "Gating", f"<table>{head}{rows}</table>"))
    if report.plan:
        rows = "".join(f"<tr><td>{'run' if p.selected else 'not run'}</td><td>{_e(p.name)}</td><td>{_e(p.reason)}</td></tr>" for p in report.plan)
        head = "<tr><th class=\"n\">would</th><th class=\"w\">step</th><th>reason</th></tr>"
        parts.append(_section("plan", "Plan (dry run)", f"<table>{head}{rows}</table>"))
    if report.diff:
        parts.append(_section("diff", "Would change", _diff(report.diff)))
    if report.metadata:
        rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in sorted(report.metadata.items()))
        head = "<tr><th class=\"w\">key</th><th>value</th></tr>"
        parts.append(_section("metadata", "Metadata", f"<table>{head}{rows}</table>"))
    return "".join(parts)
