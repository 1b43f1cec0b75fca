"""What a person does after a failed run: the one home of the advice the reports give.

- :func:`hint`: for one failed step, what to do about it when its message alone does not
  say (a fixer changed files, a time limit, a broken contract, an open breaker, a right
  or a limit the sandbox refused); None for a plain failed check, whose output is the
  story.
- :func:`rerun`: after a failure in a stage of checks, what to do and the command that
  then runs only what failed (``--only-failed``).
- :func:`replay_helps` and :func:`replay_command`: whether the failure snapshot is worth
  naming, and the command that replays it (the path shell-quoted, so it can be pasted;
  in ASCII, or with a character a terminal would act on, as bash's ``$'...'``).

A replay reuses the recorded answers of the steps that passed and runs the rest again.
That gains something when the run was interrupted (a replay finishes it) or when the
stage's steps feed each other their outputs (the typed ``pipeline`` stage, a stage this
table does not know): the steps before the failure are not run again. In a stage of
checks a replay gains nothing over ``--only-failed``, and would mislead: a passing
check's recorded answer is reused even when the files it read have changed since.

>>> replay_command(".git/omnibase/snapshots/a b.json")
('omnibase orch --mode replay --snapshot', "'.git/omnibase/snapshots/a b.json'")
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from omnibase.core.values import (
    CircuitOpen,
    Failed,
    ProtocolViolation,
    Raised,
    ResourceExceeded,
    RunReport,
    SandboxViolation,
    Status,
    StepResult,
    TimedOut,
)
from omnibase.orchestrators.table import STAGES

__all__ = ["hint", "replay_command", "replay_helps", "rerun"]


def hint(step: StepResult) -> str | None:
    """What to do about ``step``'s failure, beyond its message; None when the message says it.

    >>> from omnibase.core.values import Status, StepResult, TimedOut
    >>> print(hint(StepResult(name="slow", status=Status.FAIL, span_id="", error=TimedOut(seconds=60.0))))
    make it faster, or give it more time (the entry's `timeout:`)
    """
    error = step.error
    if step.status is not Status.FAIL or error is None:
        return None
    advise = _HINTS.get(type(error))
    return advise(error) if advise is not None else None


def _failed(error: object) -> str | None:
    data = getattr(error, "data", None)
    if isinstance(data, dict) and data.get("fixed") is True:
        return "it fixed the files in place: review the change (git diff), then git add it"
    return None


#: Error type -> the advice for it (dispatch through a table, not an ``isinstance`` chain).
_HINTS: dict[type, Callable[[object], str | None]] = {
    Failed: _failed,
    Raised: lambda e: "it raised instead of returning a Result: -v shows where",
    ProtocolViolation: lambda e: "a component returns a Result holding a value of its declared output type",
    TimedOut: lambda e: "make it faster, or give it more time (the entry's `timeout:`)",
    CircuitOpen: lambda e: "it opened after repeated failures, and closes after `breaker.reset_timeout`",
    SandboxViolation: lambda e: "if it needs this right, grant it in the entry's `sandbox:`",
    ResourceExceeded: lambda e: "if it needs more, raise the entry's `limits:`",
}


def rerun(report: RunReport) -> tuple[str, str] | None:
    """After a failure in a stage of checks: what to do, and the command that then runs
    only what failed (and what that needs); None when nothing failed or the stage is not
    one of checks. A stage that checks the staged files needs the fixes staged.

    >>> from omnibase.core.values import RunReport, Status, Summary
    >>> rerun(RunReport(steps=(), summary=Summary(status=Status.FAIL, failed=1), exit_code=1,
    ...                 run_id="r", trace_id="t", stage="ci"))
    ('fix what failed, then run only that again', 'omnibase orch --stage ci --only-failed')
    """
    spec = STAGES.get(report.stage or "")
    if spec is None or spec.selects != "filter" or report.summary.failed == 0:
        return None
    todo = "fix what failed and git add the fixes" if spec.files == "staged" else "fix what failed"
    return f"{todo}, then run only that again", f"omnibase orch --stage {spec.name} --only-failed"


def replay_helps(report: RunReport) -> bool:
    """Whether a replay of ``report``'s failure snapshot gains something over running the
    stage again (see the module docstring): it has a snapshot, and the run was interrupted
    or its steps feed each other."""
    if not report.snapshot:
        return False
    if report.outcome == "interrupted":
        return True
    spec = STAGES.get(report.stage or "")
    return spec is None or spec.selects != "filter"


def replay_command(snapshot: str, *, ascii_only: bool = False) -> tuple[str, str]:
    """The command that replays ``snapshot``, ready to paste: its words before the path,
    and the path as one shell word (join them with a space, or a line continuation).
    A path with a control character, or any non-ASCII one when ``ascii_only``, is
    written as bash's ``$'...'`` with its UTF-8 bytes escaped.

    >>> print(replay_command("snap\u00e9.json", ascii_only=True)[1])
    $'snap\\xc3\\xa9.json'
    """
    return "omnibase orch --mode replay --snapshot", _shell_word(snapshot, ascii_only)


def _shell_word(text: str, ascii_only: bool) -> str:
    if all(" " <= c < "\x7f" or (c > "\x9f" and not ascii_only and c.isprintable()) for c in text):
        return shlex.quote(text)
    escaped = "".join(
        chr(b) if 0x20 <= b < 0x7F and chr(b) not in "\\'" else f"\\x{b:02x}"
        for b in text.encode("utf-8", "surrogateescape")
    )
    return f"$'{escaped}'"
