"""The step-through debugger as a performer decorator, driven by a scripted terminal
(the pty tests in tests/e2e/test_cli_terminal.py drive the real CLI)."""

from __future__ import annotations

from typing import Any

from returns.result import Failure, Result, Success

from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Failed, Meta, Status
from omnibase.drivers import SyncDriver, run
from omnibase.drivers.debugger import SKIPPED, Debugger
from omnibase.testing import fake_ctx


class Script:
    """The person: answers each prompt with the next line (None: end of input)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.screen: list[str] = []
        self.prompts: list[str] = []

    def read(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        self.screen.append(prompt)
        return self.lines.pop(0) + "\n" if self.lines else None

    def write(self, text: str) -> None:
        self.screen.append(text)

    @property
    def text(self) -> str:
        return "".join(self.screen)


def counted(name: str, fails: int = 0) -> tuple[Component[Any, Any], list[int]]:
    calls: list[int] = []

    def fn(ctx: ExecCtx, x: int) -> Result[int, Failed]:
        calls.append(x)
        return Failure(Failed(message=f"{name} broke")) if len(calls) <= fails else Success(x + 1)

    return Component(fn, Meta(name=name, description=f"the {name} step")), calls


def debug(script: Script, step: Any, **kw: Any) -> Any:
    debugger = Debugger(SyncDriver(), read=script.read, write=script.write, **kw)
    return run(step, 1, fake_ctx(), debugger, observers=[debugger.observe])


def test_next_runs_each_step_and_shows_what_it_did() -> None:
    (a, ca), (b, cb) = counted("a"), counted("b")
    script = Script("n", "", "n", "n")
    report = debug(script, a >> b, total=2)
    assert report.output == 3 and (ca, cb) == ([1], [2])
    assert "-- step 1/2: a (tool, stable)" in script.text and "description: the a step" in script.text
    assert "input: 1" in script.text and "input: 2" in script.text
    assert "results so far: a PASS" in script.text
    assert script.prompts == ["(omnibase before a) ", "(omnibase after a) ", "(omnibase before b) ", "(omnibase after b) "]


def test_skip_makes_the_step_skip_without_calling_it() -> None:
    (a, ca), (b, cb) = counted("a"), counted("b")
    report = debug(Script("skip", "c"), a >> b)
    assert ca == [] and [(r.name, r.status, r.reason) for r in report.steps][0] == ("a", Status.SKIP, SKIPPED)


def test_retry_calls_the_step_again_and_the_new_answer_counts() -> None:
    a, calls = counted("a", fails=1)
    script = Script("n", "retry", "n")
    report = debug(script, a)
    assert len(calls) == 2 and report.steps[0].status is Status.PASS and report.exit_code == 0
    assert "a: FAIL" in script.text and "a: PASS" in script.text
    assert "nothing to retry" not in script.text


def test_retry_before_running_says_so() -> None:
    a, calls = counted("a")
    script = Script("r", "c")
    debug(script, a)
    assert "nothing to retry yet" in script.text and len(calls) == 1


def test_breakpoints_continue_and_clear() -> None:
    (a, _), (b, _), (c, _) = counted("a"), counted("b"), counted("c")
    script = Script("break c", "clear b", "clear b", "c", "c")
    debug(script, a >> b >> c, stepping=False, breakpoints=["b"])
    assert script.prompts == ["(omnibase before b) "] * 4 + ["(omnibase before c) "]
    assert "breakpoint at b cleared" in script.text and "no breakpoint at b" in script.text


def test_print_reads_values_without_evaluating_code() -> None:
    (a, _), (b, _) = counted("a"), counted("b")
    script = Script("n", "n", "print a.value", "print meta.name", "print ctx.stage", "print results[0]",
                    "print __import__('os')", "print input.nope", "n", "p result", "c")  # fmt: skip
    debug(script, a >> b)
    out = script.text
    assert "(omnibase before b) 2\n" in out and ") 'b'\n" in out and ") 'test'\n" in out and ") ('a', 'PASS')\n" in out
    assert "print what?" in out and "input.nope: no such field" in out and "(omnibase after b) <Success: 3>" in out


def test_quit_and_end_of_input_interrupt_the_run_with_a_partial_report() -> None:
    (a, _), (b, cb) = counted("a"), counted("b")
    report = debug(Script("c"), a >> b, stepping=False, breakpoints=["b"])
    assert report.outcome == "completed"
    report = debug(Script("q"), a >> b, stepping=False, breakpoints=["b"])
    assert report.outcome == "interrupted" and report.exit_code == 130 and [r.name for r in report.steps][0] == "a"
    report = debug(Script(), a >> b)
    assert report.outcome == "interrupted"


def test_unbroken_steps_go_straight_to_the_inner_performer() -> None:
    (a, ca), (b, _) = counted("a"), counted("b")
    script = Script()
    report = debug(script, a >> b, stepping=False)
    assert report.exit_code == 0 and script.screen == [] and ca == [1]


def test_the_debugger_wraps_the_profile_mode_and_the_profile_survives(tmp_path: Any) -> None:
    """--debug --profile: the profiler is found under the debugger (its timing excludes the
    person's thinking)."""
    import argparse

    from omnibase.cli._modes import execute
    from omnibase.cli._observe import observed_run
    from omnibase.core.values import ExecCtx

    (a, _), (b, _) = counted("a"), counted("b")
    step = a >> b
    script = Script("c")
    args = argparse.Namespace(profile_out=None, metrics_out=None, log_file=None, log_format="console", verbose=0, quiet=False)
    ctx = fake_ctx(root=str(tmp_path))

    def wrap(performer: Any) -> Any:
        return Debugger(performer, read=script.read, write=script.write)

    def run_it(how: Any) -> Any:
        return execute(lambda: run(step, 1, ctx, how.performer), lambda: None, how)  # type: ignore[arg-type, return-value]

    report = observed_run(args, "profile", ctx, step, 1, run_it, decorate=wrap)
    assert report.exit_code == 0 and report.profiled is not None
    assert script.prompts == ["(omnibase before a) "]
