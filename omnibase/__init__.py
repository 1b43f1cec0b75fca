"""omnibase: typed, composable pipelines for a project's validators, tools and tests.

The public API is the table ``_PUBLIC`` below (module -> its public names; ``*`` takes
the module's own ``__all__``, so a new combinator in ``core.combinators`` is public with no
edit here); ``__all__`` is derived from it. Everything else is private or lives in a
module the docs do not mention. Names are imported lazily, so ``python -m omnibase``
pays only for what a command uses. The ``TYPE_CHECKING`` block says the same for type
checkers, which cannot run the table; ``tests/test_public_api.py`` holds the two equal.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing``'s: importing typing costs ``--version`` 5 ms
if TYPE_CHECKING:
    from typing import Any

_PUBLIC = {
    "omnibase.core.values": (
        "CircuitOpen ComponentType Crashed ExecCtx ExitCode Failed GateDecision GraphNode Interrupted Lifecycle Meta "
        "Misconfigured ProtocolViolation Raised ResourceExceeded RunReport SandboxViolation SecurityViolation Skip Status "
        "StepError StepResult TimedOut Unresolved"
    ),
    "omnibase.core.policies": "BreakerPolicy Breakers RetryPolicy",
    "omnibase.core.step": "AllOf Component Step component",
    "omnibase.core.combinators": "*",
    "omnibase.core.lift": "lift lift_async lift_safe",
    "omnibase.core.select": "Selection Selector filter_by parse_filter",
    "omnibase.core.graph": "Graph GraphError Node NodeOutcome Predicate graph node",
    "omnibase.core.hooks": "Veto hooked",
    "omnibase.core.gating": "GatePolicy",
    "omnibase.drivers": "AsyncDriver FakeDriver SyncDriver arun run",
    "omnibase.context": "new_ctx",
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names.split() if name != "*"}
_WHOLE = tuple(module for module, names in _PUBLIC.items() if names == "*")


def _public_names() -> list[str]:
    import importlib

    names = set(_MODULE_OF) | {"__version__"}
    for module in _WHOLE:
        names.update(importlib.import_module(module).__all__)
    return sorted(names)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from omnibase._version import __version__

        return __version__
    if name == "__all__":
        value: Any = _public_names()
    else:
        import importlib

        module = _MODULE_OF.get(name)
        modules = (module,) if module is not None else () if name.startswith("__") else _WHOLE
        for where in modules:
            found = importlib.import_module(where)
            if module is not None or name in found.__all__:
                value = getattr(found, name)
                break
        else:
            raise AttributeError(f"module 'omnibase' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__getattr__("__all__"))


if TYPE_CHECKING:
    from omnibase.context import new_ctx as new_ctx
    from omnibase.core.combinators import *  # noqa: F403
    from omnibase.core.gating import GatePolicy as GatePolicy
    from omnibase.core.graph import Graph as Graph
    from omnibase.core.graph import GraphError as GraphError
    from omnibase.core.graph import Node as Node
    from omnibase.core.graph import NodeOutcome as NodeOutcome
    from omnibase.core.graph import Predicate as Predicate
    from omnibase.core.graph import graph as graph
    from omnibase.core.graph import node as node
    from omnibase.core.hooks import Veto as Veto
    from omnibase.core.hooks import hooked as hooked
    from omnibase.core.lift import lift as lift
    from omnibase.core.lift import lift_async as lift_async
    from omnibase.core.lift import lift_safe as lift_safe
    from omnibase.core.policies import BreakerPolicy as BreakerPolicy
    from omnibase.core.policies import Breakers as Breakers
    from omnibase.core.policies import RetryPolicy as RetryPolicy
    from omnibase.core.select import Selection as Selection
    from omnibase.core.select import Selector as Selector
    from omnibase.core.select import filter_by as filter_by
    from omnibase.core.select import parse_filter as parse_filter
    from omnibase.core.step import AllOf as AllOf
    from omnibase.core.step import Component as Component
    from omnibase.core.step import Step as Step
    from omnibase.core.step import component as component
    from omnibase.core.values import CircuitOpen as CircuitOpen
    from omnibase.core.values import ComponentType as ComponentType
    from omnibase.core.values import Crashed as Crashed
    from omnibase.core.values import ExecCtx as ExecCtx
    from omnibase.core.values import ExitCode as ExitCode
    from omnibase.core.values import Failed as Failed
    from omnibase.core.values import GateDecision as GateDecision
    from omnibase.core.values import GraphNode as GraphNode
    from omnibase.core.values import Interrupted as Interrupted
    from omnibase.core.values import Lifecycle as Lifecycle
    from omnibase.core.values import Meta as Meta
    from omnibase.core.values import Misconfigured as Misconfigured
    from omnibase.core.values import ProtocolViolation as ProtocolViolation
    from omnibase.core.values import Raised as Raised
    from omnibase.core.values import ResourceExceeded as ResourceExceeded
    from omnibase.core.values import RunReport as RunReport
    from omnibase.core.values import SandboxViolation as SandboxViolation
    from omnibase.core.values import SecurityViolation as SecurityViolation
    from omnibase.core.values import Skip as Skip
    from omnibase.core.values import Status as Status
    from omnibase.core.values import StepError as StepError
    from omnibase.core.values import StepResult as StepResult
    from omnibase.core.values import TimedOut as TimedOut
    from omnibase.core.values import Unresolved as Unresolved
    from omnibase.drivers import AsyncDriver as AsyncDriver
    from omnibase.drivers import FakeDriver as FakeDriver
    from omnibase.drivers import SyncDriver as SyncDriver
    from omnibase.drivers import arun as arun
    from omnibase.drivers import run as run

    __version__: str
