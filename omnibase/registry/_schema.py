"""The registry file's schema: frozen structs that ``msgspec.convert`` validates into.

See ``docs/registry.md`` for the reference with examples.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from omnibase.core.gating import GatePolicy
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.values import ComponentType, Lifecycle, Meta

__all__ = [
    "FILE_NAMES",
    "STAGE_DEFAULTS",
    "BreakerSpec",
    "ConfigError",
    "Entry",
    "HookSpec",
    "Limits",
    "Registry",
    "RegistryFile",
    "ResolutionError",
    "RetrySpec",
    "StageConfig",
    "entry_meta",
    "stage_settings",
]

FILE_NAMES = ("omnibase.yaml", ".omnibase.yaml")
NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


#: A hook in the registry file: a command (argv list) or a Python callable ('module:function').
Hook = tuple[str, ...] | str


class HookSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hooks of a component or a stage (see ``docs/hooks.md``)."""

    pre: tuple[Hook, ...] = ()
    post: tuple[Hook, ...] = ()


class StageConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    filter: str | None = None
    fail_fast: bool | None = None
    gate: GatePolicy | None = None
    hooks: HookSpec | None = None


#: The spec's defaults, as data; ``stages:`` in the registry file overrides them per stage.
STAGE_DEFAULTS: dict[str, StageConfig] = {
    "pre-commit": StageConfig(filter="tag=pre-commit,lifecycle=canary|stable"),
    "test": StageConfig(filter="type=test"),
    "ci": StageConfig(filter="lifecycle!=experimental"),
    "pipeline": StageConfig(filter=""),
}


class RetrySpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_attempts: int = 3
    initial: float = 0.2
    multiplier: float = 2.0
    cap: float = 5.0
    jitter: float = 0.0
    deadline: float | None = None


class BreakerSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    threshold: int = 3
    window: float = 60.0
    reset_timeout: float = 30.0
    probes: int = 1


class Limits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Resource limits of a command component (``setrlimit``); breaking one is exit 5."""

    cpu_seconds: int | None = None
    memory_mb: int | None = None


class Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One component of the registry file: metadata plus a command or a Python callable."""

    name: str
    type: ComponentType = ComponentType.TOOL
    lifecycle: Lifecycle = Lifecycle.STABLE
    tags: tuple[str, ...] = ()
    description: str = ""
    idempotent: bool = False
    pure: bool = False
    timeout: float | None = None
    retry: RetrySpec | None = None
    breaker: BreakerSpec | None = None
    files: str = ""
    exclude: str = "^$"
    types: tuple[str, ...] = ()
    types_or: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    pass_filenames: bool = True
    always_run: bool = False
    env: dict[str, str] = msgspec.field(default_factory=dict)
    limits: Limits | None = None
    python: str | None = None
    input: str = "object"
    output: str = "object"
    needs: tuple[str, ...] = ()
    when: Literal["all_succeeded", "none_failed", "all_done"] = "all_succeeded"
    hooks: HookSpec | None = None

    def retry_policy(self) -> RetryPolicy | None:
        return None if self.retry is None else RetryPolicy(**msgspec.structs.asdict(self.retry))

    def breaker_policy(self) -> BreakerPolicy | None:
        return None if self.breaker is None else BreakerPolicy(**msgspec.structs.asdict(self.breaker))


class RegistryFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Literal[1] = 1
    exclude: str = "^$"
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)
    components: tuple[Entry, ...] = ()


class Registry(msgspec.Struct, frozen=True):
    """A loaded registry: where it came from (None: no file), its entries and stages."""

    path: str | None
    entries: tuple[Entry, ...] = ()
    exclude: str = "^$"
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)


class ConfigError(msgspec.Struct, frozen=True):
    """A registry file that cannot be used: exit code 2."""

    path: str
    line: int
    column: int
    message: str

    def render(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: {self.message}"


class ResolutionError(msgspec.Struct, frozen=True):
    """An entry whose callable or command cannot be found: exit code 3."""

    name: str
    message: str

    def render(self) -> str:
        return f"{self.name}: {self.message}"


def entry_meta(entry: Entry) -> Meta:
    """The component metadata an entry declares."""
    return Meta(
        name=entry.name,
        type=entry.type,
        lifecycle=entry.lifecycle,
        tags=frozenset(entry.tags),
        idempotent=entry.idempotent,
        pure=entry.pure,
        timeout=entry.timeout,
        description=entry.description,
        input_type=entry.input,
        output_type=entry.output,
    )


def stage_settings(registry: Registry) -> dict[str, StageConfig]:
    """Every stage's settings: the defaults, overridden field by field by the file."""
    out: dict[str, StageConfig] = {}
    for stage in {**STAGE_DEFAULTS, **registry.stages}:
        base = STAGE_DEFAULTS.get(stage, StageConfig())
        own: dict[str, Any] = {}
        if stage in registry.stages:
            own = {k: v for k, v in msgspec.structs.asdict(registry.stages[stage]).items() if v is not None}
        out[stage] = msgspec.structs.replace(base, **own)
    return out
