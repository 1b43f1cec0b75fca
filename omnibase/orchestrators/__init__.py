"""The orchestrators: one per stage (``table.STAGES`` names them), plus the registry's
administrator.

The classes are imported when first asked for: the argument parser reads the stage table
(``omnibase.orchestrators.table``) and must not pay for the drivers they import.
"""

from typing import TYPE_CHECKING

__all__ = [
    "CIOrchestrator",
    "Orchestrator",
    "PipelineOrchestrator",
    "PreCommitOrchestrator",
    "RegistryOrchestrator",
    "StageOrchestrator",
    "TestOrchestrator",
    "guard",
    "orchestrator_for",
]

if TYPE_CHECKING:
    from omnibase.orchestrators.base import Orchestrator, StageOrchestrator, guard
    from omnibase.orchestrators.stages import (
        CIOrchestrator,
        PipelineOrchestrator,
        PreCommitOrchestrator,
        RegistryOrchestrator,
        TestOrchestrator,
        orchestrator_for,
    )


def __getattr__(name: str) -> object:
    if name in ("Orchestrator", "StageOrchestrator", "guard"):
        from omnibase.orchestrators import base

        return getattr(base, name)
    if name in __all__:
        from omnibase.orchestrators import stages

        return getattr(stages, name)
    raise AttributeError(f"module 'omnibase.orchestrators' has no attribute {name!r}")
