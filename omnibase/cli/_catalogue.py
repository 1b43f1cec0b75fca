"""Everything a command knows about components: built-ins plus the registry file's entries.

Loading never raises: a broken registry file is a ``(message, ExitCode.CONFIG)`` value.
Entries that do not resolve become placeholder components that fail with ``Unresolved``
(exit 3) when run, so one broken entry blocks only the stages that select it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from returns.result import Failure, Result, Success

from omnibase.core.combinators import dry_run as dry_run_step
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.select import Selector, parse_filter
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, ExitCode, Meta, RunReport, Unresolved
from omnibase.drivers import SyncDriver
from omnibase.orchestrators import (
    CIOrchestrator,
    PipelineOrchestrator,
    PreCommitOrchestrator,
    RegistryOrchestrator,
    StageOrchestrator,
    TestOrchestrator,
)
from omnibase.orchestrators.builtin import BuiltinUse, CheckBatch, builtin_components

__all__ = ["Catalogue", "load_catalogue", "registry_command"]

_ORCHESTRATORS: Mapping[str, type[StageOrchestrator]] = {
    "pre-commit": PreCommitOrchestrator,
    "ci": CIOrchestrator,
    "test": TestOrchestrator,
}


def _unresolved(meta: Meta, message: str) -> Component[Any, Any]:
    def unresolved(ctx: ExecCtx, value: object) -> Result[None, Unresolved]:
        return Failure(Unresolved(name=meta.name, message=message))

    return Component(unresolved, meta)


class Catalogue:
    """The components, their guard policies, the per-stage settings, and what failed to resolve."""

    def __init__(
        self,
        components: Sequence[Component[Any, Any]],
        batch: CheckBatch,
        *,
        guards: Mapping[str, tuple[RetryPolicy | None, BreakerPolicy | None]],
        stage_filters: Mapping[str, Selector],
        stage_fail_fast: Mapping[str, bool],
        unresolved: Mapping[str, str],
        registry: Any,
    ) -> None:
        self.components = tuple(components)
        self.batch = batch
        self.guards = guards
        self.stage_filters = stage_filters
        self.stage_fail_fast = stage_fail_fast
        self.unresolved = unresolved
        self.registry = registry

    def orchestrator(
        self,
        stage: str,
        selector: Selector,
        *,
        names: Sequence[str] = (),
        fail_fast: bool = False,
        dry_run: bool = False,
        observers: Sequence[Any] = (),
    ) -> StageOrchestrator:
        common: dict[str, Any] = {
            "stage_filter": self.stage_filters.get(stage, Selector()),
            "selector": selector,
            "guards": self.guards,
            "fail_fast": fail_fast or self.stage_fail_fast.get(stage, False),
            "driver": SyncDriver(observers),
            "wrap": dry_run_step if dry_run else None,
        }
        orch: StageOrchestrator
        if stage == "pipeline":
            orch = PipelineOrchestrator(self.components, names, **common)
        else:
            orch = _ORCHESTRATORS[stage](self.components, **common)
        self.batch.limit_to(c.name for c in orch.select().kept)
        return orch


def load_catalogue(explicit: str | None, *, root: str, cwd: str) -> Result[Catalogue, tuple[str, ExitCode]]:
    """Built-ins plus the registry file's entries (found as ``omnibase.registry`` says)."""
    import os

    from omnibase import registry as reg

    loaded = reg.load_registry(explicit, cwd=cwd, env=os.environ)
    if isinstance(loaded, Failure):
        return Failure((loaded.failure().render(), ExitCode.CONFIG))
    registry = loaded.unwrap()
    builtins, batch = _builtins(registry.entries)
    by_name: dict[str, Component[Any, Any]] = {c.name: c for c in builtins}
    guards: dict[str, tuple[RetryPolicy | None, BreakerPolicy | None]] = {}
    unresolved: dict[str, str] = {}
    for entry in registry.entries:
        if entry.builtin is not None:
            guards[entry.name] = (entry.retry_policy(), entry.breaker_policy())
            continue
        resolved = reg.resolve(entry, root=root)
        if isinstance(resolved, Failure):
            message = resolved.failure().render()
            unresolved[entry.name] = message
            by_name[entry.name] = _unresolved(reg.entry_meta(entry), message)
        else:
            by_name[entry.name] = resolved.unwrap()
        guards[entry.name] = (entry.retry_policy(), entry.breaker_policy())
    filters: dict[str, Selector] = {}
    fail_fast: dict[str, bool] = {}
    for stage, config in reg.stage_settings(registry).items():
        parsed = parse_filter(config.filter or "")
        if isinstance(parsed, Failure):  # the loader validates filters; this is a second guard
            return Failure((f"{registry.path}: stages.{stage}.filter: {parsed.failure().message}", ExitCode.CONFIG))
        filters[stage] = parsed.unwrap()
        fail_fast[stage] = bool(config.fail_fast)
    return Success(
        Catalogue(
            tuple(by_name.values()),
            batch,
            guards=guards,
            stage_filters=filters,
            stage_fail_fast=fail_fast,
            unresolved=unresolved,
            registry=registry,
        )
    )


