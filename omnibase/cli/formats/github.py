"""``github``: GitHub Actions workflow commands, and a Markdown step summary.

Printed to a job's log, the output becomes:

- one collapsible group per stage (``::group::`` ... ``::endgroup::``) listing each
  component's verdict;
- one annotation per finding of a failing component (``::error file=F,line=N,title=T::M``)
  and per warning (``::warning``), placed on the file and line the built-in checks report;
- a last plain line with the summary.

Escaping follows the runner's grammar: in the message, ``%``, ``\\r`` and ``\\n`` become
``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and ``,`` also become ``%3A`` and
``%2C``. No line of the output starts with ``::`` unless it is a command we mean, so a
component's output cannot inject one. ``step_summary`` is the Markdown the CLI appends to
``$GITHUB_STEP_SUMMARY`` when that variable is set.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from omnibase.cli.formats._common import error_text, findings, problems, safe, steps_of
from omnibase.core.values import RunReport, Status, StepResult

if TYPE_CHECKING:
    from omnibase.cli.formatters import RenderOptions

__all__ = ["escape_data", "escape_property", "render_github", "step_summary"]


def escape_data(text: str) -> str:
    """A command's message, escaped (``%``, CR and LF).

    >>> escape_data("50% done\\nnext")
    '50%25 done%0Anext'
    """
    return safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value, escaped (the data escapes, plus ``:`` and ``,``).

    >>> escape_property("a:b,c")
    'a%3Ab%2Cc'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: RunReport, opts: RenderOptions) -> str:
    """``report`` as workflow commands (see the module's docstring)."""
    stage = report.stage or "omnibase"
    lines = [f"::group::{escape_data(f'omnibase {stage}')}"]
    lines += [_plain(_verdict(step)) for step in steps_of(report)]
    lines.append("::endgroup::")
    for step in problems(report):
        command = "error" if step.status is Status.FAIL else "warning"
        for finding in findings(step):
            props = [f"title={escape_property(step.name or stage)}"]
            if finding.path is not None:
                props.insert(0, f"file={escape_property(finding.path)}")
                if finding.line is not None:
                    props.insert(1, f"line={finding.line}")
            message = finding.message if finding.message.strip() else step.status.value
            lines.append(f"::{command} {','.join(props)}::{escape_data(message)}")
    lines.append(_plain(f"omnibase {stage}: {_counts(report)}"))
    return "\n".join(lines) + "\n"


def step_summary(report: RunReport) -> str:
    """A Markdown summary of ``report``: a heading with the counts, a table of components,
    and each problem's message (HTML-escaped: a component cannot inject markup)."""
    stage = _md(report.stage or "omnibase")
    out = [f"### omnibase {stage}: {_counts(report)}", "", "| component | status | time | attempts |", "|---|---|---|---|"]
    for step in steps_of(report):
        out.append(f"| {_md(step.name)} | {step.status.value} | {max(step.duration_s, 0.0):.2f}s | {step.attempts} |")
    details = list(problems(report))
    for step in details:
        text = error_text(step.error, step.reason) or step.status.value
        out += ["", f"<details><summary>{_md(step.name)}: {step.status.value}</summary>", "", "<pre>", html.escape(safe(text)), "</pre>", "</details>"]
    out.append("")
    return "\n".join(out) + "\n"


def _verdict(step: StepResult) -> str:
    timing = f" {max(step.duration_s, 0.0):.2f}s" if step.attempts else ""
    extra = f" x{step.attempts}" if step.attempts > 1 else ""
    return f"{step.name} {step.status.value}{timing}{extra}"


def _counts(report: RunReport) -> str:
    s = report.summary
    parts = [f"{n} {word}" for n, word in ((s.passed, "passed"), (s.failed, "failed"), (s.warned, "warned"), (s.skipped, "skipped")) if n]
    text = ", ".join(parts) or "nothing ran"
    return text + (" (interrupted)" if report.outcome == "interrupted" else "")


def _plain(text: str) -> str:
    """One line of plain log text: line breaks and other control characters become spaces,
    and a leading ``::`` (a command to the runner) is broken up."""
    flat = "".join(" " if c < " " or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" else c for c in safe(text))
    return ": :" + flat.lstrip()[2:] if flat.lstrip().startswith("::") else flat


def _md(text: str) -> str:
    """Text for one Markdown table cell: HTML-escaped, on one line, pipes escaped."""
    return html.escape(_plain(text)).replace("|", "\\|") or "&nbsp;"
