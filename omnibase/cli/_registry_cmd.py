"""``omnibase registry ACTION``: the registry file's administration as a command.

Each action runs as a component through the ``RegistryOrchestrator``, so it reports like
any run; ``list`` and ``inspect`` render a table or an entry for people.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from returns.result import Failure, Result, Success

from omnibase.cli._catalogue import load_catalogue
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, ExitCode, RunReport, Unresolved
from omnibase.orchestrators import RegistryOrchestrator

__all__ = ["describe", "registry_command", "render_components"]


def registry_command(args: argparse.Namespace, emit: Callable[[RunReport, argparse.Namespace], bool]) -> int:
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
    from omnibase.cli._process import finish_report
    from omnibase.cli._say import say

    report = finish_report(RegistryOrchestrator(step, argument).run(new_ctx("registry")), path)
    if action in ("list", "inspect") and report.error is None and _human(args):
        entries = {e.name: e for e in catalogue.unwrap().registry.entries}
        print(render_components(report.output, entries))
    elif not emit(report, args) and report.exit_code == 0:
        return int(ExitCode.CONFIG)
    if report.error is not None:
        say(str(getattr(report.error, "message", "")))
    return report.exit_code



def describe(components: Sequence[Component[Any, Any]], name: str | None) -> Result[Any, Unresolved]:
    """Every component's metadata (``name`` None), or the one named ``name``."""
    if name is None:
        return Success([c.meta for c in components])
    for comp in components:
        if comp.name == name:
            return Success(comp.meta)
    return Failure(Unresolved(name=name, message=f"no component named '{name}'"))


def _human(args: argparse.Namespace) -> bool:
    from omnibase.cli.formatters import default_format

    return (args.format or default_format(sys.stdout.isatty())) == "human"


def render_components(found: Any, entries: Mapping[str, Any], width: int = 100) -> str:
    """``registry list`` (a table) or ``registry inspect`` (one entry) for people.

    >>> from omnibase.core.values import Meta
    >>> print(render_components([Meta(name="a", tags=frozenset({"x"}))], {}))
    NAME  TYPE  LIFECYCLE  SOURCE    TAGS  DESCRIPTION
    a     tool  stable     built-in  x
    """
    import msgspec

    def source(name: str) -> str:
        entry = entries.get(name)
        if entry is None:
            return "built-in"
        if entry.repo is not None:
            return f"repo:{entry.repo.language}"
        return "python" if entry.python is not None else "command"

    if isinstance(found, list):
        rows = [("NAME", "TYPE", "LIFECYCLE", "SOURCE", "TAGS", "DESCRIPTION")]
        rows += [(m.name, m.type.value, m.lifecycle.value, source(m.name), ",".join(sorted(m.tags)), m.description)
                 for m in found]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
        return "\n".join(line[:width].rstrip() for line in lines)
    fields: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(found).items()}
    fields["source"] = source(found.name)
    entry = entries.get(found.name)
    if entry is not None:  # what the registry file says beyond the metadata
        defaults = type(entry)(name=entry.name)
        for key, value in msgspec.structs.asdict(entry).items():
            if key not in fields and value != getattr(defaults, key):
                fields[key] = value
    lines = []
    for key, value in fields.items():
        if isinstance(value, (frozenset, set)):
            value = ", ".join(sorted(value)) or "-"
        elif isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value) or "-"
        elif hasattr(value, "value"):
            value = value.value
        lines.append(f"{key + ':':14} {value}"[:width])
    return "\n".join(lines)
