"""The stage table: each orchestrator applies its own stage's defaults, and the CLI's
catalogue adds none of its own.

The oracle is a model written here from what docs/cli.md and the spec say each stage runs
by default (pre-commit: canary and stable components tagged pre-commit; test: test
components; ci: everything but experimental), not the table or ``filter_by``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Result, Success

from omnibase.cli._catalogue import load_catalogue
from omnibase.core.select import Selector, parse_filter
from omnibase.core.step import Component, component, leaves
from omnibase.core.values import ComponentType, ExecCtx, Lifecycle, Meta
from omnibase.orchestrators import CIOrchestrator, PipelineOrchestrator, PreCommitOrchestrator, TestOrchestrator
from omnibase.orchestrators.stages import orchestrator_for
from omnibase.orchestrators.table import HOOK_STAGES, HOOK_TYPES, STAGES

#: What each filtered stage runs by default, from the docs, as (type, lifecycle, tags) -> bool.
MODEL = {
    "pre-commit": lambda t, lc, tags: "pre-commit" in tags and lc in ("canary", "stable"),
    "test": lambda t, lc, tags: t == "test",
    "ci": lambda t, lc, tags: lc != "experimental",
}
CLASSES = {"pre-commit": PreCommitOrchestrator, "test": TestOrchestrator, "ci": CIOrchestrator}

_META = st.tuples(
    st.sampled_from([t.value for t in ComponentType]),
    st.sampled_from([lc.value for lc in Lifecycle]),
    st.frozensets(st.sampled_from(["pre-commit", "integration", "slow"])),
)
_METAS = st.lists(_META, min_size=1, max_size=12)


def _noop(ctx: ExecCtx, value: object) -> Result[None, str]:
    return Success(None)


def _components(metas: list[tuple[str, str, frozenset[str]]]) -> list[Component[Any, Any]]:
    return [
        Component(_noop, Meta(name=f"c{i}", type=ComponentType(t), lifecycle=Lifecycle(lc), tags=tags))
        for i, (t, lc, tags) in enumerate(metas)
    ]


def _expected(stage: str, metas: list[tuple[str, str, frozenset[str]]]) -> list[str]:
    return [f"c{i}" for i, m in enumerate(metas) if MODEL[stage](*m)]


@given(_METAS)
def test_each_orchestrator_selects_its_stages_defaults(metas: list[tuple[str, str, frozenset[str]]]) -> None:
    comps = _components(metas)
    for stage, cls in CLASSES.items():
        assert [c.name for c in cls(comps).select().kept] == _expected(stage, metas), stage


@settings(max_examples=25, deadline=None)
@given(_METAS)
def test_the_clis_selection_is_the_orchestrators(metas: list[tuple[str, str, frozenset[str]]]) -> None:
    """The catalogue the CLI builds from a registry file selects what the model says (the
    built-in checks aside), and the same as the orchestrator class alone."""
    entries = [
        {"name": f"c{i}", "type": t, "lifecycle": lc, "tags": sorted(tags), "command": ["true"]}
        for i, (t, lc, tags) in enumerate(metas)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "omnibase.yaml"
        path.write_text(yaml.safe_dump({"components": entries}))
        catalogue = load_catalogue(str(path), root=tmp, cwd=tmp).unwrap()
        ours = {f"c{i}" for i in range(len(metas))}
        for stage in MODEL:
            kept = [c.name for c in catalogue.orchestrator(stage, Selector()).select().kept if c.name in ours]
            assert kept == _expected(stage, metas), stage
            assert kept == [c.name for c in CLASSES[stage](_components(metas)).select().kept]


def test_a_registry_file_filter_replaces_the_stages_default(tmp_path: Path) -> None:
    (tmp_path / "omnibase.yaml").write_text(
        "stages:\n  test:\n    filter: tag=slow\ncomponents:\n"
        "- {name: t, type: test, command: ['true']}\n- {name: s, type: tool, tags: [slow], command: ['true']}\n"
    )
    catalogue = load_catalogue(str(tmp_path / "omnibase.yaml"), root=str(tmp_path), cwd=str(tmp_path)).unwrap()
    kept = {c.name for c in catalogue.orchestrator("test", Selector()).select().kept}
    assert "s" in kept and "t" not in kept


def test_every_row_names_its_class_and_a_filter_that_parses() -> None:
    for name, spec in STAGES.items():
        assert orchestrator_for(name).stage == name
        assert isinstance(parse_filter(spec.filter), Success)
    assert set(HOOK_STAGES) == {*HOOK_TYPES, "manual"}
    assert [s.name for s in STAGES.values() if s.stashes] == ["pre-commit"]


def test_the_issues_example_keeps_no_untagged_tool_in_pre_commit() -> None:
    @component
    def fetch(ctx: ExecCtx, x: object) -> Result[int, str]:
        return Success(1)

    @component(type=ComponentType.TEST)
    def checks(ctx: ExecCtx, x: object) -> Result[int, str]:
        return Success(1)

    assert PreCommitOrchestrator([fetch, checks]).select().kept == ()
    assert [c.name for c in TestOrchestrator([fetch, checks]).select().kept] == ["checks"]


def test_ci_gives_its_time_limit_to_a_component_that_declares_none() -> None:
    @component
    def plain(ctx: ExecCtx, x: object) -> Result[int, str]:
        return Success(1)

    orch = CIOrchestrator([plain])
    assert [c.meta.timeout for c in leaves(orch.assemble(orch.select()))] == [600.0]
    assert [c.meta.timeout for c in leaves(TestOrchestrator([plain], stage_filter=Selector()).assemble(orch.select()))] == [None]


def test_an_entry_that_cannot_take_the_files_is_left_out_with_its_reason() -> None:
    @component
    def shout(ctx: ExecCtx, text: str) -> Result[str, str]:
        return Success(text.upper())

    @component
    def count(ctx: ExecCtx, files: tuple[str, ...]) -> Result[int, str]:
        return Success(len(files))

    orch = CIOrchestrator([shout, count])
    selection = orch.select()
    assert [c.name for c in selection.kept] == ["count"]
    assert [(c.name, why) for c, why in selection.dropped] == [
        ("shout", "input type does not fit: takes str, the stage gives tuple[str, ...] (the files)")
    ]
    report = orch.run(ExecCtx(run_id="r", trace_id="t", files=("a.py",)))
    assert report.exit_code == 0 and report.metadata["left_out"] == "shout"
    assert [s.name for s in report.steps] == ["count"]


def test_the_pipeline_stage_keeps_its_strict_check() -> None:
    @component
    def shout(ctx: ExecCtx, text: str) -> Result[str, str]:
        return Success(text.upper())

    @component
    def double(ctx: ExecCtx, n: int) -> Result[int, str]:
        return Success(2 * n)

    report = PipelineOrchestrator([shout, double], ["shout", "double"]).run(ExecCtx(run_id="r", trace_id="t"))
    assert report.exit_code == 4 and report.steps == ()
