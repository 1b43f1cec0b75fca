"""The registry: the ``omnibase.yaml`` file, its entries, and how they become components.

See ``docs/registry.md`` for the file's reference.
"""

from typing import TYPE_CHECKING

from omnibase.registry._load import ENV_VAR, find_registry, load_registry, parse_registry_text
from omnibase.registry._resolve import CommandOutput, resolve, resolve_entries, run_command
from omnibase.registry._schema import (
    FILE_NAMES,
    HOOK_STAGES,
    STAGE_DEFAULTS,
    ConfigError,
    Entry,
    Registry,
    ResolutionError,
    StageConfig,
    entry_meta,
    stage_settings,
)

def __getattr__(name: str) -> object:
    # The editing functions pull in file-locking and temp-file machinery: only on demand.
    if name in ("add_entry", "remove_entry"):
        from omnibase.registry import _edit

        return getattr(_edit, name)
    raise AttributeError(f"module 'omnibase.registry' has no attribute {name!r}")


__all__ = [
    "ENV_VAR",
    "FILE_NAMES",
    "HOOK_STAGES",
    "STAGE_DEFAULTS",
    "CommandOutput",
    "ConfigError",
    "Entry",
    "Registry",
    "ResolutionError",
    "StageConfig",
    "add_entry",
    "entry_meta",
    "find_registry",
    "load_registry",
    "parse_registry_text",
    "remove_entry",
    "resolve",
    "resolve_entries",
    "run_command",
    "stage_settings",
]

if TYPE_CHECKING:
    from omnibase.registry._edit import add_entry, remove_entry
