"""The human format's lines for the modes: plan, diff, profile, snapshot; within the width."""

from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from omnibase.cli.formats.human import render_human
from omnibase.cli.formatters import RenderOptions
from omnibase.core.columns import width_of
from omnibase.core.values import PlanEntry, Profiled, RunReport, Status, StepTiming, Summary

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=150)


def _report(name: str, reason: str, diff: str, path: str) -> RunReport:
    return RunReport(
        steps=(),
        summary=Summary(status=Status.PASS),
        exit_code=1,
        run_id="r",
        trace_id="t",
        plan=(PlanEntry(name=name, selected=True, reason=reason, preview="ran read-only: PASS"),
              PlanEntry(name="other", selected=False, reason=reason)),
        diff=diff,
        profiled=Profiled(steps=(StepTiming(name=name, attempts=2, wall_s=1.5, cpu_s=0.25, timed_out=True),),
                          slowest=(name,), timeouts=(name,), wall_s=1.5, cpu_s=0.25),
        snapshot=path,
    )  # fmt: skip


def test_mode_lines_say_what_a_person_needs() -> None:
    text = render_human(_report("lint", "selected: tag=x holds", "--- a/f\n+++ b/f\n-a \n+a\n", ".git/s.json"), RenderOptions())
    assert "plan: a real run would run 1, not 1" in text
    assert "  + lint: ran read-only: PASS; selected: tag=x holds" in text
    assert "  - other: selected: tag=x holds" in text
    assert "would change (unified diff):\n  --- a/f\n  +++ b/f\n  -a \n  +a" in text
    assert "profile: wall 1.500s, cpu 0.250s, backoff 0.000s" in text and "timed out: lint" in text
    assert "next: replay the failure; what passed is not run again:\n" in text
    assert "\n  omnibase orch --mode replay --snapshot .git/s.json\n" in text  # short enough for one line
    replayed = RunReport(
        steps=(), summary=Summary(status=Status.PASS), exit_code=0, run_id="r", trace_id="t",
        metadata={"mode": "replay", "replayed": "a,b", "replayed_from": ".git/s.json"},
    )  # fmt: skip
    assert "replay of .git/s.json: 2 answers reused" in render_human(replayed, RenderOptions())


@given(_TEXT, _TEXT, _TEXT, _TEXT, st.booleans())
def test_mode_lines_fit_the_width_and_hold_no_control_characters(name: str, reason: str, diff: str, path: str, emoji: bool) -> None:
    opts = RenderOptions(width=60, emoji=emoji)
    lines = render_human(_report(name, reason, diff, path), opts).splitlines()
    for line in lines:
        assert not any(c < " " or "\x7f" <= c <= "\x9f" for c in line), line
        if emoji is False:
            assert line.isascii(), line
    # every line fits, but for the replay command's path, which is never cut: it goes whole
    # on a line of its own, after a line continuation, when the command does not fit
    hint = "next: replay the failure; what passed is not run again:"
    if not path:  # no snapshot, no hint
        assert hint not in lines and all(width_of(line) <= 60 for line in lines)
        return
    at = lines.index(hint)
    assert all(width_of(line) <= 60 for line in lines[: at + 2] + lines[at + 3 :]), lines
    command = lines[at + 1].strip()
    if command.endswith(" \\"):
        assert lines[at + 2].startswith("    ")  # the path, whole, on a line of its own
        pasted = command[:-2] + " " + lines[at + 2].strip()
    else:
        pasted = command
    assert pasted.startswith("omnibase orch --mode replay --snapshot ")
    if "\x00" not in path:  # a NUL cannot be passed to a process at all
        assert _unquoted(pasted.split(" ", 5)[5]) == path


def _unquoted(word: str) -> str:
    """What bash makes of one shell word (a real bash: an oracle independent of ours)."""
    done = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, check=True)
    return done.stdout.decode("utf-8", "surrogateescape")


def test_the_replay_hint_appears_only_where_a_replay_gains_something() -> None:
    def hinted(stage: str, outcome: str) -> bool:
        report = RunReport(
            steps=(), summary=Summary(status=Status.FAIL, failed=1), exit_code=1, run_id="r", trace_id="t",
            stage=stage, outcome=outcome, snapshot=".git/omnibase/snapshots/s.json",  # type: ignore[arg-type]
        )  # fmt: skip
        return "--mode replay" in render_human(report, RenderOptions())

    assert [hinted(stage, "completed") for stage in ("pre-commit", "test", "ci")] == [False, False, False]
    assert hinted("ci", "interrupted")  # a replay finishes what the interrupted run did not reach
    assert hinted("pipeline", "completed")  # steps feed each other: the passed ones are not run again
    assert hinted("a-python-pipeline", "completed")
