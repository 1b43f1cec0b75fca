"""The human format's lines for the modes: plan, diff, profile, snapshot; within the width."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnibase.cli.formatters import RenderOptions, render_human, width_of
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
    assert "replay: omnibase orch --mode replay --snapshot .git/s.json" in text
    replayed = RunReport(
        steps=(), summary=Summary(status=Status.PASS), exit_code=0, run_id="r", trace_id="t",
        metadata={"mode": "replay", "replayed": "a,b", "replayed_from": ".git/s.json"},
    )  # fmt: skip
    assert "replay of .git/s.json: 2 answers reused" in render_human(replayed, RenderOptions())


@given(_TEXT, _TEXT, _TEXT, _TEXT, st.booleans())
def test_mode_lines_fit_the_width_and_hold_no_control_characters(name: str, reason: str, diff: str, path: str, emoji: bool) -> None:
    opts = RenderOptions(width=60, emoji=emoji)
    for line in render_human(_report(name, reason, diff, path), opts).splitlines():
        assert width_of(line) <= 60, line
        assert not any(c < " " or "\x7f" <= c <= "\x9f" for c in line), line
