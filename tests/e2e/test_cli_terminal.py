"""The person at the terminal, through the real CLI: the step-through debugger and the
live progress driven through a pseudo-terminal (the stdlib ``pty``), ``--graph`` and
``report show`` in real temporary git repositories."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pydot
import pytest

from tests.support import cli_env

pytestmark = pytest.mark.e2e


def _cmd(name: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    tags: [g]\n    pass_filenames: false\n"
        f"    command: [sh, -c, 'echo {name} >> calls.log; test ! -e fail-{name}']\n{extra}"
    )


DAG = "version: 1\ncomponents:\n" + _cmd("lint") + _cmd("typecheck") + _cmd("build", "    needs: [lint, typecheck]\n")


@pytest.fixture
def dag(repo: Any) -> Any:
    return repo.seed({"omnibase.yaml": DAG, "a.txt": "a\n"})


def _calls(repo: Any) -> list[str]:
    path = repo.root / "calls.log"
    return path.read_text().split() if path.exists() else []


class Terminal:
    """The real CLI on a pseudo-terminal: stdin, stdout and stderr are the pty's, as for a
    person at a terminal. ``expect`` reads the screen until a pattern shows up."""

    def __init__(self, args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "omnibase", *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
            env=cli_env({"TERM": "xterm", "COLUMNS": "100", **(env or {})}), start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.screen = ""
        self.seen = 0  # where the last expect matched

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not data:
            return False
        self.screen += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first match of ``pattern`` after the previous match (a generous limit: a
        hang fails the test instead of blocking it; no timing is asserted)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            found = re.compile(pattern).search(self.screen, self.seen)
            if found:
                self.seen = found.end()
                return found
            if time.monotonic() > deadline or (not self._read(0.5) and self.proc.poll() is not None and not self._read(0.1)):
                raise AssertionError(f"{pattern!r} not on the screen:\n{self.screen}")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self) -> int:
        while self._read(1.0) or self.proc.poll() is None:
            pass
        os.close(self.master)
        return self.proc.wait(timeout=60)


def test_the_debugger_pauses_before_each_step_and_shows_it(dag: Any) -> None:
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--debug", "--progress", "off", "-o", "run.json"], dag.root)
    t.expect(r"-- step 1/3: lint \(tool, stable, tags: g\)")
    t.expect(r"input: \('a.txt', 'omnibase.yaml'\)")  # the stage's input: the tracked files
    t.expect(r"results so far: \(none\)")
    t.expect(r"\(omnibase before lint\) ")
    t.send("help")
    t.expect(r"commands: n\(ext\)")
    t.send("print meta.tags")
    t.expect(r"frozenset\(\{'g'\}\)")
    t.send("next")
    t.expect(r"lint: PASS in")
    t.expect(r"\(omnibase after lint\) ")
    t.send("")  # Enter: keep the result, go on
    t.expect(r"-- step 2/3: typecheck")
    t.expect(r"results so far: lint PASS")
    t.send("skip")
    t.expect(r"typecheck: SKIP \(skipped in the debugger\)")
    t.expect(r"-- step 3/3: build")
    t.send("continue")
    assert t.finish() == 0
    # typecheck was not run; a SKIP counts as successful for what follows (as a SKIP a
    # component returns does), so build ran after it
    assert _calls(dag) == ["lint", "build"]
    report = json.loads((dag.root / "run.json").read_text())
    steps = {s["name"]: (s["status"], s["reason"]) for s in report["steps"]}
    assert steps["typecheck"] == ("SKIP", "skipped in the debugger")
    assert steps["build"][0] == "PASS"


def test_retry_runs_the_step_again_and_keeps_the_new_result(dag: Any) -> None:
    dag.write("fail-lint", "")
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--break", "lint", "--format", "json", "-o", "run.json"], dag.root)
    t.expect(r"-- step \d/3: lint")
    t.send("n")
    t.expect(r"lint: FAIL in")
    os.remove(dag.root / "fail-lint")  # the person fixes the problem...
    t.send("retry")  # ...and runs the step again
    t.expect(r"lint: PASS in")
    t.send("n")
    assert t.finish() == 0
    assert _calls(dag).count("lint") == 2
    report = json.loads((dag.root / "run.json").read_text())
    assert {s["name"]: s["status"] for s in report["steps"]} == {"lint": "PASS", "typecheck": "PASS", "build": "PASS"}


def test_breakpoints_are_set_and_cleared_and_quit_leaves_a_partial_report(dag: Any) -> None:
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--break", "lint", "-o", "run.json"], dag.root)
    t.expect(r"\(omnibase before lint\) ")
    t.send("break")
    t.expect(r"breakpoints: lint")
    t.send("break build")
    t.expect(r"breakpoint set at build")
    t.send("clear lint")
    t.expect(r"breakpoint at lint cleared")
    t.send("print results")
    t.expect(r"\[\]")
    t.send("c")
    t.expect(r"-- step 3/3: build")
    t.expect(r"results so far: (lint PASS, typecheck PASS|typecheck PASS, lint PASS)")
    t.send("quit")
    t.expect(r"quitting: the report will be partial")
    assert t.finish() == 130
    report = json.loads((dag.root / "run.json").read_text())
    assert report["outcome"] == "interrupted"
    assert "build" not in _calls(dag)


def test_the_debugger_is_refused_without_a_terminal_and_in_async_mode(dag: Any, cli: Callable[..., Any]) -> None:
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--debug")
    assert res.code == 2 and "stdin is not one" in res.err and "Traceback" not in res.err
    assert _calls(dag) == []
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--debug", "--mode", "async"], dag.root)
    t.expect(r"does not work with --mode async")
    assert t.finish() == 2
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--break", "nope"], dag.root)
    t.expect(r"omnibase: --break nope: no such component")
    assert t.finish() == 2
    assert _calls(dag) == []


def test_live_progress_clears_itself_before_the_report(dag: Any) -> None:
    dag.write("omnibase.yaml", DAG.replace("echo typecheck >>", "sleep 1.5; echo typecheck >>"))
    t = Terminal(["orch", "--stage", "ci", "--filter", "tag=g", "--format", "human", "--no-color"], dag.root)
    code = t.finish()
    assert code == 0, t.screen
    # the live line was drawn (the run lasts over a second, redraws are every 0.1 s at most)...
    assert re.search(r"\[\d+\.\ds\] 1 running, 1 done, 1 left: typecheck", t.screen), t.screen
    # ...and erased before the report: the report's lines follow a cleared line, untorn
    last_clear = t.screen.rfind("\r\x1b[2K")
    report = t.screen[last_clear + len("\r\x1b[2K") :]
    assert "running" not in report and "\x1b[2K" not in report
    assert re.search(r"lint", report) and re.search(r"build", report)


def test_progress_on_a_pipe_is_plain_lines_and_github_gets_groups(dag: Any, cli: Callable[..., Any]) -> None:
    dag.write("fail-lint", "")
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--format", "json")
    assert "running" not in res.err  # auto: off when not on a terminal
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--format", "json", "--progress", "on")
    json.loads(res.out)  # stdout is the report's alone
    assert re.search(r"^omnibase: ci \[\d+\.\ds\] 0 running, 3 done, 1 failed, 0 left$", res.err, re.M), res.err
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--format", "json", "--progress", "on", env={"GITHUB_ACTIONS": "true"})
    json.loads(res.out)
    lines = res.err.splitlines()
    assert lines[0] == "::group::omnibase ci" and "::endgroup::" in lines
    assert any(ln.startswith("::error title=omnibase%3A lint::") for ln in lines), res.err


def test_graph_prints_the_stage_graph_and_runs_nothing(dag: Any, cli: Callable[..., Any]) -> None:
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--graph", "dot")
    assert res.code == 0, res
    (parsed,) = pydot.graph_from_dot_data(res.out)
    labels = {n.get_name(): n.get("label").strip('"') for n in parsed.get_nodes() if n.get("label")}
    assert sorted(labels.values()) == ["build", "lint", "typecheck"]
    by_label = {v: k for k, v in labels.items()}
    edges = {(e.get_source(), e.get_destination()) for e in parsed.get_edges()}
    assert edges == {(by_label["lint"], by_label["build"]), (by_label["typecheck"], by_label["build"])}
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--graph", "text")
    assert res.out.splitlines()[-1] == "  build  <- lint, typecheck"
    assert _calls(dag) == []


def test_report_show_draws_a_stored_report_and_a_snapshot(dag: Any, cli: Callable[..., Any]) -> None:
    dag.write("fail-typecheck", "")
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--format", "json", "-o", "run.json")
    assert res.code == 1
    shown = cli("report", "show", "run.json", "--graph", "text")
    assert shown.code == 0, shown
    assert re.search(r"^  typecheck  FAIL \d+ms$", shown.out, re.M), shown.out
    assert "  build  <- lint, typecheck  SKIP" in shown.out
    assert "needs typecheck, which failed" in shown.out
    snaps = list((dag.root / ".git" / "omnibase" / "snapshots").glob("*.json"))
    assert len(snaps) == 1
    shown = cli("report", "show", str(snaps[0]), "--graph", "mermaid")
    assert shown.code == 0 and "class n1 fail" in shown.out and "n1 --> n2" in shown.out, shown.out
    bad = cli("report", "show", "a.txt")
    assert bad.code == 2 and bad.err.startswith("omnibase: a.txt: not JSON") and "Traceback" not in bad.err


def test_graph_of_a_pipeline_is_its_subgraph_and_an_empty_selection_is_an_error(dag: Any, cli: Callable[..., Any]) -> None:
    res = cli("orch", "--stage", "pipeline", "--from", "lint", "--to", "build", "--graph", "mermaid")
    # build needs lint and typecheck: the subgraph from lint to build, with what build needs
    assert res.code == 0 and res.out.splitlines()[-2:] == ["  n0 --> n2", "  n1 --> n2"], res
    res = cli("orch", "--stage", "pipeline", "--from", "typecheck", "--to", "lint", "--graph", "mermaid")
    assert res.code == 0 and res.out.splitlines()[-1] == "  n0 --> n1", res  # unrelated: the chain
    res = cli("orch", "--stage", "pipeline", "--graph", "text")
    assert res.code == 3 and "a pipeline needs --from NAME" in res.err and not res.out
    res = cli("orch", "--stage", "ci", "--filter", "tag=nothing", "--graph", "text")
    assert res.code == 1 and "nothing selected for stage ci" in res.err
    assert _calls(dag) == []
