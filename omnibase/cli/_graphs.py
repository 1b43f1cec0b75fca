"""The CLI's side of graphs, partial execution, hooks and gating (an edge: reads the
environment, runs hook commands, reads and writes the state under ``GITDIR/omnibase``).

``stage_plan`` gathers what ``orchestrators.graphs.StagePlan`` needs: the registry's
``needs``/``when``/``hooks`` (checked: an unknown name or a cycle is exit 2 with the file
and line), ``--skip`` and ``OMNIBASE_SKIP``, ``--from``/``--to``, ``--only-failed`` (from
the last run's state), ``--maxfail``, the stage's gate and the per-tree history.
``record`` writes the last run's state and the tree's outcome after a run, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from returns.result import Failure, Result, Success

from omnibase._io.state import last_run_file, trees_file
from omnibase.core.graph import find_cycle
from omnibase.core.hooks import Veto
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, ExitCode, Failed, Meta, RunReport, Status, StepResult
from omnibase.orchestrators.graphs import Hooks, StagePlan
from omnibase.orchestrators.table import STAGES

if TYPE_CHECKING:
    from omnibase.cli._request import StageRequest

__all__ = ["check_needs", "failed_cases", "record", "unselected", "required_stages", "stage_plan", "state_dir", "tree_id"]

SKIP_ENV = "OMNIBASE_SKIP"
#: pre-commit's own variable, read beside ours so that ``SKIP=id git commit`` keeps working.
SKIP_ENVS = (SKIP_ENV, "SKIP")
#: How many trees the per-tree history keeps (the most recent ones).
MAX_TREES = 256

Problem = tuple[str, ExitCode]


def check_needs(catalogue: Any) -> str | None:
    """An unknown dependency or a dependency cycle among the registry's entries, as one
    line naming the file, the line and the name; None when the graph is sound."""
    from omnibase.registry._load import locate

    registry = catalogue.registry
    known = {c.name for c in catalogue.components}
    index = {e.name: i for i, e in enumerate(registry.entries)}
    for i, entry in enumerate(registry.entries):
        for j, dep in enumerate(entry.needs):
            if dep not in known:
                line, col = locate(registry.path, f"$.components[{i}].needs[{j}]")
                return f"{registry.path}:{line}:{col}: components[{i}].needs: unknown component '{dep}'"
    cycle = find_cycle({e.name: e.needs for e in registry.entries})
    if cycle:
        i = index[cycle[0]]
        line, col = locate(registry.path, f"$.components[{i}].needs")
        return f"{registry.path}:{line}:{col}: components[{i}].needs: dependency cycle: {' -> '.join(cycle)}"
    return None


def _names(values: Sequence[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def stage_plan(request: StageRequest, catalogue: Any, root: str, env: Mapping[str, str]) -> Result[StagePlan | None, Problem]:
    """The stage's plan, or None when the run uses none of it (a plain fan-out as before)."""
    from omnibase import registry as reg

    stage = request.stage
    entries = {e.name: e for e in catalogue.registry.entries}
    config = reg.stage_settings(catalogue.registry).get(stage)
    gate = config.gate if config is not None else None
    stage_hooks = config.hooks if config is not None else None
    # the pipeline stage: --from/--to name a subgraph or a chain, and its orchestrator
    # checks the names (an unknown one is exit 3 there); no other graph option applies
    pipeline = request.spec.selects == "names"
    skip = {} if pipeline else {n: "skipped by --skip" for n in request.skip}
    for var in () if pipeline else SKIP_ENVS:
        for n in _names([env.get(var, "")]):
            skip.setdefault(n, f"skipped by {var}")
    froms, tos = list(request.froms), list(request.tos)
    known = {c.name for c in catalogue.components}
    for flag, names in (("--from", froms), ("--to", tos)):
        for n in names:
            if n not in known and not pipeline:
                return Failure((f"{flag} {n}: no such component", ExitCode.CONFIG))
    only: list[str] = []
    if request.only_failed:
        last = _read_json(last_run_file(state_dir(root), stage))
        results = last.get("results", {}) if isinstance(last, dict) else {}
        only = sorted(n for n, s in results.items() if s == "FAIL") if isinstance(results, dict) else []
        if not only:
            print(f"omnibase: --only-failed: no failure recorded for stage {stage}; running everything", file=_stderr())
    hooks: dict[str, Hooks] = {}
    for name, entry in entries.items():
        if entry.hooks is not None:
            hooks[name] = _hook_components(name, entry.hooks, root)
    if stage_hooks is not None:
        hooks["*"] = _hook_components(stage, stage_hooks, root)
    needs = {n: e.needs for n, e in entries.items() if e.needs}
    if config is not None and config.tests_wait:  # the tests once the checks passed
        needs = _tests_wait(catalogue.components, needs)
    when = {} if pipeline else {n: e.when for n, e in entries.items() if e.when != "all_succeeded"}
    maxfail = request.maxfail
    if not (needs or skip or froms or tos or only or maxfail or hooks or gate is not None):
        return Success(None)
    history: dict[str, str] = {}
    if gate is not None and gate.requires:
        tree = tree_id(root)
        trees = _read_json(trees_file(state_dir(root)))
        found = trees.get(tree, {}) if isinstance(trees, dict) and tree else {}
        history = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
    plan = StagePlan(
        needs=needs, when=when, skip=skip, froms=froms, tos=tos, only=only, maxfail=maxfail, hooks=hooks,
        gate=gate, history=history,
    )  # fmt: skip
    return Success(plan)


