"""The orchestrators: one per stage, plus the registry's administrator."""

from omnibase.orchestrators.base import Orchestrator, StageOrchestrator, guard
from omnibase.orchestrators.stages import (
    CIOrchestrator,
    PipelineOrchestrator,
    PreCommitOrchestrator,
    RegistryOrchestrator,
    TestOrchestrator,
)

__all__ = [
    "CIOrchestrator",
    "Orchestrator",
    "PipelineOrchestrator",
    "PreCommitOrchestrator",
    "RegistryOrchestrator",
    "StageOrchestrator",
    "TestOrchestrator",
    "guard",
]
