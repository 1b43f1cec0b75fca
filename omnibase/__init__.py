"""omnibase: typed, composable pipelines for a project's validators, tools and tests.

The public API is the list in ``__all__``; everything else is private or lives in a
module the docs do not mention. Names are imported lazily, so ``python -m omnibase``
pays only for what a command uses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing``'s: importing typing costs ``--version`` 5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "AllOf",
    "AsyncDriver",
    "Breakers",
    "BreakerPolicy",
    "CircuitOpen",
    "Component",
    "Crashed",
    "ComponentType",
    "ExecCtx",
    "ExitCode",
    "Failed",
    "FakeDriver",
    "GateDecision",
    "GatePolicy",
    "Graph",
    "GraphError",
    "GraphNode",
    "Interrupted",
    "Lifecycle",
    "Meta",
    "Misconfigured",
    "Node",
    "NodeOutcome",
    "Predicate",
    "ProtocolViolation",
    "Raised",
    "ResourceExceeded",
    "RetryPolicy",
    "RunReport",
    "SandboxViolation",
    "Selection",
    "Selector",
    "SecurityViolation",
    "Skip",
    "Status",
    "Step",
    "StepError",
    "StepResult",
    "SyncDriver",
    "TimedOut",
    "Unresolved",
    "Veto",
    "__version__",
    "all_of",
    "arun",
    "breaker",
    "component",
    "dry_run",
    "fallback",
    "filter_by",
    "graph",
    "hooked",
    "identity",
    "lift",
    "lift_async",
    "lift_safe",
    "new_ctx",
    "node",
    "parse_filter",
    "profile",
    "recover",
    "retry",
    "run",
    "sequence",
    "timeout",
]

_WHERE = {
    "omnibase.core.values": (
        "CircuitOpen ComponentType Crashed ExecCtx ExitCode Failed Interrupted Lifecycle Meta Misconfigured "
        "ProtocolViolation Raised ResourceExceeded RunReport SandboxViolation SecurityViolation Skip Status StepError StepResult TimedOut Unresolved"
        " GateDecision GraphNode"
    ),
    "omnibase.core.policies": "BreakerPolicy Breakers RetryPolicy",
    "omnibase.core.step": "AllOf Component Step component",
    "omnibase.core.combinators": "all_of breaker dry_run fallback identity profile recover retry sequence timeout",
    "omnibase.core.lift": "lift lift_async lift_safe",
    "omnibase.core.select": "Selection Selector filter_by parse_filter",
    "omnibase.drivers": "AsyncDriver FakeDriver SyncDriver arun run",
    "omnibase.context": "new_ctx",
    "omnibase.core.graph": "Graph GraphError Node NodeOutcome Predicate graph node",
    "omnibase.core.hooks": "Veto hooked",
    "omnibase.core.gating": "GatePolicy",
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from omnibase._version import __version__

        return __version__
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'omnibase' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from omnibase.context import new_ctx
    from omnibase.core.gating import GatePolicy
    from omnibase.core.graph import Graph, GraphError, Node, NodeOutcome, Predicate, graph, node
    from omnibase.core.hooks import Veto, hooked
    from omnibase.core.values import GateDecision, GraphNode
    from omnibase.core.combinators import (
        all_of,
        breaker,
        dry_run,
        fallback,
        identity,
        profile,
        recover,
        retry,
        sequence,
        timeout,
    )
    from omnibase.core.lift import lift, lift_async, lift_safe
    from omnibase.core.policies import BreakerPolicy, Breakers, RetryPolicy
    from omnibase.core.select import Selection, Selector, filter_by, parse_filter
    from omnibase.core.step import AllOf, Component, Step, component
    from omnibase.core.values import (
        CircuitOpen,
        ComponentType,
        Crashed,
        ExecCtx,
        ExitCode,
        Failed,
        Interrupted,
        Lifecycle,
        Meta,
        Misconfigured,
        ProtocolViolation,
        Raised,
        ResourceExceeded,
        RunReport,
        SandboxViolation,
        SecurityViolation,
        Skip,
        Status,
        StepError,
        StepResult,
        TimedOut,
        Unresolved,
    )
    from omnibase.drivers import AsyncDriver, FakeDriver, SyncDriver, arun, run

    __version__: str