def _tests_wait(components: Sequence[Component[Any, Any]], needs: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """``needs`` with every test component needing every other component (the graph keeps
    only the selected ones); a component that needs a test keeps its own order instead."""
    from omnibase.core.values import ComponentType

    tests = [c.name for c in components if c.meta.type is ComponentType.TEST]
    checks = [c.name for c in components if c.meta.type is not ComponentType.TEST and not set(needs.get(c.name, ())) & set(tests)]
    out = {k: tuple(v) for k, v in needs.items()}
    for name in tests if checks else ():
        out[name] = tuple(dict.fromkeys((*out.get(name, ()), *checks)))
    return out


def unselected(plan: StagePlan | None, kept: Sequence[Component[Any, Any]], stage: str) -> str | None:
    """A ``--from``/``--to`` name the stage does not select (its filter leaves it out)."""
    if plan is None or STAGES[stage].selects == "names":  # its --from/--to choose what it selects
        return None
    names = {c.name for c in kept}
    for flag, given in (("--from", plan.froms), ("--to", plan.tos)):
        for n in given:
            if n not in names:
                return f"{flag} {n}: not selected in stage {stage} (see --list)"
    return None


def _stderr() -> Any:
    import sys

    return sys.stderr


# --- hooks from the registry file ------------------------------------------------------------


def _hook_components(owner: str, spec: Any, root: str) -> Hooks:
    pre = tuple(_hook(owner, "pre", h, root) for h in spec.pre)
    post = tuple(_hook(owner, "post", h, root) for h in spec.post)
    return pre, post


def _hook(owner: str, point: str, hook: tuple[str, ...] | str, root: str) -> Component[Any, Any]:
    if isinstance(hook, str):
        return _python_hook(owner, point, hook, root)
    argv = tuple(hook)
    name = f"{owner}:{point}:{os.path.basename(argv[0]) if argv else '?'}"
    meta = Meta(name=name)

    def command(ctx: ExecCtx, value: Any) -> Result[Any, Any]:
        from omnibase.registry._resolve import run_command

        env = {"OMNIBASE_STAGE": ctx.stage, "OMNIBASE_HOOK": point, "OMNIBASE_COMPONENT": owner}
        if point == "post":
            env["OMNIBASE_STATUS"] = _worst(value)
        if not argv:
            return Failure(Failed(message=f"hook {name}: an empty command"))
        done = run_command(argv, cwd=ctx.root, env=env, timeout=60.0)
        if isinstance(done, Failure):
            return done
        code, output = done.unwrap()
        if code == 0:
            return Success(None)
        first = next((ln.strip() for ln in output.splitlines() if ln.strip()), "")
        said = f"{argv[0]} exited {code}" + (f": {first}" if first else "")
        return Success(Veto(reason=said)) if point == "pre" else Failure(Failed(message=said))

    return Component(command, meta)


def _python_hook(owner: str, point: str, target: str, root: str) -> Component[Any, Any]:
    from omnibase.core.hooks import post_hook, pre_hook
    from omnibase.registry._resolve import _python
    from omnibase.registry._schema import Entry

    name = f"{owner}:{point}:{target.rpartition(':')[2] or target}"
    found = _python(Entry(name=name, python=target), root)
    if isinstance(found, Failure):
        message = found.failure().message

        def unresolved(ctx: ExecCtx, value: Any) -> Result[Any, Any]:
            return Failure(Failed(message=f"hook {name}: {message}"))

        return Component(unresolved, Meta(name=name))
    fn = found.unwrap()
    return pre_hook(fn, name=name) if point == "pre" else post_hook(fn, name=name)


def _worst(results: Any) -> str:
    statuses: set[Status] = set()
    if isinstance(results, tuple):
        statuses = {r.status for r in results if isinstance(r, StepResult)}
    for s in (Status.FAIL, Status.WARN, Status.PASS, Status.SKIP):
        if s in statuses:
            return str(s.value)
    return "SKIP"


# --- state under GITDIR/omnibase -------------------------------------------------------------


def state_dir(root: str) -> str:
    """``GITDIR/omnibase`` (next to the snapshots), else ``root/.omnibase``."""
    from omnibase._io.state import state_dir_of

    return state_dir_of(root)


def tree_id(root: str) -> str:
    """The index's tree id, or "" when git cannot say."""
    from omnibase._io.git import index_tree

    return index_tree(root).value_or("")


def _read_json(path: str) -> Any:
    import msgspec

    try:
        with open(path, "rb") as f:
            return msgspec.json.decode(f.read())
    except (OSError, ValueError):  # msgspec.DecodeError is a ValueError
        return {}


def _write_json(path: str, data: Any) -> None:
    _prepared_json(path, data)()


def _prepared_json(path: str, data: Any) -> Callable[[], None]:
    """The write of ``data`` to ``path`` once its folder is made (never through a symbolic
    link: ``OSError`` when refused) and the bytes are ready: what is left is the write."""
    from omnibase._io.atomic import write_atomic

    from omnibase._io.state import make_state_dir

    made = make_state_dir(os.path.dirname(path))  # never through a symbolic link
    if made.value_or(None) is None:
        raise OSError(made.failure().message)
    import msgspec

    # not fsynced: what a crash could lose is a hint (``--only-failed``, a gate's record of
    # a tree), rebuilt by the next run; the rename still leaves the old file or the new one
    encoded = msgspec.json.format(msgspec.json.encode(data, order="sorted"), indent=1) + b"\n"
    return lambda: write_atomic(path, encoded, durable=False)


def required_stages(registry: Any) -> frozenset[str]:
    """The stages some stage's gate requires: only their outcomes are kept per tree."""
    from omnibase import registry as reg

    gates = [c.gate for c in reg.stage_settings(registry).values() if c.gate is not None]
    return frozenset(s for g in gates for s in g.requires)


def failed_cases(root: str, stage: str) -> dict[str, list[str]]:
    """Per test component, the ids of the test cases that failed in the stage's last run
    (what ``--only-failed`` hands the runner)."""
    last = _read_json(last_run_file(state_dir(root), stage))
    found = last.get("failed_cases") if isinstance(last, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): [str(i) for i in v] for k, v in found.items() if isinstance(v, list)}


