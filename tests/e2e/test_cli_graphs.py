"""Graphs, skip logic, partial execution, hooks and gating through the real CLI, in real
temporary git repositories."""

from __future__ import annotations

import json
import re
import os
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

# Components that fail when a marker file exists: ``fail-NAME``.
def _cmd(name: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    tags: [g]\n    pass_filenames: false\n"
        f"    command: [sh, -c, 'echo {name} >> calls.log; test ! -e fail-{name}']\n{extra}"
    )


DAG = (
    "version: 1\ncomponents:\n"
    + _cmd("lint")
    + _cmd("typecheck")
    + _cmd("build", "    needs: [lint, typecheck]\n")
    + _cmd("package", "    needs: [build]\n")
    + _cmd("report", "    needs: [build]\n    when: all_done\n")
    + _cmd("notify", "    needs: [package]\n    when: none_failed\n")
)


def _run(cli: Callable[..., Any], *args: str, env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    res = cli("orch", "--stage", "ci", "--filter", "tag=g", "--format", "json", *args, env=env)
    assert res.out, res
    return res, json.loads(res.out)


def _steps(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {s["name"]: (s["status"], s["reason"]) for s in report["steps"]}


def _calls(repo: Any) -> list[str]:
    path = repo.root / "calls.log"
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def dag(repo: Any) -> Any:
    return repo.seed({"omnibase.yaml": DAG, "a.txt": "a\n"})


def test_a_stage_runs_as_a_dag_and_skipped_nodes_say_why(dag: Any, cli: Any) -> None:
    dag.write("fail-lint", "")
    res, report = _run(cli)
    assert res.code == 1
    steps = _steps(report)
    assert steps["lint"][0] == "FAIL" and steps["typecheck"][0] == "PASS"
    assert steps["build"] == ("SKIP", "needs lint, which failed (runs when every dependency succeeded)")
    assert steps["package"] == ("SKIP", "needs build, which was skipped (runs when every dependency succeeded)")
    assert steps["report"][0] == "PASS"  # all_done
    assert steps["notify"][0] == "PASS"  # none_failed: package was skipped, not failed
    calls = _calls(dag)
    assert "build" not in calls and "package" not in calls
    assert calls.index("report") > max(calls.index("lint"), calls.index("typecheck"))
    graph = {n["name"]: n for n in report["graph"]}
    assert graph["build"]["needs"] == ["lint", "typecheck"] and graph["build"]["level"] == 1
    assert graph["notify"] == {"name": "notify", "needs": ["package"], "when": "none_failed", "level": 3, "skip": ""}


def test_independent_nodes_run_in_parallel_under_async(repo: Any, cli: Any) -> None:
    # Each waits for the other to have started: only a concurrent run lets both pass.
    wait = "touch {me}.started; i=0; while [ ! -e {other}.started ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.05; done"
    registry = "version: 1\ncomponents:\n"
    for me, other in (("left", "right"), ("right", "left")):
        registry += (
            f"  - name: {me}\n    tags: [g]\n    pass_filenames: false\n"
            f"    command: [sh, -c, '{wait.format(me=me, other=other)}']\n"
        )
    registry += "  - name: join\n    tags: [g]\n    pass_filenames: false\n    needs: [left, right]\n    command: [sh, -c, 'test -e left.started']\n"
    repo.write("omnibase.yaml", registry)
    repo.stage("omnibase.yaml")
    repo.commit()
    res, report = _run(cli, "--mode", "async", "--jobs", "4")
    assert res.code == 0, res
    assert _steps(report) == {"left": ("PASS", ""), "right": ("PASS", ""), "join": ("PASS", "")}


def test_unknown_dependency_and_cycle_are_exit_2_with_file_and_line(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n" + _cmd("a", "    needs: [nope]\n"))
    res = cli("orch", "--stage", "ci")
    assert res.code == 2 and res.out == ""
    assert "omnibase.yaml:7:" in res.err and "components[0].needs: unknown component 'nope'" in res.err
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n" + _cmd("a", "    needs: [b]\n") + _cmd("b", "    needs: [a]\n"))
    res = cli("orch", "--stage", "ci")
    assert res.code == 2 and "dependency cycle: a -> b -> a" in res.err and "omnibase.yaml:7:" in res.err
    assert "Traceback" not in res.err


def test_skip_flag_and_environment_variable(dag: Any, cli: Any) -> None:
    res, report = _run(cli, "--skip", "lint", env={"OMNIBASE_SKIP": "report, notify"})
    steps = _steps(report)
    assert steps["lint"] == ("SKIP", "skipped by --skip")
    assert steps["report"] == ("SKIP", "skipped by OMNIBASE_SKIP") and steps["notify"][0] == "SKIP"
    assert steps["build"][1].startswith("needs lint, which was skipped")
    assert _calls(dag) == ["typecheck"]
    assert res.code == 0


def test_from_and_to_select_a_subgraph(dag: Any, cli: Any) -> None:
    _, report = _run(cli, "--to", "build")
    assert set(_steps(report)) == {"lint", "typecheck", "build"}
    _, report = _run(cli, "--from", "build")
    assert set(_steps(report)) == {"build", "package", "report", "notify"}
    assert all(status == "PASS" for status, _ in _steps(report).values())
    _, report = _run(cli, "--from", "build", "--to", "package")
    assert set(_steps(report)) == {"build", "package"}
    res = cli("orch", "--stage", "ci", "--from", "nope")
    assert res.code == 2 and "--from nope: no such component" in res.err
    res = cli("orch", "--stage", "ci", "--filter", "name=lint", "--to", "build")
    assert res.code == 2 and "--to build: not selected in stage ci" in res.err


def test_only_failed_reruns_what_failed_and_what_it_needs(dag: Any, cli: Any) -> None:
    dag.write("fail-package", "")
    res, _ = _run(cli)
    assert res.code == 1
    state = json.loads((dag.root / ".git" / "omnibase" / "last-run" / "ci.json").read_text())
    assert state["results"]["package"] == "FAIL" and state["results"]["lint"] == "PASS"
    os.remove(dag.root / "fail-package")
    (dag.root / "calls.log").unlink()
    res, report = _run(cli, "--only-failed")
    assert res.code == 0
    assert set(_steps(report)) == {"lint", "typecheck", "build", "package"}
    assert sorted(_calls(dag)) == ["build", "lint", "package", "typecheck"]
    res, report = _run(cli, "--only-failed")  # nothing failed last time: everything runs
    assert len(report["steps"]) == 6 and "no failure recorded" in res.err


def test_maxfail_and_exitfirst(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n" + "".join(_cmd(n) for n in ("a", "b", "c", "d")))
    repo.stage("omnibase.yaml")
    for n in ("a", "b", "c"):
        repo.write(f"fail-{n}", "")
    res, report = _run(cli, "--maxfail", "2")
    steps = _steps(report)
    assert res.code == 1 and report["summary"]["failed"] == 2
    assert steps["c"] == ("SKIP", "stopped after 2 failures (--maxfail)") and steps["d"][0] == "SKIP"
    (repo.root / "calls.log").unlink()
    res, report = _run(cli, "-x", "--skip", "zzz")  # -x as a graph (another graph option is given)
    assert report["summary"]["failed"] == 1 and _calls(repo) == ["a"]
    assert _steps(report)["b"] == ("SKIP", "stopped after the first failure (-x)")


HOOKS = """\
version: 1
stages:
  ci:
    hooks:
      post: [[sh, -c, 'echo "$OMNIBASE_STATUS" > stage-status']]
components:
  - name: deploy
    tags: [g]
    pass_filenames: false
    command: [sh, -c, 'echo deploy >> calls.log']
    hooks:
      pre: [[sh, -c, 'test ! -e frozen || { echo "release freeze"; exit 1; }'], "hooks:audit"]
      post: [[sh, -c, 'test "$OMNIBASE_STATUS" = PASS && test ! -e bad-post']]
"""

HOOK_MODULE = """\
import os
from omnibase import Veto

def audit(ctx, meta):
    with open(os.path.join(ctx.root, "audit.log"), "a") as f:
        f.write(f"{meta.name} {meta.lifecycle.value}\\n")
    if os.path.exists(os.path.join(ctx.root, "no-audit")):
        return Veto(reason="audit says no")
    if os.path.exists(os.path.join(ctx.root, "audit-crash")):
        raise RuntimeError("audit crashed")
    return None
"""


def test_hooks_veto_see_the_result_and_fail_as_results(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", HOOKS)
    repo.write("hooks.py", HOOK_MODULE)
    repo.stage("omnibase.yaml")
    res, report = _run(cli)
    assert res.code == 0, res
    assert _steps(report) == {"deploy": ("PASS", "")}
    assert (repo.root / "audit.log").read_text() == "deploy stable\n"
    assert (repo.root / "stage-status").read_text().strip() == "PASS"

    repo.write("frozen", "")
    res, report = _run(cli)
    assert res.code == 0 and _steps(report)["deploy"] == ("SKIP", "vetoed by deploy:pre:sh: sh exited 1: release freeze")
    chain = cli("orch", "--stage", "pipeline", "--from", "deploy", "--format", "json")  # hooks apply in every stage
    assert _steps(json.loads(chain.out))["deploy"] == ("SKIP", "vetoed by deploy:pre:sh: sh exited 1: release freeze")
    os.remove(repo.root / "frozen")
    repo.write("no-audit", "")
    _, report = _run(cli)
    assert _steps(report)["deploy"] == ("SKIP", "vetoed by deploy:pre:audit: audit says no")
    os.remove(repo.root / "no-audit")

    repo.write("audit-crash", "")
    res, report = _run(cli)
    steps = _steps(report)
    assert res.code == 1 and steps["deploy:pre:audit"][0] == "FAIL" and steps["deploy"][0] == "SKIP"
    assert "audit crashed" in json.dumps(report["steps"])
    os.remove(repo.root / "audit-crash")

    repo.write("bad-post", "")
    res, report = _run(cli)
    steps = _steps(report)
    assert res.code == 1 and steps["deploy"][0] == "PASS" and steps["deploy:post:sh"] == ("FAIL", "hook failed")
    assert (repo.root / "stage-status").read_text().strip() == "FAIL"
    assert _calls(repo).count("deploy") == 2


GATED = """\
version: 1
stages:
  ci:
    filter: "tag=g"
    gate:
      requires: [pre-commit]
      experimental: warn
      deprecated: warn
      max_failures: 1
  test:
    filter: "tag=g"
    gate:
      lifecycles: [stable]
      max_failure_percent: 50
components:
""" + "".join(
    _cmd(name, f"    lifecycle: {lc}\n")
    for name, lc in (("core", "stable"), ("old", "deprecated"), ("new", "experimental"), ("extra", "stable"))
)


def test_gates_decide_with_reasons_recorded(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", GATED)
    repo.stage("omnibase.yaml")
    res, report = _run(cli)
    assert res.code == 1 and report["steps"] == []
    assert report["gating"][0]["verdict"] == "refuse" and "pre-commit (never ran)" in report["gating"][0]["reason"]
    assert "requires a passing pre-commit" in res.err and report["snapshot"] == ""

    pre = cli("orch", "--stage", "pre-commit", "--format", "json")
    assert pre.code == 0, pre
    trees = json.loads((repo.root / ".git" / "omnibase" / "trees.json").read_text())
    tree = repo.git("write-tree").strip()
    assert trees[tree]["pre-commit"] == "PASS"

    for name in ("old", "new", "extra"):
        repo.write(f"fail-{name}", "")
    res, report = _run(cli)
    steps = _steps(report)
    assert steps["old"] == ("WARN", "deprecated: a failure warns instead of failing")
    assert steps["new"] == ("WARN", "experimental: may fail without failing the stage")
    assert steps["extra"][0] == "FAIL"
    assert res.code == 0 and report["summary"]["status"] == "WARN"  # one failure, at most 1 allowed
    verdicts = {(d["subject"], d["verdict"]) for d in report["gating"]}
    assert {("ci", "run"), ("old", "warn"), ("new", "warn"), ("ci", "pass")} <= verdicts
    repo.write("fail-core", "")
    res, report = _run(cli)
    assert res.code == 1 and report["gating"][-1]["reason"] == "2 of 4 components failed (at most 1 allowed)"

    # the test stage: lifecycle gate, and at most 50% failing
    res = cli("orch", "--stage", "test", "--format", "json")
    report = json.loads(res.out)
    steps = _steps(report)
    assert steps["old"] == ("SKIP", "gated by lifecycle: deprecated is not one of stable")
    assert steps["core"][0] == "FAIL" and steps["extra"][0] == "FAIL"
    assert res.code == 1  # 2 of 2 that ran failed: 100% > 50%
    os.remove(repo.root / "fail-core")
    res = cli("orch", "--stage", "test", "--format", "json")
    assert res.code == 0 and json.loads(res.out)["summary"]["status"] == "WARN"  # 1 of 2: 50% is allowed


def test_state_is_never_written_through_a_symlink(dag: Any, cli: Any, tmp_path: Any) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (dag.root / ".git" / "omnibase").mkdir(exist_ok=True)
    os.symlink(outside, dag.root / ".git" / "omnibase" / "last-run")
    res, _ = _run(cli)
    assert res.code == 0
    assert list(outside.iterdir()) == []
    assert "a symbolic link; not writing through it" in res.err


def test_bad_condition_gate_or_hook_in_the_registry_is_exit_2_with_the_line(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n" + _cmd("a", "    when: sometimes\n"))
    res = cli("orch", "--stage", "ci")
    assert res.code == 2 and "omnibase.yaml:7:" in res.err and "components[0].when" in res.err
    repo.write("omnibase.yaml", "version: 1\nstages:\n  ci:\n    gate:\n      require: [pre-commit]\n")
    res = cli("orch", "--stage", "ci")
    # (msgspec names a mapping's key as [...]: the line is the stage's, the field is named)
    assert res.code == 2 and "omnibase.yaml:3:" in res.err and ".gate: Object contains unknown field `require`" in res.err
    repo.write("omnibase.yaml", "version: 1\ncomponents:\n" + _cmd("a", "    hooks:\n      pre: [3]\n"))
    res = cli("orch", "--stage", "ci")
    assert res.code == 2 and "components[0].hooks.pre[0]" in res.err
    assert "Traceback" not in res.err


def test_per_tree_outcomes_are_kept_only_for_required_stages(dag: Any, cli: Any) -> None:
    res, _ = _run(cli)
    assert res.code == 0
    assert not (dag.root / ".git" / "omnibase" / "trees.json").exists()
    assert (dag.root / ".git" / "omnibase" / "last-run" / "ci.json").exists()


def test_a_stage_pre_hook_vetoes_the_whole_stage(dag: Any, cli: Any) -> None:
    text = DAG.replace("version: 1\n", "version: 1\nstages:\n  ci:\n    hooks:\n      pre: [[sh, -c, 'echo not today; exit 3']]\n")
    dag.write("omnibase.yaml", text)
    res, report = _run(cli)
    assert res.code == 0 and _calls(dag) == []
    assert {reason for _, reason in _steps(report).values()} == {"vetoed by ci:pre:sh: sh exited 3: not today"}


def test_replaying_a_failed_graph_stage_keeps_its_skip_logic(dag: Any, cli: Any) -> None:
    dag.write("fail-lint", "")
    res, report = _run(cli)
    assert res.code == 1 and report["snapshot"]
    (dag.root / "calls.log").unlink()
    replayed = cli("orch", "--mode", "replay", "--snapshot", report["snapshot"], "--format", "json")
    again = json.loads(replayed.out)
    assert replayed.code == 1
    assert _steps(again)["build"] == _steps(report)["build"]
    assert "build" not in _calls(dag) and "package" not in _calls(dag)


def test_a_person_sees_the_gating_decisions_in_the_human_report(repo: Any, cli: Any) -> None:
    repo.write("omnibase.yaml", GATED)
    repo.stage("omnibase.yaml")
    plain = {"TERM": "dumb"}
    res = cli("orch", "--stage", "ci", "--format", "human", env=plain)
    assert res.code == 1
    lines = res.out.splitlines()
    assert lines[lines.index("gate:") + 1].split(None, 2) == [
        "ci", "refuse", "requires a passing pre-commit (never ran) for the same tree",
    ]  # fmt: skip
    assert cli("orch", "--stage", "pre-commit", "--format", "json").code == 0
    for name in ("old", "new", "extra"):
        repo.write(f"fail-{name}", "")
    res = cli("orch", "--stage", "ci", "--format", "human", env=plain)
    assert res.code == 0, res
    lines = res.out.splitlines()
    gate = lines[lines.index("gate:") + 1 : lines.index("gate:") + 5]
    assert [ln.split(None, 2) for ln in gate] == [
        ["ci", "run", "required stages passed for this tree: pre-commit"],
        ["old", "warn", "deprecated: a failure warns instead of failing"],
        ["new", "warn", "experimental: may fail without failing the stage"],
        ["ci", "pass", "1 of 4 components failed (at most 1 allowed)"],
    ]
    assert gate[0].index("run") == gate[1].index("warn")  # the verdicts line up in a column
    assert all(ln.isascii() and len(ln) <= 100 and "\x1b" not in ln for ln in lines)
    repo.write("fail-core", "")
    res = cli("orch", "--stage", "test", "--format", "human", "-q", env={"NO_COLOR": "1"})
    lines = res.out.splitlines()
    assert res.code == 1 and lines[lines.index("gate:") + 1].split(None, 2)[:2] == ["test", "fail"]
    assert "gated by lifecycle" not in res.out  # -q: only refusals and failures
    res = cli("orch", "--stage", "test", "--format", "human", env={"NO_COLOR": "1"})
    assert re.search(r"^  old +skip +gated by lifecycle: deprecated is not one of stable$", res.out, re.M), res.out