def _builtins(entries: Sequence[Any]) -> tuple[tuple[Component[Any, Any], ...], CheckBatch]:
    """The default built-ins, plus (or, under the same name, instead of) the registry's
    ``builtin:`` entries, each with the entry's own tags, lifecycle, description, timeout;
    in the order of the built-in table, so that fixers apply their chained edits in turn."""
    from omnibase.builtins import CHECKS, DEFAULT_CHECKS

    named = {e.name: e for e in entries if e.builtin is not None}
    uses = [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS if n not in named]
    uses += [
        BuiltinUse(name=e.name, check=e.builtin, args=e.args, files=e.files, exclude=e.exclude,
                   tags=frozenset(e.tags), lifecycle=e.lifecycle, description=e.description, timeout=e.timeout)
        for e in named.values()
    ]
    rank = {name: i for i, name in enumerate(CHECKS)}
    return builtin_components(sorted(uses, key=lambda u: rank[u.check]))


# --- the registry command ----------------------------------------------------------------


def registry_command(args: argparse.Namespace, emit: Callable[[RunReport, argparse.Namespace], None]) -> int:
    """``omnibase registry ACTION``: the action runs as a component through the
    ``RegistryOrchestrator``, so it reports like any run."""
    import os

    from omnibase import registry as reg
    from omnibase.context import new_ctx
    from omnibase.core.step import component

    path = reg.find_registry(args.registry, cwd=os.getcwd(), env=os.environ)
    action = args.action

    if action == "add":
        target = path or os.path.join(os.getcwd(), "omnibase.yaml")

        @component(name="registry-add", type="tool")
        def add(ctx: ExecCtx, text: str) -> Result[Any, Any]:
            return reg.add_entry(target, text)

        step: Component[Any, Any] = add
        argument: Any = args.entry
    elif action == "remove":
        if path is None:
            print("omnibase: no registry file to remove from", file=sys.stderr)
            return int(ExitCode.REGISTRY)

        @component(name="registry-remove", type="tool")
        def remove(ctx: ExecCtx, name: str) -> Result[Any, Any]:
            return reg.remove_entry(path, name)

        step, argument = remove, args.name
    else:
        catalogue = load_catalogue(args.registry, root=os.getcwd(), cwd=os.getcwd())
        if isinstance(catalogue, Failure):
            message, code = catalogue.failure()
            print(f"omnibase: {message}", file=sys.stderr)
            return int(code)
        comps = catalogue.unwrap().components

        @component(name=f"registry-{action}", type="tool")
        def describe_action(ctx: ExecCtx, name: str | None) -> Result[Any, Any]:
            return describe(comps, name)

        describe_step: Component[Any, Any] = describe_action

        step, argument = describe_step, getattr(args, "name", None)
    report = RegistryOrchestrator(step, argument).run(new_ctx("registry"))
    emit(report, args)
    if report.error is not None:
        message = getattr(report.error, "message", "")
        print(f"omnibase: {message}", file=sys.stderr)
    return report.exit_code



def describe(components: Sequence[Component[Any, Any]], name: str | None) -> Result[Any, Unresolved]:
    """Every component's metadata (``name`` None), or the one named ``name``."""
    if name is None:
        return Success([c.meta for c in components])
    for comp in components:
        if comp.name == name:
            return Success(comp.meta)
    return Failure(Unresolved(name=name, message=f"no component named '{name}'"))