def _failed_cases(report: RunReport) -> dict[str, list[str]]:
    from omnibase.core.testcases import step_cases

    out: dict[str, list[str]] = {}
    for step in report.steps:
        failed = [c.name for c in step_cases(step) if c.status == "FAIL"]
        if failed:
            out[step.name] = failed
    return out


def record(root: str, report: RunReport, *, per_tree: bool) -> None:
    """After a run: each component's status (for ``--only-failed``) and, when ``per_tree``
    (a gate requires this stage), the stage's outcome for the current tree. A failure to
    write is one line on stderr; the run's report stands."""
    stage = report.stage
    outcome = report.summary.status.value if report.exit_code == 0 else Status.FAIL.value
    base = state_dir(root)
    from omnibase.cli._process import at_end

    try:
        at_end(_prepared_json(  # the write itself: in a served run after its answer (the commit does not wait for it)
            last_run_file(base, stage),
            {"stage": stage, "run_id": report.run_id, "results": {r.name: r.status.value for r in report.steps},
             "failed_cases": _failed_cases(report)},
        ))  # fmt: skip
        tree = tree_id(root) if per_tree else ""
        if tree:
            path = trees_file(base)
            trees = _read_json(path)
            trees = trees if isinstance(trees, dict) else {}
            entry = trees.pop(tree, {})
            entry = entry if isinstance(entry, dict) else {}
            entry[stage] = outcome
            trees[tree] = entry  # most recent last
            _write_json(path, dict(list(trees.items())[-MAX_TREES:]))
    except OSError as exc:
        print(f"omnibase: cannot record the run's state in {base}: {exc}", file=_stderr())
