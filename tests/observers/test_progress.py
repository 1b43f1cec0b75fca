"""The progress observer: counts from the event stream, throttled drawing, styles."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from omnibase.core.combinators import all_of
from omnibase.core.step import Component, leaves
from omnibase.core.values import ExecCtx, Failed, Meta, Status, StepResult
from omnibase.drivers import SyncDriver, run
from omnibase.observers.progress import Progress, choose_style
from omnibase.testing import fake_ctx


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _comp(name: str, ok: bool) -> Component[Any, Any]:
    def fn(ctx: ExecCtx, x: object) -> Result[object, Failed]:
        return Success(x) if ok else Failure(Failed(message=f"{name} broke: 50%\nsee log"))

    return Component(fn, Meta(name=name))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_counts_follow_the_event_stream(oks: list[bool]) -> None:
    step = all_of([_comp(f"c{i}", ok) for i, ok in enumerate(oks)])
    shown: list[str] = []
    clock = Clock()
    progress = Progress(sum(1 for _ in leaves(step)), "plain", title="ci", write=shown.append, clock=clock)
    report = run(step, 0, fake_ctx(), SyncDriver(), observers=[progress])
    assert progress.done == len(report.steps) == len(oks)
    assert progress.failed == sum(1 for r in report.steps if r.status is Status.FAIL) == oks.count(False)
    assert progress.running == 0
    clock.now += 2.5
    progress.close()
    assert shown == [f"omnibase: ci [2.5s] 0 running, {len(oks)} done" + (f", {oks.count(False)} failed" if False in oks else "") + ", 0 left\n"]


def test_live_drawing_is_throttled_clipped_and_erased() -> None:
    shown: list[str] = []
    clock = Clock()
    progress = Progress(5, "live", width=50, rate=10, write=shown.append, clock=clock)
    progress.tick(clock.now)  # too early: nothing drawn
    assert shown == []
    from omnibase.core.intents import Started

    for i in range(4):
        progress(Started(name=f"a-rather-long-step-name-{i}", span_id=str(i)))
    clock.now += 0.1
    progress.tick(clock.now)
    progress.tick(clock.now + 0.05)  # within the period: not drawn again
    assert len(shown) == 1
    line = shown[0]
    assert line.startswith("\r\x1b[2K[0.1s] 4 running, 0 done, 1 left: a-rather")
    assert len(line) - len("\r\x1b[2K") <= 49 and line.endswith("...")
    progress.close()
    progress.close()  # idempotent
    assert shown[-1] == "\r\x1b[2K" and len(shown) == 2


def test_the_live_line_fits_the_terminal_in_columns() -> None:
    from omnibase.core.intents import Started
    from omnibase.core.columns import width_of

    shown: list[str] = []
    progress = Progress(5, "live", width=30, write=shown.append, clock=Clock())
    progress(Started(name="界" * 40 + "\x1b[2J", span_id="1"))
    progress.tick(1000.0)
    line = shown[0][len("\r\x1b[2K") :]
    assert width_of(line) <= 29 and "\x1b" not in line and line.endswith("...")


def test_a_live_view_never_drawn_writes_nothing_at_the_end() -> None:
    shown: list[str] = []
    Progress(3, "live", write=shown.append, clock=Clock()).close()
    assert shown == []


def test_github_gets_a_group_and_escaped_annotations() -> None:
    shown: list[str] = []
    step = all_of([_comp("lint,x:y", False), _comp("ok", True)])
    progress = Progress(2, "github", title="ci", write=shown.append, clock=Clock())
    run(step, 0, fake_ctx(), SyncDriver(), observers=[progress])
    progress.close()
    assert shown[0] == "::group::omnibase ci\n"
    assert "::error title=omnibase%3A lint%2Cx%3Ay::lint,x:y broke: 50%25%0Asee log\n" in shown
    assert shown[-1] == "::endgroup::\n"


def test_a_started_thread_draws_until_closed() -> None:
    shown: list[str] = []
    progress = Progress(1, "live", rate=1000, write=shown.append).start()
    import time

    while not shown:  # the ticker draws on its own, with no event at all
        time.sleep(0.01)
    progress.close()
    assert shown[-1] == "\r\x1b[2K"
    count = len(shown)
    time.sleep(0.02)
    assert len(shown) == count  # nothing after close


def test_the_style_follows_the_choice_and_the_environment() -> None:
    assert choose_style("auto", isatty=True, env={}) == "live"
    assert choose_style("auto", isatty=True, env={"CI": "true"}) is None
    assert choose_style("auto", isatty=True, env={"TERM": "dumb"}) is None
    assert choose_style("auto", isatty=True, env={}, debugging=True) is None
    assert choose_style("auto", isatty=False, env={"GITHUB_ACTIONS": "true"}) is None
    assert choose_style("on", isatty=False, env={}) == "plain"
    assert choose_style("on", isatty=True, env={"CI": "1"}) == "plain"
    assert choose_style("on", isatty=True, env={"GITHUB_ACTIONS": "true"}) == "github"
    assert choose_style("off", isatty=True, env={}) is None


def test_step_results_without_a_start_count_as_done() -> None:
    progress = Progress(2, "plain", write=lambda _: None, clock=Clock())
    progress(StepResult(name="x", status=Status.SKIP, span_id="s"))
    assert (progress.done, progress.failed, progress.running) == (1, 0, 0)


_EVENTS = st.one_of(
    st.builds(lambda i: ("start", i), st.integers(0, 9)),
    st.builds(lambda s, a: ("result", s, a), st.sampled_from(list(Status)), st.integers(0, 2)),
    st.just(("retry",)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_EVENTS, st.booleans()), max_size=60), st.sampled_from(["live", "plain"]))
def test_batched_counting_equals_counting_event_by_event(script: list[Any], style: Any) -> None:
    """However the events are batched between draws (``tick``), the counters are those of
    a plain one-event-at-a-time count; a live view closed without drawing still counts."""
    from omnibase.core.intents import RetryScheduled, Started

    clock = Clock()
    progress = Progress(100, style, write=lambda _: None, clock=clock)
    started = done = failed = never = 0
    last = ""
    for event, draw in script:
        if event[0] == "start":
            last = f"s{event[1]}"
            progress(Started(name=last, span_id=last))
            started += 1
        elif event[0] == "retry":
            progress(RetryScheduled(name="r", attempt=1, delay=0.0, error=Failed(message="x")))
            started -= 1
        else:
            _, status, attempts = event
            progress(StepResult(name="x", status=status, span_id="x", attempts=attempts))
            done += 1
            failed += status is Status.FAIL
            never += status is not Status.PASS and attempts == 0
        if draw:
            clock.now += 1.0
            progress.tick(clock.now)
    progress.close()
    assert (progress.done, progress.failed, progress.current) == (done, failed, last)
    assert progress.running == max(0, started - (done - never))
