"""Everything a command knows about components: built-ins plus the registry file's entries.

Loading never raises: a broken registry file is a ``(message, ExitCode.CONFIG)`` value.
Entries that do not resolve become placeholder components that fail with ``Unresolved``
(exit 3) when run, so one broken entry blocks only the stages that select it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from returns.result import Failure, Result, Success

from omnibase.core.combinators import dry_run as dry_run_step
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.select import Selector, parse_filter
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, ExitCode, Meta, Unresolved
from omnibase.drivers import SyncDriver
from omnibase.orchestrators.base import StageOrchestrator
from omnibase.orchestrators.stages import orchestrator_for
from omnibase.orchestrators.table import DEFAULT_HOOK_STAGES, STAGES
from omnibase.components.builtin import BuiltinUse, builtin_components, chained

__all__ = ["Catalogue", "load_catalogue"]


def _unresolved(meta: Meta, message: str) -> Component[Any, Any]:
    def unresolved(ctx: ExecCtx, value: object) -> Result[None, Unresolved]:
        return Failure(Unresolved(name=meta.name, message=message))

    return Component(unresolved, meta)


class Catalogue:
    """The components, their guard policies, the registry file's per-stage settings (a
    stage it does not configure keeps its orchestrator's defaults), and what failed to
    resolve."""

    def __init__(
        self,
        components: Sequence[Component[Any, Any]],
        *,
        guards: Mapping[str, tuple[RetryPolicy | None, BreakerPolicy | None]],
        stage_filters: Mapping[str, Selector],
        stage_fail_fast: Mapping[str, bool],
        unresolved: Mapping[str, str],
        registry: Any,
        root: str = ".",
        hook_stages: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.components = tuple(components)
        self.guards = guards
        self.stage_filters = stage_filters
        self.stage_fail_fast = stage_fail_fast
        self.unresolved = dict(unresolved)
        self.registry = registry
        self.root = root
        self.hook_stages = hook_stages or {}  # per entry: the git hooks it runs at

    def resolve(self, names: Sequence[str], *, dry_run: bool = False) -> list[str]:
        """Resolve the registry entries among ``names`` (under ``dry_run`` only the pure
        ones: the rest will not run); the first error of each, as ``file:line: name: why``."""
        from omnibase import registry as reg

        wanted = set(names)
        entries = [
            e for e in self.registry.entries if e.name in wanted and e.builtin is None and (e.pure or not dry_run)
        ]
        if not entries:
            return []
        resolved = reg.resolve_entries(entries, root=self.root)
        errors: list[str] = []
        by_name = {c.name: c for c in self.components}
        for entry in entries:
            found = resolved[entry.name]
            if isinstance(found, Failure):
                message = f"{self.registry.where(entry.name)}: {found.failure().render()}"
                self.unresolved[entry.name] = message
                by_name[entry.name] = _unresolved(reg.entry_meta(entry), message)
                errors.append(message)
            else:
                by_name[entry.name] = found.unwrap()
        self.components = tuple(by_name.values())
        return errors

    def orchestrator(
        self,
        stage: str,
        selector: Selector,
        *,
        names: Sequence[str] = (),
        fail_fast: bool = False,
        dry_run: bool = False,
        observers: Sequence[Any] = (),
        hook_stage: str | None = None,
        retries: bool = True,
    ) -> StageOrchestrator:
        """The orchestrator of ``stage`` over these components: its own default filter
        unless the registry file's ``stages:`` gives one; ``hook_stage`` (default: the
        stage's, from the stage table) leaves out the entries whose ``stages:`` do not
        name that git hook; ``names``: what ``--from``/``--to`` name (a stage that selects
        by names)."""
        spec = STAGES[stage]
        hook_stage = hook_stage or spec.hook_stage
        if hook_stage is not None:  # components whose ``stages:`` leave this git hook out
            from omnibase.core.select import Clause

            off = tuple(c.name for c in self.components if hook_stage not in self.hook_stages.get(c.name, DEFAULT_HOOK_STAGES))
            if off:
                selector = selector & Selector((Clause("name", off, negate=True),))
        common: dict[str, Any] = {
            "stage_filter": self.stage_filters.get(stage),
            "selector": selector,
            "guards": self.guards,
            "fail_fast": fail_fast or self.stage_fail_fast.get(stage, spec.fail_fast),
            "driver": SyncDriver(observers),
            "wrap": dry_run_step if dry_run else None,
            "retries": retries,
        }
        if spec.selects == "names":
            common["names"] = names
        orch = orchestrator_for(stage)(self.components, **common)
        orch.catalogue = self.components = chained(self.components, [c.name for c in orch.select().kept])
        return orch

    def limit_builtins(self, names: Sequence[str]) -> None:
        """Chain the built-in fixers among ``names`` (the ones a run selected): each starts
        from what the selected fixers before it would leave."""
        self.components = chained(self.components, names)

    def finish_builtins(self, ctx: ExecCtx, failed: dict[str, str] | None = None) -> tuple[str, ...]:
        """After the run ``ctx``: write the fixes its built-in fixers reported, and stop
        the worker processes its checks shared (``omnibase.components.builtin.finish_run``);
        the paths written (those whose write failed, with why, in ``failed``)."""
        from omnibase.components.builtin import finish_run

        return finish_run(ctx, failed)


def load_catalogue(explicit: str | None, *, root: str, cwd: str) -> Result[Catalogue, tuple[str, ExitCode]]:
    """Built-ins plus the registry file's entries (found as ``omnibase.registry`` says)."""
    import os

    from omnibase import registry as reg

    loaded = reg.load_registry(explicit, cwd=cwd, env=os.environ)
    if isinstance(loaded, Failure):
        return Failure((loaded.failure().render(), ExitCode.CONFIG))
    registry = loaded.unwrap()
    builtins = _builtins(registry.entries)
    by_name: dict[str, Component[Any, Any]] = {c.name: c for c in builtins}
    guards: dict[str, tuple[RetryPolicy | None, BreakerPolicy | None]] = {}
    unresolved: dict[str, str] = {}
    hook_stages: dict[str, tuple[str, ...]] = {}
    for entry in registry.entries:  # resolved later, and only when selected and needed
        if entry.builtin is None:  # a builtin entry's component is among the built-ins
            by_name[entry.name] = _unresolved(reg.entry_meta(entry), "not resolved")
        guards[entry.name] = (entry.retry_policy(), entry.breaker_policy())
        hook_stages[entry.name] = entry.stages
    filters: dict[str, Selector] = {}
    fail_fast: dict[str, bool] = {}
    for stage, config in registry.stages.items():  # what the file changes; the rest is the table's
        if config.filter is not None:
            parsed = parse_filter(config.filter)
            if isinstance(parsed, Failure):  # the loader validates filters; this is a second guard
                return Failure((f"{registry.path}: stages.{stage}.filter: {parsed.failure().message}", ExitCode.CONFIG))
            filters[stage] = parsed.unwrap()
        if config.fail_fast is not None:
            fail_fast[stage] = config.fail_fast
    return Success(
        Catalogue(
            tuple(by_name.values()),
            guards=guards,
            stage_filters=filters,
            stage_fail_fast=fail_fast,
            unresolved=unresolved,
            registry=registry,
            root=root,
            hook_stages=hook_stages,
        )
    )


def _builtins(entries: Sequence[Any]) -> tuple[Component[Any, Any], ...]:
    """The default built-ins, plus (or, under the same name, instead of) the registry's
    ``builtin:`` entries, each with the entry's own tags, lifecycle, description, timeout;
    in the order of the built-in table, so that fixers apply their chained edits in turn."""
    from omnibase.builtins import CHECKS, DEFAULT_CHECKS

    named = {e.name: e for e in entries if e.builtin is not None}
    uses = [BuiltinUse(name=n, check=n) for n in DEFAULT_CHECKS if n not in named]
    uses += [
        BuiltinUse(name=e.name, check=e.builtin, args=e.args, files=e.files, exclude=e.exclude,
                   tags=frozenset(e.tags), lifecycle=e.lifecycle, description=e.description, timeout=e.timeout,
                   isolation=e.isolation)
        for e in named.values()
    ]
    rank = {name: i for i, name in enumerate(CHECKS)}
    return builtin_components(sorted(uses, key=lambda u: rank[u.check]))
